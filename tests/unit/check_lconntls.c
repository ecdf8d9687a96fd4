/*
 * check_lconntls.c: the TLS transport of lconn (services/lconn_tls.c)
 * and the context cache of the link helpers (services/linktls.c), over a
 * real socket pair, a real event loop and real handshakes: a line written
 * before the handshake goes out once it is done, driven by nothing but
 * the connections' events; the rest of a record that did not fit one read
 * is read without a socket event; a refused certificate fails the write
 * or the read with TLS's reason; the context is made again only when its
 * files change.
 *
 * Keys and certificates are made at test time (tlsfix.c).
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>

#include <check.h>
#include <errno.h>
#include <event2/event.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../services/lconn.h"
#include "../../services/linktls.h"
#include "tls.h"
#include "tlsfix.h"
#include "util.h"
#include "unit.h"

#define DAY	86400

static char	 fp_alpha[TLS_FP_LEN + 1], fp_beta[TLS_FP_LEN + 1];

/* One end: what it read, and how it failed. */
struct end {
	struct lconn	*c;
	char		*line;		/* the last whole line */
	size_t		 len;
	int		 nlines;
	int		 nread;		/* readable() calls */
	int		 failed;
	char		 why[512];
};

static struct event_base	*base;
static struct lconn_flusher	*fl;
static struct end		 cl, sv;
static int			 sp[2] = { -1, -1 };

static void
end_fail(struct end *e, const char *what)
{
	const char	*why = lconn_tls_error(e->c);

	if (e->failed)
		return;		/* the first failure is the one */
	e->failed = 1;
	snprintf(e->why, sizeof(e->why), "%s: %s", what, why != NULL ? why :
	    strerror(errno));
}

static void
readable(struct lconn *c, short what, void *arg)
{
	struct end	*e = arg;
	const char	*line;
	size_t		 len;
	ssize_t		 n;

	e->nread++;
	if ((n = lconn_read(c)) == -1 && errno == EAGAIN)
		return;
	if (n <= 0) {
		if (n == 0)
			snprintf(e->why, sizeof(e->why), "end-of-file");
		else
			end_fail(e, "read");
		e->failed = 1;
		lconn_read_on(c, 0, NULL);
		return;
	}
	while ((line = lconn_line(c, &len)) != NULL) {
		free(e->line);
		e->line = xstrndup(line, len);
		e->len = len;
		e->nlines++;
		lconn_consume(c, len + 1);
	}
}

static void
written(struct lconn *c, int error, void *arg)
{
	if (error)
		end_fail(arg, "write");
}

/* Run the loop until cond() or 5 s. */
static int
run(int (*cond)(void))
{
	struct timeval	 tv = { 0, 10000 };
	int		 i;

	for (i = 0; i < 500 && !cond(); i++)
		event_base_loopexit(base, &tv), event_base_dispatch(base);
	return cond();
}

static int
sv_has_line(void)
{
	return sv.nlines > 0 || sv.failed || cl.failed;
}

static int
cl_has_line(void)
{
	return cl.nlines > 0 || cl.failed || sv.failed;
}

static int
one_failed(void)
{
	return cl.failed || sv.failed;
}

static int
sv_failed(void)
{
	return sv.failed;
}

static void
setup(void)
{
	time_t	 now = time(NULL);

	signal(SIGPIPE, SIG_IGN);
	tlsfix_setup("check_lconntls");
	tlsfix_host("alpha", "alpha", NULL, now - DAY, now + DAY);
	tlsfix_host("beta", "beta", NULL, now - DAY, now + DAY);
	tlsfix_fingerprint("alpha", fp_alpha);
	tlsfix_fingerprint("beta", fp_beta);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
	    sp), 0);
	ck_assert_ptr_nonnull(base = event_base_new());
	fl = lconn_flusher_new(base, NULL, NULL);
	memset(&cl, 0, sizeof(cl));
	memset(&sv, 0, sizeof(sv));
	cl.c = lconn_new(fl, sp[0], LCONN_FIRST, readable, written, &cl);
	sv.c = lconn_new(fl, sp[1], 0, readable, written, &sv);
	sp[0] = sp[1] = -1;	/* the lconns close them */
}

static void
teardown(void)
{
	lconn_free(cl.c);
	lconn_free(sv.c);
	free(cl.line);
	free(sv.line);
	lconn_flusher_free(fl);
	event_base_free(base);
	tlsfix_teardown();
}

