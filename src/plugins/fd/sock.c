/* SPDX-License-Identifier: MIT */
/*
 * The fd plugin's sockets, checkpoint half.  A socket is described (family,
 * type, addresses, options, listening or connected) and the data waiting in
 * its receive queue is copied out without consuming it: MSG_PEEK, with
 * SO_PEEK_OFF to step over datagrams.  The peer of a unix socket is found
 * by inode through sock_diag.  `cocoon restart` recreates every socket of
 * the tree from these records (src/cli/restart-sockets.c), and the runtime
 * only takes the fd it inherits.  Checkpoint thread only.
 */
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/sockios.h>

#include "plugins/fd/sock.h"
#include "runtime/rt.h"

#define QUEUE_MAX (64u << 20) /* queued bytes we copy at most, per socket */

/* The inode of the other end of unix socket ino, 0 when it has none, and
 * which of its directions are shut down (*shut: 1 receive, 2 send). */
static uint64_t unix_diag(uint64_t ino, int32_t *shut)
{
	struct {
		struct nlmsghdr nh;
		struct unix_diag_req req;
	} q = {
		.nh = { .nlmsg_len = sizeof(q), .nlmsg_type = SOCK_DIAG_BY_FAMILY,
			.nlmsg_flags = NLM_F_REQUEST },
		.req = { .sdiag_family = AF_UNIX, .udiag_states = ~0u, .udiag_ino = (uint32_t)ino,
			 .udiag_show = UDIAG_SHOW_PEER,
			 .udiag_cookie = { ~0u, ~0u } },
	};
	char buf[4096];
	uint64_t peer = 0;
	int nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);

	if (nl < 0)
		return 0;
	if (send(nl, &q, sizeof(q), 0) == sizeof(q)) {
		ssize_t n = recv(nl, buf, sizeof(buf), 0);
		struct nlmsghdr *h = (void *)buf;
		if (n > 0 && NLMSG_OK(h, (size_t)n) && h->nlmsg_type == SOCK_DIAG_BY_FAMILY) {
			struct unix_diag_msg *m = NLMSG_DATA(h);
			struct rtattr *a = (void *)(m + 1);
			int len = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof(*m)));
			for (; RTA_OK(a, len); a = RTA_NEXT(a, len))
				if (a->rta_type == UNIX_DIAG_PEER)
					peer = *(uint32_t *)RTA_DATA(a);
				else if (a->rta_type == UNIX_DIAG_SHUTDOWN)
					*shut = *(uint8_t *)RTA_DATA(a);
		}
	}
	close(nl);
	return peer;
}

static int opt(int fd, int level, int name)
{
	int v = 0;
	socklen_t len = sizeof(v);

	getsockopt(fd, level, name, &v, &len);
	return v;
}

/* Copy the receive queue.  Streams: one record of everything waiting;
 * datagrams: one record each, stepping with SO_PEEK_OFF. */
static int peek_queue(int fd, struct fd_sock *s, char *out, uint64_t cap)
{
	int avail = 0, stream = s->type == SOCK_STREAM;

	if (ioctl(fd, SIOCINQ, &avail) != 0 || avail <= 0)
		return 0;
	if (stream) {
		if ((uint64_t)avail + 4 > cap)
			return -E2BIG;
		ssize_t n = recv(fd, out + 4, (size_t)avail, MSG_PEEK | MSG_DONTWAIT);
		if (n < 0)
			return -errno;
		uint32_t len = (uint32_t)n;
		memcpy(out, &len, 4);
		s->nmsg = 1;
		s->qlen = 4 + (uint64_t)n;
		return 0;
	}
	int zero = 0, off = -1;
	if (setsockopt(fd, SOL_SOCKET, SO_PEEK_OFF, &zero, sizeof(zero)) != 0)
		return -errno;
	for (;;) {
		if (s->qlen + 4 + 65536 > cap)
			break;
		ssize_t n = recv(fd, out + s->qlen + 4, 65536, MSG_PEEK | MSG_DONTWAIT);
		if (n < 0)
			break;
		uint32_t len = (uint32_t)n;
		memcpy(out + s->qlen, &len, 4);
		s->qlen += 4 + (uint64_t)n;
		s->nmsg++;
	}
	setsockopt(fd, SOL_SOCKET, SO_PEEK_OFF, &off, sizeof(off));
	return 0;
}

