/*
 * test_cache.c -- the answer cache on its own, with a clock the test moves:
 * what is kept and for how long (CoreDNS's classification, minimum and
 * maximum TTLs, the SOA's MINIMUM, SERVFAIL), TTLs counting down, keepttl,
 * the client's ID, letter case and EDNS, the DO and CD bits, truncation to the
 * client's UDP size, capacity and eviction, prefetch and serve_stale.
 * Responses are built by hand and read back with ldns.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <ldns/ldns.h>
#include <urcu.h>

#include "server/cache.h"
#include "server/packet.h"
#include "zones/dname.h"

#define T_A 1
#define T_NS 2
#define T_SOA 6
#define T_TXT 16
#define T_AAAA 28
#define T_OPT 41

/* ---- wire building ---- */

struct msg {
	uint8_t b[65535];
	size_t n;
};

static void put16(struct msg *m, uint16_t v)
{
	m->b[m->n++] = (uint8_t)(v >> 8);
	m->b[m->n++] = (uint8_t)v;
}

static void put32(struct msg *m, uint32_t v)
{
	put16(m, (uint16_t)(v >> 16));
	put16(m, (uint16_t)v);
}

static void put_name(struct msg *m, const char *name)
{
	int l = dname_from_str(name, m->b + m->n);

	assert_true(l > 0);
	m->n += (size_t)l;
}

static void set16(struct msg *m, size_t off, uint16_t v)
{
	m->b[off] = (uint8_t)(v >> 8);
	m->b[off + 1] = (uint8_t)v;
}

/* A query for name (its case kept); edns with the DO bit when asked. */
static void query(struct msg *m, struct packet_query *q, const char *name,
		  uint16_t type, bool edns, bool do_bit, uint16_t id)
{
	m->n = 0;
	put16(m, id);
	put16(m, PACKET_FLAG_RD);
	put16(m, 1);
	put16(m, 0);
	put16(m, 0);
	put16(m, edns ? 1 : 0);
	put_name(m, name);
	put16(m, type);
	put16(m, 1);
	if (edns) {
		m->b[m->n++] = 0;
		put16(m, T_OPT);
		put16(m, 4096);
		put32(m, do_bit ? 0x8000 : 0);
		put16(m, 0);
	}
	assert_int_equal(packet_parse(m->b, m->n, q), PACKET_OK);
}

/* The start of a response to name/type: header and question. */
static void response(struct msg *m, const char *name, uint16_t type,
		     uint16_t flags, uint8_t rcode)
{
	m->n = 0;
	put16(m, 0x4242);
	put16(m, (uint16_t)(PACKET_FLAG_QR | flags | rcode));
	put16(m, 1);
	put16(m, 0);
	put16(m, 0);
	put16(m, 0);
	put_name(m, name);
	put16(m, type);
	put16(m, 1);
}

enum { SEC_AN = 6, SEC_NS = 8, SEC_AR = 10 };

static void count(struct msg *m, int sec)
{
	set16(m, (size_t)sec, (uint16_t)(m->b[sec] << 8 | m->b[sec + 1]) + 1);
}

/* An A record owned by the question name (a compression pointer). */
static void add_a(struct msg *m, int sec, uint32_t ttl, uint32_t ip)
{
	put16(m, 0xc00c);
	put16(m, T_A);
	put16(m, 1);
	put32(m, ttl);
	put16(m, 4);
	put32(m, ip);
	count(m, sec);
}

/* An SOA of zone with TTL ttl and MINIMUM min, in authority. */
static void add_soa(struct msg *m, const char *zone, uint32_t ttl, uint32_t min)
{
	put_name(m, zone);
	put16(m, T_SOA);
	put16(m, 1);
	put32(m, ttl);
	size_t rdlen = m->n;
	put16(m, 0);
	put_name(m, "ns.example.org");
	put_name(m, "hostmaster.example.org");
	put32(m, 1);
	put32(m, 7200);
	put32(m, 1800);
	put32(m, 86400);
	put32(m, min);
	set16(m, rdlen, (uint16_t)(m->n - rdlen - 2));
	count(m, SEC_NS);
}

static void add_ns(struct msg *m, const char *zone, uint32_t ttl)
{
	put_name(m, zone);
	put16(m, T_NS);
	put16(m, 1);
	put32(m, ttl);
	size_t rdlen = m->n;
	put16(m, 0);
	put_name(m, "ns1.example.org");
	set16(m, rdlen, (uint16_t)(m->n - rdlen - 2));
	count(m, SEC_NS);
}

/* An OPT of payload size, with DO when do_bit. */
static void add_opt_do(struct msg *m, uint16_t size, bool do_bit)
{
	m->b[m->n++] = 0;
	put16(m, T_OPT);
	put16(m, size);
	put32(m, do_bit ? 0x8000 : 0);
	put16(m, 0);
	count(m, SEC_AR);
}

static void add_opt(struct msg *m, uint16_t size)
{
	add_opt_do(m, size, false);
}

/* ---- reading answers ---- */

