/* SPDX-License-Identifier: MIT */
/*
 * Socketpairs between a parent and 2 children, with traffic flowing both
 * ways when the checkpoint comes (a transition test).  Child 0 talks to the
 * parent over a SOCK_STREAM pair, child 1 over a SOCK_SEQPACKET pair, and
 * both children send datagrams to the parent on one SOCK_DGRAM socket they
 * share (inherited from the parent, one socket in two processes).  Every
 * message is numbered and its payload derived from (sender, channel,
 * number): each receiver checks for loss, duplication, reordering and
 * corruption as it reads, all the time.  The parent waits for traffic in
 * every direction before ready.  After SIGTERM it stops sending and sends
 * STOP with its count on each pair; a child checks it got exactly that
 * many, stops and answers DONE with its own counts (pair and datagrams),
 * and exits 0; the parent drains, checks the counts match and reaps.
 */
#include "crtest.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define NCHILD 2
#define MSG 64
#define BURST 4
#define MIN_BEFORE_READY 200

enum { DATA = 1, STOP, DONE };

struct msg {
	uint32_t kind;
	uint32_t from;	  /* 0 parent, 1 + i child i */
	uint32_t chan;	  /* 0 pair, 1 shared dgram */
	uint32_t pad;
	uint64_t seq;	  /* DATA: number; STOP/DONE: count sent on the pair */
	uint64_t dseq;	  /* DONE: datagrams sent */
	unsigned char payload[MSG - 32];
};

/* A connection's receive side: stream bytes gather here into whole messages. */
struct conn {
	int fd;
	int stream;
	size_t have;
	unsigned char rx[MSG * 64];
	uint64_t sent, got;
};

static void make_msg(struct msg *m, uint32_t kind, uint32_t from, uint32_t chan, uint64_t seq)
{
	memset(m, 0, sizeof(*m));
	m->kind = kind;
	m->from = from;
	m->chan = chan;
	m->seq = seq;
	test_fill(m->payload, sizeof(m->payload),
		  ((uint64_t)from << 40) ^ ((uint64_t)chan << 32) ^ seq);
}

/* Send one whole message.  nonblock: 0 if it would block.  A stream may take
 * part of it: the rest is then sent blocking, so messages never interleave. */
static int send_msg(int fd, const struct msg *m, int nonblock, const char *who)
{
	const char *p = (const char *)m;
	size_t left = sizeof(*m);
	int flags = nonblock ? MSG_DONTWAIT : 0;

	while (left > 0) {
		ssize_t n = send(fd, p, left, flags);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN && left == sizeof(*m))
			return 0;
		if (n < 0 && errno == EAGAIN) {
			struct pollfd pf = { .fd = fd, .events = POLLOUT };
			poll(&pf, 1, 100);
			continue;
		}
		if (n <= 0)
			test_fail("%s: send: %s", who, n < 0 ? strerror(errno) : "0");
		p += n;
		left -= (size_t)n;
		flags = 0;
	}
	return 1;
}

/* Check a DATA message against what the sender must have sent as number want. */
static void check_data(const struct msg *m, uint32_t from, uint32_t chan, uint64_t want,
		       const char *who)
{
	if (m->from != from || m->chan != chan)
		test_fail("%s: message from %u chan %u, want from %u chan %u", who, m->from,
			  m->chan, from, chan);
	if (m->seq != want)
		test_fail("%s: message number %llu, want %llu (%s)", who,
			  (unsigned long long)m->seq, (unsigned long long)want,
			  m->seq < want ? "duplicate or reordered" : "lost");
	if (test_check_fill(m->payload, sizeof(m->payload),
			    ((uint64_t)from << 40) ^ ((uint64_t)chan << 32) ^ m->seq))
		test_fail("%s: message %llu corrupt", who, (unsigned long long)m->seq);
}

/* Read what is there (without blocking); call fn on each whole message.
 * Returns 0 at end of file. */
