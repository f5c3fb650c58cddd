/* SPDX-License-Identifier: MIT */
/*
 * The restart session (docs/protocol.md, "Restart"): `cocoon restart` says
 * RESTART gen=G procs=N before starting the processes; each says HELLO
 * restarted=1 before its plugins restore, may meet the others at barriers
 * (BARRIER / GO gen=G, like a checkpoint's), and says STATE state=running
 * once its threads run.  When all N have, the restart is over and a
 * checkpoint asked for meanwhile starts.  One that dies, or a deadline
 * passed with some missing, ends it: those still waiting at a barrier get
 * RESUME ok=0 and fail their restart.  With RESTART watch=1 the restart
 * command's connection stays open in every process it starts until that
 * process has said HELLO (or died: a restorer that refused its image): when
 * it closes with some HELLOs missing, they are not coming.
 */
#include "coordinator/coord.h"

#include <string.h>

#define for_each_restarting(co, c)                                             \
	for (int _i = 0; _i < (co)->nclients; _i++)                            \
		if (((c) = (co)->clients[_i]), (c)->role == ROLE_PROC && (c)->in_restart && !(c)->dead)

void coord_restart_begin(struct coord *co, unsigned long long gen, int nprocs)
{
	memset(&co->rs, 0, sizeof(co->rs));
	co->rs.gen = gen;
	co->rs.nprocs = nprocs;
	co->rs.expect = nprocs;
	co->rs.deadline_ms = coord_now_ms() + COORD_RESTART_WAIT_MS;
	coord_kv_clear(); /* the key-value store is scoped to one checkpoint or restart */
}

void coord_restart_end(struct coord *co)
{
	struct client *c;

	for_each_restarting(co, c) {
		if (c->arrived)
			coord_send(co, c, "RESUME gen=%llu ok=0", co->rs.gen);
		c->in_restart = false;
	}
	co->rs.expect = 0;
	co->rs.watch = NULL;
	if (co->ckpt_deferred) {
		co->ckpt_deferred = false;
		coord_ckpt_start(co, NULL, co->ckpt_deferred_forked);
		co->ckpt_deferred_forked = false;
	}
}

void coord_restart_hello(struct coord *co, struct client *c)
{
	if (!coord_restarting(co))
		return;
	c->in_restart = true;
	c->arrived = 0;
	co->rs.hellos++;
}

void coord_restart_watch_gone(struct coord *co, struct client *c)
{
	if (co->rs.watch != c)
		return;
	co->rs.watch = NULL;
	if (!coord_restarting(co) || co->rs.hellos >= co->rs.nprocs)
		return;
	coord_warn("restart: %d of %d process(es) failed before they came back",
		   co->rs.nprocs - co->rs.hellos, co->rs.nprocs);
	coord_restart_end(co);
}

void coord_restart_barrier(struct coord *co, struct client *c, struct proto_msg *m)
{
	const char *why = NULL;
	char esc[3 * COORD_BARRIER_NAME];
	struct client *p;

	if (!c->in_restart || (unsigned long long)proto_get_int(m, "gen", 0) != co->rs.gen) {
		coord_warn("%s: process %lld: BARRIER outside a checkpoint or restart, ignored",
			   c->peer, c->vpid);
		return;
	}
	const char *scope = proto_get(m, "scope");
	struct barrier *b = coord_barrier_arrive(&co->rs.bars, c, proto_get(m, "name"),
						 scope && strcmp(scope, "local") == 0, &why);
	if (!b) {
		coord_warn("restart: process %lld (%s): %s", c->vpid, c->name, why);
		coord_send(co, c, "RESUME gen=%llu ok=0", co->rs.gen);
		return;
	}
	/* A restart happens on one host: every restarted process is local. */
	if (b->count < co->rs.nprocs)
		return;
	b->released = true;
	proto_escape(b->name, esc, sizeof(esc));
	for_each_restarting(co, p)
		coord_send(co, p, "GO gen=%llu name=%s", co->rs.gen, esc);
}

void coord_restart_running(struct coord *co, struct client *c)
{
	if (!c->in_restart)
		return;
	c->in_restart = false;
	if (--co->rs.expect == 0) {
		coord_debug(co, "restart complete");
		coord_restart_end(co);
	}
}

void coord_restart_lost(struct coord *co, struct client *c)
{
	if (!c->in_restart)
		return;
	c->in_restart = false;
	coord_warn("restart: process %lld (%s) died while restarting", c->vpid, c->name);
	coord_restart_end(co);
}

/* Give up on a restart that never completed. */
void coord_restart_tick(struct coord *co)
{
	if (!coord_restarting(co) || coord_now_ms() < co->rs.deadline_ms)
		return;
	coord_warn("restart: %d process(es) never came back", co->rs.expect);
	coord_restart_end(co);
}
