/*
 * test_builder.c -- Kubernetes objects to records, one test per rule of the
 * answer table: objects are built in code, the builder's record stream is
 * decoded to text and compared with the exact set of records expected.
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
#include <urcu.h>

#include "tests/rcu_group.h"

#include "zones/builder.h"
#include "zones/dname.h"
#include "zones/objects.h"
#include "zones/zone.h"

/* ---- objects ---- */

static void parse_addrs(const char *list, struct obj_addr **out, size_t *n)
{
	char buf[512], *save = NULL;

	*out = NULL;
	*n = 0;
	if (!list)
		return;
	snprintf(buf, sizeof(buf), "%s", list);
	for (char *t = strtok_r(buf, ",", &save); t;
	     t = strtok_r(NULL, ",", &save)) {
		*out = realloc(*out, (*n + 1) * sizeof(**out));
		assert_non_null(*out);
		assert_int_equal(obj_addr_parse(t, &(*out)[*n]), 0);
		(*n)++;
	}
}

static char *dup(const char *s)
{
	return s ? strdup(s) : NULL;
}

static struct obj_service *svc_new(const char *ns, const char *name,
				   enum obj_svc_type type, const char *ips)
{
	struct obj_service *s = calloc(1, sizeof(*s));

	s->ns = dup(ns);
	s->name = dup(name);
	s->type = type;
	parse_addrs(ips, &s->ips, &s->nips);
	return s;
}

static void add_port(struct obj_port **ports, size_t *n, const char *name,
		     uint16_t port, uint8_t proto)
{
	*ports = realloc(*ports, (*n + 1) * sizeof(**ports));
	assert_non_null(*ports);
	memset(&(*ports)[*n], 0, sizeof(**ports));
	(*ports)[*n].name = dup(name);
	(*ports)[*n].port = port;
	(*ports)[*n].proto = proto;
	(*n)++;
}

static void svc_port(struct obj_service *s, const char *name, uint16_t port,
		     uint8_t proto)
{
	add_port(&s->ports, &s->nports, name, port, proto);
}

static struct obj_slice *slice_new(const char *ns, const char *name,
				   const char *svc)
{
	struct obj_slice *s = calloc(1, sizeof(*s));

	s->ns = dup(ns);
	s->name = dup(name);
	s->service = dup(svc);
	return s;
}

static void slice_port(struct obj_slice *s, const char *name, uint16_t port,
		       uint8_t proto)
{
	add_port(&s->ports, &s->nports, name, port, proto);
}

static void slice_ep(struct obj_slice *s, const char *ips, const char *host,
		     const char *pod, bool ready)
{
	s->eps = realloc(s->eps, (s->neps + 1) * sizeof(*s->eps));
	assert_non_null(s->eps);
	struct obj_endpoint *e = &s->eps[s->neps++];
	memset(e, 0, sizeof(*e));
	size_t na;
	parse_addrs(ips, &e->addrs, &na);
	e->naddrs = (uint32_t)na;
	e->hostname = dup(host);
	e->pod_name = dup(pod);
	e->ready = ready;
}

static struct builder_conf conf(const char *z1, const char *z2, const char *z3)
{
	struct builder_conf c;

	memset(&c, 0, sizeof(c));
	c.zones[c.nzones++] = z1;
	if (z2)
		c.zones[c.nzones++] = z2;
	if (z3)
		c.zones[c.nzones++] = z3;
	return c;
}

/* ---- decoding the record stream ---- */

#define MAXR 2048

struct decoded {
	char r[MAXR][700];
	size_t n;
};

static void decode(const struct builder_buf *b, struct decoded *d)
{
	size_t o = 0;

	d->n = 0;
	assert_false(b->oom);
	while (o < b->len) {
		char owner[300], rd[320] = "";
		assert_true(d->n < MAXR);
		assert_true(o + 1 <= b->len);
		size_t ol = b->p[o];
		assert_true(o + 1 + ol + 4 <= b->len);
		const uint8_t *on = b->p + o + 1;
		assert_int_equal(dname_len(on), ol);
		/* Owners are lowercase. */
		for (size_t i = 0; i < ol; i++)
			assert_false(on[i] >= 'A' && on[i] <= 'Z');
		dname_to_str(on, owner, sizeof(owner));
		const uint8_t *p = on + ol;
		uint16_t type = (uint16_t)(p[0] << 8 | p[1]);
		uint16_t rdlen = (uint16_t)(p[2] << 8 | p[3]);
		const uint8_t *r = p + 4;
		assert_true(o + 1 + ol + 4 + rdlen <= b->len);
		const char *tn;
		char tmp[300];
		switch (type) {
		case 0:
			tn = "EXISTS";
			assert_int_equal(rdlen, 0);
			break;
		case 1:
			tn = "A";
			assert_int_equal(rdlen, 4);
			inet_ntop(AF_INET, r, rd, sizeof(rd));
			break;
		case 28:
			tn = "AAAA";
			assert_int_equal(rdlen, 16);
			inet_ntop(AF_INET6, r, rd, sizeof(rd));
			break;
		case 2:
		case 5:
		case 12:
			tn = type == 2 ? "NS" : type == 5 ? "CNAME" : "PTR";
			assert_int_equal(dname_len(r), rdlen);
			dname_to_str(r, rd, sizeof(rd));
			break;
		case 16:
			tn = "TXT";
			assert_int_equal(r[0] + 1, rdlen);
			snprintf(rd, sizeof(rd), "%.*s", r[0], r + 1);
			break;
		case 33:
			tn = "SRV";
			assert_true(rdlen > 6);
			assert_int_equal(dname_len(r + 6), rdlen - 6u);
			dname_to_str(r + 6, tmp, sizeof(tmp));
			snprintf(rd, sizeof(rd), "%u %u %u %s",
				 r[0] << 8 | r[1], r[2] << 8 | r[3],
				 r[4] << 8 | r[5], tmp);
			break;
		default:
			fail_msg("unexpected type %u", type);
			return;
		}
		snprintf(d->r[d->n++], 700, "%s %s%s%s", owner, tn,
			 *rd ? " " : "", rd);
		o += 1 + ol + 4 + rdlen;
	}
}

static void dump(const struct decoded *d)
{
	for (size_t i = 0; i < d->n; i++)
		print_message("  got: %s\n", d->r[i]);
}

/* The records of b are exactly want (NULL-terminated), as a multiset. */
static void expect(const struct builder_buf *b, const char *const *want)
{
	struct decoded *d = calloc(1, sizeof(*d));
	bool used[MAXR] = {false};
	size_t nw = 0;
	bool ok = true;

	decode(b, d);
	for (; want[nw]; nw++) {
		size_t i;
		for (i = 0; i < d->n; i++)
			if (!used[i] && strcmp(d->r[i], want[nw]) == 0)
				break;
		if (i == d->n) {
			print_error("missing: %s\n", want[nw]);
			ok = false;
		} else {
			used[i] = true;
		}
	}
	for (size_t i = 0; i < d->n; i++)
		if (!used[i]) {
			print_error("extra: %s\n", d->r[i]);
			ok = false;
		}
	if (!ok)
		dump(d);
	free(d);
	assert_true(ok);
}

/* The endpoint names builder_service_hosts gives, as "label address" (a
 * dashed one as "- address"), compared with want in any order. */
static void expect_hosts(const struct builder_conf *c,
			 const struct obj_service *s,
			 const struct obj_slice *const *sls, size_t n,
			 const char *const *want)
{
	struct hosts_ep eps[16];
	size_t k = builder_service_hosts(c, s, sls, n, eps, 16), nw = 0;
	bool used[16] = {false};

	for (; want[nw]; nw++)
		;
	assert_int_equal(k, nw);
	for (size_t i = 0; i < k; i++) {
		char a[64], line[200];
		obj_addr_str(&eps[i].addr, a, sizeof(a));
		snprintf(line, sizeof(line), "%s %s",
			 eps[i].label ? eps[i].label : "-", a);
		size_t j;
		for (j = 0; j < nw; j++)
			if (!used[j] && !strcmp(want[j], line))
				break;
		if (j == nw)
			print_error("unexpected host: %s\n", line);
		assert_true(j < nw);
		used[j] = true;
	}
}

