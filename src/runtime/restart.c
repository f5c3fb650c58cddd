/* SPDX-License-Identifier: MIT */
/*
 * Restart, in two stages.
 *
 * rt_restart_entry: called by the restorer on rt_restart_stack with the
 * main thread's TLS loaded and all memory back in place.  Raw syscalls
 * only (libc's locks may be held by suspended threads; errno is not ours).
 * It recreates every saved thread with clone, straight into the context it
 * saved, and then becomes the main thread by resuming its context.
 *
 * rt_restart_finish: runs on the recreated checkpoint thread while user
 * threads wait in the suspend handler; reloads plugin sections from the
 * image and delivers RESTART to the plugins.  May use libc, but no malloc.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <asm/prctl.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/mman.h>
#include <linux/futex.h>
#include <time.h>

#include "common/image.h"
#include "runtime/rt.h"
#include "runtime/track.h"
#include "runtime/sys.h"

char rt_restart_stack[1 << 16] __attribute__((aligned(64)));

#define THREAD_FLAGS                                                                   \
	(CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM | \
	 CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID)

static void die(const char *msg)
{
	rt_sys3(SYS_write, 2, msg, strlen(msg));
	rt_sys1(SYS_exit_group, 1);
	__builtin_unreachable();
}

static void recreate(struct rt_thread *t)
{
	int *tidp = (int *)(t->fsbase + (uint64_t)rt.tid_off);
	long r = rt_clone_ctx(THREAD_FLAGS, &t->ctx, t->fsbase, tidp, tidp);

	if (r < 0)
		die("cocoon: restart: cannot recreate a thread (clone failed)\n");
	t->tid = (int)r;
}

__attribute__((noreturn, used)) RT_EXPORT void rt_restart_entry(struct rst_args *a)
{
	sigset_t all;
	unsigned n = atomic_load(&rt.nthreads);
	struct rt_thread *leader = NULL;

	if (a->magic != RST_ARGS_MAGIC)
		die("cocoon: restart: bad hand-over from the restorer\n");
	for (size_t i = 0; i < sizeof(*a); i++)
		((char *)&rt.rargs)[i] = ((const char *)a)[i];
	memset(&all, 0xff, sizeof(all));
	rt_sys4(SYS_rt_sigprocmask, SIG_SETMASK, &all, NULL, 8);
	/* The image fd goes to the runtime's range before fds are rebuilt. */
	rt.restart_image_fd = (int)rt_sys3(SYS_fcntl, a->image_fd, F_DUPFD_CLOEXEC, rt.fd_base);
	rt_sys1(SYS_close, a->image_fd);
	rt.restart_err_fd = (int)rt_sys3(SYS_fcntl, 2, F_DUPFD_CLOEXEC, rt.fd_base);
	rt_sys2(SYS_munmap, rt.rargs.window_start, rt.rargs.window_end - rt.rargs.window_start);

	for (unsigned i = 0; i < n; i++)
		if (rt.threads[i].flags & IMG_T_MAIN)
			leader = &rt.threads[i];
	if (!leader)
		leader = &rt.threads[0];
	rt.real_pid = rt_getpid();
	rt_sys2(SYS_arch_prctl, ARCH_SET_FS, leader->fsbase);
	*(int *)(leader->fsbase + (uint64_t)rt.tid_off) = rt.real_pid;
	leader->tid = rt.real_pid;
	for (unsigned i = 0; i < n; i++)
		if (&rt.threads[i] != leader)
			recreate(&rt.threads[i]);
	recreate(&rt.ckpt_thread);
	if (leader->robust_head)
		rt_sys2(SYS_set_robust_list, leader->robust_head, leader->robust_len);
	rt_sys2(SYS_prctl, PR_SET_NAME, leader->comm);
	rt_ctx_restore(&leader->ctx, 1);
}

/* The memory regions of the image being restarted (for plugins that tie
 * objects to mappings); valid during RESTART. */
static const struct img_region *image_regions;
static uint32_t image_nregions;

void rt_image_regions(const struct img_region **regions, uint32_t *n)
{
	*regions = image_regions;
	*n = image_nregions;
}

/* Read the plugin sections of the image into arena memory. */
static int load_sections(int fd)
{
	struct img_header *h = rt_alloc(sizeof(*h));
	struct stat st;
	struct img_meta m;
	int err;

	if (!h || fstat(fd, &st) != 0 || pread(fd, h, sizeof(*h), 0) != sizeof(*h))
		return -EIO;
	if ((err = img_header_check(h, (uint64_t)st.st_size)))
		goto bad;
	void *meta = rt_alloc(h->meta_len);
	if (!meta || pread(fd, meta, h->meta_len, (off_t)h->meta_off) != (ssize_t)h->meta_len)
		return -EIO;
	if ((err = img_meta_check(h, meta, &m)))
		goto bad;
	image_regions = m.regions;
	image_nregions = h->nregions;
	struct img_section *table = rt_alloc(sizeof(*table) * (h->nsections + 1));
	uint64_t total = 0;
	for (uint32_t i = 0; i < h->nsections; i++)
		total += m.sections[i].len;
	char *base = rt_alloc(total + 1);
	if (!table || !base)
		return -ENOMEM;
	uint64_t at = 0;
	for (uint32_t i = 0; i < h->nsections; i++) {
		table[i] = m.sections[i];
		if (pread(fd, base + at, table[i].len, (off_t)table[i].off) != (ssize_t)table[i].len)
			return -EIO;
		if (img_sum(base + at, table[i].len) != table[i].sum) {
			cocoon_error("section %s: %s", table[i].name, img_strerror(IMG_E_DATA_SUM));
			return -EIO;
		}
		table[i].off = at;
		at += table[i].len;
	}
	rt_sections_load(table, h->nsections, base);
	rt.generation = rt.saved_generation = h->generation;
	return 0;
bad:
	cocoon_error("%s", img_strerror(err));
	return -EINVAL;
}