long fd_sock_save(int fd, void **blob)
{
	struct stat st;
	int avail = 0, rcvbuf = opt(fd, SOL_SOCKET, SO_RCVBUF);
	socklen_t len;
	int err;

	/* Room for what can wait in the queue: the bytes there for a stream;
	 * for datagrams at most the receive buffer, plus record headers. */
	ioctl(fd, SIOCINQ, &avail);
	uint64_t cap = opt(fd, SOL_SOCKET, SO_TYPE) == SOCK_STREAM ? (uint64_t)avail + 4
								   : 2 * (uint64_t)rcvbuf + 65536 + 4;
	if (cap > QUEUE_MAX)
		cap = QUEUE_MAX;
	struct fd_sock *s = rt_alloc(sizeof(*s) + cap);
	if (!s || fstat(fd, &st) != 0)
		return -ENOMEM;
	memset(s, 0, sizeof(*s));
	s->ino = st.st_ino;
	s->family = opt(fd, SOL_SOCKET, SO_DOMAIN);
	s->type = opt(fd, SOL_SOCKET, SO_TYPE);
	s->protocol = opt(fd, SOL_SOCKET, SO_PROTOCOL);
	s->sndbuf = opt(fd, SOL_SOCKET, SO_SNDBUF);
	s->rcvbuf = rcvbuf;
	s->reuseaddr = opt(fd, SOL_SOCKET, SO_REUSEADDR);
	s->keepalive = opt(fd, SOL_SOCKET, SO_KEEPALIVE);
	if (s->family == AF_INET || s->family == AF_INET6) {
		int one = 1;
		if (s->type == SOCK_STREAM)
			s->nodelay = opt(fd, IPPROTO_TCP, TCP_NODELAY);
		/* When this process dies, its connections linger in TIME_WAIT
		 * with the flag they had; with it set, the restart can bind the
		 * same ports again at once.  It changes nothing for a socket
		 * that is already bound. */
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	} else if (s->family != AF_UNIX) {
		return -EAFNOSUPPORT;
	}
	len = sizeof(s->addr);
	if (getsockname(fd, (void *)s->addr, &len) == 0)
		s->addr_len = len;
	len = sizeof(s->peer);
	if (getpeername(fd, (void *)s->peer, &len) == 0) {
		s->peer_len = len;
		s->state = FD_SOCK_CONNECTED;
	}
	if (opt(fd, SOL_SOCKET, SO_ACCEPTCONN)) {
		s->state = FD_SOCK_LISTENING;
		s->backlog = 128;
	}
	if (s->family == AF_UNIX)
		s->peer_ino = unix_diag(s->ino, &s->shutdown);
	if (s->state == FD_SOCK_CONNECTED && s->type == SOCK_STREAM && s->family != AF_UNIX) {
		struct tcp_info ti;
		socklen_t tl = sizeof(ti);
		/* This end sent its FIN (shutdown(SHUT_WR) or close in progress). */
		if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &tl) == 0 &&
		    (ti.tcpi_state == TCP_FIN_WAIT1 || ti.tcpi_state == TCP_FIN_WAIT2 ||
		     ti.tcpi_state == TCP_CLOSING || ti.tcpi_state == TCP_LAST_ACK))
			s->shutdown |= 2;
	}
	if (s->family == AF_UNIX && s->peer_ino && s->state != FD_SOCK_LISTENING)
		s->state = FD_SOCK_CONNECTED;
	if (s->state != FD_SOCK_LISTENING &&
	    (err = peek_queue(fd, s, (char *)(s + 1), cap)) != 0)
		return err;
	*blob = s;
	return (long)(sizeof(*s) + s->qlen);
}

static int is_tcp_connected(int fd)
{
	struct stat st;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode))
		return 0;
	int family = opt(fd, SOL_SOCKET, SO_DOMAIN);
	return (family == AF_INET || family == AF_INET6) &&
	       opt(fd, SOL_SOCKET, SO_TYPE) == SOCK_STREAM &&
	       getpeername(fd, (void *)&ss, &len) == 0;
}

void fd_sock_push(int fd)
{
	int old, one = 1;

	if (rt_fd_is_ours(fd) || !is_tcp_connected(fd))
		return;
	old = opt(fd, IPPROTO_TCP, TCP_NODELAY);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &old, sizeof(old));
}

int fd_sock_check_sent(int fd)
{
	int unsent = 0;

	if (rt_fd_is_ours(fd) || !is_tcp_connected(fd))
		return 0;
	for (int i = 0; i < 100; i++) {
		if (ioctl(fd, SIOCOUTQ, &unsent) != 0 || unsent == 0)
			return 0;
		usleep(10000);
	}
	cocoon_error("fd %d: %d bytes sent on this TCP connection are not received yet "
		     "(is the peer's buffer full?): they cannot be saved", fd, unsent);
	return -EAGAIN;
}

/*
 * A datagram the kernel has already handed to a peek once is skipped by
 * later peeks at an offset when it is empty, so a second checkpoint would
 * miss a zero-length datagram.  When both ends of a unix datagram or
 * seqpacket pair are in this process, take the waiting packets out and send
 * them again through the peer: fresh, never-peeked, in the same order.
 * (Across processes the peek stays: see docs/architecture.md.)
 */
void fd_sock_refresh_local(const int *fds, int n)
{
	struct local { int fd; uint64_t ino, peer; } *l;
	char *buf = rt_alloc(1 << 18);
	int nl = 0;

	l = rt_alloc(sizeof(*l) * (size_t)(n + 1));
	if (!l || !buf)
		return;
	for (int i = 0; i < n; i++) {
		struct stat st;
		int32_t shut = 0;
		if (rt_fd_is_ours(fds[i]) || fstat(fds[i], &st) != 0 || !S_ISSOCK(st.st_mode) ||
		    opt(fds[i], SOL_SOCKET, SO_DOMAIN) != AF_UNIX ||
		    opt(fds[i], SOL_SOCKET, SO_TYPE) == SOCK_STREAM)
			continue;
		l[nl] = (struct local){ fds[i], st.st_ino, unix_diag(st.st_ino, &shut) };
		nl++;
	}
	/* A marker behind the waiting packets says when they have all gone
	 * round once (the queue keeps its order). */
	static const char marker[] = "cocoon: end of the queue, 7f3c9a1e5b2d4c68";
	for (int i = 0; i < nl; i++) {
		int peer = -1;
		for (int j = 0; j < nl; j++)
			if (l[i].peer && l[j].ino == l[i].peer)
				peer = l[j].fd;
		if (peer < 0 ||
		    send(peer, marker, sizeof(marker), MSG_DONTWAIT | MSG_NOSIGNAL) != sizeof(marker))
			continue;
		for (;;) {
			ssize_t got = recv(l[i].fd, buf, 1 << 18, MSG_DONTWAIT);
			if (got < 0 || (got == sizeof(marker) && memcmp(buf, marker, sizeof(marker)) == 0))
				break;
			if (send(peer, buf, (size_t)got, MSG_DONTWAIT | MSG_NOSIGNAL) != got)
				break;
		}
	}
}
