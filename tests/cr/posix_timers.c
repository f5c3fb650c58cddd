/* SPDX-License-Identifier: MIT */
/*
 * POSIX timers survive under the same timer_t: a periodic one that sends a
 * signal with a value, one aimed at one thread (SIGEV_THREAD_ID), and one
 * that notifies nobody (still armed an hour ahead).  After restart the
 * periodic ones keep firing with the same value and timer_gettime on each
 * saved timer_t works.  (glibc's SIGEV_THREAD timers run a helper thread
 * that blocks every signal: a checkpoint says so and fails; see
 * docs/architecture.md.)
 */
#include "crtest.h"

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static atomic_int ticks, bad_value, callbacks;
static _Atomic pid_t target_tid;
static atomic_int checked;

static void on_tick(int sig, siginfo_t *si, void *uc)
{
	if (si->si_value.sival_int != 4242)
		atomic_store(&bad_value, 1);
	atomic_fetch_add(&ticks, 1);
}

static void on_thread_tick(int sig, siginfo_t *si, void *uc)
{
	if (si->si_value.sival_int == 77 && gettid() == atomic_load(&target_tid))
		atomic_fetch_add(&callbacks, 1);
}

/* The thread the SIGEV_THREAD_ID timer is aimed at. */
static void *target(void *arg)
{
	atomic_store(&target_tid, gettid());
	while (!atomic_load(&checked)) /* keep receiving until main has counted */
		test_msleep(5);
	return NULL;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_sigaction = on_tick, .sa_flags = SA_SIGINFO | SA_RESTART };
	struct sigevent ev;
	timer_t periodic, silent, threaded;
	struct itimerspec every = { { 0, 10000000 }, { 0, 10000000 } };
	struct itimerspec hour = { { 0, 0 }, { 3600, 0 } };

	test_init(argc, argv);
	sigaction(SIGUSR1, &sa, NULL);
	memset(&ev, 0, sizeof(ev));
	ev.sigev_notify = SIGEV_SIGNAL;
	ev.sigev_signo = SIGUSR1;
	ev.sigev_value.sival_int = 4242;
	if (timer_create(CLOCK_MONOTONIC, &ev, &periodic))
		test_fail("timer_create: %s", strerror(errno));
	ev.sigev_notify = SIGEV_NONE;
	if (timer_create(CLOCK_REALTIME, &ev, &silent))
		test_fail("timer_create: %s", strerror(errno));
	struct sigaction sa2 = { .sa_sigaction = on_thread_tick, .sa_flags = SA_SIGINFO | SA_RESTART };
	sigaction(SIGUSR2, &sa2, NULL);
	pthread_t th;
	test_thread_create(&th, target, NULL);
	while (!atomic_load(&target_tid))
		test_msleep(1);
	memset(&ev, 0, sizeof(ev));
	ev.sigev_notify = SIGEV_THREAD_ID;
	ev.sigev_signo = SIGUSR2;
	ev._sigev_un._tid = atomic_load(&target_tid);
	ev.sigev_value.sival_int = 77;
	if (timer_create(CLOCK_MONOTONIC, &ev, &threaded))
		test_fail("timer_create SIGEV_THREAD_ID: %s", strerror(errno));
	if (timer_settime(periodic, 0, &every, NULL) || timer_settime(silent, 0, &hour, NULL) ||
	    timer_settime(threaded, 0, &every, NULL))
		test_fail("timer_settime: %s", strerror(errno));
	while (atomic_load(&ticks) < 3 || atomic_load(&callbacks) < 3)
		test_msleep(5);
	test_ready();
	test_wait_done();

	int t0 = atomic_load(&ticks), c0 = atomic_load(&callbacks);
	for (int i = 0; i < 300 && (atomic_load(&ticks) < t0 + 5 || atomic_load(&callbacks) < c0 + 5); i++)
		test_msleep(10);
	if (atomic_load(&ticks) < t0 + 5)
		test_fail("the periodic timer stopped firing (%d -> %d)", t0, atomic_load(&ticks));
	atomic_store(&checked, 1);
	if (atomic_load(&callbacks) < c0 + 5)
		test_fail("the thread's timer stopped (%d -> %d)", c0, atomic_load(&callbacks));
	if (atomic_load(&bad_value))
		test_fail("a tick came with the wrong sigev_value");
	struct itimerspec left;
	if (timer_gettime(silent, &left) || left.it_value.tv_sec <= 0 || left.it_value.tv_sec > 3600)
		test_fail("the silent timer is not armed: %s, %ld s left", strerror(errno),
			  (long)left.it_value.tv_sec);
	if (timer_gettime(periodic, &left) || left.it_interval.tv_nsec != 10000000)
		test_fail("the periodic timer lost its interval");
	test_thread_join(th, 10);
	test_pass();
}
