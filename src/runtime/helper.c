/* SPDX-License-Identifier: MIT */
/*
 * A second thread for the image writer, so that a checkpoint uses both
 * cores: compressing one block while the writer compresses the next, or
 * copying half of a big run into the page cache while the writer copies the
 * other half.  Program threads are stopped and may hold libc's locks, so
 * the helper is a bare clone (rawthread.S): no libc thread, no malloc; it
 * shares the checkpoint thread's TLS register and runs only jobs that touch
 * no libc state there.  It lives for one image (its stack is scratch arena
 * memory) and belongs to the process that made it: a forked copy, which
 * has only the thread that forked, makes its own.
 */
#include <linux/futex.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>

#include "runtime/helper.h"
#include "runtime/rt.h"
#include "runtime/sys.h"

#define HELPER_STACK (256ul << 10)

struct rt_helper {
	_Atomic uint32_t seq, done; /* job number posted, and finished */
	_Atomic int quit;
	_Atomic int alive; /* cleared (and woken) by the kernel when it exits */
	int pid;           /* the process it runs in */
	void (*fn)(void *);
	void *arg;
};

static void futex_wait(_Atomic uint32_t *word, uint32_t val)
{
	rt_syscall6(SYS_futex, (long)word, FUTEX_WAIT_PRIVATE, val, 0, 0, 0);
}

static void futex_wake(_Atomic uint32_t *word)
{
	rt_syscall6(SYS_futex, (long)word, FUTEX_WAKE_PRIVATE, 1, 0, 0, 0);
}

static void helper_main(void *arg)
{
	struct rt_helper *h = arg;
	uint32_t seen = 0;

	for (;;) {
		while (atomic_load(&h->seq) == seen && !atomic_load(&h->quit))
			futex_wait(&h->seq, seen);
		if (atomic_load(&h->quit))
			return;
		seen = atomic_load(&h->seq);
		h->fn(h->arg);
		atomic_store(&h->done, seen);
		futex_wake(&h->done);
	}
}

struct rt_helper *rt_helper_get(struct rt_helper **slot, void *(*alloc)(size_t))
{
	int pid = (int)rt_sys0(SYS_getpid);

	if (*slot && (*slot)->pid == pid)
		return *slot;
	*slot = NULL;
	struct rt_helper *h = alloc(sizeof(*h));
	char *stack = alloc(HELPER_STACK);
	if (!h || !stack)
		return NULL;
	memset(h, 0, sizeof(*h));
	h->pid = pid;
	atomic_store(&h->alive, 1);
	if (rt_raw_thread(CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |
				  CLONE_SYSVSEM | CLONE_CHILD_CLEARTID,
			  stack + HELPER_STACK, (int *)&h->alive, helper_main, h) < 0)
		return NULL;
	return *slot = h;
}

uint32_t rt_helper_post(struct rt_helper *h, void (*fn)(void *), void *arg)
{
	h->fn = fn;
	h->arg = arg;
	uint32_t job = atomic_fetch_add(&h->seq, 1) + 1;
	futex_wake(&h->seq);
	return job;
}

void rt_helper_wait(struct rt_helper *h, uint32_t job)
{
	uint32_t done;

	while ((done = atomic_load(&h->done)) != job)
		futex_wait(&h->done, done);
}

void rt_helper_stop(struct rt_helper **slot)
{
	struct rt_helper *h = *slot;

	if (!h || h->pid != (int)rt_sys0(SYS_getpid))
		return;
	atomic_store(&h->quit, 1);
	atomic_fetch_add(&h->seq, 1);
	futex_wake(&h->seq);
	int alive;
	while ((alive = atomic_load(&h->alive)) != 0)
		rt_syscall6(SYS_futex, (long)&h->alive, FUTEX_WAIT, alive, 0, 0, 0);
	*slot = NULL;
}
