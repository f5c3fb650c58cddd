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
#include <string.h>

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

static int pid_event(enum cocoon_event ev, void *arg)
{
	return ev == COCOON_EV_RESTART ? pid_restart() : 0;
}

const struct cocoon_plugin rt_plugin_pid = {
	.api_version = COCOON_API_VERSION,
	.name = "pid",
	.event = pid_event,
};
