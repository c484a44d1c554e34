/*
 * test_backoff.c -- retry delays: doubling, cap, jitter, Retry-After.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "zones/backoff.h"

static void test_doubles_to_cap(void **state)
{
	struct backoff b;
	uint32_t step = 800;

	(void)state;
	backoff_init(&b, 42);
	for (int i = 0; i < 12; i++) {
		uint32_t d = backoff_next(&b, 0);
		/* The step plus at most 20% jitter. */
		assert_true(d >= step);
		assert_true(d <= step + step / 5);
		step = step * 2 > 30000 ? 30000 : step * 2;
	}
	/* Capped: never above 30 s + 20%. */
	for (int i = 0; i < 100; i++)
		assert_true(backoff_next(&b, 0) <= 36000);
}

static void test_reset(void **state)
{
	struct backoff b;

	(void)state;
	backoff_init(&b, 7);
	for (int i = 0; i < 6; i++)
		backoff_next(&b, 0);
	backoff_reset(&b);
	uint32_t d = backoff_next(&b, 0);
	assert_true(d >= 800 && d <= 960);
}

static void test_retry_after(void **state)
{
	struct backoff b;

	(void)state;
	backoff_init(&b, 1);
	/* A longer Retry-After wins; a shorter one does not shorten. */
	assert_int_equal(backoff_next(&b, 5), 5000);
	uint32_t d = backoff_next(&b, 1);
	assert_true(d >= 1600 && d <= 1920);
	/* Absurd values are bounded to an hour. */
	assert_int_equal(backoff_next(&b, 99999), 3600000);
}

static void test_jitter_spreads(void **state)
{
	struct backoff b;
	uint32_t lo = UINT32_MAX, hi = 0;

	(void)state;
	backoff_init(&b, 3);
	for (int i = 0; i < 1000; i++) {
		uint32_t v = backoff_jitter(&b, 300, 600);
		assert_true(v >= 300 && v <= 600);
		lo = v < lo ? v : lo;
		hi = v > hi ? v : hi;
	}
	/* Spread over most of the range, not a constant. */
	assert_true(lo < 330);
	assert_true(hi > 570);
	assert_int_equal(backoff_jitter(&b, 5, 5), 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_doubles_to_cap),
	    cmocka_unit_test(test_reset),
	    cmocka_unit_test(test_retry_after),
	    cmocka_unit_test(test_jitter_spreads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
