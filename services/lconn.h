/*
 * lconn.h: a buffered line connection, the one piece of socket I/O of
 * link and linkd (see lconn.c).
 *
 * An lconn is a non-blocking stream socket with an input and an output
 * buffer (each one flat piece of memory), a read event whose interest the
 * owner turns on and off, and a write event lconn manages itself.  Its bytes move through a small ops
 * table (read, writev), plain read(2)/writev(2) today: a TLS transport
 * plugs in there and nowhere else.  Output is written once per event
 * loop round, by the flusher of the connection's event base.
 */
#ifndef LM_LCONN_H
#define LM_LCONN_H

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/uio.h>

#include <stddef.h>

struct event;
struct event_base;
struct timeval;
struct lconn;
struct lconn_flusher;

/*
 * Asked of one read: room for a good batch of pipelined lines; an input
 * buffer starts at 16 KiB, so that one read fits an empty one.
 */
#define LCONN_READ	(16384 - 256)

/*
 * A flat buffer: the bytes not yet taken are data[start .. end), in size
 * bytes of memory (data NULL and size 0 until first needed).
 */
struct lconn_buf {
	char	*data;
	size_t	 start;
	size_t	 end;
	size_t	 size;
};

/*
 * How bytes move.  read: > 0 bytes read, 0 at end-of-file, -1 with errno
 * (EAGAIN: nothing now).  writev: bytes taken, or -1 with errno (EAGAIN:
 * no room now).  free (may be NULL): release the transport's state, not
 * the fd.  pending (may be NULL): bytes the transport holds that no read
 * event will announce (TLS: the rest of a decrypted record).  A
 * transport that needs the other direction to go on (TLS wanting to read
 * in order to write) says so in lconn.want with its EAGAIN, and lconn
 * turns that into the matching event interest: a write waiting for a
 * read is tried again after the next read, a read waiting for a write is
 * woken by the write event.
 */
struct lconn_ops {
	const char	*name;
	ssize_t		(*read)(struct lconn *, void *, size_t);
	ssize_t		(*writev)(struct lconn *, const struct iovec *, int);
	void		(*free)(struct lconn *);
	size_t		(*pending)(struct lconn *);
};

#define LCONN_WANT_READ		1	/* lconn.want */
#define LCONN_WANT_WRITE	2

extern const struct lconn_ops lconn_plain;

/*
 * The owner's callbacks, both with the owner's arg.  readable: the read
 * event fired (what has EV_TIMEOUT when the read timeout expired); it
 * calls lconn_read().  written: the flusher or the write event wrote
 * the output all out (error 0), or writing failed (error -1, errno
 * set); the owner may free the connection in it.  Not called when there
 * was nothing to write, nor for the owner's own lconn_flush().
 */
typedef void	(*lconn_readable_fn)(struct lconn *, short what, void *arg);
typedef void	(*lconn_written_fn)(struct lconn *, int error, void *arg);

struct lconn {
	int			 fd;
	const struct lconn_ops	*ops;
	void			*tctx;		/* the transport's */
	struct lconn_flusher	*fl;
	struct event		*rev;
	struct event		*wev;
	struct lconn_buf	 in;
	struct lconn_buf	 out;
	size_t			 scan;		/* in: no newline before */
	int			 reading;	/* rev registered */
	int			 writing;	/* wev registered */
	int			 dirty;		/* on fl's list */
	int			 first;		/* flushed before others */
	int			 want;		/* the transport's, EAGAIN */
	int			 wblocked;	/* a write waits for a read */
	int			 rblocked;	/* a read waits for a write */
	int			 rsoon;		/* rev registered after writes */
	int			 roff;		/* rev removed after writes */
	int			 dead;		/* freed after the writes */
	int			 rlate;		/* a read after the writes */
	lconn_readable_fn	 readable;
	lconn_written_fn	 written;
	void			*arg;
	TAILQ_ENTRY(lconn)	 dentry;
	TAILQ_ENTRY(lconn)	 lentry;
};

/*
 * The writer of one event base: lconn_dirty() puts a connection on its
 * list, and once the round's other callbacks have run it writes each,
 * in one writev, connections made with LCONN_FIRST before the others.
 * The same list carries what may wait until those writes are done
 * (lconn_read_soon, lconn_free_soon): a request read from a new client
 * goes on to the peer before any system call that could wait.
 * before (may be NULL) is called first, and again after each write,
 * until it returns 0: the owner's work that makes output (lines that
 * waited for room, say) is taken up in the same round.  Once nothing is
 * left to write, the reads that wait for the writes (lconn_read_after)
 * are done, all of them, and what they wrote is written in turn.
 */
