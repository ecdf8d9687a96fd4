/*
 * check_lconn.c: the shared pieces of the link code: the buffered line
 * connection (services/lconn.c) over real socket pairs and a real event
 * loop, and libutil's log escaping, durations and timevals.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <check.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../services/lconn.h"
#include "util.h"
#include "unit.h"

/* --- log_escape ------------------------------------------------------- */

static const char *
esc(const char *s, size_t len)
{
	static char	 out[LOG_ESCAPE_SIZE(64)];

	(void)log_escape(s, len, 64, out, sizeof(out));
	return out;
}

#define ESC(lit)	esc(lit, sizeof(lit) - 1)

START_TEST(test_escape_plain)
{
	ck_assert_str_eq(ESC("plain text"), "plain text");
	ck_assert_str_eq(ESC("a\"b\\c"), "a\\\"b\\\\c");
	ck_assert_str_eq(ESC("\r\n\t"), "\\r\\n\\t");
	ck_assert_str_eq(ESC("nul\0here"), "nul\\x00here");
	ck_assert_str_eq(ESC("\001\033[31m\177"), "\\x01\\x1b[31m\\x7f");
	ck_assert_str_eq(ESC(""), "");
}
END_TEST

START_TEST(test_escape_unicode)
{
	/* Ordinary UTF-8 stays as it is. */
	ck_assert_str_eq(ESC("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"),
	    "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	/* C1 controls: U+0080, U+0085 (NEL), U+009B (CSI), U+009F. */
	ck_assert_str_eq(ESC("\xc2\x80\xc2\x85\xc2\x9b\xc2\x9f"),
	    "\\u{0080}\\u{0085}\\u{009b}\\u{009f}");
	/* U+00A0 is past them. */
	ck_assert_str_eq(ESC("\xc2\xa0"), "\xc2\xa0");
	/* Bidi embeddings and overrides U+202A..U+202E. */
	ck_assert_str_eq(ESC("a\xe2\x80\xaa\xe2\x80\xae" "b"),
	    "a\\u{202a}\\u{202e}b");
	ck_assert_str_eq(ESC("\xe2\x80\xa9\xe2\x80\xaf"),
	    "\xe2\x80\xa9\xe2\x80\xaf");
	/* Isolates U+2066..U+2069, not U+2065 nor U+206A. */
	ck_assert_str_eq(ESC("\xe2\x81\xa6\xe2\x81\xa9"),
	    "\\u{2066}\\u{2069}");
	ck_assert_str_eq(ESC("\xe2\x81\xa5\xe2\x81\xaa"),
	    "\xe2\x81\xa5\xe2\x81\xaa");
	/* Not UTF-8: a lone byte, a cut sequence, overlong, surrogate. */
	ck_assert_str_eq(ESC("\377"), "\\xff");
	ck_assert_str_eq(ESC("\xe2\x80"), "\\xe2\\x80");
	ck_assert_str_eq(ESC("\xc0\x80"), "\\xc0\\x80");
	ck_assert_str_eq(ESC("\xe0\x80\xae"), "\\xe0\\x80\\xae");
	ck_assert_str_eq(ESC("\xed\xa0\x80"), "\\xed\\xa0\\x80");
	ck_assert_str_eq(ESC("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80");
}
END_TEST

START_TEST(test_escape_bounds)
{
	char	 out[LOG_ESCAPE_SIZE(64)], big[200];
	size_t	 n;

	memset(big, 'x', sizeof(big));
	n = log_escape(big, sizeof(big), 64, out, sizeof(out));
	ck_assert_uint_eq(n, 64 + 3);
	ck_assert_uint_eq(strlen(out), n);
	ck_assert_str_eq(out + 64, "...");
	log_escape(big, sizeof(big), 5, out, sizeof(out));
	ck_assert_str_eq(out, "xxxxx...");
	/* A small buffer is never overrun, and never cut mid-escape. */
	memset(out, 'Z', sizeof(out));
	log_escape(big, sizeof(big), 64, out, 10);
	ck_assert_uint_lt(strlen(out), 10);
	ck_assert_int_eq(out[10], 'Z');
	log_escape("\001\001\001", 3, 64, out, 10);
	ck_assert_str_eq(out, "\\x01...");
	/* Nothing written at all into no room. */
	out[0] = 'Z';
	ck_assert_uint_eq(log_escape("abc", 3, 64, out, 0), 0);
	ck_assert_int_eq(out[0], 'Z');
	/* Escapes at the limit fit the documented size. */
	memset(big, '\001', sizeof(big));
	n = log_escape(big, sizeof(big), 64, out, sizeof(out));
	ck_assert_uint_eq(n, 64 * 4 + 3);
	for (n = 0; n + 3 <= sizeof(big); n += 3)
		memcpy(big + n, "\xe2\x80\xae", 3);
	n = log_escape(big, sizeof(big), 64, out, sizeof(out));
	ck_assert_uint_lt(n, sizeof(out));
	ck_assert_str_eq(out + n - 3, "...");
}
END_TEST

START_TEST(test_durations)
{
	struct timeval	 tv;
	char		 buf[32];

	ck_assert_str_eq(fmt_duration(0, buf, sizeof(buf)), "0ms");
	ck_assert_str_eq(fmt_duration(200, buf, sizeof(buf)), "200ms");
	ck_assert_str_eq(fmt_duration(8000, buf, sizeof(buf)), "8s");
	ck_assert_str_eq(fmt_duration(1500, buf, sizeof(buf)), "1.5s");
	/* Above a second, to the nearest tenth, never "2.0s". */
	ck_assert_str_eq(fmt_duration(1234, buf, sizeof(buf)), "1.2s");
	ck_assert_str_eq(fmt_duration(1250, buf, sizeof(buf)), "1.3s");
	ck_assert_str_eq(fmt_duration(1949, buf, sizeof(buf)), "1.9s");
	ck_assert_str_eq(fmt_duration(1950, buf, sizeof(buf)), "2s");
	ck_assert_str_eq(fmt_duration(3999, buf, sizeof(buf)), "4s");
	ck_assert_str_eq(fmt_duration(999, buf, sizeof(buf)), "999ms");
	ck_assert_str_eq(fmt_duration(60000, buf, sizeof(buf)), "60s");
	ms_timeval(1234, &tv);
	ck_assert_int_eq(tv.tv_sec, 1);
	ck_assert_int_eq(tv.tv_usec, 234000);
	ms_timeval(-5, &tv);
	ck_assert_int_eq(tv.tv_sec, 0);
	ck_assert_int_eq(tv.tv_usec, 0);
	ck_assert_int_eq(backoff_ms(0, 1000, 60000, 0), 1000);
	ck_assert_int_eq(backoff_ms(3, 1000, 60000, 4000), 8000);
	ck_assert_int_eq(backoff_ms(1000, 1000, 60000, 30000), 60000);
	/* Without jitter (the master's throttle): doubling to the cap. */
	ck_assert_int_eq(backoff_base(0, 1000, 60000), 1000);
	ck_assert_int_eq(backoff_base(5, 1000, 60000), 32000);
	ck_assert_int_eq(backoff_base(6, 1000, 60000), 60000);
	ck_assert_int_eq(backoff_base(UINT_MAX, 1000, 60000), 60000);
	ck_assert_int_eq(backoff_base(2, 500, 300), 300);
}
END_TEST

/* --- lconn ------------------------------------------------------------ */

struct side {
	struct lconn	*c;
	int		 reads;
	int		 written;
	int		 errors;
	int		 eof;
	int		 big;		/* lines too long to keep */
	char		 got[8192];
	size_t		 ngot;
};

static struct event_base	*base;
static struct lconn_flusher	*fl;
static char			 order[64];

static void
t_readable(struct lconn *c, short what, void *arg)
{
	struct side	*s = arg;
	const char	*line;
	size_t		 len;
	ssize_t		 n;

	s->reads++;
	if ((n = lconn_read(c)) == 0)
		s->eof = 1;
	while ((line = lconn_line(c, &len)) != NULL) {
		if (s->ngot + len + 1 < sizeof(s->got)) {
			memcpy(s->got + s->ngot, line, len);
			s->ngot += len;
			s->got[s->ngot++] = '|';
		} else
			s->big++;
		lconn_consume(c, len + 1);
	}
}

static void
t_written(struct lconn *c, int error, void *arg)
{
	struct side	*s = arg;

	if (error)
		s->errors++;
	else
		s->written++;
	(void)strlcat(order, s == NULL ? "?" : "w", sizeof(order));
}

static void
pair(struct side *a, struct side *b, int aflags)
{
	int	 sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
	    sv), 0);
	memset(a, 0, sizeof(*a));
	memset(b, 0, sizeof(*b));
	a->c = lconn_new(fl, sv[0], aflags, t_readable, t_written, a);
	b->c = lconn_new(fl, sv[1], 0, t_readable, t_written, b);
}

