/* SPDX-License-Identifier: MIT */
/* Write tracking for incremental checkpoints (track.c). */
#ifndef RT_TRACK_H
#define RT_TRACK_H

#include <stddef.h>
#include <stdint.h>

#include <linux/fs.h>

#include "common/image.h"

/* PAGEMAP_SCAN: newer than Debian 12's kernel headers (Linux 6.7). */
#ifndef PAGEMAP_SCAN
struct page_region {
	uint64_t start, end, categories;
};
struct pm_scan_arg {
	uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages;
	uint64_t category_inverted, category_mask, category_anyof_mask, return_mask;
};
#define PAGEMAP_SCAN _IOWR('f', 16, struct pm_scan_arg)
#define PAGE_IS_WRITTEN (1 << 1)
#endif

struct rt_vma;

/* At start-up: 0, or -ENOTSUP (warned) when the kernel cannot track. */
int rt_track_init(void);
/* The tables' own memory, which images leave out. */
int rt_track_contains(uint64_t start, uint64_t end);
/* The next checkpoint is a full one (a failed generation, a restart). */
void rt_track_failed(void);
/* In a new process (fork: the parent's userfaultfd was inherited; restart:
 * it is gone): nothing tracked is ours; track again from the next (full)
 * checkpoint. */
void rt_track_lost(int inherited_fd);

/* A checkpoint begins writing the mappings vmas[0..n). */
int rt_track_begin(const struct rt_vma *vmas, int n, int forked);

/* What the writer needs for one mapping.  A location: 0 for a zero page,
 * else the image (rt_track_loc_dep: index in the registry) and the offset
 * there of the page's contents. */
struct rt_track_region {
	uint64_t *new_loc;       /* to fill, one per page (NULL: not tracked) */
	const uint64_t *old_loc; /* per page, as of the last checkpoint (NULL: save all) */
	const struct page_region *written; /* pages written since, sorted ranges */
	size_t nwritten;
};
int rt_track_region(const struct rt_vma *v, struct rt_track_region *out, struct page_region *vec,
		    size_t vec_cap);
uint64_t rt_track_loc(int dep, uint64_t off);
int rt_track_loc_dep(uint64_t loc);
uint64_t rt_track_loc_off(uint64_t loc);
/* The registry index of the image being written, and registry entries. */
int rt_track_self(void);
const struct img_dep *rt_track_dep(int i);
/* The image (path relative to the checkpoint directory) is written: its
 * tables become the reference, and writes are tracked from now on. */
void rt_track_written(const char *rel_path, const struct img_header *h);

#endif
