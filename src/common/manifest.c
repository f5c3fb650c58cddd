/* SPDX-License-Identifier: MIT */
/*
 * Checkpoint directory and MANIFEST reading/writing (see manifest.h).
 * Runs in the cocoon command and the coordinator; linked into the runtime
 * too but not used from its signal paths.  Values in image lines are
 * percent-encoded exactly like protocol values, so proto_parse() reads them.
 */
#include "common/manifest.h"
#include "common/config.h"
#include "common/proto.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void manifest_init(struct manifest *m)
{
	memset(m, 0, sizeof(*m));
}

void manifest_free(struct manifest *m)
{
	free(m->img);
	manifest_init(m);
}

int manifest_add(struct manifest *m, const struct manifest_image *im)
{
	if (m->n == m->cap) {
		int cap = m->cap ? m->cap * 2 : 8;
		if (cap > MANIFEST_MAX_IMAGES)
			cap = MANIFEST_MAX_IMAGES;
		if (m->n == cap)
			return -E2BIG;
		void *p = realloc(m->img, (size_t)cap * sizeof(*m->img));
		if (!p)
			return -ENOMEM;
		m->img = p;
		m->cap = cap;
	}
	m->img[m->n++] = *im;
	return 0;
}

static int join(char *out, size_t cap, const char *dir, const char *name)
{
	int n = snprintf(out, cap, "%s/%s", dir, name);
	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

static int copy_str(char *out, size_t cap, const char *s)
{
	size_t n = strlen(s);
	if (n + 1 > cap)
		return -EBADMSG;
	memcpy(out, s, n + 1);
	return 0;
}

/* One "image k=v ..." line (already split by proto_parse). */
static int parse_image(const struct proto_msg *pm, const char *gen_dir,
		       struct manifest_image *im)
{
	const char *host = proto_get(pm, "host"), *name = proto_get(pm, "name");
	const char *path = proto_get(pm, "path");

	memset(im, 0, sizeof(*im));
	im->vpid = proto_get_int(pm, "vpid", -1);
	im->vppid = proto_get_int(pm, "vppid", 0);
	if (im->vpid <= 0 || !path || !*path)
		return -EBADMSG;
	if (copy_str(im->host, sizeof(im->host), host ? host : "") ||
	    copy_str(im->name, sizeof(im->name), name ? name : ""))
		return -EBADMSG;
	if (path[0] == '/')
		return copy_str(im->path, sizeof(im->path), path);
	return join(im->path, sizeof(im->path), gen_dir, path) ? -EBADMSG : 0;
}

static int parse_line(char *line, int lineno, const char *gen_dir, struct manifest *m)
{
	struct proto_msg pm;
	struct manifest_image im;
	char tail;
	int r;

	if (lineno == 1) {
		int v;
		if (sscanf(line, MANIFEST_MAGIC " %d %c", &v, &tail) != 1 || v != MANIFEST_VERSION)
			return -EBADMSG;
		return 0;
	}
	if (strncmp(line, "generation ", 11) == 0)
		return sscanf(line + 11, "%llu %c", &m->gen, &tail) == 1 ? 0 : -EBADMSG;
	if (strncmp(line, "time ", 5) == 0)
		return sscanf(line + 5, "%lld %c", &m->time, &tail) == 1 ? 0 : -EBADMSG;
	if (strncmp(line, "needs ", 6) == 0) {
		unsigned long long g;
		return sscanf(line + 6, "%llu %c", &g, &tail) == 1 ? manifest_need(m, g) : -EBADMSG;
	}
	if (strncmp(line, "image ", 6) != 0)
		return 0; /* unknown lines: from a newer writer, ignore */
	if (proto_parse(line, &pm))
		return -EBADMSG;
	r = parse_image(&pm, gen_dir, &im);
	return r ? r : manifest_add(m, &im);
}

int manifest_read(const char *gen_dir, struct manifest *m)
{
	char path[4096], line[PROTO_LINE_MAX];
	int lineno = 0, r = 0;
	FILE *f;

	manifest_init(m);
	if (join(path, sizeof(path), gen_dir, CKPT_MANIFEST))
		return -ENAMETOOLONG;
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		size_t len = strlen(line);
		if (len && line[len - 1] == '\n')
			line[--len] = 0;
		else if (!feof(f))
			r = -EBADMSG; /* over-long line */
		lineno++;
		if (!r)
			r = parse_line(line, lineno, gen_dir, m);
		if (r)
			break;
	}
	if (!r && ferror(f))
		r = -EIO;
	if (!r && (lineno == 0 || m->gen == 0))
		r = -EBADMSG;
	fclose(f);
	if (r)
		manifest_free(m);
	return r;
}

