/*
 * check_link.c: unit tests of the link service: the line protocol
 * (services/linkproto.c), the durable queue (services/queue.c), and the
 * link helper's side of the master's contract.
 *
 * The last group plays both the master and the peer's linkd by hand: a
 * unix listen socket at fd 3, a SOCK_SEQPACKET status channel after the
 * listen fds, a TCP listener standing in for linkd, and a datagram socket
 * for the log; it execs the built services/link (found through
 * $top_builddir, default ".") and checks READY/STATUS, the stop on
 * end-of-file (every request answered, clients closed, drain bound), the
 * HANDOFF of the connected link and its take-over by a second
 * generation, and the queue lock between two helpers.  Every wait has a
 * deadline; nothing sleeps.
 */
#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <netinet/in.h>

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../services/linkproto.h"
#include "../../services/queue.h"
#include "fakemaster.h"
#include "fdpass.h"
#include "proto.h"
#include "sock.h"
#include "util.h"
#include "unit.h"


/* --- fixtures --------------------------------------------------------- */

static void
tmp_setup(void)
{
	fm_tmp_setup("check_link");
}

static void
tmp_teardown(void)
{
	fm_tmp_teardown();
}

/* --- framing ---------------------------------------------------------- */

static void
msg_ok(const char *line, size_t len, uint64_t want_id, const char *want,
    size_t want_len)
{
	const char	*payload, *why = NULL;
	size_t		 plen;
	uint64_t	 id;

	ck_assert_msg(linkproto_parse_msg(line, len, &id, &payload, &plen,
	    &why) == 0, "\"%s\" refused: %s", line, why);
	ck_assert_msg(id == want_id, "\"%s\": id %" PRIu64, line, id);
	ck_assert_uint_eq(plen, want_len);
	ck_assert(memcmp(payload, want, want_len) == 0);
}

static void
msg_bad(const char *line)
{
	const char	*payload, *why = NULL;
	size_t		 plen;
	uint64_t	 id;

	ck_assert_msg(linkproto_parse_msg(line, strlen(line), &id, &payload,
	    &plen, &why) == -1, "\"%s\" accepted", line);
	ck_assert_ptr_nonnull(why);
}

START_TEST(test_parse_msg)
{
	msg_ok("1 hello", 7, 1, "hello", 5);
	msg_ok("42 ", 3, 42, "", 0);
	msg_ok("7  two  spaces ", 15, 7, " two  spaces ", 13);
	/* Payloads are opaque bytes: \r, NUL, a second space, a tab. */
	msg_ok("3 a\r\0b\tc", 8, 3, "a\r\0b\tc", 6);
	msg_ok("9223372036854775808 max", 23, (uint64_t)1 << 63, "max", 3);
	msg_ok("12345678901234567 x", 19, 12345678901234567ULL, "x", 1);
	/* Lines of 8 bytes and more take the id's first 8 bytes at once. */
	msg_ok("9 abcdefgh", 10, 9, "abcdefgh", 8);
	msg_ok("1234567 payload", 15, 1234567, "payload", 7);
	msg_ok("12345678 ", 9, 12345678, "", 0);
	msg_ok("123456789 x", 11, 123456789, "x", 1);
	msg_ok("10000000 \xff\xfa", 11, 10000000, "\xff\xfa", 2);

	msg_bad("");
	msg_bad("1");
	msg_bad("17");
	msg_bad(" 1 x");
	msg_bad("0 zero");
	msg_bad("01 leading zero");
	msg_bad("-1 minus");
	msg_bad("+1 plus");
	msg_bad("1x y");
	msg_bad("x1 y");
	msg_bad("9223372036854775809 above 2^63");
	msg_bad("18446744073709551616 above 2^64");
	msg_bad("99999999999999999999 twenty digits");
	msg_bad("1 two\nlines");
	msg_bad("12345678");
	msg_bad("1234567: colon");
	msg_bad("1234567/ slash");
	msg_bad("1\xff" "234567 x");
	msg_bad("123\xfa" "4567 x");
	msg_bad("1234567\xff" "9 x");
	msg_bad("HELLO 1 alpha");
}
END_TEST

START_TEST(test_format_hdr)
{
	char		 buf[LINKPROTO_HDR_MAX + 1], line[64];
	uint64_t	 ids[] = { 1, 9, 10, 1234567, (uint64_t)1 << 63 };
	size_t		 i, n;

	ck_assert_uint_eq(linkproto_format_hdr(buf, sizeof(buf), 1), 2);
	ck_assert_str_eq(buf, "1 ");
	n = linkproto_format_hdr(buf, sizeof(buf), (uint64_t)1 << 63);
	ck_assert_uint_eq(n, LINKPROTO_HDR_MAX - 1);
	ck_assert_str_eq(buf, "9223372036854775808 ");
	/* Too small a buffer: 0, not a cut header. */
	ck_assert_uint_eq(linkproto_format_hdr(buf, 3, 1000), 0);
	/* What we format, we parse back. */
	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		n = linkproto_format_hdr(buf, sizeof(buf), ids[i]);
		ck_assert_uint_gt(n, 0);
		memcpy(line, buf, n);
		memcpy(line + n, "payload", 7);
		msg_ok(line, n + 7, ids[i], "payload", 7);
	}
}
END_TEST

static int
hello(const char *line, char *name, size_t namelen)
{
	const char	*why = NULL;
	int		 rc;

	rc = linkproto_parse_hello(line, strlen(line), name, namelen, &why);
	if (rc != 0)
		ck_assert_ptr_nonnull(why);
	return rc;
}

START_TEST(test_parse_hello)
{
	char	 name[LINKPROTO_NAME_MAX + 1], longname[300];

	ck_assert_int_eq(hello("HELLO 1 alpha", name, sizeof(name)), 0);
	ck_assert_str_eq(name, "alpha");
	ck_assert_int_eq(hello("HELLO 1 a-b_c.d9", name, sizeof(name)), 0);
	ck_assert_str_eq(name, "a-b_c.d9");
	ck_assert_int_eq(hello("HELLO 2 alpha", name, sizeof(name)), -2);
	ck_assert_int_eq(hello("HELLO 1", name, sizeof(name)), -1);
	ck_assert_int_eq(hello("HELLO 1 ", name, sizeof(name)), -1);
	ck_assert_int_eq(hello("HELLO  1 alpha", name, sizeof(name)), -1);
	ck_assert_int_eq(hello("HELLO 1 al pha", name, sizeof(name)), -1);
	ck_assert_int_eq(hello("HELLO 1 alpha ", name, sizeof(name)), -1);
	ck_assert_int_eq(hello("HELLO 1 ../x", name, sizeof(name)), -1);
	ck_assert_int_eq(hello("hello 1 alpha", name, sizeof(name)), -1);
	ck_assert_int_eq(hello("HELLO x alpha", name, sizeof(name)), -1);
	ck_assert_int_eq(hello("1 alpha", name, sizeof(name)), -1);
	ck_assert_int_eq(hello("", name, sizeof(name)), -1);

	memset(longname, 'a', sizeof(longname));
	memcpy(longname, "HELLO 1 ", 8);
	longname[8 + LINKPROTO_NAME_MAX] = '\0';
	ck_assert_int_eq(hello(longname, name, sizeof(name)), 0);
	ck_assert_uint_eq(strlen(name), LINKPROTO_NAME_MAX);
	longname[8 + LINKPROTO_NAME_MAX] = 'a';
	longname[8 + LINKPROTO_NAME_MAX + 1] = '\0';
	ck_assert_int_eq(hello(longname, name, sizeof(name)), -1);
	/* A name that does not fit the caller's buffer is refused. */
	ck_assert_int_eq(hello("HELLO 1 alpha", name, 4), -1);
}
END_TEST

static enum linkproto_answer
answer(const char *line, char *text, size_t len)
{
	return linkproto_parse_answer(line, strlen(line), text, len);
}

