/*
 * zone.c -- the zone index: writer-side names with the records owners
 * contribute, and reader-side nodes with precomputed answers, found in an
 * RCU pointer set (rcuhash.h).
 */
#include "zones/zone.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <urcu.h>

#include "zones/dname.h"
#include "zones/rcuhash.h"

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

/*
 * Memory layout.  Every DNS name the writer knows is one struct zname, kept
 * in the RCU pointer set the readers search: the name is stored once.
 * Its answers are a separate block (struct zone_node, what readers get from
 * zone_lookup) that the writer replaces as a whole; a name without a block
 * does not exist for readers.  The records of an owner are one allocation
 * of groups, each holding the consecutive records of one name and linked
 * into that name's list of contributions.
 */

struct owner {
	struct owner *hnext;
	uint64_t hash;
	uint64_t gen;
	uint8_t *blob; /* groups, see struct grp */
	size_t len;
	char key[];
};

/* Records of one owner at one name: n records [u16 type][u16 rdlen][rdata]
 * follow the header, bytes long, padded to 8. */
struct grp {
	struct grp *next; /* next contribution at zn, in contribution order */
	struct zname *zn;
	uint32_t n;
	uint32_t bytes;
};

/* Name w reads this name's records for its answers (through records of
 * owner o): when this name changes, w is rebuilt. */
struct ref {
	struct zname *w;
	struct owner *o;
};

struct refs {
	uint32_t n, cap;
	struct ref r[];
};

enum {
	ZN_DIRTY = 1,
	ZN_MARK = 2,
	ZN_APEX = 4,
	ZN_GC = 8,   /* in the list of names that may have become unused */
	ZN_DEAD = 16 /* unlinked, freed after a grace period */
};

struct zname {
	struct zone_node *pub; /* RCU-protected; NULL: no such name */
	struct grp *g;	       /* contributions */
	struct refs *refs;
	uint32_t ent; /* names with records below this one */
	int8_t apex;
	uint8_t flags;
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
	struct zname *w;
	struct zone_node *ent;	 /* answers of names without records */
	uint8_t len, mlen, rlen; /* rlen 0: RNAME hostmaster.<name> */
	uint8_t tag;		 /* zone_set_tag */
	uint8_t nlabels;	 /* of name, the root not counted */
	uint8_t name[DNAME_MAX];
	uint8_t mname[DNAME_MAX];
	uint8_t rname[DNAME_MAX];
};

/* The answers of a name: entries, then their data. */
struct zone_node {
	const struct zone_apex *apex;
	uint16_t nentries;
	struct zone_entry e[];
};

/* Pointers freed together after a grace period. */
struct garbage {
	struct rcu_head rcu;
	size_t n;
	void *p[];
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
	struct rcuhash *names; /* struct zname */
	struct zone_apex apex[ZONE_MAX_APEX];
	size_t napex;
	uint32_t ttl;
	uint32_t serial;
	struct owner **otab;
	size_t omask, ocount;
	struct vec dirty; /* struct zname * */
	struct vec gc;	  /* struct zname * that may be unused */
	struct vec marked;
	struct vec garbage; /* void *, freed after the next grace period */
	size_t published;
	size_t nnames;	 /* names in the table */
	struct buf data; /* scratch for building nodes */
	struct vec ents; /* struct zone_entry */
	struct vec recs; /* struct rec */
};

/* One record of a name. */
struct rec {
	const uint8_t *owner;
	const uint8_t *rdata;
	uint16_t olen;
	uint16_t type;
	uint16_t rdlen;
	uint32_t order;
};

/* ---- small helpers ---- */

/* Room for n more items of size bytes. */
static int vec_reserve(struct vec *v, size_t n, size_t size)
{
	if (v->n + n <= v->cap)
		return 0;
	size_t cap = v->cap ? v->cap : 16;
	while (cap < v->n + n)
		cap *= 2;
	void *p = realloc(v->p, cap * size);
	if (!p)
		return -ENOMEM;
	v->p = p;
	v->cap = cap;
	return 0;
}

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

/* ---- writer-side name table (the readers' hash table) ---- */

static uint64_t key_hash(const char *s)
{
	return dname_hash((const uint8_t *)s, strlen(s));
}

struct lookup_key {
	const uint8_t *name;
	size_t len;
};

