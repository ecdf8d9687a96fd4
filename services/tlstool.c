/*
 * tlstool.c: the OpenSSL half of the linkmaster command, a helper in
 * daemon_directory, so that neither the master nor the linkmaster command
 * maps libssl and libcrypto (their relocated and initialised pages were
 * half a MiB of every idle master's memory).
 *
 *   tlstool CONFDIR tls-init
 *   tlstool CONFDIR tls-fingerprint
 *	what "linkmaster tls-init" and "linkmaster tls-fingerprint" do
 *	(tlsgen.c): the command execs this, so the output and the exit code
 *	are the command's.
 *   tlstool check KEY CERT NAME CA
 *	what check says about this host's TLS files (tlsexec.c runs it at
 *	every check, start and reload that has them): KEY and CERT readable,
 *	matching and valid now with NAME in the subjectAltName (both "": not
 *	configured; NAME "": not checked), CA a readable certificate ("":
 *	none).  One line per finding on stdout, "error: MSG" or "warning:
 *	MSG"; exit 0 when it could look, 2 on a usage error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "log.h"
#include "tls.h"
#include "tlsgen.h"

static __dead void
tlstool_usage(void)
{
	fprintf(stderr, "usage: tlstool confdir tls-init|tls-fingerprint\n"
	    "       tlstool check key cert name ca\n");
	exit(2);
}

static int
tlstool_check(const char *key, const char *cert, const char *name,
    const char *ca)
{
	char	 msg[1024];
	int	 rc;

	if (*key != '\0' && *cert != '\0') {
		rc = tls_check_files(key, cert, *name != '\0' ? name : NULL,
		    time(NULL), msg, sizeof(msg));
		if (rc == -1)
			printf("error: %s\n", msg);
		else if (rc == 1)
			printf("warning: %s\n", msg);
	}
	if (*ca != '\0' && tls_cert_info(ca, NULL, NULL, NULL, msg,
	    sizeof(msg)) == -1)
		printf("error: tls_ca: %s\n", msg);
	return fflush(stdout) == EOF ? 1 : 0;
}

int
main(int argc, char *argv[])
{
	struct errlist	 errs;
	struct config	*cfg;
	size_t		 i;
	int		 rc;

	log_init("linkmaster", "daemon", NULL, 1);
	if (argc == 6 && strcmp(argv[1], "check") == 0)
		return tlstool_check(argv[2], argv[3], argv[4], argv[5]);
	if (argc != 3 || (strcmp(argv[2], "tls-init") != 0 &&
	    strcmp(argv[2], "tls-fingerprint") != 0))
		tlstool_usage();
	errlist_init(&errs);
	if ((cfg = config_load(argv[1], &errs)) == NULL) {
		for (i = 0; i < errs.n; i++)
			fprintf(stderr, "%s\n", errs.msg[i]);
		errlist_free(&errs);
		return 1;
	}
	errlist_free(&errs);
	if (strcmp(argv[2], "tls-init") == 0)
		rc = tlsgen_init(cfg);
	else
		rc = tlsgen_fingerprint(cfg);
	config_free(cfg);
	return rc;
}
