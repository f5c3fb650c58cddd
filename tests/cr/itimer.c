/* SPDX-License-Identifier: MIT */
/*
 * A periodic ITIMER_REAL (first expiry 3 s after start, then every 500 ms)
 * keeps running across the restart: getitimer shows it armed with the same
 * interval, and SIGALRM keeps arriving.  (alarm() is the same timer; alarm.c
 * tests the one-shot form.)
 */
#include "crtest.h"

#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/time.h>

static atomic_int alarms;

static void on_alarm(int sig)
{
	atomic_fetch_add(&alarms, 1);
}

int main(int argc, char **argv)
{
	struct itimerval it = { .it_interval = { 0, 500000 }, .it_value = { 3, 0 } }, cur;
	struct sigaction sa;

	test_init(argc, argv);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sa.sa_flags = SA_RESTART;
	test_assert(sigaction(SIGALRM, &sa, NULL) == 0);
	test_assert(setitimer(ITIMER_REAL, &it, NULL) == 0);

	test_ready();
	test_wait_done();

	test_assert(getitimer(ITIMER_REAL, &cur) == 0);
	if (cur.it_interval.tv_sec != 0 || cur.it_interval.tv_usec != 500000)
		test_fail("interval is %ld.%06ld s, want 0.5 s", (long)cur.it_interval.tv_sec,
			  (long)cur.it_interval.tv_usec);
	if (cur.it_value.tv_sec == 0 && cur.it_value.tv_usec == 0)
		test_fail("ITIMER_REAL is disarmed");
	if (cur.it_value.tv_sec > 3)
		test_fail("ITIMER_REAL has %ld s left, more than it was set to",
			  (long)cur.it_value.tv_sec);

	/* Two more expiries must come within first expiry + 2 intervals. */
	int seen = atomic_load(&alarms);
	uint64_t deadline = test_now_ns() + 5000000000ull;
	while (atomic_load(&alarms) < seen + 2) {
		if (test_now_ns() > deadline)
			test_fail("SIGALRM stopped: %d received in all", atomic_load(&alarms));
		test_msleep(10);
	}
	test_pass();
}
