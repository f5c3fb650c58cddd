/* SPDX-License-Identifier: MIT */
/*
 * Small socket helpers shared by the EDA example's programs, libraries and
 * plugins: numeric addresses, connect with a timeout, a listening socket,
 * and one-line requests and replies.  None of them calls malloc or stdio,
 * so the plugins may use them while the program's threads are stopped.
 * Every file that uses them gets its own hidden copy.
 */
#ifndef EDA_NET_H
#define EDA_NET_H

#include <netinet/in.h>
#include <stddef.h>

#pragma GCC visibility push(hidden)

/* Longest request or reply line, newline excluded. */
#define EDA_LINE_MAX 4352

/* "A.B.C.D:PORT" or "localhost:PORT" into sa; 0 or -EINVAL. */
int eda_parse_addr(const char *addr, struct sockaddr_in *sa);

/* A TCP connection to addr (O_CLOEXEC, blocking); the fd or -errno.
 * timeout_ms < 0: wait as long as connect(2) does. */
int eda_connect(const char *addr, int timeout_ms);

/* A socket listening on 127.0.0.1:port (0: any free port); the fd or
 * -errno, the port actually bound in *bound. */
int eda_listen(int port, int *bound);

/* All of buf to fd (no SIGPIPE); 0 or -errno. */
int eda_write_all(int fd, const void *buf, size_t len);

/* One line from fd into buf (NUL-terminated, newline and any CR removed),
 * never consuming a byte past the newline; its length, or -ETIMEDOUT,
 * -ECONNRESET (the peer closed), -EMSGSIZE (longer than cap - 1: what was
 * read is consumed), -errno.  timeout_ms < 0: no timeout. */
int eda_read_line(int fd, char *buf, size_t cap, int timeout_ms);

/* Send request and a newline, then read the one reply line; as
 * eda_read_line, and -ENAMETOOLONG/-EINVAL for a request too long or
 * holding a newline. */
int eda_request(int fd, const char *request, char *reply, size_t cap, int timeout_ms);

#pragma GCC visibility pop

#endif
