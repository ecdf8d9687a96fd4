/*
 * lconn_io.c: a connection's bytes (lconn.c is its life and events): the
 * plain transport, the two flat buffers, and the lines read from one and
 * written to the other.
 *
 * A buffer's bytes are data[start .. end).  Taking bytes moves start;
 * an emptied buffer starts again at 0, so that with whole lines in each
 * read (the usual case) nothing is ever moved.  When the free end is too
 * small, the bytes left (mostly the head of a line) slide down to 0 if
 * that frees at least as much as it moves; otherwise the buffer doubles.
 * How large a buffer grows is the owner's to bound: every owner stops
 * reading, or drops the connection, once a line outgrows its max_line
 * (lconn.scan remembers how far a long line arriving in pieces was
 * searched; lconn_inlen()), and the output's owners watch
 * lconn_outlen().  A buffer grown past LCONN_KEEP is given back when it
 * empties, so one long line or one burst does not pin its memory.
 *
 * The bytes go through the connection's ops (plain read(2) and
 * writev(2) here, TLS in lconn_tls.c): the one place where TLS plugs in,
 * with what it wants (lconn.want, lconn_want) and holds (ops.pending)
 * turned into events here.
 *
 * Nothing here logs.  A failed system call is returned with errno for
 * the owner to judge; only a buffer that cannot grow any more is fatal.
 */
#include <sys/types.h>
#include <sys/uio.h>

#include <errno.h>
#include <event2/event.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lconn.h"
#include "lconn_priv.h"
#include "log.h"
#include "util.h"

#define LCONN_INSIZE	16384	/* an input buffer's first size */
#define LCONN_OUTSIZE	4096	/* an output buffer's first size */
#define LCONN_KEEP	65536	/* a larger buffer is freed when empty */

/* --- the plain transport --------------------------------------------- */

static ssize_t
plain_read(struct lconn *c, void *buf, size_t len)
{
	ssize_t	 n;

	do
		n = read(c->fd, buf, len);
	while (n == -1 && errno == EINTR);
	return n;
}

static ssize_t
plain_writev(struct lconn *c, const struct iovec *iov, int cnt)
{
	ssize_t	 n;

	do
		n = writev(c->fd, iov, cnt);
	while (n == -1 && errno == EINTR);
	return n;
}

const struct lconn_ops lconn_plain = {
	"plain", plain_read, plain_writev, NULL, NULL
};
/* --- flat buffers ----------------------------------------------------- */

/*
 * One freed buffer of each first size is kept for the next connection:
 * with a connection per request, malloc and free of 16 KiB (past
 * malloc's per-thread cache, so through its bins and consolidation)
 * were a fifth of the link's work per connection.
 */
static char	*lbuf_spare_in, *lbuf_spare_out;

static char **
lbuf_spare(size_t size)
{
	if (size == LCONN_INSIZE)
		return &lbuf_spare_in;
	if (size == LCONN_OUTSIZE)
		return &lbuf_spare_out;
	return NULL;
}

static char *
lbuf_alloc(size_t size)
{
	char	**sp, *p;

	if ((sp = lbuf_spare(size)) != NULL && *sp != NULL) {
		p = *sp;
		*sp = NULL;
		return p;
	}
	return xmalloc(size);
}

void
lbuf_release(struct lconn_buf *b)
{
	char	**sp;

	if (b->data != NULL && (sp = lbuf_spare(b->size)) != NULL &&
	    *sp == NULL)
		*sp = b->data;
	else
		free(b->data);
	b->data = NULL;
	b->size = 0;
}

/* Make room for want more bytes at b's end; first: its first size. */
static void
lbuf_room(struct lconn_buf *b, size_t want, size_t first)
{
	size_t	 len = b->end - b->start, size;
	char	*p;

	if (b->size - b->end >= want)
		return;
	if (b->size - len >= want && b->start >= len) {
		memmove(b->data, b->data + b->start, len);
		b->start = 0;
		b->end = len;
		return;
	}
	size = b->size > 0 ? b->size : first;
	while (size - len < want) {
		if (size > SIZE_MAX / 2)
			fatalx("a connection buffer cannot grow");
		size *= 2;
	}
	p = lbuf_alloc(size);
	if (len > 0)
		memcpy(p, b->data + b->start, len);
	lbuf_release(b);
	b->data = p;
	b->size = size;
	b->start = 0;
	b->end = len;
}

