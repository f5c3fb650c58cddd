/* SPDX-License-Identifier: MIT */
/*
 * The key-value store plugins use to find each other (PUBLISH / QUERY in
 * docs/protocol.md), e.g. "where does the other end of socket X listen now?".
 * Bounded: COORD_KV_MAX entries of short keys and values; emptied when a
 * checkpoint or a restart begins.  A linear table is plenty at this size.
 * PUBLISH once=1 keeps the first value (leader election); QUERY wait_ms=T
 * parks the client until the key is published or T has passed.
 */
#include "coordinator/coord.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COORD_KV_MAX 4096
#define COORD_KV_KEY 256
#define COORD_KV_VAL 2048

struct kv {
	char key[COORD_KV_KEY];
	char val[COORD_KV_VAL];
};

static struct kv *table[COORD_KV_MAX];
static int nkv;

static struct kv *find(const char *key)
{
	for (int i = 0; i < nkv; i++)
		if (strcmp(table[i]->key, key) == 0)
			return table[i];
	return NULL;
}

static void answer(struct coord *co, struct client *c, const char *key, const struct kv *e)
{
	char k[3 * COORD_KV_KEY], v[3 * COORD_KV_VAL];

	proto_escape(key, k, sizeof(k));
	if (e)
		coord_send(co, c, "VALUE key=%s found=1 value=%s", k, proto_escape(e->val, v, sizeof(v)));
	else
		coord_send(co, c, "VALUE key=%s found=0", k);
}

void coord_kv_publish(struct coord *co, struct client *c, struct proto_msg *m)
{
	const char *key = proto_get(m, "key"), *val = proto_get(m, "value");
	bool once = proto_get_int(m, "once", 0) == 1;
	char v[3 * COORD_KV_VAL];
	struct kv *e;

	if (!key || !*key || !val || strlen(key) >= COORD_KV_KEY || strlen(val) >= COORD_KV_VAL) {
		coord_send(co, c, "ERR msg=PUBLISH%%20needs%%20key%%3DK%%20value%%3DV%%20(bounded)");
		return;
	}
	e = find(key);
	if (e && once) {
		coord_send(co, c, "OK won=0 value=%s", proto_escape(e->val, v, sizeof(v)));
		return;
	}
	if (!e) {
		if (nkv == COORD_KV_MAX || !(e = calloc(1, sizeof(*e)))) {
			coord_send(co, c, "ERR msg=key-value%%20store%%20full");
			return;
		}
		memcpy(e->key, key, strlen(key) + 1);
		table[nkv++] = e;
	}
	memcpy(e->val, val, strlen(val) + 1);
	coord_send(co, c, once ? "OK won=1" : "OK");
	for (int i = 0; i < co->nclients; i++) {
		struct client *w = co->clients[i];
		if (w->kv_wait[0] && !w->dead && strcmp(w->kv_wait, key) == 0) {
			w->kv_wait[0] = 0;
			answer(co, w, key, e);
		}
	}
}

void coord_kv_query(struct coord *co, struct client *c, struct proto_msg *m)
{
	const char *key = proto_get(m, "key");
	long long wait_ms = proto_get_int(m, "wait_ms", 0);
	struct kv *e = key ? find(key) : NULL;

	if (!key || !*key || strlen(key) >= COORD_KV_KEY || wait_ms < 0 || wait_ms > 3600000) {
		coord_send(co, c, "ERR msg=QUERY%%20needs%%20key%%3DK%%20[wait_ms%%3DT]");
		return;
	}
	if (e || wait_ms == 0) {
		answer(co, c, key, e);
		return;
	}
	snprintf(c->kv_wait, sizeof(c->kv_wait), "%s", key);
	c->kv_deadline_ms = coord_now_ms() + wait_ms;
}

/* Queries that waited long enough get "not found". */
void coord_kv_tick(struct coord *co)
{
	long long now = coord_now_ms();

	for (int i = 0; i < co->nclients; i++) {
		struct client *c = co->clients[i];
		if (c->kv_wait[0] && !c->dead && now >= c->kv_deadline_ms) {
			answer(co, c, c->kv_wait, NULL);
			c->kv_wait[0] = 0;
		}
	}
}

void coord_kv_clear(void)
{
	for (int i = 0; i < nkv; i++)
		free(table[i]);
	nkv = 0;
}
