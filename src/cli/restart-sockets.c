/* SPDX-License-Identifier: MIT */
/*
 * cocoon restart: recreate the sockets of the tree before it is forked.
 *
 * Every socket end any image holds is made once here and inherited by the
 * processes that hold it.  Unix socket pairs become socketpairs; TCP
 * connections between two processes of the computation are connected
 * again on their old addresses (through the restored listener, or a
 * temporary one); listeners and UDP sockets bind their old addresses.  Data
 * that waited in a receive queue is sent again by the other end, so it
 * waits there once more.  An end whose peer was outside the computation
 * comes back disconnected: EOF for unix sockets, a reset for TCP.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli/restart-tree.h"
#include "common/restart.h"

struct xsock {
	const struct fd_sock *s;
	int fd;   /* made here; -1 until then */
	int done;
};

static struct xsock *socks;
static int nsocks, capsocks;

/* Note one socket end an image holds (several processes may share it). */
int sockets_add(const struct fd_sock *s, uint64_t len)
{
	if (len < sizeof(*s) || s->qlen != len - sizeof(*s) || s->addr_len > sizeof(s->addr) ||
	    s->peer_len > sizeof(s->peer))
		return -EBADMSG;
	for (int i = 0; i < nsocks; i++)
		if (socks[i].s->ino == s->ino)
			return 0;
	if (nsocks == capsocks) {
		int cap = capsocks ? capsocks * 2 : 16;
		struct xsock *n = realloc(socks, sizeof(*n) * (size_t)cap);
		if (!n)
			return -ENOMEM;
		socks = n;
		capsocks = cap;
	}
	socks[nsocks++] = (struct xsock){ s, -1, 0 };
	return 0;
}

int sockets_count(void)
{
	return nsocks;
}

static int is_inet(const struct fd_sock *s)
{
	return s->family == AF_INET || s->family == AF_INET6;
}

static int same_addr(const uint8_t *a, uint32_t alen, const uint8_t *b, uint32_t blen)
{
	return alen == blen && memcmp(a, b, alen) == 0;
}

static uint16_t port_of(const uint8_t *addr)
{
	const struct sockaddr_in *in = (const void *)addr;

	return ntohs(in->sin_port); /* same offset in sockaddr_in6 */
}

/* A buffer size that differs from a new socket's was set by the program
 * (the kernel doubles what it is given, so give half). */
static void buffer(int fd, int name, int saved)
{
	int now = 0;
	socklen_t len = sizeof(now);

	if (saved > 0 && getsockopt(fd, SOL_SOCKET, name, &now, &len) == 0 && now != saved) {
		int half = saved / 2;
		setsockopt(fd, SOL_SOCKET, name, &half, sizeof(half));
	}
}

