/*
 * check_proto.c: unit tests of the status protocol, the socket and fd
 * passing helpers, and the service library as the echo helper uses it.
 *
 * The service tests play the master by hand: they put a listen socket (or
 * fifo) at fd 3 and a SOCK_SEQPACKET status channel at fd 4, set the
 * MASTER_* and LISTEN_* environment, exec the built services/echo (found
 * through $top_builddir, default ".") and check what it says and how it
 * exits.  Every wait has a deadline; nothing sleeps to synchronise.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <netinet/in.h>

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fakemaster.h"
#include "fdpass.h"
#include "log.h"
#include "proto.h"
#include "service.h"
#include "sock.h"
#include "util.h"
#include "unit.h"


/* --- fixtures --------------------------------------------------------- */

static void
tmp_setup(void)
{
	fm_tmp_setup("check_proto");
}

static void
tmp_teardown(void)
{
	fm_tmp_teardown();
}

/* A log line from echo, under its ident. */
static void
expect_log(int logfd, const char *want)
{
	const char	*line = fm_expect_log(logfd, want);

	ck_assert_msg(strstr(line, "linkmaster/echo[") != NULL, "ident: %s",
	    line);
}

/* --- proto -------------------------------------------------------------- */

static enum proto_kind
parse_str(const char *s, const char **text, size_t *tlen)
{
	return proto_parse(s, strlen(s), text, tlen);
}

START_TEST(test_parse_kinds)
{
	const char	*text;
	size_t		 tlen;

	ck_assert_int_eq(parse_str("READY", &text, &tlen), PROTO_READY);
	ck_assert_ptr_null(text);
	ck_assert_int_eq(parse_str("TAKEN", &text, &tlen), PROTO_TAKEN);
	ck_assert_int_eq(parse_str("AVAIL", &text, &tlen), PROTO_AVAIL);
	ck_assert_int_eq(parse_str("READY\n", &text, &tlen), PROTO_READY);
	ck_assert_int_eq(parse_str("AVAIL\n", NULL, NULL), PROTO_AVAIL);
	ck_assert_int_eq(parse_str("HANDOFF", &text, &tlen), PROTO_HANDOFF);
	ck_assert_ptr_null(text);

	/* AVAIL counts the clients of a run; alone it is one. */
	ck_assert_int_eq(parse_str("AVAIL", &text, &tlen), PROTO_AVAIL);
	ck_assert_int_eq(proto_count(text, tlen), 1);
	ck_assert_int_eq(parse_str("AVAIL 17", &text, &tlen), PROTO_AVAIL);
	ck_assert_int_eq(proto_count(text, tlen), 17);
	ck_assert_int_eq(parse_str("AVAIL 1000000000\n", &text, &tlen),
	    PROTO_AVAIL);
	ck_assert_int_eq(proto_count(text, tlen), PROTO_COUNT_MAX);

	ck_assert_int_eq(parse_str("STATUS 3 links up", &text, &tlen),
	    PROTO_STATUS);
	ck_assert_uint_eq(tlen, 10);
	ck_assert(memcmp(text, "3 links up", 10) == 0);

	ck_assert_int_eq(parse_str("STATUS busy\n", &text, &tlen),
	    PROTO_STATUS);
	ck_assert_uint_eq(tlen, 4);
	ck_assert(memcmp(text, "busy", 4) == 0);

	/* "STATUS" alone, with or without newline or space: empty text. */
	ck_assert_int_eq(parse_str("STATUS", &text, &tlen), PROTO_STATUS);
	ck_assert_ptr_nonnull(text);
	ck_assert_uint_eq(tlen, 0);
	ck_assert_int_eq(parse_str("STATUS\n", &text, &tlen), PROTO_STATUS);
	ck_assert_uint_eq(tlen, 0);
	ck_assert_int_eq(parse_str("STATUS ", &text, &tlen), PROTO_STATUS);
	ck_assert_uint_eq(tlen, 0);
}
END_TEST

START_TEST(test_parse_junk)
{
	char		 big[PROTO_MAX + 2];
	const char	*text;
	size_t		 tlen;

	ck_assert_int_eq(proto_parse("", 0, &text, &tlen), PROTO_BAD);
	ck_assert_int_eq(proto_parse(NULL, 0, &text, &tlen), PROTO_BAD);
	ck_assert_int_eq(parse_str("\n", &text, &tlen), PROTO_BAD);
	ck_assert_int_eq(parse_str("ready", &text, &tlen), PROTO_BAD);
	ck_assert_int_eq(parse_str("Ready", &text, &tlen), PROTO_BAD);
	ck_assert_int_eq(parse_str("READYX", &text, &tlen), PROTO_BAD);
	ck_assert_int_eq(parse_str("READY ", &text, &tlen), PROTO_BAD);
	ck_assert_int_eq(parse_str("READY now", &text, &tlen), PROTO_BAD);
	ck_assert_int_eq(parse_str(" READY", &text, &tlen), PROTO_BAD);
	ck_assert_int_eq(parse_str("READY\n\n", &text, &tlen), PROTO_BAD);
	ck_assert_int_eq(parse_str("READY\r\n", &text, &tlen), PROTO_BAD);
	ck_assert_int_eq(parse_str("TAKE", &text, &tlen), PROTO_BAD);
	ck_assert_int_eq(parse_str("HANDOFF x", &text, &tlen), PROTO_BAD);
	ck_assert_int_eq(parse_str("STATUSX", &text, &tlen), PROTO_BAD);
	ck_assert_int_eq(parse_str("STATUS\tx", &text, &tlen), PROTO_BAD);
	ck_assert_int_eq(parse_str("status x", &text, &tlen), PROTO_BAD);
	/* An AVAIL count is a plain positive number, nothing else. */
	ck_assert_int_eq(parse_str("AVAIL 0", &text, &tlen), PROTO_BAD);
	ck_assert_int_eq(parse_str("AVAIL 07", &text, &tlen), PROTO_BAD);
	ck_assert_int_eq(parse_str("AVAIL -1", &text, &tlen), PROTO_BAD);
	ck_assert_int_eq(parse_str("AVAIL +1", &text, &tlen), PROTO_BAD);
	ck_assert_int_eq(parse_str("AVAIL 2x", &text, &tlen), PROTO_BAD);
	ck_assert_int_eq(parse_str("AVAIL  2", &text, &tlen), PROTO_BAD);
	ck_assert_int_eq(parse_str("AVAIL ", &text, &tlen), PROTO_BAD);
	ck_assert_int_eq(parse_str("AVAIL2", &text, &tlen), PROTO_BAD);
	ck_assert_int_eq(parse_str("AVAIL 1000000001", &text, &tlen),
	    PROTO_BAD);
	ck_assert_int_eq(parse_str("AVAIL 99999999999", &text, &tlen),
	    PROTO_BAD);
	ck_assert_int_eq(parse_str("TAKEN 2", &text, &tlen), PROTO_BAD);
	ck_assert_int_eq(proto_parse("READY\0", 6, &text, &tlen), PROTO_BAD);
	ck_assert_ptr_null(text);

	/* Exactly PROTO_MAX is fine, one more byte is not. */
	memset(big, 'x', sizeof(big));
	memcpy(big, "STATUS ", 7);
	ck_assert_int_eq(proto_parse(big, PROTO_MAX, &text, &tlen),
	    PROTO_STATUS);
	ck_assert_uint_eq(tlen, PROTO_MAX - 7);
	ck_assert_int_eq(proto_parse(big, PROTO_MAX + 1, &text, &tlen),
	    PROTO_BAD);
}
END_TEST

