/* SPDX-License-Identifier: MIT */
/* "PATTERN=POLICY" rules of the per-file policy (--file-policy). */
#include <errno.h>
#include <string.h>

#include "common/filepolicy.h"

int file_policy_parse(const char *rule, char *pattern, size_t cap)
{
	const char *eq = strrchr(rule, '=');
	static const char *const names[] = { [COCOON_FILE_REOPEN] = "reopen",
					     [COCOON_FILE_SAVE] = "save",
					     [COCOON_FILE_LEAVE] = "leave" };

	if (!eq || eq == rule || (size_t)(eq - rule) >= cap)
		return -EINVAL;
	for (int p = COCOON_FILE_REOPEN; p <= COCOON_FILE_LEAVE; p++) {
		if (strcmp(eq + 1, names[p]) == 0) {
			memcpy(pattern, rule, (size_t)(eq - rule));
			pattern[eq - rule] = 0;
			return p;
		}
	}
	return -EINVAL;
}
