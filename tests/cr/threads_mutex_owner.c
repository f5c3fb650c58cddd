/* SPDX-License-Identifier: MIT */
/*
 * Error-checking and recursive mutexes held across a checkpoint still
 * belong to their threads after a restart: the owner unlocks them (and
 * relocks a recursive one), another thread gets EPERM.
 */
#include "crtest.h"

#include <errno.h>

struct held {
	pthread_mutex_t check, rec;
};

static struct held mains, workers;

static void init_held(struct held *h)
{
	pthread_mutexattr_t a;

	pthread_mutexattr_init(&a);
	pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK);
	test_assert(pthread_mutex_init(&h->check, &a) == 0);
	pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
	test_assert(pthread_mutex_init(&h->rec, &a) == 0);
	pthread_mutexattr_destroy(&a);
	test_assert(pthread_mutex_lock(&h->check) == 0);
	test_assert(pthread_mutex_lock(&h->rec) == 0);
	test_assert(pthread_mutex_lock(&h->rec) == 0);
}

/* Not the owner: every unlock is refused, a try to lock finds it busy. */
static void check_foreign(struct held *h, const char *whose)
{
	int r;

	if ((r = pthread_mutex_unlock(&h->check)) != EPERM)
		test_fail("unlocking %s error-checking mutex from another thread gave %d", whose, r);
	if ((r = pthread_mutex_unlock(&h->rec)) != EPERM)
		test_fail("unlocking %s recursive mutex from another thread gave %d", whose, r);
	if ((r = pthread_mutex_trylock(&h->rec)) != EBUSY)
		test_fail("trylock of %s recursive mutex from another thread gave %d", whose, r);
}

/* The owner: relock the recursive one (a third level), then let go of all. */
static void check_own(struct held *h, const char *whose)
{
	int r;

	if ((r = pthread_mutex_trylock(&h->rec)) != 0)
		test_fail("%s: relocking its recursive mutex gave %d", whose, r);
	for (int i = 0; i < 3; i++)
		if ((r = pthread_mutex_unlock(&h->rec)) != 0)
			test_fail("%s: unlock %d of its recursive mutex gave %d", whose, i + 1, r);
	if ((r = pthread_mutex_unlock(&h->rec)) != EPERM)
		test_fail("%s: a fourth unlock of the recursive mutex gave %d", whose, r);
	if ((r = pthread_mutex_unlock(&h->check)) != 0)
		test_fail("%s: unlocking its error-checking mutex gave %d", whose, r);
	if ((r = pthread_mutex_unlock(&h->check)) != EPERM)
		test_fail("%s: a second unlock of the error-checking mutex gave %d", whose, r);
}

static void *worker(void *arg)
{
	init_held(&workers);
	test_set_phase(1);
	test_wait_phase(2);
	check_foreign(&mains, "main's");
	test_set_phase(3);
	test_wait_phase(4);
	check_own(&workers, "worker");
	return NULL;
}

static void *newcomer(void *arg)
{
	check_foreign(&mains, "main's");
	check_foreign(&workers, "the worker's");
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t w, n;

	test_init(argc, argv);
	init_held(&mains);
	test_thread_create(&w, worker, NULL);
	test_wait_phase(1);
	test_ready();
	test_wait_done();

	/* A thread born after the restart owns nothing. */
	test_thread_create(&n, newcomer, NULL);
	test_thread_join(n, 10);
	test_set_phase(2);
	test_wait_phase(3);
	check_foreign(&workers, "the worker's");
	check_own(&mains, "main");
	test_set_phase(4);
	test_thread_join(w, 10);
	/* Free again: anyone may take them. */
	test_assert(pthread_mutex_lock(&mains.check) == 0);
	test_assert(pthread_mutex_unlock(&mains.check) == 0);
	test_pass();
}
