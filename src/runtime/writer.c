/* SPDX-License-Identifier: MIT */
/*
 * The image writer (checkpoint thread, user threads suspended; no malloc).
 *
 * Streams every region's stored pages straight from memory into
 * DIR/gen-G/NAME-VPID.img.tmp, page aligned, then plugin sections, then the
 * metadata, then the header at offset 0; fsync, rename, fsync the directory.
 * Pages are stored when present (pagemap) and, for anonymous memory, not
 * all zero.  See src/common/image.h for the format.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/shm.h>
#include <sys/utsname.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <time.h>
#include <unistd.h>

#include "common/config.h"
#include "common/image.h"
#include "plugins/pid/pid.h"
#include "plugins/signal/sysv.h"
#include "runtime/maps.h"
#include "runtime/rt.h"
#include "runtime/sys.h"
#include "runtime/track.h"

#define PM_CHUNK 65536 /* pagemap entries read at once */
#define PM_PRESENT (1ull << 63)
#define PM_SWAPPED (1ull << 62)
#define PM_FILE (1ull << 61) /* file page (or shared anon): not copied on write */
#define BOUNCE_SIZE (1ul << 20)
#define SCAN_VEC 65536     /* written ranges listed per region */
#define MAX_REFS (4u << 20)


struct writer {
	int fd;
	int direct_fd; /* the same file opened O_DIRECT (launch --direct), or -1 */
	int stream;    /* fd is a pipe to the image stream command: write() only */
	uint64_t off;
	uint64_t gen;
	int pagemap_fd;
	uint64_t *pm;
	struct img_region *regions;
	uint32_t nregions;
	struct img_run *runs;
	uint32_t nruns, runs_cap;
	char *strings;
	uint32_t strings_len, strings_cap;
	struct img_header *h;
	char *bounce; /* copy of pages that change while we write them */
	int volatile_region;
	int all_present; /* the pagemap does not know: look at every page */
	struct rt_z *z;  /* compressing everything after the header, or NULL */
	/* incremental: the region being saved, and the references so far */
	struct rt_track_region tr;
	struct page_region *scanvec;
	struct img_ref *refs;
	uint32_t nrefs, refs_cap;
	struct img_dep deps[IMG_MAX_DEPS];
	int dep_local[IMG_MAX_DEPS]; /* registry index -> deps[] index + 1 */
	uint32_t ndeps;
};

static int fault_at(const char *kind, uint64_t gen)
{
	return rt.fault_gen && (uint64_t)rt.fault_gen == gen && strcmp(rt.fault_kind, kind) == 0;
}

/* One piece of the image at w->off.  Page data (page aligned in memory,
 * in length and in the file) goes through the O_DIRECT descriptor when
 * there is one: no copy into the page cache, often faster than the disk's
 * buffered rate.  The rest, and whatever the direct path refuses, through
 * the page cache. */
static int put_bytes(struct writer *w, const char *p, size_t len)
{
	while (len) {
		size_t chunk = len > (1ul << 30) ? (1ul << 30) : len;
		int aligned = w->direct_fd >= 0 &&
			      (((uintptr_t)p | chunk | w->off) & (IMG_PAGE - 1)) == 0;
		ssize_t r = w->stream ? write(w->fd, p, chunk) :
			    pwrite(aligned ? w->direct_fd : w->fd, p, chunk, (off_t)w->off);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (aligned && (errno == EINVAL || errno == EFAULT)) {
				/* memory the kernel cannot pin for direct I/O */
				close(w->direct_fd);
				w->direct_fd = -1;
				continue;
			}
			return -errno;
		}
		p += r;
		len -= (size_t)r;
		w->off += (uint64_t)r;
	}
	return 0;
}

/* Everything after the header goes through here; w->off is the offset in
 * the (uncompressed) image. */
static int write_all(struct writer *w, const void *buf, size_t len)
{
	if (fault_at("enospc", w->gen) && w->off > IMG_HEADER_SIZE)
		return -ENOSPC;
	if (w->z) {
		int err = rt_z_write(w->z, buf, len);
		if (!err)
			w->off += len;
		return err;
	}
	return put_bytes(w, buf, len);
}

static int put_section(void *ctx, const void *data, size_t len)
{
	return write_all(ctx, data, len);
}

