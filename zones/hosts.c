/*
 * hosts.c -- ClusterIP service names answered by lookup: per service, a
 * table of its endpoint addresses sorted by host label hash, then its own
 * addresses, then its ports; across services, an index by address for PTR.
 * A change builds a new table, publishes it and frees the old one after a
 * grace period.
 */
#include "zones/hosts.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <urcu.h>

#include "zones/rcuhash.h"

/* A service's table: the header, then the entries (e), its ports, the
 * IPv6 addresses, the explicit labels and port labels, and its name
 * <svc>.<ns>.svc (svc_ports, svc_a6, svc_labels, svc_name). */
struct hosts_svc {
	struct rcu_head rcu;
	uint64_t gen;
	uint32_t hash;	  /* of the name's first two labels */
	uint16_t n;	  /* endpoint entries, sorted by label hash */
	uint8_t nips;	  /* the service's addresses, after them */
	bool named;	  /* the name and its ports are ours */
	uint16_t nlabels; /* bytes of explicit labels, port labels included */
	uint16_t nports;
	uint16_t n6; /* IPv6 addresses */
	uint8_t namelen;
	struct hosts_entry e[];
};

static const struct hosts_port *svc_ports(const struct hosts_svc *s)
{
	return (const struct hosts_port *)&s->e[s->n + s->nips];
}

static const uint8_t (*svc_a6(const struct hosts_svc *s))[16]
{
	return (const uint8_t(*)[16])(svc_ports(s) + s->nports);
}

static const uint8_t *svc_labels(const struct hosts_svc *s)
{
	return svc_a6(s)[s->n6];
}

static const uint8_t *svc_name(const struct hosts_svc *s)
{
	return svc_labels(s) + s->nlabels;
}

/* A name above the table's names that exists because of them (writer
 * side only): the reverse parent of addresses. */
struct shared {
	struct shared *next; /* in its hash chain */
	uint32_t refs;
	uint32_t hash;
	bool queued; /* in the list of changes */
	bool known;  /* the last change taken says it exists */
	struct hosts_shared sh;
	uint8_t key[];
};

struct hosts {
	struct rcuhash *svcs;  /* struct hosts_svc */
	struct rcuhash *addrs; /* struct hosts_entry */
	size_t nentries;
	struct shared **stab; /* chained, a power of two of chains */
	size_t smask, scount;
	struct shared **changed; /* queued, for hosts_take_shared */
	size_t nchanged, capchanged;
};

/* The label hash entries are sorted by. */
static uint16_t label_hash(const uint8_t *l, size_t n)
{
	uint32_t h = rcuhash_fnv(RCUHASH_FNV0, l, n);

	return (uint16_t)(h ^ h >> 16);
}

static uint32_t addr_hash(int family, const uint8_t *a)
{
	uint8_t f = (uint8_t)family;

	return rcuhash_fnv(rcuhash_fnv(RCUHASH_FNV0, &f, 1), a,
			   family == 4 ? 4 : 16);
}

static uint32_t svc_hash(const uint8_t *svc, const uint8_t *ns)
{
	return rcuhash_fnv(rcuhash_fnv(RCUHASH_FNV0, svc, (size_t)svc[0] + 1),
			   ns, (size_t)ns[0] + 1);
}

static uint32_t hash_svc_item(const void *item)
{
	return ((const struct hosts_svc *)item)->hash;
}

static uint32_t hash_entry_item(const void *item)
{
	const struct hosts_entry *e = item;

	return addr_hash(e->family, hosts_entry_addr(e));
}

struct hosts *hosts_new(void)
{
	struct hosts *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->svcs = rcuhash_new(hash_svc_item);
	h->addrs = rcuhash_new(hash_entry_item);
	if (!h->svcs || !h->addrs) {
		hosts_free(h);
		return NULL;
	}
	return h;
}

static void free_item(void *item, void *arg)
{
	free(item);
}

void hosts_free(struct hosts *h)
{
	if (!h)
		return;
	if (h->svcs)
		rcuhash_each(h->svcs, free_item, NULL);
	rcuhash_free(h->svcs);
	rcuhash_free(h->addrs);
	for (size_t i = 0; h->stab && i <= h->smask; i++)
		for (struct shared *x = h->stab[i], *nx; x; x = nx) {
			nx = x->next;
			free(x);
		}
	free(h->stab);
	free(h->changed);
	free(h);
}

/* ---- readers ---- */

