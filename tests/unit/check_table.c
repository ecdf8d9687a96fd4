/*
 * check_table.c: unit tests of the master.cf parser and printer.
 *
 * Every malformed case asserts the exact message with file and line; the
 * feature tests pin down what a good table parses to; the round-trip tests
 * print tables (hand-written, Postfix's stock Debian master.cf, and
 * generated ones) and require the printout to parse back equal.
 */
#include <sys/types.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "table.h"
#include "unit.h"

static Suite	*suite(void);

static const struct table_defaults dflt100 = { .process_limit = 100 };

/* Postfix 3.7's master.cf as shipped by Debian 12 (postfix 3.7.x). */
static const char stock_master_cf[] =
"#\n"
"# Postfix master process configuration file.  For details on the format\n"
"# of the file, see the master(5) manual page (command: \"man 5 master\" or\n"
"# on-line: http://www.postfix.org/master.5.html).\n"
"#\n"
"# Do not forget to execute \"postfix reload\" after editing this file.\n"
"#\n"
"# ==========================================================================\n"
"# service type  private unpriv  chroot  wakeup  maxproc command + args\n"
"#               (yes)   (yes)   (no)    (never) (100)\n"
"# ==========================================================================\n"
"smtp      inet  n       -       y       -       -       smtpd\n"
"#smtp      inet  n       -       y       -       1       postscreen\n"
"#smtpd     pass  -       -       y       -       -       smtpd\n"
"#dnsblog   unix  -       -       y       -       0       dnsblog\n"
"#tlsproxy  unix  -       -       y       -       0       tlsproxy\n"
"# Choose one: enable submission for loopback clients only, or for"
    " any client.\n"
"#127.0.0.1:submission inet n -   y       -       -       smtpd\n"
"#submission inet n       -       y       -       -       smtpd\n"
"#  -o syslog_name=postfix/submission\n"
"#  -o smtpd_tls_security_level=encrypt\n"
"#  -o smtpd_sasl_auth_enable=yes\n"
"#  -o smtpd_tls_auth_only=yes\n"
"#  -o smtpd_reject_unlisted_recipient=no\n"
"#     Instead of specifying complex smtpd_<xxx>_restrictions here,\n"
"#     specify \"smtpd_<xxx>_restrictions=$mua_<xxx>_restrictions\"\n"
"#     here, and specify mua_<xxx>_restrictions in main.cf (where\n"
"#     \"<xxx>\" is \"client\", \"helo\", \"sender\", \"relay\", or"
    " \"recipient\").\n"
"#  -o smtpd_client_restrictions=\n"
"#  -o smtpd_helo_restrictions=\n"
"#  -o smtpd_sender_restrictions=\n"
"#  -o smtpd_relay_restrictions=\n"
"#  -o smtpd_recipient_restrictions=permit_sasl_authenticated,reject\n"
"#  -o milter_macro_daemon_name=ORIGINATING\n"
"# Choose one: enable submissions for loopback clients only, or for"
    " any client.\n"
"#127.0.0.1:submissions inet n  -       y       -       -       smtpd\n"
"#submissions     inet  n       -       y       -       -       smtpd\n"
"#  -o syslog_name=postfix/submissions\n"
"#  -o smtpd_tls_wrappermode=yes\n"
"#  -o smtpd_sasl_auth_enable=yes\n"
"#  -o smtpd_reject_unlisted_recipient=no\n"
"#     Instead of specifying complex smtpd_<xxx>_restrictions here,\n"
"#     specify \"smtpd_<xxx>_restrictions=$mua_<xxx>_restrictions\"\n"
"#     here, and specify mua_<xxx>_restrictions in main.cf (where\n"
"#     \"<xxx>\" is \"client\", \"helo\", \"sender\", \"relay\", or"
    " \"recipient\").\n"
"#  -o smtpd_client_restrictions=\n"
"#  -o smtpd_helo_restrictions=\n"
"#  -o smtpd_sender_restrictions=\n"
"#  -o smtpd_relay_restrictions=\n"
"#  -o smtpd_recipient_restrictions=permit_sasl_authenticated,reject\n"
"#  -o milter_macro_daemon_name=ORIGINATING\n"
"#628       inet  n       -       y       -       -       qmqpd\n"
"pickup    unix  n       -       y       60      1       pickup\n"
"cleanup   unix  n       -       y       -       0       cleanup\n"
"qmgr      unix  n       -       n       300     1       qmgr\n"
"#qmgr     unix  n       -       n       300     1       oqmgr\n"
"tlsmgr    unix  -       -       y       1000?   1       tlsmgr\n"
"rewrite   unix  -       -       y       -       -       trivial-rewrite\n"
"bounce    unix  -       -       y       -       0       bounce\n"
"defer     unix  -       -       y       -       0       bounce\n"
"trace     unix  -       -       y       -       0       bounce\n"
"verify    unix  -       -       y       -       1       verify\n"
"flush     unix  n       -       y       1000?   0       flush\n"
"proxymap  unix  -       -       n       -       -       proxymap\n"
"proxywrite unix -       -       n       -       1       proxymap\n"
"smtp      unix  -       -       y       -       -       smtp\n"
"relay     unix  -       -       y       -       -       smtp\n"
"        -o syslog_name=postfix/$service_name\n"
"#       -o smtp_helo_timeout=5 -o smtp_connect_timeout=5\n"
"showq     unix  n       -       y       -       -       showq\n"
"error     unix  -       -       y       -       -       error\n"
"retry     unix  -       -       y       -       -       error\n"
"discard   unix  -       -       y       -       -       discard\n"
"local     unix  -       n       n       -       -       local\n"
"virtual   unix  -       n       n       -       -       virtual\n"
"lmtp      unix  -       -       y       -       -       lmtp\n"
"anvil     unix  -       -       y       -       1       anvil\n"
"scache    unix  -       -       y       -       1       scache\n"
"postlog   unix-dgram n  -       n       -       1       postlogd\n"
"#\n"
"# ====================================================================\n"
"# Interfaces to non-Postfix software. Be sure to examine the manual\n"
"# pages of the non-Postfix software to find out what options it wants.\n"
"#\n"
"# Many of the following services use the Postfix pipe(8) delivery\n"
"# agent.  See the pipe(8) man page for information about ${recipient}\n"
"# and other message envelope options.\n"
"# ====================================================================\n"
"#\n"
"# maildrop. See the Postfix MAILDROP_README file for details.\n"
"# Also specify in main.cf: maildrop_destination_recipient_limit=1\n"
"#\n"
"maildrop  unix  -       n       n       -       -       pipe\n"
"  flags=DRXhu user=vmail argv=/usr/bin/maildrop -d ${recipient}\n"
"#\n"
"# ====================================================================\n"
"#\n"
"# Recent Cyrus versions can use the existing \"lmtp\" master.cf entry.\n"
"#\n"
"# Specify in cyrus.conf:\n"
"#   lmtp    cmd=\"lmtpd -a\" listen=\"localhost:lmtp\" proto=tcp4\n"
"#\n"
"# Specify in main.cf one or more of the following:\n"
"#  mailbox_transport = lmtp:inet:localhost\n"
"#  virtual_transport = lmtp:inet:localhost\n"
"#\n"
"# ====================================================================\n"
"#\n"
"# Cyrus 2.1.5 (Amos Gouaux)\n"
"# Also specify in main.cf: cyrus_destination_recipient_limit=1\n"
"#\n"
"#cyrus     unix  -       n       n       -       -       pipe\n"
"#  flags=DRX user=cyrus argv=/cyrus/bin/deliver -e -r ${sender} -m"
    " ${extension} ${user}\n"