static int pad_to_page(struct writer *w)
{
	static const char zeros[IMG_PAGE];
	uint64_t rem = w->off % IMG_PAGE;

	return rem ? write_all(w, zeros, IMG_PAGE - rem) : 0;
}

static uint32_t add_string(struct writer *w, const char *s)
{
	size_t len = strlen(s) + 1;

	if (w->strings_len + len > w->strings_cap)
		return UINT32_MAX;
	memcpy(w->strings + w->strings_len, s, len);
	w->strings_len += (uint32_t)len;
	return w->strings_len - (uint32_t)len;
}

static int page_is_zero(const uint64_t *p)
{
	uint64_t acc = 0;

	for (size_t i = 0; i < IMG_PAGE / 8; i += 8) {
		acc |= p[i] | p[i + 1] | p[i + 2] | p[i + 3] | p[i + 4] | p[i + 5] | p[i + 6] |
		       p[i + 7];
		if (acc)
			return 0;
	}
	return 1;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

static int in_memory_fs(const char *path)
{
	struct statfs fs;

	return statfs(path, &fs) == 0 && (fs.f_type == TMPFS_MAGIC || fs.f_type == RAMFS_MAGIC);
}

/* Which mappings are not saved as memory at all. */
static int skipped(const struct rt_vma *v, struct img_header *h)
{
	if (strcmp(v->path, "[vdso]") == 0) {
		h->vdso_start = v->start;
		h->vdso_end = v->end;
		return 1;
	}
	if (strcmp(v->path, "[vvar]") == 0 || strcmp(v->path, "[vvar_vclock]") == 0) {
		if (!h->vvar_start || v->start < h->vvar_start)
			h->vvar_start = v->start;
		if (v->end > h->vvar_end)
			h->vvar_end = v->end;
		return 1;
	}
	return strcmp(v->path, "[vsyscall]") == 0 || rt_arena_contains(v->start, v->end) ||
	       rt_track_contains(v->start, v->end);
}

static int flush_run(struct writer *w, struct img_region *r, struct img_sum *sum,
		     uint64_t first, uint64_t count)
{
	if (!count)
		return 0;
	if (w->nruns == w->runs_cap)
		return -ENOMEM;
	const char *mem = (const char *)(r->start + first * IMG_PAGE);
	for (uint64_t i = 0; w->tr.new_loc && i < count; i++)
		w->tr.new_loc[first + i] = rt_track_loc(rt_track_self(), w->off + i * IMG_PAGE);
	/* Our own stack changes under us: checksum and write one stable copy. */
	size_t step = w->volatile_region ? BOUNCE_SIZE : count * IMG_PAGE;
	for (size_t done = 0; done < count * IMG_PAGE; done += step) {
		size_t len = count * IMG_PAGE - done < step ? count * IMG_PAGE - done : step;
		const char *src = mem + done;
		if (w->volatile_region) {
			memcpy(w->bounce, src, len);
			src = w->bounce;
		}
		if (!fault_at("corrupt", w->gen))
			img_sum_update(sum, src, len);
		int err = write_all(w, src, len);
		if (err)
			return err;
	}
	w->runs[w->nruns++] = (struct img_run){ first, count };
	r->npages += count;
	return 0;
}

/* Page `page` of region r is unchanged since the checkpoint whose image
 * holds it at loc: refer to it there (extending the last reference). */
static int add_ref(struct writer *w, const struct img_region *r, uint64_t page, uint64_t loc)
{
	int global = rt_track_loc_dep(loc);
	uint64_t off = rt_track_loc_off(loc);
	uint32_t region = (uint32_t)(r - w->regions);

	if (global < 0 || global >= IMG_MAX_DEPS || !rt_track_dep(global))
		return -EINVAL;
	if (!w->dep_local[global]) {
		w->deps[w->ndeps] = *rt_track_dep(global);
		w->dep_local[global] = (int)++w->ndeps;
	}
	uint32_t dep = (uint32_t)w->dep_local[global] - 1;
	struct img_ref *last = w->nrefs ? &w->refs[w->nrefs - 1] : NULL;
	if (last && last->region == region && last->dep == dep &&
	    last->page + last->npages == page && last->src_off + last->npages * IMG_PAGE == off) {
		last->npages++;
		return 0;
	}
	if (w->nrefs == w->refs_cap)
		return -ENOMEM;
	w->refs[w->nrefs++] = (struct img_ref){ page, 1, off, region, dep };
	return 0;
}

/* Is the page at addr among the written ranges (a cursor walks them)? */
static int was_written(const struct rt_track_region *tr, size_t *cursor, uint64_t addr)
{
	while (*cursor < tr->nwritten && tr->written[*cursor].end <= addr)
		(*cursor)++;
	return *cursor < tr->nwritten && tr->written[*cursor].start <= addr;
}

/* Store the present pages of one region, anonymous zero pages excepted;
 * incremental: refer to earlier images for pages not written since. */
static int save_pages(struct writer *w, struct img_region *r, int keep_zero)
{
	uint64_t npages = (r->end - r->start) / IMG_PAGE, run_first = 0, run_len = 0;
	struct img_sum sum;
	int err = 0, missing = 0;
	size_t cursor = 0;

	img_sum_init(&sum);
	r->run_first = w->nruns;
	r->data_off = w->off;
	for (uint64_t base = 0; base < npages; base += PM_CHUNK) {
		uint64_t n = npages - base < PM_CHUNK ? npages - base : PM_CHUNK;
		off_t pos = (off_t)((r->start / IMG_PAGE + base) * 8);
		if (w->all_present || pread(w->pagemap_fd, w->pm, n * 8, pos) != (ssize_t)(n * 8)) {
			for (uint64_t i = 0; i < n; i++)
				w->pm[i] = PM_PRESENT; /* unknown: look at every page */
		}
		for (uint64_t i = 0; i < n; i++) {
			uint64_t page = base + i;
			int store = (w->pm[i] & (PM_PRESENT | PM_SWAPPED)) != 0;
			if (w->tr.new_loc)
				w->tr.new_loc[page] = 0;
			if (w->tr.old_loc &&
			    !was_written(&w->tr, &cursor, r->start + page * IMG_PAGE)) {
				/* unchanged: where it was (absent now: dropped, so zero) */
				uint64_t loc = store ? w->tr.old_loc[page] : 0;
				if (loc && (err = add_ref(w, r, page, loc)))
					return err;
				if (w->tr.new_loc)
					w->tr.new_loc[page] = loc;
				store = 0;
			}
			/* A private file page never written is the file's own: it
			 * comes from the file again (restart checks the file). */
			if (store && (r->flags & (IMG_R_FILE | IMG_R_PRIVATE)) ==
					     (IMG_R_FILE | IMG_R_PRIVATE) && (w->pm[i] & PM_FILE))
				store = 0;
			if (!store)
				missing = 1;
			else if (!keep_zero)
				store = !page_is_zero((const uint64_t *)(r->start + page * IMG_PAGE));
			if (store && run_len && run_first + run_len == page) {
				run_len++;
				continue;
			}
			if ((err = flush_run(w, r, &sum, run_first, run_len)))
				return err;
			run_first = page;
			run_len = store;
		}
	}
	if ((err = flush_run(w, r, &sum, run_first, run_len)))
		return err;
	r->nruns = w->nruns - r->run_first;
	r->data_sum = img_sum_final(&sum);
	if (missing && (r->flags & IMG_R_FILE))
		r->flags |= IMG_R_NEED_FILE;
	if (!r->npages)
		r->data_off = 0;
	return 0;
}

/* Memory a fast restart (cocoon restart --fast, or any restart from a
 * compressed image, decompressed into a memfd) mapped from its image:
 * anonymous memory for the program, whose pages not touched since are
 * still in that file.  Saved as anonymous memory, every page looked at, so
 * that the new image does not depend on the old one. */
static int from_fast_image(const struct rt_vma *v)
{
	return rt.rargs.fast && !v->shared && v->inode == rt.rargs.image_ino &&
	       (ends_with(v->path, ".img") || ends_with(v->path, ".img (deleted)") ||
		strncmp(v->path, "/memfd:cocoon-image", 19) == 0);
}

static int save_region(struct writer *w, const struct rt_vma *v, struct img_region *r)
{
	int keep_zero = 0, store = 1, from_image = from_fast_image(v);

	memset(r, 0, sizeof(*r));
	r->start = v->start;
	r->end = v->end;
	r->prot = (uint32_t)v->prot;
	r->flags = v->shared ? 0 : IMG_R_PRIVATE;
	if (strcmp(v->path, "[stack]") == 0)
		r->flags |= IMG_R_STACK | IMG_R_GROWSDOWN;
	else if (strcmp(v->path, "[heap]") == 0)
		r->flags |= IMG_R_HEAP;
	if (strncmp(v->path, "/SYSV", 5) == 0) {
		struct shmid_ds ds;
		if (rt_sys3(SYS_shmctl, (long)v->inode, IPC_STAT, &ds) < 0) {
			cocoon_error("System V shared memory %lu at %lx: cannot read it",
				     (unsigned long)v->inode, (unsigned long)v->start);
			return -EINVAL;
		}
		/* Its pages are saved like shared anonymous memory; `cocoon
		 * restart` makes the segment, the restorer attaches it here. */
		r->flags |= IMG_R_SYSV;
		r->file_ino = (uint64_t)sysv_virtual_id((int)v->inode);
		r->file_off = (uint64_t)(uint32_t)ds.shm_perm.__key;
		r->file_size = ds.shm_segsz;
		r->file_mtime_ns = ds.shm_perm.mode;
		r->path_off = add_string(w, v->path);
		if (r->path_off == UINT32_MAX)
			return -ENOMEM;
		r->path_len = (uint32_t)strlen(v->path) + 1;
	} else if (v->path[0] == '/' && !ends_with(v->path, " (deleted)") && !from_image) {
		struct stat st;
		if (v->shared && stat(v->path, &st) == 0 && (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))) {
			cocoon_error("mapping %lx-%lx of device %s is not supported",
				     (unsigned long)v->start, (unsigned long)v->end, v->path);
			return -ENOTSUP;
		}
		r->flags |= IMG_R_FILE;
		r->file_off = v->offset;
		r->path_off = add_string(w, v->path);
		if (r->path_off == UINT32_MAX)
			return -ENOMEM;
		r->path_len = (uint32_t)strlen(v->path) + 1;
		if (stat(v->path, &st) == 0) {
			r->file_size = (uint64_t)st.st_size;
			r->file_mtime_ns = (uint64_t)st.st_mtim.tv_sec * 1000000000ull +
					   (uint64_t)st.st_mtim.tv_nsec;
			r->file_ino = st.st_ino;
		}
		keep_zero = 1; /* a zero page may differ from the file's */
		/* Shared file pages live in the file -- unless it is memory
		 * (POSIX shared memory in /dev/shm): then the image keeps them, so
		 * every restart starts from the checkpoint's contents. */
		store = !v->shared || in_memory_fs(v->path);
	}
	if (v->shared && v->path[0] == '/' && ends_with(v->path, " (deleted)") &&
	    !(r->flags & IMG_R_SYSV)) {
		/* A shared mapping of a deleted file or memfd: saved as memory, and
		 * noted by inode so the fd plugin can map it from the recreated
		 * file again (one object for the fd and the memory). */
		r->file_ino = v->inode;
		r->file_off = v->offset;
		r->path_off = add_string(w, v->path);
		if (r->path_off == UINT32_MAX)
			return -ENOMEM;
		r->path_len = (uint32_t)strlen(v->path) + 1;
	}
	if (store && !(v->prot & PROT_READ)) {
		/* Reservations and guard pages: read only if something is there. */
		if (mprotect((void *)v->start, v->end - v->start, v->prot | PROT_READ) != 0)
			store = 0;
	}
	int err = 0;
	uint64_t sp = (uint64_t)__builtin_frame_address(0);
	w->volatile_region = sp >= v->start && sp < v->end;
	w->all_present = from_image;
	/* Memory mapped from an image is not tracked: all of it is saved. */
	memset(&w->tr, 0, sizeof(w->tr));
	if (store && !from_image)
		rt_track_region(v, &w->tr, w->scanvec, SCAN_VEC);
	if (store)
		err = save_pages(w, r, keep_zero);
	w->all_present = 0;
	if (store && !(v->prot & PROT_READ))
		mprotect((void *)v->start, v->end - v->start, v->prot);
	return err;
}

