/*
 * prometheus.h -- the prometheus directive: `prometheus [ADDR]`.  GET
 * /metrics on ADDR (default "localhost:9153") answers the registry of
 * metrics.h in the Prometheus text format.  Blocks that name the same
 * address share one listener, as in CoreDNS.
 */
#ifndef CLUSTERDNS_PROMETHEUS_H
#define CLUSTERDNS_PROMETHEUS_H

#include "server/corefile.h"

struct setup;
struct evhttp_request;

#define PROMETHEUS_DEFAULT_ADDR "localhost:9153"

struct prometheus_conf {
	char *addr; /* as written, or PROMETHEUS_DEFAULT_ADDR */
};

/* Parse `prometheus` at d into c->block->prometheus (setup.h): at most one
 * argument, an address with a port, no block, once per server block. */
int prometheus_setup(struct setup *c, const struct corefile_dir *d);

void prometheus_conf_free(struct prometheus_conf *p);

/* The /metrics handler (http.h); arg is unused. */
void prometheus_handle(struct evhttp_request *req, void *arg);

#endif
