/*
 * lconn.c: buffered line connections for link and linkd.
 *
 * Every socket of the link code (link's clients and its peer link,
 * linkd's sessions and backend connections) is an lconn: an fd, two
 * flat buffers and two events, with the system calls kept few per
 * request.  One read per readiness event, straight into the input
 * buffer's free end; lines found with one scan of each byte (lconn.scan
 * remembers how far a long line arriving in pieces was searched) and
 * handed out where they lie, contiguous by construction; one memcpy per
 * reply line onto the output buffer's end; one write per connection per
 * event loop round, by the flusher, after every other callback of the
 * round, so that the replies of a batch of requests leave together.
 * Write interest is registered only for output the socket did not take
 * at once; read interest is toggled by the owner, only when it changes
 * (each toggle is an epoll_ctl(2)).  What can wait (a new connection's
 * read interest, an ended one's removal and close) is done by the
 * flusher after the writes of the round: a connection per request
 * costs the link no system call between the new client's request and
 * its write to the peer.  So can the read of a connection that the
 * owner expects to end (lconn_read_late): a client closing as the next
 * one connects is read, removed and closed after the new one's request
 * is on its way.
 *
 * A buffer's bytes are data[start .. end).  Taking bytes moves start;
 * an emptied buffer starts again at 0, so that with whole lines in each
 * read (the usual case) nothing is ever moved.  When the free end is too
 * small, the bytes left (mostly the head of a line) slide down to 0 if
 * that frees at least as much as it moves; otherwise the buffer doubles.
 * How large a buffer grows is the owner's to bound: every owner stops
 * reading, or drops the connection, once a line outgrows its max_line
 * (lconn.scan, lconn_inlen()), and the output's owners watch
 * lconn_outlen().  A buffer grown past LCONN_KEEP is given back when it
 * empties, so one long line or one burst does not pin its memory.
 *
 * The bytes go through the connection's ops (plain read(2) and
 * writev(2) here, TLS in lconn_tls.c): the one place where TLS plugs in,
 * with what it wants (lconn.want, lconn_want) and holds (ops.pending)
 * turned into events here.
 *
 * Nothing here logs.  A failed system call is returned with errno for
 * the owner to judge; only libevent failing to manage its own memory is
 * fatal.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/uio.h>

#include <errno.h>
#include <event2/event.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lconn.h"
#include "log.h"
#include "util.h"

#define LCONN_INSIZE	16384	/* an input buffer's first size */
#define LCONN_OUTSIZE	4096	/* an output buffer's first size */
#define LCONN_KEEP	65536	/* a larger buffer is freed when empty */

struct lconn_flusher {
	struct event_base	*base;
	struct event		*ev;
	int			 active;	/* ev made active */
	int			(*before)(void *);
	void			*arg;
	TAILQ_HEAD(, lconn)	 dirty;
	TAILQ_HEAD(, lconn)	 late;		/* reads after the writes */
};

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

static void
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
static void
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

/* --- the flusher ------------------------------------------------------ */

static void	lconn_rev_add(struct lconn *, const struct timeval *);

/*
 * The reads that waited for the round's writes, all of them before
 * their own output is written (one write to the peer for the lot).
 * Returns whether there were any.
 */
static int
lconn_flusher_late(struct lconn_flusher *fl)
{
	struct lconn	*c;

	if (TAILQ_EMPTY(&fl->late))
		return 0;
	while ((c = TAILQ_FIRST(&fl->late)) != NULL) {
		TAILQ_REMOVE(&fl->late, c, lentry);
		c->rlate = 0;
		/* As lconn_read_cb: not once freed, nor read interest off. */
		if (!c->dead && !c->roff && c->reading)
			c->readable(c, EV_READ, c->arg);
	}
	return 1;
}

static void
lconn_flusher_cb(int fd, short what, void *arg)
{
	struct lconn_flusher	*fl = arg;
	struct lconn		*c;
	int			 rc, had;

	for (;;) {
		if (fl->before != NULL && fl->before(fl->arg))
			continue;
		if ((c = TAILQ_FIRST(&fl->dirty)) == NULL) {
			if (lconn_flusher_late(fl))
				continue;
			break;
		}
		TAILQ_REMOVE(&fl->dirty, c, dentry);
		c->dirty = 0;
		/* Behind the LCONN_FIRST ones' writes: see lconn_free_soon. */
		if (c->dead) {
			lconn_free(c);
			continue;
		}
		if (c->rsoon) {
			c->rsoon = 0;
			lconn_rev_add(c, NULL);
		}
		if (c->roff) {
			c->roff = 0;
			event_del(c->rev);
		}
		had = lconn_outlen(c) > 0;
		rc = lconn_flush(c);
		/* Left over: the write event tells the end. */
		if (rc == -1 || (rc == 0 && had))
			c->written(c, rc, c->arg);
	}
	fl->active = 0;
}

