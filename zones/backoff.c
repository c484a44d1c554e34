/*
 * backoff.c -- jittered exponential retry delays.
 */
#include "zones/backoff.h"

static uint64_t next_rand(struct backoff *b)
{
	/* splitmix64: small, fast, good enough for jitter. */
	uint64_t z = (b->rng += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void backoff_init(struct backoff *b, uint64_t seed)
{
	b->initial_ms = 800;
	b->max_ms = 30000;
	b->cur_ms = b->initial_ms;
	b->rng = seed;
}

uint32_t backoff_jitter(struct backoff *b, uint32_t lo, uint32_t hi)
{
	if (hi <= lo)
		return lo;
	return lo + (uint32_t)(next_rand(b) % ((uint64_t)hi - lo + 1));
}

uint32_t backoff_next(struct backoff *b, uint32_t retry_after_s)
{
	uint32_t step = b->cur_ms;
	uint32_t d = backoff_jitter(b, step, step + step / 5);

	if (step < b->max_ms)
		b->cur_ms = step * 2 > b->max_ms ? b->max_ms : step * 2;
	if (d > b->max_ms + b->max_ms / 5)
		d = b->max_ms + b->max_ms / 5;
	if ((uint64_t)retry_after_s * 1000 > d)
		d = retry_after_s > 3600 ? 3600000 : retry_after_s * 1000;
	return d;
}

void backoff_reset(struct backoff *b)
{
	b->cur_ms = b->initial_ms;
}
