/*
 * table.c: master.cf, the service table: parse, compare, print.
 *
 * The parser reads Postfix's column syntax (see linkmaster.cf(5)) into plain
 * data and never touches the running system, so reload can parse a new
 * table, diff it against the old one with tentry_equal() and throw it away.
 * It never stops at the first problem: every bad entry adds one or more
 * "FILE:LINE: message" lines (LINE = first line of the entry) to the
 * caller's error list, and a table with any error is rejected as a whole
 * (NULL), so a broken file changes nothing.  Input bytes are data: a NUL or
 * a non-UTF-8 byte is never a terminator, just a character the field checks
 * reject where it does not belong; values quoted in messages are escaped.
 *
 * The printer writes "postconf -M" columns with the defaults filled in, in
 * a form that parses back into an equal table.
 */
#include <sys/types.h>

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "names.h"
#include "table.h"

#define TABLE_NAME_MAX		100	/* non-inet service name */
#define TABLE_QUOTE_MAX		200	/* bytes of a bad value in a message */
#define TABLE_DFLT_LIMIT	100	/* default_process_limit, no defaults */

static const char *const type_names[] = {
	[SVC_UNIX] = "unix",
	[SVC_INET] = "inet",
	[SVC_UNIX_DGRAM] = "unix-dgram",
	[SVC_FIFO] = "fifo",
	[SVC_DAEMON] = "daemon",
	[SVC_LINK] = "link",
	[SVC_PASS] = "pass",
};
#define NTYPES	(sizeof(type_names) / sizeof(type_names[0]))

enum col {
	COL_SERVICE = 0,
	COL_TYPE,
	COL_PRIVATE,
	COL_UNPRIV,
	COL_CHROOT,
	COL_WAKEUP,
	COL_MAXPROC,
	COL_COMMAND,
};

static const char *const col_names[] = {
	"service", "type", "private", "unpriv", "chroot", "wakeup",
	"maxproc", "command",
};

/* A piece of the entry text; may hold any byte, NUL included. */
struct span {
	const char	*p;
	size_t		 len;
};

/* Parse state shared by the functions below. */
struct pctx {
	const char	*file;
	struct errlist	*errs;
	int		 process_limit;
	int		 line;		/* first line of the current entry */
	size_t		 nerr;		/* errors added by this parse */
};

static int	 is_blank(int);
static char	*quote(const char *, size_t);
static void	 pctx_err(struct pctx *, const char *, ...) LM_PRINTF(2, 3);
static void	 pctx_field_err(struct pctx *, enum col, const char *,
		    const struct span *);
static int	 span_is(const struct span *, const char *);
static int	 span_word(const char *, size_t, size_t *, struct span *);
static int	 span_num(const struct span *, long long, long long,
		    long long *);
static int	 type_from_span(const struct span *, enum svc_type *);
static int	 name_plain_ok(const struct span *);
static void	 entry_name(struct pctx *, struct tentry *,
		    const struct span *);
static void	 entry_private(struct pctx *, struct tentry *,
		    const struct span *, const struct span *, int);
static void	 entry_yn(struct pctx *, enum col, const struct span *,
		    int, int, int *, int *);
static void	 entry_wakeup(struct pctx *, struct tentry *,
		    const struct span *, int);
static void	 entry_maxproc(struct pctx *, struct tentry *,
		    const struct span *, int);
static void	 entry_args(struct pctx *, struct tentry *, const char *,
		    size_t, size_t);
static void	 entry_argv_add(struct tentry *, const char *, size_t);
static struct tentry *entry_parse(struct pctx *, const char *, size_t);
static void	 table_add(struct pctx *, struct table *, struct tentry *);
static int	 arg_raw_ok(const char *);
static void	 arg_print(FILE *, const char *);

/*
 * White space as Postfix's master.cf reader sees it; fixed here rather than
 * taken from the locale so that a table means the same thing everywhere.
 */
static int
is_blank(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' ||
	    c == '\f' || c == '\r';
}

/*
 * Copy a value for a message: control and non-ASCII bytes become \xHH so
 * that a junk byte cannot garble the log, and a huge value is cut short.
 */
