/* SPDX-License-Identifier: MIT */
/*
 * Runtime start-up in every process of a computation (library constructor).
 * Without COCOON_COORD in the environment the runtime stays inactive and
 * every wrapper passes straight through.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "common/config.h"
#include "runtime/rt.h"
#include "runtime/track.h"
#include "runtime/sys.h"

/* Zero-initialised, so in .bss: its megabytes of thread slots cost an image
 * only the pages that were used.  The fds are set to -1 first thing. */
struct rt_state rt;

/* Candidate offsets of the tid in glibc's struct pthread, found in the main
 * thread; the checkpoint thread keeps the first that matches it too. */
static int tid_candidates[8], ncandidates;

static void find_tid_candidates(void)
{
	const int *pd = (const int *)pthread_self();
	int tid = rt_gettid();

	for (int i = 0; i < 1024 / 4 && ncandidates < 8; i++)
		if (pd[i] == tid)
			tid_candidates[ncandidates++] = i * 4;
}

int rt_tid_offset_confirm(void)
{
	const char *pd = (const char *)pthread_self();
	int tid = rt_gettid();

	for (int i = 0; i < ncandidates; i++) {
		if (*(const int *)(pd + tid_candidates[i]) == tid) {
			rt.tid_off = tid_candidates[i];
			return 0;
		}
	}
	return -ENOENT;
}

static void read_progname(void)
{
	char buf[64] = "";
	int fd = open("/proc/self/comm", O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		ssize_t n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		buf[n > 0 ? n : 0] = 0;
	}
	buf[strcspn(buf, "\n/ ")] = 0;
	snprintf(rt.progname, sizeof(rt.progname), "%s", buf[0] ? buf : "proc");
}

static void read_fault(void)
{
	const char *f = getenv(ENV_FAULT);
	const char *colon = f ? strchr(f, ':') : NULL;

	if (!colon || (size_t)(colon - f) >= sizeof(rt.fault_kind))
		return;
	memcpy(rt.fault_kind, f, (size_t)(colon - f));
	rt.fault_kind[colon - f] = 0;
	rt.fault_gen = atoi(colon + 1);
}

static void copy_env(char *dst, size_t cap, const char *name)
{
	const char *v = getenv(name);

	snprintf(dst, cap, "%s", v ? v : "");
}

/* A forked child is not part of the computation yet: it drops the parent's
 * coordinator connection and runs without checkpointing. */
static void atfork_child(void)
{
	if (rt.coord_fd >= 0)
		close(rt.coord_fd);
	rt.coord_fd = -1;
	rt.active = 0;
}

__attribute__((constructor)) static void rt_init(void)
{
	struct utsname u;
	const char *sig;

	rt.coord_fd = rt.log_fd = rt.restart_image_fd = rt.restart_err_fd = -1;
	RESOLVED(getpid);
	if (!getenv(ENV_COORD) || !getenv(ENV_COORD)[0])
		return;
	copy_env(rt.coord, sizeof(rt.coord), ENV_COORD);
	copy_env(rt.secret, sizeof(rt.secret), ENV_SECRET);
	copy_env(rt.ckpt_dir, sizeof(rt.ckpt_dir), ENV_CKPT_DIR);
	copy_env(rt.stream_cmd, sizeof(rt.stream_cmd), ENV_IMAGE_STREAM);
	rt_identity_init();
	sig = getenv(ENV_SIGNAL);
	rt.sig = sig && atoi(sig) > 0 && atoi(sig) <= SIGRTMAX ? atoi(sig) : SIGRTMAX - 3;
	read_progname();
	read_fault();
	rt_compress_init();
	rt_track_init();
	rt.forked = getenv(ENV_FORKED) && strcmp(getenv(ENV_FORKED), "1") == 0;
	rt.direct = getenv(ENV_DIRECT) && strcmp(getenv(ENV_DIRECT), "1") == 0;
	if (uname(&u) == 0)
		snprintf(rt.hostname, sizeof(rt.hostname), "%.63s", u.nodename);
	rt_fd_take(-1);
	rt_fd_is_ours(0); /* computes rt.fd_base */
	rt_log_open();
	find_tid_candidates();
	rt_suspend_install();
	rt_plugin_builtin(&rt_plugin_pid);
	rt_plugin_builtin(&rt_plugin_signal);
	rt_plugin_builtin(&rt_plugin_fd);
	rt_plugins_event(COCOON_EV_INIT, NULL);
	pthread_atfork(NULL, NULL, atfork_child);
	/* Connect now, while the program cannot run yet: a socket the runtime
	 * creates sits at a low fd number until it is moved up, and a program
	 * thread must never see it there. */
	int err = rt_coord_connect(0);
	if (!err)
		err = rt_coord_welcome();
	if (err) {
		rt_warn("cannot reach coordinator at %s (%s); this process will not be "
			"checkpointed", rt.coord, strerror(-err));
		if (rt.coord_fd >= 0)
			close(rt.coord_fd);
		rt.coord_fd = -1;
		return;
	}
	if (rt_ckpt_thread_start() == 0)
		rt.active = 1;
	rt_log("runtime up: pid %d, coordinator %s, dir %s", rt.real_pid, rt.coord, rt.ckpt_dir);
}
