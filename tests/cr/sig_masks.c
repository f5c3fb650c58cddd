/* SPDX-License-Identifier: MIT */
/* Each thread keeps its own blocked-signal mask. */
#include "crtest.h"

#include <signal.h>
#include <stdatomic.h>

#define NT 3

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int go;
static atomic_int set_up;

/* The mask thread i asks for: SIGTERM stays blocked (test_thread_create). */
static void wanted(int i, sigset_t *s)
{
	sigemptyset(s);
	if (i == 0) {
		sigaddset(s, SIGUSR2);
		sigaddset(s, SIGRTMIN + 3);
	} else if (i == 1) {
		sigaddset(s, SIGHUP);
		sigaddset(s, SIGWINCH);
		sigaddset(s, SIGRTMAX - 1);
		sigaddset(s, SIGUSR1);
	} else if (i == 2) {
		sigaddset(s, SIGCHLD);
	} else { /* main */
		sigaddset(s, SIGUSR1);
		sigaddset(s, SIGPIPE);
	}
	if (i < NT)
		sigaddset(s, SIGTERM);
}

static void check_mask(int i)
{
	sigset_t want, cur;

	wanted(i, &want);
	test_assert(pthread_sigmask(SIG_SETMASK, NULL, &cur) == 0);
	for (int sig = 1; sig < NSIG; sig++)
		if (sigismember(&want, sig) != sigismember(&cur, sig))
			test_fail("thread %d: signal %d is %sblocked", i, sig,
				  sigismember(&cur, sig) ? "" : "not ");
}

static void *thread_main(void *arg)
{
	int i = (int)(intptr_t)arg;
	sigset_t s;

	wanted(i, &s);
	test_assert(pthread_sigmask(SIG_SETMASK, &s, NULL) == 0);
	check_mask(i);
	atomic_fetch_add(&set_up, 1);
	pthread_mutex_lock(&lock);
	while (!go)
		pthread_cond_wait(&cond, &lock);
	pthread_mutex_unlock(&lock);
	check_mask(i);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t[NT];
	sigset_t s;

	test_init(argc, argv);
	for (int i = 0; i < NT; i++)
		test_thread_create(&t[i], thread_main, (void *)(intptr_t)i);
	wanted(NT, &s);
	test_assert(pthread_sigmask(SIG_SETMASK, &s, NULL) == 0);
	while (atomic_load(&set_up) < NT)
		test_msleep(1);

	test_ready();
	test_wait_done();

	check_mask(NT);
	pthread_mutex_lock(&lock);
	go = 1;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
	for (int i = 0; i < NT; i++)
		test_thread_join(t[i], 10);
	test_pass();
}
