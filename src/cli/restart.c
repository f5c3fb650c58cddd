/* SPDX-License-Identifier: MIT */
/*
 * cocoon restart: bring a computation back from its latest complete
 * generation (or from the given images).  Every image is validated here,
 * while nothing has changed yet, so a bad one costs a message, not a
 * half-restored process.  Then this process execs the restorer on the image
 * and so keeps its pid for the restored program.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/config.h"
#include "common/image.h"
#include "common/manifest.h"
#include "common/proto.h"
#include "cli/restart-tree.h"
#include "common/pathmap.h"
#include "common/restart.h"
#include "plugins/fd/fd.h"
#include "plugins/signal/sysv.h"

int cli_ckpt_dir(const char *arg, char *out, size_t cap, int create);
int cli_runtime_env(const struct coord_addr *a, const char *ckpt_dir);

static const char *arg_coord, *arg_ckpt_dir;
static char arg_env[8192]; /* --setenv / --unsetenv, one per line */
static char arg_path_map[4096]; /* --path-map OLD=NEW, one per line */
static int arg_fast;
static const char *arg_image_stream;
static char ckpt_dir[PATH_MAX]; /* absolute (cli_ckpt_dir) */

static void usage(FILE *f)
{
	fprintf(f, "usage: cocoon restart [--coord HOST:PORT] [--ckpt-dir DIR] [--fast] [--setenv NAME=VALUE]...\n"
		   "                      [--unsetenv NAME]... [--path-map /OLD=/NEW]...\n"
		   "                      [--image-stream CMD] [IMAGE...]\n"
		   "Restart the latest complete generation in DIR (default $%s, else ./%s),\n"
		   "or the given images, in the foreground.  The exit status is the program's.\n"
		   "--fast maps the program's memory straight from the image: it runs again\n"
		   "at once and pages come in when first touched (their checksums are not\n"
		   "verified; cocoon inspect --verify does).  --setenv/--unsetenv change the\n"
		   "restored processes' environment; --path-map moves open files, the working\n"
		   "directory, mapped files and later opens of paths under OLD to NEW.\n"
		   "--image-stream: each image is what sh -c CMD writes to its stdout, run\n"
		   "with $COCOON_IMAGE its name (gen-G/NAME.img, from DIR's MANIFEST).\n",
		   ENV_CKPT_DIR, COCOON_DEFAULT_CKPT_DIR);
}

/*
 * Pages of a private file mapping that were never loaded are not in the
 * image: they come from the file again.  If that file changed (a library
 * rebuilt or upgraded), the restored program would run a mix of old and new
 * bytes, so refuse.  Returns 1 (message printed) when one changed.
 */
static int files_changed(const char *image, const struct img_header *h,
			 const struct img_meta *m)
{
	for (uint32_t i = 0; i < h->nregions; i++) {
		const struct img_region *r = &m->regions[i];
		const char *file = m->strings + r->path_off;
		char moved[PATH_MAX];
		struct stat st;
		if (pathmap_apply(arg_path_map, file, moved, sizeof(moved)) == 1)
			file = moved;
		if (!(r->flags & IMG_R_NEED_FILE) || !r->file_ino)
			continue;
		if (stat(file, &st) != 0) {
			cli_error("restart: image %s needs %s: %s", image, file, strerror(errno));
			return 1;
		}
		uint64_t mtime = (uint64_t)st.st_mtim.tv_sec * 1000000000ull +
				 (uint64_t)st.st_mtim.tv_nsec;
		if (st.st_ino != r->file_ino || (uint64_t)st.st_size != r->file_size ||
		    mtime != r->file_mtime_ns) {
			cli_error("restart: image %s: %s changed since the checkpoint "
				  "(restored code would mix old and new)", image, file);
			return 1;
		}
	}
	return 0;
}

/* The sections the restart command needs (checksums verified): "fd" for
 * the pipes the tree shares, "pid" for the zombies it recreates. */
