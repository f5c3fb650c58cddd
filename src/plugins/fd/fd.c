/* SPDX-License-Identifier: MIT */
/*
 * The fd plugin: every open fd of the process, discovered at checkpoint
 * from /proc/self/fd and fdinfo, saved in the "fd" section, and rebuilt at
 * the same numbers at restart.  Checkpoint half first, restore half below.
 * Runs on the checkpoint thread with user threads suspended: no malloc.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/kcmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "common/image.h"
#include <sys/stat.h>
#include <sys/vfs.h>
#include <mqueue.h>

#define MQUEUE_MAGIC 0x19800202
#include <unistd.h>

#include "common/pathmap.h"
#include "plugins/fd/anon.h"
#include "plugins/fd/external.h"
#include "plugins/fd/mqueue.h"
#include "plugins/fd/policy.h"
#include "plugins/fd/fd.h"
#include "plugins/fd/pty.h"
#include "plugins/fd/sock.h"
#include "runtime/rt.h"
#include "runtime/sys.h"

#define MAX_FDS 65536
#define STRINGS_MAX (8u << 20)

struct scan {
	struct fd_rec *recs;
	struct stat *st;
	uint32_t n;
	char *strings;
	uint32_t strings_len;
	struct { const void *p; uint64_t len; } *blobs;
	uint64_t data_len;
	struct stat std_st[3];
	int std_ok[3];
};

static const char *fd_path(int fd, char *buf, size_t cap)
{
	char link[64];

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, buf, cap - 1);
	buf[n > 0 ? n : 0] = 0;
	return buf;
}

static uint32_t add_string(struct scan *s, const char *str)
{
	size_t len = strlen(str) + 1;

	if (s->strings_len + len > STRINGS_MAX)
		return 0;
	memcpy(s->strings + s->strings_len, str, len);
	s->strings_len += (uint32_t)len;
	return s->strings_len - (uint32_t)len;
}

static int add_blob(struct scan *s, uint32_t i, const void *p, uint64_t len)
{
	s->recs[i].data_off = s->data_len;
	s->recs[i].data_len = len;
	s->blobs[i].p = p;
	s->blobs[i].len = len;
	s->data_len += len;
	return 0;
}

static int list_fds(int *fds, int cap)
{
	char buf[8192];
	int n = 0, dir = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (dir < 0)
		return -errno;
	for (;;) {
		long got = rt_sys3(SYS_getdents64, dir, buf, sizeof(buf));
		if (got <= 0)
			break;
		for (long off = 0; off < got;) {
			unsigned short reclen = *(unsigned short *)(buf + off + 16);
			const char *name = buf + off + 19;
			if (name[0] >= '0' && name[0] <= '9') {
				int fd = atoi(name);
				if (fd != dir && !rt_fd_is_ours(fd) && n < cap)
					fds[n++] = fd;
			}
			off += reclen;
		}
	}
	close(dir);
	for (int i = 1; i < n; i++) /* insertion sort: the list is nearly sorted */
		for (int j = i; j > 0 && fds[j - 1] > fds[j]; j--) {
			int t = fds[j];
			fds[j] = fds[j - 1];
			fds[j - 1] = t;
		}
	return n;
}

static int is_outside_kind(const struct stat *st, const char *path)
{
	return S_ISSOCK(st->st_mode) || S_ISFIFO(st->st_mode) ||
	       (S_ISCHR(st->st_mode) && (strncmp(path, "/dev/pts/", 9) == 0 ||
					 strncmp(path, "/dev/tty", 8) == 0 ||
					 strcmp(path, "/dev/console") == 0));
}

/* Which of the process's fds 0-2 shares this object, if it is a terminal,
 * pipe or socket (things the restart command re-attaches). */
static int std_match(struct scan *s, int fd, const struct stat *st, const char *path)
{
	if (!is_outside_kind(st, path))
		return -1;
	if (fd <= 2)
		return fd;
	for (int k = 0; k < 3; k++)
		if (s->std_ok[k] && s->std_st[k].st_dev == st->st_dev &&
		    s->std_st[k].st_ino == st->st_ino)
			return k;
	return -1;
}

