/* SPDX-License-Identifier: MIT */
/*
 * cocoon restart, second half: recreate the process tree of a generation.
 *
 * This process becomes the root of the tree.  Before anything execs, it
 * creates the pipes the processes shared (with the bytes that were in them)
 * and the restart table (a memfd), then forks the tree: every process forks
 * its own children (so each parent can wait for its children again), takes
 * its session and process group, writes its new real pid into the table and
 * execs the restorer on its image.  Processes whose parent was outside the
 * computation (orphans) are forked through an intermediate that exits.
 * Everything is inherited, so no process needs to pass fds to another.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <mqueue.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/restart-tree.h"
#include "common/image.h"
#include "common/pathmap.h"
#include "common/restart.h"
#include "plugins/fd/fd.h"

struct xpipe {
	uint64_t id;
	int readers, writers;
	int off_stdio; /* holders that are not fds 0-2 */
	int std;       /* a holder had it as stdio fd std (0-2), else -1 */
	int size;
	const char *data; /* bytes a reader saw in it, owned by the fd section */
	uint64_t len;
};

struct xfile {
	uint64_t id;
	const char *path;
	int flags, holders, last_node;
	int64_t pos;
};

struct xfifo {
	uint64_t id;
	const char *path;
	const char *data;
	uint64_t len;
};

struct xpty {
	uint64_t id;
	const struct fd_pty *saved;
};

struct tree {
	struct tree_node *nodes;
	int n;
	int nzombies; /* table entries after the n nodes */
	struct xpipe *pipes;
	int npipes, cap;
	struct xpty ptys[64];
	int nptys;
	struct xfile *files;
	int nfiles, capfiles;
	struct xfifo fifos[64];
	int nfifos;
	struct rst_pipe mqs[64]; /* message queues, made by scan_fds already */
	int nmqs;
	struct rst_table *table;
	int table_fd;
	int watch_fd; /* see restart_tree */
	const char *restorer;
};

static struct xpipe *find_pipe(struct tree *t, uint64_t id)
{
	for (int i = 0; i < t->npipes; i++)
		if (t->pipes[i].id == id)
			return &t->pipes[i];
	if (t->npipes == t->cap) {
		int cap = t->cap ? t->cap * 2 : 16;
		struct xpipe *p = realloc(t->pipes, sizeof(*p) * (size_t)cap);
		if (!p)
			return NULL;
		t->pipes = p;
		t->cap = cap;
	}
	struct xpipe *p = &t->pipes[t->npipes++];
	memset(p, 0, sizeof(*p));
	p->id = id;
	p->std = -1;
	return p;
}

static const char *strings_of(const struct fd_section *sec)
{
	return (const char *)((const struct fd_rec *)(sec + 1) + sec->nrec);
}

/*
 * A POSIX message queue, by name: made again, or emptied if it is still
 * there (queues outlive their processes), then given the saved messages.
 * Its fd is inherited by the tree (one description for all holders); a
 * name the program had removed is removed again.  Once per queue.
 */
static int queue_again(struct tree *t, uint64_t id, const char *name, const char *blob,
		       uint64_t len)
{
	const struct fd_mqueue *q = (const void *)blob;
	char drain[65536];

	for (int i = 0; i < t->nmqs; i++)
		if (t->mqs[i].id == id)
			return 0;
	if (len < sizeof(*q) || q->len != len - sizeof(*q) || q->msgsize <= 0 ||
	    q->msgsize > (int64_t)sizeof(drain) || t->nmqs == 64)
		return -EBADMSG;
	struct mq_attr attr = { .mq_maxmsg = q->maxmsg, .mq_msgsize = q->msgsize };
	mqd_t m = mq_open(name, O_CREAT | O_RDWR | O_NONBLOCK, (mode_t)(q->mode & 0777), &attr);
	if (m == (mqd_t)-1) {
		fprintf(stderr, "cocoon: restart: cannot make message queue %s: %s\n", name,
			strerror(errno));
		return -errno;
	}
	while (mq_receive(m, drain, sizeof(drain), NULL) >= 0)
		; /* what was sent after the checkpoint */
	const char *p = (const char *)(q + 1), *end = p + q->len;
	for (uint32_t i = 0; i < q->nmsg; i++) {
		const struct fd_mq_msg *msg = (const void *)p;
		if (p + sizeof(*msg) > end || msg->len > (uint64_t)(end - p) - sizeof(*msg) ||
		    mq_send(m, (const char *)(msg + 1), msg->len, msg->prio) != 0) {
			mq_close(m);
			return -EBADMSG;
		}
		p += sizeof(*msg) + ((msg->len + 7) & ~7u);
	}
	if (q->mode & FD_MQ_UNLINKED)
		mq_unlink(name);
	struct mq_attr blocking = { .mq_flags = 0 };
	mq_setattr(m, &blocking, NULL); /* the holders set O_NONBLOCK as they had it */
	fcntl((int)m, F_SETFD, 0); /* glibc opens it close-on-exec; the tree inherits it */
	t->mqs[t->nmqs++] = (struct rst_pipe){ id, (int)m, -1 };
	return 0;
}

