/*
 * test_kube.c -- stores to zones: applying whole stores built in code
 * changes only the names of the objects that changed, removes what is gone,
 * honours the namespaces option and `pods verified`; loading manifests from
 * a directory, and keeping the previous zone when a file is broken.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>
#include <cjson/cJSON.h>
#include <urcu.h>

#include "tests/rcu_group.h"

#include "zones/decode.h"
#include "zones/dname.h"
#include "zones/kube.h"
#include "zones/objects.h"
#include "zones/store.h"
#include "zones/zone.h"

#define T_A 1
#define T_SOA 6
#define T_TXT 16
#define T_AAAA 28
#define T_SRV 33

/* ---- objects and stores ---- */

static char *sdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

static void parse_addrs(const char *list, struct obj_addr **out, size_t *n)
{
	char buf[256], *save = NULL;

	*out = NULL;
	*n = 0;
	if (!list)
		return;
	snprintf(buf, sizeof(buf), "%s", list);
	for (char *t = strtok_r(buf, ",", &save); t;
	     t = strtok_r(NULL, ",", &save)) {
		*out = realloc(*out, (*n + 1) * sizeof(**out));
		assert_non_null(*out);
		assert_int_equal(obj_addr_parse(t, &(*out)[*n]), 0);
		(*n)++;
	}
}

static void put_svc(struct store *st, const char *ns, const char *name,
		    enum obj_svc_type type, const char *ips)
{
	struct obj_service *s = calloc(1, sizeof(*s));

	s->ns = sdup(ns);
	s->name = sdup(name);
	s->type = type;
	parse_addrs(ips, &s->ips, &s->nips);
	s->ports = calloc(1, sizeof(*s->ports));
	s->ports[0].name = sdup("http");
	s->ports[0].port = 80;
	s->ports[0].proto = OBJ_PROTO_TCP;
	s->nports = 1;
	assert_int_equal(store_put_service(st, s), 0);
}

static void put_slice(struct store *st, const char *ns, const char *name,
		      const char *svc, const char *ip, const char *host)
{
	struct obj_slice *s = calloc(1, sizeof(*s));

	s->ns = sdup(ns);
	s->name = sdup(name);
	s->service = sdup(svc);
	s->eps = calloc(1, sizeof(*s->eps));
	s->neps = 1;
	size_t na;
	parse_addrs(ip, &s->eps[0].addrs, &na);
	s->eps[0].naddrs = (uint32_t)na;
	s->eps[0].hostname = sdup(host);
	s->eps[0].ready = true;
	s->ports = calloc(1, sizeof(*s->ports));
	s->ports[0].name = sdup("http");
	s->ports[0].port = 8080;
	s->ports[0].proto = OBJ_PROTO_TCP;
	s->nports = 1;
	assert_int_equal(store_put_slice(st, s), 0);
}

static void put_ns(struct store *st, const char *name)
{
	struct obj_namespace *n = calloc(1, sizeof(*n));

	n->name = sdup(name);
	assert_int_equal(store_put_namespace(st, n), 0);
}

static void put_pod(struct store *st, const char *ns, const char *name,
		    const char *ips, bool terminal)
{
	struct obj_pod *p = calloc(1, sizeof(*p));

	p->ns = sdup(ns);
	p->name = sdup(name);
	parse_addrs(ips, &p->ips, &p->nips);
	p->terminal = terminal;
	p->running = !terminal;
	assert_int_equal(store_put_pod(st, p), 0);
}

/*
 * The base cluster: prod/web (ClusterIP), prod/api (dual-stack ClusterIP),
 * prod/db (headless, two slices), staging/app, namespace "empty".  web_ip
 * varies between versions.
 */
static struct store *cluster(const char *web_ip, bool with_api)
{
	struct store *st = store_new();

	assert_non_null(st);
	put_ns(st, "prod");
	put_ns(st, "staging");
	put_ns(st, "empty");
	put_svc(st, "prod", "web", OBJ_SVC_CLUSTERIP, web_ip);
	put_slice(st, "prod", "web-1", "web", "10.244.1.20", NULL);
	if (with_api)
		put_svc(st, "prod", "api", OBJ_SVC_CLUSTERIP,
			"10.96.1.20,fd00:10:96::1:20");
	put_svc(st, "prod", "db", OBJ_SVC_HEADLESS, NULL);
	put_slice(st, "prod", "db-a", "db", "10.244.1.5", "db-0");
	put_slice(st, "prod", "db-b", "db", "10.244.1.6", "db-1");
	put_svc(st, "staging", "app", OBJ_SVC_CLUSTERIP, "10.96.2.10");
	put_pod(st, "prod", "web-1", "10.244.1.20", false);
	put_pod(st, "prod", "job-1", "10.244.1.99", true);
	return st;
}

static struct kube *new_kube(enum builder_pods pods, const char *objects,
			     const char *const *nss, size_t nns)
{
	static const char *const zones[] = {"cluster.local", "10.in-addr.arpa"};
	struct kube_conf c = {
	    .zones = zones,
	    .nzones = 2,
	    .objects = objects,
	    .pods = pods,
	    .ttl = 5,
	    .namespaces = nss,
	    .nnamespaces = nns,
	};
	char err[256] = "";
	struct kube *k = kube_new(&c, err, sizeof(err));

	assert_non_null(k);
	return k;
}

/* ---- reading the zone ---- */

struct ans {
	const void *node; /* identity of the published node */
	bool exists, has;
	struct zone_entry e;
	uint8_t d[4096];
};

/* A ClusterIP service's own name (hosts.h answers it): what look() says
 * of a zone name, the data being the addresses of the type asked (or
 * the SRV ports, 2 bytes each). */
static void look_vip(struct kube *k, const uint8_t *n, uint16_t qtype,
		     struct ans *a)
{
	const uint8_t *ns = n + n[0] + 1, *svc = ns + ns[0] + 1;
	const struct hosts_entry *ips;
	size_t np;

	if (!n[0] || !ns[0] || memcmp(svc, "\3svc", 4) != 0)
		return;
	const struct hosts_svc *s = hosts_service(kube_hosts(k), n, ns);
	if (!s || !hosts_svc_named(s))
		return;
	a->exists = true;
	size_t nips = hosts_svc_ips(s, &ips);
	const struct hosts_port *p = hosts_svc_ports(s, &np);
	for (size_t i = 0; i < nips && qtype != T_SRV; i++) {
		size_t al = ips[i].family == 4 ? 4 : 16;
		if ((qtype == T_A) != (ips[i].family == 4))
			continue;
		memcpy(a->d + a->e.len, hosts_entry_addr(&ips[i]), al);
		a->e.len += (uint32_t)al;
		a->e.an++;
	}
	for (size_t i = 0; i < np && qtype == T_SRV; i++) {
		a->d[a->e.len++] = (uint8_t)(p[i].port >> 8);
		a->d[a->e.len++] = (uint8_t)p[i].port;
		a->e.an++;
	}
	a->has = a->e.an > 0;
}

static void look(struct kube *k, const char *name, uint16_t qtype,
		 struct ans *a)
{
	uint8_t n[DNAME_MAX];
	int nl = dname_from_str(name, n);

	assert_true(nl > 0);
	dname_lower(n, (size_t)nl);
	memset(a, 0, sizeof(*a));
	rcu_read_lock();
	const struct zone_node *node = zone_lookup(kube_zone(k), n, (size_t)nl);
	if (node) {
		a->node = node;
		a->exists = true;
		const struct zone_entry *e = zone_node_find(node, qtype);
		if (e) {
			a->has = true;
			a->e = *e;
			assert_true(e->len <= sizeof(a->d));
			memcpy(a->d, zone_node_data(node) + e->off, e->len);
		}
	} else {
		look_vip(k, n, qtype, a);
	}
	rcu_read_unlock();
}

static bool exists(struct kube *k, const char *name)
{
	struct ans a;

	look(k, name, T_A, &a);
	return a.exists;
}

/* An endpoint name answered beside the zone (hosts.h): label.svc.ns. */
static bool host_exists(struct kube *k, const char *label, const char *svc,
			const char *ns)
{
	uint8_t l[64], s[64], n[64];
	const struct hosts_entry *e;

	l[0] = (uint8_t)strlen(label);
	memcpy(l + 1, label, l[0]);
	s[0] = (uint8_t)strlen(svc);
	memcpy(s + 1, svc, s[0]);
	n[0] = (uint8_t)strlen(ns);
	memcpy(n + 1, ns, n[0]);
	rcu_read_lock();
	const struct hosts_svc *hs = hosts_service(kube_hosts(k), s, n);
	bool found = hs && hosts_match(hs, l, &e) > 0;
	rcu_read_unlock();
	return found;
}

