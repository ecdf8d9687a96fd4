/*
 * master.h: the master's runtime state.
 *
 * A service is one master.cf entry brought to life.  It owns one or more
 * spawn units: a unit has its own listen sockets, children, process count,
 * throttle and statistics.  An ordinary service has exactly one unit; a
 * link service will have one per peer.  Everything that decides "spawn or
 * not" works on units, so both kinds share one spawn path.
 */
#ifndef LM_MASTER_H
#define LM_MASTER_H

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/tree.h>

#include <event2/event.h>
#include <libutil.h>

#include "config.h"
#include "table.h"
#include "util.h"

#define OUTLOG_LINE	2048	/* a child's output line is split here */
#define STORM_EXITS	10	/* more unrequested exits than this in ... */
#define STORM_WINDOW	1000	/* ... this many ms is a crash storm */
#define STOP_TERM_DELAY	1000	/* ms between "please stop" and SIGTERM */
#define MAX_LISTEN	16	/* listen fds per unit */
#define CTL_REQUEST_MAX	4096	/* a control request line */

#define OUTLOG_RATE	100	/* output lines a second, per pipe */
#define LOG_QUEUE_LINES	1000	/* log lines waiting for a slow syslog */
#define STATUS_BAD_RATE	10	/* bad status messages logged a second */

struct unit;

/* ratelimit.c: so many log lines a second, then one summary. */
struct ratelimit {
	unsigned	 limit;		/* lines a second; 0 = no limit */
	unsigned	 n;		/* logged in this window */
	unsigned long	 suppressed;	/* held back, not yet reported */
	long long	 start;		/* ms, the window's start */
	struct event	*ev;		/* the window's end, when needed */
	void		(*report)(unsigned long, unsigned, void *);
	void		*arg;
};
void	ratelimit_init(struct ratelimit *, unsigned,
	    void (*)(unsigned long, unsigned, void *), void *);
int	ratelimit_pass(struct ratelimit *);
void	ratelimit_done(struct ratelimit *);

struct throttle {
	int		 level;		/* consecutive bad startups */
	int		 active;
	long long	 until;		/* now_ms() when it ends */
	struct event	*ev;
};

struct child {
	RB_ENTRY(child)		 by_pid;
	TAILQ_ENTRY(child)	 entry;		/* in its unit */
	pid_t			 pid;
	struct unit		*unit;
	int			 generation;
	int			 status_fd;	/* -1 once closed */
	struct event		*status_ev;
	struct event		*grace_ev;	/* startup_grace */
	struct event		*kill_ev;	/* drain deadline */
	int			 avail;		/* counted in unit->avail */
	int			 started;
	int			 stopping;	/* we asked it to stop */
	int			 spoke;		/* it sent a message */
	int			 no_handoff;	/* its link leads nowhere now */
	int			 reaped;	/* exited: drain, then forget */
	unsigned long		 uses;
	struct ratelimit	 bad_rl;	/* bad status messages */
	long long		 born;		/* now_ms() at spawn */
	char			*last_err;	/* last stderr line, or NULL */
	int			 setup_failed;	/* exited before exec: last_err */
	int			 report_fd;	/* its set-up report, or -1 */
	struct event		*report_ev;	/* ... while it may still come */
};
RB_HEAD(child_tree, child);
int	child_cmp(struct child *, struct child *);
RB_PROTOTYPE(child_tree, child, by_pid, child_cmp)

struct unit {
	TAILQ_ENTRY(unit)	 entry;		/* in its service */
	struct service		*svc;
	char			*name;		/* "echo", "link/beta" */
	char			*ident;		/* "linkmaster/echo" */
	char			*cmdpath;	/* command, resolved */
	struct peer		 peer;		/* link units: their peer */
	int			 handoff_fd;	/* link handed back, or -1 */
	int			 nlisten;
	int			 listen_fd[MAX_LISTEN];
	struct event		*listen_ev[MAX_LISTEN];
	char			*listen_path;	/* file to remove, or NULL */
	int			 listening;
	TAILQ_HEAD(, child)	 children;
	int			 total;		/* current children */
	int			 avail;		/* ... of them idle */
	int			 draining;	/* asked to stop, alive */
	int			 limit;		/* 0 = unlimited */
	int			 retired;	/* removed by reload */
	int			 down;		/* stopped by the operator */
	struct throttle		 throttle;
	struct event		*wakeup_ev;
	int			 used;		/* a child was ever spawned */
	int			 warned_priv;
	long long		 storm_start;
	int			 storm_count;
	unsigned long		 uses;
	unsigned long		 restarts;
	char			 last_exit[32];
	long long		 last_exit_at;	/* now_ms(), 0: never */
	pid_t			 last_exit_pid;
	char			*throttle_cause;	/* last throttle, why */
	char			*status_text;
	/* inetd mode (accept = yes): the connection being spawned for. */
	int			 conn_fd;	/* -1: none */
	char			 conn_addr[64];	/* REMOTE_ADDR, "" if unix */
	char			 conn_port[8];	/* REMOTE_PORT */
	int			 conn_fork;	/* others wait: fork, not vfork */
};

