/*
 * check_master.c: unit tests of the master's pure parts: the throttle
 * schedule, the child environment and the link checks.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

#include "log.h"
#include "master.h"
#include "unit.h"

START_TEST(test_throttle_schedule)
{
	/* 1 s doubling to a 60 s cap. */
	static const long long want[] = { 0, 1000, 2000, 4000, 8000, 16000,
	    32000, 60000, 60000, 60000 };
	int	 i;

	for (i = 0; i < 10; i++)
		ck_assert_int_eq(throttle_delay(i, 1000, 60000), want[i]);
	/* Never overflows, however long the failure goes on. */
	ck_assert_int_eq(throttle_delay(1000000, 1000, 60000), 60000);
	/* A cap below the minimum wins. */
	ck_assert_int_eq(throttle_delay(3, 500, 300), 300);
	ck_assert_int_eq(throttle_delay(2, 250, 60000), 500);
}
END_TEST

static int
env_has(char **envp, const char *kv)
{
	for (; *envp != NULL; envp++)
		if (strcmp(*envp, kv) == 0)
			return 1;
	return 0;
}

static int
env_count(char **envp)
{
	int	 n = 0;

	while (envp[n] != NULL)
		n++;
	return n;
}

/* What env_build reads: a configuration, a table entry, its unit. */
struct envfix {
	struct config	 cfg;
	struct tentry	 te;
	struct service	 s;
	struct unit	 u;
};

/* Zeroed and linked up; syslog to daemon on /dev/log. */
static void
envfix_init(struct envfix *f, char *svc, char *unit, enum svc_type type,
    char **argv)
{
	memset(f, 0, sizeof(*f));
	f->cfg.syslog_facility = "daemon";
	f->cfg.syslog_socket = "/dev/log";
	f->te.name = svc;
	f->te.type = type;
	f->te.argv = argv;
	while (argv[f->te.argc] != NULL)
		f->te.argc++;
	f->s.te = &f->te;
	f->u.svc = &f->s;
	f->u.name = unit;
}

START_TEST(test_env_exact)
{
	static char	*imp[] = { "TZ", "LANG", "NOT_SET_HERE", NULL };
	static char	*argv[] = { "echo", NULL };
	struct envfix	 f;
	char		**envp;

	envfix_init(&f, "127.0.0.1:7001", "127.0.0.1:7001", SVC_INET, argv);
	f.cfg.import_environment = imp;
	f.cfg.nimport = 3;
	f.cfg.syslog_facility = "local3";
	f.cfg.syslog_socket = "/tmp/x/log.sock";
	f.cfg.confdir = "/etc/lm";
	f.cfg.state_dir = "/var/lib/lm";
	f.cfg.host_name = "alpha";
	f.cfg.max_use = 7;
	f.cfg.max_idle = 42000;
	f.u.ident = "linkmaster/echo";
	f.u.nlisten = 2;

	setenv("TZ", "UTC", 1);
	setenv("LANG", "C", 1);
	setenv("FOO", "bar", 1);
	unsetenv("NOT_SET_HERE");
	envp = env_build(&f.cfg, &f.u, 5, 3, 4242, 0);
	ck_assert(env_has(envp, "TZ=UTC"));
	ck_assert(env_has(envp, "LANG=C"));
	ck_assert(env_has(envp, "MASTER_SERVICE=127.0.0.1:7001"));
	ck_assert(env_has(envp, "MASTER_TYPE=inet"));
	ck_assert(env_has(envp, "MASTER_GENERATION=3"));
	ck_assert(env_has(envp, "MASTER_STATUS_FD=5"));
	ck_assert(env_has(envp, "MASTER_SYSLOG_NAME=linkmaster/echo"));
	ck_assert(env_has(envp, "MASTER_SYSLOG_FACILITY=local3"));
	ck_assert(env_has(envp, "MASTER_SYSLOG_SOCKET=/tmp/x/log.sock"));
	ck_assert(env_has(envp, "MASTER_MAX_USE=7"));
	ck_assert(env_has(envp, "MASTER_MAX_IDLE=42"));
	ck_assert(env_has(envp, "MASTER_CONFIG_DIR=/etc/lm"));
	ck_assert(env_has(envp, "MASTER_STATE_DIR=/var/lib/lm"));
	ck_assert(env_has(envp, "MASTER_HOST_NAME=alpha"));
	ck_assert(env_has(envp, "LISTEN_FDS=2"));
	ck_assert(env_has(envp, "LISTEN_PID=4242"));
	/* systemd splits names on ':', so the address's colon goes. */
	ck_assert(env_has(envp,
	    "LISTEN_FDNAMES=127.0.0.1_7001:127.0.0.1_7001"));
	/* Exactly these: nothing else leaks (FOO, PATH, ...). */
	ck_assert_int_eq(env_count(envp), 2 + 12 + 3);
	env_free(envp);
}
END_TEST

START_TEST(test_env_daemon_no_listen)
{
	static char	*argv[] = { "/bin/sleep", "1000", NULL };
	struct envfix	 f;
	char		**envp, **p;

	envfix_init(&f, "keep", "keep", SVC_DAEMON, argv);
	f.cfg.max_idle = 500;	/* ms: must not become 0, "never" */
	f.cfg.host_name = "h";
	f.u.ident = "linkmaster/keep";
	envp = env_build(&f.cfg, &f.u, 3, 1, 99, 0);
	for (p = envp; *p != NULL; p++)
		ck_assert_msg(strncmp(*p, "LISTEN_", 7) != 0,
		    "daemon got %s", *p);
	ck_assert(env_has(envp, "MASTER_TYPE=daemon"));
	ck_assert(env_has(envp, "MASTER_STATUS_FD=3"));
	ck_assert(env_has(envp, "MASTER_MAX_IDLE=1"));
	ck_assert_int_eq(env_count(envp), 12);
	env_free(envp);
}
END_TEST

