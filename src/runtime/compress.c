/* SPDX-License-Identifier: MIT */
/*
 * Image compression (cocoon launch --compress zstd[:LEVEL]).  libzstd is
 * opened at start-up, and only when asked for, so a program that does not
 * compress loads nothing more.  The writer streams everything after the
 * header through rt_z_write; zstd allocates from the checkpoint's scratch
 * arena (never malloc: a stopped thread may hold its lock) and runs on the
 * writing thread only (its worker threads would need pthread_create, which
 * may take locks as well).  In a forked checkpoint the copy compresses while
 * the program runs on the other core.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/config.h"
#include "common/zstd-abi.h"
#include "runtime/rt.h"

static struct zstd_api z;

static int level; /* 0: not compressing */

static void *arena_alloc(void *opaque, size_t n)
{
	return rt_alloc(n);
}

static void arena_free(void *opaque, void *p)
{
	/* the arena goes as a whole after the checkpoint */
}

void rt_compress_init(void)
{
	const char *spec = getenv(ENV_COMPRESS);

	if (!spec || strncmp(spec, "zstd", 4) != 0)
		return;
	level = spec[4] == ':' ? atoi(spec + 5) : 3;
	if (level < 1 || level > 19)
		level = 3;
	if (zstd_load(&z) != 0) {
		rt_warn("cannot load libzstd.so.1: checkpoints are not compressed");
		level = 0;
	}
}

struct rt_z {
	void *cctx;
	int fd;
	char *out;
	size_t out_cap;
	uint64_t stored; /* compressed bytes written */
};

struct rt_z *rt_z_begin(int fd)
{
	if (!level)
		return NULL;
	struct rt_z *c = rt_alloc(sizeof(*c));
	if (!c)
		return NULL;
	c->fd = fd;
	c->stored = 0;
	c->out_cap = z.cout_size() * 16;
	c->out = rt_alloc(c->out_cap);
	c->cctx = z.create_cctx((struct zstd_mem){ arena_alloc, arena_free, NULL });
	if (!c->out || !c->cctx || z.is_error(z.set(c->cctx, ZSTD_LEVEL, level)) ||
	    z.is_error(z.set(c->cctx, ZSTD_CHECKSUM, 1)))
		return NULL;
	return c;
}

int rt_z_active(void)
{
	return level != 0;
}

static int flush_out(struct rt_z *c, struct zstd_out *out)
{
	const char *p = out->dst;
	size_t left = out->pos;

	while (left) {
		ssize_t n = write(c->fd, p, left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		left -= (size_t)n;
		c->stored += (uint64_t)n;
	}
	return 0;
}

/* Feed len bytes (or, with end, finish the stream). */
static int pump(struct rt_z *c, const void *buf, size_t len, int end)
{
	struct zstd_in in = { buf, len, 0 };

	for (;;) {
		struct zstd_out out = { c->out, c->out_cap, 0 };
		size_t left = z.compress(c->cctx, &out, &in, end ? ZSTD_END : ZSTD_CONTINUE);
		if (z.is_error(left)) {
			cocoon_error("compressing the image: %s", z.error_name(left));
			return -EIO;
		}
		int err = flush_out(c, &out);
		if (err)
			return err;
		if (end ? left == 0 : in.pos == in.size)
			return 0;
	}
}

int rt_z_write(struct rt_z *c, const void *buf, size_t len)
{
	return pump(c, buf, len, 0);
}

int rt_z_end(struct rt_z *c, uint64_t *stored)
{
	int err = pump(c, NULL, 0, 1);

	*stored = c->stored;
	return err;
}
