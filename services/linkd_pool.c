/*
 * linkd_pool.c: a session's pool of backend connections: which one takes
 * a request, the requests waiting for room, and the pool's clock
 * (linkd_bconn.c is one connection's life).
 *
 * Pipelining comes first (pool_pick): the oldest connection that keeps
 * up takes the requests, so that a burst reaches one backend process in
 * one write and comes back in one read; only when every connection lags
 * (backend_lag without a reply while requests are outstanding) is
 * another opened, up to pool.  Requests that find no room wait in a
 * FIFO, which every reply and failure dispatches again, and the pool's
 * clock when a connection starts to lag.
 *
 * The clock (pool_tick) is one timer per session, armed lazily: lag and
 * backend_timeout are judged from timestamps when it fires, not by a
 * timer set again at every request or read.  A connection's deadlines
 * only move later (a reply, bytes read), so a timer set is never late,
 * at worst early, and then it looks and sets the next: it is added when
 * a connection starts with none set, and by pool_tick, a few hundred
 * times a second under load rather than at every request.  The clock is
 * read once per read, not per request.
 *
 * Failure policy: a request that no connection can take when a new one
 * cannot be opened is answered at once ("<id> error: backend:
 * <reason>": the link may have a timeout); a connection that times out
 * fails with what is outstanding on it (bconn_fail).  The session goes
 * on; only a timer that cannot be created at its start is fatal.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/time.h>

#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

#include "linkd.h"
#include "log.h"
#include "util.h"

/*
 * Waiting requests come and go by the hundred a millisecond when the
 * connection that keeps up is full (more in flight than backend_depth,
 * or a lag): freed small ones are kept for reuse, up to LREQ_SPARE of
 * them (about 60 kB), not given back to malloc one by one.
 */
#define LREQ_SMALL	200	/* line room of a reusable request */
#define LREQ_SPARE	256

static struct lreqlist	 lreq_spare = TAILQ_HEAD_INITIALIZER(lreq_spare);
static int		 lreq_nspare;

static struct lreq *
lreq_new(uint64_t id, const char *line, size_t hlen, size_t len)
{
	struct lreq	*r;

	if (len > LREQ_SMALL)
		r = xmalloc(sizeof(*r) + len);
	else if ((r = TAILQ_FIRST(&lreq_spare)) != NULL) {
		TAILQ_REMOVE(&lreq_spare, r, entry);
		lreq_nspare--;
	} else
		r = xmalloc(sizeof(*r) + LREQ_SMALL);
	r->id = id;
	r->hlen = hlen;
	r->len = len;
	memcpy(r->line, line, len);
	return r;
}

static void
lreq_free(struct lreq *r)
{
	if (r->len > LREQ_SMALL || lreq_nspare >= LREQ_SPARE) {
		free(r);
		return;
	}
	TAILQ_INSERT_HEAD(&lreq_spare, r, entry);
	lreq_nspare++;
}

/*
 * The connection for the next request: the oldest one that keeps up,
 * while it has room; when it is full, the request waits for its replies,
 * even if a younger one that keeps up has room: a connection opened for
 * a lag that has passed stays idle rather than split every burst over
 * two backend processes (the default pool then does as well as pool=1
 * while one connection keeps up).  When every connection lags a new one
 * is opened while the pool has room, else the one that answered last
 * (lags least) with room is used.  NULL when the request must wait, or
 * with err set when none can take it and a new connection could not be
 * opened (fail it).  Lagging is what the clock (pool_tick) last said:
 * no clock is read here.
 */
static struct bconn *
pool_pick(struct sess *s, char *err, size_t errlen)
{
	struct bconn	*b, *spare = NULL;

	err[0] = '\0';
	TAILQ_FOREACH(b, &s->conns, entry) {
		if (b->nsent > 0 && b->lagging) {
			if (b->nsent < D.depth && (spare == NULL ||
			    b->progress > spare->progress))
				spare = b;
			continue;
		}
		return b->nsent < D.depth ? b : NULL;
	}
	if (s->nconns < D.pool) {
		if ((b = bconn_open(s, err, errlen)) != NULL)
			return b;
		log_warnx("backend for %s: %s", s->name, err);
	}
	if (spare != NULL) {
		err[0] = '\0';
		return spare;
	}
	return NULL;
}

/*
 * The clock will look at the pool at (us) at the latest (now: the time);
 * set already for then or before, it stays.
 */
void
pool_arm(struct sess *s, long long now, long long at)
{
	struct timeval	 tv;
	long long	 d;

	if (s->tick_set && s->tick_at <= at)
		return;
	d = at - now;
	if (d < 0)
		d = 0;
	tv.tv_sec = d / 1000000;
	tv.tv_usec = d % 1000000;
	evtimer_add(s->tick_ev, &tv);
	s->tick_set = 1;
	s->tick_at = at;
}

