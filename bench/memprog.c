/* SPDX-License-Identifier: MIT */
/*
 * memprog: the program `make bench` checkpoints and restarts.
 *
 * usage: memprog MIB rand|zero|text
 *        memprog MIB touch
 *
 * Maps MIB MiB of anonymous memory and fills it (xorshift64 per 8 bytes;
 * memset 0 so every page is present; or text: words drawn at random from a
 * small English vocabulary, as in a log), checksums it and prints
 * "ready SUM\n".  Then, about every millisecond, it writes one '.' to
 * stdout: the first '.' after a restart is the moment it runs user code
 * again.  After each checkpoint (cocoon_generation() changed) it prints
 * "\npause SECONDS\n": the longest it was stopped since the last one (the
 * longest gap between two of its 1 ms steps).  SIGUSR1 rewrites 1% of the
 * pages (drawn at random), takes the new checksum as the one to verify and
 * prints "\ndirtied SUM\n".  When it sees it has been restarted (cocoon_restart_count(), looked
 * up with dlsym so the program runs natively too) it checksums its memory
 * again, prints "\nverify ok SUM" or "\nverify FAIL SUM" and exits 0 or 1.
 * Plain libc program; it knows nothing else about Cocoon.
 *
 * "touch" only times faulting in MIB MiB of fresh memory (memset 1) and
 * prints "touch SECONDS": the floor for any restart, which must do the same.
 */
#include <dlfcn.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static uint64_t checksum(const uint64_t *p, size_t nwords)
{
	/* Four independent lanes so the multiply latency does not serialise. */
	uint64_t a = 1, b = 2, c = 3, d = 4;
	const uint64_t k = 0x9e3779b97f4a7c15ull;

	for (size_t i = 0; i + 4 <= nwords; i += 4) {
		a = (a ^ p[i]) * k;
		b = (b ^ p[i + 1]) * k;
		c = (c ^ p[i + 2]) * k;
		d = (d ^ p[i + 3]) * k;
	}
	return a ^ (b * 3) ^ (c * 5) ^ (d * 7);
}

static void fill_random(uint64_t *p, size_t nwords)
{
	uint64_t x = 0x2545f4914f6cdd1dull;

	for (size_t i = 0; i < nwords; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = x;
	}
}

static void fill_text(char *p, size_t len)
{
	static const char *const words[] = {
		"the", "emulator", "cycle", "register", "memory", "test", "bench", "result",
		"checkpoint", "restart", "of", "and", "a", "to", "in", "is", "value", "error",
		"warning", "signal", "clock", "reset", "state", "design", "fault", "pass",
		"fail", "read", "write", "address", "data", "latency",
	};
	uint64_t x = 0x9e3779b97f4a7c15ull;
	size_t i = 0;

	while (i < len) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		const char *w = words[x % 32];
		while (*w && i < len)
			p[i++] = *w++;
		if (i < len)
			p[i++] = (x >> 8) % 11 ? ' ' : '\n';
	}
}

static void say(const char *s)
{
	size_t n = strlen(s);

	while (n > 0) {
		ssize_t w = write(1, s, n);
		if (w <= 0)
			exit(3);
		s += w;
		n -= (size_t)w;
	}
}

/* Survives checkpoint and restart with the rest of memory. */
static uint64_t stored_sum;
static volatile sig_atomic_t dirty_asked;

static void ask_dirty(int sig)
{
	(void)sig;
	dirty_asked = 1;
}

/* Rewrite 1% of the pages, at random. */
static void dirty(uint64_t *mem, size_t len)
{
	static uint64_t x = 0x5851f42d4c957f2dull;
	size_t pages = len / 4096;

	for (size_t k = 0; k < pages / 100; k++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		uint64_t *p = mem + (x % pages) * 512;
		for (int i = 0; i < 512; i++)
			p[i] += x;
	}
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
	if (argc != 3 || (strcmp(argv[2], "rand") != 0 && strcmp(argv[2], "zero") != 0 &&
			  strcmp(argv[2], "text") != 0 && strcmp(argv[2], "touch") != 0)) {
		fprintf(stderr, "usage: memprog MIB rand|zero|text|touch\n");
		return 2;
	}
	size_t len = strtoull(argv[1], NULL, 10) << 20;
	double t0 = now();
	uint64_t *mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		perror("memprog: mmap");
		return 2;
	}
	if (strcmp(argv[2], "touch") == 0) {
		memset(mem, 1, len);
		printf("touch %.6f\n", now() - t0);
		return 0;
	}
	if (argv[2][0] == 'r')
		fill_random(mem, len / 8);
	else if (argv[2][0] == 't')
		fill_text((char *)mem, len);
	else
		memset(mem, 0, len);
	stored_sum = checksum(mem, len / 8);

	uint32_t (*restart_count)(void) = (uint32_t(*)(void))dlsym(RTLD_DEFAULT, "cocoon_restart_count");
	uint64_t (*generation)(void) = (uint64_t(*)(void))dlsym(RTLD_DEFAULT, "cocoon_generation");
	uint32_t restarts = restart_count ? restart_count() : 0;
	uint64_t gen = generation ? generation() : 0;
	double last = now(), longest = 0;
	char line[128];

	snprintf(line, sizeof(line), "ready %016llx\n", (unsigned long long)stored_sum);
	say(line);

	const struct timespec ms = { 0, 1000000 };
	signal(SIGUSR1, ask_dirty);
	for (;;) {
		if (dirty_asked) {
			dirty_asked = 0;
			dirty(mem, len);
			stored_sum = checksum(mem, len / 8);
			snprintf(line, sizeof(line), "\ndirtied %016llx\n", (unsigned long long)stored_sum);
			say(line);
		}
		say(".");
		if (restart_count && restart_count() != restarts) {
			uint64_t sum = checksum(mem, len / 8);
			int ok = sum == stored_sum;
			snprintf(line, sizeof(line), "\nverify %s %016llx\n", ok ? "ok" : "FAIL",
				 (unsigned long long)sum);
			say(line);
			return ok ? 0 : 1;
		}
		nanosleep(&ms, NULL);
		double t = now();
		if (t - last > longest)
			longest = t - last;
		last = t;
		if (generation && generation() != gen) {
			gen = generation();
			snprintf(line, sizeof(line), "\npause %.6f\n", longest);
			say(line);
			longest = 0;
		}
	}
}
