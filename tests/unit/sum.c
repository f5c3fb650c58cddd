/* SPDX-License-Identifier: MIT */
/*
 * Unit test of img_sum (src/common/sum.c): streaming in any split equals
 * the one-shot sum, different data gives different sums, and the values
 * themselves stay pinned, since every image ever written depends on them.
 * Plain main(); prints each failed check and exits 1 if any failed.
 */
#include "common/image.h"
#include "check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUF_LEN 9000

static unsigned char buf[BUF_LEN + 64];

/* Deterministic pseudo-random bytes (xorshift64), so failures reproduce. */
static void fill(unsigned char *p, size_t n, uint64_t seed)
{
	uint64_t x = seed | 1;

	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (unsigned char)(x >> 24);
	}
}

static uint64_t split2(const unsigned char *p, size_t len, size_t a)
{
	struct img_sum s;

	img_sum_init(&s);
	img_sum_update(&s, p, a);
	img_sum_update(&s, p + a, len - a);
	return img_sum_final(&s);
}

static uint64_t split3(const unsigned char *p, size_t len, size_t a, size_t b)
{
	struct img_sum s;

	img_sum_init(&s);
	img_sum_update(&s, p, a);
	img_sum_update(&s, p + a, b - a);
	img_sum_update(&s, p + b, len - b);
	return img_sum_final(&s);
}

static uint64_t bytewise(const unsigned char *p, size_t len)
{
	struct img_sum s;

	img_sum_init(&s);
	for (size_t i = 0; i < len; i++)
		img_sum_update(&s, p + i, 1);
	return img_sum_final(&s);
}

/* Every length 0..200 (all tail sizes, several blocks) and a few larger
 * ones, split at every point, in three at many points, and byte by byte. */
static void test_streaming(void)
{
	static const size_t big[] = { 255, 256, 257, 1000, 4095, 4096, 4097, 8191, BUF_LEN };

	for (size_t len = 0; len <= 200; len++) {
		uint64_t want = img_sum(buf, len);
		for (size_t a = 0; a <= len; a++) {
			if (split2(buf, len, a) != want) {
				fprintf(stderr, "split2 len %zu at %zu differs\n", len, a);
				failures++;
			}
			for (size_t b = a; b <= len; b += 7)
				if (split3(buf, len, a, b) != want) {
					fprintf(stderr, "split3 len %zu at %zu,%zu differs\n",
						len, a, b);
					failures++;
				}
		}
		CHECK(bytewise(buf, len) == want);
	}
	for (size_t i = 0; i < sizeof(big) / sizeof(big[0]); i++) {
		size_t len = big[i];
		uint64_t want = img_sum(buf, len);
		for (size_t a = 0; a <= len; a += 1 + a / 8)
			if (split2(buf, len, a) != want) {
				fprintf(stderr, "split2 len %zu at %zu differs\n", len, a);
				failures++;
			}
		CHECK(bytewise(buf, len) == want);
		/* Chunks of every size 1..70, as a reader with odd buffers would. */
		for (size_t chunk = 1; chunk <= 70; chunk++) {
			struct img_sum s;
			img_sum_init(&s);
			for (size_t off = 0; off < len; off += chunk)
				img_sum_update(&s, buf + off, len - off < chunk ? len - off : chunk);
			if (img_sum_final(&s) != want) {
				fprintf(stderr, "chunked %zu len %zu differs\n", chunk, len);
				failures++;
			}
		}
	}
	/* img_sum_final does not consume the state: peek, then go on. */
	struct img_sum s;
	img_sum_init(&s);
	img_sum_update(&s, buf, 100);
	CHECK(img_sum_final(&s) == img_sum(buf, 100));
	img_sum_update(&s, buf + 100, 100);
	CHECK(img_sum_final(&s) == img_sum(buf, 200));
}

/* The same bytes at every alignment give the same sum. */
static void test_alignment(void)
{
	unsigned char *copy = malloc(BUF_LEN + 16);

	CHECK(copy != NULL);
	if (!copy)
		return;
	for (size_t shift = 0; shift < 16; shift++) {
		memcpy(copy + shift, buf, 1000);
		CHECK(img_sum(copy + shift, 1000) == img_sum(buf, 1000));
		CHECK(img_sum(copy + shift, 37) == img_sum(buf, 37));
	}
	free(copy);
}

