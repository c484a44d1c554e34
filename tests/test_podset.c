/*
 * test_podset.c -- the addresses of running pods: pods replaced, shared
 * addresses, namespaces apart, case, finished pods, removal, stale pods of
 * a relist, the walk, many pods, IPv6 churn, the nodes of pods by address
 * in any namespace, and readers that keep finding what stays while the
 * tables are rebuilt.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <urcu.h>

#include "tests/rcu_group.h"

#include "zones/podset.h"

static struct obj_addr addr(const char *s)
{
	struct obj_addr a;

	assert_int_equal(obj_addr_parse(s, &a), 0);
	return a;
}

static bool has(struct podset *ps, const char *ns, const char *ip)
{
	struct obj_addr a = addr(ip);
	uint8_t l[64];

	l[0] = (uint8_t)strlen(ns);
	memcpy(l + 1, ns, l[0]);
	rcu_read_lock();
	bool h = podset_has(ps, l, a.family, a.a);
	rcu_read_unlock();
	return h;
}

/* put pod ns/name with the addresses of a comma-separated list */
static int put(struct podset *ps, const char *ns, const char *name,
	       const char *list, uint32_t gen)
{
	struct obj_addr ips[4];
	char buf[128], *save = NULL;
	size_t n = 0;

	snprintf(buf, sizeof(buf), "%s", list);
	for (char *t = strtok_r(buf, ",", &save); t && n < 4;
	     t = strtok_r(NULL, ",", &save))
		ips[n++] = addr(t);
	return podset_put(ps, ns, name, ips, n, 0, gen);
}

/* The node number of a pod at ip, 0 none. */
static uint32_t node_of(struct podset *ps, const char *ip)
{
	struct obj_addr a = addr(ip);

	rcu_read_lock();
	uint32_t n = podset_node(ps, a.family, a.a);
	rcu_read_unlock();
	return n;
}

/* put pod ns/name with one address on node node */
static int put_on(struct podset *ps, const char *ns, const char *name,
		  const char *ip, uint32_t node, uint32_t gen)
{
	struct obj_addr a = addr(ip);

	return podset_put(ps, ns, name, &a, 1, node, gen);
}

static void test_nodes(void **state)
{
	struct podset *ps = podset_new();
	char ip[32], name[32];

	(void)state;
	assert_int_equal(node_of(ps, "10.3.0.1"), 0);
	/* pods without nodes first: the tables have no node numbers yet,
	 * and get them (rebuilt) with the first pod that has one */
	assert_int_equal(put_on(ps, "prod", "c", "10.3.0.3", 0, 1), 1);
	assert_int_equal(put_on(ps, "prod", "d", "fd00::3:3", 0, 1), 1);
	assert_int_equal(node_of(ps, "10.3.0.3"), 0);
	assert_int_equal(put_on(ps, "jobs", "a", "10.3.0.1", 7, 1), 1);
	assert_int_equal(put_on(ps, "prod", "b", "fd00::3:1", 9, 1), 1);
	assert_true(has(ps, "prod", "10.3.0.3"));
	assert_true(has(ps, "prod", "fd00::3:3"));
	assert_int_equal(node_of(ps, "fd00::3:3"), 0);
	assert_int_equal(node_of(ps, "10.3.0.1"), 7); /* any namespace */
	assert_int_equal(node_of(ps, "fd00::3:1"), 9);
	assert_int_equal(node_of(ps, "10.3.0.3"), 0); /* no node */
	assert_int_equal(node_of(ps, "10.3.0.9"), 0);
	assert_int_equal(node_of(ps, "fd00::3:9"), 0);
	/* the same address in another namespace, with no node: the one with
	 * a node still answers */
	assert_int_equal(put_on(ps, "other", "a", "10.3.0.1", 0, 1), 1);
	assert_int_equal(node_of(ps, "10.3.0.1"), 7);
	assert_int_equal(podset_del(ps, "other", "a"), 0);
	/* the pod moves: a new node alone is no change of the names */
	assert_int_equal(put_on(ps, "jobs", "a", "10.3.0.1", 8, 1), 0);
	assert_int_equal(node_of(ps, "10.3.0.1"), 8);
	assert_true(has(ps, "jobs", "10.3.0.1"));
	/* many more pods: the tables are rebuilt and keep the nodes */
	for (int i = 0; i < 5000; i++) {
		snprintf(ip, sizeof(ip), "10.4.%d.%d", i >> 8, i & 255);
		snprintf(name, sizeof(name), "p-%d", i);
		assert_int_equal(
		    put_on(ps, "bulk", name, ip, (uint32_t)(i % 50 + 1), 1), 1);
	}
	assert_int_equal(node_of(ps, "10.3.0.1"), 8);
	assert_int_equal(node_of(ps, "fd00::3:1"), 9);
	assert_int_equal(node_of(ps, "10.4.19.135"), 4999 % 50 + 1);
	/* deleted, finished, or not seen by a relist: no node */
	assert_int_equal(podset_del(ps, "jobs", "a"), 0);
	assert_int_equal(node_of(ps, "10.3.0.1"), 0);
	assert_int_equal(podset_put(ps, "prod", "b", NULL, 0, 9, 1), 1);
	assert_int_equal(node_of(ps, "fd00::3:1"), 0);
	assert_int_equal(put_on(ps, "bulk", "p-1", "10.4.0.1", 3, 2), 0);
	assert_int_equal(podset_drop_stale(ps, 2), 4999 + 2);
	podset_reclaim(ps);
	assert_int_equal(node_of(ps, "10.4.0.1"), 3);
	assert_int_equal(node_of(ps, "10.4.0.2"), 0);
	podset_free(ps);
}

