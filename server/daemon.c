/*
 * daemon.c -- the clusterdns process: everything is set up on the control
 * thread, then workers answer queries while the control loop handles
 * signals and zone reloads.
 */
#include "server/daemon.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <openssl/sha.h>
#include <urcu.h>

#include "server/config.h"
#include "server/forward.h"
#include "server/health.h"
#include "server/http.h"
#include "server/log.h"
#include "server/loop.h"
#include "server/metrics.h"
#include "server/prometheus.h"
#include "server/query.h"
#include "server/ready.h"
#include "server/reload.h"
#include "server/source.h"
#include "server/worker.h"
#include "zones/apiconf.h"
#include "zones/apisrc.h"
#include "zones/dname.h"
#include "zones/kube.h"

#define UDP_MAX 1232
/* How long a replaced configuration stays alive: longer than a forwarded
 * query may wait for its upstream (5 s), so its deferred answers are sent
 * with the blocks they were asked in. */
#define RETIRE_MS 10000

struct listener {
	struct sockaddr_storage addr;
	socklen_t addrlen;
	struct query_listener ql;
	size_t capkeys;
};

/* One configuration as it is served: the Corefile's meaning and
 * everything made from it.  Arrays are per server block. */
struct gen {
	struct config *cfg;
	unsigned char hash[64]; /* SHA-512 of the Corefile it came from */
	struct source **srcs;	/* NULL where no kubernetes directive */
	bool *own;		/* srcs[i] is freed with this gen */
	struct forward **fwds;	/* NULL where none */
	struct loop **loops;	/* NULL where none */
	struct query_block *qblocks;
	char **cache_zones; /* the zones label of each block's cache */
	bool *cache_added;  /* metrics_source_add of the cache done */
	struct listener *ls;
	size_t nls;
	struct event *retire; /* the timer that frees a replaced gen */
	struct gen *next_retired;
};

/* A listen address of the worker pool and the listener served there. */
struct port {
	struct sockaddr_storage addr;
	socklen_t addrlen;
	struct query_port qp;
};

struct daemon {
	const struct daemon_opts *opts;
	struct gen *cur;     /* served */
	struct gen *pending; /* loaded, waiting for its new sources' sync */
	struct event *pending_timer;
	struct gen *retired; /* replaced, freed by their timers */
	struct worker_pool *pool;
	struct port *ports;
	size_t nports;
	int loopfd[2]; /* a worker found a loop: a byte here */
	struct event *loopev;
	bool looped;
	bool starting; /* waiting for the first sync */
	bool stop;
	uint64_t reload_failures;
	unsigned char failed[64]; /* the SHA-512 of the last load tried */
	bool failed_set;	  /* ... and not served (yet) */
	struct event_base *base;
	const char *pidfile;
	/* health, ready, prometheus: their listeners, the self checks of
	 * health and what /ready asks */
	struct http *http;
	struct health_probe **probes;
	size_t nprobes;
	struct ready ready;
	bool lameduck; /* stopping after the lameduck duration */
	struct event *lameduck_timer;
	struct event *reload_timer; /* the reload directive's check */
};

const char *daemon_version(void)
{
	return "clusterdns-" PACKAGE_VERSION;
}

static void thread_start(void)
{
	rcu_register_thread();
}

