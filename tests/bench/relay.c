/*
 * relay.c: the least a link can do, as a floor for the link benchmark.
 *
 *	relay near PATH PORT	clients on unix PATH, one TCP link to
 *				127.0.0.1:PORT
 *	relay far PORT PATH	one TCP link accepted on 127.0.0.1:PORT,
 *				one connection to the unix service PATH
 *
 * The same path as client -> link -> linkd -> backend, with nothing of
 * the protocol: near tags each client's line with one printable byte
 * (RELAY_TAG: '0' + the client's descriptor, so never a newline) and
 * writes it to the link; far keeps the tags in order, sends
 * the lines to its one backend connection and tags each reply with the
 * oldest tag; near hands each reply to the client its tag names.  No
 * ids, hello, timeouts, queue or pool; fixed buffers, raw epoll, one
 * read per ready descriptor and one write per descriptor per round (what
 * services/lconn.c does).  It relies on the backend answering in order
 * (echo does) and on each client reading all its replies before it
 * closes (lclient does: a slot is reused), which a real link may not.
 * It exists to show how far the link's figure is from what any process
 * in the link's place gets on this machine; it is not a service.  Says "listening" (far, before it
 * accepts) or "ready" (near, linked and listening) on stdout; runs until
 * killed; errors are fatal.
 */
#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RL_MAXFD	64		/* clients + link + listener */
/*
 * A line's tag: one byte from '0' ('0' + RL_MAXFD - 1 is 'o'), never the
 * newline that frames lines (a raw descriptor number was: a client on
 * descriptor 10 split its own line in two).
 */
#define RELAY_TAG(fd)	((char)('0' + (fd)))
#define RELAY_FD(tag)	((unsigned char)(tag) - '0')
#define RL_BUF		(1 << 20)
#define RL_TAGS		(1 << 16)

struct rl_conn {
	int	 fd;
	size_t	 inlen;
	size_t	 outoff, outlen;
	int	 dirty;
	int	 pollout;	/* EPOLLOUT asked for */
	char	 in[RL_BUF];
	char	 out[RL_BUF];
};

static struct rl_conn	*rl_conn[RL_MAXFD];
static struct rl_conn	*rl_link;	/* the TCP link */
static struct rl_conn	*rl_back;	/* far: the backend */
static int		 rl_far;
static int		 rl_ep;
static unsigned char	 rl_tag[RL_TAGS];	/* far: tags in order */
static size_t		 rl_thead, rl_ttail;

static struct rl_conn *
relay_add(int fd)
{
	struct rl_conn		*c;
	struct epoll_event	 ev;

	if (fd >= RL_MAXFD)
		errx(1, "too many connections");
	if (fcntl(fd, F_SETFL, O_NONBLOCK) == -1)
		err(1, "fcntl");
	if ((c = calloc(1, sizeof(*c))) == NULL)
		err(1, "calloc");
	c->fd = fd;
	rl_conn[fd] = c;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.fd = fd;
	if (epoll_ctl(rl_ep, EPOLL_CTL_ADD, fd, &ev) == -1)
		err(1, "epoll_ctl");
	return (c);
}

/* Queue p (n bytes) on c, after tag (a RELAY_TAG byte) unless it is -1. */
static void
relay_put(struct rl_conn *c, int tag, const char *p, size_t n)
{
	if (c->outoff + c->outlen + n + 1 > RL_BUF) {
		memmove(c->out, c->out + c->outoff, c->outlen);
		c->outoff = 0;
		if (c->outlen + n + 1 > RL_BUF)
			errx(1, "output buffer full");
	}
	if (tag >= 0)
		c->out[c->outoff + c->outlen++] = (char)tag;
	memcpy(c->out + c->outoff + c->outlen, p, n);
	c->outlen += n;
	c->dirty = 1;
}

/* One complete line (newline included) read from c. */
static void
relay_line(struct rl_conn *c, const char *p, size_t n)
{
	struct rl_conn	*to;
	int		 fd;

	if (!rl_far) {
		if (c != rl_link) {			/* request */
			relay_put(rl_link, RELAY_TAG(c->fd), p, n);
			return;
		}
		fd = RELAY_FD(p[0]);
		if (n < 2 || fd < 0 || fd >= RL_MAXFD)
			errx(1, "reply with a bad tag");
		if ((to = rl_conn[fd]) != NULL)
			relay_put(to, -1, p + 1, n - 1);
		return;
	}
	if (c == rl_link) {				/* request */
		if (n < 2)
			errx(1, "request without a tag");
		if (rl_ttail - rl_thead == RL_TAGS)
			errx(1, "too many requests");
		rl_tag[rl_ttail++ % RL_TAGS] = (unsigned char)p[0];
		relay_put(rl_back, -1, p + 1, n - 1);
		return;
	}
	if (rl_thead == rl_ttail)
		errx(1, "reply without request");
	relay_put(rl_link, rl_tag[rl_thead++ % RL_TAGS], p, n);
}

