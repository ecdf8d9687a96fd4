/*
 * linkd_bconn.c: one backend connection of a session's pool
 * (linkd_pool.c chooses which one takes a request).
 *
 * The backend is a unix stream service that answers each line with one
 * line, in order, so a connection carries up to backend_depth requests
 * at once: payloads out without waiting (bconn_send), replies paired
 * with the FIFO of the ids sent (bconn_readable), each going back to the
 * link with the header the link wrote.  Bytes read are what keeps the
 * connection from timing out, a reply what keeps it from lagging: both
 * are timestamps, which the pool's clock (pool_tick) judges.
 *
 * Failure policy: a connection that cannot be made, times out
 * (backend_timeout of silence with requests outstanding), fails, closes,
 * sends a line longer than max_line or a line no request waits for,
 * costs every request outstanding on it ("<id> error: backend:
 * <reason>", each) and leaves the pool (bconn_fail); the session goes
 * on, and its waiting requests go to the others or to a new one.
 */
#include <sys/types.h>
#include <sys/queue.h>

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "lconn.h"
#include "linkd.h"
#include "log.h"
#include "util.h"

/*
 * How long after its last progress b is due to be looked at: when it
 * starts to lag, or times out (a lagging one only times out).
 */
static long long
bconn_deadline(struct bconn *b)
{
	long long	 t = D.backend_ms * 1000;

	if (!b->lagging && D.lag_us < t)
		t = D.lag_us;
	return t;
}

/* The id of b's i-th outstanding request, oldest first. */
static uint64_t
bconn_sent(struct bconn *b, int i)
{
	return b->sent[(b->head + i) % D.depth].id;
}

/* Forget b; whatever was outstanding on it has been answered already. */
void
bconn_drop(struct bconn *b)
{
	struct sess	*s = b->s;

	s->nsent -= b->nsent;
	TAILQ_REMOVE(&s->conns, b, entry);
	s->nconns--;
	lconn_free(b->c);
	free(b->sent);
	free(b);
}

/*
 * The connection failed (or misbehaved): every request outstanding on it
 * gets "error: backend: why", in the order sent, and it leaves the pool.
 * Waiting requests then go to the others, or to a new one.
 */
void
bconn_fail(struct bconn *b, const char *why)
{
	struct sess	*s = b->s;
	int		 i;

	if (b->nsent == 0)
		/* An idle backend connection went away: fine. */
		log_debug("backend %s: %s (idle connection)", s->backend, why);
	else if (b->nsent == 1)
		log_warnx("backend %s: %s (request %" PRIu64 " from %s)",
		    s->backend, why, bconn_sent(b, 0), s->name);
	else
		log_warnx("backend %s: %s (request %" PRIu64 " and %d more "
		    "from %s)", s->backend, why, bconn_sent(b, 0),
		    b->nsent - 1, s->name);
	for (i = 0; i < b->nsent; i++)
		sess_reply_error(s, bconn_sent(b, i), why);
	bconn_drop(b);
	pool_dispatch(s);
}

static void
bconn_written(struct lconn *c, int error, void *arg)
{
	char	 e[128];

	if (error) {
		linkproto_errstr(errno, e, sizeof(e));
		bconn_fail(arg, e);
	}
}

/*
 * Replies, paired in order with the requests sent.  Bytes read are heard
 * (backend_timeout counts from them); a reply is progress (backend_lag
 * does), and a lagging connection keeps up again.
 */
static void
bconn_readable(struct lconn *c, short what, void *arg)
{
	struct bconn	*b = arg;
	struct sess	*s = b->s;
	struct bsent	*r;
	const char	*line;
	size_t		 len;
	ssize_t		 n;
	long long	 now;
	int		 replied = 0;
	char		 e[128];

	if ((n = lconn_read(c)) == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return;
		linkproto_errstr(errno, e, sizeof(e));
		bconn_fail(b, e);
		return;
	}
	while (b->nsent > 0 && (line = lconn_line(c, &len)) != NULL) {
		if (len > D.max_line) {
			bconn_fail(b, "reply too long");
			return;
		}
		r = &b->sent[b->head];
		if (++b->head == D.depth)
			b->head = 0;
		b->nsent--;
		s->nsent--;
		sess_reply(s, r->hdr, r->hlen, line, len);
		lconn_consume(c, len + 1);
		replied = 1;
	}
	/* Once per read, not per line. */
	if (n > 0) {
		b->heard = now = sess_now(s);
		if (replied) {
			b->progress = now;
			b->lagging = 0;
		}
	}
	if (b->nsent == 0 && lconn_inlen(c) > 0) {
		/* More lines than requests: we cannot pair them up. */
		log_warnx("backend %s sent a line no request was waiting "
		    "for: dropping the connection", s->backend);
		bconn_fail(b, "spoke out of turn");
		return;
	}
	if (b->nsent > 0 && c->scan > D.max_line) {
		bconn_fail(b, "reply too long");
		return;
	}
	if (n == 0) {
		bconn_fail(b, "closed the connection");
		return;
	}
	pool_dispatch(s);
}

struct bconn *
bconn_open(struct sess *s, char *err, size_t errlen)
{
	struct bconn	*b;
	int		 fd;

	if ((fd = D.connect(s->backend, err, errlen)) == -1)
		return NULL;
	b = xcalloc(1, sizeof(*b));
	b->s = s;
	/* pool_pick never gives b more than D.depth requests at once. */
	b->sent = xcalloc((size_t)D.depth, sizeof(*b->sent));
	/* Requests are written before replies: the backend starts on them. */
	b->c = lconn_new(s->fl, fd, LCONN_FIRST, bconn_readable,
	    bconn_written, b);
	/* Always read: an idle connection's end is noticed, too. */
	lconn_read_on(b->c, 1, NULL);
	TAILQ_INSERT_TAIL(&s->conns, b, entry);
	s->nconns++;
	return b;
}

/*
 * Request id (line: "<id> <payload>", hlen bytes of header) goes out on
 * b now; only its id and header are kept, in a ring rather than an
 * allocation per request (the line may be in the link's input buffer:
 * pool_request).
 */
void
bconn_send(struct bconn *b, uint64_t id, const char *line, size_t hlen,
    size_t len)
{
	struct bsent	*r;
	int		 i;

	lconn_add(b->c, NULL, 0, line + hlen, len - hlen);
	if ((i = b->head + b->nsent) >= D.depth)
		i -= D.depth;
	r = &b->sent[i];
	r->id = id;
	r->hlen = (unsigned char)hlen;
	memcpy(r->hdr, line, hlen);
	if (b->nsent++ == 0) {
		b->progress = b->heard = sess_now(b->s);
		b->lagging = 0;
		pool_arm(b->s, b->progress, b->progress + bconn_deadline(b));
	}
	b->s->nsent++;
}
