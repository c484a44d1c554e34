/*
 * query.c -- the query path: packet in, answer out, no allocation and no
 * lock (the zone is read under RCU).
 */
#include "server/query.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <ldns/ldns.h>
#include <urcu.h>

#include "server/loadbalance.h"
#include "server/log.h"
#include "server/metrics.h"
#include "server/packet.h"
#include "zones/clientzone.h"
#include "zones/dname.h"
#include "zones/hosts.h"
#include "zones/zone.h"

#define T_A 1
#define T_CNAME 5
#define T_SOA 6
#define T_PTR 12
#define MAX_CNAMES 10
#define T_AAAA 28
#define T_SRV 33
#define T_AXFR 252
#define T_IXFR 251
#define T_ANY 255
#define CLASS_IN 1
#define OPT_LEN 11

static int ap_block_init(struct query_block *qb, const struct config_block *cb,
			 char *err, size_t errlen);

/* Append the n zones of names (text) to s.  Returns 0, or -EINVAL for one
 * too many or one that is no DNS name. */
static int zones_add(struct query_zones *s, char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s->n == QUERY_MAX_ZONES ||
		    dname_zone_wire(names[i], s->z[s->n], &s->len[s->n]) < 0)
			return -EINVAL;
		s->n++;
	}
	return 0;
}

/* Is name (len bytes) at or below one of the zones of s? */
static bool zones_under(const struct query_zones *s, const uint8_t *name,
			size_t len)
{
	for (size_t i = 0; i < s->n; i++)
		if (dname_suffix_at(name, len, s->z[i], s->len[i]) >= 0)
			return true;
	return false;
}

int query_block_init(struct query_block *qb, const struct config_block *cb,
		     struct kube *kube, char *err, size_t errlen)
{
	memset(qb, 0, sizeof(*qb));
	qb->conf = cb;
	qb->kube = kube;
	if (cb->kube) {
		const struct kubernetes_conf *k = cb->kube;
		qb->pods = (enum builder_pods)k->pods;
		qb->fallthrough = k->fallthrough;
		qb->zonal = k->zonal && !k->noendpoints;
		qb->topology =
		    k->noendpoints ? KUBERNETES_TOPOLOGY_OFF : k->topology;
		qb->zonal_hidden = !k->zonal && qb->topology;
		if (zones_add(&qb->ft, k->fallthrough_zones,
			      k->nfallthrough_zones) < 0)
			goto bad;
	}
	if (cb->external && kube && kube_external_zone(kube)) {
		const struct k8s_external_conf *x = cb->external;
		qb->external = true;
		qb->ext_fallthrough = x->fallthrough;
		if (zones_add(&qb->ext_ft, x->fallthrough_zones,
			      x->nfallthrough_zones) < 0)
			goto bad;
	}
	if (cb->cache && !(qb->cache = cache_new(&cb->cache->conf))) {
		snprintf(err, errlen, "%s:%d - Error during setup: cache: %s",
			 cb->cache->file, cb->cache->line, strerror(ENOMEM));
		return -ENOMEM;
	}
	int rc = ap_block_init(qb, cb, err, errlen);
	if (rc < 0) {
		query_block_fini(qb);
		return rc;
	}
	if (cb->log &&
	    zones_add(&qb->lognames, cb->log->names, cb->log->nnames) < 0)
		goto bad;
	return 0;
bad:
	snprintf(err, errlen,
		 "%s:%d - Error during setup: too many or invalid zones",
		 cb->file, cb->line);
	query_block_fini(qb);
	return -EINVAL;
}

void query_block_fini(struct query_block *qb)
{
	cache_free(qb->cache);
	qb->cache = NULL;
	free(qb->autopath);
	qb->autopath = NULL;
}

static const struct query_key *select_key(const struct query_listener *l,
					  const struct packet_query *q)
{
	const struct query_key *best = NULL;

	for (size_t i = 0; i < l->nkeys; i++) {
		const struct query_key *k = &l->keys[i];
		if ((!best || k->len > best->len) &&
		    dname_suffix_loff(q->lname, q->qname_len, q->loff,
				      q->nlabels, k->zone, k->len,
				      k->nlabels) >= 0)
			best = k;
	}
	return best;
}

static inline void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Space left for records once the question (n bytes) and OPT are in. */
static size_t room(const struct packet_query *q, size_t n, size_t limit)
{
	size_t opt = q->edns ? OPT_LEN : 0;

	return limit > n + opt ? limit - n - opt : 0;
}

/* Append the zone's SOA (owner: the apex at the end of the question). */
static size_t put_soa(const struct packet_query *q, const struct zone_apex *a,
		      size_t alen, uint8_t *out, size_t n)
{
	size_t sl;
	const uint8_t *soa = zone_apex_soa(a, &sl);

	memcpy(out + n, soa, sl);
	wr16(out + n, (uint16_t)(0xc000 | (12 + q->qname_len - alen)));
	return n + sl;
}

/* Add our OPT when the request had one; DO is echoed only when the answer
 * came from an upstream whose answer had it (updo): we sign nothing. */
static size_t finish_relayed(const struct packet_query *q, uint16_t udp_max,
			     bool updo, uint8_t *out, size_t n, size_t limit)
{
	if (q->edns) {
		size_t m =
		    packet_put_opt_do(q, udp_max, 0, updo, out, n, limit);
		if (m)
			n = m;
	}
	return n;
}

/* finish_relayed() for our own answers (DO clear). */
static size_t finish(const struct packet_query *q, uint16_t udp_max,
		     uint8_t *out, size_t n, size_t limit)
{
	return finish_relayed(q, udp_max, false, out, n, limit);
}

/* A truncated response: header with TC and the question only. */
static size_t truncated(const struct packet_query *q, uint16_t udp_max,
			uint8_t *out, size_t limit)
{
	size_t n =
	    packet_begin(q, PACKET_FLAG_AA | PACKET_FLAG_TC, 0, out, limit);

	return n ? finish(q, udp_max, out, n, limit) : 0;
}

/*
 * The first whole records of the answer section data (an records, len
 * bytes) that fit in room bytes: their length, their number in *kept.
 */
static size_t fit_answers(const uint8_t *data, size_t len, uint16_t an,
			  size_t room, uint16_t *kept)
{
	size_t off = 0;

	*kept = 0;
	for (uint16_t i = 0; i < an; i++) {
		size_t o = packet_skip_name(data, len, off);
		if (o == 0 || len - o < 10)
			break;
		size_t end = o + 10 + rd16(data + o + 8);
		if (end > len || end > room)
			break;
		off = end;
		(*kept)++;
	}
	return off;
}

/* What of an entry goes into a response. */
struct fit {
	size_t len;	     /* bytes of the entry's data */
	size_t soa;	     /* bytes of the SOA after them (0: none) */
	uint16_t an, ns, ar; /* their counts, the SOA's not included */
};

/*
 * Fit entry e (its data) with an SOA of f->soa bytes (set by the caller)
 * into r bytes of room: the whole entry, or without the additional
 * section; larger than any DNS message (a headless service of thousands
 * of endpoints over TCP, limit PACKET_MAX_TCP) as many whole answer
 * records as fit, TC clear, as TCP has no bigger transport to retry on.
 * False when the answer must be TC instead.
 */
static bool entry_fit(const struct zone_entry *e, const uint8_t *data, size_t r,
		      size_t limit, struct fit *f)
{
	f->len = e->len;
	f->an = e->an;
	f->ns = e->ns;
	f->ar = e->ar;
	if (f->len + f->soa > r) {
		f->len = e->len_noadd;
		f->ar = 0;
	}
	if (f->len + f->soa <= r)
		return true;
	if (limit < PACKET_MAX_TCP)
		return false;
	f->len = fit_answers(data, e->len_noadd, e->an, r, &f->an);
	f->ns = 0;
	f->soa = 0;
	return f->an != 0;
}

/* Copy len bytes of answer data built for a question dlt bytes shorter
 * (dlt may be negative): owners that point elsewhere than at the question
 * move by dlt.  Returns len, or 0 when a pointer would leave the 14 bits
 * a pointer has or the data is malformed. */
static size_t moved_copy(uint8_t *out, const uint8_t *data, size_t len,
			 long dlt)
{
	size_t o = 0;

	while (o < len) {
		if ((data[o] & 0xc0) == 0xc0) {
			if (len - o < 2)
				return 0;
			long p = (long)(((data[o] & 0x3f) << 8) | data[o + 1]);
			if (p != 12)
				p += dlt;
			if (p < 12 || p > 0x3fff)
				return 0;
			out[o] = (uint8_t)(0xc0 | (p >> 8));
			out[o + 1] = (uint8_t)p;
			o += 2;
		} else {
			size_t nl = packet_skip_name(data, len, o);
			if (nl == 0)
				return 0;
			memcpy(out + o, data + o, nl - o);
			o = nl;
		}
		if (len - o < 10)
			return 0;
		size_t end = o + 10 + rd16(data + o + 8);
		if (end > len)
			return 0;
		memcpy(out + o, data + o, end - o);
		o = end;
	}
	return len;
}

/* The answer of entry e of node: of the name asked (dlt 0), or of another
 * name dlt bytes shorter than the question (the prefer name of a zone
 * without endpoints answers what the service name answers). */
static size_t answer_moved(const struct packet_query *q, uint16_t udp_max,
			   const struct zone_node *node,
			   const struct zone_entry *e, long dlt,
			   const struct zone_apex *apex, size_t alen,
			   uint8_t *out, size_t limit)
{
	size_t n = packet_begin(q, PACKET_FLAG_AA, e->rcode, out, limit);
	struct fit f = {0};

	if (!n)
		return 0;
	if (e->flags & ZONE_ENTRY_SOA)
		zone_apex_soa(apex, &f.soa);
	const uint8_t *data = zone_node_data(node) + e->off;
	if (!entry_fit(e, data, room(q, n, limit), limit, &f))
		return truncated(q, udp_max, out, limit);
	if (dlt == 0)
		memcpy(out + n, data, f.len);
	else if (f.len && !moved_copy(out + n, data, f.len, dlt))
		return truncated(q, udp_max, out, limit);
	n += f.len;
	if (f.soa)
		n = put_soa(q, apex, alen, out, n);
	packet_set_counts(out, f.an, (uint16_t)(f.ns + (f.soa ? 1 : 0)), f.ar);
	return finish(q, udp_max, out, n, limit);
}

static size_t answer_entry(const struct packet_query *q, uint16_t udp_max,
			   const struct zone_node *node,
			   const struct zone_entry *e,
			   const struct zone_apex *apex, size_t alen,
			   uint8_t *out, size_t limit)
{
	return answer_moved(q, udp_max, node, e, 0, apex, alen, out, limit);
}

/* NODATA (rcode 0) or NXDOMAIN (rcode 3) with the SOA in authority. */
static size_t answer_negative(const struct packet_query *q, uint16_t udp_max,
			      uint8_t rcode, const struct zone_apex *apex,
			      size_t alen, uint8_t *out, size_t limit)
{
	size_t n = packet_begin(q, PACKET_FLAG_AA, rcode, out, limit);
	size_t soa;

	if (!n)
		return 0;
	zone_apex_soa(apex, &soa);
	if (soa > room(q, n, limit))
		return truncated(q, udp_max, out, limit);
	n = put_soa(q, apex, alen, out, n);
	packet_set_counts(out, 0, 1, 0);
	return finish(q, udp_max, out, n, limit);
}

/* Label i (0-based) of a wire name: its offset, or -1. */
static int label_at(const uint8_t *name, unsigned i)
{
	size_t o = 0;

	for (; i && name[o]; i--)
		o += (size_t)name[o] + 1;
	return name[o] ? (int)o : -1;
}