"#\n"
"# ====================================================================\n"
"# Old example of delivery via Cyrus.\n"
"#\n"
"#old-cyrus unix  -       n       n       -       -       pipe\n"
"#  flags=R user=cyrus argv=/cyrus/bin/deliver -e -m ${extension} ${user}\n"
"#\n"
"# ====================================================================\n"
"#\n"
"# See the Postfix UUCP_README file for configuration details.\n"
"#\n"
"uucp      unix  -       n       n       -       -       pipe\n"
"  flags=Fqhu user=uucp argv=uux -r -n -z -a$sender - $nexthop!rmail"
    " ($recipient)\n"
"#\n"
"# Other external delivery methods.\n"
"#\n"
"ifmail    unix  -       n       n       -       -       pipe\n"
"  flags=F user=ftn argv=/usr/lib/ifmail/ifmail -r $nexthop ($recipient)\n"
"bsmtp     unix  -       n       n       -       -       pipe\n"
"  flags=Fq. user=bsmtp argv=/usr/lib/bsmtp/bsmtp -t$nexthop"
    " -f$sender $recipient\n"
"scalemail-backend unix -       n       n       -       2       pipe\n"
"  flags=R user=scalemail"
    " argv=/usr/lib/scalemail/bin/scalemail-store"
    " ${nexthop} ${user} ${extension}\n"
"mailman   unix  -       n       n       -       -       pipe\n"
"  flags=FRX user=list argv=/usr/lib/mailman/bin/postfix-to-mailman.py"
    " ${nexthop} ${user}\n";

/* ---- helpers ---------------------------------------------------------- */

static struct table *
parse_len(const char *text, size_t len, struct errlist *e)
{
	return table_parse_buf("t.cf", text, len, &dflt100, e);
}

static struct table *
parse(const char *text, struct errlist *e)
{
	return parse_len(text, strlen(text), e);
}

/* All messages, one per line, for comparing against an expected string. */
static char *
errs_join(const struct errlist *e)
{
	char	*s = NULL;
	size_t	 len = 0, i;
	FILE	*fp;

	fp = open_memstream(&s, &len);
	ck_assert_ptr_nonnull(fp);
	for (i = 0; i < e->n; i++)
		fprintf(fp, "%s%s", i ? "\n" : "", e->msg[i]);
	fclose(fp);
	return s;
}

static char *
print_all(const struct table *t)
{
	char	*s = NULL;
	size_t	 len = 0;
	FILE	*fp;

	fp = open_memstream(&s, &len);
	ck_assert_ptr_nonnull(fp);
	table_print(fp, t, NULL);
	fclose(fp);
	return s;
}

static void
assert_tables_equal(const struct table *a, const struct table *b)
{
	struct tentry	*x, *y;

	ck_assert_int_eq(a->n, b->n);
	y = TAILQ_FIRST(&b->entries);
	TAILQ_FOREACH(x, &a->entries, entry) {
		ck_assert_ptr_nonnull(y);
		ck_assert_msg(tentry_equal(x, y), "entry %s/%s differs",
		    x->name, svc_type_name(x->type));
		y = TAILQ_NEXT(y, entry);
	}
	ck_assert_ptr_null(y);
}

/* Print, reparse, compare; and printing the reparsed table is stable. */
static void
assert_round_trip(const struct table *t)
{
	struct errlist	 e;
	struct table	*t2;
	char		*out, *out2, *msgs;

	errlist_init(&e);
	out = print_all(t);
	t2 = table_parse_buf("print.cf", out, strlen(out), &dflt100, &e);
	msgs = errs_join(&e);
	ck_assert_msg(t2 != NULL, "reparse failed: %s\n--- printed:\n%s",
	    msgs, out);
	assert_tables_equal(t, t2);
	out2 = print_all(t2);
	ck_assert_str_eq(out, out2);
	free(msgs);
	free(out);
	free(out2);
	table_free(t2);
	errlist_free(&e);
}

static struct table *
parse_ok(const char *text)
{
	struct errlist	 e;
	struct table	*t;
	char		*msgs;

	errlist_init(&e);
	t = parse(text, &e);
	msgs = errs_join(&e);
	ck_assert_msg(t != NULL, "parse failed: %s", msgs);
	ck_assert_int_eq((int)e.n, 0);
	free(msgs);
	errlist_free(&e);
	return t;
}

static void
assert_argv(const struct tentry *te, int argc, const char *const *argv)
{
	int	 i;

	ck_assert_int_eq(te->argc, argc);
	for (i = 0; i < argc; i++)
		ck_assert_str_eq(te->argv[i], argv[i]);
	ck_assert_ptr_null(te->argv[argc]);
}

