/*
 * apisrc.h -- the Kubernetes API source: list and watch Namespaces,
 * Services, EndpointSlices (and Pods when needed) as client-go's reflector
 * does, feeding a kube's store and zone incrementally.
 *
 * Everything runs on the control thread's libevent loop through libcurl's
 * multi interface: no blocking call, no thread per watch, one HTTP/1.1
 * connection per watch.  Per resource: LIST in pages (limit/continue) into
 * the store, diffed against what it held (pods: each page scanned as it
 * arrives, the next one asked for on a second connection as soon as the
 * page's continue token is in); then WATCH from the list's
 * resourceVersion with bookmarks and a randomized 5-10 minute timeout,
 * resumed from the last resourceVersion when it ends; 410 Gone (as an HTTP
 * status or an ERROR event) and undecodable lines mean a relist.  Failures
 * back off from 0.8 s doubling to 30 s with jitter, 429 honours
 * Retry-After, a watch silent for idle_timeout is treated as dead, and a
 * jittered full relist runs every resync period.
 */
#ifndef CLUSTERDNS_APISRC_H
#define CLUSTERDNS_APISRC_H

#include <stdbool.h>
#include <stdint.h>

#include "zones/apiconf.h"
#include "zones/kube.h"

struct event_base;

enum apisrc_level { APISRC_INFO, APISRC_WARN, APISRC_ERROR };

struct apisrc_conf {
	const struct apiconf *api; /* copied */
	bool watch_pods;	   /* pods verified needs them */
	bool watch_imports; /* multicluster: ServiceImports, unfiltered */
	const char *labels; /* label selector: services, slices */
	const char *namespace_labels; /* label selector: namespaces */
	const char *namespace;	  /* the one namespace served (namespaces NS),
				   * watched through namespaced paths; NULL: all */
	uint32_t resync_ms;	  /* full relist period; 0: none */
	uint32_t idle_timeout_ms; /* a silent watch is dead (180000) */
	uint32_t page_limit;	  /* LIST page size (100) */
	uint32_t pod_page_limit;  /* of pods, scanned as they arrive (500) */
	/* Log a line (never a secret); NULL: silent. */
	void (*log)(void *arg, enum apisrc_level level, const char *msg);
	/* Every resource has been listed once (called once). */
	void (*synced)(void *arg);
	void *arg;
};

struct apisrc;

/* Start listing and watching into k on base.  Returns NULL with err set
 * when libcurl cannot be set up. */
struct apisrc *apisrc_new(struct event_base *base, struct kube *k,
			  const struct apisrc_conf *conf, char *err,
			  size_t errlen);

/* Stop every request and free the source. */
void apisrc_free(struct apisrc *s);

/* True once every resource has been listed. */
bool apisrc_synced(const struct apisrc *s);

/* Counters, for tests and logs. */
struct apisrc_stats {
	uint64_t lists;	  /* LIST requests completed */
	uint64_t watches; /* WATCH requests started */
	uint64_t events;  /* watch events applied */
	uint64_t relists; /* full relists (410, garbage, resync) */
	uint64_t errors;  /* failed requests */
};
void apisrc_stats(const struct apisrc *s, struct apisrc_stats *out);

/* Why a kind was listed again in full. */
enum {
	APISRC_RELIST_GONE,    /* 410 Gone, as a status or an ERROR event */
	APISRC_RELIST_GARBAGE, /* a list or watch line that does not parse */
	APISRC_RELIST_RESYNC,  /* the resync period */
	APISRC_RELIST_CAUSES,
};
#define APISRC_MAX_RES 5

/* "gone", "garbage", "resync": the cause label of a relist. */
const char *apisrc_relist_cause_name(int cause);

/* What the metrics show of one watched kind. */
struct apisrc_res_info {
	const char *kind; /* "services", ... (static) */
	bool seen;	  /* the watch or list delivered something */
	uint64_t age_ms;  /* since then */
	uint64_t relists[APISRC_RELIST_CAUSES];
};

/* Fill out with at most max watched kinds of s; returns how many. */
size_t apisrc_resources(const struct apisrc *s, struct apisrc_res_info *out,
			size_t max);

#endif
