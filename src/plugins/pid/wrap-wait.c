/* SPDX-License-Identifier: MIT */
/*
 * The wait family with virtual pids: the pid (or process group) a program
 * waits for is translated to the real one, the pid the kernel reports back
 * (the return value, waitid's si_pid) to the virtual one.  Pass-through
 * while Cocoon is not active; no locks, no allocation.
 *
 * A call blocked when a checkpoint comes is restarted by the kernel
 * (SA_RESTART) with the real id translated before: after a restart that id
 * is stale and the kernel says ECHILD.  So ECHILD after one of our
 * suspensions means: translate again and retry.  (A stale id that names
 * another child of the restarted process is not caught.)
 *
 * Known gap: the siginfo a SIGCHLD handler gets (si_pid) carries the real
 * pid of the child; this file does not see it.  The signal plugin would have
 * to rewrite it on the way into the program's handler.
 */
#include <errno.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "plugins/pid/pid.h"
#include "runtime/rt.h"

/* waitpid's pid argument: > 0 a child, < -1 a process group. */
static pid_t wait_target(pid_t pid)
{
	if (pid > 0)
		return pid_to_real(pid);
	if (pid < -1)
		return -pid_to_real(-pid);
	return pid;
}

static pid_t wait_result(pid_t r)
{
	return r > 0 ? pid_to_virtual(r) : r;
}

/* Our suspension ended the call (see above): retry with a fresh translation. */
static int stale(pid_t r, unsigned before)
{
	return r < 0 && errno == ECHILD && rt_tls_suspends != before;
}

RT_EXPORT pid_t wait(int *status)
{
	unsigned before;
	pid_t r;

	RESOLVED(wait);
	if (!rt.active)
		return real_wait(status);
	do {
		before = rt_tls_suspends;
		r = real_wait(status);
	} while (stale(r, before));
	return wait_result(r);
}

RT_EXPORT pid_t waitpid(pid_t pid, int *status, int options)
{
	unsigned before;
	pid_t r;

	RESOLVED(waitpid);
	if (!rt.active)
		return real_waitpid(pid, status, options);
	do {
		before = rt_tls_suspends;
		r = real_waitpid(wait_target(pid), status, options);
	} while (stale(r, before));
	return wait_result(r);
}

RT_EXPORT pid_t wait3(int *status, int options, struct rusage *ru)
{
	unsigned before;
	pid_t r;

	RESOLVED(wait3);
	if (!rt.active)
		return real_wait3(status, options, ru);
	do {
		before = rt_tls_suspends;
		r = real_wait3(status, options, ru);
	} while (stale(r, before));
	return wait_result(r);
}

RT_EXPORT pid_t wait4(pid_t pid, int *status, int options, struct rusage *ru)
{
	unsigned before;
	pid_t r;

	RESOLVED(wait4);
	if (!rt.active)
		return real_wait4(pid, status, options, ru);
	do {
		before = rt_tls_suspends;
		r = real_wait4(wait_target(pid), status, options, ru);
	} while (stale(r, before));
	return wait_result(r);
}

/* P_PID and P_PGID name a process or a group (P_PGID 0: our own group);
 * P_ALL and P_PIDFD carry no pid. */
static id_t waitid_target(idtype_t type, id_t id)
{
	if ((type == P_PID || type == P_PGID) && (int)id > 0)
		return (id_t)pid_to_real((int)id);
	return id;
}

RT_EXPORT int waitid(idtype_t type, id_t id, siginfo_t *info, int options)
{
	unsigned before;
	int r;

	RESOLVED(waitid);
	if (!rt.active)
		return real_waitid(type, id, info, options);
	do {
		before = rt_tls_suspends;
		r = real_waitid(type, waitid_target(type, id), info, options);
	} while (stale(r, before));
	if (r == 0 && info && info->si_pid > 0)
		info->si_pid = pid_to_virtual(info->si_pid);
	return r;
}
