/* SPDX-License-Identifier: MIT */
/* Unit test of pathmap_apply (src/common/pathmap.c). */
#include "check.h"
#include "common/pathmap.h"

int main(void)
{
	const char *maps = "/run/slot1=/mnt/slot7\n/data=/scratch/data\n";
	char out[64];

	CHECK(pathmap_apply(maps, "/run/slot1", out, sizeof(out)) == 1);
	CHECK_STR(out, "/mnt/slot7");
	CHECK(pathmap_apply(maps, "/run/slot1/state/x.bin", out, sizeof(out)) == 1);
	CHECK_STR(out, "/mnt/slot7/state/x.bin");
	CHECK(pathmap_apply(maps, "/data/a", out, sizeof(out)) == 1);
	CHECK_STR(out, "/scratch/data/a");
	/* a prefix that is not a whole component does not map */
	strcpy(out, "untouched");
	CHECK(pathmap_apply(maps, "/run/slot10/x", out, sizeof(out)) == 0);
	CHECK(pathmap_apply(maps, "/database", out, sizeof(out)) == 0);
	CHECK(pathmap_apply(maps, "relative/run/slot1", out, sizeof(out)) == 0);
	CHECK_STR(out, "untouched");
	/* the first map that applies wins; none, empty or NULL maps nothing */
	CHECK(pathmap_apply("/a=/b\n/a=/c\n", "/a/x", out, sizeof(out)) == 1);
	CHECK_STR(out, "/b/x");
	CHECK(pathmap_apply("", "/a", out, sizeof(out)) == 0);
	CHECK(pathmap_apply(NULL, "/a", out, sizeof(out)) == 0);
	CHECK(pathmap_apply("=/x\nbroken\n", "/a", out, sizeof(out)) == 0);
	/* a result that does not fit is refused */
	CHECK(pathmap_apply("/a=/a-very-long-new-prefix", "/a/and-more", out, 16) == -1);
	return check_report("pathmap");
}
