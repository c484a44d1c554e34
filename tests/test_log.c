/*
 * test_log.c -- log lines and the query log formatter.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "server/log.h"

/* NOERROR response to "A IN example.org." with RD, AA: 12 + 17 + 16 */
static const uint8_t resp_a[] = {
    0xcf, 0xcf, 0x85, 0x00, 0,	 1, 0,	 1,   0,   0, 0, 0,  7, 'e', 'x',
    'a',  'm',	'p',  'l',  'e', 3, 'o', 'r', 'g', 0, 0, 1,  0, 1,   0xc0,
    0x0c, 0,	1,    0,    1,	 0, 0,	 0,   5,   0, 4, 10, 0, 0,   1};

static struct sockaddr_in peer4(void)
{
	struct sockaddr_in sin = {.sin_family = AF_INET,
				  .sin_port = htons(53583)};
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	return sin;
}

static struct log_query lq_base(const struct sockaddr *peer)
{
	struct log_query lq = {
	    .peer = peer,
	    .tcp = false,
	    .id = 53231,
	    .qtype = 1,
	    .qclass = 1,
	    .qname = "example.org.",
	    .req_size = 41,
	    .do_bit = false,
	    .bufsize = 4096,
	    .resp = resp_a,
	    .resp_size = sizeof(resp_a),
	    .duration = 0.000116,
	};
	return lq;
}

static const char *fmt(const char *format, const struct log_query *lq)
{
	static char buf[1024];
	size_t n = log_query_format(format, lq, buf, sizeof(buf));
	assert_int_equal(n, strlen(buf));
	return buf;
}

static void test_default_line(void **state)
{
	struct sockaddr_in sin = peer4();
	struct log_query lq = lq_base((struct sockaddr *)&sin);

	(void)state;
	assert_string_equal(
	    fmt(log_default_format, &lq),
	    "127.0.0.1:53583 - 53231 \"A IN example.org. udp 41 "
	    "false 4096\" NOERROR qr,aa,rd 45 0.000116s");
	/* NULL format is the default */
	assert_string_equal(fmt(NULL, &lq), fmt(log_default_format, &lq));
	char a[1024];
	strcpy(a, fmt("{common}", &lq));
	assert_string_equal(a, fmt(log_default_format, &lq));
	assert_string_equal(
	    fmt("{combined}", &lq),
	    "127.0.0.1:53583 - 53231 \"A IN example.org. udp 41 "
	    "false 4096\" NOERROR qr,aa,rd 45 0.000116s \"0\"");
}

static void test_placeholders(void **state)
{
	struct sockaddr_in sin = peer4();
	struct log_query lq = lq_base((struct sockaddr *)&sin);

	(void)state;
	assert_string_equal(fmt("{type}", &lq), "A");
	assert_string_equal(fmt("{class}", &lq), "IN");
	assert_string_equal(fmt("{name}", &lq), "example.org.");
	assert_string_equal(fmt("{proto}", &lq), "udp");
	assert_string_equal(fmt("{size}", &lq), "41");
	assert_string_equal(fmt("{remote}", &lq), "127.0.0.1");
	assert_string_equal(fmt("{port}", &lq), "53583");
	assert_string_equal(fmt("{local}", &lq), "-");
	assert_string_equal(fmt("{>id}", &lq), "53231");
	assert_string_equal(fmt("{>opcode}", &lq), "0");
	assert_string_equal(fmt("{>do}", &lq), "false");
	assert_string_equal(fmt("{>bufsize}", &lq), "4096");
	assert_string_equal(fmt("{rcode}", &lq), "NOERROR");
	assert_string_equal(fmt("{>rflags}", &lq), "qr,aa,rd");
	assert_string_equal(fmt("{rsize}", &lq), "45");
	assert_string_equal(fmt("{duration}", &lq), "0.000116s");
	assert_string_equal(fmt("{bogus} {/meta}", &lq), "- -");
	assert_string_equal(fmt("no labels", &lq), "no labels");
	/* placeholders found as CoreDNS finds them */
	assert_string_equal(fmt("{{type}}", &lq), "{A}");
	assert_string_equal(fmt("a } {type} {", &lq), "a } A {");

	lq.tcp = true;
	lq.do_bit = true;
	lq.opcode = 2;
	lq.qtype = 65;
	lq.qclass = 3;
	lq.duration = 1.5;
	assert_string_equal(fmt("{proto} {>do} {>opcode} {type} {class}", &lq),
			    "tcp true 2 HTTPS CH");
	/* CoreDNS reports the largest message size for TCP */
	assert_string_equal(fmt("{>bufsize}", &lq), "65535");
	assert_string_equal(fmt("{duration}", &lq), "1.5s");
	lq.duration = 2;
	assert_string_equal(fmt("{duration}", &lq), "2s");
	lq.duration = 0;
	assert_string_equal(fmt("{duration}", &lq), "0s");
	lq.duration = 0.037990251;
	assert_string_equal(fmt("{duration}", &lq), "0.037990251s");

	lq.tcp = false;
	lq.bufsize = 0;
	assert_string_equal(fmt("{>bufsize}", &lq), "512");

	lq.qtype = 65534;
	lq.qclass = 77;
	assert_string_equal(fmt("{type} {class}", &lq), "TYPE65534 CLASS77");

	lq.resp = NULL;
	assert_string_equal(fmt("{rcode} {rsize} {>rflags}", &lq), "- - -");
	lq.peer = NULL;
	assert_string_equal(fmt("{remote}:{port}", &lq), "-:-");
}

