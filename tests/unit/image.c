/* SPDX-License-Identifier: MIT */
/*
 * Unit test of image validation (src/common/image.c): a valid image built
 * in memory is accepted, and each kind of damage is refused with the code
 * that names it.  Plain main(); prints each failed check and exits 1.
 *
 * `image OUT` also writes the valid image to OUT, for trying
 * `cocoon inspect OUT` by hand.
 */
#include "common/image.h"
#include "check.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * The test image: header, 3 + 2 stored pages, two plugin sections each on
 * its own page, then metadata.
 *
 *   region 0  0x400000-0x404000        r-xp file /usr/bin/fake, pages 0, 2-3
 *   region 1  0x7fff00000000+8 pages   rw-p [stack], pages 6-7
 */
#define NREG 2
#define NRUN 3
#define NTHR 2
#define NSEC 2
#define STRINGS "x\0/usr/bin/fake\0"
#define STRINGS_LEN 16u
#define PATH_OFF 2u
#define PATH_LEN 14u /* with its NUL */

#define DATA_OFF (IMG_HEADER_SIZE)
#define SEC0_OFF (DATA_OFF + 5 * IMG_PAGE)
#define SEC1_OFF (SEC0_OFF + IMG_PAGE)
#define META_OFF (SEC1_OFF + IMG_PAGE)
#define META_LEN                                                                 \
	(NREG * sizeof(struct img_region) + NRUN * sizeof(struct img_run) +     \
	 NTHR * sizeof(struct img_thread) + NSEC * sizeof(struct img_section) + \
	 STRINGS_LEN)

struct img {
	unsigned char *buf;
	size_t size;
	struct img_header *h;
	struct img_region *reg;
	struct img_run *run;
	struct img_thread *thr;
	struct img_section *sec;
	char *str;
};

static void img_point(struct img *im)
{
	unsigned char *m = im->buf + META_OFF;

	im->h = (struct img_header *)im->buf;
	im->reg = (struct img_region *)m;
	m += NREG * sizeof(struct img_region);
	im->run = (struct img_run *)m;
	m += NRUN * sizeof(struct img_run);
	im->thr = (struct img_thread *)m;
	m += NTHR * sizeof(struct img_thread);
	im->sec = (struct img_section *)m;
	m += NSEC * sizeof(struct img_section);
	im->str = (char *)m;
}

/* Recompute the metadata and header checksums after an edit.  The metadata
 * is where build() put it, whatever a damaged header now claims. */
static void reseal(struct img *im)
{
	im->h->meta_sum = img_sum(im->buf + META_OFF, META_LEN);
	im->h->header_sum = img_header_sum(im->h);
}

/* Checksum of the stored pages of region r, as the writer computes it. */
static uint64_t region_sum(const struct img *im, const struct img_region *r)
{
	struct img_sum s;

	img_sum_init(&s);
	img_sum_update(&s, im->buf + r->data_off, r->npages * IMG_PAGE);
	return img_sum_final(&s);
}

