/*
 * store.c -- versioned object store with a global resourceVersion.
 */
#include "tools/apiemu/store.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

const struct emu_resource_info emu_resources[EMU_RES_COUNT] = {
    {"namespaces", "Namespace", "NamespaceList", "v1", false},
    {"services", "Service", "ServiceList", "v1", true},
    {"endpointslices", "EndpointSlice", "EndpointSliceList",
     "discovery.k8s.io/v1", true},
    {"pods", "Pod", "PodList", "v1", true},
    {"serviceimports", "ServiceImport", "ServiceImportList",
     "multicluster.x-k8s.io/v1alpha1", true},
};

const char *const emu_ev_names[3] = {"ADDED", "MODIFIED", "DELETED"};

/* Stands for the resourceVersion value while the text is printed. */
#define RV_MARK "@apiemu-rv@"
#define RV_FIELD "\"resourceVersion\":\"" RV_MARK "\""

int emu_resource_by_name(const char *name)
{
	for (int i = 0; i < EMU_RES_COUNT; i++)
		if (strcmp(emu_resources[i].name, name) == 0)
			return i;
	return -1;
}

int emu_resource_by_kind(const char *kind)
{
	for (int i = 0; i < EMU_RES_COUNT; i++)
		if (strcmp(emu_resources[i].kind, kind) == 0)
			return i;
	return -1;
}

uint64_t emu_store_rand(struct emu_store *s)
{
	uint64_t x = s->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	s->rng = x;
	return x * 0x2545F4914F6CDD1DULL;
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p) {
		fprintf(stderr, "apiemu: out of memory\n");
		abort();
	}
	return p;
}

static char *xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;

	return memcpy(xmalloc(n), s, n);
}

void emu_store_init(struct emu_store *s, size_t history_max)
{
	memset(s, 0, sizeof(*s));
	s->rv = 1;
	s->compact_rv = 1;
	s->history_max = history_max;
	s->rng = (uint64_t)time(NULL) * 2654435761u ^ (uint64_t)getpid() << 32 ^
		 0x9E3779B97F4A7C15ULL;
}

/* ---- docs and versions */

static void doc_unref(struct emu_doc *d)
{
	if (!d || --d->refs > 0)
		return;
	for (size_t i = 0; i < d->nlabels; i++) {
		free(d->labels[i].key);
		free(d->labels[i].value);
	}
	free(d->labels);
	free(d->text);
	free(d->uid);
	free(d->created);
	free(d->phase);
	free(d);
}

static void version_free_chain(struct emu_version *v)
{
	while (v) {
		struct emu_version *older = v->older;

		doc_unref(v->doc);
		free(v);
		v = older;
	}
}

static void entry_free(struct emu_entry *e)
{
	version_free_chain(e->head);
	free(e->key);
	free(e);
}

void emu_store_free(struct emu_store *s)
{
	for (int r = 0; r < EMU_RES_COUNT; r++) {
		struct emu_table *t = &s->tables[r];

		for (size_t i = 0; i < t->n; i++)
			entry_free(t->v[i]);
		free(t->v);
	}
	free(s->hist);
	memset(s, 0, sizeof(*s));
}

void emu_doc_write(struct evbuffer *out, const struct emu_doc *doc, uint64_t rv,
		   const struct emu_resource_info *info)
{
	const char *t = doc->text;

	if (info) {
		evbuffer_add_printf(out,
				    "{\"kind\":\"%s\",\"apiVersion\":\"%s\"",
				    info->kind, info->api_version);
		/* text starts with "{" and is never "{}": metadata exists */
		evbuffer_add(out, ",", 1);
		evbuffer_add(out, t + 1, doc->rv_off - 1);
	} else {
		evbuffer_add(out, t, doc->rv_off);
	}
	evbuffer_add_printf(out, "%llu", (unsigned long long)rv);
	evbuffer_add(out, t + doc->rv_off, doc->len - doc->rv_off);
}

