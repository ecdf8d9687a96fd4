/*
 * sysfilter.h: the seccomp filters of the test helpers that make a system
 * call fail (noclone3, failsys).
 *
 * sysfilter_install sets no_new_privs (so that an unprivileged process
 * may install a filter) and installs the len instructions at f with the
 * seccomp flags given; sysfilter_one installs the common case, a filter
 * that gives action to the system call nr and lets every other through.
 * Both return what seccomp(2) does: 0, or a listener's fd with
 * SECCOMP_FILTER_FLAG_NEW_LISTENER; -1 with errno set if no_new_privs or
 * the filter could not be set.  The filter is inherited across fork and
 * exec.
 */
#ifndef SYSFILTER_H
#define SYSFILTER_H

#include <linux/filter.h>

int	sysfilter_install(struct sock_filter *, unsigned short, unsigned int);
int	sysfilter_one(long, unsigned int, unsigned int);

#endif
