/*
 * test_tcplimit.c -- the pool's TCP budget: the total, the per-address
 * limit, IPv6 counted by /64, IPv4-mapped addresses as IPv4, many
 * addresses added and removed against a reference count, and threads
 * taking and putting at once.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "server/tcplimit.h"

static struct sockaddr_storage addr(const char *a, uint16_t port)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	if (strchr(a, ':')) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		assert_int_equal(inet_pton(AF_INET6, a, &in6->sin6_addr), 1);
	} else {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;
		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		assert_int_equal(inet_pton(AF_INET, a, &in->sin_addr), 1);
	}
	return ss;
}

#define SA(ss) ((const struct sockaddr *)&(ss))

static void test_limits(void **state)
{
	struct tcplimit *t;
	struct tcplimit_key k[8];

	(void)state;
	assert_int_equal(tcplimit_new(0, 1, &t), -EINVAL);
	assert_null(t);
	assert_int_equal(tcplimit_new(5, 2, &t), 0);
	struct sockaddr_storage a = addr("127.0.0.2", 1000);
	struct sockaddr_storage a2 = addr("127.0.0.2", 2000);
	struct sockaddr_storage b = addr("127.0.0.1", 1000);

	/* two from one address, the third refused whatever its port */
	assert_int_equal(tcplimit_take(t, SA(a), &k[0]), 0);
	assert_int_equal(tcplimit_take(t, SA(a2), &k[1]), 0);
	assert_int_equal(tcplimit_take(t, SA(a), &k[2]), -EUSERS);
	assert_int_equal(tcplimit_count(t, SA(a)), 2);
	assert_int_equal(tcplimit_total(t), 2);
	/* another address is counted apart */
	assert_int_equal(tcplimit_take(t, SA(b), &k[2]), 0);
	assert_int_equal(tcplimit_count(t, SA(b)), 1);
	/* one closed: room again */
	tcplimit_put(t, &k[0]);
	assert_int_equal(tcplimit_count(t, SA(a)), 1);
	assert_int_equal(tcplimit_take(t, SA(a), &k[0]), 0);

	/* the total: 5 in all */
	struct sockaddr_storage c = addr("10.0.0.1", 53);
	struct sockaddr_storage d = addr("10.0.0.2", 53);
	struct sockaddr_storage e = addr("10.0.0.3", 53);
	assert_int_equal(tcplimit_take(t, SA(c), &k[3]), 0);
	assert_int_equal(tcplimit_take(t, SA(d), &k[4]), 0);
	assert_int_equal(tcplimit_total(t), 5);
	assert_int_equal(tcplimit_take(t, SA(e), &k[5]), -ENOSPC);
	assert_int_equal(tcplimit_count(t, SA(e)), 0);
	tcplimit_put(t, &k[3]);
	assert_int_equal(tcplimit_count(t, SA(c)), 0);
	assert_int_equal(tcplimit_take(t, SA(e), &k[5]), 0);

	/* a peer that is no IP address counts in the total only */
	struct sockaddr_storage u = {.ss_family = AF_UNIX};
	tcplimit_put(t, &k[5]);
	assert_int_equal(tcplimit_take(t, SA(u), &k[6]), 0);
	assert_int_equal(tcplimit_total(t), 5);
	tcplimit_put(t, &k[6]);
	assert_int_equal(tcplimit_total(t), 4);
	tcplimit_free(t);
	tcplimit_free(NULL);
}

static void test_no_addr_limit(void **state)
{
	struct tcplimit *t;
	struct tcplimit_key k;

	(void)state;
	assert_int_equal(tcplimit_new(100, 0, &t), 0);
	struct sockaddr_storage a = addr("192.0.2.1", 1);
	for (int i = 0; i < 100; i++)
		assert_int_equal(tcplimit_take(t, SA(a), &k), 0);
	assert_int_equal(tcplimit_take(t, SA(a), &k), -ENOSPC);
	assert_int_equal(tcplimit_count(t, SA(a)), 100);
	tcplimit_free(t);
}

