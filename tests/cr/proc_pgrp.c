/* SPDX-License-Identifier: MIT */
/*
 * Process groups and sessions keep their ids across a restart.  Child A is
 * in a group of its own (setpgid), child B in a new session (setsid); each
 * reports its pid, ppid, pgrp and sid through a pipe when the parent asks.
 * After SIGTERM the parent asks again and compares with the answers from
 * before, checks getpgid/getsid of both and its own getpgrp/getsid, sends
 * signals by pid and by group (kill, killpg, kill(-pgrp), sigqueue) and
 * sees each one counted by the right child, sets and reads back fcntl
 * owners (F_SETOWN/F_GETOWN, F_SETOWN_EX/F_GETOWN_EX), then ends both
 * children and reaps A by its group (waitpid(-pgrp)) and B by its pid.
 */
#include "crtest.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

struct report {
	pid_t pid, ppid, pgrp, pgid, sid;
	int usr1, usr2;
};

struct kid {
	const char *name;
	pid_t pid;
	int cmd, rep; /* parent's ends: commands out, reports in */
	struct report before;
};

static volatile sig_atomic_t usr1, usr2;

static void on_usr(int sig)
{
	if (sig == SIGUSR1)
		usr1++;
	else
		usr2++;
}

static int xread(int fd, void *buf, size_t n)
{
	ssize_t r;

	do
		r = read(fd, buf, n);
	while (r < 0 && errno == EINTR);
	return r == (ssize_t)n ? 0 : -1;
}

/* 'r': report; 'q': exit 0; end of file (the parent is gone): exit 90. */
static void child(int new_session, int cmd, int rep)
{
	struct sigaction sa;
	struct report r;
	char c;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	if (new_session ? setsid() < 0 : setpgid(0, 0) != 0)
		_exit(91);
	while (xread(cmd, &c, 1) == 0 && c == 'r') {
		r = (struct report){ getpid(), getppid(), getpgrp(), getpgid(0), getsid(0),
				     usr1, usr2 };
		if (write(rep, &r, sizeof(r)) != sizeof(r))
			_exit(92);
	}
	_exit(c == 'q' ? 0 : 90);
}

static void spawn(struct kid *k, int new_session, int close_fd1, int close_fd2)
{
	int cmd[2], rep[2];

	test_assert(pipe(cmd) == 0 && pipe(rep) == 0);
	k->pid = fork();
	test_assert(k->pid >= 0);
	if (k->pid == 0) {
		if (close_fd1 >= 0) {
			close(close_fd1);
			close(close_fd2);
		}
		close(cmd[1]);
		close(rep[0]);
		child(new_session, cmd[0], rep[1]);
	}
	if (!new_session)
		setpgid(k->pid, k->pid); /* either side may win the race: both ask */
	close(cmd[0]);
	close(rep[1]);
	k->cmd = cmd[1];
	k->rep = rep[0];
}

static struct report ask(struct kid *k)
{
	struct report r;

	if (write(k->cmd, "r", 1) != 1 || xread(k->rep, &r, sizeof(r)))
		test_fail("child %s (%d) does not answer", k->name, k->pid);
	return r;
}

static void expect_ids(struct kid *k, const struct report *r, pid_t pgrp, pid_t sid,
		       const char *when)
{
	if (r->pid != k->pid || r->ppid != getpid() || r->pgrp != pgrp || r->pgid != pgrp ||
	    r->sid != sid)
		test_fail("%s: child %s says pid %d ppid %d pgrp %d pgid %d sid %d; want %d %d "
			  "%d %d %d", when, k->name, r->pid, r->ppid, r->pgrp, r->pgid, r->sid,
			  k->pid, getpid(), pgrp, pgrp, sid);
	if (getpgid(k->pid) != pgrp || getsid(k->pid) != sid)
		test_fail("%s: getpgid(%s) %d, getsid(%s) %d; want %d, %d", when, k->name,
			  getpgid(k->pid), k->name, getsid(k->pid), pgrp, sid);
}

/* A signal is counted before the next report; poll anyway, with a deadline. */
static void expect_counts(struct kid *k, int n1, int n2)
{
	uint64_t deadline = test_now_ns() + 5000000000ull;
	struct report r;

	for (;;) {
		r = ask(k);
		if (r.usr1 == n1 && r.usr2 == n2)
			return;
		if (r.usr1 > n1 || r.usr2 > n2 || test_now_ns() > deadline)
			test_fail("child %s counted SIGUSR1 %d, SIGUSR2 %d; want %d, %d", k->name,
				  r.usr1, r.usr2, n1, n2);
		test_msleep(5);
	}
}

