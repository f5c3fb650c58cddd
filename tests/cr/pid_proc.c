/* SPDX-License-Identifier: MIT */
/*
 * /proc/PID paths take virtual pids: after restart the program still reads
 * its child's /proc/CHILD/comm and /proc/CHILD/task/CHILD/stat, and its own
 * /proc/GETPID/cmdline, under the pids it knew before.
 */
#include "crtest.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void expect_file(const char *path, const char *want)
{
	char buf[256] = "";
	FILE *f = fopen(path, "r");

	if (!f || !fgets(buf, sizeof(buf), f))
		test_fail("cannot read %s: %s", path, strerror(errno));
	fclose(f);
	if (!strstr(buf, want))
		test_fail("%s says '%s', want '%s' in it", path, buf, want);
}

int main(int argc, char **argv)
{
	char path[128];
	int go[2];
	struct stat st;

	test_init(argc, argv);
	if (pipe(go))
		test_fail("pipe: %s", strerror(errno));
	pid_t kid = fork();
	if (kid == 0) {
		char c;
		if (read(go[0], &c, 1) != 1)
			_exit(2);
		_exit(0);
	}
	test_ready();
	test_wait_done();

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)kid);
	expect_file(path, "pid_proc");
	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)kid, (int)kid);
	expect_file(path, "(pid_proc)");
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)getpid());
	expect_file(path, "pid_proc");
	snprintf(path, sizeof(path), "/proc/%d", (int)kid);
	if (stat(path, &st) || access(path, R_OK))
		test_fail("stat/access %s: %s", path, strerror(errno));
	if (write(go[1], "x", 1) != 1)
		test_fail("write: %s", strerror(errno));
	int status;
	if (waitpid(kid, &status, 0) != kid || !WIFEXITED(status) || WEXITSTATUS(status))
		test_fail("child status %#x", status);
	test_pass();
}