static ldns_pkt *parse(const uint8_t *b, size_t n)
{
	ldns_pkt *p = NULL;

	assert_int_equal(ldns_wire2pkt(&p, b, n), LDNS_STATUS_OK);
	return p;
}

/* Every TTL of the answer and authority sections must be ttl. */
static void assert_ttls(ldns_pkt *p, uint32_t ttl)
{
	ldns_rr_list *secs[] = {ldns_pkt_answer(p), ldns_pkt_authority(p),
				ldns_pkt_additional(p)};

	for (int s = 0; s < 3; s++)
		for (size_t i = 0; i < ldns_rr_list_rr_count(secs[s]); i++)
			assert_int_equal(
			    ldns_rr_ttl(ldns_rr_list_rr(secs[s], i)), ttl);
}

static struct cache_conf defaults(void)
{
	struct cache_conf cf = {
	    .success_cap = 9984,
	    .denial_cap = 9984,
	    .success_max_ttl = 3600,
	    .success_min_ttl = 5,
	    .denial_max_ttl = 1800,
	    .denial_min_ttl = 5,
	    .servfail_ttl = 5,
	    .prefetch_window_ms = 60000,
	    .prefetch_pct = 10,
	};
	return cf;
}

/* A cache with cf, one A answer of ttl for name inserted at now. */
static struct cache *with_a(const struct cache_conf *cf, const char *name,
			    uint32_t ttl, uint64_t now)
{
	struct cache *c = cache_new(cf);
	struct packet_query q;
	struct msg m, r;

	assert_non_null(c);
	query(&m, &q, name, T_A, false, false, 1);
	response(&r, name, T_A, PACKET_FLAG_AA, 0);
	add_a(&r, SEC_AN, ttl, 0x0a000001);
	assert_int_equal(cache_insert(c, &q, r.b, r.n, now), CACHE_SUCCESS);
	return c;
}

/* Ask c for name/type at now; returns the length (0: miss). */
static size_t ask(struct cache *c, struct msg *out, const char *name,
		  uint16_t type, uint64_t now, unsigned want, unsigned *flags)
{
	struct packet_query q;
	struct msg m;
	unsigned fl;

	query(&m, &q, name, type, false, false, 7);
	out->n = cache_answer(c, &q, 1232, out->b, 512, now, want, &fl);
	if (flags)
		*flags = fl;
	return out->n;
}

/* ---- tests ---- */

static void test_hit_counts_down(void **state)
{
	struct cache_conf cf = defaults();
	struct cache *c = with_a(&cf, "web.example.org", 30, 10000);
	struct msg out;
	unsigned fl;

	assert_true(ask(c, &out, "web.example.org", T_A, 10000, 0, &fl) > 0);
	assert_int_equal(fl, 0);
	ldns_pkt *p = parse(out.b, out.n);
	assert_int_equal(ldns_pkt_id(p), 7);
	assert_true(ldns_pkt_aa(p));
	assert_true(ldns_pkt_rd(p));
	assert_true(ldns_pkt_qr(p));
	assert_int_equal(ldns_pkt_ancount(p), 1);
	assert_ttls(p, 30);
	ldns_pkt_free(p);

	/* 2.5 s later: 28 left (whole seconds elapsed, as CoreDNS) */
	assert_true(ask(c, &out, "web.example.org", T_A, 12500, 0, NULL) > 0);
	p = parse(out.b, out.n);
	assert_ttls(p, 28);
	ldns_pkt_free(p);
	assert_true(ask(c, &out, "web.example.org", T_A, 39999, 0, NULL) > 0);
	p = parse(out.b, out.n);
	assert_ttls(p, 1);
	ldns_pkt_free(p);
	/* expired: a miss, and other types were never there */
	assert_int_equal(ask(c, &out, "web.example.org", T_A, 40000, 0, &fl),
			 0);
	assert_int_equal(fl, 0);
	assert_int_equal(
	    ask(c, &out, "web.example.org", T_AAAA, 10000, 0, NULL), 0);
	assert_int_equal(ask(c, &out, "www.example.org", T_A, 10000, 0, NULL),
			 0);
	cache_free(c);
}

static void test_keepttl(void **state)
{
	struct cache_conf cf = defaults();
	cf.keepttl = true;
	struct cache *c = with_a(&cf, "web.example.org", 30, 0);
	struct msg out;

	assert_true(ask(c, &out, "web.example.org", T_A, 20000, 0, NULL) > 0);
	ldns_pkt *p = parse(out.b, out.n);
	assert_ttls(p, 30);
	ldns_pkt_free(p);
	assert_int_equal(ask(c, &out, "web.example.org", T_A, 30000, 0, NULL),
			 0);
	cache_free(c);
}

