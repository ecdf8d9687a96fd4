/*
 * link.c: one link helper per remote peer, after LON-CAPA's lonc.
 *
 * It holds one persistent TCP link to the peer's linkd and relays the
 * line requests of any number of local clients (unix listen socket) over
 * it, pipelined: each request gets a link-wide id, replies come back in
 * any order and are put back in each client's own request order.  A
 * request that cannot be answered (link down or broken, no reply within
 * the timeout) is answered "con_lost" at once; a request starting with
 * "critical:" is instead written to a durable queue (services/queue.c)
 * and answered "queued", then replayed in order, one at a time, when the
 * link is up, and removed once the peer replied (at least once delivery).
 *
 * The helper is in five files, one concern each (link.h lists them):
 * this one reads the options and descriptors and runs the loop.
 * Everything is driven by libevent: socket events and timers, never a
 * poll loop, so an idle helper uses no CPU.  Every socket is an lconn
 * (services/lconn.c): one read per readiness event, one writev per
 * socket per loop round, by the flusher, which first takes up the
 * clients answered during the round, then writes the link, then the
 * clients.
 *
 * Failure policy: bad options or environment, or a queue directory that
 * cannot be opened, are fatal before READY (a bad startup the master
 * throttles).  After READY nothing about the peer is fatal
 * (link_peer.c); stopping is link_stop.c's.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <errno.h>
#include <event2/event.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "link.h"
#include "linkproto.h"
#include "log.h"
#include "names.h"
#include "queue.h"
#include "service.h"
#include "util.h"

struct link	 L;

/* --- clients' listen sockets ------------------------------------------- */

void
listen_enable(int on)
{
	int	 i;

	for (i = 0; i < L.nlisten; i++) {
		if (on)
			event_add(L.listen_ev[i], NULL);
		else
			event_del(L.listen_ev[i]);
	}
}

static void
listen_pause_cb(int fd, short ev, void *arg)
{
	if (!L.stopping)
		listen_enable(1);
}

static void
listen_add(int fd)
{
	L.listen_ev = xreallocarray(L.listen_ev, (size_t)L.nlisten + 1,
	    sizeof(*L.listen_ev));
	if ((L.listen_ev[L.nlisten] = event_new(L.base, fd,
	    EV_READ | EV_PERSIST, client_accept_cb, NULL)) == NULL)
		fatalx("event_new failed");
	L.nlisten++;
}

/* --- start-up ---------------------------------------------------------- */

static const char *
link_need(const char *opt, const char *env, const char *what)
{
	const char	*v;

	if ((v = service_option_env(opt, env)) == NULL)
		fatalx("no %s: %s is not set and there is no -o %s=...", what,
		    env, opt);
	return v;
}

static void
link_options(void)
{
	struct addrinfo	 hints, *res;
	long long	 port;
	const char	*dir, *why;
	char		*qdir, err[512], ex[LOG_ESCAPE_SIZE(64)];
	int		 gai;

	L.peer = link_need("peer_name", "PEER_NAME", "peer name");
	L.address = link_need("peer_address", "PEER_ADDRESS", "peer address");
	L.port = link_need("peer_port", "PEER_PORT", "peer port");
	dir = link_need("state_dir", "MASTER_STATE_DIR", "state directory");
	/* The rule check and reload apply (libutil/names.c). */
	if (!peer_name_valid(L.peer, &why)) {
		(void)log_escape(L.peer, strlen(L.peer), 64, ex, sizeof(ex));
		fatalx("bad peer name \"%s\": %s", ex, why);
	}
	if (parse_num(L.port, 1, 65535, &port) == -1)
		fatalx("bad peer port \"%s\": expected 1 to 65535", L.port);
	if (*dir != '/')
		fatalx("bad state directory \"%s\": not an absolute path", dir);
	L.host = service_host_name();
	if (!linkproto_name_ok(L.host, strlen(L.host)))
		fatalx("bad host name \"%s\" for the hello: use letters, "
		    "digits, \".\", \"_\" and \"-\"", L.host);

	L.timeout_ms = service_option_time("timeout", 300 * 1000, 1,
	    LINKPROTO_TIME_MAX);
	L.retry_min = service_option_time("retry_min", 1000, 1,
	    LINKPROTO_TIME_MAX);
	L.retry_max = service_option_time("retry_max", 60 * 1000, 1,
	    LINKPROTO_TIME_MAX);
	if (L.retry_max < L.retry_min)
		fatalx("retry_max is less than retry_min");
	L.drain_ms = service_option_time("drain", 5 * 1000, 0,
	    LINKPROTO_TIME_MAX);
	L.connect_ms = service_option_time("connect_timeout", 10 * 1000, 1,
	    LINKPROTO_TIME_MAX);
	L.settle_ms = service_option_time("settle", 10 * 1000, 0,
	    LINKPROTO_TIME_MAX);
	L.max_line = (size_t)service_option_num("max_line", 65536, 1,
	    64 * 1024 * 1024);
	L.max_pending = (int)service_option_num("max_pending", 64, 1, 100000);
	L.park_ms = service_option_time("park", 1, 0, LINK_PARK_MAX);

	/* linkmaster.conf, read at each attempt for TLS (link_dial.c). */
	L.confdir = service_option_env("config_dir", "MASTER_CONFIG_DIR");
	if (L.confdir != NULL && *L.confdir == '\0')
		L.confdir = NULL;

	if ((L.bind = service_option("bind")) != NULL) {
		memset(&hints, 0, sizeof(hints));
		hints.ai_family = AF_UNSPEC;
		hints.ai_socktype = SOCK_STREAM;
		hints.ai_flags = AI_PASSIVE;
		if ((gai = getaddrinfo(L.bind, NULL, &hints, &res)) != 0)
			fatalx("bad option \"-o bind=%s\": %s", L.bind,
			    gai == EAI_SYSTEM ? strerror(errno) :
			    gai_strerror(gai));
		memcpy(&L.bind_ss, res->ai_addr, res->ai_addrlen);
		L.bind_len = res->ai_addrlen;
		freeaddrinfo(res);
	}

	xasprintf(&qdir, "%s/link/%s/queue", dir, L.peer);
	if ((L.q = queue_open(qdir, err, sizeof(err))) == NULL)
		fatalx("%s", err);
	free(qdir);
	if (queue_count(L.q) > 0)
		log_info("%zu queued request%s for %s", queue_count(L.q),
		    queue_count(L.q) == 1 ? "" : "s", L.peer);
}

