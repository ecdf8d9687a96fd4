/*
 * check_linkclient.c: the link helper's client logic (services/
 * link_client.c, link_accept.c, link_req.c, link_replay.c) through its
 * seam: the peer is this file (peer_is_up, peer_send record what would
 * go on the link; the test answers with req_reply), the clients are real
 * sockets and the loop a real event loop.  Covered: replies in each
 * client's request order, con_lost and queued while down, the held state
 * (max_pending), end-of-file with an unterminated last line, an
 * over-long line (linger), the stop (draining), a client gone before its
 * replies, answers written only by the flusher, never from inside the
 * answer, and parking (a client with one request, not watched).
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <check.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../services/link.h"
#include "../../services/linkproto.h"
#include "../../services/queue.h"
#include "util.h"
#include "unit.h"

struct link	 L;

/* --- the fake peer ------------------------------------------------------ */

static int	 up;
static char	 sent[64][128];
static int	 nsent;

int
peer_is_up(void)
{
	return up;
}

void
peer_settle(void)
{
}

void
peer_send(const char *hdr, size_t hlen, const char *line, size_t len)
{
	ck_assert_int_lt(nsent, 64);
	ck_assert_uint_lt(hlen + len, sizeof(sent[0]));
	memcpy(sent[nsent], hdr, hlen);
	memcpy(sent[nsent] + hlen, line, len);
	sent[nsent][hlen + len] = '\0';
	nsent++;
}

void
stop_check(void)
{
}

/* link.c's: the listen sockets paused (client_accept_cb, out of fds). */
static int	 listening = 1;

void
listen_enable(int on)
{
	listening = on;
}

/* --- fixture ------------------------------------------------------------ */

static char	 tmpdir[] = "/tmp/check_linkclient.XXXXXX";

static int
rm_cb(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	return remove(p);
}

static void
setup(void)
{
	char	 err[256], *qdir;

	signal(SIGPIPE, SIG_IGN);
	memset(&L, 0, sizeof(L));
	up = 1;
	nsent = 0;
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	xasprintf(&qdir, "%s/queue", tmpdir);
	L.q = queue_open(qdir, err, sizeof(err));
	ck_assert_msg(L.q != NULL, "%s", err);
	free(qdir);
	L.base = event_base_new();
	L.peer = "beta";
	L.max_line = 64;
	L.max_pending = 3;
	L.park_ms = 1;
	L.timeout_ms = 60000;
	L.retry_min = 100;
	L.retry_max = 1000;
	client_init();
	req_init();
	replay_init();
}

static void
teardown(void)
{
	queue_close(L.q);
	(void)nftw(tmpdir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	strlcpy(tmpdir, "/tmp/check_linkclient.XXXXXX", sizeof(tmpdir));
}

/* Run the loop until cond holds. */
#define SPIN_UNTIL(cond) do {						\
	int	 _i;							\
	for (_i = 0; _i < 20000 && !(cond); _i++)			\
		event_base_loop(L.base, EVLOOP_ONCE | EVLOOP_NONBLOCK);	\
	ck_assert_msg((cond), "not so: %s", #cond);			\
} while (0)

static void
spin(void)
{
	int	 i;

	for (i = 0; i < 20; i++)
		event_base_loop(L.base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
}

/* A client: its socket is ours; the helper's side is a new client. */
static int
client(void)
{
	int	 sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0, sv), 0);
	client_new(sv[0]);
	return sv[1];
}

static struct client *
first_client(void)
{
	struct client	*c;

	ck_assert_ptr_nonnull(c = TAILQ_FIRST(&L.clients));
	return c;
}

static void
say(int fd, const char *s)
{
	ck_assert_int_eq(write(fd, s, strlen(s)), (ssize_t)strlen(s));
}

/* What the client got so far (spinning until want bytes, if want). */
static char	 got[4096];
static size_t	 ngot;

static ssize_t
take(int fd)
{
	ssize_t	 n;

	n = read(fd, got + ngot, sizeof(got) - 1 - ngot);
	if (n > 0) {
		ngot += (size_t)n;
		got[ngot] = '\0';
	}
	return n;
}

static const char *
replies(int fd, const char *want)
{
	ngot = 0;
	got[0] = '\0';
	SPIN_UNTIL((take(fd), ngot >= strlen(want)));
	return got;
}

