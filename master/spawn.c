/*
 * spawn.c: start one child of a unit, with exactly the contract's fds.
 *
 * The master prepares everything (fds, the environment built from nothing,
 * the user and groups to run as), then vforks; the child only makes
 * syscalls: it lays out its fds (0 /dev/null, 1-2 output pipes, 3..
 * listen sockets, then its status channel), closes everything else,
 * resets signals, leaves our session, drops privileges if asked, and
 * execs.  Anything that fails there is left in spawn_err for the master,
 * which logs it as an error under the service's ident and names it when
 * it reaps the child (exit 127) and throttles the service for it.
 * A failure to prepare or to vfork is a bad startup too.
 */
#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"
#include "master.h"

int
child_cmp(struct child *a, struct child *b)
{
	return a->pid < b->pid ? -1 : a->pid > b->pid;
}

RB_GENERATE(child_tree, child, by_pid, child_cmp)

struct child *
child_find(pid_t pid)
{
	struct child	 key;

	key.pid = pid;
	return RB_FIND(child_tree, &M->children, &key);
}

/*
 * Everything the child needs, made ready by the master before vfork():
 * the child shares the master's memory until it execs, so it must not
 * allocate, log or change anything but its own stack.  Only syscalls.
 */
struct spawn_plan {
	int		 src[MAX_LISTEN + 5];	/* fds, in contract order */
	int		 n;
	char		**envp;
	char		*pidslot;		/* "LISTEN_PID=" + digits */
	int		 do_chroot;
	int		 do_user;
	uid_t		 uid;
	gid_t		 gid;
	gid_t		*groups;
	int		 ngroups;
	int		 cg_fd;			/* cgroup.procs to join, or -1 */
};

/*
 * Why the last child could not set itself up, written by that child.  A
 * vfork child shares our memory and we are suspended until it execs or
 * exits, so when vfork() returns this is final: the reason reaches us
 * whatever state its fds are in (fd exhaustion, a failed dup2 before its
 * stderr is the pipe), and costs nothing on a good spawn.  glibc's
 * posix_spawn passes its child's errno back the same way.
 */
static char	 spawn_err[512];
/*
 * An inetd child may be forked (see spawn_child): it does not share
 * spawn_err with the master, so it says it on its stderr pipe instead,
 * which the master logs under the service's name.
 */
static int	 spawn_by_fork;

/* Child side: say why we cannot go on, then exit 127. */
static __dead void
spawn_die(const char *what, const char *arg)
{
	const char	*e = strerrordesc_np(errno);

	strlcpy(spawn_err, what, sizeof(spawn_err));
	if (arg != NULL) {
		strlcat(spawn_err, " ", sizeof(spawn_err));
		strlcat(spawn_err, arg, sizeof(spawn_err));
	}
	strlcat(spawn_err, ": ", sizeof(spawn_err));
	strlcat(spawn_err, e != NULL ? e : "unknown error", sizeof(spawn_err));
	if (spawn_by_fork) {
		(void)write(STDERR_FILENO, spawn_err, strlen(spawn_err));
		(void)write(STDERR_FILENO, "\n", 1);
	}
	_exit(127);
}

/*
 * Move the contract's fds into place.  Every source is first copied above
 * the highest target, so that no dup2() can clobber a source still needed.
 */
static void
spawn_fds(const struct spawn_plan *sp)
{
	int	 fd[MAX_LISTEN + 5], i, top = sp->n;

	for (i = 0; i < sp->n; i++)
		if ((fd[i] = fcntl(sp->src[i], F_DUPFD_CLOEXEC, top)) == -1)
			spawn_die("dup", NULL);
	for (i = 0; i < sp->n; i++)
		if (dup2(fd[i], i) == -1)
			spawn_die("dup2", NULL);
	closefrom(top);
	/* Our ends of the output pipes and status channel block (F_SETFL
	 * touches only the status flags: 0 clears O_NONBLOCK). */
	if (fcntl(STDOUT_FILENO, F_SETFL, 0) == -1 ||
	    fcntl(STDERR_FILENO, F_SETFL, 0) == -1 ||
	    fcntl(sp->n - 1, F_SETFL, 0) == -1)
		spawn_die("fcntl", NULL);
}