START_TEST(test_parse_answer)
{
	char	 t[64];

	ck_assert_int_eq(answer("OK 1 beta", t, sizeof(t)), LINKPROTO_OK);
	ck_assert_str_eq(t, "beta");
	ck_assert_int_eq(answer("ERR not a peer", t, sizeof(t)),
	    LINKPROTO_ERR);
	ck_assert_str_eq(t, "not a peer");
	ck_assert_int_eq(answer("ERR", t, sizeof(t)), LINKPROTO_ERR);
	ck_assert_str_eq(t, "");
	ck_assert_int_eq(answer("ERR a long reason", t, 6), LINKPROTO_ERR);
	ck_assert_str_eq(t, "a lon");
	ck_assert_int_eq(answer("OK 2 beta", t, sizeof(t)), LINKPROTO_BAD);
	ck_assert_int_eq(answer("OK 1", t, sizeof(t)), LINKPROTO_BAD);
	ck_assert_int_eq(answer("OK 1 ", t, sizeof(t)), LINKPROTO_BAD);
	ck_assert_int_eq(answer("OK 1 be ta", t, sizeof(t)), LINKPROTO_BAD);
	ck_assert_int_eq(answer("ERRx", t, sizeof(t)), LINKPROTO_BAD);
	ck_assert_int_eq(answer("ERR \001", t, sizeof(t)), LINKPROTO_BAD);
	ck_assert_int_eq(answer("1 hello", t, sizeof(t)), LINKPROTO_BAD);
	ck_assert_int_eq(answer("", t, sizeof(t)), LINKPROTO_BAD);
}
END_TEST

START_TEST(test_critical_and_names)
{
	ck_assert(linkproto_is_critical("critical:x", 10));
	ck_assert(linkproto_is_critical("critical:", 9));
	ck_assert(!linkproto_is_critical("critical", 8));
	ck_assert(!linkproto_is_critical("Critical:x", 10));
	ck_assert(!linkproto_is_critical(" critical:x", 11));
	ck_assert(!linkproto_is_critical("", 0));

	ck_assert(linkproto_name_ok("beta", 4));
	ck_assert(linkproto_name_ok("host-1.example_org", 18));
	ck_assert(!linkproto_name_ok("", 0));
	ck_assert(!linkproto_name_ok("a b", 3));
	ck_assert(!linkproto_name_ok("a/b", 3));
	ck_assert(!linkproto_name_ok("a:b", 3));
	ck_assert(!linkproto_name_ok("a\nb", 3));
}
END_TEST

START_TEST(test_excerpt)
{
	char	 out[LINKPROTO_EXCERPT * 4 + 4], big[200];

	linkproto_excerpt("plain text", 10, LINKPROTO_EXCERPT, out,
	    sizeof(out));
	ck_assert_str_eq(out, "plain text");
	linkproto_excerpt("a\"b\\c\r\n\t\001\377", 10, LINKPROTO_EXCERPT,
	    out, sizeof(out));
	ck_assert_str_eq(out, "a\\\"b\\\\c\\r\\n\\t\\x01\\xff");
	linkproto_excerpt("nul\0here", 8, LINKPROTO_EXCERPT, out,
	    sizeof(out));
	ck_assert_str_eq(out, "nul\\x00here");
	memset(big, 'x', sizeof(big));
	linkproto_excerpt(big, sizeof(big), LINKPROTO_EXCERPT, out,
	    sizeof(out));
	ck_assert_uint_eq(strlen(out), LINKPROTO_EXCERPT + 3);
	ck_assert_str_eq(out + LINKPROTO_EXCERPT, "...");
	/* A small buffer is never overrun. */
	linkproto_excerpt(big, sizeof(big), LINKPROTO_EXCERPT, out, 10);
	ck_assert_uint_lt(strlen(out), 10);
	/* Another maximum. */
	linkproto_excerpt(big, sizeof(big), 5, out, sizeof(out));
	ck_assert_str_eq(out, "xxxxx...");
	/* All escapes at the limit still fit the documented size. */
	memset(big, '\001', sizeof(big));
	linkproto_excerpt(big, sizeof(big), LINKPROTO_EXCERPT, out,
	    sizeof(out));
	ck_assert_uint_eq(strlen(out), LINKPROTO_EXCERPT * 4 + 3);
}
END_TEST

static long long
ptime(const char *s)
{
	long long	 ms = -42;

	if (parse_time(s, LINKPROTO_TIME_MAX, &ms) == -1)
		return -1;
	return ms;
}

START_TEST(test_times)
{
	char	 buf[32];

	ck_assert_int_eq(ptime("5"), 5000);
	ck_assert_int_eq(ptime("0"), 0);
	ck_assert_int_eq(ptime("200ms"), 200);
	ck_assert_int_eq(ptime("2s"), 2000);
	ck_assert_int_eq(ptime("3m"), 180000);
	ck_assert_int_eq(ptime("1h"), 3600000);
	ck_assert_int_eq(ptime("24h"), 86400000);
	ck_assert_int_eq(ptime(""), -1);
	ck_assert_int_eq(ptime("x"), -1);
	ck_assert_int_eq(ptime("5x"), -1);
	ck_assert_int_eq(ptime("5 s"), -1);
	ck_assert_int_eq(ptime("-1"), -1);
	ck_assert_int_eq(ptime("1.5s"), -1);
	ck_assert_int_eq(ptime("25h"), -1);
	ck_assert_int_eq(ptime("99999999999999999999"), -1);

	/* fmt_duration: libutil's, tested in check_lconn.c. */
	linkproto_errstr(ECONNREFUSED, buf, sizeof(buf));
	ck_assert_str_eq(buf, "connection refused");
}
END_TEST

START_TEST(test_backoff)
{
	uint32_t	 rnd = 12345;
	long long	 d, prev, base;
	unsigned	 a;
	int		 run;

	/* The first retry is retry_min, whatever the dice say. */
	ck_assert_int_eq(backoff_ms(0, 1000, 60000, 0), 1000);
	ck_assert_int_eq(backoff_ms(0, 1000, 60000, UINT32_MAX), 1000);
	ck_assert_int_eq(backoff_ms(0, 200, 60000, 7), 200);
	/* Jitter spans the upper half of the doubled delay. */
	ck_assert_int_eq(backoff_ms(3, 1000, 60000, 0), 4000);
	ck_assert_int_eq(backoff_ms(3, 1000, 60000, 4000), 8000);
	/* Capped, and huge attempt counts do not overflow. */
	ck_assert_int_eq(backoff_ms(1000, 1000, 60000, 30000), 60000);
	ck_assert_int_le(backoff_ms(UINT_MAX, 1, 86400000, 77),
	    86400000);
	/* min == max: no jitter left. */
	ck_assert_int_eq(backoff_ms(5, 500, 500, 99), 500);

	for (run = 0; run < 200; run++) {
		prev = 0;
		base = 100;
		for (a = 0; a < 16; a++) {
			rnd = rnd * 1103515245 + 12345;
			d = backoff_ms(a, 100, 30000, rnd);
			ck_assert_int_ge(d, 100);
			ck_assert_int_le(d, 30000);
			/* Never shorter than the previous one below the cap. */
			if (base < 30000)
				ck_assert_msg(d >= prev, "attempt %u: %lld < "
				    "%lld", a, d, prev);
			else
				ck_assert_int_ge(d, 15000);
			prev = d;
			base = base * 2 > 30000 ? 30000 : base * 2;
		}
	}
}
END_TEST

/* --- the queue ------------------------------------------------------------ */

static char *
qdir(void)
{
	return fm_tmp_path("state/link/beta/queue");
}

static struct queue *
qopen(const char *dir)
{
	struct queue	*q;
	char		 err[512];

	q = queue_open(dir, err, sizeof(err));
	ck_assert_msg(q != NULL, "queue_open %s: %s", dir, err);
	return q;
}

static uint64_t
qappend(struct queue *q, const char *s)
{
	uint64_t	 seq = 0;

	ck_assert_msg(queue_append(q, s, strlen(s), &seq) == 0,
	    "append: %s", strerror(errno));
	return seq;
}

