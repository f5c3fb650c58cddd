/* SPDX-License-Identifier: MIT */
/*
 * The coordinator's internals: one daemon per computation, single-threaded,
 * driven by an epoll loop (loop.c).  Every piece of state lives in the one
 * struct coord; clients are allocated on accept and freed only by
 * coord_reap() at the end of a loop iteration, so a handler may mark a client
 * dead at any time without invalidating pointers others still hold.
 */
#ifndef COCOON_COORD_H
#define COCOON_COORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/manifest.h"
#include "common/proto.h"

#define COORD_MAX_CLIENTS 1024
#define COORD_MAX_BARRIERS 64
#define COORD_BARRIER_NAME 64
#define COORD_HELLO_TIMEOUT_MS 10000   /* a connection must say HELLO by then */
#define COORD_IDLE_EXIT_MS 300000      /* --auto: nobody ever came */
#define COORD_EMPTY_EXIT_MS 1000       /* --auto: grace after the last process left */
#define COORD_RESTART_WAIT_MS 60000    /* RESTART procs=N: wait this long for them */
#define COORD_SEND_TIMEOUT_MS 2000     /* a client not reading is dropped */

enum client_role { ROLE_NEW, ROLE_PROC, ROLE_CTL };

struct client {
	int fd;
	enum client_role role;
	bool dead;
	long long since_ms; /* accept time */
	char peer[96];
	struct proto_buf in;

	/* role=proc: from HELLO and STATE */
	long long vpid, pid, vppid;
	char host[256];
	char name[256];
	char state[32];
	unsigned long long gen;
	bool restarted;

	/* role=proc, during a checkpoint */
	bool in_ckpt;      /* was sent SUSPEND for the current generation */
	bool written;      /* sent WRITTEN */
	uint64_t arrived;  /* barrier indices it has reached (checkpoint or restart) */
	bool gone;         /* coord_reap() has accounted for its death */

	/* role=proc, restarted and not yet running again */
	bool in_restart;

	/* waits for a key (QUERY wait_ms=) */
	char kv_wait[256];
	long long kv_deadline_ms;

	/* any role: waits for the answer to CHECKPOINT */
	bool wants_ckpt;
};

struct barrier {
	char name[COORD_BARRIER_NAME];
	bool local;     /* only the processes on host wait for each other */
	char host[256];
	int count;      /* processes that reached it */
	bool released;
};

struct barriers {
	int n;
	struct barrier b[COORD_MAX_BARRIERS];
};

struct ckpt {
	bool active;
	bool forked;  /* processes write their images from forked copies */
	unsigned long long gen;
	char gen_dir[4096];
	int nparts;   /* processes sent SUSPEND */
	int nwritten;
	struct barriers bars;
	struct manifest m; /* images written so far (outlives their clients) */
};

/* A restart bringing nprocs processes back: they say HELLO restarted=1, may
 * meet at barriers while their plugins restore, and are done once each has
 * said STATE state=running.  Checkpoint requests wait until then. */
struct restart {
	unsigned long long gen;
	int nprocs;
	int expect;   /* not running yet: > 0 while the restart is on */
	int hellos;   /* restarted processes that have connected */
	struct client *watch; /* RESTART watch=1: the restart command's connection */
	long long deadline_ms;
	struct barriers bars;
};

struct coord {
	/* settings */
	char bind[256];
	int port;
	char secret[128];
	char secret_path[4096];
	char dir[4096];          /* checkpoint directory, "" until known */
	int interval;            /* seconds, 0 = off */
	bool auto_exit;
	bool debug;

	/* fds */
	int epfd, lfd, tfd, sfd;

	/* clients */
	struct client *clients[COORD_MAX_CLIENTS];
	int nclients;
	int nprocs;
	bool had_procs;

	/* generations */
	unsigned long long gen;          /* newest complete/known generation */
	unsigned long long gen_started;  /* newest generation ever started */
	unsigned long long gen_failed;   /* last failed one, to sweep late writes */
	struct ckpt ck;
	bool ckpt_deferred;              /* asked for while a restart is pending */
	bool ckpt_deferred_forked;

	struct restart rs;

	long long start_ms, empty_since_ms;
	bool quit;
};

/* main.c */
void coord_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void coord_debug(struct coord *co, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
long long coord_now_ms(void);

/* net.c: listening socket, clients, line I/O */
int coord_listen(const char *bind_addr, int port, int *fd_out);
void coord_accept(struct coord *co);
void coord_readable(struct coord *co, struct client *c);
int coord_send(struct coord *co, struct client *c, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void coord_drop(struct coord *co, struct client *c, const char *why);
void coord_reap(struct coord *co);

/* dispatch.c: one parsed message from a client */
void coord_dispatch(struct coord *co, struct client *c, struct proto_msg *m);
void coord_set_dir(struct coord *co, const char *dir);

/* ckpt.c: the checkpoint sequence */
int coord_ckpt_start(struct coord *co, struct client *asker, bool forked);
void coord_ckpt_join_late(struct coord *co, struct client *c);
void coord_ckpt_barrier(struct coord *co, struct client *c, struct proto_msg *m);
void coord_ckpt_written(struct coord *co, struct client *c, struct proto_msg *m);
void coord_ckpt_failed(struct coord *co, struct client *c, struct proto_msg *m);
void coord_ckpt_lost(struct coord *co, struct client *c);

/* barrier.c: named barriers of a checkpoint or a restart */
struct barrier *coord_barrier_arrive(struct barriers *bs, struct client *c, const char *name,
				     bool local, const char **why);
bool coord_barrier_waits_for(const struct barrier *b, const struct client *c);
bool coord_barriers_any_released(const struct barriers *bs);

/* restart.c: the restart session */
void coord_restart_begin(struct coord *co, unsigned long long gen, int nprocs);
void coord_restart_hello(struct coord *co, struct client *c);
void coord_restart_barrier(struct coord *co, struct client *c, struct proto_msg *m);
void coord_restart_running(struct coord *co, struct client *c);
void coord_restart_lost(struct coord *co, struct client *c);
void coord_restart_watch_gone(struct coord *co, struct client *c);
void coord_restart_tick(struct coord *co);
void coord_restart_end(struct coord *co);
static inline bool coord_restarting(const struct coord *co)
{
	return co->rs.expect > 0;
}

/* control.c: STATUS, KILL, SET, RESTART */
void coord_ctl_status(struct coord *co, struct client *c);
void coord_ctl_kill(struct coord *co, struct client *c);
void coord_ctl_set(struct coord *co, struct client *c, struct proto_msg *m);
void coord_ctl_restart(struct coord *co, struct client *c, struct proto_msg *m);
int coord_set_interval(struct coord *co, int seconds);

/* kv.c: PUBLISH / QUERY */
void coord_kv_publish(struct coord *co, struct client *c, struct proto_msg *m);
void coord_kv_query(struct coord *co, struct client *c, struct proto_msg *m);
void coord_kv_tick(struct coord *co);
void coord_kv_clear(void);

/* loop.c */
int coord_run(struct coord *co);

/* secret.c: the per-user secret file, shared with the cocoon command */
int coord_runtime_dir(char *out, size_t cap, bool create);
int coord_secret_path(const char *host, int port, char *out, size_t cap, bool create);
int coord_secret_generate(char *out, size_t cap);
int coord_secret_write(const char *path, const char *secret);
int coord_secret_read(const char *path, char *out, size_t cap);

#endif
