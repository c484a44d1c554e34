/*
 * clientzone.c -- client address to topology zone, from the endpoints.
 *
 * Each service is one allocation holding its entries; the entries are
 * indexed by address in an RCU pointer set, the services by name in
 * another (writer side).  A change builds the service's new block, indexes
 * it, then retires the old one after a grace period.
 *
 * The zones of nodes: the readers' map is a flat array of zone numbers by
 * node number, replaced by a bigger copy when a higher node number comes
 * (the old one freed after a grace period).  The writer counts, per node,
 * the entries of each zone that name it (a few zones inline: a node has
 * one, two while it is relabelled); the map shows the first zone counted.
 */
#include "zones/clientzone.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <urcu.h>

#include "zones/rcuhash.h"

struct cz_entry {
	uint32_t node; /* obj_node_name, 0 none */
	uint16_t zone;
	uint8_t family;
	uint8_t addr[16];
};

/* The readers' map: zone[node], cap numbers. */
struct nzmap {
	struct rcu_head rcu;
	uint32_t cap;
	uint16_t zone[];
};

/* The writer's counts of one node. */
#define NZ_ZONES 4
struct nzcount {
	uint16_t zone[NZ_ZONES]; /* 0: unused */
	uint32_t count[NZ_ZONES];
};

struct cz_svc {
	struct rcu_head rcu;
	uint64_t gen;
	uint32_t hash;
	uint32_t n;
	char *key; /* "ns/name", after the entries */
	struct cz_entry e[];
};

struct clientzone {
	struct rcuhash *svcs;  /* struct cz_svc, by key */
	struct rcuhash *addrs; /* struct cz_entry, by address */
	size_t n;
	struct nzmap *nz;    /* RCU-protected; NULL: no node yet */
	struct nzcount *nzc; /* the writer's, nz->cap of them */
	size_t nodes;	     /* nodes with a zone */
};

static uint32_t addr_hash(int family, const uint8_t *a)
{
	return rcuhash_fnv(RCUHASH_FNV0, a, family == 4 ? 4 : 16);
}

static uint32_t entry_hash(const void *item)
{
	const struct cz_entry *e = item;

	return addr_hash(e->family, e->addr);
}

static uint32_t svc_hash(const void *item)
{
	return ((const struct cz_svc *)item)->hash;
}

static void free_svc(void *item, void *arg)
{
	(void)arg;
	free(item);
}

struct clientzone *clientzone_new(void)
{
	struct clientzone *cz = calloc(1, sizeof(*cz));

	if (!cz)
		return NULL;
	cz->svcs = rcuhash_new(svc_hash);
	cz->addrs = rcuhash_new(entry_hash);
	if (!cz->svcs || !cz->addrs) {
		clientzone_free(cz);
		return NULL;
	}
	return cz;
}

void clientzone_free(struct clientzone *cz)
{
	if (!cz)
		return;
	if (cz->svcs)
		rcuhash_each(cz->svcs, free_svc, NULL);
	rcuhash_free(cz->svcs);
	rcuhash_free(cz->addrs);
	free(cz->nz);
	free(cz->nzc);
	free(cz);
}

/* ---- readers ---- */

struct addr_key {
	int family;
	const uint8_t *addr;
};

static bool entry_match(const void *item, const void *key)
{
	const struct cz_entry *e = item;
	const struct addr_key *k = key;

	return e->family == k->family &&
	       !memcmp(e->addr, k->addr, k->family == 4 ? 4 : 16);
}

uint16_t clientzone_find(const struct clientzone *cz, int family,
			 const uint8_t *addr)
{
	struct addr_key k = {family, addr};
	const struct cz_entry *e =
	    rcuhash_find(cz->addrs, addr_hash(family, addr), entry_match, &k);

	return e ? e->zone : 0;
}

uint16_t clientzone_node_zone(const struct clientzone *cz, uint32_t node)
{
	const struct nzmap *m = rcu_dereference(cz->nz);

	return m && node && node < m->cap ? CMM_LOAD_SHARED(m->zone[node]) : 0;
}

