/*
 * test_jarena.c -- cJSON trees in the bump arena: parsed and read inside,
 * memory reused by the next document, plain malloc outside.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "zones/jarena.h"

/* A list of n items with a few fields each. */
static char *doc(int n)
{
	size_t cap = (size_t)n * 96 + 64, len = 0;
	char *s = malloc(cap);

	len += (size_t)snprintf(s + len, cap - len, "{\"items\":[");
	for (int i = 0; i < n; i++)
		len += (size_t)snprintf(s + len, cap - len,
					"%s{\"name\":\"pod-%d\",\"ip\":"
					"\"10.0.%d.%d\",\"ready\":true}",
					i ? "," : "", i, i / 256, i % 256);
	snprintf(s + len, cap - len, "]}");
	return s;
}

static void test_arena_reuse(void **state)
{
	char *text = doc(20000);

	(void)state;
	jarena_install();
	jarena_begin();
	cJSON *d = cJSON_Parse(text);
	assert_non_null(d);
	cJSON *items = cJSON_GetObjectItem(d, "items");
	assert_int_equal(cJSON_GetArraySize(items), 20000);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(
				cJSON_GetArrayItem(items, 19999), "name")),
			    "pod-19999");
	cJSON_Delete(d);
	jarena_end();
	size_t first = jarena_size();
	/* The tree was bigger than one chunk. */
	assert_true(first > (1u << 20));

	/* The same document again fits in the memory already held. */
	jarena_begin();
	d = cJSON_Parse(text);
	assert_non_null(d);
	cJSON_Delete(d);
	jarena_end();
	assert_int_equal(jarena_size(), first);

	/* Outside the arena cJSON uses malloc: a tree made now can be freed
	 * after the arena is gone. */
	cJSON *outside = cJSON_Parse("{\"a\":[1,2,3]}");
	jarena_release();
	assert_int_equal(jarena_size(), 0);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(outside, "a")),
			 3);
	cJSON_Delete(outside);
	free(text);
}

static void test_big_value(void **state)
{
	size_t n = 3u << 20;
	char *text = malloc(n + 16);

	(void)state;
	/* One string larger than a chunk gets a chunk of its own. */
	text[0] = '"';
	memset(text + 1, 'x', n);
	strcpy(text + 1 + n, "\"");
	jarena_install();
	jarena_begin();
	cJSON *d = cJSON_Parse(text);
	assert_non_null(d);
	assert_int_equal(strlen(cJSON_GetStringValue(d)), n);
	cJSON_Delete(d);
	jarena_end();
	assert_true(jarena_size() >= n);
	jarena_release();
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_arena_reuse),
	    cmocka_unit_test(test_big_value),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
