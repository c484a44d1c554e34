/*
 * kubernetes.h -- the kubernetes directive: its options checked and
 * converted (the data side, sources and zone, is in zones/).
 */
#ifndef CLUSTERDNS_KUBERNETES_H
#define CLUSTERDNS_KUBERNETES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server/corefile.h"

struct setup;
struct k8s_external_conf;

enum kubernetes_pods {
	KUBERNETES_PODS_DISABLED = 0,
	KUBERNETES_PODS_INSECURE,
	KUBERNETES_PODS_VERIFIED,
};

/* The kubernetes directive. Zone names are lowercase, without trailing dot
 * (the root zone is ""). */
enum kubernetes_topology {
	KUBERNETES_TOPOLOGY_OFF = 0,
	KUBERNETES_TOPOLOGY_FIRST,  /* topology */
	KUBERNETES_TOPOLOGY_STRICT, /* topology strict */
};

struct kubernetes_conf {
	char *
	    *zones; /* from the directive's arguments, else the block's keys */
	size_t nzones;
	/* The data source.  objects PATH as written (a relative one is taken
	 * from the working directory, as CoreDNS does): manifests, no API.
	 * Without it the data comes from the Kubernetes API: endpoint (with
	 * tls), else kubeconfig, else the in-cluster service account.
	 * objects excludes endpoint, tls and kubeconfig; endpoint excludes
	 * kubeconfig; tls needs endpoint. */
	char *objects;
	char *endpoint;	  /* endpoint URL as written (http:// or https://) */
	char *tls_cert;	  /* tls CERT KEY CACERT: client certificate, */
	char *tls_key;	  /* its key, */
	char *tls_cacert; /* and the CA to verify the server with */
	char *kubeconfig; /* kubeconfig FILE [CONTEXT] */
	char *kubeconfig_context; /* NULL: the file's current-context */
	/* label selectors for the API server (labelSelector=), checked and
	 * normalised: requirements joined by ',' without spaces except around
	 * in/notin ("a=b,c!=d,e in (x,y),!f"); NULL when not given.  labels
	 * selects the Services and EndpointSlices (and Pods) watched,
	 * namespace_labels the Namespaces whose records are served (it
	 * cannot be used with namespaces). */
	char *labels;
	char *namespace_labels;
	/* startup_timeout DURATION (Go syntax: 5s, 1m30s, 500ms): how long
	 * answers wait for the first sync; default 5000 */
	uint64_t startup_timeout_ms;
	/* resyncperiod DURATION: the period of the full relist; default 30
	 * minutes, 0: none */
	uint64_t resync_period_ms;
	enum kubernetes_pods pods;
	uint32_t ttl; /* 0..3600, default 5 */
	bool endpoint_pod_names;
	char **namespaces; /* exposed namespaces; none listed: all */
	size_t nnamespaces;
	bool fallthrough;	  /* fallthrough given */
	char **fallthrough_zones; /* its zones; none listed: every zone */
	size_t nfallthrough_zones;
	bool ignore_empty_service;
	bool noendpoints;
	bool zonal; /* CoreDNS's zone-scoped names of headless services */
	/* topology [strict]: a headless service's name answers a client pod
	 * its own zone's endpoints first (strict: only them) */
	enum kubernetes_topology topology;
	/* multicluster ZONES...: zones (each one of zones, not reverse)
	 * that answer the ServiceImports of the Multi-Cluster Services API
	 * instead of the Services; none: no ServiceImports are watched */
	char **multicluster;
	size_t nmulticluster;
	char *file; /* where the directive is */
	int line;
	/* the block's k8s_external directive, whose zone this one's source
	 * feeds too (k8s_external.h; the block owns it); NULL: none */
	const struct k8s_external_conf *external;
};

/*
 * Setup of `kubernetes [ZONES...] { options }` (setup.h): the conf goes
 * to c->block->kube (freed with the block).  Zones are the arguments,
 * else the block's keys, and must lie inside a key's zone; options as
 * in CoreDNS, checked against each other (objects excludes the API
 * options, endpoint excludes kubeconfig, tls needs endpoint, namespaces
 * excludes namespace_labels).  Once per block.  Returns 0 or a negative
 * errno with c->err set.
 */
int kubernetes_setup(struct setup *c, const struct corefile_dir *d);

/* Free k and what it holds (NULL is fine). */
void kubernetes_conf_free(struct kubernetes_conf *k);

/* Would a and b build the same zone from the same source (zones, source,
 * credentials, selectors, pods, ttl, endpoint names, namespaces, resync
 * period, ignore, noendpoints, multicluster, the block's k8s_external
 * zone, zonal and whether topology is on)?  What only the query path reads
 * (fallthrough, startup_timeout) does not count: a reload keeps the zone
 * of a directive that changed only that. */
bool kubernetes_conf_same(const struct kubernetes_conf *a,
			  const struct kubernetes_conf *b);

#endif
