/*
 * rcuhash.h -- a hash set of pointers that worker threads read without a
 * lock while one writer changes it: open addressing with linear probing,
 * one pointer (8 bytes) per slot, grown by copying and publishing a new
 * table under RCU.
 *
 * Items belong to the caller; the set only holds pointers to them.  An item
 * removed from the set may still be seen by readers until a grace period
 * has passed: free it with call_rcu or after synchronize_rcu.
 *
 * Readers call rcuhash_find inside rcu_read_lock()/rcu_read_unlock() of
 * liburcu's default flavour; the writer (one thread at a time, registered
 * with RCU) calls the other functions.
 */
#ifndef CLUSTERDNS_RCUHASH_H
#define CLUSTERDNS_RCUHASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rcuhash;

/* How the set hashes an item when it grows (the same hash the caller passes
 * to find, insert and remove for that item). */
typedef uint32_t (*rcuhash_hash_fn)(const void *item);

/* A new empty set, or NULL when out of memory. */
struct rcuhash *rcuhash_new(rcuhash_hash_fn hash);

/* Free the set (not the items); no reader may use it any more. */
void rcuhash_free(struct rcuhash *h);

/* Reader: the first item with this hash for which match(item, key) is true,
 * or NULL.  With several such items, next continues after *pos (start with
 * *pos = 0); see rcuhash_find_next. */
void *rcuhash_find(const struct rcuhash *h, uint32_t hash,
		   bool (*match)(const void *item, const void *key),
		   const void *key);

/* Reader: every item that matches, one per call: returns the next match
 * after the slot *pos (0 to start) and moves *pos past it; NULL at the end.
 * The table read is the one of the first call as long as the caller keeps
 * the same rcu_read_lock section and passes the same *tab (NULL to start). */
void *rcuhash_find_next(const struct rcuhash *h, const void **tab, size_t *pos,
			uint32_t hash,
			bool (*match)(const void *item, const void *key),
			const void *key);

/* Writer: add item (duplicates of a key are allowed).  Returns 0 or
 * -ENOMEM (the set is unchanged). */
int rcuhash_insert(struct rcuhash *h, uint32_t hash, void *item);

/* Writer: remove this very item (compared by address).  Returns 0 or
 * -ENOENT. */
int rcuhash_remove(struct rcuhash *h, uint32_t hash, const void *item);

/* Writer: number of items. */
size_t rcuhash_count(const struct rcuhash *h);

/* Writer: find every item for which pick(item, arg) is true, then call
 * take(item, arg) for each; take may change the set (it is where the
 * caller removes them).  Returns how many, or -ENOMEM (take not called). */
long rcuhash_take_if(struct rcuhash *h, bool (*pick)(void *item, void *arg),
		     void (*take)(void *item, void *arg), void *arg);

/* FNV-1a over n bytes, from h (RCUHASH_FNV0 to start): the hash the sets
 * of this project use. */
#define RCUHASH_FNV0 2166136261u
static inline uint32_t rcuhash_fnv(uint32_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 16777619u;
	return h;
}

/* Writer: call cb for every item (no change to the set inside). */
void rcuhash_each(const struct rcuhash *h, void (*cb)(void *item, void *arg),
		  void *arg);

/* Bytes of memory the set itself holds (for tests and benchmarks). */
size_t rcuhash_bytes(const struct rcuhash *h);

#endif
