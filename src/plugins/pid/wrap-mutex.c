/* SPDX-License-Identifier: MIT */
/*
 * Owners of error-checking and recursive mutexes across a restart.
 *
 * glibc records the owning thread's real tid in such a mutex and compares
 * it with the caller's on unlock (EPERM) and on a recursive lock.  A restart
 * gives every thread a new real tid, so a mutex held across a checkpoint
 * would belong to nobody.  The owner cannot be found and patched eagerly --
 * mutexes live anywhere in the program's memory -- so it is patched when
 * its thread next uses it: an owner equal to one of the caller's past tids,
 * and not the tid of a live thread of this process, becomes the caller's.
 * Robust and priority-inheritance mutexes are left alone: there the kernel
 * reads the owner, and they are not supported across a restart.
 *
 * Hot path: a thread that was never restarted pays one TLS load.
 */
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>

#include "runtime/real.h"
#include "runtime/rt.h"
#include "runtime/sys.h"

#define KIND_TYPE_MASK 3
#define KIND_RECURSIVE 1
#define KIND_ERRORCHECK 2
#define KIND_KERNEL_OWNED 0x70 /* robust, priority-inherit, priority-protect */

static int was_mine(int owner)
{
	for (int i = 0; i < RT_PAST_TIDS && rt_tls_past_tids[i]; i++)
		if (rt_tls_past_tids[i] == owner)
			return 1;
	return owner == rt_tls_vtid;
}

static __attribute__((noinline)) void own_again_slow(pthread_mutex_t *m)
{
	if (!m)
		return;
	int kind = __atomic_load_n(&m->__data.__kind, __ATOMIC_RELAXED);
	int type = kind & KIND_TYPE_MASK;
	if ((kind & KIND_KERNEL_OWNED) || (type != KIND_RECURSIVE && type != KIND_ERRORCHECK))
		return;
	int owner = __atomic_load_n(&m->__data.__owner, __ATOMIC_RELAXED);
	int self = rt_gettid();
	if (owner <= 0 || owner == self || !was_mine(owner))
		return;
	/* A past tid of ours that a live thread has now: that thread's mutex. */
	if (rt_sys3(SYS_tgkill, rt.real_pid, owner, 0) == 0)
		return;
	__atomic_store_n(&m->__data.__owner, self, __ATOMIC_RELAXED);
}

static inline void own_again(pthread_mutex_t *m)
{
	if (__builtin_expect(rt_tls_past_tids[0] != 0, 0))
		own_again_slow(m);
}

RT_EXPORT int pthread_mutex_lock(pthread_mutex_t *m)
{
	own_again(m);
	RESOLVED(pthread_mutex_lock);
	return real_pthread_mutex_lock(m);
}

RT_EXPORT int pthread_mutex_trylock(pthread_mutex_t *m)
{
	own_again(m);
	RESOLVED(pthread_mutex_trylock);
	return real_pthread_mutex_trylock(m);
}

RT_EXPORT int pthread_mutex_timedlock(pthread_mutex_t *m, const struct timespec *at)
{
	own_again(m);
	RESOLVED(pthread_mutex_timedlock);
	return real_pthread_mutex_timedlock(m, at);
}

RT_EXPORT int pthread_mutex_clocklock(pthread_mutex_t *m, clockid_t c, const struct timespec *at)
{
	own_again(m);
	RESOLVED(pthread_mutex_clocklock);
	return real_pthread_mutex_clocklock(m, c, at);
}

RT_EXPORT int pthread_mutex_unlock(pthread_mutex_t *m)
{
	own_again(m);
	RESOLVED(pthread_mutex_unlock);
	return real_pthread_mutex_unlock(m);
}

RT_EXPORT int pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m)
{
	own_again(m);
	RESOLVED(pthread_cond_wait);
	return real_pthread_cond_wait(c, m);
}

RT_EXPORT int pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m,
				     const struct timespec *at)
{
	own_again(m);
	RESOLVED(pthread_cond_timedwait);
	return real_pthread_cond_timedwait(c, m, at);
}

RT_EXPORT int pthread_cond_clockwait(pthread_cond_t *c, pthread_mutex_t *m, clockid_t clk,
				     const struct timespec *at)
{
	own_again(m);
	RESOLVED(pthread_cond_clockwait);
	return real_pthread_cond_clockwait(c, m, clk, at);
}