static void test_min_max_ttl(void **state)
{
	struct cache_conf cf = defaults();
	struct cache *c = cache_new(&cf);
	struct packet_query q;
	struct msg m, r, out;

	/* 2 s is raised to the minimum 5, and the response says so */
	query(&m, &q, "short.example.org", T_A, false, false, 1);
	response(&r, "short.example.org", T_A, 0, 0);
	add_a(&r, SEC_AN, 2, 1);
	add_a(&r, SEC_AN, 900, 2);
	assert_int_equal(cache_insert(c, &q, r.b, r.n, 0), CACHE_SUCCESS);
	ldns_pkt *p = parse(r.b, r.n);
	assert_ttls(p, 5);
	ldns_pkt_free(p);
	assert_true(ask(c, &out, "short.example.org", T_A, 4999, 0, NULL) > 0);
	assert_int_equal(ask(c, &out, "short.example.org", T_A, 5000, 0, NULL),
			 0);

	/* a day is cut to the maximum */
	query(&m, &q, "long.example.org", T_A, false, false, 1);
	response(&r, "long.example.org", T_A, 0, 0);
	add_a(&r, SEC_AN, 86400, 1);
	assert_int_equal(cache_insert(c, &q, r.b, r.n, 0), CACHE_SUCCESS);
	assert_true(ask(c, &out, "long.example.org", T_A, 0, 0, NULL) > 0);
	p = parse(out.b, out.n);
	assert_ttls(p, 3600);
	ldns_pkt_free(p);
	cache_free(c);

	/* `cache 30` with `success 100 60 10`: [10, 60] */
	cf.success_max_ttl = 60;
	cf.success_min_ttl = 10;
	c = with_a(&cf, "web.example.org", 7, 0);
	assert_true(ask(c, &out, "web.example.org", T_A, 0, 0, NULL) > 0);
	p = parse(out.b, out.n);
	assert_ttls(p, 10);
	ldns_pkt_free(p);
	cache_free(c);
}

static void test_negative_ttl_from_soa(void **state)
{
	struct cache_conf cf = defaults();
	struct cache *c = cache_new(&cf);
	struct packet_query q;
	struct msg m, r, out;
	unsigned fl;

	/* NXDOMAIN: min(SOA TTL 60, MINIMUM 20) = 20 */
	query(&m, &q, "nope.example.org", T_A, false, false, 1);
	response(&r, "nope.example.org", T_A, PACKET_FLAG_AA, 3);
	add_soa(&r, "example.org", 60, 20);
	assert_int_equal(cache_insert(c, &q, r.b, r.n, 0), CACHE_DENIAL);
	assert_int_equal(cache_count(c, CACHE_DENIAL), 1);
	assert_int_equal(cache_count(c, CACHE_SUCCESS), 0);
	assert_true(ask(c, &out, "nope.example.org", T_A, 19999, 0, &fl) > 0);
	ldns_pkt *p = parse(out.b, out.n);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	assert_int_equal(ldns_pkt_nscount(p), 1);
	assert_ttls(p, 1);
	ldns_pkt_free(p);
	assert_int_equal(ask(c, &out, "nope.example.org", T_A, 20000, 0, NULL),
			 0);

	/* NODATA: min(SOA TTL 8, MINIMUM 300) = 8 */
	query(&m, &q, "web.example.org", T_AAAA, false, false, 1);
	response(&r, "web.example.org", T_AAAA, PACKET_FLAG_AA, 0);
	add_soa(&r, "example.org", 8, 300);
	assert_int_equal(cache_insert(c, &q, r.b, r.n, 0), CACHE_DENIAL);
	assert_true(ask(c, &out, "web.example.org", T_AAAA, 0, 0, NULL) > 0);
	p = parse(out.b, out.n);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	assert_int_equal(ldns_pkt_ancount(p), 0);
	assert_ttls(p, 8);
	ldns_pkt_free(p);

	/* the denial maximum caps it */
	cache_free(c);
	cf.denial_max_ttl = 3;
	cf.denial_min_ttl = 0;
	c = cache_new(&cf);
	query(&m, &q, "nope.example.org", T_A, false, false, 1);
	response(&r, "nope.example.org", T_A, PACKET_FLAG_AA, 3);
	add_soa(&r, "example.org", 60, 20);
	assert_int_equal(cache_insert(c, &q, r.b, r.n, 0), CACHE_DENIAL);
	assert_int_equal(ask(c, &out, "nope.example.org", T_A, 3000, 0, NULL),
			 0);
	cache_free(c);
}

static void test_not_kept(void **state)
{
	struct cache_conf cf = defaults();
	struct cache *c = cache_new(&cf);
	struct packet_query q;
	struct msg m, r;

	query(&m, &q, "x.example.org", T_A, false, false, 1);
	/* NXDOMAIN without SOA */
	response(&r, "x.example.org", T_A, 0, 3);
	assert_int_equal(cache_insert(c, &q, r.b, r.n, 0), 0);
	/* REFUSED */
	response(&r, "x.example.org", T_A, 0, 5);
	assert_int_equal(cache_insert(c, &q, r.b, r.n, 0), 0);
	/* truncated */
	response(&r, "x.example.org", T_A, PACKET_FLAG_TC, 0);
	add_a(&r, SEC_AN, 30, 1);
	assert_int_equal(cache_insert(c, &q, r.b, r.n, 0), 0);
	/* another question */
	response(&r, "y.example.org", T_A, 0, 0);
	add_a(&r, SEC_AN, 30, 1);
	assert_int_equal(cache_insert(c, &q, r.b, r.n, 0), 0);
	response(&r, "x.example.org", T_AAAA, 0, 0);
	assert_int_equal(cache_insert(c, &q, r.b, r.n, 0), 0);
	/* a query, not a response */
	assert_int_equal(cache_insert(c, &q, m.b, m.n, 0), 0);
	/* cut short */
	response(&r, "x.example.org", T_A, 0, 0);
	add_a(&r, SEC_AN, 30, 1);
	assert_int_equal(cache_insert(c, &q, r.b, r.n - 1, 0), 0);
	/* an OPT that is not the last record */
	response(&r, "x.example.org", T_A, 0, 0);
	add_opt(&r, 1232);
	add_a(&r, SEC_AR, 30, 1);
	assert_int_equal(cache_insert(c, &q, r.b, r.n, 0), 0);
	assert_int_equal(cache_count(c, CACHE_SUCCESS | CACHE_DENIAL), 0);
	cache_free(c);
}

