/*
 * podset.c -- pod addresses in two RCU pointer sets (rcuhash.h) over the
 * same entries: by (namespace, address) for the readers, by pod for the
 * writer.  An entry is freed a grace period after it leaves both.
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
	struct rcu_head rcu;
	uint64_t pod;  /* hash of "ns/name" */
	uint32_t hash; /* of (ns, address) */
	uint32_t gen;
	uint8_t family;
	uint8_t a[16];
	uint8_t ns[]; /* wire label, lowercase */
};

struct podset {
	struct rcuhash *addrs; /* by (ns, address) */
	struct rcuhash *pods;  /* by pod */
};

static uint32_t fnv(uint32_t h, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static uint32_t addr_hash(const uint8_t *ns, int family, const uint8_t *a)
{
	uint8_t f = (uint8_t)family;

	return fnv(fnv(fnv(2166136261u, ns, (size_t)ns[0] + 1), &f, 1), a,
		   family == 4 ? 4 : 16);
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
	const uint8_t *ns;
	int family;
	const uint8_t *a;
};

static bool addr_match(const void *item, const void *key)
{
	const struct pentry *e = item;
	const struct akey *k = key;

	return e->family == k->family && e->ns[0] == k->ns[0] &&
	       memcmp(e->a, k->a, k->family == 4 ? 4 : 16) == 0 &&
	       memcmp(e->ns + 1, k->ns + 1, k->ns[0]) == 0;
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
	rcuhash_free(ps->addrs);
	rcuhash_free(ps->pods);
	free(ps);
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

static void entry_free_rcu(struct rcu_head *head)
{
	free(caa_container_of(head, struct pentry, rcu));
}

static void entry_drop(struct podset *ps, struct pentry *e)
{
	rcuhash_remove(ps->addrs, e->hash, e);
	rcuhash_remove(ps->pods, by_pod(e), e);
	call_rcu(&e->rcu, entry_free_rcu);
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
		struct pentry *e = calloc(1, sizeof(*e) + (size_t)lab[0] + 1);
		if (!e)
			goto nomem;
		e->pod = pod;
		e->gen = gen;
		e->family = a->family;
		memcpy(e->a, a->a, a->family == 4 ? 4 : 16);
		memcpy(e->ns, lab, (size_t)lab[0] + 1);
		e->hash = addr_hash(lab, e->family, e->a);
		if (rcuhash_insert(ps->addrs, e->hash, e) < 0) {
			free(e);
			goto nomem;
		}
		if (rcuhash_insert(ps->pods, by_pod(e), e) < 0) {
			rcuhash_remove(ps->addrs, e->hash, e);
			call_rcu(&e->rcu, entry_free_rcu);
			goto nomem;
		}
		add[nadd++] = e;
	}
	/* then the old ones it no longer has go. */
	for (size_t j = 0; j < nold; j++) {
		bool keep = false;
		for (size_t i = 0; i < n && !keep; i++)
			keep = entry_is(old[j], &ips[i]);
		if (!keep)
			entry_drop(ps, old[j]);
	}
	return 0;
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
	uint32_t gen;
	struct pentry **v;
	size_t n, cap;
	bool oom;
};

static void stale_note(void *item, void *arg)
{
	struct pentry *e = item;
	struct stale *st = arg;

	if (e->gen == st->gen || st->oom)
		return;
	if (st->n == st->cap) {
		size_t cap = st->cap ? st->cap * 2 : 64;
		struct pentry **p = realloc(st->v, cap * sizeof(*p));
		if (!p) {
			st->oom = true;
			return;
		}
		st->v = p;
		st->cap = cap;
	}
	st->v[st->n++] = e;
}

size_t podset_drop_stale(struct podset *ps, uint32_t gen)
{
	struct stale st = {.gen = gen};

	rcuhash_each(ps->pods, stale_note, &st);
	for (size_t i = 0; i < st.n; i++)
		entry_drop(ps, st.v[i]);
	free(st.v);
	return st.n;
}

size_t podset_count(const struct podset *ps)
{
	return rcuhash_count(ps->pods);
}

struct each {
	int (*cb)(const char *, const struct obj_addr *, void *);
	void *arg;
	int rc;
};

static void each_entry(void *item, void *arg)
{
	const struct pentry *e = item;
	struct each *x = arg;
	struct obj_addr a = {.family = e->family};
	char ns[64];

	if (x->rc || !e->ns[0])
		return;
	memcpy(a.a, e->a, sizeof(a.a));
	memcpy(ns, e->ns + 1, e->ns[0]);
	ns[e->ns[0]] = 0;
	x->rc = x->cb(ns, &a, x->arg);
}

int podset_each(const struct podset *ps,
		int (*cb)(const char *ns, const struct obj_addr *a, void *arg),
		void *arg)
{
	struct each x = {cb, arg, 0};

	rcuhash_each(ps->pods, each_entry, &x);
	return x.rc;
}

bool podset_has(const struct podset *ps, const uint8_t *ns, int family,
		const uint8_t *addr)
{
	struct akey k = {ns, family, addr};

	return rcuhash_find(ps->addrs, addr_hash(ns, family, addr), addr_match,
			    &k) != NULL;
}
