/* SPDX-License-Identifier: MIT */
/* The image writer's second thread (helper.c). */
#ifndef RT_HELPER_H
#define RT_HELPER_H

#include <stddef.h>
#include <stdint.h>

struct rt_helper;

/* The helper of this process in *slot, started if needed (memory from
 * alloc, which the helper's jobs must not need); NULL if it cannot be. */
struct rt_helper *rt_helper_get(struct rt_helper **slot, void *(*alloc)(size_t));
/* Run fn(arg) on the helper; returns the job to wait for.  One at a time. */
uint32_t rt_helper_post(struct rt_helper *h, void (*fn)(void *), void *arg);
void rt_helper_wait(struct rt_helper *h, uint32_t job);
/* Stop this process's helper, if it has one, and wait until it is gone. */
void rt_helper_stop(struct rt_helper **slot);

#endif
