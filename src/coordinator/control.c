/* SPDX-License-Identifier: MIT */
/*
 * Control commands from `cocoon status|kill|checkpoint --interval|restart`:
 * STATUS, KILL, SET interval=, RESTART gen= procs= (docs/protocol.md).
 */
#include "coordinator/coord.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/timerfd.h>

static const char *coord_state(struct coord *co)
{
	if (co->ck.active)
		return "checkpointing";
	if (coord_restarting(co))
		return "restarting";
	return "idle";
}

static const char *proc_state(struct coord *co, struct client *c)
{
	if (co->ck.active && c->in_ckpt)
		return c->written ? "written" : "checkpointing";
	return c->state;
}

void coord_ctl_status(struct coord *co, struct client *c)
{
	char dir[PROTO_LINE_MAX / 2], host[800], name[800], state[100];

	coord_send(co, c, "COORD gen=%llu dir=%s procs=%d interval=%d state=%s host=%s port=%d",
		   co->gen, proto_escape(co->dir, dir, sizeof(dir)), co->nprocs, co->interval,
		   coord_state(co), co->bind, co->port);
	for (int i = 0; i < co->nclients; i++) {
		struct client *p = co->clients[i];
		if (p->role != ROLE_PROC || p->dead)
			continue;
		coord_send(co, c, "PROC vpid=%lld pid=%lld host=%s name=%s state=%s gen=%llu "
			   "restarted=%d vppid=%lld",
			   p->vpid, p->pid, proto_escape(p->host, host, sizeof(host)),
			   proto_escape(p->name, name, sizeof(name)),
			   proto_escape(proc_state(co, p), state, sizeof(state)), p->gen,
			   p->restarted, p->vppid);
	}
	coord_send(co, c, "END");
}

void coord_ctl_kill(struct coord *co, struct client *c)
{
	int n = 0;

	for (int i = 0; i < co->nclients; i++) {
		struct client *p = co->clients[i];
		if (p->role == ROLE_PROC && !p->dead && coord_send(co, p, "KILL") == 0)
			n++;
	}
	co->ckpt_deferred = false;
	coord_restart_end(co);
	co->had_procs = true; /* --auto: the computation is over once they are gone */
	if (co->nprocs == 0 && !co->empty_since_ms)
		co->empty_since_ms = coord_now_ms();
	coord_send(co, c, "OK killed=%d", n);
}

int coord_set_interval(struct coord *co, int seconds)
{
	struct itimerspec its = { 0 };

	its.it_value.tv_sec = seconds;
	its.it_interval.tv_sec = seconds;
	if (timerfd_settime(co->tfd, 0, &its, NULL) < 0)
		return -errno;
	co->interval = seconds;
	return 0;
}

void coord_ctl_set(struct coord *co, struct client *c, struct proto_msg *m)
{
	long long iv = proto_get_int(m, "interval", -1);

	if (iv < 0 || iv > 10000000) {
		coord_send(co, c, "ERR msg=SET%%20needs%%20interval%%3DSECONDS");
		return;
	}
	if (coord_set_interval(co, (int)iv) < 0) {
		coord_send(co, c, "ERR msg=cannot%%20set%%20the%%20timer");
		return;
	}
	coord_send(co, c, "OK");
}

void coord_ctl_restart(struct coord *co, struct client *c, struct proto_msg *m)
{
	long long gen = proto_get_int(m, "gen", -1);
	long long procs = proto_get_int(m, "procs", -1);

	if (gen < 0 || procs < 0 || procs > 1000000) {
		coord_send(co, c, "ERR msg=RESTART%%20needs%%20gen%%3DG%%20procs%%3DN");
		return;
	}
	if ((unsigned long long)gen > co->gen)
		co->gen = (unsigned long long)gen;
	coord_restart_begin(co, (unsigned long long)gen, (int)procs);
	if (proto_get_int(m, "watch", 0) == 1)
		co->rs.watch = c;
	coord_send(co, c, "OK");
}