struct lconn_flusher *
lconn_flusher_new(struct event_base *base, int (*before)(void *), void *arg)
{
	struct lconn_flusher	*fl;

	fl = xcalloc(1, sizeof(*fl));
	fl->base = base;
	fl->before = before;
	fl->arg = arg;
	TAILQ_INIT(&fl->dirty);
	TAILQ_INIT(&fl->late);
	/*
	 * Only ever made active, never added: EV_PERSIST spares libevent an
	 * event_del() of it after each run (a tenth of linkd's work per
	 * request at 1 x 1).
	 */
	if ((fl->ev = event_new(base, -1, EV_PERSIST, lconn_flusher_cb,
	    fl)) == NULL)
		fatalx("event_new failed");
	return fl;
}

void
lconn_flusher_free(struct lconn_flusher *fl)
{
	struct lconn	*c;

	if (fl == NULL)
		return;
	while ((c = TAILQ_FIRST(&fl->late)) != NULL) {
		TAILQ_REMOVE(&fl->late, c, lentry);
		c->rlate = 0;
	}
	while ((c = TAILQ_FIRST(&fl->dirty)) != NULL) {
		TAILQ_REMOVE(&fl->dirty, c, dentry);
		c->dirty = 0;
		if (c->dead)
			lconn_free(c);
	}
	event_free(fl->ev);
	free(fl);
}

/* The flusher runs once this round's callbacks did. */
void
lconn_flusher_wake(struct lconn_flusher *fl)
{
	if (fl->active)
		return;
	fl->active = 1;
	event_active(fl->ev, EV_TIMEOUT, 1);
}

/* On the flusher's list, for a write or for what waits for the writes. */
static void
lconn_enlist(struct lconn *c)
{
	struct lconn_flusher	*fl = c->fl;

	if (c->dirty)
		return;
	c->dirty = 1;
	if (c->first)
		TAILQ_INSERT_HEAD(&fl->dirty, c, dentry);
	else
		TAILQ_INSERT_TAIL(&fl->dirty, c, dentry);
	lconn_flusher_wake(fl);
}

/* Something to write. */
void
lconn_dirty(struct lconn *c)
{
	if (!c->writing)
		lconn_enlist(c);
}

/* --- one connection ----------------------------------------------------- */

/*
 * Freed connections kept for the next ones, each with its two events
 * (not pending; event_assign'ed again): with a connection per request,
 * event_new and event_free of two events and the malloc and free of the
 * connection were a tenth of the link's work per client.
 */
#define LCONN_SPARE	16
static struct lconn	*lconn_spare[LCONN_SPARE];
static int		 lconn_nspare;

static void
lconn_read_cb(int fd, short what, void *arg)
{
	struct lconn	*c = arg;

	/* Freed, or read interest off already (the event goes soon). */
	if (c->dead || c->roff)
		return;
	if (c->late && what == EV_READ) {
		/* The flusher's, after the writes (lconn_read_late). */
		if (!c->rlate) {
			c->rlate = 1;
			TAILQ_INSERT_TAIL(&c->fl->late, c, lentry);
			lconn_flusher_wake(c->fl);
		}
		return;
	}
	c->readable(c, what, c->arg);
}

static void
lconn_write_cb(int fd, short what, void *arg)
{
	struct lconn	*c = arg;
	int		 rc;

	if (c->dead)
		return;
	if (c->rblocked) {
		/* The transport's read waited for this (TLS): read again. */
		c->rblocked = 0;
		event_active(c->rev, EV_READ, 1);
		if (lconn_outlen(c) == 0) {
			c->writing = 0;
			event_del(c->wev);
			return;
		}
	}
	if ((rc = lconn_flush(c)) == 1)
		return;
	c->written(c, rc, c->arg);
}

