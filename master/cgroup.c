/*
 * cgroup.c: no survivors.  Whatever a service's children fork, even a
 * program that drops privileges (which clears PR_SET_PDEATHSIG) or
 * leaves our process group, is gone when the master has stopped, and a
 * master that died without stopping (SIGKILL) leaves nothing that the
 * next start does not kill before it binds a socket.
 *
 * Two ways, chosen at start:
 *  - cgroup v2, when the master runs as root, "cgroups = yes" (default)
 *    and the cgroup2 hierarchy (found in /proc/self/mountinfo) is
 *    writable: every service gets <mount>/linkmaster-<hash>/<name>.<type>
 *    (the hash is of pid_file, whose lock makes the name ours alone); a
 *    child is started in its service's group (clone3 with
 *    CLONE_INTO_CGROUP, see spawn.c), or joins it before it execs.  Stopping kills
 *    what is left in each group (cgroup.kill, or SIGKILL to every pid of
 *    cgroup.procs on kernels before 5.14) and waits until the group is
 *    empty; start does the same to any group a previous master left.
 *  - otherwise a record in state_dir/children/log, appended to without
 *    a file created or removed per child (that was most of what a spawn
 *    cost the master): "+PID START" when a child is made (START from
 *    /proc/PID/stat), "-PID" when it is reaped; rewritten with only the
 *    live children when it grows past CGROUP_LOG_MAX.  (A previous
 *    version's record, a file per child named after its pid, is still
 *    read.)  Start
 *    kills each recorded child that still runs with that start time, and
 *    the rest of its process group (each child leads its own).  Stopping
 *    kills what is left of the process groups of the children that
 *    exited.  The master is also the children's subreaper
 *    (PR_SET_CHILD_SUBREAPER): a grandchild that left its process group
 *    (setsid) and lost its parent comes to the master instead of init,
 *    and stop kills such orphans with their groups.  A grandchild that
 *    left its group escapes only a master that dies (SIGKILL): that is
 *    what the cgroup is for.
 * Killing waits for the victims to be gone (pidfd or cgroup.events, at
 * most CGROUP_WAIT ms), so that their sockets are closed.  Nothing here
 * is fatal: what cannot be done is logged, and the master carries on.
 */
#include <sys/types.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "master.h"

#define CGROUP_WAIT	5000	/* ms for killed processes to be gone */
#define CGROUP_MAXPROC	4096	/* victims handled in one round */
#define CGROUP_LOG	"log"	/* the record, in state_dir/children */
#define CGROUP_LOG_MAX	16384	/* bytes before it is compacted, at least */

static struct {
	char		*base;		/* cgroup mode: our directory */
	char		*recdir;	/* record mode: state_dir/children */
	int		 recfd;		/* ... opened, or -1 */
	int		 logfd;		/* ... its log, opened at first use */
	off_t		 logsize;	/* bytes in it */
	off_t		 logmax;	/* compact it beyond this */
	pid_t		*stopped;	/* record mode: groups to clean at stop */
	size_t		 nstopped;
} cg = { NULL, NULL, -1, -1, 0, 0, NULL, 0 };

/* One process as /proc/PID/stat tells it. */
struct cgroup_proc {
	pid_t			 pid;
	pid_t			 ppid;
	pid_t			 pgrp;
	char			 state;
	unsigned long long	 start;
};

/*
 * Read /proc/PID/stat.  The command name may hold anything, spaces and
 * ")" included: the fields we want come after its last ")".
 */
static int
cgroup_proc_stat(pid_t pid, struct cgroup_proc *p)
{
	char		 path[64], buf[1024], *s, *f;
	ssize_t		 n;
	int		 fd, i;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	if ((s = strrchr(buf, ')')) == NULL || s[1] != ' ')
		return -1;
	s += 2;
	p->pid = pid;
	p->state = *s;
	/* Fields from 3 (state): 4 is ppid, 5 pgrp, 22 starttime. */
	for (i = 3, f = s; f != NULL && i < 22; i++) {
		if (i == 4)
			p->ppid = (pid_t)strtol(f, NULL, 10);
		if (i == 5)
			p->pgrp = (pid_t)strtol(f, NULL, 10);
		if ((f = strchr(f, ' ')) != NULL)
			f++;
	}
	if (f == NULL)
		return -1;
	p->start = strtoull(f, NULL, 10);
	return 0;
}

