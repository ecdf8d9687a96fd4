/*
 * queue_entry.c: the request files of a link's durable queue (queue.c
 * owns the directory): one written durably, the oldest read back for
 * replay, one removed once answered or set aside when it cannot be.
 *
 * A request counts as queued only once both its data and its directory
 * entry are on disk: it is written to NAME.tmp, fsync'ed, hard-linked to
 * NAME, NAME.tmp removed and the directory fsync'ed, so a crash leaves
 * either nothing or a complete file (a stale .tmp is removed at the next
 * open).  Removal is unlink + fsync of the directory; a crash before
 * that repeats the request (at least once delivery).  Should two writers
 * meet all the same (a lock that does not work on some file system), no
 * file is ever replaced: temporary files are created exclusively and
 * final names with link(2), which fails on an existing name, and a taken
 * number is skipped.
 *
 * Failure policy: any failure returns -1 with errno.  A failed append
 * removes what was written, so the caller can tell its client the truth
 * instead of dropping the request; a file that cannot be read is left
 * where it is for the caller to set aside; a removal or a setting aside
 * that fails forgets the request all the same, so that one bad file
 * cannot stop the queue.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "queue.h"
#include "queue_priv.h"
#include "util.h"

/* Numbers tried past ones taken by someone else, before giving up. */
#define QUEUE_TRIES	1000

static int
queue_write_all(int fd, const char *p, size_t len)
{
	ssize_t	 n;

	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Give the written file tmp its final name: the first free number from
 * q->next on.  link(2) never replaces a file, so a number someone else
 * took (EEXIST) is skipped instead of overwritten.  The number in *seq.
 */
static int
queue_link(struct queue *q, const char *tmp, uint64_t *seq)
{
	char	 name[QUEUE_NAME_LEN + 1];
	int	 i;

	for (i = 0; i < QUEUE_TRIES; i++) {
		if (q->next == 0 || q->next == UINT64_MAX) {
			errno = EOVERFLOW;
			return -1;
		}
		queue_name(q->next, name, sizeof(name));
		if (linkat(q->dirfd, tmp, q->dirfd, name, 0) == 0) {
			*seq = q->next++;
			return 0;
		}
		if (errno != EEXIST)
			return -1;
		q->next++;
	}
	errno = EEXIST;
	return -1;
}

int
queue_append(struct queue *q, const void *data, size_t len, uint64_t *seq)
{
	char		 name[QUEUE_NAME_LEN + 1], tmp[QUEUE_NAME_LEN + 5];
	uint64_t	 s;
	int		 fd = -1, saved, i, linked = 0;

	/*
	 * NAME.tmp, created exclusively: an existing one is another
	 * writer's work in progress, so move on to the next number.
	 */
	for (i = 0; ; i++) {
		if (q->next == 0 || q->next == UINT64_MAX) {
			errno = EOVERFLOW;
			return -1;
		}
		queue_name(q->next, name, sizeof(name));
		(void)snprintf(tmp, sizeof(tmp), "%s.tmp", name);
		if ((fd = openat(q->dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL |
		    O_CLOEXEC | O_NOFOLLOW, 0600)) != -1)
			break;
		if (errno != EEXIST || i + 1 == QUEUE_TRIES)
			return -1;
		q->next++;
	}
	if (queue_write_all(fd, data, len) == -1 || fsync(fd) == -1) {
		saved = errno;
		close(fd);
		goto fail;
	}
	if (close(fd) == -1) {
		saved = errno;
		goto fail;
	}
	if (queue_link(q, tmp, &s) == -1) {
		saved = errno;
		goto fail;
	}
	linked = 1;
	queue_name(s, name, sizeof(name));
	/* The data is under its final name: tmp is only a second name. */
	if (unlinkat(q->dirfd, tmp, 0) == -1 || fsync(q->dirfd) == -1) {
		saved = errno;
		goto fail;
	}
	queue_push(q, s);
	*seq = s;
	return 0;

 fail:
	/* Not acknowledged, so not queued: take back what was written. */
	if (linked)
		(void)unlinkat(q->dirfd, name, 0);
	(void)unlinkat(q->dirfd, tmp, 0);
	errno = saved;
	return -1;
}

int
queue_peek(struct queue *q, size_t max, uint64_t *seq, char **data,
    size_t *len)
{
	char		 name[QUEUE_NAME_LEN + 1], *buf;
	struct stat	 st;
	size_t		 got = 0;
	ssize_t		 n;
	int		 fd, saved;

	if (queue_count(q) == 0)
		return 1;
	*seq = q->seqs[q->head];
	queue_name(*seq, name, sizeof(name));
	/*
	 * Whatever else an operator or a program put there: a FIFO must not
	 * block us in open() (O_NONBLOCK), a link must not lead elsewhere.
	 */
	if ((fd = openat(q->dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW |
	    O_NONBLOCK)) == -1)
		return -1;
	if (fstat(fd, &st) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > max) {
		close(fd);
		errno = S_ISREG(st.st_mode) ? EFBIG : EINVAL;
		return -1;
	}
	buf = xmalloc((size_t)st.st_size + 1);
	/* Read to end-of-file: the size is only a hint. */
	for (;;) {
		n = read(fd, buf + got, (size_t)st.st_size + 1 - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			saved = errno;
			free(buf);
			close(fd);
			errno = saved;
			return -1;
		}
		if (n == 0)
			break;
		got += (size_t)n;
		if (got == (size_t)st.st_size + 1) {
			/* It grew while we read: nobody else writes here. */
			free(buf);
			close(fd);
			errno = EIO;
			return -1;
		}
	}
	close(fd);
	buf[got] = '\0';
	*data = buf;
	*len = got;
	return 0;
}

int
queue_remove(struct queue *q, uint64_t seq)
{
	char	 name[QUEUE_NAME_LEN + 1];
	int	 rc = 0;

	queue_forget(q, seq);
	queue_name(seq, name, sizeof(name));
	if (unlinkat(q->dirfd, name, 0) == -1 || fsync(q->dirfd) == -1)
		rc = -1;
	return rc;
}

int
queue_set_aside(struct queue *q, uint64_t seq)
{
	char	 name[QUEUE_NAME_LEN + 1], bad[QUEUE_NAME_LEN + 16];
	int	 i;

	queue_forget(q, seq);
	queue_name(seq, name, sizeof(name));
	/*
	 * Never over an earlier NAME.bad (the operator may not have looked
	 * at it yet): NAME.1.bad, NAME.2.bad... instead.
	 */
	for (i = 0; i < QUEUE_TRIES; i++) {
		if (i == 0)
			(void)snprintf(bad, sizeof(bad), "%s.bad", name);
		else
			(void)snprintf(bad, sizeof(bad), "%s.%d.bad", name, i);
		if (linkat(q->dirfd, name, q->dirfd, bad, 0) == 0)
			break;
		if (errno != EEXIST)
			return -1;
	}
	if (i == QUEUE_TRIES) {
		errno = EEXIST;
		return -1;
	}
	if (unlinkat(q->dirfd, name, 0) == -1 || fsync(q->dirfd) == -1)
		return -1;
	return 0;
}
