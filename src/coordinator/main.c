/* SPDX-License-Identifier: MIT */
/*
 * `cocoon coordinator`: options, the secret and its file, --daemon start-up
 * with a readiness pipe, then the event loop (loop.c).  Prints only warnings
 * and errors ("cocoon: coordinator: ..."); COCOON_LOG=debug logs every
 * message.  As a daemon its stderr goes to
 * ${XDG_RUNTIME_DIR:-/tmp}/cocoon-<uid>/coord-<host>-<port>.log.
 */
#include "cli/cli.h"
#include "common/config.h"
#include "coordinator/coord.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int arg_port = COCOON_DEFAULT_PORT;
static const char *arg_bind = COCOON_DEFAULT_HOST;
static int arg_interval;
static const char *arg_ckpt_dir;
static bool arg_daemon;
static bool arg_auto;

void coord_warn(const char *fmt, ...)
{
	va_list ap;

	fputs("cocoon: coordinator: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void coord_debug(struct coord *co, const char *fmt, ...)
{
	va_list ap;

	if (!co->debug)
		return;
	fputs("cocoon: coordinator: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

long long coord_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: cocoon coordinator [OPTIONS]\n"
		"Run the coordinator of a computation (started automatically by launch and\n"
		"restart when none is reachable).\n"
		"\n"
		"  -p, --port N           TCP port (default %d; 0 picks one and prints HOST:PORT)\n"
		"  -b, --bind ADDR        address to listen on (default %s)\n"
		"  -i, --interval SECS    checkpoint every SECS seconds (default 0: off)\n"
		"  -d, --ckpt-dir DIR     checkpoint directory (default: the first process's)\n"
		"      --daemon           detach; return once listening\n"
		"  -h, --help             show this help\n"
		"\n"
		"The secret is $%s, or generated and stored (0600) in\n"
		"${XDG_RUNTIME_DIR:-/tmp}/cocoon-UID/coord-HOST-PORT.secret.\n",
		COCOON_DEFAULT_PORT, COCOON_DEFAULT_HOST, ENV_SECRET);
}

static int parse_int(const char *s, int lo, int hi, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || !*s || *end || v < lo || v > hi)
		return -EINVAL;
	*out = (int)v;
	return 0;
}

static int bad_value(const char *opt)
{
	cli_error("coordinator: bad value '%s' for --%s", optarg, opt);
	return 2;
}

static int parse_options(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "bind", required_argument, NULL, 'b' },
		{ "interval", required_argument, NULL, 'i' },
		{ "ckpt-dir", required_argument, NULL, 'd' },
		{ "daemon", no_argument, NULL, 'D' },
		{ "auto", no_argument, NULL, 'A' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "p:b:i:d:h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (parse_int(optarg, 0, 65535, &arg_port))
				return bad_value("port");
			break;
		case 'b':
			arg_bind = optarg;
			break;
		case 'i':
			if (parse_int(optarg, 0, 10000000, &arg_interval))
				return bad_value("interval");
			break;
		case 'd':
			arg_ckpt_dir = optarg;
			break;
		case 'D':
			arg_daemon = true;
			break;
		case 'A':
			arg_auto = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		cli_error("coordinator: unexpected argument '%s'", argv[optind]);
		return 2;
	}
	return 0;
}

/* Resolve --bind to a numeric address. */
static int numeric_host(const char *name, char *out, size_t cap)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE };
	struct addrinfo *ai;

	if (getaddrinfo(name, NULL, &hints, &ai) != 0)
		return -EADDRNOTAVAIL;
	int r = getnameinfo(ai->ai_addr, ai->ai_addrlen, out, (socklen_t)cap, NULL, 0,
			    NI_NUMERICHOST);
	freeaddrinfo(ai);
	return r ? -EADDRNOTAVAIL : 0;
}

/* The checkpoint directory as an absolute path, created 0700. */
static int absolute_dir(const char *dir, char *out, size_t cap)
{
	char cwd[PATH_MAX];
	int n;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	if (realpath(dir, cwd))
		n = snprintf(out, cap, "%s", cwd);
	else
		return -errno;
	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

static int actual_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char serv[NI_MAXSERV];

	if (getsockname(fd, (void *)&ss, &len) < 0 ||
	    getnameinfo((void *)&ss, len, NULL, 0, serv, sizeof(serv), NI_NUMERICSERV))
		return -1;
	return atoi(serv);
}

