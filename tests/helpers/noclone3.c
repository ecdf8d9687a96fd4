/*
 * noclone3.c: run a command on a kernel without clone3, as far as it can
 * tell.
 *
 *	noclone3 PROG [ARGS...]
 *
 * Installs a seccomp filter under which clone3 fails with ENOSYS (what a
 * kernel before 5.3 says, and what container runtimes' default filters
 * said for years), then execs PROG.  The filter is inherited by
 * everything PROG starts.  For the test of the master's fallback from
 * clone3(CLONE_INTO_CGROUP) to a child that joins its cgroup itself.
 * Exits 111 with a message if it cannot install the filter or exec.
 */
#include <sys/syscall.h>

#include <linux/seccomp.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sysfilter.h"

int
main(int argc, char *argv[])
{
	if (argc < 2) {
		fprintf(stderr, "usage: noclone3 PROG [ARGS...]\n");
		return 111;
	}
	/* clone3 has the same number on every architecture (435). */
	if (sysfilter_one(SYS_clone3, SECCOMP_RET_ERRNO | ENOSYS, 0) == -1) {
		fprintf(stderr, "noclone3: seccomp: %s\n", strerror(errno));
		return 111;
	}
	execv(argv[1], argv + 1);
	fprintf(stderr, "noclone3: exec %s: %s\n", argv[1], strerror(errno));
	return 111;
}