/* Peek the oldest, check it, remove it. */
static void
qtake(struct queue *q, uint64_t want_seq, const char *want)
{
	uint64_t	 seq;
	char		*data;
	size_t		 len;

	ck_assert_int_eq(queue_peek(q, SIZE_MAX, &seq, &data, &len), 0);
	ck_assert_msg(seq == want_seq, "seq %" PRIu64 ", want %" PRIu64, seq,
	    want_seq);
	ck_assert_uint_eq(len, strlen(want));
	ck_assert_str_eq(data, want);
	free(data);
	ck_assert_int_eq(queue_remove(q, seq), 0);
}

static int
count_files(const char *dir, const char *suffix)
{
	struct dirent	*de;
	DIR		*d;
	int		 n = 0;
	size_t		 l;

	ck_assert_ptr_nonnull(d = opendir(dir));
	while ((de = readdir(d)) != NULL) {
		/* Requests and foreign files; not the owner's lock. */
		if (de->d_name[0] == '.' || strcmp(de->d_name, QUEUE_LOCK) == 0)
			continue;
		l = strlen(de->d_name);
		if (suffix == NULL || (l > strlen(suffix) &&
		    strcmp(de->d_name + l - strlen(suffix), suffix) == 0))
			n++;
	}
	closedir(d);
	return n;
}

static char *
read_file(const char *path, size_t *len)
{
	struct stat	 st;
	char		*buf;
	int		 fd;

	ck_assert_int_ne(fd = open(path, O_RDONLY | O_CLOEXEC), -1);
	ck_assert_int_eq(fstat(fd, &st), 0);
	buf = xmalloc((size_t)st.st_size + 1);
	ck_assert_int_eq(read(fd, buf, (size_t)st.st_size), st.st_size);
	buf[st.st_size] = '\0';
	close(fd);
	*len = (size_t)st.st_size;
	return buf;
}

START_TEST(test_queue_order)
{
	struct queue	*q;
	struct stat	 st;
	char		*dir, *p, *data;
	size_t		 len;
	uint64_t	 seq;

	dir = qdir();
	q = qopen(dir);
	/* Every missing directory was made, private. */
	ck_assert_int_eq(stat(dir, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0700);
	p = fm_tmp_path("state/link");
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0700);
	free(p);

	ck_assert_uint_eq(queue_count(q), 0);
	ck_assert_int_eq(queue_peek(q, SIZE_MAX, &seq, &data, &len), 1);
	ck_assert_uint_eq(qappend(q, "critical:one"), 1);
	ck_assert_uint_eq(qappend(q, "critical:two"), 2);
	ck_assert_uint_eq(qappend(q, ""), 3);
	ck_assert_uint_eq(queue_count(q), 3);

	/* One file per request, named by 20 digits, holding the line. */
	xasprintf(&p, "%s/00000000000000000002", dir);
	data = read_file(p, &len);
	ck_assert_str_eq(data, "critical:two");
	ck_assert_uint_eq(len, 12);
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	free(data);
	free(p);
	ck_assert_int_eq(count_files(dir, NULL), 3);

	qtake(q, 1, "critical:one");
	ck_assert_uint_eq(qappend(q, "critical:four"), 4);
	qtake(q, 2, "critical:two");
	qtake(q, 3, "");
	qtake(q, 4, "critical:four");
	ck_assert_uint_eq(queue_count(q), 0);
	ck_assert_int_eq(count_files(dir, NULL), 0);
	queue_close(q);
	free(dir);
}
END_TEST

START_TEST(test_queue_reopen)
{
	struct queue	*q;
	char		*dir;
	int		 i;

	dir = qdir();
	q = qopen(dir);
	for (i = 0; i < 5; i++)
		qappend(q, "x");
	qtake(q, 1, "x");
	qtake(q, 2, "x");
	queue_close(q);

	/* The numbering goes on from the highest file present. */
	q = qopen(dir);
	ck_assert_uint_eq(queue_count(q), 3);
	ck_assert_uint_eq(qappend(q, "six"), 6);
	qtake(q, 3, "x");
	queue_close(q);

	/* Many requests: order survives a reopen (numbers sort, not names). */
	q = qopen(dir);
	for (i = 0; i < 150; i++)
		qappend(q, "y");
	queue_close(q);
	q = qopen(dir);
	ck_assert_uint_eq(queue_count(q), 153);
	qtake(q, 4, "x");
	qtake(q, 5, "x");
	qtake(q, 6, "six");
	for (i = 0; i < 150; i++)
		qtake(q, 7 + (uint64_t)i, "y");
	queue_close(q);

	/* Empty again: the next open starts from 1. */
	q = qopen(dir);
	ck_assert_uint_eq(queue_count(q), 0);
	ck_assert_uint_eq(qappend(q, "again"), 1);
	queue_close(q);
	free(dir);
}
END_TEST

static void
touch(const char *dir, const char *name, const char *content)
{
	char	*p;
	int	 fd;

	xasprintf(&p, "%s/%s", dir, name);
	ck_assert_int_ne(fd = open(p, O_WRONLY | O_CREAT | O_TRUNC |
	    O_CLOEXEC, 0600), -1);
	ck_assert_int_eq(write(fd, content, strlen(content)),
	    (ssize_t)strlen(content));
	close(fd);
	free(p);
}

START_TEST(test_queue_tmp_cleanup)
{
	struct queue	*q;
	char		*dir;

	dir = qdir();
	q = qopen(dir);
	queue_close(q);
	touch(dir, "00000000000000000009", "nine");
	touch(dir, "00000000000000000003", "three");
	/* A write that never completed, and things that are not ours. */
	touch(dir, "00000000000000000010.tmp", "half");
	touch(dir, "00000000000000000002.tmp", "");
	touch(dir, "README", "not a request");
	touch(dir, "00000000000000000001.bad", "set aside");
	touch(dir, "0000000000000000001", "19 digits");
	touch(dir, "00000000000000000000", "zero");

	q = qopen(dir);
	ck_assert_int_eq(count_files(dir, ".tmp"), 0);
	ck_assert_uint_eq(queue_count(q), 2);
	ck_assert_uint_eq(qappend(q, "ten"), 10);
	qtake(q, 3, "three");
	qtake(q, 9, "nine");
	qtake(q, 10, "ten");
	/* Foreign files are left alone. */
	ck_assert_int_eq(count_files(dir, NULL), 4);
	queue_close(q);
	free(dir);
}
END_TEST

START_TEST(test_queue_set_aside)
{
	struct queue	*q;
	char		*dir, *p, *data;
	size_t		 len;

	dir = qdir();
	q = qopen(dir);
	qappend(q, "bad one");
	qappend(q, "good one");
	qappend(q, "bad two");
	ck_assert_int_eq(queue_set_aside(q, 1), 0);
	ck_assert_uint_eq(queue_count(q), 2);
	ck_assert_int_eq(count_files(dir, ".bad"), 1);
	/* An earlier NAME.bad the operator has not looked at is kept. */
	touch(dir, "00000000000000000003.bad", "older");
	ck_assert_int_eq(queue_set_aside(q, 3), 0);
	ck_assert_int_eq(count_files(dir, ".bad"), 3);
	xasprintf(&p, "%s/00000000000000000003.bad", dir);
	data = read_file(p, &len);
	ck_assert_str_eq(data, "older");
	free(data);
	free(p);
	xasprintf(&p, "%s/00000000000000000003.1.bad", dir);
	data = read_file(p, &len);
	ck_assert_str_eq(data, "bad two");
	free(data);
	free(p);
	queue_close(q);
	/* Kept for the operator, never replayed. */
	q = qopen(dir);
	ck_assert_uint_eq(queue_count(q), 1);
	qtake(q, 2, "good one");
	queue_close(q);
	free(dir);
}
END_TEST

/*
 * Not a regular file, or too big: refused at once (a FIFO must not block
 * the helper in open), and set aside like any other bad entry.
 */