/* ---- malformed tables ------------------------------------------------- */

struct bad_case {
	const char	*in;
	size_t		 len;		/* 0: strlen(in) */
	const char	*want;		/* messages joined by "\n" */
};

#define GOOD	"echo unix - - n - - echo\n"

static const struct bad_case bad_cases[] = {
	{ GOOD "x tcp - - - - - cmd\n", 0,
	    "t.cf:2: bad transport type: \"tcp\"" },
	{ "x passfd - - - - - cmd\n", 0,
	    "t.cf:1: bad transport type: \"passfd\"" },
	{ "x - - - - - - cmd\n", 0,
	    "t.cf:1: bad transport type: \"-\"" },
	{ "x UNIX - - - - - cmd\n", 0,
	    "t.cf:1: bad transport type: \"UNIX\"" },
	{ GOOD "\n\n# c\nx unix x - n - - cmd\n", 0,
	    "t.cf:5: field \"private\": bad value: \"x\"" },
	{ "x unix - yes n - - cmd\n", 0,
	    "t.cf:1: field \"unpriv\": bad value: \"yes\"" },
	{ "x unix - - Y - - cmd\n", 0,
	    "t.cf:1: field \"chroot\": bad value: \"Y\"" },
	{ "x unix - - n 5x - cmd\n", 0,
	    "t.cf:1: field \"wakeup\": bad value: \"5x\"" },
	{ "x unix - - n 1x - cmd\n", 0,
	    "t.cf:1: field \"wakeup\": bad value: \"1x\"" },
	{ "x unix - - n -1 - cmd\n", 0,
	    "t.cf:1: field \"wakeup\": bad value: \"-1\"" },
	{ "x unix - - n ? - cmd\n", 0,
	    "t.cf:1: field \"wakeup\": bad value: \"?\"" },
	{ "x unix - - n 1?? - cmd\n", 0,
	    "t.cf:1: field \"wakeup\": bad value: \"1??\"" },
	{ "x unix - - n 0? - cmd\n", 0,
	    "t.cf:1: field \"wakeup\": bad value: \"0?\"" },
	{ "x unix - - n 2147483648 - cmd\n", 0,
	    "t.cf:1: field \"wakeup\": bad value: \"2147483648\"" },
	{ "x unix - - n +5 - cmd\n", 0,
	    "t.cf:1: field \"wakeup\": bad value: \"+5\"" },
	{ "x unix - - n - 1x cmd\n", 0,
	    "t.cf:1: field \"maxproc\": bad value: \"1x\"" },
	{ "x unix - - n - -1 cmd\n", 0,
	    "t.cf:1: field \"maxproc\": bad value: \"-1\"" },
	{ "x unix - - n - 99999999999 cmd\n", 0,
	    "t.cf:1: field \"maxproc\": bad value: \"99999999999\"" },
	{ GOOD "x\n", 0, "t.cf:2: missing \"type\" field" },
	{ "x unix\n", 0, "t.cf:1: missing \"private\" field" },
	{ "x unix -\n", 0, "t.cf:1: missing \"unpriv\" field" },
	{ "x unix - -\n", 0, "t.cf:1: missing \"chroot\" field" },
	{ "x unix - - -\n", 0, "t.cf:1: missing \"wakeup\" field" },
	{ GOOD "other unix - - n - - x\n" "x unix - - - -\n  \n", 0,
	    "t.cf:3: missing \"maxproc\" field" },
	{ "x unix - - - - -\n# comment\n", 0,
	    "t.cf:1: missing \"command\" field" },
	{ "x unix - - - - 1x\n", 0,
	    "t.cf:1: field \"maxproc\": bad value: \"1x\"\n"
	    "t.cf:1: missing \"command\" field" },
	{ "x tcp\n", 0,
	    "t.cf:1: bad transport type: \"tcp\"\n"
	    "t.cf:1: missing \"private\" field" },
	{ "smtp inet y - n - - smtpd\n", 0,
	    "t.cf:1: inet service \"smtp\" cannot be private" },
	{ "d daemon y - n - - cmd\n", 0,
	    "t.cf:1: daemon service \"d\" cannot be private" },
	{ "d daemon - - n 60 - cmd\n", 0,
	    "t.cf:1: field \"wakeup\": daemon service has no socket to wake: "
	    "\"60\"" },
	{ "d daemon - - n - 0 cmd\n", 0,
	    "t.cf:1: field \"maxproc\": daemon service needs a limit: \"0\"" },
	{ GOOD "\n# comment\n"
	    "echo unix - - n - - other\n", 0,
	    "t.cf:4: duplicate service \"echo\" type \"unix\" "
	    "(first at line 1)" },
	{ "# comment\n  -o x=y\n  -o z=w\n" GOOD, 0,
	    "t.cf:2: continuation line before any entry" },
	{ "x unix - - n - - cmd { -o a\n", 0,
	    "t.cf:1: field \"command\": missing \"}\": \"{ -o a\"" },
	{ "x unix - - n - - cmd {\n  -o a\n\n", 0,
	    "t.cf:1: field \"command\": missing \"}\": \"{  -o a\"" },
	{ "x unix - - n - - cmd a${x b\n", 0,
	    "t.cf:1: field \"command\": missing \"}\": \"a${x b\"" },
	{ "x unix - - n - - cmd { {a} b\n", 0,
	    "t.cf:1: field \"command\": missing \"}\": \"{ {a} b\"" },
	{ "x unix - - n - - cmd {a}b c\n", 0,
	    "t.cf:1: field \"command\": syntax error after \"}\": \"{a}b\"" },
	{ "x unix - - n - - cmd {a}{b} c\n", 0,
	    "t.cf:1: field \"command\": syntax error after \"}\": "
	    "\"{a}{b}\"" },
	{ "x unix - - n - - { } a\n", 0,
	    "t.cf:1: field \"command\": bad value: \"{ }\"" },
	{ "host: inet n - n - - cmd\n", 0,
	    "t.cf:1: field \"service\": bad inet address: \"host:\"" },
	{ ":25 inet n - n - - cmd\n", 0,
	    "t.cf:1: field \"service\": bad inet address: \":25\"" },
	{ "a:b:25 inet n - n - - cmd\n", 0,
	    "t.cf:1: field \"service\": bad inet address: \"a:b:25\"" },
	{ "*:25 inet n - n - - cmd\n", 0,
	    "t.cf:1: field \"service\": bad inet address: \"*:25\"" },
	{ "[::1] inet n - n - - cmd\n", 0,
	    "t.cf:1: field \"service\": bad inet address: \"[::1]\"" },
	{ "[::1]25 inet n - n - - cmd\n", 0,
	    "t.cf:1: field \"service\": bad inet address: \"[::1]25\"" },
	{ "[1.2.3.4]:25 inet n - n - - cmd\n", 0,
	    "t.cf:1: field \"service\": bad inet address: \"[1.2.3.4]:25\"" },
	{ "h:0 inet n - n - - cmd\n", 0,
	    "t.cf:1: field \"service\": bad inet port: \"h:0\"" },
	{ "65536 inet n - n - - cmd\n", 0,
	    "t.cf:1: field \"service\": bad inet port: \"65536\"" },
	{ "SMTP inet n - n - - cmd\n", 0,
	    "t.cf:1: field \"service\": bad inet port: \"SMTP\"" },
	{ "h:9p inet n - n - - cmd\n", 0,
	    "t.cf:1: field \"service\": bad inet port: \"h:9p\"" },
	{ "h:00 inet n - n - - cmd\n", 0,
	    "t.cf:1: field \"service\": bad inet port: \"h:00\"" },
	{ "[fe80::1%]:25 inet n - n - - cmd\n", 0,
	    "t.cf:1: field \"service\": bad inet address: \"[fe80::1%]:25\"" },
	/* A link's peers each have one queue: one helper, one service. */
	{ "l link - - n - 3 link\n", 0,
	    "t.cf:1: field \"maxproc\": a link service runs one helper per "
	    "peer (use 1 or -): \"3\"" },
	{ "l link - - n - 0 link\n", 0,
	    "t.cf:1: field \"maxproc\": a link service runs one helper per "
	    "peer (use 1 or -): \"0\"" },
	{ "l link - - n - 1 link\n#\nm link - - n - - link\n", 0,
	    "t.cf:3: second link service \"m\" (the first is \"l\" at line "
	    "1): each peer has one queue, for one helper" },
	{ "a/b unix - - n - - cmd\n", 0,
	    "t.cf:1: field \"service\": bad name: \"a/b\"" },
	{ ".. fifo - - n - - cmd\n", 0,
	    "t.cf:1: field \"service\": bad name: \"..\"" },
	{ ". unix-dgram - - n - - cmd\n", 0,
	    "t.cf:1: field \"service\": bad name: \".\"" },
	{ "\xc3\xa9\x63ho unix - - n - - cmd\n", 0,
	    "t.cf:1: field \"service\": bad name: \"\\xc3\\xa9\x63ho\"" },
	{ "a\001b unix - - n - - cmd\n", 0,
	    "t.cf:1: field \"service\": bad name: \"a\\x01b\"" },
	{ "a\0b unix - - n - - cmd\n", 23,
	    "t.cf:1: field \"service\": bad name: \"a\\x00b\"" },
	{ "x unix - - n - - cmd a\0b c\n", 27,
	    "t.cf:1: field \"command\": NUL byte in argument: \"a\\x00b\"" },
	{ "x unix - - n\0 - - cmd\n", 22,
	    "t.cf:1: field \"chroot\": bad value: \"n\\x00\"" },
	{ "x unix x y z 1x 2x cmd\n", 0,
	    "t.cf:1: field \"private\": bad value: \"x\"\n"
	    "t.cf:1: field \"chroot\": bad value: \"z\"\n"
	    "t.cf:1: field \"wakeup\": bad value: \"1x\"\n"
	    "t.cf:1: field \"maxproc\": bad value: \"2x\"" },
};

