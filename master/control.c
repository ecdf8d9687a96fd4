/*
 * control.c: the master's control socket, socket_dir/master.ctl (0600).
 *
 * One request line per connection: "status", "retry [NAME]", "reload",
 * "stop", "abort".  The answer is a line with the command's exit code (0 or
 * 1) followed by the text to print; then the master closes.  "stop" and
 * "abort" get no answer at all: the connection stays open until the master
 * has removed its sockets and pid file and exits, so the client learns
 * "gone" from end-of-file without polling.  The peer must be root or the
 * master's own uid (getpeereid); anyone else is refused and logged.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "log.h"
#include "master.h"
#include "sock.h"

#define CTL_MAXARGS	64
#define CTL_PROGRESS	1000	/* ms: say what a stop waits for */

struct ctl_conn {
	TAILQ_ENTRY(ctl_conn)	 entry;
	struct bufferevent	*bev;
	int			 closing;	/* free once written */
	int			 waiting;	/* stop: until exit */
	char			**names;	/* stop NAME...: until gone */
	int			 nnames;
	long long		 kill_at;	/* now_ms() of the SIGKILL */
	struct event		*progress_ev;
};

static TAILQ_HEAD(, ctl_conn) ctl_conns = TAILQ_HEAD_INITIALIZER(ctl_conns);

static void
ctl_free(struct ctl_conn *cc)
{
	int	 i;

	TAILQ_REMOVE(&ctl_conns, cc, entry);
	bufferevent_free(cc->bev);
	if (cc->progress_ev != NULL)
		event_free(cc->progress_ev);
	for (i = 0; i < cc->nnames; i++)
		free(cc->names[i]);
	free(cc->names);
	free(cc);
}

/* NAME is a service ("echo", "link") or one of its units ("link/beta"). */
static int
ctl_match(const struct unit *u, const char *name)
{
	return strcmp(name, u->name) == 0 ||
	    strcmp(name, u->svc->te->name) == 0;
}

/* Every name must be a live service or unit: else say which, return 1. */
static int
ctl_names_known(struct evbuffer *out, int argc, char **argv)
{
	struct service	*s;
	struct unit	*u;
	int		 i, bad = 0;

	for (i = 0; i < argc; i++) {
		TAILQ_FOREACH(s, &M->services, entry)
			TAILQ_FOREACH(u, &s->units, entry)
				if (!u->retired && ctl_match(u, argv[i]))
					goto found;
		evbuffer_add_printf(out, "linkmaster: no such service: %s\n",
		    argv[i]);
		bad = 1;
 found:
		;
	}
	return bad;
}

static const char *
ctl_state(const struct unit *u)
{
	const struct child	*c;

	if (M->stopping)
		return "stopping";
	if (u->retired)
		return "removed";
	if (u->down)
		return u->total + u->draining > 0 ? "stopping" : "down";
	if (u->throttle.active)
		return "throttled";
	if (u->draining > 0)
		return "draining";
	if (u->svc->te->type == SVC_DAEMON && u->total < u->limit)
		return "starting";
	/* Until startup ends, a kill would count as a bad startup. */
	TAILQ_FOREACH(c, &u->children, entry)
		if (!c->started && !c->stopping)
			return "starting";
	return "up";
}

/* "2m13s": a duration as status prints it (whole seconds). */
static void
ctl_dur(long long ms, char *buf, size_t len)
{
	long long	 t = ms < 0 ? 0 : ms / 1000;

	if (t >= 86400)
		snprintf(buf, len, "%lldd%lldh", t / 86400, t % 86400 / 3600);
	else if (t >= 3600)
		snprintf(buf, len, "%lldh%lldm", t / 3600, t % 3600 / 60);
	else if (t >= 60)
		snprintf(buf, len, "%lldm%llds", t / 60, t % 60);
	else
		snprintf(buf, len, "%llds", t);
}

/* A unit counts as running unless the operator or a throttle holds it. */
static int
ctl_unit_ok(const struct unit *u)
{
	return !u->down && !u->throttle.active;
}

