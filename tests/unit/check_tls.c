/*
 * check_tls.c: unit tests of the TLS module (libutil/tls.c), of the key
 * and certificate maker (master/tlsgen.c) and of the TLS settings of
 * linkmaster.conf.
 *
 * Every key and certificate is made at test time (tlsfix.c; no private
 * key is committed): a CA, a second CA that is the wrong one, hosts alpha
 * and beta signed by either, a certificate for another name, self-signed
 * ones for pinning, an expired and a not-yet-valid one.  Handshakes run
 * for real between a client and a server tls over a non-blocking
 * socketpair, both stepped in turn in this one process.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "config.h"
#include "tls.h"
#include "tlsfix.h"
#include "tlsgen.h"
#include "util.h"
#include "unit.h"

#define DAY	86400

static char	 fp_alpha[TLS_FP_LEN + 1];	/* self-signed alpha's */
static char	 fp_beta[TLS_FP_LEN + 1];	/* self-signed beta's */
static int	 sv[2] = { -1, -1 };		/* client, server */

static void
setup(void)
{
	time_t	 now = time(NULL);

	tlsfix_setup("check_tls");
	tlsfix_ca("ca");
	tlsfix_ca("wrongca");
	tlsfix_host("alpha", "alpha", "ca", now - DAY, now + 90 * DAY);
	tlsfix_host("beta", "beta", "ca", now - DAY, now + 90 * DAY);
	tlsfix_host("alpha-wrong", "alpha", "wrongca", now - DAY,
	    now + 90 * DAY);
	tlsfix_host("beta-wrong", "beta", "wrongca", now - DAY,
	    now + 90 * DAY);
	tlsfix_host("gamma", "gamma", "ca", now - DAY, now + 90 * DAY);
	tlsfix_host("beta-expired", "beta", "ca", now - 30 * DAY, now - DAY);
	tlsfix_host("beta-future", "beta", "ca", now + DAY, now + 90 * DAY);
	tlsfix_host("alpha-self", "alpha", NULL, now - DAY, now + 90 * DAY);
	tlsfix_host("beta-self", "beta", NULL, now - DAY, now + 90 * DAY);
	tlsfix_host("beta-self-expired", "beta", NULL, now - 30 * DAY,
	    now - DAY);
	tlsfix_fingerprint("alpha-self", fp_alpha);
	tlsfix_fingerprint("beta-self", fp_beta);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
	    sv), 0);
}

static void
teardown(void)
{
	if (sv[0] != -1)
		close(sv[0]);
	if (sv[1] != -1)
		close(sv[1]);
	sv[0] = sv[1] = -1;
	tlsfix_teardown();
}

/* A context for host name (name.key, name.crt), with tls_ca ca or none. */
static struct tls_ctx *
ctx(enum tls_role role, const char *name, const char *ca)
{
	struct tls_ctx	*c;
	char		 kf[64], cf[64], caf[64], err[512];

	snprintf(kf, sizeof(kf), "%s.key", name);
	snprintf(cf, sizeof(cf), "%s.crt", name);
	snprintf(caf, sizeof(caf), "%s.crt", ca != NULL ? ca : "");
	c = tls_ctx_new(role, tlsfix_path(kf), tlsfix_path(cf),
	    ca != NULL ? tlsfix_path(caf) : NULL, err, sizeof(err));
	ck_assert_msg(c != NULL, "tls_ctx_new: %s", err);
	return c;
}

/* A test's two ends over sv, their contexts, and how their handshakes went. */
struct pair {
	struct tls_ctx	*cc, *sc;
	struct tls	*c, *s;
	int		 crc, src;	/* see handshake() */
};

/* A test's two ends and their contexts, all freed. */
static void
pair_free(struct pair *p)
{
	tls_free(p->c);
	tls_free(p->s);
	tls_ctx_free(p->cc);
	tls_ctx_free(p->sc);
}

/*
 * Step both handshakes in turn until neither can go on.  *crc and *src:
 * 0 done, -1 failed (errno in *cerr, *serr), 1 still waiting.
 */
