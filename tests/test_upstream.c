/*
 * test_upstream.c -- the order in which a query tries the upstreams, and
 * how health-check results take them out and bring them back.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "server/upstream.h"

static struct sockaddr_storage addrs[UPSTREAM_MAX];
static socklen_t lens[UPSTREAM_MAX];

static void make_addrs(unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		struct sockaddr_in *a = (struct sockaddr_in *)&addrs[i];
		memset(&addrs[i], 0, sizeof(addrs[i]));
		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)(5300 + i));
		a->sin_addr.s_addr = htonl(0x7f000001);
		lens[i] = sizeof(*a);
	}
}

static void init(struct upstream_set *s, unsigned n, enum upstream_policy p,
		 unsigned max_fails)
{
	make_addrs(n);
	assert_int_equal(upstream_set_init(s, addrs, lens, n, p, max_fails), 0);
}

static void test_init(void **state)
{
	struct upstream_set s;

	(void)state;
	make_addrs(UPSTREAM_MAX);
	assert_int_equal(
	    upstream_set_init(&s, addrs, lens, 0, UPSTREAM_RANDOM, 2), -EINVAL);
	assert_int_equal(upstream_set_init(&s, addrs, lens, UPSTREAM_MAX + 1,
					   UPSTREAM_RANDOM, 2),
			 -EINVAL);
	addrs[1].ss_family = AF_UNIX;
	assert_int_equal(
	    upstream_set_init(&s, addrs, lens, 2, UPSTREAM_RANDOM, 2), -EINVAL);
	init(&s, 2, UPSTREAM_RANDOM, 2);
	assert_string_equal(s.u[0].name, "127.0.0.1:5300");
	assert_string_equal(s.u[1].name, "127.0.0.1:5301");
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&addrs[0];
	memset(a6, 0, sizeof(*a6));
	a6->sin6_family = AF_INET6;
	a6->sin6_port = htons(53);
	a6->sin6_addr.s6_addr[15] = 1;
	lens[0] = sizeof(*a6);
	assert_int_equal(
	    upstream_set_init(&s, addrs, lens, 1, UPSTREAM_SEQUENTIAL, 2), 0);
	assert_string_equal(s.u[0].name, "[::1]:53");
}

static void test_sequential(void **state)
{
	struct upstream_set s;
	uint8_t order[UPSTREAM_MAX];

	(void)state;
	init(&s, 3, UPSTREAM_SEQUENTIAL, 2);
	for (int k = 0; k < 3; k++) {
		upstream_order(&s, (uint64_t)k * 7919, order);
		assert_int_equal(order[0], 0);
		assert_int_equal(order[1], 1);
		assert_int_equal(order[2], 2);
	}
	/* tries go down the list, then around */
	unsigned pos = 0;
	assert_int_equal(upstream_next(&s, order, &pos, 0), 0);
	assert_int_equal(upstream_next(&s, order, &pos, 0), 1);
	assert_int_equal(upstream_next(&s, order, &pos, 0), 2);
	assert_int_equal(upstream_next(&s, order, &pos, 0), 0);
}

static void test_round_robin(void **state)
{
	struct upstream_set s;
	uint8_t order[UPSTREAM_MAX];

	(void)state;
	init(&s, 3, UPSTREAM_ROUND_ROBIN, 2);
	for (unsigned k = 0; k < 6; k++) {
		upstream_order(&s, 0, order);
		for (unsigned i = 0; i < 3; i++)
			assert_int_equal(order[i], (k + i) % 3);
	}
}

static void test_random(void **state)
{
	struct upstream_set s;
	uint8_t order[UPSTREAM_MAX];
	unsigned first[UPSTREAM_MAX] = {0};

	(void)state;
	init(&s, 4, UPSTREAM_RANDOM, 2);
	for (uint64_t k = 1; k <= 400; k++) {
		unsigned seen = 0;
		upstream_order(&s, k * 0x9e3779b97f4a7c15ULL, order);
		for (unsigned i = 0; i < 4; i++) {
			assert_true(order[i] < 4);
			seen |= 1u << order[i];
		}
		assert_int_equal(seen, 0xf); /* a permutation */
		first[order[0]]++;
	}
	/* every upstream comes first some of the time */
	for (unsigned i = 0; i < 4; i++)
		assert_true(first[i] > 40);
	/* one upstream: nothing to shuffle */
	init(&s, 1, UPSTREAM_RANDOM, 2);
	upstream_order(&s, 12345, order);
	assert_int_equal(order[0], 0);
}

static void test_down_skipped(void **state)
{
	struct upstream_set s;
	uint8_t order[UPSTREAM_MAX];
	unsigned pos = 0;

	(void)state;
	init(&s, 3, UPSTREAM_SEQUENTIAL, 2);
	upstream_order(&s, 0, order);
	/* failed checks up to max_fails do not take it out */
	upstream_check_failed(&s.u[0]);
	upstream_check_failed(&s.u[0]);
	assert_false(upstream_down(&s, 0));
	assert_int_equal(upstream_next(&s, order, &pos, 0), 0);
	upstream_check_failed(&s.u[0]);
	assert_true(upstream_down(&s, 0));
	pos = 0;
	assert_int_equal(upstream_next(&s, order, &pos, 0), 1);
	assert_int_equal(upstream_next(&s, order, &pos, 0), 2);
	assert_int_equal(upstream_next(&s, order, &pos, 0), 1);
	/* a passing check brings it back */
	atomic_store(&s.u[0].check, true);
	upstream_check_passed(&s.u[0]);
	assert_false(upstream_down(&s, 0));
	assert_false(atomic_load(&s.u[0].check));
	pos = 0;
	assert_int_equal(upstream_next(&s, order, &pos, 0), 0);
}

static void test_all_down(void **state)
{
	struct upstream_set s;
	uint8_t order[UPSTREAM_MAX];
	unsigned pos = 0, hit[3] = {0};

	(void)state;
	init(&s, 3, UPSTREAM_SEQUENTIAL, 1);
	for (unsigned i = 0; i < 3; i++) {
		upstream_check_failed(&s.u[i]);
		upstream_check_failed(&s.u[i]);
		assert_true(upstream_down(&s, i));
	}
	upstream_order(&s, 0, order);
	/* health checking may be what is broken: one at random anyway */
	for (uint64_t r = 0; r < 30; r++)
		hit[upstream_next(&s, order, &pos, r)]++;
	assert_int_equal(hit[0], 10);
	assert_int_equal(hit[1], 10);
	assert_int_equal(hit[2], 10);
}

static void test_max_fails_zero(void **state)
{
	struct upstream_set s;

	(void)state;
	init(&s, 2, UPSTREAM_RANDOM, 0);
	for (int i = 0; i < 10; i++)
		upstream_check_failed(&s.u[1]);
	assert_false(upstream_down(&s, 1)); /* never down */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_init),
	    cmocka_unit_test(test_sequential),
	    cmocka_unit_test(test_round_robin),
	    cmocka_unit_test(test_random),
	    cmocka_unit_test(test_down_skipped),
	    cmocka_unit_test(test_all_down),
	    cmocka_unit_test(test_max_fails_zero),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
