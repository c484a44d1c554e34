/*
 * test_packet.c -- query parsing, response headers, OPT records and error
 * responses, byte for byte.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "server/packet.h"

/* A query under construction. */
struct msg {
	uint8_t b[1024];
	size_t n;
};

static void put8(struct msg *m, uint8_t v)
{
	m->b[m->n++] = v;
}

static void put16(struct msg *m, uint16_t v)
{
	put8(m, (uint8_t)(v >> 8));
	put8(m, (uint8_t)v);
}

static void put_bytes(struct msg *m, const void *p, size_t k)
{
	memcpy(m->b + m->n, p, k);
	m->n += k;
}

static void header(struct msg *m, uint16_t id, uint16_t flags, uint16_t qd,
		   uint16_t an, uint16_t ns, uint16_t ar)
{
	m->n = 0;
	put16(m, id);
	put16(m, flags);
	put16(m, qd);
	put16(m, an);
	put16(m, ns);
	put16(m, ar);
}

/* "a.b.c" -> wire; "" is the root. */
static void name(struct msg *m, const char *s)
{
	while (*s) {
		const char *dot = strchr(s, '.');
		size_t l = dot ? (size_t)(dot - s) : strlen(s);
		put8(m, (uint8_t)l);
		put_bytes(m, s, l);
		s += l;
		if (*s == '.')
			s++;
	}
	put8(m, 0);
}

static void question(struct msg *m, const char *n, uint16_t type,
		     uint16_t class)
{
	name(m, n);
	put16(m, type);
	put16(m, class);
}

/* OPT: root owner, payload size, ext rcode, version, DO; rdata given. */
static void opt(struct msg *m, uint16_t size, uint8_t version, bool dobit,
		const uint8_t *rdata, uint16_t rdlen)
{
	put8(m, 0);
	put16(m, 41);
	put16(m, size);
	put8(m, 0);
	put8(m, version);
	put16(m, dobit ? 0x8000 : 0);
	put16(m, rdlen);
	if (rdlen)
		put_bytes(m, rdata, rdlen);
}

static struct msg simple_query(void)
{
	struct msg m;
	header(&m, 0xbeef, 0x0100, 1, 0, 0, 0);
	question(&m, "WeB.Example.ORG", 1, 1);
	return m;
}

static void test_valid_query(void **state)
{
	struct msg m = simple_query();
	struct packet_query q;

	(void)state;
	assert_int_equal(packet_parse(m.b, m.n, &q), PACKET_OK);
	assert_int_equal(q.id, 0xbeef);
	assert_int_equal(q.flags, 0x0100);
	assert_int_equal(q.opcode, 0);
	assert_ptr_equal(q.qname, m.b + 12);
	assert_int_equal(q.qname_len, 17);
	assert_memory_equal(q.lname, "\3web\7example\3org", 17);
	assert_memory_equal(q.qname, "\3WeB\7Example\3ORG", 17);
	assert_int_equal(q.nlabels, 3);
	assert_int_equal(q.qtype, 1);
	assert_int_equal(q.qclass, 1);
	assert_false(q.edns);
	assert_false(q.do_bit);
	assert_int_equal(q.udp_size, 512);
}

/* The name lowercased eight bytes at a time: every capital, nothing else
 * (the bytes next to 'A' and 'Z', and above 0x7f, stay), in labels of
 * every length around 8; the labels' offsets. */
static void test_lowercase(void **state)
{
	struct msg m;
	struct packet_query q;
	const char *name =
	    "@ABCDEFGHIJKLMNOPQRSTUVWXYZ[`az{.A.Bc.\200\377Zz\193."
	    "XyZ0123-_.SEVENCH.EIGHTCHR.NINECHARS";
	uint8_t want[256];

	(void)state;
	header(&m, 1, 0x0100, 1, 0, 0, 0);
	question(&m, name, 1, 1);
	assert_int_equal(packet_parse(m.b, m.n, &q), PACKET_OK);
	for (size_t i = 0; i < q.qname_len; i++) {
		uint8_t c = q.qname[i];
		want[i] = c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
	}
	assert_memory_equal(q.lname, want, q.qname_len);
	assert_int_equal(q.nlabels, 8);
	size_t o = 0;
	for (unsigned i = 0; i < q.nlabels; i++) {
		assert_int_equal(q.loff[i], o);
		o += (size_t)q.lname[o] + 1;
	}
	assert_int_equal(o + 1, q.qname_len);
}

