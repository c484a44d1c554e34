/*
 * test_store.c -- the object store: put/replace/delete per kind, the
 * service -> slices and namespace -> pods indexes, namespace refcounts.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "zones/objects.h"
#include "zones/store.h"

static struct obj_service *mk_svc(const char *ns, const char *name)
{
	struct obj_service *s = calloc(1, sizeof(*s));

	s->ns = strdup(ns);
	s->name = strdup(name);
	s->type = OBJ_SVC_HEADLESS;
	return s;
}

static struct obj_slice *mk_slice(const char *ns, const char *name,
				  const char *svc)
{
	struct obj_slice *s = calloc(1, sizeof(*s));

	s->ns = strdup(ns);
	s->name = strdup(name);
	s->service = svc ? strdup(svc) : NULL;
	return s;
}

static struct obj_pod *mk_pod(const char *ns, const char *name)
{
	struct obj_pod *p = calloc(1, sizeof(*p));

	p->ns = strdup(ns);
	p->name = strdup(name);
	return p;
}

static struct obj_namespace *mk_ns(const char *name)
{
	struct obj_namespace *n = calloc(1, sizeof(*n));

	n->name = strdup(name);
	return n;
}

static void test_objects(void **state)
{
	struct obj_addr a;
	char buf[46];
	struct obj_service *s = mk_svc("prod", "web");
	struct obj_pod *p = mk_pod("prod", "web-1");

	(void)state;
	assert_int_equal(obj_addr_parse("10.1.2.3", &a), 0);
	assert_int_equal(a.family, 4);
	assert_int_equal(a.a[3], 3);
	assert_string_equal(obj_addr_str(&a, buf, sizeof(buf)), "10.1.2.3");
	assert_int_equal(obj_addr_parse("fd00:10:244::6", &a), 0);
	assert_int_equal(a.family, 6);
	assert_string_equal(obj_addr_str(&a, buf, sizeof(buf)),
			    "fd00:10:244::6");
	assert_int_equal(obj_addr_parse("10.1.2", &a), -1);
	assert_int_equal(obj_addr_parse("", &a), -1);
	assert_int_equal(obj_addr_parse("None", &a), -1);
	/* every byte's width, as text and as a dashed label: inet_ntop's */
	static const char *const v4[] = {
	    "0.0.0.0",	   "255.255.255.255", "10.0.9.10",  "1.20.100.199",
	    "100.99.10.9", "172.16.205.250",  "192.168.0.1"};
	for (size_t i = 0; i < sizeof(v4) / sizeof(v4[0]); i++) {
		char want[64], dashed[64];
		assert_int_equal(obj_addr_parse(v4[i], &a), 0);
		assert_string_equal(obj_addr_str(&a, buf, sizeof(buf)), v4[i]);
		snprintf(want, sizeof(want), "%s", v4[i]);
		for (char *c = want; *c; c++)
			*c = *c == '.' ? '-' : *c;
		assert_int_equal(obj_addr_dashed(&a, dashed), strlen(want));
		assert_string_equal(dashed, want);
	}
	/* short buffers: as inet_ntop, what fits is written */
	assert_int_equal(obj_addr_parse("255.255.255.255", &a), 0);
	assert_null(obj_addr_str(&a, buf, 15));
	assert_int_equal(obj_addr_parse("10.0.0.1", &a), 0);
	assert_string_equal(obj_addr_str(&a, buf, 9), "10.0.0.1");
	assert_int_equal(obj_addr_parse("::ffff:10.1.2.3", &a), 0);
	char dashed[64];
	assert_int_equal(obj_addr_dashed(&a, dashed), 15);
	assert_string_equal(dashed, "--ffff-10-1-2-3");

	/* No selector selects nothing. */
	assert_false(obj_selects(s, p));
	s->selector = calloc(2, sizeof(*s->selector));
	s->selector[0].key = strdup("app");
	s->selector[0].value = strdup("web");
	s->nselector = 1;
	p->labels = calloc(2, sizeof(*p->labels));
	p->labels[0].key = strdup("tier");
	p->labels[0].value = strdup("front");
	p->labels[1].key = strdup("app");
	p->labels[1].value = strdup("web");
	p->nlabels = 2;
	assert_true(obj_selects(s, p));
	s->selector[1].key = strdup("tier");
	s->selector[1].value = strdup("back");
	s->nselector = 2;
	assert_false(obj_selects(s, p));
	obj_service_free(s);
	obj_pod_free(p);
	obj_service_free(NULL);
	obj_slice_free(NULL);
	obj_pod_free(NULL);
	obj_namespace_free(NULL);
}

