/* SPDX-License-Identifier: MIT */
/*
 * treeprog: the process tree `make bench` checkpoints and restarts (part 3).
 *
 * usage: treeprog NPROC TOTAL_MIB
 *
 * The root (process 0) forks NPROC-1 children.  Child i talks to the root
 * over a socketpair (AF_UNIX, SOCK_STREAM) when i % 3 == 0, else over two
 * pipes (one each way).  Every process maps TOTAL_MIB / NPROC MiB (rounded
 * down to a page) of anonymous memory, fills it with xorshift64 output
 * seeded by its index, checksums it and writes "R I SUM" to stdout, which
 * all processes share (a pipe the bench reads).
 *
 * Then every process writes "T I" to stdout about every millisecond (a
 * tick), and the root sends every child a 16-byte message about every
 * millisecond: a sequence number and its complement.  The child checks that
 * each message is the one after the previous (none lost, duplicated or
 * damaged) and echoes it; the root checks the echoes the same way.  Every
 * write to stdout is one line shorter than PIPE_BUF, so lines never mix.
 *
 * When a process sees it has been restarted (cocoon_restart_count(), looked
 * up with dlsym so the program also runs natively) it checksums its memory
 * again, after writing its first tick.  After the restart the root waits
 * until every child has echoed VERIFY_MSGS messages sent after the root's
 * restart, then sends each child a stop message.  Each
 * process then writes "V I ok|FAIL CHECK SUM MSGS SEQERR" (CHECK: sum-ok,
 * sum-bad or not-restarted; SUM: the checksum stored in memory at launch;
 * MSGS: messages it received since the restart; SEQERR: messages out of
 * sequence over its whole life) and exits 0 if all is well, else 1; the root
 * reaps its children first and adds their exit statuses to its verdict.
 * Plain libc program; it knows nothing else about Cocoon.
 */
#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAXPROC 64
#define VERIFY_MSGS 100 /* messages each child must echo after a restart */
#define MAX_AHEAD 64    /* the root stops sending to a child this far ahead */
#define STOP UINT64_MAX

struct msg {
	uint64_t seq, check; /* check == ~seq */
};

static uint64_t checksum(const uint64_t *p, size_t nwords)
{
	uint64_t a = 1, b = 2, c = 3, d = 4;
	const uint64_t k = 0x9e3779b97f4a7c15ull;

	for (size_t i = 0; i + 4 <= nwords; i += 4) {
		a = (a ^ p[i]) * k;
		b = (b ^ p[i + 1]) * k;
		c = (c ^ p[i + 2]) * k;
		d = (d ^ p[i + 3]) * k;
	}
	return a ^ (b * 3) ^ (c * 5) ^ (d * 7);
}

static void fill_random(uint64_t *p, size_t nwords, uint64_t seed)
{
	uint64_t x = 0x2545f4914f6cdd1dull ^ (seed * 0x9e3779b97f4a7c15ull);

	for (size_t i = 0; i < nwords; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = x;
	}
}

static void die(const char *what)
{
	fprintf(stderr, "treeprog: %s: %s\n", what, strerror(errno));
	exit(2);
}

