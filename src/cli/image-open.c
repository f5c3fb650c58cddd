/* SPDX-License-Identifier: MIT */
/*
 * Opening an image for reading: a compressed one (cocoon launch --compress)
 * is decompressed into a memfd first, laid out exactly as if it had been
 * written uncompressed, so that everything after -- validation, inspect,
 * the restorer, which has no libc to decompress with -- sees one format.
 * The zstd frame's own checksum and the image's checksums catch damage.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/image.h"
#include "common/zstd-abi.h"

#define IN_CHUNK (1 << 20)

/* Decompress from fd (after the header) into out; 0 or an IMG_E_* code. */
static int inflate(int fd, int out, const struct img_header *h)
{
	static struct zstd_api z;
	if (!z.decompress && zstd_load(&z) != 0)
		return IMG_E_NO_ZSTD;
	void *d = z.create_dctx();
	size_t out_cap = z.dout_size() * 4, last = 1;
	char *in_buf = malloc(IN_CHUNK), *out_buf = malloc(out_cap);
	uint64_t pos = IMG_HEADER_SIZE, written = IMG_HEADER_SIZE;
	int err = IMG_OK;

	if (!d || !in_buf || !out_buf) {
		err = IMG_E_SHORT;
		goto out;
	}
	while (pos < h->stored_size && !err) {
		ssize_t n = pread(fd, in_buf, IN_CHUNK, (off_t)pos);
		if (n <= 0) {
			err = IMG_E_SHORT;
			break;
		}
		pos += (uint64_t)n;
		struct zstd_in in = { in_buf, (size_t)n, 0 };
		while (in.pos < in.size && !err) {
			struct zstd_out o = { out_buf, out_cap, 0 };
			last = z.decompress(d, &o, &in);
			if (z.is_error(last) || written + o.pos > h->file_size)
				err = IMG_E_DATA_SUM;
			else if (pwrite(out, out_buf, o.pos, (off_t)written) != (ssize_t)o.pos)
				err = IMG_E_SHORT;
			written += o.pos;
		}
	}
	if (!err && (last != 0 || written != h->file_size))
		err = IMG_E_SHORT; /* the stream ended early */
out:
	if (d)
		z.free_dctx(d);
	free(in_buf);
	free(out_buf);
	return err;
}

int cli_image_open(const char *path, int *img_err, int *in_memory)
{
	struct img_header h;
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC), out;

	*img_err = IMG_OK;
	if (in_memory)
		*in_memory = 0;
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	memset(&h, 0, sizeof(h));
	if (pread(fd, &h, sizeof(h), 0) < 0 || memcmp(h.magic, IMG_MAGIC, 8) != 0 ||
	    !(h.flags & IMG_F_ZSTD))
		return fd; /* not compressed (or not an image): checked later */
	if ((*img_err = img_header_check_compressed(&h, (uint64_t)st.st_size))) {
		close(fd);
		return -EIO;
	}
	out = memfd_create("cocoon-image", MFD_CLOEXEC);
	if (out < 0 || ftruncate(out, (off_t)h.file_size) != 0) {
		int e = -errno;
		close(fd);
		if (out >= 0)
			close(out);
		return e;
	}
	*img_err = inflate(fd, out, &h);
	close(fd);
	h.flags &= ~IMG_F_ZSTD;
	h.stored_size = 0;
	h.header_sum = img_header_sum(&h);
	if (!*img_err && pwrite(out, &h, sizeof(h), 0) != sizeof(h))
		*img_err = IMG_E_SHORT;
	if (*img_err) {
		close(out);
		return -EIO;
	}
	if (in_memory)
		*in_memory = 1;
	return out;
}