static void test_servfail(void **state)
{
	struct cache_conf cf = defaults();
	struct cache *c = cache_new(&cf);
	struct packet_query q;
	struct msg m, r, out;

	query(&m, &q, "broken.example.org", T_A, false, false, 1);
	response(&r, "broken.example.org", T_A, 0, 2);
	assert_int_equal(cache_insert(c, &q, r.b, r.n, 0), CACHE_DENIAL);
	assert_true(ask(c, &out, "broken.example.org", T_A, 4999, 0, NULL) > 0);
	ldns_pkt *p = parse(out.b, out.n);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_SERVFAIL);
	ldns_pkt_free(p);
	assert_int_equal(ask(c, &out, "broken.example.org", T_A, 5000, 0, NULL),
			 0);
	cache_free(c);

	cf.servfail_ttl = 0; /* servfail 0 */
	c = cache_new(&cf);
	assert_int_equal(cache_insert(c, &q, r.b, r.n, 0), 0);
	cache_free(c);
}

static void test_referral_and_empty(void **state)
{
	struct cache_conf cf = defaults();
	struct cache *c = cache_new(&cf);
	struct packet_query q;
	struct msg m, r, out;

	/* a referral: success, CoreDNS's 5 s whatever the NS TTL */
	query(&m, &q, "www.sub.example.org", T_A, false, false, 1);
	response(&r, "www.sub.example.org", T_A, 0, 0);
	add_ns(&r, "sub.example.org", 3600);
	assert_int_equal(cache_insert(c, &q, r.b, r.n, 0), CACHE_SUCCESS);
	assert_true(ask(c, &out, "www.sub.example.org", T_A, 4999, 0, NULL) >
		    0);
	assert_int_equal(
	    ask(c, &out, "www.sub.example.org", T_A, 5000, 0, NULL), 0);
	/* NOERROR with nothing at all: success for 5 s */
	query(&m, &q, "empty.example.org", T_TXT, false, false, 1);
	response(&r, "empty.example.org", T_TXT, 0, 0);
	assert_int_equal(cache_insert(c, &q, r.b, r.n, 0), CACHE_SUCCESS);
	assert_true(ask(c, &out, "empty.example.org", T_TXT, 4000, 0, NULL) >
		    0);
	cache_free(c);
}

static void test_do_bit_and_edns(void **state)
{
	struct cache_conf cf = defaults();
	struct cache *c = cache_new(&cf);
	struct packet_query q;
	struct msg m, r, out;
	unsigned fl;

	/* stored from a DO query, with the upstream's OPT (DO set) and AD */
	query(&m, &q, "sec.example.org", T_A, true, true, 1);
	response(&r, "sec.example.org", T_A, PACKET_FLAG_AD | PACKET_FLAG_RA,
		 0);
	add_a(&r, SEC_AN, 60, 1);
	add_opt_do(&r, 4096, true);
	assert_int_equal(cache_insert(c, &q, r.b, r.n, 0), CACHE_SUCCESS);

	/* without DO: another key */
	query(&m, &q, "sec.example.org", T_A, true, false, 2);
	assert_int_equal(cache_answer(c, &q, 1232, out.b, 1232, 0, 0, &fl), 0);
	query(&m, &q, "sec.example.org", T_A, false, false, 2);
	assert_int_equal(cache_answer(c, &q, 1232, out.b, 1232, 0, 0, &fl), 0);

	/* with DO: our OPT (1232, DO echoed), AD and RA kept */
	query(&m, &q, "sec.example.org", T_A, true, true, 3);
	out.n = cache_answer(c, &q, 1232, out.b, 1232, 0, 0, &fl);
	assert_true(out.n > 0);
	ldns_pkt *p = parse(out.b, out.n);
	assert_int_equal(ldns_pkt_id(p), 3);
	assert_true(ldns_pkt_edns(p));
	assert_int_equal(ldns_pkt_edns_udp_size(p), 1232);
	assert_true(ldns_pkt_edns_do(p));
	assert_true(ldns_pkt_ad(p));
	assert_true(ldns_pkt_ra(p));
	assert_int_equal(ldns_pkt_arcount(p), 0); /* OPT not counted */
	assert_int_equal(ldns_pkt_ancount(p), 1);
	ldns_pkt_free(p);

	/* a DO query answered without DO (a DNSSEC-unaware upstream, or our
	 * own zone): DO clear in what the cache answers */
	query(&m, &q, "unsigned.example.org", T_A, true, true, 1);
	response(&r, "unsigned.example.org", T_A, PACKET_FLAG_AA, 0);
	add_a(&r, SEC_AN, 60, 1);
	add_opt(&r, 1232);
	assert_int_equal(cache_insert(c, &q, r.b, r.n, 0), CACHE_SUCCESS);
	query(&m, &q, "unsigned.example.org", T_A, true, true, 4);
	out.n = cache_answer(c, &q, 1232, out.b, 1232, 0, 0, &fl);
	assert_true(out.n > 0);
	p = parse(out.b, out.n);
	assert_true(ldns_pkt_edns(p));
	assert_false(ldns_pkt_edns_do(p));
	ldns_pkt_free(p);

	/* a plain answer stored without DO gets no AD for a client without
	 * DO or AD */
	query(&m, &q, "plain.example.org", T_A, false, false, 1);
	response(&r, "plain.example.org", T_A, PACKET_FLAG_AD, 0);
	add_a(&r, SEC_AN, 60, 1);
	assert_int_equal(cache_insert(c, &q, r.b, r.n, 0), CACHE_SUCCESS);
	assert_true(ask(c, &out, "plain.example.org", T_A, 0, 0, NULL) > 0);
	p = parse(out.b, out.n);
	assert_false(ldns_pkt_ad(p));
	assert_false(ldns_pkt_edns(p));
	ldns_pkt_free(p);
	cache_free(c);
}

