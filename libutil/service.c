/*
 * service.c: the child side of the master's contract (linkmaster-contract(7)).
 *
 * service_init() turns what the master hands over (listen fds from 3,
 * LISTEN_*, MASTER_* environment, "-o name=value" options) into plain
 * state; service_run_prefork() and service_run_trigger() are Postfix's
 * single_server and trigger_server loops on epoll (EPOLLEXCLUSIVE), except
 * that clients served back to back make one run: one TAKEN, one AVAIL.
 *
 * Failure policy: anything wrong with what we were given (bad -o syntax, a
 * malformed number, an option the helper never asked for by the time it
 * is ready, a status fd that is not open, no listen socket) is
 * fatal with exit 1, before READY, so the master counts a bad startup and
 * throttles instead of respawning a broken helper in a tight loop.  Once
 * running, every way out is exit 0: end-of-file on the status channel
 * (master gone or stopping us; we are between clients when we notice),
 * max_use clients served, or max_idle seconds without one.  Status sends
 * that fail are ignored: a dead master shows up as end-of-file anyway.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sys/epoll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fdpass.h"
#include "log.h"
#include "proto.h"
#include "service.h"
#include "sock.h"
#include "util.h"

#define SERVICE_FD_BASE		3	/* first LISTEN_FDS fd (systemd) */
#define SERVICE_MAX_LISTEN	1024	/* more is a broken environment */
#define SERVICE_MAX_ERRORS	10	/* accept/read failures in a row */
#define SERVICE_TRIGGER_BUF	65536	/* largest datagram we take whole */
#define SERVICE_PASS_MS		10000	/* wait for a passed connection */

struct service_opt {
	char	*name;
	char	*value;
	int	 used;		/* looked up by the helper */
};

static struct {
	const char	*name;
	int		 argc;
	char		**argv;
	struct service_opt *opts;
	size_t		 nopts;
	int		*lfds;
	char		**lnames;	/* LISTEN_FDNAMES, one per lfds */
	int		 nlisten;
	int		 status_fd;
	int		 max_use;
	int		 max_idle;
	int		 stopping;
	int		 pass;		/* MASTER_TYPE=pass */
	int		 checked;	/* service_options_check() done */
} svc = { .status_fd = -1 };

/* An environment variable, treating "" as absent. */
static const char *
service_env(const char *name, const char *dflt)
{
	const char	*v;

	if ((v = getenv(name)) == NULL || *v == '\0')
		return dflt;
	return v;
}

static long long
service_env_num(const char *name, long long dflt, long long min,
    long long max)
{
	const char	*v;
	long long	 n;

	if ((v = service_env(name, NULL)) == NULL)
		return dflt;
	if (parse_num(v, min, max, &n) == -1)
		fatalx("bad %s=\"%s\": expected a number from %lld to %lld",
		    name, v, min, max);
	return n;
}