static void
loop_setup(void)
{
	base = event_base_new();
	ck_assert_ptr_nonnull(base);
	fl = lconn_flusher_new(base, NULL, NULL);
	order[0] = '\0';
}

static void
loop_teardown(void)
{
	lconn_flusher_free(fl);
	event_base_free(base);
}

/* Run the loop until cond holds (a few seconds at most). */
#define RUN_UNTIL(cond) do {						\
	int	 _i;							\
	for (_i = 0; _i < 20000 && !(cond); _i++)			\
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);	\
	ck_assert_msg((cond), "not so: %s", #cond);			\
} while (0)

START_TEST(test_lconn_lines)
{
	struct side	 a, b;

	pair(&a, &b, 0);
	lconn_read_on(b.c, 1, NULL);
	lconn_add(a.c, "12 ", 3, "hello", 5);
	lconn_add(a.c, NULL, 0, "", 0);
	lconn_add(a.c, "x", 1, NULL, 0);
	/* Nothing is written before the loop's round ends. */
	ck_assert_uint_eq(lconn_outlen(a.c), 3 + 5 + 1 + 1 + 2);
	RUN_UNTIL(b.ngot == 12);
	ck_assert(memcmp(b.got, "12 hello||x|", 12) == 0);
	/* All written at once, in one round: written() was told so. */
	ck_assert_int_eq(a.written, 1);
	ck_assert_int_eq(a.c->writing, 0);
	lconn_free(a.c);
	RUN_UNTIL(b.eof);
	lconn_free(b.c);
}
END_TEST