static void build(struct img *im)
{
	im->size = META_OFF + META_LEN;
	im->buf = calloc(1, im->size);
	if (!im->buf) {
		perror("calloc");
		exit(1);
	}
	img_point(im);

	for (size_t i = DATA_OFF; i < SEC1_OFF + 10; i++)
		im->buf[i] = (unsigned char)(i * 7 + i / IMG_PAGE);

	struct img_header *h = im->h;
	memcpy(h->magic, IMG_MAGIC, 8);
	h->version = IMG_VERSION;
	h->arch = IMG_ARCH_X86_64;
	h->header_size = sizeof(*h);
	h->page_size = IMG_PAGE;
	h->file_size = im->size;
	h->meta_off = META_OFF;
	h->meta_len = META_LEN;
	h->generation = 3;
	h->vpid = 4242;
	h->real_pid = 5151;
	h->vppid = 1;
	h->nthreads = NTHR;
	h->nregions = NREG;
	h->nruns = NRUN;
	h->nsections = NSEC;
	h->strings_len = STRINGS_LEN;
	h->restart_entry = 0x7f0000012340;
	h->restart_stack = 0x7f0000100000;
	h->main_fsbase = 0x7f0000200740;
	h->vdso_start = 0x7fff10000000;
	h->vdso_end = 0x7fff10002000;
	h->vvar_start = 0x7fff0fffc000;
	h->vvar_end = 0x7fff10000000;
	h->mm = (struct img_mm){
		.start_code = 0x400000, .end_code = 0x403000,
		.start_data = 0x404000, .end_data = 0x404000,
		.start_brk = 0x1000000, .brk = 0x1021000,
		.start_stack = 0x7fff00007ff0,
		.arg_start = 0x7fff00007f00, .arg_end = 0x7fff00007f10,
		.env_start = 0x7fff00007f10, .env_end = 0x7fff00007fe0,
	};
	h->time_ns = 1700000000123456789ull;
	strcpy(h->hostname, "testhost");
	strcpy(h->progname, "fake");

	struct img_region *r = &im->reg[0];
	r->start = 0x400000;
	r->end = 0x404000;
	r->prot = 5; /* PROT_READ | PROT_EXEC */
	r->flags = IMG_R_PRIVATE | IMG_R_FILE | IMG_R_NEED_FILE;
	r->file_off = 0;
	r->file_size = 0x4000;
	r->file_mtime_ns = 1600000000000000000ull;
	r->file_ino = 1234;
	r->path_off = PATH_OFF;
	r->path_len = PATH_LEN;
	r->data_off = DATA_OFF;
	r->npages = 3;
	r->run_first = 0;
	r->nruns = 2;
	im->run[0] = (struct img_run){ .page = 0, .npages = 1 };
	im->run[1] = (struct img_run){ .page = 2, .npages = 2 };
	r->data_sum = region_sum(im, r);

	r = &im->reg[1];
	r->start = 0x7fff00000000;
	r->end = 0x7fff00008000;
	r->prot = 3; /* PROT_READ | PROT_WRITE */
	r->flags = IMG_R_PRIVATE | IMG_R_STACK | IMG_R_GROWSDOWN;
	r->data_off = DATA_OFF + 3 * IMG_PAGE;
	r->npages = 2;
	r->run_first = 2;
	r->nruns = 1;
	im->run[2] = (struct img_run){ .page = 6, .npages = 2 };
	r->data_sum = region_sum(im, r);

	im->thr[0] = (struct img_thread){ .vtid = 4242, .tid = 5151, .flags = IMG_T_MAIN,
					  .fsbase = 0x7f0000200740 };
	im->thr[1] = (struct img_thread){ .vtid = 4243, .tid = 5152, .flags = IMG_T_CKPT,
					  .fsbase = 0x7f0000300740 };

	strcpy(im->sec[0].name, "fd");
	im->sec[0].off = SEC0_OFF;
	im->sec[0].len = 100;
	im->sec[0].sum = img_sum(im->buf + SEC0_OFF, 100);
	strcpy(im->sec[1].name, "hello");
	im->sec[1].off = SEC1_OFF;
	im->sec[1].len = 10;
	im->sec[1].sum = img_sum(im->buf + SEC1_OFF, 10);

	memcpy(im->str, STRINGS, STRINGS_LEN);
	reseal(im);
}

static void clone(struct img *dst, const struct img *src)
{
	dst->size = src->size;
	dst->buf = malloc(src->size);
	if (!dst->buf) {
		perror("malloc");
		exit(1);
	}
	memcpy(dst->buf, src->buf, src->size);
	img_point(dst);
}

/* What a reader would conclude about im if the file were size bytes long. */
static int check(const struct img *im, uint64_t size, struct img_meta *m)
{
	int err = img_header_check(im->h, size);

	if (err)
		return err;
	return img_meta_check(im->h, im->buf + im->h->meta_off, m);
}

static void expect(int line, const char *what, const struct img *im, uint64_t size, int want)
{
	struct img_meta m;
	int got = check(im, size, &m);

	if (got != want) {
		fprintf(stderr, "%s:%d: %s: got %d (%s), want %d (%s)\n", __FILE__, line,
			what, got, img_strerror(got), want, img_strerror(want));
		failures++;
	}
}

/* Damage a copy of good with the statements given, optionally re-seal the
 * checksums so the damage itself is what gets caught, and check the code. */
#define DAMAGE_AT(seal, what, want, ...)                                         \
	do {                                                                     \
		struct img d;                                                    \
		clone(&d, &good);                                                \
		__VA_ARGS__;                                                     \
		if (seal)                                                        \
			reseal(&d);                                              \
		expect(__LINE__, what, &d, d.size, want);                        \
		free(d.buf);                                                     \
	} while (0)
#define DAMAGE(what, want, ...) DAMAGE_AT(1, what, want, __VA_ARGS__)
#define DAMAGE_RAW(what, want, ...) DAMAGE_AT(0, what, want, __VA_ARGS__)

static struct img good;

