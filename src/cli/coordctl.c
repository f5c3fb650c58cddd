/* SPDX-License-Identifier: MIT */
/*
 * Finding the coordinator from the cocoon command: its address, its secret
 * ($COCOON_SECRET, else the per-user secret file the coordinator wrote),
 * starting one in the background when none answers on a local address, and
 * opening a control connection.  Sets no environment itself.
 */
#include "cli/cli.h"
#include "common/config.h"
#include "common/proto.h"
#include "coordinator/coord.h"

#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define CONNECT_TIMEOUT_MS 1000
#define HELLO_TIMEOUT_MS 5000

static const char *addr_str(const struct coord_addr *a)
{
	static char buf[300];

	snprintf(buf, sizeof(buf), strchr(a->host, ':') ? "[%s]:%d" : "%s:%d", a->host, a->port);
	return buf;
}

const char *cli_self_dir(void)
{
	static char dir[PATH_MAX];
	ssize_t n;

	if (dir[0])
		return dir;
	n = readlink("/proc/self/exe", dir, sizeof(dir) - 1);
	if (n <= 0) {
		snprintf(dir, sizeof(dir), ".");
		return dir;
	}
	dir[n] = 0;
	char *slash = strrchr(dir, '/');
	if (slash && slash != dir)
		*slash = 0;
	else if (slash)
		slash[1] = 0;
	return dir;
}

int cli_coord_resolve(const char *arg, struct coord_addr *a)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM };
	struct addrinfo *ai;
	char host[256], dflt[64];
	const char *s = arg;

	if (!s || !*s)
		s = getenv(ENV_COORD);
	if (!s || !*s) {
		snprintf(dflt, sizeof(dflt), "%s:%d", COCOON_DEFAULT_HOST, COCOON_DEFAULT_PORT);
		s = dflt;
	}
	memset(a, 0, sizeof(*a));
	if (proto_parse_addr(s, host, sizeof(host), &a->port) < 0 || a->port == 0)
		return -EINVAL;
	if (getaddrinfo(host, NULL, &hints, &ai) != 0)
		return -EHOSTUNREACH;
	int r = getnameinfo(ai->ai_addr, ai->ai_addrlen, a->host, sizeof(a->host), NULL, 0,
			    NI_NUMERICHOST);
	freeaddrinfo(ai);
	return r ? -EHOSTUNREACH : 0;
}

/* Can we bind to host?  Then it is one of ours. */
static bool is_local(const char *host)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICHOST | AI_PASSIVE };
	struct addrinfo *ai;
	bool local = false;

	if (getaddrinfo(host, "0", &hints, &ai) != 0)
		return false;
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		local = bind(fd, ai->ai_addr, ai->ai_addrlen) == 0;
		close(fd);
	}
	freeaddrinfo(ai);
	return local;
}

/* $COCOON_SECRET, else the file of a coordinator at a (or at a wildcard
 * address on the same port, which also answers on a local address). */
static int load_secret(struct coord_addr *a)
{
	static const char *const wild[] = { "0.0.0.0", "::" };
	const char *env = getenv(ENV_SECRET);
	char path[4096];

	if (a->secret[0])
		return 0;
	if (env && *env) {
		snprintf(a->secret, sizeof(a->secret), "%s", env);
		return 0;
	}
	if (coord_secret_path(a->host, a->port, path, sizeof(path), false) == 0 &&
	    coord_secret_read(path, a->secret, sizeof(a->secret)) == 0)
		return 0;
	for (size_t i = 0; i < 2 && is_local(a->host); i++)
		if (coord_secret_path(wild[i], a->port, path, sizeof(path), false) == 0 &&
		    coord_secret_read(path, a->secret, sizeof(a->secret)) == 0)
			return 0;
	a->secret[0] = 0;
	return -ENOENT;
}

