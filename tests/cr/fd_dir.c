/* SPDX-License-Identifier: MIT */
/* A directory fd and the working directory survive: fchdir and openat work after. */
#include "crtest.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	const char *dir = test_path("dir");
	char cwd[PATH_MAX], buf[16];
	struct stat before, after;

	test_init(argc, argv);
	if (mkdir(dir, 0755) && errno != EEXIST)
		test_fail("mkdir %s: %s", dir, strerror(errno));
	int dfd = open(dir, O_RDONLY | O_DIRECTORY);
	test_assert(dfd >= 0);
	int f = openat(dfd, "a", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	test_assert(f >= 0 && write(f, "hello", 5) == 5);
	close(f);
	test_assert(fstat(dfd, &before) == 0);
	test_assert(getcwd(cwd, sizeof(cwd)));

	test_ready();
	test_wait_done();

	char now[PATH_MAX];
	test_assert(getcwd(now, sizeof(now)));
	if (strcmp(now, cwd))
		test_fail("cwd is %s, was %s", now, cwd);
	test_assert(fstat(dfd, &after) == 0);
	if (!S_ISDIR(after.st_mode) || after.st_ino != before.st_ino || after.st_dev != before.st_dev)
		test_fail("directory fd points elsewhere");
	f = openat(dfd, "b", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (f < 0)
		test_fail("openat(dirfd, b): %s", strerror(errno));
	test_assert(write(f, "world", 5) == 5);
	close(f);
	if (fchdir(dfd))
		test_fail("fchdir: %s", strerror(errno));
	f = open("a", O_RDONLY);
	if (f < 0 || read(f, buf, sizeof(buf)) != 5 || memcmp(buf, "hello", 5))
		test_fail("reading a relative to the directory failed");
	close(f);
	f = open("b", O_RDONLY);
	if (f < 0 || read(f, buf, sizeof(buf)) != 5 || memcmp(buf, "world", 5))
		test_fail("reading b relative to the directory failed");
	test_pass();
}
