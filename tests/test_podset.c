/*
 * test_podset.c -- (namespace, address) pairs of running pods: counting,
 * case, families, namespaces apart, bad input, the walk, and many pairs.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <urcu.h>

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

static int setup(void **state)
{
	(void)state;
	rcu_register_thread();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	rcu_barrier();
	rcu_unregister_thread();
	return 0;
}

static int count_cb(const char *ns, const struct obj_addr *a, void *arg)
{
	(void)a;
	assert_string_equal(ns, "prod");
	(*(int *)arg)++;
	return 0;
}

static void test_counting(void **state)
{
	struct podset *ps = podset_new();
	struct obj_addr a = addr("10.1.2.3"), b = addr("fd00::3"), none = {0};

	(void)state;
	assert_int_equal(podset_add(ps, "Prod", &a), 0);
	assert_int_equal(podset_add(ps, "prod", &a), 0); /* same pair */
	assert_int_equal(podset_add(ps, "prod", &b), 0);
	assert_int_equal(podset_count(ps), 2);
	assert_true(has(ps, "prod", "10.1.2.3"));
	assert_true(has(ps, "prod", "fd00::3"));
	assert_false(has(ps, "staging", "10.1.2.3"));
	assert_false(has(ps, "prod", "10.1.2.4"));
	int n = 0;
	assert_int_equal(podset_each(ps, count_cb, &n), 0);
	assert_int_equal(n, 2);
	/* the pair lives until its last pod goes */
	assert_int_equal(podset_del(ps, "prod", &a), 0);
	assert_true(has(ps, "prod", "10.1.2.3"));
	assert_int_equal(podset_del(ps, "PROD", &a), 0);
	assert_false(has(ps, "prod", "10.1.2.3"));
	assert_int_equal(podset_del(ps, "prod", &a), -ENOENT);
	/* what cannot be a pair */
	char longns[80];
	memset(longns, 'x', 79);
	longns[79] = 0;
	assert_int_equal(podset_add(ps, longns, &a), -EINVAL);
	assert_int_equal(podset_add(ps, "", &a), -EINVAL);
	assert_int_equal(podset_add(ps, "prod", &none), -EINVAL);
	assert_int_equal(podset_del(ps, longns, &a), -ENOENT);
	assert_int_equal(podset_count(ps), 1);
	podset_free(ps);
}

static void test_many(void **state)
{
	struct podset *ps = podset_new();
	char ip[32];

	(void)state;
	for (int i = 0; i < 50000; i++) {
		snprintf(ip, sizeof(ip), "10.%d.%d.%d", i >> 16, (i >> 8) & 255,
			 i & 255);
		struct obj_addr a = addr(ip);
		assert_int_equal(podset_add(ps, i % 2 ? "odd" : "even", &a), 0);
	}
	assert_int_equal(podset_count(ps), 50000);
	assert_true(has(ps, "odd", "10.0.195.79")); /* 49999 */
	assert_false(has(ps, "even", "10.0.195.79"));
	for (int i = 0; i < 50000; i += 2) {
		snprintf(ip, sizeof(ip), "10.%d.%d.%d", i >> 16, (i >> 8) & 255,
			 i & 255);
		struct obj_addr a = addr(ip);
		assert_int_equal(podset_del(ps, "even", &a), 0);
	}
	assert_int_equal(podset_count(ps), 25000);
	assert_false(has(ps, "even", "10.0.0.0"));
	assert_true(has(ps, "odd", "10.0.0.1"));
	podset_free(ps);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_counting),
	    cmocka_unit_test(test_many),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
