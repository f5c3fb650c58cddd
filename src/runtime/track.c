/* SPDX-License-Identifier: MIT */
/*
 * Write tracking for incremental checkpoints (cocoon launch --incremental).
 *
 * After a checkpoint, every private anonymous mapping is registered with a
 * userfaultfd in asynchronous write-protect mode and write-protected; the
 * kernel then notes each page written (no fault reaches us), and at the
 * next checkpoint PAGEMAP_SCAN lists them.  A page not written since is
 * where the location table says: in an earlier image (kept in the new one
 * as a reference), or zero.  The tables and the registry of images they
 * point into live in a mapping of their own, which images do not contain.
 *
 * Where the kernel cannot do that (before Linux 6.7, userfaultfd off), or
 * with COCOON_TRACK=hash, the tables also keep a hash of every page, and a
 * page whose hash changed counts as written: the checkpoint reads all the
 * memory but still writes only what changed.
 *
 * Anything that breaks the chain -- a failed generation, a forked
 * checkpoint (the copy's mappings lose the tracking), a restart, a fork,
 * eight incremental checkpoints in a row, a full registry -- makes the next
 * checkpoint a full one, which starts a new chain.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/userfaultfd.h>

#include "common/config.h"
#include "common/image.h"
#include "runtime/maps.h"
#include "runtime/rt.h"
#include "runtime/sys.h"
#include "runtime/track.h"

/* Newer than Debian 12's kernel headers (Linux 6.7). */
#ifndef UFFD_FEATURE_WP_ASYNC
#define UFFD_FEATURE_WP_UNPOPULATED (1 << 13)
#define UFFD_FEATURE_WP_ASYNC (1 << 15)
#endif
#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif

#define MAX_CHAIN 8 /* incremental checkpoints before a full one */
#define LOC_DEP_SHIFT 48
#define LOC_OFF_MASK ((1ull << LOC_DEP_SHIFT) - 1)

/* A tracked mapping and where each of its pages is (see track.h). */
struct tvma {
	uint64_t start, end;
	uint64_t *loc;
	uint64_t *hash; /* hash mode: per page, 0 when absent */
};

static struct {
	int on;     /* incremental checkpoints asked for and possible */
	int hash;   /* by page hashes (else the kernel tracks writes) */
	int uffd;   /* the userfaultfd that tracks writes, or -1 */
	int valid;  /* the tables describe the last complete generation */
	int chain;  /* incremental checkpoints since the last full one */
	struct tvma *v;
	int nv;
	void *map;
	size_t map_len;
	struct img_dep reg[IMG_MAX_DEPS]; /* images the tables point into */
	int nreg;
	/* being built by the checkpoint in progress */
	struct tvma *nv_v;
	int nv_n, nv_cap;
	void *nv_map;
	size_t nv_map_len;
	uint64_t *nv_next; /* next free loc slot */
} tk = { .uffd = -1 };

int rt_track_init(void)
{
	struct uffdio_api api = { .api = UFFD_API,
				  .features = UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_WP_UNPOPULATED };
	const char *env = getenv(ENV_INCREMENTAL), *how = getenv(ENV_TRACK);

	if (!env || strcmp(env, "1") != 0)
		return 0;
	tk.on = 1;
	tk.hash = how && strcmp(how, "hash") == 0;
	if (tk.hash)
		return 0;
	int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
	if (fd < 0 || ioctl(fd, UFFDIO_API, &api) != 0 ||
	    (api.features & (UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_WP_UNPOPULATED)) !=
		    (UFFD_FEATURE_WP_ASYNC | UFFD_FEATURE_WP_UNPOPULATED)) {
		rt_log("no asynchronous write protection: pages are compared by hash");
		if (fd >= 0)
			close(fd);
		tk.hash = 1;
		return 0;
	}
	tk.uffd = rt_fd_take(fd);
	return 0;
}

int rt_track_contains(uint64_t start, uint64_t end)
{
	uint64_t a = (uint64_t)tk.map, b = (uint64_t)tk.nv_map;
	return (tk.map && start >= a && end <= a + tk.map_len) ||
	       (tk.nv_map && start >= b && end <= b + tk.nv_map_len);
}

