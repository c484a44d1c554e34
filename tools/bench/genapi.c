/*
 * genapi.c -- write a synthetic cluster for the API server emulator's -load:
 * namespaces, ClusterIP services with one EndpointSlice each, and the pods
 * behind those endpoints, shaped as the API server returns them (uid,
 * creationTimestamp, labels, owner references, container specs and
 * statuses), so that list and watch traffic has a realistic size.
 *
 * Files written into DIR, typed lists (NamespaceList, ...) of at most
 * CHUNK items each, numbered from 000:
 *   namespaces-NNN.json      NS namespaces ns-000.. plus default, kube-system
 *   services-NNN.json        kubernetes, kube-dns, then SVC services
 *                            svc-000000.. in namespace ns-(i % NS), ClusterIP
 *                            10.96.1.0 + i
 *   endpointslices-NNN.json  one slice per service (kube-dns included) with
 *                            EPS ready endpoints; endpoint k of service i is
 *                            pod i * EPS + k at 10.128.0.0 + 1 + i * EPS + k
 *   pods-NNN.json            PODS running pods: the endpoints' pods first,
 *                            then pods of no service
 * Deterministic; no dependencies beyond libc.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct genapi {
	unsigned long nns;
	unsigned long nsvc;
	unsigned long neps;
	unsigned long npods;
	unsigned long chunk;
	const char *dir;
};

/* A sequence of list files of one kind. */
struct genapi_out {
	const struct genapi *g;
	const char *base;      /* "pods" */
	const char *list_kind; /* "PodList" */
	const char *api;       /* "v1" */
	FILE *f;
	unsigned nfile;
	unsigned long nitems; /* in the current file */
	int err;
};

static void genapi_usage(FILE *f)
{
	fprintf(f,
		"usage: genapi [-n namespaces] [-s services] [-e endpoints]\n"
		"              [-p pods] [-c chunk] DIR\n"
		"  -n  namespaces (default 100)\n"
		"  -s  ClusterIP services, one EndpointSlice each "
		"(default 1000)\n"
		"  -e  ready endpoints per service (default 15)\n"
		"  -p  running pods, endpoints' pods first (default: one per "
		"endpoint)\n"
		"  -c  items per list file (default 5000)\n");
}

