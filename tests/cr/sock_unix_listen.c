/* SPDX-License-Identifier: MIT */
/*
 * Unix listening sockets come back listening on their names: one bound to
 * a path (test_path), one to an abstract name.  Child 0 connects to the
 * path, child 1 to the abstract name; the parent accepts both, and each
 * child has sent a line the parent has not read at the checkpoint.  Two
 * more clients, in the parent, are connected but not accepted at the
 * checkpoint, one to the path and one to the abstract name (neither has
 * sent anything: that data would be lost, see docs/architecture.md).
 * After the restart: the socket file is still there, getsockname of each
 * listener gives its name; the old connections carry the waiting lines and
 * a request/answer each; both pending clients are accept()able and work;
 * new connections to both names are accepted and work; an accepted
 * connection still has the listener's name (getsockname), a client still
 * has it as its peer (getpeername); last, the abstract pending client,
 * accepted after the restart, is heard on its connection.
 */
#include "crtest.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static struct sockaddr_un named, abstract;
static socklen_t named_len, abstract_len;

static void set_names(void)
{
	const char *path = test_path("listen.sock");

	named.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(named.sun_path))
		test_fail("socket path too long: %s", path);
	strcpy(named.sun_path, path);
	named_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1);
	abstract.sun_family = AF_UNIX;
	int n = snprintf(abstract.sun_path + 1, sizeof(abstract.sun_path) - 1,
			 "cocoon-sock_unix_listen-%d", (int)getpid());
	abstract_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
}

static int listener(const struct sockaddr_un *a, socklen_t len)
{
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	if (fd < 0 || bind(fd, (const void *)a, len) || listen(fd, 8))
		test_fail("listen on %s%s: %s", a->sun_path[0] ? "" : "@",
			  a->sun_path[0] ? a->sun_path : a->sun_path + 1, strerror(errno));
	return fd;
}

static int connect_to(const struct sockaddr_un *a, socklen_t len, const char *what)
{
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	if (fd < 0 || connect(fd, (const void *)a, len))
		test_fail("connect to %s: %s", what, strerror(errno));
	return fd;
}

static void put(int fd, const char *s, const char *what)
{
	size_t len = strlen(s);

	if (send(fd, s, len, MSG_NOSIGNAL) != (ssize_t)len)
		test_fail("%s: send '%s': %s", what, s, strerror(errno));
}

/* Read exactly strlen(want) bytes (2 s at most) and compare. */
static void expect(int fd, const char *want, const char *what)
{
	char buf[128];
	size_t len = strlen(want), got = 0;

	while (got < len) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int r = poll(&p, 1, 2000);
		if (r < 0 && errno == EINTR)
			continue;
		if (r != 1)
			test_fail("%s: nothing to read within 2 s (want '%s', have %zu bytes)", what,
				  want, got);
		ssize_t n = recv(fd, buf + got, len - got, MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			test_fail("%s: recv = %zd (%s), want '%s'", what, n,
				  n < 0 ? strerror(errno) : "EOF", want);
		got += (size_t)n;
	}
	buf[got] = 0;
	if (strcmp(buf, want))
		test_fail("%s: read '%s', want '%s'", what, buf, want);
}

/* accept() with a 2 s deadline: a missing connection fails instead of hanging. */
static int accept_one(int lfd, const char *what)
{
	struct pollfd p = { .fd = lfd, .events = POLLIN };
	int r;

	do
		r = poll(&p, 1, 2000);
	while (r < 0 && errno == EINTR);
	if (r != 1)
		test_fail("%s: no connection to accept within 2 s", what);
	int fd = accept(lfd, NULL, NULL);
	if (fd < 0)
		test_fail("%s: accept: %s", what, strerror(errno));
	return fd;
}

/* Wait (2 s at most) until n bytes are queued on fd, without reading them. */
static void wait_queued(int fd, ssize_t n)
{
	char buf[64];

	for (int k = 0; k < 2000; k++) {
		if (recv(fd, buf, sizeof(buf), MSG_PEEK | MSG_DONTWAIT) == n)
			return;
		test_msleep(1);
	}
	test_fail("%zd bytes not queued within 2 s", n);
}

/* A child: says hello, then answers each "ping" with "pong", ends on "bye". */
static void child(int i, const struct sockaddr_un *a, socklen_t len)
{
	char hello[32], buf[5];
	int fd = connect_to(a, len, i ? "the abstract name" : "the path");

	snprintf(hello, sizeof(hello), "hello from %d.", i);
	put(fd, hello, "child");
	for (;;) {
		ssize_t n = recv(fd, buf, 4, MSG_WAITALL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n != 4)
			test_fail("child %d: recv = %zd (%s)", i, n, n < 0 ? strerror(errno) : "EOF");
		buf[4] = 0;
		if (!strcmp(buf, "bye."))
			_exit(0);
		if (strcmp(buf, "ping"))
			test_fail("child %d: got '%s'", i, buf);
		put(fd, "pong", "child");
	}
}

