/*
 * test_setup.c -- the helpers every directive's setup shares: messages,
 * string vectors, zones and reverse zones, Go durations and integers.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "server/setup.h"

static char msg[512];

static struct corefile_dir dir(char *name, char **args, size_t nargs)
{
	struct corefile_dir d = {
	    .name = name,
	    .args = args,
	    .nargs = nargs,
	    .file = "Corefile",
	    .line = 7,
	};

	return d;
}

static void test_messages(void **state)
{
	char err[256];
	struct setup c = {.err = err, .errlen = sizeof(err)};
	struct corefile_dir sub = dir("x", NULL, 0);
	struct corefile_dir d = dir("ttl", NULL, 0);

	(void)state;
	assert_int_equal(setup_err(&c, &d, "kubernetes", "bad %d", 5), -EINVAL);
	assert_string_equal(
	    err, "Corefile:7 - Error during setup: kubernetes: bad 5");
	assert_int_equal(
	    setup_parse_err(&c, "Corefile", 3, "Unknown '%s'", "x"), -EINVAL);
	assert_string_equal(err,
			    "Corefile:3 - Error during parsing: Unknown 'x'");
	assert_int_equal(setup_arg_err(&c, &d, "kubernetes"), -EINVAL);
	assert_string_equal(err, "Corefile:7 - Error during setup: kubernetes: "
				 "Wrong argument count or unexpected line "
				 "ending after 'ttl'");
	assert_int_equal(setup_no_block(&c, &d, "cache"), 0);
	d.sub = &sub;
	d.nsub = 1;
	assert_int_equal(setup_no_block(&c, &d, "cache"), -EINVAL);
	assert_string_equal(
	    err,
	    "Corefile:7 - Error during setup: cache: 'ttl' takes no block");
	assert_int_equal(setup_nomem(&c), -ENOMEM);
	assert_string_equal(err, "out of memory");

	/* without a buffer the errors are still returned */
	c.err = NULL;
	c.errlen = 0;
	assert_int_equal(setup_arg_err(&c, &d, "loop"), -EINVAL);
	assert_int_equal(setup_nomem(&c), -ENOMEM);

	/* a short buffer is cut, not overrun */
	c.err = err;
	c.errlen = 12;
	assert_int_equal(setup_arg_err(&c, &d, "loop"), -EINVAL);
	assert_string_equal(err, "Corefile:7 ");
}

static void test_strv(void **state)
{
	char **v = NULL;
	size_t n = 0;

	(void)state;
	assert_int_equal(setup_strv_add(&v, &n, "a"), 0);
	assert_int_equal(setup_strv_add(&v, &n, "a"), 0);
	assert_int_equal(setup_strv_add_uniq(&v, &n, "a"), 0);
	assert_int_equal(setup_strv_add_uniq(&v, &n, "b"), 0);
	assert_int_equal(n, 3);
	assert_string_equal(v[0], "a");
	assert_string_equal(v[1], "a");
	assert_string_equal(v[2], "b");
	setup_strv_free(v, n);
	assert_true(setup_in_list((const char *const[]){"x", "y", NULL}, "y"));
	assert_false(setup_in_list((const char *const[]){"x", "y", NULL}, "z"));
}

static void zone_ok(const char *text, const char *want)
{
	char *z = NULL;

	assert_int_equal(setup_zone_parse(text, &z, msg, sizeof(msg)), 0);
	assert_string_equal(z, want);
	free(z);
}

static void zone_fails(const char *text, const char *why)
{
	char *z = NULL;

	assert_int_equal(setup_zone_parse(text, &z, msg, sizeof(msg)), -EINVAL);
	assert_null(z);
	assert_string_equal(msg, why);
}

static void test_zones(void **state)
{
	(void)state;
	zone_ok(".", "");
	zone_ok("Cluster.Local.", "cluster.local");
	zone_ok("cluster.local", "cluster.local");
	zone_ok("10.0.0.0/8", "10.in-addr.arpa");
	zone_fails("", "zone is not a valid domain name: ''");
	zone_fails("a..b", "zone is not a valid domain name: 'a..b'");
	zone_fails("a b", "zone is not a valid domain name: 'a b'");
	zone_fails("a:53", "zone is not a valid domain name: 'a:53'");
	zone_fails("10.0.0.0/12", "reverse zone 10.0.0.0/12: the prefix "
				  "length must be a multiple of 8");

	assert_true(setup_zone_in("a.cluster.local", "cluster.local"));
	assert_true(setup_zone_in("cluster.local", "cluster.local"));
	assert_true(setup_zone_in("cluster.local", ""));
	assert_false(setup_zone_in("acluster.local", "cluster.local"));
	assert_false(setup_zone_in("local", "cluster.local"));
}

static void cidr_ok(const char *text, const char *want)
{
	char *z = NULL;

	assert_int_equal(setup_cidr_zone(text, &z, msg, sizeof(msg)), 0);
	assert_string_equal(z, want);
	free(z);
}

