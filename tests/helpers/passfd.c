/*
 * passfd.c: a client of a pass service, as Postfix's postscreen is of
 * smtpd: it hands a connection over a unix socket as a passed descriptor.
 *
 *	passfd SOCKET LINE	pass one end of a new socketpair to SOCKET
 *				(with one byte of data), send LINE and a
 *				newline on the other end, print what comes
 *				back up to the first newline; exit 0 iff it
 *				was LINE
 *	passfd -n SOCKET	connect, send one byte without a descriptor,
 *				print what comes back (nothing: the service
 *				closes), exit 0 at end-of-file
 *
 * Gives up after 10 s (exit 1).
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fdpass.h"
#include "sock.h"

#define PASSFD_WAIT_MS	10000

/* Read from fd up to a newline or end-of-file; -1 on error or timeout. */
static ssize_t
passfd_readline(int fd, char *buf, size_t len)
{
	struct pollfd	 pfd = { fd, POLLIN, 0 };
	size_t		 got = 0;
	ssize_t		 n;

	while (got < len - 1) {
		if (poll(&pfd, 1, PASSFD_WAIT_MS) != 1)
			return -1;
		if ((n = read(fd, buf + got, len - 1 - got)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			break;
		got += (size_t)n;
		if (memchr(buf, '\n', got) != NULL)
			break;
	}
	buf[got] = '\0';
	return (ssize_t)got;
}

int
main(int argc, char *argv[])
{
	char	 err[256], buf[1024], *line;
	int	 sv[2], c, nofd = 0;
	ssize_t	 n;

	if (argc == 3 && strcmp(argv[1], "-n") == 0)
		nofd = 1;
	else if (argc != 3) {
		fprintf(stderr, "usage: passfd SOCKET LINE | passfd -n "
		    "SOCKET\n");
		return 2;
	}
	if ((c = sock_unix_connect(argv[nofd ? 2 : 1], SOCK_STREAM, err,
	    sizeof(err))) == -1) {
		fprintf(stderr, "passfd: %s\n", err);
		return 1;
	}
	(void)sock_set_nonblock(c, 0);
	if (nofd) {
		if (write(c, "x", 1) != 1)
			return 1;
		n = passfd_readline(c, buf, sizeof(buf));
		printf("%s", n > 0 ? buf : "");
		return n == 0 ? 0 : 1;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1) {
		perror("passfd: socketpair");
		return 1;
	}
	if (fdpass_send(c, sv[1], "x", 1) != 1) {
		perror("passfd: sendmsg");
		return 1;
	}
	close(sv[1]);
	close(c);
	if (asprintf(&line, "%s\n", argv[2]) == -1)
		return 1;
	if (write(sv[0], line, strlen(line)) != (ssize_t)strlen(line)) {
		perror("passfd: write");
		free(line);
		return 1;
	}
	if (passfd_readline(sv[0], buf, sizeof(buf)) <= 0) {
		fprintf(stderr, "passfd: no reply\n");
		free(line);
		return 1;
	}
	printf("%s", buf);
	n = strcmp(buf, line) == 0 ? 0 : 1;
	free(line);
	return (int)n;
}
