/* SPDX-License-Identifier: MIT */
/* inotify fds of the fd plugin (inotify.c). */
#ifndef FD_INOTIFY_H
#define FD_INOTIFY_H

#include <limits.h>
#include <stdint.h>

struct fd_inotify_watch {
	int32_t wd;
	uint32_t mask;
	char path[PATH_MAX];
};

struct fd_inotify {
	uint32_t n;
	uint32_t pad;
	struct fd_inotify_watch w[];
};

/* Describe the watches of inotify fd (its fdinfo text) in a new blob. */
long fd_inotify_save(int fd, const char *info, void **blob);
/* A new inotify fd with the same watches under the same wds, or -errno. */
int fd_inotify_create(int flags, const void *blob, uint64_t len);

#endif
