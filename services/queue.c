/*
 * queue.c: the durable queue of a link's critical requests, one file per
 * request in one directory.
 *
 * A request counts as queued only once both its data and its directory
 * entry are on disk: it is written to NAME.tmp, fsync'ed, hard-linked to
 * NAME, NAME.tmp removed and the directory fsync'ed, so a crash leaves
 * either nothing or a complete file (a stale .tmp is removed at the next
 * open).  Any failure returns -1 with errno and removes what was written,
 * so the caller can tell its client the truth instead of dropping the
 * request.  Removal is unlink + fsync of the directory; a crash before
 * that repeats the request (at least once delivery).
 *
 * One helper owns a queue: queue_open() takes an exclusive flock on the
 * file "lock" in the directory, held until queue_close() (or exit), and
 * fails if another process holds it.  Should two writers meet all the
 * same (a lock that does not work on some file system), no file is ever
 * replaced: temporary files are created exclusively and final names with
 * link(2), which fails on an existing name, and a taken number is skipped.
 *
 * Everything is done relative to a directory fd, so a directory renamed or
 * replaced under us is noticed as an error rather than written around.
 * The numbers in the directory are kept in memory, sorted, so that the
 * oldest is found without a scan.
 */
#include <sys/types.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "queue.h"
#include "util.h"

/* Numbers tried past ones taken by someone else, before giving up. */
#define QUEUE_TRIES	1000

struct queue {
	char		*dir;
	int		 dirfd;
	int		 lockfd;	/* flock'ed QUEUE_LOCK */
	uint64_t	*seqs;		/* sorted; live ones from head */
	size_t		 head;
	size_t		 n;		/* end of live ones */
	size_t		 cap;
	uint64_t	 next;
};


void
queue_name(uint64_t seq, char *buf, size_t len)
{
	(void)snprintf(buf, len, "%020" PRIu64, seq);
}

