/* SPDX-License-Identifier: MIT */
/*
 * Paths the program opens.  After `cocoon restart --path-map OLD=NEW`, a
 * path under OLD is opened under NEW.  And /proc/PID/... paths name virtual
 * pids: a path that starts with /proc/N
 * (and /proc/N/task/M) where N is a virtual pid of the computation is
 * opened under the process's real pid.  Only the path is translated; what
 * the files say (the Pid: line of status, say) is the kernel's, real.
 * Hot path: one prefix compare per call when the path is elsewhere.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/pathmap.h"
#include "plugins/pid/pid.h"
#include "runtime/rt.h"

/* Rewrite /proc/VPID[/task/VTID]... into buf, or a path under a
 * `cocoon restart --path-map` OLD directory; returns buf, or path itself
 * when there is nothing to translate. */
static const char *real_path(const char *path, char *buf, size_t cap)
{
	char *end;

	if (!rt.active || !path)
		return path;
	if (rt.rargs.path_map[0] && path[0] == '/' &&
	    pathmap_apply(rt.rargs.path_map, path, buf, cap) == 1)
		return buf;
	if (strncmp(path, "/proc/", 6) != 0 || path[6] < '1' || path[6] > '9')
		return path;
	long v = strtol(path + 6, &end, 10);
	if (*end && *end != '/')
		return path;
	int real = pid_to_real((int)v);
	const char *rest = end;
	char task[64] = "";
	if (strncmp(rest, "/task/", 6) == 0 && rest[6] >= '1' && rest[6] <= '9') {
		long t = strtol(rest + 6, &end, 10);
		if (!*end || *end == '/') {
			snprintf(task, sizeof(task), "/task/%d", tid_to_real((int)t));
			rest = end;
		}
	}
	if (real == v && !task[0])
		return path;
	if (snprintf(buf, cap, "/proc/%d%s%s", real, task, rest) >= (int)cap)
		return path;
	return buf;
}

#define MODE_ARG(flags, mode)                                   \
	do {                                                    \
		if ((flags) & (O_CREAT | __O_TMPFILE)) {        \
			va_list ap;                             \
			va_start(ap, flags);                    \
			mode = va_arg(ap, int);                 \
			va_end(ap);                             \
		}                                               \
	} while (0)

RT_EXPORT int open(const char *path, int flags, ...)
{
	char buf[4096];
	int mode = 0;

	RESOLVED(open);
	MODE_ARG(flags, mode);
	return real_open(real_path(path, buf, sizeof(buf)), flags, mode);
}

RT_EXPORT int open64(const char *path, int flags, ...)
{
	char buf[4096];
	int mode = 0;

	RESOLVED(open64);
	MODE_ARG(flags, mode);
	return real_open64(real_path(path, buf, sizeof(buf)), flags, mode);
}

RT_EXPORT int openat(int dir, const char *path, int flags, ...)
{
	char buf[4096];
	int mode = 0;

	RESOLVED(openat);
	MODE_ARG(flags, mode);
	return real_openat(dir, real_path(path, buf, sizeof(buf)), flags, mode);
}

RT_EXPORT int openat64(int dir, const char *path, int flags, ...)
{
	char buf[4096];
	int mode = 0;

	RESOLVED(openat64);
	MODE_ARG(flags, mode);
	return real_openat64(dir, real_path(path, buf, sizeof(buf)), flags, mode);
}

RT_EXPORT FILE *fopen(const char *path, const char *how)
{
	char buf[4096];

	RESOLVED(fopen);
	return real_fopen(real_path(path, buf, sizeof(buf)), how);
}

RT_EXPORT FILE *fopen64(const char *path, const char *how)
{
	char buf[4096];

	RESOLVED(fopen64);
	return real_fopen64(real_path(path, buf, sizeof(buf)), how);
}

RT_EXPORT DIR *opendir(const char *path)
{
	char buf[4096];

	RESOLVED(opendir);
	return real_opendir(real_path(path, buf, sizeof(buf)));
}

RT_EXPORT ssize_t readlink(const char *path, char *out, size_t cap)
{
	char buf[4096];

	RESOLVED(readlink);
	return real_readlink(real_path(path, buf, sizeof(buf)), out, cap);
}

RT_EXPORT int access(const char *path, int how)
{
	char buf[4096];

	RESOLVED(access);
	return real_access(real_path(path, buf, sizeof(buf)), how);
}

RT_EXPORT int stat(const char *path, struct stat *st)
{
	char buf[4096];

	RESOLVED(stat);
	return real_stat(real_path(path, buf, sizeof(buf)), st);
}

RT_EXPORT int lstat(const char *path, struct stat *st)
{
	char buf[4096];

	RESOLVED(lstat);
	return real_lstat(real_path(path, buf, sizeof(buf)), st);
}
