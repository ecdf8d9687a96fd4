/*
 * linktls.c: the TLS context of a link helper, made again when its files
 * change: certificate rotation without dropping links.
 *
 * The helpers read linkmaster.conf themselves for every new connection
 * (link at each attempt, linkd at each accept), so a reload that gives
 * new tls_key/tls_cert/tls_ca paths, or new files at the same paths,
 * applies to the next connection without restarting a helper; the
 * connections already up keep the context they were made with (tls.c
 * counts references).  A file is the same while its path, device, inode,
 * size and modification time are: a context is not rebuilt (two PEM
 * parses and a key check) for every connection.
 *
 * Once a link is up, linktls_settle gives back what its handshake left
 * mapped: a static helper runs about 1.8 MB of libssl's and libcrypto's
 * code and 0.9 MB of their read-only data to make a TLS link, and the
 * kernel counts every 64 KiB window of the binary it touched in its
 * VmRSS until it exits, while an idle link runs none of it.  Its page-
 * table entries for the executable's read-only PT_LOAD segments are
 * dropped (madvise MADV_DONTNEED): those pages are the file's own (never
 * written: no PF_W, and RELRO lies in the writable segment, never
 * touched here), so the next use maps the same bytes from the page
 * cache again.  Only the executable's own segments: shared libraries
 * (a dynamic build) are left alone.
 *
 * Failures are returned with the reason; nothing here logs.
 */
#include <sys/types.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <errno.h>
#include <link.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "linktls.h"
#include "util.h"

struct linktls_file {
	char		*path;
	struct stat	 st;		/* st_ino 0: not there */
};

static struct {
	struct tls_ctx		*ctx;
	enum tls_role		 role;
	struct linktls_file	 f[3];	/* key, cert, ca */
} LT;

static int
linktls_same(const struct linktls_file *f, const char *path,
    const struct stat *st)
{
	if ((f->path == NULL) != (path == NULL))
		return 0;
	if (path == NULL)
		return 1;
	return strcmp(f->path, path) == 0 && f->st.st_dev == st->st_dev &&
	    f->st.st_ino == st->st_ino && f->st.st_size == st->st_size &&
	    f->st.st_mtim.tv_sec == st->st_mtim.tv_sec &&
	    f->st.st_mtim.tv_nsec == st->st_mtim.tv_nsec;
}

struct tls_ctx *
linktls_ctx(enum tls_role role, const char *key, const char *cert,
    const char *ca, int *renewed, char *err, size_t errlen)
{
	const char	*paths[3] = { key, cert, ca };
	struct stat	 st[3];
	int		 i, same, bad = 0;

	if (renewed != NULL)
		*renewed = 0;
	same = LT.ctx != NULL && LT.role == role;
	for (i = 0; i < 3; i++) {
		memset(&st[i], 0, sizeof(st[i]));
		if (paths[i] != NULL && stat(paths[i], &st[i]) == -1) {
			(void)snprintf(err, errlen, "%s %s: %s", i == 0 ?
			    "tls_key" : i == 1 ? "tls_cert" : "tls_ca",
			    paths[i], strerror(errno));
			same = 0;
			bad = 1;
			break;
		}
		if (same && !linktls_same(&LT.f[i], paths[i], &st[i]))
			same = 0;
	}
	if (same)
		return LT.ctx;
	tls_ctx_free(LT.ctx);
	for (i = 0; i < 3; i++) {
		free(LT.f[i].path);
		LT.f[i].path = NULL;
	}
	if (bad || (LT.ctx = tls_ctx_new(role, key, cert, ca, err,
	    errlen)) == NULL) {
		LT.ctx = NULL;
		return NULL;
	}
	LT.role = role;
	for (i = 0; i < 3; i++) {
		LT.f[i].path = paths[i] != NULL ? xstrdup(paths[i]) : NULL;
		LT.f[i].st = st[i];
	}
	if (renewed != NULL)
		*renewed = 1;
	return LT.ctx;
}

#define LINKTLS_RO_MAX	8	/* read-only segments dropped, at most */

struct linktls_ro {
	uintptr_t	 pg;
	int		 n;
	uintptr_t	 lo[LINKTLS_RO_MAX], hi[LINKTLS_RO_MAX];
};

/*
 * The first object dl_iterate_phdr reports is the executable: each of
 * its loaded segments without PF_W, its whole pages only (a page shared
 * with a writable segment stays).
 */
static int
linktls_find_ro(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct linktls_ro	*ro = arg;
	const ElfW(Phdr)	*ph;
	uintptr_t		 lo, hi;
	int			 i;

	for (i = 0; i < info->dlpi_phnum && ro->n < LINKTLS_RO_MAX; i++) {
		ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD || (ph->p_flags & PF_W) != 0)
			continue;
		lo = (info->dlpi_addr + ph->p_vaddr + ro->pg - 1) &
		    ~(ro->pg - 1);
		hi = (info->dlpi_addr + ph->p_vaddr + ph->p_filesz) &
		    ~(ro->pg - 1);
		if (hi > lo) {
			ro->lo[ro->n] = lo;
			ro->hi[ro->n++] = hi;
		}
	}
	return 1;
}

void
linktls_settle(struct tls *t)
{
	struct linktls_ro	 ro;
	int			 i;

	tls_shrink(t);
#ifdef __GLIBC__
	(void)malloc_trim(0);
#endif
	memset(&ro, 0, sizeof(ro));
	ro.pg = (uintptr_t)sysconf(_SC_PAGESIZE);
	(void)dl_iterate_phdr(linktls_find_ro, &ro);
	/*
	 * Found first, dropped after, through syscall(2): code that runs
	 * after the drop maps its 64 KiB window again, and neither
	 * dl_iterate_phdr nor the madvise wrapper is among the hot code of
	 * link-hot.ld (syscall is): 192 KiB more text, measured.
	 */
	for (i = 0; i < ro.n; i++)
		(void)syscall(SYS_madvise, ro.lo[i], ro.hi[i] - ro.lo[i],
		    MADV_DONTNEED);
}