/*
 * <a-b-c-d>.<ns>.pod.<zone> answers the address of its name when namespace
 * <ns> exists and is exposed, and with `pods verified` only when a pod
 * with that address runs in <ns>.  Returns the response length, or 0 when
 * the name is not such a name (NXDOMAIN).
 */
static size_t answer_pod(const struct query_block *b,
			 const struct packet_query *q, uint16_t udp_max,
			 const struct zone_apex *apex, size_t alen,
			 uint8_t *out, size_t limit)
{
	static const uint8_t pod[] = {3, 'p', 'o', 'd'};
	size_t above = q->qname_len - alen;
	unsigned labels = q->nlabels - dname_labels(q->lname + above);
	int podl = labels >= 2 ? label_at(q->lname, labels - 1) : -1;

	if (labels < 2 || labels > 3 || podl < 0 ||
	    (size_t)podl + sizeof(pod) != above ||
	    memcmp(q->lname + podl, pod, sizeof(pod)) != 0)
		return 0;
	/* The namespace must exist: then <ns>.pod.<zone> is in the zone.  (A
	 * name of two labels here is such a name that is not.) */
	int nsl = label_at(q->lname, labels - 2);
	if (labels == 2 ||
	    !kube_ns_exposed(b->kube, q->lname + nsl + 1, q->lname[nsl]) ||
	    !zone_lookup(kube_zone(b->kube), q->lname + nsl,
			 q->qname_len - (size_t)nsl))
		return 0;

	uint8_t addr[16];
	int fam = dname_dashed_addr(q->lname + 1, q->lname[0], addr);
	if (!fam ||
	    (b->pods == BUILDER_PODS_VERIFIED &&
	     !podset_has(kube_pods(b->kube), q->lname + nsl, fam, addr)))
		return 0;
	uint16_t want = fam == 4 ? T_A : T_AAAA;
	if (q->qtype != want && q->qtype != T_ANY)
		return answer_negative(q, udp_max, 0, apex, alen, out, limit);
	size_t n = packet_begin(q, PACKET_FLAG_AA, 0, out, limit);
	size_t rdlen = fam == 4 ? 4 : 16;
	if (!n || 12 + rdlen > room(q, n, limit))
		return n ? truncated(q, udp_max, out, limit) : 0;
	n = packet_put_rr(out, n, 12, want, zone_ttl(kube_zone(b->kube)), addr,
			  rdlen);
	packet_set_counts(out, 1, 0, 0);
	return finish(q, udp_max, out, n, limit);
}

/* Append the addresses of the m endpoints from e that qtype asks for, owned
 * by the name at response offset owner; *an counts them.  ANY takes the
 * family of the first one only: one RRset (RFC 8482).  Returns the new
 * length, 0 when they do not fit in r bytes from start. */
static size_t put_hosts(const struct query_block *b, uint16_t qtype,
			const struct hosts_entry *e, size_t m, uint16_t owner,
			uint8_t *out, size_t n, size_t start, size_t r,
			uint16_t *an)
{
	uint32_t ttl = zone_ttl(kube_zone(b->kube));

	for (size_t i = 0; i < m; i++) {
		uint16_t t = e[i].family == 4 ? T_A : T_AAAA;
		size_t rdlen = e[i].family == 4 ? 4 : 16;
		if (qtype == T_ANY)
			qtype = t;
		if (qtype != t)
			continue;
		if (n - start + 12 + rdlen > r)
			return 0;
		n = packet_put_rr(out, n, owner, t, ttl,
				  hosts_entry_addr(&e[i]), rdlen);
		(*an)++;
	}
	return n;
}

static const uint8_t svc_label[] = {3, 's', 'v', 'c'};

/*
 * The names of ClusterIP services (hosts.h) are <svc>.<ns>.svc.<zone>,
 * _<port>._<proto>.<svc>..., _<proto>.<svc>... and <host>.<svc>...: the
 * number of labels above apex (alen bytes) of lname (len bytes) when it
 * has 3 to 5 and the last is svc, in a zone that has such names (a
 * forward zone that is not a multicluster one); else 0.
 */
static unsigned svc_depth(const struct zone_apex *apex, const uint8_t *lname,
			  size_t len, size_t alen)
{
	size_t above = len - alen, o = 0, last = 0;
	unsigned labels = 0;

	if (!(zone_apex_tag(apex) & KUBE_APEX_SERVICES))
		return 0;
	for (; o < above && labels < 6; labels++) {
		last = o;
		o += (size_t)lname[o] + 1;
	}
	if (o != above || labels < 3 || labels > 5 ||
	    memcmp(lname + last, svc_label, sizeof(svc_label)) != 0)
		return 0;
	return labels;
}

/* The ClusterIP service whose own name starts with the wire labels at
 * name (<svc>.<ns>...), when hosts.h answers that name; else NULL. */
static const struct hosts_svc *vip_of(const struct query_block *b,
				      const uint8_t *name)
{
	const struct hosts_svc *s = hosts_service(kube_hosts(b->kube), name,
						  name + (size_t)name[0] + 1);

	return s && hosts_svc_named(s) ? s : NULL;
}

/*
 * <host>.<svc>.<ns>.svc.<zone> of a ClusterIP service's endpoint (lname of
 * svc_depth d): the endpoints of that name from *first.  Returns how many,
 * 0 when no endpoint has that name.
 */
static size_t host_lookup(const struct query_block *b, const uint8_t *lname,
			  unsigned d, const struct hosts_entry **first)
{
	if (d != 4 || lname[1] == '_')
		return 0;
	const uint8_t *svc = lname + (size_t)lname[0] + 1;
	const struct hosts_svc *s =
	    hosts_service(kube_hosts(b->kube), svc, svc + (size_t)svc[0] + 1);
	return s ? hosts_match(s, lname, first) : 0;
}

/* A name of a ClusterIP service's own (svc_depth d): the service, and
 * with *port which of its ports the name is (NULL: the service name);
 * *skip is the bytes of lname before the service's name.  NULL when the
 * name is none of the service's (the _<proto> name between a port's and
 * the service's, d 4, gives the first port of that protocol). */
static const struct hosts_svc *vip_lookup(const struct query_block *b,
					  const uint8_t *lname, unsigned d,
					  const struct hosts_port **port,
					  size_t *skip)
{
	const uint8_t *l2 = lname + (size_t)lname[0] + 1;
	const struct hosts_svc *s;

	*port = NULL;
	*skip = 0;
	if (d == 3)
		return vip_of(b, lname);
	if (lname[0] < 2 || lname[1] != '_')
		return NULL;
	*skip =
	    d == 5 ? (size_t)(l2 - lname) + l2[0] + 1 : (size_t)(l2 - lname);
	if (!(s = vip_of(b, lname + *skip)))
		return NULL;
	*port = d == 5 ? hosts_port_match(s, lname, l2)
		       : hosts_port_match(s, NULL, lname);
	return *port ? s : NULL;
}

/*
 * Append the SRV records of a ClusterIP service's name (port NULL: one per
 * port, weight as CoreDNS's) or of one port's name (weight 100), owned by
 * the name at response offset owner and aimed at the service's name
 * (target, tl bytes, lowercase wire); *an counts them, *tpos is where the
 * first one's target is (0: none written).  Returns the new length, 0 when
 * they do not fit in r bytes from start.
 */
static size_t put_vip_srv(const struct query_block *b,
			  const struct hosts_svc *s,
			  const struct hosts_port *port, uint16_t owner,
			  const uint8_t *target, size_t tl, uint8_t *out,
			  size_t n, size_t start, size_t r, uint16_t *an,
			  size_t *tpos)
{
	uint32_t ttl = zone_ttl(kube_zone(b->kube));
	size_t np;
	uint16_t w;
	const struct hosts_port *ports = hosts_srv_ports(s, port, &np, &w);
	uint8_t rd[6 + DNAME_MAX];

	*tpos = 0;
	for (size_t i = 0; i < np; i++) {
		if (hosts_srv_dup(ports, i))
			continue;
		if (n - start + 12 + 6 + tl > r)
			return 0;
		size_t rl = hosts_srv_rdata(w, ports[i].port, target, tl, rd);
		if (!*tpos)
			*tpos = n + 12 + 6;
		n = packet_put_rr(out, n, owner, T_SRV, ttl, rd, rl);
		(*an)++;
	}
	return n;
}

/* Append what qtype asks of a ClusterIP service's name or port's name
 * (vip_lookup), as put_vip_srv: the service's addresses of that type, its
 * SRV records, ANY the first RRset (RFC 8482).  *tpos as put_vip_srv. */
static size_t put_vip(const struct query_block *b, const struct hosts_svc *s,
		      const struct hosts_port *port, uint16_t qtype,
		      uint16_t owner, const uint8_t *target, size_t tl,
		      uint8_t *out, size_t n, size_t start, size_t r,
		      uint16_t *an, size_t *tpos)
{
	const struct hosts_entry *ips;
	size_t nips = hosts_svc_ips(s, &ips);

	*tpos = 0;
	if (!port && qtype != T_SRV && (qtype != T_ANY || nips))
		return put_hosts(b, qtype, ips, nips, owner, out, n, start, r,
				 an);
	if (qtype != T_SRV && qtype != T_ANY)
		return n;
	return put_vip_srv(b, s, port, owner, target, tl, out, n, start, r, an,
			   tpos);
}

/*
 * The service's own name (svc_depth 3) or one of its ports' names (5) of a
 * ClusterIP service that hosts.h answers, or the _<proto> name between them
 * (4, NODATA): the records of the type asked, and for SRV the service's
 * addresses as additional records when they fit.  Returns the response
 * length, 0 when the name is not such a name.
 */
static size_t answer_vip(const struct query_block *b,
			 const struct packet_query *q, uint16_t udp_max,
			 unsigned d, const struct zone_apex *apex, size_t alen,
			 uint8_t *out, size_t limit)
{
	const struct hosts_port *port;
	size_t skip, tpos;
	const struct hosts_svc *s = vip_lookup(b, q->lname, d, &port, &skip);

	if (!s)
		return 0;
	if (d == 4)
		return answer_negative(q, udp_max, 0, apex, alen, out, limit);
	size_t n = packet_begin(q, PACKET_FLAG_AA, 0, out, limit);
	if (!n)
		return 0;
	size_t r = room(q, n, limit), start = n;
	uint16_t an = 0, ar = 0;
	n = put_vip(b, s, port, q->qtype, 12, q->lname + skip,
		    q->qname_len - skip, out, n, start, r, &an, &tpos);
	if (!n)
		return truncated(q, udp_max, out, limit);
	if (!an)
		return answer_negative(q, udp_max, 0, apex, alen, out, limit);
	if (tpos) {
		/* the target's addresses, A then AAAA, all or none */
		const struct hosts_entry *ips;
		size_t nips = hosts_svc_ips(s, &ips), m = n;
		for (uint16_t t = T_A; m && t; t = t == T_A ? T_AAAA : 0)
			m = put_hosts(b, t, ips, nips, (uint16_t)tpos, out, m,
				      start, r, &ar);
		if (m)
			n = m;
		else
			ar = 0;
	}
	packet_set_counts(out, an, 0, ar);
	return finish(q, udp_max, out, n, limit);
}

static size_t answer_host(const struct query_block *b,
			  const struct packet_query *q, uint16_t udp_max,
			  unsigned d, const struct zone_apex *apex, size_t alen,
			  uint8_t *out, size_t limit)
{
	const struct hosts_entry *e;
	size_t m = host_lookup(b, q->lname, d, &e);
	if (!m)
		return 0;
	size_t n = packet_begin(q, PACKET_FLAG_AA, 0, out, limit);
	if (!n)
		return 0;
	uint16_t an = 0;
	n = put_hosts(b, q->qtype, e, m, 12, out, n, n, room(q, n, limit), &an);
	if (!n)
		return truncated(q, udp_max, out, limit);
	if (!an)
		return answer_negative(q, udp_max, 0, apex, alen, out, limit);
	packet_set_counts(out, an, 0, 0);
	return finish(q, udp_max, out, n, limit);
}

