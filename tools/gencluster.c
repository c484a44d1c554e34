/*
 * gencluster.c -- write a synthetic Kubernetes cluster as kubectl-style JSON
 * files, and a dnsperf query file that asks it.
 *
 * The cluster: NS namespaces, SVC ClusterIP services and HEADLESS headless
 * services with EPS endpoints each, spread over the namespaces round robin,
 * plus kube-system/kube-dns at 10.96.0.10.  Files written into DIR:
 *   namespaces.json      NamespaceList
 *   services.json        ServiceList
 *   endpointslices.json  EndpointSliceList (at most 100 endpoints a slice)
 * The query file mixes A of ClusterIP and headless services and endpoint
 * names, AAAA of IPv4-only services (NODATA), SRV, PTR of ClusterIPs and
 * endpoints, and names that do not exist (NXDOMAIN).  Everything is
 * deterministic for a given seed.
 *
 * No dependencies beyond libc.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#define GEN_SLICE_MAX 100

struct gen_opts {
	unsigned long nns;
	unsigned long nsvc;
	unsigned long nheadless;
	unsigned long neps;
	unsigned long nqueries;
	unsigned long long seed;
	const char *zone;
	const char *dir;
	const char *queries;
};

static uint64_t gen_rng_state;

/* xorshift64*: small, fast, and the same on every platform. */
static uint64_t gen_rand(void)
{
	uint64_t x = gen_rng_state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	gen_rng_state = x;
	return x * 0x2545F4914F6CDD1DULL;
}

/* A number in [0, n); n > 0. */
static unsigned long gen_below(unsigned long n)
{
	return (unsigned long)(gen_rand() % n);
}

static void gen_usage(FILE *f)
{
	fprintf(
	    f, "usage: gencluster [-n namespaces] [-s services] [-H headless]\n"
	       "                  [-e endpoints] [-q queries] [-Q queryfile]\n"
	       "                  [-S seed] [-z zone] DIR\n"
	       "  -n  namespaces (default 50)\n"
	       "  -s  ClusterIP services (default 5000)\n"
	       "  -H  headless services (default 500)\n"
	       "  -e  ready endpoints per headless service (default 10)\n"
	       "  -q  lines in the query file (default 100000)\n"
	       "  -Q  dnsperf query file to write (default: none)\n"
	       "  -S  seed (default 1)\n"
	       "  -z  cluster zone (default cluster.local)\n"
	       "Writes namespaces.json, services.json and endpointslices.json\n"
	       "into DIR (created if missing).\n");
}

static int gen_number(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *s == '\0' || *end != '\0' || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/* The i-th ClusterIP (i from 0): 10.96.1.0 upwards. */
static void gen_cluster_ip(unsigned long i, unsigned char ip[4])
{
	uint32_t a = (10u << 24 | 96u << 16 | 1u << 8) + (uint32_t)i;

	ip[0] = a >> 24;
	ip[1] = a >> 16;
	ip[2] = a >> 8;
	ip[3] = a;
}

/* The address of endpoint k of headless service h: 10.128.0.1 upwards. */
static void gen_ep_ip(const struct gen_opts *o, unsigned long h,
		      unsigned long k, unsigned char ip[4])
{
	uint32_t a = (10u << 24 | 128u << 16) + 1 + (uint32_t)(h * o->neps + k);

	ip[0] = a >> 24;
	ip[1] = a >> 16;
	ip[2] = a >> 8;
	ip[3] = a;
}

/* Even endpoints carry a hostname, odd ones are named by their address. */
static int gen_ep_has_hostname(unsigned long k)
{
	return (k % 2) == 0;
}

static void gen_ns_name(unsigned long i, char *buf, size_t len)
{
	snprintf(buf, len, "ns-%03lu", i);
}

static void gen_svc_name(unsigned long i, char *buf, size_t len)
{
	snprintf(buf, len, "svc-%05lu", i);
}

static void gen_hl_name(unsigned long i, char *buf, size_t len)
{
	snprintf(buf, len, "hl-%04lu", i);
}

static FILE *gen_open(const char *dir, const char *name)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f)
		fprintf(stderr, "gencluster: %s: %s\n", path, strerror(errno));
	return f;
}

static int gen_close(FILE *f, const char *name)
{
	if (ferror(f) || fclose(f) != 0) {
		fprintf(stderr, "gencluster: writing %s: %s\n", name,
			strerror(errno));
		return -EIO;
	}
	return 0;
}

static void gen_list_head(FILE *f, const char *api, const char *kind)
{
	fprintf(f, "{\n    \"apiVersion\": \"%s\",\n    \"kind\": \"%s\",\n",
		api, kind);
	fprintf(f, "    \"metadata\": {\"resourceVersion\": \"1\"},\n");
	fprintf(f, "    \"items\": [");
}

