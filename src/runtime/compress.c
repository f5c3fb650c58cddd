/*
 * Image compression (cocoon launch --compress zstd[:LEVEL]).  libzstd is
 * opened at start-up, and only when asked for, so a program that does not
 * compress loads nothing more.  The writer hands everything after the
 * header to rt_z_write, which cuts it into 4 MiB blocks, each compressed
 * into a frame of its own (a zstd stream may hold many), so that two
 * blocks are compressed at once: one by the writing thread, one by a
 * helper thread made for the write with a bare clone (no libc: program
 * threads are stopped and may hold its locks) that exits at its end.
 * zstd allocates from the checkpoint's scratch arena, never with malloc.
 */
#include <errno.h>
#include <linux/futex.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/config.h"
#include "common/zstd-abi.h"
#include "runtime/rt.h"
#include "runtime/sys.h"

#define BLOCK (4ul << 20)
#define HELPER_STACK (256ul << 10)

long rt_raw_thread(unsigned long flags, void *stack_top, int *ctid, void (*fn)(void *),
		   void *arg) RT_HIDDEN;

static struct zstd_api z;
static int level; /* 0: not compressing */
static atomic_flag arena_lock = ATOMIC_FLAG_INIT;

/* The helper: one block at a time, handed over through futex words. */
struct helper {
	_Atomic uint32_t seq, done; /* job number posted, and finished */
	_Atomic int quit;
	_Atomic int alive;          /* cleared by the kernel when it exits */
	int pid;                    /* the process it runs in */
	void *cctx;
	const void *src;
	size_t len;
	void *dst;
	size_t cap, out; /* out: compressed size or a zstd error code */
};

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

static void futex_wait(_Atomic uint32_t *word, uint32_t val)
{
	rt_syscall6(SYS_futex, (long)word, FUTEX_WAIT_PRIVATE, val, 0, 0, 0);
}

static void futex_wake(_Atomic uint32_t *word)
{
	rt_syscall6(SYS_futex, (long)word, FUTEX_WAKE_PRIVATE, 1, 0, 0, 0);
}

static void helper_main(void *arg)
{
	struct helper *h = arg;
	uint32_t seen = 0;

	for (;;) {
		while (atomic_load(&h->seq) == seen && !atomic_load(&h->quit))
			futex_wait(&h->seq, seen);
		if (atomic_load(&h->quit))
			return;
		seen = atomic_load(&h->seq);
		h->out = z.compress2(h->cctx, h->dst, h->cap, h->src, h->len);
		atomic_store(&h->done, seen);
		futex_wake(&h->done);
	}
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
	struct helper *helper; /* running in this process, or NULL */
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

/* The helper for this process (a forked copy makes its own). */
static struct helper *helper_get(struct rt_z *c)
{
	int pid = (int)rt_sys0(SYS_getpid);

	if (c->helper && c->helper->pid == pid)
		return c->helper;
	c->helper = NULL;
	struct helper *h = arena_alloc(NULL, sizeof(*h));
	char *stack = arena_alloc(NULL, HELPER_STACK);
	if (!h || !stack)
		return NULL;
	memset(h, 0, sizeof(*h));
	h->pid = pid;
	h->cctx = new_cctx();
	atomic_store(&h->alive, 1);
	if (!h->cctx || rt_raw_thread(CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND |
					      CLONE_THREAD | CLONE_SYSVSEM | CLONE_CHILD_CLEARTID,
				      stack + HELPER_STACK, (int *)&h->alive, helper_main, h) < 0)
		return NULL;
	return c->helper = h;
}

/* Stop the helper of this process, if any, and wait until it is gone. */
void rt_z_pause(struct rt_z *c)
{
	struct helper *h = c ? c->helper : NULL;

	if (!h || h->pid != (int)rt_sys0(SYS_getpid))
		return;
	atomic_store(&h->quit, 1);
	atomic_fetch_add(&h->seq, 1);
	futex_wake(&h->seq);
	int alive;
	while ((alive = atomic_load(&h->alive)) != 0)
		rt_syscall6(SYS_futex, (long)&h->alive, FUTEX_WAIT, alive, 0, 0, 0);
	c->helper = NULL;
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
	struct helper *h = b ? helper_get(c) : NULL;
	uint32_t job = 0;

	if (h) {
		h->src = b;
		h->len = blen;
		h->dst = c->out[1];
		h->cap = c->out_cap;
		job = atomic_fetch_add(&h->seq, 1) + 1;
		futex_wake(&h->seq);
	}
	size_t n = z.compress2(c->cctx, c->out[0], c->out_cap, a, alen);
	if (z.is_error(n))
		return failed(n);
	int err = put(c, c->out[0], n);
	if (!b || err)
		return err;
	if (job) {
		uint32_t done;
		while ((done = atomic_load(&h->done)) != job)
			futex_wait(&h->done, done);
		n = h->out;
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