static int save_content(struct scan *s, uint32_t i)
{
	int fd = s->recs[i].fd, rfd = fd;
	const struct stat *st = &s->st[i];
	uint64_t size = (uint64_t)st->st_size;
	char *buf = rt_alloc(size ? size : 1), proc[64];

	if (!buf)
		return -ENOMEM;
	if ((s->recs[i].flags & O_ACCMODE) == O_WRONLY) { /* read it through another open */
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
		rfd = open(proc, O_RDONLY | O_CLOEXEC);
	}
	for (uint64_t got = 0; got < size;) {
		ssize_t n = rfd < 0 ? -1 : pread(rfd, buf + got, size - got, (off_t)got);
		if (n <= 0) {
			cocoon_error("fd %d: cannot read the file's content: %s", fd,
				     n < 0 ? strerror(errno) : "short read");
			if (rfd != fd && rfd >= 0)
				close(rfd);
			return -EIO;
		}
		got += (uint64_t)n;
	}
	if (rfd != fd)
		close(rfd);
	return add_blob(s, i, buf, size);
}

static int same_description(struct scan *s, uint32_t i)
{
	for (uint32_t j = 0; j < i; j++) {
		if (s->st[j].st_dev != s->st[i].st_dev || s->st[j].st_ino != s->st[i].st_ino)
			continue;
		if (rt_sys5(SYS_kcmp, rt.real_pid, rt.real_pid, KCMP_FILE, s->recs[j].fd,
			    s->recs[i].fd) == 0)
			return s->recs[j].fd;
	}
	return -1;
}

static int peek_pipe(struct scan *s, uint32_t i);

