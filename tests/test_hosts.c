/*
 * test_hosts.c -- ClusterIP service names answered beside the zone: a
 * service's endpoints by host label (explicit, dashed, case, both families,
 * repeats), by address, replacement and its change report, removal, stale
 * services and the walk; a service's own name and its ports (labels,
 * protocols, SRV weights, repeated port numbers); the shared names above
 * the table's (reverse parents) as services come and go.
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

#include "zones/hosts.h"

static struct hosts_ep ep(const char *addr, const char *label)
{
	struct hosts_ep e = {.label = label};

	assert_int_equal(obj_addr_parse(addr, &e.addr), 0);
	return e;
}

/* label as a wire label */
static const uint8_t *wl(const char *s, uint8_t *buf)
{
	buf[0] = (uint8_t)strlen(s);
	memcpy(buf + 1, s, buf[0]);
	return buf;
}

/* How many endpoints of ns/svc are named label, and the first one's
 * address as text in addr. */
static size_t lookup(struct hosts *h, const char *label, const char *svc,
		     const char *ns, char *addr)
{
	uint8_t l[64], s[64], n[64];
	const struct hosts_entry *e;
	size_t m = 0;

	rcu_read_lock();
	const struct hosts_svc *hs = hosts_service(h, wl(svc, s), wl(ns, n));
	if (hs)
		m = hosts_match(hs, wl(label, l), &e);
	if (m && addr)
		inet_ntop(e->family == 4 ? AF_INET : AF_INET6,
			  hosts_entry_addr(e), addr, 64);
	rcu_read_unlock();
	return m;
}

/* The PTR target of addr ("label.svc.ns.svc"), or "" */
static void ptr(struct hosts *h, const char *addr, char *out)
{
	struct obj_addr a;
	uint8_t lab[64];
	size_t sl;

	out[0] = 0;
	assert_int_equal(obj_addr_parse(addr, &a), 0);
	rcu_read_lock();
	const struct hosts_entry *e = hosts_by_addr(h, a.family, a.a);
	if (e) {
		const struct hosts_svc *s = hosts_entry_svc(e);
		size_t ll = hosts_entry_label(s, e, lab);
		const uint8_t *n = hosts_svc_name(s, &sl);
		char *o = out;
		/* a service's own address names the service */
		if (ll)
			o += sprintf(o, "%.*s.", (int)ll - 1,
				     (const char *)lab + 1);
		for (size_t i = 0; i < sl; i += (size_t)n[i] + 1)
			o += sprintf(o, "%.*s.", n[i], (const char *)n + i + 1);
		o[-1] = 0;
	}
	rcu_read_unlock();
}

