/*
 * test_dname.c -- wire names: text conversion both ways with its limits and
 * escapes, case folding, suffixes on label boundaries, hashing, reverse
 * names and dashed pod addresses.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "zones/dname.h"

/* Text -> wire -> text must give back the name with a trailing dot. */
static void round_trip(const char *in, const char *want)
{
	uint8_t w[DNAME_MAX];
	char buf[1100];
	int n = dname_from_str(in, w);

	assert_true(n > 0);
	assert_int_equal((size_t)n, dname_len(w));
	assert_int_equal(dname_to_str(w, buf, sizeof(buf)), strlen(want));
	assert_string_equal(buf, want);
}

static void test_from_str(void **state)
{
	uint8_t w[DNAME_MAX];
	static const uint8_t web[] = {3,   'W', 'e', 'b', 4,   'p', 'r',
				      'o', 'd', 3,   's', 'v', 'c', 0};

	(void)state;
	assert_int_equal(dname_from_str("Web.prod.svc", w), sizeof(web));
	assert_memory_equal(w, web, sizeof(web));
	/* A trailing dot changes nothing. */
	memset(w, 0xee, sizeof(w));
	assert_int_equal(dname_from_str("Web.prod.svc.", w), sizeof(web));
	assert_memory_equal(w, web, sizeof(web));
	/* The root. */
	memset(w, 0xee, sizeof(w));
	assert_int_equal(dname_from_str("", w), 1);
	assert_int_equal(w[0], 0);
	memset(w, 0xee, sizeof(w));
	assert_int_equal(dname_from_str(".", w), 1);
	assert_int_equal(w[0], 0);

	round_trip("web.prod.svc.cluster.local", "web.prod.svc.cluster.local.");
	round_trip("MiXeD.Case.", "MiXeD.Case.");
	round_trip("a", "a.");
	round_trip("", ".");
	round_trip("_http._tcp.web", "_http._tcp.web.");
}

static void test_from_str_errors(void **state)
{
	uint8_t w[DNAME_MAX];
	char s[400];

	(void)state;
	assert_int_equal(dname_from_str("a..b", w), -EINVAL);
	assert_int_equal(dname_from_str(".a", w), -EINVAL);
	assert_int_equal(dname_from_str("..", w), -EINVAL);
	assert_int_equal(dname_from_str("a.b..", w), -EINVAL);

	/* Labels: 63 bytes fit, 64 do not. */
	memset(s, 'x', 63);
	strcpy(s + 63, ".local");
	assert_int_equal(dname_from_str(s, w), 1 + 63 + 6 + 1);
	assert_int_equal(w[0], 63);
	memset(s, 'x', 64);
	strcpy(s + 64, ".local");
	assert_int_equal(dname_from_str(s, w), -EINVAL);
	memset(s, 'x', 64);
	s[64] = 0;
	assert_int_equal(dname_from_str(s, w), -EINVAL);

	/* Names: 255 wire bytes fit (3 x 63 + 61 with dots), 256 do not. */
	size_t o = 0;
	for (int i = 0; i < 3; i++) {
		memset(s + o, 'a' + i, 63);
		o += 63;
		s[o++] = '.';
	}
	memset(s + o, 'd', 61);
	o += 61;
	s[o] = 0;
	assert_int_equal(dname_from_str(s, w), 255);
	assert_int_equal(dname_len(w), 255);
	assert_int_equal(dname_labels(w), 4);
	s[o++] = 'd';
	s[o] = 0;
	assert_int_equal(dname_from_str(s, w), -EINVAL);
	strcpy(s + o, ".e");
	assert_int_equal(dname_from_str(s, w), -EINVAL);
}

static void test_to_str_escapes(void **state)
{
	char buf[256];
	/* labels "a.b", "c\d", " " and a zero byte, "x\"y" */
	static const uint8_t odd[] = {3,    'a', '.', 'b', 3, 'c',
				      '\\', 'd', 1,   ' ', 1, 0,
				      3,    'x', '"', 'y', 0};
	static const uint8_t hi[] = {2, 0xff, 0x7f, 0};

	(void)state;
	dname_to_str(odd, buf, sizeof(buf));
	assert_string_equal(buf, "a\\.b.c\\\\d.\\032.\\000.x\\\"y.");
	dname_to_str(hi, buf, sizeof(buf));
	assert_string_equal(buf, "\\255\\127.");

	/* Escapes are not interpreted on the way in: a backslash is a byte. */
	uint8_t w[DNAME_MAX];
	assert_int_equal(dname_from_str("a\\065b.c", w), 1 + 6 + 2 + 1);
	assert_int_equal(w[0], 6);
	assert_memory_equal(w + 1, "a\\065b", 6);
}

