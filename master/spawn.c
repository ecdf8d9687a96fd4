/*
 * spawn.c: start one child of a unit, with exactly the contract's fds.
 *
 * The master prepares everything (fds, the environment built from nothing,
 * the user and groups to run as), then starts the child; the child only
 * makes syscalls: it lays out its fds (0 /dev/null, 1-2 output pipes, 3..
 * listen sockets, then its status channel), closes everything else,
 * resets signals, leaves our session, drops privileges if asked, and
 * execs.  In cgroup mode the child is created in its service's group by
 * clone3(CLONE_INTO_CGROUP): joining a group after fork (a write to
 * cgroup.procs) waits for an RCU grace period, 5-25 ms, which made every
 * restart that slow.  On x86_64 that clone3 is vfork's too (CLONE_VM |
 * CLONE_VFORK: the master's page tables are not copied for a child that
 * execs at once), the child on a stack of its own (spawn_clone3), when
 * it is started alone (spawn_alone); else, on other machines, under
 * ASan, or if the kernel refuses that, it is fork's.  Where the
 * kernel cannot clone3 into a group (before Linux 5.7), the master says
 * so once, vforks, and the child joins its group itself.
 * Without cgroups, vfork (or fork, for inetd connections that wait).
 * Anything that fails in the child before exec (which step, and errno)
 * is written to a close-on-exec pipe; a successful exec closes it
 * (end-of-file).  The master reads it from its event loop, or at the
 * latest when it reaps the child, logs the reason as an error under the
 * service's ident, names it in the exit line (exit 127) and throttles
 * the service for it.  A failure to prepare or to start the child is a
 * bad startup too.
 */
#include <sys/types.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
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
 * Everything the child needs, made ready by the master before it starts
 * the child.  A vfork child shares the master's memory until it execs,
 * and a clone3 child's libc believes it is still the master (no fork
 * handlers ran): either way it must not allocate, log or change anything
 * but its own stack and this plan.  Only syscalls.
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
	int		 cg_dir;		/* cgroup to start in, or -1 */
	int		 cg_procs;		/* cgroup.procs to join, or -1 */
	int		 report_fd;		/* why the set-up failed */
};

/*
 * What a child that cannot set itself up writes on its report pipe
 * before _exit(127): the step that failed and its errno.  The master
 * knows the arguments (the command, chroot_dir, default_user) and says
 * the rest.  One write, far below PIPE_BUF: all of it or nothing.
 */
enum spawn_step {
	SPAWN_CGROUP = 1, SPAWN_DUP, SPAWN_DUP2, SPAWN_FCNTL, SPAWN_CHROOT,
	SPAWN_CHDIR, SPAWN_SETGROUPS, SPAWN_SETGID, SPAWN_SETUID, SPAWN_EXEC
};

struct spawn_report {
	int		 step;
	int		 err;
};

/*
 * clone3's arguments up to the cgroup field (CLONE_ARGS_SIZE_VER2),
 * spelt out here: glibc has no wrapper and <linux/sched.h> fights
 * <sched.h> over the CLONE_ flags on some systems.
 */
struct spawn_clone_args {
	uint64_t	 flags;
	uint64_t	 pidfd;
	uint64_t	 child_tid;
	uint64_t	 parent_tid;
	uint64_t	 exit_signal;
	uint64_t	 stack;
	uint64_t	 stack_size;
	uint64_t	 tls;
	uint64_t	 set_tid;
	uint64_t	 set_tid_size;
	uint64_t	 cgroup;
};
#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP	0x200000000ULL
#endif

/* clone3 into a cgroup works here until it fails for want of support. */
static int	 spawn_clone3_ok = 1;

/*
 * Not under AddressSanitizer: its run-time does not know the child's
 * stack ("ASan is ignoring requested __asan_handle_no_return ... False
 * positive error reports may follow"), and such reports ended inetd.sh's
 * /bin/cat children with exit 1 before they exec'd.  The sanitizer build
 * forks (clone3 without CLONE_VM) instead.
 */
