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

static void test_page(void **state)
{
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

static void test_not_a_list(void **state)
{
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

/* page fed in pieces of step bytes, the first of first bytes (0: none) */
static int feed(const char *pg, size_t len, size_t first, size_t step,
		struct got *g, struct podscan_list *l)
{
	struct podscan *ps = podscan_new(collect, g);
	size_t off = 0;
	int rc = 0;

	assert_non_null(ps);
	memset(g, 0, sizeof(*g));
	if (first) {
		rc = podscan_feed(ps, pg, first < len ? first : len);
		off = first < len ? first : len;
	}
	while (off < len && rc == 0) {
		size_t n = len - off < step ? len - off : step;
		rc = podscan_feed(ps, pg + off, n);
		off += n;
	}
	int end = podscan_end(ps, l);
	podscan_free(ps);
	return rc ? (end == -EINVAL ? -EINVAL : end) : end;
}

static void same(const struct got *a, const struct podscan_list *la,
		 const struct got *b, const struct podscan_list *lb)
{
	assert_int_equal(a->n, b->n);
	assert_int_equal(la->npods, lb->npods);
	assert_int_equal(la->nskip, lb->nskip);
	assert_string_equal(la->rv, lb->rv);
	assert_string_equal(la->cont ? la->cont : "-",
			    lb->cont ? lb->cont : "-");
	for (size_t i = 0; i < a->n; i++)
		assert_memory_equal(&a->p[i], &b->p[i], sizeof(a->p[i]));
}

/* A page fed as it arrives gives what it gives whole, wherever it is cut:
 * in a string, an escape, a number, a literal, between items. */
static void test_stream(void **state)
{
	static const char numbers[] =
	    "{\"metadata\":{\"resourceVersion\":\"5\"},\"n\":12345,"
	    "\"items\":[{\"metadata\":{\"name\":\"p\"},\"x\":-1.25e+10,"
	    "\"t\":true,\"f\":false,\"z\":null}],\"m\":678}";
	const char *const good[] = {page, numbers};
	struct got whole, g;
	struct podscan_list lw, l;

	(void)state;
	for (size_t j = 0; j < 2; j++) {
		size_t len = strlen(good[j]);
		assert_int_equal(scan(good[j], &whole, &lw), 0);
		for (size_t cut = 1; cut < len; cut++) {
			assert_int_equal(feed(good[j], len, cut, len, &g, &l),
					 0);
			same(&g, &l, &whole, &lw);
			free(l.cont);
		}
		for (size_t step = 1; step <= 7; step++) {
			assert_int_equal(feed(good[j], len, 0, step, &g, &l),
					 0);
			same(&g, &l, &whole, &lw);
			free(l.cont);
		}
		free(lw.cont);
	}
	/* what is no list whole is none in pieces */
	for (size_t i = 0; bad[i]; i++) {
		size_t len = strlen(bad[i]);
		for (size_t step = 1; step <= 3; step++) {
			int rc = feed(bad[i], len, 0, step, &g, &l);
			if (rc != -EINVAL)
				print_error("accepted in pieces of %zu: %s\n",
					    step, bad[i]);
			assert_int_equal(rc, -EINVAL);
			assert_null(l.cont);
		}
	}
	/* a page cut in the number that ends it: the number was not the
	 * end of it */
	assert_int_equal(
	    feed("{\"metadata\":{\"resourceVersion\":\"1\"},"
		 "\"a\":12 3}",
		 strlen("{\"metadata\":{\"resourceVersion\":\"1\"},"
			"\"a\":12 3}"),
		 0, 1, &g, &l),
	    -EINVAL);
}

/* Items longer than the bytes of one piece, many pieces: each item once,
 * in order; a reset scanner reads the next page. */
static void test_stream_long(void **state)
{
	size_t cap = 1u << 20, len = 0;
	char *pg = malloc(cap);
	struct podscan_list l;
	struct got g;

	(void)state;
	assert_non_null(pg);
	len += (size_t)snprintf(pg, cap,
				"{\"metadata\":{\"resourceVersion\":\"7\","
				"\"continue\":\"next\"},\"items\":[");
	for (int i = 0; i < 12; i++) {
		len += (size_t)snprintf(
		    pg + len, cap - len,
		    "%s{\"metadata\":{\"name\":\"p%d\","
		    "\"namespace\":\"n\"},\"spec\":{\"pad\":\"",
		    i ? "," : "", i);
		/* items of 1 to 40 kB */
		for (int j = 0; j < 1000 + i * 3000; j++)
			pg[len++] = (char)('a' + j % 26);
		len += (size_t)snprintf(pg + len, cap - len,
					"\"},\"status\":{\"phase\":\"Running\","
					"\"podIP\":\"10.0.0.%d\"}}",
					i + 1);
	}
	len += (size_t)snprintf(pg + len, cap - len, "]}");
	struct podscan *ps = podscan_new(collect, &g);
	assert_non_null(ps);
	for (int round = 0; round < 2; round++) {
		memset(&g, 0, sizeof(g));
		podscan_reset(ps);
		for (size_t off = 0; off < len; off += 1000) {
			assert_int_equal(
			    podscan_feed(ps, pg + off,
					 len - off < 1000 ? len - off : 1000),
			    0);
			/* the metadata comes first: its continue is known
			 * from then on */
			if (off >= 100)
				assert_string_equal(podscan_continue(ps),
						    "next");
		}
		assert_int_equal(podscan_end(ps, &l), 0);
		assert_int_equal(l.npods, 12);
		assert_int_equal(g.n, 12);
		for (int i = 0; i < 12; i++) {
			char name[8];
			snprintf(name, sizeof(name), "p%d", i);
			assert_string_equal(g.p[i].name, name);
			assert_int_equal(g.p[i].ips[0].a[3], i + 1);
			assert_true(g.p[i].running);
		}
		assert_string_equal(l.cont, "next");
		free(l.cont);
	}
	/* after an error, feeding fails until a reset */
	podscan_reset(ps);
	assert_int_equal(podscan_feed(ps, "[", 1), -EINVAL);
	assert_int_equal(podscan_feed(ps, "{", 1), -EINVAL);
	assert_int_equal(podscan_end(ps, &l), -EINVAL);
	assert_null(l.cont);
	podscan_free(ps);
	free(pg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_page),
	    cmocka_unit_test(test_not_a_list),
	    cmocka_unit_test(test_stream),
	    cmocka_unit_test(test_stream_long),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