struct lconn *
lconn_new(struct lconn_flusher *fl, int fd, int flags,
    lconn_readable_fn readable, lconn_written_fn written, void *arg)
{
	struct lconn	*c;

	struct event	*rev, *wev;

	if (lconn_nspare > 0) {
		c = lconn_spare[--lconn_nspare];
		rev = c->rev;
		wev = c->wev;
	} else {
		/*
		 * Not calloc: glibc's (2.36) bypasses the per-thread cache,
		 * which made it a tenth of the link's work per client.
		 */
		c = xmalloc(sizeof(*c));
		if ((rev = event_new(NULL, -1, 0, NULL, NULL)) == NULL ||
		    (wev = event_new(NULL, -1, 0, NULL, NULL)) == NULL)
			fatalx("cannot create a connection's events");
	}
	memset(c, 0, sizeof(*c));
	c->rev = rev;
	c->wev = wev;
	c->fd = fd;
	c->ops = &lconn_plain;
	c->fl = fl;
	c->first = (flags & LCONN_FIRST) != 0;
	c->readable = readable;
	c->written = written;
	c->arg = arg;
	if (event_assign(c->rev, fl->base, fd, EV_READ | EV_PERSIST,
	    lconn_read_cb, c) == -1 ||
	    event_assign(c->wev, fl->base, fd, EV_WRITE | EV_PERSIST,
	    lconn_write_cb, c) == -1)
		fatalx("cannot set a connection's events");
	return c;
}

void
lconn_stop(struct lconn *c)
{
	event_del(c->rev);
	/* Pending only while writing: event_del costs even when not. */
	if (c->writing)
		event_del(c->wev);
	c->reading = c->writing = 0;
	c->wblocked = c->rblocked = 0;
	c->rsoon = c->roff = 0;
	if (c->dirty) {
		TAILQ_REMOVE(&c->fl->dirty, c, dentry);
		c->dirty = 0;
	}
	c->late = 0;
	if (c->rlate) {
		TAILQ_REMOVE(&c->fl->late, c, lentry);
		c->rlate = 0;
	}
	lbuf_take(&c->out, SIZE_MAX);
}

void
lconn_free(struct lconn *c)
{
	if (c == NULL)
		return;
	lconn_stop(c);
	if (c->ops->free != NULL)
		c->ops->free(c);
	lbuf_release(&c->in);
	lbuf_release(&c->out);
	close(c->fd);
	if (lconn_nspare < LCONN_SPARE) {
		lconn_spare[lconn_nspare++] = c;	/* events and all */
		return;
	}
	event_free(c->rev);
	event_free(c->wev);
	free(c);
}

/*
 * The owner is done with c (and may free itself): its callbacks are
 * not called again, and the rest is the flusher's, after the writes of
 * this round, which it joins at the tail.  An epoll_ctl(2) and a
 * close(2) less before a request read in the same round (a client
 * mostly closes as the next one connects) goes on to the peer.
 */
void
lconn_free_soon(struct lconn *c)
{
	if (c == NULL)
		return;
	c->dead = 1;
	c->rsoon = c->roff = 0;
	lbuf_take(&c->out, SIZE_MAX);
	lconn_enlist(c);
}

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

static void
lconn_rev_add(struct lconn *c, const struct timeval *tv)
{
	event_add(c->rev, tv);
	/* Held by the transport: no read event would tell. */
	if (c->ops->pending != NULL && c->ops->pending(c) > 0)
		event_active(c->rev, EV_READ, 1);
}

void
lconn_read_on(struct lconn *c, int on, const struct timeval *tv)
{
	if (on == c->reading && tv == NULL)
		return;
	c->reading = on;
	c->rsoon = c->roff = 0;
	if (on)
		lconn_rev_add(c, tv);
	else
		event_del(c->rev);
}

/*
 * Read interest wanted from now on, but its epoll_ctl(2) can wait for
 * the round's writes: a level-triggered event misses nothing meanwhile.
 * lconn_read_on() before that settles it at once.
 */
void
lconn_read_soon(struct lconn *c)
{
	if (c->reading)
		return;
	c->reading = 1;
	c->rsoon = 1;
	lconn_enlist(c);
}

void
lconn_read_off_soon(struct lconn *c)
{
	if (!c->reading)
		return;
	c->reading = 0;
	if (c->rsoon) {
		c->rsoon = 0;	/* never registered */
		return;
	}
	c->roff = 1;
	lconn_enlist(c);
}

void
lconn_read_late(struct lconn *c, int on)
{
	c->late = on;
}
