/*
 * linkd.h: the peer side of a link, shared by its files: main and the
 * accept loop (linkd.c), the options (linkd_opts.c), the session
 * (linkd_sess.c), its backend pool (linkd_pool.c) and the pool's
 * connections (linkd_bconn.c), the peer lookup (linkd_peer.c) and the
 * caps on connections before their hello (linkd_limit.c).
 */
#ifndef LM_LINKD_H
#define LM_LINKD_H

#include <sys/types.h>
#include <sys/queue.h>

#include <netdb.h>
#include <stddef.h>
#include <stdint.h>

#include "linkproto.h"
#include "util.h"

struct event;
struct event_base;
struct config;
struct lconn;
struct lconn_flusher;
struct sess;

/* How long the last words to a link that does not read may take. */
#define LINKD_FLUSH_MS	10000
/*
 * A backend connection that has answered nothing for this long with
 * requests outstanding is busy with a slow one: the pool grows.  Well
 * above what a backend that computes takes for a burst, well below what
 * one that waits on disks or hosts takes.
 */
#define LINKD_LAG_MS	2
/*
 * Requests outstanding on one backend connection, by default.  A link's
 * burst (8 clients x 16 in flight is 128) goes out in one write and its
 * replies come back in one read: with 32, the rest waited for each
 * round trip, and linkd and the backend made a third more read and
 * write calls per request, each a wake-up of the other.  What stays
 * bounded: what a slow request holds up behind it before the lag shows
 * (backend_lag), and max_output's overshoot (pool x depth replies).
 */
#define LINKD_DEPTH	128

struct linkd_peer {
	char	*name;
	char	*address;
};

/* The options, read at start-up (linkd_opts.c) or set by a test. */
struct linkd_opts {
	const char		*host;
	const char		*backend_name;
	const char		*backend_path;
	const char		*socket_dir;	/* -o socket_dir, else config */
	const char		*confdir;
	struct linkd_peer	*peers;		/* -o peers, else config */
	int			 npeers;
	int			 pool;
	int			 depth;		/* requests per connection */
	int			 max_pending;
	size_t			 max_line;
	size_t			 max_output;	/* unread reply bytes */
	int			 hello_limit;	/* unauthenticated, in all */
	int			 hello_per_address; /* ... from one address */
	long long		 hello_ms;
	long long		 backend_ms;
	long long		 lag_us;	/* backend_lag */
	/* A backend connection (sock_unix_connect; a seam for tests). */
	int			(*connect)(const char *, char *, size_t);
	/*
	 * A session ended: linkd.c frees it once the loop round is over;
	 * NULL (a test's lone session): the event loop breaks.
	 */
	void			(*ended)(struct sess *);
};

extern struct linkd_opts D;

/*
 * A session's life, in this order only (sess_set_state() never goes
 * back): waiting for the hello; serving requests; the link sent
 * end-of-file (what is in hand is answered); the master said stop
 * (likewise, nothing new is read); writing the last words; over.
 */
enum sess_state {
	SESS_HELLO,
	SESS_UP,
	SESS_PEER_EOF,
	SESS_STOPPING,
	SESS_CLOSING,
	SESS_ENDED,
};

/*
 * One request from the link waiting for a backend connection: its line,
 * "<id> <payload>" (hlen bytes of header).  Once sent only its id and
 * header are kept, in the connection's ring.
 */
struct lreq {
	TAILQ_ENTRY(lreq)	 entry;
	uint64_t		 id;
	size_t			 hlen;
	size_t			 len;
	char			 line[];
};

TAILQ_HEAD(lreqlist, lreq);

/*
 * A request sent on a backend connection: its id, and its header as the
 * link wrote it ("<id> ", canonical decimal: linkproto_parse_msg takes
 * no other), which the reply takes back as it is rather than formatting
 * the id again.
 */
struct bsent {
	uint64_t		 id;
	unsigned char		 hlen;
	char			 hdr[LINKPROTO_HDR_MAX];
};

/* One pooled backend connection. */
struct bconn {
	TAILQ_ENTRY(bconn)	 entry;		/* s->conns, oldest first */
	struct sess		*s;
	struct lconn		*c;
	struct bsent		*sent;		/* ring of D.depth */
	int			 head;		/* oldest outstanding */
	int			 nsent;
	long long		 progress;	/* us: last reply, first sent */
	long long		 heard;		/* us: last read, first sent */
	int			 lagging;	/* pool_tick said so */
};