/* The start time of pid, for the record (0: unknown). */
static unsigned long long
cgroup_proc_start(pid_t pid)
{
	struct cgroup_proc p;

	return cgroup_proc_stat(pid, &p) == 0 ? p.start : 0;
}

/*
 * SIGKILL each pid and wait, at most CGROUP_WAIT ms, until all are gone.
 * pidfds make this exact: the signal cannot reach a reused pid once the
 * pidfd is open and the process was checked (the caller matched it), and
 * poll() says when each has exited.  Zombies count as gone (their sockets
 * are closed); ours are reaped, as PID 1 must.
 */
static int
cgroup_kill_pids(const pid_t *pids, size_t n)
{
	struct pollfd	*pfd;
	long long	 end;
	size_t		 i, left;
	int		 killed = 0, ms;

	if (n == 0)
		return 0;
	pfd = xcalloc(n, sizeof(*pfd));
	for (i = 0; i < n; i++) {
		pfd[i].events = POLLIN;
		if ((pfd[i].fd = pidfd_open(pids[i], 0)) == -1)
			continue;
		if (pidfd_send_signal(pfd[i].fd, SIGKILL, NULL, 0) == 0)
			killed++;
	}
	end = now_ms() + CGROUP_WAIT;
	for (;;) {
		while (waitpid(-1, NULL, WNOHANG) > 0)
			continue;
		for (i = 0, left = 0; i < n; i++)
			if (pfd[i].fd != -1)
				left++;
		if (left == 0 || (ms = (int)(end - now_ms())) <= 0)
			break;
		if (poll(pfd, n, ms > 100 ? 100 : ms) == -1 && errno != EINTR)
			break;
		for (i = 0; i < n; i++)
			if (pfd[i].fd != -1 && pfd[i].revents != 0) {
				close(pfd[i].fd);
				pfd[i].fd = -1;
				pfd[i].revents = 0;
			}
	}
	for (i = 0; i < n; i++)
		if (pfd[i].fd != -1) {
			log_warnx("pid %d is still there %d ms after SIGKILL",
			    (int)pids[i], CGROUP_WAIT);
			close(pfd[i].fd);
		}
	free(pfd);
	return killed;
}

static int
cgroup_pid_in(pid_t pid, const pid_t *set, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (set[i] == pid)
			return 1;
	return 0;
}

/*
 * Every live process that belongs to one of the n process groups: its
 * leader is leaders[i] with start time starts[i] (0: the leader is known
 * to be gone).  A group whose leader pid now runs with another start time
 * is someone else's (the kernel does not reuse a pid while a process
 * group of that number exists, so the members check themselves).
 */
static size_t
cgroup_group_members(const pid_t *leaders, const unsigned long long *starts,
    size_t n, pid_t *out, size_t max)
{
	struct cgroup_proc p;
	struct dirent	*de;
	DIR		*d;
	size_t		 i, k = 0;
	char		*alien;
	pid_t		 pid;

	if (n == 0 || (d = opendir("/proc")) == NULL)
		return 0;
	alien = xcalloc(n, 1);
	for (i = 0; i < n; i++)
		if (starts[i] != 0 && cgroup_proc_stat(leaders[i], &p) == 0 &&
		    p.start != starts[i])
			alien[i] = 1;
	while ((de = readdir(d)) != NULL && k < max) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		pid = (pid_t)strtol(de->d_name, NULL, 10);
		if (pid == getpid() || cgroup_proc_stat(pid, &p) == -1 ||
		    p.state == 'Z')
			continue;
		for (i = 0; i < n; i++)
			if (!alien[i] && p.pgrp == leaders[i] &&
			    p.start >= starts[i]) {
				out[k++] = pid;
				break;
			}
	}
	closedir(d);
	free(alien);
	return k;
}

/* --- record mode ----------------------------------------------------------- */

