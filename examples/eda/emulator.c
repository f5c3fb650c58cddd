/* SPDX-License-Identifier: MIT */
/*
 * emulator: stands in for a hardware emulator, a daemon outside the
 * computation.  It holds one design's state (design.h), serves one client
 * at a time on 127.0.0.1 and runs cycles slowly (--cycle-us per cycle,
 * slept per batch).  Line protocol, one reply line per request:
 *
 *   RESET <seed>           OK cycle=0
 *   RUN <cycles>           OK cycle=<c>
 *   READ r<i>              OK <value>          WRITE r<i> <v>    OK
 *   PEEK <addr>            OK <value>          POKE <addr> <v>   OK
 *   FLIP <bit>             OK                  (registers, then memory)
 *   SAVE <path>            OK cycle=<c>        (atomic, mode 0600)
 *   LOAD <path>            OK cycle=<c>        (validated first)
 *   STATUS                 OK cycle=<c> sum=<16 hex digits>
 *
 * Anything wrong gets `ERR <reason>`.  Usage:
 *   emulator [--port N] [--cycle-us U]   prints "PORT <n>" once listening
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "design.h"
#include "eda-net.h"
#include "emu-statefile.h"

#define BATCH_CYCLES 1000
#define MAX_RUN_CYCLES 1000000000ull
#define REPLY_MAX 4600

_Static_assert(DESIGN_BITS == 524800, "update the FLIP usage message");

static volatile sig_atomic_t stopping;
static struct design state;
static unsigned long cycle_us = 20;

static void on_signal(int sig)
{
	stopping = sig;
}

/* An unsigned number (decimal or 0x hex) no larger than max; 0 or -1. */
static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end || v > max)
		return -1;
	*out = v;
	return 0;
}

static int parse_reg(const char *s, unsigned *reg)
{
	uint64_t v;

	if (!s || s[0] != 'r' || s[1] < '0' || s[1] > '9' || parse_u64(s + 1, DESIGN_REGS - 1, &v))
		return -1;
	*reg = (unsigned)v;
	return 0;
}

static int parse_addr(const char *s, unsigned *word)
{
	uint64_t v;

	if (parse_u64(s, DESIGN_MEM_BYTES - 4, &v) || v % 4)
		return -1;
	*word = (unsigned)(v / 4);
	return 0;
}

/* Run cycles in batches, sleeping so each cycle costs cycle_us; -1 if a
 * signal asked us to stop. */
static int run_cycles(uint64_t cycles)
{
	struct timespec start, until;
	uint64_t done = 0;

	clock_gettime(CLOCK_MONOTONIC, &start);
	while (done < cycles) {
		uint64_t n = cycles - done < BATCH_CYCLES ? cycles - done : BATCH_CYCLES;
		uint64_t ns;

		design_run(&state, n);
		done += n;
		ns = done * cycle_us * 1000ull + (uint64_t)start.tv_nsec;
		until.tv_sec = start.tv_sec + (time_t)(ns / 1000000000ull);
		until.tv_nsec = (long)(ns % 1000000000ull);
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL) == EINTR)
			if (stopping)
				return -1;
	}
	return 0;
}

