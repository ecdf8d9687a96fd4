/*
 * link.h: the link helper's shared state, and what its modules offer
 * each other (see link.c for what the helper does).
 *
 *	link.c		options, descriptors (accepting clients), main
 *	link_peer.c	the peer link: down, connecting, hello, up,
 *			handed over
 *	link_dial.c	reaching the peer; its TLS settings
 *	link_req.c	requests in flight, their answers
 *	link_replay.c	the durable queue, replayed
 *	link_client.c	a client: reading, held, parked, eof, draining,
 *			linger, closed
 *	link_accept.c	clients accepted, parked clients looked at, and
 *			clients stopped with the helper
 *	link_stop.c	stopping, and handing the link over
 *
 * Every state is written by one function (peer_set_state,
 * client_set_state) that also logs the transition; the peer's goes to
 * the master as the service's status.  Clients and requests meet the peer
 * only through peer_is_up() and peer_send(): the seam through which
 * tests/unit/check_linkclient.c drives the client logic without a peer.
 */
#ifndef LM_LINK_H
#define LM_LINK_H

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

#include "lconn.h"

#define LINK_CLIENT_OUT_MAX	(256 * 1024)	/* unread replies */
#define LINK_LINGER_MS		2000	/* reading a thrown-out client */
#define LINK_STOP_READS		1024	/* last reads of a client at stop */
#define LINK_REASON_MAX		300	/* of an error reply, logged */
#define LINK_REPLAY_BREAKS	3	/* links lost with it: set aside */
#define LINK_ACCEPT_PAUSE_MS	1000	/* after EMFILE and friends */
#define LINK_PARK_MAX		1000	/* -o park, ms, at most */

enum peer_state {
	PEER_DOWN,		/* waiting to dial again (or stopping) */
	PEER_CONNECTING,	/* connect(2) in progress */
	PEER_HELLO,		/* connected, hello sent, no answer yet */
	PEER_UP,		/* requests flow */
	PEER_HANDED_OVER,	/* the master has the socket now */
};

enum client_state {
	CLIENT_READING,		/* requests are read */
	CLIENT_HELD,		/* not read: max_pending, or unread replies */
	CLIENT_PARKED,		/* one request sent: not watched for now */
	CLIENT_EOF,		/* no more requests; answering the last */
	CLIENT_DRAINING,	/* stopping: served what it sent, then closed */
	CLIENT_LINGER,		/* thrown out: last reply, then read to EOF */
	CLIENT_CLOSED,		/* gone (only ever logged) */
};

enum req_kind {
	REQ_ORDINARY,		/* answered by the peer or "con_lost" */
	REQ_CRITICAL,		/* the same, or "queued" when that fails */
	REQ_REPLAY,		/* a queued request on its way, no client */
	REQ_LOCAL,		/* answered here ("error: line too long") */
};

/* A client's parking (link_accept.c), in this order. */
enum client_park {
	PARK_NEVER,		/* not parked yet */
	PARK_ASKED,		/* parked, its request unanswered */
	PARK_ANSWERED,		/* parked and answered */
	PARK_DONE,		/* looked at, or left parked: never again */
};

struct client;

struct req {
	TAILQ_ENTRY(req)	 centry;	/* client's FIFO */
	TAILQ_ENTRY(req)	 ientry;	/* in flight: L.inflight */
	TAILQ_ENTRY(req)	 dentry;	/* in flight, by deadline */
	struct client		*c;		/* NULL: gone, or replay */
	enum req_kind		 kind;
	uint64_t		 id;		/* on the link */
	uint64_t		 seq;		/* REQ_REPLAY: in queue */
	long long		 deadline;	/* ms, monotonic */
	char			*line;		/* payload, as needed */
	size_t			 len;
	char			*reply;		/* held for its turn */
	size_t			 rlen;
	int			 answered;
};

TAILQ_HEAD(reqlist, req);
TAILQ_HEAD(reqbucket, req);

/*
 * In-flight requests by id: ids are consecutive, so id modulo a power
 * of two spreads them evenly, and a lookup costs less than a tree's.
 * Each bucket is in the order sent, as replies mostly come.
 */
#define LINK_INFLIGHT_BUCKETS	256

/*
 * Freed requests kept for the next ones (req_free): calloc and free
 * were a tenth of the link's work per request.  Enough for a busy
 * window, little memory for an idle helper after a burst.
 */
#define LINK_SPARE_REQS		256

struct client {
	TAILQ_ENTRY(client)	 entry;
	TAILQ_ENTRY(client)	 kentry;	/* L.kicks */
	TAILQ_ENTRY(client)	 pentry;	/* L.parked */
	struct lconn		*lc;
	enum client_state	 state;
	unsigned		 num;		/* for the debug log */
	struct reqlist		 reqs;		/* request order */
	int			 npending;
	unsigned		 nsent;		/* requests it sent, to 2 */
	int			 eof;		/* read returned 0 */
	int			 kicked;	/* on L.kicks */
	enum client_park	 park;
	long long		 park_end;	/* ms: looked at by then */
	long long		 linger_end;	/* ms; 0: not reading yet */
};

