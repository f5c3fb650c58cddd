/* SPDX-License-Identifier: MIT */
/*
 * Socket helpers of the EDA example (see eda-net.h): no malloc, no stdio,
 * no getaddrinfo, so plugins can call them while threads are stopped.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "eda-net.h"

int eda_parse_addr(const char *addr, struct sockaddr_in *sa)
{
	char host[64];
	const char *colon;
	char *end;
	unsigned long port;
	size_t hlen;

	if (!addr || !(colon = strrchr(addr, ':')))
		return -EINVAL;
	hlen = (size_t)(colon - addr);
	if (hlen == 0 || hlen >= sizeof(host))
		return -EINVAL;
	memcpy(host, addr, hlen);
	host[hlen] = 0;
	if (strcmp(host, "localhost") == 0)
		strcpy(host, "127.0.0.1");
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno || end == colon + 1 || *end || port == 0 || port > 65535)
		return -EINVAL;
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &sa->sin_addr) != 1)
		return -EINVAL;
	return 0;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

/* Wait until fd is ready for events; 1, 0 on timeout, -errno. */
static int wait_ready(int fd, short events, long deadline)
{
	struct pollfd p = { .fd = fd, .events = events };
	int left, n;

	for (;;) {
		left = deadline < 0 ? -1 : (int)(deadline - now_ms());
		if (deadline >= 0 && left < 0)
			left = 0;
		n = poll(&p, 1, left);
		if (n >= 0)
			return n;
		if (errno != EINTR)
			return -errno;
	}
}

int eda_connect(const char *addr, int timeout_ms)
{
	struct sockaddr_in sa;
	socklen_t elen = sizeof(int);
	int fd, err, soerr = 0;

	if ((err = eda_parse_addr(addr, &sa)))
		return err;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (errno != EINPROGRESS) {
			err = -errno;
			goto fail;
		}
		err = wait_ready(fd, POLLOUT, timeout_ms < 0 ? -1 : now_ms() + timeout_ms);
		if (err <= 0) {
			err = err ? err : -ETIMEDOUT;
			goto fail;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &elen) < 0)
			soerr = errno;
		if (soerr) {
			err = -soerr;
			goto fail;
		}
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0) {
		err = -errno;
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return err;
}

int eda_listen(int port, int *bound)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int fd, one = 1, err;

	if (port < 0 || port > 65535)
		return -EINVAL;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 16) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	*bound = ntohs(sa.sin_port);
	return fd;
}

int eda_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t w = send(fd, p, len, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Consume exactly len bytes that a peek has shown are there. */
static int consume(int fd, char *buf, size_t len)
{
	while (len) {
		ssize_t n = recv(fd, buf, len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ECONNRESET;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int eda_read_line(int fd, char *buf, size_t cap, int timeout_ms)
{
	long deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	size_t len = 0;
	int err;

	if (cap < 2)
		return -EINVAL;
	for (;;) {
		ssize_t n;
		char *nl;
		size_t take;

		if (deadline >= 0) {
			err = wait_ready(fd, POLLIN, deadline);
			if (err <= 0)
				return err ? err : -ETIMEDOUT;
		}
		n = recv(fd, buf + len, cap - 1 - len, MSG_PEEK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ECONNRESET;
		nl = memchr(buf + len, '\n', (size_t)n);
		take = nl ? (size_t)(nl - (buf + len)) + 1 : (size_t)n;
		if ((err = consume(fd, buf + len, take)))
			return err;
		len += take;
		if (nl) {
			buf[--len] = 0;
			if (len && buf[len - 1] == '\r')
				buf[--len] = 0;
			return (int)len;
		}
		if (len == cap - 1) {
			buf[len] = 0;
			return -EMSGSIZE;
		}
	}
}

int eda_request(int fd, const char *request, char *reply, size_t cap, int timeout_ms)
{
	char line[EDA_LINE_MAX + 2];
	size_t len = strlen(request);
	int err;

	if (len > EDA_LINE_MAX)
		return -ENAMETOOLONG;
	if (memchr(request, '\n', len))
		return -EINVAL;
	memcpy(line, request, len);
	line[len++] = '\n';
	if ((err = eda_write_all(fd, line, len)))
		return err;
	return eda_read_line(fd, reply, cap, timeout_ms);
}
