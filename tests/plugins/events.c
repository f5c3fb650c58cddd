/* SPDX-License-Identifier: MIT */
/*
 * events: a test plugin that writes one line per life-cycle event to
 * stderr, "events VPID NAME [detail]" (tests/cr/plugin_events.sh).
 */
#include <stdio.h>
#include <sys/types.h>
#include <unistd.h>

#include "cocoon.h"

static const char *const names[] = {
	[COCOON_EV_INIT] = "init",
	[COCOON_EV_EXIT] = "exit",
	[COCOON_EV_FORK_PREPARE] = "fork-prepare",
	[COCOON_EV_FORK_PARENT] = "fork-parent",
	[COCOON_EV_FORK_CHILD] = "fork-child",
	[COCOON_EV_EXEC] = "exec",
	[COCOON_EV_THREAD_START] = "thread-start",
	[COCOON_EV_THREAD_EXIT] = "thread-exit",
	[COCOON_EV_RESTART] = "restart",
};

static int events_event(enum cocoon_event ev, void *arg)
{
	char line[256];
	int n;

	if ((unsigned)ev >= sizeof(names) / sizeof(names[0]) || !names[ev])
		return 0;
	n = snprintf(line, sizeof(line), "events %d %s", (int)getpid(), names[ev]);
	if (ev == COCOON_EV_EXEC)
		n += snprintf(line + n, sizeof(line) - (size_t)n, " %s", (const char *)arg);
	if (ev == COCOON_EV_FORK_PARENT)
		n += snprintf(line + n, sizeof(line) - (size_t)n, " %d", (int)*(pid_t *)arg);
	line[n++] = '\n';
	return write(2, line, (size_t)n) == n ? 0 : 0;
}

static const struct cocoon_plugin events = {
	.api_version = COCOON_API_VERSION,
	.name = "events",
	.event = events_event,
};

__attribute__((constructor)) static void events_init(void)
{
	cocoon_plugin_register(&events);
}
