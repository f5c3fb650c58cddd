/* SPDX-License-Identifier: MIT */
/*
 * Zombies survive a restart: one child exits with status 7, another dies of
 * SIGUSR1, both before ready, and neither is reaped (waitid WNOWAIT only
 * looks).  After SIGTERM each is still waiting, under the pid fork()
 * returned, with the same status; waitpid reaps it and then there is none.
 */
#include "crtest.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Wait until pid has ended, without reaping it; its siginfo in *si. */
static void peek(pid_t pid, siginfo_t *si, const char *when)
{
	memset(si, 0, sizeof(*si));
	if (waitid(P_PID, pid, si, WEXITED | WNOWAIT))
		test_fail("%s: waitid(P_PID, %d, WNOWAIT): %s", when, pid, strerror(errno));
	if (si->si_pid != pid || si->si_signo != SIGCHLD)
		test_fail("%s: waitid(%d): si_pid %d signo %d", when, pid, si->si_pid,
			  si->si_signo);
}

static void check(pid_t exited, pid_t killed, const char *when)
{
	siginfo_t si;

	peek(exited, &si, when);
	if (si.si_code != CLD_EXITED || si.si_status != 7)
		test_fail("%s: child %d: code %d status %d, want exit 7", when, exited,
			  si.si_code, si.si_status);
	peek(killed, &si, when);
	if (si.si_code != CLD_KILLED || si.si_status != SIGUSR1)
		test_fail("%s: child %d: code %d status %d, want killed by %d", when, killed,
			  si.si_code, si.si_status, SIGUSR1);
}

static void reap(pid_t pid, int want_exit, int want_sig)
{
	int status;
	pid_t r = waitpid(pid, &status, 0);

	if (r != pid)
		test_fail("waitpid(%d) = %d (%s)", pid, r, r < 0 ? strerror(errno) : "");
	if (want_exit >= 0 && (!WIFEXITED(status) || WEXITSTATUS(status) != want_exit))
		test_fail("waitpid(%d): status %#x, want exit %d", pid, status, want_exit);
	if (want_sig && (!WIFSIGNALED(status) || WTERMSIG(status) != want_sig))
		test_fail("waitpid(%d): status %#x, want signal %d", pid, status, want_sig);
}

int main(int argc, char **argv)
{
	pid_t exited, killed;
	int status;

	test_init(argc, argv);
	exited = fork();
	test_assert(exited >= 0);
	if (exited == 0)
		_exit(7);
	killed = fork();
	test_assert(killed >= 0);
	if (killed == 0) {
		signal(SIGUSR1, SIG_DFL);
		raise(SIGUSR1);
		_exit(90);
	}
	check(exited, killed, "before checkpoint");

	test_ready();
	test_wait_done();

	check(exited, killed, "after restart");
	reap(exited, 7, 0);
	reap(killed, -1, SIGUSR1);
	if (waitpid(-1, &status, WNOHANG) != -1 || errno != ECHILD)
		test_fail("a child left after reaping both");
	test_pass();
}