static void options(int fd, const struct fd_sock *s)
{
	int one = 1;

	buffer(fd, SO_SNDBUF, s->sndbuf);
	buffer(fd, SO_RCVBUF, s->rcvbuf);
	if (s->keepalive)
		setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	if (s->nodelay)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* Send again, through fd, the data that waited in the peer's queue. */
static int refill(int fd, const struct fd_sock *peer)
{
	const char *p = (const char *)(peer + 1), *end = p + peer->qlen;

	for (uint32_t i = 0; i < peer->nmsg && p + 4 <= end; i++) {
		uint32_t len;
		memcpy(&len, p, 4);
		p += 4;
		if (len > (uint64_t)(end - p))
			return -EBADMSG;
		for (uint32_t sent = 0; sent < len || (!len && !sent);) {
			ssize_t n = send(fd, p + sent, len - sent, MSG_NOSIGNAL);
			if (n < 0)
				return -errno;
			sent += (uint32_t)n;
			if (!len)
				break;
		}
		p += len;
	}
	return 0;
}

/* Each end sends what waited at the other, then shuts down what it had. */
static int refill_pair(struct xsock *x, struct xsock *y)
{
	int err = refill(y->fd, x->s);

	if (!err)
		err = refill(x->fd, y->s);
	if (!err && (x->s->shutdown & 2))
		shutdown(x->fd, SHUT_WR);
	if (!err && (y->s->shutdown & 2))
		shutdown(y->fd, SHUT_WR);
	return err;
}

static struct xsock *find_ino(uint64_t ino)
{
	for (int i = 0; i < nsocks; i++)
		if (socks[i].s->ino == ino)
			return &socks[i];
	return NULL;
}

/* A bound unix path left by the dead process is in the way of bind. */
static void clear_path(const struct fd_sock *s)
{
	const struct sockaddr_un *un = (const void *)s->addr;
	struct stat st;

	if (s->addr_len > sizeof(sa_family_t) && un->sun_path[0] &&
	    stat(un->sun_path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(un->sun_path);
}

static int bound_socket(const struct fd_sock *s)
{
	int fd = socket(s->family, s->type, s->protocol), one = 1;

	if (fd < 0)
		return -errno;
	if (is_inet(s))
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	else
		clear_path(s);
	options(fd, s);
	int named = is_inet(s) ? port_of(s->addr) != 0 : s->addr_len > sizeof(sa_family_t);
	/* The killed processes' sockets may linger a moment (closing
	 * handshakes on loopback): give them up to two seconds to go. */
	for (int tries = 0; named && bind(fd, (const void *)s->addr, s->addr_len) != 0; tries++) {
		if (errno != EADDRINUSE || tries == 200) {
			int e = -errno;
			if (is_inet(s))
				fprintf(stderr, "cocoon: restart: bind to port %u: %s\n",
					port_of(s->addr), strerror(errno));
			close(fd);
			return e;
		}
		usleep(10000);
	}
	return fd;
}

/* A disconnected end: EOF (unix) or a reset (TCP) on its next use. */
static int dead_end(const struct fd_sock *s)
{
	int pair[2];

	if (!is_inet(s)) {
		if (socketpair(AF_UNIX, s->type, 0, pair) != 0)
			return -errno;
		close(pair[1]);
		return pair[0];
	}
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int l = socket(s->family, SOCK_STREAM, 0), c = socket(s->family, SOCK_STREAM, 0), a;
	struct linger rst = { 1, 0 };
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = (sa_family_t)s->family;
	if (s->family == AF_INET)
		((struct sockaddr_in *)&ss)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	else
		((struct sockaddr_in6 *)&ss)->sin6_addr = in6addr_loopback;
	if (l < 0 || c < 0 || bind(l, (void *)&ss, sizeof(ss)) || listen(l, 1) ||
	    getsockname(l, (void *)&ss, &len) || connect(c, (void *)&ss, len) ||
	    (a = accept(l, NULL, NULL)) < 0)
		return -errno;
	setsockopt(a, SOL_SOCKET, SO_LINGER, &rst, sizeof(rst));
	close(a);
	close(l);
	return c;
}

static int unix_listener_fd(const uint8_t *addr, uint32_t len);

static int make_unix_pair(struct xsock *x, struct xsock *y)
{
	int pair[2];

	/* The end that was accepted from a named listener keeps the name:
	 * connect through the restored listener rather than a socketpair. */
	if (unix_listener_fd(x->s->addr, x->s->addr_len) >= 0) {
		struct xsock *t = x;
		x = y;
		y = t;
	}
	int lfd = unix_listener_fd(y->s->addr, y->s->addr_len);
	if (lfd >= 0 && x->s->type != SOCK_DGRAM) {
		pair[0] = socket(AF_UNIX, x->s->type, 0);
		if (pair[0] < 0 || connect(pair[0], (const void *)y->s->addr, y->s->addr_len) != 0 ||
		    (pair[1] = accept(lfd, NULL, NULL)) < 0)
			return -errno;
	} else if (socketpair(AF_UNIX, x->s->type, 0, pair) != 0) {
		return -errno;
	}
	options(pair[0], x->s);
	options(pair[1], y->s);
	x->fd = pair[0];
	y->fd = pair[1];
	x->done = y->done = 1;
	return refill_pair(x, y);
}

/* The restored unix listener bound to addr, or -1. */
static int unix_listener_fd(const uint8_t *addr, uint32_t len)
{
	if (len <= sizeof(sa_family_t))
		return -1;
	for (int i = 0; i < nsocks; i++) {
		const struct fd_sock *l = socks[i].s;
		if (l->family == AF_UNIX && l->state == FD_SOCK_LISTENING && socks[i].fd >= 0 &&
		    same_addr(l->addr, l->addr_len, addr, len))
			return socks[i].fd;
	}
	return -1;
}

static int unix_listener_at(const uint8_t *addr, uint32_t len)
{
	return unix_listener_fd(addr, len) >= 0;
}

/* A pending client's own received data has no sender left to send it
 * again: nothing to do but say so when there was some. */
static int refill_self(int fd, const struct fd_sock *s)
{
	(void)fd;
	if (s->qlen)
		fprintf(stderr, "cocoon: restart: warning: %llu bytes queued for a connection "
				"not yet accepted are lost\n", (unsigned long long)s->qlen);
	return 0;
}

/* The restored listener on addr, or -1. */
static int listener_at(const uint8_t *addr, uint32_t len)
{
	for (int i = 0; i < nsocks; i++) {
		const struct fd_sock *l = socks[i].s;
		if (l->state != FD_SOCK_LISTENING || socks[i].fd < 0 || !is_inet(l))
			continue;
		if (same_addr(l->addr, l->addr_len, addr, len))
			return socks[i].fd;
		/* a wildcard listener on the same port */
		if (l->addr_len == len && port_of(l->addr) == port_of(addr) &&
		    ((l->family == AF_INET &&
		      ((const struct sockaddr_in *)l->addr)->sin_addr.s_addr == INADDR_ANY) ||
		     (l->family == AF_INET6 &&
		      IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)l->addr)->sin6_addr))))
			return socks[i].fd;
	}
	return -1;
}

