/*
 * test_transfer.c -- the transfer directive: its setup and errors, who may
 * have which zone, the IXFR serial, and the messages of a transfer of the
 * fixture cluster (every record of the zone, SOA first and last, names
 * compressed, messages within their limit).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <ldns/ldns.h>
#include <urcu.h>

#include "server/config.h"
#include "server/transfer.h"
#include "zones/dname.h"
#include "zones/kube.h"

#ifndef TEST_SRCDIR
#define TEST_SRCDIR "tests"
#endif

static char err[1024];

static struct config *load_ok(const char *text)
{
	struct config *cfg = NULL;
	int rc = config_load_text("Corefile", text, 53, &cfg, err, sizeof(err));

	if (rc != 0)
		print_error("unexpected error: %s\n", err);
	assert_int_equal(rc, 0);
	return cfg;
}

static void load_fails(const char *text, const char *want)
{
	struct config *cfg = NULL;
	int rc = config_load_text("Corefile", text, 53, &cfg, err, sizeof(err));

	assert_int_equal(rc, -EINVAL);
	assert_null(cfg);
	assert_string_equal(err, want);
}

static struct sockaddr_storage peer4(const char *a)
{
	struct sockaddr_storage ss = {0};
	struct sockaddr_in *s = (struct sockaddr_in *)&ss;

	s->sin_family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, a, &s->sin_addr), 1);
	return ss;
}

static struct sockaddr_storage peer6(const char *a)
{
	struct sockaddr_storage ss = {0};
	struct sockaddr_in6 *s = (struct sockaddr_in6 *)&ss;

	s->sin6_family = AF_INET6;
	assert_int_equal(inet_pton(AF_INET6, a, &s->sin6_addr), 1);
	return ss;
}

static bool allows(const struct transfer_conf *t, const char *zone,
		   const struct sockaddr_storage *ss)
{
	uint8_t w[256];
	size_t len;

	assert_int_equal(dname_zone_wire(zone, w, &len), 0);
	return transfer_conf_allows(t, w, len, (const struct sockaddr *)ss);
}

/* ---- setup ---- */

static void test_setup(void **state)
{
	(void)state;
	struct config *cfg =
	    load_ok(".:53 {\n"
		    "  transfer {\n"
		    "    to * 127.0.0.1\n"
		    "    to 10.0.0.0/8 [::1]:53 1.2.3.4:5300 fd00::/16 ::2\n"
		    "  }\n"
		    "  transfer cluster.local 10.0.0.0/8 {\n"
		    "    to 192.0.2.1\n"
		    "  }\n"
		    "  kubernetes cluster.local\n"
		    "}\n");
	const struct transfer_conf *t = cfg->blocks[0].transfer;

	assert_non_null(t);
	assert_int_equal(t->nxfrs, 2);
	/* no zones: the block's, the root here */
	assert_int_equal(t->xfrs[0].nzones, 1);
	assert_int_equal(t->xfrs[0].zlen[0], 1);
	assert_int_equal(t->xfrs[0].nto, 7);
	assert_int_equal(t->xfrs[0].to[0].family, 0);
	assert_int_equal(t->xfrs[0].to[1].family, AF_INET);
	assert_int_equal(t->xfrs[0].to[1].bits, 32);
	assert_int_equal(t->xfrs[0].to[2].bits, 8);
	assert_int_equal(t->xfrs[0].to[3].family, AF_INET6);
	assert_int_equal(t->xfrs[0].to[3].bits, 128);
	assert_int_equal(t->xfrs[0].to[4].family, AF_INET);
	assert_int_equal(t->xfrs[0].to[5].bits, 16);
	assert_int_equal(t->xfrs[0].to[6].family, AF_INET6);
	/* a CIDR zone is its reverse zone */
	assert_int_equal(t->xfrs[1].nzones, 2);
	char name[300];
	dname_to_str(t->xfrs[1].zones[0], name, sizeof(name));
	assert_string_equal(name, "cluster.local.");
	dname_to_str(t->xfrs[1].zones[1], name, sizeof(name));
	assert_string_equal(name, "10.in-addr.arpa.");
	config_free(cfg);

	/* zones default to every key of the block */
	cfg = load_ok("cluster.local 10.in-addr.arpa {\n"
		      "  transfer {\n    to *\n  }\n"
		      "  kubernetes\n}\n");
	assert_int_equal(cfg->blocks[0].transfer->xfrs[0].nzones, 2);
	config_free(cfg);

	/* and -plugins lists it, before kubernetes */
	size_t i, kube = 0, xfr = 0;
	for (i = 0; config_directives[i]; i++) {
		if (!strcmp(config_directives[i], "transfer"))
			xfr = i;
		if (!strcmp(config_directives[i], "kubernetes"))
			kube = i;
	}
	assert_true(xfr > 0 && xfr < kube);
}