/* Everything that can fail before we are "listening". */
static int setup(struct coord *co)
{
	const char *env = getenv(ENV_SECRET);
	const char *log = getenv(ENV_LOG);
	int r;

	co->debug = log && strcmp(log, "debug") == 0;
	co->auto_exit = arg_auto;
	co->lfd = co->tfd = co->sfd = co->epfd = -1;
	r = numeric_host(arg_bind, co->bind, sizeof(co->bind));
	if (r) {
		cli_error("coordinator: cannot resolve bind address '%s'", arg_bind);
		return r;
	}
	if (arg_ckpt_dir) {
		char abs[4096];
		r = absolute_dir(arg_ckpt_dir, abs, sizeof(abs));
		if (r) {
			cli_error("coordinator: checkpoint directory %s: %s", arg_ckpt_dir,
				  strerror(-r));
			return r;
		}
		coord_set_dir(co, abs);
	}
	r = coord_listen(co->bind, arg_port, &co->lfd);
	if (r == -EADDRINUSE) {
		cli_error("coordinator: port %d on %s is already in use (another coordinator "
			  "running?)", arg_port, co->bind);
		return r;
	}
	if (r) {
		cli_error("coordinator: cannot listen on %s port %d: %s", co->bind, arg_port,
			  strerror(-r));
		return r;
	}
	co->port = arg_port ? arg_port : actual_port(co->lfd);
	if (env && *env) {
		snprintf(co->secret, sizeof(co->secret), "%s", env);
	} else if ((r = coord_secret_generate(co->secret, sizeof(co->secret)))) {
		cli_error("coordinator: cannot generate a secret: %s", strerror(-r));
		return r;
	}
	r = coord_secret_path(co->bind, co->port, co->secret_path, sizeof(co->secret_path), true);
	if (!r)
		r = coord_secret_write(co->secret_path, co->secret);
	if (r) {
		coord_warn("cannot store the secret in %s (%s); clients need $%s",
			   co->secret_path[0] ? co->secret_path : "the runtime directory",
			   strerror(-r), ENV_SECRET);
		co->secret_path[0] = 0;
	}
	co->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (co->tfd < 0 || coord_set_interval(co, arg_interval) < 0) {
		cli_error("coordinator: timerfd: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

/* Daemon stdio: nothing in, nothing out, stderr to the log file. */
static void detach_stdio(struct coord *co)
{
	char dir[4096], path[4400];
	int nul = open("/dev/null", O_RDWR | O_CLOEXEC);
	int log = -1;

	if (coord_runtime_dir(dir, sizeof(dir), true) == 0 &&
	    snprintf(path, sizeof(path), "%s/coord-%s-%d.log", dir, co->bind, co->port) <
		    (int)sizeof(path))
		log = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (nul >= 0) {
		dup2(nul, 0);
		dup2(nul, 1);
		dup2(log >= 0 ? log : nul, 2);
		close(nul);
	}
	if (log >= 0)
		close(log);
	setvbuf(stderr, NULL, _IOLBF, 0);
	if (chdir("/") < 0)
		coord_warn("chdir /: %s", strerror(errno));
}

static void teardown(struct coord *co)
{
	if (co->secret_path[0])
		unlink(co->secret_path);
	for (int i = 0; i < co->nclients; i++)
		co->clients[i]->dead = co->clients[i]->gone = true;
	co->ck.active = false;
	coord_reap(co);
	manifest_free(&co->ck.m);
	coord_kv_clear();
	if (co->lfd >= 0)
		close(co->lfd);
}

/* The parent of --daemon: wait for "ready PORT" or failure on the pipe. */
static int daemon_parent(int rfd, pid_t child)
{
	char buf[320] = "";
	ssize_t n;
	int st;

	while ((n = read(rfd, buf, sizeof(buf) - 1)) < 0 && errno == EINTR)
		;
	close(rfd);
	if (n > 0)
		buf[n] = 0;
	if (n > 0 && strncmp(buf, "ready ", 6) == 0) {
		if (arg_port == 0)
			printf("%s", buf + 6);
		return 0;
	}
	waitpid(child, &st, 0);
	return 1;
}

int cmd_coordinator(int argc, char **argv)
{
	static struct coord co; /* large; one per process */
	int pfd[2] = { -1, -1 }, r;

	r = parse_options(argc, argv);
	if (r)
		return r;
	signal(SIGPIPE, SIG_IGN);
	if (arg_daemon) {
		/* hold none of the starter's fds (a test's pipes would never see EOF) */
		close_range(3, ~0U, 0);
		if (pipe2(pfd, O_CLOEXEC) < 0) {
			cli_error("coordinator: pipe: %s", strerror(errno));
			return 1;
		}
		pid_t pid = fork();
		if (pid < 0) {
			cli_error("coordinator: fork: %s", strerror(errno));
			return 1;
		}
		if (pid > 0) {
			close(pfd[1]);
			return daemon_parent(pfd[0], pid);
		}
		close(pfd[0]);
		setsid();
	}
	if (setup(&co)) {
		teardown(&co);
		return 1;
	}
	if (arg_daemon) {
		char msg[320];
		bool v6 = strchr(co.bind, ':');
		int n = snprintf(msg, sizeof(msg), v6 ? "ready [%s]:%d\n" : "ready %s:%d\n",
				 co.bind, co.port);
		detach_stdio(&co);
		if (write(pfd[1], msg, (size_t)n) < 0)
			coord_warn("readiness pipe: %s", strerror(errno));
		close(pfd[1]);
	} else if (arg_port == 0) {
		printf(strchr(co.bind, ':') ? "[%s]:%d\n" : "%s:%d\n", co.bind, co.port);
		fflush(stdout);
	}
	r = coord_run(&co);
	if (r)
		coord_warn("event loop: %s", strerror(-r));
	teardown(&co);
	return r ? 1 : 0;
}