/*
 * A CNAME chain of the zone that ends at a name without a node (entry e of
 * node, ZONE_ENTRY_DANGLING): when that name is one answered beside the
 * zone (a ClusterIP service's, hosts.h), the chain and the records of the
 * type asked.  Returns the response length, 0 to answer the entry as it is
 * (NXDOMAIN).
 */
static size_t answer_chased_host(const struct query_block *b,
				 const struct packet_query *q, uint16_t udp_max,
				 const struct zone_node *node,
				 const struct zone_entry *e,
				 const struct zone_apex *apex, size_t alen,
				 uint8_t *out, size_t limit)
{
	size_t base = 12 + q->qname_len + 4, talen;
	const uint8_t *data = zone_node_data(node) + e->off;
	const uint8_t *t = data + (e->tgt - base);
	uint8_t l[DNAME_MAX];
	size_t tl = dname_len(t);

	dname_lower_copy(l, t, tl);
	const struct hosts_entry *first;
	const struct hosts_svc *s = NULL;
	const struct hosts_port *port = NULL;
	const struct zone_apex *ta =
	    zone_apex_of(kube_zone(b->kube), l, tl, &talen);
	unsigned d = ta ? svc_depth(ta, l, tl, talen) : 0;
	size_t skip = 0, tpos;
	/* an endpoint's name, else one of the service's own */
	size_t m = host_lookup(b, l, d, &first);
	if (!m && !(d && (s = vip_lookup(b, l, d, &port, &skip))))
		return 0;
	size_t n = packet_begin(q, PACKET_FLAG_AA, 0, out, limit);
	if (!n)
		return 0;
	size_t r = room(q, n, limit), start = n, soa = 0;
	if (e->len_noadd > r)
		return truncated(q, udp_max, out, limit);
	memcpy(out + n, data, e->len_noadd);
	n += e->len_noadd;
	uint16_t an = e->an;
	if (m)
		n = put_hosts(b, q->qtype, first, m, e->tgt, out, n, start, r,
			      &an);
	else if (d != 4) /* (the _<proto> name has no records) */
		n = put_vip(b, s, port, q->qtype, e->tgt, l + skip, tl - skip,
			    out, n, start, r, &an, &tpos);
	if (!n)
		return truncated(q, udp_max, out, limit);
	if (an == e->an) {
		/* the name exists, without that type: NODATA */
		zone_apex_soa(apex, &soa);
		if (n - start + soa > r)
			return truncated(q, udp_max, out, limit);
		n = put_soa(q, apex, alen, out, n);
	}
	packet_set_counts(out, an, soa ? 1 : 0, 0);
	return finish(q, udp_max, out, n, limit);
}

/*
 * The reverse name of a ClusterIP service's endpoint address: PTR to its
 * name under the primary zone.  Returns the response length, 0 when no
 * endpoint has that address.
 */
static size_t answer_host_ptr(const struct query_block *b,
			      const struct packet_query *q, uint16_t udp_max,
			      const struct zone_apex *apex, size_t alen,
			      uint8_t *out, size_t limit)
{
	uint8_t addr[16], target[255 + 64];
	size_t zl, sl;
	const uint8_t *z = kube_primary(b->kube, &zl);
	int fam = dname_reverse_addr(q->lname, q->qname_len, addr);
	const struct hosts_entry *e =
	    fam && z ? hosts_by_addr(kube_hosts(b->kube), fam, addr) : NULL;

	if (!e)
		return 0;
	const struct hosts_svc *s = hosts_entry_svc(e);
	const uint8_t *sn = hosts_svc_name(s, &sl);
	size_t tl = hosts_entry_label(s, e, target);
	if (tl + sl + zl > 255)
		return 0;
	memcpy(target + tl, sn, sl);
	memcpy(target + tl + sl, z, zl);
	tl += sl + zl;
	if (q->qtype != T_PTR && q->qtype != T_ANY)
		return answer_negative(q, udp_max, 0, apex, alen, out, limit);
	size_t n = packet_begin(q, PACKET_FLAG_AA, 0, out, limit);
	if (!n || 12 + tl > room(q, n, limit))
		return n ? truncated(q, udp_max, out, limit) : 0;
	n = packet_put_rr(out, n, 12, T_PTR, zone_ttl(kube_zone(b->kube)),
			  target, tl);
	packet_set_counts(out, 1, 0, 0);
	return finish(q, udp_max, out, n, limit);
}

/* ---- topology: CoreDNS's zonal names ---- */

/* The labels of zonal names, wire form. */
static const uint8_t L_ZONE[] = {5, '_', 'z', 'o', 'n', 'e'};
static const uint8_t L_PIN[] = {3, 'p', 'i', 'n'};
static const uint8_t L_PREFER[] = {6, 'p', 'r', 'e', 'f', 'e', 'r'};

/* <tz>.pin._zone.<svc>... (the directive at offset dl): what the prefer
 * name of that zone answers when it has a node (the zone has ready
 * endpoints; only prefer names are stored, pin answers the same), else
 * NODATA. */
static size_t answer_pin(const struct query_block *b,
			 const struct packet_query *q, uint16_t udp_max,
			 size_t dl, const struct zone_apex *apex, size_t alen,
			 uint8_t *out, size_t limit)
{
	size_t tail = dl + sizeof(L_PIN),
	       pl = q->qname_len + sizeof(L_PREFER) - sizeof(L_PIN);
	uint8_t name[DNAME_MAX];
	const struct zone_node *zn = NULL;

	if (pl <= DNAME_MAX) {
		memcpy(name, q->lname, dl);
		memcpy(name + dl, L_PREFER, sizeof(L_PREFER));
		memcpy(name + dl + sizeof(L_PREFER), q->lname + tail,
		       q->qname_len - tail);
		zn = zone_lookup(kube_zone(b->kube), name, pl);
	}
	const struct zone_entry *e = zn ? zone_node_find(zn, q->qtype) : NULL;
	if (!e)
		return answer_negative(q, udp_max, 0, apex, alen, out, limit);
	return answer_moved(q, udp_max, zn, e, (long)q->qname_len - (long)pl,
			    apex, alen, out, limit);
}

/*
 * <tz>.pin|prefer._zone.<svc>.<ns>.svc.<zone> of a headless service (its
 * marker <svc>._zone.<ns>.svc.<zone> exists) that has no node: pin
 * answers what prefer does when the zone has ready endpoints (only the
 * prefer names are stored, builder.h), else NODATA; prefer of a zone
 * without ready endpoints answers what the service name answers (every
 * ready endpoint; NODATA when it has none), as in CoreDNS.  Returns the
 * response length, 0 when the name is not such a name.
 */
static size_t answer_zonal(const struct query_block *b,
			   const struct packet_query *q, uint16_t udp_max,
			   const struct zone_apex *apex, size_t alen,
			   uint8_t *out, size_t limit)
{
	struct zone_index *zi = kube_zone(b->kube);
	unsigned above =
	    q->nlabels - dname_labels(q->lname + q->qname_len - alen);
	uint8_t mark[DNAME_MAX];

	/* <tz>... <directive> _zone <svc> <ns> svc: six labels at least */
	if (above < 6)
		return 0;
	int dl = label_at(q->lname, above - 5);
	int al = label_at(q->lname, above - 4);
	if (dl < 0 || al < 0 || memcmp(q->lname + al, L_ZONE, sizeof(L_ZONE)))
		return 0;
	bool is_pin = q->lname[dl] == L_PIN[0] &&
		      !memcmp(q->lname + dl, L_PIN, sizeof(L_PIN));
	if (!is_pin && (q->lname[dl] != L_PREFER[0] ||
			memcmp(q->lname + dl, L_PREFER, sizeof(L_PREFER))))
		return 0;
	/* the marker: <svc> _zone <ns> svc <zone> */
	size_t sl = (size_t)al + sizeof(L_ZONE), svl = q->lname[sl] + 1u;
	memcpy(mark, q->lname + sl, svl);
	memcpy(mark + svl, L_ZONE, sizeof(L_ZONE));
	memcpy(mark + svl + sizeof(L_ZONE), q->lname + sl + svl,
	       q->qname_len - sl - svl);
	if (!zone_lookup(zi, mark, q->qname_len - sl + sizeof(L_ZONE)))
		return 0;
	if (is_pin)
		return answer_pin(b, q, udp_max, (size_t)dl, apex, alen, out,
				  limit);
	const struct zone_node *svc =
	    zone_lookup(zi, q->lname + sl, q->qname_len - sl);
	const struct zone_entry *e = svc ? zone_node_find(svc, q->qtype) : NULL;
	if (!e)
		return answer_negative(q, udp_max, 0, apex, alen, out, limit);
	return answer_moved(q, udp_max, svc, e, (long)sl, apex, alen, out,
			    limit);
}

/* ---- topology: client-zone answers of headless services ---- */

/* A name the answer of which depends on the client under `topology`:
 * A, AAAA or SRV of <svc>.<ns>.svc.<zone> (checked by shape only; such
 * names are not cached). */
static bool topology_shape(const struct packet_query *q)
{
	int l2 = label_at(q->lname, 2);

	return (q->qtype == T_A || q->qtype == T_AAAA || q->qtype == T_SRV) &&
	       q->nlabels >= 4 && l2 >= 0 &&
	       !memcmp(q->lname + l2, svc_label, sizeof(svc_label));
}

/* A name the zonal names bring that is not served (NXDOMAIN): the
 * marker <svc>._zone.<ns>.svc.<zone> (and _zone.<ns>.svc.<zone> above
 * it), and, when only `topology` built them, the zonal names and the
 * names between them and the service (_zone four labels above the apex). */
static bool zonal_unserved(const struct query_block *b,
			   const struct packet_query *q, size_t alen)
{
	unsigned above =
	    q->nlabels - dname_labels(q->lname + q->qname_len - alen);
	int ml = above >= 3 ? label_at(q->lname, above - 3) : -1;
	int al =
	    b->zonal_hidden && above >= 4 ? label_at(q->lname, above - 4) : -1;

	return (ml >= 0 && !memcmp(q->lname + ml, L_ZONE, sizeof(L_ZONE))) ||
	       (al >= 0 && !memcmp(q->lname + al, L_ZONE, sizeof(L_ZONE)));
}

/* The peer's address: family 4 (IPv4, also mapped in IPv6) or 6, 0 for
 * neither or no peer. */
static int peer_addr(const struct sockaddr *peer, uint8_t *addr)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0,    0,
					   0, 0, 0, 0, 0xff, 0xff};

	if (!peer)
		return 0;
	if (peer->sa_family == AF_INET) {
		memcpy(addr, &((const struct sockaddr_in *)peer)->sin_addr, 4);
		return 4;
	}
	if (peer->sa_family != AF_INET6)
		return 0;
	const uint8_t *a =
	    ((const struct sockaddr_in6 *)peer)->sin6_addr.s6_addr;
	if (!memcmp(a, mapped, sizeof(mapped))) {
		memcpy(addr, a + 12, 4);
		return 4;
	}
	memcpy(addr, a, 16);
	return 6;
}

/* <tz>.prefer._zone.<name> in wire form into out (255 bytes) for zone
 * number id: the node whose answer is the zone's endpoints.  Returns its
 * length, 0 when the zone makes no valid name. */
static size_t topology_name(uint16_t id, const uint8_t *lname, size_t len,
			    uint8_t *out)
{
	size_t zl = 0;
	const uint8_t *zw = obj_zone_wire(id, &zl);
	size_t n = zl + sizeof(L_PREFER) + sizeof(L_ZONE) + len;

	if (!zw || n > DNAME_MAX)
		return 0;
	memcpy(out, zw, zl);
	memcpy(out + zl, L_PREFER, sizeof(L_PREFER));
	memcpy(out + zl + sizeof(L_PREFER), L_ZONE, sizeof(L_ZONE));
	memcpy(out + zl + sizeof(L_PREFER) + sizeof(L_ZONE), lname, len);
	return n;
}

