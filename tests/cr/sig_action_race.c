/* SPDX-License-Identifier: MIT */
/*
 * Two threads set the disposition of SIGUSR1 at the same moment, over and
 * over: one installs a handler, the other SIG_IGN.  Whichever wins, what
 * sigaction() then reports and what a SIGUSR1 does must agree -- the
 * handler runs or nothing happens -- and so after the restart too.  (Cocoon
 * keeps the program's handler in a table beside the kernel's disposition;
 * the two must never disagree.)
 */
#include "crtest.h"

#include <signal.h>
#include <string.h>

#define ROUNDS 20000

static pthread_barrier_t start, end; /* main and both setters, each round */
static volatile sig_atomic_t handled;

static void handler(int sig)
{
	handled++;
}

static void *setter(void *arg)
{
	int handler_side = (int)(intptr_t)arg;
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler_side ? handler : SIG_IGN;
	for (int r = 1; r <= ROUNDS; r++) {
		pthread_barrier_wait(&start); /* both set it at the same moment */
		if (sigaction(SIGUSR1, &sa, NULL) != 0)
			test_fail("sigaction: %m");
		pthread_barrier_wait(&end);
	}
	return NULL;
}

/* What sigaction() reports must be what a SIGUSR1 does. */
static void check(const char *when, int r)
{
	struct sigaction now;

	if (sigaction(SIGUSR1, NULL, &now) != 0)
		test_fail("sigaction query: %m");
	int before = handled;
	if (now.sa_handler != handler && now.sa_handler != SIG_IGN)
		test_fail("%s, round %d: sigaction reports %p, neither the handler nor SIG_IGN", when,
			  r, (void *)now.sa_handler);
	raise(SIGUSR1);
	if ((handled != before) != (now.sa_handler == handler))
		test_fail("%s, round %d: sigaction reports %s but the handler %s", when, r,
			  now.sa_handler == handler ? "the handler" : "SIG_IGN",
			  handled != before ? "ran" : "did not run");
}

int main(int argc, char **argv)
{
	pthread_t t[2];

	test_init(argc, argv);
	pthread_barrier_init(&start, NULL, 3);
	pthread_barrier_init(&end, NULL, 3);
	for (int k = 0; k < 2; k++)
		test_thread_create(&t[k], setter, (void *)(intptr_t)k);
	for (int r = 1; r <= ROUNDS; r++) {
		pthread_barrier_wait(&start);
		pthread_barrier_wait(&end);
		check("before the checkpoint", r);
	}
	for (int k = 0; k < 2; k++)
		test_thread_join(t[k], 10);
	test_ready();
	test_wait_done();
	check("after restart", ROUNDS);
	test_pass();
}
