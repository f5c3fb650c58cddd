/* SPDX-License-Identifier: MIT */
/*
 * img_sum: the 64-bit checksum of image data.  Pure code, no libc: the
 * restorer links it too.  Four lanes of multiply-xorshift over 8-byte
 * words; not cryptographic, it catches damage, not attacks.
 */
#include "common/image.h"

#define K1 0x9e3779b97f4a7c15ull
#define K2 0xc2b2ae3d27d4eb4full

static inline uint64_t load64(const uint8_t *p)
{
	uint64_t v;
	__builtin_memcpy(&v, p, 8);
	return v;
}

static inline uint64_t mix(uint64_t acc, uint64_t w)
{
	acc = (acc + w) * K1;
	return acc ^ (acc >> 29);
}

void img_sum_init(struct img_sum *s)
{
	s->lane[0] = K2;
	s->lane[1] = K2 ^ 1;
	s->lane[2] = K2 ^ 2;
	s->lane[3] = K2 ^ 3;
	s->total = 0;
	s->ntail = 0;
}

static void blocks(struct img_sum *s, const uint8_t *p, size_t n)
{
	uint64_t a = s->lane[0], b = s->lane[1], c = s->lane[2], d = s->lane[3];

	for (; n >= 32; n -= 32, p += 32) {
		a = mix(a, load64(p));
		b = mix(b, load64(p + 8));
		c = mix(c, load64(p + 16));
		d = mix(d, load64(p + 24));
	}
	s->lane[0] = a;
	s->lane[1] = b;
	s->lane[2] = c;
	s->lane[3] = d;
}

void img_sum_update(struct img_sum *s, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	s->total += len;
	if (s->ntail) {
		while (len && s->ntail < 32) {
			s->tail[s->ntail++] = *p++;
			len--;
		}
		if (s->ntail < 32)
			return;
		blocks(s, s->tail, 32);
		s->ntail = 0;
	}
	blocks(s, p, len & ~(size_t)31);
	p += len & ~(size_t)31;
	len &= 31;
	while (len--)
		s->tail[s->ntail++] = *p++;
}

uint64_t img_sum_final(const struct img_sum *s)
{
	uint64_t h = s->total * K2;

	for (int i = 0; i < 4; i++)
		h = mix(h ^ s->lane[i], (uint64_t)i);
	for (uint32_t i = 0; i < s->ntail; i++)
		h = mix(h, s->tail[i]);
	h ^= h >> 31;
	return h * K1 ^ (h >> 33);
}

uint64_t img_sum(const void *buf, size_t len)
{
	struct img_sum s;

	img_sum_init(&s);
	img_sum_update(&s, buf, len);
	return img_sum_final(&s);
}
