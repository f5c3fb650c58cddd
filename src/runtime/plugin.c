/* SPDX-License-Identifier: MIT */
/*
 * The plugin host: registration, event delivery in layer order, plugin
 * sections of the image, and the error a failing plugin leaves behind.
 * Built-in plugins register here exactly like third-party ones.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/image.h"
#include "runtime/rt.h"

#define MAX_PLUGINS 32

/* Bottom up: the built-ins first (whenever they register), then the
 * third-party plugins in the order they registered. */
static const struct cocoon_plugin *plugins[MAX_PLUGINS];
static int nplugins, nbuiltins;

/* Sections collected during PRECHECKPOINT (arena memory). */
struct section {
	char name[32];
	const void *data;
	size_t len;
};
static struct section pending[IMG_MAX_SECTIONS];
static unsigned npending;

/* Sections of the image being restarted (mapped from the image). */
static const struct img_section *loaded;
static uint32_t nloaded;
static const char *loaded_base;

static char last_error[512];

int cocoon_plugin_register(const struct cocoon_plugin *p)
{
	if (!p || !p->name || !p->event)
		return -EINVAL;
	if (p->api_version > COCOON_API_VERSION) {
		rt_warn("plugin %s needs API version %u, this runtime has %u", p->name,
			p->api_version, COCOON_API_VERSION);
		return -ENOTSUP;
	}
	if (nplugins == MAX_PLUGINS)
		return -ENOSPC;
	plugins[nplugins++] = p;
	/* A plugin whose library initialised after the runtime still gets INIT. */
	if (rt.active)
		p->event(COCOON_EV_INIT, NULL);
	return 0;
}

int rt_plugin_builtin(const struct cocoon_plugin *p)
{
	if (nplugins == MAX_PLUGINS)
		return -ENOSPC;
	for (int i = nplugins; i > nbuiltins; i--)
		plugins[i] = plugins[i - 1];
	plugins[nbuiltins++] = p;
	nplugins++;
	return 0;
}

static int bottom_up(enum cocoon_event ev)
{
	return ev == COCOON_EV_INIT || ev == COCOON_EV_RESUME || ev == COCOON_EV_RESTART ||
	       ev == COCOON_EV_RUNNING;
}

int rt_plugins_event(enum cocoon_event ev, void *arg)
{
	for (int k = 0; k < nplugins; k++) {
		const struct cocoon_plugin *p = plugins[bottom_up(ev) ? k : nplugins - 1 - k];
		int err = p->event(ev, arg);
		if (err) {
			if (!last_error[0])
				cocoon_error("plugin %s failed: %s", p->name, strerror(-err));
			rt_log("plugin %s: event %d failed: %s", p->name, ev, last_error);
			return err;
		}
	}
	return 0;
}

int cocoon_section_write(const char *name, const void *data, size_t len)
{
	if (!name || strlen(name) >= sizeof(pending[0].name))
		return -EINVAL;
	if (npending == IMG_MAX_SECTIONS)
		return -ENOSPC;
	void *copy = rt_alloc(len ? len : 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, data, len);
	struct section *s = &pending[npending++];
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->data = copy;
	s->len = len;
	return 0;
}

void rt_sections_reset(void)
{
	npending = 0;
	last_error[0] = 0;
}

int rt_sections_write_all(int fd, uint64_t *off, void *table, uint32_t *count)
{
	struct img_section *t = table;

	for (unsigned i = 0; i < npending; i++) {
		const char *p = pending[i].data;
		size_t left = pending[i].len;
		memset(&t[i], 0, sizeof(t[i]));
		memcpy(t[i].name, pending[i].name, sizeof(t[i].name));
		t[i].off = *off;
		t[i].len = left;
		t[i].sum = img_sum(p, left);
		while (left) {
			ssize_t w = write(fd, p, left);
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				return -errno;
			p += w;
			left -= (size_t)w;
			*off += (uint64_t)w;
		}
	}
	*count = npending;
	return 0;
}

void rt_sections_load(const void *table, uint32_t count, const char *base)
{
	loaded = table;
	nloaded = count;
	loaded_base = base;
}

const void *cocoon_section_read(const char *name, size_t *len)
{
	for (uint32_t i = 0; i < nloaded; i++) {
		if (strncmp(loaded[i].name, name, sizeof(loaded[i].name)) == 0) {
			if (len)
				*len = loaded[i].len;
			/* restart.c placed each section's data at base + off */
			return loaded_base + loaded[i].off;
		}
	}
	return NULL;
}

void cocoon_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
}

const char *rt_last_error(void)
{
	return last_error;
}

void rt_clear_error(void)
{
	last_error[0] = 0;
}

int cocoon_is_active(void)
{
	return rt.active;
}

uint64_t cocoon_generation(void)
{
	return rt.generation;
}

uint32_t cocoon_restart_count(void)
{
	return rt.restarts;
}
