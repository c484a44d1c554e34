/*
 * loop.h -- the loop plugin: after start, the server asks itself
 * `<random>.<random>.<zone> HINFO`; when that query comes back more than
 * twice, a forwarder sends it round in a circle (the classic cause: a
 * resolv.conf pointing at a local stub, or at the server itself).
 */
#ifndef CLUSTERDNS_LOOP_H
#define CLUSTERDNS_LOOP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <sys/socket.h>

#include "server/corefile.h"
#include "server/packet.h"

struct setup;

struct event_base;
struct loop;

/* A loop detector for zone (lowercase, no trailing dot, "" = root) with a
 * fresh random probe name.  NULL when memory is short. */
struct loop *loop_new(const char *zone);

/* Stop probing and free l (control thread, after the workers stopped). */
void loop_free(struct loop *l);

/*
 * Start probing from the control thread's loop base: the probe goes to
 * addr (the server block's first listen address) every second until an
 * answer comes (then detection ends 2 s later) or for 30 s.  Returns 0 or a
 * negative errno.
 */
int loop_start(struct loop *l, struct event_base *base,
	       const struct sockaddr_storage *addr, socklen_t len);

enum loop_verdict {
	LOOP_NONE = 0, /* not the probe, or seen at most twice */
	LOOP_FOUND,    /* the probe, seen the third time: a loop (once) */
	LOOP_AGAIN,    /* the probe after the loop was found: drop it */
};

/* On a worker, for every query of the block.  Costs a load and a compare
 * while detection runs and the load once it ended. */
enum loop_verdict loop_check(struct loop *l, const struct packet_query *q);

/* Is q the probe (while detection runs)?  For the forwarder's note. */
bool loop_is_probe(struct loop *l, const struct packet_query *q);

/* The probe as CoreDNS prints it: "HINFO 123.456.zone." */
const char *loop_query(const struct loop *l);

/* Where the forwarder notes the upstream the probe went to (-1: none). */
atomic_int *loop_upstream(struct loop *l);

/* The zone, as CoreDNS prints it: "." or "cluster.local." */
const char *loop_zone(const struct loop *l);

/* Setup of `loop` (no arguments, no block): sets c->block->loop and
 * loop_line.  Once per block.  Returns 0 or -EINVAL with c->err set. */
int loop_setup(struct setup *c, const struct corefile_dir *d);

#endif
