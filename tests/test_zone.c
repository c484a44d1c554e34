/*
 * test_zone.c -- the zone index with records written by hand: owners added,
 * replaced and removed, existence of names and empty non-terminals, exact
 * answer bytes, duplicates, glue, CNAME chasing and its dependencies,
 * serials, stale owners, invalid records and the record walk.  Answers are
 * also turned into full responses and parsed with ldns.
 */
#include <arpa/inet.h>
#include <errno.h>
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

#include "tests/rcu_group.h"

#include "zones/dname.h"
#include "zones/zone.h"

#define T_A 1
#define T_NS 2
#define T_CNAME 5
#define T_SOA 6
#define T_PTR 12
#define T_TXT 16
#define T_AAAA 28
#define T_SRV 33
#define T_ANY 255

/* ---- records in the zone_owner_set format ---- */

struct recs {
	uint8_t b[65536];
	size_t n;
};

static void put(struct recs *r, const void *p, size_t n)
{
	assert_true(r->n + n <= sizeof(r->b));
	if (n == 0)
		return;
	memcpy(r->b + r->n, p, n);
	r->n += n;
}

static void put16(struct recs *r, uint16_t v)
{
	uint8_t t[2] = {(uint8_t)(v >> 8), (uint8_t)v};
	put(r, t, 2);
}

static size_t wire(const char *s, uint8_t *out)
{
	int n = dname_from_str(s, out);

	assert_true(n > 0);
	return (size_t)n;
}

static size_t lwire(const char *s, uint8_t *out)
{
	size_t n = wire(s, out);

	dname_lower(out, n);
	return n;
}

static void add(struct recs *r, const char *owner, uint16_t type,
		const void *rd, size_t rdlen)
{
	uint8_t o[DNAME_MAX];
	size_t ol = lwire(owner, o);
	uint8_t l = (uint8_t)ol;

	put(r, &l, 1);
	put(r, o, ol);
	put16(r, type);
	put16(r, (uint16_t)rdlen);
	put(r, rd, rdlen);
}

static void add_a(struct recs *r, const char *owner, const char *ip)
{
	uint8_t a[16];

	if (strchr(ip, ':')) {
		assert_int_equal(inet_pton(AF_INET6, ip, a), 1);
		add(r, owner, T_AAAA, a, 16);
	} else {
		assert_int_equal(inet_pton(AF_INET, ip, a), 1);
		add(r, owner, T_A, a, 4);
	}
}

/* CNAME, NS, PTR: the target keeps its letter case. */
static void add_name(struct recs *r, const char *owner, uint16_t type,
		     const char *target)
{
	uint8_t t[DNAME_MAX];

	add(r, owner, type, t, wire(target, t));
}

static void add_srv(struct recs *r, const char *owner, uint16_t weight,
		    uint16_t port, const char *target)
{
	uint8_t rd[6 + DNAME_MAX] = {0,
				     0,
				     (uint8_t)(weight >> 8),
				     (uint8_t)weight,
				     (uint8_t)(port >> 8),
				     (uint8_t)port};

	add(r, owner, T_SRV, rd, 6 + wire(target, rd + 6));
}

static void add_exists(struct recs *r, const char *owner)
{
	add(r, owner, 0, NULL, 0);
}

/* ---- the index ---- */

static struct zone_index *new_zone(uint32_t ttl)
{
	uint8_t z[2][DNAME_MAX], m[2][DNAME_MAX];
	const uint8_t *zp[2] = {z[0], z[1]}, *mp[2] = {m[0], m[1]};

	lwire("cluster.local", z[0]);
	lwire("ns.dns.cluster.local", m[0]);
	lwire("10.in-addr.arpa", z[1]);
	lwire("ns.dns.cluster.local", m[1]);
	struct zone_index *zi = zone_index_new(zp, mp, 2, ttl);
	assert_non_null(zi);
	return zi;
}

static void set(struct zone_index *zi, const char *key, const struct recs *r,
		uint64_t gen)
{
	assert_int_equal(
	    zone_owner_set(zi, key, r ? r->b : NULL, r ? r->n : 0, gen), 0);
}

/* What a reader sees for (name, qtype), copied out of the RCU section. */
struct ans {
	bool exists; /* the name exists */
	bool has;    /* an entry answers qtype */
	size_t nentries_probe;
	struct zone_entry e;
	uint8_t d[65536];
};

static void look(struct zone_index *zi, const char *name, uint16_t qtype,
		 struct ans *a)
{
	uint8_t n[DNAME_MAX];
	size_t nl = lwire(name, n);

	memset(a, 0, sizeof(*a));
	rcu_read_lock();
	const struct zone_node *node = zone_lookup(zi, n, nl);
	if (node) {
		a->exists = true;
		const struct zone_entry *e = zone_node_find(node, qtype);
		if (e) {
			a->has = true;
			a->e = *e;
			assert_true(e->len <= sizeof(a->d));
			memcpy(a->d, zone_node_data(node) + e->off, e->len);
		}
	}
	rcu_read_unlock();
}

static bool exists(struct zone_index *zi, const char *name)
{
	struct ans a;

	look(zi, name, T_A, &a);
	return a.exists;
}

/*
 * The full response a server would send for (name, qtype): header, the
 * question, the entry's data and the SOA when the entry asks for it (or for
 * NODATA / NXDOMAIN).  Returns NULL when the name is outside the zones.
 */
static ldns_pkt *response(struct zone_index *zi, const char *name,
			  uint16_t qtype)
{
	static uint8_t p[65536];
	uint8_t q[DNAME_MAX], lq[DNAME_MAX];
	size_t ql = wire(name, q), alen, n = 12;
	uint16_t an = 0, ns = 0, ar = 0;
	uint8_t rcode = 0;
	ldns_pkt *pkt = NULL;

	dname_lower_copy(lq, q, ql);
	memset(p, 0, 12);
	p[0] = 0x12;
	p[1] = 0x34;
	p[2] = 0x84; /* QR AA */
	p[5] = 1;
	memcpy(p + n, q, ql);
	n += ql;
	p[n++] = (uint8_t)(qtype >> 8);
	p[n++] = (uint8_t)qtype;
	p[n++] = 0;
	p[n++] = 1;
	rcu_read_lock();
	const struct zone_apex *apex = zone_apex_of(zi, lq, ql, &alen);
	if (!apex) {
		rcu_read_unlock();
		return NULL;
	}
	const struct zone_node *node = zone_lookup(zi, lq, ql);
	const struct zone_entry *e = node ? zone_node_find(node, qtype) : NULL;
	bool soa = true;
	if (!node)
		rcode = 3;
	if (e) {
		memcpy(p + n, zone_node_data(node) + e->off, e->len);
		n += e->len;
		an = e->an;
		ns = e->ns;
		ar = e->ar;
		rcode = e->rcode;
		soa = (e->flags & ZONE_ENTRY_SOA) != 0;
		if (soa)
			assert_int_equal(ar, 0);
	}
	if (soa) {
		size_t sl;
		const uint8_t *s = zone_apex_soa(apex, &sl);
		memcpy(p + n, s, sl);
		unsigned ptr = 12 + (unsigned)(ql - alen);
		p[n] = (uint8_t)(0xc0 | ptr >> 8);
		p[n + 1] = (uint8_t)ptr;
		n += sl;
		ns++;
	}
	rcu_read_unlock();
	p[3] = rcode;
	p[6] = (uint8_t)(an >> 8);
	p[7] = (uint8_t)an;
	p[8] = (uint8_t)(ns >> 8);
	p[9] = (uint8_t)ns;
	p[10] = (uint8_t)(ar >> 8);
	p[11] = (uint8_t)ar;
	assert_int_equal(ldns_wire2pkt(&pkt, p, n), LDNS_STATUS_OK);
	return pkt;
}

