/* SPDX-License-Identifier: MIT */
/*
 * System V IPC of the signal plugin: id translation (wrap-sysv.c) and the
 * "sysv" image section with the state of semaphore sets and message queues
 * (sysv.c), which `cocoon restart` reads to make them again.
 */
#ifndef SIGNAL_SYSV_H
#define SIGNAL_SYSV_H

#include <stdint.h>

#include "common/restart.h"

#define SYSV_SECTION "sysv"

/* One object in the section, its payload after it: a semaphore set's
 * values (uint16_t[count]); a queue's messages, each a struct sysv_msg and
 * its bytes, padded to 8. */
struct sysv_obj {
	uint32_t kind; /* RST_SYSV_SEM or RST_SYSV_MSG */
	int32_t id;    /* as the program knows it */
	int32_t key;
	uint32_t mode;
	uint32_t count; /* semaphores, or messages */
	uint32_t pad;
	uint64_t len;   /* payload bytes that follow */
};

struct sysv_msg {
	int64_t type;
	uint32_t len;
	uint32_t pad;
};

#define SYSV_HIDDEN __attribute__((visibility("hidden")))

/* Id translation, per kind: the kernel's id for the program's, and back. */
int sysv_real(int kind, int id) SYSV_HIDDEN;
int sysv_virtual_id(int id) SYSV_HIDDEN; /* shared memory */
/* Save the semaphore sets and queues this process used (a section). */
int sysv_save(void) SYSV_HIDDEN;
/* After restart: learn the new ids; once all run: mark removals. */
void sysv_restart(void) SYSV_HIDDEN;
void sysv_running(void) SYSV_HIDDEN;
/* The sets and queues the program obtained (virtual ids). */
int sysv_used(int kind, int *ids, int cap) SYSV_HIDDEN;

#endif