static int
service_is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * "-o name=value", or Postfix's "-o { name = value }", which the master
 * hands over as the one argument "name = value": blanks around the name
 * and the value are not part of them (Postfix's split_nameval).  A name
 * is letters, digits and "_", so that a typo such as "-o timeout 1" is
 * an error and not an option nobody asks for.
 */
static void
service_opt_add(const char *arg)
{
	const char	*eq, *s, *e, *v, *ve, *p;

	if ((eq = strchr(arg, '=')) == NULL)
		fatalx("bad option \"-o %s\": expected -o name=value or "
		    "-o { name = value }", arg);
	for (s = arg; s < eq && service_is_blank(*s); s++)
		;
	for (e = eq; e > s && service_is_blank(e[-1]); e--)
		;
	for (p = s; p < e; p++)
		if (!(*p == '_' || (*p >= 'a' && *p <= 'z') ||
		    (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')))
			break;
	if (s == e || p != e)
		fatalx("bad option \"-o %s\": expected -o name=value or "
		    "-o { name = value }, a name of letters, digits and "
		    "\"_\"", arg);
	for (v = eq + 1; service_is_blank(*v); v++)
		;
	for (ve = v + strlen(v); ve > v && service_is_blank(ve[-1]); ve--)
		;
	svc.opts = xreallocarray(svc.opts, svc.nopts + 1, sizeof(*svc.opts));
	svc.opts[svc.nopts].name = xstrndup(s, e - s);
	svc.opts[svc.nopts].value = xstrndup(v, ve - v);
	svc.opts[svc.nopts].used = 0;
	svc.nopts++;
}

/* name: from LISTEN_FDNAMES, or NULL; it becomes ours. */
static void
service_add_listen(int fd, char *name)
{
	if (svc.nlisten >= SERVICE_MAX_LISTEN)
		fatalx("too many listen sockets");
	svc.lfds = xreallocarray(svc.lfds, svc.nlisten + 1,
	    sizeof(*svc.lfds));
	svc.lnames = xreallocarray(svc.lnames, svc.nlisten + 1,
	    sizeof(*svc.lnames));
	svc.lfds[svc.nlisten] = fd;
	svc.lnames[svc.nlisten++] = name;
}

/*
 * LISTEN_FDNAMES: one name per fd, colon-separated (systemd's format; the
 * master names a unit's sockets after it and a handed-over link
 * "handoff").  Unset means no fd has a name; a count that does not match
 * LISTEN_FDS is a broken contract, and guessing which fd is which could
 * treat a listener as a link.  Returns n names (NULL for an empty one).
 */
static char **
service_env_fdnames(long long n)
{
	const char	*v, *p, *colon;
	char		**names;
	long long	 i, count;

	names = xcalloc((size_t)n + 1, sizeof(*names));
	if ((v = getenv("LISTEN_FDNAMES")) == NULL)
		return names;
	for (count = *v != '\0', p = v; *p != '\0'; p++)
		if (*p == ':')
			count++;
	if (count != n)
		fatalx("LISTEN_FDNAMES=\"%s\" names %lld fd%s, LISTEN_FDS=%lld",
		    v, count, count == 1 ? "" : "s", n);
	for (i = 0, p = v; i < n; i++, p = colon + 1) {
		if ((colon = strchr(p, ':')) == NULL)
			colon = p + strlen(p);
		if (colon > p)
			names[i] = xstrndup(p, (size_t)(colon - p));
	}
	return names;
}

/*
 * The sd_listen_fds() rules: LISTEN_FDS only counts when LISTEN_PID is
 * ours, so a program we exec ourselves does not mistake our fds for its.
 */
static void
service_env_listen(void)
{
	const char	*v;
	char		**names;
	long long	 pid, n, i;
	int		 fd;

	if ((v = service_env("LISTEN_PID", NULL)) == NULL)
		return;
	if (parse_num(v, 1, INT_MAX, &pid) == -1)
		fatalx("bad LISTEN_PID=\"%s\": expected a process id", v);
	if ((pid_t)pid != getpid()) {
		log_debug("LISTEN_PID=%lld is not us (%ld): ignoring "
		    "LISTEN_FDS", pid, (long)getpid());
		return;
	}
	n = service_env_num("LISTEN_FDS", 0, 0, SERVICE_MAX_LISTEN);
	names = service_env_fdnames(n);
	for (i = 0; i < n; i++) {
		fd = SERVICE_FD_BASE + (int)i;
		if (fd == svc.status_fd)
			fatalx("LISTEN_FDS=%lld overlaps MASTER_STATUS_FD=%d",
			    n, svc.status_fd);
		if (fcntl(fd, F_GETFD) == -1)
			fatal("LISTEN_FDS=%lld: fd %d", n, fd);
		/* Our own children must not inherit the listeners. */
		if (sock_set_cloexec(fd, 1) == -1)
			fatal("fd %d: FD_CLOEXEC", fd);
		/*
		 * Siblings race for each connection, so an accept must
		 * never block; the master's sockets already are
		 * non-blocking, a socket from systemd may not be.
		 */
		if (sock_set_nonblock(fd, 1) == -1)
			fatal("fd %d: O_NONBLOCK", fd);
		service_add_listen(fd, names[i]);
	}
	free(names);
}

/* Standalone "-o listen=ADDR": a path (/ or . first) or [host:]port. */
static void
service_own_listen(const char *addr)
{
	char	 err[512];
	int	 fds[8], n, i;

	if (*addr == '/' || *addr == '.') {
		if ((fds[0] = sock_unix_listen(addr, SOCK_STREAM, 0666, err,
		    sizeof(err))) == -1)
			fatalx("%s", err);
		n = 1;
	} else if ((n = sock_inet_listen(addr, NULL, fds,
	    (int)(sizeof(fds) / sizeof(fds[0])), err, sizeof(err))) == -1)
		fatalx("%s", err);
	for (i = 0; i < n; i++)
		service_add_listen(fds[i], NULL);
	log_debug("listening on %s", addr);
}

void
service_init(int argc, char *argv[], const char *name)
{
	const char	*v, *type;
	int		 ch, under_master, verbose = 0;

	/* A client that goes away must be an EPIPE, not our death. */
	(void)signal(SIGPIPE, SIG_IGN);
	svc.name = name;

	/*
	 * Logging first, so that every complaint below goes somewhere.  An
	 * empty MASTER_SYSLOG_SOCKET means no syslog at all.
	 */
	under_master = service_env("MASTER_STATUS_FD", NULL) != NULL;
	if (under_master)
		log_init(service_env("MASTER_SYSLOG_NAME", name),
		    service_env("MASTER_SYSLOG_FACILITY", "daemon"),
		    (v = getenv("MASTER_SYSLOG_SOCKET")) != NULL ? v :
		    "/dev/log", 0);
	else
		log_init(name, "daemon", "/dev/log", 1);
	/* The master's log_file: ours too (relayed if we cannot open it). */
	if (under_master && (v = getenv("MASTER_LOG_FILE")) != NULL &&
	    *v != '\0')
		(void)log_set_file(v, 1);

	/* libbsd's getopt is BSD's: options must come before arguments. */
	opterr = 0;
	while ((ch = getopt(argc, argv, "o:v")) != -1) {
		switch (ch) {
		case 'o':
			service_opt_add(optarg);
			break;
		case 'v':
			verbose = 1;
			break;
		default:
			if (optopt == 'o')
				fatalx("option -o needs an argument "
				    "(-o name=value)");
			fatalx("unknown option -%c; usage: %s [-v] "
			    "[-o name=value] ...", optopt, name);
		}
	}
	svc.argc = argc - optind;
	svc.argv = argv + optind;
	log_set_verbose(verbose);

	if (under_master) {
		svc.status_fd = (int)service_env_num("MASTER_STATUS_FD", -1,
		    0, INT_MAX);
		if (fcntl(svc.status_fd, F_GETFD) == -1)
			fatal("MASTER_STATUS_FD=%d", svc.status_fd);
		if (sock_set_cloexec(svc.status_fd, 1) == -1)
			fatal("fd %d: FD_CLOEXEC", svc.status_fd);
		svc.max_use = (int)service_env_num("MASTER_MAX_USE", 0, 0,
		    INT_MAX);
		svc.max_idle = (int)service_env_num("MASTER_MAX_IDLE", 0, 0,
		    INT_MAX / 1000);
	}
	service_env_listen();

	if ((v = service_option("listen")) != NULL) {
		if (under_master)
			log_warnx("-o listen=%s ignored: the master provides "
			    "the listen sockets", v);
		else
			service_own_listen(v);
	}

	/* A daemon (or link) service legitimately has no listener. */
	type = service_env("MASTER_TYPE", "");
	svc.pass = under_master && strcmp(type, "pass") == 0;
	if (svc.nlisten == 0 && !(under_master &&
	    (strcmp(type, "daemon") == 0 || strcmp(type, "link") == 0))) {
		if (under_master)
			fatalx("no listen sockets: LISTEN_FDS/LISTEN_PID "
			    "missing or not for pid %ld", (long)getpid());
		fatalx("no listen sockets: run me from linkmaster, or "
		    "standalone with -o listen=ADDR");
	}
}

int
service_argc(void)
{
	return svc.argc;
}

char **
service_argv(void)
{
	return svc.argv;
}

const char *
service_option(const char *name)
{
	const char	*v = NULL;
	size_t		 i;

	/*
	 * The last -o of a name wins, like a later master.cf line; the
	 * earlier ones were asked for too, so none of them is unknown.
	 */
	for (i = 0; i < svc.nopts; i++)
		if (strcmp(svc.opts[i].name, name) == 0) {
			svc.opts[i].used = 1;
			v = svc.opts[i].value;
		}
	return v;
}

void
service_options_check(void)
{
	size_t	 i, unknown = 0;

	if (svc.checked)
		return;
	svc.checked = 1;
	for (i = 0; i < svc.nopts; i++) {
		if (svc.opts[i].used)
			continue;
		log_error("unknown option \"-o %s=%s\" (%s does not use "
		    "\"%s\")", svc.opts[i].name, svc.opts[i].value, svc.name,
		    svc.opts[i].name);
		unknown++;
	}
	if (unknown > 0)
		fatalx("%zu unknown option%s: not starting", unknown,
		    unknown == 1 ? "" : "s");
}

long long
service_option_num(const char *name, long long dflt, long long min,
    long long max)
{
	const char	*v;
	long long	 n;

	if ((v = service_option(name)) == NULL)
		return dflt;
	if (parse_num(v, min, max, &n) == -1)
		fatalx("bad option \"-o %s=%s\": expected a number from %lld "
		    "to %lld", name, v, min, max);
	return n;
}

long long
service_option_time(const char *name, long long dflt, long long min,
    long long max)
{
	const char	*v;
	long long	 ms;
	char		 lo[32], hi[32];

	if ((v = service_option(name)) == NULL)
		return dflt;
	if (parse_time(v, max, &ms) == -1 || ms < min)
		fatalx("bad option \"-o %s=%s\": expected a time such as 5, "
		    "5s or 200ms, from %s to %s", name, v,
		    fmt_time(min, lo, sizeof(lo)),
		    fmt_time(max, hi, sizeof(hi)));
	return ms;
}

const char *
service_option_env(const char *name, const char *env)
{
	const char	*v;

	if ((v = service_option(name)) != NULL && *v != '\0')
		return v;
	if (env != NULL && (v = getenv(env)) != NULL && *v != '\0')
		return v;
	return NULL;
}

const char *
service_host_name(void)
{
	static char	 buf[256];
	const char	*v;

	if ((v = service_option_env("host_name", "MASTER_HOST_NAME")) != NULL)
		return v;
	if (gethostname(buf, sizeof(buf)) == -1)
		fatal("gethostname");
	buf[sizeof(buf) - 1] = '\0';
	return buf;
}

int
service_nlisten(void)
{
	return svc.nlisten;
}

int
service_listen_fd(int i)
{
	if (i < 0 || i >= svc.nlisten)
		return -1;
	return svc.lfds[i];
}

const char *
service_listen_name(int i)
{
	if (i < 0 || i >= svc.nlisten)
		return NULL;
	return svc.lnames[i];
}

int
service_listen_is_stream(int i)
{
	socklen_t	 len;
	int		 type;

	if (i < 0 || i >= svc.nlisten)
		return 0;
	len = sizeof(type);
	/* ENOTSOCK: a fifo. */
	if (getsockopt(svc.lfds[i], SOL_SOCKET, SO_TYPE, &type, &len) == -1)
		return 0;
	return type == SOCK_STREAM || type == SOCK_SEQPACKET;
}

int
service_status_fd(void)
{
	return svc.status_fd;
}

int
service_max_use(void)
{
	return svc.max_use;
}

int
service_max_idle(void)
{
	return svc.max_idle;
}

static void
service_send(enum proto_kind kind, const char *text)
{
	/*
	 * Still sent after end-of-file: the master only shuts down its
	 * writing side to ask us to stop, and still reads.
	 */
	if (svc.status_fd == -1)
		return;
	if (proto_send(svc.status_fd, kind, text) == -1)
		log_debug("status %s: %s", proto_name(kind), strerror(errno));
}

void
service_ready(void)
{
	service_options_check();
	service_send(PROTO_READY, NULL);
}

void
service_taken(void)
{
	service_send(PROTO_TAKEN, NULL);
}

void
service_avail(void)
{
	service_send(PROTO_AVAIL, NULL);
}

void
service_status(const char *fmt, ...)
{
	char	 buf[PROTO_MAX];
	va_list	 ap;

	va_start(ap, fmt);
	(void)vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	service_send(PROTO_STATUS, buf);
}

/*
 * Drain the status channel without blocking.  The master never writes, so
 * anything readable is end-of-file (or an error: the master is gone);
 * a stray packet is ignored.  Callable from a client handler that wants to
 * cut a long session short.
 */
int
service_stopping(void)
{
	char	 buf[PROTO_MAX];
	ssize_t	 n;

	if (svc.stopping || svc.status_fd == -1)
		return svc.stopping;
	for (;;) {
		n = recv(svc.status_fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n > 0)
			continue;
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		svc.stopping = 1;
		break;
	}
	return svc.stopping;
}

/* accept(2) errors that only mean "no connection for you this time". */
int
service_accept_retry(int e)
{
	switch (e) {
	case EAGAIN:
#if EWOULDBLOCK != EAGAIN
	case EWOULDBLOCK:
#endif
	case EINTR:
	case ECONNABORTED:
	case EPROTO:
	case ENETDOWN:
	case ENOPROTOOPT:
	case EHOSTDOWN:
	case ENONET:
	case EHOSTUNREACH:
	case EOPNOTSUPP:
	case ENETUNREACH:
		return 1;
	default:
		return 0;
	}
}

/*
 * A run of clients served back to back: AVAIL is held back after a
 * client until a look that does not wait finds no other one.  A child
 * that goes from client to client under load was never idle, and saying
 * TAKEN and AVAIL for each would wake the master twice per client for
 * nothing (a tenth of the CPU of a loaded prefork service); AVAIL counts
 * them instead.  A run ends before the child waits, before it exits, and
 * after SERVICE_RUN_MS, so that the master's counts ("linkmaster status"
 * USES, a lowered process limit) are never further behind than that.
 */
struct service_run {
	int		 clients;	/* served in this run; 0: idle */
	long long	 start;		/* ms, the run's TAKEN */
};

#define SERVICE_RUN_MS		1000

/* Before a client: TAKEN, unless a run goes on. */
static void
service_take(struct service_run *run)
{
	if (run->clients++ > 0)
		return;
	run->start = now_ms();
	service_taken();
}

/* End the run: AVAIL, with the number of clients when there were more. */
static void
service_release(struct service_run *run)
{
	char	 n[16];

	if (run->clients == 0)
		return;
	if (run->clients == 1)
		service_avail();
	else {
		(void)snprintf(n, sizeof(n), "%d", run->clients);
		service_send(PROTO_AVAIL, n);
	}
	run->clients = 0;
}

/*
 * Postfix's pass type: the connection accepted is only the carrier of the
 * real client, a descriptor sent over it (SCM_RIGHTS) with at least one
 * byte of data, which is ignored.  The carrier is closed once the
 * descriptor is in; the passed one is served like an accepted client.
 * -1 when the sender gave up or sent no descriptor within
 * SERVICE_PASS_MS (logged: a client of the pass socket misbehaves, not
 * we).
 */
static int
service_pass_recv(int carrier)
{
	struct pollfd	 pfd;
	char		 buf[256];
	ssize_t		 n;
	int		 fd = -1, r;

	pfd.fd = carrier;
	pfd.events = POLLIN;
	do {
		r = poll(&pfd, 1, SERVICE_PASS_MS);
	} while (r == -1 && errno == EINTR);
	if (r == 0) {
		log_warnx("pass: no connection passed within %d s: closing",
		    SERVICE_PASS_MS / 1000);
		return -1;
	}
	do {
		n = fdpass_recv(carrier, &fd, buf, sizeof(buf));
	} while (n == -1 && errno == EINTR);
	if (n == -1 && errno != EAGAIN) {
		log_warn("pass: receive");
		return -1;
	}
	if (fd == -1) {
		log_warnx("pass: a message without a connection (%zd bytes): "
		    "closing", n);
		return -1;
	}
	/* Like an accepted socket: blocking (the sender's flags are its). */
	if (sock_set_nonblock(fd, 0) == -1) {
		log_warn("pass: O_NONBLOCK off");
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * One client from a stream listener: 1 served, 0 lost the race, -1 error.
 * The run goes on after it: the loop ends it.
 */
static int
service_accept_one(int lfd, service_client_fn fn, void *arg,
    struct service_run *run)
{
	int	 fd;

	/*
	 * No SOCK_NONBLOCK: the new socket is blocking (Linux does not
	 * inherit O_NONBLOCK from the listener), which is what a simple
	 * client handler expects.
	 */
	if ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) == -1) {
		if (service_accept_retry(errno))
			return 0;
		log_warn("accept");
		return -1;
	}
	if (svc.pass) {
		int	 carrier = fd;

		fd = service_pass_recv(carrier);
		close(carrier);
		/* A broken sender costs it its client, not us our life. */
		if (fd == -1)
			return 0;
	}
	service_take(run);
	fn(fd, arg);
	close(fd);
	return 1;
}

/* One datagram or fifo chunk: 1 served, 0 nothing there, -1 error. */
static int
service_read_one(int lfd, service_trigger_fn fn, void *arg,
    struct service_run *run)
{
	static char	 buf[SERVICE_TRIGGER_BUF];
	ssize_t		 n;

	if ((n = read(lfd, buf, sizeof(buf))) == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return 0;
		log_warn("read trigger");
		return -1;
	}
	/* An empty datagram carries nothing; a fifo never says EOF (O_RDWR). */
	if (n == 0)
		return 0;
	service_take(run);
	fn(buf, (size_t)n, arg);
	return 1;
}

/*
 * Idle children all wait on the same listen sockets.  With poll() every
 * connection would wake every one of them, and all but one would find
 * nothing to accept (a thundering herd that costs a single client a
 * quarter of its throughput).  EPOLLEXCLUSIVE wakes one waiter per event;
 * the status channel is private, so it is watched normally.
 */
static int
service_epoll(struct pollfd *pfd, int npfd)
{
	struct epoll_event	 ev;
	int			 ep, i;

	if ((ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		fatal("epoll_create1");
	for (i = 0; i < npfd; i++) {
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN;
		if (pfd[i].fd != svc.status_fd)
			ev.events |= EPOLLEXCLUSIVE;
		ev.data.u32 = i;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, pfd[i].fd, &ev) == -1)
			fatal("epoll_ctl fd %d", pfd[i].fd);
	}
	return ep;
}

/* epoll_wait, with the result put into pfd[].revents as poll() would. */
static int
service_wait(int ep, struct pollfd *pfd, int npfd, int timeout)
{
	struct epoll_event	 evs[SERVICE_MAX_LISTEN + 1];
	int			 i, n;

	for (i = 0; i < npfd; i++)
		pfd[i].revents = 0;
	if ((n = epoll_wait(ep, evs, npfd, timeout)) == -1)
		return -1;
	for (i = 0; i < n; i++)
		pfd[evs[i].data.u32].revents = POLLIN |
		    (evs[i].events & (EPOLLERR | EPOLLHUP) ? POLLHUP : 0);
	return n;
}

static __dead void
service_loop(service_client_fn cfn, service_trigger_fn tfn, void *arg)
{
	struct pollfd	*pfd;
	long long	 deadline, left;
	int		 i, k, npfd, timeout, r, uses = 0, errors = 0, next = 0;
	int		 ep, served;
	struct service_run run = { 0, 0 };

	if (svc.nlisten == 0)
		fatalx("no listen sockets to serve");
	for (i = 0; i < svc.nlisten; i++)
		if (service_listen_is_stream(i) != (cfn != NULL))
			fatalx("listen fd %d is %s: this helper needs %s",
			    svc.lfds[i], cfn != NULL ? "not a stream socket" :
			    "a stream socket", cfn != NULL ?
			    "connections to accept" : "datagrams or a fifo");

	pfd = xcalloc(svc.nlisten + 1, sizeof(*pfd));
	for (i = 0; i < svc.nlisten; i++) {
		pfd[i].fd = svc.lfds[i];
		pfd[i].events = POLLIN;
	}
	npfd = svc.nlisten;
	if (svc.status_fd != -1) {
		pfd[npfd].fd = svc.status_fd;
		pfd[npfd].events = POLLIN;
		npfd++;
	}

	ep = service_epoll(pfd, npfd);
	service_ready();
	deadline = now_ms() + (long long)svc.max_idle * 1000;
	for (;;) {
		/* In a run, only look: a client waiting goes on with it. */
		if (run.clients > 0 && now_ms() - run.start >= SERVICE_RUN_MS)
			service_release(&run);
		timeout = run.clients > 0 ? 0 : -1;
		if (run.clients == 0 && svc.max_idle > 0) {
			if ((left = deadline - now_ms()) <= 0) {
				log_debug("idle for %d s: exiting",
				    svc.max_idle);
				exit(0);
			}
			timeout = left > INT_MAX ? INT_MAX : (int)left;
		}
		if (service_wait(ep, pfd, npfd, timeout) == -1) {
			if (errno == EINTR)
				continue;
			fatal("epoll_wait");
		}
		/* Stop before taking another client, never during one. */
		if (svc.status_fd != -1 && pfd[npfd - 1].revents != 0 &&
		    service_stopping()) {
			service_release(&run);
			log_debug("status channel closed: exiting");
			exit(0);
		}
		served = 0;
		/* Start at a different listener each time: no starvation. */
		for (k = 0; k < svc.nlisten; k++) {
			i = (next + k) % svc.nlisten;
			if (pfd[i].revents & POLLNVAL)
				fatalx("listen fd %d was closed", pfd[i].fd);
			if (pfd[i].revents == 0)
				continue;
			r = cfn != NULL ? service_accept_one(pfd[i].fd, cfn,
			    arg, &run) : service_read_one(pfd[i].fd, tfn, arg,
			    &run);
			if (r == -1 && ++errors >= SERVICE_MAX_ERRORS) {
				service_release(&run);
				fatalx("%d errors in a row on listen fd %d: "
				    "giving up", errors, pfd[i].fd);
			}
			if (r != 1)
				continue;
			errors = 0;
			uses++;
			if (svc.max_use > 0 && uses >= svc.max_use) {
				service_release(&run);
				log_debug("served %d clients: exiting", uses);
				exit(0);
			}
			deadline = now_ms() + (long long)svc.max_idle * 1000;
			next = (i + 1) % svc.nlisten;
			served = 1;
			/* Back to poll: the status channel comes first. */
			break;
		}
		if (!served)
			service_release(&run);
	}
}

void
service_run_prefork(service_client_fn fn, void *arg)
{
	service_loop(fn, NULL, arg);
}

void
service_run_trigger(service_trigger_fn fn, void *arg)
{
	service_loop(NULL, fn, arg);
}