static int classify(struct scan *s, uint32_t i)
{
	struct fd_rec *r = &s->recs[i];
	struct stat *st = &s->st[i];
	char path[PATH_MAX];

	fd_path(r->fd, path, sizeof(path));
	r->same_as = same_description(s, i);
	if (r->same_as >= 0) {
		r->kind = FD_SAME;
		return 0;
	}
	if (fd_external_is(r->fd, st) ||
	    (path[0] == '/' && fd_policy_for(path) == COCOON_FILE_LEAVE)) {
		r->kind = FD_EXTERNAL;
		r->path_off = add_string(s, path);
		return r->path_off ? 0 : -ENOMEM;
	}
	if (S_ISCHR(st->st_mode) && fd_pty_is_master(path)) {
		void *blob;
		long len = fd_pty_save(r->fd, &blob, &r->pipe_id);
		if (len < 0) {
			cocoon_error("fd %d (%s): %s", r->fd, path, strerror((int)-len));
			return (int)len;
		}
		r->kind = FD_PTY_MASTER;
		return add_blob(s, i, blob, (uint64_t)len);
	}
	if (S_ISCHR(st->st_mode))
		r->pipe_id = fd_pty_slave_id(path);
	r->std = std_match(s, r->fd, st, path);
	if (r->std >= 0) {
		r->kind = FD_STD;
		/* A pipe on stdio may lead to another process of the computation:
		 * the restart command decides, from every image. */
		if (S_ISFIFO(st->st_mode) && strncmp(path, "pipe:", 5) == 0) {
			r->pipe_id = st->st_ino;
			r->pipe_size = fcntl(r->fd, F_GETPIPE_SZ);
			if ((r->flags & O_ACCMODE) != O_WRONLY)
				return peek_pipe(s, i);
		}
		return 0;
	}
	if (S_ISREG(st->st_mode)) {
		struct statfs fs;
		if (fstatfs(r->fd, &fs) == 0 && fs.f_type == MQUEUE_MAGIC) {
			void *blob;
			long len = fd_mqueue_save(r->fd, &blob);
			if (len < 0) {
				cocoon_error("fd %d (POSIX message queue %s): cannot save it: %s",
					     r->fd, path, strerror((int)-len));
				return (int)len;
			}
			r->kind = FD_MQUEUE;
			r->pipe_id = fd_file_id(st->st_dev, st->st_ino, -2, -2);
			if (st->st_nlink == 0)
				((struct fd_mqueue *)blob)->mode |= FD_MQ_UNLINKED;
			r->path_off = add_string(s, path);
			return r->path_off ? add_blob(s, i, blob, (uint64_t)len) : -ENOMEM;
		}
		r->pipe_id = st->st_ino; /* for a deleted file or memfd: its mappings */
		if (strncmp(path, "/memfd:", 7) == 0) {
			r->kind = FD_MEMFD;
		} else if (st->st_nlink == 0) {
			r->kind = FD_DELETED;
		} else if (fd_policy_for(path) == COCOON_FILE_SAVE) {
			r->kind = FD_SAVED;
		} else {
			r->kind = FD_REG;
			r->pipe_id = fd_file_id(st->st_dev, st->st_ino, r->pos,
						r->flags & (O_ACCMODE | O_APPEND));
			r->path_off = add_string(s, path);
			return r->path_off ? 0 : -ENOMEM;
		}
		r->path_off = add_string(s, path);
		return r->path_off ? save_content(s, i) : -ENOMEM;
	}
	if (S_ISDIR(st->st_mode) || S_ISCHR(st->st_mode)) {
		r->kind = S_ISDIR(st->st_mode) ? FD_DIR : FD_DEV;
		r->path_off = add_string(s, path);
		return r->path_off ? 0 : -ENOMEM;
	}
	if (S_ISFIFO(st->st_mode) && strncmp(path, "pipe:", 5) == 0) {
		r->kind = FD_BROKEN; /* FD_XPIPE: see mark_shared_pipes */
		r->pipe_id = st->st_ino;
		r->pipe_size = fcntl(r->fd, F_GETPIPE_SZ);
		return 0;
	}
	if (S_ISSOCK(st->st_mode)) {
		void *blob;
		long len = fd_sock_save(r->fd, &blob);
		if (len < 0) {
			cocoon_error("fd %d (%s) cannot be checkpointed: %s", r->fd, path,
				     len == -EAFNOSUPPORT ? "socket family not supported yet"
							  : strerror((int)-len));
			return (int)len;
		}
		r->kind = FD_SOCK;
		r->pipe_id = FD_SOCK_ID(st->st_ino);
		return add_blob(s, i, blob, (uint64_t)len);
	}
	if (S_ISFIFO(st->st_mode) && path[0] == '/') {
		r->kind = FD_FIFO;
		r->pipe_id = fd_file_id(st->st_dev, st->st_ino, -1, -1);
		r->path_off = add_string(s, path);
		if (!r->path_off)
			return -ENOMEM;
		return (r->flags & O_ACCMODE) != O_WRONLY ? peek_pipe(s, i) : 0;
	}
	int anon = fd_anon_kind(path);
	if (anon) {
		void *blob;
		long len = fd_anon_save(r->fd, anon, &blob);
		if (len < 0) {
			cocoon_error("fd %d (%s): cannot read its state: %s", r->fd, path,
				     strerror((int)-len));
			return (int)len;
		}
		r->kind = (uint32_t)anon;
		return add_blob(s, i, blob, (uint64_t)len);
	}
	cocoon_error("fd %d (%s) cannot be checkpointed yet", r->fd, path);
	return -ENOTSUP;
}

/* The bytes sitting in a pipe, copied out with tee(2) without consuming
 * them (the process holding the other end keeps running its own course). */
