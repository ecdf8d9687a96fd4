/*
 * linkd_sess.c: one link's life, from its hello to its end.
 *
 * A session goes through its states in one order (linkd.h), and only
 * sess_set_state() writes the state: it logs the change and tells the
 * master (service_status).  HELLO: a hello is due within hello_timeout
 * (linkd_input.c reads it, linkd_peer.c judges it).  UP: requests go to
 * the backend pool (linkd_pool.c), the link read only while fewer than
 * max_pending are in hand and fewer than max_output bytes of replies
 * wait for it to read them (sess_out_full).  PEER_EOF (the link's end-of-file) and
 * STOPPING (the status channel's) read nothing new and close once what
 * is in hand is answered.  CLOSING: no more reading; the last words
 * (replies, an ERR) get LINKD_FLUSH_MS to go out.  ENDED: the event
 * loop stops.
 *
 * Output is never written here: replies are appended to the link's
 * lconn, which the flusher writes once the round's callbacks have run,
 * so no callback re-enters another and no recursion guard is needed.
 *
 * Failure policy: a read or write error on the link ends it at once; a
 * link that does not take our last words within LINKD_FLUSH_MS ends
 * too.  Nothing here is fatal but running out of memory.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/time.h>

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lconn.h"
#include "linkd.h"
#include "log.h"
#include "service.h"
#include "sock.h"
#include "util.h"

struct linkd_opts D;
struct sesslist	 sessions = TAILQ_HEAD_INITIALIZER(sessions);

static const char *const sess_names[] = {
	"hello", "up", "peer eof", "stopping", "closing", "ended"
};

const char *
sess_state_name(enum sess_state st)
{
	return sess_names[st];
}

/*
 * Microseconds on libevent's clock, cached for the loop round: no system
 * call per request.
 */
long long
sess_now(struct sess *s)
{
	struct timeval	 tv;

	event_base_gettimeofday_cached(s->base, &tv);
	return (long long)tv.tv_sec * 1000000 + tv.tv_usec;
}

/*
 * The service's status text: the links that are up, else what just
 * happened (msg).  A connection in its hello never hides a link.
 */
static void
sess_report(const char *fmt, ...)
{
	struct sess	*o;
	char		 ups[400], msg[512];
	size_t		 len = 0;
	int		 n = 0;
	va_list		 ap;

	ups[0] = '\0';
	TAILQ_FOREACH(o, &sessions, entry) {
		if (o->state != SESS_UP || len >= sizeof(ups))
			continue;
		len += (size_t)snprintf(ups + len, sizeof(ups) - len,
		    "%s%s (%s)", n++ > 0 ? ", " : "", o->name, o->ip);
	}
	if (n > 0) {
		service_status("up: link%s from %s", n > 1 ? "s" : "", ups);
		return;
	}
	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	service_status("%s", msg);
}

/*
 * The one writer of s->state: forward only, logged, and told to the
 * master.  reason: why it closes or ended.
 */
void
sess_set_state(struct sess *s, enum sess_state st, const char *reason)
{
	/* HELLO is set once, by sess_new, over the zeroed state. */
	if (st < s->state || (st == s->state && st != SESS_HELLO))
		return;
	if (reason != NULL)
		strlcpy(s->reason, reason, sizeof(s->reason));
	s->state = st;
	switch (st) {
	case SESS_HELLO:
		log_debug("connection from %s", s->ip);
		sess_report("hello from %s", s->ip);
		break;
	case SESS_UP:
		log_info("link from %s (%s) up", s->name, s->ip);
		sess_report("up");
		break;
	case SESS_PEER_EOF:
	case SESS_STOPPING:
		log_debug("link from %s (%s): %s, %d request(s) in hand",
		    s->name, s->ip, sess_names[st], s->nwait + s->nsent);
		sess_report("%s: link from %s (%s)", sess_names[st], s->name,
		    s->ip);
		break;
	case SESS_CLOSING:
		log_debug("link from %s: closing: %s", s->ip, s->reason);
		sess_report("closing: link from %s: %s", s->ip, s->reason);
		break;
	case SESS_ENDED:
		if (s->name[0] != '\0')
			log_info("link from %s (%s) down: %s", s->name, s->ip,
			    s->reason);
		else
			log_debug("connection from %s ended: %s", s->ip,
			    s->reason);
		sess_report("ended: link from %s: %s", s->ip, s->reason);
		/* Nothing more from it: freed once this round is over. */
		lconn_read_on(s->c, 0, NULL);
		evtimer_del(s->timer_ev);
		if (D.ended != NULL)
			D.ended(s);
		else
			event_base_loopbreak(s->base);
		break;
	}
}