START_TEST(test_bad)
{
	const struct bad_case	*c = &bad_cases[_i];
	struct errlist		 e;
	struct table		*t;
	char			*msgs;

	errlist_init(&e);
	t = parse_len(c->in, c->len ? c->len : strlen(c->in), &e);
	msgs = errs_join(&e);
	ck_assert_msg(t == NULL, "case %d parsed", _i);
	ck_assert_msg(strcmp(msgs, c->want) == 0,
	    "case %d:\n got: %s\nwant: %s", _i, msgs, c->want);
	free(msgs);
	errlist_free(&e);
}
END_TEST

START_TEST(test_name_length)
{
	struct errlist	 e;
	struct table	*t;
	char		 name[120], text[300], want[300];

	memset(name, 'a', 100);
	name[100] = '\0';
	snprintf(text, sizeof(text), "%s unix - - n - - cmd\n", name);
	t = parse_ok(text);
	table_free(t);

	name[100] = 'b';
	name[101] = '\0';
	snprintf(text, sizeof(text), "%s unix - - n - - cmd\n", name);
	snprintf(want, sizeof(want), "t.cf:1: field \"service\": "
	    "name longer than 100 characters: \"%s\"", name);
	errlist_init(&e);
	ck_assert_ptr_null(parse(text, &e));
	ck_assert_int_eq((int)e.n, 1);
	ck_assert_str_eq(e.msg[0], want);
	errlist_free(&e);
}
END_TEST

START_TEST(test_all_errors)
{
	struct errlist	 e;

	errlist_init(&e);
	errlist_add(&e, "earlier: kept");
	ck_assert_ptr_null(parse(
	    "a unix - - n - - cmd\n"
	    "b unix x - n - - cmd\n"
	    "c unix - - n - - cmd\n"
	    "  -o x=y\n"
	    "d tcp - - n - - cmd\n"
	    "# comment\n"
	    "e unix - - n - 1x cmd\n"
	    "f unix - - n - - cmd\n", &e));
	ck_assert_int_eq((int)e.n, 4);
	ck_assert_str_eq(e.msg[0], "earlier: kept");
	ck_assert_str_eq(e.msg[1],
	    "t.cf:2: field \"private\": bad value: \"x\"");
	ck_assert_str_eq(e.msg[2], "t.cf:5: bad transport type: \"tcp\"");
	ck_assert_str_eq(e.msg[3],
	    "t.cf:7: field \"maxproc\": bad value: \"1x\"");
	errlist_free(&e);
}
END_TEST

