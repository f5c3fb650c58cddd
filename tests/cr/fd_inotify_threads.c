/* SPDX-License-Identifier: MIT */
/*
 * Two threads add inotify watches to one instance at the same time (200
 * directories each): the runtime must note every one of them, so that
 * after restart each directory still reports under its own wd.
 */
#include "crtest.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#define PER_THREAD 200
#define NDIRS (2 * PER_THREAD)

static int ifd;
static int wds[NDIRS];
static atomic_int go, arrived;

static const char *dir_name(int i)
{
	static char names[NDIRS][4096];

	if (!names[i][0])
		snprintf(names[i], sizeof(names[i]), "%s/d%03d", test_path("dirs"), i);
	return names[i];
}

static void *add_watches(void *arg)
{
	int first = (int)(intptr_t)arg;

	atomic_fetch_add(&arrived, 1);
	while (!atomic_load(&go))
		; /* start together */
	for (int i = first; i < first + PER_THREAD; i++)
		if ((wds[i] = inotify_add_watch(ifd, dir_name(i), IN_CREATE)) < 0)
			test_fail("inotify_add_watch %s: %s", dir_name(i), strerror(errno));
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t[2];
	static char seen[NDIRS + 64];
	char buf[65536] __attribute__((aligned(8)));

	test_init(argc, argv);
	mkdir(test_path("dirs"), 0700);
	for (int i = 0; i < NDIRS; i++)
		if (mkdir(dir_name(i), 0700) != 0 && errno != EEXIST)
			test_fail("mkdir %s: %s", dir_name(i), strerror(errno));
	if ((ifd = inotify_init1(IN_NONBLOCK)) < 0)
		test_fail("inotify_init1: %s", strerror(errno));
	for (int k = 0; k < 2; k++)
		test_thread_create(&t[k], add_watches, (void *)(intptr_t)(k * PER_THREAD));
	while (atomic_load(&arrived) < 2)
		test_msleep(1);
	atomic_store(&go, 1);
	for (int k = 0; k < 2; k++)
		test_thread_join(t[k], 10);
	test_ready();
	test_wait_done();

	for (int i = 0; i < NDIRS; i++) {
		char path[4200];
		snprintf(path, sizeof(path), "%.4090s/new", dir_name(i));
		close(open(path, O_WRONLY | O_CREAT, 0600));
		unlink(path);
	}
	int got = 0;
	for (int tries = 0; got < NDIRS && tries < 300; tries++) {
		ssize_t n = read(ifd, buf, sizeof(buf));
		if (n <= 0) {
			test_msleep(10);
			continue;
		}
		for (char *p = buf; p < buf + n;) {
			struct inotify_event *e = (void *)p;
			if (e->wd > 0 && e->wd < (int)sizeof(seen) && (e->mask & IN_CREATE) &&
			    !seen[e->wd]++)
				got++;
			p += sizeof(*e) + e->len;
		}
	}
	for (int i = 0; i < NDIRS; i++)
		if (wds[i] <= 0 || wds[i] >= (int)sizeof(seen) || !seen[wds[i]])
			test_fail("no event from %s (wd %d) after restart; %d of %d came", dir_name(i),
				  wds[i], got, NDIRS);
	test_pass();
}
