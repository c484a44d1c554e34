/*
 * fuzz_watch.c -- libFuzzer target: what the API source reads from the
 * API server, through the same steps as zones/apisrc.c, into a fresh kube
 * per input: LIST pages (cJSON in the arena and decode_object; podscan for
 * Pods) between kube_relist_begin and kube_relist_end, and watch streams
 * (lines, watchev_parse, kube_put / kube_delete) with kube_commit after
 * each chunk, for Services, EndpointSlices, Namespaces and Pods.  Then
 * every record of the zone is walked and must be well formed.
 *
 * Input: one byte of kube options (bit 0 endpoint_pod_names, bit 1 ignore
 * empty_service, bit 2 noendpoints, bit 3 namespaces prod,default), then
 * sections separated by NUL bytes.  A section's first byte says what the
 * rest is: bits 0-1 the kind (Service, EndpointSlice, Namespace, Pod), bit
 * 2 a LIST page (else a watch stream), bit 3 more pages follow (LIST), bits
 * 4-7 the chunk size of the stream (1, 2, 4 ... 32768 bytes).
 * After the input, empty LISTs of every kind must leave no object.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <urcu.h>

#include "zones/dname.h"
#include "zones/jarena.h"
#include "zones/kube.h"
#include "zones/lines.h"
#include "zones/podscan.h"
#include "zones/watchev.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const kind_names[] = {"Service", "EndpointSlice",
					 "Namespace", "Pod"};
static const enum decode_kind kinds[] = {DECODE_SERVICE, DECODE_SLICE,
					 DECODE_NAMESPACE, DECODE_POD};

struct res {
	struct kube *k;
	int kind; /* index into kinds */
	bool in_list;
	bool stop; /* the watch ended (ERROR event, a line that is no event) */
	bool changed; /* put or deleted since the last commit */
	char rv[64];
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	rcu_register_thread();
	jarena_install();
	return 0;
}

static int watch_line(const char *line, size_t len, void *arg)
{
	struct res *r = arg;
	struct watchev ev;
	char why[300];
	int rc = watchev_parse(line, len, kind_names[r->kind], &ev, why,
			       sizeof(why));

	if (rc == -EINVAL) {
		r->stop = true;
		return 1;
	}
	if (rc == 0) {
		switch (ev.type) {
		case WATCHEV_ADDED:
		case WATCHEV_MODIFIED:
			kube_put(r->k, &ev.obj);
			r->changed = true;
			break;
		case WATCHEV_DELETED:
			if (kube_delete(r->k, kinds[r->kind],
					ev.ns[0] ? ev.ns : NULL,
					ev.name) != -ENOENT)
				r->changed = true;
			break;
		case WATCHEV_BOOKMARK:
			break;
		case WATCHEV_ERROR:
			r->stop = true;
			return 1;
		}
	}
	if (ev.rv[0])
		memcpy(r->rv, ev.rv, sizeof(r->rv));
	return 0;
}

static void watch(struct res *r, const char *d, size_t n, size_t chunk)
{
	struct lines l;

	lines_init(&l, 1u << 20);
	r->stop = false;
	for (size_t off = 0; off < n && !r->stop; off += chunk) {
		size_t m = n - off < chunk ? n - off : chunk;
		int rc = lines_feed(&l, d + off, m, watch_line, r);

		if (r->changed)
			kube_commit(r->k);
		r->changed = false;
		if (rc)
			break;
	}
	lines_reset(&l);
}

static void scanned_pod(void *arg, const struct podscan_pod *p)
{
	struct res *r = arg;

	if (!p->name[0] || !p->ns[0] || p->nips > PODSCAN_MAX_IPS)
		abort();
	if (strlen(p->node) >= sizeof(p->node))
		abort();
	long node = obj_node_intern(p->node);
	kube_put_pod(r->k, p->ns, p->name, p->ips, p->nips,
		     node > 0 ? (uint32_t)node : 0, p->terminal);
}

static void list_begin(struct res *r)
{
	if (!r->in_list) {
		kube_relist_begin(r->k, kinds[r->kind]);
		r->in_list = true;
	}
}

static void list_end(struct res *r, bool more)
{
	if (more)
		return;
	kube_relist_end(r->k, kinds[r->kind]);
	r->in_list = false;
	kube_commit(r->k);
}

