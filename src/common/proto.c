/* SPDX-License-Identifier: MIT */
/*
 * Line protocol helpers (see proto.h).  No allocation: the runtime calls
 * these from its checkpoint thread while user threads may hold malloc's lock.
 */
#include "common/proto.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int needs_escape(unsigned char c)
{
	return c <= ' ' || c >= 0x7f || c == '%' || c == '=';
}

char *proto_escape(const char *s, char *out, size_t cap)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (o + (needs_escape(c) ? 3 : 1) + 1 > cap)
			goto overflow;
		if (needs_escape(c)) {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		} else {
			out[o++] = (char)c;
		}
	}
	if (o + 1 > cap)
		goto overflow;
	out[o] = 0;
	return out;
overflow:
	if (cap)
		out[0] = 0;
	return out;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static void unescape(char *s)
{
	char *o = s;

	for (; *s; s++) {
		if (*s == '%' && hexval(s[1]) >= 0 && hexval(s[2]) >= 0) {
			*o++ = (char)(hexval(s[1]) << 4 | hexval(s[2]));
			s += 2;
		} else {
			*o++ = *s;
		}
	}
	*o = 0;
}

int proto_parse(char *line, struct proto_msg *m)
{
	char *save = NULL, *tok;

	m->n = 0;
	m->verb = strtok_r(line, " \t\r\n", &save);
	if (!m->verb)
		return -EINVAL;
	while ((tok = strtok_r(NULL, " \t\r\n", &save))) {
		char *eq = strchr(tok, '=');
		if (!eq || m->n == PROTO_MAX_KV)
			return -EINVAL;
		*eq = 0;
		unescape(eq + 1);
		m->key[m->n] = tok;
		m->val[m->n] = eq + 1;
		m->n++;
	}
	return 0;
}

const char *proto_get(const struct proto_msg *m, const char *key)
{
	for (int i = 0; i < m->n; i++)
		if (strcmp(m->key[i], key) == 0)
			return m->val[i];
	return NULL;
}

long long proto_get_int(const struct proto_msg *m, const char *key, long long dflt)
{
	const char *v = proto_get(m, key);
	char *end;

	if (!v || !*v)
		return dflt;
	long long x = strtoll(v, &end, 10);
	return *end ? dflt : x;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == ENOTSOCK)
			w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int proto_vsend(int fd, const char *fmt, va_list ap)
{
	char line[PROTO_LINE_MAX];
	int n = vsnprintf(line, sizeof(line) - 1, fmt, ap);

	if (n < 0 || n >= (int)sizeof(line) - 1)
		return -EMSGSIZE;
	line[n++] = '\n';
	return write_all(fd, line, (size_t)n);
}

int proto_send(int fd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int r = proto_vsend(fd, fmt, ap);
	va_end(ap);
	return r;
}

int proto_take_line(struct proto_buf *b, char *line, size_t cap)
{
	char *nl = memchr(b->data, '\n', b->len);

	if (!nl)
		return b->len >= sizeof(b->data) ? -EMSGSIZE : 0;
	size_t n = (size_t)(nl - b->data);
	if (n + 1 > cap)
		return -EMSGSIZE;
	memcpy(line, b->data, n);
	line[n] = 0;
	b->len -= n + 1;
	memmove(b->data, nl + 1, b->len);
	return n == 0 ? proto_take_line(b, line, cap) : (int)n;
}

int proto_read_line(int fd, struct proto_buf *b, char *line, size_t cap, int timeout_ms)
{
	for (;;) {
		int n = proto_take_line(b, line, cap);
		if (n != 0)
			return n;
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int r = poll(&p, 1, timeout_ms);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -ETIMEDOUT;
		ssize_t got = read(fd, b->data + b->len, sizeof(b->data) - b->len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return -errno;
		if (got == 0)
			return -EPIPE;
		b->len += (size_t)got;
	}
}

int proto_parse_addr(const char *s, char *host, size_t hcap, int *port)
{
	const char *colon;
	size_t hlen;
	int bracketed = s && s[0] == '[';

	if (!s || !*s)
		return -EINVAL;
	if (bracketed) {
		const char *close = strchr(s, ']');
		if (!close || close[1] != ':')
			return -EINVAL;
		hlen = (size_t)(close - s - 1);
		s++;
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		hlen = colon ? (size_t)(colon - s) : 0;
	}
	if (hlen + 1 > hcap || (bracketed && hlen == 0) || (!bracketed && memchr(s, ':', hlen)))
		return -EINVAL;
	if (hlen) {
		memcpy(host, s, hlen);
		host[hlen] = 0;
	} else {
		snprintf(host, hcap, "%s", "127.0.0.1");
	}
	const char *ps = colon ? colon + 1 : s;
	char *end;
	if (*ps < '0' || *ps > '9')
		return -EINVAL;
	long p = strtol(ps, &end, 10);
	if (!*ps || *end || p < 0 || p > 65535)
		return -EINVAL;
	*port = (int)p;
	return 0;
}

int proto_connect(const char *host, int port, int timeout_ms)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t len;
	struct sockaddr_in *v4 = (void *)&ss;
	struct sockaddr_in6 *v6 = (void *)&ss;

	if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)port);
		len = sizeof(*v4);
	} else if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)port);
		len = sizeof(*v6);
	} else {
		return -EINVAL;
	}
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	/* Our local port may be one a restored socket must bind later (ports
	 * are shared between connections to different peers): with this flag
	 * our TIME_WAIT leftovers do not stand in its way. */
	int reuse = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &reuse, sizeof(reuse));
	if (connect(fd, (void *)&ss, len) < 0 && errno != EINPROGRESS)
		goto err_close;
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	int r;
	while ((r = poll(&p, 1, timeout_ms)) < 0 && errno == EINTR)
		;
	if (r == 0)
		errno = ETIMEDOUT;
	if (r <= 0)
		goto err_close;
	int soerr = 0;
	socklen_t sl = sizeof(soerr);
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
	if (soerr) {
		errno = soerr;
		goto err_close;
	}
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	return fd;
err_close:;
	int e = errno;
	close(fd);
	return -e;
}
