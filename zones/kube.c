/*
 * kube.c -- objects to zone: diffing a store into the zone index.
 */
#include "zones/kube.h"

#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zones/dname.h"
#include "zones/filesrc.h"

struct kube {
	struct builder_conf bc;
	char *zones[BUILDER_MAX_ZONES];
	char *objects;
	char **namespaces;
	size_t nnamespaces;
	struct zone_index *zi;
	struct store *st;
	uint64_t gen;
	int synced; /* atomic */
	struct builder_buf buf;
	const struct obj_slice **slices;
	size_t cap_slices;
	struct filesrc_watch *watch;
	void (*done)(void *, int, const char *);
	void *done_arg;
};

static bool ns_listed(const struct kube *k, const char *ns, size_t len)
{
	if (k->nnamespaces == 0)
		return true;
	for (size_t i = 0; i < k->nnamespaces; i++)
		if (strlen(k->namespaces[i]) == len &&
		    strncasecmp(k->namespaces[i], ns, len) == 0)
			return true;
	return false;
}

bool kube_ns_exposed(const struct kube *k, const uint8_t *label, size_t len)
{
	return ns_listed(k, (const char *)label, len);
}

struct kube *kube_new(const struct kube_conf *c, char *err, size_t errlen)
{
	struct kube *k = calloc(1, sizeof(*k));
	uint8_t zw[BUILDER_MAX_ZONES][DNAME_MAX],
	    mw[BUILDER_MAX_ZONES][DNAME_MAX];
	const uint8_t *zp[BUILDER_MAX_ZONES], *mp[BUILDER_MAX_ZONES];

	if (!k)
		goto nomem;
	if (c->nzones == 0 || c->nzones > BUILDER_MAX_ZONES) {
		snprintf(err, errlen, "kubernetes: between 1 and %d zones",
			 BUILDER_MAX_ZONES);
		goto fail;
	}
	for (size_t i = 0; i < c->nzones; i++) {
		k->zones[i] = strdup(c->zones[i]);
		if (!k->zones[i])
			goto nomem;
		k->bc.zones[i] = k->zones[i];
	}
	k->bc.nzones = c->nzones;
	k->bc.pods = c->pods;
	k->bc.endpoint_pod_names = c->endpoint_pod_names;
	k->bc.ignore_empty_service = c->ignore_empty_service;
	k->bc.noendpoints = c->noendpoints;
	if (c->objects && !(k->objects = strdup(c->objects)))
		goto nomem;
	if (c->nnamespaces) {
		k->namespaces = calloc(c->nnamespaces, sizeof(char *));
		if (!k->namespaces)
			goto nomem;
		for (size_t i = 0; i < c->nnamespaces; i++)
			if (!(k->namespaces[k->nnamespaces++] =
				  strdup(c->namespaces[i])))
				goto nomem;
	}
	for (size_t i = 0; i < c->nzones; i++) {
		if (dname_from_str(c->zones[i], zw[i]) < 0 ||
		    builder_mname(&k->bc, i, mw[i]) < 0) {
			snprintf(err, errlen, "kubernetes: invalid zone '%s'",
				 c->zones[i]);
			goto fail;
		}
		dname_lower(zw[i], dname_len(zw[i]));
		zp[i] = zw[i];
		mp[i] = mw[i];
	}
	k->zi = zone_index_new(zp, mp, c->nzones, c->ttl);
	if (!k->zi)
		goto nomem;
	return k;
nomem:
	snprintf(err, errlen, "kubernetes: out of memory");
fail:
	kube_free(k);
	return NULL;
}

void kube_free(struct kube *k)
{
	if (!k)
		return;
	filesrc_watch_free(k->watch);
	zone_index_free(k->zi);
	store_free(k->st);
	for (size_t i = 0; i < BUILDER_MAX_ZONES; i++)
		free(k->zones[i]);
	for (size_t i = 0; i < k->nnamespaces; i++)
		free(k->namespaces[i]);
	free(k->namespaces);
	free(k->objects);
	free(k->slices);
	builder_buf_free(&k->buf);
	free(k);
}

struct zone_index *kube_zone(const struct kube *k)
{
	return k->zi;
}

bool kube_synced(const struct kube *k)
{
	return __atomic_load_n(&k->synced, __ATOMIC_ACQUIRE) != 0;
}

const struct builder_conf *kube_builder_conf(const struct kube *k)
{
	return &k->bc;
}

const struct store *kube_store(const struct kube *k)
{
	return k->st;
}