void
sess_end(struct sess *s, const char *reason)
{
	sess_set_state(s, SESS_ENDED, reason);
}

/* No more reading: end once what is written has gone out. */
void
sess_close(struct sess *s, const char *reason)
{
	struct timeval	 tv;

	if (s->state >= SESS_CLOSING)
		return;
	sess_set_state(s, SESS_CLOSING, reason);
	lconn_read_on(s->c, 0, NULL);
	if (lconn_outlen(s->c) == 0) {
		sess_end(s, reason);
		return;
	}
	/* From now on the link must take our last words in time. */
	evtimer_add(s->timer_ev, ms_timeval(LINKD_FLUSH_MS, &tv));
	lconn_dirty(s->c);
}

void
sess_refuse(struct sess *s, const char *reason)
{
	lconn_add(s->c, "ERR ", 4, reason, strlen(reason));
	sess_close(s, reason);
}

/* A reply under its request's header ("<id> "). */
void
sess_reply(struct sess *s, const char *hdr, size_t hlen, const char *payload,
    size_t len)
{
	if (s->state == SESS_ENDED)
		return;
	lconn_add(s->c, hdr, hlen, payload, len);
}

void
sess_reply_error(struct sess *s, uint64_t id, const char *why)
{
	char	 hdr[LINKPROTO_HDR_MAX + 1];
	char	*msg;
	size_t	 n;

	n = linkproto_format_hdr(hdr, sizeof(hdr), id);
	xasprintf(&msg, "error: backend: %s", why);
	sess_reply(s, hdr, n, msg, strlen(msg));
	free(msg);
}

/*
 * Replies the link has not read yet fill max_output: a link that sends
 * requests and never reads the replies would otherwise grow us without
 * bound.  Above it the link is not read and waiting requests do not go
 * to the backend (those already there still answer: at most pool x
 * backend_depth replies more); once the output has all been written
 * (sess_written) both go on.
 */
int
sess_out_full(const struct sess *s)
{
	return lconn_outlen(s->c) >= D.max_output;
}

/*
 * After anything that changed what is in hand: read while there is room
 * (lines already read wait for the flusher's hook), and close a link
 * that is done: stopping, or at its end-of-file, with nothing left.
 */
void
sess_settle(struct sess *s)
{
	int	 room, idle;

	if (s->state >= SESS_CLOSING)
		return;
	room = s->state == SESS_HELLO ||
	    (s->nwait + s->nsent < D.max_pending && !sess_out_full(s));
	lconn_read_on(s->c, room && s->state <= SESS_UP, NULL);
	idle = s->nwait == 0 && s->nsent == 0;
	if (s->state == SESS_STOPPING && idle)
		sess_close(s, "stopping");
	else if (s->state == SESS_PEER_EOF && idle && !s->held)
		sess_close(s, "connection closed");
}

static void
sess_written(struct lconn *c, int error, void *arg)
{
	struct sess	*s = arg;
	char		 e[128];

	if (error) {
		linkproto_errstr(errno, e, sizeof(e));
		sess_end(s, e);
	} else if (s->state == SESS_CLOSING)
		sess_end(s, s->reason);
	else if (s->state > SESS_HELLO) {
		/*
		 * All out: what max_output held back goes on (waiting
		 * requests now, held lines in the flusher's hook).
		 */
		pool_dispatch(s);
		if (s->held)
			lconn_flusher_wake(s->fl);
	}
}