/* The oldest child's age: how long the unit has been running. */
static long long
ctl_uptime(const struct unit *u)
{
	const struct child	*c;
	long long		 born = 0;

	TAILQ_FOREACH(c, &u->children, entry)
		if (!c->stopping && (born == 0 || c->born < born))
			born = c->born;
	return born == 0 ? -1 : now_ms() - born;
}

static void
json_str(struct evbuffer *b, const char *s)
{
	const unsigned char	*p;

	if (s == NULL) {
		evbuffer_add_printf(b, "null");
		return;
	}
	evbuffer_add(b, "\"", 1);
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			evbuffer_add_printf(b, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			evbuffer_add_printf(b, "\\u%04x", *p);
		else
			evbuffer_add(b, p, 1);
	}
	evbuffer_add(b, "\"", 1);
}

static void
ctl_status_json(struct evbuffer *out, struct unit **units, size_t n)
{
	const struct unit	*u;
	const struct child	*c;
	size_t			 i;
	long long		 up, t = now_ms();
	int			 first;

	evbuffer_add_printf(out, "{\"master\": {\"pid\": %ld, \"version\": ",
	    (long)M->pid);
	json_str(out, PACKAGE_VERSION);
	evbuffer_add_printf(out, ", \"uptime\": %lld, \"config\": ",
	    (t - M->started) / 1000);
	json_str(out, M->cfg->confdir);
	evbuffer_add_printf(out, ", \"stopping\": %s},\n \"units\": [",
	    M->stopping ? "true" : "false");
	for (i = 0; i < n; i++) {
		u = units[i];
		evbuffer_add_printf(out, "%s\n  {\"name\": ", i ? "," : "");
		json_str(out, u->name);
		evbuffer_add_printf(out, ", \"service\": ");
		json_str(out, u->svc->te->name);
		evbuffer_add_printf(out, ", \"type\": ");
		json_str(out, svc_type_name(u->svc->te->type));
		evbuffer_add_printf(out, ", \"state\": ");
		json_str(out, ctl_state(u));
		evbuffer_add_printf(out, ", \"pids\": [");
		first = 1;
		TAILQ_FOREACH(c, &u->children, entry) {
			evbuffer_add_printf(out, "%s%ld", first ? "" : ", ",
			    (long)c->pid);
			first = 0;
		}
		up = ctl_uptime(u);
		if (up < 0)
			evbuffer_add_printf(out, "], \"uptime\": null");
		else
			evbuffer_add_printf(out, "], \"uptime\": %lld",
			    up / 1000);
		evbuffer_add_printf(out, ", \"busy\": %d, \"idle\": %d, "
		    "\"draining\": %d, \"limit\": %d, \"uses\": %lu, "
		    "\"restarts\": %lu, \"last_exit\": ", u->total - u->avail,
		    u->avail, u->draining, u->limit, u->uses, u->restarts);
		if (u->last_exit_at == 0)
			evbuffer_add_printf(out, "null");
		else {
			evbuffer_add_printf(out, "{\"how\": ");
			json_str(out, u->last_exit);
			evbuffer_add_printf(out, ", \"pid\": %ld, \"ago\": "
			    "%lld}", (long)u->last_exit_pid,
			    (t - u->last_exit_at) / 1000);
		}
		evbuffer_add_printf(out, ", \"throttle\": ");
		if (!u->throttle.active)
			evbuffer_add_printf(out, "null");
		else {
			evbuffer_add_printf(out, "{\"left\": %lld, \"cause\": ",
			    u->throttle.until > t ?
			    (u->throttle.until - t + 999) / 1000 : 0);
			json_str(out, u->throttle_cause);
			evbuffer_add_printf(out, "}");
		}
		evbuffer_add_printf(out, ", \"status\": ");
		json_str(out, u->status_text);
		evbuffer_add_printf(out, "}");
	}
	evbuffer_add_printf(out, "\n ]}\n");
}

