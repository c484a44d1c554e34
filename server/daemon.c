/*
 * daemon.c -- the clusterdns process: everything is set up on the control
 * thread, then workers answer queries while the control loop handles
 * signals and zone reloads.
 */
#include "server/daemon.h"

#include <arpa/inet.h>
#include <errno.h>
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

#include <urcu.h>

#include "server/config.h"
#include "server/forward.h"
#include "server/log.h"
#include "server/loop.h"
#include "server/query.h"
#include "server/worker.h"
#include "zones/apiconf.h"
#include "zones/apisrc.h"
#include "zones/dname.h"
#include "zones/kube.h"

#define UDP_MAX 1232

struct listener {
	struct sockaddr_storage addr;
	socklen_t addrlen;
	struct query_listener ql;
	size_t capkeys;
};

struct daemon {
	struct config *cfg;
	struct kube **kubes;   /* per block, NULL where none */
	struct apisrc **srcs;  /* per block, for API-fed kubes */
	struct apiconf *apis;  /* per block, what srcs connect with */
	struct forward **fwds; /* per block, NULL where none */
	struct loop **loops;   /* per block, NULL where none */
	int loopfd[2];	       /* a worker found a loop: a byte here */
	struct event *loopev;
	bool looped;
	bool starting; /* waiting for the first sync */
	bool stop;
	struct query_block *qblocks;
	struct listener *ls;
	size_t nls;
	struct worker_pool *pool;
	struct event_base *base;
	const char *pidfile;
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
listener_get(struct daemon *d, const struct sockaddr_storage *ss, socklen_t len)
{
	for (size_t i = 0; i < d->nls; i++)
		if (d->ls[i].addrlen == len && !memcmp(&d->ls[i].addr, ss, len))
			return &d->ls[i];
	struct listener *ls = realloc(d->ls, (d->nls + 1) * sizeof(*ls));
	if (!ls)
		return NULL;
	d->ls = ls;
	struct listener *l = &ls[d->nls++];
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
static int make_listeners(struct daemon *d, char *err, size_t errlen)
{
	static const char *const wild4[] = {"0.0.0.0"};
	static const char *const wild46[] = {"0.0.0.0", "::"};

	for (size_t i = 0; i < d->cfg->nblocks; i++) {
		const struct config_block *b = &d->cfg->blocks[i];
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
				struct listener *l = listener_get(d, &ss, len);
				if (!l ||
				    listener_add_key(l, b->keys[k].zone,
						     &d->qblocks[i]) < 0) {
					snprintf(err, errlen, "out of memory");
					return -ENOMEM;
				}
			}
		}
	}
	return 0;
}

struct kube *daemon_kube_load(const struct kubernetes_conf *ck, char *err,
			      size_t errlen)
{
	struct kube_conf kc = {
	    .zones = (const char *const *)ck->zones,
	    .nzones = ck->nzones,
	    .objects = ck->objects,
	    .pods = (enum builder_pods)ck->pods,
	    .ttl = ck->ttl,
	    .endpoint_pod_names = ck->endpoint_pod_names,
	    .ignore_empty_service = ck->ignore_empty_service,
	    .noendpoints = ck->noendpoints,
	    .namespaces = (const char *const *)ck->namespaces,
	    .nnamespaces = ck->nnamespaces,
	};
	char why[512] = "";
	struct kube *k = NULL;

	if (ck->labels || ck->namespace_labels) {
		snprintf(why, sizeof(why),
			 "labels and namespace_labels are label selectors "
			 "for the API server: not with objects");
		goto fail;
	}
	k = kube_new(&kc, why, sizeof(why));
	if (!k || kube_load(k, why, sizeof(why)) < 0)
		goto fail;
	return k;
fail:
	snprintf(err, errlen, "%s:%d - Error during setup: kubernetes: %s",
		 ck->file, ck->line, why);
	kube_free(k);
	return NULL;
}

/* How long a watch may stay silent before it is treated as dead:
 * CLUSTERDNS_WATCH_IDLE_TIMEOUT seconds, default 180. */
static uint32_t watch_idle_ms(void)
{
	const char *v = getenv("CLUSTERDNS_WATCH_IDLE_TIMEOUT");
	unsigned long n = v ? strtoul(v, NULL, 10) : 0;

	return n ? (uint32_t)(n > 86400 ? 86400 : n) * 1000 : 180000;
}

