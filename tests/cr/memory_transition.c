/* SPDX-License-Identifier: MIT */
/*
 * Memory changing while the checkpoint happens: a thread keeps writing
 * v(n) into slot n % N of a 4 MiB ring, holding n only in its registers and
 * stack.  If memory and thread state were saved at different moments, some
 * slot of the last N would not hold v(its n) after the restart.
 */
#include "crtest.h"

#include <stdatomic.h>
#include <stdlib.h>

#define N (512 * 1024)

static uint64_t *ring;
static atomic_int stop;
static atomic_uint_fast64_t final_n;

static uint64_t v(uint64_t n)
{
	n = (n ^ (n >> 31)) * 0x7fb5d329728ea185ull;
	return (n ^ (n >> 27)) * 0x81dadef4bc2dd44dull + 1;
}

static void *writer(void *arg)
{
	uint64_t n = 0;

	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		for (int i = 0; i < 16384; i++, n++)
			ring[n % N] = v(n);
		test_msleep(1); /* leave CPU for the other tests */
	}
	atomic_store(&final_n, n);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t;

	test_init(argc, argv);
	ring = calloc(N, sizeof(*ring));
	test_assert(ring);
	test_thread_create(&t, writer, NULL);
	while (atomic_load(&final_n) == 0 && ring[N - 1] == 0)
		test_msleep(1); /* the ring is full at least once */

	test_ready();
	test_wait_done();

	atomic_store(&stop, 1);
	test_thread_join(t, 10);
	uint64_t n = atomic_load(&final_n);
	if (n < N)
		test_fail("writer made only %llu steps", (unsigned long long)n);
	for (uint64_t j = n - N; j < n; j++)
		if (ring[j % N] != v(j))
			test_fail("slot %llu holds a stale value (step %llu of %llu)",
				  (unsigned long long)(j % N), (unsigned long long)j,
				  (unsigned long long)n);
	test_pass();
}
