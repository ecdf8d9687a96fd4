/*
 * tlsprov.h: the OpenSSL provider of the link helpers' TLS, the default
 * provider's algorithms that TLS 1.3 can use (tlsprov.c).
 */
#ifndef LM_TLSPROV_H
#define LM_TLSPROV_H

#include <openssl/types.h>

/*
 * The library context whose only provider is tlsprov's, made at the first
 * call (after OpenSSL's initialisation: loading the default provider
 * must not read openssl.cnf); NULL if it cannot be, for OpenSSL's
 * default context.
 */
OSSL_LIB_CTX	*tlsprov_libctx(void);

#endif
