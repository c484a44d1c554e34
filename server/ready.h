/*
 * ready.h -- the ready directive: `ready [ADDR]`.  GET /ready on ADDR
 * (default ":8181") answers 200 "OK" once every plugin that has a notion
 * of readiness is ready (each kubernetes directive has synced with its
 * source) and the server is not in lameduck; otherwise 503 with what is
 * not ready, one name per line, as CoreDNS's ready plugin does.
 */
#ifndef CLUSTERDNS_READY_H
#define CLUSTERDNS_READY_H

#include <stdbool.h>

#include "server/corefile.h"

struct setup;
struct evbuffer;
struct evhttp_request;

#define READY_DEFAULT_ADDR ":8181"

struct ready_conf {
	char *addr; /* as written, or READY_DEFAULT_ADDR */
};

/* Parse `ready` at d into c->block->ready (setup.h): at most one argument,
 * an address with a port, no block, once per server block. */
int ready_setup(struct setup *c, const struct corefile_dir *d);

void ready_conf_free(struct ready_conf *r);

/* What /ready asks: append the names of what is not ready to todo, one
 * per line ("kubernetes\n"); true when nothing is left. */
typedef bool (*ready_check)(void *arg, struct evbuffer *todo);

struct ready {
	ready_check check;
	void *arg;
};

/* The /ready handler (http.h); arg is a struct ready. */
void ready_handle(struct evhttp_request *req, void *arg);

#endif
