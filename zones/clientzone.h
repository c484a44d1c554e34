/*
 * clientzone.h -- the topology zone of a client address, for the kubernetes
 * `topology` option: the zone (obj_zone_name) that an EndpointSlice
 * endpoint with that address carries, i.e. the zone of the pod behind it,
 * as the EndpointSlice controller copied it from its node.  An address is
 * known only while some service's endpoint lists it (ready or not).
 *
 * It also knows the zone of each node (by node number, obj_node_name) that
 * such an endpoint names in its nodeName, for clients that are pods on
 * that node (podset_node) but no endpoint: a node keeps a zone while some
 * endpoint with a zone names it.
 *
 * About 32 bytes per address with a zone, and 2 per node number for the
 * readers plus 24 for the writer.  One writer (the control thread)
 * changes the table per service; readers (worker threads) ask inside
 * rcu_read_lock() of liburcu's default flavour, without allocation or lock.
 */
#ifndef CLUSTERDNS_CLIENTZONE_H
#define CLUSTERDNS_CLIENTZONE_H

#include <stddef.h>
#include <stdint.h>

#include "zones/objects.h"

struct clientzone;

/* A new empty table, NULL when out of memory. */
struct clientzone *clientzone_new(void);

/* Free the table; no reader may use it any more. */
void clientzone_free(struct clientzone *cz);

/*
 * Writer: the addresses of the n slices of service ns/name (n 0: it has
 * none, or is gone) and generation gen.  Only endpoints with a zone count;
 * those with a node also tell that node's zone.
 * Returns 1 when what readers see changed, 0 when not, or -ENOMEM (the
 * service keeps what it had).
 */
int clientzone_set(struct clientzone *cz, const char *ns, const char *name,
		   const struct obj_slice *const *slices, size_t n,
		   uint64_t gen);

/* Writer: forget every service whose gen is not gen; returns how many. */
size_t clientzone_drop_stale(struct clientzone *cz, uint64_t gen);

/* Writer: number of addresses with a zone. */
size_t clientzone_count(const struct clientzone *cz);

/* Writer: number of nodes with a zone. */
size_t clientzone_nodes(const struct clientzone *cz);

/* Reader: the zone of the endpoint with this address (family 4 or 6,
 * addr 4 or 16 bytes); 0 when none is known.  With several endpoints of
 * different zones for one address, one of them. */
uint16_t clientzone_find(const struct clientzone *cz, int family,
			 const uint8_t *addr);

/* Reader: the zone of node number node as the endpoints on it tell it; 0
 * when none does (or node is 0).  With endpoints of several zones on one
 * node, one of them. */
uint16_t clientzone_node_zone(const struct clientzone *cz, uint32_t node);

#endif
