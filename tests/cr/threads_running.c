/* SPDX-License-Identifier: MIT */
/*
 * Threads that keep computing through the checkpoint: each increments its
 * counter in memory and a copy in a register, checks they agree, and keeps
 * progressing after restart.
 */
#include "crtest.h"

#include <stdatomic.h>

#define NT 4

static atomic_uint_fast64_t counter[NT];
static atomic_int stop;

static void *worker(void *arg)
{
	int i = (int)(intptr_t)arg;
	uint64_t mine = 0;

	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		if (atomic_load_explicit(&counter[i], memory_order_relaxed) != mine)
			test_fail("thread %d: counter %llu, register copy %llu", i,
				  (unsigned long long)atomic_load(&counter[i]),
				  (unsigned long long)mine);
		atomic_store_explicit(&counter[i], ++mine, memory_order_relaxed);
		if (mine % 4096 == 0)
			test_msleep(1);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t[NT];
	uint64_t before[NT];

	test_init(argc, argv);
	for (int i = 0; i < NT; i++)
		test_thread_create(&t[i], worker, (void *)(intptr_t)i);
	for (int i = 0; i < NT; i++)
		while (atomic_load(&counter[i]) < 1000)
			test_msleep(1);

	test_ready();
	test_wait_done();

	for (int i = 0; i < NT; i++)
		before[i] = atomic_load(&counter[i]);
	uint64_t deadline = test_now_ns() + 10000000000ull;
	for (int i = 0; i < NT; i++)
		while (atomic_load(&counter[i]) < before[i] + 10000) {
			if (test_now_ns() > deadline)
				test_fail("thread %d stopped progressing at %llu", i,
					  (unsigned long long)atomic_load(&counter[i]));
			test_msleep(1);
		}
	atomic_store(&stop, 1);
	for (int i = 0; i < NT; i++)
		test_thread_join(t[i], 10);
	test_pass();
}
