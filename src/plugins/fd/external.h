/* SPDX-License-Identifier: MIT */
/* fds marked external by a plugin (cocoon_fd_external): external.c. */
#ifndef FD_EXTERNAL_H
#define FD_EXTERNAL_H

#include <sys/stat.h>

/* 1 if fd, which holds the file st describes, is marked external. */
int fd_external_is(int fd, const struct stat *st);

#endif