struct svc_key {
	const uint8_t *svc, *ns;
	uint32_t hash;
};

static bool label_eq(const uint8_t *a, const uint8_t *b)
{
	return a[0] == b[0] && memcmp(a + 1, b + 1, a[0]) == 0;
}

/* Labels a and b are the same: short ones, compared inline. */
static bool label_same(const uint8_t *a, const uint8_t *b)
{
	for (unsigned i = 0; i <= a[0]; i++)
		if (a[i] != b[i])
			return false;
	return true;
}

static bool svc_match(const void *item, const void *key)
{
	const struct hosts_svc *s = item;
	const struct svc_key *k = key;

	/* the hash first: the name is at the far end of the table */
	if (s->hash != k->hash)
		return false;
	const uint8_t *name = svc_name(s);
	return label_same(name, k->svc) &&
	       label_same(name + name[0] + 1, k->ns);
}

const struct hosts_svc *hosts_service(const struct hosts *h, const uint8_t *svc,
				      const uint8_t *ns)
{
	struct svc_key k = {svc, ns, svc_hash(svc, ns)};

	return rcuhash_find(h->svcs, k.hash, svc_match, &k);
}

size_t hosts_entry_label(const struct hosts_svc *s, const struct hosts_entry *e,
			 uint8_t *out)
{
	if (e->idx >= s->n)
		return 0;
	if (e->lablen) {
		out[0] = e->lablen;
		memcpy(out + 1, svc_labels(s) + e->laboff, e->lablen);
		return (size_t)e->lablen + 1;
	}
	struct obj_addr a = {.family = e->family};
	memcpy(a.a, hosts_entry_addr(e), e->family == 4 ? 4 : 16);
	size_t n = obj_addr_dashed(&a, (char *)out + 1);
	out[0] = (uint8_t)n;
	return n + 1;
}

static bool entry_has_label(const struct hosts_svc *s,
			    const struct hosts_entry *e, const uint8_t *label)
{
	uint8_t l[64];

	if (e->lablen)
		return e->lablen == label[0] &&
		       memcmp(svc_labels(s) + e->laboff, label + 1, label[0]) ==
			   0;
	hosts_entry_label(s, e, l);
	return label_eq(l, label);
}

size_t hosts_match(const struct hosts_svc *s, const uint8_t *label,
		   const struct hosts_entry **first)
{
	uint16_t h = label_hash(label + 1, label[0]);
	size_t lo = 0, hi = s->n;

	/* The first entry whose hash is not below h. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->e[mid].hash < h)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* Entries of one label are adjacent (sorted by hash, then label). */
	for (; lo < s->n && s->e[lo].hash == h; lo++) {
		if (!entry_has_label(s, &s->e[lo], label))
			continue;
		size_t k = lo + 1;
		while (k < s->n && s->e[k].hash == h &&
		       entry_has_label(s, &s->e[k], label))
			k++;
		*first = &s->e[lo];
		return k - lo;
	}
	return 0;
}

struct addr_key {
	int family;
	const uint8_t *a;
};

static bool addr_match(const void *item, const void *key)
{
	const struct hosts_entry *e = item;
	const struct addr_key *k = key;

	return e->family == k->family &&
	       memcmp(hosts_entry_addr(e), k->a, k->family == 4 ? 4 : 16) == 0;
}

const struct hosts_entry *hosts_by_addr(const struct hosts *h, int family,
					const uint8_t *addr)
{
	struct addr_key k = {family, addr};

	return rcuhash_find(h->addrs, addr_hash(family, addr), addr_match, &k);
}

const struct hosts_svc *hosts_entry_svc(const struct hosts_entry *e)
{
	const struct hosts_entry *e0 = e - e->idx;

	return (const struct hosts_svc *)((const char *)e0 -
					  offsetof(struct hosts_svc, e));
}

const uint8_t *hosts_entry_addr(const struct hosts_entry *e)
{
	uint32_t i;

	if (e->family == 4)
		return e->a;
	memcpy(&i, e->a, sizeof(i));
	return svc_a6(hosts_entry_svc(e))[i];
}

bool hosts_svc_named(const struct hosts_svc *s)
{
	return s->named;
}

size_t hosts_svc_ips(const struct hosts_svc *s,
		     const struct hosts_entry **first)
{
	*first = &s->e[s->n];
	return s->nips;
}