static char *
quote(const char *p, size_t len)
{
	static const char	 hex[] = "0123456789abcdef";
	unsigned char		 c;
	size_t			 i, o, n;
	char			*q;

	n = len > TABLE_QUOTE_MAX ? TABLE_QUOTE_MAX : len;
	q = xmalloc(n * 4 + 4);
	for (i = o = 0; i < n; i++) {
		c = (unsigned char)p[i];
		if (c < 0x20 || c >= 0x7f) {
			q[o++] = '\\';
			q[o++] = 'x';
			q[o++] = hex[c >> 4];
			q[o++] = hex[c & 0xf];
		} else
			q[o++] = (char)c;
	}
	if (n < len) {
		memcpy(q + o, "...", 3);
		o += 3;
	}
	q[o] = '\0';
	return q;
}

static void
pctx_err(struct pctx *pc, const char *fmt, ...)
{
	va_list	 ap;
	char	*msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		fatal("vasprintf");
	va_end(ap);
	errlist_add(pc->errs, "%s:%d: %s", pc->file, pc->line, msg);
	free(msg);
	pc->nerr++;
}

/* "field "private": bad value: "x"" */
static void
pctx_field_err(struct pctx *pc, enum col col, const char *what,
    const struct span *v)
{
	char	*q;

	q = quote(v->p, v->len);
	pctx_err(pc, "field \"%s\": %s: \"%s\"", col_names[col], what, q);
	free(q);
}

static int
span_is(const struct span *s, const char *str)
{
	size_t	 n;

	n = strlen(str);
	return s->len == n && memcmp(s->p, str, n) == 0;
}

/* The next blank-separated word of b[*pos..len); 0 at the end. */
static int
span_word(const char *b, size_t len, size_t *pos, struct span *w)
{
	size_t	 i;

	for (i = *pos; i < len && is_blank((unsigned char)b[i]); i++)
		;
	if (i == len) {
		*pos = i;
		return 0;
	}
	w->p = b + i;
	for (; i < len && !is_blank((unsigned char)b[i]); i++)
		;
	w->len = (size_t)(b + i - w->p);
	*pos = i;
	return 1;
}

/*
 * A whole decimal number in [min, max], digits only: no sign, no blanks,
 * no trailing junk (Postfix reads "1x" as 1; a typo should not run).
 */
static int
span_num(const struct span *s, long long min, long long max, long long *out)
{
	char	 buf[24];
	size_t	 i;

	if (s->len == 0 || s->len >= sizeof(buf))
		return -1;
	for (i = 0; i < s->len; i++)
		if (s->p[i] < '0' || s->p[i] > '9')
			return -1;
	memcpy(buf, s->p, s->len);
	buf[s->len] = '\0';
	return parse_num(buf, min, max, out);
}

static int
type_from_span(const struct span *s, enum svc_type *t)
{
	size_t	 i;

	for (i = 0; i < NTYPES; i++)
		if (span_is(s, type_names[i])) {
			*t = (enum svc_type)i;
			return 0;
		}
	return -1;
}

/*
 * A unix/fifo/daemon/link name becomes part of a socket path or a process
 * title: printable ASCII, no "/", not "." or "..", bounded length.
 */
static int
name_plain_ok(const struct span *s)
{
	size_t	 i;

	if (s->len == 0 || span_is(s, ".") || span_is(s, ".."))
		return 0;
	for (i = 0; i < s->len; i++)
		if (s->p[i] <= ' ' || s->p[i] >= 0x7f || s->p[i] == '/')
			return 0;
	return 1;
}

static void
entry_name(struct pctx *pc, struct tentry *te, const struct span *s)
{
	const char	*why;

	if (te->type == SVC_INET) {
		/* The one grammar (names.c), so that -o listen= agrees. */
		if ((why = inet_spec_check(s->p, s->len, NULL)) != NULL)
			pctx_field_err(pc, COL_SERVICE, why, s);
	} else if (!name_plain_ok(s))
		pctx_field_err(pc, COL_SERVICE, "bad name", s);
	else if (s->len > TABLE_NAME_MAX)
		pctx_field_err(pc, COL_SERVICE,
		    "name longer than 100 characters", s);
}

/*
 * private: an inet socket is public by nature and a daemon has no socket,
 * so for both "-" means n and an explicit y is an error, not a no-op.
 */
