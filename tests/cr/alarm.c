/* SPDX-License-Identifier: MIT */
/*
 * A one-shot alarm(4) armed before the checkpoint still fires after the
 * restart: when SIGTERM comes it has either fired already or getitimer shows
 * it armed, and then it must fire.
 */
#include "crtest.h"

#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

static atomic_int alarms;

static void on_alarm(int sig)
{
	atomic_fetch_add(&alarms, 1);
}

int main(int argc, char **argv)
{
	struct itimerval cur;
	struct sigaction sa;

	test_init(argc, argv);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sa.sa_flags = SA_RESTART;
	test_assert(sigaction(SIGALRM, &sa, NULL) == 0);
	test_assert(alarm(4) == 0);

	test_ready();
	test_wait_done();

	test_assert(getitimer(ITIMER_REAL, &cur) == 0);
	int armed = cur.it_value.tv_sec || cur.it_value.tv_usec;
	if (cur.it_interval.tv_sec || cur.it_interval.tv_usec)
		test_fail("alarm became periodic");
	if (cur.it_value.tv_sec > 4)
		test_fail("alarm has %ld s left, more than it was set to",
			  (long)cur.it_value.tv_sec);
	if (!armed && atomic_load(&alarms) == 0)
		test_fail("alarm lost: not armed and never fired");
	uint64_t deadline = test_now_ns() + 6000000000ull;
	while (atomic_load(&alarms) == 0) {
		if (test_now_ns() > deadline)
			test_fail("SIGALRM never came (armed with %ld.%06ld s left)",
				  (long)cur.it_value.tv_sec, (long)cur.it_value.tv_usec);
		test_msleep(10);
	}
	test_msleep(50);
	if (atomic_load(&alarms) != 1)
		test_fail("SIGALRM came %d times", atomic_load(&alarms));
	test_pass();
}
