/* SPDX-License-Identifier: MIT */
/*
 * libemu-client.so: the emulator vendor's client library, what a test
 * bench links to drive the emulator (protocol in emulator.c).
 *
 * Every request goes through emu_transact(), exported so that a Cocoon
 * plugin can interpose it (dlsym(RTLD_NEXT)); the wrappers below are built
 * on it.  emu_transact() keeps no buffered data between transactions and
 * calls neither malloc nor stdio.  A session is for one thread at a time.
 */
#ifndef EDA_EMU_CLIENT_H
#define EDA_EMU_CLIENT_H

#include <stddef.h>
#include <stdint.h>

struct emu;

/* Connect to the emulator at "host:port" (numeric IPv4 or localhost); NULL
 * with errno set on failure. */
struct emu *emu_open(const char *addr);

/* Send one request line (no newline in it), read the one reply line into
 * reply (NUL-terminated, no newline).  0 for an `OK ...` reply,
 * -EREMOTEIO for `ERR ...` (the reason is in reply), -EPROTO for anything
 * else, -errno on a failed connection (-ECONNRESET: the emulator closed). */
int emu_transact(struct emu *e, const char *request, char *reply, size_t cap);

/* Convenience calls; each returns what emu_transact() returned, and after
 * -EREMOTEIO emu_error() tells the emulator's reason. */
int emu_reset(struct emu *e, uint64_t seed);
int emu_run(struct emu *e, uint64_t cycles, uint64_t *cycle_now);
int emu_read_reg(struct emu *e, unsigned reg, uint32_t *value);
int emu_write_reg(struct emu *e, unsigned reg, uint32_t value);
int emu_peek(struct emu *e, uint32_t addr, uint32_t *value);
int emu_poke(struct emu *e, uint32_t addr, uint32_t value);
int emu_flip(struct emu *e, uint64_t bit);
int emu_status(struct emu *e, uint64_t *cycle, uint64_t *sum);
int emu_save(struct emu *e, const char *path);
int emu_load(struct emu *e, const char *path);
const char *emu_error(struct emu *e);

/* The session's socket, its address, and the session opened last (and not
 * closed yet) in this process, or NULL. */
int emu_fd(struct emu *e);
const char *emu_addr(struct emu *e);
struct emu *emu_default(void);

void emu_close(struct emu *e);

#endif
