/*
 * objects.h -- the Kubernetes objects clusterdns needs, reduced to the fields
 * that DNS answers depend on, and the store that holds them.
 *
 * Every string is a NUL-terminated heap copy owned by the object that holds
 * it.  Objects are created by the decoders (decode.h) and handed to the store,
 * which owns them from then on.
 */
#ifndef CLUSTERDNS_OBJECTS_H
#define CLUSTERDNS_OBJECTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* An IPv4 or IPv6 address; family is 4 or 6, IPv4 uses a[0..3]. */
struct obj_addr {
	uint8_t family;
	uint8_t a[16];
};

struct obj_label {
	char *key;
	char *value;
};

/* A service or endpoint port; name is NULL for an unnamed port. proto is
 * OBJ_PROTO_TCP, OBJ_PROTO_UDP or OBJ_PROTO_SCTP. */
enum { OBJ_PROTO_TCP = 6, OBJ_PROTO_UDP = 17, OBJ_PROTO_SCTP = 132 };
struct obj_port {
	char *name;
	uint16_t port;
	uint8_t proto;
	uint16_t target;   /* Service ports: numeric targetPort, else 0 */
	char *target_name; /* Service ports: named targetPort, else NULL */
};

enum obj_svc_type {
	OBJ_SVC_CLUSTERIP = 0, /* has one or more cluster IPs */
	OBJ_SVC_HEADLESS,      /* clusterIP "None" */
	OBJ_SVC_EXTERNALNAME,  /* type ExternalName */
};

struct obj_service {
	char *ns;
	char *name;
	enum obj_svc_type type;
	struct obj_addr *ips; /* spec.clusterIPs (or clusterIP), in order */
	size_t nips;
	char *external_name; /* ExternalName only, without trailing dot */
	struct obj_port *ports;
	size_t nports;
	struct obj_label *selector; /* spec.selector; NULL/0 when absent */
	size_t nselector;
	bool has_selector; /* spec.selector present (even if empty) */
	bool publish_not_ready;
	/* k8s_external: spec.externalIPs, then the ip of each
	 * status.loadBalancer.ingress, in order (NULL/0: none); lb_hostname
	 * the first ingress hostname (NULL: none) */
	struct obj_addr *ext_ips;
	size_t next_ips;
	char *lb_hostname;
	bool packed;  /* one allocation (obj_service_pack) */
	uint32_t gen; /* the list generation that saw it last */
};

struct obj_endpoint {
	struct obj_addr *addrs;
	char *hostname; /* NULL when absent */
	char *
	    pod_name; /* targetRef.name when targetRef.kind is Pod, else NULL */
	uint32_t naddrs;
	bool ready;    /* conditions.ready true or absent */
	uint16_t zone; /* the endpoint's zone (obj_zone_name), 0 when absent */
	uint32_t node; /* nodeName (obj_node_name), 0 when absent */
};

struct obj_slice {
	char *ns;
	char *name;
	char *service; /* label kubernetes.io/service-name; NULL when absent.
			* A multicluster slice (cluster set) holds the label
			* multicluster.kubernetes.io/service-name here: it
			* belongs to that ServiceImport, not to a Service */
	char *cluster; /* multicluster slices only (non-NULL: one of them):
			* label multicluster.kubernetes.io/source-cluster,
			* "" when absent */
	struct obj_endpoint *eps;
	size_t neps;
	struct obj_port *ports;
	size_t nports;
	int64_t trigger_ms; /* annotation endpoints.kubernetes.io/
			     * last-change-trigger-time, ms since the epoch;
			     * 0 when absent */
	uint32_t gen;	    /* the list generation that saw it last */
	bool packed;	    /* one allocation (obj_slice_pack): eps is NULL,
			     * the endpoints are epdata (obj_slice_unpack) */
	const uint8_t *epdata;
	size_t eplen;
};

struct obj_namespace {
	char *name;
	uint32_t gen;
};

struct obj_pod {
	char *ns;
	char *name;
	struct obj_addr *ips; /* status.podIPs (or podIP) */
	size_t nips;
	char *hostname;	 /* spec.hostname, NULL when absent */
	char *subdomain; /* spec.subdomain, NULL when absent */
	struct obj_label *labels;
	size_t nlabels;
	struct obj_port *ports; /* container ports, for named targetPorts */
	size_t nports;
	bool running;  /* status.phase == Running */
	bool terminal; /* status.phase Succeeded or Failed */
	bool ready;    /* condition Ready is True */
	uint32_t node; /* spec.nodeName (obj_node_name), 0 when absent */
	uint32_t gen;  /* the list generation that saw it last */
};

/* A ServiceImport (multicluster.x-k8s.io/v1alpha1) of the Multi-Cluster
 * Services API: a service of the cluster set, answered in the multicluster
 * zones. */
enum obj_import_type {
	OBJ_IMPORT_CLUSTERSETIP = 0, /* spec.type ClusterSetIP: spec.ips */
	OBJ_IMPORT_HEADLESS,	     /* spec.type Headless: the endpoints */
};