/* RR i of list is text (owner, ttl, class, type, rdata), TTL included. */
static void assert_rr(const ldns_rr_list *l, size_t i, const char *text)
{
	ldns_rr *want = NULL;

	assert_true(i < ldns_rr_list_rr_count(l));
	assert_int_equal(ldns_rr_new_frm_str(&want, text, 0, NULL, NULL),
			 LDNS_STATUS_OK);
	ldns_rr *got = ldns_rr_list_rr(l, i);
	if (ldns_rr_compare(got, want) != 0 ||
	    ldns_rr_ttl(got) != ldns_rr_ttl(want)) {
		char *s = ldns_rr2str(got);
		print_error("want %s\ngot  %s", text, s);
		free(s);
		ldns_rr_free(want);
		fail();
	}
	ldns_rr_free(want);
}

static void assert_owner(const ldns_rr *rr, const char *want)
{
	char *s = ldns_rdf2str(ldns_rr_owner(rr));

	assert_non_null(s);
	bool ok = strcmp(s, want) == 0;
	if (!ok)
		print_error("owner %s, want %s\n", s, want);
	free(s);
	assert_true(ok);
}

/* ---- tests ---- */

/* zone_apex_of, checked to be what zone_apex_of_labels says from the
 * name's label offsets. */
static const struct zone_apex *
apex_of(const struct zone_index *zi, const uint8_t *n, size_t nl, size_t *alen)
{
	uint8_t loff[128];
	unsigned labels = 0;
	size_t l2 = 0;

	for (size_t o = 0; n[o]; o += (size_t)n[o] + 1)
		loff[labels++] = (uint8_t)o;
	const struct zone_apex *a = zone_apex_of(zi, n, nl, alen);
	assert_ptr_equal(zone_apex_of_labels(zi, n, nl, loff, labels, &l2), a);
	if (a)
		assert_int_equal(l2, *alen);
	return a;
}

static void test_apexes(void **state)
{
	struct zone_index *zi = new_zone(5);
	struct ans a;
	uint8_t n[DNAME_MAX];
	size_t alen = 0, nl;

	(void)state;
	assert_int_equal(zone_count_apexes(zi), 2);
	assert_int_equal(zone_count_names(zi), 2);
	assert_int_equal(zone_count_owners(zi), 0);
	assert_int_equal(zone_ttl(zi), 5);
	assert_true(zone_serial(zi) > 0);
	nl = lwire("cluster.local", n);
	assert_memory_equal(zone_apex_name(zi, 0), n, nl);
	assert_null(zone_apex_name(zi, 2));

	rcu_read_lock();
	nl = lwire("web.prod.svc.cluster.local", n);
	assert_non_null(apex_of(zi, n, nl, &alen));
	assert_int_equal(alen, 15);
	nl = lwire("5.1.244.10.in-addr.arpa", n);
	assert_non_null(apex_of(zi, n, nl, &alen));
	assert_int_equal(alen, 17);
	nl = lwire("xcluster.local", n);
	assert_null(apex_of(zi, n, nl, &alen));
	nl = lwire("local", n);
	assert_null(apex_of(zi, n, nl, &alen));
	nl = lwire("11.in-addr.arpa", n);
	assert_null(apex_of(zi, n, nl, &alen));
	rcu_read_unlock();

	/* The apex answers SOA from the start; other types are NODATA. */
	look(zi, "cluster.local", T_SOA, &a);
	assert_true(a.exists && a.has);
	assert_int_equal(a.e.an, 1);
	look(zi, "Cluster.LOCAL", T_NS, &a);
	assert_true(a.exists);
	assert_false(a.has);
	assert_false(exists(zi, "svc.cluster.local"));

	ldns_pkt *p = response(zi, "cluster.local", T_SOA);
	char want[256];
	snprintf(want, sizeof(want),
		 "cluster.local. 5 IN SOA ns.dns.cluster.local. "
		 "hostmaster.cluster.local. %u 7200 1800 86400 5",
		 zone_serial(zi));
	assert_rr(ldns_pkt_answer(p), 0, want);
	ldns_pkt_free(p);
	/* The reverse zone's SOA names the forward mname given. */
	p = response(zi, "10.in-addr.arpa", T_SOA);
	snprintf(want, sizeof(want),
		 "10.in-addr.arpa. 5 IN SOA ns.dns.cluster.local. "
		 "hostmaster.10.in-addr.arpa. %u 7200 1800 86400 5",
		 zone_serial(zi));
	assert_rr(ldns_pkt_answer(p), 0, want);
	ldns_pkt_free(p);
	zone_index_free(zi);
}

static void test_a_rrset_bytes(void **state)
{
	struct zone_index *zi = new_zone(30);
	struct recs r = {0};
	struct ans a;
	static const uint8_t want[] = {
	    0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 30, 0, 4, 10, 96, 0, 10,
	    0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 30, 0, 4, 10, 96, 0, 11};

	(void)state;
	add_a(&r, "web.prod.svc.cluster.local", "10.96.0.10");
	add_a(&r, "web.prod.svc.cluster.local", "10.96.0.11");
	set(zi, "svc/prod/web", &r, 1);
	/* Nothing is visible before the commit. */
	assert_false(exists(zi, "web.prod.svc.cluster.local"));
	assert_true(zone_commit(zi) > 0);

	look(zi, "WEB.prod.svc.cluster.local", T_A, &a);
	assert_true(a.has);
	assert_int_equal(a.e.qtype, T_A);
	assert_int_equal(a.e.rcode, 0);
	assert_int_equal(a.e.flags, 0);
	assert_int_equal(a.e.an, 2);
	assert_int_equal(a.e.ns, 0);
	assert_int_equal(a.e.ar, 0);
	assert_int_equal(a.e.len, sizeof(want));
	assert_int_equal(a.e.len_noadd, sizeof(want));
	assert_memory_equal(a.d, want, sizeof(want));
	/* ANY gives the first RRset. */
	look(zi, "web.prod.svc.cluster.local", T_ANY, &a);
	assert_true(a.has);
	assert_int_equal(a.e.an, 2);
	/* NODATA: the name is there, the type is not. */
	look(zi, "web.prod.svc.cluster.local", T_AAAA, &a);
	assert_true(a.exists);
	assert_false(a.has);
	/* Missing names. */
	assert_false(exists(zi, "web2.prod.svc.cluster.local"));
	assert_false(exists(zi, "x.web.prod.svc.cluster.local"));
	zone_index_free(zi);
}

