/*
 * util.h: allocation that cannot fail (it calls fatal), and error lists.
 *
 * An errlist collects every problem of a parse so that the operator sees all
 * of them at once, each already formatted as "FILE:LINE: message".
 */
#ifndef LM_UTIL_H
#define LM_UTIL_H

#include <stdarg.h>
#include <stddef.h>

#ifndef __dead
#define __dead __attribute__((__noreturn__))
#endif
#define LM_PRINTF(a, b) __attribute__((__format__(__printf__, a, b)))

void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
int	 xasprintf(char **, const char *, ...) LM_PRINTF(2, 3);

struct errlist {
	char	**msg;
	size_t	  n;
	size_t	  cap;
};

void	 errlist_init(struct errlist *);
void	 errlist_add(struct errlist *, const char *, ...) LM_PRINTF(2, 3);
void	 errlist_vadd(struct errlist *, const char *, va_list) LM_PRINTF(2, 0);
void	 errlist_free(struct errlist *);

/* Format into a caller's error buffer (err may be NULL or errlen 0). */
void	 errbuf_set(char *err, size_t errlen, const char *, ...) LM_PRINTF(3, 4);

/* Parse a whole decimal number in [min, max]; trailing junk is an error. */
int	 parse_num(const char *, long long, long long, long long *);

/*
 * A time: a whole number with an optional unit, ms, s, m or h; a bare
 * number means seconds, as in Postfix.  No sign, blanks or fractions.
 * 0 with *ms, -1 when malformed or above max (ms).
 */
int	 parse_time(const char *, long long max, long long *ms);
/* ms with the largest unit that shows it exactly ("0", "2h", "150ms"). */
const char *fmt_time(long long ms, char *buf, size_t len);

/* Milliseconds on the monotonic clock. */
long long now_ms(void);

#endif
