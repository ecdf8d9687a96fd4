/*
 * config.c: load linkmaster.conf with libconfuse into a struct config.
 *
 * Every value is checked while libconfuse parses, in its parse callbacks,
 * so that an error carries the file and line it came from; checks that
 * involve two options run after the parse and name only the file.  Errors
 * go to the caller's errlist as "FILE:LINE: message"; a config with any
 * error is freed and NULL is returned.  Nothing here logs or exits, except
 * on allocation failure (fatal, like every x*alloc).
 *
 * A bad value does not stop the parse: its callback records the error,
 * stores a stand-in (config_bad_value) and lets libconfuse go on, so that
 * one "linkmaster check" lists every bad value, not only the first.  The
 * load fails all the same, and nothing is filled in.  Only what libconfuse
 * cannot read past (a syntax error: an unknown option, an unbalanced
 * brace, a file that ends too soon, a section defined twice, a failed
 * include) stops it.
 *
 * libconfuse 3.3 habits worked around here:
 *  - a relative include() would resolve against the cwd, and an error in
 *    an included file leaks its fd: our own "include" resolves against the
 *    configuration directory and parses the file in a nested parse;
 *  - a section left open at end of file is silently closed: the text we
 *    hand to libconfuse (each file's) ends with a call of the CONFIG_EOF
 *    function, which is harmless at top level and an error in a section;
 *  - a missing file is reported without the error function: we read the
 *    file ourselves and say so.
 * libconfuse keeps its lexer state in globals, so config_load is not
 * reentrant; neither is libconfuse.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <confuse.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <unistd.h>

#include "config.h"
#include "names.h"
#include "log.h"
#include "util.h"

#define CONFIG_FILE	"linkmaster.conf"
#define CONFIG_TABLE	"master.cf"
#define CONFIG_EOF	"__linkmaster_eof__"	/* end-of-file sentinel */
#define CONFIG_MAXSIZE	(1024 * 1024)		/* a config, not a database */
#define CONFIG_MAXDEPTH	10			/* include() nesting */

#define SECOND		1000LL
#define MINUTE		(60 * SECOND)
#define HOUR		(60 * MINUTE)
#define DAY		(24 * HOUR)
/* 12 digits of seconds: absurd, but each option's range says so. */
#define CONFIG_TIME_MAX	(999999999999LL * SECOND)

/* What the error function and the include function need during a parse. */
static struct {
	struct errlist	*errs;
	const char	*confdir;
	int		 depth;		/* of include() */
	unsigned int	 bad;		/* config_ranges[i] was bad: bit i */
	const char	*only_peer;	/* config_load_peer: keep this one */
} config_ctx;

/* Numeric options: bounds, and whether the value is a time (kept in ms). */
struct config_range {
	const char	*name;
	long long	 min;
	long long	 max;
	int		 time;
};

static const struct config_range config_ranges[] = {
	{ "default_process_limit",	1,	100000,		0 },
	{ "max_use",			0,	1000000,	0 },
	{ "max_idle",			0,	DAY,		1 },
	{ "throttle_min",		1,	HOUR,		1 },
	{ "throttle_max",		1,	DAY,		1 },
	{ "startup_grace",		0,	HOUR,		1 },
	{ "stop_timeout",		0,	HOUR,		1 },
};

/*
 * libconfuse messages reworded to our quoting.  Only exact (untranslated)
 * formats match; anything else is passed through as it is.
 */
static const struct {
	const char	*from;
	const char	*to;
} config_rewords[] = {
	{ "no such option '%s'",	"no such option \"%s\"" },
	/* A title with a '/' is a service's, else a peer's (config_dup). */
	{ "found duplicate title '%s'",	"%s \"%s\" is defined twice" },
};

static const struct {
	const char	*name;
	int		 level;
} config_levels[] = {
	{ "emerg", LOG_EMERG },		{ "alert", LOG_ALERT },
	{ "crit", LOG_CRIT },		{ "err", LOG_ERR },
	{ "warning", LOG_WARNING },	{ "notice", LOG_NOTICE },
	{ "info", LOG_INFO },		{ "debug", LOG_DEBUG },
};

static const char *config_kill_modes[] = {
	[KILL_CONTROL_GROUP] = "control-group",
	[KILL_MIXED] = "mixed",
};

/* What a service without a section gets. */
static const struct svcconf config_svc_default = {
	.stop_signal = SIGTERM,
	.kill_mode = KILL_CONTROL_GROUP,
	.stdout_level = LOG_INFO,
	.stderr_level = LOG_WARNING,
};

static void	 config_cfg_error(cfg_t *, const char *, va_list)
		    LM_PRINTF(2, 0);
static int	 config_cb_number(cfg_t *, cfg_opt_t *, const char *, void *);
static int	 config_cb_path(cfg_t *, cfg_opt_t *, const char *, void *);
static int	 config_cb_name(cfg_t *, cfg_opt_t *, const char *, void *);
static int	 config_cb_facility(cfg_t *, cfg_opt_t *, const char *, void *);
static int	 config_cb_host(cfg_t *, cfg_opt_t *, const char *, void *);
static int	 config_cb_env(cfg_t *, cfg_opt_t *, const char *, void *);
static int	 config_cb_port(cfg_t *, cfg_opt_t *, const char *, void *);
static int	 config_cb_peer(cfg_t *, cfg_opt_t *);
static int	 config_cb_fingerprint(cfg_t *, cfg_opt_t *, const char *,
		    void *);
static int	 config_cb_yesno(cfg_t *, cfg_opt_t *, const char *, void *);
static int	 config_cb_signal(cfg_t *, cfg_opt_t *, const char *, void *);
static int	 config_cb_kill_mode(cfg_t *, cfg_opt_t *, const char *,
		    void *);
static int	 config_cb_level(cfg_t *, cfg_opt_t *, const char *, void *);
static int	 config_cb_service(cfg_t *, cfg_opt_t *);
static int	 config_fn_include(cfg_t *, cfg_opt_t *, int, const char **);
static int	 config_parse(cfg_t *, const char *);
static int	 config_fn_eof(cfg_t *, cfg_opt_t *, int, const char **);
static int	 config_fn_eof_section(cfg_t *, cfg_opt_t *, int,
		    const char **);

static char config_env_default[] = "{\"TZ\", \"LANG\", \"PATH\"}";

static cfg_opt_t config_peer_opts[] = {
	CFG_STR_CB("address", NULL, CFGF_NODEFAULT, config_cb_host),
	CFG_STR_CB("port", NULL, CFGF_NODEFAULT, config_cb_port),
	/* TLS (config_peer_tls, config_check_tls). */
	CFG_STR_CB("tls", NULL, CFGF_NODEFAULT, config_cb_yesno),
	CFG_STR_LIST_CB("fingerprint", NULL, CFGF_NODEFAULT,
	    config_cb_fingerprint),
	CFG_FUNC(CONFIG_EOF, config_fn_eof_section),
	CFG_END()
};

