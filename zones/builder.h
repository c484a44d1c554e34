/*
 * builder.h -- the record builder: Kubernetes objects to DNS records, as the
 * Kubernetes DNS specification (1.1.0) and CoreDNS define them.  Pure
 * functions: each object gives the records it contributes, in the format
 * zone_owner_set() takes (see zone.h).
 */
#ifndef CLUSTERDNS_BUILDER_H
#define CLUSTERDNS_BUILDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zones/hosts.h"
#include "zones/objects.h"

#define BUILDER_MAX_ZONES 16

enum builder_pods {
	BUILDER_PODS_DISABLED = 0,
	BUILDER_PODS_INSECURE,
	BUILDER_PODS_VERIFIED,
};

struct builder_conf {
	/* Zones as given (lowercase, no trailing dot): names under
	 * in-addr.arpa and ip6.arpa are reverse zones, the others forward
	 * zones; the first forward zone is the primary one, whose names PTR
	 * records point to. */
	const char *zones[BUILDER_MAX_ZONES];
	size_t nzones;
	/* multicluster[i]: zone i is a multicluster zone (the multicluster
	 * option): ServiceImports are answered there, Services are not, and
	 * it is never the primary zone */
	bool multicluster[BUILDER_MAX_ZONES];
	enum builder_pods pods;
	bool endpoint_pod_names;
	bool ignore_empty_service;
	bool noendpoints;
	/* CoreDNS's `zonal`: a headless service also has the name
	 * <tz>.prefer._zone.<svc>.<ns>.svc.<zone> for every topology zone
	 * <tz> (the endpoints' `zone`, which may span labels) of its ready
	 * endpoints, answering that zone's endpoints (A, AAAA, SRV; the
	 * query path answers <tz>.pin._zone... from it), and
	 * <svc>._zone.<ns>.svc.<zone> exists (a marker the query path does not
	 * serve) so that it answers the names of other zones. */
	bool zonal;
};

/* A growing buffer of records. */
struct builder_buf {
	uint8_t *p;
	size_t len, cap;
	bool oom;
};

void builder_buf_free(struct builder_buf *b);

/* True for a reverse zone name (under in-addr.arpa or ip6.arpa). */
bool builder_is_reverse(const char *zone);

/* The primary zone (the first forward one), NULL when there is none. */
const char *builder_primary(const struct builder_conf *c);

/* The SOA MNAME and NS target of zone i in wire form (out has 255 bytes):
 * ns.dns.<zone>, as CoreDNS names it.  Returns the length, or -EINVAL. */
int builder_mname(const struct builder_conf *c, size_t i, uint8_t *out);

/*
 * Each function below resets out and writes the records of one owner.
 * Returns 0, or -ENOMEM.  Names that cannot be DNS names (a label over 63
 * bytes) are left out.
 */

/* Records of the zones themselves: NS at each apex, dns-version TXT,
 * svc.<zone> and pod.<zone>. */
int builder_static(const struct builder_conf *c, struct builder_buf *out);

/* The parent of the PTR name of address a (its bits below the /24 or the
 * /124 zero) as an existing name, when a reverse zone holds it: the names
 * above a PTR that hosts.h answers answer NODATA. */
int builder_rev_parent(const struct builder_conf *c, const struct obj_addr *a,
		       struct builder_buf *out);

/* An existing namespace: <ns>.svc.<zone> (and <ns>.pod.<zone> unless pods
 * are disabled) exist. */
int builder_namespace(const struct builder_conf *c, const char *ns,
		      struct builder_buf *out);

/* A service with the EndpointSlices of it (merged): service name, SRV,
 * PTR, a headless service's endpoint names; for kube-system/kube-dns also
 * ns.dns.<zone>.  A ClusterIP service's own name, its ports' names, its
 * endpoint names and their PTRs are not records (builder_service_vip,
 * builder_service_hosts); the names above their PTRs that exist because of
 * them are builder_rev_parent's. */
int builder_service(const struct builder_conf *c, const struct obj_service *s,
		    const struct obj_slice *const *slices, size_t nslices,
		    struct builder_buf *out);

/*
 * The endpoint addresses whose names and PTRs hosts.h answers: the ready
 * endpoints of a ClusterIP service when there is a forward zone (none
 * otherwise; a headless service's endpoint names are records, as SRV
 * answers carry them).  Writes at most max into out (labels point into the
 * slices) and returns how many there are.
 */
