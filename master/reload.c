/*
 * reload.c: apply an edited configuration to the running master.
 *
 * Two phases.  Prepare: read and validate both files completely (syntax,
 * options that cannot change live, every command), then bind every socket
 * the new table needs that the master does not hold yet (a link service's
 * new peers included).  Any problem there rejects the whole reload: the
 * errors go to the log and to the client, everything prepared is undone,
 * and the running services never notice.  Commit: compare old and new
 * services by (name, type), field by field, and apply only the
 * differences:
 *	unchanged	untouched: same children, sockets, throttle
 *	limits		maxproc / wakeup applied in place; surplus children
 *			are asked to stop (idle ones now, busy ones when idle)
 *	restart		anything that shapes the child (command, args,
 *			unpriv, chroot, environment): current children are
 *			asked to stop and finish their clients; new ones
 *			start on the same sockets; the throttle is reset
 *	listen		the address changed: as restart, on the new sockets
 *	removed		sockets closed and removed, children stopped (SIGTERM,
 *			SIGKILL after stop_timeout)
 *	added		as at start-up
 * The commit cannot fail: everything that could was done in prepare.
 */
#include <sys/types.h>

#include <stddef.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "log.h"
#include "master.h"

enum reload_how {
	RL_SAME,
	RL_LIMITS,
	RL_RESTART,
	RL_LISTEN,
	RL_PEERS,	/* a link service: only its peer list changed */
	RL_ADDED,
	RL_REMOVED,
};

struct reload_item {
	enum reload_how	 how;
	struct service	*old;		/* NULL when added */
	struct tentry	*te;		/* new entry; NULL when removed */
	struct service	 tmpsvc;	/* holds te while sockets are bound */
	struct unit	 tmp;		/* pre-bound sockets */
	struct unit	*links;		/* a link service's new peers, bound */
	int		 nlinks;
};

struct reload_plan {
	struct config		*cfg;
	struct table		*table;
	struct reload_item	*items;
	size_t			 n;
	int			 count[RL_REMOVED + 1];
};

static int
str_eq(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") == 0;
}

/* Options the running master is built around: a restart is needed. */
static void
reload_fixed(const struct config *o, const struct config *n,
    struct errlist *errs)
{
	static const struct {
		const char	*name;
		size_t		 off;
	} fixed[] = {
		{ "socket_dir", offsetof(struct config, socket_dir) },
		{ "state_dir", offsetof(struct config, state_dir) },
		{ "pid_file", offsetof(struct config, pid_file) },
	};
	size_t	 i;

	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		if (!str_eq(*(char **)((char *)o + fixed[i].off),
		    *(char **)((char *)n + fixed[i].off)))
			errlist_add(errs, "%s: option \"%s\" cannot change "
			    "on reload (stop and start the master)",
			    n->conf_file, fixed[i].name);
}

static int
env_changed(const struct config *o, const struct config *n)
{
	int	 i;

	if (!str_eq(o->syslog_name, n->syslog_name) ||
	    !str_eq(o->syslog_facility, n->syslog_facility) ||
	    !str_eq(o->syslog_socket, n->syslog_socket) ||
	    !str_eq(o->log_file, n->log_file) ||
	    !str_eq(o->host_name, n->host_name) ||
	    o->nimport != n->nimport)
		return 1;
	for (i = 0; i < o->nimport; i++)
		if (!str_eq(o->import_environment[i],
		    n->import_environment[i]))
			return 1;
	return 0;
}

/* Does anything that shapes a child of this entry differ? */
static int
reload_shape_changed(const struct tentry *ot, const struct tentry *nt,
    const struct config *o, const struct config *n)
{
	char	*op, *np;
	int	 changed, i;

	if (ot->argc != nt->argc || ot->unpriv != nt->unpriv ||
	    ot->chroot != nt->chroot)
		return 1;
	for (i = 0; i < ot->argc; i++)
		if (strcmp(ot->argv[i], nt->argv[i]) != 0)
			return 1;
	if (env_changed(o, n))
		return 1;
	if (nt->unpriv && !str_eq(o->default_user, n->default_user))
		return 1;
	if (nt->chroot && !str_eq(o->chroot_dir, n->chroot_dir))
		return 1;
	op = svc_command_path(o, ot);
	np = svc_command_path(n, nt);
	changed = strcmp(op, np) != 0;
	free(op);
	free(np);
	return changed;
}

