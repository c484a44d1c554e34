/*
 * cache.h -- the answer cache of the `cache` directive: complete responses
 * kept per question (lowercased name, type, class) and DO and CD bits,
 * answered again with the client's ID and letter case and with their TTLs
 * counted down, as CoreDNS's cache plugin does.
 *
 * Two caches in one: success (NOERROR with answers, referrals, NOERROR
 * without anything) and denial (NXDOMAIN and NODATA with an SOA, SERVFAIL
 * for a short while).  Each is split into 256 shards holding at most
 * CAPACITY / 256 entries (at least 4); a full shard evicts a random entry.
 * An entry is one allocation: the response's sections as received (OPT
 * left out) and the offsets of their TTL fields.
 *
 * Threads: readers (cache_answer) take no lock and allocate nothing; they
 * must be registered with liburcu (rcu_register_thread(), default flavour)
 * and must not hold rcu_read_lock() themselves when calling in.  Writers
 * (cache_insert) take the lock of one shard.  Replaced entries are freed
 * after a grace period.
 *
 * Time is passed in: now_ms is a monotonic clock in milliseconds
 * (cache_now_ms() in the server, anything increasing in tests).
 *
 * A caller in front of an upstream (the forwarder) does, per query q in
 * the cache's scope (cache_scope() != 0):
 *   n = cache_answer(c, q, udp_max, out, limit, now, 0, &fl);
 *   n != 0: send out; with CACHE_REFRESH also ask upstream in the
 *           background and cache_insert() its answer.
 *   n == 0: ask upstream; cache_insert() the complete answer (as received,
 *           before cutting it to the client's size).  When upstream
 *           fails, cache_answer(..., CACHE_WANT_STALE, &fl) answers with
 *           an expired entry under serve_stale (0 otherwise) before the
 *           caller gives up with SERVFAIL.
 * query.c does this in front of the cluster zone and the forwarder alike,
 * as CoreDNS's cache sits in front of kubernetes and forward: a refresh of
 * a forwarded name is a forwarded query that no client waits for.
 */
#ifndef CLUSTERDNS_CACHE_H
#define CLUSTERDNS_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server/corefile.h"
#include "server/packet.h"

#define CACHE_SHARDS 256

/* Zero fields do not take defaults: cache_setup() fills CoreDNS's. */
struct cache_conf {
	/* Names under these zones are cached (lowercase, no trailing dot,
	 * "" is the root); none: every name. */
	char **zones;
	size_t nzones;
	/* `disable success|denial ZONES`: names under these zones are not
	 * stored in that cache. */
	char **no_success;
	size_t nno_success;
	char **no_denial;
	size_t nno_denial;
	long success_cap, denial_cap; /* entries (9984 each) */
	uint32_t success_max_ttl;     /* seconds (3600) */
	uint32_t success_min_ttl;     /* (5) */
	uint32_t denial_max_ttl;      /* (1800) */
	uint32_t denial_min_ttl;      /* (5) */
	uint32_t servfail_ttl;	      /* seconds (5); 0: SERVFAIL not cached */
	/* prefetch AMOUNT [DURATION] [PERCENTAGE%]: an entry hit AMOUNT
	 * times with no gap of DURATION between hits is refreshed once its
	 * remaining TTL is at most PERCENTAGE% of its TTL (rounded up).
	 * 0: no prefetch. */
	uint32_t prefetch;
	uint64_t prefetch_window_ms; /* (60000) */
	unsigned prefetch_pct;	     /* (10) */
	/* serve_stale [DURATION [verify|immediate]]: expired entries are kept
	 * for stale_ms and answered with TTL 0.  0: off. */
	uint64_t stale_ms;
	bool stale_verify;
	bool keepttl; /* answers keep their TTL instead of counting down */
};

struct cache;
struct setup;

/* The cache directive: CoreDNS's defaults filled in.  conf's zones are
 * the directive's, else the block's keys. */
struct cache_directive {
	struct cache_conf conf;
	char *file; /* where the directive is */
	int line;
};

/*
 * Setup of `cache [TTL] [ZONES...] [{ options }]` (setup.h): the directive
 * goes to c->block->cache (freed with the block); options as in CoreDNS
 * (success, denial, prefetch, serve_stale, servfail, disable, keepttl).
 * Once per block.  Returns 0 or a negative errno with c->err set.
 */
