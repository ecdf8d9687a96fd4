/*
 * linkd_tls.c: TLS on a link linkd serves.
 *
 * The first bytes of a new connection say what it is (tls_sniff, read
 * with MSG_PEEK so that nothing is taken from the line reader): a TLS
 * ClientHello starts with 0x16, a hello line never does.  A TLS
 * connection is put on TLS (lconn_tls.c) when this host has tls_key and
 * tls_cert in linkmaster.conf, read again for every connection, its
 * context made again only when the files changed (linktls.c: a rotation
 * applies to the next link, live ones keep theirs).  The handshake then
 * happens as the hello is read, accepting any certificate: who the peer
 * is comes with the hello, and then its certificate must be that peer's
 * (tls_verify_peer: a pinned fingerprint of its peer section, or signed
 * by tls_ca with the hello name among its subjectAltNames).
 *
 * Refused, each with a warning that says why (limit_log: a flood of
 * refusals is not a flood of log lines): a TLS connection to a host
 * without TLS (answered with a plaintext "ERR", which the other side's
 * TLS reports as a peer that does not speak TLS); a plaintext hello from
 * a peer whose link is to use TLS (config_peer_tls: plaintext only for
 * "tls = no", or when this host has no key), answered "ERR TLS
 * required"; a certificate that is not the hello name's, answered over
 * TLS.  Standalone (-o peers) there is no TLS.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "lconn.h"
#include "linkd.h"
#include "linktls.h"
#include "log.h"
#include "tls.h"
#include "util.h"

#define LINKD_NO_TLS	"this host does not use TLS"

/*
 * linkmaster.conf for this connection: read once, at its first byte when
 * it is TLS or else at its hello, for the TLS context, the peer list and
 * the peer's TLS settings alike (with many peers a read is milliseconds,
 * and linkd serves every connection in one loop); dropped once the hello
 * is judged.  NULL when it cannot be read (logged) or standalone.
 */
const struct config *
linkd_tls_config(struct sess *s)
{
	struct errlist	 errs;
	size_t		 i;

	if (s->cfg != NULL || D.confdir == NULL)
		return s->cfg;
	errlist_init(&errs);
	if ((s->cfg = config_load(D.confdir, &errs)) == NULL)
		for (i = 0; i < errs.n; i++)
			log_error("%s", errs.msg[i]);
	errlist_free(&errs);
	return s->cfg;
}

void
linkd_tls_config_done(struct sess *s)
{
	config_free(s->cfg);
	s->cfg = NULL;
}

/*
 * In HELLO, before the first read: 1 nothing came yet (wait for the
 * next event), 0 go on reading (the connection may be on TLS now), -1
 * refused (the session is closing).
 */
int
linkd_tls_sniff(struct sess *s)
{
	struct tls_ctx		*ctx;
	const struct config	*c;
	unsigned char		 b[8];
	char			 err[512];
	ssize_t			 n;
	int			 renewed;

	do
		n = recv(s->c->fd, b, sizeof(b), MSG_PEEK | MSG_DONTWAIT);
	while (n == -1 && errno == EINTR);
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 1;
	s->sniffed = 1;
	/* An error or end-of-file: the read says it. */
	if (n <= 0 || tls_sniff(b, (size_t)n) == TLS_SNIFF_PLAIN)
		return 0;
	/* One byte 0x16 is enough: no hello line starts so. */
	if (D.confdir == NULL) {
		limit_log("TLS connection from %s refused: this linkd has no "
		    "TLS (-o peers)", s->ip);
		sess_refuse(s, LINKD_NO_TLS);
		return -1;
	}
	if ((c = linkd_tls_config(s)) == NULL) {
		limit_log("TLS connection from %s refused: cannot read the "
		    "TLS settings", s->ip);
		sess_end(s, "configuration error");
		return -1;
	}
	if (c->tls_key == NULL || c->tls_cert == NULL) {
		limit_log("TLS connection from %s refused: this host has no "
		    "tls_key and tls_cert", s->ip);
		sess_refuse(s, LINKD_NO_TLS);
		return -1;
	}
	ctx = linktls_ctx(TLS_SERVER, c->tls_key, c->tls_cert, c->tls_ca,
	    &renewed, err, sizeof(err));
	if (ctx == NULL) {
		limit_log("TLS connection from %s refused: %s", s->ip, err);
		sess_end(s, "TLS configuration error");
		return -1;
	}
	if (renewed)
		log_info("TLS: certificate %s", tls_ctx_fingerprint(ctx));
	lconn_tls_start(s->c, tls_new(ctx, s->c->fd, NULL, NULL, 0));
	return 0;
}

/*
 * The hello named name, a peer linkd_peer.c accepted: is the connection
 * what that peer's link must be?  0 yes; -1 refused, with a warning
 * logged and the reason to answer in *refusal.
 */
int
linkd_tls_hello(struct sess *s, const char *name, const char **refusal)
{
	const struct peer	*p = NULL;
	const struct config	*c;
	struct tls		*t = lconn_tls(s->c);
	int			 k, rc = 0;

	if (D.confdir == NULL)
		return 0;	/* standalone: plaintext (not sniffed TLS) */
	if ((c = linkd_tls_config(s)) == NULL) {
		limit_log("refusing link from %s: cannot read the TLS "
		    "settings", s->ip);
		*refusal = "configuration error";
		return -1;
	}
	for (k = 0; k < c->npeers && p == NULL; k++)
		if (strcmp(c->peers[k].name, name) == 0)
			p = &c->peers[k];
	if (p == NULL) {
		limit_log("refusing link from %s: hello name \"%s\" is not a "
		    "peer", s->ip, name);
		*refusal = "not a peer";
		rc = -1;
	} else if (t != NULL) {
		if (tls_verify_peer(t, name, (const char *const *)
		    p->fingerprints, p->nfingerprints) == -1) {
			limit_log("refusing link from %s (hello name \"%s\"): "
			    "%s", s->ip, name, tls_error(t));
			*refusal = "certificate refused";
			rc = -1;
		} else
			log_debug("link from %s (%s): TLS, certificate %s",
			    name, s->ip, tls_peer_fingerprint(t));
	} else if (config_peer_tls(c, p)) {
		limit_log("plaintext connection from %s refused: this host "
		    "requires TLS (hello name \"%s\")", s->ip, name);
		*refusal = "TLS required";
		rc = -1;
	}
	return rc;
}
