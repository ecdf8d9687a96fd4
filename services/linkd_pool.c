/*
 * linkd_pool.c: a session's backend connections.
 *
 * The backend is a unix stream service that answers each line with one
 * line, in order, so a connection carries up to backend_depth requests
 * at once: payloads out without waiting, replies paired with the FIFO of
 * the ids sent.  Pipelining comes first (pool_pick): the oldest
 * connection that keeps up takes the requests, so that a burst reaches
 * one backend process in one write and comes back in one read; only
 * when every connection lags (backend_lag without a reply while
 * requests are outstanding) is another opened, up to pool.  Requests
 * that find no room wait in a FIFO, which every reply and failure
 * dispatches again, and a timer when the pool may grow.
 *
 * Failure policy: a connection that cannot be made, times out
 * (backend_timeout of silence with requests outstanding), fails, closes,
 * sends a line longer than max_line or a line no request waits for,
 * costs every request outstanding on it ("<id> error: backend:
 * <reason>", each) and leaves the pool; the session goes on.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/time.h>

#include <errno.h>
#include <event2/event.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "lconn.h"
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

/* The id of b's i-th outstanding request, oldest first. */
static uint64_t
bconn_sent(struct bconn *b, int i)
{
	return b->sent[(b->head + i) % D.depth].id;
}

/* Forget b; whatever was outstanding on it has been answered already. */
static void
bconn_drop(struct bconn *b)
{
	struct sess	*s = b->s;

	s->nsent -= b->nsent;
	TAILQ_REMOVE(&s->conns, b, entry);
	s->nconns--;
	lconn_free(b->c);
	free(b->sent);
	free(b);
}

/*
 * The connection failed (or misbehaved): every request outstanding on it
 * gets "error: backend: why", in the order sent, and it leaves the pool.
 * Waiting requests then go to the others, or to a new one.
 */
static void
bconn_fail(struct bconn *b, const char *why)
{
	struct sess	*s = b->s;
	int		 i;

	if (b->nsent == 0)
		/* An idle backend connection went away: fine. */
		log_debug("backend %s: %s (idle connection)", s->backend, why);
	else if (b->nsent == 1)
		log_warnx("backend %s: %s (request %" PRIu64 " from %s)",
		    s->backend, why, bconn_sent(b, 0), s->name);
	else
		log_warnx("backend %s: %s (request %" PRIu64 " and %d more "
		    "from %s)", s->backend, why, bconn_sent(b, 0),
		    b->nsent - 1, s->name);
	for (i = 0; i < b->nsent; i++)
		sess_reply_error(s, bconn_sent(b, i), why);
	bconn_drop(b);
	pool_dispatch(s);
}

static void
bconn_written(struct lconn *c, int error, void *arg)
{
	char	 e[128];

	if (error) {
		linkproto_errstr(errno, e, sizeof(e));
		bconn_fail(arg, e);
	}
}

/*
 * Replies, paired in order with the requests sent.  The timeout (on the
 * read event, re-armed by libevent at every read) runs only while
 * requests are outstanding: backend_timeout is how long the backend may
 * stay silent with requests in hand.
 */
static void
bconn_readable(struct lconn *c, short what, void *arg)
{
	struct bconn	*b = arg;
	struct sess	*s = b->s;
	struct bsent	*r;
	const char	*line;
	size_t		 len;
	ssize_t		 n;
	int		 replied = 0;
	char		 e[128];

	if (what & EV_TIMEOUT) {
		bconn_fail(b, "timed out");
		return;
	}
	if ((n = lconn_read(c)) == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return;
		linkproto_errstr(errno, e, sizeof(e));
		bconn_fail(b, e);
		return;
	}
	while (b->nsent > 0 && (line = lconn_line(c, &len)) != NULL) {
		if (len > D.max_line) {
			bconn_fail(b, "reply too long");
			return;
		}
		r = &b->sent[b->head];
		if (++b->head == D.depth)
			b->head = 0;
		b->nsent--;
		s->nsent--;
		sess_reply(s, r->hdr, r->hlen, line, len);
		lconn_consume(c, len + 1);
		replied = 1;
	}
	/* Once per read, not per line: the loop's time is cached anyway. */
	if (replied)
		b->progress = sess_now(s);
	if (b->nsent == 0 && lconn_inlen(c) > 0) {
		/* More lines than requests: we cannot pair them up. */
		log_warnx("backend %s sent a line no request was waiting "
		    "for: dropping the connection", s->backend);
		bconn_fail(b, "spoke out of turn");
		return;
	}
	if (b->nsent > 0 && c->scan > D.max_line) {
		bconn_fail(b, "reply too long");
		return;
	}
	if (n == 0) {
		bconn_fail(b, "closed the connection");
		return;
	}
	if (b->nsent == 0)
		event_remove_timer(c->rev);
	pool_dispatch(s);
}