static void
handshake(struct tls *c, struct tls *s, int *crc, int *src)
{
	int	 i;

	*crc = *src = 1;
	for (i = 0; i < 50 && (*crc == 1 || *src == 1); i++) {
		if (*crc == 1 && tls_handshake(c) == 0)
			*crc = 0;
		else if (*crc == 1 && errno != EAGAIN)
			*crc = -1;
		if (*src == 1 && tls_handshake(s) == 0)
			*src = 0;
		else if (*src == 1 && errno != EAGAIN)
			*src = -1;
	}
}

/*
 * Host cname (tls_ca cca, NULL for none) dials peer beta, pinning pins;
 * the server is host sname (tls_ca sca) and waits for the hello to learn
 * whom to expect.  Both handshakes are stepped as far as they go.
 */
static void
pair_run(struct pair *p, const char *cname, const char *cca,
    const char *sname, const char *sca, const char *const *pins, int npins)
{
	p->cc = ctx(TLS_CLIENT, cname, cca);
	p->sc = ctx(TLS_SERVER, sname, sca);
	p->c = tls_new(p->cc, sv[0], "beta", pins, npins);
	p->s = tls_new(p->sc, sv[1], NULL, NULL, 0);
	handshake(p->c, p->s, &p->crc, &p->src);
}

/* Send line from a to b and check that it arrives whole. */
static void
roundtrip(struct tls *a, struct tls *b, const char *line)
{
	struct iovec	 iov[2];
	char		 buf[256];
	size_t		 got = 0, len = strlen(line);
	ssize_t		 n;
	int		 i;

	iov[0].iov_base = (void *)line;
	iov[0].iov_len = 3;
	iov[1].iov_base = (void *)(line + 3);
	iov[1].iov_len = len - 3;
	ck_assert_int_eq(tls_writev(a, iov, 2), (ssize_t)len);
	for (i = 0; i < 50 && got < len; i++) {
		n = tls_read(b, buf + got, sizeof(buf) - got);
		if (n == -1 && errno == EAGAIN)
			continue;
		ck_assert_msg(n > 0, "read: %zd: %s", n, tls_error(b));
		got += n;
	}
	ck_assert_uint_eq(got, len);
	ck_assert_int_eq(memcmp(buf, line, len), 0);
}

/* b reads and must fail with a reason containing want. */
static void
expect_read_fails(struct tls *b, const char *want)
{
	char	 buf[64];
	ssize_t	 n = -1;
	int	 i;

	for (i = 0; i < 50; i++) {
		n = tls_read(b, buf, sizeof(buf));
		if (!(n == -1 && errno == EAGAIN))
			break;
	}
	ck_assert_int_eq(n, -1);
	ck_assert_msg(strstr(tls_error(b), want) != NULL, "\"%s\" lacks "
	    "\"%s\"", tls_error(b), want);
}

#define ck_assert_reason(t, want) \
	ck_assert_msg(strstr(tls_error(t), (want)) != NULL, \
	    "\"%s\" lacks \"%s\"", tls_error(t), (want))

/* --- authentication by tls_ca and name ------------------------------ */

START_TEST(test_ca_ok)
{
	struct pair	 p;
	char		 fp[TLS_FP_LEN + 1], err[256];

	pair_run(&p, "alpha", "ca", "beta", "ca", NULL, 0);
	ck_assert_msg(p.crc == 0, "client: %s", tls_error(p.c));
	ck_assert_msg(p.src == 0, "server: %s", tls_error(p.s));
	/* The server learns the name from the hello, then judges. */
	roundtrip(p.c, p.s, "HELLO 1 alpha\n");
	ck_assert_msg(tls_verify_peer(p.s, "alpha", NULL, 0) == 0, "%s",
	    tls_error(p.s));
	roundtrip(p.s, p.c, "OK 1 beta\n");
	ck_assert_int_eq(tls_cert_info(tlsfix_path("alpha.crt"), fp, NULL, NULL,
	    err, sizeof(err)), 0);
	ck_assert_str_eq(tls_peer_fingerprint(p.s), fp);
	ck_assert_str_eq(tls_ctx_fingerprint(p.cc), fp);
	/* Another name in the hello: refused, whatever the CA says. */
	ck_assert_int_eq(tls_verify_peer(p.s, "gamma", NULL, 0), -1);
	ck_assert_reason(p.s, "name mismatch");
	ck_assert_reason(p.s, "is for alpha, not for peer gamma");
	tls_close(p.c);
	pair_free(&p);
}
END_TEST

