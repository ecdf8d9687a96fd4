/*
 * fuzz_linkproto.c: libFuzzer target for what a link reads from the
 * network and from its children: the link protocol's lines (link and
 * linkd, services/linkproto.c) and the status channel's messages
 * (libutil/proto.c).
 *
 * Built and run by "make fuzz" (clang); "make check" runs it over
 * tests/fuzz/corpus/linkproto through tests/fuzz/fuzz_main.c.
 *
 * The input is one line as it would arrive (without its newline).  Every
 * parser must take it without a crash, and what one accepts must be
 * exactly what the other side would have sent: an accepted message or
 * hello prints back to the same bytes, a payload or name lies inside the
 * line, an id is 1..2^63, and a log excerpt of it is printable (no control,
 * C1 or bidi override character), bounded
 * and, when it is whole, unescapes to the line.  A violation aborts, so
 * the fuzzer keeps the input.
 */
#include <sys/types.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "linkproto.h"
#include "proto.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define FZ_OUT	(LINKPROTO_EXCERPT * 4 + 4)

static void
fuzz_check(int ok)
{
	if (!ok)
		abort();
}

/* "<id> <payload>": accepted only as link and linkd would write it. */
static void
fuzz_msg(const char *line, size_t len)
{
	const char	*payload = NULL, *why = NULL;
	char		 hdr[LINKPROTO_HDR_MAX + 1];
	uint64_t	 id = 0;
	size_t		 plen = 0, hlen;

	if (linkproto_parse_msg(line, len, &id, &payload, &plen, &why) == -1) {
		fuzz_check(why != NULL);
		return;
	}
	fuzz_check(id >= 1 && id <= LINKPROTO_ID_MAX);
	fuzz_check(payload >= line && payload + plen == line + len);
	fuzz_check(memchr(payload, '\n', plen) == NULL);
	hlen = linkproto_format_hdr(hdr, sizeof(hdr), id);
	fuzz_check(hlen > 0 && hlen + plen == len &&
	    memcmp(hdr, line, hlen) == 0);
}

/* "HELLO 1 <name>" and "OK 1 <name>" / "ERR <reason>". */
static void
fuzz_hello(const char *line, size_t len)
{
	char		 name[LINKPROTO_NAME_MAX + 1], text[64];
	const char	*why = NULL;
	size_t		 n;
	int		 r;

	r = linkproto_parse_hello(line, len, name, sizeof(name), &why);
	if (r != 0)
		fuzz_check((r == -1 || r == -2) && why != NULL);
	else {
		n = strlen(name);
		fuzz_check(linkproto_name_ok(name, n));
		fuzz_check(len == 8 + n && memcmp(line, "HELLO 1 ", 8) == 0 &&
		    memcmp(line + 8, name, n) == 0);
	}
	switch (linkproto_parse_answer(line, len, text, sizeof(text))) {
	case LINKPROTO_OK:
		n = strlen(text);
		fuzz_check(len >= 5 && memcmp(line, "OK 1 ", 5) == 0);
		fuzz_check(memcmp(line + 5, text, n) == 0 &&
		    (n == len - 5 || n == sizeof(text) - 1));
		break;
	case LINKPROTO_ERR:
		n = strlen(text);
		fuzz_check(len >= 3 && memcmp(line, "ERR", 3) == 0);
		fuzz_check(n == 0 || memcmp(line + 4, text, n) == 0);
		for (; n > 0; n--)
			fuzz_check((unsigned char)text[n - 1] >= 0x20 &&
			    text[n - 1] != 0x7f);
		break;
	case LINKPROTO_BAD:
		fuzz_check(text[0] == '\0');
		break;
	default:
		abort();
	}
}