/* ---- the writer: node zones ---- */

static void map_free_rcu(struct rcu_head *head)
{
	free(caa_container_of(head, struct nzmap, rcu));
}

/* Room for node numbers below want; 0 or -ENOMEM (nothing changed). */
static int nz_reserve(struct clientzone *cz, uint32_t want)
{
	struct nzmap *old = cz->nz;
	uint32_t cap = old ? old->cap : 0;

	if (want <= cap)
		return 0;
	uint64_t ncap = (uint64_t)cap * 2 > want ? (uint64_t)cap * 2 : want;
	if (ncap < 64)
		ncap = 64;
	if (ncap > OBJ_MAX_NODES + 1)
		ncap = OBJ_MAX_NODES + 1;
	struct nzmap *m = calloc(1, sizeof(*m) + ncap * sizeof(m->zone[0]));
	struct nzcount *c = m ? realloc(cz->nzc, ncap * sizeof(*c)) : NULL;
	if (!c) {
		free(m);
		return -ENOMEM;
	}
	memset(c + cap, 0, (ncap - cap) * sizeof(*c));
	cz->nzc = c;
	m->cap = (uint32_t)ncap;
	if (old)
		memcpy(m->zone, old->zone, cap * sizeof(m->zone[0]));
	rcu_assign_pointer(cz->nz, m);
	if (old)
		call_rcu(&old->rcu, map_free_rcu);
	return 0;
}

/* Count delta (+1 or -1) entries of zone on node, and show the node's
 * zone to the readers (room was reserved for the node). */
static void nz_count(struct clientzone *cz, uint32_t node, uint16_t zone,
		     int delta)
{
	struct nzcount *c = &cz->nzc[node];
	int i, freei = -1;

	for (i = 0; i < NZ_ZONES && c->zone[i] != zone; i++)
		if (!c->zone[i] && freei < 0)
			freei = i;
	if (i == NZ_ZONES) {
		if (delta < 0 || freei < 0)
			return; /* not counted: a node of many zones */
		i = freei;
		c->zone[i] = zone;
	}
	if (delta > 0) {
		c->count[i]++;
	} else if (--c->count[i] == 0) {
		c->zone[i] = 0;
	}
	uint16_t show = 0;
	for (i = 0; i < NZ_ZONES && !show; i++)
		show = c->zone[i];
	uint16_t *z = &cz->nz->zone[node];
	if (*z == show)
		return;
	if (!*z)
		cz->nodes++;
	else if (!show)
		cz->nodes--;
	CMM_STORE_SHARED(*z, show);
}

/* Count the node entries of s, delta +1 or -1. */
static void nz_count_svc(struct clientzone *cz, const struct cz_svc *s,
			 int delta)
{
	for (uint32_t i = 0; i < s->n; i++)
		if (s->e[i].node)
			nz_count(cz, s->e[i].node, s->e[i].zone, delta);
}

/* ---- the writer ---- */

static void svc_free_rcu(struct rcu_head *head)
{
	free(caa_container_of(head, struct cz_svc, rcu));
}

static bool svc_match(const void *item, const void *key)
{
	return !strcmp(((const struct cz_svc *)item)->key, key);
}

/* The service's block: its endpoints with a zone, NULL when out of
 * memory. */
static struct cz_svc *svc_build(const char *key, uint32_t hash,
				const struct obj_slice *const *sl, size_t nsl)
{
	size_t n = 0, kl = strlen(key) + 1;

	for (size_t i = 0; i < nsl; i++)
		for (size_t j = 0; j < sl[i]->neps; j++)
			if (sl[i]->eps[j].zone)
				n += sl[i]->eps[j].naddrs;
	struct cz_svc *s = malloc(sizeof(*s) + n * sizeof(s->e[0]) + kl);
	if (!s)
		return NULL;
	memset(s, 0, sizeof(*s));
	s->hash = hash;
	s->key = (char *)&s->e[n];
	memcpy(s->key, key, kl);
	for (size_t i = 0; i < nsl; i++)
		for (size_t j = 0; j < sl[i]->neps; j++) {
			const struct obj_endpoint *ep = &sl[i]->eps[j];
			for (size_t k = 0; ep->zone && k < ep->naddrs; k++) {
				struct cz_entry *e = &s->e[s->n++];
				memset(e, 0, sizeof(*e));
				e->zone = ep->zone;
				e->node = ep->node;
				e->family = ep->addrs[k].family;
				memcpy(e->addr, ep->addrs[k].a,
				       e->family == 4 ? 4 : 16);
			}
		}
	return s;
}

