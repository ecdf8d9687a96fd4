/*
 * linkd.c: the peer side of a link: an inet prefork helper that serves one
 * link per process.
 *
 * A link starts with "HELLO 1 <name>": the name must be a configured peer
 * (linkmaster.conf, read again for every connection so that an edited peer
 * list applies without a restart, or -o peers= standalone) and the
 * connection must come from one of that peer's addresses; otherwise the
 * link is refused with "ERR <reason>" and a warning.  Accepted, every
 * request line "<id> <payload>" is handed to the backend, a unix stream
 * service, over a pool of up to "pool" connections opened on demand and
 * reused.  A line backend answers in order, so each connection carries up
 * to "backend_depth" requests at once (pipelined: payloads out without
 * waiting, replies paired with a FIFO of the ids sent).  Pipelining
 * comes first: the oldest connection that keeps up takes the requests;
 * only when every connection lags ("backend_lag" without a reply) is
 * another opened (see pool_pick); requests wait in a FIFO for room.
 * Replies "<id> <reply>" go back as they come, in any order.
 *
 * The I/O is ours, not bufferevents', to keep the system calls per
 * request low: every socket is read with one read(2) per readiness event
 * into an evbuffer, and written with writev(2) once per event loop round
 * (the flush event runs after every other callback of the round), so the
 * lines that one round produced go out in one write per socket.  Write
 * interest is registered only when a write did not take everything;
 * read interest stays registered.  Timeouts are libevent timers on the
 * read events, which cost no system call.
 *
 * Failure policy: bad options or an unreadable configuration at start-up
 * are fatal before READY.  Later nothing is: a malformed line from the
 * link is a protocol error that is logged and ends that link (the other
 * side reconnects); a backend connection that cannot be made, times out,
 * fails or closes with requests outstanding costs those requests ("<id>
 * error: backend: <reason>", every one outstanding on it) and that
 * connection.  End-of-file on the status channel stops reading new
 * requests; outstanding ones are finished, the link is closed, and the
 * prefork loop exits 0.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/util.h>
#include <inttypes.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "lineio.h"
#include "linkproto.h"
#include "log.h"
#include "service.h"
#include "sock.h"
#include "util.h"

/* How long the last words to a link that does not read may take. */
#define LINKD_FLUSH_MS	10000
/*
 * A backend connection that has answered nothing for this long with
 * requests outstanding is busy with a slow one: the pool grows.  Well
 * above what a backend that computes takes for a burst, well below what
 * one that waits on disks or hosts takes.
 */
#define LINKD_LAG_MS	2

struct peerent {
	char	*name;
	char	*address;
};

static struct {
	const char	*host;
	const char	*backend_name;
	const char	*backend_path;
	const char	*socket_dir;	/* -o socket_dir, else config */
	const char	*confdir;
	struct peerent	*peers;		/* -o peers, else config */
	int		 npeers;
	int		 pool;
	int		 depth;		/* requests per backend connection */
	int		 max_pending;
	size_t		 max_line;
	long long	 hello_ms;
	long long	 backend_ms;
	long long	 lag_us;	/* backend_lag */
} D;

struct sess;

/*
 * One request from the link: waiting for a connection (with its payload),
 * then outstanding on one (the payload is no longer needed).
 */
struct lreq {
	TAILQ_ENTRY(lreq)	 entry;
	uint64_t		 id;
	size_t			 len;
	char			 payload[];
};

TAILQ_HEAD(lreqlist, lreq);

/* One pooled backend connection. */
struct bconn {
	TAILQ_ENTRY(bconn)	 entry;		/* s->conns, oldest first */
	TAILQ_ENTRY(bconn)	 dentry;	/* s->dirty */
	struct sess		*s;
	int			 fd;
	struct event		*rev;		/* always registered */
	struct event		*wev;		/* while output is left */
	struct evbuffer		*in;
	struct evbuffer		*out;
	size_t			 scan;		/* in: no newline before */
	struct lreqlist		 sent;		/* outstanding, in order */
	int			 nsent;
	long long		 progress;	/* us: last reply, or first sent */
	int			 dirty;		/* on s->dirty */
	int			 writing;	/* wev registered */
};

TAILQ_HEAD(bconnlist, bconn);

/* The one link this process serves right now. */
struct sess {
	struct event_base	*base;
	int			 fd;
	struct event		*rev;
	struct event		*wev;
	struct event		*flush_ev;	/* end of the round: write */
	struct event		*kick_ev;	/* lines held back: go on */
	struct event		*lag_ev;	/* waiting: see pool_pick */
	struct event		*hello_ev;
	struct event		*status_ev;
	struct evbuffer		*in;
	struct evbuffer		*out;
	size_t			 scan;		/* in: no newline before */
	int			 reading;	/* rev registered */
	int			 writing;	/* wev registered */
	int			 flushing;	/* flush_ev active */
	int			 held;		/* max_pending: lines left */
	int			 kicked;	/* kick_ev active */
	char			 ip[NI_MAXHOST];
	char			 name[LINKPROTO_NAME_MAX + 1];
	char			*backend;	/* socket path */
	int			 up;		/* hello accepted */
	int			 closing;	/* flushing last words */
	int			 stopping;	/* status said stop */
	int			 peer_eof;	/* link sent EOF */
	int			 ended;
	char			 reason[256];	/* why it ended */
	struct lreqlist		 wait;
	int			 nwait;
	struct bconnlist	 conns;
	struct bconnlist	 dirty;		/* output to write */
	int			 nconns;
	int			 nsent;		/* outstanding, all conns */
	uint64_t		 last_id;	/* ids must grow */
};