/* An answer to a query with CD (checking disabled: the upstream did not
 * validate it) is kept apart from answers for the other clients. */
static void test_cd_bit(void **state)
{
	struct cache_conf cf = defaults();
	struct cache *c = cache_new(&cf);
	struct packet_query q;
	struct msg m, r, out;
	unsigned fl;

	(void)state;
	query(&m, &q, "cd.example.org", T_A, true, true, 1);
	m.b[3] |= PACKET_FLAG_CD;
	assert_int_equal(packet_parse(m.b, m.n, &q), PACKET_OK);
	response(&r, "cd.example.org", T_A, PACKET_FLAG_RA | PACKET_FLAG_CD, 0);
	add_a(&r, SEC_AN, 60, 1);
	assert_int_equal(cache_insert(c, &q, r.b, r.n, 0), CACHE_SUCCESS);
	/* the same query with CD: a hit, with the client's CD */
	query(&m, &q, "cd.example.org", T_A, true, true, 2);
	m.b[3] |= PACKET_FLAG_CD;
	assert_int_equal(packet_parse(m.b, m.n, &q), PACKET_OK);
	out.n = cache_answer(c, &q, 1232, out.b, 1232, 0, 0, &fl);
	assert_true(out.n > 0);
	ldns_pkt *p = parse(out.b, out.n);
	assert_true(ldns_pkt_cd(p));
	assert_int_equal(ldns_pkt_ancount(p), 1);
	ldns_pkt_free(p);
	/* without CD, with DO or not: another key */
	query(&m, &q, "cd.example.org", T_A, true, true, 3);
	assert_int_equal(cache_answer(c, &q, 1232, out.b, 1232, 0, 0, &fl), 0);
	query(&m, &q, "cd.example.org", T_A, false, false, 4);
	assert_int_equal(cache_answer(c, &q, 1232, out.b, 1232, 0, 0, &fl), 0);
	cache_free(c);
}

static void test_case_restored(void **state)
{
	struct cache_conf cf = defaults();
	struct cache *c = with_a(&cf, "Web.Example.ORG", 30, 0);
	struct packet_query q;
	struct msg m, out;
	unsigned fl;

	query(&m, &q, "wEB.eXAMPLE.org", T_A, false, false, 9);
	out.n = cache_answer(c, &q, 1232, out.b, 512, 0, 0, &fl);
	assert_true(out.n > 0);
	/* the question bytes are the client's, and so is the owner (a
	 * pointer to the question) */
	assert_memory_equal(out.b + 12, m.b + 12, q.qname_len + 4);
	ldns_pkt *p = parse(out.b, out.n);
	char *owner =
	    ldns_rdf2str(ldns_rr_owner(ldns_rr_list_rr(ldns_pkt_answer(p), 0)));
	assert_string_equal(owner, "wEB.eXAMPLE.org.");
	free(owner);
	ldns_pkt_free(p);
	cache_free(c);
}

