/*
 * link.c: one link helper per remote peer, after LON-CAPA's lonc.
 *
 * It holds one persistent TCP link to the peer's linkd and relays the
 * line requests of any number of local clients (unix listen socket) over
 * it, pipelined: each request gets a link-wide id, replies come back in
 * any order and are put back in each client's own request order.  A
 * request that cannot be answered (link down or broken, no reply within
 * the timeout) is answered "con_lost" at once; a request starting with
 * "critical:" is instead written to a durable queue (services/queue.c)
 * and answered "queued", then replayed in order, one at a time, when the
 * link is up, and removed once the peer replied (at least once delivery).
 * A queue that cannot be written is reported to the client as
 * "error: queue: <strerror>", never dropped silently.
 *
 * The link reconnects with exponential back-off and jitter between
 * retry_min and retry_max, reset by a successful hello; its state goes
 * to the log and to the master (STATUS up / connecting / down: why, retry
 * in N).  Everything is driven by libevent: socket events and timers,
 * never a poll loop, so an idle helper uses no CPU.
 *
 * The I/O is ours, not bufferevents', to keep the system calls per
 * request low (services/lineio.c): each socket is an fd with a read
 * event, a write event and two evbuffers.  A readable socket is read
 * with one read(2) into its input buffer, nothing more (no FIONREAD
 * first); output is written by us once per event loop round (the flush
 * event runs after the round's other callbacks: it takes up the clients
 * whose buffered lines wait for room, then writes the link first, then
 * each client with output), in one writev per socket.  Read interest
 * stays registered while a socket may be read; write interest is
 * registered only for what a socket did not take at once, until it is
 * all out.  A client's input holds at most one read beyond max_line: it
 * is read only while it has room for requests, and then what is left
 * of it is an incomplete line of at most max_line bytes.  Timeouts (the
 * link's connect and hello, a thrown-out client's last reads) are
 * libevent timers, which cost no system call.
 *
 * Failure policy: bad options or environment, or a queue directory that
 * cannot be opened, are fatal before READY (a bad startup the master
 * throttles).  After READY nothing about the peer is fatal: a protocol
 * error from the peer is logged and the link dropped and redialled.
 * End-of-file on the status channel (or SIGTERM standalone) stops the
 * helper, quickly, because the master starts the next generation only
 * once this one has exited: no new clients; every request read from now
 * on is answered at once ("con_lost", or "queued" for a critical one) so
 * that the client retries against the next generation; each client is
 * closed as soon as its last reply is written (after answering the
 * complete lines it had already sent); and as soon as nothing is in
 * flight on the link, the link is handed over to the master as a
 * HANDOFF packet with the socket attached, for the next generation to
 * take over without a reconnect.  "drain" bounds the wait for requests
 * in flight: past it they are failed and the link is not handed over.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/tree.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/util.h>
#include <inttypes.h>
#include <limits.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fdpass.h"
#include "lineio.h"
#include "linkproto.h"
#include "log.h"
#include "proto.h"
#include "queue.h"
#include "service.h"
#include "util.h"

/* libbsd's RB_GENERATE_STATIC uses it, and glibc does not define it. */
#ifndef __unused
#define __unused __attribute__((__unused__))
#endif

#define LINK_CLIENT_OUT_MAX	(256 * 1024)	/* unread replies */
#define LINK_ACCEPT_BURST	64	/* accepts per wakeup */
#define LINK_ACCEPT_PAUSE_MS	1000	/* after EMFILE and friends */
#define LINK_LINGER_MS		2000	/* reading a thrown-out client */
#define LINK_STOP_READS		1024	/* last reads of a client at stop */
#define LINK_BACKEND_ERROR	"error: backend:"
#define LINK_REASON_MAX		300	/* of an error reply, logged */
#define LINK_HANDOFF		"HANDOFF"
#define LINK_REPLAY_BREAKS	3	/* links lost with it: set aside */

enum req_kind {
	REQ_ORDINARY,		/* answered by the peer or "con_lost" */
	REQ_CRITICAL,		/* the same, or "queued" when that fails */
	REQ_REPLAY,		/* a queued request on its way, no client */
	REQ_LOCAL,		/* answered here ("error: line too long") */
};

struct client;

struct req {
	TAILQ_ENTRY(req)	 centry;	/* client's FIFO */
	RB_ENTRY(req)		 ientry;	/* in flight, by id */
	TAILQ_ENTRY(req)	 dentry;	/* in flight, by deadline */
	struct client		*c;		/* NULL: gone, or replay */
	enum req_kind		 kind;
	uint64_t		 id;		/* on the link */
	uint64_t		 seq;		/* REQ_REPLAY: in queue */
	long long		 deadline;	/* ms, monotonic */
	char			*line;		/* payload, as needed */
	size_t			 len;
	char			*reply;		/* held for its turn */
	size_t			 rlen;
	int			 answered;
};

TAILQ_HEAD(reqlist, req);
RB_HEAD(reqtree, req);

struct client {
	TAILQ_ENTRY(client)	 entry;
	TAILQ_ENTRY(client)	 dentry;	/* L.dirty */
	TAILQ_ENTRY(client)	 kentry;	/* L.kicks */
	int			 fd;
	struct event		*rev;		/* while reading */
	struct event		*wev;		/* while output is left */
	struct evbuffer		*in;
	struct evbuffer		*out;
	size_t			 scan;		/* in: no newline before */
	struct reqlist		 reqs;		/* request order */
	int			 npending;
	int			 reading;	/* rev registered */
	int			 writing;	/* wev registered */
	int			 eof;		/* no more requests */
	int			 closing;	/* line too long: close */
	int			 lingering;	/* closing: to EOF */
	long long		 linger_end;	/* ms, monotonic */
	int			 busy;		/* client_process() */
	int			 shut;		/* stopping: SHUT_RD done */
	int			 dirty;		/* on L.dirty */
	int			 kicked;	/* on L.kicks */
};

enum link_state {
	LINK_DOWN,
	LINK_CONNECTING,
	LINK_HELLO,
	LINK_UP,
};

static struct {
	struct event_base	*base;

	/* What we were told. */
	const char		*peer;
	const char		*address;
	const char		*port;
	const char		*host;
	const char		*bind;
	struct sockaddr_storage	 bind_ss;
	socklen_t		 bind_len;
	long long		 timeout_ms;
	long long		 retry_min;
	long long		 retry_max;
	long long		 drain_ms;
	long long		 connect_ms;
	size_t			 max_line;
	int			 max_pending;
	struct queue		*q;

