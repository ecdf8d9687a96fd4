/*
 * tls.h: TLS 1.3 with mutual authentication for the link helpers
 * (OpenSSL 3), see tls.c.
 *
 * A tls_ctx holds this host's key and certificate and the CA that vouches
 * for peers; a tls is one connection on a non-blocking socket.  A peer is
 * authenticated by its certificate, in one of two ways, chosen per peer:
 *  - pinned: the SHA-256 fingerprint of its certificate is one of the
 *    peer's "sha256:HEX" pins (a self-signed certificate will do);
 *  - CA: without pins, the certificate must chain to tls_ca and carry the
 *    peer's name in its subjectAltName (DNS).
 * Either way it must be valid now.  Every refusal has a reason in words
 * (tls_error), for a log line.
 */
#ifndef LM_TLS_H
#define LM_TLS_H

#include <sys/types.h>
#include <sys/uio.h>

#include <stddef.h>
#include <time.h>

#define TLS_FP_LEN	(7 + 64)	/* "sha256:" and 64 hex digits */
#define TLS_REASON_MAX	768

enum tls_role {
	TLS_CLIENT,		/* link: connects */
	TLS_SERVER,		/* linkd: accepts */
};

/* What a tls waits for before it can go on (EAGAIN from a call). */
enum tls_want {
	TLS_WANT_NONE = 0,
	TLS_WANT_READ,
	TLS_WANT_WRITE,
};

/* What the first bytes of a connection look like (tls_sniff). */
enum tls_sniff {
	TLS_SNIFF_MORE,		/* too few bytes to tell */
	TLS_SNIFF_TLS,		/* a TLS handshake record */
	TLS_SNIFF_PLAIN,	/* anything else */
};

struct tls_ctx;
struct tls;

/*
 * A context for new connections: key and cert (PEM files, the cert file
 * may hold the chain), ca (PEM, may be NULL: then only pinned peers can
 * be authenticated).  NULL with the reason in err on failure (unreadable
 * file, key and certificate that do not match, ...).  A reload makes a
 * new one and frees the old: connections made from the old one hold a
 * reference and stay valid until they are freed.
 */
struct tls_ctx	*tls_ctx_new(enum tls_role, const char *key, const char *cert,
		    const char *ca, char *err, size_t errlen);
void		 tls_ctx_free(struct tls_ctx *);
/* The SHA-256 fingerprint of this context's own certificate. */
const char	*tls_ctx_fingerprint(const struct tls_ctx *);

/*
 * A connection over fd (non-blocking or not; not closed by tls_free).
 * peer and the pins (canonical "sha256:" + 64 lower-case hex digits, as
 * config.c keeps them; npins 0 for none) say who the other side must be.
 * A client always knows; a server may pass NULL, accept any certificate
 * in the handshake, and call tls_verify_peer once the hello named the
 * peer.  The client also sends peer as the server name (SNI).
 */
struct tls	*tls_new(struct tls_ctx *, int fd, const char *peer,
		    const char *const *pins, int npins);
void		 tls_free(struct tls *);

/*
 * One step of the handshake: 0 done (the peer is authenticated if it was
 * named), -1 with errno EAGAIN (see tls_want), or -1 with another errno
 * and the reason in tls_error (EPROTO: a TLS failure or a refused peer;
 * ECONNRESET and friends from the socket).
 */
int		 tls_handshake(struct tls *);
/*
 * After a handshake without a peer: check that it is peer (with pins).
 * 0, or -1 with the reason in tls_error.
 */
int		 tls_verify_peer(struct tls *, const char *peer,
		    const char *const *pins, int npins);

/*
 * Data, like read(2) and writev(2): > 0 bytes, 0 at end-of-file (read),
 * -1 with errno EAGAIN (see tls_want: TLS may need to read in order to
 * write and the reverse) or an error (reason in tls_error).  After
 * EAGAIN, tls_writev must be called again with the same bytes first (more
 * may follow); it sends at most 16 KiB (one record) per call.
 */
ssize_t		 tls_read(struct tls *, void *, size_t);
ssize_t		 tls_writev(struct tls *, const struct iovec *, int);
/*
 * Bytes waiting in the tls, for which no read event will come: those
 * decrypted, or (1) when only records not yet decrypted are buffered
 * (TLS reads ahead); 0 when a read would go to the socket.
 */
size_t		 tls_pending(const struct tls *);
/*
 * Give back the record buffers (about 34 KiB) while nothing waits in
 * them; TLS takes new ones at the next read or write.  For a connection
 * that has just come up and may stay idle: not after every record, which
 * would cost a malloc and a free each time (see tls_ctx_new).
 */
void		 tls_shrink(struct tls *);
/* Send close_notify (best effort, never blocks for the answer). */
void		 tls_close(struct tls *);

enum tls_want	 tls_want(const struct tls *);
const char	*tls_error(const struct tls *);
/* The peer's certificate fingerprint, "" before the handshake. */
const char	*tls_peer_fingerprint(const struct tls *);

/*
 * Tell a TLS client from a plaintext one by its first bytes (MSG_PEEK),
 * so that a server can answer a plaintext hello with a plaintext ERR.
 */
enum tls_sniff	 tls_sniff(const void *, size_t);

/*
 * The certificate in file: its fingerprint (fp, TLS_FP_LEN + 1 bytes),
 * and its validity (notbefore, notafter may be NULL).  0, or -1 with the
 * reason in err.
 */
int		 tls_cert_info(const char *file, char *fp, time_t *notbefore,
		    time_t *notafter, char *err, size_t errlen);
/*
 * For check: key and cert readable, matching, and the certificate valid
 * at time now (time(NULL)) with name among its subjectAltNames (name may
 * be NULL).  0 when all is well, 1 with a warning in err (the name is
 * missing, or the certificate expires within 30 days), -1 with an error
 * in err.
 */
int		 tls_check_files(const char *key, const char *cert,
		    const char *name, time_t now, char *err, size_t errlen);

#endif