/* The id of sent line i ("<id> payload"). */
static uint64_t
sent_id(int i)
{
	return strtoull(sent[i], NULL, 10);
}

static void
answer(int i, const char *text)
{
	req_reply(sent_id(i), text, strlen(text));
}

/* --- tests -------------------------------------------------------------- */

START_TEST(test_order)
{
	int	 fd;
	char	 b;

	fd = client();
	say(fd, "a\nb\nc\n");
	SPIN_UNTIL(nsent == 3);
	ck_assert_str_eq(sent[0], "1 a");
	ck_assert_str_eq(sent[2], "3 c");
	answer(2, "C");
	answer(0, "A");
	/* Written by the flusher at the end of the round, not in answer. */
	errno = 0;
	ck_assert_int_eq(read(fd, &b, 1), -1);
	ck_assert_int_eq(errno, EAGAIN);
	ck_assert_str_eq(replies(fd, "A\n"), "A\n");
	spin();
	ck_assert_int_eq(take(fd), -1);
	answer(1, "B");
	ck_assert_str_eq(replies(fd, "B\nC\n"), "B\nC\n");
	ck_assert_int_eq(first_client()->state, CLIENT_READING);
	ck_assert_int_eq(first_client()->npending, 0);
	close(fd);
	SPIN_UNTIL(L.nclients == 0);
}
END_TEST

START_TEST(test_down)
{
	int	 fd;

	up = 0;
	fd = client();
	say(fd, "x\ncritical:y\nz\n");
	ck_assert_str_eq(replies(fd, "con_lost\nqueued\ncon_lost\n"),
	    "con_lost\nqueued\ncon_lost\n");
	ck_assert_int_eq(nsent, 0);
	ck_assert_uint_eq(queue_count(L.q), 1);
	/* Up again, but the queue is not empty: behind it, in order. */
	up = 1;
	say(fd, "critical:w\n");
	ck_assert_str_eq(replies(fd, "queued\n"), "queued\n");
	ck_assert_uint_eq(queue_count(L.q), 2);
	close(fd);
	SPIN_UNTIL(L.nclients == 0);
}
END_TEST

START_TEST(test_held)
{
	struct client	*c;
	int		 fd;

	fd = client();
	say(fd, "1\n2\n3\n4\n5\n");
	SPIN_UNTIL(nsent == 3);
	spin();
	c = first_client();
	ck_assert_int_eq(nsent, 3);
	ck_assert_int_eq(c->state, CLIENT_HELD);
	ck_assert_int_eq(c->lc->reading, 0);
	answer(0, "r1");
	/* Room again: the lines already read are taken up. */
	SPIN_UNTIL(nsent == 4);
	answer(1, "r2");
	SPIN_UNTIL(nsent == 5);
	answer(2, "r3");
	answer(3, "r4");
	answer(4, "r5");
	ck_assert_str_eq(replies(fd, "r1\nr2\nr3\nr4\nr5\n"),
	    "r1\nr2\nr3\nr4\nr5\n");
	SPIN_UNTIL(c->state == CLIENT_READING);
	close(fd);
	SPIN_UNTIL(L.nclients == 0);
}
END_TEST

START_TEST(test_eof)
{
	int	 fd;

	fd = client();
	say(fd, "a\nlast");
	ck_assert_int_eq(shutdown(fd, SHUT_WR), 0);
	SPIN_UNTIL(nsent == 2);
	ck_assert_str_eq(sent[1], "2 last");
	ck_assert_int_eq(first_client()->state, CLIENT_EOF);
	answer(1, "L");
	answer(0, "A");
	ck_assert_str_eq(replies(fd, "A\nL\n"), "A\nL\n");
	/* Closed after its last reply. */
	SPIN_UNTIL(L.nclients == 0);
	ck_assert_int_eq(take(fd), 0);
	close(fd);
}
END_TEST