/* How many records of b are exactly s. */
static size_t count(const struct builder_buf *b, const char *s)
{
	struct decoded *d = calloc(1, sizeof(*d));
	size_t k = 0;

	decode(b, d);
	for (size_t i = 0; i < d->n; i++)
		k += strcmp(d->r[i], s) == 0;
	free(d);
	return k;
}

/* How many records of b start with prefix. */
static size_t count_prefix(const struct builder_buf *b, const char *prefix)
{
	struct decoded *d = calloc(1, sizeof(*d));
	size_t k = 0;

	decode(b, d);
	for (size_t i = 0; i < d->n; i++)
		k += strncmp(d->r[i], prefix, strlen(prefix)) == 0;
	free(d);
	return k;
}

/* The builder's output is accepted by a zone of the forward and reverse
 * zones of c. */
static void zone_accepts(const struct builder_conf *c,
			 const struct builder_buf *b)
{
	uint8_t z[BUILDER_MAX_ZONES][DNAME_MAX],
	    m[BUILDER_MAX_ZONES][DNAME_MAX];
	const uint8_t *zp[BUILDER_MAX_ZONES], *mp[BUILDER_MAX_ZONES];

	for (size_t i = 0; i < c->nzones; i++) {
		assert_true(dname_from_str(c->zones[i], z[i]) > 0);
		assert_true(builder_mname(c, i, m[i]) > 0);
		zp[i] = z[i];
		mp[i] = m[i];
	}
	struct zone_index *zi = zone_index_new(zp, mp, c->nzones, 5);
	assert_non_null(zi);
	assert_int_equal(zone_owner_set(zi, "x", b->p, b->len, 1), 0);
	zone_index_free(zi);
}

/* ---- tests ---- */

static void test_mname(void **state)
{
	struct builder_conf c =
	    conf("10.in-addr.arpa", "cluster.local", "example.org");
	uint8_t out[DNAME_MAX];
	char s[300];
	int n;

	(void)state;
	n = builder_mname(&c, 0, out);
	assert_true(n > 0);
	assert_int_equal((size_t)n, dname_len(out));
	dname_to_str(out, s, sizeof(s));
	assert_string_equal(s, "ns.dns.10.in-addr.arpa.");
	builder_mname(&c, 2, out);
	dname_to_str(out, s, sizeof(s));
	assert_string_equal(s, "ns.dns.example.org.");

	struct builder_conf r = conf("", NULL, NULL);
	assert_int_equal(builder_mname(&r, 0, out), 8);
	dname_to_str(out, s, sizeof(s));
	assert_string_equal(s, "ns.dns.");

	char big[80];
	memset(big, 'a', 64);
	strcpy(big + 64, ".local");
	struct builder_conf bad = conf(big, NULL, NULL);
	assert_int_equal(builder_mname(&bad, 0, out), -EINVAL);
}

static void test_static(void **state)
{
	struct builder_conf c =
	    conf("cluster.local", "10.in-addr.arpa", "example.org");
	struct builder_buf b = {0};

	(void)state;
	assert_int_equal(builder_static(&c, &b), 0);
	expect(&b, (const char *[]){
		       "cluster.local. NS ns.dns.cluster.local.",
		       "dns-version.cluster.local. TXT 1.1.0",
		       "svc.cluster.local. EXISTS",
		       "pod.cluster.local. EXISTS",
		       "10.in-addr.arpa. NS ns.dns.10.in-addr.arpa.",
		       "example.org. NS ns.dns.example.org.",
		       "dns-version.example.org. TXT 1.1.0",
		       "svc.example.org. EXISTS",
		       "pod.example.org. EXISTS",
		       NULL,
		   });
	zone_accepts(&c, &b);

	/* Reset between calls, and the root zone. */
	struct builder_conf r = conf("", NULL, NULL);
	assert_int_equal(builder_static(&r, &b), 0);
	expect(&b, (const char *[]){
		       ". NS ns.dns.",
		       "dns-version. TXT 1.1.0",
		       "svc. EXISTS",
		       "pod. EXISTS",
		       NULL,
		   });
	builder_buf_free(&b);
	assert_null(b.p);
}

static void test_namespace(void **state)
{
	struct builder_conf c =
	    conf("cluster.local", "10.in-addr.arpa", "example.org");
	struct builder_buf b = {0};

	(void)state;
	assert_int_equal(builder_namespace(&c, "prod", &b), 0);
	expect(&b, (const char *[]){
		       "prod.svc.cluster.local. EXISTS",
		       "prod.svc.example.org. EXISTS",
		       NULL,
		   });
	c.pods = BUILDER_PODS_INSECURE;
	assert_int_equal(builder_namespace(&c, "prod", &b), 0);
	expect(&b, (const char *[]){
		       "prod.svc.cluster.local. EXISTS",
		       "prod.pod.cluster.local. EXISTS",
		       "prod.svc.example.org. EXISTS",
		       "prod.pod.example.org. EXISTS",
		       NULL,
		   });
	c.pods = BUILDER_PODS_VERIFIED;
	assert_int_equal(builder_namespace(&c, "prod", &b), 0);
	assert_int_equal(count(&b, "prod.pod.cluster.local. EXISTS"), 1);
	zone_accepts(&c, &b);
	builder_buf_free(&b);
}

static void test_clusterip_dual_stack(void **state)
{
	struct builder_conf c =
	    conf("cluster.local", "10.in-addr.arpa", "ip6.arpa");
	struct builder_buf b = {0};
	struct obj_service *s =
	    svc_new("prod", "web", OBJ_SVC_CLUSTERIP, "10.96.0.10,fd00::10");
	struct obj_slice *sl = slice_new("prod", "web-abc", "web");

	(void)state;
	svc_port(s, "http", 80, OBJ_PROTO_TCP);
	svc_port(s, "dns", 53, OBJ_PROTO_UDP);
	svc_port(s, NULL, 9000, OBJ_PROTO_TCP);
	slice_port(sl, "http", 8080, OBJ_PROTO_TCP);
	slice_ep(sl, "10.244.1.5", NULL, "web-1", true);
	slice_ep(sl, "10.244.1.6", "down", NULL, false);
	const struct obj_slice *sls[] = {sl};

	/* Every name of a ClusterIP service is hosts.h's: no records. */
	assert_int_equal(builder_service(&c, s, sls, 1, &b), 0);
	assert_int_equal(b.len, 0);
	/* its own name with its addresses and every port (hosts.h writes
	 * the SRVs, _port._proto names for named ports only) */
	struct hosts_vip vip = {0};
	assert_true(builder_service_vip(&c, s, sls, 1, &vip));
	assert_ptr_equal(vip.ports, s->ports);
	assert_int_equal(vip.nports, 3);
	/* the names above the PTRs it answers exist: the parent of the ready
	 * endpoint's and of the cluster IPs' */
	struct obj_addr a;
	assert_int_equal(obj_addr_parse("10.244.1.5", &a), 0);
	assert_int_equal(builder_rev_parent(&c, &a, &b), 0);
	expect(&b, (const char *[]){"1.244.10.in-addr.arpa. EXISTS", NULL});
	zone_accepts(&c, &b);
	assert_int_equal(obj_addr_parse("fd00::10", &a), 0);
	assert_int_equal(builder_rev_parent(&c, &a, &b), 0);
	expect(&b, (const char *[]){"1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0."
				    "0.0.0.0.0.0.0.0.0.d.f.ip6.arpa. EXISTS",
				    NULL});
	const struct obj_addr *ips = NULL;
	assert_int_equal(builder_service_ips(&c, s, &ips), 2);
	assert_ptr_equal(ips, s->ips);
	/* the ready endpoint, by its dashed address */
	expect_hosts(&c, s, sls, 1, (const char *[]){"- 10.244.1.5", NULL});

	/* Without reverse zones: no PTR parent at all. */
	struct builder_conf f = conf("cluster.local", NULL, NULL);
	assert_int_equal(obj_addr_parse("10.244.1.5", &a), 0);
	assert_int_equal(builder_rev_parent(&f, &a, &b), 0);
	assert_int_equal(b.len, 0);
	expect_hosts(&f, s, sls, 1, (const char *[]){"- 10.244.1.5", NULL});

	/* A reverse zone that does not hold the address: none either. */
	struct builder_conf o = conf("cluster.local", "11.in-addr.arpa", NULL);
	assert_int_equal(builder_rev_parent(&o, &a, &b), 0);
	assert_int_equal(b.len, 0);

	/* endpoint_pod_names names the endpoint by its pod. */
	f.endpoint_pod_names = true;
	expect_hosts(&f, s, sls, 1, (const char *[]){"web-1 10.244.1.5", NULL});

	/* No forward zone: no endpoint names. */
	struct builder_conf r = conf("10.in-addr.arpa", NULL, NULL);
	expect_hosts(&r, s, sls, 1, (const char *[]){NULL});
	assert_int_equal(builder_service_ips(&r, s, NULL), 0);
	assert_false(builder_service_vip(&r, s, sls, 1, NULL));

	builder_buf_free(&b);
	obj_service_free(s);
	obj_slice_free(sl);
}