/* Whether addr is an address of service svc itself (its PTR, hosts.h). */
static bool addr_service(struct kube *k, const char *addr, const char *svc)
{
	struct obj_addr a;
	uint8_t lab[64];
	size_t sl;

	assert_int_equal(obj_addr_parse(addr, &a), 0);
	rcu_read_lock();
	const struct hosts_entry *e =
	    hosts_by_addr(kube_hosts(k), a.family, a.a);
	const struct hosts_svc *s = e ? hosts_entry_svc(e) : NULL;
	bool yes = s && hosts_entry_label(s, e, lab) == 0 &&
		   hosts_svc_name(s, &sl)[0] == strlen(svc) &&
		   memcmp(hosts_svc_name(s, &sl) + 1, svc, strlen(svc)) == 0;
	rcu_read_unlock();
	return yes;
}

/* Whether a running pod of namespace ns has address addr (podset.h). */
static bool pod_known(struct kube *k, const char *addr, const char *ns)
{
	struct obj_addr a;
	uint8_t l[64];

	assert_int_equal(obj_addr_parse(addr, &a), 0);
	l[0] = (uint8_t)strlen(ns);
	memcpy(l + 1, ns, l[0]);
	rcu_read_lock();
	bool has = podset_has(kube_pods(k), l, a.family, a.a);
	rcu_read_unlock();
	return has;
}

static bool same(const struct ans *a, const struct ans *b)
{
	return a->exists == b->exists && a->has == b->has &&
	       a->e.len == b->e.len && a->e.an == b->e.an &&
	       memcmp(a->d, b->d, a->e.len) == 0;
}

/* ---- tests ---- */

static void test_new(void **state)
{
	struct kube *k = new_kube(BUILDER_PODS_DISABLED, NULL, NULL, 0);
	char err[256] = "";

	(void)state;
	assert_false(kube_synced(k));
	/* Without objects PATH the source is the API: an empty store waits
	 * for it. */
	assert_non_null(kube_store(k));
	assert_int_equal(store_count_services(kube_store(k)), 0);
	assert_int_equal(kube_builder_conf(k)->nzones, 2);
	assert_string_equal(kube_builder_conf(k)->zones[0], "cluster.local");
	/* The apexes and the zones' own names exist before any object:
	 * cluster.local, 10.in-addr.arpa, dns-version, svc, pod. */
	assert_int_equal(zone_count_names(kube_zone(k)), 5);
	assert_true(exists(k, "cluster.local"));
	assert_true(exists(k, "dns-version.cluster.local"));
	assert_true(exists(k, "svc.cluster.local"));
	assert_false(exists(k, "prod.svc.cluster.local"));
	/* No objects PATH: kube_load refuses. */
	assert_int_equal(kube_load(k, err, sizeof(err)), -EINVAL);
	assert_true(strlen(err) > 0);
	assert_false(kube_synced(k));
	kube_free(k);

	static const char *const bad[] = {"a..b"};
	struct kube_conf c = {.zones = bad, .nzones = 1, .ttl = 5};
	err[0] = 0;
	assert_null(kube_new(&c, err, sizeof(err)));
	assert_non_null(strstr(err, "a..b"));
	c.nzones = 0;
	err[0] = 0;
	assert_null(kube_new(&c, err, sizeof(err)));
	assert_true(strlen(err) > 0);
}

static void test_apply_and_diff(void **state)
{
	struct kube *k = new_kube(BUILDER_PODS_DISABLED, NULL, NULL, 0);
	struct ans web1, api1, db1, ptr1, stg1, x;

	(void)state;
	assert_int_equal(kube_apply_store(k, cluster("10.96.1.10", true)), 0);
	assert_true(kube_synced(k));
	assert_non_null(kube_store(k));
	assert_int_equal(store_count_services(kube_store(k)), 4);

	look(k, "web.prod.svc.cluster.local", T_A, &web1);
	assert_true(web1.has);
	assert_int_equal(web1.d[web1.e.len - 1], 10);
	look(k, "api.prod.svc.cluster.local", T_AAAA, &api1);
	assert_true(api1.has);
	look(k, "db.prod.svc.cluster.local", T_A, &db1);
	assert_int_equal(db1.e.an, 2);
	/* a cluster IP's PTR is answered beside the zone (hosts.h) */
	look(k, "10.1.96.10.in-addr.arpa", 12, &ptr1);
	assert_false(ptr1.has);
	ptr1.has = addr_service(k, "10.96.1.10", "web");
	assert_true(ptr1.has);
	assert_true(addr_service(k, "10.96.1.20", "api"));
	assert_true(addr_service(k, "fd00:10:96::1:20", "api"));
	look(k, "app.staging.svc.cluster.local", T_A, &stg1);
	assert_true(stg1.has);
	look(k, "dns-version.cluster.local", T_TXT, &x);
	assert_true(x.has);
	look(k, "db-0.db.prod.svc.cluster.local", T_A, &x);
	assert_true(x.has);
	look(k, "_http._tcp.db.prod.svc.cluster.local", T_SRV, &x);
	assert_int_equal(x.e.an, 2);
	/* Namespaces exist (NODATA), also one without objects. */
	look(k, "empty.svc.cluster.local", T_A, &x);
	assert_true(x.exists);
	assert_false(x.has);
	assert_false(exists(k, "prod.pod.cluster.local"));
	assert_false(exists(k, "nothing.svc.cluster.local"));
	uint32_t serial = zone_serial(kube_zone(k));
	size_t names = zone_count_names(kube_zone(k));

	/* The same objects again: nothing changes, not even the serial. */
	assert_int_equal(kube_apply_store(k, cluster("10.96.1.10", true)), 0);
	assert_int_equal(zone_serial(kube_zone(k)), serial);
	look(k, "db.prod.svc.cluster.local", T_A, &x);
	assert_true(same(&x, &db1));
	assert_ptr_equal(x.node, db1.node);

	/* web's address changes: its names change, the rest stays. */
	assert_int_equal(kube_apply_store(k, cluster("10.96.1.11", true)), 0);
	assert_true((int32_t)(zone_serial(kube_zone(k)) - serial) > 0);
	assert_int_equal(zone_count_names(kube_zone(k)), names);
	look(k, "web.prod.svc.cluster.local", T_A, &x);
	assert_false(same(&x, &web1));
	assert_int_equal(x.d[x.e.len - 1], 11);
	assert_false(exists(k, "10.1.96.10.in-addr.arpa"));
	assert_false(addr_service(k, "10.96.1.10", "web"));
	assert_true(addr_service(k, "10.96.1.11", "web"));
	assert_true(exists(k, "1.96.10.in-addr.arpa"));
	look(k, "api.prod.svc.cluster.local", T_AAAA, &x);
	assert_true(same(&x, &api1));
	assert_ptr_equal(x.node, api1.node);
	look(k, "db.prod.svc.cluster.local", T_A, &x);
	assert_true(same(&x, &db1));
	assert_ptr_equal(x.node, db1.node);
	look(k, "app.staging.svc.cluster.local", T_A, &x);
	assert_true(same(&x, &stg1));
	assert_ptr_equal(x.node, stg1.node);

	/* api goes away; its names vanish, the others stay. */
	serial = zone_serial(kube_zone(k));
	assert_int_equal(kube_apply_store(k, cluster("10.96.1.11", true)), 0);
	assert_int_equal(zone_serial(kube_zone(k)), serial);
	assert_int_equal(kube_apply_store(k, cluster("10.96.1.11", false)), 0);
	assert_true((int32_t)(zone_serial(kube_zone(k)) - serial) > 0);
	assert_false(exists(k, "api.prod.svc.cluster.local"));
	assert_false(exists(k, "_http._tcp.api.prod.svc.cluster.local"));
	assert_false(exists(k, "20.1.96.10.in-addr.arpa"));
	assert_false(addr_service(k, "10.96.1.20", "api"));
	assert_true(exists(k, "web.prod.svc.cluster.local"));
	assert_true(exists(k, "prod.svc.cluster.local"));

	/* An empty store: back to the static names. */
	struct store *empty = store_new();
	assert_int_equal(kube_apply_store(k, empty), 0);
	assert_ptr_equal(kube_store(k), empty);
	assert_false(exists(k, "web.prod.svc.cluster.local"));
	assert_false(exists(k, "prod.svc.cluster.local"));
	assert_false(exists(k, "1.10.in-addr.arpa"));
	assert_true(exists(k, "svc.cluster.local"));
	assert_true(exists(k, "dns-version.cluster.local"));
	assert_true(kube_synced(k));
	kube_free(k);
}