/* Undo linkproto_excerpt's escapes: the length, or -1 if malformed. */
static long
fuzz_unescape(const char *s, char *out)
{
	unsigned long	 cp;
	long		 n = 0;
	char		 hex[3], *end;

	while (*s != '\0') {
		if (*s != '\\') {
			out[n++] = *s++;
			continue;
		}
		switch (s[1]) {
		case '\\':
		case '"':
			out[n++] = s[1];
			break;
		case 'n':
			out[n++] = '\n';
			break;
		case 'r':
			out[n++] = '\r';
			break;
		case 't':
			out[n++] = '\t';
			break;
		case 'u':
			/* \u{HHHH}: the code point back in UTF-8. */
			if (s[2] != '{' || (cp = strtoul(s + 3, &end,
			    16)) > 0x10ffff || *end != '}')
				return -1;
			if (cp < 0x800) {
				out[n++] = (char)(0xc0 | cp >> 6);
				out[n++] = (char)(0x80 | (cp & 0x3f));
			} else {
				out[n++] = (char)(0xe0 | cp >> 12);
				out[n++] = (char)(0x80 | ((cp >> 6) & 0x3f));
				out[n++] = (char)(0x80 | (cp & 0x3f));
			}
			s = end - 1;
			break;
		case 'x':
			if (s[2] == '\0' || s[3] == '\0')
				return -1;
			hex[0] = s[2];
			hex[1] = s[3];
			hex[2] = '\0';
			out[n++] = (char)strtoul(hex, NULL, 16);
			s += 2;
			break;
		default:
			return -1;
		}
		s += 2;
	}
	return n;
}

/* What a log line shows of an untrusted line. */
static void
fuzz_excerpt(const char *line, size_t len)
{
	char		 out[FZ_OUT], back[FZ_OUT];
	size_t		 outlen, i, n;
	long		 m;
	unsigned char	 c;

	/* Every size of output buffer, from none to enough. */
	for (outlen = 0; outlen <= sizeof(out); outlen += 7) {
		memset(out, 'Z', sizeof(out));
		linkproto_excerpt(line, len, LINKPROTO_EXCERPT, out, outlen);
		if (outlen == 0) {
			fuzz_check(out[0] == 'Z');
			continue;
		}
		n = strnlen(out, outlen);
		fuzz_check(n < outlen);
		for (i = 0; i < n; i++) {
			c = (unsigned char)out[i];
			fuzz_check(c >= 0x20 && c != 0x7f);
			/* No C1 control, no bidi override or isolate. */
			fuzz_check(!(c == 0xc2 && i + 1 < n &&
			    (unsigned char)out[i + 1] <= 0x9f));
			fuzz_check(!(c == 0xe2 && i + 2 < n &&
			    (unsigned char)out[i + 1] == 0x80 &&
			    (unsigned char)out[i + 2] >= 0xaa &&
			    (unsigned char)out[i + 2] <= 0xae));
			fuzz_check(!(c == 0xe2 && i + 2 < n &&
			    (unsigned char)out[i + 1] == 0x81 &&
			    (unsigned char)out[i + 2] >= 0xa6 &&
			    (unsigned char)out[i + 2] <= 0xa9));
		}
	}
	linkproto_excerpt(line, len, LINKPROTO_EXCERPT, out, sizeof(out));
	if (len <= LINKPROTO_EXCERPT) {
		m = fuzz_unescape(out, back);
		fuzz_check(m == (long)len && memcmp(back, line, len) == 0);
	}
}

/* A status message from a child, as the master parses it. */
static void
fuzz_status(const char *buf, size_t len)
{
	const char	*text = NULL;
	size_t		 tlen = 0;
	int		 n;

	switch (proto_parse(buf, len, &text, &tlen)) {
	case PROTO_AVAIL:
		n = proto_count(text, tlen);
		fuzz_check(n >= 1 && n <= PROTO_COUNT_MAX);
		/* FALLTHROUGH */
	case PROTO_STATUS:
		fuzz_check(tlen == 0 || (text >= buf && text + tlen <= buf +
		    len));
		break;
	case PROTO_READY:
	case PROTO_TAKEN:
	case PROTO_HANDOFF:
		fuzz_check(text == NULL && tlen == 0);
		break;
	case PROTO_BAD:
		break;
	default:
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*line = (const char *)data;

	fuzz_msg(line, size);
	fuzz_hello(line, size);
	fuzz_excerpt(line, size);
	fuzz_status(line, size);
	(void)linkproto_is_critical(line, size);
	return 0;
}