const struct hosts_port *hosts_svc_ports(const struct hosts_svc *s, size_t *n)
{
	*n = s->nports;
	return svc_ports(s);
}

/* Wire label proto (_tcp...) is the one of protocol p. */
static bool proto_is(const uint8_t *proto, uint8_t p)
{
	const char *t = obj_proto_name(p);
	size_t n = strlen(t);

	return proto[0] == n + 1 && proto[1] == '_' &&
	       memcmp(proto + 2, t, n) == 0;
}

const struct hosts_port *hosts_port_match(const struct hosts_svc *s,
					  const uint8_t *name,
					  const uint8_t *proto)
{
	for (uint16_t i = 0; i < s->nports; i++) {
		const struct hosts_port *p = &svc_ports(s)[i];
		if (!p->lablen || !proto_is(proto, p->proto))
			continue;
		if (!name ||
		    (name[0] == p->lablen &&
		     !memcmp(name + 1, svc_labels(s) + p->laboff, p->lablen)))
			return p;
	}
	return NULL;
}

const struct hosts_port *hosts_srv_ports(const struct hosts_svc *s,
					 const struct hosts_port *port,
					 size_t *n, uint16_t *weight)
{
	size_t w;

	*n = port ? 1 : s->nports;
	w = *n ? 100 / *n : 100;
	*weight = (uint16_t)(w ? w : 1);
	return port ? port : svc_ports(s);
}

size_t hosts_srv_rdata(uint16_t w, uint16_t port, const uint8_t *target,
		       size_t tl, uint8_t *rd)
{
	rd[0] = rd[1] = 0;
	rd[2] = (uint8_t)(w >> 8);
	rd[3] = (uint8_t)w;
	rd[4] = (uint8_t)(port >> 8);
	rd[5] = (uint8_t)port;
	memcpy(rd + 6, target, tl);
	return 6 + tl;
}

bool hosts_srv_dup(const struct hosts_port *p, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (p[j].port == p[i].port)
			return true;
	return false;
}

size_t hosts_port_labels(const struct hosts_svc *s, const struct hosts_port *p,
			 uint8_t *out)
{
	const char *t = obj_proto_name(p->proto);
	size_t tl = strlen(t);

	if (!p->lablen)
		return 0;
	out[0] = p->lablen;
	memcpy(out + 1, svc_labels(s) + p->laboff, p->lablen);
	out[p->lablen + 1] = (uint8_t)(tl + 1);
	out[p->lablen + 2] = '_';
	memcpy(out + p->lablen + 3, t, tl);
	return (size_t)p->lablen + 3 + tl;
}

const uint8_t *hosts_svc_name(const struct hosts_svc *s, size_t *len)
{
	*len = s->namelen;
	return svc_name(s);
}

/* ---- writer ---- */

struct tmp {
	struct hosts_entry e;
	uint8_t a[16];	 /* the address */
	uint8_t lab[64]; /* the label, wire, lowercase */
};

static int tmp_cmp(const void *pa, const void *pb)
{
	const struct tmp *a = pa, *b = pb;

	if (a->e.hash != b->e.hash)
		return a->e.hash < b->e.hash ? -1 : 1;
	int c = memcmp(a->lab, b->lab, (size_t)a->lab[0] + 1);
	if (c)
		return c;
	if (a->e.family != b->e.family)
		return a->e.family - b->e.family;
	return memcmp(a->a, b->a, 16);
}

/* Lowercase text as a wire label into out (64 bytes); false when it cannot
 * be one. */
static bool make_label(const char *text, uint8_t *out)
{
	size_t n = strlen(text);

	if (n == 0 || n > 63 || memchr(text, '.', n))
		return false;
	out[0] = (uint8_t)n;
	for (size_t i = 0; i < n; i++)
		out[i + 1] = (uint8_t)tolower((unsigned char)text[i]);
	return true;
}

/* ---- writer: the names above the table's ---- */

/* The shared name of entry i of s, its address's reverse parent, in sh
 * with the key's bytes in key (16). */
static void shared_of(const struct hosts_svc *s, uint32_t i,
		      struct hosts_shared *sh, uint8_t *key)
{
	const struct hosts_entry *e = &s->e[i];

	sh->family = e->family;
	memset(key, 0, 16);
	if (e->family == 4) {
		memcpy(key, e->a, 3); /* the /24 */
		sh->len = 4;
	} else {
		memcpy(key, hosts_entry_addr(e), 16);
		key[15] &= 0xf0; /* the /124 */
		sh->len = 16;
	}
}

