/*
 * zone.c -- the zone index: writer-side names with the records owners
 * contribute, and reader-side nodes with precomputed answers in a lock-free
 * RCU hash table (liburcu's cds_lfht).
 */
#include "zones/zone.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <urcu.h>
#include <urcu/rculfhash.h>

#include "zones/dname.h"

#define ZONE_MAX_APEX 16
#define TYPE_A 1
#define TYPE_NS 2
#define TYPE_CNAME 5
#define TYPE_SOA 6
#define TYPE_PTR 12
#define TYPE_AAAA 28
#define TYPE_SRV 33
#define TYPE_ANY 255
#define CLASS_IN 1
#define MAX_CHASE 10
#define MAX_PTR 0x3fff

struct owner {
	struct owner *hnext;
	uint64_t hash;
	uint64_t gen;
	uint8_t *blob;
	size_t len;
	char key[];
};

/* A record of owner o at offset off of its blob. */
struct contrib {
	struct owner *o;
	uint32_t off;
};

/* Name w reads this name's records for its answers (through records of
 * owner o): when this name changes, w is rebuilt. */
struct ref {
	struct wname *w;
	struct owner *o;
};

struct wname {
	struct wname *hnext;
	uint64_t hash;
	struct contrib *c;
	uint32_t nc, capc;
	struct ref *r;
	uint32_t nr, capr;
	uint32_t ent; /* names with records below this one */
	struct zone_node *node;
	int apex;
	bool dirty, mark, is_apex;
	uint8_t len;
	uint8_t name[];
};

struct zone_soa {
	struct rcu_head rcu;
	size_t len;
	uint8_t rr[];
};

struct zone_apex {
	struct zone_soa *soa; /* RCU-protected */
	struct wname *w;
	uint8_t len, mlen;
	uint8_t name[DNAME_MAX];
	uint8_t mname[DNAME_MAX];
};

struct zone_node {
	struct cds_lfht_node lnode;
	struct rcu_head rcu;
	const struct zone_apex *apex;
	uint16_t nentries;
	uint8_t len;
	struct zone_entry e[];
	/* then the name (len bytes), then the entries' data */
};

struct vec {
	void *p;
	size_t n, cap;
};

struct buf {
	uint8_t *p;
	size_t len, cap;
	bool oom;
};

struct zone_index {
	struct cds_lfht *ht;
	struct zone_apex apex[ZONE_MAX_APEX];
	size_t napex;
	uint32_t ttl;
	uint32_t serial;
	struct wname **wtab;
	size_t wmask, wcount;
	struct owner **otab;
	size_t omask, ocount;
	struct vec dirty; /* struct wname * */
	struct vec marked;
	size_t published;
	struct buf data; /* scratch for building nodes */
	struct vec ents; /* struct zone_entry */
	struct vec recs; /* struct rec */
};

/* One record parsed from an owner blob. */
struct rec {
	const uint8_t *owner;
	const uint8_t *rdata;
	uint16_t olen;
	uint16_t type;
	uint16_t rdlen;
	uint32_t order;
};

/* ---- small helpers ---- */

static int vec_push(struct vec *v, const void *item, size_t size)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 16;
		void *p = realloc(v->p, cap * size);
		if (!p)
			return -ENOMEM;
		v->p = p;
		v->cap = cap;
	}
	memcpy((char *)v->p + v->n * size, item, size);
	v->n++;
	return 0;
}

