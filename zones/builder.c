/*
 * builder.c -- Kubernetes objects to DNS records.
 */
#include "zones/builder.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zones/dname.h"
#include "zones/zone.h"

#define T_A 1
#define T_NS 2
#define T_CNAME 5
#define T_PTR 12
#define T_TXT 16
#define T_AAAA 28
#define T_SRV 33

void builder_buf_free(struct builder_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

static void put(struct builder_buf *b, const void *d, size_t n)
{
	if (b->oom || n == 0)
		return;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n)
			cap *= 2;
		uint8_t *p = realloc(b->p, cap);
		if (!p) {
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, d, n);
	b->len += n;
}

static void put16(struct builder_buf *b, uint16_t v)
{
	uint8_t t[2] = {(uint8_t)(v >> 8), (uint8_t)v};
	put(b, t, 2);
}

static void reset(struct builder_buf *b)
{
	b->len = 0;
	b->oom = false;
}

/* One record: owner (wire, lowercased here), type, rdata. */
static void emit(struct builder_buf *b, const uint8_t *owner, size_t olen,
		 uint16_t type, const void *rdata, size_t rdlen)
{
	uint8_t l = (uint8_t)olen;
	uint8_t low[DNAME_MAX];

	dname_lower_copy(low, owner, olen);
	put(b, &l, 1);
	put(b, low, olen);
	put16(b, type);
	put16(b, (uint16_t)rdlen);
	put(b, rdata, rdlen);
}

/* Text name to wire; returns the length or 0 when it is no valid name. */
static size_t wire(const char *text, uint8_t *out)
{
	int n = dname_from_str(text, out);

	return n > 0 ? (size_t)n : 0;
}

static size_t fmt_wire(uint8_t *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static size_t fmt_wire(uint8_t *out, const char *fmt, ...)
{
	char text[1024];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(text))
		return 0;
	return wire(text, out);
}

static bool is_reverse(const char *z)
{
	size_t n = strlen(z);

	return (n >= 12 && strcmp(z + n - 12, "in-addr.arpa") == 0 &&
		(n == 12 || z[n - 13] == '.')) ||
	       (n >= 8 && strcmp(z + n - 8, "ip6.arpa") == 0 &&
		(n == 8 || z[n - 9] == '.'));
}

static const char *primary(const struct builder_conf *c)
{
	for (size_t i = 0; i < c->nzones; i++)
		if (!is_reverse(c->zones[i]) && !c->multicluster[i])
			return c->zones[i];
	return NULL;
}

bool builder_is_reverse(const char *zone)
{
	return is_reverse(zone);
}

const char *builder_primary(const struct builder_conf *c)
{
	return primary(c);
}

/* Names are formatted as "...%s%s" with ZONE_ARGS(zone): ".zone", or
 * nothing for the root zone. */
#define ZONE_FMT "%s%s"
#define ZONE_ARGS(z) (*(z) ? "." : ""), (z)

int builder_mname(const struct builder_conf *c, size_t i, uint8_t *out)
{
	const char *z = c->zones[i];
	size_t n = fmt_wire(out, "ns.dns" ZONE_FMT, ZONE_ARGS(z));
	return n ? (int)n : -EINVAL;
}

/* True when the reverse name (wire) lies in one of the reverse zones. */
static bool in_reverse_zone(const struct builder_conf *c, const uint8_t *name,
			    size_t len)
{
	uint8_t z[DNAME_MAX];

	for (size_t i = 0; i < c->nzones; i++) {
		if (!is_reverse(c->zones[i]))
			continue;
		size_t zl = wire(c->zones[i], z);
		if (zl && dname_suffix_at(name, len, z, zl) >= 0)
			return true;
	}
	return false;
}

static void emit_addr(struct builder_buf *b, const uint8_t *owner, size_t olen,
		      const struct obj_addr *a)
{
	if (a->family == 4)
		emit(b, owner, olen, T_A, a->a, 4);
	else
		emit(b, owner, olen, T_AAAA, a->a, 16);
}

