/*
 * test_query.c -- the query path end to end in one process: kubes built
 * from stores, server blocks and listeners filled by hand, wire queries in,
 * full responses parsed with ldns: flags, rcodes, sections, the echoed
 * question, EDNS, truncation, error responses, insecure pod names, and the
 * SERVFAIL cases (not synced, fallthrough without a next plugin), and a
 * block with a cache in front of its zone.
 */
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

#include "server/config.h"
#include "server/query.h"
#include "zones/dname.h"
#include "zones/kube.h"
#include "zones/objects.h"
#include "zones/store.h"

#define T_A 1
#define T_NS 2
#define T_CNAME 5
#define T_SOA 6
#define T_PTR 12
#define T_TXT 16
#define T_AAAA 28
#define T_SRV 33
#define T_OPT 41
#define T_IXFR 251
#define T_AXFR 252
#define T_ANY 255

/* ---- objects ---- */

static char *sdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

static struct obj_addr addr(const char *s)
{
	struct obj_addr a;

	assert_int_equal(obj_addr_parse(s, &a), 0);
	return a;
}

static void put_svc(struct store *st, const char *name, enum obj_svc_type type,
		    const char *ip, const char *ext)
{
	struct obj_service *s = calloc(1, sizeof(*s));

	s->ns = sdup("prod");
	s->name = sdup(name);
	s->type = type;
	if (ip) {
		s->ips = calloc(1, sizeof(*s->ips));
		s->ips[0] = addr(ip);
		s->nips = 1;
	}
	s->external_name = sdup(ext);
	s->ports = calloc(1, sizeof(*s->ports));
	s->ports[0].name = sdup("http");
	s->ports[0].port = 80;
	s->ports[0].proto = OBJ_PROTO_TCP;
	s->nports = 1;
	assert_int_equal(store_put_service(st, s), 0);
}

/* A slice named slice of n ready endpoints: at prefix1 .. prefixn, or
 * with prefix "10.250.", 10.250.0.1 .. 10.250.0.250, 10.250.1.1 ...;
 * hostnames h0 .. when hosts is set. */
static void put_slice_named(struct store *st, const char *svc,
			    const char *slice, const char *prefix, int n,
			    bool hosts)
{
	struct obj_slice *s = calloc(1, sizeof(*s));
	char name[64], ip[64];

	snprintf(name, sizeof(name), "%s", slice);
	s->ns = sdup("prod");
	s->name = sdup(name);
	s->service = sdup(svc);
	s->eps = calloc((size_t)n, sizeof(*s->eps));
	s->neps = (size_t)n;
	for (int i = 0; i < n; i++) {
		if (strcmp(prefix, "10.250.") == 0)
			snprintf(ip, sizeof(ip), "%s%d.%d", prefix, i / 250,
				 i % 250 + 1);
		else
			snprintf(ip, sizeof(ip), "%s%d", prefix, i + 1);
		s->eps[i].addrs = calloc(1, sizeof(struct obj_addr));
		s->eps[i].addrs[0] = addr(ip);
		s->eps[i].naddrs = 1;
		s->eps[i].ready = true;
		if (hosts) {
			snprintf(name, sizeof(name), "h%d", i);
			s->eps[i].hostname = sdup(name);
		}
	}
	s->ports = calloc(1, sizeof(*s->ports));
	s->ports[0].name = sdup("http");
	s->ports[0].port = 8080;
	s->ports[0].proto = OBJ_PROTO_TCP;
	s->nports = 1;
	assert_int_equal(store_put_slice(st, s), 0);
}

/* A slice of the service, named SVC-1. */
static void put_slice(struct store *st, const char *svc, const char *prefix,
		      int n, bool hosts)
{
	char name[64];

	snprintf(name, sizeof(name), "%s-1", svc);
	put_slice_named(st, svc, name, prefix, n, hosts);
}

static struct store *cluster(void)
{
	struct store *st = store_new();
	struct obj_namespace *n = calloc(1, sizeof(*n));

	n->name = sdup("prod");
	assert_int_equal(store_put_namespace(st, n), 0);
	put_svc(st, "web", OBJ_SVC_CLUSTERIP, "10.96.1.10", NULL);
	put_svc(st, "db", OBJ_SVC_HEADLESS, NULL, NULL);
	put_slice(st, "db", "10.244.1.", 2, true);
	put_svc(st, "big", OBJ_SVC_HEADLESS, NULL, NULL);
	put_slice(st, "big", "10.245.0.", 200, false);
	put_svc(st, "mid", OBJ_SVC_HEADLESS, NULL, NULL);
	put_slice(st, "mid", "10.246.0.", 9, true);
	/* more than a 65535-byte message holds */
	put_svc(st, "huge", OBJ_SVC_HEADLESS, NULL, NULL);
	put_slice(st, "huge", "10.250.", 5000, false);
	/* a ClusterIP service with an endpoint h0 of both families */
	put_svc(st, "dual", OBJ_SVC_CLUSTERIP, "10.96.1.30", NULL);
	put_slice_named(st, "dual", "dual-4", "10.244.9.", 1, true);
	put_slice_named(st, "dual", "dual-6", "fd00::9:", 1, true);
	put_svc(st, "ext", OBJ_SVC_EXTERNALNAME, NULL,
		"web.prod.svc.cluster.local");
	put_svc(st, "extout", OBJ_SVC_EXTERNALNAME, NULL, "www.example.com");
	return st;
}

/* ---- the server side ---- */

struct world {
	struct kube *ka, *kb, *kc;
	struct kubernetes_conf cka, cka2, ckb, ckc, ckc2;
	struct config_block cba, cba2, cbb, cbc, cbc2, cbr;
	struct query_block qa, qa2, qb, qc, qc2, qr;
	struct query_key keys[8];
	struct query_listener l;
	struct query_key keys2[1];
	struct query_listener l2;
};

static struct world w;

static struct kube *mk_kube(const char *const *zones, size_t n,
			    enum builder_pods pods, uint32_t ttl)
{
	struct kube_conf c = {
	    .zones = zones, .nzones = n, .pods = pods, .ttl = ttl};
	char err[256];
	struct kube *k = kube_new(&c, err, sizeof(err));

