/* SPDX-License-Identifier: MIT */
/*
 * Path remapping at restart (cocoon restart --path-map OLD=NEW): maps are
 * lines "OLD=NEW"; a path equal to OLD or below OLD/ moves under NEW.
 * Pure code, no libc: the restorer links it too.
 */
#ifndef COCOON_PATHMAP_H
#define COCOON_PATHMAP_H

#include <stddef.h>

/* The path under the first map that applies, written to out (cap bytes).
 * Returns 1 when mapped, 0 when no map applies (out untouched), -1 when the
 * result does not fit. */
int pathmap_apply(const char *maps, const char *path, char *out, size_t cap);

#endif
