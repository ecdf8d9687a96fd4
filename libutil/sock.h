/*
 * sock.h: listen and connect helpers for unix, inet, fifo endpoints.
 *
 * Every fd returned is non-blocking and close-on-exec.  Errors are returned
 * as -1 with a human message in err ("bind 127.0.0.1:25: Address already in
 * use"), never logged here: the caller knows which service it is.
 */
#ifndef LM_SOCK_H
#define LM_SOCK_H

#include <sys/types.h>
#include <stddef.h>

#define SOCK_BACKLOG	1024

int	 sock_set_nonblock(int, int);
int	 sock_set_cloexec(int, int);

/* Unix socket (SOCK_STREAM or SOCK_DGRAM) at path; a stale file is replaced. */
int	 sock_unix_listen(const char *path, int type, mode_t mode, char *err,
	    size_t errlen);
/* A fifo at path (created or reused), opened O_RDWR so it never sees EOF. */
int	 sock_fifo_listen(const char *path, mode_t mode, char *err, size_t errlen);

/*
 * Split "[host:]port", "[v6addr]:port" into host (NULL when absent) and
 * port.  Returns -1 on a spec the inet grammar (inet_spec_check(),
 * names.h) refuses: port 0 ("any port") is refused too, as in master.cf.
 * Caller frees both.
 */
int	 sock_inet_split(const char *spec, char **host, char **port);
/*
 * Listen on spec ("[host:]port"); a spec without a host uses default_host
 * ("all" or NULL = every address, "loopback-only" = 127.0.0.1, else a host
 * name or address).  A name may yield several sockets: up to maxfds are
 * stored in fds.  Returns the count, or -1 with err.
 */
int	 sock_inet_listen(const char *spec, const char *default_host, int *fds,
	    int maxfds, char *err, size_t errlen);

/* Blocking-free connect helpers (the connect may still be in progress). */
int	 sock_unix_connect(const char *path, int type, char *err, size_t errlen);
int	 sock_inet_connect(const char *host, const char *port, char *err,
	    size_t errlen);

#endif
