/*
 * link_dial.c: how the link helper reaches its peer's linkd (link_peer.c
 * is what the link does once connected): the peer's address resolved
 * again at each attempt, to follow a change, its addresses tried in turn
 * (from bind= when set), each non-blocking within connect_timeout, and
 * the back-off's timer that dials again.
 *
 * TLS: linkmaster.conf (MASTER_CONFIG_DIR or -o config_dir) is read
 * again at every attempt, its global settings and our own peer section
 * only (config_load_peer): whether the peer's link uses TLS
 * (config_peer_tls), its pinned fingerprints, and this host's key and
 * certificate, whose context linktls.c makes again only when the files
 * changed (a rotation applies to the next link; the one up keeps its
 * session).
 *
 * Failure policy: an address that does not resolve, no address that
 * connects (the last error is the one reported), an unreadable
 * configuration or a key or certificate that cannot be loaded fail the
 * attempt: the link goes down with that reason (peer_down) and is
 * dialled again after the back-off.  Only an event that cannot be made
 * is fatal.
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
#include "util.h"

static void	peer_retry_cb(int, short, void *);
static void	peer_connect_next(void);

void
peer_init(void)
{
	L.connfd = -1;
	if ((L.retry_ev = evtimer_new(L.base, peer_retry_cb, NULL)) == NULL)
		fatalx("cannot create events");
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
