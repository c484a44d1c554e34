/*
 * test_config.c -- the meaning of a Corefile: keys, bind, errors, log,
 * kubernetes, and every setup error with its file, line and directive.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "server/config.h"

#ifndef TEST_SRCDIR
#define TEST_SRCDIR "tests"
#endif

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

/* Loading fails with -EINVAL and exactly the message want. */
static void load_fails(const char *text, const char *want)
{
	struct config *cfg = NULL;
	int rc = config_load_text("Corefile", text, 53, &cfg, err, sizeof(err));

	assert_int_equal(rc, -EINVAL);
	assert_null(cfg);
	assert_string_equal(err, want);
}

static void assert_strv(char **v, size_t n, size_t want, ...)
{
	va_list ap;

	assert_int_equal(n, want);
	va_start(ap, want);
	for (size_t i = 0; i < want; i++)
		assert_string_equal(v[i], va_arg(ap, const char *));
	va_end(ap);
}

static bool has(char **v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return true;
	return false;
}

/* ------------------------------------------------------------------ */
/* the example and kubeadm-style Corefiles */

static const char example[] = ".:1053 {\n"
			      "    bind 127.0.0.1\n"
			      "    kubernetes cluster.local in-addr.arpa "
			      "ip6.arpa {\n"
			      "        objects tools/examples/cluster\n"
			      "        pods verified\n"
			      "        ttl 30\n"
			      "    }\n"
			      "}\n";

static void check_example(const struct config *cfg, const char *file)
{
	const struct config_block *b;
	const struct kubernetes_conf *k;

	assert_int_equal(cfg->nblocks, 1);
	b = &cfg->blocks[0];
	assert_int_equal(b->nkeys, 1);
	assert_string_equal(b->keys[0].zone, "");
	assert_int_equal(b->keys[0].port, 1053);
	assert_strv(b->bind, b->nbind, 1, "127.0.0.1");
	assert_false(b->errors);
	assert_null(b->log);
	assert_string_equal(b->file, file);
	assert_int_equal(b->line, 1);
	k = b->kube;
	assert_non_null(k);
	assert_strv(k->zones, k->nzones, 3, "cluster.local", "in-addr.arpa",
		    "ip6.arpa");
	assert_string_equal(k->objects, "tools/examples/cluster");
	assert_int_equal(k->pods, KUBERNETES_PODS_VERIFIED);
	assert_int_equal(k->ttl, 30);
	assert_false(k->endpoint_pod_names);
	assert_int_equal(k->nnamespaces, 0);
	assert_false(k->fallthrough);
	assert_false(k->ignore_empty_service);
	assert_false(k->noendpoints);
	assert_string_equal(k->file, file);
	assert_int_equal(k->line, 3);
}

static void test_example(void **state)
{
	struct config *cfg = load_ok(example);

	(void)state;
	check_example(cfg, "Corefile");
	config_free(cfg);
}

static void test_example_file(void **state)
{
	char path[512];
	struct config *cfg = NULL;

	(void)state;
	snprintf(path, sizeof(path), "%s/fixtures/corefile/example.Corefile",
		 TEST_SRCDIR);
	assert_int_equal(config_load(path, 53, &cfg, err, sizeof(err)), 0);
	check_example(cfg, path);
	config_free(cfg);
}

static void test_kubeadm(void **state)
{
	char path[512];
	struct config *cfg = NULL;
	const struct kubernetes_conf *k;
	const struct config_block *b;
	char want[700];

	(void)state;
	/* the stock kubeadm Corefile, as kubeadm writes it */
	snprintf(path, sizeof(path), "%s/fixtures/corefile/kubeadm.Corefile",
		 TEST_SRCDIR);
	assert_int_equal(config_load(path, 53, &cfg, err, sizeof(err)), 0);
	b = &cfg->blocks[0];
	assert_non_null(b->health);
	assert_string_equal(b->health->addr, ":8080");
	assert_int_equal(b->health->lameduck_ms, 5000);
	assert_non_null(b->ready);
	assert_string_equal(b->ready->addr, ":8181");
	assert_non_null(b->prometheus);
	assert_string_equal(b->prometheus->addr, ":9153");
	assert_non_null(b->reload);
	assert_int_equal(b->reload->interval_ms, 30000);
	assert_int_equal(b->reload->jitter_ms, 15000);
	assert_true(b->loop && b->loadbalance && b->errors);
	assert_non_null(b->fwd);
	assert_int_equal(b->fwd->max_concurrent, 1000);
	assert_non_null(b->cache);
	assert_strv(b->cache->conf.no_success, b->cache->conf.nno_success, 1,
		    "cluster.local");
	assert_strv(b->cache->conf.no_denial, b->cache->conf.nno_denial, 1,
		    "cluster.local");
	assert_int_equal(cfg->nwarnings, 0);
	config_free(cfg);
	(void)want;

	snprintf(path, sizeof(path),
		 "%s/fixtures/corefile/kubeadm-objects.Corefile", TEST_SRCDIR);
	assert_int_equal(config_load(path, 5353, &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg->nblocks, 1);
	assert_int_equal(cfg->blocks[0].keys[0].port, 53);
	assert_true(cfg->blocks[0].errors);
	assert_non_null(cfg->blocks[0].log);
	assert_int_equal(cfg->blocks[0].nbind, 0);
	k = cfg->blocks[0].kube;
	assert_int_equal(k->pods, KUBERNETES_PODS_INSECURE);
	assert_true(k->fallthrough);
	assert_strv(k->fallthrough_zones, k->nfallthrough_zones, 2,
		    "in-addr.arpa", "ip6.arpa");
	assert_int_equal(k->ttl, 30);
	assert_int_equal(k->line, 5);
	config_free(cfg);
}

static void test_missing_file(void **state)
{
	struct config *cfg = NULL;

	(void)state;
	assert_int_equal(config_load(TEST_SRCDIR "/fixtures/corefile/nope", 53,
				     &cfg, err, sizeof(err)),
			 -ENOENT);
	assert_null(cfg);
	assert_non_null(strstr(err, "nope"));
}

static void test_no_blocks(void **state)
{
	(void)state;
	load_fails("# empty\n",
		   "Corefile:1 - Error during parsing: no server blocks");
	load_fails("(only) {\n  errors\n}\n",
		   "Corefile:1 - Error during parsing: no server blocks");
}

static void test_parse_error_passes_through(void **state)
{
	(void)state;
	load_fails(". {\n  errors\n}\n}\n",
		   "Corefile:4 - Error during parsing: Unexpected '}' because "
		   "no matching opening brace");
}

/* ------------------------------------------------------------------ */
/* keys */

static void test_keys(void **state)
{
	struct config *cfg = NULL;
	const struct config_block *b;

	(void)state;
	assert_int_equal(config_load_text("Corefile",
					  "dns://Example.ORG. .:1053 "
					  "dns://cluster.local:5300, "
					  "10.0.0.0/24 10.1.0.0/16:54 "
					  "192.0.2.7/8 0.0.0.0/0 "
					  "fd00::/64 2001:db8::/32:55 {\n"
					  "}\n"
					  "other.org {\n"
					  "}\n",
					  5353, &cfg, err, sizeof(err)),
			 0);
	assert_int_equal(cfg->nblocks, 2);
	b = &cfg->blocks[0];
	assert_int_equal(b->nkeys, 9);
	assert_string_equal(b->keys[0].zone, "example.org");
	assert_int_equal(b->keys[0].port, 5353);
	assert_string_equal(b->keys[1].zone, "");
	assert_int_equal(b->keys[1].port, 1053);
	assert_string_equal(b->keys[2].zone, "cluster.local");
	assert_int_equal(b->keys[2].port, 5300);
	assert_string_equal(b->keys[3].zone, "0.0.10.in-addr.arpa");
	assert_int_equal(b->keys[3].port, 5353);
	assert_string_equal(b->keys[4].zone, "1.10.in-addr.arpa");
	assert_int_equal(b->keys[4].port, 54);
	/* host bits are masked off */
	assert_string_equal(b->keys[5].zone, "192.in-addr.arpa");
	assert_string_equal(b->keys[6].zone, "in-addr.arpa");
	assert_string_equal(b->keys[7].zone,
			    "0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa");
	assert_string_equal(b->keys[8].zone, "8.b.d.0.1.0.0.2.ip6.arpa");
	assert_int_equal(b->keys[8].port, 55);
	assert_string_equal(cfg->blocks[1].keys[0].zone, "other.org");
	assert_int_equal(cfg->blocks[1].keys[0].port, 5353);
	assert_int_equal(cfg->blocks[1].line, 3);
	config_free(cfg);
}

static void test_key_errors(void **state)
{
	(void)state;
	load_fails("\n10.0.0.0/20 {\n}\n",
		   "Corefile:2 - Error during parsing: invalid server block "
		   "key '10.0.0.0/20': reverse zone 10.0.0.0/20: the prefix "
		   "length must be a multiple of 8");
	load_fails("fd00::/62 {\n}\n",
		   "Corefile:1 - Error during parsing: invalid server block "
		   "key 'fd00::/62': reverse zone fd00::/62: the prefix "
		   "length must be a multiple of 4");
	load_fails("10.0.0.0/33 {\n}\n",
		   "Corefile:1 - Error during parsing: invalid server block "
		   "key '10.0.0.0/33': invalid CIDR 10.0.0.0/33");
	load_fails("tls://. {\n}\n",
		   "Corefile:1 - Error during parsing: invalid server block "
		   "key 'tls://.': tls:// is not supported, only dns:// is");
	load_fails(". https://example.org {\n}\n",
		   "Corefile:1 - Error during parsing: invalid server block "
		   "key 'https://example.org': https:// is not supported, "
		   "only dns:// is");
	load_fails("grpc://.:443 {\n}\n",
		   "Corefile:1 - Error during parsing: invalid server block "
		   "key 'grpc://.:443': grpc:// is not supported, only dns:// "
		   "is");
	load_fails("example.org:0 {\n}\n",
		   "Corefile:1 - Error during parsing: invalid server block "
		   "key 'example.org:0': invalid port in 'example.org:0'");
	load_fails("example.org:65536 {\n}\n",
		   "Corefile:1 - Error during parsing: invalid server block "
		   "key 'example.org:65536': invalid port in "
		   "'example.org:65536'");
	load_fails("example.org: {\n}\n",
		   "Corefile:1 - Error during parsing: invalid server block "
		   "key 'example.org:': expecting data after last colon: "
		   "'example.org:'");
	load_fails("a..b {\n}\n",
		   "Corefile:1 - Error during parsing: invalid server block "
		   "key 'a..b': zone is not a valid domain name: 'a..b'");
	load_fails(":53 {\n}\n",
		   "Corefile:1 - Error during parsing: invalid server block "
		   "key ':53': zone is not a valid domain name: ''");
	load_fails("a/b {\n}\n",
		   "Corefile:1 - Error during parsing: invalid server block "
		   "key 'a/b': zone is not a valid domain name: 'a/b'");
	load_fails(
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aa.org {\n}\n",
	    "Corefile:1 - Error during parsing: invalid server block "
	    "key "
	    "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaa.org': zone is not a valid domain name: "
	    "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaa.org'");
}

static void test_duplicate_keys(void **state)
{
	struct config *cfg;

	(void)state;
	load_fails("example.org {\n}\n\nEXAMPLE.org. {\n}\n",
		   "Corefile:4 - Error during parsing: cannot serve "
		   "dns://example.org.:53 - it is already defined");
	load_fails(".:1053 {\n}\ndns://.:1053 {\n}\n",
		   "Corefile:3 - Error during parsing: cannot serve "
		   "dns://.:1053 - it is already defined");
	load_fails("a.org b.org a.org. {\n}\n",
		   "Corefile:1 - Error during parsing: cannot serve "
		   "dns://a.org.:53 - it is already defined");
	/* a key on port 53 by default collides with an explicit one */
	load_fails("a.org {\n}\na.org:53 {\n}\n",
		   "Corefile:3 - Error during parsing: cannot serve "
		   "dns://a.org.:53 - it is already defined");
	/* same zone, other port: fine */
	cfg = load_ok("example.org {\n}\nexample.org:1053 {\n}\n");
	assert_int_equal(cfg->nblocks, 2);
	assert_int_equal(cfg->blocks[0].keys[0].port, 53);
	assert_int_equal(cfg->blocks[1].keys[0].port, 1053);
	config_free(cfg);
}

/* ------------------------------------------------------------------ */
/* directives */

static void test_directive_list(void **state)
{
	size_t n = 0;

	(void)state;
	while (config_directives[n])
		n++;
	assert_int_equal(n, 15);
	/* CoreDNS's plugin.cfg order */
	static const char *const want[] = {
	    "reload",	"bind",		"ready",       "health", "prometheus",
	    "errors",	"log",		"loadbalance", "cache",	 "autopath",
	    "transfer", "k8s_external", "kubernetes",  "loop",	 "forward",
	};
	for (size_t i = 0; i < n; i++)
		assert_string_equal(config_directives[i], want[i]);
}

static void test_unknown_directive(void **state)
{
	(void)state;
	load_fails(".:53 {\n"
		   "    errors\n"
		   "\n"
		   "    foo bar\n"
		   "}\n",
		   "Corefile:4 - Error during parsing: Unknown directive "
		   "'foo'");
	load_fails("(s) {\n  bogus\n}\n. {\n  import s\n}\n",
		   "Corefile:2 - Error during parsing: Unknown directive "
		   "'bogus'");
}

static void test_unsupported_directives(void **state)
{
	static const char *const names[] = {
	    "dnssec",  "chaos", "nsid",	     "bufsize", "pprof",
	    "minimal", "hosts", "whoami",    "rewrite", "template",
	    "file",    "etcd",	"secondary",
	};
	char text[256], want[256];

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(text, sizeof(text), ". {\n  errors\n  %s arg\n}\n",
			 names[i]);
		snprintf(want, sizeof(want),
			 "Corefile:3 - Error during parsing: Directive '%s' is "
			 "not supported yet",
			 names[i]);
		load_fails(text, want);
	}
}