static bool svc_same(const struct cz_svc *a, const struct cz_svc *b)
{
	return a->n == b->n && !memcmp(a->e, b->e, a->n * sizeof(a->e[0]));
}

static void unindex(struct clientzone *cz, struct cz_svc *s, uint32_t upto)
{
	for (uint32_t i = 0; i < upto; i++)
		rcuhash_remove(cz->addrs, entry_hash(&s->e[i]), &s->e[i]);
}

/* Take s away from the readers and free it after a grace period. */
static void svc_retire(struct clientzone *cz, struct cz_svc *s)
{
	unindex(cz, s, s->n);
	nz_count_svc(cz, s, -1);
	cz->n -= s->n;
	rcuhash_remove(cz->svcs, s->hash, s);
	call_rcu(&s->rcu, svc_free_rcu);
}

int clientzone_set(struct clientzone *cz, const char *ns, const char *name,
		   const struct obj_slice *const *slices, size_t n,
		   uint64_t gen)
{
	char key[512];

	if ((size_t)snprintf(key, sizeof(key), "%s/%s", ns, name) >=
	    sizeof(key))
		return 0; /* not a name DNS serves */
	uint32_t hash = rcuhash_fnv(RCUHASH_FNV0, key, strlen(key));
	struct cz_svc *old = rcuhash_find(cz->svcs, hash, svc_match, key);
	struct cz_svc *s = n ? svc_build(key, hash, slices, n) : NULL;
	if (n && !s)
		return -ENOMEM;
	if (s && s->n == 0) {
		free(s);
		s = NULL;
	}
	if (!s) {
		if (!old)
			return 0;
		svc_retire(cz, old);
		return 1;
	}
	s->gen = gen;
	if (old && svc_same(old, s)) {
		old->gen = gen;
		free(s);
		return 0;
	}
	uint32_t top = 0;
	for (uint32_t i = 0; i < s->n; i++)
		if (s->e[i].node > top)
			top = s->e[i].node;
	if ((top && nz_reserve(cz, top + 1) < 0) ||
	    rcuhash_insert(cz->svcs, hash, s) < 0)
		goto nomem;
	for (uint32_t i = 0; i < s->n; i++) {
		if (rcuhash_insert(cz->addrs, entry_hash(&s->e[i]), &s->e[i]) <
		    0) {
			/* Undo what was indexed; the old block stays. */
			unindex(cz, s, i);
			rcuhash_remove(cz->svcs, hash, s);
			synchronize_rcu();
			goto nomem;
		}
	}
	cz->n += s->n;
	/* the new counts first: a node keeps its zone throughout */
	nz_count_svc(cz, s, +1);
	if (old)
		svc_retire(cz, old);
	return 1;
nomem:
	free(s);
	return -ENOMEM;
}

struct stale {
	struct clientzone *cz;
	uint64_t gen;
};

static bool is_stale(void *item, void *arg)
{
	return ((struct cz_svc *)item)->gen != ((struct stale *)arg)->gen;
}

static void retire_stale(void *item, void *arg)
{
	svc_retire(((struct stale *)arg)->cz, item);
}

size_t clientzone_drop_stale(struct clientzone *cz, uint64_t gen)
{
	struct stale st = {cz, gen};
	long n = rcuhash_take_if(cz->svcs, is_stale, retire_stale, &st);

	return n > 0 ? (size_t)n : 0;
}

size_t clientzone_count(const struct clientzone *cz)
{
	return cz->n;
}

size_t clientzone_nodes(const struct clientzone *cz)
{
	return cz->nodes;
}
