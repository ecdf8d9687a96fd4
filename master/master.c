/*
 * master.c: the master daemon's life: start, run the event loop, stop.
 *
 * Start-up is all or nothing: directories, every listen socket and the
 * control socket are set up before the first child is spawned; any failure
 * is logged as fatal with the service and address it concerns, whatever
 * was created is removed again, and the master exits 1.  Once running it
 * only reacts to events (sockets, timers, signals); it never polls.
 * Stopping tells children through their status channels, sends what is
 * left its service's stop signal (SIGTERM) after a second, SIGKILLs what
 * is left after stop_timeout, then removes sockets and the pid file.
 */
#include <sys/types.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "master.h"

struct master	*M;

static struct event	*sig_ev[5];

/*
 * mkdir -p with a mode for the last component; fix the mode if it exists
 * (fixmode), and the owner when uid is not -1.  The last component is
 * changed through a descriptor opened with O_NOFOLLOW: a root master
 * must never chmod or chown what a symlink put there points to.
 */
static int
master_mkdir(const char *path, mode_t mode, int fixmode, uid_t uid,
    gid_t gid, struct errlist *errs)
{
	char		*p, *s;
	struct stat	 st;
	int		 fd;

	p = xstrdup(path);
	for (s = p + 1; *s != '\0'; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) == -1 && errno != EEXIST) {
			errlist_add(errs, "mkdir %s: %s", p, strerror(errno));
			free(p);
			return -1;
		}
		*s = '/';
	}
	free(p);
	if (mkdir(path, mode) == -1 && errno != EEXIST) {
		errlist_add(errs, "mkdir %s: %s", path, strerror(errno));
		return -1;
	}
	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1 || fstat(fd, &st) == -1) {
		errlist_add(errs, "%s: not a directory%s", path,
		    lstat(path, &st) == 0 && S_ISLNK(st.st_mode) ?
		    " (a symbolic link)" : "");
		if (fd != -1)
			close(fd);
		return -1;
	}
	if (fixmode && (st.st_mode & 07777) != mode && fchmod(fd, mode) == -1)
		errlist_add(errs, "chmod %s: %s", path, strerror(errno));
	if (uid != (uid_t)-1 && (st.st_uid != uid || st.st_gid != gid) &&
	    fchown(fd, uid, gid) == -1)
		errlist_add(errs, "chown %s: %s", path, strerror(errno));
	close(fd);
	return 0;
}

/*
 * socket_dir/private belongs to default_user when we are root, as
 * Postfix's private/ belongs to mail_owner: every unprivileged child runs
 * as that user and must reach private sockets (linkd to its backend).
 * Nobody else can.  So does state_dir/link, where link helpers keep
 * their queues; state_dir itself stays root's (the record of children).
 */
static void
master_dirs(struct errlist *errs)
{
	struct passwd	*pw;
	uid_t		 uid = (uid_t)-1;
	gid_t		 gid = (gid_t)-1;
	char		*p;

	if (M->is_root && (pw = getpwnam(M->cfg->default_user)) != NULL) {
		uid = pw->pw_uid;
		gid = pw->pw_gid;
	}
	(void)master_mkdir(M->cfg->socket_dir, 0755, 0, (uid_t)-1, (gid_t)-1,
	    errs);
	xasprintf(&p, "%s/private", M->cfg->socket_dir);
	(void)master_mkdir(p, 0700, 1, uid, gid, errs);
	free(p);
	xasprintf(&p, "%s/public", M->cfg->socket_dir);
	(void)master_mkdir(p, 0755, 1, (uid_t)-1, (gid_t)-1, errs);
	free(p);
	(void)master_mkdir(M->cfg->state_dir, 0755, 0, (uid_t)-1, (gid_t)-1,
	    errs);
	/* Link helpers keep their queues here (link.c), as default_user. */
	xasprintf(&p, "%s/link", M->cfg->state_dir);
	(void)master_mkdir(p, 0700, 0, uid, gid, errs);
	free(p);
}

