/* SPDX-License-Identifier: MIT */
/*
 * Reconnecting an external connection at its old fd number (plugin-conn.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "cocoon.h"
#include "eda-net.h"
#include "plugin-conn.h"

#define MAX_FD_NUMBER (1 << 20)

int conn_save(int fd, struct saved_conn *s)
{
	int fdfl = fcntl(fd, F_GETFD), flfl = fcntl(fd, F_GETFL);

	if (fdfl < 0 || flfl < 0)
		return -errno;
	s->fd = fd;
	s->fd_flags = fdfl;
	s->fl_flags = flfl;
	return 0;
}

int conn_valid(const struct saved_conn *s)
{
	return s->fd >= 0 && s->fd < MAX_FD_NUMBER && (s->fd_flags & ~FD_CLOEXEC) == 0;
}

int conn_replace(const struct saved_conn *s, const char *addr, int timeout_ms)
{
	int fd = eda_connect(addr, timeout_ms), err = 0;

	if (fd < 0)
		return fd;
	if (fd != s->fd) {
		if (dup3(fd, s->fd, s->fd_flags & FD_CLOEXEC ? O_CLOEXEC : 0) < 0)
			err = -errno;
		close(fd);
	} else if (fcntl(fd, F_SETFD, s->fd_flags) < 0) {
		err = -errno;
	}
	if (!err && fcntl(s->fd, F_SETFL, s->fl_flags & O_NONBLOCK) < 0)
		err = -errno;
	if (!err)
		err = cocoon_fd_external(s->fd);
	return err;
}

const char *conn_strerror(int err)
{
	const char *d = strerrordesc_np(err);

	return d ? d : "unknown error";
}
