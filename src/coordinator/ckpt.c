/* SPDX-License-Identifier: MIT */
/*
 * The checkpoint sequence (docs/protocol.md, "Checkpoint"): SUSPEND every
 * process, release each named barrier when all of them reached it, collect
 * WRITTEN, then MANIFEST -> latest -> prune -> RESUME ok=1 -> answer the
 * askers.  Any FAILED or a participant lost before WRITTEN fails the
 * generation: its directory goes, `latest` stays, RESUME ok=0, ERR.
 *
 * At most one generation is in flight; generation numbers only grow, so a
 * straggler still writing into a failed generation never touches a live one.
 */
#include "coordinator/coord.h"
#include "common/config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define for_each_part(co, c)                                                   \
	for (int _i = 0; _i < (co)->nclients; _i++)                            \
		if (((c) = (co)->clients[_i]), (c)->role == ROLE_PROC && (c)->in_ckpt && !(c)->dead)

static void answer_waiters_err(struct coord *co, const char *msg)
{
	char esc[1024];

	proto_escape(msg, esc, sizeof(esc));
	for (int i = 0; i < co->nclients; i++) {
		struct client *c = co->clients[i];
		if (c->wants_ckpt) {
			c->wants_ckpt = false;
			coord_send(co, c, "ERR msg=%s", esc);
		}
	}
}

static void end_ckpt(struct coord *co)
{
	for (int i = 0; i < co->nclients; i++)
		co->clients[i]->in_ckpt = false;
	manifest_free(&co->ck.m);
	co->ck.active = false;
}

/* Until the process says `STATE state=running` again: it may still be
 * putting its threads and its own memory back. */
static void resuming(struct client *c)
{
	snprintf(c->state, sizeof(c->state), "resuming");
}

