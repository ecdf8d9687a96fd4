/*
 * inetd.c: inetd mode, a service whose linkmaster.conf section says
 * "accept = yes" (xinetd's nowait, systemd's Accept=yes).
 *
 * Here the master accepts: each connection gets a new child running the
 * command with the connection on fds 0 and 1, stderr to the log (the
 * service's stderr_level), nothing else open, and the environment
 * import_environment names plus MASTER_SERVICE and, for TCP,
 * REMOTE_ADDR and REMOTE_PORT.  maxproc caps concurrent connections:
 * at the cap the master stops accepting and further clients wait in the
 * listen backlog, as with a prefork service; while throttled or stopping
 * likewise.  A child that fails before startup_grace (exit non-zero) is
 * a bad startup and throttles the service, as any other.  accept(2)
 * errors that concern one client only lose that client; running out of
 * fds pauses accepting until a child exits.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "master.h"

#define INETD_BATCH	64	/* connections per wake-up, at most */

int
inetd_unit(const struct unit *u)
{
	return svc_conf(u->svc)->accept &&
	    (u->svc->te->type == SVC_INET || u->svc->te->type == SVC_UNIX);
}

static int
inetd_room(const struct unit *u)
{
	if (M->stopping || u->retired || u->down || u->throttle.active)
		return 0;
	return u->limit == 0 || u->total < u->limit;
}

/* The peer's address and port, as systemd sets them. */
static void
inetd_remote(struct unit *u, const struct sockaddr_storage *ss)
{
	const struct sockaddr_in	*sin = (const void *)ss;
	const struct sockaddr_in6	*sin6 = (const void *)ss;

	u->conn_addr[0] = '\0';
	u->conn_port[0] = '\0';
	if (ss->ss_family == AF_INET) {
		inet_ntop(AF_INET, &sin->sin_addr, u->conn_addr,
		    sizeof(u->conn_addr));
		snprintf(u->conn_port, sizeof(u->conn_port), "%u",
		    ntohs(sin->sin_port));
	} else if (ss->ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &sin6->sin6_addr, u->conn_addr,
		    sizeof(u->conn_addr));
		snprintf(u->conn_port, sizeof(u->conn_port), "%u",
		    ntohs(sin6->sin6_port));
	}
}

/*
 * Accept what waits (up to INETD_BATCH, within maxproc), then a child
 * each.  Accepting first tells spawn whether others wait behind a
 * connection (see conn_fork in spawn.c).
 */
static void
inetd_accept_cb(int fd, short ev, void *arg)
{
	struct unit		*u = arg;
	struct sockaddr_storage	 ss[INETD_BATCH];
	socklen_t		 len;
	int			 conn[INETD_BATCH], n = 0, i, room, full = 0;

	room = u->limit == 0 ? INETD_BATCH : u->limit - u->total;
	if (room > INETD_BATCH)
		room = INETD_BATCH;
	while (inetd_room(u) && n < room) {
		len = sizeof(ss[n]);
		memset(&ss[n], 0, sizeof(ss[n]));
		/* Blocking, as a program on fds 0 and 1 expects. */
		if ((conn[n] = accept4(fd, (struct sockaddr *)&ss[n], &len,
		    SOCK_CLOEXEC)) == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EINTR || errno == ECONNABORTED)
				break;
			log_warn("service %s: accept", u->name);
			/* Out of fds: until a child exits (avail_update). */
			full = errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM;
			break;
		}
		n++;
	}
	for (i = 0; i < n; i++) {
		inetd_remote(u, &ss[i]);
		u->conn_fd = conn[i];
		/* The last one: nobody waits behind it. */
		u->conn_fork = i < n - 1;
		(void)spawn_child(u);
		u->conn_fd = -1;
		close(conn[i]);
		u->uses++;
	}
	if (full)
		avail_listen_off(u);
	else
		inetd_update(u);
}

/* Listen exactly while another connection may have a child. */
void
inetd_update(struct unit *u)
{
	int	 i;

	if (!inetd_room(u)) {
		avail_listen_off(u);
		return;
	}
	if (u->listening)
		return;
	for (i = 0; i < u->nlisten; i++) {
		/* Made by avail.c before a reload turned accept on? */
		if (u->listen_ev[i] != NULL &&
		    event_get_callback(u->listen_ev[i]) != inetd_accept_cb) {
			event_free(u->listen_ev[i]);
			u->listen_ev[i] = NULL;
		}
		if (u->listen_ev[i] == NULL)
			u->listen_ev[i] = event_new(M->base, u->listen_fd[i],
			    EV_READ | EV_PERSIST, inetd_accept_cb, u);
		event_add(u->listen_ev[i], NULL);
	}
	u->listening = 1;
}

static void
inetd_env_add(char ***envp, int *n, const char *name, const char *value)
{
	char	*s;

	xasprintf(&s, "%s=%s", name, value);
	*envp = xreallocarray(*envp, *n + 2, sizeof(**envp));
	(*envp)[(*n)++] = s;
	(*envp)[*n] = NULL;
}

/*
 * An inetd child's environment: not the contract's MASTER_* and LISTEN_*
 * (it has no status channel and no listen socket), only what it can use.
 */
char **
inetd_env(const struct config *cfg, const struct unit *u)
{
	char		**envp;
	const char	*v;
	int		 n = 0, i;

	envp = xcalloc(1, sizeof(*envp));
	for (i = 0; i < cfg->nimport; i++)
		if ((v = getenv(cfg->import_environment[i])) != NULL)
			inetd_env_add(&envp, &n, cfg->import_environment[i],
			    v);
	inetd_env_add(&envp, &n, "MASTER_SERVICE", u->name);
	if (u->conn_addr[0] != '\0') {
		inetd_env_add(&envp, &n, "REMOTE_ADDR", u->conn_addr);
		inetd_env_add(&envp, &n, "REMOTE_PORT", u->conn_port);
	}
	return envp;
}