START_TEST(test_lconn_pieces)
{
	struct side	 a, b;
	const char	*line;
	size_t		 len;
	int		 fd;

	pair(&a, &b, 0);
	fd = a.c->fd;
	/* A line in pieces: no line until its newline, scanned once. */
	ck_assert_int_eq(write(fd, "abc", 3), 3);
	ck_assert_int_gt(lconn_read(b.c), 0);
	ck_assert_ptr_null(lconn_line(b.c, &len));
	ck_assert_uint_eq(b.c->scan, 3);
	ck_assert_int_eq(write(fd, "def\ntail", 8), 8);
	ck_assert_int_gt(lconn_read(b.c), 0);
	line = lconn_line(b.c, &len);
	ck_assert_ptr_nonnull(line);
	ck_assert_uint_eq(len, 6);
	ck_assert(memcmp(line, "abcdef", 6) == 0);
	lconn_consume(b.c, len + 1);
	ck_assert_uint_eq(b.c->scan, 0);
	ck_assert_ptr_null(lconn_line(b.c, &len));
	ck_assert_uint_eq(lconn_inlen(b.c), 4);
	ck_assert(memcmp(lconn_pullup(b.c, 4), "tail", 4) == 0);
	/* Nothing more: EAGAIN, then end-of-file. */
	errno = 0;
	ck_assert_int_eq(lconn_read(b.c), -1);
	ck_assert_int_eq(errno, EAGAIN);
	lconn_free(a.c);
	ck_assert_int_eq(lconn_read(b.c), 0);
	lconn_free(b.c);
}
END_TEST

START_TEST(test_lconn_full_socket)
{
	struct side	 a, b;
	static char	 big[65536];
	int		 i;

	pair(&a, &b, 0);
	memset(big, 'y', sizeof(big));
	/* More than the socket takes: the rest waits for write interest. */
	for (i = 0; i < 16; i++) {
		lconn_add(a.c, big, sizeof(big) - 1, NULL, 0);
	}
	ck_assert_int_eq(lconn_flush(a.c), 1);
	ck_assert_int_eq(a.c->writing, 1);
	ck_assert_uint_gt(lconn_outlen(a.c), 0);
	/* The reader drains it; written() tells the end, once. */
	lconn_read_on(b.c, 1, NULL);
	RUN_UNTIL(b.big == 16);
	ck_assert_int_eq(a.written, 1);
	ck_assert_int_eq(a.errors, 0);
	ck_assert_int_eq(a.c->writing, 0);
	ck_assert_uint_eq(lconn_outlen(a.c), 0);
	lconn_free(a.c);
	lconn_free(b.c);
}
END_TEST

