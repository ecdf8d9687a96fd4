/*
 * tlsexec.c: the master and the linkmaster command reach OpenSSL only
 * through the tlstool helper in daemon_directory (services/tlstool.c), as
 * Postfix's master leaves its TLS work to tlsmgr: linked in, libssl and
 * libcrypto cost every idle master half a MiB of relocated pages.
 *
 * tlsexec_command() becomes the helper for "linkmaster tls-init" and
 * "tls-fingerprint" (its output and exit code are the command's).
 * tlsexec_check() runs it for check, start and reload, reads its findings
 * and files them as check's own: errors in the errlist, warnings logged.
 * A helper that cannot be run, dies or says something unexpected is an
 * error that names it: a check that could not look is not a pass.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "master.h"

#define TLSEXEC_TOOL	"tlstool"
#define TLSEXEC_OUT_MAX	65536	/* more is not the helper talking */

extern char	**environ;

static char *
tlsexec_path(const struct config *cfg)
{
	char	*p;

	xasprintf(&p, "%s/%s", cfg->daemon_directory, TLSEXEC_TOOL);
	return p;
}

void
tlsexec_command(const struct config *cfg, const char *cmd)
{
	char	*path = tlsexec_path(cfg);
	char	*argv[4];

	argv[0] = TLSEXEC_TOOL;
	argv[1] = cfg->confdir;
	argv[2] = (char *)cmd;
	argv[3] = NULL;
	fflush(stdout);
	execve(path, argv, environ);
	fprintf(stderr, "linkmaster: %s: cannot run %s: %s\n", cmd, path,
	    strerror(errno));
	exit(1);
}

/* Run the helper with argv, its stdout and stderr into a pipe: the pid. */
static pid_t
tlsexec_spawn(const char *path, char *const argv[], int *outfd)
{
	posix_spawn_file_actions_t	 fa;
	posix_spawnattr_t		 attr;
	sigset_t			 none, all;
	pid_t				 pid;
	int				 p[2], rc;

	if (pipe2(p, O_CLOEXEC) == -1)
		return -1;
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null",
	    O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, p[1], STDOUT_FILENO);
	posix_spawn_file_actions_adddup2(&fa, p[1], STDERR_FILENO);
	posix_spawnattr_init(&attr);
	/* The master's mask and handlers are not the helper's. */
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK |
	    POSIX_SPAWN_SETSIGDEF);
	rc = posix_spawn(&pid, path, &fa, &attr, argv, environ);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	if (rc != 0) {
		close(p[0]);
		errno = rc;
		return -1;
	}
	*outfd = p[0];
	return pid;
}

/* All the helper says, NUL-terminated (NULL on a read error). */
static char *
tlsexec_read(int fd)
{
	char	*buf = NULL;
	size_t	 len = 0, cap = 0;
	ssize_t	 n;

	for (;;) {
		if (cap - len < 4096) {
			cap = cap == 0 ? 4096 : cap * 2;
			buf = xreallocarray(buf, cap, 1);
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			free(buf);
			return NULL;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > TLSEXEC_OUT_MAX)
			break;
	}
	buf[len] = '\0';
	return buf;
}

int
tlsexec_check(const struct config *cfg, struct errlist *errs)
{
	char	*path, *out, *line, *next, *argv[7];
	size_t	 before = errs->n;
	pid_t	 pid;
	int	 fd, status;

	if ((cfg->tls_key == NULL || cfg->tls_cert == NULL) &&
	    cfg->tls_ca == NULL)
		return 0;
	path = tlsexec_path(cfg);
	argv[0] = TLSEXEC_TOOL;
	argv[1] = "check";
	argv[2] = cfg->tls_key != NULL && cfg->tls_cert != NULL ?
	    cfg->tls_key : "";
	argv[3] = cfg->tls_key != NULL && cfg->tls_cert != NULL ?
	    cfg->tls_cert : "";
	argv[4] = cfg->host_name != NULL ? cfg->host_name : "";
	argv[5] = cfg->tls_ca != NULL ? cfg->tls_ca : "";
	argv[6] = NULL;
	if ((pid = tlsexec_spawn(path, argv, &fd)) == -1) {
		errlist_add(errs, "%s: cannot check the TLS files: %s: %s",
		    cfg->conf_file, path, strerror(errno));
		free(path);
		return -1;
	}
	out = tlsexec_read(fd);
	close(fd);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	if (out == NULL || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		if (out != NULL && (next = strchr(out, '\n')) != NULL)
			*next = '\0';
		if (out == NULL)
			errlist_add(errs, "%s: cannot check the TLS files: "
			    "reading from %s: %s", cfg->conf_file, path,
			    strerror(errno));
		else if (WIFSIGNALED(status))
			errlist_add(errs, "%s: cannot check the TLS files: "
			    "%s killed by signal %d%s%s", cfg->conf_file, path,
			    WTERMSIG(status), *out != '\0' ? ": " : "", out);
		else
			errlist_add(errs, "%s: cannot check the TLS files: "
			    "%s exit status %d%s%s", cfg->conf_file, path,
			    WEXITSTATUS(status), *out != '\0' ? ": " : "",
			    out);
		free(out);
		free(path);
		return -1;
	}
	for (line = out; line != NULL && *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (strncmp(line, "error: ", 7) == 0)
			errlist_add(errs, "%s: %s", cfg->conf_file, line + 7);
		else if (strncmp(line, "warning: ", 9) == 0)
			log_warnx("%s: %s", cfg->conf_file, line + 9);
		else
			errlist_add(errs, "%s: cannot check the TLS files: "
			    "%s said: %s", cfg->conf_file, path, line);
	}
	free(out);
	free(path);
	return errs->n == before ? 0 : -1;
}