	/* The link. */
	enum link_state		 state;
	int			 fd;		/* connected, or -1 */
	struct event		*rev;		/* always, while fd */
	struct event		*wev;		/* while output is left */
	struct evbuffer		*in;
	struct evbuffer		*out;
	size_t			 scan;		/* in: no newline before */
	int			 writing;	/* wev registered */
	int			 connfd;
	struct event		*conn_ev;
	struct addrinfo		*ai;
	struct addrinfo		*aicur;
	char			 lasterr[256];
	unsigned		 attempt;
	struct event		*retry_ev;
	uint64_t		 last_id;
	struct reqtree		 inflight;
	struct reqlist		 deadlines;	/* same, oldest 1st */
	struct event		*timeout_ev;
	struct req		*replay;
	unsigned		 replay_attempt;
	uint64_t		 replay_seq;	/* broke the link... */
	unsigned		 replay_breaks;	/* ...so many times */
	struct event		*replay_ev;
	int			 link_dirty;	/* output to write */

	/* Writing: once per loop round, after the round's callbacks. */
	struct event		*flush_ev;
	int			 flushing;	/* flush_ev active */
	TAILQ_HEAD(, client)	 dirty;		/* clients with output */
	TAILQ_HEAD(, client)	 kicks;		/* lines wait for room */

	/* Clients. */
	struct event		**listen_ev;
	int			 nlisten;
	struct event		*pause_ev;
	TAILQ_HEAD(, client)	 clients;
	int			 nclients;

	/* Stopping. */
	struct event		*status_ev;
	struct event		*sig_ev[2];
	struct event		*drain_ev;
	struct event		*finish_ev;
	int			 stopping;
	long long		 stop_ms;	/* when it began */
	int			 no_handoff;
	int			 handed_over;
} L = { .fd = -1, .connfd = -1 };

static int
req_cmp(struct req *a, struct req *b)
{
	return a->id < b->id ? -1 : a->id > b->id;
}

RB_GENERATE_STATIC(reqtree, req, ientry, req_cmp)

static void	link_down(const char *);
static void	link_send(struct req *, const char *, size_t);
static void	replay_next(void);
static void	client_process(struct client *);
static void	client_flush(struct client *);
static void	client_stop_close(struct client *);
static void	client_dirty(struct client *);
static void	client_kick(struct client *);
static void	link_dirty(void);
static void	stop_check(void);

/* --- requests ------------------------------------------------------------- */

/* A request; line (malloc'ed, or NULL) is now the request's. */
static struct req *
req_new(struct client *c, enum req_kind kind, char *line, size_t len)
{
	struct req	*r;

	r = xcalloc(1, sizeof(*r));
	r->c = c;
	r->kind = kind;
	r->line = line;
	r->len = len;
	return r;
}

static void
req_free(struct req *r)
{
	free(r->line);
	free(r->reply);
	free(r);
}

/*
 * The answer to a client's request: written out if its turn has come,
 * else held (a copy: text is usually in the link's input buffer) until
 * every earlier request of that client is answered.  The client may be
 * gone (and freed) after this.
 */
static void
req_answer(struct req *r, const char *text, size_t len)
{
	struct client	*c = r->c;

	if (c == NULL) {
		req_free(r);
		return;
	}
	if (TAILQ_FIRST(&c->reqs) == r) {
		TAILQ_REMOVE(&c->reqs, r, centry);
		c->npending--;
		req_free(r);
		evbuffer_add(c->out, text, len);
		evbuffer_add(c->out, "\n", 1);
		client_dirty(c);
	} else {
		r->reply = xmalloc(len + 1);
		memcpy(r->reply, text, len);
		r->reply[len] = '\0';
		r->rlen = len;
		r->answered = 1;
		free(r->line);
		r->line = NULL;
	}
	client_flush(c);
}

static void
req_answer_str(struct req *r, const char *text)
{
	req_answer(r, text, strlen(text));
}

/*
 * A critical request that could not be (or was not) delivered: on disk,
 * then "queued"; "error: queue: ..." when the disk says no.
 */
static void
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

/* --- the durable queue, replayed ------------------------------------------ */

/*
 * A queued request that cannot be delivered as it is: moved out of the
 * way as NAME.bad, for the operator, logged once (it is never read
 * again), so that the requests behind it go on.
 */
static void
replay_set_aside(uint64_t seq, const char *why)
{
	char	 name[QUEUE_NAME_LEN + 1];

	queue_name(seq, name, sizeof(name));
	log_error("queued request %" PRIu64 " for %s: %s: setting it aside "
	    "as %s/%s.bad", seq, L.peer, why, queue_dir(L.q), name);
	if (queue_set_aside(L.q, seq) == -1)
		log_error("cannot set %s/%s aside: %s", queue_dir(L.q), name,
		    strerror(errno));
}

/* Send the oldest queued request, if the link is up and nothing is out. */
static void
replay_next(void)
{
	struct req	*r;
	uint64_t	 seq;
	char		*data, why[128];
	size_t		 len;
	int		 rc;

	if (L.state != LINK_UP || L.replay != NULL || L.stopping ||
	    evtimer_pending(L.replay_ev, NULL))
		return;
	for (;;) {
		/* No longer than a client's line: what the peer accepts. */
		rc = queue_peek(L.q, L.max_line, &seq, &data, &len);
		if (rc == 1)
			return;
		if (rc == 0 && memchr(data, '\n', len) == NULL)
			break;
		if (rc == 0) {
			free(data);
			strlcpy(why, "it holds a newline", sizeof(why));
		} else if (errno == EFBIG)
			(void)snprintf(why, sizeof(why), "longer than "
			    "max_line (%zu bytes)", L.max_line);
		else if (errno == EINVAL)
			strlcpy(why, "not a regular file", sizeof(why));
		else if (errno == ELOOP)
			strlcpy(why, "a symbolic link", sizeof(why));
		else
			(void)snprintf(why, sizeof(why), "cannot read it: %s",
			    strerror(errno));
		replay_set_aside(seq, why);
	}
	r = req_new(NULL, REQ_REPLAY, data, len);
	r->seq = seq;
	L.replay = r;
	link_send(r, r->line, r->len);
}

static void
replay_retry_cb(int fd, short ev, void *arg)
{
	replay_next();
}

/* The peer answered a replayed request. */
static void
replay_done(struct req *r, const char *payload, size_t plen)
{
	char		 ex[LINK_REASON_MAX * 4 + 4], d[32];
	struct timeval	 tv;
	long long	 delay;
	size_t		 n = sizeof(LINK_BACKEND_ERROR) - 1;

	L.replay = NULL;
	L.replay_breaks = 0;
	/*
	 * linkd could not reach its backend: the request did not get
	 * anywhere, so it stays first in line and is tried again later.
	 */
	if (plen >= n && memcmp(payload, LINK_BACKEND_ERROR, n) == 0) {
		delay = linkproto_backoff(L.replay_attempt++, L.retry_min,
		    L.retry_max, arc4random());
		linkproto_excerpt(payload, plen, LINK_REASON_MAX, ex,
		    sizeof(ex));
		linkproto_fmt_delay(delay, d, sizeof(d));
		log_warnx("queued request %" PRIu64 " to %s not delivered: "
		    "\"%s\", retry in %s", r->seq, L.peer, ex, d);
		evtimer_add(L.replay_ev, ms_timeval(delay, &tv));
		req_free(r);
		return;
	}
	L.replay_attempt = 0;
	if (queue_remove(L.q, r->seq) == -1)
		log_error("cannot remove queued request %" PRIu64 " for %s "
		    "from %s: %s (it will be delivered again)", r->seq, L.peer,
		    queue_dir(L.q), strerror(errno));
	log_info("delivered queued request %" PRIu64 " to %s", r->seq,
	    L.peer);
	req_free(r);
	replay_next();
}

