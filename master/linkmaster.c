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
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
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

static __dead void
usage(void)
{
	fprintf(stderr, "usage: linkmaster [-v] [-c confdir] command [args]\n"
	    "commands: start start-fg stop abort status check show [service]\n"
	    "          retry [service] reload\n");
	exit(2);
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

static int
cmd_check(int argc, char **argv)
{
	struct errlist	 errs;
	struct config	*cfg;
	struct table	*t;
	int		 rc = 0;

	errlist_init(&errs);
	if ((cfg = config_load(confdir, &errs)) == NULL) {
		print_errs(&errs);
		errlist_free(&errs);
		return 1;
	}
	if ((t = load_table(cfg, &errs)) != NULL) {
		(void)check_commands(cfg, t, &errs);
		table_free(t);
	}
	if (errs.n > 0) {
		print_errs(&errs);
		rc = 1;
	}
	errlist_free(&errs);
	config_free(cfg);
	return rc;
}

static int
cmd_show(int argc, char **argv)
{
	struct config	*cfg = load_config();
	struct table	*t = load_table_or_die(cfg);
	struct tentry	*te;
	int		 n = 0, rc = 0;

	/* Each entry, then its linkmaster.conf settings (a "#" line). */
	TAILQ_FOREACH(te, &t->entries, entry) {
		if (argc > 1 && strcmp(te->name, argv[1]) != 0)
			continue;
		tentry_print(stdout, te);
		config_service_print(stdout, cfg, te->name,
		    svc_type_name(te->type));
		n++;
	}
	if (argc > 1 && n == 0) {
		fprintf(stderr, "linkmaster: no service %s\n", argv[1]);
		rc = 1;
	}
	table_free(t);
	config_free(cfg);
	return rc;
}

/* Take the pid file lock, or say who holds it. */
static struct pidfh *
open_pidfile(struct config *cfg)
{
	struct pidfh	*pfh;
	pid_t		 other = -1;
	char		*dir, *slash;

	dir = xstrdup(cfg->pid_file);
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		(void)mkdir(dir, 0755);
	}
	free(dir);
	if ((pfh = pidfile_open(cfg->pid_file, 0644, &other)) == NULL) {
		if (errno == EEXIST)
			fprintf(stderr, "linkmaster: already running (pid %ld)\n",
			    (long)other);
		else
			fprintf(stderr, "linkmaster: pid file %s: %s\n",
			    cfg->pid_file, strerror(errno));
		exit(1);
	}
	(void)fcntl(pidfile_fileno(pfh), F_SETFD, FD_CLOEXEC);
	return pfh;
}

static int
cmd_start_fg(int argc, char **argv)
{
	struct config	*cfg = load_config();
	struct table	*t = load_table_or_die(cfg);
	struct pidfh	*pfh = open_pidfile(cfg);
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
	struct config	*cfg = load_config();
	struct table	*t = load_table_or_die(cfg);
	struct pidfh	*pfh = open_pidfile(cfg);
	FILE		*fp;
	char		*line = NULL;
	size_t		 cap = 0;
	int		 p[2], fd, ready = 0, status;
	pid_t		 pid;

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
		if (strcmp(line, "ready\n") == 0) {
			ready = 1;
			break;
		}
		fputs(line, stderr);
	}
	free(line);
	fclose(fp);
	/* Our copy only: the lock lives on in the master's descriptor. */
	pidfile_close(pfh);
	table_free(t);
	config_free(cfg);
	if (ready) {
		printf("started (pid %ld)\n", (long)pid);
		return 0;
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
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

/*
 * Send one request and relay the answer: first line the exit code, then
 * text for stdout (code 0) or stderr.  An empty answer is end-of-file: for
 * stop and abort that is the success we wait for.
 */
static int
ctl_request(const char *req, const char *arg, const char *done,
    long long timeout_ms)
{
	struct config	*cfg = load_config();
	FILE		*fp;
	char		*line = NULL;
	size_t		 cap = 0;
	int		 fd, rc = -1;

	fd = ctl_connect(cfg, timeout_ms);
	if (dprintf(fd, "%s%s%s\n", req, arg ? " " : "", arg ? arg : "") < 0)
		fatal("control socket");
	if ((fp = fdopen(fd, "r")) == NULL)
		fatal("fdopen");
	while (getline(&line, &cap, fp) != -1) {
		if (rc == -1) {
			rc = atoi(line) != 0;
			continue;
		}
		fputs(line, rc ? stderr : stdout);
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
	return ctl_request("status", NULL, NULL, 30000);
}

static int
cmd_retry(int argc, char **argv)
{
	return ctl_request("retry", argc > 1 ? argv[1] : NULL, NULL, 30000);
}

static int
cmd_reload(int argc, char **argv)
{
	return ctl_request("reload", NULL, NULL, 120000);
}

static int
cmd_stop(int argc, char **argv)
{
	/* No receive timeout: the master bounds its own stop. */
	return ctl_request("stop", NULL, "stopped", 0);
}

static int
cmd_abort(int argc, char **argv)
{
	return ctl_request("abort", NULL, "aborted", 0);
}

static const struct {
	const char	*name;
	int		(*fn)(int, char **);
} commands[] = {
	{ "start", cmd_start },
	{ "start-fg", cmd_start_fg },
	{ "stop", cmd_stop },
	{ "abort", cmd_abort },
	{ "status", cmd_status },
	{ "check", cmd_check },
	{ "show", cmd_show },
	{ "retry", cmd_retry },
	{ "reload", cmd_reload },
};

int
main(int argc, char *argv[])
{
	extern char	**environ;
	char		**copy, **args;
	int		 ch, i, rc;
	size_t		 k;

	/* setproctitle_init() reuses argv's memory: work on a copy. */
	copy = args = xcalloc(argc + 1, sizeof(*args));
	for (i = 0; i < argc; i++)
		args[i] = xstrdup(argv[i]);
	setproctitle_init(argc, argv, environ);
	log_init("linkmaster", "daemon", NULL, 1);

	while ((ch = getopt(argc, args, "c:v")) != -1) {
		switch (ch) {
		case 'c':
			confdir = optarg;
			break;
		case 'v':
			verbose = 1;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	args += optind;
	if (argc < 1)
		usage();
	for (k = 0; k < sizeof(commands) / sizeof(commands[0]); k++)
		if (strcmp(args[0], commands[k].name) == 0)
			break;
	if (k == sizeof(commands) / sizeof(commands[0])) {
		fprintf(stderr, "linkmaster: unknown command: %s\n", args[0]);
		usage();
	}
	rc = commands[k].fn(argc, args);
	for (args = copy; *args != NULL; args++)
		free(*args);
	free(copy);
	return rc;
}