static int peek_pipe(struct scan *s, uint32_t i)
{
	int fd = s->recs[i].fd, avail = 0, tmp[2];

	if (ioctl(fd, FIONREAD, &avail) != 0 || avail <= 0)
		return 0;
	char *buf = rt_alloc((size_t)avail);
	if (!buf || pipe2(tmp, O_CLOEXEC | O_NONBLOCK) != 0)
		return -ENOMEM;
	fcntl(tmp[1], F_SETPIPE_SZ, avail);
	ssize_t got = tee(fd, tmp[1], (size_t)avail, SPLICE_F_NONBLOCK);
	ssize_t n = got > 0 ? read(tmp[0], buf, (size_t)got) : 0;
	close(tmp[0]);
	close(tmp[1]);
	if (got < 0 || n != got) {
		cocoon_error("fd %d: cannot copy the data in its pipe: %s", fd,
			     got < 0 ? strerror(errno) : "short read");
		return -EIO;
	}
	return add_blob(s, i, buf, (uint64_t)n);
}

/* Pipe ends whose peer is not in this process are shared with another
 * process of the computation (or lead outside it): the restart command
 * sorts that out from every image. */
static int mark_shared_pipes(struct scan *s)
{
	for (uint32_t i = 0; i < s->n; i++) {
		struct fd_rec *r = &s->recs[i];
		if (r->kind != FD_BROKEN)
			continue;
		r->kind = FD_XPIPE;
		if ((r->flags & O_ACCMODE) != O_WRONLY) {
			int err = peek_pipe(s, i);
			if (err)
				return err;
		}
	}
	return 0;
}

/* A connection a plugin owns is left alone (not pushed, not waited for). */
static int external(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && fd_external_is(fd, &st);
}

/* PRECHECKPOINT: bytes a TCP sender still holds must reach the receiver's
 * queue, where it is copied.  Push them out everywhere; the barrier
 * "sockets-pushed" then waits for every process to have done so. */
static int fd_push_sockets(void)
{
	static int fds[MAX_FDS];
	int n = list_fds(fds, MAX_FDS);

	if (n < 0)
		return n;
	fd_sock_refresh_local(fds, n);
	for (int i = 0; i < n; i++)
		if (!external(fds[i]))
			fd_sock_push(fds[i]);
	return 0;
}

/* After the barrier: save the fd table. */
static int fd_save(void)
{
	static int fds[MAX_FDS];
	struct scan s = { 0 };
	int n = list_fds(fds, MAX_FDS), err;

	if (n < 0)
		return n;
	for (int i = 0; i < n; i++)
		if (!external(fds[i]) && (err = fd_sock_check_sent(fds[i])))
			return err;
	s.recs = rt_alloc(sizeof(*s.recs) * (size_t)n + 1);
	s.st = rt_alloc(sizeof(*s.st) * (size_t)n + 1);
	s.blobs = rt_alloc(sizeof(*s.blobs) * (size_t)n + 1);
	s.strings = rt_alloc(STRINGS_MAX);
	if (!s.recs || !s.st || !s.blobs || !s.strings)
		return -ENOMEM;
	s.strings_len = 1; /* offset 0 = no path */
	s.strings[0] = 0;
	for (int k = 0; k < 3; k++)
		s.std_ok[k] = fstat(k, &s.std_st[k]) == 0;
	for (int i = 0; i < n; i++) {
		struct fd_rec *r = &s.recs[s.n];
		memset(r, 0, sizeof(*r));
		r->fd = fds[i];
		r->same_as = r->std = -1;
		if (fstat(r->fd, &s.st[s.n]) != 0)
			continue; /* closed meanwhile */
		r->flags = fcntl(r->fd, F_GETFL);
		r->fdflags = fcntl(r->fd, F_GETFD);
		r->pos = lseek(r->fd, 0, SEEK_CUR);
		s.blobs[s.n].len = 0;
		if ((err = classify(&s, s.n)))
			return err;
		s.n++;
	}
	if ((err = mark_shared_pipes(&s)))
		return err;

	size_t total = sizeof(struct fd_section) + sizeof(struct fd_rec) * s.n + s.strings_len +
		       s.data_len;
	struct fd_section *sec = rt_alloc(total);
	if (!sec)
		return -ENOMEM;
	memset(sec, 0, sizeof(*sec));
	sec->magic = FD_MAGIC;
	sec->nrec = s.n;
	sec->strings_len = s.strings_len;
	sec->data_len = s.data_len;
	sec->umask = umask(022);
	umask(sec->umask);
	fd_pty_ctty(&sec->ctty_pty, &sec->fg_vpgid);
	if (!getcwd(sec->cwd, sizeof(sec->cwd)))
		sec->cwd[0] = 0;
	char *p = (char *)(sec + 1);
	memcpy(p, s.recs, sizeof(struct fd_rec) * s.n);
	p += sizeof(struct fd_rec) * s.n;
	memcpy(p, s.strings, s.strings_len);
	p += s.strings_len;
	for (uint32_t i = 0; i < s.n; i++)
		if (s.blobs[i].len) {
			memcpy(p + s.recs[i].data_off, s.blobs[i].p, s.blobs[i].len);
		}
	return cocoon_section_write(FD_SECTION, sec, total);
}

