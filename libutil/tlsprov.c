/*
 * tlsprov.c: the OpenSSL provider that the link helpers' TLS runs on, a
 * filter over OpenSSL's default provider that offers, of each kind of
 * algorithm TLS fetches when a context is made, only those a TLS 1.3 link
 * can use.
 *
 * OpenSSL 3 makes every algorithm of a kind the first time one of that
 * kind is fetched: SSL_CTX_new fetches the ciphers of every TLS version
 * and so makes all of the default provider's 130-odd ciphers (method
 * objects, names, locks), and the same for digests, key types,
 * signatures, key exchanges, MACs, KDFs and decoders; a link helper
 * (one per peer) kept about 200 KiB of heap for algorithms it never
 * uses.  Offered here: TLS 1.3's three AEADs, SHA-1 and SHA-2 (a CA may
 * still sign with SHA-1), the key types RSA, RSA-PSS, EC, Ed25519, Ed448,
 * X25519 and X448 with their signatures and key exchanges, HMAC, HKDF and
 * TLS 1.3's KDF, the random generators and the decoders of those key
 * types.  Kinds TLS does not fetch at context creation (encoders, key
 * stores, KEMs, asymmetric ciphers) pass unfiltered: they cost nothing
 * until used.  A key or certificate of another type (DSA, SM2) fails
 * to load, with OpenSSL's reason, as it would with a provider without it.
 *
 * The filter is the only provider of a library context of its own,
 * which tls.c makes its contexts in (SSL_CTX_new_ex): what else the
 * process does with OpenSSL is left as it was.  The default provider it
 * filters is loaded in the process's default context, where the
 * algorithms it implements fetch what they need (a digest for HKDF or a
 * signature).  Both contexts generate random numbers with HASH-DRBG over
 * SHA-256 rather than the default CTR-DRBG, whose AES would make every
 * cipher again in the default context.
 *
 * Only public OpenSSL calls are used.  If the context cannot be made,
 * tls.c uses the default one, as before.
 */
#include <sys/types.h>

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/core.h>
#include <openssl/core_dispatch.h>
#include <openssl/crypto.h>
#include <openssl/provider.h>
#include <openssl/rand.h>

#include "tlsprov.h"

#define TLSPROV_NAME	"linkmaster-tls"
#define TLSPROV_OPS	32	/* above OpenSSL 3's highest operation id */

/* What is kept of each kind, by an algorithm's first name. */
static const struct {
	int		 op;
	const char	*names;	/* ":name:name:" */
} tlsprov_keep[] = {
	{ OSSL_OP_DIGEST, ":SHA1:SHA2-224:SHA2-256:SHA2-384:SHA2-512:" },
	{ OSSL_OP_CIPHER, ":AES-128-GCM:AES-256-GCM:ChaCha20-Poly1305:" },
	{ OSSL_OP_MAC, ":HMAC:" },
	{ OSSL_OP_KDF, ":HKDF:TLS13-KDF:" },
	{ OSSL_OP_RAND, ":HASH-DRBG:CTR-DRBG:SEED-SRC:" },
	{ OSSL_OP_KEYMGMT, ":RSA:RSA-PSS:EC:X25519:X448:ED25519:ED448:HMAC:" },
	{ OSSL_OP_KEYEXCH, ":ECDH:X25519:X448:" },
	{ OSSL_OP_SIGNATURE, ":RSA:ECDSA:ED25519:ED448:HMAC:" },
	{ OSSL_OP_DECODER, ":DER:RSA:RSA-PSS:EC:X25519:X448:ED25519:ED448:" },
};

static struct {
	OSSL_LIB_CTX	*ctx;		/* ours: the filter only */
	OSSL_PROVIDER	*dflt;		/* in the default context */
	int		 tried;
	OSSL_ALGORITHM	*kept[TLSPROV_OPS];	/* made at the first query */
} TP;

static const char *
tlsprov_names(int op)
{
	size_t	 i;

	for (i = 0; i < sizeof(tlsprov_keep) / sizeof(tlsprov_keep[0]); i++)
		if (tlsprov_keep[i].op == op)
			return tlsprov_keep[i].names;
	return NULL;
}