/* Keep config_fill_service and linkmaster.conf(5) in step with this. */
static cfg_opt_t config_service_opts[] = {
	CFG_STR_CB("stop_signal", "TERM", CFGF_NONE, config_cb_signal),
	CFG_STR_CB("kill_mode", "control-group", CFGF_NONE,
	    config_cb_kill_mode),
	CFG_STR_CB("stdout_level", "info", CFGF_NONE, config_cb_level),
	CFG_STR_CB("stderr_level", "warning", CFGF_NONE, config_cb_level),
	CFG_BOOL("accept", cfg_false, CFGF_NONE),
	CFG_FUNC(CONFIG_EOF, config_fn_eof_section),
	CFG_END()
};

static cfg_opt_t config_opts[] = {
	CFG_STR_CB("syslog_name", "linkmaster", CFGF_NONE, config_cb_name),
	CFG_STR_CB("syslog_facility", "daemon", CFGF_NONE,
	    config_cb_facility),
	CFG_STR_CB("syslog_socket", "/dev/log", CFGF_NONE, config_cb_path),
	CFG_STR_CB("log_file", NULL, CFGF_NONE, config_cb_path),
	CFG_STR_CB("socket_dir", "/run/linkmaster", CFGF_NONE,
	    config_cb_path),
	CFG_STR_CB("state_dir", "/var/lib/linkmaster", CFGF_NONE,
	    config_cb_path),
	CFG_STR_CB("pid_file", "/run/linkmaster/master.pid", CFGF_NONE,
	    config_cb_path),
	CFG_STR_CB("daemon_directory", LIBEXECDIR, CFGF_NONE,
	    config_cb_path),
	CFG_STR_CB("chroot_dir", "/var/lib/linkmaster/chroot", CFGF_NONE,
	    config_cb_path),
	CFG_STR_CB("default_user", "nobody", CFGF_NONE, config_cb_name),
	CFG_STR_CB("inet_interfaces", "all", CFGF_NONE, config_cb_host),
	CFG_STR_CB("host_name", NULL, CFGF_NONE, config_cb_host),
	CFG_STR_CB("tls_key", NULL, CFGF_NODEFAULT, config_cb_path),
	CFG_STR_CB("tls_cert", NULL, CFGF_NODEFAULT, config_cb_path),
	CFG_STR_CB("tls_ca", NULL, CFGF_NODEFAULT, config_cb_path),
	CFG_INT_CB("default_process_limit", 100, CFGF_NONE,
	    config_cb_number),
	CFG_INT_CB("max_use", 100, CFGF_NONE, config_cb_number),
	CFG_INT_CB("max_idle", 100 * SECOND, CFGF_NONE, config_cb_number),
	CFG_INT_CB("throttle_min", 1 * SECOND, CFGF_NONE, config_cb_number),
	CFG_INT_CB("throttle_max", 60 * SECOND, CFGF_NONE, config_cb_number),
	CFG_INT_CB("startup_grace", 1 * SECOND, CFGF_NONE,
	    config_cb_number),
	CFG_INT_CB("stop_timeout", 10 * SECOND, CFGF_NONE, config_cb_number),
	CFG_BOOL("cgroups", cfg_true, CFGF_NONE),
	CFG_STR_LIST_CB("import_environment", config_env_default, CFGF_NONE,
	    config_cb_env),
	CFG_SEC("peer", config_peer_opts,
	    CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES),
	CFG_SEC("service", config_service_opts,
	    CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES),
	CFG_FUNC("include", config_fn_include),
	CFG_FUNC(CONFIG_EOF, config_fn_eof),
	CFG_END()
};

/*
 * Resolve p against the (realpath'd) directory dir.  Leading "." and ".."
 * components are folded into dir: dir has no symlinks, so its parent is
 * what ".." means, and the result stays short (socket paths are limited).
 */
static char *
config_resolve(const char *dir, const char *p)
{
	size_t	 dlen;
	char	*r;

	if (p[0] == '/')
		return xstrdup(p);
	dlen = strlen(dir);
	if (dlen == 1 && dir[0] == '/')
		dlen = 0;
	for (;;) {
		if (p[0] == '.' && (p[1] == '/' || p[1] == '\0'))
			p += 1;
		else if (p[0] == '.' && p[1] == '.' &&
		    (p[2] == '/' || p[2] == '\0')) {
			p += 2;
			while (dlen > 0 && dir[dlen - 1] != '/')
				dlen--;
			if (dlen > 0)
				dlen--;		/* the '/' itself */
		} else
			break;
		while (*p == '/')
			p++;
	}
	if (*p == '\0')
		r = dlen ? xstrndup(dir, dlen) : xstrdup("/");
	else
		xasprintf(&r, "%.*s/%s", (int)dlen, dir, p);
	return r;
}

char *
config_path(const struct config *c, const char *p)
{
	return config_resolve(c->confdir, p);
}

/*
 * The error function of every cfg_t: "FILE:LINE: message" into the
 * errlist.  Errors inside a section say which one; an error that involves
 * the sentinel means the file ended in the middle of something.
 */
static void
config_cfg_error(cfg_t *cfg, const char *fmt, va_list ap)
{
	const char	*file, *prefix_name = NULL, *title;
	char		*msg;
	size_t		 i;
	va_list		 aq;

	for (i = 0; i < sizeof(config_rewords) / sizeof(config_rewords[0]);
	    i++)
		if (strcmp(fmt, config_rewords[i].from) == 0) {
			fmt = config_rewords[i].to;
			break;
		}
	if (strcmp(fmt, "%s \"%s\" is defined twice") == 0) {
		va_copy(aq, ap);
		title = va_arg(aq, const char *);
		va_end(aq);
		if (asprintf(&msg, fmt, strchr(title, '/') != NULL ?
		    "service" : "peer", title) == -1)
			fatal("asprintf");
	} else if (vasprintf(&msg, fmt, ap) == -1)
		fatal("vasprintf");
	if (config_ctx.errs == NULL) {
		/* Not loading (cannot happen): do not lose the message. */
		log_warnx("libconfuse: %s", msg);
		free(msg);
		return;
	}

	file = cfg->filename != NULL ? cfg->filename : "(config)";
	if (cfg->name != NULL && strcmp(cfg->name, "root") != 0)
		prefix_name = cfg->name;

	if (strstr(msg, CONFIG_EOF) != NULL)
		errlist_add(config_ctx.errs, "%s: premature end of file", file);
	else if (prefix_name != NULL && cfg->title != NULL)
		errlist_add(config_ctx.errs, "%s:%d: %s \"%s\": %s", file,
		    cfg->line, prefix_name, cfg->title, msg);
	else if (cfg->line > 0)
		errlist_add(config_ctx.errs, "%s:%d: %s", file, cfg->line, msg);
	else
		errlist_add(config_ctx.errs, "%s: %s", file, msg);
	free(msg);
}

