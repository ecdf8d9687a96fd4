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
 * reused, each carrying one request at a time (payload out, one line
 * back); requests wait in a FIFO while every connection is busy.  So
 * pipelined requests run concurrently, and replies "<id> <reply>" go back
 * as they come, in any order.
 *
 * Failure policy: bad options or an unreadable configuration at start-up
 * are fatal before READY.  Later nothing is: a malformed line from the
 * link is a protocol error that is logged and ends that link (the other
 * side reconnects); a backend that cannot be reached, times out or closes
 * mid-request costs only that request ("<id> error: backend: <reason>")
 * and that pooled connection.  End-of-file on the status channel stops
 * reading new requests; outstanding ones are finished, the link is
 * closed, and the prefork loop exits 0.
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
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>
#include <inttypes.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "linkproto.h"
#include "log.h"
#include "service.h"
#include "sock.h"
#include "util.h"

/* How long the last words to a link that does not read may take. */
#define LINKD_FLUSH_MS	10000

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
	int		 max_pending;
	size_t		 max_line;
	long long	 hello_ms;
	long long	 backend_ms;
} D;

struct sess;

/* One request from the link. */
struct lreq {
	TAILQ_ENTRY(lreq)	 entry;
	uint64_t		 id;
	char			*payload;
	size_t			 len;
};

/* One pooled backend connection. */
struct bconn {
	TAILQ_ENTRY(bconn)	 entry;
	struct sess		*s;
	struct bufferevent	*bev;
	struct lreq		*cur;		/* NULL: idle */
};

TAILQ_HEAD(lreqlist, lreq);
TAILQ_HEAD(bconnlist, bconn);

/* The one link this process serves right now. */
struct sess {
	struct event_base	*base;
	struct bufferevent	*bev;
	struct event		*hello_ev;
	struct event		*status_ev;
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
	struct bconnlist	 idle;
	struct bconnlist	 busy;
	int			 nconns;
	int			 nbusy;
};

static void	sess_dispatch(struct sess *);

