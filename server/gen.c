/*
 * gen.c -- a configuration as it is served: its blocks, the sources of
 * their zones, forwarders, loops and listeners, made from a config and
 * checked before it serves.
 */
#include "server/gen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server/metrics.h"
#include "zones/dname.h"

#define UDP_MAX 1232

static struct listener *
listener_get(struct gen *g, const struct sockaddr_storage *ss, socklen_t len)
{
	for (size_t i = 0; i < g->nls; i++)
		if (g->ls[i].addrlen == len && !memcmp(&g->ls[i].addr, ss, len))
			return &g->ls[i];
	struct listener *ls = realloc(g->ls, (g->nls + 1) * sizeof(*ls));
	if (!ls)
		return NULL;
	g->ls = ls;
	struct listener *l = &ls[g->nls++];
	memset(l, 0, sizeof(*l));
	l->addr = *ss;
	l->addrlen = len;
	l->ql.udp_max = UDP_MAX;
	return l;
}

static bool ipv6_available(void)
{
	int fd = socket(AF_INET6, SOCK_DGRAM, 0);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

static int parse_addr(const char *s, uint16_t port, struct sockaddr_storage *ss,
		      socklen_t *len)
{
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, s, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons(port);
		*len = sizeof(*a4);
		return 0;
	}
	if (inet_pton(AF_INET6, s, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons(port);
		*len = sizeof(*a6);
		return 0;
	}
	return -EINVAL;
}

static int listener_add_key(struct listener *l, const char *zone,
			    const struct query_block *qb)
{
	if (l->ql.nkeys == l->capkeys) {
		size_t cap = l->capkeys ? l->capkeys * 2 : 4;
		struct query_key *k = realloc(l->ql.keys, cap * sizeof(*k));
		if (!k)
			return -ENOMEM;
		l->ql.keys = k;
		l->capkeys = cap;
	}
	struct query_key *k = &l->ql.keys[l->ql.nkeys];
	if (dname_zone_wire(zone, k->zone, &k->len) < 0)
		return -EINVAL;
	k->nlabels = dname_labels(k->zone);
	k->block = qb;
	l->ql.nkeys++;
	return 0;
}

/* Group the blocks' keys by listen address. */
static int make_listeners(struct gen *g, char *err, size_t errlen)
{
	static const char *const wild4[] = {"0.0.0.0"};
	static const char *const wild46[] = {"0.0.0.0", "::"};

	for (size_t i = 0; i < g->cfg->nblocks; i++) {
		const struct config_block *b = &g->cfg->blocks[i];
		const char *const *addrs = (const char *const *)b->bind;
		size_t naddrs = b->nbind;
		if (!naddrs) {
			bool v6 = ipv6_available();
			addrs = v6 ? wild46 : wild4;
			naddrs = v6 ? 2 : 1;
		}
		for (size_t k = 0; k < b->nkeys; k++) {
			for (size_t a = 0; a < naddrs; a++) {
				struct sockaddr_storage ss;
				socklen_t len;
				if (parse_addr(addrs[a], b->keys[k].port, &ss,
					       &len) < 0) {
					snprintf(err, errlen,
						 "%s:%d - Error during setup: "
						 "bind: not an address: %s",
						 b->file, b->line, addrs[a]);
					return -EINVAL;
				}
				struct listener *l = listener_get(g, &ss, len);
				if (!l ||
				    listener_add_key(l, b->keys[k].zone,
						     &g->qblocks[i]) < 0) {
					snprintf(err, errlen, "out of memory");
					return -ENOMEM;
				}
			}
		}
	}
	return 0;
}

bool gen_synced(const struct gen *g)
{
	for (size_t i = 0; i < g->cfg->nblocks; i++)
		if (g->srcs[i] && !source_synced(g->srcs[i]))
			return false;
	return true;
}

/* The text of a lowercase wire zone with its trailing dot ("." for the
 * root), as the zone label has it. */
static void zone_label(const uint8_t *w, char *out, size_t len)
{
	size_t o = 0;

	for (; *w && o + *w + 2 < len; w += *w + 1) {
		memcpy(out + o, w + 1, *w);
		o += *w;
		out[o++] = '.';
	}
	if (o == 0)
		out[o++] = '.';
	out[o] = 0;
}

/* The cache's zones label of block b: its zones, dotted, comma-joined. */
static char *cache_zones_label(const struct config_block *b)
{
	const struct cache_conf *cc = &b->cache->conf;
	size_t len = 2;
	char *out;

	for (size_t i = 0; i < cc->nzones; i++)
		len += strlen(cc->zones[i]) + 2;
	if (!(out = calloc(1, len)))
		return NULL;
	for (size_t i = 0; i < cc->nzones; i++) {
		if (i)
			strcat(out, ",");
		strcat(out, cc->zones[i]);
		strcat(out, ".");
	}
	return out;
}

/* forward, loop and loadbalance of block i. */
static int make_plugins(const struct gen_env *env, struct gen *g, size_t i,
			char *err, size_t errlen)
{
	const struct config_block *b = &g->cfg->blocks[i];
	struct query_block *qb = &g->qblocks[i];

	qb->loadbalance = b->loadbalance;
	snprintf(qb->listen, sizeof(qb->listen), "%s:%u",
		 b->nbind ? b->bind[0] : "", (unsigned)b->keys[0].port);
	if (b->fwd) {
		g->fwds[i] = forward_new(b->fwd, err, errlen);
		if (!g->fwds[i])
			return -EINVAL;
		qb->fwd = g->fwds[i];
	}
	if (b->transfer && qb->kube) {
		qb->xfr = transfer_new(b->transfer, qb->kube, env->base);
		if (!qb->xfr) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
	}
	if (b->loop) {
		g->loops[i] = loop_new(b->keys[0].zone);
		if (!g->loops[i]) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		qb->loop = g->loops[i];
		qb->on_loop = env->loop_found;
		qb->on_loop_arg = env->arg;
	}
	return 0;
}

/* Once g serves: health checks, loop probes, watches of objects PATH. */
int gen_start(struct gen *g, struct event_base *base, char *err, size_t errlen)
{
	for (size_t i = 0; i < g->cfg->nblocks; i++) {
		const struct config_block *b = &g->cfg->blocks[i];
		if (g->srcs[i])
			source_watch(g->srcs[i], b->kube, base);
		if (g->fwds[i] && forward_start(g->fwds[i], base) < 0) {
			snprintf(err, errlen, "forward: cannot start");
			return -ENOMEM;
		}
		if (!g->loops[i])
			continue;
		struct sockaddr_storage ss;
		socklen_t len;
		const char *a = b->nbind ? b->bind[0] : "127.0.0.1";
		if (parse_addr(a, b->keys[0].port, &ss, &len) < 0 ||
		    loop_start(g->loops[i], base, &ss, len) < 0) {
			snprintf(err, errlen,
				 "%s:%d - Error during setup: loop: cannot "
				 "send the probe to %s",
				 b->file, b->loop_line, a);
			return -EINVAL;
		}
	}
	return 0;
}

/* Free g: its workers' answers are sent and no worker reads it. */
void gen_free(struct gen *g)
{
	if (!g)
		return;
	size_t n = g->cfg ? g->cfg->nblocks : 0;
	for (size_t i = 0; g->fwds && i < n; i++)
		forward_free(g->fwds[i]);
	for (size_t i = 0; g->loops && i < n; i++)
		loop_free(g->loops[i]);
	for (size_t i = 0; g->qblocks && i < n; i++) {
		if (g->cache_added && g->cache_added[i])
			metrics_source_remove(g->qblocks[i].cache);
		if (g->cache_zones)
			free(g->cache_zones[i]);
		transfer_free(g->qblocks[i].xfr);
		query_block_fini(&g->qblocks[i]);
	}
	for (size_t i = 0; g->srcs && i < n; i++)
		if (g->own[i])
			source_free(g->srcs[i]);
	for (size_t i = 0; i < g->nls; i++)
		free(g->ls[i].ql.keys);
	free(g->ls);
	free(g->fwds);
	free(g->loops);
	free(g->qblocks);
	free(g->cache_zones);
	free(g->cache_added);
	free(g->srcs);
	free(g->own);
	config_free(g->cfg);
	free(g);
}

/*
 * Everything cfg says, made and checked, not yet served.  A kubernetes
 * directive that old (the configuration served now, or NULL) has as it is
 * keeps old's source: its zone is not rebuilt, its watches go on (the
 * source passes to the new gen when it is activated).  Takes cfg.  Returns
 * NULL with err set.
 */
struct gen *gen_build(const struct gen_env *env, struct config *cfg,
		      const struct gen *old, char *err, size_t errlen)
{
	struct gen *g = calloc(1, sizeof(*g));
	size_t n = cfg->nblocks;

	if (!g) {
		config_free(cfg);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	g->cfg = cfg;
	g->srcs = calloc(n, sizeof(*g->srcs));
	g->own = calloc(n, sizeof(*g->own));
	g->fwds = calloc(n, sizeof(*g->fwds));
	g->loops = calloc(n, sizeof(*g->loops));
	g->qblocks = calloc(n, sizeof(*g->qblocks));
	g->cache_zones = calloc(n, sizeof(*g->cache_zones));
	g->cache_added = calloc(n, sizeof(*g->cache_added));
	if (!g->srcs || !g->own || !g->fwds || !g->loops || !g->qblocks ||
	    !g->cache_zones || !g->cache_added) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		const struct config_block *b = &cfg->blocks[i];
		const struct kubernetes_conf *ck = b->kube;
		for (size_t j = 0; ck && old && j < old->cfg->nblocks; j++) {
			const struct kubernetes_conf *ok =
			    old->cfg->blocks[j].kube;
			bool taken = false;
			for (size_t t = 0; t < i; t++)
				taken |= g->srcs[t] == old->srcs[j];
			if (ok && !taken && kubernetes_conf_same(ok, ck)) {
				g->srcs[i] = old->srcs[j];
				break;
			}
		}
		if (ck && !g->srcs[i]) {
			if (!(g->srcs[i] =
				  source_new(ck, env->base, env->synced,
					     env->arg, err, errlen)))
				goto fail;
			g->own[i] = true;
		}
		if (b->cache && !(g->cache_zones[i] = cache_zones_label(b))) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		if (query_block_init(&g->qblocks[i], b,
				     g->srcs[i] ? g->srcs[i]->kube : NULL, err,
				     errlen) < 0 ||
		    make_plugins(env, g, i, err, errlen) < 0)
			goto fail;
	}
	if (make_listeners(g, err, errlen) < 0)
		goto fail;
	return g;
fail:
	gen_free(g);
	return NULL;
}

/* g takes the sources it shares with old: old no longer frees them. */
void gen_take_sources(struct gen *g, struct gen *old)
{
	for (size_t i = 0; old && i < old->cfg->nblocks; i++)
		for (size_t j = 0; j < g->cfg->nblocks; j++)
			if (old->srcs[i] && g->srcs[j] == old->srcs[i]) {
				g->own[j] = true;
				old->own[i] = false;
			}
}

/* Does any block of g have a prometheus directive? */
bool gen_counts(const struct gen *g)
{
	for (size_t i = 0; g && i < g->cfg->nblocks; i++)
		if (g->cfg->blocks[i].prometheus)
			return true;
	return false;
}

/* The directives of b in the query path: coredns_plugin_enabled. */
static size_t block_plugins(const struct config_block *b, const char **out)
{
	size_t n = 0;

	if (b->prometheus)
		out[n++] = "prometheus";
	if (b->errors)
		out[n++] = "errors";
	if (b->log)
		out[n++] = "log";
	if (b->loadbalance)
		out[n++] = "loadbalance";
	if (b->cache)
		out[n++] = "cache";
	if (b->autopath)
		out[n++] = "autopath";
	if (b->transfer)
		out[n++] = "transfer";
	if (b->kube)
		out[n++] = "kubernetes";
	if (b->loop)
		out[n++] = "loop";
	if (b->fwd)
		out[n++] = "forward";
	return n;
}

/* The address l is bound to, as text ("" for a wildcard), and its port. */
static unsigned listener_host(const struct listener *l, char *host, size_t len)
{
	static const uint8_t any[16];
	const struct sockaddr_in6 *a6 = (const void *)&l->addr;
	const struct sockaddr_in *a4 = (const void *)&l->addr;
	bool v6 = l->addr.ss_family == AF_INET6;
	const void *ip =
	    v6 ? (const void *)&a6->sin6_addr : (const void *)&a4->sin_addr;

	if (memcmp(ip, any, v6 ? 16 : 4) != 0)
		inet_ntop(l->addr.ss_family, ip, host, (socklen_t)len);
	return ntohs(v6 ? a6->sin6_port : a4->sin_port);
}

/* The metric series of g: a site per key on every listener, the
 * listener's "dropped" one, forwarders' upstreams, caches.  Before g
 * serves, so the workers find them in its listeners and blocks. */
void gen_metrics(struct gen *g)
{
	char server[96], zone[300];
	const char *plugins[16];

	if (!metrics_on())
		return;
	metrics_config_begin();
	for (size_t i = 0; i < g->nls; i++) {
		struct listener *l = &g->ls[i];
		char host[INET6_ADDRSTRLEN] = "";
		unsigned port = listener_host(l, host, sizeof(host));
		metrics_server_label(host, port, server, sizeof(server));
		for (size_t k = 0; k < l->ql.nkeys; k++) {
			struct query_key *key = &l->ql.keys[k];
			const struct config_block *b = key->block->conf;
			size_t bi = (size_t)(key->block - g->qblocks);
			zone_label(key->zone, zone, sizeof(zone));
			struct metrics_site_conf sc = {
			    .server = server,
			    .zone = zone,
			    .view = "",
			    .cache_zones = g->cache_zones[bi],
			    .plugins = plugins,
			    .nplugins = block_plugins(b, plugins),
			};
			key->msite = metrics_site(&sc);
			if (g->qblocks[bi].cache && !g->cache_added[bi] &&
			    g->cache_zones[bi]) {
				metrics_source_add(METRICS_SRC_CACHE,
						   g->qblocks[bi].cache, server,
						   g->cache_zones[bi]);
				g->cache_added[bi] = true;
			}
		}
		struct metrics_site_conf dc = {
		    .server = server, .zone = "dropped", .view = ""};
		l->ql.mdropped = metrics_site(&dc);
	}
	for (size_t i = 0; i < g->cfg->nblocks; i++)
		if (g->fwds[i])
			forward_metrics(g->fwds[i]);
}

/* The longest startup_timeout of g's sources that are not synced. */
uint64_t gen_sync_timeout_ms(const struct gen *g)
{
	uint64_t t = 0;

	for (size_t i = 0; i < g->cfg->nblocks; i++)
		if (g->srcs[i] && g->srcs[i]->src &&
		    !apisrc_synced(g->srcs[i]->src) &&
		    g->cfg->blocks[i].kube->startup_timeout_ms > t)
			t = g->cfg->blocks[i].kube->startup_timeout_ms;
	return t;
}

void gen_forget(const struct gen *g, struct worker_pool *pool)
{
	for (size_t i = 0; i < g->cfg->nblocks; i++)
		if (g->fwds[i])
			worker_pool_forget(pool, g->fwds[i]);
	for (size_t i = 0; i < g->cfg->nblocks; i++)
		if (g->qblocks[i].xfr)
			worker_pool_forget(pool, g->qblocks[i].xfr);
}
