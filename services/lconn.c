/*
 * lconn.c: buffered line connections for link and linkd.
 *
 * Every socket of the link code (link's clients and its peer link,
 * linkd's sessions and backend connections) is an lconn: an fd, two
 * evbuffers and two events, with the system calls kept few per request.
 * One read per readiness event, into space reserved in the input buffer
 * (no FIONREAD first, as evbuffer_read() does); lines found with one
 * scan of each byte (lconn.scan remembers how far a long line arriving
 * in pieces was searched); one append per reply line; one writev per
 * connection per event loop round, by the flusher, after every other
 * callback of the round, so that the replies of a batch of requests
 * leave together.  Write interest is registered only for output the
 * socket did not take at once; read interest is toggled by the owner,
 * only when it changes (each toggle is an epoll_ctl(2)).
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
#include <event2/buffer.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lconn.h"
#include "log.h"
#include "util.h"

#define LCONN_IOV	64	/* buffer chunks per writev */

struct lconn_flusher {
	struct event_base	*base;
	struct event		*ev;
	int			 active;	/* ev made active */
	int			(*before)(void *);
	void			*arg;
	TAILQ_HEAD(, lconn)	 dirty;
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

/* --- the flusher ------------------------------------------------------ */

static void
lconn_flusher_cb(int fd, short what, void *arg)
{
	struct lconn_flusher	*fl = arg;
	struct lconn		*c;
	int			 rc, had;

	for (;;) {
		if (fl->before != NULL && fl->before(fl->arg))
			continue;
		if ((c = TAILQ_FIRST(&fl->dirty)) == NULL)
			break;
		TAILQ_REMOVE(&fl->dirty, c, dentry);
		c->dirty = 0;
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
	if ((fl->ev = event_new(base, -1, 0, lconn_flusher_cb, fl)) == NULL)
		fatalx("event_new failed");
	return fl;
}

void
lconn_flusher_free(struct lconn_flusher *fl)
{
	struct lconn	*c;

	if (fl == NULL)
		return;
	while ((c = TAILQ_FIRST(&fl->dirty)) != NULL) {
		TAILQ_REMOVE(&fl->dirty, c, dentry);
		c->dirty = 0;
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

/* Something to write. */
void
lconn_dirty(struct lconn *c)
{
	struct lconn_flusher	*fl = c->fl;

	if (c->dirty || c->writing)
		return;
	c->dirty = 1;
	if (c->first)
		TAILQ_INSERT_HEAD(&fl->dirty, c, dentry);
	else
		TAILQ_INSERT_TAIL(&fl->dirty, c, dentry);
	lconn_flusher_wake(fl);
}

/* --- one connection ----------------------------------------------------- */

static void
lconn_read_cb(int fd, short what, void *arg)
{
	struct lconn	*c = arg;

	c->readable(c, what, c->arg);
}

static void
lconn_write_cb(int fd, short what, void *arg)
{
	struct lconn	*c = arg;
	int		 rc;

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

	c = xcalloc(1, sizeof(*c));
	c->fd = fd;
	c->ops = &lconn_plain;
	c->fl = fl;
	c->first = (flags & LCONN_FIRST) != 0;
	c->readable = readable;
	c->written = written;
	c->arg = arg;
	if ((c->in = evbuffer_new()) == NULL ||
	    (c->out = evbuffer_new()) == NULL ||
	    (c->rev = event_new(fl->base, fd, EV_READ | EV_PERSIST,
	    lconn_read_cb, c)) == NULL ||
	    (c->wev = event_new(fl->base, fd, EV_WRITE | EV_PERSIST,
	    lconn_write_cb, c)) == NULL)
		fatalx("cannot create a connection's buffers and events");
	return c;
}

void
lconn_stop(struct lconn *c)
{
	event_del(c->rev);
	event_del(c->wev);
	c->reading = c->writing = 0;
	c->wblocked = c->rblocked = 0;
	if (c->dirty) {
		TAILQ_REMOVE(&c->fl->dirty, c, dentry);
		c->dirty = 0;
	}
	evbuffer_drain(c->out, evbuffer_get_length(c->out));
}

void
lconn_free(struct lconn *c)
{
	if (c == NULL)
		return;
	lconn_stop(c);
	if (c->ops->free != NULL)
		c->ops->free(c);
	event_free(c->rev);
	event_free(c->wev);
	evbuffer_free(c->in);
	evbuffer_free(c->out);
	close(c->fd);
	free(c);
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
	struct evbuffer_iovec	 v;
	ssize_t			 n;

	if (evbuffer_reserve_space(c->in, LCONN_READ, &v, 1) != 1)
		fatalx("evbuffer_reserve_space failed");
	if (v.iov_len > LCONN_READ)
		v.iov_len = LCONN_READ;
	n = c->ops->read(c, v.iov_base, v.iov_len);
	if (n > 0) {
		v.iov_len = (size_t)n;
		if (evbuffer_commit_space(c->in, &v, 1) == -1)
			fatalx("evbuffer_commit_space failed");
	}
	lconn_want(c, n);
	return n;
}

const char *
lconn_line(struct lconn *c, size_t *len)
{
	struct evbuffer_iovec	 v;
	struct evbuffer_ptr	 p;
	const char		*nl;
	size_t			 eol;

	if (c->scan >= evbuffer_get_length(c->in))
		return NULL;
	/* Mostly the line is all in the first chunk: no copy, no search. */
	if (evbuffer_peek(c->in, -1, NULL, &v, 1) >= 1 && c->scan < v.iov_len &&
	    (nl = memchr((char *)v.iov_base + c->scan, '\n',
	    v.iov_len - c->scan)) != NULL) {
		*len = (size_t)(nl - (char *)v.iov_base);
		return v.iov_base;
	}
	if (evbuffer_ptr_set(c->in, &p, c->scan, EVBUFFER_PTR_SET) == -1)
		fatalx("evbuffer_ptr_set failed");
	p = evbuffer_search_eol(c->in, &p, &eol, EVBUFFER_EOL_LF);
	if (p.pos == -1) {
		c->scan = evbuffer_get_length(c->in);
		return NULL;
	}
	*len = (size_t)p.pos;
	return (const char *)evbuffer_pullup(c->in, (ssize_t)(*len + 1));
}

void
lconn_consume(struct lconn *c, size_t len)
{
	evbuffer_drain(c->in, len);
	c->scan = 0;
}

const char *
lconn_pullup(struct lconn *c, size_t len)
{
	return (const char *)evbuffer_pullup(c->in, (ssize_t)len);
}

size_t
lconn_inlen(const struct lconn *c)
{
	return evbuffer_get_length(c->in);
}

size_t
lconn_outlen(const struct lconn *c)
{
	return evbuffer_get_length(c->out);
}

void
lconn_add(struct lconn *c, const void *a, size_t alen, const void *b,
    size_t blen)
{
	struct evbuffer_iovec	 v;
	char			*p;
	size_t			 n = alen + blen + 1;

	if (evbuffer_reserve_space(c->out, (ev_ssize_t)n, &v, 1) != 1)
		fatalx("evbuffer_reserve_space failed");
	p = v.iov_base;
	if (alen > 0)
		memcpy(p, a, alen);
	if (blen > 0)
		memcpy(p + alen, b, blen);
	p[alen + blen] = '\n';
	v.iov_len = n;
	if (evbuffer_commit_space(c->out, &v, 1) == -1)
		fatalx("evbuffer_commit_space failed");
	lconn_dirty(c);
}

int
lconn_flush(struct lconn *c)
{
	struct evbuffer_iovec	 v[LCONN_IOV];
	struct iovec		 iov[LCONN_IOV];
	ssize_t			 n;
	int			 i, cnt;

	while (evbuffer_get_length(c->out) > 0) {
		cnt = evbuffer_peek(c->out, -1, NULL, v, LCONN_IOV);
		if (cnt > LCONN_IOV)
			cnt = LCONN_IOV;
		for (i = 0; i < cnt; i++) {
			iov[i].iov_base = v[i].iov_base;
			iov[i].iov_len = v[i].iov_len;
		}
		if ((n = c->ops->writev(c, iov, cnt)) == -1) {
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
		evbuffer_drain(c->out, (size_t)n);
	}
	if (c->writing) {
		c->writing = 0;
		event_del(c->wev);
	}
	return 0;
}

void
lconn_read_on(struct lconn *c, int on, const struct timeval *tv)
{
	if (on == c->reading && tv == NULL)
		return;
	c->reading = on;
	if (on) {
		event_add(c->rev, tv);
		/* Held by the transport: no read event would tell. */
		if (c->ops->pending != NULL && c->ops->pending(c) > 0)
			event_active(c->rev, EV_READ, 1);
	} else
		event_del(c->rev);
}
