/*
 * metrics.h -- the metrics of the `prometheus` directive: one process-wide
 * registry, counters written by each thread into its own block, and the
 * Prometheus text exposition of CoreDNS 1.14's metric families (names,
 * labels, label values, buckets) plus our own `clusterdns_*` ones.
 *
 * Counting.  Every counter is a slot (an index) in a flat space of
 * METRICS_SLOTS 64-bit counters.  Each counting thread owns one block of
 * that space (metrics_thread_enter) and writes its slots with plain
 * relaxed stores: no lock, no atomic read-modify-write, no allocation.  A
 * scrape sums the blocks of every thread, plus what threads that ended
 * left behind, so a counter never goes backwards.  Slot 0 is a dummy: a
 * series that was never set up counts into it and is never shown.
 *
 * Series.  Label sets are made when the configuration is loaded, on the
 * control thread, and get a base slot that the query path keeps:
 *   - a site (server, zone, view) holds every coredns_dns_* series of one
 *     server block key on one listener, and the coredns_cache_* counters
 *     of its block's cache (metrics_site);
 *   - an upstream (proxy_name, to) holds the coredns_proxy_* series
 *     (metrics_upstream).
 * Asking again for a label set that exists returns the same base, so a
 * series that stays across a reload keeps counting; a new one is made
 * while workers count (the slots are preallocated, and a thread only
 * counts into a slot it learned of through the configuration the control
 * thread published after making it).  Series are never removed (as in
 * CoreDNS, whose registry keeps them): series that never counted are not
 * shown, and plugin_enabled shows only the sites declared since the last
 * metrics_config_begin().
 *
 * How the daemon wires this (the exact calls):
 *   at startup, before the workers start:
 *     metrics_init(version, revision);   the registry (once per process)
 *     metrics_thread_enter();            on the control thread (it counts
 *                                        health checks of forward)
 *   for each configuration (startup and every reload), before publishing:
 *     metrics_config_begin();
 *     per listener key (block b, key zone z, listen address a:port):
 *       metrics_server_label(a, port, server, sizeof(server));
 *       key->msite = metrics_site(&(struct metrics_site_conf){server, z,
 *                                 "", cache zones or NULL, plugins, n});
 *     per listener: l->mdropped = metrics_site(server, "dropped", ...);
 *     per block with forward: forward_metrics(fwd)  (forward.h)
 *     per block with cache:   metrics_source_add(METRICS_SRC_CACHE, cache,
 *                                                server, zones);
 *     per block with kube:    metrics_source_add(METRICS_SRC_KUBE, kube,
 *                                                NULL, NULL);
 *     per API source:         metrics_source_add(METRICS_SRC_APISRC, src,
 *                                                NULL, NULL);
 *     metrics_source_remove(obj) before freeing any of those.
 *   per worker thread start: nothing (worker.c calls
 *     metrics_thread_enter() and metrics_thread_exit() itself).
 *   at reload: metrics_reload_failed() or metrics_reload_version(hash),
 *   from health: metrics_health_observe(seconds), metrics_health_failed().
 *   per scrape (GET /metrics, control thread): metrics_render(evbuffer).
 *   at exit, after the workers stopped: metrics_thread_exit() on the
 *     control thread, then metrics_free().
 *
 * Threads: everything but the counting (metrics_add and the metrics_dns,
 * metrics_cache_*, metrics_proxy_* helpers) runs on the control thread;
 * the registry has a lock that only thread enter/exit and the control
 * thread take.
 */
#ifndef CLUSTERDNS_METRICS_H
#define CLUSTERDNS_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct evbuffer;

/* Counter slots per thread (8 MiB of address space, touched as used). */
#define METRICS_SLOTS (1u << 20)

/* ---- counting (any thread) ---- */

/* The calling thread's counter block; NULL: this thread does not count
 * (no registry, or not entered). */
extern __thread uint64_t *metrics_self;