/* The A or AAAA records of the zone's entry z first, then those of the
 * service's entry e that z has not (both come in the order the endpoints
 * have, z's a subsequence of e's); over TCP, the first of them that fit
 * when not all do.  Returns the response length, 0 when z is not such a
 * subsequence (the caller answers e as it is). */
static size_t answer_first(const struct packet_query *q, uint16_t udp_max,
			   const struct zone_node *zn,
			   const struct zone_entry *z,
			   const struct zone_node *node,
			   const struct zone_entry *e, uint8_t *out,
			   size_t limit)
{
	const uint8_t *zd = zone_node_data(zn) + z->off;
	const uint8_t *ed = zone_node_data(node) + e->off;
	size_t rr = 12 + (q->qtype == T_A ? 4 : 16);

	if (z->len_noadd != z->an * rr || e->len_noadd != e->an * rr ||
	    z->an > e->an || e->ns || e->ar)
		return 0;
	/* z's records, in order, among e's */
	size_t j = 0;
	for (size_t i = 0; i < e->an && j < z->an; i++)
		if (!memcmp(ed + i * rr, zd + j * rr, rr))
			j++;
	if (j != z->an)
		return 0;
	size_t n = packet_begin(q, PACKET_FLAG_AA, 0, out, limit);
	if (!n)
		return 0;
	size_t r = room(q, n, limit), an = e->an;
	if (e->len_noadd > r && limit < PACKET_MAX_TCP)
		return truncated(q, udp_max, out, limit);
	if (e->len_noadd > r) /* over TCP, as answer_entry: what fits */
		an = r / rr;
	if (an == 0)
		return truncated(q, udp_max, out, limit);
	size_t zn_an = z->an < an ? z->an : an;
	memcpy(out + n, zd, zn_an * rr);
	n += zn_an * rr;
	j = 0;
	for (size_t i = 0, k = zn_an; i < e->an && k < an; i++) {
		if (j < z->an && !memcmp(ed + i * rr, zd + j * rr, rr)) {
			j++;
			continue;
		}
		memcpy(out + n, ed + i * rr, rr);
		n += rr;
		k++;
	}
	packet_set_counts(out, (uint16_t)an, 0, 0);
	return finish(q, udp_max, out, n, limit);
}

/*
 * `topology`: the name of a headless service (node) asked by a client
 * whose address an endpoint with a zone has (clientzone.h), or else a
 * running pod's (podset.h, `pods verified`) on a node whose zone an
 * endpoint tells, when that zone has ready endpoints of the service (its prefer
 * name has a node): strict answers what the prefer name answers (the zone's
 * endpoints); without strict, A and AAAA answer the zone's endpoints first,
 * then the others, and SRV is not changed.  Returns the response length, 0 to
 * answer as without topology.
 */
static size_t answer_topology(const struct query_block *b,
			      const struct packet_query *q,
			      const struct sockaddr *peer,
			      const struct zone_node *node, uint16_t udp_max,
			      const struct zone_apex *apex, size_t alen,
			      uint8_t *out, size_t limit)
{
	const struct clientzone *cz = kube_clientzone(b->kube);
	unsigned above =
	    q->nlabels - dname_labels(q->lname + q->qname_len - alen);
	uint8_t addr[16], zname[DNAME_MAX];

	if (!cz || above != 3 || !topology_shape(q))
		return 0;
	int fam = peer_addr(peer, addr);
	uint16_t id = fam ? clientzone_find(cz, fam, addr) : 0;
	if (fam && !id) /* a pod (pods verified) on a node of known zone */
		id = clientzone_node_zone(
		    cz, podset_node(kube_pods(b->kube), fam, addr));
	size_t zl = id ? topology_name(id, q->lname, q->qname_len, zname) : 0;
	const struct zone_node *zn =
	    zl ? zone_lookup(kube_zone(b->kube), zname, zl) : NULL;
	const struct zone_entry *z = zn ? zone_node_find(zn, q->qtype) : NULL;
	if (!z || z->rcode)
		return 0; /* no ready endpoint there: everyone's answer */
	if (b->topology == KUBERNETES_TOPOLOGY_STRICT)
		return answer_moved(q, udp_max, zn, z,
				    (long)q->qname_len - (long)zl, apex, alen,
				    out, limit);
	if (q->qtype == T_SRV)
		return 0; /* an order means nothing to SRV clients */
	const struct zone_entry *e = zone_node_find(node, q->qtype);
	return e ? answer_first(q, udp_max, zn, z, node, e, out, limit) : 0;
}

static size_t error_rcode(const uint8_t *req, size_t len,
			  const struct packet_query *q, uint8_t rcode,
			  uint16_t udp_max, uint8_t *out, size_t limit)
{
	return packet_error(req, len, q, PACKET_OK, rcode, udp_max, out, limit);
}

/* What the kubernetes plugin leaves to the next plugins. */
enum next {
	NEXT_NONE = 0,	  /* answered */
	NEXT_OUTSIDE,	  /* not in its zones (or no kubernetes at all) */
	NEXT_FALLTHROUGH, /* fallthrough for a name it does not have */
	NEXT_EXTERNAL,	  /* an ExternalName CNAME out of the cluster */
};

/* The start of an ExternalName answer for forwarding: header, question and
 * the CNAME chain, no OPT (its end is the target to resolve upstream). */
static size_t external_prefix(const struct packet_query *q,
			      const struct zone_node *node,
			      const struct zone_entry *e, uint8_t *out,
			      size_t max)
{
	size_t n = packet_begin(q, PACKET_FLAG_AA, 0, out, max);

	if (!n || e->len > max - n || e->ns || e->ar)
		return 0;
	memcpy(out + n, zone_node_data(node) + e->off, e->len);
	packet_set_counts(out, e->an, 0, 0);
	return n + e->len;
}

/* Answer from zone index zi: the cluster zone, or with ext the external
 * zones (k8s_external), for the client peer (NULL: none known); *why
 * says why a SERVFAIL, *next what is left to the next plugins (nothing
 * written then, except the start of the answer for NEXT_EXTERNAL, whose
 * length is returned). */
static size_t resolve_in(const struct query_block *b, struct zone_index *zi,
			 bool ext, const uint8_t *req, size_t len,
			 const struct packet_query *q, uint16_t udp_max,
			 uint8_t *out, size_t limit, size_t max,
			 const char **why, enum next *next,
			 const struct sockaddr *peer)
{
	size_t alen, n;
	rcu_read_lock();
	const struct zone_apex *apex = zone_apex_of_labels(
	    zi, q->lname, q->qname_len, q->loff, q->nlabels, &alen);
	if (!apex) {
		rcu_read_unlock();
		*next = NEXT_OUTSIDE;
		return 0;
	}
	if (q->qclass != CLASS_IN) {
		rcu_read_unlock();
		return error_rcode(req, len, q, PACKET_RCODE_REFUSED, udp_max,
				   out, limit);
	}
	/* A ClusterIP service's name is hosts.h's, the names most asked. */
	unsigned d = ext ? 0 : svc_depth(apex, q->lname, q->qname_len, alen);
	if (d == 3 &&
	    (n = answer_vip(b, q, udp_max, d, apex, alen, out, limit))) {
		rcu_read_unlock();
		return n;
	}
	const struct zone_node *node =
	    !ext && (b->zonal || b->zonal_hidden) && zonal_unserved(b, q, alen)
		? NULL
		: zone_lookup(zi, q->lname, q->qname_len);
	if (node && !ext && b->topology && peer &&
	    (n = answer_topology(b, q, peer, node, udp_max, apex, alen, out,
				 limit))) {
		rcu_read_unlock();
		return n;
	}
	if (node) {
		const struct zone_entry *e = zone_node_find(node, q->qtype);
		if (e && (e->flags & ZONE_ENTRY_EXTERNAL) && b->fwd &&
		    (n = external_prefix(q, node, e, out, max))) {
			rcu_read_unlock();
			*next = NEXT_EXTERNAL;
			return n;
		}
		n = 0;
		if (e && (e->flags & ZONE_ENTRY_DANGLING) && !ext)
			n = answer_chased_host(b, q, udp_max, node, e, apex,
					       alen, out, limit);
		if (!n)
			n = e ? answer_entry(q, udp_max, node, e, apex, alen,
					     out, limit)
			      : answer_negative(q, udp_max, 0, apex, alen, out,
						limit);
		rcu_read_unlock();
		return n;
	}
	if (!ext &&
	    ((d > 3 &&
	      (n = answer_vip(b, q, udp_max, d, apex, alen, out, limit))) ||
	     (n = answer_host(b, q, udp_max, d, apex, alen, out, limit)) ||
	     (n = answer_host_ptr(b, q, udp_max, apex, alen, out, limit)) ||
	     (b->zonal &&
	      (n = answer_zonal(b, q, udp_max, apex, alen, out, limit))))) {
		rcu_read_unlock();
		return n;
	}
	if (!ext && b->pods != BUILDER_PODS_DISABLED &&
	    (n = answer_pod(b, q, udp_max, apex, alen, out, limit))) {
		rcu_read_unlock();
		return n;
	}
	rcu_read_unlock();

	const struct query_zones *ft = ext ? &b->ext_ft : &b->ft;
	if ((ext ? b->ext_fallthrough : b->fallthrough) &&
	    (ft->n == 0 || zones_under(ft, q->lname, q->qname_len))) {
		*next = NEXT_FALLTHROUGH;
		return 0;
	}
	if (!kube_synced(b->kube)) {
		*why =
		    ext ? "plugin/k8s_external: not synced with its source "
			  "yet"
			: "plugin/kubernetes: not synced with its source yet";
		return error_rcode(req, len, q, PACKET_RCODE_SERVFAIL, udp_max,
				   out, limit);
	}
	rcu_read_lock();
	n = answer_negative(q, udp_max, PACKET_RCODE_NXDOMAIN, apex, alen, out,
			    limit);
	rcu_read_unlock();
	return n;
}

/* Answer from the block's zones: the external ones first (k8s_external
 * comes before kubernetes in CoreDNS), a name they let fall through then
 * from the cluster zone; *why, *next and peer as for resolve_in. */
static size_t resolve(const struct query_block *b, const uint8_t *req,
		      size_t len, const struct packet_query *q,
		      uint16_t udp_max, uint8_t *out, size_t limit, size_t max,
		      const char **why, enum next *next,
		      const struct sockaddr *peer)
{
	if (q->qtype == T_AXFR || q->qtype == T_IXFR)
		return error_rcode(req, len, q, PACKET_RCODE_REFUSED, udp_max,
				   out, limit);
	if (!b->kube) {
		*next = NEXT_OUTSIDE;
		return 0;
	}
	if (b->external) {
		enum next x = NEXT_NONE;
		size_t n =
		    resolve_in(b, kube_external_zone(b->kube), true, req, len,
			       q, udp_max, out, limit, max, why, &x, NULL);
		if (x != NEXT_OUTSIDE && x != NEXT_FALLTHROUGH) {
			*next = x;
			return n;
		}
		if (x == NEXT_FALLTHROUGH) {
			n = resolve_in(b, kube_zone(b->kube), false, req, len,
				       q, udp_max, out, limit, max, why, next,
				       peer);
			if (*next == NEXT_OUTSIDE)
				*next = NEXT_FALLTHROUGH;
			return n;
		}
	}
	return resolve_in(b, kube_zone(b->kube), false, req, len, q, udp_max,
			  out, limit, max, why, next, peer);
}

