/*
 * test_decode.c -- JSON and YAML decoding of Services, EndpointSlices, Pods
 * and Namespaces in every input shape, and errors with their positions.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <malloc.h>
#include <string.h>

#include <cmocka.h>

#include "zones/decode.h"
#include "zones/objects.h"
#include "zones/store.h"

#ifndef TEST_SRCDIR
#define TEST_SRCDIR "tests"
#endif

static char *slurp(const char *name, size_t *len)
{
	char path[512];
	FILE *f;
	char *buf;
	long n;

	snprintf(path, sizeof(path), "%s/fixtures/decode/%s", TEST_SRCDIR,
		 name);
	f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* Decode a fixture file into a new store; returns the decoder's result. */
static int load(const char *name, struct store **st, struct decode_err *err)
{
	size_t len;
	char *buf = slurp(name, &len);
	int rc;

	*st = store_new();
	assert_non_null(*st);
	if (strstr(name, ".json"))
		rc = decode_json(buf, len, *st, err);
	else
		rc = decode_yaml(buf, len, *st, err);
	free(buf);
	return rc;
}

static int yaml_str(const char *text, struct store **st, struct decode_err *err)
{
	*st = store_new();
	assert_non_null(*st);
	return decode_yaml(text, strlen(text), *st, err);
}

static int json_str(const char *text, struct store **st, struct decode_err *err)
{
	*st = store_new();
	assert_non_null(*st);
	return decode_json(text, strlen(text), *st, err);
}

static void assert_addr(const struct obj_addr *a, const char *want)
{
	char buf[46];

	assert_string_equal(obj_addr_str(a, buf, sizeof(buf)), want);
}

static void test_json_list(void **state)
{
	struct decode_err err;
	struct store *st;
	const struct obj_service *s;
	const struct obj_slice *sl;
	const struct obj_pod *p;

	(void)state;
	/* Namespace, Service, EndpointSlice, Pod; ConfigMap and the Knative
	 * Service are skipped. */
	assert_int_equal(load("list.json", &st, &err), 4);
	assert_non_null(store_namespace(st, "prod"));
	assert_int_equal(store_count_services(st), 1);
	assert_null(store_service(st, "prod", "knative-web"));

	s = store_service(st, "prod", "web");
	assert_non_null(s);
	assert_int_equal(s->type, OBJ_SVC_CLUSTERIP);
	assert_int_equal(s->nips, 2);
	assert_addr(&s->ips[0], "10.96.12.34");
	assert_addr(&s->ips[1], "fd00:10:96::1234");
	assert_int_equal(s->nports, 2);
	assert_string_equal(s->ports[0].name, "http");
	assert_int_equal(s->ports[0].port, 80);
	assert_int_equal(s->ports[0].proto, OBJ_PROTO_TCP);
	assert_int_equal(s->ports[0].target, 0);
	assert_string_equal(s->ports[0].target_name, "http");
	assert_int_equal(s->ports[1].target, 9091);
	assert_null(s->ports[1].target_name);
	assert_true(s->has_selector);
	assert_int_equal(s->nselector, 1);
	assert_string_equal(s->selector[0].key, "app");
	assert_string_equal(s->selector[0].value, "web");
	assert_false(s->publish_not_ready);

	sl = store_slice(st, "prod", "web-x7k2p");
	assert_non_null(sl);
	assert_string_equal(sl->service, "web");
	assert_int_equal(sl->neps, 2);
	assert_int_equal(sl->eps[0].naddrs, 1);
	assert_addr(&sl->eps[0].addrs[0], "10.244.1.5");
	assert_true(sl->eps[0].ready);
	assert_null(sl->eps[0].hostname);
	assert_string_equal(sl->eps[0].pod_name, "web-7d4b9c-abcde");
	assert_false(sl->eps[1].ready);
	assert_string_equal(sl->eps[1].hostname, "web-b");
	assert_null(sl->eps[1].pod_name);
	assert_int_equal(sl->nports, 1);
	assert_string_equal(sl->ports[0].name, "http");
	assert_int_equal(sl->ports[0].port, 8080);

	p = store_pod(st, "prod", "web-7d4b9c-abcde");
	assert_non_null(p);
	assert_int_equal(p->nips, 2);
	assert_addr(&p->ips[0], "10.244.1.5");
	assert_addr(&p->ips[1], "fd00:10:244:1::5");
	assert_true(p->running);
	assert_false(p->terminal);
	assert_true(p->ready);
	assert_null(p->hostname);
	assert_int_equal(p->nlabels, 2);
	/* Ports of every container, in order. */
	assert_int_equal(p->nports, 2);
	assert_string_equal(p->ports[0].name, "http");
	assert_int_equal(p->ports[0].port, 8080);
	assert_string_equal(p->ports[1].name, "metrics");
	assert_int_equal(p->ports[1].port, 9091);
	assert_int_equal(p->ports[1].proto, OBJ_PROTO_TCP);
	store_free(st);
}

static void test_json_typed_list(void **state)
{
	struct decode_err err;
	struct store *st;
	const struct obj_service *s;

	(void)state;
	assert_int_equal(load("servicelist.json", &st, &err), 4);
	s = store_service(st, "kube-system", "kube-dns");
	assert_non_null(s);
	assert_int_equal(s->nips, 1);
	assert_addr(&s->ips[0], "10.96.0.10");
	assert_int_equal(s->nports, 3);
	assert_int_equal(s->ports[0].proto, OBJ_PROTO_UDP);
	assert_string_equal(s->ports[1].name, "dns-tcp");
	assert_int_equal(s->ports[1].proto, OBJ_PROTO_TCP);
	assert_int_equal(s->ports[2].port, 9153);

	s = store_service(st, "prod", "db");
	assert_non_null(s);
	assert_int_equal(s->type, OBJ_SVC_HEADLESS);
	assert_int_equal(s->nips, 0);
	assert_null(s->ports[0].name);
	assert_int_equal(s->ports[0].proto, OBJ_PROTO_TCP);
	assert_true(s->publish_not_ready);

	s = store_service(st, "prod", "search");
	assert_non_null(s);
	assert_int_equal(s->type, OBJ_SVC_EXTERNALNAME);
	assert_string_equal(s->external_name, "search.example.com");
	assert_false(s->has_selector);

	/* No namespace: "default"; no cluster IP yet: ClusterIP with none. */
	s = store_service(st, "default", "pending");
	assert_non_null(s);
	assert_int_equal(s->type, OBJ_SVC_CLUSTERIP);
	assert_int_equal(s->nips, 0);
	assert_int_equal(s->ports[0].target, 8443);
	store_free(st);
}