/* Write, fsync and rename tmp over name in dir; then fsync dir. */
static int commit_file(const char *dir, const char *name, const char *data, size_t len)
{
	char tmp[4096], final[4096];
	int fd, r = 0;

	if (join(final, sizeof(final), dir, name) ||
	    snprintf(tmp, sizeof(tmp), "%s.tmp", final) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	while (len) {
		ssize_t w = write(fd, data, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			r = -errno;
			goto err_unlink;
		}
		data += w;
		len -= (size_t)w;
	}
	if (fsync(fd) < 0) {
		r = -errno;
		goto err_unlink;
	}
	close(fd);
	fd = -1;
	if (rename(tmp, final) < 0) {
		r = -errno;
		goto err_unlink;
	}
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
err_unlink:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return r;
}

/* The name to store for path: its base name when it lies directly in gen_dir. */
static const char *stored_path(const char *gen_dir, const char *path)
{
	size_t n = strlen(gen_dir);

	while (n > 1 && gen_dir[n - 1] == '/')
		n--;
	if (strncmp(path, gen_dir, n) == 0 && path[n] == '/' && path[n + 1] &&
	    !strchr(path + n + 1, '/'))
		return path + n + 1;
	return path;
}

static int append(char **buf, size_t *len, size_t *cap, const char *s)
{
	size_t n = strlen(s);

	if (*len + n + 1 > *cap) {
		size_t c = (*cap ? *cap : 4096);
		while (*len + n + 1 > c)
			c *= 2;
		char *p = realloc(*buf, c);
		if (!p)
			return -ENOMEM;
		*buf = p;
		*cap = c;
	}
	memcpy(*buf + *len, s, n + 1);
	*len += n;
	return 0;
}

int manifest_write(const char *gen_dir, const struct manifest *m)
{
	char line[PROTO_LINE_MAX], host[800], name[800], path[PROTO_LINE_MAX - 1700];
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int r;

	snprintf(line, sizeof(line), "%s %d\ngeneration %llu\ntime %lld\n", MANIFEST_MAGIC,
		 MANIFEST_VERSION, m->gen, m->time);
	r = append(&buf, &len, &cap, line);
	for (int i = 0; !r && i < m->nneeds; i++) {
		snprintf(line, sizeof(line), "needs %llu\n", m->needs[i]);
		r = append(&buf, &len, &cap, line);
	}
	for (int i = 0; !r && i < m->n; i++) {
		const struct manifest_image *im = &m->img[i];
		proto_escape(im->host, host, sizeof(host));
		proto_escape(im->name, name, sizeof(name));
		if (!*proto_escape(stored_path(gen_dir, im->path), path, sizeof(path))) {
			r = -ENAMETOOLONG;
			break;
		}
		snprintf(line, sizeof(line), "image vpid=%lld vppid=%lld host=%s name=%s path=%s\n",
			 im->vpid, im->vppid, host, name, path);
		r = append(&buf, &len, &cap, line);
	}
	if (!r)
		r = commit_file(gen_dir, CKPT_MANIFEST, buf, len);
	free(buf);
	return r;
}

int manifest_need(struct manifest *m, unsigned long long g)
{
	for (int i = 0; i < m->nneeds; i++)
		if (m->needs[i] == g)
			return 0;
	if (m->nneeds == MANIFEST_MAX_NEEDS)
		return -E2BIG;
	m->needs[m->nneeds++] = g;
	return 0;
}

int ckpt_parse_gen_name(const char *name, unsigned long long *gen)
{
	const char *p = name + 4;
	unsigned long long g = 0;

	if (strncmp(name, "gen-", 4) != 0 || !*p || strlen(p) > 18)
		return -EINVAL;
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		g = g * 10 + (unsigned)(*p - '0');
	}
	*gen = g;
	return 0;
}