/* How many shared names s holds: one per address. */
static uint32_t shared_count(const struct hosts_svc *s)
{
	return s->n + s->nips;
}

static uint32_t shared_hash(const struct hosts_shared *sh, const uint8_t *key)
{
	return rcuhash_fnv(RCUHASH_FNV0, key, sh->len);
}

static struct shared *shared_find(const struct hosts *h,
				  const struct hosts_shared *sh,
				  const uint8_t *key, uint32_t hash)
{
	if (!h->stab)
		return NULL;
	for (struct shared *x = h->stab[hash & h->smask]; x; x = x->next)
		if (x->hash == hash && x->sh.family == sh->family &&
		    x->sh.len == sh->len && !memcmp(x->key, key, sh->len))
			return x;
	return NULL;
}

static int shared_grow(struct hosts *h)
{
	size_t n = h->stab ? (h->smask + 1) * 2 : 64;
	struct shared **t = calloc(n, sizeof(*t));

	if (!t)
		return -ENOMEM;
	for (size_t i = 0; h->stab && i <= h->smask; i++)
		for (struct shared *x = h->stab[i], *nx; x; x = nx) {
			nx = x->next;
			x->next = t[x->hash & (n - 1)];
			t[x->hash & (n - 1)] = x;
		}
	free(h->stab);
	h->stab = t;
	h->smask = n - 1;
	return 0;
}

