/*
 * status.c: read what children say on their private status channels.
 *
 * READY and TAKEN mark a child started (its unit's throttle level resets);
 * TAKEN and AVAIL move it between busy and idle, which drives spawning,
 * and AVAIL says how many clients it served (a busy child may go on to
 * the next client without a word; it counts them when it stops);
 * STATUS text is kept for "linkmaster status".  A malformed message is
 * logged and ignored: a child cannot confuse the master's counts by
 * talking nonsense, nor flood the log with it: at most STATUS_BAD_RATE
 * such warnings a second per child, then one "N lines suppressed".  End-of-file only closes the channel: whether the
 * child is gone is decided by waitpid, never by the socket.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "master.h"
#include "fdpass.h"
#include "proto.h"

#define STATUS_DRAIN_TURNS	128	/* x 32 packets, from a dead child */

static void
status_text(struct unit *u, const char *text, size_t len)
{
	char	*s;
	size_t	 i;

	s = xstrndup(text, len);
	/* It is printed in a one-line table: no control characters. */
	for (i = 0; s[i] != '\0'; i++)
		if (iscntrl((unsigned char)s[i]))
			s[i] = ' ';
	free(u->status_text);
	u->status_text = s;
}

static void
status_bad_report(unsigned long n, unsigned limit, void *arg)
{
	struct child	*c = arg;

	log_warnx("service %s: pid %d: %lu lines suppressed (more than %u "
	    "bad status messages a second)", c->unit->name, (int)c->pid, n,
	    limit);
}

/* A warning about what child c sent, unless it sends too many. */
static int
status_may_warn(struct child *c)
{
	if (c->bad_rl.report == NULL)
		ratelimit_init(&c->bad_rl, STATUS_BAD_RATE, status_bad_report,
		    c);
	return ratelimit_pass(&c->bad_rl);
}

static void
status_message(struct child *c, const char *buf, size_t len)
{
	struct unit	*u = c->unit;
	const char	*text;
	size_t		 tlen;

	c->spoke = 1;
	switch (proto_parse(buf, len, &text, &tlen)) {
	case PROTO_READY:
		child_started(c, "READY");
		break;
	case PROTO_TAKEN:
		child_started(c, "TAKEN");
		if (c->avail) {
			c->avail = 0;
			u->avail--;
			avail_update(u);
		}
		break;
	case PROTO_AVAIL:
		if (c->avail)
			break;
		/* A stopping child's last clients count too. */
		c->uses += (unsigned long)proto_count(text, tlen);
		u->uses += (unsigned long)proto_count(text, tlen);
		if (c->stopping)
			break;
		/* Over a lowered limit: this one goes, instead of idling. */
		if (u->limit != 0 && u->total > u->limit)
			child_stop(c);
		else {
			c->avail = 1;
			u->avail++;
		}
		avail_update(u);
		break;
	case PROTO_STATUS:
		status_text(u, text, tlen);
		break;
	case PROTO_HANDOFF:	/* without its fd: nothing to keep */
	case PROTO_BAD:
		if (status_may_warn(c))
			log_warnx("service %s: pid %d: bad status message "
			    "(%zu bytes) ignored", u->name, (int)c->pid, len);
		break;
	}
}

/*
 * A message with an fd: only a link helper's HANDOFF carries one, its
 * connected TCP link, kept for the unit's next child.  Anything else
 * that arrives with an fd is closed at once.
 */
static void
status_handoff(struct child *c, const char *buf, size_t len, int fd)
{
	struct unit	*u = c->unit;

	if (u->svc->te->type != SVC_LINK || !c->stopping ||
	    proto_parse(buf, len, NULL, NULL) != PROTO_HANDOFF) {
		if (status_may_warn(c))
			log_warnx("service %s: pid %d: unexpected file "
			    "descriptor closed", u->name, (int)c->pid);
		close(fd);
		return;
	}
	/*
	 * No next generation (the master stops, the peer was removed), or
	 * the link goes to the peer's old address: closing it is all the
	 * peer's linkd needs to see.
	 */
	if (M->stopping || u->retired || c->no_handoff) {
		log_info("service %s: pid %d: link closed, nothing to hand it "
		    "over to", u->name, (int)c->pid);
		close(fd);
		return;
	}
	if (u->handoff_fd != -1)
		close(u->handoff_fd);
	u->handoff_fd = fd;
	log_info("service %s: pid %d handed over its link", u->name,
	    (int)c->pid);
}

void
status_read_cb(int fd, short ev, void *arg)
{
	struct child	*c = arg;
	char		 buf[PROTO_MAX + 1];
	ssize_t		 n;
	int		 pfd;

	/* Bounded: a chatty child cannot starve the rest of the loop. */
	for (int i = 0; i < 32; i++) {
		n = fdpass_recv(fd, &pfd, buf, sizeof(buf));
		if (n > 0 && pfd != -1)
			status_handoff(c, buf, n, pfd);
		else if (n > 0)
			status_message(c, buf, n);
		if (n > 0)
			continue;
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN) {
			/* Reaped: nothing more will ever come. */
			if (c->reaped)
				status_close(c);
			return;
		}
		status_close(c);
		return;
	}
}

/*
 * The child is gone: what it sent last is still queued on the channel (a
 * link helper's HANDOFF among it, a TAKEN that makes it started).  Read
 * all of it before the channel is closed, or two helpers exiting together
 * could lose one's link.  A process it left behind may still hold its end
 * and write on: what was queued when the child died is bounded by the
 * socket's send buffer (278 short packets by default), so after
 * STATUS_DRAIN_TURNS reads of 32 the channel is closed all the same,
 * rather than let a survivor hold the master here.
 */
void
status_drain(struct child *c)
{
	int	 i;

	for (i = 0; c->status_fd != -1 && i < STATUS_DRAIN_TURNS; i++)
		status_read_cb(c->status_fd, EV_READ, c);
	status_close(c);
}

void
status_close(struct child *c)
{
	/* What was held back is told once the channel is done with. */
	if (c->bad_rl.report != NULL)
		ratelimit_done(&c->bad_rl);
	if (c->status_fd == -1)
		return;
	event_free(c->status_ev);
	c->status_ev = NULL;
	close(c->status_fd);
	c->status_fd = -1;
}