static int read_fd_section(int fd, const char *path, const struct img_header *h,
			   const struct img_meta *m, struct tree_node *n)
{
	for (uint32_t i = 0; i < h->nsections; i++) {
		const struct img_section *s = &m->sections[i];
		int is_fd = strncmp(s->name, FD_SECTION, sizeof(s->name)) == 0;
		int is_pid = strncmp(s->name, PID_SECTION, sizeof(s->name)) == 0;
		int is_sysv = strncmp(s->name, SYSV_SECTION, sizeof(s->name)) == 0;
		if (!is_fd && !is_pid && !is_sysv)
			continue;
		void *buf = malloc(s->len ? s->len : 1);
		if (!buf || pread(fd, buf, s->len, (off_t)s->off) != (ssize_t)s->len ||
		    img_sum(buf, s->len) != s->sum) {
			cli_error("restart: image %s: fd section %s", path,
				  img_strerror(IMG_E_DATA_SUM));
			free(buf);
			return -1;
		}
		if (is_fd) {
			n->fd_section = buf;
			n->fd_section_len = s->len;
		} else if (is_sysv) {
			n->sysv = buf;
			n->sysv_len = s->len;
		} else {
			n->zombies = buf;
			n->nzombies = (int)(s->len / sizeof(struct pid_zombie));
		}
	}
	return 0;
}

/* The System V segments the process had attached, made anew by the tree. */
static int note_sysv_shm(const struct img_header *h, const struct img_meta *m,
			 struct tree_node *n)
{
	for (uint32_t i = 0; i < h->nregions; i++) {
		const struct img_region *r = &m->regions[i];
		if (!(r->flags & IMG_R_SYSV))
			continue;
		struct tree_shm *s = realloc(n->shm, sizeof(*s) * (size_t)(n->nshm + 1));
		if (!s) {
			cli_error("restart: out of memory");
			return -1;
		}
		n->shm = s;
		n->shm[n->nshm++] = (struct tree_shm){ (int32_t)r->file_ino, (int32_t)r->file_off,
						       r->file_size, (uint32_t)r->file_mtime_ns };
	}
	return 0;
}

/* An incremental image's earlier images, opened for the restorer (and
 * decompressed if need be).  Their paths are relative to the checkpoint
 * directory, the parent of the image's generation directory; each must be
 * the very file the image was written against (its header checksum and
 * size as stored). */
static int open_deps(const char *path, const struct img_header *h, const struct img_meta *m,
		     struct tree_node *n)
{
	char dep[PATH_MAX];
	const char *end = path + strlen(path);
	int slashes = 0;

	while (end > path && slashes < 2)
		slashes += *--end == '/';
	if (h->ndeps && slashes < 2) {
		cli_error("restart: image %s: an incremental image must be in its generation "
			  "directory", path);
		return -1;
	}
	n->dep_fds = calloc(h->ndeps + 1, sizeof(int));
	if (!n->dep_fds) {
		cli_error("restart: out of memory");
		return -1;
	}
	for (uint32_t i = 0; i < h->ndeps; i++) {
		const struct img_dep *d = &m->deps[i];
		struct img_header dh;
		struct stat st;
		int err, fd;
		snprintf(dep, sizeof(dep), "%.*s/%s", (int)(end - path), path, d->path);
		fd = open(dep, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			cli_error("restart: image %s needs the earlier image %s, which cannot be "
				  "opened: %s", path, d->path, strerror(errno));
			return -1;
		}
		int same = fstat(fd, &st) == 0 && pread(fd, &dh, sizeof(dh), 0) == sizeof(dh) &&
			   dh.header_sum == d->header_sum &&
			   (uint64_t)st.st_size == (dh.flags & IMG_F_ZSTD ? dh.stored_size :
									d->file_size);
		close(fd);
		if (!same) {
			cli_error("restart: image %s needs the earlier image %s, which is not the "
				  "one it was written against", path, d->path);
			return -1;
		}
		if ((fd = cli_image_open(dep, &err, NULL)) < 0) {
			cli_error("restart: image %s: earlier image %s: %s", path, d->path,
				  err ? img_strerror(err) : strerror(-fd));
			return -1;
		}
		n->dep_fds[n->ndeps++] = fd;
	}
	return 0;
}