/* --- clients ------------------------------------------------------------- */

static void
client_free(struct client *c)
{
	struct req	*r;

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
	if (c->dirty)
		TAILQ_REMOVE(&L.dirty, c, dentry);
	if (c->kicked)
		TAILQ_REMOVE(&L.kicks, c, kentry);
	event_free(c->rev);
	event_free(c->wev);
	evbuffer_free(c->in);
	evbuffer_free(c->out);
	close(c->fd);
	free(c);
	stop_check();
}

/* Close a client that is done once its last reply is out. */
static void
client_maybe_close(struct client *c)
{
	struct timeval	 tv;

	if (c->busy > 0 || c->lingering)
		return;
	/* Stopping: every client goes once it has all its replies. */
	if (L.stopping) {
		if (TAILQ_EMPTY(&c->reqs) && evbuffer_get_length(c->out) == 0)
			client_stop_close(c);
		return;
	}
	if (!(c->eof || c->closing) || !TAILQ_EMPTY(&c->reqs))
		return;
	if (evbuffer_get_length(c->out) > 0)
		return;		/* client_write comes back */
	if (c->eof) {
		client_free(c);
		return;
	}
	/*
	 * We stop reading a client we throw out, so unread bytes may be
	 * left: closing now would send a reset that can destroy our last
	 * reply.  Say end-of-file instead and read to its end-of-file, for
	 * LINK_LINGER_MS at most (client_read_cb).
	 */
	c->lingering = 1;
	c->linger_end = now_ms() + LINK_LINGER_MS;
	(void)shutdown(c->fd, SHUT_WR);
	c->reading = 1;
	event_add(c->rev, ms_timeval(LINK_LINGER_MS, &tv));
}

/*
 * Read from a client only while it has room for more requests and reads
 * its replies; a flooding client is simply not read (its kernel buffer
 * fills and it blocks), so it cannot make us grow without bound.
 */
static void
client_update_read(struct client *c)
{
	if (c->lingering)
		return;
	if (c->eof || c->closing || c->npending >= L.max_pending ||
	    evbuffer_get_length(c->out) >= LINK_CLIENT_OUT_MAX) {
		lineio_interest(c->rev, &c->reading, 0);
		return;
	}
	if (c->reading)
		return;
	lineio_interest(c->rev, &c->reading, 1);
	/* Lines already read will not wake us: come back from the loop. */
	if (evbuffer_get_length(c->in) > 0)
		client_kick(c);
}

/* Write out the answered requests at the head of the client's FIFO. */
static void
client_flush(struct client *c)
{
	struct req	*r;

	while ((r = TAILQ_FIRST(&c->reqs)) != NULL && r->answered) {
		TAILQ_REMOVE(&c->reqs, r, centry);
		c->npending--;
		evbuffer_add(c->out, r->reply, r->rlen);
		evbuffer_add(c->out, "\n", 1);
		req_free(r);
		client_dirty(c);
	}
	/*
	 * At end-of-file nothing more will be read to wake us, but lines
	 * already buffered may have waited for room (max_pending): go on
	 * with them, or they would be dropped unanswered.
	 */
	if (c->eof && !c->closing && c->busy == 0 &&
	    evbuffer_get_length(c->in) > 0) {
		client_process(c);
		return;
	}
	client_update_read(c);
	client_maybe_close(c);
}

/*
 * A request: line is in the client's input buffer, which the caller
 * drains afterwards.  An ordinary request is written to the link from
 * there; a critical one is kept, as it may have to be queued later.
 */
static void
client_request(struct client *c, const char *line, size_t len)
{
	struct req	*r;

	r = req_new(c, linkproto_is_critical(line, len) ? REQ_CRITICAL :
	    REQ_ORDINARY, NULL, 0);
	TAILQ_INSERT_TAIL(&c->reqs, r, centry);
	c->npending++;
	if (r->kind == REQ_CRITICAL) {
		r->line = xmalloc(len + 1);
		memcpy(r->line, line, len);
		r->line[len] = '\0';
		r->len = len;
	}
	/*
	 * Behind queued ones, a critical request must queue too: order.
	 * Stopping, the clients' reading sides are shut at once (client_stop),
	 * so what still comes here was sent before the stop: it goes on the
	 * link like any request, and the link is handed over once those are
	 * answered.  Only once it is handed over is it con_lost.
	 */
	if (r->kind == REQ_CRITICAL && (L.state != LINK_UP || L.handed_over ||
	    queue_count(L.q) > 0)) {
		req_enqueue(r);
		return;
	}
	if (L.state != LINK_UP || L.handed_over) {
		req_answer_str(r, "con_lost");
		return;
	}
	link_send(r, line, len);
}

/* A line longer than max_line: answer in turn, then close the client. */
static void
client_too_long(struct client *c)
{
	struct req	*r;

	log_warnx("a client of the link to %s sent a line longer than %zu "
	    "bytes: closing it", L.peer, L.max_line);
	c->closing = 1;
	evbuffer_drain(c->in, evbuffer_get_length(c->in));
	c->scan = 0;
	r = req_new(c, REQ_LOCAL, NULL, 0);
	TAILQ_INSERT_TAIL(&c->reqs, r, centry);
	c->npending++;
	req_answer_str(r, "error: line too long");
}

/*
 * Turn complete lines into requests while the client has room.  In the
 * loop nothing reads, drains or frees the client (busy holds client_flush
 * and client_maybe_close back), so a line stays where it is in the input
 * buffer until we drain it; the client may be gone afterwards.
 */
static void
client_process(struct client *c)
{
	const char	*line;
	size_t		 len, eol, avail;

	c->busy++;
	while (!c->closing && c->npending < L.max_pending) {
		if ((line = lineio_line(c->in, &c->scan, &len)) != NULL) {
			if (len > L.max_line) {
				client_too_long(c);
				break;
			}
			eol = 1;
		} else {
			avail = evbuffer_get_length(c->in);
			if (avail > L.max_line) {
				client_too_long(c);
				break;
			}
			/* At end-of-file, an unterminated last line counts. */
			if (!c->eof || avail == 0)
				break;
			line = (const char *)evbuffer_pullup(c->in,
			    (ssize_t)avail);
			len = avail;
			eol = 0;
		}
		client_request(c, line, len);
		evbuffer_drain(c->in, len + eol);
		c->scan = 0;
	}
	c->busy--;
	client_update_read(c);
	client_maybe_close(c);
}

/*
 * One read(2), then the lines it completed.  A client thrown out is read
 * only to its end-of-file, and not listened to: that has a deadline (the
 * read event's timeout, set again after every read to what is left).
 */
