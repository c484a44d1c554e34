/*
 * podscan.h -- a PodList page read for the few fields `pods verified`
 * needs, without building its JSON tree.  A page of pods is mostly specs
 * and statuses DNS never reads; scanning past them is several times
 * faster than parsing them into cJSON nodes, and a cluster's pods are most
 * of what a start or a relist reads.
 *
 * The scanner checks the JSON syntax of the whole page (strings, escapes,
 * numbers, literals, nesting up to 64 levels) and reads, per item:
 * metadata.name, metadata.namespace, spec.nodeName, status.phase,
 * status.podIP and status.podIPs[].ip.
 *
 * A page can be scanned whole (podscan_page) or as its bytes arrive
 * (podscan_feed): each item is handed over as soon as it is whole, and
 * only the bytes of an item cut between two pieces are kept.
 */
#ifndef CLUSTERDNS_PODSCAN_H
#define CLUSTERDNS_PODSCAN_H

#include <stdbool.h>
#include <stddef.h>

#include "zones/objects.h"

#define PODSCAN_MAX_IPS 4
#define PODSCAN_MAX_STEP (64u << 20) /* longest item, or page member */

/* One pod of the page. */
struct podscan_pod {
	char ns[254]; /* "default" when absent */
	char name[254];
	struct obj_addr ips[PODSCAN_MAX_IPS]; /* podIPs, else podIP */
	size_t nips;
	char node[254]; /* spec.nodeName, "" when absent */
	bool running;	/* status.phase Running */
	bool terminal;	/* status.phase Succeeded or Failed */
};

/* What a page gives besides its pods. */
struct podscan_list {
	char rv[64];   /* metadata.resourceVersion */
	char *cont;    /* metadata.continue, heap copy (caller frees); NULL
			* when absent or empty */
	size_t npods;  /* items used */
	size_t nskip;  /* items left out (no name, bad address, ...) */
	char why[200]; /* why the last item was left out */
};

/*
 * Scan a PodList page (len bytes at buf, not NUL-terminated): cb(arg, pod)
 * for each usable item, in order.  Returns 0 with *out filled, or -EINVAL
 * when the page is not JSON or not a list (no resourceVersion, items not
 * an array), -ENOMEM; cb may already have been called then.
 */
int podscan_page(const char *buf, size_t len,
		 void (*cb)(void *arg, const struct podscan_pod *pod),
		 void *arg, struct podscan_list *out);

/* A page scanned as it arrives. */
struct podscan;

/* A scanner handing each usable item to cb(arg, pod), in order, ready for
 * a page; NULL when out of memory. */
struct podscan *
podscan_new(void (*cb)(void *arg, const struct podscan_pod *pod), void *arg);

/* Forget the page scanned so far (the bytes kept, the error): ready for
 * the next one. */
void podscan_reset(struct podscan *ps);

/* Scan the next n bytes of the page: the items they complete go to cb.
 * Returns 0, -EINVAL when the page is not JSON or not a list, -E2BIG for
 * an item over PODSCAN_MAX_STEP bytes, -ENOMEM; once it failed it fails
 * until a reset. */
int podscan_feed(struct podscan *ps, const char *d, size_t n);

/* The page's metadata.continue once its metadata has been scanned (it
 * comes before the items in what the API server writes), else NULL; owned
 * by ps until the end of the page. */
const char *podscan_continue(const struct podscan *ps);

/* The page is all in: *out as podscan_page fills it (out->cont is the
 * caller's).  Returns 0, -EINVAL when the page was not a whole list or a
 * feed failed, -ENOMEM. */
int podscan_end(struct podscan *ps, struct podscan_list *out);

/* Free ps (NULL is fine). */
void podscan_free(struct podscan *ps);

#endif