/* The client refuses a server whose certificate another CA signed. */
START_TEST(test_wrong_ca_server)
{
	struct pair	 p;

	pair_run(&p, "alpha", "ca", "beta-wrong", "ca", NULL, 0);
	ck_assert_int_eq(p.crc, -1);
	ck_assert_int_eq(errno, EPROTO);
	ck_assert_reason(p.c, "the certificate of peer beta is not signed "
	    "by tls_ca");
	/* The server hears why: an alert. */
	ck_assert_int_eq(p.src, -1);
	ck_assert_reason(p.s, "refused by the peer (TLS alert: tlsv1 alert "
	    "unknown ca)");
	pair_free(&p);
}
END_TEST

/* The server refuses a client whose certificate another CA signed. */
START_TEST(test_wrong_ca_client)
{
	struct pair	 p;

	/* Judged after the hello ... */
	pair_run(&p, "alpha-wrong", "ca", "beta", "ca", NULL, 0);
	ck_assert_int_eq(p.crc, 0);
	ck_assert_int_eq(p.src, 0);
	ck_assert_int_eq(tls_verify_peer(p.s, "alpha", NULL, 0), -1);
	ck_assert_reason(p.s, "the certificate of peer alpha is not signed "
	    "by tls_ca");
	tls_free(p.c);
	tls_free(p.s);
	close(sv[0]);
	close(sv[1]);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
	    sv), 0);

	/* ... or in the handshake, when the server knows whom to expect. */
	p.c = tls_new(p.cc, sv[0], "beta", NULL, 0);
	p.s = tls_new(p.sc, sv[1], "alpha", NULL, 0);
	handshake(p.c, p.s, &p.crc, &p.src);
	ck_assert_int_eq(p.src, -1);
	ck_assert_reason(p.s, "not signed by tls_ca");
	/* TLS 1.3: the client is done first and hears the alert after. */
	ck_assert_int_eq(p.crc, 0);
	expect_read_fails(p.c, "refused by the peer (TLS alert: tlsv1 alert "
	    "unknown ca)");
	pair_free(&p);
}
END_TEST

START_TEST(test_name_mismatch)
{
	struct pair	 p;

	pair_run(&p, "alpha", "ca", "gamma", "ca", NULL, 0);
	ck_assert_int_eq(p.crc, -1);
	ck_assert_reason(p.c, "name mismatch: the certificate signed by tls_ca "
	    "is for gamma, not for peer beta");
	ck_assert_int_eq(p.src, -1);
	ck_assert_reason(p.s, "refused by the peer");
	pair_free(&p);
}
END_TEST

START_TEST(test_expired)
{
	struct pair	 p;

	pair_run(&p, "alpha", "ca", "beta-expired", "ca", NULL, 0);
	ck_assert_int_eq(p.crc, -1);
	ck_assert_reason(p.c, "the certificate of peer beta expired on ");
	ck_assert_int_eq(p.src, -1);
	ck_assert_reason(p.s, "refused by the peer (TLS alert: sslv3 alert "
	    "certificate expired)");
	pair_free(&p);
}
END_TEST

START_TEST(test_not_yet_valid)
{
	struct pair	 p;

	pair_run(&p, "alpha", "ca", "beta-future", "ca", NULL, 0);
	ck_assert_int_eq(p.crc, -1);
	ck_assert_reason(p.c, "the certificate of peer beta is not yet valid "
	    "(not before ");
	pair_free(&p);
}
END_TEST

/* No pin and no tls_ca: nothing could vouch for the peer. */
START_TEST(test_no_ca_no_pin)
{
	struct pair	 p;

	pair_run(&p, "alpha-self", NULL, "beta-self", NULL, NULL, 0);
	ck_assert_int_eq(p.crc, -1);
	ck_assert_reason(p.c, "no fingerprint is pinned for peer beta and "
	    "there is no tls_ca");
	pair_free(&p);
}
END_TEST