static void
client_read_cb(int fd, short what, void *arg)
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
	n = lineio_read(fd, c->in, LINEIO_READ);
	again = n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK);
	if (c->lingering) {
		evbuffer_drain(c->in, evbuffer_get_length(c->in));
		left = c->linger_end - now_ms();
		if ((n <= 0 && !again) || left <= 0)
			client_free(c);
		else
			event_add(c->rev, ms_timeval(left, &tv));
		return;
	}
	if (again)
		return;
	if (n == -1) {
		client_free(c);
		return;
	}
	/* A half-close still gets its replies. */
	if (n == 0)
		c->eof = 1;
	client_process(c);
}

/*
 * What client_write left is out: no more write interest until a write
 * leaves something again; read again, or close a client that is done.
 */
static void
client_write_cb(int fd, short what, void *arg)
{
	struct client	*c = arg;

	if (lineio_write(fd, c->out) == -1) {
		client_free(c);
		return;
	}
	if (evbuffer_get_length(c->out) > 0)
		return;
	event_del(c->wev);
	c->writing = 0;
	client_update_read(c);
	client_maybe_close(c);
}

/*
 * Stopping, and the client has all its replies: close it, never with a
 * request unanswered and never with a reset.  Shutting down our reading
 * side first makes the client's next write fail (EPIPE: on Linux a unix
 * stream socket passes the shutdown on to its peer), so what it sent is
 * then all in its socket buffer, and we read it all now (the buffer
 * bounds it; LINK_STOP_READS guards against surprises): each complete
 * line is served (sent on the link before it is handed over), an
 * unterminated last one answered, and once those answers are written
 * (client_write comes back here) we close with nothing left unread,
 * which the client sees as an end-of-file after its replies.
 */
static void
client_stop_close(struct client *c)
{
	ssize_t	 n;
	int	 i;

	if (!c->shut) {
		(void)shutdown(c->fd, SHUT_RD);
		c->shut = 1;
	}
	c->busy++;
	for (i = 0; i < LINK_STOP_READS && !c->eof; i++) {
		if ((n = lineio_read(c->fd, c->in, LINEIO_READ)) == -1)
			break;		/* a broken client */
		if (n == 0)
			c->eof = 1;
		if (c->closing || c->lingering) {
			/* Thrown out: what it says is not answered. */
			evbuffer_drain(c->in, evbuffer_get_length(c->in));
			c->scan = 0;
		} else
			client_process(c);
	}
	c->busy--;
	if (!TAILQ_EMPTY(&c->reqs) || evbuffer_get_length(c->out) > 0)
		return;
	client_free(c);
}

/*
 * The drain time is over: one last try at writing the client's replies,
 * without waiting, then close it.  Reading it to the end first spares it
 * a reset, which could destroy the replies it has not read yet.
 */
static void
client_drop(struct client *c)
{
	int	 i;

	(void)lineio_write(c->fd, c->out);
	(void)shutdown(c->fd, SHUT_RD);
	for (i = 0; i < LINK_STOP_READS; i++) {
		if (lineio_read(c->fd, c->in, LINEIO_READ) <= 0)
			break;
		evbuffer_drain(c->in, evbuffer_get_length(c->in));
	}
	client_free(c);
}

/*
 * The stop began: shut the client's reading side now, so that it can add
 * nothing more; what it sent already is read and served, and it is closed
 * after its last reply (client_stop_close comes back for that).
 */
static void
client_stop(struct client *c)
{
	client_stop_close(c);
}

static void
client_new(int fd)
{
	struct client	*c;

	c = xcalloc(1, sizeof(*c));
	TAILQ_INIT(&c->reqs);
	c->fd = fd;
	if ((c->in = evbuffer_new()) == NULL ||
	    (c->out = evbuffer_new()) == NULL ||
	    (c->rev = event_new(L.base, fd, EV_READ | EV_PERSIST,
	    client_read_cb, c)) == NULL ||
	    (c->wev = event_new(L.base, fd, EV_WRITE | EV_PERSIST,
	    client_write_cb, c)) == NULL)
		fatalx("cannot create events");
	TAILQ_INSERT_TAIL(&L.clients, c, entry);
	L.nclients++;
	/* Write interest only while a write is unfinished (client_write). */
	lineio_interest(c->rev, &c->reading, 1);
}

static void
listen_enable(int on)
{
	int	 i;

	for (i = 0; i < L.nlisten; i++) {
		if (on)
			event_add(L.listen_ev[i], NULL);
		else
			event_del(L.listen_ev[i]);
	}
}

static void
listen_pause_cb(int fd, short ev, void *arg)
{
	if (!L.stopping)
		listen_enable(1);
}

static void
client_accept_cb(int lfd, short ev, void *arg)
{
	struct timeval	 tv;
	int		 fd, i;

	for (i = 0; i < LINK_ACCEPT_BURST; i++) {
		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd != -1) {
			client_new(fd);
			continue;
		}
		switch (errno) {
		case EINTR:
			continue;
		case EAGAIN:
#if EWOULDBLOCK != EAGAIN
		case EWOULDBLOCK:
#endif
		case ECONNABORTED:
		case EPROTO:
			return;
		case EMFILE:
		case ENFILE:
		case ENOBUFS:
		case ENOMEM:
			/* Out of fds: wait instead of spinning on accept. */
			log_warn("accept on the link to %s (pausing 1s)",
			    L.peer);
			listen_enable(0);
			evtimer_add(L.pause_ev, ms_timeval(LINK_ACCEPT_PAUSE_MS,
			    &tv));
			return;
		default:
			log_warn("accept on the link to %s", L.peer);
			return;
		}
	}
}

/* --- writing, once per loop round ------------------------------------- */

/* Write what this round produced once every callback of it has run. */
static void
flush_soon(void)
{
	if (L.flushing)
		return;
	L.flushing = 1;
	event_active(L.flush_ev, EV_TIMEOUT, 1);
}

static void
link_dirty(void)
{
	L.link_dirty = 1;
	flush_soon();
}

static void
client_dirty(struct client *c)
{
	if (c->dirty)
		return;
	c->dirty = 1;
	TAILQ_INSERT_TAIL(&L.dirty, c, dentry);
	flush_soon();
}

/*
 * The client has room again and lines in its buffer, which no read will
 * announce: take them up at the end of the round (flush_cb), not here,
 * where we may be deep in answering requests.
 */
static void
client_kick(struct client *c)
{
	if (c->kicked)
		return;
	c->kicked = 1;
	TAILQ_INSERT_TAIL(&L.kicks, c, kentry);
	flush_soon();
}

/*
 * The link's output, written at once; only what the socket did not take
 * waits for write interest (link_write_cb).  Never once handed over.
 */
static void
link_write(void)
{
	char	 e[128];

	L.link_dirty = 0;
	if (L.fd == -1 || L.handed_over || L.writing ||
	    evbuffer_get_length(L.out) == 0)
		return;
	if (lineio_write(L.fd, L.out) == -1) {
		linkproto_errstr(errno, e, sizeof(e));
		link_down(e);
		return;
	}
	if (evbuffer_get_length(L.out) > 0) {
		L.writing = 1;
		event_add(L.wev, NULL);
	}
}

