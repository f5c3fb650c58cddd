/* SPDX-License-Identifier: MIT */
/*
 * Signal wrappers.  The suspend signal belongs to Cocoon: the program can
 * neither catch nor block it.  And a checkpoint must not be visible as an
 * early return: calls the kernel never restarts after a handler (sleeps,
 * poll, select, pause, sigsuspend) are retried when the only interruption
 * was our suspend handler (rt_tls_suspends changed and no handler of the
 * program ran: rt_tls_program_signals, counted by program_signal).
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "plugins/pid/pid.h"
#include "runtime/rt.h"
#include "runtime/sys.h"

static const sigset_t *strip(const sigset_t *set, sigset_t *copy)
{
	if (!set || !rt.active || !sigismember(set, rt.sig))
		return set;
	*copy = *set;
	sigdelset(copy, rt.sig);
	return copy;
}

/*
 * Every handler the program installs runs through program_signal: it counts
 * the program's signals per thread (so a call interrupted by a checkpoint
 * is retried only when no handler of the program ran too) and shows an
 * SA_SIGINFO handler the sender's virtual pid.
 */
__thread unsigned rt_tls_program_signals;

struct user_action {
	void *fn;  /* the program's handler */
	int flags; /* the program's sa_flags */
};
static struct user_action user[65];
static rt_spin user_lock = RT_SPIN_INIT; /* see sigaction */

static void program_signal(int sig, siginfo_t *si, void *uc)
{
	struct user_action *a = &user[sig > 0 && sig <= 64 ? sig : 0];

	rt_tls_program_signals++;
	if (!(a->flags & SA_SIGINFO)) {
		((void (*)(int))a->fn)(sig);
		return;
	}
	/* Only where the union holds a sender's pid. */
	if (si && (si->si_code == SI_USER || si->si_code == SI_QUEUE || si->si_code == SI_TKILL ||
		   si->si_code == SI_MESGQ || (sig == SIGCHLD && si->si_code > 0)))
		si->si_pid = pid_to_virtual(si->si_pid);
	((void (*)(int, siginfo_t *, void *))a->fn)(sig, si, uc);
}

static int is_handler(const struct sigaction *act)
{
	void *fn = (void *)act->sa_sigaction;

	return fn && fn != (void *)SIG_IGN && fn != (void *)SIG_DFL && fn != (void *)SIG_ERR;
}

RT_EXPORT int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	struct sigaction mine;
	struct user_action prev;
	int r;

	RESOLVED(sigaction);
	if (rt.active && sig == rt.sig) {
		if (old)
			memset(old, 0, sizeof(*old));
		return 0; /* reserved by Cocoon: silently kept */
	}
	if (sig <= 0 || sig > 64)
		return real_sigaction(sig, act, old);
	/* user[] and the kernel's disposition change together: one thread at
	 * a time, and no handler of this thread in between (it may call
	 * sigaction too). */
	uint64_t all = ~0ull, mask;
	rt_sys4(SYS_rt_sigprocmask, SIG_SETMASK, &all, &mask, 8);
	rt_spin_lock(&user_lock);
	prev = user[sig];
	if (act && is_handler(act)) {
		mine = *act;
		mine.sa_sigaction = program_signal;
		mine.sa_flags |= SA_SIGINFO;
		user[sig] = (struct user_action){ (void *)act->sa_sigaction, act->sa_flags };
		act = &mine;
	}
	r = real_sigaction(sig, act, old);
	if (r != 0 && act == &mine)
		user[sig] = prev;
	if (r == 0 && act && act != &mine)
		user[sig] = (struct user_action){ NULL, 0 };
	if (r == 0 && old && old->sa_sigaction == program_signal) {
		old->sa_sigaction = (void (*)(int, siginfo_t *, void *))prev.fn;
		old->sa_flags = prev.flags;
	}
	rt_spin_unlock(&user_lock);
	rt_sys4(SYS_rt_sigprocmask, SIG_SETMASK, &mask, NULL, 8);
	return r;
}

/* signal(): glibc's would reach the kernel without us; BSD semantics. */
RT_EXPORT sighandler_t signal(int sig, sighandler_t fn)
{
	struct sigaction act, old;

	memset(&act, 0, sizeof(act));
	act.sa_handler = fn;
	act.sa_flags = SA_RESTART;
	sigemptyset(&act.sa_mask);
	sigaddset(&act.sa_mask, sig);
	if (sigaction(sig, &act, &old) != 0)
		return SIG_ERR;
	return old.sa_handler;
}

