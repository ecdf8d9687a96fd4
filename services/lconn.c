/*
 * lconn.c: buffered line connections for link and linkd: a connection's
 * life and its events (lconn_io.c: its bytes and buffers;
 * lconn_flusher.c: the writes of an event loop round).
 *
 * Every socket of the link code (link's clients and its peer link,
 * linkd's sessions and backend connections) is an lconn: an fd, two
 * flat buffers and two events, with the system calls kept few per
 * request.  One read per readiness event, straight into the input
 * buffer's free end; lines found with one scan of each byte and handed
 * out where they lie; one memcpy per reply line onto the output
 * buffer's end; one write per connection per event loop round, by the
 * flusher, after every other callback of the round, so that the replies
 * of a batch of requests leave together.  Write interest is registered
 * only for output the socket did not take at once; read interest is
 * toggled by the owner, only when it changes (each toggle is an
 * epoll_ctl(2)).  What can wait (a new connection's read interest, an
 * ended one's removal and close) is done by the flusher after the
 * writes of the round: a connection per request costs the link no
 * system call between the new client's request and its write to the
 * peer.  So can a read the owner asks for (lconn_read_after): a client
 * that closed as the next one connected is read and closed after the
 * new one's request is on its way.
 *
 * Nothing here logs.  Only libevent failing to manage its own memory is
 * fatal.
 */
#include <sys/types.h>
#include <sys/queue.h>

#include <event2/event.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lconn.h"
#include "lconn_priv.h"
#include "log.h"
#include "util.h"

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

void
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
lconn_read_after(struct lconn *c)
{
	if (c->rlate || c->dead)
		return;
	c->rlate = 1;
	TAILQ_INSERT_TAIL(&c->fl->late, c, lentry);
	lconn_flusher_wake(c->fl);
}