/* Queue x for hosts_take_shared (its existence may have changed). */
static int shared_queue(struct hosts *h, struct shared *x)
{
	if (x->queued)
		return 0;
	if (h->nchanged == h->capchanged) {
		size_t cap = h->capchanged ? h->capchanged * 2 : 64;
		struct shared **p = realloc(h->changed, cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		h->changed = p;
		h->capchanged = cap;
	}
	h->changed[h->nchanged++] = x;
	x->queued = true;
	return 0;
}

/* One more reference to shared name i of s. */
static int shared_ref(struct hosts *h, const struct hosts_svc *s, uint32_t i)
{
	struct hosts_shared sh;
	uint8_t key[16];

	shared_of(s, i, &sh, key);
	uint32_t hash = shared_hash(&sh, key);
	struct shared *x = shared_find(h, &sh, key, hash);
	if (!x) {
		if ((h->scount + 1) * 2 > (h->stab ? h->smask + 1 : 0) &&
		    shared_grow(h) < 0)
			return -ENOMEM;
		if (!(x = calloc(1, sizeof(*x) + sh.len)))
			return -ENOMEM;
		x->hash = hash;
		x->sh = sh;
		memcpy(x->key, key, sh.len);
		x->sh.key = x->key;
		x->next = h->stab[hash & h->smask];
		h->stab[hash & h->smask] = x;
		h->scount++;
	}
	if (x->refs++ == 0 && shared_queue(h, x) < 0) {
		x->refs--;
		return -ENOMEM;
	}
	return 0;
}

/* One reference less to shared name i of s.  A name nobody holds stays
 * until hosts_take_shared has reported it (when queuing fails, it stays
 * known and is reported by the next change or walk). */
static void shared_unref(struct hosts *h, const struct hosts_svc *s, uint32_t i)
{
	struct hosts_shared sh;
	uint8_t key[16];

	shared_of(s, i, &sh, key);
	struct shared *x = shared_find(h, &sh, key, shared_hash(&sh, key));
	if (x && x->refs && --x->refs == 0)
		shared_queue(h, x);
}

/* References to every shared name of s; nothing held when out of
 * memory. */
static int shared_hold(struct hosts *h, const struct hosts_svc *s)
{
	uint32_t n = shared_count(s);

	for (uint32_t i = 0; i < n; i++)
		if (shared_ref(h, s, i) < 0) {
			while (i--)
				shared_unref(h, s, i);
			return -ENOMEM;
		}
	return 0;
}

static void shared_release(struct hosts *h, const struct hosts_svc *s)
{
	uint32_t n = shared_count(s);

	for (uint32_t i = 0; i < n; i++)
		shared_unref(h, s, i);
}

static void shared_unlink(struct hosts *h, struct shared *x)
{
	struct shared **pp = &h->stab[x->hash & h->smask];

	while (*pp != x)
		pp = &(*pp)->next;
	*pp = x->next;
	h->scount--;
	free(x);
}

int hosts_take_shared(struct hosts *h,
		      int (*cb)(const struct hosts_shared *sh, bool exists,
				void *arg),
		      void *arg)
{
	int rc = 0;
	size_t i = 0;

	for (; i < h->nchanged && !rc; i++) {
		struct shared *x = h->changed[i];
		bool exists = x->refs > 0;
		if (exists != x->known && (rc = cb(&x->sh, exists, arg)) != 0)
			break;
		x->known = exists;
		x->queued = false;
		if (!exists)
			shared_unlink(h, x);
	}
	if (i < h->nchanged)
		memmove(h->changed, h->changed + i,
			(h->nchanged - i) * sizeof(*h->changed));
	h->nchanged -= i;
	return rc;
}

int hosts_each_shared(const struct hosts *h,
		      int (*cb)(const struct hosts_shared *sh, void *arg),
		      void *arg)
{
	int rc = 0;

	for (size_t i = 0; h->stab && i <= h->smask && !rc; i++)
		for (struct shared *x = h->stab[i]; x && !rc; x = x->next)
			if (x->known)
				rc = cb(&x->sh, arg);
	return rc;
}

static void entries_unindex(struct hosts *h, struct hosts_svc *s)
{
	for (uint32_t i = 0; i < s->n + s->nips; i++)
		rcuhash_remove(h->addrs, hash_entry_item(&s->e[i]), &s->e[i]);
	h->nentries -= s->n + s->nips;
}

static void svc_free_rcu(struct rcu_head *head)
{
	free(caa_container_of(head, struct hosts_svc, rcu));
}

/* Take s away from the readers and free it after a grace period. */
static void svc_retire(struct hosts *h, struct hosts_svc *s)
{
	shared_release(h, s);
	entries_unindex(h, s);
	rcuhash_remove(h->svcs, s->hash, s);
	call_rcu(&s->rcu, svc_free_rcu);
}

static bool svc_same(const struct hosts_svc *a, const struct hosts_svc *b)
{
	if (a->n != b->n || a->nips != b->nips || a->nlabels != b->nlabels ||
	    a->named != b->named || a->nports != b->nports ||
	    memcmp(svc_ports(a), svc_ports(b),
		   a->nports * sizeof(struct hosts_port)) != 0)
		return false;
	for (uint32_t i = 0; i < a->n + a->nips; i++) {
		const struct hosts_entry *x = &a->e[i], *y = &b->e[i];
		if (x->hash != y->hash || x->family != y->family ||
		    x->lablen != y->lablen || x->laboff != y->laboff ||
		    memcmp(hosts_entry_addr(x), hosts_entry_addr(y),
			   x->family == 4 ? 4 : 16) != 0)
			return false;
	}
	return memcmp(svc_labels(a), svc_labels(b), a->nlabels) == 0;
}

/* The port labels _<name> of vip's ports (lowercase, no length byte) in
 * out, their length in len[i] (0: no name); returns their bytes. */
static size_t port_labels(const struct hosts_vip *vip, size_t np, uint8_t *out,
			  uint8_t *len)
{
	size_t k = 0;
	uint8_t l[64];

	for (size_t i = 0; i < np; i++) {
		const char *pn = vip->ports[i].name;
		len[i] = 0;
		if (!pn || strlen(pn) > 62 || !make_label(pn, l))
			continue;
		out[k] = '_';
		memcpy(out + k + 1, l + 1, l[0]);
		len[i] = (uint8_t)(l[0] + 1);
		k += len[i];
	}
	return k;
}

/* The new table for the endpoints (possibly with none of them), or NULL
 * when out of memory. */
static struct hosts_svc *svc_build(const uint8_t *name, size_t namelen,
				   uint32_t hash, const struct hosts_ep *eps,
				   size_t n, const struct obj_addr *ips,
				   size_t nips, const struct hosts_vip *vip)
{
	size_t np = vip ? vip->nports : 0;
	if (np > HOSTS_MAX_PORTS)
		np = HOSTS_MAX_PORTS;
	if (nips > HOSTS_MAX_IPS)
		nips = HOSTS_MAX_IPS;
	struct tmp *t = n + nips ? malloc((n + nips) * sizeof(*t)) : NULL;
	size_t k = 0, nlab = 0;

	if (n + nips && !t)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		const struct obj_addr *a = &eps[i].addr;
		struct tmp *x = &t[k];
		char d[64];
		if (a->family != 4 && a->family != 6)
			continue;
		memset(x, 0, offsetof(struct tmp, lab));
		x->e.family = a->family;
		memcpy(x->a, a->a, a->family == 4 ? 4 : 16);
		if (eps[i].label) {
			if (!make_label(eps[i].label, x->lab))
				continue;
			x->e.lablen = x->lab[0];
		} else {
			size_t dl = obj_addr_dashed(a, d);
			if (!dl)
				continue;
			x->lab[0] = (uint8_t)dl;
			memcpy(x->lab + 1, d, dl);
		}
		x->e.hash = label_hash(x->lab + 1, x->lab[0]);
		k++;
	}
	if (k)
		qsort(t, k, sizeof(*t), tmp_cmp);
	/* Drop repeats (one address in two slices). */
	size_t m = 0;
	for (size_t i = 0; i < k; i++)
		if (m == 0 || tmp_cmp(&t[m - 1], &t[i]) != 0)
			t[m++] = t[i];
	/* What fits the table's 16-bit positions and label offsets, with
	 * room for the service's own addresses after it. */
	size_t keep = 0, n6 = 0, ni = 0;
	for (size_t i = 0; i < m && keep + nips < HOSTS_MAX_ENTRIES; i++) {
		if (nlab + t[i].e.lablen > 0xffff)
			continue;
		nlab += t[i].e.lablen;
		n6 += t[i].e.family == 6;
		t[keep++] = t[i];
	}
	m = keep;
	uint8_t *pl = np ? malloc(np * 64) : NULL,
		*pll = pl ? pl + np * 63 : NULL;
	size_t npl = pl ? port_labels(vip, np, pl, pll) : 0;
	if (np && !pl) {
		free(t);
		return NULL;
	}
	if (nlab + npl > 0xffff)
		np = npl = 0;
	for (size_t i = 0; i < nips; i++) {
		struct tmp *x = &t[m + ni];
		if (ips[i].family != 4 && ips[i].family != 6)
			continue;
		memset(x, 0, offsetof(struct tmp, lab));
		x->e.family = ips[i].family;
		memcpy(x->a, ips[i].a, ips[i].family == 4 ? 4 : 16);
		n6 += ips[i].family == 6;
		ni++;
	}
	struct hosts_svc *s =
	    calloc(1, sizeof(*s) + (m + ni) * sizeof(struct hosts_entry) +
			  np * sizeof(struct hosts_port) + n6 * 16 + nlab +
			  npl + namelen);
	if (!s) {
		free(pl);
		free(t);
		return NULL;
	}
	struct hosts_port *ports = (struct hosts_port *)&s->e[m + ni];
	uint8_t(*a6)[16] = (uint8_t(*)[16]) & ports[np];
	uint8_t *labels = a6[n6];
	uint8_t *nm = labels + nlab + npl;
	s->hash = hash;
	s->n = (uint16_t)m;
	s->nips = (uint8_t)ni;
	s->nlabels = (uint16_t)(nlab + npl);
	s->namelen = (uint8_t)namelen;
	s->named = vip != NULL;
	s->nports = (uint16_t)np;
	s->n6 = (uint16_t)n6;
	memcpy(nm, name, namelen);
	if (npl)
		memcpy(labels + nlab, pl, npl);
	for (size_t i = 0, off = nlab; i < np; i++) {
		ports[i].port = vip->ports[i].port;
		ports[i].proto = vip->ports[i].proto;
		ports[i].lablen = pll[i];
		ports[i].laboff = (uint16_t)(pll[i] ? off : 0);
		off += pll[i];
	}
	free(pl);
	size_t off = 0;
	uint32_t i6 = 0;
	for (size_t i = 0; i < m + ni; i++) {
		s->e[i] = t[i].e;
		s->e[i].idx = (uint16_t)i;
		if (t[i].e.family == 4) {
			memcpy(s->e[i].a, t[i].a, 4);
		} else {
			memcpy(a6[i6], t[i].a, 16);
			memcpy(s->e[i].a, &i6, sizeof(i6));
			i6++;
		}
		if (t[i].e.lablen) {
			s->e[i].laboff = (uint16_t)off;
			memcpy(labels + off, t[i].lab + 1, t[i].e.lablen);
			off += t[i].e.lablen;
		}
	}
	free(t);
	return s;
}

