/* SPDX-License-Identifier: MIT */
/*
 * The checkpoint thread's scratch memory: one lazily-committed mapping,
 * bump-allocated, created for a checkpoint or restart and dropped after.
 * The image writer skips it, so it never lands in an image.
 */
#include <sys/mman.h>
#include <sys/prctl.h>

#ifndef PR_SET_VMA
#define PR_SET_VMA 0x53564d41
#define PR_SET_VMA_ANON_NAME 0
#endif

#include "runtime/rt.h"

#define ARENA_SIZE (1ul << 30)

static char *arena;
static size_t used;

int rt_arena_reset(void)
{
	if (!arena) {
		void *p = mmap(NULL, ARENA_SIZE, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (p == MAP_FAILED)
			return -1;
		/* A flag of its own keeps the kernel from merging the arena into a
		 * neighbouring mapping, which the image writer would then save. */
		madvise(p, ARENA_SIZE, MADV_DONTDUMP);
		prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, (unsigned long)p, ARENA_SIZE,
		      (unsigned long)"cocoon-arena");
		arena = p;
	}
	used = 0;
	return 0;
}

void *rt_alloc(size_t n)
{
	n = (n + 63) & ~(size_t)63;
	if (!arena || n > ARENA_SIZE - used)
		return NULL;
	void *p = arena + used;
	used += n;
	return p;
}

int rt_arena_contains(uint64_t start, uint64_t end)
{
	return arena && start >= (uint64_t)arena && end <= (uint64_t)arena + ARENA_SIZE;
}

void rt_arena_release(void)
{
	if (arena)
		munmap(arena, ARENA_SIZE);
	arena = NULL;
	used = 0;
}

void rt_arena_forget(void)
{
	arena = NULL;
	used = 0;
}
