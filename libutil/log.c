/*
 * log.c: syslog to a configurable datagram socket, plus an optional stderr
 * copy.
 *
 * glibc's syslog(3) only knows /dev/log, and the master must log under many
 * idents (its own and, for each child's output, the child's), so we format
 * the RFC 3164 line ourselves.  The socket is unconnected and each line is
 * sent with sendto(), so a restarted syslog daemon is picked up without any
 * reconnect logic.  A send blocks at most one second (the default
 * net.unix.max_dgram_qlen is 10, so a burst must wait for the reader rather
 * than be dropped), and is retried when a signal interrupts it; after a
 * second the line is lost to syslog but not to stderr.
 *
 * With log_file (Postfix's maillog_file) every line goes to that file
 * instead, "Mmm dd hh:mm:ss ident[pid]: msg", one write(2) per line on an
 * O_APPEND descriptor, so that the lines of many processes never mix.  A
 * child under the master opens the file itself; when it cannot (it runs
 * unprivileged, or the file is the master's /dev/stdout) it writes the
 * bare message on its stdout, which the master logs under the child's
 * ident and pid: the same line in the end.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

#define LOG_LINE_MAX	2048

static char		 log_ident_buf[128] = "linkmaster";
static int		 log_fac = LOG_DAEMON;
static int		 log_sock = -1;
static struct sockaddr_un log_addr;
static int		 log_have_addr;
static int		 log_to_stderr = 1;
static int		 log_verbose;
static int		 log_file_fd = -1;	/* log_file, or -1 */
static int		 log_file_relay;	/* a child: via its stdout */
static int		 log_file_std;		/* log_file is our stdout */

static const char	*log_prefix(int);

static int	 log_connect(void);
static int	 log_queue_line(const char *, size_t);

/* The queued mode (the master). */
struct log_qline {
	size_t		 len;
	char		*line;
};
static struct {
	int		 on;
	size_t		 max;		/* lines */
	struct log_qline *q;		/* ring of max */
	size_t		 head;
	size_t		 n;
	unsigned long	 dropped;	/* since the queue was last empty */
	void		(*wake)(void);
} logq;

static const struct {
	const char	*name;
	int		 code;
} log_facilities[] = {
	{ "auth", LOG_AUTH }, { "authpriv", LOG_AUTHPRIV },
	{ "cron", LOG_CRON }, { "daemon", LOG_DAEMON },
	{ "ftp", LOG_FTP }, { "kern", LOG_KERN }, { "lpr", LOG_LPR },
	{ "mail", LOG_MAIL }, { "news", LOG_NEWS }, { "syslog", LOG_SYSLOG },
	{ "user", LOG_USER }, { "uucp", LOG_UUCP },
	{ "local0", LOG_LOCAL0 }, { "local1", LOG_LOCAL1 },
	{ "local2", LOG_LOCAL2 }, { "local3", LOG_LOCAL3 },
	{ "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 },
	{ "local6", LOG_LOCAL6 }, { "local7", LOG_LOCAL7 },
};

int
log_facility(const char *name)
{
	size_t	 i;

	for (i = 0; i < sizeof(log_facilities) / sizeof(log_facilities[0]); i++)
		if (strcmp(log_facilities[i].name, name) == 0)
			return log_facilities[i].code;
	return -1;
}

/*
 * Queued mode: a fresh connected, non-blocking socket.  -1 when syslog is
 * not there (the line goes to stderr, the next one tries again).  The
 * caller's write event follows the new fd.
 */
static int
log_connect(void)
{
	log_close();
	if (!log_have_addr)
		return -1;
	if ((log_sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0)) == -1)
		return -1;
	if (connect(log_sock, (struct sockaddr *)&log_addr,
	    sizeof(log_addr)) == -1) {
		log_close();
		return -1;
	}
	if (logq.n > 0 && logq.wake != NULL)
		logq.wake();
	return 0;
}

void
log_init(const char *ident, const char *facility, const char *path,
    int to_stderr)
{
	struct timeval	 tv = { 1, 0 };
	int		 f;

	log_set_ident(ident);
	if (facility != NULL && (f = log_facility(facility)) != -1)
		log_fac = f;
	log_to_stderr = to_stderr;
	log_close();
	log_have_addr = 0;
	if (path == NULL || *path == '\0' ||
	    strlen(path) >= sizeof(log_addr.sun_path))
		return;
	memset(&log_addr, 0, sizeof(log_addr));
	log_addr.sun_family = AF_UNIX;
	strlcpy(log_addr.sun_path, path, sizeof(log_addr.sun_path));
	log_have_addr = 1;
	if (logq.on) {
		log_connect();
		return;
	}
	log_sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (log_sock != -1)
		(void)setsockopt(log_sock, SOL_SOCKET, SO_SNDTIMEO, &tv,
		    sizeof(tv));
}