static void thread_stop(void)
{
	rcu_unregister_thread();
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

static bool gen_synced(const struct gen *g)
{
	for (size_t i = 0; i < g->cfg->nblocks; i++)
		if (g->srcs[i] && !source_synced(g->srcs[i]))
			return false;
	return true;
}

static void gen_activate_pending(struct daemon *d);

static void api_synced(void *arg)
{
	struct daemon *d = arg;

	if (d->starting && d->pending && gen_synced(d->pending))
		event_base_loopbreak(d->base);
	else if (!d->starting && d->pending && gen_synced(d->pending))
		gen_activate_pending(d);
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

/* On a worker: the loop plugin found a loop. */
static void loop_found(void *arg)
{
	struct daemon *d = arg;
	char c = 1;

	if (write(d->loopfd[1], &c, 1) < 0) {
		/* the pipe is never full: one byte, once */
	}
}

static void on_loop(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;

	d->looped = true;
	d->stop = true;
	event_base_loopbreak(d->base);
}

/* forward, loop and loadbalance of block i. */
static int make_plugins(struct daemon *d, struct gen *g, size_t i, char *err,
			size_t errlen)
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
	if (b->loop) {
		g->loops[i] = loop_new(b->keys[0].zone);
		if (!g->loops[i]) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		qb->loop = g->loops[i];
		qb->on_loop = loop_found;
		qb->on_loop_arg = d;
	}
	return 0;
}

/* Once g serves: health checks, loop probes, watches of objects PATH. */
static int start_plugins(struct daemon *d, struct gen *g, char *err,
			 size_t errlen)
{
	for (size_t i = 0; i < g->cfg->nblocks; i++) {
		const struct config_block *b = &g->cfg->blocks[i];
		if (g->srcs[i])
			source_watch(g->srcs[i], b->kube, d->base);
		if (g->fwds[i] && forward_start(g->fwds[i], d->base) < 0) {
			snprintf(err, errlen, "forward: cannot start");
			return -ENOMEM;
		}
		if (!g->loops[i])
			continue;
		struct sockaddr_storage ss;
		socklen_t len;
		const char *a = b->nbind ? b->bind[0] : "127.0.0.1";
		if (parse_addr(a, b->keys[0].port, &ss, &len) < 0 ||
		    loop_start(g->loops[i], d->base, &ss, len) < 0) {
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
static void gen_free(struct gen *g)
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
		query_block_fini(&g->qblocks[i]);
	}
	for (size_t i = 0; g->srcs && i < n; i++)
		if (g->own[i])
			source_free(g->srcs[i]);
	for (size_t i = 0; i < g->nls; i++)
		free(g->ls[i].ql.keys);
	if (g->retire)
		event_free(g->retire);
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
static struct gen *gen_build(struct daemon *d, struct config *cfg,
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
			if (!(g->srcs[i] = source_new(ck, d->base, api_synced,
						      d, err, errlen)))
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
		    make_plugins(d, g, i, err, errlen) < 0)
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
static void gen_take_sources(struct gen *g, struct gen *old)
{
	for (size_t i = 0; old && i < old->cfg->nblocks; i++)
		for (size_t j = 0; j < g->cfg->nblocks; j++)
			if (old->srcs[i] && g->srcs[j] == old->srcs[i]) {
				g->own[j] = true;
				old->own[i] = false;
			}
}

static void gen_retire(struct daemon *d, struct gen *g);

struct retire_arg {
	struct daemon *d;
	struct gen *g;
};

static void on_retire(evutil_socket_t fd, short what, void *arg)
{
	struct retire_arg *ra = arg;
	struct daemon *d = ra->d;
	struct gen *g = ra->g, **pp;

	free(ra);
	for (pp = &d->retired; *pp && *pp != g; pp = &(*pp)->next_retired) {
	}
	if (*pp)
		*pp = g->next_retired;
	/* The workers still keep per-worker state of g's forwarders (their
	 * sockets and the queries they have not answered): gone now, then
	 * a grace period for any reader of g's listeners. */
	for (size_t i = 0; i < g->cfg->nblocks; i++)
		if (g->fwds[i])
			worker_pool_forget(d->pool, g->fwds[i]);
	synchronize_rcu();
	gen_free(g);
}

/* g no longer serves: free it once what was asked with it is answered. */
static void gen_retire(struct daemon *d, struct gen *g)
{
	struct retire_arg *ra = malloc(sizeof(*ra));
	struct timeval tv = {RETIRE_MS / 1000, (RETIRE_MS % 1000) * 1000};

	if (ra) {
		ra->d = d;
		ra->g = g;
		g->retire = evtimer_new(d->base, on_retire, ra);
	}
	if (!ra || !g->retire || evtimer_add(g->retire, &tv) < 0) {
		/* Without a timer, wait here: slower, never unsafe. */
		free(ra);
		for (size_t i = 0; i < g->cfg->nblocks; i++)
			if (g->fwds[i])
				worker_pool_forget(d->pool, g->fwds[i]);
		synchronize_rcu();
		gen_free(g);
		return;
	}
	g->next_retired = d->retired;
	d->retired = g;
}

static bool same_addr(const struct sockaddr_storage *a, socklen_t alen,
		      const struct sockaddr_storage *b, socklen_t blen)
{
	return alen == blen && memcmp(a, b, alen) == 0;
}

static struct port *port_of(struct daemon *d, const struct listener *l)
{
	for (size_t i = 0; i < d->nports; i++)
		if (same_addr(&d->ports[i].addr, d->ports[i].addrlen, &l->addr,
			      l->addrlen))
			return &d->ports[i];
	return NULL;
}

/*
 * Serve g's listeners.  When the pool listens on exactly g's addresses,
 * each keeps its sockets and its port is pointed at g's listener: not a
 * query is lost.  Otherwise a new pool binds g's addresses (those the old
 * one holds too beside it, with SO_REUSEPORT), then the old pool stops.
 */
static int serve(struct daemon *d, struct gen *g, bool fresh, char *err,
		 size_t errlen)
{
	bool same = d->pool && d->nports == g->nls && !fresh;

	for (size_t i = 0; same && i < g->nls; i++)
		same = port_of(d, &g->ls[i]) != NULL;
	if (same) {
		for (size_t i = 0; i < g->nls; i++)
			rcu_assign_pointer(port_of(d, &g->ls[i])->qp.ql,
					   &g->ls[i].ql);
		return 0;
	}
	struct port *ports = calloc(g->nls ? g->nls : 1, sizeof(*ports));
	struct worker_listen *wl = calloc(g->nls ? g->nls : 1, sizeof(*wl));
	struct worker_pool *pool = NULL;
	if (!ports || !wl) {
		free(ports);
		free(wl);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < g->nls; i++) {
		ports[i].addr = g->ls[i].addr;
		ports[i].addrlen = g->ls[i].addrlen;
		ports[i].qp.ql = &g->ls[i].ql;
		wl[i].addr = g->ls[i].addr;
		wl[i].addrlen = g->ls[i].addrlen;
		wl[i].ctx = &ports[i].qp;
		wl[i].shared = port_of(d, &g->ls[i]) != NULL;
	}
	struct worker_conf wc = {
	    .nthreads = d->opts->threads,
	    .thread_start = thread_start,
	    .thread_stop = thread_stop,
	};
	int rc = worker_pool_start(wl, g->nls, &wc, query_handle_port, &pool,
				   err, errlen);
	free(wl);
	if (rc < 0) {
		free(ports);
		return rc;
	}
	worker_pool_stop(d->pool);
	free(d->ports);
	d->pool = pool;
	d->ports = ports;
	d->nports = g->nls;
	return 0;
}

/* Serve g instead of the configuration served now, which is retired. */
/* /ready: every kubernetes directive of the configuration served (or, at
 * startup, about to be) synced with its source, and not in lameduck. */
static bool daemon_ready(void *arg, struct evbuffer *todo)
{
	struct daemon *d = arg;
	const struct gen *g = d->cur ? d->cur : d->pending;
	bool ok = !d->lameduck && g;

	if (d->lameduck)
		evbuffer_add_printf(todo, "lameduck\n");
	for (size_t i = 0; g && i < g->cfg->nblocks; i++) {
		if (g->srcs[i] && !kube_synced(g->srcs[i]->kube)) {
			evbuffer_add_printf(todo, "kubernetes\n");
			ok = false;
			break;
		}
	}
	return ok;
}

/* Has a block before block i of g the same directive on the same address? */
static bool addr_seen(const struct gen *g, size_t i, size_t what)
{
	for (size_t j = 0; j < i; j++) {
		const struct config_block *a = &g->cfg->blocks[i],
					  *b = &g->cfg->blocks[j];
		const char *x = what == 0 ? (a->health ? a->health->addr : 0)
				: what == 1
				    ? (a->ready ? a->ready->addr : 0)
				    : (a->prometheus ? a->prometheus->addr : 0);
		const char *y = what == 0 ? (b->health ? b->health->addr : 0)
				: what == 1
				    ? (b->ready ? b->ready->addr : 0)
				    : (b->prometheus ? b->prometheus->addr : 0);
		if (x && y && strcmp(x, y) == 0)
			return true;
	}
	return false;
}

/* Declare and bind the HTTP listeners of g's health, ready and
 * prometheus directives (addresses that stay keep their sockets). */
static int http_serve(struct daemon *d, const struct gen *g, char *err,
		      size_t errlen)
{
	int rc = 0;

	http_begin(d->http);
	for (size_t i = 0; g && rc == 0 && i < g->cfg->nblocks; i++) {
		const struct config_block *b = &g->cfg->blocks[i];
		if (b->health && !addr_seen(g, i, 0))
			rc = http_route(d->http, b->health->addr, "/health",
					health_handle, NULL, err, errlen);
		if (rc == 0 && b->ready && !addr_seen(g, i, 1))
			rc = http_route(d->http, b->ready->addr, "/ready",
					ready_handle, &d->ready, err, errlen);
		if (rc == 0 && b->prometheus && !addr_seen(g, i, 2))
			rc =
			    http_route(d->http, b->prometheus->addr, "/metrics",
				       prometheus_handle, NULL, err, errlen);
	}
	return rc < 0 ? rc : http_commit(d->http, err, errlen);
}

/* One self check per health address of the configuration served. */
static void probes_restart(struct daemon *d)
{
	const struct gen *g = d->cur;

	for (size_t i = 0; i < d->nprobes; i++)
		health_probe_free(d->probes[i]);
	free(d->probes);
	d->probes = NULL;
	d->nprobes = 0;
	if (!g || !(d->probes = calloc(g->cfg->nblocks, sizeof(*d->probes))))
		return;
	for (size_t i = 0; i < g->cfg->nblocks; i++) {
		const struct health_conf *h = g->cfg->blocks[i].health;
		if (!h || addr_seen(g, i, 0))
			continue;
		unsigned port = http_port(d->http, h->addr);
		struct health_probe *p =
		    port ? health_probe_start(d->base, h->addr, port) : NULL;
		if (p)
			d->probes[d->nprobes++] = p;
	}
}

static void daemon_reload(struct daemon *d, bool retry);

static void reload_tick(evutil_socket_t fd, short what, void *arg);

/* Check the Corefile again after the reload directive's period (the
 * first block that has one), or not at all. */
static void reload_arm(struct daemon *d)
{
	const struct reload_conf *r = NULL;
	uint64_t rnd = 0;

	if (d->reload_timer) {
		event_free(d->reload_timer);
		d->reload_timer = NULL;
	}
	for (size_t i = 0; d->cur && !r && i < d->cur->cfg->nblocks; i++)
		r = d->cur->cfg->blocks[i].reload;
	if (!r)
		return;
	if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
		rnd = (uint64_t)time(NULL);
	uint64_t ms = reload_period_ms(r, rnd);
	struct timeval tv = {(time_t)(ms / 1000),
			     (suseconds_t)(ms % 1000) * 1000};
	d->reload_timer = evtimer_new(d->base, reload_tick, d);
	if (d->reload_timer)
		evtimer_add(d->reload_timer, &tv);
}

static void reload_tick(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;

	daemon_reload(d, false);
	reload_arm(d);
}

/* Does any block of g have a prometheus directive? */
static bool gen_counts(const struct gen *g)
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
	if (b->kube)
		out[n++] = "kubernetes";
	if (b->loop)
		out[n++] = "loop";
	if (b->fwd)
		out[n++] = "forward";
	return n;
}

/* The metric series of g: a site per key on every listener, the
 * listener's "dropped" one, forwarders' upstreams, caches.  Before g
 * serves, so the workers find them in its listeners and blocks. */
static void gen_metrics(struct gen *g)
{
	char server[96], zone[300];
	const char *plugins[16];

	if (!metrics_on())
		return;
	metrics_config_begin();
	for (size_t i = 0; i < g->nls; i++) {
		struct listener *l = &g->ls[i];
		char host[INET6_ADDRSTRLEN] = "";
		unsigned port;
		if (l->addr.ss_family == AF_INET6) {
			const struct sockaddr_in6 *a =
			    (const struct sockaddr_in6 *)&l->addr;
			if (!IN6_IS_ADDR_UNSPECIFIED(&a->sin6_addr))
				inet_ntop(AF_INET6, &a->sin6_addr, host,
					  sizeof(host));
			port = ntohs(a->sin6_port);
		} else {
			const struct sockaddr_in *a =
			    (const struct sockaddr_in *)&l->addr;
			if (a->sin_addr.s_addr != htonl(INADDR_ANY))
				inet_ntop(AF_INET, &a->sin_addr, host,
					  sizeof(host));
			port = ntohs(a->sin_port);
		}
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

static int gen_activate(struct daemon *d, struct gen *g, char *err,
			size_t errlen)
{
	struct gen *old = d->cur;
	bool fresh = false;

	/* The registry is made with the first configuration that asks for
	 * metrics; workers started before it then count in a new pool. */
	if (gen_counts(g) && !metrics_on()) {
		if (metrics_init(PACKAGE_VERSION, PACKAGE_VERSION) == 0 &&
		    metrics_thread_enter() == 0) {
			fresh = true;
			for (size_t i = 0; i < g->cfg->nblocks; i++)
				if (g->srcs[i])
					source_metrics(g->srcs[i]);
		}
	}
	gen_metrics(g);
	if (http_serve(d, g, err, errlen) < 0) {
		if (old)
			gen_metrics(old);
		return -EINVAL;
	}
	if (serve(d, g, fresh, err, errlen) < 0) {
		char ignored[256];
		if (old)
			gen_metrics(old); /* plugin_enabled: the old again */
		if (http_serve(d, old, ignored, sizeof(ignored)) < 0)
			log_error("cannot serve the previous HTTP listeners "
				  "again: %s",
				  ignored);
		return -EINVAL;
	}
	gen_take_sources(g, old);
	d->cur = g;
	if (old)
		gen_retire(d, old);
	probes_restart(d);
	reload_arm(d);
	return start_plugins(d, g, err, errlen);
}

static void hash_hex(const unsigned char h[64], char out[129])
{
	for (int i = 0; i < 64; i++)
		snprintf(out + 2 * i, 3, "%02x", h[i]);
}

/* The Corefile at path, its text (malloc'd, NUL-terminated) and SHA-512. */
static int read_corefile(const char *path, char **text, unsigned char h[64],
			 char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0;

	if (!f) {
		snprintf(err, errlen, "open %s: %s", path, strerror(errno));
		return -errno;
	}
	for (;;) {
		if (cap - len < 4096) {
			char *nb = realloc(buf, cap = cap * 2 + 8192);
			if (!nb) {
				free(buf);
				fclose(f);
				snprintf(err, errlen, "out of memory");
				return -ENOMEM;
			}
			buf = nb;
		}
		size_t r = fread(buf + len, 1, cap - len - 1, f);
		len += r;
		if (r == 0)
			break;
	}
	bool bad = ferror(f);
	fclose(f);
	if (bad) {
		free(buf);
		snprintf(err, errlen, "read %s: %s", path, strerror(EIO));
		return -EIO;
	}
	buf[len] = 0;
	SHA512((const unsigned char *)buf, len, h);
	*text = buf;
	return 0;
}

static void pending_drop(struct daemon *d)
{
	if (d->pending_timer) {
		event_free(d->pending_timer);
		d->pending_timer = NULL;
	}
	gen_free(d->pending);
	d->pending = NULL;
}

static void reload_failed(struct daemon *d, const char *err)
{
	d->reload_failures++;
	metrics_reload_failed();
	log_error("plugin/reload: the new Corefile is not used, the running "
		  "configuration stays: %s",
		  err);
}

static void reload_ok(struct daemon *d)
{
	char hex[129];

	d->failed_set = false;
	hash_hex(d->cur->hash, hex);
	metrics_reload_version("sha512", hex);
	log_info("Reloading complete");
	log_info("plugin/reload: Running configuration SHA512 = %s", hex);
}

static void gen_activate_pending(struct daemon *d)
{
	struct gen *g = d->pending;
	char err[1024] = "";

	d->pending = NULL;
	if (d->pending_timer) {
		event_free(d->pending_timer);
		d->pending_timer = NULL;
	}
	if (!gen_synced(g))
		log_warn("plugin/kubernetes: starting server with unsynced "
			 "Kubernetes API");
	if (gen_activate(d, g, err, sizeof(err)) < 0) {
		if (d->cur != g)
			gen_free(g);
		reload_failed(d, err);
		return;
	}
	reload_ok(d);
}

static void pending_expired(evutil_socket_t fd, short what, void *arg)
{
	gen_activate_pending(arg);
}

/* The longest startup_timeout of g's sources that are not synced. */
static uint64_t sync_timeout_ms(const struct gen *g)
{
	uint64_t t = 0;

	for (size_t i = 0; i < g->cfg->nblocks; i++)
		if (g->srcs[i] && g->srcs[i]->src &&
		    !apisrc_synced(g->srcs[i]->src) &&
		    g->cfg->blocks[i].kube->startup_timeout_ms > t)
			t = g->cfg->blocks[i].kube->startup_timeout_ms;
	return t;
}

/*
 * Read the Corefile again; when its content changed, load it in full
 * (every directive checked, sources, forwarders and listeners made) and
 * serve it instead of the running one, which keeps serving when anything
 * fails.  New API sources are waited for (startup_timeout) first.  The
 * timer (retry false) does not try again a content that failed, as
 * CoreDNS's reload does not; SIGUSR1 does.
 */
static void daemon_reload(struct daemon *d, bool retry)
{
	char err[1024] = "", *text = NULL;
	unsigned char h[64];
	struct config *cfg = NULL;

	if (d->lameduck)
		return; /* stopping: nothing to reload for */
	if (read_corefile(d->opts->conf, &text, h, err, sizeof(err)) < 0) {
		reload_failed(d, err);
		return;
	}
	if (!memcmp(h, d->cur->hash, sizeof(h)) ||
	    (d->pending && !memcmp(h, d->pending->hash, sizeof(h))) ||
	    (!retry && d->failed_set && !memcmp(h, d->failed, sizeof(h)))) {
		free(text);
		return;
	}
	memcpy(d->failed, h, sizeof(h)); /* until it is served */
	d->failed_set = true;
	log_info("Reloading");
	int rc = config_load_text(d->opts->conf, text, d->opts->dns_port, &cfg,
				  err, sizeof(err));
	free(text);
	if (rc < 0) {
		reload_failed(d, err);
		return;
	}
	config_log_warnings(cfg);
	pending_drop(d);
	struct gen *g = gen_build(d, cfg, d->cur, err, sizeof(err));
	if (!g) {
		reload_failed(d, err);
		return;
	}
	memcpy(g->hash, h, sizeof(h));
	d->pending = g;
	uint64_t t = sync_timeout_ms(g);
	if (t) {
		struct timeval tv = {(time_t)(t / 1000),
				     (suseconds_t)(t % 1000) * 1000};
		d->pending_timer = evtimer_new(d->base, pending_expired, d);
		if (d->pending_timer && evtimer_add(d->pending_timer, &tv) == 0)
			return;
	}
	gen_activate_pending(d);
}

static void lameduck_over(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;

	log_info("lameduck over: Shutting down servers then terminating");
	d->stop = true;
	event_base_loopbreak(d->base);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;

	if (sig == SIGHUP) {
		for (size_t i = 0; i < d->cur->cfg->nblocks; i++)
			if (d->cur->srcs[i])
				source_reread(d->cur->srcs[i]);
		return;
	}
	if (sig == SIGUSR1) {
		daemon_reload(d, true);
		return;
	}
	uint64_t ld = 0;
	for (size_t i = 0; d->cur && i < d->cur->cfg->nblocks; i++) {
		const struct health_conf *h = d->cur->cfg->blocks[i].health;
		if (h && h->lameduck_ms > ld)
			ld = h->lameduck_ms;
	}
	if (ld && !d->lameduck) {
		struct timeval tv = {(time_t)(ld / 1000),
				     (suseconds_t)(ld % 1000) * 1000};
		d->lameduck_timer = evtimer_new(d->base, lameduck_over, d);
		if (d->lameduck_timer &&
		    evtimer_add(d->lameduck_timer, &tv) == 0) {
			char dur[32];
			d->lameduck = true;
			if (ld % 1000 == 0)
				snprintf(dur, sizeof(dur), "%llus",
					 (unsigned long long)(ld / 1000));
			else
				snprintf(dur, sizeof(dur), "%llums",
					 (unsigned long long)ld);
			log_info("%s: Going into lameduck mode for %s",
				 sig == SIGINT ? "SIGINT" : "SIGTERM", dur);
			return;
		}
	}
	log_info("%s: Shutting down servers then terminating",
		 sig == SIGINT ? "SIGINT" : "SIGTERM");
	d->stop = true;
	event_base_loopbreak(d->base);
}

static void banner(const struct daemon *d)
{
	struct utsname u;

	for (size_t i = 0; i < d->cur->cfg->nblocks; i++) {
		const struct config_block *b = &d->cur->cfg->blocks[i];
		for (size_t k = 0; k < b->nkeys; k++)
			printf("%s.:%u\n", b->keys[k].zone, b->keys[k].port);
	}
	printf("%s\n", daemon_version());
	if (uname(&u) == 0)
		printf("linux/%s\n", u.machine);
	fflush(stdout);
}

static void daemon_free(struct daemon *d)
{
	/* Stopping the pool cancels what its workers still wait for, with
	 * every gen alive. */
	worker_pool_stop(d->pool);
	d->pool = NULL;
	pending_drop(d);
	while (d->retired) {
		struct gen *g = d->retired;
		d->retired = g->next_retired;
		if (g->retire)
			free(event_get_callback_arg(g->retire));
		gen_free(g);
	}
	gen_free(d->cur);
	d->cur = NULL;
	metrics_thread_exit();
	metrics_free();
	free(d->ports);
	for (size_t i = 0; i < d->nprobes; i++)
		health_probe_free(d->probes[i]);
	free(d->probes);
	http_free(d->http);
	if (d->lameduck_timer)
		event_free(d->lameduck_timer);
	if (d->reload_timer)
		event_free(d->reload_timer);
	if (d->loopev)
		event_free(d->loopev);
	for (int i = 0; i < 2; i++)
		if (d->loopfd[i] >= 0)
			close(d->loopfd[i]);
	if (d->base)
		event_base_free(d->base);
	if (d->pidfile)
		unlink(d->pidfile);
}

static void startup_expired(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;

	event_base_loopbreak(d->base);
}

/* Answer only after the first sync with the API, or after the longest
 * startup_timeout of the kubernetes directives fed by it. */
static void wait_for_sync(struct daemon *d)
{
	uint64_t timeout = sync_timeout_ms(d->pending);
	struct timespec t0, t1;

	if (gen_synced(d->pending))
		return;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	struct event *t = evtimer_new(d->base, startup_expired, d);
	struct timeval tv = {(time_t)(timeout / 1000),
			     (suseconds_t)(timeout % 1000) * 1000};
	if (t && timeout)
		evtimer_add(t, &tv);
	d->starting = true;
	if (timeout)
		event_base_dispatch(d->base);
	d->starting = false;
	if (t)
		event_free(t);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (d->stop)
		return;
	if (gen_synced(d->pending))
		log_info("plugin/kubernetes: synced with the API in %ld ms",
			 (long)((t1.tv_sec - t0.tv_sec) * 1000 +
				(t1.tv_nsec - t0.tv_nsec) / 1000000));
	else
		log_warn("plugin/kubernetes: starting server with unsynced "
			 "Kubernetes API");
}

int daemon_run(const struct daemon_opts *o)
{
	struct daemon d = {.opts = o, .loopfd = {-1, -1}};
	char err[1024] = "", *text = NULL;
	struct event *sig[4] = {0};
	static const int signos[4] = {SIGHUP, SIGTERM, SIGINT, SIGUSR1};
	struct config *cfg;
	unsigned char h[64] = {0};
	uint64_t seed;
	int status = 1;

	signal(SIGPIPE, SIG_IGN);
	rcu_register_thread();
	if (getrandom(&seed, sizeof(seed), 0) == sizeof(seed))
		dname_hash_seed(seed);

	if (config_load(o->conf, o->dns_port, &cfg, err, sizeof(err)) < 0)
		goto fail;
	config_log_warnings(cfg);
	if (read_corefile(o->conf, &text, h, err, sizeof(err)) == 0)
		free(text);
	d.base = event_base_new();
	if (!d.base) {
		config_free(cfg);
		snprintf(err, sizeof(err), "cannot create the event loop");
		goto fail;
	}
	if (!(d.pending = gen_build(&d, cfg, NULL, err, sizeof(err))))
		goto fail;
	memcpy(d.pending->hash, h, sizeof(h));
	if (pipe2(d.loopfd, O_CLOEXEC | O_NONBLOCK) < 0 ||
	    !(d.loopev =
		  event_new(d.base, d.loopfd[0], EV_READ, on_loop, &d)) ||
	    event_add(d.loopev, NULL) < 0) {
		snprintf(err, sizeof(err), "cannot create the event loop");
		goto fail;
	}
	for (int i = 0; i < 4; i++) {
		sig[i] = evsignal_new(d.base, signos[i], on_signal, &d);
		if (!sig[i] || evsignal_add(sig[i], NULL) < 0) {
			snprintf(err, sizeof(err), "cannot handle signals");
			goto fail;
		}
	}
	d.ready = (struct ready){daemon_ready, &d};
	if (!(d.http = http_new(d.base))) {
		snprintf(err, sizeof(err), "out of memory");
		goto fail;
	}
	if (http_serve(&d, d.pending, err, sizeof(err)) < 0)
		goto fail;
	wait_for_sync(&d);
	if (d.stop) {
		status = 0;
		goto out;
	}
	struct gen *g = d.pending;
	d.pending = NULL;
	if (gen_activate(&d, g, err, sizeof(err)) < 0) {
		if (d.cur != g)
			gen_free(g);
		goto fail;
	}
	if (o->pidfile) {
		FILE *f = fopen(o->pidfile, "w");
		if (!f) {
			snprintf(err, sizeof(err), "pidfile %s: %s", o->pidfile,
				 strerror(errno));
			goto fail;
		}
		fprintf(f, "%d\n", (int)getpid());
		fclose(f);
		d.pidfile = o->pidfile;
	}
	if (!o->quiet)
		banner(&d);
	{
		char hex[129];
		hash_hex(d.cur->hash, hex);
		metrics_reload_version("sha512", hex);
		for (size_t i = 0; i < d.cur->cfg->nblocks; i++)
			if (d.cur->cfg->blocks[i].reload) {
				log_info("plugin/reload: Running "
					 "configuration SHA512 = %s",
					 hex);
				break;
			}
	}

	event_base_dispatch(d.base);
	status = d.looped ? 1 : 0;
	goto out;
fail:
	fprintf(stderr, "%s\n", err);
out:
	for (int i = 0; i < 4; i++)
		if (sig[i])
			event_free(sig[i]);
	daemon_free(&d);
	rcu_unregister_thread();
	return status;
}