static void
relay_read(struct rl_conn *c)
{
	ssize_t	 n;
	char	*p, *nl, *end;

	n = read(c->fd, c->in + c->inlen, RL_BUF - c->inlen);
	if (n == -1 && errno == EAGAIN)
		return;
	if (n <= 0) {
		if (c == rl_link || c == rl_back)
			errx(1, "link or backend closed");
		epoll_ctl(rl_ep, EPOLL_CTL_DEL, c->fd, NULL);
		rl_conn[c->fd] = NULL;
		close(c->fd);
		free(c);
		return;
	}
	c->inlen += n;
	p = c->in;
	end = c->in + c->inlen;
	while ((nl = memchr(p, '\n', end - p)) != NULL) {
		relay_line(c, p, nl + 1 - p);
		p = nl + 1;
	}
	c->inlen = end - p;
	memmove(c->in, p, c->inlen);
}

static void
relay_flush(void)
{
	struct rl_conn		*c;
	struct epoll_event	 ev;
	ssize_t			 n;
	int			 fd;

	for (fd = 0; fd < RL_MAXFD; fd++) {
		if ((c = rl_conn[fd]) == NULL || !c->dirty)
			continue;
		n = write(fd, c->out + c->outoff, c->outlen);
		if (n == -1 && errno != EAGAIN)
			err(1, "write");
		if (n > 0) {
			c->outoff += n;
			c->outlen -= n;
		}
		if (c->outlen == 0)
			c->outoff = 0;
		c->dirty = c->outlen > 0;
		memset(&ev, 0, sizeof(ev));
		ev.events = EPOLLIN | (c->dirty ? EPOLLOUT : 0);
		ev.data.fd = fd;
		if (c->dirty != c->pollout &&
		    epoll_ctl(rl_ep, EPOLL_CTL_MOD, fd, &ev) == -1)
			err(1, "epoll_ctl");
		c->pollout = c->dirty;
	}
}

/* Tell whoever waits for us (the benchmark reads our stdout). */
static void
relay_ready(const char *what)
{
	if (printf("%s\n", what) < 0 || fflush(stdout) == EOF)
		err(1, "stdout");
}

static int
relay_unix(const char *path, int listening)
{
	struct sockaddr_un	 sun;
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		errx(1, "%s: path too long", path);
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1)
		err(1, "socket");
	if (listening) {
		unlink(path);
		if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
		    listen(fd, 64) == -1)
			err(1, "%s", path);
	} else if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		err(1, "%s", path);
	return (fd);
}

static int
relay_tcp(const char *port, int listening)
{
	struct sockaddr_in	 sin;
	int			 fd, afd, one = 1;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)atoi(port));
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		err(1, "socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (listening) {
		if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
		    listen(fd, 1) == -1)
			err(1, "port %s", port);
		relay_ready("listening");
		if ((afd = accept(fd, NULL, NULL)) == -1)
			err(1, "accept");
		close(fd);
		fd = afd;
	} else if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1)
		err(1, "port %s", port);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return (fd);
}

int
main(int argc, char *argv[])
{
	struct epoll_event	 ev[RL_MAXFD];
	int			 lfd = -1, i, n, fd;

	if (argc != 4 || (strcmp(argv[1], "near") != 0 &&
	    strcmp(argv[1], "far") != 0))
		errx(2, "usage: relay near PATH PORT | relay far PORT PATH");
	rl_far = strcmp(argv[1], "far") == 0;
	if ((rl_ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		err(1, "epoll_create1");
	if (rl_far) {
		rl_link = relay_add(relay_tcp(argv[2], 1));
		rl_back = relay_add(relay_unix(argv[3], 0));
	} else {
		lfd = relay_unix(argv[2], 1);
		rl_link = relay_add(relay_tcp(argv[3], 0));
		memset(ev, 0, sizeof(ev[0]));
		ev[0].events = EPOLLIN;
		ev[0].data.fd = lfd;
		if (epoll_ctl(rl_ep, EPOLL_CTL_ADD, lfd, &ev[0]) == -1)
			err(1, "epoll_ctl");
		relay_ready("ready");
	}
	for (;;) {
		if ((n = epoll_wait(rl_ep, ev, RL_MAXFD, -1)) == -1) {
			if (errno == EINTR)
				continue;
			err(1, "epoll_wait");
		}
		for (i = 0; i < n; i++) {
			fd = ev[i].data.fd;
			if (fd == lfd) {
				if ((fd = accept(lfd, NULL, NULL)) != -1)
					relay_add(fd);
			} else if (rl_conn[fd] != NULL &&
			    (ev[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
				relay_read(rl_conn[fd]);
			if (rl_conn[fd] != NULL &&
			    (ev[i].events & EPOLLOUT))
				rl_conn[fd]->dirty = 1;
		}
		relay_flush();
	}
}
