/* SPDX-License-Identifier: MIT */
/*
 * The checkpoint thread: holds the coordinator connection, and on SUSPEND
 * runs one checkpoint (presuspend, suspend, barriers, plugins, write,
 * resume).  After a restart it comes back to life inside do_checkpoint and
 * finishes the restart instead.  All signals are blocked here.
 */
#include <errno.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <asm/prctl.h>

#include "common/config.h"
#include "common/image.h"
#include "common/proto.h"
#include "runtime/rt.h"
#include "runtime/sys.h"
#include "runtime/track.h"

int rt_tid_offset_confirm(void) RT_HIDDEN;

static struct proto_buf inbox;

int rt_coord_connect(int restarted)
{
	char host[256], dir[PROTO_LINE_MAX / 2], name[128], hostname[128];
	int port, fd;

	if (proto_parse_addr(rt.coord, host, sizeof(host), &port) != 0)
		return -EINVAL;
	fd = proto_connect(host, port, 5000);
	if (fd < 0)
		return fd;
	rt.coord_fd = rt_fd_take(fd);
	inbox.len = 0;
	return proto_send(rt.coord_fd,
			  "HELLO role=proc secret=%s vpid=%d pid=%d vppid=%d host=%s name=%s "
			  "dir=%s gen=%llu restarted=%d",
			  rt.secret, rt.vpid, rt.real_pid, rt.vppid,
			  proto_escape(rt.hostname, hostname, sizeof(hostname)),
			  proto_escape(rt.progname, name, sizeof(name)),
			  proto_escape(rt.ckpt_dir, dir, sizeof(dir)),
			  (unsigned long long)rt.saved_generation, restarted);
}

static void coord_lost(void)
{
	if (rt.coord_fd >= 0)
		close(rt.coord_fd);
	rt.coord_fd = -1;
}

/* Read messages until VERB for generation gen arrives (gen 0: any). */
static int wait_for(const char *verb, uint64_t gen, struct proto_msg *m, char *line, size_t cap)
{
	for (;;) {
		int n = proto_read_line(rt.coord_fd, &inbox, line, cap, -1);
		if (n < 0)
			return n;
		if (proto_parse(line, m) != 0)
			continue;
		if (strcmp(m->verb, "KILL") == 0)
			rt_sys2(SYS_kill, rt.real_pid, SIGKILL);
		if (strcmp(m->verb, verb) == 0 &&
		    (!gen || (uint64_t)proto_get_int(m, "gen", 0) == gen))
			return 0;
		rt_log("ignoring %s while waiting for %s", m->verb, verb);
	}
}

/* Set when the coordinator gave up on the generation (RESUME ok=0) while
 * this process still waited at a barrier. */
static int resumed_early;

/* Wait for the coordinator's WELCOME: it has then counted this process.
 * Anything that arrives before it stays queued for the checkpoint thread. */
int rt_coord_welcome(void)
{
	char line[PROTO_LINE_MAX], parsed[PROTO_LINE_MAX];
	struct proto_msg m;

	for (;;) {
		int n = proto_read_line(rt.coord_fd, &inbox, line, sizeof(line), 10000);
		if (n < 0)
			return n;
		memcpy(parsed, line, (size_t)n + 1);
		if (proto_parse(parsed, &m) != 0)
			continue;
		if (strcmp(m.verb, "WELCOME") == 0)
			return 0;
		if (strcmp(m.verb, "DENIED") == 0)
			return -EACCES;
		if ((size_t)n + 1 + inbox.len <= sizeof(inbox.data)) {
			memmove(inbox.data + n + 1, inbox.data, inbox.len);
			memcpy(inbox.data, line, (size_t)n);
			inbox.data[n] = '\n';
			inbox.len += (size_t)n + 1;
		}
		return 0;
	}
}

/* The coordinator gave up on the generation or restart while this process
 * still waited for it (RESUME ok=0). */
static int abandoned(void)
{
	resumed_early = 1;
	cocoon_error("the coordinator abandoned generation %llu", (unsigned long long)rt.generation);
	return -ECANCELED;
}

int rt_barrier_scoped(const char *name, int local)
{
	char line[PROTO_LINE_MAX], esc[3 * RT_BARRIER_NAME_MAX];
	struct proto_msg m;
	int err = rt.coord_fd < 0 ? -ENOTCONN
				  : proto_send(rt.coord_fd, "BARRIER gen=%llu name=%s scope=%s",
					       (unsigned long long)rt.generation,
					       proto_escape(name, esc, sizeof(esc)),
					       local ? "local" : "global");

	if (err == -ENOTCONN)
		cocoon_error("barrier %s: no coordinator", name);
	while (!err) {
		int n = proto_read_line(rt.coord_fd, &inbox, line, sizeof(line), -1);
		if (n < 0)
			return n;
		if (proto_parse(line, &m) != 0 ||
		    (uint64_t)proto_get_int(&m, "gen", 0) != rt.generation)
			continue;
		const char *got = proto_get(&m, "name");
		if (strcmp(m.verb, "GO") == 0 && got && strcmp(got, name) == 0)
			return 0;
		if (strcmp(m.verb, "RESUME") == 0)
			return abandoned();
	}
	return err;
}