static void fill_threads(struct img_thread *t, uint32_t *n)
{
	unsigned count = atomic_load(&rt.nthreads);

	*n = 0;
	for (unsigned i = 0; i < count && i < RT_MAX_THREADS; i++) {
		t[*n] = (struct img_thread){ rt.threads[i].vtid, rt.threads[i].tid,
					     (uint32_t)rt.threads[i].flags, 0,
					     rt.threads[i].fsbase };
		(*n)++;
	}
	t[*n] = (struct img_thread){ rt.ckpt_thread.vtid, rt.ckpt_thread.tid, IMG_T_CKPT, 0,
				     rt.ckpt_thread.fsbase };
	(*n)++;
}

static int write_meta(struct writer *w, struct img_thread *threads, uint32_t nthreads,
		      struct img_section *sections, uint32_t nsections)
{
	struct { const void *p; size_t len; } parts[] = {
		{ w->regions, sizeof(struct img_region) * w->nregions },
		{ w->runs, sizeof(struct img_run) * w->nruns },
		{ threads, sizeof(struct img_thread) * nthreads },
		{ sections, sizeof(struct img_section) * nsections },
		{ w->refs, sizeof(struct img_ref) * w->nrefs },
		{ w->deps, sizeof(struct img_dep) * w->ndeps },
		{ w->strings, w->strings_len },
	};
	struct img_sum sum;
	int err = pad_to_page(w);