int hosts_set(struct hosts *h, const char *ns, const char *name,
	      const struct hosts_ep *eps, size_t n, const struct obj_addr *ips,
	      size_t nips, const struct hosts_vip *vip, uint64_t gen)
{
	uint8_t nm[3 * 64 + 4], svc[64], nsl[64];
	size_t namelen = 0;

	if (!make_label(name, svc) || !make_label(ns, nsl)) {
		n = nips = 0;
		vip = NULL;
		svc[0] = nsl[0] = 0;
	}
	memcpy(nm, svc, (size_t)svc[0] + 1);
	namelen += (size_t)svc[0] + 1;
	memcpy(nm + namelen, nsl, (size_t)nsl[0] + 1);
	namelen += (size_t)nsl[0] + 1;
	memcpy(nm + namelen, "\3svc", 4);
	namelen += 4;

	uint32_t hash = svc_hash(svc, nsl);
	struct svc_key key = {svc, nsl, hash};
	struct hosts_svc *old = rcuhash_find(h->svcs, hash, svc_match, &key);
	struct hosts_svc *s = NULL;
	if (n || nips || vip) {
		if (!(s = svc_build(nm, namelen, hash, eps, n, ips, nips, vip)))
			return -ENOMEM;
		if (s->n + s->nips == 0 && !s->named) {
			free(s);
			s = NULL;
		}
	}
	if (!s) {
		if (!old)
			return 0;
		svc_retire(h, old);
		return 1;
	}
	s->gen = gen;
	if (old && svc_same(old, s)) {
		old->gen = gen;
		free(s);
		return 0;
	}
	if (shared_hold(h, s) < 0)
		goto nomem;
	if (rcuhash_insert(h->svcs, hash, s) < 0) {
		shared_release(h, s);
		goto nomem;
	}
	for (uint32_t i = 0; i < s->n + s->nips; i++) {
		if (rcuhash_insert(h->addrs, hash_entry_item(&s->e[i]),
				   &s->e[i]) < 0) {
			/* Undo what was indexed; the old table stays. */
			for (uint32_t j = 0; j < i; j++)
				rcuhash_remove(h->addrs,
					       hash_entry_item(&s->e[j]),
					       &s->e[j]);
			rcuhash_remove(h->svcs, hash, s);
			shared_release(h, s);
			synchronize_rcu();
			goto nomem;
		}
	}
	h->nentries += s->n + s->nips;
	if (old)
		svc_retire(h, old);
	return 1;
nomem:
	free(s);
	return -ENOMEM;
}

