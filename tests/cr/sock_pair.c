/* SPDX-License-Identifier: MIT */
/*
 * Unix socketpairs of the three types, in one process, with data waiting
 * at the checkpoint.  Stream: a block written each way and not read.
 * Datagram and seqpacket: several messages each way, of distinct sizes
 * (a zero-length datagram among them), not read.  After the restart each
 * end reads exactly what was waiting, message by message with its
 * boundaries and in order, then finds its queue empty; then more is
 * exchanged both ways.  Also: one end stays O_NONBLOCK, the other blocking;
 * SO_TYPE is unchanged; SO_PEEK_OFF is still off (the checkpoint peeks
 * with it on) so MSG_PEEK still peeks at the head; closing one end gives
 * the other end-of-file (stream, seqpacket) or ECONNREFUSED (datagram).
 */
#include "crtest.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define NTYPE 3
static const int types[NTYPE] = { SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET };
static const char *names[NTYPE] = { "stream", "dgram", "seqpacket" };

/* Messages queued on each side before the checkpoint: sizes, in order. */
static const size_t dgram_sizes[] = { 1, 700, 0, 4096, 3, 30000, 129 };
static const size_t seqp_sizes[] = { 65, 1, 2048, 20000, 5 };
#define STREAM_LEN 50000

static unsigned char buf[70000];

/* A seed per (type, direction, index): no two messages alike. */
static uint64_t seed(int t, int dir, int i)
{
	return 1000u * (uint64_t)t + 100u * (uint64_t)dir + (uint64_t)i + 1;
}

static void send_msg(int fd, int t, int dir, int i, size_t len)
{
	test_fill(buf, len, seed(t, dir, i));
	ssize_t n = send(fd, buf, len, MSG_DONTWAIT);
	if (n != (ssize_t)len)
		test_fail("%s: send %d of %zu bytes (dir %d) = %zd: %s", names[t], i, len, dir, n,
			  n < 0 ? strerror(errno) : "short");
}

/* Wait (at most 2 s) until fd is readable: the blocking end must not hang the test. */
static void wait_readable(int fd, const char *what)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int n;

	do
		n = poll(&p, 1, 2000);
	while (n < 0 && errno == EINTR);
	if (n != 1)
		test_fail("%s: not readable within 2 s", what);
}

static void recv_msg(int fd, int t, int dir, int i, size_t len)
{
	char what[64];
	ssize_t n;

	snprintf(what, sizeof(what), "%s dir %d message %d", names[t], dir, i);
	wait_readable(fd, what);
	memset(buf, 0xee, sizeof(buf));
	n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (n != (ssize_t)len)
		test_fail("%s: recv = %zd (%s), want %zu bytes", what, n,
			  n < 0 ? strerror(errno) : "", len);
	if (test_check_fill(buf, len, seed(t, dir, i)))
		test_fail("%s: %zu bytes, wrong content", what, len);
}

/* Read a stream until len bytes came; each chunk must be what was sent. */
static void recv_stream(int fd, int dir, size_t len, uint64_t s)
{
	static unsigned char want[STREAM_LEN];
	size_t got = 0;

	test_fill(want, len, s);
	while (got < len) {
		wait_readable(fd, dir ? "stream b->a" : "stream a->b");
		ssize_t n = recv(fd, buf, len - got, MSG_DONTWAIT);
		if (n <= 0)
			test_fail("stream dir %d: recv after %zu of %zu bytes = %zd (%s)", dir, got,
				  len, n, n < 0 ? strerror(errno) : "EOF");
		if (memcmp(buf, want + got, (size_t)n))
			test_fail("stream dir %d: wrong bytes at %zu..%zu", dir, got,
				  got + (size_t)n);
		got += (size_t)n;
	}
}

static void expect_empty(int fd, const char *what)
{
	char c;
	ssize_t n = recv(fd, &c, 1, MSG_DONTWAIT | MSG_PEEK);

	if (n != -1 || errno != EAGAIN)
		test_fail("%s: queue not empty after reading what was sent: recv = %zd (%s)", what,
			  n, n < 0 ? strerror(errno) : "");
}

