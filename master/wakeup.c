/*
 * wakeup.c: poke a unit every N seconds (Postfix's wakeup column).
 *
 * The master acts as a client of its own socket: it connects (unix, inet)
 * or sends (unix-dgram) or writes into the fifo one byte "W".  A readable
 * socket makes the master spawn a child if none is idle, so the wakeup
 * reaches a child either way.  Everything is non-blocking: a full backlog
 * or fifo just means this wakeup is skipped (the service is busy anyway).
 * "N?" arms the timer only once the unit was first used.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "master.h"
#include "sock.h"

static void
wakeup_write_cb(int fd, short ev, void *arg)
{
	if (ev & EV_WRITE)
		(void)send(fd, "W", 1, MSG_NOSIGNAL | MSG_DONTWAIT);
	close(fd);
}

/* Connect to our own listen socket and write W once it is connected. */
static void
wakeup_connect(struct unit *u, int lfd)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(ss);
	struct timeval		 tv = { 5, 0 };
	int			 fd;

	if (getsockname(lfd, (struct sockaddr *)&ss, &len) == -1)
		return;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1)
		return;
	if (ss.ss_family == AF_INET && ((struct sockaddr_in *)&ss)->
	    sin_addr.s_addr == htonl(INADDR_ANY))
		((struct sockaddr_in *)&ss)->sin_addr.s_addr =
		    htonl(INADDR_LOOPBACK);
	if (ss.ss_family == AF_INET6 && IN6_IS_ADDR_UNSPECIFIED(
	    &((struct sockaddr_in6 *)&ss)->sin6_addr))
		((struct sockaddr_in6 *)&ss)->sin6_addr = in6addr_loopback;
	if (connect(fd, (struct sockaddr *)&ss, len) == -1 &&
	    errno != EINPROGRESS) {
		log_debug("service %s: wakeup: connect: %s", u->name,
		    strerror(errno));
		close(fd);
		return;
	}
	event_base_once(M->base, fd, EV_WRITE, wakeup_write_cb, NULL, &tv);
}

static void
wakeup_send(struct unit *u)
{
	struct sockaddr_un	 sun;
	int			 i, fd;

	for (i = 0; i < u->nlisten; i++) {
		switch (u->svc->te->type) {
		case SVC_FIFO:
			(void)write(u->listen_fd[i], "W", 1);
			break;
		case SVC_UNIX_DGRAM:
			memset(&sun, 0, sizeof(sun));
			sun.sun_family = AF_UNIX;
			strlcpy(sun.sun_path, u->listen_path,
			    sizeof(sun.sun_path));
			fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
			if (fd == -1)
				break;
			(void)sendto(fd, "W", 1, MSG_DONTWAIT,
			    (struct sockaddr *)&sun, sizeof(sun));
			close(fd);
			break;
		default:
			wakeup_connect(u, u->listen_fd[i]);
			break;
		}
	}
}

static void
wakeup_timer_cb(int fd, short ev, void *arg)
{
	struct unit	*u = arg;

	/* A unit the operator stopped has nobody to wake. */
	if (!M->stopping && !u->down)
		wakeup_send(u);
}

/* Start the timer if the unit has one (and, for "N?", was used). */
void
wakeup_arm(struct unit *u)
{
	const struct tentry	*te = u->svc->te;
	struct timeval		 tv;

	if (te->wakeup == 0 || u->nlisten == 0 || u->wakeup_ev != NULL)
		return;
	if (te->wakeup_cond && !u->used)
		return;
	u->wakeup_ev = event_new(M->base, -1, EV_PERSIST, wakeup_timer_cb, u);
	tv.tv_sec = te->wakeup;
	tv.tv_usec = 0;
	evtimer_add(u->wakeup_ev, &tv);
}

void
wakeup_clear(struct unit *u)
{
	if (u->wakeup_ev != NULL)
		event_free(u->wakeup_ev);
	u->wakeup_ev = NULL;
}
