/* SPDX-License-Identifier: MIT */
/*
 * Wrappers where a pid crosses between the program and the kernel.
 * Hot paths: no locks, no allocation; getpid() does not even enter the kernel.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "plugins/pid/pid.h"
#include "runtime/rt.h"
#include "runtime/sys.h"

/* A thread keeps its first real tid as its virtual one for life. */
static int vtid_self(void)
{
	return rt_vtid_self();
}

RT_EXPORT pid_t getpid(void)
{
	if (!rt.active)
		return (pid_t)rt_getpid();
	return rt.vpid;
}

RT_EXPORT pid_t getppid(void)
{
	int real = (int)rt_sys0(SYS_getppid);

	return rt.active ? pid_to_virtual(real) : real;
}

RT_EXPORT pid_t gettid(void)
{
	return rt.active ? vtid_self() : rt_gettid();
}

static int signal_target(pid_t pid)
{
	if (pid > 0)
		return pid_to_real(pid);
	if (pid < -1)
		return -pid_to_real(-pid);
	return pid;
}

RT_EXPORT int kill(pid_t pid, int sig)
{
	RESOLVED(kill);
	return real_kill(rt.active ? signal_target(pid) : pid, sig);
}

RT_EXPORT int tgkill(pid_t tgid, pid_t tid, int sig)
{
	RESOLVED(tgkill);
	if (rt.active) {
		tgid = pid_to_real(tgid);
		tid = tid_to_real(tid);
	}
	return real_tgkill(tgid, tid, sig);
}

static long sys_ret(long r)
{
	if (r < 0 && r > -4096) {
		errno = (int)-r;
		return -1;
	}
	return r;
}

/* syscall(2) for the ids we virtualize; everything else passes through. */
RT_EXPORT long syscall(long n, ...)
{
	va_list ap;
	long a[6];

	va_start(ap, n);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	if (rt.active) {
		switch (n) {
		case SYS_getpid:
			return rt.vpid;
		case SYS_gettid:
			return vtid_self();
		case SYS_getppid:
			return getppid();
		case SYS_kill:
			a[0] = signal_target((pid_t)a[0]);
			break;
		case SYS_tgkill:
			a[0] = pid_to_real((int)a[0]);
			a[1] = tid_to_real((int)a[1]);
			break;
		case SYS_tkill:
			a[0] = tid_to_real((int)a[0]);
			break;
		}
	}
	return sys_ret(rt_syscall6(n, a[0], a[1], a[2], a[3], a[4], a[5]));
}
