/*
 * sock.c: listen and connect helpers for unix, inet and fifo endpoints.
 *
 * Everything returned is non-blocking and close-on-exec: the master polls
 * its listeners and hands them to children explicitly, it never lets them
 * leak through exec by accident.  Nothing here logs; a failure comes back
 * as -1 with a message that names the operation and the address
 * ("bind 127.0.0.1:7001: Address already in use"), because only the caller
 * knows which service the address belongs to.
 *
 * A unix socket file left over from a previous run is unlinked before the
 * bind (Postfix does the same); a file of any other kind at that path is
 * left alone and reported.  Wildcard inet listeners ("all") bind every
 * address getaddrinfo() offers for a passive lookup, normally 0.0.0.0 and ::
 * with IPV6_V6ONLY set, so each family gets its own socket; a family the
 * kernel does not support is skipped.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "names.h"
#include "sock.h"
#include "util.h"


int
sock_set_nonblock(int fd, int on)
{
	int	 fl;

	if ((fl = fcntl(fd, F_GETFL)) == -1)
		return -1;
	fl = on ? (fl | O_NONBLOCK) : (fl & ~O_NONBLOCK);
	return fcntl(fd, F_SETFL, fl) == -1 ? -1 : 0;
}

int
sock_set_cloexec(int fd, int on)
{
	int	 fl;

	if ((fl = fcntl(fd, F_GETFD)) == -1)
		return -1;
	fl = on ? (fl | FD_CLOEXEC) : (fl & ~FD_CLOEXEC);
	return fcntl(fd, F_SETFD, fl) == -1 ? -1 : 0;
}

/* Fill a sockaddr_un; a path that does not fit is an error, not a cut. */
static int
sock_unix_addr(struct sockaddr_un *sun, const char *op, const char *path,
    char *err, size_t errlen)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (*path == '\0') {
		errbuf_set(err, errlen, "%s: empty socket path", op);
		return -1;
	}
	if (strlen(path) >= sizeof(sun->sun_path)) {
		errbuf_set(err, errlen, "%s %s: path too long for a unix socket "
		    "(%zu bytes, at most %zu)", op, path, strlen(path),
		    sizeof(sun->sun_path) - 1);
		return -1;
	}
	strlcpy(sun->sun_path, path, sizeof(sun->sun_path));
	return 0;
}