static void test_lookup(void **state)
{
	struct hosts *h = hosts_new();
	char a[64], t[300];
	struct hosts_ep eps[] = {
	    ep("10.244.1.5", "Cart-0"),	   ep("fd00::5", "cart-0"),
	    ep("10.244.1.6", NULL),	   ep("fd00::6", NULL),
	    ep("10.244.1.6", NULL), /* the same address in two slices */
	    ep("10.244.1.7", "two"),	   ep("10.244.1.8", "two"),
	    ep("10.244.1.9", "bad.label"),
	};

	(void)state;
	assert_int_equal(hosts_set(h, "prod", "web", eps, 8, NULL, 0, NULL, 1),
			 1);
	assert_int_equal(hosts_count_services(h), 1);
	/* the label with a dot is left out, the repeat is merged */
	assert_int_equal(hosts_count_entries(h), 6);
	assert_int_equal(lookup(h, "cart-0", "web", "prod", a), 2);
	assert_int_equal(lookup(h, "10-244-1-6", "web", "prod", a), 1);
	assert_string_equal(a, "10.244.1.6");
	assert_int_equal(lookup(h, "fd00--6", "web", "prod", a), 1);
	assert_string_equal(a, "fd00::6");
	assert_int_equal(lookup(h, "two", "web", "prod", a), 2);
	/* an endpoint with a hostname is not named by its address */
	assert_int_equal(lookup(h, "10-244-1-5", "web", "prod", a), 0);
	assert_int_equal(lookup(h, "10-244-1-9", "web", "prod", a), 0);
	assert_int_equal(lookup(h, "nope", "web", "prod", a), 0);
	assert_int_equal(lookup(h, "cart-0", "web", "other", a), 0);
	assert_int_equal(lookup(h, "cart-0", "api", "prod", a), 0);

	ptr(h, "10.244.1.5", t);
	assert_string_equal(t, "cart-0.web.prod.svc");
	ptr(h, "fd00::6", t);
	assert_string_equal(t, "fd00--6.web.prod.svc");
	ptr(h, "10.244.1.99", t);
	assert_string_equal(t, "");

	/* The same endpoints in another order: no change. */
	struct hosts_ep rev[8];
	for (int i = 0; i < 8; i++)
		rev[i] = eps[7 - i];
	assert_int_equal(hosts_set(h, "prod", "web", rev, 8, NULL, 0, NULL, 1),
			 0);
	/* One address changes: a change. */
	eps[2] = ep("10.244.1.66", NULL);
	assert_int_equal(hosts_set(h, "prod", "web", eps, 8, NULL, 0, NULL, 1),
			 1);
	assert_int_equal(lookup(h, "10-244-1-66", "web", "prod", a), 1);
	/* the other copy of .6 is still there */
	assert_int_equal(lookup(h, "10-244-1-6", "web", "prod", a), 1);
	eps[4] = ep("10.244.1.67", NULL);
	assert_int_equal(hosts_set(h, "prod", "web", eps, 8, NULL, 0, NULL, 1),
			 1);
	assert_int_equal(lookup(h, "10-244-1-6", "web", "prod", a), 0);
	ptr(h, "10.244.1.6", t);
	assert_string_equal(t, "");

	/* Removal. */
	assert_int_equal(hosts_set(h, "prod", "web", NULL, 0, NULL, 0, NULL, 1),
			 1);
	assert_int_equal(hosts_set(h, "prod", "web", NULL, 0, NULL, 0, NULL, 1),
			 0);
	assert_int_equal(hosts_count_entries(h), 0);
	assert_int_equal(lookup(h, "cart-0", "web", "prod", a), 0);
	ptr(h, "10.244.1.5", t);
	assert_string_equal(t, "");
	hosts_free(h);
}

static int count_cb(const struct hosts_svc *s, const struct hosts_entry *e,
		    void *arg)
{
	(void)s;
	(void)e;
	(*(int *)arg)++;
	return 0;
}

static void test_many_and_stale(void **state)
{
	struct hosts *h = hosts_new();
	char name[32], addr[32], a[64];
	struct hosts_ep eps[15];

	(void)state;
	for (int s = 0; s < 2000; s++) {
		for (int i = 0; i < 15; i++) {
			snprintf(addr, sizeof(addr), "10.%d.%d.%d", s / 250,
				 s % 250, i + 1);
			eps[i] = ep(addr, NULL);
		}
		snprintf(name, sizeof(name), "svc-%d", s);
		assert_int_equal(hosts_set(h, "ns", name, eps, 15, NULL, 0,
					   NULL, s < 1000 ? 1 : 2),
				 1);
	}
	assert_int_equal(hosts_count_entries(h), 30000);
	int n = 0;
	assert_int_equal(hosts_each(h, count_cb, &n), 0);
	assert_int_equal(n, 30000);
	assert_int_equal(lookup(h, "10-7-123-15", "svc-1873", "ns", a), 1);
	assert_string_equal(a, "10.7.123.15");
	/* the services of generation 1 go */
	assert_int_equal(hosts_drop_stale(h, 2), 1000);
	assert_int_equal(hosts_count_services(h), 1000);
	assert_int_equal(hosts_count_entries(h), 15000);
	assert_int_equal(lookup(h, "10-0-5-1", "svc-5", "ns", a), 0);
	assert_int_equal(lookup(h, "10-7-123-15", "svc-1873", "ns", a), 1);
	hosts_free(h);
}