static void test_namespaces_filter(void **state)
{
	static const char *const nss[] = {"prod", "Empty"};
	struct kube *k = new_kube(BUILDER_PODS_INSECURE, NULL, nss, 2);

	(void)state;
	assert_true(kube_ns_exposed(k, (const uint8_t *)"prod", 4));
	assert_true(kube_ns_exposed(k, (const uint8_t *)"empty", 5));
	assert_false(kube_ns_exposed(k, (const uint8_t *)"staging", 7));
	assert_false(kube_ns_exposed(k, (const uint8_t *)"pro", 3));
	assert_false(kube_ns_exposed(k, (const uint8_t *)"prodx", 5));

	assert_int_equal(kube_apply_store(k, cluster("10.96.1.10", true)), 0);
	assert_true(exists(k, "web.prod.svc.cluster.local"));
	assert_true(exists(k, "prod.svc.cluster.local"));
	assert_true(exists(k, "prod.pod.cluster.local"));
	assert_true(exists(k, "empty.svc.cluster.local"));
	assert_false(exists(k, "staging.svc.cluster.local"));
	assert_false(exists(k, "app.staging.svc.cluster.local"));
	assert_false(exists(k, "10.2.96.10.in-addr.arpa"));
	assert_false(exists(k, "staging.pod.cluster.local"));
	kube_free(k);

	/* Without the option every namespace is exposed. */
	k = new_kube(BUILDER_PODS_DISABLED, NULL, NULL, 0);
	assert_true(kube_ns_exposed(k, (const uint8_t *)"staging", 7));
	kube_free(k);
}

static void test_pods_verified(void **state)
{
	struct kube *k = new_kube(BUILDER_PODS_VERIFIED, NULL, NULL, 0);

	(void)state;
	assert_int_equal(kube_apply_store(k, cluster("10.96.1.10", true)), 0);
	/* Pods are not zone names: their addresses are kept per namespace. */
	assert_false(exists(k, "10-244-1-20.prod.pod.cluster.local"));
	assert_true(pod_known(k, "10.244.1.20", "prod"));
	/* A finished pod does not count. */
	assert_false(pod_known(k, "10.244.1.99", "prod"));
	/* Only in its own namespace. */
	assert_false(pod_known(k, "10.244.1.20", "staging"));
	assert_true(exists(k, "prod.pod.cluster.local"));
	size_t n = podset_count(kube_pods(k));

	/* The same store again: the same pairs, counted once. */
	assert_int_equal(kube_apply_store(k, cluster("10.96.1.10", true)), 0);
	assert_int_equal(podset_count(kube_pods(k)), n);
	/* The pod goes: its address goes. */
	struct store *st = cluster("10.96.1.10", true);
	assert_int_equal(store_del_pod(st, "prod", "web-1"), 0);
	assert_int_equal(kube_apply_store(k, st), 0);
	assert_false(pod_known(k, "10.244.1.20", "prod"));
	assert_int_equal(podset_count(kube_pods(k)), n - 1);
	kube_free(k);

	/* Other modes: no pod addresses kept. */
	k = new_kube(BUILDER_PODS_INSECURE, NULL, NULL, 0);
	assert_int_equal(kube_apply_store(k, cluster("10.96.1.10", true)), 0);
	assert_int_equal(podset_count(kube_pods(k)), 0);
	assert_true(exists(k, "prod.pod.cluster.local"));
	kube_free(k);
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static const char svc_json[] =
    "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\n"
    " \"metadata\":{\"name\":\"web\",\"namespace\":\"prod\"},\n"
    " \"spec\":{\"clusterIP\":\"10.96.1.10\",\"type\":\"ClusterIP\",\n"
    "  \"ports\":[{\"name\":\"http\",\"port\":80,\"protocol\":\"TCP\"}]}}\n";

/* A new directory (under TMPDIR) holding web.json: Service web in prod. */
static void web_dir(char *dir, size_t len)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(dir, len, "%s/test_kube.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	assert_non_null(mkdtemp(dir));
	write_file(dir, "web.json", svc_json);
}

static void test_load(void **state)
{
	char dir[512], err[512] = "", path[600];

	(void)state;
	web_dir(dir, sizeof(dir));

	struct kube *k = new_kube(BUILDER_PODS_DISABLED, dir, NULL, 0);
	assert_int_equal(kube_load(k, err, sizeof(err)), 0);
	assert_true(kube_synced(k));
	assert_true(exists(k, "web.prod.svc.cluster.local"));
	assert_true(exists(k, "prod.svc.cluster.local"));
	uint32_t serial = zone_serial(kube_zone(k));
	struct ans before, after;
	look(k, "web.prod.svc.cluster.local", T_A, &before);
	assert_true(before.has);

	/* A broken file: an error naming it, the zone unchanged. */
	write_file(dir, "zz-broken.yaml", "kind: Service\nmetadata: [oops\n");
	int rc = kube_load(k, err, sizeof(err));
	assert_true(rc < 0);
	assert_non_null(strstr(err, "zz-broken.yaml"));
	assert_true(kube_synced(k));
	assert_int_equal(zone_serial(kube_zone(k)), serial);
	look(k, "web.prod.svc.cluster.local", T_A, &after);
	assert_true(same(&before, &after));
	assert_non_null(kube_store(k));
	assert_int_equal(store_count_services(kube_store(k)), 1);

	/* Fixed: loads again. */
	snprintf(path, sizeof(path), "%s/zz-broken.yaml", dir);
	assert_int_equal(unlink(path), 0);
	snprintf(path, sizeof(path), "%s/web.json", dir);
	assert_int_equal(unlink(path), 0);
	write_file(dir, "other.json",
		   "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\","
		   "\"metadata\":{\"name\":\"other\"}}\n");
	assert_int_equal(kube_load(k, err, sizeof(err)), 0);
	assert_false(exists(k, "web.prod.svc.cluster.local"));
	assert_true(exists(k, "other.svc.cluster.local"));
	snprintf(path, sizeof(path), "%s/other.json", dir);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);

	/* The directory is gone: an error, the zone stays. */
	err[0] = 0;
	assert_true(kube_load(k, err, sizeof(err)) < 0);
	assert_true(strlen(err) > 0);
	assert_true(exists(k, "other.svc.cluster.local"));
	kube_free(k);

	/* A kube whose first load fails is not synced. */
	k = new_kube(BUILDER_PODS_DISABLED, dir, NULL, 0);
	assert_true(kube_load(k, err, sizeof(err)) < 0);
	assert_false(kube_synced(k));
	kube_free(k);
}

struct reloads {
	struct event_base *base;
	int done, failed, want;
};

static void reload_done(void *arg, int rc, const char *err)
{
	struct reloads *r = arg;

	(void)err;
	r->done++;
	if (rc < 0)
		r->failed++;
	if (r->done >= r->want)
		event_base_loopbreak(r->base);
}

/* Run base until n reloads are reported (10 s at most). */
static void wait_reloads(struct reloads *r, int n)
{
	struct timeval tv = {10, 0};

	r->want = n;
	assert_int_equal(event_base_loopexit(r->base, &tv), 0);
	assert_int_equal(event_base_dispatch(r->base), 0);
	if (r->done < n)
		fail_msg("reload %d not reported within 10 s", n);
}

/* A kube of web_dir's, loaded and watched on r's base. */
static struct kube *watched_web(struct reloads *r, char *dir, size_t len)
{
	char err[512] = "";

	assert_non_null(r->base);
	web_dir(dir, len);
	struct kube *k = new_kube(BUILDER_PODS_DISABLED, dir, NULL, 0);
	assert_int_equal(kube_load(k, err, sizeof(err)), 0);
	assert_int_equal(kube_watch(k, r->base, reload_done, r), 0);
	return k;
}

/* Watched reloads: read on the job's thread, applied on the applier's,
 * committed on the loop, the store they replace freed on the reaper's
 * thread (with the sanitizers, a store lost or freed twice fails here).
 * Back-to-back reloads, and a kube freed with a reload just applied, leave
 * nothing behind. */
static void test_reload_watched(void **state)
{
	char dir[512], path[600], name[64], file[64];
	struct reloads r = {event_base_new(), 0, 0, 0};

	(void)state;
	struct kube *k = watched_web(&r, dir, sizeof(dir));
	for (int i = 1; i <= 3; i++) {
		const struct store *before = kube_store(k);
		snprintf(file, sizeof(file), "ns%d.json", i);
		snprintf(name, sizeof(name),
			 "{\"kind\":\"Namespace\","
			 "\"metadata\":{\"name\":\"ns%d\"}}\n",
			 i);
		write_file(dir, file, name);
		kube_reload(k);
		wait_reloads(&r, i);
		assert_int_equal(r.failed, 0);
		assert_ptr_not_equal(kube_store(k), before);
		snprintf(name, sizeof(name), "ns%d.svc.cluster.local", i);
		assert_true(exists(k, name));
		assert_true(exists(k, "web.prod.svc.cluster.local"));
	}
	/* Two asked at once: one more run after the one in progress. */
	kube_reload(k);
	kube_reload(k);
	wait_reloads(&r, 5);
	assert_int_equal(r.failed, 0);
	assert_true(exists(k, "ns3.svc.cluster.local"));
	kube_free(k);
	event_base_free(r.base);
	for (int i = 1; i <= 3; i++) {
		snprintf(path, sizeof(path), "%s/ns%d.json", dir, i);
		assert_int_equal(unlink(path), 0);
	}
	snprintf(path, sizeof(path), "%s/web.json", dir);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
}

