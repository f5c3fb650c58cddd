/* SPDX-License-Identifier: MIT */
/*
 * File mappings: MAP_PRIVATE keeps its private changes and leaves the file
 * alone; MAP_SHARED writes reach the file, before and after restart.  Only the
 * pages written before the checkpoint are checked, so a second restart from
 * the same image (after the first run wrote page 3) passes too.
 */
#include "crtest.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define PG 4096UL
#define LEN (4 * PG)

static int make_file(const char *path, uint64_t seed)
{
	static char buf[LEN];
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0)
		test_fail("open %s: %s", path, strerror(errno));
	test_fill(buf, LEN, seed);
	test_assert(pwrite(fd, buf, LEN, 0) == (ssize_t)LEN);
	return fd;
}

static void file_page(const char *path, size_t page, char *buf)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		test_fail("open %s: %s", path, strerror(errno));
	test_assert(pread(fd, buf, PG, (off_t)(page * PG)) == (ssize_t)PG);
	close(fd);
}

int main(int argc, char **argv)
{
	static char buf[PG];
	const char *priv_path = test_path("private.dat");
	const char *shared_path = test_path("shared.dat");

	test_init(argc, argv);
	int fd = make_file(priv_path, 20);
	char *priv = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	test_assert(priv != MAP_FAILED);
	close(fd);
	test_fill(priv + PG, PG, 21);

	fd = make_file(shared_path, 30);
	char *shared = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	test_assert(shared != MAP_FAILED);
	close(fd);
	test_fill(shared + 2 * PG, PG, 31);
	test_assert(msync(shared, LEN, MS_SYNC) == 0);

	test_ready();
	test_wait_done();

	if (test_check_fill(priv, PG, 20) || test_check_fill(priv + 2 * PG, 2 * PG, 20 + 2 * PG / 8))
		test_fail("private mapping: unchanged pages damaged");
	if (test_check_fill(priv + PG, PG, 21))
		test_fail("private mapping: private change lost");
	for (size_t p = 0; p < 4; p++) {
		file_page(priv_path, p, buf);
		if (test_check_fill(buf, PG, 20 + p * PG / 8))
			test_fail("private mapping's file changed at page %zu", p);
	}

	if (test_check_fill(shared, 2 * PG, 30))
		test_fail("shared mapping: pages 0-1 damaged");
	if (test_check_fill(shared + 2 * PG, PG, 31))
		test_fail("shared mapping: page 2 lost its write");
	file_page(shared_path, 2, buf);
	if (test_check_fill(buf, PG, 31))
		test_fail("shared file: page 2 lacks the write made before checkpoint");

	test_fill(shared + 3 * PG, PG, 32);
	test_assert(msync(shared, LEN, MS_SYNC) == 0);
	file_page(shared_path, 3, buf);
	if (test_check_fill(buf, PG, 32))
		test_fail("shared file: write after restart not visible in the file");
	test_pass();
}
