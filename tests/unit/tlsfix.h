/*
 * tlsfix.h: the keys and certificates of the TLS unit tests
 * (tests/unit/tlsfix.c), made at test time by tlsgen in a temp dir of
 * their own: no private key is committed.  Any failure fails the test.
 */
#ifndef LM_TLSFIX_H
#define LM_TLSFIX_H

#include <limits.h>
#include <time.h>

extern char	 tlsfix_dir[PATH_MAX];

/* A fresh /tmp/PREFIX.XXXXXX for the files; removed whole by teardown. */
void	 tlsfix_setup(const char *prefix);
void	 tlsfix_teardown(void);
/* dir/name; the last four results stay valid. */
char	*tlsfix_path(const char *name);
/* name.key and name.crt: a CA valid from yesterday for 90 days. */
void	 tlsfix_ca(const char *name);
/*
 * name.key and name.crt: a host certificate for cn, valid from..to,
 * signed by the CA ca (ca.key, ca.crt), or self-signed when ca is NULL.
 */
void	 tlsfix_host(const char *name, const char *cn, const char *ca,
	    time_t from, time_t to);
/*
 * The same for a key of OpenSSL's type ("RSA" of 2048 bits, "ED25519",
 * "DSA"),
 * signed by the CA ca, valid from yesterday for 90 days.
 */
void	 tlsfix_host_type(const char *name, const char *type, const char *cn,
	    const char *ca);
/* The fingerprint of name.crt into fp (TLS_FP_LEN + 1 bytes). */
void	 tlsfix_fingerprint(const char *name, char *fp);

#endif
