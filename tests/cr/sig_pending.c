/* SPDX-License-Identifier: MIT */
/*
 * Blocked signals stay pending: one directed at a thread (SIGUSR1), one at
 * the process with a value (SIGUSR2), and a real-time signal queued twice.
 * After restart they are unblocked and must arrive, values and order intact.
 */
#include "crtest.h"

#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

static atomic_int got_usr1, got_usr2, usr2_value, rt_count;
static int rt_values[4];

static void handler(int sig, siginfo_t *si, void *uc)
{
	if (sig == SIGUSR1)
		atomic_fetch_add(&got_usr1, 1);
	else if (sig == SIGUSR2) {
		atomic_store(&usr2_value, si->si_value.sival_int);
		atomic_fetch_add(&got_usr2, 1);
	} else {
		int n = atomic_fetch_add(&rt_count, 1);
		if (n < 4)
			rt_values[n] = si->si_value.sival_int;
	}
}

static void *thread_main(void *arg)
{
	sigset_t s;

	sigemptyset(&s);
	sigaddset(&s, SIGUSR1);
	test_assert(pthread_sigmask(SIG_BLOCK, &s, NULL) == 0);
	test_set_phase(1);
	test_wait_phase(2);
	test_assert(sigpending(&s) == 0);
	if (!sigismember(&s, SIGUSR1))
		test_fail("thread: SIGUSR1 no longer pending");
	sigemptyset(&s);
	sigaddset(&s, SIGUSR1);
	test_assert(pthread_sigmask(SIG_UNBLOCK, &s, NULL) == 0);
	if (atomic_load(&got_usr1) != 1)
		test_fail("thread: SIGUSR1 delivered %d times", atomic_load(&got_usr1));
	return NULL;
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	sigset_t block, pend;
	pthread_t t;
	const int rt = SIGRTMIN + 1;

	test_init(argc, argv);
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = handler;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	test_assert(sigaction(SIGUSR1, &sa, NULL) == 0 && sigaction(SIGUSR2, &sa, NULL) == 0 &&
		    sigaction(rt, &sa, NULL) == 0);
	/* Process-directed signals stay pending only if every thread blocks them. */
	sigemptyset(&block);
	sigaddset(&block, SIGUSR2);
	sigaddset(&block, rt);
	test_assert(pthread_sigmask(SIG_BLOCK, &block, NULL) == 0);
	test_thread_create(&t, thread_main, NULL);
	test_wait_phase(1);
	test_assert(pthread_kill(t, SIGUSR1) == 0);
	test_assert(sigqueue(getpid(), SIGUSR2, (union sigval){ .sival_int = 42 }) == 0);
	test_assert(sigqueue(getpid(), rt, (union sigval){ .sival_int = 1 }) == 0);
	test_assert(sigqueue(getpid(), rt, (union sigval){ .sival_int = 2 }) == 0);

	test_ready();
	test_wait_done();

	test_assert(sigpending(&pend) == 0);
	if (!sigismember(&pend, SIGUSR2) || !sigismember(&pend, rt))
		test_fail("process signals no longer pending (SIGUSR2 %d, RT %d)",
			  sigismember(&pend, SIGUSR2), sigismember(&pend, rt));
	if (sigismember(&pend, SIGUSR1))
		test_fail("SIGUSR1 pending on the main thread, was sent to another");
	test_set_phase(2);
	test_thread_join(t, 10);
	test_assert(pthread_sigmask(SIG_UNBLOCK, &block, NULL) == 0);
	if (atomic_load(&got_usr2) != 1 || atomic_load(&usr2_value) != 42)
		test_fail("SIGUSR2: delivered %d times, value %d", atomic_load(&got_usr2),
			  atomic_load(&usr2_value));
	if (atomic_load(&rt_count) != 2 || rt_values[0] != 1 || rt_values[1] != 2)
		test_fail("RT signal: delivered %d times, values %d %d", atomic_load(&rt_count),
			  rt_values[0], rt_values[1]);
	test_pass();
}
