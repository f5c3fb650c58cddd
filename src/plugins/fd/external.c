/* SPDX-License-Identifier: MIT */
/*
 * fds a plugin marked as leading outside the computation
 * (cocoon_fd_external): a checkpoint neither drains nor saves them, and a
 * restart leaves /dev/null at their number for the plugin to replace.  A
 * mark names the fd and the file it held, so it ends by itself when the
 * program closes the fd and the number gets reused.
 *
 * Marks are set by program threads at any time and read by the checkpoint
 * thread while those threads may be stopped anywhere: no locks, a slot is
 * claimed with a compare-and-swap and published by its fd.
 */
#include <errno.h>
#include <stdatomic.h>
#include <sys/stat.h>

#include "cocoon.h"
#include "plugins/fd/external.h"
#include "runtime/rt.h"

#define MAX_EXTERNAL 64

static struct mark {
	_Atomic int fd; /* -1 free, -2 being filled */
	dev_t dev;
	ino_t ino;
} marks[MAX_EXTERNAL] = { [0 ... MAX_EXTERNAL - 1] = { .fd = -1 } };

static int held_by(const struct mark *m, const struct stat *st)
{
	return m->dev == st->st_dev && m->ino == st->st_ino;
}

/* Its fd was closed, or now holds another file. */
static int stale(const struct mark *m, int fd)
{
	struct stat st;

	return fstat(fd, &st) != 0 || !held_by(m, &st);
}

int cocoon_fd_external(int fd)
{
	struct stat st;

	if (fd < 0 || rt_fd_is_ours(fd) || fstat(fd, &st) != 0)
		return -EBADF;
	if (fd_external_is(fd, &st))
		return 0;
	for (int i = 0; i < MAX_EXTERNAL; i++) {
		int cur = atomic_load(&marks[i].fd);
		if (cur >= 0 && !stale(&marks[i], cur))
			continue;
		if (cur == -2 || !atomic_compare_exchange_strong(&marks[i].fd, &cur, -2))
			continue;
		marks[i].dev = st.st_dev;
		marks[i].ino = st.st_ino;
		atomic_store(&marks[i].fd, fd);
		return 0;
	}
	return -ENOSPC;
}

int fd_external_is(int fd, const struct stat *st)
{
	for (int i = 0; i < MAX_EXTERNAL; i++)
		if (atomic_load(&marks[i].fd) == fd && held_by(&marks[i], st))
			return 1;
	return 0;
}