static void test_ipv6_prefix(void **state)
{
	struct tcplimit *t;
	struct tcplimit_key k[4];

	(void)state;
	assert_int_equal(tcplimit_new(10, 2, &t), 0);
	/* one /64: counted together */
	struct sockaddr_storage a = addr("2001:db8:1:2::1", 1);
	struct sockaddr_storage b = addr("2001:db8:1:2:ffff:1:2:3", 1);
	struct sockaddr_storage c = addr("2001:db8:1:2::99", 1);
	struct sockaddr_storage other = addr("2001:db8:1:3::1", 1);
	assert_int_equal(tcplimit_take(t, SA(a), &k[0]), 0);
	assert_int_equal(tcplimit_take(t, SA(b), &k[1]), 0);
	assert_int_equal(tcplimit_take(t, SA(c), &k[2]), -EUSERS);
	assert_int_equal(tcplimit_count(t, SA(c)), 2);
	/* the next /64 is another client */
	assert_int_equal(tcplimit_take(t, SA(other), &k[2]), 0);
	assert_int_equal(tcplimit_count(t, SA(other)), 1);

	/* ::ffff:192.0.2.7 is the IPv4 client 192.0.2.7 */
	struct sockaddr_storage m = addr("::ffff:192.0.2.7", 1);
	struct sockaddr_storage v4 = addr("192.0.2.7", 1);
	assert_int_equal(tcplimit_take(t, SA(m), &k[3]), 0);
	assert_int_equal(tcplimit_count(t, SA(v4)), 1);
	/* an IPv6 /64 whose bits equal an IPv4 address is not that client */
	struct sockaddr_storage z = addr("::c000:207", 1);
	assert_int_equal(tcplimit_count(t, SA(z)), 0);
	tcplimit_free(t);
}

/* Many addresses taken and put in random order, against a reference:
 * the table (and its deletions) keeps every count. */
static void test_churn(void **state)
{
	enum { N = 500, ADDRS = 300, ROUNDS = 20000 };
	struct tcplimit *t;
	static struct tcplimit_key keys[N];
	static int who[N];
	static unsigned ref[ADDRS];
	int open = 0;

	(void)state;
	srand(7);
	assert_int_equal(tcplimit_new(N, 3, &t), 0);
	for (int r = 0; r < ROUNDS; r++) {
		if (open < N && (open == 0 || rand() % 2)) {
			int a = rand() % ADDRS;
			char s[32];
			snprintf(s, sizeof(s), "10.%d.%d.1", a / 256, a % 256);
			struct sockaddr_storage ss = addr(s, 1);
			int rc = tcplimit_take(t, SA(ss), &keys[open]);
			if (ref[a] >= 3) {
				assert_int_equal(rc, -EUSERS);
				continue;
			}
			assert_int_equal(rc, 0);
			ref[a]++;
			who[open++] = a;
		} else {
			int i = rand() % open;
			tcplimit_put(t, &keys[i]);
			ref[who[i]]--;
			keys[i] = keys[open - 1];
			who[i] = who[open - 1];
			open--;
		}
		if (r % 1000 == 0) {
			for (int a = 0; a < ADDRS; a++) {
				char s[32];
				snprintf(s, sizeof(s), "10.%d.%d.1", a / 256,
					 a % 256);
				struct sockaddr_storage ss = addr(s, 1);
				assert_int_equal(tcplimit_count(t, SA(ss)),
						 ref[a]);
			}
			assert_int_equal(tcplimit_total(t), (unsigned)open);
		}
	}
	while (open > 0)
		tcplimit_put(t, &keys[--open]);
	assert_int_equal(tcplimit_total(t), 0);
	tcplimit_free(t);
}

static struct tcplimit *shared;

static void *taker(void *arg)
{
	struct sockaddr_storage ss = addr((const char *)arg, 1);
	struct tcplimit_key k;
	for (int i = 0; i < 20000; i++) {
		if (tcplimit_take(shared, SA(ss), &k) == 0)
			tcplimit_put(shared, &k);
	}
	return NULL;
}

static void test_threads(void **state)
{
	pthread_t th[4];
	const char *a[4] = {"127.0.0.1", "127.0.0.2", "::1", "127.0.0.1"};

	(void)state;
	assert_int_equal(tcplimit_new(3, 1, &shared), 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(
		    pthread_create(&th[i], NULL, taker, (void *)a[i]), 0);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(tcplimit_total(shared), 0);
	struct sockaddr_storage ss = addr("127.0.0.1", 1);
	assert_int_equal(tcplimit_count(shared, SA(ss)), 0);
	tcplimit_free(shared);
}

/* Idle timeouts spread over a tenth above the pool's, all of it used. */
static void test_idle_spread(void **state)
{
	uint32_t rng = 12345;
	unsigned lo = UINT32_MAX, hi = 0, at_lo = 0;

	(void)state;
	for (int i = 0; i < 10000; i++) {
		unsigned v = tcplimit_idle_spread(&rng, 10000);

		assert_true(v >= 10000 && v <= 11000);
		lo = v < lo ? v : lo;
		hi = v > hi ? v : hi;
		at_lo += v == 10000;
	}
	assert_true(lo < 10010);
	assert_true(hi > 10990);
	assert_true(at_lo < 100); /* not bunched at the pool's value */
	assert_int_equal(tcplimit_idle_spread(&rng, 0), 0);
	assert_int_equal(tcplimit_idle_spread(&rng, 9), 9);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_no_addr_limit),
	    cmocka_unit_test(test_ipv6_prefix),
	    cmocka_unit_test(test_churn),
	    cmocka_unit_test(test_threads),
	    cmocka_unit_test(test_idle_spread),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