/* ---- applying a store ---- */

struct apply {
	struct kube *k;
	const struct store *st;
	int err;
};

static int set_owner(struct kube *k, const char *key)
{
	if (k->buf.oom)
		return -ENOMEM;
	int rc = zone_owner_set(k->zi, key, k->buf.p, k->buf.len, k->gen);
	/* -EINVAL: records outside the zones cannot come from the builder;
	 * skip such an owner rather than fail the whole zone. */
	return rc == -EINVAL ? 0 : rc;
}

static int apply_ns(const char *name, void *arg)
{
	struct apply *a = arg;
	char key[300];

	if (!ns_listed(a->k, name, strlen(name)))
		return 0;
	snprintf(key, sizeof(key), "ns/%s", name);
	if (builder_namespace(&a->k->bc, name, &a->k->buf) < 0)
		return -ENOMEM;
	return set_owner(a->k, key);
}

static int apply_svc(const struct obj_service *s, void *arg)
{
	struct apply *a = arg;
	struct kube *k = a->k;
	char key[300];

	if (!ns_listed(k, s->ns, strlen(s->ns)))
		return 0;
	size_t n =
	    store_slices_of(a->st, s->ns, s->name, k->slices, k->cap_slices);
	if (n > k->cap_slices) {
		const struct obj_slice **p = realloc(k->slices, n * sizeof(*p));
		if (!p)
			return -ENOMEM;
		k->slices = p;
		k->cap_slices = n;
		n = store_slices_of(a->st, s->ns, s->name, k->slices, n);
	}
	snprintf(key, sizeof(key), "svc/%s/%s", s->ns, s->name);
	if (builder_service(&k->bc, s, k->slices, n, &k->buf) < 0)
		return -ENOMEM;
	return set_owner(k, key);
}

static int apply_pod(const struct obj_pod *p, void *arg)
{
	struct apply *a = arg;
	char key[300];

	if (!ns_listed(a->k, p->ns, strlen(p->ns)))
		return 0;
	snprintf(key, sizeof(key), "pod/%s/%s", p->ns, p->name);
	if (builder_pod(&a->k->bc, p, &a->k->buf) < 0)
		return -ENOMEM;
	return set_owner(a->k, key);
}

int kube_apply_store(struct kube *k, struct store *st)
{
	struct apply a = {k, st, 0};
	int rc;

	k->gen++;
	if ((rc = builder_static(&k->bc, &k->buf)) < 0 ||
	    (rc = set_owner(k, "static")) < 0)
		goto fail;
	if ((rc = store_each_namespace(st, apply_ns, &a)) < 0)
		goto fail;
	if ((rc = store_each_service(st, apply_svc, &a)) < 0)
		goto fail;
	if (k->bc.pods == BUILDER_PODS_VERIFIED &&
	    (rc = store_each_pod(st, apply_pod, &a)) < 0)
		goto fail;
	zone_owner_drop_stale(k->zi, k->gen);
	rc = zone_commit(k->zi);
	store_free(k->st);
	k->st = st;
	__atomic_store_n(&k->synced, 1, __ATOMIC_RELEASE);
	return rc < 0 ? rc : 0;
fail:
	/* Publish what was applied so far; the next load retries the rest. */
	zone_commit(k->zi);
	store_free(st);
	return rc;
}

int kube_load(struct kube *k, char *err, size_t errlen)
{
	struct store *st = NULL;
	int rc;

	if (!k->objects) {
		snprintf(err, errlen, "kubernetes: no objects PATH");
		return -EINVAL;
	}
	rc = filesrc_load(k->objects, &st, err, errlen);
	if (rc < 0)
		return rc;
	rc = kube_apply_store(k, st);
	/* Parsing took far more heap than the zone keeps: give it back. */
	malloc_trim(0);
	if (rc < 0)
		snprintf(err, errlen, "kubernetes: out of memory applying %s",
			 k->objects);
	return rc;
}

static void on_change(void *arg)
{
	struct kube *k = arg;
	char err[512] = "";
	int rc = kube_load(k, err, sizeof(err));

	if (k->done)
		k->done(k->done_arg, rc, err);
}

int kube_watch(struct kube *k, struct event_base *base,
	       void (*done)(void *arg, int rc, const char *err), void *arg)
{
	k->done = done;
	k->done_arg = arg;
	k->watch = filesrc_watch_new(base, k->objects, on_change, k);
	return k->watch ? 0 : -errno;
}