int
sock_unix_listen(const char *path, int type, mode_t mode, char *err,
    size_t errlen)
{
	struct sockaddr_un	 sun;
	struct stat		 st;
	mode_t			 omask;
	int			 fd, rc, saved;

	if (sock_unix_addr(&sun, "bind", path, err, errlen) == -1)
		return -1;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			errbuf_set(err, errlen, "bind %s: file exists and is "
			    "not a socket", path);
			return -1;
		}
		if (unlink(path) == -1 && errno != ENOENT) {
			errbuf_set(err, errlen, "unlink %s: %s", path,
			    strerror(errno));
			return -1;
		}
	}
	if ((fd = socket(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1) {
		errbuf_set(err, errlen, "socket %s: %s", path, strerror(errno));
		return -1;
	}
	/*
	 * bind() creates the file with 0777 & ~umask; narrow the umask for
	 * that call so the socket is never reachable with more than mode,
	 * then chmod to get exactly mode whatever the umask was.
	 */
	omask = umask(~mode & 0777);
	rc = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	saved = errno;
	(void)umask(omask);
	if (rc == -1) {
		errbuf_set(err, errlen, "bind %s: %s", path, strerror(saved));
		close(fd);
		return -1;
	}
	if (chmod(path, mode) == -1) {
		errbuf_set(err, errlen, "chmod %s: %s", path, strerror(errno));
		goto fail;
	}
	if ((type == SOCK_STREAM || type == SOCK_SEQPACKET) &&
	    listen(fd, SOCK_BACKLOG) == -1) {
		errbuf_set(err, errlen, "listen %s: %s", path, strerror(errno));
		goto fail;
	}
	return fd;
fail:
	(void)unlink(path);
	close(fd);
	return -1;
}

int
sock_fifo_listen(const char *path, mode_t mode, char *err, size_t errlen)
{
	struct stat	 st, fst;
	int		 fd;

	if (mkfifo(path, mode) == -1 && errno != EEXIST) {
		errbuf_set(err, errlen, "mkfifo %s: %s", path, strerror(errno));
		return -1;
	}
	if (lstat(path, &st) == -1) {
		errbuf_set(err, errlen, "stat %s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISFIFO(st.st_mode)) {
		errbuf_set(err, errlen, "fifo %s: file exists and is not a fifo",
		    path);
		return -1;
	}
	if (chmod(path, mode) == -1) {
		errbuf_set(err, errlen, "chmod %s: %s", path, strerror(errno));
		return -1;
	}
	/*
	 * O_RDWR: we are a writer too, so the fifo never reports end-of-file
	 * when the last outside writer closes, and open does not block.
	 */
	if ((fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC)) == -1) {
		errbuf_set(err, errlen, "open %s: %s", path, strerror(errno));
		return -1;
	}
	/* The path could have been swapped between lstat and open. */
	if (fstat(fd, &fst) == -1 || !S_ISFIFO(fst.st_mode) ||
	    fst.st_ino != st.st_ino || fst.st_dev != st.st_dev) {
		errbuf_set(err, errlen, "open %s: file changed while opening",
		    path);
		close(fd);
		return -1;
	}
	return fd;
}

int
sock_inet_split(const char *spec, char **host, char **port)
{
	struct inet_spec	 sp;

	*host = *port = NULL;
	/* The grammar master.cf uses too (names.c): one rule, not two. */
	if (spec == NULL || inet_spec_check(spec, strlen(spec), &sp) != NULL)
		return -1;
	if (sp.host_len > 0)
		*host = xstrndup(spec + sp.host_off, sp.host_len);
	*port = xstrndup(spec + sp.port_off, sp.port_len);
	return 0;
}

/* "1.2.3.4:80" or "[::1]:80", for messages. */
static void
sock_addr_str(const struct sockaddr *sa, socklen_t salen, char *buf,
    size_t len)
{
	char	 h[NI_MAXHOST], s[NI_MAXSERV];

	if (getnameinfo(sa, salen, h, sizeof(h), s, sizeof(s),
	    NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
		strlcpy(buf, "?", len);
		return;
	}
	if (sa->sa_family == AF_INET6)
		(void)snprintf(buf, len, "[%s]:%s", h, s);
	else
		(void)snprintf(buf, len, "%s:%s", h, s);
}

/* "host:port" as the user wrote it, brackets added for a v6 literal. */
static void
sock_spec_str(const char *host, const char *port, char *buf, size_t len)
{
	if (host == NULL)
		(void)snprintf(buf, len, "*:%s", port);
	else if (strchr(host, ':') != NULL)
		(void)snprintf(buf, len, "[%s]:%s", host, port);
	else
		(void)snprintf(buf, len, "%s:%s", host, port);
}

int
sock_inet_listen(const char *spec, const char *default_host, int *fds,
    int maxfds, char *err, size_t errlen)
{
	struct addrinfo	 hints, *res, *ai;
	char		*host, *port, where[NI_MAXHOST + NI_MAXSERV + 4];
	const char	*h;
	int		 gai, fd, n = 0, i, on = 1, wildcard;

	if (sock_inet_split(spec, &host, &port) == -1) {
		errbuf_set(err, errlen, "bad address \"%s\": expected "
		    "[host:]port or [v6addr]:port, port 1..65535 or a "
		    "service name", spec);
		return -1;
	}
	h = host;
	if (h == NULL && default_host != NULL) {
		if (strcmp(default_host, "loopback-only") == 0)
			h = "127.0.0.1";
		else if (strcmp(default_host, "all") != 0)
			h = default_host;
	}
	wildcard = h == NULL;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	hints.ai_flags = AI_PASSIVE;
	if ((gai = getaddrinfo(h, port, &hints, &res)) != 0) {
		sock_spec_str(h, port, where, sizeof(where));
		errbuf_set(err, errlen, "resolve %s: %s", where,
		    gai == EAI_SYSTEM ? strerror(errno) : gai_strerror(gai));
		free(host);
		free(port);
		return -1;
	}

	for (ai = res; ai != NULL && n < maxfds; ai = ai->ai_next) {
		sock_addr_str(ai->ai_addr, ai->ai_addrlen, where,
		    sizeof(where));
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, ai->ai_protocol);
		if (fd == -1) {
			/* A kernel without IPv6 still serves "all" on v4. */
			if (wildcard && errno == EAFNOSUPPORT)
				continue;
			errbuf_set(err, errlen, "socket %s: %s", where,
			    strerror(errno));
			goto fail;
		}
		if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on,
		    sizeof(on)) == -1) {
			errbuf_set(err, errlen, "setsockopt SO_REUSEADDR %s: %s",
			    where, strerror(errno));
			close(fd);
			goto fail;
		}
		/* Without V6ONLY, :: would collide with 0.0.0.0. */
		if (ai->ai_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
		    IPV6_V6ONLY, &on, sizeof(on)) == -1) {
			errbuf_set(err, errlen, "setsockopt IPV6_V6ONLY %s: %s",
			    where, strerror(errno));
			close(fd);
			goto fail;
		}
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == -1) {
			if (wildcard && ai->ai_family == AF_INET6 &&
			    errno == EADDRNOTAVAIL) {
				/* IPv6 disabled by sysctl. */
				close(fd);
				continue;
			}
			errbuf_set(err, errlen, "bind %s: %s", where,
			    strerror(errno));
			close(fd);
			goto fail;
		}
		if (listen(fd, SOCK_BACKLOG) == -1) {
			errbuf_set(err, errlen, "listen %s: %s", where,
			    strerror(errno));
			close(fd);
			goto fail;
		}
		fds[n++] = fd;
	}
	freeaddrinfo(res);
	if (n == 0) {
		sock_spec_str(h, port, where, sizeof(where));
		errbuf_set(err, errlen, "listen %s: no usable address", where);
	}
	free(host);
	free(port);
	return n == 0 ? -1 : n;

