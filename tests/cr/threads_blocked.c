/* SPDX-License-Identifier: MIT */
/*
 * Threads blocked in the kernel when the checkpoint comes: in
 * pthread_mutex_lock, pthread_cond_wait, read() and poll() on a pipe, and in
 * sleeps with timeouts (nanosleep, clock_nanosleep, usleep, poll, select).
 * None may see EINTR or return before it was released; after SIGTERM the main thread
 * releases them and each reports how its call ended.
 */
#include "crtest.h"

#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>

enum { T_MUTEX, T_COND, T_READ, T_POLL, T_NANOSLEEP, T_CLOCK_NANOSLEEP, T_USLEEP,
       T_POLL_SLEEP, T_SELECT_SLEEP, NT };
static const char *names[NT] = { "mutex", "cond", "read", "poll", "nanosleep",
				 "clock_nanosleep", "usleep", "poll-timeout", "select-timeout" };

static pthread_mutex_t held = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t cond_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int cond_go;
static int read_pipe[2], poll_pipe[2];
static atomic_int entered[NT];
static atomic_int stop;
static atomic_long sleeps;

#define SLEEP_MS 300

static void *blocker(void *arg)
{
	int k = (int)(intptr_t)arg;
	char c;

	atomic_store(&entered[k], 1);
	switch (k) {
	case T_MUTEX:
		if (pthread_mutex_lock(&held))
			test_fail("mutex: lock failed");
		if (!atomic_load(&stop))
			test_fail("mutex: got the lock before it was released");
		pthread_mutex_unlock(&held);
		break;
	case T_COND:
		pthread_mutex_lock(&cond_lock);
		while (!cond_go) /* POSIX allows spurious wakeups: loop */
			pthread_cond_wait(&cond, &cond_lock);
		pthread_mutex_unlock(&cond_lock);
		break;
	case T_READ: {
		ssize_t n = read(read_pipe[0], &c, 1);
		if (n != 1 || c != 'r')
			test_fail("read: returned %zd (%s)", n, n < 0 ? strerror(errno) : "");
		if (!atomic_load(&stop))
			test_fail("read: returned before data was written");
		break;
	}
	case T_POLL: {
		struct pollfd p = { .fd = poll_pipe[0], .events = POLLIN };
		int n = poll(&p, 1, -1);
		if (n != 1 || !(p.revents & POLLIN))
			test_fail("poll: returned %d (%s)", n, n < 0 ? strerror(errno) : "");
		if (!atomic_load(&stop))
			test_fail("poll: returned before data was written");
		break;
	}
	default:
		/* Sleep in a loop until told to stop; every call must return 0. */
		while (!atomic_load(&stop)) {
			struct timespec ts = { 0, SLEEP_MS * 1000000L }, rem;
			struct timeval tv = { 0, SLEEP_MS * 1000L };
			int r = 0;

			if (k == T_NANOSLEEP)
				r = nanosleep(&ts, &rem);
			else if (k == T_CLOCK_NANOSLEEP)
				r = clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &rem) ? -1 : 0;
			else if (k == T_USLEEP)
				r = usleep(SLEEP_MS * 1000);
			else if (k == T_POLL_SLEEP)
				r = poll(NULL, 0, SLEEP_MS);
			else
				r = select(0, NULL, NULL, NULL, &tv);
			if (r != 0)
				test_fail("%s returned %d (%s)", names[k], r, strerror(errno));
			/* How long it took is not checked: time jumps across a restart. */
			atomic_fetch_add(&sleeps, 1);
		}
		break;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t[NT];

	test_init(argc, argv);
	test_assert(pipe(read_pipe) == 0 && pipe(poll_pipe) == 0);
	pthread_mutex_lock(&held);
	for (int k = 0; k < NT; k++)
		test_thread_create(&t[k], blocker, (void *)(intptr_t)k);
	for (int k = 0; k < NT; k++)
		while (!atomic_load(&entered[k]))
			test_msleep(1);
	test_msleep(50); /* let them reach the blocking call */

	test_ready();
	test_wait_done();

	atomic_store(&stop, 1);
	pthread_mutex_unlock(&held);
	pthread_mutex_lock(&cond_lock);
	cond_go = 1;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&cond_lock);
	test_assert(write(read_pipe[1], "r", 1) == 1);
	test_assert(write(poll_pipe[1], "p", 1) == 1);
	for (int k = 0; k < NT; k++)
		test_thread_join(t[k], 10);
	if (atomic_load(&sleeps) < 5)
		test_fail("the sleeping threads did not sleep");
	test_pass();
}