static void test_root_query(void **state)
{
	struct msg m;
	struct packet_query q;

	(void)state;
	header(&m, 1, 0, 1, 0, 0, 0);
	question(&m, "", 2, 1);
	assert_int_equal(packet_parse(m.b, m.n, &q), PACKET_OK);
	assert_int_equal(q.qname_len, 1);
	assert_int_equal(q.nlabels, 0);
	assert_int_equal(q.lname[0], 0);
	assert_int_equal(q.qtype, 2);
}

static void test_edns(void **state)
{
	struct msg m;
	struct packet_query q;
	/* a cookie and padding: options are skipped */
	static const uint8_t opts[] = {0, 10, 0, 8, 1,	2, 3, 4, 5,
				       6, 7,  8, 0, 12, 0, 2, 0, 0};

	(void)state;
	header(&m, 7, 0x0100, 1, 0, 0, 1);
	question(&m, "example.org", 28, 1);
	opt(&m, 4096, 0, true, opts, sizeof(opts));
	assert_int_equal(packet_parse(m.b, m.n, &q), PACKET_OK);
	assert_true(q.edns);
	assert_true(q.do_bit);
	assert_int_equal(q.edns_version, 0);
	assert_int_equal(q.udp_size, 4096);
	assert_int_equal(q.qtype, 28);

	/* below 512 counts as 512 */
	header(&m, 7, 0, 1, 0, 0, 1);
	question(&m, "example.org", 1, 1);
	opt(&m, 100, 0, false, NULL, 0);
	assert_int_equal(packet_parse(m.b, m.n, &q), PACKET_OK);
	assert_true(q.edns);
	assert_false(q.do_bit);
	assert_int_equal(q.udp_size, 512);
}

static void test_other_additional_skipped(void **state)
{
	struct msg m;
	struct packet_query q;
	static const uint8_t tsig_rdata[] = {1, 2, 3, 4, 5};

	(void)state;
	header(&m, 7, 0, 1, 0, 0, 3);
	question(&m, "example.org", 1, 1);
	opt(&m, 1232, 0, false, NULL, 0);
	/* an A record owned by a pointer to the question */
	put16(&m, 0xc00c);
	put16(&m, 1);
	put16(&m, 1);
	put16(&m, 0);
	put16(&m, 60);
	put16(&m, 4);
	put_bytes(&m, "\x0a\0\0\1", 4);
	/* TSIG-like record with a plain owner */
	name(&m, "key.example");
	put16(&m, 250);
	put16(&m, 255);
	put16(&m, 0);
	put16(&m, 0);
	put16(&m, sizeof(tsig_rdata));
	put_bytes(&m, tsig_rdata, sizeof(tsig_rdata));
	assert_int_equal(packet_parse(m.b, m.n, &q), PACKET_OK);
	assert_true(q.edns);
	assert_int_equal(q.udp_size, 1232);
}

static void test_drop(void **state)
{
	struct msg m = simple_query();
	struct packet_query q;
	uint8_t out[512];

	(void)state;
	assert_int_equal(packet_parse(m.b, 0, &q), PACKET_DROP);
	assert_int_equal(packet_parse(m.b, 11, &q), PACKET_DROP);
	assert_int_equal(
	    packet_error(m.b, 11, &q, PACKET_DROP, 0, 1232, out, sizeof(out)),
	    0);
	m.b[2] |= 0x80; /* QR */
	assert_int_equal(packet_parse(m.b, m.n, &q), PACKET_DROP);
	assert_int_equal(q.id, 0xbeef);
	assert_int_equal(
	    packet_error(m.b, m.n, &q, PACKET_DROP, 0, 1232, out, sizeof(out)),
	    0);
}

