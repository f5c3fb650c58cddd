/* SPDX-License-Identifier: MIT */
/*
 * crtest: the helpers every checkpoint/restart test program links (the zdtm pattern).
 *
 * A program calls test_init(), sets up the state it is about, calls test_ready(),
 * keeps that state in use until SIGTERM (test_wait_done() or a loop on test_done()),
 * then checks everything it can and ends with test_pass() or test_fail().  The
 * driver (tests/run.py) checkpoints, kills and restarts the program between ready
 * and SIGTERM; run natively the same program must pass too.
 *
 * Environment: CRTEST_READY names the file test_ready() creates; CRTEST_DIR is
 * where test_path() puts the program's files (else a new $TMPDIR/crtest-NAME-PID).
 */
#ifndef CRTEST_H
#define CRTEST_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

void test_init(int argc, char **argv);
void test_ready(void);
void test_wait_done(void);
int test_done(void);
void test_pass(void) __attribute__((noreturn));
void test_fail(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
uint64_t test_digest(const void *buf, size_t len);

/* "$CRTEST_DIR/name"; the string lives until the next 8 calls. */
const char *test_path(const char *name);

/* pthread_create with SIGTERM blocked in the new thread, so the driver's SIGTERM
 * always lands in the main thread and never interrupts what a worker tests. */
void test_thread_create(pthread_t *t, void *(*fn)(void *), void *arg);

/* Join with a deadline (seconds); fails the test when the thread does not end. */
void test_thread_join(pthread_t t, int seconds);

/* Sleep, retrying on EINTR: for the test's own pacing, never for what it tests. */
void test_msleep(long ms);

/* Monotonic clock in nanoseconds. */
uint64_t test_now_ns(void);

/* Find the /proc/self/maps line containing addr: its bounds and "rwxp" perms.
 * 0 when found, -1 when addr is not mapped. */
int test_maps_find(const void *addr, uintptr_t *start, uintptr_t *end, char perms[5]);

/* Fill buf with a pattern derived from seed; check it, failing with what. */
void test_fill(void *buf, size_t len, uint64_t seed);
int test_check_fill(const void *buf, size_t len, uint64_t seed);

#define test_assert(cond)                                                                  \
	do {                                                                               \
		if (!(cond))                                                               \
			test_fail("%s:%d: %s", __FILE__, __LINE__, #cond);                 \
	} while (0)

/* A phase number the program's threads share, 0 at the start: test_set_phase()
 * sets it and wakes every waiter; test_wait_phase() returns once it is >= p. */
void test_set_phase(int p);
void test_wait_phase(int p);

#endif
