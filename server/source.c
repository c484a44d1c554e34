/*
 * source.c -- a kubernetes directive's zone and what feeds it.
 */
#include "server/source.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/k8s_external.h"
#include "server/log.h"
#include "server/metrics.h"
#include "zones/zone.h"

/* An object left out of the zone (said once, skiplog.h). */
static void skipped_log(void *arg, const char *msg)
{
	log_warn("%s", msg);
}

/* What the zone of ck is built with (the strings stay ck's; kube_new
 * copies them). */
static struct kube_conf kube_conf_of(const struct kubernetes_conf *ck)
{
	struct kube_conf kc = {
	    .zones = (const char *const *)ck->zones,
	    .nzones = ck->nzones,
	    .multicluster = (const char *const *)ck->multicluster,
	    .nmulticluster = ck->nmulticluster,
	    .objects = ck->objects,
	    .pods = (enum builder_pods)ck->pods,
	    .ttl = ck->ttl,
	    .endpoint_pod_names = ck->endpoint_pod_names,
	    .ignore_empty_service = ck->ignore_empty_service,
	    .noendpoints = ck->noendpoints,
	    .zonal = ck->zonal,
	    .topology = ck->topology != KUBERNETES_TOPOLOGY_OFF,
	    .namespaces = (const char *const *)ck->namespaces,
	    .nnamespaces = ck->nnamespaces,
	    .log = skipped_log,
	};
	if (ck->external) {
		kc.ext_zones = (const char *const *)ck->external->zones;
		kc.next_zones = ck->external->nzones;
		kc.ext_apex = ck->external->apex;
		kc.ext_ttl = ck->external->ttl;
		kc.ext_headless = ck->external->headless;
	}
	return kc;
}

/* How long a watch may stay silent before it is treated as dead:
 * CLUSTERDNS_WATCH_IDLE_TIMEOUT seconds, default 180. */
static uint32_t watch_idle_ms(void)
{
	const char *v = getenv("CLUSTERDNS_WATCH_IDLE_TIMEOUT");
	unsigned long n = v ? strtoul(v, NULL, 10) : 0;

	return n ? (uint32_t)(n > 86400 ? 86400 : n) * 1000 : 180000;
}

static void api_log(void *arg, enum apisrc_level level, const char *msg)
{
	if (level == APISRC_ERROR)
		log_error("%s", msg);
	else if (level == APISRC_WARN)
		log_warn("%s", msg);
	else
		log_info("%s", msg);
}

static void reload_done(void *arg, int rc, const char *err)
{
	struct kube *k = arg;

	if (rc < 0)
		log_error("plugin/kubernetes: reload failed, keeping the "
			  "previous zone: %s",
			  err);
	else {
		unsigned read_ms, apply_ms;

		kube_load_ms(k, &read_ms, &apply_ms);
		log_info("plugin/kubernetes: reloaded: %zu names, serial %u "
			 "(read in %u ms, applied in %u ms)",
			 zone_count_names(kube_zone(k)),
			 zone_serial(kube_zone(k)), read_ms, apply_ms);
	}
}

/* Scrape-time sources of s: its zone, and its API watch. */
void source_metrics(struct source *s)
{
	if (!metrics_on() || s->counted)
		return;
	metrics_source_add(METRICS_SRC_KUBE, s->kube, NULL, NULL);
	if (s->src)
		metrics_source_add(METRICS_SRC_APISRC, s->src, NULL, NULL);
	s->counted = true;
}

void source_free(struct source *s)
{
	if (!s)
		return;
	if (s->counted) {
		metrics_source_remove(s->kube);
		if (s->src)
			metrics_source_remove(s->src);
	}
	apisrc_free(s->src);
	apiconf_free(&s->api);
	kube_free(s->kube);
	free(s);
}

/* The zone of ck fed by the Kubernetes API: endpoint, kubeconfig or
 * in-cluster. */