/* Connect a fresh socket from client's old address to addr, where lfd
 * listens; returns the connected socket, the accepted one in *accepted. */
static int tcp_connect(const struct fd_sock *client, const uint8_t *addr, uint32_t alen,
		       int lfd, int *accepted)
{
	int fd = bound_socket(client);

	if (fd < 0)
		return fd;
	if (connect(fd, (const void *)addr, alen) != 0) {
		int e = -errno;
		fprintf(stderr, "cocoon: restart: connect from port %u to port %u: %s\n",
			port_of(client->addr), port_of(addr), strerror(errno));
		close(fd);
		return e;
	}
	if (accepted) {
		*accepted = accept(lfd, NULL, NULL);
		if (*accepted < 0)
			return -errno;
	}
	return fd;
}

static int make_tcp_pair(struct xsock *x, struct xsock *y)
{
	/* y is the end that was accepted: it has the listener's address. */
	int lfd = listener_at(y->s->addr, y->s->addr_len), temp = lfd < 0, acc = -1;

	if (temp) {
		struct fd_sock l = *y->s;
		l.state = FD_SOCK_LISTENING;
		lfd = bound_socket(&l);
		if (lfd < 0 || listen(lfd, 1) != 0)
			return lfd < 0 ? lfd : -errno;
	}
	x->fd = tcp_connect(x->s, y->s->addr, y->s->addr_len, lfd, &acc);
	if (temp)
		close(lfd);
	if (x->fd < 0)
		return x->fd;
	y->fd = acc;
	options(y->fd, y->s);
	x->done = y->done = 1;
	return refill_pair(x, y);
}

static struct xsock *tcp_peer(const struct xsock *x)
{
	for (int i = 0; i < nsocks; i++) {
		const struct fd_sock *o = socks[i].s;
		if (&socks[i] != x && o->state == FD_SOCK_CONNECTED && is_inet(o) &&
		    same_addr(o->addr, o->addr_len, x->s->peer, x->s->peer_len) &&
		    same_addr(o->peer, o->peer_len, x->s->addr, x->s->addr_len))
			return &socks[i];
	}
	return NULL;
}

