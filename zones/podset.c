/*
 * podset.c -- pod addresses in two RCU pointer sets (rcuhash.h) over the
 * same entries: by (namespace, address) for the readers, by pod for the
 * writer.  Entries are 40 bytes: the namespace is an index into a table of
 * the namespaces seen (a cluster has few), and entries that leave the sets
 * are freed together, a grace period after podset_reclaim.
 */
#include "zones/podset.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <urcu.h>

#include "zones/rcuhash.h"

#define MAX_IPS 8 /* a pod has one address per family; more are dropped */

struct pentry {
	uint64_t pod;  /* hash of "ns/name" */
	uint32_t hash; /* of (ns, address) */
	uint32_t gen;
	uint32_t ns; /* index in the namespace table */
	uint8_t family;
	uint8_t a[16];
};

/* The namespaces' wire labels (lowercase), in one table that only grows;
 * readers index it under RCU. */
struct nstab {
	struct rcu_head rcu;
	uint32_t n, cap;
	uint8_t (*label)[64];
};

struct retired {
	struct rcu_head rcu;
	size_t n;
	struct pentry *e[];
};

struct podset {
	struct rcuhash *addrs; /* by (ns, address) */
	struct rcuhash *pods;  /* by pod */
	struct nstab *ns;      /* RCU-protected */
	struct pentry **gone;  /* left the sets, to free after reclaim */
	size_t ngone, capgone;
	uint32_t last; /* the namespace found last (lists come by namespace) */
};

static uint32_t addr_hash(const uint8_t *ns, int family, const uint8_t *a)
{
	uint8_t f = (uint8_t)family;
	uint32_t h = rcuhash_fnv(RCUHASH_FNV0, ns, (size_t)ns[0] + 1);

	return rcuhash_fnv(rcuhash_fnv(h, &f, 1), a, family == 4 ? 4 : 16);
}

static uint64_t pod_key(const uint8_t *ns, const char *name)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 1; i <= ns[0]; i++)
		h = (h ^ ns[i]) * 0x100000001b3ULL;
	h = (h ^ '/') * 0x100000001b3ULL;
	for (; *name; name++)
		h = (h ^ (uint8_t)*name) * 0x100000001b3ULL;
	return h;
}

static uint32_t by_addr(const void *item)
{
	return ((const struct pentry *)item)->hash;
}

static uint32_t by_pod(const void *item)
{
	uint64_t k = ((const struct pentry *)item)->pod;

	return (uint32_t)(k ^ (k >> 32));
}

struct akey {
	const struct nstab *t;
	const uint8_t *ns; /* label */
	int family;
	const uint8_t *a;
};

static bool addr_match(const void *item, const void *key)
{
	const struct pentry *e = item;
	const struct akey *k = key;

	if (e->family != k->family ||
	    memcmp(e->a, k->a, k->family == 4 ? 4 : 16) != 0 ||
	    e->ns >= CMM_LOAD_SHARED(k->t->n))
		return false;
	const uint8_t *l = k->t->label[e->ns];
	return l[0] == k->ns[0] && memcmp(l + 1, k->ns + 1, l[0]) == 0;
}

/* Writer: the index of namespace label ns in t, or -1. */
static long ns_find(const struct nstab *t, const uint8_t *ns)
{
	uint32_t n = t ? t->n : 0;

	for (uint32_t i = 0; i < n; i++)
		if (t->label[i][0] == ns[0] &&
		    memcmp(t->label[i] + 1, ns + 1, ns[0]) == 0)
			return i;
	return -1;
}

static void nstab_free_rcu(struct rcu_head *head)
{
	struct nstab *t = caa_container_of(head, struct nstab, rcu);

	free(t->label);
	free(t);
}

/* Writer: the index of ns, added when new; -1 when out of memory. */
static long ns_index(struct podset *ps, const uint8_t *ns)
{
	struct nstab *t = ps->ns;

	if (t && ps->last < t->n && t->label[ps->last][0] == ns[0] &&
	    memcmp(t->label[ps->last] + 1, ns + 1, ns[0]) == 0)
		return ps->last;
	long i = ns_find(t, ns);
	if (i >= 0)
		return ps->last = (uint32_t)i;
	if (!t || t->n == t->cap) {
		/* a bigger table, published whole */
		uint32_t cap = t ? t->cap * 2 : 16;
		struct nstab *nt = calloc(1, sizeof(*nt));
		uint8_t(*l)[64] = nt ? calloc(cap, 64) : NULL;
		if (!l) {
			free(nt);
			return -1;
		}
		if (t)
			memcpy(l, t->label, (size_t)t->n * 64);
		nt->label = l;
		nt->n = t ? t->n : 0;
		nt->cap = cap;
		rcu_assign_pointer(ps->ns, nt);
		if (t)
			call_rcu(&t->rcu, nstab_free_rcu);
		t = nt;
	}
	/* a slot no reader looks at yet, then the count that shows it */
	memcpy(t->label[t->n], ns, (size_t)ns[0] + 1);
	cmm_smp_wmb();
	CMM_STORE_SHARED(t->n, t->n + 1);
	return (long)t->n - 1;
}

