/* SPDX-License-Identifier: MIT */
/*
 * The emulator's state file (SAVE/LOAD): a header (magic, version, payload
 * size, payload checksum) and the design state, in host byte order.
 */
#ifndef EDA_EMU_STATEFILE_H
#define EDA_EMU_STATEFILE_H

#include <stddef.h>

#include "design.h"

/* Write d to path atomically (a temporary file, fsync, rename), mode 0600.
 * 0, or -1 with a reason in why. */
int statefile_save(const char *path, const struct design *d, char *why, size_t cap);

/* Read path into d after checking its magic, version, size and checksum; d
 * is untouched on failure.  0, or -1 with a reason in why. */
int statefile_load(const char *path, struct design *d, char *why, size_t cap);

#endif
