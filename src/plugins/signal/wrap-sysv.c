/* SPDX-License-Identifier: MIT */
/*
 * System V IPC.  Shared memory segments come back (the restart command
 * makes them, the restorer attaches them): their ids may change, so the
 * program keeps seeing the old ones through these wrappers.  Semaphores and
 * message queues are not saved yet: they have no fd or mapping a checkpoint
 * could find, so the runtime notes here that the program made one, and the
 * next checkpoint fails saying so instead of writing an image that would
 * come back without them.
 */
#include <errno.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>

#include "runtime/rt.h"
#include "plugins/signal/sysv.h"
#include "runtime/sys.h"

static int used_sem, used_msg;

/* Segment ids: the one the program knows, the one the kernel has now. */
static struct { int virt, real, remove; } ids[256];
static int nids;

static int shm_virtual(int id);

static int shm_real(int id)
{
	for (int i = 0; i < nids; i++)
		if (ids[i].virt == id)
			return ids[i].real;
	return id;
}

int sysv_virtual_id(int id)
{
	return shm_virtual(id);
}

static int shm_virtual(int id)
{
	for (int i = 0; i < nids; i++)
		if (ids[i].real == id)
			return ids[i].virt;
	return id;
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

	return r < 0 ? -1 : shm_virtual((int)r);
}

RT_EXPORT void *shmat(int id, const void *addr, int flags)
{
	long r = rt_sys3(SYS_shmat, shm_real(id), addr, flags);

	if (r < 0 && r > -4096) {
		errno = (int)-r;
		return (void *)-1;
	}
	return (void *)r;
}

RT_EXPORT int shmctl(int id, int cmd, struct shmid_ds *ds)
{
	return (int)ret(rt_sys3(SYS_shmctl, shm_real(id), cmd, ds));
}

/* After restart: the new ids, from the restart table. */
void sysv_restart(void)
{
	struct rst_table *t = rt.rtable;

	nids = 0;
	for (uint32_t i = 0; t && i < t->nshm && nids < 256; i++) {
		const struct rst_shm *s = &rst_table_shm(t)[i];
		ids[nids].virt = s->old_id;
		ids[nids].real = s->new_id;
		ids[nids].remove = (int)s->remove;
		nids++;
	}
}

/* Once every process of the tree is back (attached): segments that were
 * marked for removal are marked again. */
void sysv_running(void)
{
	for (int i = 0; i < nids; i++)
		if (ids[i].remove) {
			rt_sys3(SYS_shmctl, ids[i].real, IPC_RMID, NULL);
			ids[i].remove = 0;
		}
}

RT_EXPORT int semget(key_t key, int nsems, int flags)
{
	long r = rt_sys3(SYS_semget, key, nsems, flags);

	if (r < 0) {
		errno = (int)-r;
		return -1;
	}
	used_sem = 1;
	return (int)r;
}

RT_EXPORT int msgget(key_t key, int flags)
{
	long r = rt_sys2(SYS_msgget, key, flags);

	if (r < 0) {
		errno = (int)-r;
		return -1;
	}
	used_msg = 1;
	return (int)r;
}

int sysv_check(void)
{
	if (used_sem || used_msg) {
		cocoon_error("the program uses System V %s, which cannot be checkpointed yet",
			     used_sem ? "semaphores" : "message queues");
		return -ENOTSUP;
	}
	return 0;
}
