/* SPDX-License-Identifier: MIT */
/*
 * System V IPC ids.  After a restart, segments, semaphore sets and message
 * queues may have new ids: the program keeps the old ones, translated here
 * on every call that takes or returns one.  Also remembers which sets and
 * queues the program obtained, for sysv.c to save.
 */
#include <errno.h>
#include <stdarg.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>

#include "plugins/signal/sysv.h"
#include "runtime/rt.h"
#include "runtime/sys.h"

#define MAX_IDS 256

/* Translation: the id the program knows, the one the kernel has now. */
static struct { int kind, virt, real, remove; } ids[MAX_IDS];
static int nids;

/* Sets and queues the program obtained (virtual ids). */
static struct { int kind, id; } used[MAX_IDS];
static int nused;

int sysv_real(int kind, int id)
{
	for (int i = 0; i < nids; i++)
		if (ids[i].kind == kind && ids[i].virt == id)
			return ids[i].real;
	return id;
}

static int sysv_virtual(int kind, int id)
{
	for (int i = 0; i < nids; i++)
		if (ids[i].kind == kind && ids[i].real == id)
			return ids[i].virt;
	return id;
}

int sysv_virtual_id(int id)
{
	return sysv_virtual(RST_SYSV_SHM, id);
}

static void note_used(int kind, int id)
{
	static rt_spin lock = RT_SPIN_INIT; /* threads may call at once */
	int i;

	rt_spin_lock(&lock);
	for (i = 0; i < nused; i++)
		if (used[i].kind == kind && used[i].id == id)
			break;
	if (i == nused && nused < MAX_IDS) {
		used[nused].kind = kind;
		used[nused].id = id;
		nused++;
	}
	rt_spin_unlock(&lock);
}

int sysv_used(int kind, int *out, int cap)
{
	int n = 0;

	for (int i = 0; i < nused && n < cap; i++)
		if (used[i].kind == kind)
			out[n++] = used[i].id;
	return n;
}

static long ret(long r)
{
	if (r < 0 && r > -4096) {
		errno = (int)-r;
		return -1;
	}
	return r;
}

RT_EXPORT int shmget(key_t key, size_t size, int flags)
{
	long r = ret(rt_sys3(SYS_shmget, key, size, flags));

	return r < 0 ? -1 : sysv_virtual(RST_SYSV_SHM, (int)r);
}

RT_EXPORT void *shmat(int id, const void *addr, int flags)
{
	long r = rt_sys3(SYS_shmat, sysv_real(RST_SYSV_SHM, id), addr, flags);

	if (r < 0 && r > -4096) {
		errno = (int)-r;
		return (void *)-1;
	}
	return (void *)r;
}

RT_EXPORT int shmctl(int id, int cmd, struct shmid_ds *ds)
{
	return (int)ret(rt_sys3(SYS_shmctl, sysv_real(RST_SYSV_SHM, id), cmd, ds));
}

RT_EXPORT int semget(key_t key, int nsems, int flags)
{
	long r = ret(rt_sys3(SYS_semget, key, nsems, flags));

	if (r < 0)
		return -1;
	int id = sysv_virtual(RST_SYSV_SEM, (int)r);
	note_used(RST_SYSV_SEM, id);
	return id;
}

/* These calls are never restarted after a handler: when only our suspend
 * signal interrupted them, call again (with the id of now: after a restart
 * it changed). */
#define RETRY_OURS(call)                                                   \
	({                                                                 \
		long r_;                                                   \
		for (;;) {                                                 \
			unsigned s_ = rt_tls_suspends;                     \
			unsigned p_ = rt_tls_program_signals;              \
			r_ = (call);                                       \
			if (r_ != -EINTR || rt_tls_suspends == s_ ||       \
			    rt_tls_program_signals != p_)                  \
				break;                                     \
		}                                                          \
		r_;                                                        \
	})

RT_EXPORT int semop(int id, struct sembuf *ops, size_t n)
{
	return (int)ret(RETRY_OURS(
		rt_sys4(SYS_semtimedop, sysv_real(RST_SYSV_SEM, id), ops, n, NULL)));
}

RT_EXPORT int semtimedop(int id, struct sembuf *ops, size_t n, const struct timespec *t)
{
	return (int)ret(RETRY_OURS(
		rt_sys4(SYS_semtimedop, sysv_real(RST_SYSV_SEM, id), ops, n, t)));
}

RT_EXPORT int semctl(int id, int num, int cmd, ...)
{
	va_list ap;
	long arg;

	va_start(ap, cmd);
	arg = va_arg(ap, long); /* union semun, passed by value: one word */
	va_end(ap);
	return (int)ret(rt_sys4(SYS_semctl, sysv_real(RST_SYSV_SEM, id), num, cmd, arg));
}

RT_EXPORT int msgget(key_t key, int flags)
{
	long r = ret(rt_sys2(SYS_msgget, key, flags));

	if (r < 0)
		return -1;
	int id = sysv_virtual(RST_SYSV_MSG, (int)r);
	note_used(RST_SYSV_MSG, id);
	return id;
}

RT_EXPORT int msgsnd(int id, const void *msg, size_t len, int flags)
{
	return (int)ret(RETRY_OURS(rt_sys4(SYS_msgsnd, sysv_real(RST_SYSV_MSG, id), msg, len, flags)));
}

RT_EXPORT ssize_t msgrcv(int id, void *msg, size_t len, long type, int flags)
{
	return ret(RETRY_OURS(rt_sys5(SYS_msgrcv, sysv_real(RST_SYSV_MSG, id), msg, len, type, flags)));
}

RT_EXPORT int msgctl(int id, int cmd, struct msqid_ds *ds)
{
	return (int)ret(rt_sys3(SYS_msgctl, sysv_real(RST_SYSV_MSG, id), cmd, ds));
}

void sysv_restart(void)
{
	struct rst_table *t = rt.rtable;

	nids = 0;
	for (uint32_t i = 0; t && i < t->nshm && nids < MAX_IDS; i++) {
		const struct rst_shm *s = &rst_table_shm(t)[i];
		ids[nids].kind = (int)s->kind;
		ids[nids].virt = s->old_id;
		ids[nids].real = s->new_id;
		ids[nids].remove = (int)s->remove;
		nids++;
	}
}

void sysv_running(void)
{
	for (int i = 0; i < nids; i++)
		if (ids[i].remove && ids[i].kind == RST_SYSV_SHM) {
			rt_sys3(SYS_shmctl, ids[i].real, IPC_RMID, NULL);
			ids[i].remove = 0;
		}
}