static int
reload_listen_changed(const struct tentry *ot, const struct tentry *nt,
    const struct config *o, const struct config *n)
{
	switch (nt->type) {
	case SVC_UNIX:
	case SVC_PASS:
	case SVC_UNIX_DGRAM:
	case SVC_FIFO:
	case SVC_LINK:		/* its sockets are under {private,public}/ */
		return ot->private != nt->private;
	case SVC_INET:
		/* A bare port listens on inet_interfaces. */
		return strchr(nt->name, ':') == NULL &&
		    !str_eq(o->inet_interfaces, n->inet_interfaces);
	default:
		return 0;
	}
}

static int
peer_eq(const struct peer *a, const struct peer *b)
{
	return strcmp(a->name, b->name) == 0 &&
	    strcmp(a->address, b->address) == 0 &&
	    strcmp(a->port, b->port) == 0;
}

/* The same fingerprints, in any order. */
static int
peer_pins_eq(const struct peer *a, const struct peer *b)
{
	int	 i, j;

	if (a->nfingerprints != b->nfingerprints)
		return 0;
	for (i = 0; i < a->nfingerprints; i++) {
		for (j = 0; j < b->nfingerprints; j++)
			if (strcmp(a->fingerprints[i], b->fingerprints[j]) == 0)
				break;
		if (j == b->nfingerprints)
			return 0;
	}
	return 1;
}

/*
 * May the helper of unit u keep its live link to p (of c)?  Not when the
 * link is to use TLS or not now, when it did not before, nor when a
 * fingerprint that may have let it in was taken out (or pins replaced
 * tls_ca, or the reverse).  Added fingerprints (the first step of a
 * peer's rotation) keep it, and so does a new key or certificate of this
 * host (tls_key, tls_cert, tls_ca): the helper uses them for its next
 * link (linktls.c), and the live one stays up.
 */
static int
peer_tls_keeps(const struct config *c, const struct peer *p,
    const struct peer *u)
{
	int	 i, j;

	if (config_peer_tls(c, p) != (u->tls == PEER_TLS_YES) ||
	    (p->nfingerprints == 0) != (u->nfingerprints == 0))
		return 0;
	for (i = 0; i < u->nfingerprints; i++) {
		for (j = 0; j < p->nfingerprints; j++)
			if (strcmp(u->fingerprints[i], p->fingerprints[j]) == 0)
				break;
		if (j == p->nfingerprints)
			return 0;
	}
	return 1;
}

static const struct peer *
peer_find(const struct config *cfg, const char *name)
{
	int	 i;

	for (i = 0; i < cfg->npeers; i++)
		if (strcmp(cfg->peers[i].name, name) == 0)
			return &cfg->peers[i];
	return NULL;
}

static int
peers_changed(const struct config *o, const struct config *n)
{
	const struct peer	*p;
	int			 i;

	if (o->npeers != n->npeers)
		return 1;
	for (i = 0; i < o->npeers; i++)
		if ((p = peer_find(n, o->peers[i].name)) == NULL ||
		    !peer_eq(p, &o->peers[i]) ||
		    config_peer_tls(o, &o->peers[i]) != config_peer_tls(n, p) ||
		    !peer_pins_eq(p, &o->peers[i]))
			return 1;
	return 0;
}

static enum reload_how
reload_classify(const struct service *old, const struct tentry *nt,
    const struct config *n)
{
	const struct tentry	*ot = old->te;
	const struct config	*o = M->cfg;

	if (reload_listen_changed(ot, nt, o, n))
		return RL_LISTEN;
	if (reload_shape_changed(ot, nt, o, n))
		return RL_RESTART;
	if (ot->maxproc != nt->maxproc || ot->wakeup != nt->wakeup ||
	    ot->wakeup_cond != nt->wakeup_cond ||
	    o->max_use != n->max_use || o->max_idle != n->max_idle)
		return RL_LIMITS;
	if (nt->type == SVC_LINK && peers_changed(o, n))
		return RL_PEERS;
	return RL_SAME;
}

static void
reload_plan_free(struct reload_plan *p)
{
	struct reload_item	*it;
	size_t			 i;
	int			 k;

	for (i = 0; i < p->n; i++) {
		it = &p->items[i];
		if (it->tmp.nlisten > 0)
			svc_listen_close(&it->tmp);
		/* Sockets not taken by the commit (or all, if rejected). */
		for (k = 0; k < it->nlinks; k++) {
			if (it->links[k].nlisten > 0)
				svc_listen_close(&it->links[k]);
			free(it->links[k].name);
		}
		free(it->links);
	}
	free(p->items);
	if (p->table != NULL)
		table_free(p->table);
	if (p->cfg != NULL)
		config_free(p->cfg);
}

