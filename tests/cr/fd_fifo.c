/* SPDX-License-Identifier: MIT */
/*
 * Named pipes: a FIFO written by a forked child and read by the parent,
 * with bytes waiting in it at the checkpoint; after restart the parent
 * reads exactly those bytes, then what the child writes next, then EOF
 * when the child closes its end.
 */
#include "crtest.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char path[4096], buf[64];
	int go[2];

	test_init(argc, argv);
	snprintf(path, sizeof(path), "%s", test_path("fifo"));
	unlink(path);
	if (mkfifo(path, 0600) || pipe(go))
		test_fail("mkfifo: %s", strerror(errno));
	int rd = open(path, O_RDONLY | O_NONBLOCK);
	pid_t kid = fork();
	if (kid == 0) {
		int wr = open(path, O_WRONLY);
		char c;
		if (wr < 0 || write(wr, "waiting", 7) != 7 || read(go[0], &c, 1) != 1 ||
		    write(wr, " then more", 10) != 10)
			_exit(2);
		_exit(0);
	}
	for (int i = 0; i < 500; i++) {
		int n = 0;
		if (ioctl(rd, FIONREAD, &n) == 0 && n == 7)
			break;
		test_msleep(10);
	}
	fcntl(rd, F_SETFL, 0); /* blocking from now on */
	test_ready();
	test_wait_done();

	ssize_t n = read(rd, buf, 7);
	if (n != 7 || memcmp(buf, "waiting", 7))
		test_fail("read %zd bytes '%.*s', want 'waiting'", n, (int)(n > 0 ? n : 0), buf);
	if (write(go[1], "x", 1) != 1)
		test_fail("write: %s", strerror(errno));
	n = read(rd, buf, 10);
	if (n != 10 || memcmp(buf, " then more", 10))
		test_fail("then read %zd bytes, want ' then more'", n);
	int st;
	if (waitpid(kid, &st, 0) != kid || !WIFEXITED(st) || WEXITSTATUS(st))
		test_fail("child status %#x", st);
	if (read(rd, buf, 1) != 0)
		test_fail("no end of file after the writer left");
	test_pass(); /* the FIFO stays: "reuse" mode restarts from the same image again */
}