void rt_track_lost(int inherited_fd)
{
	/* after fork or restart: the userfaultfd and its registrations are not
	 * ours (or gone), and the tables were not in the image; start again */
	if (inherited_fd && tk.uffd >= 0)
		close(tk.uffd);
	if (inherited_fd && tk.map)
		munmap(tk.map, tk.map_len); /* the parent's tables, copied */
	int wanted = tk.on;
	tk.uffd = -1;
	tk.on = 0;
	tk.map = tk.nv_map = NULL;
	tk.v = tk.nv_v = NULL;
	tk.nv = tk.nv_n = 0;
	tk.valid = 0;
	tk.chain = 0;
	if (wanted)
		rt_track_init();
}

static int trackable(const struct rt_vma *v)
{
	return !v->shared && !v->path[0] && (v->prot & PROT_WRITE) &&
	       !rt_arena_contains(v->start, v->end) && !rt_track_contains(v->start, v->end);
}

int rt_track_begin(const struct rt_vma *vmas, int n, int forked)
{
	size_t pages = 0, len;

	tk.nv_map = NULL;
	if (!tk.on)
		return 0;
	if (forked) {
		/* the copy writes the image: its tables would never come back */
		tk.valid = 0;
		tk.chain = 0;
		return 0;
	}
	if (tk.chain >= MAX_CHAIN || tk.nreg >= IMG_MAX_DEPS - 1)
		tk.valid = 0;
	for (int i = 0; i < n; i++)
		if (trackable(&vmas[i]))
			pages += (vmas[i].end - vmas[i].start) / IMG_PAGE;
	len = ((size_t)n * sizeof(struct tvma) + pages * (tk.hash ? 16 : 8) + 4095) & ~4095ul;
	/* a named memfd, so that the mapping says whose it is in /proc/PID/maps */
	int fd = memfd_create("cocoon-track", MFD_CLOEXEC);
	void *m = fd < 0 || ftruncate(fd, (off_t)len) != 0
			  ? MAP_FAILED
			  : mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (fd >= 0)
		close(fd);
	if (m == MAP_FAILED)
		return -ENOMEM;
	tk.nv_map = m;
	tk.nv_map_len = len;
	tk.nv_v = m;
	tk.nv_n = 0;
	tk.nv_cap = n;
	tk.nv_next = (uint64_t *)(tk.nv_v + n);
	return 0;
}

/* Hash mode: hash every page of t now; those whose hash differs from the
 * old table's (or that came or went) are the written ones. */
static int hash_region(struct tvma *t, const struct tvma *old, struct rt_track_region *out,
		       struct page_region *vec, size_t vec_cap)
{
	uint64_t npages = (t->end - t->start) / IMG_PAGE, pm[512];
	const uint64_t *old_hash = old ? old->hash + (t->start - old->start) / IMG_PAGE : NULL;
	size_t got = 0;
	int pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC), err = 0;

	if (pagemap < 0)
		return 0;
	for (uint64_t base = 0; base < npages && !err; base += 512) {
		uint64_t n = npages - base < 512 ? npages - base : 512;
		if (pread(pagemap, pm, n * 8, (off_t)((t->start / IMG_PAGE + base) * 8)) !=
		    (ssize_t)(n * 8)) {
			err = 1;
			break;
		}
		for (uint64_t i = 0; i < n; i++) {
			uint64_t page = base + i, addr = t->start + page * IMG_PAGE;
			int present = (pm[i] >> 62) != 0; /* present or swapped */
			t->hash[page] = present ? img_sum((const void *)addr, IMG_PAGE) | 1 : 0;
			if (!old_hash || t->hash[page] == old_hash[page])
				continue;
			if (got && vec[got - 1].end == addr) {
				vec[got - 1].end += IMG_PAGE;
			} else if (got == vec_cap) {
				err = 1; /* too scattered to list: save it all */
				break;
			} else {
				vec[got++] = (struct page_region){ addr, addr + IMG_PAGE, PAGE_IS_WRITTEN };
			}
		}
	}
	close(pagemap);
	if (old_hash && !err) {
		out->old_loc = old->loc + (t->start - old->start) / IMG_PAGE;
		out->written = vec;
		out->nwritten = got;
	}
	return 0;
}

/* The old table covering [start, end), or NULL. */
static const struct tvma *old_table(uint64_t start, uint64_t end)
{
	for (int i = 0; tk.valid && i < tk.nv; i++)
		if (start >= tk.v[i].start && end <= tk.v[i].end)
			return &tk.v[i];
	return NULL;
}