static void
spawn_signals(void)
{
	/* Exactly the signals the master handles (master.c) or ignores. */
	static const int sigs[] = { SIGCHLD, SIGTERM, SIGINT, SIGHUP,
	    SIGUSR1, SIGPIPE };
	struct sigaction sa;
	sigset_t	 set;
	size_t		 i;

	/*
	 * Signals are blocked (spawn_child): put those handlers back to the
	 * default before unblocking, so a pending SIGTERM kills the child
	 * instead of running the master's handler.  Ignored signals would
	 * stay ignored across exec too (SIGPIPE).  (A vfork child has its
	 * own handler table: this does not touch the master's.)
	 */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		(void)sigaction(sigs[i], &sa, NULL);
	sigemptyset(&set);
	sigprocmask(SIG_SETMASK, &set, NULL);
}

static void
spawn_privileges(const struct spawn_plan *sp)
{
	if (sp->do_chroot) {
		if (chroot(M->cfg->chroot_dir) == -1)
			spawn_die("chroot", M->cfg->chroot_dir);
		if (chdir("/") == -1)
			spawn_die("chdir", "/");
	}
	if (!sp->do_user)
		return;
	if (setgroups(sp->ngroups, sp->groups) == -1)
		spawn_die("setgroups", M->cfg->default_user);
	if (setgid(sp->gid) == -1)
		spawn_die("setgid", M->cfg->default_user);
	if (setuid(sp->uid) == -1)
		spawn_die("setuid", M->cfg->default_user);
}

/* Decimal digits of v into buf, no allocation (async-signal-safe). */
static void
spawn_itoa(long v, char *buf)
{
	char	 tmp[24];
	int	 n = 0;

	do
		tmp[n++] = '0' + v % 10;
	while ((v /= 10) > 0);
	while (n > 0)
		*buf++ = tmp[--n];
	*buf = '\0';
}

static __dead void
spawn_exec(struct unit *u, struct spawn_plan *sp)
{
	char	 pid[24];
	int	 cg_errno = 0;

	spawn_signals();
	/*
	 * Into the service's cgroup first, before anything could fork.  The
	 * fd does not survive spawn_fds: say a failure once stderr is ours.
	 */
	if (sp->cg_fd != -1) {
		spawn_itoa((long)getpid(), pid);
		if (write(sp->cg_fd, pid, strlen(pid)) == -1)
			cg_errno = errno;
	}
	(void)setsid();
	spawn_fds(sp);
	if (cg_errno != 0) {
		errno = cg_errno;
		spawn_die("joining the cgroup of service", u->svc->te->name);
	}
	spawn_privileges(sp);
	/*
	 * Die with the master even if the program never reads its status
	 * channel.  Set after setuid, which clears it; a master that died
	 * before this point is caught by the getppid() test.
	 */
	(void)prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != M->pid)
		_exit(1);
	if (sp->pidslot != NULL)
		spawn_itoa((long)getpid(), sp->pidslot + strlen("LISTEN_PID="));
	execve(u->cmdpath, u->svc->te->argv, sp->envp);
	spawn_die("exec", u->cmdpath);
}

/* /dev/null, opened once: every child's stdin. */
static int
spawn_devnull(void)
{
	static int	 fd = -1;

	if (fd == -1)
		fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	return fd;
}

/* The user to run as, looked up here: the vfork child cannot do it. */
static int
spawn_user(struct spawn_plan *sp)
{
	struct passwd	*pw;
	int		 n = 16;

	if ((pw = getpwnam(M->cfg->default_user)) == NULL) {
		log_warnx("default_user \"%s\": no such user",
		    M->cfg->default_user);
		errno = ENOENT;
		return -1;
	}
	sp->uid = pw->pw_uid;
	sp->gid = pw->pw_gid;
	for (;;) {
		sp->groups = xreallocarray(sp->groups, n, sizeof(gid_t));
		sp->ngroups = n;
		if (getgrouplist(pw->pw_name, pw->pw_gid, sp->groups,
		    &sp->ngroups) != -1)
			break;
		n = sp->ngroups > n ? sp->ngroups : n * 2;
	}
	sp->do_user = 1;
	return 0;
}

