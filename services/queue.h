/*
 * queue.h: the durable queue of a link's critical requests.
 *
 * A directory holds one file per request, named by its sequence number in
 * 20 zero-padded decimal digits, containing the request line exactly
 * (without a newline).  A request is on disk (file and directory entry
 * fsync'ed) when queue_append() returns; queue_remove() unlinks it and
 * fsyncs the directory.  Requests come out in sequence order.  An open
 * queue is locked (flock on QUEUE_LOCK in the directory) against a
 * second process, and no file in it is ever replaced.
 */
#ifndef LM_QUEUE_H
#define LM_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#define QUEUE_NAME_LEN	20	/* digits of a file name */
#define QUEUE_LOCK	"lock"	/* flock'ed by the queue's owner */

struct queue;

/*
 * Open (creating it and its missing parents, mode 0700) the queue
 * directory dir, lock it (an exclusive flock on dir/QUEUE_LOCK, kept
 * until queue_close() or exit), remove stale "*.tmp" files and load the
 * sequence numbers present; the next one is the highest + 1 (1 when
 * empty).  NULL with a message in err on failure (a path that is not a
 * directory, a mkdir or open that fails, or "queue DIR is in use by
 * another helper" when another process holds the lock).
 */
struct queue	*queue_open(const char *dir, char *err, size_t errlen);
void		 queue_close(struct queue *);

const char	*queue_dir(const struct queue *);
size_t		 queue_count(const struct queue *);

/*
 * Write one request durably: NAME.tmp (created exclusively), fsync, link
 * to NAME, unlink NAME.tmp, fsync the directory.  A number whose NAME or
 * NAME.tmp exists already is skipped, never overwritten.  0 with its
 * number in *seq; -1 with errno, and nothing left behind (the request is
 * not queued).
 */
int		 queue_append(struct queue *, const void *data, size_t len,
		    uint64_t *seq);

/*
 * The oldest request: 0 with *seq and a malloc'ed copy in *data (NUL-
 * terminated, *len bytes; the caller frees it), 1 when the queue is
 * empty, -1 with errno when its file cannot be read (*seq says which):
 * EINVAL when it is not a regular file (a FIFO is never waited for),
 * ELOOP for a symbolic link, EFBIG when it is over max bytes.
 */
int		 queue_peek(struct queue *, size_t max, uint64_t *seq,
		    char **data, size_t *len);

/*
 * Remove request seq (unlink, fsync the directory).  It is forgotten
 * even when that fails (-1 with errno), so that one bad file cannot stop
 * the queue; the caller logs it.
 */
int		 queue_remove(struct queue *, uint64_t seq);

/*
 * Move request seq out of the way as NAME.bad (NAME.1.bad, NAME.2.bad...
 * when that exists: never over an earlier one), kept for the operator,
 * never replayed, ignored by queue_open, and forget it.  -1 with errno
 * when the move fails (it is forgotten all the same).
 */
int		 queue_set_aside(struct queue *, uint64_t seq);

/* The file name of seq: 20 digits, NUL-terminated (21 bytes). */
void		 queue_name(uint64_t seq, char *buf, size_t len);

#endif
