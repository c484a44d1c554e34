/*
 * objects.c -- freeing the Kubernetes objects, selector matching and
 * address text conversion.
 */
#include "zones/objects.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "zones/dname.h"

static void free_labels(struct obj_label *l, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(l[i].key);
		free(l[i].value);
	}
	free(l);
}

static void free_ports(struct obj_port *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(p[i].name);
		free(p[i].target_name);
	}
	free(p);
}

void obj_service_free(struct obj_service *s)
{
	if (!s)
		return;
	if (s->packed) {
		free(s);
		return;
	}
	free(s->ns);
	free(s->name);
	free(s->ips);
	free(s->external_name);
	free(s->ext_ips);
	free(s->lb_hostname);
	free_ports(s->ports, s->nports);
	free_labels(s->selector, s->nselector);
	free(s);
}

void obj_import_free(struct obj_import *s)
{
	if (!s)
		return;
	free(s->ns);
	free(s->name);
	free(s->ips);
	free_ports(s->ports, s->nports);
	free(s);
}

void obj_slice_free(struct obj_slice *s)
{
	if (!s)
		return;
	if (s->packed) {
		free(s);
		return;
	}
	free(s->ns);
	free(s->name);
	free(s->service);
	free(s->cluster);
	for (size_t i = 0; i < s->neps; i++) {
		free(s->eps[i].addrs);
		free(s->eps[i].hostname);
		free(s->eps[i].pod_name);
	}
	free(s->eps);
	free_ports(s->ports, s->nports);
	free(s);
}

void obj_namespace_free(struct obj_namespace *n)
{
	if (!n)
		return;
	free(n->name);
	free(n);
}

void obj_service_trim(struct obj_service *s)
{
	free_labels(s->selector, s->nselector);
	s->selector = NULL;
	s->nselector = 0;
	for (size_t i = 0; i < s->nports; i++) {
		free(s->ports[i].target_name);
		s->ports[i].target_name = NULL;
	}
}

void obj_pod_trim(struct obj_pod *p)
{
	free_labels(p->labels, p->nlabels);
	free_ports(p->ports, p->nports);
	free(p->hostname);
	free(p->subdomain);
	p->labels = NULL;
	p->nlabels = 0;
	p->ports = NULL;
	p->nports = 0;
	p->hostname = p->subdomain = NULL;
}

void obj_slice_trim(struct obj_slice *s, bool keep_pod_names)
{
	if (keep_pod_names)
		return;
	for (size_t i = 0; i < s->neps; i++) {
		free(s->eps[i].pod_name);
		s->eps[i].pod_name = NULL;
	}
}

/* Strings of a slice being packed: measured, then copied after the rest. */
static size_t str_size(const char *p)
{
	return p ? strlen(p) + 1 : 0;
}

static char *str_put(char **at, const char *p)
{
	if (!p)
		return NULL;
	size_t n = strlen(p) + 1;
	char *d = memcpy(*at, p, n);
	*at += n;
	return d;
}

/* Bytes the ports' strings take, and the ports copied with their strings
 * placed at *at. */
static size_t ports_strs(const struct obj_port *p, size_t n)
{
	size_t strs = 0;

	for (size_t i = 0; i < n; i++)
		strs += str_size(p[i].name) + str_size(p[i].target_name);
	return strs;
}

static void ports_put(struct obj_port *dst, const struct obj_port *src,
		      size_t n, char **at)
{
	for (size_t i = 0; i < n; i++) {
		dst[i] = src[i];
		dst[i].name = str_put(at, src[i].name);
		dst[i].target_name = str_put(at, src[i].target_name);
	}
}

struct obj_service *obj_service_pack(struct obj_service *s)
{
	size_t strs = str_size(s->ns) + str_size(s->name) +
		      str_size(s->external_name) + str_size(s->lb_hostname);

