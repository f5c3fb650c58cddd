/* SPDX-License-Identifier: MIT */
/*
 * What the EDA plugins share about a connection to a server outside the
 * computation: its fd number and flags as saved at a checkpoint, and
 * putting a new connection at the same number at a restart.  No malloc, no
 * stdio: for use while the program's threads are stopped.
 */
#ifndef EDA_PLUGIN_CONN_H
#define EDA_PLUGIN_CONN_H

#include <stdint.h>

#pragma GCC visibility push(hidden)

struct saved_conn {
	int32_t fd;       /* the number the program uses */
	int32_t fd_flags; /* F_GETFD: FD_CLOEXEC */
	int32_t fl_flags; /* F_GETFL: O_NONBLOCK */
};

/* Record fd's number and flags; 0 or -errno. */
int conn_save(int fd, struct saved_conn *s);

/* Whether a saved_conn read from an image is plausible. */
int conn_valid(const struct saved_conn *s);

/* Connect to addr and put the connection at s->fd with its old flags, marked
 * external again (the old mark named the old socket); 0 or -errno. */
int conn_replace(const struct saved_conn *s, const char *addr, int timeout_ms);

/* An errno's English description, without locale lookups (no malloc). */
const char *conn_strerror(int err);

#pragma GCC visibility pop

#endif