/* A named pipe: held open by this command while the tree restores (so no
 * open of it blocks), with the bytes a reader saw put back. */
static int note_fifo(struct tree *t, const struct fd_rec *r, const char *strings,
		     const char *data)
{
	for (int i = 0; i < t->nfifos; i++) {
		if (t->fifos[i].id != r->pipe_id)
			continue;
		if (!t->fifos[i].len && r->data_len) {
			t->fifos[i].data = data;
			t->fifos[i].len = r->data_len;
		}
		return 0;
	}
	if (t->nfifos == (int)(sizeof(t->fifos) / sizeof(t->fifos[0])))
		return -E2BIG;
	t->fifos[t->nfifos++] = (struct xfifo){ r->pipe_id, strings + r->path_off, data,
						r->data_len };
	return 0;
}

static int open_fifos(struct tree *t, struct rst_pipe *out)
{
	for (int i = 0; i < t->nfifos; i++) {
		struct xfifo *f = &t->fifos[i];
		char moved[PATH_MAX];
		const char *path = f->path;
		if (pathmap_apply(getenv(ENV_PATH_MAP), path, moved, sizeof(moved)) == 1)
			path = moved;
		int fd = open(path, O_RDWR | O_NONBLOCK);
		if (fd < 0) {
			fprintf(stderr, "cocoon: restart: cannot reopen FIFO %s: %s\n", path,
				strerror(errno));
			return -errno;
		}
		if (f->len && write(fd, f->data, f->len) != (ssize_t)f->len)
			return -EIO;
		out[i] = (struct rst_pipe){ f->id, fd, -1 };
	}
	return 0;
}

/* A regular file description, counted once per process holding it. */
static int note_file(struct tree *t, struct tree_node *n, const struct fd_rec *r,
		     const char *strings)
{
	int node = (int)(n - t->nodes);

	for (int i = 0; i < t->nfiles; i++) {
		if (t->files[i].id != r->pipe_id)
			continue;
		if (t->files[i].last_node != node)
			t->files[i].holders++;
		t->files[i].last_node = node;
		return 0;
	}
	if (t->nfiles == t->capfiles) {
		int cap = t->capfiles ? t->capfiles * 2 : 16;
		struct xfile *f = realloc(t->files, sizeof(*f) * (size_t)cap);
		if (!f)
			return -ENOMEM;
		t->files = f;
		t->capfiles = cap;
	}
	t->files[t->nfiles++] = (struct xfile){ r->pipe_id, strings + r->path_off, r->flags, 1,
						node, r->pos };
	return 0;
}

/* Files held by several processes: open once, at the offset, inherited. */
static int open_shared_files(struct tree *t, struct rst_pipe *out)
{
	int k = 0;

	for (int i = 0; i < t->nfiles; i++) {
		struct xfile *f = &t->files[i];
		if (f->holders < 2)
			continue;
		char moved[PATH_MAX];
		const char *path = f->path;
		if (pathmap_apply(getenv(ENV_PATH_MAP), path, moved, sizeof(moved)) == 1)
			path = moved;
		int fd = open(path, f->flags & (O_ACCMODE | O_APPEND | O_NONBLOCK | O_SYNC |
						 O_DSYNC | O_NOFOLLOW | O_NOATIME | O_DIRECT));
		if (fd < 0) {
			fprintf(stderr, "cocoon: restart: cannot reopen %s: %s\n", path,
				strerror(errno));
			return -errno;
		}
		lseek(fd, f->pos, SEEK_SET);
		out[k++] = (struct rst_pipe){ f->id, fd, -1 };
	}
	return 0;
}

static int shared_files(const struct tree *t)
{
	int n = 0;

	for (int i = 0; i < t->nfiles; i++)
		n += t->files[i].holders >= 2;
	return n;
}

