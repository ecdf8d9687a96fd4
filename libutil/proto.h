/*
 * proto.h: the status channel between the master and one child.
 *
 * Each child has its own SOCK_SEQPACKET socketpair; its end is the fd named
 * in MASTER_STATUS_FD.  The child sends short text messages, one per packet
 * (no newline needed; a trailing newline is ignored):
 *	READY		initialised
 *	TAKEN		busy with a client
 *	AVAIL		idle again
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

/*
 * Parse one packet.  On PROTO_STATUS, *text points into buf at the text and
 * *textlen is its length (without the trailing newline; control characters
 * are the caller's to sanitise).  Anything else unknown is PROTO_BAD.
 */
enum proto_kind proto_parse(const char *buf, size_t len, const char **text,
	    size_t *textlen);
const char *proto_name(enum proto_kind);

/* Child side: send one message; -1 with errno on failure. text may be NULL. */
int	 proto_send(int fd, enum proto_kind, const char *text);

#endif
