/*
 * cache.c -- the answer cache: 2 x 256 shards of RCU-protected hash chains.
 * Readers walk a chain under rcu_read_lock() and copy the entry out;
 * writers hold their shard's mutex, publish with rcu_assign_pointer() and
 * free what they unlink after a grace period.
 */
#include "server/cache.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <urcu.h>

#include "server/config.h"
#include "server/setup.h"
#include "server/metrics.h"
#include "zones/dname.h"

#define T_NS 2
#define T_SOA 6
#define T_OPT 41
#define T_AXFR 252
#define T_IXFR 251
#define MINIMAL_TTL 5	    /* CoreDNS's TTL when a message has no RR */
#define REFRESH_GAP_MS 1000 /* at most one refresh a second per entry */
#define MIN_SHARD_ENTRIES 4 /* CoreDNS's smallest shard */
#define MAX_SECTIONS 65535  /* a message is at most this long */

/* The fields a lookup reads come first (one cache line). */
struct entry {
	struct entry *next; /* chain of the bucket (RCU) */
	uint64_t hash;
	uint16_t qtype, qclass;
	uint8_t qlen;
	uint8_t bits; /* of the key: KEY_DO, KEY_CD */
	uint8_t rcode;
	bool dnssec;	 /* the stored response's OPT had DO */
	uint16_t hflags; /* AA, RA, AD of the stored response */
	uint32_t ttl;	 /* seconds the entry is fresh */
	uint64_t stored_ms;
	uint16_t an, ns, ar;
	uint16_t nttl;	      /* TTL offsets */
	uint16_t noadd_len;   /* bytes of answer + authority */
	uint32_t len;	      /* bytes of the three sections */
	uint32_t slot;	      /* index in the shard's slots (writer) */
	uint32_t hits;	      /* prefetch: hits without gaps (atomic) */
	uint64_t last_hit_ms; /* prefetch: time of the last hit (atomic) */
	uint64_t refresh_ms;  /* no CACHE_REFRESH before this (atomic) */
	struct rcu_head rcu;
	uint16_t ttl_off[]; /* then the sections, then the lowercase qname */
};

struct shard {
	pthread_mutex_t lock; /* writers */
	struct entry **buckets;
	struct entry **slots; /* every entry, for random eviction */
	uint32_t n, cap;
	uint64_t mask;
	uint64_t rnd;
} __attribute__((aligned(64)));

struct zone {
	uint8_t name[DNAME_MAX + 1];
	size_t len;
};

struct zones {
	struct zone *z;
	size_t n;
};

struct cache {
	struct cache_conf conf; /* its zone lists NULL: the wire forms below */
	struct zones zones, no_success, no_denial;
	struct shard shards[2][CACHE_SHARDS]; /* [kind - 1] */
};

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static inline void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline uint8_t *sections(const struct entry *e)
{
	return (uint8_t *)(e->ttl_off + e->nttl);
}

static inline const uint8_t *entry_name(const struct entry *e)
{
	return sections(e) + e->len;
}

uint64_t cache_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- zones ---- */

static int zones_init(struct zones *zs, char *const *names, size_t n)
{
	zs->z = calloc(n ? n : 1, sizeof(*zs->z));
	if (!zs->z)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		int l = dname_from_str(names[i], zs->z[i].name);
		if (l < 0)
			return -EINVAL;
		dname_lower(zs->z[i].name, (size_t)l);
		zs->z[i].len = (size_t)l;
	}
	zs->n = n;
	return 0;
}

static bool zones_match(const struct zones *zs, const uint8_t *name, size_t len)
{
	for (size_t i = 0; i < zs->n; i++)
		if (dname_suffix_at(name, len, zs->z[i].name, zs->z[i].len) >=
		    0)
			return true;
	return false;
}

unsigned cache_scope(const struct cache *c, const uint8_t *lname, size_t len)
{
	unsigned kinds = CACHE_SUCCESS | CACHE_DENIAL;

	if (c->zones.n && !zones_match(&c->zones, lname, len))
		return 0;
	if (c->no_success.n && zones_match(&c->no_success, lname, len))
		kinds &= ~(unsigned)CACHE_SUCCESS;
	if (c->no_denial.n && zones_match(&c->no_denial, lname, len))
		kinds &= ~(unsigned)CACHE_DENIAL;
	return kinds;
}

/* ---- create, free ---- */