START_TEST(test_proto_name)
{
	ck_assert_str_eq(proto_name(PROTO_READY), "READY");
	ck_assert_str_eq(proto_name(PROTO_TAKEN), "TAKEN");
	ck_assert_str_eq(proto_name(PROTO_AVAIL), "AVAIL");
	ck_assert_str_eq(proto_name(PROTO_STATUS), "STATUS");
	ck_assert_str_eq(proto_name(PROTO_HANDOFF), "HANDOFF");
	ck_assert_str_eq(proto_name(PROTO_BAD), "BAD");
}
END_TEST

/* Receive one packet and parse it. */
static enum proto_kind
recv_kind(int fd, char *buf, size_t len, const char **text, size_t *tlen)
{
	ssize_t	 n;

	n = recv(fd, buf, len, MSG_DONTWAIT);
	ck_assert_int_gt(n, 0);
	return proto_parse(buf, (size_t)n, text, tlen);
}

START_TEST(test_proto_roundtrip)
{
	char		 buf[PROTO_MAX * 2], longtext[1000];
	const char	*text;
	size_t		 tlen;
	int		 sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC,
	    0, sv), 0);
	ck_assert_int_eq(proto_send(sv[0], PROTO_READY, NULL), 0);
	ck_assert_int_eq(proto_send(sv[0], PROTO_TAKEN, "ignored"), 0);
	ck_assert_int_eq(proto_send(sv[0], PROTO_AVAIL, NULL), 0);
	ck_assert_int_eq(proto_send(sv[0], PROTO_AVAIL, "3"), 0);
	ck_assert_int_eq(proto_send(sv[0], PROTO_STATUS, "12 clients"), 0);
	ck_assert_int_eq(proto_send(sv[0], PROTO_STATUS, NULL), 0);
	memset(longtext, 'y', sizeof(longtext) - 1);
	longtext[sizeof(longtext) - 1] = '\0';
	ck_assert_int_eq(proto_send(sv[0], PROTO_STATUS, longtext), 0);
	errno = 0;
	ck_assert_int_eq(proto_send(sv[0], PROTO_BAD, NULL), -1);
	ck_assert_int_eq(errno, EINVAL);
	/* HANDOFF carries an fd: fdpass_send's job, not proto_send's. */
	ck_assert_int_eq(proto_send(sv[0], PROTO_HANDOFF, NULL), -1);

	ck_assert_int_eq(recv_kind(sv[1], buf, sizeof(buf), &text, &tlen),
	    PROTO_READY);
	ck_assert_int_eq(recv_kind(sv[1], buf, sizeof(buf), &text, &tlen),
	    PROTO_TAKEN);
	ck_assert_int_eq(recv_kind(sv[1], buf, sizeof(buf), &text, &tlen),
	    PROTO_AVAIL);
	ck_assert_int_eq(proto_count(text, tlen), 1);
	ck_assert_int_eq(recv_kind(sv[1], buf, sizeof(buf), &text, &tlen),
	    PROTO_AVAIL);
	ck_assert_int_eq(proto_count(text, tlen), 3);
	ck_assert_int_eq(recv_kind(sv[1], buf, sizeof(buf), &text, &tlen),
	    PROTO_STATUS);
	ck_assert_uint_eq(tlen, 10);
	ck_assert(memcmp(text, "12 clients", 10) == 0);
	ck_assert_int_eq(recv_kind(sv[1], buf, sizeof(buf), &text, &tlen),
	    PROTO_STATUS);
	ck_assert_uint_eq(tlen, 0);
	/* Long text is cut to the documented 500 bytes. */
	ck_assert_int_eq(recv_kind(sv[1], buf, sizeof(buf), &text, &tlen),
	    PROTO_STATUS);
	ck_assert_uint_eq(tlen, 500);
	ck_assert_int_eq(text[0], 'y');

	/* A dead master is EPIPE, not SIGPIPE. */
	close(sv[1]);
	errno = 0;
	ck_assert_int_eq(proto_send(sv[0], PROTO_AVAIL, NULL), -1);
	ck_assert_int_eq(errno, EPIPE);
	close(sv[0]);
}
END_TEST

START_TEST(test_proto_utf8_cut)
{
	char		 buf[PROTO_MAX * 2], text[600];
	const char	*t;
	size_t		 tlen;
	int		 sv[2];

	/* 499 ASCII bytes then a 2-byte character straddling byte 500. */
	memset(text, 'a', 499);
	memcpy(text + 499, "\xc3\xa9tail", 7);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC,
	    0, sv), 0);
	ck_assert_int_eq(proto_send(sv[0], PROTO_STATUS, text), 0);
	ck_assert_int_eq(recv_kind(sv[1], buf, sizeof(buf), &t, &tlen),
	    PROTO_STATUS);
	ck_assert_uint_eq(tlen, 499);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

/* --- sock --------------------------------------------------------------- */

