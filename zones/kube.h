/*
 * kube.h -- one kubernetes directive's cluster zone: the object store from
 * its source, the records built from it, and the zone index serving them.
 * Runs on the control thread; workers only read kube_zone().
 */
#ifndef CLUSTERDNS_KUBE_H
#define CLUSTERDNS_KUBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zones/builder.h"
#include "zones/clientzone.h"
#include "zones/decode.h"
#include "zones/hosts.h"
#include "zones/podset.h"
#include "zones/store.h"
#include "zones/zone.h"

struct event_base;

struct kube_conf {
	const char *const *zones; /* lowercase, no trailing dot */
	size_t nzones;
	/* the multicluster zones (each one of zones): ServiceImports are
	 * answered there, Services are not */
	const char *const *multicluster;
	size_t nmulticluster;
	const char *objects; /* objects PATH */
	enum builder_pods pods;
	uint32_t ttl;
	bool endpoint_pod_names;
	bool ignore_empty_service;
	bool noendpoints;
	bool zonal; /* zone-scoped names of headless services (builder.h) */
	/* client zones (clientzone.h) are kept, and the zonal names built
	 * (the query path hides them without zonal) */
	bool topology;
	const char *const *namespaces; /* exposed namespaces; 0: all */
	size_t nnamespaces;
	bool namespace_labels; /* only namespaces whose Namespace object the
				* source delivers (namespace_labels) */
	/* objects PATH: where the objects left out are said, each once
	 * (skiplog.h); NULL: not said */
	void (*log)(void *arg, const char *msg);
	void *log_arg;
	/* k8s_external: its zones (lowercase, no trailing dot; none: no
	 * external zone), served from a second index with its own TTL */
	const char *const *ext_zones;
	size_t next_zones;
	const char *ext_apex; /* default "dns" */
	uint32_t ext_ttl;
	bool ext_headless;
};

/* The time from an EndpointSlice change (its last-change-trigger-time) to
 * the moment the change is answered: a histogram with CoreDNS's buckets
 * for coredns_kubernetes_dns_programming_duration_seconds. */
#define KUBE_LATENCY_BUCKETS 20
struct kube_latency {
	uint64_t count;
	double sum;			       /* seconds */
	uint64_t bucket[KUBE_LATENCY_BUCKETS]; /* <= 0.001 * 2^i seconds */
};

struct kube;

/* A kube with an empty zone (only the apexes), not synced.  The strings of
 * conf are copied.  Returns NULL with err set on failure. */
struct kube *kube_new(const struct kube_conf *conf, char *err, size_t errlen);

/* Stop watching and free everything; workers must have stopped. */
void kube_free(struct kube *k);

/*
 * (Re)read the objects PATH and apply it: the zone changes where the
 * objects' records changed, and the kube is synced.  On error the zone keeps
 * what it served before; returns a negative errno with err set
 * ("FILE:LINE:COL: message").  Objects left out (filesrc_load_skip) are
 * logged through conf->log, once while they stay as they are.
 */
int kube_load(struct kube *k, char *err, size_t errlen);

/* Make the zone match the objects of st (the kube takes st and frees the
 * store it had): owners whose records changed are updated, those gone are
 * removed, then the zone is committed.  Returns 0 or -ENOMEM. */
int kube_apply_store(struct kube *k, struct store *st);

/* Watch the objects PATH on base and reload after changes; done(arg, rc,
 * err) reports each reload. Returns 0 or a negative errno. */
int kube_watch(struct kube *k, struct event_base *base,
	       void (*done)(void *arg, int rc, const char *err), void *arg);

/* Reload the objects PATH: once kube_watch has run, the files are read on
 * a thread of its own at a lower priority (bgjob.h), and applied on
 * another one, the loop leaving the zone to it meanwhile; the zone is
 * committed on the loop when the apply is done, and the store it replaces
 * is freed on a third thread.  A reload asked for while one runs makes
 * one more after it.  Before kube_watch, all at once on the loop.  Either
 * way done() reports it. */
void kube_reload(struct kube *k);

/* How long the last load took to read the files and to apply them. */
void kube_load_ms(const struct kube *k, unsigned *read_ms, unsigned *apply_ms);

/* The zone index, for readers. */
struct zone_index *kube_zone(const struct kube *k);

/* The external zones' index (k8s_external), for readers; NULL when the
 * kube has none. */
struct zone_index *kube_external_zone(const struct kube *k);

