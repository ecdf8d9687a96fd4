/*
 * linkproto.c: framing and parsing of the link protocol, shared by link
 * and linkd, plus the little text helpers both log with.
 *
 * Parsing is strict on purpose: a line that is not exactly what the other
 * side should send is a protocol error that drops the link, because a
 * half-understood line could pair a reply with the wrong request.  Ids
 * are plain decimal without sign or leading zero, 1..2^63.  Payloads are
 * opaque: they may hold NUL or \r, so lengths are passed everywhere and
 * nothing calls strlen() on them.  No function here allocates or logs.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <ctype.h>
#include <endian.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "linkproto.h"
#include "util.h"


/* Decimal id at buf[0..len): no sign, no leading zero, 1..2^63. */
static int
linkproto_parse_id(const char *buf, size_t len, uint64_t *id)
{
	uint64_t	 v = 0;
	size_t		 i;

	if (len == 0 || len > 19 || buf[0] == '0')
		return -1;
	for (i = 0; i < len; i++) {
		if (buf[i] < '0' || buf[i] > '9')
			return -1;
		/* 19 digits stay below 2^64: no overflow check needed. */
		v = v * 10 + (uint64_t)(buf[i] - '0');
	}
	if (v > LINKPROTO_ID_MAX)
		return -1;
	*id = v;
	return 0;
}

/*
 * How many of the 8 bytes at p (n >= 8 of them there) are leading
 * decimal digits, with their value in *v.  A word at a time: a byte is
 * a digit when its high nibble is 3 and adding 6 leaves it 3; a carry
 * out of a byte (0xfa and up) only disturbs the bytes after it, which
 * come after a non-digit and are not counted.  The digits, moved to the
 * word's top (leading zeros below them), are added up pairwise: 2, 4,
 * then 8 digits per multiplication.
 */
static int
linkproto_digits8(const char *p, uint64_t *v)
{
	uint64_t	 x, m;
	int		 k;

	memcpy(&x, p, 8);
	x = le64toh(x);
	m = ((x & 0xf0f0f0f0f0f0f0f0ULL) |
	    (((x + 0x0606060606060606ULL) & 0xf0f0f0f0f0f0f0f0ULL) >> 4)) ^
	    0x3333333333333333ULL;
	/* The top bit of each byte of m that is not zero (not a digit). */
	m = (((m & 0x7f7f7f7f7f7f7f7fULL) + 0x7f7f7f7f7f7f7f7fULL) | m) &
	    0x8080808080808080ULL;
	k = m == 0 ? 8 : __builtin_ctzll(m) / 8;
	if (k == 0)
		return 0;
	x = (x << (8 * (8 - k))) & 0x0f0f0f0f0f0f0f0fULL;
	x = (x * 2561) >> 8;
	x = ((x & 0x00ff00ff00ff00ffULL) * 6553601) >> 16;
	*v = ((x & 0x0000ffff0000ffffULL) * 42949672960001ULL) >> 32;
	return k;
}

/*
 * One pass over the id (it runs once per request on each side): digits
 * up to the space, with the checks of linkproto_parse_id, the first 8 a
 * word at a time; the slow path only chooses the reason.
 */
int
linkproto_parse_msg(const char *line, size_t len, uint64_t *id,
    const char **payload, size_t *plen, const char **why)
{
	uint64_t	 v;
	unsigned	 d;
	size_t		 i, lim = len < 19 ? len : 19;

	if (len < 2 || line[0] < '1' || line[0] > '9')
		goto bad;
	if (len >= 8) {
		i = (size_t)linkproto_digits8(line, &v);
		if (i < 8)
			goto space;
	} else {
		v = (uint64_t)(line[0] - '0');
		i = 1;
	}
	/* 19 digits stay below 2^64: no overflow check needed. */
	for (; i < lim && (d = (unsigned)(line[i] - '0')) <= 9; i++)
		v = v * 10 + d;
space:
	if (i == len || line[i] != ' ' || v > LINKPROTO_ID_MAX)
		goto bad;
	i++;
	if (memchr(line + i, '\n', len - i) != NULL) {
		*why = "newline inside the line";
		return -1;
	}
	*id = v;
	*payload = line + i;
	*plen = len - i;
	return 0;
bad:
	*why = memchr(line, ' ', len) == NULL ? "no space after the id" :
	    "bad id";
	return -1;
}

/*
 * By hand: it runs twice per request, and snprintf was a hot spot.  Two
 * digits per division (from a table of "00" to "99"), written from the
 * end of a scratch buffer, then copied once.
 */
static const char linkproto_pairs[201] =
	"0001020304050607080910111213141516171819"
	"2021222324252627282930313233343536373839"
	"4041424344454647484950515253545556575859"
	"6061626364656667686970717273747576777879"
	"8081828384858687888990919293949596979899";

