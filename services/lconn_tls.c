/*
 * lconn_tls.c: the TLS transport of lconn (libutil/tls.c does the TLS).
 *
 * A connection starts plain (linkd first looks at the bytes that come:
 * tls_sniff) and is put on TLS before anything was read or written
 * through it.  There is no separate handshake step: TLS makes its
 * handshake inside the first reads and writes, so it is driven by the
 * connection's own events, and what it waits for (a read in order to
 * write, or the reverse) goes back to lconn as lconn.want, which lconn
 * turns into event interest.  A failed handshake is a failed read or
 * write, with errno (EPROTO for TLS itself) and the reason in words in
 * lconn_tls_error.
 *
 * One read takes every record that is there, up to the room given: one
 * readiness event, one pass over the lines, and (TLS reads ahead) one
 * read(2) for the lot.  What is left of a record
 * when the room ran out is announced to lconn by the pending op, since no
 * read event will come for bytes already off the socket.
 *
 * Nothing here logs, and nothing is fatal.
 */
#include <sys/types.h>
#include <sys/uio.h>

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "lconn.h"
#include "tls.h"

static void
lconn_tls_want(struct lconn *c, struct tls *t)
{
	c->want = tls_want(t) == TLS_WANT_WRITE ? LCONN_WANT_WRITE :
	    LCONN_WANT_READ;
}

static ssize_t
lconn_tls_read(struct lconn *c, void *buf, size_t len)
{
	struct tls	*t = c->tctx;
	size_t		 got = 0;
	ssize_t		 n;

	c->want = 0;
	while (got < len) {
		if ((n = tls_read(t, (char *)buf + got, len - got)) > 0) {
			got += (size_t)n;
			/* Nothing buffered: no read(2) just for EAGAIN. */
			if (tls_pending(t) == 0)
				break;
			continue;
		}
		/* An end or an error after data: told by the next read. */
		if (got > 0)
			break;
		if (n == -1 && errno == EAGAIN)
			lconn_tls_want(c, t);
		return n;
	}
	return (ssize_t)got;
}

static ssize_t
lconn_tls_writev(struct lconn *c, const struct iovec *iov, int cnt)
{
	struct tls	*t = c->tctx;
	ssize_t		 n;

	c->want = 0;
	if ((n = tls_writev(t, iov, cnt)) == -1 && errno == EAGAIN)
		lconn_tls_want(c, t);
	return n;
}

/* The close_notify goes out as best it can; the fd is lconn's. */
static void
lconn_tls_free(struct lconn *c)
{
	tls_close(c->tctx);
	tls_free(c->tctx);
	c->tctx = NULL;
}

static size_t
lconn_tls_pending(struct lconn *c)
{
	return tls_pending(c->tctx);
}

static const struct lconn_ops lconn_tls_ops = {
	"tls", lconn_tls_read, lconn_tls_writev, lconn_tls_free,
	lconn_tls_pending
};

void
lconn_tls_start(struct lconn *c, struct tls *t)
{
	if (c->ops->free != NULL)
		c->ops->free(c);
	c->ops = &lconn_tls_ops;
	c->tctx = t;
	c->want = 0;
}

struct tls *
lconn_tls(const struct lconn *c)
{
	return c->ops == &lconn_tls_ops ? c->tctx : NULL;
}

const char *
lconn_tls_error(const struct lconn *c)
{
	const char	*e;

	if (c->ops != &lconn_tls_ops ||
	    strcmp(e = tls_error(c->tctx), "no error") == 0)
		return NULL;
	return e;
}

/*
 * No certificate came (the peer sent nothing of TLS) and the connection
 * ended or timed out: what a peer that does not speak TLS at all does.
 * An old linkd takes the handshake for the start of a hello line that
 * never ends, waits, and gives up (a linkd that knows TLS but has no key
 * answers in plaintext instead: "the peer does not speak TLS").  Said so,
 * rather than "no answer to hello" or "connection closed by peer".
 */
const char *
lconn_tls_unanswered(const struct lconn *c, int closed)
{
	if (c->ops != &lconn_tls_ops || *tls_peer_fingerprint(c->tctx) != '\0')
		return NULL;
	return closed ? "peer closed the connection during the TLS "
	    "handshake: it may not speak TLS (tls_key and tls_cert missing "
	    "there, or tls = no meant for it)" : "no answer to the TLS "
	    "handshake: the peer may not speak TLS (tls_key and tls_cert "
	    "missing there, or tls = no meant for it)";
}
