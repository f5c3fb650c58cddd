/* SPDX-License-Identifier: MIT */
/* A file unlinked while open keeps its content, offset and "deleted" state. */
#include "crtest.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LEN (3 * 4096 + 123)

int main(int argc, char **argv)
{
	static char buf[LEN], got[LEN];
	const char *path = test_path("deleted.dat");
	char link[64], target[4096];
	struct stat st;

	test_init(argc, argv);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		test_fail("open %s: %s", path, strerror(errno));
	test_fill(buf, LEN, 9);
	test_assert(write(fd, buf, LEN) == LEN);
	test_assert(lseek(fd, 100, SEEK_SET) == 100);
	test_assert(unlink(path) == 0);

	test_ready();
	test_wait_done();

	test_assert(fstat(fd, &st) == 0);
	if (st.st_nlink != 0)
		test_fail("file has %ld links, want 0 (deleted)", (long)st.st_nlink);
	if (st.st_size != LEN)
		test_fail("size %lld, want %d", (long long)st.st_size, LEN);
	if (access(path, F_OK) == 0)
		test_fail("%s exists again", path);
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, target, sizeof(target) - 1);
	test_assert(n > 0);
	target[n] = 0;
	if (!strstr(target, "(deleted)"))
		test_fail("fd points to %s, not a deleted file", target);
	if (lseek(fd, 0, SEEK_CUR) != 100)
		test_fail("offset %lld, want 100", (long long)lseek(fd, 0, SEEK_CUR));
	test_assert(pread(fd, got, LEN, 0) == LEN);
	if (memcmp(got, buf, LEN))
		test_fail("content changed");
	test_assert(write(fd, "xyz", 3) == 3);
	test_assert(pread(fd, got, 3, 100) == 3 && memcmp(got, "xyz", 3) == 0);
	test_pass();
}
