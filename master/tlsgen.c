/*
 * tlsgen.c: "linkmaster tls-init" makes this host's TLS key and a
 * self-signed certificate for host_name and prints its fingerprint for the
 * peers' sections; "linkmaster tls-fingerprint" prints the fingerprint of
 * the certificate in use.  The key and certificate primitives are also
 * what the unit tests build their CAs and bad certificates with.
 *
 * All cryptography is OpenSSL's.  Files are created exclusively (an
 * existing key is never replaced: rotating one is a decision, not a side
 * effect), the key with mode 0600 from the start.  Any failure removes
 * what was created and says why on stderr, exit 1.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "config.h"
#include "tls.h"
#include "tlsgen.h"
#include "util.h"

/* Long, since a pinned certificate is replaced by hand on every peer. */
#define TLSGEN_DAYS		3650
/* Peers whose clocks are a little behind accept it at once. */
#define TLSGEN_BACKDATE		3600
#define TLSGEN_KEY_FILE		"tls_key.pem"
#define TLSGEN_CERT_FILE	"tls_cert.pem"

EVP_PKEY *
tlsgen_key(void)
{
	return EVP_EC_gen("P-256");
}

static int
tlsgen_ext(X509 *x, X509V3_CTX *v3, int nid, const char *value)
{
	X509_EXTENSION	*ext;
	int		 rc;

	if ((ext = X509V3_EXT_conf_nid(NULL, v3, nid, value)) == NULL)
		return -1;
	rc = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return rc == 1 ? 0 : -1;
}

X509 *
tlsgen_cert(EVP_PKEY *key, const char *name, int ca, time_t notbefore,
    time_t notafter, X509 *issuer, EVP_PKEY *issuer_key)
{
	X509_NAME	*subj;
	X509V3_CTX	 v3;
	BIGNUM		*bn = NULL;
	X509		*x;
	char		*san = NULL;
	int		 ok = 0;

	if ((x = X509_new()) == NULL)
		return NULL;
	if (X509_set_version(x, X509_VERSION_3) != 1 ||
	    (bn = BN_new()) == NULL ||
	    BN_rand(bn, 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
	    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL ||
	    ASN1_TIME_set(X509_getm_notBefore(x), notbefore) == NULL ||
	    ASN1_TIME_set(X509_getm_notAfter(x), notafter) == NULL ||
	    X509_set_pubkey(x, key) != 1)
		goto out;
	subj = X509_get_subject_name(x);
	if (X509_NAME_add_entry_by_txt(subj, "CN", MBSTRING_UTF8,
	    (const unsigned char *)name, -1, -1, 0) != 1 ||
	    X509_set_issuer_name(x, issuer != NULL ?
	    X509_get_subject_name(issuer) : subj) != 1)
		goto out;
	X509V3_set_ctx(&v3, issuer != NULL ? issuer : x, x, NULL, NULL, 0);
	if (tlsgen_ext(x, &v3, NID_subject_key_identifier, "hash") == -1)
		goto out;
	if (issuer != NULL && tlsgen_ext(x, &v3, NID_authority_key_identifier,
	    "keyid:always") == -1)
		goto out;
	if (ca) {
		if (tlsgen_ext(x, &v3, NID_basic_constraints,
		    "critical,CA:TRUE") == -1 ||
		    tlsgen_ext(x, &v3, NID_key_usage,
		    "critical,keyCertSign,cRLSign") == -1)
			goto out;
	} else {
		/* name is a peer name: no comma or other syntax of v3 conf. */
		xasprintf(&san, "DNS:%s", name);
		if (tlsgen_ext(x, &v3, NID_basic_constraints,
		    "critical,CA:FALSE") == -1 ||
		    tlsgen_ext(x, &v3, NID_key_usage,
		    "critical,digitalSignature") == -1 ||
		    tlsgen_ext(x, &v3, NID_ext_key_usage,
		    "serverAuth,clientAuth") == -1 ||
		    tlsgen_ext(x, &v3, NID_subject_alt_name, san) == -1)
			goto out;
	}
	if (X509_sign(x, issuer_key != NULL ? issuer_key : key,
	    EVP_sha256()) <= 0)
		goto out;
	ok = 1;
 out:
	free(san);
	BN_free(bn);
	if (!ok) {
		X509_free(x);
		return NULL;
	}
	return x;
}

/* A new file (never an existing one) of the given mode, as a stdio FILE. */
static FILE *
tlsgen_create(const char *path, mode_t mode, char *err, size_t errlen)
{
	FILE	*fp;
	int	 fd;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    mode)) == -1) {
		if (errno == EEXIST)
			errbuf_set(err, errlen, "%s exists already: not "
			    "replacing it", path);
		else
			errbuf_set(err, errlen, "cannot create %s: %s", path,
			    strerror(errno));
		return NULL;
	}
	/* The umask may have taken bits away; a key gets exactly 0600. */
	if (fchmod(fd, mode) == -1 || (fp = fdopen(fd, "w")) == NULL) {
		errbuf_set(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		(void)unlink(path);
		return NULL;
	}
	return fp;
}

