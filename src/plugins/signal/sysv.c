/* SPDX-License-Identifier: MIT */
/*
 * System V semaphore sets and message queues the program used, saved in the
 * "sysv" section: each set's values, each queue's messages (copied with
 * MSG_COPY, not taken).  `cocoon restart` makes them again from it (see
 * src/cli/restart-sysv.c).  Undo adjustments (SEM_UNDO) are not kept.
 * Checkpoint thread only; memory from rt_alloc.
 */
#include <errno.h>
#include <string.h>
#include <sys/msg.h>
#include <sys/sem.h>

#include "plugins/signal/sysv.h"
#include "runtime/rt.h"
#include "runtime/sys.h"

#define MAX_OBJS 256
#define SECTION_MAX (64u << 20)

#ifndef MSG_COPY
#define MSG_COPY 040000
#endif

struct out {
	char *buf;
	uint64_t len;
};

static int put_sem(struct out *o, int id)
{
	struct semid_ds ds;
	int real = sysv_real(RST_SYSV_SEM, id);

	if (rt_sys4(SYS_semctl, real, 0, IPC_STAT, &ds) < 0)
		return 0; /* removed since: nothing to save */
	uint64_t need = sizeof(struct sysv_obj) + ds.sem_nsems * sizeof(uint16_t) + 8;
	if (o->len + need > SECTION_MAX)
		return -E2BIG;
	struct sysv_obj *obj = (void *)(o->buf + o->len);
	uint16_t *vals = (void *)(obj + 1);
	*obj = (struct sysv_obj){ RST_SYSV_SEM, id, ds.sem_perm.__key, ds.sem_perm.mode,
				  (uint32_t)ds.sem_nsems, 0, (ds.sem_nsems * sizeof(uint16_t) + 7) & ~7ul };
	if (rt_sys4(SYS_semctl, real, 0, GETALL, vals) < 0)
		return -EIO;
	o->len += sizeof(*obj) + obj->len;
	return 0;
}

static int put_msg(struct out *o, int id)
{
	struct msqid_ds ds;
	int real = sysv_real(RST_SYSV_MSG, id);

	if (rt_sys3(SYS_msgctl, real, IPC_STAT, &ds) < 0)
		return 0;
	if (o->len + sizeof(struct sysv_obj) + ds.__msg_cbytes + ds.msg_qnum * 24 > SECTION_MAX)
		return -E2BIG;
	struct sysv_obj *obj = (void *)(o->buf + o->len);
	*obj = (struct sysv_obj){ RST_SYSV_MSG, id, ds.msg_perm.__key, ds.msg_perm.mode, 0, 0, 0 };
	char *p = (char *)(obj + 1);
	for (unsigned long i = 0; i < ds.msg_qnum; i++) {
		struct sysv_msg *m = (void *)p;
		/* msgrcv's buffer starts with the type: right where ours is */
		long n = rt_syscall6(SYS_msgrcv, real, (long)&m->type, 65536, (long)i,
				     IPC_NOWAIT | MSG_COPY, 0);
		if (n < 0) {
			cocoon_error("System V message queue %d: cannot copy message %lu: %s", id, i,
				     strerror((int)-n));
			return (int)n;
		}
		/* the bytes came right after the type; move them behind our header */
		memmove(m + 1, (char *)&m->type + sizeof(long), (size_t)n);
		m->len = (uint32_t)n;
		m->pad = 0;
		p += sizeof(*m) + (((uint64_t)n + 7) & ~7ul);
		obj->count++;
	}
	obj->len = (uint64_t)(p - (char *)(obj + 1));
	o->len += sizeof(*obj) + obj->len;
	return 0;
}

int sysv_save(void)
{
	int list[MAX_OBJS], n, err;
	struct out o = { rt_alloc(SECTION_MAX), 0 };

	if (!o.buf)
		return -ENOMEM;
	n = sysv_used(RST_SYSV_SEM, list, MAX_OBJS);
	for (int i = 0; i < n; i++)
		if ((err = put_sem(&o, list[i])))
			return err;
	n = sysv_used(RST_SYSV_MSG, list, MAX_OBJS);
	for (int i = 0; i < n; i++)
		if ((err = put_msg(&o, list[i])))
			return err;
	return o.len ? cocoon_section_write(SYSV_SECTION, o.buf, o.len) : 0;
}
