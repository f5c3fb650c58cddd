/* SPDX-License-Identifier: MIT */
/*
 * inotify watches come back under the same watch descriptors, gaps in the
 * numbering included (a watch removed before the checkpoint): after restart
 * events on the watched directory and file arrive with the old wds.
 */
#include "crtest.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

/* Wait for one event and return its wd (-1 on timeout). */
static int next_wd(int fd, uint32_t *mask)
{
	char buf[4096] __attribute__((aligned(8)));

	for (int i = 0; i < 300; i++) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n > 0) {
			struct inotify_event *e = (void *)buf;
			*mask = e->mask;
			return e->wd;
		}
		test_msleep(10);
	}
	return -1;
}

int main(int argc, char **argv)
{
	char dir[4096], file[4096], other[4096], path[4200];
	uint32_t mask;

	test_init(argc, argv);
	snprintf(dir, sizeof(dir), "%s", test_path("watched"));
	snprintf(file, sizeof(file), "%s", test_path("watched-file"));
	snprintf(other, sizeof(other), "%s", test_path("dropped"));
	mkdir(dir, 0700);
	mkdir(other, 0700);
	close(open(file, O_WRONLY | O_CREAT, 0600));
	int fd = inotify_init1(IN_NONBLOCK);
	int w_other = inotify_add_watch(fd, other, IN_CREATE);
	int w_dir = inotify_add_watch(fd, dir, IN_CREATE);
	inotify_rm_watch(fd, w_other);
	int w_file = inotify_add_watch(fd, file, IN_MODIFY);
	if (fd < 0 || w_dir < 0 || w_file < 0)
		test_fail("inotify setup: %s", strerror(errno));
	while (next_wd(fd, &mask) >= 0 && !(mask & IN_IGNORED))
		; /* the IN_IGNORED of the removed watch */
	test_ready();
	test_wait_done();

	snprintf(path, sizeof(path), "%s/new-%d", dir, (int)getpid());
	close(open(path, O_WRONLY | O_CREAT, 0600));
	unlink(path);
	int wd = next_wd(fd, &mask);
	if (wd != w_dir || !(mask & IN_CREATE))
		test_fail("event on the directory came as wd %d mask %#x, want wd %d IN_CREATE", wd,
			  mask, w_dir);
	char rest[4096];
	while (read(fd, rest, sizeof(rest)) > 0)
		; /* nothing else was asked for */
	int f = open(file, O_WRONLY | O_APPEND);
	if (f < 0 || write(f, "x", 1) != 1)
		test_fail("write %s: %s", file, strerror(errno));
	close(f);
	wd = next_wd(fd, &mask);
	if (wd != w_file || !(mask & IN_MODIFY))
		test_fail("event on the file came as wd %d mask %#x, want wd %d IN_MODIFY", wd, mask,
			  w_file);
	test_pass();
}
