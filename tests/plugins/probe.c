/* SPDX-License-Identifier: MIT */
/*
 * probe: a test plugin for the plugin API (tests/cr/plugin_api.sh).  The
 * program's processes share one connection to a server outside the
 * computation (PROBE_PORT).  The plugin marks it external, elects one
 * process to talk to the server at each checkpoint and restart, hands the
 * leader's name to the others through the key-value store and barriers,
 * reconnects every process at restart, and reports on stderr what it saw,
 * including what getpid() returns through the layers below it.
 */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cocoon.h"

static int conn_fd = -1;
static int (*next_connect)(int, const struct sockaddr *, socklen_t);
static pid_t (*next_getpid)(void);
static char leader[32];

static int probe_port(void)
{
	const char *p = getenv("PROBE_PORT");
	return p ? atoi(p) : -1;
}

/* The runtime below may call a wrapper before this library's constructor
 * ran: look the next definitions up on first use. */
static void resolve(void)
{
	if (!next_connect)
		next_connect = (int (*)(int, const struct sockaddr *, socklen_t))dlsym(RTLD_NEXT,
										      "connect");
	if (!next_getpid)
		next_getpid = (pid_t(*)(void))dlsym(RTLD_NEXT, "getpid");
}

/* Wrapper: the connection to the probe server is ours to restore. */
int connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	resolve();
	int r = next_connect(fd, sa, len);

	if (r == 0 && sa->sa_family == AF_INET &&
	    ntohs(((const struct sockaddr_in *)sa)->sin_port) == probe_port()) {
		conn_fd = fd;
		if (cocoon_fd_external(fd) != 0)
			fprintf(stderr, "probe: cannot mark fd %d external\n", fd);
	}
	return r;
}

/* Wrapper: sits above the pid plugin, so it passes virtual pids on. */
pid_t getpid(void)
{
	resolve();
	return next_getpid();
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n = snprintf(buf, sizeof(buf), "probe %d: ", (int)getpid());

	va_start(ap, fmt);
	n += vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
	va_end(ap);
	if (write(2, buf, (size_t)n) < 0)
		return;
}

static int tell_server(const char *what)
{
	char line[64];
	int n = snprintf(line, sizeof(line), "%s %d\n", what, (int)getpid());

	return write(conn_fd, line, (size_t)n) == n ? 0 : -errno;
}

static int reconnect(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)probe_port()) };
	struct stat st;
	int s;

	/* Cocoon left /dev/null at the number: nothing else took it. */
	if (fstat(conn_fd, &st) != 0 || !S_ISCHR(st.st_mode)) {
		cocoon_error("probe: fd %d is not the /dev/null placeholder", conn_fd);
		return -EINVAL;
	}
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0 || next_connect(s, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    dup3(s, conn_fd, O_CLOEXEC) < 0) {
		cocoon_error("probe: cannot reconnect to port %d: %s", probe_port(), strerror(errno));
		return -ECONNREFUSED;
	}
	close(s);
	return cocoon_fd_external(conn_fd); /* a new connection: mark it again */
}

/* One process speaks for the shared connection; the others learn who. */
static int elect_and_tell(const char *what, const char *key)
{
	char vpid[32];
	int won = cocoon_elect(key);

	if (won < 0) {
		cocoon_error("probe: election failed: %s", strerror(-won));
		return won;
	}
	if (!won)
		return 0;
	snprintf(vpid, sizeof(vpid), "%d", (int)getpid());
	int err = tell_server(what);
	return err ? err : cocoon_kv_publish(key, vpid);
}

static int learn_leader(const char *key, int timeout_ms)
{
	int n = cocoon_kv_query(key, leader, sizeof(leader), timeout_ms);

	if (n < 0)
		cocoon_error("probe: no leader published under %s: %s", key, strerror(-n));
	return n < 0 ? n : 0;
}

static int checkpoint_elected(void)
{
	/* the barrier guarantees the leader has published */
	int err = learn_leader("probe-saver", 0);
	if (!err)
		say("checkpoint leader %s\n", leader);
	return err;
}

/* The server greets each connection; until the new one's greeting is
 * here, the program must not run (cocoon_delay_resume). */
static char greeting[16];

static int greeted(void *unused)
{
	ssize_t n = recv(conn_fd, greeting, sizeof(greeting) - 1, MSG_DONTWAIT);

	if (n > 0) {
		greeting[n] = 0;
		if (greeting[n - 1] == '\n')
			greeting[n - 1] = 0;
		return 1;
	}
	cocoon_error("probe: the server sent no greeting");
	return 0;
}

/* The kernel's own answer, below every wrapper (libc's syscall() is one). */
static long kernel_getpid(void)
{
	long r;

	__asm__ volatile("syscall" : "=a"(r) : "a"(SYS_getpid) : "rcx", "r11", "memory");
	return r;
}

static int restart_met(void)
{
	say("restart leader %s, getpid %d, real %ld, dir %s\n", leader, (int)getpid(),
	    kernel_getpid(), cocoon_image_dir() ? "set" : "unset");
	return 0;
}

static int probe_event(enum cocoon_event ev, void *arg)
{
	int err;

	if (conn_fd < 0)
		return 0;
	switch (ev) {
	case COCOON_EV_PRECHECKPOINT:
		return elect_and_tell("SAVE", "probe-saver");
	case COCOON_EV_RESTART:
		if ((err = reconnect()))
			return err;
		if ((err = elect_and_tell("RESTORED", "probe-restorer")))
			return err;
		if ((err = cocoon_delay_resume(greeted, NULL, 2000)))
			return err;
		/* the others wait on the store itself (no barrier in between) */
		return learn_leader("probe-restorer", 10000);
	case COCOON_EV_RUNNING:
		if (greeting[0])
			say("settled: %s\n", greeting);
		greeting[0] = 0;
		return 0;
	default:
		return 0;
	}
}

static const struct cocoon_barrier probe_barriers[] = {
	{ COCOON_EV_PRECHECKPOINT, "elected", COCOON_BARRIER_GLOBAL, checkpoint_elected },
	{ COCOON_EV_RESTART, "restored", COCOON_BARRIER_LOCAL, restart_met },
	{ 0, NULL, 0, NULL },
};

static const struct cocoon_plugin probe = {
	.api_version = COCOON_API_VERSION,
	.name = "probe",
	.event = probe_event,
	.barriers = probe_barriers,
};

__attribute__((constructor)) static void probe_init(void)
{
	resolve();
	cocoon_plugin_register(&probe);
}
