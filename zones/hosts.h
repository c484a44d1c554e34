/*
 * hosts.h -- the names of ClusterIP services, answered by lookup instead of
 * precomputed: the service's own name <svc>.<ns>.svc.<zone> (A/AAAA of its
 * ClusterIPs, SRV of its ports) and its ports' names
 * _<port>._<proto>.<svc>.<ns>.svc.<zone>, the endpoint names
 * <host>.<svc>.<ns>.svc.<zone> A/AAAA, the PTR of every endpoint address,
 * and the PTR of the service's own addresses (naming the service).  They
 * are most of a cluster's names, and a record or two each; keeping them as
 * a sorted table per service and an address index costs about 26 bytes per
 * IPv4 endpoint and a hundred or so per service, where a precomputed name
 * costs several hundred.
 *
 * One writer (the control thread) replaces a service's endpoints at once;
 * readers (worker threads) look names up inside rcu_read_lock() of
 * liburcu's default flavour, and what they get stays valid until
 * rcu_read_unlock().  Lookups do not allocate and take no lock.
 */
#ifndef CLUSTERDNS_HOSTS_H
#define CLUSTERDNS_HOSTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zones/objects.h"

/* One endpoint address of a service, as the builder gives it. */
struct hosts_ep {
	struct obj_addr addr;
	const char *label; /* host label (hostname, pod name); NULL: dashed */
};

/* One endpoint address as readers see it (12 bytes; an IPv6 address takes
 * 16 more in its service's table).  A service's table holds at most
 * HOSTS_MAX_ENTRIES addresses and 64 KB of explicit labels; what is beyond
 * has no name (the API server caps a slice at 1000 endpoints, so that is
 * more than 65 full slices). */
#define HOSTS_MAX_ENTRIES 65535
/* A service's own addresses (it has one per family). */
#define HOSTS_MAX_IPS 8
struct hosts_entry {
	uint16_t hash;	 /* of the lowercase host label, 16 bits */
	uint16_t idx;	 /* position in its service's table */
	uint16_t laboff; /* of an explicit label in the service's labels */
	uint8_t family;	 /* 4 or 6 */
	uint8_t lablen;	 /* length of the explicit label; 0: dashed */
	uint8_t a[4];	 /* IPv4: the address; use hosts_entry_addr */
};

/* A port of a service's own name: an SRV at the name, and one at
 * _<name>._<proto>.<name> when the port has a name. */
struct hosts_port {
	uint16_t port;
	uint8_t proto;	 /* OBJ_PROTO_* */
	uint8_t lablen;	 /* of the port's label _<name>; 0: no name */
	uint16_t laboff; /* of that label's bytes in its service's table */
};

/* At most this many ports of a service have SRV records (the API server
 * allows far fewer in practice). */
#define HOSTS_MAX_PORTS 1024

/* What the service's own name answers when the table answers it (a
 * ClusterIP service): its own addresses (the ips of hosts_set) and an SRV
 * per port. */
struct hosts_vip {
	const struct obj_port *ports;
	size_t nports;
};

struct hosts;
struct hosts_svc;

/* A new empty set, NULL when out of memory. */
struct hosts *hosts_new(void);

/* Free the set and every table; no reader may use it any more. */
void hosts_free(struct hosts *h);

/* ---- writer ---- */

/*
 * Replace the endpoints of service ns/name with eps (n of them), its own
 * addresses with ips (nips, at most 8 kept) and, with vip, make the table
 * answer the service's own name and its ports' names (vip NULL: those
 * names are not the table's); n and nips 0 without vip remove the service.
 * Stamp it with gen.  Labels longer than 63 bytes (62 for port names) or
 * with a dot are left out, as the names they would make cannot exist;
 * labels are matched without regard to case.  Returns 1 when what readers
 * see changed, 0 when it is the same, -ENOMEM (the old table stays).
 */
int hosts_set(struct hosts *h, const char *ns, const char *name,
	      const struct hosts_ep *eps, size_t n, const struct obj_addr *ips,
	      size_t nips, const struct hosts_vip *vip, uint64_t gen);

/* Remove every service whose gen is not gen; returns how many. */
size_t hosts_drop_stale(struct hosts *h, uint64_t gen);

/* Number of services and of addresses (endpoints' and services'). */
size_t hosts_count_services(const struct hosts *h);
size_t hosts_count_entries(const struct hosts *h);

/* Walk every address (writer side): cb(service, entry, arg); a non-zero
 * return stops the walk and is returned. */
int hosts_each(const struct hosts *h,
	       int (*cb)(const struct hosts_svc *s, const struct hosts_entry *e,
			 void *arg),
	       void *arg);

