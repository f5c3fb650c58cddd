/* SPDX-License-Identifier: MIT */
/*
 * Suspending and resuming user threads.
 *
 * The checkpoint thread sends the suspend signal to every other thread
 * listed in /proc/self/task.  Each thread, in the handler, records its TLS
 * register, robust list and callee-saved context in rt.threads, then waits
 * on the rt.resume_seq futex.  After a restart the runtime clones a new
 * thread per record straight into that context (rt_ctx_save returns 1),
 * and the thread waits the same way until the checkpoint thread releases
 * everyone.  The handler uses raw syscalls only.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <signal.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <asm/prctl.h>

#include "common/image.h"
#include "runtime/rt.h"
#include "runtime/sys.h"

__thread int rt_tls_vtid;
__thread unsigned rt_tls_suspends;
__thread int rt_tls_past_tids[RT_PAST_TIDS];

static void futex_wait(_Atomic uint32_t *w, uint32_t val, long timeout_ns)
{
	struct timespec ts = { timeout_ns / 1000000000, timeout_ns % 1000000000 };

	rt_sys4(SYS_futex, w, FUTEX_WAIT_PRIVATE, val, timeout_ns ? &ts : NULL);
}

static void futex_wake(_Atomic uint32_t *w)
{
	rt_sys3(SYS_futex, w, FUTEX_WAKE_PRIVATE, 0x7fffffff);
}

int rt_vtid_self(void)
{
	if (!rt_tls_vtid)
		rt_tls_vtid = rt_gettid();
	return rt_tls_vtid;
}

int rt_signals_take(siginfo_t *out, int cap)
{
	uint64_t set = ~0ull & ~(1ull << (rt.sig - 1));
	struct timespec zero = { 0, 0 };
	int n = 0;

	while (n < cap && rt_sys4(SYS_rt_sigtimedwait, &set, &out[n], &zero, 8) > 0)
		n++;
	return n;
}

/* tid 0: queue at the process. */
void rt_signals_requeue(const siginfo_t *in, int n, int tid)
{
	for (int i = 0; i < n; i++) {
		siginfo_t info = in[i];
		if (tid)
			rt_sys4(SYS_rt_tgsigqueueinfo, rt.real_pid, tid, info.si_signo, &info);
		else
			rt_sys3(SYS_rt_sigqueueinfo, rt.real_pid, info.si_signo, &info);
	}
}

static void suspend_handler(int sig, siginfo_t *si, void *uc)
{
	int saved_errno = errno;
	uint32_t seq = atomic_load(&rt.resume_seq);

	/* A signal left pending by a checkpoint that gave up on this thread. */
	if (!atomic_load(&rt.suspending))
		return;
	unsigned idx = atomic_fetch_add(&rt.nthreads, 1);

	rt_tls_suspends++;
	if (idx >= RT_MAX_THREADS) {
		/* Too many threads: never reached in practice, the checkpoint
		 * thread fails the checkpoint when it sees the count. */
		atomic_fetch_add(&rt.nsuspended, 1);
		futex_wake(&rt.nsuspended);
		goto wait;
	}
	struct rt_thread *t = &rt.threads[idx];
	t->tid = rt_gettid();
	t->vtid = rt_vtid_self();
	t->flags = t->tid == rt.real_pid ? IMG_T_MAIN : 0;
	rt_sys2(SYS_arch_prctl, ARCH_GET_FS, &t->fsbase);
	size_t len = 0;
	t->robust_head = 0;
	rt_sys3(SYS_get_robust_list, 0, &t->robust_head, &len);
	t->robust_len = len;
	t->npending = rt_signals_take(t->pending, RT_MAX_PENDING);
	rt_sys2(SYS_prctl, PR_GET_NAME, t->comm);
	int tid_before = t->tid; /* on this stack: still there after a restart */
	if (rt_ctx_save(&t->ctx) == 0) {
		atomic_store(&t->saved, 1);
		atomic_fetch_add(&rt.nsuspended, 1);
		futex_wake(&rt.nsuspended);
	} else {
		/* A new thread after restart: the kernel knows nothing of our
		 * robust list yet. */
		if (t->robust_head)
			rt_sys2(SYS_set_robust_list, t->robust_head, t->robust_len);
		rt_sys2(SYS_prctl, PR_SET_NAME, t->comm);
		memmove(&rt_tls_past_tids[1], &rt_tls_past_tids[0],
			sizeof(rt_tls_past_tids) - sizeof(rt_tls_past_tids[0]));
		rt_tls_past_tids[0] = tid_before;
	}
wait:
	while (atomic_load(&rt.resume_seq) == seq)
		futex_wait(&rt.resume_seq, seq, 0);
	if (idx < RT_MAX_THREADS)
		rt_signals_requeue(rt.threads[idx].pending, rt.threads[idx].npending, rt_gettid());
	errno = saved_errno;
}

