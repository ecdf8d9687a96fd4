/*
 * link_req.c: the link helper's requests: in flight, answered, failed.
 *
 * A request is sent on the link with a link-wide id and waits in flight
 * (by id for its reply, by deadline for the timeout) until the peer
 * answers it, the timeout passes, or the link goes: then an ordinary
 * request is answered "con_lost" and a critical one goes to the durable
 * queue and is answered "queued" ("error: queue: ..." when the disk says
 * no: never dropped silently).  An answer goes to the client's output if
 * every earlier request of that client is answered, else it is held for
 * its turn; the client is then looked at again at the end of the loop
 * round (client_kick), never from here.  Replayed requests from the
 * queue (link_replay.c) are in flight like any other.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/time.h>

#include <errno.h>
#include <event2/event.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "link.h"
#include "linkproto.h"
#include "log.h"
#include "queue.h"
#include "util.h"

static void	req_timeout_cb(int, short, void *);
static void	req_settle_cb(int, short, void *);

void
req_init(void)
{
	int	 i;

	for (i = 0; i < LINK_INFLIGHT_BUCKETS; i++)
		TAILQ_INIT(&L.inflight[i]);
	TAILQ_INIT(&L.deadlines);
	TAILQ_INIT(&L.spare);
	if ((L.timeout_ev = evtimer_new(L.base, req_timeout_cb,
	    NULL)) == NULL ||
	    (L.settle_ev = evtimer_new(L.base, req_settle_cb, NULL)) == NULL)
		fatalx("cannot create events");
}

/*
 * A TLS link that carried requests has mapped again the code, tables and
 * buffers they used (2 MiB more VmRSS than an idle link): once no request
 * has been sent for -o settle and none is in flight, it gives them back
 * as at link-up (peer_settle).  The timer is set by the first request
 * after a settle and wakes at most once per settle while requests flow
 * (then for what is left of the settle since the last one); a link that
 * stays idle never wakes.
 */
static void
req_settle_arm(long long ms)
{
	struct timeval	 tv;

	L.settle_want = 0;
	evtimer_add(L.settle_ev, ms_timeval(ms, &tv));
}

static void
req_settle_cb(int fd, short ev, void *arg)
{
	long long	 quiet;

	if (!peer_is_up())
		return;		/* the next link settles when it is up */
	quiet = now_ms() - L.sent_ms;
	if (!req_none_inflight()) {
		req_settle_arm(L.settle_ms);
		return;
	}
	if (quiet < L.settle_ms) {
		req_settle_arm(L.settle_ms - quiet);
		return;
	}
	log_debug("link to %s quiet: gives back its pages", L.peer);
	peer_settle();
	L.settle_want = 1;
}

/* A request; line (malloc'ed, or NULL) is now the request's. */
struct req *
req_new(struct client *c, enum req_kind kind, char *line, size_t len)
{
	struct req	*r;

	if ((r = TAILQ_FIRST(&L.spare)) != NULL) {
		TAILQ_REMOVE(&L.spare, r, centry);
		L.nspare--;
		memset(r, 0, sizeof(*r));
	} else
		r = xcalloc(1, sizeof(*r));
	r->c = c;
	r->kind = kind;
	r->line = line;
	r->len = len;
	return r;
}

void
req_free(struct req *r)
{
	free(r->line);
	free(r->reply);
	if (L.nspare < LINK_SPARE_REQS) {
		TAILQ_INSERT_HEAD(&L.spare, r, centry);
		L.nspare++;
	} else
		free(r);
}

/*
 * The answer to a client's request: appended to its output if its turn
 * has come, with the held answers that follow it, else held (a copy:
 * text is usually in the link's input buffer).  The client is looked at
 * again at the end of the round: it may read more, or close.
 */
void
req_answer(struct req *r, const char *text, size_t len)
{
	struct client	*c = r->c;

	if (c == NULL) {
		req_free(r);
		return;
	}
	if (TAILQ_FIRST(&c->reqs) != r) {
		r->reply = xmalloc(len + 1);
		memcpy(r->reply, text, len);
		r->reply[len] = '\0';
		r->rlen = len;
		r->answered = 1;
		free(r->line);
		r->line = NULL;
		return;
	}
	TAILQ_REMOVE(&c->reqs, r, centry);
	c->npending--;
	req_free(r);
	lconn_add(c->lc, text, len, NULL, 0);
	while ((r = TAILQ_FIRST(&c->reqs)) != NULL && r->answered) {
		TAILQ_REMOVE(&c->reqs, r, centry);
		c->npending--;
		lconn_add(c->lc, r->reply, r->rlen, NULL, 0);
		req_free(r);
	}
	client_kick(c);
}

void
req_answer_str(struct req *r, const char *text)
{
	req_answer(r, text, strlen(text));
}

/*
 * A critical request that could not be (or was not) delivered: on disk,
 * then "queued"; "error: queue: ..." when the disk says no.
 */
void
req_enqueue(struct req *r)
{
	char		 buf[256];
	uint64_t	 seq;
	int		 e;

	if (queue_append(L.q, r->line, r->len, &seq) == -1) {
		e = errno;
		log_error("cannot queue a critical request for %s in %s: %s",
		    L.peer, queue_dir(L.q), strerror(e));
		(void)snprintf(buf, sizeof(buf), "error: queue: %s",
		    strerror(e));
		req_answer_str(r, buf);
		return;
	}
	log_info("queued critical request %" PRIu64 " for %s", seq, L.peer);
	req_answer_str(r, "queued");
	replay_next();
}