static void test_put_replace_delete(void **state)
{
	struct store *st = store_new();
	struct obj_service *s;

	(void)state;
	assert_non_null(st);
	assert_int_equal(store_put_service(st, mk_svc("prod", "web")), 0);
	assert_int_equal(store_put_service(st, mk_svc("prod", "db")), 0);
	assert_int_equal(store_put_service(st, mk_svc("dev", "web")), 0);
	assert_int_equal(store_count_services(st), 3);
	assert_non_null(store_service(st, "prod", "web"));
	assert_null(store_service(st, "prod", "nope"));
	assert_null(store_service(st, "pro", "dweb"));

	s = mk_svc("prod", "web");
	s->type = OBJ_SVC_EXTERNALNAME;
	assert_int_equal(store_put_service(st, s), 0);
	assert_int_equal(store_count_services(st), 3);
	assert_int_equal(store_service(st, "prod", "web")->type,
			 OBJ_SVC_EXTERNALNAME);

	assert_int_equal(store_del_service(st, "prod", "web"), 0);
	assert_int_equal(store_del_service(st, "prod", "web"), -ENOENT);
	assert_null(store_service(st, "prod", "web"));
	assert_non_null(store_service(st, "dev", "web"));
	assert_int_equal(store_count_services(st), 2);

	/* Missing names are refused and the object is still freed. */
	s = mk_svc("prod", "x");
	free(s->name);
	s->name = NULL;
	assert_int_equal(store_put_service(st, s), -EINVAL);
	store_free(st);
}

static int count_cb(const char *name, void *arg)
{
	char *seen = arg;

	strcat(seen, name);
	strcat(seen, ",");
	return 0;
}

static bool ns_seen(struct store *st, const char *name)
{
	char seen[512] = "", pat[64];

	store_each_namespace(st, count_cb, seen);
	snprintf(pat, sizeof(pat), "%s,", name);
	/* Each name once: the first match is also the last. */
	return strstr(seen, pat) && !strstr(strstr(seen, pat) + 1, pat);
}

static int ns_total(struct store *st)
{
	char seen[512] = "";
	int n = 0;

	store_each_namespace(st, count_cb, seen);
	for (char *c = seen; *c; c++)
		n += *c == ',';
	return n;
}

static void test_namespaces(void **state)
{
	struct store *st = store_new();

	(void)state;
	assert_int_equal(ns_total(st), 0);
	assert_int_equal(store_put_namespace(st, mk_ns("prod")), 0);
	assert_int_equal(store_put_namespace(st, mk_ns("prod")), 0);
	assert_int_equal(store_put_service(st, mk_svc("prod", "web")), 0);
	assert_int_equal(store_put_service(st, mk_svc("dev", "web")), 0);
	assert_int_equal(store_put_pod(st, mk_pod("dev", "p")), 0);
	assert_int_equal(store_put_slice(st, mk_slice("ops", "s", NULL)), 0);
	assert_int_equal(ns_total(st), 3);
	assert_true(ns_seen(st, "prod"));
	assert_true(ns_seen(st, "dev"));
	assert_true(ns_seen(st, "ops"));
	assert_true(store_has_namespace(st, "dev"));
	assert_null(store_namespace(st, "dev"));
	assert_non_null(store_namespace(st, "prod"));

	/* dev lives while a service or pod is in it. */
	assert_int_equal(store_del_service(st, "dev", "web"), 0);
	assert_true(store_has_namespace(st, "dev"));
	assert_int_equal(store_del_pod(st, "dev", "p"), 0);
	assert_false(store_has_namespace(st, "dev"));
	/* prod: Namespace object deleted, service keeps it known. */
	assert_int_equal(store_del_namespace(st, "prod"), 0);
	assert_int_equal(store_del_namespace(st, "prod"), -ENOENT);
	assert_true(store_has_namespace(st, "prod"));
	assert_int_equal(store_del_service(st, "prod", "web"), 0);
	assert_false(store_has_namespace(st, "prod"));
	assert_int_equal(store_del_slice(st, "ops", "s"), 0);
	assert_int_equal(ns_total(st), 0);
	/* A Namespace object alone for a namespace objects also use. */
	assert_int_equal(store_put_pod(st, mk_pod("x", "p")), 0);
	assert_int_equal(store_put_namespace(st, mk_ns("x")), 0);
	assert_int_equal(store_del_pod(st, "x", "p"), 0);
	assert_true(store_has_namespace(st, "x"));
	assert_int_equal(ns_total(st), 1);
	store_free(st);
}

