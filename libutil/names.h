/*
 * names.h: the names and addresses an operator writes, checked by one rule
 * each, wherever they are read (master.cf, linkmaster.conf, "-o listen=",
 * a helper's environment).
 *
 * Nothing here allocates or logs: a check returns what is wrong as a
 * constant string ("bad inet port"), for the caller to put beside the file
 * and line it knows.
 */
#ifndef LM_NAMES_H
#define LM_NAMES_H

#include <stddef.h>

#define PEER_NAME_MAX	255	/* a file name: state_dir/link/NAME */
#define INET_SPEC_MAX	255	/* "[host:]port" */

/*
 * A peer name names a directory (state_dir/link/NAME) and a socket
 * (socket_dir/.../SERVICE/NAME) and goes on the wire in a hello: letters,
 * digits, ".", "_" and "-", at most PEER_NAME_MAX bytes, and not "." or
 * "..".  Returns 1 when name is one; else 0, with *why (when why is not
 * NULL) set to what is wrong.
 */
int	 peer_name_valid(const char *name, const char **why);

/*
 * Where the parts of an inet spec are: offsets into the spec, host_len 0
 * when there is no host (brackets are not part of the host).
 */
struct inet_spec {
	size_t	 host_off, host_len;
	size_t	 port_off, port_len;
};

/*
 * The "[host:]port" / "[v6addr]:port" grammar of inet services.  spec is
 * len bytes and may hold any byte.  A host is letters, digits, ".", "_",
 * "-" (a name or an IPv4 address); in brackets, an IPv6 address with an
 * optional "%scope".  A port is 1..65535 or a service name (a lower-case
 * letter, then lower-case letters, digits and "-").  Returns NULL when
 * spec is well formed (and fills sp, when not NULL), else "bad inet
 * address" or "bad inet port".
 */
const char *inet_spec_check(const char *spec, size_t len,
	    struct inet_spec *sp);

#endif
