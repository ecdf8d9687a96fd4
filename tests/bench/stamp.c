/*
 * stamp.c: the program the restart and spawn benchmarks supervise.
 *
 *	stamp FILE	append "NS PID" to FILE, where NS is CLOCK_MONOTONIC
 *			in nanoseconds taken first thing in main; say READY
 *			on MASTER_STATUS_FD if set; then wait for a signal,
 *			forever.
 *	stamp -n	print CLOCK_MONOTONIC in nanoseconds and exit.
 *
 * $STAMP_FILE, if set, is the FILE and the arguments are ignored: runsv
 * and s6-supervise run ./run (a link to us) with no arguments or with the
 * service directory.  $STAMP_NOTIFY_FD, if set, is s6's notification-fd:
 * readiness is a newline written there (s6-supervise 2.11 restarts a
 * program at once only if it had been ready for a second).
 *
 * The line is written with one write(2) to an O_APPEND file, so that many
 * copies started at once (the spawn benchmark) never mix their lines.  The
 * status message is sent by hand rather than through libutil: the program
 * links libc only, so its own start-up cost is as small as it can be and
 * the same under every supervisor.  Any failure exits 1 with a message on
 * stderr (a supervisor then sees a bad start, not a silent one).
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long long
stamp_now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void
stamp_die(const char *what, const char *arg)
{
	fprintf(stderr, "stamp: %s%s%s: %s\n", what, arg ? " " : "",
	    arg ? arg : "", strerror(errno));
	exit(1);
}

/* The descriptor named by environment variable name, or -1. */
static int
stamp_envfd(const char *name)
{
	const char	*v;
	char		*end;
	long		 fd;

	if ((v = getenv(name)) == NULL || *v == '\0')
		return -1;
	errno = 0;
	fd = strtol(v, &end, 10);
	if (errno != 0 || *end != '\0' || fd < 0 || fd > INT_MAX) {
		errno = EINVAL;
		stamp_die(name, v);
	}
	return (int)fd;
}

/* Say we are ready the way our supervisor understands. */
static void
stamp_ready(void)
{
	int	 fd;

	/* The master's status channel: READY, one packet. */
	if ((fd = stamp_envfd("MASTER_STATUS_FD")) != -1 &&
	    send(fd, "READY", 5, MSG_NOSIGNAL) == -1)
		stamp_die("status channel", getenv("MASTER_STATUS_FD"));
	/* s6: a newline, then the descriptor is of no more use. */
	if ((fd = stamp_envfd("STAMP_NOTIFY_FD")) != -1) {
		if (write(fd, "\n", 1) != 1)
			stamp_die("notification fd", getenv("STAMP_NOTIFY_FD"));
		close(fd);
	}
}

int
main(int argc, char *argv[])
{
	long long	 t = stamp_now();
	const char	*file;
	char		 line[64];
	int		 fd, len;

	if (argc == 2 && strcmp(argv[1], "-n") == 0) {
		printf("%lld\n", t);
		return 0;
	}
	if ((file = getenv("STAMP_FILE")) == NULL || *file == '\0') {
		if (argc != 2) {
			fprintf(stderr, "usage: stamp FILE | stamp -n\n");
			return 2;
		}
		file = argv[1];
	}
	if ((fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	    0644)) == -1)
		stamp_die("open", file);
	len = snprintf(line, sizeof(line), "%lld %ld\n", t, (long)getpid());
	if (write(fd, line, len) != len)
		stamp_die("write", file);
	close(fd);
	stamp_ready();
	for (;;)
		pause();
}