START_TEST(test_lconn_broken)
{
	struct side	 a, b;

	signal(SIGPIPE, SIG_IGN);
	pair(&a, &b, 0);
	lconn_free(b.c);
	lconn_add(a.c, "lost", 4, NULL, 0);
	RUN_UNTIL(a.errors == 1);
	ck_assert_int_eq(a.written, 0);
	lconn_free(a.c);
}
END_TEST

/* Write all of len bytes to a blocking-enough socket (it has room). */
static void
put(int fd, const void *buf, size_t len)
{
	const char	*p = buf;
	ssize_t		 n;

	while (len > 0) {
		n = write(fd, p, len);
		ck_assert_int_gt(n, 0);
		p += n;
		len -= (size_t)n;
	}
}

START_TEST(test_lconn_compaction)
{
	struct side	 a, b;
	static char	 big[16001];
	const char	*line, *data;
	size_t		 len;

	pair(&a, &b, 0);
	/* An emptied buffer starts again at its beginning. */
	put(a.c->fd, "one\ntwo\n", 8);
	ck_assert_int_eq(lconn_read(b.c), 8);
	ck_assert_uint_eq(b.c->in.size, 16384);
	data = b.c->in.data;
	line = lconn_line(b.c, &len);
	lconn_consume(b.c, len + 1);
	ck_assert_uint_eq(b.c->in.start, 4);
	line = lconn_line(b.c, &len);
	ck_assert(len == 3 && memcmp(line, "two", 3) == 0);
	lconn_consume(b.c, len + 1);
	ck_assert_uint_eq(b.c->in.start, 0);
	ck_assert_uint_eq(b.c->in.end, 0);
	/* A line, then the head of the next at the buffer's end. */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\n';
	put(a.c->fd, big, sizeof(big));
	put(a.c->fd, "abcd", 4);
	ck_assert_int_eq(lconn_read(b.c), (ssize_t)sizeof(big) + 4);
	line = lconn_line(b.c, &len);
	ck_assert_uint_eq(len, sizeof(big) - 1);
	lconn_consume(b.c, len + 1);
	ck_assert_ptr_null(lconn_line(b.c, &len));
	ck_assert_uint_eq(b.c->scan, 4);
	ck_assert_uint_eq(b.c->in.start, sizeof(big));
	/* Too little room behind it: the head slides down, no new memory. */
	put(a.c->fd, "efgh\nij", 7);
	ck_assert_int_eq(lconn_read(b.c), 7);
	ck_assert_ptr_eq(b.c->in.data, data);
	ck_assert_uint_eq(b.c->in.size, 16384);
	ck_assert_uint_eq(b.c->in.start, 0);
	line = lconn_line(b.c, &len);
	ck_assert_ptr_nonnull(line);
	ck_assert(len == 8 && memcmp(line, "abcdefgh", 8) == 0);
	lconn_consume(b.c, len + 1);
	ck_assert_uint_eq(lconn_inlen(b.c), 2);
	ck_assert(memcmp(lconn_pullup(b.c, 2), "ij", 2) == 0);
	/* No more than there is. */
	ck_assert_ptr_null(lconn_pullup(b.c, 3));
	lconn_free(a.c);
	lconn_free(b.c);
}
END_TEST

