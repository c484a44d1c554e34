/*
 * query.c -- the query path: packet in, answer out, no allocation and no
 * lock (the zone is read under RCU).
 */
#include "server/query.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <urcu.h>

#include "server/log.h"
#include "server/packet.h"
#include "zones/dname.h"
#include "zones/zone.h"

#define T_A 1
#define T_AAAA 28
#define T_AXFR 252
#define T_IXFR 251
#define T_ANY 255
#define CLASS_IN 1
#define OPT_LEN 11

static int zone_wire(const char *z, uint8_t *out, size_t *len)
{
	int n = dname_from_str(z, out);

	if (n < 0)
		return -EINVAL;
	dname_lower(out, (size_t)n);
	*len = (size_t)n;
	return 0;
}

int query_block_init(struct query_block *qb, const struct config_block *cb,
		     struct kube *kube, char *err, size_t errlen)
{
	memset(qb, 0, sizeof(*qb));
	qb->conf = cb;
	qb->kube = kube;
	if (cb->kube) {
		const struct config_kube *k = cb->kube;
		qb->pods = (enum builder_pods)k->pods;
		qb->fallthrough = k->fallthrough;
		for (size_t i = 0; i < k->nfallthrough_zones; i++) {
			if (qb->nft == QUERY_MAX_ZONES ||
			    zone_wire(k->fallthrough_zones[i], qb->ft[qb->nft],
				      &qb->ftlen[qb->nft]) < 0)
				goto bad;
			qb->nft++;
		}
	}
	if (cb->cache && !(qb->cache = cache_new(&cb->cache->conf))) {
		snprintf(err, errlen, "%s:%d - Error during setup: cache: %s",
			 cb->cache->file, cb->cache->line, strerror(ENOMEM));
		return -ENOMEM;
	}
	if (cb->log) {
		for (size_t i = 0; i < cb->log->nnames; i++) {
			if (qb->nlognames == QUERY_MAX_ZONES ||
			    zone_wire(cb->log->names[i],
				      qb->lognames[qb->nlognames],
				      &qb->loglen[qb->nlognames]) < 0)
				goto bad;
			qb->nlognames++;
		}
	}
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
}

static bool under_any(const uint8_t *name, size_t len, const uint8_t (*z)[256],
		      const size_t *zl, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (dname_suffix_at(name, len, z[i], zl[i]) >= 0)
			return true;
	return false;
}