/*
 * Log to a file instead of syslog (path NULL: back to syslog).  A child
 * (child != 0) that cannot open it relays through its stdout.  Returns -1
 * (errno set) when the master cannot open it; nothing changes then.
 */
int
log_set_file(const char *path, int child)
{
	int	 fd = -1, std = 0;

	if (path != NULL && (strcmp(path, "/dev/stdout") == 0 ||
	    strcmp(path, "/dev/stderr") == 0)) {
		std = 1;
		if (!child && (fd = fcntl(path[5] == 'o' ? STDOUT_FILENO :
		    STDERR_FILENO, F_DUPFD_CLOEXEC, 3)) == -1)
			return -1;
	} else if (path != NULL && (fd = open(path, O_WRONLY | O_APPEND |
	    O_CREAT | O_CLOEXEC | O_NOCTTY, 0640)) == -1 && !child)
		return -1;
	if (log_file_fd != -1)
		close(log_file_fd);
	log_file_fd = fd;
	log_file_std = std;
	log_file_relay = path != NULL && child && fd == -1;
	return 0;
}

const char *
log_file_mode(void)
{
	if (log_file_relay)
		return "relay";
	return log_file_fd != -1 ? "file" : "syslog";
}

/* One line to log_file (or the master, for a relaying child). */
static int
log_file_write(const char *stamp, const char *ident, pid_t pid, int pri,
    const char *msg, size_t len)
{
	char	 line[LOG_LINE_MAX + 256];
	int	 n;

	if (log_file_relay)
		n = snprintf(line, sizeof(line), "%s%.*s", log_prefix(pri),
		    (int)len, msg);
	else
		n = snprintf(line, sizeof(line), "%s %s[%ld]: %s%.*s", stamp,
		    ident, (long)pid, log_prefix(pri), (int)len, msg);
	if (n < 0)
		return 0;
	if ((size_t)n >= sizeof(line) - 1)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	while (write(log_file_relay ? STDOUT_FILENO : log_file_fd, line, n) ==
	    -1)
		if (errno != EINTR)
			return 0;
	return 1;
}

void
log_close(void)
{
	if (log_sock != -1)
		close(log_sock);
	log_sock = -1;
}

void
log_set_ident(const char *ident)
{
	if (ident != NULL)
		strlcpy(log_ident_buf, ident, sizeof(log_ident_buf));
}

const char *
log_ident(void)
{
	return log_ident_buf;
}

void
log_set_stderr(int on)
{
	log_to_stderr = on;
}

int
log_stderr_enabled(void)
{
	return log_to_stderr;
}

void
log_set_verbose(int on)
{
	log_verbose = on;
}

static const char *
log_prefix(int pri)
{
	switch (pri) {
	case LOG_CRIT:
		return "fatal: ";
	case LOG_ERR:
		return "error: ";
	case LOG_WARNING:
		return "warning: ";
	default:
		return "";
	}
}

