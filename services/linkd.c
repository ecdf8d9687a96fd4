/*
 * linkd.c: the peer side of links: an inet helper that serves every
 * connection of its unit in one process and one event loop, as Postfix's
 * multi-servers do, so that a connection costs a descriptor and a
 * session, never a process (when each took one of maxproc, eight silent
 * connections kept the peer's real link out).
 *
 * A link starts with "HELLO 1 <name>": the name must be a configured peer
 * (linkmaster.conf, read again for every connection so that an edited peer
 * list applies without a restart, or -o peers= standalone) and the
 * connection must come from one of that peer's addresses; otherwise the
 * link is refused with "ERR <reason>" and a warning (linkd_peer.c).
 * Accepted, every request line "<id> <payload>" (ids growing) is handed
 * to the backend, a unix stream service, over a pool of up to "pool"
 * connections (linkd_pool.c): pipelined on the connection that keeps up,
 * more opened only when replies lag.  Replies "<id> <reply>" go back as
 * they come, in any order.  The session's life is in linkd_sess.c; every
 * socket is an lconn (lconn.c: one read per readiness event, one writev
 * per socket per loop round).
 *
 * Connections before their hello are capped (linkd_limit.c), and a new
 * link from a peer replaces its old one (linkd_sess.c).
 *
 * This file: main and the accept loop (linkd_opts.c reads the options).
 * Failure policy: bad options or an unreadable configuration at start-up
 * are fatal before READY (linkd_opts.c), as are listen sockets that are
 * not stream sockets.  Later nothing is: a malformed line from the link
 * is a protocol error that is logged and ends that link (the other side
 * reconnects); a backend connection that cannot be made, times out,
 * fails or closes with requests outstanding costs those requests and
 * that connection.  End-of-file on the status channel stops accepting
 * and reading new requests; outstanding ones are finished, each link is
 * closed, and linkd exits 0 once none is left.  accept(2) running out of
 * descriptors closes the oldest connection before its hello, or, with
 * none, pauses accepting for a second (logged, rate-limited).
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <event2/event.h>
#include <malloc.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "linkd.h"
#include "log.h"
#include "service.h"
#include "sock.h"
#include "util.h"

/* Connections taken per readiness of a listen socket, at most. */
#define LINKD_ACCEPT_BATCH	32

static struct {
	struct event_base	*base;
	struct event		**lev;		/* one per listen socket */
	int			 nlisten;
	int			 listening;
	struct event		*status_ev;
	struct event		*reap_ev;	/* frees ended sessions */
	struct event		*idle_ev;	/* max_idle */
	struct event		*resume_ev;	/* after EMFILE */
	int			 uses;
	int			 used_up;	/* max_use reached */
	int			 stopping;
} srv;

static int
linkd_connect(const char *path, char *err, size_t errlen)
{
	return sock_unix_connect(path, SOCK_STREAM, err, errlen);
}

/* Accept or not: listen events on or off, an epoll_ctl(2) each. */
static void
linkd_listen(int on)
{
	int	 i;

	if (on == srv.listening)
		return;
	srv.listening = on;
	for (i = 0; i < srv.nlisten; i++)
		if (on)
			event_add(srv.lev[i], NULL);
		else
			event_del(srv.lev[i]);
}

/* No sessions: exit when stopping or used up, else count max_idle. */
static void
linkd_idle(void)
{
	struct timeval	 tv;

	if (!TAILQ_EMPTY(&sessions))
		return;
	if (srv.stopping || srv.used_up) {
		event_base_loopexit(srv.base, NULL);
		return;
	}
	if (service_max_idle() > 0)
		evtimer_add(srv.idle_ev, ms_timeval(
		    (long long)service_max_idle() * 1000, &tv));
}

/*
 * Free the sessions that have ended (D.ended made us active, for the end
 * of this round: a session's callbacks may still be on the stack when it
 * ends).
 */
static void
linkd_reap_cb(int fd, short what, void *arg)
{
	struct sess	*s, *next;
	int		 links = 0;

	TAILQ_FOREACH_SAFE(s, &sessions, entry, next)
		if (s->state == SESS_ENDED) {
			if (s->name[0] != '\0')
				links++;
			sess_free(s);
		}
	if (links == 0) {
		linkd_idle();
		return;
	}
#ifdef __GLIBC__
	/*
	 * Give back what a link's buffers left in the heap: glibc keeps
	 * freed memory below its top, and an RSS that stays up after a
	 * flood tells the operator the wrong story.  Not for connections
	 * that never were links: a flood of them would pay a heap walk
	 * each.
	 */
	(void)malloc_trim(0);
#endif
	/*
	 * max_use counts links, not connections: connections before their
	 * hello cannot make us give way to a new process.
	 */
	srv.uses += links;
	if (service_max_use() > 0 && srv.uses >= service_max_use() &&
	    !srv.used_up) {
		/* The master starts another for the next connection. */
		log_debug("served %d links: exiting once the others end",
		    srv.uses);
		srv.used_up = 1;
		linkd_listen(0);
		service_taken();
	}
	linkd_idle();
}

static void
linkd_ended(struct sess *s)
{
	event_active(srv.reap_ev, EV_TIMEOUT, 1);
}

static void
linkd_idle_cb(int fd, short what, void *arg)
{
	if (!TAILQ_EMPTY(&sessions))
		return;
	log_debug("idle for %d s: exiting", service_max_idle());
	event_base_loopexit(srv.base, NULL);
}