/* Handle one request line; the reply goes to reply (no newline). */
static void handle(char *line, char *reply, size_t cap)
{
	char *cmd = line, *arg = strchr(line, ' '), *arg2 = NULL, why[REPLY_MAX - 8];
	unsigned reg, word;
	uint64_t v, w;

	if (arg) {
		*arg++ = 0;
		arg2 = strchr(arg, ' ');
	}
#define REQUIRE(cond, usage)                                \
	do {                                                \
		if (!(cond)) {                              \
			snprintf(reply, cap, "ERR usage: %s", usage); \
			return;                             \
		}                                           \
	} while (0)
	if (strcmp(cmd, "STATUS") == 0) {
		REQUIRE(!arg, "STATUS");
		snprintf(reply, cap, "OK cycle=%" PRIu64 " sum=%016" PRIx64, state.cycle,
			 design_sum(&state));
	} else if (strcmp(cmd, "RESET") == 0) {
		REQUIRE(!arg2 && parse_u64(arg, UINT64_MAX, &v) == 0, "RESET <seed>");
		design_reset(&state, v);
		snprintf(reply, cap, "OK cycle=0");
	} else if (strcmp(cmd, "RUN") == 0) {
		REQUIRE(!arg2 && parse_u64(arg, MAX_RUN_CYCLES, &v) == 0,
			"RUN <cycles> (at most 1000000000)");
		if (run_cycles(v) < 0)
			snprintf(reply, cap, "ERR the emulator is shutting down");
		else
			snprintf(reply, cap, "OK cycle=%" PRIu64, state.cycle);
	} else if (strcmp(cmd, "READ") == 0) {
		REQUIRE(!arg2 && parse_reg(arg, &reg) == 0, "READ r<0-15>");
		snprintf(reply, cap, "OK 0x%08x", state.reg[reg]);
	} else if (strcmp(cmd, "WRITE") == 0) {
		if (arg2)
			*arg2++ = 0;
		REQUIRE(arg2 && parse_reg(arg, &reg) == 0 && parse_u64(arg2, UINT32_MAX, &v) == 0,
			"WRITE r<0-15> <value>");
		state.reg[reg] = (uint32_t)v;
		snprintf(reply, cap, "OK");
	} else if (strcmp(cmd, "PEEK") == 0) {
		REQUIRE(!arg2 && parse_addr(arg, &word) == 0, "PEEK <address: multiple of 4, < 65536>");
		snprintf(reply, cap, "OK 0x%08x", state.mem[word]);
	} else if (strcmp(cmd, "POKE") == 0) {
		if (arg2)
			*arg2++ = 0;
		REQUIRE(arg2 && parse_addr(arg, &word) == 0 && parse_u64(arg2, UINT32_MAX, &w) == 0,
			"POKE <address: multiple of 4, < 65536> <value>");
		state.mem[word] = (uint32_t)w;
		snprintf(reply, cap, "OK");
	} else if (strcmp(cmd, "FLIP") == 0) {
		REQUIRE(!arg2 && parse_u64(arg, DESIGN_BITS - 1, &v) == 0, "FLIP <bit: 0-524799>");
		design_flip(&state, v);
		snprintf(reply, cap, "OK");
	} else if (strcmp(cmd, "SAVE") == 0 || strcmp(cmd, "LOAD") == 0) {
		int save = cmd[0] == 'S';
		REQUIRE(arg && *arg, save ? "SAVE <path>" : "LOAD <path>");
		if ((save ? statefile_save(arg, &state, why, sizeof(why))
			  : statefile_load(arg, &state, why, sizeof(why))) < 0)
			snprintf(reply, cap, "ERR %s", why);
		else
			snprintf(reply, cap, "OK cycle=%" PRIu64, state.cycle);
	} else {
		snprintf(reply, cap, "ERR unknown command '%.40s' (RESET RUN READ WRITE PEEK POKE FLIP "
			 "SAVE LOAD STATUS)", cmd);
	}
#undef REQUIRE
}

/* Wait for the client to send something; 0, or -1 if we must stop. */
static int wait_request(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	while (poll(&p, 1, -1) < 0)
		if (errno != EINTR || stopping)
			return -1;
	return stopping ? -1 : 0;
}

/* Throw away the rest of an over-long request line. */
static int skip_line(int fd)
{
	char junk[512];
	int n;

	while ((n = eda_read_line(fd, junk, sizeof(junk), 10000)) == -EMSGSIZE)
		;
	return n < 0 ? -1 : 0;
}

static void serve(int fd)
{
	char line[EDA_LINE_MAX + 1], reply[REPLY_MAX];
	int n;

	while (!stopping && wait_request(fd) == 0) {
		n = eda_read_line(fd, line, sizeof(line), 10000);
		if (n == -EMSGSIZE) {
			if (skip_line(fd) < 0)
				return;
			snprintf(reply, sizeof(reply), "ERR request line too long");
		} else if (n < 0) {
			return; /* end of file, reset or a silent client */
		} else {
			handle(line, reply, sizeof(reply));
		}
		n = (int)strlen(reply);
		reply[n++] = '\n';
		if (eda_write_all(fd, reply, (size_t)n) < 0)
			return;
	}
}

static void usage(FILE *f)
{
	fprintf(f, "usage: emulator [--port N] [--cycle-us U]\n"
		   "  A slow hardware emulator on 127.0.0.1:N (0: a free port, printed as\n"
		   "  \"PORT <n>\"); one client at a time; U microseconds per cycle (default 20).\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "cycle-us", required_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct sigaction sa = { .sa_handler = on_signal };
	uint64_t port = 0, us = cycle_us;
	int c, lfd, bound;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (parse_u64(optarg, 65535, &port)) {
				fprintf(stderr, "emulator: bad --port '%s'\n", optarg);
				return 1;
			}
			break;
		case 'u':
			if (parse_u64(optarg, 1000000, &us)) {
				fprintf(stderr, "emulator: bad --cycle-us '%s' (0-1000000)\n", optarg);
				return 1;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 1;
	}
	cycle_us = (unsigned long)us;
	sigaction(SIGTERM, &sa, NULL); /* no SA_RESTART: accept/poll/sleep see EINTR */
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	design_reset(&state, 0);

	lfd = eda_listen((int)port, &bound);
	if (lfd < 0) {
		fprintf(stderr, "emulator: cannot listen on 127.0.0.1:%d: %s\n", (int)port,
			strerror(-lfd));
		return 1;
	}
	printf("PORT %d\n", bound);
	fflush(stdout);
	while (!stopping) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EINTR && errno != ECONNABORTED)
				fprintf(stderr, "emulator: accept: %s\n", strerror(errno));
			continue;
		}
		serve(fd);
		close(fd);
	}
	close(lfd);
	fprintf(stderr, "emulator: stopped by signal %d\n", (int)stopping);
	return 0;
}
