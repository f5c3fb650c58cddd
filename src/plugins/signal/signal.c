/* SPDX-License-Identifier: MIT */
/*
 * The signal plugin: signal dispositions, interval timers and POSIX timers.  Kept in
 * process memory at checkpoint (so in the image) and given back to the
 * kernel at restart.  Per-thread blocked masks need nothing: each thread
 * returns from the suspend handler through sigreturn, which restores its
 * mask (and its sigaltstack) from the saved frame.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/time.h>

#include "plugins/signal/sysv.h"
#include "plugins/signal/timers.h"
#include "runtime/rt.h"
#include "runtime/sys.h"

struct kernel_sigaction {
	void *handler;
	unsigned long flags;
	void *restorer;
	uint64_t mask;
};

static struct kernel_sigaction actions[65];
static struct itimerval timers[3];
/* Signals pending at the process, not at one thread. */
static siginfo_t shared_pending[64];
static int nshared;

static int save(void)
{
	for (int sig = 1; sig <= 64; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			rt_sys4(SYS_rt_sigaction, sig, NULL, &actions[sig], 8);
	for (int w = 0; w < 3; w++)
		rt_sys2(SYS_getitimer, w, &timers[w]);
	return timers_save();
}

static int restore(void)
{
	for (int sig = 1; sig <= 64; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		long r = rt_sys4(SYS_rt_sigaction, sig, &actions[sig], NULL, 8);
		if (r < 0 && sig < SIGRTMIN) {
			cocoon_error("cannot restore the handler of signal %d: %s", sig,
				     strerror((int)-r));
			return (int)r;
		}
	}
	for (int w = 0; w < 3; w++)
		if (timers[w].it_value.tv_sec || timers[w].it_value.tv_usec)
			rt_sys3(SYS_setitimer, w, &timers[w], NULL);
	return timers_restore();
}

static int signal_event(enum cocoon_event ev, void *arg)
{
	if (ev == COCOON_EV_PRESUSPEND) {
		/* Before user threads stop, or their handlers would take these as
		 * their own.  The checkpoint thread has nothing pending of its own,
		 * so what it takes is what waits at the process. */
		nshared = rt_signals_take(shared_pending, 64);
		return 0;
	}
	if (ev == COCOON_EV_PRECHECKPOINT) {
		int err = sysv_save();
		return err ? err : save();
	}
	if (ev == COCOON_EV_RUNNING && rt.restarts) {
		sysv_running();
		return 0;
	}
	if (ev == COCOON_EV_RESTART) {
		sysv_restart();
		int err = restore();
		if (!err)
			rt_signals_requeue(shared_pending, nshared, 0);
		return err;
	}
	if (ev == COCOON_EV_RESUME)
		rt_signals_requeue(shared_pending, nshared, 0);
	return 0;
}

const struct cocoon_plugin rt_plugin_signal = {
	.api_version = COCOON_API_VERSION,
	.name = "signal",
	.event = signal_event,
};