static void test_cidr_zones(void **state)
{
	char *z = NULL;

	(void)state;
	cidr_ok("10.0.0.0/8", "10.in-addr.arpa");
	cidr_ok("192.0.2.7/24", "2.0.192.in-addr.arpa");
	cidr_ok("10.1.2.3/32", "3.2.1.10.in-addr.arpa");
	cidr_ok("0.0.0.0/0", "in-addr.arpa");
	cidr_ok("fd00::/8", "d.f.ip6.arpa");
	cidr_ok("2001:db8::/32", "8.b.d.0.1.0.0.2.ip6.arpa");
	cidr_ok("::/0", "ip6.arpa");
	/* not a CIDR at all: 1, so the caller reads a domain name */
	assert_int_equal(setup_cidr_zone("cluster.local", &z, msg, sizeof(msg)),
			 1);
	assert_int_equal(setup_cidr_zone("a/8", &z, msg, sizeof(msg)), 1);
	assert_int_equal(setup_cidr_zone("10.0.0.0/x", &z, msg, sizeof(msg)),
			 1);
	assert_null(z);
	assert_int_equal(setup_cidr_zone("10.0.0.0/33", &z, msg, sizeof(msg)),
			 -EINVAL);
	assert_string_equal(msg, "invalid CIDR 10.0.0.0/33");
	assert_int_equal(setup_cidr_zone("fd00::/6", &z, msg, sizeof(msg)),
			 -EINVAL);
	assert_string_equal(msg, "reverse zone fd00::/6: the prefix length "
				 "must be a multiple of 4");
	assert_null(z);
}

static void test_zones_add(void **state)
{
	char err[256];
	struct setup c = {.err = err, .errlen = sizeof(err)};
	char *args[] = {"B.example.", "b.example", "10.0.0.0/8", "bad..name"};
	struct corefile_dir d = dir("forward", args, 4);
	char **v = NULL;
	size_t n = 0;

	(void)state;
	assert_int_equal(setup_zones_add(&c, &d, "forward", args, 3, &v, &n),
			 0);
	assert_int_equal(n, 2);
	assert_string_equal(v[0], "b.example");
	assert_string_equal(v[1], "10.in-addr.arpa");
	assert_int_equal(setup_zones_add(&c, &d, "forward", args, 4, &v, &n),
			 -EINVAL);
	assert_string_equal(err, "Corefile:7 - Error during setup: forward: "
				 "zone is not a valid domain name: "
				 "'bad..name'");
	setup_strv_free(v, n);
}

static void duration_ok(const char *text, uint64_t want)
{
	uint64_t ms = 12345;

	assert_int_equal(setup_duration(text, &ms, msg, sizeof(msg)), 0);
	assert_int_equal(ms, want);
}

static void duration_fails(const char *text, const char *why)
{
	uint64_t ms;

	assert_int_equal(setup_duration(text, &ms, msg, sizeof(msg)), -EINVAL);
	assert_string_equal(msg, why);
}

static void test_durations(void **state)
{
	uint64_t ms;
	bool neg;

	(void)state;
	duration_ok("0", 0);
	duration_ok("-0", 0);
	duration_ok("1h30m", 5400000);
	duration_ok("1.5s", 1500);
	duration_ok("500ms", 500);
	duration_ok("999us", 0);
	duration_ok("1500000ns", 1);
	duration_ok("2\xc2\xb5s", 0);
	duration_ok("+2m", 120000);
	duration_ok(".5s", 500);
	duration_fails("", "time: invalid duration \"\"");
	duration_fails("s", "time: invalid duration \"s\"");
	duration_fails("5", "time: missing unit in duration \"5\"");
	duration_fails("5x", "time: unknown unit \"x\" in duration \"5x\"");
	duration_fails("1s5", "time: missing unit in duration \"1s5\"");
	duration_fails("3000000h", "time: invalid duration \"3000000h\"");
	duration_fails("-1s", "a duration must not be negative: \"-1s\"");

	assert_int_equal(
	    setup_signed_duration("-1s", &ms, &neg, msg, sizeof(msg)), 0);
	assert_true(neg);
	assert_int_equal(ms, 1000);
	assert_int_equal(
	    setup_signed_duration("-0s", &ms, &neg, msg, sizeof(msg)), 0);
	assert_false(neg);
	assert_int_equal(
	    setup_signed_duration("2s", &ms, &neg, msg, sizeof(msg)), 0);
	assert_false(neg);
	assert_int_equal(ms, 2000);
	assert_int_equal(
	    setup_signed_duration("--1s", &ms, &neg, msg, sizeof(msg)),
	    -EINVAL);
}

static void test_atoi(void **state)
{
	long v = 0;

	(void)state;
	assert_int_equal(setup_atoi("42", &v, msg, sizeof(msg)), 0);
	assert_int_equal(v, 42);
	assert_int_equal(setup_atoi("-7", &v, msg, sizeof(msg)), 0);
	assert_int_equal(v, -7);
	assert_int_equal(setup_atoi("+7", &v, msg, sizeof(msg)), 0);
	assert_int_equal(v, 7);
	assert_int_equal(setup_atoi("7s", &v, msg, sizeof(msg)), -EINVAL);
	assert_string_equal(msg,
			    "strconv.Atoi: parsing \"7s\": invalid syntax");
	assert_int_equal(setup_atoi("-", &v, msg, sizeof(msg)), -EINVAL);
	assert_int_equal(setup_atoi("", &v, msg, sizeof(msg)), -EINVAL);
	assert_int_equal(
	    setup_atoi("99999999999999999999", &v, msg, sizeof(msg)), -EINVAL);
	assert_string_equal(msg, "strconv.Atoi: parsing "
				 "\"99999999999999999999\": value out of "
				 "range");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_messages),  cmocka_unit_test(test_strv),
	    cmocka_unit_test(test_zones),     cmocka_unit_test(test_cidr_zones),
	    cmocka_unit_test(test_zones_add), cmocka_unit_test(test_durations),
	    cmocka_unit_test(test_atoi),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