static void
split_ok(const char *spec, const char *host, const char *port)
{
	char	*h, *p;

	ck_assert_msg(sock_inet_split(spec, &h, &p) == 0, "spec %s", spec);
	if (host == NULL)
		ck_assert_ptr_null(h);
	else
		ck_assert_str_eq(h, host);
	ck_assert_str_eq(p, port);
	free(h);
	free(p);
}

static void
split_bad(const char *spec)
{
	char	*h, *p;

	ck_assert_msg(sock_inet_split(spec, &h, &p) == -1, "spec %s", spec);
	ck_assert_ptr_null(h);
	ck_assert_ptr_null(p);
}

START_TEST(test_inet_split)
{
	split_ok("7000", NULL, "7000");
	split_ok("127.0.0.1:7000", "127.0.0.1", "7000");
	split_ok("[::1]:7000", "::1", "7000");
	split_ok("[fe80::1]:smtp", "fe80::1", "smtp");
	split_ok("localhost:smtp", "localhost", "smtp");
	split_ok("65535", NULL, "65535");
	split_ok("[fe80::1%eth0]:7000", "fe80::1%eth0", "7000");

	split_bad("");
	split_bad("host:");
	split_bad(":80");
	split_bad("[::1");
	split_bad("[::1]");
	split_bad("[::1]7000");
	split_bad("[]:7000");
	split_bad("a:b:c");
	split_bad("::1:7000");
	split_bad("65536");
	split_bad("-1");
	split_bad("host:70 00");
	split_bad("my host:7000");
	/* master.cf's grammar (names.c): no port 0, no upper-case names. */
	split_bad("0");
	split_bad("127.0.0.1:0");
	split_bad("[::1]:0");
	split_bad("host:SMTP");
	split_bad("host:9p");
	split_bad("[1.2.3.4]:25");
	split_bad("[fe80::1%]:25");
}
END_TEST

static int
is_cloexec(int fd)
{
	return (fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0;
}

static int
is_nonblock(int fd)
{
	return (fcntl(fd, F_GETFL) & O_NONBLOCK) != 0;
}

/* Bind a unix socket at path and close it without unlinking: stale. */
static void
make_stale_socket(const char *path)
{
	struct sockaddr_un	 sun;
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strlcpy(sun.sun_path, path, sizeof(sun.sun_path));
	ck_assert_int_ne(fd = socket(AF_UNIX, SOCK_STREAM, 0), -1);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	close(fd);
}

START_TEST(test_unix_listen)
{
	struct stat	 st;
	char		 err[256], *path, *file, longp[200];
	int		 fd, c;

	path = fm_tmp_path("sock");
	make_stale_socket(path);
	/* The stale file refuses connections... */
	c = sock_unix_connect(path, SOCK_STREAM, err, sizeof(err));
	ck_assert_int_eq(c, -1);
	ck_assert_msg(strstr(err, "Connection refused") != NULL, "%s", err);

	/* ...and is replaced. */
	fd = sock_unix_listen(path, SOCK_STREAM, 0660, err, sizeof(err));
	ck_assert_msg(fd != -1, "%s", err);
	ck_assert(is_cloexec(fd));
	ck_assert(is_nonblock(fd));
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	ck_assert_int_eq(st.st_mode & 07777, 0660);
	c = sock_unix_connect(path, SOCK_STREAM, err, sizeof(err));
	ck_assert_msg(c != -1, "%s", err);
	ck_assert(is_cloexec(c));
	close(c);
	close(fd);

	/* A file that is not a socket is not ours to delete. */
	file = fm_tmp_path("plain");
	ck_assert_int_ne(fd = open(file, O_CREAT | O_WRONLY | O_CLOEXEC, 0600),
	    -1);
	close(fd);
	ck_assert_int_eq(sock_unix_listen(file, SOCK_STREAM, 0666, err,
	    sizeof(err)), -1);
	ck_assert_msg(strstr(err, "not a socket") != NULL, "%s", err);
	ck_assert_int_eq(access(file, F_OK), 0);

	/* Too long for sun_path: a clear error, no truncated bind. */
	memset(longp, 'x', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = '\0';
	memcpy(longp, fm_tmp_dir(), strlen(fm_tmp_dir()));
	longp[strlen(fm_tmp_dir())] = '/';
	ck_assert_int_eq(sock_unix_listen(longp, SOCK_STREAM, 0666, err,
	    sizeof(err)), -1);
	ck_assert_msg(strncmp(err, "bind ", 5) == 0 &&
	    strstr(err, "too long") != NULL, "%s", err);
	ck_assert_int_eq(sock_unix_connect(longp, SOCK_STREAM, err,
	    sizeof(err)), -1);
	ck_assert_msg(strstr(err, "too long") != NULL, "%s", err);

	/* Datagram sockets work too, without listen(). */
	fd = sock_unix_listen(path, SOCK_DGRAM, 0600, err, sizeof(err));
	ck_assert_msg(fd != -1, "%s", err);
	close(fd);
	free(path);
	free(file);
}
END_TEST

START_TEST(test_fifo_listen)
{
	struct stat	 st;
	char		 err[256], *path, *file, c;
	int		 fd, fd2, w;

	path = fm_tmp_path("fifo");
	fd = sock_fifo_listen(path, 0622, err, sizeof(err));
	ck_assert_msg(fd != -1, "%s", err);
	ck_assert(is_cloexec(fd));
	ck_assert(is_nonblock(fd));
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert(S_ISFIFO(st.st_mode));
	ck_assert_int_eq(st.st_mode & 07777, 0622);

	/* Reused the second time. */
	fd2 = sock_fifo_listen(path, 0622, err, sizeof(err));
	ck_assert_msg(fd2 != -1, "%s", err);
	close(fd2);

	/* A writer that comes and goes never makes us see end-of-file. */
	ck_assert_int_ne(w = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC),
	    -1);
	ck_assert_int_eq(write(w, "W", 1), 1);
	close(w);
	ck_assert_int_eq(read(fd, &c, 1), 1);
	ck_assert_int_eq(c, 'W');
	ck_assert_int_eq(read(fd, &c, 1), -1);
	ck_assert_int_eq(errno, EAGAIN);
	close(fd);

	file = fm_tmp_path("plain2");
	ck_assert_int_ne(fd = open(file, O_CREAT | O_WRONLY | O_CLOEXEC, 0600),
	    -1);
	close(fd);
	ck_assert_int_eq(sock_fifo_listen(file, 0622, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "not a fifo") != NULL, "%s", err);
	free(path);
	free(file);
}
END_TEST

static int
bound_port(int fd)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(ss);

	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

/*
 * Hold a free port (bound, not listening, SO_REUSEADDR): the listeners
 * below may bind it too, and no other test can take it meanwhile.
 */
static int
port_reserve(int *port)
{
	struct sockaddr_in	 sin;
	int			 fd, on = 1;

	ck_assert_int_ne(fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0),
	    -1);
	ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on,
	    sizeof(on)), 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	*port = bound_port(fd);
	return fd;
}

