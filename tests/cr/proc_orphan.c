/* SPDX-License-Identifier: MIT */
/*
 * An orphan (its parent exited before the checkpoint, so it was re-parented)
 * comes back re-parented the same way: the same getppid() as before, still
 * reachable from the root by its pid (kill) and through its pipe.
 */
#include "crtest.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t poked;

static void on_usr1(int sig)
{
	poked = 1;
}

int main(int argc, char **argv)
{
	int up[2];
	pid_t orphan, ppid_before, ppid_after;

	test_init(argc, argv);
	if (pipe(up))
		test_fail("pipe: %s", strerror(errno));
	pid_t mid = fork();
	if (mid == 0) {
		pid_t g = fork();
		if (g == 0) {
			signal(SIGUSR1, on_usr1);
			while (getppid() != 1 && kill(getppid(), 0) == 0 && getppid() == getpid() - 1)
				test_msleep(1);
			for (int i = 0; i < 500 && getppid() == 0; i++)
				test_msleep(1);
			test_msleep(50); /* let the re-parenting settle */
			pid_t me = getpid(), pp = getppid();
			if (write(up[1], &me, sizeof(me)) != sizeof(me) ||
			    write(up[1], &pp, sizeof(pp)) != sizeof(pp))
				_exit(2);
			while (!poked)
				pause();
			pp = getppid();
			_exit(write(up[1], &pp, sizeof(pp)) == sizeof(pp) ? 0 : 3);
		}
		_exit(0); /* the parent goes: its child is an orphan now */
	}
	waitpid(mid, NULL, 0);
	if (read(up[0], &orphan, sizeof(orphan)) != sizeof(orphan) ||
	    read(up[0], &ppid_before, sizeof(ppid_before)) != sizeof(ppid_before))
		test_fail("the orphan did not report");
	test_ready();
	test_wait_done();

	if (kill(orphan, SIGUSR1))
		test_fail("kill(orphan %d): %s", orphan, strerror(errno));
	if (read(up[0], &ppid_after, sizeof(ppid_after)) != sizeof(ppid_after))
		test_fail("the orphan did not answer after restart");
	if (ppid_after != ppid_before)
		test_fail("the orphan's parent was %d, is %d now", ppid_before, ppid_after);
	test_pass();
}
