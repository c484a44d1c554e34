/*
 * k8s_external.h -- the k8s_external directive: an extra zone whose names
 * are the external addresses of the cluster's services, as CoreDNS's
 * k8s_external plugin serves them.  Its options are checked here; the
 * zone is built beside the kubernetes directive's cluster zone
 * (zones/kube.h) and answered by the query path (query.h).
 */
#ifndef CLUSTERDNS_K8S_EXTERNAL_H
#define CLUSTERDNS_K8S_EXTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server/corefile.h"

struct setup;

/* The k8s_external directive.  Zone names are lowercase, without trailing
 * dot (the root zone is ""). */
struct k8s_external_conf {
	char **zones; /* from the arguments, else the block's keys */
	size_t nzones;
	char *apex;    /* apex APEX: the label of the zone's own names, "dns" */
	uint32_t ttl;  /* ttl TTL: 0..3600, default 5 */
	bool headless; /* headless: headless services' endpoints too */
	bool fallthrough;	  /* fallthrough given */
	char **fallthrough_zones; /* its zones; none listed: every zone */
	size_t nfallthrough_zones;
	char *file; /* where the directive is */
	int line;
};

/*
 * Setup of `k8s_external [ZONE...] { apex APEX; ttl TTL; headless;
 * fallthrough [ZONES...] }` (setup.h): the conf goes to
 * c->block->external (freed with the block).  Once per block.  Returns 0
 * or a negative errno with c->err set, in CoreDNS's words ("ttl must be in
 * range [0, 3600]: 9000", "unknown property 'x'").
 */
int k8s_external_setup(struct setup *c, const struct corefile_dir *d);

/* The end of a block (config.c's table): hands the conf to the block's
 * kubernetes directive, which builds the zone; without one, warns that the
 * zone is passed on, as CoreDNS then does.  Returns 0, or -ENOMEM with
 * c->err set. */
int k8s_external_end(struct setup *c, bool ok);

/* Free x and what it holds (NULL is fine). */
void k8s_external_conf_free(struct k8s_external_conf *x);

/* Would a and b build the same zone (zones, apex, ttl, headless; either
 * may be NULL: no directive)?  fallthrough, which only the query path
 * reads, does not count. */
bool k8s_external_conf_same(const struct k8s_external_conf *a,
			    const struct k8s_external_conf *b);

#endif
