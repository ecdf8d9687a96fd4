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
#include <stdint.h>

struct timeval;

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

/* ms (below 0 counts as 0) as a timeval, for libevent; returns tv. */
struct timeval *ms_timeval(long long ms, struct timeval *tv);

/*
 * A duration for a log line: below a second in ms, above it in seconds to
 * the nearest tenth: "200ms", "8s", "1.5s", "1.2s" (1234 ms), "4s" (3999
 * ms).  Returns buf.
 */
const char *fmt_duration(long long ms, char *buf, size_t len);

/*
 * The delay before a retry, without jitter: min doubled per attempt (0
 * for the first), capped at max (a cap below min wins).  Never overflows.
 */
long long backoff_base(unsigned attempt, long long min, long long max);

/*
 * Exponential back-off: the delay (ms) after attempt failures in a row
 * (0 for the first): min doubled per attempt, capped at max, then
 * jittered into the upper half ([base/2, base], never below min) with
 * rnd, and rounded to 100 ms above one second.  Delays never shrink from
 * one attempt to the next until the cap is reached.
 */
long long backoff_ms(unsigned attempt, long long min, long long max,
	    uint32_t rnd);

/*
 * Untrusted bytes made safe for a log line or a status text, inside
 * double quotes: at most max bytes of in, with \ and \" escaped; \n, \r,
 * \t; other C0 controls, DEL and bytes that are not valid UTF-8 as
 * \xHH; C1 controls (U+0080-U+009F) and the bidi overrides and isolates
 * (U+202A-U+202E, U+2066-U+2069), which reorder what an operator's
 * terminal shows, as \u{HHHH}; any other UTF-8 character as is; "..."
 * appended when cut.  out needs LOG_ESCAPE_SIZE(max) bytes to hold it
 * all; a smaller out cuts it shorter (never mid-escape), and it is
 * always NUL-terminated (unless outlen is 0).  Returns its length.
 */
#define LOG_ESCAPE_SIZE(max)	((max) * 4 + 4)
size_t	 log_escape(const void *in, size_t len, size_t max, char *out,
	    size_t outlen);

#endif