/* Run `cocoon coordinator --auto --daemon ...`; returns once it listens. */
static int start_coordinator(struct coord_addr *a, const char *ckpt_dir, int interval)
{
	const char *env = getenv(ENV_SECRET);
	char exe[PATH_MAX + 16], port[16], iv[16], secret[128];
	char *argv[16];
	int n = 0, st;
	pid_t pid;

	if (env && *env)
		snprintf(secret, sizeof(secret), "%s", env);
	else if (coord_secret_generate(secret, sizeof(secret)) < 0)
		return -EIO;
	snprintf(exe, sizeof(exe), "%s/cocoon", cli_self_dir());
	snprintf(port, sizeof(port), "%d", a->port);
	snprintf(iv, sizeof(iv), "%d", interval);
	argv[n++] = exe;
	argv[n++] = "coordinator";
	argv[n++] = "--auto";
	argv[n++] = "--daemon";
	argv[n++] = "--bind";
	argv[n++] = a->host;
	argv[n++] = "--port";
	argv[n++] = port;
	if (ckpt_dir && *ckpt_dir) {
		argv[n++] = "--ckpt-dir";
		argv[n++] = (char *)ckpt_dir;
	}
	if (interval > 0) {
		argv[n++] = "--interval";
		argv[n++] = iv;
	}
	argv[n] = NULL;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		setenv(ENV_SECRET, secret, 1);
		execv(exe, argv);
		fprintf(stderr, "cocoon: cannot run %s: %s\n", exe, strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return -EADDRINUSE; /* it said why on stderr */
	snprintf(a->secret, sizeof(a->secret), "%s", secret);
	return 0;
}

int cli_coord_ensure(struct coord_addr *a, const char *ckpt_dir, int interval)
{
	int fd = proto_connect(a->host, a->port, CONNECT_TIMEOUT_MS);
	int r;

	if (fd == -ECONNREFUSED && is_local(a->host)) {
		r = start_coordinator(a, ckpt_dir, interval);
		if (r == 0)
			return 0;
		/* maybe another command started one at the same moment */
		fd = proto_connect(a->host, a->port, CONNECT_TIMEOUT_MS);
		if (fd < 0) {
			cli_error("could not start a coordinator at %s", addr_str(a));
			return r;
		}
	}
	if (fd < 0) {
		cli_error("no coordinator at %s: %s", addr_str(a), strerror(-fd));
		return fd;
	}
	close(fd);
	r = load_secret(a);
	if (r)
		cli_error("a coordinator runs at %s but its secret is unknown (set %s)",
			  addr_str(a), ENV_SECRET);
	return r;
}

int cli_coord_open_ctl(struct coord_addr *a)
{
	char line[PROTO_LINE_MAX];
	struct proto_buf *buf;
	struct proto_msg m;
	int fd, r;

	fd = proto_connect(a->host, a->port, CONNECT_TIMEOUT_MS);
	if (fd == -ECONNREFUSED) {
		cli_error("no coordinator at %s (is the computation running?)", addr_str(a));
		return fd;
	}
	if (fd < 0) {
		cli_error("no coordinator at %s: %s", addr_str(a), strerror(-fd));
		return fd;
	}
	if (load_secret(a)) {
		cli_error("a coordinator runs at %s but its secret is unknown (set %s)",
			  addr_str(a), ENV_SECRET);
		r = -ENOENT;
		goto err_close;
	}
	buf = calloc(1, sizeof(*buf));
	if (!buf) {
		r = -ENOMEM;
		goto err_close;
	}
	r = proto_send(fd, "HELLO role=ctl secret=%s", proto_escape(a->secret, line, 400));
	if (!r)
		r = proto_read_line(fd, buf, line, sizeof(line), HELLO_TIMEOUT_MS);
	free(buf);
	if (r > 0 && proto_parse(line, &m) < 0)
		r = -EPROTO;
	if (r > 0 && strcmp(m.verb, "WELCOME") == 0)
		return fd;
	if (r > 0 && strcmp(m.verb, "DENIED") == 0) {
		const char *why = proto_get(&m, "reason");
		cli_error("the coordinator at %s refused us: %s (check %s)", addr_str(a),
			  why ? why : "denied", ENV_SECRET);
		r = -EACCES;
	} else {
		cli_error("the coordinator at %s did not answer", addr_str(a));
		r = r < 0 ? r : -EPROTO;
	}
err_close:
	close(fd);
	return r;
}