static unsigned response_class(const uint8_t *resp, size_t n)
{
	if (n < 12)
		return LOG_CLASS_ERROR;
	unsigned rcode = resp[3] & 0x0f;
	if (rcode == PACKET_RCODE_NXDOMAIN)
		return LOG_CLASS_DENIAL;
	if (rcode != PACKET_RCODE_NOERROR)
		return LOG_CLASS_ERROR;
	return rd16(resp + 6) ? LOG_CLASS_SUCCESS : LOG_CLASS_DENIAL;
}

static void log_it(const struct query_block *b, const struct packet_query *q,
		   size_t reqlen, const uint8_t *resp, size_t n, bool tcp,
		   const struct sockaddr *peer, const struct timespec *t0)
{
	const struct log_conf *lg = b->conf->log;
	struct timespec t1;
	char name[1024];

	if (!(lg->classes & response_class(resp, n)))
		return;
	if (b->lognames.n && !zones_under(&b->lognames, q->lname, q->qname_len))
		return;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	packet_name_str(q->qname, name, sizeof(name));
	struct log_query lq = {
	    .peer = peer,
	    .tcp = tcp,
	    .id = q->id,
	    .qtype = q->qtype,
	    .qclass = q->qclass,
	    .qname = name,
	    .req_size = reqlen,
	    .do_bit = q->do_bit,
	    .bufsize = q->udp_size,
	    .resp = resp,
	    .resp_size = n,
	    .duration = (double)(t1.tv_sec - t0->tv_sec) +
			(double)(t1.tv_nsec - t0->tv_nsec) / 1e9,
	};
	log_query(lg->format ? lg->format : log_default_format, &lq);
}

/* ------------------------------------------------------------------ */
/* forwarded queries */

/* Who waits for the answer to a query that goes on after kubernetes. */
struct asker {
	size_t limit; /* the largest answer it takes */
	bool tcp;
	bool background; /* nobody: a refresh of the cache */
	const struct sockaddr *peer;
	socklen_t peerlen;
	const struct timespec *t0; /* NULL: not logged */
	struct worker_call *call;
	uint64_t mt0; /* metrics: when it came (ns); 0: not counted */
};

/* A client query waiting for its upstream answer. */
struct query_pending {
	const struct query_block *b;
	struct worker_defer *d; /* NULL: the answer goes nowhere */
	struct cache *cache;	/* NULL: the answer is not kept */
	bool background;	/* a cache refresh: no client, no log */
	struct packet_query q;	/* qname points at qname below */
	uint8_t qname[PACKET_MAX_NAME + 1];
	uint16_t udp_max;
	size_t limit; /* largest answer the client takes */
	bool tcp;
	struct sockaddr_storage peer;
	size_t reqlen;
	struct timespec t0;
	uint32_t msite; /* metrics: the query's site */
	uint64_t mt0;	/* metrics: when it came (ns); 0: not counted */
	size_t plen;	/* ExternalName: the answer so far (no OPT), else 0 */
	uint8_t prefix[];
};

/* metrics: count an answered query of site (n bytes in resp). */
static void count_query(uint32_t site, uint64_t t0, bool tcp,
			const struct sockaddr *peer,
			const struct packet_query *q, size_t reqlen,
			const uint8_t *resp, size_t n, enum metrics_plugin pl)
{
	if (!t0 || !n || n == WORKER_PENDING)
		return;
	metrics_dns(site, tcp, peer ? peer->sa_family : AF_INET, q->qtype,
		    q->do_bit, reqlen, resp[3] & 0x0f, pl, n,
		    metrics_now_ns() - t0);
}

static void log_why(const struct query_block *b, const struct packet_query *q,
		    const uint8_t *resp, size_t n, const char *why)
{
	char name[1024], tb[16];

	if (!why || !b->conf->errors)
		return;
	packet_name_str(q->qname, name, sizeof(name));
	log_error("plugin/errors: %u %s %s: %s",
		  n >= 12 ? (unsigned)(resp[3] & 0x0f) : 2u, name,
		  log_type_name(q->qtype, tb), why);
}

static void shuffle(uint8_t *resp, size_t n)
{
	static __thread uint64_t rnd;

	if (rnd == 0 && getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
		rnd = (uint64_t)(uintptr_t)&rnd;
	loadbalance_shuffle(resp, n, &rnd);
}

/* An error for a client whose request buffer is gone. */
static size_t pending_error(const struct query_pending *p, uint8_t rcode,
			    uint8_t *out, size_t limit)
{
	size_t n = packet_begin(&p->q, 0, rcode, out, limit);

	return n ? finish(&p->q, p->udp_max, out, n, limit) : 0;
}

/*
 * The upstream's answer ans (checked by the forwarder) for the client:
 * the client's ID, RD and question (its letter case), the records that fit
 * the client's transport in order (TC when some do not), the upstream's OPT
 * replaced by ours.  Records after an OPT are dropped with it.
 */
static size_t relay(const struct query_pending *p, const uint8_t *ans,
		    size_t len, uint8_t *out)
{
	size_t qend = 12 + p->q.qname_len + 4;
	size_t room = p->limit - (p->q.edns ? OPT_LEN : 0);
	unsigned cnt[3] = {rd16(ans + 6), rd16(ans + 8), rd16(ans + 10)};
	unsigned kept[3] = {0, 0, 0};
	size_t off = qend, end = qend;
	bool tc = false, stop = false, updo = false;

	for (int sec = 0; sec < 3 && !stop; sec++) {
		for (unsigned i = 0; i < cnt[sec] && !stop; i++) {
			size_t o = packet_skip_name(ans, len, off);
			if (o == 0 || len - o < 10)
				return pending_error(p, PACKET_RCODE_SERVFAIL,
						     out, p->limit);
			off = o + 10 + rd16(ans + o + 8);
			if (sec == 2 && rd16(ans + o) == 41) {
				stop = true; /* OPT */
				updo = (ans[o + 6] & 0x80) != 0;
			} else if (off > room) {
				tc = stop = true;
			} else {
				kept[sec]++;
				end = off;
			}
		}
	}
	if (qend > room)
		return pending_error(p, PACKET_RCODE_SERVFAIL, out, p->limit);
	memcpy(out, ans, end);
	memcpy(out + 12, p->qname, p->q.qname_len);
	wr16(out, p->q.id);
	uint16_t f = rd16(ans + 2) & ~(PACKET_FLAG_RD | 0x7800);
	f |= p->q.flags & (PACKET_FLAG_RD | 0x7800);
	if (tc)
		f |= PACKET_FLAG_TC;
	wr16(out + 2, f);
	packet_set_counts(out, (uint16_t)kept[0], (uint16_t)kept[1],
			  (uint16_t)kept[2]);
	return finish_relayed(&p->q, p->udp_max, updo, out, end, p->limit);
}

/* The target of the ExternalName answer start pre (n bytes): the rdata of
 * its last CNAME, an uncompressed name.  Returns its length or 0. */
static size_t external_target(const uint8_t *pre, size_t n, size_t qend,
			      const uint8_t **target)
{
	unsigned an = rd16(pre + 6);
	size_t off = qend, tlen = 0;

	for (unsigned i = 0; i < an; i++) {
		size_t o = packet_skip_name(pre, n, off);
		if (o == 0 || n - o < 10)
			return 0;
		size_t rdlen = rd16(pre + o + 8);
		if (n - o - 10 < rdlen)
			return 0;
		if (rd16(pre + o) == T_CNAME) {
			*target = pre + o + 10;
			tlen = rdlen;
		}
		off = o + 10 + rdlen;
	}
	return tlen;
}

/* Are the uncompressed names a and b the same, ignoring case? */
static bool same_name(const uint8_t *a, const uint8_t *b)
{
	uint8_t la[PACKET_MAX_NAME + 1], lb[PACKET_MAX_NAME + 1];
	size_t n = dname_len(a);

	if (n != dname_len(b) || n > sizeof(la))
		return false;
	dname_lower_copy(la, a, n);
	dname_lower_copy(lb, b, n);
	return memcmp(la, lb, n) == 0;
}

/*
 * Append rr at out+*n when it fits in room, names uncompressed except the
 * owner when it is the name at out+*chain (the end of the CNAME chain so
 * far, when chain is not NULL): a pointer to it, so the records of a name
 * look like ours (loadbalance can move them).  A CNAME's target becomes
 * the new end of the chain.
 */
static bool put_ldns_rr(ldns_buffer *lb, const ldns_rr *rr, uint8_t *out,
			size_t *n, size_t room, size_t *chain)
{
	ldns_buffer_clear(lb);
	if (ldns_rr2buffer_wire(lb, rr, LDNS_SECTION_ANSWER) != LDNS_STATUS_OK)
		return false;
	const uint8_t *w = ldns_buffer_begin(lb);
	size_t l = ldns_buffer_position(lb), olen = dname_len(w);
	bool ptr =
	    chain && *chain && *chain < 0x4000 && same_name(w, out + *chain);
	size_t need = ptr ? l - olen + 2 : l;
	if (olen + 10 > l || need > room - *n)
		return false;
	if (ptr) {
		wr16(out + *n, (uint16_t)(0xc000 | *chain));
		memcpy(out + *n + 2, w + olen, l - olen);
	} else {
		memcpy(out + *n, w, l);
	}
	if (chain && ldns_rr_get_type(rr) == LDNS_RR_TYPE_CNAME)
		*chain = *n + need - (l - olen - 10);
	*n += need;
	return true;
}

/*
 * An ExternalName answer of at most limit bytes: our CNAME chain
 * (p->prefix), then the upstream's answer for the target, and its SOA when
 * the target does not exist.  More than MAX_CNAMES CNAMEs in all: SERVFAIL.
 */
static size_t external_answer(const struct query_pending *p, const uint8_t *ans,
			      size_t len, uint8_t *out, size_t limit,
			      const char **why)
{
	ldns_pkt *pkt = NULL;
	ldns_buffer *lb = NULL;
	size_t room = limit - (p->q.edns ? OPT_LEN : 0);
	size_t n = p->plen, r = 0;
	unsigned an = rd16(p->prefix + 6), ns = 0, cnames = an;

	if (ldns_wire2pkt(&pkt, ans, len) != LDNS_STATUS_OK ||
	    !(lb = ldns_buffer_new(512))) {
		*why = "plugin/kubernetes: cannot read the upstream answer "
		       "for the ExternalName target";
		goto servfail;
	}
	uint8_t rcode = ldns_pkt_get_rcode(pkt);
	if (rcode != PACKET_RCODE_NOERROR && rcode != PACKET_RCODE_NXDOMAIN) {
		*why = "plugin/kubernetes: the upstream failed to resolve the "
		       "ExternalName target";
		goto servfail;
	}
	if (n > room)
		goto truncated;
	memcpy(out, p->prefix, n);
	const uint8_t *t = NULL;
	size_t chain =
	    external_target(p->prefix, p->plen, 12 + p->q.qname_len + 4, &t)
		? (size_t)(t - p->prefix)
		: 0;
	const ldns_rr_list *a = ldns_pkt_answer(pkt);
	for (size_t i = 0; i < ldns_rr_list_rr_count(a); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(a, i);
		if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_CNAME &&
		    ++cnames > MAX_CNAMES) {
			*why = "plugin/kubernetes: CNAME chain longer than 10";
			goto servfail;
		}
		if (!put_ldns_rr(lb, rr, out, &n, room, &chain))
			goto truncated;
		an++;
	}
	const ldns_rr_list *au = ldns_pkt_authority(pkt);
	size_t nau = ldns_rr_list_rr_count(a) == 0 ? ldns_rr_list_rr_count(au)
						   : 0; /* negative only */
	for (size_t i = 0; i < nau; i++) {
		const ldns_rr *rr = ldns_rr_list_rr(au, i);
		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_SOA)
			continue;
		if (!put_ldns_rr(lb, rr, out, &n, room, NULL))
			goto truncated;
		ns++;
	}
	out[3] = (uint8_t)((out[3] & 0xf0) | rcode);
	packet_set_counts(out, (uint16_t)an, (uint16_t)ns, 0);
	r = finish_relayed(&p->q, p->udp_max, ldns_pkt_edns_do(pkt), out, n,
			   limit);
	goto out;