	assert_non_null(k);
	return k;
}

static void key(struct query_key *k, const char *zone,
		const struct query_block *b)
{
	int n = dname_from_str(zone, k->zone);

	assert_true(n > 0);
	k->len = (size_t)n;
	k->nlabels = dname_labels(k->zone);
	k->block = b;
}

static void block(struct query_block *qb, struct config_block *cb,
		  struct kubernetes_conf *ck, struct kube *k)
{
	char err[256];

	cb->kube = ck;
	cb->file = "Corefile";
	cb->line = 1;
	assert_int_equal(query_block_init(qb, cb, k, err, sizeof(err)), 0);
}

static int setup(void **state)
{
	static const char *const za[] = {"cluster.local", "10.in-addr.arpa"};
	static const char *const zb[] = {"notsynced.local"};
	static const char *const zc[] = {"ft.local", "ft2.local"};
	static char *ftz[] = {"sub.ft2.local"};

	(void)state;
	rcu_register_thread();
	memset(&w, 0, sizeof(w));
	w.ka = mk_kube(za, 2, BUILDER_PODS_INSECURE, 30);
	assert_int_equal(kube_apply_store(w.ka, cluster()), 0);
	w.kb = mk_kube(zb, 1, BUILDER_PODS_DISABLED, 30);
	w.kc = mk_kube(zc, 2, BUILDER_PODS_DISABLED, 3600);
	assert_int_equal(kube_apply_store(w.kc, store_new()), 0);

	w.cka.pods = KUBERNETES_PODS_INSECURE;
	block(&w.qa, &w.cba, &w.cka, w.ka);
	/* the same kube under a shorter key, with pods disabled */
	w.cka2.pods = KUBERNETES_PODS_DISABLED;
	block(&w.qa2, &w.cba2, &w.cka2, w.ka);
	block(&w.qb, &w.cbb, &w.ckb, w.kb);
	w.ckc.fallthrough = true;
	w.cbc.errors = true;
	block(&w.qc, &w.cbc, &w.ckc, w.kc);
	w.ckc2.fallthrough = true;
	w.ckc2.fallthrough_zones = ftz;
	w.ckc2.nfallthrough_zones = 1;
	block(&w.qc2, &w.cbc2, &w.ckc2, w.kc);
	/* a block without the kubernetes directive */
	block(&w.qr, &w.cbr, NULL, NULL);

	key(&w.keys[0], "", &w.qr);
	key(&w.keys[1], "local", &w.qa2);
	key(&w.keys[2], "cluster.local", &w.qa);
	key(&w.keys[3], "10.in-addr.arpa", &w.qa);
	key(&w.keys[4], "notsynced.local", &w.qb);
	key(&w.keys[5], "ft.local", &w.qc);
	key(&w.keys[6], "ft2.local", &w.qc2);
	w.l.keys = w.keys;
	w.l.nkeys = 7;
	w.l.udp_max = 1232;
	key(&w.keys2[0], "cluster.local", &w.qa);
	w.l2.keys = w.keys2;
	w.l2.nkeys = 1;
	w.l2.udp_max = 1232;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	kube_free(w.ka);
	kube_free(w.kb);
	kube_free(w.kc);
	rcu_unregister_thread();
	return 0;
}

/* ---- queries ---- */

struct msg {
	uint8_t b[1024];
	size_t n;
	size_t qlen; /* bytes of the question section */
};

static void put8(struct msg *m, uint8_t v)
{
	m->b[m->n++] = v;
}

static void put16(struct msg *m, uint16_t v)
{
	put8(m, (uint8_t)(v >> 8));
	put8(m, (uint8_t)v);
}

/* A query for name (letter case kept), with an OPT record when udp is
 * non-zero.  flags: the header flags word. */
static void query(struct msg *m, const char *name, uint16_t type,
		  uint16_t class, uint16_t flags, uint16_t udp, uint8_t version,
		  bool do_bit)
{
	uint8_t wire[256];
	int n = dname_from_str(name, wire);

	assert_true(n > 0);
	m->n = 0;
	put16(m, 0xbeef);
	put16(m, flags);
	put16(m, 1);
	put16(m, 0);
	put16(m, 0);
	put16(m, udp ? 1 : 0);
	memcpy(m->b + m->n, wire, (size_t)n);
	m->n += (size_t)n;
	put16(m, type);
	put16(m, class);
	m->qlen = (size_t)n + 4;
	if (udp) {
		put8(m, 0);
		put16(m, T_OPT);
		put16(m, udp);
		put8(m, 0);
		put8(m, version);
		put16(m, do_bit ? 0x8000 : 0);
		put16(m, 0);
	}
}

static uint8_t resp[65536];
static size_t resp_len;

/* Send m through listener l; parse the response with ldns and check the
 * header and question that every response shares. */
static ldns_pkt *send_to(const struct query_listener *l, const struct msg *m,
			 bool tcp, size_t max)
{
	ldns_pkt *p = NULL;
	struct sockaddr_storage peer = {0};

	peer.ss_family = AF_INET;
	memset(resp, 0, sizeof(resp));
	resp_len = query_handle((void *)l, m->b, m->n, resp, max, tcp,
				(struct sockaddr *)&peer, sizeof(peer), NULL);
	assert_true(resp_len >= 12);
	assert_true(resp_len <= max);
	assert_int_equal(ldns_wire2pkt(&p, resp, resp_len), LDNS_STATUS_OK);
	assert_int_equal(ldns_pkt_id(p), 0xbeef);
	assert_true(ldns_pkt_qr(p));
	/* The question is echoed byte for byte, in the client's case. */
	assert_int_equal(ldns_pkt_qdcount(p), 1);
	assert_memory_equal(resp + 12, m->b + 12, m->qlen);
	return p;
}

static ldns_pkt *ask(const char *name, uint16_t type)
{
	struct msg m;

	query(&m, name, type, 1, 0x0100, 0, 0, false);
	return send_to(&w.l, &m, false, 65535);
}

