/*
 * podset.c -- pod addresses inline in two flat RCU tables, one per family.
 *
 * A slot of a table is a 64-bit key the readers compare, 64 bits only
 * the writer reads (48 bits of the pod's hash and 16 of its generation),
 * and the 32-bit number of the pod's node.  An IPv4 key holds the whole
 * address and the namespace's index, so one atomic load tells a reader
 * everything; an IPv6 key holds the namespace and 32 bits folded from the
 * address, and the address sits beside it.  Probing starts from the
 * address part of the key alone, so that podset_node finds an address in
 * any namespace.  The node numbers are there only once a pod had a node
 * (the tables are rebuilt with them then).  About 16 bytes per IPv4
 * address at the tables' load (about 23 with nodes), plus 4 in the
 * writer's index by pod: 25 to 35 bytes per pod where an allocated entry
 * and two pointer sets took about 75.
 *
 * A key goes from empty to live to removed (a tombstone) by single atomic
 * stores, so a reader sees the old or the new key, never a mix.  An IPv4
 * tombstone may take a new key at once: the key is the whole entry.  An
 * IPv6 slot is never reused in place, since a reader may be comparing its
 * address: its tombstone stays until the table is rebuilt.  A table that
 * fills (keys and tombstones over three quarters) or empties is rebuilt
 * into a new one that replaces it for the readers and is freed after a
 * grace period.
 *
 * The writer finds the slots of a pod through its own index (open
 * addressing over slot numbers, never read by the workers), rebuilt with
 * the tables.  Namespaces are numbered in the order they come, in an RCU
 * pointer set (rcuhash.h) the readers search by label; the numbers stay
 * until the set is freed.
 */
#include "zones/podset.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <urcu.h>

#include "zones/rcuhash.h"

#define MAX_IPS 8 /* a pod has one address per family; more are dropped */
#define MIN_CAP 64
#define KEY_EMPTY 0
#define KEY_TOMB 1
#define KEY_LIVE (1ULL << 63)
#define MAX_NS (1u << 24) /* namespace numbers: 24 bits of a key */
#define GEN_MASK 0xffffULL
#define POD_SHIFT 16
/* An entry of the writer's index: the slot + 1 (24 bits), the table (one
 * bit: IPv6), and 7 bits of the pod's hash, so that a probe looks at the
 * table only for entries likely to be the pod's. */
#define REF_SLOT 0xffffffu
#define REF_V6 (1u << 24)
#define REF_TAG_SHIFT 25

/* A table: this header, then its arrays in the same allocation. */
struct ptab {
	struct rcu_head rcu;
	uint32_t cap;
	uint32_t live, tomb; /* writer's counts */
	uint64_t *key;	     /* cap keys, read by the workers */
	uint64_t *w;	     /* cap: pod hash << 16 | generation */
	uint32_t *node;	   /* cap: the pods' node numbers, read by the workers;
			    * NULL until a pod has a node */
	uint8_t (*a6)[16]; /* IPv6 table: the addresses */
};

struct nsent {
	uint32_t hash;
	uint32_t idx;
	uint8_t label[64]; /* wire label, lowercase */
};

struct podset {
	struct ptab *t[2];     /* IPv4, IPv6; RCU-protected */
	struct rcuhash *nsmap; /* struct nsent, by label */
	struct nsent **ns;     /* by number, writer's */
	uint32_t nns, capns;
	uint32_t last; /* the namespace found last (lists come by namespace) */
	bool nodes;    /* the tables have node numbers (a pod had a node) */
	/* the writer's index: slot references (see REF_SLOT), by pod */
	uint32_t *idx;
	uint32_t icap, icount;
};

/* A 32-bit spread of a 64-bit value (the finalizer of MurmurHash3). */
static uint32_t mix64(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	k *= 0xc4ceb9fe1a85ec53ULL;
	k ^= k >> 33;
	return (uint32_t)k;
}

