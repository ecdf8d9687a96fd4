/*
 * pidfile.c: the master's pid file, which is also its lock.
 *
 * libbsd's pidfile_open() follows a symlink at the pid file's name, and
 * pidfile_write() then truncates whatever it points to: a root master
 * would clobber any file.  Here the file is opened with O_NOFOLLOW and
 * must be a regular file with one link (a hard link to another file is
 * refused too); the lock is a flock() on it, held for the master's life.
 * A locked file means a running master: its pid is read and returned.
 */
#include <sys/types.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "master.h"

struct lm_pidfile {
	int	 fd;
	char	*path;
	dev_t	 dev;
	ino_t	 ino;
};

/*
 * Open and lock path.  On failure return NULL with errno: EEXIST when
 * another process holds the lock (its pid in *other, or -1), ELOOP for a
 * symlink, EINVAL for a non-regular file or one with several links.
 */
struct lm_pidfile *
pidf_open(const char *path, mode_t mode, pid_t *other)
{
	struct lm_pidfile *pf;
	struct stat	 st;
	char		 buf[32];
	ssize_t		 n;
	int		 fd, saved;

	if (other != NULL)
		*other = -1;
	if ((fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_NOCTTY |
	    O_CLOEXEC | O_NONBLOCK, mode)) == -1)
		return NULL;
	if (fstat(fd, &st) == -1)
		goto fail;
	if (!S_ISREG(st.st_mode) || st.st_nlink != 1) {
		errno = EINVAL;
		goto fail;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EWOULDBLOCK) {
			n = pread(fd, buf, sizeof(buf) - 1, 0);
			if (n > 0 && other != NULL) {
				buf[n] = '\0';
				*other = (pid_t)strtol(buf, NULL, 10);
			}
			errno = EEXIST;
		}
		goto fail;
	}
	pf = xcalloc(1, sizeof(*pf));
	pf->fd = fd;
	pf->path = xstrdup(path);
	pf->dev = st.st_dev;
	pf->ino = st.st_ino;
	return pf;
 fail:
	saved = errno;
	close(fd);
	errno = saved;
	return NULL;
}

/* Write our pid (the caller's, after any fork). */
int
pidf_write(struct lm_pidfile *pf)
{
	char	 buf[32];
	int	 n;

	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(pf->fd, 0) == -1 || pwrite(pf->fd, buf, n, 0) != n)
		return -1;
	return 0;
}

/* Let go of our descriptor only (the lock stays with other copies). */
void
pidf_close(struct lm_pidfile *pf)
{
	if (pf == NULL)
		return;
	close(pf->fd);
	free(pf->path);
	free(pf);
}

/* Remove the file, if it is still ours, and let go of it. */
void
pidf_remove(struct lm_pidfile *pf)
{
	struct stat	 st;

	if (pf == NULL)
		return;
	if (lstat(pf->path, &st) == 0 && st.st_dev == pf->dev &&
	    st.st_ino == pf->ino)
		(void)unlink(pf->path);
	pidf_close(pf);
}