/* Add (start != 0) or remove (start == 0) pid in the n records. */
static void
cgroup_records_set(pid_t **pids, unsigned long long **starts, size_t *n,
    size_t *cap, pid_t pid, unsigned long long start)
{
	size_t	 i;

	for (i = 0; i < *n; i++)
		if ((*pids)[i] == pid)
			break;
	if (start == 0) {
		if (i < *n) {
			(*pids)[i] = (*pids)[*n - 1];
			(*starts)[i] = (*starts)[*n - 1];
			(*n)--;
		}
		return;
	}
	if (i == *n) {
		if (*n == *cap) {
			*cap = *cap ? *cap * 2 : 16;
			*pids = xreallocarray(*pids, *cap, sizeof(**pids));
			*starts = xreallocarray(*starts, *cap,
			    sizeof(**starts));
		}
		(*n)++;
	}
	(*pids)[i] = pid;
	(*starts)[i] = start;
}

/* The live records of the log (a line cut short by a crash is skipped). */
static void
cgroup_log_read(pid_t **pids, unsigned long long **starts, size_t *n,
    size_t *cap)
{
	FILE		*fp;
	char		*line = NULL, *end;
	size_t		 lcap = 0;
	ssize_t		 len;
	long		 pid;
	unsigned long long st;
	int		 fd;

	if ((fd = openat(cg.recfd, CGROUP_LOG, O_RDONLY | O_CLOEXEC |
	    O_NOFOLLOW)) == -1) {
		if (errno != ENOENT)
			log_warn("%s/%s", cg.recdir, CGROUP_LOG);
		return;
	}
	if ((fp = fdopen(fd, "r")) == NULL) {
		log_warn("%s/%s", cg.recdir, CGROUP_LOG);
		close(fd);
		return;
	}
	while ((len = getline(&line, &lcap, fp)) != -1) {
		if (len < 3 || line[len - 1] != '\n' ||
		    (line[0] != '+' && line[0] != '-'))
			continue;
		pid = strtol(line + 1, &end, 10);
		if (pid <= 0 || end == line + 1)
			continue;
		st = 0;
		if (line[0] == '+' && (*end != ' ' ||
		    (st = strtoull(end + 1, NULL, 10)) == 0))
			continue;
		cgroup_records_set(pids, starts, n, cap, (pid_t)pid, st);
	}
	free(line);
	fclose(fp);
}

/* Start: kill what the records of a previous master name; empty them. */
static void
cgroup_records_clean(void)
{
	struct dirent	*de;
	DIR		*d;
	pid_t		*leaders = NULL, *victims;
	unsigned long long *starts = NULL, st;
	size_t		 n = 0, cap = 0, nv;
	char		 buf[64];
	ssize_t		 len;
	int		 fd, dfd;

	cgroup_log_read(&leaders, &starts, &n, &cap);
	(void)unlinkat(cg.recfd, CGROUP_LOG, 0);
	if ((dfd = dup(cg.recfd)) == -1 || (d = fdopendir(dfd)) == NULL) {
		log_warn("%s", cg.recdir);
		if (dfd != -1)
			close(dfd);
		goto kill;
	}
	/* A previous version's record: a file per child. */
	while ((de = readdir(d)) != NULL) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		st = 0;
		if ((fd = openat(cg.recfd, de->d_name, O_RDONLY | O_CLOEXEC |
		    O_NOFOLLOW)) != -1) {
			if ((len = read(fd, buf, sizeof(buf) - 1)) > 0) {
				buf[len] = '\0';
				st = strtoull(buf, NULL, 10);
			}
			close(fd);
		}
		(void)unlinkat(cg.recfd, de->d_name, 0);
		if (st != 0)
			cgroup_records_set(&leaders, &starts, &n, &cap,
			    (pid_t)strtol(de->d_name, NULL, 10), st);
	}
	closedir(d);
 kill:
	victims = xcalloc(CGROUP_MAXPROC, sizeof(*victims));
	nv = cgroup_group_members(leaders, starts, n, victims, CGROUP_MAXPROC);
	if (nv > 0)
		log_warnx("killing %zu processes left by a previous master "
		    "(recorded in %s)", nv, cg.recdir);
	(void)cgroup_kill_pids(victims, nv);
	free(victims);
	free(leaders);
	free(starts);
}

/* Append one line to the log (opened, empty, at first use). */
static void
cgroup_log_write(const char *buf, size_t len)
{
	if (cg.logfd == -1) {
		if ((cg.logfd = openat(cg.recfd, CGROUP_LOG, O_WRONLY |
		    O_APPEND | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
		    0600)) == -1) {
			log_warn("cannot record children in %s/%s",
			    cg.recdir, CGROUP_LOG);
			return;
		}
		cg.logsize = 0;
		cg.logmax = CGROUP_LOG_MAX;
	}
	if (write(cg.logfd, buf, len) != (ssize_t)len)
		log_warn("cannot record children in %s/%s", cg.recdir,
		    CGROUP_LOG);
	else
		cg.logsize += (off_t)len;
}