static void test_headless(void **state)
{
	struct builder_conf c =
	    conf("cluster.local", "10.in-addr.arpa", "ip6.arpa");
	struct builder_buf b = {0};
	struct obj_service *s = svc_new("prod", "db", OBJ_SVC_HEADLESS, NULL);
	struct obj_slice *s1 = slice_new("prod", "db-v4", "db");
	struct obj_slice *s2 = slice_new("prod", "db-v6", "db");

	(void)state;
	svc_port(s, "pg", 5432, OBJ_PROTO_TCP);
	slice_port(s1, "pg", 15432, OBJ_PROTO_TCP);
	slice_port(s1, NULL, 9187, OBJ_PROTO_TCP);
	slice_ep(s1, "10.244.1.5", "db-0", "db-0", true);
	slice_ep(s1, "10.244.1.6", "db-1", "db-1", false);
	slice_ep(s1, "10.244.2.7", NULL, "db-2", true);
	slice_port(s2, "pg", 15432, OBJ_PROTO_TCP);
	slice_ep(s2, "fd00:244::7", NULL, NULL, true);
	const struct obj_slice *sls[] = {s1, s2};

	assert_int_equal(builder_service(&c, s, sls, 2, &b), 0);
	expect(
	    &b,
	    (const char *[]){
		"db.prod.svc.cluster.local. A 10.244.1.5",
		"db.prod.svc.cluster.local. A 10.244.2.7",
		"db.prod.svc.cluster.local. AAAA fd00:244::7",
		"db-0.db.prod.svc.cluster.local. A 10.244.1.5",
		"10-244-2-7.db.prod.svc.cluster.local. A 10.244.2.7",
		"fd00-244--7.db.prod.svc.cluster.local. AAAA fd00:244::7",
		"5.1.244.10.in-addr.arpa. PTR db-0.db.prod.svc.cluster.local.",
		"7.2.244.10.in-addr.arpa. PTR "
		"10-244-2-7.db.prod.svc.cluster.local.",
		"7.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.4.4.2.0."
		"0.0.d.f.ip6.arpa. PTR fd00-244--7.db.prod.svc.cluster.local.",
		/* every port of every ready endpoint on the bare name:
		 * 2 + 2 + 1 = 5 records, weight 20 */
		"db.prod.svc.cluster.local. SRV 0 20 15432 "
		"db-0.db.prod.svc.cluster.local.",
		"db.prod.svc.cluster.local. SRV 0 20 9187 "
		"db-0.db.prod.svc.cluster.local.",
		"db.prod.svc.cluster.local. SRV 0 20 15432 "
		"10-244-2-7.db.prod.svc.cluster.local.",
		"db.prod.svc.cluster.local. SRV 0 20 9187 "
		"10-244-2-7.db.prod.svc.cluster.local.",
		"db.prod.svc.cluster.local. SRV 0 20 15432 "
		"fd00-244--7.db.prod.svc.cluster.local.",
		/* the named port: 3 records, weight 33 */
		"_pg._tcp.db.prod.svc.cluster.local. SRV 0 33 15432 "
		"db-0.db.prod.svc.cluster.local.",
		"_pg._tcp.db.prod.svc.cluster.local. SRV 0 33 15432 "
		"10-244-2-7.db.prod.svc.cluster.local.",
		"_pg._tcp.db.prod.svc.cluster.local. SRV 0 33 15432 "
		"fd00-244--7.db.prod.svc.cluster.local.",
		NULL,
	    });
	zone_accepts(&c, &b);

	/* endpoint_pod_names: the pod name where there is no hostname. */
	c.endpoint_pod_names = true;
	assert_int_equal(builder_service(&c, s, sls, 2, &b), 0);
	assert_int_equal(
	    count(&b, "db-0.db.prod.svc.cluster.local. A 10.244.1.5"), 1);
	assert_int_equal(
	    count(&b, "db-2.db.prod.svc.cluster.local. A 10.244.2.7"), 1);
	assert_int_equal(
	    count(&b,
		  "fd00-244--7.db.prod.svc.cluster.local. AAAA fd00:244::7"),
	    1);
	assert_int_equal(count_prefix(&b, "10-244-2-7."), 0);
	assert_int_equal(count_prefix(&b, "db-1."), 0);

	/* None ready: nothing at all (NXDOMAIN). */
	s1->eps[0].ready = false;
	s1->eps[2].ready = false;
	s2->eps[0].ready = false;
	assert_int_equal(builder_service(&c, s, sls, 2, &b), 0);
	assert_int_equal(b.len, 0);
	assert_int_equal(builder_service(&c, s, NULL, 0, &b), 0);
	assert_int_equal(b.len, 0);

	builder_buf_free(&b);
	obj_service_free(s);
	obj_slice_free(s1);
	obj_slice_free(s2);
}

static void test_srv_protocols_and_weights(void **state)
{
	struct builder_conf c = conf("cluster.local", NULL, NULL);
	struct builder_buf b = {0};
	struct obj_service *s = svc_new("prod", "dns", OBJ_SVC_HEADLESS, NULL);
	struct obj_slice *sl = slice_new("prod", "dns-1", "dns");
	char ip[32];

	(void)state;
	slice_port(sl, "dns", 53, OBJ_PROTO_UDP);
	slice_port(sl, "dns", 53, OBJ_PROTO_TCP);
	slice_port(sl, "sctp", 99, OBJ_PROTO_SCTP);
	slice_ep(sl, "10.0.0.1", "a", NULL, true);
	slice_ep(sl, "10.0.0.2", "b", NULL, true);
	const struct obj_slice *sls[] = {sl};
	assert_int_equal(builder_service(&c, s, sls, 1, &b), 0);
	/* Per name and protocol: 2 each, weight 50. */
	assert_int_equal(count(&b, "_dns._udp.dns.prod.svc.cluster.local. SRV "
				   "0 50 53 a.dns.prod.svc.cluster.local."),
			 1);
	assert_int_equal(count(&b, "_dns._tcp.dns.prod.svc.cluster.local. SRV "
				   "0 50 53 b.dns.prod.svc.cluster.local."),
			 1);
	assert_int_equal(
	    count_prefix(&b, "_sctp._sctp.dns.prod.svc.cluster.local. SRV 0 "
			     "50 99 "),
	    2);
	/* Bare name: 3 ports x 2 endpoints, weight 16. */
	assert_int_equal(
	    count_prefix(&b, "dns.prod.svc.cluster.local. SRV 0 16 "), 6);
	obj_slice_free(sl);

	/* Many endpoints: floor(100/150) is 0, the weight is at least 1. */
	sl = slice_new("prod", "dns-1", "dns");
	slice_port(sl, "dns", 53, OBJ_PROTO_UDP);
	for (int i = 0; i < 150; i++) {
		snprintf(ip, sizeof(ip), "10.0.%d.%d", i / 200, i % 200 + 1);
		slice_ep(sl, ip, NULL, NULL, true);
	}
	sls[0] = sl;
	assert_int_equal(builder_service(&c, s, sls, 1, &b), 0);
	assert_int_equal(
	    count_prefix(&b, "_dns._udp.dns.prod.svc.cluster.local. SRV 0 1 "
			     "53 "),
	    150);
	assert_int_equal(
	    count_prefix(&b, "dns.prod.svc.cluster.local. SRV 0 1 53 "), 150);
	assert_int_equal(count_prefix(&b, "dns.prod.svc.cluster.local. A "),
			 150);
	builder_buf_free(&b);
	obj_service_free(s);
	obj_slice_free(sl);
}

