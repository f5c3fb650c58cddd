/* SPDX-License-Identifier: MIT */
/*
 * Cocoon public API: calls for applications and the plugin interface.
 *
 * A program that is not run under Cocoon may still call these: every call
 * is then a harmless no-op when the program links with -lcocoon-api, whose
 * stubs the preloaded runtime overrides under Cocoon.  Version: COCOON_API_VERSION; a plugin built
 * for a newer version than the runtime's is refused at load.
 *
 * This first version carries what the built-in plugins use; docs/plugin-api.md
 * describes it.
 */
#ifndef COCOON_H
#define COCOON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define COCOON_API_VERSION 1
#define COCOON_EXPORT __attribute__((visibility("default")))

/* Events.  Checkpoint-side events (and those before something happens:
 * EXIT, FORK_PREPARE, EXEC, THREAD_EXIT) go to plugins from the top layer
 * down; resume- and restart-side events (and INIT, FORK_PARENT, FORK_CHILD,
 * THREAD_START) bottom up. */
enum cocoon_event {
	COCOON_EV_INIT = 1,          /* runtime started in this process */
	COCOON_EV_EXIT = 2,          /* process exits normally (exit(), return from main) */
	/* Life-cycle events, in the thread that causes them: */
	COCOON_EV_FORK_PREPARE = 3,  /* fork() begins, in the parent */
	COCOON_EV_FORK_PARENT = 4,   /* fork() done, in the parent; arg: pid_t * (child's pid) */
	COCOON_EV_FORK_CHILD = 5,    /* fork() done, in the child, which has joined the computation */
	COCOON_EV_EXEC = 6,          /* an exec*() is about to run; arg: the path (const char *) */
	COCOON_EV_THREAD_START = 7,  /* a new thread starts, in that thread */
	COCOON_EV_THREAD_EXIT = 8,   /* a thread ends (returns, pthread_exit, cancelled), in it */
	COCOON_EV_PRESUSPEND = 10,   /* a checkpoint begins, user threads still run */
	COCOON_EV_PRECHECKPOINT = 11, /* user threads suspended: save state now */
	COCOON_EV_CHECKPOINT_WRITTEN = 12, /* the image is durable */
	COCOON_EV_RESUME = 13,       /* after a checkpoint, before user threads run */
	COCOON_EV_RESTART = 14,      /* after a restart, before user threads run */
	COCOON_EV_RUNNING = 15,      /* user threads run again (after resume or restart) */
};

/* Who waits at a barrier: every process of the computation, or only those
 * on this host. */
enum cocoon_barrier_scope {
	COCOON_BARRIER_GLOBAL = 0,
	COCOON_BARRIER_LOCAL = 1,
};

/* A barrier a plugin declares.  After `event` (PRESUSPEND, PRECHECKPOINT,
 * RESUME or RESTART) has been delivered to every plugin, each process waits
 * until every process in scope has reached the barrier, then calls
 * reached() (NULL: just wait).  Barriers of one event run plugin by plugin
 * in that event's order, each plugin's in the order it lists them.  reached()
 * returns 0 or -errno, like an event. */
struct cocoon_barrier {
	enum cocoon_event event;
	const char *name; /* unique within the plugin; NULL ends the list */
	enum cocoon_barrier_scope scope;
	int (*reached)(void);
};

/* A plugin.  event() returns 0, or -errno to fail the checkpoint (at
 * PRESUSPEND or PRECHECKPOINT) or the restart (at RESTART); cocoon_error()
 * explains why. */
struct cocoon_plugin {
	uint32_t api_version; /* COCOON_API_VERSION */
	const char *name;
	int (*event)(enum cocoon_event ev, void *arg);
	const struct cocoon_barrier *barriers; /* may be NULL */
};

/* Register a plugin; call it from a constructor of the plugin's library.
 * Later registrations sit above earlier ones. */
COCOON_EXPORT int cocoon_plugin_register(const struct cocoon_plugin *p);

/* During PRECHECKPOINT: store a named blob in this process's image.
 * During RESTART: get it back (NULL if absent); valid until RUNNING. */
COCOON_EXPORT int cocoon_section_write(const char *name, const void *data, size_t len);
COCOON_EXPORT const void *cocoon_section_read(const char *name, size_t *len);