static void test_setup_errors(void **state)
{
	(void)state;
	load_fails(". {\n  transfer\n}\n",
		   "Corefile:2 - Error during setup: transfer: 'to' is "
		   "required");
	load_fails(". {\n  transfer {\n  }\n}\n",
		   "Corefile:2 - Error during setup: transfer: 'to' is "
		   "required");
	load_fails(". {\n  transfer {\n    to\n  }\n}\n",
		   "Corefile:3 - Error during setup: transfer: Wrong argument "
		   "count or unexpected line ending after 'to'");
	load_fails(". {\n  transfer {\n    from 10.0.0.1\n  }\n}\n",
		   "Corefile:3 - Error during setup: transfer: unknown "
		   "property \"from\"");
	static const char *const bad[] = {
	    "nope",	"10.0.0.1/33",	 "10.0.0.1/",	 "::1/129",
	    "1.2.3.4:", "1.2.3.4:99999", "[1.2.3.4]:53", "::1:53x",
	    "[::1]",	"10.0.0.1/x",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[256], want[256];
		snprintf(text, sizeof(text),
			 ". {\n  transfer {\n    to 127.0.0.1 %s\n  }\n}\n",
			 bad[i]);
		snprintf(want, sizeof(want),
			 "Corefile:3 - Error during setup: transfer: must "
			 "specify an IP address, a CIDR or *: `%s'",
			 bad[i]);
		load_fails(text, want);
	}
	load_fails(". {\n  transfer bad..zone {\n    to *\n  }\n}\n",
		   "Corefile:2 - Error during setup: transfer: zone is not a "
		   "valid domain name: 'bad..zone'");
}

/* ---- who may have a zone ---- */

static void test_allows(void **state)
{
	(void)state;
	struct config *cfg =
	    load_ok(". {\n"
		    "  transfer {\n    to 10.0.0.1\n  }\n"
		    "  transfer cluster.local {\n"
		    "    to 127.0.0.1 192.168.0.0/23 fd00::/8\n"
		    "  }\n"
		    "  transfer other.test {\n    to *\n  }\n"
		    "}\n");
	const struct transfer_conf *t = cfg->blocks[0].transfer;
	struct sockaddr_storage lo = peer4("127.0.0.1"),
				two = peer4("127.0.0.2"),
				ten = peer4("10.0.0.1"),
				net = peer4("192.168.1.9"),
				out = peer4("192.168.2.1"),
				v6 = peer6("fd12::1"), v6out = peer6("fe80::1");

	/* the longest zone decides: cluster.local's directive, not the root's
	 */
	assert_true(allows(t, "cluster.local", &lo));
	assert_false(allows(t, "cluster.local", &two));
	assert_false(allows(t, "cluster.local", &ten));
	assert_true(allows(t, "cluster.local", &net));
	assert_false(allows(t, "cluster.local", &out));
	assert_true(allows(t, "cluster.local", &v6));
	assert_false(allows(t, "cluster.local", &v6out));
	/* other zones fall to the root's directive */
	assert_true(allows(t, "in-addr.arpa", &ten));
	assert_false(allows(t, "in-addr.arpa", &lo));
	assert_true(allows(t, "other.test", &two));
	assert_true(allows(t, "sub.other.test", &v6out));
	config_free(cfg);

	cfg = load_ok("cluster.local {\n  transfer {\n    to *\n  }\n}\n");
	t = cfg->blocks[0].transfer;
	assert_true(allows(t, "cluster.local", &v6out));
	/* a zone no transfer directive holds */
	assert_false(allows(t, "in-addr.arpa", &lo));
	assert_false(transfer_conf_allows(NULL, (const uint8_t *)"", 1,
					  (struct sockaddr *)&lo));
	config_free(cfg);
}

/* ---- IXFR ---- */

static size_t ixfr_query(uint8_t *out, size_t max, uint32_t serial, bool soa)
{
	ldns_pkt *p = NULL;

	assert_int_equal(ldns_pkt_query_new_frm_str(&p, "cluster.local.",
						    LDNS_RR_TYPE_IXFR,
						    LDNS_RR_CLASS_IN, 0),
			 LDNS_STATUS_OK);
	if (soa) {
		char text[256];
		ldns_rr *rr = NULL;
		snprintf(text, sizeof(text),
			 "cluster.local. 0 IN SOA ns.cluster.local. "
			 "h.cluster.local. %u 0 0 0 0",
			 serial);
		assert_int_equal(ldns_rr_new_frm_str(&rr, text, 0, NULL, NULL),
				 LDNS_STATUS_OK);
		ldns_pkt_push_rr(p, LDNS_SECTION_AUTHORITY, rr);
	}
	uint8_t *w = NULL;
	size_t len = 0;
	assert_int_equal(ldns_pkt2wire(&w, p, &len), LDNS_STATUS_OK);
	assert_true(len <= max);
	memcpy(out, w, len);
	free(w);
	ldns_pkt_free(p);
	return len;
}