START_TEST(test_too_long)
{
	char	 big[100];
	int	 fd;

	L.park_ms = 0;		/* its second line is read at once */
	fd = client();
	say(fd, "ok\n");
	SPIN_UNTIL(nsent == 1);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	say(fd, big);
	SPIN_UNTIL(first_client()->state == CLIENT_LINGER);
	/* Its earlier request first, in order; then end-of-file from us. */
	spin();
	ck_assert_int_eq(take(fd), -1);
	answer(0, "fine");
	ck_assert_str_eq(replies(fd, "fine\nerror: line too long\n"),
	    "fine\nerror: line too long\n");
	SPIN_UNTIL(take(fd) == 0);
	ck_assert_int_eq(nsent, 1);
	/* It still writes: read and dropped, until it closes. */
	say(fd, "more\n");
	spin();
	ck_assert_int_eq(L.nclients, 1);
	close(fd);
	SPIN_UNTIL(L.nclients == 0);
}
END_TEST

START_TEST(test_stop)
{
	struct client	*c;
	int		 fd;

	fd = client();
	say(fd, "a\nb\n");
	SPIN_UNTIL(nsent == 2);
	say(fd, "c\n");
	c = first_client();
	/* The stop: what it sent is served; it can send no more. */
	L.stopping = 1;
	client_stop(c);
	ck_assert_int_eq(c->state, CLIENT_DRAINING);
	ck_assert_int_eq(nsent, 3);
	ck_assert_int_eq(write(fd, "d\n", 2), -1);
	ck_assert_int_eq(errno, EPIPE);
	answer(0, "A");
	answer(1, "B");
	answer(2, "C");
	ck_assert_str_eq(replies(fd, "A\nB\nC\n"), "A\nB\nC\n");
	SPIN_UNTIL(L.nclients == 0);
	ck_assert_int_eq(take(fd), 0);
	close(fd);
}
END_TEST

START_TEST(test_gone)
{
	int	 fd, fd2;

	fd = client();
	say(fd, "a\ncritical:b\n");
	SPIN_UNTIL(nsent == 2);
	/*
	 * Closed: an end-of-file, as a half-close would be: it waits for
	 * its replies, and goes when the first cannot be written.
	 */
	close(fd);
	SPIN_UNTIL(first_client()->state == CLIENT_EOF);
	answer(0, "late");
	SPIN_UNTIL(L.nclients == 0);
	/* Its other request is still in flight, for nobody. */
	ck_assert_int_eq(req_inflight(), 1);
	/* The link goes: a critical one is still queued, for nobody. */
	up = 0;
	req_fail_all();
	ck_assert_uint_eq(queue_count(L.q), 1);
	up = 1;
	/* Others are not disturbed. */
	fd2 = client();
	say(fd2, "c\n");
	SPIN_UNTIL(nsent == 3);
	answer(2, "C");
	ck_assert_str_eq(replies(fd2, "C\n"), "C\n");
	close(fd2);
	SPIN_UNTIL(L.nclients == 0);
}
END_TEST

/* A listen socket, l.sock in tmpdir. */
static int
listener(struct sockaddr_un *sun)
{
	int	 lfd;

	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	(void)snprintf(sun->sun_path, sizeof(sun->sun_path), "%s/l.sock",
	    tmpdir);
	ck_assert_int_ne(lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0), -1);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)sun, sizeof(*sun)), 0);
	ck_assert_int_eq(listen(lfd, 8), 0);
	return lfd;
}

/* A client of it, connected (in its backlog, not accepted yet). */
static int
dial(const struct sockaddr_un *sun)
{
	int	 fd;

	ck_assert_int_ne(fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK,
	    0), -1);
	ck_assert_int_eq(connect(fd, (const struct sockaddr *)sun,
	    sizeof(*sun)), 0);
	return fd;
}

/*
 * The accept path: one accept4 per readiness of the listen socket (not
 * one more for EAGAIN), the new client read at once (and, with its one
 * request, parked: not watched); a backlog is taken one client a round
 * by the level-triggered event.
 */