static const struct config_range *
config_range(const char *name)
{
	size_t	 i;

	for (i = 0; i < sizeof(config_ranges) / sizeof(config_ranges[0]); i++)
		if (strcmp(config_ranges[i].name, name) == 0)
			return &config_ranges[i];
	return NULL;
}

/*
 * The sentinel read as a value: the file ended after "option =" or inside
 * a list.  Report it in a message the error function recognises.
 */
static int
config_at_eof(cfg_t *cfg, const char *value)
{
	if (strcmp(value, CONFIG_EOF) != 0)
		return 0;
	cfg_error(cfg, "%s", CONFIG_EOF);
	return 1;
}

/*
 * After a string option's bad value was reported: store a stand-in and
 * return 0, so that libconfuse goes on and the next bad value is reported
 * too.  The error already fails the load, so the stand-in (the default,
 * or the bad value itself where there is none: libconfuse wants a
 * string) is never used.
 */
static int
config_bad_value(cfg_opt_t *opt, const char *value, void *res)
{
	*(const char **)res = opt->def.string != NULL ? opt->def.string :
	    value;
	return 0;
}

/* Parse callback of every numeric option (plain numbers and times). */
static int
config_cb_number(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *res)
{
	const struct config_range *r;
	char		 lo[32], hi[32];
	long long	 v;

	if (config_at_eof(cfg, value))
		return -1;
	if ((r = config_range(opt->name)) == NULL) {
		cfg_error(cfg, "option \"%s\": no range (internal error)",
		    opt->name);
		return -1;
	}
	if (r->time) {
		if (parse_time(value, CONFIG_TIME_MAX, &v) == -1) {
			cfg_error(cfg, "option \"%s\": bad time value: \"%s\"",
			    opt->name, value);
			goto bad;
		}
		if (v < r->min || v > r->max) {
			cfg_error(cfg, "option \"%s\": out of range (%s..%s): "
			    "\"%s\"", opt->name,
			    fmt_time(r->min, lo, sizeof(lo)),
			    fmt_time(r->max, hi, sizeof(hi)), value);
			goto bad;
		}
	} else {
		/* parse_num takes any long long; check the bounds apart. */
		if (parse_num(value, LLONG_MIN, LLONG_MAX, &v) == -1) {
			cfg_error(cfg, "option \"%s\": bad number: \"%s\"",
			    opt->name, value);
			goto bad;
		}
		if (v < r->min || v > r->max) {
			cfg_error(cfg, "option \"%s\": out of range "
			    "(%lld..%lld): \"%s\"", opt->name, r->min, r->max,
			    value);
			goto bad;
		}
	}
	*(long *)res = (long)v;
	return 0;
 bad:
	/* Go on with the default; config_check must not trust it. */
	config_ctx.bad |= 1U << (r - config_ranges);
	*(long *)res = opt->def.number;
	return 0;
}

static int
config_cb_path(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *res)
{
	if (config_at_eof(cfg, value))
		return -1;
	if (*value == '\0') {
		cfg_error(cfg, "option \"%s\": empty path", opt->name);
		return config_bad_value(opt, value, res);
	}
	*(const char **)res = value;
	return 0;
}

static int
config_word_ok(const char *s, const char *extra)
{
	const char	*p;

	if (*s == '\0')
		return 0;
	for (p = s; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr(extra, *p) != NULL))
			return 0;
	return 1;
}

/* syslog_name (may hold a '/', like "postfix/smtp") and default_user. */
static int
config_cb_name(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *res)
{
	const char	*extra;

	if (config_at_eof(cfg, value))
		return -1;
	extra = strcmp(opt->name, "syslog_name") == 0 ? "._-/" : "._-";
	if (!config_word_ok(value, extra)) {
		cfg_error(cfg, "option \"%s\": bad value: \"%s\"", opt->name,
		    value);
		return config_bad_value(opt, value, res);
	}
	*(const char **)res = value;
	return 0;
}

static int
config_cb_facility(cfg_t *cfg, cfg_opt_t *opt, const char *value,
    void *res)
{
	if (config_at_eof(cfg, value))
		return -1;
	if (log_facility(value) == -1) {
		cfg_error(cfg, "option \"%s\": unknown facility: \"%s\"",
		    opt->name, value);
		return config_bad_value(opt, value, res);
	}
	*(const char **)res = value;
	return 0;
}

/* host_name: as set, else the system's host name (what a peer knows us as). */
static char *
config_host_name(const char *set)
{
	char	 buf[256];

	if (set != NULL)
		return xstrdup(set);
	if (gethostname(buf, sizeof(buf)) == -1)
		strlcpy(buf, "localhost", sizeof(buf));
	buf[sizeof(buf) - 1] = '\0';
	return xstrdup(buf);
}

/*
 * inet_interfaces and a peer's address: one host name or address ("%" for
 * an IPv6 scope).  "all" and "loopback-only" pass as words.
 */
static int
config_cb_host(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *res)
{
	if (config_at_eof(cfg, value))
		return -1;
	if (!config_word_ok(value, "._-:%")) {
		cfg_error(cfg, "option \"%s\": bad value: \"%s\" (want %s)",
		    opt->name, value, strcmp(opt->name, "inet_interfaces") == 0 ?
		    "all, loopback-only, or one host name or address" :
		    "one host name or address");
		return config_bad_value(opt, value, res);
	}
	*(const char **)res = value;
	return 0;
}