static int shard_init(struct shard *s, long cap, uint64_t seed)
{
	long per = cap / CACHE_SHARDS;
	uint64_t nb = 1;

	if (per < MIN_SHARD_ENTRIES)
		per = MIN_SHARD_ENTRIES;
	if (per > (1L << 24))
		per = 1L << 24;
	while (nb < (uint64_t)per)
		nb <<= 1;
	s->cap = (uint32_t)per;
	s->mask = nb - 1;
	s->rnd = seed | 1;
	s->buckets = calloc(nb, sizeof(*s->buckets));
	s->slots = calloc((size_t)per, sizeof(*s->slots));
	if (pthread_mutex_init(&s->lock, NULL) != 0) {
		free(s->buckets);
		free(s->slots);
		s->buckets = NULL;
		s->slots = NULL;
		return -ENOMEM;
	}
	return s->buckets && s->slots ? 0 : -ENOMEM;
}

static void shard_fini(struct shard *s)
{
	if (!s->slots && !s->buckets)
		return;
	for (uint32_t i = 0; i < s->n; i++)
		free(s->slots[i]);
	free(s->slots);
	free(s->buckets);
	pthread_mutex_destroy(&s->lock);
}

struct cache *cache_new(const struct cache_conf *conf)
{
	struct cache *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->conf = *conf;
	c->conf.zones = c->conf.no_success = c->conf.no_denial = NULL;
	c->conf.nzones = c->conf.nno_success = c->conf.nno_denial = 0;
	if (zones_init(&c->zones, conf->zones, conf->nzones) < 0 ||
	    zones_init(&c->no_success, conf->no_success, conf->nno_success) <
		0 ||
	    zones_init(&c->no_denial, conf->no_denial, conf->nno_denial) < 0)
		goto fail;
	for (int k = 0; k < 2; k++)
		for (int i = 0; i < CACHE_SHARDS; i++)
			if (shard_init(
				&c->shards[k][i],
				k ? conf->denial_cap : conf->success_cap,
				0x9e3779b97f4a7c15ULL *
				    (uint64_t)(k * CACHE_SHARDS + i + 1)) < 0)
				goto fail;
	return c;
fail:
	cache_free(c);
	return NULL;
}

void cache_free(struct cache *c)
{
	if (!c)
		return;
	rcu_barrier();
	for (int k = 0; k < 2; k++)
		for (int i = 0; i < CACHE_SHARDS; i++)
			shard_fini(&c->shards[k][i]);
	free(c->zones.z);
	free(c->no_success.z);
	free(c->no_denial.z);
	free(c);
}

size_t cache_count(const struct cache *c, unsigned kinds)
{
	size_t n = 0;

	for (int k = 0; k < 2; k++) {
		if (!(kinds & (1u << k)))
			continue;
		for (int i = 0; i < CACHE_SHARDS; i++)
			n += __atomic_load_n(&c->shards[k][i].n,
					     __ATOMIC_RELAXED);
	}
	return n;
}

/* ---- lookup ---- */

/* The query's bits that are part of the key: DO, and CD (an answer the
 * upstream did not validate for a CD client is not for the others). */
enum { KEY_DO = 1, KEY_CD = 2 };

static uint8_t key_bits(const struct packet_query *q)
{
	return (uint8_t)((q->do_bit ? KEY_DO : 0) |
			 (q->flags & PACKET_FLAG_CD ? KEY_CD : 0));
}

static uint64_t key_hash(const uint8_t *lname, size_t len, uint16_t qtype,
			 uint16_t qclass, uint8_t bits)
{
	uint64_t h = dname_hash(lname, len);
	uint64_t k = (uint64_t)qtype << 18 | (uint64_t)qclass << 2 | bits;

	h ^= k * 0x9e3779b97f4a7c15ULL;
	h ^= h >> 31;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 29;
	return h;
}

static inline struct shard *shard_of(struct cache *c, int kind, uint64_t h)
{
	return &c->shards[kind - 1][h >> 56];
}

static inline bool same_key(const struct entry *e, uint64_t h,
			    const struct packet_query *q)
{
	return e->hash == h && e->qtype == q->qtype && e->qclass == q->qclass &&
	       e->bits == key_bits(q) && e->qlen == q->qname_len &&
	       memcmp(entry_name(e), q->lname, q->qname_len) == 0;
}

/* Under rcu_read_lock(). */
static struct entry *find(struct shard *s, uint64_t h,
			  const struct packet_query *q)
{
	struct entry *e = rcu_dereference(s->buckets[h & s->mask]);

	for (; e; e = rcu_dereference(e->next))
		if (same_key(e, h, q))
			return e;
	return NULL;
}

