/*
 * showfds.c: a service that describes what the master handed it.
 *
 * For the contract test.  On stdout (which the master logs line by line):
 *	fd N: KIND		one per open descriptor, in order
 *	env NAME=VALUE		one per environment variable
 *	argv N: ARG		one per argument, argv[0] included
 *	done
 * then it blocks reading its status channel (MASTER_STATUS_FD) until
 * end-of-file and exits 0; it never speaks the protocol, so it is a
 * long-lived "daemon" that only the master's stop ends.  Without
 * MASTER_STATUS_FD it exits right after "done".
 *
 * KIND is "socket stream listening", "socket seqpacket", "pipe",
 * "chr /dev/null", "file PATH", ...  /proc may be missing (chroot), so fds
 * are then found by probing and /dev/null is recognised by its device
 * number rather than its name.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SHOW_PROBE_MAX	1024

extern char **environ;

static void
show_socket(int fd, char *kind, size_t len)
{
	socklen_t	 sl;
	const char	*type;
	int		 v, listening = 0;

	sl = sizeof(v);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &sl) == -1)
		v = -1;
	switch (v) {
	case SOCK_STREAM:
		type = "stream";
		break;
	case SOCK_DGRAM:
		type = "dgram";
		break;
	case SOCK_SEQPACKET:
		type = "seqpacket";
		break;
	default:
		type = "other";
		break;
	}
	sl = sizeof(v);
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &sl) == 0 && v)
		listening = 1;
	snprintf(kind, len, "socket %s%s", type, listening ? " listening" : "");
}

/* What fd is, in a few words. */
static void
show_kind(int fd, char *kind, size_t len)
{
	char		 link[PATH_MAX], path[64];
	struct stat	 st;
	ssize_t		 n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if ((n = readlink(path, link, sizeof(link) - 1)) == -1)
		n = 0;
	link[n] = '\0';
	if (fstat(fd, &st) == -1) {
		snprintf(kind, len, "error %s", strerror(errno));
		return;
	}
	if (S_ISSOCK(st.st_mode))
		show_socket(fd, kind, len);
	else if (S_ISFIFO(st.st_mode)) {
		if (n == 0 || strncmp(link, "pipe:", 5) == 0)
			snprintf(kind, len, "pipe");
		else
			snprintf(kind, len, "fifo %s", link);
	} else if (S_ISCHR(st.st_mode)) {
		if (major(st.st_rdev) == 1 && minor(st.st_rdev) == 3)
			snprintf(kind, len, "chr /dev/null");
		else
			snprintf(kind, len, "chr %s", n ? link : "?");
	} else if (S_ISREG(st.st_mode))
		snprintf(kind, len, "file %s", link);
	else if (S_ISDIR(st.st_mode))
		snprintf(kind, len, "dir %s", link);
	else
		snprintf(kind, len, "other %s", link);
}

static int
show_cmp(const void *a, const void *b)
{
	int	 x = *(const int *)a, y = *(const int *)b;

	return x < y ? -1 : x > y;
}

/*
 * The open fds, sorted, into fds (at most max).  Read before anything
 * else is opened, apart from the directory stream we skip.
 */
static int
show_list(int *fds, int max)
{
	struct dirent	*de;
	DIR		*d;
	int		 n = 0, fd, skip;

	if ((d = opendir("/proc/self/fd")) != NULL) {
		skip = dirfd(d);
		while ((de = readdir(d)) != NULL && n < max) {
			if (de->d_name[0] == '.')
				continue;
			fd = atoi(de->d_name);
			if (fd != skip)
				fds[n++] = fd;
		}
		closedir(d);
	} else {
		for (fd = 0; fd < SHOW_PROBE_MAX && n < max; fd++)
			if (fcntl(fd, F_GETFD) != -1)
				fds[n++] = fd;
	}
	qsort(fds, n, sizeof(*fds), show_cmp);
	return n;
}

int
main(int argc, char *argv[])
{
	int		 fds[SHOW_PROBE_MAX];
	char		 kind[PATH_MAX + 64], buf[512], **e;
	const char	*s;
	ssize_t		 r;
	int		 i, n, status = -1;

	n = show_list(fds, SHOW_PROBE_MAX);
	for (i = 0; i < n; i++) {
		show_kind(fds[i], kind, sizeof(kind));
		printf("fd %d: %s\n", fds[i], kind);
	}
	for (e = environ; *e != NULL; e++)
		printf("env %s\n", *e);
	for (i = 0; i < argc; i++)
		printf("argv %d: %s\n", i, argv[i]);
	printf("done\n");
	if (fflush(stdout) == EOF)
		return 1;

	if ((s = getenv("MASTER_STATUS_FD")) != NULL)
		status = atoi(s);
	if (status < 0)
		return 0;
	/* The master never writes: end-of-file (or an error) means stop. */
	for (;;) {
		r = read(status, buf, sizeof(buf));
		if (r == 0 || (r == -1 && errno != EINTR))
			break;
	}
	return 0;
}