static void gen_list_tail(FILE *f)
{
	fprintf(f, "\n    ]\n}\n");
}

static int gen_namespaces(const struct gen_opts *o)
{
	FILE *f = gen_open(o->dir, "namespaces.json");
	char name[32];
	unsigned long i;

	if (!f)
		return -EIO;
	gen_list_head(f, "v1", "NamespaceList");
	fprintf(f, "\n        {\"apiVersion\": \"v1\", \"metadata\": "
		   "{\"name\": \"kube-system\"}, "
		   "\"status\": {\"phase\": \"Active\"}}");
	for (i = 0; i < o->nns; i++) {
		gen_ns_name(i, name, sizeof(name));
		fprintf(f,
			",\n        {\"apiVersion\": \"v1\", \"metadata\": "
			"{\"name\": \"%s\", \"labels\": "
			"{\"kubernetes.io/metadata.name\": \"%s\"}}, "
			"\"spec\": {\"finalizers\": [\"kubernetes\"]}, "
			"\"status\": {\"phase\": \"Active\"}}",
			name, name);
	}
	gen_list_tail(f);
	return gen_close(f, "namespaces.json");
}

static void gen_service(FILE *f, const char *ns, const char *name,
			const unsigned char *ip, int grpc, unsigned port)
{
	fprintf(f,
		",\n        {\"apiVersion\": \"v1\", \"metadata\": "
		"{\"name\": \"%s\", \"namespace\": \"%s\"}, \"spec\": {",
		name, ns);
	if (ip)
		fprintf(f,
			"\"type\": \"ClusterIP\", \"clusterIP\": "
			"\"%u.%u.%u.%u\", \"clusterIPs\": [\"%u.%u.%u.%u\"], "
			"\"ipFamilies\": [\"IPv4\"], "
			"\"ipFamilyPolicy\": \"SingleStack\", ",
			ip[0], ip[1], ip[2], ip[3], ip[0], ip[1], ip[2], ip[3]);
	else
		fprintf(f, "\"type\": \"ClusterIP\", \"clusterIP\": \"None\", "
			   "\"clusterIPs\": [\"None\"], ");
	fprintf(f,
		"\"selector\": {\"app\": \"%s\"}, \"ports\": [{\"name\": "
		"\"http\", \"port\": %u, \"protocol\": \"TCP\", "
		"\"targetPort\": %u}",
		name, port, port);
	if (grpc)
		fprintf(f, ", {\"name\": \"grpc\", \"port\": 9090, "
			   "\"protocol\": \"TCP\", \"targetPort\": 9090}");
	fprintf(f, "]}, \"status\": {\"loadBalancer\": {}}}");
}

static int gen_services(const struct gen_opts *o)
{
	FILE *f = gen_open(o->dir, "services.json");
	static const unsigned char dns_ip[4] = {10, 96, 0, 10};
	unsigned char ip[4];
	char ns[32], name[32];
	unsigned long i;

	if (!f)
		return -EIO;
	gen_list_head(f, "v1", "ServiceList");
	/* The first item has no leading comma. */
	fprintf(f, "\n        {\"apiVersion\": \"v1\", \"metadata\": "
		   "{\"name\": \"kubernetes\", \"namespace\": \"default\"}, "
		   "\"spec\": {\"clusterIP\": \"10.96.0.1\", "
		   "\"ports\": [{\"name\": \"https\", \"port\": 443, "
		   "\"protocol\": \"TCP\", \"targetPort\": 6443}]}}");
	gen_service(f, "kube-system", "kube-dns", dns_ip, 0, 53);
	for (i = 0; i < o->nsvc; i++) {
		gen_ns_name(i % o->nns, ns, sizeof(ns));
		gen_svc_name(i, name, sizeof(name));
		gen_cluster_ip(i, ip);
		gen_service(f, ns, name, ip, i % 3 == 0, 80);
	}
	for (i = 0; i < o->nheadless; i++) {
		gen_ns_name(i % o->nns, ns, sizeof(ns));
		gen_hl_name(i, name, sizeof(name));
		gen_service(f, ns, name, NULL, 0, 8080);
	}
	gen_list_tail(f);
	return gen_close(f, "services.json");
}