static void test_externalname(void **state)
{
	struct builder_conf c =
	    conf("cluster.local", "10.in-addr.arpa", "example.org");
	struct builder_buf b = {0};
	struct obj_service *s =
	    svc_new("prod", "ext", OBJ_SVC_EXTERNALNAME, NULL);
	struct obj_slice *sl = slice_new("prod", "ext-1", "ext");

	(void)state;
	s->external_name = dup("db.example.com");
	svc_port(s, "pg", 5432, OBJ_PROTO_TCP);
	svc_port(s, NULL, 1234, OBJ_PROTO_TCP);
	slice_ep(sl, "10.244.1.5", NULL, NULL, true);
	const struct obj_slice *sls[] = {sl};
	assert_int_equal(builder_service(&c, s, sls, 1, &b), 0);
	expect(&b, (const char *[]){
		       "ext.prod.svc.cluster.local. CNAME db.example.com.",
		       "_pg._tcp.ext.prod.svc.cluster.local. SRV 0 100 5432 "
		       "db.example.com.",
		       "ext.prod.svc.example.org. CNAME db.example.com.",
		       "_pg._tcp.ext.prod.svc.example.org. SRV 0 100 5432 "
		       "db.example.com.",
		       NULL,
		   });
	zone_accepts(&c, &b);

	/* A trailing dot in the spec is fine; no name gives nothing. */
	free(s->external_name);
	s->external_name = dup("db.example.com.");
	assert_int_equal(builder_service(&c, s, sls, 1, &b), 0);
	assert_int_equal(
	    count(&b, "ext.prod.svc.cluster.local. CNAME db.example.com."), 1);
	free(s->external_name);
	s->external_name = NULL;
	assert_int_equal(builder_service(&c, s, sls, 1, &b), 0);
	assert_int_equal(b.len, 0);
	s->external_name = dup("");
	assert_int_equal(builder_service(&c, s, sls, 1, &b), 0);
	assert_int_equal(b.len, 0);
	builder_buf_free(&b);
	obj_service_free(s);
	obj_slice_free(sl);
}

static void test_ptr_primary_zone(void **state)
{
	/* The first forward zone is the primary one, even after a reverse
	 * zone. */
	struct builder_conf c =
	    conf("10.in-addr.arpa", "example.org", "cluster.local");
	struct builder_buf b = {0};
	struct obj_service *s =
	    svc_new("prod", "web", OBJ_SVC_CLUSTERIP, "10.96.0.10");
	struct obj_slice *sl = slice_new("prod", "web-1", "web");

	(void)state;
	slice_ep(sl, "10.244.1.5", "h", NULL, true);
	slice_ep(sl, "192.168.1.5", "outside", NULL, true);
	const struct obj_slice *sls[] = {sl};
	assert_int_equal(builder_service(&c, s, sls, 1, &b), 0);
	assert_int_equal(b.len, 0);
	assert_true(builder_service_vip(&c, s, sls, 1, NULL));
	/* 192.168.1.5 is in no reverse zone */
	struct obj_addr a;
	assert_int_equal(obj_addr_parse("192.168.1.5", &a), 0);
	assert_int_equal(builder_rev_parent(&c, &a, &b), 0);
	assert_int_equal(b.len, 0);
	expect_hosts(
	    &c, s, sls, 1,
	    (const char *[]){"h 10.244.1.5", "outside 192.168.1.5", NULL});
	builder_buf_free(&b);
	obj_service_free(s);
	obj_slice_free(sl);
}

static void test_kube_dns(void **state)
{
	struct builder_conf c = conf("cluster.local", "example.org", NULL);
	struct builder_buf b = {0};
	struct obj_service *s =
	    svc_new("kube-system", "kube-dns", OBJ_SVC_CLUSTERIP, "10.96.0.10");
	struct obj_service *o =
	    svc_new("prod", "kube-dns", OBJ_SVC_CLUSTERIP, "10.96.0.11");

	(void)state;
	/* the service's own names are hosts.h's; ns.dns is a record */
	assert_int_equal(builder_service(&c, s, NULL, 0, &b), 0);
	expect(&b, (const char *[]){
		       "ns.dns.cluster.local. A 10.96.0.10",
		       "ns.dns.example.org. A 10.96.0.10",
		       NULL,
		   });
	assert_int_equal(builder_service(&c, o, NULL, 0, &b), 0);
	assert_int_equal(b.len, 0);
	assert_true(builder_service_vip(&c, o, NULL, 0, NULL));
	builder_buf_free(&b);
	obj_service_free(s);
	obj_service_free(o);
}

static void test_ignore_empty_and_noendpoints(void **state)
{
	struct builder_conf c = conf("cluster.local", NULL, NULL);
	struct builder_buf b = {0};
	struct obj_service *s =
	    svc_new("prod", "web", OBJ_SVC_CLUSTERIP, "10.96.0.10");
	struct obj_service *h = svc_new("prod", "db", OBJ_SVC_HEADLESS, NULL);
	struct obj_slice *sl = slice_new("prod", "web-1", "web");
	struct obj_slice *hs = slice_new("prod", "db-1", "db");

	(void)state;
	svc_port(s, "http", 80, OBJ_PROTO_TCP);
	slice_ep(sl, "10.244.1.5", "h", NULL, false);
	slice_ep(hs, "10.244.2.5", "d", NULL, true);
	const struct obj_slice *sls[] = {sl}, *hss[] = {hs};

	/* Not ignoring: the ClusterIP answers without ready endpoints. */
	assert_true(builder_service_vip(&c, s, sls, 1, NULL));
	c.ignore_empty_service = true;
	assert_false(builder_service_vip(&c, s, sls, 1, NULL));
	assert_false(builder_service_vip(&c, s, NULL, 0, NULL));
	sl->eps[0].ready = true;
	assert_true(builder_service_vip(&c, s, sls, 1, NULL));
	expect_hosts(&c, s, sls, 1, (const char *[]){"h 10.244.1.5", NULL});
	c.ignore_empty_service = false;

	/* noendpoints: no endpoint names; the ClusterIP's names stay, a
	 * headless service gives nothing. */
	c.noendpoints = true;
	struct hosts_vip vip = {0};
	assert_true(builder_service_vip(&c, s, sls, 1, &vip));
	assert_int_equal(vip.nports, 1);
	expect_hosts(&c, s, sls, 1, (const char *[]){NULL});
	assert_int_equal(builder_service(&c, h, hss, 1, &b), 0);
	assert_int_equal(b.len, 0);
	c.noendpoints = false;
	/* a headless service's endpoint names are records, not hosts */
	expect_hosts(&c, h, hss, 1, (const char *[]){NULL});
	assert_int_equal(builder_service(&c, h, hss, 1, &b), 0);
	expect(&b, (const char *[]){
		       "db.prod.svc.cluster.local. A 10.244.2.5",
		       "d.db.prod.svc.cluster.local. A 10.244.2.5",
		       NULL,
		   });
	builder_buf_free(&b);
	obj_service_free(s);
	obj_service_free(h);
	obj_slice_free(sl);
	obj_slice_free(hs);
}

static void test_host_label(void **state)
{
	struct builder_conf c = conf("cluster.local", NULL, NULL);
	struct obj_endpoint ep = {0};
	struct obj_addr a;
	char buf[64];

	(void)state;
	assert_int_equal(obj_addr_parse("fd00:10:244::1:5", &a), 0);
	assert_string_equal(builder_host_label(&c, &ep, &a, buf),
			    "fd00-10-244--1-5");
	ep.pod_name = "web-1";
	assert_string_equal(builder_host_label(&c, &ep, &a, buf),
			    "fd00-10-244--1-5");
	c.endpoint_pod_names = true;
	assert_string_equal(builder_host_label(&c, &ep, &a, buf), "web-1");
	ep.hostname = "";
	assert_string_equal(builder_host_label(&c, &ep, &a, buf), "web-1");
	ep.hostname = "web-host";
	assert_string_equal(builder_host_label(&c, &ep, &a, buf), "web-host");
	ep.pod_name = "";
	ep.hostname = NULL;
	assert_int_equal(obj_addr_parse("10.0.0.1", &a), 0);
	assert_string_equal(builder_host_label(&c, &ep, &a, buf), "10-0-0-1");
}