/* status NAME...: everything about each unit, one labelled line each. */
static void
ctl_status_long(struct evbuffer *out, struct unit **units, size_t n)
{
	const struct unit	*u;
	const struct child	*c;
	size_t			 i;
	long long		 t = now_ms(), left;
	char			 d[32];

	for (i = 0; i < n; i++) {
		u = units[i];
		evbuffer_add_printf(out, "%s%s (%s): %s\n", i ? "\n" : "",
		    u->name, svc_type_name(u->svc->te->type), ctl_state(u));
		evbuffer_add_printf(out, "  command: %s\n", u->cmdpath);
		evbuffer_add_printf(out, "  processes: busy %d, idle %d, "
		    "draining %d, limit ", u->total - u->avail, u->avail,
		    u->draining);
		if (u->limit == 0)
			evbuffer_add_printf(out, "none\n");
		else
			evbuffer_add_printf(out, "%d\n", u->limit);
		evbuffer_add_printf(out, "  pids:");
		TAILQ_FOREACH(c, &u->children, entry) {
			ctl_dur(t - c->born, d, sizeof(d));
			evbuffer_add_printf(out, " %ld (up %s%s)",
			    (long)c->pid, d, c->stopping ? ", stopping" : "");
		}
		evbuffer_add_printf(out, "%s\n", TAILQ_EMPTY(&u->children) ?
		    " none" : "");
		evbuffer_add_printf(out, "  uses: %lu, restarts: %lu\n",
		    u->uses, u->restarts);
		if (u->last_exit_at == 0)
			evbuffer_add_printf(out, "  last exit: none\n");
		else {
			ctl_dur(t - u->last_exit_at, d, sizeof(d));
			evbuffer_add_printf(out, "  last exit: pid %ld, %s, "
			    "%s ago\n", (long)u->last_exit_pid, u->last_exit, d);
		}
		if (u->throttle.active) {
			left = u->throttle.until - t;
			ctl_dur(left > 0 ? left + 999 : 0, d, sizeof(d));
			evbuffer_add_printf(out, "  throttled: %s left, cause: "
			    "%s\n", d, u->throttle_cause ? u->throttle_cause :
			    "unknown");
		}
		if (u->status_text != NULL)
			evbuffer_add_printf(out, "  status: %s\n",
			    u->status_text);
	}
}

#define NCOL	10

/*
 * The table: one row per spawn unit, columns padded to their widest cell.
 * PROCS is busy/idle/limit, "+N" when N more are draining.
 */
