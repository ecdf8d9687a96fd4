/*
 * link_client.c: the link helper's local clients.
 *
 * A client is in one of six states, each entered through
 * client_set_state(), which logs it (debug) and sets the read interest
 * that goes with it:
 *
 *	reading		its lines are read and made requests
 *	held		not read: max_pending requests unanswered, or
 *			LINK_CLIENT_OUT_MAX bytes of replies unread (a
 *			flooding client is simply not read: its kernel
 *			buffer fills and it blocks)
 *	eof		it said end-of-file: its last lines (an
 *			unterminated one included) are answered, then it is
 *			closed
 *	draining	the helper stops: its reading side was shut, what it
 *			sent is read and served, and it is closed after its
 *			last reply, never with a request unanswered
 *	linger		thrown out (a line over max_line): its last reply
 *			("error: line too long") is written, then we say
 *			end-of-file and read it to its end-of-file, for
 *			LINK_LINGER_MS at most, so that no reset destroys
 *			that reply
 *	closed		gone
 *
 * Everything that can change a client's state ends in client_update(),
 * called from its own events (read, written) or, for answers coming from
 * the link, at the end of the loop round (client_kick, the flusher's
 * "before" hook): answering never re-enters a client's line loop.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <errno.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

#include "link.h"
#include "linkproto.h"
#include "log.h"
#include "queue.h"
#include "util.h"

static void	client_update(struct client *);

static const char *const client_state_names[] = {
	"reading", "held", "eof", "draining", "linger", "closed"
};

const char *
client_state_name(enum client_state st)
{
	return client_state_names[st];
}

/* The end of a loop round: clients answered meanwhile, one at a time. */
static int
client_kicks(void *arg)
{
	struct client	*c;

	if ((c = TAILQ_FIRST(&L.kicks)) == NULL)
		return 0;
	TAILQ_REMOVE(&L.kicks, c, kentry);
	c->kicked = 0;
	client_update(c);
	return 1;
}

void
client_init(void)
{
	TAILQ_INIT(&L.clients);
	TAILQ_INIT(&L.kicks);
	L.fl = lconn_flusher_new(L.base, client_kicks, NULL);
}

/* Look at c again at the end of this round (it was answered). */
void
client_kick(struct client *c)
{
	if (c->kicked || c->state == CLIENT_CLOSED)
		return;
	c->kicked = 1;
	TAILQ_INSERT_TAIL(&L.kicks, c, kentry);
	lconn_flusher_wake(L.fl);
}

/* The one place a client's state changes, with its read interest. */
static void
client_set_state(struct client *c, enum client_state st)
{
	if (c->state == st)
		return;
	log_debug("client %u of the link to %s: %s -> %s", c->num, L.peer,
	    client_state_names[c->state], client_state_names[st]);
	c->state = st;
	if (st != CLIENT_READING)
		lconn_read_late(c->lc, 0);	/* client_update's */
	/*
	 * Draining reads by itself; lingering once its reply is out; a
	 * closed one's events go with its connection (lconn_free_soon).
	 */
	if (st == CLIENT_EOF)
		lconn_read_off_soon(c->lc);	/* mostly closed next */
	else if (st != CLIENT_CLOSED)
		lconn_read_on(c->lc, st == CLIENT_READING, NULL);
}

static void
client_free(struct client *c)
{
	struct req	*r;

	client_set_state(c, CLIENT_CLOSED);
	/* Unanswered requests stay in flight; their replies are dropped. */
	while ((r = TAILQ_FIRST(&c->reqs)) != NULL) {
		TAILQ_REMOVE(&c->reqs, r, centry);
		if (r->answered)
			req_free(r);
		else
			r->c = NULL;
	}
	TAILQ_REMOVE(&L.clients, c, entry);
	L.nclients--;
	if (c->kicked)
		TAILQ_REMOVE(&L.kicks, c, kentry);
	/* Closed after this round's writes: the peer's first. */
	lconn_free_soon(c->lc);
	free(c);
	stop_check();
}

/*
 * A request: line is in the client's input, which the caller drains
 * afterwards.  An ordinary request is written to the link from there; a
 * critical one is kept, as it may have to be queued later.
 */