static void
link_write_cb(int fd, short what, void *arg)
{
	char	 e[128];

	if (lineio_write(fd, L.out) == -1) {
		linkproto_errstr(errno, e, sizeof(e));
		link_down(e);
		return;
	}
	if (evbuffer_get_length(L.out) > 0)
		return;
	event_del(L.wev);
	L.writing = 0;
}

/*
 * A client's replies, written at once.  A broken client goes; what the
 * socket did not take waits for write interest (client_write_cb); all
 * out, do what that callback does.
 */
static void
client_write(struct client *c)
{
	if (c->writing || evbuffer_get_length(c->out) == 0)
		return;
	if (lineio_write(c->fd, c->out) == -1) {
		client_free(c);
		return;
	}
	if (evbuffer_get_length(c->out) > 0) {
		c->writing = 1;
		event_add(c->wev, NULL);
		return;
	}
	client_update_read(c);
	client_maybe_close(c);
}

/*
 * The end of a loop round: first the lines that waited for room (they
 * make requests), then the link (requests on their way sooner), then the
 * clients.  What this produces (a broken link fails its requests; a
 * client with room again is taken up; a stopping client closes or sends
 * more) is dealt with in this same pass; it ends, as every pass over a
 * kicked client's buffer consumes lines or leaves it unread.
 */
static void
flush_cb(int fd, short ev, void *arg)
{
	struct client	*c;

	for (;;) {
		if ((c = TAILQ_FIRST(&L.kicks)) != NULL) {
			TAILQ_REMOVE(&L.kicks, c, kentry);
			c->kicked = 0;
			client_process(c);
		} else if (L.link_dirty)
			link_write();
		else if ((c = TAILQ_FIRST(&L.dirty)) != NULL) {
			TAILQ_REMOVE(&L.dirty, c, dentry);
			c->dirty = 0;
			client_write(c);
		} else
			break;
	}
	L.flushing = 0;
}

/* --- the link ------------------------------------------------------------- */

/*
 * In flight: by id for the replies, and by deadline for the timer.  Every
 * deadline is now + timeout, so appending keeps the list sorted.
 */
static void
inflight_add(struct req *r)
{
	RB_INSERT(reqtree, &L.inflight, r);
	TAILQ_INSERT_TAIL(&L.deadlines, r, dentry);
}

static void
inflight_remove(struct req *r)
{
	RB_REMOVE(reqtree, &L.inflight, r);
	TAILQ_REMOVE(&L.deadlines, r, dentry);
}

static void
link_timer_arm(void)
{
	struct timeval	 tv;
	struct req	*r;
	long long	 left;

	if ((r = TAILQ_FIRST(&L.deadlines)) == NULL)
		return;
	left = r->deadline - now_ms();
	evtimer_add(L.timeout_ev, ms_timeval(left < 0 ? 0 : left, &tv));
}

/*
 * r goes on the link, its payload line (which only critical and replayed
 * requests keep, as they may have to be sent again).
 */
static void
link_send(struct req *r, const char *line, size_t len)
{
	char		 hdr[LINKPROTO_HDR_MAX + 1];
	size_t		 n;

	r->id = ++L.last_id;
	n = linkproto_format_hdr(hdr, sizeof(hdr), r->id);
	evbuffer_add(L.out, hdr, n);
	evbuffer_add(L.out, line, len);
	evbuffer_add(L.out, "\n", 1);
	link_dirty();
	r->deadline = now_ms() + L.timeout_ms;
	inflight_add(r);
	/* Every deadline is later than those already waiting. */
	if (!evtimer_pending(L.timeout_ev, NULL))
		link_timer_arm();
}

/* A request that will not get its reply over this link. */
static void
link_fail(struct req *r)
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

/* Everything in flight, in id order (so the queue keeps that order). */
static void
link_fail_all(void)
{
	struct req	*r;

	while ((r = RB_MIN(reqtree, &L.inflight)) != NULL) {
		inflight_remove(r);
		link_fail(r);
	}
	evtimer_del(L.timeout_ev);
}

static void
link_timeout_cb(int fd, short ev, void *arg)
{
	struct req	*r;
	long long	 now = now_ms();
	char		 d[32];
	int		 n = 0;

	linkproto_fmt_delay(L.timeout_ms, d, sizeof(d));
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
		link_fail(r);
	}
	link_timer_arm();
	stop_check();
}

static void
link_protocol_error(const char *what, const char *line, size_t len)
{
	char	 ex[LINKPROTO_EXCERPT * 4 + 4];

	linkproto_excerpt(line, len, LINKPROTO_EXCERPT, ex, sizeof(ex));
	log_warnx("protocol error on the link to %s: %s: \"%s\"", L.peer,
	    what, ex);
	link_down("protocol error");
}

static void
link_up(int took_over)
{
	L.state = LINK_UP;
	L.attempt = 0;
	event_remove_timer(L.rev);
	if (took_over)
		log_info("took over the link to %s", L.peer);
	else
		log_info("link to %s up", L.peer);
	service_status("up");
	replay_next();
}

