/*
 * linkd_input.c: what a session reads from the link: the hello, then
 * request lines.
 *
 * Lines are taken from the link's input while there is room for them
 * (fewer than max_pending requests in hand, and fewer than max_output
 * bytes of replies the link has not read); what is left waits in the
 * buffer and is taken up by the flusher's hook (sess_before_flush) once
 * replies have made room, even after the link's end-of-file.  The hello
 * is checked by linkd_peer.c; a request goes to the pool with its id,
 * which must be above the previous one.
 *
 * Failure policy: a malformed line, an id that does not grow or a line
 * longer than max_line (plus its header) is a protocol error, logged
 * with an escaped excerpt (log_escape: controls, C1 and bidi overrides
 * never reach the log raw); the link then closes, and the replies
 * already written still go out.  A refused hello is answered "ERR
 * <reason>" before the close.
 */
#include <sys/types.h>

#include <errno.h>
#include <event2/event.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "lconn.h"
#include "linkd.h"
#include "log.h"
#include "util.h"

/* A line that breaks the protocol, logged with an escaped excerpt. */
static void
sess_log_bad(struct sess *s, const char *what, const char *line,
    size_t len)
{
	char	 ex[LOG_ESCAPE_SIZE(LINKPROTO_EXCERPT)];

	linkproto_excerpt(line, len, LINKPROTO_EXCERPT, ex, sizeof(ex));
	if (s->name[0] != '\0')
		log_warnx("protocol error on the link from %s (%s): %s: "
		    "\"%s\"", s->name, s->ip, what, ex);
	else
		log_warnx("protocol error on the link from %s: %s: \"%s\"",
		    s->ip, what, ex);
}

static void
sess_protocol_error(struct sess *s, const char *what, const char *line,
    size_t len)
{
	sess_log_bad(s, what, line, len);
	/* Replies already written still go out. */
	sess_close(s, "protocol error");
}

static void
sess_hello(struct sess *s, const char *line, size_t len)
{
	char		 ex[LOG_ESCAPE_SIZE(LINKPROTO_EXCERPT)];
	char		 name[LINKPROTO_NAME_MAX + 1];
	const char	*why;
	int		 rc;

	rc = linkproto_parse_hello(line, len, name, sizeof(name), &why);
	if (rc == -1) {
		sess_log_bad(s, why, line, len);
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
	rc = peer_accept(linkd_tls_config(s), s->c->fd, s->ip, name,
	    &s->backend, &why) == -1 || linkd_tls_hello(s, name, &why) == -1;
	linkd_tls_config_done(s);
	if (rc) {
		sess_refuse(s, why);
		return;
	}
	strlcpy(s->name, name, sizeof(s->name));
	evtimer_del(s->timer_ev);
	sess_replace(s);
	lconn_add(s->c, "OK 1 ", 5, D.host, strlen(D.host));
	sess_set_state(s, SESS_UP, NULL);
}

static void
sess_request(struct sess *s, const char *line, size_t len)
{
	const char	*payload, *why;
	size_t		 plen;
	uint64_t	 id;
	char		 err[128];

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
	pool_request(s, id, line, (size_t)(payload - line), len);
}

/*
 * The complete lines read from the link, while there is room for them;
 * returns how many were taken.
 */
static int
sess_process(struct sess *s)
{
	const char	*line;
	size_t		 len, max;
	int		 n = 0;

	max = D.max_line + LINKPROTO_HDR_MAX;
	s->held = 0;
	/* Lags are known before the pool is picked from. */
	if (s->state == SESS_UP)
		pool_catch_up(s);
	while (s->state == SESS_HELLO || s->state == SESS_UP ||
	    s->state == SESS_PEER_EOF) {
		if (s->state != SESS_HELLO &&
		    (s->nwait + s->nsent >= D.max_pending ||
		    sess_out_full(s))) {
			s->held = lconn_inlen(s->c) > 0;
			break;
		}
		if ((line = lconn_line(s->c, &len)) == NULL) {
			if (s->c->scan > max)
				sess_protocol_error(s, "line too long",
				    lconn_pullup(s->c, LINKPROTO_EXCERPT),
				    LINKPROTO_EXCERPT);
			break;
		}
		if (len > max) {
			sess_protocol_error(s, "line too long", line, len);
			break;
		}
		if (s->state == SESS_HELLO)
			sess_hello(s, line, len);
		else
			sess_request(s, line, len);
		lconn_consume(s->c, len + 1);
		n++;
	}
	return n;
}

/* The flusher's hook: lines held back for want of room, now there is. */
int
sess_before_flush(void *arg)
{
	struct sess	*s = arg;
	int		 n;

	if (!s->held || s->nwait + s->nsent >= D.max_pending ||
	    sess_out_full(s))
		return 0;
	n = sess_process(s);
	sess_settle(s);
	return n > 0;
}

void
sess_readable(struct lconn *c, short what, void *arg)
{
	struct sess	*s = arg;
	const char	*why;
	ssize_t		 n;
	char		 e[128];

	/* TLS or plaintext: the first bytes say (linkd_tls.c). */
	if (!s->sniffed && s->state == SESS_HELLO && linkd_tls_sniff(s) != 0)
		return;
	if ((n = lconn_read(c)) == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return;
		if ((why = lconn_tls_error(c)) != NULL) {
			if (s->state == SESS_HELLO)
				limit_log("TLS with %s failed: %s", s->ip, why);
			sess_end(s, why);
			return;
		}
		linkproto_errstr(errno, e, sizeof(e));
		sess_end(s, e);
		return;
	}
	sess_process(s);
	if (n == 0) {
		/*
		 * Requests in hand are still answered: a half close still
		 * reads them (link itself never half-closes; if it is gone
		 * for good, our writes fail and end it).
		 */
		if (s->state == SESS_UP)
			sess_set_state(s, SESS_PEER_EOF, NULL);
		else
			sess_end(s, "connection closed");
	}
	sess_settle(s);
}

