/* SPDX-License-Identifier: MIT */
/*
 * cocoon inspect: print what a checkpoint image holds, and with --verify
 * check every region's and section's data against its checksum.
 *
 * Runs in the cocoon command, on files that may be damaged, truncated or
 * hostile.  It must never crash on one: the file is read with pread into
 * buffers whose sizes were checked first (never mmapped), nothing from it
 * is used before img_header_check and img_meta_check accept it, and every
 * string from it is printed bounded and with control bytes escaped.
 * Exit status: 0 fine, 1 bad image or I/O error or a checksum mismatch,
 * 2 usage error.
 */
#include "cli/cli.h"
#include "common/config.h"
#include "common/image.h"
#include "common/manifest.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define VERIFY_CHUNK (1ul << 20)

struct inspect {
	const char *path;
	int fd;
	uint64_t size; /* of the file, from fstat */
	struct img_header h;
	void *meta_buf;
	struct img_meta m;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: cocoon inspect [--verify] IMAGE|DIR\n"
		"\n"
		"Print what a checkpoint image holds: header, threads, memory regions\n"
		"and plugin sections.  Given a generation directory (DIR/gen-NNNNNN)\n"
		"or a checkpoint directory (its latest generation), every image its\n"
		"MANIFEST lists.\n"
		"\n"
		"  --verify   also read all stored data and check its checksums;\n"
		"             exit 1 if any region or section does not match\n"
		"  --help     show this help\n");
}