static void test_owner_replace_remove(void **state)
{
	struct zone_index *zi = new_zone(5);
	struct recs r = {0}, r2 = {0};
	struct ans a;

	(void)state;
	add_a(&r, "web.prod.svc.cluster.local", "10.96.0.10");
	add_a(&r, "web.prod.svc.cluster.local", "fd00::10");
	set(zi, "svc/prod/web", &r, 1);
	assert_true(zone_commit(zi) > 0);
	assert_int_equal(zone_count_owners(zi), 1);
	/* apexes, web, prod.svc, svc */
	assert_int_equal(zone_count_names(zi), 5);
	assert_true(exists(zi, "prod.svc.cluster.local"));
	assert_true(exists(zi, "svc.cluster.local"));

	/* Replace: the AAAA goes, the A changes. */
	add_a(&r2, "web.prod.svc.cluster.local", "10.96.0.20");
	set(zi, "svc/prod/web", &r2, 1);
	assert_true(zone_commit(zi) > 0);
	assert_int_equal(zone_count_owners(zi), 1);
	look(zi, "web.prod.svc.cluster.local", T_A, &a);
	assert_true(a.has);
	assert_int_equal(a.e.an, 1);
	assert_int_equal(a.d[15], 20);
	look(zi, "web.prod.svc.cluster.local", T_AAAA, &a);
	assert_true(a.exists);
	assert_false(a.has);

	/* Remove: the name and the empty non-terminals above it vanish. */
	set(zi, "svc/prod/web", NULL, 1);
	assert_true(zone_commit(zi) > 0);
	assert_int_equal(zone_count_owners(zi), 0);
	assert_false(exists(zi, "web.prod.svc.cluster.local"));
	assert_false(exists(zi, "prod.svc.cluster.local"));
	assert_false(exists(zi, "svc.cluster.local"));
	assert_true(exists(zi, "cluster.local"));
	assert_int_equal(zone_count_names(zi), 2);
	ldns_pkt *p = response(zi, "web.prod.svc.cluster.local", T_A);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	ldns_pkt_free(p);

	/* Removing an unknown owner is no change. */
	set(zi, "svc/prod/none", NULL, 1);
	assert_int_equal(zone_commit(zi), 0);
	zone_index_free(zi);
}

static void test_identical_is_no_change(void **state)
{
	struct zone_index *zi = new_zone(5);
	struct recs r = {0}, same = {0};
	struct ans a, b;

	(void)state;
	add_a(&r, "web.prod.svc.cluster.local", "10.96.0.10");
	add_srv(&r, "_http._tcp.web.prod.svc.cluster.local", 100, 80,
		"web.prod.svc.cluster.local");
	set(zi, "svc/prod/web", &r, 1);
	assert_true(zone_commit(zi) > 0);
	uint32_t serial = zone_serial(zi);
	look(zi, "_http._tcp.web.prod.svc.cluster.local", T_SRV, &a);

	memcpy(&same, &r, sizeof(r));
	set(zi, "svc/prod/web", &same, 2);
	assert_int_equal(zone_commit(zi), 0);
	assert_int_equal(zone_serial(zi), serial);
	look(zi, "_http._tcp.web.prod.svc.cluster.local", T_SRV, &b);
	assert_int_equal(a.e.len, b.e.len);
	assert_memory_equal(a.d, b.d, a.e.len);
	/* A commit with nothing pending changes nothing either. */
	assert_int_equal(zone_commit(zi), 0);
	assert_int_equal(zone_serial(zi), serial);
	zone_index_free(zi);
}

static void test_empty_non_terminals(void **state)
{
	struct zone_index *zi = new_zone(5);
	struct recs r1 = {0}, r2 = {0}, r3 = {0};
	struct ans a;

	(void)state;
	add_a(&r1, "a.b.c.cluster.local", "10.0.0.1");
	add_a(&r2, "x.b.c.cluster.local", "10.0.0.2");
	set(zi, "one", &r1, 1);
	set(zi, "two", &r2, 1);
	assert_true(zone_commit(zi) > 0);
	look(zi, "b.c.cluster.local", T_A, &a);
	assert_true(a.exists);
	assert_false(a.has);
	look(zi, "c.cluster.local", T_ANY, &a);
	assert_true(a.exists);
	assert_false(a.has);
	ldns_pkt *p = response(zi, "b.c.cluster.local", T_A);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	assert_int_equal(ldns_pkt_ancount(p), 0);
	assert_int_equal(ldns_pkt_nscount(p), 1);
	ldns_pkt_free(p);

	/* One descendant left: the non-terminals stay. */
	set(zi, "one", NULL, 1);
	assert_true(zone_commit(zi) > 0);
	assert_false(exists(zi, "a.b.c.cluster.local"));
	assert_true(exists(zi, "b.c.cluster.local"));
	assert_true(exists(zi, "c.cluster.local"));

	/* A deeper name under an existing leaf: the leaf keeps its data. */
	add_a(&r3, "y.x.b.c.cluster.local", "10.0.0.3");
	set(zi, "three", &r3, 1);
	assert_true(zone_commit(zi) > 0);
	look(zi, "x.b.c.cluster.local", T_A, &a);
	assert_true(a.has);
	assert_int_equal(a.d[15], 2);

	/* The leaf goes: x.b.c is now an empty non-terminal. */
	set(zi, "two", NULL, 1);
	assert_true(zone_commit(zi) > 0);
	look(zi, "x.b.c.cluster.local", T_A, &a);
	assert_true(a.exists);
	assert_false(a.has);

	/* The last one goes: every name below the apex vanishes. */
	set(zi, "three", NULL, 1);
	assert_true(zone_commit(zi) > 0);
	assert_false(exists(zi, "y.x.b.c.cluster.local"));
	assert_false(exists(zi, "x.b.c.cluster.local"));
	assert_false(exists(zi, "b.c.cluster.local"));
	assert_false(exists(zi, "c.cluster.local"));
	assert_int_equal(zone_count_names(zi), 2);

	/* Moving a record within one owner: old branch out, new one in. */
	struct recs m1 = {0}, m2 = {0};
	add_a(&m1, "a.old.cluster.local", "10.0.0.1");
	add_a(&m2, "a.new.cluster.local", "10.0.0.1");
	set(zi, "mover", &m1, 1);
	assert_true(zone_commit(zi) > 0);
	assert_true(exists(zi, "old.cluster.local"));
	set(zi, "mover", &m2, 1);
	assert_true(zone_commit(zi) > 0);
	assert_false(exists(zi, "old.cluster.local"));
	assert_false(exists(zi, "a.old.cluster.local"));
	assert_true(exists(zi, "new.cluster.local"));
	assert_true(exists(zi, "a.new.cluster.local"));
	zone_index_free(zi);
}

static void test_exists_marker(void **state)
{
	struct zone_index *zi = new_zone(5);
	struct recs r = {0};
	struct ans a;

	(void)state;
	add_exists(&r, "prod.svc.cluster.local");
	set(zi, "ns/prod", &r, 1);
	assert_true(zone_commit(zi) > 0);
	look(zi, "prod.svc.cluster.local", T_ANY, &a);
	assert_true(a.exists);
	assert_false(a.has);
	look(zi, "prod.svc.cluster.local", T_A, &a);
	assert_true(a.exists);
	assert_false(a.has);
	assert_true(exists(zi, "svc.cluster.local"));
	assert_false(exists(zi, "x.prod.svc.cluster.local"));
	ldns_pkt *p = response(zi, "prod.svc.cluster.local", T_TXT);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	assert_int_equal(ldns_pkt_ancount(p), 0);
	ldns_pkt_free(p);
	zone_index_free(zi);
}

static void test_duplicates_once(void **state)
{
	struct zone_index *zi = new_zone(5);
	struct recs r1 = {0}, r2 = {0}, big = {0};
	struct ans a;
	char ip[32];

	(void)state;
	add_a(&r1, "web.prod.svc.cluster.local", "10.0.0.1");
	add_a(&r1, "web.prod.svc.cluster.local", "10.0.0.2");
	add_a(&r2, "web.prod.svc.cluster.local", "10.0.0.2");
	add_a(&r2, "web.prod.svc.cluster.local", "10.0.0.1");
	add_a(&r2, "web.prod.svc.cluster.local", "10.0.0.3");
	set(zi, "one", &r1, 1);
	set(zi, "two", &r2, 1);
	assert_true(zone_commit(zi) > 0);
	look(zi, "web.prod.svc.cluster.local", T_A, &a);
	assert_int_equal(a.e.an, 3);
	assert_int_equal(a.e.len, 3 * 16);

	/* One of them goes: what the other contributes stays. */
	set(zi, "two", NULL, 1);
	assert_true(zone_commit(zi) > 0);
	look(zi, "web.prod.svc.cluster.local", T_A, &a);
	assert_int_equal(a.e.an, 2);

	/* A large RRset (more than 16 records) given three times. */
	for (int k = 0; k < 3; k++)
		for (int i = 0; i < 40; i++) {
			snprintf(ip, sizeof(ip), "10.1.%d.%d", i, i);
			add_a(&big, "big.cluster.local", ip);
		}
	set(zi, "big", &big, 1);
	assert_true(zone_commit(zi) > 0);
	look(zi, "big.cluster.local", T_A, &a);
	assert_int_equal(a.e.an, 40);
	assert_int_equal(a.e.len, 40 * 16);
	/* Each address once, in the order given. */
	for (int i = 0; i < 40; i++) {
		assert_int_equal(a.d[i * 16 + 14], i);
		assert_int_equal(a.d[i * 16 + 15], i);
	}
	zone_index_free(zi);
}