/* Walk every service (writer side), as hosts_each. */
int hosts_each_service(const struct hosts *h,
		       int (*cb)(const struct hosts_svc *s, void *arg),
		       void *arg);

/*
 * The names above the table's that exist because of it, for the zone to
 * hold (its names above them exist then too): the reverse parent of every
 * address (the /24 of an IPv4 one, the /124 of an IPv6 one), so that the
 * names above a PTR answer NODATA.  Counted as the table changes.  (A
 * service's namespace <ns>.svc.<zone> is the store's: it exists while
 * anything lives in it.)
 */
struct hosts_shared {
	int family;	    /* 4 or 6 */
	size_t len;	    /* of key */
	const uint8_t *key; /* the address with the bits below the parent
			     * zero (4 or 16 bytes) */
};

/* Report each shared name whose existence changed since the last call:
 * cb(name, exists, arg).  A non-zero return from cb stops the walk, is
 * returned, and that name and those after it are reported again by the
 * next call. */
int hosts_take_shared(struct hosts *h,
		      int (*cb)(const struct hosts_shared *sh, bool exists,
				void *arg),
		      void *arg);

/* Walk every shared name that exists as last reported; as hosts_each. */
int hosts_each_shared(const struct hosts *h,
		      int (*cb)(const struct hosts_shared *sh, void *arg),
		      void *arg);

/* ---- readers ---- */

/* The service whose name labels are svc and ns (wire labels: a length
 * byte and the bytes, lowercase), or NULL. */
const struct hosts_svc *hosts_service(const struct hosts *h, const uint8_t *svc,
				      const uint8_t *ns);

/* The endpoints of s whose host label is label (a wire label, lowercase):
 * they follow each other from *first; returns how many (0: no such host). */
size_t hosts_match(const struct hosts_svc *s, const uint8_t *label,
		   const struct hosts_entry **first);

/* An endpoint with this address (family 4 or 6), or NULL. */
const struct hosts_entry *hosts_by_addr(const struct hosts *h, int family,
					const uint8_t *addr);

/* The entry's address: 4 bytes (family 4) or 16. */
const uint8_t *hosts_entry_addr(const struct hosts_entry *e);

/* The service an entry belongs to. */
const struct hosts_svc *hosts_entry_svc(const struct hosts_entry *e);

/* Write the entry's host label as a wire label (length byte first; out has
 * 64 bytes); returns its length with the length byte, or 0 for an address
 * of the service itself (its PTR names the service). */
size_t hosts_entry_label(const struct hosts_svc *s, const struct hosts_entry *e,
			 uint8_t *out);

/* Whether s answers its own name and its ports' names (hosts_vip). */
bool hosts_svc_named(const struct hosts_svc *s);

/* The service's own addresses: they follow each other from *first;
 * returns how many. */
size_t hosts_svc_ips(const struct hosts_svc *s,
		     const struct hosts_entry **first);

/* The ports of the service's own name, *n of them. */
const struct hosts_port *hosts_svc_ports(const struct hosts_svc *s, size_t *n);

/* The first port of s with the wire label name (_<name>, lowercase; NULL:
 * any name, unnamed ports apart) and protocol label proto (_tcp, _udp,
 * _sctp, lowercase), or NULL. */
const struct hosts_port *hosts_port_match(const struct hosts_svc *s,
					  const uint8_t *name,
					  const uint8_t *proto);

/* The ports the SRV RRset of s's own name (port NULL: every port) or of
 * port's name has, *n of them, each with weight *weight (CoreDNS's: 100
 * over their number, at least 1). */
const struct hosts_port *hosts_srv_ports(const struct hosts_svc *s,
					 const struct hosts_port *port,
					 size_t *n, uint16_t *weight);

/* The rdata of an SRV record of weight w to port, aimed at target (tl
 * bytes, wire) in rd (6 + tl bytes): priority 0.  Returns its length. */
size_t hosts_srv_rdata(uint16_t w, uint16_t port, const uint8_t *target,
		       size_t tl, uint8_t *rd);

/* Whether SRV i of the RRset from hosts_srv_ports repeats an earlier
 * one's record (two protocols on one port number): it is left out. */
bool hosts_srv_dup(const struct hosts_port *p, size_t i);

/* The wire labels _<name> and _<proto> of port p (named) in out (64 + 6
 * bytes); returns their length, 0 for a port without a name. */
size_t hosts_port_labels(const struct hosts_svc *s, const struct hosts_port *p,
			 uint8_t *out);

/* The service's name under the zone, <svc>.<ns>.svc, as wire labels
 * without the terminating root label; *len is its length. */
const uint8_t *hosts_svc_name(const struct hosts_svc *s, size_t *len);

#endif
