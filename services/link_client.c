/*
 * link_client.c: one of the link helper's local clients, its lines made
 * requests and its replies written (link_accept.c: clients accepted,
 * and stopped with the helper).
 *
 * A client is in one of seven states, each entered through
 * client_set_state(), which logs it (debug) and sets the read interest
 * that goes with it:
 *
 *	reading		its lines are read and made requests
 *	held		not read: max_pending requests unanswered, or
 *			LINK_CLIENT_OUT_MAX bytes of replies unread (a
 *			flooding client is simply not read: its kernel
 *			buffer fills and it blocks)
 *	parked		it sent one request and nothing more (yet): not
 *			watched for -o park at most, but looked at when
 *			the next client comes if answered (link_accept.c);
 *			a client parks once, and never with -o park=0
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
 * Failure policy: a client whose read or write fails is closed (its
 * unanswered requests stay in flight, their replies dropped); one that
 * sends a line over max_line is answered "error: line too long" and
 * thrown out.  Nothing about a client is fatal, nor touches the others.
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

static const char *const client_state_names[] = {
	"reading", "held", "parked", "eof", "draining", "linger", "closed"
};

const char *
client_state_name(enum client_state st)
{
	return client_state_names[st];
}

/* The one place a client's state changes, with its read interest. */
void
client_set_state(struct client *c, enum client_state st)
{
	if (c->state == st)
		return;
	log_debug("client %u of the link to %s: %s -> %s", c->num, L.peer,
	    client_state_names[c->state], client_state_names[st]);
	if (c->state == CLIENT_PARKED)
		client_unpark(c);
	c->state = st;
	/*
	 * Draining reads by itself; lingering once its reply is out; a
	 * closed one's events go with its connection (lconn_free_soon).
	 */
	if (st == CLIENT_PARKED)
		client_park(c);
	else if (st == CLIENT_EOF)
		lconn_read_off_soon(c->lc);	/* mostly closed next */
	else if (st != CLIENT_CLOSED)
		lconn_read_on(c->lc, st == CLIENT_READING, NULL);
}

void
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

/*
 * Reading, held or parked: held while it has max_pending requests
 * unanswered or too many replies unread; parked once, when it has sent
 * exactly one request and nothing after it.
 */
static enum client_state
client_next(struct client *c)
{
	if (c->npending >= L.max_pending ||
	    lconn_outlen(c->lc) >= LINK_CLIENT_OUT_MAX)
		return CLIENT_HELD;
	if (c->park != PARK_DONE && L.park_ms > 0 && c->nsent == 1 &&
	    lconn_inlen(c->lc) == 0)
		return CLIENT_PARKED;
	return CLIENT_READING;
}

/* Whatever happened to c: serve, hold, park, resume, or close it. */
void
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
	case CLIENT_PARKED:
		client_set_state(c, client_next(c));
		if (c->state == CLIENT_PARKED && done)
			client_park_answered(c);
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
void
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
	if (again) {
		/* Looked at while parked, and silent: watched from now. */
		if (c->state == CLIENT_PARKED)
			client_update(c);
		return;
	}
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
void
client_written(struct lconn *lc, int error, void *arg)
{
	struct client	*c = arg;

	if (error)
		client_free(c);
	else
		client_update(c);
}
