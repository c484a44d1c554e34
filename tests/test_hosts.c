/*
 * test_hosts.c -- endpoint names answered beside the zone: a service's
 * endpoints by host label (explicit, dashed, case, both families,
 * repeats), by address, replacement and its change report, removal, stale
 * services and the walk.
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
	assert_int_equal(hosts_set(h, "prod", "web", eps, 8, NULL, 0, 1), 1);
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
	assert_int_equal(hosts_set(h, "prod", "web", rev, 8, NULL, 0, 1), 0);
	/* One address changes: a change. */
	eps[2] = ep("10.244.1.66", NULL);
	assert_int_equal(hosts_set(h, "prod", "web", eps, 8, NULL, 0, 1), 1);
	assert_int_equal(lookup(h, "10-244-1-66", "web", "prod", a), 1);
	/* the other copy of .6 is still there */
	assert_int_equal(lookup(h, "10-244-1-6", "web", "prod", a), 1);
	eps[4] = ep("10.244.1.67", NULL);
	assert_int_equal(hosts_set(h, "prod", "web", eps, 8, NULL, 0, 1), 1);
	assert_int_equal(lookup(h, "10-244-1-6", "web", "prod", a), 0);
	ptr(h, "10.244.1.6", t);
	assert_string_equal(t, "");

	/* Removal. */
	assert_int_equal(hosts_set(h, "prod", "web", NULL, 0, NULL, 0, 1), 1);
	assert_int_equal(hosts_set(h, "prod", "web", NULL, 0, NULL, 0, 1), 0);
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
					   s < 1000 ? 1 : 2),
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
	assert_int_equal(hosts_set(h, "ns", "huge", eps, N, NULL, 0, 1), 1);
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
	assert_int_equal(hosts_set(h, "prod", "web", eps, 1, ips, 2, 1), 1);
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
	assert_int_equal(hosts_set(h, "prod", "web", eps, 1, ips, 2, 1), 0);
	assert_int_equal(hosts_set(h, "prod", "web", NULL, 0, ips, 1, 1), 1);
	assert_int_equal(hosts_count_entries(h), 1);
	expect_ptr(h, "10.96.0.10", "web.prod.svc");
	expect_ptr(h, "fd00::10", "");
	expect_ptr(h, "10.244.1.5", "");
	assert_int_equal(hosts_set(h, "prod", "web", NULL, 0, NULL, 0, 1), 1);
	expect_ptr(h, "10.96.0.10", "");
	assert_int_equal(hosts_count_services(h), 0);
	hosts_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_service_ips),
	    cmocka_unit_test(test_lookup),
	    cmocka_unit_test(test_many_and_stale),
	    cmocka_unit_test(test_limits),
	};

	return cmocka_run_group_tests(tests, rcu_group_setup,
				      rcu_group_teardown);
}