/* --- in flight ----------------------------------------------------------- */

/* Every deadline is now + timeout: appending keeps the list sorted. */
static void
inflight_add(struct req *r)
{
	TAILQ_INSERT_TAIL(&L.inflight[r->id % LINK_INFLIGHT_BUCKETS], r,
	    ientry);
	TAILQ_INSERT_TAIL(&L.deadlines, r, dentry);
}

static void
inflight_remove(struct req *r)
{
	TAILQ_REMOVE(&L.inflight[r->id % LINK_INFLIGHT_BUCKETS], r, ientry);
	TAILQ_REMOVE(&L.deadlines, r, dentry);
}

/* How many requests are in flight (counted: only when stopping). */
int
req_inflight(void)
{
	struct req	*r;
	int		 n = 0;

	TAILQ_FOREACH(r, &L.deadlines, dentry)
		n++;
	return n;
}

int
req_none_inflight(void)
{
	return TAILQ_EMPTY(&L.deadlines);
}

static void
req_timer_arm(void)
{
	struct timeval	 tv;
	struct req	*r;

	if ((r = TAILQ_FIRST(&L.deadlines)) == NULL)
		return;
	evtimer_add(L.timeout_ev, ms_timeval(r->deadline - now_ms(), &tv));
	L.timeout_set = 1;
}

/*
 * r goes on the link, its payload line (which only critical and replayed
 * requests keep, as they may have to be sent again).
 */
void
req_send(struct req *r, const char *line, size_t len)
{
	char	 hdr[LINKPROTO_HDR_MAX + 1];
	size_t	 n;

	r->id = ++L.last_id;
	n = linkproto_format_hdr(hdr, sizeof(hdr), r->id);
	peer_send(hdr, n, line, len);
	L.sent_ms = now_ms();
	r->deadline = L.sent_ms + L.timeout_ms;
	inflight_add(r);
	if (L.settle_want)
		req_settle_arm(L.settle_ms);
	/*
	 * Every deadline is later than those already waiting: a timer set
	 * stays (a flag, not evtimer_pending(), on this path of every
	 * request).
	 */
	if (!L.timeout_set)
		req_timer_arm();
}

/* A request that will not get its reply over this link. */
static void
req_fail(struct req *r)
{
	switch (r->kind) {
	case REQ_REPLAY:
		/* Still first in the queue: sent again when the link is up. */
		if (L.replay == r)
			L.replay = NULL;
		req_free(r);
		break;
	case REQ_CRITICAL:
		req_enqueue(r);
		break;
	default:
		req_answer_str(r, "con_lost");
		break;
	}
}

/*
 * Everything in flight, critical requests in id order (so the queue
 * keeps that order): the deadline list has them in the order sent, as
 * only a replay is ever put back on it (req_timeout_cb).
 */
void
req_fail_all(void)
{
	struct req	*r;

	while ((r = TAILQ_FIRST(&L.deadlines)) != NULL) {
		inflight_remove(r);
		req_fail(r);
	}
	evtimer_del(L.timeout_ev);
	L.timeout_set = 0;
}

static void
req_timeout_cb(int fd, short ev, void *arg)
{
	struct req	*r;
	long long	 now = now_ms();
	char		 d[32];
	int		 n = 0;

	L.timeout_set = 0;
	fmt_duration(L.timeout_ms, d, sizeof(d));
	/* Say so first: failing them logs what happens to each. */
	TAILQ_FOREACH(r, &L.deadlines, dentry) {
		if (r->deadline > now)
			break;
		if (r->kind != REQ_REPLAY)
			n++;
	}
	if (n > 0)
		log_warnx("%d request%s to %s timed out after %s", n,
		    n == 1 ? "" : "s", L.peer, d);
	while ((r = TAILQ_FIRST(&L.deadlines)) != NULL &&
	    r->deadline <= now) {
		inflight_remove(r);
		if (r->kind == REQ_REPLAY) {
			/*
			 * Keep waiting on the same id: linkd answers every
			 * request in the end (backend_timeout), and sending
			 * it again would never finish with a backend slower
			 * than our timeout.  A dead link is noticed anyway.
			 */
			log_warnx("queued request %" PRIu64 " to %s: no reply "
			    "in %s, still waiting", r->seq, L.peer, d);
			r->deadline = now + L.timeout_ms;
			inflight_add(r);
			continue;
		}
		req_fail(r);
	}
	req_timer_arm();
	stop_check();
}

/* Whether id was ever sent: a reply to another is a protocol error. */
int
req_known(uint64_t id)
{
	return id <= L.last_id;
}

/* A reply from the peer; a late one (timed out) is dropped. */
void
req_reply(uint64_t id, const char *payload, size_t plen)
{
	struct req	*r;

	TAILQ_FOREACH(r, &L.inflight[id % LINK_INFLIGHT_BUCKETS], ientry)
		if (r->id == id)
			break;
	if (r == NULL) {
		log_debug("late reply %" PRIu64 " from %s dropped", id,
		    L.peer);
		return;
	}
	inflight_remove(r);
	if (r->kind == REQ_REPLAY)
		replay_done(r, payload, plen);
	else
		req_answer(r, payload, plen);
	stop_check();
}