int rt_track_region(const struct rt_vma *v, struct rt_track_region *out, struct page_region *vec,
		    size_t vec_cap)
{
	memset(out, 0, sizeof(*out));
	if (!tk.nv_map || !trackable(v) || tk.nv_n == tk.nv_cap)
		return 0;
	struct tvma *t = &tk.nv_v[tk.nv_n++];
	t->start = v->start;
	t->end = v->end;
	uint64_t npages = (v->end - v->start) / IMG_PAGE;
	t->loc = tk.nv_next;
	tk.nv_next += npages;
	t->hash = NULL;
	if (tk.hash) {
		t->hash = tk.nv_next;
		tk.nv_next += npages;
	}
	out->new_loc = t->loc;
	const struct tvma *old = old_table(v->start, v->end);
	if (tk.hash)
		return hash_region(t, old, out, vec, vec_cap);
	if (!old)
		return 0;
	/* the pages written since the last checkpoint */
	struct pm_scan_arg a = { .size = sizeof(a), .start = v->start, .end = v->end,
				 .vec = (uint64_t)vec, .vec_len = vec_cap,
				 .category_mask = PAGE_IS_WRITTEN, .return_mask = PAGE_IS_WRITTEN };
	size_t got = 0;
	int pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (pagemap < 0)
		return 0;
	while (a.start < v->end && got < vec_cap) {
		a.vec = (uint64_t)(vec + got);
		a.vec_len = vec_cap - got;
		long r = ioctl(pagemap, PAGEMAP_SCAN, &a);
		if (r < 0) {
			close(pagemap);
			return 0; /* cannot tell: save it all */
		}
		got += (size_t)r;
		if (a.walk_end <= a.start)
			break;
		a.start = a.walk_end;
	}
	close(pagemap);
	if (a.start < v->end && got == vec_cap)
		return 0; /* too scattered to list: save it all */
	out->old_loc = old->loc + (v->start - old->start) / IMG_PAGE;
	out->written = vec;
	out->nwritten = got;
	return 0;
}

uint64_t rt_track_loc(int dep, uint64_t off)
{
	return ((uint64_t)(dep + 1) << LOC_DEP_SHIFT) | off;
}

int rt_track_loc_dep(uint64_t loc)
{
	return (int)(loc >> LOC_DEP_SHIFT) - 1;
}

uint64_t rt_track_loc_off(uint64_t loc)
{
	return loc & LOC_OFF_MASK;
}

int rt_track_self(void)
{
	return tk.valid ? tk.nreg : 0;
}

const struct img_dep *rt_track_dep(int i)
{
	return i >= 0 && i < tk.nreg ? &tk.reg[i] : NULL;
}

/* Write-protect every tracked mapping: from now on the kernel notes writes. */
static int arm(void)
{
	for (int i = 0; i < tk.nv; i++) {
		struct uffdio_register reg = {
			.range = { tk.v[i].start, tk.v[i].end - tk.v[i].start },
			.mode = UFFDIO_REGISTER_MODE_WP,
		};
		struct uffdio_writeprotect wp = { .range = reg.range,
						  .mode = UFFDIO_WRITEPROTECT_MODE_WP };
		if ((ioctl(tk.uffd, UFFDIO_REGISTER, &reg) != 0 && errno != EBUSY) ||
		    ioctl(tk.uffd, UFFDIO_WRITEPROTECT, &wp) != 0)
			return -errno;
	}
	return 0;
}

void rt_track_written(const char *rel_path, const struct img_header *h)
{
	if (!tk.nv_map)
		return;
	int self = rt_track_self();
	if (!tk.valid)
		tk.nreg = 0; /* a full checkpoint: a new chain */
	struct img_dep *d = &tk.reg[self];
	memset(d, 0, sizeof(*d));
	snprintf(d->path, sizeof(d->path), "%s", rel_path);
	d->header_sum = h->header_sum;
	d->file_size = h->file_size;
	tk.nreg = self + 1;
	tk.chain = tk.valid ? tk.chain + 1 : 0;
	if (tk.map)
		munmap(tk.map, tk.map_len);
	tk.map = tk.nv_map;
	tk.map_len = tk.nv_map_len;
	tk.v = tk.nv_v;
	tk.nv = tk.nv_n;
	tk.nv_map = NULL;
	tk.valid = tk.hash || arm() == 0;
}

void rt_track_failed(void)
{
	if (tk.nv_map)
		munmap(tk.nv_map, tk.nv_map_len);
	tk.nv_map = NULL;
	tk.valid = 0;
	tk.chain = 0;
}
