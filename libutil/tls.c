/*
 * tls.c: TLS 1.3 with mutual authentication over a socket, for the link
 * helpers; OpenSSL 3 does every piece of cryptography.
 *
 * Both sides present a certificate and check the other's.  OpenSSL's own
 * chain check is replaced (SSL_CTX_set_cert_verify_callback) by
 * tls_verify_cert, which decides by the rules of tls.h and says why in
 * words: a pinned fingerprint wins alone; else the chain must reach tls_ca
 * and the peer's name must be in subjectAltName.  The refusal also goes to
 * the peer as a TLS alert that fits it (unknown CA, certificate expired,
 * bad certificate), so that both sides' logs say what went wrong.
 *
 * A server does not know its peer before the hello: it may accept any
 * certificate in the handshake and judge it in tls_verify_peer afterwards.
 *
 * Failures never exit: each call returns -1 with errno and a reason in
 * the tls (tls_error); OpenSSL's error queue is emptied after each call,
 * so that one connection's errors never show up in another's.  A tls_ctx
 * is reference counted: a reload frees its old context while connections
 * made from it live on.
 */
#include <sys/types.h>
#include <sys/uio.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "log.h"
#include "tls.h"
#include "tlsprov.h"
#include "util.h"

#define TLS_RECORD	16384		/* a full TLS record of plaintext */
#define TLS_EXPIRY_WARN	(30 * 86400)	/* check warns this long before */

struct tls_ctx {
	SSL_CTX		*ssl;
	enum tls_role	 role;
	int		 has_ca;
	int		 refs;		/* the owner's and each tls's */
	char		 fp[TLS_FP_LEN + 1];
};

struct tls {
	struct tls_ctx	*ctx;
	SSL		*ssl;
	char		*peer;		/* NULL: judged by tls_verify_peer */
	char		**pins;
	int		 npins;
	int		 verified;	/* the peer passed tls_verify_cert */
	enum tls_want	 want;
	char		 peer_fp[TLS_FP_LEN + 1];
	char		 reason[TLS_REASON_MAX];
};

static int	tls_ex_index = -1;	/* the struct tls of an SSL */
static EVP_MD	*tls_sha256;		/* tlsprov's, once a context was made */