static void test_valid(void)
{
	struct img_meta m;

	CHECK(sizeof(struct img_header) <= IMG_HEADER_SIZE);
	CHECK(sizeof(struct img_region) % 8 == 0);
	CHECK(sizeof(struct img_run) % 8 == 0);
	CHECK(sizeof(struct img_thread) % 8 == 0);
	CHECK(sizeof(struct img_section) % 8 == 0);

	CHECK(img_header_check(good.h, good.size) == IMG_OK);
	CHECK(check(&good, good.size, &m) == IMG_OK);
	CHECK(m.regions == good.reg);
	CHECK(m.runs == good.run);
	CHECK(m.threads == good.thr);
	CHECK(m.sections == good.sec);
	CHECK(m.strings == good.str);
	CHECK(strcmp(m.strings + m.regions[0].path_off, "/usr/bin/fake") == 0);
	CHECK(m.regions[0].data_sum == region_sum(&good, &m.regions[0]));
	CHECK(img_header_sum(good.h) == good.h->header_sum);

	/* Variants that are still valid. */
	DAMAGE("region without stored pages", IMG_OK,
	       d.reg[1].nruns = 0; d.reg[1].npages = 0; d.reg[1].data_off = 1);
	DAMAGE("region without a path", IMG_OK, d.reg[0].path_off = 0; d.reg[0].path_len = 0);
	DAMAGE("adjacent regions", IMG_OK, d.reg[1].start = 0x404000;
	       d.reg[1].end = 0x40c000);
	DAMAGE("older generation 0", IMG_OK, d.h->generation = 0);
	DAMAGE("region data ends right at meta_off", IMG_OK,
	       d.reg[1].data_off = META_OFF - 2 * IMG_PAGE);
	DAMAGE("empty section at meta_off", IMG_OK, d.sec[1].off = META_OFF; d.sec[1].len = 0);
}

static void test_header_damage(void)
{
	DAMAGE_RAW("bad magic", IMG_E_MAGIC, d.h->magic[0] = 'X');
	DAMAGE("bad magic, resealed", IMG_E_MAGIC, memcpy(d.h->magic, "ELF\0\0\0\0\0", 8));
	DAMAGE_RAW("newer version", IMG_E_VERSION, d.h->version = IMG_VERSION + 1);
	DAMAGE("newer version, resealed", IMG_E_VERSION, d.h->version = IMG_VERSION + 1);
	DAMAGE("much newer version", IMG_E_VERSION, d.h->version = 0xffffffffu);
	DAMAGE("version 0", IMG_E_LAYOUT, d.h->version = 0);
	DAMAGE("other arch", IMG_E_ARCH, d.h->arch = 2);
	DAMAGE("header_size", IMG_E_LAYOUT, d.h->header_size = sizeof(struct img_header) + 8);
	DAMAGE("page_size", IMG_E_LAYOUT, d.h->page_size = 65536);
	DAMAGE_RAW("header checksum (hostname byte)", IMG_E_HEADER_SUM, d.h->hostname[1] ^= 1);
	DAMAGE_RAW("header checksum (generation)", IMG_E_HEADER_SUM, d.h->generation++);
	DAMAGE_RAW("header checksum (sum itself)", IMG_E_HEADER_SUM, d.h->header_sum ^= 1);

	/* Truncation and extension, seen through the actual file size. */
	expect(__LINE__, "truncated by one byte", &good, good.size - 1, IMG_E_SHORT);
	expect(__LINE__, "truncated to the header", &good, IMG_HEADER_SIZE, IMG_E_SHORT);
	expect(__LINE__, "truncated inside the header", &good, 100, IMG_E_SHORT);
	expect(__LINE__, "empty file", &good, 0, IMG_E_SHORT);
	expect(__LINE__, "one byte longer", &good, good.size + 1, IMG_E_LAYOUT);
	DAMAGE("file_size says shorter", IMG_E_LAYOUT, d.h->file_size -= 1);
	DAMAGE("file_size says longer", IMG_E_SHORT, d.h->file_size += IMG_PAGE);
	{
		/* A short file that is not an image at all. */
		struct img z;
		clone(&z, &good);
		memset(z.buf, 0, IMG_HEADER_SIZE);
		expect(__LINE__, "short zero file", &z, 10, IMG_E_MAGIC);
		free(z.buf);
	}

	/* Metadata placement. */
	DAMAGE("meta_off inside the header", IMG_E_LAYOUT, d.h->meta_off = 100);
	DAMAGE("meta_off beyond the file", IMG_E_LAYOUT, d.h->meta_off = good.size + 1);
	DAMAGE("meta_len beyond the file", IMG_E_LAYOUT, d.h->meta_len += 8);
	DAMAGE("meta_len absurd", IMG_E_LAYOUT, d.h->meta_len = ~0ull);
	DAMAGE("meta_off + meta_len wraps", IMG_E_LAYOUT, d.h->meta_off = ~0ull - 8);

	/* Absurd or inconsistent counts. */
	DAMAGE("nregions absurd", IMG_E_LAYOUT, d.h->nregions = 0xffffffffu);
	DAMAGE("nregions above the limit", IMG_E_LAYOUT, d.h->nregions = IMG_MAX_REGIONS + 1);
	DAMAGE("nthreads absurd", IMG_E_LAYOUT, d.h->nthreads = 0xffffffffu);
	DAMAGE("nthreads zero", IMG_E_LAYOUT, d.h->nthreads = 0);
	DAMAGE("nsections absurd", IMG_E_LAYOUT, d.h->nsections = IMG_MAX_SECTIONS + 1);
	DAMAGE("nruns absurd", IMG_E_LAYOUT, d.h->nruns = 0xffffffffu);
	DAMAGE("strings_len absurd", IMG_E_LAYOUT, d.h->strings_len = 0xffffffffu);
	DAMAGE("counts disagree with meta_len", IMG_E_LAYOUT, d.h->nregions = NREG + 1);
	DAMAGE("counts shuffled, same meta_len", IMG_E_LAYOUT,
	       d.h->nruns = NRUN - 1; d.h->strings_len += sizeof(struct img_run));
}