/* A reload's apply runs on a thread of its own: until the loop has seen
 * it end, the zone served is the one before it (the loop commits), and a
 * kube freed meanwhile waits for the thread and leaves nothing behind. */
static void test_reload_freed_applying(void **state)
{
	char dir[512], path[600];
	struct reloads r = {event_base_new(), 0, 0, 0};

	(void)state;
	struct kube *k = watched_web(&r, dir, sizeof(dir));
	write_file(
	    dir, "ns9.json",
	    "{\"kind\":\"Namespace\",\"metadata\":{\"name\":\"ns9\"}}\n");
	kube_reload(k);
	/* The pass that sees the read done starts the apply; its end is
	 * seen in a later pass at the earliest. */
	for (int i = 0; i < 1000 && !kube_applying(k); i++)
		assert_int_equal(event_base_loop(r.base, EVLOOP_ONCE), 0);
	assert_true(kube_applying(k));
	assert_int_equal(r.done, 0);
	assert_false(exists(k, "ns9.svc.cluster.local"));
	assert_true(exists(k, "web.prod.svc.cluster.local"));
	kube_free(k);
	event_base_free(r.base);
	snprintf(path, sizeof(path), "%s/ns9.json", dir);
	assert_int_equal(unlink(path), 0);
	snprintf(path, sizeof(path), "%s/web.json", dir);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
}

/* The fixture cluster of the end-to-end tests loads, with the names its
 * README lists. */
static void test_load_fixture(void **state)
{
	char err[512] = "";
	struct kube *k = new_kube(BUILDER_PODS_DISABLED,
				  TEST_SRCDIR "/fixtures/cluster", NULL, 0);
	struct ans x;

	(void)state;
	assert_int_equal(kube_load(k, err, sizeof(err)), 0);
	look(k, "web.prod.svc.cluster.local", T_A, &x);
	assert_int_equal(x.e.an, 1);
	look(k, "db.prod.svc.cluster.local", T_A, &x);
	assert_int_equal(x.e.an, 3);
	look(k, "big.prod.svc.cluster.local", T_A, &x);
	assert_int_equal(x.e.an, 200);
	look(k, "ns.dns.cluster.local", T_A, &x);
	assert_true(x.has);
	assert_false(exists(k, "lonely.prod.svc.cluster.local"));
	look(k, "empty.svc.cluster.local", T_A, &x);
	assert_true(x.exists);
	assert_false(x.has);
	kube_free(k);
}

/* ---- incremental updates (the API source's path) ---- */

static void put_json(struct kube *k, const char *json)
{
	cJSON *o = cJSON_Parse(json);
	struct decode_obj d;
	struct decode_err err;

	assert_non_null(o);
	assert_int_equal(decode_object(o, NULL, &d, &err), 0);
	assert_int_equal(kube_put(k, &d), 0);
	cJSON_Delete(o);
}

#define SVC_DB                                                                 \
	"{\"kind\":\"Service\",\"metadata\":{\"name\":\"db\","                 \
	"\"namespace\":\"prod\"},\"spec\":{\"clusterIP\":\"None\","            \
	"\"ports\":[{\"name\":\"pg\",\"port\":5432}]}}"
#define SLICE_DB(name, ip)                                                     \
	"{\"kind\":\"EndpointSlice\",\"metadata\":{\"name\":\"" name           \
	"\",\"namespace\":\"prod\",\"labels\":{\"kubernetes.io/"               \
	"service-name\":\"db\"},\"annotations\":{\"endpoints.kubernetes.io/"   \
	"last-change-trigger-time\":\"2020-01-01T00:00:00Z\"}},"               \
	"\"addressType\":\"IPv4\",\"endpoints\":[{\"addresses\":[\"" ip        \
	"\"]}],\"ports\":[{\"name\":\"pg\",\"port\":5432}]}"

/* Namespace solo without its object: a (10.96.7.1, an endpoint
 * 10.244.7.5) and b (10.96.7.2). */
static struct store *solo_store(void)
{
	struct store *st = store_new();

	put_svc(st, "solo", "a", OBJ_SVC_CLUSTERIP, "10.96.7.1");
	put_slice(st, "solo", "a-1", "a", "10.244.7.5", NULL);
	put_svc(st, "solo", "b", OBJ_SVC_CLUSTERIP, "10.96.7.2");
	return st;
}

/* The names above a ClusterIP service's names (hosts.h answers those):
 * its namespace without a Namespace object (the store's), the parents of
 * its PTR names; they stay while one service needs them, through full
 * loads and incremental deletes, and go with the last. */
static void test_vip_shared_names(void **state)
{
	struct kube *k = new_kube(BUILDER_PODS_DISABLED, NULL, NULL, 0);
	struct ans x;
	size_t owners = zone_count_owners(kube_zone(k));

	(void)state;
	assert_int_equal(kube_apply_store(k, solo_store()), 0);
	assert_true(exists(k, "solo.svc.cluster.local"));
	assert_true(exists(k, "7.96.10.in-addr.arpa"));
	assert_true(exists(k, "7.244.10.in-addr.arpa"));
	assert_true(exists(k, "244.10.in-addr.arpa")); /* above them too */
	/* the service names themselves are not the zone's */
	look(k, "a.solo.svc.cluster.local", T_A, &x);
	assert_null(x.node);
	assert_int_equal(x.e.an, 1);
	look(k, "_http._tcp.a.solo.svc.cluster.local", T_SRV, &x);
	assert_null(x.node); /* nor are its ports' names: hosts has them */
	rcu_read_lock();
	const struct hosts_svc *a = hosts_service(
	    kube_hosts(k), (const uint8_t *)"\1a", (const uint8_t *)"\4solo");
	assert_non_null(a);
	const struct hosts_port *p = hosts_port_match(
	    a, (const uint8_t *)"\5_http", (const uint8_t *)"\4_tcp");
	assert_non_null(p);
	assert_int_equal(p->port, 80);
	rcu_read_unlock();
	/* no owner per service: the namespace and the two parents */
	assert_int_equal(zone_count_owners(kube_zone(k)), owners + 3);

	/* A full load of the same: all of them stay. */
	assert_int_equal(kube_apply_store(k, solo_store()), 0);
	assert_true(exists(k, "solo.svc.cluster.local"));
	assert_true(exists(k, "7.96.10.in-addr.arpa"));
	assert_true(exists(k, "7.244.10.in-addr.arpa"));

	/* Deleting a: its endpoint's parent goes, b keeps the others. */
	assert_int_equal(kube_delete(k, DECODE_SERVICE, "solo", "a"), 0);
	assert_int_equal(kube_delete(k, DECODE_SLICE, "solo", "a-1"), 0);
	assert_int_equal(kube_commit(k), 0);
	assert_false(exists(k, "7.244.10.in-addr.arpa"));
	assert_false(exists(k, "244.10.in-addr.arpa"));
	assert_true(exists(k, "7.96.10.in-addr.arpa"));
	assert_true(exists(k, "solo.svc.cluster.local"));
	look(k, "a.solo.svc.cluster.local", T_A, &x);
	assert_false(x.exists);

	/* A full load without b: the namespace goes too. */
	struct store *st = store_new();
	put_svc(st, "other", "c", OBJ_SVC_CLUSTERIP, "10.96.8.1");
	assert_int_equal(kube_apply_store(k, st), 0);
	assert_false(exists(k, "solo.svc.cluster.local"));
	assert_false(exists(k, "7.96.10.in-addr.arpa"));
	assert_true(exists(k, "other.svc.cluster.local"));
	assert_true(exists(k, "8.96.10.in-addr.arpa"));
	kube_free(k);
}

