/* SPDX-License-Identifier: MIT */
/*
 * Runtime logging.  Warnings go to stderr as "cocoon: ..."; with
 * COCOON_LOG=debug every line also goes to CKPT_DIR/cocoon-NAME-PID.log.
 * vsnprintf + write only: safe on the checkpoint thread with threads suspended.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "runtime/rt.h"
#include "runtime/sys.h"
#include "common/config.h"

static void emit(int fd, const char *prefix, const char *fmt, va_list ap)
{
	char line[1024];
	int n = snprintf(line, sizeof(line), "%s", prefix);

	n += vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	rt_sys3(SYS_write, fd, line, n);
}

void rt_log_open(void)
{
	const char *lvl = getenv(ENV_LOG);
	char path[4200];

	rt.log_fd = -1;
	if (!lvl || strcmp(lvl, "debug") != 0 || !rt.ckpt_dir[0])
		return;
	snprintf(path, sizeof(path), "%s/cocoon-%s-%d.log", rt.ckpt_dir, rt.progname,
		 rt_getpid());
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd >= 0)
		rt.log_fd = rt_fd_take(fd);
}

void rt_log(const char *fmt, ...)
{
	va_list ap;
	char prefix[64];
	struct timespec ts;

	if (rt.log_fd < 0)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(prefix, sizeof(prefix), "%ld.%06ld [%d] ", (long)ts.tv_sec, ts.tv_nsec / 1000,
		 rt_gettid());
	va_start(ap, fmt);
	emit(rt.log_fd, prefix, fmt, ap);
	va_end(ap);
}

void rt_warn(const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	emit(2, "cocoon: ", fmt, ap);
	va_end(ap);
	if (rt.log_fd >= 0) {
		va_start(ap, fmt);
		emit(rt.log_fd, "warning: ", fmt, ap);
		va_end(ap);
	}
	errno = saved;
}