static int
tlsgen_close(FILE *fp, int ok, const char *path, char *err, size_t errlen)
{
	if (fflush(fp) == EOF || fsync(fileno(fp)) == -1) {
		if (ok)
			errbuf_set(err, errlen, "cannot write %s: %s", path,
			    strerror(errno));
		ok = 0;
	}
	if (fclose(fp) == EOF && ok) {
		errbuf_set(err, errlen, "cannot write %s: %s", path,
		    strerror(errno));
		ok = 0;
	}
	if (!ok)
		(void)unlink(path);
	return ok ? 0 : -1;
}

int
tlsgen_write(const char *keyfile, EVP_PKEY *key, const char *certfile,
    X509 *cert, char *err, size_t errlen)
{
	FILE	*fp;
	int	 ok;

	if (keyfile != NULL) {
		if ((fp = tlsgen_create(keyfile, 0600, err, errlen)) == NULL)
			return -1;
		ok = PEM_write_PrivateKey(fp, key, NULL, NULL, 0, NULL,
		    NULL) == 1;
		if (!ok)
			errbuf_set(err, errlen, "cannot write %s", keyfile);
		if (tlsgen_close(fp, ok, keyfile, err, errlen) == -1)
			return -1;
	}
	if (certfile != NULL) {
		if ((fp = tlsgen_create(certfile, 0644, err, errlen)) == NULL)
			goto fail;
		ok = PEM_write_X509(fp, cert) == 1;
		if (!ok)
			errbuf_set(err, errlen, "cannot write %s", certfile);
		if (tlsgen_close(fp, ok, certfile, err, errlen) == -1)
			goto fail;
	}
	return 0;
 fail:
	if (keyfile != NULL)
		(void)unlink(keyfile);
	return -1;
}

static char *
tlsgen_path(const struct config *cfg, const char *set, const char *dflt)
{
	return set != NULL ? xstrdup(set) : config_path(cfg, dflt);
}

int
tlsgen_init(const struct config *cfg)
{
	EVP_PKEY	*key = NULL;
	X509		*x = NULL;
	struct tm	 tm;
	time_t		 now = time(NULL), until;
	char		*keyfile, *certfile, fp[TLS_FP_LEN + 1], err[512];
	char		 date[32];
	int		 rc = 1;

	keyfile = tlsgen_path(cfg, cfg->tls_key, TLSGEN_KEY_FILE);
	certfile = tlsgen_path(cfg, cfg->tls_cert, TLSGEN_CERT_FILE);
	/* Say so before making a key that could not be written anyway. */
	if (access(keyfile, F_OK) == 0 || access(certfile, F_OK) == 0) {
		fprintf(stderr, "linkmaster: %s exists already: not replacing "
		    "it (\"linkmaster tls-fingerprint\" prints the "
		    "fingerprint of the certificate in use)\n",
		    access(keyfile, F_OK) == 0 ? keyfile : certfile);
		goto out;
	}
	until = now + (time_t)TLSGEN_DAYS * 86400;
	if ((key = tlsgen_key()) == NULL ||
	    (x = tlsgen_cert(key, cfg->host_name, 0, now - TLSGEN_BACKDATE,
	    until, NULL, NULL)) == NULL) {
		ERR_print_errors_fp(stderr);
		fprintf(stderr, "linkmaster: cannot make a key and a "
		    "certificate\n");
		EVP_PKEY_free(key);
		goto out;
	}
	if (tlsgen_write(keyfile, key, certfile, x, err, sizeof(err)) == -1 ||
	    tls_cert_info(certfile, fp, NULL, NULL, err, sizeof(err)) == -1) {
		fprintf(stderr, "linkmaster: %s\n", err);
	} else {
		gmtime_r(&until, &tm);
		strftime(date, sizeof(date), "%Y-%m-%d", &tm);
		printf("created %s (mode 0600) and %s for %s, valid until "
		    "%s\n", keyfile, certfile, cfg->host_name, date);
		if (cfg->tls_key == NULL || cfg->tls_cert == NULL)
			printf("add to %s:\n\ttls_key = \"%s\"\n\ttls_cert = "
			    "\"%s\"\n", cfg->conf_file, TLSGEN_KEY_FILE,
			    TLSGEN_CERT_FILE);
		printf("on each peer, in the section of peer %s:\n"
		    "\tfingerprint = \"%s\"\n", cfg->host_name, fp);
		rc = 0;
	}
	X509_free(x);
	EVP_PKEY_free(key);
 out:
	free(keyfile);
	free(certfile);
	return rc;
}

int
tlsgen_fingerprint(const struct config *cfg)
{
	char	*certfile, fp[TLS_FP_LEN + 1], err[512];
	int	 rc = 0;

	certfile = tlsgen_path(cfg, cfg->tls_cert, TLSGEN_CERT_FILE);
	if (cfg->tls_cert == NULL && access(certfile, F_OK) == -1) {
		fprintf(stderr, "linkmaster: no tls_cert in %s (and no %s): "
		    "\"linkmaster tls-init\" makes one\n", cfg->conf_file,
		    certfile);
		rc = 1;
	} else if (tls_cert_info(certfile, fp, NULL, NULL, err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "linkmaster: tls_cert: %s\n", err);
		rc = 1;
	} else
		printf("%s\n", fp);
	free(certfile);
	return rc;
}
