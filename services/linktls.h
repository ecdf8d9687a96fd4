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

#endif