static void test_limits(void **state)
{
	enum { N = HOSTS_MAX_ENTRIES + 100 };
	struct hosts *h = hosts_new();
	struct hosts_ep *eps = calloc(N, sizeof(*eps));
	char a[64];

	(void)state;
	for (int i = 0; i < N; i++) {
		eps[i].addr.family = 4;
		eps[i].addr.a[0] = 10;
		eps[i].addr.a[1] = (uint8_t)(i >> 16);
		eps[i].addr.a[2] = (uint8_t)(i >> 8);
		eps[i].addr.a[3] = (uint8_t)i;
	}
	/* a table holds at most HOSTS_MAX_ENTRIES addresses */
	assert_int_equal(hosts_set(h, "ns", "huge", eps, N, NULL, 0, NULL, 1),
			 1);
	assert_int_equal(hosts_count_entries(h), HOSTS_MAX_ENTRIES);
	size_t found = 0;
	for (int i = 0; i < N; i++) {
		char l[32];
		snprintf(l, sizeof(l), "10-%d-%d-%d", (i >> 16) & 255,
			 (i >> 8) & 255, i & 255);
		found += lookup(h, l, "huge", "ns", a);
	}
	assert_int_equal(found, HOSTS_MAX_ENTRIES);
	hosts_free(h);
	free(eps);
}

static void expect_ptr(struct hosts *h, const char *addr, const char *want)
{
	char t[300];

	ptr(h, addr, t);
	assert_string_equal(t, want);
}

/* A service's own addresses (its ClusterIPs): their PTR names the service,
 * they are no host names, and they keep a table without endpoints. */
static void test_service_ips(void **state)
{
	struct hosts *h = hosts_new();
	struct obj_addr ips[2];
	const struct hosts_ep eps[] = {ep("10.244.1.5", NULL)};
	const struct hosts_entry *e;
	uint8_t l[64] = "\x0a10-96-0-10";

	(void)state;
	assert_int_equal(obj_addr_parse("10.96.0.10", &ips[0]), 0);
	assert_int_equal(obj_addr_parse("fd00::10", &ips[1]), 0);
	assert_int_equal(hosts_set(h, "prod", "web", eps, 1, ips, 2, NULL, 1),
			 1);
	assert_int_equal(hosts_count_entries(h), 3);
	expect_ptr(h, "10.96.0.10", "web.prod.svc");
	expect_ptr(h, "fd00::10", "web.prod.svc");
	expect_ptr(h, "10.244.1.5", "10-244-1-5.web.prod.svc");
	rcu_read_lock();
	const struct hosts_svc *s = hosts_service(h, (const uint8_t *)"\3web",
						  (const uint8_t *)"\4prod");
	assert_non_null(s);
	assert_int_equal(hosts_match(s, l, &e), 0);
	rcu_read_unlock();
	/* the same again: no change; without endpoints: the IPs stay */
	assert_int_equal(hosts_set(h, "prod", "web", eps, 1, ips, 2, NULL, 1),
			 0);
	assert_int_equal(hosts_set(h, "prod", "web", NULL, 0, ips, 1, NULL, 1),
			 1);
	assert_int_equal(hosts_count_entries(h), 1);
	expect_ptr(h, "10.96.0.10", "web.prod.svc");
	expect_ptr(h, "fd00::10", "");
	expect_ptr(h, "10.244.1.5", "");
	assert_int_equal(hosts_set(h, "prod", "web", NULL, 0, NULL, 0, NULL, 1),
			 1);
	expect_ptr(h, "10.96.0.10", "");
	assert_int_equal(hosts_count_services(h), 0);
	hosts_free(h);
}

static struct obj_port port(const char *name, uint16_t n, uint8_t proto)
{
	struct obj_port p = {.name = (char *)name, .port = n, .proto = proto};

	return p;
}

/* A service that answers its own name: its addresses, its ports, the
 * _<port>._<proto> labels of the named ones, the SRV weights. */
