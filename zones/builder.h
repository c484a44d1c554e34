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
	enum builder_pods pods;
	bool endpoint_pod_names;
	bool ignore_empty_service;
	bool noendpoints;
};

/* A growing buffer of records. */
struct builder_buf {
	uint8_t *p;
	size_t len, cap;
	bool oom;
};

void builder_buf_free(struct builder_buf *b);

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

/* An existing namespace: <ns>.svc.<zone> (and <ns>.pod.<zone> unless pods
 * are disabled) exist. */
int builder_namespace(const struct builder_conf *c, const char *ns,
		      struct builder_buf *out);

/* A service with the EndpointSlices of it (merged): service name, endpoint
 * names, SRV, PTR; for kube-system/kube-dns also ns.dns.<zone>. */
int builder_service(const struct builder_conf *c, const struct obj_service *s,
		    const struct obj_slice *const *slices, size_t nslices,
		    struct builder_buf *out);

/* A pod, for `pods verified`: <a-b-c-d>.<ns>.pod.<zone> for each of its
 * addresses until it has finished (Succeeded or Failed). */
int builder_pod(const struct builder_conf *c, const struct obj_pod *p,
		struct builder_buf *out);

/* The host label of an endpoint address: its hostname, else the pod name
 * with endpoint_pod_names, else the dashed address.  buf needs 64 bytes. */
const char *builder_host_label(const struct builder_conf *c,
			       const struct obj_endpoint *ep,
			       const struct obj_addr *a, char *buf);

#endif