/* One name of import_environment; the master sets MASTER_*, LISTEN_*... */
static int
config_cb_env(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *res)
{
	static const char *reserved[] = { "MASTER_", "LISTEN_", "PEER_" };
	size_t	 i;

	if (config_at_eof(cfg, value))
		return -1;
	if (!config_word_ok(value, "_") || (*value >= '0' && *value <= '9')) {
		cfg_error(cfg, "option \"%s\": bad variable name: \"%s\"",
		    opt->name, value);
		return config_bad_value(opt, value, res);
	}
	for (i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		if (strncmp(value, reserved[i], strlen(reserved[i])) == 0) {
			cfg_error(cfg, "option \"%s\": \"%s\": %s* variables "
			    "are set by the master", opt->name, value,
			    reserved[i]);
			return config_bad_value(opt, value, res);
		}
	*(const char **)res = value;
	return 0;
}

/* A peer's port: 1..65535, kept as a canonical numeric string. */
static int
config_cb_port(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *res)
{
	static char	 buf[8];
	long long	 v;

	if (config_at_eof(cfg, value))
		return -1;
	if (parse_num(value, 1, 65535, &v) == -1) {
		cfg_error(cfg, "option \"%s\": bad port: \"%s\" (want 1..65535)",
		    opt->name, value);
		return config_bad_value(opt, value, res);
	}
	/* libconfuse copies the string at once, so a static buffer will do. */
	snprintf(buf, sizeof(buf), "%lld", v);
	*(const char **)res = buf;
	return 0;
}

int
config_fingerprint_parse(const char *in, char *out, size_t outlen)
{
	static const char hex[] = "0123456789abcdef";
	const char	*p, *h;
	size_t		 n = 0;
	int		 colons;

	if (outlen < 7 + 64 + 1 || strncasecmp(in, "sha256:", 7) != 0)
		return -1;
	memcpy(out, "sha256:", 7);
	p = in + 7;
	colons = strlen(p) == 64 + 31;
	while (*p != '\0' && n < 64) {
		if ((h = strchr(hex, tolower((unsigned char)*p))) == NULL ||
		    *p == '\0')
			return -1;
		out[7 + n++] = *h;
		p++;
		if (colons && n % 2 == 0 && n < 64 && *p++ != ':')
			return -1;
	}
	if (n != 64 || *p != '\0')
		return -1;
	out[7 + 64] = '\0';
	return 0;
}

/* One "fingerprint" of a peer, kept in the canonical form. */
static int
config_cb_fingerprint(cfg_t *cfg, cfg_opt_t *opt, const char *value,
    void *res)
{
	static char	 buf[7 + 64 + 1];

	if (config_at_eof(cfg, value))
		return -1;
	if (config_fingerprint_parse(value, buf, sizeof(buf)) == -1) {
		cfg_error(cfg, "option \"%s\": bad fingerprint: \"%s\" (want "
		    "\"sha256:\" and 64 hex digits, as \"linkmaster "
		    "tls-fingerprint\" prints it)", opt->name, value);
		/* The stand-in counts as "a fingerprint was given". */
		return config_bad_value(opt, value, res);
	}
	/* libconfuse copies the string at once, so a static buffer will do. */
	*(const char **)res = buf;
	return 0;
}

static int
config_cb_yesno(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *res)
{
	if (config_at_eof(cfg, value))
		return -1;
	if (strcmp(value, "yes") != 0 && strcmp(value, "no") != 0) {
		cfg_error(cfg, "option \"%s\": bad value: \"%s\" (want yes "
		    "or no)", opt->name, value);
		/* "no": no TLS check of the peer built on a stand-in. */
		*(const char **)res = "no";
		return 0;
	}
	*(const char **)res = value;
	return 0;
}

int
config_peer_tls(const struct config *c, const struct peer *p)
{
	switch (p->tls) {
	case PEER_TLS_NO:
		return 0;
	case PEER_TLS_YES:
		return 1;
	default:
		return c->tls_key != NULL && c->tls_cert != NULL;
	}
}

/*
 * Validate a peer section once it is closed.  libconfuse calls this with
 * the parent; the new section is the last one.  The line is that of "}".
 * Errors are recorded and the parse goes on (the load fails all the same).
 */
static int
config_cb_peer(cfg_t *cfg, cfg_opt_t *opt)
{
	cfg_t		*sec;
	const char	*name, *why;

	if ((sec = cfg_opt_getnsec(opt, cfg_opt_size(opt) - 1)) == NULL)
		return 0;
	name = cfg_title(sec);
	/* The helper's own rule (names.c): check must not pass what it refuses. */
	if (!peer_name_valid(name != NULL ? name : "", &why)) {
		cfg_error(cfg, "peer \"%s\": bad name: %s",
		    name != NULL ? name : "", why);
	}
	if (cfg_getstr(sec, "address") == NULL)
		cfg_error(cfg, "peer \"%s\": missing \"address\"", name);
	if (cfg_getstr(sec, "port") == NULL)
		cfg_error(cfg, "peer \"%s\": missing \"port\"", name);
	/*
	 * config_load_peer: another peer's section goes at once, checked
	 * but not kept, so that a helper's memory does not grow with the
	 * number of peers (libconfuse's section and option copies are a
	 * few kB each).  It is the last one; rmnsec frees it (its search
	 * path, which it would free too, is NULL here: no cfg_add_searchpath).
	 */
	if (config_ctx.only_peer != NULL && (name == NULL ||
	    strcmp(name, config_ctx.only_peer) != 0))
		(void)cfg_opt_rmnsec(opt, cfg_opt_size(opt) - 1);
	return 0;
}

/* What a file that is not a regular file is, for the error. */
static const char *
config_file_kind(mode_t mode)
{
	if (S_ISDIR(mode))
		return "a directory";
	if (S_ISFIFO(mode))
		return "a fifo";
	if (S_ISCHR(mode))
		return "a character device";
	if (S_ISBLK(mode))
		return "a block device";
	if (S_ISSOCK(mode))
		return "a socket";
	return "not a regular file";
}

/*
 * A signal by name, with or without "SIG" ("TERM", "SIGTERM"), or by
 * number.  SIGSTOP and the other stop signals would never stop anything.
 */
static int
config_signal_parse(const char *value)
{
	const char	*n;
	long long	 v;
	int		 sig;

	if (strncmp(value, "SIG", 3) == 0)
		value += 3;
	if (parse_num(value, 1, SIGRTMIN - 1, &v) == 0)
		sig = (int)v;
	else {
		for (sig = 1; sig < SIGRTMIN; sig++)
			if ((n = sigabbrev_np(sig)) != NULL &&
			    strcmp(n, value) == 0)
				break;
		if (sig == SIGRTMIN)
			return -1;
	}
	if (sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN ||
	    sig == SIGTTOU || sig == SIGCHLD || sig == SIGCONT ||
	    sig == SIGWINCH || sig == SIGURG || sigabbrev_np(sig) == NULL)
		return -1;
	return sig;
}

const char *
config_signame(int sig, char *buf, size_t len)
{
	const char	*n;

	if ((n = sigabbrev_np(sig)) != NULL)
		return n;
	snprintf(buf, len, "%d", sig);
	return buf;
}

static int
config_level_parse(const char *value)
{
	size_t	 i;

	for (i = 0; i < sizeof(config_levels) / sizeof(config_levels[0]); i++)
		if (strcmp(config_levels[i].name, value) == 0)
			return config_levels[i].level;
	return -1;
}

const char *
config_level_name(int level)
{
	size_t	 i;

	for (i = 0; i < sizeof(config_levels) / sizeof(config_levels[0]); i++)
		if (config_levels[i].level == level)
			return config_levels[i].name;
	return "?";
}

static int
config_kill_mode_parse(const char *value)
{
	size_t	 i;

	for (i = 0; i < sizeof(config_kill_modes) /
	    sizeof(config_kill_modes[0]); i++)
		if (strcmp(config_kill_modes[i], value) == 0)
			return (int)i;
	return -1;
}

const char *
config_kill_mode_name(enum kill_mode m)
{
	return config_kill_modes[m];
}

static int
config_cb_signal(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *res)
{
	if (config_at_eof(cfg, value))
		return -1;
	if (config_signal_parse(value) == -1) {
		cfg_error(cfg, "option \"%s\": bad signal: \"%s\" (want a "
		    "name such as TERM, INT, QUIT, or a number)", opt->name,
		    value);
		return config_bad_value(opt, value, res);
	}
	*(const char **)res = value;
	return 0;
}

static int
config_cb_kill_mode(cfg_t *cfg, cfg_opt_t *opt, const char *value,
    void *res)
{
	if (config_at_eof(cfg, value))
		return -1;
	if (config_kill_mode_parse(value) == -1) {
		cfg_error(cfg, "option \"%s\": bad value: \"%s\" (want "
		    "control-group or mixed)", opt->name, value);
		return config_bad_value(opt, value, res);
	}
	*(const char **)res = value;
	return 0;
}

static int
config_cb_level(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *res)
{
	if (config_at_eof(cfg, value))
		return -1;
	if (config_level_parse(value) == -1) {
		cfg_error(cfg, "option \"%s\": bad log level: \"%s\" (want "
		    "emerg, alert, crit, err, warning, notice, info or debug)",
		    opt->name, value);
		return config_bad_value(opt, value, res);
	}
	*(const char **)res = value;
	return 0;
}

/*
 * Validate a service section once it is closed: its title is NAME/TYPE
 * (split at the last '/').  Whether master.cf has that entry is the
 * master's check (check.c), which knows the table.
 */
static int
config_cb_service(cfg_t *cfg, cfg_opt_t *opt)
{
	cfg_t		*sec;
	const char	*title, *slash;

	if ((sec = cfg_opt_getnsec(opt, cfg_opt_size(opt) - 1)) == NULL)
		return 0;
	title = cfg_title(sec);
	if (title == NULL || (slash = strrchr(title, '/')) == NULL ||
	    slash == title || slash[1] == '\0' ||
	    !config_word_ok(slash + 1, "-") ||
	    strpbrk(title, " \t\n") != NULL) {
		cfg_error(cfg, "service \"%s\": bad title (want "
		    "\"NAME/TYPE\" of a master.cf entry, as \"echo/unix\")",
		    title != NULL ? title : "");
		/* Recorded: go on (config_fill_service never sees it). */
	}
	/* config_load_peer: no service sections (the master's). */
	if (config_ctx.only_peer != NULL)
		(void)cfg_opt_rmnsec(opt, cfg_opt_size(opt) - 1);
	return 0;
}

/*
 * include("file"): the file is resolved against confdir, not the cwd (a
 * daemon's cwd is "/"), and parsed by a nested cfg_parse_fp() into the
 * same cfg rather than by libconfuse's cfg_include().  The latter keeps a
 * global include stack that an error inside the included file never
 * unwinds: each such error would leak an fd (not close-on-exec) and a
 * stack slot, and after ten failed reloads every include would fail.
 * libconfuse parses its list defaults the same way, on a pushed buffer.
 */
static int
config_fn_include(cfg_t *cfg, cfg_opt_t *opt, int argc, const char **argv)
{
	struct stat	 st;
	char		*path;
	int		 fd, rc;

	if (argc != 1) {
		cfg_error(cfg, "include: want one file name, got %d", argc);
		return 1;
	}
	if (config_ctx.depth >= CONFIG_MAXDEPTH) {
		cfg_error(cfg, "include \"%s\": nested too deeply (loop?)",
		    argv[0]);
		return 1;
	}
	path = config_resolve(config_ctx.confdir, argv[0]);
	/*
	 * Check here, where the error can name the including line.  Opened
	 * non-blocking: a fifo would otherwise wait for a writer (a "check"
	 * that never returns) and a tty for carrier; for a regular file the
	 * flag means nothing.
	 */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK |
	    O_NOCTTY)) == -1) {
		cfg_error(cfg, "include \"%s\": %s: cannot open: %s", argv[0],
		    path, strerror(errno));
		free(path);
		return 1;
	}
	rc = fstat(fd, &st);
	close(fd);
	if (rc == -1 || !S_ISREG(st.st_mode)) {
		cfg_error(cfg, "include \"%s\": %s: not a regular file (%s)",
		    argv[0], path, rc == -1 ? strerror(errno) :
		    config_file_kind(st.st_mode));
		free(path);
		return 1;
	}
	config_ctx.depth++;
	rc = config_parse(cfg, path);
	config_ctx.depth--;
	free(path);
	return rc == 0 ? 0 : 1;
}

