/*
 * loadbalance.h -- the loadbalance plugin: the address records of an
 * answer in a random order, so clients spread over them; the setup of its
 * directive.
 */
#ifndef CLUSTERDNS_LOADBALANCE_H
#define CLUSTERDNS_LOADBALANCE_H

#include <stddef.h>
#include <stdint.h>

#include "server/corefile.h"

struct setup;

/*
 * Shuffle the A and AAAA records of the answer section of the response msg
 * (len bytes), in place, as CoreDNS's round_robin does.  Every other record
 * keeps its place, so CNAMEs stay first; what moves are runs of
 * consecutive records of one address type whose owner is a compression
 * pointer (nothing can point into them, and they have one size, so they
 * swap in place).  Responses that are not NOERROR or do not parse are left
 * as they are.  *rnd is the caller's random state (0 is replaced by a
 * fixed seed).  No allocation, no buffer.
 */
void loadbalance_shuffle(uint8_t *msg, size_t len, uint64_t *rnd);

/* Setup of `loadbalance [round_robin]` (setup.h): sets
 * c->block->loadbalance.  Once per block.  Returns 0 or -EINVAL with
 * c->err set. */
int loadbalance_setup(struct setup *c, const struct corefile_dir *d);

#endif