static void emit_ptr(const struct builder_conf *c, struct builder_buf *b,
		     const struct obj_addr *a, const uint8_t *target,
		     size_t tlen)
{
	uint8_t rev[DNAME_MAX];
	size_t rl = a->family == 4 ? dname_reverse4(a->a, rev)
				   : dname_reverse6(a->a, rev);

	if (in_reverse_zone(c, rev, rl))
		emit(b, rev, rl, T_PTR, target, tlen);
}

int builder_rev_parent(const struct builder_conf *c, const struct obj_addr *a,
		       struct builder_buf *out)
{
	uint8_t rev[DNAME_MAX];
	size_t rl = a->family == 4 ? dname_reverse4(a->a, rev)
				   : dname_reverse6(a->a, rev);
	const uint8_t *parent = rev + rev[0] + 1;
	size_t pl = rl - rev[0] - 1;

	reset(out);
	if (in_reverse_zone(c, parent, pl))
		emit(out, parent, pl, ZONE_TYPE_EXISTS, NULL, 0);
	return out->oom ? -ENOMEM : 0;
}

static void emit_srv(struct builder_buf *b, const uint8_t *owner, size_t olen,
		     uint16_t weight, uint16_t port, const uint8_t *target,
		     size_t tlen)
{
	uint8_t rd[6 + DNAME_MAX];

	emit(b, owner, olen, T_SRV, rd,
	     hosts_srv_rdata(weight, port, target, tlen, rd));
}

/* CoreDNS's SRV weight for an RRset of n records of equal weight. */
static uint16_t srv_weight(size_t n)
{
	size_t w = n ? 100 / n : 100;

	return (uint16_t)(w ? w : 1);
}

int builder_static(const struct builder_conf *c, struct builder_buf *out)
{
	uint8_t n[DNAME_MAX], t[DNAME_MAX];
	static const uint8_t version[] = {5, '1', '.', '1', '.', '0'};
	/* the Multi-Cluster Services DNS specification's own version */
	static const uint8_t mc_version[] = {5, '1', '.', '0', '.', '0'};

	reset(out);
	for (size_t i = 0; i < c->nzones; i++) {
		const char *z = c->zones[i];
		size_t nl = wire(z, n);
		int tl = builder_mname(c, i, t);
		if (nl && tl > 0)
			emit(out, n, nl, T_NS, t, (size_t)tl);
		if (is_reverse(z))
			continue;
		if ((nl = fmt_wire(n, "dns-version" ZONE_FMT, ZONE_ARGS(z))))
			emit(out, n, nl, T_TXT,
			     c->multicluster[i] ? mc_version : version,
			     sizeof(version));
		if ((nl = fmt_wire(n, "svc" ZONE_FMT, ZONE_ARGS(z))))
			emit(out, n, nl, ZONE_TYPE_EXISTS, NULL, 0);
		if ((nl = fmt_wire(n, "pod" ZONE_FMT, ZONE_ARGS(z))))
			emit(out, n, nl, ZONE_TYPE_EXISTS, NULL, 0);
	}
	return out->oom ? -ENOMEM : 0;
}

int builder_namespace(const struct builder_conf *c, const char *ns,
		      struct builder_buf *out)
{
	uint8_t n[DNAME_MAX];
	size_t nl;

	reset(out);
	for (size_t i = 0; i < c->nzones; i++) {
		const char *z = c->zones[i];
		if (is_reverse(z))
			continue;
		if ((nl = fmt_wire(n, "%s.svc" ZONE_FMT, ns, ZONE_ARGS(z))))
			emit(out, n, nl, ZONE_TYPE_EXISTS, NULL, 0);
		if (c->pods != BUILDER_PODS_DISABLED &&
		    (nl = fmt_wire(n, "%s.pod" ZONE_FMT, ns, ZONE_ARGS(z))))
			emit(out, n, nl, ZONE_TYPE_EXISTS, NULL, 0);
	}
	return out->oom ? -ENOMEM : 0;
}

static const char *explicit_label(const struct builder_conf *c,
				  const struct obj_endpoint *ep);

const char *builder_host_label(const struct builder_conf *c,
			       const struct obj_endpoint *ep,
			       const struct obj_addr *a, char *buf)
{
	const char *l = explicit_label(c, ep);

	if (l)
		return l;
	obj_addr_dashed(a, buf);
	return buf;
}