static void assert_rr(const ldns_rr_list *l, size_t i, const char *text)
{
	ldns_rr *want = NULL;

	assert_true(i < ldns_rr_list_rr_count(l));
	assert_int_equal(ldns_rr_new_frm_str(&want, text, 0, NULL, NULL),
			 LDNS_STATUS_OK);
	ldns_rr *got = ldns_rr_list_rr(l, i);
	bool ok = ldns_rr_compare(got, want) == 0 &&
		  ldns_rr_ttl(got) == ldns_rr_ttl(want);
	if (!ok) {
		char *s = ldns_rr2str(got);
		print_error("want %s\ngot  %s", text, s);
		free(s);
	}
	ldns_rr_free(want);
	assert_true(ok);
}

static void assert_soa(const ldns_pkt *p, const char *apex, uint32_t ttl)
{
	assert_int_equal(ldns_pkt_nscount(p), 1);
	ldns_rr *rr = ldns_rr_list_rr(ldns_pkt_authority(p), 0);
	assert_int_equal(ldns_rr_get_type(rr), LDNS_RR_TYPE_SOA);
	assert_int_equal(ldns_rr_ttl(rr), ttl);
	char *s = ldns_rdf2str(ldns_rr_owner(rr));
	bool ok = strcmp(s, apex) == 0;
	if (!ok)
		print_error("SOA owner %s, want %s\n", s, apex);
	free(s);
	assert_true(ok);
}

static void expect_rcode(const char *name, uint16_t type, int rcode)
{
	ldns_pkt *p = ask(name, type);
	int got = (int)ldns_pkt_get_rcode(p);

	ldns_pkt_free(p);
	if (got != rcode)
		print_error("%s: rcode %d, want %d\n", name, got, rcode);
	assert_int_equal(got, rcode);
}

/* ---- tests ---- */

static void test_positive(void **state)
{
	(void)state;
	ldns_pkt *p = ask("Web.PROD.svc.Cluster.LOCAL", T_A);
	assert_true(ldns_pkt_aa(p));
	assert_true(ldns_pkt_rd(p));
	assert_false(ldns_pkt_tc(p));
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	assert_int_equal(ldns_pkt_ancount(p), 1);
	assert_int_equal(ldns_pkt_nscount(p), 0);
	assert_int_equal(ldns_pkt_arcount(p), 0);
	assert_rr(ldns_pkt_answer(p), 0,
		  "web.prod.svc.cluster.local. 30 IN A 10.96.1.10");
	/* The answer's owner points at the question. */
	assert_int_equal(resp[12 + 28 + 4], 0xc0);
	assert_int_equal(resp[12 + 28 + 5], 12);
	ldns_pkt_free(p);

	/* SRV with its glue. */
	p = ask("_http._tcp.db.prod.svc.cluster.local", T_SRV);
	assert_int_equal(ldns_pkt_ancount(p), 2);
	assert_int_equal(ldns_pkt_arcount(p), 2);
	assert_rr(ldns_pkt_answer(p), 0,
		  "_http._tcp.db.prod.svc.cluster.local. 30 IN SRV 0 50 8080 "
		  "h0.db.prod.svc.cluster.local.");
	assert_rr(ldns_pkt_additional(p), 0,
		  "h0.db.prod.svc.cluster.local. 30 IN A 10.244.1.1");
	ldns_pkt_free(p);

	/* PTR in the reverse zone. */
	p = ask("10.1.96.10.in-addr.arpa", T_PTR);
	assert_true(ldns_pkt_aa(p));
	assert_rr(ldns_pkt_answer(p), 0,
		  "10.1.96.10.in-addr.arpa. 30 IN PTR "
		  "web.prod.svc.cluster.local.");
	ldns_pkt_free(p);

	/* An in-zone ExternalName is chased; an outside one is not. */
	p = ask("ext.prod.svc.cluster.local", T_A);
	assert_int_equal(ldns_pkt_ancount(p), 2);
	assert_rr(ldns_pkt_answer(p), 0,
		  "ext.prod.svc.cluster.local. 30 IN CNAME "
		  "web.prod.svc.cluster.local.");
	assert_rr(ldns_pkt_answer(p), 1,
		  "web.prod.svc.cluster.local. 30 IN A 10.96.1.10");
	ldns_pkt_free(p);
	p = ask("extout.prod.svc.cluster.local", T_A);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	assert_int_equal(ldns_pkt_ancount(p), 1);
	assert_rr(ldns_pkt_answer(p), 0,
		  "extout.prod.svc.cluster.local. 30 IN CNAME "
		  "www.example.com.");
	ldns_pkt_free(p);

	/* dns-version and the apex SOA. */
	p = ask("dns-version.cluster.local", T_TXT);
	assert_rr(ldns_pkt_answer(p), 0,
		  "dns-version.cluster.local. 30 IN TXT \"1.1.0\"");
	ldns_pkt_free(p);
	p = ask("cluster.local", T_SOA);
	assert_int_equal(ldns_pkt_ancount(p), 1);
	assert_int_equal(
	    ldns_rr_get_type(ldns_rr_list_rr(ldns_pkt_answer(p), 0)),
	    LDNS_RR_TYPE_SOA);
	ldns_pkt_free(p);
}

