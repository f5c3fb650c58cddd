/* SPDX-License-Identifier: MIT */
/*
 * The fd plugin's pseudo-terminals.  A pty whose master is held by a
 * process of the computation (a terminal emulator, expect, script) is made
 * anew by `cocoon restart`, with the saved termios and window size; the
 * processes holding its slave get the new slave, whatever its number now,
 * and a session leader whose controlling terminal it was gets it back (see
 * src/cli/restart-tree.c).  A slave whose master is outside is the user's
 * terminal: re-attached or reopened like any device.  Bytes waiting inside
 * the pty are not kept.  Checkpoint thread only.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "plugins/fd/pty.h"
#include "plugins/pid/pid.h"
#include "runtime/rt.h"
#include "runtime/sys.h"

int fd_pty_is_master(const char *path)
{
	return strcmp(path, "/dev/ptmx") == 0 || strcmp(path, "/dev/pts/ptmx") == 0;
}

uint64_t fd_pty_slave_id(const char *path)
{
	char *end;

	if (strncmp(path, "/dev/pts/", 9) != 0 || path[9] < '0' || path[9] > '9')
		return 0;
	long n = strtol(path + 9, &end, 10);
	return *end ? 0 : FD_PTY_ID(n);
}

long fd_pty_save(int fd, void **blob, uint64_t *id)
{
	struct fd_pty *p = rt_alloc(sizeof(*p));
	unsigned index;

	if (!p)
		return -ENOMEM;
	if (ioctl(fd, TIOCGPTN, &index) != 0 || tcgetattr(fd, &p->termios) != 0 ||
	    ioctl(fd, TIOCGWINSZ, &p->winsize) != 0)
		return -errno;
	*id = FD_PTY_ID(index);
	*blob = p;
	return sizeof(*p);
}

void fd_pty_ctty(int32_t *index, int32_t *fg_vpgid)
{
	char stat[1024];
	int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, stat, sizeof(stat) - 1) : -1;

	*index = -1;
	*fg_vpgid = 0;
	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return;
	stat[n] = 0;
	/* Field 7, tty_nr, counting from the end of "(comm)". */
	char *p = strrchr(stat, ')');
	long tty = 0;
	if (p && sscanf(p + 2, "%*c %*d %*d %*d %ld", &tty) == 1 && tty) {
		unsigned major = ((unsigned long)tty >> 8) & 0xfff;
		unsigned minor = ((unsigned long)tty & 0xff) | (((unsigned long)tty >> 12) & 0xfff00);
		if (major >= 136 && major <= 143)
			*index = (int32_t)((major - 136) * 256 + minor);
	}
	int tty_fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
	if (tty_fd >= 0) {
		pid_t fg = 0; /* ioctl, not tcgetpgrp: the wrapper would translate */
		if (ioctl(tty_fd, TIOCGPGRP, &fg) == 0 && fg > 0)
			*fg_vpgid = pid_to_virtual(fg);
		close(tty_fd);
	}
}

void fd_pty_restore_foreground(int32_t index, int32_t fg_vpgid)
{
	if (index < 0 || fg_vpgid <= 0 ||
	    rt.vpid != pid_to_virtual((int)rt_sys1(SYS_getsid, 0)))
		return; /* only the session leader puts its foreground back */
	int tty_fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (tty_fd < 0)
		return;
	pid_t fg = pid_to_real(fg_vpgid); /* SIGTTOU: blocked in this thread */
	ioctl(tty_fd, TIOCSPGRP, &fg);
	close(tty_fd);
}