static void test_ixfr_serial(void **state)
{
	uint8_t q[512];
	uint32_t s = 0;

	(void)state;
	size_t n = ixfr_query(q, sizeof(q), 1234567, true);
	assert_int_equal(transfer_ixfr_serial(q, n, &s), 0);
	assert_int_equal(s, 1234567);
	n = ixfr_query(q, sizeof(q), 0, false);
	assert_int_equal(transfer_ixfr_serial(q, n, &s), -EINVAL);
	/* a truncated SOA */
	n = ixfr_query(q, sizeof(q), 1, true);
	assert_int_equal(transfer_ixfr_serial(q, n - 3, &s), -EINVAL);

	/* RFC 1982 */
	assert_true(transfer_serial_older(1, 2));
	assert_false(transfer_serial_older(2, 2));
	assert_false(transfer_serial_older(3, 2));
	assert_true(transfer_serial_older(0xfffffff0u, 5));
	assert_false(transfer_serial_older(5, 0xfffffff0u));
}

/* ---- the messages ---- */

static struct kube *fixture(void)
{
	static const char *const zones[] = {"cluster.local", "in-addr.arpa",
					    "ip6.arpa"};
	struct kube_conf c = {
	    .zones = zones,
	    .nzones = 3,
	    .objects = TEST_SRCDIR "/fixtures/cluster",
	    .pods = BUILDER_PODS_VERIFIED,
	    .ttl = 30,
	};
	struct kube *k = kube_new(&c, err, sizeof(err));

	assert_non_null(k);
	if (kube_load(k, err, sizeof(err)) != 0)
		print_error("load: %s\n", err);
	assert_true(kube_synced(k));
	return k;
}

static int collect(const uint8_t *owner, uint16_t type, uint32_t ttl,
		   const uint8_t *rdata, uint16_t rdlen, void *arg)
{
	uint8_t w[1024];
	size_t ol = dname_len(owner), pos = 0;
	ldns_rr *rr = NULL;

	assert_true(ol + 10 + rdlen <= sizeof(w));
	memcpy(w, owner, ol);
	uint8_t *p = w + ol;
	p[0] = (uint8_t)(type >> 8);
	p[1] = (uint8_t)type;
	p[2] = 0;
	p[3] = 1;
	p[4] = (uint8_t)(ttl >> 24);
	p[5] = (uint8_t)(ttl >> 16);
	p[6] = (uint8_t)(ttl >> 8);
	p[7] = (uint8_t)ttl;
	p[8] = (uint8_t)(rdlen >> 8);
	p[9] = (uint8_t)rdlen;
	memcpy(p + 10, rdata, rdlen);
	assert_int_equal(
	    ldns_wire2rr(&rr, w, ol + 10 + rdlen, &pos, LDNS_SECTION_ANSWER),
	    LDNS_STATUS_OK);
	ldns_rr_list_push_rr(arg, rr);
	return 0;
}

static size_t query(uint8_t *q, const char *name, uint16_t id)
{
	uint8_t w[256];
	int n = dname_from_str(name, w);

	assert_true(n > 0);
	memset(q, 0, 12);
	q[0] = (uint8_t)(id >> 8);
	q[1] = (uint8_t)id;
	q[2] = 0x01; /* RD */
	q[5] = 1;
	memcpy(q + 12, w, (size_t)n);
	q[12 + n] = 0;
	q[13 + n] = 252;
	q[14 + n] = 0;
	q[15 + n] = 1;
	return 12 + (size_t)n + 4;
}

/* Transfer zone i in messages of msg_max bytes (with an OPT of size opt
 * unless 0) and check it. */