/* Ready endpoint addresses of the slices, in slice order. */
static size_t count_ready(const struct obj_slice *const *sl, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < sl[i]->neps; j++)
			if (sl[i]->eps[j].ready)
				k += sl[i]->eps[j].naddrs;
	return k;
}

/* Number of SRV records a headless service gets for a port filter (name
 * NULL: every port). */
static size_t count_ep_srv(const struct obj_slice *const *sl, size_t n,
			   const char *name, uint8_t proto)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		size_t ports = 0;
		for (size_t p = 0; p < sl[i]->nports; p++)
			if (!name || (sl[i]->ports[p].name &&
				      !strcasecmp(sl[i]->ports[p].name, name) &&
				      sl[i]->ports[p].proto == proto))
				ports++;
		for (size_t j = 0; j < sl[i]->neps; j++)
			if (sl[i]->eps[j].ready)
				k += ports * sl[i]->eps[j].naddrs;
	}
	return k;
}

/* ---- what services, external names and imports share ---- */

/* A service's (or an import's) name in one zone: NAME.NS<mid>.Z, mid
 * ".svc" in the cluster and multicluster zones, "" in k8s_external's. */
struct svc_name {
	const char *name, *ns, *mid, *z;
	uint8_t w[DNAME_MAX];
	size_t len; /* 0: no DNS name (too long) */
};

static void svc_name_init(struct svc_name *n, const char *name, const char *ns,
			  const char *mid, const char *z)
{
	n->name = name;
	n->ns = ns;
	n->mid = mid;
	n->z = z;
	n->len =
	    fmt_wire(n->w, "%s.%s%s" ZONE_FMT, name, ns, mid, ZONE_ARGS(z));
}

/* _PORT._PROTO.NAME.NS<mid>.Z of port pt in out; 0 for a port without a
 * name, or a name too long. */
static size_t svc_port_name(const struct svc_name *n, const struct obj_port *pt,
			    uint8_t *out)
{
	if (!pt->name || !*pt->name)
		return 0;
	return fmt_wire(out, "_%s._%s.%s.%s%s" ZONE_FMT, pt->name,
			obj_proto_name(pt->proto), n->name, n->ns, n->mid,
			ZONE_ARGS(n->z));
}

/* An endpoint's name HOST.NAME.NS<mid>.Z, or with a cluster id (imports)
 * HOST.CLUSTER.NAME.NS<mid>.Z, in out; 0 when too long. */
static size_t svc_host_name(const struct svc_name *n, const char *host,
			    const char *cluster, uint8_t *out)
{
	if (cluster)
		return fmt_wire(out, "%s.%s.%s.%s%s" ZONE_FMT, host, cluster,
				n->name, n->ns, n->mid, ZONE_ARGS(n->z));
	return fmt_wire(out, "%s.%s.%s%s" ZONE_FMT, host, n->name, n->ns,
			n->mid, ZONE_ARGS(n->z));
}

/* The SRV records of ports aimed at target (tl bytes): with at_svc one
 * per port at the name itself, and one at each named port's name. */
static void emit_port_srvs(const struct svc_name *n,
			   const struct obj_port *ports, size_t nports,
			   const uint8_t *target, size_t tl, bool at_svc,
			   struct builder_buf *out)
{
	uint8_t srv[DNAME_MAX];

	for (size_t p = 0; p < nports; p++) {
		const struct obj_port *pt = &ports[p];
		if (at_svc)
			emit_srv(out, n->w, n->len, srv_weight(nports),
				 pt->port, target, tl);
		size_t sl = svc_port_name(n, pt, srv);
		if (sl)
			emit_srv(out, srv, sl, 100, pt->port, target, tl);
	}
}

/* A name with addresses of its own (a ClusterIP service, a ClusterSetIP
 * import): the addresses and the port SRVs, which point at the name. */
static void emit_vip(const struct svc_name *n, const struct obj_addr *ips,
		     size_t nips, const struct obj_port *ports, size_t nports,
		     struct builder_buf *out)
{
	if (!n->len)
		return;
	for (size_t i = 0; i < nips; i++)
		emit_addr(out, n->w, n->len, &ips[i]);
	emit_port_srvs(n, ports, nports, n->w, n->len, true, out);
}