static void
entry_private(struct pctx *pc, struct tentry *te, const struct span *name,
    const struct span *v, int have_type)
{
	int	 nosock;
	char	*q;

	nosock = have_type && (te->type == SVC_INET || te->type == SVC_DAEMON);
	if (span_is(v, "-")) {
		te->dflt |= TE_DFLT_PRIVATE;
		te->private = !nosock;
	} else if (span_is(v, "n"))
		te->private = 0;
	else if (span_is(v, "y")) {
		te->private = 1;
		if (nosock) {
			q = quote(name->p, name->len);
			pctx_err(pc, "%s service \"%s\" cannot be private",
			    type_names[te->type], q);
			free(q);
		}
	} else
		pctx_field_err(pc, COL_PRIVATE, "bad value", v);
}

static void
entry_yn(struct pctx *pc, enum col col, const struct span *v, int dfltval,
    int dfltbit, int *val, int *dflt)
{
	if (span_is(v, "-")) {
		*dflt |= dfltbit;
		*val = dfltval;
	} else if (span_is(v, "y"))
		*val = 1;
	else if (span_is(v, "n"))
		*val = 0;
	else
		pctx_field_err(pc, col, "bad value", v);
}

/* wakeup: "-" or "0" never, else N or N? with N >= 1. */
static void
entry_wakeup(struct pctx *pc, struct tentry *te, const struct span *v,
    int have_type)
{
	struct span	 num = *v;
	long long	 n;

	if (span_is(v, "-") || span_is(v, "0")) {
		if (span_is(v, "-"))
			te->dflt |= TE_DFLT_WAKEUP;
		return;
	}
	if (num.len > 0 && num.p[num.len - 1] == '?') {
		num.len--;
		te->wakeup_cond = 1;
	}
	if (span_num(&num, 1, INT_MAX, &n) == -1) {
		pctx_field_err(pc, COL_WAKEUP, "bad value", v);
		return;
	}
	te->wakeup = (int)n;
	if (have_type && te->type == SVC_DAEMON)
		pctx_field_err(pc, COL_WAKEUP,
		    "daemon service has no socket to wake", v);
}

/*
 * maxproc: "-" is default_process_limit, except for a daemon and a link,
 * where one process is the only sane default; 0 (unlimited) cannot mean
 * anything for a daemon, which keeps exactly maxproc processes running,
 * and a link's one helper per peer is the only one its queue allows.
 */
static void
entry_maxproc(struct pctx *pc, struct tentry *te, const struct span *v,
    int have_type)
{
	long long	 n;

	if (span_is(v, "-")) {
		te->dflt |= TE_DFLT_MAXPROC;
		if (have_type &&
		    (te->type == SVC_DAEMON || te->type == SVC_LINK))
			te->maxproc = 1;
		else
			te->maxproc = pc->process_limit;
		return;
	}
	if (span_num(v, 0, INT_MAX, &n) == -1) {
		pctx_field_err(pc, COL_MAXPROC, "bad value", v);
		return;
	}
	te->maxproc = (int)n;
	if (have_type && te->type == SVC_DAEMON && n == 0)
		pctx_field_err(pc, COL_MAXPROC,
		    "daemon service needs a limit", v);
	/* A second helper of a peer would only fight for its queue. */
	if (have_type && te->type == SVC_LINK && n != 1)
		pctx_field_err(pc, COL_MAXPROC, "a link service runs one "
		    "helper per peer (use 1 or -)", v);
}

static void
entry_argv_add(struct tentry *te, const char *p, size_t len)
{
	te->argv = xreallocarray(te->argv, (size_t)te->argc + 2,
	    sizeof(*te->argv));
	te->argv[te->argc++] = xstrndup(p, len);
	te->argv[te->argc] = NULL;
}

/*
 * Command and arguments, split as Postfix does (mystrtokq + extpar): blanks
 * separate words except inside braces; a word that starts with "{" is a
 * group whose braces and outer blanks are removed, and it must end at its
 * closing brace.  Unlike Postfix, an unclosed "{" anywhere is an error.
 */
