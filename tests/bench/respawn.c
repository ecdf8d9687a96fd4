/*
 * respawn.c: the restart benchmark's driver: kill a supervised program,
 * time until its replacement runs.
 *
 *	respawn [-v] [-n kills] [-l live_ms] [-s settle_ms] [-w timeout_ms]
 *	    NAME=STAMPFILE...
 *
 * Each STAMPFILE is appended to by stamp(1) ("NS PID", CLOCK_MONOTONIC)
 * every time a supervisor starts it.  In each of the rounds, every target
 * in turn (the order rotates from round to round, so that none is always
 * first) gets: settle_ms of quiet, t0 = CLOCK_MONOTONIC, SIGKILL to the pid
 * of the last line, then a wait (inotify, no polling) for a new line; the
 * sample is its NS - t0.  Before a round every current process has lived
 * at least live_ms: runsv and s6-supervise delay the restart of a program
 * that ran less than a second, and that back-off is not what we measure.
 *
 * Prints one line per target:
 *	NAME n=N median_us=M min_us=A p90_us=P max_us=B
 * -v prints every sample on stderr.  Exits 0; 1 if a target did not come
 * back within timeout_ms (its line then says "NAME failed: why"); 2 on
 * bad usage.
 */
#include <sys/types.h>
#include <sys/inotify.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct target {
	const char	*name;
	const char	*file;
	long		 lines;		/* lines seen in the file */
	long long	 last_ns;	/* stamp of the last line */
	long		 last_pid;
	long long	*samples;	/* ns */
	int		 n;
	const char	*failed;
};

static int	 verbose;
static int	 ifd = -1;