static void test_negative(void **state)
{
	(void)state;
	/* NXDOMAIN with the SOA, TTL min(30, 300). */
	ldns_pkt *p = ask("Nothing.Prod.svc.cluster.local", T_A);
	assert_true(ldns_pkt_aa(p));
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	assert_int_equal(ldns_pkt_ancount(p), 0);
	assert_soa(p, "cluster.local.", 30);
	ldns_pkt_free(p);

	/* NODATA: the name exists, the type does not. */
	p = ask("web.prod.svc.cluster.local", T_AAAA);
	assert_true(ldns_pkt_aa(p));
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	assert_int_equal(ldns_pkt_ancount(p), 0);
	assert_soa(p, "cluster.local.", 30);
	ldns_pkt_free(p);
	expect_rcode("prod.svc.cluster.local", T_A, LDNS_RCODE_NOERROR);
	expect_rcode("svc.cluster.local", T_A, LDNS_RCODE_NOERROR);
	expect_rcode("web.prod.svc.cluster.local", T_TXT, LDNS_RCODE_NOERROR);
	expect_rcode("cluster.local", T_A, LDNS_RCODE_NOERROR);
	expect_rcode("x.web.prod.svc.cluster.local", T_A, LDNS_RCODE_NXDOMAIN);
	expect_rcode("nons.svc.cluster.local", T_A, LDNS_RCODE_NXDOMAIN);
	expect_rcode("9.9.9.10.in-addr.arpa", T_PTR, LDNS_RCODE_NXDOMAIN);

	/* The reverse zone's SOA is its own. */
	p = ask("9.9.9.10.in-addr.arpa", T_PTR);
	assert_soa(p, "10.in-addr.arpa.", 30);
	ldns_pkt_free(p);

	/* A zone with ttl 3600: negative TTL 300. */
	p = ask("nothing.ft2.local", T_A);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	assert_soa(p, "ft2.local.", 300);
	ldns_pkt_free(p);
}

static void test_truncation(void **state)
{
	struct msg m;
	ldns_pkt *p;

	(void)state;
	/* 200 addresses: TC over UDP, without EDNS and with it. */
	query(&m, "big.prod.svc.cluster.local", T_A, 1, 0, 0, 0, false);
	p = send_to(&w.l, &m, false, 65535);
	assert_true(ldns_pkt_tc(p));
	assert_true(ldns_pkt_aa(p));
	assert_int_equal(ldns_pkt_ancount(p), 0);
	assert_true(resp_len <= 512);
	ldns_pkt_free(p);
	query(&m, "big.prod.svc.cluster.local", T_A, 1, 0, 4096, 0, false);
	p = send_to(&w.l, &m, false, 65535);
	assert_true(ldns_pkt_tc(p));
	assert_int_equal(ldns_pkt_ancount(p), 0);
	assert_true(ldns_pkt_edns(p));
	assert_int_equal(ldns_pkt_edns_udp_size(p), 1232);
	assert_true(resp_len <= 1232);
	ldns_pkt_free(p);

	/* Over TCP: everything. */
	query(&m, "big.prod.svc.cluster.local", T_A, 1, 0, 0, 0, false);
	p = send_to(&w.l, &m, true, 65535);
	assert_false(ldns_pkt_tc(p));
	assert_int_equal(ldns_pkt_ancount(p), 200);
	ldns_pkt_free(p);

	/* The SRV of 9 endpoints fits in 512 bytes without its glue: the
	 * additional section is left out, no TC. */
	query(&m, "_http._tcp.mid.prod.svc.cluster.local", T_SRV, 1, 0, 0, 0,
	      false);
	p = send_to(&w.l, &m, false, 65535);
	assert_false(ldns_pkt_tc(p));
	assert_int_equal(ldns_pkt_ancount(p), 9);
	assert_int_equal(ldns_pkt_arcount(p), 0);
	assert_true(resp_len <= 512);
	ldns_pkt_free(p);
	p = send_to(&w.l, &m, true, 65535);
	assert_int_equal(ldns_pkt_ancount(p), 9);
	assert_int_equal(ldns_pkt_arcount(p), 9);
	assert_true(resp_len > 512);
	ldns_pkt_free(p);
	/* With EDNS 1232 the glue fits. */
	query(&m, "_http._tcp.mid.prod.svc.cluster.local", T_SRV, 1, 0, 1232, 0,
	      false);
	p = send_to(&w.l, &m, false, 65535);
	assert_int_equal(ldns_pkt_ancount(p), 9);
	/* 9 glue + OPT in the header; ldns counts the OPT apart */
	assert_int_equal(resp[11], 10);
	assert_int_equal(ldns_pkt_arcount(p), 9);
	assert_true(ldns_pkt_edns(p));
	ldns_pkt_free(p);
}

/* An answer larger than any DNS message over TCP: the first records
 * that fit, TC clear; over UDP it is TC as any answer too big. */
static void test_huge_tcp(void **state)
{
	struct msg m;
	ldns_pkt *p;
	const size_t head = 12 + 29 + 4; /* huge.prod.svc.cluster.local */

	(void)state;
	query(&m, "huge.prod.svc.cluster.local", T_A, 1, 0, 0, 0, false);
	p = send_to(&w.l, &m, true, 65535);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	assert_true(ldns_pkt_aa(p));
	assert_false(ldns_pkt_tc(p));
	assert_int_equal(ldns_pkt_ancount(p), (65535 - head) / 16);
	assert_int_equal(resp_len, head + (65535 - head) / 16 * 16);
	assert_rr(ldns_pkt_answer(p), 0,
		  "huge.prod.svc.cluster.local. 30 IN A 10.250.0.1");
	ldns_pkt_free(p);
	/* with EDNS: the OPT fits too */
	query(&m, "huge.prod.svc.cluster.local", T_A, 1, 0, 1232, 0, false);
	p = send_to(&w.l, &m, true, 65535);
	assert_false(ldns_pkt_tc(p));
	assert_int_equal(ldns_pkt_ancount(p), (65535 - head - 11) / 16);
	assert_true(ldns_pkt_edns(p));
	ldns_pkt_free(p);
	/* SRV: the glue goes first, then the SRV records that do not fit */
	query(&m, "_http._tcp.huge.prod.svc.cluster.local", T_SRV, 1, 0, 0, 0,
	      false);
	p = send_to(&w.l, &m, true, 65535);
	assert_false(ldns_pkt_tc(p));
	assert_true(ldns_pkt_ancount(p) > 1000);
	assert_true(ldns_pkt_ancount(p) < 5000);
	assert_int_equal(ldns_pkt_arcount(p), 0);
	ldns_pkt_free(p);
	/* UDP: TC and no record */
	query(&m, "huge.prod.svc.cluster.local", T_A, 1, 0, 1232, 0, false);
	p = send_to(&w.l, &m, false, 65535);
	assert_true(ldns_pkt_tc(p));
	assert_int_equal(ldns_pkt_ancount(p), 0);
	ldns_pkt_free(p);
}