struct service {
	TAILQ_ENTRY(service)	 entry;
	struct tentry		*te;		/* owned */
	int			 retired;	/* removed by reload */
	int			 down;		/* new units start down */
	TAILQ_HEAD(, unit)	 units;
	char			*cg_path;	/* its cgroup, once made */
	int			 cg_dirfd;	/* ... opened, O_PATH */
	int			 cg_procsfd;	/* ... its cgroup.procs, or -1 */
};
TAILQ_HEAD(service_list, service);

struct master {
	struct service_list	 retired;	/* removed, children draining */
	struct event_base	*base;
	struct config		*cfg;
	struct service_list	 services;
	struct child_tree	 children;
	int			 nchildren;
	int			 generation;
	int			 stopping;	/* 0, or the signal / -1 */
	int			 aborting;
	int			 is_root;
	pid_t			 pid;
	long long		 started;	/* now_ms() at start */
	struct lm_pidfile	*pfh;
	struct event		*stop_term_ev;
	struct event		*stop_kill_ev;
	int			 ready_fd;	/* "linkmaster start" waits */
	int			 foreground;
	int			 ctl_fd;
	struct event		*ctl_ev;
	char			*ctl_path;
};

extern struct master	*M;

/* master.c */
int		 master_run(struct config *, struct table *,
		    struct lm_pidfile *,
		    int ready_fd, int foreground);
void		 master_stop(int signo, int abort);
void		 master_startup_check(void);

/* svc.c */
int		 svc_create_all(struct table *, struct errlist *);
int		 svc_listen_open(const struct config *, struct unit *,
		    struct errlist *);
struct unit	*svc_unit_new(struct service *, const char *,
		    const struct peer *);
void		 svc_unit_peer_tls(struct unit *, const struct config *,
		    const struct peer *);
void		 svc_unit_free(struct unit *);
struct service	*svc_find(const char *, enum svc_type);
struct unit	*svc_link_predecessor(const struct unit *);
struct unit	*svc_link_successor(const struct unit *);
void		 svc_listen_close(struct unit *);
void		 svc_free(struct service *);
char		*svc_command_path(const struct config *, const struct tentry *);
const struct svcconf *svc_conf(const struct service *);
char		*svc_ident(const struct config *, const struct tentry *,
		    const char *unitname);

/* inetd.c */
int		 inetd_unit(const struct unit *);
void		 inetd_update(struct unit *);
char		**inetd_env(const struct config *, const struct unit *);

/* avail.c */
void		 avail_update(struct unit *);
void		 avail_listen_off(struct unit *);

/* spawn.c */
struct child	*spawn_child(struct unit *);
void		 child_stop(struct child *);
void		 child_retire(struct child *, long long kill_ms);
void		 child_signal(struct child *, int);
void		 child_term(struct child *);
struct child	*child_find(pid_t);
void		 child_free(struct child *);
void		 child_started(struct child *, const char *why);
void		 spawn_report_drain(struct child *);

/* pidfile.c */
struct lm_pidfile;
struct lm_pidfile *pidf_open(const char *, mode_t, pid_t *other);
int		 pidf_write(struct lm_pidfile *);
void		 pidf_close(struct lm_pidfile *);
void		 pidf_remove(struct lm_pidfile *);

/* cgroup.c */
void		 cgroup_init(void);
int		 cgroup_dir_fd(struct service *);
int		 cgroup_procs_fd(struct service *);
void		 cgroup_spawned(struct child *);
void		 cgroup_reaped(struct child *);
void		 cgroup_service_free(struct service *);
void		 cgroup_stop(void);

/* env.c */
char		**env_build(const struct config *, const struct unit *,
		    int status_fd, int generation, pid_t pid, int handoff);
void		 env_free(char **);

/* reap.c */
void		 reap_children(void);

/* status.c */
void		 status_read_cb(int, short, void *);
void		 status_close(struct child *);
void		 status_drain(struct child *);

/* outlog.c */
int		 outlog_open(int fd, int pri, const char *ident, pid_t pid);
void		 outlog_shutdown(void);
void		 outlog_drain(pid_t);

/* throttle.c */
long long	 throttle_delay(int level, long long min, long long max);
void		 throttle_bad(struct unit *, const char *why);
void		 throttle_release(struct unit *);
void		 throttle_reset(struct unit *);
void		 throttle_clear(struct unit *);

/* wakeup.c */
void		 wakeup_arm(struct unit *);
void		 wakeup_clear(struct unit *);

/* control.c */
int		 control_open(struct errlist *);
void		 control_close(void);
void		 control_retry_all(void);
void		 control_reaped(void);

/* reload.c */
struct evbuffer;
int		 reload_run(struct evbuffer *);
void		 reload_reaped(struct unit *);

/* notify.c */
void		 notify_init(void);
void		 notify_ready(void);
void		 notify_reloading(void);
void		 notify_stopping(void);
void		 notify_close(void);

/* check.c */
int		 check_commands(const struct config *, const struct table *,
		    struct errlist *);
int		 check_paths(const struct config *, struct errlist *);
int		 check_sections(const struct config *, const struct table *,
		    struct errlist *);
int		 check_links(const struct config *, const struct table *,
		    struct errlist *);

/* tlscheck.c */
int		 check_tls(const struct config *, struct errlist *);

/* tlsexec.c */
__dead void	 tlsexec_command(const struct config *, const char *);
int		 tlsexec_check(const struct config *, struct errlist *);

#endif