static int make_one(struct xsock *x)
{
	const struct fd_sock *s = x->s;

	if (s->state != FD_SOCK_CONNECTED) {
		x->fd = bound_socket(s);
		if (x->fd >= 0 && s->state == FD_SOCK_LISTENING && listen(x->fd, s->backlog) != 0)
			return -errno;
		return x->fd < 0 ? x->fd : 0;
	}
	if (!is_inet(s)) {
		struct xsock *peer = s->peer_ino ? find_ino(s->peer_ino) : NULL;
		if (peer && !peer->done)
			return make_unix_pair(x, peer);
		if (unix_listener_at(s->peer, s->peer_len)) {
			/* connected, but not accepted yet at the checkpoint: the
			 * restored listener queues it again */
			x->fd = socket(AF_UNIX, s->type, 0);
			if (x->fd < 0 || connect(x->fd, (const void *)s->peer, s->peer_len) != 0)
				return -errno;
			options(x->fd, s);
			return refill_self(x->fd, s);
		}
		if (s->type == SOCK_DGRAM && s->peer_len > sizeof(sa_family_t)) {
			x->fd = bound_socket(s); /* a named peer outside: aim at it again */
			if (x->fd >= 0)
				connect(x->fd, (const void *)s->peer, s->peer_len);
			return x->fd < 0 ? x->fd : 0;
		}
		x->fd = dead_end(s);
		return x->fd < 0 ? x->fd : 0;
	}
	if (s->type == SOCK_DGRAM) {
		x->fd = bound_socket(s);
		if (x->fd >= 0 && connect(x->fd, (const void *)s->peer, s->peer_len) != 0)
			return -errno;
		return x->fd < 0 ? x->fd : 0;
	}
	struct xsock *peer = tcp_peer(x);
	if (peer && !peer->done) {
		/* the end on the listener's port is the accepted one */
		int x_is_server = listener_at(s->addr, s->addr_len) >= 0;
		return x_is_server ? make_tcp_pair(peer, x) : make_tcp_pair(x, peer);
	}
	int lfd = listener_at(s->peer, s->peer_len);
	if (lfd >= 0) {
		/* connected, but not accepted yet at the checkpoint: queue again */
		x->fd = tcp_connect(s, s->peer, s->peer_len, lfd, NULL);
		return x->fd < 0 ? x->fd : 0;
	}
	x->fd = dead_end(s);
	return x->fd < 0 ? x->fd : 0;
}

/* Which round a socket is made in: listeners first (connections are made
 * through them), then the pairs inside the computation (each connect is
 * followed by its accept, so nothing else may wait in a backlog yet), then
 * the rest: unconnected ones, ends whose peer is gone, and connections the
 * server had not accepted at the checkpoint (queued again last). */
static int round_of(struct xsock *x)
{
	const struct fd_sock *s = x->s;

	if (s->state == FD_SOCK_LISTENING)
		return 0;
	if (s->state != FD_SOCK_CONNECTED)
		return 2;
	if (!is_inet(s))
		return s->peer_ino && find_ino(s->peer_ino) ? 1 : 2;
	return s->type == SOCK_STREAM && tcp_peer(x) ? 1 : 2;
}

/* Make every socket; one table entry (id, fd) each, written to out. */
int sockets_make(struct rst_pipe *out)
{
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < nsocks; i++) {
			struct xsock *x = &socks[i];
			if (x->done || round_of(x) != round)
				continue;
			x->done = 1;
			int err = make_one(x);
			if (err) {
				fprintf(stderr, "cocoon: restart: cannot recreate socket %llu: %s\n",
					(unsigned long long)x->s->ino, strerror(-err));
				return err;
			}
		}
	}
	for (int i = 0; i < nsocks; i++)
		out[i] = (struct rst_pipe){ FD_SOCK_ID(socks[i].s->ino), socks[i].fd, -1 };
	return 0;
}