int rt_barrier(const char *name)
{
	return rt_barrier_scoped(name, 0);
}

int rt_coord_request(const char *verb, struct proto_msg *m, char *line, size_t cap,
		     const char *fmt, ...)
{
	va_list ap;
	int err;

	if (rt.coord_fd < 0 || rt_gettid() != rt.ckpt_tid)
		return -EPERM; /* only the checkpoint thread owns the connection */
	va_start(ap, fmt);
	err = proto_vsend(rt.coord_fd, fmt, ap);
	va_end(ap);
	while (!err) {
		int n = proto_read_line(rt.coord_fd, &inbox, line, cap, -1);
		if (n < 0)
			return n;
		if (proto_parse(line, m) != 0)
			continue;
		if (strcmp(m->verb, verb) == 0)
			return 0;
		if (strcmp(m->verb, "ERR") == 0)
			return -EPROTO;
		if (strcmp(m->verb, "RESUME") == 0 &&
		    (uint64_t)proto_get_int(m, "gen", 0) == rt.generation)
			return abandoned();
		if (strcmp(m->verb, "KILL") == 0)
			rt_sys2(SYS_kill, rt.real_pid, SIGKILL);
	}
	return err;
}

/* Save this thread's context, then write the image (forked: start the
 * copy that writes it).  Returns 1 when the context is resumed after a
 * restart. */
static __attribute__((noinline)) int save_and_write(uint64_t gen, char *path, size_t cap,
						    int forked)
{
	struct rt_thread *t = &rt.ckpt_thread;
	size_t len = 0;

	t->tid = rt_gettid();
	t->vtid = rt_vtid_self();
	t->flags = IMG_T_CKPT;
	rt_sys2(SYS_arch_prctl, ARCH_GET_FS, &t->fsbase);
	rt_sys3(SYS_get_robust_list, 0, &t->robust_head, &len);
	t->robust_len = len;
	rt_sys2(SYS_prctl, PR_GET_NAME, t->comm);
	if (rt_ctx_save(&t->ctx)) {
		rt_sys2(SYS_prctl, PR_SET_NAME, t->comm);
		return 1;
	}
	return forked ? rt_writer_fork(gen, path, cap) : rt_image_write(gen, path, cap, NULL);
}

/* Called by rt_restart_finish before the plugins restore, so that they can
 * meet at barriers and use the key-value store.  Returns once the
 * coordinator has answered: it has counted us among the restarted. */
void rt_coord_reconnect(void)
{
	int err = rt_coord_connect(1);

	if (!err)
		err = rt_coord_welcome();
	if (err) {
		rt_warn("cannot reach coordinator at %s (%s); running without checkpoints",
			rt.coord, strerror(-err));
		coord_lost();
	}
}

static void after_restart(void)
{
	int err = rt_restart_finish();

	if (err) {
		const char *why = rt_last_error()[0] ? rt_last_error() : strerror(-err);
		dprintf(rt.restart_err_fd >= 0 ? rt.restart_err_fd : 2, "cocoon: restart: %s\n", why);
		rt_sys1(SYS_exit_group, 1);
	}
	if (rt.restart_err_fd >= 0)
		close(rt.restart_err_fd);
	rt.restart_err_fd = -1;
	rt_forks_allow();
	rt_resume_all();
	rt_plugins_event(COCOON_EV_RUNNING, NULL);
	rt_image_dir_set(NULL);
	rt_arena_release();
	if (rt.coord_fd >= 0)
		proto_send(rt.coord_fd, "STATE state=running");
	rt_log("restart complete");
}

/* User threads run again: after the generation is complete, or (forked)
 * as soon as every process has its snapshot. */
static void resume_program(void)
{
	rt_plugins_event(COCOON_EV_RESUME, NULL);
	if (rt_plugins_wait_quiescent())
		rt_warn("resuming anyway: %s", rt_last_error());
	rt_image_dir_set(NULL);
	rt_resume_all();
	rt_plugins_event(COCOON_EV_RUNNING, NULL);
	rt_forks_allow();
}

