/* SPDX-License-Identifier: MIT */
/* Sockets of the fd plugin (sock.c). */
#ifndef FD_SOCK_H
#define FD_SOCK_H

#include "plugins/fd/fd.h"

/* Describe socket fd and copy its queued data into a new blob.
 * Returns the blob's size or -errno. */
long fd_sock_save(int fd, void **blob);

/* Send what a connected TCP socket still holds (it may sit unsent behind
 * Nagle or corking); not a socket, or not TCP: nothing. */
void fd_sock_push(int fd);

/* After every process pushed: 0 when nothing is left unacknowledged in
 * fd's send queue (waits up to a second), else -EAGAIN with a message
 * (the receiver's buffer is full: its data cannot be saved). */
int fd_sock_check_sent(int fd);

/* Refresh the queues of unix datagram pairs with both ends among fds. */
void fd_sock_refresh_local(const int *fds, int n);

#endif