static void fail(struct coord *co, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(struct coord *co, const char *fmt, ...)
{
	struct client *c;
	char msg[900];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	coord_warn("checkpoint generation %llu failed: %s", co->ck.gen, msg);
	if (ckpt_remove_gen(co->dir, co->ck.gen) < 0)
		coord_warn("cannot remove %s", co->ck.gen_dir);
	co->gen_failed = co->ck.gen;
	for_each_part(co, c) {
		resuming(c);
		coord_send(co, c, "RESUME gen=%llu ok=0", co->ck.gen);
	}
	answer_waiters_err(co, msg);
	end_ckpt(co);
}

static int cmp_vpid(const void *a, const void *b)
{
	const struct manifest_image *x = a, *y = b;
	return (x->vpid > y->vpid) - (x->vpid < y->vpid);
}

static void answer_waiters_ok(struct coord *co)
{
	char esc[PROTO_LINE_MAX / 2];

	for (int i = 0; i < co->nclients; i++) {
		struct client *c = co->clients[i];
		if (!c->wants_ckpt)
			continue;
		c->wants_ckpt = false;
		coord_send(co, c, "OK gen=%llu images=%d", co->ck.gen, co->ck.m.n);
		for (int k = 0; k < co->ck.m.n; k++)
			coord_send(co, c, "IMAGE path=%s vpid=%lld",
				   proto_escape(co->ck.m.img[k].path, esc, sizeof(esc)),
				   co->ck.m.img[k].vpid);
		coord_send(co, c, "END");
	}
}

/* Every participant has written: make the generation durable, then resume. */
static void complete(struct coord *co)
{
	struct ckpt *ck = &co->ck;
	struct client *c;
	int r;

	ck->m.gen = ck->gen;
	ck->m.time = (long long)time(NULL);
	qsort(ck->m.img, (size_t)ck->m.n, sizeof(*ck->m.img), cmp_vpid);
	r = manifest_write(ck->gen_dir, &ck->m);
	if (r < 0) {
		fail(co, "cannot write %s/%s: %s", ck->gen_dir, CKPT_MANIFEST, strerror(-r));
		return;
	}
	r = ckpt_write_latest(co->dir, ck->gen);
	if (r < 0) {
		fail(co, "cannot write %s/%s: %s", co->dir, CKPT_LATEST, strerror(-r));
		return;
	}
	co->gen = ck->gen;
	r = ckpt_prune(co->dir, COCOON_KEEP_GENERATIONS);
	if (r < 0)
		coord_warn("pruning old generations in %s: %s", co->dir, strerror(-r));
	coord_debug(co, "generation %llu complete: %d images", ck->gen, ck->m.n);
	for_each_part(co, c) {
		c->gen = ck->gen; /* its memory is now saved as this generation */
		resuming(c);
		coord_send(co, c, "RESUME gen=%llu ok=1", ck->gen);
	}
	answer_waiters_ok(co);
	end_ckpt(co);
}

int coord_ckpt_start(struct coord *co, struct client *asker, bool forked)
{
	struct ckpt *ck = &co->ck;
	struct client *c;
	char esc[PROTO_LINE_MAX / 2];
	int r;

	if (asker)
		asker->wants_ckpt = true;
	if (ck->active)
		return 0; /* joins the running one */
	if (coord_restarting(co)) {
		co->ckpt_deferred = true;
		co->ckpt_deferred_forked |= forked;
		return 0;
	}
	if (co->nprocs == 0) {
		answer_waiters_err(co, "no processes to checkpoint");
		return -ENOENT;
	}
	if (!co->dir[0]) {
		answer_waiters_err(co, "no checkpoint directory known (start with --ckpt-dir)");
		return -ENOENT;
	}
	memset(ck, 0, sizeof(*ck));
	coord_kv_clear(); /* the key-value store is scoped to one checkpoint or restart */
	ck->gen = (co->gen > co->gen_started ? co->gen : co->gen_started) + 1;
	co->gen_started = ck->gen;
	r = ckpt_gen_dir(co->dir, ck->gen, ck->gen_dir, sizeof(ck->gen_dir));
	if (!r) {
		ckpt_remove_gen(co->dir, ck->gen); /* a stale leftover */
		if (mkdir(ck->gen_dir, 0700) < 0)
			r = -errno;
	}
	if (r) {
		answer_waiters_err(co, "cannot create the generation directory");
		coord_warn("cannot create %s: %s", ck->gen_dir, strerror(-r));
		return r;
	}
	ck->active = true;
	ck->forked = forked;
	coord_debug(co, "checkpoint generation %llu of %d processes", ck->gen, co->nprocs);
	for (int i = 0; i < co->nclients; i++) {
		c = co->clients[i];
		if (c->role != ROLE_PROC || c->dead)
			continue;
		c->in_ckpt = true;
		c->written = false;
		c->arrived = 0;
		ck->nparts++;
	}
	if (ck->nparts == 0) { /* all died in this very batch, not reaped yet */
		ckpt_remove_gen(co->dir, ck->gen);
		end_ckpt(co);
		answer_waiters_err(co, "no processes to checkpoint");
		return -ENOENT;
	}
	proto_escape(ck->gen_dir, esc, sizeof(esc));
	for_each_part(co, c)
		coord_send(co, c, "SUSPEND gen=%llu dir=%s forked=%d", ck->gen, esc, ck->forked);
	return 0;
}

/* A message for generation gen: is it for the one in flight?  Late ones for
 * a failed generation sweep its directory again (a straggler wrote there). */
static bool current(struct coord *co, struct client *c, struct proto_msg *m)
{
	unsigned long long gen = (unsigned long long)proto_get_int(m, "gen", 0);

	if (co->ck.active && gen == co->ck.gen && c->in_ckpt)
		return true;
	if (gen && gen == co->gen_failed && gen != co->gen) {
		ckpt_remove_gen(co->dir, gen);
		return false;
	}
	coord_warn("%s: process %lld: %s for generation %llu ignored (not in progress)",
		   c->peer, c->vpid, m->verb, gen);
	return false;
}

void coord_ckpt_barrier(struct coord *co, struct client *c, struct proto_msg *m)
{
	struct ckpt *ck = &co->ck;
	const char *scope = proto_get(m, "scope"), *why = NULL;
	struct barrier *b;
	struct client *p;
	char esc[3 * COORD_BARRIER_NAME];
	int expect = 0;

	if (c->in_restart) {
		coord_restart_barrier(co, c, m);
		return;
	}
	if (!current(co, c, m)) {
		/* nobody will release it: do not let the process wait forever */
		coord_send(co, c, "RESUME gen=%llu ok=0",
			   (unsigned long long)proto_get_int(m, "gen", 0));
		return;
	}
	b = coord_barrier_arrive(&ck->bars, c, proto_get(m, "name"),
				 scope && strcmp(scope, "local") == 0, &why);
	if (!b) {
		fail(co, "process %lld (%s): %s", c->vpid, c->name, why);
		return;
	}
	for_each_part(co, p)
		expect += coord_barrier_waits_for(b, p);
	if (b->count < expect)
		return;
	b->released = true;
	proto_escape(b->name, esc, sizeof(esc));
	for_each_part(co, p)
		if (coord_barrier_waits_for(b, p))
			coord_send(co, p, "GO gen=%llu name=%s", ck->gen, esc);
}

void coord_ckpt_written(struct coord *co, struct client *c, struct proto_msg *m)
{
	struct ckpt *ck = &co->ck;
	const char *path = proto_get(m, "image");
	struct manifest_image im = { .vpid = c->vpid, .vppid = c->vppid };

	if (!current(co, c, m))
		return;
	if (c->written) {
		coord_warn("%s: process %lld: WRITTEN twice, ignored", c->peer, c->vpid);
		return;
	}
	if (!path || path[0] != '/' || strlen(path) >= sizeof(im.path)) {
		fail(co, "process %lld (%s): bad image path", c->vpid, c->name);
		return;
	}
	snprintf(im.host, sizeof(im.host), "%s", c->host);
	snprintf(im.name, sizeof(im.name), "%s", c->name);
	snprintf(im.path, sizeof(im.path), "%s", path);
	if (manifest_add(&ck->m, &im) < 0) {
		fail(co, "out of memory");
		return;
	}
	/* needs=G1,G2: earlier generations holding pages of this image */
	for (const char *p = proto_get(m, "needs"); p && *p;) {
		char *end;
		unsigned long long g = strtoull(p, &end, 10);
		if (end == p || g >= ck->gen || manifest_need(&ck->m, g) < 0) {
			fail(co, "process %lld (%s): bad needs= list", c->vpid, c->name);
			return;
		}
		p = *end == ',' ? end + 1 : end;
		if (*end && *end != ',')
			break;
	}
	c->written = true;
	if (++ck->nwritten == ck->nparts)
		complete(co);
}

void coord_ckpt_failed(struct coord *co, struct client *c, struct proto_msg *m)
{
	const char *err = proto_get(m, "error");

	if (!current(co, c, m))
		return;
	fail(co, "process %lld (%s): %s", c->vpid, c->name, err && *err ? err : "failed");
}

void coord_ckpt_lost(struct coord *co, struct client *c)
{
	if (!co->ck.active || !c->in_ckpt || c->written)
		return;
	c->in_ckpt = false;
	fail(co, "process %lld (%s) disconnected during the checkpoint", c->vpid, c->name);
}

/*
 * A process that joins while generation G is starting (a child forked by a
 * participant: its parent's fork() does not return, and so the parent does
 * not reach the first barrier, until the child has said HELLO) takes part
 * in G.  Once a barrier has been released it is too late: it waits for the
 * next generation.
 */
void coord_ckpt_join_late(struct coord *co, struct client *c)
{
	struct ckpt *ck = &co->ck;
	char esc[3 * sizeof(ck->gen_dir)];

	if (!ck->active)
		return;
	if (coord_barriers_any_released(&ck->bars))
		return;
	c->in_ckpt = true;
	c->written = false;
	c->arrived = 0;
	ck->nparts++;
	proto_escape(ck->gen_dir, esc, sizeof(esc));
	coord_debug(co, "process %lld joins generation %llu late", c->vpid, ck->gen);
	coord_send(co, c, "SUSPEND gen=%llu dir=%s forked=%d", ck->gen, esc, ck->forked);
}