static void test_srv_glue(void **state)
{
	struct zone_index *zi = new_zone(5);
	struct recs r = {0}, t = {0};
	struct ans a;

	(void)state;
	add_srv(&r, "_http._tcp.web.prod.svc.cluster.local", 50, 80,
		"h1.web.prod.svc.cluster.local");
	add_srv(&r, "_http._tcp.web.prod.svc.cluster.local", 50, 80,
		"h2.web.prod.svc.cluster.local");
	add_srv(&r, "_http._tcp.web.prod.svc.cluster.local", 50, 8080,
		"h1.web.prod.svc.cluster.local");
	add_a(&r, "h1.web.prod.svc.cluster.local", "10.244.1.5");
	add_a(&r, "h1.web.prod.svc.cluster.local", "fd00::5");
	set(zi, "svc/prod/web", &r, 1);
	assert_true(zone_commit(zi) > 0);

	look(zi, "_http._tcp.web.prod.svc.cluster.local", T_SRV, &a);
	assert_true(a.has);
	assert_int_equal(a.e.an, 3);
	/* Glue of h1 once (A and AAAA); h2 has no address. */
	assert_int_equal(a.e.ar, 2);
	assert_true(a.e.len_noadd < a.e.len);
	assert_int_equal(a.e.len - a.e.len_noadd, 16 + 28);

	ldns_pkt *p =
	    response(zi, "_http._tcp.web.prod.svc.cluster.local", T_SRV);
	assert_int_equal(ldns_pkt_ancount(p), 3);
	assert_int_equal(ldns_pkt_arcount(p), 2);
	assert_rr(ldns_pkt_answer(p), 0,
		  "_http._tcp.web.prod.svc.cluster.local. 5 IN SRV 0 50 80 "
		  "h1.web.prod.svc.cluster.local.");
	assert_rr(ldns_pkt_answer(p), 1,
		  "_http._tcp.web.prod.svc.cluster.local. 5 IN SRV 0 50 80 "
		  "h2.web.prod.svc.cluster.local.");
	assert_rr(ldns_pkt_answer(p), 2,
		  "_http._tcp.web.prod.svc.cluster.local. 5 IN SRV 0 50 8080 "
		  "h1.web.prod.svc.cluster.local.");
	assert_rr(ldns_pkt_additional(p), 0,
		  "h1.web.prod.svc.cluster.local. 5 IN A 10.244.1.5");
	assert_rr(ldns_pkt_additional(p), 1,
		  "h1.web.prod.svc.cluster.local. 5 IN AAAA fd00::5");
	ldns_pkt_free(p);

	/* The glue follows the target: h2 gets an address from another
	 * owner, and the SRV answer gains it after the commit. */
	add_a(&t, "h2.web.prod.svc.cluster.local", "10.244.2.6");
	set(zi, "other", &t, 1);
	assert_true(zone_commit(zi) > 0);
	look(zi, "_http._tcp.web.prod.svc.cluster.local", T_SRV, &a);
	assert_int_equal(a.e.ar, 3);
	p = response(zi, "_http._tcp.web.prod.svc.cluster.local", T_SRV);
	assert_rr(ldns_pkt_additional(p), 2,
		  "h2.web.prod.svc.cluster.local. 5 IN A 10.244.2.6");
	ldns_pkt_free(p);
	set(zi, "other", NULL, 1);
	assert_true(zone_commit(zi) > 0);
	look(zi, "_http._tcp.web.prod.svc.cluster.local", T_SRV, &a);
	assert_int_equal(a.e.ar, 2);

	/* NS at the apex with its glue. */
	struct recs ns = {0};
	add_name(&ns, "cluster.local", T_NS, "ns.dns.cluster.local");
	add_a(&ns, "ns.dns.cluster.local", "10.96.0.10");
	set(zi, "static", &ns, 1);
	assert_true(zone_commit(zi) > 0);
	p = response(zi, "cluster.local", T_NS);
	assert_int_equal(ldns_pkt_ancount(p), 1);
	assert_rr(ldns_pkt_answer(p), 0,
		  "cluster.local. 5 IN NS ns.dns.cluster.local.");
	assert_int_equal(ldns_pkt_arcount(p), 1);
	assert_rr(ldns_pkt_additional(p), 0,
		  "ns.dns.cluster.local. 5 IN A 10.96.0.10");
	ldns_pkt_free(p);
	zone_index_free(zi);
}

static void test_cname_in_zone(void **state)
{
	struct zone_index *zi = new_zone(5);
	struct recs r = {0}, t = {0};
	struct ans a;

	(void)state;
	/* The target written in mixed case: matching ignores case. */
	add_name(&r, "alias.prod.svc.cluster.local", T_CNAME,
		 "Web.Prod.svc.cluster.local");
	add_a(&t, "web.prod.svc.cluster.local", "10.96.0.10");
	add(&t, "web.prod.svc.cluster.local", T_TXT, "\3abc", 4);
	set(zi, "svc/prod/alias", &r, 1);
	set(zi, "svc/prod/web", &t, 1);
	assert_true(zone_commit(zi) > 0);

	look(zi, "alias.prod.svc.cluster.local", T_A, &a);
	assert_true(a.has);
	assert_int_equal(a.e.an, 2);
	assert_int_equal(a.e.rcode, 0);
	assert_int_equal(a.e.flags & ZONE_ENTRY_SOA, 0);
	/* The CNAME's owner points to the question. */
	assert_int_equal(a.d[0], 0xc0);
	assert_int_equal(a.d[1], 0x0c);
	ldns_pkt *p = response(zi, "alias.prod.svc.cluster.local", T_A);
	assert_rr(ldns_pkt_answer(p), 0,
		  "alias.prod.svc.cluster.local. 5 IN CNAME "
		  "web.prod.svc.cluster.local.");
	assert_rr(ldns_pkt_answer(p), 1,
		  "web.prod.svc.cluster.local. 5 IN A 10.96.0.10");
	ldns_pkt_free(p);

	/* A type the target has (TXT) is chased too. */
	look(zi, "alias.prod.svc.cluster.local", T_TXT, &a);
	assert_int_equal(a.e.an, 2);
	/* CNAME itself: only the CNAME. */
	look(zi, "alias.prod.svc.cluster.local", T_CNAME, &a);
	assert_int_equal(a.e.an, 1);
	assert_int_equal(a.e.flags, 0);
	/* A type the target lacks: the CNAME and NODATA's SOA. */
	look(zi, "alias.prod.svc.cluster.local", T_SRV, &a);
	assert_true(a.has);
	assert_int_equal(a.e.qtype, 0);
	assert_int_equal(a.e.an, 1);
	assert_int_equal(a.e.rcode, 0);
	assert_true(a.e.flags & ZONE_ENTRY_SOA);
	look(zi, "alias.prod.svc.cluster.local", T_AAAA, &a);
	assert_int_equal(a.e.an, 1);
	assert_true(a.e.flags & ZONE_ENTRY_SOA);
	p = response(zi, "alias.prod.svc.cluster.local", T_AAAA);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	assert_int_equal(ldns_pkt_ancount(p), 1);
	assert_int_equal(ldns_pkt_nscount(p), 1);
	assert_int_equal(
	    ldns_rr_get_type(ldns_rr_list_rr(ldns_pkt_authority(p), 0)),
	    LDNS_RR_TYPE_SOA);
	ldns_pkt_free(p);

	/* A chain of two: both CNAMEs, then the address. */
	struct recs c2 = {0};
	add_name(&c2, "alias2.cluster.local", T_CNAME,
		 "alias.prod.svc.cluster.local");
	set(zi, "alias2", &c2, 1);
	assert_true(zone_commit(zi) > 0);
	p = response(zi, "alias2.cluster.local", T_A);
	assert_int_equal(ldns_pkt_ancount(p), 3);
	assert_rr(ldns_pkt_answer(p), 0,
		  "alias2.cluster.local. 5 IN CNAME "
		  "alias.prod.svc.cluster.local.");
	assert_rr(ldns_pkt_answer(p), 1,
		  "alias.prod.svc.cluster.local. 5 IN CNAME "
		  "web.prod.svc.cluster.local.");
	assert_rr(ldns_pkt_answer(p), 2,
		  "web.prod.svc.cluster.local. 5 IN A 10.96.0.10");
	ldns_pkt_free(p);
	zone_index_free(zi);
}

