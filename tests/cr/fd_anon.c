/* SPDX-License-Identifier: MIT */
/*
 * Anon-inode fds come back with their state: an eventfd's counter (and
 * semaphore mode), a periodic timerfd that keeps ticking, a one-shot
 * timerfd still armed, a signalfd that still receives its signal, and an
 * epoll set that still watches its fds with the same data tags.
 */
#include "crtest.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int counter, sem, ticker, oneshot, sigfd, ep, p[2];
	uint64_t v;
	sigset_t usr1;

	test_init(argc, argv);
	counter = eventfd(5, EFD_NONBLOCK);
	sem = eventfd(3, EFD_SEMAPHORE | EFD_NONBLOCK);
	ticker = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
	oneshot = timerfd_create(CLOCK_MONOTONIC, 0);
	struct itimerspec every = { { 0, 20000000 }, { 0, 20000000 } };
	struct itimerspec later = { { 0, 0 }, { 3600, 0 } };
	if (counter < 0 || sem < 0 || ticker < 0 || oneshot < 0 ||
	    timerfd_settime(ticker, 0, &every, NULL) || timerfd_settime(oneshot, 0, &later, NULL))
		test_fail("setup: %s", strerror(errno));
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, NULL);
	sigfd = signalfd(-1, &usr1, SFD_NONBLOCK);
	ep = epoll_create1(0);
	if (sigfd < 0 || ep < 0 || pipe(p))
		test_fail("setup: %s", strerror(errno));
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 0xc0c0 };
	struct epoll_event ev2 = { .events = EPOLLIN, .data.u64 = 0xbeef };
	if (epoll_ctl(ep, EPOLL_CTL_ADD, counter, &ev) || epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev2))
		test_fail("epoll_ctl: %s", strerror(errno));

	test_ready();
	test_wait_done();

	/* The epoll set reports the eventfd (readable) and not the empty pipe. */
	struct epoll_event out[4];
	int n = epoll_wait(ep, out, 4, 1000);
	if (n != 1 || out[0].data.u64 != 0xc0c0)
		test_fail("epoll_wait: %d events, first tag %#llx", n,
			  n > 0 ? (unsigned long long)out[0].data.u64 : 0ull);
	if (write(p[1], "x", 1) != 1 || epoll_wait(ep, out, 4, 1000) != 2)
		test_fail("epoll does not see the pipe after restart");
	if (read(counter, &v, sizeof(v)) != sizeof(v) || v != 5)
		test_fail("eventfd counter %llu, want 5", (unsigned long long)v);
	for (int i = 0; i < 3; i++)
		if (read(sem, &v, sizeof(v)) != sizeof(v) || v != 1)
			test_fail("semaphore eventfd read %d gave %llu", i, (unsigned long long)v);
	if (read(sem, &v, sizeof(v)) != -1 || errno != EAGAIN)
		test_fail("semaphore eventfd not empty after 3 reads");
	/* The periodic timer keeps firing. */
	test_msleep(100);
	if (read(ticker, &v, sizeof(v)) != sizeof(v) || v < 1)
		test_fail("periodic timerfd did not tick after restart");
	struct itimerspec left;
	if (timerfd_gettime(oneshot, &left) || left.it_value.tv_sec <= 0 ||
	    left.it_value.tv_sec > 3600)
		test_fail("one-shot timerfd not armed: %ld s left", (long)left.it_value.tv_sec);
	raise(SIGUSR1);
	struct signalfd_siginfo si;
	if (read(sigfd, &si, sizeof(si)) != sizeof(si) || si.ssi_signo != SIGUSR1)
		test_fail("signalfd did not receive SIGUSR1: %s", strerror(errno));
	test_pass();
}
