/* SPDX-License-Identifier: MIT */
/* Pseudo-terminals of the fd plugin (pty.c). */
#ifndef FD_PTY_H
#define FD_PTY_H

#include <stdint.h>

#include "plugins/fd/fd.h"

/* Is this /proc/self/fd link a pty master (/dev/ptmx)? */
int fd_pty_is_master(const char *path);
/* FD_PTY_ID of a /dev/pts/N path, else 0. */
uint64_t fd_pty_slave_id(const char *path);
/* Termios and window size of master fd in a new blob; its id in *id. */
long fd_pty_save(int fd, void **blob, uint64_t *id);
/* This process's controlling terminal, if a pty, and its foreground group. */
void fd_pty_ctty(int32_t *index, int32_t *fg_vpgid);
/* After restart: give the foreground back to the same process group. */
void fd_pty_restore_foreground(int32_t index, int32_t fg_vpgid);

#endif