static void put(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void put(const char *fmt, ...)
{
	char line[256];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	for (int off = 0; off < n;) {
		ssize_t w = write(1, line + off, (size_t)(n - off));
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			exit(3); /* the bench stopped reading */
		off += (int)w;
	}
}

/* Write or read all of a message; 0, or -1 on EOF or error. */
static int xfer(int fd, struct msg *m, int out)
{
	char *p = (char *)m;
	size_t done = 0;

	while (done < sizeof(*m)) {
		ssize_t n = out ? write(fd, p + done, sizeof(*m) - done)
				: read(fd, p + done, sizeof(*m) - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		done += (size_t)n;
	}
	return 0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Survive checkpoint and restart with the rest of memory. */
static int me;
static uint64_t *mem;
static size_t nwords;
static uint64_t stored_sum;
static uint32_t (*restart_count)(void);
static uint32_t restarts;
static uint64_t seqerr, after_restart;
static int restarted, sum_ok = 1;

static void setup_memory(size_t len)
{
	mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		die("mmap");
	nwords = len / 8;
	fill_random(mem, nwords, (uint64_t)me + 1);
	stored_sum = checksum(mem, nwords);
	restart_count = (uint32_t(*)(void))dlsym(RTLD_DEFAULT, "cocoon_restart_count");
	restarts = restart_count ? restart_count() : 0;
	put("R %d %016llx\n", me, (unsigned long long)stored_sum);
}

/* Notes a restart; cheap, so it can run before every message is counted. */
static void check_restart(void)
{
	if (!restarted && restart_count && restart_count() != restarts)
		restarted = 1;
}

/* Once after a restart, after the first tick (restart time is not checksum
 * time): checksum memory again. */
static void check_memory(void)
{
	static int done;

	if (restarted && !done) {
		done = 1;
		sum_ok = checksum(mem, nwords) == stored_sum;
	}
}

static void verdict(int ok)
{
	ok = ok && sum_ok && seqerr == 0 && restarted;
	put("V %d %s %s %016llx %llu %llu\n", me, ok ? "ok" : "FAIL",
	    !restarted ? "not-restarted" : sum_ok ? "sum-ok" : "sum-bad", (unsigned long long)stored_sum,
	    (unsigned long long)after_restart, (unsigned long long)seqerr);
	exit(ok ? 0 : 1);
}

static void child(int rfd, int wfd)
{
	uint64_t want = 0;
	double next_tick = now();

	for (;;) {
		double t = now();
		if (t >= next_tick) {
			put("T %d\n", me);
			next_tick = t + 0.001;
		}
		check_restart();
		check_memory();
		struct pollfd pfd = { rfd, POLLIN, 0 };
		int ms = (int)((next_tick - t) * 1000.0 + 0.999);
		int r = poll(&pfd, 1, ms < 0 ? 0 : ms);
		if (r < 0 && errno != EINTR)
			die("poll");
		if (r <= 0)
			continue;
		struct msg m;
		if (xfer(rfd, &m, 0) < 0)
			exit(4); /* the root is gone */
		if (m.seq == STOP)
			verdict(1);
		if (m.seq != want || m.check != ~m.seq)
			seqerr++;
		want = m.seq + 1;
		check_restart();
		if (restarted)
			after_restart++;
		if (xfer(wfd, &m, 1) < 0)
			exit(4);
	}
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: treeprog NPROC TOTAL_MIB\n");
		return 2;
	}
	int nproc = atoi(argv[1]);
	if (nproc < 1 || nproc > MAXPROC) {
		fprintf(stderr, "treeprog: NPROC must be 1..%d\n", MAXPROC);
		return 2;
	}
	size_t len = (strtoull(argv[2], NULL, 10) << 20) / (size_t)nproc & ~(size_t)4095;

	int rfd[MAXPROC], wfd[MAXPROC]; /* the root's ends, by child */
	pid_t pids[MAXPROC];
	for (int i = 1; i < nproc; i++) {
		int crfd, cwfd;
		if (i % 3 == 0) {
			int sv[2];
			if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
				die("socketpair");
			rfd[i] = wfd[i] = sv[0];
			crfd = cwfd = sv[1];
		} else {
			int down[2], up[2];
			if (pipe(down) < 0 || pipe(up) < 0)
				die("pipe");
			wfd[i] = down[1], crfd = down[0];
			rfd[i] = up[0], cwfd = up[1];
		}
		pids[i] = fork();
		if (pids[i] < 0)
			die("fork");
		if (pids[i] == 0) {
			for (int j = 1; j <= i; j++) {
				close(rfd[j]);
				if (wfd[j] != rfd[j])
					close(wfd[j]);
			}
			me = i;
			setup_memory(len);
			child(crfd, cwfd);
		}
		close(crfd);
		if (cwfd != crfd)
			close(cwfd);
	}

	me = 0;
	setup_memory(len);
	uint64_t sent[MAXPROC] = { 0 }, echoed[MAXPROC] = { 0 }, since[MAXPROC] = { 0 };
	uint64_t first_after[MAXPROC] = { 0 };
	int snap = 0;
	double next = now();
	for (;;) {
		double t = now();
		if (t >= next) {
			put("T 0\n");
			for (int i = 1; i < nproc; i++) {
				if (sent[i] - echoed[i] >= MAX_AHEAD)
					continue;
				struct msg m = { sent[i], ~sent[i] };
				if (xfer(wfd[i], &m, 1) < 0)
					die("send");
				sent[i]++;
			}
			next = t + 0.001;
		}
		check_restart();
		check_memory();
		if (restarted && !snap) {
			/* Count only echoes of messages sent from now on: the
			 * children received them after their restart. */
			snap = 1;
			for (int i = 1; i < nproc; i++)
				first_after[i] = sent[i];
		}
		if (restarted) {
			int all = 1;
			for (int i = 1; i < nproc; i++)
				all &= since[i] >= VERIFY_MSGS;
			if (all)
				break;
		}
		struct pollfd pfd[MAXPROC];
		for (int i = 1; i < nproc; i++)
			pfd[i - 1] = (struct pollfd){ rfd[i], POLLIN, 0 };
		int ms = (int)((next - t) * 1000.0 + 0.999);
		int r = poll(pfd, (nfds_t)(nproc - 1), ms < 0 ? 0 : ms);
		if (r < 0 && errno != EINTR)
			die("poll");
		for (int i = 1; r > 0 && i < nproc; i++) {
			if (!pfd[i - 1].revents)
				continue;
			struct msg m;
			if (xfer(rfd[i], &m, 0) < 0) {
				fprintf(stderr, "treeprog: child %d hung up\n", i);
				seqerr++;
				verdict(0);
			}
			if (m.seq != echoed[i] || m.check != ~m.seq)
				seqerr++;
			echoed[i] = m.seq + 1;
			if (snap && m.seq >= first_after[i]) {
				since[i]++;
				after_restart++;
			}
		}
	}

	/* Stop every child; drain echoes still on the way so none blocks. */
	int ok = 1;
	for (int i = 1; i < nproc; i++) {
		struct msg m = { STOP, ~STOP };
		if (xfer(wfd[i], &m, 1) < 0)
			die("send stop");
		while (echoed[i] < sent[i]) {
			if (xfer(rfd[i], &m, 0) < 0 || m.seq != echoed[i])
				break;
			echoed[i]++;
		}
	}
	for (int i = 1; i < nproc; i++) {
		int st = 0;
		while (waitpid(pids[i], &st, 0) < 0) {
			if (errno != EINTR) {
				fprintf(stderr, "treeprog: waitpid %d: %s\n", (int)pids[i], strerror(errno));
				ok = 0;
				break;
			}
		}
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			fprintf(stderr, "treeprog: child %d ended with status 0x%x\n", i, st);
			ok = 0;
		}
	}
	verdict(ok);
}
