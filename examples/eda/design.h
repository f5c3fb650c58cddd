/* SPDX-License-Identifier: MIT */
/*
 * The emulated design, as a C reference model: 16 32-bit registers, 64 KiB
 * of memory and a cycle counter, stepped deterministically.  The emulator
 * runs it (slowly, as hardware emulators are); the test bench runs the same
 * code to know the right answer without the emulator.
 *
 * Each cycle, r0 (a 32-bit Galois LFSR, the stimulus) steps and picks an
 * operation, registers among r1..r14 and a memory word: a load, a store of
 * a sum, an ALU mix, or an update of r15 (the signature).  A flipped bit in
 * a register or a word that is read again spreads through the state; one
 * that is overwritten first is masked.
 */
#ifndef EDA_DESIGN_H
#define EDA_DESIGN_H

#include <stdint.h>

#define DESIGN_REGS 16
#define DESIGN_MEM_BYTES 65536
#define DESIGN_MEM_WORDS (DESIGN_MEM_BYTES / 4)
/* The bits FLIP may name: registers first (bit 32*i+b is bit b of ri),
 * then memory (bit 32*w+b is bit b of the little-endian word at 4*w). */
#define DESIGN_BITS ((uint64_t)(DESIGN_REGS + DESIGN_MEM_WORDS) * 32)

struct design {
	uint64_t cycle;
	uint32_t reg[DESIGN_REGS];
	uint32_t mem[DESIGN_MEM_WORDS];
};

/* Power-on state derived from seed: cycle 0, registers and memory filled. */
void design_reset(struct design *d, uint64_t seed);
/* Advance by cycles. */
void design_run(struct design *d, uint64_t cycles);
/* A 64-bit checksum of the whole state, cycle included. */
uint64_t design_sum(const struct design *d);
/* Flip one bit (see DESIGN_BITS); 0, or -1 if bit is out of range. */
int design_flip(struct design *d, uint64_t bit);

#endif