/* Every child costs the master three fds: let it have all it may. */
static void
master_limits(void)
{
	struct rlimit	 rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static void
master_stop_term_cb(int fd, short ev, void *arg)
{
	struct child	*c;

	RB_FOREACH(c, child_tree, &M->children)
		child_term(c);
}

static void
master_stop_kill_cb(int fd, short ev, void *arg)
{
	struct child	*c;

	RB_FOREACH(c, child_tree, &M->children) {
		log_warnx("process %s pid %d did not stop in time: killing it",
		    c->unit->cmdpath, (int)c->pid);
		child_signal(c, SIGKILL);
	}
}

static void
master_timer(struct event **ev, event_callback_fn cb, long long ms)
{
	struct timeval	 tv;

	*ev = evtimer_new(M->base, cb, NULL);
	evtimer_add(*ev, ms_timeval(ms, &tv));
}

/*
 * Stop everything.  abort: SIGKILL at once.  A second request to stop while
 * stopping escalates to abort, so an impatient Ctrl-C always works.
 */
void
master_stop(int signo, int abort)
{
	struct service	*s;
	struct unit	*u;
	struct child	*c;
	long long	 term;

	if (M->stopping && (M->aborting || !abort))
		return;
	if (!M->stopping) {
		if (signo)
			log_info("terminating on signal %d", signo);
		M->stopping = signo ? signo : -1;
		notify_stopping();
		TAILQ_FOREACH(s, &M->services, entry)
			TAILQ_FOREACH(u, &s->units, entry) {
				svc_listen_close(u);
				wakeup_clear(u);
				throttle_clear(u);
			}
	}
	if (abort) {
		M->aborting = 1;
		RB_FOREACH(c, child_tree, &M->children) {
			child_stop(c);
			child_signal(c, SIGKILL);
		}
	} else {
		RB_FOREACH(c, child_tree, &M->children)
			child_stop(c);
		term = M->cfg->stop_timeout < STOP_TERM_DELAY ?
		    M->cfg->stop_timeout : STOP_TERM_DELAY;
		master_timer(&M->stop_term_ev, master_stop_term_cb, term);
		master_timer(&M->stop_kill_ev, master_stop_kill_cb,
		    M->cfg->stop_timeout);
	}
	if (M->nchildren == 0)
		event_base_loopbreak(M->base);
}

static void
master_signal_cb(int sig, short ev, void *arg)
{
	switch (sig) {
	case SIGCHLD:
		reap_children();
		break;
	case SIGTERM:
	case SIGINT:
		master_stop(sig, M->stopping != 0);
		break;
	case SIGHUP:
		log_info("reload requested by SIGHUP");
		(void)reload_run(NULL);
		break;
	case SIGUSR1:
		log_info("retry: releasing every throttle (SIGUSR1)");
		control_retry_all();
		break;
	}
}

static void
master_signals(void)
{
	static const int sigs[] = { SIGCHLD, SIGTERM, SIGINT, SIGHUP,
	    SIGUSR1 };
	size_t	 i;

	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		sig_ev[i] = evsignal_new(M->base, sigs[i], master_signal_cb,
		    NULL);
		evsignal_add(sig_ev[i], NULL);
	}
}

/*
 * The log queue (libutil/log.c): lines syslog could not take at once go
 * out when its socket is writable, so that a slow syslog never makes the
 * master deaf.
 */
static struct event	*log_ev;

static void
master_log_cb(int fd, short ev, void *arg)
{
	if (log_queue_flush() && log_ev != NULL)
		event_add(log_ev, NULL);
}

/* The queue became non-empty, or the socket changed. */
static void
master_log_wake(void)
{
	if (M == NULL || M->base == NULL)
		return;
	if (log_ev != NULL)
		event_free(log_ev);
	log_ev = NULL;
	if (log_queue_fd() == -1)
		return;
	if ((log_ev = event_new(M->base, log_queue_fd(), EV_WRITE,
	    master_log_cb, NULL)) != NULL)
		event_add(log_ev, NULL);
}

/* Tear down in an order that lets "linkmaster stop" trust end-of-file. */
static void
master_cleanup(void)
{
	struct service	*s;
	size_t		 i;

	while ((s = TAILQ_FIRST(&M->services)) != NULL) {
		TAILQ_REMOVE(&M->services, s, entry);
		svc_free(s);
	}
	while ((s = TAILQ_FIRST(&M->retired)) != NULL) {
		TAILQ_REMOVE(&M->retired, s, entry);
		svc_free(s);
	}
	if (M->pfh != NULL)
		pidf_remove(M->pfh);
	M->pfh = NULL;
	outlog_shutdown();
	/*
	 * Last words go out before the control socket closes: "linkmaster
	 * stop" takes its end-of-file for the master gone.
	 */
	log_queue_drain(1000);
	control_close();
	notify_close();
	for (i = 0; i < sizeof(sig_ev) / sizeof(sig_ev[0]); i++)
		if (sig_ev[i] != NULL)
			event_free(sig_ev[i]);
	if (M->stop_term_ev != NULL)
		event_free(M->stop_term_ev);
	if (M->stop_kill_ev != NULL)
		event_free(M->stop_kill_ev);
	if (log_ev != NULL)
		event_free(log_ev);
	log_ev = NULL;
	event_base_free(M->base);
	M->base = NULL;
	/* Reload may have replaced the configuration: it is ours to free. */
	config_free(M->cfg);
	free(M);
	M = NULL;
}

/*
 * Sockets bound, control socket open: from now on the log is the only
 * voice of a background master (what it logs is no longer copied to the
 * start command), but start still waits for its verdict on the pipe.
 */
