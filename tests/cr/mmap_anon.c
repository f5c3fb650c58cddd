/* SPDX-License-Identifier: MIT */
/*
 * Private anonymous memory: a small mapping, a 4 GiB MAP_NORESERVE mapping with
 * a few touched pages, a PROT_NONE guard page between two RW areas and a
 * PROT_NONE reservation.  Protections are checked in /proc/self/maps.
 */
#include "crtest.h"

#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define PG 4096UL
#define BIG (4UL << 30)
#define TOUCH 16

static void *map(size_t len, int prot, int flags)
{
	void *p = mmap(NULL, len, prot, MAP_PRIVATE | MAP_ANONYMOUS | flags, -1, 0);
	test_assert(p != MAP_FAILED);
	return p;
}

static void expect_perms(const void *addr, size_t len, const char *want, const char *what)
{
	uintptr_t s, e;
	char perms[5];

	if (test_maps_find(addr, &s, &e, perms))
		test_fail("%s at %p is not mapped", what, addr);
	if (strcmp(perms, want))
		test_fail("%s at %p has perms %s, want %s", what, addr, perms, want);
	if (s > (uintptr_t)addr || e < (uintptr_t)addr + len)
		test_fail("%s: mapping %lx-%lx does not cover %p+%zu", what, (unsigned long)s,
			  (unsigned long)e, addr, len);
}

static size_t touch_off(int i)
{
	return (size_t)i * (BIG / TOUCH) + (size_t)(i % 5) * PG * 3 + 8;
}

int main(int argc, char **argv)
{
	test_init(argc, argv);

	char *small = map(16 * PG, PROT_READ | PROT_WRITE, 0);
	test_fill(small, 16 * PG, 1);

	char *big = map(BIG, PROT_READ | PROT_WRITE, MAP_NORESERVE);
	for (int i = 0; i < TOUCH; i++)
		test_fill(big + touch_off(i), 64, 100 + (uint64_t)i);
	big[BIG - 1] = 0x5a;

	char *guarded = map(5 * PG, PROT_READ | PROT_WRITE, 0);
	test_assert(mprotect(guarded + 2 * PG, PG, PROT_NONE) == 0);
	test_fill(guarded, 2 * PG, 2);
	test_fill(guarded + 3 * PG, 2 * PG, 3);

	char *reserved = map(64 * PG, PROT_NONE, MAP_NORESERVE);

	test_ready();
	test_wait_done();

	if (test_check_fill(small, 16 * PG, 1))
		test_fail("small mapping damaged");
	for (int i = 0; i < TOUCH; i++)
		if (test_check_fill(big + touch_off(i), 64, 100 + (uint64_t)i))
			test_fail("big mapping: touched page %d damaged", i);
	if (big[BIG - 1] != 0x5a)
		test_fail("big mapping: last byte damaged");
	for (int i = 0; i < TOUCH; i++)
		if (big[touch_off(i) + 5 * PG] != 0)
			test_fail("big mapping: untouched page near %d is not zero", i);
	if (test_check_fill(guarded, 2 * PG, 2) || test_check_fill(guarded + 3 * PG, 2 * PG, 3))
		test_fail("RW areas around the guard page damaged");

	expect_perms(small, 16 * PG, "rw-p", "small mapping");
	expect_perms(big, BIG, "rw-p", "4 GiB mapping");
	expect_perms(guarded, 2 * PG, "rw-p", "area below guard");
	expect_perms(guarded + 2 * PG, PG, "---p", "guard page");
	expect_perms(guarded + 3 * PG, 2 * PG, "rw-p", "area above guard");
	expect_perms(reserved, 64 * PG, "---p", "reservation");

	/* Memory is still usable: write fresh pages in the big mapping. */
	test_fill(big + BIG / 2 + PG, PG, 77);
	if (test_check_fill(big + BIG / 2 + PG, PG, 77))
		test_fail("big mapping not writable after restart");
	test_pass();
}
