/*
 * backoff.h -- retry delays for the API client, as client-go's reflector
 * spaces them: from 0.8 s, doubling up to 30 s, with jitter; a success
 * starts over.
 */
#ifndef CLUSTERDNS_BACKOFF_H
#define CLUSTERDNS_BACKOFF_H

#include <stdint.h>

struct backoff {
	uint32_t initial_ms; /* first delay (800) */
	uint32_t max_ms;     /* cap (30000) */
	uint32_t cur_ms;     /* the delay the next failure starts from */
	uint64_t rng;	     /* jitter state */
};

/* Initial 800 ms, cap 30 s; seed makes the jitter sequence. */
void backoff_init(struct backoff *b, uint64_t seed);

/* The delay before the next attempt after a failure, in milliseconds:
 * the current step plus up to 20% jitter; the step then doubles, up to the
 * cap.  A server's Retry-After (seconds, 0 for none) is honoured when it is
 * longer. */
uint32_t backoff_next(struct backoff *b, uint32_t retry_after_s);

/* A success: the next failure waits the initial delay again. */
void backoff_reset(struct backoff *b);

/* A uniformly spread value in [lo, hi] from the same generator, for other
 * jittered periods (watch timeouts, relists). */
uint32_t backoff_jitter(struct backoff *b, uint32_t lo, uint32_t hi);

#endif
