/*
 * podset.h -- the addresses of the pods of each namespace, for `pods
 * verified`: <a-b-c-d>.<ns>.pod.<zone> answers only when a pod with that
 * address runs in <ns>.  A multiset of (namespace, address): two pods may
 * share an address (host network), and the name lives while one of them
 * does.  About 60 bytes per pod address, and nothing in the zone.
 *
 * One writer (the control thread) adds and removes; readers (worker
 * threads) ask inside rcu_read_lock() of liburcu's default flavour, without
 * allocation or lock.
 */
#ifndef CLUSTERDNS_PODSET_H
#define CLUSTERDNS_PODSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zones/objects.h"

struct podset;

/* A new empty set, NULL when out of memory. */
struct podset *podset_new(void);

/* Free the set; no reader may use it any more. */
void podset_free(struct podset *ps);

/* Writer: count one more pod with address a in namespace ns.  Returns 0,
 * -EINVAL (a namespace over 63 bytes or no address), -ENOMEM. */
int podset_add(struct podset *ps, const char *ns, const struct obj_addr *a);

/* Writer: count one pod fewer; the pair goes at zero.  Returns 0 or
 * -ENOENT. */
int podset_del(struct podset *ps, const char *ns, const struct obj_addr *a);

/* Writer: number of distinct (namespace, address) pairs. */
size_t podset_count(const struct podset *ps);

/* Writer: call cb(ns, address, arg) for every pair; a non-zero return
 * stops the walk and is returned. */
int podset_each(const struct podset *ps,
		int (*cb)(const char *ns, const struct obj_addr *a, void *arg),
		void *arg);

/* Reader: whether a pod with this address (family 4 or 6, addr 4 or 16
 * bytes) runs in the namespace whose name is the wire label ns (length
 * byte first, lowercase). */
bool podset_has(const struct podset *ps, const uint8_t *ns, int family,
		const uint8_t *addr);

#endif