static void test_truncation(void **state)
{
	struct cache_conf cf = defaults();
	struct cache *c = cache_new(&cf);
	struct packet_query q;
	struct msg m, r, out;
	unsigned fl;

	/* 20 answers (320 bytes) and 20 additional records */
	query(&m, &q, "big.example.org", T_A, false, false, 1);
	response(&r, "big.example.org", T_A, PACKET_FLAG_AA, 0);
	for (uint32_t i = 0; i < 20; i++)
		add_a(&r, SEC_AN, 60, i);
	for (uint32_t i = 0; i < 20; i++)
		add_a(&r, SEC_AR, 60, 100 + i);
	assert_int_equal(cache_insert(c, &q, r.b, r.n, 0), CACHE_SUCCESS);

	/* TCP size: everything */
	query(&m, &q, "big.example.org", T_A, false, false, 2);
	out.n = cache_answer(c, &q, 1232, out.b, 65535, 0, 0, &fl);
	ldns_pkt *p = parse(out.b, out.n);
	assert_int_equal(ldns_pkt_ancount(p), 20);
	assert_int_equal(ldns_pkt_arcount(p), 20);
	assert_false(ldns_pkt_tc(p));
	ldns_pkt_free(p);
	/* 512: the additional section is left out, no TC */
	out.n = cache_answer(c, &q, 1232, out.b, 512, 0, 0, &fl);
	assert_true(out.n <= 512);
	p = parse(out.b, out.n);
	assert_int_equal(ldns_pkt_ancount(p), 20);
	assert_int_equal(ldns_pkt_arcount(p), 0);
	assert_false(ldns_pkt_tc(p));
	ldns_pkt_free(p);
	/* 300: TC, header and question only, OPT kept for an EDNS query */
	query(&m, &q, "big.example.org", T_A, true, false, 3);
	out.n = cache_answer(c, &q, 1232, out.b, 300, 0, 0, &fl);
	assert_true(out.n > 0 && out.n <= 300);
	p = parse(out.b, out.n);
	assert_true(ldns_pkt_tc(p));
	assert_true(ldns_pkt_aa(p));
	assert_int_equal(ldns_pkt_ancount(p), 0);
	assert_int_equal(ldns_pkt_qdcount(p), 1);
	assert_true(ldns_pkt_edns(p));
	ldns_pkt_free(p);
	cache_free(c);
}

static void test_capacity_eviction(void **state)
{
	struct cache_conf cf = defaults();
	cf.success_cap = 100; /* under 1024: 4 per shard, as CoreDNS */
	struct cache *c = cache_new(&cf);
	struct packet_query q;
	struct msg m, r, out;
	char name[64];

	for (int i = 0; i < 5000; i++) {
		snprintf(name, sizeof(name), "n%d.example.org", i);
		query(&m, &q, name, T_A, false, false, 1);
		response(&r, name, T_A, 0, 0);
		add_a(&r, SEC_AN, 60, (uint32_t)i);
		assert_int_equal(cache_insert(c, &q, r.b, r.n, 0),
				 CACHE_SUCCESS);
		/* what was just kept is there */
		assert_true(ask(c, &out, name, T_A, 0, 0, NULL) > 0);
	}
	size_t n = cache_count(c, CACHE_SUCCESS);
	assert_true(n <= CACHE_SHARDS * 4);
	assert_true(n > CACHE_SHARDS * 3); /* 5000 keys fill nearly all */
	/* some of the first names were evicted */
	int hits = 0;
	for (int i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "n%d.example.org", i);
		hits += ask(c, &out, name, T_A, 0, 0, NULL) > 0;
	}
	assert_true(hits < 1000);
	/* the same question again replaces, not adds */
	query(&m, &q, "n4999.example.org", T_A, false, false, 1);
	response(&r, "n4999.example.org", T_A, 0, 0);
	add_a(&r, SEC_AN, 60, 1);
	assert_int_equal(cache_insert(c, &q, r.b, r.n, 0), CACHE_SUCCESS);
	assert_int_equal(cache_count(c, CACHE_SUCCESS), n);
	cache_free(c);
}

static void test_kind_replaced(void **state)
{
	struct cache_conf cf = defaults();
	struct cache *c = cache_new(&cf);
	struct packet_query q;
	struct msg m, r, out;

	query(&m, &q, "new.example.org", T_A, false, false, 1);
	response(&r, "new.example.org", T_A, 0, 3);
	add_soa(&r, "example.org", 60, 60);
	assert_int_equal(cache_insert(c, &q, r.b, r.n, 0), CACHE_DENIAL);
	response(&r, "new.example.org", T_A, 0, 0);
	add_a(&r, SEC_AN, 60, 1);
	assert_int_equal(cache_insert(c, &q, r.b, r.n, 1000), CACHE_SUCCESS);
	assert_int_equal(cache_count(c, CACHE_DENIAL), 0);
	assert_true(ask(c, &out, "new.example.org", T_A, 1000, 0, NULL) > 0);
	ldns_pkt *p = parse(out.b, out.n);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	ldns_pkt_free(p);
	cache_free(c);
}