#if defined(__x86_64__) && !defined(__SANITIZE_ADDRESS__)
/*
 * clone3 with CLONE_VM: the child shares the master's memory, so it
 * cannot return from the system call into the C function that made it,
 * whose frames on the master's stack the master needs again (vfork
 * works only because libc's vfork is written for that).  So the call is
 * made here, in assembly: the child starts on a stack of its own
 * (clone_args.stack), with the master's registers but %rax (0) and %rsp,
 * and calls fn(arg) there, which execs or _exits; should it return, the
 * child exits 127 at once.  The master gets the kernel's result: a pid,
 * or -errno.
 */
#define SPAWN_CLONE_VM	1
#define SPAWN_STR_(x)	#x
#define SPAWN_STR(x)	SPAWN_STR_(x)
long	spawn_clone3_raw(void *, size_t, void (*)(void *), void *)
	    __attribute__((visibility("hidden")));
__asm__(
	".text\n"
	".globl	spawn_clone3_raw\n"
	".hidden spawn_clone3_raw\n"
	".type	spawn_clone3_raw, @function\n"
	".p2align 4\n"
	"spawn_clone3_raw:\n"
	"	movq	%rdx, %r8\n"		/* fn and arg, where the */
	"	movq	%rcx, %r9\n"		/* system call keeps them */
	"	movl	$" SPAWN_STR(SYS_clone3) ", %eax\n"
	"	syscall\n"			/* (%rdi, %rsi): args, size */
	"	testq	%rax, %rax\n"
	"	jz	1f\n"
	"	ret\n"				/* the master */
	"1:	xorl	%ebp, %ebp\n"		/* the child: no frame above */
	"	movq	%r9, %rdi\n"
	"	call	*%r8\n"
	"	movl	$127, %edi\n"
	"	movl	$" SPAWN_STR(SYS_exit) ", %eax\n"
	"	syscall\n"
	"	hlt\n"
	".size	spawn_clone3_raw, . - spawn_clone3_raw\n");

/*
 * The child's stack: one, reused (CLONE_VFORK: the master goes on only
 * once the child has exec'd or exited, and is done with it), made at
 * first use, with a guard page below it: a child that overflowed it
 * would otherwise write over the master's memory.  Generous: the child
 * needs a few kB.
 */
#define SPAWN_STACK	(256 * 1024)

/* clone3 with CLONE_VM works here until the kernel refuses it. */
static int	 spawn_vm_ok = 1;

struct spawn_vm {
	struct unit		*u;
	struct spawn_plan	*sp;
};

static char *
spawn_stack(void)
{
	static char	*stack;
	long		 pg = sysconf(_SC_PAGESIZE);
	char		*p;

	if (stack != NULL)
		return stack;
	if ((p = mmap(NULL, SPAWN_STACK + pg, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0)) == MAP_FAILED)
		return NULL;
	if (mprotect(p, pg, PROT_NONE) == -1) {
		(void)munmap(p, SPAWN_STACK + pg);
		return NULL;
	}
	return stack = p + pg;
}
#endif

/* Child side: say which step failed (errno), then exit 127. */
static __dead void
spawn_die(const struct spawn_plan *sp, enum spawn_step step)
{
	struct spawn_report r;

	r.step = step;
	r.err = errno;
	(void)write(sp->report_fd, &r, sizeof(r));
	_exit(127);
}

/*
 * Move the contract's fds into place.  Every source is first copied above
 * the highest target, so that no dup2() can clobber a source still needed;
 * the report pipe first of all, so that it can tell any failure after.
 * It ends up just above the contract's fds, still close-on-exec.  (After
 * vfork this changes the master's copy of the plan: it does not use it.)
 */
