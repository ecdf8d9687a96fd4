/*
 * lclient.c: pipelining latency client for line services (link, echo).
 *
 *	lclient [-CS] [-c clients] [-W window] [-t seconds] [-u seconds]
 *	    [-s bytes] [-w seconds] PATH
 *
 * Each of the clients (a forked process) opens one connection to the unix
 * stream socket PATH and keeps -W requests (default 16) in flight on it:
 * one line "cC sN" padded with "x" to -s bytes (newline included; default
 * 32), new ones sent as replies come back: all that fit in the window
 * in one write, or with -S each in a write of its own.  Replies must come back
 * in order and unchanged (what echo does, and what link does for each
 * client).  Every request's round trip is taken with CLOCK_MONOTONIC,
 * from just before the write that carries it to the read that completes
 * its reply.
 *
 * -C (connect per request): each request on a connection of its own,
 * one in flight per client: connect, write the line, read the reply,
 * close; the round trip is taken from just before connect(2) to the read
 * that completes the reply.  A connection closed before its whole reply
 * came is an error, as is a refused connect.
 *
 * All clients connect first, then start together.  The first -u seconds
 * (default 0.5) are a warm-up; requests answered in the -t seconds after
 * it (default 1.5) are counted and their round trips kept.  Then the
 * clients stop sending, collect what is still in flight and close.  The
 * parent prints one line
 *	clients=C window=W size=S requests=N errors=E seconds=T rate=R
 *	    p50_us=A p99_us=B max_us=M
 * (rate: requests answered per second in the measured period, all
 * clients together; percentiles over every request answered in it) and
 * exits 0 iff no client saw an error.  An error is a failed connect, a
 * reply that is not the request (a link's "con_lost", say), an early
 * end-of-file, or no progress by the deadline (-w, default 30 s).  A
 * client that fails says why on stderr.
 *
 * Round trips go to a shared anonymous mapping (one slice per client) as
 * 32-bit nanosecond counts, at most LC_MAXSAMPLES per client; past that
 * the requests are still counted.  Children die with the parent
 * (PR_SET_PDEATHSIG).
 */
#include <sys/types.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LC_MAXCLIENTS	256
#define LC_MAXWINDOW	1024
#define LC_MAXSIZE	4096
#define LC_MAXSAMPLES	(1 << 21)	/* round trips kept per client */
#define LC_RBUF		65536

/* What one client reports; in the shared mapping. */
struct lc_slot {
	long long	 answered;	/* in the measured period */
	long long	 kept;		/* of those, round trips stored */
	int		 error;
};

/* Shared by all clients: the common start time, then the slots. */
struct lc_shared {
	long long	 start_ns;
	struct lc_slot	 slot[LC_MAXCLIENTS];
};

static struct lc_shared	*lc_sh;
static uint32_t		*lc_samples;	/* LC_MAXSAMPLES per client */
static struct sockaddr_un lc_addr;
static int		 lc_clients = 1;
static int		 lc_window = 16;
static int		 lc_size = 32;
static int		 lc_single;	/* -S: one write per request */
static int		 lc_conn_each;	/* -C: one connection per request */
static long long	 lc_warm_ns = 500000000LL;
static long long	 lc_run_ns = 1500000000LL;
static long long	 lc_deadline_ns;

static void __attribute__((__noreturn__))
usage(void)
{
	fprintf(stderr, "usage: lclient [-CS] [-c clients] [-W window] "
	    "[-t seconds] [-u seconds] [-s bytes] [-w seconds] PATH\n");
	exit(2);
}

static long long
lc_now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static long
lc_num(const char *s, long min, long max)
{
	char	*end;
	long	 v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
		fprintf(stderr, "lclient: bad number: %s\n", s);
		exit(2);
	}
	return v;
}

/* Seconds, possibly with a fraction ("1.5"), as nanoseconds. */
static long long
lc_seconds(const char *s, double max)
{
	char	*end;
	double	 v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v >= 0) || v > max) {
		fprintf(stderr, "lclient: bad time: %s\n", s);
		exit(2);
	}
	return (long long)(v * 1e9);
}

/*
 * Request n of client c, newline included, into buf (lc_size + 1 bytes):
 * the same text is built again to check the reply.
 */
static size_t
lc_request(char *buf, int c, long long n)
{
	int	 len;

	len = snprintf(buf, (size_t)lc_size + 1, "c%d s%lld", c, n);
	if (len < 0 || len > lc_size - 1)
		len = lc_size - 1;
	if (len < lc_size - 1) {
		memset(buf + len, 'x', (size_t)(lc_size - 1 - len));
		len = lc_size - 1;
	}
	buf[len++] = '\n';
	return (size_t)len;
}

