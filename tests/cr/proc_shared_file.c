/* SPDX-License-Identifier: MIT */
/*
 * A file description shared by a parent and its children (like a shell's
 * stdout redirected to a file) keeps one offset after restart: every
 * process appends lines through it, and in the end the file holds every
 * line exactly once, none overwritten.
 */
#include "crtest.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHILDREN 3
#define LINES 20 /* per process, before and again after the restart */

static void write_lines(int fd, int who, int from)
{
	char line[64];

	for (int i = from; i < from + LINES; i++) {
		int n = snprintf(line, sizeof(line), "process %d line %03d\n", who, i);
		if (write(fd, line, (size_t)n) != n)
			test_fail("process %d: write: %s", who, strerror(errno));
	}
}

int main(int argc, char **argv)
{
	int fd, go[2], done[2];
	pid_t kids[CHILDREN];
	char path[4096];

	test_init(argc, argv);
	snprintf(path, sizeof(path), "%s", test_path("shared.txt"));
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || pipe(go) || pipe(done))
		test_fail("setup: %s", strerror(errno));
	for (int k = 0; k < CHILDREN; k++) {
		kids[k] = fork();
		if (kids[k] == 0) {
			char c;
			write_lines(fd, k + 1, 0);
			if (write(done[1], "x", 1) != 1 || read(go[0], &c, 1) != 1)
				_exit(2);
			write_lines(fd, k + 1, LINES);
			_exit(0);
		}
	}
	write_lines(fd, 0, 0);
	for (int k = 0; k < CHILDREN; k++) {
		char c;
		if (read(done[0], &c, 1) != 1)
			test_fail("a child did not write");
	}
	test_ready();
	test_wait_done();

	write_lines(fd, 0, LINES);
	if (write(go[1], "xxx", CHILDREN) != CHILDREN)
		test_fail("cannot release the children");
	for (int k = 0; k < CHILDREN; k++) {
		int st;
		if (waitpid(kids[k], &st, 0) != kids[k] || !WIFEXITED(st) || WEXITSTATUS(st))
			test_fail("child %d ended with %#x", k, st);
	}
	FILE *f = fopen(path, "r");
	char line[128];
	int seen[CHILDREN + 1][2 * LINES] = { { 0 } }, total = 0;
	while (f && fgets(line, sizeof(line), f)) {
		int who, i;
		if (sscanf(line, "process %d line %d", &who, &i) != 2 || who < 0 ||
		    who > CHILDREN || i < 0 || i >= 2 * LINES || strlen(line) != 19)
			test_fail("damaged line '%s' (lines overwrote each other?)", line);
		seen[who][i]++;
		total++;
	}
	for (int who = 0; who <= CHILDREN; who++)
		for (int i = 0; i < 2 * LINES; i++)
			if (seen[who][i] != 1)
				test_fail("process %d line %d found %d times", who, i, seen[who][i]);
	if (total != (CHILDREN + 1) * 2 * LINES)
		test_fail("%d lines, want %d", total, (CHILDREN + 1) * 2 * LINES);
	test_pass();
}