/* The slot where probing for hash starts, in a table of cap slots. */
static uint32_t home(uint32_t hash, uint32_t cap)
{
	return (uint32_t)(((uint64_t)hash * cap) >> 32);
}

/* Where probing for a key starts: its address part only, so that an
 * address is found without its namespace (podset_node). */
static uint32_t key_home(uint64_t key, uint32_t cap)
{
	return home(mix64(key & 0xffffffffULL), cap);
}

static uint32_t next(uint32_t i, uint32_t cap)
{
	return i + 1 == cap ? 0 : i + 1;
}

static uint32_t fold6(const uint8_t *a)
{
	return rcuhash_fnv(RCUHASH_FNV0, a, 16);
}

static uint64_t make_key(int v6, uint32_t ns, const uint8_t *a)
{
	uint32_t low;

	if (v6)
		low = fold6(a);
	else
		low = (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 |
		      (uint32_t)a[2] << 8 | a[3];
	return KEY_LIVE | (uint64_t)ns << 32 | low;
}

static uint64_t pod_key(const uint8_t *ns, const char *name)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 1; i <= ns[0]; i++)
		h = (h ^ ns[i]) * 0x100000001b3ULL;
	h = (h ^ '/') * 0x100000001b3ULL;
	for (; *name; name++)
		h = (h ^ (uint8_t)*name) * 0x100000001b3ULL;
	return h >> POD_SHIFT; /* 48 bits */
}

/* ---- tables ---- */

static struct ptab *ptab_new(uint32_t cap, int v6, bool nodes)
{
	size_t arrays = (size_t)cap * (16 + (nodes ? 4 : 0) + (v6 ? 16 : 0));
	struct ptab *t = calloc(1, sizeof(*t) + arrays);

	if (!t)
		return NULL;
	t->cap = cap;
	t->key = (uint64_t *)(t + 1);
	t->w = t->key + cap;
	uint32_t *after = (uint32_t *)(t->w + cap);
	if (nodes) {
		t->node = after;
		after += cap;
	}
	if (v6)
		t->a6 = (uint8_t(*)[16])after;
	return t;
}

static void ptab_free_rcu(struct rcu_head *head)
{
	free(caa_container_of(head, struct ptab, rcu));
}

static bool slot_live(const struct ptab *t, uint32_t i)
{
	return (t->key[i] & KEY_LIVE) != 0;
}

static uint32_t slot_ns(const struct ptab *t, uint32_t i)
{
	return (uint32_t)(t->key[i] >> 32) & (MAX_NS - 1);
}

static uint64_t slot_pod(const struct ptab *t, uint32_t i)
{
	return t->w[i] >> POD_SHIFT;
}

/* Writer: a free slot on the probe path of key (an IPv4 tombstone counts
 * as free); the table has one. */
static uint32_t ptab_free_slot(const struct ptab *t, uint64_t key)
{
	uint32_t i = key_home(key, t->cap);

	while (t->key[i] != KEY_EMPTY && (t->a6 || t->key[i] != KEY_TOMB))
		i = next(i, t->cap);
	return i;
}

/* Writer: put key (address a for IPv6) with writer word w and node number
 * node into t. */
static uint32_t ptab_put(struct ptab *t, uint64_t key, uint64_t w,
			 uint32_t node, const uint8_t *a)
{
	uint32_t i = ptab_free_slot(t, key);

	if (t->key[i] == KEY_TOMB)
		t->tomb--;
	t->w[i] = w;
	if (t->node)
		t->node[i] = node;
	if (t->a6)
		memcpy(t->a6[i], a, 16);
	/* what the key stands for first, then the key that shows it */
	cmm_smp_wmb();
	CMM_STORE_SHARED(t->key[i], key);
	t->live++;
	return i;
}

/* ---- the writer's index by pod ---- */

static uint32_t pod_tag(uint64_t pod)
{
	return mix64(pod) & 0x7f; /* home() takes the high bits */
}

