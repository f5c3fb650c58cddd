/* SPDX-License-Identifier: MIT */
/*
 * hello: the smallest useful Cocoon plugin.  It counts the checkpoints of
 * its process, keeps the count in its own section of the image, and says
 * so on stderr after a restart.  Build it as a shared library and load it
 * with `cocoon launch --plugin ./libhello.so PROGRAM`.
 */
#include <stdio.h>
#include <string.h>

#include "cocoon.h"

struct hello_state {
	unsigned checkpoints;
	char note[32];
};

static struct hello_state state = { 0, "hello from before" };
static int restarted;

static int hello_event(enum cocoon_event ev, void *arg)
{
	const struct hello_state *saved;
	size_t len;

	switch (ev) {
	case COCOON_EV_PRECHECKPOINT:
		/* Everything is stopped: save what the plugin needs back. */
		state.checkpoints++;
		return cocoon_section_write("hello", &state, sizeof(state));
	case COCOON_EV_RESTART:
		saved = cocoon_section_read("hello", &len);
		if (!saved || len != sizeof(*saved)) {
			cocoon_error("hello: my section is missing");
			return -1;
		}
		fprintf(stderr, "hello: restarted after %u checkpoint(s): %s\n", saved->checkpoints,
			saved->note);
		restarted = 1;
		return 0;
	case COCOON_EV_RUNNING: /* after a checkpoint, or (here) a restart */
		if (restarted)
			fprintf(stderr, "hello: running again (generation %llu, restart %u)\n",
				(unsigned long long)cocoon_generation(), cocoon_restart_count());
		restarted = 0;
		return 0;
	default:
		return 0;
	}
}

static const struct cocoon_plugin hello = {
	.api_version = COCOON_API_VERSION,
	.name = "hello",
	.event = hello_event,
};

__attribute__((constructor)) static void hello_init(void)
{
	cocoon_plugin_register(&hello);
}