static struct timeval *
linkd_tv(long long ms, struct timeval *tv)
{
	tv->tv_sec = ms / 1000;
	tv->tv_usec = (ms % 1000) * 1000;
	return tv;
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

/* No more reading: end once what is written has gone out. */
static void
sess_close(struct sess *s, const char *reason)
{
	struct timeval	 tv;

	if (s->ended || s->closing)
		return;
	s->closing = 1;
	strlcpy(s->reason, reason, sizeof(s->reason));
	bufferevent_disable(s->bev, EV_READ);
	if (evbuffer_get_length(bufferevent_get_output(s->bev)) == 0) {
		sess_end(s, reason);
		return;
	}
	bufferevent_set_timeouts(s->bev, NULL, linkd_tv(LINKD_FLUSH_MS, &tv));
}

static void
sess_refuse(struct sess *s, const char *reason)
{
	evbuffer_add_printf(bufferevent_get_output(s->bev), "ERR %s\n",
	    reason);
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
	struct evbuffer	*out = bufferevent_get_output(s->bev);
	char		 hdr[LINKPROTO_HDR_MAX + 1];
	size_t		 n;

	if (s->ended)
		return;
	n = linkproto_format_hdr(hdr, sizeof(hdr), id);
	evbuffer_add(out, hdr, n);
	evbuffer_add(out, payload, len);
	evbuffer_add(out, "\n", 1);
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
	if ((s->stopping || s->peer_eof) && s->nwait == 0 && s->nbusy == 0)
		sess_close(s, s->stopping ? "stopping" : "connection closed");
}

/* Read requests only while fewer than max_pending are outstanding. */
static void
sess_update_read(struct sess *s)
{
	if (s->ended || s->closing || s->stopping || s->peer_eof) {
		bufferevent_disable(s->bev, EV_READ);
		return;
	}
	if (s->nwait + s->nbusy >= D.max_pending) {
		bufferevent_disable(s->bev, EV_READ);
		return;
	}
	if (bufferevent_get_enabled(s->bev) & EV_READ)
		return;
	bufferevent_enable(s->bev, EV_READ);
	if (evbuffer_get_length(bufferevent_get_input(s->bev)) > 0)
		bufferevent_trigger(s->bev, EV_READ,
		    BEV_TRIG_IGNORE_WATERMARKS | BEV_TRIG_DEFER_CALLBACKS);
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
	if (getpeername(bufferevent_getfd(s->bev), (struct sockaddr *)&ss,
	    &sl) == -1 || (rc = linkd_addr_match((struct sockaddr *)&ss,
	    address, err, sizeof(err))) != 1) {
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
	evbuffer_add_printf(bufferevent_get_output(s->bev), "OK %d %s\n",
	    LINKPROTO_VERSION, D.host);
	log_info("link from %s (%s) up", s->name, s->ip);
}

static void
sess_request(struct sess *s, const char *line, size_t len)
{
	struct lreq	*r;
	const char	*payload, *why;
	size_t		 plen;
	uint64_t	 id;

	if (linkproto_parse_msg(line, len, &id, &payload, &plen, &why) == -1) {
		sess_protocol_error(s, why, line, len);
		return;
	}
	r = xcalloc(1, sizeof(*r));
	r->id = id;
	r->payload = xmalloc(plen + 1);
	memcpy(r->payload, payload, plen);
	r->payload[plen] = '\0';
	r->len = plen;
	TAILQ_INSERT_TAIL(&s->wait, r, entry);
	s->nwait++;
}

static void
sess_read_cb(struct bufferevent *bev, void *arg)
{
	struct sess		*s = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);
	struct evbuffer_ptr	 p;
	size_t			 eol_len, len, max;
	const char		*line;

	max = D.max_line + LINKPROTO_HDR_MAX;
	while (!s->ended && !s->closing && !s->stopping) {
		if (s->up && s->nwait + s->nbusy >= D.max_pending)
			break;
		p = evbuffer_search_eol(in, NULL, &eol_len, EVBUFFER_EOL_LF);
		if (p.pos == -1) {
			len = evbuffer_get_length(in);
			if (len > LINKPROTO_EXCERPT)
				len = LINKPROTO_EXCERPT;
			if (evbuffer_get_length(in) > max)
				sess_protocol_error(s, "line too long",
				    (const char *)evbuffer_pullup(in,
				    (ssize_t)len), len);
			break;
		}
		len = (size_t)p.pos;
		line = (const char *)evbuffer_pullup(in, (ssize_t)(len + 1));
		if (len > max) {
			sess_protocol_error(s, "line too long", line, len);
			break;
		}
		if (!s->up)
			sess_hello(s, line, len);
		else
			sess_request(s, line, len);
		evbuffer_drain(in, len + eol_len);
		/* Start each one now: requests must not wait for the batch. */
		if (s->up)
			sess_dispatch(s);
	}
	if (!s->ended)
		sess_update_read(s);
}

static void
sess_write_cb(struct bufferevent *bev, void *arg)
{
	struct sess	*s = arg;

	if (s->closing)
		sess_end(s, s->reason);
}

static void
sess_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct sess	*s = arg;
	char		 e[128];

	if (what & BEV_EVENT_TIMEOUT)
		sess_end(s, "the link stopped reading");
	else if ((what & BEV_EVENT_EOF) && s->up && !s->closing) {
		/*
		 * No more requests, but those in hand are answered: a half
		 * close still reads them (link itself never half-closes; if
		 * it is gone for good, our writes fail and end it).
		 */
		s->peer_eof = 1;
		bufferevent_disable(s->bev, EV_READ);
		sess_check_stop(s);
	} else if (what & BEV_EVENT_EOF)
		sess_end(s, "connection closed");
	else {
		linkproto_errstr(EVUTIL_SOCKET_ERROR(), e, sizeof(e));
		sess_end(s, e);
	}
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
	bufferevent_disable(s->bev, EV_READ);
	if (!s->up) {
		sess_end(s, "stopping");
		return;
	}
	sess_check_stop(s);
}

/* --- the backend pool -------------------------------------------------- */

static void
bconn_drop(struct bconn *b)
{
	struct sess	*s = b->s;

	if (b->cur != NULL) {
		TAILQ_REMOVE(&s->busy, b, entry);
		s->nbusy--;
		free(b->cur->payload);
		free(b->cur);
	} else
		TAILQ_REMOVE(&s->idle, b, entry);
	s->nconns--;
	bufferevent_free(b->bev);
	free(b);
}