START_TEST(test_queue_not_regular)
{
	struct queue	*q;
	uint64_t	 seq;
	char		*dir, *p, *data;
	size_t		 len;

	dir = qdir();
	q = qopen(dir);
	queue_close(q);
	xasprintf(&p, "%s/00000000000000000001", dir);
	ck_assert_int_eq(mkfifo(p, 0600), 0);
	free(p);
	xasprintf(&p, "%s/00000000000000000002", dir);
	ck_assert_int_eq(symlink("/etc/hostname", p), 0);
	free(p);
	touch(dir, "00000000000000000003", "0123456789a");
	touch(dir, "00000000000000000004", "fine");
	q = qopen(dir);
	ck_assert_uint_eq(queue_count(q), 4);
	errno = 0;
	ck_assert_int_eq(queue_peek(q, 10, &seq, &data, &len), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(seq, 1);
	ck_assert_int_eq(queue_set_aside(q, seq), 0);
	ck_assert_int_eq(queue_peek(q, 10, &seq, &data, &len), -1);
	ck_assert_int_eq(errno, ELOOP);
	ck_assert_int_eq(seq, 2);
	ck_assert_int_eq(queue_set_aside(q, seq), 0);
	ck_assert_int_eq(queue_peek(q, 10, &seq, &data, &len), -1);
	ck_assert_int_eq(errno, EFBIG);
	ck_assert_int_eq(seq, 3);
	ck_assert_int_eq(queue_set_aside(q, seq), 0);
	ck_assert_int_eq(queue_peek(q, 10, &seq, &data, &len), 0);
	ck_assert_int_eq(seq, 4);
	ck_assert_str_eq(data, "fine");
	free(data);
	ck_assert_int_eq(count_files(dir, ".bad"), 3);
	queue_close(q);
	free(dir);
}
END_TEST

/* The content of dir/name. */
static void
expect_file(const char *dir, const char *name, const char *want)
{
	char	*p, *data;
	size_t	 len;

	xasprintf(&p, "%s/%s", dir, name);
	data = read_file(p, &len);
	ck_assert_msg(strcmp(data, want) == 0, "%s: \"%s\", want \"%s\"",
	    name, data, want);
	free(data);
	free(p);
}

START_TEST(test_queue_lock)
{
	struct queue	*q, *q2;
	struct stat	 st;
	char		*dir, *lock, err[512];

	dir = qdir();
	q = qopen(dir);
	lock = fm_tmp_path("state/link/beta/queue/" QUEUE_LOCK);
	ck_assert_int_eq(stat(lock, &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	/* The owner is at work on a request. */
	touch(dir, "00000000000000000007.tmp", "in progress");

	/* A second opener (another open file: flock says no) gives up... */
	err[0] = '\0';
	q2 = queue_open(dir, err, sizeof(err));
	ck_assert_ptr_null(q2);
	ck_assert_msg(strstr(err, "is in use by another helper") != NULL, "%s",
	    err);
	ck_assert_msg(strstr(err, dir) != NULL, "%s", err);
	/* ...before touching anything: the .tmp is not stale for it. */
	ck_assert_int_eq(count_files(dir, ".tmp"), 1);
	/* The lock file is not a request. */
	ck_assert_uint_eq(queue_count(q), 0);
	ck_assert_uint_eq(qappend(q, "first"), 1);

	/* Released with the queue: the next owner cleans up as usual. */
	queue_close(q);
	q = qopen(dir);
	ck_assert_int_eq(count_files(dir, ".tmp"), 0);
	ck_assert_uint_eq(queue_count(q), 1);
	qtake(q, 1, "first");
	queue_close(q);
	free(lock);
	free(dir);
}
END_TEST

START_TEST(test_queue_no_replace)
{
	struct queue	*q;
	char		*dir;

	dir = qdir();
	q = qopen(dir);
	ck_assert_uint_eq(qappend(q, "one"), 1);
	/*
	 * Someone else writes behind our back: a request at number 2, a
	 * write in progress at 4.  Nothing of theirs is replaced: a taken
	 * number (final or .tmp) is skipped.
	 */
	touch(dir, "00000000000000000002", "theirs");
	touch(dir, "00000000000000000004.tmp", "theirs, half");
	ck_assert_uint_eq(qappend(q, "mine"), 3);
	ck_assert_uint_eq(qappend(q, "mine too"), 5);
	expect_file(dir, "00000000000000000002", "theirs");
	expect_file(dir, "00000000000000000003", "mine");
	expect_file(dir, "00000000000000000004.tmp", "theirs, half");
	expect_file(dir, "00000000000000000005", "mine too");
	/* Our own temporary files are gone; theirs is left alone. */
	ck_assert_int_eq(count_files(dir, ".tmp"), 1);
	ck_assert_uint_eq(queue_count(q), 3);
	qtake(q, 1, "one");
	qtake(q, 3, "mine");
	qtake(q, 5, "mine too");
	ck_assert_uint_eq(queue_count(q), 0);
	queue_close(q);

	/* What they wrote is found at the next open, in order. */
	touch(dir, "00000000000000000009", "later");
	q = qopen(dir);
	ck_assert_uint_eq(queue_count(q), 2);
	qtake(q, 2, "theirs");
	qtake(q, 9, "later");
	ck_assert_uint_eq(qappend(q, "next"), 10);
	queue_close(q);
	free(dir);
}
END_TEST

START_TEST(test_queue_not_dir)
{
	struct queue	*q;
	char		 err[512], *file, *under;

	file = fm_tmp_path("plainfile");
	touch(fm_tmp_dir(), "plainfile", "x");
	q = queue_open(file, err, sizeof(err));
	ck_assert_ptr_null(q);
	ck_assert_msg(strstr(err, "not a directory") != NULL, "%s", err);
	ck_assert_msg(strstr(err, file) != NULL, "%s", err);

	/* A file in the middle of the path. */
	xasprintf(&under, "%s/link/beta/queue", file);
	q = queue_open(under, err, sizeof(err));
	ck_assert_ptr_null(q);
	ck_assert_msg(strstr(err, "not a directory") != NULL, "%s", err);

	q = queue_open("relative/queue", err, sizeof(err));
	ck_assert_ptr_null(q);
	ck_assert_msg(strstr(err, "absolute") != NULL, "%s", err);
	free(file);
	free(under);
}
END_TEST

START_TEST(test_queue_unwritable)
{
	struct queue	*q;
	char		*dir, *p;
	uint64_t	 seq;

	dir = qdir();
	q = qopen(dir);
	qappend(q, "kept");
	if (geteuid() != 0) {
		/* Not root: permissions are enough. */
		ck_assert_int_eq(chmod(dir, 0500), 0);
		errno = 0;
		ck_assert_int_eq(queue_append(q, "x", 1, &seq), -1);
		ck_assert_int_eq(errno, EACCES);
		ck_assert_int_eq(chmod(dir, 0700), 0);
	}
	/* Root writes anywhere, but not into a directory that is gone. */
	p = fm_tmp_path("state/link/beta/queue/00000000000000000001");
	ck_assert_int_eq(unlink(p), 0);
	free(p);
	p = fm_tmp_path("state/link/beta/queue/" QUEUE_LOCK);
	ck_assert_int_eq(unlink(p), 0);
	free(p);
	ck_assert_int_eq(rmdir(dir), 0);
	errno = 0;
	ck_assert_int_eq(queue_append(q, "lost", 4, &seq), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_uint_eq(queue_count(q), 1);
	queue_close(q);

	/* Opening where a directory cannot be made (the queue's parent). */
	if (geteuid() != 0) {
		p = fm_tmp_path("state/link/beta");
		ck_assert_int_eq(chmod(p, 0500), 0);
		ck_assert_ptr_null(queue_open(dir, NULL, 0));
		ck_assert_int_eq(chmod(p, 0700), 0);
		free(p);
	}
	free(dir);
}
END_TEST

START_TEST(test_queue_disk_full)
{
	struct queue	*q;
	struct rlimit	 rl;
	char		*dir, big[4096];
	uint64_t	 seq;

	dir = qdir();
	q = qopen(dir);
	/* A file size limit fails the write as a full disk would. */
	(void)signal(SIGXFSZ, SIG_IGN);
	rl.rlim_cur = rl.rlim_max = 1024;
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
	memset(big, 'z', sizeof(big));
	errno = 0;
	ck_assert_int_eq(queue_append(q, big, sizeof(big), &seq), -1);
	ck_assert_int_eq(errno, EFBIG);
	/* Nothing left behind, nothing counted, numbering unharmed. */
	ck_assert_int_eq(count_files(dir, NULL), 0);
	ck_assert_uint_eq(queue_count(q), 0);
	ck_assert_uint_eq(qappend(q, "small"), 1);
	queue_close(q);
	free(dir);
}
END_TEST

START_TEST(test_queue_large)
{
	struct queue	*q;
	char		*dir, *big, *data;
	size_t		 n = 1024 * 1024 + 7, i, len;
	uint64_t	 seq;

	dir = qdir();
	q = qopen(dir);
	big = xmalloc(n);
	for (i = 0; i < n; i++)
		big[i] = (char)(i % 251);	/* every byte, NUL included */
	big[n / 2] = '\0';
	ck_assert_int_eq(queue_append(q, big, n, &seq), 0);
	queue_close(q);
	q = qopen(dir);
	ck_assert_int_eq(queue_peek(q, SIZE_MAX, &seq, &data, &len), 0);
	ck_assert_uint_eq(seq, 1);
	ck_assert_uint_eq(len, n);
	ck_assert(memcmp(data, big, n) == 0);
	ck_assert_int_eq(data[n], '\0');
	free(data);
	free(big);
	queue_close(q);
	free(dir);
}
END_TEST

/* --- the link helper under a fake master ------------------------------- */

/* One line (without its \n) from fd, which is blocking or not. */
static const char *
read_line(int fd)
{
	static char	 buf[1024];
	struct pollfd	 pfd;
	long long	 deadline = now_ms() + FM_WAIT_MS;
	size_t		 n = 0;
	ssize_t		 r;

	pfd.fd = fd;
	pfd.events = POLLIN;
	for (;;) {
		ck_assert_msg(now_ms() < deadline, "no line (got \"%.*s\")",
		    (int)n, buf);
		if (poll(&pfd, 1, 100) != 1)
			continue;
		r = read(fd, buf + n, 1);
		if (r == -1 && (errno == EAGAIN || errno == EINTR))
			continue;
		ck_assert_msg(r == 1, "read: %zd (%s)", r, strerror(errno));
		if (buf[n] == '\n') {
			buf[n] = '\0';
			return buf;
		}
		ck_assert_uint_lt(++n, sizeof(buf) - 1);
	}
}

static void
send_str(int fd, const char *s)
{
	ck_assert_int_eq(write(fd, s, strlen(s)), (ssize_t)strlen(s));
}

static int
accept_peer(int lfd)
{
	struct pollfd	 pfd;
	int		 fd;

	pfd.fd = lfd;
	pfd.events = POLLIN;
	ck_assert_msg(poll(&pfd, 1, FM_WAIT_MS) == 1, "link did not connect");
	ck_assert_int_ne(fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC), -1);
	return fd;
}

static int
tcp_listener(char *port, size_t len)
{
	struct sockaddr_in	 sin;
	socklen_t		 sl = sizeof(sin);
	int			 fd;

	/* Any free port: below the grammar, which has no port 0. */
	ck_assert_int_ne(fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0), -1);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(fd, SOCK_BACKLOG), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &sl), 0);
	(void)snprintf(port, len, "%d", ntohs(sin.sin_port));
	return fd;
}