static void test_json_stream(void **state)
{
	struct decode_err err;
	struct store *st;
	const struct obj_slice *sl;
	const struct obj_pod *p;

	(void)state;
	/* Three values in one file; the FQDN slice is skipped. */
	assert_int_equal(load("typed-lists.json", &st, &err), 3);
	assert_non_null(store_namespace(st, "dev"));
	p = store_pod(st, "dev", "job-1");
	assert_non_null(p);
	assert_true(p->terminal);
	assert_false(p->running);
	assert_false(p->ready);
	assert_string_equal(p->hostname, "job");
	assert_string_equal(p->subdomain, "jobs");
	assert_int_equal(p->nports, 0);
	sl = store_slice(st, "dev", "jobs-v6");
	assert_non_null(sl);
	assert_null(store_slice(st, "dev", "jobs-fqdn"));
	assert_int_equal(sl->eps[0].addrs[0].family, 6);
	assert_true(sl->eps[0].ready);
	assert_null(sl->ports[0].name);
	assert_int_equal(sl->ports[0].proto, OBJ_PROTO_UDP);
	store_free(st);
}

static void test_yaml_manifests(void **state)
{
	struct decode_err err;
	struct store *st;
	const struct obj_service *s;
	const struct obj_slice *sl;
	const struct obj_pod *p;

	(void)state;
	assert_int_equal(load("manifests.yaml", &st, &err), 4);
	assert_non_null(store_namespace(st, "shop"));
	s = store_service(st, "shop", "cart");
	assert_non_null(s);
	assert_int_equal(s->nips, 1);
	assert_addr(&s->ips[0], "10.96.50.1");
	assert_int_equal(s->nports, 2);
	assert_string_equal(s->ports[0].target_name, "http");
	assert_int_equal(s->ports[1].port, 9000);
	assert_int_equal(s->ports[1].target, 9001);
	assert_false(s->publish_not_ready);

	p = store_pod(st, "shop", "cart-0");
	assert_non_null(p);
	assert_int_equal(p->nlabels, 2);
	assert_string_equal(p->labels[1].key, "tier");
	assert_string_equal(p->labels[1].value, "backend");
	assert_true(p->ready); /* status: True (a YAML boolean) */
	assert_true(p->running);
	assert_int_equal(p->nports, 2);
	assert_int_equal(p->ports[1].port, 53); /* 0x35 */
	assert_int_equal(p->ports[1].proto, OBJ_PROTO_UDP);
	assert_string_equal(p->hostname, "cart-0");
	assert_string_equal(p->subdomain, "cart");

	sl = store_slice(st, "shop", "cart-abc");
	assert_non_null(sl);
	assert_int_equal(sl->neps, 3);
	assert_string_equal(sl->eps[0].pod_name, "cart-0");
	assert_false(sl->eps[1].ready);
	assert_null(sl->eps[1].pod_name); /* targetRef to a Node */
	assert_addr(&sl->eps[1].addrs[0], "10.244.5.8");
	assert_true(sl->eps[2].ready);
	assert_int_equal(sl->ports[1].port, 9001);
	store_free(st);
}

static void test_yaml_scalars(void **state)
{
	struct decode_err err;
	struct store *st;
	const struct obj_service *s;

	(void)state;
	/* Quoted "true" stays a string: a selector value, not a boolean. */
	assert_int_equal(yaml_str("kind: Service\n"
				  "apiVersion: v1\n"
				  "metadata: {name: a}\n"
				  "spec:\n"
				  "  clusterIP: ''\n"
				  "  selector: {canary: \"true\", v: '1'}\n"
				  "  ports: [{port: 80, targetPort: '8080'}]\n"
				  "  publishNotReadyAddresses: true\n",
				  &st, &err),
			 1);
	s = store_service(st, "default", "a");
	assert_non_null(s);
	assert_int_equal(s->nips, 0);
	assert_string_equal(s->selector[0].value, "true");
	assert_string_equal(s->selector[1].value, "1");
	assert_int_equal(s->ports[0].target, 8080);
	assert_true(s->publish_not_ready);
	store_free(st);

	/* Unquoted true is a boolean, so not a valid selector value. */
	assert_int_equal(yaml_str("kind: Service\n"
				  "metadata: {name: a}\n"
				  "spec:\n"
				  "  selector:\n"
				  "    canary: true\n",
				  &st, &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "spec.selector.canary"));
	assert_non_null(strstr(err.msg, "a boolean"));
	assert_int_equal(err.line, 5);
	assert_int_equal(err.col, 13);
	store_free(st);

	/* A quoted port is a string, which a port may not be. */
	assert_int_equal(yaml_str("kind: Service\n"
				  "metadata: {name: a}\n"
				  "spec: {ports: [{port: \"80\"}]}\n",
				  &st, &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "spec.ports[0].port"));
	assert_int_equal(err.line, 3);
	assert_int_equal(err.col, 23);
	store_free(st);

	/* null / ~ count as absent. */
	assert_int_equal(yaml_str("kind: Service\n"
				  "metadata: {name: a, namespace: ~}\n"
				  "spec: {selector: null, ports: }\n",
				  &st, &err),
			 1);
	s = store_service(st, "default", "a");
	assert_non_null(s);
	assert_false(s->has_selector);
	assert_int_equal(s->nports, 0);
	store_free(st);
}

