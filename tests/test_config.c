/*
 * test_config.c -- the meaning of a Corefile: keys, bind, errors, log,
 * kubernetes, and every setup error with its file, line and directive.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	const struct config_kube *k;

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
	assert_int_equal(k->pods, CONFIG_PODS_VERIFIED);
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
	const struct config_kube *k;
	char want[700];

	(void)state;
	/* the stock kubeadm Corefile names plugins we do not have yet */
	snprintf(path, sizeof(path), "%s/fixtures/corefile/kubeadm.Corefile",
		 TEST_SRCDIR);
	assert_int_equal(config_load(path, 53, &cfg, err, sizeof(err)),
			 -EINVAL);
	snprintf(want, sizeof(want),
		 "%s:3 - Error during parsing: Directive 'health' is not "
		 "supported yet",
		 path);
	assert_string_equal(err, want);
	assert_null(cfg);

	snprintf(path, sizeof(path),
		 "%s/fixtures/corefile/kubeadm-objects.Corefile", TEST_SRCDIR);
	assert_int_equal(config_load(path, 5353, &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg->nblocks, 1);
	assert_int_equal(cfg->blocks[0].keys[0].port, 53);
	assert_true(cfg->blocks[0].errors);
	assert_non_null(cfg->blocks[0].log);
	assert_int_equal(cfg->blocks[0].nbind, 0);
	k = cfg->blocks[0].kube;
	assert_int_equal(k->pods, CONFIG_PODS_INSECURE);
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
	assert_int_equal(n, 4);
	assert_string_equal(config_directives[0], "bind");
	assert_string_equal(config_directives[1], "errors");
	assert_string_equal(config_directives[2], "log");
	assert_string_equal(config_directives[3], "kubernetes");
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
	    "health",  "ready",	   "prometheus",  "forward", "cache",
	    "loop",    "reload",   "loadbalance", "hosts",   "whoami",
	    "rewrite", "template", "file",	  "etcd",    "k8s_external",
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
	const struct config_log *l;

	(void)state;
	cfg = load_ok(". {\n  log\n}\n");
	l = cfg->blocks[0].log;
	assert_non_null(l);
	assert_int_equal(l->nnames, 0);
	assert_string_equal(l->format, CONFIG_LOG_FORMAT_COMMON);
	assert_string_equal(l->format,
			    "{remote}:{port} - {>id} \"{type} {class} {name} "
			    "{proto} {size} {>do} {>bufsize}\" {rcode} "
			    "{>rflags} {rsize} {duration}");
	assert_int_equal(l->classes, CONFIG_LOG_ALL);
	config_free(cfg);

	cfg = load_ok(". {\n  log Example.ORG. . {combined}\n}\n");
	l = cfg->blocks[0].log;
	assert_strv(l->names, l->nnames, 2, "example.org", "");
	assert_string_equal(l->format,
			    CONFIG_LOG_FORMAT_COMMON " \"{>opcode}\"");
	config_free(cfg);

	cfg = load_ok(". {\n  log example.org {common}\n}\n");
	l = cfg->blocks[0].log;
	assert_strv(l->names, l->nnames, 1, "example.org");
	assert_string_equal(l->format, CONFIG_LOG_FORMAT_COMMON);
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
	assert_int_equal(l->classes, CONFIG_LOG_DENIAL | CONFIG_LOG_ERROR |
					 CONFIG_LOG_SUCCESS);
	config_free(cfg);

	cfg = load_ok(". {\n  log {\n    class denial\n  }\n}\n");
	assert_int_equal(cfg->blocks[0].log->classes, CONFIG_LOG_DENIAL);
	config_free(cfg);

	cfg = load_ok(". {\n  log {\n    class all\n  }\n}\n");
	assert_int_equal(cfg->blocks[0].log->classes, CONFIG_LOG_ALL);
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
/* kubernetes */

static void test_kube_defaults(void **state)
{
	struct config *cfg = load_ok("cluster.local 10.0.0.0/24:53 {\n"
				     "  kubernetes {\n"
				     "    objects /srv/objects\n"
				     "  }\n"
				     "}\n");
	const struct config_kube *k = cfg->blocks[0].kube;

	(void)state;
	/* zones from the keys */
	assert_strv(k->zones, k->nzones, 2, "cluster.local",
		    "0.0.10.in-addr.arpa");
	assert_string_equal(k->objects, "/srv/objects");
	assert_int_equal(k->pods, CONFIG_PODS_DISABLED);
	assert_int_equal(k->ttl, 5);
	assert_false(k->endpoint_pod_names);
	assert_int_equal(k->nnamespaces, 0);
	assert_null(k->namespaces);
	assert_false(k->fallthrough);
	assert_int_equal(k->nfallthrough_zones, 0);
	assert_false(k->ignore_empty_service);
	assert_false(k->noendpoints);
	assert_int_equal(k->line, 2);
	config_free(cfg);
}

static void test_kube_options_ok(void **state)
{
	struct config *cfg;
	const struct config_kube *k;

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
	assert_int_equal(k->pods, CONFIG_PODS_INSECURE);
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
	assert_int_equal(k->pods, CONFIG_PODS_DISABLED);
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
	load_fails(". {\n  kubernetes {\n    objects d\n    upstream\n  }\n}\n",
		   "Corefile:4 - Error during setup: kubernetes: unknown "
		   "property 'upstream'");
	load_fails(". {\n  kubernetes {\n    objects d\n    ttl 5 {\n      x\n"
		   "    }\n  }\n}\n",
		   "Corefile:4 - Error during setup: kubernetes: 'ttl' takes "
		   "no block");
	load_fails(". {\n  kubernetes {\n    objects d\n  }\n"
		   "  kubernetes {\n    objects e\n  }\n}\n",
		   "Corefile:5 - Error during setup: kubernetes: this plugin "
		   "can only be used once per Server Block");
}

static void test_kube_later_options(void **state)
{
	static const char *const opts[] = {
	    "endpoint https://10.0.0.1:6443",
	    "tls cert key ca",
	    "kubeconfig ~/.kube/config",
	    "namespace_labels a=b",
	    "labels a=b",
	    "startup_timeout 5s",
	    "resyncperiod 1m",
	    "multicluster clusterset.local",
	};
	char text[256], want[256], name[64];

	(void)state;
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		sscanf(opts[i], "%63s", name);
		snprintf(text, sizeof(text),
			 ". {\n  kubernetes {\n    objects d\n    %s\n  }\n}\n",
			 opts[i]);
		snprintf(want, sizeof(want),
			 "Corefile:4 - Error during setup: kubernetes: option "
			 "'%s' is not supported yet",
			 name);
		load_fails(text, want);
	}
}