/* hello_timeout in HELLO; LINKD_FLUSH_MS in CLOSING. */
static void
sess_timer_cb(int fd, short ev, void *arg)
{
	struct sess	*s = arg;
	char		 d[32];

	if (s->state == SESS_CLOSING) {
		sess_end(s, "the link stopped reading");
		return;
	}
	if (s->state != SESS_HELLO)
		return;
	/* Many at once are one attack: rate-limited (linkd_limit.c). */
	limit_log("no hello from %s within %s: closing the connection", s->ip,
	    fmt_duration(D.hello_ms, d, sizeof(d)));
	sess_end(s, "no hello");
}

/*
 * A new link from a peer replaces its older one, which is ended at once
 * (linkd.c frees it): its backend connections close, and the replies
 * still due on it are lost; the peer's link has given up on it already,
 * answered its ordinary requests "con_lost" and queued its critical ones
 * for a replay on the new link.  A peer reconnects when its link broke
 * without our noticing (a host that rebooted, a lost FIN), so the newer
 * link is the live one; two links from one peer would otherwise each
 * hold a backend pool, and the older could be held idle for ever.
 */
void
sess_replace(struct sess *s)
{
	struct sess	*o;
	char		 why[NI_MAXHOST + 80];
	int		 n;

	TAILQ_FOREACH(o, &sessions, entry) {
		if (o == s || o->state < SESS_UP || o->state >= SESS_CLOSING ||
		    strcmp(o->name, s->name) != 0)
			continue;
		n = o->nwait + o->nsent;
		if (n > 0)
			(void)snprintf(why, sizeof(why), "replaced by a new "
			    "link from %s, %d request%s in hand dropped",
			    s->ip, n, n == 1 ? "" : "s");
		else
			(void)snprintf(why, sizeof(why), "replaced by a new "
			    "link from %s", s->ip);
		sess_end(o, why);
	}
}

/* The master said stop: answer what is in hand, then close. */
void
sess_stop(struct sess *s)
{
	if (s->state == SESS_HELLO)
		sess_end(s, "stopping");
	else if (s->state < SESS_STOPPING) {
		sess_set_state(s, SESS_STOPPING, NULL);
		sess_settle(s);
	}
}

/*
 * A session on the link fd, which it takes (closed by sess_free; no
 * duplicate: one descriptor per connection, which matters when they run
 * out), in state HELLO; NULL when fd cannot be used (logged, closed).
 */
struct sess *
sess_new(struct event_base *base, int fd)
{
	struct sess	*s;
	struct timeval	 tv;

	if (sock_set_nonblock(fd, 1) == -1) {
		log_warn("fd %d: O_NONBLOCK", fd);
		close(fd);
		return NULL;
	}
	linkproto_sockopts(fd);
	s = xcalloc(1, sizeof(*s));
	s->base = base;
	peer_ip(fd, s->ip, sizeof(s->ip));
	pool_init(s);
	s->fl = lconn_flusher_new(base, sess_before_flush, s);
	s->c = lconn_new(s->fl, fd, 0, sess_readable, sess_written, s);
	if ((s->timer_ev = evtimer_new(base, sess_timer_cb, s)) == NULL)
		fatalx("evtimer_new failed");
	/*
	 * From the accept on: a TLS handshake and the hello both count
	 * against it.
	 */
	evtimer_add(s->timer_ev, ms_timeval(D.hello_ms, &tv));
	TAILQ_INSERT_TAIL(&sessions, s, entry);
	sess_set_state(s, SESS_HELLO, NULL);
	lconn_read_on(s->c, 1, NULL);
	return s;
}

void
sess_free(struct sess *s)
{
	if (s == NULL)
		return;
	TAILQ_REMOVE(&sessions, s, entry);
	linkd_tls_config_done(s);
	pool_free(s);
	event_free(s->timer_ev);
	lconn_free(s->c);
	lconn_flusher_free(s->fl);
	free(s->backend);
	free(s);
}
