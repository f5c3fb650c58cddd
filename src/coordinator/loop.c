/* SPDX-License-Identifier: MIT */
/*
 * The coordinator's event loop: one epoll set holding the listening socket,
 * the interval timer, a signalfd (SIGINT/SIGTERM/SIGHUP end it cleanly) and
 * every client.  After each batch of events dead clients are reaped and the
 * housekeeping runs: HELLO timeouts, restart deadline, --auto exit.
 */
#include "coordinator/coord.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

/* Tags for the non-client fds in epoll's data.ptr. */
static char tag_listen, tag_timer, tag_signal;

static int watch(struct coord *co, int fd, void *tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = tag };

	return epoll_ctl(co->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

static void interval_fired(struct coord *co)
{
	uint64_t n;

	if (read(co->tfd, &n, sizeof(n)) < 0)
		return;
	if (co->nprocs > 0 && !co->ck.active && !coord_restarting(co)) {
		coord_debug(co, "interval checkpoint");
		coord_ckpt_start(co, NULL, false);
	}
}

static void signalled(struct coord *co)
{
	struct signalfd_siginfo si;

	if (read(co->sfd, &si, sizeof(si)) == sizeof(si)) {
		coord_debug(co, "signal %u, exiting", si.ssi_signo);
		co->quit = true;
	}
}

static void housekeeping(struct coord *co)
{
	long long now = coord_now_ms();

	for (int i = 0; i < co->nclients; i++) {
		struct client *c = co->clients[i];
		if (c->role == ROLE_NEW && !c->dead && now - c->since_ms > COORD_HELLO_TIMEOUT_MS) {
			coord_warn("%s: no HELLO within %d s, dropping the connection", c->peer,
				   COORD_HELLO_TIMEOUT_MS / 1000);
			coord_drop(co, c, "HELLO timeout");
		}
	}
	coord_reap(co);
	coord_restart_tick(co);
	coord_kv_tick(co);
	if (!co->auto_exit || co->ck.active || coord_restarting(co) || co->nprocs > 0)
		return;
	if (co->had_procs && co->empty_since_ms && now - co->empty_since_ms >= COORD_EMPTY_EXIT_MS) {
		coord_debug(co, "computation ended, exiting");
		co->quit = true;
	} else if (!co->had_procs && now - co->start_ms >= COORD_IDLE_EXIT_MS) {
		coord_debug(co, "no process connected in %d s, exiting", COORD_IDLE_EXIT_MS / 1000);
		co->quit = true;
	}
}

int coord_run(struct coord *co)
{
	struct epoll_event ev[64];
	sigset_t mask;
	int r;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	co->sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	co->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (co->sfd < 0 || co->epfd < 0)
		return -errno;
	if ((r = watch(co, co->lfd, &tag_listen)) || (r = watch(co, co->tfd, &tag_timer)) ||
	    (r = watch(co, co->sfd, &tag_signal)))
		return r;
	co->start_ms = coord_now_ms();
	while (!co->quit) {
		int n = epoll_wait(co->epfd, ev, 64, 250);
		if (n < 0 && errno != EINTR)
			return -errno;
		for (int i = 0; i < n; i++) {
			void *p = ev[i].data.ptr;
			if (p == &tag_listen)
				coord_accept(co);
			else if (p == &tag_timer)
				interval_fired(co);
			else if (p == &tag_signal)
				signalled(co);
			else if (!((struct client *)p)->dead)
				coord_readable(co, p);
		}
		/* Clients dropped in this batch stay allocated until here, so
		 * later events of the batch never point at freed memory. */
		coord_reap(co);
		housekeeping(co);
	}
	return 0;
}