static struct reload_item *
reload_item_add(struct reload_plan *p, enum reload_how how,
    struct service *old, struct tentry *te)
{
	struct reload_item	*it;

	p->items = xreallocarray(p->items, p->n + 1, sizeof(*p->items));
	it = &p->items[p->n++];
	memset(it, 0, sizeof(*it));
	it->how = how;
	it->old = old;
	it->te = te;
	p->count[how]++;
	return it;
}

/* Does the live link service s have a unit for peer name? */
static int
reload_link_has(const struct service *s, const char *name)
{
	const struct unit	*u;

	if (s == NULL)
		return 0;
	TAILQ_FOREACH(u, &s->units, entry)
		if (!u->retired && strcmp(u->peer.name, name) == 0)
			return 1;
	return 0;
}

/*
 * A link service's peers that have no unit yet get their sockets now,
 * like any other new listener: a bind that fails rejects the reload
 * instead of leaving a unit that can never start.
 */
static void
reload_bind_links(struct reload_plan *p, struct reload_item *it,
    struct errlist *errs)
{
	struct unit	*tmp;
	int		 i;

	it->links = xcalloc(p->cfg->npeers + 1, sizeof(*it->links));
	for (i = 0; i < p->cfg->npeers; i++) {
		/* A new address (private changed): every peer's socket. */
		if (it->how != RL_LISTEN &&
		    reload_link_has(it->old, p->cfg->peers[i].name))
			continue;
		tmp = &it->links[it->nlinks++];
		tmp->svc = &it->tmpsvc;
		tmp->peer.name = p->cfg->peers[i].name;
		xasprintf(&tmp->name, "%s/%s", it->te->name, tmp->peer.name);
		(void)svc_listen_open(p->cfg, tmp, errs);
	}
}

/* Bind what the new table needs and we do not hold yet. */
static void
reload_bind(struct reload_plan *p, struct errlist *errs)
{
	struct reload_item	*it;
	size_t			 i;

	for (i = 0; i < p->n; i++) {
		it = &p->items[i];
		if (it->how == RL_REMOVED)
			continue;
		it->tmpsvc.te = it->te;
		if (it->te->type == SVC_LINK) {
			reload_bind_links(p, it, errs);
			continue;
		}
		if (it->how != RL_ADDED && it->how != RL_LISTEN)
			continue;
		it->tmp.svc = &it->tmpsvc;
		it->tmp.name = it->te->name;
		(void)svc_listen_open(p->cfg, &it->tmp, errs);
	}
}

static int
reload_prepare(struct reload_plan *p, struct errlist *errs)
{
	struct table_defaults	 d;
	struct service		*s;
	struct tentry		*te;

	memset(p, 0, sizeof(*p));
	if ((p->cfg = config_load(M->cfg->confdir, errs)) == NULL)
		return -1;
	reload_fixed(M->cfg, p->cfg, errs);
	memset(&d, 0, sizeof(d));
	d.process_limit = p->cfg->default_process_limit;
	if ((p->table = table_parse_file(p->cfg->table_file, &d, errs)) ==
	    NULL)
		return -1;
	(void)check_commands(p->cfg, p->table, errs);
	if (errs->n > 0)
		return -1;
	TAILQ_FOREACH(te, &p->table->entries, entry) {
		s = svc_find(te->name, te->type);
		(void)reload_item_add(p, s == NULL ? RL_ADDED :
		    reload_classify(s, te, p->cfg), s, te);
	}
	TAILQ_FOREACH(s, &M->services, entry)
		if (table_find(p->table, s->te->name, s->te->type) == NULL)
			(void)reload_item_add(p, RL_REMOVED, s, NULL);
	reload_bind(p, errs);
	return errs->n > 0 ? -1 : 0;
}

/* Move pre-bound sockets into the live unit. */
static void
reload_take_sockets(struct unit *u, struct unit *tmp)
{
	int	 i;

	for (i = 0; i < tmp->nlisten; i++) {
		u->listen_fd[i] = tmp->listen_fd[i];
		u->listen_ev[i] = NULL;
	}
	u->nlisten = tmp->nlisten;
	u->listen_path = tmp->listen_path;
	tmp->nlisten = 0;
	tmp->listen_path = NULL;
}