static int pump(struct conn *c, void (*fn)(const struct msg *, void *), void *arg,
		const char *who)
{
	for (;;) {
		ssize_t n;
		if (c->stream) {
			n = recv(c->fd, c->rx + c->have, sizeof(c->rx) - c->have, MSG_DONTWAIT);
		} else {
			n = recv(c->fd, c->rx, sizeof(c->rx), MSG_DONTWAIT);
			if (n > 0 && n != MSG)
				test_fail("%s: record of %zd bytes, want %d", who, n, MSG);
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 1;
		if (n < 0)
			test_fail("%s: recv: %s", who, strerror(errno));
		if (n == 0)
			return 0;
		if (!c->stream) {
			struct msg m;
			memcpy(&m, c->rx, sizeof(m));
			fn(&m, arg);
			continue;
		}
		c->have += (size_t)n;
		size_t off = 0;
		while (c->have - off >= MSG) {
			struct msg m;
			memcpy(&m, c->rx + off, sizeof(m));
			fn(&m, arg);
			off += MSG;
		}
		memmove(c->rx, c->rx + off, c->have - off);
		c->have -= off;
	}
}

/* ------------------------------------------------------------------ child */

struct child_state {
	int id;
	struct conn pair;
	int stop;	   /* STOP came */
	uint64_t dsent; /* datagrams sent on the shared socket */
};

static void child_msg(const struct msg *m, void *arg)
{
	struct child_state *s = arg;
	char who[32];

	snprintf(who, sizeof(who), "child %d", s->id);
	if (s->stop)
		test_fail("%s: message kind %u after STOP", who, m->kind);
	if (m->kind == STOP) {
		if (m->seq != s->pair.got)
			test_fail("%s: parent sent %llu, child got %llu", who,
				  (unsigned long long)m->seq, (unsigned long long)s->pair.got);
		s->stop = 1;
		return;
	}
	if (m->kind != DATA)
		test_fail("%s: message kind %u", who, m->kind);
	check_data(m, 0, 0, s->pair.got, who);
	s->pair.got++;
}

static void child(int id, int fd, int stream, int dgram)
{
	static struct child_state s;
	struct msg m;
	char who[32];

	snprintf(who, sizeof(who), "child %d", id);
	s.id = id;
	s.pair.fd = fd;
	s.pair.stream = stream;
	while (!s.stop) {
		struct pollfd p = { .fd = fd, .events = POLLIN | POLLOUT };
		if (poll(&p, 1, 100) < 0 && errno != EINTR)
			test_fail("%s: poll: %s", who, strerror(errno));
		if (!pump(&s.pair, child_msg, &s, who))
			test_fail("%s: end of file from the parent before STOP", who);
		if (s.stop)
			break;
		for (int k = 0; k < BURST; k++) {
			make_msg(&m, DATA, 1 + id, 0, s.pair.sent);
			if (!send_msg(fd, &m, 1, who))
				break;
			s.pair.sent++;
		}
		for (int k = 0; k < BURST; k++) {
			make_msg(&m, DATA, 1 + id, 1, s.dsent);
			if (!send_msg(dgram, &m, 1, who))
				break;
			s.dsent++;
		}
		test_msleep(1);
	}
	make_msg(&m, DONE, 1 + id, 0, s.pair.sent);
	m.dseq = s.dsent;
	send_msg(fd, &m, 0, who);
	_exit(0);
}

/* ----------------------------------------------------------------- parent */

static struct conn pairs[NCHILD];
static struct conn shared;
static uint64_t dgot[NCHILD];
static int done[NCHILD];
static struct msg done_msg[NCHILD];

static void parent_msg(const struct msg *m, void *arg)
{
	int i = (int)(intptr_t)arg;
	char who[48];

	snprintf(who, sizeof(who), "parent, from child %d", i);
	if (done[i])
		test_fail("%s: message after DONE", who);
	if (m->kind == DONE) {
		done[i] = 1;
		done_msg[i] = *m;
		return;
	}
	if (m->kind != DATA)
		test_fail("%s: message kind %u", who, m->kind);
	check_data(m, 1 + i, 0, pairs[i].got, who);
	pairs[i].got++;
}

static void parent_dgram(const struct msg *m, void *arg)
{
	if (m->kind != DATA || m->from < 1 || m->from > NCHILD)
		test_fail("shared datagram socket: kind %u from %u", m->kind, m->from);
	int i = (int)m->from - 1;
	check_data(m, 1 + i, 1, dgot[i], "parent, shared datagram socket");
	dgot[i]++;
}

/* One round: read everything, send a burst to each child unless stopping. */
static void parent_round(int sending)
{
	struct pollfd p[NCHILD + 1];
	struct msg m;

	for (int i = 0; i < NCHILD; i++)
		p[i] = (struct pollfd){ .fd = pairs[i].fd, .events = POLLIN | POLLOUT };
	p[NCHILD] = (struct pollfd){ .fd = shared.fd, .events = POLLIN };
	if (poll(p, NCHILD + 1, 100) < 0 && errno != EINTR)
		test_fail("parent: poll: %s", strerror(errno));
	for (int i = 0; i < NCHILD; i++)
		if (!pump(&pairs[i], parent_msg, (void *)(intptr_t)i, "parent") && !done[i])
			test_fail("parent: end of file from child %d before DONE", i);
	pump(&shared, parent_dgram, NULL, "parent, shared datagram socket");
	for (int i = 0; i < NCHILD && sending; i++)
		for (int k = 0; k < BURST; k++) {
			make_msg(&m, DATA, 0, 0, pairs[i].sent);
			if (!send_msg(pairs[i].fd, &m, 1, "parent"))
				break;
			pairs[i].sent++;
		}
	test_msleep(1);
}

int main(int argc, char **argv)
{
	int sv[NCHILD][2], dg[2], status;
	pid_t pids[NCHILD];
	struct msg m;

	test_init(argc, argv);
	signal(SIGPIPE, SIG_IGN);
	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, dg))
		test_fail("socketpair(dgram): %s", strerror(errno));
	for (int i = 0; i < NCHILD; i++) {
		if (socketpair(AF_UNIX, i == 0 ? SOCK_STREAM : SOCK_SEQPACKET, 0, sv[i]))
			test_fail("socketpair: %s", strerror(errno));
		pids[i] = fork();
		test_assert(pids[i] >= 0);
		if (pids[i] == 0) {
			for (int j = 0; j <= i; j++)
				close(sv[j][0]);
			close(dg[0]);
			child(i, sv[i][1], i == 0, dg[1]);
		}
		close(sv[i][1]);
		pairs[i].fd = sv[i][0];
		pairs[i].stream = i == 0;
	}
	close(dg[1]);
	shared.fd = dg[0];

	/* Traffic in every direction before ready. */
	for (;;) {
		int ok = 1;
		parent_round(1);
		for (int i = 0; i < NCHILD; i++)
			ok &= pairs[i].got >= MIN_BEFORE_READY && dgot[i] >= MIN_BEFORE_READY &&
			      pairs[i].sent >= MIN_BEFORE_READY;
		if (ok)
			break;
	}
	test_ready();
	while (!test_done())
		parent_round(1);

	for (int i = 0; i < NCHILD; i++) {
		make_msg(&m, STOP, 0, 0, pairs[i].sent);
		send_msg(pairs[i].fd, &m, 0, "parent");
	}
	uint64_t deadline = test_now_ns() + 5000000000ull;
	while (!done[0] || !done[1]) {
		if (test_now_ns() > deadline)
			test_fail("no DONE from child %d within 5 s after STOP", done[0] ? 1 : 0);
		parent_round(0);
	}
	/* A child sends its last datagram before DONE: all are queued now. */
	pump(&shared, parent_dgram, NULL, "parent, shared datagram socket");
	for (int i = 0; i < NCHILD; i++) {
		if (done_msg[i].seq != pairs[i].got)
			test_fail("child %d sent %llu on its pair, parent got %llu", i,
				  (unsigned long long)done_msg[i].seq,
				  (unsigned long long)pairs[i].got);
		if (done_msg[i].dseq != dgot[i])
			test_fail("child %d sent %llu datagrams, parent got %llu", i,
				  (unsigned long long)done_msg[i].dseq, (unsigned long long)dgot[i]);
		if (waitpid(pids[i], &status, 0) != pids[i])
			test_fail("waitpid(child %d): %s", i, strerror(errno));
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			test_fail("child %d ended with status %#x", i, status);
		/* The pair reads end of file once the child is gone. */
		if (pump(&pairs[i], parent_msg, (void *)(intptr_t)i, "parent"))
			test_fail("child %d's pair: no end of file after it exited", i);
	}
	test_pass();
}
