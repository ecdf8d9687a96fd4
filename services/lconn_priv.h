/*
 * lconn_priv.h: what the three files of lconn share (lconn.c,
 * lconn_io.c, lconn_flusher.c); the connections' owners include lconn.h
 * only.
 */
#ifndef LM_LCONN_PRIV_H
#define LM_LCONN_PRIV_H

#include <sys/types.h>
#include <sys/queue.h>

#include <stddef.h>

#include "lconn.h"

struct event;
struct event_base;
struct timeval;

struct lconn_flusher {
	struct event_base	*base;
	struct event		*ev;
	int			 active;	/* ev made active */
	int			(*before)(void *);
	void			*arg;
	TAILQ_HEAD(, lconn)	 dirty;
	TAILQ_HEAD(, lconn)	 late;		/* reads after the writes */
};

/* lconn_io.c: a buffer's memory */
void	 lbuf_release(struct lconn_buf *);
void	 lbuf_take(struct lconn_buf *, size_t len);

/* lconn_flusher.c: on the flusher's list, for a write or what waits */
void	 lconn_enlist(struct lconn *);

/* lconn.c: read interest registered, and what the transport holds */
void	 lconn_rev_add(struct lconn *, const struct timeval *);

#endif
