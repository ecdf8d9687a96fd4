/*
 * throttle.c: back off a unit whose children fail to start.
 *
 * A bad startup (an abnormal exit before the child was started) or a crash
 * storm throttles the unit: no spawning for throttle_min, doubling with each
 * consecutive bad startup up to throttle_max (children that fail while it
 * is throttled already add nothing), plus up to 10% jitter so that
 * units failing together do not retry together.  The level resets when a
 * child of the unit is started.  A throttle always ends by itself: there is
 * no permanent give-up, and "linkmaster retry" or SIGUSR1 ends it at once.
 * Both the start (with its cause and delay) and the release are logged, so
 * the operator never has to guess why a service is dark.
 */
#include <sys/types.h>

#include <stdlib.h>

#include "log.h"
#include "master.h"

/*
 * The link's doubling (backoff_base), but not its jitter: the delay logged
 * is the least a throttle lasts, and throttle_bad only adds to it.
 */
long long
throttle_delay(int level, long long min, long long max)
{
	return level < 1 ? 0 : backoff_base((unsigned)level - 1, min, max);
}

static void
throttle_timer_cb(int fd, short ev, void *arg)
{
	throttle_release(arg);
}

void
throttle_bad(struct unit *u, const char *why)
{
	struct timeval	 tv;
	long long	 d, jitter;
	char		 buf[32];

	/*
	 * Only children made before the throttle began can fail during it
	 * (a burst of inetd connections, a prefork service's maxproc): one
	 * episode, one step of back-off, not one per child; each exit is
	 * logged by reap.c all the same.
	 */
	if (u->throttle.active) {
		log_debug("service %s: %s -- throttled already", u->name, why);
		return;
	}
	u->throttle.level++;
	d = throttle_delay(u->throttle.level, M->cfg->throttle_min,
	    M->cfg->throttle_max);
	jitter = d >= 10 ? arc4random_uniform(d / 10 + 1) : 0;
	log_warnx("service %s: %s -- throttling for %s", u->name, why,
	    fmt_duration(d, buf, sizeof(buf)));
	u->throttle.active = 1;
	free(u->throttle_cause);
	u->throttle_cause = xstrdup(why);
	u->throttle.until = now_ms() + d + jitter;
	if (u->throttle.ev == NULL)
		u->throttle.ev = evtimer_new(M->base, throttle_timer_cb, u);
	evtimer_add(u->throttle.ev, ms_timeval(d + jitter, &tv));
	avail_update(u);
}

void
throttle_release(struct unit *u)
{
	if (!u->throttle.active)
		return;
	u->throttle.active = 0;
	evtimer_del(u->throttle.ev);
	log_info("service %s: throttle released", u->name);
	avail_update(u);
}

/* A child of the unit started: the next bad startup waits throttle_min. */
void
throttle_reset(struct unit *u)
{
	u->throttle.level = 0;
}

/* Forget the throttle entirely (unit going away, or a fresh start). */
void
throttle_clear(struct unit *u)
{
	if (u->throttle.ev != NULL) {
		event_free(u->throttle.ev);
		u->throttle.ev = NULL;
	}
	u->throttle.active = 0;
	u->throttle.level = 0;
}
