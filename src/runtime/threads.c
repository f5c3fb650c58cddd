/* SPDX-License-Identifier: MIT */
/*
 * Thread and process life-cycle events for plugins: THREAD_START and
 * THREAD_EXIT around every thread the program creates (a cleanup handler
 * also sees pthread_exit and cancellation), EXIT when the process exits
 * normally.  The checkpoint thread is the runtime's and is not announced.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "runtime/rt.h"

struct start {
	void *(*fn)(void *);
	void *arg;
};

static void thread_ends(void *unused)
{
	rt_plugins_event(COCOON_EV_THREAD_EXIT, NULL);
}

static void *thread_main(void *p)
{
	struct start s = *(struct start *)p;
	void *ret;

	free(p);
	rt_plugins_event(COCOON_EV_THREAD_START, NULL);
	pthread_cleanup_push(thread_ends, NULL);
	ret = s.fn(s.arg);
	pthread_cleanup_pop(1);
	return ret;
}

RT_EXPORT int pthread_create(pthread_t *th, const pthread_attr_t *attr, void *(*fn)(void *),
			     void *arg)
{
	RESOLVED(pthread_create);
	if (!rt.active)
		return real_pthread_create(th, attr, fn, arg);
	struct start *s = malloc(sizeof(*s));
	if (!s)
		return EAGAIN;
	s->fn = fn;
	s->arg = arg;
	int err = real_pthread_create(th, attr, thread_main, s);
	if (err)
		free(s);
	return err;
}

__attribute__((destructor)) static void process_exits(void)
{
	if (rt.active)
		rt_plugins_event(COCOON_EV_EXIT, NULL);
}