static struct bconn *
bconn_open(struct sess *s, char *err, size_t errlen)
{
	struct bconn	*b;
	int		 fd;

	if ((fd = D.connect(s->backend, err, errlen)) == -1)
		return NULL;
	b = xcalloc(1, sizeof(*b));
	b->s = s;
	/* pool_pick never gives b more than D.depth requests at once. */
	b->sent = xcalloc((size_t)D.depth, sizeof(*b->sent));
	/* Requests are written before replies: the backend starts on them. */
	b->c = lconn_new(s->fl, fd, LCONN_FIRST, bconn_readable,
	    bconn_written, b);
	/* Always read: an idle connection's end is noticed, too. */
	lconn_read_on(b->c, 1, NULL);
	TAILQ_INSERT_TAIL(&s->conns, b, entry);
	s->nconns++;
	return b;
}

/*
 * Request id (line: "<id> <payload>", hlen bytes of header) goes out on
 * b now; only its id and header are kept, in a ring rather than an
 * allocation per request (the line may be in the link's input buffer:
 * pool_request).
 */
static void
bconn_send(struct bconn *b, uint64_t id, const char *line, size_t hlen,
    size_t len)
{
	struct bsent	*r;
	struct timeval	 tv;
	int		 i;

	lconn_add(b->c, NULL, 0, line + hlen, len - hlen);
	if ((i = b->head + b->nsent) >= D.depth)
		i -= D.depth;
	r = &b->sent[i];
	r->id = id;
	r->hlen = (unsigned char)hlen;
	memcpy(r->hdr, line, hlen);
	if (b->nsent++ == 0) {
		lconn_read_on(b->c, 1, ms_timeval(D.backend_ms, &tv));
		b->progress = sess_now(b->s);
	}
	b->s->nsent++;
}

/*
 * Is b behind?  It has requests outstanding and has answered none of
 * them for backend_lag: the backend is busy with something slow.
 */
static int
bconn_lagging(struct bconn *b, long long now)
{
	return b->nsent > 0 && now - b->progress >= D.lag_us;
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
 * opened (fail it).  The clock is read only for a connection with
 * requests outstanding.
 */
static struct bconn *
pool_pick(struct sess *s, char *err, size_t errlen)
{
	struct bconn	*b, *spare = NULL;
	long long	 now = -1;

	err[0] = '\0';
	TAILQ_FOREACH(b, &s->conns, entry) {
		if (b->nsent > 0) {
			if (now == -1)
				now = sess_now(s);
			if (bconn_lagging(b, now)) {
				if (b->nsent < D.depth && (spare == NULL ||
				    b->progress > spare->progress))
					spare = b;
				continue;
			}
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
 * Requests wait: look again when the first connection that keeps up
 * would start to lag, as the pool may then grow.  Once they all lag
 * only a reply or a failure changes anything, and those dispatch.
 *
 * A timer set stays as it is: a connection's lag time only moves later
 * (progress), and one that starts (progress = now) lags after any set
 * before, so the timer set is never late, at worst early, and then it
 * looks again and sets the next.  So it is set once per lag period, not
 * once per dispatch, and deleted only when nothing waits any more.
 */
static void
pool_watch(struct sess *s)
{
	struct bconn	*b;
	struct timeval	 tv;
	long long	 now, when = -1, t;

	if (TAILQ_EMPTY(&s->wait)) {
		if (s->lag_set) {
			evtimer_del(s->lag_ev);
			s->lag_set = 0;
		}
		return;
	}
	if (s->lag_set)
		return;
	now = sess_now(s);
	TAILQ_FOREACH(b, &s->conns, entry)
		if (b->nsent > 0 && !bconn_lagging(b, now)) {
			t = b->progress + D.lag_us - now;
			if (when == -1 || t < when)
				when = t;
		}
	if (when == -1)
		return;
	tv.tv_sec = when / 1000000;
	tv.tv_usec = when % 1000000;
	evtimer_add(s->lag_ev, &tv);
	s->lag_set = 1;
}

static void
pool_lag_cb(int fd, short what, void *arg)
{
	struct sess	*s = arg;

	s->lag_set = 0;
	pool_dispatch(s);
}

/* Give waiting requests to connections with room. */
void
pool_dispatch(struct sess *s)
{
	struct lreq	*r;
	struct bconn	*b;
	char		 err[512];

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
	pool_watch(s);
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
	if (s->nwait++ == 0)
		pool_watch(s);
}

void
pool_init(struct sess *s)
{
	TAILQ_INIT(&s->wait);
	TAILQ_INIT(&s->conns);
	if ((s->lag_ev = evtimer_new(s->base, pool_lag_cb, s)) == NULL)
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
	if (s->lag_ev != NULL)
		event_free(s->lag_ev);
	s->lag_ev = NULL;
}