void rt_suspend_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = suspend_handler;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigfillset(&sa.sa_mask);
	real_sigaction(rt.sig, &sa, NULL);
}

/* Tids of the other threads, from /proc/self/task, without libc's opendir. */
static int list_tasks(int *tids, int cap)
{
	char buf[8192];
	int n = 0;
	int fd = open("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	for (;;) {
		long got = rt_sys3(SYS_getdents64, fd, buf, sizeof(buf));
		if (got <= 0)
			break;
		for (long off = 0; off < got;) {
			struct {
				uint64_t ino;
				int64_t off;
				unsigned short reclen;
				unsigned char type;
				char name[];
			} *d = (void *)(buf + off);
			int tid = atoi(d->name);
			if (tid > 0 && tid != rt.ckpt_tid && n < cap)
				tids[n++] = tid;
			off += d->reclen;
		}
	}
	close(fd);
	return n;
}

static int contains(const int *v, int n, int x)
{
	for (int i = 0; i < n; i++)
		if (v[i] == x)
			return 1;
	return 0;
}

/* Has this thread saved its context yet? */
static int arrived(int tid)
{
	unsigned n = atomic_load(&rt.nthreads);

	for (unsigned i = 0; i < n && i < RT_MAX_THREADS; i++)
		if (rt.threads[i].tid == tid && atomic_load(&rt.threads[i].saved))
			return 1;
	return 0;
}

/* A signalled thread that has not arrived and blocks our signal (any that
 * has not arrived, when any is true); 0 if none. */
static int stuck_thread(const int *tids, int n, int any)
{
	char path[64], buf[2048];

	for (int i = 0; i < n; i++) {
		if (arrived(tids[i]))
			continue;
		if (any)
			return tids[i];
		snprintf(path, sizeof(path), "/proc/self/task/%d/status", tids[i]);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		ssize_t len = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
		if (fd >= 0)
			close(fd);
		if (len <= 0)
			continue;
		buf[len] = 0;
		const char *blk = strstr(buf, "SigBlk:");
		if (blk && (strtoull(blk + 7, NULL, 16) >> (rt.sig - 1)) & 1)
			return tids[i];
	}
	return 0;
}

/*
 * Signal every user thread and wait until each has saved its context.
 * New threads may appear while earlier ones are being stopped: repeat
 * until a listing shows no thread we have not signalled.
 */
int rt_suspend_all(void)
{
	static int signalled[RT_MAX_THREADS], now[RT_MAX_THREADS];
	int nsig = 0;

	atomic_store(&rt.nthreads, 0);
	atomic_store(&rt.nsuspended, 0);
	atomic_store(&rt.suspending, 1);
	for (;;) {
		int n = list_tasks(now, RT_MAX_THREADS), fresh = 0;
		if (n < 0)
			return n;
		for (int i = 0; i < n; i++) {
			if (contains(signalled, nsig, now[i]))
				continue;
			if (nsig == RT_MAX_THREADS)
				return -E2BIG;
			if (rt_sys3(SYS_tgkill, rt.real_pid, now[i], rt.sig) == 0) {
				signalled[nsig++] = now[i];
				fresh++;
			}
		}
		/* Wait for every signalled thread that still exists. */
		for (int rounds = 0;; rounds++) {
			uint32_t got = atomic_load(&rt.nsuspended);
			if ((int)got >= nsig)
				break;
			futex_wait(&rt.nsuspended, got, 20 * 1000 * 1000);
			/* After 2 s, a thread that still blocks our signal (a glibc
			 * helper thread that blocks everything) never will: give up
			 * rather than hang the computation. */
			if (rounds == 100 || rounds == 1500) {
				int stuck = stuck_thread(signalled, nsig, rounds == 1500);
				if (stuck) {
					cocoon_error("thread %d %s", stuck, rounds == 1500 ?
						     "does not stop for the checkpoint (30 s)" :
						     "blocks the checkpoint signal (a glibc helper "
						     "thread, e.g. of a SIGEV_THREAD timer?)");
					return -EDEADLK;
				}
			}
			int alive = list_tasks(now, RT_MAX_THREADS), gone = 0;
			for (int i = 0; i < nsig; i++)
				if (!contains(now, alive, signalled[i]))
					gone++;
			if ((int)atomic_load(&rt.nsuspended) + gone >= nsig && gone) {
				/* Threads that exited before stopping: forget them. */
				int k = 0;
				for (int i = 0; i < nsig; i++)
					if (contains(now, alive, signalled[i]))
						signalled[k++] = signalled[i];
				nsig = k;
			}
		}
		if (!fresh)
			break;
	}
	if (atomic_load(&rt.nthreads) > RT_MAX_THREADS)
		return -E2BIG;
	return 0;
}

void rt_resume_all(void)
{
	atomic_store(&rt.suspending, 0);
	atomic_fetch_add(&rt.resume_seq, 1);
	futex_wake(&rt.resume_seq);
}