static void test_cname_out_missing_loop(void **state)
{
	struct zone_index *zi = new_zone(5);
	struct recs ext = {0}, miss = {0}, loop = {0}, self = {0}, ent = {0};
	struct ans a;

	(void)state;
	add_name(&ext, "ext.prod.svc.cluster.local", T_CNAME, "example.com");
	add_name(&miss, "miss.prod.svc.cluster.local", T_CNAME,
		 "nothing.prod.svc.cluster.local");
	add_name(&loop, "l1.cluster.local", T_CNAME, "l2.cluster.local");
	add_name(&loop, "l2.cluster.local", T_CNAME, "l1.cluster.local");
	add_name(&self, "self.cluster.local", T_CNAME, "self.cluster.local");
	add_name(&ent, "toent.cluster.local", T_CNAME, "b.c.cluster.local");
	add_a(&ent, "a.b.c.cluster.local", "10.0.0.1");
	set(zi, "ext", &ext, 1);
	set(zi, "miss", &miss, 1);
	set(zi, "loop", &loop, 1);
	set(zi, "self", &self, 1);
	set(zi, "ent", &ent, 1);
	assert_true(zone_commit(zi) > 0);

	look(zi, "ext.prod.svc.cluster.local", T_A, &a);
	assert_int_equal(a.e.an, 1);
	assert_int_equal(a.e.rcode, 0);
	assert_true(a.e.flags & ZONE_ENTRY_EXTERNAL);
	assert_false(a.e.flags & ZONE_ENTRY_SOA);
	look(zi, "ext.prod.svc.cluster.local", T_SRV, &a);
	assert_int_equal(a.e.an, 1);
	assert_true(a.e.flags & ZONE_ENTRY_EXTERNAL);
	look(zi, "ext.prod.svc.cluster.local", T_CNAME, &a);
	assert_int_equal(a.e.an, 1);
	assert_int_equal(a.e.flags, 0);
	ldns_pkt *p = response(zi, "ext.prod.svc.cluster.local", T_A);
	assert_rr(ldns_pkt_answer(p), 0,
		  "ext.prod.svc.cluster.local. 5 IN CNAME example.com.");
	ldns_pkt_free(p);

	/* In-zone target that does not exist: NXDOMAIN with the SOA. */
	look(zi, "miss.prod.svc.cluster.local", T_A, &a);
	assert_int_equal(a.e.an, 1);
	assert_int_equal(a.e.rcode, 3);
	assert_true(a.e.flags & ZONE_ENTRY_SOA);
	look(zi, "miss.prod.svc.cluster.local", T_TXT, &a);
	assert_int_equal(a.e.rcode, 3);
	p = response(zi, "miss.prod.svc.cluster.local", T_A);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	assert_int_equal(ldns_pkt_ancount(p), 1);
	assert_int_equal(ldns_pkt_nscount(p), 1);
	ldns_pkt_free(p);
	/* The CNAME query itself is fine. */
	look(zi, "miss.prod.svc.cluster.local", T_CNAME, &a);
	assert_int_equal(a.e.rcode, 0);
	assert_int_equal(a.e.an, 1);

	/* Target an empty non-terminal: NODATA, not NXDOMAIN. */
	look(zi, "toent.cluster.local", T_A, &a);
	assert_int_equal(a.e.rcode, 0);
	assert_int_equal(a.e.an, 1);
	assert_true(a.e.flags & ZONE_ENTRY_SOA);

	/* Loops end in SERVFAIL, and building them terminated. */
	look(zi, "l1.cluster.local", T_A, &a);
	assert_true(a.has);
	assert_int_equal(a.e.rcode, 2);
	look(zi, "l2.cluster.local", T_TXT, &a);
	assert_int_equal(a.e.rcode, 2);
	look(zi, "self.cluster.local", T_AAAA, &a);
	assert_int_equal(a.e.rcode, 2);
	look(zi, "l1.cluster.local", T_CNAME, &a);
	assert_int_equal(a.e.rcode, 0);
	assert_int_equal(a.e.an, 1);
	zone_index_free(zi);
}

static void test_cname_dependencies(void **state)
{
	struct zone_index *zi = new_zone(5);
	struct recs c = {0}, c2 = {0}, t1 = {0}, t2 = {0};
	struct ans a, b;

	(void)state;
	add_name(&c, "alias.cluster.local", T_CNAME,
		 "web.prod.svc.cluster.local");
	add_name(&c2, "alias2.cluster.local", T_CNAME, "alias.cluster.local");
	set(zi, "alias", &c, 1);
	set(zi, "alias2", &c2, 1);
	assert_true(zone_commit(zi) > 0);
	look(zi, "alias.cluster.local", T_A, &a);
	assert_int_equal(a.e.rcode, 3);

	/* The target appears: the alias answers its address. */
	add_a(&t1, "web.prod.svc.cluster.local", "10.96.0.10");
	set(zi, "svc/prod/web", &t1, 1);
	assert_true(zone_commit(zi) > 0);
	look(zi, "alias.cluster.local", T_A, &a);
	assert_int_equal(a.e.rcode, 0);
	assert_int_equal(a.e.an, 2);
	assert_int_equal(a.d[a.e.len - 1], 10);
	look(zi, "alias2.cluster.local", T_A, &b);
	assert_int_equal(b.e.an, 3);
	assert_int_equal(b.d[b.e.len - 1], 10);

	/* The target's records change: both aliases follow. */
	add_a(&t2, "web.prod.svc.cluster.local", "10.96.0.99");
	add_a(&t2, "web.prod.svc.cluster.local", "fd00::99");
	set(zi, "svc/prod/web", &t2, 1);
	assert_true(zone_commit(zi) > 0);
	look(zi, "alias.cluster.local", T_A, &a);
	assert_int_equal(a.e.an, 2);
	assert_int_equal(a.d[a.e.len - 1], 99);
	look(zi, "alias2.cluster.local", T_A, &b);
	assert_int_equal(b.e.an, 3);
	assert_int_equal(b.d[b.e.len - 1], 99);
	look(zi, "alias.cluster.local", T_AAAA, &a);
	assert_int_equal(a.e.an, 2);
	assert_false(a.e.flags & ZONE_ENTRY_SOA);

	/* The target goes: NXDOMAIN again. */
	set(zi, "svc/prod/web", NULL, 1);
	assert_true(zone_commit(zi) > 0);
	look(zi, "alias.cluster.local", T_A, &a);
	assert_int_equal(a.e.rcode, 3);
	assert_int_equal(a.e.an, 1);
	look(zi, "alias2.cluster.local", T_A, &b);
	assert_int_equal(b.e.rcode, 3);
	assert_int_equal(b.e.an, 2);

	/* The target becomes an empty non-terminal: NODATA. */
	struct recs below = {0};
	add_a(&below, "h.web.prod.svc.cluster.local", "10.244.0.1");
	set(zi, "below", &below, 1);
	assert_true(zone_commit(zi) > 0);
	look(zi, "alias.cluster.local", T_A, &a);
	assert_int_equal(a.e.rcode, 0);
	assert_true(a.e.flags & ZONE_ENTRY_SOA);
	zone_index_free(zi);
}

