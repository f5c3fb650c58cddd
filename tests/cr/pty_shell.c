/* SPDX-License-Identifier: MIT */
/*
 * A shell running inside a pseudo-terminal (forkpty): the parent holds the
 * master, /bin/sh the slave as its controlling terminal.  After restart the
 * same shell (same pid as the program sees it) still answers through the
 * pty, the terminal settings (echo off, window size) are unchanged, and its
 * exit status comes back to waitpid.
 */
#include "crtest.h"

#include <errno.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

static int master;

/* Send a command, read until the line `want` shows up (5 s at most). */
static void expect(const char *cmd, const char *want)
{
	char buf[4096];
	size_t len = 0;
	uint64_t deadline = test_now_ns() + 5000000000ull;

	if (write(master, cmd, strlen(cmd)) != (ssize_t)strlen(cmd))
		test_fail("write to pty: %s", strerror(errno));
	while (test_now_ns() < deadline) {
		ssize_t n = read(master, buf + len, sizeof(buf) - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			test_fail("read from pty: %s", n ? strerror(errno) : "end of file");
		len += (size_t)n;
		buf[len] = 0;
		if (strstr(buf, want))
			return;
		if (len > sizeof(buf) - 64)
			len = 0;
	}
	test_fail("no '%s' from the shell (got '%s')", want, buf);
}

int main(int argc, char **argv)
{
	struct winsize ws = { .ws_row = 33, .ws_col = 111 };
	struct termios t;
	char line[64];
	pid_t shell;

	test_init(argc, argv);
	shell = forkpty(&master, NULL, NULL, &ws);
	if (shell < 0)
		test_fail("forkpty: %s", strerror(errno));
	if (shell == 0) {
		setenv("PS1", "", 1);
		execl("/bin/sh", "sh", "-i", (char *)NULL);
		_exit(127);
	}
	if (tcgetattr(master, &t))
		test_fail("tcgetattr: %s", strerror(errno));
	t.c_lflag &= ~(tcflag_t)ECHO;
	tcsetattr(master, TCSANOW, &t);
	expect("echo A$((40+2))\n", "A42");
	test_ready();
	test_wait_done();

	expect("echo B$((1+1))\n", "B2");
	snprintf(line, sizeof(line), "P%d", (int)shell);
	expect("echo P$$\n", line);
	if (tcgetattr(master, &t) || (t.c_lflag & ECHO))
		test_fail("terminal settings changed: echo is back on");
	if (ioctl(master, TIOCGWINSZ, &ws) || ws.ws_row != 33 || ws.ws_col != 111)
		test_fail("window size %dx%d, want 111x33", ws.ws_col, ws.ws_row);
	expect("tty >/dev/null && echo T$?\n", "T0");
	if (write(master, "exit 3\n", 7) != 7)
		test_fail("write exit: %s", strerror(errno));
	int st;
	if (waitpid(shell, &st, 0) != shell || !WIFEXITED(st) || WEXITSTATUS(st) != 3)
		test_fail("shell ended with status %#x, want exit 3", st);
	test_pass();
}
