/* SPDX-License-Identifier: MIT */
/*
 * System V semaphores and message queues are not saved yet.  They have no
 * fd or mapping a checkpoint could find, so the runtime notes here that the
 * program made one, and the next checkpoint fails saying so instead of
 * writing an image that would come back without them.
 */
#include <errno.h>
#include <sys/msg.h>
#include <sys/sem.h>

#include "runtime/rt.h"
#include "plugins/signal/sysv.h"
#include "runtime/sys.h"

static int used_sem, used_msg;

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