START_TEST(test_inet_listen)
{
	struct sockaddr_in	 sin;
	socklen_t		 len;
	char			 err[256], spec[64], want[128], port[16];
	int			 fds[4], n, n2, c, p, hold;

	/* Port 0 ("any") is not in the grammar: master.cf refuses it too. */
	ck_assert_int_eq(sock_inet_listen("127.0.0.1:0", NULL, fds, 4, err,
	    sizeof(err)), -1);
	ck_assert_msg(strstr(err, "\"127.0.0.1:0\"") != NULL, "%s", err);

	hold = port_reserve(&p);
	(void)snprintf(spec, sizeof(spec), "127.0.0.1:%d", p);
	n = sock_inet_listen(spec, NULL, fds, 4, err, sizeof(err));
	ck_assert_msg(n == 1, "%s", err);
	ck_assert(is_cloexec(fds[0]));
	ck_assert(is_nonblock(fds[0]));
	ck_assert_int_eq(bound_port(fds[0]), p);

	/* The same port again: the error names the operation and address. */
	ck_assert_int_eq(sock_inet_listen(spec, NULL, fds + 1, 3, err,
	    sizeof(err)), -1);
	(void)snprintf(want, sizeof(want),
	    "bind 127.0.0.1:%d: Address already in use", p);
	ck_assert_str_eq(err, want);

	/* A connect works (it may still be in progress). */
	(void)snprintf(port, sizeof(port), "%d", p);
	c = sock_inet_connect("127.0.0.1", port, err, sizeof(err));
	ck_assert_msg(c != -1, "%s", err);
	ck_assert(is_cloexec(c));
	close(c);
	close(fds[0]);

	/* No host + loopback-only: 127.0.0.1. */
	n = sock_inet_listen(port, "loopback-only", fds, 4, err, sizeof(err));
	ck_assert_msg(n == 1, "%s", err);
	len = sizeof(sin);
	ck_assert_int_eq(getsockname(fds[0], (struct sockaddr *)&sin, &len),
	    0);
	ck_assert_int_eq(sin.sin_family, AF_INET);
	ck_assert_uint_eq(ntohl(sin.sin_addr.s_addr), INADDR_LOOPBACK);
	close(fds[0]);

	/* "all": every family the kernel has, one socket each. */
	n = sock_inet_listen(port, "all", fds, 4, err, sizeof(err));
	ck_assert_msg(n >= 1 && n <= 2, "%s", err);
	while (n > 0)
		close(fds[--n]);

	/* IPv6 loopback, when this machine has it (and the port is free). */
	(void)snprintf(spec, sizeof(spec), "[::1]:%d", p);
	n2 = sock_inet_listen(spec, NULL, fds, 4, err, sizeof(err));
	if (n2 == 1)
		close(fds[0]);
	else
		ck_assert_msg(strstr(err, spec) != NULL, "%s", err);
	close(hold);

	ck_assert_int_eq(sock_inet_listen("a:b:c", NULL, fds, 4, err,
	    sizeof(err)), -1);
	ck_assert_msg(strstr(err, "a:b:c") != NULL, "%s", err);
}
END_TEST

/* --- fdpass ------------------------------------------------------------- */

START_TEST(test_fdpass)
{
	char	 buf[16];
	int	 sv[2], pfd[2], fd;
	ssize_t	 n;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    sv), 0);
	ck_assert_int_eq(pipe2(pfd, O_CLOEXEC), 0);

	/* The pipe's read end travels; the copy we receive works. */
	ck_assert_int_eq(fdpass_send(sv[0], pfd[0], "conn", 4), 4);
	close(pfd[0]);
	n = fdpass_recv(sv[1], &fd, buf, sizeof(buf));
	ck_assert_int_eq(n, 4);
	ck_assert(memcmp(buf, "conn", 4) == 0);
	ck_assert_int_ne(fd, -1);
	ck_assert(is_cloexec(fd));
	ck_assert_int_eq(write(pfd[1], "z", 1), 1);
	ck_assert_int_eq(read(fd, buf, 1), 1);
	ck_assert_int_eq(buf[0], 'z');
	close(fd);

	/* A message without an fd. */
	ck_assert_int_eq(fdpass_send(sv[0], -1, "x", 1), 1);
	ck_assert_int_eq(fdpass_recv(sv[1], &fd, buf, sizeof(buf)), 1);
	ck_assert_int_eq(fd, -1);

	/* An empty payload could not be told from end-of-file. */
	errno = 0;
	ck_assert_int_eq(fdpass_send(sv[0], pfd[1], "", 0), -1);
	ck_assert_int_eq(errno, EINVAL);

	/* End-of-file: 0, no fd. */
	close(sv[0]);
	ck_assert_int_eq(fdpass_recv(sv[1], &fd, buf, sizeof(buf)), 0);
	ck_assert_int_eq(fd, -1);
	close(sv[1]);
	close(pfd[1]);
}
END_TEST

