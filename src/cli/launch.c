/* SPDX-License-Identifier: MIT */
/*
 * cocoon launch: run a program under Cocoon.  Makes sure a coordinator
 * answers, puts the runtime into LD_PRELOAD with the coordinator's address
 * and secret, and execs the program (which keeps our pid, stdio and env).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/config.h"
#include "common/elf.h"
#include "common/filepolicy.h"
#include "common/proto.h"

static const char *arg_coord, *arg_ckpt_dir;
static int arg_interval;
static const char *arg_plugin[32];
static int arg_nplugins;
static char arg_file_policy[8192]; /* PATTERN=POLICY lines */
static int arg_forked;
static const char *arg_compress;
static int arg_incremental;
static int arg_direct;
static const char *arg_image_stream;

static void usage(FILE *f)
{
	fprintf(f, "usage: cocoon launch [--coord HOST:PORT] [--ckpt-dir DIR] "
		   "[--interval SECONDS]\n"
		   "       [--forked] [--compress zstd[:LEVEL]] [--incremental] [--direct]\n"
		   "       [--image-stream CMD] [--plugin LIB]... [--file-policy PATTERN=POLICY]...\n"
		   "       [--] PROGRAM [ARG...]\n"
		   "Run PROGRAM under Cocoon.  A coordinator is started in the background\n"
		   "when none answers at the address (default 127.0.0.1:%d, or $%s).\n"
		   "Images go to DIR (default $%s, else ./%s).  Each --plugin loads a\n"
		   "plugin library into every process, above the built-ins and the\n"
		   "plugins named before it.  --file-policy: what a checkpoint does with\n"
		   "open files whose path matches PATTERN (fnmatch, '*' matches '/' too):\n"
		   "save (contents in the image, written back at restart), reopen (the\n"
		   "default), leave (not restored); the last matching rule wins.\n"
		   "--forked: every checkpoint forks a copy of each process that writes\n"
		   "its image while the program goes on.  --compress: images are zstd\n"
		   "streams (LEVEL 1-19, default 3).  --incremental: a checkpoint saves only\n"
		   "the pages written since the last one and refers to earlier images for\n"
		   "the rest.  --direct: page data goes to the image with O_DIRECT, past\n"
		   "the page cache (plain images only; where the file system cannot,\n"
		   "through the page cache).  --image-stream: each image\n"
		   "goes to the stdin of sh -c CMD, with $COCOON_IMAGE its name (gen-G/NAME.img);\n"
		   "it is safe once CMD exits 0 (restart with cocoon restart --image-stream).\n",
		   COCOON_DEFAULT_PORT, ENV_COORD, ENV_CKPT_DIR, COCOON_DEFAULT_CKPT_DIR);
}

/* mkdir -p with mode 0700 for the directories we create. */
static int make_dirs(const char *path)
{
	char buf[PATH_MAX];

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	for (char *p = buf + 1;; p++) {
		if (*p == '/' || !*p) {
			char c = *p;
			*p = 0;
			if (mkdir(buf, 0700) != 0 && errno != EEXIST)
				return -errno;
			*p = c;
			if (!c)
				break;
		}
	}
	return 0;
}

/* Absolute form of the checkpoint directory, created 0700 if missing. */
int cli_ckpt_dir(const char *arg, char *out, size_t cap, int create)
{
	const char *dir = arg ? arg : getenv(ENV_CKPT_DIR);
	char cwd[PATH_MAX];

	if (!dir || !*dir)
		dir = COCOON_DEFAULT_CKPT_DIR;
	if (dir[0] == '/') {
		snprintf(out, cap, "%s", dir);
	} else {
		if (!getcwd(cwd, sizeof(cwd)))
			return -errno;
		if (snprintf(out, cap, "%s/%s", cwd, dir) >= (int)cap)
			return -ENAMETOOLONG;
	}
	return create ? make_dirs(out) : 0;
}

/* NAME=VALUE prepended (sep != 0) or set. */
static int env_prepend(const char *name, const char *value, char sep)
{
	const char *old = getenv(name);
	char buf[8192];

	if (old && *old && sep) {
		if (strstr(old, value))
			return 0;
		snprintf(buf, sizeof(buf), "%s%c%s", value, sep, old);
		return setenv(name, buf, 1);
	}
	return setenv(name, value, 1);
}

int cli_runtime_env(const struct coord_addr *a, const char *ckpt_dir)
{
	char lib[PATH_MAX], coord[300];

	if (snprintf(lib, sizeof(lib), "%s/../lib/cocoon/libcocoon.so", cli_self_dir()) >=
	    (int)sizeof(lib))
		return -ENAMETOOLONG;
	if (access(lib, R_OK) != 0) {
		cli_error("runtime library %s is missing", lib);
		return -ENOENT;
	}
	if (strchr(a->host, ':'))
		snprintf(coord, sizeof(coord), "[%s]:%d", a->host, a->port);
	else
		snprintf(coord, sizeof(coord), "%s:%d", a->host, a->port);
	if (setenv(ENV_COORD, coord, 1) || setenv(ENV_SECRET, a->secret, 1) ||
	    setenv(ENV_CKPT_DIR, ckpt_dir, 1) || env_prepend("LD_PRELOAD", lib, ':') ||
	    env_prepend("GLIBC_TUNABLES", "glibc.pthread.rseq=0", ':'))
		return -errno;
	return 0;
}

