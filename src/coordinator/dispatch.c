/* SPDX-License-Identifier: MIT */
/*
 * What the coordinator does with one message: the HELLO handshake, then
 * routing each verb to the checkpoint sequence (ckpt.c) or the control
 * commands (control.c).  Messages from processes and from `cocoon` commands
 * arrive the same way; a process may also send control commands (the
 * application asking for a checkpoint).
 */
#include "coordinator/coord.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static bool secret_ok(const char *want, const char *got)
{
	size_t n = strlen(want);
	unsigned char diff = 0;

	if (!got || strlen(got) != n)
		return false;
	for (size_t i = 0; i < n; i++)
		diff |= (unsigned char)(want[i] ^ got[i]);
	return diff == 0;
}

static void copy(char *out, size_t cap, const char *s)
{
	snprintf(out, cap, "%s", s ? s : "");
}

/* Learn the checkpoint directory: its `latest` and every gen-NNNNNN in it
 * raise the generation counters so numbering continues. */
void coord_set_dir(struct coord *co, const char *dir)
{
	unsigned long long g;
	struct dirent *de;
	DIR *d;

	copy(co->dir, sizeof(co->dir), dir);
	if (mkdir(co->dir, 0700) < 0 && errno != EEXIST)
		coord_warn("cannot create %s: %s", co->dir, strerror(errno));
	if (ckpt_read_latest(co->dir, &g) == 0 && g > co->gen)
		co->gen = g;
	d = opendir(co->dir);
	if (!d)
		return;
	while ((de = readdir(d)))
		if (ckpt_parse_gen_name(de->d_name, &g) == 0 && g > co->gen_started)
			co->gen_started = g;
	closedir(d);
}

static void hello_proc(struct coord *co, struct client *c, struct proto_msg *m)
{
	const char *dir = proto_get(m, "dir");

	c->vpid = proto_get_int(m, "vpid", -1);
	if (c->vpid <= 0) {
		coord_send(co, c, "DENIED reason=missing%%20vpid");
		coord_drop(co, c, "HELLO without vpid");
		return;
	}
	c->role = ROLE_PROC;
	c->pid = proto_get_int(m, "pid", c->vpid);
	c->vppid = proto_get_int(m, "vppid", 0);
	c->gen = (unsigned long long)proto_get_int(m, "gen", 0);
	c->restarted = proto_get_int(m, "restarted", 0) == 1;
	copy(c->host, sizeof(c->host), proto_get(m, "host"));
	copy(c->name, sizeof(c->name), proto_get(m, "name"));
	copy(c->state, sizeof(c->state), c->restarted ? "restarting" : "running");
	co->nprocs++;
	co->had_procs = true;
	co->empty_since_ms = 0;
	if (!co->dir[0] && dir && dir[0] == '/')
		coord_set_dir(co, dir);
	if (c->gen > co->gen)
		co->gen = c->gen;
	coord_send(co, c, "WELCOME gen=%llu", co->gen);
	if (c->restarted)
		coord_restart_hello(co, c);
	else
		coord_ckpt_join_late(co, c);
}

static void hello(struct coord *co, struct client *c, struct proto_msg *m)
{
	const char *role = proto_get(m, "role");

	if (c->role != ROLE_NEW) {
		coord_send(co, c, "ERR msg=duplicate%%20HELLO");
		return;
	}
	if (!secret_ok(co->secret, proto_get(m, "secret"))) {
		coord_warn("%s: wrong secret, access denied", c->peer);
		coord_send(co, c, "DENIED reason=wrong%%20secret");
		coord_drop(co, c, "wrong secret");
		return;
	}
	if (role && strcmp(role, "proc") == 0) {
		hello_proc(co, c, m);
	} else if (role && strcmp(role, "ctl") == 0) {
		c->role = ROLE_CTL;
		coord_send(co, c, "WELCOME gen=%llu", co->gen);
	} else {
		coord_send(co, c, "DENIED reason=unknown%%20role");
		coord_drop(co, c, "unknown role");
	}
}

static void state(struct coord *co, struct client *c, struct proto_msg *m)
{
	const char *s = proto_get(m, "state");

	if (!s || !*s || strlen(s) >= sizeof(c->state)) {
		coord_send(co, c, "ERR msg=bad%%20state");
		return;
	}
	copy(c->state, sizeof(c->state), s);
	if (strcmp(s, "running") == 0)
		coord_restart_running(co, c);
}

typedef void (*verb_fn)(struct coord *co, struct client *c, struct proto_msg *m);

static void do_checkpoint(struct coord *co, struct client *c, struct proto_msg *m)
{
	coord_ckpt_start(co, c, proto_get_int(m, "forked", 0) == 1);
}

static void do_status(struct coord *co, struct client *c, struct proto_msg *m)
{
	coord_ctl_status(co, c);
}

static void do_kill(struct coord *co, struct client *c, struct proto_msg *m)
{
	coord_ctl_kill(co, c);
}

static const struct verb {
	const char *name;
	bool proc_only;
	verb_fn fn;
} verbs[] = {
	{ "BARRIER", true, coord_ckpt_barrier },
	{ "WRITTEN", true, coord_ckpt_written },
	{ "FAILED", true, coord_ckpt_failed },
	{ "STATE", true, state },
	{ "CHECKPOINT", false, do_checkpoint },
	{ "STATUS", false, do_status },
	{ "KILL", false, do_kill },
	{ "SET", false, coord_ctl_set },
	{ "RESTART", false, coord_ctl_restart },
	{ "PUBLISH", false, coord_kv_publish },
	{ "QUERY", false, coord_kv_query },
};

void coord_dispatch(struct coord *co, struct client *c, struct proto_msg *m)
{
	char esc[128];

	if (strcmp(m->verb, "HELLO") == 0) {
		hello(co, c, m);
		return;
	}
	if (c->role == ROLE_NEW) {
		coord_warn("%s: %s before HELLO, dropping the connection", c->peer,
			   proto_escape(m->verb, esc, 64));
		coord_send(co, c, "DENIED reason=HELLO%%20expected");
		coord_drop(co, c, "no HELLO");
		return;
	}
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		if (strcmp(m->verb, verbs[i].name) != 0)
			continue;
		if (verbs[i].proc_only && c->role != ROLE_PROC)
			coord_send(co, c, "ERR msg=%s%%20is%%20for%%20processes", verbs[i].name);
		else
			verbs[i].fn(co, c, m);
		return;
	}
	coord_send(co, c, "ERR msg=unknown%%20verb%%20%s", proto_escape(m->verb, esc, 64));
}
