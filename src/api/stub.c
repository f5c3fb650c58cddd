/* SPDX-License-Identifier: MIT */
/*
 * libcocoon-api.so: what a program links against to use include/cocoon.h
 * and still run without Cocoon.  Every call here is the "not under Cocoon"
 * answer.  Under Cocoon the preloaded runtime defines the same symbols, and
 * the dynamic linker searches preloaded libraries before the program's own
 * dependencies, so the runtime's definitions are the ones called.
 */
#include <errno.h>

#include "cocoon.h"

int cocoon_plugin_register(const struct cocoon_plugin *p)
{
	return -ENOSYS;
}

int cocoon_section_write(const char *name, const void *data, size_t len)
{
	return -ENOSYS;
}

const void *cocoon_section_read(const char *name, size_t *len)
{
	if (len)
		*len = 0;
	return NULL;
}

void cocoon_error(const char *fmt, ...)
{
}

int cocoon_is_active(void)
{
	return 0;
}

int cocoon_checkpoint(void)
{
	return 0;
}

void cocoon_disable(void)
{
}

void cocoon_enable(void)
{
}

uint64_t cocoon_generation(void)
{
	return 0;
}

uint32_t cocoon_restart_count(void)
{
	return 0;
}

const char *cocoon_image_dir(void)
{
	return NULL;
}

int cocoon_fd_external(int fd)
{
	return -ENOSYS;
}

int cocoon_kv_publish(const char *key, const char *value)
{
	return -ENOSYS;
}

int cocoon_kv_query(const char *key, char *value, size_t cap, int timeout_ms)
{
	return -ENOSYS;
}

int cocoon_elect(const char *object)
{
	return -ENOSYS;
}

int cocoon_delay_resume(int (*quiescent)(void *arg), void *arg, int timeout_ms)
{
	return -ENOSYS;
}

int cocoon_file_policy(const char *pattern, enum cocoon_file_policy policy)
{
	return -ENOSYS;
}
