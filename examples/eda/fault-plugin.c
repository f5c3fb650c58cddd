/* SPDX-License-Identifier: MIT */
/*
 * libfault-plugin.so: the user's fault injector.  Load it after (above)
 * libemu-plugin.so: at RESTART it then runs once the emulator has been
 * reached again and the design loaded.
 *
 * If FAULT_SEED is set in the restored environment (`cocoon restart --setenv
 * FAULT_SEED=...`), it draws FAULT_COUNT (default 1, at most 64) distinct
 * bit indices of the design's state from a small PRNG seeded with it and
 * flips them in the emulator (FLIP <bit>), over the test bench's own
 * restored session: the one emu_default() of libemu-client.so returns, by
 * way of emu_transact(), so it goes through the emu plugin's wrapper like
 * any transaction.  Once threads run again it reports on stderr:
 *   fault: injected N bit flip(s) seed=S bits=B1,B2,...
 * Between RESTART and RUNNING threads are stopped: no malloc, no stdio.
 */
#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cocoon.h"
#include "design.h"

#define MAX_FAULTS 64

struct emu;

static struct emu *(*default_session)(void);
static int (*transact)(struct emu *e, const char *req, char *reply, size_t cap);

static uint64_t seed;
static unsigned nflipped;
static uint64_t flipped[MAX_FAULTS];

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* An environment variable as a number in [lo, hi]; 1 if set and valid, 0 if
 * unset, -1 if set but invalid. */
static int env_number(const char *name, uint64_t lo, uint64_t hi, uint64_t *out)
{
	const char *s = getenv(name);
	char *end;

	if (!s || !*s)
		return 0;
	errno = 0;
	*out = strtoull(s, &end, 0);
	if (errno || *end || *s == '-' || *out < lo || *out > hi) {
		cocoon_error("fault: %s=%.40s is not a number in %" PRIu64 "-%" PRIu64, name, s, lo,
			     hi);
		return -1;
	}
	return 1;
}

static int already_flipped(uint64_t bit)
{
	for (unsigned i = 0; i < nflipped; i++)
		if (flipped[i] == bit)
			return 1;
	return 0;
}

static int inject(void)
{
	uint64_t count = 1, x;
	struct emu *e;
	char req[64], reply[256];
	int err;

	nflipped = 0;
	if ((err = env_number("FAULT_SEED", 0, UINT64_MAX, &seed)) <= 0)
		return err < 0 ? -EINVAL : 0;
	if (env_number("FAULT_COUNT", 1, MAX_FAULTS, &count) < 0)
		return -EINVAL;
	if (!default_session || !transact)
		return 0; /* a process of the computation that does not use the emulator */
	e = default_session();
	if (!e) {
		cocoon_error("fault: FAULT_SEED is set but no emulator session is open");
		return -ENOTCONN;
	}
	x = seed;
	while (nflipped < count) {
		uint64_t bit = splitmix64(&x) % DESIGN_BITS;
		if (already_flipped(bit))
			continue;
		snprintf(req, sizeof(req), "FLIP %" PRIu64, bit);
		if ((err = transact(e, req, reply, sizeof(reply))) < 0) {
			cocoon_error("fault: cannot flip bit %" PRIu64 ": %.200s", bit,
				     err == -EREMOTEIO ? reply : strerrordesc_np(-err));
			return err;
		}
		flipped[nflipped++] = bit;
	}
	return 0;
}

/* One line on stderr, written at once. */
static void report(void)
{
	char line[64 + MAX_FAULTS * 22];
	size_t n;

	n = (size_t)snprintf(line, sizeof(line), "fault: injected %u bit flip(s) seed=%" PRIu64
				" bits=", nflipped, seed);
	for (unsigned i = 0; i < nflipped && n < sizeof(line); i++)
		n += (size_t)snprintf(line + n, sizeof(line) - n, "%s%" PRIu64, i ? "," : "",
				      flipped[i]);
	if (n < sizeof(line) - 1) {
		line[n++] = '\n';
		if (write(STDERR_FILENO, line, n) < 0) {
			/* nowhere else to say it */
		}
	}
	nflipped = 0;
}

static int fault_event(enum cocoon_event ev, void *arg)
{
	switch (ev) {
	case COCOON_EV_RESTART:
		return inject();
	case COCOON_EV_RUNNING:
		if (nflipped)
			report();
		return 0;
	default:
		return 0;
	}
}

static const struct cocoon_plugin fault_plugin = {
	.api_version = COCOON_API_VERSION,
	.name = "fault",
	.event = fault_event,
};

__attribute__((constructor)) static void fault_plugin_init(void)
{
	/* Through the global scope: the emu plugin's emu_transact() comes first. */
	default_session = (struct emu * (*)(void))dlsym(RTLD_DEFAULT, "emu_default");
	transact = (int (*)(struct emu *, const char *, char *, size_t))dlsym(RTLD_DEFAULT,
									       "emu_transact");
	cocoon_plugin_register(&fault_plugin);
}