struct queue;
struct event;
struct event_base;
struct addrinfo;
struct tls_ctx;

struct link {
	struct event_base	*base;
	struct lconn_flusher	*fl;

	/* What we were told. */
	const char		*peer;
	const char		*address;
	const char		*port;
	const char		*host;
	const char		*bind;
	struct sockaddr_storage	 bind_ss;
	socklen_t		 bind_len;
	long long		 timeout_ms;
	long long		 retry_min;
	long long		 retry_max;
	long long		 drain_ms;
	long long		 connect_ms;
	size_t			 max_line;
	int			 max_pending;
	long long		 park_ms;	/* -o park; 0: never */
	struct queue		*q;
	const char		*confdir;	/* NULL: no TLS */

	/* TLS, as linkmaster.conf said at the last attempt. */
	int			 tls;		/* this link uses it */
	struct tls_ctx		*tlsctx;	/* linktls.c's */
	char			**pins;		/* the peer's fingerprints */
	int			 npins;

	/* The peer link. */
	enum peer_state		 state;
	struct lconn		*lc;		/* connected, or NULL */
	int			 connfd;
	struct event		*conn_ev;
	struct addrinfo		*ai;
	struct addrinfo		*aicur;
	char			 lasterr[256];
	unsigned		 attempt;
	struct event		*retry_ev;

	/* Requests. */
	uint64_t		 last_id;
	struct reqbucket	 inflight[LINK_INFLIGHT_BUCKETS];
	struct reqlist		 deadlines;	/* same, oldest 1st */
	struct reqlist		 spare;		/* freed, for reuse */
	int			 nspare;
	struct event		*timeout_ev;
	int			 timeout_set;	/* timeout_ev is set */
	struct req		*replay;
	unsigned		 replay_attempt;
	uint64_t		 replay_seq;	/* broke the link... */
	unsigned		 replay_breaks;	/* ...so many times */
	struct event		*replay_ev;
	long long		 settle_ms;	/* -o settle */
	int			 settle_want;	/* arm at the next request */
	long long		 sent_ms;	/* the last request sent */
	struct event		*settle_ev;

	/* Clients. */
	struct event		**listen_ev;
	int			 nlisten;
	struct event		*pause_ev;
	TAILQ_HEAD(, client)	 clients;
	TAILQ_HEAD(, client)	 kicks;		/* to look at again */
	TAILQ_HEAD(, client)	 parked;	/* by park_end, oldest 1st */
	struct event		*park_ev;	/* the oldest's park_end */
	int			 nclients;
	unsigned		 nclients_ever;

	/* Stopping. */
	struct event		*status_ev;
	struct event		*sig_ev[2];
	struct event		*drain_ev;
	struct event		*finish_ev;
	int			 stopping;
	long long		 stop_ms;	/* when it began */
	int			 no_handoff;
};

extern struct link	 L;

/* link_peer.c */
void	 peer_established(int fd, int greeted);
int	 peer_is_up(void);
void	 peer_send(const char *hdr, size_t hlen, const char *line,
	    size_t len);
void	 peer_down(const char *why);
void	 peer_set_state(enum peer_state, const char *why);

/* link_dial.c */
void	 peer_init(void);
void	 peer_connect(void);
int	 peer_tls_settings(char *err, size_t errlen);
void	 peer_settle(void);

/* link_req.c */
void	 req_init(void);
struct req *req_new(struct client *, enum req_kind, char *line, size_t len);
void	 req_free(struct req *);
void	 req_answer(struct req *, const char *text, size_t len);
void	 req_answer_str(struct req *, const char *text);
void	 req_enqueue(struct req *);
void	 req_send(struct req *, const char *line, size_t len);
void	 req_reply(uint64_t id, const char *payload, size_t plen);
int	 req_known(uint64_t id);
void	 req_fail_all(void);
int	 req_inflight(void);
int	 req_none_inflight(void);

/* link_replay.c */
void	 replay_init(void);
void	 replay_next(void);
void	 replay_done(struct req *, const char *payload, size_t plen);
void	 replay_link_lost(void);

/* link_accept.c: clients coming and going */
void	 client_init(void);
void	 client_new(int fd);
void	 client_accept_cb(int lfd, short ev, void *arg);
void	 client_kick(struct client *);
void	 client_park(struct client *);
void	 client_park_answered(struct client *);
void	 client_unpark(struct client *);
void	 client_stop(struct client *);
void	 client_drop(struct client *);

/* link_client.c: one client's states and lines */
const char *client_state_name(enum client_state);
void	 client_set_state(struct client *, enum client_state);
void	 client_update(struct client *);
void	 client_free(struct client *);
void	 client_readable(struct lconn *, short what, void *arg);
void	 client_written(struct lconn *, int error, void *arg);

/* link.c */
void	 listen_enable(int on);

/* link_stop.c */
void	 stop_init(void);
void	 stop_check(void);

#endif
