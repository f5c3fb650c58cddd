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
	int32_t table_fd; /* the restart table (struct rst_table), -1 if none */
	int32_t watch_fd; /* the restart command's coordinator connection: closed
			   * once this process has said HELLO (-1 if none) */
	int32_t pad0;
	uint64_t window_start, window_end; /* for the runtime to munmap */
	/* Settings for the restarted process; empty strings keep the old ones. */
	char coord[256];
	char secret[128];
	char ckpt_dir[4096];
	char image_path[4096];
	/* Environment changes for the restored program: lines "NAME=VALUE" to
	 * set and "NAME" to unset (cocoon restart --setenv/--unsetenv). */
	char env_changes[8192];
	/* Path maps "OLD=NEW" per line (cocoon restart --path-map). */
	char path_map[4096];
	/* cocoon restart --fast: big private anonymous regions were mapped from
	 * the image file (dev, inode), not read. */
	uint32_t fast;
	uint32_t pad;
	uint64_t image_dev, image_ino, image_size;
};

#define ENV_RESTART_ENV "COCOON_RESTART_ENV"
#define ENV_PATH_MAP "COCOON_PATH_MAP"
#define ENV_RESTART_FAST "COCOON_RESTART_FAST"
#define ENV_RESTART_WATCH "COCOON_RESTART_WATCH" /* fd number: rst_args.watch_fd */

/*
 * The restart table: a memfd that `cocoon restart` fills and every process
 * of the restarted tree inherits (env COCOON_RESTART_TABLE=fd, handed to
 * the runtime in rst_args.table_fd).  It says which real pid each virtual
 * pid has now, and which inherited fds hold the pipes that processes share.
 */
#define RST_TABLE_MAGIC 0x434f434f4f4e5254ull /* "TRNOOCOC" */
#define ENV_RESTART_TABLE "COCOON_RESTART_TABLE"

struct rst_proc {
	int32_t vpid, pid; /* pid 0 until the process exists */
};

struct rst_pipe {
	uint64_t id;        /* the pipe's inode at checkpoint */
	int32_t rfd, wfd;   /* inherited fds of its two ends; -1 when closed */
};

struct rst_table {
	uint64_t magic;
	uint32_t nprocs, npipes;
	uint32_t ready;    /* processes whose pid is filled in; a futex word */
	uint32_t nimages;  /* processes restored from an image (not zombies) */
	uint32_t restored; /* of those, how many are back; a futex word: none
			    * runs its program before all are */
	uint32_t failed;   /* set (and restored woken) when one cannot come back */
	uint32_t nshm;
	uint32_t pad2;
	/* then struct rst_proc[nprocs], struct rst_pipe[npipes], struct rst_shm[nshm] */
};

/* A System V object (shared memory segment, semaphore set, message queue):
 * the id the program knows, the one it has now, and whether it was already
 * marked for removal. */
enum rst_sysv_kind { RST_SYSV_SHM = 0, RST_SYSV_SEM = 1, RST_SYSV_MSG = 2 };

struct rst_shm {
	int32_t old_id, new_id;
	uint32_t remove;
	uint32_t kind; /* enum rst_sysv_kind */
};

static inline struct rst_proc *rst_table_procs(struct rst_table *t)
{
	return (struct rst_proc *)(t + 1);
}

static inline struct rst_pipe *rst_table_pipes(struct rst_table *t)
{
	return (struct rst_pipe *)(rst_table_procs(t) + t->nprocs);
}

static inline struct rst_shm *rst_table_shm(struct rst_table *t)
{
	return (struct rst_shm *)(rst_table_pipes(t) + t->npipes);
}

static inline uint64_t rst_table_size(uint32_t nprocs, uint32_t npipes, uint32_t nshm)
{
	return sizeof(struct rst_table) + (uint64_t)nprocs * sizeof(struct rst_proc) +
	       (uint64_t)npipes * sizeof(struct rst_pipe) + (uint64_t)nshm * sizeof(struct rst_shm);
}

#endif