/* Map the restart table and wait until every process of the tree exists. */
static int load_table(int fd)
{
	struct stat st;
	struct rst_table *t;

	if (fd < 0)
		return 0;
	if (fstat(fd, &st) != 0 || (size_t)st.st_size < sizeof(*t))
		goto bad;
	t = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (t == MAP_FAILED)
		return -errno;
	if (t->magic != RST_TABLE_MAGIC || t->nprocs > 1000000 || t->npipes > 1000000 ||
	    t->nshm > 1000000 || rst_table_size(t->nprocs, t->npipes, t->nshm) > (uint64_t)st.st_size) {
		munmap(t, (size_t)st.st_size);
		goto bad;
	}
	for (int waited = 0; __atomic_load_n(&t->ready, __ATOMIC_ACQUIRE) < t->nprocs; waited++) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		uint32_t seen = __atomic_load_n(&t->ready, __ATOMIC_ACQUIRE);
		if (waited > 3000) {
			cocoon_error("only %u of %u processes came back", seen, t->nprocs);
			return -ETIMEDOUT;
		}
		rt_sys4(SYS_futex, &t->ready, FUTEX_WAIT, seen, &ts);
	}
	rt.rtable = t;
	return 0;
bad:
	cocoon_error("the restart table is damaged");
	return -EINVAL;
}

/* Wait until every process of the tree has restored its state, so none
 * runs its program while a peer it may signal or read is still coming. */
static int all_restored(void)
{
	struct rst_table *t = rt.rtable;

	if (!t)
		return 0;
	__atomic_add_fetch(&t->restored, 1, __ATOMIC_RELEASE);
	rt_sys3(SYS_futex, &t->restored, FUTEX_WAKE, 0x7fffffff);
	for (int waited = 0; __atomic_load_n(&t->restored, __ATOMIC_ACQUIRE) < t->nimages; waited++) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		uint32_t seen = __atomic_load_n(&t->restored, __ATOMIC_ACQUIRE);
		if (__atomic_load_n(&t->failed, __ATOMIC_ACQUIRE)) {
			cocoon_error("another process of the computation could not be restored");
			return -ECANCELED;
		}
		if (waited > 6000) {
			cocoon_error("only %u of %u processes were restored", seen, t->nimages);
			return -ETIMEDOUT;
		}
		rt_sys4(SYS_futex, &t->restored, FUTEX_WAIT, seen, &ts);
	}
	return 0;
}

static void unload_table(void)
{
	struct rst_table *t = rt.rtable;

	if (!t)
		return;
	/* The fd plugin has closed the inherited pipe fds it lifted; the
	 * originals went with its close_range. */
	munmap(t, rst_table_size(t->nprocs, t->npipes, t->nshm));
	rt.rtable = NULL;
}

int rt_restart_finish(void)
{
	int err;

	rt.ckpt_tid = rt_gettid();
	rt.restarts++;
	if (rt.ckpt_thread.robust_head)
		rt_sys2(SYS_set_robust_list, rt.ckpt_thread.robust_head,
			rt.ckpt_thread.robust_len);
	rt_arena_forget();
	rt_track_lost(0);
	rt.log_fd = -1;
	rt.coord_fd = -1;
	if (rt.rargs.coord[0])
		snprintf(rt.coord, sizeof(rt.coord), "%s", rt.rargs.coord);
	if (rt.rargs.secret[0])
		snprintf(rt.secret, sizeof(rt.secret), "%s", rt.rargs.secret);
	if (rt.rargs.ckpt_dir[0])
		snprintf(rt.ckpt_dir, sizeof(rt.ckpt_dir), "%s", rt.rargs.ckpt_dir);
	rt_log_open();
	rt_log("restarted from %s, %u threads", rt.rargs.image_path, atomic_load(&rt.nthreads));
	if (rt_arena_reset() != 0)
		return -ENOMEM;
	rt_clear_error();
	err = load_sections(rt.restart_image_fd);
	if (!err)
		err = load_table(rt.rargs.table_fd);
	if (!err)
		err = rt_environ_apply(rt.rargs.env_changes);
	if (!err) {
		char dir[sizeof(rt.rargs.image_path)];
		snprintf(dir, sizeof(dir), "%s", rt.rargs.image_path);
		char *slash = strrchr(dir, '/');
		if (slash && slash != dir)
			*slash = 0;
		rt_image_dir_set(dir);
		rt_coord_reconnect();
		if (rt.rargs.watch_fd >= 0) /* the coordinator has counted us */
			close(rt.rargs.watch_fd);
		err = rt_plugins_event(COCOON_EV_RESTART, NULL);
		if (!err)
			err = rt_plugins_wait_quiescent();
	}
	if (!err)
		err = all_restored();
	if (err && rt.rtable) {
		__atomic_store_n(&rt.rtable->failed, 1, __ATOMIC_RELEASE);
		__atomic_add_fetch(&rt.rtable->restored, 1, __ATOMIC_RELEASE);
		rt_sys3(SYS_futex, &rt.rtable->restored, FUTEX_WAKE, 0x7fffffff);
	}
	unload_table();
	close(rt.restart_image_fd);
	rt.restart_image_fd = -1;
	return err;
}
