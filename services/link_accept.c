/*
 * link_accept.c: the link helper's clients coming and going (link_client.c
 * is one client's states and lines): accepted from the listen sockets and
 * read at once, looked at again at the end of a loop round once
 * answered (client_kick), parked, and, when the helper stops, drained
 * (client_stop) or, once the drain time is over, dropped (client_drop).
 *
 * Parking.  A client that sent one request and nothing more is mostly
 * a connection per request: it reads its answer and closes as the next
 * one connects.  Watching it for that end would cost an epoll_ctl(2) to
 * add it, one to remove it, and a wake-up of its own.  So it is parked:
 * not watched, for park (-o park, 1 ms) at most.  Once its answer is
 * out, it is read once when the next client is accepted, after the
 * round's writes, and closed if it closed, watched from then on if not.
 * When the park time is over, it is watched again, answered or not: a
 * client that sent a second request before its first answer must not
 * wait for that answer, which the peer may be holding back for the
 * second.  A client parks once.  What that costs a client that keeps
 * its connection, once: its second request is read up to park after
 * its first.
 *
 * Failure policy: accept(2) failing for want of descriptors or memory
 * pauses accepting for LINK_ACCEPT_PAUSE_MS (logged) instead of spinning;
 * a connection that went away before it was accepted is skipped; other
 * errors are logged.  Nothing here stops the helper.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <errno.h>
#include <event2/event.h>
#include <string.h>

#include "link.h"
#include "log.h"
#include "util.h"

/*
 * A client enters the parked state (client_set_state): watched again
 * at park_end at the latest.  L.parked is in the order of park_end, and
 * L.park_ev is set exactly while it has a client (for the first one's
 * park_end): no evtimer_pending() on this path of every connection.
 */
void
client_park(struct client *c)
{
	struct timeval	 tv;

	lconn_read_off_soon(c->lc);
	c->park = PARK_ASKED;
	c->park_end = now_ms() + L.park_ms;
	if (TAILQ_EMPTY(&L.parked))
		evtimer_add(L.park_ev, ms_timeval(L.park_ms, &tv));
	TAILQ_INSERT_TAIL(&L.parked, c, pentry);
}

/* A parked client's answer went out: its end (or next request) is next. */
void
client_park_answered(struct client *c)
{
	if (c->park == PARK_ASKED)
		c->park = PARK_ANSWERED;
}

/* Parked no more, for good (looked at, or it leaves the state). */
void
client_unpark(struct client *c)
{
	if (c->park == PARK_ASKED || c->park == PARK_ANSWERED) {
		TAILQ_REMOVE(&L.parked, c, pentry);
		/* Nothing parked: nothing to wake up for. */
		if (TAILQ_EMPTY(&L.parked))
			evtimer_del(L.park_ev);
	}
	c->park = PARK_DONE;
}

/* Read it once, after the round's writes (client_readable decides). */
static void
client_look(struct client *c)
{
	client_unpark(c);
	lconn_read_after(c->lc);
}

/*
 * The park time is over for the oldest parked clients: watched from now
 * on (a read now would mostly find nothing yet; the event tells what
 * they did meanwhile, if anything).
 */
static void
client_park_expire(int fd, short ev, void *arg)
{
	struct client	*c;
	struct timeval	 tv;
	long long	 now;

	now = now_ms();
	while ((c = TAILQ_FIRST(&L.parked)) != NULL && c->park_end <= now) {
		client_unpark(c);
		client_update(c);
	}
	if (c != NULL)
		evtimer_add(L.park_ev, ms_timeval(c->park_end - now, &tv));
}

/* The end of a loop round: clients answered meanwhile, one at a time. */
static int
client_kicks(void *arg)
{
	struct client	*c;

	if ((c = TAILQ_FIRST(&L.kicks)) == NULL)
		return 0;
	TAILQ_REMOVE(&L.kicks, c, kentry);
	c->kicked = 0;
	client_update(c);
	return 1;
}

void
client_init(void)
{
	TAILQ_INIT(&L.clients);
	TAILQ_INIT(&L.kicks);
	TAILQ_INIT(&L.parked);
	L.fl = lconn_flusher_new(L.base, client_kicks, NULL);
	if ((L.park_ev = evtimer_new(L.base, client_park_expire, NULL)) ==
	    NULL)
		fatalx("evtimer_new failed");
}