static void expect_formerr(struct msg *m)
{
	struct packet_query q;
	assert_int_equal(packet_parse(m->b, m->n, &q), PACKET_FORMERR);
}

static void test_header_only(void **state)
{
	struct msg m;

	(void)state;
	header(&m, 1, 0, 1, 0, 0, 0);
	expect_formerr(&m); /* 12 bytes, question missing */
	header(&m, 1, 0, 0, 0, 0, 0);
	expect_formerr(&m); /* zero questions */
}

static void test_counts(void **state)
{
	struct msg m;

	(void)state;
	header(&m, 1, 0, 2, 0, 0, 0);
	question(&m, "a.example", 1, 1);
	question(&m, "b.example", 1, 1);
	expect_formerr(&m);

	header(&m, 1, 0, 1, 1, 0, 0);
	question(&m, "a.example", 1, 1);
	expect_formerr(&m);

	header(&m, 1, 0, 1, 0, 1, 0);
	question(&m, "a.example", 1, 1);
	expect_formerr(&m);
}

static void test_pointer_in_question(void **state)
{
	struct msg m;
	struct packet_query q;
	uint8_t out[512];

	(void)state;
	header(&m, 0x1234, 0x0100, 1, 0, 0, 0);
	put8(&m, 1);
	put8(&m, 'a');
	put16(&m, 0xc00c);
	put16(&m, 1);
	put16(&m, 1);
	assert_int_equal(packet_parse(m.b, m.n, &q), PACKET_FORMERR);
	assert_null(q.qname);
	/* FORMERR without a question: header only, RD echoed */
	size_t n = packet_error(m.b, m.n, &q, PACKET_FORMERR, 0, 1232, out,
				sizeof(out));
	static const uint8_t want[] = {0x12, 0x34, 0x81, 0x01, 0, 0,
				       0,    0,	   0,	 0,    0, 0};
	assert_int_equal(n, sizeof(want));
	assert_memory_equal(out, want, sizeof(want));

	/* extended label types 0x40 and 0x80 are refused too */
	header(&m, 1, 0, 1, 0, 0, 0);
	put8(&m, 0x41);
	put8(&m, 'a');
	put8(&m, 0);
	put16(&m, 1);
	put16(&m, 1);
	expect_formerr(&m);
}

static void test_label_too_long(void **state)
{
	struct msg m;
	char label[80];

	(void)state;
	memset(label, 'x', sizeof(label));
	label[63] = 0;
	header(&m, 1, 0, 1, 0, 0, 0);
	question(&m, label, 1, 1);
	struct packet_query q;
	assert_int_equal(packet_parse(m.b, m.n, &q), PACKET_OK);

	label[63] = 'x';
	label[64] = 0;
	header(&m, 1, 0, 1, 0, 0, 0);
	question(&m, label, 1, 1);
	expect_formerr(&m);
}

static void test_name_too_long(void **state)
{
	struct msg m;
	struct packet_query q;
	char n[300];

	(void)state;
	/* 4 labels of 63 = 256 bytes + root: too long */
	memset(n, 'a', sizeof(n));
	for (int i = 0; i < 3; i++)
		n[63 + i * 64] = '.';
	n[255] = 0;
	header(&m, 1, 0, 1, 0, 0, 0);
	question(&m, n, 1, 1);
	expect_formerr(&m);

	/* 3 x 63 + 61 = 253 + 4 length bytes + root = 255: the maximum */
	n[63 * 3 + 3 + 61] = 0;
	header(&m, 1, 0, 1, 0, 0, 0);
	question(&m, n, 1, 1);
	assert_int_equal(packet_parse(m.b, m.n, &q), PACKET_OK);
	assert_int_equal(q.qname_len, 255);
	assert_int_equal(q.nlabels, 4);

	/* one more byte: 256 */
	n[63 * 3 + 3 + 61] = 'a';
	n[63 * 3 + 3 + 62] = 0;
	header(&m, 1, 0, 1, 0, 0, 0);
	question(&m, n, 1, 1);
	expect_formerr(&m);
}