/*
 * The log only ever grows: once past logmax, write the live children to
 * a new one and rename it over the old (a crash in between leaves the old
 * one, which still names them all).  Many live children make a big new
 * log: logmax then grows with it, so that compacting stays rare.
 */
static void
cgroup_log_compact(void)
{
	struct child	*c;
	char		 buf[64];
	off_t		 size = 0;
	int		 fd, n, ok = 1;

	if ((fd = openat(cg.recfd, CGROUP_LOG ".new", O_WRONLY | O_APPEND |
	    O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600)) == -1) {
		log_warn("%s/%s.new", cg.recdir, CGROUP_LOG);
		cg.logmax *= 2;
		return;
	}
	RB_FOREACH(c, child_tree, &M->children) {
		n = snprintf(buf, sizeof(buf), "+%ld %llu\n", (long)c->pid,
		    cgroup_proc_start(c->pid));
		if (write(fd, buf, n) != n) {
			ok = 0;
			break;
		}
		size += n;
	}
	if (!ok || renameat(cg.recfd, CGROUP_LOG ".new", cg.recfd,
	    CGROUP_LOG) == -1) {
		log_warn("cannot compact %s/%s", cg.recdir, CGROUP_LOG);
		close(fd);
		(void)unlinkat(cg.recfd, CGROUP_LOG ".new", 0);
		cg.logmax *= 2;
		return;
	}
	close(cg.logfd);
	cg.logfd = fd;
	cg.logsize = size;
	cg.logmax = size * 4 > CGROUP_LOG_MAX ? size * 4 : CGROUP_LOG_MAX;
}

/* Record a new child: its pid and start time. */
static void
cgroup_record(pid_t pid)
{
	char	 buf[64];
	int	 n;

	n = snprintf(buf, sizeof(buf), "+%ld %llu\n", (long)pid,
	    cgroup_proc_start(pid));
	cgroup_log_write(buf, (size_t)n);
	if (cg.logfd != -1 && cg.logsize > cg.logmax)
		cgroup_log_compact();
}

/* --- cgroup mode -------------------------------------------------------------- */

/* The mount point of the cgroup2 hierarchy, or NULL. */
static char *
cgroup_mount(void)
{
	FILE	*fp;
	char	*line = NULL, *sep, *f[5], *s, *r = NULL, *w;
	size_t	 cap = 0;
	int	 i;

	if ((fp = fopen("/proc/self/mountinfo", "re")) == NULL)
		return NULL;
	while (r == NULL && getline(&line, &cap, fp) != -1) {
		if ((sep = strstr(line, " - ")) == NULL ||
		    strncmp(sep + 3, "cgroup2 ", 8) != 0)
			continue;
		for (i = 0, s = line; i < 5 && s != NULL; i++) {
			f[i] = s;
			if ((s = strchr(s, ' ')) != NULL)
				*s++ = '\0';
		}
		if (i < 5)
			continue;
		/* Field 5 is the mount point, with \ooo escapes. */
		r = w = xstrdup(f[4]);
		for (s = f[4]; *s != '\0'; s++, w++) {
			if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' &&
			    s[2] >= '0' && s[2] <= '7' &&
			    s[3] >= '0' && s[3] <= '7') {
				*w = (char)((s[1] - '0') * 64 +
				    (s[2] - '0') * 8 + (s[3] - '0'));
				s += 3;
			} else
				*w = *s;
		}
		*w = '\0';
	}
	free(line);
	fclose(fp);
	return r;
}

static int
cgroup_write(const char *dir, const char *file, const char *what)
{
	char	*path;
	int	 fd, rc = -1;

	xasprintf(&path, "%s/%s", dir, file);
	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) != -1) {
		if (write(fd, what, strlen(what)) == (ssize_t)strlen(what))
			rc = 0;
		close(fd);
	}
	free(path);
	return rc;
}

