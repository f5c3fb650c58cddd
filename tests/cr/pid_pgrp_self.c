/* SPDX-License-Identifier: MIT */
/*
 * One process, so it can pass before multi-process restart exists: after a
 * restart its real pid differs from its virtual one, and every call that
 * names it by pid or group must still take and give the virtual id:
 * getpgrp, getpgid, getsid (of 0 and of getpid()), fcntl F_SETOWN/F_GETOWN
 * and F_SETOWN_EX/F_GETOWN_EX (pid, group, thread), killpg and kill(-pgrp)
 * to its own group, sigqueue to itself.  Then children forked after the
 * restart: one's setsid() result and ids, getsid/getpgid on it, waitid(P_PID)
 * and waitpid on it; another put in its own group (setpgid), getpgid on it
 * and reaped by waitpid(-group).
 */
#include "crtest.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static atomic_int got_urg, got_winch, got_usr2, usr2_value;

static void on_sig(int sig, siginfo_t *si, void *uc)
{
	if (sig == SIGURG)
		atomic_fetch_add(&got_urg, 1);
	else if (sig == SIGWINCH)
		atomic_fetch_add(&got_winch, 1);
	else if (sig == SIGUSR2) {
		atomic_store(&usr2_value, si->si_value.sival_int);
		atomic_fetch_add(&got_usr2, 1);
	}
}

static void expect(atomic_int *n, const char *how)
{
	uint64_t deadline = test_now_ns() + 5000000000ull;

	while (atomic_load(n) < 1) {
		if (test_now_ns() > deadline)
			test_fail("%s: signal not delivered", how);
		test_msleep(1);
	}
}

static void check_ids(pid_t pgrp, pid_t sid, const char *when)
{
	if (getpgrp() != pgrp || getpgid(0) != pgrp || getpgid(getpid()) != pgrp)
		test_fail("%s: getpgrp %d getpgid(0) %d getpgid(self) %d, want %d", when,
			  getpgrp(), getpgid(0), getpgid(getpid()), pgrp);
	if (getsid(0) != sid || getsid(getpid()) != sid)
		test_fail("%s: getsid(0) %d getsid(self) %d, want %d", when, getsid(0),
			  getsid(getpid()), sid);
}

static void check_owner_ex(int fd, int type, pid_t id)
{
	struct f_owner_ex ex = { (enum __pid_type)type, id };

	test_assert(fcntl(fd, F_SETOWN_EX, &ex) == 0 && (int)ex.type == type && ex.pid == id);
	memset(&ex, 0, sizeof(ex));
	test_assert(fcntl(fd, F_GETOWN_EX, &ex) == 0);
	if ((int)ex.type != type || ex.pid != id)
		test_fail("F_GETOWN_EX: type %d id %d, want %d %d", ex.type, ex.pid, type, id);
}

static void check_owners(void)
{
	int p[2];

	test_assert(pipe(p) == 0);
	test_assert(fcntl(p[0], F_SETOWN, getpid()) == 0);
	if (fcntl(p[0], F_GETOWN) != getpid())
		test_fail("F_GETOWN %d, want %d", fcntl(p[0], F_GETOWN), getpid());
	test_assert(fcntl(p[0], F_SETOWN, -getpgrp()) == 0);
	if (fcntl(p[0], F_GETOWN) != -getpgrp())
		test_fail("F_GETOWN %d, want %d", fcntl(p[0], F_GETOWN), -getpgrp());
	check_owner_ex(p[0], F_OWNER_PID, getpid());
	check_owner_ex(p[0], F_OWNER_PGRP, getpgrp());
	check_owner_ex(p[0], F_OWNER_TID, gettid());
	close(p[0]);
	close(p[1]);
}

static void check_signals(void)
{
	test_assert(killpg(getpgrp(), SIGURG) == 0);
	expect(&got_urg, "killpg(getpgrp())");
	test_assert(kill(-getpgrp(), SIGWINCH) == 0);
	expect(&got_winch, "kill(-getpgrp())");
	test_assert(sigqueue(getpid(), SIGUSR2, (union sigval){ .sival_int = 42 }) == 0);
	expect(&got_usr2, "sigqueue(getpid())");
	test_assert(atomic_load(&usr2_value) == 42);
}

/* A child made after the restart starts a session and tells its ids. */
static void check_child(void)
{
	pid_t kid, ids[4];
	siginfo_t si;
	int rep[2], go[2], status;
	char c;

	test_assert(pipe(rep) == 0 && pipe(go) == 0);
	kid = fork();
	test_assert(kid >= 0);
	if (kid == 0) {
		close(rep[0]);
		close(go[1]);
		ids[0] = setsid();
		ids[1] = getpid();
		ids[2] = getsid(0);
		ids[3] = getpgrp();
		if (write(rep[1], ids, sizeof(ids)) != sizeof(ids))
			_exit(90);
		_exit(read(go[0], &c, 1) == 0 ? 5 : 91); /* until the parent is done */
	}
	close(rep[1]);
	close(go[0]);
	test_assert(read(rep[0], ids, sizeof(ids)) == sizeof(ids));
	if (ids[0] != kid || ids[1] != kid || ids[2] != kid || ids[3] != kid)
		test_fail("child %d: setsid %d getpid %d getsid %d getpgrp %d", kid, ids[0],
			  ids[1], ids[2], ids[3]);
	if (getsid(kid) != kid || getpgid(kid) != kid)
		test_fail("getsid(child %d) = %d, getpgid = %d", kid, getsid(kid), getpgid(kid));
	close(go[1]);
	close(rep[0]);
	memset(&si, 0, sizeof(si));
	test_assert(waitid(P_PID, kid, &si, WEXITED | WNOWAIT) == 0);
	if (si.si_pid != kid || si.si_status != 5)
		test_fail("waitid(P_PID, %d): si_pid %d status %d", kid, si.si_pid, si.si_status);
	if (waitpid(kid, &status, 0) != kid || !WIFEXITED(status) || WEXITSTATUS(status) != 5)
		test_fail("waitpid(child %d): status %#x", kid, status);
}

/* A child in a group of its own (setpgid, getpgid), reaped through it. */
static void check_group_wait(void)
{
	int go[2], status;
	pid_t kid;
	char c;

	test_assert(pipe(go) == 0);
	kid = fork();
	test_assert(kid >= 0);
	if (kid == 0) {
		close(go[1]);
		setpgid(0, 0);
		_exit(read(go[0], &c, 1) == 0 ? 6 : 91);
	}
	close(go[0]);
	test_assert(setpgid(kid, kid) == 0); /* either side may win: both ask */
	if (getpgid(kid) != kid)
		test_fail("getpgid(child %d) = %d", kid, getpgid(kid));
	close(go[1]);
	if (waitpid(-kid, &status, 0) != kid || !WIFEXITED(status) || WEXITSTATUS(status) != 6)
		test_fail("waitpid(-%d) failed or status %#x", kid, status);
}

int main(int argc, char **argv)
{
	int sigs[] = { SIGURG, SIGWINCH, SIGUSR2 };
	struct sigaction sa;
	pid_t pgrp, sid;

	test_init(argc, argv);
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sig;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	for (unsigned i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		test_assert(sigaction(sigs[i], &sa, NULL) == 0);
	pgrp = getpgrp();
	sid = getsid(0);
	check_ids(pgrp, sid, "before checkpoint");

	test_ready();
	test_wait_done();

	check_ids(pgrp, sid, "after restart");
	check_owners();
	check_signals();
	check_child();
	check_group_wait();
	test_pass();
}