static void
entry_args(struct pctx *pc, struct tentry *te, const char *b, size_t len,
    size_t pos)
{
	struct span	 tok;
	size_t		 i, s, e;
	int		 level, bad = 0;

	for (;;) {
		while (pos < len && is_blank((unsigned char)b[pos]))
			pos++;
		if (pos == len)
			break;
		tok.p = b + pos;
		for (level = 0; pos < len; pos++) {
			if (b[pos] == '{')
				level++;
			else if (b[pos] == '}' && level > 0)
				level--;
			else if (level == 0 && is_blank((unsigned char)b[pos]))
				break;
		}
		tok.len = (size_t)(b + pos - tok.p);
		if (level > 0) {
			while (is_blank((unsigned char)tok.p[tok.len - 1]))
				tok.len--;
			pctx_field_err(pc, COL_COMMAND, "missing \"}\"", &tok);
			bad = 1;
			break;
		}
		s = 0;
		e = tok.len;
		if (tok.p[0] == '{') {
			for (i = 1, level = 1; level > 0; i++) {
				if (tok.p[i] == '{')
					level++;
				else if (tok.p[i] == '}')
					level--;
			}
			if (i != tok.len) {
				pctx_field_err(pc, COL_COMMAND,
				    "syntax error after \"}\"", &tok);
				bad = 1;
				continue;
			}
			for (s = 1; is_blank((unsigned char)tok.p[s]); s++)
				;
			for (e = tok.len - 1; e > s &&
			    is_blank((unsigned char)tok.p[e - 1]); e--)
				;
		}
		if (memchr(tok.p + s, '\0', e - s) != NULL) {
			pctx_field_err(pc, COL_COMMAND, "NUL byte in argument",
			    &tok);
			bad = 1;
			continue;
		}
		if (te->argc == 0 && e == s) {
			pctx_field_err(pc, COL_COMMAND, "bad value", &tok);
			bad = 1;
		}
		entry_argv_add(te, tok.p + s, e - s);
	}
	if (te->argc == 0 && !bad)
		pctx_err(pc, "missing \"%s\" field", col_names[COL_COMMAND]);
}

/*
 * One logical entry (continuation lines already joined).  Every column is
 * checked even after a bad one, so that one pass shows every mistake; the
 * checks that depend on the type are skipped when the type is bad.
 */
static struct tentry *
entry_parse(struct pctx *pc, const char *b, size_t len)
{
	struct span	 f[COL_COMMAND];
	struct tentry	*te;
	size_t		 pos = 0, before = pc->nerr;
	int		 nf, have_type = 0;

	for (nf = 0; nf < COL_COMMAND; nf++)
		if (!span_word(b, len, &pos, &f[nf]))
			break;
	te = xcalloc(1, sizeof(*te));
	te->line = pc->line;
	te->unpriv = 1;
	if (nf > COL_TYPE)
		have_type = type_from_span(&f[COL_TYPE], &te->type) == 0;
	if (have_type)
		entry_name(pc, te, &f[COL_SERVICE]);
	else if (nf > COL_TYPE) {
		char	*q = quote(f[COL_TYPE].p, f[COL_TYPE].len);

		pctx_err(pc, "bad transport type: \"%s\"", q);
		free(q);
	}
	if (nf > COL_PRIVATE)
		entry_private(pc, te, &f[COL_SERVICE], &f[COL_PRIVATE],
		    have_type);
	if (nf > COL_UNPRIV)
		entry_yn(pc, COL_UNPRIV, &f[COL_UNPRIV], 1, TE_DFLT_UNPRIV,
		    &te->unpriv, &te->dflt);
	if (nf > COL_CHROOT)
		entry_yn(pc, COL_CHROOT, &f[COL_CHROOT], 0, TE_DFLT_CHROOT,
		    &te->chroot, &te->dflt);
	if (nf > COL_WAKEUP)
		entry_wakeup(pc, te, &f[COL_WAKEUP], have_type);
	if (nf > COL_MAXPROC)
		entry_maxproc(pc, te, &f[COL_MAXPROC], have_type);
	if (nf < COL_COMMAND)
		pctx_err(pc, "missing \"%s\" field", col_names[nf]);
	else
		entry_args(pc, te, b, len, pos);
	if (pc->nerr != before) {
		tentry_free(te);
		return NULL;
	}
	te->name = xstrndup(f[COL_SERVICE].p, f[COL_SERVICE].len);
	return te;
}

