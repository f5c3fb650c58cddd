/* SPDX-License-Identifier: MIT */
/*
 * crtest: helpers for checkpoint/restart test programs (see crtest.h).
 * Runs inside the test program, native or under Cocoon; the SIGTERM handler
 * only sets a flag.  test_pass/test_fail may be called from any thread.
 */
#include "crtest.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t term_seen;
static const char *prog_name = "test";

static void on_term(int sig)
{
	term_seen = 1;
}

void test_init(int argc, char **argv)
{
	struct sigaction sa;

	if (argc > 0 && argv[0]) {
		const char *slash = strrchr(argv[0], '/');
		prog_name = slash ? slash + 1 : argv[0];
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL))
		test_fail("sigaction(SIGTERM): %s", strerror(errno));
	setvbuf(stdout, NULL, _IOLBF, 0);
}

/* Write the whole buffer, or give up quietly: nothing to report it on. */
static void write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

void test_ready(void)
{
	const char *path = getenv("CRTEST_READY");
	char tmp[4096], buf[32];
	int fd, n;

	fflush(NULL);
	if (!path || !*path)
		return;
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		test_fail("CRTEST_READY too long");
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		test_fail("open %s: %s", tmp, strerror(errno));
	n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	write_all(fd, buf, (size_t)n);
	close(fd);
	if (rename(tmp, path))
		test_fail("rename %s: %s", tmp, strerror(errno));
}

int test_done(void)
{
	return term_seen;
}

/* Block SIGTERM while testing the flag so a SIGTERM between the test and the
 * sleep cannot be lost; any other wakeup (a checkpoint) just loops. */
void test_wait_done(void)
{
	sigset_t term, old, wait_mask;

	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &term, &old);
	wait_mask = old;
	sigdelset(&wait_mask, SIGTERM);
	while (!term_seen)
		sigsuspend(&wait_mask);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

void test_pass(void)
{
	static const char msg[] = "PASS\n";

	fflush(NULL);
	write_all(1, msg, sizeof(msg) - 1);
	_exit(0);
}

void test_fail(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	fflush(NULL);
	n = snprintf(buf, sizeof(buf), "FAIL: %s: ", prog_name);
	va_start(ap, fmt);
	n += vsnprintf(buf + n, sizeof(buf) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(buf) - 2)
		n = (int)sizeof(buf) - 2;
	buf[n++] = '\n';
	write_all(1, buf, (size_t)n);
	_exit(1);
}

/* FNV-1a over 64-bit words folded with a final mix: cheap, order sensitive. */
uint64_t test_digest(const void *buf, size_t len)
{
	const unsigned char *p = buf;
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return h;
}

/* Without CRTEST_DIR: a fresh directory under $TMPDIR (or /tmp), so a program
 * run by hand does not litter the directory it was started in. */
static const char *default_dir(void)
{
	static char dir[4096];
	const char *tmp = getenv("TMPDIR");

	if (dir[0])
		return dir;
	if (!tmp || !*tmp)
		tmp = "/tmp";
	snprintf(dir, sizeof(dir), "%s/crtest-%s-%d", tmp, prog_name, (int)getpid());
	if (mkdir(dir, 0700) && errno != EEXIST)
		test_fail("mkdir %s: %s", dir, strerror(errno));
	return dir;
}

const char *test_path(const char *name)
{
	static char bufs[8][4096];
	static int next;
	const char *dir = getenv("CRTEST_DIR");
	char *b = bufs[__atomic_fetch_add(&next, 1, __ATOMIC_RELAXED) % 8];

	if (!dir || !*dir)
		dir = default_dir();
	if (snprintf(b, sizeof(bufs[0]), "%s/%s", dir, name) >= (int)sizeof(bufs[0]))
		test_fail("path too long: %s/%s", dir, name);
	return b;
}

void test_thread_create(pthread_t *t, void *(*fn)(void *), void *arg)
{
	sigset_t term, old;
	int err;

	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &term, &old);
	err = pthread_create(t, NULL, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err)
		test_fail("pthread_create: %s", strerror(err));
}

void test_thread_join(pthread_t t, int seconds)
{
	struct timespec ts;
	int err;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += seconds;
	err = pthread_timedjoin_np(t, NULL, &ts);
	if (err)
		test_fail("thread did not end within %d s: %s", seconds, strerror(err));
}

void test_msleep(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

uint64_t test_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int test_maps_find(const void *addr, uintptr_t *start, uintptr_t *end, char perms[5])
{
	uintptr_t a = (uintptr_t)addr, s, e;
	char line[4096], p[5];
	FILE *f = fopen("/proc/self/maps", "re");
	int found = -1;

	if (!f)
		test_fail("open /proc/self/maps: %s", strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx %4s", &s, &e, p) != 3)
			continue;
		if (a >= s && a < e) {
			*start = s;
			*end = e;
			memcpy(perms, p, 5);
			found = 0;
			break;
		}
	}
	fclose(f);
	return found;
}

static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static unsigned char fill_byte(uint64_t seed, size_t i)
{
	return (unsigned char)(mix(seed + i / 8) >> (i % 8 * 8));
}

void test_fill(void *buf, size_t len, uint64_t seed)
{
	unsigned char *p = buf;

	for (size_t i = 0; i < len; i++)
		p[i] = fill_byte(seed, i);
}

int test_check_fill(const void *buf, size_t len, uint64_t seed)
{
	const unsigned char *p = buf;

	for (size_t i = 0; i < len; i++)
		if (p[i] != fill_byte(seed, i))
			return -1;
	return 0;
}

static pthread_mutex_t phase_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t phase_cond = PTHREAD_COND_INITIALIZER;
static int phase;

void test_set_phase(int p)
{
	pthread_mutex_lock(&phase_lock);
	phase = p;
	pthread_cond_broadcast(&phase_cond);
	pthread_mutex_unlock(&phase_lock);
}

void test_wait_phase(int p)
{
	pthread_mutex_lock(&phase_lock);
	while (phase < p)
		pthread_cond_wait(&phase_cond, &phase_lock);
	pthread_mutex_unlock(&phase_lock);
}