/* The pids of cgroup.procs (at most max). */
static size_t
cgroup_procs(const char *dir, pid_t *out, size_t max)
{
	FILE	*fp;
	char	*path;
	long	 pid;
	size_t	 n = 0;

	xasprintf(&path, "%s/cgroup.procs", dir);
	fp = fopen(path, "re");
	free(path);
	if (fp == NULL)
		return 0;
	while (n < max && fscanf(fp, "%ld", &pid) == 1)
		out[n++] = (pid_t)pid;
	fclose(fp);
	return n;
}

/* Whether cgroup.events says "populated 1" (-1: cannot tell). */
static int
cgroup_populated(int fd)
{
	char	 buf[256];
	ssize_t	 n;

	if ((n = pread(fd, buf, sizeof(buf) - 1, 0)) <= 0)
		return -1;
	buf[n] = '\0';
	return strstr(buf, "populated 1") != NULL;
}

/*
 * Kill everything in the group dir and wait until it is empty; then
 * remove it.  Returns how many processes it held.
 */
static size_t
cgroup_kill_group(const char *dir)
{
	struct pollfd	 pfd;
	pid_t		*pids;
	long long	 end;
	size_t		 n, total;
	char		*path;
	int		 ms;

	pids = xcalloc(CGROUP_MAXPROC, sizeof(*pids));
	total = n = cgroup_procs(dir, pids, CGROUP_MAXPROC);
	xasprintf(&path, "%s/cgroup.events", dir);
	pfd.fd = open(path, O_RDONLY | O_CLOEXEC);
	pfd.events = POLLPRI;
	free(path);
	if (n > 0 && cgroup_write(dir, "cgroup.kill", "1") == -1) {
		/* Before Linux 5.14: kill pid by pid until none is left. */
		end = now_ms() + CGROUP_WAIT;
		while (n > 0 && now_ms() < end) {
			(void)cgroup_kill_pids(pids, n);
			n = cgroup_procs(dir, pids, CGROUP_MAXPROC);
			total += n;
		}
	}
	end = now_ms() + CGROUP_WAIT;
	while (pfd.fd != -1 && cgroup_populated(pfd.fd) == 1) {
		while (waitpid(-1, NULL, WNOHANG) > 0)
			continue;
		if ((ms = (int)(end - now_ms())) <= 0) {
			log_warnx("%s: still populated %d ms after it was "
			    "killed", dir, CGROUP_WAIT);
			break;
		}
		/* Reap our own zombies (PID 1) at least every 100 ms. */
		(void)poll(&pfd, 1, ms > 100 ? 100 : ms);
	}
	if (pfd.fd != -1)
		close(pfd.fd);
	if (rmdir(dir) == -1 && errno != ENOENT && errno != EBUSY)
		log_warn("rmdir %s", dir);
	free(pids);
	return total;
}

