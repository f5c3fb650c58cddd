/* SPDX-License-Identifier: MIT */
/*
 * Pids a signal handler sees are virtual too: after restart, a restored
 * child that signals its parent (kill, sigqueue) shows up in the parent's
 * SA_SIGINFO handler with the pid fork() returned, and so does its SIGCHLD
 * when it exits.
 */
#include "crtest.h"

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static _Atomic pid_t usr1_from, chld_from;
static atomic_int usr1_value;

static void on_usr1(int sig, siginfo_t *si, void *uc)
{
	atomic_store(&usr1_value, si->si_value.sival_int);
	atomic_store(&usr1_from, si->si_pid);
}

static void on_chld(int sig, siginfo_t *si, void *uc)
{
	atomic_store(&chld_from, si->si_pid);
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_sigaction = on_usr1, .sa_flags = SA_SIGINFO | SA_RESTART };
	int go[2];

	test_init(argc, argv);
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_sigaction = on_chld;
	sigaction(SIGCHLD, &sa, NULL);
	struct sigaction back;
	if (sigaction(SIGUSR1, NULL, &back) || back.sa_sigaction != on_usr1)
		test_fail("sigaction does not give back the program's own handler");
	if (pipe(go))
		test_fail("pipe: %s", strerror(errno));
	pid_t kid = fork();
	if (kid == 0) {
		char c;
		if (read(go[0], &c, 1) != 1)
			_exit(2);
		union sigval v = { .sival_int = 1234 };
		sigqueue(getppid(), SIGUSR1, v);
		_exit(5);
	}
	test_ready();
	test_wait_done();

	if (write(go[1], "x", 1) != 1)
		test_fail("write: %s", strerror(errno));
	for (int i = 0; i < 500 && (!atomic_load(&usr1_from) || !atomic_load(&chld_from)); i++)
		test_msleep(10);
	if (atomic_load(&usr1_from) != kid || atomic_load(&usr1_value) != 1234)
		test_fail("SIGUSR1 came from pid %d value %d, want %d value 1234",
			  atomic_load(&usr1_from), atomic_load(&usr1_value), kid);
	if (atomic_load(&chld_from) != kid)
		test_fail("SIGCHLD names pid %d, want %d", atomic_load(&chld_from), kid);
	int st;
	if (waitpid(kid, &st, 0) != kid || !WIFEXITED(st) || WEXITSTATUS(st) != 5)
		test_fail("child status %#x", st);
	test_pass();
}
