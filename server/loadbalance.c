/*
 * loadbalance.c -- shuffling address records in wire format.
 */
#include "server/loadbalance.h"

#include <stdbool.h>
#include <string.h>

#include "server/config.h"
#include "server/packet.h"
#include "server/setup.h"

#define T_A 1
#define T_AAAA 28
#define RR_MAX 64 /* an address record with a pointer owner: 16 or 28 */

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

/* Shuffle the k records of len bytes each at msg+start, in place. */
static void shuffle_run(uint8_t *msg, size_t start, size_t len, unsigned k,
			uint64_t *rnd)
{
	uint8_t tmp[RR_MAX];

	for (unsigned i = k - 1; i > 0; i--) {
		unsigned j = (unsigned)(next(rnd) % (i + 1));
		if (j == i)
			continue;
		uint8_t *a = msg + start + (size_t)i * len;
		uint8_t *b = msg + start + (size_t)j * len;
		memcpy(tmp, a, len);
		memcpy(a, b, len);
		memcpy(b, tmp, len);
	}
}

void loadbalance_shuffle(uint8_t *msg, size_t len, uint64_t *rnd)
{
	size_t start = 0, rlen = 0;
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
		size_t end = 0, n = 0;
		uint16_t type = 0;
		if (i < an) {
			size_t o = packet_skip_name(msg, len, p);
			if (o == 0 || len - o < 10)
				return;
			type = rd16(msg + o);
			end = o + 10 + rd16(msg + o + 8);
			if (end > len)
				return;
			n = end - p;
			if ((type != T_A && type != T_AAAA) ||
			    (msg[p] & 0xc0) != 0xc0 || n > RR_MAX)
				n = 0;
		}
		if (n && k && n == rlen) {
			k++; /* the run goes on */
		} else {
			if (k > 1)
				shuffle_run(msg, start, rlen, k, rnd);
			k = n ? 1 : 0;
			start = p;
			rlen = n;
		}
		p = end;
	}
}

/* ------------------------------------------------------------------ */
/* setup of the directive */

int loadbalance_setup(struct setup *c, const struct corefile_dir *d)
{
	struct config_block *b = c->block;

	if (b->loadbalance)
		return setup_dup_err(c, d, "loadbalance");
	if (d->nargs > 1 || d->nsub)
		return setup_arg_err(c, d, "loadbalance");
	if (d->nargs && strcmp(d->args[0], "round_robin") != 0)
		return setup_err(c, d, "loadbalance", "unknown policy: %s",
				 d->args[0]);
	b->loadbalance = true;
	return 0;
}
