// SPDX-License-Identifier: MIT
/*
 * tree OUTDIR NPROC STEPS: a tree of NPROC processes, for
 * tests/pending/tree20.sh.
 *
 * Node k's parent is node (k - 1) / 3: the root (node 0) forks 3 children,
 * each of them up to 3 more, and so on, NPROC in all.  Every node holds a
 * pipe to its parent, counts STEPS + 10 * k steps (one every ~2 ms; the
 * count every 25 steps in OUTDIR/p.K), and sends its parent one 'h' byte
 * every 100 steps, which the parent reads only at the end, so the pipes hold
 * data all along.  Then each node reads its children's pipes to end of
 * stream, checks their heartbeats, reaps them, checks that its getpid() and
 * getppid() are what they were at the start, and reports upward
 * "R <sum of counts> <processes> <errors>\n": the leaves their own count,
 * the others the sum of their subtree.  The root writes
 * "total=... procs=... errors=..." to OUTDIR/result (and stdout) and exits 0
 * if there was no error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *outdir;
static int nproc, steps;

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "tree[%d]: ", (int)getpid());
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die("write: %s", strerror(errno));
		buf += n;
		len -= (size_t)n;
	}
}

static void nap(long usec)
{
	struct timespec ts = { 0, usec * 1000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int node_steps(int k)
{
	return steps + 10 * k;
}

/* Read a child's pipe to its end: heartbeats, then its report. */
static void read_child(int k, int fd, long *sum, long *procs, long *errors)
{
	char buf[4096], *r;
	size_t len = 0;
	long hb = 0, s, p, e;

	for (;;) {
		ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("node %d: read: %s", k, strerror(errno));
		if (n == 0)
			break;
		len += (size_t)n;
		if (len == sizeof(buf) - 1)
			die("node %d: child pipe overflow", k);
	}
	buf[len] = 0;
	r = strchr(buf, 'R');
	if (!r || sscanf(r, "R %ld %ld %ld\n", &s, &p, &e) != 3) {
		fprintf(stderr, "tree: node %d sent no report (%zu bytes)\n", k, len);
		(*errors)++;
		return;
	}
	for (char *c = buf; c < r; c++)
		hb += *c == 'h';
	if (hb != r - buf || hb != node_steps(k) / 100) {
		fprintf(stderr, "tree: node %d: %ld heartbeats in %ld bytes, want %d\n", k, hb,
			(long)(r - buf), node_steps(k) / 100);
		(*errors)++;
	}
	*sum += s;
	*procs += p;
	*errors += e;
}

/* The node a just forked child is to run: set by run_node(), used by main(). */
static int next_k, next_up;
static pid_t next_parent;

/* Run node k; returns 1 only in a just forked child, which is to run next_k. */
static int run_node(int k, int up, pid_t parent)
{
	pid_t me = getpid(), kid[3];
	int kfd[3], nkids = 0, pfd, mysteps = node_steps(k);
	long sum = 0, procs = 1, errors = 0;
	char path[4096], line[64];

	snprintf(path, sizeof(path), "%s/p.%d", outdir, k);
	pfd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (pfd < 0)
		die("%s: %s", path, strerror(errno));
	for (int c = 3 * k + 1; c <= 3 * k + 3 && c < nproc; c++) {
		int p[2];

		if (pipe2(p, O_CLOEXEC) < 0)
			die("pipe: %s", strerror(errno));
		fflush(NULL);
		kid[nkids] = fork();
		if (kid[nkids] < 0)
			die("fork: %s", strerror(errno));
		if (kid[nkids] == 0) {
			/* only the write end toward this node stays open */
			close(p[0]);
			close(pfd);
			for (int i = 0; i < nkids; i++)
				close(kfd[i]);
			if (up >= 0)
				close(up);
			next_k = c;
			next_up = p[1];
			next_parent = me;
			return 1;
		}
		close(p[1]);
		kfd[nkids++] = p[0];
	}
	for (int i = 1; i <= mysteps; i++) {
		if (i % 100 == 0 && up >= 0)
			write_all(up, "h", 1);
		if (i % 25 == 0 || i == mysteps) {
			int n = snprintf(line, sizeof(line), "%8d\n", i);

			if (pwrite(pfd, line, (size_t)n, 0) != n)
				die("%s: %s", path, strerror(errno));
		}
		nap(2000);
	}
	sum = mysteps;
	for (int i = 0; i < nkids; i++) {
		int st;
		pid_t p;

		read_child(3 * k + 1 + i, kfd[i], &sum, &procs, &errors);
		close(kfd[i]);
		while ((p = waitpid(kid[i], &st, 0)) < 0 && errno == EINTR)
			;
		if (p != kid[i] || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			fprintf(stderr, "tree: node %d: child %d (pid %d) ended badly (%d, 0x%x)\n", k,
				3 * k + 1 + i, (int)kid[i], (int)p, p == kid[i] ? st : 0);
			errors++;
		}
	}
	if (getpid() != me) {
		fprintf(stderr, "tree: node %d: getpid() %d, was %d\n", k, (int)getpid(), (int)me);
		errors++;
	}
	if (k > 0 && getppid() != parent) {
		fprintf(stderr, "tree: node %d: getppid() %d, was %d\n", k, (int)getppid(),
			(int)parent);
		errors++;
	}
	close(pfd);
	if (k > 0) {
		int n = snprintf(line, sizeof(line), "R %ld %ld %ld\n", sum, procs, errors);

		write_all(up, line, (size_t)n);
		exit(0);
	}
	snprintf(line, sizeof(line), "total=%ld procs=%ld errors=%ld", sum, procs, errors);
	snprintf(path, sizeof(path), "%s/result", outdir);
	FILE *f = fopen(path, "w");

	if (!f || fprintf(f, "%s\n", line) < 0 || fclose(f) != 0)
		die("%s: %s", path, strerror(errno));
	printf("%s\n", line);
	exit(errors ? 1 : 0);
}

int main(int argc, char **argv)
{
	if (argc != 4)
		die("usage: tree OUTDIR NPROC STEPS");
	outdir = argv[1];
	nproc = atoi(argv[2]);
	steps = atoi(argv[3]);
	if (nproc < 1 || steps < 1)
		die("bad arguments");
	next_k = 0;
	next_up = -1;
	next_parent = getppid();
	while (run_node(next_k, next_up, next_parent))
		;
	return 0;
}
