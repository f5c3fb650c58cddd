/* SPDX-License-Identifier: MIT */
/*
 * The checkpoint image format (docs/image-format.md says it in prose).
 *
 * Shared by the runtime (writer), the restorer (reader, no libc), and the
 * cocoon command (restart validation, inspect).  Everything here is plain
 * data and pure functions: no libc beyond what a freestanding build has.
 *
 * Layout of one image file:
 *   [0, 4096)          struct img_header, zero padded
 *   [4096, meta_off)   data: page runs of every region, then plugin sections;
 *                      each region's data starts page aligned
 *   [meta_off, +len)   metadata: regions[nregions], runs[nruns],
 *                      threads[nthreads], sections[nsections], strings
 * All integers are little-endian, the host's (x86-64 only for now).
 */
#ifndef COCOON_IMAGE_H
#define COCOON_IMAGE_H

#include <stdint.h>
#include <stddef.h>

#define IMG_MAGIC "COCOONIM"
#define IMG_VERSION 2
#define IMG_ARCH_X86_64 1
#define IMG_PAGE 4096UL
#define IMG_HEADER_SIZE 4096UL

/* Upper bounds a reader enforces before trusting counts from a file. */
#define IMG_MAX_REGIONS 65536u
#define IMG_MAX_THREADS 8192u
#define IMG_MAX_SECTIONS 256u
#define IMG_MAX_META (256ul << 20)
#define IMG_USER_TOP 0x800000000000ul /* x86-64 4-level user address limit */

/* Region flags. */
#define IMG_R_PRIVATE 0x0001u  /* MAP_PRIVATE (else MAP_SHARED) */
#define IMG_R_FILE 0x0002u     /* backed by the file at path */
#define IMG_R_STACK 0x0004u    /* the main thread's [stack] */
#define IMG_R_HEAP 0x0008u     /* [heap] */
#define IMG_R_NEED_FILE 0x0010u /* pages not stored must come from the file */
#define IMG_R_GROWSDOWN 0x0020u
#define IMG_R_SYSV 0x0040u /* System V shared memory: file_ino = shmid, file_off =
			    * key, file_size = segment size, file_mtime_ns = mode */

/* Thread flags. */
#define IMG_T_MAIN 0x1u
#define IMG_T_CKPT 0x2u

/* Values of the kernel's mm fields, restored with PR_SET_MM_MAP. */
struct img_mm {
	uint64_t start_code, end_code, start_data, end_data;
	uint64_t start_brk, brk, start_stack;
	uint64_t arg_start, arg_end, env_start, env_end;
};

struct img_header {
	char magic[8];
	uint32_t version;
	uint32_t arch;
	uint32_t header_size; /* sizeof(struct img_header) */
	uint32_t page_size;
	uint64_t file_size; /* whole file, to catch truncation */
	uint64_t meta_off, meta_len, meta_sum;
	uint64_t generation;
	int32_t vpid, real_pid, vppid;
	uint32_t nthreads, nregions, nruns, nsections;
	uint32_t strings_len;
	uint64_t restart_entry; /* runtime function the restorer jumps to */
	uint64_t restart_stack; /* top of the stack it runs on */
	uint64_t main_fsbase;   /* TLS register of the main thread */
	uint64_t vdso_start, vdso_end; /* [vdso] */
	uint64_t vvar_start, vvar_end; /* [vvar] and [vvar_vclock], contiguous */
	struct img_mm mm;
	uint64_t time_ns; /* CLOCK_REALTIME at checkpoint */
	char hostname[64];
	char progname[64];
	int32_t vpgid, vsid; /* process group and session, virtual */
	uint32_t flags;       /* IMG_F_* */
	uint32_t nrefs;       /* entries in refs[]: pages kept in earlier images */
	uint64_t stored_size; /* IMG_F_ZSTD: the file's real size */
	uint32_t ndeps;       /* entries in deps[]: the earlier images refs[] use */
	uint32_t pad;
	uint64_t header_sum; /* img_sum of this struct with header_sum = 0 */
};

/* Everything after the header block is one zstd stream (cocoon launch
 * --compress); file_size and every offset are those of the stream
 * decompressed behind the header.  Readers decompress first (src/cli/
 * image-open.c): only an uncompressed image reaches the restorer. */