/* Read the fd section of one image and note the pipes it shares. */
static int scan_fds(struct tree *t, struct tree_node *n)
{
	const struct fd_section *sec = n->fd_section;
	size_t len = n->fd_section_len;

	if (!sec)
		return 0;
	if (len < sizeof(*sec) || sec->magic != FD_MAGIC ||
	    (uint64_t)sec->nrec * sizeof(struct fd_rec) > len - sizeof(*sec) ||
	    sizeof(*sec) + (uint64_t)sec->nrec * sizeof(struct fd_rec) + sec->strings_len +
			    sec->data_len != len)
		return -EBADMSG;
	const struct fd_rec *recs = (const void *)(sec + 1);
	const char *data = (const char *)(recs + sec->nrec) + sec->strings_len;
	for (uint32_t i = 0; i < sec->nrec; i++) {
		const struct fd_rec *r = &recs[i];
		if (r->data_off > sec->data_len || r->data_len > sec->data_len - r->data_off)
			return -EBADMSG;
		if (r->kind == FD_PTY_MASTER) {
			int known = 0;
			for (int k = 0; k < t->nptys; k++)
				known |= t->ptys[k].id == r->pipe_id;
			if (r->data_len < sizeof(struct fd_pty) || (!known && t->nptys == 64))
				return -EBADMSG;
			if (!known)
				t->ptys[t->nptys++] = (struct xpty){ r->pipe_id,
								     (const void *)(data + r->data_off) };
			continue;
		}
		if (r->kind == FD_MQUEUE) {
			int err = queue_again(t, r->pipe_id, strings_of(sec) + r->path_off,
					      data + r->data_off, r->data_len);
			if (err)
				return err;
			continue;
		}
		if (r->kind == FD_FIFO) {
			int err = note_fifo(t, r, (const char *)(recs + sec->nrec),
					    data + r->data_off);
			if (err)
				return err;
			continue;
		}
		if (r->kind == FD_REG && r->pipe_id) {
			int err = note_file(t, n, r, (const char *)(recs + sec->nrec));
			if (err)
				return err;
			continue;
		}
		if (r->kind == FD_SOCK) {
			int err = sockets_add((const void *)(data + r->data_off), r->data_len);
			if (err)
				return err;
			continue;
		}
		if (r->kind != FD_XPIPE &&
		    !(r->kind == FD_STD && r->pipe_id && !fd_id_is_pty(r->pipe_id)))
			continue;
		struct xpipe *p = find_pipe(t, r->pipe_id);
		if (!p)
			return -ENOMEM;
		if ((r->flags & O_ACCMODE) != O_WRONLY) {
			p->readers++;
			if (r->data_len && !p->data) {
				p->data = data + r->data_off;
				p->len = r->data_len;
			}
		}
		if ((r->flags & O_ACCMODE) != O_RDONLY)
			p->writers++;
		if (r->pipe_size > p->size)
			p->size = r->pipe_size;
		p->off_stdio += r->kind == FD_XPIPE;
		if (r->kind == FD_STD && p->std < 0)
			p->std = r->std;
	}
	return 0;
}

/* Which pipes the tree gets: those with both ends inside the computation,
 * and those held off stdio (a lone end then sees EOF or EPIPE, or this
 * command's stdio when a holder had it as stdio).  A pipe only on stdio with
 * its other end outside is the restart command's own stdio's business. */
static void keep_internal_pipes(struct tree *t)
{
	int k = 0;

	for (int i = 0; i < t->npipes; i++) {
		struct xpipe *x = &t->pipes[i];
		if ((x->readers && x->writers) || x->off_stdio)
			t->pipes[k++] = *x;
	}
	t->npipes = k;
}

/* One pipe per shared pipe id, holding its bytes; ends nobody holds are
 * closed (a reader whose writer was outside the computation sees EOF).  A
 * pipe to the outside that some process had as stdio is this command's own
 * stdio for every holder. */
static int make_pipes(struct tree *t, struct rst_pipe *out)
{
	for (int i = 0; i < t->npipes; i++) {
		struct xpipe *x = &t->pipes[i];
		int p[2];
		if (!(x->readers && x->writers) && x->std >= 0) {
			out[i].id = x->id;
			out[i].rfd = x->readers ? dup(x->std) : -1;
			out[i].wfd = x->writers ? dup(x->std) : -1;
			continue;
		}
		if (pipe(p) != 0)
			return -errno;
		if (x->size > 0)
			fcntl(p[1], F_SETPIPE_SZ, x->size);
		if (x->len && write(p[1], x->data, x->len) != (ssize_t)x->len)
			return -EIO;
		out[i].id = x->id;
		out[i].rfd = p[0];
		out[i].wfd = p[1];
		if (!x->readers) {
			close(p[0]);
			out[i].rfd = -1;
		}
		if (!x->writers) {
			close(p[1]);
			out[i].wfd = -1;
		}
	}
	return 0;
}

