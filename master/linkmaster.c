/*
 * linkmaster.c: the linkmaster(1) command, postfix(1)'s counterpart.
 *
 * Commands that need the running master talk to it over its control socket
 * and print its answer; the rest read the configuration themselves.  Every
 * failure ends with a one-line reason on stderr and a non-zero exit; the
 * configuration's own problems are printed as "FILE:LINE: message".
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "master.h"
#include "sock.h"

#define DEFAULT_CONFDIR	SYSCONFDIR "/linkmaster"

static const char	*confdir = DEFAULT_CONFDIR;
static int		 verbose;
static int		 json;		/* status --json */

static const struct command {
	const char	*name;
	int		(*fn)(int, char **);
	int		 min, max;	/* arguments; -1: any number */
	const char	*args;
	const char	*help;
} commands[];

/* The usage, one line per command: on stdout for --help, else stderr. */
static void
usage_print(FILE *fp)
{
	const struct command	*c;
	char			 buf[64];

	fprintf(fp, "usage: linkmaster [-hVv] [-c confdir] command [args]\n");
	for (c = commands; c->name != NULL; c++) {
		snprintf(buf, sizeof(buf), "%s%s%s", c->name,
		    *c->args ? " " : "", c->args);
		fprintf(fp, "  %-28s %s\n", buf, c->help);
	}
}

static __dead void
usage(void)
{
	usage_print(stderr);
	exit(2);
}