static void test_prefetch(void **state)
{
	struct cache_conf cf = defaults();
	cf.prefetch = 3;
	cf.prefetch_window_ms = 10000;
	cf.prefetch_pct = 10;
	struct cache *c = with_a(&cf, "hot.example.org", 100, 0);
	struct msg out;
	unsigned fl;

	/* popular early on: no refresh while more than 10 s are left */
	for (uint64_t t = 0; t < 90000; t += 5000) {
		assert_true(ask(c, &out, "hot.example.org", T_A, t, 0, &fl) >
			    0);
		assert_int_equal(fl, 0);
	}
	/* 10 s left, three hits without a 10 s gap: refresh, once */
	assert_true(ask(c, &out, "hot.example.org", T_A, 90000, 0, &fl) > 0);
	assert_int_equal(fl, CACHE_REFRESH);
	assert_true(ask(c, &out, "hot.example.org", T_A, 90500, 0, &fl) > 0);
	assert_int_equal(fl, 0);
	/* the refresh was lost: asked again a second later */
	assert_true(ask(c, &out, "hot.example.org", T_A, 91500, 0, &fl) > 0);
	assert_int_equal(fl, CACHE_REFRESH);
	/* a peek neither counts nor refreshes */
	assert_true(
	    ask(c, &out, "hot.example.org", T_A, 93000, CACHE_PEEK, &fl) > 0);
	assert_int_equal(fl, 0);
	cache_free(c);

	/* hits with gaps longer than the window do not make it popular */
	c = with_a(&cf, "cold.example.org", 100, 0);
	for (uint64_t t = 0; t < 100000; t += 11000) {
		assert_true(ask(c, &out, "cold.example.org", T_A, t, 0, &fl) >
			    0);
		assert_int_equal(fl, 0);
	}
	cache_free(c);

	/* the refreshed entry keeps the count: the next refresh comes at
	 * its own 10 % */
	c = with_a(&cf, "hot.example.org", 100, 0);
	for (uint64_t t = 86000; t <= 90000; t += 2000)
		ask(c, &out, "hot.example.org", T_A, t, 0, &fl);
	assert_int_equal(fl, CACHE_REFRESH);
	struct packet_query q;
	struct msg m, r;
	query(&m, &q, "hot.example.org", T_A, false, false, 1);
	response(&r, "hot.example.org", T_A, 0, 0);
	add_a(&r, SEC_AN, 100, 2);
	assert_int_equal(cache_insert(c, &q, r.b, r.n, 90000), CACHE_SUCCESS);
	assert_true(ask(c, &out, "hot.example.org", T_A, 180000, 0, &fl) > 0);
	assert_int_equal(fl, 0); /* the gap reset the count */
	ask(c, &out, "hot.example.org", T_A, 181000, 0, &fl);
	ask(c, &out, "hot.example.org", T_A, 182000, 0, &fl);
	assert_int_equal(fl, CACHE_REFRESH);
	cache_free(c);
}

static void test_stale_immediate(void **state)
{
	struct cache_conf cf = defaults();
	cf.stale_ms = 60000;
	struct cache *c = with_a(&cf, "old.example.org", 30, 0);
	struct msg out;
	unsigned fl;

	assert_true(ask(c, &out, "old.example.org", T_A, 29000, 0, &fl) > 0);
	assert_int_equal(fl, 0);
	/* expired: TTL 0, and refresh it */
	assert_true(ask(c, &out, "old.example.org", T_A, 31000, 0, &fl) > 0);
	assert_int_equal(fl, CACHE_STALE | CACHE_REFRESH);
	ldns_pkt *p = parse(out.b, out.n);
	assert_ttls(p, 0);
	assert_int_equal(ldns_pkt_ancount(p), 1);
	ldns_pkt_free(p);
	assert_true(ask(c, &out, "old.example.org", T_A, 31100, 0, &fl) > 0);
	assert_int_equal(fl, CACHE_STALE);
	/* up to 60 s after expiry, not beyond */
	assert_true(ask(c, &out, "old.example.org", T_A, 89999, 0, &fl) > 0);
	assert_int_equal(ask(c, &out, "old.example.org", T_A, 90000, 0, &fl),
			 0);
	cache_free(c);

	/* without serve_stale, nothing after expiry even when asked */
	cf.stale_ms = 0;
	c = with_a(&cf, "old.example.org", 30, 0);
	assert_int_equal(
	    ask(c, &out, "old.example.org", T_A, 31000, CACHE_WANT_STALE, &fl),
	    0);
	cache_free(c);
}

static void test_stale_verify(void **state)
{
	struct cache_conf cf = defaults();
	cf.stale_ms = 3600000;
	cf.stale_verify = true;
	struct cache *c = with_a(&cf, "old.example.org", 30, 0);
	struct msg out;
	unsigned fl;

	/* expired: ask upstream first */
	assert_int_equal(ask(c, &out, "old.example.org", T_A, 40000, 0, &fl),
			 0);
	assert_int_equal(fl, CACHE_VERIFY);
	/* upstream failed: the stale answer, nothing more to refresh */
	assert_true(ask(c, &out, "old.example.org", T_A, 40000,
			CACHE_WANT_STALE, &fl) > 0);
	assert_int_equal(fl, CACHE_STALE);
	ldns_pkt *p = parse(out.b, out.n);
	assert_ttls(p, 0);
	ldns_pkt_free(p);
	/* fresh entries are answered as usual */
	assert_true(ask(c, &out, "old.example.org", T_A, 1000, CACHE_WANT_STALE,
			&fl) > 0);
	assert_int_equal(fl, 0);
	cache_free(c);
}