/* The SRV records of one ready endpoint address named host (hl bytes) of
 * slice x among the nsl slices sl: one per port of x at the service name
 * (nall there in all, for the weight), at each named port's name, and
 * with at_host at host itself (k8s_external, as CoreDNS has it). */
static void emit_ep_srvs(const struct svc_name *n,
			 const struct obj_slice *const *sl, size_t nsl,
			 const struct obj_slice *x, size_t nall,
			 const uint8_t *host, size_t hl, bool at_host,
			 struct builder_buf *out)
{
	uint8_t srv[DNAME_MAX];

	for (size_t p = 0; p < x->nports; p++) {
		const struct obj_port *pt = &x->ports[p];
		emit_srv(out, n->w, n->len, srv_weight(nall), pt->port, host,
			 hl);
		if (at_host)
			emit_srv(out, host, hl, srv_weight(x->nports), pt->port,
				 host, hl);
		size_t l = svc_port_name(n, pt, srv);
		if (l)
			emit_srv(out, srv, l,
				 srv_weight(count_ep_srv(sl, nsl, pt->name,
							 pt->proto)),
				 pt->port, host, hl);
	}
}

/* A headless service's endpoint records in one forward zone: host names,
 * the service's A/AAAA and SRV; PTRs when the zone is the primary one.  (A
 * ClusterIP service's endpoint names are hosts.h's.) */
static void service_endpoints(const struct builder_conf *c,
			      const struct obj_service *s,
			      const struct obj_slice *const *sl, size_t nsl,
			      const char *z, bool prim, struct builder_buf *out)
{
	uint8_t host[DNAME_MAX];
	struct svc_name n;
	char buf[64];

	svc_name_init(&n, s->name, s->ns, ".svc", z);
	if (!n.len || s->type != OBJ_SVC_HEADLESS)
		return;
	size_t nall = count_ep_srv(sl, nsl, NULL, 0);
	for (size_t i = 0; i < nsl; i++) {
		const struct obj_slice *x = sl[i];
		for (size_t j = 0; j < x->neps; j++) {
			const struct obj_endpoint *ep = &x->eps[j];
			if (!ep->ready)
				continue;
			for (size_t k = 0; k < ep->naddrs; k++) {
				const struct obj_addr *a = &ep->addrs[k];
				size_t hl = svc_host_name(
				    &n, builder_host_label(c, ep, a, buf), NULL,
				    host);
				emit_addr(out, n.w, n.len, a);
				if (!hl)
					continue;
				emit_addr(out, host, hl, a);
				if (prim)
					emit_ptr(c, out, a, host, hl);
				emit_ep_srvs(&n, sl, nsl, x, nall, host, hl,
					     false, out);
			}
		}
	}
}

/* ---- topology: CoreDNS's zonal names ---- */

#define ZONAL_MAX_ZONES 64 /* distinct topology zones of one service */

/* The distinct topology zones of the service's ready endpoints, at most
 * max, in the order they first appear. */
static size_t zonal_zones(const struct obj_slice *const *sl, size_t nsl,
			  uint16_t *out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < nsl; i++)
		for (size_t j = 0; j < sl[i]->neps; j++) {
			const struct obj_endpoint *ep = &sl[i]->eps[j];
			size_t k = 0;
			if (!ep->ready || !ep->zone || !ep->naddrs)
				continue;
			while (k < n && out[k] != ep->zone)
				k++;
			if (k == n && n < max)
				out[n++] = ep->zone;
		}
	return n;
}

/* SRV records of the zone's ready endpoints (every port). */
static size_t zonal_count_srv(const struct obj_slice *const *sl, size_t nsl,
			      uint16_t zone)
{
	size_t k = 0;

	for (size_t i = 0; i < nsl; i++)
		for (size_t j = 0; j < sl[i]->neps; j++)
			if (sl[i]->eps[j].ready && sl[i]->eps[j].zone == zone)
				k += sl[i]->nports * sl[i]->eps[j].naddrs;
	return k;
}

/* The records of <tz>.<directive>._zone.<svc>.<ns>.svc.<z> for zone id:
 * the addresses of the zone's ready endpoints and an SRV per port to
 * their host names, as the service name has for all of them. */