/* "2026-12-06 00:14:54 UTC", or "?" when OpenSSL cannot say. */
static const char *
tls_fmt_time(const ASN1_TIME *at, char *buf, size_t len)
{
	struct tm	 tm;

	if (ASN1_TIME_to_tm(at, &tm) != 1 ||
	    strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		snprintf(buf, len, "?");
	return buf;
}

static time_t
tls_asn1_time_t(const ASN1_TIME *at)
{
	struct tm	 tm;

	if (ASN1_TIME_to_tm(at, &tm) != 1)
		return 0;
	return timegm(&tm);
}

/* "sha256:" and the lower-case hex SHA-256 of the DER certificate. */
static int
tls_fingerprint(X509 *x, char *fp)
{
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 n, i;

	if (X509_digest(x, tls_sha256 != NULL ? tls_sha256 : EVP_sha256(),
	    md, &n) != 1 || n != 32)
		return -1;
	memcpy(fp, "sha256:", 7);
	for (i = 0; i < n; i++)
		snprintf(fp + 7 + 2 * i, 3, "%02x", md[i]);
	return 0;
}

/* The DNS names of x's subjectAltName, for a message: "a, b" or "none". */
static void
tls_san_list(X509 *x, char *buf, size_t len)
{
	GENERAL_NAMES		*gens;
	const GENERAL_NAME	*g;
	const unsigned char	*s;
	size_t			 used = 0;
	int			 i, n;

	snprintf(buf, len, "none");
	gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	if (gens == NULL)
		return;
	for (i = 0; i < sk_GENERAL_NAME_num(gens) && used < len; i++) {
		g = sk_GENERAL_NAME_value(gens, i);
		if (g->type != GEN_DNS)
			continue;
		s = ASN1_STRING_get0_data(g->d.dNSName);
		n = ASN1_STRING_length(g->d.dNSName);
		used += snprintf(buf + used, len - used, "%s%.*s",
		    used ? ", " : "", n > 64 ? 64 : n, (const char *)s);
	}
	GENERAL_NAMES_free(gens);
}

/* Is x valid at now?  0, or -1 with the reason (and *verr). */
static int
tls_check_time(X509 *x, time_t now, const char *who, char *err,
    size_t errlen, int *verr)
{
	char	 when[64];

	if (X509_cmp_time(X509_get0_notBefore(x), &now) >= 0) {
		errbuf_set(err, errlen, "%s is not yet valid (not before "
		    "%s)", who, tls_fmt_time(X509_get0_notBefore(x), when,
		    sizeof(when)));
		*verr = X509_V_ERR_CERT_NOT_YET_VALID;
		return -1;
	}
	if (X509_cmp_time(X509_get0_notAfter(x), &now) <= 0) {
		errbuf_set(err, errlen, "%s expired on %s", who,
		    tls_fmt_time(X509_get0_notAfter(x), when, sizeof(when)));
		*verr = X509_V_ERR_CERT_HAS_EXPIRED;
		return -1;
	}
	return 0;
}

/*
 * Judge the peer's certificate leaf (with the chain it sent) by the rules
 * of tls.h.  0, or -1 with t->reason set and *verr the X509_V_ERR_* that
 * picks the alert.
 */
static int
tls_verify_cert(struct tls *t, X509 *leaf, STACK_OF(X509) *chain,
    const char *peer, char *const *pins, int npins, int *verr)
{
	X509_STORE_CTX	*xs;
	char		 who[320], names[200];
	int		 i, rc, e;

	*verr = X509_V_ERR_CERT_REJECTED;
	if (leaf == NULL) {
		snprintf(t->reason, sizeof(t->reason), "no certificate from "
		    "peer %s", peer);
		return -1;
	}
	if (tls_fingerprint(leaf, t->peer_fp) == -1) {
		snprintf(t->reason, sizeof(t->reason), "cannot compute the "
		    "fingerprint of the certificate of peer %s", peer);
		return -1;
	}
	snprintf(who, sizeof(who), "the certificate of peer %s", peer);
	if (tls_check_time(leaf, time(NULL), who, t->reason,
	    sizeof(t->reason), verr) == -1)
		return -1;
	if (npins > 0) {
		for (i = 0; i < npins; i++)
			if (strcasecmp(pins[i], t->peer_fp) == 0)
				return 0;
		snprintf(t->reason, sizeof(t->reason), "fingerprint mismatch: "
		    "the certificate of peer %s is %s, not the one pinned",
		    peer, t->peer_fp);
		return -1;
	}
	if (!t->ctx->has_ca) {
		snprintf(t->reason, sizeof(t->reason), "no fingerprint is "
		    "pinned for peer %s and there is no tls_ca to check its "
		    "certificate", peer);
		return -1;
	}
	if ((xs = X509_STORE_CTX_new_ex(tlsprov_libctx(), NULL)) == NULL ||
	    X509_STORE_CTX_init(xs, SSL_CTX_get_cert_store(t->ctx->ssl), leaf,
	    chain) != 1) {
		X509_STORE_CTX_free(xs);
		snprintf(t->reason, sizeof(t->reason), "out of memory");
		return -1;
	}
	X509_STORE_CTX_set_purpose(xs, t->ctx->role == TLS_CLIENT ?
	    X509_PURPOSE_SSL_SERVER : X509_PURPOSE_SSL_CLIENT);
	rc = X509_verify_cert(xs);
	e = X509_STORE_CTX_get_error(xs);
	X509_STORE_CTX_free(xs);
	if (rc != 1) {
		*verr = e;
		switch (e) {
		case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
		case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
		case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
		case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
		case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
		case X509_V_ERR_CERT_SIGNATURE_FAILURE:
			snprintf(t->reason, sizeof(t->reason), "the "
			    "certificate of peer %s is not signed by tls_ca "
			    "(%s)", peer, X509_verify_cert_error_string(e));
			break;
		default:
			snprintf(t->reason, sizeof(t->reason), "the "
			    "certificate of peer %s: %s", peer,
			    X509_verify_cert_error_string(e));
		}
		return -1;
	}
	if (X509_check_host(leaf, peer, 0, X509_CHECK_FLAG_NO_WILDCARDS |
	    X509_CHECK_FLAG_NEVER_CHECK_SUBJECT, NULL) != 1) {
		tls_san_list(leaf, names, sizeof(names));
		snprintf(t->reason, sizeof(t->reason), "name mismatch: the "
		    "certificate signed by tls_ca is for %s, not for peer %s",
		    names, peer);
		*verr = X509_V_ERR_HOSTNAME_MISMATCH;
		return -1;
	}
	return 0;
}

/*
 * OpenSSL's chain check, replaced: judge the peer now if it is known,
 * else only take note of its fingerprint.  A refusal fails the handshake
 * with an alert chosen by the error set here.
 */
static int
tls_cb_verify(X509_STORE_CTX *xs, void *arg)
{
	SSL	*ssl;
	struct tls *t;
	X509	*leaf = X509_STORE_CTX_get0_cert(xs);
	int	 verr;

	ssl = X509_STORE_CTX_get_ex_data(xs,
	    SSL_get_ex_data_X509_STORE_CTX_idx());
	if (ssl == NULL || (t = SSL_get_ex_data(ssl, tls_ex_index)) == NULL)
		return 0;
	if (t->peer == NULL) {
		if (leaf != NULL)
			(void)tls_fingerprint(leaf, t->peer_fp);
		return 1;
	}
	if (tls_verify_cert(t, leaf, X509_STORE_CTX_get0_untrusted(xs),
	    t->peer, t->pins, t->npins, &verr) == -1) {
		X509_STORE_CTX_set_error(xs, verr);
		return 0;
	}
	t->verified = 1;
	return 1;
}

/* The first error of OpenSSL's queue as text; the queue is emptied. */
static void
tls_queue_reason(char *buf, size_t len)
{
	unsigned long	 e;
	const char	*r;

	if ((e = ERR_peek_error()) == 0) {
		snprintf(buf, len, "unknown TLS error");
		return;
	}
	if ((r = ERR_reason_error_string(e)) != NULL)
		snprintf(buf, len, "%s", r);
	else
		ERR_error_string_n(e, buf, len);
	ERR_clear_error();
}

/*
 * After SSL_* returned rc <= 0: set want and errno, and the reason in
 * words; return -1.  what says where we were ("handshake", "read").
 */
static int
tls_fail(struct tls *t, int rc, const char *what)
{
	unsigned long	 e;
	char		 buf[160];
	int		 saved = errno, reason;

	t->want = TLS_WANT_NONE;
	switch (SSL_get_error(t->ssl, rc)) {
	case SSL_ERROR_WANT_READ:
		ERR_clear_error();
		t->want = TLS_WANT_READ;
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_WANT_WRITE:
		ERR_clear_error();
		t->want = TLS_WANT_WRITE;
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_ZERO_RETURN:
		ERR_clear_error();
		snprintf(t->reason, sizeof(t->reason), "connection closed "
		    "during the TLS %s", what);
		errno = ECONNRESET;
		return -1;
	case SSL_ERROR_SYSCALL:
		if (ERR_peek_error() != 0)
			break;
		if (saved == 0 || rc == 0) {
			snprintf(t->reason, sizeof(t->reason), "connection "
			    "closed during the TLS %s", what);
			errno = ECONNRESET;
		} else {
			snprintf(t->reason, sizeof(t->reason), "%s",
			    strerror(saved));
			errno = saved;
		}
		return -1;
	default:
		break;
	}
	errno = EPROTO;
	if (t->reason[0] != '\0') {
		/* Our own verdict on the peer's certificate. */
		ERR_clear_error();
		return -1;
	}
	e = ERR_peek_error();
	reason = ERR_GET_LIB(e) == ERR_LIB_SSL ? ERR_GET_REASON(e) : 0;
	switch (reason) {
	case SSL_R_WRONG_VERSION_NUMBER:
	case SSL_R_PACKET_LENGTH_TOO_LONG:
	case SSL_R_HTTP_REQUEST:
	case SSL_R_RECORD_LENGTH_MISMATCH:
		ERR_clear_error();
		snprintf(t->reason, sizeof(t->reason), "the peer does not "
		    "speak TLS (plaintext?)");
		return -1;
	case SSL_R_UNSUPPORTED_PROTOCOL:
	case SSL_R_NO_PROTOCOLS_AVAILABLE:
	case SSL_R_TLSV1_ALERT_PROTOCOL_VERSION:
		ERR_clear_error();
		snprintf(t->reason, sizeof(t->reason), "the peer does not "
		    "speak TLS 1.3");
		return -1;
	case SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE:
		ERR_clear_error();
		snprintf(t->reason, sizeof(t->reason), "no certificate from "
		    "the peer");
		return -1;
	case SSL_R_UNEXPECTED_EOF_WHILE_READING:
		ERR_clear_error();
		snprintf(t->reason, sizeof(t->reason), "connection closed "
		    "during the TLS %s", what);
		errno = ECONNRESET;
		return -1;
	default:
		break;
	}
	tls_queue_reason(buf, sizeof(buf));
	if (reason >= SSL_AD_REASON_OFFSET)
		snprintf(t->reason, sizeof(t->reason), "refused by the peer "
		    "(TLS alert: %s)", buf);
	else
		snprintf(t->reason, sizeof(t->reason), "TLS %s failed: %s",
		    what, buf);
	return -1;
}

struct tls_ctx *
tls_ctx_new(enum tls_role role, const char *key, const char *cert,
    const char *ca, char *err, size_t errlen)
{
	struct tls_ctx	*c;
	X509		*x;
	char		 why[160];

	/*
	 * Once: no openssl.cnf.  What TLS does on a link is decided here
	 * (TLS 1.3 only, the checks of tls_verify_cert), not by the system's
	 * configuration; and the helper does not parse it for nothing.
	 */
	if (tls_ex_index == -1 &&
	    OPENSSL_init_ssl(OPENSSL_INIT_NO_LOAD_CONFIG, NULL) != 1) {
		errbuf_set(err, errlen, "OpenSSL: cannot initialise");
		return NULL;
	}
	/*
	 * Once too: contexts are made where only the algorithms TLS 1.3
	 * can use are (tlsprov.c); if that fails, in the default library
	 * context, as before.  The fingerprints' SHA-256 comes from there.
	 */
	if (tls_ex_index == -1 && tlsprov_libctx() != NULL)
		tls_sha256 = EVP_MD_fetch(tlsprov_libctx(), "SHA256", NULL);
	if (tls_ex_index == -1 &&
	    (tls_ex_index = SSL_get_ex_new_index(0, NULL, NULL, NULL,
	    NULL)) == -1) {
		errbuf_set(err, errlen, "OpenSSL: no ex_data index");
		return NULL;
	}
	ERR_clear_error();
	c = xcalloc(1, sizeof(*c));
	c->role = role;
	c->refs = 1;
	c->has_ca = ca != NULL;
	c->ssl = SSL_CTX_new_ex(tlsprov_libctx(), NULL, role == TLS_CLIENT ?
	    TLS_client_method() : TLS_server_method());
	if (c->ssl == NULL) {
		tls_queue_reason(why, sizeof(why));
		errbuf_set(err, errlen, "OpenSSL: %s", why);
		free(c);
		return NULL;
	}
	if (SSL_CTX_set_min_proto_version(c->ssl, TLS1_3_VERSION) != 1 ||
	    SSL_CTX_set_max_proto_version(c->ssl, TLS1_3_VERSION) != 1) {
		errbuf_set(err, errlen, "OpenSSL: no TLS 1.3");
		goto fail;
	}
	if (SSL_CTX_use_certificate_chain_file(c->ssl, cert) != 1) {
		tls_queue_reason(why, sizeof(why));
		errbuf_set(err, errlen, "tls_cert %s: %s", cert, why);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(c->ssl, key, SSL_FILETYPE_PEM) !=
	    1) {
		if (ERR_GET_REASON(ERR_peek_error()) ==
		    X509_R_KEY_VALUES_MISMATCH) {
			errbuf_set(err, errlen, "tls_key %s does not match "
			    "tls_cert %s", key, cert);
			goto fail;
		}
		tls_queue_reason(why, sizeof(why));
		errbuf_set(err, errlen, "tls_key %s: %s", key, why);
		goto fail;
	}
	if (SSL_CTX_check_private_key(c->ssl) != 1) {
		ERR_clear_error();
		errbuf_set(err, errlen, "tls_key %s does not match tls_cert "
		    "%s", key, cert);
		goto fail;
	}
	if (ca != NULL && SSL_CTX_load_verify_file(c->ssl, ca) != 1) {
		tls_queue_reason(why, sizeof(why));
		errbuf_set(err, errlen, "tls_ca %s: %s", ca, why);
		goto fail;
	}
	if ((x = SSL_CTX_get0_certificate(c->ssl)) == NULL ||
	    tls_fingerprint(x, c->fp) == -1) {
		errbuf_set(err, errlen, "tls_cert %s: no fingerprint", cert);
		goto fail;
	}
	/*
	 * Both sides always want the other's certificate; the callback
	 * decides.  No tickets or session cache: a link lives long, and
	 * resumption would skip the certificate check.  The record buffers
	 * are kept (no SSL_MODE_RELEASE_BUFFERS): releasing them when empty
	 * cost a malloc and a free of 17 KiB per record each way, a fifth of
	 * the CPU of a pipelined TLS link (16 lines of 32 bytes a record,
	 * written and read in one process: 357 -> 279 ns a line, plaintext
	 * 170); keeping them costs about 34 KiB per connection.
	 */
	SSL_CTX_set_verify(c->ssl, SSL_VERIFY_PEER |
	    SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	SSL_CTX_set_cert_verify_callback(c->ssl, tls_cb_verify, NULL);
	SSL_CTX_set_session_cache_mode(c->ssl, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_options(c->ssl, SSL_OP_NO_TICKET |
	    SSL_OP_IGNORE_UNEXPECTED_EOF);
	if (role == TLS_SERVER)
		(void)SSL_CTX_set_num_tickets(c->ssl, 0);
	SSL_CTX_set_mode(c->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	/*
	 * Read what the socket has in one read(2), not a record header and
	 * then its body: a batch of pipelined records costs one system
	 * call.  tls_pending counts what waits in the buffer.
	 */
	SSL_CTX_set_read_ahead(c->ssl, 1);
	return c;
 fail:
	SSL_CTX_free(c->ssl);
	free(c);
	ERR_clear_error();
	return NULL;
}

static void
tls_ctx_unref(struct tls_ctx *c)
{
	if (c == NULL || --c->refs > 0)
		return;
	SSL_CTX_free(c->ssl);
	free(c);
}

void
tls_ctx_free(struct tls_ctx *c)
{
	tls_ctx_unref(c);
}

const char *
tls_ctx_fingerprint(const struct tls_ctx *c)
{
	return c->fp;
}

static void
tls_set_pins(struct tls *t, const char *const *pins, int npins)
{
	int	 i;

	for (i = 0; i < t->npins; i++)
		free(t->pins[i]);
	free(t->pins);
	t->pins = NULL;
	t->npins = 0;
	if (npins <= 0)
		return;
	t->pins = xcalloc(npins, sizeof(*t->pins));
	for (i = 0; i < npins; i++)
		t->pins[i] = xstrdup(pins[i]);
	t->npins = npins;
}

struct tls *
tls_new(struct tls_ctx *c, int fd, const char *peer,
    const char *const *pins, int npins)
{
	struct tls	*t;

	t = xcalloc(1, sizeof(*t));
	if ((t->ssl = SSL_new(c->ssl)) == NULL ||
	    SSL_set_fd(t->ssl, fd) != 1 ||
	    SSL_set_ex_data(t->ssl, tls_ex_index, t) != 1)
		fatalx("SSL_new: out of memory");
	t->ctx = c;
	c->refs++;
	if (peer != NULL)
		t->peer = xstrdup(peer);
	tls_set_pins(t, pins, npins);
	if (c->role == TLS_CLIENT) {
		/* The peer name as SNI, when it is a host name at all. */
		if (peer != NULL)
			(void)SSL_set_tlsext_host_name(t->ssl, peer);
		SSL_set_connect_state(t->ssl);
	} else
		SSL_set_accept_state(t->ssl);
	ERR_clear_error();
	return t;
}

void
tls_free(struct tls *t)
{
	if (t == NULL)
		return;
	SSL_free(t->ssl);
	tls_set_pins(t, NULL, 0);
	free(t->peer);
	tls_ctx_unref(t->ctx);
	free(t);
}

int
tls_handshake(struct tls *t)
{
	int	 rc;

	errno = 0;
	if ((rc = SSL_do_handshake(t->ssl)) == 1) {
		t->want = TLS_WANT_NONE;
		return 0;
	}
	return tls_fail(t, rc, "handshake");
}

int
tls_verify_peer(struct tls *t, const char *peer, const char *const *pins,
    int npins)
{
	int	 verr;

	if (!SSL_is_init_finished(t->ssl)) {
		snprintf(t->reason, sizeof(t->reason), "TLS handshake not "
		    "finished");
		return -1;
	}
	free(t->peer);
	t->peer = xstrdup(peer);
	tls_set_pins(t, pins, npins);
	t->verified = 0;
	if (tls_verify_cert(t, SSL_get0_peer_certificate(t->ssl),
	    SSL_get_peer_cert_chain(t->ssl), t->peer, t->pins, t->npins,
	    &verr) == -1)
		return -1;
	t->verified = 1;
	return 0;
}

ssize_t
tls_read(struct tls *t, void *buf, size_t len)
{
	size_t	 n;
	int	 rc;

	errno = 0;
	if ((rc = SSL_read_ex(t->ssl, buf, len, &n)) == 1) {
		t->want = TLS_WANT_NONE;
		return (ssize_t)n;
	}
	if (SSL_get_error(t->ssl, rc) == SSL_ERROR_ZERO_RETURN) {
		/* close_notify, or an end-of-file without one. */
		t->want = TLS_WANT_NONE;
		ERR_clear_error();
		return 0;
	}
	return tls_fail(t, rc, "read");
}

/*
 * Small pieces are gathered into one record: a reply per iovec would
 * otherwise cost a record (and its 22 bytes and a cipher call) each.
 */
ssize_t
tls_writev(struct tls *t, const struct iovec *iov, int iovcnt)
{
	static unsigned char	 buf[TLS_RECORD];
	const void		*p;
	size_t			 len = 0, n;
	int			 i, rc;

	if (iovcnt <= 0)
		return 0;
	if (iovcnt == 1 || iov[0].iov_len >= TLS_RECORD) {
		p = iov[0].iov_base;
		len = iov[0].iov_len < TLS_RECORD ? iov[0].iov_len :
		    TLS_RECORD;
	} else {
		for (i = 0; i < iovcnt && len < TLS_RECORD; i++) {
			n = iov[i].iov_len;
			if (n > TLS_RECORD - len)
				n = TLS_RECORD - len;
			memcpy(buf + len, iov[i].iov_base, n);
			len += n;
		}
		p = buf;
	}
	if (len == 0)
		return 0;
	errno = 0;
	if ((rc = SSL_write_ex(t->ssl, p, len, &n)) == 1) {
		t->want = TLS_WANT_NONE;
		return (ssize_t)n;
	}
	return tls_fail(t, rc, "write");
}

size_t
tls_pending(const struct tls *t)
{
	int	 n;

	/* Read ahead: records may wait undecrypted in the buffer too. */
	if ((n = SSL_pending(t->ssl)) > 0)
		return (size_t)n;
	return SSL_has_pending(t->ssl) ? 1 : 0;
}

void
tls_shrink(struct tls *t)
{
	/* Refused (0) while a record is half read or written: kept then. */
	(void)SSL_free_buffers(t->ssl);
}

void
tls_close(struct tls *t)
{
	if (SSL_is_init_finished(t->ssl))
		(void)SSL_shutdown(t->ssl);
	ERR_clear_error();
}

enum tls_want
tls_want(const struct tls *t)
{
	return t->want;
}

const char *
tls_error(const struct tls *t)
{
	return t->reason[0] != '\0' ? t->reason : "no error";
}

const char *
tls_peer_fingerprint(const struct tls *t)
{
	return t->peer_fp;
}

/*
 * Whether the links' library context (tlsprov.c: only what TLS 1.3 can
 * use) knows pk's key type: check must refuse a key, DSA say, that the
 * default provider reads but every link would then fail to load.
 */
static int
tls_key_usable(EVP_PKEY *pk)
{
	EVP_KEYMGMT	*km;
	const char	*type;

	if (tlsprov_libctx() == NULL ||
	    (type = EVP_PKEY_get0_type_name(pk)) == NULL)
		return 1;
	if ((km = EVP_KEYMGMT_fetch(tlsprov_libctx(), type, NULL)) == NULL)
		return 0;
	EVP_KEYMGMT_free(km);
	return 1;
}

/*
 * A TLS connection starts with a handshake record: type 22, version 3.x.
 * A line protocol's first bytes are text, never 0x16.
 */
enum tls_sniff
tls_sniff(const void *buf, size_t len)
{
	const unsigned char	*b = buf;

	if (len == 0)
		return TLS_SNIFF_MORE;
	if (b[0] != 0x16)
		return TLS_SNIFF_PLAIN;
	if (len < 2)
		return TLS_SNIFF_MORE;
	return b[1] == 0x03 ? TLS_SNIFF_TLS : TLS_SNIFF_PLAIN;
}

static X509 *
tls_read_cert(const char *file, char *err, size_t errlen)
{
	FILE	*fp;
	X509	*x;
	char	 why[160];

	if ((fp = fopen(file, "re")) == NULL) {
		errbuf_set(err, errlen, "cannot read %s: %s", file,
		    strerror(errno));
		return NULL;
	}
	x = PEM_read_X509(fp, NULL, NULL, NULL);
	fclose(fp);
	if (x == NULL) {
		tls_queue_reason(why, sizeof(why));
		errbuf_set(err, errlen, "%s: not a PEM certificate (%s)", file,
		    why);
	}
	return x;
}

int
tls_cert_info(const char *file, char *fp, time_t *notbefore,
    time_t *notafter, char *err, size_t errlen)
{
	X509	*x;
	int	 rc = 0;

	if ((x = tls_read_cert(file, err, errlen)) == NULL)
		return -1;
	if (fp != NULL && tls_fingerprint(x, fp) == -1) {
		errbuf_set(err, errlen, "%s: cannot compute its fingerprint",
		    file);
		rc = -1;
	}
	if (notbefore != NULL)
		*notbefore = tls_asn1_time_t(X509_get0_notBefore(x));
	if (notafter != NULL)
		*notafter = tls_asn1_time_t(X509_get0_notAfter(x));
	X509_free(x);
	return rc;
}

int
tls_check_files(const char *key, const char *cert, const char *name,
    time_t now, char *err, size_t errlen)
{
	FILE		*fp;
	EVP_PKEY	*pk;
	X509		*x;
	time_t		 soon;
	char		 why[160], names[256], when[64];
	int		 verr, rc = 0;

	if ((x = tls_read_cert(cert, why, sizeof(why))) == NULL) {
		errbuf_set(err, errlen, "tls_cert: %s", why);
		return -1;
	}
	if ((fp = fopen(key, "re")) == NULL) {
		errbuf_set(err, errlen, "tls_key: cannot read %s: %s", key,
		    strerror(errno));
		X509_free(x);
		return -1;
	}
	pk = PEM_read_PrivateKey(fp, NULL, NULL, NULL);
	fclose(fp);
	if (pk == NULL) {
		tls_queue_reason(why, sizeof(why));
		errbuf_set(err, errlen, "tls_key: %s: not a PEM private key "
		    "(%s)", key, why);
		X509_free(x);
		return -1;
	}
	if (X509_check_private_key(x, pk) != 1) {
		errbuf_set(err, errlen, "tls_key %s does not match tls_cert "
		    "%s", key, cert);
		rc = -1;
	} else if (!tls_key_usable(pk)) {
		errbuf_set(err, errlen, "tls_key %s is a%s %s key, which links "
		    "cannot use (RSA, RSA-PSS, EC, Ed25519 or Ed448)", key,
		    strchr("AEIOU", *EVP_PKEY_get0_type_name(pk)) ? "n" : "",
		    EVP_PKEY_get0_type_name(pk));
		rc = -1;
	} else if (tls_check_time(x, now, "tls_cert", why, sizeof(why),
	    &verr) == -1) {
		errbuf_set(err, errlen, "%s: %s", why, cert);
		rc = -1;
	} else if (name != NULL && X509_check_host(x, name, 0,
	    X509_CHECK_FLAG_NO_WILDCARDS |
	    X509_CHECK_FLAG_NEVER_CHECK_SUBJECT, NULL) != 1) {
		tls_san_list(x, names, sizeof(names));
		errbuf_set(err, errlen, "tls_cert %s is for %s, not for "
		    "host_name %s: peers that check it against tls_ca will "
		    "refuse it", cert, names, name);
		rc = 1;
	} else {
		soon = now + TLS_EXPIRY_WARN;
		if (X509_cmp_time(X509_get0_notAfter(x), &soon) <= 0) {
			errbuf_set(err, errlen, "tls_cert %s expires on %s",
			    cert, tls_fmt_time(X509_get0_notAfter(x), when,
			    sizeof(when)));
			rc = 1;
		}
	}
	EVP_PKEY_free(pk);
	X509_free(x);
	ERR_clear_error();
	return rc;
}
