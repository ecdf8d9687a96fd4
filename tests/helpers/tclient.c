/*
 * tclient.c: test and benchmark client for line-echo services.
 *
 *	tclient [-c clients] [-n conns] [-l lines] [-w deadline] [-Hr] ADDR
 *	tclient -P HOST		print a free TCP port of HOST, exit
 *	tclient -L ADDR		listen on ADDR, print "listening PORT|PATH",
 *				hold it until stdin reaches end-of-file
 *
 * ADDR is a unix socket path (starting with "/" or ".") or [host:]port.
 * Each of the clients (a forked process) opens its connections one after
 * the other, sends the lines "cC nN lL\n" one at a time and checks that each
 * comes back unchanged.  The parent prints one summary line
 *	conns=N ok=N refused=N errors=N elapsed=S rate=R retried=N
 * (rate: completed connections per second) and exits 0 iff every
 * connection was ok.  A refused connect (ECONNREFUSED, ENOENT) is counted
 * apart from other errors; whatever is not done by the deadline (-w,
 * default 30 s) is an error.  -r: a line the server refused to take
 * (sending it failed: EPIPE, ECONNRESET) is sent again on a new connection
 * and counted in "retried"; a line that was sent and got no reply is
 * still an error.
 *
 * -H (hold): each client opens one connection, sends one line, prints
 * "reply C" when the echo arrives, and keeps the connection open until our
 * stdin reaches end-of-file (a client still waiting for its reply then
 * closes as soon as the reply is in).  Used to keep a service's children
 * busy.  Children die with the parent (PR_SET_PDEATHSIG), so a test's
 * cleanup only has to kill us.
 */
#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

struct result {
	long	 ok;
	long	 refused;
	long	 errors;
	long	 retried;
};

static struct sockaddr_storage tc_addr;
static socklen_t	 tc_addrlen;
static int		 tc_family;
static long long	 tc_deadline;	/* ms, monotonic */
static int		 tc_verbose;
static int		 tc_retry;	/* -r: resend a line whose send failed */

static void __attribute__((__noreturn__))
usage(void)
{
	fprintf(stderr, "usage: tclient [-Hrv] [-c clients] [-n conns] "
	    "[-l lines] [-w seconds] ADDR\n"
	    "       tclient -P HOST\n       tclient -L ADDR\n");
	exit(2);
}

static long
tc_num(const char *s, long min, long max)
{
	char	*end;
	long	 v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
		fprintf(stderr, "tclient: bad number: %s\n", s);
		exit(2);
	}
	return v;
}

/* Resolve ADDR into tc_addr; passive: a bare host means port 0 (bind). */
static void
tc_resolve(const char *spec, int passive)
{
	struct addrinfo	 hints, *res;
	struct sockaddr_un *sun;
	char		*copy, *host, *port, *p;
	int		 e;

	if (spec[0] == '/' || spec[0] == '.') {
		sun = (struct sockaddr_un *)&tc_addr;
		if (strlen(spec) >= sizeof(sun->sun_path)) {
			fprintf(stderr, "tclient: path too long: %s\n", spec);
			exit(2);
		}
		memset(sun, 0, sizeof(*sun));
		sun->sun_family = AF_UNIX;
		strcpy(sun->sun_path, spec);
		tc_addrlen = sizeof(*sun);
		tc_family = AF_UNIX;
		return;
	}
	if ((copy = strdup(spec)) == NULL) {
		perror("tclient: strdup");
		exit(1);
	}
	host = NULL;
	port = copy;
	if (copy[0] == '[' && (p = strchr(copy, ']')) != NULL) {
		*p++ = '\0';
		host = copy + 1;
		port = *p == ':' ? p + 1 : (char *)"0";
	} else if ((p = strrchr(copy, ':')) != NULL) {
		*p = '\0';
		host = copy;
		port = p + 1;
	} else if (passive && strspn(copy, "0123456789") != strlen(copy)) {
		host = copy;
		port = (char *)"0";
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
	if ((e = getaddrinfo(host, port, &hints, &res)) != 0) {
		fprintf(stderr, "tclient: %s: %s\n", spec, gai_strerror(e));
		exit(2);
	}
	memcpy(&tc_addr, res->ai_addr, res->ai_addrlen);
	tc_addrlen = res->ai_addrlen;
	tc_family = res->ai_family;
	freeaddrinfo(res);
	free(copy);
}

/* Milliseconds left before the deadline (at least 1 while any is left). */
static long long
tc_left(void)
{
	long long	 left = tc_deadline - now_ms();

	return left > 0 ? left : 0;
}

/* Bound the next blocking call on fd by the deadline. */
static int
tc_timeouts(int fd)
{
	struct timeval	 tv;
	long long	 left;

	if ((left = tc_left()) == 0) {
		errno = ETIMEDOUT;
		return -1;
	}
	(void)ms_timeval(left, &tv);
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1)
		return -1;
	return 0;
}