/* A socket handed over to us must be a connected stream socket. */
static int
link_is_connected(int fd)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sl;
	int			 type;

	sl = sizeof(type);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &sl) == -1 ||
	    type != SOCK_STREAM)
		return 0;
	sl = sizeof(ss);
	return getpeername(fd, (struct sockaddr *)&ss, &sl) == 0;
}

/*
 * Sort our fds: listen sockets, and the link handed over by the previous
 * generation (the fd named "handoff" in LISTEN_FDNAMES).  Returns that
 * one, or -1.
 */
static int
link_fds(void)
{
	const char	*name;
	int		 i, fd, handoff = -1;

	for (i = 0; i < service_nlisten(); i++) {
		fd = service_listen_fd(i);
		/* The service library read LISTEN_FDNAMES (NULL: no name). */
		name = service_listen_name(i);
		if (name != NULL && strcmp(name, "handoff") == 0) {
			if (handoff == -1 && link_is_connected(fd))
				handoff = fd;
			else {
				log_warnx("handed-over fd %d is not a "
				    "connected stream socket: ignoring it", fd);
				close(fd);
			}
		} else {
			listen_add(fd);
		}
	}
	if (L.nlisten == 0)
		fatalx("no listen socket for the clients of the link to %s",
		    L.peer);
	return handoff;
}

int
main(int argc, char *argv[])
{
	struct timespec	 ts;
	char		 err[LINK_REASON_MAX];
	int		 handoff;

	service_init(argc, argv, "link");
	if (service_argc() != 0)
		fatalx("unexpected argument \"%s\"; usage: link [-v] "
		    "[-o name=value] ...", service_argv()[0]);
	link_options();

	if ((L.base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	client_init();
	if ((L.pause_ev = evtimer_new(L.base, listen_pause_cb, NULL)) == NULL)
		fatalx("cannot create events");
	req_init();
	replay_init();
	peer_init();
	stop_init();
	handoff = link_fds();
	listen_enable(1);

	service_ready();
	if (handoff != -1) {
		/*
		 * Ids must keep growing on this link: start past anything
		 * the previous generation can have used (microseconds).
		 */
		clock_gettime(CLOCK_REALTIME, &ts);
		L.last_id = (uint64_t)ts.tv_sec * 1000000 +
		    (uint64_t)ts.tv_nsec / 1000;
		/* Only a plaintext link is handed over (link_stop.c). */
		if (peer_tls_settings(err, sizeof(err)) == 0 && L.tls) {
			log_info("not taking over the plaintext link to %s: "
			    "it is to use TLS now", L.peer);
			close(handoff);
			peer_connect();
		} else
			peer_established(handoff, 1);
	} else
		peer_connect();

	event_base_dispatch(L.base);
	fatalx("event loop ended unexpectedly");
}
