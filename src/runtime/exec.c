/* SPDX-License-Identifier: MIT */
/*
 * exec: plugins hear of it first (COCOON_EV_EXEC).  A process of the
 * computation that execs a statically linked program leaves the
 * computation (the runtime cannot load into it); say so on stderr, naming
 * it, rather than lose it silently.
 */
#include <stdarg.h>
#include <unistd.h>

#include "common/elf.h"
#include "runtime/rt.h"

static void before_exec(const char *prog)
{
	if (rt.active)
		rt_plugins_event(COCOON_EV_EXEC, (void *)prog);
	if (rt.active && prog && elf_is_static(prog))
		rt_warn("%s is statically linked: it leaves the computation and will not be "
			"checkpointed", prog);
}

RT_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
	RESOLVED(execve);
	before_exec(path);
	return real_execve(path, argv, envp);
}

RT_EXPORT int execv(const char *path, char *const argv[])
{
	RESOLVED(execv);
	before_exec(path);
	return real_execv(path, argv);
}

RT_EXPORT int execvp(const char *file, char *const argv[])
{
	RESOLVED(execvp);
	before_exec(file);
	return real_execvp(file, argv);
}

RT_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
	RESOLVED(execvpe);
	before_exec(file);
	return real_execvpe(file, argv, envp);
}

/* The list forms: glibc builds the argv and calls execve internally, past
 * the wrappers above, so collect the arguments here (up to and including
 * the NULL that ends them). */
#define ARGV_FROM_LIST(argv, arg0, ap)                                       \
	do {                                                                 \
		size_t n_ = 1;                                               \
		va_start(ap, arg0);                                          \
		while (va_arg(ap, const char *))                             \
			n_++;                                                \
		va_end(ap);                                                  \
		argv = __builtin_alloca((n_ + 1) * sizeof(char *));          \
		argv[0] = (char *)arg0;                                      \
		va_start(ap, arg0);                                          \
		for (size_t i_ = 1; i_ <= n_; i_++)                          \
			argv[i_] = va_arg(ap, char *);                       \
	} while (0)

RT_EXPORT int execl(const char *path, const char *arg, ...)
{
	char **argv;
	va_list ap;

	ARGV_FROM_LIST(argv, arg, ap);
	va_end(ap);
	return execv(path, argv);
}

RT_EXPORT int execlp(const char *file, const char *arg, ...)
{
	char **argv;
	va_list ap;

	ARGV_FROM_LIST(argv, arg, ap);
	va_end(ap);
	return execvp(file, argv);
}

RT_EXPORT int execle(const char *path, const char *arg, ...)
{
	char **argv, *const *envp;
	va_list ap;

	ARGV_FROM_LIST(argv, arg, ap);
	envp = va_arg(ap, char *const *); /* after the NULL */
	va_end(ap);
	return execve(path, argv, envp);
}
