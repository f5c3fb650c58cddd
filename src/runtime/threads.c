/* SPDX-License-Identifier: MIT */
/*
 * Thread and process life-cycle events for plugins: THREAD_START and
 * THREAD_EXIT around every thread the program creates (a cleanup handler
 * also sees pthread_exit and cancellation), EXIT when the process exits
 * normally.  The checkpoint thread is the runtime's and is not announced.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <sched.h>

#include "runtime/rt.h"

/* How a new thread learns what to run.  Not malloc'ed: freeing it in the
 * new thread would make glibc give that thread a malloc arena of its own
 * (a 64 MiB reservation) that the program's thread might never have
 * needed.  A slot is taken by the creator and given back by the thread as
 * soon as it runs; when all are in use (a burst of threads that have not
 * run yet), the creator yields until one is back. */
#define START_SLOTS 256

struct start {
	atomic_int used;
	void *(*fn)(void *);
	void *arg;
};

static struct start slots[START_SLOTS];

static struct start *start_take(void)
{
	for (;;) {
		for (int i = 0; i < START_SLOTS; i++) {
			int free_slot = 0;
			if (atomic_compare_exchange_strong(&slots[i].used, &free_slot, 1))
				return &slots[i];
		}
		sched_yield();
	}
}

static void start_give_back(struct start *s)
{
	atomic_store(&s->used, 0);
}

static void thread_ends(void *unused)
{
	rt_plugins_event(COCOON_EV_THREAD_EXIT, NULL);
}

static void *thread_main(void *p)
{
	void *(*fn)(void *) = ((struct start *)p)->fn;
	void *arg = ((struct start *)p)->arg;
	void *ret;

	start_give_back(p);
	rt_plugins_event(COCOON_EV_THREAD_START, NULL);
	pthread_cleanup_push(thread_ends, NULL);
	ret = fn(arg);
	pthread_cleanup_pop(1);
	return ret;
}

RT_EXPORT int pthread_create(pthread_t *th, const pthread_attr_t *attr, void *(*fn)(void *),
			     void *arg)
{
	RESOLVED(pthread_create);
	if (!rt.active)
		return real_pthread_create(th, attr, fn, arg);
	struct start *s = start_take();
	s->fn = fn;
	s->arg = arg;
	int err = real_pthread_create(th, attr, thread_main, s);
	if (err)
		start_give_back(s);
	return err;
}

__attribute__((destructor)) static void process_exits(void)
{
	if (rt.active)
		rt_plugins_event(COCOON_EV_EXIT, NULL);
}
