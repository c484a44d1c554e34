/*
 * kube.c -- objects to zone: diffing a store into the zone index.
 */
#include "zones/kube.h"

#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <urcu.h>

#include "zones/bgjob.h"
#include "zones/dname.h"
#include "zones/filesrc.h"
#include "zones/podset.h"
#include "zones/skiplog.h"

/* A set of owner keys ("svc/NS/NAME", "ns/NAME", "pod/NS/NAME"): a table
 * to find them, and the keys in the order they came, so that a round
 * costs what it holds, not what the largest round before it held. */
struct keyset {
	char **slot;
	size_t mask, count;
	char **keys; /* count of them */
	size_t cap;
};

#define KEYSET_KEEP 4096 /* slots a cleared table keeps at most */

static uint64_t key_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 0x100000001b3ULL;
	return h;
}

static int keyset_add(struct keyset *ks, const char *key)
{
	if (ks->count == ks->cap) {
		size_t cap = ks->cap ? ks->cap * 2 : 64;
		char **v = realloc(ks->keys, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		ks->keys = v;
		ks->cap = cap;
	}
	if (!ks->slot || (ks->count + 1) * 4 > (ks->mask + 1) * 3) {
		size_t n = ks->slot ? (ks->mask + 1) * 2 : 64;
		char **t = calloc(n, sizeof(*t));
		if (!t)
			return -ENOMEM;
		for (size_t i = 0; ks->slot && i <= ks->mask; i++) {
			if (!ks->slot[i])
				continue;
			size_t j = key_hash(ks->slot[i]) & (n - 1);
			while (t[j])
				j = (j + 1) & (n - 1);
			t[j] = ks->slot[i];
		}
		free(ks->slot);
		ks->slot = t;
		ks->mask = n - 1;
	}
	size_t j = key_hash(key) & ks->mask;
	for (; ks->slot[j]; j = (j + 1) & ks->mask)
		if (!strcmp(ks->slot[j], key))
			return 0;
	if (!(ks->slot[j] = strdup(key)))
		return -ENOMEM;
	ks->keys[ks->count++] = ks->slot[j];
	return 0;
}

/* Free every key.  A small table stays for the next round; one that a
 * big round (a first list) grew is given back. */
static void keyset_clear(struct keyset *ks)
{
	if (ks->slot && ks->mask + 1 > KEYSET_KEEP) {
		free(ks->slot);
		ks->slot = NULL;
		ks->mask = 0;
	}
	for (size_t i = 0; i < ks->count; i++) {
		if (ks->slot) {
			size_t j = key_hash(ks->keys[i]) & ks->mask;
			while (ks->slot[j] != ks->keys[i])
				j = (j + 1) & ks->mask;
			ks->slot[j] = NULL;
		}
		free(ks->keys[i]);
	}
	ks->count = 0;
	if (ks->cap > KEYSET_KEEP) {
		free(ks->keys);
		ks->keys = NULL;
		ks->cap = 0;
	}
}

struct kube {
	struct builder_conf bc;
	char *zones[BUILDER_MAX_ZONES];
	char *objects;
	char **namespaces;
	size_t nnamespaces;
	struct zone_index *zi;
	/* k8s_external: its zones in an index of their own (NULL: none) */
	struct builder_ext bx;
	char *ext_zones[BUILDER_MAX_ZONES];
	char *ext_apex;
	struct zone_index *xi;
	struct hosts *hosts; /* ClusterIP endpoint names, beside the zone */
	struct podset *pods; /* pods verified: running pods' addresses */
	struct clientzone *czone; /* topology: client zones; NULL without */
	struct hosts_ep *eps;
	size_t cap_eps;
	struct obj_slice **unpacked; /* copies of packed slices, per rebuild */
	size_t cap_unpacked;
	uint8_t primary[DNAME_MAX]; /* wire; primary_len 0: none */
	size_t primary_len;
	struct store *st;
	uint64_t gen;
	int synced; /* atomic */
	struct builder_buf buf;
	const struct obj_slice **slices;
	size_t cap_slices;
	struct filesrc_watch *watch;
	void (*done)(void *, int, const char *);
	void *done_arg;
	bool ns_by_label; /* only namespaces with a Namespace object */
	uint32_t list_gen[DECODE_IMPORT + 1]; /* per decode_kind */
	struct keyset dirty; /* owners to rebuild at the next commit */
	struct kube_latency latency;
	int64_t *pending_ms; /* trigger times of slices not committed yet */
	size_t npending, cap_pending;
	struct skiplog *skipped; /* objects PATH: objects left out */
	/* objects PATH read on a thread of its own (bgjob.h) */
	struct bgjob *job;
	struct store *reading; /* what the job read, until read_done */
	unsigned reading_ms;   /* how long that took */
	/* a reload's walk, on a thread of its own (apply_job) */
	struct bgjob *applier;
	struct store *applying; /* the store being applied */
	bool reread;		/* no reader thread: read again after it */
	struct timespec apply_t0;
	struct store *pending; /* read meanwhile: applied next */
	unsigned pending_read_ms;
	/* the store a reload replaced, freed on a thread of its own */
	struct bgjob *reaper;
	struct store *retired; /* atomic: taken by the reaper */
	char load_err[512];
	unsigned read_ms, apply_ms; /* the last load's */
};

/* The namespaces option (immutable: safe on any thread). */
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

/* Exposed: listed, and with namespace_labels, a Namespace object that the
 * label selector let through exists.  Control thread only. */
static bool ns_exposed(const struct kube *k, const char *ns)
{
	if (!ns_listed(k, ns, strlen(ns)))
		return false;
	return !k->ns_by_label || (k->st && store_namespace(k->st, ns));
}

bool kube_ns_exposed(const struct kube *k, const uint8_t *label, size_t len)
{
	return ns_listed(k, (const char *)label, len);
}

static int set_owner(struct kube *k, const char *key);
static int set_ext_owner(struct kube *k, const char *key);

/* The external zones of c (k8s_external), with their own names. */
static int ext_new(struct kube *k, const struct kube_conf *c, char *err,
		   size_t errlen)
{
	uint8_t zw[BUILDER_MAX_ZONES][DNAME_MAX],
	    mw[BUILDER_MAX_ZONES][DNAME_MAX], rw[DNAME_MAX];
	const uint8_t *zp[BUILDER_MAX_ZONES], *mp[BUILDER_MAX_ZONES];

	if (c->next_zones > BUILDER_MAX_ZONES) {
		snprintf(err, errlen, "k8s_external: at most %d zones",
			 BUILDER_MAX_ZONES);
		return -EINVAL;
	}
	if (!(k->ext_apex = strdup(c->ext_apex ? c->ext_apex : "dns")))
		return -ENOMEM;
	k->bx.apex = k->ext_apex;
	k->bx.headless = c->ext_headless;
	for (size_t i = 0; i < c->next_zones; i++) {
		if (!(k->ext_zones[i] = strdup(c->ext_zones[i])))
			return -ENOMEM;
		k->bx.zones[i] = k->ext_zones[i];
	}
	k->bx.nzones = c->next_zones;
	for (size_t i = 0; i < c->next_zones; i++) {
		if (dname_from_str(c->ext_zones[i], zw[i]) < 0 ||
		    builder_ext_mname(&k->bx, i, mw[i]) < 0 ||
		    builder_ext_rname(&k->bx, i, rw) < 0) {
			snprintf(err, errlen, "k8s_external: invalid zone '%s'",
				 c->ext_zones[i]);
			return -EINVAL;
		}
		dname_lower(zw[i], dname_len(zw[i]));
		zp[i] = zw[i];
		mp[i] = mw[i];
	}
	k->xi = zone_index_new(zp, mp, c->next_zones, c->ext_ttl);
	if (!k->xi)
		return -ENOMEM;
	for (size_t i = 0; i < c->next_zones; i++)
		if (builder_ext_rname(&k->bx, i, rw) < 0 ||
		    zone_set_rname(k->xi, i, rw) < 0)
			return -ENOMEM;
	if (builder_ext_static(&k->bx, &k->buf) < 0 ||
	    set_ext_owner(k, "static") < 0 || zone_commit(k->xi) < 0)
		return -ENOMEM;
	return 0;
}

/* Zone i has ClusterIP services' names (hosts.h answers them): a forward
 * zone that is not a multicluster one. */
static bool has_services(const struct kube *k, size_t i)
{
	return !builder_is_reverse(k->bc.zones[i]) && !k->bc.multicluster[i];
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
	for (size_t i = 0; i < c->nzones; i++)
		for (size_t j = 0; j < c->nmulticluster; j++)
			if (!strcmp(c->zones[i], c->multicluster[j]))
				k->bc.multicluster[i] = true;
	k->bc.pods = c->pods;
	k->bc.endpoint_pod_names = c->endpoint_pod_names;
	k->bc.ignore_empty_service = c->ignore_empty_service;
	k->bc.noendpoints = c->noendpoints;
	k->bc.zonal = c->zonal || c->topology;
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
	if (!k->zi || !(k->hosts = hosts_new()) || !(k->pods = podset_new()) ||
	    (c->topology && !(k->czone = clientzone_new())))
		goto nomem;
	for (size_t i = 0; i < c->nzones; i++)
		if (has_services(k, i))
			zone_set_tag(k->zi, i, KUBE_APEX_SERVICES);
	const char *prim = builder_primary(&k->bc);
	int pl = prim ? dname_from_str(prim, k->primary) : 0;
	if (pl > 0) {
		dname_lower(k->primary, (size_t)pl);
		k->primary_len = (size_t)pl;
	}
	k->ns_by_label = c->namespace_labels;
	if (c->objects && c->log &&
	    !(k->skipped = skiplog_new(c->log, c->log_arg)))
		goto nomem;
	if (!c->objects && !(k->st = store_new()))
		goto nomem;
	if (c->next_zones) {
		int rc = ext_new(k, c, err, errlen);
		if (rc == -ENOMEM)
			goto nomem;
		if (rc < 0)
			goto fail;
	}
	/* The zones' own names (dns-version, svc, pod) exist from the
	 * start, whatever the source delivers and when. */
	if (builder_static(&k->bc, &k->buf) < 0 || set_owner(k, "static") < 0 ||
	    zone_commit(k->zi) < 0)
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
	bgjob_free(k->job);
	store_free(k->reading);
	bgjob_free(k->applier);
	store_free(k->applying);
	store_free(k->pending);
	bgjob_free(k->reaper);
	store_free(k->retired);
	zone_index_free(k->zi);
	zone_index_free(k->xi);
	for (size_t i = 0; i < BUILDER_MAX_ZONES; i++)
		free(k->ext_zones[i]);
	free(k->ext_apex);
	hosts_free(k->hosts);
	clientzone_free(k->czone);
	podset_free(k->pods);
	free(k->eps);
	free(k->unpacked);
	store_free(k->st);
	for (size_t i = 0; i < BUILDER_MAX_ZONES; i++)
		free(k->zones[i]);
	for (size_t i = 0; i < k->nnamespaces; i++)
		free(k->namespaces[i]);
	free(k->namespaces);
	free(k->objects);
	free(k->slices);
	builder_buf_free(&k->buf);
	keyset_clear(&k->dirty);
	free(k->dirty.slot);
	free(k->dirty.keys);
	free(k->pending_ms);
	skiplog_free(k->skipped);
	free(k);
}

struct zone_index *kube_zone(const struct kube *k)
{
	return k->zi;
}

struct zone_index *kube_external_zone(const struct kube *k)
{
	return k->xi;
}

const struct hosts *kube_hosts(const struct kube *k)
{
	return k->hosts;
}

const struct clientzone *kube_clientzone(const struct kube *k)
{
	return k->czone;
}

const struct podset *kube_pods(const struct kube *k)
{
	return k->pods;
}

/* The addresses `pods verified` answers for pod ns/name: all of them until
 * it has finished. */
static int pod_set(struct kube *k, const char *ns, const char *name,
		   const struct obj_addr *ips, size_t n, uint32_t node,
		   bool terminal, uint32_t gen)
{
	if (k->bc.pods != BUILDER_PODS_VERIFIED)
		return 0;
	/* the node matters only to topology */
	int rc = podset_put(k->pods, ns, name, ips, terminal ? 0 : n,
			    k->czone ? node : 0, gen);
	/* pod names are DNS-visible: the SOA serial moves */
	if (rc > 0)
		zone_touch(k->zi);
	return rc < 0 ? rc : 0;
}

const uint8_t *kube_primary(const struct kube *k, size_t *len)
{
	*len = k->primary_len;
	return k->primary_len ? k->primary : NULL;
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

static int count_one(const char *name, void *arg)
{
	(*(size_t *)arg)++;
	return 0;
}

size_t kube_count(const struct kube *k, enum decode_kind kind)
{
	size_t n = 0;

	if (kind == DECODE_POD && k->bc.pods == BUILDER_PODS_VERIFIED)
		return podset_count(k->pods);
	if (!k->st)
		return 0;
	switch (kind) {
	case DECODE_SERVICE:
		return store_count_services(k->st);
	case DECODE_SLICE:
		return store_count_slices(k->st);
	case DECODE_POD:
		return store_count_pods(k->st);
	case DECODE_IMPORT:
		return store_count_imports(k->st);
	case DECODE_NAMESPACE:
		store_each_namespace(k->st, count_one, &n);
		return n;
	default:
		return 0;
	}
}

struct each_host {
	const struct kube *k;
	int (*cb)(const uint8_t *, uint16_t, uint32_t, const uint8_t *,
		  uint16_t, void *);
	void *arg;
};

/* name = label + service name + zone; returns its length, 0 if too long. */
static size_t host_name(uint8_t *out, const uint8_t *lab, size_t ll,
			const uint8_t *svc, size_t sl, const uint8_t *z,
			size_t zl)
{
	if (ll + sl + zl > DNAME_MAX)
		return 0;
	memcpy(out, lab, ll);
	memcpy(out + ll, svc, sl);
	memcpy(out + ll + sl, z, zl);
	return ll + sl + zl;
}

/* Zone i in wire form in z when it holds ClusterIP services' names
 * (has_services): its length, else 0. */
static size_t svc_zone(const struct kube *k, size_t i, uint8_t *z)
{
	int zl = dname_from_str(k->bc.zones[i], z);

	return zl < 0 || !has_services(k, i) ? 0 : (size_t)zl;
}

static int each_host(const struct hosts_svc *s, const struct hosts_entry *e,
		     void *arg)
{
	struct each_host *x = arg;
	const struct kube *k = x->k;
	uint8_t lab[64], name[DNAME_MAX], z[DNAME_MAX], rev[DNAME_MAX];
	size_t sl, ll = hosts_entry_label(s, e, lab), alen, zl;
	const uint8_t *sn = hosts_svc_name(s, &sl);
	uint32_t ttl = zone_ttl(k->zi);
	int rc;

	/* a service's own address: its PTR (the name is each_vip's) */
	for (size_t i = 0; ll && i < k->bc.nzones; i++) {
		size_t nl;
		if (!(zl = svc_zone(k, i, z)) ||
		    !(nl = host_name(name, lab, ll, sn, sl, z, zl)))
			continue;
		rc =
		    x->cb(name, e->family == 4 ? 1 : 28, ttl,
			  hosts_entry_addr(e), e->family == 4 ? 4 : 16, x->arg);
		if (rc)
			return rc;
	}
	size_t rl = e->family == 4 ? dname_reverse4(hosts_entry_addr(e), rev)
				   : dname_reverse6(hosts_entry_addr(e), rev);
	size_t nl =
	    host_name(name, lab, ll, sn, sl, k->primary, k->primary_len);
	if (!k->primary_len || !nl || !zone_apex_of(k->zi, rev, rl, &alen))
		return 0;
	return x->cb(rev, 12, ttl, name, (uint16_t)nl, x->arg);
}

/* The SRV records of s's name (port NULL) or of a port's name at owner,
 * aimed at the service's name (target, tl bytes). */
static int each_vip_srv(struct each_host *x, const struct hosts_svc *s,
			const struct hosts_port *port, const uint8_t *owner,
			const uint8_t *target, size_t tl)
{
	size_t np;
	uint16_t w;
	const struct hosts_port *p = hosts_srv_ports(s, port, &np, &w);
	uint8_t rd[6 + DNAME_MAX];
	int rc = 0;

	for (size_t i = 0; i < np && !rc; i++) {
		if (hosts_srv_dup(p, i))
			continue;
		size_t rl = hosts_srv_rdata(w, p[i].port, target, tl, rd);
		rc = x->cb(owner, 33, zone_ttl(x->k->zi), rd, (uint16_t)rl,
			   x->arg);
	}
	return rc;
}

/* A ClusterIP service's own name and its ports' names in every zone that
 * has them (hosts.h answers them): its addresses and SRV records. */
static int each_vip(const struct hosts_svc *s, void *arg)
{
	struct each_host *x = arg;
	const struct kube *k = x->k;
	uint8_t z[DNAME_MAX], name[DNAME_MAX], pn[DNAME_MAX], lab[64 + 6];
	size_t sl, zl, np, nips;
	const uint8_t *sn = hosts_svc_name(s, &sl);
	const struct hosts_entry *ips;
	const struct hosts_port *ports = hosts_svc_ports(s, &np);
	int rc = 0;

	if (!hosts_svc_named(s))
		return 0;
	nips = hosts_svc_ips(s, &ips);
	for (size_t i = 0; i < k->bc.nzones && !rc; i++) {
		size_t nl;
		if (!(zl = svc_zone(k, i, z)) ||
		    !(nl = host_name(name, sn, sl, z, zl, z + zl, 0)))
			continue;
		for (size_t j = 0; j < nips && !rc; j++)
			rc = x->cb(name, ips[j].family == 4 ? 1 : 28,
				   zone_ttl(k->zi), hosts_entry_addr(&ips[j]),
				   ips[j].family == 4 ? 4 : 16, x->arg);
		if (!rc)
			rc = each_vip_srv(x, s, NULL, name, name, nl);
		for (size_t j = 0; j < np && !rc; j++) {
			size_t ll = hosts_port_labels(s, &ports[j], lab);
			if (ll && host_name(pn, lab, ll, sn, sl, z, zl))
				rc =
				    each_vip_srv(x, s, &ports[j], pn, name, nl);
		}
	}
	return rc;
}

static int each_pod(const char *ns, const struct obj_addr *a, void *arg)
{
	struct each_host *x = arg;
	const struct kube *k = x->k;
	char text[1024], d[64];
	uint8_t name[DNAME_MAX];

	if (!ns_exposed(k, ns))
		return 0;
	obj_addr_dashed(a, d);
	for (size_t i = 0; i < k->bc.nzones; i++) {
		const char *z = k->bc.zones[i];
		if (builder_is_reverse(z))
			continue;
		snprintf(text, sizeof(text), "%s.%s.pod%s%s", d, ns,
			 *z ? "." : "", z);
		if (dname_from_str(text, name) <= 0)
			continue;
		int rc = x->cb(name, a->family == 4 ? 1 : 28, zone_ttl(k->zi),
			       a->a, a->family == 4 ? 4 : 16, x->arg);
		if (rc)
			return rc;
	}
	return 0;
}

/* ---- topology: zonal names are not records of the zone ---- */

struct each_unzonal {
	const struct kube *k;
	int (*cb)(const uint8_t *owner, uint16_t type, uint32_t ttl,
		  const uint8_t *rdata, uint16_t rdlen, void *arg);
	void *arg;
};

/* A zonal name (<tz>.prefer._zone.<svc>.<ns>.svc.<zone>) or the marker
 * (<svc>._zone.<ns>.svc.<zone>): _zone four or three labels above the
 * apex.  They are answered to queries only, as in CoreDNS. */
static bool zonal_owner(const struct kube *k, const uint8_t *owner)
{
	static const uint8_t anchor[] = {5, '_', 'z', 'o', 'n', 'e'};
	size_t olen = dname_len(owner), alen;

	if (!zone_apex_of(k->zi, owner, olen, &alen))
		return false;
	unsigned above =
	    dname_labels(owner) - dname_labels(owner + olen - alen);
	size_t o = 0;
	for (unsigned i = 0; i + 4 < above; i++)
		o += (size_t)owner[o] + 1;
	for (unsigned i = above >= 4 ? 0 : 1; i < 2 && above >= 3; i++) {
		if (!memcmp(owner + o, anchor, sizeof(anchor)))
			return true;
		o += (size_t)owner[o] + 1;
	}
	return false;
}

static int each_unzonal(const uint8_t *owner, uint16_t type, uint32_t ttl,
			const uint8_t *rdata, uint16_t rdlen, void *arg)
{
	struct each_unzonal *x = arg;

	if (zonal_owner(x->k, owner))
		return 0;
	return x->cb(owner, type, ttl, rdata, rdlen, x->arg);
}

int kube_each_rr(const struct kube *k,
		 int (*cb)(const uint8_t *owner, uint16_t type, uint32_t ttl,
			   const uint8_t *rdata, uint16_t rdlen, void *arg),
		 void *arg)
{
	struct each_host x = {k, cb, arg};
	struct each_unzonal u = {k, cb, arg};
	int rc = k->bc.zonal ? zone_each_rr(k->zi, each_unzonal, &u)
			     : zone_each_rr(k->zi, cb, arg);

	if (!rc)
		rc = hosts_each(k->hosts, each_host, &x);
	if (!rc)
		rc = hosts_each_service(k->hosts, each_vip, &x);
	return rc ? rc : podset_each(k->pods, each_pod, &x);
}

struct each_zone {
	const struct kube *k;
	const uint8_t *apex;
	size_t alen;
	int (*cb)(const uint8_t *owner, uint16_t type, uint32_t ttl,
		  const uint8_t *rdata, uint16_t rdlen, void *arg);
	void *arg;
};

static int each_zone_rr(const uint8_t *owner, uint16_t type, uint32_t ttl,
			const uint8_t *rdata, uint16_t rdlen, void *arg)
{
	struct each_zone *x = arg;
	size_t olen = dname_len(owner), alen;
	const struct zone_apex *a = zone_apex_of(x->k->zi, owner, olen, &alen);

	/* only the records of this zone: the longest apex holding them */
	if (!a || alen != x->alen ||
	    dname_suffix_at(owner, olen, x->apex, x->alen) < 0)
		return 0;
	return x->cb(owner, type, ttl, rdata, rdlen, x->arg);
}

int kube_each_zone_rr(const struct kube *k, size_t i,
		      int (*cb)(const uint8_t *owner, uint16_t type,
				uint32_t ttl, const uint8_t *rdata,
				uint16_t rdlen, void *arg),
		      void *arg)
{
	struct each_zone x = {k, NULL, 0, cb, arg};

	if (i >= zone_count_apexes(k->zi))
		return -EINVAL;
	x.apex = zone_apex_name(k->zi, i);
	x.alen = dname_len(x.apex);
	/* zone_each_rr gives the apexes' SOAs before any other record */
	return kube_each_rr(k, each_zone_rr, &x);
}

bool kube_applying(const struct kube *k)
{
	return k->applying != NULL;
}

/* ---- applying a store ---- */

struct apply {
	struct kube *k;
	const struct store *st;
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

/* The same for the external zones (k8s_external), when there are. */
static int set_ext_owner(struct kube *k, const char *key)
{
	if (!k->xi)
		return 0;
	if (k->buf.oom)
		return -ENOMEM;
	int rc = zone_owner_set(k->xi, key, k->buf.p, k->buf.len, k->gen);
	return rc == -EINVAL ? 0 : rc;
}

/* A reverse parent (hosts.h) as the owner "rev/<address>" of its name. */
static int shared_set(const struct hosts_shared *sh, bool exists, void *arg)
{
	struct kube *k = arg;
	struct obj_addr a = {.family = (uint8_t)sh->family};
	char key[80], text[64];

	memcpy(a.a, sh->key, sh->len);
	snprintf(key, sizeof(key), "rev/%s",
		 obj_addr_str(&a, text, sizeof(text)));
	if (builder_rev_parent(&k->bc, &a, &k->buf) < 0)
		return -ENOMEM;
	if (!exists)
		k->buf.len = 0;
	return set_owner(k, key);
}

static int shared_stamp(const struct hosts_shared *sh, void *arg)
{
	return shared_set(sh, true, arg);
}

/* Replace a service's endpoint names (n 0: none), the PTRs of its own
 * addresses and, with vip, its own name; a change moves the SOA serial at
 * the next commit, and the names above them follow (hosts_take_shared). */
static int set_hosts(struct kube *k, const char *ns, const char *name,
		     const struct hosts_ep *eps, size_t n,
		     const struct obj_addr *ips, size_t nips,
		     const struct hosts_vip *vip)
{
	int rc = hosts_set(k->hosts, ns, name, eps, n, ips, nips, vip, k->gen);

	if (rc > 0)
		zone_touch(k->zi);
	if (rc < 0)
		return rc;
	return hosts_take_shared(k->hosts, shared_set, k);
}

static int apply_ns(const char *name, void *arg)
{
	struct apply *a = arg;
	char key[300];

	if (!ns_exposed(a->k, name))
		return 0;
	snprintf(key, sizeof(key), "ns/%s", name);
	if (builder_namespace(&a->k->bc, name, &a->k->buf) < 0)
		return -ENOMEM;
	return set_owner(a->k, key);
}

/*
 * The slices of service ns/name (mc: of the import ns/name) in k->slices;
 * packed ones (from the API) are read through full copies made for this
 * rebuild only, kept in k->unpacked: *nu of them, also on failure, for
 * unpacked_free.  Returns how many slices, or -ENOMEM.
 */
static long slices_for(struct kube *k, const struct store *st, const char *ns,
		       const char *name, bool mc, size_t *nu)
{
	size_t (*of)(const struct store *, const char *, const char *,
		     const struct obj_slice **, size_t) =
	    mc ? store_mc_slices_of : store_slices_of;
	size_t n = of(st, ns, name, k->slices, k->cap_slices);

	*nu = 0;
	if (n > k->cap_slices) {
		const struct obj_slice **p = realloc(k->slices, n * sizeof(*p));
		if (!p)
			return -ENOMEM;
		k->slices = p;
		k->cap_slices = n;
		n = of(st, ns, name, k->slices, n);
	}
	if (n > k->cap_unpacked) {
		struct obj_slice **p = realloc(k->unpacked, n * sizeof(*p));
		if (!p)
			return -ENOMEM;
		k->unpacked = p;
		k->cap_unpacked = n;
	}
	for (size_t i = 0; i < n; i++) {
		if (!k->slices[i]->packed)
			continue;
		struct obj_slice *u = obj_slice_unpack(k->slices[i]);
		if (!u)
			return -ENOMEM;
		k->unpacked[(*nu)++] = u;
		k->slices[i] = u;
	}
	return (long)n;
}

/* Free the nu copies slices_for made. */
static void unpacked_free(struct kube *k, size_t nu)
{
	for (size_t i = 0; i < nu; i++)
		obj_slice_free(k->unpacked[i]);
}

/* One service; like apply_pod, a point where a reload's walk on its
 * thread lets a woken worker in (bgjob_pace: nothing on the loop). */
static int apply_svc(const struct obj_service *s, void *arg)
{
	struct apply *a = arg;
	struct kube *k = a->k;
	char key[300];
	size_t nu;
	int rc = 0;

	bgjob_pace();
	if (!ns_exposed(k, s->ns))
		return 0;
	long got = slices_for(k, a->st, s->ns, s->name, false, &nu);
	if (got < 0) {
		rc = (int)got;
		goto out;
	}
	size_t n = (size_t)got;
	snprintf(key, sizeof(key), "svc/%s/%s", s->ns, s->name);
	if (builder_service(&k->bc, s, k->slices, n, &k->buf) < 0) {
		rc = -ENOMEM;
		goto out;
	}
	if ((rc = set_owner(k, key)) < 0)
		goto out;
	if (k->xi && (builder_ext_service(&k->bc, &k->bx, s, k->slices, n,
					  &k->buf) < 0 ||
		      (rc = set_ext_owner(k, key)) < 0)) {
		rc = rc < 0 ? rc : -ENOMEM;
		goto out;
	}
	size_t ne =
	    builder_service_hosts(&k->bc, s, k->slices, n, k->eps, k->cap_eps);
	if (ne > k->cap_eps) {
		struct hosts_ep *p = realloc(k->eps, ne * sizeof(*p));
		if (!p) {
			rc = -ENOMEM;
			goto out;
		}
		k->eps = p;
		k->cap_eps = ne;
		ne = builder_service_hosts(&k->bc, s, k->slices, n, k->eps, ne);
	}
	const struct obj_addr *ips = NULL;
	size_t nips = builder_service_ips(&k->bc, s, &ips);
	struct hosts_vip vip;
	bool named = builder_service_vip(&k->bc, s, k->slices, n, &vip);
	rc = set_hosts(k, s->ns, s->name, k->eps, ne, ips, nips,
		       named ? &vip : NULL);
	if (rc == 0 && k->czone &&
	    clientzone_set(k->czone, s->ns, s->name, k->slices, n, k->gen) < 0)
		rc = -ENOMEM;
out:
	unpacked_free(k, nu);
	return rc;
}

/* A ServiceImport and its multicluster slices (few: every one is walked
 * in the first stage of a load). */
static int apply_imp(const struct obj_import *s, void *arg)
{
	struct apply *a = arg;
	struct kube *k = a->k;
	char key[300];
	size_t nu;
	int rc = 0;

	if (!ns_exposed(k, s->ns))
		return 0;
	long n = slices_for(k, a->st, s->ns, s->name, true, &nu);
	if (n < 0) {
		rc = (int)n;
		goto out;
	}
	snprintf(key, sizeof(key), "imp/%s/%s", s->ns, s->name);
	if (builder_import(&k->bc, s, k->slices, (size_t)n, &k->buf) < 0) {
		rc = -ENOMEM;
		goto out;
	}
	rc = set_owner(k, key);
out:
	unpacked_free(k, nu);
	return rc;
}

static int apply_pod(const struct obj_pod *p, void *arg)
{
	struct apply *a = arg;

	bgjob_pace();
	return pod_set(a->k, p->ns, p->name, p->ips, p->nips, p->node,
		       p->terminal, (uint32_t)a->k->gen);
}

/* ---- applying a store, in stages ---- */

/* First stage of applying st: a new generation, the static names and the
 * namespaces (few). */
static int apply_begin(struct kube *k, struct store *st)
{
	struct apply a = {k, st};
	int rc;

	k->gen++;
	if ((rc = builder_static(&k->bc, &k->buf)) < 0 ||
	    (rc = set_owner(k, "static")) < 0)
		return rc;
	if (k->xi && ((rc = builder_ext_static(&k->bx, &k->buf)) < 0 ||
		      (rc = set_ext_owner(k, "static")) < 0))
		return rc;
	if ((rc = store_each_import(st, apply_imp, &a)) < 0)
		return rc;
	return store_each_namespace(st, apply_ns, &a);
}

/* The services, then the pods of st: 0 or -ENOMEM. */
static int apply_walk(struct kube *k, const struct store *st)
{
	struct apply a = {k, st};
	int rc = store_each_service(st, apply_svc, &a);

	return rc ? rc : store_each_pod(st, apply_pod, &a);
}

/* Last stage: what st does not hold any more goes, the zone is committed
 * and st becomes the kube's store; the one it replaces is left in *old. */
static int apply_end(struct kube *k, struct store *st, struct store **old)
{
	int rc;

	if (podset_drop_stale(k->pods, (uint32_t)k->gen))
		zone_touch(k->zi);
	podset_reclaim(k->pods);
	if (hosts_drop_stale(k->hosts, k->gen))
		zone_touch(k->zi);
	/* the names above the table's: those that went, and the others
	 * stamped with this generation (else none is dropped) */
	int shared = hosts_take_shared(k->hosts, shared_set, k) < 0 ||
			     hosts_each_shared(k->hosts, shared_stamp, k) < 0
			 ? -ENOMEM
			 : 0;
	if (!shared)
		zone_owner_drop_stale(k->zi, k->gen);
	if (k->czone)
		clientzone_drop_stale(k->czone, k->gen);
	rc = zone_commit(k->zi);
	if (k->xi) {
		zone_owner_drop_stale(k->xi, k->gen);
		if (zone_commit(k->xi) < 0)
			rc = -ENOMEM;
	}
	*old = k->st;
	k->st = st;
	__atomic_store_n(&k->synced, 1, __ATOMIC_RELEASE);
	return rc < 0 ? rc : shared;
}

/* Applying st failed (-ENOMEM): publish what was applied so far (the next
 * load retries the rest) and drop st. */
static void apply_abort(struct kube *k, struct store *st)
{
	zone_commit(k->zi);
	if (k->xi)
		zone_commit(k->xi);
	store_free(st);
}

/* kube_apply_store, with the store replaced left in *old (NULL: none) for
 * the caller to free. */
static int apply_store(struct kube *k, struct store *st, struct store **old)
{
	int rc;

	*old = NULL;
	if ((rc = apply_begin(k, st)) < 0 || (rc = apply_walk(k, st)) < 0) {
		apply_abort(k, st);
		return rc;
	}
	return apply_end(k, st, old);
}

int kube_apply_store(struct kube *k, struct store *st)
{
	struct store *old;
	int rc = apply_store(k, st, &old);

	store_free(old);
	return rc;
}

/* The reaper's run: free what reloads retired, then give the heap back
 * (parsing took far more of it than the zone keeps). */
static int reap(void *arg)
{
	struct kube *k = arg;
	struct store *st;

	while ((st = __atomic_exchange_n(&k->retired, NULL, __ATOMIC_ACQ_REL)))
		store_free(st);
	malloc_trim(0);
	return 0;
}

/* Hand the store a reload replaced to the reaper: freeing 150,000
 * services takes a fifth of the apply, and the loop has better things to
 * do.  Without a reaper (the first load) or when its thread cannot start,
 * on the loop. */
static void retire(struct kube *k, struct store *old)
{
	if (!old)
		return;
	if (!k->reaper) {
		store_free(old);
		malloc_trim(0);
		return;
	}
	/* One slot: a store the reaper has not taken yet is freed here. */
	store_free(__atomic_exchange_n(&k->retired, old, __ATOMIC_ACQ_REL));
	if (bgjob_kick(k->reaper) < 0)
		reap(k);
}

static void file_skipped(void *arg, const char *file,
			 const struct decode_skip *s)
{
	struct kube *k = arg;
	char msg[768];

	skiplog_format(msg, sizeof(msg), file, s);
	skiplog_note(k->skipped, 0, msg);
}

static unsigned ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (unsigned)((t.tv_sec - t0->tv_sec) * 1000 +
			  (t.tv_nsec - t0->tv_nsec) / 1000000);
}

/* Read the objects PATH into *st: on the loop at start, later on the
 * job's thread (the skiplog's file group is used by this only). */
static int kube_read(struct kube *k, struct store **st, unsigned *ms, char *err,
		     size_t errlen)
{
	struct timespec t0;
	int rc;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	skiplog_begin(k->skipped, 0);
	rc = filesrc_load_skip(k->objects, k->skipped ? file_skipped : NULL, k,
			       st, err, errlen);
	if (rc >= 0) /* else what was noted stays known: the round goes on */
		skiplog_end(k->skipped, 0);
	*ms = ms_since(&t0);
	return rc;
}

static void oom_applying(const struct kube *k, char *err, size_t errlen)
{
	snprintf(err, errlen, "kubernetes: out of memory applying %s",
		 k->objects);
}

/* Apply what kube_read read (on the loop). */
static int kube_apply_read(struct kube *k, struct store *st, char *err,
			   size_t errlen)
{
	struct timespec t0;
	struct store *old;
	int rc;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = apply_store(k, st, &old);
	retire(k, old);
	k->apply_ms = ms_since(&t0);
	if (rc < 0)
		oom_applying(k, err, errlen);
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
	rc = kube_read(k, &st, &k->read_ms, err, errlen);
	if (rc < 0)
		return rc;
	return kube_apply_read(k, st, err, errlen);
}

void kube_load_ms(const struct kube *k, unsigned *read_ms, unsigned *apply_ms)
{
	*read_ms = k->read_ms;
	*apply_ms = k->apply_ms;
}

static int read_job(void *arg)
{
	struct kube *k = arg;

	return kube_read(k, &k->reading, &k->reading_ms, k->load_err,
			 sizeof(k->load_err));
}

static void report(struct kube *k, int rc, const char *err)
{
	if (k->done)
		k->done(k->done_arg, rc, err);
}

static void start_apply(struct kube *k, struct store *st, unsigned read_ms);

/* The end of a reload's apply, rc its walk's result (< 0: it failed):
 * commit, report, and start applying the one read meanwhile. */
static void apply_finish(struct kube *k, struct store *st, int rc)
{
	char err[512] = "";
	struct store *old = NULL;

	k->applying = NULL;
	if (rc < 0)
		apply_abort(k, st);
	else
		rc = apply_end(k, st, &old);
	retire(k, old);
	k->apply_ms = ms_since(&k->apply_t0);
	if (rc < 0)
		oom_applying(k, err, sizeof(err));
	report(k, rc, err);
	if (k->pending) {
		st = k->pending;
		k->pending = NULL;
		start_apply(k, st, k->pending_read_ms);
	} else if (k->reread) {
		k->reread = false;
		kube_reload(k);
	}
}

/* The applier's run, on its thread: the walk over k->applying, the only
 * writer of the zone meanwhile (the loop leaves it alone until
 * apply_done).  Registered with RCU: the zone's writer reads the zone in
 * RCU read sections. */
static int apply_job(void *arg)
{
	struct kube *k = arg;

	rcu_register_thread();
	int rc = apply_walk(k, k->applying);
	rcu_unregister_thread();
	return rc;
}

static void apply_done(void *arg, int rc)
{
	struct kube *k = arg;

	apply_finish(k, k->applying, rc);
}

/* Apply a store read by the job: its first stage here, its walk on the
 * applier's thread (on the loop when that cannot start), its commit here
 * when the walk is done (the zone changes all at once). */
static void start_apply(struct kube *k, struct store *st, unsigned read_ms)
{
	int rc;

	k->read_ms = read_ms;
	clock_gettime(CLOCK_MONOTONIC, &k->apply_t0);
	if ((rc = apply_begin(k, st)) < 0) {
		apply_finish(k, st, rc);
		return;
	}
	k->applying = st;
	if (!k->applier || bgjob_kick(k->applier) < 0)
		apply_finish(k, st, apply_walk(k, st));
}

static void read_done(void *arg, int rc)
{
	struct kube *k = arg;
	struct store *st = k->reading;

	k->reading = NULL;
	if (rc < 0) {
		if (!k->load_err[0])
			snprintf(k->load_err, sizeof(k->load_err),
				 "kubernetes: cannot start reading %s: %s",
				 k->objects, strerror(-rc));
		k->read_ms = k->reading_ms;
		k->apply_ms = 0;
		report(k, rc, k->load_err);
		k->load_err[0] = '\0'; /* the next run's message starts empty */
		return;
	}
	if (k->applying) { /* applied when the one in progress is */
		retire(k, k->pending);
		k->pending = st;
		k->pending_read_ms = k->reading_ms;
		return;
	}
	start_apply(k, st, k->reading_ms);
}

void kube_reload(struct kube *k)
{
	char err[512] = "";
	int rc;

	if (k->job && bgjob_kick(k->job) == 0)
		return;
	/* No thread: read and apply here, after the apply in progress. */
	if (k->applying) {
		k->reread = true;
		return;
	}
	rc = kube_load(k, err, sizeof(err));
	if (k->done)
		k->done(k->done_arg, rc, err);
}

static void on_change(void *arg)
{
	kube_reload(arg);
}

int kube_watch(struct kube *k, struct event_base *base,
	       void (*done)(void *arg, int rc, const char *err), void *arg)
{
	k->done = done;
	k->done_arg = arg;
	if (!k->job)
		k->job = bgjob_new(base, read_job, read_done, k);
	if (!k->reaper)
		k->reaper = bgjob_new(base, reap, NULL, k);
	if (!k->applier)
		k->applier = bgjob_new(base, apply_job, apply_done, k);
	k->watch = filesrc_watch_new(base, k->objects, on_change, k);
	return k->watch ? 0 : -errno;
}

/* ---- incremental updates ---- */

static int mark(struct kube *k, const char *kind, const char *ns,
		const char *name)
{
	char key[600];

	if (ns)
		snprintf(key, sizeof(key), "%s/%s/%s", kind, ns, name);
	else
		snprintf(key, sizeof(key), "%s/%s", kind, name);
	return keyset_add(&k->dirty, key);
}

/* Everything in namespace ns, when whether it is exposed may change. */
struct mark_ns {
	struct kube *k;
	const char *ns;
	int rc;
};

static int mark_svc_in(const struct obj_service *s, void *arg)
{
	struct mark_ns *m = arg;

	if (!strcmp(s->ns, m->ns))
		m->rc |= mark(m->k, "svc", s->ns, s->name);
	return 0;
}

static int mark_imp_in(const struct obj_import *s, void *arg)
{
	struct mark_ns *m = arg;

	if (!strcmp(s->ns, m->ns))
		m->rc |= mark(m->k, "imp", s->ns, s->name);
	return 0;
}

static int mark_namespace(struct kube *k, const char *ns)
{
	int rc = mark(k, "ns", NULL, ns);

	if (k->ns_by_label) {
		struct mark_ns m = {k, ns, 0};
		store_each_service(k->st, mark_svc_in, &m);
		store_each_import(k->st, mark_imp_in, &m);
		rc |= m.rc;
	}
	return rc ? -ENOMEM : 0;
}

static int pending_latency(struct kube *k, int64_t ms)
{
	if (!ms)
		return 0;
	if (k->npending == k->cap_pending) {
		size_t cap = k->cap_pending ? k->cap_pending * 2 : 64;
		int64_t *p = realloc(k->pending_ms, cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		k->pending_ms = p;
		k->cap_pending = cap;
	}
	k->pending_ms[k->npending++] = ms;
	return 0;
}

int kube_put_pod(struct kube *k, const char *ns, const char *name,
		 const struct obj_addr *ips, size_t n, uint32_t node,
		 bool terminal)
{
	return pod_set(k, ns, name, ips, n, node, terminal,
		       k->list_gen[DECODE_POD]);
}

int kube_put(struct kube *k, struct decode_obj *o)
{
	int rc = 0;

	switch (o->kind) {
	case DECODE_SERVICE: {
		struct obj_service *s = o->u.svc;
		obj_service_trim(s);
		s = o->u.svc = obj_service_pack(s);
		s->gen = k->list_gen[DECODE_SERVICE];
		bool known = store_has_namespace(k->st, s->ns);
		rc |= mark(k, "svc", s->ns, s->name);
		if (!known)
			rc |= mark_namespace(k, s->ns);
		rc |= store_put_service(k->st, s);
		break;
	}
	case DECODE_SLICE: {
		struct obj_slice *s = o->u.slice;
		const struct obj_slice *old =
		    store_slice(k->st, s->ns, s->name);
		obj_slice_trim(s, k->bc.endpoint_pod_names);
		s = o->u.slice = obj_slice_pack(s);
		s->gen = k->list_gen[DECODE_SLICE];
		/* a multicluster slice belongs to an import */
		if (old && old->service)
			rc |= mark(k, old->cluster ? "imp" : "svc", old->ns,
				   old->service);
		if (s->service)
			rc |= mark(k, s->cluster ? "imp" : "svc", s->ns,
				   s->service);
		if (!store_has_namespace(k->st, s->ns))
			rc |= mark_namespace(k, s->ns);
		rc |= pending_latency(k, s->trigger_ms);
		rc |= store_put_slice(k->st, s);
		break;
	}
	case DECODE_NAMESPACE: {
		struct obj_namespace *n = o->u.ns;
		n->gen = k->list_gen[DECODE_NAMESPACE];
		bool had = store_namespace(k->st, n->name) != NULL;
		rc |= store_put_namespace(k->st, n);
		if (!had)
			rc |= mark_namespace(k, o->u.ns->name);
		break;
	}
	case DECODE_POD: {
		/* Pods come from the API only for `pods verified`: what they
		 * answer is kept in the podset, not the pods themselves. */
		struct obj_pod *p = o->u.pod;
		if (p->ns && p->name)
			rc |= kube_put_pod(k, p->ns, p->name, p->ips, p->nips,
					   p->node, p->terminal);
		obj_pod_free(p);
		break;
	}
	case DECODE_IMPORT: {
		struct obj_import *s = o->u.imp;
		s->gen = k->list_gen[DECODE_IMPORT];
		rc |= mark(k, "imp", s->ns, s->name);
		if (!store_has_namespace(k->st, s->ns))
			rc |= mark_namespace(k, s->ns);
		rc |= store_put_import(k->st, s);
		break;
	}
	case DECODE_OTHER:
		break;
	}
	o->kind = DECODE_OTHER;
	return rc ? -ENOMEM : 0;
}

int kube_delete(struct kube *k, enum decode_kind kind, const char *ns,
		const char *name)
{
	char nsbuf[256] = "";
	int rc = 0, del = -ENOENT;

	if (ns)
		snprintf(nsbuf, sizeof(nsbuf), "%s", ns);
	switch (kind) {
	case DECODE_SERVICE:
		/* a namespaced key, also for an event without a namespace */
		rc |= mark(k, "svc", nsbuf, name);
		del = store_del_service(k->st, ns, name);
		break;
	case DECODE_SLICE: {
		const struct obj_slice *old = store_slice(k->st, ns, name);
		if (old && old->service)
			rc |= mark(k, old->cluster ? "imp" : "svc", old->ns,
				   old->service);
		del = store_del_slice(k->st, ns, name);
		break;
	}
	case DECODE_IMPORT:
		rc |= mark(k, "imp", nsbuf, name);
		del = store_del_import(k->st, ns, name);
		break;
	case DECODE_NAMESPACE:
		snprintf(nsbuf, sizeof(nsbuf), "%s", name);
		del = store_del_namespace(k->st, name);
		break;
	case DECODE_POD:
		del = podset_del(k->pods, ns ? ns : "", name);
		if (del == 0)
			zone_touch(k->zi);
		break;
	case DECODE_OTHER:
		return 0;
	}
	/* The namespace may have vanished with its last object. */
	if (del == 0 && *nsbuf && !store_namespace(k->st, nsbuf))
		rc |= mark_namespace(k, nsbuf);
	return rc ? -ENOMEM : del;
}

void kube_relist_begin(struct kube *k, enum decode_kind kind)
{
	if (kind > DECODE_OTHER && kind <= DECODE_IMPORT)
		k->list_gen[kind]++;
}

struct stale {
	uint32_t gen;
	char **keys; /* "ns\0name" pairs as one string "ns/name" */
	size_t n, cap;
	int rc;
};

static int stale_add(struct stale *st, const char *ns, const char *name)
{
	if (st->n == st->cap) {
		size_t cap = st->cap ? st->cap * 2 : 16;
		char **p = realloc(st->keys, cap * sizeof(*p));
		if (!p)
			return st->rc = -ENOMEM;
		st->keys = p;
		st->cap = cap;
	}
	size_t nl = ns ? strlen(ns) : 0, ml = strlen(name);
	char *key = malloc(nl + ml + 2);
	if (!key)
		return st->rc = -ENOMEM;
	memcpy(key, ns ? ns : "", nl + 1);
	memcpy(key + nl + 1, name, ml + 1);
	st->keys[st->n++] = key;
	return 0;
}

static int stale_svc(const struct obj_service *s, void *arg)
{
	struct stale *st = arg;
	return s->gen != st->gen ? stale_add(st, s->ns, s->name) : 0;
}

static int stale_import(const struct obj_import *s, void *arg)
{
	struct stale *st = arg;
	return s->gen != st->gen ? stale_add(st, s->ns, s->name) : 0;
}

static int stale_slice(const struct obj_slice *s, void *arg)
{
	struct stale *st = arg;
	return s->gen != st->gen ? stale_add(st, s->ns, s->name) : 0;
}

struct stale_ns {
	struct kube *k;
	struct stale *st;
};

static int stale_namespace(const char *name, void *arg)
{
	struct stale_ns *s = arg;
	const struct obj_namespace *n = store_namespace(s->k->st, name);

	return n && n->gen != s->st->gen ? stale_add(s->st, NULL, name) : 0;
}

int kube_relist_end(struct kube *k, enum decode_kind kind)
{
	struct stale st = {0};
	struct stale_ns sn = {k, &st};

	if (kind <= DECODE_OTHER || kind > DECODE_IMPORT)
		return 0;
	st.gen = k->list_gen[kind];
	switch (kind) {
	case DECODE_SERVICE:
		store_each_service(k->st, stale_svc, &st);
		break;
	case DECODE_SLICE:
		store_each_slice(k->st, stale_slice, &st);
		break;
	case DECODE_NAMESPACE:
		store_each_namespace(k->st, stale_namespace, &sn);
		break;
	case DECODE_POD:
		if (podset_drop_stale(k->pods, st.gen))
			zone_touch(k->zi);
		break;
	case DECODE_IMPORT:
		store_each_import(k->st, stale_import, &st);
		break;
	default:
		break;
	}
	int rc = st.rc;
	for (size_t i = 0; i < st.n; i++) {
		const char *ns = st.keys[i];
		const char *name = ns + strlen(ns) + 1;
		if (kube_delete(k, kind, *ns ? ns : NULL, name) == -ENOMEM)
			rc = -ENOMEM;
		free(st.keys[i]);
	}
	free(st.keys);
	return rc;
}

/* Rebuild one dirty owner from the store. */
static int rebuild(struct kube *k, const char *key)
{
	char kind[8], ns[256] = "", name[300] = "";
	const char *p = strchr(key, '/');
	size_t kl = (size_t)(p - key);

	memcpy(kind, key, kl);
	kind[kl] = 0;
	k->buf.len = 0;
	k->buf.oom = false;
	if (!strcmp(kind, "ns")) {
		snprintf(name, sizeof(name), "%s", p + 1);
		if (store_has_namespace(k->st, name) && ns_exposed(k, name) &&
		    builder_namespace(&k->bc, name, &k->buf) < 0)
			return -ENOMEM;
	} else {
		const char *q = strchr(p + 1, '/');
		if (!q)
			return set_owner(k, key);
		snprintf(ns, sizeof(ns), "%.*s", (int)(q - p - 1), p + 1);
		snprintf(name, sizeof(name), "%s", q + 1);
		if (!ns_exposed(k, ns)) {
			/* nothing: removed below */
		} else if (!strcmp(kind, "svc")) {
			const struct obj_service *s =
			    store_service(k->st, ns, name);
			struct apply a = {k, k->st};
			if (s)
				return apply_svc(s, &a);
		} else if (!strcmp(kind, "imp")) {
			const struct obj_import *s =
			    store_import(k->st, ns, name);
			struct apply a = {k, k->st};
			if (s)
				return apply_imp(s, &a);
		}
	}
	if (!strcmp(kind, "svc") &&
	    (set_ext_owner(k, key) < 0 ||
	     (k->czone &&
	      clientzone_set(k->czone, ns, name, NULL, 0, k->gen) < 0)))
		return -ENOMEM;
	int rc = set_owner(k, key);
	/* last: the names it frees are written through k->buf */
	if (rc == 0 && !strcmp(kind, "svc"))
		rc = set_hosts(k, ns, name, NULL, 0, NULL, 0, NULL);
	return rc;
}

int kube_commit(struct kube *k)
{
	int rc = 0;

	for (size_t i = 0; i < k->dirty.count; i++)
		if (rebuild(k, k->dirty.keys[i]) < 0)
			rc = -ENOMEM;
	keyset_clear(&k->dirty);
	if (zone_commit(k->zi) < 0 || (k->xi && zone_commit(k->xi) < 0))
		rc = -ENOMEM;
	podset_reclaim(k->pods);
	/* The changes are answered from now on. */
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	int64_t now_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
	for (size_t i = 0; i < k->npending; i++) {
		double d = (double)(now_ms - k->pending_ms[i]) / 1000.0;
		if (d < 0)
			d = 0;
		k->latency.count++;
		k->latency.sum += d;
		double le = 0.001;
		for (int b = 0; b < KUBE_LATENCY_BUCKETS; b++, le *= 2)
			if (d <= le)
				k->latency.bucket[b]++;
	}
	k->npending = 0;
	return rc;
}

void kube_set_synced(struct kube *k)
{
	__atomic_store_n(&k->synced, 1, __ATOMIC_RELEASE);
}

const struct kube_latency *kube_latency(const struct kube *k)
{
	return &k->latency;
}