static void test_names_too_long(void **state)
{
	struct builder_conf c = conf("cluster.local", "10.in-addr.arpa", NULL);
	struct builder_buf b = {0};
	char l64[65], l63[64];

	(void)state;
	memset(l64, 'x', 64);
	l64[64] = 0;
	memset(l63, 'y', 63);
	l63[63] = 0;

	/* A service name that is no label: nothing, not even its PTR. */
	struct obj_service *s =
	    svc_new("prod", l64, OBJ_SVC_CLUSTERIP, "10.96.0.10");
	svc_port(s, "http", 80, OBJ_PROTO_TCP);
	assert_int_equal(builder_service(&c, s, NULL, 0, &b), 0);
	assert_int_equal(b.len, 0);
	assert_int_equal(builder_service_ips(&c, s, NULL), 0);
	assert_false(builder_service_vip(&c, s, NULL, 0, NULL));
	obj_service_free(s);
	/* (a port name too long has no _port._proto name: test_hosts) */

	/* An endpoint hostname too long: its names are left out, the
	 * service's A stays. */
	struct obj_service *h = svc_new("prod", "db", OBJ_SVC_HEADLESS, NULL);
	struct obj_slice *sl = slice_new("prod", "db-1", "db");
	slice_port(sl, "pg", 5432, OBJ_PROTO_TCP);
	slice_ep(sl, "10.244.1.5", l64, NULL, true);
	slice_ep(sl, "10.244.1.6", "ok", NULL, true);
	const struct obj_slice *sls[] = {sl};
	assert_int_equal(builder_service(&c, h, sls, 1, &b), 0);
	assert_int_equal(count(&b, "db.prod.svc.cluster.local. A 10.244.1.5"),
			 1);
	assert_int_equal(count(&b, "db.prod.svc.cluster.local. A 10.244.1.6"),
			 1);
	assert_int_equal(
	    count(&b, "ok.db.prod.svc.cluster.local. A 10.244.1.6"), 1);
	assert_int_equal(count_prefix(&b, "5.1.244.10.in-addr.arpa."), 0);
	assert_int_equal(count_prefix(&b, "xxxx"), 0);
	assert_int_equal(
	    count_prefix(&b, "_pg._tcp.db.prod.svc.cluster.local. SRV"), 1);
	zone_accepts(&c, &b);
	obj_service_free(h);
	obj_slice_free(sl);

	/* Labels that fit but a name over 255 bytes: under a zone of 71
	 * bytes the service name has 203, a host name below it 267. */
	char zone[80];
	snprintf(zone, sizeof(zone), "%s.local", l63);
	struct builder_conf lc = conf(zone, "10.in-addr.arpa", NULL);
	struct obj_service *big = svc_new(l63, l63, OBJ_SVC_HEADLESS, NULL);
	sl = slice_new(l63, "x", l63);
	slice_port(sl, "p", 1, OBJ_PROTO_TCP);
	slice_ep(sl, "10.244.1.7", l63, NULL, true);
	sls[0] = sl;
	assert_int_equal(builder_service(&lc, big, sls, 1, &b), 0);
	struct decoded *d = calloc(1, sizeof(*d));
	decode(&b, d);
	assert_int_equal(d->n, 1);
	assert_int_equal(strncmp(d->r[0], l63, 63), 0);
	assert_non_null(strstr(d->r[0], " A 10.244.1.7"));
	free(d);
	zone_accepts(&lc, &b);
	obj_service_free(big);
	obj_slice_free(sl);

	/* A namespace name too long: nothing. */
	assert_int_equal(builder_namespace(&c, l64, &b), 0);
	assert_int_equal(b.len, 0);
	builder_buf_free(&b);
}

static void test_slice_pack(void **state)
{
	struct builder_conf c = conf("cluster.local", "10.in-addr.arpa", NULL);
	struct builder_buf b1 = {0}, b2 = {0};
	struct obj_service *h = svc_new("prod", "db", OBJ_SVC_HEADLESS, NULL);
	struct obj_slice *sl = slice_new("prod", "db-1", "db");

	(void)state;
	c.endpoint_pod_names = true;
	slice_port(sl, "pg", 5432, OBJ_PROTO_TCP);
	slice_port(sl, NULL, 9000, OBJ_PROTO_UDP);
	slice_ep(sl, "10.244.2.5,10.244.2.6", "d", NULL, true);
	slice_ep(sl, "10.244.2.7", NULL, "db-pod", true);
	slice_ep(sl, "10.244.2.8", NULL, NULL, false);
	const struct obj_slice *before[] = {sl};
	assert_int_equal(builder_service(&c, h, before, 1, &b1), 0);

	/* Packed: one allocation; unpacked again, the same content and the
	 * same records. */
	struct obj_slice *p = obj_slice_pack(sl);
	assert_true(p->packed);
	assert_null(p->eps);
	assert_string_equal(p->ns, "prod");
	assert_string_equal(p->service, "db");
	assert_int_equal(p->nports, 2);
	assert_string_equal(p->ports[0].name, "pg");
	struct obj_slice *u = obj_slice_unpack(p);
	assert_non_null(u);
	assert_false(u->packed);
	assert_string_equal(u->name, "db-1");
	assert_int_equal(u->neps, 3);
	assert_int_equal(u->eps[0].naddrs, 2);
	assert_int_equal(u->eps[0].addrs[1].a[3], 6);
	assert_string_equal(u->eps[0].hostname, "d");
	assert_null(u->eps[0].pod_name);
	assert_string_equal(u->eps[1].pod_name, "db-pod");
	assert_null(u->eps[1].hostname);
	assert_false(u->eps[2].ready);
	assert_true(u->eps[1].ready);
	assert_null(u->ports[1].name);
	assert_int_equal(u->ports[1].proto, OBJ_PROTO_UDP);
	const struct obj_slice *after[] = {u};
	assert_int_equal(builder_service(&c, h, after, 1, &b2), 0);
	assert_int_equal(b1.len, b2.len);
	assert_memory_equal(b1.p, b2.p, b1.len);
	/* packing twice is a no-op */
	assert_ptr_equal(obj_slice_pack(p), p);

	/* A packed service gives the same records too. */
	struct obj_service *w =
	    svc_new("prod", "web", OBJ_SVC_CLUSTERIP, "10.96.0.10,fd00::10");
	svc_port(w, "http", 80, OBJ_PROTO_TCP);
	svc_port(w, NULL, 9000, OBJ_PROTO_UDP);
	assert_int_equal(builder_service(&c, w, after, 1, &b1), 0);
	struct obj_service *wp = obj_service_pack(w);
	assert_true(wp->packed);
	assert_string_equal(wp->name, "web");
	assert_int_equal(wp->nips, 2);
	assert_int_equal(wp->nports, 2);
	assert_string_equal(wp->ports[0].name, "http");
	assert_int_equal(builder_service(&c, wp, after, 1, &b2), 0);
	assert_int_equal(b1.len, b2.len);
	assert_memory_equal(b1.p, b2.p, b1.len);
	obj_service_free(wp);
	obj_slice_free(u);
	builder_buf_free(&b1);
	builder_buf_free(&b2);
	obj_service_free(h);
	obj_slice_free(p);
}

/* ---- topology: zonal names ---- */

static void test_zone_intern(void **state)
{
	(void)state;
	int a = obj_zone_intern("us-east-1a");
	assert_true(a > 0);
	assert_int_equal(obj_zone_intern("us-east-1a"), a);
	int b = obj_zone_intern("us-east-1b");
	assert_true(b > 0 && b != a);
	assert_string_equal(obj_zone_name((uint16_t)a), "us-east-1a");
	assert_string_equal(obj_zone_name((uint16_t)b), "us-east-1b");
	assert_int_equal(obj_zone_intern(""), 0);
	assert_int_equal(obj_zone_intern(NULL), 0);
	char big[300];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	assert_int_equal(obj_zone_intern(big), 0);
	assert_null(obj_zone_name(0));
	assert_null(obj_zone_name(OBJ_MAX_ZONES));
}