/* Kill every group under our directory; why: for the log. */
static void
cgroup_kill_all(const char *why)
{
	struct dirent	*de;
	DIR		*d;
	char		*dir;
	size_t		 n;

	if ((d = opendir(cg.base)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		xasprintf(&dir, "%s/%s", cg.base, de->d_name);
		if ((n = cgroup_kill_group(dir)) > 0)
			log_warnx("service %s: killed %zu processes %s",
			    de->d_name, n, why);
		free(dir);
	}
	closedir(d);
}

/* The name of our directory: pid_file's lock makes it ours alone. */
static char *
cgroup_base(const char *mount)
{
	const unsigned char *s;
	unsigned long long h = 14695981039346656037ULL;	/* FNV-1a */
	char		*r;

	for (s = (const unsigned char *)M->cfg->pid_file; *s != '\0'; s++)
		h = (h ^ *s) * 1099511628211ULL;
	xasprintf(&r, "%s/linkmaster-%016llx", mount, h);
	return r;
}

/*
 * Start: choose the mode and kill whatever a previous master with this
 * pid file left behind, before anything binds.  Runs with the pid file
 * locked, so no live master owns what is found.
 */
static void
cgroup_choose(void)
{
	char	*mount = NULL, *probe;

	xasprintf(&cg.recdir, "%s/children", M->cfg->state_dir);
	if (mkdir(cg.recdir, 0700) == -1 && errno != EEXIST)
		log_warn("mkdir %s", cg.recdir);
	if ((cg.recfd = open(cg.recdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC |
	    O_NOFOLLOW)) == -1)
		log_warn("%s: cannot keep a record of children", cg.recdir);
	else
		cgroup_records_clean();

	if (!M->is_root || !M->cfg->cgroups)
		return;
	if ((mount = cgroup_mount()) == NULL) {
		log_info("no cgroup2 hierarchy: children are recorded in %s",
		    cg.recdir);
		return;
	}
	cg.base = cgroup_base(mount);
	if (mkdir(cg.base, 0755) == -1 && errno != EEXIST) {
		log_info("cannot use cgroup2 (mkdir %s: %s): children are "
		    "recorded in %s", cg.base, strerror(errno), cg.recdir);
		free(cg.base);
		cg.base = NULL;
	} else {
		cgroup_kill_all("left by a previous master");
		/* A group we can create but not enter is of no use. */
		xasprintf(&probe, "%s/cgroup.procs", cg.base);
		if (access(probe, W_OK) == -1) {
			log_info("cannot use cgroup2 (%s: %s): children are "
			    "recorded in %s", probe, strerror(errno),
			    cg.recdir);
			(void)rmdir(cg.base);
			free(cg.base);
			cg.base = NULL;
		}
		free(probe);
	}
	/* Its name is a hash: say where the children are. */
	if (cg.base != NULL)
		log_info("children run in cgroup %s", cg.base);
	free(mount);
}

void
cgroup_init(void)
{
	cgroup_choose();
	/*
	 * Record mode: orphans of our children come to us, not to init, so
	 * that stop can find them (cgroup_adopted).  Nothing else changes:
	 * an orphan that exits is reaped as an unknown pid.
	 */
	if (cg.base == NULL && prctl(PR_SET_CHILD_SUBREAPER, 1) == -1)
		log_warn("prctl(PR_SET_CHILD_SUBREAPER)");
}

/*
 * s's group, made on first use and kept open as an O_PATH directory fd
 * (close-on-exec): what clone3(CLONE_INTO_CGROUP) starts a child in.
 * -1 with errno 0 in record mode (chosen at start: a reload does not
 * change it).  A failure is returned as -1 with errno: the spawn fails
 * and says why, rather than start a child we could lose.
 */
int
cgroup_dir_fd(struct service *s)
{
	char	*dir;
	int	 fd;

	errno = 0;
	if (cg.base == NULL)
		return -1;
	if (s->cg_path != NULL)
		return s->cg_dirfd;
	xasprintf(&dir, "%s/%s.%s", cg.base, s->te->name,
	    svc_type_name(s->te->type));
	if (mkdir(dir, 0755) == -1 && errno != EEXIST) {
		log_warn("service %s: mkdir %s", s->te->name, dir);
		free(dir);
		errno = EIO;
		return -1;
	}
	if ((fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC)) == -1) {
		log_warn("service %s: %s", s->te->name, dir);
		free(dir);
		errno = EIO;
		return -1;
	}
	s->cg_path = dir;
	s->cg_dirfd = fd;
	s->cg_procsfd = -1;
	return fd;
}

/*
 * The cgroup.procs of s's group (cgroup_dir_fd first), opened on first
 * use: only a child that could not be started in its group by clone3
 * needs it, to join the group itself between fork and exec.
 */
int
cgroup_procs_fd(struct service *s)
{
	if (cgroup_dir_fd(s) == -1)
		return -1;
	if (s->cg_procsfd == -1 && (s->cg_procsfd = openat(s->cg_dirfd,
	    "cgroup.procs", O_WRONLY | O_CLOEXEC)) == -1) {
		log_warn("service %s: %s/cgroup.procs", s->te->name,
		    s->cg_path);
		errno = EIO;
		return -1;
	}
	return s->cg_procsfd;
}

/* A child was spawned: in record mode, write it down. */
void
cgroup_spawned(struct child *c)
{
	if (cg.base == NULL && cg.recfd != -1)
		cgroup_record(c->pid);
}

/*
 * A child was reaped: drop its record.  While stopping, remember its
 * process group: what is left of it is killed before the master exits.
 */
