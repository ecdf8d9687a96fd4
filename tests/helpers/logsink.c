/*
 * logsink.c: a minimal syslog daemon for the integration tests.
 *
 *	logsink SOCKET FILE [PIDFILE]
 *
 * Binds a unix datagram socket at SOCKET and appends every datagram to FILE
 * as one line, without the "<pri>" and the RFC 3164 timestamp, so that a
 * test can grep for "linkmaster/master[123]: daemon started -- ...".  Each
 * line is written with one write(2) to an O_APPEND file, so a reader never
 * sees a half line and nothing is lost if we are killed.  The pid file is
 * written only once the socket is bound: its existence means "ready".
 *
 * The master waits at most a second when our queue is full and then drops
 * the line, so we must never be slow: a large receive buffer and a tight
 * loop.  SIGTERM (or SIGINT) drains what is queued, removes the socket and
 * the pid file, and exits 0; so does the death of our parent (a test
 * killed before its cleanup must not leave us behind).  Any setup failure
 * exits 1 with a message.
 */
#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SINK_DGRAM_MAX	65536
#define SINK_RCVBUF	(4 * 1024 * 1024)

static volatile sig_atomic_t sink_quit;

static void
sink_onsignal(int sig)
{
	(void)sig;
	sink_quit = 1;
}

static void
sink_die(const char *what, const char *arg)
{
	fprintf(stderr, "logsink: %s %s: %s\n", what, arg, strerror(errno));
	exit(1);
}

/*
 * Length of the "<pri>Mmm dd hh:mm:ss " header at the start of buf, or 0
 * when there is none (then the datagram is kept whole: a test would
 * rather see an odd line than lose it).  The day may be space-padded.
 */
static size_t
sink_header_len(const char *buf, size_t len)
{
	static const char pattern[] = "Aaa 99 99:99:99 ";
	size_t	 i, pri;

	if (len < 3 || buf[0] != '<')
		return 0;
	for (pri = 1; pri < len && pri < 6 && isdigit((unsigned char)buf[pri]);
	    pri++)
		;
	if (pri == 1 || pri >= len || buf[pri] != '>')
		return 0;
	pri++;
	if (len - pri < sizeof(pattern) - 1)
		return pri;
	for (i = 0; i < sizeof(pattern) - 1; i++) {
		unsigned char c = buf[pri + i];

		switch (pattern[i]) {
		case 'A':
			if (!isupper(c))
				return pri;
			break;
		case 'a':
			if (!islower(c))
				return pri;
			break;
		case '9':
			if (!isdigit(c) && !(i == 4 && c == ' '))
				return pri;
			break;
		default:
			if (c != pattern[i])
				return pri;
			break;
		}
	}
	return pri + sizeof(pattern) - 1;
}

/* Append one datagram as one line; embedded newlines become spaces. */
static void
sink_write(int out, char *buf, size_t len)
{
	size_t	 skip, i;
	ssize_t	 n;
	char	*p;

	skip = sink_header_len(buf, len);
	p = buf + skip;
	len -= skip;
	while (len > 0 && (p[len - 1] == '\n' || p[len - 1] == '\0'))
		len--;
	for (i = 0; i < len; i++)
		if (p[i] == '\n')
			p[i] = ' ';
	p[len++] = '\n';
	while ((n = write(out, p, len)) == -1 && errno == EINTR)
		;
	if (n == -1)
		sink_die("write", "log file");
}

static void
sink_pidfile(const char *path)
{
	char	 tmp[4096];
	FILE	*f;

	/* Write then rename, so that a reader never sees an empty file. */
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
		sink_die("pid file path too long", path);
	if ((f = fopen(tmp, "w")) == NULL)
		sink_die("open", tmp);
	fprintf(f, "%ld\n", (long)getpid());
	if (fclose(f) == EOF || rename(tmp, path) == -1)
		sink_die("write", path);
}

int
main(int argc, char *argv[])
{
	static char		 buf[SINK_DGRAM_MAX + 1];
	struct sockaddr_un	 sun;
	struct sigaction	 sa;
	struct pollfd		 pfd;
	sigset_t		 block, orig;
	ssize_t			 n;
	pid_t			 parent;
	int			 s, out, size;

	if (argc != 3 && argc != 4) {
		fprintf(stderr, "usage: logsink SOCKET FILE [PIDFILE]\n");
		return 2;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(argv[1]) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "logsink: socket path too long: %s\n", argv[1]);
		return 1;
	}
	strcpy(sun.sun_path, argv[1]);

	/*
	 * Signals are blocked except inside ppoll(), so a SIGTERM can never
	 * slip in between the flag test and a blocking call.
	 */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = sink_onsignal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &orig);
	sigdelset(&orig, SIGTERM);
	sigdelset(&orig, SIGINT);
	/* Blocked for now, so a parent already gone is simply seen below. */
	parent = getppid();
	(void)prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)
		sink_quit = 1;

	if ((out = open(argv[2], O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	    0644)) == -1)
		sink_die("open", argv[2]);
	if ((s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1)
		sink_die("socket", argv[1]);
	/* SO_RCVBUFFORCE goes past rmem_max but needs CAP_NET_ADMIN. */
	size = SINK_RCVBUF;
	if (setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE, &size,
	    sizeof(size)) == -1)
		(void)setsockopt(s, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	(void)unlink(argv[1]);
	if (bind(s, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		sink_die("bind", argv[1]);
	/* Children that run as another user (unpriv) log here too. */
	if (chmod(argv[1], 0666) == -1)
		sink_die("chmod", argv[1]);
	if (argc == 4)
		sink_pidfile(argv[3]);

	pfd.fd = s;
	pfd.events = POLLIN;
	for (;;) {
		n = recv(s, buf, SINK_DGRAM_MAX, 0);
		if (n >= 0) {
			sink_write(out, buf, n);
			continue;
		}
		if (errno != EAGAIN && errno != EINTR)
			sink_die("recv", argv[1]);
		/* The queue is empty: only now may we stop. */
		if (sink_quit)
			break;
		if (ppoll(&pfd, 1, NULL, &orig) == -1 && errno != EINTR)
			sink_die("poll", argv[1]);
	}
	(void)unlink(argv[1]);
	if (argc == 4)
		(void)unlink(argv[3]);
	close(out);
	return 0;
}