static void test_ipv6(void **state)
{
	struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6,
				    .sin6_port = htons(50759)};
	struct sockaddr_in6 loc6 = {.sin6_family = AF_INET6};

	(void)state;
	inet_pton(AF_INET6, "::1", &sin6.sin6_addr);
	inet_pton(AF_INET6, "fd00::53", &loc6.sin6_addr);
	struct log_query lq = lq_base((struct sockaddr *)&sin6);
	lq.local = (struct sockaddr *)&loc6;
	/* CoreDNS writes IPv6 addresses in brackets */
	assert_string_equal(fmt("{remote}:{port} {local}", &lq),
			    "[::1]:50759 [fd00::53]");
	assert_string_equal(fmt(log_default_format, &lq),
			    "[::1]:50759 - 53231 \"A IN example.org. udp 41 "
			    "false 4096\" NOERROR qr,aa,rd 45 0.000116s");
}

static void test_rflags_rcode(void **state)
{
	struct sockaddr_in sin = peer4();
	struct log_query lq = lq_base((struct sockaddr *)&sin);
	uint8_t r[64];

	(void)state;
	memset(r, 0, sizeof(r));
	lq.resp = r;
	lq.resp_size = 12;
	r[2] = 0xff;
	r[3] = 0xf3; /* every flag, z included; NXDOMAIN */
	assert_string_equal(fmt("{>rflags} {rcode}", &lq),
			    "qr,aa,tc,rd,ra,z,ad,cd NXDOMAIN");
	r[2] = 0;
	r[3] = 0x05;
	/* no flag: empty, as CoreDNS */
	assert_string_equal(fmt("[{>rflags}] {rcode}", &lq), "[] REFUSED");
	r[3] = 0x0c;
	assert_string_equal(fmt("{rcode}", &lq), "12");

	/* BADVERS: header 0, OPT ext-rcode 1; CoreDNS (miekg) says BADSIG */
	static const uint8_t badvers[] = {
	    0, 1, 0x81, 0x00, 0, 1,  0, 0,    0, 0, 0, 1, 0, 0,
	    1, 0, 1,	0,    0, 41, 4, 0xd0, 1, 0, 0, 0, 0, 0};
	lq.resp = badvers;
	lq.resp_size = sizeof(badvers);
	assert_string_equal(fmt("{rcode} {rsize}", &lq), "BADSIG 28");
	/* a truncated response is read as far as it goes */
	lq.resp_size = 20;
	assert_string_equal(fmt("{rcode}", &lq), "NOERROR");
}