static void test_truncated(void **state)
{
	struct msg m;

	(void)state;
	/* name runs off the end */
	header(&m, 1, 0, 1, 0, 0, 0);
	put8(&m, 7);
	put_bytes(&m, "exam", 4);
	expect_formerr(&m);

	/* name without its root label */
	header(&m, 1, 0, 1, 0, 0, 0);
	put8(&m, 3);
	put_bytes(&m, "org", 3);
	expect_formerr(&m);

	/* type and class cut */
	header(&m, 1, 0, 1, 0, 0, 0);
	name(&m, "example.org");
	put16(&m, 1);
	put8(&m, 0);
	expect_formerr(&m);

	/* ARCOUNT 1, nothing there */
	header(&m, 1, 0, 1, 0, 0, 1);
	question(&m, "example.org", 1, 1);
	expect_formerr(&m);

	/* OPT fixed part cut */
	header(&m, 1, 0, 1, 0, 0, 1);
	question(&m, "example.org", 1, 1);
	put8(&m, 0);
	put16(&m, 41);
	put16(&m, 4096);
	expect_formerr(&m);

	/* rdata longer than the packet */
	header(&m, 1, 0, 1, 0, 0, 1);
	question(&m, "example.org", 1, 1);
	opt(&m, 4096, 0, false, NULL, 0);
	m.b[m.n - 1] = 4;
	put16(&m, 10);
	expect_formerr(&m);

	/* an EDNS option longer than the rdata */
	static const uint8_t badopt[] = {0, 10, 0, 9, 1, 2, 3, 4};
	header(&m, 1, 0, 1, 0, 0, 1);
	question(&m, "example.org", 1, 1);
	opt(&m, 4096, 0, false, badopt, sizeof(badopt));
	expect_formerr(&m);

	/* an owner name that runs off the end */
	header(&m, 1, 0, 1, 0, 0, 1);
	question(&m, "example.org", 1, 1);
	put8(&m, 5);
	put8(&m, 'a');
	expect_formerr(&m);
}

static void test_trailing_garbage(void **state)
{
	struct msg m;

	(void)state;
	header(&m, 1, 0, 1, 0, 0, 0);
	question(&m, "example.org", 1, 1);
	put8(&m, 0);
	expect_formerr(&m);

	header(&m, 1, 0, 1, 0, 0, 1);
	question(&m, "example.org", 1, 1);
	opt(&m, 4096, 0, false, NULL, 0);
	put16(&m, 0xdead);
	expect_formerr(&m);
}

static void test_bad_opt(void **state)
{
	struct msg m;
	struct packet_query q;

	(void)state;
	/* owner not the root */
	header(&m, 1, 0, 1, 0, 0, 1);
	question(&m, "example.org", 1, 1);
	name(&m, "org");
	put16(&m, 41);
	put16(&m, 4096);
	put16(&m, 0);
	put16(&m, 0);
	put16(&m, 0);
	expect_formerr(&m);

	/* owner a pointer (to the question) */
	header(&m, 1, 0, 1, 0, 0, 1);
	question(&m, "example.org", 1, 1);
	put16(&m, 0xc00c);
	put16(&m, 41);
	put16(&m, 4096);
	put16(&m, 0);
	put16(&m, 0);
	put16(&m, 0);
	expect_formerr(&m);

	/* two OPTs */
	header(&m, 1, 0x0100, 1, 0, 0, 2);
	question(&m, "example.org", 1, 1);
	opt(&m, 4096, 0, true, NULL, 0);
	opt(&m, 4096, 0, false, NULL, 0);
	assert_int_equal(packet_parse(m.b, m.n, &q), PACKET_FORMERR);
	assert_non_null(q.qname);
	assert_true(q.edns);

	/* FORMERR response: question echoed, OPT since there was one (DO
	 * clear: we sign nothing) */
	uint8_t out[512];
	size_t n = packet_error(m.b, m.n, &q, PACKET_FORMERR, 0, 1232, out,
				sizeof(out));
	static const uint8_t want[] = {
	    0,	 1,   0x81, 0x01, 0,	1,    0, 0,   0,   0,	0, 1, 7, 'e',
	    'x', 'a', 'm',  'p',  'l',	'e',  3, 'o', 'r', 'g', 0, 0, 1, 0,
	    1,	 0,   0,    41,	  0x04, 0xd0, 0, 0,   0,   0,	0, 0};
	assert_int_equal(n, sizeof(want));
	assert_memory_equal(out, want, sizeof(want));
}

