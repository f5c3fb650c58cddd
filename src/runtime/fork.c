/* SPDX-License-Identifier: MIT */
/*
 * Processes joining the computation.
 *
 * fork(): the child re-initialises the runtime for itself, says HELLO to the
 * coordinator and waits for WELCOME before its parent's fork() returns, so a
 * checkpoint can never see the parent without the child.  A checkpoint and
 * a fork exclude each other: the checkpoint thread waits for forks in
 * progress (rt_forks_quiesce) before it suspends anyone.  The application's
 * critical sections (cocoon_disable/cocoon_enable) hold checkpoints off the
 * same way.
 *
 * exec: the new program's runtime learns who it is from COCOON_VPID
 * ("VPID:REALPID", fixed width so it can be rewritten in place, without
 * malloc, after a fork or a restart).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "plugins/pid/pid.h"
#include "runtime/rt.h"
#include "runtime/track.h"
#include "runtime/sys.h"

#define ENV_VPID "COCOON_VPID"

static _Atomic int forks_active, ckpt_wants;

static void pause_ms(long ms)
{
	struct timespec ts = { 0, ms * 1000000 };

	rt_sys2(SYS_nanosleep, &ts, NULL);
}

void rt_hold_enter(void)
{
	for (;;) {
		atomic_fetch_add(&forks_active, 1);
		if (!atomic_load(&ckpt_wants))
			return;
		atomic_fetch_sub(&forks_active, 1);
		while (atomic_load(&ckpt_wants))
			pause_ms(1);
	}
}

void rt_hold_leave(void)
{
	atomic_fetch_sub(&forks_active, 1);
}

void rt_forks_quiesce(void)
{
	atomic_store(&ckpt_wants, 1);
	while (atomic_load(&forks_active))
		pause_ms(1);
}

void rt_forks_allow(void)
{
	atomic_store(&ckpt_wants, 0);
}

/* Write "V:R" into COCOON_VPID's existing value, same width. */
void rt_identity_publish(void)
{
	char *v = getenv(ENV_VPID);
	char buf[32];

	snprintf(buf, sizeof(buf), "%010d:%010d", rt.vpid, rt.real_pid);
	if (v && strlen(v) == strlen(buf))
		memcpy(v, buf, strlen(buf));
	else
		setenv(ENV_VPID, buf, 1); /* at start-up, or the program unset it: allocates */
}

/* Who am I, at start-up: the same process after exec, or a new one? */
void rt_identity_init(void)
{
	const char *v = getenv(ENV_VPID);
	int vpid = 0, real = 0;

	rt.real_pid = rt_getpid();
	rt.real_ppid = (int)rt_sys0(SYS_getppid);
	rt.vpid = rt.real_pid;
	rt.vppid = rt.real_ppid;
	if (v && sscanf(v, "%d:%d", &vpid, &real) == 2) {
		if (real == rt.real_pid)
			rt.vpid = vpid; /* exec: still the same process */
		else if (real == rt.real_ppid)
			rt.vppid = vpid; /* a new child of a member (posix_spawn, vfork) */
	}
	rt_identity_publish();
}

static int child_join(int parent_vpid, int parent_real)
{
	int err;

	atomic_store(&forks_active, 0);
	atomic_store(&ckpt_wants, 0);
	rt.real_pid = rt_getpid();
	rt.vpid = rt.real_pid;
	rt_track_lost(1);
	rt.real_ppid = parent_real;
	rt.vppid = parent_vpid;
	rt_tls_vtid = rt.vpid;
	if (rt.coord_fd >= 0)
		close(rt.coord_fd); /* the parent's connection: just our reference */
	rt.coord_fd = -1;
	if (rt.log_fd >= 0)
		close(rt.log_fd);
	rt_log_open();
	rt_identity_publish();
	err = rt_coord_connect(0);
	if (!err)
		err = rt_coord_welcome();
	if (!err)
		err = rt_ckpt_thread_start();
	if (err) {
		rt_warn("forked process %d cannot join the computation (%s); it will not be "
			"checkpointed", rt.vpid, strerror(-err));
		rt.active = 0;
	}
	rt_log("forked from %d", parent_vpid);
	return rt.vpid;
}

RT_EXPORT pid_t fork(void)
{
	int link[2], parent_vpid = rt.vpid, parent_real = rt.real_pid;

	RESOLVED(fork);
	if (!rt.active)
		return real_fork();
	rt_plugins_event(COCOON_EV_FORK_PREPARE, NULL);
	rt_hold_enter();
	if (pipe2(link, O_CLOEXEC) != 0) {
		atomic_fetch_sub(&forks_active, 1);
		return -1;
	}
	pid_t pid = real_fork();
	if (pid == 0) {
		rt.active = 1; /* the atfork handler turned it off */
		int vpid = child_join(parent_vpid, parent_real);
		close(link[0]);
		rt_sys3(SYS_write, link[1], &vpid, sizeof(vpid));
		close(link[1]);
		if (rt.active)
			rt_plugins_event(COCOON_EV_FORK_CHILD, NULL);
		return 0;
	}
	int saved = errno, vpid = pid;
	close(link[1]);
	if (pid > 0) {
		while (rt_sys3(SYS_read, link[0], &vpid, sizeof(vpid)) == -EINTR)
			;
		pid_table_set(vpid, pid);
	}
	close(link[0]);
	atomic_fetch_sub(&forks_active, 1);
	if (pid > 0) {
		pid_t child = vpid;
		rt_plugins_event(COCOON_EV_FORK_PARENT, &child);
	}
	errno = saved;
	return pid < 0 ? pid : vpid;
}
