/*
 * check.c: what "linkmaster check" adds to parsing: every command must
 * exist and be executable (inside chroot_dir for a chroot service run by
 * root), default_user must exist when a service wants it, and every
 * "service" section of linkmaster.conf must name an entry, every link
 * peer's socket path must fit a unix socket, and socket_dir, state_dir
 * and the pid file's directory must be safe (check_dir).  Problems
 * are collected as "FILE:LINE: message"; nothing is changed.
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <netdb.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "master.h"
#include "sock.h"

static void
check_command(const struct config *cfg, const struct table *t,
    const struct tentry *te, struct errlist *errs)
{
	struct stat	 st;
	char		*path, *full;

	path = svc_command_path(cfg, te);
	if (te->chroot && geteuid() == 0)
		xasprintf(&full, "%s%s", cfg->chroot_dir, path);
	else
		full = xstrdup(path);
	if (stat(full, &st) == -1)
		errlist_add(errs, "%s:%d: command \"%s\": %s", t->file,
		    te->line, full, strerror(errno));
	else if (!S_ISREG(st.st_mode))
		errlist_add(errs, "%s:%d: command \"%s\": not a regular file",
		    t->file, te->line, full);
	else if (access(full, X_OK) == -1)
		errlist_add(errs, "%s:%d: command \"%s\": not executable",
		    t->file, te->line, full);
	free(full);
	free(path);
}

/*
 * An inet service's host must resolve, or the master could not bind it:
 * say so at its line now rather than at start or reload.  (A name in
 * .invalid fails without asking the network, RFC 6761.)
 */
static void
check_inet(const struct table *t, const struct tentry *te,
    struct errlist *errs)
{
	struct addrinfo	 hints, *res;
	char		*host = NULL, *port = NULL;
	int		 rc;

	if (sock_inet_split(te->name, &host, &port) == -1 || host == NULL)
		goto done;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0)
		errlist_add(errs, "%s:%d: inet service \"%s\": host \"%s\": %s",
		    t->file, te->line, te->name, host, rc == EAI_SYSTEM ?
		    strerror(errno) : gai_strerror(rc));
	else
		freeaddrinfo(res);
 done:
	free(host);
	free(port);
}

/*
 * Every "service NAME/TYPE" section of linkmaster.conf must name an entry
 * of master.cf: a misspelt name would otherwise leave its settings
 * silently unused.  An error, not a warning, so that start and reload
 * refuse it (the running master keeps its configuration).
 */
int
check_sections(const struct config *cfg, const struct table *t,
    struct errlist *errs)
{
	const struct svcconf	*sc;
	enum svc_type		 type;
	size_t			 before = errs->n;
	int			 i;

	for (i = 0; i < cfg->nservices; i++) {
		sc = &cfg->services[i];
		if (svc_type_parse(sc->type, &type) == -1)
			errlist_add(errs, "%s:%d: service \"%s/%s\": unknown "
			    "type \"%s\"", sc->file, sc->line, sc->name,
			    sc->type, sc->type);
		else if (table_find(t, sc->name, type) == NULL)
			errlist_add(errs, "%s:%d: service \"%s/%s\": no such "
			    "entry in %s", sc->file, sc->line, sc->name,
			    sc->type, t->file);
		else if (sc->accept && type != SVC_INET && type != SVC_UNIX)
			errlist_add(errs, "%s:%d: service \"%s/%s\": accept "
			    "is for inet and unix services only", sc->file,
			    sc->line, sc->name, sc->type);
	}
	return errs->n == before ? 0 : -1;
}

/*
 * A link unit's socket is socket_dir/{private,public}/SERVICE/PEER: a
 * peer whose name makes it longer than sun_path could never be bound, so
 * the peer section is refused here, at its line, before start or reload
 * gets as far as a bind.
 */
int
check_links(const struct config *cfg, const struct table *t,
    struct errlist *errs)
{
	const struct tentry	*te;
	const struct peer	*p;
	struct sockaddr_un	 sun;
	size_t			 before = errs->n;
	char			*path;
	int			 i;

