/* SPDX-License-Identifier: MIT */
/*
 * For tests/cr/app_api.sh: a program that uses the application calls,
 * linked against libcocoon-api.so.
 *
 *   app --bare   outside Cocoon: every call must be the documented no-op.
 *   app DIR      under Cocoon: holds checkpoints off until DIR/release
 *                exists, then (at DIR/go) checkpoints itself and writes
 *                what cocoon_checkpoint() returned into DIR/result (first
 *                return) or DIR/result.restarted (the return after a
 *                restart), with cocoon_restart_count() in DIR/restarts.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cocoon.h"

static void put(const char *dir, const char *name, long value)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (f) {
		fprintf(f, "%ld\n", value);
		fclose(f);
	}
}

static void wait_file(const char *dir, const char *name)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	while (access(path, F_OK) != 0)
		usleep(10000);
}

static int bare(void)
{
	static const struct cocoon_plugin p = { .api_version = COCOON_API_VERSION, .name = "bare" };
	size_t len = 1;
	int bad = 0;

	cocoon_disable();
	cocoon_enable();
	cocoon_error("ignored %d", 1);
	bad |= cocoon_is_active() != 0;
	bad |= cocoon_checkpoint() != 0;
	bad |= cocoon_generation() != 0;
	bad |= cocoon_restart_count() != 0;
	bad |= cocoon_plugin_register(&p) != -ENOSYS;
	bad |= cocoon_section_write("x", "y", 1) != -ENOSYS;
	bad |= cocoon_section_read("x", &len) != NULL || len != 0;
	puts(bad ? "a call was not a no-op" : "no-ops ok");
	return bad;
}

int main(int argc, char **argv)
{
	static int returns; /* in memory: a restart brings it back as it was */

	if (argc < 2)
		return 2;
	if (strcmp(argv[1], "--bare") == 0)
		return bare();
	if (!cocoon_is_active())
		return 3;
	cocoon_disable();
	put(argv[1], "holding", 1);
	wait_file(argv[1], "release");
	cocoon_enable();
	wait_file(argv[1], "go");
	int r = cocoon_checkpoint();
	returns++;
	put(argv[1], "restarts", cocoon_restart_count());
	put(argv[1], returns == 1 && r == 1 ? "result.restarted" : "result", r);
	wait_file(argv[1], "finish");
	return 0;
}
