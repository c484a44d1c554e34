/*
 * test_k8s_external.c -- the k8s_external directive's setup: zones,
 * options and defaults, CoreDNS's messages for bad arguments, the
 * hand-over to the block's kubernetes directive, and what a reload keeps.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "server/config.h"
#include "server/k8s_external.h"

static char err[1024];

static struct config *load_ok(const char *text)
{
	struct config *cfg = NULL;
	int rc = config_load_text("Corefile", text, 53, &cfg, err, sizeof(err));

	if (rc != 0)
		print_error("unexpected error: %s\n", err);
	assert_int_equal(rc, 0);
	assert_non_null(cfg);
	return cfg;
}

static void load_fails(const char *text, const char *want)
{
	struct config *cfg = NULL;
	int rc = config_load_text("Corefile", text, 53, &cfg, err, sizeof(err));

	assert_int_equal(rc, -EINVAL);
	assert_null(cfg);
	assert_string_equal(err, want);
}

/* The k8s_external directive of a one-block Corefile with these options
 * (and a kubernetes directive). */
static struct config *with_options(const char *options)
{
	char text[1024];

	snprintf(text, sizeof(text),
		 "example.org cluster.local {\n"
		 "  kubernetes cluster.local\n"
		 "  k8s_external example.org {\n%s  }\n"
		 "}\n",
		 options);
	return load_ok(text);
}

static void test_defaults(void **state)
{
	(void)state;
	struct config *cfg = load_ok("example.org cluster.local:1053 {\n"
				     "  k8s_external\n"
				     "  kubernetes cluster.local\n"
				     "}\n");
	const struct k8s_external_conf *x = cfg->blocks[0].external;

	assert_non_null(x);
	/* the block's keys, as CoreDNS takes them without arguments */
	assert_int_equal(x->nzones, 2);
	assert_string_equal(x->zones[0], "example.org");
	assert_string_equal(x->zones[1], "cluster.local");
	assert_string_equal(x->apex, "dns");
	assert_int_equal(x->ttl, 5);
	assert_false(x->headless);
	assert_false(x->fallthrough);
	/* handed to kubernetes, whatever the order in the block */
	assert_ptr_equal(cfg->blocks[0].kube->external, x);
	assert_int_equal(cfg->nwarnings, 0);
	config_free(cfg);
}

static void test_options(void **state)
{
	(void)state;
	struct config *cfg =
	    with_options("    apex NS-Zone\n"
			 "    ttl 300\n"
			 "    headless\n"
			 "    fallthrough example.org 10.0.0.0/8\n");
	const struct k8s_external_conf *x = cfg->blocks[0].external;

	assert_int_equal(x->nzones, 1);
	assert_string_equal(x->zones[0], "example.org");
	assert_string_equal(x->apex, "ns-zone");
	assert_int_equal(x->ttl, 300);
	assert_true(x->headless);
	assert_true(x->fallthrough);
	assert_int_equal(x->nfallthrough_zones, 2);
	assert_string_equal(x->fallthrough_zones[0], "example.org");
	assert_string_equal(x->fallthrough_zones[1], "10.in-addr.arpa");
	config_free(cfg);

	cfg = with_options("    fallthrough\n    ttl 0\n");
	x = cfg->blocks[0].external;
	assert_true(x->fallthrough);
	assert_int_equal(x->nfallthrough_zones, 0);
	assert_int_equal(x->ttl, 0);
	config_free(cfg);

	/* zones as arguments: names and CIDRs, normalised */
	cfg = load_ok(". {\n  kubernetes cluster.local\n"
		      "  k8s_external Example.ORG. 192.168.0.0/16\n}\n");
	x = cfg->blocks[0].external;
	assert_int_equal(x->nzones, 2);
	assert_string_equal(x->zones[0], "example.org");
	assert_string_equal(x->zones[1], "168.192.in-addr.arpa");
	config_free(cfg);
}

