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

/* Events, in the order a checkpoint and a restart deliver them.  Checkpoint-
 * side events go to plugins from the top layer down, resume- and restart-
 * side events bottom up. */
enum cocoon_event {
	COCOON_EV_INIT = 1,          /* runtime started in this process */
	COCOON_EV_EXIT = 2,          /* process exits normally */
	COCOON_EV_PRESUSPEND = 10,   /* a checkpoint begins, user threads still run */
	COCOON_EV_PRECHECKPOINT = 11, /* user threads suspended: save state now */
	COCOON_EV_CHECKPOINT_WRITTEN = 12, /* the image is durable */
	COCOON_EV_RESUME = 13,       /* after a checkpoint, before user threads run */
	COCOON_EV_RESTART = 14,      /* after a restart, before user threads run */
	COCOON_EV_RUNNING = 15,      /* user threads run again (after resume or restart) */
};

/* A plugin.  event() returns 0, or -errno to fail the checkpoint (at
 * PRECHECKPOINT) or the restart (at RESTART); cocoon_error() explains why. */
struct cocoon_plugin {
	uint32_t api_version; /* COCOON_API_VERSION */
	const char *name;
	int (*event)(enum cocoon_event ev, void *arg);
};

/* Register a plugin; call it from a constructor of the plugin's library.
 * Later registrations sit above earlier ones. */
COCOON_EXPORT int cocoon_plugin_register(const struct cocoon_plugin *p);

/* During PRECHECKPOINT: store a named blob in this process's image.
 * During RESTART: get it back (NULL if absent); valid until RUNNING. */
COCOON_EXPORT int cocoon_section_write(const char *name, const void *data, size_t len);
COCOON_EXPORT const void *cocoon_section_read(const char *name, size_t *len);

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