static struct source *source_api(const struct kubernetes_conf *ck,
				 struct event_base *base,
				 void (*synced)(void *arg), void *arg,
				 char *err, size_t errlen)
{
	struct source *s = calloc(1, sizeof(*s));
	char why[512] = "out of memory";
	int rc;

	if (!s)
		goto fail;
	if (ck->endpoint)
		rc = apiconf_endpoint(&s->api, ck->endpoint, ck->tls_cert,
				      ck->tls_key, ck->tls_cacert, why,
				      sizeof(why));
	else if (ck->kubeconfig)
		rc = apiconf_kubeconfig(&s->api, ck->kubeconfig,
					ck->kubeconfig_context, why,
					sizeof(why));
	else
		rc = apiconf_in_cluster(&s->api, NULL, why, sizeof(why));
	if (rc < 0)
		goto fail;
	struct kube_conf kc = kube_conf_of(ck);
	kc.namespace_labels = ck->namespace_labels != NULL;
	s->kube = kube_new(&kc, why, sizeof(why));
	if (!s->kube)
		goto fail;
	struct apisrc_conf ac = {
	    .api = &s->api,
	    .watch_pods = ck->pods == KUBERNETES_PODS_VERIFIED,
	    .watch_imports = ck->nmulticluster > 0,
	    .labels = ck->labels,
	    .namespace_labels = ck->namespace_labels,
	    .namespace = ck->nnamespaces == 1 ? ck->namespaces[0] : NULL,
	    .resync_ms = ck->resync_period_ms > UINT32_MAX
			     ? UINT32_MAX
			     : (uint32_t)ck->resync_period_ms,
	    .idle_timeout_ms = watch_idle_ms(),
	    .log = api_log,
	    .synced = synced,
	    .arg = arg,
	};
	s->src = apisrc_new(base, s->kube, &ac, why, sizeof(why));
	if (!s->src)
		goto fail;
	log_info("plugin/kubernetes: watching the API at %s (%s)",
		 s->api.server, s->api.origin ? s->api.origin : "");
	return s;
fail:
	snprintf(err, errlen, "%s:%d - Error during setup: kubernetes: %s",
		 ck->file, ck->line, why);
	source_free(s);
	return NULL;
}

struct source *source_new(const struct kubernetes_conf *ck,
			  struct event_base *base, void (*synced)(void *arg),
			  void *arg, char *err, size_t errlen)
{
	struct source *s;

	if (!ck->objects) {
		s = source_api(ck, base, synced, arg, err, errlen);
		if (s)
			source_metrics(s);
		return s;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (!(s->kube = source_kube_load(ck, err, errlen))) {
		free(s);
		return NULL;
	}
	source_metrics(s);
	return s;
}

struct kube *source_kube_load(const struct kubernetes_conf *ck, char *err,
			      size_t errlen)
{
	struct kube_conf kc = kube_conf_of(ck);
	char why[512] = "";
	struct kube *k = NULL;

	if (ck->labels || ck->namespace_labels) {
		snprintf(why, sizeof(why),
			 "labels and namespace_labels are label selectors "
			 "for the API server: not with objects");
		goto fail;
	}
	k = kube_new(&kc, why, sizeof(why));
	if (!k || kube_load(k, why, sizeof(why)) < 0)
		goto fail;
	return k;
fail:
	snprintf(err, errlen, "%s:%d - Error during setup: kubernetes: %s",
		 ck->file, ck->line, why);
	kube_free(k);
	return NULL;
}

bool source_synced(const struct source *s)
{
	return !s->src || apisrc_synced(s->src);
}

void source_watch(struct source *s, const struct kubernetes_conf *ck,
		  struct event_base *base)
{
	if (s->src || s->watching)
		return;
	if (kube_watch(s->kube, base, reload_done, s->kube) < 0)
		log_warn("plugin/kubernetes: cannot watch %s for changes "
			 "(%s); reload with SIGHUP",
			 ck->objects, strerror(errno));
	s->watching = true;
}

void source_reread(struct source *s)
{
	char err[512] = "";

	if (s->src)
		return;
	if (s->watching) { /* kube_reload reports through reload_done */
		kube_reload(s->kube);
		return;
	}
	int rc = kube_load(s->kube, err, sizeof(err));
	reload_done(s->kube, rc, err);
}
