/* SPDX-License-Identifier: MIT */
/*
 * stdout and stderr work after restart, through stdio and write(); the
 * driver sees this program's PASS on the restart command's stdout.  Each of
 * fds 0-2 is still the same kind of thing (terminal, pipe, file, device):
 * tty_stdio.sh runs this program on a terminal.
 */
#include "crtest.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int kind(int fd)
{
	struct stat st;

	if (fstat(fd, &st) != 0)
		return -1;
	return (int)(st.st_mode & S_IFMT) | (isatty(fd) ? 1 : 0);
}

int main(int argc, char **argv)
{
	int kinds[3];

	test_init(argc, argv);
	for (int fd = 0; fd <= 2; fd++)
		kinds[fd] = kind(fd);
	printf("fd_stdio: stdout before checkpoint\n");
	fprintf(stderr, "fd_stdio: stderr before checkpoint\n");
	fflush(NULL);

	test_ready();
	test_wait_done();

	for (int fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) < 0)
			test_fail("fd %d is closed: %s", fd, strerror(errno));
		if (kind(fd) != kinds[fd])
			test_fail("fd %d was kind %#o, is %#o now", fd, kinds[fd], kind(fd));
	}
	if (printf("fd_stdio: stdout after restart\n") < 0 || fflush(stdout))
		test_fail("stdout: %s", strerror(errno));
	if (fprintf(stderr, "fd_stdio: stderr after restart\n") < 0)
		test_fail("stderr: %s", strerror(errno));
	static const char raw[] = "fd_stdio: raw write after restart\n";
	if (write(1, raw, sizeof(raw) - 1) != sizeof(raw) - 1)
		test_fail("write(1): %s", strerror(errno));
	if (write(2, raw, sizeof(raw) - 1) != sizeof(raw) - 1)
		test_fail("write(2): %s", strerror(errno));
	test_pass();
}