	if (err)
		return err;
	w->h->meta_off = w->off;
	img_sum_init(&sum);
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		if ((err = write_all(w, parts[i].p, parts[i].len)))
			return err;
		img_sum_update(&sum, parts[i].p, parts[i].len);
	}
	w->h->meta_len = w->off - w->h->meta_off;
	w->h->meta_sum = img_sum_final(&sum);
	return 0;
}

static void fill_header(struct writer *w, uint32_t nthreads, uint32_t nsections)
{
	struct img_header *h = w->h;
	struct utsname u;
	struct timespec ts;

	memcpy(h->magic, IMG_MAGIC, 8);
	h->version = IMG_VERSION;
	h->arch = IMG_ARCH_X86_64;
	h->header_size = sizeof(*h);
	h->page_size = IMG_PAGE;
	h->file_size = w->off;
	h->generation = w->gen;
	h->vpid = rt.vpid;
	h->real_pid = rt.real_pid;
	h->vppid = rt.vppid;
	h->nthreads = nthreads;
	h->nregions = w->nregions;
	h->nruns = w->nruns;
	h->nsections = nsections;
	h->nrefs = w->nrefs;
	h->ndeps = w->ndeps;
	h->strings_len = w->strings_len;
	h->restart_entry = (uint64_t)rt_restart_entry;
	h->restart_stack = (uint64_t)(rt_restart_stack + sizeof(rt_restart_stack));
	for (unsigned i = 0; i < atomic_load(&rt.nthreads) && i < RT_MAX_THREADS; i++)
		if (rt.threads[i].flags & IMG_T_MAIN)
			h->main_fsbase = rt.threads[i].fsbase;
	clock_gettime(CLOCK_REALTIME, &ts);
	h->time_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	if (uname(&u) == 0)
		snprintf(h->hostname, sizeof(h->hostname), "%.63s", u.nodename);
	snprintf(h->progname, sizeof(h->progname), "%s", rt.progname);
	h->vpgid = pid_to_virtual((int)rt_sys1(SYS_getpgid, 0));
	h->vsid = pid_to_virtual((int)rt_sys1(SYS_getsid, 0));
	h->header_sum = img_header_sum(h);
}