static void
ctl_status_table(struct evbuffer *out, struct unit **units, size_t nrows)
{
	static const char *hdr[NCOL] = { "NAME", "TYPE", "STATE",
	    "BUSY/IDLE/MAX", "USES", "RESTARTS", "LAST-EXIT", "THROTTLE",
	    "UP", "STATUS" };
	const struct unit	 *u;
	char			***rows;
	size_t			  w[NCOL], i, j;
	long long		  left, up;
	char			  lim[16], thr[32], d[32];

	rows = xcalloc(nrows + 1, sizeof(*rows));
	for (i = 0; i < nrows; i++) {
		u = units[i];
		rows[i] = xcalloc(NCOL, sizeof(char *));
		if (u->limit == 0)
			strlcpy(lim, "-", sizeof(lim));
		else
			snprintf(lim, sizeof(lim), "%d", u->limit);
		strlcpy(thr, "-", sizeof(thr));
		if (u->throttle.active) {
			left = u->throttle.until - now_ms();
			snprintf(thr, sizeof(thr), "%llds",
			    left > 0 ? (left + 999) / 1000 : 0);
		}
		rows[i][0] = xstrdup(u->name);
		rows[i][1] = xstrdup(svc_type_name(u->svc->te->type));
		rows[i][2] = xstrdup(ctl_state(u));
		if (u->draining > 0)
			xasprintf(&rows[i][3], "%d/%d/%s+%d",
			    u->total - u->avail, u->avail, lim, u->draining);
		else
			xasprintf(&rows[i][3], "%d/%d/%s",
			    u->total - u->avail, u->avail, lim);
		xasprintf(&rows[i][4], "%lu", u->uses);
		xasprintf(&rows[i][5], "%lu", u->restarts);
		rows[i][6] = xstrdup(u->last_exit);
		rows[i][7] = xstrdup(thr);
		if ((up = ctl_uptime(u)) < 0)
			strlcpy(d, "-", sizeof(d));
		else
			ctl_dur(up, d, sizeof(d));
		rows[i][8] = xstrdup(d);
		rows[i][9] = xstrdup(u->status_text ? u->status_text : "-");
	}
	for (j = 0; j < NCOL; j++) {
		w[j] = strlen(hdr[j]);
		for (i = 0; i < nrows; i++)
			if (strlen(rows[i][j]) > w[j])
				w[j] = strlen(rows[i][j]);
	}
	for (i = 0; i <= nrows; i++) {
		for (j = 0; j < NCOL; j++) {
			const char *cell = i == 0 ? hdr[j] : rows[i - 1][j];

			if (j == NCOL - 1)
				evbuffer_add_printf(out, "%s\n", cell);
			else
				evbuffer_add_printf(out, "%-*s  ", (int)w[j],
				    cell);
		}
	}
	for (i = 0; i < nrows; i++) {
		for (j = 0; j < NCOL; j++)
			free(rows[i][j]);
		free(rows[i]);
	}
	free(rows);
}

/*
 * status [NAME...]: the master, then its units (those named, or all).
 * The exit code is LSB's: 0 all up, 3 one is down or throttled; an
 * unknown name is 4 ("unknown", as systemctl says it).
 */
static int
ctl_status(struct evbuffer *out, int argc, char **argv, int json)
{
	struct service_list *lists[2] = { &M->services, &M->retired };
	struct service	 *s;
	struct unit	 *u, **units = NULL;
	size_t		  n = 0;
	int		  k, a, rc = 0;
	char		  d[32];

	if (ctl_names_known(out, argc, argv))
		return 4;
	for (k = 0; k < 2; k++)
		TAILQ_FOREACH(s, lists[k], entry)
			TAILQ_FOREACH(u, &s->units, entry) {
				for (a = 0; a < argc; a++)
					if (!u->retired &&
					    ctl_match(u, argv[a]))
						break;
				if (argc > 0 && a == argc)
					continue;
				units = xreallocarray(units, n + 1,
				    sizeof(*units));
				units[n++] = u;
				if (!u->retired && !ctl_unit_ok(u))
					rc = 3;
			}
	if (M->stopping)
		rc = 3;
	if (json)
		ctl_status_json(out, units, n);
	else {
		ctl_dur(now_ms() - M->started, d, sizeof(d));
		evbuffer_add_printf(out, "master: pid %ld, version %s, up %s, "
		    "configuration %s%s\n", (long)M->pid, PACKAGE_VERSION, d,
		    M->cfg->confdir, M->stopping ? " (stopping)" : "");
		if (argc > 0)
			ctl_status_long(out, units, n);
		else
			ctl_status_table(out, units, n);
	}
	free(units);
	return rc;
}

static int
ctl_retry(struct evbuffer *out, const char *name)
{
	struct service	*s;
	struct unit	*u;
	int		 found = 0;

	TAILQ_FOREACH(s, &M->services, entry)
		TAILQ_FOREACH(u, &s->units, entry) {
			if (name != NULL && strcmp(name, u->name) != 0 &&
			    strcmp(name, s->te->name) != 0)
				continue;
			found = 1;
			throttle_reset(u);
			if (!u->throttle.active)
				continue;
			throttle_release(u);
			evbuffer_add_printf(out, "released %s\n", u->name);
		}
	if (name != NULL && !found) {
		evbuffer_add_printf(out, "no such service: %s\n", name);
		return 1;
	}
	return 0;
}