/*
 * The pool's clock: a connection silent with requests outstanding for
 * backend_timeout fails; one that has answered none for backend_lag
 * lags, and waiting requests may go elsewhere (pool_dispatch).  Set
 * again for the next deadline while a connection is busy.  Tests call
 * it after moving a connection's timestamps back.
 */
void
pool_tick(struct sess *s)
{
	struct bconn	*b, *next;
	long long	 now, at, when = -1;
	int		 lag = 0;

	if (s->tick_set) {
		evtimer_del(s->tick_ev);
		s->tick_set = 0;
	}
	now = sess_now(s);
	TAILQ_FOREACH_SAFE(b, &s->conns, entry, next) {
		if (b->nsent == 0)
			continue;
		if (now - b->heard >= D.backend_ms * 1000) {
			/* Takes b out of the list, and dispatches. */
			bconn_fail(b, "timed out");
			continue;
		}
		if (!b->lagging && now - b->progress >= D.lag_us)
			b->lagging = lag = 1;
		at = b->heard + D.backend_ms * 1000;
		if (!b->lagging && b->progress + D.lag_us < at)
			at = b->progress + D.lag_us;
		if (when == -1 || at < when)
			when = at;
	}
	/* bconn_fail's dispatch may have started one and set it already. */
	if (when != -1)
		pool_arm(s, now, when);
	if (lag)
		pool_dispatch(s);
}

static void
pool_tick_cb(int fd, short what, void *arg)
{
	struct sess	*s = arg;

	s->tick_set = 0;
	pool_tick(s);
}

/*
 * Before requests are given out: the clock if it is due, as its timer
 * may be in the same loop round as the reads, behind them.  One clock
 * read per read of the link or a backend, not per request, and none
 * with nothing outstanding (nothing can lag or time out).
 */
void
pool_catch_up(struct sess *s)
{
	if (s->tick_set && s->nsent > 0 && sess_now(s) >= s->tick_at)
		pool_tick(s);
}

/* Give waiting requests to connections with room. */
void
pool_dispatch(struct sess *s)
{
	struct lreq	*r;
	struct bconn	*b;
	char		 err[512];

	if (!TAILQ_EMPTY(&s->wait))
		pool_catch_up(s);
	while (s->state != SESS_ENDED && (r = TAILQ_FIRST(&s->wait)) != NULL) {
		/* Replies the link does not read: nothing more for now. */
		if (sess_out_full(s))
			break;
		b = pool_pick(s, err, sizeof(err));
		if (b == NULL && err[0] == '\0')
			break;
		TAILQ_REMOVE(&s->wait, r, entry);
		s->nwait--;
		if (b == NULL) {
			/* Fail fast: the link may have a timeout. */
			sess_reply_error(s, r->id, err);
			lreq_free(r);
			continue;
		}
		bconn_send(b, r->id, r->line, r->hlen, r->len);
		lreq_free(r);
	}
	sess_settle(s);
}

/*
 * A request from the link, its line ("<id> <payload>", hlen bytes of
 * header, len in all): out at once, failed, or waiting.
 */
void
pool_request(struct sess *s, uint64_t id, const char *line, size_t hlen,
    size_t len)
{
	struct bconn	*b;
	struct lreq	*r;
	char		 err[512];

	/* Straight out when nothing waits before it: no copy kept. */
	if (TAILQ_EMPTY(&s->wait)) {
		/* pool_pick's first choice, most of the time. */
		b = TAILQ_FIRST(&s->conns);
		if (b != NULL && !b->lagging && b->nsent < D.depth) {
			bconn_send(b, id, line, hlen, len);
			return;
		}
		if ((b = pool_pick(s, err, sizeof(err))) != NULL) {
			bconn_send(b, id, line, hlen, len);
			return;
		}
		if (err[0] != '\0') {
			sess_reply_error(s, id, err);
			return;
		}
	}
	r = lreq_new(id, line, hlen, len);
	TAILQ_INSERT_TAIL(&s->wait, r, entry);
	s->nwait++;
}

void
pool_init(struct sess *s)
{
	TAILQ_INIT(&s->wait);
	TAILQ_INIT(&s->conns);
	if ((s->tick_ev = evtimer_new(s->base, pool_tick_cb, s)) == NULL)
		fatalx("evtimer_new failed");
}

void
pool_free(struct sess *s)
{
	struct lreq	*r;

	while ((r = TAILQ_FIRST(&s->wait)) != NULL) {
		TAILQ_REMOVE(&s->wait, r, entry);
		lreq_free(r);
	}
	s->nwait = 0;
	while (!TAILQ_EMPTY(&s->conns))
		bconn_drop(TAILQ_FIRST(&s->conns));
	if (s->tick_ev != NULL)
		event_free(s->tick_ev);
	s->tick_ev = NULL;
}