/* A chased answer holds each record once, like a direct one. */
static void test_cname_chase_duplicates(void **state)
{
	struct zone_index *zi = new_zone(5);
	struct recs c = {0}, t1 = {0}, t2 = {0};
	struct ans a;

	(void)state;
	add_name(&c, "alias.cluster.local", T_CNAME, "web.cluster.local");
	add_a(&t1, "web.cluster.local", "10.0.0.1");
	add_a(&t2, "web.cluster.local", "10.0.0.1");
	set(zi, "alias", &c, 1);
	set(zi, "one", &t1, 1);
	set(zi, "two", &t2, 1);
	assert_true(zone_commit(zi) > 0);
	look(zi, "web.cluster.local", T_A, &a);
	assert_int_equal(a.e.an, 1);
	look(zi, "alias.cluster.local", T_A, &a);
	assert_int_equal(a.e.an, 2);
	zone_index_free(zi);
}

static uint32_t soa_serial_of(struct zone_index *zi)
{
	size_t sl;
	uint32_t v;

	rcu_read_lock();
	uint8_t n[DNAME_MAX];
	size_t nl = lwire("cluster.local", n), alen;
	const struct zone_apex *ap = zone_apex_of(zi, n, nl, &alen);
	const uint8_t *s = zone_apex_soa(ap, &sl);
	/* owner(2) type class ttl rdlen, rdata: mname rname serial ... */
	assert_true(sl > 20 + 20);
	const uint8_t *p = s + 10 + (sl - 10 - 20);
	v = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
	    p[3];
	rcu_read_unlock();
	return v;
}

static void test_serial(void **state)
{
	struct zone_index *zi = new_zone(5);
	struct recs r = {0};
	uint32_t s0 = zone_serial(zi);

	(void)state;
	assert_int_equal(soa_serial_of(zi), s0);
	for (int i = 0; i < 5; i++) {
		char ip[20];
		r.n = 0;
		snprintf(ip, sizeof(ip), "10.0.0.%d", i);
		add_a(&r, "web.cluster.local", ip);
		set(zi, "web", &r, 1);
		assert_true(zone_commit(zi) > 0);
		uint32_t s1 = zone_serial(zi);
		assert_true((int32_t)(s1 - s0) > 0);
		assert_int_equal(soa_serial_of(zi), s1);
		s0 = s1;
	}
	/* The SOA entry at the apex carries it too. */
	char want[256];
	snprintf(want, sizeof(want),
		 "cluster.local. 5 IN SOA ns.dns.cluster.local. "
		 "hostmaster.cluster.local. %u 7200 1800 86400 5",
		 s0);
	ldns_pkt *p = response(zi, "cluster.local", T_SOA);
	assert_rr(ldns_pkt_answer(p), 0, want);
	ldns_pkt_free(p);
	/* No change, no new serial. */
	assert_int_equal(zone_commit(zi), 0);
	assert_int_equal(zone_serial(zi), s0);
	zone_index_free(zi);
}

static void test_ttls(void **state)
{
	struct zone_index *zi = new_zone(3600);
	struct recs r = {0};

	(void)state;
	add_a(&r, "web.cluster.local", "10.0.0.1");
	set(zi, "web", &r, 1);
	assert_true(zone_commit(zi) > 0);
	ldns_pkt *p = response(zi, "web.cluster.local", T_A);
	assert_rr(ldns_pkt_answer(p), 0,
		  "web.cluster.local. 3600 IN A 10.0.0.1");
	ldns_pkt_free(p);
	/* Negative answers: the SOA's TTL is min(ttl, 300), its minimum
	 * field the zone TTL. */
	p = response(zi, "nothing.cluster.local", T_A);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	char want[256];
	snprintf(want, sizeof(want),
		 "cluster.local. 300 IN SOA ns.dns.cluster.local. "
		 "hostmaster.cluster.local. %u 7200 1800 86400 3600",
		 zone_serial(zi));
	assert_rr(ldns_pkt_authority(p), 0, want);
	ldns_pkt_free(p);
	zone_index_free(zi);
}

static void test_drop_stale(void **state)
{
	struct zone_index *zi = new_zone(5);
	struct recs r1 = {0}, r2 = {0}, r3 = {0};

	(void)state;
	add_a(&r1, "one.cluster.local", "10.0.0.1");
	add_a(&r2, "two.cluster.local", "10.0.0.2");
	add_a(&r3, "three.cluster.local", "10.0.0.3");
	set(zi, "one", &r1, 1);
	set(zi, "two", &r2, 1);
	set(zi, "three", &r3, 1);
	assert_true(zone_commit(zi) > 0);
	assert_int_equal(zone_count_owners(zi), 3);

	/* Generation 2: "one" is set again unchanged, "two" changed, "three"
	 * not mentioned. */
	set(zi, "one", &r1, 2);
	r2.n = 0;
	add_a(&r2, "two.cluster.local", "10.0.0.22");
	set(zi, "two", &r2, 2);
	assert_int_equal(zone_owner_drop_stale(zi, 2), 1);
	assert_int_equal(zone_count_owners(zi), 2);
	/* The withdrawal is published by the next commit. */
	assert_true(exists(zi, "three.cluster.local"));
	assert_true(zone_commit(zi) > 0);
	assert_false(exists(zi, "three.cluster.local"));
	assert_true(exists(zi, "one.cluster.local"));
	assert_true(exists(zi, "two.cluster.local"));
	assert_int_equal(zone_owner_drop_stale(zi, 2), 0);
	assert_int_equal(zone_owner_drop_stale(zi, 3), 2);
	assert_true(zone_commit(zi) > 0);
	assert_int_equal(zone_count_names(zi), 2);
	zone_index_free(zi);
}