/* Look at c again at the end of this round (it was answered). */
void
client_kick(struct client *c)
{
	if (c->kicked || c->state == CLIENT_CLOSED)
		return;
	c->kicked = 1;
	TAILQ_INSERT_TAIL(&L.kicks, c, kentry);
	lconn_flusher_wake(L.fl);
}

/*
 * A new client, read at once: a client mostly sends its request right
 * after it connects, and this spares a loop round.  Its read interest
 * (an epoll_ctl(2)) is registered after the round's writes, so that
 * the request it sent is on its way to the peer first.
 */
void
client_new(int fd)
{
	struct client	*c;

	/* Not calloc: glibc's bypasses its per-thread cache (lconn_new). */
	c = xmalloc(sizeof(*c));
	memset(c, 0, sizeof(*c));
	TAILQ_INIT(&c->reqs);
	c->num = ++L.nclients_ever;
	c->state = CLIENT_READING;
	c->lc = lconn_new(L.fl, fd, 0, client_readable, client_written, c);
	TAILQ_INSERT_TAIL(&L.clients, c, entry);
	L.nclients++;
	lconn_read_soon(c->lc);
	client_readable(c->lc, EV_READ, c);
}

/*
 * A client waiting on a listen socket: one accept4(2) per readiness,
 * not a loop until EAGAIN, which cost a call for nothing with each
 * client that came alone (a connection per request).  The event is
 * level-triggered: a backlog is taken one client per loop round, along
 * with whatever else the round has.
 */
void
client_accept_cb(int lfd, short ev, void *arg)
{
	struct timeval	 tv;
	struct client	*c, *next;
	int		 fd;

	if ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) !=
	    -1) {
		/* A client came: the answered parked ones mostly went. */
		TAILQ_FOREACH_SAFE(c, &L.parked, pentry, next)
			if (c->park == PARK_ANSWERED)
				client_look(c);
		client_new(fd);
		return;
	}
	switch (errno) {
	case EINTR:
	case ECONNABORTED:
	case EPROTO:
	case EAGAIN:
#if EWOULDBLOCK != EAGAIN
	case EWOULDBLOCK:
#endif
		return;		/* the next round tries again, if need be */
	case EMFILE:
	case ENFILE:
	case ENOBUFS:
	case ENOMEM:
		/* Out of fds: wait instead of spinning on accept. */
		log_warn("accept on the link to %s (pausing 1s)", L.peer);
		listen_enable(0);
		evtimer_add(L.pause_ev, ms_timeval(LINK_ACCEPT_PAUSE_MS, &tv));
		return;
	default:
		log_warn("accept on the link to %s", L.peer);
		return;
	}
}

/*
 * The stop began: shut the client's reading side, so that it can add
 * nothing more (its next write fails: on Linux a unix stream socket
 * passes the shutdown on to its peer), and read what it sent already,
 * all of it now in our socket buffer (LINK_STOP_READS guards against
 * surprises): each complete line is served, an unterminated last one
 * answered, and the client closed after its last reply, with nothing
 * left unread, which it sees as an end-of-file after its replies.
 */
void
client_stop(struct client *c)
{
	ssize_t	 n;
	int	 i;

	if (c->state == CLIENT_LINGER)
		return;		/* closes by itself, soon */
	client_set_state(c, CLIENT_DRAINING);
	(void)shutdown(c->lc->fd, SHUT_RD);
	for (i = 0; i < LINK_STOP_READS && !c->eof; i++) {
		if ((n = lconn_read(c->lc)) == -1)
			break;		/* a broken client */
		if (n == 0)
			c->eof = 1;
	}
	c->eof = 1;
	client_update(c);
}

/*
 * The drain time is over: one last try at writing the client's replies,
 * without waiting, then close it.  Reading it to the end first spares it
 * a reset, which could destroy the replies it has not read yet.
 */
void
client_drop(struct client *c)
{
	int	 i;

	(void)lconn_flush(c->lc);
	(void)shutdown(c->lc->fd, SHUT_RD);
	for (i = 0; i < LINK_STOP_READS; i++) {
		if (lconn_read(c->lc) <= 0)
			break;
		lconn_consume(c->lc, lconn_inlen(c->lc));
	}
	client_free(c);
}