/* COOKIE (RFC 7873): a client cookie of 8 bytes, or 8 + a server cookie
 * of 8 to 32, is ignored (no cookie in the answer); any other length is
 * FORMERR (section 5.2.2), answered with an OPT. */
static void test_cookie(void **state)
{
	static const size_t good[] = {8, 16, 24, 40};
	static const size_t bad[] = {0, 1, 7, 9, 15, 41, 48};
	uint8_t rdata[64];
	struct msg m;
	struct packet_query q;

	(void)state;
	memset(rdata, 0xa5, sizeof(rdata));
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		rdata[0] = 0;
		rdata[1] = 10;
		rdata[2] = 0;
		rdata[3] = (uint8_t)good[i];
		header(&m, 1, 0, 1, 0, 0, 1);
		question(&m, "example.org", 1, 1);
		opt(&m, 1232, 0, false, rdata, (uint16_t)(4 + good[i]));
		assert_int_equal(packet_parse(m.b, m.n, &q), PACKET_OK);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		rdata[0] = 0;
		rdata[1] = 10;
		rdata[2] = 0;
		rdata[3] = (uint8_t)bad[i];
		header(&m, 1, 0, 1, 0, 0, 1);
		question(&m, "example.org", 1, 1);
		opt(&m, 1232, 0, false, rdata, (uint16_t)(4 + bad[i]));
		assert_int_equal(packet_parse(m.b, m.n, &q), PACKET_FORMERR);
		assert_true(q.edns);
	}
	/* several options, the cookie among them */
	static const uint8_t list[] = {0, 100, 0, 2, 0xab, 0xcd, 0, 10, 0,
				       8, 1,   2, 3, 4,	   5,	 6, 7,	8,
				       0, 12,  0, 3, 0,	   0,	 0};
	header(&m, 1, 0, 1, 0, 0, 1);
	question(&m, "example.org", 1, 1);
	opt(&m, 1232, 0, false, list, sizeof(list));
	assert_int_equal(packet_parse(m.b, m.n, &q), PACKET_OK);
}

static void test_badvers(void **state)
{
	struct msg m;
	struct packet_query q;
	uint8_t out[512];

	(void)state;
	header(&m, 0xabcd, 0x0110, 1, 0, 0, 1);
	question(&m, "example.org", 1, 1);
	opt(&m, 4096, 1, false, NULL, 0);
	assert_int_equal(packet_parse(m.b, m.n, &q), PACKET_BADVERS);
	assert_true(q.edns);
	assert_int_equal(q.edns_version, 1);

	size_t n = packet_error(m.b, m.n, &q, PACKET_BADVERS, 0, 1232, out,
				sizeof(out));
	/* header rcode 0 (RD and CD copied), OPT ext-rcode 1 (16 =
	 * BADVERS), version 0 */
	static const uint8_t want[] = {
	    0xab, 0xcd, 0x81, 0x10, 0,	  1,	0, 0,	0,   0,	  0, 1, 7, 'e',
	    'x',  'a',	'm',  'p',  'l',  'e',	3, 'o', 'r', 'g', 0, 0, 1, 0,
	    1,	  0,	0,    41,   0x04, 0xd0, 1, 0,	0,   0,	  0, 0};
	assert_int_equal(n, sizeof(want));
	assert_memory_equal(out, want, sizeof(want));

	/* a malformed packet is FORMERR even with a version > 0 */
	put8(&m, 0);
	expect_formerr(&m);
}

