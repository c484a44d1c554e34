/*
 * test_forward.c -- the forwarder's setup and which names it takes
 * (FROM, except); the network side is tests/e2e/forward.sh.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "server/forward.h"
#include "zones/dname.h"

static char *from_root[] = {""};
static char *from_org[] = {"example.org"};
static char *except[] = {"a.example.org", "b.example.org"};

static void conf(struct forward_conf *cf, char **from, size_t nfrom, char **ex,
		 size_t nex)
{
	memset(cf, 0, sizeof(*cf));
	cf->from = from;
	cf->nfrom = nfrom;
	cf->except = ex;
	cf->nexcept = nex;
	struct sockaddr_in *a = (struct sockaddr_in *)&cf->to[0];
	a->sin_family = AF_INET;
	a->sin_port = htons(53);
	a->sin_addr.s_addr = htonl(0x7f000001);
	cf->tolen[0] = sizeof(*a);
	cf->nto = 1;
	cf->health_check_ms = 500;
	cf->max_fails = 2;
	cf->expire_ms = 10000;
	cf->file = "Corefile";
	cf->line = 7;
}

static bool takes(const struct forward *f, const char *name)
{
	uint8_t w[256];
	size_t len;

	assert_int_equal(dname_zone_wire(name, w, &len), 0);
	return forward_match(f, w, len);
}

static void test_match(void **state)
{
	struct forward_conf cf;
	char err[256];

	(void)state;
	conf(&cf, from_org, 1, except, 2);
	struct forward *f = forward_new(&cf, err, sizeof(err));
	assert_non_null(f);
	assert_true(takes(f, "example.org"));
	assert_true(takes(f, "www.example.org"));
	assert_true(takes(f, "ab.example.org"));
	assert_false(takes(f, "a.example.org"));
	assert_false(takes(f, "x.b.example.org"));
	assert_false(takes(f, "example.com"));
	assert_false(takes(f, "org"));
	assert_false(takes(f, ""));
	assert_string_equal(forward_upstream_name(f, 0), "127.0.0.1:53");
	assert_string_equal(forward_upstream_name(f, 1), "?");
	assert_string_equal(forward_upstream_name(f, -1), "?");
	forward_free(f);

	conf(&cf, from_root, 1, NULL, 0);
	f = forward_new(&cf, err, sizeof(err));
	assert_true(takes(f, ""));
	assert_true(takes(f, "www.example.org"));
	assert_true(takes(f, "1.2.0.192.in-addr.arpa"));
	forward_free(f);
}

static void test_setup_errors(void **state)
{
	struct forward_conf cf;
	char err[256];
	static char *bad[] = {"a..b"};

	(void)state;
	conf(&cf, bad, 1, NULL, 0);
	assert_null(forward_new(&cf, err, sizeof(err)));
	assert_string_equal(err, "Corefile:7 - Error during setup: forward: "
				 "not a domain name: a..b");
	conf(&cf, from_root, 1, NULL, 0);
	cf.nto = 0;
	assert_null(forward_new(&cf, err, sizeof(err)));
	assert_string_equal(err, "Corefile:7 - Error during setup: forward: "
				 "1 to 15 upstreams");
}

static void done(void *arg, int status, const uint8_t *ans, size_t len)
{
	fail_msg("done called");
}

static void test_query_needs_a_worker(void **state)
{
	struct forward_conf cf;
	char err[256];
	uint8_t name[] = {3, 'w', 'w', 'w', 0};
	struct forward_req r = {
	    .qname = name, .qname_len = sizeof(name), .qtype = 1, .qclass = 1};

	(void)state;
	conf(&cf, from_root, 1, NULL, 0);
	struct forward *f = forward_new(&cf, err, sizeof(err));
	/* outside a worker's handler nothing is sent, done is not called */
	assert_int_equal(forward_query(f, NULL, &r, done, NULL), -EINVAL);
	assert_int_equal(forward_inflight(f), 0);
	/* the health checker has nothing to do before a query failed */
	forward_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_match),
	    cmocka_unit_test(test_setup_errors),
	    cmocka_unit_test(test_query_needs_a_worker),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