static void api_log(void *arg, enum apisrc_level level, const char *msg)
{
	if (level == APISRC_ERROR)
		log_error("%s", msg);
	else if (level == APISRC_WARN)
		log_warn("%s", msg);
	else
		log_info("%s", msg);
}

static bool all_synced(const struct daemon *d)
{
	for (size_t i = 0; i < d->cfg->nblocks; i++)
		if (d->srcs[i] && !apisrc_synced(d->srcs[i]))
			return false;
	return true;
}

static void api_synced(void *arg)
{
	struct daemon *d = arg;

	if (d->starting && all_synced(d))
		event_base_loopbreak(d->base);
}

/* A kube fed by the Kubernetes API: endpoint, kubeconfig or in-cluster. */
static int make_api_kube(struct daemon *d, size_t i, char *err, size_t errlen)
{
	const struct kubernetes_conf *ck = d->cfg->blocks[i].kube;
	struct apiconf *api = &d->apis[i];
	char why[512] = "";
	int rc;

	if (ck->endpoint)
		rc = apiconf_endpoint(api, ck->endpoint, ck->tls_cert,
				      ck->tls_key, ck->tls_cacert, why,
				      sizeof(why));
	else if (ck->kubeconfig)
		rc = apiconf_kubeconfig(api, ck->kubeconfig,
					ck->kubeconfig_context, why,
					sizeof(why));
	else
		rc = apiconf_in_cluster(api, NULL, why, sizeof(why));
	if (rc < 0)
		goto fail;
	struct kube_conf kc = {
	    .zones = (const char *const *)ck->zones,
	    .nzones = ck->nzones,
	    .pods = (enum builder_pods)ck->pods,
	    .ttl = ck->ttl,
	    .endpoint_pod_names = ck->endpoint_pod_names,
	    .ignore_empty_service = ck->ignore_empty_service,
	    .noendpoints = ck->noendpoints,
	    .namespaces = (const char *const *)ck->namespaces,
	    .nnamespaces = ck->nnamespaces,
	    .namespace_labels = ck->namespace_labels != NULL,
	};
	d->kubes[i] = kube_new(&kc, why, sizeof(why));
	if (!d->kubes[i])
		goto fail;
	struct apisrc_conf ac = {
	    .api = api,
	    .watch_pods = ck->pods == KUBERNETES_PODS_VERIFIED,
	    .labels = ck->labels,
	    .namespace_labels = ck->namespace_labels,
	    .namespace = ck->nnamespaces == 1 ? ck->namespaces[0] : NULL,
	    .resync_ms = ck->resync_period_ms > UINT32_MAX
			     ? UINT32_MAX
			     : (uint32_t)ck->resync_period_ms,
	    .idle_timeout_ms = watch_idle_ms(),
	    .log = api_log,
	    .synced = api_synced,
	    .arg = d,
	};
	d->srcs[i] = apisrc_new(d->base, d->kubes[i], &ac, why, sizeof(why));
	if (!d->srcs[i])
		goto fail;
	log_info("plugin/kubernetes: watching the API at %s (%s)", api->server,
		 api->origin ? api->origin : "");
	return 0;
fail:
	snprintf(err, errlen, "%s:%d - Error during setup: kubernetes: %s",
		 ck->file, ck->line, why);
	return -EINVAL;
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
static int make_plugins(struct daemon *d, size_t i, char *err, size_t errlen)
{
	const struct config_block *b = &d->cfg->blocks[i];
	struct query_block *qb = &d->qblocks[i];

	qb->loadbalance = b->loadbalance;
	snprintf(qb->listen, sizeof(qb->listen), "%s:%u",
		 b->nbind ? b->bind[0] : "", (unsigned)b->keys[0].port);
	if (b->fwd) {
		d->fwds[i] = forward_new(b->fwd, err, errlen);
		if (!d->fwds[i])
			return -EINVAL;
		qb->fwd = d->fwds[i];
	}
	if (b->loop) {
		d->loops[i] = loop_new(b->keys[0].zone);
		if (!d->loops[i]) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		qb->loop = d->loops[i];
		qb->on_loop = loop_found;
		qb->on_loop_arg = d;
	}
	return 0;
}

/* After the workers started: health checks and loop probes. */
static int start_plugins(struct daemon *d, char *err, size_t errlen)
{
	for (size_t i = 0; i < d->cfg->nblocks; i++) {
		const struct config_block *b = &d->cfg->blocks[i];
		if (d->fwds[i] && forward_start(d->fwds[i], d->base) < 0) {
			snprintf(err, errlen, "forward: cannot start");
			return -ENOMEM;
		}
		if (!d->loops[i])
			continue;
		struct sockaddr_storage ss;
		socklen_t len;
		const char *a = b->nbind ? b->bind[0] : "127.0.0.1";
		if (parse_addr(a, b->keys[0].port, &ss, &len) < 0 ||
		    loop_start(d->loops[i], d->base, &ss, len) < 0) {
			snprintf(err, errlen,
				 "%s:%d - Error during setup: loop: cannot "
				 "send the probe to %s",
				 b->file, b->loop_line, a);
			return -EINVAL;
		}
	}
	return 0;
}

static int make_kubes(struct daemon *d, char *err, size_t errlen)
{
	d->kubes = calloc(d->cfg->nblocks, sizeof(*d->kubes));
	d->qblocks = calloc(d->cfg->nblocks, sizeof(*d->qblocks));
	d->srcs = calloc(d->cfg->nblocks, sizeof(*d->srcs));
	d->apis = calloc(d->cfg->nblocks, sizeof(*d->apis));
	d->fwds = calloc(d->cfg->nblocks, sizeof(*d->fwds));
	d->loops = calloc(d->cfg->nblocks, sizeof(*d->loops));
	if (!d->kubes || !d->qblocks || !d->srcs || !d->apis || !d->fwds ||
	    !d->loops) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < d->cfg->nblocks; i++) {
		const struct config_block *b = &d->cfg->blocks[i];
		const struct kubernetes_conf *ck = b->kube;
		if (ck && !ck->objects) {
			if (make_api_kube(d, i, err, errlen) < 0)
				return -EINVAL;
		} else if (ck &&
			   !(d->kubes[i] = daemon_kube_load(ck, err, errlen))) {
			return -EINVAL;
		}
		if (query_block_init(&d->qblocks[i], b, d->kubes[i], err,
				     errlen) < 0 ||
		    make_plugins(d, i, err, errlen) < 0)
			return -EINVAL;
	}
	return 0;
}