static void list(struct res *r, const char *d, size_t n, bool more)
{
	if (kinds[r->kind] == DECODE_POD) {
		struct podscan_list pl;

		list_begin(r);
		if (podscan_page(d, n, scanned_pod, r, &pl) < 0) {
			if (pl.cont)
				abort();
			r->in_list = false; /* relisted from the start */
			return;
		}
		free(pl.cont);
		list_end(r, more);
		return;
	}
	jarena_begin();
	cJSON *doc = cJSON_ParseWithLength(d, n);
	cJSON *meta = cJSON_GetObjectItem(doc, "metadata");
	cJSON *items = cJSON_GetObjectItem(doc, "items");
	const char *rv =
	    cJSON_GetStringValue(cJSON_GetObjectItem(meta, "resourceVersion"));
	cJSON *it;

	if (!doc || !rv || (items && !cJSON_IsArray(items))) {
		cJSON_Delete(doc);
		jarena_end();
		r->in_list = false;
		return;
	}
	list_begin(r);
	cJSON_ArrayForEach(it, items)
	{
		struct decode_obj o;
		struct decode_err derr;

		if (decode_object(it, kind_names[r->kind], &o, &derr) == 0)
			kube_put(r->k, &o);
	}
	snprintf(r->rv, sizeof(r->rv), "%s", rv);
	jarena_end();
	list_end(r, more);
}

/* Every record: an owner that is a name, rdata that fits. */
static int check_rr(const uint8_t *owner, uint16_t type, uint32_t ttl,
		    const uint8_t *rdata, uint16_t rdlen, void *arg)
{
	(void)ttl;
	(void)arg;
	if (dname_len(owner) == 0 || dname_len(owner) > DNAME_MAX ||
	    (type == 1 && rdlen != 4) || (type == 28 && rdlen != 16) ||
	    (rdlen && !rdata))
		abort();
	return 0;
}

/* A kube per set of options, kept between inputs: freeing one waits for
 * an RCU grace period, so they are emptied after each input and freed
 * only every KUBE_LIFE inputs. */
#define KUBE_LIFE 256
static struct kube *kubes[16];
static unsigned uses;

static struct kube *kube_for(unsigned opts)
{
	static const char *const zones[] = {"cluster.local", "in-addr.arpa",
					    "ip6.arpa"};
	static const char *const nss[] = {"prod", "default"};
	char err[256];

	if (uses++ % KUBE_LIFE == 0)
		for (int i = 0; i < 16; i++) {
			kube_free(kubes[i]);
			kubes[i] = NULL;
		}
	if (kubes[opts])
		return kubes[opts];
	struct kube_conf c = {
	    .zones = zones,
	    .nzones = 3,
	    .pods = BUILDER_PODS_VERIFIED,
	    .ttl = 30,
	    .endpoint_pod_names = opts & 1,
	    .ignore_empty_service = opts & 2,
	    .noendpoints = opts & 4,
	    .namespaces = opts & 8 ? nss : NULL,
	    .nnamespaces = opts & 8 ? 2 : 0,
	};
	kubes[opts] = kube_new(&c, err, sizeof(err));
	if (!kubes[opts])
		abort();
	kube_set_synced(kubes[opts]);
	return kubes[opts];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct res res[4] = {{0}};

	if (size < 1)
		return 0;
	struct kube *k = kube_for(data[0] & 15);
	for (int i = 0; i < 4; i++) {
		res[i].k = k;
		res[i].kind = i;
	}
	const char *p = (const char *)data + 1,
		   *end = (const char *)data + size;
	while (p < end) {
		const char *e = memchr(p, '\0', (size_t)(end - p));
		size_t n = e ? (size_t)(e - p) : (size_t)(end - p);

		if (n) {
			unsigned s = (unsigned char)p[0];
			struct res *r = &res[s & 3];

			if (s & 4)
				list(r, p + 1, n - 1, s & 8);
			else
				watch(r, p + 1, n - 1, (size_t)1 << (s >> 4));
		}
		p += n + 1;
	}
	kube_commit(k);
	kube_each_rr(k, check_rr, NULL);
	/* Empty lists of every kind leave nothing behind. */
	for (int i = 0; i < 4; i++)
		kube_relist_begin(k, kinds[i]);
	for (int i = 0; i < 4; i++)
		kube_relist_end(k, kinds[i]);
	kube_commit(k);
	for (int i = 0; i < 4; i++)
		if (kube_count(k, kinds[i]) != 0)
			abort();
	jarena_release();
	return 0;
}
