/* SPDX-License-Identifier: MIT */
/*
 * cocoon-restore IMAGE: put a checkpointed process back in this one.
 *
 * Runs as a static program with no libc, linked inside the fixed window
 * [RST_WINDOW, +RST_WINDOW_SIZE) that no image region may touch; `cocoon
 * restart` execs it in the process that keeps the old pid.  Stages, each
 * saying what it may use:
 *   1. args:   the initial stack only (start.S already moved us to .bss).
 *   2. check:  open/read/mmap inside the window; any failure prints one line
 *              and exits 1 with nothing changed.
 *   -- point of no return: from here every failure prints one line, exit 1 --
 *   3. clear:  unmap everything outside the window, move [vvar]/[vdso]
 *              to the image's addresses.
 *   4. load:   map every region, read its pages, verify, protect.
 *   5. mm:     PR_SET_MM_MAP (brk, arg and env bounds); a warning if refused.
 *   6. jump:   FS base, then the runtime's restart_entry(&rst_args) on the
 *              image's restart stack (start.S).  It never returns.
 */
#include <asm/stat.h>

#include "restore/rst.h"
#include "restore/sys.h"

struct rst_args rst_args; /* the runtime copies it, then unmaps the window */

static union {
	struct img_header h;
	char raw[IMG_HEADER_SIZE];
} hdr;
static struct img_meta meta;
static struct rst_maps maps;

__attribute__((noreturn)) void rst_main(long *sp);

/* Copy with truncation; -ENAMETOOLONG if it did not fit. */
static int copy_str(char *dst, size_t size, const char *src)
{
	size_t n = src ? strlen(src) : 0;

	if (n >= size)
		n = size - 1;
	memcpy(dst, src, n);
	dst[n] = 0;
	return src && src[n] ? -ENAMETOOLONG : 0;
}

static const char *env_get(char **envp, const char *name)
{
	size_t n = strlen(name);

	for (; *envp; envp++)
		if (memcmp(*envp, name, n) == 0 && (*envp)[n] == '=')
			return *envp + n + 1;
	return NULL;
}

struct rst_table *rst_table;

/* Stage 2b: map the restart table, if there is one (System V segments). */
static void stage_table(void)
{
	struct stat st;
	int fd = rst_args.table_fd;

	if (fd < 0 || sys_fstat(fd, &st) < 0)
		return;
	if ((uint64_t)st.st_size < sizeof(struct rst_table) || (uint64_t)st.st_size > RST_MAX_TABLE)
		rst_die("the restart table has a wrong size", 0);
	long addr = sys_mmap(RST_SCRATCH_TABLE, (uint64_t)st.st_size, PROT_READ,
			     MAP_SHARED | MAP_FIXED_NOREPLACE, fd, 0);
	if (addr != (long)RST_SCRATCH_TABLE)
		rst_die("cannot map the restart table", addr);
	rst_table = (struct rst_table *)addr;
	if (rst_table->magic != RST_TABLE_MAGIC ||
	    rst_table_size(rst_table->nprocs, rst_table->npipes, rst_table->nshm) >
		    (uint64_t)st.st_size)
		rst_die("the restart table is damaged", 0);
}

/* A small non-negative decimal, or -1. */
static int parse_fd(const char *s)
{
	int v = 0;

	if (!s || !*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > 100000)
			return -1;
		v = v * 10 + (*s - '0');
	}
	return v;
}

static char open_path[64 + 4096];
static char **dep_args; /* argv[3...]: the earlier images (stage_deps) */
static long ndep_args;

/* Stage 1: everything we need from the kernel's stack, before it goes. */
static void stage_args(long *sp)
{
	long argc = sp[0];
	char **argv = (char **)(sp + 1), **envp = argv + argc + 1;
	int err = 0;

	if (argc < 2) {
		rst_put("cocoon: restore: usage: cocoon-restore IMAGE");
		rst_fail();
	}
	rst_args.magic = RST_ARGS_MAGIC;
	rst_args.image_fd = -1;
	rst_args.table_fd = parse_fd(env_get(envp, ENV_RESTART_TABLE));
	rst_args.watch_fd = parse_fd(env_get(envp, ENV_RESTART_WATCH));
	rst_args.window_start = RST_WINDOW;
	rst_args.window_end = RST_WINDOW + RST_WINDOW_SIZE;
	/* argv[1]: where to read the image (the restart command's
	 * /proc/self/fd/N); argv[2], if given: its path, for the program */
	err |= copy_str(open_path, sizeof(open_path), argv[1]);
	dep_args = argv + 3;
	ndep_args = argc > 3 ? argc - 3 : 0;
	err |= copy_str(rst_args.image_path, sizeof(rst_args.image_path), argc > 2 ? argv[2] : argv[1]);
	err |= copy_str(rst_args.coord, sizeof(rst_args.coord), env_get(envp, "COCOON_COORD"));
	err |= copy_str(rst_args.secret, sizeof(rst_args.secret), env_get(envp, "COCOON_SECRET"));
	err |= copy_str(rst_args.ckpt_dir, sizeof(rst_args.ckpt_dir),
			env_get(envp, "COCOON_CKPT_DIR"));
	err |= copy_str(rst_args.env_changes, sizeof(rst_args.env_changes),
			env_get(envp, ENV_RESTART_ENV));
	err |= copy_str(rst_args.path_map, sizeof(rst_args.path_map), env_get(envp, ENV_PATH_MAP));
	rst_args.fast = env_get(envp, ENV_RESTART_FAST) && env_get(envp, ENV_RESTART_FAST)[0] == '1';
	if (err)
		rst_die("image path or a COCOON_* setting is too long", 0);
}

