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
#include <time.h>
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

/* cocoon_image_dir(): set while a checkpoint or a restart runs. */
static char image_dir[4096];

/* Barriers may follow these events (RESUME: the coordinator has already
 * ended the generation, there is no one to meet). */
static int barrier_event(enum cocoon_event ev)
{
	return ev == COCOON_EV_PRESUSPEND || ev == COCOON_EV_PRECHECKPOINT ||
	       ev == COCOON_EV_RESTART;
}

static int barriers_valid(const struct cocoon_plugin *p)
{
	for (const struct cocoon_barrier *b = p->barriers; b && b->name; b++)
		if (!barrier_event(b->event) || !b->name[0] ||
		    strlen(p->name) + strlen(b->name) + 2 > RT_BARRIER_NAME_MAX ||
		    (b->scope != COCOON_BARRIER_GLOBAL && b->scope != COCOON_BARRIER_LOCAL))
			return 0;
	return 1;
}

int cocoon_plugin_register(const struct cocoon_plugin *p)
{
	if (!p || !p->name || !p->event)
		return -EINVAL;
	if (p->api_version > COCOON_API_VERSION) {
		rt_warn("plugin %s needs API version %u, this runtime has %u", p->name,
			p->api_version, COCOON_API_VERSION);
		return -ENOTSUP;
	}
	if (!barriers_valid(p)) {
		rt_warn("plugin %s declares a barrier Cocoon cannot run (event, name or scope)",
			p->name);
		return -EINVAL;
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
	       ev == COCOON_EV_RUNNING || ev == COCOON_EV_FORK_PARENT ||
	       ev == COCOON_EV_FORK_CHILD || ev == COCOON_EV_THREAD_START;
}

static int failed(const struct cocoon_plugin *p, int err, const char *what)
{
	if (!last_error[0])
		cocoon_error("plugin %s failed: %s", p->name, strerror(-err));
	rt_log("plugin %s: %s failed: %s", p->name, what, last_error);
	return err;
}

/* The event to every plugin in its order, then the barriers declared for
 * it, plugin by plugin in the same order: wait for every process in the
 * barrier's scope, then run its reached(). */
int rt_plugins_event(enum cocoon_event ev, void *arg)
{
	char name[RT_BARRIER_NAME_MAX];
	int k, err;

	for (k = 0; k < nplugins; k++) {
		const struct cocoon_plugin *p = plugins[bottom_up(ev) ? k : nplugins - 1 - k];
		if ((err = p->event(ev, arg)))
			return failed(p, err, "event");
	}
	for (k = 0; k < nplugins && barrier_event(ev); k++) {
		const struct cocoon_plugin *p = plugins[bottom_up(ev) ? k : nplugins - 1 - k];
		for (const struct cocoon_barrier *b = p->barriers; b && b->name; b++) {
			if (b->event != ev)
				continue;
			snprintf(name, sizeof(name), "%s/%s", p->name, b->name);
			if ((err = rt_barrier_scoped(name, b->scope == COCOON_BARRIER_LOCAL)))
				return failed(p, err, name);
			if (b->reached && (err = b->reached()))
				return failed(p, err, name);
		}
	}
	return 0;
}

/* cocoon_delay_resume: conditions to meet before threads run again. */
#define MAX_DELAYS 16
static struct delay {
	int (*quiescent)(void *);
	void *arg;
	int timeout_ms;
} delays[MAX_DELAYS];
static int ndelays;

int cocoon_delay_resume(int (*quiescent)(void *), void *arg, int timeout_ms)
{
	if (!quiescent || timeout_ms < 0)
		return -EINVAL;
	if (ndelays == MAX_DELAYS)
		return -ENOSPC;
	delays[ndelays++] = (struct delay){ quiescent, arg, timeout_ms };
	return 0;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int rt_plugins_wait_quiescent(void)
{
	long long start = now_ms();
	int err = 0;

	for (int i = 0; i < ndelays && !err; i++) {
		struct delay *d = &delays[i];
		long pause_us = 500;
		while (!d->quiescent(d->arg)) {
			if (now_ms() - start >= d->timeout_ms) {
				if (!last_error[0])
					cocoon_error("a plugin's outside world did not settle in %d ms",
						     d->timeout_ms);
				err = -ETIMEDOUT;
				break;
			}
			usleep((useconds_t)pause_us);
			if (pause_us < 20000)
				pause_us *= 2;
		}
	}
	ndelays = 0;
	return err;
}

void rt_image_dir_set(const char *dir)
{
	snprintf(image_dir, sizeof(image_dir), "%s", dir ? dir : "");
}

const char *cocoon_image_dir(void)
{
	return image_dir[0] ? image_dir : NULL;
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

int rt_sections_write_all(int (*put)(void *ctx, const void *data, size_t len), void *ctx,
			  const uint64_t *off, void *table, uint32_t *count)
{
	struct img_section *t = table;

	for (unsigned i = 0; i < npending; i++) {
		memset(&t[i], 0, sizeof(t[i]));
		memcpy(t[i].name, pending[i].name, sizeof(t[i].name));
		t[i].off = *off;
		t[i].len = pending[i].len;
		t[i].sum = img_sum(pending[i].data, pending[i].len);
		int err = put(ctx, pending[i].data, pending[i].len);
		if (err)
			return err;
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
	return rt.saved_generation;
}

uint32_t cocoon_restart_count(void)
{
	return rt.restarts;
}
