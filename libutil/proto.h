/*
 * proto.h: the status channel between the master and one child.
 *
 * Each child has its own SOCK_SEQPACKET socketpair; its end is the fd named
 * in MASTER_STATUS_FD.  The child sends short text messages, one per packet
 * (no newline needed; a trailing newline is ignored):
 *	READY		initialised
 *	TAKEN		busy with a client
 *	AVAIL [n]	idle again, after n clients (default 1): a child may
 *			go from client to client without AVAIL and TAKEN
 *			in between, and counts them here
 *	STATUS text	free text shown by "linkmaster status"
 * The master never writes; it closes its end to say "stop" (end-of-file).
 */
#ifndef LM_PROTO_H
#define LM_PROTO_H

#include <stddef.h>

#define PROTO_MAX	512	/* largest message, bytes */

enum proto_kind {
	PROTO_BAD = 0,
	PROTO_READY,
	PROTO_TAKEN,
	PROTO_AVAIL,
	PROTO_STATUS,
	PROTO_HANDOFF,	/* link helper: its TCP link rides along (SCM_RIGHTS) */
};

/* Most clients one AVAIL may count. */
#define PROTO_COUNT_MAX	1000000000

/*
 * Parse one packet.  On PROTO_STATUS and PROTO_AVAIL, *text points into
 * buf at the argument and *textlen is its length (without the trailing
 * newline; 0 when there is none; control characters in a STATUS text are
 * the caller's to sanitise).  An AVAIL count must be a number from 1 to
 * PROTO_COUNT_MAX.  Anything else unknown is PROTO_BAD.
 */
enum proto_kind proto_parse(const char *buf, size_t len, const char **text,
	    size_t *textlen);
const char *proto_name(enum proto_kind);
/* The clients an AVAIL counts, from what proto_parse returned: 1 by default. */
int	 proto_count(const char *text, size_t textlen);

/*
 * Child side: send one message; -1 with errno on failure.  text may be
 * NULL; it is sent with STATUS, and with AVAIL (the count, as text).
 */
int	 proto_send(int fd, enum proto_kind, const char *text);

#endif
