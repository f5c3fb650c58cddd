/* SPDX-License-Identifier: MIT */
/*
 * For tests/cr/app_api.sh: a program that uses the application calls.  It
 * holds checkpoints off until DIR/release exists, then (at DIR/go) checkpoints itself
 * and writes what cocoon_checkpoint() returned into DIR/result.N (N = 1
 * for the first return, 2 for the second, after a restart).
 */
#include <stdio.h>
#include <unistd.h>

extern int cocoon_checkpoint(void) __attribute__((weak));
extern void cocoon_disable(void) __attribute__((weak));
extern void cocoon_enable(void) __attribute__((weak));

static void put(const char *dir, const char *name, int value)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (f) {
		fprintf(f, "%d\n", value);
		fclose(f);
	}
}

int main(int argc, char **argv)
{
	char path[4096];
	static int returns; /* in memory: a restart brings it back as it was */

	if (argc < 2 || !cocoon_checkpoint)
		return 2;
	cocoon_disable();
	put(argv[1], "holding", 1);
	snprintf(path, sizeof(path), "%s/release", argv[1]);
	while (access(path, F_OK) != 0)
		usleep(10000);
	cocoon_enable();
	snprintf(path, sizeof(path), "%s/go", argv[1]);
	while (access(path, F_OK) != 0)
		usleep(10000);
	int r = cocoon_checkpoint();
	returns++;
	put(argv[1], returns == 1 && r == 1 ? "result.restarted" : "result", r);
	snprintf(path, sizeof(path), "%s/finish", argv[1]);
	while (access(path, F_OK) != 0)
		usleep(10000);
	return 0;
}
