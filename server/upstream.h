/*
 * upstream.h -- the upstreams of a forwarder: their health, shared by the
 * worker threads and the health checker, and the order in which one query
 * tries them under the forward policy (random, round_robin, sequential),
 * as CoreDNS's forward plugin does.
 *
 * Nothing here allocates or locks: health is kept in atomics, so workers
 * read it while the control thread's health checker writes it.
 */
#ifndef CLUSTERDNS_UPSTREAM_H
#define CLUSTERDNS_UPSTREAM_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#define UPSTREAM_MAX 15

enum upstream_policy {
	UPSTREAM_RANDOM = 0,
	UPSTREAM_ROUND_ROBIN,
	UPSTREAM_SEQUENTIAL,
};

struct upstream {
	struct sockaddr_storage addr;
	socklen_t addrlen;
	char name[64];	   /* "127.0.0.1:53", "[::1]:53" */
	atomic_uint fails; /* health checks failed in a row */
	atomic_bool check; /* a query failed: health-check until one passes */
};

struct upstream_set {
	struct upstream u[UPSTREAM_MAX];
	unsigned n;
	enum upstream_policy policy;
	unsigned max_fails; /* down when fails > max_fails; 0: never down */
	atomic_uint rr;	    /* round_robin's next start */
};

/* Fill s with n (1..UPSTREAM_MAX) addresses, all healthy.  Returns 0 or
 * -EINVAL (n out of range, or an address that is not IPv4/IPv6). */
int upstream_set_init(struct upstream_set *s, const struct sockaddr_storage *a,
		      const socklen_t *alen, unsigned n,
		      enum upstream_policy policy, unsigned max_fails);

/* Is upstream i down (more than max_fails failed health checks)? */
bool upstream_down(const struct upstream_set *s, unsigned i);

/*
 * The order one query tries the upstreams in: order[0..n-1] becomes a
 * permutation of 0..n-1 by the policy (random: shuffled with the bits of
 * rnd; round_robin: rotated by one more per call; sequential: as written).
 */
void upstream_order(struct upstream_set *s, uint64_t rnd, uint8_t *order);

/*
 * The upstream a query tries next: the first that is not down at *pos or
 * after it in order (wrapping), *pos moved past it.  When every upstream is
 * down (health checking itself may be what is broken), one picked by rnd,
 * as CoreDNS does, and *pos moves by one.
 */
unsigned upstream_next(const struct upstream_set *s, const uint8_t *order,
		       unsigned *pos, uint64_t rnd);

/* The results of health checks: a pass makes the upstream healthy and ends
 * the checks; a failure counts towards max_fails. */
void upstream_check_passed(struct upstream *u);
void upstream_check_failed(struct upstream *u);

#endif
