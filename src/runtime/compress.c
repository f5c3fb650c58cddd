/*
 * Image compression (cocoon launch --compress zstd[:LEVEL]).  libzstd is
 * opened at start-up, and only when asked for, so a program that does not
 * compress loads nothing more.  The writer hands everything after the
 * header to rt_z_write, which cuts it into 4 MiB blocks, each compressed
 * into a frame of its own (a zstd stream may hold many), so that two
 * blocks are compressed at once: one by the writing thread, one by the
 * writer's helper thread (helper.c).  zstd allocates from the checkpoint's
 * scratch arena, never with malloc, under a lock since both threads may.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/config.h"
#include "common/zstd-abi.h"
#include "runtime/helper.h"
#include "runtime/rt.h"
#include "runtime/sys.h"

#define BLOCK (4ul << 20)

static struct zstd_api z;
static int level; /* 0: not compressing */
static atomic_flag arena_lock = ATOMIC_FLAG_INIT;

static void *arena_alloc(void *opaque, size_t n)
{
	/* the writer and the helper may both ask */
	while (atomic_flag_test_and_set(&arena_lock))
		;
	void *p = rt_alloc(n);
	atomic_flag_clear(&arena_lock);
	return p;
}

static void arena_free(void *opaque, void *p)
{
	/* the arena goes as a whole after the checkpoint */
}

/* A block the helper compresses. */
struct job {
	void *cctx;
	const void *src;
	size_t len;
	void *dst;
	size_t cap, out; /* out: compressed size or a zstd error code */
};

static void compress_job(void *arg)
{
	struct job *j = arg;

	j->out = z.compress2(j->cctx, j->dst, j->cap, j->src, j->len);
}

static void *alloc_locked(size_t n)
{
	return arena_alloc(NULL, n);
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
	struct rt_helper *helper; /* running in this process, or NULL */
	struct job job;           /* its block */
	char *stage;    /* small writes gather here into a block */
	size_t staged;
	char *out[2];
	size_t out_cap;
	uint64_t stored; /* compressed bytes written */
};

static void *new_cctx(void)
{
	void *c = z.create_cctx((struct zstd_mem){ arena_alloc, arena_free, NULL });
	if (c && (z.is_error(z.set(c, ZSTD_LEVEL, level)) || z.is_error(z.set(c, ZSTD_CHECKSUM, 1))))
		return NULL;
	return c;
}

struct rt_z *rt_z_begin(int fd)
{
	if (!level)
		return NULL;
	struct rt_z *c = arena_alloc(NULL, sizeof(*c));
	if (!c)
		return NULL;
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->out_cap = z.bound(BLOCK);
	c->stage = arena_alloc(NULL, BLOCK);
	c->out[0] = arena_alloc(NULL, c->out_cap);
	c->out[1] = arena_alloc(NULL, c->out_cap);
	c->cctx = new_cctx();
	if (!c->stage || !c->out[0] || !c->out[1] || !c->cctx)
		return NULL;
	return c;
}

/* Stop this process's helper thread, if it runs. */
void rt_z_pause(struct rt_z *c)
{
	if (c)
		rt_helper_stop(&c->helper);
}

int rt_z_active(void)
{
	return level != 0;
}

static int put(struct rt_z *c, const char *p, size_t left)
{
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

static int failed(size_t code)
{
	cocoon_error("compressing the image: %s", z.error_name(code));
	return -EIO;
}

/* Compress one block (here) or two (one by the helper), write in order. */
static int blocks(struct rt_z *c, const char *a, size_t alen, const char *b, size_t blen)
{
	struct rt_helper *h = b ? rt_helper_get(&c->helper, alloc_locked) : NULL;
	uint32_t job = 0;

	if (h && !c->job.cctx)
		c->job.cctx = new_cctx();
	if (h && c->job.cctx) {
		c->job.src = b;
		c->job.len = blen;
		c->job.dst = c->out[1];
		c->job.cap = c->out_cap;
		job = rt_helper_post(h, compress_job, &c->job);
	}
	size_t n = z.compress2(c->cctx, c->out[0], c->out_cap, a, alen);
	if (z.is_error(n))
		return failed(n);
	int err = put(c, c->out[0], n);
	if (!b || err)
		return err;
	if (job) {
		rt_helper_wait(h, job);
		n = c->job.out;
	} else {
		n = z.compress2(c->cctx, c->out[1], c->out_cap, b, blen);
	}
	if (z.is_error(n))
		return failed(n);
	return put(c, c->out[1], n);
}

static int flush_stage(struct rt_z *c)
{
	int err = c->staged ? blocks(c, c->stage, c->staged, NULL, 0) : 0;

	c->staged = 0;
	return err;
}

int rt_z_write(struct rt_z *c, const void *buf, size_t len)
{
	const char *p = buf;
	int err = 0;

	/* small pieces gather into a block; whole blocks go two by two */
	while (len && !err) {
		if (c->staged || len < BLOCK) {
			size_t take = BLOCK - c->staged < len ? BLOCK - c->staged : len;
			memcpy(c->stage + c->staged, p, take);
			c->staged += take;
			p += take;
			len -= take;
			if (c->staged == BLOCK)
				err = flush_stage(c);
			continue;
		}
		size_t blen = len >= 2 * BLOCK ? BLOCK : 0;
		err = blocks(c, p, BLOCK, blen ? p + BLOCK : NULL, blen);
		p += BLOCK + blen;
		len -= BLOCK + blen;
	}
	return err;
}

int rt_z_end(struct rt_z *c, uint64_t *stored)
{
	int err = flush_stage(c);

	rt_z_pause(c);
	*stored = c->stored;
	return err;
}