	if (s->packed || s->nselector)
		return s;
	strs += ports_strs(s->ports, s->nports);
	size_t size = sizeof(*s) + s->nports * sizeof(struct obj_port) +
		      (s->nips + s->next_ips) * sizeof(struct obj_addr) + strs;
	struct obj_service *p = malloc(size);
	if (!p)
		return s;
	*p = *s;
	p->packed = true;
	p->selector = NULL;
	struct obj_port *ports = (struct obj_port *)(p + 1);
	p->ports = s->nports ? ports : NULL;
	struct obj_addr *ips = (struct obj_addr *)(ports + s->nports);
	p->ips = s->nips ? ips : NULL;
	if (s->nips)
		memcpy(ips, s->ips, s->nips * sizeof(*ips));
	struct obj_addr *ext = ips + s->nips;
	p->ext_ips = s->next_ips ? ext : NULL;
	if (s->next_ips)
		memcpy(ext, s->ext_ips, s->next_ips * sizeof(*ext));
	char *at = (char *)(ext + s->next_ips);
	p->ns = str_put(&at, s->ns);
	p->name = str_put(&at, s->name);
	p->external_name = str_put(&at, s->external_name);
	p->lb_hostname = str_put(&at, s->lb_hostname);
	ports_put(ports, s->ports, s->nports, &at);
	obj_service_free(s);
	return p;
}

/* Endpoint flags in the packed form. */
enum { EP_READY = 1, EP_HOST = 2, EP_POD = 4, EP_ZONE = 8, EP_NODE = 16 };

static size_t ep_packed_size(const struct obj_endpoint *e)
{
	size_t n = 2, na = e->naddrs > 255 ? 255 : e->naddrs;

	if (e->zone)
		n += 2;
	if (e->node)
		n += 4;

	for (size_t i = 0; i < na; i++)
		n += 1 + (e->addrs[i].family == 4 ? 4 : 16);
	if (e->hostname)
		n += 2 + strlen(e->hostname);
	if (e->pod_name)
		n += 2 + strlen(e->pod_name);
	return n;
}

static uint8_t *ep_put_str(uint8_t *o, const char *str)
{
	size_t n = strlen(str);

	if (n > 0xffff)
		n = 0xffff;
	*o++ = (uint8_t)(n >> 8);
	*o++ = (uint8_t)n;
	memcpy(o, str, n);
	return o + n;
}

static uint8_t *ep_pack(uint8_t *o, const struct obj_endpoint *e)
{
	size_t na = e->naddrs > 255 ? 255 : e->naddrs;

	*o++ =
	    (uint8_t)((e->ready ? EP_READY : 0) | (e->hostname ? EP_HOST : 0) |
		      (e->pod_name ? EP_POD : 0) | (e->zone ? EP_ZONE : 0) |
		      (e->node ? EP_NODE : 0));
	*o++ = (uint8_t)na;
	if (e->zone) {
		*o++ = (uint8_t)(e->zone >> 8);
		*o++ = (uint8_t)e->zone;
	}
	if (e->node) {
		*o++ = (uint8_t)(e->node >> 24);
		*o++ = (uint8_t)(e->node >> 16);
		*o++ = (uint8_t)(e->node >> 8);
		*o++ = (uint8_t)e->node;
	}
	for (size_t i = 0; i < na; i++) {
		const struct obj_addr *a = &e->addrs[i];
		size_t al = a->family == 4 ? 4 : 16;
		*o++ = a->family;
		memcpy(o, a->a, al);
		o += al;
	}
	if (e->hostname)
		o = ep_put_str(o, e->hostname);
	if (e->pod_name)
		o = ep_put_str(o, e->pod_name);
	return o;
}

struct obj_slice *obj_slice_pack(struct obj_slice *s)
{
	size_t eplen = 0, strs = str_size(s->ns) + str_size(s->name) +
				 str_size(s->service) + str_size(s->cluster);

