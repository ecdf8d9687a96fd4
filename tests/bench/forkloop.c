/*
 * forkloop.c: the spawn benchmark's baseline, the least a master can do.
 *
 *	forkloop N PROG [ARGS...]
 *
 * fork() and execv() PROG N times in a tight loop, nothing else: no
 * descriptors set up, no environment built, no bookkeeping.  Then wait for
 * SIGTERM (or SIGINT), send SIGTERM to every child, reap them all and exit
 * 0.  The benchmark measures when the children have started (their stamps),
 * so nothing is printed here.  A failed fork kills the children started so
 * far and exits 1; a failed exec exits the child 127 with a message.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static pid_t	*pids;
static long	 npids;

static void
forkloop_end(void)
{
	long	 i;

	for (i = 0; i < npids; i++)
		(void)kill(pids[i], SIGTERM);
	while (wait(NULL) > 0 || errno == EINTR)
		;
}

int
main(int argc, char *argv[])
{
	sigset_t	 set, old;
	char		*end;
	long		 n, i;
	pid_t		 pid;
	int		 sig;

	if (argc < 3) {
		fprintf(stderr, "usage: forkloop N PROG [ARGS...]\n");
		return 2;
	}
	errno = 0;
	n = strtol(argv[1], &end, 10);
	if (errno != 0 || *end != '\0' || n < 1 || n > 100000) {
		fprintf(stderr, "forkloop: bad count: %s\n", argv[1]);
		return 2;
	}
	if ((pids = calloc(n, sizeof(*pids))) == NULL) {
		perror("forkloop: calloc");
		return 1;
	}
	/* Blocked before the first fork, so a stop request is never lost. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, &old);

	for (i = 0; i < n; i++) {
		if ((pid = fork()) == -1) {
			perror("forkloop: fork");
			forkloop_end();
			return 1;
		}
		if (pid == 0) {
			/* A blocked signal stays blocked across exec. */
			sigprocmask(SIG_SETMASK, &old, NULL);
			execv(argv[2], argv + 2);
			fprintf(stderr, "forkloop: exec %s: %s\n", argv[2],
			    strerror(errno));
			_exit(127);
		}
		pids[npids++] = pid;
	}
	while (sigwait(&set, &sig) != 0)
		;
	forkloop_end();
	return 0;
}
