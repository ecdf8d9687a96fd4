/*
 * table.h: master.cf, the service table, parsed into plain data.
 *
 * A table can be parsed any number of times and two tables compared entry by
 * entry (reload does that), so nothing here touches the running system.
 * Syntax is Postfix's (see linkmaster.cf(5)): columns service, type
 * (Postfix's inet, unix, unix-dgram, fifo and pass; our daemon and link),
 * private, unpriv, chroot, wakeup, maxproc, command + args; "-" means the
 * default; a line that starts with white space continues the entry; "#"
 * lines and blank lines are skipped, even inside an entry; "{ ... }" groups
 * one argument.  Parsing collects every error as "FILE:LINE: message".
 */
#ifndef LM_TABLE_H
#define LM_TABLE_H

#include <sys/queue.h>
#include <stdio.h>

#include "util.h"

enum svc_type {
	SVC_UNIX = 0,
	SVC_INET,
	SVC_UNIX_DGRAM,
	SVC_FIFO,
	SVC_DAEMON,	/* no socket: keep maxproc processes running */
	SVC_LINK,	/* one child per peer (link services) */
	SVC_PASS,	/* unix stream socket; clients pass a connection */
};

/* Which fields were written as "-" (the default). */
#define TE_DFLT_PRIVATE	0x01
#define TE_DFLT_UNPRIV	0x02
#define TE_DFLT_CHROOT	0x04
#define TE_DFLT_WAKEUP	0x08
#define TE_DFLT_MAXPROC	0x10

struct tentry {
	TAILQ_ENTRY(tentry) entry;
	char		*name;		/* "echo", "127.0.0.1:7000", "7000" */
	enum svc_type	 type;
	int		 private;	/* resolved: 0 or 1 */
	int		 unpriv;
	int		 chroot;
	int		 wakeup;	/* seconds, 0 = never */
	int		 wakeup_cond;	/* "N?": only after first use */
	int		 maxproc;	/* resolved; 0 = unlimited */
	int		 dflt;		/* TE_DFLT_* */
	int		 argc;
	char		**argv;		/* NULL-terminated; argv[0] = command */
	int		 line;		/* first line of the entry */
};
TAILQ_HEAD(tentry_list, tentry);

struct table {
	char			*file;
	struct tentry_list	 entries;
	int			 n;
};

/* What "-" resolves to, from linkmaster.conf. */
struct table_defaults {
	int	 process_limit;		/* default_process_limit */
	int	 keep_valid;		/* on errors, keep the good entries */
};

/*
 * Parse; on any error return NULL with every error appended to errs as
 * "FILE:LINE: message".  file is the name used in messages.
 */
struct table	*table_parse_file(const char *file,
		    const struct table_defaults *, struct errlist *errs);
struct table	*table_parse_buf(const char *file, const char *buf, size_t len,
		    const struct table_defaults *, struct errlist *errs);
void		 table_free(struct table *);
void		 tentry_free(struct tentry *);

struct tentry	*table_find(const struct table *, const char *name,
		    enum svc_type);
/* Identity (name, type) equal and every other field equal. */
int		 tentry_equal(const struct tentry *, const struct tentry *);

const char	*svc_type_name(enum svc_type);
int		 svc_type_parse(const char *, enum svc_type *);

/*
 * Print in master.cf columns with defaults filled in (postconf -M); what is
 * printed parses back to an equal table.  service: only entries of that
 * name (NULL: all).  Returns the number of entries printed.
 */
int		 table_print(FILE *, const struct table *, const char *service);
void		 tentry_print(FILE *, const struct tentry *);
void		 tentry_print_width(FILE *, const struct tentry *, int);

#endif
