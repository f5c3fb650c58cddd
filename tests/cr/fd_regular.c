/* SPDX-License-Identifier: MIT */
/*
 * Regular file descriptors keep their numbers, offsets and flags: a read-write
 * fd and its dup (one shared offset), an O_APPEND fd, a read-only O_CLOEXEC fd.
 * The checks are relative to the file as found, so restarting twice from one
 * image (the first run appended to the file) passes too.
 */
#include "crtest.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LEN 8192
#define RW_OFF 1000
#define RD_OFF 3000

static void expect_pos(int fd, off_t want, const char *what)
{
	off_t pos = lseek(fd, 0, SEEK_CUR);

	if (pos != want)
		test_fail("%s (fd %d): offset %lld, want %lld", what, fd, (long long)pos,
			  (long long)want);
}

int main(int argc, char **argv)
{
	static char buf[LEN], got[LEN];
	const char *path = test_path("regular.dat");
	const char patch[] = "written-after-restart";
	const char tail[] = "appended\n";

	test_init(argc, argv);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		test_fail("open %s: %s", path, strerror(errno));
	test_fill(buf, LEN, 5);
	test_assert(write(fd, buf, LEN) == LEN);
	test_assert(lseek(fd, RW_OFF, SEEK_SET) == RW_OFF);
	int dupfd = dup(fd);
	int app = open(path, O_WRONLY | O_APPEND);
	int rd = open(path, O_RDONLY | O_CLOEXEC);
	test_assert(dupfd >= 0 && app >= 0 && rd >= 0);
	test_assert(read(rd, got, RD_OFF) == RD_OFF);

	test_ready();
	test_wait_done();

	expect_pos(fd, RW_OFF, "read-write fd");
	expect_pos(dupfd, RW_OFF, "its dup");
	expect_pos(rd, RD_OFF, "read-only fd");
	if (!(fcntl(app, F_GETFL) & O_APPEND))
		test_fail("O_APPEND lost");
	if (!(fcntl(rd, F_GETFD) & FD_CLOEXEC) || (fcntl(fd, F_GETFD) & FD_CLOEXEC))
		test_fail("FD_CLOEXEC flags changed");
	if ((fcntl(rd, F_GETFL) & O_ACCMODE) != O_RDONLY || (fcntl(fd, F_GETFL) & O_ACCMODE) != O_RDWR)
		test_fail("access modes changed");

	/* Reading continues where it stopped. */
	test_assert(read(rd, got, 100) == 100);
	if (memcmp(got, buf + RD_OFF, 100))
		test_fail("read after restart returned the wrong bytes");
	/* Writing too, and the dup shares the offset. */
	test_assert(write(fd, patch, sizeof(patch)) == sizeof(patch));
	expect_pos(dupfd, RW_OFF + (off_t)sizeof(patch), "dup after write");
	test_assert(pread(rd, got, LEN, 0) == LEN);
	if (memcmp(got, buf, RW_OFF) || memcmp(got + RW_OFF, patch, sizeof(patch)) ||
	    memcmp(got + RW_OFF + sizeof(patch), buf + RW_OFF + sizeof(patch),
		   LEN - RW_OFF - sizeof(patch)))
		test_fail("file content wrong after write");
	/* Appending goes to the end, wherever that is now. */
	test_assert(write(app, tail, sizeof(tail) - 1) == sizeof(tail) - 1);
	struct stat st;
	test_assert(fstat(app, &st) == 0);
	expect_pos(app, st.st_size, "O_APPEND fd");
	test_assert(pread(rd, got, sizeof(tail) - 1, st.st_size - (off_t)sizeof(tail) + 1) ==
		    sizeof(tail) - 1);
	if (memcmp(got, tail, sizeof(tail) - 1))
		test_fail("appended bytes not at the end of the file");
	test_pass();
}
