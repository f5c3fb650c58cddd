/* SPDX-License-Identifier: MIT */
/* Virtual pids: the table shared by the pid plugin and its wrappers. */
#ifndef PID_PID_H
#define PID_PID_H

/* Real id for a virtual one (itself when unknown), and back. */
int pid_to_real(int vpid);
int pid_to_virtual(int real);
/* Virtual tid for a real tid of this process. */
int tid_to_real(int vtid);
/* Record another process of the computation (a child, or after restart). */
void pid_table_set(int virt, int real);

#endif