TAILQ_HEAD(bconnlist, bconn);

/*
 * One connection to linkd, from its accept: a link once its hello is
 * accepted (name set).  linkd serves them all in one event loop.
 */
struct sess {
	TAILQ_ENTRY(sess)	 entry;		/* sessions, oldest first */
	struct event_base	*base;
	struct lconn_flusher	*fl;
	struct lconn		*c;		/* the link */
	struct event		*timer_ev;	/* hello, then last words */
	struct event		*tick_ev;	/* the pool's clock */
	int			 tick_set;	/* tick_ev is set */
	long long		 tick_at;	/* us: for then */
	enum sess_state		 state;
	int			 sniffed;	/* TLS or not: decided */
	struct config		*cfg;		/* read for the hello */
	int			 held;		/* max_pending: lines left */
	char			 ip[NI_MAXHOST];
	char			 name[LINKPROTO_NAME_MAX + 1]; /* once up */
	char			*backend;	/* socket path, once up */
	char			 reason[256];	/* why it closes */
	uint64_t		 last_id;	/* ids only grow */
	struct lreqlist		 wait;
	int			 nwait;
	struct bconnlist	 conns;
	int			 nconns;
	int			 nsent;		/* outstanding, all conns */
};

TAILQ_HEAD(sesslist, sess);

/* linkd_opts.c: start-up, before the loop (the linkd binary only) */
void		 linkd_options(void);
void		 linkd_fds(void);

/* linkd_sess.c: the session's life */
extern struct sesslist	 sessions;	/* every one not freed yet */
struct sess	*sess_new(struct event_base *, int fd);
void		 sess_free(struct sess *);
void		 sess_stop(struct sess *);
const char	*sess_state_name(enum sess_state);
void		 sess_reply(struct sess *, const char *, size_t, const char *,
		    size_t);
void		 sess_reply_error(struct sess *, uint64_t, const char *);
void		 sess_settle(struct sess *);
long long	 sess_now(struct sess *);
void		 sess_set_state(struct sess *, enum sess_state, const char *);
void		 sess_end(struct sess *, const char *);
void		 sess_close(struct sess *, const char *);
void		 sess_refuse(struct sess *, const char *);
int		 sess_out_full(const struct sess *);
void		 sess_replace(struct sess *);

/* linkd_limit.c: connections before their hello */
void		 limit_init(struct event_base *);
int		 limit_admit(const char *ip);
int		 limit_evict(const char *why);
void		 limit_log(const char *, ...) LM_PRINTF(1, 2);
void		 limit_done(void);

/* linkd_input.c: the lines read from the link */
void		 sess_readable(struct lconn *, short, void *);
int		 sess_before_flush(void *);

/* linkd_pool.c: which backend connection takes a request, and when */
void		 pool_init(struct sess *);
void		 pool_free(struct sess *);
void		 pool_request(struct sess *, uint64_t, const char *, size_t,
		    size_t);
void		 pool_dispatch(struct sess *);
void		 pool_tick(struct sess *);
void		 pool_catch_up(struct sess *);
void		 pool_arm(struct sess *, long long, long long);

/* linkd_bconn.c: one backend connection */
struct bconn	*bconn_open(struct sess *, char *, size_t);
void		 bconn_send(struct bconn *, uint64_t, const char *, size_t,
		    size_t);
void		 bconn_fail(struct bconn *, const char *);
void		 bconn_drop(struct bconn *);

/* linkd_tls.c: TLS or plaintext, and the certificate against the hello */
int		 linkd_tls_sniff(struct sess *);
const struct config *linkd_tls_config(struct sess *);
void		 linkd_tls_config_done(struct sess *);
int		 linkd_tls_hello(struct sess *, const char *name,
		    const char **refusal);

/* linkd_peer.c */
void		 peer_ip(int fd, char *buf, size_t len);
int		 peer_accept(const struct config *, int fd, const char *ip,
		    const char *name, char **backend, const char **refusal);
void		 peer_parse_list(const char *spec);

#endif