static void test_yaml_typed_list(void **state)
{
	struct decode_err err;
	struct store *st;

	(void)state;
	assert_int_equal(yaml_str("apiVersion: v1\n"
				  "kind: PodList\n"
				  "items:\n"
				  "- metadata: {name: p1, namespace: x}\n"
				  "  status: {podIPs: [{ip: 10.0.0.1}]}\n"
				  "- metadata: {name: p2, namespace: x}\n"
				  "  kind: Pod\n",
				  &st, &err),
			 2);
	assert_int_equal(store_count_pods(st), 2);
	assert_int_equal(store_pod(st, "x", "p1")->nips, 1);
	store_free(st);

	/* An empty stream and a comment-only stream hold nothing. */
	assert_int_equal(yaml_str("", &st, &err), 0);
	store_free(st);
	assert_int_equal(yaml_str("# nothing\n---\n---\n", &st, &err), 0);
	store_free(st);
}

static void test_decode_object(void **state)
{
	struct decode_err err;
	struct decode_obj o;
	cJSON *j;

	(void)state;
	j = cJSON_Parse("{\"metadata\":{\"name\":\"n1\"}}");
	assert_int_equal(decode_object(j, "Namespace", &o, &err), 0);
	assert_int_equal(o.kind, DECODE_NAMESPACE);
	assert_string_equal(o.u.ns->name, "n1");
	obj_namespace_free(o.u.ns);
	/* Without a kind override and without a kind: skipped. */
	assert_int_equal(decode_object(j, NULL, &o, &err), 0);
	assert_int_equal(o.kind, DECODE_OTHER);
	assert_int_equal(decode_object(j, "Secret", &o, &err), 0);
	assert_int_equal(o.kind, DECODE_OTHER);
	cJSON_Delete(j);

	j = cJSON_Parse("{\"kind\":\"Pod\",\"metadata\":{\"name\":\"\"}}");
	assert_int_equal(decode_object(j, NULL, &o, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "metadata.name is missing"));
	assert_int_equal(err.line, 0);
	cJSON_Delete(j);
}

/* The ServiceImports of one fixture, as multicluster.yaml and
 * multicluster.json both have them. */
static void check_imports(struct store *st)
{
	const struct obj_import *im;

	assert_int_equal(store_count_imports(st), 3);
	im = store_import(st, "prod", "web");
	assert_non_null(im);
	assert_int_equal(im->type, OBJ_IMPORT_CLUSTERSETIP);
	assert_int_equal(im->nips, 2);
	assert_addr(&im->ips[0], "10.42.0.1");
	assert_addr(&im->ips[1], "fd00:42::1");
	assert_int_equal(im->nports, 2);
	assert_string_equal(im->ports[0].name, "http");
	assert_int_equal(im->ports[0].port, 80);
	assert_int_equal(im->ports[0].proto, OBJ_PROTO_TCP);
	assert_null(im->ports[1].name);
	assert_int_equal(im->ports[1].proto, OBJ_PROTO_UDP);
	im = store_import(st, "prod", "db");
	assert_non_null(im);
	assert_int_equal(im->type, OBJ_IMPORT_HEADLESS);
	assert_int_equal(im->nips, 0);
	assert_int_equal(im->nports, 1);
	/* no namespace: default; no type and no address: headless */
	im = store_import(st, "default", "cache");
	assert_non_null(im);
	assert_int_equal(im->type, OBJ_IMPORT_HEADLESS);
	assert_true(store_has_namespace(st, "default"));
	/* an import is no Service */
	assert_null(store_service(st, "prod", "web"));
}

/* The multicluster slices: the import's, apart from the Service's. */
static void check_mc_slices(struct store *st)
{
	const struct obj_slice *v[4];
	const struct obj_slice *sl = store_slice(st, "prod", "db-cluster-b");

	assert_non_null(sl);
	assert_string_equal(sl->service, "db");
	assert_string_equal(sl->cluster, "cluster-b");
	assert_int_equal(sl->neps, 2);
	assert_string_equal(sl->eps[0].hostname, "db-0");
	assert_false(sl->eps[1].ready);
	assert_null(store_slice(st, "prod", "db-local")->cluster);
	assert_int_equal(store_mc_slices_of(st, "prod", "db", v, 4), 1);
	assert_ptr_equal(v[0], sl);
	assert_int_equal(store_slices_of(st, "prod", "db", v, 4), 1);
	assert_string_equal(v[0]->name, "db-local");
}

