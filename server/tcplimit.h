/*
 * tcplimit.h -- the TCP connection budget of a worker pool, shared by its
 * threads: how many connections are open in all, and how many from each
 * client address (an IPv4 address, or the /64 prefix of an IPv6 one: what
 * one host, or one node's pods, usually hold).  Only the accept and close
 * paths use it; one mutex, held for a hash probe.
 */
#ifndef CLUSTERDNS_TCPLIMIT_H
#define CLUSTERDNS_TCPLIMIT_H

#include <stdint.h>
#include <sys/socket.h>

struct tcplimit;

/* The client address a connection is counted under (tcplimit_take). */
struct tcplimit_key {
	uint64_t bits; /* IPv4 address, or the IPv6 /64 prefix */
	uint8_t family;
};

/*
 * A budget: at most hard connections in all (hard >= 1), at most per_addr
 * from one client address (0: no such limit).  Returns 0 with *out set, or
 * -EINVAL (hard is 0) or -ENOMEM.  Free with tcplimit_free.
 */
int tcplimit_new(unsigned hard, unsigned per_addr, struct tcplimit **out);

/* Free t (NULL is ignored); nothing may use it any more. */
void tcplimit_free(struct tcplimit *t);

/*
 * Count a new connection from peer, its key in *key for tcplimit_put.
 * Returns 0, -ENOSPC when hard connections are open, or -EUSERS when
 * peer's address holds per_addr already (neither is counted then).  A
 * peer neither IPv4 nor IPv6 counts in the total only.  Thread-safe.
 */
int tcplimit_take(struct tcplimit *t, const struct sockaddr *peer,
		  struct tcplimit_key *key);

/* A connection counted by tcplimit_take under key closed.  Thread-safe. */
void tcplimit_put(struct tcplimit *t, const struct tcplimit_key *key);

/* Connections counted now, in all (a snapshot, without the lock). */
unsigned tcplimit_total(const struct tcplimit *t);

/* Connections counted now under peer's address (takes the lock). */
unsigned tcplimit_count(struct tcplimit *t, const struct sockaddr *peer);

/* A connection's idle timeout: idle_ms plus a random part of at most a
 * tenth, drawn from *rng (xorshift32 state, not 0), so that connections
 * opened together do not all time out, and get reopened, together. */
unsigned tcplimit_idle_spread(uint32_t *rng, unsigned idle_ms);

#endif