static void test_to_str_truncation(void **state)
{
	uint8_t w[DNAME_MAX];
	char buf[8];

	(void)state;
	assert_true(dname_from_str("abcdef.ghijkl", w) > 0);
	memset(buf, 'Z', sizeof(buf));
	size_t n = dname_to_str(w, buf, sizeof(buf));
	assert_true(n < sizeof(buf));
	assert_int_equal(strlen(buf), n);
	assert_int_equal(strncmp(buf, "abcdef.", n), 0);

	/* Escapes are never cut in half. */
	static const uint8_t esc[] = {3, 'a', 'b', 0x01, 0};
	char small[5];
	n = dname_to_str(esc, small, sizeof(small));
	assert_string_equal(small, "ab");
	assert_int_equal(n, 2);

	char one[1] = {'Z'};
	dname_to_str(w, one, 1);
	assert_int_equal(one[0], 0);
	/* Zero room: nothing written. */
	assert_int_equal(dname_to_str(w, one, 0), 0);
}

static void test_len_labels(void **state)
{
	uint8_t w[DNAME_MAX];

	(void)state;
	assert_int_equal(dname_from_str("a.bc.def", w), 10);
	assert_int_equal(dname_len(w), 10);
	assert_int_equal(dname_labels(w), 3);
	assert_int_equal(dname_from_str(".", w), 1);
	assert_int_equal(dname_len(w), 1);
	assert_int_equal(dname_labels(w), 0);
}

static void test_lower(void **state)
{
	uint8_t w[DNAME_MAX], l[DNAME_MAX], want[DNAME_MAX];
	int n = dname_from_str("WeB-1.PROD.svc.Cluster.LOCAL", w);
	int m = dname_from_str("web-1.prod.svc.cluster.local", want);

	(void)state;
	assert_int_equal(n, m);
	dname_lower_copy(l, w, (size_t)n);
	assert_memory_equal(l, want, (size_t)n);
	/* The source is untouched by the copy. */
	assert_int_equal(w[1], 'W');
	dname_lower(w, (size_t)n);
	assert_memory_equal(w, want, (size_t)n);

	/* Only ASCII letters change: not '@' or '['
	 * (next to 'A' and 'Z'), not bytes >= 0x80. */
	uint8_t odd[] = {5, '@', '[', 0xc1, 'Z', 'z', 0};
	static const uint8_t odd_l[] = {5, '@', '[', 0xc1, 'z', 'z', 0};
	dname_lower(odd, sizeof(odd));
	assert_memory_equal(odd, odd_l, sizeof(odd));
}

/* Where zone starts in name (dname_suffix_at), checked to be what
 * dname_suffix_loff says from the name's label offsets. */
static int suffix(const char *name, const char *zone)
{
	uint8_t n[DNAME_MAX], z[DNAME_MAX], loff[128];
	int nl = dname_from_str(name, n), zl = dname_from_str(zone, z);
	unsigned labels = 0;

	assert_true(nl > 0 && zl > 0);
	for (size_t o = 0; n[o]; o += (size_t)n[o] + 1)
		loff[labels++] = (uint8_t)o;
	int at = dname_suffix_at(n, (size_t)nl, z, (size_t)zl);
	assert_int_equal(dname_suffix_loff(n, (size_t)nl, loff, labels, z,
					   (size_t)zl, dname_labels(z)),
			 at);
	return at;
}

static void test_suffix_at(void **state)
{
	(void)state;
	assert_int_equal(suffix("cluster.local", "cluster.local"), 0);
	assert_int_equal(suffix("web.prod.svc.cluster.local", "cluster.local"),
			 13);
	assert_int_equal(suffix("a.cluster.local", "local"), 10);
	/* The root zone contains everything, at the final byte. */
	assert_int_equal(suffix("a.b", ""), 4);
	assert_int_equal(suffix("", ""), 0);
	/* Label boundaries only. */
	assert_int_equal(suffix("xcluster.local", "cluster.local"), -1);
	assert_int_equal(suffix("a.xcluster.local", "cluster.local"), -1);
	assert_int_equal(suffix("cluster.localx", "cluster.local"), -1);
	assert_int_equal(suffix("local", "cluster.local"), -1);
	assert_int_equal(suffix("cluster.local.evil", "cluster.local"), -1);
	/* Exact bytes: both sides must be lowercased first. */
	assert_int_equal(suffix("web.Cluster.local", "cluster.local"), -1);
	/* Same length, different name. */
	assert_int_equal(suffix("cluster.locax", "cluster.local"), -1);
}

