/*
 * link_peer.c: the link helper's connection to its peer's linkd, in one
 * of five states entered through peer_set_state(), which logs it and
 * tells the master (the status): down ("down: why, retry in N"),
 * connecting (link_dial.c: resolved again at each attempt), hello
 * ("HELLO 1 <host>" sent; status still "connecting"), up ("OK 1 <peer>"
 * came back) and handed over (the master has the socket: link_stop.c).
 * Reconnects back off between retry_min and retry_max, reset by a
 * successful hello.  This file: the states, the hello and its answer, and
 * the lines both ways once connected.
 *
 * A TLS link makes its handshake with the hello's bytes (lconn_tls.c)
 * and checks the peer's certificate in it (tls.c); the TLS settings are
 * link_dial.c's.  Failure policy: after READY nothing about the peer is
 * fatal: a protocol error, a peer naming itself otherwise, a refused
 * hello, a TLS refusal either way are logged (the peer's text escaped,
 * TLS's reason as the reason), the link dropped, what was in flight on
 * it failed, and the peer dialled again after the back-off.
 */
#include <sys/types.h>
#include <sys/time.h>

#include <errno.h>
#include <event2/event.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "link.h"
#include "linkproto.h"
#include "linktls.h"
#include "log.h"
#include "queue.h"
#include "service.h"
#include "util.h"

static const char *const peer_state_names[] = { "down", "connecting",
	"hello", "up", "handed over" };

int
peer_is_up(void)
{
	return L.state == PEER_UP;
}

/* A TLS link gives back the pages and buffers an idle link does not use. */
void
peer_settle(void)
{
	if (L.state == PEER_UP && L.lc != NULL && lconn_tls(L.lc) != NULL)
		linktls_settle(lconn_tls(L.lc));
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
		peer_settle();
		L.settle_want = L.settle_ms > 0 && L.lc != NULL &&
		    lconn_tls(L.lc) != NULL;
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
