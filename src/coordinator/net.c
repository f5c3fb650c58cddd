/* SPDX-License-Identifier: MIT */
/*
 * Coordinator connections: the listening socket, accepting, reading lines,
 * sending lines, dropping and freeing clients.
 *
 * Sockets stay blocking for writes (bounded by SO_SNDTIMEO, so a client that
 * stops reading is dropped instead of wedging the loop) and are read with
 * MSG_DONTWAIT.  Input is bounded by struct proto_buf; an over-long line or
 * a line that does not parse drops the client.
 */
#include "coordinator/coord.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

int coord_listen(const char *bind_addr, int port, int *fd_out)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV };
	struct addrinfo *ai;
	char ps[16];
	int fd, one = 1, r;

	snprintf(ps, sizeof(ps), "%d", port);
	if (getaddrinfo(bind_addr, ps, &hints, &ai) != 0)
		return -EADDRNOTAVAIL;
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		r = -errno;
		goto err_free;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 128) < 0) {
		r = -errno;
		goto err_close;
	}
	freeaddrinfo(ai);
	*fd_out = fd;
	return 0;
err_close:
	close(fd);
err_free:
	freeaddrinfo(ai);
	return r;
}

static void tune_socket(int fd)
{
	struct timeval tv = { .tv_sec = COORD_SEND_TIMEOUT_MS / 1000,
			      .tv_usec = COORD_SEND_TIMEOUT_MS % 1000 * 1000 };
	int one = 1, idle = 30, intvl = 10, cnt = 3;

	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* notice a vanished host without a checkpoint timeout */
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
}

static void peer_name(int fd, char *out, size_t cap)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char h[64], s[16];

	snprintf(out, cap, "fd %d", fd);
	if (getpeername(fd, (void *)&ss, &len) == 0 &&
	    getnameinfo((void *)&ss, len, h, sizeof(h), s, sizeof(s),
			NI_NUMERICHOST | NI_NUMERICSERV) == 0)
		snprintf(out, cap, "%s:%s", h, s);
}

void coord_accept(struct coord *co)
{
	for (;;) {
		int fd = accept4(co->lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				coord_warn("accept: %s", strerror(errno));
			return;
		}
		struct client *c = co->nclients < COORD_MAX_CLIENTS ? calloc(1, sizeof(*c)) : NULL;
		if (!c) {
			coord_warn("too many connections (%d), refusing one", co->nclients);
			close(fd);
			continue;
		}
		c->fd = fd;
		c->role = ROLE_NEW;
		c->since_ms = coord_now_ms();
		peer_name(fd, c->peer, sizeof(c->peer));
		tune_socket(fd);
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
		if (epoll_ctl(co->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			coord_warn("epoll_ctl: %s", strerror(errno));
			close(fd);
			free(c);
			continue;
		}
		co->clients[co->nclients++] = c;
		coord_debug(co, "%s: connected", c->peer);
	}
}

/* Debug log of one parsed message, without the secret. */
static void log_msg(struct coord *co, struct client *c, const struct proto_msg *m)
{
	char line[1024], esc[512];
	size_t o;

	if (!co->debug)
		return;
	o = (size_t)snprintf(line, sizeof(line), "%s", m->verb);
	for (int i = 0; i < m->n && o < sizeof(line); i++) {
		const char *v = strcmp(m->key[i], "secret") ? m->val[i] : "***";
		o += (size_t)snprintf(line + o, sizeof(line) - o, " %s=%s", m->key[i],
				      proto_escape(v, esc, sizeof(esc)));
	}
	coord_debug(co, "%s <- %s", c->peer, line);
}

void coord_readable(struct coord *co, struct client *c)
{
	char line[PROTO_LINE_MAX];
	struct proto_msg m;
	ssize_t got;
	int n;

	got = recv(c->fd, c->in.data + c->in.len, sizeof(c->in.data) - c->in.len, MSG_DONTWAIT);
	if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (got <= 0) {
		coord_drop(co, c, got == 0 ? NULL : strerror(errno));
		return;
	}
	c->in.len += (size_t)got;
	while (!c->dead && (n = proto_take_line(&c->in, line, sizeof(line))) != 0) {
		if (n < 0) {
			coord_warn("%s: line too long, dropping the connection", c->peer);
			coord_drop(co, c, "line too long");
			return;
		}
		if (proto_parse(line, &m) < 0) {
			coord_warn("%s: malformed message, dropping the connection", c->peer);
			coord_drop(co, c, "malformed message");
			return;
		}
		log_msg(co, c, &m);
		coord_dispatch(co, c, &m);
	}
}

int coord_send(struct coord *co, struct client *c, const char *fmt, ...)
{
	char line[PROTO_LINE_MAX];
	va_list ap;
	int n, r;

	if (c->dead)
		return -EPIPE;
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0 || n >= (int)sizeof(line) - 1) {
		coord_warn("%s: message too long, not sent", c->peer);
		return -EMSGSIZE;
	}
	coord_debug(co, "%s -> %s", c->peer, line);
	r = proto_send(c->fd, "%s", line);
	if (r < 0)
		coord_drop(co, c, strerror(-r));
	return r;
}

/* Mark c dead: no more events, no more sends.  What its loss means (a failed
 * checkpoint, one process fewer) is worked out later by coord_reap(). */
void coord_drop(struct coord *co, struct client *c, const char *why)
{
	if (c->dead)
		return;
	c->dead = true;
	epoll_ctl(co->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	if (c->role == ROLE_PROC)
		coord_debug(co, "%s: process %lld (%s) gone%s%s", c->peer, c->vpid, c->name,
			    why ? ": " : "", why ? why : "");
	else
		coord_debug(co, "%s: closed%s%s", c->peer, why ? ": " : "", why ? why : "");
}

/* Account for a dead client once: may send to (and so kill) others. */
static void client_gone(struct coord *co, struct client *c)
{
	c->gone = true;
	coord_restart_watch_gone(co, c);
	if (c->role != ROLE_PROC)
		return;
	co->nprocs--;
	if (co->nprocs == 0)
		co->empty_since_ms = coord_now_ms();
	coord_ckpt_lost(co, c);
	coord_restart_lost(co, c);
}

void coord_reap(struct coord *co)
{
	bool again = true;
	int j = 0;

	while (again) {
		again = false;
		for (int i = 0; i < co->nclients; i++) {
			struct client *c = co->clients[i];
			if (c->dead && !c->gone) {
				client_gone(co, c);
				again = true;
			}
		}
	}
	for (int i = 0; i < co->nclients; i++) {
		struct client *c = co->clients[i];
		if (c->dead) {
			close(c->fd);
			free(c);
		} else {
			co->clients[j++] = c;
		}
	}
	co->nclients = j;
}
