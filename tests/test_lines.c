/*
 * test_lines.c -- the line splitter under every chunking.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "zones/lines.h"

struct got {
	char text[4096];
	size_t len;
	int n;
	int stop_after;
};

/* Lines joined with '|' so that the result can be compared as a string. */
static int collect(const char *line, size_t len, void *arg)
{
	struct got *g = arg;

	assert_true(g->len + len + 1 < sizeof(g->text));
	memcpy(g->text + g->len, line, len);
	g->len += len;
	g->text[g->len++] = '|';
	g->text[g->len] = 0;
	g->n++;
	return g->stop_after && g->n == g->stop_after ? 7 : 0;
}

static const char stream[] = "{\"type\":\"ADDED\"}\n"
			     "{\"type\":\"MODIFIED\",\"x\":\"abc\"}\r\n"
			     "\n"
			     "{\"type\":\"DELETED\"}\n"
			     "partial";

static void test_every_chunking(void **state)
{
	size_t n = strlen(stream);

	(void)state;
	/* Split into three pieces at every pair of positions. */
	for (size_t i = 0; i <= n; i++) {
		for (size_t j = i; j <= n; j++) {
			struct lines l;
			struct got g = {0};
			lines_init(&l, 1024);
			assert_int_equal(lines_feed(&l, stream, i, collect, &g),
					 0);
			assert_int_equal(
			    lines_feed(&l, stream + i, j - i, collect, &g), 0);
			assert_int_equal(
			    lines_feed(&l, stream + j, n - j, collect, &g), 0);
			assert_string_equal(
			    g.text, "{\"type\":\"ADDED\"}|"
				    "{\"type\":\"MODIFIED\",\"x\":\"abc\"}|"
				    "{\"type\":\"DELETED\"}|");
			assert_int_equal(g.n, 3);
			/* The unterminated tail is kept for the next feed. */
			assert_int_equal(l.len, strlen("partial"));
			assert_int_equal(lines_feed(&l, "!\n", 2, collect, &g),
					 0);
			assert_int_equal(g.n, 4);
			assert_string_equal(g.text + g.len - 9, "partial!|");
			lines_reset(&l);
		}
	}
}

static void test_byte_at_a_time(void **state)
{
	struct lines l;
	struct got g = {0};

	(void)state;
	lines_init(&l, 1024);
	for (size_t i = 0; i < strlen(stream); i++)
		assert_int_equal(lines_feed(&l, stream + i, 1, collect, &g), 0);
	assert_int_equal(g.n, 3);
	lines_reset(&l);
}

static void test_too_long(void **state)
{
	struct lines l;
	struct got g = {0};
	char big[100];

	(void)state;
	memset(big, 'x', sizeof(big));
	lines_init(&l, 64);
	/* Over the limit while buffering a partial line. */
	assert_int_equal(lines_feed(&l, big, 40, collect, &g), 0);
	assert_int_equal(lines_feed(&l, big, 40, collect, &g), -E2BIG);
	assert_int_equal(l.len, 0);
	/* Over the limit within one chunk. */
	char line[80];
	memset(line, 'y', 70);
	line[70] = '\n';
	assert_int_equal(lines_feed(&l, line, 71, collect, &g), -E2BIG);
	/* Exactly the limit is fine. */
	line[64] = '\n';
	assert_int_equal(lines_feed(&l, line, 65, collect, &g), 0);
	assert_int_equal(g.n, 1);
	lines_reset(&l);
}

static void test_callback_stops(void **state)
{
	struct lines l;
	struct got g = {.stop_after = 2};

	(void)state;
	lines_init(&l, 1024);
	assert_int_equal(lines_feed(&l, "a\nb\nc\n", 6, collect, &g), 7);
	assert_int_equal(g.n, 2);
	lines_reset(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_chunking),
	    cmocka_unit_test(test_byte_at_a_time),
	    cmocka_unit_test(test_too_long),
	    cmocka_unit_test(test_callback_stops),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
