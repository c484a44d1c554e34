/*
 * test_rcuhash.c -- the RCU pointer set: insert, find, duplicates, remove,
 * growth and shrinking with many items, tombstones reused, and every item
 * still found after each change.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>
#include <urcu.h>

#include "tests/rcu_group.h"

#include "zones/rcuhash.h"

struct item {
	uint32_t key;
	uint32_t tag;
};

/* A poor hash on purpose: many collisions, long probe runs. */
static uint32_t item_hash(const void *p)
{
	return ((const struct item *)p)->key % 97;
}

static bool item_match(const void *p, const void *key)
{
	return ((const struct item *)p)->key == *(const uint32_t *)key;
}

static void count_item(void *item, void *arg)
{
	(void)item;
	(*(size_t *)arg)++;
}

static struct item *find(struct rcuhash *h, uint32_t key)
{
	rcu_read_lock();
	struct item *it = rcuhash_find(h, key % 97, item_match, &key);
	rcu_read_unlock();
	return it;
}

static void test_basic(void **state)
{
	struct rcuhash *h = rcuhash_new(item_hash);
	struct item a = {1, 0}, b = {98, 0}, c = {1, 1};
	uint32_t k = 1;

	(void)state;
	assert_non_null(h);
	assert_null(find(h, 1));
	assert_int_equal(rcuhash_insert(h, item_hash(&a), &a), 0);
	assert_int_equal(rcuhash_insert(h, item_hash(&b), &b), 0);
	assert_ptr_equal(find(h, 1), &a);
	assert_ptr_equal(find(h, 98), &b); /* same hash, other key */
	assert_null(find(h, 2));
	/* duplicates of a key: both are found, one after the other */
	assert_int_equal(rcuhash_insert(h, item_hash(&c), &c), 0);
	assert_int_equal(rcuhash_count(h), 3);
	const void *tab = NULL;
	size_t pos = 0, n = 0;
	rcu_read_lock();
	while (rcuhash_find_next(h, &tab, &pos, 1, item_match, &k))
		n++;
	rcu_read_unlock();
	assert_int_equal(n, 2);
	/* removal is by address */
	assert_int_equal(rcuhash_remove(h, item_hash(&a), &a), 0);
	assert_int_equal(rcuhash_remove(h, item_hash(&a), &a), -ENOENT);
	assert_ptr_equal(find(h, 1), &c);
	assert_ptr_equal(find(h, 98), &b);
	assert_int_equal(rcuhash_count(h), 2);
	rcuhash_free(h);
}

static void test_many(void **state)
{
	enum { N = 20000 };
	struct rcuhash *h = rcuhash_new(item_hash);
	struct item *items = calloc(N, sizeof(*items));

	(void)state;
	for (uint32_t i = 0; i < N; i++) {
		items[i].key = i * 7 + 3;
		assert_int_equal(
		    rcuhash_insert(h, item_hash(&items[i]), &items[i]), 0);
	}
	size_t grown = rcuhash_bytes(h);
	assert_true(grown >= N * sizeof(void *));
	for (uint32_t i = 0; i < N; i++)
		assert_ptr_equal(find(h, i * 7 + 3), &items[i]);
	assert_null(find(h, 5));
	/* Remove most, in and out of order: the rest stays findable and the
	 * table shrinks. */
	for (uint32_t i = 0; i < N; i++)
		if (i % 10)
			assert_int_equal(
			    rcuhash_remove(h, item_hash(&items[i]), &items[i]),
			    0);
	assert_int_equal(rcuhash_count(h), N / 10);
	assert_true(rcuhash_bytes(h) < grown);
	for (uint32_t i = 0; i < N; i++) {
		struct item *it = find(h, i * 7 + 3);
		if (i % 10)
			assert_null(it);
		else
			assert_ptr_equal(it, &items[i]);
	}
	/* Insert and remove over and over: tombstones are reused or swept,
	 * the table does not grow without bound. */
	for (int round = 0; round < 50; round++)
		for (uint32_t i = 1; i < N; i += 10) {
			assert_int_equal(
			    rcuhash_insert(h, item_hash(&items[i]), &items[i]),
			    0);
			assert_int_equal(
			    rcuhash_remove(h, item_hash(&items[i]), &items[i]),
			    0);
		}
	assert_int_equal(rcuhash_count(h), N / 10);
	assert_true(rcuhash_bytes(h) < grown);
	size_t seen = 0;
	rcuhash_each(h, count_item, &seen);
	assert_int_equal(seen, N / 10);
	rcuhash_free(h);
	free(items);
}

static bool odd_key(void *item, void *arg)
{
	(void)arg;
	return ((struct item *)item)->key % 2;
}

static void remove_item(void *item, void *arg)
{
	struct rcuhash *h = arg;

	assert_int_equal(rcuhash_remove(h, item_hash(item), item), 0);
}

static void test_take_if(void **state)
{
	enum { N = 5000 };
	struct rcuhash *h = rcuhash_new(item_hash);
	struct item *items = calloc(N, sizeof(*items));

	(void)state;
	for (uint32_t i = 0; i < N; i++) {
		items[i].key = i;
		assert_int_equal(
		    rcuhash_insert(h, item_hash(&items[i]), &items[i]), 0);
	}
	/* take may shrink the table under the walk: all found first */
	assert_int_equal(rcuhash_take_if(h, odd_key, remove_item, h), N / 2);
	assert_int_equal(rcuhash_count(h), N / 2);
	assert_null(find(h, 4999));
	assert_ptr_equal(find(h, 4998), &items[4998]);
	assert_int_equal(rcuhash_take_if(h, odd_key, remove_item, h), 0);
	rcuhash_free(h);
	free(items);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_basic),
	    cmocka_unit_test(test_many),
	    cmocka_unit_test(test_take_if),
	};

	return cmocka_run_group_tests(tests, rcu_group_setup,
				      rcu_group_teardown);
}
