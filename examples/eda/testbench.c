/* SPDX-License-Identifier: MIT */
/*
 * testbench: the hardware-verification test bench, the program run under
 * Cocoon.  It checks out a license seat (LICENSE_ADDR), drives the emulator
 * (EMU_ADDR) through a long initialisation to the region of interest (ROI),
 * checkpoints itself there, runs the ROI and checks the design's state
 * against its own reference model (design.c):
 *
 *   ROI reached at cycle C
 *   RESULT PASS cycle=C sum=S                   exit 0
 *   RESULT FAIL cycle=C expected=X got=Y         exit 3
 *
 * cocoon_checkpoint() returns 0 in the run that goes on after the
 * checkpoint (the golden run) and 1 in every run restarted from it (the
 * experiments, where a plugin may have injected faults); without Cocoon it
 * returns 0 and the program simply goes on.  Exit 2: the emulator or the
 * license server failed; 1: bad usage.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cocoon.h"
#include "design.h"
#include "emu-client.h"
#include "license-client.h"

#define LICENSE_FEATURE "emu-run"

struct options {
	uint64_t seed, init_cycles, roi_cycles, chunk;
};

static struct emu *emu;

static void die_emu(const char *what, int err)
{
	fprintf(stderr, "testbench: %s: %s\n", what,
		err == -EREMOTEIO || err == -EPROTO ? emu_error(emu) : strerror(-err));
	exit(2);
}

/* Run cycles on the emulator in chunks; the cycle reached. */
static uint64_t run_chunks(uint64_t cycles, uint64_t chunk)
{
	uint64_t now = 0;
	int err;

	while (cycles) {
		uint64_t n = cycles < chunk ? cycles : chunk;
		if ((err = emu_run(emu, n, &now)))
			die_emu("RUN", err);
		cycles -= n;
	}
	return now;
}

static int parse_count(const char *s, uint64_t *out)
{
	char *end;

	errno = 0;
	*out = strtoull(s, &end, 0);
	return errno || end == s || *end || *s == '-' ? -1 : 0;
}

static void parse_options(int argc, char **argv, struct options *o)
{
	static const struct option opts[] = {
		{ "seed", required_argument, NULL, 's' },
		{ "init-cycles", required_argument, NULL, 'i' },
		{ "roi-cycles", required_argument, NULL, 'r' },
		{ "chunk", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	*o = (struct options){ .seed = 2024, .init_cycles = 125000, .roi_cycles = 15000,
			       .chunk = 2500 };
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		uint64_t *dst = c == 's' ? &o->seed : c == 'i' ? &o->init_cycles :
				c == 'r' ? &o->roi_cycles : c == 'c' ? &o->chunk : NULL;
		if (dst && parse_count(optarg, dst) == 0 && (c != 'c' || *dst > 0))
			continue;
		fprintf(c == 'h' ? stdout : stderr,
			"usage: testbench [--seed S] [--init-cycles N] [--roi-cycles N] [--chunk N]\n"
			"  EMU_ADDR and LICENSE_ADDR (host:port) name the emulator and the license\n"
			"  server.  Defaults: seed 2024, 125000 init cycles, 15000 ROI cycles, RUN in\n"
			"  chunks of 2500.\n");
		exit(c == 'h' ? 0 : 1);
	}
	if (optind != argc) {
		fprintf(stderr, "testbench: unexpected argument '%s'\n", argv[optind]);
		exit(1);
	}
}

/* Compare the emulator's design with the reference model; the exit status. */
static int check_outcome(const struct options *o)
{
	static struct design model; /* 64 KiB: not on the stack */
	uint64_t cycle, sum, want;
	uint32_t r15;
	int err;

	design_reset(&model, o->seed);
	design_run(&model, o->init_cycles + o->roi_cycles);
	want = design_sum(&model);
	if ((err = emu_status(emu, &cycle, &sum)))
		die_emu("STATUS", err);
	if ((err = emu_read_reg(emu, 15, &r15)))
		die_emu("READ r15", err);
	if (cycle != model.cycle) {
		printf("RESULT FAIL cycle=%" PRIu64 " expected=cycle:%" PRIu64 " got=cycle:%" PRIu64
		       "\n", cycle, model.cycle, cycle);
		return 3;
	}
	if (sum != want) {
		printf("RESULT FAIL cycle=%" PRIu64 " expected=%016" PRIx64 " got=%016" PRIx64 "\n",
		       cycle, want, sum);
		return 3;
	}
	if (r15 != model.reg[15]) { /* the sum covers it: the emulator lied */
		printf("RESULT FAIL cycle=%" PRIu64 " expected=r15:0x%08x got=r15:0x%08x\n", cycle,
		       model.reg[15], r15);
		return 3;
	}
	printf("RESULT PASS cycle=%" PRIu64 " sum=%016" PRIx64 "\n", cycle, sum);
	return 0;
}

int main(int argc, char **argv)
{
	const char *emu_addr = getenv("EMU_ADDR"), *lic_addr = getenv("LICENSE_ADDR");
	struct options o;
	uint64_t cycle;
	int seat, err, status;

	parse_options(argc, argv, &o);
	if (!emu_addr || !lic_addr) {
		fprintf(stderr, "testbench: set EMU_ADDR and LICENSE_ADDR (host:port)\n");
		return 1;
	}
	seat = lic_checkout(lic_addr, LICENSE_FEATURE);
	if (seat < 0)
		return 2; /* lic_checkout said why */
	emu = emu_open(emu_addr);
	if (!emu) {
		fprintf(stderr, "testbench: cannot reach the emulator at %s: %s\n", emu_addr,
			strerror(errno));
		return 2;
	}
	if ((err = emu_reset(emu, o.seed)))
		die_emu("RESET", err);
	cycle = run_chunks(o.init_cycles, o.chunk);

	printf("ROI reached at cycle %" PRIu64 "\n", cycle);
	fflush(stdout); /* before the checkpoint, or every restart prints it again */
	switch (cocoon_checkpoint()) {
	case 0:
		if (cocoon_is_active())
			fprintf(stderr, "testbench: checkpoint taken at the ROI, golden run goes on\n");
		break;
	case 1:
		fprintf(stderr, "testbench: restarted at the ROI (restart %u), running the ROI\n",
			cocoon_restart_count());
		break;
	default:
		fprintf(stderr, "testbench: the checkpoint at the ROI failed, going on without it\n");
		break;
	}

	run_chunks(o.roi_cycles, o.chunk);
	status = check_outcome(&o);
	fflush(stdout);
	emu_close(emu);
	close(seat); /* the server frees the seat */
	return status;
}
