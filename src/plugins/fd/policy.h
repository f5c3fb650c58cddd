/* SPDX-License-Identifier: MIT */
/* Per-file policy rules (policy.c). */
#ifndef FD_POLICY_H
#define FD_POLICY_H

#include "cocoon.h"

/* Rules from the environment ($COCOON_FILE_POLICY), at INIT. */
void fd_policy_init(void);
/* The policy of the last rule matching path, or 0 if none does. */
enum cocoon_file_policy fd_policy_for(const char *path);

#endif
