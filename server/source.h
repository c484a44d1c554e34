/*
 * source.h -- the zone of a kubernetes directive and what feeds it: the
 * objects PATH, loaded at once and watched for changes, or the Kubernetes
 * API, listed and watched on the control thread's event loop.  A reload
 * that leaves the directive as it was hands the source on as it is.
 */
#ifndef CLUSTERDNS_SOURCE_H
#define CLUSTERDNS_SOURCE_H

#include <stdbool.h>
#include <stddef.h>

#include "server/kubernetes.h"
#include "zones/apiconf.h"
#include "zones/apisrc.h"
#include "zones/kube.h"

struct event_base;

struct source {
	struct kube *kube;
	struct apisrc *src; /* fed by the API; NULL: objects PATH */
	struct apiconf api; /* what src connects with */
	bool watching;	    /* objects PATH: kube_watch done */
	bool counted;	    /* metrics_source_add done */
};

/*
 * The zone of ck: its objects loaded, or its API source started on base
 * (endpoint, kubeconfig, else the in-cluster service account), which calls
 * synced(arg) once every resource was listed.  Returns NULL with err set
 * ("FILE:LINE - Error during setup: kubernetes: ...").  The source's
 * metrics are registered when the registry exists (source_metrics).
 */
struct source *source_new(const struct kubernetes_conf *ck,
			  struct event_base *base, void (*synced)(void *arg),
			  void *arg, char *err, size_t errlen);

/* Stop feeding and free s (NULL is fine); no worker reads its zone. */
void source_free(struct source *s);

/* Has s been listed once (objects: always)? */
bool source_synced(const struct source *s);

/* Register s's scrape-time metrics (its zone, its API watch) once the
 * registry exists; again is a no-op. */
void source_metrics(struct source *s);

/* Objects PATH: watch the files on base, once; a change reloads them.
 * API sources: nothing. */
void source_watch(struct source *s, const struct kubernetes_conf *ck,
		  struct event_base *base);

/* Objects PATH: read the files again now (SIGHUP).  API sources:
 * nothing. */
void source_reread(struct source *s);

/* The kube of an objects PATH directive, loaded (for tools that need no
 * event loop).  Returns NULL with err set.  Free with kube_free(). */
struct kube *source_kube_load(const struct kubernetes_conf *ck, char *err,
			      size_t errlen);

#endif
