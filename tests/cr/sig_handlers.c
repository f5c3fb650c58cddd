/* SPDX-License-Identifier: MIT */
/*
 * Signal dispositions survive: SA_SIGINFO handlers for SIGUSR1 and SIGUSR2
 * (SIGUSR1 with SA_ONSTACK), a sigaltstack on one thread, an ignored SIGHUP.
 * After restart the signals are raised and the handlers must run, SIGUSR1
 * on the thread's alternate stack.
 */
#include "crtest.h"

#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ALT_SIZE (64 * 1024)

static atomic_int got[NSIG];
static atomic_int code[NSIG];
static atomic_int on_alt;
static char *alt_stack;
/* Phases (test_set_phase): 1: alt thread set up; 2: test now; 3: alt thread done. */

static void handler(int sig, siginfo_t *si, void *uc)
{
	char here;

	if (si->si_signo != sig)
		return;
	atomic_store(&code[sig], si->si_code);
	if (&here >= alt_stack && &here < alt_stack + ALT_SIZE)
		atomic_store(&on_alt, 1);
	atomic_fetch_add(&got[sig], 1);
}

static void install(int sig, int flags)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = handler;
	sa.sa_flags = SA_SIGINFO | SA_RESTART | flags;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGWINCH);
	test_assert(sigaction(sig, &sa, NULL) == 0);
}

static void check_action(int sig, int flags)
{
	struct sigaction sa;

	test_assert(sigaction(sig, NULL, &sa) == 0);
	if (sa.sa_sigaction != handler)
		test_fail("signal %d: handler changed", sig);
	if ((sa.sa_flags & (SA_SIGINFO | SA_RESTART | SA_ONSTACK)) !=
	    (SA_SIGINFO | SA_RESTART | flags))
		test_fail("signal %d: flags %#x", sig, (unsigned)sa.sa_flags);
	if (!sigismember(&sa.sa_mask, SIGWINCH) || sigismember(&sa.sa_mask, SIGINT))
		test_fail("signal %d: sa_mask changed", sig);
}

static void *alt_thread(void *arg)
{
	stack_t ss = { .ss_sp = alt_stack, .ss_size = ALT_SIZE, .ss_flags = 0 }, cur;

	test_assert(sigaltstack(&ss, NULL) == 0);
	test_set_phase(1);
	test_wait_phase(2);
	test_assert(sigaltstack(NULL, &cur) == 0);
	if (cur.ss_sp != alt_stack || cur.ss_size != ALT_SIZE || (cur.ss_flags & SS_DISABLE))
		test_fail("sigaltstack changed: sp %p size %zu flags %#x", cur.ss_sp,
			  cur.ss_size, (unsigned)cur.ss_flags);
	test_assert(pthread_kill(pthread_self(), SIGUSR1) == 0);
	if (atomic_load(&got[SIGUSR1]) != 1)
		test_fail("SIGUSR1 handler did not run");
	if (!atomic_load(&on_alt))
		test_fail("SIGUSR1 handler did not run on the alternate stack");
	test_set_phase(3);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t;

	test_init(argc, argv);
	alt_stack = malloc(ALT_SIZE);
	test_assert(alt_stack);
	install(SIGUSR1, SA_ONSTACK);
	install(SIGUSR2, 0);
	test_assert(signal(SIGHUP, SIG_IGN) != SIG_ERR);
	test_thread_create(&t, alt_thread, NULL);
	test_wait_phase(1);

	test_ready();
	test_wait_done();

	check_action(SIGUSR1, SA_ONSTACK);
	check_action(SIGUSR2, 0);
	struct sigaction sa;
	test_assert(sigaction(SIGHUP, NULL, &sa) == 0);
	if (sa.sa_handler != SIG_IGN)
		test_fail("SIGHUP is no longer ignored");
	test_assert(raise(SIGHUP) == 0);

	test_set_phase(2);
	test_wait_phase(3);
	test_thread_join(t, 10);

	test_assert(raise(SIGUSR2) == 0);
	if (atomic_load(&got[SIGUSR2]) != 1)
		test_fail("SIGUSR2 handler ran %d times", atomic_load(&got[SIGUSR2]));
	if (atomic_load(&code[SIGUSR2]) != SI_TKILL)
		test_fail("SIGUSR2 si_code %d, want SI_TKILL", atomic_load(&code[SIGUSR2]));
	if (atomic_load(&code[SIGUSR1]) != SI_TKILL)
		test_fail("SIGUSR1 si_code %d, want SI_TKILL", atomic_load(&code[SIGUSR1]));
	test_pass();
}
