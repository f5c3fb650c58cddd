/* SPDX-License-Identifier: MIT */
/* Character devices stay open and usable: /dev/null, /dev/zero, /dev/urandom. */
#include "crtest.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int open_dev(const char *path, int flags, dev_t *rdev)
{
	struct stat st;
	int fd = open(path, flags);

	if (fd < 0)
		test_fail("open %s: %s", path, strerror(errno));
	test_assert(fstat(fd, &st) == 0);
	*rdev = st.st_rdev;
	return fd;
}

static void same_dev(int fd, dev_t rdev, const char *what)
{
	struct stat st;

	test_assert(fstat(fd, &st) == 0);
	if (!S_ISCHR(st.st_mode) || st.st_rdev != rdev)
		test_fail("%s: fd %d is no longer the device", what, fd);
}

int main(int argc, char **argv)
{
	unsigned char buf[64];
	dev_t r_null, r_zero, r_rand;

	test_init(argc, argv);
	int null = open_dev("/dev/null", O_RDWR, &r_null);
	int zero = open_dev("/dev/zero", O_RDONLY, &r_zero);
	int rnd = open_dev("/dev/urandom", O_RDONLY | O_NONBLOCK, &r_rand);

	test_ready();
	test_wait_done();

	same_dev(null, r_null, "/dev/null");
	same_dev(zero, r_zero, "/dev/zero");
	same_dev(rnd, r_rand, "/dev/urandom");
	if (write(null, "x", 1) != 1 || read(null, buf, 1) != 0)
		test_fail("/dev/null misbehaves");
	memset(buf, 0xff, sizeof(buf));
	if (read(zero, buf, sizeof(buf)) != sizeof(buf))
		test_fail("/dev/zero read failed");
	for (size_t i = 0; i < sizeof(buf); i++)
		if (buf[i])
			test_fail("/dev/zero gave a non-zero byte");
	if (read(rnd, buf, sizeof(buf)) != sizeof(buf))
		test_fail("/dev/urandom read failed");
	int nonzero = 0;
	for (size_t i = 0; i < sizeof(buf); i++)
		nonzero += buf[i] != 0;
	if (nonzero < 32)
		test_fail("/dev/urandom gave %d non-zero bytes of 64", nonzero);
	if (!(fcntl(rnd, F_GETFL) & O_NONBLOCK))
		test_fail("/dev/urandom lost O_NONBLOCK");
	test_pass();
}