/* Check header and metadata of one image; print one line when bad. */
static int validate(const char *path, struct tree_node *n)
{
	struct img_header *h = &n->h;
	struct stat st;
	struct img_meta m;
	void *meta = NULL;
	int err, fd;

	if (arg_image_stream) {
		/* its name under the checkpoint directory, as the writer gave it */
		size_t len = strlen(ckpt_dir);
		const char *name = strncmp(path, ckpt_dir, len) == 0 && path[len] == '/' ?
					   path + len + 1 : path;
		if ((fd = cli_image_stream(arg_image_stream, name, ckpt_dir)) < 0)
			return -1;
		fd = cli_image_prepare(fd, 1, &err, &n->in_memory);
	} else {
		fd = cli_image_open(path, &err, &n->in_memory);
	}

	if (fd < 0 && err)
		goto bad;
	if (fd < 0) {
		cli_error("restart: image %s: %s", path, strerror(-fd));
		return -1;
	}
	memset(h, 0, sizeof(*h));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		cli_error("restart: image %s: not a regular file", path);
		goto err_close;
	}
	if (pread(fd, h, sizeof(*h), 0) < 0) {
		cli_error("restart: image %s: %s", path, strerror(errno));
		goto err_close;
	}
	if ((err = img_header_check(h, (uint64_t)st.st_size)))
		goto bad;
	meta = malloc(h->meta_len ? h->meta_len : 1);
	if (!meta || pread(fd, meta, h->meta_len, (off_t)h->meta_off) != (ssize_t)h->meta_len) {
		err = IMG_E_SHORT;
		goto bad;
	}
	if ((err = img_meta_check(h, meta, &m)))
		goto bad;
	if (files_changed(path, h, &m) || read_fd_section(fd, path, h, &m, n) ||
	    note_sysv_shm(h, &m, n) || open_deps(path, h, &m, n))
		goto err_free;
	free(meta);
	n->image_fd = fd; /* the restorer reads it through /proc/self/fd */
	return 0;
bad:
	cli_error("restart: image %s: %s", path, img_strerror(err));
err_free:
	free(meta);
err_close:
	if (fd >= 0)
		close(fd);
	return -1;
}

/* The images of the latest complete generation in dir. */
static int latest_images(const char *dir, struct manifest *m)
{
	char gen_dir[PATH_MAX];
	struct stat st;
	int err;

	if (stat(dir, &st) != 0) {
		cli_error("restart: checkpoint directory %s: %s", dir, strerror(errno));
		return -1;
	}
	err = ckpt_latest_gen_dir(dir, gen_dir, sizeof(gen_dir));
	if (err) {
		cli_error("restart: no complete checkpoint in %s (%s)", dir,
			  err == -ENOENT ? "no 'latest'" : strerror(-err));
		return -1;
	}
	err = manifest_read(gen_dir, m);
	if (err) {
		cli_error("restart: %s/%s: %s", gen_dir, CKPT_MANIFEST,
			  err == -EBADMSG ? "malformed manifest" : strerror(-err));
		return -1;
	}
	if (m->n == 0) {
		cli_error("restart: %s lists no images", gen_dir);
		manifest_free(m);
		return -1;
	}
	return 0;
}

