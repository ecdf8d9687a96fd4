/*
 * outlog.c: log what children write on stdout (info) and stderr (warning).
 *
 * Each pipe is read at most 4 KiB per event, so a flooding child fills its
 * own pipe and blocks, while the master goes on serving everyone else.
 * Lines longer than OUTLOG_LINE are logged in pieces.  A pipe outlives its
 * child record: what a child wrote just before it died is still logged,
 * under its own ident and pid.  A child that writes more than OUTLOG_RATE
 * lines a second on one pipe has the rest of that second's lines read and
 * dropped, and the master logs one "N lines suppressed" for them: a
 * flooding child must not flood syslog, nor delay everyone else's lines
 * behind its own.
 */
#include <sys/types.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"
#include "master.h"

struct outlog {
	TAILQ_ENTRY(outlog) entry;
	int		 fd;
	int		 pri;
	pid_t		 pid;
	char		*ident;
	struct event	*ev;
	struct ratelimit rl;
	size_t		 len;
	char		*buf;		/* OUTLOG_LINE bytes while len > 0 */
};

static TAILQ_HEAD(, outlog) outlogs = TAILQ_HEAD_INITIALIZER(outlogs);

/* A child's last stderr line: the likely cause if it fails to start. */
static void
outlog_note(struct outlog *o, const char *p, size_t len)
{
	struct child	*c;

	if (o->pri != LOG_WARNING || (c = child_find(o->pid)) == NULL)
		return;
	free(c->last_err);
	c->last_err = xstrndup(p, len);
}

static void
outlog_report(unsigned long n, unsigned limit, void *arg)
{
	struct outlog	*o = arg;
	char		 msg[128];
	int		 len;

	/* Under the child's name, where its lines would have been. */
	len = snprintf(msg, sizeof(msg), "%lu lines suppressed (more than "
	    "%u lines a second)", n, limit);
	log_as(o->ident, o->pid, LOG_WARNING, msg, (size_t)len);
}

static void
outlog_line(struct outlog *o, const char *p, size_t len)
{
	if (ratelimit_pass(&o->rl))
		log_as(o->ident, o->pid, o->pri, p, len);
}

/*
 * Where the next bytes go.  The line buffer exists only while it holds
 * something: an idle child's two pipes then cost the master no 4 KiB of
 * memory (200 idle children: 0.8 MiB of the master's RSS).
 */
static char *
outlog_buf(struct outlog *o, size_t *want)
{
	if (o->buf == NULL)
		o->buf = xmalloc(OUTLOG_LINE);
	*want = OUTLOG_LINE - o->len;
	if (*want > 4096)
		*want = 4096;
	return o->buf + o->len;
}

static void
outlog_flush(struct outlog *o, int all)
{
	char	*nl, *p = o->buf;
	size_t	 left = o->len;

	if (p == NULL)
		return;

	while (left > 0 && (nl = memchr(p, '\n', left)) != NULL) {
		outlog_line(o, p, nl - p);
		outlog_note(o, p, nl - p);
		left -= nl - p + 1;
		p = nl + 1;
	}
	/* A full buffer without newline, or the end: log what is there. */
	if (left > 0 && (all || left == OUTLOG_LINE)) {
		outlog_line(o, p, left);
		outlog_note(o, p, left);
		left = 0;
	}
	if (left == 0) {
		free(o->buf);
		o->buf = NULL;
	} else
		memmove(o->buf, p, left);
	o->len = left;
}

static void
outlog_free(struct outlog *o)
{
	outlog_flush(o, 1);
	ratelimit_done(&o->rl);
	TAILQ_REMOVE(&outlogs, o, entry);
	event_free(o->ev);
	close(o->fd);
	free(o->ident);
	free(o->buf);
	free(o);
}

static void
outlog_read_cb(int fd, short ev, void *arg)
{
	struct outlog	*o = arg;
	char		*p;
	ssize_t		 n;
	size_t		 want;

	p = outlog_buf(o, &want);
	n = read(fd, p, want);
	if (n == -1 && (errno == EAGAIN || errno == EINTR)) {
		outlog_flush(o, 0);	/* lets go of the buffer if empty */
		return;
	}
	if (n <= 0) {
		outlog_free(o);
		return;
	}
	o->len += n;
	outlog_flush(o, 0);
}

/* fd: the read end of a child's pipe, already non-blocking. */
int
outlog_open(int fd, int pri, const char *ident, pid_t pid)
{
	struct outlog	*o;

	o = xcalloc(1, sizeof(*o));
	o->fd = fd;
	o->pri = pri;
	o->pid = pid;
	o->ident = xstrdup(ident);
	ratelimit_init(&o->rl, OUTLOG_RATE, outlog_report, o);
	o->ev = event_new(M->base, fd, EV_READ | EV_PERSIST, outlog_read_cb, o);
	event_add(o->ev, NULL);
	TAILQ_INSERT_TAIL(&outlogs, o, entry);
	return 0;
}

/*
 * A child was reaped: read what its pipes still hold (all it wrote is
 * there, unless a grandchild keeps a pipe open, which is only read as
 * far as it goes now), so that its last words come before its exit.
 */
void
outlog_drain(pid_t pid)
{
	struct outlog	*o, *next;
	char		*p;
	ssize_t		 n = -1;
	size_t		 want;
	int		 i;

	for (o = TAILQ_FIRST(&outlogs); o != NULL; o = next) {
		next = TAILQ_NEXT(o, entry);
		if (o->pid != pid)
			continue;
		/* A pipe holds 64 KiB: more is a grandchild's, read later. */
		for (i = 0; i < 16; i++) {
			p = outlog_buf(o, &want);
			n = read(o->fd, p, want);
			if (n == -1 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			o->len += n;
			outlog_flush(o, 0);
		}
		if (n == 0)
			outlog_free(o);
		else
			outlog_flush(o, 0);	/* an empty buffer goes */
	}
}

/* The master exits: log what is buffered and let go of every pipe. */
void
outlog_shutdown(void)
{
	struct outlog	*o;

	while ((o = TAILQ_FIRST(&outlogs)) != NULL)
		outlog_free(o);
}
