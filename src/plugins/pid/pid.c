/* SPDX-License-Identifier: MIT */
/*
 * The pid plugin: the program sees virtual pids and tids.  A virtual id is
 * the real one at first launch; after a restart the table below maps
 * virtual ids to the new real ones.  Runs at the bottom of the plugin stack:
 * every plugin above sees virtual ids.
 *
 * The table is plain memory of the process, so it travels in the image.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "plugins/pid/pid.h"
#include "runtime/rt.h"
#include "runtime/sys.h"

#define PID_MAX_ENTRIES (RT_MAX_THREADS + 16)

struct pid_entry {
	int virt, real;
};
static struct pid_entry table[PID_MAX_ENTRIES];
static int nentries;

void pid_table_set(int virt, int real)
{
	for (int i = 0; i < nentries; i++) {
		if (table[i].virt == virt) {
			table[i].real = real;
			return;
		}
	}
	if (nentries < PID_MAX_ENTRIES)
		table[nentries++] = (struct pid_entry){ virt, real };
}

int pid_to_real(int virt)
{
	if (virt == rt.vpid)
		return rt.real_pid;
	if (virt == rt.vppid)
		return rt.real_ppid;
	for (int i = 0; i < nentries; i++)
		if (table[i].virt == virt)
			return table[i].real;
	return virt;
}

int pid_to_virtual(int real)
{
	if (real == rt.real_pid)
		return rt.vpid;
	if (real == rt.real_ppid)
		return rt.vppid;
	for (int i = 0; i < nentries; i++)
		if (table[i].real == real)
			return table[i].virt;
	return real;
}

int tid_to_real(int vtid)
{
	for (int i = 0; i < nentries; i++)
		if (table[i].virt == vtid)
			return table[i].real;
	return vtid == rt.vpid ? rt.real_pid : vtid;
}

/* After restart: new real ids for the process, its parent and its threads. */
static int pid_restart(void)
{
	unsigned n = atomic_load(&rt.nthreads);

	rt.real_ppid = (int)rt_sys0(SYS_getppid);
	nentries = 0;
	for (unsigned i = 0; i < n && i < RT_MAX_THREADS; i++)
		pid_table_set(rt.threads[i].vtid, rt.threads[i].tid);
	pid_table_set(rt.ckpt_thread.vtid, rt.ckpt_thread.tid);
	if (rt.rtable) {
		const struct rst_proc *p = rst_table_procs(rt.rtable);
		for (uint32_t i = 0; i < rt.rtable->nprocs; i++)
			if (p[i].vpid != rt.vpid)
				pid_table_set(p[i].vpid, p[i].pid);
	}
	return 0;
}

/* Read a small /proc file into buf; returns its length or -1. */
static int read_small(const char *path, char *buf, size_t cap)
{
	/* Real pids in the path: past the /proc/VPID translation of open(). */
	RESOLVED(open);
	int fd = real_open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, cap - 1);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	return n > 0 ? (int)n : -1;
}

/* Note every child of ours that has exited but is not reaped yet. */
static int save_zombies(void)
{
	struct pid_zombie *z = rt_alloc(sizeof(*z) * PID_MAX_ENTRIES);
	unsigned n = atomic_load(&rt.nthreads), nz = 0;
	char path[64], list[8192], stat[512];

	if (!z)
		return -ENOMEM;
	for (unsigned t = 0; t <= n && t <= RT_MAX_THREADS; t++) {
		int tid = t < n ? rt.threads[t].tid : rt.ckpt_tid;
		snprintf(path, sizeof(path), "/proc/self/task/%d/children", tid);
		if (read_small(path, list, sizeof(list)) < 0)
			continue;
		for (char *p = list; *p && nz < PID_MAX_ENTRIES;) {
			int child = (int)strtol(p, &p, 10);
			while (*p == ' ')
				p++;
			if (child <= 0)
				break;
			snprintf(path, sizeof(path), "/proc/%d/stat", child);
			const char *state = read_small(path, stat, sizeof(stat)) > 0 ?
						    strrchr(stat, ')') : NULL;
			if (!state || state[1] != ' ' || state[2] != 'Z')
				continue;
			siginfo_t si = { 0 };
			if (rt_sys5(SYS_waitid, P_PID, child, &si, WEXITED | WNOHANG | WNOWAIT,
				    NULL) != 0 || si.si_pid != child)
				continue;
			z[nz++] = (struct pid_zombie){ pid_to_virtual(child), si.si_code,
						       si.si_status, 0 };
		}
	}
	return nz ? cocoon_section_write(PID_SECTION, z, sizeof(*z) * nz) : 0;
}

static int pid_event(enum cocoon_event ev, void *arg)
{
	if (ev == COCOON_EV_PRECHECKPOINT) {
		/* The parent now: it is not the one at fork time if that one
		 * exited and we were re-parented. */
		int real = (int)rt_sys0(SYS_getppid);
		if (real != rt.real_ppid) {
			rt.vppid = pid_to_virtual(real);
			rt.real_ppid = real;
		}
		return save_zombies();
	}
	return ev == COCOON_EV_RESTART ? pid_restart() : 0;
}

const struct cocoon_plugin rt_plugin_pid = {
	.api_version = COCOON_API_VERSION,
	.name = "pid",
	.event = pid_event,
};
