/* SPDX-License-Identifier: MIT */
/* System V IPC the program uses (wrap-sysv.c). */
#ifndef SIGNAL_SYSV_H
#define SIGNAL_SYSV_H

/* 0, or -ENOTSUP with a message when the program made semaphores or
 * message queues, which cannot be checkpointed yet. */
int sysv_check(void) __attribute__((visibility("hidden")));

#endif
