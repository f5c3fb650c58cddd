/* SPDX-License-Identifier: MIT */
/* "PATTERN=POLICY" rules of the per-file policy (cocoon launch --file-policy,
 * $COCOON_FILE_POLICY; see enum cocoon_file_policy). */
#ifndef COMMON_FILEPOLICY_H
#define COMMON_FILEPOLICY_H

#include <stddef.h>

#include "cocoon.h"

/* The policy (> 0), with PATTERN copied to pattern; -EINVAL if malformed. */
int file_policy_parse(const char *rule, char *pattern, size_t cap);

#endif
