/*
 * util.c: allocation wrappers, error lists, number parsing, clocks, and
 * the small helpers every side shares (back-off, durations, log escaping).
 *
 * Allocation failure is fatal: a master that cannot allocate cannot keep
 * its promises, and saying so loudly beats limping on.
 */
#include <sys/types.h>
#include <sys/time.h>

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "util.h"

void *
xmalloc(size_t n)
{
	void	*p;

	if ((p = malloc(n == 0 ? 1 : n)) == NULL)
		fatal("malloc %zu", n);
	return p;
}

void *
xcalloc(size_t n, size_t sz)
{
	void	*p;

	if ((p = calloc(n == 0 ? 1 : n, sz == 0 ? 1 : sz)) == NULL)
		fatal("calloc %zu", n);
	return p;
}

void *
xreallocarray(void *old, size_t n, size_t sz)
{
	void	*p;

	if ((p = reallocarray(old, n == 0 ? 1 : n, sz == 0 ? 1 : sz)) == NULL)
		fatal("reallocarray %zu", n);
	return p;
}

char *
xstrdup(const char *s)
{
	char	*p;

	if ((p = strdup(s)) == NULL)
		fatal("strdup");
	return p;
}

char *
xstrndup(const char *s, size_t n)
{
	char	*p;

	if ((p = strndup(s, n)) == NULL)
		fatal("strndup");
	return p;
}

int
xasprintf(char **ret, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vasprintf(ret, fmt, ap);
	va_end(ap);
	if (n < 0)
		fatal("vasprintf");
	return n;
}

void
errlist_init(struct errlist *e)
{
	e->msg = NULL;
	e->n = e->cap = 0;
}

void
errlist_vadd(struct errlist *e, const char *fmt, va_list ap)
{
	char	*m;

	if (vasprintf(&m, fmt, ap) < 0)
		fatal("vasprintf");
	if (e->n == e->cap) {
		e->cap = e->cap ? e->cap * 2 : 8;
		e->msg = xreallocarray(e->msg, e->cap, sizeof(*e->msg));
	}
	e->msg[e->n++] = m;
}

void
errlist_add(struct errlist *e, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	errlist_vadd(e, fmt, ap);
	va_end(ap);
}

void
errlist_free(struct errlist *e)
{
	size_t	 i;

	for (i = 0; i < e->n; i++)
		free(e->msg[i]);
	free(e->msg);
	errlist_init(e);
}