static void test_scope(void **state)
{
	struct cache_conf cf = defaults();
	char *zones[] = {"example.org", "in-addr.arpa"};
	char *no_success[] = {"cluster.example.org"};
	char *no_denial[] = {"cluster.example.org", "dev.example.org"};
	uint8_t n[256];
	int l;

	cf.zones = zones;
	cf.nzones = 2;
	cf.no_success = no_success;
	cf.nno_success = 1;
	cf.no_denial = no_denial;
	cf.nno_denial = 2;
	struct cache *c = cache_new(&cf);
	assert_non_null(c);
	l = dname_from_str("web.example.org", n);
	assert_int_equal(cache_scope(c, n, (size_t)l),
			 CACHE_SUCCESS | CACHE_DENIAL);
	l = dname_from_str("web.cluster.example.org", n);
	assert_int_equal(cache_scope(c, n, (size_t)l), 0);
	l = dname_from_str("x.dev.example.org", n);
	assert_int_equal(cache_scope(c, n, (size_t)l), CACHE_SUCCESS);
	l = dname_from_str("example.com", n);
	assert_int_equal(cache_scope(c, n, (size_t)l), 0);

	/* out of scope: not kept */
	struct packet_query q;
	struct msg m, r;
	query(&m, &q, "web.example.com", T_A, false, false, 1);
	response(&r, "web.example.com", T_A, 0, 0);
	add_a(&r, SEC_AN, 60, 1);
	assert_int_equal(cache_insert(c, &q, r.b, r.n, 0), 0);
	/* success disabled, denial kept */
	query(&m, &q, "a.cluster.example.org", T_A, false, false, 1);
	response(&r, "a.cluster.example.org", T_A, 0, 0);
	add_a(&r, SEC_AN, 60, 1);
	assert_int_equal(cache_insert(c, &q, r.b, r.n, 0), 0);
	query(&m, &q, "a.dev.example.org", T_A, false, false, 1);
	response(&r, "a.dev.example.org", T_A, 0, 3);
	add_soa(&r, "example.org", 60, 60);
	assert_int_equal(cache_insert(c, &q, r.b, r.n, 0), 0);
	response(&r, "a.dev.example.org", T_A, 0, 0);
	add_a(&r, SEC_AN, 60, 1);
	assert_int_equal(cache_insert(c, &q, r.b, r.n, 0), CACHE_SUCCESS);
	cache_free(c);
}

/* Readers on other threads while a writer replaces and evicts entries:
 * every answer they get is whole (for ASan and the RCU grace periods). */
struct race {
	struct cache *c;
	volatile bool stop;
	unsigned answers;
};

static void *reader(void *arg)
{
	struct race *r = arg;
	struct msg out;
	char name[64];

	rcu_register_thread();
	for (unsigned i = 0; !r->stop; i++) {
		snprintf(name, sizeof(name), "n%u.example.org", i % 64);
		if (ask(r->c, &out, name, T_A, 0, 0, NULL)) {
			ldns_pkt *p = parse(out.b, out.n);
			assert_int_equal(ldns_pkt_ancount(p), 2);
			ldns_pkt_free(p);
			r->answers++;
		}
	}
	rcu_unregister_thread();
	return NULL;
}

static void test_concurrent_readers(void **state)
{
	struct cache_conf cf = defaults();
	cf.success_cap = 0; /* 4 per shard */
	struct race r = {.c = cache_new(&cf)};
	pthread_t t[2];
	struct packet_query q;
	struct msg m, resp;
	char name[64];

	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, reader, &r), 0);
	for (unsigned i = 0; i < 20000; i++) {
		snprintf(name, sizeof(name), "n%u.example.org", i % 64);
		query(&m, &q, name, T_A, false, false, 1);
		response(&resp, name, T_A, 0, 0);
		add_a(&resp, SEC_AN, 60, i);
		add_a(&resp, SEC_AN, 60, i + 1);
		assert_int_equal(cache_insert(r.c, &q, resp.b, resp.n, 0),
				 CACHE_SUCCESS);
	}
	r.stop = true;
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	assert_true(r.answers > 0);
	cache_free(r.c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hit_counts_down),
	    cmocka_unit_test(test_keepttl),
	    cmocka_unit_test(test_min_max_ttl),
	    cmocka_unit_test(test_negative_ttl_from_soa),
	    cmocka_unit_test(test_not_kept),
	    cmocka_unit_test(test_servfail),
	    cmocka_unit_test(test_referral_and_empty),
	    cmocka_unit_test(test_do_bit_and_edns),
	    cmocka_unit_test(test_cd_bit),
	    cmocka_unit_test(test_case_restored),
	    cmocka_unit_test(test_truncation),
	    cmocka_unit_test(test_capacity_eviction),
	    cmocka_unit_test(test_kind_replaced),
	    cmocka_unit_test(test_prefetch),
	    cmocka_unit_test(test_stale_immediate),
	    cmocka_unit_test(test_stale_verify),
	    cmocka_unit_test(test_scope),
	    cmocka_unit_test(test_concurrent_readers),
	};
	int rc;

	rcu_register_thread();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	rcu_unregister_thread();
	return rc;
}