static void
spawn_fds(struct spawn_plan *sp)
{
	int	 fd[MAX_LISTEN + 5], i, top = sp->n, rep;

	if ((rep = fcntl(sp->report_fd, F_DUPFD_CLOEXEC, top)) == -1)
		spawn_die(sp, SPAWN_DUP);
	sp->report_fd = rep;
	for (i = 0; i < sp->n; i++)
		if ((fd[i] = fcntl(sp->src[i], F_DUPFD_CLOEXEC, top)) == -1)
			spawn_die(sp, SPAWN_DUP);
	for (i = 0; i < sp->n; i++)
		if (dup2(fd[i], i) == -1)
			spawn_die(sp, SPAWN_DUP2);
	if (rep != top) {
		if (dup3(rep, top, O_CLOEXEC) == -1)
			spawn_die(sp, SPAWN_DUP2);
		sp->report_fd = top;
	}
	closefrom(top + 1);
	/* Our ends of the output pipes and status channel block (F_SETFL
	 * touches only the status flags: 0 clears O_NONBLOCK). */
	if (fcntl(STDOUT_FILENO, F_SETFL, 0) == -1 ||
	    fcntl(STDERR_FILENO, F_SETFL, 0) == -1 ||
	    fcntl(sp->n - 1, F_SETFL, 0) == -1)
		spawn_die(sp, SPAWN_FCNTL);
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
			spawn_die(sp, SPAWN_CHROOT);
		if (chdir("/") == -1)
			spawn_die(sp, SPAWN_CHDIR);
	}
	if (!sp->do_user)
		return;
	if (setgroups(sp->ngroups, sp->groups) == -1)
		spawn_die(sp, SPAWN_SETGROUPS);
	if (setgid(sp->gid) == -1)
		spawn_die(sp, SPAWN_SETGID);
	if (setuid(sp->uid) == -1)
		spawn_die(sp, SPAWN_SETUID);
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

	spawn_signals();
	/* Into the service's cgroup first (if clone3 could not), before
	 * anything could fork. */
	if (sp->cg_procs != -1) {
		spawn_itoa((long)getpid(), pid);
		if (write(sp->cg_procs, pid, strlen(pid)) == -1)
			spawn_die(sp, SPAWN_CGROUP);
	}
	(void)setsid();
	spawn_fds(sp);
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
	spawn_die(sp, SPAWN_EXEC);
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

