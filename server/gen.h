/*
 * gen.h -- a configuration as it is served ("generation"): the Corefile's
 * meaning and everything made from it, per server block: the source of
 * its zone, its query block (cache included), forwarder and loop, and the
 * listeners grouping the blocks' keys by address.  The daemon builds one
 * at startup and on every reload, serves it, and frees the one it
 * replaced once nothing refers to it any more.
 */
#ifndef CLUSTERDNS_GEN_H
#define CLUSTERDNS_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "server/config.h"
#include "server/forward.h"
#include "server/loop.h"
#include "server/query.h"
#include "server/source.h"
#include "server/worker.h"

struct event_base;

/* A listen address and the keys served there. */
struct listener {
	struct sockaddr_storage addr;
	socklen_t addrlen;
	struct query_listener ql;
	size_t capkeys;
};

struct gen {
	struct config *cfg;
	unsigned char hash[64]; /* SHA-512 of the Corefile it came from */
	struct source **srcs;	/* per block; NULL where no kubernetes */
	bool *own;		/* srcs[i] is freed with this gen */
	struct forward **fwds;	/* NULL where none */
	struct loop **loops;	/* NULL where none */
	struct query_block *qblocks;
	char **cache_zones; /* the zones label of each block's cache */
	bool *cache_added;  /* metrics_source_add of the cache done */
	struct listener *ls;
	size_t nls;
};

/* What a gen needs from the process: the control thread's event loop for
 * its API sources, and whom to tell when they synced or when the loop
 * plugin found a loop (on a worker). */
struct gen_env {
	struct event_base *base;
	void (*synced)(void *arg);
	void (*loop_found)(void *arg);
	void *arg;
};

/*
 * Everything cfg says, made and checked, not yet served.  A kubernetes
 * directive that old (the gen served now, or NULL) has as it is
 * (kubernetes_conf_same) shares old's source: its zone is not rebuilt and
 * its watches go on (gen_take_sources hands it over).  Takes cfg.  Returns
 * NULL with err set.
 */
struct gen *gen_build(const struct gen_env *env, struct config *cfg,
		      const struct gen *old, char *err, size_t errlen);

/* Free g and the sources it owns: no worker reads it and its deferred
 * answers are sent (NULL is fine). */
void gen_free(struct gen *g);

/* g takes the sources it shares with old: old no longer frees them. */
void gen_take_sources(struct gen *g, struct gen *old);

/* Have all of g's sources been listed once? */
bool gen_synced(const struct gen *g);

/* The longest startup_timeout of g's sources that are not synced (ms). */
uint64_t gen_sync_timeout_ms(const struct gen *g);

/* Does any block of g have a prometheus directive? */
bool gen_counts(const struct gen *g);

/* Declare g's metric series (a site per key on every listener, the
 * listener's "dropped" one, forwarders' upstreams, caches) before g
 * serves, so the workers find them in its listeners; nothing without a
 * registry. */
void gen_metrics(struct gen *g);

/* Once g serves: forwarders' health checks, loop probes and the watches
 * of objects PATH, on base.  Returns 0, or a negative errno with err
 * set. */
int gen_start(struct gen *g, struct event_base *base, char *err, size_t errlen);

/* Destroy the per-worker state of g's forwarders and transfers on pool's
 * workers (their sockets, answering what they still wait for), before g is
 * freed while the pool goes on. */
void gen_forget(const struct gen *g, struct worker_pool *pool);

#endif