/* A mistake on the command line: one line saying what, then the usage. */
static __dead void LM_PRINTF(1, 2)
usage_error(const char *fmt, ...)
{
	va_list	 ap;

	fflush(stdout);
	fputs("linkmaster: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	usage();
}

static void
print_errs(struct errlist *errs)
{
	size_t	 i;

	for (i = 0; i < errs->n; i++)
		fprintf(stderr, "%s\n", errs->msg[i]);
}

static struct config *
load_config(void)
{
	struct errlist	 errs;
	struct config	*cfg;

	errlist_init(&errs);
	if ((cfg = config_load(confdir, &errs)) == NULL) {
		print_errs(&errs);
		errlist_free(&errs);
		exit(1);
	}
	errlist_free(&errs);
	return cfg;
}

static struct table *
load_table(struct config *cfg, struct errlist *errs)
{
	struct table_defaults	 d;

	memset(&d, 0, sizeof(d));
	d.process_limit = cfg->default_process_limit;
	return table_parse_file(cfg->table_file, &d, errs);
}

static struct table *
load_table_or_die(struct config *cfg)
{
	struct errlist	 errs;
	struct table	*t;

	errlist_init(&errs);
	if ((t = load_table(cfg, &errs)) == NULL) {
		print_errs(&errs);
		errlist_free(&errs);
		exit(1);
	}
	errlist_free(&errs);
	return t;
}

/*
 * Everything "check" checks; errors in errs (warnings are printed here,
 * they never fail).  Returns the configuration, or NULL when even
 * linkmaster.conf could not be read.
 */
static struct config *
check_all(struct errlist *errs)
{
	struct config	*cfg;
	struct table	*t;
	struct stat	 st;
	const char	*why;

	if ((cfg = config_load(confdir, errs)) == NULL)
		return NULL;
	/* Not an error (syslogd may come later), but every line would be lost. */
	why = NULL;
	if (cfg->log_file == NULL && stat(cfg->syslog_socket, &st) == -1)
		why = strerror(errno);
	else if (cfg->log_file == NULL && !S_ISSOCK(st.st_mode))
		why = "not a socket";
	if (why != NULL)
		fprintf(stderr, "linkmaster: warning: syslog_socket %s: %s: "
		    "log lines will be lost until it exists (or set "
		    "log_file)\n", cfg->syslog_socket, why);
	if ((t = load_table(cfg, errs)) != NULL) {
		(void)check_commands(cfg, t, errs);
		table_free(t);
	}
	return cfg;
}

static int
cmd_check(int argc, char **argv)
{
	struct errlist	 errs;
	struct config	*cfg;
	int		 rc = 0;

	errlist_init(&errs);
	cfg = check_all(&errs);
	if (errs.n > 0) {
		print_errs(&errs);
		rc = 1;
	}
	errlist_free(&errs);
	if (cfg != NULL)
		config_free(cfg);
	return rc;
}

static int
cmd_show(int argc, char **argv)
{
	struct config		*cfg = load_config();
	struct table_defaults	 d;
	struct errlist		 errs;
	struct table		*t;
	struct tentry		*te;
	int			 n = 0, rc = 0, w = 10;

	/* Every good entry is shown; the bad ones as errors, exit 1. */
	memset(&d, 0, sizeof(d));
	d.process_limit = cfg->default_process_limit;
	d.keep_valid = 1;
	errlist_init(&errs);
	if ((t = table_parse_file(cfg->table_file, &d, &errs)) == NULL) {
		print_errs(&errs);
		errlist_free(&errs);
		config_free(cfg);
		return 1;
	}
	/* One name column for all, as wide as the longest name. */
	TAILQ_FOREACH(te, &t->entries, entry)
		if ((argc < 2 || strcmp(te->name, argv[1]) == 0) &&
		    (int)strlen(te->name) > w)
			w = (int)strlen(te->name);
	/* Each entry, then its linkmaster.conf settings (a "#" line). */
	TAILQ_FOREACH(te, &t->entries, entry) {
		if (argc > 1 && strcmp(te->name, argv[1]) != 0)
			continue;
		tentry_print_width(stdout, te, w);
		config_service_print(stdout, cfg, te->name,
		    svc_type_name(te->type));
		n++;
	}
	if (argc > 1 && n == 0) {
		fprintf(stderr, "linkmaster: no service %s\n", argv[1]);
		rc = 1;
	}
	if (errs.n > 0) {
		fflush(stdout);
		print_errs(&errs);
		rc = 1;
	}
	errlist_free(&errs);
	table_free(t);
	config_free(cfg);
	return rc;
}

static int	 ctl_request(const char *, int, char **, const char *,
		    long long);

/* Take the pid file lock, or say who holds it. */
static struct lm_pidfile *
open_pidfile(struct config *cfg)
{
	struct lm_pidfile	*pfh;
	pid_t		 other = -1;
	char		*dir, *slash;

	dir = xstrdup(cfg->pid_file);
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		(void)mkdir(dir, 0755);
	}
	free(dir);
	if ((pfh = pidf_open(cfg->pid_file, 0644, &other)) == NULL) {
		if (errno == EEXIST)
			fprintf(stderr, "linkmaster: already running (pid %ld)\n",
			    (long)other);
		else if (errno == ELOOP)
			fprintf(stderr, "linkmaster: pid file %s: is a symbolic "
			    "link: refusing to follow it\n", cfg->pid_file);
		else if (errno == EINVAL)
			fprintf(stderr, "linkmaster: pid file %s: not a regular "
			    "file with one link: refusing it\n", cfg->pid_file);
		else
			fprintf(stderr, "linkmaster: pid file %s: %s\n",
			    cfg->pid_file, strerror(errno));
		exit(1);
	}
	return pfh;
}

static int
cmd_start_fg(int argc, char **argv)
{
	struct config	*cfg = load_config();
	struct table	*t = load_table_or_die(cfg);
	struct lm_pidfile	*pfh = open_pidfile(cfg);
	int		 rc;

	setproctitle("master -c %s", cfg->confdir);
	log_set_verbose(verbose);
	/* The master owns cfg from here on (a reload replaces it). */
	rc = master_run(cfg, t, pfh, -1, 1);
	table_free(t);
	return rc;
}

/*
 * Start in the background and wait for the master's verdict on a pipe:
 * everything it logs before it is ready comes through (so a failure shows
 * why), then "ready" once its sockets are bound and it serves.
 */