/* The user to run as, looked up here: the child cannot do it. */
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
    int out_fd, int err_fd, int report_fd)
{
	const struct tentry	*te = u->svc->te;
	char			**e;
	int			 i, handoff = u->handoff_fd != -1;

	memset(sp, 0, sizeof(*sp));
	sp->cg_dir = sp->cg_procs = -1;
	sp->report_fd = report_fd;
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
	if ((sp->cg_dir = cgroup_dir_fd(u->svc)) == -1 && errno != 0)
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

/* Close whichever of the four pairs were made. */
static void
spawn_close(int sp[2], int outp[2], int errp[2], int rp[2])
{
	int	*fds[] = { sp, outp, errp, rp }, i, j;

	for (i = 0; i < 4; i++)
		for (j = 0; j < 2; j++)
			if (fds[i][j] != -1) {
				close(fds[i][j]);
				fds[i][j] = -1;
			}
}

/* A child could not set itself up: say why, as the service. */
static void
spawn_report_log(struct child *c, const struct spawn_report *r)
{
	struct unit	*u = c->unit;
	const char	*what, *arg = NULL;
	char		 msg[512];

	switch (r->step) {
	case SPAWN_CGROUP:
		what = "joining the cgroup of service";
		arg = u->svc->te->name;
		break;
	case SPAWN_DUP:
		what = "dup";
		break;
	case SPAWN_DUP2:
		what = "dup2";
		break;
	case SPAWN_FCNTL:
		what = "fcntl";
		break;
	case SPAWN_CHROOT:
		what = "chroot";
		arg = M->cfg->chroot_dir;
		break;
	case SPAWN_CHDIR:
		what = "chdir";
		arg = "/";
		break;
	case SPAWN_SETGROUPS:
		what = "setgroups";
		arg = M->cfg->default_user;
		break;
	case SPAWN_SETGID:
		what = "setgid";
		arg = M->cfg->default_user;
		break;
	case SPAWN_SETUID:
		what = "setuid";
		arg = M->cfg->default_user;
		break;
	case SPAWN_EXEC:
		what = "exec";
		arg = u->cmdpath;
		break;
	default:
		what = "set-up step unknown";
		break;
	}
	snprintf(msg, sizeof(msg), "%s%s%s: %s", what, arg != NULL ? " " : "",
	    arg != NULL ? arg : "", strerror(r->err));
	c->setup_failed = 1;
	free(c->last_err);
	c->last_err = xstrdup(msg);
	log_as(u->ident, c->pid, LOG_ERR, msg, strlen(msg));
}

static void
spawn_report_close(struct child *c)
{
	if (c->report_ev != NULL) {
		event_free(c->report_ev);
		c->report_ev = NULL;
	}
	if (c->report_fd != -1) {
		close(c->report_fd);
		c->report_fd = -1;
	}
}

/*
 * Read c's report pipe: a report (the set-up failed), or end-of-file (it
 * exec'd, or died without a word).  Returns 0 if neither has come yet.
 */
static int
spawn_report_read(struct child *c)
{
	struct spawn_report r;
	ssize_t		 n;

	if ((n = read(c->report_fd, &r, sizeof(r))) == -1 &&
	    (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n == (ssize_t)sizeof(r))
		spawn_report_log(c, &r);
	else if (n == -1)
		log_warn("service %s: pid %d: set-up report", c->unit->name,
		    (int)c->pid);
	else if (n > 0)
		log_warnx("service %s: pid %d: set-up report cut short",
		    c->unit->name, (int)c->pid);
	spawn_report_close(c);
	return 1;
}

static void
spawn_report_cb(int fd, short ev, void *arg)
{
	(void)spawn_report_read(arg);
}

/*
 * c has exited: its report is complete (its end of the pipe closed when
 * it exec'd or exited; no one else has it), read what is left of it
 * before its exit is judged.
 */
void
spawn_report_drain(struct child *c)
{
	if (c->report_fd != -1 && spawn_report_read(c) == 0)
		spawn_report_close(c);
}

#ifdef SPAWN_CLONE_VM
/* The CLONE_VM child's first function, on its own stack. */
static void
spawn_vm_child(void *arg)
{
	struct spawn_vm	*v = arg;

	spawn_exec(v->u, v->sp);
}
#endif

/*
 * A child created in the cgroup dirfd, running spawn_exec.  With vm (and
 * where we can), as vfork() would: *vforked is set, and the child has
 * exec'd or exited when this returns.  Else as fork() would.
 */
static pid_t
spawn_clone3(struct unit *u, struct spawn_plan *sp, int vm, int *vforked)
{
	struct spawn_clone_args ca;
	pid_t		 pid;
#ifdef SPAWN_CLONE_VM
	struct spawn_vm	 v;
	char		*stack;
	long		 r;
	int		 saved;
#endif

	memset(&ca, 0, sizeof(ca));
	ca.flags = CLONE_INTO_CGROUP;
	ca.exit_signal = SIGCHLD;
	ca.cgroup = (uint64_t)sp->cg_dir;
#ifdef SPAWN_CLONE_VM
	if (vm && spawn_vm_ok && (stack = spawn_stack()) != NULL) {
		ca.flags |= CLONE_VM | CLONE_VFORK;
		ca.stack = (uint64_t)(uintptr_t)stack;
		ca.stack_size = SPAWN_STACK;
		v.u = u;
		v.sp = sp;
		/* The child's errno is ours (same memory, same TLS). */
		saved = errno;
		r = spawn_clone3_raw(&ca, sizeof(ca), spawn_vm_child, &v);
		if (r >= 0) {
			errno = saved;
			*vforked = 1;
			return (pid_t)r;
		}
		errno = (int)-r;
		if (errno == EAGAIN || errno == ENOMEM)
			return -1;
		/* Refused (a filter, a kernel that wants no CLONE_VM
		 * here): fork's clone3 says what is left of it. */
		spawn_vm_ok = 0;
		ca.flags &= ~(uint64_t)(CLONE_VM | CLONE_VFORK);
		ca.stack = ca.stack_size = 0;
	}
#else
	(void)vm;
	(void)vforked;
#endif
	if ((pid = (pid_t)syscall(SYS_clone3, &ca, sizeof(ca))) == 0)
		spawn_exec(u, sp);
	return pid;
}

/*
 * Whether this child is started alone, so that the master may wait for
 * its exec (CLONE_VFORK) at no cost: a restart, a wake-up, one inetd
 * connection.  Not when more are started in a row -- at start (before
 * the event loop runs), a second one in one event callback (a reload, a
 * unit topped up, a batch of inetd connections): forked children set
 * themselves up side by side while the master goes on to the next.
 * Started one by one, 500 services took 4 times as long on a busy
 * machine (each wait for an exec is a wait for the CPU too).
 */
static int	 spawn_looping;

static void
spawn_loop_cb(int fd, short ev, void *arg)
{
	spawn_looping = 1;
}

static int
spawn_alone(const struct unit *u)
{
	static struct timeval	 last, zero;
	static int		 armed;
	struct timeval		 now;

	if (u->conn_fd != -1 && u->conn_fork)
		return 0;
	/* Starting: until the event loop runs its first callback. */
	if (!spawn_looping) {
		if (!armed && event_base_once(M->base, -1, EV_TIMEOUT,
		    spawn_loop_cb, NULL, &zero) == 0)
			armed = 1;
		return 0;
	}
	if (event_base_gettimeofday_cached(M->base, &now) == -1)
		return 0;
	/* libevent's cached time is the same all through one turn of the
	 * loop: the callbacks of the events that came together. */
	if (timercmp(&now, &last, ==))
		return 0;
	last = now;
	return 1;
}

/*
 * Start the child; it runs spawn_exec.  In cgroup mode, clone3 creates it
 * in its group.  When clone3 fails for any reason but a shortage (EAGAIN,
 * ENOMEM: fork would fail the same), the master falls back to the child
 * joining its group itself, and says so once; for good when the kernel
 * does not have it (ENOSYS before 5.3, E2BIG before 5.7, EINVAL) or a
 * policy forbids it (EPERM, EACCES: a seccomp filter).
 * Without clone3: fork or vfork, see spawn_child.  *vforked says which:
 * a vfork child has exec'd or exited when we go on.
 */
static pid_t
spawn_start(struct unit *u, struct spawn_plan *sp, int *vforked)
{
	static int	 warned;
	pid_t		 pid;
	int		 e;

	*vforked = 0;
	if (sp->cg_dir != -1 && spawn_clone3_ok) {
		pid = spawn_clone3(u, sp, spawn_alone(u), vforked);
		if (pid != -1 || errno == EAGAIN || errno == ENOMEM)
			return pid;
		e = errno;
		if (!warned) {
			warned = 1;
			log_warnx("service %s: clone3 into cgroup %s: %s: "
			    "children join their cgroup after fork instead "
			    "(slower: a task migration per spawn)", u->name,
			    u->svc->cg_path, strerror(e));
		}
		if (e == ENOSYS || e == E2BIG || e == EINVAL || e == EPERM ||
		    e == EACCES)
			spawn_clone3_ok = 0;
	}
	if (sp->cg_dir != -1 && (sp->cg_procs = cgroup_procs_fd(u->svc)) == -1)
		return -1;
	if (u->conn_fd != -1 && u->conn_fork)
		pid = fork();
	else {
		*vforked = 1;
		pid = vfork();
	}
	if (pid == 0)
		spawn_exec(u, sp);
	return pid;
}

struct child *
spawn_child(struct unit *u)
{
	const struct svcconf *sc;
	struct spawn_plan plan;
	struct child	*c;
	struct timeval	 tv;
	sigset_t	 all, saved;
	int		 sp[2], outp[2], errp[2], rp[2], vforked;
	pid_t		 pid;

	spawn_warn_priv(u);
	/*
	 * Created non-blocking, as the master needs its ends; the child makes
	 * its own ends blocking again (spawn_fds).  Cheaper than fcntl on
	 * the master's side: the master's time is what spawning waits for.
	 */
	sp[0] = sp[1] = outp[0] = outp[1] = errp[0] = errp[1] = -1;
	rp[0] = rp[1] = -1;
	/* inetd mode: the connection is stdout; no status channel either. */
	if (u->conn_fd == -1 && (socketpair(AF_UNIX, SOCK_SEQPACKET |
	    SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sp) == -1 ||
	    pipe2(outp, O_CLOEXEC | O_NONBLOCK) == -1)) {
		spawn_close(sp, outp, errp, rp);
		goto fail;
	}
	/* The report pipe: the child's end is close-on-exec, so its exec
	 * is end-of-file (spawn_report_read). */
	if (pipe2(errp, O_CLOEXEC | O_NONBLOCK) == -1 ||
	    pipe2(rp, O_CLOEXEC | O_NONBLOCK) == -1) {
		spawn_close(sp, outp, errp, rp);
		goto fail;
	}
	if (spawn_prepare(u, &plan, sp[1], outp[1], errp[1], rp[1]) == -1) {
		spawn_plan_free(&plan);
		spawn_close(sp, outp, errp, rp);
		goto fail;
	}
	/*
	 * Block every signal across the start: until the child has reset its
	 * handlers, a signal would run libevent's handler in the child, which
	 * writes to the signal socketpair it shares with the master -- and
	 * the master would act on a signal that was never sent to it.
	 * Without clone3: vfork, not fork: the master's page tables and fd
	 * table are not copied for a child that execs at once (15-25% faster
	 * spawning).  Except in inetd mode when more connections wait
	 * (conn_fork): vfork would hold the master until each exec is done,
	 * one child runnable at a time; after fork it goes on to the next
	 * connection while the children exec side by side, each with its own
	 * share of a busy machine's CPU.  (clone3 is either, see
	 * spawn_clone3.)
	 */
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &saved);
	pid = spawn_start(u, &plan, &vforked);
	sigprocmask(SIG_SETMASK, &saved, NULL);
	spawn_plan_free(&plan);
	if (pid == -1) {
		spawn_close(sp, outp, errp, rp);
		goto fail;
	}
	if (sp[1] != -1)
		close(sp[1]);
	if (outp[1] != -1)
		close(outp[1]);
	close(errp[1]);
	close(rp[1]);
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
	c->report_fd = rp[0];
	if (sp[0] != -1) {
		c->status_ev = event_new(M->base, sp[0], EV_READ | EV_PERSIST,
		    status_read_cb, c);
		event_add(c->status_ev, NULL);
	}
	c->grace_ev = evtimer_new(M->base, child_grace_cb, c);
	evtimer_add(c->grace_ev, ms_timeval(M->cfg->startup_grace, &tv));
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
	/*
	 * A vfork child has exec'd or exited by now: its report is there if
	 * it wrote one (before it exited), and nothing more can come: an
	 * exec that let vfork return is past its point of no return, though
	 * it may not have closed the pipe yet.  A clone3 or fork child is
	 * setting itself up beside us: read its report when it comes.
	 */
	if (spawn_report_read(c) == 0 && vforked)
		spawn_report_close(c);
	else if (c->report_fd != -1) {
		c->report_ev = event_new(M->base, rp[0], EV_READ | EV_PERSIST,
		    spawn_report_cb, c);
		event_add(c->report_ev, NULL);
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
	evtimer_add(c->kill_ev, ms_timeval(kill_ms, &tv));
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
	spawn_report_close(c);
	event_free(c->grace_ev);
	if (c->kill_ev != NULL)
		event_free(c->kill_ev);
	free(c->last_err);
	free(c);
}
