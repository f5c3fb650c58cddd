/* SPDX-License-Identifier: MIT */
/* Opening libzstd.so.1 (see zstd-abi.h). */
#include <dlfcn.h>
#include <string.h>

#include "common/zstd-abi.h"

int zstd_load(struct zstd_api *z)
{
	void *lib = dlopen("libzstd.so.1", RTLD_NOW | RTLD_LOCAL);
	static const char *const names[] = {
		"ZSTD_createCCtx_advanced", "ZSTD_CCtx_setParameter", "ZSTD_compressStream2",
		"ZSTD_CStreamOutSize",      "ZSTD_createDCtx",        "ZSTD_freeDCtx",
		"ZSTD_decompressStream",    "ZSTD_DStreamOutSize",    "ZSTD_isError",
		"ZSTD_getErrorName",        "ZSTD_compress2",         "ZSTD_compressBound",
	};
	void *fn[sizeof(names) / sizeof(names[0])];

	memset(z, 0, sizeof(*z));
	if (!lib)
		return -1;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!(fn[i] = dlsym(lib, names[i])))
			return -1;
	/* POSIX: a function pointer fits in a void * (dlsym's contract) */
	memcpy(&z->create_cctx, &fn[0], sizeof(void *));
	memcpy(&z->set, &fn[1], sizeof(void *));
	memcpy(&z->compress, &fn[2], sizeof(void *));
	memcpy(&z->cout_size, &fn[3], sizeof(void *));
	memcpy(&z->create_dctx, &fn[4], sizeof(void *));
	memcpy(&z->free_dctx, &fn[5], sizeof(void *));
	memcpy(&z->decompress, &fn[6], sizeof(void *));
	memcpy(&z->dout_size, &fn[7], sizeof(void *));
	memcpy(&z->is_error, &fn[8], sizeof(void *));
	memcpy(&z->error_name, &fn[9], sizeof(void *));
	memcpy(&z->compress2, &fn[10], sizeof(void *));
	memcpy(&z->bound, &fn[11], sizeof(void *));
	return 0;
}