/* A reply from the peer. */
static void
link_reply(uint64_t id, const char *payload, size_t plen)
{
	struct req	 key, *r;

	key.id = id;
	if ((r = RB_FIND(reqtree, &L.inflight, &key)) == NULL) {
		if (id > L.last_id) {
			link_protocol_error("reply to a request never sent",
			    payload, plen);
			return;
		}
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

/* One line from the peer; the link may be gone afterwards. */
static void
link_line(const char *line, size_t len)
{
	char		 text[LINKPROTO_NAME_MAX + 1], reason[300];
	char		 ex[256];	/* cut: fits reason */
	const char	*payload, *why;
	size_t		 plen;
	uint64_t	 id;

	if (L.state == LINK_HELLO) {
		switch (linkproto_parse_answer(line, len, text,
		    sizeof(text))) {
		case LINKPROTO_OK:
			/*
			 * Another linkd than the peer's (a wrong address or
			 * port, or its host_name): its requests are not
			 * meant for it.  The name is checked: no escaping.
			 */
			if (strcmp(text, L.peer) != 0) {
				log_warnx("the linkd at %s port %s names "
				    "itself \"%s\", not \"%s\": refusing the "
				    "link", L.address, L.port, text, L.peer);
				(void)snprintf(reason, sizeof(reason),
				    "peer names itself \"%s\"", text);
				link_down(reason);
				return;
			}
			link_up(0);
			return;
		case LINKPROTO_ERR:
			/* The peer's words, for the log and status: escaped. */
			(void)log_escape(text, strlen(text), sizeof(text),
			    ex, sizeof(ex));
			(void)snprintf(reason, sizeof(reason),
			    "hello refused: %s", ex);
			link_down(reason);
			return;
		default:
			link_protocol_error("bad answer to hello", line, len);
			return;
		}
	}
	if (linkproto_parse_msg(line, len, &id, &payload, &plen, &why) == -1) {
		link_protocol_error(why, line, len);
		return;
	}
	link_reply(id, payload, plen);
}

/*
 * One read(2), then the lines it completed.  While the hello is out, the
 * read event has connect_timeout as its timeout, which libevent sets
 * again at each read.
 */
static void
link_read_cb(int fd, short what, void *arg)
{
	const char	*line;
	size_t		 len, max;
	ssize_t		 n;
	char		 e[128];

	if (what & EV_TIMEOUT) {
		link_down(L.state == LINK_HELLO ? "no answer to hello" :
		    "timed out");
		return;
	}
	if ((n = lineio_read(fd, L.in, LINEIO_READ)) == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return;
		linkproto_errstr(errno, e, sizeof(e));
		link_down(e);
		return;
	}
	max = L.max_line + LINKPROTO_HDR_MAX;
	while ((line = lineio_line(L.in, &L.scan, &len)) != NULL) {
		if (len > max) {
			link_protocol_error("line too long", line, len);
			return;
		}
		link_line(line, len);
		/* Gone (link_down), the link's buffers are emptied. */
		if (L.fd != fd)
			return;
		evbuffer_drain(L.in, len + 1);
		L.scan = 0;
	}
	if (L.scan > max) {
		len = evbuffer_get_length(L.in);
		if (len > LINKPROTO_EXCERPT)
			len = LINKPROTO_EXCERPT;
		link_protocol_error("line too long",
		    (const char *)evbuffer_pullup(L.in, (ssize_t)len), len);
		return;
	}
	if (n == 0)
		link_down("connection closed by peer");
}

/* A connected socket: say hello, or (handed over) it is up already. */
static void
link_established(int fd, int greeted)
{
	struct timeval	 tv;

	if (L.ai != NULL) {
		freeaddrinfo(L.ai);
		L.ai = L.aicur = NULL;
	}
	linkproto_sockopts(fd);
	L.fd = fd;
	if ((L.rev = event_new(L.base, fd, EV_READ | EV_PERSIST,
	    link_read_cb, NULL)) == NULL ||
	    (L.wev = event_new(L.base, fd, EV_WRITE | EV_PERSIST,
	    link_write_cb, NULL)) == NULL)
		fatalx("cannot create events");
	/* Write interest only while a write is unfinished (link_write). */
	if (greeted) {
		event_add(L.rev, NULL);
		link_up(1);
		return;
	}
	L.state = LINK_HELLO;
	event_add(L.rev, ms_timeval(L.connect_ms, &tv));
	evbuffer_add_printf(L.out, "HELLO %d %s\n", LINKPROTO_VERSION,
	    L.host);
	link_dirty();
}

static void	link_connect_next(void);

static void
link_connect_cb(int fd, short what, void *arg)
{
	socklen_t	 sl = sizeof(int);
	int		 e = 0;

	event_free(L.conn_ev);
	L.conn_ev = NULL;
	L.connfd = -1;
	if (what & EV_TIMEOUT)
		e = ETIMEDOUT;
	else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &sl) == -1)
		e = errno;
	if (e == 0) {
		link_established(fd, 0);
		return;
	}
	linkproto_errstr(e, L.lasterr, sizeof(L.lasterr));
	close(fd);
	L.aicur = L.aicur->ai_next;
	link_connect_next();
}

/* Try the peer's addresses in turn; the last error is the one reported. */
static void
link_connect_next(void)
{
	struct timeval	 tv;
	struct addrinfo	*ai;
	char		 e[128];
	int		 fd;

	for (; (ai = L.aicur) != NULL; L.aicur = ai->ai_next) {
		if (L.bind != NULL && L.bind_ss.ss_family != ai->ai_family) {
			(void)snprintf(L.lasterr, sizeof(L.lasterr),
			    "no address of the family of bind=%s", L.bind);
			continue;
		}
		if ((fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, ai->ai_protocol)) == -1) {
			linkproto_errstr(errno, L.lasterr, sizeof(L.lasterr));
			continue;
		}
		if (L.bind != NULL && bind(fd, (struct sockaddr *)&L.bind_ss,
		    L.bind_len) == -1) {
			linkproto_errstr(errno, e, sizeof(e));
			(void)snprintf(L.lasterr, sizeof(L.lasterr),
			    "bind %s: %s", L.bind, e);
			close(fd);
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
			link_established(fd, 0);
			return;
		}
		if (errno == EINPROGRESS) {
			L.connfd = fd;
			if ((L.conn_ev = event_new(L.base, fd, EV_WRITE,
			    link_connect_cb, NULL)) == NULL)
				fatalx("event_new failed");
			event_add(L.conn_ev, ms_timeval(L.connect_ms, &tv));
			return;
		}
		linkproto_errstr(errno, L.lasterr, sizeof(L.lasterr));
		close(fd);
	}
	link_down(L.lasterr);
}

static void
link_connect(void)
{
	struct addrinfo	 hints;
	int		 gai;

	if (L.stopping || L.state != LINK_DOWN)
		return;
	L.state = LINK_CONNECTING;
	service_status("connecting");
	log_debug("connecting to %s at %s port %s", L.peer, L.address,
	    L.port);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	/*
	 * Resolved at every attempt so that a changed address is followed.
	 * getaddrinfo() blocks: use an address, or a name /etc/hosts knows.
	 */
	if ((gai = getaddrinfo(L.address, L.port, &hints, &L.ai)) != 0) {
		L.ai = NULL;
		(void)snprintf(L.lasterr, sizeof(L.lasterr), "cannot resolve "
		    "%s: %s", L.address, gai == EAI_SYSTEM ? strerror(errno) :
		    gai_strerror(gai));
		link_down(L.lasterr);
		return;
	}
	L.aicur = L.ai;
	strlcpy(L.lasterr, "no usable address", sizeof(L.lasterr));
	link_connect_next();
}

static void
link_retry_cb(int fd, short ev, void *arg)
{
	link_connect();
}