/* ---- restore half ---- */

struct restore {
	const struct fd_section *sec;
	const struct fd_rec *recs;
	const char *strings;
	const char *data;
	int ext[3];
	struct rst_pipe *shared; /* pipes the restart command made, fds lifted */
	uint32_t nshared;
};

static int move_to(int tmp, int target)
{
	if (tmp < 0)
		return -errno;
	if (tmp != target) {
		if (dup3(tmp, target, 0) < 0) {
			int e = -errno;
			close(tmp);
			return e;
		}
		close(tmp);
	}
	return 0;
}

/* Put pipe end `end` at r->fd; an O_RDWR end is the pipe opened again
 * read-write through /proc, as it was made. */
static int place_pipe_end(const struct fd_rec *r, int end)
{
	char proc[64];

	if ((r->flags & O_ACCMODE) != O_RDWR)
		return dup3(end, r->fd, 0) < 0 ? -errno : 0;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", end);
	return move_to(open(proc, O_RDWR), r->fd);
}

/* The inherited fd of a pipe the restart command recreated for the tree. */
static int shared_pipe_end(struct restore *rs, const struct fd_rec *r, int *fd_out)
{
	for (uint32_t i = 0; i < rs->nshared; i++) {
		const struct rst_pipe *p = &rs->shared[i];
		if (p->id != r->pipe_id)
			continue;
		if (fd_id_is_file(p->id))
			*fd_out = p->rfd;
		else if (fd_id_is_pty(p->id))
			*fd_out = r->kind == FD_PTY_MASTER ? p->rfd : p->wfd;
		else
			*fd_out = r->kind == FD_SOCK || (r->flags & O_ACCMODE) != O_WRONLY ? p->rfd
											  : p->wfd;
		return *fd_out >= 0 ? 0 : -EBADF;
	}
	return -ENOENT;
}

/* Shared mappings of the deleted file or memfd this fd held came back as
 * memory of their own: map the recreated file there instead, so the fd and
 * the memory are one object again.  Same bytes: a shared mapping shows the
 * file. */
static int map_again(const struct fd_rec *r)
{
	const struct img_region *reg;
	uint32_t n;

	rt_image_regions(&reg, &n);
	for (uint32_t i = 0; r->pipe_id && i < n; i++) {
		if ((reg[i].flags & (IMG_R_PRIVATE | IMG_R_FILE | IMG_R_SYSV)) ||
		    reg[i].file_ino != r->pipe_id)
			continue;
		void *p = mmap((void *)reg[i].start, reg[i].end - reg[i].start, (int)reg[i].prot,
			       MAP_SHARED | MAP_FIXED, r->fd, (off_t)reg[i].file_off);
		if (p == MAP_FAILED) {
			cocoon_error("fd %d: cannot map its file again at %lx: %s", r->fd,
				     (unsigned long)reg[i].start, strerror(errno));
			return -errno;
		}
	}
	return 0;
}

/* A file that was deleted while open comes back deleted, under its old
 * name when that is free (so /proc shows the same path), with its content
 * and its old access mode. */