static void test_meta_damage(void)
{
	DAMAGE_RAW("meta checksum (region byte)", IMG_E_META_SUM, d.reg[0].prot ^= 2);
	DAMAGE_RAW("meta checksum (last string byte)", IMG_E_META_SUM,
		   d.str[STRINGS_LEN - 2] ^= 1);
	DAMAGE_RAW("meta checksum (sum itself)", IMG_E_META_SUM,
		   d.h->meta_sum ^= 1; d.h->header_sum = img_header_sum(d.h));

	/* Regions. */
	DAMAGE("overlapping regions", IMG_E_LAYOUT, d.reg[1].start = 0x403000;
	       d.reg[1].end = 0x40b000);
	DAMAGE("regions out of order", IMG_E_LAYOUT, d.reg[0].start = 0x7fff10000000;
	       d.reg[0].end = 0x7fff10004000);
	DAMAGE("unaligned region start", IMG_E_LAYOUT, d.reg[0].start += 1);
	DAMAGE("unaligned region end", IMG_E_LAYOUT, d.reg[1].end -= 8);
	DAMAGE("empty region", IMG_E_LAYOUT, d.reg[0].end = d.reg[0].start);
	DAMAGE("inverted region", IMG_E_LAYOUT, d.reg[0].end = d.reg[0].start - IMG_PAGE);
	DAMAGE("region above user space", IMG_E_LAYOUT, d.reg[1].start = IMG_USER_TOP;
	       d.reg[1].end = IMG_USER_TOP + 8 * IMG_PAGE);
	DAMAGE("region end wraps", IMG_E_LAYOUT, d.reg[1].end = 0);

	/* Runs. */
	DAMAGE("run past the region end", IMG_E_LAYOUT, d.run[2].page = 7);
	DAMAGE("run starting past the region", IMG_E_LAYOUT, d.run[2].page = 9);
	DAMAGE("run length wraps", IMG_E_LAYOUT, d.run[2].page = 6; d.run[2].npages = ~0ull - 3;
	       d.reg[1].npages = d.run[2].npages);
	DAMAGE("empty run", IMG_E_LAYOUT, d.run[1].npages = 0; d.reg[0].npages = 1);
	DAMAGE("overlapping runs", IMG_E_LAYOUT, d.run[1].page = 0);
	DAMAGE("runs out of order", IMG_E_LAYOUT, d.run[0].page = 3; d.run[1].page = 0;
	       d.run[1].npages = 2);
	DAMAGE("run_first beyond runs", IMG_E_LAYOUT, d.reg[1].run_first = NRUN);
	DAMAGE("nruns beyond runs", IMG_E_LAYOUT, d.reg[1].nruns = 2);
	DAMAGE("run_first + nruns wraps", IMG_E_LAYOUT, d.reg[1].run_first = 0xffffffffu);
	DAMAGE("npages disagrees with runs", IMG_E_LAYOUT, d.reg[0].npages = 4);

	/* Where the data is. */
	DAMAGE("data offset at meta_off", IMG_E_LAYOUT, d.reg[1].data_off = META_OFF);
	DAMAGE("data offset beyond meta_off", IMG_E_LAYOUT,
	       d.reg[1].data_off = META_OFF + IMG_PAGE);
	DAMAGE("data runs into metadata", IMG_E_LAYOUT,
	       d.reg[1].data_off = META_OFF - IMG_PAGE);
	DAMAGE("data offset in the header", IMG_E_LAYOUT, d.reg[0].data_off = 0);
	DAMAGE("data offset unaligned", IMG_E_LAYOUT, d.reg[0].data_off += 8);
	DAMAGE("data offset absurd", IMG_E_LAYOUT, d.reg[0].data_off = ~0ull & ~(IMG_PAGE - 1));

	/* Strings. */
	DAMAGE("path not NUL-terminated", IMG_E_LAYOUT, d.reg[0].path_len = PATH_LEN - 1);
	DAMAGE("path beyond strings", IMG_E_LAYOUT, d.reg[0].path_len = PATH_LEN + 1);
	DAMAGE("path offset beyond strings", IMG_E_LAYOUT, d.reg[0].path_off = STRINGS_LEN + 1);
	DAMAGE("path offset + length wraps", IMG_E_LAYOUT, d.reg[0].path_off = 0xfffffff0u;
	       d.reg[0].path_len = 0x20);
	DAMAGE("strings not NUL-terminated", IMG_E_LAYOUT, d.str[STRINGS_LEN - 1] = 'z');

	/* Sections. */
	DAMAGE("section name not NUL-terminated", IMG_E_LAYOUT,
	       memset(d.sec[0].name, 'a', sizeof(d.sec[0].name)));
	DAMAGE("section in the header", IMG_E_LAYOUT, d.sec[0].off = 8);
	DAMAGE("section beyond meta_off", IMG_E_LAYOUT, d.sec[1].off = META_OFF + 1;
	       d.sec[1].len = 0);
	DAMAGE("section runs into metadata", IMG_E_LAYOUT, d.sec[1].len = IMG_PAGE + 1);
	DAMAGE("section length wraps", IMG_E_LAYOUT, d.sec[1].len = ~0ull);
}