static void test_slices_index(void **state)
{
	struct store *st = store_new();
	const struct obj_slice *out[8];

	(void)state;
	assert_int_equal(store_put_slice(st, mk_slice("prod", "web-a", "web")),
			 0);
	assert_int_equal(store_put_slice(st, mk_slice("prod", "web-b", "web")),
			 0);
	assert_int_equal(store_put_slice(st, mk_slice("prod", "db-a", "db")),
			 0);
	assert_int_equal(store_put_slice(st, mk_slice("dev", "web-a", "web")),
			 0);
	assert_int_equal(store_put_slice(st, mk_slice("prod", "lone", NULL)),
			 0);
	assert_int_equal(store_count_slices(st), 5);
	assert_int_equal(store_slices_of(st, "prod", "web", out, 8), 2);
	assert_true((out[0] == store_slice(st, "prod", "web-a") &&
		     out[1] == store_slice(st, "prod", "web-b")) ||
		    (out[1] == store_slice(st, "prod", "web-a") &&
		     out[0] == store_slice(st, "prod", "web-b")));
	/* max limits what is filled, not the count. */
	out[0] = NULL;
	assert_int_equal(store_slices_of(st, "prod", "web", out, 0), 2);
	assert_null(out[0]);
	assert_int_equal(store_slices_of(st, "dev", "web", out, 8), 1);
	assert_int_equal(store_slices_of(st, "dev", "db", out, 8), 0);

	/* Replacing with the same label keeps the index pointing at the
	 * new object. */
	struct obj_slice *n = mk_slice("prod", "web-a", "web");
	assert_int_equal(store_put_slice(st, n), 0);
	assert_int_equal(store_slices_of(st, "prod", "web", out, 8), 2);
	assert_true(out[0] == n || out[1] == n);

	/* The label changes: the slice moves from web to db. */
	n = mk_slice("prod", "web-a", "db");
	assert_int_equal(store_put_slice(st, n), 0);
	assert_int_equal(store_slices_of(st, "prod", "web", out, 8), 1);
	assert_ptr_equal(out[0], store_slice(st, "prod", "web-b"));
	assert_int_equal(store_slices_of(st, "prod", "db", out, 8), 2);
	assert_true(out[0] == n || out[1] == n);
	/* ... and loses its label. */
	n = mk_slice("prod", "web-a", NULL);
	assert_int_equal(store_put_slice(st, n), 0);
	assert_int_equal(store_slices_of(st, "prod", "db", out, 8), 1);
	/* ... and gets one again. */
	assert_int_equal(store_put_slice(st, mk_slice("prod", "web-a", "web")),
			 0);
	assert_int_equal(store_slices_of(st, "prod", "web", out, 8), 2);

	assert_int_equal(store_del_slice(st, "prod", "web-b"), 0);
	assert_int_equal(store_slices_of(st, "prod", "web", out, 8), 1);
	assert_ptr_equal(out[0], store_slice(st, "prod", "web-a"));
	assert_int_equal(store_del_slice(st, "prod", "web-a"), 0);
	assert_int_equal(store_slices_of(st, "prod", "web", out, 8), 0);
	assert_int_equal(store_del_slice(st, "prod", "web-a"), -ENOENT);
	store_free(st);
}

static int pod_cb(const struct obj_pod *p, void *arg)
{
	(*(size_t *)arg)++;
	return p->name[0] == '!' ? 7 : 0;
}

/* Many pods across namespaces, deleted in an order that exercises the
 * swap-remove bookkeeping, checked against the expected membership. */