/* The request on b failed: tell the link, drop the connection. */
static void
bconn_fail(struct bconn *b, const char *why)
{
	struct sess	*s = b->s;

	sess_reply_error(s, b->cur->id, why);
	bconn_drop(b);
}

static void
bconn_read_cb(struct bufferevent *bev, void *arg)
{
	struct bconn		*b = arg;
	struct sess		*s = b->s;
	struct evbuffer		*in = bufferevent_get_input(bev);
	struct evbuffer_ptr	 p;
	struct lreq		*r;
	size_t			 eol_len, len;
	const char		*line;

	if ((r = b->cur) == NULL) {
		log_warnx("backend %s spoke out of turn: dropping the "
		    "connection", s->backend);
		bconn_drop(b);
		sess_dispatch(s);
		return;
	}
	p = evbuffer_search_eol(in, NULL, &eol_len, EVBUFFER_EOL_LF);
	if (p.pos == -1) {
		if (evbuffer_get_length(in) > D.max_line) {
			bconn_fail(b, "reply too long");
			sess_dispatch(s);
		}
		return;
	}
	len = (size_t)p.pos;
	line = (const char *)evbuffer_pullup(in, (ssize_t)(len + 1));
	if (len > D.max_line)
		sess_reply_error(s, r->id, "reply too long");
	else
		sess_reply(s, r->id, line, len);
	evbuffer_drain(in, len + eol_len);
	free(r->payload);
	free(r);
	b->cur = NULL;
	TAILQ_REMOVE(&s->busy, b, entry);
	s->nbusy--;
	if (len > D.max_line || evbuffer_get_length(in) > 0) {
		/* More than one line per request: we cannot pair them up. */
		if (len <= D.max_line)
			log_warnx("backend %s sent more than one line for a "
			    "request: dropping the connection", s->backend);
		TAILQ_INSERT_HEAD(&s->idle, b, entry);
		bconn_drop(b);
	} else {
		bufferevent_set_timeouts(bev, NULL, NULL);
		/* Most recently used first: the others may time out. */
		TAILQ_INSERT_HEAD(&s->idle, b, entry);
	}
	sess_dispatch(s);
	sess_check_stop(s);
}

