/*
 * svc.c: bring table entries to life as services and spawn units.
 *
 * For each master.cf entry we make a service and its unit(s), resolve the
 * command path and the syslog ident, and open the listen sockets.  Opening
 * fails with a message naming the service and the address; at start-up the
 * caller treats that as fatal (a master that cannot serve its table must not
 * pretend to run), so all sockets are opened before anything is spawned.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "master.h"
#include "sock.h"

char *
svc_command_path(const struct config *cfg, const struct tentry *te)
{
	char	*p;

	if (te->argv[0][0] == '/')
		return xstrdup(te->argv[0]);
	xasprintf(&p, "%s/%s", cfg->daemon_directory, te->argv[0]);
	return p;
}

/*
 * The child's syslog ident is syslog_name/NAME.  An inet service's name is
 * an address, useless in a log, so as Postfix (postfix/smtpd) it logs
 * under its command's base name instead.
 */
char *
svc_ident(const struct config *cfg, const struct tentry *te,
    const char *unitname)
{
	const char	*base;
	char		*p;

	if (te->type == SVC_INET) {
		base = strrchr(te->argv[0], '/');
		base = base ? base + 1 : te->argv[0];
	} else
		base = unitname;
	xasprintf(&p, "%s/%s", cfg->syslog_name, base);
	return p;
}

/*
 * The master settings of s (its linkmaster.conf "service" section), looked
 * up in the current configuration each time: a reload that changes them
 * applies to the next signal and the next child, without a restart.
 */
const struct svcconf *
svc_conf(const struct service *s)
{
	return config_service(M->cfg, s->te->name, svc_type_name(s->te->type));
}

/*
 * What a link unit's peer link authenticates with, for reload to see a
 * change (reload.c, peer_tls_keeps): whether it uses TLS (c's
 * config_peer_tls, kept as PEER_TLS_YES or PEER_TLS_NO) and the pinned
 * fingerprints.
 */
void
svc_unit_peer_tls(struct unit *u, const struct config *c,
    const struct peer *p)
{
	int	 i;

	for (i = 0; i < u->peer.nfingerprints; i++)
		free(u->peer.fingerprints[i]);
	free(u->peer.fingerprints);
	u->peer.fingerprints = NULL;
	u->peer.nfingerprints = 0;
	u->peer.tls = config_peer_tls(c, p) ? PEER_TLS_YES : PEER_TLS_NO;
	if (p->nfingerprints == 0)
		return;
	u->peer.fingerprints = xcalloc(p->nfingerprints,
	    sizeof(*u->peer.fingerprints));
	for (i = 0; i < p->nfingerprints; i++)
		u->peer.fingerprints[i] = xstrdup(p->fingerprints[i]);
	u->peer.nfingerprints = p->nfingerprints;
}

/*
 * A unit of service s; a link service has one per peer, named
 * "service/peer", with the peer's address in its environment.
 */
struct unit *
svc_unit_new(struct service *s, const char *name, const struct peer *p)
{
	struct unit	*u;

	u = xcalloc(1, sizeof(*u));
	u->svc = s;
	u->handoff_fd = -1;
	u->conn_fd = -1;
	if (p != NULL) {
		xasprintf(&u->name, "%s/%s", name, p->name);
		u->peer.name = xstrdup(p->name);
		u->peer.address = xstrdup(p->address);
		u->peer.port = xstrdup(p->port);
		svc_unit_peer_tls(u, M->cfg, p);
	} else
		u->name = xstrdup(name);
	u->ident = svc_ident(M->cfg, s->te, u->name);
	u->cmdpath = svc_command_path(M->cfg, s->te);
	u->limit = s->te->maxproc;
	u->down = s->down;
	TAILQ_INIT(&u->children);
	strlcpy(u->last_exit, "-", sizeof(u->last_exit));
	TAILQ_INSERT_TAIL(&s->units, u, entry);
	return u;
}

/*
 * Build services from a parsed table; the table's entries move into the
 * services.  A link service gets one unit per configured peer.
 */
int
svc_create_all(struct table *t, struct errlist *errs)
{
	struct tentry	*te;
	struct service	*s;
	int		 i;

	while ((te = TAILQ_FIRST(&t->entries)) != NULL) {
		TAILQ_REMOVE(&t->entries, te, entry);
		s = xcalloc(1, sizeof(*s));
		s->te = te;
		TAILQ_INIT(&s->units);
		TAILQ_INSERT_TAIL(&M->services, s, entry);
		if (te->type != SVC_LINK)
			(void)svc_unit_new(s, te->name, NULL);
		else
			for (i = 0; i < M->cfg->npeers; i++)
				(void)svc_unit_new(s, te->name,
				    &M->cfg->peers[i]);
	}
	t->n = 0;
	return 0;
}

/*
 * Give fd (a private directory or FIFO) to default_user when we are root:
 * the unprivileged children run as that user (master.c, master_dirs).
 */
static void
svc_private_owner(const struct config *cfg, int fd)
{
	struct passwd	*pw;

	if (!M->is_root || (pw = getpwnam(cfg->default_user)) == NULL)
		return;
	if (fchown(fd, pw->pw_uid, pw->pw_gid) == -1)
		log_warn("chown to %s", cfg->default_user);
}

/*
 * socket_dir/{private,public}/NAME; a link unit's NAME is service/peer,
 * so its directory is made here, as private or public as its parent.
 */
static int
svc_unix_path(const struct config *cfg, const struct unit *u, char **path,
    struct errlist *errs)
{
	const struct tentry	*te = u->svc->te;
	struct stat		 st;
	char			*dir;
	int			 fd;