static void test_notimp(void **state)
{
	struct msg m;
	struct packet_query q;
	uint8_t out[512];

	(void)state;
	/* NOTIFY: opcode echoed, question echoed, AA of the request not */
	header(&m, 0x0102, 0x2400, 1, 0, 0, 0);
	question(&m, "example.org", 6, 1);
	assert_int_equal(packet_parse(m.b, m.n, &q), PACKET_NOTIMP);
	assert_int_equal(q.opcode, 4);
	size_t n = packet_error(m.b, m.n, &q, PACKET_NOTIMP, 0, 1232, out,
				sizeof(out));
	static const uint8_t want[] = {
	    0x01, 0x02, 0xa0, 0x04, 0,	 1, 0,	 0,   0,   0, 0, 0, 7, 'e', 'x',
	    'a',  'm',	'p',  'l',  'e', 3, 'o', 'r', 'g', 0, 0, 6, 0, 1};
	assert_int_equal(n, sizeof(want));
	assert_memory_equal(out, want, sizeof(want));

	/* UPDATE: zone section, prerequisites and updates; still NOTIMP */
	header(&m, 9, 0x2800, 1, 1, 1, 0);
	question(&m, "example.org", 6, 1);
	put16(&m, 0xc00c);
	assert_int_equal(packet_parse(m.b, m.n, &q), PACKET_NOTIMP);
	assert_int_equal(q.opcode, 5);

	/* status request with no question: header only */
	header(&m, 9, 0x1000, 0, 0, 0, 0);
	assert_int_equal(packet_parse(m.b, m.n, &q), PACKET_NOTIMP);
	n = packet_error(m.b, m.n, &q, PACKET_NOTIMP, 0, 1232, out,
			 sizeof(out));
	static const uint8_t want2[] = {0, 9, 0x90, 0x04, 0, 0,
					0, 0, 0,    0,	  0, 0};
	assert_int_equal(n, sizeof(want2));
	assert_memory_equal(out, want2, sizeof(want2));
}

static void test_error_rcode(void **state)
{
	struct msg m = simple_query();
	struct packet_query q;
	uint8_t out[512];

	(void)state;
	assert_int_equal(packet_parse(m.b, m.n, &q), PACKET_OK);
	size_t n = packet_error(m.b, m.n, &q, PACKET_OK, PACKET_RCODE_REFUSED,
				1232, out, sizeof(out));
	assert_int_equal(n, m.n);
	assert_memory_equal(out, "\xbe\xef\x81\x05\0\1\0\0\0\0\0\0", 12);
	assert_memory_equal(out + 12, m.b + 12, m.n - 12);

	/* too small for anything */
	assert_int_equal(packet_error(m.b, m.n, &q, PACKET_OK,
				      PACKET_RCODE_SERVFAIL, 1232, out, 11),
			 0);
	/* room for the header only */
	n = packet_error(m.b, m.n, &q, PACKET_OK, PACKET_RCODE_SERVFAIL, 1232,
			 out, 12);
	assert_int_equal(n, 12);
	assert_memory_equal(out, "\xbe\xef\x81\x02\0\0\0\0\0\0\0\0", 12);
}