/*
 * Keys of other types than tls-init's EC P-256 work too: the provider of
 * tlsprov.c keeps RSA and Ed25519 (and their signatures).
 */
START_TEST(test_key_types)
{
	struct pair	 p;

	tlsfix_host_type("alpha-rsa", "RSA", "alpha", "ca");
	tlsfix_host_type("beta-ed25519", "ED25519", "beta", "ca");
	pair_run(&p, "alpha-rsa", "ca", "beta-ed25519", "ca", NULL, 0);
	ck_assert_msg(p.crc == 0, "client: %s", tls_error(p.c));
	ck_assert_msg(p.src == 0, "server: %s", tls_error(p.s));
	ck_assert_msg(tls_verify_peer(p.s, "alpha", NULL, 0) == 0, "%s",
	    tls_error(p.s));
	roundtrip(p.c, p.s, "1 ping\n");
	roundtrip(p.s, p.c, "1 pong\n");
	pair_free(&p);
}
END_TEST

/* --- pinned fingerprints --------------------------------------------- */

START_TEST(test_pin_ok)
{
	struct pair	 p;
	const char	*cpins[] = { "sha256:00", fp_beta };
	const char	*spins[] = { fp_alpha };

	pair_run(&p, "alpha-self", NULL, "beta-self", NULL, cpins, 2);
	ck_assert_msg(p.crc == 0, "client: %s", tls_error(p.c));
	ck_assert_msg(p.src == 0, "server: %s", tls_error(p.s));
	ck_assert_msg(tls_verify_peer(p.s, "alpha", spins, 1) == 0, "%s",
	    tls_error(p.s));
	ck_assert_str_eq(tls_peer_fingerprint(p.c), fp_beta);
	roundtrip(p.c, p.s, "1 ping\n");
	roundtrip(p.s, p.c, "1 pong\n");
	/* The wrong peer's pins, after the handshake. */
	ck_assert_int_eq(tls_verify_peer(p.s, "alpha", (const char *[]){
	    fp_beta }, 1), -1);
	ck_assert_reason(p.s, "fingerprint mismatch: the certificate of peer "
	    "alpha is sha256:");
	pair_free(&p);
}
END_TEST

/* A pin wins alone: a CA-signed certificate that is not pinned fails. */
START_TEST(test_pin_mismatch)
{
	struct pair	 p;
	const char	*cpins[] = { fp_beta };
	char		 want[128];

	pair_run(&p, "alpha", "ca", "beta", "ca", cpins, 1);
	ck_assert_int_eq(p.crc, -1);
	snprintf(want, sizeof(want), "fingerprint mismatch: the certificate "
	    "of peer beta is %s, not the one pinned",
	    tls_ctx_fingerprint(p.sc));
	ck_assert_reason(p.c, want);
	ck_assert_int_eq(p.src, -1);
	ck_assert_reason(p.s, "refused by the peer (TLS alert: sslv3 alert "
	    "bad certificate)");
	pair_free(&p);
}
END_TEST

/* An expired certificate is refused even when it is pinned. */
START_TEST(test_pin_expired)
{
	struct pair	 p;
	char		 fp[TLS_FP_LEN + 1];
	const char	*cpins[] = { fp };

	tlsfix_fingerprint("beta-self-expired", fp);
	pair_run(&p, "alpha-self", NULL, "beta-self-expired", NULL, cpins, 1);
	ck_assert_int_eq(p.crc, -1);
	ck_assert_reason(p.c, "the certificate of peer beta expired on ");
	pair_free(&p);
}
END_TEST

/* --- plaintext on the other side ------------------------------------- */