static void test_multicluster(void **state)
{
	struct decode_err err;
	struct store *st;
	const struct obj_slice *v[4];

	(void)state;
	/* 3 imports, 2 slices; the example.com ServiceImport is skipped */
	assert_int_equal(load("multicluster.yaml", &st, &err), 5);
	check_imports(st);
	check_mc_slices(st);
	assert_int_equal(store_del_import(st, "prod", "db"), 0);
	assert_null(store_import(st, "prod", "db"));
	assert_int_equal(store_del_import(st, "prod", "db"), -ENOENT);
	store_free(st);

	assert_int_equal(load("multicluster.json", &st, &err), 3);
	check_imports(st);
	store_free(st);
	assert_int_equal(load("multicluster-slices.json", &st, &err), 2);
	check_mc_slices(st);
	/* a slice replaced with one of a Service's changes groups */
	struct decode_obj o;
	cJSON *j = cJSON_Parse(
	    "{\"apiVersion\":\"discovery.k8s.io/v1\",\"kind\":"
	    "\"EndpointSlice\",\"metadata\":{\"name\":\"db-cluster-b\","
	    "\"namespace\":\"prod\",\"labels\":{\"kubernetes.io/"
	    "service-name\":\"db\"}},\"addressType\":\"IPv4\"}");
	assert_int_equal(decode_object(j, NULL, &o, &err), 0);
	cJSON_Delete(j);
	assert_int_equal(o.kind, DECODE_SLICE);
	assert_int_equal(store_put_slice(st, o.u.slice), 0);
	assert_int_equal(store_mc_slices_of(st, "prod", "db", v, 4), 0);
	assert_int_equal(store_slices_of(st, "prod", "db", v, 4), 2);
	store_free(st);

	/* malformed imports */
	assert_int_equal(yaml_str("apiVersion: multicluster.x-k8s.io/v1alpha1\n"
				  "kind: ServiceImport\nmetadata: {name: a}\n"
				  "spec: {type: LoadBalancer}\n",
				  &st, &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "unknown ServiceImport type"));
	assert_non_null(strstr(err.msg, "ServiceImport default/a"));
	store_free(st);
	assert_int_equal(yaml_str("apiVersion: multicluster.x-k8s.io/v1alpha1\n"
				  "kind: ServiceImport\nmetadata: {name: a}\n"
				  "spec: {ips: [10.0.0.300]}\n",
				  &st, &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "spec.ips[0]"));
	store_free(st);
	assert_int_equal(
	    json_str("{\"apiVersion\":\"multicluster.x-k8s.io/v1alpha1\","
		     "\"kind\":\"ServiceImport\",\"metadata\":{\"name\":"
		     "\"a\"},\"spec\":{\"ports\":[{\"port\":0}]}}",
		     &st, &err),
	    -EINVAL);
	assert_non_null(strstr(err.msg, "spec.ports[0].port"));
	store_free(st);
}

static void test_errors_json(void **state)
{
	struct decode_err err;
	struct store *st;

	(void)state;
	assert_int_equal(load("bad-syntax.json", &st, &err), -EINVAL);
	assert_int_equal(err.line, 5);
	assert_int_equal(err.col, 3);
	assert_non_null(strstr(err.msg, "invalid JSON"));
	store_free(st);

	/* The Namespace before the bad item was stored; the position is
	 * the offending value. */
	assert_int_equal(load("bad-field.json", &st, &err), -EINVAL);
	assert_int_equal(err.line, 11);
	assert_int_equal(err.col, 36);
	assert_non_null(strstr(err.msg, "items[1]"));
	assert_non_null(strstr(err.msg, "Service prod/web"));
	assert_non_null(strstr(err.msg, "spec.ports[0].port"));
	assert_true(store_has_namespace(st, "ok"));
	store_free(st);

	assert_int_equal(json_str("{\"kind\":\"Service\",", &st, &err),
			 -EINVAL);
	assert_int_equal(err.line, 1);
	assert_non_null(strstr(err.msg, "end of the input"));
	store_free(st);

	assert_int_equal(json_str("[1, 2]", &st, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "expected a Kubernetes object"));
	assert_int_equal(err.line, 1);
	assert_int_equal(err.col, 1);
	store_free(st);

	assert_int_equal(json_str("\n\n  {\"kind\": \"Namespace\", "
				  "\"metadata\": {\"name\": 7}}",
				  &st, &err),
			 -EINVAL);
	assert_int_equal(err.line, 3);
	assert_int_equal(err.col, 46);
	assert_non_null(strstr(err.msg, "metadata.name: expected a string"));
	store_free(st);

	assert_int_equal(
	    json_str("{\"kind\":\"Service\",\"metadata\":{\"name\":"
		     "\"x\"},\"spec\":{\"clusterIP\":\"10.1\"}}",
		     &st, &err),
	    -EINVAL);
	assert_non_null(strstr(err.msg, "not an IP address"));
	store_free(st);

	/* An empty clusterIPs falls back to clusterIP (found by the objects
	 * fuzz target: the address went past an empty array). */
	assert_int_equal(
	    json_str("{\"kind\":\"Service\",\"metadata\":{\"name\":"
		     "\"x\"},\"spec\":{\"clusterIPs\":[],"
		     "\"clusterIP\":\"10.0.0.7\"}}",
		     &st, &err),
	    1);
	assert_int_equal(store_service(st, "default", "x")->nips, 1);
	assert_addr(&store_service(st, "default", "x")->ips[0], "10.0.0.7");
	store_free(st);

	/* the path of a field deep in a list, index and all */
	assert_int_equal(
	    json_str(
		"{\"kind\":\"EndpointSlice\",\"metadata\":{\"name\":"
		"\"s\",\"namespace\":\"prod\"},\"addressType\":\"IPv4\","
		"\"endpoints\":[{\"addresses\":[\"10.0.0.1\"]},{\"addresses\""
		":[\"10.0.0.2\"]},{\"addresses\":[\"10.0.0.3\"],"
		"\"hostname\":5}]}",
		&st, &err),
	    -EINVAL);
	assert_non_null(strstr(err.msg, "EndpointSlice prod/s"));
	assert_non_null(strstr(err.msg, "endpoints[2].hostname"));
	store_free(st);

	assert_int_equal(
	    json_str("{\"kind\":\"Service\",\"metadata\":{\"name\":"
		     "\"x\"},\"spec\":{\"type\":\"ExternalName\"}}",
		     &st, &err),
	    -EINVAL);
	assert_non_null(strstr(err.msg, "externalName is missing"));
	store_free(st);

	/* An IPv6 address in an IPv4 slice. */
	assert_int_equal(
	    json_str("{\"kind\":\"EndpointSlice\",\"metadata\":{\"name\":"
		     "\"x\"},\"addressType\":\"IPv4\",\"endpoints\":[{"
		     "\"addresses\":[\"fd00::1\"]}]}",
		     &st, &err),
	    -EINVAL);
	assert_non_null(strstr(err.msg, "endpoints[0].addresses[0]"));
	assert_int_equal(err.col, 97);
	store_free(st);

	assert_int_equal(json_str("", &st, &err), 0);
	store_free(st);
	assert_int_equal(
	    json_str("{\"kind\":\"Namespace\"} garbage", &st, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "metadata is missing"));
	store_free(st);
}