/* ---- features --------------------------------------------------------- */

START_TEST(test_continuation)
{
	static const char *const a1[] = { "pipe", "flags=R", "user=x",
	    "argv=/bin/x", "${user}", "-o", "a=b" };
	static const char *const a2[] = { "cmd", "#x", "y#" };
	struct table	*t;
	struct tentry	*te;

	t = parse_ok(
	    "\n"
	    "   \t\n"
	    "# top comment\n"
	    "one unix - n n - - pipe\n"
	    "  flags=R user=x\n"
	    "# a comment between continuation lines\n"
	    "\n"
	    "   # an indented comment\n"
	    "\t \n"
	    "\targv=/bin/x ${user}\n"
	    "    -o a=b\n"
	    "two unix - - n - - cmd #x y#\n"
	    "three unix - - n - - cmd");	/* no final newline */
	ck_assert_int_eq(t->n, 3);
	te = TAILQ_FIRST(&t->entries);
	ck_assert_str_eq(te->name, "one");
	ck_assert_int_eq(te->line, 4);
	assert_argv(te, 7, a1);
	te = TAILQ_NEXT(te, entry);
	ck_assert_str_eq(te->name, "two");
	ck_assert_int_eq(te->line, 12);
	assert_argv(te, 3, a2);
	te = TAILQ_NEXT(te, entry);
	ck_assert_str_eq(te->name, "three");
	ck_assert_int_eq(te->line, 13);
	ck_assert_int_eq(te->argc, 1);
	assert_round_trip(t);
	table_free(t);
}
END_TEST

START_TEST(test_crlf)
{
	struct table	*t;
	struct tentry	*te;

	t = parse_ok("a unix - - n 10? - cmd x\r\n  -o y=z\r\n\r\n"
	    "b unix - - n - - cmd\r\n");
	ck_assert_int_eq(t->n, 2);
	te = TAILQ_FIRST(&t->entries);
	ck_assert_int_eq(te->argc, 4);
	ck_assert_str_eq(te->argv[3], "y=z");
	ck_assert_int_eq(te->wakeup, 10);
	ck_assert_int_eq(te->wakeup_cond, 1);
	table_free(t);
}
END_TEST

START_TEST(test_braces)
{
	static const char *const a1[] = { "smtpd", "-o",
	    "smtpd_x = a, b", "-o smtpd_y = c, d", "x" };
	static const char *const a2[] = { "cmd", "a {b c} d", "{x}", "",
	    "${recipient}", "a{b c}d", "x}", "}", "-o", "n=v" };
	static const char *const a3[] = { "cmd", "multi   line  arg",
	    "last" };
	struct table	*t;
	struct tentry	*te;

	t = parse_ok(
	    "a unix - - n - - smtpd -o { smtpd_x = a, b }"
	    " {   -o smtpd_y = c, d\t} x\n"
	    "b unix - - n - - cmd { a {b c} d } {{x}} {} ${recipient}"
	    " a{b c}d x} } -o n=v\n"
	    "c unix - - n - - cmd { multi\n"
	    "   line  arg }\n"
	    "# c\n"
	    "  last\n");
	te = TAILQ_FIRST(&t->entries);
	assert_argv(te, 5, a1);
	te = TAILQ_NEXT(te, entry);
	assert_argv(te, 10, a2);
	te = TAILQ_NEXT(te, entry);
	assert_argv(te, 3, a3);
	assert_round_trip(t);
	table_free(t);
}
END_TEST

START_TEST(test_values)
{
	struct table		*t;
	struct tentry		*te;
	struct errlist		 e;
	struct table_defaults	 d = { .process_limit = 7 };

	errlist_init(&e);
	t = table_parse_buf("t.cf",
	    "u unix - - - - - cmd\n"
	    "i inet - - - - - cmd\n"
	    "d daemon - - - - - cmd\n"
	    "l link - - - - - cmd\n"
	    "g unix-dgram n n y 300 0 cmd\n"
	    "f fifo y y n 60? 5 cmd\n"
	    "w unix - - - 0 007 cmd\n"
	    "d2 daemon n - - 0 3 cmd\n"
	    "x inet n - - 2147483647? 2147483647 cmd\n",
	    strlen("u unix - - - - - cmd\n"
	    "i inet - - - - - cmd\n"
	    "d daemon - - - - - cmd\n"
	    "l link - - - - - cmd\n"
	    "g unix-dgram n n y 300 0 cmd\n"
	    "f fifo y y n 60? 5 cmd\n"
	    "w unix - - - 0 007 cmd\n"
	    "d2 daemon n - - 0 3 cmd\n"
	    "x inet n - - 2147483647? 2147483647 cmd\n"), &d, &e);
	ck_assert_ptr_nonnull(t);
	ck_assert_str_eq(t->file, "t.cf");
	ck_assert_int_eq(t->n, 9);

	te = table_find(t, "u", SVC_UNIX);
	ck_assert_int_eq(te->private, 1);
	ck_assert_int_eq(te->unpriv, 1);
	ck_assert_int_eq(te->chroot, 0);
	ck_assert_int_eq(te->wakeup, 0);
	ck_assert_int_eq(te->wakeup_cond, 0);
	ck_assert_int_eq(te->maxproc, 7);
	ck_assert_int_eq(te->dflt, TE_DFLT_PRIVATE | TE_DFLT_UNPRIV |
	    TE_DFLT_CHROOT | TE_DFLT_WAKEUP | TE_DFLT_MAXPROC);

	te = table_find(t, "i", SVC_INET);
	ck_assert_int_eq(te->private, 0);
	ck_assert_int_eq(te->maxproc, 7);
	ck_assert_int_eq(te->dflt & TE_DFLT_PRIVATE, TE_DFLT_PRIVATE);

	te = table_find(t, "d", SVC_DAEMON);
	ck_assert_int_eq(te->private, 0);
	ck_assert_int_eq(te->maxproc, 1);
	ck_assert_int_eq(te->wakeup, 0);

	te = table_find(t, "l", SVC_LINK);
	ck_assert_int_eq(te->private, 1);
	ck_assert_int_eq(te->maxproc, 1);

	te = table_find(t, "g", SVC_UNIX_DGRAM);
	ck_assert_int_eq(te->private, 0);
	ck_assert_int_eq(te->unpriv, 0);
	ck_assert_int_eq(te->chroot, 1);
	ck_assert_int_eq(te->wakeup, 300);
	ck_assert_int_eq(te->wakeup_cond, 0);
	ck_assert_int_eq(te->maxproc, 0);
	ck_assert_int_eq(te->dflt, 0);

	te = table_find(t, "f", SVC_FIFO);
	ck_assert_int_eq(te->private, 1);
	ck_assert_int_eq(te->wakeup, 60);
	ck_assert_int_eq(te->wakeup_cond, 1);
	ck_assert_int_eq(te->maxproc, 5);

	/* "0" is never, like "-", but is not recorded as a default. */
	te = table_find(t, "w", SVC_UNIX);
	ck_assert_int_eq(te->wakeup, 0);
	ck_assert_int_eq(te->maxproc, 7);
	ck_assert_int_eq(te->dflt & (TE_DFLT_WAKEUP | TE_DFLT_MAXPROC), 0);

	te = table_find(t, "d2", SVC_DAEMON);
	ck_assert_int_eq(te->private, 0);
	ck_assert_int_eq(te->maxproc, 3);

	te = table_find(t, "x", SVC_INET);
	ck_assert_int_eq(te->wakeup, 2147483647);
	ck_assert_int_eq(te->wakeup_cond, 1);
	ck_assert_int_eq(te->maxproc, 2147483647);

	assert_round_trip(t);
	table_free(t);
	errlist_free(&e);

	/* No defaults given: Postfix's default_process_limit. */
	errlist_init(&e);
	t = table_parse_buf("t.cf", "u unix - - - - - cmd\n", 21, NULL, &e);
	ck_assert_ptr_nonnull(t);
	ck_assert_int_eq(TAILQ_FIRST(&t->entries)->maxproc, 100);
	table_free(t);
	errlist_free(&e);
}
END_TEST

