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

#define CTL_LINE_MAX	1024

struct ctl_conn {
	TAILQ_ENTRY(ctl_conn)	 entry;
	struct bufferevent	*bev;
	int			 closing;	/* free once written */
	int			 waiting;	/* stop: until exit */
};

static TAILQ_HEAD(, ctl_conn) ctl_conns = TAILQ_HEAD_INITIALIZER(ctl_conns);

static void
ctl_free(struct ctl_conn *cc)
{
	TAILQ_REMOVE(&ctl_conns, cc, entry);
	bufferevent_free(cc->bev);
	free(cc);
}

static const char *
ctl_state(const struct unit *u)
{
	const struct child	*c;

	if (M->stopping)
		return "stopping";
	if (u->retired)
		return "removed";
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

#define NCOL	9

/* One row per spawn unit, columns padded to their widest cell. */
static void
ctl_status(struct evbuffer *out)
{
	struct service_list *lists[2] = { &M->services, &M->retired };
	static const char *hdr[NCOL] = { "NAME", "TYPE", "STATE", "PROCS",
	    "USES", "RESTARTS", "LAST-EXIT", "THROTTLE", "STATUS" };
	struct service	 *s;
	struct unit	 *u;
	char		***rows = NULL;
	size_t		  w[NCOL], nrows = 0, i, j, k;
	long long	  left;
	char		  lim[16], thr[32];

	for (k = 0; k < 2; k++)
	TAILQ_FOREACH(s, lists[k], entry)
		TAILQ_FOREACH(u, &s->units, entry) {
			rows = xreallocarray(rows, nrows + 1, sizeof(*rows));
			rows[nrows] = xcalloc(NCOL, sizeof(char *));
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
			rows[nrows][0] = xstrdup(u->name);
			rows[nrows][1] = xstrdup(svc_type_name(s->te->type));
			rows[nrows][2] = xstrdup(ctl_state(u));
			if (u->draining > 0)
				xasprintf(&rows[nrows][3], "%d/%d/%s+%d",
				    u->total - u->avail, u->avail, lim,
				    u->draining);
			else
				xasprintf(&rows[nrows][3], "%d/%d/%s",
				    u->total - u->avail, u->avail, lim);
			xasprintf(&rows[nrows][4], "%lu", u->uses);
			xasprintf(&rows[nrows][5], "%lu", u->restarts);
			rows[nrows][6] = xstrdup(u->last_exit);
			rows[nrows][7] = xstrdup(thr);
			rows[nrows][8] = xstrdup(u->status_text ?
			    u->status_text : "-");
			nrows++;
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

static void
ctl_request(struct ctl_conn *cc, char *line)
{
	struct evbuffer	*body = evbuffer_new();
	char		*cmd, *arg;
	int		 rc = 0;

	cmd = strtok_r(line, " \t", &arg);
	arg = strtok_r(NULL, " \t", &arg);
	if (cmd == NULL)
		cmd = "";
	if (strcmp(cmd, "status") == 0)
		ctl_status(body);
	else if (strcmp(cmd, "retry") == 0)
		rc = ctl_retry(body, arg);
	else if (strcmp(cmd, "reload") == 0)
		rc = reload_run(body);
	else if (strcmp(cmd, "stop") == 0 || strcmp(cmd, "abort") == 0) {
		cc->waiting = 1;
		bufferevent_disable(cc->bev, EV_READ);
		evbuffer_free(body);
		log_info("%s requested by control client", cmd);
		master_stop(0, cmd[0] == 'a');
		return;
	} else {
		evbuffer_add_printf(body, "unknown request: %s\n", cmd);
		rc = 1;
	}
	evbuffer_add_printf(bufferevent_get_output(cc->bev), "%d\n", rc);
	bufferevent_write_buffer(cc->bev, body);
	evbuffer_free(body);
	cc->closing = 1;
	bufferevent_disable(cc->bev, EV_READ);
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
		    CTL_LINE_MAX)
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