static void zonal_name(const struct builder_conf *c,
		       const struct obj_service *s,
		       const struct obj_slice *const *sl, size_t nsl,
		       const char *z, uint16_t zone, const char *directive,
		       struct builder_buf *out)
{
	uint8_t own[DNAME_MAX], host[DNAME_MAX];
	struct svc_name n;
	const char *tz = obj_zone_name(zone);
	size_t ol = tz ? fmt_wire(own, "%s.%s._zone.%s.%s.svc" ZONE_FMT, tz,
				  directive, s->name, s->ns, ZONE_ARGS(z))
		       : 0;
	size_t nsrv = zonal_count_srv(sl, nsl, zone);
	char buf[64];

	if (!ol)
		return;
	svc_name_init(&n, s->name, s->ns, ".svc", z);
	for (size_t i = 0; i < nsl; i++) {
		const struct obj_slice *x = sl[i];
		for (size_t j = 0; j < x->neps; j++) {
			const struct obj_endpoint *ep = &x->eps[j];
			if (!ep->ready || ep->zone != zone)
				continue;
			for (size_t k = 0; k < ep->naddrs; k++) {
				const struct obj_addr *a = &ep->addrs[k];
				size_t hl = svc_host_name(
				    &n, builder_host_label(c, ep, a, buf), NULL,
				    host);
				emit_addr(out, own, ol, a);
				for (size_t p = 0; hl && p < x->nports; p++)
					emit_srv(out, own, ol, srv_weight(nsrv),
						 x->ports[p].port, host, hl);
			}
		}
	}
}

/* The zonal names of a headless service in forward zone z: the prefer
 * name of each topology zone of its ready endpoints (answering that
 * zone's endpoints; the pin name answers the same, and what both answer
 * for other zones is the query path's), and <svc>._zone.<ns>.svc.<z>, which
 * marks the service as one that has zonal names (outside the service's own
 * names, so that a service without ready endpoints stays NXDOMAIN; the query
 * path does not serve it). */
static void service_zonal(const struct builder_conf *c,
			  const struct obj_service *s,
			  const struct obj_slice *const *sl, size_t nsl,
			  const char *z, struct builder_buf *out)
{
	uint16_t zones[ZONAL_MAX_ZONES];
	uint8_t n[DNAME_MAX];
	size_t nl = fmt_wire(n, "%s._zone.%s.svc" ZONE_FMT, s->name, s->ns,
			     ZONE_ARGS(z));

	if (!nl)
		return;
	emit(out, n, nl, ZONE_TYPE_EXISTS, NULL, 0);
	size_t nz = zonal_zones(sl, nsl, zones, ZONAL_MAX_ZONES);
	for (size_t i = 0; i < nz; i++) {
		zonal_name(c, s, sl, nsl, z, zones[i], "prefer", out);
	}
}

static void service_external(const struct obj_service *s, const char *z,
			     struct builder_buf *out)
{
	uint8_t target[DNAME_MAX];
	struct svc_name n;
	size_t tl = s->external_name ? wire(s->external_name, target) : 0;

	svc_name_init(&n, s->name, s->ns, ".svc", z);
	if (!n.len || tl <= 1)
		return;
	emit(out, n.w, n.len, T_CNAME, target, tl);
	emit_port_srvs(&n, s->ports, s->nports, target, tl, false, out);
}

int builder_service(const struct builder_conf *c, const struct obj_service *s,
		    const struct obj_slice *const *slices, size_t nslices,
		    struct builder_buf *out)
{
	const char *prim = primary(c);
	uint8_t n[DNAME_MAX];

	reset(out);
	if (c->noendpoints)
		nslices = 0;
	for (size_t i = 0; i < c->nzones; i++) {
		const char *z = c->zones[i];
		bool is_prim = z == prim;
		if (is_reverse(z) || c->multicluster[i])
			continue;
		switch (s->type) {
		case OBJ_SVC_EXTERNALNAME:
			service_external(s, z, out);
			continue;
		case OBJ_SVC_CLUSTERIP:
			/* the names are hosts.h's (builder_service_vip) */
			break;
		case OBJ_SVC_HEADLESS:
			if (c->zonal && !c->noendpoints)
				service_zonal(c, s, slices, nslices, z, out);
			break;
		}
		service_endpoints(c, s, slices, nslices, z, is_prim, out);
		if (s->type == OBJ_SVC_CLUSTERIP &&
		    !strcmp(s->ns, "kube-system") &&
		    !strcmp(s->name, "kube-dns")) {
			size_t nl =
			    fmt_wire(n, "ns.dns" ZONE_FMT, ZONE_ARGS(z));
			for (size_t k = 0; nl && k < s->nips; k++)
				emit_addr(out, n, nl, &s->ips[k]);
		}
	}
	return out->oom ? -ENOMEM : 0;
}

