/* SPDX-License-Identifier: MIT */
/*
 * The program's ids stay the same across restart: getpid, getppid, gettid,
 * syscall(SYS_gettid), syscall(SYS_getpid); and signals sent to itself by
 * those ids (kill, tgkill, pthread_kill from another thread) arrive.
 */
#include "crtest.h"

#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static atomic_int got[NSIG];
static atomic_int last_tid[NSIG];
static pid_t thread_tid;

static void handler(int sig)
{
	atomic_store(&last_tid[sig], gettid());
	atomic_fetch_add(&got[sig], 1);
}

static void *thread_main(void *arg)
{
	thread_tid = gettid();
	test_set_phase(1);
	test_wait_phase(2);
	if (gettid() != thread_tid || syscall(SYS_gettid) != thread_tid)
		test_fail("thread: gettid %d, was %d", gettid(), thread_tid);
	/* Signal the main thread by its tid from here. */
	if (syscall(SYS_tgkill, getpid(), getpid(), SIGWINCH))
		test_fail("tgkill(main) failed");
	test_set_phase(3);
	test_wait_phase(4);
	return NULL;
}

static void expect(int sig, int n, pid_t tid, const char *how)
{
	uint64_t deadline = test_now_ns() + 5000000000ull;

	while (atomic_load(&got[sig]) < n) {
		if (test_now_ns() > deadline)
			test_fail("%s: signal %d not delivered", how, sig);
		test_msleep(1);
	}
	if (tid && atomic_load(&last_tid[sig]) != tid)
		test_fail("%s: handled by tid %d, want %d", how, atomic_load(&last_tid[sig]), tid);
}

int main(int argc, char **argv)
{
	int sigs[] = { SIGUSR1, SIGUSR2, SIGWINCH, SIGURG };
	pthread_t t;

	test_init(argc, argv);
	for (unsigned i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		test_assert(signal(sigs[i], handler) != SIG_ERR);
	pid_t pid = getpid(), ppid = getppid(), tid = gettid();
	test_assert(pid == tid && syscall(SYS_getpid) == pid && syscall(SYS_gettid) == tid);
	test_thread_create(&t, thread_main, NULL);
	test_wait_phase(1);

	test_ready();
	test_wait_done();

	if (getpid() != pid || syscall(SYS_getpid) != pid)
		test_fail("getpid %d / %ld, was %d", getpid(), syscall(SYS_getpid), pid);
	if (getppid() != ppid)
		test_fail("getppid %d, was %d", getppid(), ppid);
	if (gettid() != tid || syscall(SYS_gettid) != tid)
		test_fail("gettid %d / %ld, was %d", gettid(), syscall(SYS_gettid), tid);

	test_assert(kill(getpid(), SIGUSR1) == 0);
	expect(SIGUSR1, 1, 0, "kill(getpid())");
	test_assert(tgkill(getpid(), gettid(), SIGUSR2) == 0);
	expect(SIGUSR2, 1, tid, "tgkill(getpid(), gettid())");
	test_set_phase(2);
	test_wait_phase(3);
	expect(SIGWINCH, 1, tid, "tgkill(main) from a thread");
	test_assert(pthread_kill(t, SIGURG) == 0);
	expect(SIGURG, 1, thread_tid, "pthread_kill(thread)");
	test_set_phase(4);
	test_thread_join(t, 10);
	test_pass();
}
