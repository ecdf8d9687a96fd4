/*
 * linkd_limit.c: what connections may cost before they are authenticated.
 *
 * A connection is authenticated by its hello (with TLS, by the handshake
 * before it too); until then it must not take what the peer's real link
 * needs.  linkd serves every connection in one event loop, so one that
 * says nothing holds no process (when each held one of maxproc until
 * hello_timeout, eight of them kept the real link out).  Still they are
 * bounded, by number: at most hello_per_address from one source address
 * (a new one beyond is closed at once), and hello_limit in all, where a
 * new one closes the oldest instead: the oldest is the nearest to its
 * hello_timeout, and the real peer, which says its hello as soon as it
 * is connected, always gets in.  Running out of file descriptors closes
 * the oldest too.  An authenticated link is not counted: there is one
 * per peer (a new one replaces the old, linkd_sess.c).  A connection
 * refused or closed with its hello still due counts until it is freed,
 * as its last words (an ERR) may still be going out.
 *
 * Such closings come in floods, so they are logged here at most
 * LIMIT_BURST a second; what is held back is counted and reported in one
 * line when the second is over.  Nothing here fails.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/time.h>

#include <event2/event.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "linkd.h"
#include "log.h"
#include "util.h"

#define LIMIT_BURST	5	/* lines a second */

static struct {
	struct event	*ev;		/* end of the second */
	long long	 start;		/* ms */
	int		 n;		/* logged this second */
	unsigned long	 held;		/* not logged */
} lg;

static void
limit_report(void)
{
	if (lg.held > 0)
		log_warnx("%lu more connection%s closed before their hello "
		    "(not logged: at most %d lines a second)", lg.held,
		    lg.held == 1 ? "" : "s", LIMIT_BURST);
	lg.held = 0;
}

static void
limit_timer_cb(int fd, short what, void *arg)
{
	limit_report();
	lg.n = 0;
	lg.start = now_ms();
}

/* base: for the summary at the end of a second (NULL: at the next line). */
void
limit_init(struct event_base *base)
{
	memset(&lg, 0, sizeof(lg));
	if (base != NULL &&
	    (lg.ev = evtimer_new(base, limit_timer_cb, NULL)) == NULL)
		fatalx("evtimer_new failed");
}

void
limit_done(void)
{
	limit_report();
	if (lg.ev != NULL)
		event_free(lg.ev);
	lg.ev = NULL;
}

/* A warning about a connection closed before its hello, rate-limited. */
void
limit_log(const char *fmt, ...)
{
	struct timeval	 tv;
	va_list		 ap;
	char		 msg[512];
	long long	 now = now_ms();

	if (now - lg.start >= 1000) {
		if (lg.ev != NULL)
			evtimer_del(lg.ev);
		limit_report();
		lg.start = now;
		lg.n = 0;
	}
	if (lg.n >= LIMIT_BURST) {
		if (lg.held++ == 0 && lg.ev != NULL)
			evtimer_add(lg.ev, ms_timeval(lg.start + 1000 - now,
			    &tv));
		return;
	}
	lg.n++;
	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_warnx("%s", msg);
}

/* Not authenticated and not over: what the caps count. */
static int
limit_counts(const struct sess *s)
{
	return s->name[0] == '\0' && s->state != SESS_ENDED;
}

/*
 * Close the oldest connection still before its hello (why: logged).  1
 * one was closed, 0 there is none.
 */
int
limit_evict(const char *why)
{
	struct sess	*s;

	TAILQ_FOREACH(s, &sessions, entry)
		if (limit_counts(s)) {
			limit_log("closing the connection from %s before its "
			    "hello: %s", s->ip, why);
			sess_end(s, why);
			return 1;
		}
	return 0;
}

/*
 * May a new connection from ip be served?  1 yes; 2 yes, and the oldest
 * one before its hello was closed for it (over hello_limit); 0 no, over
 * hello_per_address (logged; the caller closes it).
 */
int
limit_admit(const char *ip)
{
	struct sess	*s;
	int		 all = 0, same = 0;

	TAILQ_FOREACH(s, &sessions, entry)
		if (limit_counts(s)) {
			all++;
			if (strcmp(s->ip, ip) == 0)
				same++;
		}
	if (same >= D.hello_per_address) {
		limit_log("refusing a connection from %s: %d from that address "
		    "are before their hello already (hello_per_address)", ip,
		    same);
		return 0;
	}
	if (all >= D.hello_limit && limit_evict("too many connections "
	    "before their hello (hello_limit)"))
		return 2;
	return 1;
}