START_TEST(test_inet_names)
{
	static const char *const good[] = { "25", "smtp", "127.0.0.1:7000",
	    "localhost:submission", "[::1]:25", "[fe80::1%eth0]:7000",
	    "mail.example.org:x400-snd", "65535", "1",
	    "[::ffff:1.2.3.4]:25", "Host_1.example:25" };
	struct table	*t;
	char		 text[200];
	size_t		 i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(text, sizeof(text), "%s inet n - n - - cmd\n",
		    good[i]);
		t = parse_ok(text);
		ck_assert_str_eq(TAILQ_FIRST(&t->entries)->name, good[i]);
		table_free(t);
	}
}
END_TEST

START_TEST(test_empty)
{
	struct table	*t;

	t = parse_ok("");
	ck_assert_int_eq(t->n, 0);
	ck_assert(TAILQ_EMPTY(&t->entries));
	table_free(t);
	t = parse_ok("# only comments\n\n   \n#\n");
	ck_assert_int_eq(t->n, 0);
	table_free(t);
}
END_TEST

START_TEST(test_long_line)
{
	struct table	*t;
	char		*text;
	size_t		 n = 200000;

	text = malloc(n + 100);
	ck_assert_ptr_nonnull(text);
	strcpy(text, "big unix - - n - - cmd ");
	memset(text + strlen(text), 'x', n);
	strcpy(text + 23 + n, "\n  tail\n");
	t = parse_ok(text);
	ck_assert_int_eq(TAILQ_FIRST(&t->entries)->argc, 3);
	ck_assert_uint_eq(strlen(TAILQ_FIRST(&t->entries)->argv[1]), n);
	assert_round_trip(t);
	table_free(t);
	free(text);
}
END_TEST

/* ---- printing --------------------------------------------------------- */

START_TEST(test_print_format)
{
	struct table	*t;
	char		*out;

	t = parse_ok(
	    "smtp inet n - y - - smtpd -o { a = b } {} ${x}\n"
	    "pickup unix n - y 60 1 pickup\n"
	    "tlsmgr unix - - y 1000? 1 tlsmgr\n"
	    "scalemail-backend unix - n n - 0 pipe\n");
	out = print_all(t);
	ck_assert_str_eq(out,
	    "smtp       inet       n       y       y       0       100     "
	    "smtpd -o { a = b } { } ${x}\n"
	    "pickup     unix       n       y       y       60      1       "
	    "pickup\n"
	    "tlsmgr     unix       y       y       y       1000?   1       "
	    "tlsmgr\n"
	    "scalemail-backend unix       y       n       n       0       0"
	    "       pipe\n");
	free(out);
	table_free(t);
}
END_TEST

START_TEST(test_print_service)
{
	struct table	*t;
	char		*out = NULL;
	size_t		 len = 0;
	FILE		*fp;

	t = parse_ok(stock_master_cf);
	fp = open_memstream(&out, &len);
	ck_assert_int_eq(table_print(fp, t, "smtp"), 2);
	fclose(fp);
	ck_assert_str_eq(out,
	    "smtp       inet       n       y       y       0       100     "
	    "smtpd\n"
	    "smtp       unix       y       y       y       0       100     "
	    "smtp\n");
	free(out);
	out = NULL;
	fp = open_memstream(&out, &len);
	ck_assert_int_eq(table_print(fp, t, "nosuch"), 0);
	fclose(fp);
	ck_assert_str_eq(out, "");
	free(out);
	out = NULL;
	fp = open_memstream(&out, &len);
	ck_assert_int_eq(table_print(fp, t, NULL), t->n);
	fclose(fp);
	free(out);
	table_free(t);
}
END_TEST

