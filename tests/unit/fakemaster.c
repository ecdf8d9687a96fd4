/*
 * fakemaster.c: the master's side of the child contract, for unit tests
 * of helpers (services/echo, services/link).  See fakemaster.h.
 */
#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fakemaster.h"
#include "fdpass.h"
#include "proto.h"
#include "util.h"

static char	 fm_tmp[64];

void
fm_tmp_setup(const char *prefix)
{
	const char	*base;

	if ((base = getenv("TMPDIR")) == NULL || strlen(base) > 20)
		base = "/tmp";
	(void)snprintf(fm_tmp, sizeof(fm_tmp), "%s/%s.XXXXXX", base, prefix);
	if (mkdtemp(fm_tmp) == NULL) {
		perror("mkdtemp");
		exit(99);
	}
}

static int
fm_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	/* Go on past what a test made unremovable. */
	if (flag == FTW_DP)
		(void)rmdir(path);
	else
		(void)unlink(path);
	return 0;
}

void
fm_tmp_teardown(void)
{
	(void)nftw(fm_tmp, fm_rm, 16, FTW_DEPTH | FTW_PHYS);
}

const char *
fm_tmp_dir(void)
{
	return fm_tmp;
}

char *
fm_tmp_path(const char *name)
{
	char	*p;

	xasprintf(&p, "%s/%s", fm_tmp, name);
	return p;
}

void
fm_spawn(struct fm_child *ch, const char *prog, const int *fds, int n,
    const char *const env[], char *const args[], pid_t listen_pid)
{
	const char	*top;
	char		*path, *envp[48], pidenv[64];
	int		 sv[2], tmp[16], i, k = 0;

	ck_assert_int_lt(n, 15);
	if ((top = getenv("top_builddir")) == NULL || *top == '\0')
		top = ".";
	xasprintf(&path, "%s/services/%s", top, prog);
	ck_assert_msg(access(path, X_OK) == 0, "%s: %s", path,
	    strerror(errno));
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC,
	    0, sv), 0);
	ck_assert_int_ne(ch->pid = fork(), -1);
	if (ch->pid == 0) {
		/* A failed test must not leave the helper behind. */
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
		/* Out of the way of the targets first, then into place. */
		for (i = 0; i < n; i++)
			if ((tmp[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 30)) == -1)
				_exit(126);
		if ((tmp[n] = fcntl(sv[1], F_DUPFD_CLOEXEC, 30)) == -1)
			_exit(126);
		for (i = 0; i <= n; i++)
			if (dup2(tmp[i], 3 + i) == -1)
				_exit(126);
		closefrom(4 + n);
		for (i = 0; env[i] != NULL && k < 46; i++)
			envp[k++] = (char *)env[i];
		(void)snprintf(pidenv, sizeof(pidenv), "LISTEN_PID=%ld",
		    listen_pid ? (long)listen_pid : (long)getpid());
		envp[k++] = pidenv;
		envp[k] = NULL;
		execve(path, args, envp);
		_exit(127);
	}
	close(sv[1]);
	ch->status = sv[0];
	free(path);
}

const char *
fm_next_packet(struct fm_child *ch, int *fd)
{
	static char	 buf[PROTO_MAX + 1];
	struct pollfd	 pfd;
	ssize_t		 n;
	int		 dummy;

	if (fd == NULL)
		fd = &dummy;
	pfd.fd = ch->status;
	pfd.events = POLLIN;
	ck_assert_msg(poll(&pfd, 1, FM_WAIT_MS) == 1, "no status message");
	n = fdpass_recv(ch->status, fd, buf, sizeof(buf) - 1);
	ck_assert_int_ge(n, 0);
	buf[n] = '\0';
	if (fd == &dummy && dummy != -1)
		close(dummy);
	return buf;
}

int
fm_wait(struct fm_child *ch, int ms)
{
	long long	 deadline = now_ms() + ms;
	int		 st;

	for (;;) {
		if (waitpid(ch->pid, &st, WNOHANG) == ch->pid)
			return st;
		if (now_ms() >= deadline) {
			(void)kill(ch->pid, SIGKILL);
			(void)waitpid(ch->pid, &st, 0);
			return -1;
		}
		(void)poll(NULL, 0, 10);
	}
}

void
fm_expect_exit(struct fm_child *ch, int code)
{
	int	 st;

	st = fm_wait(ch, FM_WAIT_MS);
	ck_assert_msg(st != -1, "child did not exit");
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == code,
	    "child: status %#x, want exit %d", st, code);
}

const char *
fm_expect_log(int logfd, const char *want)
{
	static char	 buf[4096];
	struct pollfd	 pfd;
	long long	 deadline = now_ms() + FM_WAIT_MS;
	ssize_t		 n;

	pfd.fd = logfd;
	pfd.events = POLLIN;
	for (;;) {
		ck_assert_msg(now_ms() < deadline, "no log line \"%s\"", want);
		if (poll(&pfd, 1, 100) != 1)
			continue;
		n = recv(logfd, buf, sizeof(buf) - 1, 0);
		ck_assert_int_gt(n, 0);
		buf[n] = '\0';
		if (strstr(buf, want) != NULL)
			return buf;
	}
}

int
fm_unix_client(const char *path)
{
	struct sockaddr_un	 sun;
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	ck_assert_uint_lt(strlcpy(sun.sun_path, path, sizeof(sun.sun_path)),
	    sizeof(sun.sun_path));
	ck_assert_int_ne(fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0),
	    -1);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sun, sizeof(sun)),
	    0);
	return fd;
}
