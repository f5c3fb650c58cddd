/* SPDX-License-Identifier: MIT */
/*
 * For tests/cr/file_policy.sh: opens DIR/save.txt, reopen.txt, leave.txt
 * and api.txt read-write, writes "original NAME" in each (the offset stays
 * at the end), and asks for the "save" policy for api.txt itself.  On each
 * SIGUSR1 it prints, per file, its offset and what it holds from the start
 * ("NAME OFFSET CONTENT"), then "report N"; SIGTERM ends it with PASS.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cocoon.h"

static const char *const names[] = { "save.txt", "reopen.txt", "leave.txt", "api.txt" };
#define NFILES 4

int main(int argc, char **argv)
{
	const char *ready = getenv("CRTEST_READY");
	char path[4096], text[128];
	int fds[NFILES], sig, round = 0;
	sigset_t set;

	if (argc != 2)
		return 2;
	for (int i = 0; i < NFILES; i++) {
		snprintf(path, sizeof(path), "%s/%s", argv[1], names[i]);
		fds[i] = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
		int n = snprintf(text, sizeof(text), "original %s", names[i]);
		if (fds[i] < 0 || write(fds[i], text, (size_t)n) != n)
			return 2;
	}
	if (cocoon_is_active() && cocoon_file_policy("*/api.txt", COCOON_FILE_SAVE) != 0)
		return 2;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if (ready)
		close(open(ready, O_CREAT | O_WRONLY, 0600));
	while (sigwait(&set, &sig) == 0 && sig == SIGUSR1) {
		for (int i = 0; i < NFILES; i++) {
			ssize_t n = pread(fds[i], text, sizeof(text) - 1, 0);
			text[n > 0 ? n : 0] = 0;
			printf("%s %lld %s\n", names[i], (long long)lseek(fds[i], 0, SEEK_CUR), text);
		}
		printf("report %d\n", ++round);
		fflush(stdout);
	}
	printf("PASS\n");
	return 0;
}