/* Both ends on TLS: alpha connects to beta, pinning pin. */
static void
start_tls(const char *pin)
{
	struct tls_ctx	*cc, *sc;
	char		 err[512];

	cc = tls_ctx_new(TLS_CLIENT, tlsfix_path("alpha.key"),
	    tlsfix_path("alpha.crt"), NULL, err, sizeof(err));
	ck_assert_msg(cc != NULL, "%s", err);
	sc = tls_ctx_new(TLS_SERVER, tlsfix_path("beta.key"),
	    tlsfix_path("beta.crt"), NULL, err, sizeof(err));
	ck_assert_msg(sc != NULL, "%s", err);
	lconn_tls_start(cl.c, tls_new(cc, cl.c->fd, "beta", &pin, 1));
	lconn_tls_start(sv.c, tls_new(sc, sv.c->fd, NULL, NULL, 0));
	/* The connections hold their references. */
	tls_ctx_free(cc);
	tls_ctx_free(sc);
	ck_assert_ptr_nonnull(lconn_tls(cl.c));
	lconn_read_on(cl.c, 1, NULL);
	lconn_read_on(sv.c, 1, NULL);
}

START_TEST(test_hello_before_handshake)
{
	ck_assert_ptr_null(lconn_tls(cl.c));
	ck_assert_ptr_null(lconn_tls_error(cl.c));
	start_tls(fp_beta);
	/* As link does: the hello is queued before any handshake. */
	lconn_add(cl.c, "HELLO 1 alpha", 13, NULL, 0);
	ck_assert_msg(run(sv_has_line), "no line at the server");
	ck_assert_msg(!sv.failed && !cl.failed, "%s%s", sv.why, cl.why);
	ck_assert_str_eq(sv.line, "HELLO 1 alpha");
	ck_assert_int_eq(tls_verify_peer(lconn_tls(sv.c), "alpha",
	    (const char *const[]){ fp_alpha }, 1), 0);
	ck_assert_str_eq(tls_peer_fingerprint(lconn_tls(cl.c)), fp_beta);
	/* The peer spoke TLS: nothing to say about a later end. */
	ck_assert_ptr_null(lconn_tls_unanswered(cl.c, 1));
	lconn_add(sv.c, "OK 1 ", 5, "beta", 4);
	ck_assert_msg(run(cl_has_line), "no answer at the client");
	ck_assert_str_eq(cl.line, "OK 1 beta");
	ck_assert_int_eq(cl.c->want == 0 || cl.c->want == LCONN_WANT_READ, 1);
}
END_TEST

/*
 * TLS up and the hello through, then one record (16 KiB) holding one
 * line of fill, flushed by the server: the line, to be freed.
 */
static char *
big_record(int fill, size_t len)
{
	char	*big;

	start_tls(fp_beta);
	lconn_add(cl.c, "HELLO 1 alpha", 13, NULL, 0);
	ck_assert(run(sv_has_line) && sv.nlines == 1);
	big = xcalloc(1, len);
	memset(big, fill, len);
	lconn_add(sv.c, big, len, NULL, 0);
	ck_assert_int_eq(lconn_flush(sv.c), 0);
	return big;
}

/*
 * One record (16 KiB) holding one line, more than one read takes: the
 * rest is in OpenSSL, not in the socket, and must still be read.
 */
START_TEST(test_pending_rest_of_record)
{
	char	*big;
	size_t	 len = 16384 - 1;

	ck_assert_msg(LCONN_READ < 16384, "LCONN_READ %d takes a whole "
	    "record: nothing is left pending", LCONN_READ);
	big = big_record('x', len);
	ck_assert_msg(run(cl_has_line), "the rest of the record was never "
	    "read (%d reads)", cl.nread);
	ck_assert_msg(!cl.failed, "%s", cl.why);
	ck_assert_uint_eq(cl.len, len);
	ck_assert_int_eq(memcmp(cl.line, big, len), 0);
	free(big);
}
END_TEST

/* Read interest turned on again with bytes held by TLS: they are read. */
START_TEST(test_pending_read_on_again)
{
	char	*big;
	size_t	 len = 16384 - 1;
	int	 reads;

	big = big_record('y', len);
	/* One read by hand, with the owner's interest off. */
	lconn_read_on(cl.c, 0, NULL);
	while (lconn_read(cl.c) == -1 && errno == EAGAIN)
		;
	ck_assert_uint_gt(tls_pending(lconn_tls(cl.c)), 0);
	reads = cl.nread;
	lconn_read_on(cl.c, 1, NULL);
	ck_assert_msg(run(cl_has_line), "held bytes were not announced");
	ck_assert_int_gt(cl.nread, reads);
	ck_assert_uint_eq(cl.len, len);
	free(big);
}
END_TEST