int cmd_restart(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "coord", required_argument, NULL, 'c' },
		{ "ckpt-dir", required_argument, NULL, 'd' },
		{ "setenv", required_argument, NULL, 's' },
		{ "unsetenv", required_argument, NULL, 'u' },
		{ "path-map", required_argument, NULL, 'm' },
		{ "fast", no_argument, NULL, 'f' },
		{ "image-stream", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct manifest m;
	struct tree_node *nodes;
	struct coord_addr a;
	char restorer[PATH_MAX];
	int c, err;

	while ((c = getopt_long(argc, argv, "+c:d:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': arg_coord = optarg; break;
		case 'd': arg_ckpt_dir = optarg; break;
		case 's':
		case 'u':
			if ((c == 's') != (strchr(optarg, '=') != NULL) || strchr(optarg, '\n') ||
			    optarg[0] == '=' ||
			    strlen(arg_env) + strlen(optarg) + 2 > sizeof(arg_env)) {
				cli_error("restart: bad --%s %s", c == 's' ? "setenv" : "unsetenv", optarg);
				return 2;
			}
			strcat(arg_env, optarg);
			strcat(arg_env, "\n");
			break;
		case 'm': {
			const char *eq = strchr(optarg, '=');
			if (!eq || optarg[0] != '/' || eq[1] != '/' || strchr(optarg, '\n') ||
			    strlen(arg_path_map) + strlen(optarg) + 2 > sizeof(arg_path_map)) {
				cli_error("restart: bad --path-map %s (want /OLD=/NEW)", optarg);
				return 2;
			}
			strcat(arg_path_map, optarg);
			strcat(arg_path_map, "\n");
			break;
		}
		case 'f': arg_fast = 1; break;
		case 'S': arg_image_stream = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if ((err = cli_ckpt_dir(arg_ckpt_dir, ckpt_dir, sizeof(ckpt_dir), 0))) {
		cli_error("restart: checkpoint directory: %s", strerror(-err));
		return 1;
	}
	manifest_init(&m);
	if (optind < argc) {
		for (int i = optind; i < argc; i++) {
			struct manifest_image im = { 0 };
			snprintf(im.path, sizeof(im.path), "%s", argv[i]);
			manifest_add(&m, &im);
		}
	} else if (latest_images(ckpt_dir, &m)) {
		return 1;
	}
	nodes = calloc((size_t)m.n, sizeof(*nodes));
	if (!nodes) {
		cli_error("restart: out of memory");
		return 1;
	}
	for (int i = 0; i < m.n; i++) {
		nodes[i].image = m.img[i].path;
		if (validate(m.img[i].path, &nodes[i]))
			return 1;
		/* Decompressed into memory already (its zstd checksum held): the
		 * restorer maps it rather than copy it again, as with --fast. */
		arg_fast |= nodes[i].in_memory;
	}
	if (cli_coord_resolve(arg_coord, &a)) {
		cli_error("restart: bad coordinator address %s", arg_coord ? arg_coord : "");
		return 1;
	}
	if (mkdir(ckpt_dir, 0700) != 0 && errno != EEXIST) {
		cli_error("restart: cannot create %s: %s", ckpt_dir, strerror(errno));
		return 1;
	}
	if (cli_coord_ensure(&a, ckpt_dir, 0))
		return 1;
	/* This connection stays open in every process of the tree until it is
	 * back (HELLO): if it closes earlier, the coordinator knows that a
	 * restorer failed and ends the restart at once. */
	int watch_fd = cli_coord_open_ctl(&a);
	if (watch_fd >= 0)
		proto_send(watch_fd, "RESTART gen=%llu procs=%d watch=1",
			   (unsigned long long)nodes[0].h.generation, m.n);
	if (cli_runtime_env(&a, ckpt_dir))
		return 1;
	if (arg_env[0])
		setenv(ENV_RESTART_ENV, arg_env, 1);
	if (arg_path_map[0])
		setenv(ENV_PATH_MAP, arg_path_map, 1);
	if (arg_fast)
		setenv(ENV_RESTART_FAST, "1", 1);
	snprintf(restorer, sizeof(restorer), "%s/../lib/cocoon/cocoon-restore", cli_self_dir());
	return restart_tree(nodes, m.n, restorer, watch_fd);
}