static void test_incremental(void **state)
{
	struct kube *k = new_kube(BUILDER_PODS_DISABLED, NULL, NULL, 0);
	struct ans a;

	(void)state;
	/* A slice before its service: nothing to answer yet. */
	put_json(k, SLICE_DB("db-1", "10.244.1.5"));
	assert_int_equal(kube_commit(k), 0);
	assert_false(exists(k, "db.prod.svc.cluster.local"));
	/* The namespace exists through the slice living in it. */
	assert_true(exists(k, "prod.svc.cluster.local"));
	uint32_t serial = zone_serial(kube_zone(k));

	put_json(k, SVC_DB);
	assert_int_equal(kube_commit(k), 0);
	look(k, "db.prod.svc.cluster.local", T_A, &a);
	assert_true(a.has);
	assert_int_equal(a.e.an, 1);
	assert_true(zone_serial(kube_zone(k)) != serial);
	/* The slice's trigger time was recorded as a programming latency. */
	assert_int_equal(kube_latency(k)->count, 1);
	assert_true(kube_latency(k)->sum > 0);

	/* A second slice of the same service merges. */
	put_json(k, SLICE_DB("db-2", "10.244.1.6"));
	assert_int_equal(kube_commit(k), 0);
	look(k, "db.prod.svc.cluster.local", T_A, &a);
	assert_int_equal(a.e.an, 2);
	assert_true(exists(k, "10-244-1-6.db.prod.svc.cluster.local"));

	/* Deleting a slice takes its endpoints away. */
	assert_int_equal(kube_delete(k, DECODE_SLICE, "prod", "db-2"), 0);
	assert_int_equal(kube_delete(k, DECODE_SLICE, "prod", "db-2"), -ENOENT);
	assert_int_equal(kube_commit(k), 0);
	look(k, "db.prod.svc.cluster.local", T_A, &a);
	assert_int_equal(a.e.an, 1);
	assert_false(exists(k, "10-244-1-6.db.prod.svc.cluster.local"));

	/* Deleting the service removes its names; the namespace stays while
	 * the slice lives in it, then goes with it. */
	assert_int_equal(kube_delete(k, DECODE_SERVICE, "prod", "db"), 0);
	assert_int_equal(kube_commit(k), 0);
	assert_false(exists(k, "db.prod.svc.cluster.local"));
	assert_true(exists(k, "prod.svc.cluster.local"));
	assert_int_equal(kube_delete(k, DECODE_SLICE, "prod", "db-1"), 0);
	assert_int_equal(kube_commit(k), 0);
	assert_false(exists(k, "prod.svc.cluster.local"));
	kube_free(k);
}

/* ---- multicluster: ServiceImports in the multicluster zone ---- */

static struct kube *new_mc_kube(const char *objects, bool ignore_empty)
{
	static const char *const zones[] = {"cluster.local", "clusterset.local",
					    "10.in-addr.arpa"};
	static const char *const mc[] = {"clusterset.local"};
	struct kube_conf c = {
	    .zones = zones,
	    .nzones = 3,
	    .multicluster = mc,
	    .nmulticluster = 1,
	    .objects = objects,
	    .ttl = 5,
	    .ignore_empty_service = ignore_empty,
	};
	char err[256] = "";
	struct kube *k = kube_new(&c, err, sizeof(err));

	assert_non_null(k);
	return k;
}

#define IMP_WEB(ip)                                                            \
	"{\"apiVersion\":\"multicluster.x-k8s.io/v1alpha1\",\"kind\":"         \
	"\"ServiceImport\",\"metadata\":{\"name\":\"web\",\"namespace\":"      \
	"\"prod\"},\"spec\":{\"type\":\"ClusterSetIP\",\"ips\":[\"" ip         \
	"\"],\"ports\":[{\"name\":\"http\",\"port\":80}]}}"
#define IMP_DB                                                                 \
	"{\"apiVersion\":\"multicluster.x-k8s.io/v1alpha1\",\"kind\":"         \
	"\"ServiceImport\",\"metadata\":{\"name\":\"db\",\"namespace\":"       \
	"\"prod\"},\"spec\":{\"type\":\"Headless\"}}"
#define MC_SLICE(name, svc, cluster, ip, host)                                 \
	"{\"kind\":\"EndpointSlice\",\"metadata\":{\"name\":\"" name           \
	"\",\"namespace\":\"prod\",\"labels\":{\"multicluster.kubernetes.io/"  \
	"service-name\":\"" svc "\",\"multicluster.kubernetes.io/source-"      \
	"cluster\":\"" cluster "\"}},\"addressType\":\"IPv4\",\"endpoints\":"  \
	"[{\"addresses\":[\"" ip "\"],\"hostname\":\"" host "\"}],"            \
	"\"ports\":[{\"name\":\"pg\",\"port\":5432}]}"

/* The first address of an answer (A records only), as text. */
static const char *first_a(const struct ans *a, char *buf)
{
	struct obj_addr x = {.family = 4};

	/* owner pointer (2), type, class, ttl, rdlength: 10 bytes */
	memcpy(x.a, a->d + 12, 4);
	return obj_addr_str(&x, buf, 46);
}

static void test_multicluster(void **state)
{
	struct kube *k = new_mc_kube(NULL, false);
	struct ans a;
	char buf[46];

	(void)state;
	put_json(k, SVC_DB);
	put_json(k, SLICE_DB("db-1", "10.244.1.5"));
	put_json(k, IMP_WEB("10.42.0.1"));
	put_json(k, MC_SLICE("web-a", "web", "cluster-a", "10.1.0.5", "w-0"));
	assert_int_equal(kube_commit(k), 0);
	look(k, "web.prod.svc.clusterset.local", T_A, &a);
	assert_int_equal(a.e.an, 1);
	assert_string_equal(first_a(&a, buf), "10.42.0.1");
	look(k, "_http._tcp.web.prod.svc.clusterset.local", T_SRV, &a);
	assert_int_equal(a.e.an, 1);
	/* endpoint names with the cluster id, for a ClusterSetIP import too */
	look(k, "w-0.cluster-a.web.prod.svc.clusterset.local", T_A, &a);
	assert_int_equal(a.e.an, 1);
	assert_string_equal(first_a(&a, buf), "10.1.0.5");
	/* the import is not a Service, the Service not an import */
	assert_false(exists(k, "web.prod.svc.cluster.local"));
	assert_false(exists(k, "db.prod.svc.clusterset.local"));
	assert_true(exists(k, "db.prod.svc.cluster.local"));
	assert_false(exists(k, "w-0.web.prod.svc.cluster.local"));
	/* the zone's own names and the namespace exist there too */
	look(k, "dns-version.clusterset.local", T_TXT, &a);
	assert_true(a.has);
	assert_memory_equal(a.d + 12,
			    "\x05"
			    "1.0.0",
			    6);
	look(k, "prod.svc.clusterset.local", T_A, &a);
	assert_true(a.exists);
	assert_false(a.has);

	/* a change of the import through the watch */
	put_json(k, IMP_WEB("10.42.0.2"));
	assert_int_equal(kube_commit(k), 0);
	look(k, "web.prod.svc.clusterset.local", T_A, &a);
	assert_string_equal(first_a(&a, buf), "10.42.0.2");

	/* headless: every ready endpoint of every cluster */
	put_json(k, IMP_DB);
	put_json(k, MC_SLICE("db-a", "db", "cluster-a", "10.1.0.7", "db-0"));
	put_json(k, MC_SLICE("db-b", "db", "cluster-b", "10.2.0.7", "db-0"));
	assert_int_equal(kube_commit(k), 0);
	look(k, "db.prod.svc.clusterset.local", T_A, &a);
	assert_int_equal(a.e.an, 2);
	look(k, "_pg._tcp.db.prod.svc.clusterset.local", T_SRV, &a);
	assert_int_equal(a.e.an, 2);
	assert_true(exists(k, "db-0.cluster-a.db.prod.svc.clusterset.local"));
	assert_true(exists(k, "db-0.cluster-b.db.prod.svc.clusterset.local"));
	/* the local Service keeps only its own slice */
	look(k, "db.prod.svc.cluster.local", T_A, &a);
	assert_int_equal(a.e.an, 1);
	assert_string_equal(first_a(&a, buf), "10.244.1.5");

	/* a slice gone, then the import gone */
	assert_int_equal(kube_delete(k, DECODE_SLICE, "prod", "db-b"), 0);
	assert_int_equal(kube_commit(k), 0);
	look(k, "db.prod.svc.clusterset.local", T_A, &a);
	assert_int_equal(a.e.an, 1);
	assert_false(exists(k, "db-0.cluster-b.db.prod.svc.clusterset.local"));
	assert_int_equal(kube_delete(k, DECODE_IMPORT, "prod", "db"), 0);
	assert_int_equal(kube_delete(k, DECODE_IMPORT, "prod", "db"), -ENOENT);
	assert_int_equal(kube_commit(k), 0);
	assert_false(exists(k, "db.prod.svc.clusterset.local"));
	assert_false(exists(k, "db-0.cluster-a.db.prod.svc.clusterset.local"));

	/* a relist without web: it goes */
	kube_relist_begin(k, DECODE_IMPORT);
	assert_int_equal(kube_relist_end(k, DECODE_IMPORT), 0);
	assert_int_equal(kube_commit(k), 0);
	assert_false(exists(k, "web.prod.svc.clusterset.local"));
	assert_int_equal(kube_count(k, DECODE_IMPORT), 0);
	kube_free(k);
}

