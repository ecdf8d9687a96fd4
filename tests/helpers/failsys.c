/*
 * failsys.c: run a command in which one set-up step of the master's spawn
 * child fails, and nothing else does.
 *
 *	failsys STEP PROG [ARGS...]
 *
 * STEP is one of:
 *	setgroups, setgid, setuid	that system call fails (EPERM): the
 *					master itself never makes it;
 *	fcntl				fcntl(1, F_SETFL, 0) fails (EPERM): what
 *					the child does to make its stdout
 *					block again; the master never clears
 *					every flag of its fd 1;
 *	chdir				chdir fails (EACCES) in a process that
 *					has chroot()ed, as the child does right
 *					after chroot; the master's own chdir
 *					("/", at start) goes through.
 * The first four are a seccomp filter that returns the error.  chdir
 * cannot be told apart by its arguments (a pointer), so its filter hands
 * every chdir to a supervisor process (seccomp user notification), which
 * looks at the caller's root directory: it fails the call of a chrooted
 * process and lets the others go on.  The supervisor exits once every
 * process under the filter has.  The filter is inherited by everything
 * PROG starts (the master, its children).  The master is linked
 * statically, so an LD_PRELOAD shim could not do this.  Exits 111 with a
 * message if it cannot set up or exec.
 */
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include <linux/filter.h>
#include <linux/seccomp.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sysfilter.h"

#define ARG(n)	offsetof(struct seccomp_data, args[n])

static void
die(const char *what)
{
	fprintf(stderr, "failsys: %s: %s\n", what, strerror(errno));
	exit(111);
}

/* Send fd over the socket s. */
static void
send_fd(int s, int fd)
{
	char		 cbuf[CMSG_SPACE(sizeof(int))], c = 0;
	struct iovec	 iov = { &c, 1 };
	struct msghdr	 msg;
	struct cmsghdr	*cm;

	memset(&msg, 0, sizeof(msg));
	memset(cbuf, 0, sizeof(cbuf));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cbuf;
	msg.msg_controllen = sizeof(cbuf);
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	if (sendmsg(s, &msg, 0) != 1)
		die("sendmsg");
}

static int
recv_fd(int s)
{
	char		 cbuf[CMSG_SPACE(sizeof(int))], c;
	struct iovec	 iov = { &c, 1 };
	struct msghdr	 msg;
	struct cmsghdr	*cm;
	int		 fd;

	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cbuf;
	msg.msg_controllen = sizeof(cbuf);
	if (recvmsg(s, &msg, 0) != 1 || (cm = CMSG_FIRSTHDR(&msg)) == NULL)
		_exit(0);		/* the filter was not installed */
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

/* Whether pid runs chrooted (its root is not ours). */
static int
chrooted(pid_t pid)
{
	char	 path[64], root[4096];
	ssize_t	 n;

	snprintf(path, sizeof(path), "/proc/%ld/root", (long)pid);
	if ((n = readlink(path, root, sizeof(root) - 1)) == -1)
		return 0;
	root[n] = '\0';
	return strcmp(root, "/") != 0;
}

/* The supervisor: answer every chdir until no process uses the filter. */
static __attribute__((noreturn)) void
supervise(int s)
{
	struct seccomp_notif	 req;
	struct seccomp_notif_resp resp;
	struct pollfd		 pfd;
	int			 lfd, fd;

	lfd = recv_fd(s);
	close(s);
	/* Hold none of the caller's descriptors (a test's pipes). */
	if ((fd = open("/dev/null", O_RDWR)) != -1) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	for (;;) {
		/* POLLHUP: every process under the filter is gone. */
		pfd.fd = lfd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, -1) == -1) {
			if (errno == EINTR)
				continue;
			_exit(1);
		}
		if (!(pfd.revents & POLLIN))
			_exit(0);
		memset(&req, 0, sizeof(req));
		if (ioctl(lfd, SECCOMP_IOCTL_NOTIF_RECV, &req) == -1)
			continue;	/* the caller died meanwhile */
		memset(&resp, 0, sizeof(resp));
		resp.id = req.id;
		if (chrooted(req.pid))
			resp.error = -EACCES;
		else
			resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
		/* ENOENT: the caller died meanwhile. */
		(void)ioctl(lfd, SECCOMP_IOCTL_NOTIF_SEND, &resp);
	}
}

static void
fail_chdir(void)
{
	int	 sv[2], lfd;
	pid_t	 pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1)
		die("socketpair");
	if ((pid = fork()) == -1)
		die("fork");
	if (pid == 0) {
		close(sv[0]);
		/* Out of PROG's way: its process group, its waits. */
		if (fork() != 0)
			_exit(0);
		(void)setsid();
		supervise(sv[1]);
	}
	close(sv[1]);
	if ((lfd = sysfilter_one(SYS_chdir, SECCOMP_RET_USER_NOTIF,
	    SECCOMP_FILTER_FLAG_NEW_LISTENER)) == -1)
		die("seccomp");
	send_fd(sv[0], lfd);
	close(lfd);
	close(sv[0]);
	(void)waitpid(pid, NULL, 0);
}

static void
fail_call(long nr)
{
	if (sysfilter_one(nr, SECCOMP_RET_ERRNO | EPERM, 0) == -1)
		die("seccomp");
}

/* fcntl(1, F_SETFL, 0), the low 32 bits of each argument. */
static void
fail_fcntl(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		    offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_fcntl, 0, 7),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG(0)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 5),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG(1)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, F_SETFL, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG(2)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};

	if (sysfilter_install(f, sizeof(f) / sizeof(f[0]), 0) == -1)
		die("seccomp");
}

int
main(int argc, char *argv[])
{
	const char	*step = argv[1];

	if (argc < 3) {
		fprintf(stderr, "usage: failsys STEP PROG [ARGS...]\n");
		return 111;
	}
	if (strcmp(step, "setgroups") == 0)
		fail_call(SYS_setgroups);
	else if (strcmp(step, "setgid") == 0)
		fail_call(SYS_setgid);
	else if (strcmp(step, "setuid") == 0)
		fail_call(SYS_setuid);
	else if (strcmp(step, "fcntl") == 0)
		fail_fcntl();
	else if (strcmp(step, "chdir") == 0)
		fail_chdir();
	else {
		fprintf(stderr, "failsys: unknown step %s\n", step);
		return 111;
	}
	execv(argv[2], argv + 2);
	fprintf(stderr, "failsys: exec %s: %s\n", argv[2], strerror(errno));
	return 111;
}