/* A request file name: exactly 20 digits, a number that fits, not 0. */
static int
queue_parse_name(const char *name, uint64_t *seq)
{
	uint64_t	 v = 0, d;
	size_t		 i;

	for (i = 0; i < QUEUE_NAME_LEN; i++) {
		if (name[i] < '0' || name[i] > '9')
			return -1;
		d = (uint64_t)(name[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	if (name[QUEUE_NAME_LEN] != '\0' || v == 0)
		return -1;
	*seq = v;
	return 0;
}

static int
queue_is_tmp(const char *name)
{
	size_t	 n = strlen(name);

	return n > 4 && strcmp(name + n - 4, ".tmp") == 0;
}

/* mkdir -p, new components 0700; a non-directory on the way is an error. */
static int
queue_mkdirs(const char *dir, char *err, size_t errlen)
{
	struct stat	 st;
	char		*p, *s, c;
	int		 last;

	p = xstrdup(dir);
	for (s = p + 1; ; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		last = *s == '\0';
		/* Skip the empty components of "//" and a trailing "/". */
		if (s[-1] != '/') {
			c = *s;
			*s = '\0';
			if (mkdir(p, 0700) == -1 && errno != EEXIST) {
				errbuf_set(err, errlen, "mkdir %s: %s", p,
				    strerror(errno));
				free(p);
				return -1;
			}
			if (stat(p, &st) == -1) {
				errbuf_set(err, errlen, "stat %s: %s", p,
				    strerror(errno));
				free(p);
				return -1;
			}
			if (!S_ISDIR(st.st_mode)) {
				if (last)
					errbuf_set(err, errlen, "queue %s: "
					    "not a directory", dir);
				else
					errbuf_set(err, errlen, "queue %s: "
					    "%s is not a directory", dir, p);
				free(p);
				return -1;
			}
			*s = c;
		}
		if (last)
			break;
	}
	free(p);
	return 0;
}

static int
queue_cmp(const void *a, const void *b)
{
	uint64_t	 x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void
queue_push(struct queue *q, uint64_t seq)
{
	if (q->n == q->cap) {
		/* Reclaim the consumed front before growing. */
		if (q->head > 0) {
			memmove(q->seqs, q->seqs + q->head,
			    (q->n - q->head) * sizeof(*q->seqs));
			q->n -= q->head;
			q->head = 0;
		}
		if (q->n == q->cap) {
			q->cap = q->cap == 0 ? 64 : q->cap * 2;
			q->seqs = xreallocarray(q->seqs, q->cap,
			    sizeof(*q->seqs));
		}
	}
	q->seqs[q->n++] = seq;
}

/* Load the numbers present and remove stale temporary files. */
static int
queue_scan(struct queue *q, char *err, size_t errlen)
{
	struct dirent	*de;
	DIR		*d;
	uint64_t	 seq;
	int		 fd, removed = 0;

	if ((fd = dup(q->dirfd)) == -1 || (d = fdopendir(fd)) == NULL) {
		errbuf_set(err, errlen, "read %s: %s", q->dir, strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	while ((errno = 0, de = readdir(d)) != NULL) {
		if (queue_is_tmp(de->d_name)) {
			/* A write that never completed: never acknowledged. */
			if (unlinkat(q->dirfd, de->d_name, 0) == -1 &&
			    errno != ENOENT) {
				errbuf_set(err, errlen, "unlink %s/%s: %s",
				    q->dir, de->d_name, strerror(errno));
				closedir(d);
				return -1;
			}
			removed = 1;
			continue;
		}
		if (queue_parse_name(de->d_name, &seq) == 0)
			queue_push(q, seq);
	}
	if (errno != 0) {
		errbuf_set(err, errlen, "read %s: %s", q->dir, strerror(errno));
		closedir(d);
		return -1;
	}
	closedir(d);
	if (removed && fsync(q->dirfd) == -1) {
		errbuf_set(err, errlen, "fsync %s: %s", q->dir,
		    strerror(errno));
		return -1;
	}
	if (q->n > 0)
		qsort(q->seqs, q->n, sizeof(*q->seqs), queue_cmp);
	q->next = q->n > 0 ? q->seqs[q->n - 1] + 1 : 1;
	return 0;
}

/*
 * Take the queue for this process: an exclusive lock on QUEUE_LOCK, held
 * as long as the fd is open (close-on-exec: nothing we run inherits it).
 */
static int
queue_lock(struct queue *q, char *err, size_t errlen)
{
	if ((q->lockfd = openat(q->dirfd, QUEUE_LOCK, O_RDWR | O_CREAT |
	    O_CLOEXEC | O_NOFOLLOW, 0600)) == -1) {
		errbuf_set(err, errlen, "open %s/%s: %s", q->dir, QUEUE_LOCK,
		    strerror(errno));
		return -1;
	}
	while (flock(q->lockfd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EINTR)
			continue;
		if (errno == EWOULDBLOCK)
			errbuf_set(err, errlen, "queue %s is in use by another "
			    "helper", q->dir);
		else
			errbuf_set(err, errlen, "lock %s/%s: %s", q->dir,
			    QUEUE_LOCK, strerror(errno));
		return -1;
	}
	return 0;
}

struct queue *
queue_open(const char *dir, char *err, size_t errlen)
{
	struct queue	*q;
	struct stat	 st;
	int		 fd;

	if (*dir != '/') {
		errbuf_set(err, errlen, "queue %s: not an absolute path", dir);
		return NULL;
	}
	if (queue_mkdirs(dir, err, errlen) == -1)
		return NULL;
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		if (errno == ENOTDIR)
			errbuf_set(err, errlen, "queue %s: not a directory",
			    dir);
		else
			errbuf_set(err, errlen, "open %s: %s", dir,
			    strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == -1 || !S_ISDIR(st.st_mode)) {
		errbuf_set(err, errlen, "queue %s: not a directory", dir);
		close(fd);
		return NULL;
	}
	q = xcalloc(1, sizeof(*q));
	q->dir = xstrdup(dir);
	q->dirfd = fd;
	q->lockfd = -1;
	/* Before the scan: the .tmp files of a live owner are not stale. */
	if (queue_lock(q, err, errlen) == -1 ||
	    queue_scan(q, err, errlen) == -1) {
		queue_close(q);
		return NULL;
	}
	return q;
}

void
queue_close(struct queue *q)
{
	if (q == NULL)
		return;
	if (q->lockfd != -1)
		close(q->lockfd);
	if (q->dirfd != -1)
		close(q->dirfd);
	free(q->seqs);
	free(q->dir);
	free(q);
}

const char *
queue_dir(const struct queue *q)
{
	return q->dir;
}

size_t
queue_count(const struct queue *q)
{
	return q->n - q->head;
}

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

/* Forget seq from the in-memory list. */
static void
queue_forget(struct queue *q, uint64_t seq)
{
	size_t	 i;

	if (queue_count(q) > 0 && q->seqs[q->head] == seq) {
		q->head++;
		if (q->head == q->n)
			q->head = q->n = 0;
		return;
	}
	for (i = q->head; i < q->n; i++)
		if (q->seqs[i] == seq) {
			memmove(q->seqs + i, q->seqs + i + 1,
			    (q->n - i - 1) * sizeof(*q->seqs));
			q->n--;
			return;
		}
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