static void
client_request(struct client *c, const char *line, size_t len)
{
	struct req	*r;

	r = req_new(c, linkproto_is_critical(line, len) ? REQ_CRITICAL :
	    REQ_ORDINARY, NULL, 0);
	TAILQ_INSERT_TAIL(&c->reqs, r, centry);
	c->npending++;
	if (c->nsent < 2)
		c->nsent++;
	if (r->kind == REQ_CRITICAL) {
		r->line = xstrndup(line, len);
		r->len = len;
	}
	/*
	 * Behind queued ones, a critical request must queue too: order.
	 * Stopping, what still comes here was sent before the stop: it
	 * goes on the link like any request, and the link is handed over
	 * once those are answered.  Once it is handed over, con_lost.
	 */
	if (r->kind == REQ_CRITICAL && (!peer_is_up() ||
	    queue_count(L.q) > 0)) {
		req_enqueue(r);
		return;
	}
	if (!peer_is_up()) {
		req_answer_str(r, "con_lost");
		return;
	}
	req_send(r, line, len);
}

/* A line longer than max_line: answer in turn, then throw it out. */
static void
client_too_long(struct client *c)
{
	struct req	*r;

	log_warnx("a client of the link to %s sent a line longer than %zu "
	    "bytes: closing it", L.peer, L.max_line);
	lconn_consume(c->lc, lconn_inlen(c->lc));
	client_set_state(c, CLIENT_LINGER);
	r = req_new(c, REQ_LOCAL, NULL, 0);
	TAILQ_INSERT_TAIL(&c->reqs, r, centry);
	c->npending++;
	req_answer_str(r, "error: line too long");
}

/* Turn complete lines into requests while the client has room. */
static void
client_process(struct client *c)
{
	const char	*line;
	size_t		 len, eol, avail;

	while (c->state != CLIENT_LINGER && c->npending < L.max_pending) {
		if ((line = lconn_line(c->lc, &len)) != NULL) {
			if (len > L.max_line) {
				client_too_long(c);
				return;
			}
			eol = 1;
		} else {
			avail = lconn_inlen(c->lc);
			if (avail > L.max_line) {
				client_too_long(c);
				return;
			}
			/* At end-of-file, an unterminated last line counts. */
			if (!c->eof || avail == 0)
				return;
			line = lconn_pullup(c->lc, avail);
			len = avail;
			eol = 0;
		}
		client_request(c, line, len);
		lconn_consume(c->lc, len + eol);
	}
}

/*
 * Thrown out: once its last reply is out, say end-of-file and read it
 * to its end-of-file, with a deadline (client_readable).
 */
static void
client_linger(struct client *c)
{
	struct timeval	 tv;

	if (c->linger_end != 0 || !TAILQ_EMPTY(&c->reqs) ||
	    lconn_outlen(c->lc) > 0)
		return;
	c->linger_end = now_ms() + LINK_LINGER_MS;
	(void)shutdown(c->lc->fd, SHUT_WR);
	lconn_read_on(c->lc, 1, ms_timeval(LINK_LINGER_MS, &tv));
}

/* Whatever happened to c: serve, hold, resume, or close it. */
static void
client_update(struct client *c)
{
	int	 done;

	if (c->state == CLIENT_LINGER) {
		client_linger(c);
		return;
	}
	client_process(c);
	if (c->state == CLIENT_LINGER) {
		client_linger(c);
		return;
	}
	done = TAILQ_EMPTY(&c->reqs) && lconn_outlen(c->lc) == 0 &&
	    lconn_inlen(c->lc) == 0;
	switch (c->state) {
	case CLIENT_EOF:
	case CLIENT_DRAINING:
		if (done)
			client_free(c);
		break;
	case CLIENT_READING:
	case CLIENT_HELD:
		client_set_state(c, c->npending < L.max_pending &&
		    lconn_outlen(c->lc) < LINK_CLIENT_OUT_MAX ?
		    CLIENT_READING : CLIENT_HELD);
		/*
		 * Its one request answered: what it does next is mostly to
		 * close (a connection per request) as the next client
		 * connects, whose request need not wait for that end: its
		 * read comes after the round's writes (lconn_read_late).
		 * Not for a client that sent more: its next request is
		 * read at once, and goes to the peer before the round's
		 * replies go to their clients.
		 */
		lconn_read_late(c->lc, done && c->nsent == 1 &&
		    c->state == CLIENT_READING);
		break;
	default:
		break;
	}
}

/*
 * One read, then the lines it completed.  A client thrown out is read
 * only to its end-of-file, and not listened to: that has a deadline (the
 * read event's timeout, set again after every read to what is left).
 */
