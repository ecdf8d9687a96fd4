/*
 * check_linkd.c: linkd's session and backend pool (services/linkd_*.c)
 * through their seam: a session on a real loopback TCP connection, whose
 * other end the test writes as the link would, and backend connections
 * made by D.connect, here socket pairs whose other ends the test reads
 * and answers as the backend would.  The event loop is turned by hand
 * (spin), so every step is seen: states, what reached the backend, what
 * came back on the link.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <check.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../services/lconn.h"
#include "../../services/linkd.h"
#include "util.h"
#include "unit.h"

#define NBACK	8

static struct event_base	*base;
static struct sess		*S;
static int			 lfd = -1;	/* the link's end */
static int			 bfd[NBACK];	/* the backend's ends */
static int			 nb;
static int			 refuse;	/* fake_connect fails */
static char			 alpha_name[] = "alpha";
static char			 alpha_addr[] = "127.0.0.1";
static struct linkd_peer	 alpha = { alpha_name, alpha_addr };

static int
fake_connect(const char *path, char *err, size_t errlen)
{
	int	 sv[2];

	if (refuse || nb == NBACK) {
		strlcpy(err, "connection refused", errlen);
		return -1;
	}
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0, sv), 0);
	bfd[nb++] = sv[1];
	return sv[0];
}

