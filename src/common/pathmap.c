/* SPDX-License-Identifier: MIT */
/* pathmap_apply (see pathmap.h).  No libc. */
#include "common/pathmap.h"

int pathmap_apply(const char *maps, const char *path, char *out, size_t cap)
{
	if (!maps || !path)
		return 0;
	for (const char *line = maps; *line;) {
		const char *eq = line, *end;
		while (*eq && *eq != '=' && *eq != '\n')
			eq++;
		end = eq;
		while (*end && *end != '\n')
			end++;
		if (*eq == '=' && eq > line) {
			size_t old_len = (size_t)(eq - line), i = 0;
			while (i < old_len && path[i] == line[i])
				i++;
			if (i == old_len && (path[i] == 0 || path[i] == '/')) {
				size_t o = 0;
				for (const char *n = eq + 1; n < end; n++) {
					if (o + 1 >= cap)
						return -1;
					out[o++] = *n;
				}
				for (const char *rest = path + old_len; *rest; rest++) {
					if (o + 1 >= cap)
						return -1;
					out[o++] = *rest;
				}
				out[o] = 0;
				return 1;
			}
		}
		line = *end ? end + 1 : end;
	}
	return 0;
}