/* From PRESUSPEND to RESUME: the directory this generation's images go to;
 * from RESTART to RUNNING: the directory of the image restarted from (to keep
 * outside state beside the images).  NULL at other times. */
COCOON_EXPORT const char *cocoon_image_dir(void);

/* Mark fd as leading outside the computation (a connection to a server, a
 * device): checkpoints neither drain nor save it, and after a restart the fd
 * number holds /dev/null until the plugin dup2()s its new connection over
 * it during RESTART.  The mark ends when the fd is closed or replaced: mark
 * the new connection again. */
COCOON_EXPORT int cocoon_fd_external(int fd);

/* What a checkpoint does with a regular file (or directory, device) the
 * program has open, chosen by the last rule whose pattern (fnmatch(3), '*'
 * also matches '/') matches its path.  Rules come from `cocoon launch
 * --file-policy PATTERN=save|reopen|leave`, then from cocoon_file_policy()
 * calls; without one: reopen, and save a deleted file. */
enum cocoon_file_policy {
	COCOON_FILE_REOPEN = 1, /* reopen it by path at restart, at its offset */
	COCOON_FILE_SAVE = 2,   /* keep its contents in the image; write them back to
				 * the path at restart, then reopen it */
	COCOON_FILE_LEAVE = 3,  /* neither: /dev/null holds the fd number at restart
				 * (a plugin may put something there) */
};
COCOON_EXPORT int cocoon_file_policy(const char *pattern, enum cocoon_file_policy policy);

/* The coordinator's key-value store, for plugins to find each other.  Only
 * from an event handler or a barrier's reached().  Keys (up to 255 bytes)
 * and values (up to 2047, text) are scoped to the current checkpoint or
 * restart: a new one starts empty.  query waits up to timeout_ms (0: do
 * not wait) for the key to appear, copies the value with its NUL and
 * returns its length; -ETIMEDOUT if it did not appear, -ENOSPC if cap is
 * too small. */
COCOON_EXPORT int cocoon_kv_publish(const char *key, const char *value);
COCOON_EXPORT int cocoon_kv_query(const char *key, char *value, size_t cap, int timeout_ms);

/* Leader election among the processes sharing an object (name it the same
 * way in each, e.g. "emu:" and the socket's inode): 1 in exactly one of
 * them, the first to ask in this checkpoint or restart, 0 in the others,
 * -errno on failure.  Call it in an event, then use a barrier before the
 * others rely on what the leader did. */
COCOON_EXPORT int cocoon_elect(const char *object);

/* During RESUME or RESTART: keep the program's threads stopped until
 * quiescent(arg) returns nonzero (the plugin's outside world has settled:
 * a reconnection finished, a device is ready).  The runtime asks again
 * every few milliseconds, for at most timeout_ms; if it never says yes,
 * a restart fails (with cocoon_error's reason, if quiescent() gave one)
 * and a resume goes on with a warning.  quiescent() runs on the checkpoint
 * thread under the same rules as events.  At most 16 at a time. */
COCOON_EXPORT int cocoon_delay_resume(int (*quiescent)(void *arg), void *arg, int timeout_ms);

/* Record why the current event failed; shown to the user as one line. */
COCOON_EXPORT void cocoon_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Application calls. */
COCOON_EXPORT int cocoon_is_active(void);          /* 1 under Cocoon, else 0 */
/* Checkpoint the whole computation now and wait for it: 0 when this process
 * goes on after the checkpoint, 1 when it was restarted from it, -errno on
 * failure (the reason went to the coordinator's client).  Not from inside
 * a cocoon_disable() section. */
COCOON_EXPORT int cocoon_checkpoint(void);
/* A critical section: no checkpoint starts between cocoon_disable() and
 * cocoon_enable() (nestable, any thread); a requested one waits. */
COCOON_EXPORT void cocoon_disable(void);
COCOON_EXPORT void cocoon_enable(void);
COCOON_EXPORT uint64_t cocoon_generation(void);    /* generation this memory was last saved as */
COCOON_EXPORT uint32_t cocoon_restart_count(void); /* how many times this process was restarted */

#ifdef __cplusplus
}
#endif

#endif
