/* SPDX-License-Identifier: MIT */
/*
 * A thread that never allocates gets no malloc arena of its own, under
 * Cocoon as natively: the runtime's pthread_create wrapper must not malloc
 * or free in the new thread (glibc would give the thread an arena, a 64 MiB
 * reservation, at its first free).  Counted with malloc_info() (one <heap>
 * per arena) while the thread runs, after a burst of 300 threads created on
 * one CPU (faster than they start), and again after the restart.
 */
#include "crtest.h"

#include <errno.h>
#include <malloc.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static atomic_int started;

static void *nothing(void *arg)
{
	return arg;
}

/* 300 threads that do nothing, created back to back while the process may
 * run on one CPU only: most are created before any has run. */
static void burst(void)
{
	enum { N = 300 };
	static pthread_t t[N];
	cpu_set_t all, one;

	if (sched_getaffinity(0, sizeof(all), &all) != 0)
		test_fail("sched_getaffinity: %s", strerror(errno));
	CPU_ZERO(&one);
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &all)) {
			CPU_SET(c, &one);
			break;
		}
	sched_setaffinity(0, sizeof(one), &one);
	for (int i = 0; i < N; i++) {
		int err = pthread_create(&t[i], NULL, nothing, NULL);
		if (err)
			test_fail("pthread_create %d: %s", i, strerror(err));
	}
	for (int i = 0; i < N; i++)
		pthread_join(t[i], NULL);
	sched_setaffinity(0, sizeof(all), &all);
}

static void *worker(void *arg)
{
	atomic_store(&started, 1);
	while (!test_done())
		test_msleep(5);
	return NULL;
}

/* Arenas glibc has made so far. */
static int arenas(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f || malloc_info(0, f) != 0 || fclose(f) != 0)
		test_fail("malloc_info failed");
	int n = 0;
	for (const char *p = buf; (p = strstr(p, "<heap nr=")) != NULL; p++)
		n++;
	free(buf);
	return n;
}

int main(int argc, char **argv)
{
	pthread_t t;

	test_init(argc, argv);
	test_thread_create(&t, worker, NULL);
	while (!atomic_load(&started))
		test_msleep(1);
	test_msleep(10); /* well into its life: what it was going to allocate, it has */
	int n = arenas();
	if (n != 1)
		test_fail("%d malloc arenas with a thread that never allocates, want 1", n);
	burst();
	if ((n = arenas()) != 1)
		test_fail("%d malloc arenas after 300 threads that never allocate, want 1", n);
	test_ready();
	test_wait_done();
	n = arenas();
	if (n != 1)
		test_fail("%d malloc arenas after restart, want 1", n);
	test_thread_join(t, 10);
	test_pass();
}