/* The environment the master gives a link child, for peer beta. */
struct linkenv {
	char	*e[20];
	char	*log, *sock, *state;
	int	 logfd, ulfd;
};

static void
linkenv_init(struct linkenv *le, const char *port, int nfds,
    const char *fdnames)
{
	char	 err[256];
	int	 n = 0;

	le->log = fm_tmp_path("log");
	le->sock = fm_tmp_path("link.sock");
	le->state = fm_tmp_path("state");
	if (le->logfd <= 0) {
		le->logfd = sock_unix_listen(le->log, SOCK_DGRAM, 0600, err,
		    sizeof(err));
		ck_assert_msg(le->logfd != -1, "%s", err);
		le->ulfd = sock_unix_listen(le->sock, SOCK_STREAM, 0600, err,
		    sizeof(err));
		ck_assert_msg(le->ulfd != -1, "%s", err);
	}
	le->e[n++] = xstrdup("MASTER_TYPE=link");
	le->e[n++] = xstrdup("MASTER_SERVICE=link");
	le->e[n++] = xstrdup("MASTER_SYSLOG_NAME=linkmaster/link/beta");
	xasprintf(&le->e[n++], "MASTER_SYSLOG_SOCKET=%s", le->log);
	xasprintf(&le->e[n++], "LISTEN_FDS=%d", nfds);
	xasprintf(&le->e[n++], "LISTEN_FDNAMES=%s", fdnames);
	xasprintf(&le->e[n++], "MASTER_STATUS_FD=%d", 3 + nfds);
	le->e[n++] = xstrdup("PEER_NAME=beta");
	le->e[n++] = xstrdup("PEER_ADDRESS=127.0.0.1");
	xasprintf(&le->e[n++], "PEER_PORT=%s", port);
	le->e[n++] = xstrdup("MASTER_HOST_NAME=alpha");
	xasprintf(&le->e[n++], "MASTER_STATE_DIR=%s", le->state);
	le->e[n] = NULL;
}

static void
linkenv_free(struct linkenv *le)
{
	int	 i;

	for (i = 0; le->e[i] != NULL; i++) {
		free(le->e[i]);
		le->e[i] = NULL;
	}
	free(le->log);
	free(le->sock);
	free(le->state);
}

static char *link_args[] = { "link", NULL };

START_TEST(test_link_handoff)
{
	struct linkenv		 le;
	struct fm_child		 ch;
	struct sockaddr_storage	 a, b;
	socklen_t		 al = sizeof(a), bl = sizeof(b);
	const char		*line, *payload, *why;
	char			 port[16], buf[64];
	char			*args2[] = { "link", "-o", "retry_min=10s",
			    NULL };
	int			 tlfd, peer, c, hfd, fds[2];
	size_t			 plen;
	uint64_t		 id;

	memset(&le, 0, sizeof(le));
	tlfd = tcp_listener(port, sizeof(port));
	linkenv_init(&le, port, 1, "link/beta");
	fm_spawn(&ch, "link", &le.ulfd, 1,
	    (const char *const *)le.e, link_args, 0);

	ck_assert_str_eq(fm_next_packet(&ch, NULL), "READY");
	ck_assert_str_eq(fm_next_packet(&ch, NULL), "STATUS connecting");
	peer = accept_peer(tlfd);
	ck_assert_str_eq(read_line(peer), "HELLO 1 alpha");
	send_str(peer, "OK 1 beta\n");
	ck_assert_str_eq(fm_next_packet(&ch, NULL), "STATUS up");
	fm_expect_log(le.logfd, "link to beta up");

	c = fm_unix_client(le.sock);
	send_str(c, "ping\n");
	ck_assert_str_eq(read_line(peer), "1 ping");
	send_str(peer, "1 pong\n");
	ck_assert_str_eq(read_line(c), "pong");

	/* Stop with a request outstanding: it is still answered. */
	send_str(c, "slow\n");
	ck_assert_str_eq(read_line(peer), "2 slow");
	ck_assert_int_eq(shutdown(ch.status, SHUT_WR), 0);
	send_str(peer, "2 done\n");
	ck_assert_str_eq(read_line(c), "done");
	/* New clients are no longer taken... */
	/* ...and once the last one leaves, the idle link is handed over. */
	close(c);
	ck_assert_str_eq(fm_next_packet(&ch, &hfd), "HANDOFF");
	ck_assert_int_ne(hfd, -1);
	fm_expect_log(le.logfd, "handing the link to beta over to the master");
	fm_expect_exit(&ch, 0);
	close(ch.status);

	/* It is the very connection our fake linkd holds. */
	ck_assert_int_eq(getsockname(hfd, (struct sockaddr *)&a, &al), 0);
	ck_assert_int_eq(getpeername(peer, (struct sockaddr *)&b, &bl), 0);
	ck_assert_uint_eq(al, bl);
	ck_assert(memcmp(&a, &b, al) == 0);

	/* Generation 2 takes it over: no connect, no hello. */
	linkenv_free(&le);
	linkenv_init(&le, port, 2, "link/beta:handoff");
	fds[0] = le.ulfd;
	fds[1] = hfd;
	fm_spawn(&ch, "link", fds, 2, (const char *const *)le.e, args2, 0);
	close(hfd);
	ck_assert_str_eq(fm_next_packet(&ch, NULL), "READY");
	ck_assert_str_eq(fm_next_packet(&ch, NULL), "STATUS up");
	fm_expect_log(le.logfd, "took over the link to beta");

	c = fm_unix_client(le.sock);
	send_str(c, "again\n");
	line = read_line(peer);
	ck_assert_int_eq(linkproto_parse_msg(line, strlen(line), &id,
	    &payload, &plen, &why), 0);
	ck_assert_uint_eq(plen, 5);
	ck_assert(memcmp(payload, "again", 5) == 0);
	/* Ids keep growing on the link across generations. */
	ck_assert_msg(id > 2, "id %" PRIu64 " after 2", id);
	(void)snprintf(buf, sizeof(buf), "%" PRIu64 " back\n", id);
	send_str(peer, buf);
	ck_assert_str_eq(read_line(c), "back");
	close(c);

	/* The peer drops the link: down, and a stop hands nothing over. */
	close(peer);
	line = fm_next_packet(&ch, NULL);
	ck_assert_msg(strcmp(line, "STATUS down: connection closed by peer, "
	    "retry in 10s") == 0, "%s", line);
	fm_expect_log(le.logfd, "link to beta down: connection closed by peer, "
	    "retry in 10s");
	ck_assert_int_eq(shutdown(ch.status, SHUT_WR), 0);
	ck_assert_str_eq(fm_next_packet(&ch, &hfd), "");
	ck_assert_int_eq(hfd, -1);
	fm_expect_exit(&ch, 0);
	close(ch.status);
	close(tlfd);
	linkenv_free(&le);
}
END_TEST