size_t
linkproto_format_hdr(char *buf, size_t len, uint64_t id)
{
	char		 digits[20];
	char		*p = digits + sizeof(digits);
	size_t		 n, k;

	while (id >= 100) {
		k = (size_t)(id % 100) * 2;
		id /= 100;
		*--p = linkproto_pairs[k + 1];
		*--p = linkproto_pairs[k];
	}
	if (id >= 10) {
		*--p = linkproto_pairs[id * 2 + 1];
		*--p = linkproto_pairs[id * 2];
	} else
		*--p = (char)('0' + id);
	n = (size_t)(digits + sizeof(digits) - p);
	if (n + 2 > len)
		return 0;
	memcpy(buf, p, n);
	buf[n] = ' ';
	buf[n + 1] = '\0';
	return n + 1;
}

int
linkproto_name_ok(const char *name, size_t len)
{
	size_t	 i;

	if (len == 0 || len > LINKPROTO_NAME_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)name[i]) && name[i] != '.' &&
		    name[i] != '_' && name[i] != '-')
			return 0;
	return 1;
}

int
linkproto_is_critical(const char *line, size_t len)
{
	size_t	 n = sizeof(LINKPROTO_CRITICAL) - 1;

	return len >= n && memcmp(line, LINKPROTO_CRITICAL, n) == 0;
}

/* Copy len bytes to a NUL-terminated out, cut to outlen - 1. */
static void
linkproto_copy(const char *s, size_t len, char *out, size_t outlen)
{
	if (outlen == 0)
		return;
	if (len >= outlen)
		len = outlen - 1;
	memcpy(out, s, len);
	out[len] = '\0';
}

int
linkproto_parse_hello(const char *line, size_t len, char *name,
    size_t namelen, const char **why)
{
	const char	*p, *end = line + len, *sp;
	uint64_t	 version;

	if (namelen > 0)
		name[0] = '\0';
	if (len < 6 || memcmp(line, "HELLO ", 6) != 0) {
		*why = "not a hello";
		return -1;
	}
	p = line + 6;
	if ((sp = memchr(p, ' ', (size_t)(end - p))) == NULL ||
	    linkproto_parse_id(p, (size_t)(sp - p), &version) == -1) {
		*why = "bad hello";
		return -1;
	}
	p = sp + 1;
	if (!linkproto_name_ok(p, (size_t)(end - p)) ||
	    (size_t)(end - p) >= namelen) {
		*why = "bad name in hello";
		return -1;
	}
	if (version != LINKPROTO_VERSION) {
		*why = "unsupported version";
		return -2;
	}
	linkproto_copy(p, (size_t)(end - p), name, namelen);
	return 0;
}

enum linkproto_answer
linkproto_parse_answer(const char *line, size_t len, char *text,
    size_t textlen)
{
	const char	*p, *end = line + len;
	size_t		 i;

	if (textlen > 0)
		text[0] = '\0';
	if (len == 3 && memcmp(line, "ERR", 3) == 0)
		return LINKPROTO_ERR;
	if (len > 4 && memcmp(line, "ERR ", 4) == 0) {
		/* The reason is for a log line: no control bytes. */
		for (i = 4; i < len; i++)
			if ((unsigned char)line[i] < 0x20 ||
			    line[i] == 0x7f)
				return LINKPROTO_BAD;
		linkproto_copy(line + 4, len - 4, text, textlen);
		return LINKPROTO_ERR;
	}
	if (len < 5 || memcmp(line, "OK 1 ", 5) != 0)
		return LINKPROTO_BAD;
	p = line + 5;
	if (!linkproto_name_ok(p, (size_t)(end - p)))
		return LINKPROTO_BAD;
	linkproto_copy(p, (size_t)(end - p), text, textlen);
	return LINKPROTO_OK;
}

/* The one escaper (libutil), with the protocol's historical name. */
void
linkproto_excerpt(const char *buf, size_t len, size_t max, char *out,
    size_t outlen)
{
	(void)log_escape(buf, len, max, out, outlen);
}

void
linkproto_errstr(int e, char *buf, size_t len)
{
	if (len == 0)
		return;
	strlcpy(buf, strerror(e), len);
	buf[0] = (char)tolower((unsigned char)buf[0]);
}

/*
 * Both ends of a link: small request lines, so latency matters more than
 * packet count (TCP_NODELAY); and a peer that vanished without a FIN is
 * noticed within about two minutes (keepalive 60 s, then 6 probes 10 s
 * apart) rather than never.
 */
void
linkproto_sockopts(int fd)
{
	int	 on = 1, idle = 60, intvl = 10, cnt = 6;

	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	(void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl,
	    sizeof(intvl));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
}