static uint32_t ref_make(int v6, uint32_t slot, uint64_t pod)
{
	return (slot + 1) | (v6 ? REF_V6 : 0) | pod_tag(pod) << REF_TAG_SHIFT;
}

static uint32_t ref_of(const struct podset *ps, int v6, uint32_t slot)
{
	return ref_make(v6, slot, slot_pod(ps->t[v6], slot));
}

static const struct ptab *ref_tab(const struct podset *ps, uint32_t ref,
				  uint32_t *slot)
{
	*slot = (ref & REF_SLOT) - 1;
	return ps->t[(ref & REF_V6) != 0];
}

static uint32_t ref_home(const struct podset *ps, uint32_t ref)
{
	uint32_t slot;
	const struct ptab *t = ref_tab(ps, ref, &slot);

	return home(mix64(slot_pod(t, slot)), ps->icap);
}

static void idx_add(struct podset *ps, uint32_t ref)
{
	uint32_t i = ref_home(ps, ref);

	while (ps->idx[i])
		i = next(i, ps->icap);
	ps->idx[i] = ref;
	ps->icount++;
}

/* Remove ref, moving back the entries after it (no reader to mind). */
static void idx_del(struct podset *ps, uint32_t ref)
{
	uint32_t slot;
	const struct ptab *t = ref_tab(ps, ref, &slot);
	uint32_t i = home(mix64(slot_pod(t, slot)), ps->icap);

	while (ps->idx[i] != ref) {
		if (!ps->idx[i])
			return;
		i = next(i, ps->icap);
	}
	ps->idx[i] = 0;
	ps->icount--;
	for (uint32_t j = next(i, ps->icap); ps->idx[j];
	     j = next(j, ps->icap)) {
		uint32_t h = ref_home(ps, ps->idx[j]);
		/* can j's entry move to the hole at i? yes unless its home
		 * lies cyclically in (i, j] */
		bool stays = i <= j ? (h > i && h <= j) : (h > i || h <= j);
		if (stays)
			continue;
		ps->idx[i] = ps->idx[j];
		ps->idx[j] = 0;
		i = j;
	}
}

/* Slots for want keys at about three fifths of a table. */
static uint64_t cap_for(uint32_t want)
{
	uint64_t cap = (uint64_t)want * 5 / 3 + 1;

	return cap < MIN_CAP ? MIN_CAP : cap;
}

/* Fill the index v (cap slots, zeroed) from the tables. */
static void idx_fill(struct podset *ps, uint32_t *v, uint32_t cap)
{
	free(ps->idx);
	ps->idx = v;
	ps->icap = cap;
	ps->icount = 0;
	for (int f = 0; f < 2; f++)
		for (uint32_t i = 0; ps->t[f] && i < ps->t[f]->cap; i++)
			if (slot_live(ps->t[f], i))
				idx_add(ps, ref_of(ps, f, i));
}

static uint32_t *idx_alloc(uint32_t want, uint32_t *cap)
{
	uint64_t c = cap_for(want);

	if (c > UINT32_MAX)
		return NULL;
	*cap = (uint32_t)c;
	return calloc(c, sizeof(uint32_t));
}

/* ---- rebuilding ---- */

/* Writer: replace table f by one holding its live keys with room for want
 * of them, and the index with it (room for iwant).  Nothing changes on
 * -ENOMEM. */
static int ptab_rebuild(struct podset *ps, int f, uint32_t want, uint32_t iwant)
{
	struct ptab *old = ps->t[f];
	uint64_t cap = cap_for(want);
	uint32_t icap;

	if (cap >= REF_SLOT)
		return -ENOMEM;
	struct ptab *t = ptab_new((uint32_t)cap, f, ps->nodes);
	uint32_t *v = t ? idx_alloc(iwant, &icap) : NULL;
	if (!v) {
		free(t);
		return -ENOMEM;
	}
	for (uint32_t i = 0; old && i < old->cap; i++)
		if (slot_live(old, i))
			ptab_put(t, old->key[i], old->w[i],
				 old->node ? old->node[i] : 0,
				 old->a6 ? old->a6[i] : NULL);
	rcu_assign_pointer(ps->t[f], t);
	if (old)
		call_rcu(&old->rcu, ptab_free_rcu);
	/* the slots moved: the index is built again */
	idx_fill(ps, v, icap);
	return 0;
}