/* One send in queued mode: 1 sent, 0 would block, -1 syslog not there. */
static int
log_queue_send(const char *line, size_t len)
{
	int	 again;

	for (again = 0; again < 2; again++) {
		if (log_sock == -1 && log_connect() == -1)
			return -1;
		if (send(log_sock, line, len, MSG_NOSIGNAL) != -1)
			return 1;
		if (errno == EINTR) {
			again--;
			continue;
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		/* Restarted or gone: once more on a new socket. */
		log_close();
	}
	return -1;
}

/*
 * A line in queued mode: sent at once when nothing waits before it, else
 * queued behind; 1 when it was sent or queued, 0 when lost (not there, or
 * the queue full: counted).
 */
static int
log_queue_line(const char *line, size_t len)
{
	struct log_qline	*ql;
	int			 r;

	if (logq.n > 0)
		(void)log_queue_flush();
	if (logq.n == 0) {
		if ((r = log_queue_send(line, len)) != 0)
			return r == 1;
	}
	if (logq.n == logq.max) {
		logq.dropped++;
		return 0;
	}
	ql = &logq.q[(logq.head + logq.n) % logq.max];
	if ((ql->line = malloc(len)) == NULL) {
		logq.dropped++;
		return 0;
	}
	memcpy(ql->line, line, len);
	ql->len = len;
	if (logq.n++ == 0 && logq.wake != NULL)
		logq.wake();
	return 1;
}

void
log_queue_init(size_t max, void (*wake)(void))
{
	if (logq.on || max == 0)
		return;
	if ((logq.q = calloc(max, sizeof(*logq.q))) == NULL)
		return;		/* stays synchronous: slower, not wrong */
	logq.on = 1;
	logq.max = max;
	logq.wake = wake;
	(void)log_connect();
}

int
log_queue_fd(void)
{
	return logq.on ? log_sock : -1;
}

size_t
log_queue_pending(void)
{
	return logq.n;
}

int
log_queue_flush(void)
{
	struct log_qline	*ql;
	unsigned long		 dropped;
	char			 msg[128];
	int			 r;

	while (logq.n > 0) {
		ql = &logq.q[logq.head];
		if ((r = log_queue_send(ql->line, ql->len)) == 0)
			return 1;
		/* Sent, or syslog gone: either way the line is done. */
		free(ql->line);
		ql->line = NULL;
		logq.head = (logq.head + 1) % logq.max;
		logq.n--;
	}
	if (logq.dropped > 0) {
		dropped = logq.dropped;
		logq.dropped = 0;
		r = snprintf(msg, sizeof(msg), "%lu log lines dropped: the "
		    "syslog socket was full (a queue of %zu lines)", dropped,
		    logq.max);
		log_as(log_ident_buf, getpid(), LOG_WARNING, msg, (size_t)r);
	}
	return logq.n > 0;
}

/* Exiting: what is queued gets up to a second to go out. */
void
log_queue_drain(int timeout_ms)
{
	struct pollfd	 pfd;
	long long	 end, now;

	if (!logq.on)
		return;
	end = now_ms() + timeout_ms;
	while (log_queue_flush() && log_sock != -1) {
		if ((now = now_ms()) >= end)
			break;
		pfd.fd = log_sock;
		pfd.events = POLLOUT;
		(void)poll(&pfd, 1, (int)(end - now));
	}
}

void
log_as(const char *ident, pid_t pid, int pri, const char *msg, size_t len)
{
	char		 line[LOG_LINE_MAX + 256], stamp[32];
	struct tm	 tm;
	time_t		 t;
	int		 n, hdr, sent, saved = errno;

	if (len > LOG_LINE_MAX)
		len = LOG_LINE_MAX;
	t = time(NULL);
	localtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%b %e %H:%M:%S", &tm);
	hdr = snprintf(line, sizeof(line), "<%d>%s ", log_fac | pri, stamp);
	n = snprintf(line + hdr, sizeof(line) - hdr, "%s[%ld]: %s%.*s",
	    ident, (long)pid, log_prefix(pri), (int)len, msg);
	if (n < 0)
		goto out;
	if ((size_t)n >= sizeof(line) - hdr)
		n = sizeof(line) - hdr - 1;
	if (log_file_fd != -1 || log_file_relay) {
		sent = log_file_write(stamp, ident, pid, pri, msg, len);
		/* The file may be our stdout: no second copy then. */
		if ((log_to_stderr && !log_file_std) || !sent) {
			line[hdr + n] = '\n';
			(void)write(STDERR_FILENO, line + hdr, n + 1);
		}
		goto out;
	}
	/*
	 * A send with SO_SNDTIMEO is never restarted after a signal handler
	 * (signal(7)): when the syslog queue is full and a SIGCHLD arrives --
	 * a crash storm does exactly that -- retry instead of losing the line.
	 */
	sent = 0;
	if (logq.on)
		sent = log_queue_line(line, hdr + n);
	else if (log_sock != -1 && log_have_addr)
		while (!(sent = sendto(log_sock, line, hdr + n, MSG_NOSIGNAL,
		    (struct sockaddr *)&log_addr, sizeof(log_addr)) != -1) &&
		    errno == EINTR)
			continue;
	/*
	 * Syslog unreachable (no socket, no permission after dropping
	 * privileges, ...): a child's stderr is the master's pipe, so the line
	 * still reaches the log under the child's name -- a fatal error most
	 * of all.
	 */
	if (log_to_stderr || !sent) {
		line[hdr + n] = '\n';
		(void)write(STDERR_FILENO, line + hdr, n + 1);
	}
out:
	errno = saved;
}

static void
log_vmsg(int pri, int with_errno, const char *fmt, va_list ap)
{
	char	 buf[LOG_LINE_MAX];
	int	 n, saved = errno;

	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(buf))
		n = sizeof(buf) - 1;
	if (with_errno)
		n += snprintf(buf + n, sizeof(buf) - n, ": %s",
		    strerror(saved));
	if ((size_t)n >= sizeof(buf))
		n = sizeof(buf) - 1;
	log_as(log_ident_buf, getpid(), pri, buf, n);
	errno = saved;
}

void
log_info(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vmsg(LOG_INFO, 0, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	 ap;

	if (!log_verbose)
		return;
	va_start(ap, fmt);
	log_vmsg(LOG_DEBUG, 0, fmt, ap);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vmsg(LOG_WARNING, 1, fmt, ap);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vmsg(LOG_WARNING, 0, fmt, ap);
	va_end(ap);
}

void
log_error(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vmsg(LOG_ERR, 0, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vmsg(LOG_CRIT, 1, fmt, ap);
	va_end(ap);
	log_queue_drain(1000);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vmsg(LOG_CRIT, 0, fmt, ap);
	va_end(ap);
	log_queue_drain(1000);
	exit(1);
}