/* A headless import without ready endpoints is NXDOMAIN; a ClusterSetIP
 * one too with ignore empty_service; the manifests of the decode tests. */
static void test_multicluster_load(void **state)
{
	char err[512] = "";
	struct kube *k = new_mc_kube(
	    TEST_SRCDIR "/fixtures/decode/multicluster.yaml", false);
	struct ans a;

	(void)state;
	assert_int_equal(kube_load(k, err, sizeof(err)), 0);
	look(k, "web.prod.svc.clusterset.local", T_A, &a);
	assert_int_equal(a.e.an, 1);
	look(k, "web.prod.svc.clusterset.local", T_AAAA, &a);
	assert_int_equal(a.e.an, 1);
	/* db-0 is ready, 10.2.0.8 is not */
	look(k, "db.prod.svc.clusterset.local", T_A, &a);
	assert_int_equal(a.e.an, 1);
	assert_true(exists(k, "db-0.cluster-b.db.prod.svc.clusterset.local"));
	assert_false(
	    exists(k, "10-2-0-8.cluster-b.db.prod.svc.clusterset.local"));
	assert_false(exists(k, "cache.default.svc.clusterset.local"));
	assert_true(exists(k, "default.svc.clusterset.local"));
	kube_free(k);

	k = new_mc_kube(TEST_SRCDIR "/fixtures/decode/multicluster.yaml", true);
	assert_int_equal(kube_load(k, err, sizeof(err)), 0);
	/* web has no multicluster endpoint at all */
	assert_false(exists(k, "web.prod.svc.clusterset.local"));
	assert_true(exists(k, "db.prod.svc.clusterset.local"));
	kube_free(k);
}

static void test_put_trims(void **state)
{
	struct kube *k = new_kube(BUILDER_PODS_VERIFIED, NULL, NULL, 0);

	(void)state;
	/* The API source keeps only what DNS needs: no selectors, no pods,
	 * no (without endpoint_pod_names) pod names. */
	put_json(k, "{\"kind\":\"Service\",\"metadata\":{\"name\":\"s\","
		    "\"namespace\":\"prod\"},\"spec\":{\"clusterIP\":"
		    "\"10.96.0.9\",\"selector\":{\"app\":\"s\"}}}");
	put_json(k, "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\","
		    "\"namespace\":\"prod\",\"labels\":{\"app\":\"s\"}},"
		    "\"spec\":{\"hostname\":\"h\",\"containers\":[{"
		    "\"ports\":[{\"name\":\"web\",\"containerPort\":80}]}]},"
		    "\"status\":{\"phase\":\"Running\",\"podIP\":"
		    "\"10.244.9.9\"}}");
	put_json(k, "{\"kind\":\"EndpointSlice\",\"metadata\":{\"name\":"
		    "\"s-1\",\"namespace\":\"prod\",\"labels\":{"
		    "\"kubernetes.io/service-name\":\"s\"}},\"addressType\":"
		    "\"IPv4\",\"endpoints\":[{\"addresses\":[\"10.244.9.9\"],"
		    "\"targetRef\":{\"kind\":\"Pod\",\"name\":\"p\"}}]}");
	const struct obj_service *s = store_service(kube_store(k), "prod", "s");
	assert_non_null(s);
	assert_int_equal(s->nselector, 0);
	/* Pods are not kept at all: their addresses are (podset.h). */
	assert_null(store_pod(kube_store(k), "prod", "p"));
	assert_int_equal(podset_count(kube_pods(k)), 1);
	const struct obj_slice *sl = store_slice(kube_store(k), "prod", "s-1");
	assert_non_null(sl);
	assert_true(sl->packed);
	struct obj_slice *u = obj_slice_unpack(sl);
	assert_non_null(u);
	assert_int_equal(u->neps, 1);
	assert_null(u->eps[0].pod_name);
	obj_slice_free(u);
	/* What DNS needs still answers. */
	assert_int_equal(kube_commit(k), 0);
	assert_true(pod_known(k, "10.244.9.9", "prod"));
	assert_true(host_exists(k, "10-244-9-9", "s", "prod"));
	kube_free(k);
}

#define SVC_WEB                                                                \
	"{\"kind\":\"Service\",\"metadata\":{\"name\":\"web\",\"namespace\":"  \
	"\"prod\"},\"spec\":{\"clusterIP\":\"10.96.0.9\"}}"
#define SLICE_WEB(ip)                                                          \
	"{\"kind\":\"EndpointSlice\",\"metadata\":{\"name\":\"web-1\","        \
	"\"namespace\":\"prod\",\"labels\":{\"kubernetes.io/service-name\":"   \
	"\"web\"}},\"addressType\":\"IPv4\",\"endpoints\":[{\"addresses\":"    \
	"[\"" ip                                                               \
	"\"]},{\"addresses\":[\"10.244.7.7\"],\"hostname\":\"Named\"}]}"

static void test_clusterip_hosts(void **state)
{
	struct kube *k = new_kube(BUILDER_PODS_DISABLED, NULL, NULL, 0);
	uint8_t a[4] = {10, 244, 3, 3};

	(void)state;
	/* A ClusterIP service's endpoint names are not zone names: they are
	 * looked up beside the zone, and their PTR parents exist. */
	put_json(k, SVC_WEB);
	put_json(k, SLICE_WEB("10.244.3.3"));
	assert_int_equal(kube_commit(k), 0);
	assert_true(host_exists(k, "10-244-3-3", "web", "prod"));
	assert_true(host_exists(k, "named", "web", "prod"));
	assert_false(host_exists(k, "10-244-7-7", "web", "prod"));
	assert_false(exists(k, "10-244-3-3.web.prod.svc.cluster.local"));
	assert_true(exists(k, "3.244.10.in-addr.arpa"));
	/* two endpoints and the cluster IP, whose parent exists too */
	assert_int_equal(hosts_count_entries(kube_hosts(k)), 3);
	assert_true(addr_service(k, "10.96.0.9", "web"));
	assert_true(exists(k, "0.96.10.in-addr.arpa"));
	rcu_read_lock();
	assert_non_null(hosts_by_addr(kube_hosts(k), 4, a));
	rcu_read_unlock();

	/* An endpoint's address changes, nothing else: the serial moves. */
	uint32_t serial = zone_serial(kube_zone(k));
	put_json(k, SLICE_WEB("10.244.3.4"));
	assert_int_equal(kube_commit(k), 0);
	assert_true(zone_serial(kube_zone(k)) != serial);
	assert_false(host_exists(k, "10-244-3-3", "web", "prod"));
	assert_true(host_exists(k, "10-244-3-4", "web", "prod"));
	rcu_read_lock();
	assert_null(hosts_by_addr(kube_hosts(k), 4, a));
	rcu_read_unlock();
	/* The same again: no change, same serial. */
	serial = zone_serial(kube_zone(k));
	put_json(k, SLICE_WEB("10.244.3.4"));
	assert_int_equal(kube_commit(k), 0);
	assert_int_equal(zone_serial(kube_zone(k)), serial);

	/* The service goes: its endpoint names go with it. */
	assert_int_equal(kube_delete(k, DECODE_SERVICE, "prod", "web"), 0);
	assert_int_equal(kube_commit(k), 0);
	assert_false(host_exists(k, "10-244-3-4", "web", "prod"));
	assert_int_equal(hosts_count_entries(kube_hosts(k)), 0);
	assert_int_equal(hosts_count_services(kube_hosts(k)), 0);
	assert_false(exists(k, "3.244.10.in-addr.arpa"));
	assert_false(addr_service(k, "10.96.0.9", "web"));
	assert_false(exists(k, "0.96.10.in-addr.arpa"));
	kube_free(k);
}

/* A watch's DELETED event of a Service without a namespace (found by
 * fuzzing): nothing to delete, and the commit after it works. */
static void test_delete_no_namespace(void **state)
{
	struct kube *k = new_kube(BUILDER_PODS_DISABLED, NULL, NULL, 0);

	(void)state;
	kube_set_synced(k);
	assert_int_equal(kube_delete(k, DECODE_SERVICE, NULL, "web"), -ENOENT);
	assert_int_equal(kube_delete(k, DECODE_SLICE, NULL, "web-1"), -ENOENT);
	assert_int_equal(kube_commit(k), 0);
	kube_free(k);
}