static int
cmd_start(int argc, char **argv)
{
	struct config	*cfg;
	struct table	*t;
	struct lm_pidfile	*pfh;
	FILE		*fp;
	char		*line = NULL;
	size_t		 cap = 0;
	struct errlist	 errs;
	int		 p[2], fd, ready = 0, nfail = 0, status;
	pid_t		 pid;

	if (argc > 1)
		return ctl_request("start", argc, argv, NULL, 0);
	/* As "check" would: a master must not start on a broken table. */
	errlist_init(&errs);
	if ((cfg = check_all(&errs)) != NULL)
		config_free(cfg);
	if (errs.n > 0) {
		print_errs(&errs);
		fprintf(stderr, "linkmaster: not started: the configuration "
		    "has errors\n");
		errlist_free(&errs);
		return 1;
	}
	errlist_free(&errs);
	cfg = load_config();
	t = load_table_or_die(cfg);
	pfh = open_pidfile(cfg);
	if (pipe2(p, O_CLOEXEC) == -1)
		fatal("pipe");
	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) == -1)
		fatal("fork");
	if (pid == 0) {
		close(p[0]);
		(void)setsid();
		if ((fd = open("/dev/null", O_RDWR)) != -1) {
			(void)dup2(fd, STDIN_FILENO);
			(void)dup2(fd, STDOUT_FILENO);
			close(fd);
		}
		(void)dup2(p[1], STDERR_FILENO);
		setproctitle("master -c %s", cfg->confdir);
		log_set_verbose(verbose);
		_exit(master_run(cfg, t, pfh, p[1], 0));
	}
	close(p[1]);
	if ((fp = fdopen(p[0], "r")) == NULL)
		fatal("fdopen");
	while (getline(&line, &cap, fp) != -1) {
		if (strncmp(line, "ready ", 6) == 0) {
			ready = 1;
			nfail = atoi(line + 6);
			break;
		}
		fputs(line, stderr);
	}
	free(line);
	fclose(fp);
	/* Our copy only: the lock lives on in the master's descriptor. */
	pidf_close(pfh);
	table_free(t);
	config_free(cfg);
	if (ready) {
		printf("started (pid %ld)\n", (long)pid);
		if (nfail == 0)
			return 0;
		/* As systemctl start of a failing unit: the master runs on. */
		fprintf(stderr, "linkmaster: %d service%s failed to start "
		    "(the master runs on; see \"linkmaster status\")\n", nfail,
		    nfail == 1 ? "" : "s");
		return 1;
	}
	(void)waitpid(pid, &status, 0);
	fprintf(stderr, "linkmaster: start failed\n");
	return 1;
}

/* Connect to the running master, or exit 1 with "not running". */
static int
ctl_connect(struct config *cfg, long long timeout_ms)
{
	struct sockaddr_un	 sun;
	struct timeval		 tv;
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if ((size_t)snprintf(sun.sun_path, sizeof(sun.sun_path),
	    "%s/master.ctl", cfg->socket_dir) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "linkmaster: socket_dir path too long\n");
		exit(1);
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		fatal("socket");
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		if (errno == ENOENT || errno == ECONNREFUSED)
			fprintf(stderr, "linkmaster: not running\n");
		else
			fprintf(stderr, "linkmaster: %s: %s\n", sun.sun_path,
			    strerror(errno));
		exit(1);
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO,
	    ms_timeval(timeout_ms, &tv), sizeof(tv));
	return fd;
}

/*
 * Send one request (with the command's operands) and relay the answer:
 * lines starting with "~" are progress, printed as they come; then a line
 * with the exit code, then text for stdout (code 0 or 3) or stderr.  An empty
 * answer is end-of-file: for stop and abort that is the success we wait
 * for.
 */
