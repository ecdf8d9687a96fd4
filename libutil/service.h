/*
 * service.h: the child side of the master's contract, for our own helpers.
 *
 * service_init() reads what the master hands over (see linkmaster-contract(7)):
 * LISTEN_FDS/LISTEN_PID, MASTER_STATUS_FD, MASTER_SYSLOG_*, MASTER_MAX_USE,
 * MASTER_MAX_IDLE, and the "-o name=value" options of argv.  Without a master
 * (no MASTER_STATUS_FD) a helper runs standalone: "-o listen=ADDR" (a path
 * or [host:]port) makes it bind its own socket, logs go to stderr, and
 * max_use/max_idle are unlimited.
 *
 * service_run_prefork() is Postfix's single_server loop: wait (poll, no
 * timeout but max_idle) on the listen sockets and the status channel; accept
 * one client, say TAKEN, serve it, say AVAIL; exit after max_use clients,
 * after max_idle seconds idle, or at end-of-file on the status channel
 * (master gone or asked us to stop) once the current client is done.
 */
#ifndef LM_SERVICE_H
#define LM_SERVICE_H

#include "util.h"

/* name: the helper's own name, used for the log ident when standalone. */
void	 service_init(int argc, char *argv[], const char *name);

/* argv after the options service_init understood (-o, -v). */
int	 service_argc(void);
char	**service_argv(void);

/*
 * "-o name=value" (or "-o { name = value }"): the value, or NULL.  Asking
 * marks the option known; one that nobody asked for by service_ready()
 * (which calls service_options_check()) is a fatal startup error that
 * names it, so a typo never passes for a default.  Read every option
 * before READY.
 */
const char *service_option(const char *name);
/* Exit 1, naming each, when an option was never asked for.  Once. */
void	 service_options_check(void);
/* The same as a number in [min, max]; absent: dflt; malformed: fatalx. */
long long service_option_num(const char *name, long long dflt, long long min,
	    long long max);
/* The same as a time (parse_time) in [min, max] ms; absent: dflt. */
long long service_option_time(const char *name, long long dflt, long long min,
	    long long max);
/* The option, else the environment variable env; "" counts as unset. */
const char *service_option_env(const char *name, const char *env);
/*
 * This host's name: -o host_name, else MASTER_HOST_NAME (the master's
 * host_name), else gethostname(); fatal when even that fails.
 */
const char *service_host_name(void);

int	 service_nlisten(void);
int	 service_listen_fd(int);
/*
 * The name LISTEN_FDNAMES gives listen fd i ("link/beta", "handoff"), or
 * NULL (no name, or a socket of our own "-o listen=").  Parsed once here:
 * a name count that does not match LISTEN_FDS is fatal in service_init().
 */
const char *service_listen_name(int);
int	 service_status_fd(void);	/* -1 standalone */
int	 service_max_use(void);		/* 0 = unlimited */
int	 service_max_idle(void);	/* seconds, 0 = unlimited */

/* Status messages (no-ops standalone).  Failures are ignored: a dead
 * master is noticed through end-of-file, not here. */
void	 service_ready(void);
void	 service_taken(void);
void	 service_avail(void);
void	 service_status(const char *, ...) LM_PRINTF(1, 2);

/* True once the status channel said end-of-file (master gone or stop). */
int	 service_stopping(void);

typedef void (*service_client_fn)(int fd, void *arg);
__dead void service_run_prefork(service_client_fn, void *arg);

/*
 * For a unix-dgram socket or a fifo there is nothing to accept: each
 * datagram or fifo chunk read is one "client" (TAKEN, fn, AVAIL), with the
 * same max_use, max_idle and end-of-file rules as service_run_prefork().
 */
typedef void (*service_trigger_fn)(const char *buf, size_t len, void *arg);
__dead void service_run_trigger(service_trigger_fn, void *arg);

/*
 * accept(2) errors that only mean "not this one" (the connection went
 * away, a signal): the caller goes on accepting.  Everything else (out
 * of descriptors, ...) is the caller's to judge.
 */
int	 service_accept_retry(int);
/* True when listen fd i accepts connections (stream or seqpacket socket),
 * false for a datagram socket or a fifo (use service_run_trigger). */
int	 service_listen_is_stream(int);

#endif
