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
#include "server/gen.h"
#include "server/health.h"
#include "server/http.h"
#include "server/log.h"
#include "server/metrics.h"
#include "server/prometheus.h"
#include "server/query.h"
#include "server/ready.h"
#include "server/reload.h"
#include "server/source.h"
#include "server/worker.h"
#include "zones/dname.h"
#include "zones/kube.h"

/* How long a replaced configuration stays alive: longer than a forwarded
 * query may wait for its upstream (5 s), so its deferred answers are sent
 * with the blocks they were asked in. */
#define RETIRE_MS 10000

/* A listen address of the worker pool and the listener served there. */
struct port {
	struct sockaddr_storage addr;
	socklen_t addrlen;
	struct query_port qp;
};

struct daemon {
	const struct daemon_opts *opts;
	struct gen_env env;  /* what gens are built with */
	struct gen *cur;     /* served */
	struct gen *pending; /* loaded, waiting for its new sources' sync */
	struct event *pending_timer;
	struct retired *retired; /* replaced gens, freed by their timers */
	struct worker_pool *pool;
	struct port *ports;
	size_t nports;
	int loopfd[2]; /* a worker found a loop: a byte here */
	struct event *loopev;
	bool looped;
	bool starting; /* waiting for the first sync */
	bool stop;
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

static void gen_activate_pending(struct daemon *d);

static void api_synced(void *arg)
{
	struct daemon *d = arg;

	if (d->starting && d->pending && gen_synced(d->pending))
		event_base_loopbreak(d->base);
	else if (!d->starting && d->pending && gen_synced(d->pending))
		gen_activate_pending(d);
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

/* A replaced gen, waiting for its timer to be freed. */
struct retired {
	struct daemon *d;
	struct gen *g;
	struct event *timer;
	struct retired *next;
};

/* Free r's gen: the workers drop the per-worker state of its forwarders
 * (their sockets, answering what is still asked), then a grace period
 * passes for any reader of its listeners. */
static void retired_free(struct daemon *d, struct retired *r)
{
	gen_forget(r->g, d->pool);
	synchronize_rcu();
	gen_free(r->g);
	if (r->timer)
		event_free(r->timer);
	free(r);
}

static void on_retire(evutil_socket_t fd, short what, void *arg)
{
	struct retired *r = arg, **pp;
	struct daemon *d = r->d;

	for (pp = &d->retired; *pp && *pp != r; pp = &(*pp)->next) {
	}
	if (*pp)
		*pp = r->next;
	retired_free(d, r);
}

/* g no longer serves: free it once what was asked with it is answered
 * (RETIRE_MS). */
static void gen_retire(struct daemon *d, struct gen *g)
{
	struct retired *r = calloc(1, sizeof(*r));
	struct timeval tv = {RETIRE_MS / 1000, (RETIRE_MS % 1000) * 1000};

	if (!r) {
		/* Without a timer, wait here: slower, never unsafe. */
		gen_forget(g, d->pool);
		synchronize_rcu();
		gen_free(g);
		return;
	}
	r->d = d;
	r->g = g;
	r->timer = evtimer_new(d->base, on_retire, r);
	if (!r->timer || evtimer_add(r->timer, &tv) < 0) {
		retired_free(d, r);
		return;
	}
	r->next = d->retired;
	d->retired = r;
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

/* The HTTP directives, each a path on its address. */
enum http_dir { HTTP_HEALTH, HTTP_READY, HTTP_METRICS, HTTP_DIRS };

/* The address of directive w in block b, or NULL without it. */
static const char *http_addr(const struct config_block *b, enum http_dir w)
{
	switch (w) {
	case HTTP_HEALTH:
		return b->health ? b->health->addr : NULL;
	case HTTP_READY:
		return b->ready ? b->ready->addr : NULL;
	default:
		return b->prometheus ? b->prometheus->addr : NULL;
	}
}

/* Block i of g has directive w on an address that a block before it
 * names for w already: served once (CoreDNS shares it between blocks). */
static bool addr_seen(const struct gen *g, size_t i, enum http_dir w)
{
	const char *a = http_addr(&g->cfg->blocks[i], w);

	for (size_t j = 0; a && j < i; j++) {
		const char *b = http_addr(&g->cfg->blocks[j], w);
		if (b && strcmp(a, b) == 0)
			return true;
	}
	return false;
}

/* Declare and bind the HTTP listeners of g's health, ready and
 * prometheus directives (addresses that stay keep their sockets). */
static int http_serve(struct daemon *d, const struct gen *g, char *err,
		      size_t errlen)
{
	const struct {
		const char *path;
		http_handler fn;
		void *arg;
	} r[HTTP_DIRS] = {
	    [HTTP_HEALTH] = {"/health", health_handle, NULL},
	    [HTTP_READY] = {"/ready", ready_handle, &d->ready},
	    [HTTP_METRICS] = {"/metrics", prometheus_handle, NULL},
	};
	int rc = 0;

	http_begin(d->http);
	for (size_t i = 0; g && rc == 0 && i < g->cfg->nblocks; i++) {
		for (enum http_dir w = 0; rc == 0 && w < HTTP_DIRS; w++) {
			const char *a = http_addr(&g->cfg->blocks[i], w);
			if (a && !addr_seen(g, i, w))
				rc = http_route(d->http, a, r[w].path, r[w].fn,
						r[w].arg, err, errlen);
		}
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
		if (!h || addr_seen(g, i, HTTP_HEALTH))
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
	return gen_start(g, d->base, err, errlen);
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
	metrics_reload_failed();
	log_error("plugin/reload: the new Corefile is not used, the running "
		  "configuration stays: %s",
		  err);
}

/* The configuration served now, in coredns_reload_version_info and, when
 * it was reloaded or can be (say), in the log, as CoreDNS says it. */
static void running_version(const struct daemon *d, bool say)
{
	char hex[129];

	hash_hex(d->cur->hash, hex);
	metrics_reload_version("sha512", hex);
	if (say)
		log_info("plugin/reload: Running configuration SHA512 = %s",
			 hex);
}

static void reload_ok(struct daemon *d)
{
	d->failed_set = false;
	log_info("Reloading complete");
	running_version(d, true);
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
	struct gen *g = gen_build(&d->env, cfg, d->cur, err, sizeof(err));
	if (!g) {
		reload_failed(d, err);
		return;
	}
	memcpy(g->hash, h, sizeof(h));
	d->pending = g;
	uint64_t t = gen_sync_timeout_ms(g);
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
		struct retired *r = d->retired;
		d->retired = r->next;
		gen_free(r->g); /* no pool: nothing to forget, no reader */
		event_free(r->timer);
		free(r);
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
	uint64_t timeout = gen_sync_timeout_ms(d->pending);
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
	d.env = (struct gen_env){d.base, api_synced, loop_found, &d};
	if (!(d.pending = gen_build(&d.env, cfg, NULL, err, sizeof(err))))
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
	bool reloads = false;
	for (size_t i = 0; i < d.cur->cfg->nblocks; i++)
		reloads |= d.cur->cfg->blocks[i].reload != NULL;
	running_version(&d, reloads);

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
