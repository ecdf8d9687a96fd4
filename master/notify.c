/*
 * notify.c: the sd_notify protocol, spoken by hand (no libsystemd).
 *
 * Under systemd (Type=notify) $NOTIFY_SOCKET names a datagram socket: a
 * path, or with a leading '@' an abstract name.  Each state change is one
 * datagram of "KEY=VALUE\n" lines: READY=1 once the master serves,
 * RELOADING=1 with MONOTONIC_USEC when a reload begins and READY=1 when
 * it is done, STOPPING=1, and STATUS= with a one-line summary each time.
 * systemd documents this as a stable interface meant to be reimplemented
 * (OpenSSH does so).  Failures are ignored: without a listener the master
 * works exactly as before, and a send never blocks.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "master.h"

static int			 notify_fd = -1;
static struct sockaddr_un	 notify_addr;
static socklen_t		 notify_len;

/* Read $NOTIFY_SOCKET; children never see it (env.c builds theirs). */
void
notify_init(void)
{
	const char	*p = getenv("NOTIFY_SOCKET");
	size_t		 len;

	if (p == NULL || (*p != '/' && *p != '@') ||
	    (len = strlen(p)) >= sizeof(notify_addr.sun_path) || len < 2)
		return;
	memset(&notify_addr, 0, sizeof(notify_addr));
	notify_addr.sun_family = AF_UNIX;
	memcpy(notify_addr.sun_path, p, len);
	if (*p == '@')
		notify_addr.sun_path[0] = '\0';
	/* An abstract name is exactly its bytes: no trailing NUL counted. */
	notify_len = offsetof(struct sockaddr_un, sun_path) + len +
	    (*p == '@' ? 0 : 1);
	notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0);
	if (notify_fd == -1)
		log_warn("NOTIFY_SOCKET %s", p);
}

/* One datagram; the lines must end in '\n'. */
static void
notify_send(const char *fmt, ...) LM_PRINTF(1, 2);

static void
notify_send(const char *fmt, ...)
{
	char	 buf[512];
	va_list	 ap;
	int	 n;

	if (notify_fd == -1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return;
	if (sendto(notify_fd, buf, n, MSG_NOSIGNAL | MSG_DONTWAIT,
	    (struct sockaddr *)&notify_addr, notify_len) == -1)
		log_debug("sd_notify: %s", strerror(errno));
}

/* "STATUS=": what an operator sees in "systemctl status". */
static void
notify_summary(char *buf, size_t len)
{
	struct service	*s;
	struct unit	*u;
	int		 units = 0, down = 0, throttled = 0;

	TAILQ_FOREACH(s, &M->services, entry)
		TAILQ_FOREACH(u, &s->units, entry) {
			units++;
			down += u->down;
			throttled += u->throttle.active;
		}
	snprintf(buf, len, "%d unit%s, %d process%s, %d down, %d throttled",
	    units, units == 1 ? "" : "s", M->nchildren,
	    M->nchildren == 1 ? "" : "es", down, throttled);
}

void
notify_ready(void)
{
	char	 st[128];

	notify_summary(st, sizeof(st));
	notify_send("READY=1\nSTATUS=serving: %s\n", st);
}

void
notify_reloading(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	notify_send("RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=reloading\n",
	    (unsigned long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
}

void
notify_stopping(void)
{
	notify_send("STOPPING=1\nSTATUS=stopping: %d process%s left\n",
	    M->nchildren, M->nchildren == 1 ? "" : "es");
}

void
notify_close(void)
{
	if (notify_fd != -1)
		close(notify_fd);
	notify_fd = -1;
}