/* Plugins go in front of the runtime in LD_PRELOAD (the first found wins),
 * the last named first: later-named plugins sit above earlier ones. */
static int preload_plugins(void)
{
	char path[PATH_MAX];

	for (int i = 0; i < arg_nplugins; i++) {
		if (!realpath(arg_plugin[i], path)) {
			cli_error("launch: plugin %s: %s", arg_plugin[i], strerror(errno));
			return -1;
		}
		const char *old = getenv("LD_PRELOAD");
		char *both = malloc(strlen(path) + (old ? strlen(old) : 0) + 2);
		if (!both)
			return -1;
		sprintf(both, "%s%s%s", path, old && *old ? ":" : "", old ? old : "");
		setenv("LD_PRELOAD", both, 1);
		free(both);
	}
	return 0;
}

static int compress_spec_ok(const char *s)
{
	char *end;

	if (strcmp(s, "zstd") == 0)
		return 1;
	if (strncmp(s, "zstd:", 5) != 0)
		return 0;
	long level = strtol(s + 5, &end, 10);
	return s[5] && !*end && level >= 1 && level <= 19;
}

static int add_file_policy(const char *rule)
{
	char pattern[512];
	size_t used = strlen(arg_file_policy);

	if (file_policy_parse(rule, pattern, sizeof(pattern)) < 0 || strchr(rule, '\n')) {
		cli_error("launch: --file-policy %s: want PATTERN=save|reopen|leave", rule);
		return -1;
	}
	if (used + strlen(rule) + 2 > sizeof(arg_file_policy)) {
		cli_error("launch: too many --file-policy rules");
		return -1;
	}
	snprintf(arg_file_policy + used, sizeof(arg_file_policy) - used, "%s%s", used ? "\n" : "",
		 rule);
	return 0;
}

int cmd_launch(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "coord", required_argument, NULL, 'c' },
		{ "ckpt-dir", required_argument, NULL, 'd' },
		{ "interval", required_argument, NULL, 'i' },
		{ "plugin", required_argument, NULL, 'p' },
		{ "file-policy", required_argument, NULL, 'f' },
		{ "forked", no_argument, NULL, 'F' },
		{ "compress", required_argument, NULL, 'z' },
		{ "incremental", no_argument, NULL, 'I' },
		{ "direct", no_argument, NULL, 'D' },
		{ "image-stream", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct coord_addr a;
	char dir[PATH_MAX];
	int c, err;

	while ((c = getopt_long(argc, argv, "+c:d:i:p:f:Fz:IDS:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': arg_coord = optarg; break;
		case 'd': arg_ckpt_dir = optarg; break;
		case 'i': arg_interval = atoi(optarg); break;
		case 'p':
			if (arg_nplugins == 32) {
				cli_error("launch: at most 32 plugins");
				return 2;
			}
			arg_plugin[arg_nplugins++] = optarg;
			break;
		case 'f':
			if (add_file_policy(optarg))
				return 2;
			break;
		case 'F': arg_forked = 1; break;
		case 'I': arg_incremental = 1; break;
		case 'D': arg_direct = 1; break;
		case 'S':
			if (!optarg[0] || strlen(optarg) >= 1024) {
				cli_error("launch: --image-stream wants a command (under 1024 bytes)");
				return 2;
			}
			arg_image_stream = optarg;
			break;
		case 'z':
			if (!compress_spec_ok(optarg)) {
				cli_error("launch: --compress %s: want zstd or zstd:LEVEL (1-19)", optarg);
				return 2;
			}
			arg_compress = optarg;
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	if (arg_image_stream && (arg_incremental || arg_direct)) {
		cli_error("launch: --image-stream does not go with --%s",
			  arg_incremental ? "incremental" : "direct");
		return 2;
	}
	if ((err = cli_ckpt_dir(arg_ckpt_dir, dir, sizeof(dir), 1))) {
		cli_error("launch: checkpoint directory: %s", strerror(-err));
		return 1;
	}
	if ((err = cli_coord_resolve(arg_coord, &a))) {
		cli_error("launch: bad coordinator address %s", arg_coord ? arg_coord : "");
		return 1;
	}
	if (cli_coord_ensure(&a, dir, arg_interval))
		return 1;
	if (arg_interval > 0) {
		int fd = cli_coord_open_ctl(&a);
		if (fd >= 0) {
			proto_send(fd, "SET interval=%d", arg_interval);
			close(fd);
		}
	}
	if (cli_runtime_env(&a, dir) || preload_plugins())
		return 1;
	if (arg_file_policy[0])
		setenv(ENV_FILE_POLICY, arg_file_policy, 1);
	if (arg_forked)
		setenv(ENV_FORKED, "1", 1);
	if (arg_compress)
		setenv(ENV_COMPRESS, arg_compress, 1);
	if (arg_incremental)
		setenv(ENV_INCREMENTAL, "1", 1);
	if (arg_direct)
		setenv(ENV_DIRECT, "1", 1);
	if (arg_image_stream)
		setenv(ENV_IMAGE_STREAM, arg_image_stream, 1);
	if (elf_is_static(argv[optind]))
		cli_error("warning: %s is statically linked: Cocoon cannot load into it, "
			  "it will not be checkpointed", argv[optind]);
	execvp(argv[optind], argv + optind);
	cli_error("launch: cannot run %s: %s", argv[optind], strerror(errno));
	return 127;
}
