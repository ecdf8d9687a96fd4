/*
 * linkd_peer.c: who may link to us, and where their requests go.
 *
 * A hello names a peer; the name must be in the peer list (-o peers, or
 * linkmaster.conf read again for every link, once for its hello and
 * TLS (linkd_tls_config), so that an edited list applies without a
 * restart) and the link must come from one of the
 * addresses that peer's address resolves to (v4-mapped v6 addresses
 * count as v4).  A link that fails either is refused, with a warning
 * that says why; a peer list that cannot be read refuses every link
 * ("configuration error") rather than taking the helper down.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "linkd.h"
#include "log.h"
#include "util.h"

/* An address in comparable form: v4-mapped v6 addresses as plain v4. */
struct ipaddr {
	int		 family;
	unsigned char	 a[16];
};

static int
ipaddr_of(const struct sockaddr *sa, struct ipaddr *ip)
{
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;

	memset(ip, 0, sizeof(*ip));
	if (sa->sa_family == AF_INET) {
		sin = (const struct sockaddr_in *)sa;
		ip->family = AF_INET;
		memcpy(ip->a, &sin->sin_addr, 4);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		sin6 = (const struct sockaddr_in6 *)sa;
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			ip->family = AF_INET;
			memcpy(ip->a, sin6->sin6_addr.s6_addr + 12, 4);
		} else {
			ip->family = AF_INET6;
			memcpy(ip->a, &sin6->sin6_addr, 16);
		}
		return 0;
	}
	return -1;
}

/* The link's source address, printable ("?" when it has none). */
void
peer_ip(int fd, char *buf, size_t len)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sl = sizeof(ss);
	struct ipaddr		 ip;
	char			 a[INET6_ADDRSTRLEN];

	strlcpy(buf, "?", len);
	if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0 &&
	    ipaddr_of((struct sockaddr *)&ss, &ip) == 0 &&
	    inet_ntop(ip.family, ip.a, a, sizeof(a)) != NULL)
		strlcpy(buf, a, len);
}

/* Is src one of the addresses address resolves to?  -1: cannot resolve. */
static int
peer_addr_match(const struct sockaddr *src, const char *address,
    char *err, size_t errlen)
{
	struct addrinfo	 hints, *res, *ai;
	struct ipaddr	 a, b;
	int		 gai, match = 0;

	if (ipaddr_of(src, &a) == -1) {
		strlcpy(err, "not an inet address", errlen);
		return -1;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((gai = getaddrinfo(address, NULL, &hints, &res)) != 0) {
		(void)snprintf(err, errlen, "%s", gai == EAI_SYSTEM ?
		    strerror(errno) : gai_strerror(gai));
		return -1;
	}
	for (ai = res; ai != NULL && !match; ai = ai->ai_next)
		if (ipaddr_of(ai->ai_addr, &b) == 0 && a.family == b.family &&
		    memcmp(a.a, b.a, a.family == AF_INET ? 4 : 16) == 0)
			match = 1;
	freeaddrinfo(res);
	return match;
}

/*
 * The address of peer name, and the socket directory, from -o peers or
 * c (linkmaster.conf as it is now, read for this hello; NULL when it
 * could not be read).  1 found, 0 not a peer, -1 config error.
 */
static int
peer_lookup(const struct config *c, const char *name, char **address,
    char **socket_dir)
{
	int	 k, found = 0;

	*address = *socket_dir = NULL;
	if (D.peers != NULL) {
		for (k = 0; k < D.npeers; k++)
			if (strcmp(D.peers[k].name, name) == 0) {
				*address = xstrdup(D.peers[k].address);
				break;
			}
		if (D.socket_dir != NULL)
			*socket_dir = xstrdup(D.socket_dir);
		return *address != NULL;
	}
	if (c == NULL)
		return -1;
	for (k = 0; k < c->npeers; k++)
		if (strcmp(c->peers[k].name, name) == 0) {
			*address = xstrdup(c->peers[k].address);
			found = 1;
			break;
		}
	*socket_dir = xstrdup(D.socket_dir != NULL ? D.socket_dir :
	    c->socket_dir);
	return found;
}

/* Where the backend listens: private/NAME if it exists, else public. */
static char *
peer_backend_path(const char *socket_dir)
{
	struct stat	 st;
	char		*p;

	if (D.backend_path != NULL)
		return xstrdup(D.backend_path);
	if (socket_dir == NULL)
		socket_dir = ".";
	xasprintf(&p, "%s/private/%s", socket_dir, D.backend_name);
	if (lstat(p, &st) == 0)
		return p;
	free(p);
	xasprintf(&p, "%s/public/%s", socket_dir, D.backend_name);
	return p;
}

/*
 * May the link on fd (from ip), whose hello named name, go up (c: as
 * for peer_lookup)?  0 with
 * *backend (the socket path, the caller's to free); -1 refused, with a
 * warning logged and the reason to answer in *refusal.
 */
int
peer_accept(const struct config *c, int fd, const char *ip,
    const char *name, char **backend, const char **refusal)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sl = sizeof(ss);
	char			 err[256];
	char			*address, *socket_dir;
	int			 rc;

	*backend = NULL;
	rc = peer_lookup(c, name, &address, &socket_dir);
	if (rc == -1) {
		log_warnx("refusing link from %s: cannot read the peer list",
		    ip);
		*refusal = "configuration error";
		return -1;
	}
	if (rc == 0) {
		log_warnx("refusing link from %s: hello name \"%s\" is not a "
		    "peer", ip, name);
		free(socket_dir);
		*refusal = "not a peer";
		return -1;
	}
	if (getpeername(fd, (struct sockaddr *)&ss, &sl) == -1 ||
	    (rc = peer_addr_match((struct sockaddr *)&ss, address, err,
	    sizeof(err))) != 1) {
		if (rc == -1)
			log_warnx("refusing link from %s: address \"%s\" of "
			    "peer \"%s\": %s", ip, address, name, err);
		else
			log_warnx("refusing link from %s: address %s does not "
			    "match peer \"%s\"", ip, ip, name);
		free(address);
		free(socket_dir);
		*refusal = "address mismatch";
		return -1;
	}
	free(address);
	*backend = peer_backend_path(socket_dir);
	free(socket_dir);
	return 0;
}

/* "-o peers=alpha@127.0.0.1,gamma@127.0.0.3"; fatal when malformed. */
void
peer_parse_list(const char *spec)
{
	char	*copy, *item, *next, *at;

	copy = xstrdup(spec);
	for (item = copy; item != NULL; item = next) {
		if ((next = strchr(item, ',')) != NULL)
			*next++ = '\0';
		if (*item == '\0')
			continue;
		if ((at = strchr(item, '@')) == NULL || at[1] == '\0' ||
		    !linkproto_name_ok(item, (size_t)(at - item)))
			fatalx("bad option \"-o peers=%s\": expected "
			    "NAME@ADDRESS,... (at \"%s\")", spec, item);
		D.peers = xreallocarray(D.peers, D.npeers + 1,
		    sizeof(*D.peers));
		D.peers[D.npeers].name = xstrndup(item, (size_t)(at - item));
		D.peers[D.npeers].address = xstrdup(at + 1);
		D.npeers++;
	}
	free(copy);
	if (D.npeers == 0)
		fatalx("bad option \"-o peers=%s\": no peer", spec);
}
