/*
 * query.h -- answering one query: choose the server block, look the name up
 * in its cache and its cluster zone, write the precomputed answer (or the
 * negative one) or forward the query, log it when the block says so.  This
 * is the workers' handler.
 */
#ifndef CLUSTERDNS_QUERY_H
#define CLUSTERDNS_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "server/autopath.h"
#include "server/cache.h"
#include "server/config.h"
#include "server/forward.h"
#include "server/loop.h"
#include "server/transfer.h"
#include "server/worker.h"
#include "zones/kube.h"

#define QUERY_MAX_ZONES 16

/* A list of zones of a block (wire, lowercase), as its directives name
 * them. */
struct query_zones {
	uint8_t z[QUERY_MAX_ZONES][256];
	size_t len[QUERY_MAX_ZONES];
	size_t n;
};

/* A server block as the query path sees it (immutable while serving). */
struct query_block {
	const struct config_block *conf;
	struct kube *kube;   /* NULL: the block has no kubernetes directive */
	struct cache *cache; /* NULL: no cache directive; owned */
	/* NULL: no autopath, or it cannot work here (no `pods verified`);
	 * owned */
	struct autopath *autopath;
	enum builder_pods pods;
	bool fallthrough;
	bool zonal; /* kubernetes `zonal`: zone-scoped names */
	/* kubernetes `topology`: client-zone answers of headless services;
	 * zonal_hidden: the zonal names are built for it, not served */
	enum kubernetes_topology topology;
	bool zonal_hidden;
	struct query_zones ft; /* fallthrough zones; none: all */
	/* k8s_external: its zones, from the kube's second index, answer
	 * before the cluster zone (CoreDNS's plugin order) */
	bool external;
	bool ext_fallthrough;
	struct query_zones ext_ft; /* its fallthrough zones */
	struct query_zones lognames;
	/* The plugins after kubernetes; set by the daemon after init. */
	struct forward *fwd;  /* NULL: no forward directive */
	struct loop *loop;    /* NULL: no loop directive */
	struct transfer *xfr; /* NULL: no transfer directive */
	bool loadbalance;
	/* The loop plugin found a loop: called once, on a worker, after the
	 * message is logged (the daemon stops with a failure). */
	void (*on_loop)(void *arg);
	void *on_loop_arg;
	char listen[64]; /* "HOST:PORT" of the block, for loop's message */
};

/* A key of a block served on a listen address. */
struct query_key {
	uint8_t zone[256]; /* wire, lowercase */
	size_t len;
	unsigned nlabels; /* of zone, the root not counted */
	const struct query_block *block;
	uint32_t msite; /* metrics: its site (metrics_site), 0: not counted */
};

/* The ctx of one listen address: the keys served there. */
struct query_listener {
	struct query_key *keys;
	size_t nkeys;
	uint16_t udp_max;  /* largest UDP answer we send (1232) */
	uint32_t mdropped; /* metrics: the site of zone "dropped", or 0 */
};

/* What a worker's listen address points at: the listener served there now.
 * A reload replaces ql with rcu_assign_pointer(); the old listener and its
 * blocks stay valid until a grace period after that (and until the
 * answers deferred with them are sent). */
struct query_port {
	struct query_listener *ql;
};

/* Fill qb for config block cb with its kube (may be NULL) and, when the
 * block has a cache directive, a new cache.  Returns 0, -EINVAL with err
 * set (a zone name that is no DNS name), or -ENOMEM.  Free what it holds
 * with query_block_fini(). */
int query_block_init(struct query_block *qb, const struct config_block *cb,
		     struct kube *kube, char *err, size_t errlen);

/* Free the block's cache (no worker may use it any more). */
void query_block_fini(struct query_block *qb);

/*
 * The worker handler (see worker.h); ctx is a struct query_listener.  The
 * block's cache, when it has one, answers first.  Names the kubernetes
 * plugin passes on (outside its zones, fallthrough, ExternalName targets
 * outside the cluster) go to the block's forwarder: the answer is then
 * deferred (WORKER_PENDING) and sent from query_upstream_answer, which
 * keeps it in the cache (or answers a stale entry when upstream fails).
 */
size_t query_handle(void *ctx, const uint8_t *req, size_t len, uint8_t *resp,
		    size_t max, bool tcp, const struct sockaddr *peer,
		    socklen_t peerlen, struct worker_call *call);

/* The worker handler for a listen address whose ctx is a struct
 * query_port: query_handle() with the port's current listener, inside an
 * RCU read-side section. */
size_t query_handle_port(void *ctx, const uint8_t *req, size_t len,
			 uint8_t *resp, size_t max, bool tcp,
			 const struct sockaddr *peer, socklen_t peerlen,
			 struct worker_call *call);

#endif