static void test_hash(void **state)
{
	uint8_t a[DNAME_MAX], b[DNAME_MAX], c[DNAME_MAX];
	int al = dname_from_str("web.prod.svc.cluster.local", a);
	int bl = dname_from_str("WEB.prod.svc.cluster.local", b);
	int cl = dname_from_str("web.prod.svc.cluster.locam", c);

	(void)state;
	dname_lower(b, (size_t)bl);
	assert_int_equal(dname_hash(a, (size_t)al), dname_hash(b, (size_t)bl));
	assert_int_not_equal(dname_hash(a, (size_t)al),
			     dname_hash(c, (size_t)cl));
	/* Every byte counts, also past the last full 8-byte word. */
	assert_int_not_equal(dname_hash(a, (size_t)al),
			     dname_hash(a, (size_t)al - 1));
	uint64_t before = dname_hash(a, (size_t)al);
	dname_hash_seed(12345);
	uint64_t seeded = dname_hash(a, (size_t)al);
	assert_int_not_equal(before, seeded);
	assert_int_equal(seeded, dname_hash(b, (size_t)bl));
	dname_hash_seed(12345);
	assert_int_equal(seeded, dname_hash(a, (size_t)al));
}

static void check_rev(const uint8_t *w, size_t n, const char *want)
{
	char buf[300];

	assert_int_equal(n, dname_len(w));
	dname_to_str(w, buf, sizeof(buf));
	assert_string_equal(buf, want);
}

static void test_reverse(void **state)
{
	uint8_t out[DNAME_MAX];
	static const uint8_t a1[4] = {10, 244, 1, 5};
	static const uint8_t a2[4] = {0, 9, 100, 255};
	static const uint8_t v6[16] = {0xfd, 0x00, 0, 0, 0, 0, 0,    0,
				       0,    0,	   0, 0, 0, 0, 0x12, 0xab};

	(void)state;
	size_t n = dname_reverse4(a1, out);
	check_rev(out, n, "5.1.244.10.in-addr.arpa.");
	assert_int_equal(n, 2 + 2 + 4 + 3 + 8 + 5 + 1);
	n = dname_reverse4(a2, out);
	check_rev(out, n, "255.100.9.0.in-addr.arpa.");

	n = dname_reverse6(v6, out);
	check_rev(out, n,
		  "b.a.2.1.0.0.0.0.0.0.0.0.0.0.0.0."
		  "0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa.");
	assert_int_equal(n, 64 + 4 + 5 + 1);
	assert_int_equal(dname_labels(out), 34);
}

static int dashed(const char *label, uint8_t out[16])
{
	memset(out, 0xee, 16);
	return dname_dashed_addr((const uint8_t *)label, strlen(label), out);
}

/* The address of a reverse name: text name in, family out. */
static int rev_addr(const char *text, uint8_t *a)
{
	uint8_t w[DNAME_MAX];
	int n = dname_from_str(text, w);

	assert_true(n > 0);
	dname_lower(w, (size_t)n);
	return dname_reverse_addr(w, (size_t)n, a);
}