START_TEST(test_accept)
{
	struct sockaddr_un	 sun;
	struct event		*ev;
	int			 lfd, fd1, fd2;

	lfd = listener(&sun);
	fd1 = dial(&sun);
	fd2 = dial(&sun);
	say(fd1, "one\n");
	say(fd2, "two\n");
	client_accept_cb(lfd, EV_READ, NULL);
	ck_assert_int_eq(L.nclients, 1);
	/* Read at once; its event comes with the flusher. */
	ck_assert_int_eq(nsent, 1);
	ck_assert_str_eq(sent[0], "1 one");
	/* Its one request: parked, never watched. */
	ck_assert_int_eq(first_client()->state, CLIENT_PARKED);
	spin();
	ck_assert_int_eq(event_pending(first_client()->lc->rev, EV_READ,
	    NULL), 0);
	/* The rest of the backlog: from the loop. */
	ck_assert_ptr_nonnull(ev = event_new(L.base, lfd, EV_READ |
	    EV_PERSIST, client_accept_cb, NULL));
	ck_assert_int_eq(event_add(ev, NULL), 0);
	SPIN_UNTIL(L.nclients == 2 && nsent == 2);
	ck_assert_str_eq(sent[1], "2 two");
	/* Nothing waiting: nothing happens. */
	client_accept_cb(lfd, EV_READ, NULL);
	ck_assert_int_eq(L.nclients, 2);
	ck_assert_int_eq(listening, 1);
	answer(0, "ONE");
	answer(1, "TWO");
	ck_assert_str_eq(replies(fd1, "ONE\n"), "ONE\n");
	ck_assert_str_eq(replies(fd2, "TWO\n"), "TWO\n");
	close(fd1);
	close(fd2);
	SPIN_UNTIL(L.nclients == 0);
	event_free(ev);
	close(lfd);
}
END_TEST

/*
 * Parking, a connection per request: parked with its one request (not
 * watched: no epoll_ctl), answered, closed unseen; looked at when the
 * next client is accepted (in that call, read after the round's
 * writes), and closed.  Nothing parked: the park timer is off.  The park
 * time is long here: only the accept looks at it.
 */
START_TEST(test_park_close)
{
	struct sockaddr_un	 sun;
	struct client		*a;
	int			 fd, lfd, fd2;

	L.park_ms = 60000;
	fd = client();
	say(fd, "one\n");
	SPIN_UNTIL(nsent == 1);
	a = first_client();
	ck_assert_int_eq(a->state, CLIENT_PARKED);
	ck_assert_int_eq(a->park, PARK_ASKED);
	/* Its park time runs from now, answered or not. */
	ck_assert_int_ne(evtimer_pending(L.park_ev, NULL), 0);
	answer(0, "ONE");
	ck_assert_str_eq(replies(fd, "ONE\n"), "ONE\n");
	SPIN_UNTIL(a->park == PARK_ANSWERED);
	ck_assert_int_ne(evtimer_pending(L.park_ev, NULL), 0);
	close(fd);
	spin();
	ck_assert_int_eq(L.nclients, 1);
	ck_assert_int_eq(event_pending(a->lc->rev, EV_READ, NULL), 0);
	/* The next client: two lines, so never parked. */
	lfd = listener(&sun);
	fd2 = dial(&sun);
	say(fd2, "two\nthree\n");
	client_accept_cb(lfd, EV_READ, NULL);
	ck_assert_int_eq(L.nclients, 2);
	ck_assert_int_eq(a->park, PARK_DONE);
	ck_assert_int_eq(a->lc->rlate, 1);
	ck_assert_int_eq(evtimer_pending(L.park_ev, NULL), 0);
	SPIN_UNTIL(L.nclients == 1);
	ck_assert_int_eq(nsent, 3);
	ck_assert_int_eq(first_client()->state, CLIENT_READING);
	ck_assert_int_eq(evtimer_pending(L.park_ev, NULL), 0);
	answer(1, "TWO");
	answer(2, "THREE");
	ck_assert_str_eq(replies(fd2, "TWO\nTHREE\n"), "TWO\nTHREE\n");
	close(fd2);
	SPIN_UNTIL(L.nclients == 0);
	close(lfd);
}
END_TEST

/*
 * A client that keeps its connection: parked after its first request,
 * its second is read once the park time (1 ms) is over, and it is
 * watched from then on: its third is read at once.
 */
