/*
 * link_peer.c: the link helper's connection to its peer's linkd, in one
 * of five states entered through peer_set_state(), which logs it and
 * tells the master (the status): down ("down: why, retry in N"),
 * connecting (resolved again at each attempt), hello ("HELLO 1 <host>"
 * sent; status still "connecting"), up ("OK 1 <peer>" came back) and
 * handed over (the master has the socket: link_stop.c).  Reconnects
 * back off between retry_min and retry_max, reset by a successful hello.
 * After READY nothing about the peer is fatal: a protocol error, a peer
 * naming itself otherwise, a refused hello are logged (the peer's text
 * escaped), the link dropped and dialled again.
 *
 * TLS: linkmaster.conf (MASTER_CONFIG_DIR or -o config_dir) is read
 * again at every attempt, its global settings and our own peer section
 * only (config_load_peer): whether the peer's link uses TLS
 * (config_peer_tls), its pinned fingerprints, and this host's key and
 * certificate, whose context linktls.c makes again only when the files
 * changed (a rotation applies to the next link; the one up keeps its
 * session).  A TLS link makes its handshake with the hello's bytes
 * (lconn_tls.c) and checks the peer's certificate in it (tls.c); a
 * refusal either way takes the link down like any other failure, with
 * TLS's reason as the reason, and the same back-off.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <netinet/in.h>

#include <errno.h>
#include <event2/event.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "link.h"
#include "linkproto.h"
#include "linktls.h"
#include "log.h"
#include "queue.h"
#include "service.h"
#include "util.h"

static void	peer_retry_cb(int, short, void *);
static void	peer_connect_next(void);

static const char *const peer_state_names[] = { "down", "connecting",
	"hello", "up", "handed over" };

void
peer_init(void)
{
	L.connfd = -1;
	if ((L.retry_ev = evtimer_new(L.base, peer_retry_cb, NULL)) == NULL)
		fatalx("cannot create events");
}

int
peer_is_up(void)
{
	return L.state == PEER_UP;
}

/*
 * The one place the link's state changes: logged, and sent to the master
 * as the status.  why: what took it down (PEER_DOWN); for PEER_UP, not
 * NULL when the link was taken over from the previous generation.
 */
void
peer_set_state(enum peer_state st, const char *why)
{
	struct timeval	 tv;
	char		 d[32];
	long long	 delay;

	log_debug("link to %s: %s -> %s", L.peer, peer_state_names[L.state],
	    peer_state_names[st]);
	L.state = st;
	switch (st) {
	case PEER_DOWN:
		if (L.stopping) {
			log_info("link to %s down: %s", L.peer, why);
			service_status("down: %s", why);
			break;
		}
		delay = backoff_ms(L.attempt++, L.retry_min, L.retry_max,
		    arc4random());
		fmt_duration(delay, d, sizeof(d));
		log_info("link to %s down: %s, retry in %s", L.peer, why, d);
		service_status("down: %s, retry in %s", why, d);
		evtimer_add(L.retry_ev, ms_timeval(delay, &tv));
		break;
	case PEER_CONNECTING:
		log_debug("connecting to %s at %s port %s", L.peer, L.address,
		    L.port);
		service_status("connecting");
		break;
	case PEER_HELLO:	/* still "connecting" for the master */
		log_debug("connected to %s, hello sent", L.peer);
		break;
	case PEER_UP:
		L.attempt = 0;
		if (why != NULL)
			log_info("took over the link to %s", L.peer);
		else if (L.lc != NULL && lconn_tls(L.lc) != NULL)
			log_info("link to %s up (TLS, certificate %s)", L.peer,
			    tls_peer_fingerprint(lconn_tls(L.lc)));
		else
			log_info("link to %s up", L.peer);
		service_status("up");
		/* The handshake's code and buffers, until the next one. */
		if (L.lc != NULL && lconn_tls(L.lc) != NULL)
			linktls_settle(lconn_tls(L.lc));
		break;
	case PEER_HANDED_OVER:
		log_info("handing the link to %s over to the master", L.peer);
		service_status("handed over");
		break;
	}
}

/* The link is gone (or never came): fail what was on it, dial later. */
void
peer_down(const char *why)
{
	char	 reason[300];

	/* why may point into a buffer freed below. */
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
	lconn_free(L.lc);
	L.lc = NULL;
	if (L.state == PEER_UP)
		replay_link_lost();
	peer_set_state(PEER_DOWN, reason);
	req_fail_all();
	stop_check();
}

/* One request line on its way: "<id> " and the payload, one append. */
void
peer_send(const char *hdr, size_t hlen, const char *line, size_t len)
{
	lconn_add(L.lc, hdr, hlen, line, len);
}

static void
peer_protocol_error(const char *what, const char *line, size_t len)
{
	char	 ex[LOG_ESCAPE_SIZE(LINKPROTO_EXCERPT)];

	(void)log_escape(line, len, LINKPROTO_EXCERPT, ex, sizeof(ex));
	log_warnx("protocol error on the link to %s: %s: \"%s\"", L.peer,
	    what, ex);
	peer_down("protocol error");
}

