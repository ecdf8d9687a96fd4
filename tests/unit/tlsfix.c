/*
 * tlsfix.c: the keys and certificates of the TLS unit tests
 * (check_tls.c, check_lconntls.c), made by master/tlsgen.c in a temp dir
 * that teardown removes.  Nothing here returns an error: a file that
 * cannot be made fails the test that asked for it, with the reason.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <check.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "tls.h"
#include "tlsgen.h"
#include "tlsfix.h"

#define DAY	86400

char	 tlsfix_dir[PATH_MAX];

static int
tlsfix_rm(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
	return remove(path);
}

void
tlsfix_setup(const char *prefix)
{
	char	 tmpl[PATH_MAX];

	snprintf(tmpl, sizeof(tmpl), "/tmp/%s.XXXXXX", prefix);
	ck_assert_ptr_nonnull(mkdtemp(tmpl));
	ck_assert_ptr_nonnull(realpath(tmpl, tlsfix_dir));
}

void
tlsfix_teardown(void)
{
	if (tlsfix_dir[0] != '\0')
		nftw(tlsfix_dir, tlsfix_rm, 16, FTW_DEPTH | FTW_PHYS);
	tlsfix_dir[0] = '\0';
}

char *
tlsfix_path(const char *name)
{
	static char	 buf[4][PATH_MAX + 64];
	static int	 i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", tlsfix_dir, name);
	return buf[i];
}

/* Write name.key and name.crt. */
static void
tlsfix_write(const char *name, EVP_PKEY *key, X509 *x)
{
	char	 kf[64], cf[64], err[256];

	snprintf(kf, sizeof(kf), "%s.key", name);
	snprintf(cf, sizeof(cf), "%s.crt", name);
	ck_assert_msg(tlsgen_write(tlsfix_path(kf), key, tlsfix_path(cf), x,
	    err, sizeof(err)) == 0, "%s", err);
}

void
tlsfix_ca(const char *name)
{
	EVP_PKEY	*key;
	X509		*x;
	time_t		 now = time(NULL);

	ck_assert_ptr_nonnull(key = tlsgen_key());
	ck_assert_ptr_nonnull(x = tlsgen_cert(key, name, 1, now - DAY,
	    now + 90 * DAY, NULL, NULL));
	tlsfix_write(name, key, x);
	X509_free(x);
	EVP_PKEY_free(key);
}

/* name.key and name.crt for key (taken), as tlsfix_host says. */
static void
tlsfix_host_key(const char *name, EVP_PKEY *key, const char *cn,
    const char *ca, time_t from, time_t to)
{
	EVP_PKEY	*cakey = NULL;
	X509		*x, *cacert = NULL;
	FILE		*fp;
	char		 kf[64], cf[64];

	ck_assert_ptr_nonnull(key);
	if (ca != NULL) {
		snprintf(kf, sizeof(kf), "%s.key", ca);
		snprintf(cf, sizeof(cf), "%s.crt", ca);
		ck_assert_ptr_nonnull(fp = fopen(tlsfix_path(kf), "r"));
		ck_assert_ptr_nonnull(cakey = PEM_read_PrivateKey(fp, NULL,
		    NULL, NULL));
		fclose(fp);
		ck_assert_ptr_nonnull(fp = fopen(tlsfix_path(cf), "r"));
		ck_assert_ptr_nonnull(cacert = PEM_read_X509(fp, NULL, NULL,
		    NULL));
		fclose(fp);
	}
	ck_assert_ptr_nonnull(x = tlsgen_cert(key, cn, 0, from, to, cacert,
	    cakey));
	tlsfix_write(name, key, x);
	X509_free(x);
	X509_free(cacert);
	EVP_PKEY_free(key);
	EVP_PKEY_free(cakey);
}

void
tlsfix_host(const char *name, const char *cn, const char *ca, time_t from,
    time_t to)
{
	tlsfix_host_key(name, tlsgen_key(), cn, ca, from, to);
}

/* A DSA key (1024-bit parameters: made in a moment, never used on a link). */
static EVP_PKEY *
tlsfix_dsa_key(void)
{
	EVP_PKEY_CTX	*pc;
	EVP_PKEY	*params = NULL, *key = NULL;

	ck_assert_ptr_nonnull(pc = EVP_PKEY_CTX_new_from_name(NULL, "DSA",
	    NULL));
	ck_assert_int_eq(EVP_PKEY_paramgen_init(pc), 1);
	ck_assert_int_eq(EVP_PKEY_CTX_set_dsa_paramgen_bits(pc, 1024), 1);
	ck_assert_int_eq(EVP_PKEY_paramgen(pc, &params), 1);
	EVP_PKEY_CTX_free(pc);
	ck_assert_ptr_nonnull(pc = EVP_PKEY_CTX_new_from_pkey(NULL, params,
	    NULL));
	ck_assert_int_eq(EVP_PKEY_keygen_init(pc), 1);
	ck_assert_int_eq(EVP_PKEY_keygen(pc, &key), 1);
	EVP_PKEY_CTX_free(pc);
	EVP_PKEY_free(params);
	return key;
}

void
tlsfix_host_type(const char *name, const char *type, const char *cn,
    const char *ca)
{
	time_t	 now = time(NULL);

	EVP_PKEY	*key;

	if (strcmp(type, "RSA") == 0)
		key = EVP_PKEY_Q_keygen(NULL, NULL, type, (size_t)2048);
	else if (strcmp(type, "DSA") == 0)
		key = tlsfix_dsa_key();
	else
		key = EVP_PKEY_Q_keygen(NULL, NULL, type);
	tlsfix_host_key(name, key, cn, ca, now - DAY, now + 90 * DAY);
}

void
tlsfix_fingerprint(const char *name, char *fp)
{
	char	 cf[64], err[256];

	snprintf(cf, sizeof(cf), "%s.crt", name);
	ck_assert_msg(tls_cert_info(tlsfix_path(cf), fp, NULL, NULL, err,
	    sizeof(err)) == 0, "%s", err);
}