START_TEST(test_lconn_growth)
{
	struct side	 a, b;
	static char	 big[100000];
	const char	*line;
	size_t		 len, i, max = 20000;

	pair(&a, &b, 0);
	for (i = 0; i < sizeof(big); i++)
		big[i] = (char)('a' + i % 26);
	/*
	 * An owner that stops at its max_line (scan past it) keeps the
	 * buffer within max_line and one read.
	 */
	put(a.c->fd, big, sizeof(big));
	while (b.c->scan <= max) {
		ck_assert_int_gt(lconn_read(b.c), 0);
		ck_assert_ptr_null(lconn_line(b.c, &len));
		ck_assert_uint_eq(b.c->scan, lconn_inlen(b.c));
	}
	ck_assert_uint_le(lconn_inlen(b.c), max + LCONN_READ);
	ck_assert_uint_le(b.c->in.size, 2 * (max + LCONN_READ));
	/* Read on: the buffer doubles to hold the whole line, in one piece. */
	while (lconn_inlen(b.c) < sizeof(big))
		ck_assert_int_gt(lconn_read(b.c), 0);
	ck_assert_ptr_null(lconn_line(b.c, &len));
	put(a.c->fd, "\nnext", 5);
	ck_assert_int_eq(lconn_read(b.c), 5);
	line = lconn_line(b.c, &len);
	ck_assert_ptr_nonnull(line);
	ck_assert_uint_eq(len, sizeof(big));
	ck_assert(memcmp(line, big, sizeof(big)) == 0);
	ck_assert_uint_ge(b.c->in.size, sizeof(big) + 5);
	lconn_consume(b.c, len + 1);
	ck_assert(memcmp(lconn_pullup(b.c, 4), "next", 4) == 0);
	/* Emptied, the large buffer is given back. */
	lconn_consume(b.c, 4);
	ck_assert_ptr_null(b.c->in.data);
	ck_assert_uint_eq(b.c->in.size, 0);
	put(a.c->fd, "x\n", 2);
	ck_assert_int_eq(lconn_read(b.c), 2);
	ck_assert_uint_eq(b.c->in.size, 16384);
	lconn_free(a.c);
	lconn_free(b.c);
}
END_TEST

/* A closed connection's buffers of the first sizes serve the next one. */
START_TEST(test_lconn_spare)
{
	struct side	 a, b, c, d;
	struct lconn	*conn;
	struct event	*ev;
	char		*in, *out;

	pair(&a, &b, 0);
	put(a.c->fd, "x\n", 2);
	ck_assert_int_eq(lconn_read(b.c), 2);
	lconn_add(b.c, "y", 1, NULL, 0);
	in = b.c->in.data;
	out = b.c->out.data;
	ck_assert_ptr_nonnull(in);
	ck_assert_ptr_nonnull(out);
	conn = b.c;
	ev = b.c->rev;
	lconn_read_on(b.c, 1, NULL);
	lconn_free(b.c);
	lconn_free(a.c);
	pair(&c, &d, 0);
	/* Connections too, with their events, set for the new fd. */
	ck_assert(c.c == conn || d.c == conn);
	ck_assert(c.c->rev == ev || d.c->rev == ev);
	ck_assert_int_eq(event_pending(conn->rev, EV_READ, NULL), 0);
	ck_assert_int_eq(event_get_fd(conn->rev), conn->fd);
	ck_assert_int_eq(event_get_fd(conn->wev), conn->fd);
	put(c.c->fd, "z\n", 2);
	ck_assert_int_eq(lconn_read(d.c), 2);
	ck_assert_ptr_eq(d.c->in.data, in);
	ck_assert_uint_eq(d.c->in.size, 16384);
	lconn_add(d.c, "w", 1, NULL, 0);
	ck_assert_ptr_eq(d.c->out.data, out);
	/* The other side had none to take. */
	lconn_add(c.c, "v", 1, NULL, 0);
	ck_assert_ptr_ne(c.c->out.data, out);
	/* And they work: d reads what c writes, through its events. */
	lconn_read_on(d.c, 1, NULL);
	lconn_read_on(c.c, 1, NULL);
	RUN_UNTIL(c.ngot == 2 && d.ngot == 4);
	ck_assert(memcmp(c.got, "w|", 2) == 0);
	ck_assert(memcmp(d.got, "z|v|", 4) == 0);
	lconn_free(c.c);
	lconn_free(d.c);
}
END_TEST

/* Lines "<n>" in order from 0: mismatches counted. */
static int	 seq_next, seq_bad;

