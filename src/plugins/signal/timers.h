/* SPDX-License-Identifier: MIT */
/* POSIX timers of the signal plugin (timers.c). */
#ifndef SIGNAL_TIMERS_H
#define SIGNAL_TIMERS_H

int timers_save(void);
int timers_restore(void);

#endif