/* Out of descriptors and nothing to close: accept again in a second. */
static void
linkd_resume_cb(int fd, short what, void *arg)
{
	if (!srv.stopping && !srv.used_up)
		linkd_listen(1);
}

/*
 * Close the oldest connection before its hello, and free it now, so that
 * its descriptor is there for the next accept: 1 done, 0 none.  Only
 * from the accept callback, where no session's callback is on the stack.
 */
static int
linkd_evict(const char *why)
{
	if (!limit_evict(why))
		return 0;
	linkd_reap_cb(-1, 0, NULL);
	return 1;
}

/* A new connection: a session, unless the caps say no (linkd_limit.c). */
static void
linkd_take(int fd)
{
	char	 ip[NI_MAXHOST];

	peer_ip(fd, ip, sizeof(ip));
	switch (limit_admit(ip)) {
	case 0:
		close(fd);
		return;
	case 2:
		/* Over hello_limit: the oldest was closed; free it now. */
		linkd_reap_cb(-1, 0, NULL);
		break;
	}
	(void)sess_new(srv.base, fd);
	evtimer_del(srv.idle_ev);
}

static void
linkd_accept_cb(int lfd, short what, void *arg)
{
	struct timeval	 tv;
	int		 fd, n;

	for (n = 0; n < LINKD_ACCEPT_BATCH && srv.listening; n++) {
		if ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) != -1) {
			linkd_take(fd);
			continue;
		}
		if (service_accept_retry(errno))
			return;
		if (errno == EMFILE || errno == ENFILE) {
			/* The real peer's link needs one more than they. */
			if (linkd_evict("out of file descriptors"))
				continue;
			limit_log("accept: %s: not accepting for 1 s",
			    strerror(errno));
			linkd_listen(0);
			evtimer_add(srv.resume_ev, ms_timeval(1000, &tv));
			return;
		}
		log_warn("accept");
		return;
	}
}

/* The status channel said end-of-file: stop, as a prefork helper would. */
static void
linkd_status_cb(int fd, short what, void *arg)
{
	struct sess	*s, *next;

	if (!service_stopping())
		return;
	event_del(srv.status_ev);
	log_debug("status channel closed: exiting once the links are done");
	srv.stopping = 1;
	linkd_listen(0);
	TAILQ_FOREACH_SAFE(s, &sessions, entry, next)
		sess_stop(s);
	linkd_idle();
}

/*
 * Serve every connection of every listen socket in one event loop, until
 * the master says stop, max_use links have ended (and the others too),
 * or max_idle passes without a connection.  The master counts us
 * available all along (it starts no second linkd while we accept), as
 * Postfix's multi-servers.
 */
static void
linkd_run(void)
{
	struct sess	*s;
	int		 i, fd;

	if (service_nlisten() == 0)
		fatalx("no listen sockets to serve");
	if ((srv.base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	srv.nlisten = service_nlisten();
	srv.lev = xcalloc((size_t)srv.nlisten, sizeof(*srv.lev));
	for (i = 0; i < srv.nlisten; i++) {
		fd = service_listen_fd(i);
		if (!service_listen_is_stream(i))
			fatalx("listen fd %d is not a stream socket", fd);
		/* Ours alone (one linkd): accept until EAGAIN. */
		if (sock_set_nonblock(fd, 1) == -1)
			fatal("listen fd %d: O_NONBLOCK", fd);
		if ((srv.lev[i] = event_new(srv.base, fd, EV_READ | EV_PERSIST,
		    linkd_accept_cb, NULL)) == NULL)
			fatalx("event_new failed");
	}
	if ((srv.reap_ev = event_new(srv.base, -1, 0, linkd_reap_cb,
	    NULL)) == NULL ||
	    (srv.idle_ev = evtimer_new(srv.base, linkd_idle_cb, NULL)) == NULL ||
	    (srv.resume_ev = evtimer_new(srv.base, linkd_resume_cb,
	    NULL)) == NULL)
		fatalx("cannot create events");
	if (service_status_fd() != -1) {
		if ((srv.status_ev = event_new(srv.base, service_status_fd(),
		    EV_READ | EV_PERSIST, linkd_status_cb, NULL)) == NULL)
			fatalx("event_new failed");
		event_add(srv.status_ev, NULL);
	}
	D.ended = linkd_ended;
	linkd_fds();
	limit_init(srv.base);
	linkd_listen(1);
	service_ready();
	linkd_idle();
	event_base_dispatch(srv.base);

	while ((s = TAILQ_FIRST(&sessions)) != NULL)
		sess_free(s);
	limit_done();
	for (i = 0; i < srv.nlisten; i++)
		event_free(srv.lev[i]);
	free(srv.lev);
	if (srv.status_ev != NULL)
		event_free(srv.status_ev);
	event_free(srv.reap_ev);
	event_free(srv.idle_ev);
	event_free(srv.resume_ev);
	event_base_free(srv.base);
}

int
main(int argc, char *argv[])
{
	service_init(argc, argv, "linkd");
	if (service_argc() != 0)
		fatalx("unexpected argument \"%s\"; usage: linkd [-v] "
		    "[-o name=value] ...", service_argv()[0]);
	D.connect = linkd_connect;
	linkd_options();
	linkd_run();
	return 0;
}
