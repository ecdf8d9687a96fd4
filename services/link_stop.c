/*
 * link_stop.c: how the link helper stops, and hands its link over.
 *
 * End-of-file on the status channel (or SIGTERM standalone) stops the
 * helper, quickly, because the master starts the next generation only
 * once this one has exited: no new clients; every client is drained
 * (link_accept.c: what it sent is served, then it is closed after its
 * last reply); and as soon as nothing is in flight on the link, the link
 * is handed over to the master as a HANDOFF packet with the socket
 * attached, for the next generation to take over without a reconnect.
 * A TLS link is not handed over: its session (keys, sequence numbers)
 * lives in this process's OpenSSL and cannot follow the socket, so the
 * next generation dials again, as after any link loss: nothing in
 * flight is lost (the hand-over waits for none in flight anyway), and
 * clients' requests meanwhile are answered "con_lost", critical ones
 * queued and replayed.
 * "drain" bounds the wait for requests in flight: past it they are
 * failed ("con_lost", critical ones queued), the link is not handed
 * over, and the clients left get one last try at their replies.  A
 * second signal cuts the drain time short.
 */
#include <sys/types.h>
#include <sys/time.h>

#include <event2/event.h>
#include <signal.h>
#include <stdlib.h>

#include "fdpass.h"
#include "link.h"
#include "log.h"
#include "service.h"
#include "util.h"

#define LINK_HANDOFF	"HANDOFF"

static void	stop_begin(const char *);

/*
 * Up, with nothing in flight and nothing buffered either way: the next
 * generation starts clean.
 */
static int
stop_link_idle(void)
{
	return L.state == PEER_UP && req_none_inflight() &&
	    lconn_inlen(L.lc) == 0 && lconn_outlen(L.lc) == 0;
}

/*
 * Give the connected link to the master for the next generation: one
 * HANDOFF packet with the socket attached.  Only when nothing is in
 * flight and nothing is buffered either way, so the next one starts
 * clean.  We do not know whether a next generation will come (the master
 * may be stopping, the peer gone from the configuration): the master
 * does, and closes the link if not.
 */
static void
stop_handoff(void)
{
	if (L.no_handoff || service_status_fd() == -1 || !stop_link_idle())
		return;
	if (lconn_tls(L.lc) != NULL) {
		log_info("not handing the TLS link to %s over: the next "
		    "generation links again", L.peer);
		L.no_handoff = 1;
		return;
	}
	if (fdpass_send(service_status_fd(), L.lc->fd, LINK_HANDOFF,
	    sizeof(LINK_HANDOFF) - 1) == -1) {
		log_warn("cannot hand the link to %s over", L.peer);
		L.no_handoff = 1;
		return;
	}
	/*
	 * It is the master's now: no more reading or writing here (what
	 * the peer sends next is for the next generation), and no graceful
	 * close either; our copy of the fd goes at exit.
	 */
	lconn_stop(L.lc);
	peer_set_state(PEER_HANDED_OVER, NULL);
}

/* Done: exit without closing the link gracefully (the master has it). */
static __dead void
stop_finish(void)
{
	stop_handoff();
	exit(0);
}

/* Stopping: come back from the loop to see whether we are done. */
void
stop_check(void)
{
	if (L.stopping && req_none_inflight())
		event_active(L.finish_ev, EV_TIMEOUT, 1);
}

/*
 * Nothing in flight: the link goes to the master at once (clients do not
 * hold it back), and we exit once the last client is closed.
 */
static void
stop_finish_cb(int fd, short ev, void *arg)
{
	if (!L.stopping || !req_none_inflight())
		return;
	stop_handoff();
	if (TAILQ_EMPTY(&L.clients))
		stop_finish();
}

/*
 * Drain time is over: requests still in flight are failed ("con_lost",
 * critical ones queued) and the link, where their replies could still
 * come in, is not handed over; every client gets one last try at
 * writing its replies, without waiting, and is closed.
 */
static void
stop_drain_cb(int fd, short ev, void *arg)
{
	struct client	*c;
	char		 d[32];
	int		 n;

	n = req_inflight();
	/* A second SIGTERM cuts the drain time short. */
	fmt_duration(now_ms() - L.stop_ms < L.drain_ms ?
	    now_ms() - L.stop_ms : L.drain_ms, d, sizeof(d));
	if (n > 0) {
		log_warnx("stopping the link to %s with %d request%s still in "
		    "flight after %s: not handing it over", L.peer, n,
		    n == 1 ? "" : "s", d);
		L.no_handoff = 1;
		req_fail_all();
	} else if (L.nclients > 0)
		log_info("stopping the link to %s: closing %d client%s that "
		    "did not read %s replies within %s", L.peer, L.nclients,
		    L.nclients == 1 ? "" : "s", L.nclients == 1 ? "its" :
		    "their", d);
	while ((c = TAILQ_FIRST(&L.clients)) != NULL)
		client_drop(c);
	stop_finish();
}

static void
stop_begin(const char *why)
{
	struct timeval	 tv;
	struct client	*c, *next;

	if (L.stopping)
		return;
	L.stopping = 1;
	L.stop_ms = now_ms();
	log_debug("%s: stopping the link to %s", why, L.peer);
	listen_enable(0);
	evtimer_del(L.pause_ev);
	evtimer_del(L.replay_ev);
	if (L.state == PEER_DOWN)
		evtimer_del(L.retry_ev);
	evtimer_add(L.drain_ev, ms_timeval(L.drain_ms, &tv));
	TAILQ_FOREACH_SAFE(c, &L.clients, entry, next)
		client_stop(c);
	stop_check();
}

static void
stop_status_cb(int fd, short ev, void *arg)
{
	if (service_stopping()) {
		event_del(L.status_ev);
		stop_begin("end-of-file on the status channel");
	}
}

static void
stop_signal_cb(int sig, short ev, void *arg)
{
	if (!L.stopping) {
		stop_begin(sig == SIGTERM ? "SIGTERM" : "SIGINT");
		return;
	}
	/* Asked twice: do not wait for the drain time. */
	event_active(L.drain_ev, EV_TIMEOUT, 1);
}

void
stop_init(void)
{
	int	 i;

	if ((L.drain_ev = evtimer_new(L.base, stop_drain_cb, NULL)) == NULL ||
	    (L.finish_ev = event_new(L.base, -1, 0, stop_finish_cb,
	    NULL)) == NULL ||
	    (L.sig_ev[0] = evsignal_new(L.base, SIGTERM, stop_signal_cb,
	    NULL)) == NULL ||
	    (L.sig_ev[1] = evsignal_new(L.base, SIGINT, stop_signal_cb,
	    NULL)) == NULL)
		fatalx("cannot create events");
	for (i = 0; i < 2; i++)
		evsignal_add(L.sig_ev[i], NULL);
	if (service_status_fd() != -1) {
		if ((L.status_ev = event_new(L.base, service_status_fd(),
		    EV_READ | EV_PERSIST, stop_status_cb, NULL)) == NULL)
			fatalx("event_new failed");
		event_add(L.status_ev, NULL);
	}
}
