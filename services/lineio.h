/*
 * lineio.h: line-oriented socket I/O on evbuffers, shared by link and
 * linkd (see lineio.c).
 */
#ifndef LM_LINEIO_H
#define LM_LINEIO_H

#include <sys/types.h>

#include <stddef.h>

struct evbuffer;
struct event;

/*
 * Asked of one read(2): room for a good batch of pipelined lines, and
 * with libevent's chunk header still a 16 KiB allocation.
 */
#define LINEIO_READ	(16384 - 256)

/* One read(2) of up to max bytes into in: what read returned. */
ssize_t		 lineio_read(int fd, struct evbuffer *in, size_t max);
/* Write out as much as the socket takes: 0, or -1 with errno. */
int		 lineio_write(int fd, struct evbuffer *out);
/*
 * The first complete line of in, contiguous, and its length without the
 * newline; NULL when there is none yet.  *scan: see lineio.c.
 */
const char	*lineio_line(struct evbuffer *in, size_t *scan, size_t *len);

/*
 * Register ev (on) or drop it, only when that changes anything: *state
 * says whether it is registered now.
 */
void		 lineio_interest(struct event *ev, int *state, int on);

#endif