bool builder_service_vip(const struct builder_conf *c,
			 const struct obj_service *s,
			 const struct obj_slice *const *slices, size_t nslices,
			 struct hosts_vip *vip)
{
	uint8_t n[DNAME_MAX];

	if (s->type != OBJ_SVC_CLUSTERIP || !primary(c) ||
	    (!s->nips && !s->nports) ||
	    !fmt_wire(n, "%s.%s.svc" ZONE_FMT, s->name, s->ns,
		      ZONE_ARGS(primary(c))))
		return false;
	if (c->ignore_empty_service && count_ready(slices, nslices) == 0)
		return false;
	if (vip) {
		vip->ports = s->ports;
		vip->nports = s->nports;
	}
	return true;
}

size_t builder_service_ips(const struct builder_conf *c,
			   const struct obj_service *s,
			   const struct obj_addr **ips)
{
	const char *prim = primary(c);
	uint8_t svc[DNAME_MAX];

	/* only when the name they point at can exist */
	if (s->type != OBJ_SVC_CLUSTERIP || !prim ||
	    !fmt_wire(svc, "%s.%s.svc" ZONE_FMT, s->name, s->ns,
		      ZONE_ARGS(prim)))
		return 0;
	if (ips)
		*ips = s->ips;
	return s->nips;
}

/* The host label an endpoint names itself with: hostname, else the pod
 * name with endpoint_pod_names; NULL: the dashed address. */
static const char *explicit_label(const struct builder_conf *c,
				  const struct obj_endpoint *ep)
{
	if (ep->hostname && *ep->hostname)
		return ep->hostname;
	if (c->endpoint_pod_names && ep->pod_name && *ep->pod_name)
		return ep->pod_name;
	return NULL;
}

size_t builder_service_hosts(const struct builder_conf *c,
			     const struct obj_service *s,
			     const struct obj_slice *const *slices,
			     size_t nslices, struct hosts_ep *out, size_t max)
{
	size_t k = 0;

	if (s->type != OBJ_SVC_CLUSTERIP || c->noendpoints || !primary(c))
		return 0;
	for (size_t i = 0; i < nslices; i++) {
		const struct obj_slice *x = slices[i];
		for (size_t j = 0; j < x->neps; j++) {
			const struct obj_endpoint *ep = &x->eps[j];
			if (!ep->ready)
				continue;
			for (size_t a = 0; a < ep->naddrs; a++, k++) {
				if (k >= max)
					continue;
				out[k].addr = ep->addrs[a];
				out[k].label = explicit_label(c, ep);
			}
		}
	}
	return k;
}

/* ---- k8s_external: the external zones ---- */

int builder_ext_mname(const struct builder_ext *x, size_t i, uint8_t *out)
{
	const char *z = x->zones[i];
	size_t n = fmt_wire(out, "ns1.%s" ZONE_FMT, x->apex, ZONE_ARGS(z));

	return n ? (int)n : -EINVAL;
}

int builder_ext_rname(const struct builder_ext *x, size_t i, uint8_t *out)
{
	const char *z = x->zones[i];
	size_t n =
	    fmt_wire(out, "hostmaster.%s" ZONE_FMT, x->apex, ZONE_ARGS(z));

	return n ? (int)n : -EINVAL;
}

int builder_ext_static(const struct builder_ext *x, struct builder_buf *out)
{
	uint8_t n[DNAME_MAX], t[DNAME_MAX];

	reset(out);
	for (size_t i = 0; i < x->nzones; i++) {
		size_t nl = wire(x->zones[i], n);
		int tl = builder_ext_mname(x, i, t);
		if (!nl || tl <= 0)
			continue;
		emit(out, n, nl, T_NS, t, (size_t)tl);
		emit(out, t, (size_t)tl, ZONE_TYPE_EXISTS, NULL, 0);
	}
	return out->oom ? -ENOMEM : 0;
}

