/* SPDX-License-Identifier: MIT */
/*
 * The runtime's internal interface (libcocoon.so).  Everything here runs in
 * the checkpointed process.  Two rules hold everywhere:
 *  - code on the checkpoint thread never calls malloc or stdio while user
 *    threads are suspended (they may hold those locks); it uses rt_arena;
 *  - code in the suspend handler and the restart entry uses raw syscalls only.
 */
#ifndef RT_RT_H
#define RT_RT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <sys/types.h>

#include "cocoon.h"
#include "common/restart.h"

#define RT_HIDDEN __attribute__((visibility("hidden")))
#define RT_EXPORT __attribute__((visibility("default")))
#define RT_MAX_THREADS 1024
#define RT_FD_SPAN 32
#define RT_MAX_PENDING 16 /* the runtime's fds: [nofile - RT_FD_SPAN, nofile) */

/* Callee-saved registers, enough to return a second time from rt_ctx_save. */
struct rt_ctx {
	uint64_t rbx, rbp, r12, r13, r14, r15, rsp, rip;
};
int rt_ctx_save(struct rt_ctx *c) __attribute__((returns_twice));
__attribute__((noreturn)) void rt_ctx_restore(const struct rt_ctx *c, int ret);
/* clone a thread that starts by restoring ctx (returning 1 from rt_ctx_save). */
long rt_clone_ctx(unsigned long flags, const struct rt_ctx *ctx, unsigned long tls,
		  int *ptid, int *ctid);

/* One user thread (or the checkpoint thread) as saved at a checkpoint. */
struct rt_thread {
	int tid;  /* real tid when saved; the new one after restart */
	int vtid; /* what the program sees */
	int flags; /* IMG_T_* */
	_Atomic int saved;
	uint64_t fsbase;
	uint64_t robust_head, robust_len;
	struct rt_ctx ctx;
	/* Signals pending for this thread, taken out at suspension and queued
	 * again (with their siginfo) when it resumes, here or after restart. */
	int npending;
	siginfo_t pending[RT_MAX_PENDING];
	char comm[16]; /* thread name (prctl PR_GET_NAME) */
};

struct rt_state {
	int active;
	int vpid, vppid;       /* what the program sees */
	int real_pid, real_ppid;
	int tid_off;           /* offset of the tid in glibc's struct pthread */
	int sig;               /* the suspend signal */
	int fd_base;           /* first fd of the runtime's range */
	int coord_fd;
	int log_fd;
	uint64_t generation;       /* the checkpoint in progress, or the last one */
	uint64_t saved_generation; /* the one this memory was last saved as */
	uint32_t restarts;
	char coord[256];
	char secret[128];
	char ckpt_dir[4096];
	char progname[64];
	char hostname[64];
	int forked;            /* COCOON_FORKED=1: every checkpoint uses a forked writer */
	int direct;            /* COCOON_DIRECT=1: page data bypasses the page cache */
	char stream_cmd[1024]; /* COCOON_IMAGE_STREAM: images piped to this command */
	int fault_gen;         /* COCOON_FAULT=<kind>:<gen> */
	char fault_kind[16];
	/* Threads saved at the last checkpoint. */
	struct rt_thread threads[RT_MAX_THREADS];
	_Atomic unsigned nthreads;
	struct rt_thread ckpt_thread;
	int ckpt_tid;
	uint64_t ckpt_fsbase;
	/* Bumped to release suspended threads; futex word. */
	_Atomic uint32_t resume_seq;
	_Atomic uint32_t nsuspended;
	_Atomic int suspending; /* a checkpoint is stopping threads */
	struct rst_args rargs; /* copy of the restorer's hand-over */
	int restart_image_fd;
	int restart_err_fd; /* the restart command's stderr, for a fatal message */
	struct rst_table *rtable; /* the restart table, mapped during a restart */
};
extern struct rt_state rt RT_HIDDEN;

/* For the runtime's small tables that program threads update from
 * wrappers: held for a few instructions, never across a blocking call,
 * never taken by the checkpoint (a suspended thread may hold one). */