static void
bconn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct bconn	*b = arg;
	struct sess	*s = b->s;
	char		 e[128];

	if (b->cur == NULL) {
		/* An idle backend connection went away: fine. */
		log_debug("backend %s closed an idle connection", s->backend);
		bconn_drop(b);
		return;
	}
	if (what & BEV_EVENT_TIMEOUT)
		strlcpy(e, "timed out", sizeof(e));
	else if (what & BEV_EVENT_EOF)
		strlcpy(e, "closed the connection", sizeof(e));
	else
		linkproto_errstr(EVUTIL_SOCKET_ERROR(), e, sizeof(e));
	log_warnx("backend %s: %s (request %" PRIu64 " from %s)", s->backend,
	    e, b->cur->id, s->name);
	bconn_fail(b, e);
	sess_dispatch(s);
	sess_check_stop(s);
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
	if ((b->bev = bufferevent_socket_new(s->base, fd,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL)
		fatalx("bufferevent_socket_new failed");
	bufferevent_setcb(b->bev, bconn_read_cb, NULL, bconn_event_cb, b);
	bufferevent_setwatermark(b->bev, EV_READ, 0, D.max_line + 2);
	bufferevent_enable(b->bev, EV_READ | EV_WRITE);
	s->nconns++;
	TAILQ_INSERT_HEAD(&s->idle, b, entry);
	return b;
}

static void
bconn_start(struct bconn *b, struct lreq *r)
{
	struct sess	*s = b->s;
	struct evbuffer	*out = bufferevent_get_output(b->bev);
	struct timeval	 tv;

	TAILQ_REMOVE(&s->idle, b, entry);
	TAILQ_INSERT_TAIL(&s->busy, b, entry);
	s->nbusy++;
	b->cur = r;
	evbuffer_add(out, r->payload, r->len);
	evbuffer_add(out, "\n", 1);
	bufferevent_set_timeouts(b->bev, linkd_tv(D.backend_ms, &tv), NULL);
}

/* Give waiting requests to idle connections, opening new ones up to pool. */
static void
sess_dispatch(struct sess *s)
{
	struct lreq	*r;
	struct bconn	*b;
	char		 err[512];

	while (!s->ended && (r = TAILQ_FIRST(&s->wait)) != NULL) {
		if ((b = TAILQ_FIRST(&s->idle)) == NULL) {
			if (s->nconns >= D.pool)
				break;
			if ((b = bconn_open(s, err, sizeof(err))) == NULL) {
				/* Fail fast: the link may have a timeout. */
				log_warnx("backend for %s: %s", s->name, err);
				TAILQ_REMOVE(&s->wait, r, entry);
				s->nwait--;
				sess_reply_error(s, r->id, err);
				free(r->payload);
				free(r);
				continue;
			}
		}
		TAILQ_REMOVE(&s->wait, r, entry);
		s->nwait--;
		bconn_start(b, r);
	}
	sess_update_read(s);
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
		free(r->payload);
		free(r);
	}
	while ((b = TAILQ_FIRST(&s->busy)) != NULL)
		bconn_drop(b);
	while ((b = TAILQ_FIRST(&s->idle)) != NULL)
		bconn_drop(b);
	if (s->status_ev != NULL)
		event_free(s->status_ev);
	if (s->hello_ev != NULL)
		event_free(s->hello_ev);
	if (s->bev != NULL)
		bufferevent_free(s->bev);
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
	TAILQ_INIT(&s.idle);
	TAILQ_INIT(&s.busy);
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
	if ((s.base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	/* No BEV_OPT_CLOSE_ON_FREE: the prefork loop closes fd. */
	if ((s.bev = bufferevent_socket_new(s.base, fd, 0)) == NULL ||
	    (s.hello_ev = evtimer_new(s.base, sess_hello_cb, &s)) == NULL)
		fatalx("cannot create events");
	bufferevent_setcb(s.bev, sess_read_cb, sess_write_cb, sess_event_cb,
	    &s);
	bufferevent_setwatermark(s.bev, EV_READ, 0,
	    D.max_line + LINKPROTO_HDR_MAX + 2);
	bufferevent_enable(s.bev, EV_READ | EV_WRITE);
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

static long long
linkd_opt_time(const char *name, long long dflt)
{
	const char	*v;
	long long	 ms;

	if ((v = service_option(name)) == NULL)
		return dflt;
	if (linkproto_parse_time(v, &ms) == -1 || ms < 1)
		fatalx("bad option \"-o %s=%s\": expected a time such as 5, "
		    "5s or 200ms (at most 24h)", name, v);
	return ms;
}

static const char *
linkd_opt(const char *opt, const char *env)
{
	const char	*v;

	if ((v = service_option(opt)) != NULL && *v != '\0')
		return v;
	if (env != NULL && (v = getenv(env)) != NULL && *v != '\0')
		return v;
	return NULL;
}

static void
linkd_options(void)
{
	static char	 hostbuf[LINKPROTO_NAME_MAX + 1];
	struct errlist	 errs;
	struct config	*c;
	const char	*v;
	size_t		 i;

	if ((D.host = linkd_opt("host_name", "MASTER_HOST_NAME")) == NULL) {
		if (gethostname(hostbuf, sizeof(hostbuf)) == -1)
			fatal("gethostname");
		hostbuf[sizeof(hostbuf) - 1] = '\0';
		D.host = hostbuf;
	}
	if (!linkproto_name_ok(D.host, strlen(D.host)))
		fatalx("bad host name \"%s\": use letters, digits, \".\", "
		    "\"_\" and \"-\"", D.host);
	D.pool = (int)service_option_num("pool", 4, 1, 1024);
	D.max_pending = (int)service_option_num("max_pending", 1024, 1,
	    1000000);
	D.max_line = (size_t)service_option_num("max_line", 65536, 1,
	    64 * 1024 * 1024);
	D.hello_ms = linkd_opt_time("hello_timeout", 10 * 1000);
	D.backend_ms = linkd_opt_time("backend_timeout", 300 * 1000);
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
	if ((D.confdir = linkd_opt("config_dir", "MASTER_CONFIG_DIR")) == NULL)
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
