/*
 * linkproto.h: the line protocol between link and linkd, and the small
 * pieces of text handling both sides share (see linkmaster-link(8)).
 *
 *	link -> linkd	HELLO 1 <hostname>
 *	linkd -> link	OK 1 <hostname>	or	ERR <reason>
 *	link -> linkd	<id> <payload>	(id 1..2^63, decimal)
 *	linkd -> link	<id> <payload>
 *
 * Every line ends in \n; a payload is any bytes but \n, possibly none.
 * Nothing here allocates or logs: parsers point into the caller's buffer
 * and say what was wrong in a static string.
 */
#ifndef LM_LINKPROTO_H
#define LM_LINKPROTO_H

#include <stddef.h>
#include <stdint.h>

#define LINKPROTO_VERSION	1
#define LINKPROTO_ID_MAX	((uint64_t)1 << 63)
/* "<id> ": 19 digits at most (2^63 has 19) and the space. */
#define LINKPROTO_HDR_MAX	21
#define LINKPROTO_NAME_MAX	255	/* host and peer names */
#define LINKPROTO_CRITICAL	"critical:"
#define LINKPROTO_EXCERPT	64	/* of a bad line, logged */
#define LINKPROTO_TIME_MAX	(24LL * 3600 * 1000)	/* ms: a day */

enum linkproto_answer {
	LINKPROTO_BAD = 0,
	LINKPROTO_OK,		/* OK 1 <name> */
	LINKPROTO_ERR,		/* ERR <reason> */
};

/*
 * "<id> <payload>": 0 with *id and the payload (pointing into line),
 * -1 with *why when malformed.  line has no newline; len is its length.
 */
int	 linkproto_parse_msg(const char *line, size_t len, uint64_t *id,
	    const char **payload, size_t *plen, const char **why);
/* "<id> " into buf (LINKPROTO_HDR_MAX + 1 bytes); returns its length. */
size_t	 linkproto_format_hdr(char *buf, size_t len, uint64_t id);

/*
 * "HELLO 1 <name>": 0 with the name copied to name (NUL-terminated),
 * -1 malformed, -2 a version we do not speak; *why says which.
 */
int	 linkproto_parse_hello(const char *line, size_t len, char *name,
	    size_t namelen, const char **why);
/*
 * "OK 1 <name>" or "ERR <reason>": the kind, with the name or reason
 * copied to text (NUL-terminated, cut to textlen - 1).
 */
enum linkproto_answer linkproto_parse_answer(const char *line, size_t len,
	    char *text, size_t textlen);

/* A host or peer name: 1..255 of letters, digits and "._-". */
int	 linkproto_name_ok(const char *name, size_t len);
/* A payload is critical when it starts with "critical:". */
int	 linkproto_is_critical(const char *line, size_t len);

/*
 * An excerpt of untrusted bytes for a log line: log_escape() (libutil)
 * of at most max bytes of it (LINKPROTO_EXCERPT for a bad line).  out
 * needs LOG_ESCAPE_SIZE(max) bytes to hold it all.
 */
void	 linkproto_excerpt(const char *buf, size_t len, size_t max,
	    char *out, size_t outlen);

/* strerror(e) with its first letter lowercased ("connection refused"). */
void	 linkproto_errstr(int e, char *buf, size_t len);

/* TCP options both ends of a link set (nodelay, keepalive). */
void	 linkproto_sockopts(int);

#endif
