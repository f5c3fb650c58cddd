/* SPDX-License-Identifier: MIT */
/*
 * The emulated design's reference model (see design.h), shared by the
 * emulator and the test bench.
 */
#include "design.h"

#define LFSR_TAPS 0x80200003u /* x^32 + x^22 + x^2 + x + 1, Galois form */

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint32_t rotl32(uint32_t v, unsigned n)
{
	return (v << n) | (v >> (32 - n));
}

void design_reset(struct design *d, uint64_t seed)
{
	uint64_t x = seed;

	d->cycle = 0;
	for (unsigned i = 0; i < DESIGN_REGS; i++)
		d->reg[i] = (uint32_t)splitmix64(&x);
	for (unsigned i = 0; i < DESIGN_MEM_WORDS; i++)
		d->mem[i] = (uint32_t)splitmix64(&x);
	if (d->reg[0] == 0) /* the LFSR must not start at its fixed point */
		d->reg[0] = 1;
}

static void design_step(struct design *d)
{
	uint32_t *r = d->reg, x;
	unsigned dst, src, word;

	r[0] = (r[0] >> 1) ^ (-(r[0] & 1u) & LFSR_TAPS);
	x = r[0];
	dst = 1 + (x >> 2) % 14;
	src = 1 + (x >> 6) % 14;
	word = (x >> 12) % DESIGN_MEM_WORDS;
	switch (x & 3) {
	case 0: /* load */
		r[dst] = d->mem[word];
		break;
	case 1: /* store */
		d->mem[word] = r[src] + r[dst];
		break;
	case 2: /* ALU */
		r[dst] = (r[dst] ^ r[src]) * 0x9e3779b1u + (x >> 24);
		break;
	default: /* signature */
		r[15] = rotl32(r[15], 5) ^ r[src];
		break;
	}
	d->cycle++;
}

void design_run(struct design *d, uint64_t cycles)
{
	while (cycles--)
		design_step(d);
}

uint64_t design_sum(const struct design *d)
{
	uint64_t h = 0xcbf29ce484222325ull ^ d->cycle;

	for (unsigned i = 0; i < DESIGN_REGS; i++)
		h = (h ^ d->reg[i]) * 0x100000001b3ull;
	for (unsigned i = 0; i < DESIGN_MEM_WORDS; i++)
		h = (h ^ d->mem[i]) * 0x100000001b3ull;
	return h;
}

int design_flip(struct design *d, uint64_t bit)
{
	if (bit >= DESIGN_BITS)
		return -1;
	if (bit < DESIGN_REGS * 32)
		d->reg[bit / 32] ^= 1u << (bit % 32);
	else
		d->mem[(bit - DESIGN_REGS * 32) / 32] ^= 1u << (bit % 32);
	return 0;
}
