/*
 * hostile.c: a service program that is hard to stop, for the tests.
 *
 *	hostile [-i] [-s] [-u user] [-w workers]
 *
 * Says "main PID ready" on stdout, forks the workers (each says "worker
 * PID ready"), then waits for signals.  On TERM, INT, QUIT, HUP, USR1 or
 * USR2 a process says "main got SIGNAME" (or "worker ..."); the main
 * process then sends SIGTERM to its workers, waits for them and exits 0;
 * a worker exits 0.
 *	-i	ignore SIGTERM (workers inherit it)
 *	-s	each worker calls setsid(): it leaves the process group
 *	-u user	drop privileges to user first (as root), which clears
 *		PR_SET_PDEATHSIG, as lighttpd does
 *	-w n	fork n workers (default 0)
 * Everything it says is one write(2) of one line; failures exit 1.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAXWORKERS	16

static volatile sig_atomic_t got;

static void
onsig(int sig)
{
	got = sig;
}

static void
say(const char *who, const char *what)
{
	char	 buf[128];
	int	 n;

	n = snprintf(buf, sizeof(buf), "%s %ld %s\n", who, (long)getpid(),
	    what);
	(void)write(STDOUT_FILENO, buf, n);
}

static void
die(const char *what)
{
	fprintf(stderr, "hostile: %s: %s\n", what, strerror(errno));
	exit(1);
}

int
main(int argc, char **argv)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGQUIT, SIGHUP,
	    SIGUSR1, SIGUSR2 };
	struct sigaction sa;
	struct passwd	*pw;
	sigset_t	 block, old;
	pid_t		 workers[MAXWORKERS];
	const char	*who = "main", *user = NULL;
	char		 what[64];
	int		 c, ignore = 0, newsess = 0, nworkers = 0, i;
	size_t		 j;

	while ((c = getopt(argc, argv, "isu:w:")) != -1)
		switch (c) {
		case 'i':
			ignore = 1;
			break;
		case 's':
			newsess = 1;
			break;
		case 'u':
			user = optarg;
			break;
		case 'w':
			nworkers = atoi(optarg);
			if (nworkers < 0 || nworkers > MAXWORKERS)
				nworkers = MAXWORKERS;
			break;
		default:
			fprintf(stderr, "usage: hostile [-i] [-s] [-u user] "
			    "[-w workers]\n");
			return 2;
		}
	if (user != NULL && geteuid() == 0) {
		if ((pw = getpwnam(user)) == NULL) {
			fprintf(stderr, "hostile: no user %s\n", user);
			return 1;
		}
		if (setgroups(0, NULL) == -1 || setgid(pw->pw_gid) == -1 ||
		    setuid(pw->pw_uid) == -1)
			die("dropping privileges");
	}

	sigemptyset(&block);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = onsig;
	for (j = 0; j < sizeof(sigs) / sizeof(sigs[0]); j++) {
		sigaddset(&block, sigs[j]);
		if (sigs[j] == SIGTERM && ignore)
			signal(SIGTERM, SIG_IGN);
		else if (sigaction(sigs[j], &sa, NULL) == -1)
			die("sigaction");
	}
	sigprocmask(SIG_BLOCK, &block, &old);
	sigdelset(&old, SIGTERM);

	say(who, "ready");
	for (i = 0; i < nworkers; i++) {
		if ((workers[i] = fork()) == -1)
			die("fork");
		if (workers[i] == 0) {
			who = "worker";
			nworkers = 0;
			if (newsess && setsid() == -1)
				die("setsid");
			say(who, "ready");
			break;
		}
	}

	while (got == 0)
		sigsuspend(&old);
	snprintf(what, sizeof(what), "got SIG%s", sigabbrev_np(got));
	say(who, what);
	for (i = 0; i < nworkers; i++)
		(void)kill(workers[i], SIGTERM);
	for (i = 0; i < nworkers; i++)
		(void)waitpid(workers[i], NULL, 0);
	return 0;
}