/* The link is gone (or never came): fail what was on it, dial later. */
static void
link_down(const char *why)
{
	struct timeval	 tv;
	char		 reason[300], d[32], why2[128];
	long long	 delay;

	/* why may point into a buffer we reuse below. */
	strlcpy(reason, why, sizeof(reason));
	if (L.conn_ev != NULL) {
		event_free(L.conn_ev);
		L.conn_ev = NULL;
		close(L.connfd);
		L.connfd = -1;
	}
	if (L.ai != NULL) {
		freeaddrinfo(L.ai);
		L.ai = L.aicur = NULL;
	}
	if (L.fd != -1) {
		event_free(L.rev);
		event_free(L.wev);
		L.rev = L.wev = NULL;
		close(L.fd);
		L.fd = -1;
		L.writing = 0;
		evbuffer_drain(L.in, evbuffer_get_length(L.in));
		evbuffer_drain(L.out, evbuffer_get_length(L.out));
		L.scan = 0;
	}
	/*
	 * The link broke with a replayed request on it: again and again,
	 * and the peer refuses that request (too long for its max_line, as
	 * a file dropped in the queue can be): set it aside, or the link
	 * would go down for ever, failing every client's requests with it.
	 */
	if (L.replay != NULL && L.state == LINK_UP && !L.stopping) {
		if (L.replay_seq != L.replay->seq) {
			L.replay_seq = L.replay->seq;
			L.replay_breaks = 0;
		}
		if (++L.replay_breaks >= LINK_REPLAY_BREAKS) {
			(void)snprintf(why2, sizeof(why2), "the link broke "
			    "%u times in a row while it was on its way",
			    L.replay_breaks);
			replay_set_aside(L.replay_seq, why2);
			L.replay_breaks = 0;
		}
	}
	L.state = LINK_DOWN;
	link_fail_all();
	if (L.stopping) {
		log_info("link to %s down: %s", L.peer, reason);
		service_status("down: %s", reason);
		stop_check();
		return;
	}
	delay = linkproto_backoff(L.attempt++, L.retry_min, L.retry_max,
	    arc4random());
	linkproto_fmt_delay(delay, d, sizeof(d));
	log_info("link to %s down: %s, retry in %s", L.peer, reason, d);
	service_status("down: %s, retry in %s", reason, d);
	evtimer_add(L.retry_ev, ms_timeval(delay, &tv));
}

/* --- stopping and handing over ------------------------------------------- */

/*
 * Give the connected link to the master for the next generation: one
 * HANDOFF packet with the socket attached.  Only when nothing is in
 * flight and nothing is buffered either way, so the next one starts
 * clean.  We do not know whether a next generation will come (the master
 * may be stopping, the peer gone from the configuration): the master
 * does, and closes the link if not.
 */
static void
link_handoff(void)
{
	int	 fd;

	if (L.handed_over || L.state != LINK_UP || L.no_handoff ||
	    service_status_fd() == -1 || !RB_EMPTY(&L.inflight) ||
	    evbuffer_get_length(L.in) > 0 || evbuffer_get_length(L.out) > 0)
		return;
	fd = L.fd;
	if (fdpass_send(service_status_fd(), fd, LINK_HANDOFF,
	    sizeof(LINK_HANDOFF) - 1) == -1) {
		log_warn("cannot hand the link to %s over", L.peer);
		L.no_handoff = 1;
		return;
	}
	L.handed_over = 1;
	/*
	 * It is the master's now: no more reading or writing here (what
	 * the peer sends next is for the next generation), and no graceful
	 * close either; our copy of the fd goes at exit.
	 */
	event_del(L.rev);
	event_del(L.wev);
	L.writing = 0;
	log_info("handing the link to %s over to the master", L.peer);
}

/* Done: exit without closing the link gracefully (the master has it). */
static __dead void
link_finish(void)
{
	link_handoff();
	exit(0);
}

/* Stopping: come back from the loop to see whether we are done. */
static void
stop_check(void)
{
	if (L.stopping && RB_EMPTY(&L.inflight))
		event_active(L.finish_ev, EV_TIMEOUT, 1);
}

/*
 * Nothing in flight: the link goes to the master at once (clients do not
 * hold it back), and we exit once the last client is closed.
 */
static void
finish_cb(int fd, short ev, void *arg)
{
	if (!L.stopping || !RB_EMPTY(&L.inflight))
		return;
	link_handoff();
	if (TAILQ_EMPTY(&L.clients))
		link_finish();
}

/*
 * Drain time is over: requests still in flight are failed ("con_lost",
 * critical ones queued) and the link, where their replies could still
 * come in, is not handed over; every client gets one last try at
 * writing its replies, without waiting, and is closed.
 */
static void
drain_cb(int fd, short ev, void *arg)
{
	struct client	*c;
	struct req	*r;
	char		 d[32];
	int		 n = 0;

	RB_FOREACH(r, reqtree, &L.inflight)
		n++;
	/* A second SIGTERM cuts the drain time short. */
	linkproto_fmt_delay(now_ms() - L.stop_ms < L.drain_ms ?
	    now_ms() - L.stop_ms : L.drain_ms, d, sizeof(d));
	if (n > 0) {
		log_warnx("stopping the link to %s with %d request%s still in "
		    "flight after %s: not handing it over", L.peer, n,
		    n == 1 ? "" : "s", d);
		L.no_handoff = 1;
		link_fail_all();
	} else if (L.nclients > 0)
		log_info("stopping the link to %s: closing %d client%s that "
		    "did not read %s replies within %s", L.peer, L.nclients,
		    L.nclients == 1 ? "" : "s", L.nclients == 1 ? "its" :
		    "their", d);
	while ((c = TAILQ_FIRST(&L.clients)) != NULL)
		client_drop(c);
	link_finish();
}

static void
stop_begin(const char *why)
{
	struct timeval	 tv;
	struct client	*c, *next;

	if (L.stopping)
		return;
	L.stopping = 1;
	L.stop_ms = now_ms();
	log_debug("%s: stopping the link to %s", why, L.peer);
	listen_enable(0);
	evtimer_del(L.pause_ev);
	evtimer_del(L.replay_ev);
	if (L.state == LINK_DOWN)
		evtimer_del(L.retry_ev);
	evtimer_add(L.drain_ev, ms_timeval(L.drain_ms, &tv));
	TAILQ_FOREACH_SAFE(c, &L.clients, entry, next)
		client_stop(c);
	stop_check();
}

static void
status_cb(int fd, short ev, void *arg)
{
	if (service_stopping()) {
		event_del(L.status_ev);
		stop_begin("end-of-file on the status channel");
	}
}

static void
signal_cb(int sig, short ev, void *arg)
{
	if (!L.stopping) {
		stop_begin(sig == SIGTERM ? "SIGTERM" : "SIGINT");
		return;
	}
	/* Asked twice: do not wait for the drain time. */
	event_active(L.drain_ev, EV_TIMEOUT, 1);
}

/* --- start-up ---------------------------------------------------------- */

static const char *
link_need(const char *opt, const char *env, const char *what)
{
	const char	*v;

	if ((v = service_option_env(opt, env)) == NULL)
		fatalx("no %s: %s is not set and there is no -o %s=...", what,
		    env, opt);
	return v;
}

