/* SPDX-License-Identifier: MIT */
/*
 * Environment changes at restart (cocoon restart --setenv/--unsetenv).  The
 * restored program's environ is rebuilt in memory of our own (a mapping
 * that stays), without malloc: user threads may hold its lock.  getenv()
 * then sees the new values; a later setenv() of the program copies the
 * array as usual.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "runtime/rt.h"

extern char **environ;

static int same_name(const char *entry, const char *name, size_t n)
{
	return strncmp(entry, name, n) == 0 && entry[n] == '=';
}

int rt_environ_apply(const char *changes)
{
	size_t old_n = 0, add = 0, bytes = 0;

	if (!changes || !*changes)
		return 0;
	for (char **e = environ; e && *e; e++)
		old_n++;
	for (const char *p = changes; *p; p++)
		add += *p == '\n';
	bytes = (old_n + add + 2) * sizeof(char *) + strlen(changes) + 1;
	char *mem = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return -errno;
	char **env = (char **)mem, *text = mem + (old_n + add + 2) * sizeof(char *);
	size_t n = 0;
	memcpy(text, changes, strlen(changes) + 1);
	for (char **e = environ; e && *e; e++)
		env[n++] = *e;
	for (char *line = text; *line;) {
		char *end = strchr(line, '\n');
		if (end)
			*end = 0;
		char *eq = strchr(line, '=');
		size_t name_len = eq ? (size_t)(eq - line) : strlen(line);
		size_t k = 0;
		for (size_t i = 0; i < n; i++) /* drop the old value */
			if (!same_name(env[i], line, name_len))
				env[k++] = env[i];
		n = k;
		if (eq)
			env[n++] = line;
		if (!end)
			break;
		line = end + 1;
	}
	env[n] = NULL;
	environ = env;
	return 0;
}