static void test_different(void)
{
	unsigned char a[256], b[256];

	/* Every single-bit flip in a 4-block buffer plus a tail changes the sum. */
	fill(a, sizeof(a), 7);
	for (size_t len = 1; len <= 160; len += 53) {
		uint64_t base = img_sum(a, len);
		for (size_t i = 0; i < len; i++)
			for (int bit = 0; bit < 8; bit++) {
				memcpy(b, a, len);
				b[i] ^= (unsigned char)(1u << bit);
				if (img_sum(b, len) == base) {
					fprintf(stderr, "flip byte %zu bit %d of %zu unnoticed\n",
						i, bit, len);
					failures++;
				}
			}
	}

	/* Runs of zeros of different lengths all differ (the length counts). */
	static unsigned char zero[300];
	static uint64_t seen[301];
	for (size_t len = 0; len <= 300; len++) {
		seen[len] = img_sum(zero, len);
		for (size_t j = 0; j < len; j++)
			if (seen[j] == seen[len]) {
				fprintf(stderr, "%zu and %zu zero bytes sum alike\n", j, len);
				failures++;
			}
	}

	/* Swapping two words, or two lanes, is noticed (order matters). */
	fill(a, 64, 11);
	memcpy(b, a, 64);
	memcpy(b, a + 8, 8);
	memcpy(b + 8, a, 8);
	CHECK(img_sum(a, 64) != img_sum(b, 64));
	memcpy(b, a, 64);
	memcpy(b, a + 32, 32);
	memcpy(b + 32, a, 32);
	CHECK(img_sum(a, 64) != img_sum(b, 64));

	/* A page of zeros and a page with one word set. */
	static unsigned char page[4096], page2[4096];
	page2[4000] = 1;
	CHECK(img_sum(page, 4096) != img_sum(page2, 4096));
}

/*
 * A slow reference written from the description in docs/image-format.md,
 * not from sum.c: if the two disagree, one of them is wrong.
 */
static uint64_t ref_mix(uint64_t acc, uint64_t w)
{
	acc = (acc + w) * 0x9e3779b97f4a7c15ull;
	return acc ^ (acc >> 29);
}

static uint64_t ref_sum(const unsigned char *p, size_t len)
{
	const uint64_t k1 = 0x9e3779b97f4a7c15ull, k2 = 0xc2b2ae3d27d4eb4full;
	uint64_t lane[4] = { k2, k2 ^ 1, k2 ^ 2, k2 ^ 3 };
	size_t full = len / 32 * 32;

	for (size_t i = 0; i < full; i += 8) {
		uint64_t w = 0;
		for (int b = 7; b >= 0; b--)
			w = w << 8 | p[i + (size_t)b];
		lane[i / 8 % 4] = ref_mix(lane[i / 8 % 4], w);
	}
	uint64_t h = (uint64_t)len * k2;
	for (int i = 0; i < 4; i++)
		h = ref_mix(h ^ lane[i], (uint64_t)i);
	for (size_t i = full; i < len; i++)
		h = ref_mix(h, p[i]);
	h ^= h >> 31;
	return (h * k1) ^ (h >> 33);
}

static void test_reference(void)
{
	for (size_t len = 0; len <= 300; len++)
		if (ref_sum(buf, len) != img_sum(buf, len)) {
			fprintf(stderr, "reference and img_sum differ at len %zu\n", len);
			failures++;
		}
	CHECK(ref_sum(buf, BUF_LEN) == img_sum(buf, BUF_LEN));
}

/*
 * Known answers, pinned from the version 1 algorithm.  If one of these
 * changes, every image already on disk stops verifying: that needs a new
 * IMG_VERSION, not a new constant here.
 */
static void test_known(void)
{
	static const struct {
		const char *s;
		uint64_t sum;
	} known[] = {
		{ "", 0xf981725c22c9bb84ull },
		{ "a", 0xa53d9f27e5774878ull },
		{ "cocoon", 0x6dd15b1a71fadae6ull },
		{ "0123456789abcdef0123456789abcdef", 0x7df5a3ff94fb4232ull },
		{ "0123456789abcdef0123456789abcdef0123456789", 0xdfe5a6919db3b6dbull },
	};
	int print = getenv("SUM_PRINT_KNOWN") != NULL;

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		uint64_t got = img_sum(known[i].s, strlen(known[i].s));
		if (print)
			printf("\t\t{ \"%s\", 0x%016llxull },\n", known[i].s,
			       (unsigned long long)got);
		else if (got != known[i].sum) {
			fprintf(stderr, "img_sum(\"%s\") = 0x%016llx, pinned 0x%016llx\n",
				known[i].s, (unsigned long long)got,
				(unsigned long long)known[i].sum);
			failures++;
		}
	}
	/* And stable within this run: the same input twice, two ways. */
	CHECK(img_sum(buf, 4096) == img_sum(buf, 4096));
	CHECK(img_sum(buf, 4096) == split2(buf, 4096, 4096));
}

int main(void)
{
	fill(buf, sizeof(buf), 0x1234567);
	test_streaming();
	test_alignment();
	test_different();
	test_known();
	test_reference();
	return check_report("sum");
}