struct stale {
	struct hosts *h;
	uint64_t gen;
};

static bool is_stale(void *item, void *arg)
{
	return ((struct hosts_svc *)item)->gen != ((struct stale *)arg)->gen;
}

static void retire_stale(void *item, void *arg)
{
	svc_retire(((struct stale *)arg)->h, item);
}

size_t hosts_drop_stale(struct hosts *h, uint64_t gen)
{
	struct stale st = {h, gen};
	long n = rcuhash_take_if(h->svcs, is_stale, retire_stale, &st);

	return n > 0 ? (size_t)n : 0;
}

size_t hosts_count_services(const struct hosts *h)
{
	return rcuhash_count(h->svcs);
}

size_t hosts_count_entries(const struct hosts *h)
{
	return h->nentries;
}

struct each {
	int (*cb)(const struct hosts_svc *, const struct hosts_entry *, void *);
	void *arg;
	int rc;
};

static void each_svc(void *item, void *arg)
{
	const struct hosts_svc *s = item;
	struct each *e = arg;

	for (uint32_t i = 0; i < s->n + s->nips && !e->rc; i++)
		e->rc = e->cb(s, &s->e[i], e->arg);
}

struct each_service {
	int (*cb)(const struct hosts_svc *, void *);
	void *arg;
	int rc;
};

static void each_service(void *item, void *arg)
{
	struct each_service *e = arg;

	if (!e->rc)
		e->rc = e->cb(item, e->arg);
}

int hosts_each_service(const struct hosts *h,
		       int (*cb)(const struct hosts_svc *s, void *arg),
		       void *arg)
{
	struct each_service e = {cb, arg, 0};

	rcuhash_each(h->svcs, each_service, &e);
	return e.rc;
}

int hosts_each(const struct hosts *h,
	       int (*cb)(const struct hosts_svc *s, const struct hosts_entry *e,
			 void *arg),
	       void *arg)
{
	struct each e = {cb, arg, 0};

	rcuhash_each(h->svcs, each_svc, &e);
	return e.rc;
}