#define POD_JSON(name, ip, phase)                                              \
	"{\"kind\":\"Pod\",\"metadata\":{\"name\":\"" name "\",\"namespace\":" \
	"\"prod\"},\"status\":{\"phase\":\"" phase "\",\"podIP\":\"" ip "\"}}"

static void test_pods_incremental(void **state)
{
	struct kube *k = new_kube(BUILDER_PODS_VERIFIED, NULL, NULL, 0);

	(void)state;
	/* Two pods share an address (host network): it lives while one
	 * does. */
	uint32_t serial = zone_serial(kube_zone(k));
	put_json(k, POD_JSON("a", "10.1.2.3", "Running"));
	put_json(k, POD_JSON("b", "10.1.2.3", "Running"));
	assert_int_equal(kube_commit(k), 0);
	assert_true(pod_known(k, "10.1.2.3", "prod"));
	/* pod names are DNS-visible: the serial moves, and only then */
	assert_true(zone_serial(kube_zone(k)) != serial);
	serial = zone_serial(kube_zone(k));
	put_json(k, POD_JSON("a", "10.1.2.3", "Running"));
	assert_int_equal(kube_commit(k), 0);
	assert_int_equal(zone_serial(kube_zone(k)), serial);
	/* a modified pod is counted once */
	put_json(k, POD_JSON("a", "10.1.2.3", "Running"));
	assert_int_equal(kube_delete(k, DECODE_POD, "prod", "a"), 0);
	assert_true(pod_known(k, "10.1.2.3", "prod"));
	assert_int_equal(kube_delete(k, DECODE_POD, "prod", "b"), 0);
	assert_false(pod_known(k, "10.1.2.3", "prod"));
	/* finishing takes the address away; a new address replaces the
	 * old one */
	put_json(k, POD_JSON("c", "10.1.2.4", "Running"));
	assert_true(pod_known(k, "10.1.2.4", "prod"));
	put_json(k, POD_JSON("c", "10.1.2.4", "Succeeded"));
	assert_false(pod_known(k, "10.1.2.4", "prod"));
	put_json(k, POD_JSON("c", "10.1.2.5", "Running"));
	put_json(k, POD_JSON("c", "10.1.2.6", "Running"));
	assert_false(pod_known(k, "10.1.2.5", "prod"));
	assert_true(pod_known(k, "10.1.2.6", "prod"));
	assert_int_equal(podset_count(kube_pods(k)), 1);
	/* a relist without it removes it */
	kube_relist_begin(k, DECODE_POD);
	assert_int_equal(kube_relist_end(k, DECODE_POD), 0);
	assert_false(pod_known(k, "10.1.2.6", "prod"));
	assert_int_equal(podset_count(kube_pods(k)), 0);
	kube_free(k);
}

static void test_relist_sweeps(void **state)
{
	struct kube *k = new_kube(BUILDER_PODS_DISABLED, NULL, NULL, 0);

	(void)state;
	kube_relist_begin(k, DECODE_SLICE);
	put_json(k, SLICE_DB("db-1", "10.244.1.5"));
	put_json(k, SLICE_DB("db-2", "10.244.1.6"));
	assert_int_equal(kube_relist_end(k, DECODE_SLICE), 0);
	kube_relist_begin(k, DECODE_SERVICE);
	put_json(k, SVC_DB);
	assert_int_equal(kube_relist_end(k, DECODE_SERVICE), 0);
	assert_int_equal(kube_commit(k), 0);
	assert_true(exists(k, "10-244-1-6.db.prod.svc.cluster.local"));

	/* A relist that no longer has db-2: it is gone, db-1 stays. */
	kube_relist_begin(k, DECODE_SLICE);
	put_json(k, SLICE_DB("db-1", "10.244.1.5"));
	assert_int_equal(kube_relist_end(k, DECODE_SLICE), 0);
	assert_int_equal(kube_commit(k), 0);
	assert_false(exists(k, "10-244-1-6.db.prod.svc.cluster.local"));
	assert_true(exists(k, "10-244-1-5.db.prod.svc.cluster.local"));
	assert_int_equal(store_count_slices(kube_store(k)), 1);

	/* An empty relist of services removes the service. */
	kube_relist_begin(k, DECODE_SERVICE);
	assert_int_equal(kube_relist_end(k, DECODE_SERVICE), 0);
	assert_int_equal(kube_commit(k), 0);
	assert_false(exists(k, "db.prod.svc.cluster.local"));
	assert_int_equal(store_count_services(kube_store(k)), 0);
	kube_free(k);
}

static void test_namespace_labels(void **state)
{
	static const char *const zones[] = {"cluster.local"};
	struct kube_conf c = {
	    .zones = zones,
	    .nzones = 1,
	    .ttl = 5,
	    .namespace_labels = true,
	};
	char err[256];
	struct kube *k = kube_new(&c, err, sizeof(err));

	(void)state;
	assert_non_null(k);
	put_json(k, SVC_DB);
	put_json(k, SLICE_DB("db-1", "10.244.1.5"));
	assert_int_equal(kube_commit(k), 0);
	/* No Namespace object let through for prod: nothing of it shows. */
	assert_false(exists(k, "db.prod.svc.cluster.local"));
	assert_false(exists(k, "prod.svc.cluster.local"));
	put_json(k, "{\"kind\":\"Namespace\",\"metadata\":{\"name\":"
		    "\"prod\"}}");
	assert_int_equal(kube_commit(k), 0);
	assert_true(exists(k, "db.prod.svc.cluster.local"));
	assert_true(exists(k, "prod.svc.cluster.local"));
	/* The namespace stops matching (the watch deletes it). */
	assert_int_equal(kube_delete(k, DECODE_NAMESPACE, NULL, "prod"), 0);
	assert_int_equal(kube_commit(k), 0);
	assert_false(exists(k, "db.prod.svc.cluster.local"));
	kube_free(k);
}

/* ---- topology: zonal names and client zones ---- */

#define SLICE_ZONED(name, ip, zone)                                            \
	"{\"kind\":\"EndpointSlice\",\"metadata\":{\"name\":\"" name           \
	"\",\"namespace\":\"prod\",\"labels\":{\"kubernetes.io/"               \
	"service-name\":\"db\"}},\"addressType\":\"IPv4\",\"endpoints\":"      \
	"[{\"addresses\":[\"" ip "\"],\"zone\":\"" zone "\"}],"                \
	"\"ports\":[{\"name\":\"pg\",\"port\":5432}]}"

static const char *client_zone(struct kube *k, const char *addr)
{
	struct obj_addr a;
	const char *z;

	assert_int_equal(obj_addr_parse(addr, &a), 0);
	rcu_read_lock();
	uint16_t id = clientzone_find(kube_clientzone(k), a.family, a.a);
	z = id ? obj_zone_name(id) : "";
	rcu_read_unlock();
	return z;
}

static void test_topology(void **state)
{
	static const char *const zones[] = {"cluster.local"};
	struct kube_conf c = {
	    .zones = zones, .nzones = 1, .ttl = 5, .topology = true};
	char err[256] = "";
	struct ans a;

	(void)state;
	/* without the options: no client zones, no zonal names */
	struct kube *k = new_kube(BUILDER_PODS_DISABLED, NULL, NULL, 0);
	assert_null(kube_clientzone(k));
	put_json(k, SVC_DB);
	put_json(k, SLICE_ZONED("db-1", "10.244.1.5", "us-east-1a"));
	assert_int_equal(kube_commit(k), 0);
	assert_true(exists(k, "db.prod.svc.cluster.local"));
	assert_false(
	    exists(k, "us-east-1a.prefer._zone.db.prod.svc.cluster.local"));
	assert_false(exists(k, "db._zone.prod.svc.cluster.local"));
	kube_free(k);

	k = kube_new(&c, err, sizeof(err));
	assert_non_null(k);
	assert_non_null(kube_clientzone(k));
	put_json(k, SVC_DB);
	put_json(k, SLICE_ZONED("db-1", "10.244.1.5", "us-east-1a"));
	put_json(k, SLICE_ZONED("db-2", "10.244.2.6", "us-east-1b"));
	assert_int_equal(kube_commit(k), 0);
	look(k, "us-east-1a.prefer._zone.db.prod.svc.cluster.local", T_A, &a);
	assert_true(a.has);
	assert_int_equal(a.e.an, 1);
	look(k, "us-east-1b.prefer._zone.db.prod.svc.cluster.local", T_A, &a);
	assert_int_equal(a.e.an, 1);
	assert_true(exists(k, "db._zone.prod.svc.cluster.local"));
	assert_string_equal(client_zone(k, "10.244.1.5"), "us-east-1a");
	assert_string_equal(client_zone(k, "10.244.2.6"), "us-east-1b");
	assert_string_equal(client_zone(k, "10.244.9.9"), "");

	/* a slice goes: its zone's names and its client zone with it */
	assert_int_equal(kube_delete(k, DECODE_SLICE, "prod", "db-2"), 0);
	assert_int_equal(kube_commit(k), 0);
	assert_false(
	    exists(k, "us-east-1b.prefer._zone.db.prod.svc.cluster.local"));
	assert_string_equal(client_zone(k, "10.244.2.6"), "");
	assert_string_equal(client_zone(k, "10.244.1.5"), "us-east-1a");

	/* the service goes: its names and client zones */
	assert_int_equal(kube_delete(k, DECODE_SERVICE, "prod", "db"), 0);
	assert_int_equal(kube_commit(k), 0);
	assert_false(exists(k, "db._zone.prod.svc.cluster.local"));
	assert_string_equal(client_zone(k, "10.244.1.5"), "");
	kube_free(k);
}