static int
spawn_prepare(struct unit *u, struct spawn_plan *sp, int status_fd,
    int out_fd, int err_fd)
{
	const struct tentry	*te = u->svc->te;
	char			**e;
	int			 i, handoff = u->handoff_fd != -1;

	memset(sp, 0, sizeof(*sp));
	sp->cg_fd = -1;
	if (u->conn_fd != -1) {
		/* inetd mode: the connection is stdin and stdout; no more. */
		sp->src[sp->n++] = u->conn_fd;
		sp->src[sp->n++] = u->conn_fd;
		sp->src[sp->n++] = err_fd;
	} else {
		if ((sp->src[sp->n++] = spawn_devnull()) == -1)
			return -1;
		sp->src[sp->n++] = out_fd;
		sp->src[sp->n++] = err_fd;
		for (i = 0; i < u->nlisten; i++)
			sp->src[sp->n++] = u->listen_fd[i];
		if (handoff)
			sp->src[sp->n++] = u->handoff_fd;
		sp->src[sp->n++] = status_fd;
	}
	if (M->is_root && te->unpriv && spawn_user(sp) == -1)
		return -1;
	/*
	 * Give the output pipes to the child's user, so that it can reopen
	 * /dev/stdout and /dev/stderr (a pipe is 0600, its creator's).
	 */
	if (sp->do_user && (fchown(out_fd, sp->uid, sp->gid) == -1 ||
	    fchown(err_fd, sp->uid, sp->gid) == -1))
		return -1;
	sp->do_chroot = M->is_root && te->chroot;
	if ((sp->cg_fd = cgroup_join_fd(u->svc)) == -1 && errno != 0)
		return -1;
	if (u->conn_fd != -1)
		sp->envp = inetd_env(M->cfg, u);
	else
		sp->envp = env_build(M->cfg, u, sp->n - 1, M->generation, 0,
		    handoff);
	/* Room for the child to write its own pid in. */
	for (e = sp->envp; *e != NULL; e++)
		if (strncmp(*e, "LISTEN_PID=", 11) == 0) {
			free(*e);
			*e = sp->pidslot = xcalloc(1, 11 + 24);
			memcpy(*e, "LISTEN_PID=", 11);
		}
	return 0;
}

static void
spawn_plan_free(struct spawn_plan *sp)
{
	if (sp->envp != NULL)
		env_free(sp->envp);
	free(sp->groups);
}

static void
child_grace_cb(int fd, short ev, void *arg)
{
	struct child	*c = arg;

	child_started(c, "startup grace");
	if (c->stopping && !c->spoke)
		child_term(c);
}

/* Privileges are silently impossible without root: say so once. */
static void
spawn_warn_priv(struct unit *u)
{
	const struct tentry	*te = u->svc->te;

	if (M->is_root || u->warned_priv || (!te->unpriv && !te->chroot))
		return;
	u->warned_priv = 1;
	log_warnx("service %s: not running as root: ignoring unpriv and "
	    "chroot", u->name);
}

/* Close whichever of the three pairs were made. */
static void
spawn_close(int sp[2], int outp[2], int errp[2])
{
	int	*fds[] = { sp, outp, errp }, i, j;

	for (i = 0; i < 3; i++)
		for (j = 0; j < 2; j++)
			if (fds[i][j] != -1) {
				close(fds[i][j]);
				fds[i][j] = -1;
			}
}

