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
#include "zones/store.h"
#include "zones/zone.h"

struct event_base;

struct kube_conf {
	const char *const *zones; /* lowercase, no trailing dot */
	size_t nzones;
	const char *objects; /* objects PATH */
	enum builder_pods pods;
	uint32_t ttl;
	bool endpoint_pod_names;
	bool ignore_empty_service;
	bool noendpoints;
	const char *const *namespaces; /* exposed namespaces; 0: all */
	size_t nnamespaces;
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
 * ("FILE:LINE:COL: message").
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

/* The zone index, for readers. */
struct zone_index *kube_zone(const struct kube *k);

/* True once the first load has been applied (readable from any thread). */
bool kube_synced(const struct kube *k);

/* The configuration the kube was made with. */
const struct builder_conf *kube_builder_conf(const struct kube *k);

/* True when namespace label (len bytes, lowercase) is exposed by the
 * namespaces option.  Safe on worker threads: reads immutable data. */
bool kube_ns_exposed(const struct kube *k, const uint8_t *label, size_t len);

/* The object store, for the dump tool and tests; NULL before a load. */
const struct store *kube_store(const struct kube *k);

#endif