truncated:
	r = truncated(&p->q, p->udp_max, out, limit);
	goto out;
servfail:
	r = pending_error(p, PACKET_RCODE_SERVFAIL, out, limit);
out:
	ldns_pkt_free(pkt);
	if (lb)
		ldns_buffer_free(lb);
	return r;
}

/*
 * A buffer for a whole answer (PACKET_MAX_TCP bytes), per worker thread:
 * the cache's refresh and the complete upstream answer kept in the cache.
 * Its users run one at a time, to the end, on their worker.
 */
static __thread uint8_t scratch[PACKET_MAX_TCP];

/* Did upstream answer the question (NOERROR or NXDOMAIN)?  What else it
 * says (SERVFAIL, REFUSED, ...) counts as a failure for serve_stale. */
static bool upstream_ok(const uint8_t *ans, size_t len)
{
	unsigned rcode = len >= 12 ? ans[3] & 0x0f : PACKET_RCODE_SERVFAIL;

	return rcode == PACKET_RCODE_NOERROR || rcode == PACKET_RCODE_NXDOMAIN;
}

/*
 * A forwarded answer through the block's cache (p->cache).  When upstream
 * failed (status < 0, or neither NOERROR nor NXDOMAIN) and the cache holds
 * an answer it may give (fresh, or expired under serve_stale), the client
 * gets that and the entry stays.  Otherwise the complete answer (for an
 * ExternalName: the whole composed answer) is kept first, then cut to the
 * client's size.  Without a client (p->background) only the cache changes.
 * Returns the client's answer in out, or 0 to answer as without a cache.
 */
static size_t upstream_cached(const struct query_pending *p, int status,
			      const uint8_t *ans, size_t len, uint8_t *out,
			      const char **why, bool *served_cache)
{
	uint64_t now = cache_now_ms();
	unsigned fl;
	size_t n;

	if (status < 0 || !upstream_ok(ans, len)) {
		n = p->background
			? cache_answer(p->cache, &p->q, p->udp_max, scratch,
				       sizeof(scratch), now,
				       CACHE_WANT_STALE | CACHE_PEEK, &fl)
			: cache_answer(p->cache, &p->q, p->udp_max, out,
				       p->limit, now, CACHE_WANT_STALE, &fl);
		if (n && !p->background)
			*served_cache = true; /* metrics */
		if (n || status < 0)
			return p->background ? 0 : n;
	}
	if (p->plen) {
		n = external_answer(p, ans, len, scratch, sizeof(scratch), why);
	} else {
		if (len > sizeof(scratch))
			return 0;
		memcpy(scratch, ans, len);
		n = len;
	}
	bool kept =
	    n && !*why && cache_insert(p->cache, &p->q, scratch, n, now) > 0;
	if (p->background || !n)
		return 0;
	if (!p->plen)
		return relay(p, scratch, n, out);
	if (n <= p->limit) {
		memcpy(out, scratch, n);
		return n;
	}
	size_t m = kept ? cache_answer(p->cache, &p->q, p->udp_max, out,
				       p->limit, now, CACHE_PEEK, &fl)
			: 0;
	return m ? m : external_answer(p, ans, len, out, p->limit, why);
}

/*
 * Where every forwarded query ends, on its worker: the upstream's answer
 * (status 0), or the forwarder's failure, becomes the client's answer,
 * kept in the block's cache when the query is in its scope.
 */
static void query_upstream_answer(void *arg, int status, const uint8_t *ans,
				  size_t len)
{
	struct query_pending *p = arg;
	const struct query_block *b = p->b;
	const char *why = NULL;
	uint8_t *out = NULL;
	size_t n = 0;
	bool from_cache = false;

	metrics_cur = p->msite;
	if (status == -ECANCELED)
		goto done;
	if (p->background) {
		if (p->cache)
			upstream_cached(p, status, ans, len, NULL, &why,
					&from_cache);
		goto done;
	}
	out = malloc(p->limit);
	if (!out)
		goto done;
	if (p->cache)
		n = upstream_cached(p, status, ans, len, out, &why,
				    &from_cache);
	if (n) {
		/* answered through the cache */
	} else if (status < 0) {
		why = "plugin/forward: no healthy proxies";
		n = pending_error(p, PACKET_RCODE_SERVFAIL, out, p->limit);
	} else if (p->plen) {
		n = external_answer(p, ans, len, out, p->limit, &why);
	} else {
		n = relay(p, ans, len, out);
	}
	if (b->loadbalance)
		shuffle(out, n);
	log_why(b, &p->q, out, n, why);
	if (b->conf->log && n)
		log_it(b, &p->q, p->reqlen, out, n, p->tcp,
		       (const struct sockaddr *)&p->peer, &p->t0);
	if (p->mt0) /* metrics */
		count_query(p->msite, p->mt0, p->tcp,
			    (const struct sockaddr *)&p->peer, &p->q, p->reqlen,
			    out, n,
			    from_cache		? METRICS_PLUGIN_CACHE
			    : p->plen && !why	? METRICS_PLUGIN_KUBERNETES
			    : status < 0 || why ? METRICS_PLUGIN_NONE
						: METRICS_PLUGIN_FORWARD);
done:
	worker_answer(p->d, out, n);
	free(out);
	free(p);
}

/* The block's cache when it keeps answers to q, else NULL. */
static struct cache *cache_of(const struct query_block *b,
			      const struct packet_query *q)
{
	if (!b->cache || q->qtype == T_AXFR || q->qtype == T_IXFR ||
	    !cache_scope(b->cache, q->lname, q->qname_len))
		return NULL;
	return b->cache;
}

/*
 * Hand the query to the block's forwarder.  For an ExternalName, resp
 * holds the answer so far (plen bytes) and its target is asked.  Returns
 * WORKER_PENDING, or an answer written into resp (REFUSED over
 * max_concurrent, SERVFAIL when the forwarder cannot take it).  For a
 * background asker the answer only goes to the cache.
 */
static size_t query_forward(const struct query_listener *l,
			    const struct query_block *b, const uint8_t *req,
			    size_t len, const struct packet_query *q,
			    uint8_t *resp, size_t plen, const struct asker *a,
			    const char **why)
{
	struct query_pending *p = malloc(sizeof(*p) + plen);
	struct forward_req r = {
	    .qname = q->qname,
	    .qname_len = q->qname_len,
	    .qtype = q->qtype,
	    .qclass = q->qclass,
	    .rd = (q->flags & PACKET_FLAG_RD) != 0,
	    .cd = (q->flags & PACKET_FLAG_CD) != 0,
	    .do_bit = q->do_bit,
	    .tcp = a->tcp,
	};
	int rc = -ENOMEM;

	if (!p)
		goto fail;
	p->b = b;
	p->d = NULL;
	p->cache = cache_of(b, q);
	p->background = a->background;
	p->q = *q;
	memcpy(p->qname, q->qname, q->qname_len);
	p->q.qname = p->qname;
	p->udp_max = l->udp_max;
	p->limit = a->limit;
	p->tcp = a->tcp;
	memset(&p->peer, 0, sizeof(p->peer));
	if (a->peer && a->peerlen <= sizeof(p->peer))
		memcpy(&p->peer, a->peer, a->peerlen);
	p->reqlen = len;
	if (a->t0)
		p->t0 = *a->t0;
	p->msite = metrics_cur;
	p->mt0 = a->background ? 0 : a->mt0;
	p->plen = plen;
	if (plen) {
		memcpy(p->prefix, resp, plen);
		r.qname_len = external_target(p->prefix, plen,
					      12 + q->qname_len + 4, &r.qname);
		r.qclass = CLASS_IN;
		r.rd = true;
		rc = -EINVAL;
		if (!r.qname_len)
			goto fail;
	}
	if (b->loop && loop_is_probe(b->loop, q))
		r.note_upstream = loop_upstream(b->loop);
	rc = forward_query(b->fwd, a->call, &r, query_upstream_answer, p);
	if (rc < 0)
		goto fail;
	/* The forwarder never answers before this returns. */
	if (!a->background)
		p->d = worker_defer(a->call);
	return WORKER_PENDING;
fail:
	free(p);
	if (rc == -EBUSY) {
		metrics_add(METRICS_G_FWD_REJECTS, 1);
		*why = "plugin/forward: concurrent queries exceeded maximum";
		return error_rcode(req, len, q, PACKET_RCODE_REFUSED,
				   l->udp_max, resp, a->limit);
	}
	*why = "plugin/forward: cannot forward the query";
	return error_rcode(req, len, q, PACKET_RCODE_SERVFAIL, l->udp_max, resp,
			   a->limit);
}

/* What the plugins after kubernetes make of the query. */
static size_t pass_on(const struct query_listener *l,
		      const struct query_block *b, const uint8_t *req,
		      size_t len, const struct packet_query *q, uint8_t *resp,
		      size_t n, const struct asker *a, enum next next,
		      const char **why)
{
	size_t limit = a->limit;

	if (next == NEXT_EXTERNAL) {
		const uint8_t *t = NULL;
		uint8_t lt[PACKET_MAX_NAME + 1];
		size_t tl = external_target(resp, n, 12 + q->qname_len + 4, &t);
		if (tl)
			dname_lower_copy(lt, t, tl);
		if (tl && forward_match(b->fwd, lt, tl))
			return query_forward(l, b, req, len, q, resp, n, a,
					     why);
		/* not for this forwarder: the CNAME alone */
		if (n + (q->edns ? OPT_LEN : 0) > limit)
			return truncated(q, l->udp_max, resp, limit);
		return finish(q, l->udp_max, resp, n, limit);
	}
	if (b->fwd && forward_match(b->fwd, q->lname, q->qname_len))
		return query_forward(l, b, req, len, q, resp, 0, a, why);
	if (next == NEXT_FALLTHROUGH || b->fwd) {
		*why = b->fwd ? "plugin/forward: no next plugin found"
			      : "plugin/kubernetes: no next plugin found";
		return error_rcode(req, len, q, PACKET_RCODE_SERVFAIL,
				   l->udp_max, resp, limit);
	}
	return error_rcode(req, len, q, PACKET_RCODE_REFUSED, l->udp_max, resp,
			   limit);
}

/*
 * An entry of the cache due for a refresh (prefetch, or served stale): ask
 * again, with nobody waiting.  The zone answers at once, in full; a name
 * that goes upstream is forwarded in the background and its answer kept
 * when it comes (query_upstream_answer).
 */
static void refresh(const struct query_listener *l, const struct query_block *b,
		    struct cache *c, const uint8_t *req, size_t len,
		    const struct packet_query *q, struct worker_call *call,
		    uint64_t now)
{
	const char *why = NULL;
	enum next next = NEXT_NONE;
	size_t n = resolve(b, req, len, q, l->udp_max, scratch, sizeof(scratch),
			   sizeof(scratch), &why, &next, NULL);

	if (next != NEXT_NONE) {
		struct asker bg = {
		    .limit = sizeof(scratch), .background = true, .call = call};
		n = pass_on(l, b, req, len, q, scratch, n, &bg, next, &why);
	}
	/* CoreDNS does not see the kubernetes plugin's SERVFAILs */
	if (n && n != WORKER_PENDING && !why)
		cache_insert(c, q, scratch, n, now);
}

/*
 * The block's cache c in front of the zone and the forwarder, as CoreDNS's
 * cache plugin before kubernetes and forward: a hit is answered from the
 * cache (and maybe refreshed); on a miss the zone answers in full (max
 * bytes), that is kept and cut to the client's size.  What the zone passes
 * on (*next) is kept by query_upstream_answer when upstream answers.
 */