static void	sess_dispatch(struct sess *);

/*
 * Microseconds on libevent's clock, cached for the loop round: no system
 * call per request.
 */
static long long
sess_now(struct sess *s)
{
	struct timeval	 tv;

	event_base_gettimeofday_cached(s->base, &tv);
	return (long long)tv.tv_sec * 1000000 + tv.tv_usec;
}

static struct timeval *
linkd_tv(long long ms, struct timeval *tv)
{
	tv->tv_sec = ms / 1000;
	tv->tv_usec = (ms % 1000) * 1000;
	return tv;
}

/*
 * Append "<hdr><payload>\n" to out in one piece: one evbuffer call
 * instead of three, per request and per reply.
 */
static void
linkd_add_line(struct evbuffer *out, const char *hdr, size_t hlen,
    const char *payload, size_t len)
{
	struct evbuffer_iovec	 v;

	if (evbuffer_reserve_space(out, (ev_ssize_t)(hlen + len + 1), &v,
	    1) != 1)
		fatalx("evbuffer_reserve_space failed");
	if (hlen > 0)
		memcpy(v.iov_base, hdr, hlen);
	if (len > 0)
		memcpy((char *)v.iov_base + hlen, payload, len);
	((char *)v.iov_base)[hlen + len] = '\n';
	v.iov_len = hlen + len + 1;
	if (evbuffer_commit_space(out, &v, 1) == -1)
		fatalx("evbuffer_commit_space failed");
}

/* --- the session: link, hello, ending --------------------------------- */

static void
sess_end(struct sess *s, const char *reason)
{
	if (s->ended)
		return;
	s->ended = 1;
	strlcpy(s->reason, reason, sizeof(s->reason));
	event_base_loopbreak(s->base);
}

/* Write what this round produced once every callback of it has run. */
static void
sess_flush_soon(struct sess *s)
{
	if (s->flushing)
		return;
	s->flushing = 1;
	event_active(s->flush_ev, EV_TIMEOUT, 1);
}

/*
 * Write the link's output at once; only what the socket did not take
 * waits for it to be writable.  A closing link ends once all is out.
 */
static void
sess_flush(struct sess *s)
{
	struct timeval	 tv;
	char		 e[128];

	if (s->ended || s->writing)
		return;
	if (lineio_write(s->fd, s->out) == -1) {
		linkproto_errstr(errno, e, sizeof(e));
		sess_end(s, e);
		return;
	}
	if (evbuffer_get_length(s->out) > 0) {
		s->writing = 1;
		event_add(s->wev, s->closing ?
		    linkd_tv(LINKD_FLUSH_MS, &tv) : NULL);
		return;
	}
	if (s->closing)
		sess_end(s, s->reason);
}

static void
sess_write_cb(int fd, short what, void *arg)
{
	struct sess	*s = arg;
	char		 e[128];

	if (what & EV_TIMEOUT) {
		sess_end(s, "the link stopped reading");
		return;
	}
	if (lineio_write(fd, s->out) == -1) {
		linkproto_errstr(errno, e, sizeof(e));
		sess_end(s, e);
		return;
	}
	if (evbuffer_get_length(s->out) > 0)
		return;
	event_del(s->wev);
	s->writing = 0;
	if (s->closing)
		sess_end(s, s->reason);
}

/* No more reading: end once what is written has gone out. */
static void
sess_close(struct sess *s, const char *reason)
{
	struct timeval	 tv;

	if (s->ended || s->closing)
		return;
	s->closing = 1;
	strlcpy(s->reason, reason, sizeof(s->reason));
	lineio_interest(s->rev, &s->reading, 0);
	if (s->writing) {
		/* From now on the link must take our last words in time. */
		event_add(s->wev, linkd_tv(LINKD_FLUSH_MS, &tv));
		return;
	}
	if (evbuffer_get_length(s->out) == 0) {
		sess_end(s, reason);
		return;
	}
	sess_flush_soon(s);
}

static void
sess_refuse(struct sess *s, const char *reason)
{
	evbuffer_add_printf(s->out, "ERR %s\n", reason);
	sess_close(s, reason);
}

static void
sess_protocol_error(struct sess *s, const char *what, const char *line,
    size_t len)
{
	char	 ex[LINKPROTO_EXCERPT * 4 + 4];

	linkproto_excerpt(line, len, LINKPROTO_EXCERPT, ex,
	    sizeof(ex));
	if (s->up)
		log_warnx("protocol error on the link from %s (%s): %s: "
		    "\"%s\"", s->name, s->ip, what, ex);
	else
		log_warnx("protocol error on the link from %s: %s: \"%s\"",
		    s->ip, what, ex);
	/* Replies already written still go out. */
	sess_close(s, "protocol error");
}