/* Which regions save_regions saves: shared ones (a forked writer's program
 * would change them under it: not copied on write), private ones. */
#define SAVE_SHARED 1
#define SAVE_PRIVATE 2

static int save_regions(struct writer *w, const struct rt_vma *vmas, int n, const int *slot,
			int which)
{
	for (int i = 0; i < n; i++) {
		if (slot[i] < 0 || !(which & (vmas[i].shared ? SAVE_SHARED : SAVE_PRIVATE)))
			continue;
		int err = save_region(w, &vmas[i], &w->regions[slot[i]]);
		if (err)
			return err;
		if (fault_at("stall", w->gen))
			for (;;)
				pause();
	}
	return 0;
}

/* The body starts after the header block: in a file, seek there (the
 * header is written last); in a stream, send a placeholder header. */
static int start_body(struct writer *w)
{
	if (!w->stream) {
		w->off = IMG_HEADER_SIZE;
		return lseek(w->fd, IMG_HEADER_SIZE, SEEK_SET) < 0 ? -errno : 0;
	}
	struct img_header *p = rt_alloc(IMG_HEADER_SIZE);
	if (!p)
		return -ENOMEM;
	memset(p, 0, IMG_HEADER_SIZE);
	memcpy(p->magic, IMG_MAGIC, 8);
	p->version = IMG_VERSION;
	p->arch = IMG_ARCH_X86_64;
	p->header_size = sizeof(*p);
	p->page_size = IMG_PAGE;
	p->flags = IMG_F_STREAM;
	p->header_sum = img_header_sum(p);
	w->off = 0;
	return put_bytes(w, (const char *)p, IMG_HEADER_SIZE);
}

