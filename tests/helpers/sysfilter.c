/*
 * sysfilter.c: install a seccomp filter for a test helper (see
 * sysfilter.h).  Fails only as seccomp(2) and prctl(2) do, with -1 and
 * errno.
 */
#include <sys/prctl.h>
#include <sys/syscall.h>

#include <linux/filter.h>
#include <linux/seccomp.h>

#include <stddef.h>
#include <unistd.h>

#include "sysfilter.h"

int
sysfilter_install(struct sock_filter *f, unsigned short len,
    unsigned int flags)
{
	struct sock_fprog prog = { .len = len, .filter = f };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		return -1;
	return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags,
	    &prog);
}

int
sysfilter_one(long nr, unsigned int action, unsigned int flags)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		    offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned int)nr, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, action),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};

	return sysfilter_install(f, sizeof(f) / sizeof(f[0]), flags);
}