/* What a reload may keep: a kubernetes directive that builds the same
 * zone from the same source. */
/* The kubernetes directive of a one-block Corefile with these options. */
static struct config *kube_with(const char *options)
{
	char text[256];

	snprintf(text, sizeof(text),
		 ". {\n  kubernetes cluster.local {\n%s  }\n}\n", options);
	return load_ok(text);
}

static void test_kube_conf_same(void **state)
{
	/* the first: what the others are compared with; then those that
	 * build the same zone, NULL, those that do not */
	static const char *const opts[] = {
	    "    objects /x\n    ttl 30\n",
	    "    objects /x\n    ttl 30\n    fallthrough\n",
	    "    objects /x\n    ttl 30\n    startup_timeout 1s\n",
	    NULL,
	    "    objects /x\n    ttl 31\n",
	    "    objects /y\n    ttl 30\n",
	    "    objects /x\n    ttl 30\n    pods insecure\n",
	    "    objects /x\n    ttl 30\n    namespaces a\n",
	    "    objects /x\n    ttl 30\n    endpoint_pod_names\n",
	};
	struct config *base = kube_with(opts[0]), *cfg;
	bool same = true;

	(void)state;
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		if (!opts[i]) {
			same = false;
			continue;
		}
		cfg = kube_with(opts[i]);
		assert_int_equal(kubernetes_conf_same(base->blocks[0].kube,
						      cfg->blocks[0].kube),
				 same);
		config_free(cfg);
	}
	/* other zones */
	cfg = load_ok(". {\n  kubernetes cluster.local in-addr.arpa {\n    "
		      "objects /x\n    ttl 30\n  }\n}\n");
	assert_false(
	    kubernetes_conf_same(base->blocks[0].kube, cfg->blocks[0].kube));
	config_free(cfg);
	config_free(base);
}