/* May this hit hand out a refresh?  Only one caller per gap wins. */
static bool take_refresh(struct entry *e, uint64_t now)
{
	uint64_t at = __atomic_load_n(&e->refresh_ms, __ATOMIC_RELAXED);

	return now >= at && __atomic_compare_exchange_n(
				&e->refresh_ms, &at, now + REFRESH_GAP_MS,
				false, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
}

/* Prefetch: count the hit (CoreDNS's frequency: hits with no gap of the
 * window) and say whether the entry should be refreshed now. */
static bool prefetch_due(const struct cache_conf *cf, struct entry *e,
			 uint64_t now, int64_t left)
{
	uint64_t last = __atomic_load_n(&e->last_hit_ms, __ATOMIC_RELAXED);
	uint32_t hits;

	if (last + cf->prefetch_window_ms < now) {
		hits = 1;
		__atomic_store_n(&e->hits, 1, __ATOMIC_RELAXED);
	} else {
		hits = __atomic_add_fetch(&e->hits, 1, __ATOMIC_RELAXED);
	}
	__atomic_store_n(&e->last_hit_ms, now, __ATOMIC_RELAXED);
	/* ceil(pct / 100 * ttl) */
	uint64_t threshold = ((uint64_t)cf->prefetch_pct * e->ttl + 99) / 100;
	return hits >= cf->prefetch && left <= (int64_t)threshold;
}

/* Write entry e as the answer to q. */
static size_t write_answer(const struct entry *e, const struct packet_query *q,
			   uint16_t udp_max, uint8_t *out, size_t limit,
			   uint32_t ttl)
{
	uint16_t flags = e->hflags;
	size_t opt = q->edns ? 11 : 0;
	size_t head = PACKET_HEADER + q->qname_len + 4;
	size_t len = e->len;
	uint16_t ar = e->ar;

	if (!q->do_bit && !(q->flags & PACKET_FLAG_AD))
		flags &= (uint16_t)~PACKET_FLAG_AD;
	if (head + len + opt > limit) {
		len = e->noadd_len;
		ar = 0;
	}
	if (head + len + opt > limit) {
		size_t n = packet_begin(q, flags | PACKET_FLAG_TC, e->rcode,
					out, limit);
		if (n && q->edns) {
			size_t m = packet_put_opt_do(q, udp_max, 0, e->dnssec,
						     out, n, limit);
			n = m ? m : n;
		}
		return n;
	}
	size_t n = packet_begin(q, flags, e->rcode, out, limit);
	if (!n)
		return 0;
	packet_set_counts(out, e->an, e->ns, ar);
	memcpy(out + n, sections(e), len);
	for (uint16_t i = 0; i < e->nttl && e->ttl_off[i] < len; i++)
		wr32(out + n + e->ttl_off[i], ttl);
	n += len;
	if (q->edns) {
		size_t m =
		    packet_put_opt_do(q, udp_max, 0, e->dnssec, out, n, limit);
		n = m ? m : n;
	}
	return n;
}

size_t cache_answer(struct cache *c, const struct packet_query *q,
		    uint16_t udp_max, uint8_t *out, size_t limit,
		    uint64_t now_ms, unsigned want, unsigned *flags)
{
	const struct cache_conf *cf = &c->conf;
	uint64_t h =
	    key_hash(q->lname, q->qname_len, q->qtype, q->qclass, key_bits(q));
	size_t n = 0;

	*flags = 0;
	rcu_read_lock();
	/* Denial first, as CoreDNS; an insert removes the other kind's. */
	struct entry *e = find(shard_of(c, CACHE_DENIAL, h), h, q);
	unsigned kind = CACHE_DENIAL; /* metrics */
	if (!e) {
		e = find(shard_of(c, CACHE_SUCCESS, h), h, q);
		kind = CACHE_SUCCESS;
	}
	if (!e)
		goto out;
	uint64_t age = now_ms > e->stored_ms ? now_ms - e->stored_ms : 0;
	int64_t left = (int64_t)e->ttl - (int64_t)(age / 1000);
	if (left > 0) {
		uint32_t ttl = cf->keepttl ? e->ttl : (uint32_t)left;
		n = write_answer(e, q, udp_max, out, limit, ttl);
		if (n && !(want & CACHE_PEEK) && cf->prefetch &&
		    prefetch_due(cf, e, now_ms, left) &&
		    take_refresh(e, now_ms))
			*flags = CACHE_REFRESH;
		goto out;
	}
	/* Expired: stale for stale_ms, CoreDNS's -ttl < stale seconds. */
	if (!cf->stale_ms || (uint64_t)-left * 1000 >= cf->stale_ms)
		goto out;
	if (cf->stale_verify && !(want & CACHE_WANT_STALE)) {
		*flags = CACHE_VERIFY;
		goto out;
	}
	n = write_answer(e, q, udp_max, out, limit, 0);
	if (n) {
		*flags = CACHE_STALE;
		if (!cf->stale_verify && !(want & CACHE_PEEK) &&
		    take_refresh(e, now_ms))
			*flags |= CACHE_REFRESH;
	}
out:
	rcu_read_unlock();
	if (n && !(want & CACHE_PEEK) && metrics_on()) { /* metrics */
		metrics_cache_count(METRICS_C_HITS + kind - 1);
		if (*flags & CACHE_STALE)
			metrics_cache_count(METRICS_C_STALE);
	}
	return n;
}

/* ---- insert ---- */

/* What a response says, from one walk over its records. */
struct parsed {
	size_t base;	  /* offset of the answer section */
	size_t end;	  /* end of the records kept (OPT left out) */
	size_t noadd_end; /* end of the authority section */
	uint16_t an, ns, ar;
	uint16_t nttl;
	uint32_t min_ttl; /* smallest record TTL, 3600 when larger */
	uint32_t soa_min; /* MINIMUM of an SOA in authority */
	bool soa, nsrr;
	bool records;				 /* any record but OPT */
	bool dnssec;				 /* an OPT with DO */
	uint16_t ttl_off[MAX_SECTIONS / 11 + 1]; /* last: not cleared */
};

/* RFC 2181 8: a TTL with the top bit set is 0. */
static inline uint32_t ttl_value(uint32_t t)
{
	return t & 0x80000000u ? 0 : t;
}

/* Walk the records of resp; 0 or -EINVAL when it does not parse, has an
 * OPT that is not the last record or an extended rcode. */
static int walk(const uint8_t *resp, size_t len, size_t off, struct parsed *p)
{
	unsigned total = (unsigned)p->an + p->ns + p->ar;

	p->base = off;
	p->min_ttl = 3600;
	p->soa_min = UINT32_MAX;
	for (unsigned i = 0; i < total; i++) {
		size_t rr = off;
		if (i == (unsigned)p->an + p->ns)
			p->noadd_end = rr;
		off = packet_skip_name(resp, len, off);
		if (!off || off + 10 > len)
			return -EINVAL;
		uint16_t type = rd16(resp + off);
		uint32_t ttl = ttl_value(rd32(resp + off + 4));
		size_t rdlen = rd16(resp + off + 8);
		size_t rdata = off + 10;
		if (rdata + rdlen > len)
			return -EINVAL;
		if (type == T_OPT) {
			/* hop by hop: dropped; only as the last record */
			if (i < (unsigned)p->an + p->ns || i + 1 != total ||
			    resp[off + 4] != 0)
				return -EINVAL;
			p->end = rr;
			p->ar--;
			p->dnssec = (resp[off + 6] & 0x80) != 0;
			return 0;
		}
		p->records = true;
		p->ttl_off[p->nttl++] = (uint16_t)(off + 4 - p->base);
		if (ttl < p->min_ttl)
			p->min_ttl = ttl;
		if (i >= p->an && i < (unsigned)p->an + p->ns) {
			if (type == T_SOA && rdlen >= 22) {
				p->soa = true;
				uint32_t m =
				    ttl_value(rd32(resp + rdata + rdlen - 4));
				if (m < p->soa_min)
					p->soa_min = m;
			} else if (type == T_NS) {
				p->nsrr = true;
			}
		}
		off = rdata + rdlen;
	}
	if (total == (unsigned)p->an + p->ns)
		p->noadd_end = off;
	p->end = off;
	return 0;
}

static uint32_t clamp(uint32_t ttl, uint32_t min, uint32_t max)
{
	if (ttl < min)
		ttl = min;
	if (ttl > max)
		ttl = max;
	return ttl;
}

/* Classify as CoreDNS's response.Typify and compute the entry's TTL.
 * Returns the kind, 0 for responses not kept. */
static int classify(const struct cache_conf *cf, uint8_t rcode,
		    const struct parsed *p, uint32_t *ttl)
{
	if (rcode == PACKET_RCODE_SERVFAIL) {
		*ttl = cf->servfail_ttl;
		return CACHE_DENIAL;
	}
	if (rcode != PACKET_RCODE_NOERROR && rcode != PACKET_RCODE_NXDOMAIN)
		return 0;
	if (p->an && rcode == PACKET_RCODE_NOERROR) {
		*ttl = clamp(p->records ? p->min_ttl : MINIMAL_TTL,
			     cf->success_min_ttl, cf->success_max_ttl);
		return CACHE_SUCCESS;
	}
	if (p->soa) {
		/* NODATA or NXDOMAIN: RFC 2308, the SOA's TTL and MINIMUM */
		uint32_t t = p->min_ttl < p->soa_min ? p->min_ttl : p->soa_min;
		*ttl = clamp(t, cf->denial_min_ttl, cf->denial_max_ttl);
		return CACHE_DENIAL;
	}
	if (rcode != PACKET_RCODE_NOERROR)
		return 0; /* NXDOMAIN without SOA */
	/* A referral gets CoreDNS's minimal TTL, so does an empty NOERROR. */
	*ttl = clamp(p->nsrr || !p->records ? MINIMAL_TTL : p->min_ttl,
		     cf->success_min_ttl, cf->success_max_ttl);
	return CACHE_SUCCESS;
}

static void free_entry_rcu(struct rcu_head *head)
{
	free(caa_container_of(head, struct entry, rcu));
}

static inline uint64_t xorshift(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

/* Unlink e from its chain and slots (writer, shard locked); freed after a
 * grace period. */
static void unlink_entry(struct shard *s, struct entry *e)
{
	struct entry **pp = &s->buckets[e->hash & s->mask];

	while (*pp != e)
		pp = &(*pp)->next;
	rcu_assign_pointer(*pp, e->next);
	uint32_t last = s->n - 1;
	if (e->slot != last) {
		s->slots[e->slot] = s->slots[last];
		s->slots[e->slot]->slot = e->slot;
	}
	s->slots[last] = NULL;
	__atomic_store_n(&s->n, last, __ATOMIC_RELAXED);
	call_rcu(&e->rcu, free_entry_rcu);
}

/* The entry of the same question in shard s (writer, shard locked). */
static struct entry *find_locked(struct shard *s, uint64_t h,
				 const struct packet_query *q)
{
	struct entry *e = s->buckets[h & s->mask];

	for (; e; e = e->next)
		if (same_key(e, h, q))
			return e;
	return NULL;
}

static void remove_key(struct shard *s, uint64_t h,
		       const struct packet_query *q)
{
	pthread_mutex_lock(&s->lock);
	struct entry *old = find_locked(s, h, q);
	if (old)
		unlink_entry(s, old);
	pthread_mutex_unlock(&s->lock);
}

static void store(struct shard *s, struct entry *e, int kind)
{
	pthread_mutex_lock(&s->lock);
	struct entry *old = NULL;
	for (struct entry *o = s->buckets[e->hash & s->mask]; o; o = o->next)
		if (o->hash == e->hash && o->qtype == e->qtype &&
		    o->qclass == e->qclass && o->bits == e->bits &&
		    o->qlen == e->qlen &&
		    memcmp(entry_name(o), entry_name(e), e->qlen) == 0)
			old = o;
	if (old) {
		/* a refresh keeps the popularity gathered so far */
		e->hits = __atomic_load_n(&old->hits, __ATOMIC_RELAXED);
		e->last_hit_ms =
		    __atomic_load_n(&old->last_hit_ms, __ATOMIC_RELAXED);
		unlink_entry(s, old);
	} else if (s->n == s->cap) {
		struct entry *v = s->slots[xorshift(&s->rnd) % s->n];
		metrics_cache_count(METRICS_C_EVICTIONS + (unsigned)kind -
				    1); /* metrics */
		unlink_entry(s, v);
	}
	e->slot = s->n;
	s->slots[s->n] = e;
	__atomic_store_n(&s->n, s->n + 1, __ATOMIC_RELAXED);
	e->next = s->buckets[e->hash & s->mask];
	rcu_assign_pointer(s->buckets[e->hash & s->mask], e);
	pthread_mutex_unlock(&s->lock);
}

int cache_insert(struct cache *c, const struct packet_query *q, uint8_t *resp,
		 size_t len, uint64_t now_ms)
{
	static __thread struct parsed p;
	size_t qend = PACKET_HEADER + q->qname_len + 4;
	uint32_t ttl = 0;

	if (len < qend || len > MAX_SECTIONS || q->qtype == T_AXFR ||
	    q->qtype == T_IXFR)
		return 0;
	uint16_t hf = rd16(resp + 2);
	if (!(hf & PACKET_FLAG_QR) || (hf & PACKET_FLAG_TC) ||
	    (hf & 0x7800) != 0 || rd16(resp + 4) != 1)
		return 0;
	/* the question must be q's (any case); else a drop (metrics) */
	if (packet_skip_name(resp, len, PACKET_HEADER) != qend - 4)
		goto drop;
	for (size_t i = 0; i < q->qname_len; i++) {
		uint8_t ch = resp[PACKET_HEADER + i];
		if (ch >= 'A' && ch <= 'Z')
			ch |= 0x20;
		if (ch != q->lname[i])
			goto drop;
	}
	if (rd16(resp + qend - 4) != q->qtype ||
	    rd16(resp + qend - 2) != q->qclass)
		goto drop;
	memset(&p, 0, offsetof(struct parsed, ttl_off));
	p.an = rd16(resp + 6);
	p.ns = rd16(resp + 8);
	p.ar = rd16(resp + 10);
	if (walk(resp, len, qend, &p) < 0)
		goto drop;
	uint8_t rcode = hf & 0x0f;
	int kind = classify(&c->conf, rcode, &p, &ttl);
	if (!kind || !ttl ||
	    !(cache_scope(c, q->lname, q->qname_len) & (unsigned)kind))
		return 0;

	size_t slen = p.end - p.base;
	struct entry *e = malloc(sizeof(*e) + p.nttl * sizeof(uint16_t) + slen +
				 q->qname_len);
	if (!e)
		return -ENOMEM;
	memset(e, 0, sizeof(*e));
	uint64_t h =
	    key_hash(q->lname, q->qname_len, q->qtype, q->qclass, key_bits(q));
	e->hash = h;
	e->stored_ms = now_ms;
	e->ttl = ttl;
	e->qtype = q->qtype;
	e->qclass = q->qclass;
	e->hflags = hf & (PACKET_FLAG_AA | PACKET_FLAG_RA | PACKET_FLAG_AD);
	e->rcode = rcode;
	e->dnssec = p.dnssec;
	e->an = p.an;
	e->ns = p.ns;
	e->ar = p.ar;
	e->nttl = p.nttl;
	e->noadd_len = (uint16_t)(p.noadd_end - p.base);
	e->len = (uint32_t)slen;
	e->qlen = (uint8_t)q->qname_len;
	e->bits = key_bits(q);
	memcpy(e->ttl_off, p.ttl_off, p.nttl * sizeof(uint16_t));
	memcpy(sections(e), resp + p.base, slen);
	memcpy(sections(e) + slen, q->lname, q->qname_len);
	/* the client sees the cached TTL from the first answer on */
	for (uint16_t i = 0; i < p.nttl; i++)
		wr32(resp + p.base + p.ttl_off[i], ttl);

	remove_key(
	    shard_of(c, kind == CACHE_SUCCESS ? CACHE_DENIAL : CACHE_SUCCESS,
		     h),
	    h, q);
	store(shard_of(c, kind, h), e, kind);
	return kind;
drop:
	metrics_cache_count(METRICS_C_DROPS);
	return 0;
}

/* ------------------------------------------------------------------ */
/* setup of the directive */

/* A TTL in seconds: > 0, or >= 0 for a minimum. */
static int cache_ttl(struct setup *c, const struct corefile_dir *s,
		     const char *text, bool min, uint32_t *out)
{
	char msg[256];
	long v;

	if (setup_atoi(text, &v, msg, sizeof(msg)) < 0)
		return setup_err(c, s, "cache", "%s", msg);
	if (min && v < 0)
		return setup_err(c, s, "cache",
				 "cache min TTL can not be negative: %ld", v);
	if (!min && v <= 0)
		return setup_err(c, s, "cache",
				 "cache TTL can not be zero or negative: %ld",
				 v);
	*out = v > (long)UINT32_MAX ? UINT32_MAX : (uint32_t)v;
	return 0;
}

/* success|denial CAPACITY [TTL] [MINTTL] */
static int cache_kind(struct setup *c, const struct corefile_dir *s, long *cap,
		      uint32_t *max_ttl, uint32_t *min_ttl)
{
	char msg[256];
	int rc;

	if (s->nargs == 0)
		return setup_arg_err(c, s, "cache");
	if (setup_atoi(s->args[0], cap, msg, sizeof(msg)) < 0)
		return setup_err(c, s, "cache", "%s", msg);
	if (s->nargs > 1 &&
	    (rc = cache_ttl(c, s, s->args[1], false, max_ttl)) < 0)
		return rc;
	if (s->nargs > 2 &&
	    (rc = cache_ttl(c, s, s->args[2], true, min_ttl)) < 0)
		return rc;
	return 0;
}

/* prefetch AMOUNT [[DURATION] [PERCENTAGE%]] */
static int cache_prefetch(struct setup *c, const struct corefile_dir *s,
			  struct cache_conf *cf)
{
	char msg[256];
	long v;
	bool neg;

	if (s->nargs == 0 || s->nargs > 3)
		return setup_arg_err(c, s, "cache");
	if (setup_atoi(s->args[0], &v, msg, sizeof(msg)) < 0)
		return setup_err(c, s, "cache", "%s", msg);
	if (v < 0)
		return setup_err(c, s, "cache",
				 "prefetch amount should be positive: %ld", v);
	cf->prefetch = v > (long)UINT32_MAX ? UINT32_MAX : (uint32_t)v;
	/* a negative window counts every hit as the first, as 0 does */
	if (s->nargs > 1 &&
	    setup_signed_duration(s->args[1], &cf->prefetch_window_ms, &neg,
				  msg, sizeof(msg)) < 0)
		return setup_err(c, s, "cache", "%s", msg);
	if (s->nargs > 1 && neg)
		cf->prefetch_window_ms = 0;
	if (s->nargs > 2) {
		char num[32];
		const char *pct = s->args[2];
		size_t len = strlen(pct);

		if (!len || pct[len - 1] != '%')
			return setup_err(c, s, "cache",
					 "last character of percentage should "
					 "be `%%`, but is: '%c'",
					 len ? pct[len - 1] : ' ');
		snprintf(num, sizeof(num), "%.*s", (int)(len - 1), pct);
		if (len - 1 >= sizeof(num) ||
		    setup_atoi(num, &v, msg, sizeof(msg)) < 0)
			return setup_err(c, s, "cache",
					 "strconv.Atoi: parsing \"%.*s\": "
					 "invalid syntax",
					 (int)(len - 1), pct);
		if (v < 10 || v > 90)
			return setup_err(c, s, "cache",
					 "percentage should fall in range "
					 "[10, 90]: %ld",
					 v);
		cf->prefetch_pct = (unsigned)v;
	}
	return 0;
}

/* serve_stale [DURATION [verify|immediate]] */
static int cache_stale(struct setup *c, const struct corefile_dir *s,
		       struct cache_conf *cf)
{
	char msg[256];
	bool neg;

	if (s->nargs > 2)
		return setup_arg_err(c, s, "cache");
	cf->stale_ms = 3600 * 1000;
	if (s->nargs > 0) {
		if (setup_signed_duration(s->args[0], &cf->stale_ms, &neg, msg,
					  sizeof(msg)) < 0)
			return setup_err(c, s, "cache", "%s", msg);
		if (neg)
			return setup_err(c, s, "cache",
					 "invalid negative duration for "
					 "serve_stale");
	}
	cf->stale_verify = false;
	if (s->nargs > 1) {
		char mode[32];

		snprintf(mode, sizeof(mode), "%s", s->args[1]);
		for (char *p = mode; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		if (strcmp(mode, "immediate") != 0 &&
		    strcmp(mode, "verify") != 0)
			return setup_err(c, s, "cache",
					 "invalid value for serve_stale "
					 "refresh mode: %s",
					 mode);
		cf->stale_verify = strcmp(mode, "verify") == 0;
	}
	return 0;
}

/* servfail DURATION: at most 5 minutes (RFC 2308) */
static int cache_servfail(struct setup *c, const struct corefile_dir *s,
			  struct cache_conf *cf)
{
	char msg[256];
	uint64_t ms;
	bool neg;

	if (s->nargs != 1)
		return setup_arg_err(c, s, "cache");
	if (setup_signed_duration(s->args[0], &ms, &neg, msg, sizeof(msg)) < 0)
		return setup_err(c, s, "cache", "%s", msg);
	if (neg)
		return setup_err(c, s, "cache",
				 "invalid negative ttl for servfail");
	if (ms > 5 * 60 * 1000)
		return setup_err(c, s, "cache",
				 "caching SERVFAIL responses over 5 minutes "
				 "is not permitted");
	cf->servfail_ttl = (uint32_t)(ms / 1000);
	return 0;
}

/* disable success|denial [ZONES...] (none: the root) */
static int cache_disable(struct setup *c, const struct corefile_dir *s,
			 struct cache_conf *cf)
{
	char msg[512];
	char **zones = NULL;
	size_t n = 0;
	int rc = 0;

	if (s->nargs < 1)
		return setup_arg_err(c, s, "cache");
	for (size_t i = 1; i < s->nargs && rc == 0; i++) {
		char *z;

		rc = setup_zone_parse(s->args[i], &z, msg, sizeof(msg));
		if (rc == -ENOMEM)
			break;
		if (rc < 0) {
			rc = setup_err(c, s, "cache",
				       "invalid disabled zone: %s", s->args[i]);
			break;
		}
		rc = setup_strv_add_uniq(&zones, &n, z);
		free(z);
	}
	if (rc == 0 && s->nargs == 1)
		rc = setup_strv_add(&zones, &n, "");
	if (rc == -ENOMEM)
		rc = setup_nomem(c);
	if (rc == 0 && strcmp(s->args[0], "success") == 0) {
		setup_strv_free(cf->no_success, cf->nno_success);
		cf->no_success = zones;
		cf->nno_success = n;
		return 0;
	}
	if (rc == 0 && strcmp(s->args[0], "denial") == 0) {
		setup_strv_free(cf->no_denial, cf->nno_denial);
		cf->no_denial = zones;
		cf->nno_denial = n;
		return 0;
	}
	if (rc == 0)
		rc = setup_err(c, s, "cache",
			       "cache type for disable must be \"success\" or "
			       "\"denial\"");
	setup_strv_free(zones, n);
	return rc;
}

static int cache_option(struct setup *c, const struct corefile_dir *s,
			struct cache_conf *cf)
{
	int rc = setup_no_block(c, s, "cache");

	if (rc < 0)
		return rc;
	if (strcmp(s->name, "success") == 0)
		return cache_kind(c, s, &cf->success_cap, &cf->success_max_ttl,
				  &cf->success_min_ttl);
	if (strcmp(s->name, "denial") == 0)
		return cache_kind(c, s, &cf->denial_cap, &cf->denial_max_ttl,
				  &cf->denial_min_ttl);
	if (strcmp(s->name, "prefetch") == 0)
		return cache_prefetch(c, s, cf);
	if (strcmp(s->name, "serve_stale") == 0)
		return cache_stale(c, s, cf);
	if (strcmp(s->name, "servfail") == 0)
		return cache_servfail(c, s, cf);
	if (strcmp(s->name, "disable") == 0)
		return cache_disable(c, s, cf);
	if (strcmp(s->name, "keepttl") == 0) {
		if (s->nargs)
			return setup_arg_err(c, s, "cache");
		cf->keepttl = true;
		return 0;
	}
	return setup_arg_err(c, s, "cache");
}

int cache_setup(struct setup *c, const struct corefile_dir *d)
{
	struct config_block *b = c->block;
	struct cache_directive *cc;
	struct cache_conf *cf;
	size_t first = 0;
	int rc;

	if (b->cache)
		return setup_dup_err(c, d, "cache");
	cc = calloc(1, sizeof(*cc));
	if (!cc)
		return setup_nomem(c);
	b->cache = cc;
	cc->file = strdup(d->file);
	if (!cc->file)
		return setup_nomem(c);
	cc->line = d->line;
	cf = &cc->conf;
	cf->success_cap = cf->denial_cap = 9984;
	cf->success_max_ttl = 3600;
	cf->denial_max_ttl = 1800;
	cf->success_min_ttl = cf->denial_min_ttl = 5;
	cf->servfail_ttl = 5;
	cf->prefetch_window_ms = 60 * 1000;
	cf->prefetch_pct = 10;
	if (d->nargs) {
		char msg[256];
		long ttl;

		/* a first argument that is a number is the TTL */
		if (setup_atoi(d->args[0], &ttl, msg, sizeof(msg)) == 0) {
			if (ttl <= 0)
				return setup_err(c, d, "cache",
						 "cache TTL can not be zero or "
						 "negative: %ld",
						 ttl);
			cf->success_max_ttl = cf->denial_max_ttl =
			    ttl > (long)UINT32_MAX ? UINT32_MAX : (uint32_t)ttl;
			first = 1;
		}
	}
	rc = setup_zones_add(c, d, "cache", d->nargs ? d->args + first : NULL,
			     d->nargs - first, &cf->zones, &cf->nzones);
	if (rc < 0)
		return rc;
	if (d->nargs == first) {
		for (size_t i = 0; i < b->nkeys; i++)
			if (setup_strv_add_uniq(&cf->zones, &cf->nzones,
						b->keys[i].zone) < 0)
				return setup_nomem(c);
	}
	for (size_t i = 0; i < d->nsub; i++) {
		rc = cache_option(c, &d->sub[i], cf);
		if (rc < 0)
			return rc;
	}
	return 0;
}

void cache_directive_free(struct cache_directive *cc)
{
	if (!cc)
		return;
	setup_strv_free(cc->conf.zones, cc->conf.nzones);
	setup_strv_free(cc->conf.no_success, cc->conf.nno_success);
	setup_strv_free(cc->conf.no_denial, cc->conf.nno_denial);
	free(cc->file);
	free(cc);
}