static void
t_seq(struct lconn *c, short what, void *arg)
{
	struct side	*s = arg;
	const char	*line;
	char		 want[32];
	size_t		 len;
	int		 n;

	if (lconn_read(c) == 0)
		s->eof = 1;
	while ((line = lconn_line(c, &len)) != NULL) {
		n = snprintf(want, sizeof(want), "%d", seq_next++);
		if ((size_t)n != len || memcmp(line, want, len) != 0)
			seq_bad++;
		lconn_consume(c, len + 1);
	}
}

START_TEST(test_lconn_partial_writes)
{
	struct side	 a, b;
	char		 num[32];
	int		 sv[2], i, n, sz = 4096, sent = 0;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
	    sv), 0);
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	a.c = lconn_new(fl, sv[0], 0, t_readable, t_written, &a);
	b.c = lconn_new(fl, sv[1], 0, t_seq, t_written, &b);
	/* Small socket buffers: a write takes part of the output. */
	ck_assert_int_eq(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz,
	    sizeof(sz)), 0);
	seq_next = seq_bad = 0;
	for (i = 0; i < 20000; i++, sent++) {
		n = snprintf(num, sizeof(num), "%d", sent);
		lconn_add(a.c, num, (size_t)n, NULL, 0);
	}
	ck_assert_int_eq(lconn_flush(a.c), 1);
	ck_assert_int_eq(a.c->writing, 1);
	/* Written in part: the rest is where it was, behind start. */
	ck_assert_uint_gt(a.c->out.start, 0);
	ck_assert_uint_lt(a.c->out.start, a.c->out.end);
	/* Lines added behind the rest leave after it, in order. */
	for (i = 0; i < 20000; i++, sent++) {
		n = snprintf(num, sizeof(num), "%d", sent);
		lconn_add(a.c, num, (size_t)n, NULL, 0);
	}
	ck_assert_int_eq(lconn_flush(a.c), 1);
	lconn_read_on(b.c, 1, NULL);
	RUN_UNTIL(seq_next == sent);
	ck_assert_int_eq(seq_bad, 0);
	ck_assert_int_eq(a.written, 1);
	ck_assert_int_eq(a.errors, 0);
	ck_assert_uint_eq(lconn_outlen(a.c), 0);
	ck_assert_uint_eq(a.c->out.start, 0);
	ck_assert_uint_eq(a.c->out.end, 0);
	/* Grown past 64 KiB for the burst: given back once empty. */
	ck_assert_ptr_null(a.c->out.data);
	ck_assert_uint_eq(a.c->out.size, 0);
	lconn_free(a.c);
	lconn_free(b.c);
}
END_TEST

static int	 before_left;

static int
t_before(void *arg)
{
	struct side	*s = arg;

	if (before_left == 0)
		return 0;
	before_left--;
	(void)strlcat(order, "b", sizeof(order));
	lconn_add(s->c, "late", 4, NULL, 0);
	return 1;
}

START_TEST(test_lconn_flusher_order)
{
	struct side	 a, b, c, d;
	int		 sv[2];

	/* a (FIRST) is written before c, though made dirty after it. */
	lconn_flusher_free(fl);
	fl = lconn_flusher_new(base, t_before, &c);
	pair(&c, &d, 0);
	pair(&a, &b, LCONN_FIRST);
	before_left = 1;
	lconn_add(c.c, "one", 3, NULL, 0);
	lconn_add(a.c, "two", 3, NULL, 0);
	lconn_read_on(b.c, 1, NULL);
	lconn_read_on(d.c, 1, NULL);
	RUN_UNTIL(b.ngot == 4 && d.ngot == 9);
	ck_assert(memcmp(d.got, "one|late|", 9) == 0);
	/* before() ran first; then a's and c's writes, once each. */
	ck_assert_str_eq(order, "bww");
	ck_assert_int_eq(a.written, 1);
	ck_assert_int_eq(c.written, 1);
	/* Stopped: no more events, output forgotten, fd still open. */
	lconn_add(a.c, "gone", 4, NULL, 0);
	sv[0] = a.c->fd;
	lconn_stop(a.c);
	ck_assert_uint_eq(lconn_outlen(a.c), 0);
	ck_assert_int_eq(a.c->dirty, 0);
	ck_assert_int_ne(fcntl(sv[0], F_GETFD), -1);
	lconn_free(a.c);
	lconn_free(b.c);
	lconn_free(c.c);
	lconn_free(d.c);
}
END_TEST

