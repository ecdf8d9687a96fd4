/*
 * queue.c: the durable queue of a link's critical requests, one file per
 * request in one directory: this file owns the directory and knows what
 * is in it; queue_entry.c writes, reads and removes the request files.
 *
 * One helper owns a queue: queue_open() takes an exclusive flock on the
 * file "lock" in the directory, held until queue_close() (or exit), and
 * fails if another process holds it.  Then it removes the stale .tmp
 * files (writes that never completed, so never acknowledged) and loads
 * the numbers present, kept in memory, sorted, so that the oldest is
 * found without a scan.
 *
 * Everything is done relative to a directory fd, so a directory renamed or
 * replaced under us is noticed as an error rather than written around.
 * Failure policy: queue_open() fails with a message (a path that is not
 * an absolute directory, a mkdir, open, lock, read or fsync that fails)
 * and leaves nothing open; the rest cannot fail.
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
#include "queue_priv.h"
#include "util.h"

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

void
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

/* Forget seq from the in-memory list. */
void
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
