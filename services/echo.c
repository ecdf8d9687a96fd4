/*
 * echo.c: the echo service, a prefork helper built on libutil/service.
 *
 * On a stream socket it echoes each client's bytes back as they come (read
 * up to 16 KiB, write all of it) until the client closes or stays silent
 * for "-o timeout=N" seconds (default 300; 0 = never).  On a fifo or a
 * unix-dgram socket there is nothing to echo to: each chunk read is logged
 * at info as "trigger: <bytes>", control characters escaped; the master's
 * wakeup timer writes "W" there, and the tests watch for "trigger: W".
 * Standalone ("echo -o listen=127.0.0.1:9000") it is a plain
 * single-process server, the ceiling the master's benchmarks compare to.
 *
 * Each client is logged at info as Postfix's smtpd does: "connect from
 * ADDR" and "disconnect from ADDR requests=N" (N: the lines it sent; a
 * last line without newline counts too).  ADDR is "HOST:PORT" for inet,
 * "local (pid P, uid U)" for a unix socket.  "-o log_clients=0" turns
 * both off (the benchmarks measure the service, not syslog).  A client
 * that misbehaves (resets, stops reading) only ends its own session.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "service.h"
#include "util.h"

#define ECHO_BUF		16384
#define ECHO_TRIGGER_SHOW	512	/* bytes of a trigger worth logging */

/* Wait for fd to be ready for events; 0 on timeout, -1 on error. */
static int
echo_wait(int fd, short events, int timeout_ms)
{
	struct pollfd	 pfd;
	int		 n;

	pfd.fd = fd;
	pfd.events = events;
	do {
		n = poll(&pfd, 1, timeout_ms);
	} while (n == -1 && errno == EINTR);
	return n;
}

/* Write all of buf, never blocking longer than the client timeout. */
static int
echo_write(int fd, const char *buf, size_t len, int timeout_ms)
{
	ssize_t	 n;

	while (len > 0) {
		n = send(fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				return -1;
			if (echo_wait(fd, POLLOUT, timeout_ms) <= 0) {
				log_debug("client stopped reading: closing");
				return -1;
			}
			continue;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

struct echo_conf {
	int	 timeout_ms;
	int	 log_clients;
};

/* Who the client is, for the log: "127.0.0.1:4711", "local (pid 9, uid 0)". */
static void
echo_peer(int fd, char *buf, size_t len)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sl = sizeof(ss);
	struct ucred		 uc;
	socklen_t		 ul = sizeof(uc);
	char			 a[INET6_ADDRSTRLEN];

	strlcpy(buf, "unknown", len);
	if (getpeername(fd, (struct sockaddr *)&ss, &sl) == -1)
		return;
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		if (inet_ntop(AF_INET, &sin->sin_addr, a, sizeof(a)) != NULL)
			snprintf(buf, len, "%s:%u", a, ntohs(sin->sin_port));
	} else if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		if (inet_ntop(AF_INET6, &sin6->sin6_addr, a, sizeof(a)) !=
		    NULL)
			snprintf(buf, len, "[%s]:%u", a,
			    ntohs(sin6->sin6_port));
	} else if (ss.ss_family == AF_UNIX) {
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &ul) == 0)
			snprintf(buf, len, "local (pid %ld, uid %ld)",
			    (long)uc.pid, (long)uc.uid);
		else
			strlcpy(buf, "local", len);
	}
}

/* Echo until the client is done; the number of lines it sent. */
static unsigned long
echo_session(int fd, int timeout_ms)
{
	char		 buf[ECHO_BUF];
	unsigned long	 lines = 0;
	int		 r, partial = 0;
	ssize_t		 n, i;

	for (;;) {
		if ((r = echo_wait(fd, POLLIN, timeout_ms)) == 0) {
			log_debug("client silent for %d s: closing",
			    timeout_ms / 1000);
			break;
		}
		if (r == -1)
			break;
		if ((n = read(fd, buf, sizeof(buf))) == -1) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			log_debug("read: %s", strerror(errno));
			break;
		}
		if (n == 0)
			break;
		for (i = 0; i < n; i++)
			if (buf[i] == '\n')
				lines++;
		partial = buf[n - 1] != '\n';
		if (echo_write(fd, buf, (size_t)n, timeout_ms) == -1)
			break;
	}
	return lines + partial;
}

static void
echo_client(int fd, void *arg)
{
	struct echo_conf	*ec = arg;
	char			 peer[128];
	unsigned long		 n;

	if (!ec->log_clients) {
		(void)echo_session(fd, ec->timeout_ms);
		return;
	}
	echo_peer(fd, peer, sizeof(peer));
	log_info("connect from %s", peer);
	n = echo_session(fd, ec->timeout_ms);
	log_info("disconnect from %s requests=%lu", peer, n);
}

static void
echo_trigger(const char *buf, size_t len, void *arg)
{
	char		 out[ECHO_TRIGGER_SHOW * 4 + 1];
	size_t		 i, o = 0, show;
	unsigned char	 c;

	show = len < ECHO_TRIGGER_SHOW ? len : ECHO_TRIGGER_SHOW;
	for (i = 0; i < show; i++) {
		c = (unsigned char)buf[i];
		if (c == '\\') {
			out[o++] = '\\';
			out[o++] = '\\';
		} else if (c == '\n') {
			out[o++] = '\\';
			out[o++] = 'n';
		} else if (c < 0x20 || c == 0x7f) {
			(void)snprintf(out + o, sizeof(out) - o, "\\%03o", c);
			o += 4;
		} else
			out[o++] = (char)c;
	}
	out[o] = '\0';
	if (show < len)
		log_info("trigger: %s... (%zu bytes)", out, len);
	else
		log_info("trigger: %s", out);
}

int
main(int argc, char *argv[])
{
	struct echo_conf ec;
	long long	 timeout;

	service_init(argc, argv, "echo");
	if (service_argc() != 0)
		fatalx("unexpected argument \"%s\"; usage: echo [-v] "
		    "[-o timeout=N] [-o log_clients=0|1] [-o listen=ADDR]",
		    service_argv()[0]);
	timeout = service_option_num("timeout", 300, 0, INT_MAX / 1000);
	ec.timeout_ms = timeout == 0 ? -1 : (int)timeout * 1000;
	ec.log_clients = service_option_num("log_clients", 1, 0, 1) != 0;

	if (!service_listen_is_stream(0))
		service_run_trigger(echo_trigger, NULL);
	service_run_prefork(echo_client, &ec);
}