/* ANY: one RRset (RFC 8482), for the names of the zone and those answered
 * beside it. */
static void test_any(void **state)
{
	(void)state;
	ldns_pkt *p = ask("h0.dual.prod.svc.cluster.local", T_A);
	assert_int_equal(ldns_pkt_ancount(p), 1);
	ldns_pkt_free(p);
	p = ask("h0.dual.prod.svc.cluster.local", T_AAAA);
	assert_int_equal(ldns_pkt_ancount(p), 1);
	assert_rr(ldns_pkt_answer(p), 0,
		  "h0.dual.prod.svc.cluster.local. 30 IN AAAA fd00::9:1");
	ldns_pkt_free(p);
	p = ask("h0.dual.prod.svc.cluster.local", T_ANY);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	assert_true(ldns_pkt_aa(p));
	assert_int_equal(ldns_pkt_ancount(p), 1);
	ldns_pkt_free(p);
	p = ask("cluster.local", T_ANY);
	assert_int_equal(ldns_pkt_ancount(p), 1);
	ldns_pkt_free(p);
	p = ask("db.prod.svc.cluster.local", T_ANY);
	assert_int_equal(ldns_pkt_ancount(p), 2); /* the A RRset of two */
	assert_int_equal(
	    ldns_rr_get_type(ldns_rr_list_rr(ldns_pkt_answer(p), 0)),
	    LDNS_RR_TYPE_A);
	ldns_pkt_free(p);
}

/* The names of a ClusterIP service, answered from its table (hosts.h):
 * SRV at its name and at a port's name with the addresses as glue, the
 * _<proto> name between them, names that are none of its own, ANY, a
 * CNAME chased into them, and the same shape under a reverse zone. */
static void test_vip(void **state)
{
	(void)state;
	ldns_pkt *p = ask("web.prod.svc.cluster.local", T_SRV);
	assert_true(ldns_pkt_aa(p));
	assert_int_equal(ldns_pkt_ancount(p), 1);
	assert_rr(ldns_pkt_answer(p), 0,
		  "web.prod.svc.cluster.local. 30 IN SRV 0 100 80 "
		  "web.prod.svc.cluster.local.");
	assert_int_equal(ldns_pkt_arcount(p), 1);
	assert_rr(ldns_pkt_additional(p), 0,
		  "web.prod.svc.cluster.local. 30 IN A 10.96.1.10");
	ldns_pkt_free(p);

	/* the target is lowercase whatever the question's case, which is
	 * echoed */
	p = ask("_HTTP._tcp.Web.prod.svc.cluster.local", T_SRV);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	assert_int_equal(ldns_pkt_ancount(p), 1);
	assert_rr(ldns_pkt_answer(p), 0,
		  "_http._tcp.web.prod.svc.cluster.local. 30 IN SRV 0 100 80 "
		  "web.prod.svc.cluster.local.");
	assert_rr(ldns_pkt_additional(p), 0,
		  "web.prod.svc.cluster.local. 30 IN A 10.96.1.10");
	assert_memory_equal(resp + 12, "\5_HTTP\4_tcp\3Web", 15);
	ldns_pkt_free(p);
	p = ask("_http._tcp.web.prod.svc.cluster.local", T_ANY);
	assert_int_equal(ldns_pkt_ancount(p), 1);
	assert_int_equal(
	    ldns_rr_get_type(ldns_rr_list_rr(ldns_pkt_answer(p), 0)),
	    LDNS_RR_TYPE_SRV);
	ldns_pkt_free(p);
	p = ask("web.prod.svc.cluster.local", T_ANY);
	assert_int_equal(ldns_pkt_ancount(p), 1);
	assert_rr(ldns_pkt_answer(p), 0,
		  "web.prod.svc.cluster.local. 30 IN A 10.96.1.10");
	ldns_pkt_free(p);

	/* the _<proto> name of a named port exists without records */
	p = ask("_tcp.web.prod.svc.cluster.local", T_A);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	assert_int_equal(ldns_pkt_ancount(p), 0);
	assert_soa(p, "cluster.local.", 30);
	ldns_pkt_free(p);
	expect_rcode("_http._tcp.web.prod.svc.cluster.local", T_A,
		     LDNS_RCODE_NOERROR);
	expect_rcode("_udp.web.prod.svc.cluster.local", T_SRV,
		     LDNS_RCODE_NXDOMAIN);
	expect_rcode("_http._udp.web.prod.svc.cluster.local", T_SRV,
		     LDNS_RCODE_NXDOMAIN);
	expect_rcode("_dns._tcp.web.prod.svc.cluster.local", T_SRV,
		     LDNS_RCODE_NXDOMAIN);
	expect_rcode("x._http._tcp.web.prod.svc.cluster.local", T_SRV,
		     LDNS_RCODE_NXDOMAIN);
	expect_rcode("web.nons.svc.cluster.local", T_A, LDNS_RCODE_NXDOMAIN);
	/* the shape under a reverse zone is no service name */
	expect_rcode("web.prod.svc.10.in-addr.arpa", T_A, LDNS_RCODE_NXDOMAIN);

	/* an ExternalName into the service: the chain, then what the
	 * service's name has of the type */
	p = ask("ext.prod.svc.cluster.local", T_SRV);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	assert_int_equal(ldns_pkt_ancount(p), 2);
	assert_rr(ldns_pkt_answer(p), 0,
		  "ext.prod.svc.cluster.local. 30 IN CNAME "
		  "web.prod.svc.cluster.local.");
	assert_rr(ldns_pkt_answer(p), 1,
		  "web.prod.svc.cluster.local. 30 IN SRV 0 100 80 "
		  "web.prod.svc.cluster.local.");
	ldns_pkt_free(p);
	p = ask("ext.prod.svc.cluster.local", T_AAAA);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	assert_int_equal(ldns_pkt_ancount(p), 1);
	assert_soa(p, "cluster.local.", 30);
	ldns_pkt_free(p);
}