int main(int argc, char **argv)
{
	int lnamed, labstract, conn[2], pend_named, pend_abstract, fd, status;
	pid_t pids[2];
	struct sockaddr_un a;
	socklen_t len;
	struct stat st;

	test_init(argc, argv);
	signal(SIGPIPE, SIG_IGN);
	set_names();
	lnamed = listener(&named, named_len);
	labstract = listener(&abstract, abstract_len);
	for (int i = 0; i < 2; i++) {
		pids[i] = fork();
		test_assert(pids[i] >= 0);
		if (pids[i] == 0) {
			close(lnamed);
			close(labstract);
			child(i, i ? &abstract : &named, i ? abstract_len : named_len);
		}
		conn[i] = accept_one(i ? labstract : lnamed, "child's connection");
	}
	/* Both lines have arrived (and are left unread). */
	for (int i = 0; i < 2; i++)
		wait_queued(conn[i], 13);
	pend_named = connect_to(&named, named_len, "the path (pending)");
	pend_abstract = connect_to(&abstract, abstract_len, "the abstract name (pending)");
	/* Nothing is sent on the pending connections before the checkpoint:
	 * bytes a client sends before the server accepts sit in a socket no
	 * process holds, which Cocoon cannot read (see docs/architecture.md). */

	test_ready();
	test_wait_done();

	if (stat(named.sun_path, &st) || !S_ISSOCK(st.st_mode))
		test_fail("%s is not a socket after restart", named.sun_path);
	len = sizeof(a);
	if (getsockname(lnamed, (void *)&a, &len) || len != named_len ||
	    memcmp(&a, &named, len))
		test_fail("getsockname of the path listener: len %u '%s'", len, a.sun_path);
	len = sizeof(a);
	if (getsockname(labstract, (void *)&a, &len) || len != abstract_len ||
	    memcmp(&a, &abstract, len))
		test_fail("getsockname of the abstract listener: len %u, want %u", len,
			  abstract_len);

	/* Old connections: the waiting line, then a request and its answer. */
	expect(conn[0], "hello from 0.", "connection of child 0 (path)");
	expect(conn[1], "hello from 1.", "connection of child 1 (abstract)");
	for (int i = 0; i < 2; i++) {
		put(conn[i], "ping", "parent");
		expect(conn[i], "pong", i ? "child 1 answer" : "child 0 answer");
	}

	/* The pending clients are there to accept, each on its own listener. */
	int acc_named = accept_one(lnamed, "pending client of the path");
	int acc_abstract = accept_one(labstract, "pending client of the abstract name");
	put(pend_named, "late", "pending client (path)");
	expect(acc_named, "late", "accepted pending client (path)");
	put(acc_named, "back", "parent");
	expect(pend_named, "back", "pending client (path), answer");

	/* New connections to both names. */
	for (int i = 0; i < 2; i++) {
		const char *what = i ? "new connection to the abstract name"
				     : "new connection to the path";
		fd = connect_to(i ? &abstract : &named, i ? abstract_len : named_len, what);
		int acc = accept_one(i ? labstract : lnamed, what);
		put(fd, "new!", what);
		expect(acc, "new!", what);
		put(acc, "ok", what);
		expect(fd, "ok", what);
		close(fd);
		close(acc);
	}

	/* An accepted connection has the listener's name; its client sees it as its peer. */
	len = sizeof(a);
	if (getsockname(conn[0], (void *)&a, &len) || len != named_len || memcmp(&a, &named, len))
		test_fail("getsockname of the accepted connection of the path: len %u '%s', "
			  "want '%s'", len, len > 2 ? a.sun_path : "", named.sun_path);
	len = sizeof(a);
	if (getpeername(pend_named, (void *)&a, &len) || len != named_len ||
	    memcmp(&a, &named, len))
		test_fail("getpeername of the pending client of the path: len %u, want '%s'", len,
			  named.sun_path);

	for (int i = 0; i < 2; i++) {
		put(conn[i], "bye.", "parent");
		if (waitpid(pids[i], &status, 0) != pids[i] || !WIFEXITED(status) ||
		    WEXITSTATUS(status))
			test_fail("child %d ended with status %#x", i, status);
	}

	/* Last: the pending client (accepted only after the restart) talks. */
	put(pend_abstract, "late bird", "pending client (abstract)");
	expect(acc_abstract, "late bird", "accepted pending client (abstract)");
	unlink(named.sun_path);
	test_pass();
}