/* Release every throttle (SIGUSR1). */
void
control_retry_all(void)
{
	struct evbuffer	*b = evbuffer_new();

	(void)ctl_retry(b, NULL);
	evbuffer_free(b);
}

/* Do units of the stop request still have processes (NULL: any at all)? */
static int
ctl_busy(const struct ctl_conn *cc)
{
	struct service_list *lists[2] = { &M->services, &M->retired };
	struct service	*s;
	struct unit	*u;
	int		 i, k;

	for (k = 0; k < 2; k++)
		TAILQ_FOREACH(s, lists[k], entry)
			TAILQ_FOREACH(u, &s->units, entry)
				for (i = 0; i < cc->nnames; i++)
					if (ctl_match(u, cc->names[i]) &&
					    u->total + u->draining > 0)
						return 1;
	return 0;
}

/*
 * One second into a stop, say what it still waits for: the services and
 * their pids, and how long until they are killed.
 */
static void
ctl_progress_cb(int fd, short ev, void *arg)
{
	struct service_list *lists[2] = { &M->services, &M->retired };
	struct ctl_conn	*cc = arg;
	struct evbuffer	*b = evbuffer_new();
	struct service	*s;
	struct unit	*u;
	struct child	*c;
	long long	 left;
	char		 when[32];
	int		 i, k, n = 0, want;

	for (k = 0; k < 2; k++)
		TAILQ_FOREACH(s, lists[k], entry)
			TAILQ_FOREACH(u, &s->units, entry) {
				want = cc->nnames == 0;
				for (i = 0; i < cc->nnames; i++)
					want |= ctl_match(u, cc->names[i]);
				if (!want || TAILQ_EMPTY(&u->children))
					continue;
				evbuffer_add_printf(b, "%s%s (pid", n ? ", " :
				    "", u->name);
				TAILQ_FOREACH(c, &u->children, entry) {
					evbuffer_add_printf(b, " %d",
					    (int)c->pid);
					n++;
				}
				evbuffer_add_printf(b, ")");
			}
	if (n > 0) {
		left = cc->kill_at - now_ms();
		fmt_duration(left > 0 ? left : 0, when, sizeof(when));
		evbuffer_add_printf(bufferevent_get_output(cc->bev),
		    "~waiting for %d process%s: %.*s; killing %s in %s\n", n,
		    n == 1 ? "" : "es", (int)evbuffer_get_length(b),
		    (char *)evbuffer_pullup(b, -1), n == 1 ? "it" : "them",
		    when);
	}
	evbuffer_free(b);
}

static void
ctl_wait(struct ctl_conn *cc, int argc, char **argv)
{
	struct timeval	 tv;
	int		 i;

	cc->names = xcalloc(argc + 1, sizeof(char *));
	for (i = 0; i < argc; i++)
		cc->names[i] = xstrdup(argv[i]);
	cc->nnames = argc;
	cc->kill_at = now_ms() + M->cfg->stop_timeout;
	cc->progress_ev = evtimer_new(M->base, ctl_progress_cb, cc);
	evtimer_add(cc->progress_ev, ms_timeval(CTL_PROGRESS, &tv));
}

/*
 * Stop a unit and keep it down: it spawns nothing (avail.c), its wakeup
 * is off, its children are asked to stop and killed after stop_timeout.
 * Its listen sockets stay open, so that start cannot fail to bind:
 * clients wait in the backlog, as when it is throttled.  A link helper
 * does not hand its link over: nobody would take it.
 */
static void
ctl_unit_stop(struct unit *u)
{
	struct child	*c, *next;

	u->down = 1;
	wakeup_clear(u);
	throttle_clear(u);
	if (u->handoff_fd != -1) {
		close(u->handoff_fd);
		u->handoff_fd = -1;
	}
	for (c = TAILQ_FIRST(&u->children); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		c->no_handoff = 1;
		child_retire(c, M->cfg->stop_timeout);
	}
	avail_update(u);
}