static int recreate_content(struct restore *rs, const struct fd_rec *r, const char *path)
{
	char name[PATH_MAX], proc[64];
	int fd;

	snprintf(name, sizeof(name), "%s", path);
	if (r->kind == FD_MEMFD) {
		name[strcspn(name, " ")] = 0;
		fd = memfd_create(name + 7, 0);
	} else {
		char *del = strstr(name, " (deleted)");
		if (del)
			*del = 0;
		fd = open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd >= 0) {
			unlink(name);
		} else {
			char *slash = strrchr(name, '/');
			if (slash && slash != name)
				*slash = 0;
			fd = open(name, O_TMPFILE | O_RDWR, 0600);
			if (fd < 0)
				fd = open(rt.ckpt_dir, O_TMPFILE | O_RDWR, 0600);
		}
	}
	if (fd < 0)
		return -errno;
	if (write(fd, rs->data + r->data_off, r->data_len) != (ssize_t)r->data_len) {
		close(fd);
		return -EIO;
	}
	if (r->kind == FD_MEMFD || (r->flags & O_ACCMODE) == O_RDWR)
		return fd;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	int again = open(proc, r->flags & (O_ACCMODE | O_APPEND));
	close(fd);
	return again < 0 ? -errno : again;
}

/* The "save" policy: the file gets back the contents it had at the
 * checkpoint (created if it is gone). */
static int write_back(struct restore *rs, const struct fd_rec *r, const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	const char *p = rs->data + r->data_off;
	uint64_t left = r->data_len;

	if (fd < 0)
		return -errno;
	while (left) {
		ssize_t n = write(fd, p, left);
		if (n <= 0) {
			int err = n < 0 ? -errno : -EIO;
			close(fd);
			return err;
		}
		p += n;
		left -= (uint64_t)n;
	}
	return close(fd) == 0 ? 0 : -errno;
}