int ckpt_gen_dir(const char *ckpt_dir, unsigned long long gen, char *out, size_t cap)
{
	int n = snprintf(out, cap, "%s/" CKPT_GEN_FMT, ckpt_dir, gen);
	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

int ckpt_read_latest(const char *ckpt_dir, unsigned long long *gen)
{
	char path[4096], buf[64];
	ssize_t n;
	int fd;

	if (join(path, sizeof(path), ckpt_dir, CKPT_LATEST))
		return -ENAMETOOLONG;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return -EIO;
	buf[n] = 0;
	if (n > 0 && buf[n - 1] == '\n')
		buf[n - 1] = 0;
	return ckpt_parse_gen_name(buf, gen) ? -EBADMSG : 0;
}

int ckpt_latest_gen_dir(const char *ckpt_dir, char *out, size_t cap)
{
	unsigned long long gen;
	struct stat st;
	int r = ckpt_read_latest(ckpt_dir, &gen);

	if (r)
		return r;
	r = ckpt_gen_dir(ckpt_dir, gen, out, cap);
	if (r)
		return r;
	if (stat(out, &st) < 0)
		return -errno;
	return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

int ckpt_write_latest(const char *ckpt_dir, unsigned long long gen)
{
	char buf[64];
	int n = snprintf(buf, sizeof(buf), CKPT_GEN_FMT "\n", gen);

	return commit_file(ckpt_dir, CKPT_LATEST, buf, (size_t)n);
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if ((flag == FTW_DP ? rmdir(path) : unlink(path)) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

static int remove_tree(const char *path)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	int r = nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS);
	return r < 0 ? -errno : -r;
}

int ckpt_remove_gen(const char *ckpt_dir, unsigned long long gen)
{
	char path[4096];

	if (ckpt_gen_dir(ckpt_dir, gen, path, sizeof(path)))
		return -ENAMETOOLONG;
	return remove_tree(path);
}

static int is_complete(const char *ckpt_dir, const char *name)
{
	char path[4096];
	struct stat st;

	if (snprintf(path, sizeof(path), "%s/%s/%s", ckpt_dir, name, CKPT_MANIFEST) >=
	    (int)sizeof(path))
		return 0;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* The KEEP-th newest complete generation, 0 when there are fewer. */
static int prune_threshold(const char *ckpt_dir, int keep, unsigned long long *thr)
{
	unsigned long long top[16] = { 0 }, g;
	struct dirent *de;
	DIR *d = opendir(ckpt_dir);

	if (!d)
		return -errno;
	if (keep > 16)
		keep = 16;
	while ((de = readdir(d))) {
		if (ckpt_parse_gen_name(de->d_name, &g) || !is_complete(ckpt_dir, de->d_name))
			continue;
		/* insert g into the descending list top[0..keep) */
		for (int i = 0; i < keep; i++) {
			if (g > top[i]) {
				memmove(&top[i + 1], &top[i], (size_t)(keep - i - 1) * sizeof(g));
				top[i] = g;
				break;
			}
		}
	}
	closedir(d);
	*thr = top[keep - 1];
	return 0;
}

/* Is generation g needed by one that is kept (>= thr)? */
static int needed(const char *ckpt_dir, unsigned long long thr, unsigned long long g)
{
	char gen_dir[4096];
	struct dirent *de;
	unsigned long long k;
	int found = 0;
	DIR *d = opendir(ckpt_dir);

	while (d && !found && (de = readdir(d))) {
		struct manifest m;
		if (ckpt_parse_gen_name(de->d_name, &k) || k < thr)
			continue;
		if (join(gen_dir, sizeof(gen_dir), ckpt_dir, de->d_name) || manifest_read(gen_dir, &m))
			continue;
		for (int i = 0; i < m.nneeds; i++)
			found |= m.needs[i] == g;
		manifest_free(&m);
	}
	if (d)
		closedir(d);
	return found;
}

int ckpt_prune(const char *ckpt_dir, int keep)
{
	unsigned long long thr = 0, latest = 0, g;
	struct dirent *de;
	int removed = 0, r;
	DIR *d;

	if (keep < 1)
		return -EINVAL;
	r = prune_threshold(ckpt_dir, keep, &thr);
	if (r || thr == 0)
		return r;
	ckpt_read_latest(ckpt_dir, &latest);
	d = opendir(ckpt_dir);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (ckpt_parse_gen_name(de->d_name, &g) || g >= thr || g == latest ||
		    needed(ckpt_dir, thr, g))
			continue;
		char path[4096];
		if (join(path, sizeof(path), ckpt_dir, de->d_name) == 0 && remove_tree(path) == 0)
			removed++;
	}
	closedir(d);
	return removed;
}