static int
ctl_request(const char *req, int argc, char **argv, const char *done,
    long long timeout_ms)
{
	struct config	*cfg = load_config();
	FILE		*fp;
	char		*line = NULL;
	size_t		 cap = 0, len;
	int		 fd, i, rc = -1;

	fd = ctl_connect(cfg, timeout_ms);
	len = strlen(req) + 2;
	for (i = 1; i < argc; i++)
		len += strlen(argv[i]) + 1;
	if (len > CTL_REQUEST_MAX) {
		fprintf(stderr, "linkmaster: %s: too many arguments\n", req);
		exit(2);
	}
	if (dprintf(fd, "%s", req) < 0)
		fatal("control socket");
	for (i = 1; i < argc; i++)
		if (dprintf(fd, " %s", argv[i]) < 0)
			fatal("control socket");
	if (dprintf(fd, "\n") < 0)
		fatal("control socket");
	if ((fp = fdopen(fd, "r")) == NULL)
		fatal("fdopen");
	while (getline(&line, &cap, fp) != -1) {
		if (rc == -1 && line[0] == '~') {
			fputs(line + 1, stdout);
			fflush(stdout);
			continue;
		}
		if (rc == -1) {
			rc = atoi(line);
			continue;
		}
		/* 3: status found something down; still its answer. */
		fputs(line, rc == 0 || rc == 3 ? stdout : stderr);
	}
	if (ferror(fp)) {
		fprintf(stderr, "linkmaster: no answer from the master: %s\n",
		    strerror(errno));
		rc = 1;
	}
	free(line);
	fclose(fp);
	if (rc == -1) {
		if (done == NULL) {
			fprintf(stderr, "linkmaster: no answer from the "
			    "master\n");
			rc = 1;
		} else {
			printf("%s\n", done);
			rc = 0;
		}
	}
	config_free(cfg);
	return rc;
}

static int
cmd_status(int argc, char **argv)
{
	return ctl_request(json ? "status-json" : "status", argc, argv, NULL,
	    30000);
}

static int
cmd_retry(int argc, char **argv)
{
	return ctl_request("retry", argc, argv, NULL, 30000);
}

static int
cmd_reload(int argc, char **argv)
{
	return ctl_request("reload", argc, argv, NULL, 120000);
}

static int
cmd_stop(int argc, char **argv)
{
	/* No receive timeout: the master bounds its own stop. */
	return ctl_request("stop", argc, argv, argc > 1 ? NULL : "stopped", 0);
}

static int
cmd_restart(int argc, char **argv)
{
	return ctl_request("restart", argc, argv, NULL, 0);
}

static int
cmd_abort(int argc, char **argv)
{
	return ctl_request("abort", argc, argv, "aborted", 0);
}

/* This host's TLS key and certificate: tlstool's (tlsexec.c, tlsgen.c). */
static int
cmd_tls_init(int argc, char **argv)
{
	tlsexec_command(load_config(), "tls-init");
}

static int
cmd_tls_fingerprint(int argc, char **argv)
{
	tlsexec_command(load_config(), "tls-fingerprint");
}

static const struct command commands[] = {
	{ "start", cmd_start, 0, -1, "[service...]",
	    "start the master, or stopped services of it" },
	{ "start-fg", cmd_start_fg, 0, 0, "",
	    "run the master in the foreground" },
	{ "stop", cmd_stop, 0, -1, "[service...]",
	    "stop the master, or services (they stay down)" },
	{ "restart", cmd_restart, 1, -1, "service...",
	    "restart services (stopped ones too)" },
	{ "abort", cmd_abort, 0, 0, "", "kill the master and all at once" },
	{ "status", cmd_status, 0, -1, "[--json] [service...]",
	    "what runs (exit 3: something is down)" },
	{ "check", cmd_check, 0, 0, "", "check the configuration" },
	{ "show", cmd_show, 0, 1, "[service]", "print the service table" },
	{ "retry", cmd_retry, 0, 1, "[service]", "end throttles now" },
	{ "reload", cmd_reload, 0, 0, "", "apply the edited configuration" },
	{ "tls-init", cmd_tls_init, 0, 0, "",
	    "make this host's TLS key and certificate" },
	{ "tls-fingerprint", cmd_tls_fingerprint, 0, 0, "",
	    "print this host's certificate fingerprint" },
	{ NULL, NULL, 0, 0, NULL, NULL }
};

