/*
 * tlsgen.h: make keys and certificates (OpenSSL 3), for "linkmaster
 * tls-init" and for the tests that need a CA, a wrong CA or an expired
 * certificate without committing a private key.
 */
#ifndef LM_TLSGEN_H
#define LM_TLSGEN_H

#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

struct config;

/* A new ECDSA P-256 key; NULL (OpenSSL's queue has why) on failure. */
EVP_PKEY	*tlsgen_key(void);
/*
 * A certificate for key, subject CN = name, valid from notbefore to
 * notafter.  ca: a CA certificate (basicConstraints CA:TRUE, keyCertSign)
 * without subjectAltName; else a host's, subjectAltName DNS:name, for
 * TLS servers and clients.  Signed by issuer_key as issuer, or
 * self-signed when issuer is NULL.  NULL on failure.
 */
X509		*tlsgen_cert(EVP_PKEY *key, const char *name, int ca,
		    time_t notbefore, time_t notafter, X509 *issuer,
		    EVP_PKEY *issuer_key);
/*
 * Write key (mode 0600) and/or cert (0644) as PEM to new files: an
 * existing file is never overwritten.  Either may be NULL.  0, or -1 with
 * err set and nothing left behind.
 */
int		 tlsgen_write(const char *keyfile, EVP_PKEY *key,
		    const char *certfile, X509 *cert, char *err,
		    size_t errlen);

/* The commands: tls-init and tls-fingerprint.  Exit codes. */
int		 tlsgen_init(const struct config *);
int		 tlsgen_fingerprint(const struct config *);

#endif
