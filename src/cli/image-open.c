/* SPDX-License-Identifier: MIT */
/*
 * Opening an image for reading: a compressed one (cocoon launch --compress)
 * is decompressed into a memfd first, laid out exactly as if it had been
 * written uncompressed, so that everything after -- validation, inspect,
 * the restorer, which has no libc to decompress with -- sees one format.
 * A streamed one (cocoon launch --image-stream: header last) is read into
 * a memfd and its header put first; cocoon restart --image-stream reads
 * the images from a command instead of files.
 * The zstd frame's own checksum and the image's checksums catch damage.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
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

/* A copy of fd's contents in a new memfd (fd is closed), or -errno. */
static int to_memfd(int fd)
{
	int out = memfd_create("cocoon-image", MFD_CLOEXEC);
	char *buf = malloc(IN_CHUNK);
	ssize_t n = 0;

	if (out < 0 || !buf) {
		n = -(out < 0 ? errno : ENOMEM);
	} else {
		while ((n = read(fd, buf, IN_CHUNK)) > 0 || (n < 0 && errno == EINTR))
			if (n > 0 && write(out, buf, (size_t)n) != n) {
				n = -1;
				break;
			}
		n = n < 0 ? -errno : 0;
	}
	free(buf);
	close(fd);
	if (n && out >= 0)
		close(out);
	return n ? (int)n : out;
}

/* A streamed image (header last, see IMG_F_STREAM), in a memfd of ours:
 * its real header goes to offset 0, the file ends before it. */
static int unstream(int fd, int *img_err)
{
	char *h = malloc(IMG_HEADER_SIZE);
	struct stat st;

	*img_err = IMG_E_SHORT;
	if (h && fstat(fd, &st) == 0 && (uint64_t)st.st_size >= 2 * IMG_HEADER_SIZE &&
	    pread(fd, h, IMG_HEADER_SIZE, st.st_size - (off_t)IMG_HEADER_SIZE) ==
		    (ssize_t)IMG_HEADER_SIZE &&
	    pwrite(fd, h, IMG_HEADER_SIZE, 0) == (ssize_t)IMG_HEADER_SIZE &&
	    ftruncate(fd, st.st_size - (off_t)IMG_HEADER_SIZE) == 0)
		*img_err = IMG_OK;
	free(h);
	return *img_err ? -EIO : 0;
}

int cli_image_prepare(int fd, int owned, int *img_err, int *in_memory)
{
	struct img_header h;
	struct stat st;
	int out;

	*img_err = IMG_OK;
	if (in_memory)
		*in_memory = owned;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	memset(&h, 0, sizeof(h));
	if (pread(fd, &h, sizeof(h), 0) < 0 || memcmp(h.magic, IMG_MAGIC, 8) != 0)
		return fd; /* not an image: checked later */
	if (h.flags & IMG_F_STREAM) {
		if (!owned && (fd = to_memfd(fd)) < 0)
			return fd;
		if (in_memory)
			*in_memory = 1;
		if (unstream(fd, img_err) || pread(fd, &h, sizeof(h), 0) != sizeof(h) ||
		    fstat(fd, &st) != 0) {
			*img_err = IMG_E_SHORT;
			close(fd);
			return -EIO;
		}
	}
	if (!(h.flags & IMG_F_ZSTD))
		return fd; /* not compressed: checked later */
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

int cli_image_open(const char *path, int *img_err, int *in_memory)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	*img_err = IMG_OK;
	if (fd < 0)
		return -errno;
	return cli_image_prepare(fd, 0, img_err, in_memory);
}

int cli_image_stream(const char *cmd, const char *name, const char *ckpt_dir)
{
	int p[2], status;

	if (pipe2(p, O_CLOEXEC) != 0) {
		cli_error("restart: image stream: %s", strerror(errno));
		return -1;
	}
	pid_t pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		setenv("COCOON_IMAGE", name, 1);
		setenv("COCOON_CKPT_DIR", ckpt_dir, 1);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	int fd = pid < 0 ? -errno : to_memfd(p[0]);
	if (pid < 0)
		close(p[0]);
	while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (pid > 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
		if (WIFEXITED(status))
			cli_error("restart: image %s: stream command exited %d: %s", name,
				  WEXITSTATUS(status), cmd);
		else
			cli_error("restart: image %s: stream command killed by signal %d: %s",
				  name, WTERMSIG(status), cmd);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (fd < 0) {
		cli_error("restart: image %s: stream command %s: %s", name, cmd, strerror(-fd));
		return -1;
	}
	return fd;
}