struct child *
spawn_child(struct unit *u)
{
	const struct svcconf *sc;
	struct spawn_plan plan;
	struct child	*c;
	struct timeval	 tv;
	sigset_t	 all, saved;
	int		 sp[2], outp[2], errp[2];
	pid_t		 pid;

	spawn_warn_priv(u);
	/*
	 * Created non-blocking, as the master needs its ends; the child makes
	 * its own ends blocking again (spawn_fds).  Cheaper than fcntl on
	 * the master's side: the master's time is what spawning waits for.
	 */
	sp[0] = sp[1] = outp[0] = outp[1] = errp[0] = errp[1] = -1;
	/* inetd mode: the connection is stdout; no status channel either. */
	if (u->conn_fd == -1 && (socketpair(AF_UNIX, SOCK_SEQPACKET |
	    SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sp) == -1 ||
	    pipe2(outp, O_CLOEXEC | O_NONBLOCK) == -1)) {
		spawn_close(sp, outp, errp);
		goto fail;
	}
	if (pipe2(errp, O_CLOEXEC | O_NONBLOCK) == -1) {
		spawn_close(sp, outp, errp);
		goto fail;
	}
	if (spawn_prepare(u, &plan, sp[1], outp[1], errp[1]) == -1) {
		spawn_plan_free(&plan);
		spawn_close(sp, outp, errp);
		goto fail;
	}
	/*
	 * Block every signal across vfork: until the child has reset its
	 * handlers, a signal would run libevent's handler in the child, which
	 * writes to the signal socketpair it shares with the master -- and
	 * the master would act on a signal that was never sent to it.
	 * vfork, not fork: the master's page tables and fd table are not
	 * copied for a child that execs at once (15-25% faster spawning).
	 * Except in inetd mode when more connections wait (conn_fork):
	 * vfork would hold the master until each exec is done, one child
	 * runnable at a time; after fork it goes on to the next connection
	 * while the children exec side by side, each with its own share of
	 * a busy machine's CPU.
	 */
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &saved);
	spawn_err[0] = '\0';
	spawn_by_fork = u->conn_fd != -1 && u->conn_fork;
	pid = spawn_by_fork ? fork() : vfork();
	if (pid == 0)
		spawn_exec(u, &plan);
	sigprocmask(SIG_SETMASK, &saved, NULL);
	spawn_plan_free(&plan);
	if (pid == -1) {
		spawn_close(sp, outp, errp);
		goto fail;
	}
	if (sp[1] != -1)
		close(sp[1]);
	if (outp[1] != -1)
		close(outp[1]);
	close(errp[1]);
	if (u->handoff_fd != -1) {
		log_info("service %s: handing the link over to pid %d",
		    u->name, (int)pid);
		close(u->handoff_fd);
		u->handoff_fd = -1;
	}
	sc = svc_conf(u->svc);
	if (outp[0] != -1)
		(void)outlog_open(outp[0], sc->stdout_level, u->ident, pid);
	(void)outlog_open(errp[0], sc->stderr_level, u->ident, pid);

	c = xcalloc(1, sizeof(*c));
	c->pid = pid;
	c->unit = u;
	c->generation = M->generation;
	c->born = now_ms();
	c->status_fd = sp[0];
	if (sp[0] != -1) {
		c->status_ev = event_new(M->base, sp[0], EV_READ | EV_PERSIST,
		    status_read_cb, c);
		event_add(c->status_ev, NULL);
	}
	c->grace_ev = evtimer_new(M->base, child_grace_cb, c);
	tv.tv_sec = M->cfg->startup_grace / 1000;
	tv.tv_usec = (M->cfg->startup_grace % 1000) * 1000;
	evtimer_add(c->grace_ev, &tv);
	/*
	 * As Postfix: a new child counts as available until it says TAKEN;
	 * in inetd mode it is busy with its connection from the start.
	 */
	if (u->conn_fd == -1) {
		c->avail = 1;
		u->avail++;
	}
	u->total++;
	TAILQ_INSERT_TAIL(&u->children, c, entry);
	RB_INSERT(child_tree, &M->children, c);
	M->nchildren++;
	cgroup_spawned(c);
	if (spawn_err[0] != '\0') {
		/* It exited 127 already: say why, as the service. */
		c->setup_failed = 1;
		free(c->last_err);
		c->last_err = xstrdup(spawn_err);
		log_as(u->ident, pid, LOG_ERR, spawn_err, strlen(spawn_err));
	}
	if (!u->used) {
		u->used = 1;
		wakeup_arm(u);
	}
	log_debug("service %s: spawned pid %d", u->name, (int)pid);
	return c;
 fail:
	log_warn("service %s: cannot spawn %s", u->name, u->cmdpath);
	throttle_bad(u, "cannot spawn");
	return NULL;
}

