/* SPDX-License-Identifier: MIT */
/*
 * Named barriers, for a checkpoint's participants (ckpt.c) and a restart's
 * (restart.c): who has reached which, and whether it was released.  A local
 * barrier is one per host: only the processes on the arriving one's host
 * wait for each other.  The caller knows how many must arrive and sends GO.
 */
#include "coordinator/coord.h"

#include <stdio.h>
#include <string.h>

static bool same_host(const struct barrier *b, const struct client *c)
{
	return !b->local || strcmp(b->host, c->host) == 0;
}

struct barrier *coord_barrier_arrive(struct barriers *bs, struct client *c, const char *name,
				     bool local, const char **why)
{
	struct barrier *b = NULL;
	int i;

	if (!name || !*name || strlen(name) >= COORD_BARRIER_NAME) {
		*why = "bad barrier name";
		return NULL;
	}
	for (i = 0; i < bs->n; i++) {
		b = &bs->b[i];
		if (strcmp(b->name, name) == 0 && b->local == local && same_host(b, c))
			break;
	}
	if (i == bs->n) {
		if (i == COORD_MAX_BARRIERS) {
			*why = "too many barriers";
			return NULL;
		}
		b = &bs->b[bs->n++];
		memset(b, 0, sizeof(*b));
		snprintf(b->name, sizeof(b->name), "%s", name);
		snprintf(b->host, sizeof(b->host), "%s", c->host);
		b->local = local;
	}
	if (c->arrived & (1ull << i) || b->released) {
		*why = "barrier reached twice";
		return NULL;
	}
	c->arrived |= 1ull << i;
	b->count++;
	return b;
}

bool coord_barrier_waits_for(const struct barrier *b, const struct client *c)
{
	return same_host(b, c);
}

bool coord_barriers_any_released(const struct barriers *bs)
{
	for (int i = 0; i < bs->n; i++)
		if (bs->b[i].released)
			return true;
	return false;
}
