/*
 * linkd_opts.c: linkd's options, read once at start-up (-o name=value,
 * else linkmaster.conf), and the file descriptor budget they must fit.
 *
 * The peer list is either -o peers=NAME@ADDRESS,... (standalone) or
 * linkmaster.conf in config_dir, which is read once here so that a broken
 * one is a bad startup, and again for every connection later
 * (linkd_peer.c), so that an edited peer list applies without a restart.
 * The descriptor limit is raised to the hard one, and hello_limit lowered
 * to half of what is left, so that connections before their hello can
 * never take what the links and their backend pools need.
 *
 * Failure policy: a bad option, no backend, no peer list or an unreadable
 * configuration is fatal, before READY, so the master sees a bad startup
 * and throttles; a limit that cannot be raised is logged, and what there
 * is shared as above.
 */
#include <sys/types.h>
#include <sys/resource.h>

#include <dirent.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "linkd.h"
#include "log.h"
#include "service.h"
#include "util.h"

/* Descriptors open now (/proc/self/fd), or -1. */
static int
linkd_fds_open(void)
{
	DIR		*d;
	struct dirent	*e;
	int		 n = 0;

	if ((d = opendir("/proc/self/fd")) == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	(void)closedir(d);
	return n - 1;		/* the directory's own */
}

/*
 * Descriptors: as many as we may (the soft limit up to the hard one), and
 * connections before their hello get half of those left at most, so that
 * the links and their backend pools always have the other half.
 */
void
linkd_fds(void)
{
	struct rlimit	 rl;
	long long	 half;
	int		 used;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		fatal("getrlimit");
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			log_warn("setrlimit RLIMIT_NOFILE %llu",
			    (unsigned long long)rl.rlim_cur);
		(void)getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > INT_MAX)
		return;
	if ((used = linkd_fds_open()) == -1)
		used = 0;
	half = ((long long)rl.rlim_cur - used) / 2;
	if (half < 1)
		half = 1;
	if (D.hello_limit > half) {
		log_info("hello_limit %d lowered to %lld: %llu file "
		    "descriptors, %d in use", D.hello_limit, half,
		    (unsigned long long)rl.rlim_cur, used);
		D.hello_limit = (int)half;
	}
}

/* Into D, from -o options, the environment and linkmaster.conf. */
void
linkd_options(void)
{
	struct errlist	 errs;
	struct config	*c;
	const char	*v;
	size_t		 i;

	D.host = service_host_name();
	if (!linkproto_name_ok(D.host, strlen(D.host)))
		fatalx("bad host name \"%s\": use letters, digits, \".\", "
		    "\"_\" and \"-\"", D.host);
	D.pool = (int)service_option_num("pool", 4, 1, 1024);
	D.depth = (int)service_option_num("backend_depth", LINKD_DEPTH, 1,
	    1024);
	D.max_pending = (int)service_option_num("max_pending", 1024, 1,
	    1000000);
	D.max_line = (size_t)service_option_num("max_line", 65536, 1,
	    64 * 1024 * 1024);
	D.max_output = (size_t)service_option_num("max_output", 1024 * 1024,
	    1, 1024 * 1024 * 1024);
	D.hello_limit = (int)service_option_num("hello_limit", 64, 1, 100000);
	D.hello_per_address = (int)service_option_num("hello_per_address", 4,
	    1, 100000);
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
