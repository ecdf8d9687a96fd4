/*
 * fakemaster.h: what unit tests need to play the master for a helper:
 * a temp dir, spawning the helper with the contract's fds, reading its
 * status channel, waiting for its exit, reading the log it sends.
 * Every wait has a deadline (FM_WAIT_MS) and fails the test past it.
 */
#ifndef LM_FAKEMASTER_H
#define LM_FAKEMASTER_H

#include <sys/types.h>

#define FM_WAIT_MS	5000	/* deadline for anything a child does */

struct fm_child {
	pid_t	 pid;
	int	 status;	/* our end of its status channel */
};

/* A fresh directory under $TMPDIR (short: socket paths), removed whole. */
void		 fm_tmp_setup(const char *prefix);
void		 fm_tmp_teardown(void);
const char	*fm_tmp_dir(void);
char		*fm_tmp_path(const char *name);	/* malloc'd */

/*
 * Exec top_builddir/services/PROG as the master would: fds[0..n-1] at
 * 3.., the status channel after them, nothing else open, env plus
 * LISTEN_PID (the child's own pid, or listen_pid when not 0).  The child
 * dies with the test (PR_SET_PDEATHSIG).
 */
void		 fm_spawn(struct fm_child *, const char *prog, const int *fds,
		    int n, const char *const env[], char *const args[],
		    pid_t listen_pid);
/* Next status packet ("" at end-of-file); *fd gets a passed fd (or -1;
 * fd NULL: any passed fd is closed). */
const char	*fm_next_packet(struct fm_child *, int *fd);
/* Exit status within ms, or -1 after killing it. */
int		 fm_wait(struct fm_child *, int ms);
void		 fm_expect_exit(struct fm_child *, int code);
/* A datagram on logfd containing want; returns the whole line. */
const char	*fm_expect_log(int logfd, const char *want);
/* A blocking connection to a unix stream socket. */
int		 fm_unix_client(const char *path);

#endif
