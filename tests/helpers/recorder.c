/*
 * recorder.c: a line-echo backend that also writes down what it saw, for
 * the link tests (a prefork helper built on libutil/service, like echo).
 *
 *	recorder -o file=PATH [-o delay=MS] [-o slow=TEXT] [-o listen=ADDR]
 *
 * Each line a client sends is appended to PATH (one write(2) of the line
 * and its newline to an O_APPEND file, so lines of concurrent recorders
 * never mix), then echoed back.  The line is on file before its reply
 * leaves, so a test that got the reply finds the line in PATH.  With
 * delay, lines that contain TEXT (every line when slow is not given) are
 * answered only after MS milliseconds: the tests use it to make a replay
 * last long enough to interrupt it.  An unterminated last line is
 * recorded and echoed with a newline.
 *
 * Failure policy: a file that cannot be opened is fatal before READY (a
 * bad startup); a line that cannot be recorded is logged and still echoed
 * (the test then sees it missing); a client that sends a line longer
 * than RECORDER_LINE_MAX, resets or stops reading only loses its own
 * session.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "service.h"
#include "util.h"

#define RECORDER_READ		16384
#define RECORDER_LINE_MAX	(1024 * 1024)

struct recorder {
	int		 fd;		/* the record, O_APPEND */
	long long	 delay_ms;
	const char	*slow;		/* NULL: every line is slow */
};

/* Write all of buf to a blocking socket; -1 when the client is gone. */
static int
recorder_send(int fd, const char *buf, size_t len)
{
	ssize_t	 n;

	while (len > 0) {
		n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static void
recorder_sleep(long long ms)
{
	struct timespec	 ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* One line (with its newline at line[len]): record, wait, echo. */
static int
recorder_line(struct recorder *r, int fd, char *line, size_t len)
{
	ssize_t	 n;

	line[len] = '\n';
	/* One write: concurrent recorders append whole lines. */
	if ((n = write(r->fd, line, len + 1)) != (ssize_t)(len + 1))
		log_warn("cannot record a line of %zu bytes%s", len,
		    n >= 0 ? " (short write)" : "");
	if (r->delay_ms > 0 && (r->slow == NULL ||
	    memmem(line, len, r->slow, strlen(r->slow)) != NULL))
		recorder_sleep(r->delay_ms);
	return recorder_send(fd, line, len + 1);
}

static void
recorder_client(int fd, void *arg)
{
	struct recorder	*r = arg;
	char		*buf, *nl;
	size_t		 cap = RECORDER_READ + 1, have = 0, off;
	ssize_t		 n;

	buf = xmalloc(cap);
	for (;;) {
		if (cap - have < RECORDER_READ + 1) {
			if (cap >= RECORDER_LINE_MAX) {
				log_warnx("a client sent a line longer than "
				    "%d bytes: closing it", RECORDER_LINE_MAX);
				break;
			}
			cap *= 2;
			buf = xreallocarray(buf, cap, 1);
		}
		/* One byte is kept free for the newline of a last line. */
		n = read(fd, buf + have, cap - have - 1);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			break;
		if (n == 0) {
			if (have > 0)
				(void)recorder_line(r, fd, buf, have);
			break;
		}
		have += (size_t)n;
		off = 0;
		while ((nl = memchr(buf + off, '\n', have - off)) != NULL) {
			if (recorder_line(r, fd, buf + off,
			    (size_t)(nl - (buf + off))) == -1)
				goto done;
			off = (size_t)(nl - buf) + 1;
		}
		memmove(buf, buf + off, have - off);
		have -= off;
	}
 done:
	free(buf);
}

int
main(int argc, char *argv[])
{
	static struct recorder	 r;
	const char		*path;

	service_init(argc, argv, "recorder");
	if (service_argc() != 0)
		fatalx("unexpected argument \"%s\"; usage: recorder "
		    "-o file=PATH [-o delay=MS] [-o slow=TEXT]",
		    service_argv()[0]);
	if ((path = service_option("file")) == NULL || *path == '\0')
		fatalx("no record file: use -o file=PATH");
	r.delay_ms = service_option_num("delay", 0, 0, 60 * 1000);
	r.slow = service_option("slow");
	if ((r.fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	    0644)) == -1)
		fatal("open %s", path);
	if (!service_listen_is_stream(0))
		fatalx("recorder needs a stream socket");
	service_run_prefork(recorder_client, &r);
}