/* The endpoint names of ClusterIP services, answered beside the zone
 * (hosts.h), for readers. */
const struct hosts *kube_hosts(const struct kube *k);

/* The addresses of running pods per namespace (`pods verified`), for
 * readers. */
const struct podset *kube_pods(const struct kube *k);

/* The client zones of `topology` (clientzone.h), NULL without it; for
 * readers, as kube_hosts. */
const struct clientzone *kube_clientzone(const struct kube *k);

/* The primary zone in wire form (the zone PTR targets are in), NULL when
 * the kube has no forward zone. */
const uint8_t *kube_primary(const struct kube *k, size_t *len);

/* The tag (zone_apex_tag) of the zones of kube_zone that have ClusterIP
 * services' names, answered from kube_hosts: the forward zones that are
 * not multicluster ones. */
#define KUBE_APEX_SERVICES 1

/*
 * Walk every record of the cluster (writer side): the zone's records
 * (zone_each_rr) and the endpoint names answered beside it, A/AAAA in every
 * forward zone and PTR in the reverse zone that holds the name; not the
 * zonal names (zonal, topology), which are answered to queries only.  cb
 * as for zone_each_rr.
 */
int kube_each_rr(const struct kube *k,
		 int (*cb)(const uint8_t *owner, uint16_t type, uint32_t ttl,
			   const uint8_t *rdata, uint16_t rdlen, void *arg),
		 void *arg);

/*
 * The records of zone i of the kube (zone_apex_name(kube_zone(k), i)) as
 * kube_each_rr gives them, only those whose longest apex is that zone:
 * its SOA first, then the others in no particular order (writer side).
 * cb as for kube_each_rr.  The zone dump and zone transfers share it.
 */
int kube_each_zone_rr(const struct kube *k, size_t i,
		      int (*cb)(const uint8_t *owner, uint16_t type,
				uint32_t ttl, const uint8_t *rdata,
				uint16_t rdlen, void *arg),
		      void *arg);

/* True while a reload of the objects PATH is being applied on its thread:
 * the records the writer walks are then not those served, and not the
 * control thread's to read (control thread). */
bool kube_applying(const struct kube *k);

/* True once the first load has been applied (readable from any thread). */
bool kube_synced(const struct kube *k);

/* The configuration the kube was made with. */
const struct builder_conf *kube_builder_conf(const struct kube *k);

/* True when namespace label (len bytes, lowercase) is exposed by the
 * namespaces option.  Safe on worker threads: reads immutable data. */
bool kube_ns_exposed(const struct kube *k, const uint8_t *label, size_t len);

/* ---- incremental updates, for the API source ---- */

/* Put a decoded object (the kube takes it; DECODE_OTHER is ignored) or
 * delete one; the names they touch change at the next kube_commit.
 * Returns 0 or -ENOMEM (kube_delete: -ENOENT when absent). */
int kube_put(struct kube *k, struct decode_obj *o);
int kube_delete(struct kube *k, enum decode_kind kind, const char *ns,
		const char *name);

/* A pod from the API, as its fields (what kube_put keeps of a
 * DECODE_POD): ns/name with its n addresses, none once terminal, on node
 * number node (obj_node_name, 0 none). */
int kube_put_pod(struct kube *k, const char *ns, const char *name,
		 const struct obj_addr *ips, size_t n, uint32_t node,
		 bool terminal);

/* A full list of one kind: the objects put between begin and end are all
 * there are; end deletes the others.  Returns 0 or -ENOMEM. */
void kube_relist_begin(struct kube *k, enum decode_kind kind);
int kube_relist_end(struct kube *k, enum decode_kind kind);

/* Rebuild what the changes since the last commit touched and publish it.
 * Returns 0 or -ENOMEM (what could not be built is retried next time). */
int kube_commit(struct kube *k);

/* Say the source has delivered its first complete state. */
void kube_set_synced(struct kube *k);

/* Programming latencies recorded so far. */
const struct kube_latency *kube_latency(const struct kube *k);

/* The object store, for the dump tool and tests; with objects PATH, NULL
 * before the first load. */
const struct store *kube_store(const struct kube *k);

/* Objects of kind kept now (for metrics): services, slices, namespaces
 * (named or used) from the store; pods: the running pods' addresses with
 * `pods verified`, else the pods stored.  0 before the first load. */
size_t kube_count(const struct kube *k, enum decode_kind kind);

#endif