typedef atomic_flag rt_spin;
#define RT_SPIN_INIT ATOMIC_FLAG_INIT
static inline void rt_spin_lock(rt_spin *l)
{
	while (atomic_flag_test_and_set_explicit(l, memory_order_acquire))
		;
}
static inline void rt_spin_unlock(rt_spin *l)
{
	atomic_flag_clear_explicit(l, memory_order_release);
}

/* Per-thread: virtual tid (0 until known) and count of suspensions, which
 * wrappers use to tell our EINTR from the program's. */
extern __thread int rt_tls_vtid RT_HIDDEN;
extern __thread unsigned rt_tls_suspends RT_HIDDEN;
/* Per-thread: the real tids this thread had when checkpointed, newest
 * first (0 = none): mutex owners the kernel-given tid no longer matches. */
#define RT_PAST_TIDS 8
extern __thread int rt_tls_past_tids[RT_PAST_TIDS] RT_HIDDEN;
/* Per-thread count of the program's own signal handlers that ran. */
extern __thread unsigned rt_tls_program_signals RT_HIDDEN;

/* log.c */
void rt_log(const char *fmt, ...) RT_HIDDEN __attribute__((format(printf, 1, 2)));
void rt_warn(const char *fmt, ...) RT_HIDDEN __attribute__((format(printf, 1, 2)));
void rt_log_open(void) RT_HIDDEN;

/* arena.c: bump allocator for the checkpoint thread; its memory is never
 * part of an image. */
void *rt_alloc(size_t n) RT_HIDDEN;
int rt_arena_reset(void) RT_HIDDEN;
int rt_arena_contains(uint64_t start, uint64_t end) RT_HIDDEN;
void rt_arena_release(void) RT_HIDDEN;
void rt_arena_forget(void) RT_HIDDEN; /* after restart: the old arena is gone */

/* fds.c: the runtime's own fds. */
int rt_fd_take(int fd) RT_HIDDEN; /* move fd into the runtime's range */
int rt_fd_is_ours(int fd) RT_HIDDEN;

/* suspend.c */
void rt_suspend_install(void) RT_HIDDEN;
int rt_suspend_all(void) RT_HIDDEN;
void rt_resume_all(void) RT_HIDDEN;
int rt_vtid_self(void) RT_HIDDEN;
/* Take pending signals out of the queue / put them back (raw syscalls). */
int rt_signals_take(siginfo_t *out, int cap) RT_HIDDEN;
void rt_signals_requeue(const siginfo_t *in, int n, int tid) RT_HIDDEN;

/* ckpt.c: the checkpoint thread. */
int rt_ckpt_thread_start(void) RT_HIDDEN;
int rt_coord_connect(int restarted) RT_HIDDEN;
int rt_coord_welcome(void) RT_HIDDEN;
void rt_coord_reconnect(void) RT_HIDDEN; /* after a restart */

/* fork.c: joining the computation; checkpoints and forks exclude each other. */
void rt_forks_quiesce(void) RT_HIDDEN;
void rt_hold_enter(void) RT_HIDDEN; /* no checkpoint starts until rt_hold_leave */
void rt_hold_leave(void) RT_HIDDEN;
void rt_forks_allow(void) RT_HIDDEN;
void rt_identity_init(void) RT_HIDDEN;
void rt_identity_publish(void) RT_HIDDEN;
/* Wait until every process of the checkpoint or restart (local: on this
 * host) reached barrier name; -ECANCELED if the coordinator gave up. */
#define RT_BARRIER_NAME_MAX 64
int rt_barrier(const char *name) RT_HIDDEN;
int rt_barrier_scoped(const char *name, int local) RT_HIDDEN;
/* Send a request to the coordinator from the checkpoint thread and read
 * lines until one whose verb is `verb` or ERR arrives (in m, parsed from
 * line): 0, -EPROTO for ERR, -ECANCELED if the generation was abandoned. */
struct proto_msg;
int rt_coord_request(const char *verb, struct proto_msg *m, char *line, size_t cap,
		     const char *fmt, ...) __attribute__((format(printf, 5, 6))) RT_HIDDEN;

