/*
 * test_podscan.c -- PodList pages scanned for the fields of `pods
 * verified`: what is read (with spec.nodeName), what is skipped and why, and
 * pages that are not JSON or not lists.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "zones/podscan.h"

struct got {
	struct podscan_pod p[16];
	size_t n;
};

static void collect(void *arg, const struct podscan_pod *pod)
{
	struct got *g = arg;

	if (g->n < 16)
		g->p[g->n++] = *pod;
}

static int scan(const char *page, struct got *g, struct podscan_list *l)
{
	memset(g, 0, sizeof(*g));
	return podscan_page(page, strlen(page), collect, g, l);
}

static void test_page(void **state)
{
	static const char page[] =
	    "{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":{"
	    "\"resourceVersion\":\"1234\",\"continue\":\"eyJ2Ijoi\\/bWV0\"},"
	    "\"items\":["
	    /* dual-stack, running, with a spec full of everything JSON has */
	    "{\"metadata\":{\"name\":\"web-1\",\"namespace\":\"prod\","
	    "\"labels\":{\"app\":\"web\"}},\"spec\":{\"containers\":[{\"ports\""
	    ":[{\"containerPort\":80}],\"args\":[\"a\",\"b\\\"c\"],\"x\":-1.5e+"
	    "3,"
	    "\"y\":true,\"z\":null,\"w\":[[],{}],\"env\":[{\"name\":"
	    "\"x\",\"nodeName\":\"not-this\"}]}],\"nodeName\":\"node-a\"},"
	    "\"status\":{\"phase\":"
	    "\"Running\",\"podIP\":\"10.1.0.5\",\"podIPs\":[{\"ip\":\"10.1.0."
	    "5\""
	    "},{\"ip\":\"fd00::5\"}]}},"
	    /* podIP only, Pending, no namespace, escaped name */
	    " {\"metadata\":{\"name\":\"a\\u002db\"},\"status\":{\"phase\":"
	    "\"Pending\",\"podIP\":\"10.1.0.6\"}},\n"
	    /* finished */
	    "{\"metadata\":{\"name\":\"job\",\"namespace\":\"prod\"},\"status\""
	    ":{\"phase\":\"Succeeded\",\"podIPs\":[{\"ip\":\"10.1.0.7\"}]}},"
	    /* no name: left out */
	    "{\"metadata\":{\"namespace\":\"prod\"},\"status\":{}},"
	    /* a bad address: left out */
	    "{\"metadata\":{\"name\":\"bad\"},\"status\":{\"podIP\":\"10.1\"}},"
	    /* not a mapping: left out */
	    "7,"
	    /* no status at all: no address */
	    "{\"metadata\":{\"name\":\"new\",\"namespace\":\"prod\"},"
	    "\"status\":null}"
	    "]}\n";
	struct got g;
	struct podscan_list l;

	(void)state;
	assert_int_equal(scan(page, &g, &l), 0);
	assert_string_equal(l.rv, "1234");
	assert_non_null(l.cont);
	assert_string_equal(l.cont, "eyJ2Ijoi/bWV0");
	free(l.cont);
	assert_int_equal(l.npods, 4);
	assert_int_equal(l.nskip, 3);
	assert_int_equal(g.n, 4);
	assert_string_equal(g.p[0].ns, "prod");
	assert_string_equal(g.p[0].name, "web-1");
	assert_int_equal(g.p[0].nips, 2);
	assert_int_equal(g.p[0].ips[1].family, 6);
	assert_true(g.p[0].running);
	assert_false(g.p[0].terminal);
	/* spec.nodeName, not a nodeName deeper in the spec */
	assert_string_equal(g.p[0].node, "node-a");
	assert_string_equal(g.p[1].node, ""); /* no spec */
	assert_string_equal(g.p[1].ns, "default");
	assert_string_equal(g.p[1].name, "a-b");
	assert_int_equal(g.p[1].nips, 1);
	assert_int_equal(g.p[1].ips[0].a[3], 6);
	assert_false(g.p[1].running);
	assert_true(g.p[2].terminal);
	assert_string_equal(g.p[3].name, "new");
	assert_int_equal(g.p[3].nips, 0);

	/* the last page: no continue; items may be null */
	assert_int_equal(scan("{\"metadata\":{\"resourceVersion\":\"9\","
			      "\"continue\":\"\"},\"items\":null}",
			      &g, &l),
			 0);
	assert_null(l.cont);
	assert_int_equal(l.npods, 0);
}

static void test_not_a_list(void **state)
{
	static const char *const bad[] = {
	    "",
	    "[]",
	    "{\"metadata\":{}}", /* no resourceVersion */
	    "{\"metadata\":{\"resourceVersion\":\"1\"},\"items\":{}}",
	    "{\"metadata\":{\"resourceVersion\":\"1\"},\"items\":[",
	    "{\"metadata\":{\"resourceVersion\":\"1\"}} x", /* trailing */
	    "{\"metadata\":{\"resourceVersion\":\"1\",}}",  /* comma */
	    "{\"metadata\":{\"resourceVersion\":\"1\"},\"a\":\"\x01\"}",
	    "{\"metadata\":{\"resourceVersion\":\"1\"},\"a\":\"\\q\"}",
	    "{\"metadata\":{\"resourceVersion\":\"1\"},\"a\":\"\\u12\"}",
	    "{\"metadata\":{\"resourceVersion\":\"1\"},\"a\":01}",
	    "{\"metadata\":{\"resourceVersion\":\"1\"},\"a\":1.}",
	    "{\"metadata\":{\"resourceVersion\":\"1\"},\"a\":tru}",
	    "{\"metadata\":{\"resourceVersion\":\"1\"},\"a\":\"open",
	    NULL,
	};
	struct got g;
	struct podscan_list l;
	char deep[400];

	(void)state;
	for (size_t i = 0; bad[i]; i++) {
		int rc = scan(bad[i], &g, &l);
		if (rc != -EINVAL)
			print_error("accepted: %s\n", bad[i]);
		assert_int_equal(rc, -EINVAL);
		assert_null(l.cont);
	}
	/* nesting deeper than 64 levels */
	size_t n = (size_t)snprintf(deep, sizeof(deep),
				    "{\"metadata\":{\"resourceVersion\":"
				    "\"1\"},\"a\":");
	for (int i = 0; i < 70; i++)
		deep[n++] = '[';
	for (int i = 0; i < 70; i++)
		deep[n++] = ']';
	deep[n++] = '}';
	deep[n] = 0;
	assert_int_equal(scan(deep, &g, &l), -EINVAL);
	/* 60 levels are fine */
	n = (size_t)snprintf(
	    deep, sizeof(deep),
	    "{\"metadata\":{\"resourceVersion\":\"1\"},\"a\":");
	for (int i = 0; i < 60; i++)
		deep[n++] = '[';
	for (int i = 0; i < 60; i++)
		deep[n++] = ']';
	deep[n++] = '}';
	deep[n] = 0;
	assert_int_equal(scan(deep, &g, &l), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_page),
	    cmocka_unit_test(test_not_a_list),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
