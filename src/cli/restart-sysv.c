/* SPDX-License-Identifier: MIT */
/*
 * cocoon restart: System V semaphore sets and message queues, from the
 * "sysv" sections of the images, before the tree is forked.  The old object
 * is taken again when it still exists and is ours (objects outlive their
 * processes), reset to the checkpoint's state; otherwise a new one is made,
 * keyed when the key is free.  The runtime translates ids.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <unistd.h>

#include "cli/restart-tree.h"
#include "plugins/signal/sysv.h"

static int make_sem(const struct sysv_obj *o, const uint16_t *vals)
{
	struct semid_ds ds;
	int perms = (int)(o->mode & 0777), id = -1;

	if (semctl(o->id, 0, IPC_STAT, &ds) == 0 && ds.sem_nsems == o->count &&
	    ds.sem_perm.uid == geteuid())
		id = o->id;
	else if (o->key != IPC_PRIVATE)
		id = semget(o->key, (int)o->count, IPC_CREAT | IPC_EXCL | perms);
	if (id < 0)
		id = semget(IPC_PRIVATE, (int)o->count, IPC_CREAT | perms);
	if (id < 0 || semctl(id, 0, SETALL, vals) != 0)
		return -errno;
	return id;
}

static int make_msg(const struct sysv_obj *o)
{
	struct msqid_ds ds;
	int perms = (int)(o->mode & 0777), id = -1;
	char drain[8192 + sizeof(long)];

	if (msgctl(o->id, IPC_STAT, &ds) == 0 && ds.msg_perm.uid == geteuid()) {
		id = o->id;
		while (msgrcv(id, drain, 8192, 0, IPC_NOWAIT | MSG_NOERROR) >= 0)
			; /* what was sent after the checkpoint */
	} else if (o->key != IPC_PRIVATE) {
		id = msgget(o->key, IPC_CREAT | IPC_EXCL | perms);
	}
	if (id < 0)
		id = msgget(IPC_PRIVATE, IPC_CREAT | perms);
	if (id < 0)
		return -errno;
	const char *p = (const char *)(o + 1), *end = p + o->len;
	for (uint32_t i = 0; i < o->count; i++) {
		const struct sysv_msg *m = (const void *)p;
		if (p + sizeof(*m) > end || m->len > (uint64_t)(end - p) - sizeof(*m))
			return -EBADMSG;
		char *buf = malloc(sizeof(long) + m->len);
		if (!buf)
			return -ENOMEM;
		long type = (long)m->type;
		memcpy(buf, &type, sizeof(long));
		memcpy(buf + sizeof(long), m + 1, m->len);
		int r = msgsnd(id, buf, m->len, IPC_NOWAIT);
		free(buf);
		if (r != 0)
			return -errno;
		p += sizeof(*m) + ((m->len + 7) & ~7u);
	}
	return id;
}

/* Count the objects of a section (an upper bound for the table). */
int sysv_count(const struct tree_node *n)
{
	const char *p = n->sysv, *end = p + n->sysv_len;
	int count = 0;

	while (p && p + sizeof(struct sysv_obj) <= end) {
		const struct sysv_obj *o = (const void *)p;
		if (o->len > (uint64_t)(end - p) - sizeof(*o))
			break;
		count++;
		p += sizeof(*o) + o->len;
	}
	return count;
}

/* Make every set and queue once; their entries go to out from *k on. */
int sysv_make(const struct tree_node *nodes, int n, struct rst_shm *out, uint32_t *k)
{
	uint32_t first = *k;

	for (int i = 0; i < n; i++) {
		const char *p = nodes[i].sysv, *end = p + nodes[i].sysv_len;
		while (p && p + sizeof(struct sysv_obj) <= end) {
			const struct sysv_obj *o = (const void *)p;
			if (o->len > (uint64_t)(end - p) - sizeof(*o) ||
			    (o->kind == RST_SYSV_SEM && o->count * sizeof(uint16_t) > o->len))
				return -EBADMSG;
			p += sizeof(*o) + o->len;
			int seen = 0;
			for (uint32_t q = first; q < *k; q++)
				seen |= out[q].kind == o->kind && out[q].old_id == o->id;
			if (seen)
				continue;
			int id = o->kind == RST_SYSV_SEM ? make_sem(o, (const uint16_t *)(o + 1)) :
				 o->kind == RST_SYSV_MSG ? make_msg(o) : -EBADMSG;
			if (id < 0) {
				fprintf(stderr, "cocoon: restart: cannot make System V %s %d again: %s\n",
					o->kind == RST_SYSV_SEM ? "semaphore set" : "message queue",
					o->id, strerror(-id));
				return id;
			}
			out[(*k)++] = (struct rst_shm){ o->id, id, 0, o->kind };
		}
	}
	return 0;
}
