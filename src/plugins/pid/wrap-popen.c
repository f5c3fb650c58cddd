/* SPDX-License-Identifier: MIT */
/*
 * pclose() waits, inside glibc, for the pid popen() saved in its FILE: the
 * child's real pid before a restart, a stale one after.  The pid sits right
 * after glibc's FILE and its jump table pointer (struct _IO_proc_file); when
 * the value there is a pid this process knows as virtual, it is replaced by
 * the child's real pid of now before glibc waits.  Any other value (another
 * layout, no restart) is left alone.
 */
#include <stdio.h>

#include "plugins/pid/pid.h"
#include "runtime/rt.h"

RT_EXPORT int pclose(FILE *f)
{
	RESOLVED(pclose);
	if (rt.active && rt.restarts && f) {
		pid_t *saved = (pid_t *)((char *)f + sizeof(FILE) + sizeof(void *));
		int real = pid_to_real(*saved);
		if (*saved > 0 && real != *saved && pid_to_virtual(real) == *saved)
			*saved = real;
	}
	return real_pclose(f);
}
