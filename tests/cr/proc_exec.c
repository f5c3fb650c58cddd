/* SPDX-License-Identifier: MIT */
/*
 * Children made every way join the computation and come back: a child that
 * exec'd a program (this one, in "child" mode), one started by popen()
 * (sh running cat, fed through a pipe), and system() calls made after the
 * restart.  The exec'd child keeps its pid across exec and restart; the
 * popen'd cat still writes what it is sent, and pclose (which waits, inside
 * glibc, for the pid popen saved) gives its exit status.
 */
#include "crtest.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* "child" mode: report our pid (after exec) and wait for a line, then exit 9. */
static int child_mode(void)
{
	char line[64];

	printf("%d\n", (int)getpid());
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		return 1;
	return strcmp(line, "bye\n") == 0 ? 9 : 2;
}

int main(int argc, char **argv)
{
	int to_child[2], from_child[2];
	char line[128];

	if (argc > 1 && strcmp(argv[1], "child") == 0)
		return child_mode();
	test_init(argc, argv);
	signal(SIGPIPE, SIG_IGN); /* a broken pipe is reported, not fatal */
	if (pipe(to_child) || pipe(from_child))
		test_fail("pipe: %s", strerror(errno));
	pid_t kid = fork();
	if (kid == 0) {
		dup2(to_child[0], 0);
		dup2(from_child[1], 1);
		close(to_child[1]);
		close(from_child[0]);
		execl("/proc/self/exe", argv[0], "child", (char *)NULL);
		_exit(127);
	}
	close(to_child[0]);
	close(from_child[1]);
	FILE *in = fdopen(from_child[0], "r");
	if (!in || !fgets(line, sizeof(line), in) || atoi(line) != kid)
		test_fail("exec'd child reports pid '%s', fork gave %d", line, (int)kid);

	FILE *cat = popen("cat > \"$CRTEST_DIR\"/popen.out", "w");
	if (!cat || fputs("before\n", cat) < 0 || fflush(cat))
		test_fail("popen: %s", strerror(errno));

	test_ready();
	test_wait_done();

	if (fputs("after\n", cat) < 0 || pclose(cat) != 0)
		test_fail("pclose of the restarted popen child: %s", strerror(errno));
	char a[16] = "", b[16] = "";
	for (uint64_t end = test_now_ns() + 5000000000ull; test_now_ns() < end; test_msleep(10)) {
		FILE *out = fopen(test_path("popen.out"), "r");
		a[0] = b[0] = 0;
		if (out && fgets(a, sizeof(a), out))
			fgets(b, sizeof(b), out);
		if (out)
			fclose(out);
		if (!strcmp(b, "after\n"))
			break;
	}
	if (strcmp(a, "before\n") || strcmp(b, "after\n"))
		test_fail("popen'd cat wrote '%s%s'", a, b);
	int st = system("exit 7");
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 7)
		test_fail("system() after restart gave %#x, want exit 7", st);
	if (write(to_child[1], "bye\n", 4) != 4)
		test_fail("write to exec'd child: %s", strerror(errno));
	if (waitpid(kid, &st, 0) != kid || !WIFEXITED(st) || WEXITSTATUS(st) != 9)
		test_fail("exec'd child ended with %#x, want exit 9", st);
	test_pass();
}