/* Read up to len bytes at off; returns the count (short only at EOF) or -errno. */
static long read_full(int fd, void *buf, uint64_t len, uint64_t off)
{
	uint64_t done = 0;

	while (done < len) {
		long n = sys_pread(fd, (char *)buf + done, len - done, off + done);

		if (n == -EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? n : (long)done;
		done += (uint64_t)n;
	}
	return (long)done;
}

static void check_img(int err)
{
	if (err)
		rst_die(img_strerror(err), 0);
}

/* Stage 2a: open the image, validate header and metadata. */
static int stage_open(void)
{
	const struct img_header *h = &hdr.h;
	struct stat st;
	long fd, n, addr;

	fd = sys_open(open_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		rst_die("cannot open", fd);
	/* the fd the restart command passed: ours now is fd */
	static const char by_fd[] = "/proc/self/fd/";
	if (memcmp(open_path, by_fd, sizeof(by_fd) - 1) == 0) {
		int passed = parse_fd(open_path + sizeof(by_fd) - 1);
		if (passed >= 0 && passed != fd)
			sys_close(passed);
	}
	n = sys_fstat((int)fd, &st);
	if (n < 0)
		rst_die("cannot stat", n);
	rst_args.image_dev = st.st_dev;
	rst_args.image_ino = st.st_ino;
	rst_args.image_size = (uint64_t)st.st_size;
	n = read_full((int)fd, hdr.raw, sizeof(hdr.raw), 0);
	if (n < 0)
		rst_die("cannot read header", n);
	check_img(img_header_check(h, (uint64_t)st.st_size));

	addr = sys_mmap(RST_SCRATCH_META, (h->meta_len + IMG_PAGE - 1) & ~(IMG_PAGE - 1),
			PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
			-1, 0);
	if (addr < 0)
		rst_die("cannot map scratch memory for metadata", addr);
	n = read_full((int)fd, (void *)addr, h->meta_len, h->meta_off);
	if (n < 0)
		rst_die("cannot read metadata", n);
	if ((uint64_t)n != h->meta_len)
		check_img(IMG_E_SHORT);
	check_img(img_meta_check(h, (void *)addr, &meta));
	return (int)fd;
}

static int overlaps(uint64_t s0, uint64_t e0, uint64_t s1, uint64_t e1)
{
	return s0 < e1 && s1 < e0;
}

/* 1: r lies inside the image's [vvar]/[vdso] (the kernel's, skip it);
 * -1: it straddles their edge; 0: no contact. */
static int in_vdso(const struct img_header *h, const struct img_region *r)
{
	if (!h->vdso_start)
		return 0;
	if ((r->start >= h->vvar_start && r->end <= h->vvar_end) ||
	    (r->start >= h->vdso_start && r->end <= h->vdso_end))
		return 1;
	if (overlaps(r->start, r->end, h->vvar_start, h->vvar_end) ||
	    overlaps(r->start, r->end, h->vdso_start, h->vdso_end))
		return -1;
	return 0;
}

static __attribute__((noreturn)) void die_addr(const char *what, uint64_t a, const char *why)
{
	rst_begin();
	rst_put(what);
	rst_put_hex(a);
	rst_put(why);
	rst_fail();
}

/* Stage 2b: will the image fit in this process, and can we jump into it? */
static void stage_check(const struct img_header *h)
{
	int entry_ok = 0, stack_ok = 0, err;
	const char *why;

	for (uint32_t i = 0; i < h->nregions; i++) {
		const struct img_region *r = &meta.regions[i];

		if (overlaps(r->start, r->end, RST_WINDOW, RST_WINDOW + RST_WINDOW_SIZE))
			die_addr("region at ", r->start, " overlaps the restorer's window");
		if (in_vdso(h, r) < 0)
			die_addr("region at ", r->start, " overlaps [vdso]/[vvar]");
		if (h->restart_entry >= r->start && h->restart_entry < r->end &&
		    (r->prot & PROT_EXEC))
			entry_ok = 1;
		if (h->restart_stack > r->start && h->restart_stack <= r->end &&
		    (r->prot & PROT_WRITE))
			stack_ok = 1;
	}
	if (!entry_ok)
		die_addr("restart entry ", h->restart_entry, " is not in an executable region");
	if (!stack_ok)
		die_addr("restart stack ", h->restart_stack, " is not in a writable region");
	err = rst_read_maps(&maps);
	if (err < 0)
		rst_die("cannot read /proc/self/maps", err);
	why = rst_vdso_check(&maps, h);
	if (why)
		rst_die(why, 0);
}

/* Stage 5: the kernel's idea of brk, arg and env; brk matters for malloc. */
static void stage_mm(const struct img_header *h)
{
	struct prctl_mm_map map = {
		.start_code = h->mm.start_code, .end_code = h->mm.end_code,
		.start_data = h->mm.start_data, .end_data = h->mm.end_data,
		.start_brk = h->mm.start_brk,   .brk = h->mm.brk,
		.start_stack = h->mm.start_stack,
		.arg_start = h->mm.arg_start,   .arg_end = h->mm.arg_end,
		.env_start = h->mm.env_start,   .env_end = h->mm.env_end,
		.auxv = NULL,                   .auxv_size = 0,
		.exe_fd = (uint32_t)-1,
	};
	long ret;

	if (!h->mm.start_code && !h->mm.start_brk)
		return; /* not recorded */
	ret = sys_prctl(PR_SET_MM, PR_SET_MM_MAP, (unsigned long)&map, sizeof(map), 0);
	if (ret < 0) {
		rst_put("cocoon: restore: warning: cannot restore brk and arg/env bounds: ");
		rst_put_err(ret);
		rst_end();
	}
}

/* Stage 2c: an incremental image's earlier images.  The restart command
 * opened them (checked to be the very files the image was written
 * against, decompressed if need be) and passes them as argv[3...], in the
 * order of deps[], each as /proc/self/fd/N. */
static void stage_deps(const struct img_header *h)
{
	static const char by_fd[] = "/proc/self/fd/";
	static union {
		struct img_header h;
		char raw[IMG_HEADER_SIZE];
	} dh;

	if ((uint64_t)ndep_args != h->ndeps)
		rst_die("the restart command passed the wrong number of earlier images", 0);
	for (uint32_t i = 0; i < h->ndeps; i++) {
		const struct img_dep *d = &meta.deps[i];
		struct stat st;
		int fd = memcmp(dep_args[i], by_fd, sizeof(by_fd) - 1) == 0 ?
				 parse_fd(dep_args[i] + sizeof(by_fd) - 1) : -1;
		if (fd < 0 || sys_fstat(fd, &st) < 0 || (uint64_t)st.st_size != d->file_size ||
		    read_full(fd, dh.raw, sizeof(dh.raw), 0) != (long)sizeof(dh.raw) ||
		    img_header_check(&dh.h, (uint64_t)st.st_size) != IMG_OK) {
			rst_begin();
			rst_put("the earlier image ");
			rst_put(d->path);
			rst_put(" as passed by the restart command is not usable");
			rst_fail();
		}
		rst_dep_fd[i] = fd;
	}
}

void rst_main(long *sp)
{
	const struct img_header *h = &hdr.h;
	long ret;

	stage_args(sp);
	rst_args.image_fd = stage_open();
	stage_check(h);
	stage_table();
	stage_deps(h);

	/* Point of no return. */
	rst_park_vdso(&maps, h);
	rst_unmap_all(&maps);
	rst_place_vdso(&maps, h);

	for (uint32_t i = 0; i < h->nthreads; i++)
		if (meta.threads[i].flags & IMG_T_CKPT)
			rst_ckpt_fsbase = meta.threads[i].fsbase;
	for (uint32_t i = 0; i < h->nregions; i++)
		if (!in_vdso(h, &meta.regions[i]))
			rst_load_region(&meta.regions[i], &meta, rst_args.image_fd, h->nrefs);
	for (uint32_t i = 0; i < h->ndeps; i++)
		sys_close(rst_dep_fd[i]);

	stage_mm(h);
	ret = sys_arch_prctl(ARCH_SET_FS, h->main_fsbase);
	if (ret < 0)
		rst_die("cannot set the FS base", ret);
	rst_jump(h->restart_stack, h->restart_entry, &rst_args);
}
