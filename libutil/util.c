/*
 * util.c: allocation wrappers, error lists, number parsing, clocks.
 *
 * Allocation failure is fatal: a master that cannot allocate cannot keep
 * its promises, and saying so loudly beats limping on.
 */
#include <sys/types.h>

#include <errno.h>
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
