/* SPDX-License-Identifier: MIT */
/*
 * glibc's rseq: under Cocoon glibc registers no rseq area (the runtime turns
 * it off at launch, see docs/architecture.md), so nothing the kernel would
 * have to know about is lost at restart.  sched_getcpu() must keep giving a
 * valid CPU in every thread after restart.
 */
#include "crtest.h"

#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern const unsigned int __rseq_size __attribute__((weak));

static void check_cpu(const char *who)
{
	long ncpu = sysconf(_SC_NPROCESSORS_CONF);

	for (int i = 0; i < 1000; i++) {
		int cpu = sched_getcpu();
		if (cpu < 0 || cpu >= ncpu)
			test_fail("%s: sched_getcpu() = %d with %ld CPUs", who, cpu, ncpu);
	}
}

static atomic_int worker_checked;

static void *worker(void *arg)
{
	while (!test_done()) {
		check_cpu("worker");
		/* its first sysconf() made this thread's malloc arena: the
		 * mappings are final before the test says ready */
		atomic_store(&worker_checked, 1);
		test_msleep(5);
	}
	check_cpu("worker after restart");
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t;

	test_init(argc, argv);
	const char *preload = getenv("LD_PRELOAD");
	if (preload && strstr(preload, "libcocoon") && &__rseq_size && __rseq_size != 0)
		test_fail("glibc registered rseq (size %u) under Cocoon", __rseq_size);
	test_thread_create(&t, worker, NULL);
	check_cpu("main");
	while (!atomic_load(&worker_checked))
		test_msleep(1);
	test_ready();
	test_wait_done();
	check_cpu("main after restart");
	test_thread_join(t, 10);
	test_pass();
}
