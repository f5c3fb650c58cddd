/* SPDX-License-Identifier: MIT */
/* Unit test: MANIFEST write/read round trip, `latest`, pruning (common/manifest.c). */
#include "common/config.h"
#include "common/manifest.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[256];

static int exists(const char *rel)
{
	char p[8192];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	return stat(p, &st) == 0;
}

static void put(const char *rel, const char *text)
{
	char p[8192];

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	FILE *f = fopen(p, "w");
	assert(f);
	fputs(text, f);
	fclose(f);
}

/* A complete generation g with one image, written through the API. */
static void make_gen(unsigned long long g, int complete)
{
	char dir[1024];
	struct manifest m;
	struct manifest_image im = { .vpid = 100, .vppid = 1, .host = "h", .name = "prog" };

	assert(ckpt_gen_dir(root, g, dir, sizeof(dir)) == 0);
	assert(mkdir(dir, 0700) == 0);
	snprintf(im.path, sizeof(im.path), "%s/prog-100.img", dir);
	put(im.path + strlen(root) + 1, "x");
	if (!complete)
		return;
	manifest_init(&m);
	m.gen = g;
	m.time = 1700000000;
	assert(manifest_add(&m, &im) == 0);
	assert(manifest_write(dir, &m) == 0);
	manifest_free(&m);
}

static void test_roundtrip(void)
{
	char dir[1024], moved[1024];
	struct manifest m;
	struct manifest_image a = { .vpid = 4242, .vppid = 1, .host = "node 1", .name = "a b=c%" };
	struct manifest_image b = { .vpid = 4243, .vppid = 4242, .host = "n2", .name = "child" };

	assert(ckpt_gen_dir(root, 7, dir, sizeof(dir)) == 0);
	assert(mkdir(dir, 0700) == 0);
	snprintf(a.path, sizeof(a.path), "%s/a-4242.img", dir);
	snprintf(b.path, sizeof(b.path), "/elsewhere/b 4243.img");
	manifest_init(&m);
	m.gen = 7;
	m.time = 123;
	assert(manifest_add(&m, &a) == 0);
	assert(manifest_add(&m, &b) == 0);
	assert(manifest_write(dir, &m) == 0);
	manifest_free(&m);

	/* the in-directory image is stored relative: survives a move */
	snprintf(moved, sizeof(moved), "%s/moved", root);
	assert(rename(dir, moved) == 0);
	assert(manifest_read(moved, &m) == 0);
	assert(m.gen == 7 && m.time == 123 && m.n == 2);
	assert(m.img[0].vpid == 4242 && m.img[0].vppid == 1);
	assert(strcmp(m.img[0].host, "node 1") == 0);
	assert(strcmp(m.img[0].name, "a b=c%") == 0);
	char want[2048];
	snprintf(want, sizeof(want), "%s/a-4242.img", moved);
	assert(strcmp(m.img[0].path, want) == 0);
	assert(strcmp(m.img[1].path, "/elsewhere/b 4243.img") == 0);
	assert(m.img[1].vppid == 4242);
	manifest_free(&m);

	/* damaged manifests are refused, not half-read */
	put("moved/MANIFEST", "cocoon-manifest 2\ngeneration 7\n");
	assert(manifest_read(moved, &m) == -EBADMSG);
	put("moved/MANIFEST", "cocoon-manifest 1\ngeneration 7\nimage vpid=x path=a\n");
	assert(manifest_read(moved, &m) == -EBADMSG && m.img == NULL);
	put("moved/MANIFEST", "cocoon-manifest 1\nimage vpid=1 path=a\n");
	assert(manifest_read(moved, &m) == -EBADMSG);
	put("moved/MANIFEST", "");
	assert(manifest_read(moved, &m) == -EBADMSG);
	put("moved/MANIFEST", "cocoon-manifest 1\ngeneration 9\nfuture stuff\n");
	assert(manifest_read(moved, &m) == 0 && m.gen == 9 && m.n == 0);
	manifest_free(&m);
	assert(manifest_read("/nonexistent-cocoon", &m) == -ENOENT);
}

static void test_latest_and_prune(void)
{
	char dir[1024], want[1024];
	unsigned long long g;

	assert(ckpt_read_latest(root, &g) == -ENOENT);
	assert(ckpt_latest_gen_dir(root, dir, sizeof(dir)) == -ENOENT);
	for (unsigned long long i = 1; i <= 5; i++)
		make_gen(i, i != 3);
	make_gen(6, 0); /* in progress */
	assert(ckpt_write_latest(root, 2) == 0);
	assert(ckpt_read_latest(root, &g) == 0 && g == 2);
	assert(ckpt_latest_gen_dir(root, dir, sizeof(dir)) == 0);
	snprintf(want, sizeof(want), "%s/gen-000002", root);
	assert(strcmp(dir, want) == 0);

	/* keep 4 and 5 (newest complete), 2 (latest), 6 (newer, in progress) */
	assert(ckpt_prune(root, COCOON_KEEP_GENERATIONS) == 2);
	assert(!exists("gen-000001") && exists("gen-000002") && !exists("gen-000003"));
	assert(exists("gen-000004") && exists("gen-000005") && exists("gen-000006"));
	assert(exists("moved"));

	assert(ckpt_write_latest(root, 5) == 0);
	assert(ckpt_prune(root, 2) == 1 && !exists("gen-000002"));
	assert(ckpt_remove_gen(root, 6) == 0 && !exists("gen-000006"));
	assert(ckpt_remove_gen(root, 6) == 0);

	put("latest", "garbage\n");
	assert(ckpt_read_latest(root, &g) == -EBADMSG);
	assert(ckpt_parse_gen_name("gen-000123", &g) == 0 && g == 123);
	assert(ckpt_parse_gen_name("gen-12345678", &g) == 0 && g == 12345678);
	assert(ckpt_parse_gen_name("gen-", &g) == -EINVAL);
	assert(ckpt_parse_gen_name("gen-12a", &g) == -EINVAL);
	assert(ckpt_parse_gen_name("gen-000001.tmp", &g) == -EINVAL);
}

int main(void)
{
	snprintf(root, sizeof(root), "/tmp/cocoon-test-manifest-XXXXXX");
	assert(mkdtemp(root));
	test_roundtrip();
	test_latest_and_prune();
	char cmd[8192];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	assert(system(cmd) == 0);
	printf("coord_manifest: pass\n");
	return 0;
}
