/* SPDX-License-Identifier: MIT */
/*
 * The key-value store plugins use to find each other (PUBLISH / QUERY in
 * docs/protocol.md), e.g. "where does the other end of socket X listen now?".
 * Bounded: COORD_KV_MAX entries of short keys and values; lives as long as
 * the coordinator.  A linear table is plenty at this size.
 */
#include "coordinator/coord.h"

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

void coord_kv_publish(struct coord *co, struct client *c, struct proto_msg *m)
{
	const char *key = proto_get(m, "key"), *val = proto_get(m, "value");
	struct kv *e;

	if (!key || !*key || !val || strlen(key) >= COORD_KV_KEY || strlen(val) >= COORD_KV_VAL) {
		coord_send(co, c, "ERR msg=PUBLISH%%20needs%%20key%%3DK%%20value%%3DV%%20(bounded)");
		return;
	}
	e = find(key);
	if (!e) {
		if (nkv == COORD_KV_MAX || !(e = calloc(1, sizeof(*e)))) {
			coord_send(co, c, "ERR msg=key-value%%20store%%20full");
			return;
		}
		memcpy(e->key, key, strlen(key) + 1);
		table[nkv++] = e;
	}
	memcpy(e->val, val, strlen(val) + 1);
	coord_send(co, c, "OK");
}

void coord_kv_query(struct coord *co, struct client *c, struct proto_msg *m)
{
	char k[3 * COORD_KV_KEY], v[3 * COORD_KV_VAL];
	const char *key = proto_get(m, "key");
	struct kv *e = key ? find(key) : NULL;

	if (!key || !*key || strlen(key) >= COORD_KV_KEY) {
		coord_send(co, c, "ERR msg=QUERY%%20needs%%20key%%3DK");
		return;
	}
	proto_escape(key, k, sizeof(k));
	if (e)
		coord_send(co, c, "VALUE key=%s found=1 value=%s", k, proto_escape(e->val, v, sizeof(v)));
	else
		coord_send(co, c, "VALUE key=%s found=0", k);
}

void coord_kv_clear(void)
{
	for (int i = 0; i < nkv; i++)
		free(table[i]);
	nkv = 0;
}
