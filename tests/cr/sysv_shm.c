/* SPDX-License-Identifier: MIT */
/*
 * System V shared memory shared by a parent and a child: after restart both
 * see one segment again at the same address, under the id the program
 * knows (shmctl IPC_STAT works on it), what the child writes the parent
 * reads; a second, keyless segment already marked for removal is still
 * attached and gone once detached.
 */
#include "crtest.h"

#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <unistd.h>

struct shared {
	atomic_int phase, child_count;
	char text[64];
};

int main(int argc, char **argv)
{
	test_init(argc, argv);
	int id = shmget(IPC_PRIVATE, 8192, IPC_CREAT | 0600);
	int gone = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
	if (id < 0 || gone < 0)
		test_fail("shmget: %s", strerror(errno));
	struct shared *s = shmat(id, NULL, 0);
	char *g = shmat(gone, NULL, 0);
	if (s == (void *)-1 || g == (void *)-1)
		test_fail("shmat: %s", strerror(errno));
	strcpy(g, "marked for removal");
	shmctl(gone, IPC_RMID, NULL);
	strcpy(s->text, "before");
	pid_t kid = fork();
	if (kid == 0) {
		while (atomic_load(&s->phase) == 0)
			atomic_fetch_add(&s->child_count, 1), test_msleep(1);
		strcpy(s->text, "written by the child after restart");
		atomic_store(&s->phase, 2);
		_exit(0);
	}
	while (atomic_load(&s->child_count) < 3)
		test_msleep(1);
	test_ready();
	test_wait_done();

	struct shmid_ds ds;
	if (shmctl(id, IPC_STAT, &ds) || ds.shm_segsz != 8192 || ds.shm_nattch < 1)
		test_fail("shmctl(IPC_STAT) on the old id: %s, size %zu, attached %lu",
			  strerror(errno), ds.shm_segsz, (unsigned long)ds.shm_nattch);
	if (strcmp(g, "marked for removal"))
		test_fail("the removed-but-attached segment lost its contents");
	int before = atomic_load(&s->child_count);
	test_msleep(50);
	if (atomic_load(&s->child_count) <= before)
		test_fail("the child's counter does not move in the parent's view");
	atomic_store(&s->phase, 1);
	for (int i = 0; i < 500 && atomic_load(&s->phase) != 2; i++)
		test_msleep(10);
	if (strcmp(s->text, "written by the child after restart"))
		test_fail("the child's write is not seen: '%s'", s->text);
	int st;
	if (waitpid(kid, &st, 0) != kid || !WIFEXITED(st) || WEXITSTATUS(st))
		test_fail("child status %#x", st);
	if (shmdt(g) || shmdt(s) || shmctl(id, IPC_RMID, NULL))
		test_fail("shmdt/IPC_RMID: %s", strerror(errno));
	if (shmctl(gone, IPC_STAT, &ds) == 0)
		test_fail("the segment marked for removal still exists after detaching");
	test_pass();
}
