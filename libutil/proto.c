/*
 * proto.c: the status-channel messages (READY, TAKEN, AVAIL [count],
 * STATUS text).
 *
 * The channel is a SOCK_SEQPACKET socketpair, so each message is one packet
 * and needs no framing; parsing is exact and case-sensitive so that a child
 * writing junk is noticed rather than half-understood.  Sending blocks: the
 * messages are tiny, the master reads them promptly, and a lost TAKEN or
 * AVAIL would make the master's idea of who is idle wrong.  A send to a
 * master that is gone fails with EPIPE (never SIGPIPE); callers ignore that
 * and find out through end-of-file on the channel.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <string.h>

#include "proto.h"

/* Longest STATUS text we send: what linkmaster-contract(7) promises. */
#define PROTO_TEXT_MAX	500

static const struct {
	enum proto_kind	 kind;
	const char	*name;
} proto_names[] = {
	{ PROTO_READY, "READY" },
	{ PROTO_TAKEN, "TAKEN" },
	{ PROTO_AVAIL, "AVAIL" },
	{ PROTO_STATUS, "STATUS" },
	{ PROTO_HANDOFF, "HANDOFF" },
};

#define PROTO_NNAMES	(sizeof(proto_names) / sizeof(proto_names[0]))

const char *
proto_name(enum proto_kind kind)
{
	size_t	 i;

	for (i = 0; i < PROTO_NNAMES; i++)
		if (proto_names[i].kind == kind)
			return proto_names[i].name;
	return "BAD";
}

/* An AVAIL count: digits, no leading zero, 1 to PROTO_COUNT_MAX. */
static int
proto_count_ok(const char *s, size_t len)
{
	size_t	 i;

	if (len == 0 || len > 10 || s[0] == '0')
		return 0;
	for (i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return proto_count(s, len) <= PROTO_COUNT_MAX;
}

int
proto_count(const char *text, size_t textlen)
{
	long long	 n = 0;
	size_t		 i;

	if (text == NULL || textlen == 0)
		return 1;
	for (i = 0; i < textlen && i < 10; i++)
		n = n * 10 + (text[i] - '0');
	return n > PROTO_COUNT_MAX ? PROTO_COUNT_MAX + 1 : (int)n;
}

enum proto_kind
proto_parse(const char *buf, size_t len, const char **text, size_t *textlen)
{
	size_t	 i, n;

	if (text != NULL)
		*text = NULL;
	if (textlen != NULL)
		*textlen = 0;
	if (buf == NULL || len == 0 || len > PROTO_MAX)
		return PROTO_BAD;
	/* One trailing newline is allowed, for children written in shell. */
	if (buf[len - 1] == '\n')
		len--;

	for (i = 0; i < PROTO_NNAMES; i++) {
		n = strlen(proto_names[i].name);
		if (len < n || memcmp(buf, proto_names[i].name, n) != 0)
			continue;
		if (len == n) {
			if (proto_names[i].kind == PROTO_STATUS && text != NULL)
				*text = buf + n;	/* empty text */
			return proto_names[i].kind;
		}
		/* STATUS and AVAIL take an argument, after exactly one space. */
		if (buf[n] != ' ')
			return PROTO_BAD;
		if (proto_names[i].kind == PROTO_AVAIL) {
			if (!proto_count_ok(buf + n + 1, len - n - 1))
				return PROTO_BAD;
		} else if (proto_names[i].kind != PROTO_STATUS)
			return PROTO_BAD;
		if (text != NULL)
			*text = buf + n + 1;
		if (textlen != NULL)
			*textlen = len - n - 1;
		return proto_names[i].kind;
	}
	return PROTO_BAD;
}

/*
 * Cut text to at most max bytes without splitting a UTF-8 sequence, so the
 * status line the master shows stays valid text.
 */
static size_t
proto_cut(const char *text, size_t max)
{
	size_t	 n;

	n = strlen(text);
	if (n <= max)
		return n;
	n = max;
	while (n > 0 && ((unsigned char)text[n] & 0xc0) == 0x80)
		n--;
	return n;
}

int
proto_send(int fd, enum proto_kind kind, const char *text)
{
	char		 buf[PROTO_MAX];
	const char	*name;
	size_t		 len, tlen;
	ssize_t		 n;

	if (kind != PROTO_READY && kind != PROTO_TAKEN &&
	    kind != PROTO_AVAIL && kind != PROTO_STATUS) {
		errno = EINVAL;
		return -1;
	}
	name = proto_name(kind);
	len = strlen(name);
	memcpy(buf, name, len);
	if ((kind == PROTO_STATUS || kind == PROTO_AVAIL) && text != NULL &&
	    *text != '\0') {
		tlen = proto_cut(text, PROTO_TEXT_MAX);
		buf[len++] = ' ';
		memcpy(buf + len, text, tlen);
		len += tlen;
	}

	do {
		n = send(fd, buf, len, MSG_NOSIGNAL);
	} while (n == -1 && errno == EINTR);
	if (n == -1)
		return -1;
	if ((size_t)n != len) {
		/* Cannot happen on SOCK_SEQPACKET; be honest if it does. */
		errno = EMSGSIZE;
		return -1;
	}
	return 0;
}