/* What a table or index of live entries that needs n more is rebuilt
 * for: half as many again, so that a list of many pods, which comes one
 * at a time, rebuilds it a few times (about two puts per pod in all)
 * rather than once for every quarter more (five). */
static uint32_t grow_want(uint32_t live, uint32_t n)
{
	uint64_t want = (uint64_t)live + live / 2 + n;

	return want > UINT32_MAX ? UINT32_MAX : (uint32_t)want;
}

/* Writer: room in table f for n more keys, and in the index.  Returns 1
 * when the table was rebuilt (its slots moved), 0, or -ENOMEM. */
static int reserve(struct podset *ps, int f, uint32_t n)
{
	const struct ptab *t = ps->t[f];
	uint32_t iwant = grow_want(ps->icount, n);

	if (!n)
		return 0;
	if (!t || ((uint64_t)t->live + t->tomb + n) * 4 > (uint64_t)t->cap * 3)
		return ptab_rebuild(ps, f, grow_want(t ? t->live : 0, n),
				    iwant) < 0
			   ? -ENOMEM
			   : 1;
	if (((uint64_t)ps->icount + n) * 4 > (uint64_t)ps->icap * 3) {
		uint32_t icap, *v = idx_alloc(iwant, &icap);
		if (!v)
			return -ENOMEM;
		idx_fill(ps, v, icap);
	}
	return 0;
}

/* ---- namespaces ---- */

static bool ns_match(const void *item, const void *key)
{
	const uint8_t *l = ((const struct nsent *)item)->label;
	const uint8_t *k = key;

	return l[0] == k[0] && memcmp(l + 1, k + 1, k[0]) == 0;
}

static uint32_t ns_hash(const void *item)
{
	return ((const struct nsent *)item)->hash;
}

static uint32_t label_hash(const uint8_t *l)
{
	return rcuhash_fnv(RCUHASH_FNV0, l, (size_t)l[0] + 1);
}

/* Writer: the number of namespace label ns, added when new; -1 when out of
 * memory or numbers. */
static long ns_index(struct podset *ps, const uint8_t *ns)
{
	if (ps->last < ps->nns && ns_match(ps->ns[ps->last], ns))
		return ps->last;
	uint32_t h = label_hash(ns);
	struct nsent *e = rcuhash_find(ps->nsmap, h, ns_match, ns);
	if (e)
		return ps->last = e->idx;
	if (ps->nns == MAX_NS)
		return -1;
	if (ps->nns == ps->capns) {
		uint32_t cap = ps->capns ? ps->capns * 2 : 16;
		struct nsent **v = realloc(ps->ns, cap * sizeof(*v));
		if (!v)
			return -1;
		ps->ns = v;
		ps->capns = cap;
	}
	if (!(e = calloc(1, sizeof(*e))))
		return -1;
	e->hash = h;
	e->idx = ps->nns;
	memcpy(e->label, ns, (size_t)ns[0] + 1);
	if (rcuhash_insert(ps->nsmap, h, e) < 0) {
		free(e);
		return -1;
	}
	ps->ns[ps->nns++] = e;
	return ps->last = e->idx;
}

/* The number of namespace label ns, or -1 when it has none. */
static long ns_lookup(const struct podset *ps, const uint8_t *ns)
{
	const struct nsent *e =
	    ns[0] ? rcuhash_find(ps->nsmap, label_hash(ns), ns_match, ns)
		  : NULL;

	return e ? (long)e->idx : -1;
}