int main(int argc, char **argv)
{
	int sv[NTYPE][2], type, peek;
	socklen_t len;

	test_init(argc, argv);
	for (int t = 0; t < NTYPE; t++) {
		if (socketpair(AF_UNIX, types[t], 0, sv[t]))
			test_fail("socketpair(%s): %s", names[t], strerror(errno));
		/* End 0 non-blocking, end 1 blocking. */
		test_assert(fcntl(sv[t][0], F_SETFL, O_NONBLOCK) == 0);
	}

	/* Stream: a block each way. */
	test_fill(buf, STREAM_LEN, 7);
	test_assert(send(sv[0][0], buf, STREAM_LEN, MSG_DONTWAIT) == STREAM_LEN);
	test_fill(buf, STREAM_LEN / 2, 8);
	test_assert(send(sv[0][1], buf, STREAM_LEN / 2, MSG_DONTWAIT) == STREAM_LEN / 2);
	/* Datagrams and records: a->b (dir 0) and b->a (dir 1), sizes reversed. */
	int nd = sizeof(dgram_sizes) / sizeof(dgram_sizes[0]);
	int ns = sizeof(seqp_sizes) / sizeof(seqp_sizes[0]);
	for (int i = 0; i < nd; i++) {
		send_msg(sv[1][0], 1, 0, i, dgram_sizes[i]);
		send_msg(sv[1][1], 1, 1, i, dgram_sizes[nd - 1 - i]);
	}
	for (int i = 0; i < ns; i++) {
		send_msg(sv[2][0], 2, 0, i, seqp_sizes[i]);
		send_msg(sv[2][1], 2, 1, i, seqp_sizes[ns - 1 - i]);
	}

	test_ready();
	test_wait_done();

	for (int t = 0; t < NTYPE; t++) {
		for (int e = 0; e < 2; e++) {
			int fl = fcntl(sv[t][e], F_GETFL);
			if (fl < 0 || !!(fl & O_NONBLOCK) != (e == 0))
				test_fail("%s end %d: O_NONBLOCK %s after restart", names[t], e,
					  fl < 0 ? strerror(errno) : fl & O_NONBLOCK ? "set" : "clear");
			len = sizeof(type);
			if (getsockopt(sv[t][e], SOL_SOCKET, SO_TYPE, &type, &len) ||
			    type != types[t])
				test_fail("%s end %d: SO_TYPE %d", names[t], e, type);
			len = sizeof(peek);
			if (getsockopt(sv[t][e], SOL_SOCKET, SO_PEEK_OFF, &peek, &len) || peek != -1)
				test_fail("%s end %d: SO_PEEK_OFF %d after restart, want -1 (off)",
					  names[t], e, peek);
		}
	}

	/* Exactly what was waiting, then nothing. */
	recv_stream(sv[0][1], 0, STREAM_LEN, 7);
	recv_stream(sv[0][0], 1, STREAM_LEN / 2, 8);
	for (int i = 0; i < nd; i++) {
		recv_msg(sv[1][1], 1, 0, i, dgram_sizes[i]);
		recv_msg(sv[1][0], 1, 1, i, dgram_sizes[nd - 1 - i]);
	}
	for (int i = 0; i < ns; i++) {
		recv_msg(sv[2][1], 2, 0, i, seqp_sizes[i]);
		recv_msg(sv[2][0], 2, 1, i, seqp_sizes[ns - 1 - i]);
	}
	for (int t = 0; t < NTYPE; t++)
		for (int e = 0; e < 2; e++) {
			char what[32];
			snprintf(what, sizeof(what), "%s end %d", names[t], e);
			expect_empty(sv[t][e], what);
		}

	/* More both ways; MSG_PEEK peeks at the head, twice the same. */
	for (int t = 0; t < NTYPE; t++) {
		for (int dir = 0; dir < 2; dir++) {
			int from = sv[t][dir], to = sv[t][!dir];
			send_msg(from, t, dir, 50, 1000);
			send_msg(from, t, dir, 51, 77);
			if (t != 0) {
				char c1 = 0, c2 = 1;
				wait_readable(to, names[t]);
				if (recv(to, &c1, 1, MSG_PEEK) != 1 || recv(to, &c2, 1, MSG_PEEK) != 1 ||
				    c1 != c2)
					test_fail("%s: MSG_PEEK twice gave different bytes", names[t]);
				recv_msg(to, t, dir, 50, 1000);
				recv_msg(to, t, dir, 51, 77);
			} else {
				static unsigned char want[1077];
				size_t got = 0;
				test_fill(want, 1000, seed(t, dir, 50));
				test_fill(want + 1000, 77, seed(t, dir, 51));
				while (got < sizeof(want)) {
					wait_readable(to, "stream after restart");
					ssize_t n = recv(to, buf, sizeof(want) - got, MSG_DONTWAIT);
					if (n <= 0 || memcmp(buf, want + got, (size_t)n))
						test_fail("stream after restart dir %d: recv = %zd at %zu",
							  dir, n, got);
					got += (size_t)n;
				}
			}
			expect_empty(to, "after the exchange");
		}
	}

	/* The two ends are still each other's: closing one is seen by the other. */
	close(sv[0][0]);
	close(sv[2][1]);
	close(sv[1][1]);
	if (recv(sv[0][1], buf, 1, MSG_DONTWAIT) != 0)
		test_fail("stream: no EOF after the peer closed: %s", strerror(errno));
	if (recv(sv[2][0], buf, 1, MSG_DONTWAIT) != 0)
		test_fail("seqpacket: no EOF after the peer closed: %s", strerror(errno));
	errno = 0;
	if (send(sv[1][0], "x", 1, MSG_DONTWAIT) != -1 || errno != ECONNREFUSED)
		test_fail("dgram: send after the peer closed: %s, want ECONNREFUSED",
			  strerror(errno));
	test_pass();
}