static void test_zonal(void **state)
{
	struct builder_conf c = conf("cluster.local", "10.in-addr.arpa", NULL);
	struct builder_buf b = {0};
	struct obj_service *s = svc_new("prod", "db", OBJ_SVC_HEADLESS, NULL);
	struct obj_slice *sl = slice_new("prod", "db-1", "db");
	uint16_t za = (uint16_t)obj_zone_intern("us-east-1a");
	uint16_t zb = (uint16_t)obj_zone_intern("eu.corp");
	uint16_t zc = (uint16_t)obj_zone_intern("us-east-1c");

	(void)state;
	slice_port(sl, "pg", 5432, OBJ_PROTO_TCP);
	slice_ep(sl, "10.244.1.5", "db-0", NULL, true);
	sl->eps[0].zone = za;
	slice_ep(sl, "10.244.1.6", NULL, NULL, true);
	sl->eps[1].zone = zb;
	slice_ep(sl, "10.244.1.7", NULL, NULL, true);
	sl->eps[2].zone = zb;
	slice_ep(sl, "10.244.1.8", NULL, NULL, false); /* not ready */
	sl->eps[3].zone = zc;
	slice_ep(sl, "10.244.1.9", NULL, NULL, true); /* no zone */
	const struct obj_slice *sls[] = {sl};

	/* Without zonal: no zonal name at all. */
	assert_int_equal(builder_service(&c, s, sls, 1, &b), 0);
	assert_int_equal(count_prefix(&b, "us-east-1a."), 0);
	assert_int_equal(count_prefix(&b, "db._zone."), 0);

	c.zonal = true;
	assert_int_equal(builder_service(&c, s, sls, 1, &b), 0);
	/* the marker, outside the service's names */
	assert_int_equal(count(&b, "db._zone.prod.svc.cluster.local. EXISTS"),
			 1);
	/* prefer names only: the query path answers pin from them */
	assert_int_equal(count_prefix(&b, "us-east-1a.pin."), 0);
	const char *dirs[] = {"prefer"};
	for (size_t d = 0; d < 1; d++) {
		char n[200], r[300];
		snprintf(n, sizeof(n),
			 "us-east-1a.%s._zone.db.prod.svc."
			 "cluster.local.",
			 dirs[d]);
		snprintf(r, sizeof(r), "%s A 10.244.1.5", n);
		assert_int_equal(count(&b, r), 1);
		snprintf(r, sizeof(r),
			 "%s SRV 0 100 5432 db-0.db.prod.svc.cluster.local.",
			 n);
		assert_int_equal(count(&b, r), 1);
		assert_int_equal(count_prefix(&b, n), 2);
		/* a dotted zone spans labels; two endpoints share weight */
		snprintf(n, sizeof(n),
			 "eu.corp.%s._zone.db.prod.svc.cluster.local.",
			 dirs[d]);
		assert_int_equal(count_prefix(&b, n), 4);
		snprintf(r, sizeof(r),
			 "%s SRV 0 50 5432 "
			 "10-244-1-7.db.prod.svc.cluster.local.",
			 n);
		assert_int_equal(count(&b, r), 1);
	}
	/* no name for a zone with no ready endpoint, or for no zone */
	assert_int_equal(count_prefix(&b, "us-east-1c."), 0);
	assert_int_equal(count_prefix(&b, "pin."), 0);
	/* the plain names are all still there */
	assert_int_equal(count_prefix(&b, "db.prod.svc.cluster.local. A "), 4);
	zone_accepts(&c, &b);

	/* No ready endpoint: the marker alone (zonal names NODATA). */
	for (size_t i = 0; i < sl->neps; i++)
		sl->eps[i].ready = false;
	assert_int_equal(builder_service(&c, s, sls, 1, &b), 0);
	expect(&b, (const char *[]){"db._zone.prod.svc.cluster.local. EXISTS",
				    NULL});

	/* ClusterIP services have none; noendpoints none either. */
	struct obj_service *w =
	    svc_new("prod", "web", OBJ_SVC_CLUSTERIP, "10.96.0.10");
	sl->eps[0].ready = true;
	assert_int_equal(builder_service(&c, w, sls, 1, &b), 0);
	assert_int_equal(count_prefix(&b, "us-east-1a."), 0);
	assert_int_equal(count_prefix(&b, "web._zone."), 0);
	c.noendpoints = true;
	assert_int_equal(builder_service(&c, s, sls, 1, &b), 0);
	assert_int_equal(b.len, 0);

	/* The zone survives packing. */
	struct obj_slice *p = obj_slice_pack(sl);
	assert_true(p->packed);
	struct obj_slice *u = obj_slice_unpack(p);
	assert_non_null(u);
	assert_int_equal(u->eps[0].zone, za);
	assert_int_equal(u->eps[1].zone, zb);
	assert_int_equal(u->eps[3].zone, zc);
	assert_int_equal(u->eps[4].zone, 0);
	assert_string_equal(u->eps[0].hostname, "db-0");

	obj_slice_free(u);
	obj_slice_free(p);
	obj_service_free(w);
	obj_service_free(s);
	builder_buf_free(&b);
}

/* ---- k8s_external ---- */

static struct builder_ext ext_conf(const char *z1, const char *z2,
				   const char *z3)
{
	struct builder_ext x;

	memset(&x, 0, sizeof(x));
	x.apex = "dns";
	x.zones[x.nzones++] = z1;
	if (z2)
		x.zones[x.nzones++] = z2;
	if (z3)
		x.zones[x.nzones++] = z3;
	return x;
}

/* The external records are accepted by an index of x's zones. */
static void ext_zone_accepts(const struct builder_ext *x,
			     const struct builder_buf *b)
{
	uint8_t z[BUILDER_MAX_ZONES][DNAME_MAX],
	    m[BUILDER_MAX_ZONES][DNAME_MAX];
	const uint8_t *zp[BUILDER_MAX_ZONES], *mp[BUILDER_MAX_ZONES];

	for (size_t i = 0; i < x->nzones; i++) {
		assert_true(dname_from_str(x->zones[i], z[i]) > 0);
		assert_true(builder_ext_mname(x, i, m[i]) > 0);
		zp[i] = z[i];
		mp[i] = m[i];
	}
	struct zone_index *zi = zone_index_new(zp, mp, x->nzones, 5);
	assert_non_null(zi);
	assert_int_equal(zone_owner_set(zi, "x", b->p, b->len, 1), 0);
	zone_index_free(zi);
}

static void ext_ips(struct obj_service *s, const char *ips)
{
	parse_addrs(ips, &s->ext_ips, &s->next_ips);
}

static void test_ext_names(void **state)
{
	struct builder_conf c = conf("cluster.local", NULL, NULL);
	struct builder_ext x = ext_conf("example.org", NULL, NULL);
	struct builder_buf b = {0};
	uint8_t out[DNAME_MAX];
	char t[300];

	(void)state;
	assert_true(builder_ext_mname(&x, 0, out) > 0);
	dname_to_str(out, t, sizeof(t));
	assert_string_equal(t, "ns1.dns.example.org.");
	assert_true(builder_ext_rname(&x, 0, out) > 0);
	dname_to_str(out, t, sizeof(t));
	assert_string_equal(t, "hostmaster.dns.example.org.");

	assert_int_equal(builder_ext_static(&x, &b), 0);
	expect(&b, (const char *[]){
		       "example.org. NS ns1.dns.example.org.",
		       "ns1.dns.example.org. EXISTS",
		       NULL,
		   });

	/* externalIPs and ingress IPs, duplicates once; SRV for every
	 * port at the name, for named ones under it */
	struct obj_service *s =
	    svc_new("prod", "web", OBJ_SVC_CLUSTERIP, "10.96.0.5");
	ext_ips(s, "203.0.113.10,2001:db8::10,203.0.113.10");
	svc_port(s, "http", 80, OBJ_PROTO_TCP);
	svc_port(s, NULL, 9000, OBJ_PROTO_UDP);
	assert_int_equal(builder_ext_service(&c, &x, s, NULL, 0, &b), 0);
	expect(&b,
	       (const char *[]){
		   "web.prod.example.org. A 203.0.113.10",
		   "web.prod.example.org. AAAA 2001:db8::10",
		   "web.prod.example.org. SRV 0 50 80 web.prod.example.org.",
		   "web.prod.example.org. SRV 0 50 9000 "
		   "web.prod.example.org.",
		   "_http._tcp.web.prod.example.org. SRV 0 100 80 "
		   "web.prod.example.org.",
		   NULL,
	       });
	ext_zone_accepts(&x, &b);

	/* no external address: nothing, even with headless */
	struct obj_service *n =
	    svc_new("prod", "internal", OBJ_SVC_CLUSTERIP, "10.96.0.6");
	svc_port(n, "http", 80, OBJ_PROTO_TCP);
	x.headless = true;
	assert_int_equal(builder_ext_service(&c, &x, n, NULL, 0, &b), 0);
	assert_int_equal(b.len, 0);

	/* the namespace named like the apex is the zone's own subtree */
	struct obj_service *d =
	    svc_new("DNS", "trap", OBJ_SVC_CLUSTERIP, "10.96.0.7");
	ext_ips(d, "192.0.2.99");
	assert_int_equal(builder_ext_service(&c, &x, d, NULL, 0, &b), 0);
	assert_int_equal(b.len, 0);

	/* another apex label */
	x.apex = "ns-zone";
	assert_int_equal(builder_ext_static(&x, &b), 0);
	assert_int_equal(count(&b, "ns1.ns-zone.example.org. EXISTS"), 1);
	assert_int_equal(builder_ext_service(&c, &x, d, NULL, 0, &b), 0);
	assert_int_equal(count(&b, "trap.dns.example.org. A 192.0.2.99"), 1);

	builder_buf_free(&b);
	obj_service_free(s);
	obj_service_free(n);
	obj_service_free(d);
}