#define IMG_F_ZSTD 0x1u
/* Only in the placeholder header that starts a streamed image (cocoon
 * launch --image-stream): the real header is the stream's last
 * IMG_HEADER_SIZE bytes.  Readers move it to offset 0 (src/cli/
 * image-open.c); such a header never reaches the checks below. */
#define IMG_F_STREAM 0x2u

struct img_region {
	uint64_t start, end;
	uint32_t prot;  /* PROT_* */
	uint32_t flags; /* IMG_R_* */
	uint64_t file_off;
	uint64_t file_size, file_mtime_ns, file_ino; /* to detect a changed file */
	uint32_t path_off, path_len; /* into strings; 0,0 when none */
	uint64_t data_off; /* file offset of the first stored page */
	uint64_t npages;   /* pages stored */
	uint32_t run_first, nruns; /* into runs[] */
	uint64_t data_sum; /* img_sum over the stored pages in order */
};

/* A run of consecutive stored pages, relative to the region start. */
struct img_run {
	uint64_t page;
	uint64_t npages;
};

/* Incremental images (cocoon launch --incremental): pages of region
 * `region` not written since an earlier checkpoint are read from that
 * checkpoint's image, deps[dep], at src_off (page aligned). */
struct img_ref {
	uint64_t page, npages; /* relative to the region start */
	uint64_t src_off;
	uint32_t region, dep;
};

/* An earlier image refs[] read from: its path relative to the checkpoint
 * directory ("gen-NNNNNN/NAME-VPID.img"), and what identifies it. */
struct img_dep {
	char path[240];
	uint64_t header_sum, file_size;
};

struct img_thread {
	int32_t vtid, tid;
	uint32_t flags;
	uint32_t pad;
	uint64_t fsbase;
};

struct img_section {
	char name[32];
	uint64_t off, len, sum;
};

/* 64-bit checksum, four independent lanes so it runs near memory speed.
 * img_sum_update takes any length; feed page runs in order. */
struct img_sum {
	uint64_t lane[4];
	uint64_t total;
	uint8_t tail[32];
	uint32_t ntail;
};
void img_sum_init(struct img_sum *s);
void img_sum_update(struct img_sum *s, const void *buf, size_t len);
uint64_t img_sum_final(const struct img_sum *s);
uint64_t img_sum(const void *buf, size_t len);

/* Pointers into a metadata block that img_meta_check has validated. */
struct img_meta {
	const struct img_region *regions;
	const struct img_run *runs;
	const struct img_thread *threads;
	const struct img_section *sections;
	const struct img_ref *refs;
	const struct img_dep *deps;
	const char *strings;
};

#define IMG_MAX_DEPS 64

/* Validation.  Each returns 0 or a positive IMG_E* code; img_strerror
 * turns it into words.  Nothing from a file is used before these pass. */
enum img_err {
	IMG_OK = 0,
	IMG_E_SHORT = 1,   /* file shorter than its header says */
	IMG_E_MAGIC = 2,   /* not a Cocoon image */
	IMG_E_VERSION = 3, /* written by a newer Cocoon */
	IMG_E_ARCH = 4,    /* other architecture */
	IMG_E_HEADER_SUM = 5,
	IMG_E_META_SUM = 6,
	IMG_E_LAYOUT = 7, /* counts, offsets or addresses out of bounds */
	IMG_E_DATA_SUM = 8,
	IMG_E_COMPRESSED = 9, /* compressed: decompress before use */
	IMG_E_NO_ZSTD = 10,   /* compressed, and libzstd.so.1 is missing */
};
/* The header of an uncompressed image whose file has actual_file_size
 * bytes (IMG_E_COMPRESSED for a compressed one). */
int img_header_check(const struct img_header *h, uint64_t actual_file_size);
/* The header of a compressed image as stored (the file's size). */
int img_header_check_compressed(const struct img_header *h, uint64_t actual_file_size);
int img_meta_check(const struct img_header *h, const void *meta, struct img_meta *out);
const char *img_strerror(int err);
uint64_t img_header_sum(const struct img_header *h);

#endif