/* Wait for fd (events) until the deadline; 0 ready, -1 timeout/error. */
static int
lc_wait(int fd, short events)
{
	struct pollfd	 pfd;
	long long	 left;
	int		 n;

	for (;;) {
		if ((left = lc_deadline_ns - lc_now()) <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		pfd.fd = fd;
		pfd.events = events;
		n = poll(&pfd, 1, (int)(left / 1000000 + 1));
		if (n > 0)
			return 0;
		if (n == -1 && errno != EINTR)
			return -1;
	}
}

static int
lc_send(int fd, const char *buf, size_t len)
{
	ssize_t	 n;

	while (len > 0) {
		n = send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				return -1;
			if (lc_wait(fd, POLLOUT) == -1)
				return -1;
			continue;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
lc_connect(void)
{
	int	 fd;

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	while (connect(fd, (struct sockaddr *)&lc_addr,
	    sizeof(lc_addr)) == -1) {
		if (errno != EINTR) {
			close(fd);
			return -1;
		}
	}
	return fd;
}

/*
 * One client: requests out, replies checked and timed, until the end of
 * the measured period and then until nothing is in flight.  Returns 0, or
 * -1 with a message on stderr.
 */
static int
lc_client_run(int c, int fd)
{
	struct lc_slot	*sl = &lc_sh->slot[c];
	uint32_t	*samples = lc_samples + (size_t)c * LC_MAXSAMPLES;
	long long	*sent_at, sent = 0, done = 0, t, rtt;
	long long	 from, until;
	char		*rbuf, *out, want[LC_MAXSIZE + 1];
	size_t		 rlen = 0, olen, wlen, i, start;
	ssize_t		 n;

	from = lc_sh->start_ns + lc_warm_ns;
	until = from + lc_run_ns;
	sent_at = calloc((size_t)lc_window, sizeof(*sent_at));
	rbuf = malloc(LC_RBUF);
	out = malloc((size_t)lc_window * ((size_t)lc_size + 1));
	if (sent_at == NULL || rbuf == NULL || out == NULL) {
		fprintf(stderr, "lclient: client %d: out of memory\n", c);
		return -1;
	}
	for (;;) {
		/*
		 * Fill the window: one write for all that fits, or with -S
		 * one write per request.
		 */
		olen = 0;
		while ((t = lc_now()) < until && sent - done < lc_window) {
			olen += lc_request(out + olen, c, sent);
			sent_at[sent % lc_window] = t;
			sent++;
			if (lc_single || sent - done == lc_window) {
				if (lc_send(fd, out, olen) == -1) {
					fprintf(stderr, "lclient: client %d: "
					    "send: %s\n", c, strerror(errno));
					return -1;
				}
				olen = 0;
			}
		}
		if (olen > 0 && lc_send(fd, out, olen) == -1) {
			fprintf(stderr, "lclient: client %d: send: %s\n", c,
			    strerror(errno));
			return -1;
		}
		if (done == sent)
			break;
		if (lc_wait(fd, POLLIN) == -1) {
			fprintf(stderr, "lclient: client %d: no reply to "
			    "request %lld: %s\n", c, done, strerror(errno));
			return -1;
		}
		n = read(fd, rbuf + rlen, LC_RBUF - rlen);
		if (n == -1) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			fprintf(stderr, "lclient: client %d: read: %s\n", c,
			    strerror(errno));
			return -1;
		}
		if (n == 0) {
			fprintf(stderr, "lclient: client %d: end-of-file with "
			    "%lld requests in flight\n", c, sent - done);
			return -1;
		}
		t = lc_now();
		rlen += (size_t)n;
		/* Every complete line is the reply to the oldest request. */
		start = 0;
		for (i = 0; i < rlen; i++) {
			if (rbuf[i] != '\n')
				continue;
			if (done == sent) {
				fprintf(stderr, "lclient: client %d: a reply "
				    "nobody asked for\n", c);
				return -1;
			}
			wlen = lc_request(want, c, done);
			if (i + 1 - start != wlen ||
			    memcmp(rbuf + start, want, wlen) != 0) {
				fprintf(stderr, "lclient: client %d: request "
				    "%lld: unexpected reply \"%.*s\"\n", c,
				    done, (int)(i - start > 80 ? 80 :
				    i - start), rbuf + start);
				return -1;
			}
			if (t >= from && t < until) {
				sl->answered++;
				rtt = t - sent_at[done % lc_window];
				if (sl->kept < LC_MAXSAMPLES)
					samples[sl->kept++] = rtt > UINT32_MAX ?
					    UINT32_MAX : (uint32_t)rtt;
			}
			done++;
			start = i + 1;
		}
		if (start > 0) {
			memmove(rbuf, rbuf + start, rlen - start);
			rlen -= start;
		} else if (rlen == LC_RBUF) {
			fprintf(stderr, "lclient: client %d: reply longer "
			    "than %d bytes\n", c, LC_RBUF);
			return -1;
		}
	}
	free(sent_at);
	free(rbuf);
	free(out);
	return 0;
}

/*
 * One client in -C mode: a connection per request, one request at a
 * time.  Returns 0, or -1 with a message on stderr.
 */
static int
lc_client_each(int c)
{
	struct lc_slot	*sl = &lc_sh->slot[c];
	uint32_t	*samples = lc_samples + (size_t)c * LC_MAXSAMPLES;
	long long	 from, until, t0, t, rtt, n = 0;
	char		 req[LC_MAXSIZE + 1], rbuf[LC_MAXSIZE + 1];
	size_t		 len, rlen;
	ssize_t		 r;
	int		 fd;

	from = lc_sh->start_ns + lc_warm_ns;
	until = from + lc_run_ns;
	while ((t0 = lc_now()) < until) {
		len = lc_request(req, c, n);
		if ((fd = lc_connect()) == -1) {
			fprintf(stderr, "lclient: client %d: request %lld: "
			    "connect: %s\n", c, n, strerror(errno));
			return -1;
		}
		if (lc_send(fd, req, len) == -1) {
			fprintf(stderr, "lclient: client %d: request %lld: "
			    "send: %s\n", c, n, strerror(errno));
			close(fd);
			return -1;
		}
		rlen = 0;
		while (rlen == 0 || rbuf[rlen - 1] != '\n') {
			if (lc_wait(fd, POLLIN) == -1) {
				fprintf(stderr, "lclient: client %d: no reply "
				    "to request %lld: %s\n", c, n,
				    strerror(errno));
				close(fd);
				return -1;
			}
			r = read(fd, rbuf + rlen, len - rlen);
			if (r == -1 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (r <= 0) {
				fprintf(stderr, "lclient: client %d: request "
				    "%lld: %s after %zu bytes of the reply\n",
				    c, n, r == 0 ? "end-of-file" :
				    strerror(errno), rlen);
				close(fd);
				return -1;
			}
			rlen += (size_t)r;
			if (rlen == len && rbuf[rlen - 1] != '\n')
				break;
		}
		t = lc_now();
		close(fd);
		if (rlen != len || memcmp(rbuf, req, len) != 0) {
			fprintf(stderr, "lclient: client %d: request %lld: "
			    "unexpected reply \"%.*s\"\n", c, n,
			    (int)(rlen > 80 ? 80 : rlen), rbuf);
			return -1;
		}
		if (t >= from && t < until) {
			sl->answered++;
			rtt = t - t0;
			if (sl->kept < LC_MAXSAMPLES)
				samples[sl->kept++] = rtt > UINT32_MAX ?
				    UINT32_MAX : (uint32_t)rtt;
		}
		n++;
	}
	return 0;
}

/* A forked client: connect, say ready, wait for go, run, exit. */
static void __attribute__((__noreturn__))
lc_client(int c, int ready, int go)
{
	char	 b = 'r';
	int	 fd, rc;

	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* -C: the first connection shows that the service is there. */
	if ((fd = lc_connect()) == -1) {
		fprintf(stderr, "lclient: client %d: connect %s: %s\n", c,
		    lc_addr.sun_path, strerror(errno));
		lc_sh->slot[c].error = 1;
		b = 'e';
	}
	if (write(ready, &b, 1) != 1 || b == 'e')
		_exit(1);
	/* The parent closes "go" once every client is connected. */
	while (read(go, &b, 1) == -1 && errno == EINTR)
		;
	if (lc_conn_each) {
		close(fd);
		rc = lc_client_each(c);
	} else {
		rc = lc_client_run(c, fd);
		close(fd);
	}
	if (rc == -1)
		lc_sh->slot[c].error = 1;
	_exit(rc == -1 ? 1 : 0);
}

static int
lc_cmp(const void *a, const void *b)
{
	uint32_t	 x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* The p-th percentile (0 < p <= 100) of n sorted values, in µs. */
static double
lc_pct(const uint32_t *v, size_t n, double p)
{
	size_t	 i;

	if (n == 0)
		return 0;
	i = (size_t)(p / 100.0 * (double)n + 0.999999);
	if (i < 1)
		i = 1;
	if (i > n)
		i = n;
	return v[i - 1] / 1000.0;
}

int
main(int argc, char *argv[])
{
	uint32_t	*all;
	pid_t		 pids[LC_MAXCLIENTS];
	long long	 answered = 0;
	size_t		 kept = 0, k;
	int		 ch, c, ready[2], go[2], errors = 0, st;
	char		 b;

	while ((ch = getopt(argc, argv, "CSc:W:t:u:s:w:")) != -1) {
		switch (ch) {
		case 'c':
			lc_clients = (int)lc_num(optarg, 1, LC_MAXCLIENTS);
			break;
		case 'C':
			lc_conn_each = 1;
			break;
		case 'S':
			lc_single = 1;
			break;
		case 'W':
			lc_window = (int)lc_num(optarg, 1, LC_MAXWINDOW);
			break;
		case 't':
			lc_run_ns = lc_seconds(optarg, 3600);
			break;
		case 'u':
			lc_warm_ns = lc_seconds(optarg, 3600);
			break;
		case 's':
			lc_size = (int)lc_num(optarg, 16, LC_MAXSIZE);
			break;
		case 'w':
			lc_deadline_ns = lc_seconds(optarg, 86400);
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 1)
		usage();
	if (lc_conn_each)
		lc_window = 1;
	if (lc_run_ns == 0) {
		fprintf(stderr, "lclient: -t must be more than 0\n");
		exit(2);
	}
	if (strlen(argv[optind]) >= sizeof(lc_addr.sun_path)) {
		fprintf(stderr, "lclient: path too long: %s\n", argv[optind]);
		exit(2);
	}
	lc_addr.sun_family = AF_UNIX;
	strcpy(lc_addr.sun_path, argv[optind]);
	lc_deadline_ns = lc_now() + (lc_deadline_ns ? lc_deadline_ns :
	    30000000000LL);

	lc_sh = mmap(NULL, sizeof(*lc_sh), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	lc_samples = mmap(NULL, (size_t)lc_clients * LC_MAXSAMPLES *
	    sizeof(*lc_samples), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (lc_sh == MAP_FAILED || lc_samples == MAP_FAILED) {
		perror("lclient: mmap");
		exit(1);
	}
	if (pipe2(ready, O_CLOEXEC) == -1 || pipe2(go, O_CLOEXEC) == -1) {
		perror("lclient: pipe");
		exit(1);
	}
	for (c = 0; c < lc_clients; c++) {
		if ((pids[c] = fork()) == -1) {
			perror("lclient: fork");
			exit(1);
		}
		if (pids[c] == 0) {
			close(ready[0]);
			close(go[1]);
			lc_client(c, ready[1], go[0]);
		}
	}
	close(ready[1]);
	close(go[0]);
	for (c = 0; c < lc_clients; c++) {
		if (read(ready[0], &b, 1) != 1)
			break;
	}
	lc_sh->start_ns = lc_now();
	close(go[1]);		/* go */
	for (c = 0; c < lc_clients; c++) {
		while (waitpid(pids[c], &st, 0) == -1 && errno == EINTR)
			;
		if (lc_sh->slot[c].error || !WIFEXITED(st) ||
		    WEXITSTATUS(st) != 0)
			errors++;
		answered += lc_sh->slot[c].answered;
		kept += (size_t)lc_sh->slot[c].kept;
	}

	/* Gather every kept round trip in one array and sort it. */
	if ((all = malloc((kept ? kept : 1) * sizeof(*all))) == NULL) {
		perror("lclient: malloc");
		exit(1);
	}
	k = 0;
	for (c = 0; c < lc_clients; c++) {
		memcpy(all + k, lc_samples + (size_t)c * LC_MAXSAMPLES,
		    (size_t)lc_sh->slot[c].kept * sizeof(*all));
		k += (size_t)lc_sh->slot[c].kept;
	}
	qsort(all, kept, sizeof(*all), lc_cmp);
	printf("clients=%d window=%d size=%d requests=%lld errors=%d "
	    "seconds=%.3f rate=%.1f p50_us=%.1f p99_us=%.1f max_us=%.1f\n",
	    lc_clients, lc_window, lc_size, answered, errors,
	    lc_run_ns / 1e9, answered / (lc_run_ns / 1e9),
	    lc_pct(all, kept, 50), lc_pct(all, kept, 99),
	    kept ? all[kept - 1] / 1000.0 : 0.0);
	free(all);
	return errors == 0 ? 0 : 1;
}
