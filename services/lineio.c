/*
 * lineio.c: line-oriented socket I/O on evbuffers, for link and linkd.
 *
 * Both keep their sockets' data in evbuffers but do the system calls
 * themselves, to keep them few per request: one read(2) per readiness
 * event (no FIONREAD first, as evbuffer_read() does: the space is
 * reserved, and whatever did not arrive costs nothing), and one writev(2)
 * per socket per event loop round; read interest is toggled only when
 * it changes (each toggle is an epoll_ctl(2)).  Nothing here logs or
 * allocates beyond the evbuffers; a failed system call is returned with
 * errno for the caller to judge, and only libevent failing to manage its
 * own memory is fatal.
 */
#include <sys/types.h>

#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <string.h>
#include <unistd.h>

#include "lineio.h"
#include "log.h"

/*
 * One read(2) of up to max bytes into in: what read returned (-1 with
 * errno; EINTR is retried).
 */
ssize_t
lineio_read(int fd, struct evbuffer *in, size_t max)
{
	struct evbuffer_iovec	 v;
	ssize_t			 n;

	if (evbuffer_reserve_space(in, (ev_ssize_t)max, &v, 1) != 1)
		fatalx("evbuffer_reserve_space failed");
	if (v.iov_len > max)
		v.iov_len = max;
	do
		n = read(fd, v.iov_base, v.iov_len);
	while (n == -1 && errno == EINTR);
	if (n > 0) {
		v.iov_len = (size_t)n;
		if (evbuffer_commit_space(in, &v, 1) == -1)
			fatalx("evbuffer_commit_space failed");
	}
	return n;
}

/* Write out as much as the socket takes: 0, or -1 with errno. */
int
lineio_write(int fd, struct evbuffer *out)
{
	while (evbuffer_get_length(out) > 0)
		if (evbuffer_write(out, fd) == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return -1;
		}
	return 0;
}

/*
 * The first complete line of in, made contiguous, with its length
 * (without the newline); NULL when there is none yet.  *scan counts the
 * bytes at the front already known to hold no newline, so a long line
 * arriving in pieces is searched once; the caller resets it to 0 after
 * draining a line.
 */
const char *
lineio_line(struct evbuffer *in, size_t *scan, size_t *len)
{
	struct evbuffer_iovec	 v;
	struct evbuffer_ptr	 p;
	const char		*nl;
	size_t			 eol;

	if (*scan >= evbuffer_get_length(in))
		return NULL;
	/* Mostly the line is all in the first chunk: no copy, no search. */
	if (evbuffer_peek(in, -1, NULL, &v, 1) >= 1 && *scan < v.iov_len &&
	    (nl = memchr((char *)v.iov_base + *scan, '\n',
	    v.iov_len - *scan)) != NULL) {
		*len = (size_t)(nl - (char *)v.iov_base);
		return v.iov_base;
	}
	if (evbuffer_ptr_set(in, &p, *scan, EVBUFFER_PTR_SET) == -1)
		fatalx("evbuffer_ptr_set failed");
	p = evbuffer_search_eol(in, &p, &eol, EVBUFFER_EOL_LF);
	if (p.pos == -1) {
		*scan = evbuffer_get_length(in);
		return NULL;
	}
	*len = (size_t)p.pos;
	return (const char *)evbuffer_pullup(in, (ssize_t)(*len + 1));
}

/* Toggling interest costs an epoll_ctl(2): only when it changes. */
void
lineio_interest(struct event *ev, int *state, int on)
{
	if (on == *state)
		return;
	*state = on;
	if (on)
		event_add(ev, NULL);
	else
		event_del(ev);
}