static int count_cb(const char *ns, const struct obj_addr *a, void *arg)
{
	(void)a;
	assert_string_equal(ns, "prod");
	(*(int *)arg)++;
	return 0;
}

static void test_pods(void **state)
{
	struct podset *ps = podset_new();

	(void)state;
	assert_int_equal(put(ps, "Prod", "a", "10.1.2.3,fd00::3", 1), 1);
	assert_int_equal(podset_count(ps), 2);
	assert_true(has(ps, "prod", "10.1.2.3"));
	assert_true(has(ps, "prod", "fd00::3"));
	assert_false(has(ps, "staging", "10.1.2.3"));
	assert_false(has(ps, "prod", "10.1.2.4"));
	int n = 0;
	assert_int_equal(podset_each(ps, count_cb, &n), 0);
	assert_int_equal(n, 2);
	/* the same pod again: nothing new, no change */
	assert_int_equal(put(ps, "prod", "a", "10.1.2.3,fd00::3", 1), 0);
	assert_int_equal(podset_count(ps), 2);
	/* another pod shares an address (host network) */
	assert_int_equal(put(ps, "prod", "b", "10.1.2.3", 1), 1);
	assert_int_equal(podset_del(ps, "prod", "a"), 0);
	assert_true(has(ps, "prod", "10.1.2.3"));
	assert_false(has(ps, "prod", "fd00::3"));
	assert_int_equal(podset_del(ps, "prod", "a"), -ENOENT);
	/* b finishes: no addresses */
	assert_int_equal(podset_put(ps, "prod", "b", NULL, 0, 0, 1), 1);
	assert_false(has(ps, "prod", "10.1.2.3"));
	assert_int_equal(podset_count(ps), 0);
	/* an address that changes replaces the old one */
	assert_int_equal(put(ps, "prod", "c", "10.1.2.5", 1), 1);
	assert_int_equal(put(ps, "prod", "c", "10.1.2.6", 1), 1);
	assert_false(has(ps, "prod", "10.1.2.5"));
	assert_true(has(ps, "prod", "10.1.2.6"));
	/* a namespace that cannot be a label keeps nothing */
	char longns[80];
	memset(longns, 'x', 79);
	longns[79] = 0;
	assert_int_equal(put(ps, longns, "d", "10.1.2.7", 1), 0);
	assert_int_equal(podset_count(ps), 1);
	/* a relist that sees only e drops c */
	assert_int_equal(put(ps, "prod", "e", "10.1.2.8", 2), 1);
	assert_int_equal(podset_drop_stale(ps, 2), 1);
	assert_false(has(ps, "prod", "10.1.2.6"));
	assert_true(has(ps, "prod", "10.1.2.8"));
	podset_reclaim(ps);
	assert_true(has(ps, "prod", "10.1.2.8"));
	podset_free(ps);
}

static void test_many(void **state)
{
	struct podset *ps = podset_new();
	char ip[32], name[32];

	(void)state;
	for (int i = 0; i < 50000; i++) {
		snprintf(ip, sizeof(ip), "10.%d.%d.%d", i >> 16, (i >> 8) & 255,
			 i & 255);
		snprintf(name, sizeof(name), "pod-%d", i);
		assert_int_equal(put(ps, i % 2 ? "odd" : "even", name, ip, 1),
				 1);
	}
	assert_int_equal(podset_count(ps), 50000);
	assert_true(has(ps, "odd", "10.0.195.79")); /* 49999 */
	assert_false(has(ps, "even", "10.0.195.79"));
	for (int i = 0; i < 50000; i += 2) {
		snprintf(name, sizeof(name), "pod-%d", i);
		assert_int_equal(podset_del(ps, "even", name), 0);
	}
	assert_int_equal(podset_count(ps), 25000);
	podset_reclaim(ps);
	assert_false(has(ps, "even", "10.0.0.0"));
	assert_true(has(ps, "odd", "10.0.0.1"));
	podset_free(ps);
}

/* IPv6 slots are not reused in place: many come and go, the table is
 * rebuilt, and what stays is still found. */
