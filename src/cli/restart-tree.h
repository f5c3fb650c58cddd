/* SPDX-License-Identifier: MIT */
/* Recreating the process tree of a generation (restart-tree.c). */
#ifndef CLI_RESTART_TREE_H
#define CLI_RESTART_TREE_H

#include <stddef.h>

#include "common/image.h"
#include "plugins/fd/fd.h"
#include "common/restart.h"
#include "plugins/pid/pid.h"

struct tree_shm {
	int32_t id, key;
	uint64_t size;
	uint32_t mode;
};

struct tree_node {
	char *image;              /* path */
	int image_fd;             /* open on it, uncompressed (image-open.c) */
	int in_memory;            /* image_fd is a decompressed copy (a memfd) */
	int *dep_fds;             /* an incremental image's earlier images, opened */
	int ndeps;
	struct img_header h;      /* validated */
	const void *fd_section;   /* the image's "fd" section, or NULL */
	size_t fd_section_len;
	const struct pid_zombie *zombies; /* its unreaped exited children */
	int nzombies;
	struct tree_shm *shm;     /* System V segments it had attached */
	int nshm;
	const char *sysv;         /* its "sysv" section: semaphore sets, queues */
	size_t sysv_len;
	int parent;               /* index, -1 when outside the computation */
	int first_zombie;         /* index of its first zombie in the table */
};

/* Fork the tree and exec the restorer in every process; this process
 * becomes the root.  watch_fd (or -1): the coordinator connection each
 * process keeps open until it is back (RESTART watch=1).  Returns (exit
 * status) only on failure, message printed. */
int restart_tree(struct tree_node *nodes, int n, const char *restorer, int watch_fd);

/* restart-sockets.c: the sockets the tree holds. */
struct fd_sock;
struct rst_pipe;
int sockets_add(const struct fd_sock *s, uint64_t len);
int sockets_count(void);
int sockets_make(struct rst_pipe *out);

/* restart-sysv.c: System V semaphore sets and message queues. */
int sysv_count(const struct tree_node *n);
int sysv_make(const struct tree_node *nodes, int n, struct rst_shm *out, uint32_t *k);

#endif
