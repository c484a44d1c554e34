/*
 * hosts.c -- endpoint names answered by lookup: per service, a table of its
 * endpoint addresses sorted by host label hash, then its own addresses;
 * across services, an index by address for PTR.  A change builds a new table,
 * publishes it and frees the old one after a grace period.
 */
#include "zones/hosts.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <urcu.h>

#include "zones/rcuhash.h"

struct hosts_svc {
	struct rcu_head rcu;
	uint64_t gen;
	uint32_t hash;	  /* of the name's first two labels */
	uint32_t n;	  /* endpoint entries, sorted by label hash */
	uint32_t nips;	  /* the service's addresses, after them */
	uint32_t nlabels; /* bytes of explicit labels */
	uint16_t namelen;
	const uint8_t (*a6)[16]; /* IPv6 addresses, after the entries */
	const uint8_t *labels;	 /* after them */
	const uint8_t *name;	 /* <svc>.<ns>.svc, after the labels */
	struct hosts_entry e[];
};

struct hosts {
	struct rcuhash *svcs;  /* struct hosts_svc */
	struct rcuhash *addrs; /* struct hosts_entry */
	size_t nentries;
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
	free(h);
}

/* ---- readers ---- */

struct svc_key {
	const uint8_t *svc, *ns;
};

static bool label_eq(const uint8_t *a, const uint8_t *b)
{
	return a[0] == b[0] && memcmp(a + 1, b + 1, a[0]) == 0;
}

static bool svc_match(const void *item, const void *key)
{
	const struct hosts_svc *s = item;
	const struct svc_key *k = key;

	return label_eq(s->name, k->svc) &&
	       label_eq(s->name + s->name[0] + 1, k->ns);
}

const struct hosts_svc *hosts_service(const struct hosts *h, const uint8_t *svc,
				      const uint8_t *ns)
{
	struct svc_key k = {svc, ns};

	return rcuhash_find(h->svcs, svc_hash(svc, ns), svc_match, &k);
}

size_t hosts_entry_label(const struct hosts_svc *s, const struct hosts_entry *e,
			 uint8_t *out)
{
	if (e->idx >= s->n)
		return 0;
	if (e->lablen) {
		out[0] = e->lablen;
		memcpy(out + 1, s->labels + e->laboff, e->lablen);
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
		       memcmp(s->labels + e->laboff, label + 1, label[0]) == 0;
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
	return hosts_entry_svc(e)->a6[i];
}

const uint8_t *hosts_svc_name(const struct hosts_svc *s, size_t *len)
{
	*len = s->namelen;
	return s->name;
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
	entries_unindex(h, s);
	rcuhash_remove(h->svcs, s->hash, s);
	call_rcu(&s->rcu, svc_free_rcu);
}

static bool svc_same(const struct hosts_svc *a, const struct hosts_svc *b)
{
	if (a->n != b->n || a->nips != b->nips || a->nlabels != b->nlabels)
		return false;
	for (uint32_t i = 0; i < a->n + a->nips; i++) {
		const struct hosts_entry *x = &a->e[i], *y = &b->e[i];
		if (x->hash != y->hash || x->family != y->family ||
		    x->lablen != y->lablen || x->laboff != y->laboff ||
		    memcmp(hosts_entry_addr(x), hosts_entry_addr(y),
			   x->family == 4 ? 4 : 16) != 0)
			return false;
	}
	return memcmp(a->labels, b->labels, a->nlabels) == 0;
}

/* The new table for the endpoints (possibly with none of them), or NULL
 * when out of memory. */
static struct hosts_svc *svc_build(const uint8_t *name, size_t namelen,
				   uint32_t hash, const struct hosts_ep *eps,
				   size_t n, const struct obj_addr *ips,
				   size_t nips)
{
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
			  n6 * 16 + nlab + namelen);
	if (!s) {
		free(t);
		return NULL;
	}
	uint8_t(*a6)[16] = (uint8_t(*)[16]) & s->e[m + ni];
	uint8_t *labels = a6[n6];
	uint8_t *nm = labels + nlab;
	s->hash = hash;
	s->n = (uint32_t)m;
	s->nips = (uint32_t)ni;
	s->nlabels = (uint32_t)nlab;
	s->namelen = (uint16_t)namelen;
	s->a6 = (const uint8_t(*)[16])a6;
	s->labels = labels;
	s->name = nm;
	memcpy(nm, name, namelen);
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
	      size_t nips, uint64_t gen)
{
	uint8_t nm[3 * 64 + 4], svc[64], nsl[64];
	size_t namelen = 0;

	if (!make_label(name, svc) || !make_label(ns, nsl)) {
		n = nips = 0;
		svc[0] = nsl[0] = 0;
	}
	memcpy(nm, svc, (size_t)svc[0] + 1);
	namelen += (size_t)svc[0] + 1;
	memcpy(nm + namelen, nsl, (size_t)nsl[0] + 1);
	namelen += (size_t)nsl[0] + 1;
	memcpy(nm + namelen, "\3svc", 4);
	namelen += 4;

	uint32_t hash = svc_hash(svc, nsl);
	struct svc_key key = {svc, nsl};
	struct hosts_svc *old = rcuhash_find(h->svcs, hash, svc_match, &key);
	struct hosts_svc *s = NULL;
	if (n || nips) {
		if (!(s = svc_build(nm, namelen, hash, eps, n, ips, nips)))
			return -ENOMEM;
		if (s->n + s->nips == 0) {
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
	if (rcuhash_insert(h->svcs, hash, s) < 0)
		goto nomem;
	for (uint32_t i = 0; i < s->n + s->nips; i++) {
		if (rcuhash_insert(h->addrs, hash_entry_item(&s->e[i]),
				   &s->e[i]) < 0) {
			/* Undo what was indexed; the old table stays. */
			for (uint32_t j = 0; j < i; j++)
				rcuhash_remove(h->addrs,
					       hash_entry_item(&s->e[j]),
					       &s->e[j]);
			rcuhash_remove(h->svcs, hash, s);
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

int hosts_each(const struct hosts *h,
	       int (*cb)(const struct hosts_svc *s, const struct hosts_entry *e,
			 void *arg),
	       void *arg)
{
	struct each e = {cb, arg, 0};

	rcuhash_each(h->svcs, each_svc, &e);
	return e.rc;
}
