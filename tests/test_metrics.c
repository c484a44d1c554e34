/*
 * test_metrics.c -- the registry, per-thread counting and the exposition.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>
#include <event2/buffer.h>

#include "server/metrics.h"

static char *render(void)
{
	struct evbuffer *b = evbuffer_new();

	assert_non_null(b);
	assert_int_equal(metrics_render(b), 0);
	size_t n = evbuffer_get_length(b);
	char *s = malloc(n + 1);
	assert_non_null(s);
	evbuffer_remove(b, s, n);
	s[n] = 0;
	evbuffer_free(b);
	return s;
}

/* The value of the sample line that starts with prefix, -1 when none. */
static double value_of(const char *text, const char *prefix)
{
	size_t pl = strlen(prefix);

	for (const char *l = text; l && *l;
	     l = strchr(l, '\n'), l = l ? l + 1 : l)
		if (!strncmp(l, prefix, pl) && l[pl] == ' ')
			return strtod(l + pl + 1, NULL);
	return -1;
}

/* The sample named by fmt in text has the value want. */
static void assert_metric(const char *text, double want, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void assert_metric(const char *text, double want, const char *fmt, ...)
{
	char name[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(name, sizeof(name), fmt, ap);
	va_end(ap);
	if (value_of(text, name) != want)
		fail_msg("%s: %g, not %g", name, value_of(text, name), want);
}

static const char *const plugins[] = {"cache", "kubernetes"};

static uint32_t site_of(const char *zone)
{
	struct metrics_site_conf c = {"dns://:53", zone, "", ".", plugins, 2};

	return metrics_site(&c);
}

static int setup(void **state)
{
	assert_int_equal(metrics_init("1.14.0", "abc"), 0);
	assert_int_equal(metrics_thread_enter(), 0);
	return 0;
}

static int teardown(void **state)
{
	metrics_thread_exit();
	metrics_free();
	return 0;
}

static void test_escape(void **state)
{
	struct evbuffer *b = evbuffer_new();
	char s[64] = "";

	assert_int_equal(metrics_escape(b, "a\"b\\c\nd"), 0);
	evbuffer_remove(b, s, sizeof(s) - 1);
	assert_string_equal(s, "a\\\"b\\\\c\\nd");
	evbuffer_free(b);
}

static void test_no_registry(void **state)
{
	struct evbuffer *b = evbuffer_new();

	/* nothing counts, nothing breaks */
	assert_int_equal(metrics_thread_enter(), 0);
	assert_false(metrics_on());
	metrics_dns(100, false, AF_INET, 1, false, 40, 0, METRICS_PLUGIN_NONE,
		    50, 1000);
	metrics_add(METRICS_G_PANICS, 1);
	metrics_cache_count(METRICS_C_REQUESTS);
	assert_int_equal(metrics_site(&(struct metrics_site_conf){.server = "a",
								  .zone = "b"}),
			 0);
	assert_int_equal(metrics_upstream("forward", "1.2.3.4:53"), 0);
	assert_int_equal(metrics_render(b), -ENOENT);
	evbuffer_free(b);
}

static void test_server_label(void **state)
{
	char s[80];

	metrics_server_label(NULL, 53, s, sizeof(s));
	assert_string_equal(s, "dns://:53");
	metrics_server_label("10.0.0.1", 1053, s, sizeof(s));
	assert_string_equal(s, "dns://10.0.0.1:1053");
	metrics_server_label("::1", 53, s, sizeof(s));
	assert_string_equal(s, "dns://[::1]:53");
}

static void test_known_counts(void **state)
{
	uint32_t site = site_of("cluster.local.");
	assert_true(site >= METRICS_G_END);

	/* 0.1 ms, 40 bytes in, 90 out, UDP over IPv4, A */
	metrics_dns(site, false, AF_INET, 1, false, 40, 0,
		    METRICS_PLUGIN_KUBERNETES, 90, 100000);
	/* 3 ms, TCP over IPv6, type 99 (other), DO, NXDOMAIN from the cache */
	metrics_dns(site, true, AF_INET6, 99, true, 50, 3, METRICS_PLUGIN_CACHE,
		    120, 3000000);
	metrics_dns(site, false, AF_INET, 1, false, 40, 0,
		    METRICS_PLUGIN_KUBERNETES, 90, 100000);
	metrics_add(METRICS_G_PANICS, 2);
	char *t = render();

	const char *s =
	    "server=\"dns://:53\",zone=\"cluster.local.\",view=\"\"";
	char k[512];
	assert_metric(
	    t, 2,
	    "coredns_dns_requests_total{%s,proto=\"udp\",family=\"1\","
	    "type=\"A\"}",
	    s);
	assert_metric(
	    t, 1,
	    "coredns_dns_requests_total{%s,proto=\"tcp\",family=\"2\","
	    "type=\"other\"}",
	    s);
	/* a series that never counted is not shown */
	assert_metric(
	    t, -1,
	    "coredns_dns_requests_total{%s,proto=\"udp\",family=\"2\","
	    "type=\"A\"}",
	    s);
	assert_true(value_of(t,
			     "coredns_dns_do_requests_total{server=\"dns:/"
			     "/:53\",view=\"\",zone=\"cluster.local.\"}") == 1);
	assert_metric(t, 1,
		      "coredns_dns_responses_total{%s,rcode=\"NXDOMAIN\","
		      "plugin=\"cache\"}",
		      s);
	assert_metric(t, 2,
		      "coredns_dns_responses_total{%s,rcode=\"NOERROR\","
		      "plugin=\"kubernetes\"}",
		      s);
	/* histogram: cumulative buckets, +Inf, sum, count */
	static const struct {
		const char *le;
		double v;
	} a[] = {{"0.00025", 2}, {"0.0005", 2}, {"8.192", 2}, {"+Inf", 2}};
	for (size_t i = 0; i < sizeof(a) / sizeof(a[0]); i++) {
		snprintf(k, sizeof(k),
			 "coredns_dns_request_duration_seconds_bucket{%s,type="
			 "\"A\",le=\"%s\"}",
			 s, a[i].le);
		assert_true(value_of(t, k) == a[i].v);
	}
	assert_metric(t, 0,
		      "coredns_dns_request_duration_seconds_bucket{%s,type="
		      "\"other\",le=\"0.002\"}",
		      s);
	assert_metric(t, 1,
		      "coredns_dns_request_duration_seconds_bucket{%s,type="
		      "\"other\",le=\"0.004\"}",
		      s);
	assert_metric(t, 0.0002,
		      "coredns_dns_request_duration_seconds_sum{%s,type=\"A\"}",
		      s);
	assert_metric(
	    t, 2, "coredns_dns_request_duration_seconds_count{%s,type=\"A\"}",
	    s);
	assert_metric(
	    t, 0,
	    "coredns_dns_request_size_bytes_bucket{%s,proto=\"udp\",le="
	    "\"0\"}",
	    s);
	assert_metric(
	    t, 2,
	    "coredns_dns_request_size_bytes_bucket{%s,proto=\"udp\",le="
	    "\"100\"}",
	    s);
	assert_metric(
	    t, 1,
	    "coredns_dns_response_size_bytes_bucket{%s,proto=\"tcp\",le="
	    "\"64000\"}",
	    s);
	assert_metric(t, 1, "coredns_plugin_enabled{%s,name=\"kubernetes\"}",
		      s);
	assert_true(value_of(t, "coredns_panics_total") == 2);
	assert_true(value_of(t, "coredns_build_info{version=\"1.14.0\","
				"revision=\"abc\",goversion=\"none\"}") == 1);
	assert_non_null(strstr(
	    t, "# TYPE coredns_dns_request_duration_seconds histogram\n"));
	assert_true(value_of(t, "process_open_fds") > 0);
	free(t);
}

static void test_escaped_label(void **state)
{
	uint32_t site = site_of("a\"b\\c\n.");

	metrics_dns(site, false, AF_INET, 28, false, 30, 5, METRICS_PLUGIN_NONE,
		    30, 1000);
	char *t = render();
	assert_true(value_of(t, "coredns_dns_responses_total{server=\"dns://"
				":53\",zone=\"a\\\"b\\\\c\\n.\",view=\"\","
				"rcode=\"REFUSED\",plugin=\"\"}") == 1);
	free(t);
}

static void test_reload_keeps_series(void **state)
{
	uint32_t a = site_of("cluster.local."), b = site_of("example.org.");

	metrics_dns(a, false, AF_INET, 1, false, 40, 0, METRICS_PLUGIN_NONE, 40,
		    1);
	metrics_config_begin();
	assert_int_equal(site_of("cluster.local."), a); /* stays */
	uint32_t c = site_of("new.zone.");
	assert_true(c != a && c != b);
	metrics_dns(a, false, AF_INET, 1, false, 40, 0, METRICS_PLUGIN_NONE, 40,
		    1);
	char *t = render();
	assert_true(value_of(t, "coredns_dns_requests_total{server=\"dns://:53"
				"\",zone=\"cluster.local.\",view=\"\",proto="
				"\"udp\",family=\"1\",type=\"A\"}") == 2);
	/* example.org. was not declared again: its plugins are gone */
	assert_null(strstr(t, "coredns_plugin_enabled{server=\"dns://:53\","
			      "zone=\"example.org.\""));
	assert_non_null(strstr(t, "coredns_plugin_enabled{server=\"dns://:53\","
				  "zone=\"new.zone.\""));
	free(t);
}

static void test_upstream(void **state)
{
	uint32_t u = metrics_upstream("forward", "10.0.0.1:53");

	assert_true(u >= METRICS_G_END);
	assert_int_equal(metrics_upstream("forward", "10.0.0.1:53"), u);
	metrics_proxy_answer(u, 2, 5000000); /* 5 ms SERVFAIL */
	metrics_proxy_hc_failed(u);
	metrics_proxy_conn(u, false, true);
	metrics_proxy_conn(u, false, true);
	metrics_proxy_conn(u, true, false);
	metrics_add(METRICS_G_FWD_REJECTS, 3);
	char *t = render();
	const char *l = "proxy_name=\"forward\",to=\"10.0.0.1:53\"";
	assert_metric(t, 0,
		      "coredns_proxy_request_duration_seconds_bucket{%s,rcode="
		      "\"SERVFAIL\",le=\"0.004\"}",
		      l);
	assert_metric(t, 1,
		      "coredns_proxy_request_duration_seconds_bucket{%s,rcode="
		      "\"SERVFAIL\",le=\"0.008\"}",
		      l);
	assert_metric(t, 1, "coredns_proxy_healthcheck_failures_total{%s}", l);
	assert_metric(
	    t, 2, "coredns_proxy_conn_cache_hits_total{%s,proto=\"udp\"}", l);
	assert_metric(
	    t, 1, "coredns_proxy_conn_cache_misses_total{%s,proto=\"tcp\"}", l);
	assert_true(
	    value_of(t, "coredns_forward_max_concurrent_rejects_total") == 3);
	free(t);
}

static void test_cache_counts(void **state)
{
	uint32_t site = site_of("cluster.local.");

	metrics_cur = site;
	metrics_cache_count(METRICS_C_REQUESTS);
	metrics_cache_count(METRICS_C_REQUESTS);
	metrics_cache_count(METRICS_C_HITS + 1); /* denial */
	metrics_cache_count(METRICS_C_MISSES);
	metrics_cur = 0;
	metrics_cache_count(METRICS_C_MISSES); /* no site: not counted */
	char *t = render();
	assert_true(value_of(t, "coredns_cache_requests_total{server=\"dns://"
				":53\",zones=\".\",view=\"\"}") == 2);
	assert_true(value_of(t, "coredns_cache_hits_total{server=\"dns://:53\","
				"type=\"denial\",zones=\".\",view=\"\"}") == 1);
	assert_true(value_of(t, "coredns_cache_misses_total{server=\"dns://:"
				"53\",zones=\".\",view=\"\"}") == 1);
	free(t);
}

/* ---- several threads ---- */

#define NTHREADS 4
#define ROUNDS 5000

static uint32_t shared_site;
static uint32_t _Atomic late_site; /* published by the main thread */

static uint64_t counted[NTHREADS];

/* Count into the shared site until the late one is published, then
 * ROUNDS times into that. */
static void *counter(void *arg)
{
	intptr_t me = (intptr_t)arg;
	uint64_t n = 0;
	uint32_t l;

	assert_int_equal(metrics_thread_enter(), 0);
	do {
		metrics_dns(shared_site, false, AF_INET, 1, false, 40, 0,
			    METRICS_PLUGIN_NONE, 40, 1);
		n++;
	} while (!(l = __atomic_load_n(&late_site, __ATOMIC_ACQUIRE)));
	for (int i = 0; i < ROUNDS; i++)
		metrics_dns(l, false, AF_INET, 1, false, 40, 0,
			    METRICS_PLUGIN_NONE, 40, 1);
	counted[me] = n;
	/* half the threads leave: what they counted stays */
	if (me % 2)
		metrics_thread_exit();
	return NULL;
}

static double requests(const char *t, const char *zone)
{
	char k[256];

	snprintf(k, sizeof(k),
		 "coredns_dns_requests_total{server=\"dns://:53\",zone=\"%s\","
		 "view=\"\",proto=\"udp\",family=\"1\",type=\"A\"}",
		 zone);
	double v = value_of(t, k);
	return v < 0 ? 0 : v;
}

/* The TCP refusals and closes: every reason shown, 0 until counted, and
 * summed over the threads. */
static void *tcp_counter(void *arg)
{
	(void)arg;
	assert_int_equal(metrics_thread_enter(), 0);
	metrics_add(METRICS_G_TCP_REFUSED + METRICS_TCP_CLIENT_LIMIT, 2);
	metrics_add(METRICS_G_TCP_CLOSED + METRICS_TCP_UNREAD, 1);
	metrics_thread_exit();
	return NULL;
}

static void test_tcp(void **state)
{
	static const char *const closed[] = {"evicted", "idle", "slow",
					     "unread"};
	char *t = render();

	assert_non_null(strstr(t, "# TYPE clusterdns_tcp_refused_total "
				  "counter\n"));
	assert_non_null(strstr(t, "# TYPE clusterdns_tcp_closed_total "
				  "counter\n"));
	assert_metric(t, 0, "clusterdns_tcp_refused_total{reason=\"%s\"}",
		      "client_limit");
	assert_metric(t, 0, "clusterdns_tcp_refused_total{reason=\"%s\"}",
		      "total_limit");
	for (size_t i = 0; i < 4; i++)
		assert_metric(t, 0,
			      "clusterdns_tcp_closed_total{reason=\"%s\"}",
			      closed[i]);
	free(t);

	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, tcp_counter, NULL), 0);
	pthread_join(th, NULL);
	metrics_add(METRICS_G_TCP_REFUSED + METRICS_TCP_CLIENT_LIMIT, 1);
	metrics_add(METRICS_G_TCP_REFUSED + METRICS_TCP_TOTAL_LIMIT, 5);
	for (int i = 0; i < METRICS_TCP_CLOSES; i++)
		metrics_add(METRICS_G_TCP_CLOSED + i, 10 + i);
	t = render();
	assert_metric(t, 3, "clusterdns_tcp_refused_total{reason=\"%s\"}",
		      "client_limit");
	assert_metric(t, 5, "clusterdns_tcp_refused_total{reason=\"%s\"}",
		      "total_limit");
	assert_metric(t, 10, "clusterdns_tcp_closed_total{reason=\"%s\"}",
		      "evicted");
	assert_metric(t, 11, "clusterdns_tcp_closed_total{reason=\"%s\"}",
		      "idle");
	assert_metric(t, 12, "clusterdns_tcp_closed_total{reason=\"%s\"}",
		      "slow");
	assert_metric(t, 14, "clusterdns_tcp_closed_total{reason=\"%s\"}",
		      "unread");
	free(t);
}