START_TEST(test_stock)
{
	static const char *const maildrop[] = { "pipe", "flags=DRXhu",
	    "user=vmail", "argv=/usr/bin/maildrop", "-d", "${recipient}" };
	static const char *const uucp[] = { "pipe", "flags=Fqhu",
	    "user=uucp", "argv=uux", "-r", "-n", "-z", "-a$sender", "-",
	    "$nexthop!rmail", "($recipient)" };
	static const char *const relay[] = { "smtp", "-o",
	    "syslog_name=postfix/$service_name" };
	struct table	*t;
	struct tentry	*te;

	t = parse_ok(stock_master_cf);
	ck_assert_int_eq(t->n, 31);

	te = table_find(t, "smtp", SVC_INET);
	ck_assert_ptr_nonnull(te);
	ck_assert_int_eq(te->line, 12);
	ck_assert_int_eq(te->private, 0);
	ck_assert_int_eq(te->chroot, 1);
	ck_assert_int_eq(te->maxproc, 100);
	ck_assert_str_eq(te->argv[0], "smtpd");

	te = table_find(t, "pickup", SVC_UNIX);
	ck_assert_int_eq(te->wakeup, 60);
	ck_assert_int_eq(te->maxproc, 1);
	te = table_find(t, "qmgr", SVC_UNIX);
	ck_assert_int_eq(te->chroot, 0);
	ck_assert_int_eq(te->wakeup, 300);
	te = table_find(t, "tlsmgr", SVC_UNIX);
	ck_assert_int_eq(te->wakeup, 1000);
	ck_assert_int_eq(te->wakeup_cond, 1);
	te = table_find(t, "cleanup", SVC_UNIX);
	ck_assert_int_eq(te->maxproc, 0);
	te = table_find(t, "postlog", SVC_UNIX_DGRAM);
	ck_assert_ptr_nonnull(te);
	ck_assert_int_eq(te->private, 0);
	ck_assert_str_eq(te->argv[0], "postlogd");
	te = table_find(t, "relay", SVC_UNIX);
	assert_argv(te, 3, relay);
	te = table_find(t, "maildrop", SVC_UNIX);
	assert_argv(te, 6, maildrop);
	ck_assert_int_eq(te->unpriv, 0);
	te = table_find(t, "uucp", SVC_UNIX);
	assert_argv(te, 11, uucp);
	te = table_find(t, "scalemail-backend", SVC_UNIX);
	ck_assert_int_eq(te->maxproc, 2);
	ck_assert_int_eq(te->argc, 7);
	ck_assert_ptr_null(table_find(t, "smtpd", SVC_UNIX));
	ck_assert_ptr_null(table_find(t, "smtp", SVC_FIFO));

	assert_round_trip(t);
	table_free(t);
}
END_TEST

START_TEST(test_round_trip_fixed)
{
	static const char *const texts[] = {
		"a unix - - - - - cmd\n",
		"1.2.3.4:25 inet n y y 1? 0 cmd { } { { } } {{a} {b}}\n",
		"[::1]:smtp inet - - - 5 - /usr/bin/x -o {a=b c}\n"
		"25 inet - - - - - y\n",
		"e fifo n n y - 2 c a}b a}} x{}y {x{}} {\ta}\n",
		"e link - - - - 1 c \x01\x7f\xff \xc3\xa9 {\vx\fy\r}\n",
		"{a} unix - - - - - c\n#x unix - - - - - c\n",
		"d daemon - - - - - c\nd unix - - - - - c\n",
	};
	struct table	*t;
	size_t		 i;

	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		t = parse_ok(texts[i]);
		assert_round_trip(t);
		table_free(t);
	}
}
END_TEST

/*
 * Generated tables: random but valid entries from tricky pieces, printed
 * and reparsed.  A fixed seed keeps a failure reproducible.
 */
START_TEST(test_round_trip_random)
{
	static const char *const types[] = { "unix", "inet", "unix-dgram",
	    "fifo", "daemon", "link", "pass" };
	static const char *const yn[] = { "y", "n", "-" };
	static const char *const wakeups[] = { "-", "0", "1", "60?",
	    "2147483647", "300" };
	static const char *const maxprocs[] = { "-", "0", "1", "100",
	    "007" };
	static const char *const args[] = { "cmd", "-o", "a=b", "{ a b }",
	    "{}", "{ {x} }", "${recipient}", "a{b c}d", "x}", "}",
	    "{ \t multi   space\t}", "\xc3\xa9", "#", "-", "{ { } }",
	    "a{}b", "x}y" };
	struct table	*t;
	FILE		*fp;
	char		*text = NULL;
	size_t		 len = 0;
	unsigned int	 seed = 12345;
	int		 round, i, j, nargs, ty, links;
	const char	*p;

	for (round = 0; round < 200; round++) {
		fp = open_memstream(&text, &len);
		links = 0;
		for (i = 0; i < 1 + rand_r(&seed) % 8; i++) {
			ty = rand_r(&seed) % 7;
			/* One link service per table. */
			if (ty == 5 && links++ > 0)
				ty = 0;
			if (ty == 1)
				fprintf(fp, "%d", 1000 + i);
			else
				fprintf(fp, "svc%d", i);
			p = yn[rand_r(&seed) % 3];
			if ((ty == 1 || ty == 4) && strcmp(p, "y") == 0)
				p = "n";
			fprintf(fp, " %s %s", types[ty], p);
			fprintf(fp, " %s %s", yn[rand_r(&seed) % 3],
			    yn[rand_r(&seed) % 3]);
			p = wakeups[rand_r(&seed) % 6];
			fprintf(fp, " %s", ty == 4 ? "-" : p);
			p = maxprocs[rand_r(&seed) % 5];
			if (ty == 5 && strcmp(p, "-") != 0)
				p = "1";
			fprintf(fp, " %s", ty == 4 && strcmp(p, "0") == 0 ?
			    "1" : p);
			fprintf(fp, " cmd%d", i);
			nargs = rand_r(&seed) % 6;
			for (j = 0; j < nargs; j++) {
				if (rand_r(&seed) % 4 == 0)
					fprintf(fp, "\n%s", rand_r(&seed) % 2 ?
					    "# c\n\t" : "  ");
				fprintf(fp, " %s",
				    args[rand_r(&seed) % (sizeof(args) /
				    sizeof(args[0]))]);
			}
			fputc('\n', fp);
		}
		fclose(fp);
		t = parse_ok(text);
		assert_round_trip(t);
		table_free(t);
		free(text);
		text = NULL;
	}
}
END_TEST