static void test_edns(void **state)
{
	struct msg m;
	ldns_pkt *p;

	(void)state;
	query(&m, "web.prod.svc.cluster.local", T_A, 1, 0x0100, 4096, 0, true);
	p = send_to(&w.l, &m, false, 65535);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	assert_int_equal(ldns_pkt_ancount(p), 1);
	assert_true(ldns_pkt_edns(p));
	assert_int_equal(ldns_pkt_edns_udp_size(p), 1232);
	assert_int_equal(ldns_pkt_edns_version(p), 0);
	/* DO asked, but nothing is signed: DO clear in the answer */
	assert_false(ldns_pkt_edns_do(p));
	assert_int_equal(ldns_pkt_edns_z(p), 0);
	ldns_pkt_free(p);

	/* A negative answer carries the OPT as well. */
	query(&m, "nothing.cluster.local", T_A, 1, 0, 1232, 0, false);
	p = send_to(&w.l, &m, false, 65535);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	assert_true(ldns_pkt_edns(p));
	assert_false(ldns_pkt_edns_do(p));
	assert_soa(p, "cluster.local.", 30);
	ldns_pkt_free(p);

	/* No OPT in, no OPT out. */
	query(&m, "web.prod.svc.cluster.local", T_A, 1, 0, 0, 0, false);
	p = send_to(&w.l, &m, false, 65535);
	assert_false(ldns_pkt_edns(p));
	assert_int_equal(ldns_pkt_arcount(p), 0);
	ldns_pkt_free(p);

	/* EDNS version 1: BADVERS (extended rcode 16), OPT version 0. */
	query(&m, "web.prod.svc.cluster.local", T_A, 1, 0, 1232, 1, false);
	p = send_to(&w.l, &m, false, 65535);
	assert_true(ldns_pkt_edns(p));
	assert_int_equal(ldns_pkt_edns_extended_rcode(p), 1);
	assert_int_equal(ldns_pkt_get_rcode(p), 0);
	assert_int_equal(ldns_pkt_edns_version(p), 0);
	assert_int_equal(ldns_pkt_ancount(p), 0);
	ldns_pkt_free(p);
}

static void test_errors(void **state)
{
	struct msg m;
	ldns_pkt *p = NULL;
	struct sockaddr_storage peer = {0};

	(void)state;
	/* NOTIMP for opcodes other than QUERY (here NOTIFY). */
	query(&m, "web.prod.svc.cluster.local", T_SOA, 1, 4 << 11, 0, 0, false);
	p = send_to(&w.l, &m, false, 65535);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOTIMPL);
	assert_int_equal(ldns_pkt_ancount(p), 0);
	ldns_pkt_free(p);

	/* FORMERR: two questions. */
	query(&m, "web.prod.svc.cluster.local", T_A, 1, 0, 0, 0, false);
	m.b[5] = 2;
	resp_len = query_handle(&w.l, m.b, m.n, resp, sizeof(resp), false,
				(struct sockaddr *)&peer, sizeof(peer), NULL);
	assert_true(resp_len >= 12);
	assert_int_equal(resp[0], 0xbe);
	assert_int_equal(resp[1], 0xef);
	assert_true(resp[2] & 0x80);
	assert_int_equal(resp[3] & 0x0f, LDNS_RCODE_FORMERR);
	/* FORMERR: a question cut short. */
	query(&m, "web.prod.svc.cluster.local", T_A, 1, 0, 0, 0, false);
	resp_len = query_handle(&w.l, m.b, m.n - 3, resp, sizeof(resp), false,
				(struct sockaddr *)&peer, sizeof(peer), NULL);
	assert_true(resp_len >= 12);
	assert_int_equal(resp[3] & 0x0f, LDNS_RCODE_FORMERR);
	/* Dropped: a runt, and a response. */
	assert_int_equal(query_handle(&w.l, m.b, 5, resp, sizeof(resp), false,
				      (struct sockaddr *)&peer, sizeof(peer),
				      NULL),
			 0);
	query(&m, "web.prod.svc.cluster.local", T_A, 1, 0x8000, 0, 0, false);
	assert_int_equal(query_handle(&w.l, m.b, m.n, resp, sizeof(resp), false,
				      (struct sockaddr *)&peer, sizeof(peer),
				      NULL),
			 0);

	/* REFUSED: a block without kubernetes, a name in no zone of the
	 * block, another class, zone transfers, and no block at all. */
	expect_rcode("www.example.com", T_A, LDNS_RCODE_REFUSED);
	expect_rcode("foo.local", T_A, LDNS_RCODE_REFUSED);
	query(&m, "web.prod.svc.cluster.local", T_A, 3, 0, 0, 0, false);
	p = send_to(&w.l, &m, false, 65535);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_REFUSED);
	ldns_pkt_free(p);
	expect_rcode("cluster.local", T_IXFR, LDNS_RCODE_REFUSED);
	/* AXFR: NOTIMP over UDP, where it is not defined; REFUSED over TCP
	 * (no transfers are allowed) */
	expect_rcode("cluster.local", T_AXFR, LDNS_RCODE_NOTIMPL);
	query(&m, "cluster.local", T_AXFR, 1, 0, 0, 0, false);
	p = send_to(&w.l, &m, true, 65535);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_REFUSED);
	assert_int_equal(ldns_pkt_ancount(p), 0);
	ldns_pkt_free(p);
	query(&m, "cluster.local", T_IXFR, 1, 0, 0, 0, false);
	p = send_to(&w.l, &m, true, 65535);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_REFUSED);
	ldns_pkt_free(p);
	query(&m, "www.example.com", T_A, 1, 0, 1232, 0, false);
	p = send_to(&w.l2, &m, false, 65535);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_REFUSED);
	assert_false(ldns_pkt_aa(p));
	assert_true(ldns_pkt_edns(p));
	ldns_pkt_free(p);
	query(&m, "web.prod.svc.cluster.local", T_A, 1, 0, 0, 0, false);
	p = send_to(&w.l2, &m, false, 65535);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	assert_int_equal(ldns_pkt_ancount(p), 1);
	ldns_pkt_free(p);
}

