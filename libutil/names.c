/*
 * names.c: one rule for each kind of name an operator writes.
 *
 * The master, "linkmaster check", the service library and the helpers all
 * ask here, so a name that check accepts is one every later reader
 * accepts too: a peer name cannot pass check and then be refused by the
 * link helper, and an inet address cannot bind in a helper's "-o listen="
 * but fail in master.cf.  The checks only look at bytes (no lookup, no
 * allocation); a spec may hold any byte, NUL included, and is rejected,
 * never cut short, by a byte that does not belong.
 */
#include <sys/types.h>

#include <string.h>

#include "names.h"

static int
names_is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int
names_is_alnum(char c)
{
	return names_is_digit(c) || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z');
}

/* A host name or IPv4 address, as far as its bytes go. */
static int
names_host_ok(const char *h, size_t len)
{
	size_t	 i;

	if (len == 0)
		return 0;
	for (i = 0; i < len; i++)
		if (!names_is_alnum(h[i]) && h[i] != '.' && h[i] != '_' &&
		    h[i] != '-')
			return 0;
	return 1;
}

/* What goes in brackets: hex digits, ":" and "." (v4-mapped), "%scope". */
static int
names_v6_ok(const char *h, size_t len)
{
	size_t	 i;
	int	 colons = 0;

	for (i = 0; i < len && h[i] != '%'; i++) {
		if (h[i] == ':')
			colons++;
		else if (!names_is_digit(h[i]) && h[i] != '.' &&
		    !((h[i] >= 'a' && h[i] <= 'f') ||
		    (h[i] >= 'A' && h[i] <= 'F')))
			return 0;
	}
	if (colons == 0)
		return 0;
	if (i == len)
		return 1;
	/* A scope: an interface name or number after the "%". */
	return names_host_ok(h + i + 1, len - i - 1);
}

/* 1..65535, or a service name: "smtp", "x11-ssh" (not "9p", not "-1"). */
static int
names_port_ok(const char *p, size_t len)
{
	size_t	 i;
	long	 v = 0;

	if (len == 0)
		return 0;
	if (names_is_digit(p[0])) {
		for (i = 0; i < len; i++) {
			if (!names_is_digit(p[i]))
				return 0;
			v = v * 10 + (p[i] - '0');
			if (v > 65535)
				return 0;
		}
		return v >= 1;
	}
	if (p[0] < 'a' || p[0] > 'z')
		return 0;
	for (i = 0; i < len; i++)
		if (!names_is_digit(p[i]) && !(p[i] >= 'a' && p[i] <= 'z') &&
		    p[i] != '-')
			return 0;
	return 1;
}

static const char *
names_last_colon(const char *p, size_t len)
{
	while (len > 0)
		if (p[--len] == ':')
			return p + len;
	return NULL;
}

const char *
inet_spec_check(const char *spec, size_t len, struct inet_spec *sp)
{
	struct inet_spec	 s;
	const char		*close, *colon;

	memset(&s, 0, sizeof(s));
	if (len == 0 || len > INET_SPEC_MAX)
		return "bad inet address";
	if (spec[0] == '[') {
		/* "[addr]:port": the brackets are what allow colons. */
		if ((close = memchr(spec, ']', len)) == NULL ||
		    (size_t)(close - spec) + 1 >= len || close[1] != ':')
			return "bad inet address";
		s.host_off = 1;
		s.host_len = (size_t)(close - spec) - 1;
		if (!names_v6_ok(spec + 1, s.host_len))
			return "bad inet address";
		s.port_off = (size_t)(close - spec) + 2;
	} else if ((colon = names_last_colon(spec, len)) != NULL) {
		/* "host:port"; an empty host (":80") is no wildcard. */
		s.host_len = (size_t)(colon - spec);
		if (!names_host_ok(spec, s.host_len))
			return "bad inet address";
		s.port_off = s.host_len + 1;
	}
	s.port_len = len - s.port_off;
	if (s.port_len == 0)
		return "bad inet address";
	if (!names_port_ok(spec + s.port_off, s.port_len))
		return "bad inet port";
	if (sp != NULL)
		*sp = s;
	return NULL;
}

int
peer_name_valid(const char *name, const char **why)
{
	const char	*w = NULL;
	size_t		 i, len;

	len = strlen(name);
	if (len == 0)
		w = "empty name";
	else if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		w = "\".\" and \"..\" are not names (a peer's name is a "
		    "directory's)";
	else if (len > PEER_NAME_MAX)
		w = "longer than 255 characters";
	else
		for (i = 0; i < len; i++)
			if (!names_is_alnum(name[i]) && name[i] != '.' &&
			    name[i] != '_' && name[i] != '-') {
				w = "use letters, digits, \".\", \"_\" and "
				    "\"-\"";
				break;
			}
	if (why != NULL)
		*why = w;
	return w == NULL;
}