static void
sess_reply(struct sess *s, uint64_t id, const char *payload, size_t len)
{
	char		 hdr[LINKPROTO_HDR_MAX + 1];
	size_t		 n;

	if (s->ended)
		return;
	n = linkproto_format_hdr(hdr, sizeof(hdr), id);
	linkd_add_line(s->out, hdr, n, payload, len);
	sess_flush_soon(s);
}

static void
sess_reply_error(struct sess *s, uint64_t id, const char *why)
{
	char	*msg;

	xasprintf(&msg, "error: backend: %s", why);
	sess_reply(s, id, msg, strlen(msg));
	free(msg);
}

/* Stopping (or no more requests) and nothing left to answer: close. */
static void
sess_check_stop(struct sess *s)
{
	if (s->stopping && s->nwait == 0 && s->nsent == 0)
		sess_close(s, "stopping");
	else if (s->peer_eof && s->nwait == 0 && s->nsent == 0 && !s->held)
		sess_close(s, "connection closed");
}

/*
 * Read requests only while fewer than max_pending are outstanding.  Lines
 * left in the buffer when the limit was hit are taken up again (kick_ev)
 * as soon as there is room, even after the link's end-of-file.
 */
static void
sess_update_read(struct sess *s)
{
	int	 room;

	if (s->ended || s->closing || s->stopping) {
		lineio_interest(s->rev, &s->reading, 0);
		return;
	}
	room = !s->up || s->nwait + s->nsent < D.max_pending;
	lineio_interest(s->rev, &s->reading, room && !s->peer_eof);
	if (room && s->held && !s->kicked) {
		s->kicked = 1;
		event_active(s->kick_ev, EV_TIMEOUT, 1);
	}
}

/* An address in comparable form: v4-mapped v6 addresses as plain v4. */
struct ipaddr {
	int		 family;
	unsigned char	 a[16];
};

static int
ipaddr_of(const struct sockaddr *sa, struct ipaddr *ip)
{
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;

	memset(ip, 0, sizeof(*ip));
	if (sa->sa_family == AF_INET) {
		sin = (const struct sockaddr_in *)sa;
		ip->family = AF_INET;
		memcpy(ip->a, &sin->sin_addr, 4);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		sin6 = (const struct sockaddr_in6 *)sa;
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			ip->family = AF_INET;
			memcpy(ip->a, sin6->sin6_addr.s6_addr + 12, 4);
		} else {
			ip->family = AF_INET6;
			memcpy(ip->a, &sin6->sin6_addr, 16);
		}
		return 0;
	}
	return -1;
}