static void check_owner(int fd, struct kid *a, struct kid *b)
{
	struct f_owner_ex ex;

	test_assert(fcntl(fd, F_SETOWN, a->pid) == 0);
	if (fcntl(fd, F_GETOWN) != a->pid)
		test_fail("F_GETOWN %d after F_SETOWN %d", fcntl(fd, F_GETOWN), a->pid);
	test_assert(fcntl(fd, F_SETOWN, -b->pid) == 0);
	if (fcntl(fd, F_GETOWN) != -b->pid)
		test_fail("F_GETOWN %d after F_SETOWN %d", fcntl(fd, F_GETOWN), -b->pid);
	ex = (struct f_owner_ex){ F_OWNER_PGRP, a->pid };
	test_assert(fcntl(fd, F_SETOWN_EX, &ex) == 0 && ex.pid == a->pid);
	memset(&ex, 0, sizeof(ex));
	test_assert(fcntl(fd, F_GETOWN_EX, &ex) == 0);
	if (ex.type != F_OWNER_PGRP || ex.pid != a->pid)
		test_fail("F_GETOWN_EX: type %d pid %d, want group %d", ex.type, ex.pid, a->pid);
	ex = (struct f_owner_ex){ F_OWNER_PID, b->pid };
	test_assert(fcntl(fd, F_SETOWN_EX, &ex) == 0);
	memset(&ex, 0, sizeof(ex));
	test_assert(fcntl(fd, F_GETOWN_EX, &ex) == 0);
	if (ex.type != F_OWNER_PID || ex.pid != b->pid)
		test_fail("F_GETOWN_EX: type %d pid %d, want pid %d", ex.type, ex.pid, b->pid);
	test_assert(fcntl(fd, F_SETOWN, 0) == 0 && fcntl(fd, F_GETOWN) == 0);
}

static void end(struct kid *k, pid_t wait_for)
{
	int status;
	pid_t r;

	test_assert(write(k->cmd, "q", 1) == 1);
	r = waitpid(wait_for, &status, 0);
	if (r != k->pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		test_fail("waitpid(%d) for child %s (%d): %d, status %#x", wait_for, k->name,
			  k->pid, r, r > 0 ? status : 0);
}

int main(int argc, char **argv)
{
	struct kid a = { .name = "A" }, b = { .name = "B" };
	pid_t pgrp, sid;
	struct report r;

	test_init(argc, argv);
	signal(SIGPIPE, SIG_IGN); /* a lost child: a message, not a silent death */
	spawn(&a, 0, -1, -1);
	spawn(&b, 1, a.cmd, a.rep);
	pgrp = getpgrp();
	sid = getsid(0);
	test_assert(pgrp > 0 && sid > 0 && getpgid(0) == pgrp);
	a.before = ask(&a);
	b.before = ask(&b);
	expect_ids(&a, &a.before, a.pid, sid, "before checkpoint");
	expect_ids(&b, &b.before, b.pid, b.pid, "before checkpoint");

	test_ready();
	test_wait_done();

	if (getpgrp() != pgrp || getpgid(0) != pgrp || getsid(0) != sid)
		test_fail("parent: pgrp %d pgid %d sid %d, were %d %d", getpgrp(), getpgid(0),
			  getsid(0), pgrp, sid);
	r = ask(&a);
	expect_ids(&a, &r, a.pid, sid, "after restart");
	r = ask(&b);
	expect_ids(&b, &r, b.pid, b.pid, "after restart");

	/* One at a time: a second SIGUSR1 pending with the first would merge. */
	test_assert(kill(a.pid, SIGUSR1) == 0);
	expect_counts(&a, 1, 0);
	test_assert(killpg(a.pid, SIGUSR2) == 0);
	expect_counts(&a, 1, 1);
	test_assert(sigqueue(a.pid, SIGUSR1, (union sigval){ .sival_int = 1 }) == 0);
	expect_counts(&a, 2, 1);
	test_assert(kill(b.pid, SIGUSR1) == 0);
	expect_counts(&b, 1, 0);
	test_assert(killpg(b.pid, SIGUSR2) == 0);
	expect_counts(&b, 1, 1);
	test_assert(kill(-b.pid, SIGUSR2) == 0);
	expect_counts(&b, 1, 2);

	check_owner(a.cmd, &a, &b);

	end(&a, -a.pid);
	end(&b, b.pid);
	test_pass();
}