	if (te->type == SVC_LINK) {
		xasprintf(&dir, "%s/%s/%s", cfg->socket_dir,
		    te->private ? "private" : "public", te->name);
		if (mkdir(dir, te->private ? 0700 : 0755) == -1 &&
		    errno != EEXIST) {
			errlist_add(errs, "service %s: mkdir %s: %s", u->name,
			    dir, strerror(errno));
			free(dir);
			return -1;
		}
		if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC)) == -1) {
			errlist_add(errs, "service %s: %s: not a directory%s",
			    u->name, dir, lstat(dir, &st) == 0 &&
			    S_ISLNK(st.st_mode) ? " (a symbolic link)" : "");
			free(dir);
			return -1;
		}
		if (te->private)
			svc_private_owner(cfg, fd);
		close(fd);
		free(dir);
	}
	xasprintf(path, "%s/%s/%s", cfg->socket_dir,
	    te->private ? "private" : "public", u->name);
	return 0;
}

/*
 * Open the unit's listen sockets as cfg says; on failure none stays open.
 * (cfg is not always M->cfg: reload binds for the new configuration
 * before it commits to it.)
 */
int
svc_listen_open(const struct config *cfg, struct unit *u,
    struct errlist *errs)
{
	const struct tentry	*te = u->svc->te;
	char			 err[256];
	char			*path = NULL;
	int			 fd, n;

	switch (te->type) {
	case SVC_UNIX:
	case SVC_PASS:
	case SVC_UNIX_DGRAM:
	case SVC_LINK:
		if (svc_unix_path(cfg, u, &path, errs) == -1)
			return -1;
		fd = sock_unix_listen(path, te->type == SVC_UNIX_DGRAM ?
		    SOCK_DGRAM : SOCK_STREAM, 0666, err, sizeof(err));
		goto one;
	case SVC_FIFO:
		if (svc_unix_path(cfg, u, &path, errs) == -1)
			return -1;
		fd = sock_fifo_listen(path, te->private ? 0600 : 0622, err,
		    sizeof(err));
		if (fd != -1 && te->private)
			svc_private_owner(cfg, fd);
 one:
		if (fd == -1) {
			errlist_add(errs, "service %s: %s", u->name, err);
			free(path);
			return -1;
		}
		u->listen_fd[0] = fd;
		u->nlisten = 1;
		u->listen_path = path;
		return 0;
	case SVC_INET:
		n = sock_inet_listen(te->name, cfg->inet_interfaces,
		    u->listen_fd, MAX_LISTEN, err, sizeof(err));
		if (n == -1) {
			errlist_add(errs, "service %s: %s", u->name, err);
			return -1;
		}
		u->nlisten = n;
		return 0;
	case SVC_DAEMON:
		return 0;
	}
	return 0;
}

void
svc_listen_close(struct unit *u)
{
	int	 i;

	avail_listen_off(u);
	for (i = 0; i < u->nlisten; i++) {
		if (u->listen_ev[i] != NULL)
			event_free(u->listen_ev[i]);
		u->listen_ev[i] = NULL;
		close(u->listen_fd[i]);
	}
	u->nlisten = 0;
	if (u->listen_path != NULL) {
		(void)unlink(u->listen_path);
		free(u->listen_path);
		u->listen_path = NULL;
	}
}

/* Free a service whose units have no children left. */
void
svc_free(struct service *s)
{
	struct unit	*u;

	while ((u = TAILQ_FIRST(&s->units)) != NULL) {
		TAILQ_REMOVE(&s->units, u, entry);
		svc_unit_free(u);
	}
	cgroup_service_free(s);
	tentry_free(s->te);
	free(s);
}

/* Free a unit that has no children left. */
void
svc_unit_free(struct unit *u)
{
	int	 i;

	svc_listen_close(u);
	throttle_clear(u);
	wakeup_clear(u);
	if (u->handoff_fd != -1)
		close(u->handoff_fd);
	free(u->name);
	free(u->ident);
	free(u->cmdpath);
	free(u->status_text);
	free(u->throttle_cause);
	free(u->peer.name);
	free(u->peer.address);
	free(u->peer.port);
	for (i = 0; i < u->peer.nfingerprints; i++)
		free(u->peer.fingerprints[i]);
	free(u->peer.fingerprints);
	free(u);
}

struct service *
svc_find(const char *name, enum svc_type type)
{
	struct service	*s;

	TAILQ_FOREACH(s, &M->services, entry)
		if (s->te->type == type && strcmp(s->te->name, name) == 0)
			return s;
	return NULL;
}

/*
 * Two helpers of one peer must never run at once (they share the peer's
 * queue directory): a link unit whose peer was removed and added back
 * waits for the retired unit's children.  These find the other unit.
 */
static struct unit *
svc_link_twin(const struct unit *u, int want_retired)
{
	struct service	*s;
	struct unit	*v;
	int		 k;

	if (u->peer.name == NULL)
		return NULL;
	for (k = 0; k < 2; k++)
		TAILQ_FOREACH(s, k ? &M->retired : &M->services, entry) {
			/*
			 * Any link service: the queue is the peer's, so a
			 * renamed link service's helper waits too.
			 */
			if (s->te->type != SVC_LINK)
				continue;
			TAILQ_FOREACH(v, &s->units, entry)
				if (v != u && v->retired == want_retired &&
				    v->peer.name != NULL &&
				    strcmp(v->peer.name, u->peer.name) == 0)
					return v;
		}
	return NULL;
}

/* A retired unit of the same peer that still has children, or NULL. */
struct unit *
svc_link_predecessor(const struct unit *u)
{
	struct unit	*v = svc_link_twin(u, 1);

	return v != NULL && (v->total > 0 || v->draining > 0) ? v : NULL;
}

/* The live unit that waits for this retired one, or NULL. */
struct unit *
svc_link_successor(const struct unit *u)
{
	return u->retired ? svc_link_twin(u, 0) : NULL;
}
