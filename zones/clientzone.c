/*
 * clientzone.c -- client address to topology zone, from the endpoints.
 *
 * Each service is one allocation holding its entries; the entries are
 * indexed by address in an RCU pointer set, the services by name in
 * another (writer side).  A change builds the service's new block, indexes
 * it, then retires the old one after a grace period.
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
	uint16_t zone;
	uint8_t family;
	uint8_t addr[16];
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

/* ---- the writer ---- */

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

static void svc_free_rcu(struct rcu_head *head)
{
	free(caa_container_of(head, struct cz_svc, rcu));
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
	if (rcuhash_insert(cz->svcs, hash, s) < 0)
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