static void test_errors_yaml(void **state)
{
	struct decode_err err;
	struct store *st;

	(void)state;
	assert_int_equal(load("bad-syntax.yaml", &st, &err), -EINVAL);
	assert_int_equal(err.line, 5);
	assert_int_equal(err.col, 13);
	assert_non_null(strstr(err.msg, "invalid YAML"));
	store_free(st);

	/* Second document: a Pod without a name; the error points at its
	 * metadata mapping. */
	assert_int_equal(load("bad-field.yaml", &st, &err), -EINVAL);
	assert_int_equal(err.line, 9);
	assert_int_equal(err.col, 3);
	assert_non_null(strstr(err.msg, "Pod: metadata.name is missing"));
	assert_true(store_has_namespace(st, "fine"));
	store_free(st);

	assert_int_equal(yaml_str("a: &x {b: 1}\n"
				  "c: *x\n",
				  &st, &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "aliases"));
	assert_int_equal(err.line, 2);
	assert_int_equal(err.col, 4);
	store_free(st);

	assert_int_equal(yaml_str("? [a, b]\n: c\n", &st, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "complex mapping keys"));
	store_free(st);

	assert_int_equal(yaml_str("- just\n- a list\n", &st, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "expected a Kubernetes object"));
	store_free(st);

	assert_int_equal(yaml_str("kind: Service\nmetadata: {name: a}\n"
				  "spec: {ports: [{port: 70000}]}\n",
				  &st, &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "not an integer in 1..65535"));
	store_free(st);

	assert_int_equal(yaml_str("kind: Service\nmetadata: {name: a}\n"
				  "spec: {ports: [{port: 53, protocol: ICMP}]}"
				  "\n",
				  &st, &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "unknown protocol"));
	store_free(st);

	assert_int_equal(yaml_str("kind: Pod\nmetadata: {name: a}\n"
				  "status: {podIP: 10.0.0.300}\n",
				  &st, &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "status.podIP"));
	assert_int_equal(err.line, 3);
	store_free(st);
}

/* Garbage of every kind must fail cleanly, never crash. */
static void test_garbage(void **state)
{
	static const char *const inputs[] = {
	    "{",
	    "}",
	    "[",
	    "\"",
	    "{\"a\":",
	    "\xff\xfe",
	    "{\"items\": 5}",
	    "{\"kind\":\"List\",\"items\":[1]}",
	    "{\"kind\":\"Service\",\"metadata\":[]}",
	    "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"},\"spec\":{"
	    "\"containers\":[{\"ports\":[{}]}]}}",
	    "{\"kind\":\"EndpointSlice\",\"metadata\":{\"name\":\"s\"}}",
	    "{\"kind\":7}",
	    "key: [unclosed",
	    "\t- tab",
	    "a: b: c",
	    "kind: Service\nmetadata: {name: [x]}",
	    "kind: Pod\nmetadata: {name: p}\nstatus: {podIPs: [x]}",
	    "kind: Service\nmetadata: {name: s}\nspec: {clusterIPs: 1}",
	    "kind: Service\nmetadata: {name: s}\nspec: {type: Weird}",
	    "kind: EndpointSlice\nmetadata: {name: s}\naddressType: IPv5",
	};
	struct decode_err err;

	(void)state;
	for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		struct store *st = store_new();
		int a = decode_json(inputs[i], strlen(inputs[i]), st, &err);
		int b = decode_yaml(inputs[i], strlen(inputs[i]), st, &err);

		assert_true(a < 0 || b < 0);
		assert_true(err.msg[0] != '\0' || b >= 0);
		store_free(st);
	}
}

/* cJSON's allocations, counted: the live bytes and their peak. */
static size_t live, peak;

static void *count_malloc(size_t n)
{
	void *p = malloc(n);

	if (p && (live += malloc_usable_size(p)) > peak)
		peak = live;
	return p;
}

static void count_free(void *p)
{
	if (p)
		live -= malloc_usable_size(p);
	free(p);
}

/* A ServiceList of n kind-less items with its kind after them, as the API
 * and `kubectl -o json|yaml` order members, in JSON or YAML. */
static char *big_list(size_t n, bool yaml, size_t *len)
{
	size_t cap = n * 160 + 256, o = 0;
	char *b = malloc(cap);

	assert_non_null(b);
	o += (size_t)snprintf(b + o, cap - o, "%s",
			      yaml ? "apiVersion: v1\nitems:\n"
				   : "{\"apiVersion\": \"v1\", \"items\": [\n");
	for (size_t i = 0; i < n; i++) {
		if (yaml)
			o += (size_t)snprintf(
			    b + o, cap - o,
			    "- metadata: {name: s%zu, namespace: big}\n"
			    "  spec: {clusterIP: 10.0.%zu.%zu}\n",
			    i, i / 250, i % 250);
		else
			o += (size_t)snprintf(
			    b + o, cap - o,
			    "%s{\"metadata\": {\"name\": \"s%zu\", "
			    "\"namespace\": \"big\"}, \"spec\": "
			    "{\"clusterIP\": \"10.0.%zu.%zu\"}}\n",
			    i ? "," : "", i, i / 250, i % 250);
	}
	o += (size_t)snprintf(b + o, cap - o, "%s",
			      yaml ? "kind: ServiceList\nmetadata: {}\n"
				   : "], \"kind\": \"ServiceList\", "
				     "\"metadata\": {}}\n");
	*len = o;
	return b;
}

/* A list is decoded an item at a time: the trees alive at once are one
 * item's, however long the list (the document here is over 1 MB). */
static void test_list_streaming(void **state)
{
	cJSON_Hooks hooks = {count_malloc, count_free};
	struct decode_err err;

	(void)state;
	for (int yaml = 0; yaml <= 1; yaml++) {
		size_t len;
		char *doc = big_list(20000, yaml, &len);
		struct store *st = store_new();
		int rc;

		assert_non_null(st);
		assert_true(len > 1000000);
		live = peak = 0;
		cJSON_InitHooks(&hooks);
		rc = yaml ? decode_yaml(doc, len, st, &err)
			  : decode_json(doc, len, st, &err);
		cJSON_InitHooks(NULL);
		assert_int_equal(rc, 20000);
		assert_non_null(store_service(st, "big", "s0"));
		assert_non_null(store_service(st, "big", "s19999"));
		assert_true(peak < 16384);
		store_free(st);
		free(doc);
	}
}

