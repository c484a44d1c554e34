/*
 * test_loadbalance.c -- address records shuffled in wire format, CNAMEs
 * and other records kept in place, bad input left alone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <ldns/ldns.h>

#include "server/loadbalance.h"

/* A response with the answer records given as zone-file lines. */
static size_t build(uint8_t *out, size_t max, ldns_pkt_rcode rcode,
		    const char *const *rrs, size_t n)
{
	ldns_pkt *p = NULL;
	uint8_t *wire = NULL;
	size_t len = 0;

	assert_int_equal(ldns_pkt_query_new_frm_str(&p, "x.example.",
						    LDNS_RR_TYPE_A,
						    LDNS_RR_CLASS_IN, 0),
			 LDNS_STATUS_OK);
	ldns_pkt_set_qr(p, true);
	ldns_pkt_set_rcode(p, rcode);
	for (size_t i = 0; i < n; i++) {
		ldns_rr *rr = NULL;
		assert_int_equal(
		    ldns_rr_new_frm_str(&rr, rrs[i], 0, NULL, NULL),
		    LDNS_STATUS_OK);
		ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER, rr);
	}
	assert_int_equal(ldns_pkt2wire(&wire, p, &len), LDNS_STATUS_OK);
	assert_true(len <= max);
	memcpy(out, wire, len);
	free(wire);
	ldns_pkt_free(p);
	return len;
}

/* The answer records as "TYPE RDATA" lines joined by ';'. */
static void answers(const uint8_t *m, size_t len, char *buf, size_t blen)
{
	ldns_pkt *p = NULL;

	assert_int_equal(ldns_wire2pkt(&p, m, len), LDNS_STATUS_OK);
	buf[0] = 0;
	ldns_rr_list *a = ldns_pkt_answer(p);
	for (size_t i = 0; i < ldns_rr_list_rr_count(a); i++) {
		ldns_rr *rr = ldns_rr_list_rr(a, i);
		char *rd = ldns_rdf2str(ldns_rr_rdf(rr, 0));
		char *ty = ldns_rr_type2str(ldns_rr_get_type(rr));
		char *ow = ldns_rdf2str(ldns_rr_owner(rr));
		size_t k = strlen(buf);
		snprintf(buf + k, blen - k, "%s %s %s;", ow, ty, rd);
		free(rd);
		free(ty);
		free(ow);
	}
	ldns_pkt_free(p);
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The records of answers() sorted, to compare as sets. */
static void sorted(const char *in, char *out, size_t olen)
{
	char copy[4096], *v[64], *save;
	size_t n = 0;

	snprintf(copy, sizeof(copy), "%s", in);
	for (char *t = strtok_r(copy, ";", &save); t && n < 64;
	     t = strtok_r(NULL, ";", &save))
		v[n++] = t;
	qsort(v, n, sizeof(v[0]), cmp);
	out[0] = 0;
	for (size_t i = 0; i < n; i++) {
		size_t k = strlen(out);
		snprintf(out + k, olen - k, "%s;", v[i]);
	}
}

static void test_shuffle(void **state)
{
	static const char *const rrs[] = {
	    "x.example. 30 IN CNAME y.example.",
	    "y.example. 30 IN A 192.0.2.1",
	    "y.example. 30 IN A 192.0.2.2",
	    "y.example. 30 IN A 192.0.2.3",
	    "y.example. 30 IN A 192.0.2.4",
	    "y.example. 30 IN AAAA 2001:db8::5",
	    "y.example. 30 IN AAAA 2001:db8::6",
	};
	uint8_t m[1024];
	char before[4096], after[4096], s1[4096], s2[4096];
	uint64_t rnd = 42;
	int changed = 0;

	(void)state;
	size_t len = build(m, sizeof(m), LDNS_RCODE_NOERROR, rrs, 7);
	answers(m, len, before, sizeof(before));
	sorted(before, s1, sizeof(s1));
	for (int i = 0; i < 50; i++) {
		loadbalance_shuffle(m, len, &rnd);
		answers(m, len, after, sizeof(after));
		sorted(after, s2, sizeof(s2));
		assert_string_equal(s1, s2); /* the same records */
		assert_memory_equal(after, "x.example. CNAME y.example.;", 27);
		/* each type keeps its places: four A, then two AAAA */
		const char *aaaa = strstr(after, "AAAA");
		assert_non_null(aaaa);
		assert_null(strstr(aaaa + 4, " A "));
		changed += strcmp(before, after) != 0;
	}
	assert_true(changed > 40);
}

static void test_left_alone(void **state)
{
	static const char *const rrs[] = {
	    "x.example. 30 IN A 192.0.2.1",
	    "x.example. 30 IN A 192.0.2.2",
	    "x.example. 30 IN A 192.0.2.3",
	};
	uint8_t m[1024], copy[1024];
	uint64_t rnd = 0; /* a zero seed is replaced */

	(void)state;
	/* not NOERROR */
	size_t len = build(m, sizeof(m), LDNS_RCODE_SERVFAIL, rrs, 3);
	memcpy(copy, m, len);
	loadbalance_shuffle(m, len, &rnd);
	assert_memory_equal(m, copy, len);
	/* one record: nothing to do */
	len = build(m, sizeof(m), LDNS_RCODE_NOERROR, rrs, 1);
	memcpy(copy, m, len);
	loadbalance_shuffle(m, len, &rnd);
	assert_memory_equal(m, copy, len);
	/* cut short anywhere: never read past the end, never changed */
	len = build(m, sizeof(m), LDNS_RCODE_NOERROR, rrs, 3);
	for (size_t cut = 0; cut < len; cut++) {
		uint8_t *b = malloc(cut ? cut : 1);
		memcpy(b, m, cut);
		loadbalance_shuffle(b, cut, &rnd);
		assert_memory_equal(b, m, cut);
		free(b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_shuffle),
	    cmocka_unit_test(test_left_alone),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
