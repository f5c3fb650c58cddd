/* SPDX-License-Identifier: MIT */
/*
 * The runtime's own fds live at the top of the fd table, in
 * [nofile - RT_FD_SPAN, nofile), away from the program's lowest-free
 * allocations; the fd plugin skips them at checkpoint.
 */
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "runtime/rt.h"

static int fd_base(void)
{
	if (!rt.fd_base) {
		struct rlimit rl;
		long top = 1024;
		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
			top = (long)rl.rlim_cur;
		if (top > 65536)
			top = 65536;
		rt.fd_base = (int)(top > 256 ? top - RT_FD_SPAN : 256 - RT_FD_SPAN);
	}
	return rt.fd_base;
}

int rt_fd_take(int fd)
{
	if (fd < 0 || rt_fd_is_ours(fd))
		return fd;
	int n = fcntl(fd, F_DUPFD_CLOEXEC, fd_base());
	if (n < 0)
		return fd; /* keep the low fd rather than lose it */
	close(fd);
	return n;
}

int rt_fd_is_ours(int fd)
{
	return fd >= fd_base() && fd < fd_base() + RT_FD_SPAN;
}
