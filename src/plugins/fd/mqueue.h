/* SPDX-License-Identifier: MIT */
/* POSIX message queues of the fd plugin (mqueue.c). */
#ifndef FD_MQUEUE_H
#define FD_MQUEUE_H

/* Attributes and messages of queue fd in a new blob (struct fd_mqueue);
 * the queue is left as it was.  Returns the blob's size or -errno. */
long fd_mqueue_save(int fd, void **blob);

#endif