static void test_threads(void **state)
{
	pthread_t th[NTHREADS];
	double last = 0;

	shared_site = site_of("threads.");
	__atomic_store_n(&late_site, 0, __ATOMIC_RELEASE);
	for (intptr_t i = 0; i < NTHREADS; i++)
		assert_int_equal(
		    pthread_create(&th[i], NULL, counter, (void *)i), 0);
	/* while they count: scrapes never go backwards, and a new series is
	 * added and counted into */
	for (int r = 0; r < 50; r++) {
		if (r == 10) {
			uint32_t l = site_of("late.");
			assert_true(l > 0);
			__atomic_store_n(&late_site, l, __ATOMIC_RELEASE);
		}
		char *t = render();
		double v = requests(t, "threads.");
		assert_true(v >= last);
		last = v;
		free(t);
	}
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
	char *t = render();
	double sum = 0;
	for (int i = 0; i < NTHREADS; i++)
		sum += (double)counted[i];
	assert_true(requests(t, "threads.") == sum);
	assert_true(requests(t, "late.") == (double)NTHREADS * ROUNDS);
	free(t);
}

/* coredns_autopath_success_total: one series per server, its sites
 * summed, none before it counts; the responses autopath wrote. */
static void test_autopath(void **state)
{
	uint32_t a = site_of("cluster.local."), b = site_of(".");
	char *t = render();

	(void)state;
	assert_null(strstr(t, "coredns_autopath_success_total{"));
	free(t);
	metrics_add(metrics_autopath_slot(a), 2);
	metrics_add(metrics_autopath_slot(b), 1);
	metrics_add(metrics_autopath_slot(0), 5); /* no site: not counted */
	metrics_dns(a, false, AF_INET, 1, false, 40, 0, METRICS_PLUGIN_AUTOPATH,
		    90, 100000);
	t = render();
	assert_metric(t, 3,
		      "coredns_autopath_success_total{server=\"dns://:53\"}");
	assert_metric(t, 1,
		      "coredns_dns_responses_total{server=\"dns://:53\","
		      "zone=\"cluster.local.\",view=\"\",rcode=\"NOERROR\","
		      "plugin=\"autopath\"}");
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_escape),
	    cmocka_unit_test(test_no_registry),
	    cmocka_unit_test(test_server_label),
	    cmocka_unit_test_setup_teardown(test_known_counts, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_escaped_label, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_reload_keeps_series, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_upstream, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cache_counts, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_autopath, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tcp, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