static void gen_slice(FILE *f, const struct gen_opts *o, unsigned long h,
		      unsigned long first, unsigned long n, int *comma)
{
	char ns[32], name[32];
	unsigned char ip[4];
	unsigned long k;

	gen_ns_name(h % o->nns, ns, sizeof(ns));
	gen_hl_name(h, name, sizeof(name));
	fprintf(f,
		"%s\n        {\"addressType\": \"IPv4\", \"apiVersion\": "
		"\"discovery.k8s.io/v1\", \"metadata\": {\"name\": "
		"\"%s-%05lu\", \"namespace\": \"%s\", \"labels\": "
		"{\"kubernetes.io/service-name\": \"%s\", "
		"\"endpointslice.kubernetes.io/managed-by\": "
		"\"endpointslice-controller.k8s.io\"}}, "
		"\"ports\": [{\"name\": \"http\", \"port\": 8080, "
		"\"protocol\": \"TCP\"}], \"endpoints\": [",
		*comma ? "," : "", name, first / GEN_SLICE_MAX, ns, name);
	*comma = 1;
	for (k = first; k < first + n; k++) {
		gen_ep_ip(o, h, k, ip);
		fprintf(f,
			"%s\n            {\"addresses\": [\"%u.%u.%u.%u\"], "
			"\"conditions\": {\"ready\": true, \"serving\": true, "
			"\"terminating\": false}, ",
			k == first ? "" : ",", ip[0], ip[1], ip[2], ip[3]);
		if (gen_ep_has_hostname(k))
			fprintf(f, "\"hostname\": \"pod-%lu\", ", k);
		fprintf(f,
			"\"nodeName\": \"node-%lu\", \"targetRef\": {\"kind\": "
			"\"Pod\", \"name\": \"%s-%lu\", \"namespace\": "
			"\"%s\"}}",
			(h + k) % 64, name, k, ns);
	}
	fprintf(f, "]}");
}

static int gen_slices(const struct gen_opts *o)
{
	FILE *f = gen_open(o->dir, "endpointslices.json");
	unsigned long h, first, n;
	int comma = 0;

	if (!f)
		return -EIO;
	gen_list_head(f, "discovery.k8s.io/v1", "EndpointSliceList");
	fprintf(f, "\n        {\"addressType\": \"IPv4\", \"apiVersion\": "
		   "\"discovery.k8s.io/v1\", \"metadata\": {\"name\": "
		   "\"kube-dns-00000\", \"namespace\": \"kube-system\", "
		   "\"labels\": {\"kubernetes.io/service-name\": "
		   "\"kube-dns\"}}, \"ports\": [{\"name\": \"dns\", "
		   "\"port\": 53, \"protocol\": \"UDP\"}], \"endpoints\": "
		   "[{\"addresses\": [\"10.127.0.2\"], \"conditions\": "
		   "{\"ready\": true}}]}");
	comma = 1;
	for (h = 0; h < o->nheadless; h++) {
		for (first = 0; first < o->neps; first += GEN_SLICE_MAX) {
			n = o->neps - first;
			if (n > GEN_SLICE_MAX)
				n = GEN_SLICE_MAX;
			gen_slice(f, o, h, first, n, &comma);
		}
	}
	gen_list_tail(f);
	return gen_close(f, "endpointslices.json");
}

/* One query line; the kinds and their shares are listed in gen_queries. */
static void gen_query(FILE *f, const struct gen_opts *o)
{
	unsigned long r = gen_below(100), i, h, k;
	unsigned char ip[4];
	char ns[32], name[32];

	if (o->nheadless == 0 && r >= 35 && r < 55)
		r = 0;
	if (o->nsvc == 0 && (r < 35 || r >= 55))
		r = 35;
	if (o->nsvc == 0 && o->nheadless == 0) {
		fprintf(f, "nosuch-%lu.kube-system.svc.%s A\n", gen_below(1000),
			o->zone);
		return;
	}
	i = o->nsvc ? gen_below(o->nsvc) : 0;
	h = o->nheadless ? gen_below(o->nheadless) : 0;
	k = o->neps ? gen_below(o->neps) : 0;
	if (r < 35) { /* A of a ClusterIP service */
		gen_ns_name(i % o->nns, ns, sizeof(ns));
		gen_svc_name(i, name, sizeof(name));
		fprintf(f, "%s.%s.svc.%s A\n", name, ns, o->zone);
	} else if (r < 45) { /* A of a headless service */
		gen_ns_name(h % o->nns, ns, sizeof(ns));
		gen_hl_name(h, name, sizeof(name));
		fprintf(f, "%s.%s.svc.%s A\n", name, ns, o->zone);
	} else if (r < 55) { /* A of an endpoint name */
		gen_ns_name(h % o->nns, ns, sizeof(ns));
		gen_hl_name(h, name, sizeof(name));
		if (o->neps == 0) {
			fprintf(f, "%s.%s.svc.%s A\n", name, ns, o->zone);
		} else if (gen_ep_has_hostname(k)) {
			fprintf(f, "pod-%lu.%s.%s.svc.%s A\n", k, name, ns,
				o->zone);
		} else {
			gen_ep_ip(o, h, k, ip);
			fprintf(f, "%u-%u-%u-%u.%s.%s.svc.%s A\n", ip[0], ip[1],
				ip[2], ip[3], name, ns, o->zone);
		}
	} else if (r < 65) { /* AAAA of an IPv4 service: NODATA */
		gen_ns_name(i % o->nns, ns, sizeof(ns));
		gen_svc_name(i, name, sizeof(name));
		fprintf(f, "%s.%s.svc.%s AAAA\n", name, ns, o->zone);
	} else if (r < 75) { /* SRV of a named port */
		gen_ns_name(i % o->nns, ns, sizeof(ns));
		gen_svc_name(i, name, sizeof(name));
		fprintf(f, "_http._tcp.%s.%s.svc.%s SRV\n", name, ns, o->zone);
	} else if (r < 85) { /* PTR of a ClusterIP */
		gen_cluster_ip(i, ip);
		fprintf(f, "%u.%u.%u.%u.in-addr.arpa PTR\n", ip[3], ip[2],
			ip[1], ip[0]);
	} else if (r < 90 && o->nheadless && o->neps) { /* PTR, endpoint */
		gen_ep_ip(o, h, k, ip);
		fprintf(f, "%u.%u.%u.%u.in-addr.arpa PTR\n", ip[3], ip[2],
			ip[1], ip[0]);
	} else { /* NXDOMAIN: a service that does not exist */
		gen_ns_name(i % o->nns, ns, sizeof(ns));
		fprintf(f, "nosuch-%05lu.%s.svc.%s A\n", i, ns, o->zone);
	}
}

