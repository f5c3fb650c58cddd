/* SPDX-License-Identifier: MIT */
/*
 * A parent and its child sharing one TCP connection to a server outside
 * the computation (port $PROBE_PORT), for tests/cr/plugin_api.sh.  Both
 * idle until SIGTERM; the parent then reaps the child and prints PASS if
 * the child ended well.  $CRTEST_READY is created once both run.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	stop = 1;
}

int main(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	const char *port = getenv("PROBE_PORT"), *ready = getenv("CRTEST_READY");
	int s = socket(AF_INET, SOCK_STREAM, 0), status = 0;
	if (!port || s < 0)
		return 2;
	sa.sin_port = htons((uint16_t)atoi(port));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		perror("connect");
		return 2;
	}
	signal(SIGTERM, on_term);
	pid_t child = fork();
	if (child < 0)
		return 2;
	if (child == 0) {
		while (!stop)
			pause();
		return 0;
	}
	if (ready)
		close(open(ready, O_CREAT | O_WRONLY, 0600));
	while (!stop)
		pause();
	kill(child, SIGTERM);
	if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status)) {
		printf("FAIL child status %d\n", status);
		return 1;
	}
	printf("PASS\n");
	return 0;
}
