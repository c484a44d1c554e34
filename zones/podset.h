/*
 * podset.h -- the addresses of running pods, for `pods verified`:
 * <a-b-c-d>.<ns>.pod.<zone> answers only when a pod with that address runs
 * in <ns>.  Each pod address is a slot of a flat table, found by
 * (namespace, address) or by address alone by the readers and by pod by
 * the writer; the pod itself is known by a 48-bit hash of its namespace
 * and name, not kept as an object, and beside each address is the number
 * of its node (for `topology`).  About 30 bytes per IPv4 pod address
 * (about 55 per IPv6 one), 7 more once a pod has a node, and nothing in
 * the zone.  Up to 16M namespaces are numbered; a namespace keeps its
 * number (about 100 bytes) until the set is freed.  A table holds at most
 * about 12M addresses of its family (16M slots).
 *
 * One writer (the control thread) changes the set; readers (worker
 * threads) ask inside rcu_read_lock() of liburcu's default flavour,
 * without allocation or lock.
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

/*
 * Writer: pod ns/name now has the n addresses ips (n 0: none, e.g. it has
 * finished), runs on node number node (obj_node_name; 0 unknown) and has
 * generation gen.  Addresses it keeps stay answered throughout; a
 * namespace over 63 bytes has none.  Returns 1 when the addresses answered
 * changed, 0 when not (a new node alone is not such a change), or -ENOMEM
 * (the pod keeps what it had, with the new gen and node).
 */
int podset_put(struct podset *ps, const char *ns, const char *name,
	       const struct obj_addr *ips, size_t n, uint32_t node,
	       uint32_t gen);

/* Writer: free, after a grace period, what the changes since the last
 * call took away from the readers (call it once per batch of changes). */
void podset_reclaim(struct podset *ps);

/* Writer: the pod is gone.  Returns 0 or -ENOENT (it had no address). */
int podset_del(struct podset *ps, const char *ns, const char *name);

/* Writer: remove the addresses of every pod whose gen is not gen (a
 * relist that did not see them); returns how many addresses went. */
size_t podset_drop_stale(struct podset *ps, uint32_t gen);

/* Writer: number of pod addresses. */
size_t podset_count(const struct podset *ps);

/* Writer: call cb(ns, address, arg) for every pod address (an address two
 * pods share comes twice); a non-zero return stops the walk and is
 * returned. */
int podset_each(const struct podset *ps,
		int (*cb)(const char *ns, const struct obj_addr *a, void *arg),
		void *arg);

/* Reader: whether a pod with this address (family 4 or 6, addr 4 or 16
 * bytes) runs in the namespace whose name is the wire label ns (length
 * byte first, lowercase). */
bool podset_has(const struct podset *ps, const uint8_t *ns, int family,
		const uint8_t *addr);

/* Reader: the node number of a pod with this address (family 4 or 6, addr
 * 4 or 16 bytes) in any namespace, 0 when no such pod is known or none of
 * them has a node.  With pods on several nodes at one address, one of
 * them. */
uint32_t podset_node(const struct podset *ps, int family, const uint8_t *addr);

#endif