	TAILQ_FOREACH(te, &t->entries, entry) {
		if (te->type != SVC_LINK)
			continue;
		for (i = 0; i < cfg->npeers; i++) {
			p = &cfg->peers[i];
			xasprintf(&path, "%s/%s/%s/%s", cfg->socket_dir,
			    te->private ? "private" : "public", te->name,
			    p->name);
			if (strlen(path) >= sizeof(sun.sun_path))
				errlist_add(errs, "%s:%d: peer \"%s\": the "
				    "socket of link service \"%s\", %s, is "
				    "%zu bytes long; a unix socket's path "
				    "has at most %zu", p->file, p->line,
				    p->name, te->name, path, strlen(path),
				    sizeof(sun.sun_path) - 1);
			free(path);
		}
	}
	return errs->n == before ? 0 : -1;
}

/*
 * One directory the master writes in (what exists of it and of its
 * parents), checked as OpenSSH's StrictModes and "postfix check" do:
 * each must be owned by root or by the master's user and not be writable
 * by group or others -- else someone else could swap a socket, the pid
 * file or a record for a symlink.  A sticky directory (/tmp) may be
 * world-writable as a parent: nobody can rename what they do not own in
 * it.  Symlinks on the way are resolved first, as sshd does.
 */
static void
check_dir(const struct config *cfg, const char *what, const char *dir,
    struct errlist *errs)
{
	struct stat	 st;
	char		*p, *real, *slash;
	uid_t		 me = geteuid();
	int		 leaf = 1;

	/* The nearest part of it that exists. */
	p = xstrdup(dir);
	while ((real = realpath(p, NULL)) == NULL && errno == ENOENT &&
	    (slash = strrchr(p, '/')) != NULL && slash != p) {
		*slash = '\0';
		leaf = 0;
	}
	free(p);
	if (real == NULL)
		return;		/* "/" missing, or no permission: mkdir says */
	for (;;) {
		if (stat(real, &st) == -1)
			break;
		if (!S_ISDIR(st.st_mode)) {
			errlist_add(errs, "%s: %s %s: %s is not a directory",
			    cfg->conf_file, what, dir, real);
			break;
		}
		if (st.st_uid != 0 && st.st_uid != me) {
			errlist_add(errs, "%s: %s %s: %s is owned by uid %ld, "
			    "not by root or the master's user (uid %ld): "
			    "refusing it", cfg->conf_file, what, dir, real,
			    (long)st.st_uid, (long)me);
			break;
		}
		if ((st.st_mode & 022) != 0 &&
		    (leaf || !(st.st_mode & S_ISVTX))) {
			errlist_add(errs, "%s: %s %s: %s is writable by %s "
			    "(mode %04o): refusing it (chmod go-w %s)",
			    cfg->conf_file, what, dir, real,
			    (st.st_mode & 022) == 022 ? "its group and others" :
			    (st.st_mode & 020) ? "its group" : "others",
			    (unsigned)(st.st_mode & 07777), real);
			break;
		}
		if (strcmp(real, "/") == 0)
			break;
		if ((slash = strrchr(real, '/')) == real)
			slash[1] = '\0';
		else
			*slash = '\0';
		leaf = 0;
	}
	free(real);
}

/* socket_dir, state_dir and the pid file's directory (check_dir). */
int
check_paths(const struct config *cfg, struct errlist *errs)
{
	size_t	 before = errs->n;
	char	*dir, *slash;

	check_dir(cfg, "socket_dir", cfg->socket_dir, errs);
	check_dir(cfg, "state_dir", cfg->state_dir, errs);
	dir = xstrdup(cfg->pid_file);
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		check_dir(cfg, "pid_file", dir, errs);
	}
	free(dir);
	return errs->n == before ? 0 : -1;
}

int
check_commands(const struct config *cfg, const struct table *t,
    struct errlist *errs)
{
	const struct tentry	*te;
	size_t			 before = errs->n;
	int			 unpriv = 0;

	TAILQ_FOREACH(te, &t->entries, entry) {
		check_command(cfg, t, te, errs);
		if (te->type == SVC_INET)
			check_inet(t, te, errs);
		unpriv |= te->unpriv;
	}
	(void)check_sections(cfg, t, errs);
	(void)check_links(cfg, t, errs);
	(void)check_paths(cfg, errs);
	(void)check_tls(cfg, errs);
	if (unpriv && geteuid() == 0 && getpwnam(cfg->default_user) == NULL)
		errlist_add(errs, "%s: default_user \"%s\": no such user",
		    cfg->conf_file, cfg->default_user);
	return errs->n == before ? 0 : -1;
}