START_TEST(test_fdpass_extra)
{
	struct msghdr	 msg;
	struct iovec	 iov;
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(2 * sizeof(int))];
	} cm;
	struct cmsghdr	*cmsg;
	char		 buf[4];
	int		 sv[2], p1[2], p2[2], fds[2], fd;

	/* A peer attaching two fds: we keep the first, close the second. */
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    sv), 0);
	ck_assert_int_eq(pipe2(p1, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(p2, O_CLOEXEC), 0);
	memset(&msg, 0, sizeof(msg));
	memset(&cm, 0, sizeof(cm));
	iov.iov_base = "m";
	iov.iov_len = 1;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cm.buf;
	msg.msg_controllen = sizeof(cm.buf);
	cmsg = CMSG_FIRSTHDR(&msg);
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(2 * sizeof(int));
	fds[0] = p1[0];
	fds[1] = p2[0];
	memcpy(CMSG_DATA(cmsg), fds, sizeof(fds));
	ck_assert_int_eq(sendmsg(sv[0], &msg, 0), 1);
	close(p1[0]);
	close(p2[0]);

	ck_assert_int_eq(fdpass_recv(sv[1], &fd, buf, sizeof(buf)), 1);
	ck_assert_int_ne(fd, -1);
	/* The second pipe has no reader left: it was closed for us. */
	errno = 0;
	signal(SIGPIPE, SIG_IGN);
	ck_assert_int_eq(write(p2[1], "x", 1), -1);
	ck_assert_int_eq(errno, EPIPE);
	ck_assert_int_eq(write(p1[1], "y", 1), 1);
	ck_assert_int_eq(read(fd, buf, 1), 1);
	ck_assert_int_eq(buf[0], 'y');
	close(fd);
	close(p1[1]);
	close(p2[1]);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

/* --- LISTEN_FDNAMES, read once by the service library ---------------- */

/*
 * In a child of the test: two sockets on fds 3 and 4, LISTEN_* as given,
 * then service_init().  Returns the child's exit status; its stderr (the
 * fatal message, if any) goes to err.  The child checks the names itself
 * (want: "" for NULL) and exits 0 when they are right, 2 when not.
 */
static int
fdnames_run(const char *names, const char *want0, const char *want1,
    char *err, size_t errlen)
{
	char	*argv[] = { "t", NULL }, pid[16];
	int	 sv[2], ep[2], st;
	ssize_t	 n;
	size_t	 got = 0;
	pid_t	 p;

	ck_assert_int_eq(pipe(ep), 0);
	ck_assert_int_ne(p = fork(), -1);
	if (p == 0) {
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1 ||
		    dup2(sv[0], 3) == -1 || dup2(sv[1], 4) == -1 ||
		    dup2(ep[1], 2) == -1)
			_exit(3);
		(void)snprintf(pid, sizeof(pid), "%ld", (long)getpid());
		(void)unsetenv("MASTER_STATUS_FD");
		(void)setenv("LISTEN_PID", pid, 1);
		(void)setenv("LISTEN_FDS", "2", 1);
		if (names != NULL)
			(void)setenv("LISTEN_FDNAMES", names, 1);
		else
			(void)unsetenv("LISTEN_FDNAMES");
		service_init(1, argv, "t");
		if (service_nlisten() != 2 || strcmp(service_listen_name(0) ?
		    service_listen_name(0) : "", want0) != 0 ||
		    strcmp(service_listen_name(1) ? service_listen_name(1) :
		    "", want1) != 0 || service_listen_name(2) != NULL)
			_exit(2);
		_exit(0);
	}
	close(ep[1]);
	while (got + 1 < errlen && (n = read(ep[0], err + got,
	    errlen - got - 1)) > 0)
		got += (size_t)n;
	err[got] = '\0';
	close(ep[0]);
	ck_assert_int_eq(waitpid(p, &st, 0), p);
	ck_assert(WIFEXITED(st));
	return WEXITSTATUS(st);
}

START_TEST(test_service_fdnames)
{
	char	 err[512];

	ck_assert_int_eq(fdnames_run("link/beta:handoff", "link/beta",
	    "handoff", err, sizeof(err)), 0);
	ck_assert_int_eq(fdnames_run(NULL, "", "", err, sizeof(err)), 0);
	ck_assert_int_eq(fdnames_run(":handoff", "", "handoff", err,
	    sizeof(err)), 0);
	/* A count that does not match: which fd is the link?  Fatal. */
	ck_assert_int_eq(fdnames_run("a:b:c", "", "", err, sizeof(err)), 1);
	ck_assert_msg(strstr(err, "fatal: LISTEN_FDNAMES=\"a:b:c\" names 3 "
	    "fds, LISTEN_FDS=2") != NULL, "%s", err);
	ck_assert_int_eq(fdnames_run("handoff", "", "", err, sizeof(err)), 1);
	ck_assert_msg(strstr(err, "names 1 fd, LISTEN_FDS=2") != NULL, "%s",
	    err);
}
END_TEST

/* --- the service library, through services/echo ------------------------- */

/* Send a line and expect it back, within the deadline. */
static void
echo_roundtrip(int fd, const char *line)
{
	struct pollfd	 pfd;
	char		 buf[256];
	size_t		 len = strlen(line), got = 0;
	ssize_t		 n;

	ck_assert_int_eq(write(fd, line, len), (ssize_t)len);
	pfd.fd = fd;
	pfd.events = POLLIN;
	while (got < len) {
		ck_assert_msg(poll(&pfd, 1, FM_WAIT_MS) == 1, "no echo");
		n = read(fd, buf + got, sizeof(buf) - got);
		ck_assert_int_gt(n, 0);
		got += (size_t)n;
	}
	ck_assert_uint_eq(got, len);
	ck_assert(memcmp(buf, line, len) == 0);
}

static char *echo_args[] = { "echo", NULL };

/* Where the child logs when the test does not listen: nowhere. */
#define NOLOG	"MASTER_SYSLOG_SOCKET=/nonexistent/check_proto-log"

#define BASE_ENV(log) \
	"PATH=/usr/bin:/bin", "MASTER_SERVICE=echo", "MASTER_TYPE=unix", \
	"MASTER_GENERATION=1", "MASTER_STATUS_FD=4", \
	"MASTER_SYSLOG_NAME=linkmaster/echo", \
	"MASTER_SYSLOG_FACILITY=daemon", (log), \
	"LISTEN_FDS=1", "LISTEN_FDNAMES=echo"

/*
 * An echo child on a new unix socket NAME under the test's directory,
 * with the base environment and extra (NULL: none); up to its READY.
 */
static void
echo_start(struct fm_child *ch, const char *name, const char *extra,
    char **path, int *lfd)
{
	char		 err[256];
	const char	*env[16] = { BASE_ENV(NOLOG), extra };

	*path = fm_tmp_path(name);
	*lfd = sock_unix_listen(*path, SOCK_STREAM, 0600, err, sizeof(err));
	ck_assert_msg(*lfd != -1, "%s", err);
	fm_spawn(ch, "echo", lfd, 1, env, echo_args, 0);
	ck_assert_str_eq(fm_next_packet(ch, NULL), "READY");
}

