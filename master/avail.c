/*
 * avail.c: decide when a unit needs another child.
 *
 * Postfix's rule: the master watches a unit's listen sockets only while no
 * child is idle, the process limit allows one more, and the unit is neither
 * throttled, stopping, nor stopped by the operator.  A readable socket then means "a client waits and
 * nobody takes it": spawn exactly one child, which accepts.  The master
 * never accepts, except for a service in inetd mode (inetd.c).  A daemon unit has no socket: it is simply topped up to
 * its limit.  Nothing here polls; all of it runs on events.
 */
#include <sys/types.h>

#include "log.h"
#include "master.h"

static int
avail_wanted(const struct unit *u)
{
	if (M->stopping || u->retired || u->down || u->throttle.active)
		return 0;
	if (u->limit != 0 && u->total >= u->limit)
		return 0;
	return u->avail == 0;
}

static void
avail_listen_cb(int fd, short ev, void *arg)
{
	struct unit	*u = arg;

	/* The state may have changed since the event was queued. */
	if (avail_wanted(u))
		(void)spawn_child(u);
	avail_update(u);
}

static void
avail_listen_on(struct unit *u)
{
	int	 i;

	if (u->listening)
		return;
	for (i = 0; i < u->nlisten; i++) {
		/* Made by inetd.c before a reload turned accept off? */
		if (u->listen_ev[i] != NULL &&
		    event_get_callback(u->listen_ev[i]) != avail_listen_cb) {
			event_free(u->listen_ev[i]);
			u->listen_ev[i] = NULL;
		}
		if (u->listen_ev[i] == NULL)
			u->listen_ev[i] = event_new(M->base, u->listen_fd[i],
			    EV_READ | EV_PERSIST, avail_listen_cb, u);
		event_add(u->listen_ev[i], NULL);
	}
	u->listening = 1;
}

void
avail_listen_off(struct unit *u)
{
	int	 i;

	if (!u->listening)
		return;
	for (i = 0; i < u->nlisten; i++)
		if (u->listen_ev[i] != NULL)
			event_del(u->listen_ev[i]);
	u->listening = 0;
}

/* Re-evaluate after anything that changed a unit's counts or state. */
void
avail_update(struct unit *u)
{
	/*
	 * daemon and link units keep their count running.  A link unit
	 * waits until the previous generation is gone: it may be about to
	 * hand its live TCP link over to the next helper.
	 */
	if (u->svc->te->type == SVC_DAEMON || u->svc->te->type == SVC_LINK) {
		while (!M->stopping && !u->retired && !u->down &&
		    !u->throttle.active &&
		    u->total < u->limit && (u->svc->te->type != SVC_LINK ||
		    (u->draining == 0 && svc_link_predecessor(u) == NULL)))
			if (spawn_child(u) == NULL)
				break;
		return;
	}
	if (u->nlisten == 0)
		return;
	if (inetd_unit(u)) {
		inetd_update(u);
		return;
	}
	if (avail_wanted(u))
		avail_listen_on(u);
	else
		avail_listen_off(u);
}