/* Nothing arrives on fd for ms: a bounded check of an absence. */
static void
expect_quiet(int fd, int ms)
{
	struct pollfd	 pfd;

	pfd.fd = fd;
	pfd.events = POLLIN;
	ck_assert_msg(poll(&pfd, 1, ms) == 0, "unexpected data");
}

START_TEST(test_link_flow)
{
	struct linkenv	 le;
	struct fm_child	 ch;
	char		 port[16], buf[64];
	char		*args[] = { "link", "-o", "max_pending=2", "-o",
			    "max_line=10", "-o", "retry_min=5s", NULL };
	const char	*st;
	int		 tlfd, peer, c, c2;

	memset(&le, 0, sizeof(le));
	tlfd = tcp_listener(port, sizeof(port));
	linkenv_init(&le, port, 1, "link/beta");
	fm_spawn(&ch, "link", &le.ulfd, 1, (const char *const *)le.e, args, 0);
	ck_assert_str_eq(fm_next_packet(&ch, NULL), "READY");
	ck_assert_str_eq(fm_next_packet(&ch, NULL), "STATUS connecting");
	peer = accept_peer(tlfd);
	ck_assert_str_eq(read_line(peer), "HELLO 1 alpha");
	send_str(peer, "OK 1 beta\n");
	ck_assert_str_eq(fm_next_packet(&ch, NULL), "STATUS up");

	/* max_pending 2: the third request waits in the client's socket. */
	c = fm_unix_client(le.sock);
	send_str(c, "a\nb\nc\n");
	ck_assert_str_eq(read_line(peer), "1 a");
	ck_assert_str_eq(read_line(peer), "2 b");
	expect_quiet(peer, 300);

	/* Replies out of order come back to the client in order. */
	send_str(peer, "2 B\n");
	expect_quiet(c, 200);
	send_str(peer, "1 A\n");
	ck_assert_str_eq(read_line(c), "A");
	ck_assert_str_eq(read_line(c), "B");
	ck_assert_str_eq(read_line(peer), "3 c");
	send_str(peer, "3 C\n");
	ck_assert_str_eq(read_line(c), "C");

	/* max_line 10: ten bytes pass, eleven close the client. */
	send_str(c, "0123456789\n");
	ck_assert_str_eq(read_line(peer), "4 0123456789");
	send_str(peer, "4 ok\n");
	ck_assert_str_eq(read_line(c), "ok");
	c2 = fm_unix_client(le.sock);
	send_str(c2, "0123456789X\n");
	ck_assert_str_eq(read_line(c2), "error: line too long");
	ck_assert_int_eq(read(c2, buf, sizeof(buf)), 0);
	close(c2);
	fm_expect_log(le.logfd, "sent a line longer than 10 bytes");

	/* A malformed line from the peer: warning, link dropped. */
	send_str(c, "pending\n");
	ck_assert_str_eq(read_line(peer), "5 pending");
	send_str(peer, "garbage\n");
	ck_assert_str_eq(read_line(c), "con_lost");
	st = fm_next_packet(&ch, NULL);
	ck_assert_msg(strcmp(st, "STATUS down: protocol error, retry in 5s") ==
	    0, "%s", st);
	fm_expect_log(le.logfd, "warning: protocol error on the link to beta: "
	    "no space after the id: \"garbage\"");
	ck_assert_int_eq(read(peer, buf, sizeof(buf)), 0);
	close(peer);
	close(c);

	ck_assert_int_eq(shutdown(ch.status, SHUT_WR), 0);
	ck_assert_str_eq(fm_next_packet(&ch, NULL), "");
	fm_expect_exit(&ch, 0);
	close(ch.status);
	close(tlfd);
	linkenv_free(&le);
}
END_TEST

/* The helper closes fd: end-of-file (not a reset), within the deadline. */
static void
expect_eof(int fd)
{
	struct pollfd	 pfd;
	char		 buf[64];
	ssize_t		 n;

	pfd.fd = fd;
	pfd.events = POLLIN;
	ck_assert_msg(poll(&pfd, 1, FM_WAIT_MS) == 1, "no end-of-file");
	n = read(fd, buf, sizeof(buf));
	ck_assert_msg(n == 0, "read: %zd (%s), want end-of-file", n,
	    n == -1 ? strerror(errno) : "data");
}

/* A request written now is refused, not swallowed. */
static void
expect_epipe(int fd)
{
	errno = 0;
	ck_assert_int_eq(send(fd, "more\n", 5, MSG_NOSIGNAL), -1);
	ck_assert_msg(errno == EPIPE, "send: %s, want EPIPE", strerror(errno));
}

/* The peer's side of the link: connected, hello answered, "up". */
static int
link_up_peer(struct fm_child *ch, int tlfd)
{
	int	 peer;

	ck_assert_str_eq(fm_next_packet(ch, NULL), "READY");
	ck_assert_str_eq(fm_next_packet(ch, NULL), "STATUS connecting");
	peer = accept_peer(tlfd);
	ck_assert_str_eq(read_line(peer), "HELLO 1 alpha");
	send_str(peer, "OK 1 beta\n");
	ck_assert_str_eq(fm_next_packet(ch, NULL), "STATUS up");
	return peer;
}

/*
 * A stop with requests in flight: requests read after it began are
 * answered at once (in each client's order), idle clients are closed at
 * once, busy ones right after their last reply, and the link is handed
 * over as soon as nothing is in flight.
 */
