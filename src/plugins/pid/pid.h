/* SPDX-License-Identifier: MIT */
/* Virtual pids: the table shared by the pid plugin and its wrappers. */
#ifndef PID_PID_H
#define PID_PID_H

#include <stdint.h>

/* Real id for a virtual one (itself when unknown), and back. */
int pid_to_real(int vpid);
int pid_to_virtual(int real);
/* Virtual tid for a real tid of this process. */
int tid_to_real(int vtid);
/* Record another process of the computation (a child, or after restart). */
void pid_table_set(int virt, int real);

/* The pid plugin's image section: children that had exited but were not
 * reaped (zombies).  `cocoon restart` recreates each as a child of its
 * parent that exits at once the same way. */
#define PID_SECTION "pid"

struct pid_zombie {
	int32_t vpid;
	int32_t code;   /* CLD_EXITED, CLD_KILLED or CLD_DUMPED */
	int32_t status; /* exit status or signal number */
	int32_t pad;
};

#endif