	if (s->packed)
		return s;
	for (size_t i = 0; i < s->neps; i++)
		eplen += ep_packed_size(&s->eps[i]);
	strs += ports_strs(s->ports, s->nports);
	size_t size =
	    sizeof(*s) + s->nports * sizeof(struct obj_port) + eplen + strs;
	struct obj_slice *p = malloc(size);
	if (!p)
		return s;
	*p = *s;
	p->packed = true;
	p->eps = NULL;
	struct obj_port *ports = (struct obj_port *)(p + 1);
	p->ports = s->nports ? ports : NULL;
	uint8_t *ep = (uint8_t *)(ports + s->nports);
	p->epdata = ep;
	p->eplen = eplen;
	for (size_t i = 0; i < s->neps; i++)
		ep = ep_pack(ep, &s->eps[i]);
	char *at = (char *)ep;
	p->ns = str_put(&at, s->ns);
	p->name = str_put(&at, s->name);
	p->service = str_put(&at, s->service);
	p->cluster = str_put(&at, s->cluster);
	ports_put(ports, s->ports, s->nports, &at);
	obj_slice_free(s);
	return p;
}

static char *ep_get_str(const uint8_t **p)
{
	size_t n = (size_t)(*p)[0] << 8 | (*p)[1];
	char *str = malloc(n + 1);

	if (str) {
		memcpy(str, *p + 2, n);
		str[n] = 0;
	}
	*p += 2 + n;
	return str;
}

static char *dup_or_null(const char *str, bool *oom)
{
	char *d = str ? strdup(str) : NULL;

	if (str && !d)
		*oom = true;
	return d;
}

struct obj_slice *obj_slice_unpack(const struct obj_slice *s)
{
	struct obj_slice *u = calloc(1, sizeof(*u));
	bool oom = !u;

	if (oom)
		return NULL;
	*u = *s;
	u->packed = false;
	u->epdata = NULL;
	u->eplen = 0;
	u->ns = dup_or_null(s->ns, &oom);
	u->name = dup_or_null(s->name, &oom);
	u->service = dup_or_null(s->service, &oom);
	u->cluster = dup_or_null(s->cluster, &oom);
	u->eps = NULL;
	u->neps = 0;
	u->ports = NULL;
	u->nports = 0;
	if (s->nports && !oom) {
		u->ports = calloc(s->nports, sizeof(*u->ports));
		oom = !u->ports;
		for (size_t i = 0; !oom && i < s->nports; i++) {
			u->ports[i] = s->ports[i];
			u->ports[i].name = NULL;
			u->ports[i].target_name = NULL;
			u->nports++;
			u->ports[i].name = dup_or_null(s->ports[i].name, &oom);
			u->ports[i].target_name =
			    dup_or_null(s->ports[i].target_name, &oom);
		}
	}
	if (s->neps && !oom) {
		u->eps = calloc(s->neps, sizeof(*u->eps));
		oom = !u->eps;
	}
	const uint8_t *p = s->epdata;
	for (size_t i = 0; !oom && i < s->neps; i++) {
		struct obj_endpoint *e = &u->eps[i];
		uint8_t flags = *p++, na = *p++;
		u->neps++;
		e->ready = flags & EP_READY;
		if (flags & EP_ZONE) {
			e->zone = (uint16_t)(p[0] << 8 | p[1]);
			p += 2;
		}
		if (flags & EP_NODE) {
			e->node = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
				  (uint32_t)p[2] << 8 | p[3];
			p += 4;
		}
		e->addrs = na ? calloc(na, sizeof(*e->addrs)) : NULL;
		if (na && !e->addrs) {
			oom = true;
			break;
		}
		e->naddrs = na;
		for (size_t k = 0; k < na; k++) {
			struct obj_addr *a = &e->addrs[k];
			a->family = *p++;
			size_t al = a->family == 4 ? 4 : 16;
			memcpy(a->a, p, al);
			p += al;
		}
		if ((flags & EP_HOST) && !(e->hostname = ep_get_str(&p)))
			oom = true;
		if ((flags & EP_POD) && !(e->pod_name = ep_get_str(&p)))
			oom = true;
	}
	if (oom) {
		obj_slice_free(u);
		return NULL;
	}
	return u;
}

void obj_pod_free(struct obj_pod *p)
{
	if (!p)
		return;
	free(p->ns);
	free(p->name);
	free(p->ips);
	free(p->hostname);
	free(p->subdomain);
	free_labels(p->labels, p->nlabels);
	free_ports(p->ports, p->nports);
	free(p);
}