static void reload_done(void *arg, int rc, const char *err)
{
	struct kube *k = arg;

	if (rc < 0)
		log_error("plugin/kubernetes: reload failed, keeping the "
			  "previous zone: %s",
			  err);
	else
		log_info("plugin/kubernetes: reloaded: %zu names, serial %u",
			 zone_count_names(kube_zone(k)),
			 zone_serial(kube_zone(k)));
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;

	if (sig == SIGHUP) {
		for (size_t i = 0; i < d->cfg->nblocks; i++) {
			char err[512] = "";
			if (!d->kubes[i] || d->srcs[i])
				continue;
			int rc = kube_load(d->kubes[i], err, sizeof(err));
			reload_done(d->kubes[i], rc, err);
		}
		return;
	}
	log_info("%s: Shutting down servers then terminating",
		 sig == SIGINT ? "SIGINT" : "SIGTERM");
	d->stop = true;
	event_base_loopbreak(d->base);
}

static void banner(const struct daemon *d)
{
	struct utsname u;

	for (size_t i = 0; i < d->cfg->nblocks; i++) {
		const struct config_block *b = &d->cfg->blocks[i];
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
	if (d->pool)
		worker_pool_stop(d->pool);
	for (size_t i = 0; d->cfg && d->fwds && i < d->cfg->nblocks; i++)
		forward_free(d->fwds[i]);
	for (size_t i = 0; d->cfg && d->loops && i < d->cfg->nblocks; i++)
		loop_free(d->loops[i]);
	free(d->fwds);
	free(d->loops);
	if (d->loopev)
		event_free(d->loopev);
	for (int i = 0; i < 2; i++)
		if (d->loopfd[i] >= 0)
			close(d->loopfd[i]);
	for (size_t i = 0; d->cfg && d->srcs && i < d->cfg->nblocks; i++)
		apisrc_free(d->srcs[i]);
	for (size_t i = 0; d->cfg && d->apis && i < d->cfg->nblocks; i++)
		apiconf_free(&d->apis[i]);
	for (size_t i = 0; d->cfg && d->qblocks && i < d->cfg->nblocks; i++)
		query_block_fini(&d->qblocks[i]);
	for (size_t i = 0; d->cfg && d->kubes && i < d->cfg->nblocks; i++)
		kube_free(d->kubes[i]);
	free(d->srcs);
	free(d->apis);
	free(d->kubes);
	free(d->qblocks);
	for (size_t i = 0; i < d->nls; i++)
		free(d->ls[i].ql.keys);
	free(d->ls);
	if (d->base)
		event_base_free(d->base);
	config_free(d->cfg);
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
	uint64_t timeout = 0;
	struct timespec t0, t1;

	for (size_t i = 0; i < d->cfg->nblocks; i++)
		if (d->srcs[i] &&
		    d->cfg->blocks[i].kube->startup_timeout_ms > timeout)
			timeout = d->cfg->blocks[i].kube->startup_timeout_ms;
	if (all_synced(d))
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
	if (all_synced(d))
		log_info("plugin/kubernetes: synced with the API in %ld ms",
			 (long)((t1.tv_sec - t0.tv_sec) * 1000 +
				(t1.tv_nsec - t0.tv_nsec) / 1000000));
	else
		log_warn("plugin/kubernetes: starting server with unsynced "
			 "Kubernetes API");
}

int daemon_run(const struct daemon_opts *o)
{
	struct daemon d = {.loopfd = {-1, -1}};
	char err[1024] = "";
	struct event *sig[3] = {0};
	static const int signos[3] = {SIGHUP, SIGTERM, SIGINT};
	uint64_t seed;
	int status = 1;

	signal(SIGPIPE, SIG_IGN);
	rcu_register_thread();
	if (getrandom(&seed, sizeof(seed), 0) == sizeof(seed))
		dname_hash_seed(seed);

	if (config_load(o->conf, o->dns_port, &d.cfg, err, sizeof(err)) < 0)
		goto fail;
	config_log_warnings(d.cfg);
	d.base = event_base_new();
	if (!d.base) {
		snprintf(err, sizeof(err), "cannot create the event loop");
		goto fail;
	}
	if (pipe2(d.loopfd, O_CLOEXEC | O_NONBLOCK) < 0 ||
	    !(d.loopev =
		  event_new(d.base, d.loopfd[0], EV_READ, on_loop, &d)) ||
	    event_add(d.loopev, NULL) < 0) {
		snprintf(err, sizeof(err), "cannot create the event loop");
		goto fail;
	}
	for (int i = 0; i < 3; i++) {
		sig[i] = evsignal_new(d.base, signos[i], on_signal, &d);
		if (!sig[i] || evsignal_add(sig[i], NULL) < 0) {
			snprintf(err, sizeof(err), "cannot handle signals");
			goto fail;
		}
	}
	if (make_kubes(&d, err, sizeof(err)) < 0 ||
	    make_listeners(&d, err, sizeof(err)) < 0)
		goto fail;
	wait_for_sync(&d);
	if (d.stop) {
		status = 0;
		goto out;
	}

	struct worker_listen *wl = calloc(d.nls ? d.nls : 1, sizeof(*wl));
	if (!wl) {
		snprintf(err, sizeof(err), "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < d.nls; i++) {
		wl[i].addr = d.ls[i].addr;
		wl[i].addrlen = d.ls[i].addrlen;
		wl[i].ctx = &d.ls[i].ql;
	}
	struct worker_conf wc = {
	    .nthreads = o->threads,
	    .thread_start = thread_start,
	    .thread_stop = thread_stop,
	};
	int rc = worker_pool_start(wl, d.nls, &wc, query_handle, &d.pool, err,
				   sizeof(err));
	free(wl);
	if (rc < 0 || start_plugins(&d, err, sizeof(err)) < 0)
		goto fail;

	for (size_t i = 0; i < d.cfg->nblocks; i++)
		if (d.kubes[i] && !d.srcs[i] &&
		    kube_watch(d.kubes[i], d.base, reload_done, d.kubes[i]) < 0)
			log_warn("plugin/kubernetes: cannot watch %s for "
				 "changes (%s); reload with SIGHUP",
				 d.cfg->blocks[i].kube->objects,
				 strerror(errno));
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

	event_base_dispatch(d.base);
	status = d.looped ? 1 : 0;
	goto out;
fail:
	fprintf(stderr, "%s\n", err);
out:
	for (int i = 0; i < 3; i++)
		if (sig[i])
			event_free(sig[i]);
	daemon_free(&d);
	rcu_unregister_thread();
	return status;
}