/*
 * What waits for the round's writes (lconn_read_soon, lconn_read_off_soon,
 * lconn_free_soon): not done before the flusher ran, done once it did,
 * and no callback in between.
 */
START_TEST(test_lconn_soon)
{
	struct side	 a, b, x, y;
	char		 c;
	int		 fd;

	pair(&a, &b, LCONN_FIRST);
	pair(&x, &y, 0);
	/* Interest wanted, registered by the flusher. */
	lconn_read_soon(x.c);
	ck_assert_int_eq(x.c->reading, 1);
	ck_assert_int_eq(event_pending(x.c->rev, EV_READ, NULL), 0);
	lconn_add(y.c, "hi", 2, NULL, 0);
	event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	ck_assert_int_ne(event_pending(x.c->rev, EV_READ, NULL), 0);
	RUN_UNTIL(x.ngot == 3);
	ck_assert(memcmp(x.got, "hi|", 3) == 0);
	/* Off, from now on: no callback though readable; removed after. */
	lconn_add(y.c, "more", 4, NULL, 0);
	RUN_UNTIL(lconn_outlen(y.c) == 0);
	x.reads = 0;
	lconn_read_off_soon(x.c);
	ck_assert_int_eq(x.c->reading, 0);
	ck_assert_int_ne(event_pending(x.c->rev, EV_READ, NULL), 0);
	event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	ck_assert_int_eq(event_pending(x.c->rev, EV_READ, NULL), 0);
	ck_assert_int_eq(x.reads, 0);
	/* On again before the flusher: nothing to remove. */
	lconn_read_on(x.c, 1, NULL);
	lconn_read_off_soon(x.c);
	lconn_read_on(x.c, 1, NULL);
	ck_assert_int_eq(x.c->roff, 0);
	RUN_UNTIL(x.ngot == 8);
	/*
	 * Freed soon, with a's output in the same round: x is not read
	 * again, its fd stays open until the flusher, then y sees its end.
	 */
	lconn_add(y.c, "late", 4, NULL, 0);
	RUN_UNTIL(lconn_outlen(y.c) == 0);
	x.reads = 0;
	fd = x.c->fd;
	lconn_add(a.c, "first", 5, NULL, 0);
	lconn_free_soon(x.c);
	ck_assert_int_ne(fcntl(fd, F_GETFD), -1);
	lconn_read_on(b.c, 1, NULL);
	RUN_UNTIL(b.ngot == 6);
	ck_assert_int_eq(x.reads, 0);
	ck_assert_int_eq(a.written, 1);
	/* Closed with "late" unread: a reset, on a unix socket. */
	errno = 0;
	ck_assert_int_eq(read(y.c->fd, &c, 1), -1);
	ck_assert_int_eq(errno, ECONNRESET);
	lconn_free(a.c);
	lconn_free(b.c);
	lconn_free(y.c);
}
END_TEST

/*
 * Reads that say so in order ("r") and put a line on late_to: the name
 * of the connection read ("x" for after_c, "v" for another).
 */
static struct lconn	*late_to, *after_c;

static void
t_readable_say(struct lconn *c, short what, void *arg)
{
	t_readable(c, what, arg);
	(void)strlcat(order, "r", sizeof(order));
	lconn_add(late_to, c == after_c ? "x" : "v", 1, NULL, 0);
}

/*
 * lconn_read_after: one read by the flusher once the round's writes are
 * out (x's, though its read interest is off, asked twice: once, after
 * a's "first"), and what it writes leaves in the same round, before the
 * round's events (v's read).  No more reads of x after that: its read
 * interest is still off.
 */