static int write_body(struct writer *w, int *copy_fd)
{
	struct rt_vma *vmas;
	int n = rt_maps_read(&vmas), err;

	if (n < 0)
		return n;
	w->regions = rt_alloc(sizeof(*w->regions) * (size_t)n);
	w->runs_cap = 16u << 20;
	w->runs = rt_alloc(sizeof(*w->runs) * w->runs_cap);
	w->strings_cap = (uint32_t)n * 520 + 16;
	w->strings = rt_alloc(w->strings_cap);
	w->pm = rt_alloc(PM_CHUNK * 8);
	w->bounce = rt_alloc(BOUNCE_SIZE);
	int *slot = rt_alloc(sizeof(int) * (size_t)n + 1);
	w->scanvec = rt_alloc(sizeof(*w->scanvec) * SCAN_VEC);
	w->refs_cap = MAX_REFS;
	w->refs = rt_alloc(sizeof(*w->refs) * w->refs_cap);
	if (!w->regions || !w->runs || !w->strings || !w->pm || !w->bounce || !slot ||
	    !w->scanvec || !w->refs)
		return -ENOMEM;
	if ((err = rt_track_begin(vmas, n, copy_fd != NULL)))
		return err;
	add_string(w, ""); /* offset 0 means "no path" */
	if ((err = rt_mm_read(&w->h->mm)))
		return err;
	if ((err = start_body(w)))
		return err;
	if (rt_z_active() && !(w->z = rt_z_begin(w->fd)))
		return rt_last_error()[0] ? -EIO : -ENOMEM;
	/* Regions keep the order of the maps; their data may come in any. */
	for (int i = 0; i < n; i++)
		slot[i] = skipped(&vmas[i], w->h) ? -1 : (int)w->nregions++;
	if (!copy_fd) {
		err = save_regions(w, vmas, n, slot, SAVE_SHARED | SAVE_PRIVATE);
	} else {
		/* Shared memory from the program itself (a copy would not even see
		 * its pages in pagemap); then a copy writes the private memory it
		 * got copy-on-write, and the program may go on. */
		if ((err = save_regions(w, vmas, n, slot, SAVE_SHARED)))
			return err;
		rt_z_pause(w->z); /* a thread of ours would not be in the copy */
		long pid = rt_writer_split(copy_fd);
		if (pid != 0)
			return pid < 0 ? (int)pid : 1;
		close(w->pagemap_fd);
		w->pagemap_fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
		err = save_regions(w, vmas, n, slot, SAVE_PRIVATE);
	}
	if (err)
		return err;
	struct img_section *sections = rt_alloc(sizeof(*sections) * IMG_MAX_SECTIONS);
	struct img_thread *threads = rt_alloc(sizeof(*threads) * (RT_MAX_THREADS + 1));
	uint32_t nsections = 0, nthreads = 0;
	if (!sections || !threads)
		return -ENOMEM;
	if ((err = pad_to_page(w)))
		return err;
	if ((err = rt_sections_write_all(put_section, w, &w->off, sections, &nsections)))
		return err;
	fill_threads(threads, &nthreads);
	if ((err = write_meta(w, threads, nthreads, sections, nsections)))
		return err;
	if (w->z) {
		uint64_t stored;
		if ((err = rt_z_end(w->z, &stored)))
			return err;
		w->h->flags |= IMG_F_ZSTD;
		w->h->stored_size = IMG_HEADER_SIZE + stored;
	}
	fill_header(w, nthreads, nsections);
	if (w->stream) /* the real header last, a whole header block */
		return put_bytes(w, (const char *)w->h, IMG_HEADER_SIZE);
	if (pwrite(w->fd, w->h, sizeof(*w->h), 0) != sizeof(*w->h))
		return -errno;
	return fsync(w->fd) ? -errno : 0;
}

/* The generations the last image refers to (WRITTEN needs=...). */
static char needs[IMG_MAX_DEPS * 12];