static int restore_one(struct restore *rs, const struct fd_rec *r)
{
	static char moved[PATH_MAX];
	const char *path = rs->strings + r->path_off;

	/* cocoon restart --path-map: the file lives somewhere else now */
	if (pathmap_apply(rt.rargs.path_map, path, moved, sizeof(moved)) == 1)
		path = moved;
	int open_flags = r->flags & (O_ACCMODE | O_APPEND | O_NONBLOCK | O_SYNC | O_DSYNC | O_NOFOLLOW |
				     O_NOATIME | O_DIRECT);
	int tmp = -1, err = 0;

	switch (r->kind) {
	case FD_SAME:
		return dup3(r->same_as, r->fd, 0) < 0 ? -errno : 0;
	case FD_STD:
		if (r->pipe_id && shared_pipe_end(rs, r, &tmp) == 0)
			return fd_id_is_pty(r->pipe_id) ? move_to(dup(tmp), r->fd)
							: place_pipe_end(r, tmp);
		tmp = rs->ext[r->std] >= 0 ? dup(rs->ext[r->std]) : open("/dev/null", O_RDWR);
		return move_to(tmp, r->fd);
	case FD_DEV:
	case FD_REG:
		if (r->pipe_id && shared_pipe_end(rs, r, &tmp) == 0) {
			err = move_to(dup(tmp), r->fd);
			break;
		}
		err = move_to(open(path, open_flags), r->fd);
		break;
	case FD_MQUEUE:
		/* The restart command made it again, with its messages. */
		if ((err = shared_pipe_end(rs, r, &tmp)) == 0)
			err = move_to(dup(tmp), r->fd);
		/* its O_NONBLOCK as read under the queue's lock (fd_mqueue.mode) */
		if (!err && r->data_len >= sizeof(struct fd_mqueue) &&
		    (((const struct fd_mqueue *)(rs->data + r->data_off))->mode & FD_MQ_NONBLOCK)) {
			struct mq_attr nb = { .mq_flags = O_NONBLOCK };
			rt_sys3(SYS_mq_getsetattr, r->fd, &nb, NULL);
		}
		break;
	case FD_FIFO:
		/* The restart command holds the FIFO open: no open blocks. */
		err = move_to(open(path, (r->flags & (O_ACCMODE | O_APPEND)) | O_NONBLOCK), r->fd);
		if (!err)
			fcntl(r->fd, F_SETFL, r->flags & (O_APPEND | O_NONBLOCK));
		break;
	case FD_PTY_MASTER:
		if ((err = shared_pipe_end(rs, r, &tmp)) == 0)
			err = move_to(dup(tmp), r->fd);
		break;
	case FD_DIR:
		err = move_to(open(path, O_RDONLY | O_DIRECTORY), r->fd);
		break;
	case FD_SAVED:
		err = write_back(rs, r, path);
		if (!err)
			err = move_to(open(path, open_flags), r->fd);
		break;
	case FD_DELETED:
	case FD_MEMFD:
		tmp = recreate_content(rs, r, path);
		err = tmp < 0 ? tmp : move_to(tmp, r->fd);
		if (!err && (r->flags & O_APPEND))
			fcntl(r->fd, F_SETFL, O_APPEND);
		if (!err)
			err = map_again(r);
		break;
	case FD_SOCK:
		if ((err = shared_pipe_end(rs, r, &tmp)) == 0)
			err = dup3(tmp, r->fd, 0) < 0 ? -errno : 0;
		if (!err)
			fcntl(r->fd, F_SETFL, r->flags & O_NONBLOCK);
		break;
	case FD_XPIPE:
		if ((err = shared_pipe_end(rs, r, &tmp)) == 0)
			err = place_pipe_end(r, tmp);
		if (!err)
			fcntl(r->fd, F_SETFL, r->flags & O_NONBLOCK);
		break;
	case FD_EXTERNAL:
		err = move_to(open("/dev/null", O_RDWR), r->fd);
		break;
	case FD_EVENTFD:
	case FD_TIMERFD:
	case FD_SIGNALFD:
	case FD_EPOLL:
	case FD_INOTIFY:
		tmp = fd_anon_create((int)r->kind, r->flags, rs->data + r->data_off, r->data_len);
		err = tmp < 0 ? tmp : move_to(tmp, r->fd);
		break;
	default:
		err = -EINVAL;
	}
	if (err) {
		cocoon_error("cannot restore fd %d (%s): %s", r->fd, path[0] ? path : "pipe",
			     strerror(-err));
		return err;
	}
	if (r->kind == FD_REG || r->kind == FD_DIR || r->kind == FD_DELETED || r->kind == FD_SAVED ||
	    r->kind == FD_MEMFD)
		if (r->pos >= 0 && !(r->flags & O_APPEND) && lseek(r->fd, 0, SEEK_CUR) != r->pos)
			lseek(r->fd, r->pos, SEEK_SET);
	return 0;
}

/* Everything from the image is checked before use. */
static int section_valid(const struct fd_section *sec, size_t len)
{
	if (len < sizeof(*sec) || sec->magic != FD_MAGIC || sec->nrec > MAX_FDS)
		return 0;
	uint64_t need = sizeof(*sec) + (uint64_t)sec->nrec * sizeof(struct fd_rec) +
			sec->strings_len + sec->data_len;
	if (need != len || sec->cwd[sizeof(sec->cwd) - 1])
		return 0;
	const struct fd_rec *recs = (const void *)(sec + 1);
	const char *strings = (const char *)(recs + sec->nrec);
	if (sec->strings_len && strings[sec->strings_len - 1])
		return 0;
	for (uint32_t i = 0; i < sec->nrec; i++) {
		const struct fd_rec *r = &recs[i];
		if (r->fd < 0 || rt_fd_is_ours(r->fd) || r->path_off >= sec->strings_len + !sec->strings_len ||
		    r->data_off > sec->data_len || r->data_len > sec->data_len - r->data_off ||
		    (r->kind == FD_SAME && (r->same_as < 0 || r->same_as >= r->fd)) ||
		    (r->kind == FD_STD && (r->std < 0 || r->std > 2)))
			return 0;
	}
	return 1;
}

/* Move fd above every number the program will get back; -1 stays -1. */
static int lift(int fd, int top)
{
	if (fd < 0)
		return -1;
	int n = fcntl(fd, F_DUPFD_CLOEXEC, top);
	close(fd);
	return n;
}