static void
peer_up(int took_over)
{
	event_remove_timer(L.lc->rev);
	peer_set_state(PEER_UP, took_over ? "taken over" : NULL);
	replay_next();
}

/* The answer to our hello. */
static void
peer_hello_answer(const char *line, size_t len)
{
	char	 text[LINKPROTO_NAME_MAX + 1], reason[300];
	char	 ex[256];	/* cut: fits reason */

	switch (linkproto_parse_answer(line, len, text, sizeof(text))) {
	case LINKPROTO_OK:
		/* Another linkd (wrong address, port or host_name). */
		if (strcmp(text, L.peer) != 0) {
			log_warnx("the linkd at %s port %s names itself "
			    "\"%s\", not \"%s\": refusing the link", L.address,
			    L.port, text, L.peer);
			(void)snprintf(reason, sizeof(reason),
			    "peer names itself \"%s\"", text);
			peer_down(reason);
			return;
		}
		peer_up(0);
		return;
	case LINKPROTO_ERR:
		/* The peer's words, for the log and the status: escaped. */
		(void)log_escape(text, strlen(text), sizeof(text), ex,
		    sizeof(ex));
		(void)snprintf(reason, sizeof(reason), "hello refused: %s", ex);
		peer_down(reason);
		return;
	default:
		peer_protocol_error("bad answer to hello", line, len);
		return;
	}
}

/* One line from the peer; the link may be gone afterwards. */
static void
peer_line(const char *line, size_t len)
{
	const char	*payload, *why;
	size_t		 plen;
	uint64_t	 id;

	if (L.state == PEER_HELLO) {
		peer_hello_answer(line, len);
		return;
	}
	if (linkproto_parse_msg(line, len, &id, &payload, &plen, &why) == -1) {
		peer_protocol_error(why, line, len);
		return;
	}
	if (!req_known(id)) {
		peer_protocol_error("reply to a request never sent", line, len);
		return;
	}
	req_reply(id, payload, plen);
}

/* Why a read or write failed: TLS's own words when it has them. */
static void
peer_errstr(int e, char *buf, size_t len)
{
	const char	*why;

	if (L.lc != NULL && (e == ECONNRESET || e == EPIPE) &&
	    (why = lconn_tls_unanswered(L.lc, 1)) != NULL)
		(void)snprintf(buf, len, "%s", why);
	else if (L.lc != NULL && (why = lconn_tls_error(L.lc)) != NULL)
		(void)snprintf(buf, len, "TLS: %s", why);
	else
		linkproto_errstr(e, buf, len);
}

/* One read, then its lines; the hello has connect_timeout to come. */
static void
peer_readable(struct lconn *lc, short what, void *arg)
{
	const char	*line, *why;
	size_t		 len, max;
	ssize_t		 n;
	char		 e[LINK_REASON_MAX];

	/* Nothing of TLS from the peer: it may not speak it (lconn_tls.c). */
	if (what & EV_TIMEOUT) {
		if ((why = lconn_tls_unanswered(lc, 0)) == NULL)
			why = L.state == PEER_HELLO ? "no answer to hello" :
			    "timed out";
		peer_down(why);
		return;
	}
	if ((n = lconn_read(lc)) == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return;
		peer_errstr(errno, e, sizeof(e));
		peer_down(e);
		return;
	}
	max = L.max_line + LINKPROTO_HDR_MAX;
	while ((line = lconn_line(lc, &len)) != NULL) {
		if (len > max) {
			peer_protocol_error("line too long", line, len);
			return;
		}
		peer_line(line, len);
		/* Gone (peer_down): lc is freed. */
		if (L.lc != lc)
			return;
		lconn_consume(lc, len + 1);
	}
	if (lc->scan > max) {
		len = lconn_inlen(lc);
		if (len > LINKPROTO_EXCERPT)
			len = LINKPROTO_EXCERPT;
		peer_protocol_error("line too long", lconn_pullup(lc, len), len);
		return;
	}
	if (n == 0)
		peer_down((why = lconn_tls_unanswered(lc, 1)) != NULL ? why :
		    "connection closed by peer");
}

/* What was left over is out, or the write failed. */
static void
peer_written(struct lconn *lc, int error, void *arg)
{
	char	 e[LINK_REASON_MAX];

	if (error) {
		peer_errstr(errno, e, sizeof(e));
		peer_down(e);
	}
}

/* A connected socket: say hello, or (handed over) it is up already. */
void
peer_established(int fd, int greeted)
{
	struct timeval	 tv;
	char		 hello[LINKPROTO_NAME_MAX + 16];
	int		 n;

	if (L.ai != NULL) {
		freeaddrinfo(L.ai);
		L.ai = L.aicur = NULL;
	}
	linkproto_sockopts(fd);
	/* Written before the clients, for requests to be on their way. */
	L.lc = lconn_new(L.fl, fd, LCONN_FIRST, peer_readable, peer_written,
	    NULL);
	/* The handshake goes with the hello's bytes (lconn_tls.c). */
	if (!greeted && L.tls)
		lconn_tls_start(L.lc, tls_new(L.tlsctx, fd, L.peer,
		    (const char *const *)L.pins, L.npins));
	if (greeted) {
		lconn_read_on(L.lc, 1, NULL);
		peer_up(1);
		return;
	}
	peer_set_state(PEER_HELLO, NULL);
	lconn_read_on(L.lc, 1, ms_timeval(L.connect_ms, &tv));
	n = snprintf(hello, sizeof(hello), "HELLO %d %s", LINKPROTO_VERSION,
	    L.host);
	lconn_add(L.lc, hello, (size_t)n, NULL, 0);
}