/* The first forward zone of x, which PTR targets are in; NULL: none. */
static const char *ext_primary(const struct builder_ext *x)
{
	for (size_t i = 0; i < x->nzones; i++)
		if (!is_reverse(x->zones[i]))
			return x->zones[i];
	return NULL;
}

/* Is address i of s one of those before it? */
static bool ext_dup(const struct obj_service *s, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (s->ext_ips[j].family == s->ext_ips[i].family &&
		    !memcmp(s->ext_ips[j].a, s->ext_ips[i].a,
			    s->ext_ips[i].family == 4 ? 4 : 16))
			return true;
	return false;
}

/* A service with external addresses (or a load balancer hostname) in
 * forward zone z. */
static void ext_names(const struct obj_service *s, const char *z,
		      struct builder_buf *out)
{
	uint8_t host[DNAME_MAX];
	struct svc_name n;

	svc_name_init(&n, s->name, s->ns, "", z);
	const uint8_t *target = n.w;
	size_t tl = n.len;
	if (!n.len)
		return;
	if (s->next_ips) {
		for (size_t i = 0; i < s->next_ips; i++)
			if (!ext_dup(s, i))
				emit_addr(out, n.w, n.len, &s->ext_ips[i]);
	} else {
		/* a CNAME is alone at its name, and SRV targets are no
		 * aliases (RFC 2782): they name the hostname itself */
		tl = wire(s->lb_hostname, host);
		if (tl <= 1)
			return;
		emit(out, n.w, n.len, T_CNAME, host, tl);
		target = host;
	}
	emit_port_srvs(&n, s->ports, s->nports, target, tl, s->next_ips != 0,
		       out);
}

/* A headless service's ready endpoints in forward zone z: addresses at
 * the service name and at each endpoint's name, SRV to the endpoints. */
static void ext_headless(const struct builder_conf *c,
			 const struct obj_service *s,
			 const struct obj_slice *const *sl, size_t nsl,
			 const char *z, struct builder_buf *out)
{
	uint8_t host[DNAME_MAX];
	struct svc_name n;
	size_t nall = count_ep_srv(sl, nsl, NULL, 0);
	char buf[64];

	svc_name_init(&n, s->name, s->ns, "", z);
	if (!n.len)
		return;
	for (size_t i = 0; i < nsl; i++) {
		const struct obj_slice *x = sl[i];
		for (size_t j = 0; j < x->neps; j++) {
			const struct obj_endpoint *ep = &x->eps[j];
			if (!ep->ready)
				continue;
			for (size_t k = 0; k < ep->naddrs; k++) {
				const struct obj_addr *a = &ep->addrs[k];
				size_t hl = svc_host_name(
				    &n, builder_host_label(c, ep, a, buf), NULL,
				    host);
				emit_addr(out, n.w, n.len, a);
				if (!hl)
					continue;
				emit_addr(out, host, hl, a);
				/* CoreDNS answers SRV at the endpoint's own
				 * name too */
				emit_ep_srvs(&n, sl, nsl, x, nall, host, hl,
					     true, out);
			}
		}
	}
}

/* PTRs of the external addresses that lie in reverse zone z. */
static void ext_ptrs(const struct obj_service *s, const char *z,
		     const char *prim, struct builder_buf *out)
{
	uint8_t zw[DNAME_MAX], rev[DNAME_MAX], svc[DNAME_MAX];
	size_t zl = wire(z, zw);
	size_t svl =
	    fmt_wire(svc, "%s.%s" ZONE_FMT, s->name, s->ns, ZONE_ARGS(prim));

	if (!zl || !svl)
		return;
	for (size_t i = 0; i < s->next_ips; i++) {
		const struct obj_addr *a = &s->ext_ips[i];
		size_t rl = a->family == 4 ? dname_reverse4(a->a, rev)
					   : dname_reverse6(a->a, rev);
		if (!ext_dup(s, i) && dname_suffix_at(rev, rl, zw, zl) >= 0)
			emit(out, rev, rl, T_PTR, svc, svl);
	}
}