static void test_reverse_addr(void **state)
{
	uint8_t a[16], w[DNAME_MAX], b[16];
	static const uint8_t v4[4] = {10, 244, 0, 5};

	(void)state;
	assert_int_equal(rev_addr("5.0.244.10.in-addr.arpa", a), 4);
	assert_memory_equal(a, v4, 4);
	assert_int_equal(rev_addr("0.0.0.0.in-addr.arpa", a), 4);
	assert_int_equal(rev_addr("255.255.255.255.in-addr.arpa", a), 4);
	/* only the names dname_reverse4 writes */
	assert_int_equal(rev_addr("05.0.244.10.in-addr.arpa", a), 0);
	assert_int_equal(rev_addr("256.0.244.10.in-addr.arpa", a), 0);
	assert_int_equal(rev_addr("0.244.10.in-addr.arpa", a), 0);
	assert_int_equal(rev_addr("1.5.0.244.10.in-addr.arpa", a), 0);
	assert_int_equal(rev_addr("a.0.244.10.in-addr.arpa", a), 0);
	assert_int_equal(rev_addr("5.0.244.10.in-addr.arpa.example", a), 0);
	assert_int_equal(rev_addr("5.0.244.10.ip6.arpa", a), 0);
	/* IPv6: the 32 nibbles, both ways; upper case lowered first */
	assert_int_equal(inet_pton(AF_INET6, "fd00:247::5", b), 1);
	size_t n = dname_reverse6(b, w);
	assert_int_equal(dname_reverse_addr(w, n, a), 6);
	assert_memory_equal(a, b, 16);
	assert_int_equal(rev_addr("5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0."
				  "0.0.0.7.4.2.0.0.0.D.F.ip6.arpa",
				  a),
			 6);
	assert_memory_equal(a, b, 16);
	assert_int_equal(rev_addr("0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0."
				  "0.0.7.4.2.0.0.0.d.f.ip6.arpa",
				  a),
			 0);
	assert_int_equal(rev_addr("g.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0."
				  "0.0.0.7.4.2.0.0.0.d.f.ip6.arpa",
				  a),
			 0);
	assert_int_equal(rev_addr("50.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0."
				  "0.0.0.7.4.2.0.0.0.d.f.ip6.arpa",
				  a),
			 0);
}

static void test_dashed_addr(void **state)
{
	uint8_t a[16];
	static const uint8_t v4[4] = {10, 244, 1, 5};
	static const uint8_t v6[16] = {0xfd, 0x00, 0x02, 0x44, 0, 0, 0, 0,
				       0,    0,	   0,	 0,    0, 0, 0, 6};
	static const uint8_t lo6[16] = {0, 0, 0, 0, 0, 0, 0, 0,
					0, 0, 0, 0, 0, 0, 0, 1};

	(void)state;
	assert_int_equal(dashed("10-244-1-5", a), 4);
	assert_memory_equal(a, v4, 4);
	assert_int_equal(dashed("fd00-244--6", a), 6);
	assert_memory_equal(a, v6, 16);
	assert_int_equal(dashed("FD00-244--6", a), 6);
	assert_memory_equal(a, v6, 16);
	assert_int_equal(dashed("--1", a), 6);
	assert_memory_equal(a, lo6, 16);
	assert_int_equal(dashed("0-0-0-0", a), 4);

	/* Not addresses. */
	assert_int_equal(dashed("web", a), 0);
	assert_int_equal(dashed("1-2-3", a), 0);
	assert_int_equal(dashed("1-2-3-4-5", a), 0);
	assert_int_equal(dashed("10-244-1-256", a), 0);
	assert_int_equal(dashed("10-244-1-", a), 0);
	assert_int_equal(dashed("-10-244-1", a), 0);
	assert_int_equal(dashed("10.244.1.5", a), 0);
	assert_int_equal(dashed("10-244-1-5x", a), 0);
	assert_int_equal(dashed("fd00-244---6", a), 0);
	assert_int_equal(dashed("fd00-244--6--1", a), 0);
	assert_int_equal(dashed("gg00--1", a), 0);
	assert_int_equal(dashed("", a), 0);
	assert_int_equal(dname_dashed_addr(NULL, 0, a), 0);
	char big[70];
	memset(big, '1', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	assert_int_equal(dashed(big, a), 0);
	/* Only the label's len bytes are read: "10-244-1-5" of a longer
	 * buffer. */
	assert_int_equal(
	    dname_dashed_addr((const uint8_t *)"10-244-1-5-7", 10, a), 4);
	assert_memory_equal(a, v4, 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_from_str),
	    cmocka_unit_test(test_from_str_errors),
	    cmocka_unit_test(test_to_str_escapes),
	    cmocka_unit_test(test_to_str_truncation),
	    cmocka_unit_test(test_len_labels),
	    cmocka_unit_test(test_lower),
	    cmocka_unit_test(test_suffix_at),
	    cmocka_unit_test(test_hash),
	    cmocka_unit_test(test_reverse),
	    cmocka_unit_test(test_reverse_addr),
	    cmocka_unit_test(test_dashed_addr),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