/* len bytes taken from b's start (all of them when len is more). */
void
lbuf_take(struct lconn_buf *b, size_t len)
{
	if (len < b->end - b->start) {
		b->start += len;
		return;
	}
	b->start = b->end = 0;
	if (b->size > LCONN_KEEP)
		lbuf_release(b);
}

/* --- lines in, lines out -------------------------------------------- */

/*
 * After a read: what the transport wants (TLS: its handshake, say) and
 * what it holds, turned into events, so that nothing waits for an event
 * that will not come.
 */
static void
lconn_want(struct lconn *c, ssize_t n)
{
	if (c->wblocked && (n > 0 || (n == -1 && errno == EAGAIN))) {
		/* That read may be what a write waited for: try again. */
		c->wblocked = 0;
		lconn_dirty(c);
	}
	if (n == -1 && errno == EAGAIN && c->want == LCONN_WANT_WRITE) {
		c->rblocked = 1;
		if (!c->writing) {
			c->writing = 1;
			event_add(c->wev, NULL);
		}
	} else if (n > 0 && c->reading && c->ops->pending != NULL &&
	    c->ops->pending(c) > 0)
		event_active(c->rev, EV_READ, 1);
}

ssize_t
lconn_read(struct lconn *c)
{
	ssize_t	 n;

	lbuf_room(&c->in, LCONN_READ, LCONN_INSIZE);
	n = c->ops->read(c, c->in.data + c->in.end, LCONN_READ);
	if (n > 0)
		c->in.end += (size_t)n;
	lconn_want(c, n);
	return n;
}

const char *
lconn_line(struct lconn *c, size_t *len)
{
	const char	*p, *nl;
	size_t		 avail = c->in.end - c->in.start;

	if (c->scan >= avail)
		return NULL;
	p = c->in.data + c->in.start;
	if ((nl = memchr(p + c->scan, '\n', avail - c->scan)) == NULL) {
		c->scan = avail;
		return NULL;
	}
	*len = (size_t)(nl - p);
	return p;
}

void
lconn_consume(struct lconn *c, size_t len)
{
	lbuf_take(&c->in, len);
	c->scan = 0;
}

const char *
lconn_pullup(struct lconn *c, size_t len)
{
	if (len > c->in.end - c->in.start)
		return NULL;
	return c->in.data + c->in.start;
}

size_t
lconn_inlen(const struct lconn *c)
{
	return c->in.end - c->in.start;
}

size_t
lconn_outlen(const struct lconn *c)
{
	return c->out.end - c->out.start;
}

void
lconn_add(struct lconn *c, const void *a, size_t alen, const void *b,
    size_t blen)
{
	struct lconn_buf	*o = &c->out;
	char			*p;
	size_t			 n = alen + blen + 1;

	if (o->size - o->end < n)
		lbuf_room(o, n, LCONN_OUTSIZE);
	p = o->data + o->end;
	if (alen > 0)
		memcpy(p, a, alen);
	if (blen > 0)
		memcpy(p + alen, b, blen);
	p[alen + blen] = '\n';
	o->end += n;
	lconn_dirty(c);
}

int
lconn_flush(struct lconn *c)
{
	struct lconn_buf	*o = &c->out;
	struct iovec		 iov;
	ssize_t			 n;

	while (o->end > o->start) {
		iov.iov_base = o->data + o->start;
		iov.iov_len = o->end - o->start;
		if ((n = c->ops->writev(c, &iov, 1)) == -1) {
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				return -1;
			if (c->want == LCONN_WANT_READ) {
				/* Tried again after a read (lconn_want). */
				c->wblocked = 1;
				return 1;
			}
			if (!c->writing) {
				c->writing = 1;
				event_add(c->wev, NULL);
			}
			return 1;
		}
		lbuf_take(o, (size_t)n);
	}
	if (c->writing) {
		c->writing = 0;
		event_del(c->wev);
	}
	return 0;
}