/* The Corefiles operators run CoreDNS with, as written. */
static void test_deployed_corefiles(void **state)
{
	char path[512];
	struct config *cfg = NULL;

	(void)state;
	/* coredns/deployment's coredns.yaml.sed, placeholders filled */
	snprintf(path, sizeof(path),
		 "%s/fixtures/corefile/coredns-deployment.Corefile",
		 TEST_SRCDIR);
	assert_int_equal(config_load(path, 53, &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg->blocks[0].health->lameduck_ms, 5000);
	assert_int_equal(cfg->blocks[0].kube->pods, KUBERNETES_PODS_DISABLED);
	config_free(cfg);

	/* kubeadm of Kubernetes 1.16: upstream is ignored with a warning */
	snprintf(path, sizeof(path),
		 "%s/fixtures/corefile/kubeadm-1.16.Corefile", TEST_SRCDIR);
	assert_int_equal(config_load(path, 53, &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg->nwarnings, 1);
	assert_non_null(strstr(cfg->warnings[0], "upstream"));
	assert_int_equal(cfg->blocks[0].health->lameduck_ms, 0);
	config_free(cfg);

	/* kubeadm of Kubernetes 1.11: proxy is named with its replacement */
	snprintf(path, sizeof(path),
		 "%s/fixtures/corefile/kubeadm-1.11.Corefile", TEST_SRCDIR);
	assert_int_equal(config_load(path, 53, &cfg, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, ":10 - Error during parsing: Directive "
				    "'proxy' was removed from CoreDNS in 1.5; "
				    "use 'forward' instead"));

	/* NodeLocal DNSCache: four blocks on two addresses, prometheus
	 * shared by all, health on one */
	snprintf(path, sizeof(path),
		 "%s/fixtures/corefile/nodelocaldns.Corefile", TEST_SRCDIR);
	assert_int_equal(config_load(path, 53, &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg->nblocks, 4);
	for (size_t i = 0; i < 4; i++) {
		const struct config_block *b = &cfg->blocks[i];
		assert_strv(b->bind, b->nbind, 2, "169.254.20.10",
			    "10.96.0.10");
		assert_string_equal(b->prometheus->addr, ":9253");
		assert_non_null(b->reload);
		assert_true(b->loop);
		assert_int_equal(b->health != NULL, i == 0);
		assert_int_equal(b->fwd->force_tcp, i < 3);
	}
	assert_string_equal(cfg->blocks[0].health->addr, "169.254.20.10:8080");
	assert_int_equal(cfg->blocks[0].cache->conf.success_cap, 9984);
	assert_int_equal(cfg->blocks[0].cache->conf.denial_max_ttl, 5);
	config_free(cfg);
}

static void test_health_ready_prometheus(void **state)
{
	struct config *cfg;

	(void)state;
	cfg =
	    load_ok(". {\n  health 127.0.0.1:9000 {\n    lameduck 1.5s\n  "
		    "}\n  ready [::1]:9001\n  prometheus localhost:9002\n}\n");
	assert_string_equal(cfg->blocks[0].health->addr, "127.0.0.1:9000");
	assert_int_equal(cfg->blocks[0].health->lameduck_ms, 1500);
	assert_string_equal(cfg->blocks[0].ready->addr, "[::1]:9001");
	assert_string_equal(cfg->blocks[0].prometheus->addr, "localhost:9002");
	config_free(cfg);
	cfg = load_ok(". {\n  health\n  prometheus\n}\n");
	assert_string_equal(cfg->blocks[0].health->addr, ":8080");
	assert_int_equal(cfg->blocks[0].health->lameduck_ms, 0);
	assert_string_equal(cfg->blocks[0].prometheus->addr, "localhost:9153");
	assert_null(cfg->blocks[0].ready);
	config_free(cfg);

	load_fails(". {\n  health :1 :2\n}\n",
		   "Corefile:2 - Error during setup: health: Wrong argument "
		   "count or unexpected line ending after 'health'");
	load_fails(". {\n  health 8080\n}\n",
		   "Corefile:2 - Error during setup: health: address 8080: "
		   "missing port in address");
	load_fails(". {\n  health ::1:80\n}\n",
		   "Corefile:2 - Error during setup: health: address ::1:80: "
		   "too many colons in address");
	load_fails(". {\n  health :http\n}\n",
		   "Corefile:2 - Error during setup: health: address :http: "
		   "invalid port");
	load_fails(". {\n  health {\n    lameduck soon\n  }\n}\n",
		   "Corefile:3 - Error during setup: health: unable to parse "
		   "lameduck duration value: 'soon' : time: invalid duration "
		   "\"soon\"");
	load_fails(". {\n  health {\n    lameduck\n  }\n}\n",
		   "Corefile:3 - Error during setup: health: Wrong argument "
		   "count or unexpected line ending after 'lameduck'");
	load_fails(". {\n  health {\n    overload 1s\n  }\n}\n",
		   "Corefile:3 - Error during setup: health: Wrong argument "
		   "count or unexpected line ending after 'overload'");
	load_fails(". {\n  health\n  health :9\n}\n",
		   "Corefile:3 - Error during setup: health: this plugin can "
		   "only be used once per Server Block");
	load_fails(". {\n  ready :1 :2\n}\n",
		   "Corefile:2 - Error during setup: ready: Wrong argument "
		   "count or unexpected line ending after 'ready'");
	load_fails(". {\n  ready [::1:80\n}\n",
		   "Corefile:2 - Error during setup: ready: address [::1:80: "
		   "missing ']' in address");
	load_fails(". {\n  prometheus 10.0.0.1\n}\n",
		   "Corefile:2 - Error during setup: prometheus: address "
		   "10.0.0.1: missing port in address");
	load_fails(". {\n  prometheus\n  prometheus :9\n}\n",
		   "Corefile:3 - Error during setup: prometheus: this plugin "
		   "can only be used once per Server Block");
}

static void test_reload(void **state)
{
	struct config *cfg;

	(void)state;
	cfg = load_ok(". {\n  reload 10s 2s\n}\n");
	assert_int_equal(cfg->blocks[0].reload->interval_ms, 10000);
	assert_int_equal(cfg->blocks[0].reload->jitter_ms, 2000);
	/* the period: interval shifted by [-jitter/2, jitter/2) */
	for (uint64_t r = 0; r < 4000; r += 7) {
		uint64_t p = reload_period_ms(cfg->blocks[0].reload, r);
		assert_true(p >= 9000 && p < 11000);
	}
	config_free(cfg);
	cfg = load_ok(". {\n  reload 10s 6s\n}\n");
	assert_int_equal(cfg->blocks[0].reload->jitter_ms, 5000);
	assert_int_equal(cfg->nwarnings, 1);
	assert_non_null(strstr(cfg->warnings[0], "jitter value is too large"));
	config_free(cfg);

	load_fails(". {\n  reload 1s\n}\n",
		   "Corefile:2 - Error during setup: reload: interval value "
		   "must be greater or equal to 2s");
	load_fails(". {\n  reload 5s 500ms\n}\n",
		   "Corefile:2 - Error during setup: reload: jitter value "
		   "must be greater or equal to 1s");
	load_fails(". {\n  reload 5x\n}\n",
		   "Corefile:2 - Error during setup: reload: time: unknown "
		   "unit \"x\" in duration \"5x\"");
	load_fails(". {\n  reload 5s 2s 1s\n}\n",
		   "Corefile:2 - Error during setup: reload: Wrong argument "
		   "count or unexpected line ending after 'reload'");
}

/* Plugins CoreDNS removed are named as such, with their replacement. */
static void test_removed_directives(void **state)
{
	(void)state;
	/* the kubeadm Corefile of CoreDNS 1.2 to 1.4 */
	load_fails(".:53 {\n"
		   "  errors\n"
		   "  kubernetes cluster.local in-addr.arpa ip6.arpa {\n"
		   "    pods insecure\n"
		   "    upstream\n"
		   "    fallthrough in-addr.arpa ip6.arpa\n"
		   "  }\n"
		   "  cache 30\n"
		   "  proxy . /etc/resolv.conf\n"
		   "  loop\n"
		   "}\n",
		   "Corefile:9 - Error during parsing: Directive 'proxy' was "
		   "removed from CoreDNS in 1.5; use 'forward' instead");
	load_fails(". {\n  proxy . 10.0.0.1 {\n    policy random\n  }\n}\n",
		   "Corefile:2 - Error during parsing: Directive 'proxy' was "
		   "removed from CoreDNS in 1.5; use 'forward' instead");
	load_fails(". {\n  federation cluster.local {\n    prod "
		   "prod.example.org\n  }\n}\n",
		   "Corefile:2 - Error during parsing: Directive 'federation' "
		   "was removed from CoreDNS in 1.7");
	/* names close to them are unknown as before */
	load_fails(". {\n  proxies . 10.0.0.1\n}\n",
		   "Corefile:2 - Error during parsing: Unknown directive "
		   "'proxies'");
}

/* ------------------------------------------------------------------ */
/* forward, loop, loadbalance */

static const struct sockaddr_in *in4(const struct forward_conf *f, size_t i)
{
	assert_int_equal(f->to[i].ss_family, AF_INET);
	return (const struct sockaddr_in *)&f->to[i];
}

static void test_forward_defaults(void **state)
{
	struct config *cfg;
	const struct forward_conf *f;

	(void)state;
	cfg = load_ok(". {\n  forward . 192.0.2.1 dns://192.0.2.2:5353 "
		      "[2001:db8::1]:54 2001:db8::2\n}\n");
	f = cfg->blocks[0].fwd;
	assert_non_null(f);
	assert_strv(f->from, f->nfrom, 1, "");
	assert_int_equal(f->nexcept, 0);
	assert_int_equal(f->nto, 4);
	assert_int_equal(ntohs(in4(f, 0)->sin_port), 53);
	assert_int_equal(ntohl(in4(f, 0)->sin_addr.s_addr), 0xc0000201);
	assert_int_equal(ntohs(in4(f, 1)->sin_port), 5353);
	assert_int_equal(f->to[2].ss_family, AF_INET6);
	assert_int_equal(
	    ntohs(((const struct sockaddr_in6 *)&f->to[2])->sin6_port), 54);
	assert_int_equal(
	    ntohs(((const struct sockaddr_in6 *)&f->to[3])->sin6_port), 53);
	assert_int_equal(f->tolen[3], sizeof(struct sockaddr_in6));
	assert_false(f->force_tcp);
	assert_false(f->prefer_udp);
	assert_int_equal(f->policy, FORWARD_POLICY_RANDOM);
	assert_int_equal(f->health_check_ms, 500);
	assert_int_equal(f->max_fails, 2);
	assert_int_equal(f->expire_ms, 10000);
	assert_int_equal(f->max_concurrent, 0);
	assert_int_equal(f->line, 2);
	assert_false(cfg->blocks[0].loop);
	assert_false(cfg->blocks[0].loadbalance);
	config_free(cfg);
}

static void test_forward_options(void **state)
{
	struct config *cfg;
	const struct forward_conf *f;

	(void)state;
	cfg = load_ok(". {\n"
		      "  loop\n"
		      "  loadbalance round_robin\n"
		      "  forward Example.ORG. 192.0.2.1:53 {\n"
		      "    except a.example.org b.example.org\n"
		      "    force_tcp\n"
		      "    policy sequential\n"
		      "    health_check 2s no_rec domain Probe.Example.\n"
		      "    max_fails 0\n"
		      "    expire 1m\n"
		      "    max_concurrent 1000\n"
		      "  }\n"
		      "}\n");
	f = cfg->blocks[0].fwd;
	assert_strv(f->from, f->nfrom, 1, "example.org");
	assert_strv(f->except, f->nexcept, 2, "a.example.org", "b.example.org");
	assert_true(f->force_tcp);
	assert_int_equal(f->policy, FORWARD_POLICY_SEQUENTIAL);
	assert_int_equal(f->health_check_ms, 2000);
	assert_true(f->health_no_rec);
	assert_string_equal(f->health_domain, "probe.example");
	assert_int_equal(f->max_fails, 0);
	assert_int_equal(f->expire_ms, 60000);
	assert_int_equal(f->max_concurrent, 1000);
	assert_true(cfg->blocks[0].loop);
	assert_true(cfg->blocks[0].loadbalance);
	config_free(cfg);

	cfg = load_ok(". {\n  forward 10.1.0.0/16 192.0.2.1 {\n"
		      "    policy round_robin\n    prefer_udp\n  }\n}\n");
	f = cfg->blocks[0].fwd;
	assert_strv(f->from, f->nfrom, 1, "1.10.in-addr.arpa");
	assert_int_equal(f->policy, FORWARD_POLICY_ROUND_ROBIN);
	assert_true(f->prefer_udp);
	config_free(cfg);
}

static void test_forward_resolv_conf(void **state)
{
	char path[] = "/tmp/test_config_resolv.XXXXXX";
	char text[256];
	struct config *cfg;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	const char *rc = "# comment\nsearch example.org\nnameserver 192.0.2.7\n"
			 "options ndots:5\nnameserver fe80::1%eth0\n";
	assert_int_equal(write(fd, rc, strlen(rc)), (ssize_t)strlen(rc));
	close(fd);
	snprintf(text, sizeof(text),
		 ". {\n  forward . %s {\n    max_concurrent 1000\n  }\n}\n",
		 path);
	cfg = load_ok(text);
	const struct forward_conf *f = cfg->blocks[0].fwd;
	assert_int_equal(f->nto, 2);
	assert_int_equal(ntohl(in4(f, 0)->sin_addr.s_addr), 0xc0000207);
	assert_int_equal(ntohs(in4(f, 0)->sin_port), 53);
	assert_int_equal(f->to[1].ss_family, AF_INET6);
	config_free(cfg);

	/* a file without nameservers */
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_int_equal(write(fd, "search x\n", 9), 9);
	close(fd);
	char want[512];
	snprintf(want, sizeof(want),
		 "Corefile:2 - Error during setup: forward: no nameservers "
		 "found in %s",
		 path);
	snprintf(text, sizeof(text), ". {\n  forward . %s\n}\n", path);
	load_fails(text, want);
	unlink(path);
}

static void test_forward_errors(void **state)
{
	(void)state;
	load_fails(". {\n  forward .\n}\n",
		   "Corefile:2 - Error during setup: forward: Wrong argument "
		   "count or unexpected line ending after 'forward'");
	load_fails(". {\n  forward . nosuch-host\n}\n",
		   "Corefile:2 - Error during setup: forward: not an IP "
		   "address or file: \"nosuch-host\"");
	load_fails(". {\n  forward . 192.0.2.1:99999\n}\n",
		   "Corefile:2 - Error during setup: forward: invalid port in "
		   "'192.0.2.1:99999'");
	load_fails(". {\n  forward . tls://192.0.2.1\n}\n",
		   "Corefile:2 - Error during setup: forward: tls:// is not "
		   "supported, only dns:// is");
	load_fails(". {\n  forward . 1.1.1.1 1.1.1.2 1.1.1.3 1.1.1.4 1.1.1.5 "
		   "1.1.1.6 1.1.1.7 1.1.1.8 1.1.1.9 1.1.1.10 1.1.1.11 1.1.1.12 "
		   "1.1.1.13 1.1.1.14 1.1.1.15 1.1.1.16\n}\n",
		   "Corefile:2 - Error during setup: forward: more than 15 TOs "
		   "configured");
	load_fails(". {\n  forward . 192.0.2.1 {\n    policy fastest\n  "
		   "}\n}\n",
		   "Corefile:3 - Error during setup: forward: unknown policy "
		   "'fastest'");
	load_fails(". {\n  forward . 192.0.2.1 {\n    max_fails -1\n  }\n}\n",
		   "Corefile:3 - Error during setup: forward: max_fails can't "
		   "be negative: -1");
	load_fails(". {\n  forward . 192.0.2.1 {\n    max_concurrent x\n  "
		   "}\n}\n",
		   "Corefile:3 - Error during setup: forward: strconv.Atoi: "
		   "parsing \"x\": invalid syntax");
	load_fails(". {\n  forward . 192.0.2.1 {\n    health_check 5x\n  "
		   "}\n}\n",
		   "Corefile:3 - Error during setup: forward: time: unknown "
		   "unit \"x\" in duration \"5x\"");
	load_fails(". {\n  forward . 192.0.2.1 {\n    force_tcp yes\n  }\n}\n",
		   "Corefile:3 - Error during setup: forward: Wrong argument "
		   "count or unexpected line ending after 'force_tcp'");
	load_fails(". {\n  forward . 192.0.2.1 {\n    force_tcp\n    "
		   "prefer_udp\n  }\n}\n",
		   "Corefile:2 - Error during setup: forward: force_tcp and "
		   "prefer_udp are mutually exclusive");
	load_fails(". {\n  forward . 192.0.2.1 {\n    bogus\n  }\n}\n",
		   "Corefile:3 - Error during setup: forward: unknown property "
		   "'bogus'");
	load_fails(". {\n  forward . 192.0.2.1 {\n    tls\n  }\n}\n",
		   "Corefile:3 - Error during setup: forward: option 'tls' is "
		   "not supported yet");
	load_fails(". {\n  forward . 192.0.2.1\n  forward . 192.0.2.2\n}\n",
		   "Corefile:3 - Error during setup: forward: only one forward "
		   "directive per server block is supported");
	load_fails(". {\n  loop x\n}\n",
		   "Corefile:2 - Error during setup: loop: Wrong argument "
		   "count or unexpected line ending after 'loop'");
	load_fails(". {\n  loop\n  loop\n}\n",
		   "Corefile:3 - Error during setup: loop: this plugin can "
		   "only be used once per Server Block");
	load_fails(". {\n  loadbalance weighted\n}\n",
		   "Corefile:2 - Error during setup: loadbalance: unknown "
		   "policy: weighted");
}

static void test_bind(void **state)
{
	struct config *cfg;
	const struct config_block *b;

	(void)state;
	cfg = load_ok(". {\n"
		      "  bind 127.0.0.1 ::1 127.0.0.1\n"
		      "  bind 192.0.2.1 {\n"
		      "    except 127.0.0.1\n"
		      "    198.51.100.1 2001:db8::1\n"
		      "  }\n"
		      "}\n"
		      "a.org {\n"
		      "}\n");
	b = &cfg->blocks[0];
	/* duplicates dropped, exceptions applied, order kept */
	assert_strv(b->bind, b->nbind, 4, "::1", "192.0.2.1", "198.51.100.1",
		    "2001:db8::1");
	assert_int_equal(cfg->blocks[1].nbind, 0);
	config_free(cfg);

	/* the block form alone */
	cfg = load_ok(". {\n  bind {\n    127.0.0.1\n  }\n}\n");
	assert_strv(cfg->blocks[0].bind, cfg->blocks[0].nbind, 1, "127.0.0.1");
	config_free(cfg);

	/* except compares addresses, not spellings */
	cfg = load_ok(". {\n  bind ::1 2001:db8::1 {\n    except "
		      "2001:DB8:0::1\n  }\n}\n");
	assert_strv(cfg->blocks[0].bind, cfg->blocks[0].nbind, 1, "::1");
	config_free(cfg);
}

static void test_bind_interface(void **state)
{
	struct ifaddrs *ifa, *i;
	struct config *cfg;
	const struct config_block *b;
	bool lo6 = false;

	(void)state;
	/* does the loopback interface carry ::1 here? */
	assert_int_equal(getifaddrs(&ifa), 0);
	for (i = ifa; i; i = i->ifa_next)
		if (strcmp(i->ifa_name, "lo") == 0 && i->ifa_addr &&
		    i->ifa_addr->sa_family == AF_INET6)
			lo6 = true;
	freeifaddrs(ifa);

	cfg = load_ok(". {\n  bind lo\n}\n");
	b = &cfg->blocks[0];
	assert_true(has(b->bind, b->nbind, "127.0.0.1"));
	assert_int_equal(has(b->bind, b->nbind, "::1"), lo6);
	config_free(cfg);

	cfg = load_ok(". {\n  bind lo {\n    except 127.0.0.1\n  }\n}\n");
	b = &cfg->blocks[0];
	assert_false(has(b->bind, b->nbind, "127.0.0.1"));
	config_free(cfg);

	if (!lo6)
		load_fails(". {\n  bind lo {\n    except 127.0.0.1\n  }\n}\n",
			   "Corefile:2 - Error during setup: bind: no address "
			   "left to bind to after 'except'");
	else
		load_fails(". {\n  bind lo {\n    except lo\n  }\n}\n",
			   "Corefile:2 - Error during setup: bind: no address "
			   "left to bind to after 'except'");
}

static void test_bind_errors(void **state)
{
	(void)state;
	load_fails(". {\n  bind no-such-iface0\n}\n",
		   "Corefile:2 - Error during setup: bind: not a valid IP "
		   "address or interface name: 'no-such-iface0'");
	load_fails(". {\n  bind 127.0.0.1 {\n    except 300.1.1.1\n  }\n}\n",
		   "Corefile:3 - Error during setup: bind: not a valid IP "
		   "address or interface name: '300.1.1.1'");
	load_fails(". {\n  bind\n}\n",
		   "Corefile:2 - Error during setup: bind: Wrong argument "
		   "count or unexpected line ending after 'bind'");
	load_fails(". {\n  bind {\n    except 127.0.0.1\n  }\n}\n",
		   "Corefile:2 - Error during setup: bind: Wrong argument "
		   "count or unexpected line ending after 'bind'");
	load_fails(". {\n  bind 127.0.0.1 {\n    except\n  }\n}\n",
		   "Corefile:3 - Error during setup: bind: Wrong argument "
		   "count or unexpected line ending after 'except'");
	load_fails(". {\n  bind 127.0.0.1 127.0.0.2 {\n    except 127.0.0.1 "
		   "127.0.0.2\n  }\n}\n",
		   "Corefile:2 - Error during setup: bind: no address left "
		   "to bind to after 'except'");
	load_fails(
	    ". {\n  bind 127.0.0.1 {\n    except 127.0.0.1 {\n      x\n    }\n"
	    "  }\n}\n",
	    "Corefile:3 - Error during setup: bind: 'except' takes no "
	    "block");
}

static void test_errors_directive(void **state)
{
	struct config *cfg = load_ok(". {\n  errors\n}\na.org {\n}\n");

	(void)state;
	assert_true(cfg->blocks[0].errors);
	assert_false(cfg->blocks[1].errors);
	config_free(cfg);
	cfg = load_ok(". {\n  errors {\n  }\n}\n");
	assert_true(cfg->blocks[0].errors);
	config_free(cfg);

	load_fails(". {\n  errors stdout\n}\n",
		   "Corefile:2 - Error during setup: errors: Wrong argument "
		   "count or unexpected line ending after 'errors'");
	load_fails(". {\n  errors {\n    consolidate 5m \".*\"\n  }\n}\n",
		   "Corefile:3 - Error during setup: errors: option "
		   "'consolidate' is not supported yet");
	load_fails(". {\n  errors\n  errors\n}\n",
		   "Corefile:3 - Error during setup: errors: this plugin can "
		   "only be used once per Server Block");
}

static void test_log(void **state)
{
	struct config *cfg;
	const struct log_conf *l;

	(void)state;
	cfg = load_ok(". {\n  log\n}\n");
	l = cfg->blocks[0].log;
	assert_non_null(l);
	assert_int_equal(l->nnames, 0);
	assert_string_equal(l->format, LOG_FORMAT_COMMON);
	assert_string_equal(l->format,
			    "{remote}:{port} - {>id} \"{type} {class} {name} "
			    "{proto} {size} {>do} {>bufsize}\" {rcode} "
			    "{>rflags} {rsize} {duration}");
	assert_int_equal(l->classes, LOG_CLASS_ALL);
	config_free(cfg);

	cfg = load_ok(". {\n  log Example.ORG. . {combined}\n}\n");
	l = cfg->blocks[0].log;
	assert_strv(l->names, l->nnames, 2, "example.org", "");
	assert_string_equal(l->format, LOG_FORMAT_COMMON " \"{>opcode}\"");
	config_free(cfg);

	cfg = load_ok(". {\n  log example.org {common}\n}\n");
	l = cfg->blocks[0].log;
	assert_strv(l->names, l->nnames, 1, "example.org");
	assert_string_equal(l->format, LOG_FORMAT_COMMON);
	config_free(cfg);

	/* a last argument with a brace is the format, even alone */
	cfg = load_ok(". {\n  log \"{remote} asked {name} {type}\"\n}\n");
	l = cfg->blocks[0].log;
	assert_int_equal(l->nnames, 0);
	assert_string_equal(l->format, "{remote} asked {name} {type}");
	config_free(cfg);

	cfg = load_ok(". {\n  log example.org {\n    class denial\n"
		      "    class error success\n  }\n}\n");
	l = cfg->blocks[0].log;
	assert_strv(l->names, l->nnames, 1, "example.org");
	assert_int_equal(l->classes, LOG_CLASS_DENIAL | LOG_CLASS_ERROR |
					 LOG_CLASS_SUCCESS);
	config_free(cfg);

	cfg = load_ok(". {\n  log {\n    class denial\n  }\n}\n");
	assert_int_equal(cfg->blocks[0].log->classes, LOG_CLASS_DENIAL);
	config_free(cfg);

	cfg = load_ok(". {\n  log {\n    class all\n  }\n}\n");
	assert_int_equal(cfg->blocks[0].log->classes, LOG_CLASS_ALL);
	config_free(cfg);
}

static void test_log_errors(void **state)
{
	(void)state;
	load_fails(". {\n  log {\n    class denial nothing\n  }\n}\n",
		   "Corefile:3 - Error during setup: log: invalid class "
		   "'nothing', must be all, success, denial or error");
	load_fails(". {\n  log {\n    class\n  }\n}\n",
		   "Corefile:3 - Error during setup: log: Wrong argument count "
		   "or unexpected line ending after 'class'");
	load_fails(". {\n  log {\n    format x\n  }\n}\n",
		   "Corefile:3 - Error during setup: log: unknown property "
		   "'format'");
	load_fails(". {\n  log\n  log\n}\n",
		   "Corefile:3 - Error during setup: log: only one log "
		   "directive per server block is supported");
	load_fails(". {\n  log a..b\n}\n",
		   "Corefile:2 - Error during setup: log: zone is not a valid "
		   "domain name: 'a..b'");
}

/* ------------------------------------------------------------------ */
/* cache */

static void test_cache_defaults(void **state)
{
	struct config *cfg;
	const struct cache_conf *cf;

	(void)state;
	cfg = load_ok("example.org cluster.local:1053 {\n  cache\n}\n");
	assert_non_null(cfg->blocks[0].cache);
	assert_int_equal(cfg->blocks[0].cache->line, 2);
	cf = &cfg->blocks[0].cache->conf;
	assert_strv(cf->zones, cf->nzones, 2, "example.org", "cluster.local");
	assert_int_equal(cf->success_cap, 9984);
	assert_int_equal(cf->denial_cap, 9984);
	assert_int_equal(cf->success_max_ttl, 3600);
	assert_int_equal(cf->denial_max_ttl, 1800);
	assert_int_equal(cf->success_min_ttl, 5);
	assert_int_equal(cf->denial_min_ttl, 5);
	assert_int_equal(cf->servfail_ttl, 5);
	assert_int_equal(cf->prefetch, 0);
	assert_int_equal(cf->prefetch_window_ms, 60000);
	assert_int_equal(cf->prefetch_pct, 10);
	assert_int_equal(cf->stale_ms, 0);
	assert_false(cf->keepttl);
	assert_int_equal(cf->nno_success, 0);
	assert_int_equal(cf->nno_denial, 0);
	config_free(cfg);

	/* the TTL caps both; other arguments are zones */
	cfg = load_ok(". {\n  cache 30 Example.ORG. 10.0.0.0/8\n}\n");
	cf = &cfg->blocks[0].cache->conf;
	assert_int_equal(cf->success_max_ttl, 30);
	assert_int_equal(cf->denial_max_ttl, 30);
	assert_strv(cf->zones, cf->nzones, 2, "example.org", "10.in-addr.arpa");
	config_free(cfg);

	/* kubeadm's: cluster answers stay out of the cache */
	cfg = load_ok(".:53 {\n"
		      "    cache 30 {\n"
		      "        disable success cluster.local\n"
		      "        disable denial cluster.local\n"
		      "    }\n"
		      "}\n");
	cf = &cfg->blocks[0].cache->conf;
	assert_strv(cf->zones, cf->nzones, 1, "");
	assert_strv(cf->no_success, cf->nno_success, 1, "cluster.local");
	assert_strv(cf->no_denial, cf->nno_denial, 1, "cluster.local");
	config_free(cfg);
}

static void test_cache_options(void **state)
{
	struct config *cfg;
	const struct cache_conf *cf;

	(void)state;
	cfg = load_ok(". {\n"
		      "  cache 300 {\n"
		      "    success 5000 60 10\n"
		      "    denial 2500 30 0\n"
		      "    prefetch 10 2m 25%\n"
		      "    serve_stale 30m VERIFY\n"
		      "    servfail 1m\n"
		      "    disable success a.org B.org.\n"
		      "    disable denial\n"
		      "    keepttl\n"
		      "  }\n"
		      "}\n");
	cf = &cfg->blocks[0].cache->conf;
	assert_int_equal(cf->success_cap, 5000);
	assert_int_equal(cf->success_max_ttl, 60);
	assert_int_equal(cf->success_min_ttl, 10);
	assert_int_equal(cf->denial_cap, 2500);
	assert_int_equal(cf->denial_max_ttl, 30);
	assert_int_equal(cf->denial_min_ttl, 0);
	assert_int_equal(cf->prefetch, 10);
	assert_int_equal(cf->prefetch_window_ms, 120000);
	assert_int_equal(cf->prefetch_pct, 25);
	assert_int_equal(cf->stale_ms, 1800000);
	assert_true(cf->stale_verify);
	assert_int_equal(cf->servfail_ttl, 60);
	assert_strv(cf->no_success, cf->nno_success, 2, "a.org", "b.org");
	assert_strv(cf->no_denial, cf->nno_denial, 1, "");
	assert_true(cf->keepttl);
	config_free(cfg);

	/* defaults of the options' own arguments */
	cfg = load_ok(". {\n"
		      "  cache {\n"
		      "    success 100\n"
		      "    prefetch 2\n"
		      "    serve_stale\n"
		      "    servfail 0\n"
		      "  }\n"
		      "}\n");
	cf = &cfg->blocks[0].cache->conf;
	assert_int_equal(cf->success_cap, 100);
	assert_int_equal(cf->success_max_ttl, 3600);
	assert_int_equal(cf->prefetch, 2);
	assert_int_equal(cf->prefetch_window_ms, 60000);
	assert_int_equal(cf->prefetch_pct, 10);
	assert_int_equal(cf->stale_ms, 3600000);
	assert_false(cf->stale_verify);
	assert_int_equal(cf->servfail_ttl, 0);
	config_free(cfg);

	cfg =
	    load_ok(". {\n  cache {\n    serve_stale 10s immediate\n  }\n}\n");
	cf = &cfg->blocks[0].cache->conf;
	assert_int_equal(cf->stale_ms, 10000);
	assert_false(cf->stale_verify);
	config_free(cfg);
}

/* One cache option that must fail with CoreDNS's words. */
static void cache_fails(const char *option, const char *want)
{
	char text[256], full[512];

	snprintf(text, sizeof(text), ". {\n  cache {\n    %s\n  }\n}\n",
		 option);
	snprintf(full, sizeof(full), "Corefile:3 - Error during setup: %s",
		 want);
	load_fails(text, full);
}

static void test_cache_errors(void **state)
{
	(void)state;
	load_fails(". {\n  cache 0\n}\n",
		   "Corefile:2 - Error during setup: cache: cache TTL can not "
		   "be zero or negative: 0");
	load_fails(". {\n  cache -5\n}\n",
		   "Corefile:2 - Error during setup: cache: cache TTL can not "
		   "be zero or negative: -5");
	load_fails(". {\n  cache\n  cache\n}\n",
		   "Corefile:3 - Error during setup: cache: this plugin can "
		   "only be used once per Server Block");
	load_fails(". {\n  cache 30 a..b\n}\n",
		   "Corefile:2 - Error during setup: cache: zone is not a "
		   "valid domain name: 'a..b'");
	cache_fails("success", "cache: Wrong argument count or unexpected "
			       "line ending after 'success'");
	cache_fails("success x", "cache: strconv.Atoi: parsing \"x\": "
				 "invalid syntax");
	cache_fails("success 10 0",
		    "cache: cache TTL can not be zero or negative: 0");
	cache_fails("denial 10 20 -1",
		    "cache: cache min TTL can not be negative: -1");
	cache_fails("denial 10 5s",
		    "cache: strconv.Atoi: parsing \"5s\": invalid syntax");
	cache_fails("prefetch", "cache: Wrong argument count or unexpected "
				"line ending after 'prefetch'");
	cache_fails("prefetch 1 1m 10% x",
		    "cache: Wrong argument count or unexpected line ending "
		    "after 'prefetch'");
	cache_fails("prefetch -1",
		    "cache: prefetch amount should be positive: -1");
	cache_fails("prefetch 1 5x",
		    "cache: time: unknown unit \"x\" in duration \"5x\"");
	cache_fails("prefetch 1 1m 10",
		    "cache: last character of percentage should be `%`, but "
		    "is: '0'");
	cache_fails("prefetch 1 1m 5%",
		    "cache: percentage should fall in range [10, 90]: 5");
	cache_fails("prefetch 1 1m 95%",
		    "cache: percentage should fall in range [10, 90]: 95");
	cache_fails("prefetch 1 1m x%",
		    "cache: strconv.Atoi: parsing \"x\": invalid syntax");
	cache_fails("serve_stale 1h verify x",
		    "cache: Wrong argument count or unexpected line ending "
		    "after 'serve_stale'");
	cache_fails("serve_stale -1h",
		    "cache: invalid negative duration for serve_stale");
	cache_fails("serve_stale 1h Later",
		    "cache: invalid value for serve_stale refresh mode: later");
	cache_fails("servfail", "cache: Wrong argument count or unexpected "
				"line ending after 'servfail'");
	cache_fails("servfail -1s", "cache: invalid negative ttl for servfail");
	cache_fails("servfail 6m", "cache: caching SERVFAIL responses over 5 "
				   "minutes is not permitted");
	cache_fails("disable", "cache: Wrong argument count or unexpected "
			       "line ending after 'disable'");
	cache_fails("disable all a.org",
		    "cache: cache type for disable must be \"success\" or "
		    "\"denial\"");
	cache_fails("disable success a..org",
		    "cache: invalid disabled zone: a..org");
	cache_fails("keepttl 1", "cache: Wrong argument count or unexpected "
				 "line ending after 'keepttl'");
	cache_fails("bogus 1", "cache: Wrong argument count or unexpected "
			       "line ending after 'bogus'");
}

/* ------------------------------------------------------------------ */
/* kubernetes */

static void test_kube_defaults(void **state)
{
	struct config *cfg = load_ok("cluster.local 10.0.0.0/24:53 {\n"
				     "  kubernetes {\n"
				     "    objects /srv/objects\n"
				     "  }\n"
				     "}\n");
	const struct kubernetes_conf *k = cfg->blocks[0].kube;

	(void)state;
	/* zones from the keys */
	assert_strv(k->zones, k->nzones, 2, "cluster.local",
		    "0.0.10.in-addr.arpa");
	assert_string_equal(k->objects, "/srv/objects");
	assert_int_equal(k->pods, KUBERNETES_PODS_DISABLED);
	assert_int_equal(k->ttl, 5);
	assert_false(k->endpoint_pod_names);
	assert_int_equal(k->nnamespaces, 0);
	assert_null(k->namespaces);
	assert_false(k->fallthrough);
	assert_int_equal(k->nfallthrough_zones, 0);
	assert_false(k->ignore_empty_service);
	assert_false(k->noendpoints);
	assert_int_equal(k->line, 2);
	assert_null(k->endpoint);
	assert_null(k->tls_cert);
	assert_null(k->tls_key);
	assert_null(k->tls_cacert);
	assert_null(k->kubeconfig);
	assert_null(k->kubeconfig_context);
	assert_null(k->labels);
	assert_null(k->namespace_labels);
	assert_int_equal(k->startup_timeout_ms, 5000);
	assert_int_equal(k->resync_period_ms, 30 * 60 * 1000);
	config_free(cfg);
}

static void test_kube_options_ok(void **state)
{
	struct config *cfg;
	const struct kubernetes_conf *k;

	(void)state;
	setenv("CFG_TTL", "3600", 1);
	cfg = load_ok(".:1053 {\n"
		      "  kubernetes Cluster.Local. 10.96.0.0/16 "
		      "cluster.local {\n"
		      "    objects \"dir with space\"\n"
		      "    pods insecure\n"
		      "    ttl {$CFG_TTL}\n"
		      "    endpoint_pod_names\n"
		      "    namespaces default kube-system\n"
		      "    namespaces prod default\n"
		      "    fallthrough\n"
		      "    ignore empty_service\n"
		      "    noendpoints\n"
		      "  }\n"
		      "}\n");
	unsetenv("CFG_TTL");
	k = cfg->blocks[0].kube;
	assert_strv(k->zones, k->nzones, 2, "cluster.local",
		    "96.10.in-addr.arpa");
	assert_string_equal(k->objects, "dir with space");
	assert_int_equal(k->pods, KUBERNETES_PODS_INSECURE);
	assert_int_equal(k->ttl, 3600);
	assert_true(k->endpoint_pod_names);
	assert_strv(k->namespaces, k->nnamespaces, 3, "default", "kube-system",
		    "prod");
	assert_true(k->fallthrough);
	assert_int_equal(k->nfallthrough_zones, 0);
	assert_true(k->ignore_empty_service);
	assert_true(k->noendpoints);
	config_free(cfg);

	cfg = load_ok("cluster.local {\n  kubernetes {\n    objects x\n"
		      "    ttl 0\n    pods disabled\n"
		      "    fallthrough Cluster.Local. sub.cluster.local\n"
		      "  }\n}\n");
	k = cfg->blocks[0].kube;
	assert_int_equal(k->ttl, 0);
	assert_int_equal(k->pods, KUBERNETES_PODS_DISABLED);
	assert_true(k->fallthrough);
	assert_strv(k->fallthrough_zones, k->nfallthrough_zones, 2,
		    "cluster.local", "sub.cluster.local");
	config_free(cfg);

	/* kubernetes zones inside the keys, in several blocks */
	cfg = load_ok("example.org {\n  kubernetes sub.example.org {\n"
		      "    objects a\n  }\n}\n"
		      "cluster.local in-addr.arpa {\n"
		      "  kubernetes cluster.local 10.0.0.0/8 {\n"
		      "    objects b\n    pods verified\n  }\n}\n");
	assert_strv(cfg->blocks[0].kube->zones, cfg->blocks[0].kube->nzones, 1,
		    "sub.example.org");
	assert_strv(cfg->blocks[1].kube->zones, cfg->blocks[1].kube->nzones, 2,
		    "cluster.local", "10.in-addr.arpa");
	assert_string_equal(cfg->blocks[1].kube->objects, "b");
	assert_int_equal(cfg->blocks[1].kube->line, 7);
	config_free(cfg);
}

static void test_kube_errors(void **state)
{
	(void)state;
	load_fails(".:53 {\n"
		   "  kubernetes cluster.local {\n"
		   "    objects dir\n"
		   "\n"
		   "    ttl 9000\n"
		   "  }\n"
		   "}\n",
		   "Corefile:5 - Error during setup: kubernetes: ttl must be "
		   "in range [0, 3600]: 9000");
	load_fails(". {\n  kubernetes {\n    objects d\n    ttl -1\n  }\n}\n",
		   "Corefile:4 - Error during setup: kubernetes: ttl must be "
		   "in range [0, 3600]: -1");
	load_fails(". {\n  kubernetes {\n    objects d\n    ttl 3601\n  }\n}\n",
		   "Corefile:4 - Error during setup: kubernetes: ttl must be "
		   "in range [0, 3600]: 3601");
	load_fails(". {\n  kubernetes {\n    objects d\n    ttl "
		   "99999999999999999999999\n  }\n}\n",
		   "Corefile:4 - Error during setup: kubernetes: ttl must be "
		   "in range [0, 3600]: 99999999999999999999999");
	load_fails(". {\n  kubernetes {\n    objects d\n    ttl 5s\n  }\n}\n",
		   "Corefile:4 - Error during setup: kubernetes: ttl must be "
		   "an integer: 5s");
	load_fails(". {\n  kubernetes {\n    objects d\n    ttl\n  }\n}\n",
		   "Corefile:4 - Error during setup: kubernetes: Wrong "
		   "argument count or unexpected line ending after 'ttl'");
	load_fails(". {\n  kubernetes {\n    objects d\n    ttl 1 2\n  }\n}\n",
		   "Corefile:4 - Error during setup: kubernetes: Wrong "
		   "argument count or unexpected line ending after 'ttl'");
	load_fails(". {\n  kubernetes {\n    objects\n  }\n}\n",
		   "Corefile:3 - Error during setup: kubernetes: Wrong "
		   "argument count or unexpected line ending after 'objects'");
	load_fails(". {\n  kubernetes {\n    objects a b\n  }\n}\n",
		   "Corefile:3 - Error during setup: kubernetes: Wrong "
		   "argument count or unexpected line ending after 'objects'");
	load_fails(
	    ". {\n  kubernetes {\n    objects d\n    pods maybe\n  }\n}\n",
	    "Corefile:4 - Error during setup: kubernetes: invalid pods "
	    "mode 'maybe', must be disabled, insecure or verified");
	load_fails(". {\n  kubernetes {\n    objects d\n    pods\n  }\n}\n",
		   "Corefile:4 - Error during setup: kubernetes: Wrong "
		   "argument count or unexpected line ending after 'pods'");
	load_fails(". {\n  kubernetes {\n    objects d\n    namespaces\n  }\n"
		   "}\n",
		   "Corefile:4 - Error during setup: kubernetes: Wrong "
		   "argument count or unexpected line ending after "
		   "'namespaces'");
	load_fails(". {\n  kubernetes {\n    objects d\n    "
		   "endpoint_pod_names x\n  }\n}\n",
		   "Corefile:4 - Error during setup: kubernetes: Wrong "
		   "argument count or unexpected line ending after "
		   "'endpoint_pod_names'");
	load_fails(". {\n  kubernetes {\n    objects d\n    noendpoints x\n"
		   "  }\n}\n",
		   "Corefile:4 - Error during setup: kubernetes: Wrong "
		   "argument count or unexpected line ending after "
		   "'noendpoints'");
	load_fails(". {\n  kubernetes {\n    objects d\n    ignore\n  }\n}\n",
		   "Corefile:4 - Error during setup: kubernetes: Wrong "
		   "argument count or unexpected line ending after 'ignore'");
	load_fails(". {\n  kubernetes {\n    objects d\n    ignore "
		   "empty_pods\n  }\n}\n",
		   "Corefile:4 - Error during setup: kubernetes: unable to "
		   "parse ignore value: 'empty_pods'");
	load_fails(". {\n  kubernetes {\n    objects d\n    fallthrough a..b\n"
		   "  }\n}\n",
		   "Corefile:4 - Error during setup: kubernetes: zone is not "
		   "a valid domain name: 'a..b'");
	load_fails(
	    ". {\n  kubernetes {\n    objects d\n    upstreams\n  }\n}\n",
	    "Corefile:4 - Error during setup: kubernetes: unknown "
	    "property 'upstreams'");
	load_fails(". {\n  kubernetes {\n    objects d\n    ttl 5 {\n      x\n"
		   "    }\n  }\n}\n",
		   "Corefile:4 - Error during setup: kubernetes: 'ttl' takes "
		   "no block");
	load_fails(". {\n  kubernetes {\n    objects d\n  }\n"
		   "  kubernetes {\n    objects e\n  }\n}\n",
		   "Corefile:5 - Error during setup: kubernetes: this plugin "
		   "can only be used once per Server Block");
}

/* multicluster ZONES: among the kubernetes zones, not reverse, at least
 * one; the zones are kept normalised. */
static void test_kube_multicluster(void **state)
{
	struct config *cfg;
	struct kubernetes_conf *k;

	(void)state;
	cfg = load_ok(". {\n  kubernetes cluster.local ClusterSet.Local. {\n"
		      "    objects d\n    multicluster clusterset.local\n"
		      "  }\n}\n");
	k = cfg->blocks[0].kube;
	assert_strv(k->multicluster, k->nmulticluster, 1, "clusterset.local");
	config_free(cfg);
	cfg = load_ok(". {\n  kubernetes cluster.local {\n    objects d\n"
		      "  }\n}\n");
	assert_int_equal(cfg->blocks[0].kube->nmulticluster, 0);
	config_free(cfg);
	load_fails(". {\n  kubernetes cluster.local {\n    objects d\n"
		   "    multicluster clusterset.local\n  }\n}\n",
		   "Corefile:4 - Error during setup: kubernetes: is not "
		   "authoritative for the multicluster zone clusterset.local: "
		   "list it among the kubernetes zones");
	load_fails(". {\n  kubernetes cluster.local in-addr.arpa {\n"
		   "    objects d\n    multicluster in-addr.arpa\n  }\n}\n",
		   "Corefile:4 - Error during setup: kubernetes: multicluster "
		   "zone in-addr.arpa is a reverse zone");
	load_fails(". {\n  kubernetes cluster.local {\n    objects d\n"
		   "    multicluster\n  }\n}\n",
		   "Corefile:4 - Error during setup: kubernetes: Wrong "
		   "argument count or unexpected line ending after "
		   "'multicluster'");
}

/* The kubeadm Corefiles of CoreDNS 1.2 to 1.6 have `upstream`: accepted,
 * ignored, and a warning for the log at startup. */
static void test_kube_upstream_ignored(void **state)
{
	struct config *cfg;
	const char *want = "'upstream' is deprecated and ignored: names "
			   "outside the cluster are resolved through "
			   "'forward'; remove the line";
	char line[512];

	(void)state;
	cfg = load_ok(".:53 {\n"
		      "  errors\n"
		      "  kubernetes cluster.local in-addr.arpa ip6.arpa {\n"
		      "    pods insecure\n"
		      "    upstream\n"
		      "    fallthrough in-addr.arpa ip6.arpa\n"
		      "  }\n"
		      "}\n"
		      ".:54 {\n"
		      "  kubernetes cluster.local {\n"
		      "    upstream /etc/resolv.conf\n"
		      "    objects d\n"
		      "  }\n"
		      "}\n");
	assert_int_equal(cfg->nwarnings, 2);
	snprintf(line, sizeof(line), "plugin/kubernetes: Corefile:5 - %s",
		 want);
	assert_string_equal(cfg->warnings[0], line);
	snprintf(line, sizeof(line), "plugin/kubernetes: Corefile:11 - %s",
		 want);
	assert_string_equal(cfg->warnings[1], line);
	/* the options around it still count */
	assert_int_equal(cfg->blocks[0].kube->pods, KUBERNETES_PODS_INSECURE);
	assert_true(cfg->blocks[0].kube->fallthrough);
	assert_string_equal(cfg->blocks[1].kube->objects, "d");
	config_free(cfg);

	cfg = load_ok(". {\n  kubernetes {\n    objects d\n  }\n}\n");
	assert_int_equal(cfg->nwarnings, 0);
	assert_null(cfg->warnings);
	config_free(cfg);

	/* a warning does not outlive a later error */
	load_fails(". {\n  kubernetes {\n    upstream\n    ttl x\n  }\n}\n",
		   "Corefile:4 - Error during setup: kubernetes: ttl must be "
		   "an integer: x");
	load_fails(". {\n  kubernetes {\n    upstream {\n      x\n    }\n  "
		   "}\n}\n",
		   "Corefile:3 - Error during setup: kubernetes: 'upstream' "
		   "takes no block");
}

/* A kubernetes block with opts (lines joined with "\n    "). */
static struct config *load_kube(const char *opts)
{
	char text[1024];

	snprintf(text, sizeof(text), ". {\n  kubernetes {\n    %s\n  }\n}\n",
		 opts);
	return load_ok(text);
}

static void kube_fails(const char *opts, const char *want)
{
	char text[1024];

	snprintf(text, sizeof(text), ". {\n  kubernetes {\n    %s\n  }\n}\n",
		 opts);
	load_fails(text, want);
}

static void test_kube_api_sources(void **state)
{
	struct config *cfg;
	const struct kubernetes_conf *k;

	(void)state;
	/* no objects: the API, in-cluster by default */
	cfg = load_ok(".:53 {\n  kubernetes cluster.local {\n"
		      "    pods insecure\n  }\n}\n");
	k = cfg->blocks[0].kube;
	assert_null(k->objects);
	assert_null(k->endpoint);
	assert_null(k->kubeconfig);
	assert_int_equal(k->pods, KUBERNETES_PODS_INSECURE);
	config_free(cfg);
	cfg = load_ok(". {\n  kubernetes\n}\n");
	assert_null(cfg->blocks[0].kube->objects);
	config_free(cfg);

	cfg = load_kube("endpoint https://10.0.0.1:6443\n"
			"    tls /etc/k/client.crt /etc/k/client.key "
			"/etc/k/ca.crt");
	k = cfg->blocks[0].kube;
	assert_string_equal(k->endpoint, "https://10.0.0.1:6443");
	assert_string_equal(k->tls_cert, "/etc/k/client.crt");
	assert_string_equal(k->tls_key, "/etc/k/client.key");
	assert_string_equal(k->tls_cacert, "/etc/k/ca.crt");
	assert_null(k->kubeconfig);
	config_free(cfg);

	/* tls may come first; the last endpoint wins */
	cfg = load_kube("tls c k ca\n    endpoint https://a\n"
			"    endpoint HTTP://[::1]:8080/");
	assert_string_equal(cfg->blocks[0].kube->endpoint,
			    "HTTP://[::1]:8080/");
	config_free(cfg);

	cfg = load_kube("kubeconfig kube/config");
	k = cfg->blocks[0].kube;
	assert_string_equal(k->kubeconfig, "kube/config");
	assert_null(k->kubeconfig_context);
	assert_null(k->endpoint);
	config_free(cfg);

	cfg = load_kube("kubeconfig /etc/kubeconfig other\n"
			"    kubeconfig /etc/kubeconfig2");
	k = cfg->blocks[0].kube;
	assert_string_equal(k->kubeconfig, "/etc/kubeconfig2");
	assert_null(k->kubeconfig_context);
	config_free(cfg);
	cfg = load_kube("kubeconfig /etc/kubeconfig kind-dev");
	assert_string_equal(cfg->blocks[0].kube->kubeconfig_context,
			    "kind-dev");
	config_free(cfg);

	/* argument errors */
	kube_fails("endpoint",
		   "Corefile:3 - Error during setup: kubernetes: Wrong "
		   "argument count or unexpected line ending after "
		   "'endpoint'");
	kube_fails("endpoint https://a https://b",
		   "Corefile:3 - Error during setup: kubernetes: multiple "
		   "endpoints are not supported, give one URL");
	kube_fails("endpoint 10.0.0.1:6443",
		   "Corefile:3 - Error during setup: kubernetes: invalid "
		   "endpoint '10.0.0.1:6443': must be an http:// or https:// "
		   "URL with a host");
	kube_fails("endpoint ftp://h",
		   "Corefile:3 - Error during setup: kubernetes: invalid "
		   "endpoint 'ftp://h': must be an http:// or https:// URL "
		   "with a host");
	kube_fails("endpoint https://",
		   "Corefile:3 - Error during setup: kubernetes: invalid "
		   "endpoint 'https://': must be an http:// or https:// URL "
		   "with a host");
	kube_fails("endpoint https://h\n    tls a b",
		   "Corefile:4 - Error during setup: kubernetes: Wrong "
		   "argument count or unexpected line ending after 'tls'");
	kube_fails("endpoint https://h\n    tls a b c d",
		   "Corefile:4 - Error during setup: kubernetes: Wrong "
		   "argument count or unexpected line ending after 'tls'");
	kube_fails("kubeconfig",
		   "Corefile:3 - Error during setup: kubernetes: Wrong "
		   "argument count or unexpected line ending after "
		   "'kubeconfig'");
	kube_fails("kubeconfig a b c",
		   "Corefile:3 - Error during setup: kubernetes: Wrong "
		   "argument count or unexpected line ending after "
		   "'kubeconfig'");
	kube_fails("endpoint https://h {\n      x\n    }",
		   "Corefile:3 - Error during setup: kubernetes: 'endpoint' "
		   "takes no block");

	/* sources that exclude each other, named at the later option */
	kube_fails("objects d\n    endpoint https://h",
		   "Corefile:4 - Error during setup: kubernetes: 'objects' "
		   "and 'endpoint' cannot be used together: objects reads "
		   "manifests, not the Kubernetes API");
	kube_fails("endpoint https://h\n    tls a b c\n    objects d",
		   "Corefile:5 - Error during setup: kubernetes: 'objects' "
		   "and 'endpoint' cannot be used together: objects reads "
		   "manifests, not the Kubernetes API");
	kube_fails("tls a b c\n    objects d",
		   "Corefile:4 - Error during setup: kubernetes: 'objects' "
		   "and 'tls' cannot be used together: objects reads "
		   "manifests, not the Kubernetes API");
	kube_fails("kubeconfig f\n    pods verified\n    objects d",
		   "Corefile:5 - Error during setup: kubernetes: 'objects' "
		   "and 'kubeconfig' cannot be used together: objects reads "
		   "manifests, not the Kubernetes API");
	kube_fails("kubeconfig f\n    endpoint https://h",
		   "Corefile:4 - Error during setup: kubernetes: 'endpoint' "
		   "and 'kubeconfig' cannot be used together: give one way to "
		   "reach the API");
	kube_fails("endpoint https://h\n    kubeconfig f ctx",
		   "Corefile:4 - Error during setup: kubernetes: 'endpoint' "
		   "and 'kubeconfig' cannot be used together: give one way to "
		   "reach the API");
	kube_fails("tls a b c",
		   "Corefile:3 - Error during setup: kubernetes: 'tls' needs "
		   "'endpoint': it sets the credentials for that URL");
	kube_fails("kubeconfig f\n    tls a b c",
		   "Corefile:4 - Error during setup: kubernetes: 'tls' needs "
		   "'endpoint': it sets the credentials for that URL");
}

/* labels SEL and namespace_labels SEL load with the normalised selector
 * want. */
static void selector_ok(const char *sel, const char *want)
{
	char opts[512];
	struct config *cfg;

	snprintf(opts, sizeof(opts), "labels %s\n    namespace_labels %s", sel,
		 sel);
	cfg = load_kube(opts);
	assert_string_equal(cfg->blocks[0].kube->labels, want);
	assert_string_equal(cfg->blocks[0].kube->namespace_labels, want);
	config_free(cfg);
}

static void selector_fails(const char *sel, const char *why)
{
	char opts[512], want[1024];

	snprintf(opts, sizeof(opts), "labels %s", sel);
	snprintf(want, sizeof(want),
		 "Corefile:3 - Error during setup: kubernetes: unable to "
		 "parse label selector value: '%s': %s",
		 sel, why);
	kube_fails(opts, want);
	snprintf(opts, sizeof(opts), "namespace_labels %s", sel);
	snprintf(want, sizeof(want),
		 "Corefile:3 - Error during setup: kubernetes: unable to "
		 "parse namespace_label selector value: '%s': %s",
		 sel, why);
	kube_fails(opts, want);
}

static void test_kube_selectors(void **state)
{
	struct config *cfg;

	(void)state;
	selector_ok("app=web", "app=web");
	selector_ok("app==web", "app=web");
	selector_ok("app!=web", "app!=web");
	selector_ok("app", "app");
	selector_ok("!app", "!app");
	selector_ok("app=", "app=");
	selector_ok("tier in (web,api)", "tier in (web,api)");
	selector_ok("tier notin (web, api)", "tier notin (web,api)");
	selector_ok("tier in(a)", "tier in (a)");
	selector_ok("tier in (a,)", "tier in (a,)");
	selector_ok("a=in", "a=in");
	/* arguments are joined with spaces, as CoreDNS does */
	selector_ok("app=web, env!=prod , !canary,team in ( a , b ),x",
		    "app=web,env!=prod,!canary,team in (a,b),x");
	selector_ok("app.kubernetes.io/name=coredns",
		    "app.kubernetes.io/name=coredns");
	selector_ok("example.com/My_key.1=Val-ue.2",
		    "example.com/My_key.1=Val-ue.2");
	selector_ok("\"a = b\"", "a=b");

	cfg = load_kube("namespaces a b\n    labels x=y");
	assert_string_equal(cfg->blocks[0].kube->labels, "x=y");
	assert_null(cfg->blocks[0].kube->namespace_labels);
	config_free(cfg);
	/* allowed with objects too */
	cfg = load_kube("objects d\n    labels x=y");
	assert_string_equal(cfg->blocks[0].kube->labels, "x=y");
	config_free(cfg);

	selector_fails("app=web env=prod",
		       "expected ',' after the requirement on 'app', found "
		       "'env'");
	selector_fails("app=web,", "expected a label key, found ''");
	selector_fails(",a", "expected a label key, found ','");
	selector_fails("=a", "expected a label key, found '='");
	selector_fails("!app=web",
		       "expected ',' after the requirement on 'app', found "
		       "'='");
	selector_fails("app=(x)", "expected a value after '=' of 'app'");
	selector_fails("app=-web", "invalid label value '-web'");
	selector_fails("-app", "invalid label key '-app'");
	selector_fails("Example.com/app",
		       "invalid label key 'Example.com/app'");
	selector_fails("a/b/c", "invalid label key 'a/b/c'");
	selector_fails("/b", "invalid label key '/b'");
	/* 64 characters */
	selector_fails("a234567890123456789012345678901234567890123456789"
		       "012345678901234",
		       "invalid label key "
		       "'a234567890123456789012345678901234567890123456789"
		       "012345678901234'");
	/* 63 characters */
	selector_ok("k012345678901234567890123456789012345678"
		    "90123456789012345678901=v",
		    "k012345678901234567890123456789012345678"
		    "90123456789012345678901=v");
	selector_fails("tier in ()", "'in' of 'tier' needs at least one value");
	selector_fails("tier notin a", "expected '(' after 'notin' of 'tier'");
	selector_fails("tier in (a b)",
		       "expected ',' or ')' in the values of 'tier'");
	selector_fails("tier in (a",
		       "expected ',' or ')' in the values of 'tier'");
	selector_fails("tier in (a,b!)",
		       "expected ',' or ')' in the values of 'tier'");
	selector_fails("tier in (_a)", "invalid label value '_a'");
	selector_fails("n>5", "'>' is not supported in label selectors");
	selector_fails("n<5", "'<' is not supported in label selectors");
	selector_fails("in=a", "expected a label key, found 'in'");
	kube_fails("labels",
		   "Corefile:3 - Error during setup: kubernetes: Wrong "
		   "argument count or unexpected line ending after 'labels'");
	kube_fails("namespace_labels",
		   "Corefile:3 - Error during setup: kubernetes: Wrong "
		   "argument count or unexpected line ending after "
		   "'namespace_labels'");
	kube_fails("namespace_labels a=b\n    namespaces x",
		   "Corefile:4 - Error during setup: kubernetes: namespaces "
		   "and namespace_labels cannot both be set");
	kube_fails("namespaces x\n    namespace_labels a=b",
		   "Corefile:4 - Error during setup: kubernetes: namespaces "
		   "and namespace_labels cannot both be set");
}

/* startup_timeout D and resyncperiod D give ms. */
static void duration_ok(const char *d, uint64_t ms)
{
	char opts[256];
	struct config *cfg;

	snprintf(opts, sizeof(opts), "startup_timeout %s\n    resyncperiod %s",
		 d, d);
	cfg = load_kube(opts);
	assert_int_equal(cfg->blocks[0].kube->startup_timeout_ms, ms);
	assert_int_equal(cfg->blocks[0].kube->resync_period_ms, ms);
	config_free(cfg);
}

static void duration_fails(const char *d, const char *why)
{
	char opts[256], want[512];

	snprintf(opts, sizeof(opts), "startup_timeout %s", d);
	snprintf(want, sizeof(want),
		 "Corefile:3 - Error during setup: kubernetes: unable to "
		 "parse startup_timeout value: '%s': %s",
		 d, why);
	kube_fails(opts, want);
	snprintf(opts, sizeof(opts), "resyncperiod %s", d);
	snprintf(want, sizeof(want),
		 "Corefile:3 - Error during setup: kubernetes: unable to "
		 "parse resyncperiod value: '%s': %s",
		 d, why);
	kube_fails(opts, want);
}

static void test_kube_durations(void **state)
{
	(void)state;
	duration_ok("5s", 5000);
	duration_ok("1m30s", 90000);
	duration_ok("500ms", 500);
	duration_ok("1.5h", 5400000);
	duration_ok("1h2m3.5s", 3723500);
	duration_ok(".5s", 500);
	duration_ok("2.s", 2000);
	duration_ok("0", 0);
	duration_ok("0s", 0);
	duration_ok("+10m", 600000);
	duration_ok("-0", 0);
	duration_ok("1500us", 1);
	duration_ok("1500\xc2\xb5s", 1);
	duration_ok("2000000ns", 2);
	duration_ok("999us", 0);
	duration_ok("2562047h", 2562047ULL * 3600 * 1000);

	duration_fails("5", "time: missing unit in duration \"5\"");
	duration_fails("1.2.3s", "time: missing unit in duration \"1.2.3s\"");
	duration_fails("5x", "time: unknown unit \"x\" in duration \"5x\"");
	duration_fails("5sec",
		       "time: unknown unit \"sec\" in duration \"5sec\"");
	duration_fails("1d", "time: unknown unit \"d\" in duration \"1d\"");
	duration_fails("abc", "time: invalid duration \"abc\"");
	duration_fails(".s", "time: invalid duration \".s\"");
	duration_fails("-", "time: invalid duration \"-\"");
	duration_fails("s5", "time: invalid duration \"s5\"");
	duration_fails("2562048h", "time: invalid duration \"2562048h\"");
	duration_fails("99999999999999999999s",
		       "time: invalid duration \"99999999999999999999s\"");
	duration_fails("-5s", "a duration must not be negative: \"-5s\"");
	kube_fails("startup_timeout",
		   "Corefile:3 - Error during setup: kubernetes: Wrong "
		   "argument count or unexpected line ending after "
		   "'startup_timeout'");
	kube_fails("resyncperiod 1m 2m",
		   "Corefile:3 - Error during setup: kubernetes: Wrong "
		   "argument count or unexpected line ending after "
		   "'resyncperiod'");
}

static void test_kube_sources_and_zones(void **state)
{
	(void)state;
	load_fails("example.org {\n  kubernetes cluster.local {\n"
		   "    objects d\n  }\n}\n",
		   "Corefile:2 - Error during setup: kubernetes: zone "
		   "'cluster.local' is not inside any zone of its server "
		   "block");
	/* a suffix is not enough: label boundaries count */
	load_fails("example.org {\n  kubernetes myexample.org {\n"
		   "    objects d\n  }\n}\n",
		   "Corefile:2 - Error during setup: kubernetes: zone "
		   "'myexample.org' is not inside any zone of its server "
		   "block");
	load_fails("example.org {\n  kubernetes . {\n    objects d\n  }\n}\n",
		   "Corefile:2 - Error during setup: kubernetes: zone '.' is "
		   "not inside any zone of its server block");
	load_fails(". {\n  kubernetes 10.0.0.0/20 {\n    objects d\n  }\n}\n",
		   "Corefile:2 - Error during setup: kubernetes: reverse zone "
		   "10.0.0.0/20: the prefix length must be a multiple of 8");
}

static void test_error_in_import_names_file(void **state)
{
	struct config *cfg = NULL;
	char path[512], want[700];

	(void)state;
	/* errors found in setup name the file a directive came from */
	snprintf(path, sizeof(path), "%s/fixtures/corefile/imports.Corefile",
		 TEST_SRCDIR);
	assert_int_equal(config_load(path, 53, &cfg, err, sizeof(err)),
			 -EINVAL);
	snprintf(want, sizeof(want),
		 "%s/fixtures/corefile/kube.conf:4 - Error during setup: "
		 "kubernetes: ttl must be in range [0, 3600]: 7200",
		 TEST_SRCDIR);
	assert_string_equal(err, want);
	assert_null(cfg);
}

/* ---- topology: zonal and topology ---- */

static void test_kube_topology(void **state)
{
	struct config *cfg;
	const struct kubernetes_conf *k;

	(void)state;
	cfg = load_ok(". {\n  kubernetes {\n    objects d\n  }\n}\n");
	k = cfg->blocks[0].kube;
	assert_false(k->zonal);
	assert_int_equal(k->topology, KUBERNETES_TOPOLOGY_OFF);
	config_free(cfg);
	cfg = load_ok(". {\n  kubernetes {\n    objects d\n    zonal\n"
		      "    topology\n  }\n}\n");
	k = cfg->blocks[0].kube;
	assert_true(k->zonal);
	assert_int_equal(k->topology, KUBERNETES_TOPOLOGY_FIRST);
	config_free(cfg);
	cfg = load_ok(". {\n  kubernetes {\n    objects d\n"
		      "    topology strict\n  }\n}\n");
	k = cfg->blocks[0].kube;
	assert_false(k->zonal);
	assert_int_equal(k->topology, KUBERNETES_TOPOLOGY_STRICT);
	config_free(cfg);
	load_fails(". {\n  kubernetes {\n    objects d\n    zonal x\n"
		   "  }\n}\n",
		   "Corefile:4 - Error during setup: kubernetes: Wrong "
		   "argument count or unexpected line ending after 'zonal'");
	load_fails(". {\n  kubernetes {\n    objects d\n    topology loose\n"
		   "  }\n}\n",
		   "Corefile:4 - Error during setup: kubernetes: unable to "
		   "parse topology value: 'loose'");
	load_fails(". {\n  kubernetes {\n    objects d\n    topology strict "
		   "x\n  }\n}\n",
		   "Corefile:4 - Error during setup: kubernetes: Wrong "
		   "argument count or unexpected line ending after "
		   "'topology'");

	/* zonal and topology on or off build another zone; strict or not
	 * is the query path's */
	struct kubernetes_conf a = {.zonal = false}, b = a;
	assert_true(kubernetes_conf_same(&a, &b));
	b.zonal = true;
	assert_false(kubernetes_conf_same(&a, &b));
	b = a;
	b.topology = KUBERNETES_TOPOLOGY_FIRST;
	assert_false(kubernetes_conf_same(&a, &b));
	a.topology = KUBERNETES_TOPOLOGY_STRICT;
	assert_true(kubernetes_conf_same(&a, &b));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_kube_topology),
	    cmocka_unit_test(test_example),
	    cmocka_unit_test(test_example_file),
	    cmocka_unit_test(test_kubeadm),
	    cmocka_unit_test(test_missing_file),
	    cmocka_unit_test(test_no_blocks),
	    cmocka_unit_test(test_parse_error_passes_through),
	    cmocka_unit_test(test_keys),
	    cmocka_unit_test(test_key_errors),
	    cmocka_unit_test(test_duplicate_keys),
	    cmocka_unit_test(test_directive_list),
	    cmocka_unit_test(test_unknown_directive),
	    cmocka_unit_test(test_unsupported_directives),
	    cmocka_unit_test(test_removed_directives),
	    cmocka_unit_test(test_kube_conf_same),
	    cmocka_unit_test(test_deployed_corefiles),
	    cmocka_unit_test(test_health_ready_prometheus),
	    cmocka_unit_test(test_reload),
	    cmocka_unit_test(test_forward_defaults),
	    cmocka_unit_test(test_forward_options),
	    cmocka_unit_test(test_forward_resolv_conf),
	    cmocka_unit_test(test_forward_errors),
	    cmocka_unit_test(test_cache_defaults),
	    cmocka_unit_test(test_cache_options),
	    cmocka_unit_test(test_cache_errors),
	    cmocka_unit_test(test_bind),
	    cmocka_unit_test(test_bind_interface),
	    cmocka_unit_test(test_bind_errors),
	    cmocka_unit_test(test_errors_directive),
	    cmocka_unit_test(test_log),
	    cmocka_unit_test(test_log_errors),
	    cmocka_unit_test(test_kube_defaults),
	    cmocka_unit_test(test_kube_options_ok),
	    cmocka_unit_test(test_kube_errors),
	    cmocka_unit_test(test_kube_multicluster),
	    cmocka_unit_test(test_kube_upstream_ignored),
	    cmocka_unit_test(test_kube_api_sources),
	    cmocka_unit_test(test_kube_selectors),
	    cmocka_unit_test(test_kube_durations),
	    cmocka_unit_test(test_kube_sources_and_zones),
	    cmocka_unit_test(test_error_in_import_names_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