static void
reload_retire_unit(struct unit *u, long long kill_ms, int restart)
{
	struct child	*c, *next;

	for (c = TAILQ_FIRST(&u->children); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		if (c->stopping)
			continue;
		/* A protocol child finishes its client, however long. */
		child_retire(c, restart && c->spoke ? 0 : kill_ms);
	}
}

/* A unit goes away: no socket now, children stopped, freed when reaped. */
static void
reload_unit_gone(struct unit *u)
{
	u->retired = 1;
	svc_listen_close(u);
	wakeup_clear(u);
	throttle_clear(u);
	reload_retire_unit(u, M->cfg->stop_timeout, 0);
	reload_reaped(u);
}

static void
reload_removed(struct service *s)
{
	struct unit	*u, *next;

	TAILQ_REMOVE(&M->services, s, entry);
	TAILQ_INSERT_TAIL(&M->retired, s, entry);
	for (u = TAILQ_FIRST(&s->units); u != NULL; u = next) {
		next = TAILQ_NEXT(u, entry);
		reload_unit_gone(u);
	}
	/* Set only now, so that the loop above cannot free s under us. */
	s->retired = 1;
	if (TAILQ_EMPTY(&s->units)) {
		TAILQ_REMOVE(&M->retired, s, entry);
		svc_free(s);
	}
}

/*
 * A link unit's socket bound in prepare, if there is one for its peer (a
 * peer being removed has none; its unit goes in reload_link_peers()).
 */
static int
reload_link_take(struct unit *u, struct reload_item *it)
{
	int	 k;

	for (k = 0; k < it->nlinks; k++)
		if (strcmp(it->links[k].peer.name, u->peer.name) == 0 &&
		    it->links[k].nlisten > 0) {
			reload_take_sockets(u, &it->links[k]);
			return 0;
		}
	return -1;
}

/* Give a link service's new peer its unit, on the socket bound in prepare. */
static void
reload_link_add(struct service *s, const struct peer *p,
    struct reload_item *it)
{
	struct unit	*u;

	u = svc_unit_new(s, s->te->name, p);
	if (reload_link_take(u, it) == -1)	/* prepare bound them all */
		log_warnx("reload: service %s: no socket bound", u->name);
	avail_update(u);
}

/*
 * A link service's peers after the configuration changed: a new peer
 * gets a unit, a removed one loses it, a peer with a new address gets a
 * fresh helper (a handed-over link would lead to the old address), and
 * so does one whose live link may no longer pass (peer_tls_keeps).  The
 * other peers' helpers are not touched.
 */
static void
reload_link_peers(struct service *s, struct reload_item *it)
{
	const struct peer	*p;
	struct unit		*u, *next;
	struct child		*c;
	int			 i;

	for (u = TAILQ_FIRST(&s->units); u != NULL; u = next) {
		next = TAILQ_NEXT(u, entry);
		if (u->retired)
			continue;
		if ((p = peer_find(M->cfg, u->peer.name)) == NULL) {
			reload_unit_gone(u);
			continue;
		}
		if (peer_eq(p, &u->peer) && peer_tls_keeps(M->cfg, p,
		    &u->peer)) {
			/* The pins to compare with next time. */
			svc_unit_peer_tls(u, M->cfg, p);
			continue;
		}
		/* Their link leads to the old address: no handoff. */
		TAILQ_FOREACH(c, &u->children, entry)
			c->no_handoff = 1;
		free(u->peer.address);
		free(u->peer.port);
		u->peer.address = xstrdup(p->address);
		u->peer.port = xstrdup(p->port);
		svc_unit_peer_tls(u, M->cfg, p);
		if (u->handoff_fd != -1)
			close(u->handoff_fd);
		u->handoff_fd = -1;
		throttle_clear(u);
		reload_retire_unit(u, M->cfg->stop_timeout, 0);
		avail_update(u);
	}
	for (i = 0; i < M->cfg->npeers; i++) {
		TAILQ_FOREACH(u, &s->units, entry)
			if (!u->retired &&
			    strcmp(u->peer.name, M->cfg->peers[i].name) == 0)
				break;
		if (u == NULL)
			reload_link_add(s, &M->cfg->peers[i], it);
	}
}