/* A new pty for each one whose master a process held, set up as it was. */
static int make_ptys(struct tree *t, struct rst_pipe *out)
{
	for (int i = 0; i < t->nptys; i++) {
		char name[64];
		int m = open("/dev/ptmx", O_RDWR | O_NOCTTY), s = -1;
		if (m < 0 || grantpt(m) || unlockpt(m) || ptsname_r(m, name, sizeof(name)) ||
		    (s = open(name, O_RDWR | O_NOCTTY)) < 0)
			return -errno;
		tcsetattr(s, TCSANOW, &t->ptys[i].saved->termios);
		ioctl(m, TIOCSWINSZ, &t->ptys[i].saved->winsize);
		out[i] = (struct rst_pipe){ t->ptys[i].id, m, s };
	}
	return 0;
}

/* One System V segment per segment any process had attached: the old one
 * when it still exists unattached (segments outlive their processes),
 * otherwise a new one, keyed when the key is free.  The restorer attaches it at the old address and loads its
 * pages; the runtime translates ids. */
static int make_sysv_shm(struct tree *t)
{
	struct rst_shm *out = rst_table_shm(t->table);
	uint32_t k = 0;

	for (int i = 0; i < t->n; i++) {
		for (int j = 0; j < t->nodes[i].nshm; j++) {
			const struct tree_shm *s = &t->nodes[i].shm[j];
			int seen = 0;
			for (uint32_t q = 0; q < k; q++)
				seen |= out[q].old_id == s->id;
			if (seen)
				continue;
			int perms = (int)(s->mode & 0777), id = -1;
			struct shmid_ds ds;
			/* Segments outlive their processes: the old one, ours, of the
			 * same size and attached by nobody, is taken again as it is. */
			if (shmctl(s->id, IPC_STAT, &ds) == 0 && ds.shm_segsz == s->size &&
			    ds.shm_perm.uid == geteuid() && ds.shm_nattch == 0)
				id = s->id;
			else if (s->key != IPC_PRIVATE) {
				id = shmget(s->key, s->size, perms);
				if (id != s->id)
					id = shmget(s->key, s->size, IPC_CREAT | IPC_EXCL | perms);
			}
			if (id < 0)
				id = shmget(IPC_PRIVATE, s->size, IPC_CREAT | perms);
			if (id < 0) {
				fprintf(stderr, "cocoon: restart: cannot make System V shared memory "
						"of %llu bytes: %s\n", (unsigned long long)s->size,
					strerror(errno));
				return -errno;
			}
			out[k++] = (struct rst_shm){ s->id, id, (s->mode & SHM_DEST) != 0, RST_SYSV_SHM };
		}
	}
	int err = sysv_make(t->nodes, t->n, out, &k);
	t->table->nshm = k;
	return err;
}

static int make_table(struct tree *t)
{
	uint32_t nobj = (uint32_t)(t->npipes + sockets_count() + t->nptys + shared_files(t) +
				   t->nfifos + t->nmqs);
	uint32_t nshm = 0;
	for (int i = 0; i < t->n; i++)
		nshm += (uint32_t)(t->nodes[i].nshm + sysv_count(&t->nodes[i]));
	uint64_t size = rst_table_size((uint32_t)(t->n + t->nzombies), nobj, nshm);
	int fd = memfd_create("cocoon-restart", 0), err;

	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)size) != 0)
		goto err_close;
	t->table = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (t->table == MAP_FAILED)
		goto err_close;
	t->table->magic = RST_TABLE_MAGIC;
	t->table->nprocs = (uint32_t)(t->n + t->nzombies);
	t->table->nimages = (uint32_t)t->n;
	t->table->npipes = nobj;
	if ((err = make_sysv_shm(t)))
		return err;
	for (int i = 0; i < t->n; i++) {
		struct tree_node *n = &t->nodes[i];
		rst_table_procs(t->table)[i] = (struct rst_proc){ n->h.vpid, 0 };
		for (int z = 0; z < n->nzombies; z++)
			rst_table_procs(t->table)[n->first_zombie + z] =
				(struct rst_proc){ n->zombies[z].vpid, 0 };
	}
	if ((err = make_pipes(t, rst_table_pipes(t->table))) ||
	    (err = sockets_make(rst_table_pipes(t->table) + t->npipes)) ||
	    (err = make_ptys(t, rst_table_pipes(t->table) + t->npipes + sockets_count())) ||
	    (err = open_shared_files(t, rst_table_pipes(t->table) + t->npipes + sockets_count() +
						t->nptys)) ||
	    (err = open_fifos(t, rst_table_pipes(t->table) + t->npipes + sockets_count() +
				     t->nptys + shared_files(t))))
		return err;
	memcpy(rst_table_pipes(t->table) + nobj - t->nmqs, t->mqs, sizeof(t->mqs[0]) * (size_t)t->nmqs);
	t->table_fd = fd;
	return 0;