static void test_strerror(void)
{
	for (int i = IMG_OK; i <= IMG_E_DATA_SUM; i++) {
		const char *s = img_strerror(i);
		CHECK(s && *s && strcmp(s, "unknown error") != 0);
		for (int j = IMG_OK; j < i; j++)
			CHECK(strcmp(s, img_strerror(j)) != 0);
	}
	CHECK(strcmp(img_strerror(99), "unknown error") == 0);
	CHECK(strcmp(img_strerror(-1), "unknown error") == 0);
}

/* Write im to path (0600).  0 or -errno. */
static int write_image(const char *path, const struct img *im)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	size_t done = 0;

	if (fd < 0)
		return -errno;
	while (done < im->size) {
		ssize_t w = write(fd, im->buf + done, im->size - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			goto err_close;
		done += (size_t)w;
	}
	if (close(fd) < 0)
		return -errno;
	return 0;
err_close:;
	int e = errno;
	close(fd);
	return -e;
}

/* The image survives a trip through a file, read back as a reader would. */
static void test_file(void)
{
	char path[] = "/tmp/cocoon-image-test-XXXXXX";
	int fd = mkstemp(path);
	struct stat st;
	struct img_header h;

	CHECK(fd >= 0);
	if (fd < 0)
		return;
	close(fd);
	CHECK(write_image(path, &good) == 0);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0);
	if (fd >= 0) {
		CHECK(fstat(fd, &st) == 0);
		CHECK(pread(fd, &h, sizeof(h), 0) == (ssize_t)sizeof(h));
		CHECK(img_header_check(&h, (uint64_t)st.st_size) == IMG_OK);
		close(fd);
	}
	unlink(path);
}

int main(int argc, char **argv)
{
	build(&good);
	test_valid();
	test_header_damage();
	test_meta_damage();
	test_strerror();
	test_file();
	if (argc > 1) {
		int err = write_image(argv[1], &good);
		if (err) {
			fprintf(stderr, "image: %s: %s\n", argv[1], strerror(-err));
			failures++;
		} else {
			printf("image: wrote %s (%zu bytes)\n", argv[1], good.size);
		}
	}
	free(good.buf);
	return check_report("image");
}
