/*
 * queue_priv.h: what the durable queue's two files share: the queue
 * itself and its list of numbers in memory, kept by queue.c (the
 * directory) and changed by queue_entry.c (the request files) as files
 * come and go.  Nothing outside the queue includes it.
 */
#ifndef LM_QUEUE_PRIV_H
#define LM_QUEUE_PRIV_H

#include <stddef.h>
#include <stdint.h>

struct queue {
	char		*dir;
	int		 dirfd;
	int		 lockfd;	/* flock'ed QUEUE_LOCK */
	uint64_t	*seqs;		/* sorted; live ones from head */
	size_t		 head;
	size_t		 n;		/* end of live ones */
	size_t		 cap;
	uint64_t	 next;		/* the number to try next */
};

/*
 * Add seq at the end of the list: queue_append's numbers only grow, and
 * queue_scan sorts what it loads once it has it all.
 */
void	 queue_push(struct queue *, uint64_t seq);
/* Take seq out of the list (the oldest, most of the time). */
void	 queue_forget(struct queue *, uint64_t seq);

#endif