/* The sentinel at top level: the file ended where it should. */
static int
config_fn_eof(cfg_t *cfg, cfg_opt_t *opt, int argc, const char **argv)
{
	return 0;
}

/* The sentinel inside a section: its "}" is missing. */
static int
config_fn_eof_section(cfg_t *cfg, cfg_opt_t *opt, int argc,
    const char **argv)
{
	errlist_add(config_ctx.errs, "%s: %s \"%s\": missing \"}\" at end of "
	    "file", cfg->filename != NULL ? cfg->filename : "(config)",
	    cfg_name(cfg), cfg_title(cfg) != NULL ? cfg_title(cfg) : "");
	return 1;
}

/*
 * Blank out comments ("#", "//" to end of line, and C comments), keeping
 * every newline.  libconfuse 3.3 counts two lines for each comment it
 * skips, so its line numbers drift; and it rejects comments inside a
 * "{ list }".  Without comments it does neither.  Quotes are honoured, so
 * a "#" inside a string stays.
 */
static void
config_blank_comments(char *b, size_t len)
{
	size_t	 i;
	char	 q = 0;

	for (i = 0; i < len; i++) {
		if (q != 0) {
			if (b[i] == '\\' && i + 1 < len && b[i + 1] != '\n')
				i++;
			else if (b[i] == q || b[i] == '\n')
				q = 0;
			continue;
		}
		if (b[i] == '"' || b[i] == '\'') {
			q = b[i];
		} else if (b[i] == '#' || (b[i] == '/' && i + 1 < len &&
		    b[i + 1] == '/')) {
			for (; i < len && b[i] != '\n'; i++)
				b[i] = ' ';
		} else if (b[i] == '/' && i + 1 < len && b[i + 1] == '*') {
			b[i++] = ' ';
			b[i] = ' ';
			for (i++; i < len && !(b[i] == '*' && i + 1 < len &&
			    b[i + 1] == '/'); i++)
				if (b[i] != '\n')
					b[i] = ' ';
			if (i < len) {
				b[i++] = ' ';
				b[i] = ' ';
			}
		}
	}
}

