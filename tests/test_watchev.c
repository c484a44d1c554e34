/*
 * test_watchev.c -- decoding watch events: every type, Status errors,
 * objects without kind, broken lines.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "zones/objects.h"
#include "zones/watchev.h"

static int parse(const char *line, const char *kind, struct watchev *ev,
		 char *err)
{
	return watchev_parse(line, strlen(line), kind, ev, err, 256);
}

static void free_obj(struct watchev *ev)
{
	switch (ev->obj.kind) {
	case DECODE_SERVICE:
		obj_service_free(ev->obj.u.svc);
		break;
	case DECODE_SLICE:
		obj_slice_free(ev->obj.u.slice);
		break;
	case DECODE_POD:
		obj_pod_free(ev->obj.u.pod);
		break;
	case DECODE_NAMESPACE:
		obj_namespace_free(ev->obj.u.ns);
		break;
	default:
		break;
	}
}

static void test_added_service(void **state)
{
	struct watchev ev;
	char err[256];

	(void)state;
	assert_int_equal(
	    parse("{\"type\":\"ADDED\",\"object\":{\"kind\":\"Service\","
		  "\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"web\","
		  "\"namespace\":\"prod\",\"resourceVersion\":\"4711\"},"
		  "\"spec\":{\"clusterIP\":\"10.96.1.10\"}}}",
		  "Service", &ev, err),
	    0);
	assert_int_equal(ev.type, WATCHEV_ADDED);
	assert_string_equal(ev.rv, "4711");
	assert_int_equal(ev.obj.kind, DECODE_SERVICE);
	assert_string_equal(ev.obj.u.svc->name, "web");
	assert_int_equal(ev.obj.u.svc->nips, 1);
	free_obj(&ev);
}

static void test_modified_without_kind(void **state)
{
	struct watchev ev;
	char err[256];

	(void)state;
	/* The watched resource's kind is used when the object has none. */
	assert_int_equal(
	    parse("{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{"
		  "\"name\":\"db-1\",\"namespace\":\"prod\","
		  "\"resourceVersion\":\"9\",\"labels\":{\"kubernetes.io/"
		  "service-name\":\"db\"}},\"addressType\":\"IPv4\","
		  "\"endpoints\":[{\"addresses\":[\"10.0.0.1\"]}]}}",
		  "EndpointSlice", &ev, err),
	    0);
	assert_int_equal(ev.type, WATCHEV_MODIFIED);
	assert_int_equal(ev.obj.kind, DECODE_SLICE);
	assert_string_equal(ev.obj.u.slice->service, "db");
	assert_true(ev.obj.u.slice->eps[0].ready);
	free_obj(&ev);
}

static void test_deleted(void **state)
{
	struct watchev ev;
	char err[256];

	(void)state;
	assert_int_equal(parse("{\"type\":\"DELETED\",\"object\":{\"kind\":"
			       "\"Pod\",\"metadata\":{\"name\":\"p\","
			       "\"namespace\":\"ns\",\"resourceVersion\":"
			       "\"12\"},\"status\":{\"podIP\":\"1.2.3.4\"}}}",
			       "Pod", &ev, err),
			 0);
	assert_int_equal(ev.type, WATCHEV_DELETED);
	assert_string_equal(ev.ns, "ns");
	assert_string_equal(ev.name, "p");
	assert_string_equal(ev.rv, "12");
	assert_int_equal(ev.obj.kind, DECODE_OTHER);
	/* Cluster-scoped: no namespace. */
	assert_int_equal(parse("{\"type\":\"DELETED\",\"object\":{\"kind\":"
			       "\"Namespace\",\"metadata\":{\"name\":\"x\"}}}",
			       "Namespace", &ev, err),
			 0);
	assert_string_equal(ev.ns, "");
	assert_string_equal(ev.name, "x");
	/* A deletion without a name cannot be applied. */
	assert_int_equal(parse("{\"type\":\"DELETED\",\"object\":{"
			       "\"metadata\":{\"resourceVersion\":\"13\"}}}",
			       "Pod", &ev, err),
			 -EBADMSG);
	assert_string_equal(ev.rv, "13");
}

static void test_bookmark(void **state)
{
	struct watchev ev;
	char err[256];

	(void)state;
	assert_int_equal(parse("{\"type\":\"BOOKMARK\",\"object\":{\"kind\":"
			       "\"Service\",\"apiVersion\":\"v1\",\"metadata\":"
			       "{\"resourceVersion\":\"99999\"}}}",
			       "Service", &ev, err),
			 0);
	assert_int_equal(ev.type, WATCHEV_BOOKMARK);
	assert_string_equal(ev.rv, "99999");
	assert_int_equal(ev.obj.kind, DECODE_OTHER);
}

static void test_error_status(void **state)
{
	struct watchev ev;
	char err[256];

	(void)state;
	assert_int_equal(
	    parse("{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\","
		  "\"apiVersion\":\"v1\",\"metadata\":{},\"status\":"
		  "\"Failure\",\"message\":\"too old resource version: 5 "
		  "(120)\",\"reason\":\"Expired\",\"code\":410}}",
		  "Service", &ev, err),
	    0);
	assert_int_equal(ev.type, WATCHEV_ERROR);
	assert_int_equal(ev.code, 410);
	assert_string_equal(ev.message, "too old resource version: 5 (120)");
	assert_string_equal(ev.rv, "");
}

static void test_broken(void **state)
{
	struct watchev ev;
	char err[256];

	(void)state;
	assert_int_equal(parse("this is not json", "Service", &ev, err),
			 -EINVAL);
	assert_non_null(strstr(err, "not JSON"));
	assert_int_equal(parse("{\"type\":\"ADDED\"}", "Service", &ev, err),
			 -EINVAL);
	assert_int_equal(parse("{\"object\":{}}", "Service", &ev, err),
			 -EINVAL);
	assert_int_equal(
	    parse("{\"type\":\"ADDED\",\"object\":[]}", "Service", &ev, err),
	    -EINVAL);
	assert_int_equal(parse("{\"type\":\"SOMETHING\",\"object\":{}}",
			       "Service", &ev, err),
			 -EINVAL);
	assert_non_null(strstr(err, "SOMETHING"));
	/* An object that does not decode: skipped, the stream goes on. */
	assert_int_equal(parse("{\"type\":\"ADDED\",\"object\":{\"kind\":"
			       "\"Service\",\"metadata\":{\"namespace\":\"a\","
			       "\"resourceVersion\":\"7\"}}}",
			       "Service", &ev, err),
			 -EBADMSG);
	assert_string_equal(ev.rv, "7");
	/* A kind DNS does not use is no error. */
	assert_int_equal(parse("{\"type\":\"ADDED\",\"object\":{\"kind\":"
			       "\"ConfigMap\",\"metadata\":{\"name\":\"c\"}}}",
			       NULL, &ev, err),
			 0);
	assert_int_equal(ev.obj.kind, DECODE_OTHER);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_added_service),
	    cmocka_unit_test(test_modified_without_kind),
	    cmocka_unit_test(test_deleted),
	    cmocka_unit_test(test_bookmark),
	    cmocka_unit_test(test_error_status),
	    cmocka_unit_test(test_broken),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
