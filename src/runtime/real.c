/* SPDX-License-Identifier: MIT */
/* Resolution of the real_* pointers (see real.h), done once in the constructor. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "runtime/rt.h"

#define REAL_DEFINE(ret, name, args) ret(*real_##name) args;
REAL_LIST(REAL_DEFINE)
#undef REAL_DEFINE

void rt_real_resolve(void)
{
#define REAL_RESOLVE(ret, name, args)                                                \
	real_##name = (ret(*) args)dlsym(RTLD_NEXT, #name);                          \
	if (!real_##name) {                                                          \
		static const char msg[] = "cocoon: runtime: cannot resolve " #name "\n"; \
		write(2, msg, sizeof(msg) - 1);                                      \
		_exit(127);                                                          \
	}
	REAL_LIST(REAL_RESOLVE)
#undef REAL_RESOLVE
}