void
errbuf_set(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	 ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

int
parse_num(const char *s, long long min, long long max, long long *out)
{
	char		*end;
	long long	 v;

	if (*s == '\0' || *s == '+' || *s == ' ' || *s == '\t')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int
parse_time(const char *s, long long max, long long *ms)
{
	long long	 v = 0, mult;
	const char	*p;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	for (p = s; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (*p - '0');
		/* Checked at each digit: no overflow, whatever the unit. */
		if (v > max)
			return -1;
	}
	if (*p == '\0' || strcmp(p, "s") == 0)
		mult = 1000;
	else if (strcmp(p, "ms") == 0)
		mult = 1;
	else if (strcmp(p, "m") == 0)
		mult = 60 * 1000;
	else if (strcmp(p, "h") == 0)
		mult = 3600 * 1000;
	else
		return -1;
	if (v > max / mult)
		return -1;
	*ms = v * mult;
	return 0;
}

const char *
fmt_time(long long ms, char *buf, size_t len)
{
	if (ms == 0)
		(void)snprintf(buf, len, "0");
	else if (ms % (3600 * 1000) == 0)
		(void)snprintf(buf, len, "%lldh", ms / (3600 * 1000));
	else if (ms % (60 * 1000) == 0)
		(void)snprintf(buf, len, "%lldm", ms / (60 * 1000));
	else if (ms % 1000 == 0)
		(void)snprintf(buf, len, "%llds", ms / 1000);
	else
		(void)snprintf(buf, len, "%lldms", ms);
	return buf;
}

long long
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct timeval *
ms_timeval(long long ms, struct timeval *tv)
{
	if (ms < 0)
		ms = 0;
	tv->tv_sec = ms / 1000;
	tv->tv_usec = (ms % 1000) * 1000;
	return tv;
}

const char *
fmt_duration(long long ms, char *buf, size_t len)
{
	long long	 tenths;

	if (ms < 1000) {
		(void)snprintf(buf, len, "%lldms", ms);
		return buf;
	}
	/*
	 * Above a second, to the nearest tenth: what it says is a delay
	 * with jitter or a countdown, and "in 3.5s" reads at a glance where
	 * "in 3.456s" claims a precision nobody has.
	 */
	tenths = (ms + 50) / 100;
	if (tenths % 10 == 0)
		(void)snprintf(buf, len, "%llds", tenths / 10);
	else
		(void)snprintf(buf, len, "%lld.%llds", tenths / 10,
		    tenths % 10);
	return buf;
}

long long
backoff_base(unsigned attempt, long long min, long long max)
{
	long long	 base = min;
	unsigned	 i;

	for (i = 0; i < attempt && base < max; i++)
		base = base > max / 2 ? max : base * 2;
	return base > max ? max : base;
}

long long
backoff_ms(unsigned attempt, long long min, long long max, uint32_t rnd)
{
	long long	 base, half, delay;

	if (min < 1)
		min = 1;
	if (max < min)
		max = min;
	base = backoff_base(attempt, min, max);
	half = base / 2;
	delay = half + (long long)(rnd % (uint32_t)(base - half + 1));
	/* Whole tenths of a second read better in "retry in 1.6s". */
	if (delay >= 1000)
		delay = (delay + 50) / 100 * 100;
	if (delay < min)
		delay = min;
	if (delay > max)
		delay = max;
	return delay;
}

/*
 * The length of the valid UTF-8 sequence at p (at most n bytes), with
 * its code point: shortest form only, no surrogates, at most U+10FFFF.
 * 0 when it is not one.
 */
static size_t
utf8_seq(const unsigned char *p, size_t n, uint32_t *cp)
{
	size_t		 len, i;
	uint32_t	 c;

	if (p[0] < 0x80)
		return 0;
	else if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		len = 2;
		c = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3;
		c = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4;
		c = p[0] & 0x07;
	} else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (p[i] & 0x3f);
	}
	if ((len == 3 && c < 0x800) || (len == 4 && c < 0x10000) ||
	    (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
		return 0;
	*cp = c;
	return len;
}

size_t
log_escape(const void *in, size_t len, size_t max, char *out, size_t outlen)
{
	const unsigned char	*p = in;
	size_t			 i = 0, o = 0, show, n, el;
	uint32_t		 cp;
	char			 esc[16];

	if (outlen == 0)
		return 0;
	show = len < max ? len : max;
	while (i < show) {
		n = 1;
		if (p[i] == '\\' || p[i] == '"')
			(void)snprintf(esc, sizeof(esc), "\\%c", p[i]);
		else if (p[i] == '\n')
			strlcpy(esc, "\\n", sizeof(esc));
		else if (p[i] == '\r')
			strlcpy(esc, "\\r", sizeof(esc));
		else if (p[i] == '\t')
			strlcpy(esc, "\\t", sizeof(esc));
		else if (p[i] < 0x20 || p[i] == 0x7f)
			(void)snprintf(esc, sizeof(esc), "\\x%02x", p[i]);
		else if (p[i] < 0x80) {
			esc[0] = (char)p[i];
			esc[1] = '\0';
		} else if ((n = utf8_seq(p + i, show - i, &cp)) == 0) {
			/* Not UTF-8, or cut by max: byte by byte. */
			n = 1;
			(void)snprintf(esc, sizeof(esc), "\\x%02x", p[i]);
		} else if (cp <= 0x9f || (cp >= 0x202a && cp <= 0x202e) ||
		    (cp >= 0x2066 && cp <= 0x2069))
			(void)snprintf(esc, sizeof(esc), "\\u{%04" PRIx32 "}",
			    cp);
		else {
			memcpy(esc, p + i, n);
			esc[n] = '\0';
		}
		el = strlen(esc);
		/* Room for "..." and the NUL after it, always. */
		if (o + el + 4 > outlen)
			break;
		memcpy(out + o, esc, el);
		o += el;
		i += n;
	}
	if (i < len && o + 4 <= outlen) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
	return o;
}
