/*
 * linktls.h: the TLS context of a link helper (link or linkd), made from
 * linkmaster.conf's tls_key, tls_cert and tls_ca, see linktls.c.
 */
#ifndef LM_LINKTLS_H
#define LM_LINKTLS_H

#include <stddef.h>

#include "tls.h"

/*
 * The context for new connections: the one made before while the three
 * files are the same (path, device, inode, size, modification time),
 * else a new one (*renewed set; may be NULL).  The helper keeps it; a
 * connection takes its own reference (tls_new), so that one made before
 * a rotation lives on with the old key.  NULL with the reason in err when
 * a new one cannot be made (the old one is dropped then too: the files
 * on disk are what is wanted).
 */
struct tls_ctx	*linktls_ctx(enum tls_role, const char *key, const char *cert,
		    const char *ca, int *renewed, char *err, size_t errlen);

/*
 * A TLS link t has just come up: give back what its handshake left
 * behind, the record buffers and free heap (malloc_trim), and drop this
 * process's page-table entries for the executable's read-only segments
 * (code, read-only data; never a writable or RELRO one), so that an idle
 * helper does not count in its VmRSS the code and tables it ran for the
 * handshake.  The pages stay in the page cache, shared: what the link
 * runs next is mapped again at its first use.
 */
void		 linktls_settle(struct tls *t);

#endif