err_close:
	err = -errno;
	close(fd);
	return err;
}

static int node_of(struct tree *t, int vpid)
{
	for (int i = 0; i < t->n; i++)
		if (t->nodes[i].h.vpid == vpid)
			return i;
	return -1;
}

/* Session and process group as at the checkpoint, where they can be had. */
static void take_groups(struct tree *t, struct tree_node *n)
{
	if (n->h.vsid == n->h.vpid) {
		setsid();
		return;
	}
	if (n->h.vpgid == n->h.vpid) {
		setpgid(0, 0);
		return;
	}
	int leader = node_of(t, n->h.vpgid);
	if (leader >= 0) {
		int pid = rst_table_procs(t->table)[leader].pid;
		if (pid > 0)
			setpgid(0, pid);
	}
}

/* A session leader whose controlling terminal was a pty of the tree gets
 * the new one as controlling terminal again. */
static void take_terminal(struct tree *t, struct tree_node *n)
{
	const struct fd_section *sec = n->fd_section;

	if (!sec || sec->ctty_pty < 0 || n->h.vsid != n->h.vpid)
		return;
	struct rst_pipe *p = rst_table_pipes(t->table);
	for (uint32_t i = 0; i < t->table->npipes; i++)
		if (p[i].id == FD_PTY_ID(sec->ctty_pty) && p[i].wfd >= 0)
			ioctl(p[i].wfd, TIOCSCTTY, 0);
}