static void test_errors(void **state)
{
	(void)state;
	load_fails(". {\n  kubernetes\n  k8s_external example.org {\n"
		   "    ttl\n  }\n}\n",
		   "Corefile:4 - Error during setup: k8s_external: Wrong "
		   "argument count or unexpected line ending after 'ttl'");
	load_fails(". {\n  kubernetes\n  k8s_external example.org {\n"
		   "    ttl five\n  }\n}\n",
		   "Corefile:4 - Error during setup: k8s_external: "
		   "strconv.Atoi: parsing \"five\": invalid syntax");
	load_fails(". {\n  kubernetes\n  k8s_external example.org {\n"
		   "    ttl 3601\n  }\n}\n",
		   "Corefile:4 - Error during setup: k8s_external: ttl must "
		   "be in range [0, 3600]: 3601");
	load_fails(". {\n  kubernetes\n  k8s_external example.org {\n"
		   "    ttl -1\n  }\n}\n",
		   "Corefile:4 - Error during setup: k8s_external: ttl must "
		   "be in range [0, 3600]: -1");
	load_fails(". {\n  kubernetes\n  k8s_external example.org {\n"
		   "    apex\n  }\n}\n",
		   "Corefile:4 - Error during setup: k8s_external: Wrong "
		   "argument count or unexpected line ending after 'apex'");
	load_fails(". {\n  kubernetes\n  k8s_external example.org {\n"
		   "    apex a.b\n  }\n}\n",
		   "Corefile:4 - Error during setup: k8s_external: apex "
		   "must be a DNS label: 'a.b'");
	load_fails(". {\n  kubernetes\n  k8s_external example.org {\n"
		   "    upstream 8.8.8.8\n  }\n}\n",
		   "Corefile:4 - Error during setup: k8s_external: unknown "
		   "property 'upstream'");
	load_fails(". {\n  kubernetes\n  k8s_external example.org\n"
		   "  k8s_external example.com\n}\n",
		   "Corefile:4 - Error during setup: k8s_external: this "
		   "plugin can only be used once per Server Block");
}

static void test_without_kubernetes(void **state)
{
	(void)state;
	struct config *cfg = load_ok(". {\n  k8s_external example.org\n}\n");

	assert_non_null(cfg->blocks[0].external);
	assert_int_equal(cfg->nwarnings, 1);
	assert_non_null(strstr(cfg->warnings[0], "plugin/k8s_external: "
						 "Corefile:2 - no kubernetes"));
	config_free(cfg);
}

/* A reload keeps the zone unless what builds it changed. */
static void test_same(void **state)
{
	(void)state;
	struct config *a = with_options("    ttl 10\n    headless\n");
	struct config *b = with_options("    headless\n    ttl 10\n"
					"    fallthrough\n");
	struct config *c = with_options("    ttl 10\n");
	struct config *d = with_options("    ttl 10\n    headless\n"
					"    apex ns\n");
	struct config *none = load_ok(". {\n  kubernetes cluster.local\n}\n");

	assert_true(k8s_external_conf_same(a->blocks[0].external,
					   b->blocks[0].external));
	assert_true(kubernetes_conf_same(a->blocks[0].kube, b->blocks[0].kube));
	assert_false(k8s_external_conf_same(a->blocks[0].external,
					    c->blocks[0].external));
	assert_false(k8s_external_conf_same(a->blocks[0].external,
					    d->blocks[0].external));
	assert_false(k8s_external_conf_same(a->blocks[0].external, NULL));
	assert_true(k8s_external_conf_same(NULL, NULL));
	/* the kubernetes directive's zone goes with it */
	assert_false(
	    kubernetes_conf_same(a->blocks[0].kube, none->blocks[0].kube));
	config_free(a);
	config_free(b);
	config_free(c);
	config_free(d);
	config_free(none);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_options),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_without_kubernetes),
	    cmocka_unit_test(test_same),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