static void
client_readable(struct lconn *lc, short what, void *arg)
{
	struct client	*c = arg;
	struct timeval	 tv;
	long long	 left;
	ssize_t		 n;
	int		 again;

	if (what & EV_TIMEOUT) {
		client_free(c);		/* only lingering has a timeout */
		return;
	}
	n = lconn_read(lc);
	again = n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK);
	if (c->state == CLIENT_LINGER) {
		lconn_consume(lc, lconn_inlen(lc));
		left = c->linger_end - now_ms();
		if ((n <= 0 && !again) || left <= 0)
			client_free(c);
		else
			lconn_read_on(lc, 1, ms_timeval(left, &tv));
		return;
	}
	if (again)
		return;
	if (n == -1) {
		client_free(c);
		return;
	}
	/* A half-close still gets its replies. */
	if (n == 0) {
		c->eof = 1;
		if (c->state != CLIENT_DRAINING)
			client_set_state(c, CLIENT_EOF);
	}
	client_update(c);
}

/* What was left over is out (or the client is broken). */
static void
client_written(struct lconn *lc, int error, void *arg)
{
	struct client	*c = arg;

	if (error)
		client_free(c);
	else
		client_update(c);
}

/*
 * The stop began: shut the client's reading side, so that it can add
 * nothing more (its next write fails: on Linux a unix stream socket
 * passes the shutdown on to its peer), and read what it sent already,
 * all of it now in our socket buffer (LINK_STOP_READS guards against
 * surprises): each complete line is served, an unterminated last one
 * answered, and the client closed after its last reply, with nothing
 * left unread, which it sees as an end-of-file after its replies.
 */
void
client_stop(struct client *c)
{
	ssize_t	 n;
	int	 i;

	if (c->state == CLIENT_LINGER)
		return;		/* closes by itself, soon */
	client_set_state(c, CLIENT_DRAINING);
	(void)shutdown(c->lc->fd, SHUT_RD);
	for (i = 0; i < LINK_STOP_READS && !c->eof; i++) {
		if ((n = lconn_read(c->lc)) == -1)
			break;		/* a broken client */
		if (n == 0)
			c->eof = 1;
	}
	c->eof = 1;
	client_update(c);
}

/*
 * The drain time is over: one last try at writing the client's replies,
 * without waiting, then close it.  Reading it to the end first spares it
 * a reset, which could destroy the replies it has not read yet.
 */
void
client_drop(struct client *c)
{
	int	 i;

	(void)lconn_flush(c->lc);
	(void)shutdown(c->lc->fd, SHUT_RD);
	for (i = 0; i < LINK_STOP_READS; i++) {
		if (lconn_read(c->lc) <= 0)
			break;
		lconn_consume(c->lc, lconn_inlen(c->lc));
	}
	client_free(c);
}

/*
 * A new client, read at once: a client mostly sends its request right
 * after it connects, and this spares a loop round.  Its read interest
 * (an epoll_ctl(2)) is registered after the round's writes, so that
 * the request it sent is on its way to the peer first.
 */
void
client_new(int fd)
{
	struct client	*c;

	/* Not calloc: glibc's bypasses its per-thread cache (lconn_new). */
	c = xmalloc(sizeof(*c));
	memset(c, 0, sizeof(*c));
	TAILQ_INIT(&c->reqs);
	c->num = ++L.nclients_ever;
	c->state = CLIENT_READING;
	c->lc = lconn_new(L.fl, fd, 0, client_readable, client_written, c);
	TAILQ_INSERT_TAIL(&L.clients, c, entry);
	L.nclients++;
	lconn_read_soon(c->lc);
	client_readable(c->lc, EV_READ, c);
}

/*
 * A client waiting on a listen socket: one accept4(2) per readiness,
 * not a loop until EAGAIN, which cost a call for nothing with each
 * client that came alone (a connection per request).  The event is
 * level-triggered: a backlog is taken one client per loop round, along
 * with whatever else the round has.
 */
void
client_accept_cb(int lfd, short ev, void *arg)
{
	struct timeval	 tv;
	int		 fd;

	if ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) !=
	    -1) {
		client_new(fd);
		return;
	}
	switch (errno) {
	case EINTR:
	case ECONNABORTED:
	case EPROTO:
	case EAGAIN:
#if EWOULDBLOCK != EAGAIN
	case EWOULDBLOCK:
#endif
		return;		/* the next round tries again, if need be */
	case EMFILE:
	case ENFILE:
	case ENOBUFS:
	case ENOMEM:
		/* Out of fds: wait instead of spinning on accept. */
		log_warn("accept on the link to %s (pausing 1s)", L.peer);
		listen_enable(0);
		evtimer_add(L.pause_ev, ms_timeval(LINK_ACCEPT_PAUSE_MS, &tv));
		return;
	default:
		log_warn("accept on the link to %s", L.peer);
		return;
	}
}
