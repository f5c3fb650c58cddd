/* SPDX-License-Identifier: MIT */
/*
 * POSIX message queues come back with their messages and priorities: three
 * messages wait at the checkpoint; after restart a child that holds the
 * queue too takes the most urgent one, and the parent gets the other two
 * in priority order.
 */
#include "crtest.h"

#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct mq_attr attr = { .mq_maxmsg = 8, .mq_msgsize = 64 };
	char name[64], buf[64];
	unsigned prio;
	int go[2], back[2];

	test_init(argc, argv);
	snprintf(name, sizeof(name), "/cocoon-test-%d", (int)getpid());
	mqd_t q = mq_open(name, O_CREAT | O_RDWR, 0600, &attr);
	if (q == (mqd_t)-1 || pipe(go) || pipe(back))
		test_fail("mq_open: %s", strerror(errno));
	if (mq_send(q, "low", 4, 1) || mq_send(q, "high", 5, 5) || mq_send(q, "middle", 7, 3))
		test_fail("mq_send: %s", strerror(errno));
	pid_t kid = fork();
	if (kid == 0) {
		char c;
		if (read(go[0], &c, 1) != 1 || mq_receive(q, buf, sizeof(buf), &prio) != 5 ||
		    strcmp(buf, "high") || prio != 5)
			_exit(2);
		_exit(write(back[1], "x", 1) == 1 ? 0 : 3);
	}
	test_ready();
	test_wait_done();

	struct mq_attr now;
	if (mq_getattr(q, &now) || now.mq_curmsgs != 3 || now.mq_msgsize != 64)
		test_fail("queue holds %ld messages of %ld bytes, want 3 of 64",
			  (long)now.mq_curmsgs, (long)now.mq_msgsize);
	char c;
	if (write(go[1], "x", 1) != 1 || read(back[0], &c, 1) != 1)
		test_fail("the child did not get the most urgent message");
	if (mq_receive(q, buf, sizeof(buf), &prio) != 7 || strcmp(buf, "middle") || prio != 3)
		test_fail("second message '%s' prio %u, want 'middle' 3", buf, prio);
	if (mq_receive(q, buf, sizeof(buf), &prio) != 4 || strcmp(buf, "low") || prio != 1)
		test_fail("third message '%s' prio %u, want 'low' 1", buf, prio);
	int st;
	if (waitpid(kid, &st, 0) != kid || !WIFEXITED(st) || WEXITSTATUS(st))
		test_fail("child status %#x", st);
	mq_unlink(name);
	test_pass();
}
