/*
 * loadbalance.h -- the loadbalance plugin: the address records of an
 * answer in a random order, so clients spread over them.
 */
#ifndef CLUSTERDNS_LOADBALANCE_H
#define CLUSTERDNS_LOADBALANCE_H

#include <stddef.h>
#include <stdint.h>

/*
 * Shuffle the A and AAAA records of the answer section of the response msg
 * (len bytes), in place, as CoreDNS's round_robin does.  Every other record
 * keeps its place, so CNAMEs stay first; only runs of consecutive address
 * records whose owner is a compression pointer move (nothing can point
 * into them).  Responses that are not NOERROR or do not parse are left as
 * they are.  *rnd is the caller's random state (any non-zero seed).  No
 * allocation.
 */
void loadbalance_shuffle(uint8_t *msg, size_t len, uint64_t *rnd);

#endif
