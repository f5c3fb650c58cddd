/* SPDX-License-Identifier: MIT */
/*
 * exec: a process of the computation that execs a statically linked
 * program leaves the computation (the runtime cannot load into it); say so
 * on stderr, naming it, rather than lose it silently.
 */
#include <stdarg.h>
#include <unistd.h>

#include "common/elf.h"
#include "runtime/rt.h"

static void warn_static(const char *prog)
{
	if (rt.active && prog && elf_is_static(prog))
		rt_warn("%s is statically linked: it leaves the computation and will not be "
			"checkpointed", prog);
}

RT_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
	RESOLVED(execve);
	warn_static(path);
	return real_execve(path, argv, envp);
}

RT_EXPORT int execv(const char *path, char *const argv[])
{
	RESOLVED(execv);
	warn_static(path);
	return real_execv(path, argv);
}

RT_EXPORT int execvp(const char *file, char *const argv[])
{
	RESOLVED(execvp);
	warn_static(file);
	return real_execvp(file, argv);
}

RT_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
	RESOLVED(execvpe);
	warn_static(file);
	return real_execvpe(file, argv, envp);
}