/* Connect; 0 ok, 1 refused, -1 other error. */
static int
tc_connect(int *fdp)
{
	int	 fd;

	*fdp = -1;
	if ((fd = socket(tc_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	for (;;) {
		if (tc_timeouts(fd) == -1)
			break;
		if (connect(fd, (struct sockaddr *)&tc_addr, tc_addrlen) == 0) {
			*fdp = fd;
			return 0;
		}
		if (errno == EINTR)
			continue;
		if (errno == ECONNREFUSED || errno == ENOENT) {
			close(fd);
			return 1;
		}
		break;
	}
	if (tc_verbose)
		fprintf(stderr, "tclient: connect: %s\n", strerror(errno));
	close(fd);
	return -1;
}

static int
tc_send(int fd, const char *buf, size_t len)
{
	ssize_t	 n;

	while (len > 0) {
		if (tc_timeouts(fd) == -1)
			return -1;
		if ((n = send(fd, buf, len, MSG_NOSIGNAL)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= n;
	}
	return 0;
}

/*
 * Read one line into buf (NUL-terminated, newline kept).  Anything past
 * the newline is an error: we only ever have one line in flight.
 */
static int
tc_recvline(int fd, char *buf, size_t size)
{
	size_t	 have = 0;
	ssize_t	 n;

	while (have < size - 1) {
		if (tc_timeouts(fd) == -1)
			return -1;
		if ((n = recv(fd, buf + have, size - 1 - have, 0)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			errno = ECONNRESET;
			return -1;
		}
		have += n;
		buf[have] = '\0';
		if (memchr(buf, '\n', have) != NULL)
			return strchr(buf, '\n') == buf + have - 1 ? 0 : -1;
	}
	errno = EMSGSIZE;
	return -1;
}

/* One line out, the same line back. */
static int
tc_pingpong(int fd, int c, int n, int l)
{
	char	 line[64], back[128];

	snprintf(line, sizeof(line), "c%d n%d l%d\n", c, n, l);
	/* -2: not sent (the server refused it: safe to send again). */
	if (tc_send(fd, line, strlen(line)) == -1)
		return -2;
	if (tc_recvline(fd, back, sizeof(back)) == -1)
		return -1;
	if (strcmp(line, back) != 0) {
		errno = EBADMSG;
		return -1;
	}
	return 0;
}

static void
tc_client(int c, int nconns, int nlines, struct result *r)
{
	int	 i, j, fd, rv;

	for (i = 0; i < nconns; i++) {
		if (tc_left() == 0) {
			r->errors += nconns - i;
			break;
		}
		if ((rv = tc_connect(&fd)) != 0) {
			if (rv == 1)
				r->refused++;
			else
				r->errors++;
			continue;
		}
		for (j = 0; j < nlines; j++) {
			rv = tc_pingpong(fd, c, i, j);
			/*
			 * -r: a line the server would not take (EPIPE: it
			 * shut its reading side, e.g. a link helper that
			 * stops) is sent again on a new connection.  A line
			 * that was sent and got no reply is an error.
			 */
			while (rv == -2 && tc_retry && tc_left() > 0) {
				close(fd);
				if (tc_connect(&fd) != 0) {
					fd = -1;
					break;
				}
				r->retried++;
				rv = tc_pingpong(fd, c, i, j);
			}
			if (rv != 0)
				break;
		}
		if (j < nlines) {
			if (tc_verbose)
				fprintf(stderr, "tclient: c%d n%d l%d: %s\n",
				    c, i, j, strerror(errno));
			r->errors++;
		} else
			r->ok++;
		if (fd != -1)
			close(fd);
	}
}

/*
 * Hold mode: one connection, one line; report the reply; stay until the
 * parent closes the release pipe.
 */
static void
tc_hold(int c, int release, struct result *r)
{
	struct pollfd	 pfd[2];
	char		 line[64], back[128], msg[64];
	size_t		 have = 0;
	ssize_t		 n;
	long long	 left;
	int		 fd, rv, got = 0, released = 0, len;

	if ((rv = tc_connect(&fd)) != 0) {
		if (rv == 1)
			r->refused++;
		else
			r->errors++;
		return;
	}
	snprintf(line, sizeof(line), "c%d n0 l0\n", c);
	if (tc_send(fd, line, strlen(line)) == -1) {
		r->errors++;
		close(fd);
		return;
	}
	while (!got || !released) {
		pfd[0].fd = got ? -1 : fd;
		pfd[0].events = POLLIN;
		pfd[1].fd = released ? -1 : release;
		pfd[1].events = POLLIN;
		left = got ? -1 : tc_left();
		if (left == 0)
			break;
		if (poll(pfd, 2, left > 0 ? (int)left : -1) == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[1].revents != 0) {
			/* The parent never writes: this is end-of-file. */
			released = 1;
		}
		if (pfd[0].revents == 0)
			continue;
		if ((n = recv(fd, back + have, sizeof(back) - 1 - have,
		    MSG_DONTWAIT)) == -1) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			break;
		}
		if (n == 0)
			break;
		have += n;
		back[have] = '\0';
		if (strchr(back, '\n') == NULL && have < sizeof(back) - 1)
			continue;
		if (strcmp(back, line) != 0)
			break;
		got = 1;
		len = snprintf(msg, sizeof(msg), "reply %d\n", c);
		(void)write(STDOUT_FILENO, msg, len);
	}
	if (got)
		r->ok++;
	else
		r->errors++;
	close(fd);
}

/* -P: a port the kernel considers free right now. */
static int
tc_freeport(const char *host)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sl = sizeof(ss);
	int			 fd;

	tc_resolve(host, 1);
	if ((fd = socket(tc_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&tc_addr, tc_addrlen) == -1 ||
	    getsockname(fd, (struct sockaddr *)&ss, &sl) == -1) {
		fprintf(stderr, "tclient: %s: %s\n", host, strerror(errno));
		return 1;
	}
	printf("%d\n", ntohs(ss.ss_family == AF_INET6 ?
	    ((struct sockaddr_in6 *)&ss)->sin6_port :
	    ((struct sockaddr_in *)&ss)->sin_port));
	close(fd);
	return 0;
}

/* -L: occupy an address until stdin ends. */
static int
tc_listen(const char *spec)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sl = sizeof(ss);
	char			 buf[256];
	int			 fd;

	tc_resolve(spec, 1);
	if ((fd = socket(tc_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&tc_addr, tc_addrlen) == -1 ||
	    listen(fd, 16) == -1 ||
	    getsockname(fd, (struct sockaddr *)&ss, &sl) == -1) {
		fprintf(stderr, "tclient: %s: %s\n", spec, strerror(errno));
		return 1;
	}
	if (tc_family == AF_UNIX)
		printf("listening %s\n", spec);
	else
		printf("listening %d\n", ntohs(ss.ss_family == AF_INET6 ?
		    ((struct sockaddr_in6 *)&ss)->sin6_port :
		    ((struct sockaddr_in *)&ss)->sin_port));
	fflush(stdout);
	while (read(STDIN_FILENO, buf, sizeof(buf)) > 0 || errno == EINTR)
		errno = 0;
	if (tc_family == AF_UNIX)
		(void)unlink(spec);
	close(fd);
	return 0;
}

int
main(int argc, char *argv[])
{
	struct result	 total = { 0, 0, 0, 0 }, r;
	char		 buf[256];
	long long	 start;
	double		 elapsed;
	pid_t		 pid, parent;
	ssize_t		 n;
	int		 ch, nclients = 1, nconns = 1, nlines = 1, hold = 0;
	int		 freeport = 0, listenmode = 0, i, status;
	int		 results[2], release[2];
	long		 deadline = 30, expected;

	while ((ch = getopt(argc, argv, "c:Hl:LPn:rvw:")) != -1) {
		switch (ch) {
		case 'c':
			nclients = tc_num(optarg, 1, 10000);
			break;
		case 'H':
			hold = 1;
			break;
		case 'l':
			nlines = tc_num(optarg, 0, 1000000);
			break;
		case 'L':
			listenmode = 1;
			break;
		case 'n':
			nconns = tc_num(optarg, 1, 100000000);
			break;
		case 'P':
			freeport = 1;
			break;
		case 'r':
			tc_retry = 1;
			break;
		case 'v':
			tc_verbose = 1;
			break;
		case 'w':
			deadline = tc_num(optarg, 1, 86400);
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1)
		usage();
	if (freeport)
		return tc_freeport(argv[0]);
	if (listenmode)
		return tc_listen(argv[0]);
	tc_resolve(argv[0], 0);
	signal(SIGPIPE, SIG_IGN);
	if (hold)
		nconns = 1;

	if (pipe2(results, O_CLOEXEC) == -1 || pipe2(release, O_CLOEXEC) == -1) {
		perror("tclient: pipe");
		return 1;
	}
	start = now_ms();
	tc_deadline = start + deadline * 1000LL;
	parent = getpid();
	for (i = 0; i < nclients; i++) {
		if ((pid = fork()) == -1) {
			perror("tclient: fork");
			total.errors += (long)(nclients - i) * nconns;
			break;
		}
		if (pid == 0) {
			(void)prctl(PR_SET_PDEATHSIG, SIGTERM);
			if (getppid() != parent)
				_exit(1);
			close(results[0]);
			close(release[1]);
			memset(&r, 0, sizeof(r));
			if (hold)
				tc_hold(i, release[0], &r);
			else
				tc_client(i, nconns, nlines, &r);
			/* One small record: atomic on a pipe. */
			(void)write(results[1], &r, sizeof(r));
			_exit(0);
		}
	}
	close(results[1]);
	close(release[0]);
	if (hold) {
		while ((n = read(STDIN_FILENO, buf, sizeof(buf))) != 0)
			if (n == -1 && errno != EINTR)
				break;
	}
	close(release[1]);

	expected = (long)nclients * nconns;
	while ((n = read(results[0], &r, sizeof(r))) != 0) {
		if (n == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (n != (ssize_t)sizeof(r))
			break;
		total.ok += r.ok;
		total.refused += r.refused;
		total.errors += r.errors;
		total.retried += r.retried;
	}
	while (wait(&status) > 0 || errno == EINTR)
		;
	/* A client that died without reporting: its connections failed. */
	if (total.ok + total.refused + total.errors < expected)
		total.errors = expected - total.ok - total.refused;
	elapsed = (now_ms() - start) / 1000.0;
	printf("conns=%ld ok=%ld refused=%ld errors=%ld elapsed=%.3f "
	    "rate=%.1f retried=%ld\n", expected, total.ok, total.refused,
	    total.errors, elapsed, elapsed > 0 ? total.ok / elapsed : 0.0,
	    total.retried);
	fflush(stdout);
	return total.ok == expected ? 0 : 1;
}