RT_EXPORT int sigprocmask(int how, const sigset_t *set, sigset_t *old)
{
	sigset_t copy;

	RESOLVED(sigprocmask);
	return real_sigprocmask(how, strip(set, &copy), old);
}

RT_EXPORT int pthread_sigmask(int how, const sigset_t *set, sigset_t *old)
{
	sigset_t copy;

	RESOLVED(pthread_sigmask);
	return real_pthread_sigmask(how, strip(set, &copy), old);
}

/* Was the call interrupted by a checkpoint and by nothing of the program's?
 * before: the two per-thread counters, sampled before the call. */
struct counts {
	unsigned suspends, program;
};

static struct counts now_counts(void)
{
	return (struct counts){ rt_tls_suspends, rt_tls_program_signals };
}

static int only_ours(struct counts before)
{
	return rt_tls_suspends != before.suspends && rt_tls_program_signals == before.program;
}

static int ours(struct counts before)
{
	return errno == EINTR && only_ours(before);
}

RT_EXPORT int nanosleep(const struct timespec *req, struct timespec *rem)
{
	struct timespec left = req ? *req : (struct timespec){ 0, 0 }, next;

	RESOLVED(nanosleep);
	for (;;) {
		struct counts before = now_counts();
		int r = real_nanosleep(req ? &left : NULL, &next);
		if (r == 0 || !ours(before)) {
			if (r && rem)
				*rem = next;
			return r;
		}
		left = next;
	}
}

RT_EXPORT int clock_nanosleep(clockid_t clk, int flags, const struct timespec *req,
			      struct timespec *rem)
{
	struct timespec left = *req, next;

	RESOLVED(clock_nanosleep);
	for (;;) {
		struct counts before = now_counts();
		int r = real_clock_nanosleep(clk, flags, &left, &next);
		if (r != EINTR || !only_ours(before)) {
			if (r == EINTR && rem)
				*rem = next;
			return r;
		}
		if (!(flags & TIMER_ABSTIME))
			left = next;
	}
}

RT_EXPORT unsigned sleep(unsigned seconds)
{
	struct timespec req = { seconds, 0 }, rem;

	if (nanosleep(&req, &rem) == 0)
		return 0;
	return (unsigned)rem.tv_sec + (rem.tv_nsec > 0);
}

RT_EXPORT int usleep(useconds_t usec)
{
	struct timespec req = { usec / 1000000, (long)(usec % 1000000) * 1000 };

	return nanosleep(&req, NULL);
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

RT_EXPORT int poll(struct pollfd *fds, nfds_t n, int timeout)
{
	long deadline = timeout > 0 ? now_ms() + timeout : 0;

	RESOLVED(poll);
	for (;;) {
		struct counts before = now_counts();
		int r = real_poll(fds, n, timeout);
		if (r >= 0 || !ours(before))
			return r;
		if (timeout > 0) {
			long left = deadline - now_ms();
			timeout = left > 0 ? (int)left : 0;
		}
	}
}

RT_EXPORT int select(int n, fd_set *r, fd_set *w, fd_set *e, struct timeval *tv)
{
	fd_set r0, w0, e0;

	RESOLVED(select);
	if (r)
		r0 = *r;
	if (w)
		w0 = *w;
	if (e)
		e0 = *e;
	for (;;) {
		struct counts before = now_counts();
		int ret = real_select(n, r, w, e, tv); /* Linux updates tv to the time left */
		if (ret >= 0 || !ours(before))
			return ret;
		if (r)
			*r = r0;
		if (w)
			*w = w0;
		if (e)
			*e = e0;
	}
}

RT_EXPORT int pause(void)
{
	RESOLVED(pause);
	for (;;) {
		struct counts before = now_counts();
		int r = real_pause();
		if (!ours(before))
			return r;
	}
}

RT_EXPORT int sigsuspend(const sigset_t *mask)
{
	sigset_t copy;

	RESOLVED(sigsuspend);
	for (;;) {
		struct counts before = now_counts();
		int r = real_sigsuspend(strip(mask, &copy));
		if (!ours(before))
			return r;
	}
}