static int
config_digit(char c, int base)
{
	if (c >= '0' && c <= (base == 8 ? '7' : '9'))
		return c - '0';
	if (base == 16 && c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (base == 16 && c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * The line of the first NUL byte, raw or written as an escape inside a
 * double-quoted string ("\0", "\000", "\x00" or "\x0", the escapes
 * libconfuse decodes); 0 if there is none.  libconfuse keeps values as C
 * strings, so "a\0b" would silently be "a".  Comments are blanked
 * already; quotes end at a newline, as in config_blank_comments.
 */
static int
config_find_nul(const char *b, size_t len)
{
	size_t	 i, k;
	int	 line = 1, v, d, base, ndig;
	char	 q = 0;

	for (i = 0; i < len; i++) {
		if (b[i] == '\0')
			return line;
		if (b[i] == '\n') {
			line++;
			q = 0;
			continue;
		}
		if (q == 0) {
			if (b[i] == '"' || b[i] == '\'')
				q = b[i];
			continue;
		}
		if (b[i] == q) {
			q = 0;
			continue;
		}
		if (b[i] != '\\' || i + 1 >= len || b[i + 1] == '\n')
			continue;
		if (q != '"') {
			i++;
			continue;
		}
		k = i + 1;
		if (b[k] == 'x') {
			base = 16;
			ndig = 2;
			k++;
		} else {
			base = 8;
			ndig = 3;
		}
		for (v = 0, d = 0; d < ndig && k < len &&
		    config_digit(b[k], base) != -1; d++, k++)
			v = v * base + config_digit(b[k], base);
		if (d > 0 && v == 0)
			return line;
		/* Past the escape; an ordinary one is two characters. */
		i = d > 0 ? k - 1 : i + 1;
	}
	return 0;
}

/*
 * Read the whole file and append the sentinel, so that libconfuse sees a
 * call of CONFIG_EOF after the last line.  Returns NULL on error (added).
 */
static char *
config_read(const char *path, size_t *lenp, struct errlist *errs)
{
	static const char sentinel[] = "\n" CONFIG_EOF "()\n";
	struct stat	 st;
	char		*buf;
	size_t		 len = 0, cap = 4096;
	ssize_t		 n = 0;
	int		 fd, line;

	/* Non-blocking for the reason config_fn_include gives. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK |
	    O_NOCTTY)) == -1) {
		errlist_add(errs, "%s: cannot open: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		errlist_add(errs, "%s: not a regular file", path);
		close(fd);
		return NULL;
	}
	buf = xmalloc(cap);
	for (;;) {
		/* Keep room for a read and for the sentinel. */
		if (cap - len < sizeof(sentinel) + 1024) {
			cap *= 2;
			buf = xreallocarray(buf, cap, 1);
		}
		n = read(fd, buf + len, cap - len - sizeof(sentinel));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			errlist_add(errs, "%s: read: %s", path,
			    strerror(errno));
			break;
		}
		if (n == 0)
			break;
		len += n;
		if (len > CONFIG_MAXSIZE) {
			errlist_add(errs, "%s: larger than %d bytes", path,
			    CONFIG_MAXSIZE);
			n = -1;
			break;
		}
	}
	close(fd);
	if (n == -1) {
		free(buf);
		return NULL;
	}
	config_blank_comments(buf, len);
	if ((line = config_find_nul(buf, len)) > 0) {
		errlist_add(errs, "%s:%d: NUL byte: a value cannot hold one",
		    path, line);
		free(buf);
		return NULL;
	}
	memcpy(buf + len, sentinel, sizeof(sentinel));	/* with the NUL */
	*lenp = len + sizeof(sentinel) - 1;
	return buf;
}

/*
 * Parse one file into cfg: the main file, or an included one (then this
 * runs inside the including file's parse, whose name and line are kept).
 * Returns 0, or -1 with the errors added.
 */
/*
 * A quote left open swallows the next lines into one string, and
 * libconfuse then blames the line where that string happened to end.
 * Find it first and name the line the quote was opened on.  (A string
 * may not span lines here: "\n" is how a value holds a newline.)
 */
static int
config_quotes(const char *file, const char *buf, size_t len,
    struct errlist *errs)
{
	size_t	 i;
	int	 line = 1, start = 0;
	char	 q = 0;

	for (i = 0; i < len; i++) {
		if (q != 0) {
			if (buf[i] == '\\' && i + 1 < len && buf[i + 1] != '\n')
				i++;
			else if (buf[i] == q)
				q = 0;
			else if (buf[i] == '\n')
				break;
			continue;
		}
		if (buf[i] == '\n')
			line++;
		else if (buf[i] == '#' || (buf[i] == '/' && i + 1 < len &&
		    buf[i + 1] == '/'))
			while (i + 1 < len && buf[i + 1] != '\n')
				i++;
		else if (buf[i] == '"' || buf[i] == '\'') {
			q = buf[i];
			start = line;
		}
	}
	if (q == 0)
		return 0;
	errlist_add(errs, "%s:%d: unclosed quote (%c)", file, start, q);
	return -1;
}

static int
config_parse(cfg_t *cfg, const char *file)
{
	struct errlist	*errs = config_ctx.errs;
	FILE		*fp;
	char		*buf, *saved_file;
	size_t		 len, nerr = errs->n;
	int		 saved_line, rc;

	if ((buf = config_read(file, &len, errs)) == NULL)
		return -1;
	if (config_quotes(file, buf, len, errs) == -1) {
		free(buf);
		return -1;
	}
	if ((fp = fmemopen(buf, len, "r")) == NULL)
		fatal("fmemopen");
	/* cfg_parse_fp names the text "FILE" unless a name is set. */
	saved_file = cfg->filename;
	saved_line = cfg->line;
	cfg->filename = xstrdup(file);
	rc = cfg_parse_fp(cfg, fp);
	free(cfg->filename);
	cfg->filename = saved_file;
	cfg->line = saved_line;
	fclose(fp);
	free(buf);
	if (rc == CFG_SUCCESS)
		return 0;
	if (errs->n == nerr)
		errlist_add(errs, "%s: parse error", file);
	return -1;
}

/* A string that is NULL only after an error already reported. */
static char *
config_strdup0(const char *s)
{
	return xstrdup(s != NULL ? s : "");
}

static char **
config_strlist(cfg_t *cfg, const char *name, int *np)
{
	char		**v;
	unsigned int	  i, n;

	n = cfg_size(cfg, name);
	v = xcalloc(n + 1, sizeof(*v));
	for (i = 0; i < n; i++)
		v[i] = xstrdup(cfg_getnstr(cfg, name, i));
	v[n] = NULL;
	*np = (int)n;
	return v;
}

static void
config_fill_service(struct svcconf *sc, cfg_t *sec)
{
	const char	*title = cfg_title(sec), *slash;

	*sc = config_svc_default;
	if (title != NULL && (slash = strrchr(title, '/')) != NULL) {
		sc->name = xstrndup(title, slash - title);
		sc->type = xstrdup(slash + 1);
	} else {
		/* A bad title, reported already: the load fails. */
		sc->name = config_strdup0(title);
		sc->type = xstrdup("");
	}
	sc->file = xstrdup(sec->filename != NULL ? sec->filename : "");
	sc->line = sec->line;
	sc->stop_signal = config_signal_parse(cfg_getstr(sec, "stop_signal"));
	sc->kill_mode = config_kill_mode_parse(cfg_getstr(sec, "kill_mode"));
	sc->stdout_level = config_level_parse(cfg_getstr(sec,
	    "stdout_level"));
	sc->stderr_level = config_level_parse(cfg_getstr(sec,
	    "stderr_level"));
	sc->accept = cfg_getbool(sec, "accept") ? 1 : 0;
}

const struct svcconf *
config_service(const struct config *c, const char *name, const char *type)
{
	int	 i;

	for (i = 0; i < c->nservices; i++)
		if (strcmp(c->services[i].name, name) == 0 &&
		    strcmp(c->services[i].type, type) == 0)
			return &c->services[i];
	return &config_svc_default;
}

/*
 * One line of show: the settings of name/type in linkmaster.conf syntax,
 * defaults filled in, behind a "#" so that the output stays a valid
 * master.cf (a "#" line is skipped even inside an entry).
 */
void
config_service_print(FILE *fp, const struct config *c, const char *name,
    const char *type)
{
	const struct svcconf *sc = config_service(c, name, type);
	char		 buf[16];

	/* accept only when set: the common line stays as it was. */
	fprintf(fp, "#\tservice \"%s/%s\" { stop_signal = %s kill_mode = %s "
	    "stdout_level = %s stderr_level = %s%s }\n", name, type,
	    config_signame(sc->stop_signal, buf, sizeof(buf)),
	    config_kill_mode_name(sc->kill_mode),
	    config_level_name(sc->stdout_level),
	    config_level_name(sc->stderr_level),
	    sc->accept ? " accept = yes" : "");
}

static char *
config_path_or_null(const struct config *c, const char *p)
{
	return p != NULL ? config_path(c, p) : NULL;
}

static void
config_fill_peer_tls(struct peer *p, cfg_t *sec)
{
	const char	*tls = cfg_getstr(sec, "tls");

	if (tls == NULL)
		p->tls = PEER_TLS_DEFAULT;
	else
		p->tls = strcmp(tls, "yes") == 0 ? PEER_TLS_YES : PEER_TLS_NO;
	p->fingerprints = config_strlist(sec, "fingerprint",
	    &p->nfingerprints);
}

/*
 * TLS settings that only make sense together.  A peer that would use TLS
 * must be one we can authenticate: by a pinned fingerprint, or by tls_ca.
 */
static void
config_check_tls(const struct config *c, struct errlist *errs)
{
	const struct peer *p;
	int		 i;

	if ((c->tls_key == NULL) != (c->tls_cert == NULL))
		errlist_add(errs, "%s: %s is set but not %s: a host's TLS "
		    "identity needs both", c->conf_file,
		    c->tls_key != NULL ? "tls_key" : "tls_cert",
		    c->tls_key != NULL ? "tls_cert" : "tls_key");
	for (i = 0; i < c->npeers; i++) {
		p = &c->peers[i];
		if (p->tls == PEER_TLS_YES &&
		    (c->tls_key == NULL || c->tls_cert == NULL))
			errlist_add(errs, "%s:%d: peer \"%s\": tls = yes needs "
			    "this host's tls_key and tls_cert (see \"linkmaster "
			    "tls-init\")", p->file, p->line, p->name);
		else if (config_peer_tls(c, p) && p->nfingerprints == 0 &&
		    c->tls_ca == NULL)
			errlist_add(errs, "%s:%d: peer \"%s\": no way to "
			    "authenticate it: give its fingerprint, or tls_ca "
			    "(or tls = no)", p->file, p->line, p->name);
	}
}

/*
 * Copy the parsed values into c.  After a bad value some are stand-ins
 * (a peer's missing address is "", a bad service title has no "/"): c is
 * then only looked at by config_check, and freed.
 */
static void
config_fill(struct config *c, cfg_t *cfg)
{
	cfg_t		*sec;
	unsigned int	 i, n;

	c->syslog_name = xstrdup(cfg_getstr(cfg, "syslog_name"));
	c->syslog_facility = xstrdup(cfg_getstr(cfg, "syslog_facility"));
	c->syslog_socket = config_path(c, cfg_getstr(cfg, "syslog_socket"));
	if (cfg_getstr(cfg, "log_file") != NULL)
		c->log_file = config_path(c, cfg_getstr(cfg, "log_file"));
	c->socket_dir = config_path(c, cfg_getstr(cfg, "socket_dir"));
	c->state_dir = config_path(c, cfg_getstr(cfg, "state_dir"));
	c->pid_file = config_path(c, cfg_getstr(cfg, "pid_file"));
	c->daemon_directory = config_path(c,
	    cfg_getstr(cfg, "daemon_directory"));
	c->chroot_dir = config_path(c, cfg_getstr(cfg, "chroot_dir"));
	c->default_user = xstrdup(cfg_getstr(cfg, "default_user"));
	c->inet_interfaces = xstrdup(cfg_getstr(cfg, "inet_interfaces"));
	c->host_name = config_host_name(cfg_getstr(cfg, "host_name"));
	c->tls_key = config_path_or_null(c, cfg_getstr(cfg, "tls_key"));
	c->tls_cert = config_path_or_null(c, cfg_getstr(cfg, "tls_cert"));
	c->tls_ca = config_path_or_null(c, cfg_getstr(cfg, "tls_ca"));

	c->default_process_limit = (int)cfg_getint(cfg,
	    "default_process_limit");
	c->max_use = (int)cfg_getint(cfg, "max_use");
	c->max_idle = cfg_getint(cfg, "max_idle");
	c->throttle_min = cfg_getint(cfg, "throttle_min");
	c->throttle_max = cfg_getint(cfg, "throttle_max");
	c->startup_grace = cfg_getint(cfg, "startup_grace");
	c->stop_timeout = cfg_getint(cfg, "stop_timeout");
	c->cgroups = cfg_getbool(cfg, "cgroups") ? 1 : 0;

	c->import_environment = config_strlist(cfg, "import_environment",
	    &c->nimport);

	n = cfg_size(cfg, "peer");
	c->peers = xcalloc(n, sizeof(*c->peers));
	for (i = 0; i < n; i++) {
		sec = cfg_getnsec(cfg, "peer", i);
		c->peers[i].name = xstrdup(cfg_title(sec));
		/* NULL only if reported missing: the load fails anyway. */
		c->peers[i].address = config_strdup0(cfg_getstr(sec,
		    "address"));
		c->peers[i].port = config_strdup0(cfg_getstr(sec, "port"));
		c->peers[i].file = xstrdup(sec->filename != NULL ?
		    sec->filename : c->conf_file);
		c->peers[i].line = sec->line;
		config_fill_peer_tls(&c->peers[i], sec);
	}
	c->npeers = (int)n;

	n = cfg_size(cfg, "service");
	c->services = xcalloc(n, sizeof(*c->services));
	for (i = 0; i < n; i++)
		config_fill_service(&c->services[i],
		    cfg_getnsec(cfg, "service", i));
	c->nservices = (int)n;
}

/* Whether option name had a bad value (its value is a stand-in). */
static int
config_was_bad(const char *name)
{
	const struct config_range *r = config_range(name);

	return r != NULL && (config_ctx.bad & (1U << (r - config_ranges)));
}

/*
 * Checks that involve more than one option (no line to point at, or the
 * line of the peer).  Each check adds its own error and none stops the
 * others; they run even after bad values, so that one "check" lists
 * everything.  A check is skipped when one of its options was bad: that
 * error is reported already, and the stand-in value would make this one
 * a lie.  (The TLS stand-ins are chosen so that they trip no check.)
 */
static void
config_check(const struct config *c, struct errlist *errs)
{
	char	 a[32], b[32];

	if (!config_was_bad("throttle_min") &&
	    !config_was_bad("throttle_max") &&
	    c->throttle_max < c->throttle_min)
		errlist_add(errs, "%s: throttle_max (%s) is less than "
		    "throttle_min (%s)", c->conf_file,
		    fmt_time(c->throttle_max, a, sizeof(a)),
		    fmt_time(c->throttle_min, b, sizeof(b)));
	config_check_tls(c, errs);
}

/*
 * Both loads.  peer NULL: everything; else only that peer's section is
 * kept (config_cb_peer) and no service section (config_cb_service).
 */
static struct config *
config_load_sections(const char *confdir, const char *peer,
    struct errlist *errs)
{
	struct errlist	 local;
	struct stat	 st;
	struct config	*c;
	cfg_t		*cfg;
	char		*dir;
	size_t		 nerr;

	if (errs == NULL) {
		errlist_init(&local);
		errs = &local;
	}
	nerr = errs->n;

	if ((dir = realpath(confdir, NULL)) == NULL) {
		errlist_add(errs, "%s: cannot open: %s", confdir,
		    strerror(errno));
		goto out;
	}
	if (stat(dir, &st) == -1 || !S_ISDIR(st.st_mode)) {
		errlist_add(errs, "%s: not a directory", confdir);
		free(dir);
		goto out;
	}
	c = xcalloc(1, sizeof(*c));
	c->confdir = dir;
	c->conf_file = config_path(c, CONFIG_FILE);
	c->table_file = config_path(c, CONFIG_TABLE);

	if ((cfg = cfg_init(config_opts, CFGF_NONE)) == NULL)
		fatalx("cfg_init failed");
	cfg_set_error_function(cfg, config_cfg_error);
	cfg_set_validate_func(cfg, "peer", config_cb_peer);
	cfg_set_validate_func(cfg, "service", config_cb_service);
	config_ctx.errs = errs;
	config_ctx.confdir = c->confdir;
	config_ctx.depth = 0;
	config_ctx.bad = 0;
	config_ctx.only_peer = peer;

	/*
	 * A parse that went through may still have recorded bad values
	 * (with stand-ins): the cross-option checks run all the same, and
	 * then c is freed below, so nothing is half-applied.
	 */
	if (config_parse(cfg, c->conf_file) == 0) {
		config_fill(c, cfg);
		config_check(c, errs);
	}

	config_ctx.errs = NULL;
	config_ctx.confdir = NULL;
	config_ctx.only_peer = NULL;
	cfg_free(cfg);

	if (errs->n == nerr)
		return c;
	config_free(c);
 out:
	if (errs == &local)
		errlist_free(&local);
	return NULL;
}

struct config *
config_load(const char *confdir, struct errlist *errs)
{
	return config_load_sections(confdir, NULL, errs);
}

struct config *
config_load_peer(const char *confdir, const char *peer,
    struct errlist *errs)
{
	return config_load_sections(confdir, peer, errs);
}

void
config_free(struct config *c)
{
	int	 i, j;

	if (c == NULL)
		return;
	free(c->confdir);
	free(c->conf_file);
	free(c->table_file);
	free(c->syslog_name);
	free(c->syslog_facility);
	free(c->syslog_socket);
	free(c->log_file);
	free(c->socket_dir);
	free(c->state_dir);
	free(c->pid_file);
	free(c->daemon_directory);
	free(c->chroot_dir);
	free(c->default_user);
	free(c->inet_interfaces);
	free(c->host_name);
	free(c->tls_key);
	free(c->tls_cert);
	free(c->tls_ca);
	if (c->import_environment != NULL)
		for (i = 0; c->import_environment[i] != NULL; i++)
			free(c->import_environment[i]);
	free(c->import_environment);
	for (i = 0; i < c->npeers; i++) {
		free(c->peers[i].name);
		free(c->peers[i].address);
		free(c->peers[i].port);
		free(c->peers[i].file);
		for (j = 0; j < c->peers[i].nfingerprints; j++)
			free(c->peers[i].fingerprints[j]);
		free(c->peers[i].fingerprints);
	}
	free(c->peers);
	for (i = 0; i < c->nservices; i++) {
		free(c->services[i].name);
		free(c->services[i].type);
		free(c->services[i].file);
	}
	free(c->services);
	free(c);
}