static void test_ext_hostname(void **state)
{
	struct builder_conf c = conf("cluster.local", NULL, NULL);
	struct builder_ext x = ext_conf("example.org", "example.com", NULL);
	struct builder_buf b = {0};
	struct obj_service *s =
	    svc_new("prod", "lb", OBJ_SVC_CLUSTERIP, "10.96.0.8");

	(void)state;
	s->lb_hostname = dup("lb-1.elb.example.net");
	svc_port(s, "http", 80, OBJ_PROTO_TCP);
	svc_port(s, NULL, 81, OBJ_PROTO_TCP);
	/* a CNAME alone at the name; SRV targets the hostname itself */
	assert_int_equal(builder_ext_service(&c, &x, s, NULL, 0, &b), 0);
	expect(&b, (const char *[]){
		       "lb.prod.example.org. CNAME lb-1.elb.example.net.",
		       "_http._tcp.lb.prod.example.org. SRV 0 100 80 "
		       "lb-1.elb.example.net.",
		       "lb.prod.example.com. CNAME lb-1.elb.example.net.",
		       "_http._tcp.lb.prod.example.com. SRV 0 100 80 "
		       "lb-1.elb.example.net.",
		       NULL,
		   });
	ext_zone_accepts(&x, &b);

	/* with an address too, the address wins */
	ext_ips(s, "203.0.113.30");
	assert_int_equal(builder_ext_service(&c, &x, s, NULL, 0, &b), 0);
	assert_int_equal(count_prefix(&b, "lb.prod.example.org. CNAME"), 0);
	assert_int_equal(count(&b, "lb.prod.example.org. A 203.0.113.30"), 1);

	/* a hostname that is no DNS name gives nothing */
	free(s->ext_ips);
	s->ext_ips = NULL;
	s->next_ips = 0;
	free(s->lb_hostname);
	s->lb_hostname = dup("bad..name");
	assert_int_equal(builder_ext_service(&c, &x, s, NULL, 0, &b), 0);
	assert_int_equal(b.len, 0);

	builder_buf_free(&b);
	obj_service_free(s);
}

static void test_ext_ptr_and_ns(void **state)
{
	struct builder_conf c = conf("cluster.local", NULL, NULL);
	struct builder_ext x =
	    ext_conf("113.0.203.in-addr.arpa", "example.org", "ip6.arpa");
	struct builder_buf b = {0};
	struct obj_service *s =
	    svc_new("prod", "web", OBJ_SVC_CLUSTERIP, "10.96.0.5");

	(void)state;
	ext_ips(s, "203.0.113.10,198.51.100.1,2001:db8::10");
	assert_int_equal(builder_ext_service(&c, &x, s, NULL, 0, &b), 0);
	/* PTRs only in the reverse zones among the zones, to the first
	 * forward zone */
	expect(&b,
	       (const char *[]){
		   "10.113.0.203.in-addr.arpa. PTR web.prod.example.org.",
		   "0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1."
		   "0.0.2.ip6.arpa. PTR web.prod.example.org.",
		   "web.prod.example.org. A 203.0.113.10",
		   "web.prod.example.org. A 198.51.100.1",
		   "web.prod.example.org. AAAA 2001:db8::10",
		   NULL,
	       });
	ext_zone_accepts(&x, &b);

	/* kube-system/kube-dns: its external addresses are the name
	 * server's, in every zone */
	struct obj_service *k =
	    svc_new("kube-system", "kube-dns", OBJ_SVC_CLUSTERIP, "10.96.0.10");
	ext_ips(k, "192.0.2.53");
	assert_int_equal(builder_ext_service(&c, &x, k, NULL, 0, &b), 0);
	assert_int_equal(count(&b, "ns1.dns.example.org. A 192.0.2.53"), 1);
	assert_int_equal(
	    count(&b, "ns1.dns.113.0.203.in-addr.arpa. A 192.0.2.53"), 1);
	assert_int_equal(count(&b, "kube-dns.kube-system.example.org. A "
				   "192.0.2.53"),
			 1);
	ext_zone_accepts(&x, &b);

	/* no forward zone: no PTR target */
	struct builder_ext r = ext_conf("in-addr.arpa", NULL, NULL);
	assert_int_equal(builder_ext_service(&c, &r, s, NULL, 0, &b), 0);
	assert_int_equal(b.len, 0);

	builder_buf_free(&b);
	obj_service_free(s);
	obj_service_free(k);
}

static void test_ext_headless(void **state)
{
	struct builder_conf c = conf("cluster.local", NULL, NULL);
	struct builder_ext x = ext_conf("example.org", NULL, NULL);
	struct builder_buf b = {0};
	struct obj_service *s = svc_new("prod", "db", OBJ_SVC_HEADLESS, NULL);
	struct obj_slice *sl = slice_new("prod", "db-1", "db");

	(void)state;
	slice_port(sl, "pg", 5432, OBJ_PROTO_TCP);
	slice_ep(sl, "10.244.1.10", "db-0", NULL, true);
	slice_ep(sl, "10.244.1.11", NULL, "db-pod-1", true);
	slice_ep(sl, "10.244.1.12", "db-2", NULL, false);
	const struct obj_slice *sls[] = {sl};

	/* without headless: nothing */
	assert_int_equal(builder_ext_service(&c, &x, s, sls, 1, &b), 0);
	assert_int_equal(b.len, 0);

	x.headless = true;
	assert_int_equal(builder_ext_service(&c, &x, s, sls, 1, &b), 0);
	expect(&b, (const char *[]){
		       "db.prod.example.org. A 10.244.1.10",
		       "db.prod.example.org. A 10.244.1.11",
		       "db-0.db.prod.example.org. A 10.244.1.10",
		       "10-244-1-11.db.prod.example.org. A 10.244.1.11",
		       "db.prod.example.org. SRV 0 50 5432 "
		       "db-0.db.prod.example.org.",
		       "db.prod.example.org. SRV 0 50 5432 "
		       "10-244-1-11.db.prod.example.org.",
		       "_pg._tcp.db.prod.example.org. SRV 0 50 5432 "
		       "db-0.db.prod.example.org.",
		       "_pg._tcp.db.prod.example.org. SRV 0 50 5432 "
		       "10-244-1-11.db.prod.example.org.",
		       "db-0.db.prod.example.org. SRV 0 100 5432 "
		       "db-0.db.prod.example.org.",
		       "10-244-1-11.db.prod.example.org. SRV 0 100 5432 "
		       "10-244-1-11.db.prod.example.org.",
		       NULL,
		   });
	ext_zone_accepts(&x, &b);

	/* endpoint names as the cluster zone's */
	c.endpoint_pod_names = true;
	assert_int_equal(builder_ext_service(&c, &x, s, sls, 1, &b), 0);
	assert_int_equal(
	    count(&b, "db-pod-1.db.prod.example.org. A 10.244.1.11"), 1);

	/* external IPs win over the endpoints */
	ext_ips(s, "192.0.2.77");
	assert_int_equal(builder_ext_service(&c, &x, s, sls, 1, &b), 0);
	expect(&b, (const char *[]){
		       "db.prod.example.org. A 192.0.2.77",
		       NULL,
		   });

	builder_buf_free(&b);
	obj_service_free(s);
	obj_slice_free(sl);
}

