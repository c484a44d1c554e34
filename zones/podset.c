/*
 * podset.c -- (namespace, address) pairs with a count, in an RCU pointer
 * set (rcuhash.h); an entry is freed a grace period after its count drops
 * to zero.
 */
#include "zones/podset.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <urcu.h>

#include "zones/rcuhash.h"

struct pentry {
	struct rcu_head rcu;
	uint32_t hash;
	uint32_t count;
	uint8_t family;
	uint8_t a[16];
	uint8_t ns[]; /* wire label, lowercase */
};

struct podset {
	struct rcuhash *set;
};

struct pkey {
	const uint8_t *ns;
	int family;
	const uint8_t *a;
};

static uint32_t key_hash(const uint8_t *ns, int family, const uint8_t *a)
{
	uint32_t h = 2166136261u;
	size_t n = family == 4 ? 4 : 16;

	for (size_t i = 0; i <= ns[0]; i++)
		h = (h ^ ns[i]) * 16777619u;
	h = (h ^ (uint8_t)family) * 16777619u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ a[i]) * 16777619u;
	return h;
}

static uint32_t entry_hash(const void *item)
{
	return ((const struct pentry *)item)->hash;
}

static bool entry_match(const void *item, const void *key)
{
	const struct pentry *e = item;
	const struct pkey *k = key;

	return e->family == k->family && e->ns[0] == k->ns[0] &&
	       memcmp(e->a, k->a, k->family == 4 ? 4 : 16) == 0 &&
	       memcmp(e->ns + 1, k->ns + 1, k->ns[0]) == 0;
}

struct podset *podset_new(void)
{
	struct podset *ps = calloc(1, sizeof(*ps));

	if (ps && !(ps->set = rcuhash_new(entry_hash))) {
		free(ps);
		ps = NULL;
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
	rcuhash_each(ps->set, free_entry, NULL);
	rcuhash_free(ps->set);
	free(ps);
}

/* The key of (ns, a) with the label written to lab (64 bytes); false when
 * there is none. */
static bool make_key(const char *ns, const struct obj_addr *a, uint8_t *lab,
		     struct pkey *k)
{
	size_t n = strlen(ns);

	if (n == 0 || n > 63 || (a->family != 4 && a->family != 6))
		return false;
	lab[0] = (uint8_t)n;
	for (size_t i = 0; i < n; i++)
		lab[i + 1] = (uint8_t)tolower((unsigned char)ns[i]);
	k->ns = lab;
	k->family = a->family;
	k->a = a->a;
	return true;
}

int podset_add(struct podset *ps, const char *ns, const struct obj_addr *a)
{
	uint8_t lab[64];
	struct pkey k;

	if (!make_key(ns, a, lab, &k))
		return -EINVAL;
	uint32_t h = key_hash(lab, k.family, k.a);
	struct pentry *e = rcuhash_find(ps->set, h, entry_match, &k);
	if (e) {
		e->count++;
		return 0;
	}
	e = calloc(1, sizeof(*e) + (size_t)lab[0] + 1);
	if (!e)
		return -ENOMEM;
	e->hash = h;
	e->count = 1;
	e->family = a->family;
	memcpy(e->a, a->a, a->family == 4 ? 4 : 16);
	memcpy(e->ns, lab, (size_t)lab[0] + 1);
	if (rcuhash_insert(ps->set, h, e) < 0) {
		free(e);
		return -ENOMEM;
	}
	return 0;
}

static void entry_free_rcu(struct rcu_head *head)
{
	free(caa_container_of(head, struct pentry, rcu));
}

int podset_del(struct podset *ps, const char *ns, const struct obj_addr *a)
{
	uint8_t lab[64];
	struct pkey k;

	if (!make_key(ns, a, lab, &k))
		return -ENOENT;
	uint32_t h = key_hash(lab, k.family, k.a);
	struct pentry *e = rcuhash_find(ps->set, h, entry_match, &k);
	if (!e)
		return -ENOENT;
	if (--e->count == 0) {
		rcuhash_remove(ps->set, h, e);
		call_rcu(&e->rcu, entry_free_rcu);
	}
	return 0;
}

size_t podset_count(const struct podset *ps)
{
	return rcuhash_count(ps->set);
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

	if (x->rc)
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

	rcuhash_each(ps->set, each_entry, &x);
	return x.rc;
}

bool podset_has(const struct podset *ps, const uint8_t *ns, int family,
		const uint8_t *addr)
{
	struct pkey k = {ns, family, addr};

	return rcuhash_find(ps->set, key_hash(ns, family, addr), entry_match,
			    &k) != NULL;
}
