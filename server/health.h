/*
 * health.h -- the health directive: `health [ADDR] { lameduck DURATION }`.
 * GET /health on ADDR (default ":8080") answers 200 "OK" as long as the
 * process runs, lameduck included, as CoreDNS's health plugin does; a
 * self check asks it every second and feeds
 * coredns_health_request_duration_seconds and
 * coredns_health_request_failures_total.  With lameduck, SIGTERM and
 * SIGINT keep the server answering DNS for DURATION before it stops (the
 * daemon does that; /ready turns 503 meanwhile).
 */
#ifndef CLUSTERDNS_HEALTH_H
#define CLUSTERDNS_HEALTH_H

#include <stdint.h>

#include "server/corefile.h"

struct setup;
struct event_base;
struct evhttp_request;

#define HEALTH_DEFAULT_ADDR ":8080"

/* One health directive (one per server block). */
struct health_conf {
	char *addr;	      /* as written, or HEALTH_DEFAULT_ADDR */
	uint64_t lameduck_ms; /* 0: stop at once */
};

/* Parse `health` at d into c->block->health (setup.h).  Errors as
 * CoreDNS's: more than one argument, an address without a port, an
 * option other than lameduck, a bad duration. */
int health_setup(struct setup *c, const struct corefile_dir *d);

void health_conf_free(struct health_conf *h);

/* The /health handler (http.h); arg is unused.  200 "OK". */
void health_handle(struct evhttp_request *req, void *arg);

struct health_probe;

/*
 * Ask http://HOST:port/health every second from base (the control thread)
 * and record the time the answer took, or a failure (no 200 within 3 s),
 * in the metrics (metrics_health_observe, metrics_health_failed).  host is
 * the address part of the directive's ADDR ("" for every address: asked
 * on 127.0.0.1).  Returns NULL when memory is short.
 */
struct health_probe *health_probe_start(struct event_base *base,
					const char *addr, unsigned port);

/* Stop probing and free p (NULL is fine). */
void health_probe_free(struct health_probe *p);

#endif