static void test_vip(void **state)
{
	struct hosts *h = hosts_new();
	struct obj_addr ips[2];
	struct obj_port ports[] = {
	    port("HTTP", 80, OBJ_PROTO_TCP), port("dns", 53, OBJ_PROTO_UDP),
	    port("dns-tcp", 53, OBJ_PROTO_TCP), port(NULL, 9000, OBJ_PROTO_TCP),
	    port("bad.name", 81, OBJ_PROTO_SCTP)};
	struct hosts_vip vip = {ports, 5};
	const struct hosts_entry *e;
	uint8_t l[64 + 6], w1[64], w2[64];
	size_t n;
	uint16_t wt;

	(void)state;
	assert_int_equal(obj_addr_parse("10.96.0.10", &ips[0]), 0);
	assert_int_equal(obj_addr_parse("fd00::10", &ips[1]), 0);
	/* a named service stays without endpoints or addresses */
	assert_int_equal(
	    hosts_set(h, "prod", "empty", NULL, 0, NULL, 0, &vip, 1), 1);
	assert_int_equal(hosts_set(h, "prod", "web", NULL, 0, ips, 2, &vip, 1),
			 1);
	assert_int_equal(hosts_set(h, "prod", "web", NULL, 0, ips, 2, &vip, 1),
			 0);
	rcu_read_lock();
	const struct hosts_svc *s =
	    hosts_service(h, wl("web", w1), wl("prod", w2));
	assert_non_null(s);
	assert_true(hosts_svc_named(s));
	assert_int_equal(hosts_svc_ips(s, &e), 2);
	assert_int_equal(e[0].family, 4);
	assert_memory_equal(hosts_entry_addr(&e[0]), ips[0].a, 4);
	assert_int_equal(e[1].family, 6);
	assert_memory_equal(hosts_entry_addr(&e[1]), ips[1].a, 16);
	const struct hosts_port *p = hosts_svc_ports(s, &n);
	assert_int_equal(n, 5);
	assert_int_equal(p[0].port, 80);
	assert_int_equal(p[3].lablen, 0);
	/* labels are lowercase; a name with a dot has none */
	assert_int_equal(hosts_port_labels(s, &p[0], l), 11);
	assert_memory_equal(l, "\5_http\4_tcp", 11);
	assert_int_equal(hosts_port_labels(s, &p[3], l), 0);
	assert_int_equal(hosts_port_labels(s, &p[4], l), 0);
	assert_ptr_equal(hosts_port_match(s, (const uint8_t *)"\5_http",
					  (const uint8_t *)"\4_tcp"),
			 &p[0]);
	assert_null(hosts_port_match(s, (const uint8_t *)"\5_http",
				     (const uint8_t *)"\4_udp"));
	assert_ptr_equal(hosts_port_match(s, (const uint8_t *)"\4_dns",
					  (const uint8_t *)"\4_udp"),
			 &p[1]);
	/* any named port of a protocol (the _<proto> name exists) */
	assert_ptr_equal(hosts_port_match(s, NULL, (const uint8_t *)"\4_tcp"),
			 &p[0]);
	assert_null(hosts_port_match(s, NULL, (const uint8_t *)"\5_sctp"));
	/* SRV RRsets: every port at the name, weight 100/5; one at a port's
	 * name; 53 twice (udp and tcp) is one record */
	assert_ptr_equal(hosts_srv_ports(s, NULL, &n, &wt), p);
	assert_int_equal(n, 5);
	assert_int_equal(wt, 20);
	assert_false(hosts_srv_dup(p, 1));
	assert_true(hosts_srv_dup(p, 2));
	assert_ptr_equal(hosts_srv_ports(s, &p[1], &n, &wt), &p[1]);
	assert_int_equal(n, 1);
	assert_int_equal(wt, 100);
	/* the ClusterIPs still name the service in PTRs */
	assert_non_null(hosts_by_addr(h, 4, ips[0].a));
	const struct hosts_svc *x =
	    hosts_service(h, wl("empty", w1), wl("prod", w2));
	assert_non_null(x);
	assert_int_equal(hosts_svc_ips(x, &e), 0);
	rcu_read_unlock();
	/* a change of ports is a change; without vip the name is not ours */
	vip.nports = 1;
	assert_int_equal(hosts_set(h, "prod", "web", NULL, 0, ips, 2, &vip, 1),
			 1);
	assert_int_equal(hosts_set(h, "prod", "web", NULL, 0, ips, 2, NULL, 1),
			 1);
	rcu_read_lock();
	s = hosts_service(h, wl("web", w1), wl("prod", w2));
	assert_false(hosts_svc_named(s));
	rcu_read_unlock();
	/* unnamed and without addresses: gone */
	assert_int_equal(
	    hosts_set(h, "prod", "empty", NULL, 0, NULL, 0, NULL, 1), 1);
	assert_int_equal(hosts_count_services(h), 1);
	hosts_free(h);
}

struct seen {
	char names[16][80];
	bool exists[16];
	size_t n;
};

