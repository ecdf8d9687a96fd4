/*
 * link_replay.c: the link helper's durable queue, replayed.
 *
 * Queued requests (services/queue.c) are replayed one at a time, in
 * order, while the link is up, and removed once the peer answered (at
 * least once delivery).  A reply "error: backend: ..." means linkd could
 * not reach its backend: the request stays first and is tried again
 * after a back-off.  One that cannot be delivered as it is (unreadable,
 * not a regular file, longer than max_line, holding a newline, or lost
 * with the link LINK_REPLAY_BREAKS times in a row) is set aside as
 * NAME.bad, logged once, so that the ones behind it go on and the link
 * stays up.
 */
#include <sys/types.h>
#include <sys/time.h>

#include <errno.h>
#include <event2/event.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "link.h"
#include "log.h"
#include "queue.h"
#include "util.h"

#define LINK_BACKEND_ERROR	"error: backend:"

static void	replay_retry_cb(int, short, void *);

void
replay_init(void)
{
	if ((L.replay_ev = evtimer_new(L.base, replay_retry_cb,
	    NULL)) == NULL)
		fatalx("cannot create events");
}

/*
 * A queued request that cannot be delivered as it is: moved out of the
 * way as NAME.bad, for the operator, logged once (it is never read
 * again), so that the requests behind it go on.
 */
static void
replay_set_aside(uint64_t seq, const char *why)
{
	char	 name[QUEUE_NAME_LEN + 1];

	queue_name(seq, name, sizeof(name));
	log_error("queued request %" PRIu64 " for %s: %s: setting it aside "
	    "as %s/%s.bad", seq, L.peer, why, queue_dir(L.q), name);
	if (queue_set_aside(L.q, seq) == -1)
		log_error("cannot set %s/%s aside: %s", queue_dir(L.q), name,
		    strerror(errno));
}

/* Send the oldest queued request, if the link is up and nothing is out. */
void
replay_next(void)
{
	struct req	*r;
	uint64_t	 seq;
	char		*data, why[128];
	size_t		 len;
	int		 rc;

	if (!peer_is_up() || L.replay != NULL || L.stopping ||
	    evtimer_pending(L.replay_ev, NULL))
		return;
	for (;;) {
		/* No longer than a client's line: what the peer accepts. */
		rc = queue_peek(L.q, L.max_line, &seq, &data, &len);
		if (rc == 1)
			return;
		if (rc == 0 && memchr(data, '\n', len) == NULL)
			break;
		if (rc == 0) {
			free(data);
			strlcpy(why, "it holds a newline", sizeof(why));
		} else if (errno == EFBIG)
			(void)snprintf(why, sizeof(why), "longer than "
			    "max_line (%zu bytes)", L.max_line);
		else if (errno == EINVAL)
			strlcpy(why, "not a regular file", sizeof(why));
		else if (errno == ELOOP)
			strlcpy(why, "a symbolic link", sizeof(why));
		else
			(void)snprintf(why, sizeof(why), "cannot read it: %s",
			    strerror(errno));
		replay_set_aside(seq, why);
	}
	r = req_new(NULL, REQ_REPLAY, data, len);
	r->seq = seq;
	L.replay = r;
	req_send(r, r->line, r->len);
}

static void
replay_retry_cb(int fd, short ev, void *arg)
{
	replay_next();
}

/* The peer answered a replayed request. */
void
replay_done(struct req *r, const char *payload, size_t plen)
{
	char		 ex[LOG_ESCAPE_SIZE(LINK_REASON_MAX)], d[32];
	struct timeval	 tv;
	long long	 delay;
	size_t		 n = sizeof(LINK_BACKEND_ERROR) - 1;

	L.replay = NULL;
	L.replay_breaks = 0;
	/*
	 * linkd could not reach its backend: the request did not get
	 * anywhere, so it stays first in line and is tried again later.
	 */
	if (plen >= n && memcmp(payload, LINK_BACKEND_ERROR, n) == 0) {
		delay = backoff_ms(L.replay_attempt++, L.retry_min,
		    L.retry_max, arc4random());
		(void)log_escape(payload, plen, LINK_REASON_MAX, ex,
		    sizeof(ex));
		fmt_duration(delay, d, sizeof(d));
		log_warnx("queued request %" PRIu64 " to %s not delivered: "
		    "\"%s\", retry in %s", r->seq, L.peer, ex, d);
		evtimer_add(L.replay_ev, ms_timeval(delay, &tv));
		req_free(r);
		return;
	}
	L.replay_attempt = 0;
	if (queue_remove(L.q, r->seq) == -1)
		log_error("cannot remove queued request %" PRIu64 " for %s "
		    "from %s: %s (it will be delivered again)", r->seq, L.peer,
		    queue_dir(L.q), strerror(errno));
	log_info("delivered queued request %" PRIu64 " to %s", r->seq,
	    L.peer);
	req_free(r);
	replay_next();
}

/*
 * The link broke with a replayed request on it.  Again and again, and
 * the peer refuses that request (too long for its max_line, as a file
 * dropped in the queue can be): set it aside, or the link would go down
 * for ever, failing every client's requests with it.
 */
void
replay_link_lost(void)
{
	char	 why[128];

	if (L.replay == NULL || L.stopping)
		return;
	if (L.replay_seq != L.replay->seq) {
		L.replay_seq = L.replay->seq;
		L.replay_breaks = 0;
	}
	if (++L.replay_breaks < LINK_REPLAY_BREAKS)
		return;
	(void)snprintf(why, sizeof(why), "the link broke %u times in a row "
	    "while it was on its way", L.replay_breaks);
	replay_set_aside(L.replay_seq, why);
	L.replay_breaks = 0;
}
