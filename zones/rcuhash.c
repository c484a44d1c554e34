/*
 * rcuhash.c -- open-addressing pointer set, read under RCU.
 *
 * A slot is NULL (never used), TOMB (removed; probing goes on) or an item.
 * Slots change by single pointer stores, so a reader sees either the old
 * or the new content.  When used slots (items and tombstones) pass three
 * quarters of the table, or the items fall under an eighth of a large one,
 * the live items move to a new table that replaces the old one for the
 * readers; the old one is freed after a grace period.
 */
#include "zones/rcuhash.h"

#include <errno.h>
#include <stdlib.h>

#include <urcu.h>

#define TOMB ((void *)1)
#define MIN_CAP 16

struct rtab {
	struct rcu_head rcu;
	size_t mask;
	void *slot[];
};

struct rcuhash {
	struct rtab *t; /* RCU-protected */
	rcuhash_hash_fn hash;
	size_t count; /* items */
	size_t used;  /* items and tombstones */
};

static struct rtab *rtab_new(size_t cap)
{
	struct rtab *t = calloc(1, sizeof(*t) + cap * sizeof(void *));

	if (t)
		t->mask = cap - 1;
	return t;
}

static void rtab_free_rcu(struct rcu_head *head)
{
	free(caa_container_of(head, struct rtab, rcu));
}

struct rcuhash *rcuhash_new(rcuhash_hash_fn hash)
{
	struct rcuhash *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->hash = hash;
	if (!(h->t = rtab_new(MIN_CAP))) {
		free(h);
		return NULL;
	}
	return h;
}

void rcuhash_free(struct rcuhash *h)
{
	if (!h)
		return;
	free(h->t);
	free(h);
}

void *rcuhash_find_next(const struct rcuhash *h, const void **tab, size_t *pos,
			uint32_t hash,
			bool (*match)(const void *item, const void *key),
			const void *key)
{
	const struct rtab *t = *tab;

	if (!t) {
		t = rcu_dereference(h->t);
		*tab = t;
	}
	/* *pos counts the slots probed so far. */
	for (size_t k = *pos; k <= t->mask; k++) {
		void *p = rcu_dereference(t->slot[(hash + k) & t->mask]);
		if (!p) {
			*pos = t->mask + 1;
			return NULL;
		}
		if (p != TOMB && match(p, key)) {
			*pos = k + 1;
			return p;
		}
	}
	*pos = t->mask + 1;
	return NULL;
}

void *rcuhash_find(const struct rcuhash *h, uint32_t hash,
		   bool (*match)(const void *item, const void *key),
		   const void *key)
{
	const void *tab = NULL;
	size_t pos = 0;

	return rcuhash_find_next(h, &tab, &pos, hash, match, key);
}

/* Put item in the first free slot of t (writer, t not yet published or
 * the live table); returns whether the slot was never used before. */
static bool place(struct rtab *t, uint32_t hash, void *item)
{
	for (size_t k = 0;; k++) {
		void **s = &t->slot[(hash + k) & t->mask];
		if (*s == NULL || *s == TOMB) {
			bool fresh = *s == NULL;
			rcu_assign_pointer(*s, item);
			return fresh;
		}
	}
}

/* Move the items to a table sized for want items. */
static int rebuild(struct rcuhash *h, size_t want)
{
	size_t cap = MIN_CAP;

	while (cap < want * 2)
		cap *= 2;
	struct rtab *nt = rtab_new(cap), *old = h->t;
	if (!nt)
		return -ENOMEM;
	for (size_t i = 0; i <= old->mask; i++) {
		void *p = old->slot[i];
		if (p && p != TOMB)
			place(nt, h->hash(p), p);
	}
	rcu_assign_pointer(h->t, nt);
	h->used = h->count;
	call_rcu(&old->rcu, rtab_free_rcu);
	return 0;
}

int rcuhash_insert(struct rcuhash *h, uint32_t hash, void *item)
{
	size_t cap = h->t->mask + 1;

	if ((h->used + 1) * 4 > cap * 3 && rebuild(h, h->count + 1) < 0)
		return -ENOMEM;
	if (place(h->t, hash, item))
		h->used++;
	h->count++;
	return 0;
}

int rcuhash_remove(struct rcuhash *h, uint32_t hash, const void *item)
{
	struct rtab *t = h->t;

	for (size_t k = 0; k <= t->mask; k++) {
		void **s = &t->slot[(hash + k) & t->mask];
		if (*s == NULL)
			break;
		if (*s != item)
			continue;
		rcu_assign_pointer(*s, TOMB);
		h->count--;
		/* Shrinking is optional: the set stays correct without it. */
		if (t->mask + 1 > 4 * MIN_CAP && h->count * 8 < t->mask + 1)
			(void)rebuild(h, h->count);
		return 0;
	}
	return -ENOENT;
}

size_t rcuhash_count(const struct rcuhash *h)
{
	return h->count;
}

void rcuhash_each(const struct rcuhash *h, void (*cb)(void *item, void *arg),
		  void *arg)
{
	const struct rtab *t = h->t;

	for (size_t i = 0; i <= t->mask; i++)
		if (t->slot[i] && t->slot[i] != TOMB)
			cb(t->slot[i], arg);
}

long rcuhash_take_if(struct rcuhash *h, bool (*pick)(void *item, void *arg),
		     void (*take)(void *item, void *arg), void *arg)
{
	const struct rtab *t = h->t;
	void **v = NULL;
	size_t n = 0, cap = 0;

	/* Collected first: take may move the items to a new table. */
	for (size_t i = 0; i <= t->mask; i++) {
		void *p = t->slot[i];
		if (!p || p == TOMB || !pick(p, arg))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			void **nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				free(v);
				return -ENOMEM;
			}
			v = nv;
		}
		v[n++] = p;
	}
	for (size_t i = 0; i < n; i++)
		take(v[i], arg);
	free(v);
	return (long)n;
}

size_t rcuhash_bytes(const struct rcuhash *h)
{
	return sizeof(*h) + sizeof(struct rtab) +
	       (h->t->mask + 1) * sizeof(void *);
}
