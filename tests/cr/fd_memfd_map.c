/* SPDX-License-Identifier: MIT */
/*
 * A memfd and a file deleted while open, each also mapped shared: after
 * restart the fd and the memory are still one object (a write through one
 * is read through the other), with the contents they had.
 */
#include "crtest.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static void check_pair(const char *what, int fd, char *mem)
{
	char buf[32] = "";

	if (strcmp(mem, "from the memory") || pread(fd, buf, 15, 0) != 15 ||
	    memcmp(buf, "from the memory", 15))
		test_fail("%s: contents before the restart lost: '%s'", what, mem);
	if (pwrite(fd, "through the fd", 15, 64) != 15 || strcmp(mem + 64, "through the fd"))
		test_fail("%s: a write through the fd is not in the memory ('%s')", what, mem + 64);
	strcpy(mem + 128, "through the map");
	if (pread(fd, buf, 16, 128) != 16 || strcmp(buf, "through the map"))
		test_fail("%s: a write to the memory is not in the file ('%s')", what, buf);
}

int main(int argc, char **argv)
{
	char path[4096];

	test_init(argc, argv);
	int mfd = memfd_create("cocoon-test", 0);
	snprintf(path, sizeof(path), "%s", test_path("deleted-mapped"));
	int dfd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (mfd < 0 || dfd < 0 || ftruncate(mfd, 4096) || ftruncate(dfd, 4096))
		test_fail("setup: %s", strerror(errno));
	unlink(path);
	char *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	char *d = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, dfd, 0);
	if (m == MAP_FAILED || d == MAP_FAILED)
		test_fail("mmap: %s", strerror(errno));
	strcpy(m, "from the memory");
	strcpy(d, "from the memory");
	test_ready();
	test_wait_done();

	check_pair("memfd", mfd, m);
	check_pair("deleted file", dfd, d);
	test_pass();
}