/* A loopback TCP connection: linkd's end in *srv, the link's returned. */
static int
tcp_pair(int *srv)
{
	struct sockaddr_in	 sin;
	socklen_t		 sl = sizeof(sin);
	int			 l, c, on = 1;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_ne(l = socket(AF_INET, SOCK_STREAM, 0), -1);
	ck_assert_int_eq(bind(l, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(l, 1), 0);
	ck_assert_int_eq(getsockname(l, (struct sockaddr *)&sin, &sl), 0);
	ck_assert_int_ne(c = socket(AF_INET, SOCK_STREAM, 0), -1);
	ck_assert_int_eq(connect(c, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_ne(*srv = accept(l, NULL, NULL), -1);
	close(l);
	ck_assert_int_eq(fcntl(c, F_SETFL, O_NONBLOCK), 0);
	/* Each say() goes out at once, not after a delayed ack. */
	ck_assert_int_eq(setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &on,
	    sizeof(on)), 0);
	return c;
}

/* Turn the loop until nothing is left to do now. */
static void
spin(void)
{
	int	 i;

	for (i = 0; i < 20; i++)
		event_base_loop(base, EVLOOP_NONBLOCK);
}

/* Run the loop for ms milliseconds: time passes, timers fire. */
static void
run_for(int ms)
{
	struct timeval	 tv;

	event_base_loopexit(base, ms_timeval(ms, &tv));
	event_base_dispatch(base);
}

static void
say(int fd, const char *text)
{
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
}

/* Everything fd has for us now, as a string. */
static const char *
got(int fd)
{
	static char	 buf[8192];
	size_t		 o = 0;
	ssize_t		 n;

	while (o < sizeof(buf) - 1 &&
	    (n = read(fd, buf + o, sizeof(buf) - 1 - o)) > 0)
		o += (size_t)n;
	buf[o] = '\0';
	return buf;
}

static void
setup(void)
{
	int	 srv;

	signal(SIGPIPE, SIG_IGN);
	memset(&D, 0, sizeof(D));
	D.host = "beta";
	D.peers = &alpha;
	D.npeers = 1;
	D.backend_path = "/nonexistent/backend.sock";
	D.pool = 4;
	D.depth = 32;
	D.max_pending = 1024;
	D.max_line = 65536;
	D.max_output = 1024 * 1024;
	D.hello_limit = 64;
	D.hello_per_address = 4;
	D.hello_ms = 10000;
	D.backend_ms = 300000;
	/* No connection lags unless a test says so. */
	D.lag_us = 3600LL * 1000000;
	D.connect = fake_connect;
	nb = 0;
	refuse = 0;
	ck_assert_ptr_nonnull(base = event_base_new());
	lfd = tcp_pair(&srv);
	ck_assert_ptr_nonnull(S = sess_new(base, srv));
	ck_assert_int_eq(S->state, SESS_HELLO);
}

static void
teardown(void)
{
	int	 i;

	sess_free(S);
	S = NULL;
	close(lfd);
	for (i = 0; i < nb; i++)
		close(bfd[i]);
	event_base_free(base);
}

/*
 * from says text; once the loop has turned, *to has got want (read after
 * the turn: a backend's descriptor may be made by it).
 */
static void
relay(int from, const char *text, const int *to, const char *want)
{
	say(from, text);
	spin();
	ck_assert_str_eq(got(*to), want);
}

/* The hello, accepted. */
static void
up(void)
{
	relay(lfd, "HELLO 1 alpha\n", &lfd, "OK 1 beta\n");
	ck_assert_int_eq(S->state, SESS_UP);
	ck_assert_str_eq(S->name, "alpha");
}

/* up(), then the link sends reqs and the first backend gets want. */
static void
up_sent(const char *reqs, const char *want)
{
	up();
	relay(lfd, reqs, &bfd[0], want);
}

START_TEST(test_hello)
{
	up();
	ck_assert_str_eq(S->ip, "127.0.0.1");
	ck_assert_str_eq(S->backend, "/nonexistent/backend.sock");
}
END_TEST

START_TEST(test_hello_refused)
{
	static const struct {
		const char	*hello, *answer;
	} t[] = {
		{ "HELO 1 alpha\n", "ERR bad hello\n" },
		{ "HELLO 2 alpha\n", "ERR unsupported version\n" },
		{ "HELLO 1 gamma\n", "ERR not a peer\n" },
		{ "HELLO 1 al\xe2\x80\xaepha\n", "ERR bad hello\n" },
	};

	say(lfd, t[_i].hello);
	spin();
	ck_assert_str_eq(got(lfd), t[_i].answer);
	ck_assert_int_eq(S->state, SESS_ENDED);
	ck_assert_str_eq(S->name, "");
	ck_assert_int_eq(nb, 0);
}
END_TEST

START_TEST(test_stop_in_hello)
{
	sess_stop(S);
	ck_assert_int_eq(S->state, SESS_ENDED);
	ck_assert_str_eq(S->reason, "stopping");
}
END_TEST

/* A burst goes on one connection, in one write, and back in order. */
START_TEST(test_pipeline)
{
	up();
	say(lfd, "1 a\n2 b\n3 c\n");
	spin();
	ck_assert_int_eq(nb, 1);
	ck_assert_int_eq(S->nconns, 1);
	ck_assert_str_eq(got(bfd[0]), "a\nb\nc\n");
	ck_assert_int_eq(S->nsent, 3);
	relay(bfd[0], "A\nB\n", &lfd, "1 A\n2 B\n");
	relay(bfd[0], "C\n", &lfd, "3 C\n");
	ck_assert_int_eq(S->nsent, 0);
	/* Later requests reuse it. */
	say(lfd, "4 d\n");
	spin();
	ck_assert_int_eq(nb, 1);
	ck_assert_str_eq(got(bfd[0]), "d\n");
}
END_TEST

/* The connection that keeps up is full: wait for it, open no other. */
START_TEST(test_full_waits)
{
	D.depth = 2;
	up();
	say(lfd, "1 a\n2 b\n3 c\n");
	spin();
	ck_assert_int_eq(nb, 1);
	ck_assert_str_eq(got(bfd[0]), "a\nb\n");
	ck_assert_int_eq(S->nwait, 1);
	relay(bfd[0], "A\n", &bfd[0], "c\n");
	ck_assert_int_eq(S->nwait, 0);
	ck_assert_str_eq(got(lfd), "1 A\n");
}
END_TEST

/*
 * A reply goes back under its request's header as the link wrote it,
 * kept from the request line (ids of one to nineteen digits), also for
 * requests that waited for room (depth 1: every one but the first).
 */
START_TEST(test_reply_header)
{
	D.depth = 1;
	up();
	say(lfd, "7 a\n1234567 b\n9223372036854775808 c\n");
	spin();
	ck_assert_int_eq(S->nwait, 2);
	ck_assert_str_eq(got(bfd[0]), "a\n");
	relay(bfd[0], "A\n", &bfd[0], "b\n");
	relay(bfd[0], "B\n", &bfd[0], "c\n");
	say(bfd[0], "C\n");
	spin();
	ck_assert_str_eq(got(lfd),
	    "7 A\n1234567 B\n9223372036854775808 C\n");
}
END_TEST

/* A lagging connection: what follows goes on a new one. */
START_TEST(test_lag_grows_pool)
{
	struct bconn	*b;

	D.lag_us = 1000000;
	up();
	say(lfd, "1 slow\n");
	spin();
	ck_assert_int_eq(nb, 1);
	ck_assert_str_eq(got(bfd[0]), "slow\n");
	b = TAILQ_FIRST(&S->conns);
	/* A second of silence, without waiting for it. */
	b->progress -= 2000000;
	pool_tick(S);
	say(lfd, "2 b\n3 c\n");
	spin();
	ck_assert_int_eq(nb, 2);
	ck_assert_str_eq(got(bfd[1]), "b\nc\n");
	relay(bfd[1], "B\nC\n", &lfd, "2 B\n3 C\n");
	relay(bfd[0], "SLOW\n", &lfd, "1 SLOW\n");
	/* Both keep up again: the oldest takes the next. */
	relay(lfd, "4 d\n", &bfd[0], "d\n");
}
END_TEST

/*
 * A connection opened for a lag that has passed: while the oldest keeps
 * up, a burst waits for its replies rather than going to the other (one
 * backend process woken, as with pool=1).
 */
START_TEST(test_keeps_up_waits)
{
	D.depth = 2;
	D.lag_us = 1000000;
	up_sent("1 slow\n", "slow\n");
	TAILQ_FIRST(&S->conns)->progress -= 2000000;
	pool_tick(S);
	say(lfd, "2 b\n");
	spin();
	ck_assert_int_eq(nb, 2);
	ck_assert_str_eq(got(bfd[1]), "b\n");
	say(bfd[0], "SLOW\n");
	say(bfd[1], "B\n");
	spin();
	ck_assert_str_eq(got(lfd), "1 SLOW\n2 B\n");
	/* Both keep up: the oldest takes two, the third waits for it. */
	relay(lfd, "3 c\n4 d\n5 e\n", &bfd[0], "c\nd\n");
	ck_assert_str_eq(got(bfd[1]), "");
	ck_assert_int_eq(S->nwait, 1);
	/* The clock watches the busy connection. */
	ck_assert_int_eq(S->tick_set, 1);
	relay(bfd[0], "C\n", &bfd[0], "e\n");
	ck_assert_int_eq(S->nwait, 0);
	ck_assert_int_eq(nb, 2);
}
END_TEST

/* Requests that wait are looked at again once the connection lags. */
START_TEST(test_lag_timer)
{
	D.depth = 1;
	/*
	 * Long enough that spin() is surely done before the timer fires
	 * (1 ms was not, under ASan): the second connection must come from
	 * the timer, not from the first spin.
	 */
	D.lag_us = 200000;
	up();
	say(lfd, "1 a\n2 b\n");
	spin();
	ck_assert_int_eq(nb, 1);
	ck_assert_int_eq(S->nwait, 1);
	/* Blocks until the lag timer fires: 200 ms. */
	while (nb < 2)
		event_base_loop(base, EVLOOP_ONCE);
	spin();
	ck_assert_int_eq(S->nwait, 0);
	ck_assert_str_eq(got(bfd[1]), "b\n");
}
END_TEST

/* Every connection lags and the pool is full: the one that answered last. */
START_TEST(test_lag_pool_full)
{
	struct bconn	*b;

	D.pool = 2;
	D.lag_us = 1000000;
	up();
	say(lfd, "1 a\n");
	spin();
	TAILQ_FIRST(&S->conns)->progress -= 3000000;
	pool_tick(S);
	say(lfd, "2 b\n");
	spin();
	ck_assert_int_eq(nb, 2);
	b = TAILQ_LAST(&S->conns, bconnlist);
	b->progress -= 2000000;
	pool_tick(S);
	say(lfd, "3 c\n");
	spin();
	ck_assert_int_eq(nb, 2);
	ck_assert_str_eq(got(bfd[0]), "a\n");
	ck_assert_str_eq(got(bfd[1]), "b\nc\n");
}
END_TEST

START_TEST(test_id_must_grow)
{
	up();
	say(lfd, "5 a\n7 b\n7 again\n8 c\n");
	spin();
	ck_assert_int_eq(S->state, SESS_ENDED);
	ck_assert_str_eq(S->reason, "protocol error");
	ck_assert_str_eq(got(bfd[0]), "a\nb\n");
}
END_TEST

START_TEST(test_bad_line)
{
	up();
	say(lfd, "1 a\nx\n");
	spin();
	ck_assert_int_eq(S->state, SESS_ENDED);
	ck_assert_str_eq(S->reason, "protocol error");
}
END_TEST

/* End-of-file from the link: what is in hand is answered, then close. */
START_TEST(test_peer_eof)
{
	up();
	say(lfd, "1 a\n2 b\n");
	ck_assert_int_eq(shutdown(lfd, SHUT_WR), 0);
	spin();
	ck_assert_int_eq(S->state, SESS_PEER_EOF);
	ck_assert_str_eq(got(bfd[0]), "a\nb\n");
	say(bfd[0], "A\n");
	spin();
	ck_assert_int_eq(S->state, SESS_PEER_EOF);
	say(bfd[0], "B\n");
	spin();
	ck_assert_int_eq(S->state, SESS_ENDED);
	ck_assert_str_eq(S->reason, "connection closed");
	ck_assert_str_eq(got(lfd), "1 A\n2 B\n");
}
END_TEST

/* The master said stop: nothing new is read, what is in hand answered. */
START_TEST(test_stop)
{
	up();
	say(lfd, "1 a\n");
	spin();
	sess_stop(S);
	ck_assert_int_eq(S->state, SESS_STOPPING);
	relay(lfd, "2 b\n", &bfd[0], "a\n");
	say(bfd[0], "A\n");
	spin();
	ck_assert_int_eq(S->state, SESS_ENDED);
	ck_assert_str_eq(S->reason, "stopping");
	ck_assert_str_eq(got(lfd), "1 A\n");
}
END_TEST

START_TEST(test_backend_closes)
{
	up_sent("1 a\n2 b\n", "a\nb\n");
	close(bfd[0]);
	bfd[0] = open("/dev/null", O_RDONLY);
	spin();
	ck_assert_str_eq(got(lfd),
	    "1 error: backend: closed the connection\n"
	    "2 error: backend: closed the connection\n");
	ck_assert_int_eq(S->nconns, 0);
	ck_assert_int_eq(S->state, SESS_UP);
	/* The next request opens another. */
	say(lfd, "3 c\n");
	spin();
	ck_assert_int_eq(nb, 2);
	ck_assert_str_eq(got(bfd[1]), "c\n");
}
END_TEST

START_TEST(test_backend_extra_line)
{
	up();
	say(lfd, "1 a\n");
	spin();
	relay(bfd[0], "A\nextra\n", &lfd, "1 A\n");
	ck_assert_int_eq(S->nconns, 0);
}
END_TEST

/* Silent for backend_timeout with requests outstanding: they fail. */
START_TEST(test_backend_timeout)
{
	long long	 t0;

	D.backend_ms = 200;
	up();
	t0 = now_ms();
	relay(lfd, "1 a\n2 b\n", &bfd[0], "a\nb\n");
	/* Blocks until the pool's clock fires. */
	while (S->nconns > 0)
		event_base_loop(base, EVLOOP_ONCE);
	spin();
	ck_assert_msg(now_ms() - t0 >= 190, "after %lld ms", now_ms() - t0);
	ck_assert_str_eq(got(lfd), "1 error: backend: timed out\n"
	    "2 error: backend: timed out\n");
	ck_assert_int_eq(S->nsent, 0);
	ck_assert_int_eq(S->state, SESS_UP);
}
END_TEST

/*
 * backend_timeout counts from the backend's last reply, not from the
 * first request: the clock, set when the connection started, finds it
 * heard from since and looks again later rather than failing it.
 */
START_TEST(test_timeout_from_reply)
{
	/* 200 ms of margin either way, for a loaded machine. */
	D.backend_ms = 600;
	up_sent("1 a\n2 b\n", "a\nb\n");
	run_for(400);
	relay(bfd[0], "A\n", &lfd, "1 A\n");
	/* 800 ms after the requests, 400 after the reply. */
	run_for(400);
	ck_assert_int_eq(S->nsent, 1);
	relay(bfd[0], "B\n", &lfd, "2 B\n");
	ck_assert_int_eq(S->nconns, 1);
}
END_TEST

START_TEST(test_connect_fails)
{
	refuse = 1;
	up();
	relay(lfd, "1 a\n", &lfd, "1 error: backend: connection refused\n");
	ck_assert_int_eq(S->state, SESS_UP);
}
END_TEST

/* max_pending: lines beyond it wait in the buffer until there is room. */
START_TEST(test_max_pending)
{
	D.max_pending = 2;
	up_sent("1 a\n2 b\n3 c\n4 d\n", "a\nb\n");
	ck_assert_int_eq(S->held, 1);
	relay(bfd[0], "A\n", &bfd[0], "c\n");
	relay(bfd[0], "B\nC\n", &bfd[0], "d\n");
	ck_assert_int_eq(S->held, 0);
	ck_assert_str_eq(got(lfd), "1 A\n2 B\n3 C\n");
}
END_TEST

/*
 * max_output: once the replies the link has not read reach it, the link
 * is not read (a request sent then stays in the socket); it is read
 * again once they have all gone out.  Small socket buffers make the
 * unread replies pile up in linkd soon.
 */
START_TEST(test_max_output)
{
	char		 line[64], reply[1024], seen[256];
	struct pollfd	 pfd;
	long long	 t0;
	unsigned	 id = 0;
	int		 small = 2048, big;

	D.max_output = 4096;
	up();
	ck_assert_int_eq(setsockopt(lfd, SOL_SOCKET, SO_RCVBUF, &small,
	    sizeof(small)), 0);
	ck_assert_int_eq(setsockopt(S->c->fd, SOL_SOCKET, SO_SNDBUF, &small,
	    sizeof(small)), 0);
	memset(reply, 'r', sizeof(reply) - 2);
	reply[sizeof(reply) - 2] = '\n';
	reply[sizeof(reply) - 1] = '\0';
	while (!sess_out_full(S)) {
		ck_assert_uint_lt(++id, 10000);
		(void)snprintf(line, sizeof(line), "%u q\n", id);
		say(lfd, line);
		spin();
		ck_assert_str_eq(got(bfd[0]), "q\n");
		say(bfd[0], reply);
		spin();
	}
	ck_assert_int_eq(S->c->reading, 0);
	(void)snprintf(line, sizeof(line), "%u held\n", ++id);
	say(lfd, line);
	spin();
	ck_assert_str_eq(got(bfd[0]), "");
	ck_assert_int_eq(S->nsent + S->nwait, 0);
	/*
	 * The link reads its replies (a window wide open again, and a wait
	 * for room on linkd's side rather than a spin the kernel's window
	 * updates could outlast): the request goes to the backend.
	 */
	big = 1 << 20;
	ck_assert_int_eq(setsockopt(lfd, SOL_SOCKET, SO_RCVBUF, &big,
	    sizeof(big)), 0);
	pfd.fd = S->c->fd;
	pfd.events = POLLOUT;
	seen[0] = '\0';
	/*
	 * A deadline in time, not in turns: the window may reopen only with
	 * TCP's zero-window probe, whose interval doubles (0.2 s, 0.4 s, ...)
	 * and on a loaded machine can outlast any count of 10 ms polls.
	 */
	t0 = now_ms();
	for (;;) {
		if (strcmp(seen, "held\n") == 0)
			break;
		ck_assert_int_lt(now_ms() - t0, 30000);
		(void)got(lfd);
		(void)poll(&pfd, 1, 10);
		spin();
		strlcpy(seen, got(bfd[0]), sizeof(seen));
		ck_assert(seen[0] == '\0' || strcmp(seen, "held\n") == 0);
	}
	ck_assert_int_eq(S->c->reading, 1);
	ck_assert_int_eq(S->state, SESS_UP);
}
END_TEST

/* A second session on a connection of its own (in *fd, the link's end). */
static struct sess *
second(int *fd)
{
	struct sess	*s2;
	int		 srv;

	*fd = tcp_pair(&srv);
	ck_assert_ptr_nonnull(s2 = sess_new(base, srv));
	return s2;
}

/* A new link from a peer ends its older one, requests in hand and all. */
START_TEST(test_replace)
{
	struct sess	*s2;
	int		 fd2;

	up();
	say(lfd, "1 a\n");
	spin();
	ck_assert_int_eq(S->nsent, 1);
	s2 = second(&fd2);
	relay(fd2, "HELLO 1 alpha\n", &fd2, "OK 1 beta\n");
	ck_assert_int_eq(s2->state, SESS_UP);
	ck_assert_int_eq(S->state, SESS_ENDED);
	ck_assert_str_eq(S->reason, "replaced by a new link from 127.0.0.1, "
	    "1 request in hand dropped");
	/* Its backend's late reply goes nowhere; the new link works. */
	say(bfd[0], "A\n");
	say(fd2, "1 b\n");
	spin();
	ck_assert_str_eq(got(fd2), "");
	ck_assert_int_eq(nb, 2);
	ck_assert_str_eq(got(bfd[1]), "b\n");
	sess_free(s2);
	close(fd2);
}
END_TEST

/* A refused hello does not replace the link. */
START_TEST(test_replace_needs_hello)
{
	struct sess	*s2;
	int		 fd2;

	up();
	s2 = second(&fd2);
	say(fd2, "HELLO 1 gamma\n");
	spin();
	ck_assert_int_eq(s2->state, SESS_ENDED);
	ck_assert_int_eq(S->state, SESS_UP);
	sess_free(s2);
	close(fd2);
}
END_TEST

/*
 * Before their hello: hello_per_address from one address, then no
 * more; hello_limit in all, then the oldest goes for a new one.  A link
 * that is up counts for neither.
 */
START_TEST(test_hello_caps)
{
	struct sess	*s2;
	int		 fd2;

	D.hello_per_address = 2;
	D.hello_limit = 3;
	s2 = second(&fd2);
	ck_assert_int_eq(limit_admit("127.0.0.1"), 0);
	ck_assert_int_eq(limit_admit("127.0.0.2"), 1);
	ck_assert_int_eq(S->state, SESS_HELLO);
	D.hello_limit = 2;
	ck_assert_int_eq(limit_admit("127.0.0.2"), 2);
	ck_assert_int_eq(S->state, SESS_ENDED);
	ck_assert_int_eq(s2->state, SESS_HELLO);
	D.hello_limit = 1;
	ck_assert_int_eq(limit_admit("127.0.0.1"), 2);
	ck_assert_int_eq(s2->state, SESS_ENDED);
	sess_free(s2);
	close(fd2);
}
END_TEST

START_TEST(test_hello_caps_up)
{
	D.hello_per_address = 1;
	D.hello_limit = 1;
	ck_assert_int_eq(limit_admit("127.0.0.1"), 0);
	up();
	ck_assert_int_eq(limit_admit("127.0.0.1"), 1);
	ck_assert_int_eq(S->state, SESS_UP);
}
END_TEST

START_TEST(test_state_names)
{
	ck_assert_str_eq(sess_state_name(SESS_HELLO), "hello");
	ck_assert_str_eq(sess_state_name(SESS_PEER_EOF), "peer eof");
	ck_assert_str_eq(sess_state_name(SESS_ENDED), "ended");
}
END_TEST

static Suite *
suite(void)
{
	Suite	*s = suite_create("linkd");
	TCase	*tc;

	tc = tcase_create("session");
	/*
	 * Check's default of 4 s is too short for test_max_output on a loaded
	 * machine (it waits for TCP's zero-window probe): it has a deadline
	 * of its own.
	 */
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_hello);
	tcase_add_loop_test(tc, test_hello_refused, 0, 4);
	tcase_add_test(tc, test_stop_in_hello);
	tcase_add_test(tc, test_id_must_grow);
	tcase_add_test(tc, test_bad_line);
	tcase_add_test(tc, test_peer_eof);
	tcase_add_test(tc, test_stop);
	tcase_add_test(tc, test_max_pending);
	tcase_add_test(tc, test_max_output);
	tcase_add_test(tc, test_replace);
	tcase_add_test(tc, test_replace_needs_hello);
	tcase_add_test(tc, test_hello_caps);
	tcase_add_test(tc, test_hello_caps_up);
	tcase_add_test(tc, test_state_names);
	suite_add_tcase(s, tc);

	tc = tcase_create("pool");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_pipeline);
	tcase_add_test(tc, test_full_waits);
	tcase_add_test(tc, test_reply_header);
	tcase_add_test(tc, test_lag_grows_pool);
	tcase_add_test(tc, test_keeps_up_waits);
	tcase_add_test(tc, test_lag_timer);
	tcase_add_test(tc, test_lag_pool_full);
	tcase_add_test(tc, test_backend_closes);
	tcase_add_test(tc, test_backend_extra_line);
	tcase_add_test(tc, test_backend_timeout);
	tcase_add_test(tc, test_timeout_from_reply);
	tcase_add_test(tc, test_connect_fails);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(suite());
}