static void buf_reserve(struct buf *b, size_t more)
{
	if (b->len + more <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 512;
	while (cap < b->len + more)
		cap *= 2;
	uint8_t *p = realloc(b->p, cap);
	if (!p) {
		b->oom = true;
		return;
	}
	b->p = p;
	b->cap = cap;
}

static void buf_put(struct buf *b, const void *d, size_t n)
{
	buf_reserve(b, n);
	if (b->oom)
		return;
	memcpy(b->p + b->len, d, n);
	b->len += n;
}

static void buf_u16(struct buf *b, uint16_t v)
{
	uint8_t t[2] = {(uint8_t)(v >> 8), (uint8_t)v};
	buf_put(b, t, 2);
}

static void buf_u32(struct buf *b, uint32_t v)
{
	uint8_t t[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16),
			(uint8_t)(v >> 8), (uint8_t)v};
	buf_put(b, t, 4);
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Check a wire name of exactly len bytes. */
static bool name_ok(const uint8_t *n, size_t len)
{
	size_t o = 0;

	if (len == 0 || len > DNAME_MAX)
		return false;
	while (o < len && n[o]) {
		if (n[o] > 63)
			return false;
		o += (size_t)n[o] + 1;
	}
	return o == len - 1;
}

static bool rec_parse(const uint8_t *b, size_t len, size_t off, struct rec *r,
		      size_t *next)
{
	if (off >= len)
		return false;
	size_t ol = b[off];
	if (off + 1 + ol + 4 > len)
		return false;
	r->owner = b + off + 1;
	r->olen = (uint16_t)ol;
	r->type = rd16(b + off + 1 + ol);
	r->rdlen = rd16(b + off + 3 + ol);
	r->rdata = b + off + 5 + ol;
	if (off + 5 + ol + r->rdlen > len)
		return false;
	*next = off + 5 + ol + r->rdlen;
	return true;
}

/* The name inside rdata that another name's answer depends on. */
static const uint8_t *rec_target(const struct rec *r, size_t *tlen)
{
	const uint8_t *t;
	size_t n;

	switch (r->type) {
	case TYPE_CNAME:
	case TYPE_NS:
		t = r->rdata;
		n = r->rdlen;
		break;
	case TYPE_SRV:
		if (r->rdlen < 7)
			return NULL;
		t = r->rdata + 6;
		n = r->rdlen - 6u;
		break;
	default:
		return NULL;
	}
	*tlen = n;
	return t;
}

static bool rec_names_ok(const struct rec *r)
{
	size_t tlen;
	const uint8_t *t;

	if (!name_ok(r->owner, r->olen))
		return false;
	if (r->type == TYPE_PTR)
		return name_ok(r->rdata, r->rdlen);
	t = rec_target(r, &tlen);
	if (r->type == TYPE_CNAME || r->type == TYPE_NS || r->type == TYPE_SRV)
		return t && name_ok(t, tlen);
	return true;
}

/* ---- writer-side name table ---- */

static uint64_t key_hash(const char *s)
{
	return dname_hash((const uint8_t *)s, strlen(s));
}

static struct wname *wname_find(const struct zone_index *zi,
				const uint8_t *name, size_t len)
{
	uint64_t h = dname_hash(name, len);
	struct wname *w = zi->wtab[h & zi->wmask];

	for (; w; w = w->hnext)
		if (w->hash == h && w->len == len &&
		    memcmp(w->name, name, len) == 0)
			return w;
	return NULL;
}

/* wname_find for a name in any letter case. */
static struct wname *wname_find_any(const struct zone_index *zi,
				    const uint8_t *name, size_t len)
{
	uint8_t l[DNAME_MAX];

	dname_lower_copy(l, name, len);
	return wname_find(zi, l, len);
}

static int grow_table(void ***tab, size_t *mask, size_t count, size_t next_off)
{
	if (count < *mask + 1)
		return 0;
	size_t nsize = (*mask + 1) * 2;
	void **nt = calloc(nsize, sizeof(void *));
	if (!nt)
		return -ENOMEM;
	for (size_t i = 0; i <= *mask; i++) {
		void *e = (*tab)[i];
		while (e) {
			void **nextp = (void **)((char *)e + next_off);
			void *next = *nextp;
			uint64_t h = *(uint64_t *)((char *)e + next_off +
						   sizeof(void *));
			*nextp = nt[h & (nsize - 1)];
			nt[h & (nsize - 1)] = e;
			e = next;
		}
	}
	free(*tab);
	*tab = nt;
	*mask = nsize - 1;
	return 0;
}

static int apex_index(const struct zone_index *zi, const uint8_t *name,
		      size_t len)
{
	int best = -1;
	size_t blen = 0;

	for (size_t i = 0; i < zi->napex; i++) {
		const struct zone_apex *a = &zi->apex[i];
		if (dname_suffix_at(name, len, a->name, a->len) >= 0 &&
		    (best < 0 || a->len > blen)) {
			best = (int)i;
			blen = a->len;
		}
	}
	return best;
}

static struct wname *wname_get(struct zone_index *zi, const uint8_t *name,
			       size_t len)
{
	struct wname *w = wname_find(zi, name, len);

	if (w)
		return w;
	if (grow_table((void ***)&zi->wtab, &zi->wmask, zi->wcount,
		       offsetof(struct wname, hnext)) < 0)
		return NULL;
	w = calloc(1, sizeof(*w) + len);
	if (!w)
		return NULL;
	w->hash = dname_hash(name, len);
	w->len = (uint8_t)len;
	memcpy(w->name, name, len);
	w->apex = apex_index(zi, name, len);
	w->hnext = zi->wtab[w->hash & zi->wmask];
	zi->wtab[w->hash & zi->wmask] = w;
	zi->wcount++;
	return w;
}

static void wname_unlink_free(struct zone_index *zi, struct wname *w)
{
	struct wname **pp = &zi->wtab[w->hash & zi->wmask];

	while (*pp != w)
		pp = &(*pp)->hnext;
	*pp = w->hnext;
	zi->wcount--;
	free(w->c);
	free(w->r);
	free(w);
}

static void mark_dirty(struct zone_index *zi, struct wname *w)
{
	if (w->dirty)
		return;
	if (vec_push(&zi->dirty, &w, sizeof(w)) == 0)
		w->dirty = true;
}

/* Count w (delta +1 / -1) in the ent counter of its ancestors below the
 * apex; an ancestor that appears or vanishes is dirty. */
static int ancestors_adjust(struct zone_index *zi, struct wname *w, int delta)
{
	if (w->apex < 0 || w->is_apex)
		return 0;
	size_t alen = zi->apex[w->apex].len;
	size_t off = (size_t)w->name[0] + 1;

	while (w->len - off > alen) {
		struct wname *a = wname_get(zi, w->name + off, w->len - off);
		if (!a)
			return -ENOMEM;
		if (delta > 0) {
			if (a->ent++ == 0)
				mark_dirty(zi, a);
		} else {
			if (--a->ent == 0)
				mark_dirty(zi, a);
		}
		off += (size_t)w->name[off] + 1;
	}
	return 0;
}

/* ---- owners ---- */

static struct owner *owner_find(const struct zone_index *zi, const char *key,
				uint64_t h)
{
	struct owner *o = zi->otab[h & zi->omask];

	for (; o; o = o->hnext)
		if (o->hash == h && strcmp(o->key, key) == 0)
			return o;
	return NULL;
}

static void owner_unlink_free(struct zone_index *zi, struct owner *o)
{
	struct owner **pp = &zi->otab[o->hash & zi->omask];

	while (*pp != o)
		pp = &(*pp)->hnext;
	*pp = o->hnext;
	zi->ocount--;
	free(o->blob);
	free(o);
}

/* Take every record of owner o out of the names (and the refs of their
 * targets). */
static void owner_withdraw(struct zone_index *zi, struct owner *o)
{
	struct rec r;
	size_t off = 0, next;

	zi->marked.n = 0;
	while (off < o->len && rec_parse(o->blob, o->len, off, &r, &next)) {
		struct wname *w = wname_find(zi, r.owner, r.olen);
		if (w && !w->mark) {
			w->mark = true;
			vec_push(&zi->marked, &w, sizeof(w));
		}
		size_t tlen;
		const uint8_t *t = rec_target(&r, &tlen);
		struct wname *tw = t ? wname_find_any(zi, t, tlen) : NULL;
		if (tw && !tw->mark) {
			tw->mark = true;
			vec_push(&zi->marked, &tw, sizeof(tw));
		}
		off = next;
	}
	struct wname **m = zi->marked.p;
	for (size_t i = 0; i < zi->marked.n; i++) {
		struct wname *w = m[i];
		uint32_t had = w->nc, k = 0;
		for (uint32_t j = 0; j < w->nc; j++)
			if (w->c[j].o != o)
				w->c[k++] = w->c[j];
		w->nc = k;
		if (k != had)
			mark_dirty(zi, w);
		if (had && !k)
			ancestors_adjust(zi, w, -1);
		k = 0;
		for (uint32_t j = 0; j < w->nr; j++)
			if (w->r[j].o != o)
				w->r[k++] = w->r[j];
		w->nr = k;
		w->mark = false;
	}
	zi->marked.n = 0;
}

static int push_contrib(struct wname *w, struct owner *o, uint32_t off)
{
	if (w->nc == w->capc) {
		uint32_t cap = w->capc ? w->capc * 2 : 2;
		struct contrib *c = realloc(w->c, cap * sizeof(*c));
		if (!c)
			return -ENOMEM;
		w->c = c;
		w->capc = cap;
	}
	w->c[w->nc].o = o;
	w->c[w->nc].off = off;
	w->nc++;
	return 0;
}

static int push_ref(struct wname *t, struct wname *w, struct owner *o)
{
	if (t->nr && t->r[t->nr - 1].w == w && t->r[t->nr - 1].o == o)
		return 0;
	if (t->nr == t->capr) {
		uint32_t cap = t->capr ? t->capr * 2 : 2;
		struct ref *r = realloc(t->r, cap * sizeof(*r));
		if (!r)
			return -ENOMEM;
		t->r = r;
		t->capr = cap;
	}
	t->r[t->nr].w = w;
	t->r[t->nr].o = o;
	t->nr++;
	return 0;
}

static int owner_contribute(struct zone_index *zi, struct owner *o)
{
	struct rec r;
	size_t off = 0, next;

	while (off < o->len && rec_parse(o->blob, o->len, off, &r, &next)) {
		struct wname *w = wname_get(zi, r.owner, r.olen);
		if (!w)
			return -ENOMEM;
		if (push_contrib(w, o, (uint32_t)off) < 0)
			return -ENOMEM;
		if (w->nc == 1 && ancestors_adjust(zi, w, +1) < 0)
			return -ENOMEM;
		mark_dirty(zi, w);
		size_t tlen;
		const uint8_t *t = rec_target(&r, &tlen);
		if (t) {
			uint8_t l[DNAME_MAX];
			dname_lower_copy(l, t, tlen);
			struct wname *tw = wname_get(zi, l, tlen);
			if (!tw || push_ref(tw, w, o) < 0)
				return -ENOMEM;
		}
		off = next;
	}
	return 0;
}

int zone_owner_set(struct zone_index *zi, const char *key, const uint8_t *recs,
		   size_t len, uint64_t gen)
{
	uint64_t h = key_hash(key);
	struct owner *o = owner_find(zi, key, h);
	struct rec r;
	size_t off = 0, next;

	while (off < len) {
		if (!rec_parse(recs, len, off, &r, &next) || !rec_names_ok(&r))
			return -EINVAL;
		if (apex_index(zi, r.owner, r.olen) < 0)
			return -EINVAL;
		off = next;
	}
	if (o) {
		o->gen = gen;
		if (o->len == len && memcmp(o->blob, recs, len) == 0)
			return 0;
		owner_withdraw(zi, o);
		if (len == 0) {
			owner_unlink_free(zi, o);
			return 0;
		}
		uint8_t *nb = malloc(len);
		if (!nb) {
			/* Withdrawn already: drop the owner altogether. */
			owner_unlink_free(zi, o);
			return -ENOMEM;
		}
		memcpy(nb, recs, len);
		free(o->blob);
		o->blob = nb;
		o->len = len;
	} else {
		if (len == 0)
			return 0;
		if (grow_table((void ***)&zi->otab, &zi->omask, zi->ocount,
			       offsetof(struct owner, hnext)) < 0)
			return -ENOMEM;
		size_t kl = strlen(key);
		o = calloc(1, sizeof(*o) + kl + 1);
		if (!o)
			return -ENOMEM;
		o->blob = malloc(len);
		if (!o->blob) {
			free(o);
			return -ENOMEM;
		}
		memcpy(o->key, key, kl + 1);
		memcpy(o->blob, recs, len);
		o->len = len;
		o->hash = h;
		o->gen = gen;
		o->hnext = zi->otab[h & zi->omask];
		zi->otab[h & zi->omask] = o;
		zi->ocount++;
	}
	if (owner_contribute(zi, o) < 0) {
		owner_withdraw(zi, o);
		owner_unlink_free(zi, o);
		return -ENOMEM;
	}
	return 0;
}

size_t zone_owner_drop_stale(struct zone_index *zi, uint64_t gen)
{
	size_t dropped = 0;

	for (size_t i = 0; i <= zi->omask; i++) {
		struct owner *o = zi->otab[i];
		while (o) {
			struct owner *next = o->hnext;
			if (o->gen != gen) {
				owner_withdraw(zi, o);
				owner_unlink_free(zi, o);
				dropped++;
			}
			o = next;
		}
	}
	return dropped;
}

/* ---- building reader nodes ---- */

static int rec_cmp(const void *a, const void *b)
{
	const struct rec *x = a, *y = b;

	if (x->type != y->type)
		return x->type < y->type ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

static int rdata_cmp(const void *a, const void *b)
{
	const struct rec *x = *(const struct rec *const *)a;
	const struct rec *y = *(const struct rec *const *)b;

	if (x->rdlen != y->rdlen)
		return x->rdlen < y->rdlen ? -1 : 1;
	int c = memcmp(x->rdata, y->rdata, x->rdlen);
	if (c)
		return c;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* Gather the records of w into zi->recs, sorted by type then contribution
 * order, without duplicates (same type and rdata). */
static int gather(struct zone_index *zi, const struct wname *w)
{
	struct vec *v = &zi->recs;
	struct rec r;
	size_t next;

	v->n = 0;
	for (uint32_t i = 0; i < w->nc; i++) {
		const struct contrib *c = &w->c[i];
		if (!rec_parse(c->o->blob, c->o->len, c->off, &r, &next))
			continue;
		if (r.type == ZONE_TYPE_EXISTS)
			continue;
		r.order = i;
		if (vec_push(v, &r, sizeof(r)) < 0)
			return -ENOMEM;
	}
	struct rec *rs = v->p;
	if (v->n < 2)
		return 0;
	qsort(rs, v->n, sizeof(*rs), rec_cmp);
	/* Drop duplicates per type: small sets pairwise, large ones sorted. */
	size_t out = 0;
	for (size_t s = 0; s < v->n;) {
		size_t e = s;
		while (e < v->n && rs[e].type == rs[s].type)
			e++;
		size_t n = e - s;
		if (n <= 16) {
			for (size_t i = s; i < e; i++) {
				bool dup = false;
				for (size_t j = s; j < i && !dup; j++)
					dup = rs[j].rdlen == rs[i].rdlen &&
					      !memcmp(rs[j].rdata, rs[i].rdata,
						      rs[i].rdlen);
				if (!dup)
					rs[out++] = rs[i];
			}
		} else {
			struct rec **idx = malloc(n * sizeof(*idx));
			if (!idx)
				return -ENOMEM;
			for (size_t i = 0; i < n; i++)
				idx[i] = &rs[s + i];
			qsort(idx, n, sizeof(*idx), rdata_cmp);
			for (size_t i = 1; i < n; i++)
				if (idx[i]->rdlen == idx[i - 1]->rdlen &&
				    !memcmp(idx[i]->rdata, idx[i - 1]->rdata,
					    idx[i]->rdlen))
					idx[i]->type = 0xffff; /* dropped */
			free(idx);
			for (size_t i = s; i < e; i++)
				if (rs[i].type != 0xffff)
					rs[out++] = rs[i];
		}
		s = e;
	}
	v->n = out;
	return 0;
}

/* Write an RR at the end of b.  The owner is a pointer to packet offset
 * ptr when that fits in a pointer, else the name itself. */
static void put_rr(struct buf *b, unsigned ptr, const uint8_t *owner,
		   size_t olen, uint16_t type, uint32_t ttl,
		   const uint8_t *rdata, uint16_t rdlen)
{
	if (ptr <= MAX_PTR)
		buf_u16(b, (uint16_t)(0xc000 | ptr));
	else
		buf_put(b, owner, olen);
	buf_u16(b, type);
	buf_u16(b, CLASS_IN);
	buf_u32(b, ttl);
	buf_u16(b, rdlen);
	buf_put(b, rdata, rdlen);
}

struct entry_ctx {
	struct zone_index *zi;
	size_t base; /* packet offset of the entry's first byte */
	size_t start;
	struct zone_entry e;
};

static void entry_begin(struct entry_ctx *x, struct zone_index *zi,
			const struct wname *w, uint16_t qtype)
{
	x->zi = zi;
	x->base = 12 + (size_t)w->len + 4; /* header, question */
	x->start = zi->data.len;
	memset(&x->e, 0, sizeof(x->e));
	x->e.qtype = qtype;
	x->e.off = (uint32_t)x->start;
}

/* Packet offset of the next byte written. */
static size_t entry_pos(const struct entry_ctx *x)
{
	return x->base + (x->zi->data.len - x->start);
}

static int entry_end(struct entry_ctx *x, size_t noadd_len)
{
	x->e.len = (uint32_t)(x->zi->data.len - x->start);
	x->e.len_noadd = (uint32_t)noadd_len;
	return vec_push(&x->zi->ents, &x->e, sizeof(x->e));
}

/* The records of name w of one type, from zi->recs gathered for w.  Since
 * gather() is per name, callers gather the name first. */
static void recs_of_type(const struct zone_index *zi, uint16_t type,
			 const struct rec **first, size_t *n)
{
	const struct rec *rs = zi->recs.p;
	size_t i = 0;

	while (i < zi->recs.n && rs[i].type != type)
		i++;
	*first = rs + i;
	size_t j = i;
	while (j < zi->recs.n && rs[j].type == type)
		j++;
	*n = j - i;
}

/* True when a contribution of t before the i-th one is the same record
 * (type and rdata) as r. */
static bool contrib_dup(const struct wname *t, uint32_t i, const struct rec *r)
{
	struct rec q;
	size_t next;

	for (uint32_t j = 0; j < i; j++) {
		const struct contrib *d = &t->c[j];
		if (rec_parse(d->o->blob, d->o->len, d->off, &q, &next) &&
		    q.type == r->type && q.rdlen == r->rdlen &&
		    !memcmp(q.rdata, r->rdata, r->rdlen))
			return true;
	}
	return false;
}

/* Append the A and AAAA RRs of target t as additional data, owner pointing
 * at packet offset ptr (or the name when too far).  Reads t's contributions
 * directly, without gather(), to keep zi->recs intact. */
static void put_glue(struct entry_ctx *x, const struct wname *t, size_t ptr)
{
	struct rec r;
	size_t next;

	for (int pass = 0; pass < 2; pass++) {
		uint16_t want = pass ? TYPE_AAAA : TYPE_A;
		for (uint32_t i = 0; i < t->nc; i++) {
			const struct contrib *c = &t->c[i];
			if (!rec_parse(c->o->blob, c->o->len, c->off, &r,
				       &next) ||
			    r.type != want)
				continue;
			if (contrib_dup(t, i, &r))
				continue;
			put_rr(&x->zi->data, (unsigned)ptr, t->name, t->len,
			       want, x->zi->ttl, r.rdata, r.rdlen);
			x->e.ar++;
		}
	}
}

/* An RRset of w with glue for SRV and NS targets. */
static int build_rrset(struct zone_index *zi, const struct wname *w,
		       const struct rec *rs, size_t n)
{
	struct entry_ctx x;
	size_t tpos[64];
	const struct wname *tw[64];
	size_t nt = 0;

	entry_begin(&x, zi, w, rs[0].type);
	for (size_t i = 0; i < n; i++) {
		size_t pos = entry_pos(&x);
		put_rr(&zi->data, 12, w->name, w->len, rs[i].type, zi->ttl,
		       rs[i].rdata, rs[i].rdlen);
		x.e.an++;
		size_t tlen;
		const uint8_t *t =
		    rs[i].type == TYPE_SRV || rs[i].type == TYPE_NS
			? rec_target(&rs[i], &tlen)
			: NULL;
		if (!t || nt == 64)
			continue;
		const struct wname *tn = wname_find_any(zi, t, tlen);
		if (!tn || !tn->nc)
			continue;
		bool seen = false;
		for (size_t k = 0; k < nt && !seen; k++)
			seen = tw[k] == tn;
		if (seen)
			continue;
		tw[nt] = tn;
		tpos[nt++] = pos + 12 + (rs[i].type == TYPE_SRV ? 6 : 0);
	}
	size_t noadd = zi->data.len - x.start;
	for (size_t k = 0; k < nt; k++)
		put_glue(&x, tw[k], tpos[k]);
	return entry_end(&x, noadd);
}

static bool wname_exists(const struct wname *w)
{
	return w && (w->nc || w->ent || w->is_apex);
}

static const struct rec *first_of_type(const struct wname *w, uint16_t type,
				       struct rec *r)
{
	size_t next;

	for (uint32_t i = 0; i < w->nc; i++) {
		const struct contrib *c = &w->c[i];
		if (rec_parse(c->o->blob, c->o->len, c->off, r, &next) &&
		    r->type == type)
			return r;
	}
	return NULL;
}

/* The answer of CNAME node w for qtype (0: any type without its own): the
 * chain of CNAMEs through the zone, then the final name's RRset. */
static int build_chase(struct zone_index *zi, const struct wname *w,
		       const struct rec *cname, uint16_t qtype)
{
	struct entry_ctx x;
	struct rec r;
	const uint8_t *target = cname->rdata;
	size_t tlen = cname->rdlen;
	const struct wname *t;

	entry_begin(&x, zi, w, qtype);
	size_t pos = entry_pos(&x) + 12;
	put_rr(&zi->data, 12, w->name, w->len, TYPE_CNAME, zi->ttl,
	       cname->rdata, cname->rdlen);
	x.e.an++;
	for (int hops = 0;; hops++) {
		t = wname_find_any(zi, target, tlen);
		const struct rec *next =
		    t ? first_of_type(t, TYPE_CNAME, &r) : NULL;
		if (!next || qtype == TYPE_CNAME)
			break;
		if (hops == MAX_CHASE) {
			x.e.rcode =
			    2; /* SERVFAIL: a loop or a chain too long */
			return entry_end(&x, zi->data.len - x.start);
		}
		size_t npos = entry_pos(&x) + 12;
		put_rr(&zi->data, (unsigned)pos, target, tlen, TYPE_CNAME,
		       zi->ttl, next->rdata, next->rdlen);
		x.e.an++;
		pos = npos;
		target = next->rdata;
		tlen = next->rdlen;
	}
	uint8_t l[DNAME_MAX];
	dname_lower_copy(l, target, tlen);
	size_t written = 0;
	if (t && qtype && qtype != TYPE_CNAME) {
		size_t next;
		for (uint32_t i = 0; i < t->nc; i++) {
			const struct contrib *c = &t->c[i];
			if (!rec_parse(c->o->blob, c->o->len, c->off, &r,
				       &next) ||
			    r.type != qtype || contrib_dup(t, i, &r))
				continue;
			put_rr(&zi->data, (unsigned)pos, target, tlen, qtype,
			       zi->ttl, r.rdata, r.rdlen);
			x.e.an++;
			written++;
		}
	}
	if (!written && qtype != TYPE_CNAME) {
		if (wname_exists(t))
			x.e.flags |= ZONE_ENTRY_SOA;
		else if (apex_index(zi, l, tlen) >= 0) {
			x.e.flags |= ZONE_ENTRY_SOA;
			x.e.rcode = 3; /* NXDOMAIN */
		} else {
			x.e.flags |= ZONE_ENTRY_EXTERNAL;
		}
	}
	return entry_end(&x, zi->data.len - x.start);
}

static int build_cname(struct zone_index *zi, const struct wname *w,
		       const struct rec *cname)
{
	struct rec r = *cname;
	uint16_t types[32];
	size_t ntypes = 0;

	if (build_chase(zi, w, &r, TYPE_CNAME) < 0)
		return -ENOMEM;
	/* The final target's types get their own entries. */
	const struct wname *t = wname_find_any(zi, r.rdata, r.rdlen);
	for (int hops = 0; t && hops < MAX_CHASE; hops++) {
		struct rec n;
		if (!first_of_type(t, TYPE_CNAME, &n))
			break;
		t = wname_find_any(zi, n.rdata, n.rdlen);
	}
	types[ntypes++] = TYPE_A;
	types[ntypes++] = TYPE_AAAA;
	for (uint32_t i = 0; t && i < t->nc && ntypes < 32; i++) {
		struct rec q;
		size_t next;
		const struct contrib *c = &t->c[i];
		if (!rec_parse(c->o->blob, c->o->len, c->off, &q, &next) ||
		    q.type == ZONE_TYPE_EXISTS || q.type == TYPE_CNAME)
			continue;
		bool seen = false;
		for (size_t k = 0; k < ntypes && !seen; k++)
			seen = types[k] == q.type;
		if (!seen)
			types[ntypes++] = q.type;
	}
	for (size_t k = 0; k < ntypes; k++)
		if (build_chase(zi, w, &r, types[k]) < 0)
			return -ENOMEM;
	return build_chase(zi, w, &r, 0);
}

static void soa_rdata(const struct zone_index *zi, const struct zone_apex *a,
		      struct buf *b)
{
	static const uint8_t hm[] = {10,  'h', 'o', 's', 't', 'm',
				     'a', 's', 't', 'e', 'r'};

	buf_put(b, a->mname, a->mlen);
	buf_put(b, hm, sizeof(hm));
	buf_put(b, a->name, a->len);
	buf_u32(b, zi->serial);
	buf_u32(b, 7200);
	buf_u32(b, 1800);
	buf_u32(b, 86400);
	buf_u32(b, zi->ttl);
}

static uint32_t soa_ttl(const struct zone_index *zi)
{
	return zi->ttl < 300 ? zi->ttl : 300;
}

static int build_soa_entry(struct zone_index *zi, const struct wname *w)
{
	struct entry_ctx x;
	struct buf rd = {0};

	soa_rdata(zi, &zi->apex[w->apex], &rd);
	if (rd.oom)
		return -ENOMEM;
	entry_begin(&x, zi, w, TYPE_SOA);
	put_rr(&zi->data, 12, w->name, w->len, TYPE_SOA, soa_ttl(zi), rd.p,
	       (uint16_t)rd.len);
	free(rd.p);
	x.e.an = 1;
	return entry_end(&x, zi->data.len - x.start);
}

static struct zone_node *build_node(struct zone_index *zi, struct wname *w)
{
	zi->data.len = 0;
	zi->data.oom = false;
	zi->ents.n = 0;
	if (gather(zi, w) < 0)
		return NULL;

	const struct rec *rs = zi->recs.p;
	const struct rec *cn;
	size_t ncn;
	recs_of_type(zi, TYPE_CNAME, &cn, &ncn);
	if (ncn) {
		struct rec c = cn[0];
		if (build_cname(zi, w, &c) < 0)
			return NULL;
	} else {
		if (w->is_apex && build_soa_entry(zi, w) < 0)
			return NULL;
		for (size_t s = 0; s < zi->recs.n;) {
			size_t e = s;
			while (e < zi->recs.n && rs[e].type == rs[s].type)
				e++;
			if (!(w->is_apex && rs[s].type == TYPE_SOA) &&
			    build_rrset(zi, w, rs + s, e - s) < 0)
				return NULL;
			s = e;
		}
	}
	if (zi->data.oom)
		return NULL;

	size_t ne = zi->ents.n;
	size_t sz = sizeof(struct zone_node) + ne * sizeof(struct zone_entry) +
		    w->len + zi->data.len;
	struct zone_node *n = malloc(sz);
	if (!n)
		return NULL;
	cds_lfht_node_init(&n->lnode);
	n->apex = &zi->apex[w->apex];
	n->nentries = (uint16_t)ne;
	n->len = w->len;
	if (ne)
		memcpy(n->e, zi->ents.p, ne * sizeof(struct zone_entry));
	uint8_t *name = (uint8_t *)(n->e + ne);
	memcpy(name, w->name, w->len);
	if (zi->data.len)
		memcpy(name + w->len, zi->data.p, zi->data.len);
	return n;
}

/* ---- reader side ---- */

struct lookup_key {
	const uint8_t *name;
	size_t len;
};

static const uint8_t *node_name(const struct zone_node *n)
{
	return (const uint8_t *)(n->e + n->nentries);
}

static int node_match(struct cds_lfht_node *ln, const void *key)
{
	const struct zone_node *n =
	    caa_container_of(ln, struct zone_node, lnode);
	const struct lookup_key *k = key;

	return n->len == k->len && memcmp(node_name(n), k->name, k->len) == 0;
}

const struct zone_apex *zone_apex_of(const struct zone_index *zi,
				     const uint8_t *lname, size_t len,
				     size_t *apex_len)
{
	int i = apex_index(zi, lname, len);

	if (i < 0)
		return NULL;
	*apex_len = zi->apex[i].len;
	return &zi->apex[i];
}

const struct zone_node *zone_lookup(const struct zone_index *zi,
				    const uint8_t *lname, size_t len)
{
	struct cds_lfht_iter it;
	struct lookup_key k = {lname, len};

	cds_lfht_lookup(zi->ht, (unsigned long)dname_hash(lname, len),
			node_match, &k, &it);
	struct cds_lfht_node *ln = cds_lfht_iter_get_node(&it);
	return ln ? caa_container_of(ln, struct zone_node, lnode) : NULL;
}

const struct zone_entry *zone_node_find(const struct zone_node *n,
					uint16_t qtype)
{
	const struct zone_entry *dflt = NULL;

	if (qtype == TYPE_ANY)
		return n->nentries ? &n->e[0] : NULL;
	for (uint16_t i = 0; i < n->nentries; i++) {
		if (n->e[i].qtype == qtype)
			return &n->e[i];
		if (n->e[i].qtype == 0)
			dflt = &n->e[i];
	}
	return dflt;
}

const uint8_t *zone_node_data(const struct zone_node *n)
{
	return node_name(n) + n->len;
}

const struct zone_apex *zone_node_apex(const struct zone_node *n)
{
	return n->apex;
}

const uint8_t *zone_apex_soa(const struct zone_apex *a, size_t *len)
{
	const struct zone_soa *s = rcu_dereference(a->soa);

	*len = s->len;
	return s->rr;
}

/* ---- commit ---- */

static void node_free_rcu(struct rcu_head *h)
{
	free(caa_container_of(h, struct zone_node, rcu));
}

static void soa_free_rcu(struct rcu_head *h)
{
	free(caa_container_of(h, struct zone_soa, rcu));
}

static int publish(struct zone_index *zi, struct wname *w)
{
	bool live = w->nc || w->ent || w->is_apex;

	if (!live) {
		if (w->node) {
			cds_lfht_del(zi->ht, &w->node->lnode);
			call_rcu(&w->node->rcu, node_free_rcu);
			w->node = NULL;
			zi->published--;
		}
		return 0;
	}
	struct zone_node *n = build_node(zi, w);
	if (!n)
		return -ENOMEM;
	struct lookup_key k = {w->name, w->len};
	struct cds_lfht_node *old = cds_lfht_add_replace(
	    zi->ht, (unsigned long)w->hash, node_match, &k, &n->lnode);
	if (old)
		call_rcu(&caa_container_of(old, struct zone_node, lnode)->rcu,
			 node_free_rcu);
	else
		zi->published++;
	w->node = n;
	return 0;
}

static int apex_soa_update(struct zone_index *zi, struct zone_apex *a)
{
	struct buf rd = {0}, rr = {0};

	soa_rdata(zi, a, &rd);
	put_rr(&rr, 0, a->name, a->len, TYPE_SOA, soa_ttl(zi), rd.p,
	       (uint16_t)rd.len);
	free(rd.p);
	if (rr.oom)
		return -ENOMEM;
	struct zone_soa *s = malloc(sizeof(*s) + rr.len);
	if (!s) {
		free(rr.p);
		return -ENOMEM;
	}
	s->len = rr.len;
	memcpy(s->rr, rr.p, rr.len);
	free(rr.p);
	struct zone_soa *old = a->soa;
	rcu_assign_pointer(a->soa, s);
	if (old)
		call_rcu(&old->rcu, soa_free_rcu);
	return 0;
}

int zone_commit(struct zone_index *zi)
{
	int err = 0;

	if (zi->dirty.n == 0)
		return 0;
	/* Names whose answers read a changed name change too. */
	for (size_t i = 0; i < zi->dirty.n; i++) {
		struct wname *w = ((struct wname **)zi->dirty.p)[i];
		for (uint32_t j = 0; j < w->nr; j++)
			mark_dirty(zi, w->r[j].w);
	}
	uint32_t now = (uint32_t)time(NULL);
	zi->serial = (int32_t)(now - zi->serial) > 0 ? now : zi->serial + 1;
	for (size_t i = 0; i < zi->napex; i++) {
		if (apex_soa_update(zi, &zi->apex[i]) < 0)
			err = -ENOMEM;
		mark_dirty(zi, zi->apex[i].w);
	}

	rcu_read_lock();
	struct wname **d = zi->dirty.p;
	size_t n = zi->dirty.n;
	for (size_t i = 0; i < n; i++)
		if (publish(zi, d[i]) < 0)
			err = -ENOMEM;
	rcu_read_unlock();

	for (size_t i = 0; i < n; i++) {
		struct wname *w = d[i];
		w->dirty = false;
		if (!w->nc && !w->ent && !w->nr && !w->node && !w->is_apex)
			wname_unlink_free(zi, w);
	}
	zi->dirty.n = 0;
	return err < 0 ? err : (int)n;
}

/* ---- lifetime and introspection ---- */

struct zone_index *zone_index_new(const uint8_t *const *zones,
				  const uint8_t *const *mnames, size_t nzones,
				  uint32_t ttl)
{
	struct zone_index *zi;

	if (nzones == 0 || nzones > ZONE_MAX_APEX)
		return NULL;
	zi = calloc(1, sizeof(*zi));
	if (!zi)
		return NULL;
	zi->ttl = ttl;
	zi->wmask = 1023;
	zi->omask = 255;
	zi->wtab = calloc(zi->wmask + 1, sizeof(*zi->wtab));
	zi->otab = calloc(zi->omask + 1, sizeof(*zi->otab));
	zi->ht = cds_lfht_new(1024, 1024, 0,
			      CDS_LFHT_AUTO_RESIZE | CDS_LFHT_ACCOUNTING, NULL);
	if (!zi->wtab || !zi->otab || !zi->ht)
		goto fail;
	for (size_t i = 0; i < nzones; i++) {
		struct zone_apex *a = &zi->apex[i];
		a->len = (uint8_t)dname_len(zones[i]);
		memcpy(a->name, zones[i], a->len);
		a->mlen = (uint8_t)dname_len(mnames[i]);
		memcpy(a->mname, mnames[i], a->mlen);
	}
	zi->napex = nzones;
	for (size_t i = 0; i < nzones; i++) {
		struct zone_apex *a = &zi->apex[i];
		a->w = wname_get(zi, a->name, a->len);
		if (!a->w)
			goto fail;
		a->w->is_apex = true;
		a->w->apex = (int)i;
		mark_dirty(zi, a->w);
	}
	if (zone_commit(zi) < 0)
		goto fail;
	return zi;
fail:
	zone_index_free(zi);
	return NULL;
}

void zone_index_free(struct zone_index *zi)
{
	if (!zi)
		return;
	if (zi->ht) {
		rcu_read_lock();
		for (size_t i = 0; zi->wtab && i <= zi->wmask; i++)
			for (struct wname *w = zi->wtab[i]; w; w = w->hnext)
				if (w->node)
					cds_lfht_del(zi->ht, &w->node->lnode);
		rcu_read_unlock();
		synchronize_rcu();
		rcu_barrier();
		cds_lfht_destroy(zi->ht, NULL);
	}
	for (size_t i = 0; zi->wtab && i <= zi->wmask; i++) {
		struct wname *w = zi->wtab[i];
		while (w) {
			struct wname *next = w->hnext;
			free(w->node);
			free(w->c);
			free(w->r);
			free(w);
			w = next;
		}
	}
	for (size_t i = 0; zi->otab && i <= zi->omask; i++) {
		struct owner *o = zi->otab[i];
		while (o) {
			struct owner *next = o->hnext;
			free(o->blob);
			free(o);
			o = next;
		}
	}
	for (size_t i = 0; i < zi->napex; i++)
		free(zi->apex[i].soa);
	free(zi->wtab);
	free(zi->otab);
	free(zi->dirty.p);
	free(zi->marked.p);
	free(zi->data.p);
	free(zi->ents.p);
	free(zi->recs.p);
	free(zi);
}

uint32_t zone_serial(const struct zone_index *zi)
{
	return zi->serial;
}

uint32_t zone_ttl(const struct zone_index *zi)
{
	return zi->ttl;
}

size_t zone_count_names(const struct zone_index *zi)
{
	return zi->published;
}

size_t zone_count_owners(const struct zone_index *zi)
{
	return zi->ocount;
}

size_t zone_count_apexes(const struct zone_index *zi)
{
	return zi->napex;
}

const uint8_t *zone_apex_name(const struct zone_index *zi, size_t i)
{
	return i < zi->napex ? zi->apex[i].name : NULL;
}

int zone_each_rr(const struct zone_index *zi,
		 int (*cb)(const uint8_t *owner, uint16_t type, uint32_t ttl,
			   const uint8_t *rdata, uint16_t rdlen, void *arg),
		 void *arg)
{
	struct zone_index *z = (struct zone_index *)zi;
	int rc;

	for (size_t i = 0; i < zi->napex; i++) {
		struct buf rd = {0};
		soa_rdata(zi, &zi->apex[i], &rd);
		rc = rd.oom ? -ENOMEM
			    : cb(zi->apex[i].name, TYPE_SOA, soa_ttl(zi), rd.p,
				 (uint16_t)rd.len, arg);
		free(rd.p);
		if (rc)
			return rc;
	}
	for (size_t i = 0; i <= zi->wmask; i++) {
		for (struct wname *w = zi->wtab[i]; w; w = w->hnext) {
			if (!w->nc)
				continue;
			if (gather(z, w) < 0)
				return -ENOMEM;
			const struct rec *rs = z->recs.p;
			for (size_t k = 0; k < z->recs.n; k++) {
				rc = cb(w->name, rs[k].type, zi->ttl,
					rs[k].rdata, rs[k].rdlen, arg);
				if (rc)
					return rc;
			}
		}
	}
	return 0;
}