static void
master_serving(void)
{
	if (M->ready_fd != -1 && !M->foreground)
		log_set_stderr(0);
}

/*
 * "linkmaster start" waits until every daemon and link unit has its first
 * children started (a READY, or startup_grace passed) or has failed
 * (throttled); then it gets one line per failure with its cause, and
 * "ready N" with their number.  Called whenever a child starts or exits.
 */
void
master_startup_check(void)
{
	struct service	*s;
	struct unit	*u;
	struct child	*c;
	int		 fd, nfail = 0;

	if (M == NULL || M->ready_fd == -1)
		return;
	TAILQ_FOREACH(s, &M->services, entry)
		TAILQ_FOREACH(u, &s->units, entry) {
			if ((s->te->type != SVC_DAEMON &&
			    s->te->type != SVC_LINK) || u->throttle.active ||
			    u->down)
				continue;
			if (u->total < u->limit)
				return;
			TAILQ_FOREACH(c, &u->children, entry)
				if (!c->started && !c->stopping)
					return;
		}
	TAILQ_FOREACH(s, &M->services, entry)
		TAILQ_FOREACH(u, &s->units, entry)
			if (u->throttle.active) {
				dprintf(M->ready_fd, "linkmaster: service %s "
				    "failed: %s\n", u->name, u->throttle_cause ?
				    u->throttle_cause : "bad startup");
				nfail++;
			}
	dprintf(M->ready_fd, "ready %d\n", nfail);
	close(M->ready_fd);
	M->ready_fd = -1;
	if (!M->foreground) {
		log_set_stderr(0);
		if ((fd = open("/dev/null", O_RDWR)) != -1) {
			(void)dup2(fd, STDERR_FILENO);
			close(fd);
		}
	}
}

int
master_run(struct config *cfg, struct table *t, struct lm_pidfile *pfh,
    int ready_fd, int foreground)
{
	struct errlist	 errs;
	struct service	*s;
	struct unit	*u;
	char		*ident;
	size_t		 i;

	M = xcalloc(1, sizeof(*M));
	M->cfg = cfg;
	M->pfh = pfh;
	M->pid = getpid();
	M->started = now_ms();
	M->is_root = geteuid() == 0;
	M->generation = 1;
	M->ctl_fd = -1;
	M->ready_fd = ready_fd;
	M->foreground = foreground;
	TAILQ_INIT(&M->services);
	TAILQ_INIT(&M->retired);
	RB_INIT(&M->children);
	xasprintf(&ident, "%s/master", cfg->syslog_name);
	log_init(ident, cfg->syslog_facility, cfg->syslog_socket, 1);
	free(ident);
	if (cfg->log_file != NULL && log_set_file(cfg->log_file, 0) == -1) {
		fprintf(stderr, "linkmaster: log_file %s: %s\n", cfg->log_file,
		    strerror(errno));
		pidf_remove(pfh);
		free(M);
		M = NULL;
		return 1;
	}
	master_limits();
	notify_init();
	if (chdir("/") == -1)
		fatal("chdir /");
	if ((M->base = event_base_new()) == NULL)
		fatalx("cannot create the event loop");
	log_queue_init(LOG_QUEUE_LINES, master_log_wake);

	errlist_init(&errs);
	(void)check_sections(cfg, t, &errs);
	(void)check_links(cfg, t, &errs);
	(void)check_paths(cfg, &errs);
	if (errs.n == 0)
		master_dirs(&errs);
	/* Before anything binds: what a killed master left holds sockets. */
	if (errs.n == 0)
		cgroup_init();
	if (errs.n == 0 && svc_create_all(t, &errs) == 0) {
		TAILQ_FOREACH(s, &M->services, entry)
			TAILQ_FOREACH(u, &s->units, entry)
				(void)svc_listen_open(cfg, u, &errs);
		(void)control_open(&errs);
	}
	if (errs.n > 0) {
		for (i = 0; i < errs.n; i++)
			log_as(log_ident(), M->pid, LOG_CRIT, errs.msg[i],
			    strlen(errs.msg[i]));
		errlist_free(&errs);
		cgroup_stop();
		master_cleanup();
		return 1;
	}
	if (pidf_write(pfh) == -1)
		log_warn("cannot write pid file %s", cfg->pid_file);
	master_signals();
	log_info("daemon started -- version %s, configuration %s",
	    PACKAGE_VERSION, cfg->confdir);
	master_serving();
	TAILQ_FOREACH(s, &M->services, entry)
		TAILQ_FOREACH(u, &s->units, entry) {
			avail_update(u);
			wakeup_arm(u);
		}
	notify_ready();
	master_startup_check();
	event_base_dispatch(M->base);
	cgroup_stop();
	log_info("stopped");
	master_cleanup();
	return 0;
}