static void test_invalid_records(void **state)
{
	struct zone_index *zi = new_zone(5);
	struct recs ok = {0}, bad = {0};
	struct ans a;

	(void)state;
	add_a(&ok, "web.cluster.local", "10.0.0.1");
	set(zi, "web", &ok, 1);
	assert_true(zone_commit(zi) > 0);
	uint32_t serial = zone_serial(zi);

	/* An owner outside the zones, after a good record. */
	add_a(&bad, "new.cluster.local", "10.0.0.9");
	add_a(&bad, "web.example.com", "10.0.0.2");
	assert_int_equal(zone_owner_set(zi, "web", bad.b, bad.n, 1), -EINVAL);
	assert_int_equal(zone_owner_set(zi, "other", bad.b, bad.n, 1), -EINVAL);
	/* xcluster.local is not under cluster.local. */
	bad.n = 0;
	add_a(&bad, "xcluster.local", "10.0.0.2");
	assert_int_equal(zone_owner_set(zi, "other", bad.b, bad.n, 1), -EINVAL);

	/* Truncated: the rdata runs past the end, or the header does. */
	bad.n = 0;
	add_a(&bad, "new.cluster.local", "10.0.0.9");
	assert_int_equal(zone_owner_set(zi, "other", bad.b, bad.n - 1, 1),
			 -EINVAL);
	assert_int_equal(zone_owner_set(zi, "other", bad.b, 5, 1), -EINVAL);
	assert_int_equal(zone_owner_set(zi, "other", bad.b, 1, 1), -EINVAL);

	/* An owner whose wire name does not match its length byte. */
	bad.n = 0;
	add_a(&bad, "new.cluster.local", "10.0.0.9");
	bad.b[0]--;
	assert_int_equal(zone_owner_set(zi, "other", bad.b, bad.n, 1), -EINVAL);
	/* A label over 63 bytes. */
	bad.n = 0;
	uint8_t o[80] = {64};
	memset(o + 1, 'a', 64);
	size_t zl = lwire("cluster.local", o + 65);
	uint8_t l = (uint8_t)(65 + zl);
	put(&bad, &l, 1);
	put(&bad, o, l);
	put16(&bad, T_A);
	put16(&bad, 4);
	put(&bad, "\12\0\0\1", 4);
	assert_int_equal(zone_owner_set(zi, "other", bad.b, bad.n, 1), -EINVAL);
	/* A CNAME whose target is no name. */
	bad.n = 0;
	add(&bad, "alias.cluster.local", T_CNAME, "\3abc", 4);
	assert_int_equal(zone_owner_set(zi, "other", bad.b, bad.n, 1), -EINVAL);
	/* An SRV too short for its target. */
	bad.n = 0;
	add(&bad, "_a._tcp.cluster.local", T_SRV, "\0\0\0\0\0\120", 6);
	assert_int_equal(zone_owner_set(zi, "other", bad.b, bad.n, 1), -EINVAL);

	/* Nothing changed. */
	assert_int_equal(zone_count_owners(zi), 1);
	assert_int_equal(zone_commit(zi), 0);
	assert_int_equal(zone_serial(zi), serial);
	assert_false(exists(zi, "new.cluster.local"));
	look(zi, "web.cluster.local", T_A, &a);
	assert_int_equal(a.e.an, 1);
	assert_int_equal(a.d[15], 1);
	/* The owner that was refused keeps its generation: a drop of
	 * everything not of generation 1 keeps it. */
	assert_int_equal(zone_owner_drop_stale(zi, 1), 0);
	zone_index_free(zi);
}

struct walk {
	char rr[64][400];
	size_t n;
	size_t soa;
};

static int walk_cb(const uint8_t *owner, uint16_t type, uint32_t ttl,
		   const uint8_t *rdata, uint16_t rdlen, void *arg)
{
	struct walk *w = arg;
	char name[300];

	assert_true(w->n < 64);
	dname_to_str(owner, name, sizeof(name));
	if (type == T_SOA) {
		w->soa++;
		snprintf(w->rr[w->n++], 400, "%s SOA %u", name, ttl);
		return 0;
	}
	int o = snprintf(w->rr[w->n], 400, "%s %u %u", name, type, ttl);
	for (uint16_t i = 0; i < rdlen && o < 390; i++)
		o +=
		    snprintf(w->rr[w->n] + o, 400 - (size_t)o, " %u", rdata[i]);
	w->n++;
	return 0;
}

static bool walked(const struct walk *w, const char *s)
{
	size_t k = 0;

	for (size_t i = 0; i < w->n; i++)
		k += strcmp(w->rr[i], s) == 0;
	assert_true(k <= 1);
	return k == 1;
}

static int stop_cb(const uint8_t *owner, uint16_t type, uint32_t ttl,
		   const uint8_t *rdata, uint16_t rdlen, void *arg)
{
	(*(int *)arg)++;
	return 42;
}

static void test_each_rr(void **state)
{
	struct zone_index *zi = new_zone(5);
	struct recs r1 = {0}, r2 = {0};
	struct walk w = {0};

	(void)state;
	add_a(&r1, "web.cluster.local", "10.0.0.1");
	add_a(&r1, "web.cluster.local", "10.0.0.2");
	add_exists(&r1, "ns1.cluster.local");
	add_name(&r1, "1.0.0.10.in-addr.arpa", T_PTR, "web.cluster.local");
	add_a(&r2, "web.cluster.local", "10.0.0.2");
	add(&r2, "dns-version.cluster.local", T_TXT, "\0051.1.0", 6);
	set(zi, "one", &r1, 1);
	set(zi, "two", &r2, 1);
	assert_true(zone_commit(zi) > 0);

	assert_int_equal(zone_each_rr(zi, walk_cb, &w), 0);
	assert_int_equal(w.soa, 2);
	assert_int_equal(w.n, 2 + 4);
	assert_true(walked(&w, "cluster.local. SOA 5"));
	assert_true(walked(&w, "10.in-addr.arpa. SOA 5"));
	assert_true(walked(&w, "web.cluster.local. 1 5 10 0 0 1"));
	assert_true(walked(&w, "web.cluster.local. 1 5 10 0 0 2"));
	assert_true(walked(&w, "dns-version.cluster.local. 16 5 5 49 46 49 "
			       "46 48"));
	assert_true(walked(&w, "1.0.0.10.in-addr.arpa. 12 5 3 119 101 98 7 "
			       "99 108 117 115 116 101 114 5 108 111 99 97 "
			       "108 0"));

	/* A non-zero return stops the walk and is returned. */
	int calls = 0;
	assert_int_equal(zone_each_rr(zi, stop_cb, &calls), 42);
	assert_int_equal(calls, 1);
	zone_index_free(zi);
}

/* Glue whose target lies past what a compression pointer reaches is
 * written with the full owner name. */
static void test_far_glue(void **state)
{
	struct zone_index *zi = new_zone(5);
	static struct recs r;
	char t[200];

	(void)state;
	r.n = 0;
	for (int i = 0; i < 300; i++) {
		snprintf(t, sizeof(t),
			 "no-address-%03d-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx."
			 "web.cluster.local",
			 i);
		add_srv(&r, "_x._tcp.web.cluster.local", 1, 80, t);
	}
	add_srv(&r, "_x._tcp.web.cluster.local", 1, 81,
		"far.web.cluster.local");
	add_a(&r, "far.web.cluster.local", "10.9.9.9");
	set(zi, "web", &r, 1);
	assert_true(zone_commit(zi) > 0);

	struct ans *a = malloc(sizeof(*a));
	look(zi, "_x._tcp.web.cluster.local", T_SRV, a);
	assert_int_equal(a->e.an, 301);
	assert_int_equal(a->e.ar, 1);
	assert_true(a->e.len_noadd > 0x3fff);
	/* The glue's owner is the name itself, not a pointer. */
	uint8_t far[DNAME_MAX];
	size_t fl = lwire("far.web.cluster.local", far);
	assert_int_equal(a->e.len - a->e.len_noadd, fl + 10 + 4);
	assert_memory_equal(a->d + a->e.len_noadd, far, fl);
	free(a);
	ldns_pkt *p = response(zi, "_x._tcp.web.cluster.local", T_SRV);
	assert_non_null(p);
	assert_int_equal(ldns_pkt_ancount(p), 301);
	assert_rr(ldns_pkt_additional(p), 0,
		  "far.web.cluster.local. 5 IN A 10.9.9.9");
	ldns_pkt_free(p);
	zone_index_free(zi);
}