/* The site of the query this thread is answering (set by query.c), that
 * the cache counts its evictions and drops against. */
extern __thread uint32_t metrics_cur;

static inline bool metrics_on(void)
{
	return metrics_self != NULL;
}

/* Add v to slot i of this thread's block: a relaxed load and store, no
 * lock.  Nothing when the thread does not count or i is 0. */
static inline void metrics_add(uint32_t i, uint64_t v)
{
	uint64_t *c = metrics_self;

	if (c && i)
		__atomic_store_n(&c[i],
				 __atomic_load_n(&c[i], __ATOMIC_RELAXED) + v,
				 __ATOMIC_RELAXED);
}

/* Why the worker pool refused a TCP connection: the reason label of
 * clusterdns_tcp_refused_total ("client_limit", "total_limit"). */
enum metrics_tcp_refused {
	METRICS_TCP_CLIENT_LIMIT, /* its client address holds its share */
	METRICS_TCP_TOTAL_LIMIT,  /* the pool is full, none idle to close */
	METRICS_TCP_REFUSALS,
};

/* Why the worker pool closed a TCP connection itself: the reason label of
 * clusterdns_tcp_closed_total ("evicted", "idle", "slow", "unread"). */
enum metrics_tcp_closed {
	METRICS_TCP_EVICTED, /* the oldest idle one, for a new connection */
	METRICS_TCP_IDLE,    /* idle timeout, nothing pending */
	METRICS_TCP_SLOW,    /* idle timeout inside a partial query */
	METRICS_TCP_UNREAD,  /* idle timeout with answers the client left */
	METRICS_TCP_CLOSES,
};

/* Fixed slots of series without labels, or with fixed label sets. */
enum {
	METRICS_G_PANICS = 1,
	METRICS_G_FWD_BROKEN,
	METRICS_G_FWD_REJECTS,
	METRICS_G_TCP_REFUSED, /* + enum metrics_tcp_refused */
	METRICS_G_TCP_CLOSED = METRICS_G_TCP_REFUSED + METRICS_TCP_REFUSALS,
	/* + enum metrics_tcp_closed */
	METRICS_G_END = 16, /* the first slot of sites and upstreams */
};
_Static_assert(METRICS_G_TCP_CLOSED + METRICS_TCP_CLOSES <= METRICS_G_END,
	       "fixed metrics slots overlap the sites");

/* Who wrote a response: the `plugin` label of coredns_dns_responses_total
 * ("" is the server itself). */
enum metrics_plugin {
	METRICS_PLUGIN_NONE = 0,
	METRICS_PLUGIN_KUBERNETES,
	METRICS_PLUGIN_CACHE,
	METRICS_PLUGIN_FORWARD,
	METRICS_PLUGIN_AUTOPATH,
	METRICS_PLUGINS,
};

/* Count one answered query of site: request (proto, family, type, DO,
 * size), response (rcode, plugin, size) and its duration.  peer_family is
 * the client's AF_INET or AF_INET6. */
void metrics_dns(uint32_t site, bool tcp, int peer_family, uint16_t qtype,
		 bool do_bit, size_t reqlen, unsigned rcode,
		 enum metrics_plugin plugin, size_t resplen, uint64_t dur_ns);

/* The monotonic clock in nanoseconds, for durations. */
uint64_t metrics_now_ns(void);

/* Cache counters of site (CoreDNS's cache plugin).  kind: 1 success, 2
 * denial (CACHE_SUCCESS, CACHE_DENIAL). */
enum {
	METRICS_C_REQUESTS,
	METRICS_C_HITS, /* + kind - 1 */
	METRICS_C_MISSES = METRICS_C_HITS + 2,
	METRICS_C_PREFETCH,
	METRICS_C_DROPS,
	METRICS_C_STALE,
	METRICS_C_EVICTIONS, /* + kind - 1 */
	METRICS_C_END = METRICS_C_EVICTIONS + 2,
};