/* Is the first of an algorithm's names ("SHA2-256:SHA-256:...") in keep? */
static int
tlsprov_kept(const char *keep, const char *names)
{
	const char	*p;
	size_t		 n = strcspn(names, ":");

	for (p = keep; (p = strchr(p, ':')) != NULL && p[1] != '\0'; p++)
		if (strncasecmp(p + 1, names, n) == 0 && p[1 + n] == ':')
			return 1;
	return 0;
}

static const OSSL_ALGORITHM *
tlsprov_query(void *provctx, int op, int *no_cache)
{
	const OSSL_ALGORITHM	*all, *a;
	const char		*keep;
	size_t			 n = 0;

	all = OSSL_PROVIDER_query_operation(TP.dflt, op, no_cache);
	if (all == NULL || op < 0 || op >= TLSPROV_OPS ||
	    (keep = tlsprov_names(op)) == NULL)
		return all;
	/*
	 * On the heap, as long as the kind's list: a static table for
	 * every kind (66 KiB of .bss) had a page or two written per kind.
	 */
	if (TP.kept[op] == NULL) {
		for (a = all; a->algorithm_names != NULL; a++)
			n++;
		if ((TP.kept[op] = calloc(n + 1, sizeof(*a))) == NULL)
			return all;
		n = 0;
		for (a = all; a->algorithm_names != NULL; a++)
			if (tlsprov_kept(keep, a->algorithm_names))
				TP.kept[op][n++] = *a;
	}
	*no_cache = 0;
	return TP.kept[op];
}

static int
tlsprov_capabilities(void *provctx, const char *capability,
    OSSL_CALLBACK *cb, void *arg)
{
	return OSSL_PROVIDER_get_capabilities(TP.dflt, capability, cb, arg);
}

static const OSSL_PARAM *
tlsprov_gettable_params(void *provctx)
{
	return OSSL_PROVIDER_gettable_params(TP.dflt);
}

static int
tlsprov_get_params(void *provctx, OSSL_PARAM params[])
{
	return OSSL_PROVIDER_get_params(TP.dflt, params);
}

static const OSSL_DISPATCH tlsprov_dispatch[] = {
	{ OSSL_FUNC_PROVIDER_QUERY_OPERATION, (void (*)(void))tlsprov_query },
	{ OSSL_FUNC_PROVIDER_GET_CAPABILITIES,
	    (void (*)(void))tlsprov_capabilities },
	{ OSSL_FUNC_PROVIDER_GETTABLE_PARAMS,
	    (void (*)(void))tlsprov_gettable_params },
	{ OSSL_FUNC_PROVIDER_GET_PARAMS, (void (*)(void))tlsprov_get_params },
	{ 0, NULL }
};

/* The algorithms are the default provider's, with its context. */
static int
tlsprov_init(const OSSL_CORE_HANDLE *handle, const OSSL_DISPATCH *in,
    const OSSL_DISPATCH **out, void **provctx)
{
	*provctx = OSSL_PROVIDER_get0_provider_ctx(TP.dflt);
	*out = tlsprov_dispatch;
	return 1;
}

OSSL_LIB_CTX *
tlsprov_libctx(void)
{
	if (TP.tried)
		return TP.ctx;
	TP.tried = 1;
	if ((TP.ctx = OSSL_LIB_CTX_new()) == NULL)
		return NULL;
	/* Before either context made its generators: see the top. */
	(void)RAND_set_DRBG_type(TP.ctx, "HASH-DRBG", NULL, NULL, "SHA256");
	(void)RAND_set_DRBG_type(NULL, "HASH-DRBG", NULL, NULL, "SHA256");
	if ((TP.dflt = OSSL_PROVIDER_load(NULL, "default")) == NULL ||
	    OSSL_PROVIDER_add_builtin(TP.ctx, TLSPROV_NAME, tlsprov_init) !=
	    1 || OSSL_PROVIDER_load(TP.ctx, TLSPROV_NAME) == NULL) {
		OSSL_LIB_CTX_free(TP.ctx);
		TP.ctx = NULL;
	}
	return TP.ctx;
}
