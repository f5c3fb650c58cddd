/* SPDX-License-Identifier: MIT */
/*
 * POSIX message queues.  There is no way to read a queue without taking
 * its messages, so at checkpoint they are taken out (highest priority
 * first, as the kernel hands them) and sent back at once in that order,
 * each with its priority: the queue ends as it began.  `cocoon restart`
 * makes the queue again by name (or empties the one still there) and sends
 * the saved messages; each process then opens it by name.
 * Processes that share a queue take turns.  Checkpoint thread only (all
 * processes stopped); memory from rt_alloc.
 */
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plugins/fd/fd.h"
#include "plugins/fd/mqueue.h"
#include "runtime/rt.h"
#include "runtime/sys.h"

/* Processes sharing a queue take turns (a lock file in the checkpoint
 * directory): two emptying one queue at once would mix up its messages. */
static int turn_take(void)
{
	char path[4200];

	snprintf(path, sizeof(path), "%s/.cocoon-mqueue.lock", rt.ckpt_dir);
	int fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0)
		flock(fd, LOCK_EX);
	return fd;
}

static void turn_give(int fd)
{
	if (fd >= 0)
		close(fd); /* drops the lock */
}

static long save(int fd, void **blob);

long fd_mqueue_save(int fd, void **blob)
{
	int lock = turn_take();
	long r = save(fd, blob);

	turn_give(lock);
	return r;
}

static long save(int fd, void **blob)
{
	struct mq_attr attr, nowait;
	struct stat st;

	if (rt_sys3(SYS_mq_getsetattr, fd, NULL, &attr) < 0 || fstat(fd, &st) != 0)
		return -EIO;
	uint64_t cap = (uint64_t)attr.mq_curmsgs * (sizeof(struct fd_mq_msg) + (uint64_t)attr.mq_msgsize + 8);
	struct fd_mqueue *q = rt_alloc(sizeof(*q) + cap);
	if (!q)
		return -ENOMEM;
	*q = (struct fd_mqueue){ attr.mq_maxmsg, attr.mq_msgsize, 0,
				 (st.st_mode & 0777) | (attr.mq_flags & O_NONBLOCK ? FD_MQ_NONBLOCK : 0), 0 };
	/* Take every message without blocking, then send them all back. */
	nowait = attr;
	nowait.mq_flags = O_NONBLOCK;
	rt_sys3(SYS_mq_getsetattr, fd, &nowait, NULL);
	char *p = (char *)(q + 1);
	for (long i = 0; i < attr.mq_curmsgs; i++) {
		struct fd_mq_msg *m = (void *)p;
		unsigned prio = 0;
		long n = rt_syscall6(SYS_mq_timedreceive, fd, (long)(m + 1), attr.mq_msgsize,
				     (long)&prio, 0, 0);
		if (n < 0)
			break;
		m->prio = prio;
		m->len = (uint32_t)n;
		p += sizeof(*m) + (((uint64_t)n + 7) & ~7ul);
		q->nmsg++;
	}
	q->len = (uint64_t)(p - (char *)(q + 1));
	p = (char *)(q + 1);
	for (uint32_t i = 0; i < q->nmsg; i++) {
		struct fd_mq_msg *m = (void *)p;
		rt_syscall6(SYS_mq_timedsend, fd, (long)(m + 1), m->len, m->prio, 0, 0);
		p += sizeof(*m) + ((m->len + 7) & ~7u);
	}
	rt_sys3(SYS_mq_getsetattr, fd, &attr, NULL);
	*blob = q;
	return (long)(sizeof(*q) + q->len);
}