/* The lowercase wire label of ns into lab (64 bytes); false if too long. */
static bool ns_label(const char *ns, uint8_t *lab)
{
	size_t n = strlen(ns);

	if (n == 0 || n > 63)
		return false;
	lab[0] = (uint8_t)n;
	for (size_t i = 0; i < n; i++)
		lab[i + 1] = (uint8_t)tolower((unsigned char)ns[i]);
	return true;
}

/* ---- the set ---- */

struct podset *podset_new(void)
{
	struct podset *ps = calloc(1, sizeof(*ps));

	if (!ps)
		return NULL;
	uint32_t icap, *v = idx_alloc(0, &icap);
	if (!v || !(ps->nsmap = rcuhash_new(ns_hash))) {
		free(v);
		podset_free(ps);
		return NULL;
	}
	idx_fill(ps, v, icap);
	return ps;
}

void podset_free(struct podset *ps)
{
	if (!ps)
		return;
	free(ps->t[0]);
	free(ps->t[1]);
	for (uint32_t i = 0; i < ps->nns; i++)
		free(ps->ns[i]);
	free(ps->ns);
	rcuhash_free(ps->nsmap);
	free(ps->idx);
	free(ps);
}

/* The slots of pod (in namespace nsi), at most max references into out;
 * returns how many. */
static size_t pod_slots(const struct podset *ps, uint64_t pod, uint32_t nsi,
			uint32_t *out, size_t max)
{
	size_t n = 0;
	uint32_t tag = pod_tag(pod);

	for (uint32_t i = home(mix64(pod), ps->icap); ps->idx[i] && n < max;
	     i = next(i, ps->icap)) {
		uint32_t slot;
		if (ps->idx[i] >> REF_TAG_SHIFT != tag)
			continue;
		const struct ptab *t = ref_tab(ps, ps->idx[i], &slot);
		if (slot_pod(t, slot) == pod && slot_ns(t, slot) == nsi)
			out[n++] = ps->idx[i];
	}
	return n;
}

/* Whether slot reference ref holds address a. */
static bool ref_is(const struct podset *ps, uint32_t ref,
		   const struct obj_addr *a)
{
	uint32_t slot;
	const struct ptab *t = ref_tab(ps, ref, &slot);
	int v6 = (ref & REF_V6) != 0;

	if (a->family != (v6 ? 6 : 4))
		return false;
	if (v6)
		return memcmp(t->a6[slot], a->a, 16) == 0;
	return (uint32_t)t->key[slot] == (uint32_t)make_key(0, 0, a->a);
}

/* Writer: the key of ref is removed. */
static void ref_drop(struct podset *ps, uint32_t ref)
{
	uint32_t slot;
	struct ptab *t = (struct ptab *)ref_tab(ps, ref, &slot);

	idx_del(ps, ref);
	CMM_STORE_SHARED(t->key[slot], KEY_TOMB);
	t->live--;
	t->tomb++;
}

static void ref_set_gen(struct podset *ps, uint32_t ref, uint32_t gen,
			uint32_t node)
{
	uint32_t slot;
	struct ptab *t = (struct ptab *)ref_tab(ps, ref, &slot);

	t->w[slot] = (t->w[slot] & ~GEN_MASK) | (gen & GEN_MASK);
	if (t->node && t->node[slot] != node)
		CMM_STORE_SHARED(t->node[slot], node);
}

/* Writer: the tables get node numbers (rebuilt with them), 0 or -ENOMEM
 * (nothing changed). */
static int set_nodes(struct podset *ps)
{
	ps->nodes = true;
	for (int f = 0; f < 2; f++) {
		const struct ptab *t = ps->t[f];
		if (t && !t->node &&
		    ptab_rebuild(ps, f, t->live, ps->icount) < 0) {
			ps->nodes = false;
			return -ENOMEM;
		}
	}
	return 0;
}

