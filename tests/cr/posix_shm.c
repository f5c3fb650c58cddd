/* SPDX-License-Identifier: MIT */
/*
 * POSIX shared memory (shm_open in /dev/shm) shared by a parent and a
 * child: after restart both still see one memory: what the child writes
 * the parent reads, and the fd from shm_open still works.
 */
#include "crtest.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

struct shared {
	atomic_int phase;
	atomic_int child_count;
	char text[64];
};

int main(int argc, char **argv)
{
	char name[64];

	test_init(argc, argv);
	/* Named after the test run (the driver removes it afterwards); an old
	 * object of the same name would carry the last run's phase over. */
	const char *id = getenv("COCOON_TEST_ID");
	if (id)
		snprintf(name, sizeof(name), "/cocoon-test-%.40s", id);
	else
		snprintf(name, sizeof(name), "/cocoon-test-%d", (int)getpid());
	shm_unlink(name);
	int fd = shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0600);
	if (fd < 0 || ftruncate(fd, 4096))
		test_fail("shm_open: %s", strerror(errno));
	struct shared *s = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (s == MAP_FAILED)
		test_fail("mmap: %s", strerror(errno));
	snprintf(s->text, sizeof(s->text), "written before the checkpoint");
	pid_t kid = fork();
	if (kid == 0) {
		while (atomic_load(&s->phase) == 0)
			atomic_fetch_add(&s->child_count, 1), test_msleep(1);
		snprintf(s->text, sizeof(s->text), "written by the child after restart");
		atomic_store(&s->phase, 2);
		_exit(0);
	}
	while (atomic_load(&s->child_count) < 3)
		test_msleep(1);
	test_ready();
	test_wait_done();

	int before = atomic_load(&s->child_count);
	test_msleep(50);
	if (atomic_load(&s->child_count) <= before)
		test_fail("the child's counter does not move in the parent's view");
	atomic_store(&s->phase, 1);
	for (int i = 0; i < 500 && atomic_load(&s->phase) != 2; i++)
		test_msleep(10);
	if (atomic_load(&s->phase) != 2 || strcmp(s->text, "written by the child after restart"))
		test_fail("the child's write is not seen: phase %d text '%s'", atomic_load(&s->phase),
			  s->text);
	struct shared copy;
	if (pread(fd, &copy, sizeof(copy), 0) != sizeof(copy) || strcmp(copy.text, s->text))
		test_fail("the shm_open fd does not read the same memory");
	int st;
	if (waitpid(kid, &st, 0) != kid || !WIFEXITED(st) || WEXITSTATUS(st))
		test_fail("child status %#x", st);
	test_pass(); /* the object stays: "reuse" mode restarts from the same image again */
}
