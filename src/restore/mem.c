/* SPDX-License-Identifier: MIT */
/*
 * The restorer's memory work: reading our own /proc/self/maps, clearing
 * the address space, moving [vvar]/[vdso], and mapping image regions back.
 *
 * No libc.  rst_read_maps and rst_vdso_check run before the point of no
 * return and only report; everything else runs after it and, on error,
 * prints one line and exits 1 (the process cannot be put back).
 */
#include <asm/stat.h>

#include "common/pathmap.h"
#include "restore/rst.h"
#include "restore/sys.h"

#define READ_CHUNK (1ul << 30) /* largest pread we issue */

static char maps_buf[64 << 10];

static uint64_t parse_hex(const char **pp)
{
	const char *p = *pp;
	uint64_t v = 0;

	for (;; p++) {
		if (*p >= '0' && *p <= '9')
			v = v << 4 | (uint64_t)(*p - '0');
		else if (*p >= 'a' && *p <= 'f')
			v = v << 4 | (uint64_t)(*p - 'a' + 10);
		else
			break;
	}
	*pp = p;
	return v;
}

static int name_is(const char *p, const char *name)
{
	size_t n = strlen(name);

	return memcmp(p, name, n) == 0 && (p[n] == '\n' || p[n] == 0);
}

/* "start-end perms offset dev inode   name": we need start, end and name. */
static const char *parse_line(const char *p, struct rst_vma *v)
{
	v->start = parse_hex(&p);
	if (*p++ != '-')
		return NULL;
	v->end = parse_hex(&p);
	for (int field = 0; field < 4; field++) {
		while (*p == ' ')
			p++;
		while (*p && *p != ' ' && *p != '\n')
			p++;
	}
	while (*p == ' ')
		p++;
	v->kind = VMA_OTHER;
	if (name_is(p, "[vvar]") || name_is(p, "[vvar_vclock]"))
		v->kind = VMA_VVAR;
	else if (name_is(p, "[vdso]"))
		v->kind = VMA_VDSO;
	else if (name_is(p, "[vsyscall]"))
		v->kind = VMA_VSYSCALL;
	while (*p && *p != '\n')
		p++;
	return *p ? p + 1 : p;
}

int rst_read_maps(struct rst_maps *m)
{
	size_t len = 0;
	long fd = sys_open("/proc/self/maps", O_RDONLY | O_CLOEXEC), n;

	if (fd < 0)
		return (int)fd;
	while ((n = sys_read((int)fd, maps_buf + len, sizeof(maps_buf) - 1 - len)) > 0)
		len += (size_t)n;
	sys_close((int)fd);
	if (n < 0)
		return (int)n;
	if (len >= sizeof(maps_buf) - 1)
		return -EOVERFLOW;
	maps_buf[len] = 0;

	memset(m, 0, sizeof(*m));
	for (const char *p = maps_buf; p && *p;) {
		struct rst_vma *v = &m->vma[m->n];

		if (m->n == RST_MAX_VMAS)
			return -EOVERFLOW;
		p = parse_line(p, v);
		if (!p || v->start >= v->end)
			return -EINVAL;
		m->n++;
		if (v->kind == VMA_VVAR) {
			if (!m->vvar_start || v->start < m->vvar_start)
				m->vvar_start = v->start;
			if (v->end > m->vvar_end)
				m->vvar_end = v->end;
		} else if (v->kind == VMA_VDSO) {
			m->vdso_start = v->start;
			m->vdso_end = v->end;
		}
	}
	return 0;
}

/* Lowest address of our vvar+vdso group: pieces keep their offsets from it. */
static uint64_t vdso_base(const struct rst_maps *m)
{
	return m->vvar_start && m->vvar_start < m->vdso_start ? m->vvar_start : m->vdso_start;
}

/* Where the group's base goes in the image (the layouts were checked equal). */
static uint64_t image_base(const struct rst_maps *m, const struct img_header *h)
{
	return h->vdso_start - (m->vdso_start - vdso_base(m));
}

/*
 * Our [vvar]/[vdso] can take the image's place only if they have the same
 * sizes and the same distance between them: the vdso's code reaches its
 * data at a fixed offset, and the program may hold pointers into it.
 */