int podset_put(struct podset *ps, const char *ns, const char *name,
	       const struct obj_addr *ips, size_t n, uint32_t node,
	       uint32_t gen)
{
	uint8_t lab[64];
	uint32_t old[MAX_IPS];
	const struct obj_addr *add[MAX_IPS];
	uint32_t need[2] = {0, 0};
	size_t nadd = 0;

	if (!ns_label(ns, lab))
		n = 0, lab[0] = 0;
	if (n > MAX_IPS)
		n = MAX_IPS;
	if (node && !ps->nodes && set_nodes(ps) < 0)
		return -ENOMEM;
	uint64_t pod = pod_key(lab, name);
	long nsi = n ? ns_index(ps, lab) : ns_lookup(ps, lab);
	if (nsi < 0)
		return n ? -ENOMEM : 0; /* without a number it has no slot */
	/* what is new, with no slot of this pod yet */
	size_t nold = pod_slots(ps, pod, (uint32_t)nsi, old, MAX_IPS);
	for (size_t i = 0; i < n; i++) {
		const struct obj_addr *a = &ips[i];
		bool have = a->family != 4 && a->family != 6;
		for (size_t j = 0; j < nold && !have; j++)
			have = ref_is(ps, old[j], a);
		for (size_t j = 0; j < nadd && !have; j++)
			have = add[j]->family == a->family &&
			       memcmp(add[j]->a, a->a,
				      a->family == 4 ? 4 : 16) == 0;
		if (!have) {
			add[nadd++] = a;
			need[a->family == 6]++;
		}
	}
	/* room first: a rebuild moves slots, so look them up again after */
	int moved4 = reserve(ps, 0, need[0]);
	int moved6 = moved4 < 0 ? 0 : reserve(ps, 1, need[1]);
	if (moved4 < 0 || moved6 < 0)
		return -ENOMEM;
	if (moved4 || moved6)
		nold = pod_slots(ps, pod, (uint32_t)nsi, old, MAX_IPS);
	for (size_t j = 0; j < nold; j++)
		ref_set_gen(ps, old[j], gen, node);
	/* The new addresses first, */
	uint64_t w = pod << POD_SHIFT | (gen & GEN_MASK);
	for (size_t i = 0; i < nadd; i++) {
		int v6 = add[i]->family == 6;
		uint32_t slot =
		    ptab_put(ps->t[v6], make_key(v6, (uint32_t)nsi, add[i]->a),
			     w, node, add[i]->a);
		idx_add(ps, ref_make(v6, slot, pod));
	}
	/* then the old ones it no longer has go. */
	bool changed = nadd > 0;
	for (size_t j = 0; j < nold; j++) {
		bool keep = false;
		for (size_t i = 0; i < n && !keep; i++)
			keep = ref_is(ps, old[j], &ips[i]);
		if (!keep) {
			ref_drop(ps, old[j]);
			changed = true;
		}
	}
	return changed ? 1 : 0;
}

int podset_del(struct podset *ps, const char *ns, const char *name)
{
	uint8_t lab[64];
	uint32_t old[MAX_IPS];

	if (!ns_label(ns, lab))
		return -ENOENT;
	long nsi = ns_lookup(ps, lab);
	if (nsi < 0)
		return -ENOENT;
	size_t n =
	    pod_slots(ps, pod_key(lab, name), (uint32_t)nsi, old, MAX_IPS);
	for (size_t i = 0; i < n; i++)
		ref_drop(ps, old[i]);
	return n ? 0 : -ENOENT;
}

size_t podset_drop_stale(struct podset *ps, uint32_t gen)
{
	size_t n = 0;

	for (int f = 0; f < 2; f++) {
		struct ptab *t = ps->t[f];
		for (uint32_t i = 0; t && i < t->cap; i++)
			if (slot_live(t, i) &&
			    (t->w[i] & GEN_MASK) != (gen & GEN_MASK)) {
				ref_drop(ps, ref_of(ps, f, i));
				n++;
			}
	}
	return n;
}

