/*
 * lconn_flusher.c: the writer of an event base's connections (lconn.c).
 * A connection with output, or with something that waits for the
 * round's writes, is put on its list (lconn_dirty, lconn_enlist); once
 * the round's other callbacks have run, the flusher writes each in one
 * writev, LCONN_FIRST ones (the link's peer, linkd's backends) before
 * the others, so that the replies of a batch of requests leave together
 * and a request read in the round is on its way first.  Then, behind
 * those writes, what could wait: a new connection's read interest, an
 * ended one's removal and close, and the reads that wait for the writes
 * (lconn_read_after), whose own output is written in turn.
 *
 * Failure policy: a write that fails is the owner's to judge, through
 * its written callback (error -1, errno set); nothing here logs, and
 * only libevent failing to make the flusher's event is fatal.
 */
#include <sys/types.h>
#include <sys/queue.h>

#include <event2/event.h>
#include <stdlib.h>

#include "lconn.h"
#include "lconn_priv.h"
#include "log.h"
#include "util.h"

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
		/* Asked for: done whatever the read interest, unless freed. */
		if (!c->dead)
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
void
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