int cache_setup(struct setup *c, const struct corefile_dir *d);

/* Free cc and the strings of its conf (NULL is fine). */
void cache_directive_free(struct cache_directive *cc);

/* Result flags of cache_answer. */
enum {
	/* An answer was written; ask upstream again and cache_insert what it
	 * says (prefetch, or a stale answer in immediate mode).  Handed out
	 * at most once a second per entry. */
	CACHE_REFRESH = 1,
	/* The answer written is expired: its TTLs are 0. */
	CACHE_STALE = 2,
	/* Nothing written: an expired entry is kept and serve_stale verifies.
	 * Ask upstream; when that fails (no NOERROR or NXDOMAIN answer), call
	 * again with CACHE_WANT_STALE to answer with the stale entry. */
	CACHE_VERIFY = 4,
};

/* What cache_answer may do. */
enum {
	CACHE_WANT_STALE = 1, /* upstream failed: an expired entry will do */
	CACHE_PEEK = 2,	      /* not a client's hit: no counting, no refresh */
};

/* Which cache a response goes to (cache_insert's return, cache_scope's
 * bits). */
enum {
	CACHE_SUCCESS = 1,
	CACHE_DENIAL = 2,
};

/* A new, empty cache.  conf is copied (zones converted); the caller keeps
 * its strings.  Returns NULL on allocation failure or when a zone is no
 * domain name (config.c has checked them). */
struct cache *cache_new(const struct cache_conf *conf);

/* Free the cache and every entry.  No thread may use it any more; waits
 * for the grace periods of entries replaced before. */
void cache_free(struct cache *c);

/* Which caches keep answers for lname (lowercase wire name of len bytes):
 * CACHE_SUCCESS and CACHE_DENIAL bits; 0 when the name is outside the
 * cache's zones or disabled in both, so the cache need not be asked. */
unsigned cache_scope(const struct cache *c, const uint8_t *lname, size_t len);

/*
 * Answer query q (parsed by packet_parse) from the cache into out (limit
 * bytes: the client's UDP size, or 65535 on TCP).  The response has the
 * client's ID, opcode, RD and CD bits and question bytes (its letter case),
 * the cached AA, RA and rcode (AD only when the client set DO or AD), the
 * sections with every TTL set to what is left of the cached TTL (or the
 * TTL itself with keepttl, 0 when stale), and an OPT with udp_max when the
 * query had EDNS.  When the sections do not fit, the additional section is
 * left out; when that does not fit either, the answer is the header with
 * TC and the question.  want: CACHE_WANT_STALE, CACHE_PEEK bits.
 * Returns the response length, or 0 on a miss; *flags gets CACHE_* result
 * bits (0 on a plain hit or miss).
 */
size_t cache_answer(struct cache *c, const struct packet_query *q,
		    uint16_t udp_max, uint8_t *out, size_t limit,
		    uint64_t now_ms, unsigned want, unsigned *flags);

/*
 * Keep resp (len bytes), the complete response to q, as CoreDNS would:
 * NOERROR with answers, referrals and empty NOERROR in the success cache;
 * NXDOMAIN and NODATA with an SOA, and SERVFAIL, in the denial cache.  Not
 * kept: truncated responses, other rcodes, a question that is not q's,
 * zone transfers, messages that do not parse, names out of scope.  The
 * entry lives for the smallest TTL of its records (for a negative answer
 * also the SOA's MINIMUM; 5 s when there are no records), clamped to the
 * cache's minimum and maximum; SERVFAIL for servfail_ttl.  It replaces an
 * entry of the same question (keeping its prefetch count) in either
 * cache.  When kept, the TTLs in resp are set to that duration, as the
 * client would see them from the cache.
 * Returns CACHE_SUCCESS or CACHE_DENIAL when kept, 0 when not, -ENOMEM.
 */
int cache_insert(struct cache *c, const struct packet_query *q, uint8_t *resp,
		 size_t len, uint64_t now_ms);

/* Entries in the caches of kind (CACHE_SUCCESS and/or CACHE_DENIAL bits),
 * read without locks: exact only when no writer runs. */
size_t cache_count(const struct cache *c, unsigned kinds);

/* The monotonic clock in milliseconds (coarse: a few ms). */
uint64_t cache_now_ms(void);

#endif