/* The slot of cache counter what (+ kind - 1) of site; 0 without one. */
uint32_t metrics_cache_slot(uint32_t site, unsigned what);

/* Count cache event what (METRICS_C_*) of the current query's site. */
static inline void metrics_cache_count(unsigned what)
{
	if (metrics_self && metrics_cur)
		metrics_add(metrics_cache_slot(metrics_cur, what), 1);
}

/* The slot of site's coredns_autopath_success_total (a query answered
 * under a name of the server's search path); 0 without a site. */
uint32_t metrics_autopath_slot(uint32_t site);

/* Per-upstream counters (coredns_proxy_*). */
void metrics_proxy_answer(uint32_t up, unsigned rcode, uint64_t dur_ns);
void metrics_proxy_hc_failed(uint32_t up);
void metrics_proxy_conn(uint32_t up, bool tcp, bool hit);

/* ---- the registry (control thread) ---- */

/* Make the process-wide registry; version and revision are the labels of
 * coredns_build_info (copied).  Returns 0, -EEXIST when made already, or
 * -ENOMEM. */
int metrics_init(const char *version, const char *revision);

/* Free the registry (no thread counts any more; blocks of threads still
 * entered are freed too). */
void metrics_free(void);

/* Give the calling thread its counter block (no-op without a registry or
 * when it has one).  Returns 0 or -ENOMEM. */
int metrics_thread_enter(void);

/* Fold the calling thread's counts into the registry and free its block. */
void metrics_thread_exit(void);

/* "dns://:53", "dns://10.0.0.1:53", "dns://[::1]:53": CoreDNS's server
 * label for a listener bound to addr (NULL or "": all addresses). */
void metrics_server_label(const char *addr, unsigned port, char *out,
			  size_t outlen);

struct metrics_site_conf {
	const char *server;	    /* "dns://:53" */
	const char *zone;	    /* "cluster.local." ("dropped": none) */
	const char *view;	    /* "" */
	const char *cache_zones;    /* the cache's `zones` label; NULL: none */
	const char *const *plugins; /* enabled directives (plugin_enabled) */
	size_t nplugins;
};

/* A new configuration is being declared: plugin_enabled forgets the sites
 * not declared again. */
void metrics_config_begin(void);

/* The site of c's (server, zone, view), made when new; its cache label and
 * plugins are updated.  Returns its base slot, or 0 (no registry, no room
 * or no memory: not counted). */
uint32_t metrics_site(const struct metrics_site_conf *c);

/* The upstream (proxy_name, to): "forward", "10.0.0.1:53".  Returns its
 * base slot, or 0. */
uint32_t metrics_upstream(const char *proxy_name, const char *to);

/* Objects read at scrape time.  server and zones label a cache (copied);
 * obj stays the caller's and must be removed before it is freed. */
enum metrics_src_kind {
	METRICS_SRC_CACHE,  /* struct cache: coredns_cache_entries */
	METRICS_SRC_KUBE,   /* struct kube: programming latency, objects,
			     * zone serial */
	METRICS_SRC_APISRC, /* struct apisrc: watch events, relists */
};
int metrics_source_add(enum metrics_src_kind kind, const void *obj,
		       const char *server, const char *zones);
void metrics_source_remove(const void *obj);

/* Values of the modules the daemon wires (control thread). */
void metrics_reload_failed(void);
/* coredns_reload_version_info{hash="sha512",value=hex} (copied). */
void metrics_reload_version(const char *hash, const char *value);
void metrics_health_observe(double seconds);
void metrics_health_failed(void);

/*
 * Append the exposition (text format 0.0.4) of every family to out.
 * Returns 0, -ENOENT without a registry, or -ENOMEM.
 */
int metrics_render(struct evbuffer *out);

/* Append the label value s to out, escaped as the text format wants
 * (backslash, double quote, newline).  Returns 0 or -ENOMEM. */
int metrics_escape(struct evbuffer *out, const char *s);

#endif