START_TEST(test_lconn_read_after)
{
	struct side	 a, b, x, y, v, w;

	pair(&a, &b, LCONN_FIRST);
	pair(&x, &y, 0);
	pair(&v, &w, 0);
	late_to = a.c;
	after_c = x.c;
	x.c->readable = v.c->readable = t_readable_say;
	lconn_read_on(v.c, 1, NULL);
	lconn_read_on(b.c, 1, NULL);
	ck_assert_int_eq(write(y.c->fd, "one\n", 4), 4);
	ck_assert_int_eq(write(w.c->fd, "two\n", 4), 4);
	lconn_add(a.c, "first", 5, NULL, 0);
	lconn_read_after(x.c);
	lconn_read_after(x.c);
	ck_assert_int_eq(x.reads, 0);
	event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	ck_assert_str_eq(order, "wrwrw");
	ck_assert_int_eq(x.reads, 1);
	ck_assert(memcmp(x.got, "one|", 4) == 0);
	RUN_UNTIL(b.ngot == 10);
	ck_assert(memcmp(b.got, "first|x|v|", 10) == 0);
	ck_assert_int_eq(a.written, 3);
	/* Not watched: more for x is not read. */
	ck_assert_int_eq(write(y.c->fd, "two\n", 4), 4);
	ck_assert_int_eq(write(w.c->fd, "three\n", 6), 6);
	RUN_UNTIL(v.reads == 2);
	ck_assert_int_eq(x.reads, 1);
	lconn_free(a.c);
	lconn_free(b.c);
	lconn_free(x.c);
	lconn_free(y.c);
	lconn_free(v.c);
	lconn_free(w.c);
}
END_TEST

/* A flusher's before(): frees *arg soon, once. */
static int
t_free_soon(void *arg)
{
	struct lconn	**cp = arg;

	if (*cp == NULL)
		return 0;
	lconn_free_soon(*cp);
	*cp = NULL;
	return 1;
}

/* A read after the writes whose connection is freed before it. */
START_TEST(test_lconn_read_after_freed)
{
	struct side	 x, y;
	struct lconn	*doomed = NULL;

	lconn_flusher_free(fl);
	fl = lconn_flusher_new(base, t_free_soon, &doomed);
	pair(&x, &y, 0);
	ck_assert_int_eq(write(y.c->fd, "gone\n", 5), 5);
	lconn_read_after(x.c);
	doomed = x.c;
	event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	ck_assert_ptr_null(doomed);
	ck_assert_int_eq(x.reads, 0);
	/* Closed by the flusher, its line unread: y sees the end. */
	lconn_read_on(y.c, 1, NULL);
	RUN_UNTIL(y.eof || y.reads > 0);
	lconn_free(y.c);
}
END_TEST

START_TEST(test_lconn_read_timeout)
{
	struct side	 a, b;
	struct timeval	 tv;
	int		 fired = 0;

	pair(&a, &b, 0);
	/* Interest with a timeout: set again at every call. */
	lconn_read_on(b.c, 1, ms_timeval(20, &tv));
	ck_assert_int_eq(b.c->reading, 1);
	lconn_read_on(b.c, 1, ms_timeval(20, &tv));
	fired = event_pending(b.c->rev, EV_TIMEOUT, NULL) != 0;
	ck_assert_int_eq(fired, 1);
	lconn_read_on(b.c, 0, NULL);
	ck_assert_int_eq(event_pending(b.c->rev, EV_READ | EV_TIMEOUT, NULL),
	    0);
	lconn_free(a.c);
	lconn_free(b.c);
}
END_TEST

static Suite *
suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("lconn");

	tc = tcase_create("escape");
	tcase_add_test(tc, test_escape_plain);
	tcase_add_test(tc, test_escape_unicode);
	tcase_add_test(tc, test_escape_bounds);
	tcase_add_test(tc, test_durations);
	suite_add_tcase(s, tc);

	tc = tcase_create("lconn");
	tcase_add_checked_fixture(tc, loop_setup, loop_teardown);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_lconn_lines);
	tcase_add_test(tc, test_lconn_pieces);
	tcase_add_test(tc, test_lconn_full_socket);
	tcase_add_test(tc, test_lconn_broken);
	tcase_add_test(tc, test_lconn_flusher_order);
	tcase_add_test(tc, test_lconn_read_timeout);
	tcase_add_test(tc, test_lconn_soon);
	tcase_add_test(tc, test_lconn_read_after);
	tcase_add_test(tc, test_lconn_read_after_freed);
	tcase_add_test(tc, test_lconn_compaction);
	tcase_add_test(tc, test_lconn_growth);
	tcase_add_test(tc, test_lconn_partial_writes);
	tcase_add_test(tc, test_lconn_spare);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	return unit_run(suite());
}