static void test_pods_index(void **state)
{
	enum { N = 3000 };
	struct store *st = store_new();
	const struct obj_pod **out = calloc(N, sizeof(*out));
	char name[32], ns[8];
	size_t n, seen = 0;

	(void)state;
	for (int i = 0; i < N; i++) {
		snprintf(ns, sizeof(ns), "ns%d", i % 3);
		snprintf(name, sizeof(name), "pod-%d", i);
		assert_int_equal(store_put_pod(st, mk_pod(ns, name)), 0);
	}
	assert_int_equal(store_count_pods(st), N);
	assert_int_equal(store_pods_in(st, "ns1", out, N), N / 3);
	assert_int_equal(store_pods_in(st, "nsX", out, N), 0);
	assert_int_equal(store_each_pod(st, pod_cb, &seen), 0);
	assert_int_equal(seen, N);

	/* Replace one: the namespace list sees the new object. */
	struct obj_pod *p = mk_pod("ns1", "pod-4");
	p->ready = true;
	assert_int_equal(store_put_pod(st, p), 0);
	n = store_pods_in(st, "ns1", out, N);
	assert_int_equal(n, N / 3);
	bool found = false;
	for (size_t i = 0; i < n; i++)
		found |= out[i] == p;
	assert_true(found);

	/* Delete every pod whose number is even, in a scrambled order. */
	for (int k = 0; k < N; k++) {
		int i = (k * 7) % N;

		if (i % 2)
			continue;
		snprintf(ns, sizeof(ns), "ns%d", i % 3);
		snprintf(name, sizeof(name), "pod-%d", i);
		assert_int_equal(store_del_pod(st, ns, name), 0);
	}
	assert_int_equal(store_count_pods(st), N / 2);
	for (int k = 0; k < 3; k++) {
		snprintf(ns, sizeof(ns), "ns%d", k);
		n = store_pods_in(st, ns, out, N);
		assert_int_equal(n, N / 6);
		for (size_t i = 0; i < n; i++) {
			int num = atoi(out[i]->name + 4);

			assert_int_equal(num % 2, 1);
			assert_int_equal(num % 3, k);
			assert_string_equal(out[i]->ns, ns);
			assert_ptr_equal(store_pod(st, ns, out[i]->name),
					 out[i]);
		}
	}
	assert_null(store_pod(st, "ns0", "pod-0"));
	assert_non_null(store_pod(st, "ns1", "pod-1"));

	/* A callback that stops the walk. */
	assert_int_equal(store_put_pod(st, mk_pod("ns0", "!stop")), 0);
	seen = 0;
	assert_int_equal(store_each_pod(st, pod_cb, &seen), 7);
	assert_true(seen <= N / 2 + 1);
	free(out);
	store_free(st);
}

static int svc_cb(const struct obj_service *s, void *arg)
{
	(void)s;
	(*(int *)arg)++;
	return 0;
}

static int slice_cb(const struct obj_slice *s, void *arg)
{
	(void)s;
	(*(int *)arg)++;
	return 0;
}

static void test_walks(void **state)
{
	struct store *st = store_new();
	int n = 0;
	char name[16];

	(void)state;
	for (int i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "s%d", i);
		assert_int_equal(store_put_service(st, mk_svc("a", name)), 0);
		assert_int_equal(store_put_slice(st, mk_slice("a", name, "x")),
				 0);
	}
	for (int i = 0; i < 100; i += 2) {
		snprintf(name, sizeof(name), "s%d", i);
		assert_int_equal(store_del_service(st, "a", name), 0);
	}
	assert_int_equal(store_each_service(st, svc_cb, &n), 0);
	assert_int_equal(n, 50);
	n = 0;
	assert_int_equal(store_each_slice(st, slice_cb, &n), 0);
	assert_int_equal(n, 100);
	for (int i = 1; i < 100; i += 2) {
		snprintf(name, sizeof(name), "s%d", i);
		assert_non_null(store_service(st, "a", name));
	}
	store_free(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_objects),
	    cmocka_unit_test(test_put_replace_delete),
	    cmocka_unit_test(test_namespaces),
	    cmocka_unit_test(test_slices_index),
	    cmocka_unit_test(test_pods_index),
	    cmocka_unit_test(test_walks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