/* Start a unit (restart: its current children stop first, bounded). */
static void
ctl_unit_start(struct unit *u, int restart)
{
	struct child	*c, *next;

	if (restart)
		for (c = TAILQ_FIRST(&u->children); c != NULL; c = next) {
			next = TAILQ_NEXT(c, entry);
			child_retire(c, M->cfg->stop_timeout);
		}
	u->down = 0;
	throttle_clear(u);
	avail_update(u);
	wakeup_arm(u);
}

/* start, stop, restart NAME...: everything named, or nothing at all. */
static int
ctl_units(struct ctl_conn *cc, struct evbuffer *out, const char *cmd,
    int argc, char **argv)
{
	struct service	*s;
	struct unit	*u;
	int		 i, stop = cmd[2] == 'o', restart = cmd[0] == 'r';

	if (ctl_names_known(out, argc, argv))
		return 1;
	for (i = 0; i < argc; i++) {
		log_info("%s %s requested by control client", cmd, argv[i]);
		TAILQ_FOREACH(s, &M->services, entry) {
			if (strcmp(argv[i], s->te->name) == 0)
				s->down = stop;
			TAILQ_FOREACH(u, &s->units, entry) {
				if (u->retired || !ctl_match(u, argv[i]))
					continue;
				if (stop)
					ctl_unit_stop(u);
				else
					ctl_unit_start(u, restart);
			}
		}
	}
	if (stop) {
		ctl_wait(cc, argc, argv);
		return -1;
	}
	for (i = 0; i < argc; i++)
		evbuffer_add_printf(out, "%s %s\n", restart ? "restarted" :
		    "started", argv[i]);
	return 0;
}

/* Answer (rc, then the text) and close once it is written. */
static void
ctl_answer(struct ctl_conn *cc, int rc, struct evbuffer *body)
{
	evbuffer_add_printf(bufferevent_get_output(cc->bev), "%d\n", rc);
	bufferevent_write_buffer(cc->bev, body);
	cc->closing = 1;
	bufferevent_disable(cc->bev, EV_READ);
}

/* A child was reaped: answer the stop requests that waited for it. */
void
control_reaped(void)
{
	struct ctl_conn	*cc;
	struct evbuffer	*body;
	int		 i;

	TAILQ_FOREACH(cc, &ctl_conns, entry) {
		if (cc->nnames == 0 || cc->closing || ctl_busy(cc))
			continue;
		body = evbuffer_new();
		for (i = 0; i < cc->nnames; i++)
			evbuffer_add_printf(body, "stopped %s\n",
			    cc->names[i]);
		ctl_answer(cc, 0, body);
		evbuffer_free(body);
	}
}

static void
ctl_request(struct ctl_conn *cc, char *line)
{
	struct evbuffer	*body = evbuffer_new();
	char		*argv[CTL_MAXARGS + 1], *cmd, *last;
	int		 argc = 0, rc = 0;

	cmd = strtok_r(line, " \t", &last);
	if (cmd == NULL)
		cmd = "";
	while (argc < CTL_MAXARGS &&
	    (argv[argc] = strtok_r(NULL, " \t", &last)) != NULL)
		argc++;
	argv[argc] = NULL;
	if (strcmp(cmd, "status") == 0 || strcmp(cmd, "status-json") == 0)
		rc = ctl_status(body, argc, argv, cmd[6] != '\0');
	else if (strcmp(cmd, "retry") == 0)
		rc = ctl_retry(body, argv[0]);
	else if (strcmp(cmd, "reload") == 0)
		rc = reload_run(body);
	else if (strcmp(cmd, "start") == 0 || strcmp(cmd, "restart") == 0 ||
	    (strcmp(cmd, "stop") == 0 && argc > 0)) {
		if (M->stopping) {
			evbuffer_add_printf(body, "linkmaster: the master is "
			    "stopping\n");
			rc = 1;
		} else
			rc = ctl_units(cc, body, cmd, argc, argv);
		if (rc == -1) {
			/* Answered by control_reaped(), maybe at once. */
			evbuffer_free(body);
			bufferevent_disable(cc->bev, EV_READ);
			control_reaped();
			return;
		}
	} else if (strcmp(cmd, "stop") == 0 || strcmp(cmd, "abort") == 0) {
		cc->waiting = 1;
		bufferevent_disable(cc->bev, EV_READ);
		evbuffer_free(body);
		log_info("%s requested by control client", cmd);
		if (cmd[0] == 's' && !M->stopping)
			ctl_wait(cc, 0, NULL);
		master_stop(0, cmd[0] == 'a');
		return;
	} else {
		evbuffer_add_printf(body, "unknown request: %s\n", cmd);
		rc = 1;
	}
	ctl_answer(cc, rc, body);
	evbuffer_free(body);
}

