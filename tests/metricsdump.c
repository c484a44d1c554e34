/*
 * metricsdump.c -- print the exposition of a registry holding every family
 * with known counts, for tests/e2e/promtool.sh.
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <urcu.h>

#include "server/cache.h"
#include "server/metrics.h"
#include "zones/apiconf.h"
#include "zones/apisrc.h"
#include "zones/kube.h"

int main(void)
{
	static const char *const zones[] = {"cluster.local"};
	static const char *const plugins[] = {"cache", "kubernetes", "forward"};
	char err[512], server[80];
	struct evbuffer *out = evbuffer_new();
	struct event_base *base = event_base_new();
	struct apiconf api;
	int status = 1;

	rcu_register_thread();
	memset(&api, 0, sizeof(api));
	if (!out || !base || metrics_init("1.14.0", "clusterdns-0.1.0") < 0 ||
	    metrics_thread_enter() < 0)
		return 1;
	struct kube_conf kc = {.zones = zones, .nzones = 1, .ttl = 5};
	struct kube *k = kube_new(&kc, err, sizeof(err));
	struct cache_conf cc = {.success_cap = 1000,
				.denial_cap = 1000,
				.success_max_ttl = 3600,
				.denial_max_ttl = 1800};
	struct cache *c = cache_new(&cc);
	if (!k || !c ||
	    apiconf_endpoint(&api, "http://127.0.0.1:1", NULL, NULL, NULL, err,
			     sizeof(err)) < 0)
		goto out;
	struct apisrc_conf ac = {.api = &api};
	struct apisrc *src = apisrc_new(base, k, &ac, err, sizeof(err));
	if (!src)
		goto out;

	metrics_server_label(NULL, 53, server, sizeof(server));
	struct metrics_site_conf sc = {server, "cluster.local.", "",
				       ".",    plugins,		 3};
	uint32_t site = metrics_site(&sc);
	/* a zone label that needs escaping */
	struct metrics_site_conf odd = {
	    server, "we\"ird\\zone\n.", "", NULL, NULL, 0};
	uint32_t odd_site = metrics_site(&odd);
	uint32_t up = metrics_upstream("forward", "127.0.0.1:53");
	metrics_source_add(METRICS_SRC_CACHE, c, server, ".");
	metrics_source_add(METRICS_SRC_KUBE, k, NULL, NULL);
	metrics_source_add(METRICS_SRC_APISRC, src, NULL, NULL);

	metrics_dns(site, false, AF_INET, 1, false, 40, 0,
		    METRICS_PLUGIN_KUBERNETES, 90, 100000);
	metrics_dns(site, true, AF_INET6, 99, true, 50, 3, METRICS_PLUGIN_CACHE,
		    120, 3000000);
	metrics_dns(odd_site, false, AF_INET, 28, false, 30, 5,
		    METRICS_PLUGIN_NONE, 30, 1000);
	metrics_cur = site;
	metrics_cache_count(METRICS_C_REQUESTS);
	metrics_cache_count(METRICS_C_HITS);
	metrics_cache_count(METRICS_C_MISSES);
	metrics_cache_count(METRICS_C_PREFETCH);
	metrics_cache_count(METRICS_C_DROPS);
	metrics_cache_count(METRICS_C_STALE);
	metrics_cache_count(METRICS_C_EVICTIONS + 1);
	metrics_proxy_answer(up, 0, 2000000);
	metrics_proxy_hc_failed(up);
	metrics_proxy_conn(up, false, true);
	metrics_proxy_conn(up, true, false);
	metrics_add(metrics_autopath_slot(site), 2);
	metrics_add(METRICS_G_FWD_BROKEN, 1);
	metrics_add(METRICS_G_FWD_REJECTS, 2);
	metrics_add(METRICS_G_TCP_REFUSED + METRICS_TCP_CLIENT_LIMIT, 3);
	metrics_add(METRICS_G_TCP_CLOSED + METRICS_TCP_EVICTED, 4);
	metrics_reload_failed();
	metrics_reload_version("sha512", "0123abcd");
	metrics_health_observe(0.001);
	metrics_health_failed();

	if (metrics_render(out) < 0)
		goto out;
	fwrite(evbuffer_pullup(out, -1), 1, evbuffer_get_length(out), stdout);
	status = 0;
	metrics_source_remove(src);
	apisrc_free(src);
out:
	if (status)
		fprintf(stderr, "metricsdump: %s\n", err);
	metrics_source_remove(c);
	metrics_source_remove(k);
	cache_free(c);
	kube_free(k);
	apiconf_free(&api);
	metrics_thread_exit();
	metrics_free();
	evbuffer_free(out);
	event_base_free(base);
	rcu_unregister_thread();
	return status;
}