static bool zname_match(const void *item, const void *key)
{
	const struct zname *w = item;
	const struct lookup_key *k = key;

	return w->len == k->len && memcmp(w->name, k->name, k->len) == 0;
}

static uint32_t name_hash(const uint8_t *name, size_t len)
{
	uint64_t h = dname_hash(name, len);

	return (uint32_t)(h ^ h >> 32);
}

static uint32_t zname_hash(const void *item)
{
	const struct zname *w = item;

	return name_hash(w->name, w->len);
}

/* The name's entry in the table (readers inside rcu_read_lock()). */
static struct zname *wname_find(const struct zone_index *zi,
				const uint8_t *name, size_t len)
{
	struct lookup_key k = {name, len};

	return rcuhash_find(zi->names, name_hash(name, len), zname_match, &k);
}

/* wname_find for a name in any letter case. */
static struct zname *wname_find_any(const struct zone_index *zi,
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

/* The longest apex that holds name (len bytes), whose label i starts at
 * loff[i] (nlabels labels): its index, or -1. */
static int apex_best(const struct zone_index *zi, const uint8_t *name,
		     size_t len, const uint8_t *loff, unsigned nlabels)
{
	int best = -1;

	for (size_t i = 0; i < zi->napex; i++) {
		const struct zone_apex *a = &zi->apex[i];
		if ((best < 0 || a->len > zi->apex[best].len) &&
		    dname_suffix_loff(name, len, loff, nlabels, a->name, a->len,
				      a->nlabels) >= 0)
			best = (int)i;
	}
	return best;
}

/* apex_best for a name of which only the bytes are known. */
static int apex_index(const struct zone_index *zi, const uint8_t *name,
		      size_t len)
{
	uint8_t loff[DNAME_MAX / 2];
	unsigned n = 0;

	for (size_t o = 0; o < len && name[o]; o += (size_t)name[o] + 1) {
		if (n == sizeof(loff))
			return -1;
		loff[n++] = (uint8_t)o;
	}
	return apex_best(zi, name, len, loff, n);
}

/* Remember w as possibly unused: commit frees it if it still is. */
static void gc_note(struct zone_index *zi, struct zname *w)
{
	if (w->flags & ZN_GC)
		return;
	if (vec_push(&zi->gc, &w, sizeof(w)) == 0)
		w->flags |= ZN_GC;
}

static struct zname *wname_get(struct zone_index *zi, const uint8_t *name,
			       size_t len)
{
	struct zname *w = wname_find(zi, name, len);

	if (w)
		return w;
	w = calloc(1, offsetof(struct zname, name) + len);
	if (!w)
		return NULL;
	w->len = (uint8_t)len;
	memcpy(w->name, name, len);
	w->apex = (int8_t)apex_index(zi, name, len);
	if (rcuhash_insert(zi->names, name_hash(name, len), w) < 0) {
		free(w);
		return NULL;
	}
	zi->nnames++;
	gc_note(zi, w);
	return w;
}

static void mark_dirty(struct zone_index *zi, struct zname *w)
{
	if (w->flags & ZN_DIRTY)
		return;
	if (vec_push(&zi->dirty, &w, sizeof(w)) == 0)
		w->flags |= ZN_DIRTY;
}

/* Count w (delta +1 / -1) in the ent counter of its ancestors below the
 * apex; an ancestor that appears or vanishes is dirty. */
static int ancestors_adjust(struct zone_index *zi, struct zname *w, int delta)
{
	if (w->apex < 0 || (w->flags & ZN_APEX))
		return 0;
	size_t alen = zi->apex[w->apex].len;
	size_t off = (size_t)w->name[0] + 1;

	while (w->len - off > alen) {
		struct zname *a = wname_get(zi, w->name + off, w->len - off);
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

/* ---- the records of a name ---- */

static const uint8_t *grp_recs(const struct grp *g)
{
	return (const uint8_t *)(g + 1);
}

static size_t grp_size(size_t bytes)
{
	return sizeof(struct grp) + ((bytes + 7) & ~(size_t)7);
}

/* Iterator over the records of a name, in contribution order. */
struct rit {
	const struct zname *w;
	const struct grp *g;
	const uint8_t *p;
	uint32_t left;
};

static void rit_init(struct rit *it, const struct zname *w)
{
	it->w = w;
	it->g = w->g;
	it->p = w->g ? grp_recs(w->g) : NULL;
	it->left = w->g ? w->g->n : 0;
}

static bool rit_next(struct rit *it, struct rec *r)
{
	while (it->g && !it->left) {
		it->g = it->g->next;
		if (it->g) {
			it->p = grp_recs(it->g);
			it->left = it->g->n;
		}
	}
	if (!it->g)
		return false;
	r->owner = it->w->name;
	r->olen = it->w->len;
	r->type = rd16(it->p);
	r->rdlen = rd16(it->p + 2);
	r->rdata = it->p + 4;
	it->p += 4 + (size_t)r->rdlen;
	it->left--;
	return true;
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

/* True when recs (valid, len > 0) are the records o contributes now. */
static bool owner_same(const struct owner *o, const uint8_t *recs, size_t len)
{
	const uint8_t *p = o->blob, *end = o->blob + o->len, *q = NULL;
	const uint8_t *prev = NULL;
	uint32_t left = 0;
	struct rec r;
	size_t off = 0, next;

	while (off < len && rec_parse(recs, len, off, &r, &next)) {
		if (!prev || r.olen != prev[-1] ||
		    memcmp(r.owner, prev, r.olen) != 0) {
			const struct grp *g = (const struct grp *)p;
			if (left || p >= end || g->zn->len != r.olen ||
			    memcmp(g->zn->name, r.owner, r.olen) != 0)
				return false;
			p += grp_size(g->bytes);
			q = grp_recs(g);
			left = g->n;
			prev = r.owner;
		}
		if (!left || rd16(q) != r.type || rd16(q + 2) != r.rdlen ||
		    memcmp(q + 4, r.rdata, r.rdlen) != 0)
			return false;
		q += 4 + (size_t)r.rdlen;
		left--;
		off = next;
	}
	return !left && p == end;
}

/* The groups of recs (valid, len > 0), not linked yet: consecutive records
 * of one name form a group.  Names are created as needed. */
static int owner_blob(struct zone_index *zi, const uint8_t *recs, size_t len,
		      uint8_t **blob, size_t *blen)
{
	const uint8_t *prev = NULL;
	size_t total = 0, bytes = 0, off = 0, next;
	struct rec r;

	while (off < len && rec_parse(recs, len, off, &r, &next)) {
		if (!prev || r.olen != prev[-1] ||
		    memcmp(r.owner, prev, r.olen) != 0) {
			if (prev)
				total += grp_size(bytes);
			bytes = 0;
			prev = r.owner;
		}
		bytes += 4 + (size_t)r.rdlen;
		off = next;
	}
	total += grp_size(bytes);

	uint8_t *b = calloc(1, total);
	if (!b)
		return -ENOMEM;
	struct grp *g = NULL;
	uint8_t *p = b, *q = NULL;
	prev = NULL;
	off = 0;
	while (off < len && rec_parse(recs, len, off, &r, &next)) {
		if (!prev || r.olen != prev[-1] ||
		    memcmp(r.owner, prev, r.olen) != 0) {
			if (g)
				p += grp_size(g->bytes);
			g = (struct grp *)p;
			g->zn = wname_get(zi, r.owner, r.olen);
			if (!g->zn) {
				free(b);
				return -ENOMEM;
			}
			q = p + sizeof(*g);
			prev = r.owner;
		}
		memcpy(q, recs + off + 1 + r.olen, 4 + (size_t)r.rdlen);
		q += 4 + (size_t)r.rdlen;
		g->n++;
		g->bytes += 4u + r.rdlen;
		off = next;
	}
	*blob = b;
	*blen = total;
	return 0;
}

#define BLOB_FOR_EACH(g, o)                                                    \
	for (struct grp *g = (struct grp *)(o)->blob;                          \
	     (uint8_t *)g < (o)->blob + (o)->len;                              \
	     g = (struct grp *)((uint8_t *)g + grp_size(g->bytes)))

/* The names of the records of g that another name depends on, in turn. */
static const uint8_t *grp_target(const struct grp *g, const uint8_t **p,
				 uint32_t *i, size_t *tlen)
{
	struct rec r;

	while (*i < g->n) {
		r.type = rd16(*p);
		r.rdlen = rd16(*p + 2);
		r.rdata = *p + 4;
		*p += 4 + (size_t)r.rdlen;
		(*i)++;
		const uint8_t *t = rec_target(&r, tlen);
		if (t)
			return t;
	}
	return NULL;
}

static void refs_drop(struct zone_index *zi, struct zname *t, struct owner *o)
{
	struct refs *rs = t->refs;
	uint32_t k = 0;

	if (!rs)
		return;
	for (uint32_t j = 0; j < rs->n; j++)
		if (rs->r[j].o != o)
			rs->r[k++] = rs->r[j];
	rs->n = k;
	if (!k) {
		free(rs);
		t->refs = NULL;
		gc_note(zi, t);
	}
}

/* Take every record of owner o out of the names (and the refs of their
 * targets). */
static void owner_withdraw(struct zone_index *zi, struct owner *o)
{
	zi->marked.n = 0;
	BLOB_FOR_EACH(g, o)
	{
		struct zname *w = g->zn;
		struct grp **pp = &w->g;
		while (*pp && *pp != g)
			pp = &(*pp)->next;
		if (*pp) {
			*pp = g->next;
			g->next = NULL;
			mark_dirty(zi, w);
			if (!w->g)
				ancestors_adjust(zi, w, -1);
		}
		const uint8_t *p = grp_recs(g);
		uint32_t i = 0;
		size_t tlen;
		const uint8_t *t;
		while ((t = grp_target(g, &p, &i, &tlen))) {
			struct zname *tw = wname_find_any(zi, t, tlen);
			if (tw && !(tw->flags & ZN_MARK)) {
				tw->flags |= ZN_MARK;
				vec_push(&zi->marked, &tw, sizeof(tw));
			}
		}
	}
	struct zname **m = zi->marked.p;
	for (size_t i = 0; i < zi->marked.n; i++) {
		refs_drop(zi, m[i], o);
		m[i]->flags &= (uint8_t)~ZN_MARK;
	}
	zi->marked.n = 0;
}

static int push_ref(struct zname *t, struct zname *w, struct owner *o)
{
	struct refs *rs = t->refs;

	if (rs && rs->n && rs->r[rs->n - 1].w == w && rs->r[rs->n - 1].o == o)
		return 0;
	if (!rs || rs->n == rs->cap) {
		uint32_t cap = rs ? rs->cap * 2 : 1;
		rs = realloc(rs, sizeof(*rs) + cap * sizeof(struct ref));
		if (!rs)
			return -ENOMEM;
		if (!t->refs)
			rs->n = 0;
		rs->cap = cap;
		t->refs = rs;
	}
	rs->r[rs->n].w = w;
	rs->r[rs->n].o = o;
	rs->n++;
	return 0;
}

/* Does g hold only ZONE_TYPE_EXISTS records (no answer data)? */
static bool grp_only_exists(const struct grp *g)
{
	const uint8_t *p = grp_recs(g);

	for (uint32_t i = 0; i < g->n; i++, p += 4 + (size_t)rd16(p + 2))
		if (rd16(p) != ZONE_TYPE_EXISTS)
			return false;
	return true;
}

static int owner_contribute(struct zone_index *zi, struct owner *o)
{
	BLOB_FOR_EACH(g, o)
	{
		struct zname *w = g->zn;
		bool was_empty = !w->g;
		/* A group that only says the name exists adds nothing to its
		 * answers, so its place in the list does not matter: it goes
		 * first.  Thousands of services mark the same parent name (the
		 * /24 of their ClusterIPs), and walking to the end for each
		 * made a large load quadratic. */
		if (grp_only_exists(g)) {
			g->next = w->g;
			w->g = g;
		} else {
			struct grp **pp = &w->g;
			while (*pp)
				pp = &(*pp)->next;
			*pp = g;
		}
		if (was_empty && ancestors_adjust(zi, w, +1) < 0)
			return -ENOMEM;
		mark_dirty(zi, w);
		const uint8_t *p = grp_recs(g);
		uint32_t i = 0;
		size_t tlen;
		const uint8_t *t;
		while ((t = grp_target(g, &p, &i, &tlen))) {
			uint8_t l[DNAME_MAX];
			dname_lower_copy(l, t, tlen);
			struct zname *tw = wname_get(zi, l, tlen);
			if (!tw || push_ref(tw, w, o) < 0)
				return -ENOMEM;
		}
	}
	return 0;
}

static int owner_set(struct zone_index *zi, const char *key,
		     const uint8_t *recs, size_t len, uint64_t gen)
{
	uint64_t h = key_hash(key);
	struct owner *o = owner_find(zi, key, h);
	struct rec r;
	size_t off = 0, next;
	uint8_t *blob = NULL;
	size_t blen = 0;

	while (off < len) {
		if (!rec_parse(recs, len, off, &r, &next) || !rec_names_ok(&r))
			return -EINVAL;
		if (apex_index(zi, r.owner, r.olen) < 0)
			return -EINVAL;
		off = next;
	}
	if (o)
		o->gen = gen;
	if (len == 0) {
		if (o) {
			owner_withdraw(zi, o);
			owner_unlink_free(zi, o);
		}
		return 0;
	}
	if (o && owner_same(o, recs, len))
		return 0;
	if (owner_blob(zi, recs, len, &blob, &blen) < 0)
		return -ENOMEM;
	if (o) {
		owner_withdraw(zi, o);
		free(o->blob);
	} else {
		size_t kl = strlen(key);
		if (grow_table((void ***)&zi->otab, &zi->omask, zi->ocount,
			       offsetof(struct owner, hnext)) < 0 ||
		    !(o = calloc(1, sizeof(*o) + kl + 1))) {
			free(blob);
			return -ENOMEM;
		}
		memcpy(o->key, key, kl + 1);
		o->hash = h;
		o->gen = gen;
		o->hnext = zi->otab[h & zi->omask];
		zi->otab[h & zi->omask] = o;
		zi->ocount++;
	}
	o->blob = blob;
	o->len = blen;
	if (owner_contribute(zi, o) < 0) {
		owner_withdraw(zi, o);
		owner_unlink_free(zi, o);
		return -ENOMEM;
	}
	return 0;
}

int zone_owner_set(struct zone_index *zi, const char *key, const uint8_t *recs,
		   size_t len, uint64_t gen)
{
	rcu_read_lock();
	int rc = owner_set(zi, key, recs, len, gen);
	rcu_read_unlock();
	return rc;
}

size_t zone_owner_drop_stale(struct zone_index *zi, uint64_t gen)
{
	size_t dropped = 0;

	rcu_read_lock();
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
	rcu_read_unlock();
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
static int gather(struct zone_index *zi, const struct zname *w)
{
	struct vec *v = &zi->recs;
	struct rec r;

	struct rit it;
	uint32_t i = 0;

	v->n = 0;
	rit_init(&it, w);
	for (; rit_next(&it, &r); i++) {
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
			const struct zname *w, uint16_t qtype)
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

	if (!rs) { /* nothing gathered yet: no offset from NULL */
		*first = NULL;
		*n = 0;
		return;
	}
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
static bool contrib_dup(const struct zname *t, uint32_t i, const struct rec *r)
{
	struct rec q;
	struct rit it;

	rit_init(&it, t);
	for (uint32_t j = 0; j < i && rit_next(&it, &q); j++)
		if (q.type == r->type && q.rdlen == r->rdlen &&
		    !memcmp(q.rdata, r->rdata, r->rdlen))
			return true;
	return false;
}

/* Append the A and AAAA RRs of target t as additional data, owner pointing
 * at packet offset ptr (or the name when too far).  Reads t's contributions
 * directly, without gather(), to keep zi->recs intact. */
static void put_glue(struct entry_ctx *x, const struct zname *t, size_t ptr)
{
	struct rec r;
	struct rit it;

	for (int pass = 0; pass < 2; pass++) {
		uint16_t want = pass ? TYPE_AAAA : TYPE_A;
		rit_init(&it, t);
		for (uint32_t i = 0; rit_next(&it, &r); i++) {
			if (r.type != want)
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
static int build_rrset(struct zone_index *zi, const struct zname *w,
		       const struct rec *rs, size_t n)
{
	struct entry_ctx x;
	size_t tpos[64];
	const struct zname *tw[64];
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
		const struct zname *tn = wname_find_any(zi, t, tlen);
		if (!tn || !tn->g)
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

static bool wname_exists(const struct zname *w)
{
	return w && (w->g || w->ent || (w->flags & ZN_APEX));
}

static const struct rec *first_of_type(const struct zname *w, uint16_t type,
				       struct rec *r)
{
	struct rit it;

	rit_init(&it, w);
	while (rit_next(&it, r))
		if (r->type == type)
			return r;
	return NULL;
}

/* The answer of CNAME node w for qtype (0: any type without its own): the
 * chain of CNAMEs through the zone, then the final name's RRset. */
static int build_chase(struct zone_index *zi, const struct zname *w,
		       const struct rec *cname, uint16_t qtype)
{
	struct entry_ctx x;
	struct rec r;
	const uint8_t *target = cname->rdata;
	size_t tlen = cname->rdlen;
	const struct zname *t;

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
		struct rit it;
		rit_init(&it, t);
		for (uint32_t i = 0; rit_next(&it, &r); i++) {
			if (r.type != qtype || contrib_dup(t, i, &r))
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
			if (pos <= MAX_PTR) {
				x.e.flags |= ZONE_ENTRY_DANGLING;
				x.e.tgt = (uint16_t)pos;
			}
		} else {
			x.e.flags |= ZONE_ENTRY_EXTERNAL;
		}
	}
	return entry_end(&x, zi->data.len - x.start);
}

static int build_cname(struct zone_index *zi, const struct zname *w,
		       const struct rec *cname)
{
	struct rec r = *cname;
	uint16_t types[32];
	size_t ntypes = 0;

	if (build_chase(zi, w, &r, TYPE_CNAME) < 0)
		return -ENOMEM;
	/* The final target's types get their own entries. */
	const struct zname *t = wname_find_any(zi, r.rdata, r.rdlen);
	for (int hops = 0; t && hops < MAX_CHASE; hops++) {
		struct rec n;
		if (!first_of_type(t, TYPE_CNAME, &n))
			break;
		t = wname_find_any(zi, n.rdata, n.rdlen);
	}
	types[ntypes++] = TYPE_A;
	types[ntypes++] = TYPE_AAAA;
	struct rit it;
	struct rec q;
	if (t)
		rit_init(&it, t);
	while (t && ntypes < 32 && rit_next(&it, &q)) {
		if (q.type == ZONE_TYPE_EXISTS || q.type == TYPE_CNAME)
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
	if (a->rlen) {
		buf_put(b, a->rname, a->rlen);
	} else {
		buf_put(b, hm, sizeof(hm));
		buf_put(b, a->name, a->len);
	}
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

static int build_soa_entry(struct zone_index *zi, const struct zname *w)
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

static struct zone_node *build_node(struct zone_index *zi, struct zname *w)
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
		if ((w->flags & ZN_APEX) && build_soa_entry(zi, w) < 0)
			return NULL;
		for (size_t s = 0; s < zi->recs.n;) {
			size_t e = s;
			while (e < zi->recs.n && rs[e].type == rs[s].type)
				e++;
			if (!((w->flags & ZN_APEX) && rs[s].type == TYPE_SOA) &&
			    build_rrset(zi, w, rs + s, e - s) < 0)
				return NULL;
			s = e;
		}
	}
	if (zi->data.oom)
		return NULL;

	size_t ne = zi->ents.n;
	struct zone_apex *a = &zi->apex[w->apex];
	if (!ne && !zi->data.len)
		return a->ent;
	size_t sz = offsetof(struct zone_node, e) +
		    ne * sizeof(struct zone_entry) + zi->data.len;
	struct zone_node *n = malloc(sz);
	if (!n)
		return NULL;
	n->apex = a;
	n->nentries = (uint16_t)ne;
	if (ne)
		memcpy(n->e, zi->ents.p, ne * sizeof(struct zone_entry));
	if (zi->data.len)
		memcpy(n->e + ne, zi->data.p, zi->data.len);
	return n;
}

/* ---- reader side ---- */

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

const struct zone_apex *zone_apex_of_labels(const struct zone_index *zi,
					    const uint8_t *lname, size_t len,
					    const uint8_t *loff,
					    unsigned nlabels, size_t *apex_len)
{
	int i = apex_best(zi, lname, len, loff, nlabels);

	if (i < 0)
		return NULL;
	*apex_len = zi->apex[i].len;
	return &zi->apex[i];
}

const struct zone_node *zone_lookup(const struct zone_index *zi,
				    const uint8_t *lname, size_t len)
{
	const struct zname *w = wname_find(zi, lname, len);

	return w ? rcu_dereference(w->pub) : NULL;
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
	return (const uint8_t *)(n->e + n->nentries);
}

unsigned zone_apex_tag(const struct zone_apex *a)
{
	return a->tag;
}

int zone_set_tag(struct zone_index *zi, size_t i, unsigned tag)
{
	if (i >= zi->napex || tag > 0xff)
		return -EINVAL;
	zi->apex[i].tag = (uint8_t)tag;
	return 0;
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

static void garbage_free_rcu(struct rcu_head *h)
{
	struct garbage *g = caa_container_of(h, struct garbage, rcu);

	for (size_t i = 0; i < g->n; i++)
		free(g->p[i]);
	free(g);
}

static void soa_free_rcu(struct rcu_head *h)
{
	free(caa_container_of(h, struct zone_soa, rcu));
}

/* Free p once no reader can see it any more (after garbage_flush).  The
 * room was reserved by the caller (vec_reserve). */
static void garbage_add(struct zone_index *zi, void *p)
{
	void **g = zi->garbage.p;

	if (zi->garbage.n < zi->garbage.cap)
		g[zi->garbage.n++] = p;
}

/* Hand what garbage_add collected to one RCU callback.  Not inside a read
 * section. */
static void garbage_flush(struct zone_index *zi)
{
	size_t n = zi->garbage.n;

	if (!n)
		return;
	struct garbage *g = malloc(sizeof(*g) + n * sizeof(void *));
	if (g) {
		g->n = n;
		memcpy(g->p, zi->garbage.p, n * sizeof(void *));
		call_rcu(&g->rcu, garbage_free_rcu);
	} else {
		synchronize_rcu();
		for (size_t i = 0; i < n; i++)
			free(((void **)zi->garbage.p)[i]);
	}
	zi->garbage.n = 0;
}

static void node_retire(struct zone_index *zi, struct zone_node *n)
{
	if (n && n != n->apex->ent)
		garbage_add(zi, n);
}

static int publish(struct zone_index *zi, struct zname *w)
{
	bool live = w->g || w->ent || (w->flags & ZN_APEX);
	struct zone_node *old = w->pub;

	if (!live) {
		if (old) {
			rcu_assign_pointer(w->pub, NULL);
			node_retire(zi, old);
			zi->published--;
		}
		return 0;
	}
	struct zone_node *n = build_node(zi, w);
	if (!n)
		return -ENOMEM;
	rcu_assign_pointer(w->pub, n);
	if (old)
		node_retire(zi, old);
	else
		zi->published++;
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

/* Unlink w from the table when nothing uses it; freed after the readers
 * move on. */
static void zname_collect(struct zone_index *zi, struct zname *w)
{
	if (w->g || w->ent || w->refs || w->pub || (w->flags & ZN_APEX) ||
	    (w->flags & ZN_DEAD))
		return;
	w->flags |= ZN_DEAD;
	rcuhash_remove(zi->names, zname_hash(w), w);
	zi->nnames--;
	garbage_add(zi, w);
}

/* Drop the capacity a big change left in a scratch vector. */
static void vec_shrink(struct vec *v)
{
	if (v->n == 0 && v->cap > 4096) {
		free(v->p);
		v->p = NULL;
		v->cap = 0;
	}
}

int zone_commit(struct zone_index *zi)
{
	int err = 0;

	if (zi->dirty.n == 0)
		return 0;
	/* Names whose answers read a changed name change too. */
	for (size_t i = 0; i < zi->dirty.n; i++) {
		struct zname *w = ((struct zname **)zi->dirty.p)[i];
		for (uint32_t j = 0; w->refs && j < w->refs->n; j++)
			mark_dirty(zi, w->refs->r[j].w);
	}
	for (size_t i = 0; i < zi->napex; i++)
		mark_dirty(zi, zi->apex[i].w);
	/* A changed name retires at most its answers and itself. */
	if (vec_reserve(&zi->garbage, 2 * zi->dirty.n + zi->gc.n,
			sizeof(void *)) < 0)
		return -ENOMEM;
	uint32_t now = (uint32_t)time(NULL);
	zi->serial = (int32_t)(now - zi->serial) > 0 ? now : zi->serial + 1;
	for (size_t i = 0; i < zi->napex; i++) {
		if (apex_soa_update(zi, &zi->apex[i]) < 0)
			err = -ENOMEM;
	}

	rcu_read_lock();
	struct zname **d = zi->dirty.p;
	size_t n = zi->dirty.n;
	for (size_t i = 0; i < n; i++)
		if (publish(zi, d[i]) < 0)
			err = -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		d[i]->flags &= (uint8_t)~ZN_DIRTY;
		zname_collect(zi, d[i]);
	}
	struct zname **g = zi->gc.p;
	for (size_t i = 0; i < zi->gc.n; i++) {
		g[i]->flags &= (uint8_t)~ZN_GC;
		zname_collect(zi, g[i]);
	}
	rcu_read_unlock();
	zi->dirty.n = 0;
	zi->gc.n = 0;
	garbage_flush(zi);
	vec_shrink(&zi->dirty);
	vec_shrink(&zi->gc);
	vec_shrink(&zi->garbage);
	if (zi->data.cap > 65536) {
		free(zi->data.p);
		zi->data.p = NULL;
		zi->data.cap = 0;
	}
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
	zi->omask = 255;
	zi->otab = calloc(zi->omask + 1, sizeof(*zi->otab));
	zi->names = rcuhash_new(zname_hash);
	if (!zi->otab || !zi->names)
		goto fail;
	for (size_t i = 0; i < nzones; i++) {
		struct zone_apex *a = &zi->apex[i];
		a->len = (uint8_t)dname_len(zones[i]);
		a->nlabels = (uint8_t)dname_labels(zones[i]);
		memcpy(a->name, zones[i], a->len);
		a->mlen = (uint8_t)dname_len(mnames[i]);
		memcpy(a->mname, mnames[i], a->mlen);
		a->ent = calloc(1, sizeof(*a->ent));
		if (!a->ent)
			goto fail;
		a->ent->apex = a;
	}
	zi->napex = nzones;
	rcu_read_lock();
	for (size_t i = 0; i < nzones; i++) {
		struct zone_apex *a = &zi->apex[i];
		a->w = wname_get(zi, a->name, a->len);
		if (!a->w)
			break;
		a->w->flags |= ZN_APEX;
		a->w->apex = (int8_t)i;
		mark_dirty(zi, a->w);
	}
	rcu_read_unlock();
	for (size_t i = 0; i < nzones; i++)
		if (!zi->apex[i].w)
			goto fail;
	if (zone_commit(zi) < 0)
		goto fail;
	return zi;
fail:
	zone_index_free(zi);
	return NULL;
}

int zone_set_rname(struct zone_index *zi, size_t i, const uint8_t *rname)
{
	if (i >= zi->napex)
		return -EINVAL;
	struct zone_apex *a = &zi->apex[i];
	size_t len = dname_len(rname);
	if (len == 0 || len > DNAME_MAX)
		return -EINVAL;
	a->rlen = (uint8_t)len;
	memcpy(a->rname, rname, len);
	dname_lower(a->rname, len);
	mark_dirty(zi, a->w);
	return 0;
}

static void zname_free(void *item, void *arg)
{
	struct zname *w = item;

	(void)arg;
	free(w->refs);
	if (w->pub && w->pub != w->pub->apex->ent)
		free(w->pub);
	free(w);
}

void zone_index_free(struct zone_index *zi)
{
	if (!zi)
		return;
	if (zi->names) {
		/* no reader is left; names already dead are the callbacks' */
		rcu_barrier();
		rcuhash_each(zi->names, zname_free, NULL);
		rcuhash_free(zi->names);
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
	for (size_t i = 0; i < zi->napex; i++) {
		free(zi->apex[i].soa);
		free(zi->apex[i].ent);
	}
	free(zi->otab);
	free(zi->dirty.p);
	free(zi->gc.p);
	free(zi->marked.p);
	free(zi->garbage.p);
	free(zi->data.p);
	free(zi->ents.p);
	free(zi->recs.p);
	free(zi);
}

void zone_touch(struct zone_index *zi)
{
	for (size_t i = 0; i < zi->napex; i++)
		mark_dirty(zi, zi->apex[i].w);
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

struct each_rr {
	struct zone_index *zi;
	int (*cb)(const uint8_t *, uint16_t, uint32_t, const uint8_t *,
		  uint16_t, void *);
	void *arg;
	int rc;
};

static void each_name_rr(void *item, void *arg)
{
	const struct zname *w = item;
	struct each_rr *x = arg;

	if (x->rc || !w->g)
		return;
	if (gather(x->zi, w) < 0) {
		x->rc = -ENOMEM;
		return;
	}
	const struct rec *rs = x->zi->recs.p;
	for (size_t k = 0; k < x->zi->recs.n && !x->rc; k++)
		x->rc = x->cb(w->name, rs[k].type, x->zi->ttl, rs[k].rdata,
			      rs[k].rdlen, x->arg);
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
	struct each_rr x = {z, cb, arg, 0};

	rcuhash_each(zi->names, each_name_rr, &x);
	return x.rc;
}