/* A TLS client meets a plaintext server (an old linkd's answer). */
START_TEST(test_plaintext_server)
{
	struct tls_ctx	*cc = ctx(TLS_CLIENT, "alpha", "ca");
	struct tls	*c;
	char		 buf[512];
	int		 i, rc = -1;

	c = tls_new(cc, sv[0], "beta", NULL, 0);
	ck_assert_int_eq(tls_handshake(c), -1);
	ck_assert_int_eq(errno, EAGAIN);
	ck_assert_int_eq(tls_want(c), TLS_WANT_READ);
	/* What the client sent is a TLS record, not a line. */
	ck_assert_int_gt(recv(sv[1], buf, sizeof(buf), MSG_PEEK), 2);
	ck_assert_int_eq(tls_sniff(buf, 2), TLS_SNIFF_TLS);
	ck_assert_int_eq(tls_sniff(buf, 1), TLS_SNIFF_MORE);
	ck_assert_int_eq(write(sv[1], "ERR bad hello\n", 14), 14);
	for (i = 0; i < 10 && rc == -1 && errno == EAGAIN; i++)
		rc = tls_handshake(c);
	ck_assert_int_eq(rc, -1);
	ck_assert_int_eq(errno, EPROTO);
	ck_assert_reason(c, "the peer does not speak TLS (plaintext?)");
	tls_free(c);
	tls_ctx_free(cc);
}
END_TEST

/* A TLS server meets a plaintext client (an old link's hello). */
START_TEST(test_plaintext_client)
{
	struct tls_ctx	*sc = ctx(TLS_SERVER, "beta", "ca");
	struct tls	*s;

	ck_assert_int_eq(write(sv[0], "HELLO 1 alpha\n", 14), 14);
	ck_assert_int_eq(tls_sniff("HELLO 1 alpha\n", 14), TLS_SNIFF_PLAIN);
	ck_assert_int_eq(tls_sniff("\x16\x30", 2), TLS_SNIFF_PLAIN);
	s = tls_new(sc, sv[1], NULL, NULL, 0);
	ck_assert_int_eq(tls_handshake(s), -1);
	ck_assert_int_eq(errno, EPROTO);
	ck_assert_reason(s, "the peer does not speak TLS (plaintext?)");
	tls_free(s);
	tls_ctx_free(sc);
}
END_TEST

/* A client without a certificate (not ours: ours always has one). */
START_TEST(test_no_client_cert)
{
	struct tls_ctx	*sc = ctx(TLS_SERVER, "beta", "ca");
	struct tls	*s;
	SSL_CTX		*bare;
	SSL		*ssl;
	int		 i, rc = 0, src = 1;

	ck_assert_ptr_nonnull(bare = SSL_CTX_new(TLS_client_method()));
	SSL_CTX_set_verify(bare, SSL_VERIFY_NONE, NULL);
	ck_assert_ptr_nonnull(ssl = SSL_new(bare));
	SSL_set_fd(ssl, sv[0]);
	SSL_set_connect_state(ssl);
	s = tls_new(sc, sv[1], NULL, NULL, 0);
	for (i = 0; i < 20 && src == 1; i++) {
		rc = SSL_do_handshake(ssl);
		if (tls_handshake(s) == -1 && errno != EAGAIN)
			src = -1;
	}
	ck_assert_int_eq(src, -1);
	ck_assert_reason(s, "no certificate from the peer");
	(void)rc;
	SSL_free(ssl);
	SSL_CTX_free(bare);
	tls_free(s);
	tls_ctx_free(sc);
}
END_TEST

/* --- reload ---------------------------------------------------------- */

/*
 * A new context (a new certificate) applies to new connections; the old
 * context is freed at once and its connection carries on.
 */
