/* SPDX-License-Identifier: MIT */
/*
 * POSIX timers (timer_create).  At checkpoint: every timer of the process
 * from /proc/self/timers (id, clock, signal, value, whom it notifies) and
 * its time left.  At restart: created again under the same id, which the
 * program holds as its timer_t (PR_TIMER_CREATE_RESTORE_IDS, Linux 6.15+;
 * older kernels refuse it and the restart says so), and armed with the time
 * that was left.  Kept in process memory, so in the image.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "plugins/pid/pid.h"
#include "plugins/signal/timers.h"
#include "runtime/rt.h"
#include "runtime/sys.h"

#define MAX_TIMERS 256
#define PR_TIMER_CREATE_RESTORE_IDS 77

struct saved_timer {
	int id, clockid, signo, notify, vtid;
	uint64_t value;
	struct itimerspec left;
};

static struct saved_timer timers[MAX_TIMERS];
static int ntimers;

/* Parse one "ID: ..." block of /proc/self/timers into t. */
static int parse_timer(const char *p, struct saved_timer *t)
{
	char kind[16] = "", target[8] = "";
	int who = 0;
	char *sig = strstr(p, "signal:"), *not = strstr(p, "notify:"), *clk = strstr(p, "ClockID:");

	if (!sig || !not || !clk)
		return -EINVAL;
	memset(t, 0, sizeof(*t));
	t->id = atoi(p + 3);
	t->signo = (int)strtol(sig + 7, &sig, 10);
	t->value = strtoull(sig + 1, NULL, 16);
	/* "signal/pid.N", "signal/tid.N" (SIGEV_THREAD_ID) or "none/..." */
	sscanf(not + 7, " %15[^/]/%7[a-z].%d", kind, target, &who);
	t->notify = strcmp(kind, "none") == 0 ? SIGEV_NONE :
		    strcmp(target, "tid") == 0 ? SIGEV_SIGNAL | SIGEV_THREAD_ID : SIGEV_SIGNAL;
	t->vtid = pid_to_virtual(who);
	t->clockid = atoi(clk + 8);
	if (rt_sys2(SYS_timer_gettime, t->id, &t->left) < 0) {
		cocoon_error("POSIX timer %d: cannot read its time left", t->id);
		return -EINVAL;
	}
	return 0;
}

int timers_save(void)
{
	char buf[16384];
	int fd = open("/proc/self/timers", O_RDONLY | O_CLOEXEC);
	ssize_t n = 0, r;

	ntimers = 0;
	if (fd < 0)
		return 0; /* no CONFIG_CHECKPOINT_RESTORE: no timers to see */
	while (n < (ssize_t)sizeof(buf) - 1 && (r = read(fd, buf + n, sizeof(buf) - 1 - (size_t)n)) > 0)
		n += r;
	close(fd);
	buf[n] = 0;
	for (char *p = buf; *p; p++) {
		/* "ID:" at the start of a line ("ClockID:" is not one) */
		if (strncmp(p, "ID:", 3) != 0 || (p != buf && p[-1] != '\n'))
			continue;
		if (ntimers == MAX_TIMERS) {
			cocoon_error("more than %d POSIX timers", MAX_TIMERS);
			return -E2BIG;
		}
		int err = parse_timer(p, &timers[ntimers]);
		if (err)
			return err;
		ntimers++;
	}
	return 0;
}

int timers_restore(void)
{
	if (!ntimers)
		return 0;
	if (rt_sys5(SYS_prctl, PR_TIMER_CREATE_RESTORE_IDS, 1, 0, 0, 0) < 0) {
		cocoon_error("this kernel cannot create POSIX timers under given ids "
			     "(PR_TIMER_CREATE_RESTORE_IDS, Linux 6.15+)");
		return -ENOTSUP;
	}
	for (int i = 0; i < ntimers; i++) {
		struct saved_timer *t = &timers[i];
		struct sigevent ev;
		int id = t->id;
		memset(&ev, 0, sizeof(ev));
		ev.sigev_notify = t->notify;
		ev.sigev_signo = t->signo;
		ev.sigev_value.sival_ptr = (void *)(uintptr_t)t->value;
		if (t->notify & SIGEV_THREAD_ID)
			ev._sigev_un._tid = tid_to_real(t->vtid);
		long r = rt_sys3(SYS_timer_create, t->clockid, &ev, &id);
		if (r == 0 && id == t->id)
			r = rt_sys4(SYS_timer_settime, id, 0, &t->left, NULL);
		if (r < 0 || id != t->id) {
			cocoon_error("cannot create POSIX timer %d again: %s", t->id,
				     strerror(r < 0 ? (int)-r : EEXIST));
			rt_sys5(SYS_prctl, PR_TIMER_CREATE_RESTORE_IDS, 0, 0, 0, 0);
			return r < 0 ? (int)r : -EEXIST;
		}
	}
	rt_sys5(SYS_prctl, PR_TIMER_CREATE_RESTORE_IDS, 0, 0, 0, 0);
	return 0;
}
