/*
 * store.c -- the object store.
 *
 * Each kind lives in an open-addressing hash table (linear probing,
 * backward-shift deletion, no tombstones) whose slots hold only the object
 * pointer, its hash and one auxiliary index; the key "ns/name" is read from
 * the object itself, so a stored object costs 16 bytes of table (at most
 * ~70% load) on top of its own fields.
 *
 * Two indexes keep the record builder's questions proportional to the
 * answer:
 *  - a group per (namespace, service name) holds the slices labelled with
 *    that service; a slice's table slot remembers its position in the group;
 *    the slices of ServiceImports (multicluster) have groups of their own,
 *    as an import may share its name with a Service;
 *  - a record per namespace holds its pods (the pod's slot remembers the
 *    position), a count of the objects living in it, and the Namespace
 *    object when there is one.  A record exists while either is non-zero.
 * Removing from a group or a namespace's pod list swaps the last element
 * into the hole and fixes that element's remembered position.
 */
#include "zones/store.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct hent {
	void *p;     /* NULL: empty slot */
	uint32_t h;  /* full hash of the key */
	uint32_t ix; /* position in the owning index list */
};

/* Where a table reads its keys from: (ns, name); ns NULL for one-part keys. */
typedef void (*hkey_fn)(const void *p, const char **ns, const char **name);

struct hmap {
	struct hent *t;
	size_t cap; /* 0 or a power of two */
	size_t n;
	hkey_fn key;
};

struct ns_rec {
	char *name;
	struct obj_namespace *obj;
	size_t refs; /* services, slices and pods that live in the namespace */
	const struct obj_pod **pods;
	uint32_t npods;
	uint32_t cap;
};

/* The slices of one service: one allocation with the names, and room for
 * one slice inline (most services have one). */
struct svc_group {
	char *ns;
	char *svc;
	const struct obj_slice **v; /* &one, or an array of its own */
	uint32_t n;
	uint32_t cap;
	const struct obj_slice *one;
	char names[];
};

struct store {
	struct hmap svcs;
	struct hmap slices;
	struct hmap pods;
	struct hmap nss;      /* struct ns_rec */
	struct hmap groups;   /* struct svc_group */
	struct hmap imports;  /* struct obj_import */
	struct hmap mcgroups; /* struct svc_group of multicluster slices */
};

static void key_import(const void *p, const char **ns, const char **name)
{
	const struct obj_import *s = p;

	*ns = s->ns;
	*name = s->name;
}

static void key_svc(const void *p, const char **ns, const char **name)
{
	const struct obj_service *s = p;

	*ns = s->ns;
	*name = s->name;
}

static void key_slice(const void *p, const char **ns, const char **name)
{
	const struct obj_slice *s = p;

	*ns = s->ns;
	*name = s->name;
}

static void key_pod(const void *p, const char **ns, const char **name)
{
	const struct obj_pod *s = p;

	*ns = s->ns;
	*name = s->name;
}

static void key_nsrec(const void *p, const char **ns, const char **name)
{
	const struct ns_rec *r = p;

	*ns = NULL;
	*name = r->name;
}

static void key_group(const void *p, const char **ns, const char **name)
{
	const struct svc_group *g = p;

	*ns = g->ns;
	*name = g->svc;
}

/* FNV-1a over "ns/name" (or just "name"). */
static uint32_t hkey(const char *ns, const char *name)
{
	uint32_t h = 2166136261u;

	if (ns) {
		for (const char *c = ns; *c; c++)
			h = (h ^ (uint8_t)*c) * 16777619u;
		h = (h ^ '/') * 16777619u;
	}
	for (const char *c = name; *c; c++)
		h = (h ^ (uint8_t)*c) * 16777619u;
	return h;
}