/* Postfix lets a duplicate win with a warning; a typo'd copy is an error. */
static void
table_add(struct pctx *pc, struct table *t, struct tentry *te)
{
	struct tentry	*old;

	if ((old = table_find(t, te->name, te->type)) != NULL) {
		pctx_err(pc, "duplicate service \"%s\" type \"%s\" "
		    "(first at line %d)", te->name, type_names[te->type],
		    old->line);
		tentry_free(te);
		return;
	}
	/*
	 * Every link service has a helper for every peer, and a peer's
	 * queue (state_dir/link/PEER) holds one helper's lock: a second
	 * link service could only throttle on it for ever.
	 */
	if (te->type == SVC_LINK)
		TAILQ_FOREACH(old, &t->entries, entry)
			if (old->type == SVC_LINK) {
				pctx_err(pc, "second link service \"%s\" (the "
				    "first is \"%s\" at line %d): each peer "
				    "has one queue, for one helper",
				    te->name, old->name, old->line);
				tentry_free(te);
				return;
			}
	TAILQ_INSERT_TAIL(&t->entries, te, entry);
	t->n++;
}

void
tentry_free(struct tentry *te)
{
	int	 i;

	if (te == NULL)
		return;
	for (i = 0; i < te->argc; i++)
		free(te->argv[i]);
	free(te->argv);
	free(te->name);
	free(te);
}

/*
 * Lines are split on "\n" only and may be of any length.  A line whose
 * first byte is blank continues the current entry; blank lines and lines
 * whose first non-blank byte is "#" are skipped anywhere, also between an
 * entry and its continuation lines.  Continuation lines are joined without
 * the newline: they start with a blank, so no word can span two lines.
 */
struct table *
table_parse_buf(const char *file, const char *buf, size_t len,
    const struct table_defaults *defaults, struct errlist *errs)
{
	struct pctx	 pc;
	struct table	*t;
	struct tentry	*te;
	const char	*p, *nl;
	char		*eb = NULL;
	size_t		 pos, llen, i, eblen = 0, ebcap = 0;
	int		 lineno = 0, in_entry = 0, orphan = 0;

	pc.file = file;
	pc.errs = errs;
	pc.process_limit = defaults != NULL ? defaults->process_limit :
	    TABLE_DFLT_LIMIT;
	pc.line = 0;
	pc.nerr = 0;

	t = xcalloc(1, sizeof(*t));
	t->file = xstrdup(file);
	TAILQ_INIT(&t->entries);

	for (pos = 0;;) {
		if (pos >= len) {
			/* End of input: finish the entry in progress. */
			llen = 0;
			p = NULL;
		} else {
			p = buf + pos;
			nl = memchr(p, '\n', len - pos);
			llen = nl != NULL ? (size_t)(nl - p) : len - pos;
			lineno++;
			for (i = 0; i < llen && is_blank((unsigned char)p[i]);
			    i++)
				;
			if (i == llen || p[i] == '#') {
				pos += llen + 1;
				continue;
			}
			if (i > 0) {
				/* A continuation line. */
				pos += llen + 1;
				if (in_entry) {
					if (eblen + llen > ebcap) {
						ebcap = (eblen + llen) * 2;
						eb = xreallocarray(eb, ebcap,
						    1);
					}
					memcpy(eb + eblen, p, llen);
					eblen += llen;
				} else if (!orphan) {
					orphan = 1;
					pc.line = lineno;
					pctx_err(&pc, "continuation line "
					    "before any entry");
				}
				continue;
			}
		}
		if (in_entry) {
			if ((te = entry_parse(&pc, eb, eblen)) != NULL)
				table_add(&pc, t, te);
			in_entry = 0;
		}
		if (p == NULL)
			break;
		in_entry = 1;
		pc.line = lineno;
		eblen = 0;
		if (llen > ebcap) {
			ebcap = llen * 2;
			eb = xreallocarray(eb, ebcap, 1);
		}
		memcpy(eb, p, llen);
		eblen = llen;
		pos += llen + 1;
	}
	free(eb);
	/* show prints what is good even when some entries are not. */
	if (pc.nerr > 0 && !defaults->keep_valid) {
		table_free(t);
		return NULL;
	}
	return t;
}

struct table *
table_parse_file(const char *file, const struct table_defaults *defaults,
    struct errlist *errs)
{
	struct table	*t;
	FILE		*fp;
	char		*buf = NULL;
	size_t		 len = 0, cap = 0, n;
	int		 saved;

