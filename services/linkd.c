/*
 * linkd.c: the peer side of a link: an inet prefork helper that serves one
 * link per process.
 *
 * A link starts with "HELLO 1 <name>": the name must be a configured peer
 * (linkmaster.conf, read again for every connection so that an edited peer
 * list applies without a restart, or -o peers= standalone) and the
 * connection must come from one of that peer's addresses; otherwise the
 * link is refused with "ERR <reason>" and a warning (linkd_peer.c).
 * Accepted, every request line "<id> <payload>" (ids growing) is handed
 * to the backend, a unix stream service, over a pool of up to "pool"
 * connections (linkd_pool.c): pipelined on the connection that keeps up,
 * more opened only when replies lag.  Replies "<id> <reply>" go back as
 * they come, in any order.  The session's life is in linkd_sess.c; every
 * socket is an lconn (lconn.c: one read per readiness event, one writev
 * per socket per loop round).
 *
 * This file: the options and the prefork loop.  Failure policy: bad
 * options or an unreadable configuration at start-up are fatal before
 * READY.  Later nothing is: a malformed line from the link is a protocol
 * error that is logged and ends that link (the other side reconnects); a
 * backend connection that cannot be made, times out, fails or closes
 * with requests outstanding costs those requests and that connection.
 * End-of-file on the status channel stops reading new requests;
 * outstanding ones are finished, the link is closed, and the prefork loop
 * exits 0.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "linkd.h"
#include "log.h"
#include "service.h"
#include "sock.h"
#include "util.h"

static int
linkd_connect(const char *path, char *err, size_t errlen)
{
	return sock_unix_connect(path, SOCK_STREAM, err, errlen);
}

/* service_run_prefork() callback: serve the link on fd until it ends. */
static void
linkd_serve(int fd, void *arg)
{
	struct event_base	*base;
	struct sess		*s;

	if ((base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	if ((s = sess_new(base, fd)) != NULL) {
		event_base_dispatch(base);
		sess_free(s);
	}
	event_base_free(base);
}

static void
linkd_options(void)
{
	static char	 hostbuf[LINKPROTO_NAME_MAX + 1];
	struct errlist	 errs;
	struct config	*c;
	const char	*v;
	size_t		 i;

	if ((D.host = service_option_env("host_name",
	    "MASTER_HOST_NAME")) == NULL) {
		if (gethostname(hostbuf, sizeof(hostbuf)) == -1)
			fatal("gethostname");
		hostbuf[sizeof(hostbuf) - 1] = '\0';
		D.host = hostbuf;
	}
	if (!linkproto_name_ok(D.host, strlen(D.host)))
		fatalx("bad host name \"%s\": use letters, digits, \".\", "
		    "\"_\" and \"-\"", D.host);
	D.pool = (int)service_option_num("pool", 4, 1, 1024);
	D.depth = (int)service_option_num("backend_depth", 32, 1, 1024);
	D.max_pending = (int)service_option_num("max_pending", 1024, 1,
	    1000000);
	D.max_line = (size_t)service_option_num("max_line", 65536, 1,
	    64 * 1024 * 1024);
	D.max_output = (size_t)service_option_num("max_output", 1024 * 1024,
	    1, 1024 * 1024 * 1024);
	D.hello_ms = service_option_time("hello_timeout", 10 * 1000, 1,
	    LINKPROTO_TIME_MAX);
	D.backend_ms = service_option_time("backend_timeout", 300 * 1000, 1,
	    LINKPROTO_TIME_MAX);
	D.lag_us = 1000 * service_option_time("backend_lag", LINKD_LAG_MS, 1,
	    LINKPROTO_TIME_MAX);
	D.socket_dir = service_option("socket_dir");

	D.backend_path = service_option("backend_path");
	D.backend_name = service_option("backend");
	if (D.backend_path == NULL && D.backend_name == NULL)
		fatalx("no backend: use -o backend=SERVICE or "
		    "-o backend_path=PATH");
	if (D.backend_path == NULL && (*D.backend_name == '\0' ||
	    strchr(D.backend_name, '/') != NULL ||
	    strcmp(D.backend_name, "..") == 0))
		fatalx("bad option \"-o backend=%s\": expected a service name",
		    D.backend_name);

	if ((v = service_option("peers")) != NULL) {
		peer_parse_list(v);
		if (D.backend_path == NULL && D.socket_dir == NULL)
			fatalx("-o backend=%s needs -o socket_dir=DIR "
			    "with -o peers", D.backend_name);
		return;
	}
	if ((D.confdir = service_option_env("config_dir",
	    "MASTER_CONFIG_DIR")) == NULL)
		fatalx("no peer list: MASTER_CONFIG_DIR is not set and there "
		    "is no -o peers=NAME@ADDRESS,...");
	/* Read it once now, so that a broken one is a bad startup. */
	errlist_init(&errs);
	if ((c = config_load(D.confdir, &errs)) == NULL) {
		for (i = 0; i < errs.n; i++)
			log_error("%s", errs.msg[i]);
		fatalx("cannot read the peer list from %s", D.confdir);
	}
	errlist_free(&errs);
	config_free(c);
}

int
main(int argc, char *argv[])
{
	service_init(argc, argv, "linkd");
	if (service_argc() != 0)
		fatalx("unexpected argument \"%s\"; usage: linkd [-v] "
		    "[-o name=value] ...", service_argv()[0]);
	D.connect = linkd_connect;
	linkd_options();
	service_run_prefork(linkd_serve, NULL);
}