static void test_insecure_pods(void **state)
{
	(void)state;
	ldns_pkt *p = ask("10-244-1-5.Prod.pod.cluster.local", T_A);
	assert_true(ldns_pkt_aa(p));
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	assert_int_equal(ldns_pkt_ancount(p), 1);
	assert_rr(ldns_pkt_answer(p), 0,
		  "10-244-1-5.prod.pod.cluster.local. 30 IN A 10.244.1.5");
	ldns_pkt_free(p);
	p = ask("fd00-244--6.prod.pod.cluster.local", T_AAAA);
	assert_int_equal(ldns_pkt_ancount(p), 1);
	assert_rr(ldns_pkt_answer(p), 0,
		  "fd00-244--6.prod.pod.cluster.local. 30 IN AAAA fd00:244::6");
	ldns_pkt_free(p);
	p = ask("10-244-1-5.prod.pod.cluster.local", T_ANY);
	assert_int_equal(ldns_pkt_ancount(p), 1);
	ldns_pkt_free(p);

	/* The other family: NODATA with the SOA. */
	p = ask("10-244-1-5.prod.pod.cluster.local", T_AAAA);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	assert_int_equal(ldns_pkt_ancount(p), 0);
	assert_soa(p, "cluster.local.", 30);
	ldns_pkt_free(p);
	/* <ns>.pod.<zone>: NODATA. */
	p = ask("prod.pod.cluster.local", T_A);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	assert_int_equal(ldns_pkt_ancount(p), 0);
	assert_soa(p, "cluster.local.", 30);
	ldns_pkt_free(p);
	expect_rcode("pod.cluster.local", T_A, LDNS_RCODE_NOERROR);
	/* Junk, too many labels, too few dashes: NXDOMAIN. */
	expect_rcode("junk.prod.pod.cluster.local", T_A, LDNS_RCODE_NXDOMAIN);
	expect_rcode("1-2-3.prod.pod.cluster.local", T_A, LDNS_RCODE_NXDOMAIN);
	expect_rcode("x.10-244-1-5.prod.pod.cluster.local", T_A,
		     LDNS_RCODE_NXDOMAIN);
	expect_rcode("10-244-1-5.prod.svc.cluster.local", T_A,
		     LDNS_RCODE_NXDOMAIN);

	/* The longest key wins: under the shorter key "local" the same kube
	 * serves with pods disabled, cluster.local keeps insecure. */
	struct msg m;
	query(&m, "10-244-1-5.prod.pod.cluster.local", T_A, 1, 0, 0, 0, false);
	struct query_key k[2];
	memcpy(&k[0], &w.keys[1], sizeof(k[0]));
	memcpy(&k[1], &w.keys[2], sizeof(k[1]));
	struct query_listener l = {k, 2, 1232, 0};
	p = send_to(&l, &m, false, 65535);
	assert_int_equal(ldns_pkt_ancount(p), 1);
	ldns_pkt_free(p);
	l.nkeys = 1; /* only "local": pods disabled */
	p = send_to(&l, &m, false, 65535);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	ldns_pkt_free(p);
}

/* `pods insecure` answers only in namespaces that exist (as CoreDNS
 * does); an unknown namespace is NXDOMAIN, as the answer rules say. */
static void test_insecure_pods_unknown_namespace(void **state)
{
	(void)state;
	expect_rcode("10-244-1-5.nosuchns.pod.cluster.local", T_A,
		     LDNS_RCODE_NXDOMAIN);
	expect_rcode("fd00-244--6.nosuchns.pod.cluster.local", T_AAAA,
		     LDNS_RCODE_NXDOMAIN);
}

static void test_servfail(void **state)
{
	(void)state;
	/* A kube never loaded: names that would be NXDOMAIN are SERVFAIL. */
	ldns_pkt *p = ask("web.prod.svc.notsynced.local", T_A);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_SERVFAIL);
	assert_int_equal(ldns_pkt_ancount(p), 0);
	ldns_pkt_free(p);
	/* Its apex exists all the same. */
	expect_rcode("notsynced.local", T_SOA, LDNS_RCODE_NOERROR);

	/* Fallthrough without a next plugin: SERVFAIL for names not in the
	 * zone, answers for names in it. */
	expect_rcode("nothing.ft.local", T_A, LDNS_RCODE_SERVFAIL);
	p = ask("dns-version.ft.local", T_TXT);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	assert_int_equal(ldns_pkt_ancount(p), 1);
	assert_rr(ldns_pkt_answer(p), 0,
		  "dns-version.ft.local. 3600 IN TXT \"1.1.0\"");
	ldns_pkt_free(p);
	/* NODATA is no fallthrough. */
	expect_rcode("svc.ft.local", T_A, LDNS_RCODE_NOERROR);
	/* Fallthrough limited to sub.ft2.local. */
	expect_rcode("nothing.sub.ft2.local", T_A, LDNS_RCODE_SERVFAIL);
	expect_rcode("nothing.ft2.local", T_A, LDNS_RCODE_NXDOMAIN);
}

/* A block with a cache in front of the zone: answers are the zone's, byte
 * for byte (the zone's TTL is within the cache's bounds), kept in the
 * right cache, cut to the client's size from the full cached answer;
 * SERVFAILs of the kubernetes side are not kept; disabled zones are not. */
