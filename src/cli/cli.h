/* SPDX-License-Identifier: MIT */
/* The cocoon command: subcommands and what they share. */
#ifndef COCOON_CLI_H
#define COCOON_CLI_H

#include <stdbool.h>

/* Each subcommand gets argv with argv[0] = its own name; returns the exit status. */
int cmd_launch(int argc, char **argv);
int cmd_restart(int argc, char **argv);
int cmd_checkpoint(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_kill(int argc, char **argv);
int cmd_coordinator(int argc, char **argv);
int cmd_inspect(int argc, char **argv);

/* "cocoon: <message>" on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Where the coordinator is and how to prove we belong to its computation. */
struct coord_addr {
	char host[256]; /* numeric after cli_coord_resolve */
	int port;
	char secret[128];
};

/* Fill a from ARG (--coord value, may be NULL), else $COCOON_COORD, else the
 * default; the host name is resolved to a numeric address.  0 or -errno. */
int cli_coord_resolve(const char *arg, struct coord_addr *a);

/* Make sure a coordinator answers at a: connect, or start one in the
 * background (auto-exit when its computation ends) when none does and the
 * address is local.  Fills a->secret.  0 or -errno (message printed). */
int cli_coord_ensure(struct coord_addr *a, const char *ckpt_dir, int interval);

/* Connect as a control client (HELLO role=ctl).  fd or -errno (message printed). */
int cli_coord_open_ctl(struct coord_addr *a);

/* Directory holding this cocoon binary (resolved /proc/self/exe). */
const char *cli_self_dir(void);

/* image-open.c: an fd to read the image at path from, uncompressed, header
 * first (a memfd when it was compressed or streamed: then *in_memory = 1,
 * if in_memory is given).  -errno; -EIO with *img_err set (IMG_E_*) when a
 * compressed or streamed image is damaged. */
int cli_image_open(const char *path, int *img_err, int *in_memory);
/* The same for an image already open as fd (owned: a memfd of ours, which
 * may be changed in place); fd is taken over. */
int cli_image_prepare(int fd, int owned, int *img_err, int *in_memory);
/* A memfd holding what `sh -c CMD` writes to its stdout, run with
 * COCOON_IMAGE=name and COCOON_CKPT_DIR=ckpt_dir; -1 (message printed)
 * when it fails or exits non-zero. */
int cli_image_stream(const char *cmd, const char *name, const char *ckpt_dir);

#endif
