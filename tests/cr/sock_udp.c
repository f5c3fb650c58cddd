/* SPDX-License-Identifier: MIT */
/*
 * UDP sockets bound to ephemeral ports of 127.0.0.1: A unconnected, B
 * connected to A, C unconnected.  Datagrams went both ways before the
 * checkpoint and were all read: datagrams in flight at the checkpoint are
 * not kept (UDP may lose them anyway), so none are left for it.  After the
 * restart: getsockname of each and getpeername of B give what they gave
 * before, A has no peer (ENOTCONN); B sends to A, A's recvfrom names B;
 * A sends to B with sendto; B still filters by its peer: C's datagram to
 * B is dropped, and only A's next one is read.
 */
#include "crtest.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static struct sockaddr_in name[3];
static const char *names[3] = { "A", "B", "C" };

static int udp_socket(int i)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(name[i]);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (void *)&sin, sizeof(sin)) ||
	    getsockname(fd, (void *)&name[i], &len))
		test_fail("socket %s: %s", names[i], strerror(errno));
	return fd;
}

/* One datagram within 2 s: its size and sender. */
static ssize_t recv_one(int fd, char *buf, size_t cap, struct sockaddr_in *from, const char *what)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	socklen_t len = sizeof(*from);
	int n;

	do
		n = poll(&p, 1, 2000);
	while (n < 0 && errno == EINTR);
	if (n != 1)
		test_fail("%s: no datagram within 2 s", what);
	memset(from, 0, sizeof(*from));
	ssize_t r = recvfrom(fd, buf, cap, MSG_DONTWAIT, (void *)from, &len);
	if (r < 0)
		test_fail("%s: recvfrom: %s", what, strerror(errno));
	return r;
}

static void expect(int fd, const char *want, int from, const char *what)
{
	char buf[64];
	struct sockaddr_in sin;
	ssize_t n = recv_one(fd, buf, sizeof(buf), &sin, what);

	if (n != (ssize_t)strlen(want) || memcmp(buf, want, (size_t)n))
		test_fail("%s: got %zd bytes '%.*s', want '%s'", what, n, (int)(n > 0 ? n : 0), buf,
			  want);
	if (sin.sin_port != name[from].sin_port || sin.sin_addr.s_addr != name[from].sin_addr.s_addr)
		test_fail("%s: from %s port %d, want %s (port %d)", what, inet_ntoa(sin.sin_addr),
			  ntohs(sin.sin_port), names[from], ntohs(name[from].sin_port));
}

static void expect_nothing(int fd, const char *what)
{
	char c;
	ssize_t n = recv(fd, &c, 1, MSG_DONTWAIT);

	if (n != -1 || errno != EAGAIN)
		test_fail("%s: a datagram is waiting (recv = %zd)", what, n);
}

static void to(int fd, const char *s, int dest, const char *what)
{
	ssize_t n = dest < 0 ? send(fd, s, strlen(s), 0)
			     : sendto(fd, s, strlen(s), 0, (void *)&name[dest], sizeof(name[dest]));
	if (n != (ssize_t)strlen(s))
		test_fail("%s: send: %s", what, strerror(errno));
}

int main(int argc, char **argv)
{
	struct sockaddr_in sin, peer;
	socklen_t len;
	int fd[3];

	test_init(argc, argv);
	for (int i = 0; i < 3; i++)
		fd[i] = udp_socket(i);
	if (connect(fd[1], (void *)&name[0], sizeof(name[0])))
		test_fail("connect B to A: %s", strerror(errno));
	len = sizeof(peer);
	test_assert(getpeername(fd[1], (void *)&peer, &len) == 0);
	to(fd[1], "hello A", -1, "B to A");
	expect(fd[0], "hello A", 1, "A from B");
	to(fd[0], "hello B", 1, "A to B");
	expect(fd[1], "hello B", 0, "B from A");
	to(fd[2], "from C", 1, "C to B");
	to(fd[0], "then A", 1, "A to B");
	expect(fd[1], "then A", 0, "B, filtering by its peer");

	test_ready();
	test_wait_done();

	for (int i = 0; i < 3; i++) {
		len = sizeof(sin);
		memset(&sin, 0, sizeof(sin));
		if (getsockname(fd[i], (void *)&sin, &len) || len != sizeof(sin) ||
		    memcmp(&sin, &name[i], sizeof(sin)))
			test_fail("%s: getsockname %s port %d after restart, was port %d (%s)",
				  names[i], inet_ntoa(sin.sin_addr), ntohs(sin.sin_port),
				  ntohs(name[i].sin_port), strerror(errno));
	}
	len = sizeof(sin);
	memset(&sin, 0, sizeof(sin));
	if (getpeername(fd[1], (void *)&sin, &len) || memcmp(&sin, &peer, sizeof(sin)))
		test_fail("B: getpeername port %d after restart, was port %d (%s)",
			  ntohs(sin.sin_port), ntohs(peer.sin_port), strerror(errno));
	len = sizeof(sin);
	if (getpeername(fd[0], (void *)&sin, &len) != -1 || errno != ENOTCONN)
		test_fail("A: getpeername after restart: %s, want ENOTCONN", strerror(errno));
	for (int i = 0; i < 3; i++)
		expect_nothing(fd[i], names[i]);

	to(fd[1], "B again", -1, "B to A after restart");
	expect(fd[0], "B again", 1, "A from B after restart");
	to(fd[0], "A again", 1, "A to B after restart");
	expect(fd[1], "A again", 0, "B from A after restart");
	to(fd[2], "C again", 1, "C to B after restart");
	to(fd[0], "A last", 1, "A to B after restart");
	expect(fd[1], "A last", 0, "B, filtering by its peer after restart");
	to(fd[2], "C to A", 0, "C to A after restart");
	expect(fd[0], "C to A", 2, "A from C after restart");
	for (int i = 0; i < 3; i++)
		expect_nothing(fd[i], names[i]);
	test_pass();
}