static void test_cached_block(void **state)
{
	static char *root[] = {""};
	static char *cluster[] = {"cluster.local"};
	struct cache_directive cc = {.file = "Corefile", .line = 2};
	struct config_block cb = {0};
	struct query_block qb;
	struct query_key k;
	struct query_listener l = {.keys = &k, .nkeys = 1, .udp_max = 1232};
	struct msg m;
	uint8_t plain[65536];
	size_t plain_len;
	ldns_pkt *p;

	(void)state;
	cc.conf.zones = root;
	cc.conf.nzones = 1;
	cc.conf.success_cap = cc.conf.denial_cap = 9984;
	cc.conf.success_max_ttl = 3600;
	cc.conf.denial_max_ttl = 1800;
	cc.conf.success_min_ttl = cc.conf.denial_min_ttl = 5;
	cc.conf.servfail_ttl = 5;
	cb.cache = &cc;
	block(&qb, &cb, &w.cka, w.ka);
	assert_non_null(qb.cache);
	key(&k, "", &qb);

	/* a miss, then a hit: both as the zone answers */
	query(&m, "Web.Prod.svc.cluster.local", T_A, 1, 0x0100, 1232, 0, false);
	ldns_pkt_free(send_to(&w.l, &m, false, 65535));
	plain_len = resp_len;
	memcpy(plain, resp, resp_len);
	for (int i = 0; i < 2; i++) {
		ldns_pkt_free(send_to(&l, &m, false, 65535));
		assert_int_equal(resp_len, plain_len);
		assert_memory_equal(resp, plain, plain_len);
	}
	assert_int_equal(cache_count(qb.cache, CACHE_SUCCESS), 1);
	/* NXDOMAIN and NODATA go to the denial cache */
	query(&m, "nosuch.prod.svc.cluster.local", T_A, 1, 0, 0, 0, false);
	p = send_to(&l, &m, false, 65535);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	ldns_pkt_free(p);
	query(&m, "web.prod.svc.cluster.local", T_TXT, 1, 0, 0, 0, false);
	ldns_pkt_free(send_to(&l, &m, false, 65535));
	assert_int_equal(cache_count(qb.cache, CACHE_DENIAL), 2);
	/* a big answer: cut for UDP as the zone cuts it, kept whole */
	query(&m, "big.prod.svc.cluster.local", T_A, 1, 0, 0, 0, false);
	ldns_pkt_free(send_to(&w.l, &m, false, 65535));
	plain_len = resp_len;
	memcpy(plain, resp, resp_len);
	p = send_to(&l, &m, false, 65535);
	assert_true(ldns_pkt_tc(p));
	ldns_pkt_free(p);
	assert_int_equal(resp_len, plain_len);
	assert_memory_equal(resp, plain, plain_len);
	assert_int_equal(cache_count(qb.cache, CACHE_SUCCESS), 2);
	p = send_to(&l, &m, true, 65535);
	assert_false(ldns_pkt_tc(p));
	assert_int_equal(ldns_pkt_ancount(p), 200);
	ldns_pkt_free(p);
	/* names outside the kube zones are REFUSED, not kept */
	query(&m, "example.org", T_A, 1, 0, 0, 0, false);
	p = send_to(&l, &m, false, 65535);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_REFUSED);
	ldns_pkt_free(p);
	assert_int_equal(cache_count(qb.cache, CACHE_SUCCESS | CACHE_DENIAL),
			 4);
	query_block_fini(&qb);
	assert_null(qb.cache);

	/* before the first sync: the SERVFAIL is not kept */
	block(&qb, &cb, &w.ckb, w.kb);
	key(&k, "", &qb);
	query(&m, "nosuch.notsynced.local", T_A, 1, 0, 0, 0, false);
	p = send_to(&l, &m, false, 65535);
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_SERVFAIL);
	ldns_pkt_free(p);
	assert_int_equal(cache_count(qb.cache, CACHE_SUCCESS | CACHE_DENIAL),
			 0);
	query_block_fini(&qb);

	/* kubeadm's: both disabled for the cluster zone */
	cc.conf.no_success = cluster;
	cc.conf.nno_success = 1;
	cc.conf.no_denial = cluster;
	cc.conf.nno_denial = 1;
	block(&qb, &cb, &w.cka, w.ka);
	key(&k, "", &qb);
	query(&m, "web.prod.svc.cluster.local", T_A, 1, 0, 0, 0, false);
	ldns_pkt_free(send_to(&l, &m, false, 65535));
	query(&m, "nosuch.prod.svc.cluster.local", T_A, 1, 0, 0, 0, false);
	ldns_pkt_free(send_to(&l, &m, false, 65535));
	assert_int_equal(cache_count(qb.cache, CACHE_SUCCESS | CACHE_DENIAL),
			 0);
	query_block_fini(&qb);
}

static void test_block_init(void **state)
{
	struct kubernetes_conf ck = {0};
	struct config_block cb = {0};
	struct query_block qb;
	char err[256] = "";
	static char *bad[] = {"a..b"};
	static char *good[] = {"Sub.Cluster.Local", "other.local"};

	(void)state;
	cb.kube = &ck;
	cb.file = "Corefile";
	cb.line = 3;
	ck.pods = KUBERNETES_PODS_VERIFIED;
	ck.fallthrough = true;
	ck.fallthrough_zones = good;
	ck.nfallthrough_zones = 2;
	assert_int_equal(query_block_init(&qb, &cb, w.ka, err, sizeof(err)), 0);
	assert_int_equal(qb.pods, BUILDER_PODS_VERIFIED);
	assert_true(qb.fallthrough);
	assert_int_equal(qb.ft.n, 2);
	assert_ptr_equal(qb.kube, w.ka);
	assert_ptr_equal(qb.conf, &cb);
	/* Zones are kept lowercase in wire form. */
	assert_int_equal(qb.ft.len[0], 19);
	assert_memory_equal(qb.ft.z[0], "\3sub\7cluster\5local", 19);

	ck.fallthrough_zones = bad;
	ck.nfallthrough_zones = 1;
	assert_int_equal(query_block_init(&qb, &cb, w.ka, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "Corefile:3"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_positive),
	    cmocka_unit_test(test_negative),
	    cmocka_unit_test(test_truncation),
	    cmocka_unit_test(test_huge_tcp),
	    cmocka_unit_test(test_any),
	    cmocka_unit_test(test_vip),
	    cmocka_unit_test(test_edns),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_insecure_pods),
	    cmocka_unit_test(test_insecure_pods_unknown_namespace),
	    cmocka_unit_test(test_servfail),
	    cmocka_unit_test(test_block_init),
	    cmocka_unit_test(test_cached_block),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