static void test_v6_churn(void **state)
{
	struct podset *ps = podset_new();
	char ip[64], name[32];

	(void)state;
	for (int round = 0; round < 4; round++) {
		for (int i = 0; i < 5000; i++) {
			snprintf(ip, sizeof(ip), "fd00::%x:%x", round, i);
			snprintf(name, sizeof(name), "p-%d-%d", round, i);
			assert_int_equal(put(ps, "v6", name, ip, 1), 1);
		}
		for (int i = 0; i < 5000; i++) {
			if (i % 10 == 0)
				continue;
			snprintf(name, sizeof(name), "p-%d-%d", round, i);
			assert_int_equal(podset_del(ps, "v6", name), 0);
		}
		podset_reclaim(ps);
	}
	assert_int_equal(podset_count(ps), 4 * 500);
	assert_true(has(ps, "v6", "fd00::3:0"));
	assert_true(has(ps, "v6", "fd00::2:a"));
	assert_false(has(ps, "v6", "fd00::3:1"));
	assert_false(has(ps, "v4", "fd00::3:0"));
	/* a relist that sees only round 3 */
	for (int i = 0; i < 5000; i += 10) {
		snprintf(ip, sizeof(ip), "fd00::3:%x", i);
		snprintf(name, sizeof(name), "p-3-%d", i);
		assert_int_equal(put(ps, "v6", name, ip, 2), 0);
	}
	assert_int_equal(podset_drop_stale(ps, 2), 3 * 500);
	podset_reclaim(ps);
	assert_int_equal(podset_count(ps), 500);
	assert_false(has(ps, "v6", "fd00::2:a"));
	assert_true(has(ps, "v6", "fd00::3:a"));
	podset_free(ps);
}

/* Pods with the same name in two namespaces are two pods. */
static void test_same_name(void **state)
{
	struct podset *ps = podset_new();

	(void)state;
	assert_int_equal(put(ps, "a", "web", "10.0.0.1", 1), 1);
	assert_int_equal(put(ps, "b", "web", "10.0.0.2", 1), 1);
	assert_int_equal(put(ps, "a", "web", "10.0.0.3", 1), 1);
	assert_false(has(ps, "a", "10.0.0.1"));
	assert_true(has(ps, "a", "10.0.0.3"));
	assert_true(has(ps, "b", "10.0.0.2"));
	assert_int_equal(podset_del(ps, "b", "web"), 0);
	assert_true(has(ps, "a", "10.0.0.3"));
	assert_int_equal(podset_del(ps, "c", "web"), -ENOENT);
	podset_free(ps);
}

struct reader {
	struct podset *ps;
	volatile int stop;
	long misses, reads;
};

/* A worker asking for addresses that never go while the writer grows,
 * empties and rebuilds the tables around them. */
static void *reader_main(void *arg)
{
	struct reader *r = arg;
	char ip[32];

	rcu_register_thread();
	while (!r->stop) {
		for (int i = 0; i < 100; i++) {
			snprintf(ip, sizeof(ip),
				 i % 2 ? "10.9.0.%d" : "fd09::%d", i);
			if (!has(r->ps, "stay", ip))
				r->misses++;
			r->reads++;
		}
	}
	rcu_unregister_thread();
	return NULL;
}

static void test_readers(void **state)
{
	struct reader r = {.ps = podset_new()};
	char ip[32], name[32];
	pthread_t th;

	(void)state;
	for (int i = 0; i < 100; i++) {
		snprintf(ip, sizeof(ip), i % 2 ? "10.9.0.%d" : "fd09::%d", i);
		snprintf(name, sizeof(name), "stay-%d", i);
		assert_int_equal(put(r.ps, "stay", name, ip, 1), 1);
	}
	assert_int_equal(pthread_create(&th, NULL, reader_main, &r), 0);
	for (int round = 0; round < 6; round++) {
		for (int i = 0; i < 20000; i++) {
			snprintf(ip, sizeof(ip),
				 i % 2 ? "10.%d.%d.%d" : "fd10::%x:%x:%x",
				 round, i >> 8, i & 255);
			snprintf(name, sizeof(name), "go-%d", i);
			assert_true(put(r.ps, "go", name, ip, 1) >= 0);
		}
		for (int i = 0; i < 20000; i++) {
			snprintf(name, sizeof(name), "go-%d", i);
			podset_del(r.ps, "go", name);
		}
		podset_reclaim(r.ps);
	}
	r.stop = 1;
	pthread_join(th, NULL);
	assert_true(r.reads > 0);
	assert_int_equal(r.misses, 0);
	assert_int_equal(podset_count(r.ps), 100);
	synchronize_rcu();
	podset_free(r.ps);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pods),     cmocka_unit_test(test_many),
	    cmocka_unit_test(test_v6_churn), cmocka_unit_test(test_same_name),
	    cmocka_unit_test(test_readers),  cmocka_unit_test(test_nodes),
	};

	return cmocka_run_group_tests(tests, rcu_group_setup,
				      rcu_group_teardown);
}