/* ---- files, lookup, comparison ---------------------------------------- */

START_TEST(test_file)
{
	struct errlist	 e;
	struct table	*t, *t2;
	char		 path[] = "/tmp/check_table.XXXXXX";
	char		*out;
	int		 fd;

	errlist_init(&e);
	ck_assert_ptr_null(table_parse_file("/nonexistent/master.cf",
	    &dflt100, &e));
	ck_assert_int_eq((int)e.n, 1);
	ck_assert_str_eq(e.msg[0], "/nonexistent/master.cf: cannot open: "
	    "No such file or directory");
	errlist_free(&e);

	t = parse_ok(stock_master_cf);
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq((int)write(fd, stock_master_cf,
	    strlen(stock_master_cf)), (int)strlen(stock_master_cf));
	close(fd);
	errlist_init(&e);
	t2 = table_parse_file(path, &dflt100, &e);
	ck_assert_ptr_nonnull(t2);
	ck_assert_str_eq(t2->file, path);
	assert_tables_equal(t, t2);
	table_free(t2);

	/* Errors name the file as given. */
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	out = "a unix - - n - - x\nb unix - - q - - x\n";
	ck_assert_int_eq((int)write(fd, out, strlen(out)), (int)strlen(out));
	close(fd);
	ck_assert_ptr_null(table_parse_file(path, &dflt100, &e));
	ck_assert_int_eq((int)e.n, 1);
	out = NULL;
	ck_assert_int_ge(asprintf(&out, "%s:2: field \"chroot\": bad value: "
	    "\"q\"", path), 0);
	ck_assert_str_eq(e.msg[0], out);
	free(out);
	errlist_free(&e);
	unlink(path);
	table_free(t);
}
END_TEST

START_TEST(test_types)
{
	static const struct {
		const char	*name;
		enum svc_type	 type;
	} types[] = {
		{ "unix", SVC_UNIX }, { "inet", SVC_INET },
		{ "unix-dgram", SVC_UNIX_DGRAM }, { "fifo", SVC_FIFO },
		{ "daemon", SVC_DAEMON }, { "link", SVC_LINK },
		{ "pass", SVC_PASS },
	};
	enum svc_type	 t;
	size_t		 i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		ck_assert_str_eq(svc_type_name(types[i].type), types[i].name);
		t = SVC_UNIX;
		ck_assert_int_eq(svc_type_parse(types[i].name, &t), 0);
		ck_assert_int_eq(t, types[i].type);
	}
	ck_assert_int_eq(svc_type_parse("tcp", &t), -1);
	ck_assert_int_eq(svc_type_parse("", &t), -1);
	ck_assert_int_eq(svc_type_parse("unix ", &t), -1);
	ck_assert_int_eq(svc_type_parse("Unix", &t), -1);
	ck_assert_int_eq(svc_type_parse("Pass", &t), -1);
	ck_assert_str_eq(svc_type_name((enum svc_type)42), "unknown");
}
END_TEST

START_TEST(test_equal)
{
	static const char *const variants[] = {
		"a unix - - n - - cmd x\n",	/* same as base */
		"b unix - - n - - cmd x\n",
		"a fifo - - n - - cmd x\n",
		"a unix n - n - - cmd x\n",
		"a unix - n n - - cmd x\n",
		"a unix - - y - - cmd x\n",
		"a unix - - n 5 - cmd x\n",
		"a unix - - n - 5 cmd x\n",
		"a unix - - n - - cmd\n",
		"a unix - - n - - cmd y\n",
		"a unix - - n - - cm x\n",
		"a unix - - n - - cmd x y\n",
	};
	struct table	*base, *t, *t2;
	size_t		 i;

	base = parse_ok("a unix - - n - - cmd x\n");
	for (i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
		t = parse_ok(variants[i]);
		ck_assert_int_eq(tentry_equal(TAILQ_FIRST(&base->entries),
		    TAILQ_FIRST(&t->entries)), i == 0);
		table_free(t);
	}
	/* Wakeup N vs N? */
	t = parse_ok("a unix - - n 5 - cmd x\n");
	t2 = parse_ok("a unix - - n 5? - cmd x\n");
	ck_assert(!tentry_equal(TAILQ_FIRST(&t->entries),
	    TAILQ_FIRST(&t2->entries)));
	table_free(t);
	table_free(t2);
	/* Line and spelled-out defaults do not matter. */
	t = parse_ok("\n\na unix y y n 0 100 cmd { x }\n");
	ck_assert(tentry_equal(TAILQ_FIRST(&base->entries),
	    TAILQ_FIRST(&t->entries)));
	table_free(t);
	table_free(base);
}
END_TEST

static Suite *
suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("table");
	tc = tcase_create("errors");
	tcase_add_loop_test(tc, test_bad, 0,
	    (int)(sizeof(bad_cases) / sizeof(bad_cases[0])));
	tcase_add_test(tc, test_name_length);
	tcase_add_test(tc, test_all_errors);
	suite_add_tcase(s, tc);

	tc = tcase_create("syntax");
	tcase_add_test(tc, test_continuation);
	tcase_add_test(tc, test_crlf);
	tcase_add_test(tc, test_braces);
	tcase_add_test(tc, test_values);
	tcase_add_test(tc, test_inet_names);
	tcase_add_test(tc, test_empty);
	tcase_add_test(tc, test_long_line);
	suite_add_tcase(s, tc);

	tc = tcase_create("print");
	tcase_add_test(tc, test_print_format);
	tcase_add_test(tc, test_print_service);
	tcase_add_test(tc, test_stock);
	tcase_add_test(tc, test_round_trip_fixed);
	tcase_add_test(tc, test_round_trip_random);
	suite_add_tcase(s, tc);

	tc = tcase_create("api");
	tcase_add_test(tc, test_file);
	tcase_add_test(tc, test_types);
	tcase_add_test(tc, test_equal);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(suite());
}
