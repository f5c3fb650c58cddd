/* SPDX-License-Identifier: MIT */
/*
 * System V semaphores and message queues come back with their state, under
 * the ids the program knows: a set with values 3 and 0, a child blocked in
 * semop on the second; a queue holding three messages of different types.
 * After restart the values are the same, posting wakes the child, the three
 * messages come out in order, then the child's own.
 */
#include "crtest.h"

#include <errno.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/wait.h>
#include <unistd.h>

struct msg {
	long type;
	char text[32];
};

int main(int argc, char **argv)
{
	unsigned short init[2] = { 3, 0 };
	struct msg m;

	test_init(argc, argv);
	int sem = semget(IPC_PRIVATE, 2, IPC_CREAT | 0600);
	int q = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
	if (sem < 0 || q < 0 || semctl(sem, 0, SETALL, init))
		test_fail("setup: %s", strerror(errno));
	const char *texts[3] = { "first", "second", "third" };
	for (int i = 0; i < 3; i++) {
		m.type = 5 + i;
		strcpy(m.text, texts[i]);
		if (msgsnd(q, &m, sizeof(m.text), 0))
			test_fail("msgsnd: %s", strerror(errno));
	}
	pid_t kid = fork();
	if (kid == 0) {
		struct sembuf wait_one = { 1, -1, 0 };
		if (semop(sem, &wait_one, 1))
			_exit(2);
		m.type = 9;
		strcpy(m.text, "child done");
		_exit(msgsnd(q, &m, sizeof(m.text), 0) ? 3 : 0);
	}
	while (semctl(sem, 1, GETNCNT) < 1)
		test_msleep(5); /* the child waits in semop */
	test_ready();
	test_wait_done();

	if (semctl(sem, 0, GETVAL) != 3 || semctl(sem, 1, GETVAL) != 0)
		test_fail("semaphore values %d %d, want 3 0", semctl(sem, 0, GETVAL),
			  semctl(sem, 1, GETVAL));
	for (int i = 0; i < 3; i++) {
		if (msgrcv(q, &m, sizeof(m.text), 0, IPC_NOWAIT) != sizeof(m.text) ||
		    m.type != 5 + i || strcmp(m.text, texts[i]))
			test_fail("message %d: %s, type %ld '%s'", i, strerror(errno), m.type, m.text);
	}
	struct sembuf post = { 1, 1, 0 };
	if (semop(sem, &post, 1))
		test_fail("semop post: %s", strerror(errno));
	if (msgrcv(q, &m, sizeof(m.text), 9, 0) != sizeof(m.text) || strcmp(m.text, "child done"))
		test_fail("no message from the woken child: %s", strerror(errno));
	int st;
	if (waitpid(kid, &st, 0) != kid || !WIFEXITED(st) || WEXITSTATUS(st))
		test_fail("child status %#x", st);
	semctl(sem, 0, IPC_RMID);
	msgctl(q, IPC_RMID, NULL);
	test_pass();
}