/* Is src one of the addresses address resolves to?  -1: cannot resolve. */
static int
linkd_addr_match(const struct sockaddr *src, const char *address,
    char *err, size_t errlen)
{
	struct addrinfo	 hints, *res, *ai;
	struct ipaddr	 a, b;
	int		 gai, match = 0;

	if (ipaddr_of(src, &a) == -1) {
		strlcpy(err, "not an inet address", errlen);
		return -1;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((gai = getaddrinfo(address, NULL, &hints, &res)) != 0) {
		(void)snprintf(err, errlen, "%s", gai == EAI_SYSTEM ?
		    strerror(errno) : gai_strerror(gai));
		return -1;
	}
	for (ai = res; ai != NULL && !match; ai = ai->ai_next)
		if (ipaddr_of(ai->ai_addr, &b) == 0 && a.family == b.family &&
		    memcmp(a.a, b.a, a.family == AF_INET ? 4 : 16) == 0)
			match = 1;
	freeaddrinfo(res);
	return match;
}

/*
 * The address of peer name, and the socket directory, from -o peers or
 * linkmaster.conf as it is now.  1 found, 0 not a peer, -1 config error.
 */
static int
linkd_lookup(const char *name, char **address, char **socket_dir)
{
	struct errlist	 errs;
	struct config	*c;
	size_t		 i;
	int		 k, found = 0;

	*address = *socket_dir = NULL;
	if (D.peers != NULL) {
		for (k = 0; k < D.npeers; k++)
			if (strcmp(D.peers[k].name, name) == 0) {
				*address = xstrdup(D.peers[k].address);
				break;
			}
		if (D.socket_dir != NULL)
			*socket_dir = xstrdup(D.socket_dir);
		return *address != NULL;
	}
	errlist_init(&errs);
	if ((c = config_load(D.confdir, &errs)) == NULL) {
		for (i = 0; i < errs.n; i++)
			log_error("%s", errs.msg[i]);
		errlist_free(&errs);
		return -1;
	}
	errlist_free(&errs);
	for (k = 0; k < c->npeers; k++)
		if (strcmp(c->peers[k].name, name) == 0) {
			*address = xstrdup(c->peers[k].address);
			found = 1;
			break;
		}
	*socket_dir = xstrdup(D.socket_dir != NULL ? D.socket_dir :
	    c->socket_dir);
	config_free(c);
	return found;
}

/* Where the backend listens: private/NAME if it exists, else public. */
static char *
linkd_backend_path(const char *socket_dir)
{
	struct stat	 st;
	char		*p;

	if (D.backend_path != NULL)
		return xstrdup(D.backend_path);
	if (socket_dir == NULL)
		socket_dir = ".";
	xasprintf(&p, "%s/private/%s", socket_dir, D.backend_name);
	if (lstat(p, &st) == 0)
		return p;
	free(p);
	xasprintf(&p, "%s/public/%s", socket_dir, D.backend_name);
	return p;
}

static void
sess_hello(struct sess *s, const char *line, size_t len)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sl = sizeof(ss);
	char			 ex[LINKPROTO_EXCERPT * 4 + 4], err[256];
	char			*address, *socket_dir;
	const char		*why;
	int			 rc;

	rc = linkproto_parse_hello(line, len, s->name, sizeof(s->name), &why);
	if (rc == -1) {
		linkproto_excerpt(line, len, LINKPROTO_EXCERPT, ex,
		    sizeof(ex));
		log_warnx("protocol error on the link from %s: %s: \"%s\"",
		    s->ip, why, ex);
		sess_refuse(s, "bad hello");
		return;
	}
	if (rc == -2) {
		linkproto_excerpt(line, len, LINKPROTO_EXCERPT, ex,
		    sizeof(ex));
		log_warnx("refusing link from %s: %s: \"%s\"", s->ip, why, ex);
		sess_refuse(s, "unsupported version");
		return;
	}
	rc = linkd_lookup(s->name, &address, &socket_dir);
	if (rc == -1) {
		log_warnx("refusing link from %s: cannot read the peer list",
		    s->ip);
		sess_refuse(s, "configuration error");
		return;
	}
	if (rc == 0) {
		log_warnx("refusing link from %s: hello name \"%s\" is not a "
		    "peer", s->ip, s->name);
		free(socket_dir);
		sess_refuse(s, "not a peer");
		return;
	}
	if (getpeername(s->fd, (struct sockaddr *)&ss, &sl) == -1 ||
	    (rc = linkd_addr_match((struct sockaddr *)&ss, address, err,
	    sizeof(err))) != 1) {
		if (rc == -1)
			log_warnx("refusing link from %s: address \"%s\" of "
			    "peer \"%s\": %s", s->ip, address, s->name, err);
		else
			log_warnx("refusing link from %s: address %s does not "
			    "match peer \"%s\"", s->ip, s->ip, s->name);
		free(address);
		free(socket_dir);
		sess_refuse(s, "address mismatch");
		return;
	}
	free(address);
	s->backend = linkd_backend_path(socket_dir);
	free(socket_dir);
	s->up = 1;
	evtimer_del(s->hello_ev);
	evbuffer_add_printf(s->out, "OK %d %s\n", LINKPROTO_VERSION, D.host);
	sess_flush_soon(s);
	log_info("link from %s (%s) up", s->name, s->ip);
}

/* --- the backend pool -------------------------------------------------- */

static struct lreq *
lreq_new(uint64_t id, const char *payload, size_t len)
{
	struct lreq	*r;

	r = xmalloc(sizeof(*r) + len);
	r->id = id;
	r->len = len;
	if (len > 0)
		memcpy(r->payload, payload, len);
	return r;
}

/* Forget b; whatever was outstanding on it has been answered already. */
static void
bconn_drop(struct bconn *b)
{
	struct sess	*s = b->s;
	struct lreq	*r;

	while ((r = TAILQ_FIRST(&b->sent)) != NULL) {
		TAILQ_REMOVE(&b->sent, r, entry);
		free(r);
	}
	s->nsent -= b->nsent;
	if (b->dirty)
		TAILQ_REMOVE(&s->dirty, b, dentry);
	TAILQ_REMOVE(&s->conns, b, entry);
	s->nconns--;
	event_free(b->rev);
	event_free(b->wev);
	evbuffer_free(b->in);
	evbuffer_free(b->out);
	close(b->fd);
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
	struct lreq	*r;

	if ((r = TAILQ_FIRST(&b->sent)) == NULL)
		/* An idle backend connection went away: fine. */
		log_debug("backend %s: %s (idle connection)", s->backend, why);
	else if (b->nsent == 1)
		log_warnx("backend %s: %s (request %" PRIu64 " from %s)",
		    s->backend, why, r->id, s->name);
	else
		log_warnx("backend %s: %s (request %" PRIu64 " and %d more "
		    "from %s)", s->backend, why, r->id, b->nsent - 1, s->name);
	TAILQ_FOREACH(r, &b->sent, entry)
		sess_reply_error(s, r->id, why);
	bconn_drop(b);
	sess_dispatch(s);
}