struct lconn_flusher *lconn_flusher_new(struct event_base *,
		    int (*before)(void *), void *arg);
void		 lconn_flusher_free(struct lconn_flusher *);
/* Run the flusher at the end of this round (for before's work). */
void		 lconn_flusher_wake(struct lconn_flusher *);

#define LCONN_FIRST	0x01	/* flushed before the other connections */

/*
 * A connection on fd (non-blocking; lconn closes it in lconn_free),
 * plain, read interest off.
 */
struct lconn	*lconn_new(struct lconn_flusher *, int fd, int flags,
		    lconn_readable_fn, lconn_written_fn, void *arg);
/* Close and free; NULL is fine. */
void		 lconn_free(struct lconn *);
/*
 * The same, by the flusher once the round's writes are out: no callback
 * of c's comes any more, its output is forgotten, and its epoll_ctl(2)
 * and close(2) wait until the LCONN_FIRST connections are written.
 */
void		 lconn_free_soon(struct lconn *);
/*
 * Stop every event and forget pending output without closing the fd
 * (the fd has gone elsewhere, as a handed-over link); lconn_free still
 * frees the rest, and then closes it.
 */
void		 lconn_stop(struct lconn *);

/* One read of up to LCONN_READ bytes into in: what ops->read returned. */
ssize_t		 lconn_read(struct lconn *);
/*
 * The first complete line of in, contiguous, and its length without the
 * newline; NULL when there is none yet (each byte is searched once).
 */
const char	*lconn_line(struct lconn *, size_t *len);
/* The line, or the whole of in (len bytes), is dealt with: drain it. */
void		 lconn_consume(struct lconn *, size_t len);
/* All of in, contiguous (an unterminated last line). */
const char	*lconn_pullup(struct lconn *, size_t len);
size_t		 lconn_inlen(const struct lconn *);
size_t		 lconn_outlen(const struct lconn *);

/*
 * One line out: a (alen bytes, may be 0), b (blen) and a newline, copied
 * in one append, and the connection made dirty.
 */
void		 lconn_add(struct lconn *, const void *a, size_t alen,
		    const void *b, size_t blen);
/* Made dirty: written by the flusher at the end of this round. */
void		 lconn_dirty(struct lconn *);
/*
 * Write now what the socket takes: 0 all out (or nothing to write), 1
 * some left (write interest is on; written() tells the end), -1 with
 * errno.  The flusher calls it; the owner may, to write before it goes.
 */
int		 lconn_flush(struct lconn *);

/*
 * Read interest on or off, an epoll_ctl(2) only when that changes;
 * with a timeout (tv not NULL) it is set again each time.
 */
void		 lconn_read_on(struct lconn *, int on, const struct timeval *);
/*
 * Read interest on, no timeout, but registered by the flusher after the
 * round's writes (a new client, read at once: its request first).
 */
void		 lconn_read_soon(struct lconn *);
/*
 * Read interest off, from the read callback itself (that event will
 * not fire again this round), its epoll_ctl(2) after the round's writes,
 * or never if the connection is freed meanwhile.
 */
void		 lconn_read_off_soon(struct lconn *);
/*
 * One read (the readable callback, with EV_READ) by the flusher once the
 * round's writes are out, all such reads together, whether or not read
 * interest is on: for a connection whose next event is mostly its end
 * (a link client that had its one answer), looked at without holding up
 * the round's other work, and without an epoll_ctl(2) to watch it.
 * Not done if the connection is freed meanwhile.
 */
void		 lconn_read_after(struct lconn *);

/*
 * lconn_tls.c: the TLS transport.  lconn_tls_start puts c (plain, nothing
 * read or written yet) on TLS over t (tls_new on c->fd, which lconn now
 * owns and frees); the handshake is done by the first reads and writes,
 * driven by c's events like any other bytes.  lconn_tls returns the tls
 * of a TLS connection, NULL for a plain one; lconn_tls_error the reason
 * of its last failure, NULL when it has none (or is plain).
 * lconn_tls_unanswered: a client's words for a connection that ended
 * (closed 1) or stayed silent (0) before any TLS came from the peer,
 * NULL when it is plain or the peer did speak TLS.
 */
struct tls;
void		 lconn_tls_start(struct lconn *, struct tls *);
struct tls	*lconn_tls(const struct lconn *);
const char	*lconn_tls_error(const struct lconn *);
const char	*lconn_tls_unanswered(const struct lconn *, int closed);

#endif