/* What streaming must not change: a kind that is not a list leaves
 * "items" alone; an item's error names it and its place. */
static void test_list_streaming_edges(void **state)
{
	struct decode_err err;
	struct store *st;

	(void)state;
	assert_int_equal(
	    json_str("{\"items\": [{\"kind\": \"Namespace\", \"metadata\": "
		     "{\"name\": \"no\"}}], \"kind\": \"Namespace\", "
		     "\"metadata\": {\"name\": \"yes\"}}",
		     &st, &err),
	    1);
	assert_true(store_has_namespace(st, "yes"));
	assert_false(store_has_namespace(st, "no"));
	store_free(st);
	assert_int_equal(yaml_str("items:\n- kind: Namespace\n"
				  "  metadata: {name: nope}\n"
				  "kind: Namespace\nmetadata: {name: yep}\n",
				  &st, &err),
			 1);
	assert_true(store_has_namespace(st, "yep"));
	assert_false(store_has_namespace(st, "nope"));
	store_free(st);

	/* kind-less items of a typed list whose kind comes last */
	assert_int_equal(yaml_str("items:\n- metadata: {name: a}\n"
				  "- metadata: {name: b}\n"
				  "kind: NamespaceList\n---\n"
				  "kind: List\nitems:\n- kind: Namespace\n"
				  "  metadata: {name: c}\n",
				  &st, &err),
			 3);
	assert_true(store_has_namespace(st, "b"));
	assert_true(store_has_namespace(st, "c"));
	store_free(st);

	/* errors: the item's index, and its line and column */
	assert_int_equal(yaml_str("items:\n- metadata: {name: a}\n"
				  "- metadata: {name: b}\n"
				  "- metadata: {name: 7}\n"
				  "kind: NamespaceList\n",
				  &st, &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "items[2]"));
	assert_int_equal(err.line, 4);
	assert_int_equal(err.col, 20);
	assert_true(store_has_namespace(st, "b"));
	store_free(st);
	assert_int_equal(
	    json_str("{\"items\": [\n{\"metadata\": {\"name\": \"a\"}},\n"
		     "{\"metadata\": {\"name\": 7}}\n], "
		     "\"kind\": \"NamespaceList\"}",
		     &st, &err),
	    -EINVAL);
	assert_non_null(strstr(err.msg, "items[1]"));
	assert_int_equal(err.line, 3);
	assert_int_equal(err.col, 23);
	store_free(st);
	assert_int_equal(
	    json_str("{\"items\": [\n{\"metadata\": {\"name\": \"a\"}},\n"
		     "{\"metadata\": {\"name\": \"b\"]}\n], "
		     "\"kind\": \"NamespaceList\"}",
		     &st, &err),
	    -EINVAL);
	assert_non_null(strstr(err.msg, "invalid JSON near ']'"));
	assert_int_equal(err.line, 3);
	assert_int_equal(err.col, 26);
	store_free(st);
	/* an item list that does not end */
	assert_int_equal(
	    json_str(
		"{\"kind\": \"List\", \"items\": [{\"kind\": \"Namespace\","
		" \"metadata\": {\"name\": \"a\"}},",
		&st, &err),
	    -EINVAL);
	assert_non_null(strstr(err.msg, "end of the input"));
	store_free(st);
}

/* ---- topology: endpoint zones ---- */

static void test_endpoint_zone(void **state)
{
	struct decode_err err;
	struct store *st;
	const struct obj_slice *sl;

	(void)state;
	assert_int_equal(
	    yaml_str("apiVersion: discovery.k8s.io/v1\n"
		     "kind: EndpointSlice\n"
		     "metadata: {name: s, namespace: prod}\n"
		     "addressType: IPv4\n"
		     "endpoints:\n"
		     "  - addresses: [10.0.0.1]\n"
		     "    zone: us-east-1a\n"
		     "    nodeName: node-1\n"
		     "    hints: {forZones: [{name: us-east-1b}]}\n"
		     "  - addresses: [10.0.0.2]\n"
		     "  - addresses: [10.0.0.3]\n"
		     "    zone: \"\"\n"
		     "  - addresses: [10.0.0.4]\n"
		     "    zone: us-east-1a\n",
		     &st, &err),
	    1);
	sl = store_slice(st, "prod", "s");
	assert_non_null(sl);
	assert_int_equal(sl->neps, 4);
	assert_true(sl->eps[0].zone > 0);
	assert_string_equal(obj_zone_name(sl->eps[0].zone), "us-east-1a");
	/* one name, one number: interned */
	assert_int_equal(sl->eps[3].zone, sl->eps[0].zone);
	assert_int_equal(sl->eps[1].zone, 0);
	assert_int_equal(sl->eps[2].zone, 0); /* empty: none */
	store_free(st);

	assert_int_equal(
	    json_str("{\"kind\":\"EndpointSlice\",\"metadata\":{\"name\":"
		     "\"t\",\"namespace\":\"prod\"},\"addressType\":\"IPv6\","
		     "\"endpoints\":[{\"addresses\":[\"fd00::1\"],"
		     "\"zone\":\"eu.corp.example\"}]}",
		     &st, &err),
	    1);
	sl = store_slice(st, "prod", "t");
	assert_string_equal(obj_zone_name(sl->eps[0].zone), "eu.corp.example");
	store_free(st);

	/* a zone that is not a string is an error naming its path */
	assert_int_equal(
	    json_str("{\"kind\":\"EndpointSlice\",\"metadata\":{\"name\":"
		     "\"u\",\"namespace\":\"prod\"},\"addressType\":\"IPv4\","
		     "\"endpoints\":[{\"addresses\":[\"10.0.0.1\"]},"
		     "{\"addresses\":[\"10.0.0.2\"],\"zone\":7}]}",
		     &st, &err),
	    -EINVAL);
	assert_non_null(strstr(err.msg, "endpoints[1].zone"));
	store_free(st);
}

