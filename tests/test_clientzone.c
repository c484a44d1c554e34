/*
 * test_clientzone.c -- client addresses to topology zones: a service's
 * endpoints with a zone by address (both families), endpoints without
 * one, replacement and its change report, an address two services share,
 * removal and stale services; the zones of nodes the endpoints name.
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

#include "zones/clientzone.h"

/* One slice with endpoints "ADDR/ZONE" ("ADDR/" for no zone), or
 * "ADDR/ZONE@NODE" on a node. */
static struct obj_slice *slice(const char *const *eps)
{
	struct obj_slice *s = calloc(1, sizeof(*s));

	assert_non_null(s);
	for (; eps[s->neps]; s->neps++)
		;
	s->eps = calloc(s->neps, sizeof(*s->eps));
	assert_non_null(s->eps);
	for (size_t i = 0; i < s->neps; i++) {
		char buf[128];
		snprintf(buf, sizeof(buf), "%s", eps[i]);
		char *z = strchr(buf, '/');
		assert_non_null(z);
		*z++ = 0;
		char *node = strchr(z, '@');
		if (node)
			*node++ = 0;
		struct obj_endpoint *e = &s->eps[i];
		long nid = node ? obj_node_intern(node) : 0;
		assert_true(nid >= 0);
		e->node = (uint32_t)nid;
		e->addrs = calloc(1, sizeof(*e->addrs));
		assert_non_null(e->addrs);
		assert_int_equal(obj_addr_parse(buf, &e->addrs[0]), 0);
		e->naddrs = 1;
		e->ready = true;
		int id = obj_zone_intern(z);
		assert_true(id >= 0);
		e->zone = (uint16_t)id;
	}
	return s;
}

/* The zone name of addr, "" when none. */
static const char *zone_of(const struct clientzone *cz, const char *addr)
{
	struct obj_addr a;
	const char *n;

	assert_int_equal(obj_addr_parse(addr, &a), 0);
	rcu_read_lock();
	uint16_t id = clientzone_find(cz, a.family, a.a);
	n = id ? obj_zone_name(id) : "";
	rcu_read_unlock();
	return n ? n : "?";
}

static void test_lookup(void **state)
{
	struct clientzone *cz = clientzone_new();
	struct obj_slice *s1 = slice((const char *[]){
	    "10.0.0.1/us-east-1a", "10.0.0.2/us-east-1b", "10.0.0.3/", NULL});
	struct obj_slice *s2 = slice((const char *[]){"fd00::1/eu.corp", NULL});
	const struct obj_slice *sls[] = {s1, s2};

	(void)state;
	assert_non_null(cz);
	assert_string_equal(zone_of(cz, "10.0.0.1"), "");
	assert_int_equal(clientzone_set(cz, "shop", "app", sls, 2, 1), 1);
	assert_int_equal(clientzone_count(cz), 3);
	assert_string_equal(zone_of(cz, "10.0.0.1"), "us-east-1a");
	assert_string_equal(zone_of(cz, "10.0.0.2"), "us-east-1b");
	assert_string_equal(zone_of(cz, "10.0.0.3"), ""); /* no zone */
	assert_string_equal(zone_of(cz, "fd00::1"), "eu.corp");
	assert_string_equal(zone_of(cz, "10.0.0.9"), "");
	/* the same again: no change */
	assert_int_equal(clientzone_set(cz, "shop", "app", sls, 2, 1), 0);

	/* a pod moves (its endpoint's zone changes) */
	s1->eps[0].zone = (uint16_t)obj_zone_intern("us-east-1c");
	assert_int_equal(clientzone_set(cz, "shop", "app", sls, 1, 1), 1);
	assert_string_equal(zone_of(cz, "10.0.0.1"), "us-east-1c");
	assert_string_equal(zone_of(cz, "fd00::1"), "");
	assert_int_equal(clientzone_count(cz), 2);

	/* another service lists the same address: found while either does */
	assert_int_equal(clientzone_set(cz, "shop", "other", sls, 1, 1), 1);
	assert_int_equal(clientzone_set(cz, "shop", "app", NULL, 0, 1), 1);
	assert_string_equal(zone_of(cz, "10.0.0.1"), "us-east-1c");
	assert_int_equal(clientzone_set(cz, "shop", "other", NULL, 0, 1), 1);
	assert_string_equal(zone_of(cz, "10.0.0.1"), "");
	assert_int_equal(clientzone_count(cz), 0);
	/* removing what is not there changes nothing */
	assert_int_equal(clientzone_set(cz, "shop", "other", NULL, 0, 1), 0);

	/* only endpoints without a zone: nothing kept */
	s1->eps[0].zone = s1->eps[1].zone = 0;
	assert_int_equal(clientzone_set(cz, "shop", "app", sls, 1, 1), 0);
	assert_int_equal(clientzone_count(cz), 0);

	clientzone_free(cz);
	obj_slice_free(s1);
	obj_slice_free(s2);
}