int builder_ext_service(const struct builder_conf *c,
			const struct builder_ext *x,
			const struct obj_service *s,
			const struct obj_slice *const *slices, size_t nslices,
			struct builder_buf *out)
{
	const char *prim = ext_primary(x);
	bool ext = s->next_ips || s->lb_hostname;
	bool headless = !ext && x->headless && s->type == OBJ_SVC_HEADLESS;
	bool kdns =
	    !strcmp(s->ns, "kube-system") && !strcmp(s->name, "kube-dns");
	uint8_t ns1[DNAME_MAX];

	reset(out);
	if (!strcasecmp(s->ns, x->apex))
		return 0;
	for (size_t i = 0; i < x->nzones; i++) {
		const char *z = x->zones[i];
		int nl = builder_ext_mname(x, i, ns1);
		for (size_t k = 0; kdns && nl > 0 && k < s->next_ips; k++)
			if (!ext_dup(s, k))
				emit_addr(out, ns1, (size_t)nl, &s->ext_ips[k]);
		if (is_reverse(z)) {
			if (prim)
				ext_ptrs(s, z, prim, out);
		} else if (ext) {
			ext_names(s, z, out);
		} else if (headless) {
			ext_headless(c, s, slices, nslices, z, out);
		}
	}
	return out->oom ? -ENOMEM : 0;
}

/* ---- ServiceImports: the multicluster zones ---- */

/* A ClusterSetIP import in zone z: its addresses and an SRV per port, as
 * a ClusterIP service has them. */
static void import_clusterset(const struct obj_import *s, const char *z,
			      struct builder_buf *out)
{
	struct svc_name n;

	svc_name_init(&n, s->name, s->ns, ".svc", z);
	emit_vip(&n, s->ips, s->nips, s->ports, s->nports, out);
}

/* The ready endpoints of an import in zone z:
 * <host>.<clusterid>.<svc>.<ns>.svc.<z> for both types; for a headless
 * one also the import's name and its SRV records, which point at those
 * names. */
static void import_endpoints(const struct builder_conf *c,
			     const struct obj_import *s,
			     const struct obj_slice *const *sl, size_t nsl,
			     const char *z, struct builder_buf *out)
{
	bool headless = s->type == OBJ_IMPORT_HEADLESS;
	uint8_t host[DNAME_MAX];
	struct svc_name n;
	size_t nall = count_ep_srv(sl, nsl, NULL, 0);
	char buf[64];

	svc_name_init(&n, s->name, s->ns, ".svc", z);
	if (!n.len)
		return;
	for (size_t i = 0; i < nsl; i++) {
		const struct obj_slice *x = sl[i];
		for (size_t j = 0; j < x->neps; j++) {
			const struct obj_endpoint *ep = &x->eps[j];
			if (!ep->ready)
				continue;
			for (size_t k = 0; k < ep->naddrs; k++) {
				const struct obj_addr *a = &ep->addrs[k];
				/* without a cluster id there is no name */
				size_t hl =
				    x->cluster && *x->cluster
					? svc_host_name(
					      &n,
					      builder_host_label(c, ep, a, buf),
					      x->cluster, host)
					: 0;
				if (hl)
					emit_addr(out, host, hl, a);
				if (!headless)
					continue;
				emit_addr(out, n.w, n.len, a);
				if (hl)
					emit_ep_srvs(&n, sl, nsl, x, nall, host,
						     hl, false, out);
			}
		}
	}
}

int builder_import(const struct builder_conf *c, const struct obj_import *s,
		   const struct obj_slice *const *slices, size_t nslices,
		   struct builder_buf *out)
{
	bool empty = count_ready(slices, nslices) == 0;

	reset(out);
	if (c->noendpoints)
		nslices = 0;
	for (size_t i = 0; i < c->nzones; i++) {
		const char *z = c->zones[i];
		if (!c->multicluster[i] || is_reverse(z))
			continue;
		if (s->type == OBJ_IMPORT_CLUSTERSETIP &&
		    !(c->ignore_empty_service && empty))
			import_clusterset(s, z, out);
		import_endpoints(c, s, slices, nslices, z, out);
	}
	return out->oom ? -ENOMEM : 0;
}