static void
ctl_read_cb(struct bufferevent *bev, void *arg)
{
	struct ctl_conn	*cc = arg;
	char		*line;
	size_t		 n;

	if (cc->closing || cc->waiting)
		return;
	line = evbuffer_readln(bufferevent_get_input(bev), &n,
	    EVBUFFER_EOL_CRLF);
	if (line == NULL) {
		if (evbuffer_get_length(bufferevent_get_input(bev)) >
		    CTL_REQUEST_MAX)
			ctl_free(cc);
		return;
	}
	ctl_request(cc, line);
	free(line);
}

static void
ctl_write_cb(struct bufferevent *bev, void *arg)
{
	struct ctl_conn	*cc = arg;

	if (cc->closing)
		ctl_free(cc);
}

static void
ctl_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct ctl_conn	*cc = arg;

	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT))
		ctl_free(cc);
}

static void
ctl_accept_cb(int lfd, short ev, void *arg)
{
	struct ctl_conn	*cc;
	struct timeval	 tv = { 30, 0 };
	uid_t		 uid;
	gid_t		 gid;
	int		 fd;

	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd == -1) {
		if (errno != EAGAIN && errno != ECONNABORTED)
			log_warn("control: accept");
		return;
	}
	if (getpeereid(fd, &uid, &gid) == -1 ||
	    (uid != 0 && uid != geteuid())) {
		log_warnx("control: refusing uid %ld", (long)uid);
		(void)send(fd, "1\npermission denied\n", 21,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		close(fd);
		return;
	}
	cc = xcalloc(1, sizeof(*cc));
	cc->bev = bufferevent_socket_new(M->base, fd, BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(cc->bev, ctl_read_cb, ctl_write_cb, ctl_event_cb,
	    cc);
	bufferevent_set_timeouts(cc->bev, &tv, &tv);
	bufferevent_enable(cc->bev, EV_READ);
	TAILQ_INSERT_TAIL(&ctl_conns, cc, entry);
}

int
control_open(struct errlist *errs)
{
	char	 err[256];

	xasprintf(&M->ctl_path, "%s/master.ctl", M->cfg->socket_dir);
	M->ctl_fd = sock_unix_listen(M->ctl_path, SOCK_STREAM, 0600, err,
	    sizeof(err));
	if (M->ctl_fd == -1) {
		errlist_add(errs, "control socket: %s", err);
		return -1;
	}
	M->ctl_ev = event_new(M->base, M->ctl_fd, EV_READ | EV_PERSIST,
	    ctl_accept_cb, NULL);
	event_add(M->ctl_ev, NULL);
	return 0;
}

/* Stop listening; waiting stop clients are released last, by exit. */
void
control_close(void)
{
	struct ctl_conn	*cc;

	if (M->ctl_ev != NULL) {
		event_free(M->ctl_ev);
		M->ctl_ev = NULL;
		close(M->ctl_fd);
		(void)unlink(M->ctl_path);
	}
	while ((cc = TAILQ_FIRST(&ctl_conns)) != NULL)
		ctl_free(cc);
	free(M->ctl_path);
	M->ctl_path = NULL;
}