/* The zone name of node name node, "" when none. */
static const char *node_zone(const struct clientzone *cz, const char *node)
{
	long nid = obj_node_intern(node);
	const char *n;

	assert_true(nid > 0);
	rcu_read_lock();
	uint16_t id = clientzone_node_zone(cz, (uint32_t)nid);
	n = id ? obj_zone_name(id) : "";
	rcu_read_unlock();
	return n ? n : "?";
}

static void test_nodes(void **state)
{
	struct clientzone *cz = clientzone_new();
	struct obj_slice *a = slice((const char *[]){
	    "10.2.0.1/za@n1", "10.2.0.2/za@n1", "10.2.0.3/zb@n2",
	    "10.2.0.4/@n3", /* no zone: tells nothing */
	    "10.2.0.5/zc", NULL});
	struct obj_slice *b = slice((const char *[]){"10.2.1.1/za@n1", NULL});
	const struct obj_slice *sa[] = {a}, *sb[] = {b};

	(void)state;
	assert_string_equal(node_zone(cz, "n1"), "");
	rcu_read_lock();
	assert_int_equal(clientzone_node_zone(cz, 0), 0);
	assert_int_equal(clientzone_node_zone(cz, OBJ_MAX_NODES), 0);
	rcu_read_unlock();
	assert_int_equal(clientzone_set(cz, "ns", "a", sa, 1, 1), 1);
	assert_string_equal(node_zone(cz, "n1"), "za");
	assert_string_equal(node_zone(cz, "n2"), "zb");
	assert_string_equal(node_zone(cz, "n3"), "");
	assert_string_equal(node_zone(cz, "never-seen"), "");
	assert_int_equal(clientzone_nodes(cz), 2);
	/* another service on n1: n1 stays while either names it */
	assert_int_equal(clientzone_set(cz, "ns", "b", sb, 1, 1), 1);
	assert_int_equal(clientzone_set(cz, "ns", "a", NULL, 0, 1), 1);
	assert_string_equal(node_zone(cz, "n1"), "za");
	assert_string_equal(node_zone(cz, "n2"), "");
	assert_int_equal(clientzone_nodes(cz), 1);
	/* the node is relabelled: an endpoint of the new zone comes, then
	 * the old one goes; the node has a zone throughout */
	a->eps[0].zone = (uint16_t)obj_zone_intern("zd");
	const struct obj_slice *one[] = {a};
	a->neps = 1;
	assert_int_equal(clientzone_set(cz, "ns", "a", one, 1, 1), 1);
	assert_string_equal(node_zone(cz, "n1"), "za"); /* the first seen */
	assert_int_equal(clientzone_set(cz, "ns", "b", NULL, 0, 1), 1);
	assert_string_equal(node_zone(cz, "n1"), "zd");
	/* the endpoint moves to another node */
	a->eps[0].node = (uint32_t)obj_node_intern("n2");
	assert_int_equal(clientzone_set(cz, "ns", "a", one, 1, 1), 1);
	assert_string_equal(node_zone(cz, "n1"), "");
	assert_string_equal(node_zone(cz, "n2"), "zd");
	/* a node number far above the others: the map grows */
	b->eps[0].node = 100000;
	assert_int_equal(clientzone_set(cz, "ns", "b", sb, 1, 2), 1);
	rcu_read_lock();
	assert_string_equal(obj_zone_name(clientzone_node_zone(cz, 100000)),
			    "za");
	rcu_read_unlock();
	assert_string_equal(node_zone(cz, "n2"), "zd");
	/* a relist that sees only b */
	assert_int_equal(clientzone_drop_stale(cz, 2), 1);
	assert_string_equal(node_zone(cz, "n2"), "");
	assert_int_equal(clientzone_nodes(cz), 1);
	a->neps = 5;
	clientzone_free(cz);
	obj_slice_free(a);
	obj_slice_free(b);
}

static void test_stale(void **state)
{
	struct clientzone *cz = clientzone_new();
	struct obj_slice *a = slice((const char *[]){"10.1.0.1/z1", NULL});
	struct obj_slice *b = slice((const char *[]){"10.1.0.2/z2", NULL});
	const struct obj_slice *sa[] = {a}, *sb[] = {b};

	(void)state;
	assert_int_equal(clientzone_set(cz, "ns", "a", sa, 1, 1), 1);
	assert_int_equal(clientzone_set(cz, "ns", "b", sb, 1, 1), 1);
	/* a relist (gen 2) sees only b */
	assert_int_equal(clientzone_set(cz, "ns", "b", sb, 1, 2), 0);
	assert_int_equal(clientzone_drop_stale(cz, 2), 1);
	assert_string_equal(zone_of(cz, "10.1.0.1"), "");
	assert_string_equal(zone_of(cz, "10.1.0.2"), "z2");
	assert_int_equal(clientzone_count(cz), 1);
	assert_int_equal(clientzone_drop_stale(cz, 2), 0);
	clientzone_free(cz);
	obj_slice_free(a);
	obj_slice_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lookup),
	    cmocka_unit_test(test_stale),
	    cmocka_unit_test(test_nodes),
	};

	return cmocka_run_group_tests(tests, rcu_group_setup,
				      rcu_group_teardown);
}