static void
link_options(void)
{
	static char	 hostbuf[LINKPROTO_NAME_MAX + 1];
	struct addrinfo	 hints, *res;
	long long	 port;
	const char	*dir;
	char		*qdir, err[512];
	int		 gai;

	L.peer = link_need("peer_name", "PEER_NAME", "peer name");
	L.address = link_need("peer_address", "PEER_ADDRESS", "peer address");
	L.port = link_need("peer_port", "PEER_PORT", "peer port");
	dir = link_need("state_dir", "MASTER_STATE_DIR", "state directory");
	if (!linkproto_name_ok(L.peer, strlen(L.peer)))
		fatalx("bad peer name \"%s\": use letters, digits, \".\", "
		    "\"_\" and \"-\"", L.peer);
	if (parse_num(L.port, 1, 65535, &port) == -1)
		fatalx("bad peer port \"%s\": expected 1 to 65535", L.port);
	if (*dir != '/')
		fatalx("bad state directory \"%s\": not an absolute path", dir);
	if ((L.host = service_option_env("host_name",
	    "MASTER_HOST_NAME")) == NULL) {
		if (gethostname(hostbuf, sizeof(hostbuf)) == -1)
			fatal("gethostname");
		hostbuf[sizeof(hostbuf) - 1] = '\0';
		L.host = hostbuf;
	}
	if (!linkproto_name_ok(L.host, strlen(L.host)))
		fatalx("bad host name \"%s\" for the hello: use letters, "
		    "digits, \".\", \"_\" and \"-\"", L.host);

	L.timeout_ms = service_option_time("timeout", 300 * 1000, 1,
	    LINKPROTO_TIME_MAX);
	L.retry_min = service_option_time("retry_min", 1000, 1,
	    LINKPROTO_TIME_MAX);
	L.retry_max = service_option_time("retry_max", 60 * 1000, 1,
	    LINKPROTO_TIME_MAX);
	if (L.retry_max < L.retry_min)
		fatalx("retry_max is less than retry_min");
	L.drain_ms = service_option_time("drain", 5 * 1000, 0,
	    LINKPROTO_TIME_MAX);
	L.connect_ms = service_option_time("connect_timeout", 10 * 1000, 1,
	    LINKPROTO_TIME_MAX);
	L.max_line = (size_t)service_option_num("max_line", 65536, 1,
	    64 * 1024 * 1024);
	L.max_pending = (int)service_option_num("max_pending", 64, 1, 100000);

	if ((L.bind = service_option("bind")) != NULL) {
		memset(&hints, 0, sizeof(hints));
		hints.ai_family = AF_UNSPEC;
		hints.ai_socktype = SOCK_STREAM;
		hints.ai_flags = AI_PASSIVE;
		if ((gai = getaddrinfo(L.bind, NULL, &hints, &res)) != 0)
			fatalx("bad option \"-o bind=%s\": %s", L.bind,
			    gai == EAI_SYSTEM ? strerror(errno) :
			    gai_strerror(gai));
		memcpy(&L.bind_ss, res->ai_addr, res->ai_addrlen);
		L.bind_len = res->ai_addrlen;
		freeaddrinfo(res);
	}

	xasprintf(&qdir, "%s/link/%s/queue", dir, L.peer);
	if ((L.q = queue_open(qdir, err, sizeof(err))) == NULL)
		fatalx("%s", err);
	free(qdir);
	if (queue_count(L.q) > 0)
		log_info("%zu queued request%s for %s", queue_count(L.q),
		    queue_count(L.q) == 1 ? "" : "s", L.peer);
}

/* A socket handed over to us must be a connected stream socket. */
static int
link_is_connected(int fd)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sl;
	int			 type;

	sl = sizeof(type);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &sl) == -1 ||
	    type != SOCK_STREAM)
		return 0;
	sl = sizeof(ss);
	return getpeername(fd, (struct sockaddr *)&ss, &sl) == 0;
}

/*
 * Sort our fds: listen sockets, and the link handed over by the previous
 * generation (the fd named "handoff" in LISTEN_FDNAMES).  Returns that
 * one, or -1.
 */
static int
link_fds(void)
{
	const char	*name;
	int		 i, fd, handoff = -1;

	L.listen_ev = xcalloc(service_nlisten() + 1, sizeof(*L.listen_ev));
	for (i = 0; i < service_nlisten(); i++) {
		fd = service_listen_fd(i);
		/* The service library read LISTEN_FDNAMES (NULL: no name). */
		name = service_listen_name(i);
		if (name != NULL && strcmp(name, "handoff") == 0) {
			if (handoff == -1 && link_is_connected(fd))
				handoff = fd;
			else {
				log_warnx("handed-over fd %d is not a "
				    "connected stream socket: ignoring it", fd);
				close(fd);
			}
		} else {
			if ((L.listen_ev[L.nlisten] = event_new(L.base, fd,
			    EV_READ | EV_PERSIST, client_accept_cb,
			    NULL)) == NULL)
				fatalx("event_new failed");
			L.nlisten++;
		}
	}
	if (L.nlisten == 0)
		fatalx("no listen socket for the clients of the link to %s",
		    L.peer);
	return handoff;
}

int
main(int argc, char *argv[])
{
	struct timespec	 ts;
	int		 handoff, i;

	service_init(argc, argv, "link");
	if (service_argc() != 0)
		fatalx("unexpected argument \"%s\"; usage: link [-v] "
		    "[-o name=value] ...", service_argv()[0]);
	link_options();

	if ((L.base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	RB_INIT(&L.inflight);
	TAILQ_INIT(&L.deadlines);
	TAILQ_INIT(&L.clients);
	TAILQ_INIT(&L.dirty);
	TAILQ_INIT(&L.kicks);
	if ((L.in = evbuffer_new()) == NULL ||
	    (L.out = evbuffer_new()) == NULL)
		fatalx("evbuffer_new failed");
	handoff = link_fds();
	if ((L.retry_ev = evtimer_new(L.base, link_retry_cb, NULL)) == NULL ||
	    (L.timeout_ev = evtimer_new(L.base, link_timeout_cb,
	    NULL)) == NULL ||
	    (L.replay_ev = evtimer_new(L.base, replay_retry_cb,
	    NULL)) == NULL ||
	    (L.pause_ev = evtimer_new(L.base, listen_pause_cb, NULL)) == NULL ||
	    (L.drain_ev = evtimer_new(L.base, drain_cb, NULL)) == NULL ||
	    (L.finish_ev = event_new(L.base, -1, 0, finish_cb, NULL)) == NULL ||
	    (L.flush_ev = event_new(L.base, -1, 0, flush_cb, NULL)) == NULL ||
	    (L.sig_ev[0] = evsignal_new(L.base, SIGTERM, signal_cb,
	    NULL)) == NULL ||
	    (L.sig_ev[1] = evsignal_new(L.base, SIGINT, signal_cb,
	    NULL)) == NULL)
		fatalx("cannot create events");
	for (i = 0; i < 2; i++)
		evsignal_add(L.sig_ev[i], NULL);
	if (service_status_fd() != -1) {
		if ((L.status_ev = event_new(L.base, service_status_fd(),
		    EV_READ | EV_PERSIST, status_cb, NULL)) == NULL)
			fatalx("event_new failed");
		event_add(L.status_ev, NULL);
	}
	listen_enable(1);

	service_ready();
	if (handoff != -1) {
		/*
		 * Ids must keep growing on this link: start past anything
		 * the previous generation can have used (microseconds).
		 */
		clock_gettime(CLOCK_REALTIME, &ts);
		L.last_id = (uint64_t)ts.tv_sec * 1000000 +
		    (uint64_t)ts.tv_nsec / 1000;
		link_established(handoff, 1);
	} else
		link_connect();

	event_base_dispatch(L.base);
	fatalx("event loop ended unexpectedly");
}