cJSON *emu_doc_json(const struct emu_doc *doc, uint64_t rv)
{
	char num[24];
	int n = snprintf(num, sizeof(num), "%llu", (unsigned long long)rv);
	char *buf = xmalloc(doc->len + (size_t)n + 1);
	cJSON *j;

	memcpy(buf, doc->text, doc->rv_off);
	memcpy(buf + doc->rv_off, num, (size_t)n);
	memcpy(buf + doc->rv_off + (size_t)n, doc->text + doc->rv_off,
	       doc->len - doc->rv_off);
	buf[doc->len + (size_t)n] = '\0';
	j = cJSON_Parse(buf);
	free(buf);
	return j;
}

static void make_uid(struct emu_store *s, char out[37])
{
	uint64_t a = emu_store_rand(s), b = emu_store_rand(s);

	snprintf(out, 37, "%08x-%04x-4%03x-%04x-%012llx", (unsigned)(a >> 32),
		 (unsigned)(a >> 16) & 0xffff, (unsigned)a & 0xfff,
		 (unsigned)(0x8000 | ((b >> 48) & 0x3fff)),
		 (unsigned long long)(b & 0xffffffffffffULL));
}

static void now_rfc3339(char out[32])
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static const char *json_str(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(v) && v->valuestring ? v->valuestring : NULL;
}

static void set_str(cJSON *o, const char *name, const char *value)
{
	cJSON_DeleteItemFromObjectCaseSensitive(o, name);
	cJSON_AddStringToObject(o, name, value);
}

/* Build the stored form of obj (kind, apiVersion already known).  old is
 * the current live doc of the same key, or NULL. */
static struct emu_doc *doc_build(struct emu_store *s, cJSON *obj,
				 const cJSON *md, const struct emu_doc *old)
{
	struct emu_doc *d = xmalloc(sizeof(*d));
	cJSON *meta = (cJSON *)md;
	const char *uid = json_str(meta, "uid");
	const char *created = json_str(meta, "creationTimestamp");
	char ubuf[37], tbuf[32];
	const cJSON *labels, *l, *status;
	char *p;

	memset(d, 0, sizeof(*d));
	d->refs = 1;
	if (!uid) {
		if (old) {
			uid = old->uid;
		} else {
			make_uid(s, ubuf);
			uid = ubuf;
		}
		set_str(meta, "uid", uid);
	}
	if (!created) {
		if (old) {
			created = old->created;
		} else {
			now_rfc3339(tbuf);
			created = tbuf;
		}
		set_str(meta, "creationTimestamp", created);
	}
	d->uid = xstrdup(uid);
	d->created = xstrdup(created);
	set_str(meta, "resourceVersion", RV_MARK);

	labels = cJSON_GetObjectItemCaseSensitive(meta, "labels");
	if (cJSON_IsObject(labels)) {
		size_t n = (size_t)cJSON_GetArraySize(labels);

		d->labels = xmalloc(n * sizeof(*d->labels));
		cJSON_ArrayForEach(l, labels)
		{
			if (!l->string)
				continue;
			d->labels[d->nlabels].key = xstrdup(l->string);
			d->labels[d->nlabels].value = xstrdup(
			    cJSON_IsString(l) && l->valuestring ? l->valuestring
								: "");
			d->nlabels++;
		}
	}
	status = cJSON_GetObjectItemCaseSensitive(obj, "status");
	if (cJSON_IsObject(status) && json_str(status, "phase"))
		d->phase = xstrdup(json_str(status, "phase"));

	d->text = cJSON_PrintUnformatted(obj);
	if (!d->text) {
		fprintf(stderr, "apiemu: out of memory\n");
		abort();
	}
	p = strstr(d->text, RV_FIELD);
	if (!p) { /* cannot happen: the field was just set */
		fprintf(stderr, "apiemu: resourceVersion lost\n");
		abort();
	}
	p += strlen("\"resourceVersion\":\"");
	d->rv_off = (size_t)(p - d->text);
	memmove(p, p + strlen(RV_MARK), strlen(p + strlen(RV_MARK)) + 1);
	d->len = strlen(d->text);
	return d;
}

/* ---- tables */