const char *rst_vdso_check(const struct rst_maps *m, const struct img_header *h)
{
	if (!h->vdso_start)
		return NULL;
	if (!m->vdso_start)
		return "this process has no [vdso] to put in the image's place";
	if (h->vdso_end - h->vdso_start != m->vdso_end - m->vdso_start ||
	    h->vvar_end - h->vvar_start != m->vvar_end - m->vvar_start ||
	    (m->vvar_start && h->vdso_start - h->vvar_start != m->vdso_start - m->vvar_start))
		return "[vdso]/[vvar] differ from this kernel's (checkpointed under another kernel?)";
	uint64_t lo = image_base(m, h);
	uint64_t span = (m->vvar_end > m->vdso_end ? m->vvar_end : m->vdso_end) - vdso_base(m);
	if (span > (64ul << 20) || lo % IMG_PAGE || lo >= IMG_USER_TOP ||
	    span > IMG_USER_TOP - lo || (lo < RST_WINDOW + RST_WINDOW_SIZE && RST_WINDOW < lo + span))
		return "[vdso]/[vvar] out of bounds";
	return NULL;
}

static void move_vdso(const struct rst_maps *m, uint64_t from, uint64_t to)
{
	for (int i = 0; i < m->n; i++) {
		const struct rst_vma *v = &m->vma[i];
		uint64_t len = v->end - v->start, off = v->start - vdso_base(m);
		long ret;

		if (v->kind != VMA_VVAR && v->kind != VMA_VDSO)
			continue;
		ret = sys_mremap(from + off, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, to + off);
		if (ret < 0) {
			rst_begin();
			rst_put("cannot move [vdso]/[vvar] to ");
			rst_put_hex(to + off);
			rst_put(": ");
			rst_put_err(ret);
			rst_fail();
		}
	}
}

/* First step past the point of no return: park the vdso in the window. */
void rst_park_vdso(const struct rst_maps *m, const struct img_header *h)
{
	if (h->vdso_start)
		move_vdso(m, vdso_base(m), RST_SCRATCH_VDSO);
}

void rst_place_vdso(const struct rst_maps *m, const struct img_header *h)
{
	if (h->vdso_start)
		move_vdso(m, RST_SCRATCH_VDSO, image_base(m, h));
}

static void unmap(uint64_t start, uint64_t end)
{
	long ret;

	if (start >= end)
		return;
	ret = sys_munmap(start, end - start);
	if (ret < 0) {
		rst_begin();
		rst_put("cannot unmap ");
		rst_put_hex(start);
		rst_put("-");
		rst_put_hex(end);
		rst_put(": ");
		rst_put_err(ret);
		rst_fail();
	}
}

/* Unmap all but the window, [vsyscall] and the vdso group (moved or kept). */
void rst_unmap_all(const struct rst_maps *m)
{
	const uint64_t w0 = RST_WINDOW, w1 = RST_WINDOW + RST_WINDOW_SIZE;

	for (int i = 0; i < m->n; i++) {
		const struct rst_vma *v = &m->vma[i];

		if (v->kind != VMA_OTHER || v->start >= IMG_USER_TOP)
			continue;
		unmap(v->start, v->end < w0 ? v->end : w0);
		unmap(v->start > w1 ? v->start : w1, v->end);
	}
}

static __attribute__((noreturn)) void region_die(const struct img_region *r, const char *what,
						 long err)
{
	rst_begin();
	rst_put("region ");
	rst_put_hex(r->start);
	rst_put("-");
	rst_put_hex(r->end);
	rst_put(" ");
	rst_put(what);
	if (err < 0) {
		rst_put(": ");
		rst_put_err(err);
	}
	rst_fail();
}

static void warn_file(const char *path, const char *what)
{
	rst_put("cocoon: restore: warning: ");
	rst_put(path);
	rst_put(what);
	rst_end();
}

/*
 * Open the file behind a file region, or return -1 for "map anonymous".
 * A shared mapping cannot be faked, so a missing file is fatal there.
 */