void
child_started(struct child *c, const char *why)
{
	if (c->started)
		return;
	c->started = 1;
	evtimer_del(c->grace_ev);
	log_debug("service %s: pid %d started (%s)", c->unit->name,
	    (int)c->pid, why);
	throttle_reset(c->unit);
	master_startup_check();
}

/*
 * Ask a child to stop: end-of-file on its status channel.  From now on it
 * no longer counts against its unit's limit (it is draining), so that a
 * new generation can start beside it while it finishes its client.
 */
void
child_stop(struct child *c)
{
	struct unit	*u = c->unit;

	if (c->stopping)
		return;
	c->stopping = 1;
	/*
	 * Shut down only our writing side: the child reads end-of-file, and
	 * can still answer (a link helper hands its TCP link back here).
	 */
	if (c->status_fd != -1)
		(void)shutdown(c->status_fd, SHUT_WR);
	if (c->avail) {
		c->avail = 0;
		u->avail--;
	}
	u->total--;
	u->draining++;
}

static void
child_kill_cb(int fd, short ev, void *arg)
{
	struct child	*c = arg;

	log_warnx("process %s pid %d did not stop in time: killing it",
	    c->unit->cmdpath, (int)c->pid);
	child_signal(c, SIGKILL);
}

/*
 * Stop a child for good: ask, then SIGTERM it at once if it never spoke
 * the protocol (it cannot hear the request) or after term_ms, and SIGKILL
 * it after kill_ms.  kill_ms 0: no deadline (a reload lets a client
 * finish its session however long it takes).
 */
void
child_retire(struct child *c, long long kill_ms)
{
	struct timeval	 tv;

	child_stop(c);
	/*
	 * A started child that never spoke cannot hear the request: SIGTERM
	 * it.  One that has not started yet may still be a protocol child
	 * about to say READY: it gets the end-of-file, and the SIGTERM only
	 * when its startup grace ends in silence (child_grace_cb).
	 */
	if (c->started && !c->spoke)
		child_term(c);
	if (kill_ms <= 0 || c->kill_ev != NULL)
		return;
	c->kill_ev = evtimer_new(M->base, child_kill_cb, c);
	tv.tv_sec = kill_ms / 1000;
	tv.tv_usec = (kill_ms % 1000) * 1000;
	evtimer_add(c->kill_ev, &tv);
}

/* Signal the child's process group (it is a session leader), or the child
 * alone if it has not got that far yet. */
void
child_signal(struct child *c, int sig)
{
	if (kill(-c->pid, sig) == -1)
		(void)kill(c->pid, sig);
}

/*
 * The service's stop signal (stop_signal, SIGTERM by default): to the
 * whole process group, or with kill_mode mixed to the main process only,
 * which then stops its own children (gunicorn crashes when its workers
 * get the signal beside it).  The SIGKILL at the deadline always goes to
 * the whole group.
 */
void
child_term(struct child *c)
{
	const struct svcconf *sc = svc_conf(c->unit->svc);

	if (sc->kill_mode == KILL_MIXED)
		(void)kill(c->pid, sc->stop_signal);
	else
		child_signal(c, sc->stop_signal);
}

/* Forget a reaped child. */
void
child_free(struct child *c)
{
	struct unit	*u = c->unit;

	RB_REMOVE(child_tree, &M->children, c);
	TAILQ_REMOVE(&u->children, c, entry);
	if (c->stopping)
		u->draining--;
	else
		u->total--;
	if (c->avail)
		u->avail--;
	M->nchildren--;
	status_close(c);
	event_free(c->grace_ev);
	if (c->kill_ev != NULL)
		event_free(c->kill_ev);
	free(c->last_err);
	free(c);
}