static void test_kube_sources_and_zones(void **state)
{
	(void)state;
	load_fails(". {\n  errors\n  kubernetes cluster.local {\n"
		   "    pods verified\n  }\n}\n",
		   "Corefile:3 - Error during setup: kubernetes: no data "
		   "source: 'objects PATH' is required (the Kubernetes API "
		   "source is not supported yet)");
	load_fails(". {\n  kubernetes\n}\n",
		   "Corefile:2 - Error during setup: kubernetes: no data "
		   "source: 'objects PATH' is required (the Kubernetes API "
		   "source is not supported yet)");
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

int main(void)
{
	const struct CMUnitTest tests[] = {
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
	    cmocka_unit_test(test_bind),
	    cmocka_unit_test(test_bind_interface),
	    cmocka_unit_test(test_bind_errors),
	    cmocka_unit_test(test_errors_directive),
	    cmocka_unit_test(test_log),
	    cmocka_unit_test(test_log_errors),
	    cmocka_unit_test(test_kube_defaults),
	    cmocka_unit_test(test_kube_options_ok),
	    cmocka_unit_test(test_kube_errors),
	    cmocka_unit_test(test_kube_later_options),
	    cmocka_unit_test(test_kube_sources_and_zones),
	    cmocka_unit_test(test_error_in_import_names_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