static size_t resolve_cached(const struct query_listener *l,
			     const struct query_block *b, struct cache *c,
			     const uint8_t *req, size_t len,
			     const struct packet_query *q, uint8_t *out,
			     size_t max, const struct asker *a,
			     const char **why, enum next *next, bool *hit)
{
	uint16_t udp_max = l->udp_max;
	size_t limit = a->limit;
	unsigned fl;

	uint64_t now = cache_now_ms();
	size_t n = cache_answer(c, q, udp_max, out, limit, now, 0, &fl);
	metrics_cache_count(METRICS_C_REQUESTS);
	if (n) {
		*hit = true;
		if ((fl & (CACHE_REFRESH | CACHE_STALE)) == CACHE_REFRESH)
			metrics_cache_count(METRICS_C_PREFETCH);
		if (fl & CACHE_REFRESH)
			refresh(l, b, c, req, len, q, a->call, now);
		return n;
	}
	metrics_cache_count(METRICS_C_MISSES);
	n = resolve(b, req, len, q, udp_max, out, max, max, why, next, a->peer);
	if (!n || *why || *next != NEXT_NONE)
		return n;
	if (cache_insert(c, q, out, n, now) > 0 && n > limit) {
		size_t m = cache_answer(c, q, udp_max, out, limit, now,
					CACHE_PEEK, &fl);
		if (m)
			return m;
	}
	return n > limit ? resolve(b, req, len, q, udp_max, out, limit, max,
				   why, next, a->peer)
			 : n;
}

/*
 * A zone transfer asked of block b, which has a transfer directive: REFUSED
 * unless the name is an apex of the block's cluster zones that the
 * directive gives to peer; IXFR over UDP, or with the serial we have or a
 * newer one, gets our SOA alone (RFC 1995 section 2), an IXFR without an
 * SOA FORMERR; AXFR, and IXFR from an older serial, are deferred to the
 * control thread, which builds the whole zone (transfer.h).
 */
static size_t answer_xfr(const struct query_block *b, const uint8_t *req,
			 size_t len, const struct packet_query *q,
			 uint16_t udp_max, bool tcp,
			 const struct sockaddr *peer, struct worker_call *call,
			 uint8_t *out, size_t limit, const char **why)
{
	struct zone_index *zi = b->kube ? kube_zone(b->kube) : NULL;
	uint8_t fail[PACKET_HEADER + PACKET_MAX_NAME + 1 + 4 + OPT_LEN];
	size_t alen, n;

	if (!zi)
		return error_rcode(req, len, q, PACKET_RCODE_REFUSED, udp_max,
				   out, limit);
	rcu_read_lock();
	const struct zone_apex *apex =
	    zone_apex_of(zi, q->lname, q->qname_len, &alen);
	if (!apex || alen != q->qname_len || q->qclass != CLASS_IN ||
	    !transfer_allows(b->xfr, q->lname, q->qname_len, peer)) {
		rcu_read_unlock();
		return error_rcode(req, len, q, PACKET_RCODE_REFUSED, udp_max,
				   out, limit);
	}
	if (q->qtype == T_IXFR) {
		uint32_t serial;
		if (transfer_ixfr_serial(req, len, &serial) < 0) {
			rcu_read_unlock();
			return error_rcode(req, len, q, PACKET_RCODE_FORMERR,
					   udp_max, out, limit);
		}
		/* ours: the serial of the SOA published with the zone, the
		 * first of the 20 octets that end its RR */
		size_t sl;
		const uint8_t *soa = zone_apex_soa(apex, &sl);
		uint32_t ours = sl >= 22 ? (uint32_t)rd16(soa + sl - 20) << 16 |
					       rd16(soa + sl - 18)
					 : zone_serial(zi);
		if (!tcp || !transfer_serial_older(serial, ours)) {
			const struct zone_node *node =
			    zone_lookup(zi, q->lname, q->qname_len);
			const struct zone_entry *e =
			    node ? zone_node_find(node, T_SOA) : NULL;
			n = e ? answer_entry(q, udp_max, node, e, apex, alen,
					     out, limit)
			      : 0;
			rcu_read_unlock();
			return n;
		}
	}
	rcu_read_unlock();
	if (!kube_synced(b->kube)) {
		*why = "plugin/transfer: not synced with its source yet";
		return error_rcode(req, len, q, PACKET_RCODE_SERVFAIL, udp_max,
				   out, limit);
	}
	size_t fl = error_rcode(req, len, q, PACKET_RCODE_SERVFAIL, udp_max,
				fail, sizeof(fail));
	int rc = transfer_start(b->xfr, q->lname, q->qname_len, req,
				PACKET_HEADER + q->qname_len + 4,
				q->edns ? udp_max : 0, fail, fl, peer, call);
	if (rc == 0)
		return WORKER_PENDING;
	*why = rc == -EBUSY ? "plugin/transfer: too many transfers at once"
			    : "plugin/transfer: out of memory";
	memcpy(out, fail, fl <= limit ? fl : 0);
	return fl <= limit ? fl : 0;
}

static void report_loop(const struct query_block *b,
			const struct sockaddr *peer)
{
	char from[80], up[96] = "";
	int i = atomic_load(loop_upstream(b->loop));

	log_addr_str(peer, from, sizeof(from));
	if (b->fwd && i >= 0)
		snprintf(up, sizeof(up), " (forwarded to upstream %s)",
			 forward_upstream_name(b->fwd, i));
	log_error("Loop (%s -> %s) detected for zone \"%s\", see "
		  "https://coredns.io/plugins/loop#troubleshooting. Query: "
		  "\"%s\"%s",
		  from, b->listen, loop_zone(b->loop), loop_query(b->loop), up);
	if (b->on_loop)
		b->on_loop(b->on_loop_arg);
}

/* autopath, at the end of the file */
static size_t ap_walk(const struct query_listener *l,
		      const struct query_block *b, const struct packet_query *q,
		      size_t reqlen, uint8_t *resp, size_t n,
		      const struct asker *a, enum metrics_plugin *pl);

size_t query_handle(void *ctx, const uint8_t *req, size_t len, uint8_t *resp,
		    size_t max, bool tcp, const struct sockaddr *peer,
		    socklen_t peerlen, struct worker_call *call)
{
	const struct query_listener *l = ctx;
	struct packet_query q;
	enum packet_status st = packet_parse(req, len, &q);
	size_t limit = max;
	struct timespec t0;
	uint64_t mt0 = metrics_on() ? metrics_now_ns() : 0; /* metrics */

	if (!tcp) {
		size_t u = q.edns ? q.udp_size : PACKET_MIN_UDP;
		if (u > l->udp_max)
			u = l->udp_max;
		if (u < PACKET_MIN_UDP)
			u = PACKET_MIN_UDP;
		if (u < limit)
			limit = u;
	}
	if (st != PACKET_OK) {
		size_t e =
		    packet_error(req, len, &q, st, 0, l->udp_max, resp, limit);
		count_query(l->mdropped, mt0, tcp, peer, &q, len, resp, e,
			    METRICS_PLUGIN_NONE);
		return e;
	}
	const struct query_key *key = select_key(l, &q);
	if (!tcp && q.qtype == T_AXFR) {
		/* AXFR is not defined over UDP (RFC 5936 section 4.2) */
		size_t e = error_rcode(req, len, &q, PACKET_RCODE_NOTIMP,
				       l->udp_max, resp, limit);
		count_query(l->mdropped, mt0, tcp, peer, &q, len, resp, e,
			    METRICS_PLUGIN_NONE);
		return e;
	}
	if (!key) {
		size_t e = error_rcode(req, len, &q, PACKET_RCODE_REFUSED,
				       l->udp_max, resp, limit);
		count_query(l->mdropped, mt0, tcp, peer, &q, len, resp, e,
			    METRICS_PLUGIN_NONE);
		return e;
	}
	const struct query_block *b = key->block;
	metrics_cur = key->msite;
	if (b->loop) {
		enum loop_verdict v = loop_check(b->loop, &q);
		if (v == LOOP_FOUND)
			report_loop(b, peer);
		if (v != LOOP_NONE)
			return 0; /* break the circle */
	}
	if (b->conf->log)
		clock_gettime(CLOCK_MONOTONIC, &t0);
	const char *why = NULL;
	enum next next = NEXT_NONE;
	struct asker a = {
	    .limit = limit,
	    .tcp = tcp,
	    .peer = peer,
	    .peerlen = peerlen,
	    .t0 = b->conf->log ? &t0 : NULL,
	    .call = call,
	    .mt0 = mt0,
	};
	struct cache *c = b->cache && !(b->topology && topology_shape(&q))
			      ? cache_of(b, &q)
			      : NULL;
	bool hit = false;
	size_t n;
	enum metrics_plugin pl;
	if ((q.qtype == T_AXFR || q.qtype == T_IXFR) && b->xfr) {
		n = answer_xfr(b, req, len, &q, l->udp_max, tcp, peer, call,
			       resp, limit, &why);
		if (n == WORKER_PENDING)
			return n;
		pl = METRICS_PLUGIN_NONE;
	} else {
		n = c ? resolve_cached(l, b, c, req, len, &q, resp, max, &a,
				       &why, &next, &hit)
		      : resolve(b, req, len, &q, l->udp_max, resp, limit, max,
				&why, &next, peer);
		pl = hit	       ? METRICS_PLUGIN_CACHE
		     : b->kube && !why ? METRICS_PLUGIN_KUBERNETES
				       : METRICS_PLUGIN_NONE;
	}
	if (b->autopath && next == NEXT_NONE && n >= 12 &&
	    (resp[3] & 0x0f) == PACKET_RCODE_NXDOMAIN) {
		n = ap_walk(l, b, &q, len, resp, n, &a, &pl);
		if (n == WORKER_PENDING)
			return n;
	}
	if (next != NEXT_NONE) {
		n = pass_on(l, b, req, len, &q, resp, n, &a, next, &why);
		if (n == WORKER_PENDING)
			return n;
		pl = next == NEXT_EXTERNAL && !why ? METRICS_PLUGIN_KUBERNETES
						   : METRICS_PLUGIN_NONE;
	}
	if (b->loadbalance && n)
		shuffle(resp, n);
	log_why(b, &q, resp, n, why);
	if (b->conf->log && n)
		log_it(b, &q, len, resp, n, tcp, peer, &t0);
	count_query(key->msite, mt0, tcp, peer, &q, len, resp, n, pl);
	return n;
}

size_t query_handle_port(void *ctx, const uint8_t *req, size_t len,
			 uint8_t *resp, size_t max, bool tcp,
			 const struct sockaddr *peer, socklen_t peerlen,
			 struct worker_call *call)
{
	const struct query_port *port = ctx;
	size_t n;

	rcu_read_lock();
	n = query_handle(rcu_dereference(port->ql), req, len, resp, max, tcp,
			 peer, peerlen, call);
	rcu_read_unlock();
	return n;
}

/* ------------------------------------------------------------------ */
/* autopath: the server completes a pod's search path (autopath.h) */

static int ap_block_init(struct query_block *qb, const struct config_block *cb,
			 char *err, size_t errlen)
{
	const struct autopath_conf *ac = cb->autopath;

	/* without `pods verified` it does nothing (config warned) */
	if (!ac || !cb->kube || cb->kube->pods != KUBERNETES_PODS_VERIFIED)
		return 0;
	qb->autopath = malloc(sizeof(*qb->autopath));
	if (!qb->autopath) {
		snprintf(err, errlen,
			 "%s:%d - Error during setup: autopath: %s", ac->file,
			 ac->line, strerror(ENOMEM));
		return -ENOMEM;
	}
	/* as CoreDNS's kubernetes plugin: the server's own search domains */
	return autopath_init(qb->autopath, ac, "/etc/resolv.conf", err, errlen);
}

enum ap_state { AP_PENDING = 0, AP_NO, AP_YES };

struct ap_walk;

