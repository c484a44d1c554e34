/*
 * reload.h -- the reload directive: `reload [INTERVAL] [JITTER]`.  The
 * daemon reads the Corefile every INTERVAL (default 30s, at least 2s),
 * shifted once by a random jitter in [-JITTER/2, JITTER/2) (JITTER default
 * 15s, at least 1s, at most INTERVAL/2), and loads it when its SHA-512
 * changed; SIGUSR1 does the same at once, with or without the directive.
 */
#ifndef CLUSTERDNS_RELOAD_H
#define CLUSTERDNS_RELOAD_H

#include <stdint.h>

#include "server/corefile.h"

struct setup;

struct reload_conf {
	uint64_t interval_ms; /* 30000 */
	uint64_t jitter_ms;   /* 15000 */
};

/* Parse `reload` at d into c->block->reload (setup.h), with CoreDNS's
 * bounds and messages; a jitter over half the interval is lowered to it
 * with a warning. */
int reload_setup(struct setup *c, const struct corefile_dir *d);

void reload_conf_free(struct reload_conf *r);

/* The period between two checks: the interval shifted by the jitter that
 * rnd (any random 64-bit value) picks. */
uint64_t reload_period_ms(const struct reload_conf *r, uint64_t rnd);

#endif
