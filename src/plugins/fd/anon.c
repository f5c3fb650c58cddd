/* SPDX-License-Identifier: MIT */
/*
 * The fd plugin's anon-inode fds: eventfd, timerfd, signalfd and epoll
 * (and inotify, whose watches inotify.c describes).
 * Their state is read from /proc/self/fdinfo (and timerfd_gettime) at
 * checkpoint and set again on a new object at restart: counters, masks,
 * timers (relative, so time spent dead does not fire them) and epoll
 * interest lists, which are rebuilt once every other fd is back.
 * Checkpoint thread only; memory from rt_alloc.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>
#ifndef TFD_IOC_SET_TICKS
#define TFD_IOC_SET_TICKS _IOW('T', 0, uint64_t)
#endif

#include "plugins/fd/anon.h"
#include "plugins/fd/inotify.h"
#include "runtime/rt.h"

int fd_anon_kind(const char *link)
{
	if (strcmp(link, "anon_inode:[eventfd]") == 0)
		return FD_EVENTFD;
	if (strcmp(link, "anon_inode:[timerfd]") == 0)
		return FD_TIMERFD;
	if (strcmp(link, "anon_inode:[signalfd]") == 0)
		return FD_SIGNALFD;
	if (strcmp(link, "anon_inode:[eventpoll]") == 0)
		return FD_EPOLL;
	if (strcmp(link, "anon_inode:inotify") == 0)
		return FD_INOTIFY;
	return 0;
}

static char *fdinfo(int fd)
{
	char path[64];
	size_t cap = 1 << 16, n = 0;
	char *buf = rt_alloc(cap);
	int in;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	in = open(path, O_RDONLY | O_CLOEXEC);
	if (!buf || in < 0) {
		if (in >= 0)
			close(in);
		return NULL;
	}
	ssize_t r;
	while (n < cap - 1 && (r = read(in, buf + n, cap - 1 - n)) > 0)
		n += (size_t)r;
	close(in);
	buf[n] = 0;
	return buf;
}

/* The value after "key" in fdinfo text, parsed in base; 0 if absent. */
static uint64_t field(const char *info, const char *key, int base)
{
	const char *p = strstr(info, key);

	return p ? strtoull(p + strlen(key), NULL, base) : 0;
}

/* Describe anon-inode fd in a new blob.  Returns its size, or -errno. */
long fd_anon_save(int fd, int kind, void **blob)
{
	char *info = fdinfo(fd);
	struct fd_anon *a;

	if (!info)
		return -EIO;
	if (kind == FD_INOTIFY)
		return fd_inotify_save(fd, info, blob);
	if (kind == FD_EPOLL) {
		uint32_t n = 0;
		for (const char *p = info; (p = strstr(p, "tfd:")); p++)
			n++;
		a = rt_alloc(sizeof(*a) + n * sizeof(struct fd_epoll_entry));
		if (!a)
			return -ENOMEM;
		memset(a, 0, sizeof(*a));
		struct fd_epoll_entry *e = (void *)(a + 1);
		for (const char *p = info; (p = strstr(p, "tfd:")) && a->n < n; p++) {
			e[a->n].fd = (int32_t)strtol(p + 4, NULL, 10);
			e[a->n].events = (uint32_t)field(p, "events:", 16);
			e[a->n].data = field(p, "data:", 16);
			a->n++;
		}
		*blob = a;
		return (long)(sizeof(*a) + a->n * sizeof(*e));
	}
	a = rt_alloc(sizeof(*a));
	if (!a)
		return -ENOMEM;
	memset(a, 0, sizeof(*a));
	if (kind == FD_EVENTFD) {
		a->count = field(info, "eventfd-count:", 16);
		a->semaphore = (uint32_t)field(info, "eventfd-semaphore:", 10);
	} else if (kind == FD_SIGNALFD) {
		a->mask = field(info, "sigmask:", 16);
	} else if (kind == FD_TIMERFD) {
		struct itimerspec its;
		if (timerfd_gettime(fd, &its) != 0)
			return -errno;
		a->clockid = (int32_t)field(info, "clockid:", 10);
		a->count = field(info, "ticks:", 10);
		a->value_sec = its.it_value.tv_sec;
		a->value_nsec = its.it_value.tv_nsec;
		a->interval_sec = its.it_interval.tv_sec;
		a->interval_nsec = its.it_interval.tv_nsec;
	}
	*blob = a;
	return sizeof(*a);
}

/* A new object like the saved one; returns its fd or -errno.  An epoll
 * set comes back empty: fd_anon_epoll_fill adds its entries later. */
int fd_anon_create(int kind, int flags, const void *blob, uint64_t len)
{
	const struct fd_anon *a = blob;
	int nonblock = flags & O_NONBLOCK, fd = -1;

	if (kind == FD_INOTIFY)
		return fd_inotify_create(flags, blob, len);
	if (len < sizeof(*a))
		return -EINVAL;
	switch (kind) {
	case FD_EVENTFD:
		fd = eventfd(0, (nonblock ? EFD_NONBLOCK : 0) | (a->semaphore ? EFD_SEMAPHORE : 0));
		if (fd >= 0 && a->count) {
			uint64_t v = a->count;
			if (write(fd, &v, sizeof(v)) != sizeof(v)) {
				close(fd);
				return -EIO;
			}
		}
		break;
	case FD_SIGNALFD: {
		sigset_t set;
		sigemptyset(&set);
		for (int sig = 1; sig <= 64; sig++)
			if (a->mask & (1ull << (sig - 1)))
				sigaddset(&set, sig);
		fd = signalfd(-1, &set, nonblock ? SFD_NONBLOCK : 0);
		break;
	}
	case FD_TIMERFD: {
		struct itimerspec its = { { a->interval_sec, a->interval_nsec },
					  { a->value_sec, a->value_nsec } };
		fd = timerfd_create(a->clockid, nonblock ? TFD_NONBLOCK : 0);
		if (fd >= 0 && timerfd_settime(fd, 0, &its, NULL) != 0) {
			close(fd);
			return -errno;
		}
		if (fd >= 0 && a->count)
			ioctl(fd, TFD_IOC_SET_TICKS, &a->count);
		break;
	}
	case FD_EPOLL:
		fd = epoll_create1(0);
		break;
	default:
		return -EINVAL;
	}
	return fd < 0 ? -errno : fd;
}

int fd_anon_epoll_fill(int epfd, const void *blob, uint64_t len)
{
	const struct fd_anon *a = blob;

	if (len < sizeof(*a) || a->n > (len - sizeof(*a)) / sizeof(struct fd_epoll_entry))
		return -EINVAL;
	const struct fd_epoll_entry *e = (const void *)(a + 1);
	for (uint32_t i = 0; i < a->n; i++) {
		struct epoll_event ev = { .events = e[i].events, .data.u64 = e[i].data };
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, e[i].fd, &ev) != 0) {
			cocoon_error("epoll fd %d: cannot watch fd %d again: %s", epfd, e[i].fd,
				     strerror(errno));
			return -errno;
		}
	}
	return 0;
}
