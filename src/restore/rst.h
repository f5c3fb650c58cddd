/* SPDX-License-Identifier: MIT */
/*
 * What the restorer's files share.  Everything here runs in the restorer:
 * one thread, no libc, a static stack in .bss, no signal handlers.
 */
#ifndef COCOON_RESTORE_RST_H
#define COCOON_RESTORE_RST_H

#include <stddef.h>
#include <stdint.h>

#include "common/image.h"
#include "common/restart.h"

/* The restorer is one static executable: every symbol is local to it, so a
 * -fpie build reaches them pc-relative, never through a GOT. */
#pragma GCC visibility push(hidden)

/* Fixed spots inside the window (the restorer's own ELF sits at its start). */
#define RST_SCRATCH_VDSO (RST_WINDOW + (448ul << 20)) /* vdso/vvar in transit */
#define RST_SCRATCH_META (RST_WINDOW + (512ul << 20)) /* up to IMG_MAX_META */
#define RST_SCRATCH_TABLE (RST_WINDOW + (832ul << 20)) /* the restart table */
#define RST_MAX_TABLE (128ul << 20)

#define RST_MAX_VMAS 256

enum rst_vma_kind { VMA_OTHER, VMA_VVAR, VMA_VDSO, VMA_VSYSCALL };

struct rst_vma {
	uint64_t start, end;
	int kind; /* [vvar] and [vvar_vclock] are both VMA_VVAR */
};

/* Our own mappings, as /proc/self/maps showed them at startup. */
struct rst_maps {
	struct rst_vma vma[RST_MAX_VMAS];
	int n;
	uint64_t vvar_start, vvar_end, vdso_start, vdso_end; /* 0 when absent */
};

extern struct rst_args rst_args;

/* lib.c: one message line is built up, then written to fd 2 at once. */
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
void rst_put(const char *s);
void rst_put_hex(uint64_t v);
void rst_put_err(long err);
void rst_begin(void); /* "cocoon: restore: IMAGE: " */
void rst_end(void);   /* newline, write the line */
__attribute__((noreturn)) void rst_fail(void); /* rst_end, exit_group(1) */
__attribute__((noreturn)) void rst_die(const char *what, long err);

/* mem.c */
int rst_read_maps(struct rst_maps *m);
const char *rst_vdso_check(const struct rst_maps *m, const struct img_header *h);
void rst_park_vdso(const struct rst_maps *m, const struct img_header *h);
void rst_unmap_all(const struct rst_maps *m);
void rst_place_vdso(const struct rst_maps *m, const struct img_header *h);
void rst_load_region(const struct img_region *r, const struct img_meta *meta, int img_fd,
		     uint32_t nrefs);
/* The earlier images of an incremental one, open (meta->deps order). */
extern int rst_dep_fd[IMG_MAX_DEPS];
/* The checkpoint thread's TLS base: its stack region is not mapped from the
 * image by --fast (that thread writes the next image from it, and must find
 * its stack and TLS in one piece). */
extern uint64_t rst_ckpt_fsbase;
/* The restart table, mapped read-only (NULL without one). */
extern struct rst_table *rst_table;

/* start.S: switch to the runtime's stack and call entry(args); never returns. */
__attribute__((noreturn)) void rst_jump(uint64_t stack, uint64_t entry, struct rst_args *args);

#pragma GCC visibility pop

#endif
