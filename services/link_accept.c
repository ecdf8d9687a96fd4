/*
 * link_accept.c: the link helper's clients coming and going (link_client.c
 * is one client's states and lines): accepted from the listen sockets and
 * read at once, looked at again at the end of a loop round once
 * answered (client_kick), and, when the helper stops, drained
 * (client_stop) or, once the drain time is over, dropped (client_drop).
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
	L.fl = lconn_flusher_new(L.base, client_kicks, NULL);
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
	int		 fd;

	if ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) !=
	    -1) {
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
