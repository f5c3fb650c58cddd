/* SPDX-License-Identifier: MIT */
/*
 * The coordinator wire protocol: one message per line, "VERB key=value ...",
 * values percent-encoded (docs/protocol.md).  Used by the coordinator, the
 * cocoon command and the runtime; allocation-free.
 */
#ifndef COCOON_PROTO_H
#define COCOON_PROTO_H

#include <stddef.h>
#include <stdarg.h>

#define PROTO_LINE_MAX 8192
#define PROTO_MAX_KV 32

struct proto_msg {
	char *verb;
	int n;
	char *key[PROTO_MAX_KV];
	char *val[PROTO_MAX_KV];
};

/* Incoming bytes not yet split into lines. */
struct proto_buf {
	size_t len;
	char data[PROTO_LINE_MAX * 2];
};

/* Percent-encode s (space, '%', '=', control and non-ASCII bytes) into out.
 * Returns out, or "" when it does not fit. */
char *proto_escape(const char *s, char *out, size_t cap);

/* Split a line in place; values are decoded.  Returns 0 or -EINVAL. */
int proto_parse(char *line, struct proto_msg *m);
const char *proto_get(const struct proto_msg *m, const char *key);
long long proto_get_int(const struct proto_msg *m, const char *key, long long dflt);

/* Send one formatted line ('\n' appended).  Returns 0 or -errno. */
int proto_send(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int proto_vsend(int fd, const char *fmt, va_list ap);

/* Move the next complete line out of b into line.  Returns its length,
 * 0 when no full line is buffered, -EMSGSIZE for an over-long line. */
int proto_take_line(struct proto_buf *b, char *line, size_t cap);

/* Blocking read of one line with a timeout (ms, -1 forever).  Returns the
 * length, -ETIMEDOUT, -EPIPE at end of stream, or -errno. */
int proto_read_line(int fd, struct proto_buf *b, char *line, size_t cap, int timeout_ms);

/* "HOST:PORT" or "[V6]:PORT" or "PORT"; host defaults to 127.0.0.1. */
int proto_parse_addr(const char *s, char *host, size_t hcap, int *port);

/* Connect to a numeric IPv4/IPv6 address.  Returns an O_CLOEXEC fd or -errno. */
int proto_connect(const char *host, int port, int timeout_ms);

#endif