/* topology for every pod: nodeName of endpoints and spec.nodeName of pods,
 * interned, in YAML and JSON, kept by a packed slice. */
static void test_node_names(void **state)
{
	struct decode_err err;
	struct store *st;
	const struct obj_slice *sl;
	const struct obj_pod *p;

	(void)state;
	assert_int_equal(yaml_str("apiVersion: discovery.k8s.io/v1\n"
				  "kind: EndpointSlice\n"
				  "metadata: {name: s, namespace: prod}\n"
				  "addressType: IPv4\n"
				  "endpoints:\n"
				  "  - addresses: [10.0.0.1]\n"
				  "    zone: us-east-1a\n"
				  "    nodeName: node-1\n"
				  "  - addresses: [10.0.0.2]\n"
				  "  - addresses: [10.0.0.3]\n"
				  "    nodeName: \"\"\n"
				  "  - addresses: [10.0.0.4]\n"
				  "    nodeName: node-1\n"
				  "---\n"
				  "kind: Pod\n"
				  "metadata: {name: job-1, namespace: prod}\n"
				  "spec: {nodeName: node-2}\n"
				  "status: {phase: Running, podIP: 10.1.0.9}\n"
				  "---\n"
				  "kind: Pod\n"
				  "metadata: {name: pending, namespace: prod}\n"
				  "status: {phase: Pending}\n",
				  &st, &err),
			 3);
	sl = store_slice(st, "prod", "s");
	assert_non_null(sl);
	assert_true(sl->eps[0].node > 0);
	assert_string_equal(obj_node_name(sl->eps[0].node), "node-1");
	/* one name, one number */
	assert_int_equal(sl->eps[3].node, sl->eps[0].node);
	assert_int_equal(sl->eps[1].node, 0);
	assert_int_equal(sl->eps[2].node, 0); /* empty: none */
	p = store_pod(st, "prod", "job-1");
	assert_non_null(p);
	assert_string_equal(obj_node_name(p->node), "node-2");
	assert_int_not_equal(p->node, sl->eps[0].node);
	assert_int_equal(store_pod(st, "prod", "pending")->node, 0);

	/* the packed form keeps the node beside the zone */
	struct obj_slice *u = calloc(1, sizeof(*u));
	assert_non_null(u);
	u->ns = strdup("prod");
	u->name = strdup("s");
	u->neps = 2;
	u->eps = calloc(2, sizeof(*u->eps));
	assert_non_null(u->eps);
	for (size_t i = 0; i < 2; i++) {
		u->eps[i].addrs = calloc(1, sizeof(*u->eps[i].addrs));
		assert_non_null(u->eps[i].addrs);
		u->eps[i].addrs[0] = sl->eps[i * 3].addrs[0];
		u->eps[i].naddrs = 1;
		u->eps[i].zone = sl->eps[i * 3].zone;
		u->eps[i].node = sl->eps[i * 3].node;
	}
	u->eps[1].node = 0x01020304; /* all four bytes */
	struct obj_slice *pk = obj_slice_pack(u);
	assert_true(pk->packed);
	struct obj_slice *back = obj_slice_unpack(pk);
	assert_non_null(back);
	assert_int_equal(back->neps, 2);
	assert_string_equal(obj_node_name(back->eps[0].node), "node-1");
	assert_string_equal(obj_zone_name(back->eps[0].zone), "us-east-1a");
	assert_int_equal(back->eps[1].node, 0x01020304);
	assert_int_equal(back->eps[1].zone, 0);
	assert_int_equal(back->eps[1].addrs[0].a[3], 4);
	obj_slice_free(back);
	obj_slice_free(pk);
	store_free(st);

	assert_int_equal(
	    json_str("{\"kind\":\"List\",\"items\":[{\"kind\":"
		     "\"EndpointSlice\",\"metadata\":{\"name\":\"t\","
		     "\"namespace\":\"prod\"},\"addressType\":\"IPv6\","
		     "\"endpoints\":[{\"addresses\":[\"fd00::1\"],"
		     "\"zone\":\"eu\",\"nodeName\":\"node-2\"}]},"
		     "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"c\","
		     "\"namespace\":\"prod\"},\"spec\":{\"nodeName\":"
		     "\"node-1\"},\"status\":{\"phase\":\"Running\","
		     "\"podIP\":\"fd00::9\"}}]}",
		     &st, &err),
	    2);
	sl = store_slice(st, "prod", "t");
	assert_string_equal(obj_node_name(sl->eps[0].node), "node-2");
	assert_string_equal(obj_node_name(store_pod(st, "prod", "c")->node),
			    "node-1");
	store_free(st);

	/* a node name that is not a string is an error naming its path */
	assert_int_equal(
	    json_str("{\"kind\":\"EndpointSlice\",\"metadata\":{\"name\":"
		     "\"u\",\"namespace\":\"prod\"},\"addressType\":\"IPv4\","
		     "\"endpoints\":[{\"addresses\":[\"10.0.0.1\"]},"
		     "{\"addresses\":[\"10.0.0.2\"],\"nodeName\":[]}]}",
		     &st, &err),
	    -EINVAL);
	assert_non_null(strstr(err.msg, "endpoints[1].nodeName"));
	store_free(st);
	assert_int_equal(yaml_str("kind: Pod\n"
				  "metadata: {name: p, namespace: prod}\n"
				  "spec: {nodeName: {a: b}}\n",
				  &st, &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "spec.nodeName"));
	store_free(st);
	/* numbers are stable and names come back */
	long a = obj_node_intern("node-x"), b = obj_node_intern("node-y");
	assert_true(a > 0 && b > 0 && a != b);
	assert_int_equal(obj_node_intern("node-x"), a);
	assert_string_equal(obj_node_name((uint32_t)b), "node-y");
	assert_null(obj_node_name(0));
	assert_null(obj_node_name(OBJ_MAX_NODES));
	assert_int_equal(obj_node_intern(""), 0);
}

