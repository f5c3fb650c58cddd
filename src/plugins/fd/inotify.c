/* SPDX-License-Identifier: MIT */
/*
 * inotify.  The kernel names a watch by inode and file handle only (opening
 * by handle needs privilege), so the path of every watch the program adds
 * is remembered here (wrapper of inotify_add_watch; process memory, so in
 * the image).  At checkpoint each watch of an inotify fd (from fdinfo) is
 * matched to its path by wd and inode; at restart a new instance gets the
 * same watches under the same wd numbers (wds are handed out in order:
 * placeholder watches, added and removed, move the counter on).  Events
 * waiting at the checkpoint are not kept.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plugins/fd/inotify.h"
#include "runtime/rt.h"

#define MAX_WATCHES 1024

struct watch {
	int wd;
	uint64_t ino;
	char path[PATH_MAX];
};

static struct watch known[MAX_WATCHES];
static rt_spin known_lock = RT_SPIN_INIT;
static int nknown;

RT_EXPORT int inotify_add_watch(int fd, const char *path, uint32_t mask)
{
	char abs[PATH_MAX];
	struct stat st;

	RESOLVED(inotify_add_watch);
	int wd = real_inotify_add_watch(fd, path, mask);
	if (wd < 0 || !rt.active || stat(path, &st) != 0)
		return wd;
	if (path[0] == '/' || !getcwd(abs, sizeof(abs)))
		snprintf(abs, sizeof(abs), "%s", path);
	else
		snprintf(abs + strlen(abs), sizeof(abs) - strlen(abs), "/%s", path);
	rt_spin_lock(&known_lock); /* threads may add watches at once */
	int slot = nknown;
	for (int i = 0; i < nknown; i++)
		if (known[i].wd == wd && known[i].ino == st.st_ino)
			slot = i;
	if (slot < MAX_WATCHES) { /* else the checkpoint says it does not know it */
		known[slot].wd = wd;
		known[slot].ino = st.st_ino;
		snprintf(known[slot].path, sizeof(known[slot].path), "%s", abs);
		if (slot == nknown)
			nknown++;
	}
	rt_spin_unlock(&known_lock);
	return wd;
}

long fd_inotify_save(int fd, const char *info, void **blob)
{
	int n = 0;

	for (const char *p = info; (p = strstr(p, "inotify wd:")); p++)
		n++;
	struct fd_inotify *in = rt_alloc(sizeof(*in) + (size_t)n * sizeof(struct fd_inotify_watch));
	if (!in)
		return -ENOMEM;
	in->n = 0;
	for (const char *p = info; (p = strstr(p, "inotify wd:")); p++) {
		struct fd_inotify_watch *w = &in->w[in->n];
		char *q;
		w->wd = (int32_t)strtol(p + 11, &q, 16);
		uint64_t ino = strtoull(strstr(q, "ino:") + 4, NULL, 16);
		w->mask = (uint32_t)strtoul(strstr(q, "mask:") + 5, NULL, 16);
		w->path[0] = 0;
		for (int i = 0; i < nknown; i++)
			if (known[i].wd == w->wd && known[i].ino == ino)
				snprintf(w->path, sizeof(w->path), "%s", known[i].path);
		if (!w->path[0]) {
			cocoon_error("inotify fd %d: the path of watch %d is unknown", fd, w->wd);
			return -ENOENT;
		}
		in->n++;
	}
	for (uint32_t i = 1; i < in->n; i++) /* restored in wd order */
		for (uint32_t j = i; j > 0 && in->w[j - 1].wd > in->w[j].wd; j--) {
			struct fd_inotify_watch t = in->w[j];
			in->w[j] = in->w[j - 1];
			in->w[j - 1] = t;
		}
	*blob = in;
	return (long)(sizeof(*in) + in->n * sizeof(struct fd_inotify_watch));
}

int fd_inotify_create(int flags, const void *blob, uint64_t len)
{
	const struct fd_inotify *in = blob;
	char drain[4096];

	if (len < sizeof(*in) || in->n > (len - sizeof(*in)) / sizeof(in->w[0]))
		return -EINVAL;
	int fd = inotify_init1(IN_NONBLOCK);
	if (fd < 0)
		return -errno;
	for (uint32_t i = 0; i < in->n; i++) {
		const struct fd_inotify_watch *w = &in->w[i];
		int wd;
		while ((wd = real_inotify_add_watch(fd, w->path, w->mask)) >= 0 && wd < w->wd)
			inotify_rm_watch(fd, wd); /* a placeholder: move the counter on */
		if (wd != w->wd) {
			cocoon_error("inotify: cannot watch %s again as wd %d: %s", w->path, w->wd,
				     wd < 0 ? strerror(errno) : "another number");
			close(fd);
			return wd < 0 ? -errno : -EEXIST;
		}
	}
	while (read(fd, drain, sizeof(drain)) > 0)
		; /* IN_IGNORED events of the placeholders */
	if (!(flags & O_NONBLOCK))
		fcntl(fd, F_SETFL, 0);
	return fd;
}