static void test_names(void **state)
{
	char buf[16];
	static const struct {
		uint16_t t;
		const char *n;
	} types[] = {
	    {1, "A"},	   {2, "NS"},	   {5, "CNAME"},	 {6, "SOA"},
	    {12, "PTR"},   {13, "HINFO"},  {15, "MX"},		 {16, "TXT"},
	    {28, "AAAA"},  {33, "SRV"},	   {35, "NAPTR"},	 {41, "OPT"},
	    {43, "DS"},	   {46, "RRSIG"},  {47, "NSEC"},	 {48, "DNSKEY"},
	    {50, "NSEC3"}, {64, "SVCB"},   {65, "HTTPS"},	 {250, "TSIG"},
	    {251, "IXFR"}, {252, "AXFR"},  {255, "ANY"},	 {257, "CAA"},
	    {0, "TYPE0"},  {11, "TYPE11"}, {65535, "TYPE65535"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		assert_string_equal(log_type_name(types[i].t, buf), types[i].n);
	assert_string_equal(log_rcode_name(0, buf), "NOERROR");
	assert_string_equal(log_rcode_name(3, buf), "NXDOMAIN");
	assert_string_equal(log_rcode_name(5, buf), "REFUSED");
	assert_string_equal(log_rcode_name(9, buf), "NOTAUTH");
	assert_string_equal(log_rcode_name(12, buf), "RCODE12");
	assert_string_equal(log_rcode_name(16, buf), "BADSIG");
	assert_string_equal(log_rcode_name(4095, buf), "RCODE4095");
}

static void test_truncation(void **state)
{
	struct sockaddr_in sin = peer4();
	struct log_query lq = lq_base((struct sockaddr *)&sin);
	char buf[10];

	(void)state;
	size_t n = log_query_format(log_default_format, &lq, buf, sizeof(buf));
	assert_int_equal(n, 9);
	assert_string_equal(buf, "127.0.0.1");
	assert_int_equal(log_query_format("{type}", &lq, buf, 0), 0);
	n = log_query_format("{name}", &lq, buf, 1);
	assert_int_equal(n, 0);
	assert_string_equal(buf, "");
}

/* Run f with stdout going to a pipe; return what it wrote. */
static const char *capture(void (*f)(void))
{
	static char out[8192];
	int p[2];

	fflush(stdout);
	assert_int_equal(pipe(p), 0);
	int saved = dup(STDOUT_FILENO);
	dup2(p[1], STDOUT_FILENO);
	close(p[1]);
	f();
	dup2(saved, STDOUT_FILENO);
	close(saved);
	ssize_t n = read(p[0], out, sizeof(out) - 1);
	close(p[0]);
	out[n > 0 ? n : 0] = 0;
	return out;
}

static void emit_levels(void)
{
	log_info("plugin/reload: Running configuration SHA512 = %s", "ab");
	log_warn("no %s", "kubeconfig");
	log_error("listen udp %s: bind: %s", "127.0.0.1:53",
		  "Address already in use");
}

static void emit_long(void)
{
	char big[6000];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	log_info("%s", big);
}

static void emit_query(void)
{
	struct sockaddr_in sin = peer4();
	struct log_query lq = lq_base((struct sockaddr *)&sin);
	log_query(log_default_format, &lq);
}

static void test_log_lines(void **state)
{
	(void)state;
	assert_string_equal(capture(emit_levels),
			    "[INFO] plugin/reload: Running configuration "
			    "SHA512 = ab\n"
			    "[WARNING] no kubeconfig\n"
			    "[ERROR] listen udp 127.0.0.1:53: bind: Address "
			    "already in use\n");
	const char *l = capture(emit_long);
	size_t n = strlen(l);
	assert_true(n > 4000 && n < 4097);
	assert_memory_equal(l, "[INFO] xxx", 10);
	assert_int_equal(l[n - 1], '\n');
	assert_int_equal(l[n - 2], 'x');
	assert_string_equal(
	    capture(emit_query),
	    "[INFO] 127.0.0.1:53583 - 53231 \"A IN example.org. "
	    "udp 41 false 4096\" NOERROR qr,aa,rd 45 "
	    "0.000116s\n");
}

/* At most one line per interval, each saying how many events it stands
 * for: none lost, none counted twice. */
static void test_limit(void **state)
{
	struct log_limit l = {0};

	(void)state;
	assert_int_equal(log_limit_event(&l, 1000, 10000), 1);
	assert_int_equal(log_limit_event(&l, 1001, 10000), 0);
	assert_int_equal(log_limit_event(&l, 5000, 10000), 0);
	assert_int_equal(log_limit_event(&l, 10999, 10000), 0);
	/* due: the three held and this one */
	assert_int_equal(log_limit_event(&l, 11000, 10000), 4);
	assert_int_equal(log_limit_event(&l, 11001, 10000), 0);
	/* long after: this one and the one held */
	assert_int_equal(log_limit_event(&l, 90000, 10000), 2);
	assert_int_equal(log_limit_event(&l, 100000, 10000), 1);
}

#define LIMIT_THREADS 4
#define LIMIT_EVENTS 100000

static struct log_limit shared_limit;
static _Atomic uint64_t reported, lines;

static void *limit_events(void *arg)
{
	(void)arg;
	for (uint64_t i = 0; i < LIMIT_EVENTS; i++) {
		/* a clock that moves 1 ms per 100 events: about 100 lines
		 * due in all, raced for by the threads */
		uint64_t n = log_limit_event(&shared_limit, i / 100, 10);
		if (n) {
			atomic_fetch_add(&reported, n);
			atomic_fetch_add(&lines, 1);
		}
	}
	return NULL;
}

static void test_limit_threads(void **state)
{
	pthread_t th[LIMIT_THREADS];

	(void)state;
	for (int i = 0; i < LIMIT_THREADS; i++)
		assert_int_equal(
		    pthread_create(&th[i], NULL, limit_events, NULL), 0);
	for (int i = 0; i < LIMIT_THREADS; i++)
		pthread_join(th[i], NULL);
	/* what no line reported yet is still held */
	uint64_t held = atomic_load(&shared_limit.held);
	assert_int_equal(atomic_load(&reported) + held,
			 (uint64_t)LIMIT_THREADS * LIMIT_EVENTS);
	/* the clock ran 0..999 ms: at most one line per 10 ms */
	assert_true(atomic_load(&lines) >= 1);
	assert_true(atomic_load(&lines) <= 100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_default_line),
	    cmocka_unit_test(test_placeholders),
	    cmocka_unit_test(test_ipv6),
	    cmocka_unit_test(test_rflags_rcode),
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_truncation),
	    cmocka_unit_test(test_log_lines),
	    cmocka_unit_test(test_limit),
	    cmocka_unit_test(test_limit_threads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
