/*
 * reap.c: collect exited children and decide what their exit means.
 *
 * Runs from the SIGCHLD event (never from a signal handler) and calls
 * waitpid() until nothing is left, so that as PID 1 in a container it also
 * reaps orphans that were reparented to us.  What a child said on its
 * status channel is read before its exit is judged.  An exit we did not
 * ask for is logged with its status.  It is a bad startup (throttle) when
 * the child had not started and exited abnormally, or, for a daemon unit,
 * exited at all: a keep-alive program that returns at once is broken too,
 * and for a socket service when it exited, even with 0, before it started
 * while a client waits on its socket (it did not accept).  Exits of
 * started children are restarts; too many of them in one second are a
 * crash storm, throttled the same way.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "master.h"

static void
reap_describe(int status, char *buf, size_t len)
{
	if (WIFSIGNALED(status))
		snprintf(buf, len, "signal %d", WTERMSIG(status));
	else
		snprintf(buf, len, "exit %d", WEXITSTATUS(status));
}

/*
 * Whether a client waits on one of u's listen sockets right now (a
 * pending connection, datagram or FIFO write), without waiting.
 */
static int
reap_client_waits(const struct unit *u)
{
	struct pollfd	 pfd[MAX_LISTEN];
	int		 i;

	for (i = 0; i < u->nlisten; i++) {
		pfd[i].fd = u->listen_fd[i];
		pfd[i].events = POLLIN;
		pfd[i].revents = 0;
	}
	return u->nlisten > 0 && poll(pfd, u->nlisten, 0) > 0;
}

/* Returns the reason to throttle, or NULL. */
static const char *
reap_judge(struct child *c, int status, char *why, size_t len)
{
	struct unit	*u = c->unit;
	int		 abnormal, daemon;
	long long	 now;

	abnormal = WIFSIGNALED(status) || WEXITSTATUS(status) != 0;
	daemon = u->svc->te->type == SVC_DAEMON;
	if (c->stopping || M->stopping)
		return NULL;
	if (c->setup_failed)
		log_warnx("process %s pid %d exit status %d: could not start: "
		    "%s", u->cmdpath, (int)c->pid, WIFEXITED(status) ?
		    WEXITSTATUS(status) : -1, c->last_err);
	else if (WIFSIGNALED(status))
		log_warnx("process %s pid %d killed by signal %d", u->cmdpath,
		    (int)c->pid, WTERMSIG(status));
	else if (abnormal || (daemon && !c->started))
		log_warnx("process %s pid %d exit status %d", u->cmdpath,
		    (int)c->pid, WEXITSTATUS(status));
	else if (daemon)
		log_info("process %s pid %d exit status 0", u->cmdpath,
		    (int)c->pid);
	else if (!c->started && !inetd_unit(u) && reap_client_waits(u)) {
		/*
		 * Exit 0 before it started while a client waits: it did not
		 * accept (a started child has said TAKEN or READY, or lived
		 * through startup_grace).  Respawning at once would spin
		 * (/bin/cat as a unix service: 220 a second) while the
		 * client hangs: a bad startup, throttled.
		 */
		log_warnx("process %s pid %d exit status 0 without accepting "
		    "while a client waits", u->cmdpath, (int)c->pid);
		u->restarts++;
		return "bad command startup";
	}
	if (!abnormal && !daemon)
		return NULL;
	u->restarts++;
	if (!c->started)
		return "bad command startup";
	now = now_ms();
	if (now - u->storm_start > STORM_WINDOW) {
		u->storm_start = now;
		u->storm_count = 0;
	}
	if (++u->storm_count > STORM_EXITS) {
		snprintf(why, len, "%d exits in 1s", u->storm_count);
		u->storm_count = 0;
		return why;
	}
	return NULL;
}

static void
reap_child(struct child *c, int status)
{
	struct unit	*u = c->unit;
	char		 why[64], *err;
	const char	*bad;

	reap_describe(status, u->last_exit, sizeof(u->last_exit));
	u->last_exit_at = now_ms();
	u->last_exit_pid = c->pid;
	/* What it wrote last (an exec error) may explain a throttle, and
	 * its set-up report does. */
	outlog_drain(c->pid);
	spawn_report_drain(c);
	/*
	 * All it said on its status channel counts before it is judged:
	 * the SIGCHLD may be handled before the channel's event (the same
	 * turn of the loop, a channel read 32 messages a turn, or another
	 * child's SIGCHLD), and a child that said TAKEN and exited at once
	 * would be taken for one that exited without accepting.
	 */
	c->reaped = 1;
	status_drain(c);
	bad = reap_judge(c, status, why, sizeof(why));
	cgroup_reaped(c);
	err = c->last_err;
	c->last_err = NULL;
	child_free(c);
	if (u->retired)
		reload_reaped(u);
	else if (bad != NULL) {
		throttle_bad(u, bad);
		/* Its last words, or at least how it ended. */
		free(u->throttle_cause);
		if (err != NULL)
			xasprintf(&u->throttle_cause, "%s: %s", bad, err);
		else
			xasprintf(&u->throttle_cause, "%s (%s)", bad,
			    u->last_exit);
	} else
		avail_update(u);
	free(err);
}

void
reap_children(void)
{
	struct child	*c;
	pid_t		 pid;
	int		 status;

	for (;;) {
		pid = waitpid(-1, &status, WNOHANG);
		if (pid == 0 || (pid == -1 && errno == ECHILD))
			break;
		if (pid == -1) {
			if (errno == EINTR)
				continue;
			log_warn("waitpid");
			break;
		}
		if ((c = child_find(pid)) == NULL) {
			log_debug("reaped unknown pid %d", (int)pid);
			continue;
		}
		reap_child(c, status);
	}
	/* A "linkmaster stop SERVICE" may be waiting for these. */
	control_reaped();
	master_startup_check();
	if (M->stopping && M->nchildren == 0)
		event_base_loopbreak(M->base);
}
