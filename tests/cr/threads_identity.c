/* SPDX-License-Identifier: MIT */
/*
 * What a thread knows about itself stays the same: pthread_self, gettid,
 * the address and value of a __thread variable, and its own errno.
 */
#include "crtest.h"

#include <errno.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <unistd.h>

#define NT 4

static __thread uint64_t tls_value;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int go;
static atomic_int started;

struct rec {
	int idx;
	pthread_t self;
	pid_t tid;
	uint64_t *tls_addr;
};

static void record(struct rec *r, int idx)
{
	r->idx = idx;
	r->self = pthread_self();
	r->tid = gettid();
	tls_value = 0xabc000 + (uint64_t)idx;
	r->tls_addr = &tls_value;
}

static void verify(const struct rec *r)
{
	if (!pthread_equal(pthread_self(), r->self))
		test_fail("thread %d: pthread_self changed", r->idx);
	if (gettid() != r->tid || syscall(SYS_gettid) != r->tid)
		test_fail("thread %d: gettid %d / %ld, was %d", r->idx, gettid(),
			  syscall(SYS_gettid), r->tid);
	if (&tls_value != r->tls_addr)
		test_fail("thread %d: TLS moved %p -> %p", r->idx, (void *)r->tls_addr,
			  (void *)&tls_value);
	if (tls_value != 0xabc000 + (uint64_t)r->idx)
		test_fail("thread %d: TLS value %llx", r->idx, (unsigned long long)tls_value);
}

static void *thread_main(void *arg)
{
	struct rec *r = arg;
	int saved;

	record(r, r->idx);
	pthread_mutex_lock(&lock);
	atomic_fetch_add(&started, 1);
	errno = 1000 + r->idx;
	while (!go)
		pthread_cond_wait(&cond, &lock);
	saved = errno;
	pthread_mutex_unlock(&lock);
	if (saved != 1000 + r->idx)
		test_fail("thread %d: errno %d, want %d", r->idx, saved, 1000 + r->idx);
	verify(r);
	return NULL;
}

int main(int argc, char **argv)
{
	static struct rec recs[NT + 1];
	pthread_t t[NT];

	test_init(argc, argv);
	for (int i = 0; i < NT; i++) {
		recs[i].idx = i;
		test_thread_create(&t[i], thread_main, &recs[i]);
	}
	record(&recs[NT], NT);
	if (recs[NT].tid != getpid())
		test_fail("main thread: gettid %d != getpid %d", recs[NT].tid, getpid());
	while (atomic_load(&started) < NT)
		test_msleep(1);
	for (int i = 0; i < NT; i++)
		if (!pthread_equal(t[i], recs[i].self))
			test_fail("thread %d: pthread_create id != pthread_self", i);

	test_ready();
	test_wait_done();

	verify(&recs[NT]);
	if (recs[NT].tid != getpid())
		test_fail("main thread: gettid %d != getpid %d", recs[NT].tid, getpid());
	pthread_mutex_lock(&lock);
	go = 1;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
	for (int i = 0; i < NT; i++)
		test_thread_join(t[i], 10);
	test_pass();
}
