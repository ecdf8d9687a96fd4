/*
 * check_config.c: unit tests of config_load (linkmaster.conf).
 *
 * Each test writes its files into a fresh mkdtemp directory under /tmp
 * (removed again by the teardown) and checks the values, or the exact
 * error text with its file name, and the line where libconfuse gets it
 * right (comments are blanked before parsing, so lines do not drift).
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

/*
 * Not "config.h": the build's -I. finds autoconf's config.h first.
 * A path relative to this file is searched before any -I directory.
 */
#include "config.h"
#include "names.h"
#include "util.h"
#include "unit.h"

static char		 tdir[PATH_MAX];	/* realpath of the test dir */
static char		 conf[PATH_MAX + 32];	/* tdir/linkmaster.conf */
static struct errlist	 errs;
static char		 srcdir[PATH_MAX];	/* realpath of top_srcdir */

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void
setup(void)
{
	char	 tmpl[] = "/tmp/check_config.XXXXXX";

	ck_assert_ptr_nonnull(mkdtemp(tmpl));
	ck_assert_ptr_nonnull(realpath(tmpl, tdir));
	snprintf(conf, sizeof(conf), "%s/linkmaster.conf", tdir);
	errlist_init(&errs);
}

static void
teardown(void)
{
	errlist_free(&errs);
	if (tdir[0] != '\0')
		nftw(tdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void
write_file(const char *name, const char *text)
{
	char	*path;
	FILE	*fp;

	xasprintf(&path, "%s/%s", tdir, name);
	fp = fopen(path, "w");
	ck_assert_ptr_nonnull(fp);
	fputs(text, fp);
	ck_assert_int_eq(fclose(fp), 0);
	free(path);
}

static struct config *
load_text(const char *text)
{
	write_file("linkmaster.conf", text);
	return config_load(tdir, &errs);
}

/* The config must be refused with exactly one error, equal to want. */
static void
expect_error(const char *text, const char *want)
{
	struct config	*c;

	c = load_text(text);
	ck_assert_ptr_null(c);
	ck_assert_msg(errs.n == 1, "%zu errors, want 1 (%s): first \"%s\", "
	    "second \"%s\"", errs.n, want, errs.n > 0 ? errs.msg[0] : "",
	    errs.n > 1 ? errs.msg[1] : "");
	ck_assert_str_eq(errs.msg[0], want);
}

/* Like expect_error, but want is "FILE:LINE: msg" with FILE = conf. */
static void
expect_conf_error(const char *text, int line, const char *msg)
{
	char	*want;

	if (line > 0)
		xasprintf(&want, "%s:%d: %s", conf, line, msg);
	else
		xasprintf(&want, "%s: %s", conf, msg);
	expect_error(text, want);
	free(want);
}

static char *
in_dir(const char *p)
{
	char	*r;

	xasprintf(&r, "%s/%s", tdir, p);
	return r;
}

static void
assert_path(const char *got, const char *rel)
{
	char	*want = in_dir(rel);

	ck_assert_str_eq(got, want);
	free(want);
}

/* --- values ---------------------------------------------------------- */

START_TEST(test_defaults)
{
	struct config	*c;
	char		*p;

	c = load_text("");
	ck_assert_ptr_nonnull(c);
	ck_assert_uint_eq(errs.n, 0);
	ck_assert_str_eq(c->confdir, tdir);
	ck_assert_str_eq(c->conf_file, conf);
	p = in_dir("master.cf");
	ck_assert_str_eq(c->table_file, p);
	free(p);
	ck_assert_str_eq(c->syslog_name, "linkmaster");
	ck_assert_str_eq(c->syslog_facility, "daemon");
	ck_assert_str_eq(c->syslog_socket, "/dev/log");
	ck_assert_str_eq(c->socket_dir, "/run/linkmaster");
	ck_assert_str_eq(c->state_dir, "/var/lib/linkmaster");
	ck_assert_str_eq(c->pid_file, "/run/linkmaster/master.pid");
	ck_assert_str_eq(c->daemon_directory, LIBEXECDIR);
	ck_assert_str_eq(c->chroot_dir, "/var/lib/linkmaster/chroot");
	ck_assert_str_eq(c->default_user, "nobody");
	ck_assert_str_eq(c->inet_interfaces, "all");
	ck_assert_int_eq(c->default_process_limit, 100);
	ck_assert_int_eq(c->max_use, 100);
	ck_assert_int_eq(c->max_idle, 100000);
	ck_assert_int_eq(c->throttle_min, 1000);
	ck_assert_int_eq(c->throttle_max, 60000);
	ck_assert_int_eq(c->startup_grace, 1000);
	ck_assert_int_eq(c->stop_timeout, 10000);
	ck_assert_int_eq(c->nimport, 3);
	ck_assert_str_eq(c->import_environment[0], "TZ");
	ck_assert_str_eq(c->import_environment[1], "LANG");
	ck_assert_str_eq(c->import_environment[2], "PATH");
	ck_assert_ptr_null(c->import_environment[3]);
	ck_assert_int_eq(c->npeers, 0);
	config_free(c);
}
END_TEST

START_TEST(test_comments_only)
{
	struct config	*c;

	c = load_text("# nothing but comments\n// here\n/* and\n here */\n");
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(c->max_use, 100);
	config_free(c);
}
END_TEST

START_TEST(test_all_set)
{
	struct config	*c;

	c = load_text(
	    "syslog_name = \"lm/test\"\n"
	    "syslog_facility = local3\n"
	    "syslog_socket = \"/tmp/log.sock\"\n"
	    "socket_dir = \"/srv/sock\"\n"
	    "state_dir = \"/srv/state\"\n"
	    "pid_file = \"/srv/lm.pid\"\n"
	    "daemon_directory = \"/usr/lib/lm\"\n"
	    "chroot_dir = \"/srv/chroot\"\n"
	    "default_user = \"lmuser\"\n"
	    "inet_interfaces = \"127.0.0.1\"\n"
	    "default_process_limit = 7\n"
	    "max_use = 0\n"
	    "max_idle = 0\n"
	    "throttle_min = 250ms\n"
	    "throttle_max = \"2m\"\n"
	    "startup_grace = 0\n"
	    "stop_timeout = \"3s\"\n"
	    "import_environment = { \"TZ\", \"HOME\", \"lower_case1\" }\n"
	    "peer \"beta\" {\n"
	    "  address = \"127.0.0.2\"\n"
	    "  port = 7070\n"
	    "}\n"
	    "peer gamma-1.x_y { address = \"::1\" port = \"443\" }\n");
	ck_assert_msg(c != NULL, "%s", errs.n ? errs.msg[0] : "?");
	ck_assert_str_eq(c->syslog_name, "lm/test");
	ck_assert_str_eq(c->syslog_facility, "local3");
	ck_assert_str_eq(c->syslog_socket, "/tmp/log.sock");
	ck_assert_str_eq(c->socket_dir, "/srv/sock");
	ck_assert_str_eq(c->state_dir, "/srv/state");
	ck_assert_str_eq(c->pid_file, "/srv/lm.pid");
	ck_assert_str_eq(c->daemon_directory, "/usr/lib/lm");
	ck_assert_str_eq(c->chroot_dir, "/srv/chroot");
	ck_assert_str_eq(c->default_user, "lmuser");
	ck_assert_str_eq(c->inet_interfaces, "127.0.0.1");
	ck_assert_int_eq(c->default_process_limit, 7);
	ck_assert_int_eq(c->max_use, 0);
	ck_assert_int_eq(c->max_idle, 0);
	ck_assert_int_eq(c->throttle_min, 250);
	ck_assert_int_eq(c->throttle_max, 120000);
	ck_assert_int_eq(c->startup_grace, 0);
	ck_assert_int_eq(c->stop_timeout, 3000);
	ck_assert_int_eq(c->nimport, 3);
	ck_assert_str_eq(c->import_environment[1], "HOME");
	ck_assert_str_eq(c->import_environment[2], "lower_case1");
	ck_assert_ptr_null(c->import_environment[3]);
	ck_assert_int_eq(c->npeers, 2);
	ck_assert_str_eq(c->peers[0].name, "beta");
	ck_assert_str_eq(c->peers[0].address, "127.0.0.2");
	ck_assert_str_eq(c->peers[0].port, "7070");
	ck_assert_str_eq(c->peers[1].name, "gamma-1.x_y");
	ck_assert_str_eq(c->peers[1].address, "::1");
	ck_assert_str_eq(c->peers[1].port, "443");
	config_free(c);
}
END_TEST

START_TEST(test_env_empty_and_append)
{
	struct config	*c;

	c = load_text("import_environment = {}\n");
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(c->nimport, 0);
	ck_assert_ptr_null(c->import_environment[0]);
	config_free(c);

	c = load_text("import_environment += { \"HOME\" }\n");
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(c->nimport, 4);
	ck_assert_str_eq(c->import_environment[3], "HOME");
	config_free(c);
}
END_TEST

static const struct {
	const char	*text;
	long long	 ms;
} times[] = {
	{ "100", 100000 },
	{ "\"100\"", 100000 },
	{ "100s", 100000 },
	{ "\"100s\"", 100000 },
	{ "500ms", 500 },
	{ "\"2s\"", 2000 },
	{ "5m", 300000 },
	{ "1h", 3600000 },
	{ "24h", 86400000 },
	{ "0", 0 },
	{ "0ms", 0 },
};

START_TEST(test_time_formats)
{
	struct config	*c;
	char		*text;

	xasprintf(&text, "max_idle = %s\n", times[_i].text);
	c = load_text(text);
	ck_assert_msg(c != NULL, "%s: %s", text, errs.n ? errs.msg[0] : "?");
	ck_assert_int_eq(c->max_idle, times[_i].ms);
	config_free(c);
	free(text);
}
END_TEST

START_TEST(test_time_ranges_ok)
{
	struct config	*c;

	c = load_text("throttle_min = 1ms\nthrottle_max = 1ms\n"
	    "startup_grace = 1h\nstop_timeout = 0\n");
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(c->throttle_min, 1);
	ck_assert_int_eq(c->throttle_max, 1);
	ck_assert_int_eq(c->startup_grace, 3600000);
	config_free(c);
}
END_TEST

START_TEST(test_relative_paths)
{
	struct config	*c;
	char		 parent[PATH_MAX], *base, *want;

	/* Load "check_config.XXXXXX" from /tmp, then move away: "../run"
	 * must mean the confdir's parent, whatever the cwd. */
	snprintf(parent, sizeof(parent), "%s", tdir);
	base = strrchr(parent, '/');
	*base++ = '\0';
	ck_assert_int_eq(chdir(parent), 0);
	write_file("linkmaster.conf",
	    "socket_dir = \"../run\"\n"
	    "state_dir = \"../run/state\"\n"
	    "pid_file = \"./run/master.pid\"\n"
	    "daemon_directory = \"services\"\n"
	    "chroot_dir = \"..\"\n"
	    "syslog_socket = \"/dev/log\"\n");
	c = config_load(base, &errs);
	ck_assert_int_eq(chdir("/"), 0);
	ck_assert_msg(c != NULL, "%s", errs.n ? errs.msg[0] : "?");
	ck_assert_str_eq(c->confdir, tdir);
	ck_assert_str_eq(c->conf_file, conf);
	xasprintf(&want, "%s/run", parent);
	ck_assert_str_eq(c->socket_dir, want);
	free(want);
	xasprintf(&want, "%s/run/state", parent);
	ck_assert_str_eq(c->state_dir, want);
	free(want);
	assert_path(c->pid_file, "run/master.pid");
	assert_path(c->daemon_directory, "services");
	ck_assert_str_eq(c->chroot_dir, parent);
	ck_assert_str_eq(c->syslog_socket, "/dev/log");

	want = config_path(c, "x/y");
	assert_path(want, "x/y");
	free(want);
	want = config_path(c, "/abs/x");
	ck_assert_str_eq(want, "/abs/x");
	free(want);
	want = config_path(c, ".");
	ck_assert_str_eq(want, tdir);
	free(want);
	config_free(c);
}
END_TEST

START_TEST(test_root_confdir)
{
	struct config	*c;
	char		*p;

	/* ".." cannot climb above "/". */
	c = load_text("");
	ck_assert_ptr_nonnull(c);
	free(c->confdir);
	c->confdir = xstrdup("/");
	p = config_path(c, "../../x");
	ck_assert_str_eq(p, "/x");
	free(p);
	p = config_path(c, "..");
	ck_assert_str_eq(p, "/");
	free(p);
	config_free(c);
}
END_TEST

START_TEST(test_include)
{
	struct config	*c;
	char		*sub;

	sub = in_dir("sub");
	ck_assert_int_eq(mkdir(sub, 0700), 0);
	free(sub);
	write_file("peers.conf", "peer beta {\n address = \"127.0.0.2\"\n"
	    " port = 7070\n}\ninclude(\"sub/more.conf\")\n");
	write_file("sub/more.conf", "max_use = 5\n");
	write_file("linkmaster.conf", "max_idle = 5s\ninclude(\"peers.conf\")\n"
	    "stop_timeout = 2s\n");
	/* The cwd must not matter. */
	ck_assert_int_eq(chdir("/"), 0);
	c = config_load(tdir, &errs);
	ck_assert_msg(c != NULL, "%s", errs.n ? errs.msg[0] : "?");
	ck_assert_int_eq(c->max_idle, 5000);
	ck_assert_int_eq(c->stop_timeout, 2000);
	ck_assert_int_eq(c->max_use, 5);
	ck_assert_int_eq(c->npeers, 1);
	ck_assert_str_eq(c->peers[0].name, "beta");
	/* Where the section is, for check's messages: the included file. */
	sub = in_dir("peers.conf");
	ck_assert_str_eq(c->peers[0].file, sub);
	free(sub);
	/* libconfuse knows the section's line when it closes: its "}". */
	ck_assert_int_eq(c->peers[0].line, 4);
	config_free(c);
}
END_TEST

START_TEST(test_sample_conf)
{
	struct config	*c;
	char		*dir, *want;

	/* The sample in conf/ must load, and work in place. */
	xasprintf(&dir, "%s/conf", srcdir);
	c = config_load(dir, &errs);
	ck_assert_msg(c != NULL, "%s", errs.n ? errs.msg[0] : "?");
	ck_assert_str_eq(c->syslog_name, "linkmaster");
	xasprintf(&want, "%s/run", srcdir);
	ck_assert_str_eq(c->socket_dir, want);
	free(want);
	xasprintf(&want, "%s/run/master.pid", srcdir);
	ck_assert_str_eq(c->pid_file, want);
	free(want);
	xasprintf(&want, "%s/services", srcdir);
	ck_assert_str_eq(c->daemon_directory, want);
	free(want);
	ck_assert_int_eq(c->npeers, 0);
	config_free(c);
	free(dir);
}
END_TEST

/* --- errors ---------------------------------------------------------- */

START_TEST(test_err_unknown_option)
{
	expect_conf_error("max_use = 1\nfoo = 2\n", 2,
	    "no such option \"foo\"");
}
END_TEST

START_TEST(test_err_bad_int)
{
	expect_conf_error("max_use = abc\n", 1,
	    "option \"max_use\": bad number: \"abc\"");
}
END_TEST

START_TEST(test_err_int_hex_refused)
{
	expect_conf_error("max_use = 0x10\n", 1,
	    "option \"max_use\": bad number: \"0x10\"");
}
END_TEST

START_TEST(test_err_int_range)
{
	expect_conf_error("max_use = 1\nmax_use = 1000001\n", 2,
	    "option \"max_use\": out of range (0..1000000): \"1000001\"");
}
END_TEST

START_TEST(test_err_process_limit_zero)
{
	expect_conf_error("default_process_limit = 0\n", 1,
	    "option \"default_process_limit\": out of range (1..100000): "
	    "\"0\"");
}
END_TEST

START_TEST(test_err_bad_time)
{
	expect_conf_error("\n\n\nthrottle_min = \"1x\"\n", 4,
	    "option \"throttle_min\": bad time value: \"1x\"");
}
END_TEST

START_TEST(test_err_bad_time_forms)
{
	static const char *bad[] = { "-1", "1.5s", "s", "1 s", "1sec",
	    "9999999999999" };
	char	*text, *want;
	size_t	 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		xasprintf(&text, "stop_timeout = \"%s\"\n", bad[i]);
		xasprintf(&want, "option \"stop_timeout\": bad time value: "
		    "\"%s\"", bad[i]);
		expect_conf_error(text, 1, want);
		errlist_free(&errs);
		free(text);
		free(want);
	}
}
END_TEST

START_TEST(test_err_time_range)
{
	expect_conf_error("throttle_min = 2h\n", 1,
	    "option \"throttle_min\": out of range (1ms..1h): \"2h\"");
}
END_TEST

START_TEST(test_err_time_range_zero)
{
	expect_conf_error("throttle_min = 0\n", 1,
	    "option \"throttle_min\": out of range (1ms..1h): \"0\"");
}
END_TEST

START_TEST(test_err_max_idle_range)
{
	expect_conf_error("max_idle = 25h\n", 1,
	    "option \"max_idle\": out of range (0..24h): \"25h\"");
}
END_TEST

START_TEST(test_err_facility)
{
	expect_conf_error("syslog_facility = \"bogus\"\n", 1,
	    "option \"syslog_facility\": unknown facility: \"bogus\"");
}
END_TEST

START_TEST(test_err_env_name)
{
	expect_conf_error("import_environment = { \"TZ\", \"1BAD\" }\n", 1,
	    "option \"import_environment\": bad variable name: \"1BAD\"");
}
END_TEST

START_TEST(test_err_env_name_chars)
{
	expect_conf_error("import_environment = { \"A-B\" }\n", 1,
	    "option \"import_environment\": bad variable name: \"A-B\"");
}
END_TEST

START_TEST(test_err_env_master)
{
	expect_conf_error("import_environment = { \"MASTER_X\" }\n", 1,
	    "option \"import_environment\": \"MASTER_X\": MASTER_* "
	    "variables are set by the master");
}
END_TEST

START_TEST(test_err_env_listen_peer)
{
	expect_conf_error("import_environment += { \"LISTEN_FDS\" }\n", 1,
	    "option \"import_environment\": \"LISTEN_FDS\": LISTEN_* "
	    "variables are set by the master");
	errlist_free(&errs);
	expect_conf_error("import_environment = PEER_NAME\n", 1,
	    "option \"import_environment\": \"PEER_NAME\": PEER_* "
	    "variables are set by the master");
}
END_TEST

START_TEST(test_err_throttle_order)
{
	expect_conf_error("throttle_min = 2s\nthrottle_max = 1500ms\n", 0,
	    "throttle_max (1500ms) is less than throttle_min (2s)");
}
END_TEST

START_TEST(test_err_missing_file)
{
	struct config	*c;
	char		*want;

	c = config_load(tdir, &errs);
	ck_assert_ptr_null(c);
	ck_assert_uint_eq(errs.n, 1);
	xasprintf(&want, "%s: cannot open: No such file or directory", conf);
	ck_assert_str_eq(errs.msg[0], want);
	free(want);
}
END_TEST

START_TEST(test_err_conf_is_dir)
{
	struct config	*c;
	char		*want;

	ck_assert_int_eq(mkdir(conf, 0700), 0);
	c = config_load(tdir, &errs);
	ck_assert_ptr_null(c);
	ck_assert_uint_eq(errs.n, 1);
	xasprintf(&want, "%s: not a regular file", conf);
	ck_assert_str_eq(errs.msg[0], want);
	free(want);
}
END_TEST

START_TEST(test_err_missing_dir)
{
	struct config	*c;
	char		*dir, *want;

	dir = in_dir("nope");
	c = config_load(dir, &errs);
	ck_assert_ptr_null(c);
	ck_assert_uint_eq(errs.n, 1);
	xasprintf(&want, "%s: cannot open: No such file or directory", dir);
	ck_assert_str_eq(errs.msg[0], want);
	free(want);
	free(dir);
}
END_TEST

START_TEST(test_err_dir_is_file)
{
	struct config	*c;
	char		*want;

	write_file("linkmaster.conf", "");
	c = config_load(conf, &errs);
	ck_assert_ptr_null(c);
	ck_assert_uint_eq(errs.n, 1);
	xasprintf(&want, "%s: not a directory", conf);
	ck_assert_str_eq(errs.msg[0], want);
	free(want);
}
END_TEST

START_TEST(test_service_sections)
{
	struct config		*c;
	const struct svcconf	*sc;
	char			 buf[16];

	c = load_text(
	    "max_use = 3\n"
	    "\n"
	    "service \"echo/unix\" {\n"
	    "  stop_signal = QUIT\n"
	    "  kill_mode = mixed\n"
	    "  stdout_level = debug\n"
	    "  stderr_level = err\n"
	    "}\n"
	    "service 127.0.0.1:7000/inet { stop_signal = SIGINT }\n"
	    "service \"web/inet\" { stop_signal = 10 }\n");
	ck_assert_msg(c != NULL, "%s", errs.n ? errs.msg[0] : "?");
	ck_assert_int_eq(c->nservices, 3);
	sc = config_service(c, "echo", "unix");
	ck_assert_str_eq(sc->name, "echo");
	ck_assert_str_eq(sc->type, "unix");
	ck_assert_str_eq(sc->file, conf);
	/* libconfuse knows the line of the closing brace only. */
	ck_assert_int_eq(sc->line, 8);
	ck_assert_int_eq(sc->stop_signal, SIGQUIT);
	ck_assert_int_eq(sc->kill_mode, KILL_MIXED);
	ck_assert_int_eq(sc->stdout_level, LOG_DEBUG);
	ck_assert_int_eq(sc->stderr_level, LOG_ERR);
	sc = config_service(c, "127.0.0.1:7000", "inet");
	ck_assert_int_eq(sc->stop_signal, SIGINT);
	ck_assert_int_eq(sc->kill_mode, KILL_CONTROL_GROUP);
	ck_assert_int_eq(sc->stdout_level, LOG_INFO);
	ck_assert_int_eq(sc->stderr_level, LOG_WARNING);
	ck_assert_int_eq(config_service(c, "web", "inet")->stop_signal, 10);
	/* No section: the defaults, nameless. */
	sc = config_service(c, "echo", "inet");
	ck_assert_ptr_null(sc->name);
	ck_assert_int_eq(sc->stop_signal, SIGTERM);
	ck_assert_int_eq(sc->kill_mode, KILL_CONTROL_GROUP);
	ck_assert_str_eq(config_signame(SIGQUIT, buf, sizeof(buf)), "QUIT");
	ck_assert_str_eq(config_kill_mode_name(KILL_MIXED), "mixed");
	ck_assert_str_eq(config_level_name(LOG_ERR), "err");
	config_free(c);
}
END_TEST

START_TEST(test_err_service_duplicate)
{
	expect_conf_error(
	    "service \"echo/unix\" { kill_mode = mixed }\n"
	    "service \"echo/unix\" { stop_signal = INT }\n", 2,
	    "service \"echo/unix\" is defined twice");
}
END_TEST

START_TEST(test_err_service_title)
{
	expect_conf_error(
	    "service \"echo\" {\n"
	    "  kill_mode = mixed\n"
	    "}\n", 3,
	    "service \"echo\": bad title (want \"NAME/TYPE\" of a master.cf "
	    "entry, as \"echo/unix\")");
}
END_TEST

START_TEST(test_err_service_values)
{
	expect_conf_error(
	    "service \"echo/unix\" {\n"
	    "  stop_signal = STOP\n"
	    "}\n", 2,
	    "service \"echo/unix\": option \"stop_signal\": bad signal: "
	    "\"STOP\" (want a name such as TERM, INT, QUIT, or a number)");
	errlist_free(&errs);
	errlist_init(&errs);
	expect_conf_error(
	    "service \"echo/unix\" {\n"
	    "  kill_mode = process\n"
	    "}\n", 2,
	    "service \"echo/unix\": option \"kill_mode\": bad value: "
	    "\"process\" (want control-group or mixed)");
	errlist_free(&errs);
	errlist_init(&errs);
	expect_conf_error(
	    "service \"echo/unix\" {\n"
	    "\n"
	    "  stderr_level = loud\n"
	    "}\n", 3,
	    "service \"echo/unix\": option \"stderr_level\": bad log level: "
	    "\"loud\" (want emerg, alert, crit, err, warning, notice, info "
	    "or debug)");
	errlist_free(&errs);
	errlist_init(&errs);
	expect_conf_error(
	    "service \"echo/unix\" {\n"
	    "  max_use = 1\n"
	    "}\n", 2,
	    "service \"echo/unix\": no such option \"max_use\"");
}
END_TEST

START_TEST(test_err_service_unclosed)
{
	expect_conf_error(
	    "service \"echo/unix\" {\n"
	    "  kill_mode = mixed\n", 0,
	    "service \"echo/unix\": missing \"}\" at end of file");
}
END_TEST

START_TEST(test_err_duplicate_peer)
{
	expect_conf_error(
	    "peer beta { address = a port = 1 }\n"
	    "peer beta { address = b port = 2 }\n", 2,
	    "peer \"beta\" is defined twice");
}
END_TEST

START_TEST(test_err_peer_no_address)
{
	expect_conf_error(
	    "peer \"beta\" {\n"
	    "  port = 7070\n"
	    "}\n", 3,
	    "peer \"beta\": missing \"address\"");
}
END_TEST

START_TEST(test_err_peer_no_port)
{
	expect_conf_error("peer beta { address = \"h\" }\n", 1,
	    "peer \"beta\": missing \"port\"");
}
END_TEST

START_TEST(test_err_peer_bad_port)
{
	expect_conf_error(
	    "peer \"beta\" {\n"
	    "  address = \"127.0.0.2\"\n"
	    "  port = 70000\n"
	    "}\n", 3,
	    "peer \"beta\": option \"port\": bad port: \"70000\" "
	    "(want 1..65535)");
	errlist_free(&errs);
	expect_conf_error("peer beta { address = h port = \"http\" }\n", 1,
	    "peer \"beta\": option \"port\": bad port: \"http\" "
	    "(want 1..65535)");
}
END_TEST

START_TEST(test_err_peer_bad_name)
{
	char	 name[300], text[400], want[400];

	expect_conf_error("peer \"a b\" { address = h port = 1 }\n", 1,
	    "peer \"a b\": bad name: use letters, digits, \".\", \"_\" "
	    "and \"-\"");
	/* The link helper's rule: these were accepted, then refused. */
	errlist_free(&errs);
	expect_conf_error("peer \"..\" {\n address = h\n port = 1\n}\n", 4,
	    "peer \"..\": bad name: \".\" and \"..\" are not names (a "
	    "peer's name is a directory's)");
	errlist_free(&errs);
	expect_conf_error("max_use = 1\npeer \".\" { address = h port = 1 }\n",
	    2, "peer \".\": bad name: \".\" and \"..\" are not names (a "
	    "peer's name is a directory's)");
	errlist_free(&errs);
	memset(name, 'a', 256);
	name[256] = '\0';
	(void)snprintf(text, sizeof(text), "peer %s { address = h port = 1 }\n",
	    name);
	(void)snprintf(want, sizeof(want), "peer \"%s\": bad name: longer "
	    "than 255 characters", name);
	expect_conf_error(text, 1, want);
}
END_TEST

/* The rule itself, as the link helper will ask it. */
START_TEST(test_peer_name_rule)
{
	char		 name[300];
	const char	*why;

	ck_assert(peer_name_valid("beta", &why));
	ck_assert_ptr_null(why);
	ck_assert(peer_name_valid("host-1.example_org", NULL));
	ck_assert(peer_name_valid("...", NULL));
	ck_assert(peer_name_valid(".beta", NULL));
	ck_assert(!peer_name_valid("", &why));
	ck_assert_str_eq(why, "empty name");
	ck_assert(!peer_name_valid(".", &why));
	ck_assert(!peer_name_valid("..", &why));
	ck_assert(strstr(why, "not names") != NULL);
	ck_assert(!peer_name_valid("a/b", NULL));
	ck_assert(!peer_name_valid("../x", NULL));
	ck_assert(!peer_name_valid("a b", NULL));
	ck_assert(!peer_name_valid("a:b", NULL));
	ck_assert(!peer_name_valid("a\nb", NULL));
	ck_assert(!peer_name_valid("\xc3\xa9", NULL));
	memset(name, 'a', 255);
	name[255] = '\0';
	ck_assert(peer_name_valid(name, NULL));
	name[255] = 'a';
	name[256] = '\0';
	ck_assert(!peer_name_valid(name, &why));
	ck_assert_str_eq(why, "longer than 255 characters");
}
END_TEST

START_TEST(test_err_peer_unknown_option)
{
	expect_conf_error("peer beta {\n address = h\n prot = 1\n}\n", 3,
	    "peer \"beta\": no such option \"prot\"");
}
END_TEST

START_TEST(test_err_peer_unclosed)
{
	/* libconfuse 3.3 alone accepts this silently. */
	expect_conf_error("max_use = 1\npeer \"beta\" {\n  address = h\n"
	    "  port = 1\n", 0, "peer \"beta\": missing \"}\" at end of file");
}
END_TEST

START_TEST(test_err_premature_eof)
{
	expect_conf_error("max_use =", 0, "premature end of file");
	errlist_free(&errs);
	expect_conf_error("import_environment = { TZ,\n", 0,
	    "premature end of file");
}
END_TEST

START_TEST(test_err_stray_brace)
{
	expect_conf_error("max_use = 1\n}\n", 2, "unexpected closing brace");
}
END_TEST

START_TEST(test_err_include_missing)
{
	char	*want;

	ck_assert_int_eq(chdir("/"), 0);
	xasprintf(&want, "include \"nope.conf\": %s/nope.conf: cannot open: "
	    "No such file or directory", tdir);
	expect_conf_error("max_use = 1\ninclude(\"nope.conf\")\n", 2, want);
	free(want);
}
END_TEST

START_TEST(test_err_include_dir)
{
	char	*want;

	xasprintf(&want, "include \".\": %s: not a regular file "
	    "(a directory)", tdir);
	expect_conf_error("include(\".\")\n", 1, want);
	free(want);
}
END_TEST

/*
 * A fifo nobody writes to: opening it for reading would wait for a writer
 * forever ("check" hung).  Refused at once instead; Check's timeout fails
 * the test if it hangs.
 */
START_TEST(test_err_include_fifo)
{
	char	*want, *fifo;

	fifo = in_dir("peers.fifo");
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	xasprintf(&want, "include \"peers.fifo\": %s: not a regular file "
	    "(a fifo)", fifo);
	expect_conf_error("max_use = 1\ninclude(\"peers.fifo\")\n", 2, want);
	free(want);
	free(fifo);
}
END_TEST

START_TEST(test_err_include_device)
{
	expect_conf_error("include(\"/dev/zero\")\n", 1,
	    "include \"/dev/zero\": /dev/zero: not a regular file "
	    "(a character device)");
}
END_TEST

/* The main file as a fifo: refused, not waited on. */
START_TEST(test_err_conf_fifo)
{
	struct config	*c;
	char		*want;

	ck_assert_int_eq(mkfifo(conf, 0600), 0);
	c = config_load(tdir, &errs);
	ck_assert_ptr_null(c);
	ck_assert_uint_eq(errs.n, 1);
	xasprintf(&want, "%s: not a regular file", conf);
	ck_assert_str_eq(errs.msg[0], want);
	free(want);
}
END_TEST

/* text of len bytes (NULs included) as linkmaster.conf, then load it. */
static void
expect_nul_error(const char *text, size_t len, int line)
{
	struct config	*c;
	char		*want;
	FILE		*fp;

	fp = fopen(conf, "w");
	ck_assert_ptr_nonnull(fp);
	ck_assert_uint_eq(fwrite(text, 1, len, fp), len);
	ck_assert_int_eq(fclose(fp), 0);
	c = config_load(tdir, &errs);
	ck_assert_ptr_null(c);
	ck_assert_uint_eq(errs.n, 1);
	xasprintf(&want, "%s:%d: NUL byte: a value cannot hold one", conf,
	    line);
	ck_assert_str_eq(errs.msg[0], want);
	free(want);
	errlist_free(&errs);
	errlist_init(&errs);
}

/*
 * libconfuse values are C strings: "ab<NUL>cd" was silently "ab".  A raw
 * NUL, or one written as an escape in a double-quoted string, is an error
 * that names the line.
 */
START_TEST(test_err_nul)
{
	static const char raw[] = "max_use = 3\nsyslog_name = \"ab\0cd\"\n";
	static const char bare[] = "max_use = 3\n\nsyslog_name = ab\0cd\n";
	static const char *esc[] = {
		"\\0", "\\00", "\\000", "\\x0", "\\x00"
	};
	char	*text;
	size_t	 i;

	expect_nul_error(raw, sizeof(raw) - 1, 2);
	expect_nul_error(bare, sizeof(bare) - 1, 3);
	for (i = 0; i < sizeof(esc) / sizeof(esc[0]); i++) {
		xasprintf(&text, "max_use = 3\nsocket_dir = \"/tmp/a%sz\"\n",
		    esc[i]);
		expect_nul_error(text, strlen(text), 2);
		free(text);
	}
}
END_TEST

/* What only looks like a NUL escape is a value like any other. */
START_TEST(test_nul_lookalikes)
{
	struct config	*c;

	c = load_text("socket_dir = \"/tmp/a\\\\0b\"\n"
	    "state_dir = '/tmp/c\\0d'\n"
	    "pid_file = \"/tmp/\\101\\x42\" # \\0 in a comment\n");
	ck_assert_msg(c != NULL, "%s", errs.n > 0 ? errs.msg[0] : "");
	ck_assert_str_eq(c->socket_dir, "/tmp/a\\0b");
	ck_assert_str_eq(c->state_dir, "/tmp/c\\0d");
	ck_assert_str_eq(c->pid_file, "/tmp/AB");
	config_free(c);
}
END_TEST

START_TEST(test_err_in_included_file)
{
	char	*want;

	write_file("peers.conf", "peer beta {\n  address = h\n}\n");
	xasprintf(&want, "%s/peers.conf:3: peer \"beta\": missing \"port\"",
	    tdir);
	expect_error("max_use = 1\ninclude(\"peers.conf\")\n", want);
	free(want);
}
END_TEST

START_TEST(test_err_include_unclosed)
{
	char	*want;

	write_file("peers.conf", "peer beta {\n  address = h\n  port = 1\n");
	xasprintf(&want, "%s/peers.conf: peer \"beta\": missing \"}\" at end "
	    "of file", tdir);
	expect_error("include(\"peers.conf\")\nmax_use = 3\n", want);
	free(want);
}
END_TEST

START_TEST(test_err_include_loop)
{
	char	*want;

	write_file("a.conf", "include(\"b.conf\")\n");
	write_file("b.conf", "include(\"a.conf\")\n");
	xasprintf(&want, "%s/b.conf:1: include \"a.conf\": nested too deeply "
	    "(loop?)", tdir);
	expect_error("include(\"a.conf\")\n", want);
	free(want);
}
END_TEST

START_TEST(test_err_after_include_line)
{
	/* The including file's name and line come back after the include. */
	write_file("x.conf", "max_use = 1\n\n\n\n");
	expect_conf_error("include(\"x.conf\")\nmax_use = 2\nbogus = 1\n", 3,
	    "no such option \"bogus\"");
}
END_TEST

static int
count_fds(void)
{
	int	 fd, n = 0;

	for (fd = 0; fd < 1024; fd++)
		if (fcntl(fd, F_GETFD) != -1)
			n++;
	return n;
}

START_TEST(test_include_errors_do_not_leak)
{
	struct config	*c;
	int		 i, before;

	/* libconfuse's own include() leaks an fd and an include-stack slot
	 * per error inside an included file; after ten, includes fail. */
	write_file("bad.conf", "max_use = x\n");
	write_file("good.conf", "max_use = 9\n");
	before = count_fds();
	for (i = 0; i < 12; i++) {
		c = load_text("include(\"bad.conf\")\n");
		ck_assert_ptr_null(c);
	}
	ck_assert_int_eq(count_fds(), before);
	errlist_free(&errs);
	c = load_text("include(\"good.conf\")\n");
	ck_assert_msg(c != NULL, "%s", errs.n ? errs.msg[0] : "?");
	ck_assert_int_eq(c->max_use, 9);
	config_free(c);
}
END_TEST

START_TEST(test_err_after_comments)
{
	/* Comments are blanked before libconfuse sees them (it would count
	 * two lines for each), so the line is exact. */
	expect_conf_error(
	    "# a comment\n"
	    "max_use = 1 # trailing\n"
	    "// another\n"
	    "/* a block\n"
	    "   comment */ max_idle = 5\n"
	    "chroot_dir = \"/a#b\" # a '#' inside quotes stays\n"
	    "max_use = many\n",
	    7, "option \"max_use\": bad number: \"many\"");
}
END_TEST

START_TEST(test_quoted_hash_kept)
{
	struct config	*c;

	c = load_text("chroot_dir = \"/x/a#b//c\" # comment\n");
	ck_assert_msg(c != NULL, "%s", errs.n ? errs.msg[0] : "?");
	ck_assert_str_eq(c->chroot_dir, "/x/a#b//c");
	config_free(c);
}
END_TEST

START_TEST(test_comment_in_list)
{
	struct config	*c;

	/* libconfuse 3.3 alone rejects this; our comment blanking fixes it. */
	c = load_text(
	    "import_environment = {\n"
	    "  \"TZ\",  # time zone\n"
	    "  \"LANG\"\n"
	    "}\n");
	ck_assert_msg(c != NULL, "%s", errs.n ? errs.msg[0] : "?");
	ck_assert_int_eq(c->nimport, 2);
	ck_assert_str_eq(c->import_environment[1], "LANG");
	config_free(c);
}
END_TEST

/*
 * Every bad value is reported with its own line, not only the first:
 * libconfuse goes on after a value error, the load still fails as a whole.
 * The cross-option check is reported too, except where an operand was
 * itself bad (its stand-in value would make the message a lie).
 */
START_TEST(test_err_every_value)
{
	struct config	*c;
	char		*want[4];
	size_t		 i;

	c = load_text("max_use = abc\n"
	    "syslog_facility = nosuch\n"
	    "peer \"beta\" {\n"
	    "\taddress = \"127.0.0.1\"\n"
	    "\tport = 70000\n"
	    "}\n"
	    "throttle_min = 2s\n"
	    "throttle_max = 1s\n");
	ck_assert_ptr_null(c);
	xasprintf(&want[0], "%s:1: option \"max_use\": bad number: \"abc\"",
	    conf);
	xasprintf(&want[1], "%s:2: option \"syslog_facility\": unknown "
	    "facility: \"nosuch\"", conf);
	xasprintf(&want[2], "%s:5: peer \"beta\": option \"port\": bad port: "
	    "\"70000\" (want 1..65535)", conf);
	xasprintf(&want[3], "%s: throttle_max (1s) is less than throttle_min "
	    "(2s)", conf);
	ck_assert_msg(errs.n == 4, "%zu errors, want 4; first \"%s\"", errs.n,
	    errs.n > 0 ? errs.msg[0] : "");
	for (i = 0; i < 4; i++) {
		ck_assert_str_eq(errs.msg[i], want[i]);
		free(want[i]);
	}

	/* A bad operand: no cross-option error built on its stand-in. */
	errlist_free(&errs);
	errlist_init(&errs);
	c = load_text("throttle_min = 5m\nthrottle_max = 1x\n");
	ck_assert_ptr_null(c);
	ck_assert_uint_eq(errs.n, 1);

	/*
	 * Stand-ins are filled in and checked without a crash or a made-up
	 * error: a peer without address and port and with a bad "tls", a
	 * service with a bad title and a bad value.
	 */
	errlist_free(&errs);
	errlist_init(&errs);
	c = load_text("peer \"p\" { tls = maybe }\n"
	    "service \"notitle\" { stop_signal = NOPE }\n");
	ck_assert_ptr_null(c);
	ck_assert_msg(errs.n == 5, "%zu errors, want 5", errs.n);
	for (i = 0; i < errs.n; i++)
		ck_assert_msg(strstr(errs.msg[i], "authenticate") == NULL,
		    "%s", errs.msg[i]);
}
END_TEST

START_TEST(test_errs_accumulate)
{
	struct config	*c;

	/* config_load appends; earlier entries are left alone. */
	errlist_add(&errs, "earlier");
	c = load_text("max_use = x\n");
	ck_assert_ptr_null(c);
	ck_assert_uint_eq(errs.n, 2);
	ck_assert_str_eq(errs.msg[0], "earlier");
	/* And NULL is accepted for errs. */
	ck_assert_ptr_null(config_load(tdir, NULL));
}
END_TEST

/*
 * config_load_peer: a link helper's load keeps the global settings and
 * its own peer's section (with its TLS settings), none of the others
 * and no service section, wherever its section is in the file or an
 * included one.
 */
START_TEST(test_load_peer)
{
	static const char fp[] = "sha256:"
	    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
	static const char *const names[] = { "a", "b", "c", "d" };
	struct config	*c;
	char		*text;
	int		 i;

	write_file("more.conf", "peer \"d\" { address = \"127.0.0.4\" "
	    "port = 4 tls = no }\n");
	xasprintf(&text, "tls_key = \"k.pem\"\ntls_cert = \"c.pem\"\n"
	    "host_name = \"me\"\n"
	    "peer \"a\" { address = \"127.0.0.1\" port = 1 "
	    "fingerprint = \"%s\" }\n"
	    "service \"echo/unix\" { stop_signal = HUP }\n"
	    "peer \"b\" { address = \"127.0.0.2\" port = 2 "
	    "fingerprint = { \"%s\", \"%s\" } }\n"
	    "peer \"c\" { address = \"127.0.0.3\" port = 3 tls = no }\n"
	    "include(\"more.conf\")\n", fp, fp, fp);
	write_file("linkmaster.conf", text);
	free(text);

	for (i = 0; i < 4; i++) {
		c = config_load_peer(tdir, names[i], &errs);
		ck_assert_msg(c != NULL, "%s: %s", names[i],
		    errs.n > 0 ? errs.msg[0] : "");
		ck_assert_int_eq(c->npeers, 1);
		ck_assert_str_eq(c->peers[0].name, names[i]);
		ck_assert_int_eq(c->nservices, 0);
		ck_assert_str_eq(c->host_name, "me");
		ck_assert_ptr_nonnull(c->tls_key);
		ck_assert_ptr_nonnull(c->tls_cert);
		ck_assert_int_eq(c->peers[0].nfingerprints, i < 2 ? i + 1 : 0);
		ck_assert_int_eq(config_peer_tls(c, &c->peers[0]), i < 2);
		config_free(c);
	}
	c = config_load_peer(tdir, "b", &errs);
	ck_assert_str_eq(c->peers[0].address, "127.0.0.2");
	ck_assert_str_eq(c->peers[0].port, "2");
	ck_assert_str_eq(c->peers[0].fingerprints[1], fp);
	config_free(c);

	/* Not there: no peer, no error (the helper says what is wrong). */
	c = config_load_peer(tdir, "e", &errs);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(c->npeers, 0);
	config_free(c);

	/* The whole load still has them all. */
	c = config_load(tdir, &errs);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(c->npeers, 4);
	ck_assert_int_eq(c->nservices, 1);
	config_free(c);
	ck_assert_uint_eq(errs.n, 0);
}
END_TEST

/* Another peer's bad value still fails the helper's load, as it did. */
START_TEST(test_load_peer_errors)
{
	struct config	*c;

	write_file("linkmaster.conf",
	    "peer \"a\" { address = \"127.0.0.1\" port = 1 tls = no }\n"
	    "peer \"b\" { address = \"127.0.0.2\" port = 0 tls = no }\n");
	c = config_load_peer(tdir, "a", &errs);
	ck_assert_ptr_null(c);
	ck_assert_uint_eq(errs.n, 1);
	ck_assert_ptr_nonnull(strstr(errs.msg[0], ":2: "));
	ck_assert_ptr_nonnull(strstr(errs.msg[0], "port"));

	/* Its own section defined twice is refused too. */
	errlist_free(&errs);
	errlist_init(&errs);
	write_file("linkmaster.conf",
	    "peer \"a\" { address = \"127.0.0.1\" port = 1 tls = no }\n"
	    "peer \"a\" { address = \"127.0.0.2\" port = 2 tls = no }\n");
	ck_assert_ptr_null(config_load_peer(tdir, "a", &errs));
	ck_assert_uint_ge(errs.n, 1);
	ck_assert_ptr_nonnull(strstr(errs.msg[0], "defined twice"));
}
END_TEST

static Suite *
suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("config");

	tc = tcase_create("values");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_comments_only);
	tcase_add_test(tc, test_all_set);
	tcase_add_test(tc, test_env_empty_and_append);
	tcase_add_test(tc, test_service_sections);
	tcase_add_loop_test(tc, test_time_formats, 0,
	    sizeof(times) / sizeof(times[0]));
	tcase_add_test(tc, test_time_ranges_ok);
	tcase_add_test(tc, test_relative_paths);
	tcase_add_test(tc, test_root_confdir);
	tcase_add_test(tc, test_include);
	tcase_add_test(tc, test_sample_conf);
	tcase_add_test(tc, test_load_peer);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_err_unknown_option);
	tcase_add_test(tc, test_err_bad_int);
	tcase_add_test(tc, test_err_int_hex_refused);
	tcase_add_test(tc, test_err_int_range);
	tcase_add_test(tc, test_err_process_limit_zero);
	tcase_add_test(tc, test_err_bad_time);
	tcase_add_test(tc, test_err_bad_time_forms);
	tcase_add_test(tc, test_err_time_range);
	tcase_add_test(tc, test_err_time_range_zero);
	tcase_add_test(tc, test_err_max_idle_range);
	tcase_add_test(tc, test_err_facility);
	tcase_add_test(tc, test_err_env_name);
	tcase_add_test(tc, test_err_env_name_chars);
	tcase_add_test(tc, test_err_env_master);
	tcase_add_test(tc, test_err_env_listen_peer);
	tcase_add_test(tc, test_err_throttle_order);
	tcase_add_test(tc, test_err_missing_file);
	tcase_add_test(tc, test_err_conf_is_dir);
	tcase_add_test(tc, test_err_missing_dir);
	tcase_add_test(tc, test_err_dir_is_file);
	tcase_add_test(tc, test_err_duplicate_peer);
	tcase_add_test(tc, test_err_service_duplicate);
	tcase_add_test(tc, test_err_service_title);
	tcase_add_test(tc, test_err_service_values);
	tcase_add_test(tc, test_err_service_unclosed);
	tcase_add_test(tc, test_err_peer_no_address);
	tcase_add_test(tc, test_err_peer_no_port);
	tcase_add_test(tc, test_err_peer_bad_port);
	tcase_add_test(tc, test_err_peer_bad_name);
	tcase_add_test(tc, test_peer_name_rule);
	tcase_add_test(tc, test_err_peer_unknown_option);
	tcase_add_test(tc, test_err_peer_unclosed);
	tcase_add_test(tc, test_load_peer_errors);
	tcase_add_test(tc, test_err_premature_eof);
	tcase_add_test(tc, test_err_stray_brace);
	tcase_add_test(tc, test_err_include_missing);
	tcase_add_test(tc, test_err_include_dir);
	tcase_add_test(tc, test_err_include_fifo);
	tcase_add_test(tc, test_err_include_device);
	tcase_add_test(tc, test_err_conf_fifo);
	tcase_add_test(tc, test_err_nul);
	tcase_add_test(tc, test_nul_lookalikes);
	tcase_add_test(tc, test_err_in_included_file);
	tcase_add_test(tc, test_err_include_unclosed);
	tcase_add_test(tc, test_err_include_loop);
	tcase_add_test(tc, test_err_after_include_line);
	tcase_add_test(tc, test_include_errors_do_not_leak);
	tcase_add_test(tc, test_err_after_comments);
	tcase_add_test(tc, test_comment_in_list);
	tcase_add_test(tc, test_quoted_hash_kept);
	tcase_add_test(tc, test_errs_accumulate);
	tcase_add_test(tc, test_err_every_value);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	const char	*top;

	/* Resolved now: the tests change directory. */
	if ((top = getenv("top_srcdir")) == NULL)
		top = ".";
	if (realpath(top, srcdir) == NULL) {
		perror(top);
		return 99;
	}
	return unit_run(suite());
}
