/*
 * config.h: linkmaster.conf (libconfuse), resolved into plain data.
 *
 * Paths are made absolute against the configuration directory, so that the
 * sample conf/ works in place.  Times are kept in milliseconds; the file
 * accepts a bare number of seconds or a number with a unit (ms, s, m, h).
 * Every problem is reported as "FILE:LINE: message" (a missing file as
 * "FILE: ..."); a config with any error is not returned.
 */
#ifndef LM_CONFIG_H
#define LM_CONFIG_H

#include <stdio.h>

#include "util.h"

/* A peer section's "tls": what links to it use (config_peer_tls). */
enum peer_tls {
	PEER_TLS_DEFAULT = 0,	/* unset: TLS iff tls_key and tls_cert are */
	PEER_TLS_NO,
	PEER_TLS_YES,
};

struct peer {
	char	*name;
	char	*address;
	char	*port;		/* numeric string */
	char	*file;		/* where the section is, for messages */
	int	 line;		/* ... its "}" (libconfuse's line) */
	enum peer_tls tls;
	char	**fingerprints;	/* "sha256:" + 64 lower-case hex digits */
	int	 nfingerprints;
};

/* kill_mode of a service section. */
enum kill_mode {
	KILL_CONTROL_GROUP = 0,	/* the stop signal to the whole group */
	KILL_MIXED,		/* to the main process; SIGKILL to the group */
};

/*
 * A "service NAME/TYPE { ... }" section: the master's own settings for
 * one master.cf entry (the table's columns stay Postfix's).  The master
 * checks that an entry NAME/TYPE exists (an error naming the section's
 * file and line); config.c only knows the form.
 */
struct svcconf {
	char	*name;			/* "echo" */
	char	*type;			/* "unix", as master.cf spells it */
	char	*file;			/* where the section is, for messages */
	int	 line;
	int	 stop_signal;		/* SIGTERM */
	enum kill_mode kill_mode;	/* KILL_CONTROL_GROUP */
	int	 stdout_level;		/* LOG_INFO */
	int	 stderr_level;		/* LOG_WARNING */
	int	 accept;		/* inetd mode: the master accepts */
};

struct config {
	char	*confdir;		/* absolute */
	char	*conf_file;		/* confdir/linkmaster.conf */
	char	*table_file;		/* confdir/master.cf */

	char	*syslog_name;		/* "linkmaster" */
	char	*syslog_facility;	/* "daemon" */
	char	*syslog_socket;		/* "/dev/log" */
	char	*log_file;		/* instead of syslog, or NULL */
	char	*socket_dir;
	char	*state_dir;
	char	*pid_file;
	char	*daemon_directory;
	char	*chroot_dir;
	char	*default_user;		/* "nobody" */
	char	*inet_interfaces;	/* "all" */
	char	*host_name;		/* hello name to peers; gethostname() */
	char	*tls_key;		/* absolute, NULL when unset */
	char	*tls_cert;		/* absolute, NULL when unset */
	char	*tls_ca;		/* absolute, NULL when unset */

	int	 default_process_limit;	/* 100 */
	int	 max_use;		/* 100 */
	long long max_idle;		/* ms, 100 s */
	long long throttle_min;		/* ms, 1 s */
	long long throttle_max;		/* ms, 60 s */
	long long startup_grace;	/* ms, 1 s */
	long long stop_timeout;		/* ms, 10 s */
	int	 cgroups;		/* 1: a cgroup v2 per service if root */

	char	**import_environment;	/* NULL-terminated */
	int	 nimport;

	struct peer *peers;		/* "peer" sections (link services) */
	int	 npeers;

	struct svcconf *services;	/* "service" sections */
	int	 nservices;
};

/*
 * Load confdir/linkmaster.conf.  On error return NULL with every error
 * found appended to errs (libconfuse stops at the first syntax error; the
 * semantic checks after it collect all).
 */
struct config	*config_load(const char *confdir, struct errlist *errs);
/*
 * The same for a link helper, which needs the global settings and its
 * own peer: only peer's section is kept (npeers 0 or 1) and no service
 * section (nservices 0).  The others are parsed and their values checked
 * as config_load does, then dropped at once, so that the memory it takes
 * does not grow with the number of peers.  What only the whole file can
 * tell (another peer defined twice) is check's and reload's to say.
 */
struct config	*config_load_peer(const char *confdir, const char *peer,
		    struct errlist *errs);
void		 config_free(struct config *);

/*
 * The settings of service name/type: its section, or the defaults (a
 * static struct with name and type NULL).  Never NULL.
 */
const struct svcconf *config_service(const struct config *,
		    const char *name, const char *type);
/* show: "#\tservice "NAME/TYPE" { ... }", every setting, defaults too. */
void		 config_service_print(FILE *, const struct config *,
		    const char *name, const char *type);
/* Names for show: "TERM" (or the number), "mixed", "info". */
const char	*config_signame(int sig, char *buf, size_t len);
const char	*config_kill_mode_name(enum kill_mode);
const char	*config_level_name(int level);

/*
 * Whether links to peer use TLS: its "tls", else (unset) yes when this
 * host has tls_key and tls_cert, so that a configuration written before
 * TLS keeps its plaintext links until the operator adds a key.
 */
int		 config_peer_tls(const struct config *, const struct peer *);
/*
 * A fingerprint as an operator may write it, "sha256:" and 64 hex digits,
 * or 32 colon-separated pairs (as openssl x509 -fingerprint prints them),
 * into out (at least 72 bytes) in the one form kept: "sha256:" and 64
 * lower-case hex digits.  0, or -1 when it is none.
 */
int		 config_fingerprint_parse(const char *in, char *out,
		    size_t outlen);

/* Resolve p against the config dir (absolute p is returned as a copy). */
char		*config_path(const struct config *, const char *p);

#endif