/* maxproc lowered: idle surplus goes now; busy surplus at its AVAIL. */
static void
reload_limits(struct unit *u)
{
	struct child	*c, *next;

	wakeup_clear(u);
	wakeup_arm(u);
	for (c = TAILQ_FIRST(&u->children); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		if (u->limit == 0 || u->total <= u->limit)
			break;
		if (c->stopping)
			continue;
		if (c->avail || u->svc->te->type == SVC_DAEMON)
			child_retire(c, M->cfg->stop_timeout);
	}
}

static void
reload_apply(struct reload_item *it)
{
	struct service	*s = it->old;
	struct unit	*u;

	switch (it->how) {
	case RL_SAME:
		return;
	case RL_REMOVED:
		reload_removed(s);
		return;
	case RL_ADDED:
		s = xcalloc(1, sizeof(*s));
		s->te = it->te;
		TAILQ_INIT(&s->units);
		TAILQ_INSERT_TAIL(&M->services, s, entry);
		if (s->te->type == SVC_LINK) {
			reload_link_peers(s, it);
			return;
		}
		u = svc_unit_new(s, s->te->name, NULL);
		reload_take_sockets(u, &it->tmp);
		avail_update(u);
		wakeup_arm(u);
		return;
	default:
		break;
	}
	/* The new entry replaces the old one in the live service. */
	tentry_free(s->te);
	s->te = it->te;
	TAILQ_FOREACH(u, &s->units, entry) {
		if (u->retired)
			continue;
		u->limit = s->te->maxproc;
		if (it->how == RL_LIMITS || it->how == RL_PEERS) {
			reload_limits(u);
			avail_update(u);
			continue;
		}
		free(u->ident);
		free(u->cmdpath);
		u->ident = svc_ident(M->cfg, s->te, u->name);
		u->cmdpath = svc_command_path(M->cfg, s->te);
		throttle_clear(u);
		wakeup_clear(u);
		/* A link helper drains, then hands its link over: bounded. */
		reload_retire_unit(u, M->cfg->stop_timeout,
		    s->te->type != SVC_LINK);
		if (it->how == RL_LISTEN) {
			svc_listen_close(u);
			if (s->te->type == SVC_LINK)
				reload_link_take(u, it);
			else
				reload_take_sockets(u, &it->tmp);
		}
		u->used = 0;
		avail_update(u);
		wakeup_arm(u);
	}
	if (s->te->type == SVC_LINK)
		reload_link_peers(s, it);
}

/* "LABEL: a, b" and then end (";" in the log line, "\n" for the client). */
static void
reload_names(struct reload_plan *p, enum reload_how how, const char *label,
    struct evbuffer *b, const char *end)
{
	size_t		 i;
	int		 first = 1;
	const char	*name;

	for (i = 0; i < p->n; i++) {
		if (p->items[i].how != how)
			continue;
		name = p->items[i].te ? p->items[i].te->name :
		    p->items[i].old->te->name;
		evbuffer_add_printf(b, "%s%s", first ? label : ", ", name);
		first = 0;
	}
	if (!first)
		evbuffer_add_printf(b, "%s", end);
}

static void
reload_report(struct reload_plan *p, struct evbuffer *out)
{
	struct evbuffer	*b = evbuffer_new();
	char		*line;
	size_t		 len;

	evbuffer_add_printf(b, "reload: %d added, %d changed, %d removed, "
	    "%d unchanged", p->count[RL_ADDED], p->count[RL_LIMITS] +
	    p->count[RL_RESTART] + p->count[RL_LISTEN] + p->count[RL_PEERS],
	    p->count[RL_REMOVED],
	    p->count[RL_SAME]);
	/* The client: the summary, then a line per kind of change. */
	if (out != NULL) {
		evbuffer_add_printf(out, "%.*s\n",
		    (int)evbuffer_get_length(b),
		    (char *)evbuffer_pullup(b, -1));
		reload_names(p, RL_ADDED, "added: ", out, "\n");
		reload_names(p, RL_RESTART, "restarted: ", out, "\n");
		reload_names(p, RL_LISTEN, "new address: ", out, "\n");
		reload_names(p, RL_LIMITS, "limits only: ", out, "\n");
		reload_names(p, RL_PEERS, "peers: ", out, "\n");
		reload_names(p, RL_REMOVED, "removed: ", out, "\n");
	}
	evbuffer_add_printf(b, " --");
	reload_names(p, RL_ADDED, " added: ", b, ";");
	reload_names(p, RL_RESTART, " restarted: ", b, ";");
	reload_names(p, RL_LISTEN, " new address: ", b, ";");
	reload_names(p, RL_LIMITS, " limits: ", b, ";");
	reload_names(p, RL_PEERS, " peers: ", b, ";");
	reload_names(p, RL_REMOVED, " removed: ", b, ";");
	len = evbuffer_get_length(b);
	line = (char *)evbuffer_pullup(b, -1);
	if (line[len - 1] == '-')
		len -= 3;
	else if (line[len - 1] == ';')
		len--;
	log_as(log_ident(), M->pid, LOG_INFO, line, len);
	evbuffer_free(b);
}

