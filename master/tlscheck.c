/*
 * tlscheck.c: what "linkmaster check" (and every start and reload) says
 * about TLS on links: this host's key and certificate must be readable,
 * match and be valid now (errors, so that a reload keeps the running
 * configuration); a certificate without host_name in its subjectAltName
 * or about to expire, and a plaintext link to a peer that is not on this
 * host, are warnings (logged: on stderr for the command, to syslog in the
 * master).  config.c has already refused settings that contradict each
 * other (config_check_tls).
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <string.h>

#include "log.h"
#include "master.h"

/* 127.0.0.0/8, ::1, ::ffff:127.x and "localhost"; never resolves. */
static int
check_loopback(const char *addr)
{
	struct in_addr	 a4;
	struct in6_addr	 a6;

	if (strcmp(addr, "localhost") == 0)
		return 1;
	if (inet_pton(AF_INET, addr, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, addr, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6) ||
		    (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
	return 0;
}

int
check_tls(const struct config *cfg, struct errlist *errs)
{
	const struct peer	*p;
	size_t			 before = errs->n;
	int			 i;

	/* OpenSSL's part is tlstool's (tlsexec.c): the master maps none of it. */
	(void)tlsexec_check(cfg, errs);
	for (i = 0; i < cfg->npeers; i++) {
		p = &cfg->peers[i];
		if (config_peer_tls(cfg, p))
			continue;
		if (check_loopback(p->address))
			continue;
		if (p->tls == PEER_TLS_NO)
			log_warnx("%s:%d: peer \"%s\": tls = no: requests to "
			    "%s cross the network in the clear (only "
			    "127.0.0.0/8 and ::1 are exempt)", p->file,
			    p->line, p->name, p->address);
		else
			log_warnx("%s:%d: peer \"%s\": the link to %s is "
			    "plaintext: this host has no tls_key and tls_cert "
			    "(\"linkmaster tls-init\" makes them)", p->file,
			    p->line, p->name, p->address);
	}
	return errs->n == before ? 0 : -1;
}