START_TEST(test_reload)
{
	struct tls_ctx	*cc, *sc, *sc2;
	struct tls	*c, *s, *c2, *s2;
	int		 crc, src, sv2[2];
	char		 fp1[TLS_FP_LEN + 1];

	cc = ctx(TLS_CLIENT, "alpha", "ca");
	sc = ctx(TLS_SERVER, "beta", "ca");
	c = tls_new(cc, sv[0], "beta", NULL, 0);
	s = tls_new(sc, sv[1], NULL, NULL, 0);
	handshake(c, s, &crc, &src);
	ck_assert_int_eq(crc, 0);
	ck_assert_int_eq(src, 0);
	snprintf(fp1, sizeof(fp1), "%s", tls_peer_fingerprint(c));

	/* Rotation: beta gets a new key and certificate. */
	tlsfix_host("beta2", "beta", "ca", time(NULL) - DAY,
	    time(NULL) + 90 * DAY);
	sc2 = ctx(TLS_SERVER, "beta2", "ca");
	tls_ctx_free(sc);
	roundtrip(c, s, "1 still here\n");
	roundtrip(s, c, "1 yes\n");

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
	    sv2), 0);
	c2 = tls_new(cc, sv2[0], "beta", NULL, 0);
	s2 = tls_new(sc2, sv2[1], NULL, NULL, 0);
	tls_ctx_free(sc2);		/* s2 holds it */
	handshake(c2, s2, &crc, &src);
	ck_assert_int_eq(crc, 0);
	ck_assert_int_eq(src, 0);
	ck_assert_str_ne(tls_peer_fingerprint(c2), fp1);
	roundtrip(c2, s2, "2 new\n");
	roundtrip(c, s, "3 old\n");
	tls_free(c2);
	tls_free(s2);
	close(sv2[0]);
	close(sv2[1]);
	tls_free(c);
	tls_free(s);
	tls_ctx_free(cc);
}
END_TEST

/* --- contexts and files ---------------------------------------------- */

START_TEST(test_ctx_errors)
{
	char	 err[512];

	ck_assert_ptr_null(tls_ctx_new(TLS_CLIENT, tlsfix_path("alpha.key"),
	    tlsfix_path("beta.crt"), NULL, err, sizeof(err)));
	ck_assert_msg(strstr(err, "does not match tls_cert") != NULL, "%s",
	    err);
	ck_assert_ptr_null(tls_ctx_new(TLS_CLIENT, tlsfix_path("alpha.key"),
	    tlsfix_path("nosuch.crt"), NULL, err, sizeof(err)));
	ck_assert_msg(strstr(err, "tls_cert ") != NULL &&
	    strstr(err, "nosuch.crt") != NULL, "%s", err);
	ck_assert_ptr_null(tls_ctx_new(TLS_SERVER, tlsfix_path("alpha.key"),
	    tlsfix_path("alpha.crt"), tlsfix_path("alpha.key"), err,
	    sizeof(err)));
	ck_assert_msg(strstr(err, "tls_ca ") != NULL, "%s", err);
}
END_TEST

START_TEST(test_check_files)
{
	char	 err[512];
	time_t	 now = time(NULL);

	ck_assert_int_eq(tls_check_files(tlsfix_path("alpha.key"),
	    tlsfix_path("alpha.crt"), "alpha", now, err, sizeof(err)), 0);
	ck_assert_int_eq(tls_check_files(tlsfix_path("alpha.key"),
	    tlsfix_path("beta.crt"), "alpha", now, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "does not match") != NULL, "%s", err);
	ck_assert_int_eq(tls_check_files(tlsfix_path("beta-expired.key"),
	    tlsfix_path("beta-expired.crt"), "beta", now, err, sizeof(err)),
	    -1);
	ck_assert_msg(strstr(err, "tls_cert expired on ") != NULL, "%s", err);
	ck_assert_int_eq(tls_check_files(tlsfix_path("beta-future.key"),
	    tlsfix_path("beta-future.crt"), "beta", now, err, sizeof(err)),
	    -1);
	ck_assert_msg(strstr(err, "tls_cert is not yet valid") != NULL, "%s",
	    err);
	/* Warnings: another name; expiring within 30 days. */
	ck_assert_int_eq(tls_check_files(tlsfix_path("alpha.key"),
	    tlsfix_path("alpha.crt"), "delta", now, err, sizeof(err)), 1);
	ck_assert_msg(strstr(err, "is for alpha, not for host_name delta") !=
	    NULL, "%s", err);
	ck_assert_int_eq(tls_check_files(tlsfix_path("alpha.key"),
	    tlsfix_path("alpha.crt"), "alpha", now + 70 * DAY, err,
	    sizeof(err)), 1);
	ck_assert_msg(strstr(err, "expires on ") != NULL, "%s", err);
	ck_assert_int_eq(tls_check_files(tlsfix_path("nosuch.key"),
	    tlsfix_path("alpha.crt"), "alpha", now, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "tls_key: cannot read ") != NULL, "%s", err);
	/* A key OpenSSL reads but the links' provider does not have. */
	tlsfix_host_type("dsa", "DSA", "alpha", NULL);
	ck_assert_int_eq(tls_check_files(tlsfix_path("dsa.key"),
	    tlsfix_path("dsa.crt"), "alpha", now, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "is a DSA key, which links cannot use") !=
	    NULL, "%s", err);
}
END_TEST