static void do_checkpoint(uint64_t gen, int forked)
{
	char path[4400], line[PROTO_LINE_MAX], err_esc[1600];
	struct proto_msg m;
	int err, resumed = 0, complete = 0;
	uint64_t saved_before = rt.saved_generation;

	rt_forks_quiesce();
	rt_sections_reset();
	resumed_early = 0;
	if (rt_arena_reset() != 0) {
		proto_send(rt.coord_fd, "FAILED gen=%llu error=out%%20of%%20memory",
			   (unsigned long long)gen);
		goto wait_resume;
	}
	rt.generation = gen;
	snprintf(path, sizeof(path), "%s/" CKPT_GEN_FMT, rt.ckpt_dir, (unsigned long long)gen);
	rt_image_dir_set(path);
	rt_log("checkpoint %llu%s: suspending", (unsigned long long)gen, forked ? " (forked)" : "");
	err = rt_plugins_event(COCOON_EV_PRESUSPEND, NULL);
	if (!err)
		err = rt_suspend_all();
	if (err && !rt_last_error()[0])
		cocoon_error("cannot suspend threads: %s", strerror(-err));
	if (!err)
		err = rt_barrier("suspended");
	if (!err)
		err = rt_plugins_event(COCOON_EV_PRECHECKPOINT, NULL);
	if (!err) {
		/* The image says it holds generation gen; the program keeps
		 * seeing so only if the generation completes. */
		rt.saved_generation = gen;
		err = save_and_write(gen, path, sizeof(path), forked);
		if (err == 1) {
			after_restart();
			return;
		}
	}
	/* Every process's memory is captured: none may run on before. */
	if (!err)
		err = rt_barrier("snapshot");
	if (forked && !err) {
		resume_program();
		resumed = 1;
		err = rt_writer_wait(path, sizeof(path));
	} else if (forked) {
		rt_writer_abandon();
	}
	if (err && resumed_early) {
		rt_log("checkpoint %llu abandoned by the coordinator", (unsigned long long)gen);
	} else if (err) {
		rt_log("checkpoint %llu failed: %s", (unsigned long long)gen, rt_last_error());
		proto_send(rt.coord_fd, "FAILED gen=%llu error=%s", (unsigned long long)gen,
			   proto_escape(rt_last_error()[0] ? rt_last_error() : strerror(-err),
					err_esc, sizeof(err_esc)));
	} else {
		char esc[PROTO_LINE_MAX / 2];
		rt_plugins_event(COCOON_EV_CHECKPOINT_WRITTEN, NULL);
		proto_send(rt.coord_fd, "WRITTEN gen=%llu image=%s needs=%s",
			   (unsigned long long)gen, proto_escape(path, esc, sizeof(esc)),
			   forked ? "" : rt_image_needs());
	}
wait_resume:
	if (!resumed_early && wait_for("RESUME", gen, &m, line, sizeof(line)) != 0)
		coord_lost();
	else if (!resumed_early)
		complete = proto_get_int(&m, "ok", 0) == 1;
	if (!complete) {
		rt.saved_generation = saved_before;
		rt_track_failed(); /* the next image cannot build on this one */
	}
	if (!resumed)
		resume_program();
	rt_arena_release();
	if (rt.coord_fd >= 0)
		proto_send(rt.coord_fd, "STATE state=running");
	rt_log("checkpoint %llu: resumed", (unsigned long long)gen);
}

static void *ckpt_main(void *arg)
{
	char line[PROTO_LINE_MAX];
	struct proto_msg m;

	rt.ckpt_tid = rt_gettid();
	if (rt_tid_offset_confirm() != 0) {
		rt_warn("cannot find the thread id in glibc's thread descriptor; "
			"checkpointing disabled");
		return NULL;
	}
	while (rt.coord_fd >= 0) {
		int n = proto_read_line(rt.coord_fd, &inbox, line, sizeof(line), -1);
		if (n < 0) {
			rt_log("coordinator connection closed (%s)", strerror(-n));
			coord_lost();
			break;
		}
		if (proto_parse(line, &m) != 0)
			continue;
		if (strcmp(m.verb, "SUSPEND") == 0) {
			do_checkpoint((uint64_t)proto_get_int(&m, "gen", 0),
				      rt.forked || proto_get_int(&m, "forked", 0) == 1);
		} else if (strcmp(m.verb, "KILL") == 0) {
			rt_sys2(SYS_kill, rt.real_pid, SIGKILL);
		} else if (strcmp(m.verb, "DENIED") == 0) {
			rt_warn("coordinator at %s refused this process (%s)", rt.coord,
				proto_get(&m, "reason") ? proto_get(&m, "reason") : "no reason");
			coord_lost();
		}
	}
	return NULL;
}

int rt_ckpt_thread_start(void)
{
	pthread_t th;
	pthread_attr_t attr;
	sigset_t all, old;
	int err;

	sigfillset(&all);
	real_pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 1 << 20);
	RESOLVED(pthread_create);
	err = real_pthread_create(&th, &attr, ckpt_main, NULL); /* not a program thread */
	pthread_attr_destroy(&attr);
	real_pthread_sigmask(SIG_SETMASK, &old, NULL);
	return -err;
}
