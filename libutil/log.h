/*
 * log.h: the one logging API of master and services (relayd-style).
 *
 * Lines go to a syslog datagram socket whose path is configurable (so a test
 * or a container can capture them), as "<pri>Mmm dd hh:mm:ss ident[pid]: msg",
 * with Postfix's severity prefixes: "warning: ", "error: ", "fatal: ".
 * Optionally every line is copied to stderr ("ident[pid]: msg").
 * A missing or full syslog socket never stops the caller for long: a send
 * waits at most one second, then the line is dropped (stderr still gets it);
 * in queued mode (log_queue_init) a send never waits at all.
 */
#ifndef LM_LOG_H
#define LM_LOG_H

#include <sys/types.h>
#include <stdarg.h>

#include "util.h"

/* facility: a name ("daemon", "local0", ...); an unknown name means daemon. */
void	 log_init(const char *ident, const char *facility, const char *socket,
	    int to_stderr);
void	 log_set_ident(const char *);
const char *log_ident(void);
void	 log_set_stderr(int);
int	 log_stderr_enabled(void);
void	 log_set_verbose(int);
/* Close the syslog socket (a child about to exec, or a fork that must not share it). */
void	 log_close(void);
int	 log_facility(const char *);	/* -1 when unknown */
/* log_file instead of syslog (NULL: syslog); child: may relay via stdout. */
int	 log_set_file(const char *path, int child);
const char *log_file_mode(void);	/* "syslog", "file" or "relay" */

void	 log_info(const char *, ...) LM_PRINTF(1, 2);
void	 log_debug(const char *, ...) LM_PRINTF(1, 2);
void	 log_warn(const char *, ...) LM_PRINTF(1, 2);	/* appends strerror(errno) */
void	 log_warnx(const char *, ...) LM_PRINTF(1, 2);
void	 log_error(const char *, ...) LM_PRINTF(1, 2);	/* "error: " prefix */
__dead void fatal(const char *, ...) LM_PRINTF(1, 2);	/* appends strerror, exit 1 */
__dead void fatalx(const char *, ...) LM_PRINTF(1, 2);

/*
 * Queued mode, for a process with an event loop (the master): a line the
 * syslog socket cannot take at once waits in a queue of max lines; wake()
 * is called when the queue becomes non-empty or the socket changes, and
 * the caller then watches log_queue_fd() for writing and calls
 * log_queue_flush() (1: lines still wait, watch again; 0: empty).  What
 * finds the queue full is dropped, counted, and reported in one line once
 * the queue is empty.  log_queue_drain(): before exit, block up to
 * timeout_ms to send what waits (fatal() does).
 */
void	 log_queue_init(size_t max, void (*wake)(void));
int	 log_queue_fd(void);
size_t	 log_queue_pending(void);
int	 log_queue_flush(void);
void	 log_queue_drain(int timeout_ms);

/*
 * Log one line on behalf of someone else: a child's stdout/stderr line is
 * logged under the child's ident and pid.  pri is LOG_INFO, LOG_WARNING, ...
 * and decides the prefix ("warning: " for LOG_WARNING).
 */
void	 log_as(const char *ident, pid_t pid, int pri, const char *msg,
	    size_t len);

#endif