bool obj_selects(const struct obj_service *s, const struct obj_pod *p)
{
	if (!s || !p || s->nselector == 0)
		return false;
	for (size_t i = 0; i < s->nselector; i++) {
		const struct obj_label *want = &s->selector[i];
		bool found = false;

		for (size_t j = 0; j < p->nlabels; j++) {
			if (strcmp(p->labels[j].key, want->key) == 0) {
				found = strcmp(p->labels[j].value,
					       want->value) == 0;
				break;
			}
		}
		if (!found)
			return false;
	}
	return true;
}

/* An IPv4 address in decimal with sep between its bytes into buf (16
 * bytes): its length.  What inet_ntop writes, without its formatting
 * machinery: an endpoint's dashed label is written at query time. */
static size_t put4(const uint8_t a[4], char sep, char *buf)
{
	size_t n = 0;

	for (int i = 0; i < 4; i++) {
		unsigned v = a[i];
		if (i)
			buf[n++] = sep;
		if (v >= 100)
			buf[n++] = (char)('0' + v / 100);
		if (v >= 10)
			buf[n++] = (char)('0' + v / 10 % 10);
		buf[n++] = (char)('0' + v % 10);
	}
	buf[n] = '\0';
	return n;
}

const char *obj_addr_str(const struct obj_addr *a, char *buf, size_t len)
{
	if (!a || !buf || len == 0)
		return NULL;
	if (a->family == 4 && len >= 16) {
		put4(a->a, '.', buf);
		return buf;
	}
	if ((a->family != 4 && a->family != 6) ||
	    !inet_ntop(a->family == 4 ? AF_INET : AF_INET6, a->a, buf, len)) {
		buf[0] = '\0';
		return NULL;
	}
	return buf;
}

size_t obj_addr_dashed(const struct obj_addr *a, char *buf)
{
	size_t n = 0;

	if (a && a->family == 4)
		return put4(a->a, '-', buf);
	if (!obj_addr_str(a, buf, 64))
		return 0;
	for (; buf[n]; n++)
		if (buf[n] == '.' || buf[n] == ':')
			buf[n] = '-';
	return n;
}

const char *obj_proto_name(uint8_t proto)
{
	switch (proto) {
	case OBJ_PROTO_UDP:
		return "udp";
	case OBJ_PROTO_SCTP:
		return "sctp";
	default:
		return "tcp";
	}
}

int obj_addr_parse(const char *s, struct obj_addr *out)
{
	struct obj_addr a;

	if (!s || !out)
		return -1;
	memset(&a, 0, sizeof(a));
	if (inet_pton(AF_INET, s, a.a) == 1) {
		a.family = 4;
	} else if (inet_pton(AF_INET6, s, a.a) == 1) {
		a.family = 6;
	} else {
		return -1;
	}
	*out = a;
	return 0;
}

/* ---- topology zone names ---- */

static pthread_mutex_t zone_lock = PTHREAD_MUTEX_INITIALIZER;
static char *zone_names[OBJ_MAX_ZONES + 1];
/* Each name's labels in lowercase wire form, without the root label, in
 * the same allocation (zone_wlen 0: the name is no DNS name). */
static const uint8_t *zone_wires[OBJ_MAX_ZONES + 1];
static uint8_t zone_wlen[OBJ_MAX_ZONES + 1];
static unsigned zone_count; /* published with release, read with acquire */

int obj_zone_intern(const char *name)
{
	size_t len = name ? strlen(name) : 0;
	int id = 0;

	if (len == 0 || len > 253)
		return 0;
	pthread_mutex_lock(&zone_lock);
	for (unsigned i = 1; i <= zone_count; i++)
		if (!strcmp(zone_names[i], name)) {
			id = (int)i;
			goto out;
		}
	if (zone_count == OBJ_MAX_ZONES)
		goto out;
	char *copy = malloc(len + 1 + DNAME_MAX + 1);
	if (!copy) {
		id = -ENOMEM;
		goto out;
	}
	memcpy(copy, name, len + 1);
	uint8_t *w = (uint8_t *)copy + len + 1;
	size_t wl;
	zone_wlen[zone_count + 1] = dname_zone_wire(name, w, &wl) == 0 && wl > 1
					? (uint8_t)(wl - 1)
					: 0;
	zone_wires[zone_count + 1] = w;
	zone_names[zone_count + 1] = copy;
	__atomic_store_n(&zone_count, zone_count + 1, __ATOMIC_RELEASE);
	id = (int)zone_count;
out:
	pthread_mutex_unlock(&zone_lock);
	return id;
}

