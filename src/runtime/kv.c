/* SPDX-License-Identifier: MIT */
/*
 * The plugins' side of the coordinator's key-value store and of leader
 * election (PUBLISH / QUERY in docs/protocol.md).  Requests go over the
 * checkpoint thread's own connection, so they are allowed only where that
 * thread runs plugin code: in events and barriers.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/proto.h"
#include "runtime/rt.h"

#define KV_KEY_MAX 256
#define KV_VALUE_MAX 2048

static int key_ok(const char *key)
{
	return key && key[0] && strlen(key) < KV_KEY_MAX;
}

int cocoon_kv_publish(const char *key, const char *value)
{
	char line[PROTO_LINE_MAX], k[3 * KV_KEY_MAX], v[3 * KV_VALUE_MAX];
	struct proto_msg m;

	if (!key_ok(key) || !value || strlen(value) >= KV_VALUE_MAX)
		return -EINVAL;
	return rt_coord_request("OK", &m, line, sizeof(line), "PUBLISH key=%s value=%s",
				proto_escape(key, k, sizeof(k)), proto_escape(value, v, sizeof(v)));
}

int cocoon_kv_query(const char *key, char *value, size_t cap, int timeout_ms)
{
	char line[PROTO_LINE_MAX], k[3 * KV_KEY_MAX];
	struct proto_msg m;
	int err;

	if (!key_ok(key) || !value || timeout_ms < 0)
		return -EINVAL;
	err = rt_coord_request("VALUE", &m, line, sizeof(line), "QUERY key=%s wait_ms=%d",
			       proto_escape(key, k, sizeof(k)), timeout_ms);
	if (err)
		return err;
	const char *got = proto_get(&m, "value");
	if (proto_get_int(&m, "found", 0) != 1 || !got)
		return -ETIMEDOUT;
	size_t len = strlen(got);
	if (len + 1 > cap)
		return -ENOSPC;
	memcpy(value, got, len + 1);
	return (int)len;
}

int cocoon_elect(const char *object)
{
	char line[PROTO_LINE_MAX], key[KV_KEY_MAX], k[3 * KV_KEY_MAX];
	struct proto_msg m;
	int err;

	if (!object || !object[0] || snprintf(key, sizeof(key), "elect/%s", object) >= (int)sizeof(key))
		return -EINVAL;
	err = rt_coord_request("OK", &m, line, sizeof(line), "PUBLISH key=%s value=%d once=1",
			       proto_escape(key, k, sizeof(k)), rt.vpid);
	return err ? err : proto_get_int(&m, "won", 0) == 1;
}