START_TEST(test_env_link_handoff)
{
	static char	*argv[] = { "link", NULL };
	struct envfix	 f;
	char		**envp;

	envfix_init(&f, "link", "link/beta", SVC_LINK, argv);
	f.cfg.host_name = "alpha";
	f.u.ident = "linkmaster/link/beta";
	f.u.nlisten = 1;
	f.u.peer.name = "beta";
	f.u.peer.address = "127.0.0.2";
	f.u.peer.port = "7070";
	/* The handed-over TCP link follows the listen socket. */
	envp = env_build(&f.cfg, &f.u, 5, 2, 77, 1);
	ck_assert(env_has(envp, "MASTER_TYPE=link"));
	ck_assert(env_has(envp, "MASTER_HOST_NAME=alpha"));
	ck_assert(env_has(envp, "PEER_NAME=beta"));
	ck_assert(env_has(envp, "PEER_ADDRESS=127.0.0.2"));
	ck_assert(env_has(envp, "PEER_PORT=7070"));
	ck_assert(env_has(envp, "LISTEN_FDS=2"));
	ck_assert(env_has(envp, "LISTEN_FDNAMES=link/beta:handoff"));
	env_free(envp);
	envp = env_build(&f.cfg, &f.u, 4, 2, 77, 0);
	ck_assert(env_has(envp, "LISTEN_FDS=1"));
	ck_assert(env_has(envp, "LISTEN_FDNAMES=link/beta"));
	env_free(envp);
}
END_TEST

/*
 * A link peer whose socket, socket_dir/{private,public}/SERVICE/PEER,
 * cannot fit a sun_path is refused at the peer's line, before any bind.
 */
START_TEST(test_check_links)
{
	static const char	 tab[] = "x unix - - n - - echo\n"
	    "lk link n - n - - link\n";
	struct peer		 peers[2];
	struct config		 cfg;
	struct table_defaults	 d = { .process_limit = 100 };
	struct errlist		 errs;
	struct table		*t;
	char			 longname[120], want[400];

	memset(&cfg, 0, sizeof(cfg));
	memset(peers, 0, sizeof(peers));
	memset(longname, 'p', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	cfg.socket_dir = "/run/lm";
	peers[0].name = "beta";
	peers[0].file = "lm.conf";
	peers[0].line = 7;
	peers[1].name = longname;
	peers[1].file = "lm.conf";
	peers[1].line = 9;
	cfg.peers = peers;
	cfg.npeers = 2;
	errlist_init(&errs);
	ck_assert_ptr_nonnull(t = table_parse_buf("t.cf", tab,
	    sizeof(tab) - 1, &d, &errs));
	ck_assert_int_eq(check_links(&cfg, t, &errs), -1);
	ck_assert_uint_eq(errs.n, 1);
	(void)snprintf(want, sizeof(want), "lm.conf:9: peer \"%s\": the "
	    "socket of link service \"lk\", /run/lm/public/lk/%s, is 137 "
	    "bytes long; a unix socket's path has at most 107", longname,
	    longname);
	ck_assert_str_eq(errs.msg[0], want);
	errlist_free(&errs);

	/* Without the long one, or without a link service: nothing. */
	cfg.npeers = 1;
	ck_assert_int_eq(check_links(&cfg, t, &errs), 0);
	ck_assert_uint_eq(errs.n, 0);
	table_free(t);
	cfg.npeers = 2;
	ck_assert_ptr_nonnull(t = table_parse_buf("t.cf", tab, 22, &d,
	    &errs));
	ck_assert_int_eq(check_links(&cfg, t, &errs), 0);
	table_free(t);
	errlist_free(&errs);
}
END_TEST

/* Syslog unreachable: the line must still come out, on stderr. */
START_TEST(test_log_falls_back_to_stderr)
{
	char	 buf[256];
	int	 p[2], saved;
	ssize_t	 n;

	ck_assert_int_eq(pipe(p), 0);
	saved = dup(STDERR_FILENO);
	dup2(p[1], STDERR_FILENO);
	log_init("lmtest/x", "daemon", "/nonexistent/dir/log.sock", 0);
	log_warnx("cannot read %s", "the config");
	log_init("lmtest/x", "daemon", NULL, 0);	/* no socket at all */
	log_info("second");
	dup2(saved, STDERR_FILENO);
	close(p[1]);
	n = read(p[0], buf, sizeof(buf) - 1);
	ck_assert_int_gt(n, 0);
	buf[n] = '\0';
	ck_assert_msg(strstr(buf, "]: warning: cannot read the config\n") != NULL,
	    "got \"%s\"", buf);
	ck_assert_msg(strstr(buf, "lmtest/x[") == buf, "got \"%s\"", buf);
	ck_assert_msg(strstr(buf, "]: second\n") != NULL, "got \"%s\"", buf);
	close(p[0]);
}
END_TEST

static Suite *
master_suite(void)
{
	Suite	*s = suite_create("master");
	TCase	*tc = tcase_create("pure");

	tcase_add_test(tc, test_throttle_schedule);
	tcase_add_test(tc, test_env_exact);
	tcase_add_test(tc, test_env_daemon_no_listen);
	tcase_add_test(tc, test_env_link_handoff);
	tcase_add_test(tc, test_log_falls_back_to_stderr);
	tcase_add_test(tc, test_check_links);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(master_suite());
}