START_TEST(test_service_echo)
{
	struct fm_child	 ch;
	char		 err[256], *path, *logenv;
	int		 lfd, c, st;
	const char	*env[16] = { BASE_ENV(NULL) };

	path = fm_tmp_path("echo");
	xasprintf(&logenv, "MASTER_SYSLOG_SOCKET=%s/nolog", fm_tmp_dir());
	env[7] = logenv;
	env[10] = "MASTER_MAX_USE=0";
	env[11] = "MASTER_MAX_IDLE=0";
	lfd = sock_unix_listen(path, SOCK_STREAM, 0600, err, sizeof(err));
	ck_assert_msg(lfd != -1, "%s", err);
	fm_spawn(&ch, "echo", &lfd, 1, env, echo_args, 0);

	ck_assert_str_eq(fm_next_packet(&ch, NULL), "READY");
	c = fm_unix_client(path);
	echo_roundtrip(c, "hello\n");
	ck_assert_str_eq(fm_next_packet(&ch, NULL), "TAKEN");
	echo_roundtrip(c, "again\n");
	close(c);
	ck_assert_str_eq(fm_next_packet(&ch, NULL), "AVAIL");

	/* A second client, same child. */
	c = fm_unix_client(path);
	echo_roundtrip(c, "two\n");
	ck_assert_str_eq(fm_next_packet(&ch, NULL), "TAKEN");
	close(c);
	ck_assert_str_eq(fm_next_packet(&ch, NULL), "AVAIL");

	/* Master closes the channel: the idle child exits 0. */
	close(ch.status);
	st = fm_wait(&ch, FM_WAIT_MS);
	ck_assert_msg(st != -1, "child did not exit");
	ck_assert(WIFEXITED(st));
	ck_assert_int_eq(WEXITSTATUS(st), 0);
	close(lfd);
	free(path);
	free(logenv);
}
END_TEST

/* Nothing from the child on its status channel right now. */
static void
expect_silence(struct fm_child *ch)
{
	struct pollfd	 pfd = { ch->status, POLLIN, 0 };

	ck_assert_msg(poll(&pfd, 1, 0) == 0, "unexpected status message");
}


/*
 * Clients waiting when one is done are served in the same run: TAKEN
 * once, then one AVAIL that counts them all.
 */
START_TEST(test_service_run)
{
	struct fm_child	 ch;
	char		*path;
	int		 lfd, a, b, c;

	echo_start(&ch, "run", NULL, &path, &lfd);
	a = fm_unix_client(path);
	echo_roundtrip(a, "a\n");
	ck_assert_str_eq(fm_next_packet(&ch, NULL), "TAKEN");
	/* Two more queue up while the child is busy with the first. */
	b = fm_unix_client(path);
	c = fm_unix_client(path);
	close(a);
	echo_roundtrip(b, "b\n");
	expect_silence(&ch);
	close(b);
	echo_roundtrip(c, "c\n");
	expect_silence(&ch);
	close(c);
	ck_assert_str_eq(fm_next_packet(&ch, NULL), "AVAIL 3");
	close(ch.status);
	fm_expect_exit(&ch, 0);
	close(lfd);
	free(path);
}
END_TEST

/*
 * A run ends after a second even with clients waiting, so that the
 * master's counts are never further behind than that.
 */
START_TEST(test_service_run_bound)
{
	struct fm_child	 ch;
	char		*path;
	long long	 end;
	int		 lfd, a, b;

	echo_start(&ch, "runb", NULL, &path, &lfd);
	a = fm_unix_client(path);
	echo_roundtrip(a, "a\n");
	ck_assert_str_eq(fm_next_packet(&ch, NULL), "TAKEN");
	b = fm_unix_client(path);
	/*
	 * Keep the first client for longer than a run may last (1 s): the
	 * time itself is what is tested, so this waits for the clock.
	 */
	end = now_ms() + 1100;
	while (now_ms() < end)
		(void)poll(NULL, 0, (int)(end - now_ms()));
	close(a);
	echo_roundtrip(b, "b\n");
	ck_assert_str_eq(fm_next_packet(&ch, NULL), "AVAIL");
	ck_assert_str_eq(fm_next_packet(&ch, NULL), "TAKEN");
	close(b);
	ck_assert_str_eq(fm_next_packet(&ch, NULL), "AVAIL");
	close(ch.status);
	fm_expect_exit(&ch, 0);
	close(lfd);
	free(path);
}
END_TEST

START_TEST(test_service_stop_midclient)
{
	struct fm_child	 ch;
	char		*path;
	int		 lfd, c, st;

	echo_start(&ch, "echo2", NULL, &path, &lfd);
	c = fm_unix_client(path);
	echo_roundtrip(c, "x\n");
	ck_assert_str_eq(fm_next_packet(&ch, NULL), "TAKEN");

	/*
	 * Stop while busy, the way the master asks (it shuts down only its
	 * writing side, and keeps reading): the current client is still
	 * served...
	 */
	ck_assert_int_eq(shutdown(ch.status, SHUT_WR), 0);
	echo_roundtrip(c, "still here\n");
	ck_assert_int_eq(waitpid(ch.pid, &st, WNOHANG), 0);
	/* ...and once it leaves, the child says so and exits 0. */
	close(c);
	ck_assert_str_eq(fm_next_packet(&ch, NULL), "AVAIL");
	ck_assert_str_eq(fm_next_packet(&ch, NULL), "");
	st = fm_wait(&ch, FM_WAIT_MS);
	ck_assert_msg(st != -1, "child did not exit");
	ck_assert(WIFEXITED(st));
	ck_assert_int_eq(WEXITSTATUS(st), 0);
	close(ch.status);
	close(lfd);
	free(path);
}
END_TEST