/*
 * The query mix, in percent: 35 A ClusterIP, 10 A headless, 10 A endpoint,
 * 10 AAAA NODATA, 10 SRV, 10 PTR ClusterIP, 5 PTR endpoint, 10 NXDOMAIN.
 */
static int gen_queries(const struct gen_opts *o)
{
	FILE *f = fopen(o->queries, "w");
	unsigned long q;

	if (!f) {
		fprintf(stderr, "gencluster: %s: %s\n", o->queries,
			strerror(errno));
		return -EIO;
	}
	for (q = 0; q < o->nqueries; q++)
		gen_query(f, o);
	return gen_close(f, o->queries);
}

int main(int argc, char **argv)
{
	struct gen_opts o = {
	    .nns = 50,
	    .nsvc = 5000,
	    .nheadless = 500,
	    .neps = 10,
	    .nqueries = 100000,
	    .seed = 1,
	    .zone = "cluster.local",
	};
	unsigned long seed;
	int c;

	while ((c = getopt(argc, argv, "n:s:H:e:q:Q:S:z:h")) != -1) {
		int err = 0;

		switch (c) {
		case 'n':
			err = gen_number(optarg, 999, &o.nns);
			if (!err && o.nns == 0)
				err = -EINVAL;
			break;
		case 's':
			err = gen_number(optarg, 1000000, &o.nsvc);
			break;
		case 'H':
			err = gen_number(optarg, 9999, &o.nheadless);
			break;
		case 'e':
			err = gen_number(optarg, 10000, &o.neps);
			break;
		case 'q':
			err = gen_number(optarg, 100000000, &o.nqueries);
			break;
		case 'Q':
			o.queries = optarg;
			break;
		case 'S':
			err = gen_number(optarg, 0xffffffffUL, &seed);
			o.seed = seed;
			break;
		case 'z':
			o.zone = optarg;
			break;
		case 'h':
			gen_usage(stdout);
			return 0;
		default:
			gen_usage(stderr);
			return 2;
		}
		if (err) {
			fprintf(stderr, "gencluster: bad value for -%c: %s\n",
				c, optarg);
			return 2;
		}
	}
	if (optind != argc - 1) {
		gen_usage(stderr);
		return 2;
	}
	if (o.nheadless * o.neps > (1UL << 23) - 2) {
		fprintf(stderr, "gencluster: too many endpoints\n");
		return 2;
	}
	o.dir = argv[optind];
	if (mkdir(o.dir, 0755) != 0 && errno != EEXIST) {
		fprintf(stderr, "gencluster: %s: %s\n", o.dir, strerror(errno));
		return 1;
	}
	/* Never 0: xorshift would stay at 0. */
	gen_rng_state = o.seed * 0x9E3779B97F4A7C15ULL + 0x632BE59BD9B4E019ULL;
	if (gen_namespaces(&o) || gen_services(&o) || gen_slices(&o))
		return 1;
	if (o.queries && gen_queries(&o))
		return 1;
	return 0;
}