/* One candidate name of a walk. */
struct ap_cand {
	struct ap_walk *w;
	enum ap_state st;
	struct packet_query q; /* its query; qname points into req */
	uint8_t req[12 + PACKET_MAX_NAME + 1 + 4 + OPT_LEN];
	size_t reqlen;
	uint8_t *pre; /* an ExternalName of the zone: its chain, or NULL */
	size_t plen;
	uint8_t *ans; /* AP_YES: the answer under this name */
	size_t alen;
};

/* A query whose search path the server walks. */
struct ap_walk {
	const struct query_block *b;
	struct packet_query q; /* qname points at qname below */
	uint8_t qname[PACKET_MAX_NAME + 1];
	uint16_t udp_max;
	size_t limit;
	bool tcp;
	struct sockaddr_storage peer;
	size_t reqlen;
	struct timespec t0;
	uint32_t msite; /* metrics */
	uint64_t mt0;
	struct worker_defer *d; /* a candidate went upstream */
	bool answered;
	unsigned inflight; /* candidates upstream */
	uint8_t *plain;	   /* the answer without autopath (NXDOMAIN) */
	size_t plainlen;
	size_t ncand;
	struct ap_cand c[AUTOPATH_MAX_CAND];
};

static void ap_free(struct ap_walk *w)
{
	if (!w)
		return;
	for (size_t i = 0; i < AUTOPATH_MAX_CAND; i++) {
		free(w->c[i].pre);
		free(w->c[i].ans);
	}
	free(w->plain);
	free(w);
}

/*
 * Does q get the server's search path: BASE.<ns>.svc.<zone> in autopath's
 * zones, asked by a running pod of <ns>?  Returns the length of BASE with
 * *alen the zone's, or 0.
 */
static size_t ap_match(const struct query_block *b,
		       const struct packet_query *q,
		       const struct sockaddr *peer, size_t *alen)
{
	const struct podset *ps = b->kube ? kube_pods(b->kube) : NULL;
	uint8_t addr[16];
	size_t nsoff, blen = 0;
	int fam;

	if (q->qclass != CLASS_IN || q->qtype == T_AXFR || q->qtype == T_IXFR ||
	    !ps || !autopath_in_zones(b->autopath, q->lname, q->qname_len) ||
	    !(fam = peer_addr(peer, addr)))
		return 0;
	rcu_read_lock();
	if (zone_apex_of(kube_zone(b->kube), q->lname, q->qname_len, alen))
		blen = autopath_split(q->lname, q->qname_len, *alen, &nsoff);
	if (blen && !podset_has(ps, q->lname + nsoff, fam, addr))
		blen = 0;
	rcu_read_unlock();
	return blen;
}

static void ap_upstream(void *arg, int status, const uint8_t *ans, size_t len);

/* Send candidate c (the forward request r) upstream; AP_NO when the
 * forwarder does not take it. */
static void ap_forward(struct ap_cand *c, const struct forward_req *r,
		       struct worker_call *call)
{
	struct ap_walk *w = c->w;

	if (forward_query(w->b->fwd, call, r, ap_upstream, c) < 0)
		return;
	c->st = AP_PENDING;
	w->inflight++;
}

/*
 * Candidate c from the zone, the cache (buf: max bytes of room), or
 * upstream, as the plugins after autopath answer it: AP_YES with the
 * answer when the name exists, AP_NO for NXDOMAIN and failures (CoreDNS
 * goes on after both), AP_PENDING when it went upstream.
 */
static void ap_try(const struct query_listener *l, struct ap_cand *c,
		   const struct asker *a, uint8_t *buf, size_t max)
{
	const struct query_block *b = c->w->b;
	const char *why = NULL;
	enum next next = NEXT_NONE;
	unsigned fl;

	c->st = AP_NO;
	if (packet_parse(c->req, c->reqlen, &c->q) != PACKET_OK)
		return;
	/* topology: the candidate answers the client, as the name asked */
	struct cache *ca =
	    b->topology && topology_shape(&c->q) ? NULL : cache_of(b, &c->q);
	size_t n = ca ? cache_answer(ca, &c->q, l->udp_max, buf, max,
				     cache_now_ms(), 0, &fl)
		      : 0;
	if (!n)
		n = resolve(b, c->req, c->reqlen, &c->q, l->udp_max, buf, max,
			    max, &why, &next, a->peer);
	if (next == NEXT_NONE) {
		if (why || n < 12 || n > max ||
		    (buf[3] & 0x0f) != PACKET_RCODE_NOERROR ||
		    (buf[2] & 0x02) || !(c->ans = malloc(n)))
			return;
		memcpy(c->ans, buf, n);
		c->alen = n;
		c->st = AP_YES;
		return;
	}
	struct forward_req r = {
	    .qname = c->q.qname,
	    .qname_len = c->q.qname_len,
	    .qtype = c->q.qtype,
	    .qclass = c->q.qclass,
	    .rd = (c->q.flags & PACKET_FLAG_RD) != 0,
	    .cd = (c->q.flags & PACKET_FLAG_CD) != 0,
	    .do_bit = c->q.do_bit,
	    .tcp = a->tcp,
	};
	if (next == NEXT_EXTERNAL) {
		/* the chain of the zone, its target asked upstream */
		uint8_t lt[PACKET_MAX_NAME + 1];
		if (!(c->pre = malloc(n)))
			return;
		memcpy(c->pre, buf, n);
		c->plen = n;
		r.qname_len = external_target(
		    c->pre, n, 12 + c->q.qname_len + 4, &r.qname);
		if (r.qname_len)
			dname_lower_copy(lt, r.qname, r.qname_len);
		if (!r.qname_len || !forward_match(b->fwd, lt, r.qname_len)) {
			/* not for this forwarder: the chain alone */
			c->ans = c->pre;
			c->alen = n;
			c->pre = NULL;
			c->plen = 0;
			c->st = AP_YES;
			return;
		}
		r.qclass = CLASS_IN;
		r.rd = true;
		ap_forward(c, &r, a->call);
		return;
	}
	if (b->fwd && forward_match(b->fwd, c->q.lname, c->q.qname_len))
		ap_forward(c, &r, a->call);
}

/*
 * The answer of walk w once it is known, into out (limit bytes): the first
 * candidate that exists, as a CNAME from the asked name (*pl: autopath),
 * or the plain answer when none does.  WORKER_PENDING while a candidate
 * before the first found one is still upstream.
 */
static size_t ap_decide(struct ap_walk *w, uint8_t *out, size_t limit,
			enum metrics_plugin *pl)
{
	for (size_t i = 1; i < w->ncand; i++) {
		const struct ap_cand *c = &w->c[i];
		if (c->st == AP_PENDING)
			return WORKER_PENDING;
		if (c->st != AP_YES)
			continue;
		size_t n = autopath_compose(
		    &w->q, w->udp_max, c->q.qname, c->q.qname_len, c->pre,
		    c->plen, c->ans, c->alen, zone_ttl(kube_zone(w->b->kube)),
		    out, limit);
		if (n) {
			metrics_add(metrics_autopath_slot(w->msite), 1);
			*pl = METRICS_PLUGIN_AUTOPATH;
			return n;
		}
	}
	memcpy(out, w->plain, w->plainlen);
	return w->plainlen;
}

/* A walk with candidates upstream: answer when it is known. */
static void ap_answer_later(struct ap_walk *w)
{
	const struct query_block *b = w->b;
	enum metrics_plugin pl = METRICS_PLUGIN_KUBERNETES;
	uint8_t *out = malloc(w->limit);
	size_t n = 0;

	if (out && (n = ap_decide(w, out, w->limit, &pl)) == WORKER_PENDING) {
		free(out);
		return;
	}
	if (b->loadbalance && n)
		shuffle(out, n);
	if (b->conf->log && n)
		log_it(b, &w->q, w->reqlen, out, n, w->tcp,
		       (const struct sockaddr *)&w->peer, &w->t0);
	count_query(w->msite, w->mt0, w->tcp, (const struct sockaddr *)&w->peer,
		    &w->q, w->reqlen, out, n, pl);
	worker_answer(w->d, out, n);
	w->answered = true;
	free(out);
}

/* A candidate's upstream answer (forward_done), on the worker. */
static void ap_upstream(void *arg, int status, const uint8_t *ans, size_t len)
{
	struct ap_cand *c = arg;
	struct ap_walk *w = c->w;

	w->inflight--;
	metrics_cur = w->msite;
	c->st = AP_NO;
	if (status == 0 && len >= 12) {
		unsigned rc = ans[3] & 0x0f;
		struct cache *ca = c->pre ? NULL : cache_of(w->b, &c->q);
		if (ca && upstream_ok(ans, len) && len <= sizeof(scratch)) {
			memcpy(scratch, ans, len);
			cache_insert(ca, &c->q, scratch, len, cache_now_ms());
		}
		if (rc == PACKET_RCODE_NOERROR && !(ans[2] & 0x02) &&
		    (c->ans = malloc(len))) {
			memcpy(c->ans, ans, len);
			c->alen = len;
			c->st = AP_YES;
		}
	}
	if (status == -ECANCELED && !w->answered) {
		worker_answer(w->d, NULL, 0);
		w->answered = true;
	}
	if (!w->answered)
		ap_answer_later(w);
	if (w->answered && !w->inflight)
		ap_free(w);
}

/*
 * autopath for the query q, whose plain answer in resp (n bytes) is
 * NXDOMAIN: when q qualifies (ap_match), walk the candidates after the
 * asked name, the zone's and the cache's at once, those upstream in
 * parallel.  Returns the answer in resp (the plain one when q does not
 * qualify or no candidate exists), or WORKER_PENDING.  *pl: who answered.
 */
static size_t ap_walk(const struct query_listener *l,
		      const struct query_block *b, const struct packet_query *q,
		      size_t reqlen, uint8_t *resp, size_t n,
		      const struct asker *a, enum metrics_plugin *pl)
{
	size_t alen, blen = ap_match(b, q, a->peer, &alen);
	struct ap_walk *w;

	if (!blen)
		return n;
	w = calloc(1, sizeof(*w));
	if (!w || !(w->plain = malloc(n))) {
		ap_free(w);
		return n;
	}
	memcpy(w->plain, resp, n);
	w->plainlen = n;
	w->b = b;
	w->q = *q;
	memcpy(w->qname, q->qname, q->qname_len);
	w->q.qname = w->qname;
	w->udp_max = l->udp_max;
	w->limit = a->limit;
	w->tcp = a->tcp;
	if (a->peer && a->peerlen <= sizeof(w->peer))
		memcpy(&w->peer, a->peer, a->peerlen);
	w->reqlen = reqlen;
	if (a->t0)
		w->t0 = *a->t0;
	w->msite = metrics_cur;
	w->mt0 = a->mt0;
	w->ncand = autopath_ncand(b->autopath);
	for (size_t i = 1; i < w->ncand; i++) {
		struct ap_cand *c = &w->c[i];
		uint8_t cn[PACKET_MAX_NAME + 1];
		size_t cl = autopath_candidate(b->autopath, q->qname,
					       q->qname_len, blen, alen, i, cn);
		c->w = w;
		c->st = AP_NO;
		if (!cl || !(c->reqlen = autopath_request(q, cn, cl, c->req,
							  sizeof(c->req))))
			continue;
		/* scratch: nothing else uses it until the handler returns */
		ap_try(l, c, a, scratch, sizeof(scratch));
		if (c->st == AP_YES) {
			w->ncand = i + 1; /* the later ones do not matter */
			break;
		}
	}
	if (w->inflight) {
		/* The forwarder never answers before this returns. */
		if ((w->d = worker_defer(a->call)))
			return WORKER_PENDING;
		w->answered = true; /* nowhere to answer later: now */
		return n;
	}
	n = ap_decide(w, resp, a->limit, pl);
	ap_free(w);
	return n;
}
