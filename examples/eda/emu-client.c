/* SPDX-License-Identifier: MIT */
/*
 * libemu-client.so: the emulator client library (see emu-client.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "eda-net.h"
#include "emu-client.h"

#define EMU_EXPORT __attribute__((visibility("default")))
#define REPLY_MAX 512

struct emu {
	int fd;
	char addr[128];
	char error[REPLY_MAX];
};

static struct emu *last_opened;

EMU_EXPORT struct emu *emu_open(const char *addr)
{
	struct emu *e;
	int fd;

	if (!addr || strlen(addr) >= sizeof(e->addr)) {
		errno = EINVAL;
		return NULL;
	}
	fd = eda_connect(addr, 10000);
	if (fd < 0) {
		errno = -fd;
		return NULL;
	}
	e = calloc(1, sizeof(*e));
	if (!e) {
		close(fd);
		errno = ENOMEM;
		return NULL;
	}
	e->fd = fd;
	snprintf(e->addr, sizeof(e->addr), "%s", addr);
	last_opened = e;
	return e;
}

EMU_EXPORT int emu_transact(struct emu *e, const char *request, char *reply, size_t cap)
{
	int n;

	if (!e || !request || !reply || cap < 2)
		return -EINVAL;
	n = eda_request(e->fd, request, reply, cap, -1);
	if (n < 0)
		return n;
	if (strncmp(reply, "OK", 2) == 0 && (reply[2] == 0 || reply[2] == ' '))
		return 0;
	if (strncmp(reply, "ERR", 3) == 0 && (reply[3] == 0 || reply[3] == ' '))
		return -EREMOTEIO;
	return -EPROTO;
}

/* emu_transact(), keeping the reason of an ERR reply for emu_error(). */
static int transact(struct emu *e, const char *request, char *reply, size_t cap)
{
	int err = emu_transact(e, request, reply, cap);

	if (err == -EREMOTEIO)
		snprintf(e->error, sizeof(e->error), "%s", reply[3] ? reply + 4 : "(no reason)");
	else if (err == -EPROTO)
		snprintf(e->error, sizeof(e->error), "unexpected reply '%.200s'", reply);
	else if (err)
		snprintf(e->error, sizeof(e->error), "%s", strerror(-err));
	return err;
}

/* The number after "KEY" in an OK reply's words ("" : the first word); 0 or
 * -1. */
static int reply_field(const char *reply, const char *key, int base, uint64_t *out)
{
	size_t klen = strlen(key);
	const char *p;
	char *end;

	for (p = reply + 2; (p = strchr(p, ' ')); ) {
		p++;
		if (strncmp(p, key, klen) != 0)
			continue;
		errno = 0;
		*out = strtoull(p + klen, &end, base);
		if (!errno && end != p + klen && (*end == 0 || *end == ' '))
			return 0;
	}
	return -1;
}

/* Send request; from an OK reply, the number after key into *out (if out). */
static int transact_get(struct emu *e, const char *request, const char *key, int base,
			uint64_t *out)
{
	char reply[REPLY_MAX];
	int err = transact(e, request, reply, sizeof(reply));

	if (err || !out)
		return err;
	if (reply_field(reply, key, base, out) == 0)
		return 0;
	snprintf(e->error, sizeof(e->error), "no %s in reply '%.200s'", key[0] ? key : "value",
		 reply);
	return -EPROTO;
}

EMU_EXPORT int emu_reset(struct emu *e, uint64_t seed)
{
	char req[64];

	snprintf(req, sizeof(req), "RESET %" PRIu64, seed);
	return transact_get(e, req, "", 0, NULL);
}

EMU_EXPORT int emu_run(struct emu *e, uint64_t cycles, uint64_t *cycle_now)
{
	char req[64];

	snprintf(req, sizeof(req), "RUN %" PRIu64, cycles);
	return transact_get(e, req, "cycle=", 10, cycle_now);
}

static int get_u32(struct emu *e, const char *req, uint32_t *value)
{
	uint64_t v;
	int err = transact_get(e, req, "", 0, &v);

	if (!err && v > UINT32_MAX) {
		snprintf(e->error, sizeof(e->error), "value out of range for '%s'", req);
		return -EPROTO;
	}
	if (!err)
		*value = (uint32_t)v;
	return err;
}

EMU_EXPORT int emu_read_reg(struct emu *e, unsigned reg, uint32_t *value)
{
	char req[64];

	snprintf(req, sizeof(req), "READ r%u", reg);
	return get_u32(e, req, value);
}

EMU_EXPORT int emu_write_reg(struct emu *e, unsigned reg, uint32_t value)
{
	char req[64];

	snprintf(req, sizeof(req), "WRITE r%u %" PRIu32, reg, value);
	return transact_get(e, req, "", 0, NULL);
}

EMU_EXPORT int emu_peek(struct emu *e, uint32_t addr, uint32_t *value)
{
	char req[64];

	snprintf(req, sizeof(req), "PEEK %" PRIu32, addr);
	return get_u32(e, req, value);
}

EMU_EXPORT int emu_poke(struct emu *e, uint32_t addr, uint32_t value)
{
	char req[64];

	snprintf(req, sizeof(req), "POKE %" PRIu32 " %" PRIu32, addr, value);
	return transact_get(e, req, "", 0, NULL);
}

EMU_EXPORT int emu_flip(struct emu *e, uint64_t bit)
{
	char req[64];

	snprintf(req, sizeof(req), "FLIP %" PRIu64, bit);
	return transact_get(e, req, "", 0, NULL);
}

EMU_EXPORT int emu_status(struct emu *e, uint64_t *cycle, uint64_t *sum)
{
	char reply[REPLY_MAX];
	uint64_t c, h;
	int err = transact(e, "STATUS", reply, sizeof(reply));

	if (err)
		return err;
	if (reply_field(reply, "cycle=", 10, &c) || reply_field(reply, "sum=", 16, &h)) {
		snprintf(e->error, sizeof(e->error), "bad STATUS reply '%.200s'", reply);
		return -EPROTO;
	}
	if (cycle)
		*cycle = c;
	if (sum)
		*sum = h;
	return 0;
}

static int path_request(struct emu *e, const char *verb, const char *path)
{
	char req[EDA_LINE_MAX + 1];

	if (!path || snprintf(req, sizeof(req), "%s %s", verb, path) >= (int)sizeof(req))
		return -ENAMETOOLONG;
	return transact_get(e, req, "", 0, NULL);
}

EMU_EXPORT int emu_save(struct emu *e, const char *path)
{
	return path_request(e, "SAVE", path);
}

EMU_EXPORT int emu_load(struct emu *e, const char *path)
{
	return path_request(e, "LOAD", path);
}

EMU_EXPORT const char *emu_error(struct emu *e)
{
	return e ? e->error : "no session";
}

EMU_EXPORT int emu_fd(struct emu *e)
{
	return e ? e->fd : -1;
}

EMU_EXPORT const char *emu_addr(struct emu *e)
{
	return e ? e->addr : NULL;
}

EMU_EXPORT struct emu *emu_default(void)
{
	return last_opened;
}

EMU_EXPORT void emu_close(struct emu *e)
{
	if (!e)
		return;
	if (last_opened == e)
		last_opened = NULL;
	close(e->fd);
	free(e);
}
