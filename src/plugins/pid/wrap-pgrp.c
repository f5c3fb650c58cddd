/* SPDX-License-Identifier: MIT */
/*
 * Process groups, sessions and the other calls that name a process by pid:
 * ids the program passes are translated to real ones, ids it gets back to
 * virtual ones.  0 keeps its meaning ("myself", "my group"); a negative
 * owner (fcntl F_SETOWN/F_GETOWN) names a process group.  Pass-through while
 * Cocoon is not active; no locks, no allocation.
 *
 * Not covered: ioctl TIOCGPGRP/TIOCSPGRP/TIOCGSID, posix_spawn's pgroup
 * attribute, and the sender pid (si_pid) a sigqueue receiver sees.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <unistd.h>

#include "plugins/pid/pid.h"
#include "runtime/rt.h"

static pid_t to_real(pid_t id)
{
	return id > 0 ? pid_to_real(id) : id;
}

static pid_t to_virtual(pid_t id)
{
	return id > 0 ? pid_to_virtual(id) : id;
}

RT_EXPORT pid_t getpgid(pid_t pid)
{
	RESOLVED(getpgid);
	if (!rt.active)
		return real_getpgid(pid);
	return to_virtual(real_getpgid(to_real(pid)));
}

RT_EXPORT pid_t getpgrp(void)
{
	RESOLVED(getpgrp);
	return rt.active ? to_virtual(real_getpgrp()) : real_getpgrp();
}

RT_EXPORT pid_t getsid(pid_t pid)
{
	RESOLVED(getsid);
	if (!rt.active)
		return real_getsid(pid);
	return to_virtual(real_getsid(to_real(pid)));
}

RT_EXPORT int setpgid(pid_t pid, pid_t pgid)
{
	RESOLVED(setpgid);
	if (!rt.active)
		return real_setpgid(pid, pgid);
	return real_setpgid(to_real(pid), to_real(pgid));
}

/* The new session's id is the caller's pid: the virtual one. */
RT_EXPORT pid_t setsid(void)
{
	pid_t r;

	RESOLVED(setsid);
	r = real_setsid();
	return rt.active && r >= 0 ? rt.vpid : r;
}

RT_EXPORT pid_t tcgetpgrp(int fd)
{
	RESOLVED(tcgetpgrp);
	return rt.active ? to_virtual(real_tcgetpgrp(fd)) : real_tcgetpgrp(fd);
}

RT_EXPORT int tcsetpgrp(int fd, pid_t pgrp)
{
	RESOLVED(tcsetpgrp);
	return real_tcsetpgrp(fd, rt.active ? to_real(pgrp) : pgrp);
}

RT_EXPORT int killpg(pid_t pgrp, int sig)
{
	RESOLVED(killpg);
	return real_killpg(rt.active ? to_real(pgrp) : pgrp, sig);
}

RT_EXPORT int sigqueue(pid_t pid, int sig, const union sigval value)
{
	RESOLVED(sigqueue);
	return real_sigqueue(rt.active ? to_real(pid) : pid, sig, value);
}

/* F_SETOWN/F_GETOWN owner: > 0 a process, < 0 a process group.  For
 * F_GETOWN, -1 is glibc's error return, not group 1. */
static long owner_to_real(long o)
{
	return o < 0 ? -(long)pid_to_real((int)-o) : to_real((pid_t)o);
}

static int owner_to_virtual(int o)
{
	return o < -1 ? -pid_to_virtual(-o) : to_virtual(o);
}

/* struct f_owner_ex: a thread, a process or a group, always positive. */
static int owner_ex(int fd, int cmd, struct f_owner_ex *ex)
{
	struct f_owner_ex copy;
	int r;

	if (!ex)
		return real_fcntl(fd, cmd, ex);
	if (cmd == F_SETOWN_EX) {
		copy = *ex; /* the program's struct is input only */
		if (copy.pid > 0)
			copy.pid = copy.type == F_OWNER_TID ? tid_to_real(copy.pid) :
							      pid_to_real(copy.pid);
		return real_fcntl(fd, cmd, &copy);
	}
	r = real_fcntl(fd, cmd, ex);
	if (r == 0)
		ex->pid = to_virtual(ex->pid); /* the table holds tids too */
	return r;
}

/* Every command but the four owner ones passes through untouched; the one
 * argument, if any, is a long or a pointer (as glibc reads it). */
static int pid_fcntl(int fd, int cmd, void *arg)
{
	RESOLVED(fcntl);
	if (!rt.active)
		return real_fcntl(fd, cmd, arg);
	switch (cmd) {
	case F_SETOWN:
		return real_fcntl(fd, cmd, owner_to_real((int)(long)arg));
	case F_GETOWN:
		return owner_to_virtual(real_fcntl(fd, cmd));
	case F_SETOWN_EX:
	case F_GETOWN_EX:
		return owner_ex(fd, cmd, arg);
	}
	return real_fcntl(fd, cmd, arg);
}

RT_EXPORT int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	return pid_fcntl(fd, cmd, arg);
}

/* Programs built with _FILE_OFFSET_BITS=64 call fcntl64: the same function on
 * 64-bit glibc, so both go to real_fcntl. */
RT_EXPORT int fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	return pid_fcntl(fd, cmd, arg);
}