static int entry_cmp(const void *a, const void *b)
{
	const struct emu_entry *x = *(struct emu_entry *const *)a;
	const struct emu_entry *y = *(struct emu_entry *const *)b;
	int c = strcmp(x->key, y->key);

	if (c)
		return c;
	/* bulk duplicates: the newest last */
	if (x->head->rv != y->head->rv)
		return x->head->rv < y->head->rv ? -1 : 1;
	return 0;
}

size_t emu_store_seek(const struct emu_store *s, int res, const char *key,
		      bool inclusive)
{
	const struct emu_table *t = &s->tables[res];
	size_t lo = 0, hi = t->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(t->v[mid]->key, key);

		if (c < 0 || (c == 0 && !inclusive))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

struct emu_entry *emu_store_find(const struct emu_store *s, int res,
				 const char *key)
{
	const struct emu_table *t = &s->tables[res];
	size_t i = emu_store_seek(s, res, key, true);

	if (i < t->n && strcmp(t->v[i]->key, key) == 0)
		return t->v[i];
	return NULL;
}

size_t emu_store_count(const struct emu_store *s, int res)
{
	return s->tables[res].live;
}

static void table_reserve(struct emu_table *t)
{
	if (t->n < t->cap)
		return;
	t->cap = t->cap ? t->cap * 2 : 256;
	t->v = realloc(t->v, t->cap * sizeof(*t->v));
	if (!t->v) {
		fprintf(stderr, "apiemu: out of memory\n");
		abort();
	}
}

static struct emu_entry *entry_new(int res, const char *ns, const char *name)
{
	struct emu_entry *e = xmalloc(sizeof(*e));
	size_t nl = emu_resources[res].namespaced ? strlen(ns) : 0;
	size_t ml = strlen(name);

	memset(e, 0, sizeof(*e));
	e->key = xmalloc(nl + 1 + ml + 1);
	if (emu_resources[res].namespaced) {
		memcpy(e->key, ns, nl);
		e->key[nl] = '/';
		memcpy(e->key + nl + 1, name, ml + 1);
		e->name = e->key + nl + 1;
	} else {
		memcpy(e->key, name, ml + 1);
		e->name = e->key;
	}
	e->ns_len = nl;
	return e;
}

/* Drop dead entries from a table once they are a good part of it. */
static void table_sweep(struct emu_table *t, bool force)
{
	size_t j = 0;

	if (!t->dead || (!force && t->dead < t->n / 4 + 64))
		return;
	for (size_t i = 0; i < t->n; i++) {
		if (t->v[i]->head)
			t->v[j++] = t->v[i];
		else
			entry_free(t->v[i]);
	}
	t->n = j;
	t->dead = 0;
}

/* ---- history */

static struct emu_event *hist_at(const struct emu_store *s, uint64_t rv)
{
	size_t len = (size_t)(s->rv - s->compact_rv);

	if (rv <= s->compact_rv || rv > s->rv || !len)
		return NULL;
	return &s->hist[(s->hist_head + (size_t)(rv - s->compact_rv - 1)) %
			s->hist_cap];
}

const struct emu_event *emu_store_event(const struct emu_store *s, uint64_t rv)
{
	return hist_at(s, rv);
}

static void hist_append(struct emu_store *s, const struct emu_event *ev)
{
	size_t len = (size_t)(s->rv - s->compact_rv); /* before this event */

	if (len + 1 > s->hist_cap) {
		size_t ncap = s->hist_cap ? s->hist_cap * 2 : 1024;
		struct emu_event *n = xmalloc(ncap * sizeof(*n));

		for (size_t i = 0; i < len; i++)
			n[i] = s->hist[(s->hist_head + i) % s->hist_cap];
		free(s->hist);
		s->hist = n;
		s->hist_cap = ncap;
		s->hist_head = 0;
	}
	s->hist[(s->hist_head + len) % s->hist_cap] = *ev;
}

const struct emu_version *emu_entry_at(const struct emu_entry *e, uint64_t rv)
{
	const struct emu_version *v = e->head;

	while (v && v->rv > rv)
		v = v->older;
	if (!v || v->deleted)
		return NULL;
	return v;
}

/* Keep the versions of e a snapshot at or after upto can see. */
static void entry_prune(struct emu_table *t, struct emu_entry *e, uint64_t upto)
{
	struct emu_version **pp = &e->head, *v;

	while (*pp && (*pp)->rv > upto)
		pp = &(*pp)->older;
	v = *pp;
	if (!v)
		return;
	version_free_chain(v->older);
	v->older = NULL;
	if (v->deleted) {
		*pp = NULL;
		version_free_chain(v);
		if (!e->head)
			t->dead++;
	}
}

void emu_store_compact(struct emu_store *s, uint64_t upto)
{
	struct emu_entry **touched;
	size_t nt = 0, len;

	if (upto > s->rv)
		upto = s->rv;
	if (upto <= s->compact_rv)
		return;
	len = (size_t)(upto - s->compact_rv);
	touched = xmalloc(len * sizeof(*touched));
	for (uint64_t rv = s->compact_rv + 1; rv <= upto; rv++) {
		struct emu_event *ev = hist_at(s, rv);

		if (ev && !ev->entry->touched) {
			ev->entry->touched = true;
			touched[nt++] = ev->entry;
			entry_prune(&s->tables[ev->res], ev->entry, upto);
		}
	}
	for (size_t i = 0; i < nt; i++)
		touched[i]->touched = false;
	free(touched);
	if (s->hist_cap)
		s->hist_head = (s->hist_head + len) % s->hist_cap;
	s->compact_rv = upto;
	for (int r = 0; r < EMU_RES_COUNT; r++)
		table_sweep(&s->tables[r], false);
}

/* A new version at the next resourceVersion, its event and its callback. */
static uint64_t record(struct emu_store *s, int res, struct emu_entry *e,
		       struct emu_version *v, int type,
		       struct emu_version *prev)
{
	struct emu_event ev;

	v->rv = ++s->rv;
	v->older = e->head;
	e->head = v;
	if (s->bulk) {
		s->compact_rv = s->rv;
		return v->rv;
	}
	ev.rv = v->rv;
	ev.type = (uint8_t)type;
	ev.res = (uint8_t)res;
	ev.entry = e;
	ev.ver = v;
	ev.prev = prev;
	s->rv--; /* hist_append counts the events before this one */
	hist_append(s, &ev);
	s->rv++;
	if (s->history_max && s->rv - s->compact_rv > s->history_max)
		emu_store_compact(s, s->rv - s->history_max);
	if (s->on_event)
		s->on_event(s->on_event_arg);
	return v->rv;
}

int emu_store_put(struct emu_store *s, cJSON *obj, int res, uint64_t *rv,
		  char *err, size_t errlen)
{
	struct emu_table *t;
	cJSON *meta;
	const char *kind = json_str(obj, "kind");
	const char *name, *ns = "";
	struct emu_entry *e = NULL;
	struct emu_version *v, *prev = NULL;
	char *key = NULL;
	bool created = false;
	int type;

	if (!cJSON_IsObject(obj)) {
		snprintf(err, errlen, "object is not a JSON object");
		return -EINVAL;
	}
	if (kind) {
		int k = emu_resource_by_kind(kind);

		if (k < 0 || (res >= 0 && k != res)) {
			snprintf(err, errlen, "unsupported kind \"%s\"", kind);
			return -EINVAL;
		}
		res = k;
	}
	if (res < 0) {
		snprintf(err, errlen, "object has no kind");
		return -EINVAL;
	}
	t = &s->tables[res];
	meta = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
	if (!cJSON_IsObject(meta)) {
		snprintf(err, errlen, "object has no metadata");
		return -EINVAL;
	}
	name = json_str(meta, "name");
	if (!name || !*name || strchr(name, '/')) {
		snprintf(err, errlen, "metadata.name missing or invalid");
		return -EINVAL;
	}
	if (emu_resources[res].namespaced) {
		ns = json_str(meta, "namespace");
		if (!ns || !*ns) {
			set_str(meta, "namespace", "default");
			ns = json_str(meta, "namespace");
		}
		if (strchr(ns, '/')) {
			snprintf(err, errlen, "metadata.namespace invalid");
			return -EINVAL;
		}
	} else {
		cJSON_DeleteItemFromObjectCaseSensitive(meta, "namespace");
	}
	cJSON_DeleteItemFromObjectCaseSensitive(obj, "kind");
	cJSON_DeleteItemFromObjectCaseSensitive(obj, "apiVersion");

	if (!s->bulk) {
		size_t kl = strlen(ns) + strlen(name) + 2;

		key = xmalloc(kl);
		if (emu_resources[res].namespaced)
			snprintf(key, kl, "%s/%s", ns, name);
		else
			snprintf(key, kl, "%s", name);
		e = emu_store_find(s, res, key);
	}
	if (!e) {
		size_t at;

		e = entry_new(res, ns, name);
		table_reserve(t);
		if (s->bulk) {
			at = t->n;
			t->unsorted = true;
		} else {
			at = emu_store_seek(s, res, e->key, true);
			memmove(t->v + at + 1, t->v + at,
				(t->n - at) * sizeof(*t->v));
		}
		t->v[at] = e;
		t->n++;
		created = true;
	}
	free(key);
	if (e->head && !e->head->deleted)
		prev = e->head;
	v = xmalloc(sizeof(*v));
	memset(v, 0, sizeof(*v));
	v->doc = doc_build(s, obj, meta, prev ? prev->doc : NULL);
	if (!e->head && !created)
		t->dead--; /* revived */
	if (!prev)
		t->live++;
	type = prev ? EMU_EV_MODIFIED : EMU_EV_ADDED;
	record(s, res, e, v, type, prev);
	if (rv)
		*rv = s->rv;
	return 0;
}

int emu_store_delete(struct emu_store *s, int res, const char *ns,
		     const char *name, uint64_t *rv)
{
	struct emu_table *t = &s->tables[res];
	struct emu_entry *e;
	struct emu_version *v;
	size_t nl = ns ? strlen(ns) : 0, ml = strlen(name);
	char *key = xmalloc(nl + 1 + ml + 1);

	if (emu_resources[res].namespaced)
		snprintf(key, nl + ml + 2, "%s/%s", ns ? ns : "", name);
	else
		memcpy(key, name, ml + 1);
	e = emu_store_find(s, res, key);
	free(key);
	if (!e || !e->head || e->head->deleted)
		return -ENOENT;
	v = xmalloc(sizeof(*v));
	memset(v, 0, sizeof(*v));
	v->deleted = true;
	v->doc = e->head->doc;
	v->doc->refs++;
	t->live--;
	record(s, res, e, v, EMU_EV_DELETED, NULL);
	if (rv)
		*rv = s->rv;
	return 0;
}

void emu_store_bulk_begin(struct emu_store *s)
{
	emu_store_compact(s, s->rv);
	s->bulk = true;
}

void emu_store_bulk_end(struct emu_store *s)
{
	for (int r = 0; r < EMU_RES_COUNT; r++) {
		struct emu_table *t = &s->tables[r];
		size_t j = 0;

		if (!t->unsorted)
			continue;
		qsort(t->v, t->n, sizeof(*t->v), entry_cmp);
		for (size_t i = 0; i < t->n; i++) {
			if (j && strcmp(t->v[j - 1]->key, t->v[i]->key) == 0) {
				/* same key: the later one replaces it */
				entry_free(t->v[j - 1]);
				t->live--;
				t->v[j - 1] = t->v[i];
			} else {
				t->v[j++] = t->v[i];
			}
		}
		t->n = j;
		t->unsorted = false;
	}
	s->bulk = false;
	s->compact_rv = s->rv;
	s->hist_head = 0;
}

/* ---- loading */

static long load_value(struct emu_store *s, cJSON *v, const char *path,
		       long *skipped)
{
	const cJSON *items = cJSON_GetObjectItemCaseSensitive(v, "items");
	const char *kind = json_str(v, "kind");
	char err[256];
	long n = 0;

	if (cJSON_IsArray(items)) {
		int hint = -1;
		cJSON *it;

		if (kind) {
			size_t kl = strlen(kind);

			if (kl > 4 && strcmp(kind + kl - 4, "List") == 0) {
				char base[64];

				if (kl - 4 < sizeof(base)) {
					memcpy(base, kind, kl - 4);
					base[kl - 4] = '\0';
					hint = emu_resource_by_kind(base);
				}
				if (hint < 0 && strcmp(kind, "List") != 0) {
					*skipped += cJSON_GetArraySize(items);
					return 0;
				}
			}
		}
		cJSON_ArrayForEach(it, items)
		{
			const char *ik = json_str(it, "kind");

			if ((ik && emu_resource_by_kind(ik) < 0) ||
			    (!ik && hint < 0)) {
				(*skipped)++;
				continue;
			}
			if (emu_store_put(s, it, ik ? -1 : hint, NULL, err,
					  sizeof(err)) < 0) {
				fprintf(stderr, "apiemu: %s: %s\n", path, err);
				return -1;
			}
			n++;
		}
		return n;
	}
	if (!kind || emu_resource_by_kind(kind) < 0) {
		(*skipped)++;
		return 0;
	}
	if (emu_store_put(s, v, -1, NULL, err, sizeof(err)) < 0) {
		fprintf(stderr, "apiemu: %s: %s\n", path, err);
		return -1;
	}
	return 1;
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0, r;

	if (!f)
		return NULL;
	for (;;) {
		if (cap - n < 65536) {
			cap = cap ? cap * 2 : 1 << 20;
			buf = realloc(buf, cap + 1);
			if (!buf) {
				fclose(f);
				return NULL;
			}
		}
		r = fread(buf + n, 1, cap - n, f);
		n += r;
		if (r == 0)
			break;
	}
	if (ferror(f)) {
		free(buf);
		fclose(f);
		return NULL;
	}
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

static long load_file(struct emu_store *s, const char *path, long *skipped)
{
	size_t len;
	char *buf = read_file(path, &len);
	const char *p, *end;
	long total = 0;

	if (!buf) {
		fprintf(stderr, "apiemu: %s: %s\n", path, strerror(errno));
		return -1;
	}
	p = buf;
	for (;;) {
		cJSON *v;
		long n;

		while (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')
			p++;
		if (!*p)
			break;
		/* With the length, cJSON does not strlen() the rest of the
		 * buffer for every object of a file that holds many. */
		v = cJSON_ParseWithLengthOpts(p, len - (size_t)(p - buf), &end,
					      false);
		if (!v) {
			fprintf(stderr,
				"apiemu: %s: invalid JSON at byte %ld\n", path,
				(long)(cJSON_GetErrorPtr() - buf));
			free(buf);
			return -1;
		}
		n = load_value(s, v, path, skipped);
		cJSON_Delete(v);
		if (n < 0) {
			free(buf);
			return -1;
		}
		total += n;
		p = end;
	}
	free(buf);
	return total;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static long load_dir(struct emu_store *s, const char *path, long *skipped)
{
	DIR *d = opendir(path);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0;
	long total = 0;

	if (!d) {
		fprintf(stderr, "apiemu: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);

		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			names = realloc(names, cap * sizeof(*names));
			if (!names)
				abort();
		}
		names[n] = xmalloc(strlen(path) + l + 2);
		sprintf(names[n], "%s/%s", path, de->d_name);
		n++;
	}
	closedir(d);
	qsort(names, n, sizeof(*names), name_cmp);
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		size_t l = strlen(names[i]);
		long r = 0;

		if (stat(names[i], &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode))
			r = load_dir(s, names[i], skipped);
		else if (l > 5 && strcmp(names[i] + l - 5, ".json") == 0)
			r = load_file(s, names[i], skipped);
		if (r < 0) {
			total = -1;
			break;
		}
		total += r;
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return total;
}

long emu_store_load_path(struct emu_store *s, const char *path, long *skipped)
{
	struct stat st;

	if (stat(path, &st) < 0) {
		fprintf(stderr, "apiemu: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (S_ISDIR(st.st_mode))
		return load_dir(s, path, skipped);
	return load_file(s, path, skipped);
}