static void shared_text(const struct hosts_shared *sh, char *out)
{
	struct obj_addr a = {.family = (uint8_t)sh->family};
	char t[64];

	memcpy(a.a, sh->key, sh->len);
	sprintf(out, "parent %s", obj_addr_str(&a, t, sizeof(t)));
}

static int took(const struct hosts_shared *sh, bool exists, void *arg)
{
	struct seen *s = arg;

	assert_true(s->n < 16);
	shared_text(sh, s->names[s->n]);
	s->exists[s->n++] = exists;
	return 0;
}

/* The change of name (1 born, 0 gone) is among what seen took. */
static void expect_took(const struct seen *s, const char *name, bool exists)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->names[i], name)) {
			assert_int_equal(s->exists[i], exists);
			return;
		}
	fail_msg("no change of %s", name);
}

static int count_each(const struct hosts_shared *sh, void *arg)
{
	(void)sh;
	(*(size_t *)arg)++;
	return 0;
}

/* The names above the table's (reverse parents): reported once when the
 * first address needs them and once when the last one lets go. */
static void test_shared(void **state)
{
	struct hosts *h = hosts_new();
	struct obj_addr ip[2];
	const struct hosts_ep e1[] = {ep("10.244.1.5", NULL),
				      ep("10.244.1.6", NULL)};
	const struct hosts_ep e2[] = {ep("10.244.1.7", NULL),
				      ep("fd00::1:17", NULL)};
	struct hosts_vip vip = {NULL, 0};
	struct seen s = {0};
	size_t n = 0;

	(void)state;
	assert_int_equal(obj_addr_parse("10.96.0.10", &ip[0]), 0);
	assert_int_equal(obj_addr_parse("10.96.0.11", &ip[1]), 0);
	assert_int_equal(hosts_set(h, "prod", "web", e1, 2, &ip[0], 1, &vip, 1),
			 1);
	assert_int_equal(hosts_take_shared(h, took, &s), 0);
	assert_int_equal(s.n, 2);
	expect_took(&s, "parent 10.244.1.0", true);
	expect_took(&s, "parent 10.96.0.0", true);
	/* nothing new: nothing to take */
	s.n = 0;
	assert_int_equal(hosts_take_shared(h, took, &s), 0);
	assert_int_equal(s.n, 0);
	/* a second service under the same parents adds the IPv6 one only */
	assert_int_equal(hosts_set(h, "prod", "api", e2, 2, &ip[1], 1, NULL, 1),
			 1);
	assert_int_equal(hosts_take_shared(h, took, &s), 0);
	assert_int_equal(s.n, 1);
	expect_took(&s, "parent fd00::1:10", true);
	assert_int_equal(hosts_each_shared(h, count_each, &n), 0);
	assert_int_equal(n, 3);
	/* the first goes: the others hold every parent it held */
	s.n = 0;
	assert_int_equal(hosts_set(h, "prod", "web", NULL, 0, NULL, 0, NULL, 1),
			 1);
	assert_int_equal(hosts_take_shared(h, took, &s), 0);
	assert_int_equal(s.n, 0);
	/* gone and back before a take: no change to report */
	s.n = 0;
	assert_int_equal(hosts_set(h, "prod", "api", e2, 1, &ip[1], 1, NULL, 2),
			 1);
	assert_int_equal(hosts_set(h, "prod", "api", e2, 2, &ip[1], 1, NULL, 2),
			 1);
	assert_int_equal(hosts_take_shared(h, took, &s), 0);
	assert_int_equal(s.n, 0);
	/* stale services let go too */
	assert_int_equal(hosts_drop_stale(h, 3), 1);
	assert_int_equal(hosts_take_shared(h, took, &s), 0);
	assert_int_equal(s.n, 3);
	expect_took(&s, "parent 10.244.1.0", false);
	expect_took(&s, "parent 10.96.0.0", false);
	expect_took(&s, "parent fd00::1:10", false);
	n = 0;
	assert_int_equal(hosts_each_shared(h, count_each, &n), 0);
	assert_int_equal(n, 0);
	hosts_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_vip),
	    cmocka_unit_test(test_shared),
	    cmocka_unit_test(test_service_ips),
	    cmocka_unit_test(test_lookup),
	    cmocka_unit_test(test_many_and_stale),
	    cmocka_unit_test(test_limits),
	};

	return cmocka_run_group_tests(tests, rcu_group_setup,
				      rcu_group_teardown);
}