/* Read exactly len bytes at off.  0, -errno, or -EIO if the file ended. */
static int read_full(int fd, void *buf, size_t len, uint64_t off)
{
	char *p = buf;

	while (len) {
		ssize_t n = pread(fd, p, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

static const char *human(char *buf, size_t cap, uint64_t n)
{
	static const char unit[] = "BKMGTPE";
	double v = (double)n;
	int u = 0;

	if (n < 1024) {
		snprintf(buf, cap, "%" PRIu64 "B", n);
		return buf;
	}
	while (v >= 1024 && u < 6) {
		v /= 1024;
		u++;
	}
	snprintf(buf, cap, "%.1f%c", v, unit[u]);
	return buf;
}

/* Print at most max bytes of s, up to its NUL, control bytes as \xNN. */
static void print_str(const char *s, size_t max)
{
	for (size_t i = 0; i < max && s[i]; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f || c == '\\')
			printf("\\x%02x", c);
		else
			putchar(c);
	}
}

/* The same, into out (for error messages); cap must be at least 5. */
static const char *clean(char *out, size_t cap, const char *s, size_t max)
{
	size_t o = 0;

	for (size_t i = 0; i < max && s[i] && o + 5 <= cap; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f || c == '\\')
			o += (size_t)snprintf(out + o, cap - o, "\\x%02x", c);
		else
			out[o++] = (char)c;
	}
	out[o] = 0;
	return out;
}

static void print_range(const char *label, uint64_t a, uint64_t b)
{
	printf("%-12s0x%012" PRIx64 "-0x%012" PRIx64 "\n", label, a, b);
}

static void print_time(uint64_t ns)
{
	time_t sec = (time_t)(ns / 1000000000u);
	struct tm tm;
	char buf[64];

	printf("%-12s", "time");
	if (ns && localtime_r(&sec, &tm) && strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S %z", &tm))
		printf("%s (%" PRIu64 ".%09" PRIu64 ")\n", buf, ns / 1000000000u,
		       ns % 1000000000u);
	else
		printf("%" PRIu64 " ns\n", ns);
}

static void print_header(const struct inspect *in)
{
	const struct img_header *h = &in->h;
	const struct img_mm *mm = &h->mm;
	char sz[32];

	printf("%-12s", "image");
	print_str(in->path, strlen(in->path));
	printf("\n%-12sversion %" PRIu32 ", x86-64, page %" PRIu32 "\n", "format", h->version,
	       h->page_size);
	printf("%-12s%" PRIu64 "\n", "generation", h->generation);
	printf("%-12s", "host");
	print_str(h->hostname, sizeof(h->hostname));
	printf("\n%-12s", "program");
	print_str(h->progname, sizeof(h->progname));
	printf("\n%-12svpid %" PRId32 ", pid %" PRId32 ", vppid %" PRId32 ", pgid %" PRId32
	       ", sid %" PRId32 "\n", "process", h->vpid, h->real_pid, h->vppid, h->vpgid, h->vsid);
	print_time(h->time_ns);
	printf("%-12s%s (%" PRIu64 " bytes), metadata %" PRIu64 " bytes at 0x%" PRIx64 "\n",
	       "file size", human(sz, sizeof(sz), h->file_size), h->file_size, h->meta_len,
	       h->meta_off);
	printf("%-12sentry 0x%" PRIx64 ", stack 0x%" PRIx64 ", main fsbase 0x%" PRIx64 "\n",
	       "restart", h->restart_entry, h->restart_stack, h->main_fsbase);
	print_range("vdso", h->vdso_start, h->vdso_end);
	print_range("vvar", h->vvar_start, h->vvar_end);
	print_range("mm code", mm->start_code, mm->end_code);
	print_range("mm data", mm->start_data, mm->end_data);
	print_range("mm brk", mm->start_brk, mm->brk);
	printf("%-12s0x%012" PRIx64 "\n", "mm stack", mm->start_stack);
	print_range("mm args", mm->arg_start, mm->arg_end);
	print_range("mm env", mm->env_start, mm->env_end);
}

static void print_threads(const struct inspect *in)
{
	printf("\nthreads: %" PRIu32 "\n", in->h.nthreads);
	printf("  %8s %8s  %-10s %s\n", "vtid", "tid", "flags", "fsbase");
	for (uint32_t i = 0; i < in->h.nthreads; i++) {
		const struct img_thread *t = &in->m.threads[i];
		uint32_t rest = t->flags & ~(IMG_T_MAIN | IMG_T_CKPT);
		char flags[32];

		snprintf(flags, sizeof(flags), "%s%s%s", t->flags & IMG_T_MAIN ? "main" : "",
			 (t->flags & IMG_T_MAIN) && (t->flags & IMG_T_CKPT) ? "," : "",
			 t->flags & IMG_T_CKPT ? "ckpt" : "");
		if (rest)
			snprintf(flags + strlen(flags), sizeof(flags) - strlen(flags), "%s0x%" PRIx32,
				 flags[0] ? "," : "", rest);
		printf("  %8" PRId32 " %8" PRId32 "  %-10s 0x%012" PRIx64 "\n", t->vtid, t->tid,
		       flags[0] ? flags : "-", t->fsbase);
	}
}

/* What backs a region: [stack], [heap], its file (with offset), or anon. */
static void print_kind(const struct inspect *in, const struct img_region *r)
{
	const char *path = r->path_len ? in->m.strings + r->path_off : NULL;

	if (r->flags & IMG_R_STACK) {
		printf("[stack]");
	} else if (r->flags & IMG_R_HEAP) {
		printf("[heap]");
	} else if (r->flags & IMG_R_FILE) {
		if (path)
			print_str(path, r->path_len);
		else
			printf("(file without a path)");
		printf(" @0x%" PRIx64, r->file_off);
		return;
	} else if (path) {
		print_str(path, r->path_len);
	} else {
		printf("anon");
	}
	if (path && strcmp(path, r->flags & IMG_R_STACK ? "[stack]" : "[heap]") != 0 &&
	    (r->flags & (IMG_R_STACK | IMG_R_HEAP))) {
		putchar(' ');
		print_str(path, r->path_len);
	}
}

static void print_region(const struct inspect *in, const struct img_region *r)
{
	uint32_t rest = r->flags & ~(IMG_R_PRIVATE | IMG_R_FILE | IMG_R_STACK | IMG_R_HEAP |
				     IMG_R_NEED_FILE | IMG_R_GROWSDOWN);
	char size[32], stored[32];

	printf("  0x%012" PRIx64 "-0x%012" PRIx64 " %7s  %c%c%c%c  %7" PRIu64 " %7s  ",
	       r->start, r->end, human(size, sizeof(size), r->end - r->start),
	       r->prot & 1 ? 'r' : '-', r->prot & 2 ? 'w' : '-', r->prot & 4 ? 'x' : '-',
	       r->flags & IMG_R_PRIVATE ? 'p' : 's', r->npages,
	       human(stored, sizeof(stored), r->npages * IMG_PAGE));
	print_kind(in, r);
	if (r->flags & IMG_R_NEED_FILE)
		printf(" need-file");
	if (r->flags & IMG_R_GROWSDOWN)
		printf(" growsdown");
	if (r->prot & ~7u)
		printf(" prot=0x%" PRIx32, r->prot);
	if (rest)
		printf(" flags=0x%" PRIx32, rest);
	if (r->npages) /* the checksum of the stored pages: equal sums, equal data */
		printf(" sum=%016" PRIx64, r->data_sum);
	putchar('\n');
}

static void print_regions(const struct inspect *in)
{
	printf("\nregions: %" PRIu32 "\n", in->h.nregions);
	printf("  %-29s %7s  %-4s  %7s %7s  %s\n", "address", "size", "perm", "pages", "stored",
	       "kind");
	for (uint32_t i = 0; i < in->h.nregions; i++)
		print_region(in, &in->m.regions[i]);
}

static void print_sections(const struct inspect *in)
{
	char size[32];

	printf("\nsections: %" PRIu32 "\n", in->h.nsections);
	if (!in->h.nsections)
		return;
	printf("  %-31s %10s %7s  %s\n", "name", "bytes", "size", "offset");
	for (uint32_t i = 0; i < in->h.nsections; i++) {
		const struct img_section *s = &in->m.sections[i];
		size_t n = strlen(s->name);

		printf("  ");
		print_str(s->name, sizeof(s->name));
		printf("%*s %10" PRIu64 " %7s  0x%" PRIx64 "\n", n < 31 ? (int)(31 - n) : 0, "",
		       s->len, human(size, sizeof(size), s->len), s->off);
	}
}

/* Incremental images: the earlier images their references read from. */
static void print_deps(const struct inspect *in)
{
	uint64_t pages[IMG_MAX_DEPS] = { 0 };

	if (!in->h.ndeps)
		return;
	for (uint32_t i = 0; i < in->h.nrefs; i++)
		pages[in->m.refs[i].dep] += in->m.refs[i].npages;
	printf("\nrefers to: %" PRIu32 " earlier images (%" PRIu32 " references)\n", in->h.ndeps,
	       in->h.nrefs);
	for (uint32_t i = 0; i < in->h.ndeps; i++) {
		printf("  ");
		print_str(in->m.deps[i].path, sizeof(in->m.deps[i].path));
		printf("  %" PRIu64 " pages\n", pages[i]);
	}
}

static void print_totals(const struct inspect *in)
{
	uint64_t mapped = 0, pages = 0, sec = 0;
	char a[32], b[32], c[32], d[32];

	for (uint32_t i = 0; i < in->h.nregions; i++) {
		mapped += in->m.regions[i].end - in->m.regions[i].start;
		pages += in->m.regions[i].npages;
	}
	for (uint32_t i = 0; i < in->h.nsections; i++)
		sec += in->m.sections[i].len;
	printf("\ntotal: %" PRIu32 " regions (%s mapped), %" PRIu64 " pages stored (%s, %" PRIu64
	       " bytes), %" PRIu32 " sections (%s), image %s (%" PRIu64 " bytes)\n",
	       in->h.nregions, human(a, sizeof(a), mapped), pages,
	       human(b, sizeof(b), pages * IMG_PAGE), pages * IMG_PAGE, in->h.nsections,
	       human(c, sizeof(c), sec), human(d, sizeof(d), in->size), in->size);
}

/* img_sum of len bytes at off.  0 or -errno. */
static int sum_range(const struct inspect *in, char *buf, uint64_t off, uint64_t len,
		     uint64_t *out)
{
	struct img_sum s;

	img_sum_init(&s);
	while (len) {
		size_t n = len < VERIFY_CHUNK ? (size_t)len : VERIFY_CHUNK;
		int err = read_full(in->fd, buf, n, off);
		if (err)
			return err;
		img_sum_update(&s, buf, n);
		off += n;
		len -= n;
	}
	*out = img_sum_final(&s);
	return 0;
}

/* Check each region's stored pages and each section against its sum,
 * reporting every mismatch.  Returns the number of bad ones, or -errno. */
static int verify(const struct inspect *in)
{
	char *buf = malloc(VERIFY_CHUNK);
	int bad = 0, err = 0;
	uint64_t sum;

	if (!buf)
		return -ENOMEM;
	for (uint32_t i = 0; i < in->h.nregions; i++) {
		const struct img_region *r = &in->m.regions[i];
		if (!r->npages)
			continue; /* nothing stored, nothing to check */
		err = sum_range(in, buf, r->data_off, r->npages * IMG_PAGE, &sum);
		if (err)
			goto out;
		if (sum != r->data_sum) {
			cli_error("inspect: %s: region 0x%" PRIx64 "-0x%" PRIx64
				  " checksum mismatch (image damaged?)",
				  in->path, r->start, r->end);
			bad++;
		}
	}
	for (uint32_t i = 0; i < in->h.nsections; i++) {
		const struct img_section *s = &in->m.sections[i];
		err = sum_range(in, buf, s->off, s->len, &sum);
		if (err)
			goto out;
		if (sum != s->sum) {
			char name[4 * sizeof(s->name) + 1];
			cli_error("inspect: %s: section %s checksum mismatch (image damaged?)",
				  in->path, clean(name, sizeof(name), s->name, sizeof(s->name)));
			bad++;
		}
	}
out:
	free(buf);
	return err ? err : bad;
}

/* Open, read and validate.  0, or 1 after printing why the image is refused. */
static int load(struct inspect *in)
{
	struct stat st;
	int err;

	/* a compressed image is read decompressed (a memfd) */
	in->fd = cli_image_open(in->path, &err, NULL);
	if (in->fd < 0) {
		cli_error("inspect: %s: %s", in->path,
			  err ? img_strerror(err) : strerror(-in->fd));
		return 1;
	}
	if (fstat(in->fd, &st) < 0) {
		cli_error("inspect: %s: %s", in->path, strerror(errno));
		return 1;
	}
	if (!S_ISREG(st.st_mode)) {
		cli_error("inspect: %s: not a regular file", in->path);
		return 1;
	}
	in->size = (uint64_t)st.st_size;
	memset(&in->h, 0, sizeof(in->h));
	size_t want = in->size < sizeof(in->h) ? (size_t)in->size : sizeof(in->h);
	err = read_full(in->fd, &in->h, want, 0);
	if (err) {
		cli_error("inspect: %s: %s", in->path, strerror(-err));
		return 1;
	}
	err = img_header_check(&in->h, in->size);
	if (err) {
		cli_error("inspect: %s: %s", in->path, img_strerror(err));
		return 1;
	}
	/* Bounded by img_header_check: meta_len <= IMG_MAX_META, inside the file. */
	in->meta_buf = malloc(in->h.meta_len ? in->h.meta_len : 1);
	if (!in->meta_buf) {
		cli_error("inspect: %s: %s", in->path, strerror(ENOMEM));
		return 1;
	}
	err = read_full(in->fd, in->meta_buf, in->h.meta_len, in->h.meta_off);
	if (err) {
		cli_error("inspect: %s: reading metadata: %s", in->path, strerror(-err));
		return 1;
	}
	err = img_meta_check(&in->h, in->meta_buf, &in->m);
	if (err) {
		cli_error("inspect: %s: %s", in->path, img_strerror(err));
		return 1;
	}
	return 0;
}

static int inspect_one(struct inspect *in, int do_verify)
{
	int ret = load(in);

	if (ret)
		return ret;
	print_header(in);
	print_threads(in);
	print_regions(in);
	print_sections(in);
	print_deps(in);
	print_totals(in);
	if (do_verify) {
		fflush(stdout);
		int bad = verify(in);
		if (bad < 0) {
			cli_error("inspect: %s: reading data: %s", in->path, strerror(-bad));
			return 1;
		}
		if (bad) {
			cli_error("inspect: %s: %d checksum mismatch%s", in->path, bad,
				  bad == 1 ? "" : "es");
			return 1;
		}
		printf("verify: all %" PRIu32 " regions and %" PRIu32 " sections match\n",
		       in->h.nregions, in->h.nsections);
	}
	return 0;
}

static void inspect_close(struct inspect *in)
{
	free(in->meta_buf);
	in->meta_buf = NULL;
	if (in->fd >= 0)
		close(in->fd);
	in->fd = -1;
}

/* Every image of a generation: DIR itself when it holds a MANIFEST, else
 * the generation DIR/latest names.  0, or 1 if any image was refused. */
static int inspect_dir(const char *dir, int do_verify)
{
	char gen_dir[4096];
	struct manifest m;
	unsigned long long gen;
	int err, ret = 0;

	snprintf(gen_dir, sizeof(gen_dir), "%s", dir);
	err = manifest_read(gen_dir, &m);
	if (err == -ENOENT) {
		err = ckpt_read_latest(dir, &gen);
		if (err == -ENOENT) {
			cli_error("inspect: %s: neither an image, a generation (no MANIFEST) "
				  "nor a checkpoint directory (no %s)", dir, CKPT_LATEST);
			return 1;
		}
		if (!err)
			err = ckpt_gen_dir(dir, gen, gen_dir, sizeof(gen_dir));
		if (!err)
			err = manifest_read(gen_dir, &m);
	}
	if (err) {
		cli_error("inspect: %s: %s", gen_dir,
			  err == -EBADMSG ? "malformed MANIFEST or latest" : strerror(-err));
		return 1;
	}
	printf("checkpoint  %s: generation %llu, %d image%s\n", gen_dir, m.gen, m.n,
	       m.n == 1 ? "" : "s");
	for (int i = 0; i < m.n; i++) {
		struct inspect in = { .fd = -1, .path = m.img[i].path };

		printf("\n");
		fflush(stdout);
		if (inspect_one(&in, do_verify))
			ret = 1;
		inspect_close(&in);
	}
	manifest_free(&m);
	return ret;
}

int cmd_inspect(int argc, char **argv)
{
	struct inspect in = { .fd = -1 };
	int do_verify = 0, opts = 1, ret;
	struct stat st;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (opts && strcmp(a, "--") == 0) {
			opts = 0;
		} else if (opts && (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)) {
			usage(stdout);
			return 0;
		} else if (opts && strcmp(a, "--verify") == 0) {
			do_verify = 1;
		} else if (opts && a[0] == '-' && a[1]) {
			cli_error("inspect: unknown option %s (try: cocoon inspect --help)", a);
			return 2;
		} else if (in.path) {
			cli_error("inspect: one IMAGE at a time (try: cocoon inspect --help)");
			return 2;
		} else {
			in.path = a;
		}
	}
	if (!in.path) {
		usage(stderr);
		return 2;
	}
	if (stat(in.path, &st) == 0 && S_ISDIR(st.st_mode)) {
		ret = inspect_dir(in.path, do_verify);
	} else {
		ret = inspect_one(&in, do_verify);
		inspect_close(&in);
	}
	if (fflush(stdout) != 0 && !ret) {
		cli_error("inspect: writing output: %s", strerror(errno));
		ret = 1;
	}
	return ret;
}