static const struct query_block *select_block(const struct query_listener *l,
					      const struct packet_query *q)
{
	const struct query_key *best = NULL;

	for (size_t i = 0; i < l->nkeys; i++) {
		const struct query_key *k = &l->keys[i];
		if ((!best || k->len > best->len) &&
		    dname_suffix_at(q->lname, q->qname_len, k->zone, k->len) >=
			0)
			best = k;
	}
	return best ? best->block : NULL;
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

static size_t finish(const struct packet_query *q, uint16_t udp_max,
		     uint8_t *out, size_t n, size_t limit)
{
	if (q->edns) {
		size_t m = packet_put_opt(q, udp_max, 0, out, n, limit);
		if (m)
			n = m;
	}
	return n;
}

/* A truncated response: header with TC and the question only. */
static size_t truncated(const struct packet_query *q, uint16_t udp_max,
			uint8_t *out, size_t limit)
{
	size_t n =
	    packet_begin(q, PACKET_FLAG_AA | PACKET_FLAG_TC, 0, out, limit);

	return n ? finish(q, udp_max, out, n, limit) : 0;
}

static size_t answer_entry(const struct packet_query *q, uint16_t udp_max,
			   const struct zone_node *node,
			   const struct zone_entry *e,
			   const struct zone_apex *apex, size_t alen,
			   uint8_t *out, size_t limit)
{
	size_t n = packet_begin(q, PACKET_FLAG_AA, e->rcode, out, limit);
	size_t soa = 0;

	if (!n)
		return 0;
	if (e->flags & ZONE_ENTRY_SOA)
		zone_apex_soa(apex, &soa);
	size_t r = room(q, n, limit);
	const uint8_t *data = zone_node_data(node) + e->off;
	uint16_t ar = e->ar;
	size_t len = e->len;
	if (len + soa > r) {
		len = e->len_noadd;
		ar = 0;
		if (len + soa > r)
			return truncated(q, udp_max, out, limit);
	}
	memcpy(out + n, data, len);
	n += len;
	if (soa)
		n = put_soa(q, apex, alen, out, n);
	packet_set_counts(out, e->an, (uint16_t)(e->ns + (soa ? 1 : 0)), ar);
	return finish(q, udp_max, out, n, limit);
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
 * `pods insecure`: <a-b-c-d>.<ns>.pod.<zone> answers the address of its
 * name when namespace <ns> exists and is exposed.  Returns the response
 * length, or 0 when the name is not such a name (NXDOMAIN).
 */
static size_t answer_insecure_pod(const struct query_block *b,
				  const struct packet_query *q,
				  uint16_t udp_max,
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
	if (!fam)
		return 0;
	uint16_t want = fam == 4 ? T_A : T_AAAA;
	if (q->qtype != want && q->qtype != T_ANY)
		return answer_negative(q, udp_max, 0, apex, alen, out, limit);
	size_t n = packet_begin(q, PACKET_FLAG_AA, 0, out, limit);
	size_t rdlen = fam == 4 ? 4 : 16;
	if (!n || 12 + rdlen > room(q, n, limit))
		return n ? truncated(q, udp_max, out, limit) : 0;
	uint8_t *p = out + n;
	wr16(p, 0xc00c);
	wr16(p + 2, want);
	wr16(p + 4, CLASS_IN);
	uint32_t ttl = zone_ttl(kube_zone(b->kube));
	p[6] = (uint8_t)(ttl >> 24);
	p[7] = (uint8_t)(ttl >> 16);
	p[8] = (uint8_t)(ttl >> 8);
	p[9] = (uint8_t)ttl;
	wr16(p + 10, (uint16_t)rdlen);
	memcpy(p + 12, addr, rdlen);
	n += 12 + rdlen;
	packet_set_counts(out, 1, 0, 0);
	return finish(q, udp_max, out, n, limit);
}

static size_t error_rcode(const uint8_t *req, size_t len,
			  const struct packet_query *q, uint8_t rcode,
			  uint16_t udp_max, uint8_t *out, size_t limit)
{
	return packet_error(req, len, q, PACKET_OK, rcode, udp_max, out, limit);
}

/* Answer from the block's cluster zone; *why says why a SERVFAIL. */
static size_t resolve(const struct query_block *b, const uint8_t *req,
		      size_t len, const struct packet_query *q,
		      uint16_t udp_max, uint8_t *out, size_t limit,
		      const char **why)
{
	if (q->qclass != CLASS_IN || !b->kube || q->qtype == T_AXFR ||
	    q->qtype == T_IXFR)
		return error_rcode(req, len, q, PACKET_RCODE_REFUSED, udp_max,
				   out, limit);

	struct zone_index *zi = kube_zone(b->kube);
	size_t alen, n;
	rcu_read_lock();
	const struct zone_apex *apex =
	    zone_apex_of(zi, q->lname, q->qname_len, &alen);
	if (!apex) {
		rcu_read_unlock();
		return error_rcode(req, len, q, PACKET_RCODE_REFUSED, udp_max,
				   out, limit);
	}
	const struct zone_node *node = zone_lookup(zi, q->lname, q->qname_len);
	if (node) {
		const struct zone_entry *e = zone_node_find(node, q->qtype);
		n = e ? answer_entry(q, udp_max, node, e, apex, alen, out,
				     limit)
		      : answer_negative(q, udp_max, 0, apex, alen, out, limit);
		rcu_read_unlock();
		return n;
	}
	if (b->pods == BUILDER_PODS_INSECURE &&
	    (n = answer_insecure_pod(b, q, udp_max, apex, alen, out, limit))) {
		rcu_read_unlock();
		return n;
	}
	rcu_read_unlock();

	if (b->fallthrough &&
	    (b->nft == 0 ||
	     under_any(q->lname, q->qname_len, b->ft, b->ftlen, b->nft))) {
		*why = "plugin/kubernetes: no next plugin found";
		return error_rcode(req, len, q, PACKET_RCODE_SERVFAIL, udp_max,
				   out, limit);
	}
	if (!kube_synced(b->kube)) {
		*why = "plugin/kubernetes: not synced with its source yet";
		return error_rcode(req, len, q, PACKET_RCODE_SERVFAIL, udp_max,
				   out, limit);
	}
	rcu_read_lock();
	n = answer_negative(q, udp_max, PACKET_RCODE_NXDOMAIN, apex, alen, out,
			    limit);
	rcu_read_unlock();
	return n;
}

/*
 * An entry of the cache due for a refresh (prefetch, or served stale): ask
 * the zone again, as for TCP so nothing is cut, and keep its answer.
 */
static void refresh(const struct query_block *b, const uint8_t *req, size_t len,
		    const struct packet_query *q, uint16_t udp_max,
		    uint64_t now)
{
	static __thread uint8_t buf[PACKET_MAX_TCP];
	const char *why = NULL;
	size_t n = resolve(b, req, len, q, udp_max, buf, sizeof(buf), &why);

	/* CoreDNS does not see the kubernetes plugin's SERVFAILs */
	if (n && !why)
		cache_insert(b->cache, q, buf, n, now);
}

/*
 * resolve() behind the block's cache, as CoreDNS's cache plugin in front of
 * kubernetes: a hit is answered from the cache; a miss is answered by the
 * zone in full (max bytes), kept, and cut to the client's limit.
 */
static size_t resolve_cached(const struct query_block *b, const uint8_t *req,
			     size_t len, const struct packet_query *q,
			     uint16_t udp_max, uint8_t *out, size_t max,
			     size_t limit, const char **why)
{
	struct cache *c = b->cache;
	unsigned fl;

	if (q->qclass != CLASS_IN || !b->kube || q->qtype == T_AXFR ||
	    q->qtype == T_IXFR || !cache_scope(c, q->lname, q->qname_len))
		return resolve(b, req, len, q, udp_max, out, limit, why);
	uint64_t now = cache_now_ms();
	size_t n = cache_answer(c, q, udp_max, out, limit, now, 0, &fl);
	if (n) {
		if (fl & CACHE_REFRESH)
			refresh(b, req, len, q, udp_max, now);
		return n;
	}
	n = resolve(b, req, len, q, udp_max, out, max, why);
	if (!n || *why)
		return n;
	if (cache_insert(c, q, out, n, now) > 0 && n > limit) {
		size_t m = cache_answer(c, q, udp_max, out, limit, now,
					CACHE_PEEK, &fl);
		if (m)
			return m;
	}
	return n > limit ? resolve(b, req, len, q, udp_max, out, limit, why)
			 : n;
}

static unsigned response_class(const uint8_t *resp, size_t n)
{
	if (n < 12)
		return CONFIG_LOG_ERROR;
	unsigned rcode = resp[3] & 0x0f;
	if (rcode == PACKET_RCODE_NXDOMAIN)
		return CONFIG_LOG_DENIAL;
	if (rcode != PACKET_RCODE_NOERROR)
		return CONFIG_LOG_ERROR;
	return rd16(resp + 6) ? CONFIG_LOG_SUCCESS : CONFIG_LOG_DENIAL;
}

static void log_it(const struct query_block *b, const struct packet_query *q,
		   size_t reqlen, const uint8_t *resp, size_t n, bool tcp,
		   const struct sockaddr *peer, const struct timespec *t0)
{
	const struct config_log *lg = b->conf->log;
	struct timespec t1;
	char name[1024];

	if (!(lg->classes & response_class(resp, n)))
		return;
	if (b->nlognames && !under_any(q->lname, q->qname_len, b->lognames,
				       b->loglen, b->nlognames))
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

size_t query_handle(void *ctx, const uint8_t *req, size_t len, uint8_t *resp,
		    size_t max, bool tcp, const struct sockaddr *peer,
		    socklen_t peerlen)
{
	const struct query_listener *l = ctx;
	struct packet_query q;
	enum packet_status st = packet_parse(req, len, &q);
	size_t limit = max;
	struct timespec t0;

	if (!tcp) {
		size_t u = q.edns ? q.udp_size : PACKET_MIN_UDP;
		if (u > l->udp_max)
			u = l->udp_max;
		if (u < PACKET_MIN_UDP)
			u = PACKET_MIN_UDP;
		if (u < limit)
			limit = u;
	}
	if (st != PACKET_OK)
		return packet_error(req, len, &q, st, 0, l->udp_max, resp,
				    limit);
	const struct query_block *b = select_block(l, &q);
	if (!b)
		return error_rcode(req, len, &q, PACKET_RCODE_REFUSED,
				   l->udp_max, resp, limit);
	if (b->conf->log)
		clock_gettime(CLOCK_MONOTONIC, &t0);
	const char *why = NULL;
	size_t n =
	    b->cache ? resolve_cached(b, req, len, &q, l->udp_max, resp, max,
				      limit, &why)
		     : resolve(b, req, len, &q, l->udp_max, resp, limit, &why);
	if (why && b->conf->errors) {
		char name[1024], tb[16];
		packet_name_str(q.qname, name, sizeof(name));
		log_error("plugin/errors: 2 %s %s: %s", name,
			  log_type_name(q.qtype, tb), why);
	}
	if (b->conf->log && n)
		log_it(b, &q, len, resp, n, tcp, peer, &t0);
	return n;
}