static bool streq_opt(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

/* Index of the slot holding key (ns, name), or -1. */
static long hmap_find(const struct hmap *m, uint32_t h, const char *ns,
		      const char *name)
{
	size_t mask, i;

	if (m->cap == 0)
		return -1;
	mask = m->cap - 1;
	for (i = h & mask; m->t[i].p; i = (i + 1) & mask) {
		const char *kns, *kname;

		if (m->t[i].h != h)
			continue;
		m->key(m->t[i].p, &kns, &kname);
		if (streq_opt(kns, ns) && strcmp(kname, name) == 0)
			return (long)i;
	}
	return -1;
}

static void hmap_place(struct hent *t, size_t cap, struct hent e)
{
	size_t mask = cap - 1, i;

	for (i = e.h & mask; t[i].p; i = (i + 1) & mask)
		;
	t[i] = e;
}

/* Make room for one more entry; the only operation that can fail. */
static int hmap_reserve(struct hmap *m)
{
	struct hent *nt;
	size_t ncap;

	if ((m->n + 1) * 10 <= m->cap * 7)
		return 0;
	ncap = m->cap ? m->cap * 2 : 16;
	nt = calloc(ncap, sizeof(*nt));
	if (!nt)
		return -ENOMEM;
	for (size_t i = 0; i < m->cap; i++)
		if (m->t[i].p)
			hmap_place(nt, ncap, m->t[i]);
	free(m->t);
	m->t = nt;
	m->cap = ncap;
	return 0;
}

/* Add an absent key; hmap_reserve() must have succeeded just before. */
static void hmap_add(struct hmap *m, uint32_t h, void *p, uint32_t ix)
{
	struct hent e = {.p = p, .h = h, .ix = ix};

	hmap_place(m->t, m->cap, e);
	m->n++;
}

/* Empty slot i, shifting later members of its probe run back. */
static void hmap_remove_at(struct hmap *m, size_t i)
{
	size_t mask = m->cap - 1, j = i;

	for (;;) {
		size_t home;

		j = (j + 1) & mask;
		if (!m->t[j].p)
			break;
		home = m->t[j].h & mask;
		/* Move t[j] into the hole unless its home lies in (i, j]. */
		if (i <= j ? (home <= i || home > j)
			   : (home <= i && home > j)) {
			m->t[i] = m->t[j];
			i = j;
		}
	}
	m->t[i].p = NULL;
	m->n--;
}

static void hmap_init(struct hmap *m, hkey_fn key)
{
	memset(m, 0, sizeof(*m));
	m->key = key;
}

/* Grow the array of pointers at *arrp (n used, *cap allocated) to hold one
 * more element.  The array pointer is copied through memcpy so one helper
 * serves every element type. */
static int grow(void *arrp, uint32_t n, uint32_t *cap)
{
	void *v, *nv;
	uint32_t ncap;

	if (n < *cap)
		return 0;
	if (*cap >= UINT32_MAX / 2)
		return -ENOMEM;
	ncap = *cap ? *cap * 2 : 4;
	memcpy(&v, arrp, sizeof(v));
	nv = realloc(v, (size_t)ncap * sizeof(void *));
	if (!nv)
		return -ENOMEM;
	memcpy(arrp, &nv, sizeof(nv));
	*cap = ncap;
	return 0;
}

/* --- namespaces ------------------------------------------------------- */

static struct ns_rec *ns_find(const struct store *st, const char *name)
{
	long i = hmap_find(&st->nss, hkey(NULL, name), NULL, name);

	return i < 0 ? NULL : st->nss.t[i].p;
}

static struct ns_rec *ns_get(struct store *st, const char *name)
{
	uint32_t h = hkey(NULL, name);
	long i = hmap_find(&st->nss, h, NULL, name);
	struct ns_rec *r;

	if (i >= 0)
		return st->nss.t[i].p;
	if (hmap_reserve(&st->nss) < 0)
		return NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->name = strdup(name);
	if (!r->name) {
		free(r);
		return NULL;
	}
	hmap_add(&st->nss, h, r, 0);
	return r;
}

static void ns_rec_free(struct ns_rec *r)
{
	obj_namespace_free(r->obj);
	free(r->pods);
	free(r->name);
	free(r);
}

/* Drop the record when nothing refers to the namespace any more. */
static void ns_maybe_drop(struct store *st, struct ns_rec *r)
{
	long i;

	if (r->refs || r->obj)
		return;
	i = hmap_find(&st->nss, hkey(NULL, r->name), NULL, r->name);
	if (i >= 0)
		hmap_remove_at(&st->nss, (size_t)i);
	ns_rec_free(r);
}

static void ns_unref(struct store *st, const char *name)
{
	struct ns_rec *r = ns_find(st, name);

	if (!r)
		return;
	if (r->refs)
		r->refs--;
	ns_maybe_drop(st, r);
}

/* --- service groups ---------------------------------------------------- */

/* The groups a slice goes in: a Service's, or a ServiceImport's. */
static struct hmap *groups_of(struct store *st, const struct obj_slice *s)
{
	return s->cluster ? &st->mcgroups : &st->groups;
}

static struct svc_group *group_find(const struct hmap *gm, const char *ns,
				    const char *svc)
{
	long i = hmap_find(gm, hkey(ns, svc), ns, svc);

	return i < 0 ? NULL : gm->t[i].p;
}

/* The group of ns/svc with room for one more slice; NULL on ENOMEM. */
static struct svc_group *group_get(struct hmap *gm, const char *ns,
				   const char *svc)
{
	uint32_t h = hkey(ns, svc);
	long i = hmap_find(gm, h, ns, svc);
	struct svc_group *g;

	if (i >= 0) {
		g = gm->t[i].p;
		if (g->v == &g->one && g->n == 1) {
			/* a second slice: an array of its own */
			const struct obj_slice **v = malloc(4 * sizeof(*v));
			if (!v)
				return NULL;
			v[0] = g->one;
			g->v = v;
			g->cap = 4;
		}
		if (grow(&g->v, g->n, &g->cap) < 0)
			return NULL;
		return g;
	}
	if (hmap_reserve(gm) < 0)
		return NULL;
	size_t nl = strlen(ns) + 1, sl = strlen(svc) + 1;
	g = calloc(1, sizeof(*g) + nl + sl);
	if (!g)
		return NULL;
	g->ns = memcpy(g->names, ns, nl);
	g->svc = memcpy(g->names + nl, svc, sl);
	g->v = &g->one;
	g->cap = 1;
	hmap_add(gm, h, g, 0);
	return g;
}

static void group_free(struct svc_group *g)
{
	if (g->v != &g->one)
		free(g->v);
	free(g);
}

/* Take slice s (at position ix) out of its service group. */
static void group_remove(struct store *st, const struct obj_slice *s,
			 uint32_t ix)
{
	struct hmap *gm = groups_of(st, s);
	struct svc_group *g;
	const struct obj_slice *last;
	long i;

	if (!s->service)
		return;
	g = group_find(gm, s->ns, s->service);
	if (!g || ix >= g->n)
		return;
	last = g->v[--g->n];
	if (last != s) {
		g->v[ix] = last;
		i = hmap_find(&st->slices, hkey(last->ns, last->name), last->ns,
			      last->name);
		if (i >= 0)
			st->slices.t[i].ix = ix;
	}
	if (g->n == 0) {
		i = hmap_find(gm, hkey(g->ns, g->svc), g->ns, g->svc);
		if (i >= 0)
			hmap_remove_at(gm, (size_t)i);
		group_free(g);
	}
}

/* --- store ------------------------------------------------------------- */

struct store *store_new(void)
{
	struct store *st = calloc(1, sizeof(*st));

	if (!st)
		return NULL;
	hmap_init(&st->svcs, key_svc);
	hmap_init(&st->slices, key_slice);
	hmap_init(&st->pods, key_pod);
	hmap_init(&st->nss, key_nsrec);
	hmap_init(&st->groups, key_group);
	hmap_init(&st->imports, key_import);
	hmap_init(&st->mcgroups, key_group);
	return st;
}

void store_free(struct store *st)
{
	if (!st)
		return;
	for (size_t i = 0; i < st->svcs.cap; i++)
		obj_service_free(st->svcs.t[i].p);
	for (size_t i = 0; i < st->slices.cap; i++)
		obj_slice_free(st->slices.t[i].p);
	for (size_t i = 0; i < st->pods.cap; i++)
		obj_pod_free(st->pods.t[i].p);
	for (size_t i = 0; i < st->nss.cap; i++)
		if (st->nss.t[i].p)
			ns_rec_free(st->nss.t[i].p);
	for (size_t i = 0; i < st->groups.cap; i++)
		if (st->groups.t[i].p)
			group_free(st->groups.t[i].p);
	for (size_t i = 0; i < st->imports.cap; i++)
		obj_import_free(st->imports.t[i].p);
	for (size_t i = 0; i < st->mcgroups.cap; i++)
		if (st->mcgroups.t[i].p)
			group_free(st->mcgroups.t[i].p);
	free(st->imports.t);
	free(st->mcgroups.t);
	free(st->svcs.t);
	free(st->slices.t);
	free(st->pods.t);
	free(st->nss.t);
	free(st->groups.t);
	free(st);
}

int store_put_service(struct store *st, struct obj_service *obj)
{
	uint32_t h;
	long i;
	struct ns_rec *r;

	if (!obj->ns || !obj->name) {
		obj_service_free(obj);
		return -EINVAL;
	}
	h = hkey(obj->ns, obj->name);
	i = hmap_find(&st->svcs, h, obj->ns, obj->name);
	if (i >= 0) {
		obj_service_free(st->svcs.t[i].p);
		st->svcs.t[i].p = obj;
		return 0;
	}
	if (hmap_reserve(&st->svcs) < 0 || !(r = ns_get(st, obj->ns))) {
		obj_service_free(obj);
		return -ENOMEM;
	}
	r->refs++;
	hmap_add(&st->svcs, h, obj, 0);
	return 0;
}

int store_put_slice(struct store *st, struct obj_slice *obj)
{
	struct svc_group *g = NULL;
	struct obj_slice *old;
	struct ns_rec *r;
	uint32_t h, ix = 0;
	long i;

	if (!obj->ns || !obj->name) {
		obj_slice_free(obj);
		return -EINVAL;
	}
	h = hkey(obj->ns, obj->name);
	i = hmap_find(&st->slices, h, obj->ns, obj->name);
	if (i >= 0) {
		old = st->slices.t[i].p;
		if (streq_opt(old->service, obj->service) &&
		    !old->cluster == !obj->cluster) {
			if (obj->service) {
				g = group_find(groups_of(st, obj), obj->ns,
					       obj->service);
				g->v[st->slices.t[i].ix] = obj;
			}
			st->slices.t[i].p = obj;
			obj_slice_free(old);
			return 0;
		}
		/* The service label changed: move between groups. */
		if (obj->service && !(g = group_get(groups_of(st, obj), obj->ns,
						    obj->service))) {
			obj_slice_free(obj);
			return -ENOMEM;
		}
		group_remove(st, old, st->slices.t[i].ix);
		if (g) {
			ix = g->n;
			g->v[g->n++] = obj;
		}
		/* group_remove() does not move slots of the slice table. */
		st->slices.t[i].p = obj;
		st->slices.t[i].ix = ix;
		obj_slice_free(old);
		return 0;
	}
	if (hmap_reserve(&st->slices) < 0)
		goto nomem;
	if (obj->service &&
	    !(g = group_get(groups_of(st, obj), obj->ns, obj->service)))
		goto nomem;
	r = ns_get(st, obj->ns);
	if (!r) {
		/* The group may be new and empty: drop it again. */
		if (g && g->n == 0) {
			struct hmap *gm = groups_of(st, obj);
			long gi =
			    hmap_find(gm, hkey(g->ns, g->svc), g->ns, g->svc);

			hmap_remove_at(gm, (size_t)gi);
			group_free(g);
		}
		goto nomem;
	}
	r->refs++;
	if (g) {
		ix = g->n;
		g->v[g->n++] = obj;
	}
	hmap_add(&st->slices, h, obj, ix);
	return 0;
nomem:
	obj_slice_free(obj);
	return -ENOMEM;
}

int store_put_namespace(struct store *st, struct obj_namespace *obj)
{
	struct ns_rec *r;

	if (!obj->name) {
		obj_namespace_free(obj);
		return -EINVAL;
	}
	r = ns_get(st, obj->name);
	if (!r) {
		obj_namespace_free(obj);
		return -ENOMEM;
	}
	obj_namespace_free(r->obj);
	r->obj = obj;
	return 0;
}

int store_put_pod(struct store *st, struct obj_pod *obj)
{
	struct ns_rec *r;
	uint32_t h;
	long i;

	if (!obj->ns || !obj->name) {
		obj_pod_free(obj);
		return -EINVAL;
	}
	h = hkey(obj->ns, obj->name);
	i = hmap_find(&st->pods, h, obj->ns, obj->name);
	if (i >= 0) {
		r = ns_find(st, obj->ns);
		r->pods[st->pods.t[i].ix] = obj;
		obj_pod_free(st->pods.t[i].p);
		st->pods.t[i].p = obj;
		return 0;
	}
	if (hmap_reserve(&st->pods) < 0 || !(r = ns_get(st, obj->ns)))
		goto nomem;
	if (grow(&r->pods, r->npods, &r->cap) < 0) {
		ns_maybe_drop(st, r);
		goto nomem;
	}
	r->refs++;
	r->pods[r->npods] = obj;
	hmap_add(&st->pods, h, obj, r->npods);
	r->npods++;
	return 0;
nomem:
	obj_pod_free(obj);
	return -ENOMEM;
}

int store_del_service(struct store *st, const char *ns, const char *name)
{
	long i = hmap_find(&st->svcs, hkey(ns, name), ns, name);
	struct obj_service *s;

	if (i < 0)
		return -ENOENT;
	s = st->svcs.t[i].p;
	hmap_remove_at(&st->svcs, (size_t)i);
	ns_unref(st, s->ns);
	obj_service_free(s);
	return 0;
}

int store_del_slice(struct store *st, const char *ns, const char *name)
{
	long i = hmap_find(&st->slices, hkey(ns, name), ns, name);
	struct obj_slice *s;

	if (i < 0)
		return -ENOENT;
	s = st->slices.t[i].p;
	group_remove(st, s, st->slices.t[i].ix);
	/* group_remove() changed only ix fields, so slot i still holds s. */
	hmap_remove_at(&st->slices, (size_t)i);
	ns_unref(st, s->ns);
	obj_slice_free(s);
	return 0;
}

int store_del_namespace(struct store *st, const char *name)
{
	struct ns_rec *r = ns_find(st, name);

	if (!r || !r->obj)
		return -ENOENT;
	obj_namespace_free(r->obj);
	r->obj = NULL;
	ns_maybe_drop(st, r);
	return 0;
}

int store_del_pod(struct store *st, const char *ns, const char *name)
{
	long i = hmap_find(&st->pods, hkey(ns, name), ns, name);
	const struct obj_pod *last;
	struct obj_pod *p;
	struct ns_rec *r;
	uint32_t ix;

	if (i < 0)
		return -ENOENT;
	p = st->pods.t[i].p;
	ix = st->pods.t[i].ix;
	r = ns_find(st, p->ns);
	last = r->pods[--r->npods];
	if (last != p) {
		long j = hmap_find(&st->pods, hkey(last->ns, last->name),
				   last->ns, last->name);

		r->pods[ix] = last;
		st->pods.t[j].ix = ix;
	}
	hmap_remove_at(&st->pods, (size_t)i);
	ns_unref(st, p->ns);
	obj_pod_free(p);
	return 0;
}

const struct obj_service *store_service(const struct store *st, const char *ns,
					const char *name)
{
	long i = hmap_find(&st->svcs, hkey(ns, name), ns, name);

	return i < 0 ? NULL : st->svcs.t[i].p;
}

const struct obj_slice *store_slice(const struct store *st, const char *ns,
				    const char *name)
{
	long i = hmap_find(&st->slices, hkey(ns, name), ns, name);

	return i < 0 ? NULL : st->slices.t[i].p;
}

bool store_has_namespace(const struct store *st, const char *name)
{
	return ns_find(st, name) != NULL;
}

const struct obj_namespace *store_namespace(const struct store *st,
					    const char *name)
{
	struct ns_rec *r = ns_find(st, name);

	return r ? r->obj : NULL;
}

const struct obj_pod *store_pod(const struct store *st, const char *ns,
				const char *name)
{
	long i = hmap_find(&st->pods, hkey(ns, name), ns, name);

	return i < 0 ? NULL : st->pods.t[i].p;
}

int store_each_service(const struct store *st,
		       int (*cb)(const struct obj_service *, void *), void *arg)
{
	for (size_t i = 0; i < st->svcs.cap; i++) {
		int rc;

		if (st->svcs.t[i].p && (rc = cb(st->svcs.t[i].p, arg)))
			return rc;
	}
	return 0;
}

int store_each_slice(const struct store *st,
		     int (*cb)(const struct obj_slice *, void *), void *arg)
{
	for (size_t i = 0; i < st->slices.cap; i++) {
		int rc;

		if (st->slices.t[i].p && (rc = cb(st->slices.t[i].p, arg)))
			return rc;
	}
	return 0;
}

int store_each_pod(const struct store *st,
		   int (*cb)(const struct obj_pod *, void *), void *arg)
{
	for (size_t i = 0; i < st->pods.cap; i++) {
		int rc;

		if (st->pods.t[i].p && (rc = cb(st->pods.t[i].p, arg)))
			return rc;
	}
	return 0;
}

int store_each_namespace(const struct store *st,
			 int (*cb)(const char *name, void *), void *arg)
{
	for (size_t i = 0; i < st->nss.cap; i++) {
		const struct ns_rec *r = st->nss.t[i].p;
		int rc;

		if (r && (rc = cb(r->name, arg)))
			return rc;
	}
	return 0;
}

size_t store_slices_of(const struct store *st, const char *ns, const char *svc,
		       const struct obj_slice **out, size_t max)
{
	const struct svc_group *g = group_find(&st->groups, ns, svc);

	if (!g)
		return 0;
	for (size_t i = 0; i < g->n && i < max; i++)
		out[i] = g->v[i];
	return g->n;
}

/* --- ServiceImports (multicluster) --------------------------------------- */

int store_put_import(struct store *st, struct obj_import *obj)
{
	uint32_t h;
	long i;
	struct ns_rec *r;

	if (!obj->ns || !obj->name) {
		obj_import_free(obj);
		return -EINVAL;
	}
	h = hkey(obj->ns, obj->name);
	i = hmap_find(&st->imports, h, obj->ns, obj->name);
	if (i >= 0) {
		obj_import_free(st->imports.t[i].p);
		st->imports.t[i].p = obj;
		return 0;
	}
	if (hmap_reserve(&st->imports) < 0 || !(r = ns_get(st, obj->ns))) {
		obj_import_free(obj);
		return -ENOMEM;
	}
	r->refs++;
	hmap_add(&st->imports, h, obj, 0);
	return 0;
}

int store_del_import(struct store *st, const char *ns, const char *name)
{
	long i = hmap_find(&st->imports, hkey(ns, name), ns, name);
	struct obj_import *s;

	if (i < 0)
		return -ENOENT;
	s = st->imports.t[i].p;
	hmap_remove_at(&st->imports, (size_t)i);
	ns_unref(st, s->ns);
	obj_import_free(s);
	return 0;
}

const struct obj_import *store_import(const struct store *st, const char *ns,
				      const char *name)
{
	long i = hmap_find(&st->imports, hkey(ns, name), ns, name);

	return i < 0 ? NULL : st->imports.t[i].p;
}

int store_each_import(const struct store *st,
		      int (*cb)(const struct obj_import *, void *), void *arg)
{
	for (size_t i = 0; i < st->imports.cap; i++) {
		int rc;

		if (st->imports.t[i].p && (rc = cb(st->imports.t[i].p, arg)))
			return rc;
	}
	return 0;
}

size_t store_mc_slices_of(const struct store *st, const char *ns,
			  const char *svc, const struct obj_slice **out,
			  size_t max)
{
	const struct svc_group *g = group_find(&st->mcgroups, ns, svc);

	if (!g)
		return 0;
	for (size_t i = 0; i < g->n && i < max; i++)
		out[i] = g->v[i];
	return g->n;
}

size_t store_count_imports(const struct store *st)
{
	return st->imports.n;
}

size_t store_pods_in(const struct store *st, const char *ns,
		     const struct obj_pod **out, size_t max)
{
	const struct ns_rec *r = ns_find(st, ns);

	if (!r)
		return 0;
	for (size_t i = 0; i < r->npods && i < max; i++)
		out[i] = r->pods[i];
	return r->npods;
}

size_t store_count_services(const struct store *st)
{
	return st->svcs.n;
}

size_t store_count_slices(const struct store *st)
{
	return st->slices.n;
}

size_t store_count_pods(const struct store *st)
{
	return st->pods.n;
}