static int fd_restore(void)
{
	size_t len = 0;
	const struct fd_section *sec = cocoon_section_read(FD_SECTION, &len);
	struct restore rs;
	struct rst_table *t = rt.rtable;
	int err = 0, top = 3;

	if (!sec)
		return 0;
	if (!section_valid(sec, len)) {
		cocoon_error("the fd table in the image is damaged");
		return -EINVAL;
	}
	rs.sec = sec;
	rs.recs = (const void *)(sec + 1);
	rs.strings = (const char *)(rs.recs + sec->nrec);
	rs.data = rs.strings + sec->strings_len;
	rs.nshared = t ? t->npipes : 0;
	rs.shared = rt_alloc(sizeof(*rs.shared) * (rs.nshared + 1));
	if (!rs.shared)
		return -ENOMEM;
	/* What we keep from before (the restart command's stdio, the pipes it
	 * made for the tree) moves above every fd number the program had; then
	 * everything below goes. */
	for (uint32_t i = 0; i < sec->nrec; i++)
		if (rs.recs[i].fd >= top)
			top = rs.recs[i].fd + 1;
	for (int k = 0; k < 3; k++)
		rs.ext[k] = fcntl(k, F_DUPFD_CLOEXEC, top);
	for (uint32_t i = 0; i < rs.nshared; i++) {
		rs.shared[i] = rst_table_pipes(t)[i];
		rs.shared[i].rfd = lift(rs.shared[i].rfd, top);
		rs.shared[i].wfd = lift(rs.shared[i].wfd, top);
	}
	rt_sys3(SYS_close_range, 0, top - 1, 0);
	char cwd[PATH_MAX];
	const char *dir = sec->cwd;
	if (pathmap_apply(rt.rargs.path_map, dir, cwd, sizeof(cwd)) == 1)
		dir = cwd;
	if (dir[0] && chdir(dir) != 0)
		rt_warn("cannot return to working directory %s: %s", dir, strerror(errno));
	umask(sec->umask);
	for (uint32_t i = 0; i < sec->nrec && !err; i++) {
		err = restore_one(&rs, &rs.recs[i]);
		if (!err && rs.recs[i].kind != FD_SAME)
			fcntl(rs.recs[i].fd, F_SETFD, rs.recs[i].fdflags);
	}
	fd_pty_restore_foreground(sec->ctty_pty, sec->fg_vpgid);
	/* Epoll sets watch other fds: fill them once all are back. */
	for (uint32_t i = 0; i < sec->nrec && !err; i++)
		if (rs.recs[i].kind == FD_EPOLL)
			err = fd_anon_epoll_fill(rs.recs[i].fd, rs.data + rs.recs[i].data_off,
						 rs.recs[i].data_len);
	for (uint32_t i = 0; i < rs.nshared; i++) {
		if (rs.shared[i].rfd >= 0)
			close(rs.shared[i].rfd);
		if (rs.shared[i].wfd >= 0)
			close(rs.shared[i].wfd);
	}
	for (int k = 0; k < 3; k++)
		if (rs.ext[k] >= 0)
			close(rs.ext[k]);
	return err;
}

static int fd_event(enum cocoon_event ev, void *arg)
{
	if (ev == COCOON_EV_INIT)
		fd_policy_init();
	if (ev == COCOON_EV_PRECHECKPOINT)
		return fd_push_sockets();
	if (ev == COCOON_EV_RESTART)
		return fd_restore();
	return 0;
}

static const struct cocoon_barrier fd_barriers[] = {
	{ COCOON_EV_PRECHECKPOINT, "sockets-pushed", COCOON_BARRIER_GLOBAL, fd_save },
	{ 0, NULL, 0, NULL },
};

const struct cocoon_plugin rt_plugin_fd = {
	.api_version = COCOON_API_VERSION,
	.name = "fd",
	.event = fd_event,
	.barriers = fd_barriers,
};
