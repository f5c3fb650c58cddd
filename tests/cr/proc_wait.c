/* SPDX-License-Identifier: MIT */
/*
 * Children blocked across a restart are waited for by the pids fork()
 * returned before the checkpoint: four children block reading a pipe from
 * the parent; after SIGTERM the parent checks each is still there
 * (waitpid WNOHANG by pid), releases them one at a time and reaps child 0
 * with waitpid, child 1 with waitid(P_PID), child 2 with wait4.  Child 3 is
 * waited for by a thread already blocked in waitpid(pid) at the checkpoint:
 * that call must neither return early nor lose the child.  Each must
 * report its own pid and exit status (11 to 14); then wait() says ECHILD.
 */
#include "crtest.h"

#include <errno.h>
#include <stdatomic.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#define NCHILD 4

static pid_t pids[NCHILD];
static int go[NCHILD]; /* write ends: one byte releases a child */

/* Block until the parent says go (exit 11 + i) or goes away (exit 90). */
static void child(int i, int rfd)
{
	char c;
	ssize_t n;

	do
		n = read(rfd, &c, 1);
	while (n < 0 && errno == EINTR);
	_exit(n == 1 && c == 'g' ? 11 + i : 90);
}

static atomic_int waiter_in, waiter_out;
static int waiter_status;
static pid_t waiter_got;

/* Blocked in waitpid(child 3) from before ready until after the restart. */
static void *waiter(void *arg)
{
	atomic_store(&waiter_in, 1);
	waiter_got = waitpid(pids[3], &waiter_status, 0);
	atomic_store(&waiter_out, 1);
	return NULL;
}

static void release(int i)
{
	test_assert(write(go[i], "g", 1) == 1);
}

static void check_status(int i, int status, const char *how)
{
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 11 + i)
		test_fail("%s: child %d status %#x, want exit %d", how, i, status, 11 + i);
}

int main(int argc, char **argv)
{
	struct rusage ru;
	siginfo_t si;
	int status, p[2];
	pthread_t t;
	pid_t r;

	test_init(argc, argv);
	signal(SIGPIPE, SIG_IGN); /* a lost child: a message, not a silent death */
	for (int i = 0; i < NCHILD; i++) {
		test_assert(pipe(p) == 0);
		pids[i] = fork();
		test_assert(pids[i] >= 0);
		if (pids[i] == 0) {
			for (int j = 0; j < i; j++)
				close(go[j]);
			close(p[1]);
			child(i, p[0]);
		}
		close(p[0]);
		go[i] = p[1];
	}
	for (int i = 0; i < NCHILD; i++)
		test_assert(waitpid(pids[i], &status, WNOHANG) == 0);
	test_thread_create(&t, waiter, NULL);
	while (!atomic_load(&waiter_in))
		test_msleep(1);
	test_msleep(50); /* into the kernel */

	test_ready();
	test_wait_done();

	/* Still there, known by the same pids. */
	for (int i = 0; i < NCHILD; i++) {
		r = waitpid(pids[i], &status, WNOHANG);
		if (r != 0)
			test_fail("waitpid(%d, WNOHANG) = %d (%s), want 0", pids[i], r,
				  r < 0 ? strerror(errno) : "");
	}
	memset(&si, 0, sizeof(si));
	test_assert(waitid(P_PID, pids[1], &si, WEXITED | WNOHANG) == 0 && si.si_pid == 0);

	release(0);
	r = waitpid(pids[0], &status, 0);
	if (r != pids[0])
		test_fail("waitpid(%d) = %d (%s)", pids[0], r, r < 0 ? strerror(errno) : "");
	check_status(0, status, "waitpid");

	release(1);
	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, pids[1], &si, WEXITED))
		test_fail("waitid(P_PID, %d): %s", pids[1], strerror(errno));
	if (si.si_pid != pids[1] || si.si_signo != SIGCHLD || si.si_code != CLD_EXITED ||
	    si.si_status != 12)
		test_fail("waitid(P_PID, %d): si_pid %d signo %d code %d status %d", pids[1],
			  si.si_pid, si.si_signo, si.si_code, si.si_status);

	release(2);
	r = wait4(pids[2], &status, 0, &ru);
	if (r != pids[2])
		test_fail("wait4(%d) = %d (%s)", pids[2], r, r < 0 ? strerror(errno) : "");
	check_status(2, status, "wait4");

	if (atomic_load(&waiter_out))
		test_fail("waitpid(%d) in the thread returned %d before child 3 ended",
			  pids[3], waiter_got);
	release(3);
	test_thread_join(t, 10);
	if (waiter_got != pids[3])
		test_fail("waitpid(%d) in the thread = %d", pids[3], waiter_got);
	check_status(3, waiter_status, "waitpid in a thread");

	r = wait(&status);
	if (r != -1 || errno != ECHILD)
		test_fail("wait() = %d after reaping all, want ECHILD", r);
	test_pass();
}