/* Output for b: written at the end of this round (sess_flush_cb). */
static void
bconn_dirty(struct bconn *b)
{
	if (b->dirty || b->writing)
		return;
	b->dirty = 1;
	TAILQ_INSERT_TAIL(&b->s->dirty, b, dentry);
	sess_flush_soon(b->s);
}

static void
bconn_flush(struct bconn *b)
{
	char	 e[128];

	if (b->writing)
		return;
	if (lineio_write(b->fd, b->out) == -1) {
		linkproto_errstr(errno, e, sizeof(e));
		bconn_fail(b, e);
		return;
	}
	if (evbuffer_get_length(b->out) > 0) {
		b->writing = 1;
		event_add(b->wev, NULL);
	}
}

static void
bconn_write_cb(int fd, short what, void *arg)
{
	struct bconn	*b = arg;
	char		 e[128];

	if (lineio_write(fd, b->out) == -1) {
		linkproto_errstr(errno, e, sizeof(e));
		bconn_fail(b, e);
		return;
	}
	if (evbuffer_get_length(b->out) > 0)
		return;
	event_del(b->wev);
	b->writing = 0;
}

/*
 * Replies, paired in order with the requests sent.  The timeout (a timer
 * on the read event, re-armed by libevent at every read) runs only while
 * requests are outstanding: backend_timeout is how long the backend may
 * stay silent with requests in hand.
 */
static void
bconn_read_cb(int fd, short what, void *arg)
{
	struct bconn	*b = arg;
	struct sess	*s = b->s;
	struct lreq	*r;
	const char	*line;
	size_t		 len;
	ssize_t		 n;
	char		 e[128];

	if (what & EV_TIMEOUT) {
		bconn_fail(b, "timed out");
		return;
	}
	if ((n = lineio_read(fd, b->in, LINEIO_READ)) == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return;
		linkproto_errstr(errno, e, sizeof(e));
		bconn_fail(b, e);
		return;
	}
	while (b->nsent > 0 &&
	    (line = lineio_line(b->in, &b->scan, &len)) != NULL) {
		if (len > D.max_line) {
			bconn_fail(b, "reply too long");
			return;
		}
		r = TAILQ_FIRST(&b->sent);
		TAILQ_REMOVE(&b->sent, r, entry);
		b->nsent--;
		s->nsent--;
		sess_reply(s, r->id, line, len);
		free(r);
		evbuffer_drain(b->in, len + 1);
		b->scan = 0;
		b->progress = sess_now(s);
	}
	if (b->nsent == 0 && evbuffer_get_length(b->in) > 0) {
		/* More lines than requests: we cannot pair them up. */
		log_warnx("backend %s sent a line no request was waiting "
		    "for: dropping the connection", s->backend);
		bconn_fail(b, "spoke out of turn");
		return;
	}
	if (b->nsent > 0 && b->scan > D.max_line) {
		bconn_fail(b, "reply too long");
		return;
	}
	if (n == 0) {
		bconn_fail(b, "closed the connection");
		return;
	}
	if (b->nsent == 0)
		event_remove_timer(b->rev);
	sess_dispatch(s);
}

static struct bconn *
bconn_open(struct sess *s, char *err, size_t errlen)
{
	struct bconn	*b;
	int		 fd;

	if ((fd = sock_unix_connect(s->backend, SOCK_STREAM, err,
	    errlen)) == -1)
		return NULL;
	b = xcalloc(1, sizeof(*b));
	b->s = s;
	b->fd = fd;
	TAILQ_INIT(&b->sent);
	if ((b->in = evbuffer_new()) == NULL ||
	    (b->out = evbuffer_new()) == NULL ||
	    (b->rev = event_new(s->base, fd, EV_READ | EV_PERSIST,
	    bconn_read_cb, b)) == NULL ||
	    (b->wev = event_new(s->base, fd, EV_WRITE | EV_PERSIST,
	    bconn_write_cb, b)) == NULL)
		fatalx("cannot create events");
	/* Always read: an idle connection's end is noticed, too. */
	event_add(b->rev, NULL);
	TAILQ_INSERT_TAIL(&s->conns, b, entry);
	s->nconns++;
	return b;
}