static bool pod_match(const void *item, const void *key)
{
	return ((const struct pentry *)item)->pod == *(const uint64_t *)key;
}

struct podset *podset_new(void)
{
	struct podset *ps = calloc(1, sizeof(*ps));

	if (!ps)
		return NULL;
	ps->addrs = rcuhash_new(by_addr);
	ps->pods = rcuhash_new(by_pod);
	if (!ps->addrs || !ps->pods) {
		podset_free(ps);
		return NULL;
	}
	return ps;
}

static void free_entry(void *item, void *arg)
{
	free(item);
}

void podset_free(struct podset *ps)
{
	if (!ps)
		return;
	if (ps->pods)
		rcuhash_each(ps->pods, free_entry, NULL);
	for (size_t i = 0; i < ps->ngone; i++)
		free(ps->gone[i]);
	free(ps->gone);
	rcuhash_free(ps->addrs);
	rcuhash_free(ps->pods);
	if (ps->ns) {
		free(ps->ns->label);
		free(ps->ns);
	}
	free(ps);
}

static void retired_free_rcu(struct rcu_head *head)
{
	struct retired *r = caa_container_of(head, struct retired, rcu);

	for (size_t i = 0; i < r->n; i++)
		free(r->e[i]);
	free(r);
}

void podset_reclaim(struct podset *ps)
{
	if (!ps->ngone)
		return;
	struct retired *r =
	    malloc(sizeof(*r) + ps->ngone * sizeof(struct pentry *));
	if (r) {
		r->n = ps->ngone;
		memcpy(r->e, ps->gone, ps->ngone * sizeof(struct pentry *));
		call_rcu(&r->rcu, retired_free_rcu);
	} else {
		synchronize_rcu();
		for (size_t i = 0; i < ps->ngone; i++)
			free(ps->gone[i]);
	}
	ps->ngone = 0;
	if (ps->capgone > 1024) {
		free(ps->gone);
		ps->gone = NULL;
		ps->capgone = 0;
	}
}

/* The lowercase wire label of ns into lab (64 bytes); false if too long. */
static bool ns_label(const char *ns, uint8_t *lab)
{
	size_t n = strlen(ns);

	if (n == 0 || n > 63)
		return false;
	lab[0] = (uint8_t)n;
	for (size_t i = 0; i < n; i++)
		lab[i + 1] = (uint8_t)tolower((unsigned char)ns[i]);
	return true;
}

/* The entries of a pod, at most max, into out; returns how many. */
static size_t pod_entries(const struct podset *ps, uint64_t pod,
			  struct pentry **out, size_t max)
{
	const void *tab = NULL;
	size_t pos = 0, n = 0;
	struct pentry *e;
	uint32_t h = (uint32_t)(pod ^ (pod >> 32));

	while (n < max && (e = rcuhash_find_next(ps->pods, &tab, &pos, h,
						 pod_match, &pod)))
		out[n++] = e;
	return n;
}

/* Hand e to the next reclaim; without room for it, wait for the readers
 * to move on and free it now. */
static void entry_retire(struct podset *ps, struct pentry *e)
{
	if (ps->ngone == ps->capgone) {
		size_t cap = ps->capgone ? ps->capgone * 2 : 64;
		struct pentry **p = realloc(ps->gone, cap * sizeof(*p));
		if (!p) {
			synchronize_rcu();
			free(e);
			return;
		}
		ps->gone = p;
		ps->capgone = cap;
	}
	ps->gone[ps->ngone++] = e;
}

static void entry_drop(struct podset *ps, struct pentry *e)
{
	rcuhash_remove(ps->addrs, e->hash, e);
	rcuhash_remove(ps->pods, by_pod(e), e);
	entry_retire(ps, e);
}

static bool entry_is(const struct pentry *e, const struct obj_addr *a)
{
	return e->family == a->family &&
	       memcmp(e->a, a->a, a->family == 4 ? 4 : 16) == 0;
}

