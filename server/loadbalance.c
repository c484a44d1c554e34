/*
 * loadbalance.c -- shuffling address records in wire format.
 */
#include "server/loadbalance.h"

#include <stdbool.h>
#include <string.h>

#include "server/packet.h"

#define T_A 1
#define T_AAAA 28
#define RUN_MAX 256 /* records shuffled in one run; the rest keep order */

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint64_t next(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* Shuffle the k records at msg+start (record i spans off[i]..off[i+1]). */
static void shuffle_run(uint8_t *msg, const size_t *off, unsigned k,
			uint64_t *rnd)
{
	static __thread uint8_t tmp[PACKET_MAX_TCP];
	unsigned idx[RUN_MAX];
	size_t w = 0;

	for (unsigned i = 0; i < k; i++)
		idx[i] = i;
	for (unsigned i = k - 1; i > 0; i--) {
		unsigned j = (unsigned)(next(rnd) % (i + 1));
		unsigned t = idx[i];
		idx[i] = idx[j];
		idx[j] = t;
	}
	for (unsigned i = 0; i < k; i++) {
		size_t n = off[idx[i] + 1] - off[idx[i]];
		memcpy(tmp + w, msg + off[idx[i]], n);
		w += n;
	}
	memcpy(msg + off[0], tmp, w);
}

void loadbalance_shuffle(uint8_t *msg, size_t len, uint64_t *rnd)
{
	size_t off[RUN_MAX + 1];
	unsigned k = 0;

	if (len < PACKET_HEADER || (msg[3] & 0x0f) != 0 || rd16(msg + 4) != 1)
		return;
	if (*rnd == 0)
		*rnd = 0x9e3779b97f4a7c15ULL;
	size_t p = packet_skip_name(msg, len, PACKET_HEADER);
	if (p == 0 || len - p < 4)
		return;
	p += 4;
	unsigned an = rd16(msg + 6);
	for (unsigned i = 0; i <= an; i++) {
		bool addr = false;
		size_t start = p, end = 0;
		if (i < an) {
			size_t o = packet_skip_name(msg, len, p);
			if (o == 0 || len - o < 10)
				return;
			uint16_t type = rd16(msg + o);
			end = o + 10 + rd16(msg + o + 8);
			if (end > len)
				return;
			addr = (type == T_A || type == T_AAAA) &&
			       (msg[start] & 0xc0) == 0xc0 && k < RUN_MAX;
		}
		if (addr) {
			off[k++] = start;
			off[k] = end;
		} else {
			if (k > 1)
				shuffle_run(msg, off, k, rnd);
			k = 0;
		}
		p = end;
	}
}