struct obj_import {
	char *ns;
	char *name;
	enum obj_import_type type;
	struct obj_addr *ips; /* spec.ips, in order */
	size_t nips;
	struct obj_port *ports; /* spec.ports */
	size_t nports;
	uint32_t gen; /* the list generation that saw it last */
};

/* Free an object and everything it owns; NULL is accepted. */
void obj_import_free(struct obj_import *s);
void obj_service_free(struct obj_service *s);
void obj_slice_free(struct obj_slice *s);
void obj_namespace_free(struct obj_namespace *n);
void obj_pod_free(struct obj_pod *p);

/* Drop the fields only the objects source uses to derive EndpointSlices
 * from Pods (service selectors; pod labels, container ports, hostname and
 * subdomain) and, unless keep_pod_names, the pod names of endpoints: the
 * API source gets EndpointSlices and keeps objects to what DNS needs. */
void obj_service_trim(struct obj_service *s);
void obj_pod_trim(struct obj_pod *p);
void obj_slice_trim(struct obj_slice *s, bool keep_pod_names);

/* The service in one allocation, as obj_slice_pack does for slices; a
 * service with a selector is left as it is (only the API source packs,
 * and it drops selectors first). */
struct obj_service *obj_service_pack(struct obj_service *s);

/* The slice in one allocation, for long keeping: the ports and strings
 * follow the struct, and the endpoints are a compact byte string (about 6
 * bytes for a ready IPv4 endpoint without names, where struct
 * obj_endpoint and its address take 50).  eps is NULL then: read the
 * endpoints with obj_slice_unpack.  Returns the packed copy (s is freed),
 * or s itself when out of memory.  A packed slice is read-only and
 * obj_slice_free frees it at once.  At most 255 addresses per endpoint
 * are kept (the API allows 100). */
struct obj_slice *obj_slice_pack(struct obj_slice *s);

/* A full, unpacked copy of a packed slice (the caller frees it with
 * obj_slice_free), or NULL when out of memory. */
struct obj_slice *obj_slice_unpack(const struct obj_slice *s);

/* True when every selector label of s is among the pod's labels (an empty
 * or absent selector selects nothing). */
bool obj_selects(const struct obj_service *s, const struct obj_pod *p);

/*
 * Topology zone names (EndpointSlice endpoints' `zone`), interned: a zone
 * name is shared by thousands of endpoints, so an endpoint keeps a 16-bit
 * number and the name is stored once for the life of the process.  Numbers
 * start at 1 (0 is "no zone"); at most OBJ_MAX_ZONES names are kept.
 * Safe from any thread.
 */
#define OBJ_MAX_ZONES 4096

/* The number of zone name (1..253 bytes), interning it when new.  Returns
 * it, 0 when the name is empty, too long or the table is full (the
 * endpoint is then treated as having no zone), or -ENOMEM. */
int obj_zone_intern(const char *name);

/* The name of zone number id, NULL for 0 or an unknown number.  The
 * string lives until the process ends. */
const char *obj_zone_name(uint16_t id);

/* The labels of zone number id as a lowercase wire name without the root
 * label (*len bytes, living until the process ends), for readers on any
 * thread; NULL for 0, an unknown number, or a name that is no DNS name. */
const uint8_t *obj_zone_wire(uint16_t id, size_t *len);

/*
 * Node names (Pods' spec.nodeName, EndpointSlice endpoints' nodeName),
 * interned as the zone names are: a node name is shared by every pod and
 * endpoint on the node, which keep its 32-bit number; the name is stored
 * once for the life of the process (about 60 bytes a node).  Numbers start
 * at 1 (0 is "no node"); at most OBJ_MAX_NODES names are kept.  Safe from
 * any thread.
 */
#define OBJ_MAX_NODES (1u << 24)

/* The number of node name (1..253 bytes), interning it when new.  Returns
 * it, 0 when the name is empty, too long or the table is full (no node),
 * or -ENOMEM. */
long obj_node_intern(const char *name);

/* The name of node number id, NULL for 0 or an unknown number.  The string
 * lives until the process ends. */
const char *obj_node_name(uint32_t id);

/* Format an address: "10.0.0.1" / "fd00::1"; buf needs 46 bytes. */
const char *obj_addr_str(const struct obj_addr *a, char *buf, size_t len);

/* The dashed form DNS names use for an address: "10-244-1-5",
 * "fd00-244--6"; buf needs 64 bytes.  Returns its length, 0 when a is no
 * address. */
size_t obj_addr_dashed(const struct obj_addr *a, char *buf);

/* The name of a port protocol as SRV names spell it: "tcp", "udp",
 * "sctp" (anything else reads as TCP, the API's default). */
const char *obj_proto_name(uint8_t proto);

/* Parse a textual IPv4/IPv6 address. Returns 0 or -1. */
int obj_addr_parse(const char *s, struct obj_addr *out);

#endif
