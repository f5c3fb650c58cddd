/* SPDX-License-Identifier: MIT */
/*
 * For tests/cr/plugin_events.sh: on each SIGUSR1 it starts a thread and
 * joins it, then forks a child that execs /bin/true and reaps it, and
 * prints "round N done"; SIGTERM ends it with PASS.  $CRTEST_READY is
 * created when it waits for the first signal.
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void *worker(void *arg)
{
	return arg;
}

static int round_trip(void)
{
	pthread_t th;
	void *ret = NULL;
	int status;

	if (pthread_create(&th, NULL, worker, (void *)1) != 0 || pthread_join(th, &ret) != 0 ||
	    ret != (void *)1)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		execl("/bin/true", "true", (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status))
		return -1;
	return 0;
}

int main(void)
{
	const char *ready = getenv("CRTEST_READY");
	sigset_t set;
	int sig, round = 0;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if (ready)
		close(open(ready, O_CREAT | O_WRONLY, 0600));
	while (sigwait(&set, &sig) == 0 && sig == SIGUSR1) {
		if (round_trip() != 0) {
			printf("FAIL round %d\n", round + 1);
			return 1;
		}
		printf("round %d done\n", ++round);
		fflush(stdout);
	}
	printf("PASS\n");
	return 0;
}