const char *rt_image_needs(void)
{
	return needs;
}

/* The image is durable: it is the base of the next incremental one. */
static void note_written(struct writer *w, const char *path)
{
	char rel[300];
	const char *name = strrchr(path, '/');
	size_t len = 0;

	needs[0] = 0;
	for (uint32_t i = 0; i < w->ndeps; i++) {
		unsigned long long g;
		if (sscanf(w->deps[i].path, "gen-%llu/", &g) == 1)
			len += (size_t)snprintf(needs + len, sizeof(needs) - len, "%s%llu",
						len ? "," : "", g);
	}
	snprintf(rel, sizeof(rel), CKPT_GEN_FMT "/%s", (unsigned long long)w->gen,
		 name ? name + 1 : path);
	rt_track_written(rel, w->h);
}

/* Where the file system has no O_DIRECT (tmpfs), everything is buffered. */
static void open_direct(struct writer *w, const char *tmp)
{
	static int said;

	w->direct_fd = open(tmp, O_WRONLY | O_DIRECT | O_CLOEXEC);
	if (w->direct_fd < 0 && !said++)
		rt_log("--direct: %s: %s; writing through the page cache", tmp, strerror(errno));
}

/* The whole image (or not) is in the pipe: close it and learn from the
 * command whether it is safe.  The writer failing: the command must not
 * take a partial image for a whole one, so it is killed -- unless it went
 * first (EPIPE), when its exit status says why. */
static int stream_end(struct writer *w, int err)
{
	if (err && err != -EPIPE)
		rt_stream_abandon();
	close(w->fd);
	w->fd = -1;
	int cmd_err = rt_stream_finish();
	return err ? err : cmd_err;
}

int rt_image_write(uint64_t gen, char *path_out, size_t cap, int *copy_fd)
{
	char dir[4200], tmp[4400];
	struct writer w = { .fd = -1, .direct_fd = -1, .gen = gen };
	int err;

	snprintf(dir, sizeof(dir), "%s/" CKPT_GEN_FMT, rt.ckpt_dir, (unsigned long long)gen);
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		err = -errno;
		cocoon_error("cannot create %s: %s", dir, strerror(-err));
		return err;
	}
	snprintf(path_out, cap, "%s/%s-%d.img", dir, rt.progname, rt.vpid);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path_out);
	w.h = rt_alloc(IMG_HEADER_SIZE);
	w.stream = rt.stream_cmd[0] != 0;
	if (w.stream) /* its name under the checkpoint directory */
		w.fd = rt_stream_open(path_out + strlen(rt.ckpt_dir) + 1, gen);
	else
		w.fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	w.pagemap_fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (w.fd < 0 || !w.h) {
		err = w.fd < 0 ? (w.stream ? w.fd : -errno) : -ENOMEM;
		if (!rt_last_error()[0])
			cocoon_error("cannot create image %s: %s", tmp, strerror(-err));
		goto out;
	}
	if (rt.direct && !rt_z_active() && !w.stream)
		open_direct(&w, tmp);
	memset(w.h, 0, IMG_HEADER_SIZE);
	err = write_body(&w, copy_fd);
	if (err == 1) { /* the program, while its copy writes the rest */
		err = 0;
		goto out;
	}
	if (w.stream && (!copy_fd || *copy_fd < 0)) {
		err = stream_end(&w, err); /* the command is our child */
	} else if (w.stream && err) {
		/* a forked copy: the program waits for the command in
		 * rt_writer_wait, but a partial image must not look whole */
		rt_stream_abandon();
	}
	if (err) {
		if (!rt_last_error()[0])
			cocoon_error("writing image %s: %s", w.stream ? path_out : tmp, strerror(-err));
		goto out;
	}
	if (w.stream)
		goto written;
	if (rename(tmp, path_out) != 0) {
		err = -errno;
		cocoon_error("cannot rename %s: %s", tmp, strerror(errno));
		goto out;
	}
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
written:
	note_written(&w, path_out);
out:
	rt_z_pause(w.z);
	if (w.fd >= 0)
		close(w.fd);
	if (w.direct_fd >= 0)
		close(w.direct_fd);
	if (w.pagemap_fd >= 0)
		close(w.pagemap_fd);
	if (err) {
		if (!w.stream)
			unlink(tmp);
		rt_track_failed();
	}
	return err;
}
