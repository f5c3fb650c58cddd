/* SPDX-License-Identifier: MIT */
/* MAP_SHARED | MAP_ANONYMOUS memory keeps its contents and stays shared ("rw-s"). */
#include "crtest.h"

#include <string.h>
#include <sys/mman.h>

#define PG 4096UL
#define LEN (8 * PG)

int main(int argc, char **argv)
{
	uintptr_t s, e;
	char perms[5];

	test_init(argc, argv);
	char *m = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	test_assert(m != MAP_FAILED);
	test_fill(m, LEN - PG, 11); /* the last page stays zero */
	char *ro = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	test_assert(ro != MAP_FAILED);
	test_fill(ro, 2 * PG, 12);
	test_assert(mprotect(ro, 2 * PG, PROT_READ) == 0);

	test_ready();
	test_wait_done();

	if (test_check_fill(m, LEN - PG, 11))
		test_fail("shared mapping damaged");
	for (size_t i = LEN - PG; i < LEN; i++)
		if (m[i])
			test_fail("untouched shared page not zero at +%zu", i);
	if (test_check_fill(ro, 2 * PG, 12))
		test_fail("read-only shared mapping damaged");
	if (test_maps_find(m, &s, &e, perms) || strcmp(perms, "rw-s"))
		test_fail("shared mapping perms %s, want rw-s", perms);
	if (test_maps_find(ro, &s, &e, perms) || strcmp(perms, "r--s"))
		test_fail("read-only shared mapping perms %s, want r--s", perms);
	test_fill(m + LEN - PG, PG, 13);
	if (test_check_fill(m + LEN - PG, PG, 13))
		test_fail("shared mapping not writable");
	test_pass();
}
