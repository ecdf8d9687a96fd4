/*
 * ratelimit.c: at most so many log lines a second from one source (a
 * child's stdout or stderr, its bad status messages), and one summary
 * line for what was held back.
 *
 * A window of a second starts with the first line; past the limit, lines
 * are counted instead of logged, and a timer at the end of the window
 * logs "N lines suppressed" through the owner's callback (so the summary
 * comes even when the flood stops dead), then a new window begins.  A
 * source that goes away calls ratelimit_done(): a count not yet reported
 * is reported then.  Nothing here can fail except allocation (fatal).
 */
#include <sys/types.h>

#include <stdlib.h>

#include "log.h"
#include "master.h"

static void
ratelimit_report(struct ratelimit *rl)
{
	if (rl->suppressed > 0)
		rl->report(rl->suppressed, rl->limit, rl->arg);
	rl->suppressed = 0;
}

static void
ratelimit_timer_cb(int fd, short ev, void *arg)
{
	struct ratelimit	*rl = arg;

	ratelimit_report(rl);
	rl->start = now_ms();
	rl->n = 0;
}

void
ratelimit_init(struct ratelimit *rl, unsigned limit,
    void (*report)(unsigned long, unsigned, void *), void *arg)
{
	rl->limit = limit;
	rl->report = report;
	rl->arg = arg;
	rl->start = 0;
	rl->n = 0;
	rl->suppressed = 0;
	rl->ev = NULL;
}

/* 1: log this line; 0: it is counted as suppressed. */
int
ratelimit_pass(struct ratelimit *rl)
{
	struct timeval	 tv;
	long long	 now;

	if (rl->limit == 0)
		return 1;
	now = now_ms();
	if (now - rl->start >= 1000) {
		/* The timer may not have run yet: report in order. */
		if (rl->ev != NULL)
			evtimer_del(rl->ev);
		ratelimit_report(rl);
		rl->start = now;
		rl->n = 0;
	}
	if (rl->n < rl->limit) {
		rl->n++;
		return 1;
	}
	if (rl->suppressed++ == 0) {
		if (rl->ev == NULL)
			rl->ev = evtimer_new(M->base, ratelimit_timer_cb, rl);
		if (rl->ev == NULL)
			fatalx("evtimer_new failed");
		evtimer_add(rl->ev, ms_timeval(rl->start + 1000 - now, &tv));
	}
	return 0;
}

void
ratelimit_done(struct ratelimit *rl)
{
	ratelimit_report(rl);
	if (rl->ev != NULL)
		event_free(rl->ev);
	rl->ev = NULL;
}