START_TEST(test_service_max_use)
{
	struct fm_child	 ch;
	char		*path;
	int		 lfd, c, st;

	echo_start(&ch, "echo3", "MASTER_MAX_USE=1", &path, &lfd);
	c = fm_unix_client(path);
	echo_roundtrip(c, "only one\n");
	close(c);
	ck_assert_str_eq(fm_next_packet(&ch, NULL), "TAKEN");
	ck_assert_str_eq(fm_next_packet(&ch, NULL), "AVAIL");
	/* It leaves by itself: end-of-file on our side, exit 0. */
	ck_assert_str_eq(fm_next_packet(&ch, NULL), "");
	st = fm_wait(&ch, FM_WAIT_MS);
	ck_assert(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	close(ch.status);
	close(lfd);
	free(path);
}
END_TEST

START_TEST(test_service_max_idle)
{
	struct fm_child	 ch;
	long long	 t0;
	char		*path;
	int		 lfd, st;

	t0 = now_ms();
	echo_start(&ch, "echo4", "MASTER_MAX_IDLE=1", &path, &lfd);
	ck_assert_str_eq(fm_next_packet(&ch, NULL), "");
	st = fm_wait(&ch, FM_WAIT_MS);
	ck_assert(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ck_assert_int_ge(now_ms() - t0, 900);
	close(ch.status);
	close(lfd);
	free(path);
}
END_TEST

/* Bad input is a bad startup: exit 1 before READY. */
START_TEST(test_service_bad_startup)
{
	struct fm_child	 ch;
	char		 err[256], *path;
	char		*bad_o[] = { "echo", "-o", "timeout", NULL };
	char		*bad_num[] = { "echo", "-o", "timeout=soon", NULL };
	char		*bad_arg[] = { "echo", "extra", NULL };
	char		*unknown[] = { "echo", "-o", "timeou=1", NULL };
	char		*blank[] = { "echo", "-o", "time out = 1", NULL };
	char *const	*argvs[] = { bad_o, bad_num, bad_arg, unknown, blank,
			    echo_args };
	int		 lfd, st, i;
	const char	*env[16] = { BASE_ENV(NOLOG) };

	path = fm_tmp_path("echo5");
	lfd = sock_unix_listen(path, SOCK_STREAM, 0600, err, sizeof(err));
	ck_assert_msg(lfd != -1, "%s", err);
	for (i = 0; i < 6; i++) {
		/* The last run: LISTEN_PID is someone else's, so no fds. */
		fm_spawn(&ch, "echo", &lfd, 1, env, argvs[i], i == 5 ? 1 : 0);
		ck_assert_str_eq(fm_next_packet(&ch, NULL), "");
		st = fm_wait(&ch, FM_WAIT_MS);
		ck_assert_msg(st != -1 && WIFEXITED(st) &&
		    WEXITSTATUS(st) == 1, "run %d: status %d", i, st);
		close(ch.status);
	}
	close(lfd);
	free(path);
}
END_TEST

START_TEST(test_service_trigger_fifo)
{
	struct fm_child	 ch;
	char		 err[256], *fifo, *log, *logenv;
	int		 lfd, logfd, w, st;
	const char	*env[16] = { BASE_ENV(NULL), "MASTER_MAX_USE=0" };

	fifo = fm_tmp_path("wakeup");
	log = fm_tmp_path("log");
	xasprintf(&logenv, "MASTER_SYSLOG_SOCKET=%s", log);
	env[7] = logenv;
	env[2] = "MASTER_TYPE=fifo";
	logfd = sock_unix_listen(log, SOCK_DGRAM, 0600, err, sizeof(err));
	ck_assert_msg(logfd != -1, "%s", err);
	lfd = sock_fifo_listen(fifo, 0622, err, sizeof(err));
	ck_assert_msg(lfd != -1, "%s", err);
	fm_spawn(&ch, "echo", &lfd, 1, env, echo_args, 0);
	ck_assert_str_eq(fm_next_packet(&ch, NULL), "READY");

	/* The master's wakeup: one byte "W" into the fifo. */
	ck_assert_int_ne(w = open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC),
	    -1);
	ck_assert_int_eq(write(w, "W", 1), 1);
	ck_assert_str_eq(fm_next_packet(&ch, NULL), "TAKEN");
	ck_assert_str_eq(fm_next_packet(&ch, NULL), "AVAIL");
	expect_log(logfd, "trigger: W");

	/* Control characters are escaped. */
	ck_assert_int_eq(write(w, "a\tb\n", 4), 4);
	ck_assert_str_eq(fm_next_packet(&ch, NULL), "TAKEN");
	ck_assert_str_eq(fm_next_packet(&ch, NULL), "AVAIL");
	expect_log(logfd, "trigger: a\\011b\\n");
	close(w);

	close(ch.status);
	st = fm_wait(&ch, FM_WAIT_MS);
	ck_assert(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	close(lfd);
	close(logfd);
	free(fifo);
	free(log);
	free(logenv);
}
END_TEST

START_TEST(test_service_trigger_dgram)
{
	struct fm_child	 ch;
	char		 err[256], *sock, *log, *logenv;
	int		 lfd, logfd, c, st;
	const char	*env[16] = { BASE_ENV(NULL), "MASTER_MAX_USE=1" };

	sock = fm_tmp_path("dgram");
	log = fm_tmp_path("log2");
	xasprintf(&logenv, "MASTER_SYSLOG_SOCKET=%s", log);
	env[7] = logenv;
	env[2] = "MASTER_TYPE=unix-dgram";
	logfd = sock_unix_listen(log, SOCK_DGRAM, 0600, err, sizeof(err));
	ck_assert_msg(logfd != -1, "%s", err);
	lfd = sock_unix_listen(sock, SOCK_DGRAM, 0622, err, sizeof(err));
	ck_assert_msg(lfd != -1, "%s", err);
	fm_spawn(&ch, "echo", &lfd, 1, env, echo_args, 0);
	ck_assert_str_eq(fm_next_packet(&ch, NULL), "READY");

	c = sock_unix_connect(sock, SOCK_DGRAM, err, sizeof(err));
	ck_assert_msg(c != -1, "%s", err);
	ck_assert_int_eq(send(c, "W", 1, 0), 1);
	ck_assert_str_eq(fm_next_packet(&ch, NULL), "TAKEN");
	ck_assert_str_eq(fm_next_packet(&ch, NULL), "AVAIL");
	expect_log(logfd, "trigger: W");
	/* max_use 1: it goes by itself. */
	st = fm_wait(&ch, FM_WAIT_MS);
	ck_assert(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	close(c);
	close(ch.status);
	close(lfd);
	close(logfd);
	free(sock);
	free(log);
	free(logenv);
}
END_TEST

/* Standalone: no master, its own socket from -o listen=PATH. */
START_TEST(test_service_standalone)
{
	const char	*top;
	char		*exe, *path, *opt;
	char		*envp[] = { "PATH=/usr/bin:/bin", NULL };
	long long	 deadline;
	pid_t		 pid;
	int		 c = -1, st;

	if ((top = getenv("top_builddir")) == NULL || *top == '\0')
		top = ".";
	xasprintf(&exe, "%s/services/echo", top);
	path = fm_tmp_path("standalone");
	xasprintf(&opt, "listen=%s", path);
	ck_assert_int_ne(pid = fork(), -1);
	if (pid == 0) {
		char	*args[] = { "echo", "-o", opt, "-o", "timeout=5",
			    NULL };
		int	 nul;

		/* Quiet: stderr copies of the log are not wanted here. */
		if ((nul = open("/dev/null", O_WRONLY)) != -1)
			dup2(nul, 2);
		closefrom(3);
		execve(exe, args, envp);
		_exit(127);
	}
	/* Wait for the socket to accept connections. */
	deadline = now_ms() + FM_WAIT_MS;
	while (now_ms() < deadline) {
		char	 err[256];

		if ((c = sock_unix_connect(path, SOCK_STREAM, err,
		    sizeof(err))) != -1)
			break;
		(void)poll(NULL, 0, 10);
	}
	ck_assert_msg(c != -1, "standalone echo never listened");
	ck_assert_int_eq(sock_set_nonblock(c, 0), 0);
	echo_roundtrip(c, "solo\n");
	close(c);
	kill(pid, SIGTERM);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
	free(exe);
	free(path);
	free(opt);
}
END_TEST

/* --- the log queue (libutil/log.c, queued mode) -------------------------- */

static int	log_wakes;

static void
count_wake(void)
{
	log_wakes++;
}

/* The next datagram on fd (waiting up to a second), NUL-terminated. */
static int
next_dgram(int fd, char *buf, size_t len)
{
	struct pollfd	 pfd = { fd, POLLIN, 0 };
	ssize_t		 n;

	if (poll(&pfd, 1, 1000) != 1)
		return -1;
	if ((n = recv(fd, buf, len - 1, 0)) < 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

/*
 * A syslog that does not read: lines never block the caller; 5 wait in
 * the queue, what finds it full is counted, and once the reader catches
 * up every line arrives in order, then one line says how many were
 * dropped: logged + dropped == written.
 */
START_TEST(test_log_queue)
{
	char		 err[256], buf[4096], *path;
	const char	*p;
	long long	 t0;
	int		 sfd, i, got = 0, last = -1, n, dropped = -1;

	path = fm_tmp_path("syslog");
	sfd = sock_unix_listen(path, SOCK_DGRAM, 0600, err, sizeof(err));
	ck_assert_msg(sfd != -1, "%s", err);
	log_init("lq", "daemon", path, 0);
	log_queue_init(5, count_wake);
	ck_assert_int_ne(log_queue_fd(), -1);
	t0 = now_ms();
	for (i = 0; i < 100; i++)
		log_info("line %d", i);
	/* The old way blocked a second per line once syslog was full. */
	ck_assert_int_lt(now_ms() - t0, 500);
	ck_assert_uint_eq(log_queue_pending(), 5);
	ck_assert_int_eq(log_wakes, 1);

	/* The reader catches up; the owner flushes when writable. */
	while (got < 200) {
		while (next_dgram(sfd, buf, sizeof(buf)) == 0) {
			got++;
			if ((p = strstr(buf, "lq[")) != NULL &&
			    (p = strstr(p, "]: line ")) != NULL) {
				n = atoi(p + 8);
				/* The first ones, in order; then drops. */
				ck_assert_msg(n == last + 1, "line %d after %d",
				    n, last);
				last = n;
				continue;
			}
			ck_assert_msg((p = strstr(buf, "warning: ")) != NULL,
			    "unexpected: %s", buf);
			ck_assert_int_eq(sscanf(p, "warning: %d log lines "
			    "dropped: the syslog socket was full", &dropped),
			    1);
			goto done;
		}
		/* Check's timeout fails the test if the report never comes. */
		(void)log_queue_flush();
	}
 done:
	ck_assert_int_eq(log_queue_pending(), 0);
	ck_assert_int_gt(dropped, 0);
	/* Every line but the report: the ones logged plus the dropped. */
	ck_assert_int_eq(got - 1 + dropped, 100);
	ck_assert_int_eq(last, got - 2);
	close(sfd);
	free(path);
}
END_TEST

static Suite *
suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("proto");

	tc = tcase_create("proto");
	tcase_add_test(tc, test_log_queue);
	tcase_add_test(tc, test_parse_kinds);
	tcase_add_test(tc, test_parse_junk);
	tcase_add_test(tc, test_proto_name);
	tcase_add_test(tc, test_proto_roundtrip);
	tcase_add_test(tc, test_proto_utf8_cut);
	suite_add_tcase(s, tc);

	tc = tcase_create("sock");
	tcase_add_unchecked_fixture(tc, tmp_setup, tmp_teardown);
	tcase_add_test(tc, test_inet_split);
	tcase_add_test(tc, test_unix_listen);
	tcase_add_test(tc, test_fifo_listen);
	tcase_add_test(tc, test_inet_listen);
	tcase_add_test(tc, test_fdpass);
	tcase_add_test(tc, test_fdpass_extra);
	suite_add_tcase(s, tc);

	tc = tcase_create("service");
	tcase_add_unchecked_fixture(tc, tmp_setup, tmp_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_service_fdnames);
	tcase_add_test(tc, test_service_echo);
	tcase_add_test(tc, test_service_run);
	tcase_add_test(tc, test_service_run_bound);
	tcase_add_test(tc, test_service_stop_midclient);
	tcase_add_test(tc, test_service_max_use);
	tcase_add_test(tc, test_service_max_idle);
	tcase_add_test(tc, test_service_bad_startup);
	tcase_add_test(tc, test_service_trigger_fifo);
	tcase_add_test(tc, test_service_trigger_dgram);
	tcase_add_test(tc, test_service_standalone);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	return unit_run(suite());
}
