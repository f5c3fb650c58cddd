/* SPDX-License-Identifier: MIT */
/*
 * The hand-over from the restorer (no libc) to the runtime's restart entry.
 *
 * The restorer maps the image back, sets the main thread's TLS register,
 * switches to the stack at img_header.restart_stack and calls
 *     void restart_entry(struct rst_args *a);   (never returns)
 * at img_header.restart_entry.  The args live in the restorer's window,
 * which stays mapped until the runtime has copied them and unmaps it.
 */
#ifndef COCOON_RESTART_H
#define COCOON_RESTART_H

#include <stdint.h>

#define RST_ARGS_MAGIC 0x52535441524753ull /* "RSTARGS" */

/* The restorer's fixed window: its code, data, stack and scratch live in
 * [RST_WINDOW, RST_WINDOW + RST_WINDOW_SIZE); no image region may overlap. */
#define RST_WINDOW 0x6ff000000000ul
#define RST_WINDOW_SIZE (1ul << 30)

struct rst_args {
	uint64_t magic;
	int32_t image_fd; /* the image, open read-only */
	uint32_t flags;
	uint64_t window_start, window_end; /* for the runtime to munmap */
	/* Settings for the restarted process; empty strings keep the old ones. */
	char coord[256];
	char secret[128];
	char ckpt_dir[4096];
	char image_path[4096];
};

#endif