/* k8s_external's fields: spec.externalIPs, then the load balancer
 * ingress IPs; the first hostname of an ingress without ip. */
static void test_service_external(void **state)
{
	struct decode_err err;
	struct store *st;
	const struct obj_service *s;

	(void)state;
	assert_int_equal(yaml_str("kind: Service\n"
				  "metadata: {name: web, namespace: prod}\n"
				  "spec:\n"
				  "  type: LoadBalancer\n"
				  "  clusterIP: 10.96.0.5\n"
				  "  externalIPs: [198.51.100.7]\n"
				  "status:\n"
				  "  loadBalancer:\n"
				  "    ingress:\n"
				  "      - ip: 203.0.113.10\n"
				  "        hostname: ignored.example.net\n"
				  "      - hostname: lb-1.example.net.\n"
				  "      - ip: \"2001:db8::10\"\n"
				  "        ipMode: Proxy\n"
				  "      - hostname: second.example.net\n",
				  &st, &err),
			 1);
	s = store_service(st, "prod", "web");
	assert_non_null(s);
	assert_int_equal(s->nips, 1);
	assert_int_equal(s->next_ips, 3);
	assert_addr(&s->ext_ips[0], "198.51.100.7");
	assert_addr(&s->ext_ips[1], "203.0.113.10");
	assert_addr(&s->ext_ips[2], "2001:db8::10");
	assert_string_equal(s->lb_hostname, "lb-1.example.net");
	store_free(st);

	/* JSON, a hostname only; headless and ExternalName keep theirs */
	assert_int_equal(
	    json_str("{\"kind\": \"List\", \"items\": [{\"kind\": \"Service\","
		     " \"metadata\": {\"name\": \"lb\", \"namespace\": \"p\"},"
		     " \"spec\": {\"type\": \"LoadBalancer\", \"clusterIP\": "
		     "\"10.96.0.6\"}, \"status\": {\"loadBalancer\": "
		     "{\"ingress\": [{\"hostname\": \"a.example.net\"}]}}},"
		     "{\"kind\": \"Service\", \"metadata\": {\"name\": \"h\","
		     " \"namespace\": \"p\"}, \"spec\": {\"clusterIP\": "
		     "\"None\", \"externalIPs\": [\"192.0.2.77\"]}},"
		     "{\"kind\": \"Service\", \"metadata\": {\"name\": \"n\","
		     " \"namespace\": \"p\"}, \"spec\": {\"clusterIP\": "
		     "\"10.96.0.7\"}, \"status\": {\"loadBalancer\": {}}}]}",
		     &st, &err),
	    3);
	s = store_service(st, "p", "lb");
	assert_int_equal(s->next_ips, 0);
	assert_null(s->ext_ips);
	assert_string_equal(s->lb_hostname, "a.example.net");
	s = store_service(st, "p", "h");
	assert_int_equal(s->type, OBJ_SVC_HEADLESS);
	assert_int_equal(s->next_ips, 1);
	assert_addr(&s->ext_ips[0], "192.0.2.77");
	assert_null(s->lb_hostname);
	s = store_service(st, "p", "n");
	assert_int_equal(s->next_ips, 0);
	assert_null(s->lb_hostname);
	store_free(st);

	/* what the API would refuse is an error that names the field */
	assert_int_equal(yaml_str("kind: Service\n"
				  "metadata: {name: web, namespace: prod}\n"
				  "spec:\n"
				  "  externalIPs: [198.51.100.7, nonsense]\n",
				  &st, &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "spec.externalIPs[1]"));
	assert_non_null(strstr(err.msg, "not an IP address"));
	assert_int_equal(err.line, 4);
	store_free(st);
	assert_int_equal(yaml_str("kind: Service\n"
				  "metadata: {name: web, namespace: prod}\n"
				  "spec: {}\n"
				  "status:\n"
				  "  loadBalancer:\n"
				  "    ingress:\n"
				  "      - ip: 300.1.1.1\n",
				  &st, &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "status.loadBalancer.ingress[0].ip"));
	store_free(st);
	assert_int_equal(json_str("{\"kind\": \"Service\", \"metadata\": "
				  "{\"name\": \"w\", \"namespace\": \"p\"}, "
				  "\"spec\": {}, \"status\": {\"loadBalancer\":"
				  " {\"ingress\": [\"203.0.113.1\"]}}}",
				  &st, &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "status.loadBalancer.ingress[0]: "
					"expected a mapping"));
	store_free(st);
	assert_int_equal(json_str("{\"kind\": \"Service\", \"metadata\": "
				  "{\"name\": \"w\", \"namespace\": \"p\"}, "
				  "\"spec\": {\"externalIPs\": \"1.2.3.4\"}}",
				  &st, &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "spec.externalIPs: expected a list"));
	store_free(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_endpoint_zone),
	    cmocka_unit_test(test_node_names),
	    cmocka_unit_test(test_json_list),
	    cmocka_unit_test(test_json_typed_list),
	    cmocka_unit_test(test_json_stream),
	    cmocka_unit_test(test_yaml_manifests),
	    cmocka_unit_test(test_yaml_scalars),
	    cmocka_unit_test(test_yaml_typed_list),
	    cmocka_unit_test(test_decode_object),
	    cmocka_unit_test(test_multicluster),
	    cmocka_unit_test(test_errors_json),
	    cmocka_unit_test(test_errors_yaml),
	    cmocka_unit_test(test_garbage),
	    cmocka_unit_test(test_list_streaming),
	    cmocka_unit_test(test_list_streaming_edges),
	    cmocka_unit_test(test_service_external),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