/* writer.c */
/* Write this process's image into the generation's directory.  With
 * copy_fd (a forked writer): save shared memory, then split
 * (rt_writer_split): the program returns 0 at once, its copy writes the
 * rest and returns with *copy_fd set. */
int rt_image_write(uint64_t gen, char *path_out, size_t cap, int *copy_fd) RT_HIDDEN;
/* After it: "G1,G2", the earlier generations the image refers to, or "". */
const char *rt_image_needs(void) RT_HIDDEN;
/* compress.c: zstd for images (cocoon launch --compress) */
struct rt_z;
void rt_compress_init(void) RT_HIDDEN;
int rt_z_active(void) RT_HIDDEN;
struct rt_z *rt_z_begin(int fd) RT_HIDDEN; /* NULL: failed (cocoon_error said why) */
int rt_z_write(struct rt_z *c, const void *buf, size_t len) RT_HIDDEN;
int rt_z_end(struct rt_z *c, uint64_t *stored) RT_HIDDEN;
/* Stop this process's compressing helper thread, if it runs (before a
 * fork, on every way out of the writer). */
void rt_z_pause(struct rt_z *c) RT_HIDDEN;
/* forked.c: the forked writer */
int rt_writer_fork(uint64_t gen, char *path, size_t cap) RT_HIDDEN;
long rt_writer_split(int *copy_fd) RT_HIDDEN; /* 0 in the copy, its pid in the program */
int rt_writer_wait(char *path, size_t cap) RT_HIDDEN;
void rt_writer_abandon(void) RT_HIDDEN;
/* stream.c: images piped to a command (cocoon launch --image-stream) */
int rt_stream_open(const char *image, uint64_t gen) RT_HIDDEN; /* write fd, or -errno */
int rt_stream_finish(void) RT_HIDDEN; /* reap it: 0 if it exited 0 (else it says why) */
void rt_stream_abandon(void) RT_HIDDEN; /* kill and reap it */
/* rawthread.S: clone(flags) running fn(arg) on stack_top, without libc */
long rt_raw_thread(unsigned long flags, void *stack_top, int *ctid, void (*fn)(void *),
		   void *arg) RT_HIDDEN;

/* restart.c */
__attribute__((noreturn)) void rt_restart_entry(struct rst_args *a);
extern char rt_restart_stack[1 << 16] RT_HIDDEN;
int rt_restart_finish(void) RT_HIDDEN;
/* environ.c: apply "NAME=VALUE" / "NAME" lines to the program's environ. */
int rt_environ_apply(const char *changes) RT_HIDDEN;
struct img_region;
/* During RESTART: the memory regions of the image (see restart.c). */
void rt_image_regions(const struct img_region **regions, uint32_t *n) RT_HIDDEN;

/* plugin.c: the plugin host. */
int rt_plugin_builtin(const struct cocoon_plugin *p) RT_HIDDEN; /* at the bottom */
int rt_plugins_event(enum cocoon_event ev, void *arg) RT_HIDDEN;
void rt_sections_reset(void) RT_HIDDEN;
/* Write every pending section through put(ctx, data, len), which advances
 * *off; fill table (IMG_MAX_SECTIONS) and *count. */
int rt_sections_write_all(int (*put)(void *ctx, const void *data, size_t len), void *ctx,
			  const uint64_t *off, void *table, uint32_t *count) RT_HIDDEN;
void rt_sections_load(const void *table, uint32_t count, const char *base) RT_HIDDEN;
const char *rt_last_error(void) RT_HIDDEN;
void rt_image_dir_set(const char *dir) RT_HIDDEN; /* NULL: none */
/* Wait for every cocoon_delay_resume condition: 0, or -ETIMEDOUT. */
int rt_plugins_wait_quiescent(void) RT_HIDDEN;
void rt_clear_error(void) RT_HIDDEN;

/* The built-in plugins, registered in this order (pid at the bottom). */
extern const struct cocoon_plugin rt_plugin_pid RT_HIDDEN;
extern const struct cocoon_plugin rt_plugin_signal RT_HIDDEN;
extern const struct cocoon_plugin rt_plugin_fd RT_HIDDEN;

/* real.c: the next definitions of the functions Cocoon wraps. */
#include "runtime/real.h"

#endif
