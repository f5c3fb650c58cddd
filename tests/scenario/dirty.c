/* SPDX-License-Identifier: MIT */
/*
 * For tests/cr/incremental.sh: 64 MiB of random memory; each SIGUSR1
 * changes some of it the ways a program does -- rewrites 1% of the pages,
 * gives 1% back to the kernel (MADV_DONTNEED: they read as zero), replaces
 * one 1 MiB mapping by a new one -- then prints "round N SUM" (SUM: a
 * checksum of all of it, kept in memory too).  SIGUSR2: checksum again and
 * print "verify ok" or "verify FAIL"; SIGTERM: PASS.  $CRTEST_READY is
 * created once it waits for signals.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define PAGE 4096ul
#define SIZE (64ul << 20)
#define NPAGES (SIZE / PAGE)
#define SPARE (1ul << 20)

static uint64_t *mem, *spare;
static uint64_t expected;

static uint64_t next(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static uint64_t sum(void)
{
	uint64_t s = 0x1234;

	for (size_t i = 0; i < SIZE / 8; i++)
		s = (s ^ mem[i]) * 0x9e3779b97f4a7c15ull;
	for (size_t i = 0; i < SPARE / 8; i++)
		s = (s ^ spare[i]) * 0x9e3779b97f4a7c15ull;
	return s;
}

static void fill(uint64_t *p, size_t words, uint64_t seed)
{
	for (size_t i = 0; i < words; i++)
		p[i] = next(&seed);
}

static void change(int round)
{
	uint64_t x = 0xabcdef0123ull + (uint64_t)round;

	for (size_t k = 0; k < NPAGES / 100; k++) {
		size_t page = next(&x) % NPAGES;
		fill(mem + page * PAGE / 8, PAGE / 8, x);
	}
	for (size_t k = 0; k < NPAGES / 100; k++) {
		size_t page = next(&x) % NPAGES;
		madvise((char *)mem + page * PAGE, PAGE, MADV_DONTNEED);
	}
	munmap(spare, SPARE);
	spare = mmap(NULL, SPARE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	fill(spare, SPARE / 16, x); /* half of it: the rest stays zero */
}

int main(void)
{
	const char *ready = getenv("CRTEST_READY");
	sigset_t set;
	int sig, round = 0;

	mem = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	spare = mmap(NULL, SPARE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED || spare == MAP_FAILED)
		return 2;
	fill(mem, SIZE / 8, 42);
	fill(spare, SPARE / 8, 43);
	expected = sum();
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if (ready)
		close(open(ready, O_CREAT | O_WRONLY, 0600));
	while (sigwait(&set, &sig) == 0 && sig != SIGTERM) {
		if (sig == SIGUSR1) {
			change(++round);
			expected = sum();
			printf("round %d %016llx\n", round, (unsigned long long)expected);
		} else {
			printf("verify %s\n", sum() == expected ? "ok" : "FAIL");
		}
		fflush(stdout);
	}
	printf("PASS\n");
	return 0;
}
