/* SPDX-License-Identifier: MIT */
/*
 * libzstd, opened at run time (libzstd.so.1 is on every Debian system, its
 * headers are not): the few calls Cocoon uses, with the types and constants
 * of zstd.h 1.5 (a stable ABI).  zstd_load() fills a table of them.
 */
#ifndef COMMON_ZSTD_ABI_H
#define COMMON_ZSTD_ABI_H

#include <stddef.h>

struct zstd_mem {
	void *(*alloc)(void *opaque, size_t n);
	void (*free)(void *opaque, void *p);
	void *opaque;
};
struct zstd_in {
	const void *src;
	size_t size, pos;
};
struct zstd_out {
	void *dst;
	size_t size, pos;
};
enum {
	ZSTD_LEVEL = 100,   /* ZSTD_c_compressionLevel */
	ZSTD_CHECKSUM = 201, /* ZSTD_c_checksumFlag */
	ZSTD_CONTINUE = 0,  /* ZSTD_e_continue */
	ZSTD_END = 2,       /* ZSTD_e_end */
};

struct zstd_api {
	void *(*create_cctx)(struct zstd_mem mem); /* ZSTD_createCCtx_advanced */
	size_t (*set)(void *cctx, int param, int value);
	size_t (*compress)(void *cctx, struct zstd_out *out, struct zstd_in *in, int end_op);
	size_t (*cout_size)(void);
	void *(*create_dctx)(void);
	size_t (*free_dctx)(void *dctx);
	size_t (*decompress)(void *dctx, struct zstd_out *out, struct zstd_in *in);
	size_t (*dout_size)(void);
	unsigned (*is_error)(size_t code);
	const char *(*error_name)(size_t code);
	size_t (*compress2)(void *cctx, void *dst, size_t cap, const void *src, size_t size);
	size_t (*bound)(size_t size);
};

/* 0, or -1 when libzstd.so.1 or one of its calls is missing. */
int zstd_load(struct zstd_api *z);

#endif