static void
peer_connect_cb(int fd, short what, void *arg)
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
		peer_established(fd, 0);
		return;
	}
	linkproto_errstr(e, L.lasterr, sizeof(L.lasterr));
	close(fd);
	L.aicur = L.aicur->ai_next;
	peer_connect_next();
}

/* Try the peer's addresses in turn; the last error is the one reported. */
static void
peer_connect_next(void)
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
			peer_established(fd, 0);
			return;
		}
		if (errno == EINPROGRESS) {
			L.connfd = fd;
			if ((L.conn_ev = event_new(L.base, fd, EV_WRITE,
			    peer_connect_cb, NULL)) == NULL)
				fatalx("event_new failed");
			event_add(L.conn_ev, ms_timeval(L.connect_ms, &tv));
			return;
		}
		linkproto_errstr(errno, L.lasterr, sizeof(L.lasterr));
		close(fd);
	}
	peer_down(L.lasterr);
}

void
peer_connect(void)
{
	struct addrinfo	 hints;
	int		 gai;

	if (L.stopping || L.state != PEER_DOWN)
		return;
	peer_set_state(PEER_CONNECTING, NULL);
	if (peer_tls_settings(L.lasterr, sizeof(L.lasterr)) == -1) {
		peer_down(L.lasterr);
		return;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	/* Each time, to follow a change; it blocks: use an address. */
	if ((gai = getaddrinfo(L.address, L.port, &hints, &L.ai)) != 0) {
		L.ai = NULL;
		(void)snprintf(L.lasterr, sizeof(L.lasterr), "cannot resolve "
		    "%s: %s", L.address, gai == EAI_SYSTEM ? strerror(errno) :
		    gai_strerror(gai));
		peer_down(L.lasterr);
		return;
	}
	L.aicur = L.ai;
	strlcpy(L.lasterr, "no usable address", sizeof(L.lasterr));
	peer_connect_next();
}

static void
peer_pins_free(void)
{
	int	 i;

	for (i = 0; i < L.npins; i++)
		free(L.pins[i]);
	free(L.pins);
	L.pins = NULL;
	L.npins = 0;
}

/*
 * The peer's TLS settings from linkmaster.conf as it is now: L.tls, and
 * with it L.tlsctx and L.pins.  0, or -1 with the reason in err (then
 * the attempt fails and is made again after the back-off).  Without a
 * configuration directory (standalone) the link is plaintext.
 */
int
peer_tls_settings(char *err, size_t errlen)
{
	struct errlist		 errs;
	struct config		*c;
	const struct peer	*p = NULL;
	size_t			 i;
	int			 k, renewed;

	L.tls = 0;
	peer_pins_free();
	if (L.confdir == NULL)
		return 0;
	errlist_init(&errs);
	/* Only our own section: 200 others would cost 360 kB of heap. */
	if ((c = config_load_peer(L.confdir, L.peer, &errs)) == NULL) {
		for (i = 0; i < errs.n; i++)
			log_error("%s", errs.msg[i]);
		errlist_free(&errs);
		(void)snprintf(err, errlen, "cannot read %s/linkmaster.conf "
		    "for the TLS settings", L.confdir);
		return -1;
	}
	errlist_free(&errs);
	for (k = 0; k < c->npeers && p == NULL; k++)
		if (strcmp(c->peers[k].name, L.peer) == 0)
			p = &c->peers[k];
	if (p == NULL) {
		(void)snprintf(err, errlen, "peer \"%s\" is not in %s",
		    L.peer, c->conf_file);
		config_free(c);
		return -1;
	}
	if (!config_peer_tls(c, p)) {
		config_free(c);
		return 0;
	}
	if ((L.tlsctx = linktls_ctx(TLS_CLIENT, c->tls_key, c->tls_cert,
	    c->tls_ca, &renewed, err, errlen)) == NULL) {
		config_free(c);
		return -1;
	}
	if (renewed)
		log_info("TLS for the link to %s: certificate %s", L.peer,
		    tls_ctx_fingerprint(L.tlsctx));
	if (p->nfingerprints > 0) {
		L.pins = xcalloc(p->nfingerprints, sizeof(*L.pins));
		for (k = 0; k < p->nfingerprints; k++)
			L.pins[k] = xstrdup(p->fingerprints[k]);
		L.npins = p->nfingerprints;
	}
	L.tls = 1;
	config_free(c);
	return 0;
}

static void
peer_retry_cb(int fd, short ev, void *arg)
{
	peer_connect();
}