static void test_ptr_reverse_zone(void **state)
{
	struct zone_index *zi = new_zone(5);
	struct recs r = {0};

	(void)state;
	add_name(&r, "10.0.96.10.in-addr.arpa", T_PTR,
		 "kube-dns.kube-system.svc.cluster.local");
	set(zi, "svc/kube-system/kube-dns", &r, 1);
	assert_true(zone_commit(zi) > 0);
	ldns_pkt *p = response(zi, "10.0.96.10.IN-ADDR.arpa", T_PTR);
	assert_int_equal(ldns_pkt_ancount(p), 1);
	assert_rr(ldns_pkt_answer(p), 0,
		  "10.0.96.10.in-addr.arpa. 5 IN PTR "
		  "kube-dns.kube-system.svc.cluster.local.");
	ldns_pkt_free(p);
	assert_true(exists(zi, "96.10.in-addr.arpa"));
	p = response(zi, "11.0.96.10.in-addr.arpa", T_PTR);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	assert_int_equal(ldns_pkt_nscount(p), 1);
	assert_int_equal(
	    ldns_rr_get_type(ldns_rr_list_rr(ldns_pkt_authority(p), 0)),
	    LDNS_RR_TYPE_SOA);
	assert_owner(ldns_rr_list_rr(ldns_pkt_authority(p), 0),
		     "10.in-addr.arpa.");
	ldns_pkt_free(p);
	zone_index_free(zi);
}

/* Records of one name need not be consecutive in an owner; the same
 * records again are no change, another order of them is. */
static void test_interleaved_records(void **state)
{
	struct zone_index *zi = new_zone(5);
	static struct recs r, r2;
	struct ans a;

	(void)state;
	memset(&r, 0, sizeof(r));
	memset(&r2, 0, sizeof(r2));
	add_a(&r, "x.prod.svc.cluster.local", "10.0.0.1");
	add_a(&r, "y.prod.svc.cluster.local", "10.0.0.2");
	add_a(&r, "x.prod.svc.cluster.local", "10.0.0.3");
	add_a(&r, "x.prod.svc.cluster.local", "fd00::1");
	set(zi, "svc/prod/x", &r, 1);
	assert_true(zone_commit(zi) > 0);
	look(zi, "x.prod.svc.cluster.local", T_A, &a);
	assert_true(a.has);
	assert_int_equal(a.e.an, 2);
	assert_int_equal(a.d[15], 1);
	assert_int_equal(a.d[31], 3);
	look(zi, "x.prod.svc.cluster.local", T_AAAA, &a);
	assert_int_equal(a.e.an, 1);
	look(zi, "y.prod.svc.cluster.local", T_A, &a);
	assert_int_equal(a.e.an, 1);

	set(zi, "svc/prod/x", &r, 2);
	assert_int_equal(zone_commit(zi), 0);

	/* The same records with the two A of x swapped. */
	add_a(&r2, "x.prod.svc.cluster.local", "10.0.0.3");
	add_a(&r2, "y.prod.svc.cluster.local", "10.0.0.2");
	add_a(&r2, "x.prod.svc.cluster.local", "10.0.0.1");
	add_a(&r2, "x.prod.svc.cluster.local", "fd00::1");
	set(zi, "svc/prod/x", &r2, 2);
	assert_true(zone_commit(zi) > 0);
	look(zi, "x.prod.svc.cluster.local", T_A, &a);
	assert_int_equal(a.e.an, 2);
	assert_int_equal(a.d[15], 3);
	assert_int_equal(a.d[31], 1);

	/* A prefix of the records, and a longer list, are changes too. */
	r2.n = 0;
	add_a(&r2, "x.prod.svc.cluster.local", "10.0.0.3");
	set(zi, "svc/prod/x", &r2, 2);
	assert_true(zone_commit(zi) > 0);
	assert_false(exists(zi, "y.prod.svc.cluster.local"));
	add_a(&r2, "x.prod.svc.cluster.local", "10.0.0.4");
	set(zi, "svc/prod/x", &r2, 2);
	assert_true(zone_commit(zi) > 0);
	look(zi, "x.prod.svc.cluster.local", T_A, &a);
	assert_int_equal(a.e.an, 2);
	zone_index_free(zi);
}

/* Names that vanish come back with their dependencies: an SRV whose target
 * goes away and returns gets its glue back. */
static void test_names_come_back(void **state)
{
	struct zone_index *zi = new_zone(5);
	static struct recs s, t;
	struct ans a;

	(void)state;
	memset(&s, 0, sizeof(s));
	memset(&t, 0, sizeof(t));
	add_srv(&s, "_http._tcp.web.prod.svc.cluster.local", 10, 80,
		"h1.web.prod.svc.cluster.local");
	add_a(&t, "h1.web.prod.svc.cluster.local", "10.0.0.7");
	set(zi, "svc/prod/web", &s, 1);
	set(zi, "svc/prod/h1", &t, 1);
	assert_true(zone_commit(zi) > 0);
	for (int round = 0; round < 3; round++) {
		look(zi, "_http._tcp.web.prod.svc.cluster.local", T_SRV, &a);
		assert_int_equal(a.e.an, 1);
		assert_int_equal(a.e.ar, 1);
		set(zi, "svc/prod/h1", NULL, 1);
		assert_true(zone_commit(zi) > 0);
		assert_false(exists(zi, "h1.web.prod.svc.cluster.local"));
		look(zi, "_http._tcp.web.prod.svc.cluster.local", T_SRV, &a);
		assert_int_equal(a.e.an, 1);
		assert_int_equal(a.e.ar, 0);
		set(zi, "svc/prod/h1", &t, 1);
		assert_true(zone_commit(zi) > 0);
	}
	/* Everything gone, then back: only the apexes remain between. */
	set(zi, "svc/prod/web", NULL, 1);
	set(zi, "svc/prod/h1", NULL, 1);
	assert_true(zone_commit(zi) > 0);
	assert_int_equal(zone_count_names(zi), 2);
	assert_false(exists(zi, "prod.svc.cluster.local"));
	set(zi, "svc/prod/h1", &t, 1);
	set(zi, "svc/prod/web", &s, 1);
	assert_true(zone_commit(zi) > 0);
	look(zi, "_http._tcp.web.prod.svc.cluster.local", T_SRV, &a);
	assert_int_equal(a.e.ar, 1);
	assert_true(exists(zi, "_tcp.web.prod.svc.cluster.local"));
	zone_index_free(zi);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_apexes),
	    cmocka_unit_test(test_a_rrset_bytes),
	    cmocka_unit_test(test_owner_replace_remove),
	    cmocka_unit_test(test_identical_is_no_change),
	    cmocka_unit_test(test_empty_non_terminals),
	    cmocka_unit_test(test_exists_marker),
	    cmocka_unit_test(test_duplicates_once),
	    cmocka_unit_test(test_srv_glue),
	    cmocka_unit_test(test_cname_in_zone),
	    cmocka_unit_test(test_cname_out_missing_loop),
	    cmocka_unit_test(test_cname_dependencies),
	    cmocka_unit_test(test_cname_chase_duplicates),
	    cmocka_unit_test(test_serial),
	    cmocka_unit_test(test_ttls),
	    cmocka_unit_test(test_drop_stale),
	    cmocka_unit_test(test_invalid_records),
	    cmocka_unit_test(test_each_rr),
	    cmocka_unit_test(test_far_glue),
	    cmocka_unit_test(test_ptr_reverse_zone),
	    cmocka_unit_test(test_interleaved_records),
	    cmocka_unit_test(test_names_come_back),
	};

	return cmocka_run_group_tests(tests, rcu_group_setup,
				      rcu_group_teardown);
}
