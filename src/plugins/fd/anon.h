/* SPDX-License-Identifier: MIT */
/* Anon-inode fds of the fd plugin (anon.c). */
#ifndef FD_ANON_H
#define FD_ANON_H

#include <stdint.h>

#include "plugins/fd/fd.h"

/* FD_EVENTFD... for a /proc/self/fd link like "anon_inode:[eventfd]", else 0. */
int fd_anon_kind(const char *link);
long fd_anon_save(int fd, int kind, void **blob);
int fd_anon_create(int kind, int flags, const void *blob, uint64_t len);
int fd_anon_epoll_fill(int epfd, const void *blob, uint64_t len);

#endif