static int open_backing(const struct img_region *r, const char *path)
{
	int shared = !(r->flags & IMG_R_PRIVATE);
	int need = (r->flags & IMG_R_NEED_FILE) || shared;
	int writable = shared && ((r->prot & PROT_WRITE) || r->npages);
	long fd = sys_open(path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	struct stat st;

	if (fd < 0) {
		if (shared)
			region_die(r, "shared file cannot be opened", fd);
		if (need)
			warn_file(path, " missing, its unsaved pages read as zero");
		return -1;
	}
	if (sys_fstat((int)fd, &st) < 0)
		st.st_size = 0;
	uint64_t have = ((uint64_t)st.st_size + IMG_PAGE - 1) & ~(IMG_PAGE - 1);
	if (have < r->file_off || have - r->file_off < r->end - r->start) {
		if (shared)
			region_die(r, "shared file is shorter than at checkpoint", 0);
		if (need)
			warn_file(path, " is shorter than at checkpoint, missing pages read as zero");
		sys_close((int)fd);
		return -1;
	}
	if (need && r->file_ino &&
	    (st.st_ino != r->file_ino || (uint64_t)st.st_size != r->file_size ||
	     st.st_mtime * 1000000000ull + st.st_mtime_nsec != r->file_mtime_ns))
		warn_file(path, " changed since the checkpoint");
	return (int)fd;
}

#define SHM_REMAP_FLAG 040000 /* SHM_REMAP: replace what is mapped there */

/* Read the region's stored runs straight into place, checksumming them. */
static void load_pages(const struct img_region *r, const struct img_meta *meta, int img_fd)
{
	uint64_t off = r->data_off;
	struct img_sum sum;

	img_sum_init(&sum);
	for (uint32_t i = 0; i < r->nruns; i++) {
		const struct img_run *run = &meta->runs[r->run_first + i];
		char *p = (char *)(r->start + run->page * IMG_PAGE);
		uint64_t left = run->npages * IMG_PAGE;

		while (left) {
			long n = sys_pread(img_fd, p, left < READ_CHUNK ? left : READ_CHUNK, off);

			if (n == -EINTR)
				continue;
			if (n < 0)
				region_die(r, "cannot read pages", n);
			if (n == 0)
				region_die(r, "data ends early (image truncated?)", 0);
			img_sum_update(&sum, p, (size_t)n);
			p += n;
			off += (uint64_t)n;
			left -= (uint64_t)n;
		}
	}
	if (img_sum_final(&sum) != r->data_sum)
		region_die(r, "checksum mismatch (image damaged?)", 0);
}

/*
 * Map one region at its old address.  With stored pages to load it is
 * mapped readable and writable, filled, then given its own protection;
 * otherwise it gets its final protection at once (big PROT_NONE
 * reservations then cost no commit charge).  A shared file mapping takes
 * its contents from the file, which is the truth for every process that
 * shares it -- except memory-backed files (POSIX shared memory), whose
 * pages the image stores: they are written back into the file.
 */
/* The segment the restart command made for System V segment old_id. */
static int sysv_new_id(const struct img_region *r)
{
	for (uint32_t i = 0; rst_table && i < rst_table->nshm; i++)
		if (rst_table_shm(rst_table)[i].old_id == (int32_t)r->file_ino)
			return rst_table_shm(rst_table)[i].new_id;
	region_die(r, "System V shared memory that the restart did not make", 0);
}

/* A System V segment, attached at its old address and filled. */
static void load_sysv(const struct img_region *r, const struct img_meta *meta, int img_fd)
{
	int prot = (int)(r->prot & (PROT_READ | PROT_WRITE | PROT_EXEC));
	long addr = sys_shmat(sysv_new_id(r), r->start, SHM_REMAP_FLAG);

	if (addr < 0)
		region_die(r, "System V shared memory cannot be attached", addr);
	if ((uint64_t)addr != r->start)
		region_die(r, "System V shared memory attached at the wrong address", 0);
	if (!r->npages)
		return;
	load_pages(r, meta, img_fd);
	if (prot != (PROT_READ | PROT_WRITE)) {
		long ret = sys_mprotect(r->start, r->end - r->start, prot);
		if (ret < 0)
			region_die(r, "cannot be protected", ret);
	}
}

/* cocoon restart --fast: regions mapped from the image rather than read.
 * Big private anonymous ones only, in few pieces (each run becomes a VMA):
 * the heap and stack keep their kernel roles, shared memory must stay
 * shared, and a region of many scattered pages would need many VMAs. */
#define FAST_MIN_BYTES (1ul << 20)
#define FAST_MAX_RUNS 64

uint64_t rst_ckpt_fsbase;
int rst_dep_fd[IMG_MAX_DEPS];

/* The references of an incremental image, sorted by region: those of r. */
static void region_refs(const struct img_region *r, const struct img_meta *meta, uint32_t nrefs,
			uint32_t *first, uint32_t *count)
{
	uint32_t idx = (uint32_t)(r - meta->regions), i = 0;

	while (i < nrefs && meta->refs[i].region < idx)
		i++;
	*first = i;
	while (i < nrefs && meta->refs[i].region == idx)
		i++;
	*count = i - *first;
}

/* Pages unchanged since an earlier checkpoint, read from its image. */
static void load_refs(const struct img_region *r, const struct img_meta *meta, uint32_t first,
		      uint32_t count)
{
	for (uint32_t i = first; i < first + count; i++) {
		const struct img_ref *f = &meta->refs[i];
		char *p = (char *)(r->start + f->page * IMG_PAGE);
		uint64_t left = f->npages * IMG_PAGE, off = f->src_off;

		while (left) {
			long n = sys_pread(rst_dep_fd[f->dep], p, left < READ_CHUNK ? left : READ_CHUNK,
					   off);
			if (n == -EINTR)
				continue;
			if (n <= 0)
				region_die(r, "cannot read pages from an earlier image", n);
			p += n;
			off += (uint64_t)n;
			left -= (uint64_t)n;
		}
	}
}

static int fast_region(const struct img_region *r)
{
	return rst_args.fast && (r->flags & IMG_R_PRIVATE) &&
	       !(rst_ckpt_fsbase >= r->start && rst_ckpt_fsbase < r->end) &&
	       !(r->flags & (IMG_R_FILE | IMG_R_STACK | IMG_R_HEAP | IMG_R_GROWSDOWN | IMG_R_SYSV)) &&
	       r->npages && r->nruns <= FAST_MAX_RUNS && r->end - r->start >= FAST_MIN_BYTES;
}

/* Map each stored run copy-on-write from the image over the region's
 * anonymous (zero) memory; pages come in when first touched.  The data is
 * not checksummed (that would read it all): only its bounds are checked.
 * 0, or -errno when the image cannot be mapped so (a noexec mount for an
 * executable region): the caller reads the region instead. */
static long map_pages(const struct img_region *r, const struct img_meta *meta, int img_fd,
		      int prot)
{
	uint64_t off = r->data_off;

	for (uint32_t i = 0; i < r->nruns; i++) {
		const struct img_run *run = &meta->runs[r->run_first + i];
		uint64_t len = run->npages * IMG_PAGE;

		if (off % IMG_PAGE || off + len > rst_args.image_size)
			region_die(r, "data ends early (image truncated?)", 0);
		long addr = sys_mmap(r->start + run->page * IMG_PAGE, len, prot, MAP_PRIVATE | MAP_FIXED,
				     img_fd, off);
		if (addr < 0)
			return addr;
		off += len;
	}
	return 0;
}

void rst_load_region(const struct img_region *r, const struct img_meta *meta, int img_fd,
		     uint32_t nrefs)
{
	uint32_t ref_first, nref;

	region_refs(r, meta, nrefs, &ref_first, &nref);
	int prot = (int)(r->prot & (PROT_READ | PROT_WRITE | PROT_EXEC));
	int shared = !(r->flags & IMG_R_PRIVATE);
	int flags = MAP_FIXED | (shared ? MAP_SHARED : MAP_PRIVATE);
	uint64_t len = r->end - r->start, file_off = 0, npages = r->npages;
	int fd = -1, load_prot;
	long addr;

	if (r->flags & IMG_R_SYSV) {
		load_sysv(r, meta, img_fd);
		return;
	}
	if ((r->flags & IMG_R_FILE) && r->path_len) {
		static char moved[4096];
		const char *path = meta->strings + r->path_off;
		if (pathmap_apply(rst_args.path_map, path, moved, sizeof(moved)) == 1)
			path = moved;
		fd = open_backing(r, path);
	}
	if (fd >= 0)
		file_off = r->file_off;
	else {
		flags |= MAP_ANONYMOUS;
		if (r->flags & IMG_R_GROWSDOWN)
			flags |= MAP_GROWSDOWN;
	}
	if (fast_region(r) && !nref) {
		addr = sys_mmap(r->start, len, prot, flags, -1, 0);
		if (addr >= 0 && (uint64_t)addr == r->start && map_pages(r, meta, img_fd, prot) == 0)
			return;
		/* not mappable from the image: read it below */
	}
	load_prot = npages || nref ? prot | PROT_READ | PROT_WRITE : prot;
	addr = sys_mmap(r->start, len, load_prot, flags, fd, file_off);
	if (fd >= 0)
		sys_close(fd);
	if (addr < 0)
		region_die(r, "cannot be mapped", addr);
	if ((uint64_t)addr != r->start)
		region_die(r, "mapped at the wrong address", 0);
	if (!npages && !nref)
		return;
	if (npages)
		load_pages(r, meta, img_fd);
	load_refs(r, meta, ref_first, nref);
	if (load_prot != prot) {
		long ret = sys_mprotect(r->start, len, prot);

		if (ret < 0)
			region_die(r, "cannot be protected", ret);
	}
}