START_TEST(test_link_stop)
{
	struct linkenv	 le;
	struct fm_child	 ch;
	char		*args[] = { "link", "-o", "max_pending=1", NULL };
	char		 port[16];
	int		 tlfd, peer, c1, c2, c3, hfd;

	memset(&le, 0, sizeof(le));
	tlfd = tcp_listener(port, sizeof(port));
	linkenv_init(&le, port, 1, "link/beta");
	fm_spawn(&ch, "link", &le.ulfd, 1, (const char *const *)le.e, args, 0);
	peer = link_up_peer(&ch, tlfd);

	c1 = fm_unix_client(le.sock);
	send_str(c1, "slow\n");
	ck_assert_str_eq(read_line(peer), "1 slow");
	/* max_pending 1: "y" waits, read but not sent, when the stop comes. */
	c3 = fm_unix_client(le.sock);
	send_str(c3, "x\ny\n");
	ck_assert_str_eq(read_line(peer), "2 x");
	c2 = fm_unix_client(le.sock);

	ck_assert_int_eq(shutdown(ch.status, SHUT_WR), 0);
	/* The idle client is closed at once (which shows the stop began). */
	expect_eof(c2);
	/* What it writes now fails, explicitly: nobody would answer it. */
	expect_epipe(c2);
	close(c2);
	/* So does a busy client's: its reading side is shut at the stop. */
	expect_epipe(c1);
	/* Nothing new goes on the link yet ("y" waits behind "x")... */
	expect_quiet(peer, 300);
	expect_quiet(c1, 1);
	/* ...and nothing is handed over while requests are in flight. */
	expect_quiet(ch.status, 1);

	/* "y", sent before the stop, is served, not refused. */
	send_str(peer, "2 X\n");
	ck_assert_str_eq(read_line(c3), "X");
	ck_assert_str_eq(read_line(peer), "3 y");
	send_str(peer, "3 Y\n");
	ck_assert_str_eq(read_line(c3), "Y");
	expect_eof(c3);
	close(c3);

	send_str(peer, "1 done\n");
	ck_assert_str_eq(read_line(c1), "done");
	expect_eof(c1);
	close(c1);

	ck_assert_str_eq(fm_next_packet(&ch, &hfd), "HANDOFF");
	ck_assert_int_ne(hfd, -1);
	fm_expect_log(le.logfd, "handing the link to beta over to the master");
	fm_expect_exit(&ch, 0);
	close(ch.status);
	/* The peer saw no request after the stop, and no close. */
	expect_quiet(peer, 1);
	close(hfd);
	close(peer);
	close(tlfd);
	linkenv_free(&le);
}
END_TEST

/*
 * A client that sends more than max_pending lines and then half-closes:
 * every line is served (they waited for room behind the first ones).
 */
START_TEST(test_link_eof_backlog)
{
	struct linkenv	 le;
	struct fm_child	 ch;
	char		*args[] = { "link", "-o", "max_pending=1", NULL };
	char		 port[16];
	int		 tlfd, peer, c, hfd;

	memset(&le, 0, sizeof(le));
	tlfd = tcp_listener(port, sizeof(port));
	linkenv_init(&le, port, 1, "link/beta");
	fm_spawn(&ch, "link", &le.ulfd, 1, (const char *const *)le.e, args, 0);
	peer = link_up_peer(&ch, tlfd);

	c = fm_unix_client(le.sock);
	send_str(c, "a\nb\nc\n");
	ck_assert_int_eq(shutdown(c, SHUT_WR), 0);
	ck_assert_str_eq(read_line(peer), "1 a");
	send_str(peer, "1 A\n");
	ck_assert_str_eq(read_line(c), "A");
	ck_assert_str_eq(read_line(peer), "2 b");
	send_str(peer, "2 B\n");
	ck_assert_str_eq(read_line(c), "B");
	ck_assert_str_eq(read_line(peer), "3 c");
	send_str(peer, "3 C\n");
	ck_assert_str_eq(read_line(c), "C");
	expect_eof(c);
	close(c);

	ck_assert_int_eq(shutdown(ch.status, SHUT_WR), 0);
	ck_assert_str_eq(fm_next_packet(&ch, &hfd), "HANDOFF");
	fm_expect_exit(&ch, 0);
	close(ch.status);
	close(hfd);
	close(peer);
	close(tlfd);
	linkenv_free(&le);
}
END_TEST

/* drain passes with a request in flight: failed, and no hand-over. */
START_TEST(test_link_drain_expires)
{
	struct linkenv	 le;
	struct fm_child	 ch;
	char		*args[] = { "link", "-o", "drain=300ms", NULL };
	char		 port[16], buf[64];
	int		 tlfd, peer, c1, c2, hfd;
	long long	 t0;

	memset(&le, 0, sizeof(le));
	tlfd = tcp_listener(port, sizeof(port));
	linkenv_init(&le, port, 1, "link/beta");
	fm_spawn(&ch, "link", &le.ulfd, 1, (const char *const *)le.e, args, 0);
	peer = link_up_peer(&ch, tlfd);

	c1 = fm_unix_client(le.sock);
	send_str(c1, "never\ncritical:important\n");
	ck_assert_str_eq(read_line(peer), "1 never");
	ck_assert_str_eq(read_line(peer), "2 critical:important");
	c2 = fm_unix_client(le.sock);

	t0 = now_ms();
	ck_assert_int_eq(shutdown(ch.status, SHUT_WR), 0);
	expect_eof(c2);
	close(c2);
	ck_assert_str_eq(read_line(c1), "con_lost");
	ck_assert_str_eq(read_line(c1), "queued");
	ck_assert_int_ge(now_ms() - t0, 300);
	expect_eof(c1);
	close(c1);
	expect_file(le.state, "link/beta/queue/00000000000000000001",
	    "critical:important");
	/* Replies could still come on the link: it is not handed over. */
	ck_assert_str_eq(fm_next_packet(&ch, &hfd), "");
	ck_assert_int_eq(hfd, -1);
	fm_expect_log(le.logfd,
	    "stopping the link to beta with 2 requests still "
	    "in flight after 300ms: not handing it over");
	fm_expect_exit(&ch, 0);
	ck_assert_int_eq(read(peer, buf, sizeof(buf)), 0);
	close(ch.status);
	close(peer);
	close(tlfd);
	linkenv_free(&le);
}
END_TEST

/* Two helpers on one queue: the second exits 1 before READY. */
START_TEST(test_link_queue_in_use)
{
	struct linkenv	 le;
	struct fm_child	 ch, ch2;
	char		 port[16], *want;
	int		 tlfd;

	memset(&le, 0, sizeof(le));
	tlfd = tcp_listener(port, sizeof(port));
	linkenv_init(&le, port, 1, "link/beta");
	fm_spawn(&ch, "link", &le.ulfd, 1,
	    (const char *const *)le.e, link_args, 0);
	ck_assert_str_eq(fm_next_packet(&ch, NULL), "READY");

	fm_spawn(&ch2, "link", &le.ulfd, 1, (const char *const *)le.e,
	    link_args, 0);
	ck_assert_str_eq(fm_next_packet(&ch2, NULL), "");
	fm_expect_exit(&ch2, 1);
	close(ch2.status);
	xasprintf(&want, "queue %s/link/beta/queue is in use by another helper",
	    le.state);
	fm_expect_log(le.logfd, want);
	free(want);

	/* The first one is unharmed, and stops as usual. */
	ck_assert_int_eq(shutdown(ch.status, SHUT_WR), 0);
	ck_assert_str_eq(fm_next_packet(&ch, NULL), "STATUS connecting");
	ck_assert_str_eq(fm_next_packet(&ch, NULL), "");
	fm_expect_exit(&ch, 0);
	close(ch.status);
	close(tlfd);
	linkenv_free(&le);
}
END_TEST

START_TEST(test_link_down_and_queue)
{
	struct linkenv	 le;
	struct fm_child	 ch;
	char		 port[16], *qfile, *data;
	const char	*st;
	int		 tlfd, c;
	size_t		 len;

	/* A port where nothing listens. */
	memset(&le, 0, sizeof(le));
	tlfd = tcp_listener(port, sizeof(port));
	close(tlfd);
	linkenv_init(&le, port, 1, "link/beta");
	fm_spawn(&ch, "link", &le.ulfd, 1,
	    (const char *const *)le.e, link_args, 0);
	ck_assert_str_eq(fm_next_packet(&ch, NULL), "READY");
	ck_assert_str_eq(fm_next_packet(&ch, NULL), "STATUS connecting");
	st = fm_next_packet(&ch, NULL);
	ck_assert_msg(strcmp(st, "STATUS down: connection refused, retry in "
	    "1s") == 0, "%s", st);
	fm_expect_log(le.logfd, "link to beta down: connection refused, retry "
	    "in 1s");

	/* Down: ordinary requests fail at once, critical ones queue. */
	c = fm_unix_client(le.sock);
	send_str(c, "plain\ncritical:keep me\nplain again\n");
	ck_assert_str_eq(read_line(c), "con_lost");
	ck_assert_str_eq(read_line(c), "queued");
	ck_assert_str_eq(read_line(c), "con_lost");
	qfile = fm_tmp_path("state/link/beta/queue/00000000000000000001");
	data = read_file(qfile, &len);
	ck_assert_str_eq(data, "critical:keep me");
	free(data);
	free(qfile);
	fm_expect_log(le.logfd, "queued critical request 1 for beta");

	/* Stop: the idle client is closed at once, and the helper leaves. */
	ck_assert_int_eq(shutdown(ch.status, SHUT_WR), 0);
	expect_eof(c);
	close(c);
	ck_assert_str_eq(fm_next_packet(&ch, NULL), "");
	fm_expect_exit(&ch, 0);
	close(ch.status);
	linkenv_free(&le);
}
END_TEST

