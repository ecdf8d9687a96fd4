/*
 * fdpass.h: send and receive one file descriptor with a message (SCM_RIGHTS).
 */
#ifndef LM_FDPASS_H
#define LM_FDPASS_H

#include <sys/types.h>

/* Send len bytes of buf with fd attached (fd -1: none). */
ssize_t	 fdpass_send(int sock, int fd, const void *buf, size_t len);
/* Receive up to len bytes; *fd is the passed fd (close-on-exec) or -1. */
ssize_t	 fdpass_recv(int sock, int *fd, void *buf, size_t len);

#endif