static int genapi_number(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *s == '\0' || *s == '-' || *end != '\0' || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static void genapi_ip(uint32_t a, char *buf, size_t len)
{
	snprintf(buf, len, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255,
		 (a >> 8) & 255, a & 255);
}

/* ClusterIP of service i; endpoint and pod address of pod j. */
static uint32_t genapi_svc_ip(unsigned long i)
{
	return (10u << 24 | 96u << 16 | 1u << 8) + (uint32_t)i;
}

static uint32_t genapi_pod_ip(unsigned long j)
{
	return (10u << 24 | 128u << 16) + 1 + (uint32_t)j;
}

/* A uid that looks like one and is the same on every run. */
static void genapi_uid(unsigned kind, unsigned long i, char *buf, size_t len)
{
	uint64_t x = ((uint64_t)kind << 40 | i) * 0x9E3779B97F4A7C15ULL;

	snprintf(buf, len, "%08x-%04x-4%03x-a%03x-%012llx", (unsigned)(x >> 32),
		 (unsigned)(x >> 16) & 0xffff, (unsigned)x & 0xfff,
		 (unsigned)(x >> 52) & 0xfff,
		 (unsigned long long)(x * 31 + i) & 0xffffffffffffULL);
}

static int genapi_close(struct genapi_out *o)
{
	if (!o->f)
		return o->err;
	fprintf(o->f, "\n]}\n");
	if (ferror(o->f) || fclose(o->f) != 0) {
		fprintf(stderr, "genapi: writing %s-%03u.json: %s\n", o->base,
			o->nfile - 1, strerror(errno));
		o->err = -EIO;
	}
	o->f = NULL;
	return o->err;
}

/* The stream to write the next item to, after its separator; NULL when a
 * file cannot be opened. */
static FILE *genapi_item(struct genapi_out *o)
{
	char path[4096];

	if (o->f && o->nitems == o->g->chunk)
		genapi_close(o);
	if (o->err)
		return NULL;
	if (o->f) {
		fputs(",\n", o->f);
		o->nitems++;
		return o->f;
	}
	snprintf(path, sizeof(path), "%s/%s-%03u.json", o->g->dir, o->base,
		 o->nfile++);
	o->f = fopen(path, "w");
	if (!o->f) {
		fprintf(stderr, "genapi: %s: %s\n", path, strerror(errno));
		o->err = -EIO;
		return NULL;
	}
	fprintf(o->f,
		"{\"kind\":\"%s\",\"apiVersion\":\"%s\",\"metadata\":"
		"{\"resourceVersion\":\"1\"},\"items\":[\n",
		o->list_kind, o->api);
	o->nitems = 1;
	return o->f;
}

static void genapi_ns_name(unsigned long i, char *buf, size_t len)
{
	snprintf(buf, len, "ns-%03lu", i);
}

static void genapi_svc_name(unsigned long i, char *buf, size_t len)
{
	snprintf(buf, len, "svc-%06lu", i);
}

#define TS "\"2024-05-01T10:00:00Z\""

static void genapi_namespace(struct genapi_out *o, const char *name,
			     unsigned long i)
{
	FILE *f = genapi_item(o);
	char uid[40];

	if (!f)
		return;

	genapi_uid(1, i, uid, sizeof(uid));
	fprintf(f,
		"{\"kind\":\"Namespace\",\"apiVersion\":\"v1\",\"metadata\":{"
		"\"name\":\"%s\",\"uid\":\"%s\",\"creationTimestamp\":" TS ","
		"\"labels\":{\"kubernetes.io/metadata.name\":\"%s\"}},"
		"\"spec\":{\"finalizers\":[\"kubernetes\"]},"
		"\"status\":{\"phase\":\"Active\"}}",
		name, uid, name);
}

static int genapi_namespaces(const struct genapi *g)
{
	struct genapi_out o = {.g = g,
			       .base = "namespaces",
			       .list_kind = "NamespaceList",
			       .api = "v1"};
	char name[32];

	genapi_namespace(&o, "default", 1000000);
	genapi_namespace(&o, "kube-system", 1000001);
	for (unsigned long i = 0; i < g->nns; i++) {
		genapi_ns_name(i, name, sizeof(name));
		genapi_namespace(&o, name, i);
	}
	return genapi_close(&o);
}

static void genapi_service(struct genapi_out *o, const char *ns,
			   const char *name, uint32_t ipa, unsigned port,
			   const char *pname, unsigned long i)
{
	FILE *f = genapi_item(o);
	char uid[40], ip[16];

	if (!f)
		return;
	genapi_uid(2, i, uid, sizeof(uid));
	genapi_ip(ipa, ip, sizeof(ip));
	fprintf(f,
		"{\"kind\":\"Service\",\"apiVersion\":\"v1\",\"metadata\":{"
		"\"name\":\"%s\",\"namespace\":\"%s\",\"uid\":\"%s\","
		"\"creationTimestamp\":" TS ",\"labels\":{\"app\":\"%s\"}},"
		"\"spec\":{\"ports\":[{\"name\":\"%s\",\"protocol\":\"TCP\","
		"\"port\":%u,\"targetPort\":%u}],\"selector\":{\"app\":\"%s\"},"
		"\"clusterIP\":\"%s\",\"clusterIPs\":[\"%s\"],"
		"\"type\":\"ClusterIP\",\"sessionAffinity\":\"None\","
		"\"ipFamilies\":[\"IPv4\"],\"ipFamilyPolicy\":\"SingleStack\","
		"\"internalTrafficPolicy\":\"Cluster\"},"
		"\"status\":{\"loadBalancer\":{}}}",
		name, ns, uid, name, pname, port, port, name, ip, ip);
}

static int genapi_services(const struct genapi *g)
{
	struct genapi_out o = {.g = g,
			       .base = "services",
			       .list_kind = "ServiceList",
			       .api = "v1"};
	char ns[32], name[32];

	genapi_service(&o, "default", "kubernetes", 0x0a600001, 443, "https",
		       1000000);
	genapi_service(&o, "kube-system", "kube-dns", 0x0a60000a, 53, "dns",
		       1000001);
	for (unsigned long i = 0; i < g->nsvc; i++) {
		genapi_ns_name(i % g->nns, ns, sizeof(ns));
		genapi_svc_name(i, name, sizeof(name));
		genapi_service(&o, ns, name, genapi_svc_ip(i), 8080, "http", i);
	}
	return genapi_close(&o);
}

/* The name of pod j: service pods are named after their service. */
static void genapi_pod_name(const struct genapi *g, unsigned long j, char *buf,
			    size_t len)
{
	if (g->neps && j < g->nsvc * g->neps)
		snprintf(buf, len, "svc-%06lu-7d9f8c6b5-%05lu", j / g->neps,
			 j % g->neps);
	else
		snprintf(buf, len, "job-%07lu", j);
}

static void genapi_slice(struct genapi_out *o, unsigned long i)
{
	const struct genapi *g = o->g;
	FILE *f = genapi_item(o);
	char ns[32], name[32], uid[40], suid[40], ip[16], pod[64], puid[40];

	if (!f)
		return;
	genapi_ns_name(i % g->nns, ns, sizeof(ns));
	genapi_svc_name(i, name, sizeof(name));
	genapi_uid(3, i, uid, sizeof(uid));
	genapi_uid(2, i, suid, sizeof(suid));
	fprintf(
	    f,
	    "{\"kind\":\"EndpointSlice\",\"apiVersion\":"
	    "\"discovery.k8s.io/v1\",\"metadata\":{\"name\":\"%s-x7k2p\","
	    "\"generateName\":\"%s-\",\"namespace\":\"%s\",\"uid\":\"%s\","
	    "\"creationTimestamp\":" TS ",\"labels\":{"
	    "\"endpointslice.kubernetes.io/managed-by\":"
	    "\"endpointslice-controller.k8s.io\","
	    "\"kubernetes.io/service-name\":\"%s\"},\"annotations\":{"
	    "\"endpoints.kubernetes.io/last-change-trigger-time\":" TS "},"
	    "\"ownerReferences\":[{\"apiVersion\":\"v1\",\"kind\":"
	    "\"Service\",\"name\":\"%s\",\"uid\":\"%s\",\"controller\":true,"
	    "\"blockOwnerDeletion\":true}]},\"addressType\":\"IPv4\","
	    "\"endpoints\":[",
	    name, name, ns, uid, name, name, suid);
	for (unsigned long k = 0; k < g->neps; k++) {
		unsigned long j = i * g->neps + k;

		genapi_ip(genapi_pod_ip(j), ip, sizeof(ip));
		genapi_pod_name(g, j, pod, sizeof(pod));
		genapi_uid(4, j, puid, sizeof(puid));
		fprintf(f,
			"%s{\"addresses\":[\"%s\"],\"conditions\":{\"ready\":"
			"true,\"serving\":true,\"terminating\":false},"
			"\"nodeName\":\"node-%03lu\",\"zone\":\"zone-%c\","
			"\"targetRef\":{\"kind\":\"Pod\",\"namespace\":\"%s\","
			"\"name\":\"%s\",\"uid\":\"%s\"}}",
			k ? "," : "", ip, j % 500, (char)('a' + j % 3), ns, pod,
			puid);
	}
	fprintf(f, "],\"ports\":[{\"name\":\"http\",\"protocol\":\"TCP\","
		   "\"port\":8080}]}");
}

static int genapi_slices(const struct genapi *g)
{
	struct genapi_out o = {.g = g,
			       .base = "endpointslices",
			       .list_kind = "EndpointSliceList",
			       .api = "discovery.k8s.io/v1"};
	FILE *f = genapi_item(&o);

	if (!f)
		return genapi_close(&o);
	fprintf(f,
		"{\"kind\":\"EndpointSlice\",\"apiVersion\":"
		"\"discovery.k8s.io/v1\",\"metadata\":{\"name\":"
		"\"kube-dns-abcde\",\"namespace\":\"kube-system\",\"labels\":"
		"{\"kubernetes.io/service-name\":\"kube-dns\"}},"
		"\"addressType\":\"IPv4\",\"endpoints\":[{\"addresses\":"
		"[\"10.127.0.2\"],\"conditions\":{\"ready\":true}}],"
		"\"ports\":[{\"name\":\"dns\",\"protocol\":\"UDP\","
		"\"port\":53}]}");
	for (unsigned long i = 0; i < g->nsvc; i++)
		genapi_slice(&o, i);
	return genapi_close(&o);
}

static void genapi_pod(struct genapi_out *o, unsigned long j)
{
	const struct genapi *g = o->g;
	FILE *f = genapi_item(o);
	char ns[32], name[64], app[32], uid[40], rsuid[40], ip[16], host[16];
	unsigned long node = j % 500;
	bool svc = g->neps && j < g->nsvc * g->neps;

	if (!f)
		return;
	if (svc) {
		genapi_ns_name((j / g->neps) % g->nns, ns, sizeof(ns));
		genapi_svc_name(j / g->neps, app, sizeof(app));
	} else {
		genapi_ns_name(j % g->nns, ns, sizeof(ns));
		snprintf(app, sizeof(app), "job-%07lu", j);
	}
	genapi_pod_name(g, j, name, sizeof(name));
	genapi_uid(4, j, uid, sizeof(uid));
	genapi_uid(5, svc ? j / g->neps : j, rsuid, sizeof(rsuid));
	genapi_ip(genapi_pod_ip(j), ip, sizeof(ip));
	genapi_ip((10u << 24 | 250u << 16) + (uint32_t)node, host,
		  sizeof(host));
	fprintf(
	    f,
	    "{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{"
	    "\"name\":\"%s\",\"generateName\":\"%.*s\",\"namespace\":"
	    "\"%s\",\"uid\":\"%s\",\"creationTimestamp\":" TS ","
	    "\"labels\":{\"app\":\"%s\",\"pod-template-hash\":"
	    "\"7d9f8c6b5\"},\"ownerReferences\":[{\"apiVersion\":"
	    "\"apps/v1\",\"kind\":\"ReplicaSet\",\"name\":\"%s-7d9f8c6b5\","
	    "\"uid\":\"%s\",\"controller\":true,\"blockOwnerDeletion\":"
	    "true}]},\"spec\":{\"containers\":[{\"name\":\"app\",\"image\":"
	    "\"registry.example/%s:1.0\",\"ports\":[{\"containerPort\":"
	    "8080,\"protocol\":\"TCP\"}],\"resources\":{\"requests\":{"
	    "\"cpu\":\"100m\",\"memory\":\"128Mi\"}},\"terminationMessagePath"
	    "\":\"/dev/termination-log\",\"terminationMessagePolicy\":"
	    "\"File\",\"imagePullPolicy\":\"IfNotPresent\"}],"
	    "\"restartPolicy\":\"Always\",\"terminationGracePeriodSeconds\":"
	    "30,\"dnsPolicy\":\"ClusterFirst\",\"serviceAccountName\":"
	    "\"default\",\"nodeName\":\"node-%03lu\",\"schedulerName\":"
	    "\"default-scheduler\",\"priority\":0,\"enableServiceLinks\":"
	    "true,\"preemptionPolicy\":\"PreemptLowerPriority\"},"
	    "\"status\":{\"phase\":\"Running\",\"conditions\":["
	    "{\"type\":\"Initialized\",\"status\":\"True\","
	    "\"lastTransitionTime\":" TS "},{\"type\":\"Ready\",\"status\":"
	    "\"True\",\"lastTransitionTime\":" TS "},{\"type\":"
	    "\"ContainersReady\",\"status\":\"True\",\"lastTransitionTime\":" TS
	    "},{\"type\":\"PodScheduled\",\"status\":\"True\","
	    "\"lastTransitionTime\":" TS "}],\"hostIP\":\"%s\",\"hostIPs\":"
	    "[{\"ip\":\"%s\"}],\"podIP\":\"%s\",\"podIPs\":[{\"ip\":\"%s\"}],"
	    "\"startTime\":" TS ",\"containerStatuses\":[{\"name\":\"app\","
	    "\"state\":{\"running\":{\"startedAt\":" TS "}},\"lastState\":"
	    "{},\"ready\":true,\"restartCount\":0,\"image\":"
	    "\"registry.example/%s:1.0\",\"imageID\":\"registry.example/"
	    "%s@sha256:%064lx\",\"containerID\":\"containerd://%064lx\","
	    "\"started\":true}],\"qosClass\":\"Burstable\"}}",
	    name, (int)strlen(name) - 5, name, ns, uid, app, app, rsuid, app,
	    node, host, host, ip, ip, app, app, j, j * 2654435761UL);
}

static int genapi_pods(const struct genapi *g)
{
	struct genapi_out o = {
	    .g = g, .base = "pods", .list_kind = "PodList", .api = "v1"};

	for (unsigned long j = 0; j < g->npods; j++)
		genapi_pod(&o, j);
	return genapi_close(&o);
}

int main(int argc, char **argv)
{
	struct genapi g = {.nns = 100, .nsvc = 1000, .neps = 15, .chunk = 5000};
	bool pods_set = false;
	int c;

	while ((c = getopt(argc, argv, "n:s:e:p:c:h")) != -1) {
		int err = 0;

		switch (c) {
		case 'n':
			err = genapi_number(optarg, 999, &g.nns);
			if (!err && g.nns == 0)
				err = -EINVAL;
			break;
		case 's':
			err = genapi_number(optarg, 1000000, &g.nsvc);
			break;
		case 'e':
			err = genapi_number(optarg, 1000, &g.neps);
			break;
		case 'p':
			err = genapi_number(optarg, 8000000, &g.npods);
			pods_set = true;
			break;
		case 'c':
			err = genapi_number(optarg, 1000000, &g.chunk);
			if (!err && g.chunk == 0)
				err = -EINVAL;
			break;
		case 'h':
			genapi_usage(stdout);
			return 0;
		default:
			genapi_usage(stderr);
			return 2;
		}
		if (err) {
			fprintf(stderr, "genapi: bad value for -%c: %s\n", c,
				optarg);
			return 2;
		}
	}
	if (optind != argc - 1) {
		genapi_usage(stderr);
		return 2;
	}
	if (!pods_set)
		g.npods = g.nsvc * g.neps;
	if (g.nsvc > (1UL << 20) - 256 || g.nsvc * g.neps > (1UL << 23) - 2 ||
	    g.npods > (1UL << 23) - 2) {
		fprintf(stderr, "genapi: too many services, endpoints or "
				"pods for the address ranges\n");
		return 2;
	}
	g.dir = argv[optind];
	if (mkdir(g.dir, 0755) != 0 && errno != EEXIST) {
		fprintf(stderr, "genapi: %s: %s\n", g.dir, strerror(errno));
		return 1;
	}
	if (genapi_namespaces(&g) || genapi_services(&g) || genapi_slices(&g) ||
	    genapi_pods(&g))
		return 1;
	return 0;
}