static void check_transfer(struct kube *k, size_t i, const char *asked,
			   uint16_t opt, size_t msg_max, size_t *nmsgs)
{
	uint8_t q[300], *buf = NULL;
	size_t qend = query(q, asked, 0xbeef), len = 0, nrr = 0;
	uint32_t serial = 0;

	assert_int_equal(transfer_build(k, i, q, qend, opt, msg_max, &buf, &len,
					&nrr, &serial),
			 0);
	assert_int_equal(serial, zone_serial(kube_zone(k)));

	ldns_rr_list *want = ldns_rr_list_new(), *got = ldns_rr_list_new();
	assert_int_equal(kube_each_zone_rr(k, i, collect, want), 0);
	assert_int_equal(nrr, ldns_rr_list_rr_count(want) + 1);

	size_t off = 0, raw = 0;
	*nmsgs = 0;
	while (off < len) {
		assert_true(len - off >= 2);
		size_t ml = (size_t)buf[off] << 8 | buf[off + 1];
		assert_true(ml <= (msg_max ? msg_max : TRANSFER_MSG_MAX));
		assert_true(len - off - 2 >= ml);
		ldns_pkt *p = NULL;
		assert_int_equal(ldns_wire2pkt(&p, buf + off + 2, ml),
				 LDNS_STATUS_OK);
		assert_int_equal(ldns_pkt_id(p), 0xbeef);
		assert_true(ldns_pkt_qr(p) && ldns_pkt_aa(p) && ldns_pkt_rd(p));
		assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
		/* the question in the first message only, as asked */
		assert_int_equal(ldns_pkt_qdcount(p), *nmsgs == 0 ? 1 : 0);
		if (*nmsgs == 0) {
			char *s = ldns_rdf2str(ldns_rr_owner(
			    ldns_rr_list_rr(ldns_pkt_question(p), 0)));
			assert_string_equal(s, asked);
			free(s);
		}
		assert_true(ldns_pkt_ancount(p) > 0);
		assert_int_equal(ldns_pkt_nscount(p), 0);
		/* an OPT, of our size, when the request had EDNS */
		assert_int_equal(ldns_pkt_arcount(p), 0);
		assert_int_equal(ldns_pkt_edns(p), opt != 0);
		if (opt)
			assert_int_equal(ldns_pkt_edns_udp_size(p), opt);
		ldns_rr_list *an = ldns_pkt_answer(p);
		for (size_t r = 0; r < ldns_rr_list_rr_count(an); r++) {
			ldns_rr *rr = ldns_rr_clone(ldns_rr_list_rr(an, r));
			raw += ldns_rr_uncompressed_size(rr);
			ldns_rr_list_push_rr(got, rr);
		}
		ldns_pkt_free(p);
		off += 2 + ml;
		(*nmsgs)++;
	}
	/* SOA first and last, the same */
	size_t n = ldns_rr_list_rr_count(got);
	assert_true(n >= 2);
	ldns_rr *first = ldns_rr_list_rr(got, 0),
		*last = ldns_rr_list_rr(got, n - 1);
	assert_int_equal(ldns_rr_get_type(first), LDNS_RR_TYPE_SOA);
	assert_int_equal(ldns_rr_compare(first, last), 0);
	assert_int_equal(ldns_rr_compare(first, ldns_rr_list_rr(want, 0)), 0);
	ldns_rr_free(ldns_rr_list_pop_rr(got));
	/* every record of the zone, once */
	assert_int_equal(ldns_rr_list_rr_count(got),
			 ldns_rr_list_rr_count(want));
	ldns_rr_list_sort(got);
	ldns_rr_list_sort(want);
	for (size_t r = 0; r < ldns_rr_list_rr_count(want); r++)
		assert_int_equal(ldns_rr_compare(ldns_rr_list_rr(got, r),
						 ldns_rr_list_rr(want, r)),
				 0);
	/* compression: well under the records' uncompressed size */
	assert_true(len < raw);
	if (msg_max == 0 && nrr > 100) /* big messages: most names point */
		assert_true(len < raw * 2 / 3);
	ldns_rr_list_deep_free(got);
	ldns_rr_list_deep_free(want);
	free(buf);
}

static void test_build(void **state)
{
	(void)state;
	rcu_register_thread();
	struct kube *k = fixture();
	struct zone_index *zi = kube_zone(k);
	size_t one = 0, many = 0, nrev = 0;

	assert_int_equal(zone_count_apexes(zi), 3);
	check_transfer(k, 0, "Cluster.LOCAL.", 0, 0, &one);
	assert_int_equal(one, 3); /* over 40 KiB in 16 KiB messages */
	check_transfer(k, 0, "cluster.local.", 1232, 512, &many);
	assert_true(many > 50);
	/* the reverse zones: the PTRs of services and endpoints */
	check_transfer(k, 1, "in-addr.arpa.", 0, 0, &nrev);
	assert_int_equal(nrev, 1);
	check_transfer(k, 2, "ip6.arpa.", 4096, 1024, &nrev);

	/* no such zone; a record larger than a message */
	uint8_t q[300], *buf = (uint8_t *)"x";
	size_t qend = query(q, "cluster.local", 1), len = 7;
	assert_int_equal(
	    transfer_build(k, 3, q, qend, 0, 0, &buf, &len, NULL, NULL),
	    -EINVAL);
	assert_null(buf);
	assert_int_equal(len, 0);
	assert_int_equal(
	    transfer_build(k, 0, q, qend, 0, 64, &buf, &len, NULL, NULL),
	    -EINVAL);
	assert_null(buf);
	kube_free(k);
	rcu_unregister_thread();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_setup),  cmocka_unit_test(test_setup_errors),
	    cmocka_unit_test(test_allows), cmocka_unit_test(test_ixfr_serial),
	    cmocka_unit_test(test_build),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