void
cgroup_reaped(struct child *c)
{
	char	 buf[32];
	int	 n;

	if (cg.base != NULL || cg.recfd == -1 || cg.logfd == -1)
		return;
	n = snprintf(buf, sizeof(buf), "-%ld\n", (long)c->pid);
	cgroup_log_write(buf, (size_t)n);
	if (M->stopping) {
		cg.stopped = xreallocarray(cg.stopped, cg.nstopped + 1,
		    sizeof(*cg.stopped));
		cg.stopped[cg.nstopped++] = c->pid;
	}
}

/* A service goes (reload): its group goes too once empty. */
void
cgroup_service_free(struct service *s)
{
	if (s->cg_path == NULL)
		return;
	close(s->cg_dirfd);
	if (s->cg_procsfd != -1)
		close(s->cg_procsfd);
	(void)rmdir(s->cg_path);	/* EBUSY while anything runs in it */
	free(s->cg_path);
	s->cg_path = NULL;
}

/*
 * Record mode, at stop: kill the orphans our children left (they came to
 * us as their subreaper) with their process groups, and again for what
 * that orphans in turn, a few rounds at most.
 */
static void
cgroup_adopted(void)
{
	struct cgroup_proc p;
	struct dirent	*de;
	DIR		*d;
	pid_t		*orphans, *victims, pid;
	unsigned long long *starts;
	size_t		 n, nv, i, total = 0;
	int		 round;

	orphans = xcalloc(CGROUP_MAXPROC, sizeof(*orphans));
	starts = xcalloc(CGROUP_MAXPROC, sizeof(*starts));
	victims = xcalloc(CGROUP_MAXPROC, sizeof(*victims));
	for (round = 0; round < 4; round++) {
		if ((d = opendir("/proc")) == NULL)
			break;
		n = 0;
		while ((de = readdir(d)) != NULL && n < CGROUP_MAXPROC) {
			if (!isdigit((unsigned char)de->d_name[0]))
				continue;
			pid = (pid_t)strtol(de->d_name, NULL, 10);
			if (cgroup_proc_stat(pid, &p) == -1 ||
			    p.ppid != getpid() || p.state == 'Z' ||
			    child_find(pid) != NULL)
				continue;
			orphans[n] = pid;
			starts[n++] = p.start;
		}
		closedir(d);
		if (n == 0)
			break;
		/* The groups they lead (the orphans among them), then them. */
		nv = cgroup_group_members(orphans, starts, n, victims,
		    CGROUP_MAXPROC);
		for (i = 0; i < n && nv < CGROUP_MAXPROC; i++)
			if (!cgroup_pid_in(orphans[i], victims, nv))
				victims[nv++] = orphans[i];
		total += nv;
		(void)cgroup_kill_pids(victims, nv);
	}
	if (total > 0)
		log_warnx("killed %zu orphaned processes of children after "
		    "stop", total);
	free(victims);
	free(starts);
	free(orphans);
}

/*
 * The master stops and every child has exited: kill what they left
 * behind and wait until it is gone, then remove our groups.
 */
void
cgroup_stop(void)
{
	unsigned long long *zero;
	pid_t		*victims;
	size_t		 nv;

	if (cg.base != NULL) {
		cgroup_kill_all("left behind after stop");
		if (rmdir(cg.base) == -1 && errno != ENOENT)
			log_warn("rmdir %s", cg.base);
	} else if (cg.nstopped > 0) {
		zero = xcalloc(cg.nstopped, sizeof(*zero));
		victims = xcalloc(CGROUP_MAXPROC, sizeof(*victims));
		nv = cgroup_group_members(cg.stopped, zero, cg.nstopped,
		    victims, CGROUP_MAXPROC);
		if (nv > 0)
			log_warnx("killing %zu processes left behind after "
			    "stop", nv);
		(void)cgroup_kill_pids(victims, nv);
		free(victims);
		free(zero);
	}
	if (cg.base == NULL)
		cgroup_adopted();
	free(cg.stopped);
	cg.stopped = NULL;
	cg.nstopped = 0;
	free(cg.base);
	cg.base = NULL;
	/* Every child reaped, nothing is left to record; else what is. */
	if (cg.logfd != -1) {
		if (M->nchildren == 0)
			(void)unlinkat(cg.recfd, CGROUP_LOG, 0);
		else
			cgroup_log_compact();
		close(cg.logfd);
		cg.logfd = -1;
	}
	free(cg.recdir);
	cg.recdir = NULL;
	if (cg.recfd != -1)
		close(cg.recfd);
	cg.recfd = -1;
}