/* ---- k8s_external: the second index ---- */

static struct kube *ext_kube(const char *const *nss, size_t nns)
{
	static const char *const zones[] = {"cluster.local"};
	static const char *const ext[] = {"example.org",
					  "113.0.203.in-addr.arpa"};
	struct kube_conf c = {
	    .zones = zones,
	    .nzones = 1,
	    .ttl = 5,
	    .namespaces = nss,
	    .nnamespaces = nns,
	    .ext_zones = ext,
	    .next_zones = 2,
	    .ext_apex = "dns",
	    .ext_ttl = 20,
	};
	char err[256] = "";
	struct kube *k = kube_new(&c, err, sizeof(err));

	assert_non_null(k);
	assert_non_null(kube_external_zone(k));
	return k;
}

/* The answer of name in the external index: its A records (NULL when the
 * name does not exist, "" when it has none). */
static const char *ext_a(struct kube *k, const char *name, char *buf,
			 size_t len)
{
	uint8_t n[DNAME_MAX];
	int nl = dname_from_str(name, n);
	const char *r = NULL;

	assert_true(nl > 0);
	buf[0] = 0;
	rcu_read_lock();
	const struct zone_node *node =
	    zone_lookup(kube_external_zone(k), n, (size_t)nl);
	const struct zone_entry *e = node ? zone_node_find(node, T_A) : NULL;
	if (node)
		r = buf;
	if (e) {
		const uint8_t *d = zone_node_data(node) + e->off;
		size_t o = 0;
		for (uint16_t i = 0; i < e->an; i++) {
			/* compression pointer owner, type, class, ttl, rdlen */
			assert_int_equal(d[o + 2] << 8 | d[o + 3], T_A);
			assert_int_equal(d[o + 6] << 24 | d[o + 7] << 16 |
					     d[o + 8] << 8 | d[o + 9],
					 20);
			size_t l = strlen(buf);
			snprintf(buf + l, len - l, "%s%u.%u.%u.%u",
				 i ? " " : "", d[o + 12], d[o + 13], d[o + 14],
				 d[o + 15]);
			o += 16;
		}
	}
	rcu_read_unlock();
	return r;
}

#define SVC_LB(ip)                                                             \
	"{\"kind\":\"Service\",\"metadata\":{\"name\":\"web\","                \
	"\"namespace\":\"prod\"},\"spec\":{\"type\":\"LoadBalancer\","         \
	"\"clusterIP\":\"10.96.0.5\",\"externalIPs\":[\"198.51.100.7\"],"      \
	"\"ports\":[{\"name\":\"http\",\"port\":80}]},\"status\":"             \
	"{\"loadBalancer\":{\"ingress\":[{\"ip\":\"" ip "\"}]}}}"

static void test_external_incremental(void **state)
{
	struct kube *k = ext_kube(NULL, 0);
	char buf[256];

	(void)state;
	/* the zone's own names from the start */
	assert_string_equal(ext_a(k, "example.org", buf, sizeof(buf)), "");
	assert_non_null(ext_a(k, "ns1.dns.example.org", buf, sizeof(buf)));
	assert_null(ext_a(k, "web.prod.example.org", buf, sizeof(buf)));
	uint32_t serial = zone_serial(kube_external_zone(k));

	put_json(k, SVC_LB("203.0.113.10"));
	assert_int_equal(kube_commit(k), 0);
	assert_string_equal(ext_a(k, "web.prod.example.org", buf, sizeof(buf)),
			    "198.51.100.7 203.0.113.10");
	assert_non_null(
	    ext_a(k, "10.113.0.203.in-addr.arpa", buf, sizeof(buf)));
	assert_true(zone_serial(kube_external_zone(k)) != serial);
	/* the cluster zone has its own name, not the external one */
	assert_true(exists(k, "web.prod.svc.cluster.local"));
	assert_false(exists(k, "web.prod.example.org"));

	/* a new ingress IP replaces the old one, and its PTR */
	put_json(k, SVC_LB("203.0.113.11"));
	assert_int_equal(kube_commit(k), 0);
	assert_string_equal(ext_a(k, "web.prod.example.org", buf, sizeof(buf)),
			    "198.51.100.7 203.0.113.11");
	assert_null(ext_a(k, "10.113.0.203.in-addr.arpa", buf, sizeof(buf)));
	assert_non_null(
	    ext_a(k, "11.113.0.203.in-addr.arpa", buf, sizeof(buf)));

	/* deleted: gone from both */
	assert_int_equal(kube_delete(k, DECODE_SERVICE, "prod", "web"), 0);
	assert_int_equal(kube_commit(k), 0);
	assert_null(ext_a(k, "web.prod.example.org", buf, sizeof(buf)));
	assert_null(ext_a(k, "prod.example.org", buf, sizeof(buf)));
	assert_null(ext_a(k, "11.113.0.203.in-addr.arpa", buf, sizeof(buf)));
	assert_false(exists(k, "web.prod.svc.cluster.local"));
	kube_free(k);

	/* namespaces hides the external names too */
	static const char *const only[] = {"other"};
	k = ext_kube(only, 1);
	put_json(k, SVC_LB("203.0.113.10"));
	assert_int_equal(kube_commit(k), 0);
	assert_null(ext_a(k, "web.prod.example.org", buf, sizeof(buf)));
	kube_free(k);
}

/* A whole store applied, then one without the service: stale owners of
 * the external index go too. */
static void test_external_apply(void **state)
{
	struct kube *k = ext_kube(NULL, 0);
	struct store *st = store_new();
	char buf[256];

	(void)state;
	put_svc(st, "prod", "web", OBJ_SVC_CLUSTERIP, "10.96.0.5");
	struct obj_service *s = calloc(1, sizeof(*s));
	s->ns = sdup("prod");
	s->name = sdup("api");
	s->type = OBJ_SVC_CLUSTERIP;
	parse_addrs("203.0.113.20", &s->ext_ips, &s->next_ips);
	assert_int_equal(store_put_service(st, s), 0);
	assert_int_equal(kube_apply_store(k, st), 0);
	assert_string_equal(ext_a(k, "api.prod.example.org", buf, sizeof(buf)),
			    "203.0.113.20");
	assert_null(ext_a(k, "web.prod.example.org", buf, sizeof(buf)));

	st = store_new();
	put_svc(st, "prod", "web", OBJ_SVC_CLUSTERIP, "10.96.0.5");
	assert_int_equal(kube_apply_store(k, st), 0);
	assert_null(ext_a(k, "api.prod.example.org", buf, sizeof(buf)));
	assert_non_null(ext_a(k, "ns1.dns.example.org", buf, sizeof(buf)));
	assert_true(exists(k, "web.prod.svc.cluster.local"));
	kube_free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_topology),
	    cmocka_unit_test(test_incremental),
	    cmocka_unit_test(test_vip_shared_names),
	    cmocka_unit_test(test_multicluster),
	    cmocka_unit_test(test_multicluster_load),
	    cmocka_unit_test(test_relist_sweeps),
	    cmocka_unit_test(test_clusterip_hosts),
	    cmocka_unit_test(test_put_trims),
	    cmocka_unit_test(test_namespace_labels),
	    cmocka_unit_test(test_new),
	    cmocka_unit_test(test_apply_and_diff),
	    cmocka_unit_test(test_namespaces_filter),
	    cmocka_unit_test(test_pods_verified),
	    cmocka_unit_test(test_pods_incremental),
	    cmocka_unit_test(test_load),
	    cmocka_unit_test(test_reload_watched),
	    cmocka_unit_test(test_reload_freed_applying),
	    cmocka_unit_test(test_delete_no_namespace),
	    cmocka_unit_test(test_load_fixture),
	    cmocka_unit_test(test_external_incremental),
	    cmocka_unit_test(test_external_apply),
	};

	return cmocka_run_group_tests(tests, rcu_group_setup,
				      rcu_group_teardown);
}
