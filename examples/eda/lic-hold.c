/* SPDX-License-Identifier: MIT */
/*
 * lic-hold: takes a license seat and keeps it until SIGTERM or SIGINT, then
 * gives it back and exits 0.  Prints "HELD" once the seat is granted.  For
 * tests that need every seat taken.
 * Usage: lic-hold HOST:PORT FEATURE
 */
#include <signal.h>
#include <stdio.h>

#include "license-client.h"

int main(int argc, char **argv)
{
	sigset_t stop;
	int fd, sig;

	if (argc != 3) {
		fprintf(stderr, "usage: lic-hold HOST:PORT FEATURE\n");
		return 1;
	}
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	sigprocmask(SIG_BLOCK, &stop, NULL);
	fd = lic_checkout(argv[1], argv[2]);
	if (fd < 0)
		return 1;
	printf("HELD\n");
	fflush(stdout);
	sigwait(&stop, &sig);
	if (lic_release(fd) < 0) {
		perror("lic-hold: release");
		return 1;
	}
	return 0;
}
