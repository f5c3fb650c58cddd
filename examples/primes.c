/* SPDX-License-Identifier: MIT */
/*
 * Demo program: counts the primes below N in 40 slow steps, printing its
 * progress, and checks the final count against a sieve computed at start.
 * Used by `make demo` to show a checkpoint, a kill and a restart.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int is_prime(long n)
{
	if (n < 2)
		return 0;
	for (long d = 2; d * d <= n; d++)
		if (n % d == 0)
			return 0;
	return 1;
}

static long sieve_count(long n)
{
	char *composite = calloc((size_t)n, 1);
	long count = 0;

	for (long i = 2; i < n; i++) {
		if (composite[i])
			continue;
		count++;
		for (long j = i * i; j < n; j += i)
			composite[j] = 1;
	}
	free(composite);
	return count;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 400000, steps = 40, found = 0;
	long expected = sieve_count(n);

	printf("primes: counting primes below %ld in %ld steps (pid %d)\n", n, steps, getpid());
	for (long s = 0; s < steps; s++) {
		for (long i = n * s / steps; i < n * (s + 1) / steps; i++)
			found += is_prime(i);
		printf("primes: step %2ld/%ld: %ld primes so far\n", s + 1, steps, found);
		fflush(stdout);
		usleep(100000);
	}
	printf("primes: %ld primes below %ld: %s\n", found, n, found == expected ? "correct" : "WRONG");
	return found == expected ? 0 : 1;
}