/* n bytes from fd (blocking or not), within the deadline. */
static void
read_full(int fd, char *buf, size_t n)
{
	struct pollfd	 pfd;
	long long	 deadline = now_ms() + FM_WAIT_MS;
	size_t		 got = 0;
	ssize_t		 r;

	pfd.fd = fd;
	pfd.events = POLLIN;
	while (got < n) {
		ck_assert_msg(now_ms() < deadline, "got %zu of %zu bytes", got,
		    n);
		if (poll(&pfd, 1, 100) != 1)
			continue;
		r = read(fd, buf + got, n - got);
		if (r == -1 && (errno == EAGAIN || errno == EINTR))
			continue;
		ck_assert_msg(r > 0, "read: %zd (%s)", r, strerror(errno));
		got += (size_t)r;
	}
}

static void
write_full(int fd, const char *buf, size_t n)
{
	ssize_t	 r;

	while (n > 0) {
		r = write(fd, buf, n);
		if (r == -1 && errno == EINTR)
			continue;
		ck_assert_msg(r > 0, "write: %zd (%s)", r, strerror(errno));
		buf += r;
		n -= (size_t)r;
	}
}

#define SLOW_LEN	150000	/* bytes of each request and reply */
#define SLOW_N		60	/* of each: more than socket buffers */

/*
 * A peer and a client that do not read for a while: what the sockets do
 * not take waits (write interest) and goes out, in order, once they read;
 * then the client is read again and served as before.
 */
START_TEST(test_link_slow_reader)
{
	struct linkenv	 le;
	struct fm_child	 ch;
	char		 port[16], hdr[32];
	char		*args[] = { "link", "-o", "max_line=200000", "-o",
			    "max_pending=64", "-o", "retry_min=5s", NULL };
	char		*big, *got;
	size_t		 n;
	int		 tlfd, peer, c, i;

	memset(&le, 0, sizeof(le));
	tlfd = tcp_listener(port, sizeof(port));
	linkenv_init(&le, port, 1, "link/beta");
	fm_spawn(&ch, "link", &le.ulfd, 1, (const char *const *)le.e, args, 0);
	peer = link_up_peer(&ch, tlfd);
	big = xmalloc(SLOW_LEN + 1);
	got = xmalloc(SLOW_LEN + 64);
	c = fm_unix_client(le.sock);

	/* Requests while the peer does not read: the link's socket fills. */
	for (i = 0; i < SLOW_N; i++) {
		memset(big, 'a' + i % 26, SLOW_LEN);
		big[SLOW_LEN] = '\n';
		write_full(c, big, SLOW_LEN + 1);
	}
	for (i = 0; i < SLOW_N; i++) {
		n = (size_t)snprintf(hdr, sizeof(hdr), "%d ", i + 1);
		read_full(peer, got, n + SLOW_LEN + 1);
		ck_assert_msg(memcmp(got, hdr, n) == 0, "request %d: bad id",
		    i + 1);
		memset(big, 'a' + i % 26, SLOW_LEN);
		ck_assert_msg(memcmp(got + n, big, SLOW_LEN) == 0 &&
		    got[n + SLOW_LEN] == '\n', "request %d garbled", i + 1);
	}

	/* Replies while the client does not read: its socket fills. */
	for (i = 0; i < SLOW_N; i++) {
		n = (size_t)snprintf(hdr, sizeof(hdr), "%d ", i + 1);
		write_full(peer, hdr, n);
		memset(big, 'A' + i % 26, SLOW_LEN);
		big[SLOW_LEN] = '\n';
		write_full(peer, big, SLOW_LEN + 1);
	}
	for (i = 0; i < SLOW_N; i++) {
		read_full(c, got, SLOW_LEN + 1);
		memset(big, 'A' + i % 26, SLOW_LEN);
		ck_assert_msg(memcmp(got, big, SLOW_LEN) == 0 &&
		    got[SLOW_LEN] == '\n', "reply %d garbled", i + 1);
	}

	/* All out: the client is read and answered again. */
	send_str(c, "again\n");
	(void)snprintf(hdr, sizeof(hdr), "%d again", SLOW_N + 1);
	ck_assert_str_eq(read_line(peer), hdr);
	(void)snprintf(hdr, sizeof(hdr), "%d done\n", SLOW_N + 1);
	send_str(peer, hdr);
	ck_assert_str_eq(read_line(c), "done");
	close(c);
	free(big);
	free(got);

	/* Nothing buffered either way: the link can be handed over. */
	ck_assert_int_eq(shutdown(ch.status, SHUT_WR), 0);
	ck_assert_str_eq(fm_next_packet(&ch, NULL), "HANDOFF");
	ck_assert_str_eq(fm_next_packet(&ch, NULL), "STATUS handed over");
	ck_assert_str_eq(fm_next_packet(&ch, NULL), "");
	fm_expect_exit(&ch, 0);
	close(peer);
	close(ch.status);
	close(tlfd);
	linkenv_free(&le);
}
END_TEST

START_TEST(test_link_bad_startup)
{
	struct linkenv	 le;
	struct fm_child	 ch;
	char		 port[] = "7070";
	int		 i;

	memset(&le, 0, sizeof(le));
	linkenv_init(&le, port, 1, "link/beta");
	/* No PEER_NAME: exit 1 before READY (the master throttles). */
	for (i = 0; le.e[i] != NULL; i++)
		if (strncmp(le.e[i], "PEER_NAME=", 10) == 0)
			le.e[i][0] = 'X';
	fm_spawn(&ch, "link", &le.ulfd, 1,
	    (const char *const *)le.e, link_args, 0);
	ck_assert_str_eq(fm_next_packet(&ch, NULL), "");
	fm_expect_exit(&ch, 1);
	fm_expect_log(le.logfd, "no peer name: PEER_NAME is not set");
	close(ch.status);
	linkenv_free(&le);
}
END_TEST

static Suite *
suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("link");

	tc = tcase_create("framing");
	tcase_add_test(tc, test_parse_msg);
	tcase_add_test(tc, test_format_hdr);
	tcase_add_test(tc, test_parse_hello);
	tcase_add_test(tc, test_parse_answer);
	tcase_add_test(tc, test_critical_and_names);
	tcase_add_test(tc, test_excerpt);
	tcase_add_test(tc, test_times);
	tcase_add_test(tc, test_backoff);
	suite_add_tcase(s, tc);

	tc = tcase_create("queue");
	tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_queue_order);
	tcase_add_test(tc, test_queue_reopen);
	tcase_add_test(tc, test_queue_tmp_cleanup);
	tcase_add_test(tc, test_queue_set_aside);
	tcase_add_test(tc, test_queue_not_regular);
	tcase_add_test(tc, test_queue_lock);
	tcase_add_test(tc, test_queue_no_replace);
	tcase_add_test(tc, test_queue_not_dir);
	tcase_add_test(tc, test_queue_unwritable);
	tcase_add_test(tc, test_queue_disk_full);
	tcase_add_test(tc, test_queue_large);
	suite_add_tcase(s, tc);

	tc = tcase_create("helper");
	tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_link_handoff);
	tcase_add_test(tc, test_link_flow);
	tcase_add_test(tc, test_link_down_and_queue);
	tcase_add_test(tc, test_link_stop);
	tcase_add_test(tc, test_link_eof_backlog);
	tcase_add_test(tc, test_link_drain_expires);
	tcase_add_test(tc, test_link_queue_in_use);
	tcase_add_test(tc, test_link_slow_reader);
	tcase_add_test(tc, test_link_bad_startup);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	return unit_run(suite());
}