static void
reload_commit(struct reload_plan *p, struct evbuffer *out)
{
	struct config	*old = M->cfg;
	char		*ident;
	size_t		 i;

	M->cfg = p->cfg;
	p->cfg = NULL;
	M->generation++;
	if (env_changed(old, M->cfg)) {
		xasprintf(&ident, "%s/master", M->cfg->syslog_name);
		log_init(ident, M->cfg->syslog_facility,
		    M->cfg->syslog_socket, log_stderr_enabled());
		free(ident);
	}
	/* Reopened on every reload: "linkmaster reload" after a rotation. */
	if (log_set_file(M->cfg->log_file, 0) == -1)
		log_warn("reload: log_file %s: logging to syslog",
		    M->cfg->log_file);
	/* Entries move into services; the table keeps the rest. */
	for (i = 0; i < p->n; i++)
		if (p->items[i].te != NULL)
			TAILQ_REMOVE(&p->table->entries, p->items[i].te,
			    entry);
	for (i = 0; i < p->n; i++)
		if (p->items[i].how == RL_SAME)
			tentry_free(p->items[i].te);
	reload_report(p, out);
	/*
	 * Removals first: a renamed link service's new units must see the
	 * old ones as retired, and wait for them (the queue is the peer's).
	 */
	for (i = 0; i < p->n; i++)
		if (p->items[i].how == RL_REMOVED)
			reload_apply(&p->items[i]);
	for (i = 0; i < p->n; i++)
		if (p->items[i].how != RL_REMOVED)
			reload_apply(&p->items[i]);
	config_free(old);
}

/*
 * Give back what the reload's two tables left in the heap.  A reload that
 * changes every service holds the old and the new table at once; glibc
 * keeps the freed half below its top, so the master's RSS would stay up
 * by that much (650 kB with 1000 services) for no use.
 */
static void
reload_trim(void)
{
#ifdef __GLIBC__
	(void)malloc_trim(0);
#endif
}

/*
 * Reload; out (may be NULL) gets the client's text.  Returns the exit
 * code for the client: 0 applied, 1 rejected and nothing changed.
 */
int
reload_run(struct evbuffer *out)
{
	struct reload_plan	 p;
	struct errlist		 errs;
	size_t			 i;

	if (M->stopping) {
		if (out != NULL)
			evbuffer_add_printf(out, "reload: the master is "
			    "stopping\n");
		return 1;
	}
	errlist_init(&errs);
	notify_reloading();
	if (reload_prepare(&p, &errs) == -1) {
		for (i = 0; i < errs.n; i++) {
			log_warnx("reload: %s", errs.msg[i]);
			if (out != NULL)
				evbuffer_add_printf(out, "%s\n", errs.msg[i]);
		}
		log_warnx("reload rejected: %zu error%s -- nothing changed",
		    errs.n, errs.n == 1 ? "" : "s");
		if (out != NULL)
			evbuffer_add_printf(out, "reload rejected -- nothing "
			    "changed\n");
		errlist_free(&errs);
		reload_plan_free(&p);
		reload_trim();
		notify_ready();
		return 1;
	}
	errlist_free(&errs);
	reload_commit(&p, out);
	reload_plan_free(&p);
	reload_trim();
	notify_ready();
	return 0;
}

/*
 * A retired unit may have lost its last child: free it, and its service
 * too when that was removed and has no unit left.
 */
void
reload_reaped(struct unit *u)
{
	struct service	*s;
	struct unit	*v;

	if (u == NULL || !u->retired || u->total > 0 || u->draining > 0)
		return;
	s = u->svc;
	TAILQ_REMOVE(&s->units, u, entry);
	if ((v = svc_link_successor(u)) != NULL) {
		svc_unit_free(u);
		avail_update(v);
	} else
		svc_unit_free(u);
	if (s->retired && TAILQ_EMPTY(&s->units)) {
		TAILQ_REMOVE(&M->retired, s, entry);
		svc_free(s);
	}
}