int podset_put(struct podset *ps, const char *ns, const char *name,
	       const struct obj_addr *ips, size_t n, uint32_t gen)
{
	uint8_t lab[64];
	struct pentry *old[MAX_IPS], *add[MAX_IPS];
	size_t nadd = 0;

	if (!ns_label(ns, lab))
		n = 0, lab[0] = 0;
	uint64_t pod = pod_key(lab, name);
	long nsi = n ? ns_index(ps, lab) : 0;
	if (nsi < 0)
		return -ENOMEM;
	size_t nold = pod_entries(ps, pod, old, MAX_IPS);
	if (n > MAX_IPS)
		n = MAX_IPS;
	for (size_t i = 0; i < nold; i++)
		old[i]->gen = gen;
	/* The new addresses first, */
	for (size_t i = 0; i < n; i++) {
		const struct obj_addr *a = &ips[i];
		bool have = false;
		if (a->family != 4 && a->family != 6)
			continue;
		for (size_t j = 0; j < nold && !have; j++)
			have = entry_is(old[j], a);
		for (size_t j = 0; j < nadd && !have; j++)
			have = entry_is(add[j], a);
		if (have)
			continue;
		struct pentry *e = calloc(1, sizeof(*e));
		if (!e)
			goto nomem;
		e->pod = pod;
		e->gen = gen;
		e->ns = (uint32_t)nsi;
		e->family = a->family;
		memcpy(e->a, a->a, a->family == 4 ? 4 : 16);
		e->hash = addr_hash(lab, e->family, e->a);
		if (rcuhash_insert(ps->addrs, e->hash, e) < 0) {
			free(e);
			goto nomem;
		}
		if (rcuhash_insert(ps->pods, by_pod(e), e) < 0) {
			rcuhash_remove(ps->addrs, e->hash, e);
			entry_retire(ps, e);
			goto nomem;
		}
		add[nadd++] = e;
	}
	/* then the old ones it no longer has go. */
	bool changed = nadd > 0;
	for (size_t j = 0; j < nold; j++) {
		bool keep = false;
		for (size_t i = 0; i < n && !keep; i++)
			keep = entry_is(old[j], &ips[i]);
		if (!keep) {
			entry_drop(ps, old[j]);
			changed = true;
		}
	}
	return changed ? 1 : 0;
nomem:
	for (size_t i = 0; i < nadd; i++)
		entry_drop(ps, add[i]);
	return -ENOMEM;
}

int podset_del(struct podset *ps, const char *ns, const char *name)
{
	uint8_t lab[64];
	struct pentry *old[MAX_IPS];

	if (!ns_label(ns, lab))
		lab[0] = 0;
	size_t n = pod_entries(ps, pod_key(lab, name), old, MAX_IPS);
	for (size_t i = 0; i < n; i++)
		entry_drop(ps, old[i]);
	return n ? 0 : -ENOENT;
}

struct stale {
	struct podset *ps;
	uint32_t gen;
};

static bool is_stale(void *item, void *arg)
{
	return ((struct pentry *)item)->gen != ((struct stale *)arg)->gen;
}

static void drop_stale(void *item, void *arg)
{
	entry_drop(((struct stale *)arg)->ps, item);
}

size_t podset_drop_stale(struct podset *ps, uint32_t gen)
{
	struct stale st = {ps, gen};
	long n = rcuhash_take_if(ps->pods, is_stale, drop_stale, &st);

	return n > 0 ? (size_t)n : 0;
}

size_t podset_count(const struct podset *ps)
{
	return rcuhash_count(ps->pods);
}

struct each {
	int (*cb)(const char *, const struct obj_addr *, void *);
	void *arg;
	int rc;
	const struct nstab *ns;
};

static void each_entry(void *item, void *arg)
{
	const struct pentry *e = item;
	struct each *x = arg;
	struct obj_addr a = {.family = e->family};
	const uint8_t *l = x->ns->label[e->ns];
	char ns[64];

	if (x->rc)
		return;
	memcpy(a.a, e->a, sizeof(a.a));
	memcpy(ns, l + 1, l[0]);
	ns[l[0]] = 0;
	x->rc = x->cb(ns, &a, x->arg);
}

int podset_each(const struct podset *ps,
		int (*cb)(const char *ns, const struct obj_addr *a, void *arg),
		void *arg)
{
	struct each x = {cb, arg, 0, ps->ns};

	if (!ps->ns)
		return 0;

	rcuhash_each(ps->pods, each_entry, &x);
	return x.rc;
}

bool podset_has(const struct podset *ps, const uint8_t *ns, int family,
		const uint8_t *addr)
{
	struct akey k = {rcu_dereference(ps->ns), ns, family, addr};

	if (!k.t)
		return false;
	return rcuhash_find(ps->addrs, addr_hash(ns, family, addr), addr_match,
			    &k) != NULL;
}