	if ((fp = fopen(file, "re")) == NULL) {
		errlist_add(errs, "%s: cannot open: %s", file,
		    strerror(errno));
		return NULL;
	}
	for (;;) {
		if (cap - len < 8192) {
			cap = cap ? cap * 2 : 16384;
			buf = xreallocarray(buf, cap, 1);
		}
		n = fread(buf + len, 1, cap - len, fp);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(fp)) {
		saved = errno;
		errlist_add(errs, "%s: cannot read: %s", file,
		    strerror(saved));
		fclose(fp);
		free(buf);
		return NULL;
	}
	fclose(fp);
	t = table_parse_buf(file, buf, len, defaults, errs);
	free(buf);
	return t;
}

void
table_free(struct table *t)
{
	struct tentry	*te;

	if (t == NULL)
		return;
	while ((te = TAILQ_FIRST(&t->entries)) != NULL) {
		TAILQ_REMOVE(&t->entries, te, entry);
		tentry_free(te);
	}
	free(t->file);
	free(t);
}

struct tentry *
table_find(const struct table *t, const char *name, enum svc_type type)
{
	struct tentry	*te;

	TAILQ_FOREACH(te, &t->entries, entry)
		if (te->type == type && strcmp(te->name, name) == 0)
			return te;
	return NULL;
}

/* Line and dflt are left out: moving or spelling out a default is no change. */
int
tentry_equal(const struct tentry *a, const struct tentry *b)
{
	int	 i;

	if (strcmp(a->name, b->name) != 0 || a->type != b->type ||
	    a->private != b->private || a->unpriv != b->unpriv ||
	    a->chroot != b->chroot || a->wakeup != b->wakeup ||
	    a->wakeup_cond != b->wakeup_cond || a->maxproc != b->maxproc ||
	    a->argc != b->argc)
		return 0;
	for (i = 0; i < a->argc; i++)
		if (strcmp(a->argv[i], b->argv[i]) != 0)
			return 0;
	return 1;
}

const char *
svc_type_name(enum svc_type t)
{
	if ((size_t)t >= NTYPES)
		return "unknown";
	return type_names[t];
}

int
svc_type_parse(const char *s, enum svc_type *t)
{
	struct span	 sp = { s, strlen(s) };

	return type_from_span(&sp, t);
}

/*
 * Whether a word reads back as itself without braces: the splitter of
 * entry_args() must see one word that is not a group and has no open brace.
 */
static int
arg_raw_ok(const char *s)
{
	int	 level = 0;

	if (*s == '\0' || *s == '{')
		return 0;
	for (; *s != '\0'; s++) {
		if (*s == '{')
			level++;
		else if (*s == '}' && level > 0)
			level--;
		else if (level == 0 && is_blank((unsigned char)*s))
			return 0;
	}
	return level == 0;
}

/*
 * A word prints as is when it can ("${recipient}" stays readable), else as
 * "{ word }"; every argument a parse produces fits one of the two.
 */
static void
arg_print(FILE *fp, const char *s)
{
	if (arg_raw_ok(s))
		fputs(s, fp);
	else if (*s == '\0')
		fputs("{ }", fp);
	else
		fprintf(fp, "{ %s }", s);
}

void
tentry_print(FILE *fp, const struct tentry *te)
{
	tentry_print_width(fp, te, 10);
}

/* namew: the name column's width, so that long inet names stay aligned. */
void
tentry_print_width(FILE *fp, const struct tentry *te, int namew)
{
	char	 wakeup[16], maxproc[16];
	int	 i;

	if (te->wakeup == 0)
		strlcpy(wakeup, "0", sizeof(wakeup));
	else
		snprintf(wakeup, sizeof(wakeup), "%d%s", te->wakeup,
		    te->wakeup_cond ? "?" : "");
	snprintf(maxproc, sizeof(maxproc), "%d", te->maxproc);
	fprintf(fp, "%-*s %-10s %-7s %-7s %-7s %-7s %-7s", namew, te->name,
	    svc_type_name(te->type), te->private ? "y" : "n",
	    te->unpriv ? "y" : "n", te->chroot ? "y" : "n", wakeup, maxproc);
	for (i = 0; i < te->argc; i++) {
		fputc(' ', fp);
		arg_print(fp, te->argv[i]);
	}
	fputc('\n', fp);
}

int
table_print(FILE *fp, const struct table *t, const char *service)
{
	struct tentry	*te;
	int		 n = 0;

	TAILQ_FOREACH(te, &t->entries, entry) {
		if (service != NULL && strcmp(te->name, service) != 0)
			continue;
		tentry_print(fp, te);
		n++;
	}
	return n;
}