static long long
now_ns(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void
sleep_ns(long long ns)
{
	struct timespec	 ts;

	if (ns <= 0)
		return;
	ts.tv_sec = ns / 1000000000LL;
	ts.tv_nsec = ns % 1000000000LL;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static long
num_arg(const char *s, long min, long max)
{
	char	*end;
	long	 v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
		fprintf(stderr, "respawn: bad number: %s\n", s);
		exit(2);
	}
	return v;
}

/* Count the lines of t's file and parse the last one; -1 if unreadable. */
static int
target_read(struct target *t)
{
	char		 buf[65536], *p, *last;
	ssize_t		 n;
	size_t		 len = 0;
	long		 lines = 0;
	long long	 ns;
	long		 pid;
	int		 fd;

	if ((fd = open(t->file, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	while (len < sizeof(buf) - 1 &&
	    (n = read(fd, buf + len, sizeof(buf) - 1 - len)) != 0) {
		if (n == -1) {
			if (errno == EINTR)
				continue;
			close(fd);
			return -1;
		}
		len += n;
	}
	close(fd);
	buf[len] = '\0';
	/* Only whole lines count: a writer may be half-way (it is not). */
	last = NULL;
	for (p = buf; (p = strchr(p, '\n')) != NULL; p++)
		lines++;
	if (lines == 0) {
		t->lines = 0;
		return 0;
	}
	/* Start of the last complete line. */
	p = buf + len - 1;		/* its newline */
	while (*p != '\n')
		p--;
	last = p;
	while (last > buf && last[-1] != '\n')
		last--;
	if (sscanf(last, "%lld %ld", &ns, &pid) != 2)
		return -1;
	t->lines = lines;
	t->last_ns = ns;
	t->last_pid = pid;
	return 0;
}

/* Wait until t's file has more than `lines' lines, or the deadline. */
static int
target_wait(struct target *t, long lines, long long deadline)
{
	struct pollfd	 pfd;
	char		 ev[4096];
	long long	 left;

	for (;;) {
		if (target_read(t) == 0 && t->lines > lines)
			return 0;
		if ((left = deadline - now_ns()) <= 0)
			return -1;
		pfd.fd = ifd;
		pfd.events = POLLIN;
		/* At most 100 ms: a missed event only costs a re-read. */
		if (poll(&pfd, 1, left > 100000000LL ? 100 :
		    (int)(left / 1000000) + 1) > 0)
			while (read(ifd, ev, sizeof(ev)) > 0)
				;
	}
}

static int
cmp_ll(const void *a, const void *b)
{
	long long	 x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

static void
target_report(struct target *t)
{
	long long	*s = t->samples;
	int		 n = t->n;

	if (t->failed != NULL) {
		printf("%s failed: %s\n", t->name, t->failed);
		return;
	}
	qsort(s, n, sizeof(*s), cmp_ll);
	printf("%s n=%d median_us=%.0f min_us=%.0f p90_us=%.0f "
	    "max_us=%.0f\n", t->name, n,
	    (n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2) / 1000.0,
	    s[0] / 1000.0, s[(n * 9 + 9) / 10 - 1] / 1000.0,
	    s[n - 1] / 1000.0);
}

static void
usage(void)
{
	fprintf(stderr, "usage: respawn [-v] [-n kills] [-l live_ms] "
	    "[-s settle_ms] [-w timeout_ms] NAME=STAMPFILE...\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	struct target	*tg, *t;
	long long	 t0, deadline, wake;
	char		*eq;
	long		 kills = 50, live_ms = 1200, settle_ms = 20;
	long		 timeout_ms = 10000, lines;
	int		 ch, nt, i, r, k, rc = 0;

	while ((ch = getopt(argc, argv, "l:n:s:vw:")) != -1) {
		switch (ch) {
		case 'l':
			live_ms = num_arg(optarg, 0, 3600000);
			break;
		case 'n':
			kills = num_arg(optarg, 1, 100000);
			break;
		case 's':
			settle_ms = num_arg(optarg, 0, 60000);
			break;
		case 'v':
			verbose = 1;
			break;
		case 'w':
			timeout_ms = num_arg(optarg, 1, 3600000);
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();
	nt = argc;
	if ((tg = calloc(nt, sizeof(*tg))) == NULL ||
	    (ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1) {
		perror("respawn: setup");
		return 1;
	}
	deadline = now_ns() + timeout_ms * 1000000LL;
	for (i = 0; i < nt; i++) {
		t = &tg[i];
		if ((eq = strchr(argv[i], '=')) == NULL || eq == argv[i])
			usage();
		*eq = '\0';
		t->name = argv[i];
		t->file = eq + 1;
		if ((t->samples = calloc(kills, sizeof(*t->samples))) == NULL) {
			perror("respawn: calloc");
			return 1;
		}
		/* The first start, before anything is killed. */
		if (target_wait(t, 0, deadline) == -1 ||
		    inotify_add_watch(ifd, t->file, IN_MODIFY) == -1) {
			t->failed = "never started";
			rc = 1;
		}
	}

	for (r = 0; r < kills; r++) {
		/* Every current process has lived live_ms. */
		wake = 0;
		for (i = 0; i < nt; i++)
			if (!tg[i].failed && tg[i].last_ns > wake)
				wake = tg[i].last_ns;
		sleep_ns(wake + live_ms * 1000000LL - now_ns());
		for (k = 0; k < nt; k++) {
			t = &tg[(r + k) % nt];
			if (t->failed)
				continue;
			sleep_ns(settle_ms * 1000000LL);
			lines = t->lines;
			t0 = now_ns();
			if (kill((pid_t)t->last_pid, SIGKILL) == -1) {
				t->failed = strerror(errno);
				rc = 1;
				continue;
			}
			if (target_wait(t, lines, t0 + timeout_ms * 1000000LL)
			    == -1) {
				t->failed = "no restart within the timeout";
				rc = 1;
				continue;
			}
			t->samples[t->n++] = t->last_ns - t0;
			if (verbose)
				fprintf(stderr, "%s %d %.0f us\n", t->name, r,
				    (t->last_ns - t0) / 1000.0);
		}
	}
	for (i = 0; i < nt; i++)
		target_report(&tg[i]);
	return rc;
}