/* A packed service keeps its external addresses and hostname. */
static void test_ext_pack(void **state)
{
	struct builder_conf c = conf("cluster.local", NULL, NULL);
	struct builder_ext x = ext_conf("example.org", "in-addr.arpa", NULL);
	struct builder_buf b1 = {0}, b2 = {0};
	struct obj_service *s =
	    svc_new("prod", "web", OBJ_SVC_CLUSTERIP, "10.96.0.5,fd00::5");

	(void)state;
	ext_ips(s, "203.0.113.10,2001:db8::10");
	s->lb_hostname = dup("lb.example.net");
	svc_port(s, "http", 80, OBJ_PROTO_TCP);
	assert_int_equal(builder_ext_service(&c, &x, s, NULL, 0, &b1), 0);
	struct obj_service *p = obj_service_pack(s);
	assert_true(p->packed);
	assert_int_equal(p->nips, 2);
	assert_int_equal(p->next_ips, 2);
	assert_int_equal(p->ext_ips[1].family, 6);
	assert_string_equal(p->lb_hostname, "lb.example.net");
	assert_int_equal(builder_ext_service(&c, &x, p, NULL, 0, &b2), 0);
	assert_int_equal(b1.len, b2.len);
	assert_memory_equal(b1.p, b2.p, b1.len);
	obj_service_free(p);
	builder_buf_free(&b1);
	builder_buf_free(&b2);
}

/* ---- ServiceImports ---- */

static struct obj_import *imp_new(const char *ns, const char *name,
				  enum obj_import_type type, const char *ips)
{
	struct obj_import *s = calloc(1, sizeof(*s));

	s->ns = dup(ns);
	s->name = dup(name);
	s->type = type;
	parse_addrs(ips, &s->ips, &s->nips);
	return s;
}

static void test_import_clusterset(void **state)
{
	struct builder_conf c =
	    conf("cluster.local", "clusterset.local", "in-addr.arpa");
	struct builder_buf b = {0};
	struct obj_import *im = imp_new("prod", "web", OBJ_IMPORT_CLUSTERSETIP,
					"10.42.0.1,fd00:42::1");
	struct obj_slice *a = slice_new("prod", "web-a", "web");
	struct obj_slice *n = slice_new("prod", "web-n", "web");

	(void)state;
	c.multicluster[1] = true;
	add_port(&im->ports, &im->nports, "http", 80, OBJ_PROTO_TCP);
	add_port(&im->ports, &im->nports, NULL, 81, OBJ_PROTO_UDP);
	a->cluster = dup("cluster-a");
	slice_ep(a, "10.1.0.5", "w-0", NULL, true);
	slice_ep(a, "10.1.0.6", NULL, NULL, true);
	slice_ep(a, "10.1.0.7", NULL, NULL, false);
	/* a slice without a cluster id: no endpoint names */
	n->cluster = dup("");
	slice_ep(n, "10.3.0.1", NULL, NULL, true);
	const struct obj_slice *sl[] = {a, n};
	assert_int_equal(builder_import(&c, im, sl, 2, &b), 0);
	expect(&b,
	       (const char *const[]){
		   "web.prod.svc.clusterset.local. A 10.42.0.1",
		   "web.prod.svc.clusterset.local. AAAA fd00:42::1",
		   "web.prod.svc.clusterset.local. SRV 0 50 80 "
		   "web.prod.svc.clusterset.local.",
		   "web.prod.svc.clusterset.local. SRV 0 50 81 "
		   "web.prod.svc.clusterset.local.",
		   "_http._tcp.web.prod.svc.clusterset.local. SRV 0 100 80 "
		   "web.prod.svc.clusterset.local.",
		   "w-0.cluster-a.web.prod.svc.clusterset.local. A 10.1.0.5",
		   "10-1-0-6.cluster-a.web.prod.svc.clusterset.local. A "
		   "10.1.0.6",
		   NULL});
	/* ignore empty_service: no ready endpoint, no name */
	c.ignore_empty_service = true;
	assert_int_equal(builder_import(&c, im, sl, 0, &b), 0);
	expect(&b, (const char *const[]){NULL});
	/* no multicluster zone: nothing at all */
	c.ignore_empty_service = false;
	c.multicluster[1] = false;
	assert_int_equal(builder_import(&c, im, sl, 2, &b), 0);
	expect(&b, (const char *const[]){NULL});
	builder_buf_free(&b);
	obj_import_free(im);
	obj_slice_free(a);
	obj_slice_free(n);
}

static void test_import_headless(void **state)
{
	struct builder_conf c = conf("clusterset.local", "cluster.local", NULL);
	struct builder_buf b = {0};
	struct obj_import *im =
	    imp_new("prod", "db", OBJ_IMPORT_HEADLESS, NULL);
	struct obj_slice *a = slice_new("prod", "db-a", "db");
	struct obj_slice *bb = slice_new("prod", "db-b", "db");
	struct obj_service *svc = svc_new("prod", "db", OBJ_SVC_HEADLESS, NULL);

	(void)state;
	c.multicluster[0] = true;
	a->cluster = dup("cluster-a");
	slice_ep(a, "10.1.0.7", "db-0", NULL, true);
	slice_port(a, "pg", 5432, OBJ_PROTO_TCP);
	bb->cluster = dup("cluster-b");
	slice_ep(bb, "10.2.0.7", "db-0", NULL, true);
	slice_port(bb, "pg", 5432, OBJ_PROTO_TCP);
	const struct obj_slice *sl[] = {a, bb};
	assert_int_equal(builder_import(&c, im, sl, 2, &b), 0);
	expect(&b,
	       (const char *const[]){
		   "db.prod.svc.clusterset.local. A 10.1.0.7",
		   "db.prod.svc.clusterset.local. A 10.2.0.7",
		   "db.prod.svc.clusterset.local. SRV 0 50 5432 "
		   "db-0.cluster-a.db.prod.svc.clusterset.local.",
		   "db.prod.svc.clusterset.local. SRV 0 50 5432 "
		   "db-0.cluster-b.db.prod.svc.clusterset.local.",
		   "_pg._tcp.db.prod.svc.clusterset.local. SRV 0 50 5432 "
		   "db-0.cluster-a.db.prod.svc.clusterset.local.",
		   "_pg._tcp.db.prod.svc.clusterset.local. SRV 0 50 5432 "
		   "db-0.cluster-b.db.prod.svc.clusterset.local.",
		   "db-0.cluster-a.db.prod.svc.clusterset.local. A 10.1.0.7",
		   "db-0.cluster-b.db.prod.svc.clusterset.local. A 10.2.0.7",
		   NULL});
	/* noendpoints: a headless import has nothing */
	c.noendpoints = true;
	assert_int_equal(builder_import(&c, im, sl, 2, &b), 0);
	expect(&b, (const char *const[]){NULL});
	c.noendpoints = false;
	/* a Service of the same name is not answered in the multicluster
	 * zone, and the primary zone is the cluster zone */
	assert_string_equal(builder_primary(&c), "cluster.local");
	assert_int_equal(builder_service(&c, svc, NULL, 0, &b), 0);
	expect(&b, (const char *const[]){NULL});
	builder_buf_free(&b);
	obj_import_free(im);
	obj_slice_free(a);
	obj_slice_free(bb);
	obj_service_free(svc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_import_clusterset),
	    cmocka_unit_test(test_import_headless),
	    cmocka_unit_test(test_slice_pack),
	    cmocka_unit_test(test_zone_intern),
	    cmocka_unit_test(test_zonal),
	    cmocka_unit_test(test_mname),
	    cmocka_unit_test(test_static),
	    cmocka_unit_test(test_namespace),
	    cmocka_unit_test(test_clusterip_dual_stack),
	    cmocka_unit_test(test_headless),
	    cmocka_unit_test(test_srv_protocols_and_weights),
	    cmocka_unit_test(test_externalname),
	    cmocka_unit_test(test_ptr_primary_zone),
	    cmocka_unit_test(test_kube_dns),
	    cmocka_unit_test(test_ignore_empty_and_noendpoints),
	    cmocka_unit_test(test_host_label),
	    cmocka_unit_test(test_names_too_long),
	    cmocka_unit_test(test_ext_names),
	    cmocka_unit_test(test_ext_hostname),
	    cmocka_unit_test(test_ext_ptr_and_ns),
	    cmocka_unit_test(test_ext_headless),
	    cmocka_unit_test(test_ext_pack),
	};

	return cmocka_run_group_tests(tests, rcu_group_setup,
				      rcu_group_teardown);
}
