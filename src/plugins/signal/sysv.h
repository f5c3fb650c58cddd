/* SPDX-License-Identifier: MIT */
/* System V IPC the program uses (wrap-sysv.c). */
#ifndef SIGNAL_SYSV_H
#define SIGNAL_SYSV_H

/* 0, or -ENOTSUP with a message when the program made semaphores or
 * message queues, which cannot be checkpointed yet. */
int sysv_check(void) __attribute__((visibility("hidden")));
/* After restart: learn the segments' new ids; once all run: mark removals. */
void sysv_restart(void) __attribute__((visibility("hidden")));
void sysv_running(void) __attribute__((visibility("hidden")));
/* The id the program knows for segment id (the kernel's). */
int sysv_virtual_id(int id) __attribute__((visibility("hidden")));

#endif
