/* SPDX-License-Identifier: MIT */
/*
 * overhead: cost of common calls, to compare natively vs under `cocoon launch`.
 *
 * usage: overhead FILE [SECONDS]
 *
 * For each loop (getpid, open+close of FILE, malloc+free of small sizes,
 * lock+unlock of a mutex, putc to a stdio stream on /dev/null,
 * pthread_create+join) it picks an iteration count that takes about SECONDS
 * (default 0.5), runs the loop three times and prints the best as
 * "NAME NS_PER_OP", one line each.  Plain libc program.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static const char *file;
static volatile uintptr_t sink;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void loop_getpid(long n)
{
	for (long i = 0; i < n; i++)
		sink += (uintptr_t)getpid();
}

static void loop_open_close(long n)
{
	for (long i = 0; i < n; i++) {
		int fd = open(file, O_RDONLY);
		if (fd < 0) {
			perror(file);
			exit(1);
		}
		close(fd);
	}
}

static void loop_malloc_free(long n)
{
	for (long i = 0; i < n; i++) {
		void *p = malloc(16 + (size_t)(i & 15) * 16); /* 16..256 bytes */
		sink += (uintptr_t)p;
		free(p);
	}
}

static void loop_mutex(long n)
{
	static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;

	for (long i = 0; i < n; i++) {
		pthread_mutex_lock(&m);
		sink++;
		pthread_mutex_unlock(&m);
	}
}

/* stdio locks each call once a process has a second thread */
static void loop_putc(long n)
{
	static FILE *f;

	if (!f && !(f = fopen("/dev/null", "w"))) {
		fprintf(stderr, "overhead: cannot open /dev/null\n");
		exit(1);
	}
	for (long i = 0; i < n; i++)
		putc('x', f);
}

static void *thread_fn(void *arg)
{
	return arg;
}

static void loop_thread(long n)
{
	for (long i = 0; i < n; i++) {
		pthread_t t;
		if (pthread_create(&t, NULL, thread_fn, NULL) != 0) {
			fprintf(stderr, "overhead: pthread_create failed\n");
			exit(1);
		}
		pthread_join(t, NULL);
	}
}

static double ns_per_op(void (*fn)(long), double seconds)
{
	long n = 16;
	double t;

	/* Grow n until one run takes at least 50 ms, then scale to `seconds`. */
	for (;;) {
		t = now();
		fn(n);
		t = now() - t;
		if (t >= 0.05)
			break;
		n *= 4;
	}
	n = (long)((double)n * seconds / t) + 1;

	double best = 1e30;
	for (int rep = 0; rep < 3; rep++) {
		t = now();
		fn(n);
		t = now() - t;
		if (t < best)
			best = t;
	}
	return best * 1e9 / (double)n;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		void (*fn)(long);
	} loops[] = {
		{ "getpid", loop_getpid },
		{ "open+close", loop_open_close },
		{ "malloc+free", loop_malloc_free },
		{ "mutex lock+unlock", loop_mutex },
		{ "putc", loop_putc },
		{ "pthread_create+join", loop_thread },
	};

	if (argc < 2) {
		fprintf(stderr, "usage: overhead FILE [SECONDS]\n");
		return 2;
	}
	file = argv[1];
	double seconds = argc > 2 ? atof(argv[2]) : 0.5;

	for (size_t i = 0; i < sizeof(loops) / sizeof(loops[0]); i++)
		printf("%s %.1f\n", loops[i].name, ns_per_op(loops[i].fn, seconds));
	return 0;
}