static void test_begin_counts_opt(void **state)
{
	struct msg m;
	struct packet_query q;
	uint8_t out[512];

	(void)state;
	header(&m, 0x4242, 0x0130, 1, 0, 0, 1); /* RD, AD, CD */
	question(&m, "Svc.NS", 33, 1);
	opt(&m, 1400, 0, true, NULL, 0);
	assert_int_equal(packet_parse(m.b, m.n, &q), PACKET_OK);

	size_t n = packet_begin(&q, PACKET_FLAG_AA, PACKET_RCODE_NXDOMAIN, out,
				sizeof(out));
	static const uint8_t hdr[] = {0x42, 0x42, 0x85, 0x13, 0, 1,
				      0,    0,	  0,	0,    0, 0};
	assert_int_equal(n, 12 + 8 + 4);
	assert_memory_equal(out, hdr, 12);
	assert_memory_equal(out + 12, "\3Svc\2NS\0\0\x21\0\1", 12);

	packet_set_counts(out, 2, 1, 3);
	assert_memory_equal(out + 4, "\0\1\0\2\0\1\0\3", 8);
	packet_set_counts(out, 0, 1, 0);

	/* our OPT: DO clear although the query had it; relayed from an
	 * upstream that set DO: echoed */
	size_t n2 = packet_put_opt(&q, 1232, 0, out, n, sizeof(out));
	assert_int_equal(n2, n + 11);
	static const uint8_t optrr[] = {0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0};
	assert_memory_equal(out + n, optrr, 11);
	assert_memory_equal(out + 10, "\0\1", 2); /* ARCOUNT bumped */
	packet_set_counts(out, 0, 1, 0);
	assert_int_equal(
	    packet_put_opt_do(&q, 1232, 0, true, out, n, sizeof(out)), n + 11);
	static const uint8_t optdo[] = {0, 0,	 41, 0x04, 0xd0, 0,
					0, 0x80, 0,  0,	   0};
	assert_memory_equal(out + n, optdo, 11);
	/* an upstream answer without DO: clear */
	packet_set_counts(out, 0, 1, 0);
	assert_int_equal(
	    packet_put_opt_do(&q, 1232, 0, false, out, n, sizeof(out)), n + 11);
	assert_memory_equal(out + n, optrr, 11);

	/* no room */
	assert_int_equal(packet_put_opt(&q, 1232, 0, out, n, n + 10), 0);
	assert_int_equal(packet_begin(&q, 0, 0, out, n - 1), 0);
	assert_int_equal(packet_begin(&q, 0, 0, out, n), n);
}

static void test_name_str(void **state)
{
	char buf[1100];

	(void)state;
	assert_int_equal(packet_name_str((const uint8_t *)"", buf, sizeof(buf)),
			 1);
	assert_string_equal(buf, ".");
	assert_int_equal(packet_name_str((const uint8_t *)"\3Web\4prod\3svc",
					 buf, sizeof(buf)),
			 13);
	assert_string_equal(buf, "Web.prod.svc.");

	static const uint8_t odd[] = {5, 'a', '.',  'b',  '\\', ' ',
				      3, 0,   0x7f, 0xff, 0};
	size_t n = packet_name_str(odd, buf, sizeof(buf));
	assert_string_equal(buf, "a\\.b\\\\\\ .\\000\\127\\255.");
	assert_int_equal(n, strlen(buf));

	/* truncated to the buffer, still terminated */
	n = packet_name_str((const uint8_t *)"\7example\3org", buf, 6);
	assert_int_equal(n, 5);
	assert_string_equal(buf, "examp");
	n = packet_name_str((const uint8_t *)"", buf, 1);
	assert_int_equal(n, 0);
	assert_string_equal(buf, "");

	/* a 255-byte name of escapes fits in 1009 bytes + NUL */
	uint8_t big[256];
	for (int i = 0; i < 4; i++) {
		big[i * 64] = 63;
		memset(big + i * 64 + 1, 0, 63);
	}
	big[192] = 61;
	big[254] = 0;
	n = packet_name_str(big, buf, sizeof(buf));
	assert_int_equal(n, (63 + 63 + 63 + 61) * 4 + 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_valid_query),
	    cmocka_unit_test(test_root_query),
	    cmocka_unit_test(test_lowercase),
	    cmocka_unit_test(test_edns),
	    cmocka_unit_test(test_other_additional_skipped),
	    cmocka_unit_test(test_drop),
	    cmocka_unit_test(test_header_only),
	    cmocka_unit_test(test_counts),
	    cmocka_unit_test(test_pointer_in_question),
	    cmocka_unit_test(test_label_too_long),
	    cmocka_unit_test(test_name_too_long),
	    cmocka_unit_test(test_truncated),
	    cmocka_unit_test(test_trailing_garbage),
	    cmocka_unit_test(test_bad_opt),
	    cmocka_unit_test(test_cookie),
	    cmocka_unit_test(test_badvers),
	    cmocka_unit_test(test_notimp),
	    cmocka_unit_test(test_error_rcode),
	    cmocka_unit_test(test_begin_counts_opt),
	    cmocka_unit_test(test_name_str),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
