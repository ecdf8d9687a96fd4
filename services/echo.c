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
 * A client that misbehaves (resets, stops reading) only ends its own
 * session; nothing per client is logged except in verbose mode.
 */
#include <sys/types.h>
#include <sys/socket.h>

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

static void
echo_client(int fd, void *arg)
{
	char	 buf[ECHO_BUF];
	int	 timeout_ms = *(int *)arg, r;
	ssize_t	 n;

	for (;;) {
		if ((r = echo_wait(fd, POLLIN, timeout_ms)) == 0) {
			log_debug("client silent for %d s: closing",
			    timeout_ms / 1000);
			return;
		}
		if (r == -1)
			return;
		if ((n = read(fd, buf, sizeof(buf))) == -1) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			log_debug("read: %s", strerror(errno));
			return;
		}
		if (n == 0)
			return;
		if (echo_write(fd, buf, (size_t)n, timeout_ms) == -1)
			return;
	}
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
	long long	 timeout;
	int		 timeout_ms;

	service_init(argc, argv, "echo");
	if (service_argc() != 0)
		fatalx("unexpected argument \"%s\"; usage: echo [-v] "
		    "[-o timeout=N] [-o listen=ADDR]", service_argv()[0]);
	timeout = service_option_num("timeout", 300, 0, INT_MAX / 1000);
	timeout_ms = timeout == 0 ? -1 : (int)timeout * 1000;

	if (!service_listen_is_stream(0))
		service_run_trigger(echo_trigger, NULL);
	service_run_prefork(echo_client, &timeout_ms);
}