static void registered(struct tree *t, int idx)
{
	rst_table_procs(t->table)[idx].pid = getpid();
	__atomic_add_fetch(&t->table->ready, 1, __ATOMIC_RELEASE);
	syscall(SYS_futex, &t->table->ready, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

/* A child that had exited unreaped: exit again, the same way, at once. */
static __attribute__((noreturn)) void zombie(struct tree *t, int idx, const struct pid_zombie *z)
{
	registered(t, idx);
	if (z->code == CLD_EXITED)
		_exit(z->status);
	struct rlimit none = { 0, 0 };
	setrlimit(RLIMIT_CORE, &none);
	signal(z->status, SIG_DFL);
	sigset_t all;
	sigfillset(&all);
	sigprocmask(SIG_UNBLOCK, &all, NULL);
	raise(z->status);
	_exit(128 + z->status);
}

static __attribute__((noreturn)) void become(struct tree *t, int idx, int is_root)
{
	struct tree_node *n = &t->nodes[idx];

	if (!is_root) {
		take_groups(t, n);
		take_terminal(t, n);
	}
	registered(t, idx);
	for (int i = 0; i < t->n; i++) {
		if (t->nodes[i].parent != idx)
			continue;
		pid_t pid = fork();
		if (pid == 0)
			become(t, i, 0);
		if (pid < 0)
			fprintf(stderr, "cocoon: restart: cannot fork process %d: %s\n",
				t->nodes[i].h.vpid, strerror(errno));
	}
	for (int z = 0; z < n->nzombies; z++)
		if (fork() == 0)
			zombie(t, n->first_zombie + z, &n->zombies[z]);
	/* The restorer reads the image through our fd (decompressed if it was
	 * compressed) and tells the program the image's real path. */
	char fdpaths[IMG_MAX_DEPS + 1][40];
	char *argv[IMG_MAX_DEPS + 4] = { "cocoon-restore", fdpaths[0], n->image };
	snprintf(fdpaths[0], sizeof(fdpaths[0]), "/proc/self/fd/%d", n->image_fd);
	fcntl(n->image_fd, F_SETFD, 0);
	for (int d = 0; d < n->ndeps; d++) { /* then its earlier images, in order */
		snprintf(fdpaths[d + 1], sizeof(fdpaths[d + 1]), "/proc/self/fd/%d", n->dep_fds[d]);
		fcntl(n->dep_fds[d], F_SETFD, 0);
		argv[3 + d] = fdpaths[d + 1];
	}
	argv[3 + n->ndeps] = NULL;
	execv(t->restorer, argv);
	fprintf(stderr, "cocoon: restart: cannot run the restorer %s: %s\n", t->restorer,
		strerror(errno));
	_exit(127);
}

/* The root: the process with the most descendants among those whose parent
 * was not part of the computation (ties: the lowest vpid). */
static int pick_root(struct tree *t)
{
	int best = -1, best_count = -1;

	for (int i = 0; i < t->n; i++) {
		if (t->nodes[i].parent >= 0)
			continue;
		int count = 0;
		for (int j = 0; j < t->n; j++)
			for (int k = t->nodes[j].parent; k >= 0; k = t->nodes[k].parent)
				if (k == i) {
					count++;
					break;
				}
		if (count > best_count ||
		    (count == best_count && t->nodes[i].h.vpid < t->nodes[best].h.vpid)) {
			best = i;
			best_count = count;
		}
	}
	return best;
}

/* The fds the tree inherits: the table, the shared objects it lists, the
 * images and their earlier images (each process passes its own to its
 * restorer). */
static int inherited(const struct tree *t, int fd)
{
	const struct rst_pipe *p = rst_table_pipes(t->table);

	if (fd == t->table_fd || fd == t->watch_fd)
		return 1;
	for (uint32_t i = 0; i < t->table->npipes; i++)
		if (fd == p[i].rfd || fd == p[i].wfd)
			return 1;
	for (int i = 0; i < t->n; i++) {
		if (fd == t->nodes[i].image_fd)
			return 1;
		for (int d = 0; d < t->nodes[i].ndeps; d++)
			if (fd == t->nodes[i].dep_fds[d])
				return 1;
	}
	return 0;
}

/* Close every fd above 2 except the ones the tree inherits. */
static void close_others(struct tree *t)
{
	int keep_max = 2;

	for (int fd = 3; fd < 65536; fd++)
		if (inherited(t, fd))
			keep_max = fd;
	for (int fd = 3; fd <= keep_max; fd++)
		if (!inherited(t, fd))
			close(fd);
	syscall(SYS_close_range, keep_max + 1, ~0u, 0);
}

int restart_tree(struct tree_node *nodes, int n, const char *restorer, int watch_fd)
{
	struct tree t = { .nodes = nodes, .n = n, .table_fd = -1, .watch_fd = watch_fd,
			  .restorer = restorer };
	char fdstr[16];
	int err;

	for (int i = 0; i < n; i++) {
		nodes[i].first_zombie = n + t.nzombies;
		t.nzombies += nodes[i].nzombies;
		nodes[i].parent = node_of(&t, nodes[i].h.vppid);
		if (nodes[i].parent == i)
			nodes[i].parent = -1;
		if ((err = scan_fds(&t, &nodes[i]))) {
			fprintf(stderr, "cocoon: restart: image %s: bad fd table\n", nodes[i].image);
			return 1;
		}
	}
	keep_internal_pipes(&t);
	int root = pick_root(&t);
	if (root < 0) {
		fprintf(stderr, "cocoon: restart: the images form no tree (a parent loop?)\n");
		return 1;
	}
	if ((err = make_table(&t))) {
		fprintf(stderr, "cocoon: restart: cannot prepare the restart: %s\n", strerror(-err));
		return 1;
	}
	snprintf(fdstr, sizeof(fdstr), "%d", t.table_fd);
	setenv(ENV_RESTART_TABLE, fdstr, 1);
	if (watch_fd >= 0) {
		fcntl(watch_fd, F_SETFD, 0);
		snprintf(fdstr, sizeof(fdstr), "%d", watch_fd);
		setenv(ENV_RESTART_WATCH, fdstr, 1);
	}
	close_others(&t);
	/* Orphans first, through an intermediate that exits at once. */
	for (int i = 0; i < n; i++) {
		if (nodes[i].parent >= 0 || i == root)
			continue;
		pid_t mid = fork();
		if (mid == 0) {
			if (fork() == 0)
				become(&t, i, 0);
			_exit(0);
		}
		if (mid > 0)
			waitpid(mid, NULL, 0);
	}
	become(&t, root, 1);
}