/* The client refuses beta's certificate: its write fails with why. */
START_TEST(test_refused_pin)
{
	start_tls(fp_alpha);
	lconn_add(cl.c, "HELLO 1 alpha", 13, NULL, 0);
	ck_assert(run(one_failed));
	ck_assert_msg(strstr(cl.why, "fingerprint mismatch: the certificate "
	    "of peer beta is ") != NULL, "client: %s", cl.why);
	ck_assert_msg(run(sv_failed), "the server did not fail");
	ck_assert_msg(strstr(sv.why, "refused by the peer (TLS alert") !=
	    NULL, "server: %s", sv.why);
	ck_assert_int_eq(sv.nlines, 0);
}
END_TEST

/*
 * A peer that does not speak TLS reads the handshake and closes: the
 * client says that it may not speak TLS, not only "end-of-file".
 */
START_TEST(test_unanswered)
{
	struct tls_ctx	*cc;
	const char	*pin = fp_beta;
	char		 err[512];

	cc = tls_ctx_new(TLS_CLIENT, tlsfix_path("alpha.key"),
	    tlsfix_path("alpha.crt"), NULL, err, sizeof(err));
	ck_assert_msg(cc != NULL, "%s", err);
	lconn_tls_start(cl.c, tls_new(cc, cl.c->fd, "beta", &pin, 1));
	tls_ctx_free(cc);
	lconn_read_on(cl.c, 1, NULL);
	ck_assert_ptr_null(lconn_tls_unanswered(sv.c, 1));	/* plain */
	lconn_add(cl.c, "HELLO 1 alpha", 13, NULL, 0);
	(void)lconn_flush(cl.c);	/* the ClientHello: 1, waits for more */
	/* The server end, plain, ends the connection. */
	ck_assert_int_eq(shutdown(sv.c->fd, SHUT_RDWR), 0);
	ck_assert(run(one_failed));
	ck_assert_str_eq(lconn_tls_unanswered(cl.c, 1), "peer closed the "
	    "connection during the TLS handshake: it may not speak TLS "
	    "(tls_key and tls_cert missing there, or tls = no meant for it)");
	ck_assert_msg(strstr(lconn_tls_unanswered(cl.c, 0), "no answer to "
	    "the TLS handshake: ") != NULL, "%s",
	    lconn_tls_unanswered(cl.c, 0));
}
END_TEST

/* The helpers' context: made again only when a file changes. */
START_TEST(test_ctx_cache)
{
	struct tls_ctx	*a, *b;
	char		 err[512];
	int		 renewed;

	a = linktls_ctx(TLS_CLIENT, tlsfix_path("alpha.key"),
	    tlsfix_path("alpha.crt"), NULL, &renewed, err, sizeof(err));
	ck_assert_msg(a != NULL, "%s", err);
	ck_assert_int_eq(renewed, 1);
	ck_assert_str_eq(tls_ctx_fingerprint(a), fp_alpha);
	b = linktls_ctx(TLS_CLIENT, tlsfix_path("alpha.key"),
	    tlsfix_path("alpha.crt"), NULL, &renewed, err, sizeof(err));
	ck_assert_ptr_eq(a, b);
	ck_assert_int_eq(renewed, 0);
	/* Other files: beta's. */
	b = linktls_ctx(TLS_CLIENT, tlsfix_path("beta.key"),
	    tlsfix_path("beta.crt"), NULL, &renewed, err, sizeof(err));
	ck_assert_int_eq(renewed, 1);
	ck_assert_str_eq(tls_ctx_fingerprint(b), fp_beta);
	/* New files at the same paths (a rotation in place). */
	ck_assert_int_eq(rename(tlsfix_path("alpha.key"),
	    tlsfix_path("beta.key")), 0);
	ck_assert_int_eq(rename(tlsfix_path("alpha.crt"),
	    tlsfix_path("beta.crt")), 0);
	b = linktls_ctx(TLS_CLIENT, tlsfix_path("beta.key"),
	    tlsfix_path("beta.crt"), NULL, &renewed, err, sizeof(err));
	ck_assert_int_eq(renewed, 1);
	ck_assert_str_eq(tls_ctx_fingerprint(b), fp_alpha);
	/* A missing file: NULL with the reason. */
	ck_assert_ptr_null(linktls_ctx(TLS_CLIENT, tlsfix_path("alpha.key"),
	    tlsfix_path("beta.crt"), NULL, &renewed, err, sizeof(err)));
	ck_assert_msg(strstr(err, "tls_key ") != NULL &&
	    strstr(err, "No such file") != NULL, "%s", err);
}
END_TEST

static Suite *
suite(void)
{
	Suite	*s = suite_create("lconntls");
	TCase	*tc;

	tc = tcase_create("transport");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_hello_before_handshake);
	tcase_add_test(tc, test_pending_rest_of_record);
	tcase_add_test(tc, test_pending_read_on_again);
	tcase_add_test(tc, test_refused_pin);
	tcase_add_test(tc, test_unanswered);
	tcase_add_test(tc, test_ctx_cache);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(suite());
}