fail:
	for (i = 0; i < n; i++)
		close(fds[i]);
	freeaddrinfo(res);
	free(host);
	free(port);
	return -1;
}

int
sock_unix_connect(const char *path, int type, char *err, size_t errlen)
{
	struct sockaddr_un	 sun;
	int			 fd;

	if (sock_unix_addr(&sun, "connect", path, err, errlen) == -1)
		return -1;
	if ((fd = socket(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1) {
		errbuf_set(err, errlen, "socket %s: %s", path, strerror(errno));
		return -1;
	}
	/*
	 * A unix connect completes at once or fails; EAGAIN means the
	 * listener's backlog is full, which the caller must hear about.
	 */
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 &&
	    errno != EINPROGRESS) {
		errbuf_set(err, errlen, "connect %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int
sock_inet_connect(const char *host, const char *port, char *err,
    size_t errlen)
{
	struct addrinfo	 hints, *res, *ai;
	char		 where[NI_MAXHOST + NI_MAXSERV + 4];
	int		 gai, fd;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	if ((gai = getaddrinfo(host, port, &hints, &res)) != 0) {
		sock_spec_str(host, port, where, sizeof(where));
		errbuf_set(err, errlen, "resolve %s: %s", where,
		    gai == EAI_SYSTEM ? strerror(errno) : gai_strerror(gai));
		return -1;
	}
	sock_spec_str(host, port, where, sizeof(where));
	errbuf_set(err, errlen, "connect %s: no usable address", where);
	/* First address that starts connecting wins; errors are kept. */
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		sock_addr_str(ai->ai_addr, ai->ai_addrlen, where,
		    sizeof(where));
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, ai->ai_protocol);
		if (fd == -1) {
			errbuf_set(err, errlen, "socket %s: %s", where,
			    strerror(errno));
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 ||
		    errno == EINPROGRESS) {
			freeaddrinfo(res);
			return fd;
		}
		errbuf_set(err, errlen, "connect %s: %s", where, strerror(errno));
		close(fd);
	}
	freeaddrinfo(res);
	return -1;
}