/* r goes out on b now (its payload may be elsewhere: see sess_request). */
static void
bconn_send(struct bconn *b, struct lreq *r, const char *payload, size_t len)
{
	struct timeval	 tv;

	linkd_add_line(b->out, NULL, 0, payload, len);
	TAILQ_INSERT_TAIL(&b->sent, r, entry);
	if (b->nsent++ == 0) {
		event_add(b->rev, linkd_tv(D.backend_ms, &tv));
		b->progress = sess_now(b->s);
	}
	b->s->nsent++;
	bconn_dirty(b);
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
 * The connection for the next request.  Pipelining comes first: the
 * oldest connection that keeps up (no request outstanding on it for
 * backend_lag without a reply) takes requests up to backend_depth, so
 * that a burst reaches one backend process in one write and comes back
 * in one read, and a fast backend wakes one process, not pool of them.
 * When it is full but keeps up, the request waits for its replies.
 * Only when every connection lags does the pool grow (a slow request
 * then holds up only what was already sent behind it), and with the
 * pool at its size the one that answered last (lags least) is used.
 * NULL when the request must wait, or with err set when none can take
 * it and a new connection could not be opened (fail it).
 */
static struct bconn *
pool_pick(struct sess *s, char *err, size_t errlen)
{
	struct bconn	*b, *spare = NULL;
	long long	 now = sess_now(s);
	int		 full = 0;

	err[0] = '\0';
	TAILQ_FOREACH(b, &s->conns, entry) {
		if (!bconn_lagging(b, now)) {
			if (b->nsent < D.depth)
				return b;
			full = 1;
		} else if (b->nsent < D.depth &&
		    (spare == NULL || b->progress > spare->progress))
			spare = b;
	}
	if (full)
		return NULL;
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
 * now would start to lag, as the pool may then grow.  Once they all lag
 * only a reply or a failure changes anything, and those dispatch.
 */
static void
pool_watch(struct sess *s)
{
	struct bconn	*b;
	struct timeval	 tv;
	long long	 now, when = -1, t;

	if (TAILQ_EMPTY(&s->wait)) {
		evtimer_del(s->lag_ev);
		return;
	}
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
}

static void
sess_lag_cb(int fd, short what, void *arg)
{
	sess_dispatch(arg);
}

/* Give waiting requests to connections with room. */
static void
sess_dispatch(struct sess *s)
{
	struct lreq	*r;
	struct bconn	*b;
	char		 err[512];

	while (!s->ended && (r = TAILQ_FIRST(&s->wait)) != NULL) {
		b = pool_pick(s, err, sizeof(err));
		if (b == NULL && err[0] == '\0')
			break;
		TAILQ_REMOVE(&s->wait, r, entry);
		s->nwait--;
		if (b == NULL) {
			/* Fail fast: the link may have a timeout. */
			sess_reply_error(s, r->id, err);
			free(r);
			continue;
		}
		bconn_send(b, r, r->payload, r->len);
	}
	pool_watch(s);
	sess_update_read(s);
	sess_check_stop(s);
}

/* --- requests from the link ------------------------------------------- */

static void
sess_request(struct sess *s, const char *line, size_t len)
{
	struct bconn	*b;
	struct lreq	*r;
	const char	*payload, *why;
	size_t		 plen;
	uint64_t	 id;
	char		 err[512];

	if (linkproto_parse_msg(line, len, &id, &payload, &plen, &why) == -1) {
		sess_protocol_error(s, why, line, len);
		return;
	}
	/*
	 * A repeated id would pair two replies with one request at the
	 * link: ids only grow on a link (link numbers them so).
	 */
	if (id <= s->last_id) {
		(void)snprintf(err, sizeof(err), "id %" PRIu64 " is not above "
		    "the previous one (%" PRIu64 ")", id, s->last_id);
		sess_protocol_error(s, err, line, len);
		return;
	}
	s->last_id = id;
	/* Straight out when nothing waits before it: no copy kept. */
	if (TAILQ_EMPTY(&s->wait)) {
		if ((b = pool_pick(s, err, sizeof(err))) != NULL) {
			r = lreq_new(id, NULL, 0);
			bconn_send(b, r, payload, plen);
			return;
		}
		if (err[0] != '\0') {
			sess_reply_error(s, id, err);
			return;
		}
	}
	r = lreq_new(id, payload, plen);
	TAILQ_INSERT_TAIL(&s->wait, r, entry);
	if (s->nwait++ == 0)
		pool_watch(s);
}

/* The complete lines read from the link, while there is room for them. */
static void
sess_process(struct sess *s)
{
	const char	*line;
	size_t		 len, max;

	max = D.max_line + LINKPROTO_HDR_MAX;
	s->held = 0;
	while (!s->ended && !s->closing && !s->stopping) {
		if (s->up && s->nwait + s->nsent >= D.max_pending) {
			s->held = evbuffer_get_length(s->in) > 0;
			break;
		}
		if ((line = lineio_line(s->in, &s->scan, &len)) == NULL) {
			if (s->scan > max)
				sess_protocol_error(s, "line too long",
				    (const char *)evbuffer_pullup(s->in,
				    LINKPROTO_EXCERPT), LINKPROTO_EXCERPT);
			break;
		}
		if (len > max) {
			sess_protocol_error(s, "line too long", line, len);
			break;
		}
		if (!s->up)
			sess_hello(s, line, len);
		else
			sess_request(s, line, len);
		evbuffer_drain(s->in, len + 1);
		s->scan = 0;
	}
}

/* The link's end-of-file. */
static void
sess_eof(struct sess *s)
{
	if (s->up && !s->closing) {
		/*
		 * No more requests, but those in hand are answered: a half
		 * close still reads them (link itself never half-closes; if
		 * it is gone for good, our writes fail and end it).
		 */
		s->peer_eof = 1;
		lineio_interest(s->rev, &s->reading, 0);
		sess_check_stop(s);
	} else
		sess_end(s, "connection closed");
}

static void
sess_read_cb(int fd, short what, void *arg)
{
	struct sess	*s = arg;
	ssize_t		 n;
	char		 e[128];

	if ((n = lineio_read(fd, s->in, LINEIO_READ)) == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return;
		linkproto_errstr(errno, e, sizeof(e));
		sess_end(s, e);
		return;
	}
	sess_process(s);
	if (n == 0 && !s->ended)
		sess_eof(s);
	if (!s->ended) {
		sess_update_read(s);
		sess_check_stop(s);
	}
}

/* There is room again for lines that were left in the buffer. */
static void
sess_kick_cb(int fd, short what, void *arg)
{
	struct sess	*s = arg;

	s->kicked = 0;
	sess_process(s);
	if (!s->ended) {
		sess_update_read(s);
		sess_check_stop(s);
	}
}

/*
 * The round's last callback: write what it produced, requests to the
 * backend first, so that it can start on them, then the replies.
 */
static void
sess_flush_cb(int fd, short what, void *arg)
{
	struct sess	*s = arg;
	struct bconn	*b;

	s->flushing = 0;
	while (!s->ended && (b = TAILQ_FIRST(&s->dirty)) != NULL) {
		TAILQ_REMOVE(&s->dirty, b, dentry);
		b->dirty = 0;
		bconn_flush(b);
	}
	sess_flush(s);
}

static void
sess_hello_cb(int fd, short ev, void *arg)
{
	struct sess	*s = arg;
	char		 d[32];

	if (s->up || s->closing)
		return;
	linkproto_fmt_delay(D.hello_ms, d, sizeof(d));
	log_warnx("no hello from %s within %s: closing the connection", s->ip,
	    d);
	sess_end(s, "no hello");
}

static void
sess_status_cb(int fd, short ev, void *arg)
{
	struct sess	*s = arg;

	if (!service_stopping())
		return;
	event_del(s->status_ev);
	s->stopping = 1;
	lineio_interest(s->rev, &s->reading, 0);
	if (!s->up) {
		sess_end(s, "stopping");
		return;
	}
	sess_check_stop(s);
}

/* --- one link, start to end -------------------------------------------- */

static void
sess_free(struct sess *s)
{
	struct lreq	*r;
	struct bconn	*b;

	while ((r = TAILQ_FIRST(&s->wait)) != NULL) {
		TAILQ_REMOVE(&s->wait, r, entry);
		free(r);
	}
	while ((b = TAILQ_FIRST(&s->conns)) != NULL)
		bconn_drop(b);
	if (s->status_ev != NULL)
		event_free(s->status_ev);
	event_free(s->hello_ev);
	event_free(s->rev);
	event_free(s->wev);
	event_free(s->flush_ev);
	event_free(s->kick_ev);
	event_free(s->lag_ev);
	evbuffer_free(s->in);
	evbuffer_free(s->out);
	free(s->backend);
	event_base_free(s->base);
}

/* service_run_prefork() callback: serve the link on fd until it ends. */
static void
linkd_serve(int fd, void *arg)
{
	struct sockaddr_storage	 ss;
	struct sess		 s;
	struct timeval		 tv;
	socklen_t		 sl = sizeof(ss);
	struct ipaddr		 ip;
	char			 buf[INET6_ADDRSTRLEN];

	memset(&s, 0, sizeof(s));
	TAILQ_INIT(&s.wait);
	TAILQ_INIT(&s.conns);
	TAILQ_INIT(&s.dirty);
	strlcpy(s.ip, "?", sizeof(s.ip));
	if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0 &&
	    ipaddr_of((struct sockaddr *)&ss, &ip) == 0 &&
	    inet_ntop(ip.family, ip.a, buf, sizeof(buf)) != NULL)
		strlcpy(s.ip, buf, sizeof(s.ip));
	if (sock_set_nonblock(fd, 1) == -1) {
		log_warn("fd %d: O_NONBLOCK", fd);
		return;
	}
	linkproto_sockopts(fd);
	/* fd is the prefork loop's: it closes it. */
	s.fd = fd;
	if ((s.base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	if ((s.in = evbuffer_new()) == NULL ||
	    (s.out = evbuffer_new()) == NULL ||
	    (s.rev = event_new(s.base, fd, EV_READ | EV_PERSIST,
	    sess_read_cb, &s)) == NULL ||
	    (s.wev = event_new(s.base, fd, EV_WRITE | EV_PERSIST,
	    sess_write_cb, &s)) == NULL ||
	    (s.flush_ev = event_new(s.base, -1, 0, sess_flush_cb,
	    &s)) == NULL ||
	    (s.kick_ev = event_new(s.base, -1, 0, sess_kick_cb, &s)) == NULL ||
	    (s.lag_ev = evtimer_new(s.base, sess_lag_cb, &s)) == NULL ||
	    (s.hello_ev = evtimer_new(s.base, sess_hello_cb, &s)) == NULL)
		fatalx("cannot create events");
	lineio_interest(s.rev, &s.reading, 1);
	evtimer_add(s.hello_ev, linkd_tv(D.hello_ms, &tv));
	if (service_status_fd() != -1) {
		if ((s.status_ev = event_new(s.base, service_status_fd(),
		    EV_READ | EV_PERSIST, sess_status_cb, &s)) == NULL)
			fatalx("event_new failed");
		event_add(s.status_ev, NULL);
	}

	event_base_dispatch(s.base);

	if (s.up)
		log_info("link from %s (%s) down: %s", s.name, s.ip, s.reason);
	sess_free(&s);
}

/* --- start-up ---------------------------------------------------------- */

/* "-o peers=alpha@127.0.0.1,gamma@127.0.0.3" */
static void
linkd_parse_peers(const char *spec)
{
	char	*copy, *item, *next, *at;

	copy = xstrdup(spec);
	for (item = copy; item != NULL; item = next) {
		if ((next = strchr(item, ',')) != NULL)
			*next++ = '\0';
		if (*item == '\0')
			continue;
		if ((at = strchr(item, '@')) == NULL || at[1] == '\0' ||
		    !linkproto_name_ok(item, (size_t)(at - item)))
			fatalx("bad option \"-o peers=%s\": expected "
			    "NAME@ADDRESS,... (at \"%s\")", spec, item);
		D.peers = xreallocarray(D.peers, D.npeers + 1,
		    sizeof(*D.peers));
		D.peers[D.npeers].name = xstrndup(item, (size_t)(at - item));
		D.peers[D.npeers].address = xstrdup(at + 1);
		D.npeers++;
	}
	free(copy);
	if (D.npeers == 0)
		fatalx("bad option \"-o peers=%s\": no peer", spec);
}

static void
linkd_options(void)
{
	static char	 hostbuf[LINKPROTO_NAME_MAX + 1];
	struct errlist	 errs;
	struct config	*c;
	const char	*v;
	size_t		 i;

	if ((D.host = service_option_env("host_name",
	    "MASTER_HOST_NAME")) == NULL) {
		if (gethostname(hostbuf, sizeof(hostbuf)) == -1)
			fatal("gethostname");
		hostbuf[sizeof(hostbuf) - 1] = '\0';
		D.host = hostbuf;
	}
	if (!linkproto_name_ok(D.host, strlen(D.host)))
		fatalx("bad host name \"%s\": use letters, digits, \".\", "
		    "\"_\" and \"-\"", D.host);
	D.pool = (int)service_option_num("pool", 4, 1, 1024);
	D.depth = (int)service_option_num("backend_depth", 32, 1, 1024);
	D.max_pending = (int)service_option_num("max_pending", 1024, 1,
	    1000000);
	D.max_line = (size_t)service_option_num("max_line", 65536, 1,
	    64 * 1024 * 1024);
	D.hello_ms = service_option_time("hello_timeout", 10 * 1000, 1,
	    LINKPROTO_TIME_MAX);
	D.backend_ms = service_option_time("backend_timeout", 300 * 1000, 1,
	    LINKPROTO_TIME_MAX);
	D.lag_us = 1000 * service_option_time("backend_lag", LINKD_LAG_MS, 1,
	    LINKPROTO_TIME_MAX);
	D.socket_dir = service_option("socket_dir");

	D.backend_path = service_option("backend_path");
	D.backend_name = service_option("backend");
	if (D.backend_path == NULL && D.backend_name == NULL)
		fatalx("no backend: use -o backend=SERVICE or "
		    "-o backend_path=PATH");
	if (D.backend_path == NULL && (*D.backend_name == '\0' ||
	    strchr(D.backend_name, '/') != NULL ||
	    strcmp(D.backend_name, "..") == 0))
		fatalx("bad option \"-o backend=%s\": expected a service name",
		    D.backend_name);

	if ((v = service_option("peers")) != NULL) {
		linkd_parse_peers(v);
		if (D.backend_path == NULL && D.socket_dir == NULL)
			fatalx("-o backend=%s needs -o socket_dir=DIR "
			    "with -o peers", D.backend_name);
		return;
	}
	if ((D.confdir = service_option_env("config_dir",
	    "MASTER_CONFIG_DIR")) == NULL)
		fatalx("no peer list: MASTER_CONFIG_DIR is not set and there "
		    "is no -o peers=NAME@ADDRESS,...");
	/* Read it once now, so that a broken one is a bad startup. */
	errlist_init(&errs);
	if ((c = config_load(D.confdir, &errs)) == NULL) {
		for (i = 0; i < errs.n; i++)
			log_error("%s", errs.msg[i]);
		fatalx("cannot read the peer list from %s", D.confdir);
	}
	errlist_free(&errs);
	config_free(c);
}

int
main(int argc, char *argv[])
{
	service_init(argc, argv, "linkd");
	if (service_argc() != 0)
		fatalx("unexpected argument \"%s\"; usage: linkd [-v] "
		    "[-o name=value] ...", service_argv()[0]);
	linkd_options();
	service_run_prefork(linkd_serve, NULL);
}
