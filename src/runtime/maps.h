/* SPDX-License-Identifier: MIT */
/* /proc/self/maps and /proc/self/stat, read without malloc (checkpoint thread). */
#ifndef RT_MAPS_H
#define RT_MAPS_H

#include <stdint.h>

#include "common/image.h"

struct rt_vma {
	uint64_t start, end, offset, inode;
	int prot;
	int shared;
	char path[512]; /* "" for anonymous */
};

/* Read all mappings into an arena array.  Returns the count or -errno. */
int rt_maps_read(struct rt_vma **out);

/* The kernel's mm fields of this process (from /proc/self/stat and brk). */
int rt_mm_read(struct img_mm *mm);

#endif