START_TEST(test_park_keep)
{
	struct client	*a;
	int		 fd;

	fd = client();
	say(fd, "a\n");
	SPIN_UNTIL(nsent == 1);
	a = first_client();
	ck_assert_int_eq(a->state, CLIENT_PARKED);
	answer(0, "A");
	ck_assert_str_eq(replies(fd, "A\n"), "A\n");
	say(fd, "b\n");
	SPIN_UNTIL(nsent == 2);
	ck_assert_int_eq(a->state, CLIENT_READING);
	ck_assert_int_eq(a->park, PARK_DONE);
	ck_assert_int_ne(event_pending(a->lc->rev, EV_READ, NULL), 0);
	ck_assert_int_eq(evtimer_pending(L.park_ev, NULL), 0);
	answer(1, "B");
	ck_assert_str_eq(replies(fd, "B\n"), "B\n");
	say(fd, "c\n");
	SPIN_UNTIL(nsent == 3);
	answer(2, "C");
	ck_assert_str_eq(replies(fd, "C\n"), "C\n");
	ck_assert_int_eq(a->state, CLIENT_READING);
	close(fd);
	SPIN_UNTIL(L.nclients == 0);
}
END_TEST

/*
 * Parked, its request unanswered, it sends another: read once the park
 * time is over, unanswered still (the peer may wait for the second
 * before it answers the first), and the replies come in order.  One
 * that closed unanswered and unseen is closed after its reply.
 */
START_TEST(test_park_unanswered)
{
	int	 fd, fd2;

	fd = client();
	say(fd, "a\n");
	SPIN_UNTIL(nsent == 1);
	ck_assert_int_eq(first_client()->park, PARK_ASKED);
	say(fd, "b\n");
	SPIN_UNTIL(nsent == 2);
	ck_assert_int_eq(first_client()->state, CLIENT_READING);
	ck_assert_int_eq(first_client()->park, PARK_DONE);
	ck_assert_int_eq(evtimer_pending(L.park_ev, NULL), 0);
	answer(1, "B");
	answer(0, "A");
	ck_assert_str_eq(replies(fd, "A\nB\n"), "A\nB\n");
	close(fd);
	SPIN_UNTIL(L.nclients == 0);
	L.park_ms = 60000;	/* only its answer looks at it now */
	fd2 = client();
	say(fd2, "c\n");
	SPIN_UNTIL(nsent == 3);
	close(fd2);
	spin();
	ck_assert_int_eq(first_client()->state, CLIENT_PARKED);
	answer(2, "C");
	SPIN_UNTIL(L.nclients == 0);
	ck_assert_int_eq(evtimer_pending(L.park_ev, NULL), 0);
}
END_TEST

/* -o park=0: a client with one request is watched from the start. */
START_TEST(test_park_off)
{
	int	 fd;

	L.park_ms = 0;
	fd = client();
	say(fd, "a\n");
	SPIN_UNTIL(nsent == 1);
	spin();
	ck_assert_int_eq(first_client()->state, CLIENT_READING);
	ck_assert_int_ne(event_pending(first_client()->lc->rev, EV_READ,
	    NULL), 0);
	ck_assert_int_eq(evtimer_pending(L.park_ev, NULL), 0);
	answer(0, "A");
	ck_assert_str_eq(replies(fd, "A\n"), "A\n");
	close(fd);
	SPIN_UNTIL(L.nclients == 0);
}
END_TEST

/* The names the debug log gives the states, in the enum's order. */
START_TEST(test_state_names)
{
	ck_assert_str_eq(client_state_name(CLIENT_READING), "reading");
	ck_assert_str_eq(client_state_name(CLIENT_HELD), "held");
	ck_assert_str_eq(client_state_name(CLIENT_PARKED), "parked");
	ck_assert_str_eq(client_state_name(CLIENT_EOF), "eof");
	ck_assert_str_eq(client_state_name(CLIENT_DRAINING), "draining");
	ck_assert_str_eq(client_state_name(CLIENT_LINGER), "linger");
	ck_assert_str_eq(client_state_name(CLIENT_CLOSED), "closed");
}
END_TEST

static Suite *
suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("linkclient");
	tc = tcase_create("client");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_order);
	tcase_add_test(tc, test_down);
	tcase_add_test(tc, test_held);
	tcase_add_test(tc, test_eof);
	tcase_add_test(tc, test_too_long);
	tcase_add_test(tc, test_stop);
	tcase_add_test(tc, test_gone);
	tcase_add_test(tc, test_accept);
	tcase_add_test(tc, test_park_close);
	tcase_add_test(tc, test_park_keep);
	tcase_add_test(tc, test_park_unanswered);
	tcase_add_test(tc, test_park_off);
	tcase_add_test(tc, test_state_names);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(suite());
}