/* The command's own options (--json, -h) go; the rest are its operands. */
static int
command_args(const struct command *c, int argc, char **in, char ***out)
{
	char	**argv;
	int	 i, n = 1, opts = 1;

	argv = *out = xcalloc(argc + 1, sizeof(*argv));
	argv[0] = in[0];

	for (i = 1; i < argc; i++) {
		if (opts && strcmp(in[i], "--") == 0) {
			opts = 0;
			continue;
		}
		if (!opts || in[i][0] != '-' || in[i][1] == '\0') {
			argv[n++] = in[i];
			continue;
		}
		if (strcmp(in[i], "-h") == 0 || strcmp(in[i], "--help") == 0) {
			usage_print(stdout);
			exit(0);
		}
		if (c->fn == cmd_status && strcmp(in[i], "--json") == 0)
			json = 1;
		else
			usage_error("%s: unknown option: %s", c->name, in[i]);
	}
	argv[n] = NULL;
	if (n - 1 < c->min)
		usage_error("%s: missing argument: %s", c->name, c->args);
	if (c->max != -1 && n - 1 > c->max)
		usage_error("%s: unexpected argument: %s", c->name,
		    argv[1 + c->max]);
	return n;
}

int
main(int argc, char *argv[])
{
	extern char		**environ;
	const struct command	*c;
	char			**copy, **args, **cargs;
	const char		*o;
	int			 i, rc;

	/* setproctitle_init() reuses argv's memory: work on a copy. */
	copy = args = xcalloc(argc + 1, sizeof(*args));
	for (i = 0; i < argc; i++)
		args[i] = xstrdup(argv[i]);
	setproctitle_init(argc, argv, environ);
	log_init("linkmaster", "daemon", NULL, 1);

	/*
	 * Options by hand rather than getopt(3): libbsd's getopt knows no
	 * long options, and every mistake must be one "linkmaster: " line.
	 */
	for (i = 1; i < argc && args[i][0] == '-' && args[i][1] != '\0';
	    i++) {
		if (strcmp(args[i], "--") == 0) {
			i++;
			break;
		}
		if (strcmp(args[i], "--help") == 0) {
			usage_print(stdout);
			exit(0);
		}
		if (strcmp(args[i], "--version") == 0) {
			printf("linkmaster %s\n", PACKAGE_VERSION);
			exit(0);
		}
		if (args[i][1] == '-')
			usage_error("unknown option: %s", args[i]);
		for (o = args[i] + 1; *o != '\0'; o++) {
			switch (*o) {
			case 'c':
				if (o[1] != '\0')
					confdir = o + 1;
				else if (i + 1 < argc)
					confdir = args[++i];
				else
					usage_error("option -c needs a "
					    "directory");
				o = "c";	/* the rest was its argument */
				break;
			case 'h':
				usage_print(stdout);
				exit(0);
			case 'V':
				printf("linkmaster %s\n", PACKAGE_VERSION);
				exit(0);
			case 'v':
				verbose = 1;
				break;
			default:
				usage_error("unknown option: -%c", *o);
			}
		}
	}
	argc -= i;
	args += i;
	if (argc < 1)
		usage_error("no command given");
	for (c = commands; c->name != NULL; c++)
		if (strcmp(args[0], c->name) == 0)
			break;
	if (c->name == NULL)
		usage_error("unknown command: %s", args[0]);
	argc = command_args(c, argc, args, &cargs);
	rc = c->fn(argc, cargs);
	free(cargs);
	for (args = copy; *args != NULL; args++)
		free(*args);
	free(copy);
	return rc;
}