START_TEST(test_write_no_overwrite)
{
	EVP_PKEY	*key;
	struct stat	 st;
	char		 err[512];

	ck_assert_int_eq(stat(tlsfix_path("alpha.key"), &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0600);
	ck_assert_ptr_nonnull(key = tlsgen_key());
	ck_assert_int_eq(tlsgen_write(tlsfix_path("alpha.key"), key, NULL,
	    NULL, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "exists already: not replacing it") != NULL,
	    "%s", err);
	/* The certificate exists: the new key is removed again. */
	ck_assert_int_eq(tlsgen_write(tlsfix_path("new.key"), key,
	    tlsfix_path("alpha.crt"), NULL, err, sizeof(err)), -1);
	ck_assert_int_eq(access(tlsfix_path("new.key"), F_OK), -1);
	EVP_PKEY_free(key);
}
END_TEST

/* --- linkmaster.conf --------------------------------------------------- */

static struct config *
conf(const char *text, struct errlist *errs)
{
	FILE	*fp;

	ck_assert_ptr_nonnull(fp = fopen(tlsfix_path("linkmaster.conf"), "w"));
	fputs(text, fp);
	ck_assert_int_eq(fclose(fp), 0);
	errlist_init(errs);
	return config_load(tlsfix_dir, errs);
}

static void
conf_error(const char *text, const char *want)
{
	struct errlist	 errs;
	struct config	*c;

	c = conf(text, &errs);
	ck_assert_ptr_null(c);
	ck_assert_uint_eq(errs.n, 1);
	ck_assert_msg(strstr(errs.msg[0], want) != NULL, "\"%s\" lacks "
	    "\"%s\"", errs.msg[0], want);
	errlist_free(&errs);
}

START_TEST(test_conf_tls)
{
	struct errlist	 errs;
	struct config	*c;
	char		 text[1024];

	/* Before TLS: no key, every peer plaintext unless it says yes. */
	c = conf("peer beta { address = \"127.0.0.2\" port = 7070 }\n",
	    &errs);
	ck_assert_ptr_nonnull(c);
	ck_assert_ptr_null(c->tls_key);
	ck_assert_int_eq(c->peers[0].tls, PEER_TLS_DEFAULT);
	ck_assert_int_eq(config_peer_tls(c, &c->peers[0]), 0);
	ck_assert_int_eq(c->peers[0].nfingerprints, 0);
	config_free(c);
	errlist_free(&errs);

	/* With a key: TLS unless "tls = no"; fingerprints canonical. */
	snprintf(text, sizeof(text),
	    "tls_key = \"alpha.key\"\ntls_cert = \"%s\"\n"
	    "peer beta {\n address = \"10.0.0.2\"\n port = 7070\n"
	    " fingerprint = { \"SHA256:%s\", \"%s\" }\n}\n"
	    "peer gamma { address = \"::1\" port = 7070 tls = no }\n",
	    tlsfix_path("alpha.crt"),
	    "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:"
	    "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89", fp_alpha);
	c = conf(text, &errs);
	ck_assert_msg(c != NULL, "%s", errs.n ? errs.msg[0] : "");
	ck_assert_str_eq(c->tls_key, tlsfix_path("alpha.key"));
	ck_assert_str_eq(c->tls_cert, tlsfix_path("alpha.crt"));
	ck_assert_ptr_null(c->tls_ca);
	ck_assert_int_eq(config_peer_tls(c, &c->peers[0]), 1);
	ck_assert_int_eq(c->peers[0].nfingerprints, 2);
	ck_assert_str_eq(c->peers[0].fingerprints[0], "sha256:"
	    "abcdef0123456789abcdef0123456789"
	    "abcdef0123456789abcdef0123456789");
	ck_assert_str_eq(c->peers[0].fingerprints[1], fp_alpha);
	ck_assert_int_eq(c->peers[1].tls, PEER_TLS_NO);
	ck_assert_int_eq(config_peer_tls(c, &c->peers[1]), 0);
	config_free(c);
	errlist_free(&errs);
}
END_TEST

START_TEST(test_conf_tls_errors)
{
	conf_error("peer beta {\n address = h\n port = 1\n fingerprint = "
	    "\"sha1:00\"\n}\n", ":4: peer \"beta\": option \"fingerprint\": "
	    "bad fingerprint: \"sha1:00\" (want \"sha256:\" and 64 hex digits");
	conf_error("peer beta {\n address = h\n port = 1\n fingerprint = "
	    "\"sha256:abc\"\n}\n", "bad fingerprint: \"sha256:abc\"");
	conf_error("peer beta { address = h port = 1 fingerprint = \"sha256:"
	    "ab:cd\" }\n", "bad fingerprint");
	conf_error("peer beta { address = h port = 1 fingerprint = \"sha256:"
	    "zz0123456789abcdef0123456789abcdef0123456789abcdef0123456789"
	    "abcd\" }\n", "bad fingerprint");
	conf_error("peer beta {\n address = h\n port = 1\n tls = maybe\n}\n",
	    ":4: peer \"beta\": option \"tls\": bad value: \"maybe\" (want "
	    "yes or no)");
	conf_error("tls_key = \"k\"\n", "tls_key is set but not tls_cert");
	conf_error("tls_cert = \"c\"\n", "tls_cert is set but not tls_key");
	conf_error("peer beta { address = h port = 1 tls = yes }\n",
	    "peer \"beta\": tls = yes needs this host's tls_key and tls_cert");
	conf_error("tls_key = k\ntls_cert = c\n"
	    "peer beta { address = h port = 1 }\n",
	    "peer \"beta\": no way to authenticate it: give its fingerprint, "
	    "or tls_ca (or tls = no)");
}
END_TEST

START_TEST(test_fingerprint_parse)
{
	char	 out[TLS_FP_LEN + 1];

	ck_assert_int_eq(config_fingerprint_parse(fp_alpha, out,
	    sizeof(out)), 0);
	ck_assert_str_eq(out, fp_alpha);
	ck_assert_int_eq(config_fingerprint_parse(fp_alpha, out, 10), -1);
	ck_assert_int_eq(config_fingerprint_parse("", out, sizeof(out)), -1);
	ck_assert_int_eq(config_fingerprint_parse("sha256:", out,
	    sizeof(out)), -1);
	/* 65 digits, or a colon form with one pair short. */
	ck_assert_int_eq(config_fingerprint_parse("sha256:"
	    "00000000000000000000000000000000"
	    "000000000000000000000000000000000", out, sizeof(out)), -1);
	ck_assert_int_eq(config_fingerprint_parse("sha256:"
	    "00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:"
	    "00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:", out,
	    sizeof(out)), -1);
}
END_TEST

static Suite *
suite(void)
{
	Suite	*s = suite_create("tls");
	TCase	*tc = tcase_create("tls");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_ca_ok);
	tcase_add_test(tc, test_key_types);
	tcase_add_test(tc, test_wrong_ca_server);
	tcase_add_test(tc, test_wrong_ca_client);
	tcase_add_test(tc, test_name_mismatch);
	tcase_add_test(tc, test_expired);
	tcase_add_test(tc, test_not_yet_valid);
	tcase_add_test(tc, test_no_ca_no_pin);
	tcase_add_test(tc, test_pin_ok);
	tcase_add_test(tc, test_pin_mismatch);
	tcase_add_test(tc, test_pin_expired);
	tcase_add_test(tc, test_plaintext_server);
	tcase_add_test(tc, test_plaintext_client);
	tcase_add_test(tc, test_no_client_cert);
	tcase_add_test(tc, test_reload);
	tcase_add_test(tc, test_ctx_errors);
	tcase_add_test(tc, test_check_files);
	tcase_add_test(tc, test_write_no_overwrite);
	tcase_add_test(tc, test_conf_tls);
	tcase_add_test(tc, test_conf_tls_errors);
	tcase_add_test(tc, test_fingerprint_parse);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(suite());
}
