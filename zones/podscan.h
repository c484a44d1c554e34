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
 */
#ifndef CLUSTERDNS_PODSCAN_H
#define CLUSTERDNS_PODSCAN_H

#include <stdbool.h>
#include <stddef.h>

#include "zones/objects.h"

#define PODSCAN_MAX_IPS 4

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

#endif