const char *obj_zone_name(uint16_t id)
{
	unsigned n = __atomic_load_n(&zone_count, __ATOMIC_ACQUIRE);

	return id && id <= n ? zone_names[id] : NULL;
}

const uint8_t *obj_zone_wire(uint16_t id, size_t *len)
{
	unsigned n = __atomic_load_n(&zone_count, __ATOMIC_ACQUIRE);

	if (!id || id > n || !zone_wlen[id])
		return NULL;
	*len = zone_wlen[id];
	return zone_wires[id];
}

/* ---- node names ---- */

/* The names in chunks that never move, so that obj_node_name needs no
 * lock; the writers' index is open addressing over numbers. */
#define NODE_CHUNK 4096
static pthread_mutex_t node_lock = PTHREAD_MUTEX_INITIALIZER;
static char **node_chunks[OBJ_MAX_NODES / NODE_CHUNK + 1];
static uint32_t node_count;  /* published with release, read with acquire */
static uint32_t *node_index; /* cap numbers, 0 free; under node_lock */
static uint32_t node_icap;

static uint32_t node_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

static const char *node_at(uint32_t id)
{
	return node_chunks[id / NODE_CHUNK][id % NODE_CHUNK];
}

/* Under node_lock: room in the index for one more number, 0 or -ENOMEM. */
static int node_index_room(void)
{
	if ((uint64_t)(node_count + 1) * 2 <= node_icap)
		return 0;
	uint32_t cap = node_icap ? node_icap * 2 : 256;
	uint32_t *v = calloc(cap, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (uint32_t id = 1; id <= node_count; id++) {
		uint32_t i = node_hash(node_at(id)) & (cap - 1);
		while (v[i])
			i = (i + 1) & (cap - 1);
		v[i] = id;
	}
	free(node_index);
	node_index = v;
	node_icap = cap;
	return 0;
}

long obj_node_intern(const char *name)
{
	size_t len = name ? strlen(name) : 0;
	long id = 0;

	if (len == 0 || len > 253)
		return 0;
	pthread_mutex_lock(&node_lock);
	uint32_t h = node_hash(name), i = 0;
	if (node_icap) {
		for (i = h & (node_icap - 1); node_index[i];
		     i = (i + 1) & (node_icap - 1))
			if (!strcmp(node_at(node_index[i]), name)) {
				id = node_index[i];
				goto out;
			}
	}
	if (node_count == OBJ_MAX_NODES)
		goto out;
	uint32_t nid = node_count + 1;
	char ***chunk = &node_chunks[nid / NODE_CHUNK];
	if (!*chunk && !(*chunk = calloc(NODE_CHUNK, sizeof(**chunk))))
		goto nomem;
	char *copy = strdup(name);
	if (!copy)
		goto nomem;
	(*chunk)[nid % NODE_CHUNK] = copy;
	/* the index may grow first: it takes numbers up to node_count */
	if (node_index_room() < 0) {
		(*chunk)[nid % NODE_CHUNK] = NULL;
		free(copy);
		goto nomem;
	}
	for (i = h & (node_icap - 1); node_index[i];
	     i = (i + 1) & (node_icap - 1))
		;
	node_index[i] = nid;
	__atomic_store_n(&node_count, nid, __ATOMIC_RELEASE);
	id = nid;
	goto out;
nomem:
	id = -ENOMEM;
out:
	pthread_mutex_unlock(&node_lock);
	return id;
}

const char *obj_node_name(uint32_t id)
{
	uint32_t n = __atomic_load_n(&node_count, __ATOMIC_ACQUIRE);

	return id && id <= n ? node_at(id) : NULL;
}