void podset_reclaim(struct podset *ps)
{
	/* a table mostly empty, or IPv6 tombstones over the live keys:
	 * rebuilt smaller (on -ENOMEM it simply stays as it is) */
	for (int f = 0; f < 2; f++) {
		const struct ptab *t = ps->t[f];
		if (t && t->cap > MIN_CAP &&
		    ((uint64_t)t->live * 8 < t->cap || t->tomb > t->live))
			ptab_rebuild(ps, f, t->live, ps->icount);
	}
}

size_t podset_count(const struct podset *ps)
{
	return (ps->t[0] ? ps->t[0]->live : 0) +
	       (ps->t[1] ? ps->t[1]->live : 0);
}

int podset_each(const struct podset *ps,
		int (*cb)(const char *ns, const struct obj_addr *a, void *arg),
		void *arg)
{
	for (int f = 0; f < 2; f++) {
		const struct ptab *t = ps->t[f];
		for (uint32_t i = 0; t && i < t->cap; i++) {
			if (!slot_live(t, i))
				continue;
			const uint8_t *l = ps->ns[slot_ns(t, i)]->label;
			struct obj_addr a = {.family = f ? 6 : 4};
			char ns[64];
			if (f) {
				memcpy(a.a, t->a6[i], 16);
			} else {
				uint32_t v = (uint32_t)t->key[i];
				a.a[0] = (uint8_t)(v >> 24);
				a.a[1] = (uint8_t)(v >> 16);
				a.a[2] = (uint8_t)(v >> 8);
				a.a[3] = (uint8_t)v;
			}
			memcpy(ns, l + 1, l[0]);
			ns[l[0]] = 0;
			int rc = cb(ns, &a, arg);
			if (rc)
				return rc;
		}
	}
	return 0;
}

bool podset_has(const struct podset *ps, const uint8_t *ns, int family,
		const uint8_t *addr)
{
	const struct nsent *e =
	    rcuhash_find(ps->nsmap, label_hash(ns), ns_match, ns);
	int v6 = family == 6;

	if (!e || (family != 4 && !v6))
		return false;
	const struct ptab *t = rcu_dereference(ps->t[v6]);
	if (!t)
		return false;
	uint64_t key = make_key(v6, e->idx, addr);
	for (uint32_t i = key_home(key, t->cap);; i = next(i, t->cap)) {
		uint64_t k = CMM_LOAD_SHARED(t->key[i]);
		if (k == KEY_EMPTY)
			return false;
		if (k == key) {
			if (!v6)
				return true;
			/* the address is stored before the key, and stays
			 * while the slot is in this table */
			cmm_smp_rmb();
			if (memcmp(t->a6[i], addr, 16) == 0)
				return true;
		}
	}
}

uint32_t podset_node(const struct podset *ps, int family, const uint8_t *addr)
{
	int v6 = family == 6;

	if (family != 4 && !v6)
		return 0;
	const struct ptab *t = rcu_dereference(ps->t[v6]);
	if (!t)
		return 0;
	/* the address part of the key, in any namespace */
	const uint64_t mask = KEY_LIVE | 0xffffffffULL;
	uint64_t key = make_key(v6, 0, addr) & mask;
	for (uint32_t i = key_home(key, t->cap);; i = next(i, t->cap)) {
		uint64_t k = CMM_LOAD_SHARED(t->key[i]);
		if (k == KEY_EMPTY)
			return 0;
		if ((k & mask) != key)
			continue;
		/* the node and address are stored before the key */
		cmm_smp_rmb();
		if (v6 && memcmp(t->a6[i], addr, 16) != 0)
			continue;
		uint32_t node = t->node ? CMM_LOAD_SHARED(t->node[i]) : 0;
		if (node)
			return node;
	}
}