size_t builder_service_hosts(const struct builder_conf *c,
			     const struct obj_service *s,
			     const struct obj_slice *const *slices,
			     size_t nslices, struct hosts_ep *out, size_t max);

/* Whether hosts.h answers the service's own name <svc>.<ns>.svc.<zone>
 * and its ports' names instead of records: a ClusterIP service with an
 * address or a port when there is a forward zone, unless
 * ignore_empty_service hides it for want of ready endpoints.  With vip,
 * sets the ports the name has SRV records for. */
bool builder_service_vip(const struct builder_conf *c,
			 const struct obj_service *s,
			 const struct obj_slice *const *slices, size_t nslices,
			 struct hosts_vip *vip);

/* The addresses of the service whose PTRs hosts.h answers, naming the
 * service: the ClusterIPs when there is a forward zone.  Returns how many
 * and points *ips (when not NULL) at them. */
size_t builder_service_ips(const struct builder_conf *c,
			   const struct obj_service *s,
			   const struct obj_addr **ips);

/* A ServiceImport with its multicluster EndpointSlices (merged), in each
 * multicluster zone, as the Multi-Cluster Services DNS specification and
 * CoreDNS define them: <svc>.<ns>.svc.<zone> with the ClusterSetIPs (or,
 * headless, every ready endpoint address), SRV for the ports, and the
 * endpoint names <host>.<clusterid>.<svc>.<ns>.svc.<zone> of ready
 * endpoints (slices without a cluster id have none).  No PTRs. */
int builder_import(const struct builder_conf *c, const struct obj_import *s,
		   const struct obj_slice *const *slices, size_t nslices,
		   struct builder_buf *out);

/* The host label of an endpoint address: its hostname, else the pod name
 * with endpoint_pod_names, else the dashed address.  buf needs 64 bytes. */
const char *builder_host_label(const struct builder_conf *c,
			       const struct obj_endpoint *ep,
			       const struct obj_addr *a, char *buf);

/* ---- k8s_external: the external zones ---- */

/*
 * The zones of a k8s_external directive, built from the same objects as
 * the cluster zone, as CoreDNS's k8s_external plugin names them:
 * <svc>.<ns>.<zone> for the external addresses of a service, SRV for its
 * ports, PTR in the reverse zones among them, and the zone's own names
 * under <apex>.<zone>.
 */
struct builder_ext {
	const char *zones[BUILDER_MAX_ZONES]; /* lowercase, no trailing dot */
	size_t nzones;
	const char *apex; /* the label of the zone's own names: "dns" */
	bool headless;	  /* headless services' endpoints too */
};

/* The SOA MNAME and NS target of external zone i, ns1.<apex>.<zone>, and
 * the SOA RNAME, hostmaster.<apex>.<zone>, in wire form (out has 255
 * bytes).  Return the length, or -EINVAL. */
int builder_ext_mname(const struct builder_ext *x, size_t i, uint8_t *out);
int builder_ext_rname(const struct builder_ext *x, size_t i, uint8_t *out);

/* The external zones' own records: NS at each apex; ns1.<apex>.<zone>
 * exists (its addresses come with kube-system/kube-dns). */
int builder_ext_static(const struct builder_ext *x, struct builder_buf *out);

/*
 * The external records of a service: with external addresses
 * (spec.externalIPs and load balancer ingress IPs) A/AAAA at
 * <svc>.<ns>.<zone>, else a CNAME to its load balancer hostname; SRV at
 * that name for every port and at _<port>._<proto>.<svc>.<ns>.<zone> for
 * named ones; PTR of each address in the reverse zones (to the first
 * forward zone's name).  Without external addresses, with x->headless, a
 * headless service's ready endpoints as the cluster zone names them (c
 * says how: endpoint_pod_names), with SRV at each endpoint's name too.
 * kube-system/kube-dns's external addresses are also those of
 * ns1.<apex>.<zone>.  Services of a namespace named like the apex give nothing
 * (<apex>.<zone> is the zone's own). Returns 0 or -ENOMEM.
 */
int builder_ext_service(const struct builder_conf *c,
			const struct builder_ext *x,
			const struct obj_service *s,
			const struct obj_slice *const *slices, size_t nslices,
			struct builder_buf *out);

#endif
