/*
 * metrics.c -- the registry, the per-thread counter blocks and the text
 * exposition (see metrics.h).
 */
#include "server/metrics.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "server/cache.h"
#include "zones/apisrc.h"
#include "zones/dname.h"
#include "zones/kube.h"
#include "zones/zone.h"

__thread uint64_t *metrics_self;
__thread uint32_t metrics_cur;

/* ---- label values and buckets, as CoreDNS 1.14 has them ---- */

/* The query types CoreDNS names (plugin/metrics/vars/report.go); the
 * others are "other". */
#define NTYPES 18
static const char *const type_names[NTYPES] = {
    "A",   "AAAA",  "CNAME", "DNSKEY", "DS",  "MX",   "NSEC3", "NSEC", "NS",
    "PTR", "RRSIG", "SOA",   "SRV",    "TXT", "IXFR", "AXFR",  "ANY",  "other",
};
static const uint16_t type_codes[NTYPES - 1] = {
    1, 28, 5, 48, 43, 15, 50, 47, 2, 12, 46, 6, 33, 16, 251, 252, 255,
};
static uint8_t type_index[256]; /* qtype -> index (NTYPES - 1: other) */

#define NRCODES 24
static const char *const rcode_names[NRCODES] = {
    "NOERROR",	"FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP",   "REFUSED",
    "YXDOMAIN", "YXRRSET", "NXRRSET",  "NOTAUTH",  "NOTZONE",  "RCODE11",
    "RCODE12",	"RCODE13", "RCODE14",  "RCODE15",  "BADSIG",   "BADKEY",
    "BADTIME",	"BADMODE", "BADNAME",  "BADALG",   "BADTRUNC", "BADCOOKIE",
};
static const char *const plugin_names[METRICS_PLUGINS] = {
    "", "kubernetes", "cache", "forward", "autopath"};
static const char *const proto_names[2] = {"udp", "tcp"};

/* plugin.TimeBuckets: 0.25 ms doubling, 16 buckets. */
#define NDUR 16
/* Request and response sizes. */
#define NSIZE 14
static const double size_bounds[NSIZE] = {
    0, 100, 200, 300, 400, 511, 1023, 2047, 4095, 8291, 16e3, 32e3, 48e3, 64e3};
/* The same as integers, for counting. */
static const uint32_t size_bounds_int[NSIZE] = {0,     100,   200,   300,  400,
						511,   1023,  2047,  4095, 8291,
						16000, 32000, 48000, 64000};
/* plugin.SlimTimeBuckets (health): 0.25 ms times 10, 5 buckets. */
#define NSLIM 5

/* A histogram in slots: n bucket counts (not cumulative), the overflow,
 * then the sum (nanoseconds or bytes). */
#define HIST_SLOTS(n) ((n) + 2)

/* Layout of a site. */
enum {
	S_REQ = 0,				     /* [proto][family][type] */
	S_DO = S_REQ + 2 * 2 * NTYPES,		     /* 1 */
	S_RESP = S_DO + 1,			     /* [plugin][rcode] */
	S_DUR = S_RESP + METRICS_PLUGINS * NRCODES,  /* [type] histograms */
	S_REQSZ = S_DUR + NTYPES * HIST_SLOTS(NDUR), /* [proto] */
	S_RESPSZ = S_REQSZ + 2 * HIST_SLOTS(NSIZE),  /* [proto] */
	S_CACHE = S_RESPSZ + 2 * HIST_SLOTS(NSIZE),  /* METRICS_C_* */
	S_AUTOPATH = S_CACHE + METRICS_C_END,	     /* 1 */
	SITE_SLOTS = S_AUTOPATH + 1,
};

/* Layout of an upstream. */
#define UP_RCODES 16
enum {
	U_DUR = 0,				     /* [rcode] histograms */
	U_HC = U_DUR + UP_RCODES * HIST_SLOTS(NDUR), /* 1 */
	U_CONN = U_HC + 1, /* [hit 0, miss 1][proto] */
	UP_SLOTS = U_CONN + 4,
};

static uint64_t dur_bound_ns[NDUR];
static double dur_bounds[NDUR], slim_bounds[NSLIM];
static double kube_bounds[KUBE_LATENCY_BUCKETS];

/* ---- the registry ---- */

struct site {
	char *server, *zone, *view, *cache_zones;
	char **plugins;
	size_t nplugins;
	uint32_t base;
	bool active;
};

struct upstream {
	char *proxy, *to;
	uint32_t base;
};

struct source {
	enum metrics_src_kind kind;
	const void *obj;
	char *server, *zones;
};

struct thread_block {
	uint64_t *c;
	struct thread_block *next;
};

struct registry {
	pthread_mutex_t lock;
	char *version, *revision;
	uint32_t next; /* first free slot */
	uint64_t *retired;
	struct thread_block *threads;
	struct site *sites;
	size_t nsites, capsites;
	struct upstream *ups;
	size_t nups, capups;
	struct source *srcs;
	size_t nsrcs, capsrcs;
	uint64_t reload_failed;
	char *rhash, *rvalue;
	uint64_t hbucket[NSLIM + 1], hcount, hfail;
	double hsum;
	double start_time;
};

static struct registry *reg;

static void *slots_new(void)
{
	void *p = mmap(NULL, (size_t)METRICS_SLOTS * sizeof(uint64_t),
		       PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static void slots_free(void *p)
{
	if (p)
		munmap(p, (size_t)METRICS_SLOTS * sizeof(uint64_t));
}

static void tables_init(void)
{
	memset(type_index, NTYPES - 1, sizeof(type_index));
	for (int i = 0; i < NTYPES - 1; i++)
		type_index[type_codes[i]] = (uint8_t)i;
	/* as Go's prometheus.ExponentialBuckets computes them */
	double d = 0.00025;
	for (int i = 0; i < NDUR; i++, d *= 2) {
		dur_bounds[i] = d;
		dur_bound_ns[i] = (uint64_t)250000 << i;
	}
	d = 0.00025;
	for (int i = 0; i < NSLIM; i++, d *= 10)
		slim_bounds[i] = d;
	d = 0.001;
	for (int i = 0; i < KUBE_LATENCY_BUCKETS; i++, d *= 2)
		kube_bounds[i] = d;
}

static double proc_start_time(void);

int metrics_init(const char *version, const char *revision)
{
	if (reg)
		return -EEXIST;
	struct registry *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	pthread_mutex_init(&r->lock, NULL);
	r->version = strdup(version ? version : "");
	r->revision = strdup(revision ? revision : "");
	r->retired = slots_new();
	if (!r->version || !r->revision || !r->retired) {
		free(r->version);
		free(r->revision);
		slots_free(r->retired);
		pthread_mutex_destroy(&r->lock);
		free(r);
		return -ENOMEM;
	}
	r->next = METRICS_G_END;
	r->start_time = proc_start_time();
	tables_init();
	reg = r;
	return 0;
}

static void site_clear(struct site *s)
{
	free(s->server);
	free(s->zone);
	free(s->view);
	free(s->cache_zones);
	for (size_t i = 0; i < s->nplugins; i++)
		free(s->plugins[i]);
	free(s->plugins);
}

void metrics_free(void)
{
	struct registry *r = reg;

	if (!r)
		return;
	reg = NULL;
	for (size_t i = 0; i < r->nsites; i++)
		site_clear(&r->sites[i]);
	for (size_t i = 0; i < r->nups; i++) {
		free(r->ups[i].proxy);
		free(r->ups[i].to);
	}
	for (size_t i = 0; i < r->nsrcs; i++) {
		free(r->srcs[i].server);
		free(r->srcs[i].zones);
	}
	while (r->threads) {
		struct thread_block *t = r->threads;
		r->threads = t->next;
		if (metrics_self == t->c)
			metrics_self = NULL;
		slots_free(t->c);
		free(t);
	}
	free(r->sites);
	free(r->ups);
	free(r->srcs);
	free(r->version);
	free(r->revision);
	free(r->rhash);
	free(r->rvalue);
	slots_free(r->retired);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

int metrics_thread_enter(void)
{
	struct registry *r = reg;

	if (!r || metrics_self)
		return 0;
	struct thread_block *t = calloc(1, sizeof(*t));
	if (!t || !(t->c = slots_new())) {
		free(t);
		return -ENOMEM;
	}
	pthread_mutex_lock(&r->lock);
	t->next = r->threads;
	r->threads = t;
	pthread_mutex_unlock(&r->lock);
	metrics_self = t->c;
	return 0;
}

void metrics_thread_exit(void)
{
	struct registry *r = reg;
	uint64_t *c = metrics_self;

	if (!r || !c)
		return;
	pthread_mutex_lock(&r->lock);
	for (struct thread_block **pp = &r->threads; *pp; pp = &(*pp)->next) {
		if ((*pp)->c != c)
			continue;
		struct thread_block *t = *pp;
		*pp = t->next;
		for (uint32_t i = 0; i < r->next; i++)
			if (c[i])
				r->retired[i] += c[i];
		free(t);
		break;
	}
	metrics_self = NULL;
	pthread_mutex_unlock(&r->lock);
	slots_free(c);
}

/* ---- counting ---- */

uint64_t metrics_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline unsigned dur_bucket(uint64_t ns)
{
	unsigned b = 0;

	while (b < NDUR && ns > dur_bound_ns[b])
		b++;
	return b;
}

/* The bucket of a size: the size bounds are whole numbers of bytes, so
 * compare integers (a DNS message is at most 65535 bytes). */
static inline unsigned size_bucket(size_t n)
{
	unsigned b = 0;

	while (b < NSIZE && n > size_bounds_int[b])
		b++;
	return b;
}

/* metrics_add with the thread's block already loaded. */
static inline void bump(uint64_t *c, uint32_t i, uint64_t v)
{
	__atomic_store_n(&c[i], __atomic_load_n(&c[i], __ATOMIC_RELAXED) + v,
			 __ATOMIC_RELAXED);
}

void metrics_dns(uint32_t site, bool tcp, int peer_family, uint16_t qtype,
		 bool do_bit, size_t reqlen, unsigned rcode,
		 enum metrics_plugin plugin, size_t resplen, uint64_t dur_ns)
{
	uint64_t *c = metrics_self;

	if (!c || !site)
		return;
	unsigned p = tcp ? 1 : 0, f = peer_family == AF_INET6 ? 1 : 0;
	unsigned t = qtype < 256 ? type_index[qtype] : NTYPES - 1;
	bump(c, site + S_REQ + (p * 2 + f) * NTYPES + t, 1);
	if (do_bit)
		bump(c, site + S_DO, 1);
	if (rcode >= NRCODES)
		rcode = NRCODES - 1;
	bump(c, site + S_RESP + (unsigned)plugin * NRCODES + rcode, 1);
	uint32_t h = site + S_DUR + t * HIST_SLOTS(NDUR);
	bump(c, h + dur_bucket(dur_ns), 1);
	bump(c, h + NDUR + 1, dur_ns);
	h = site + S_REQSZ + p * HIST_SLOTS(NSIZE);
	bump(c, h + size_bucket(reqlen), 1);
	bump(c, h + NSIZE + 1, reqlen);
	h = site + S_RESPSZ + p * HIST_SLOTS(NSIZE);
	bump(c, h + size_bucket(resplen), 1);
	bump(c, h + NSIZE + 1, resplen);
}

uint32_t metrics_cache_slot(uint32_t site, unsigned what)
{
	return site ? site + S_CACHE + what : 0;
}

uint32_t metrics_autopath_slot(uint32_t site)
{
	return site ? site + S_AUTOPATH : 0;
}

void metrics_proxy_answer(uint32_t up, unsigned rcode, uint64_t dur_ns)
{
	if (!metrics_self || !up)
		return;
	uint32_t h = up + U_DUR + (rcode & 15) * HIST_SLOTS(NDUR);
	metrics_add(h + dur_bucket(dur_ns), 1);
	metrics_add(h + NDUR + 1, dur_ns);
}

void metrics_proxy_hc_failed(uint32_t up)
{
	if (up)
		metrics_add(up + U_HC, 1);
}

void metrics_proxy_conn(uint32_t up, bool tcp, bool hit)
{
	if (up)
		metrics_add(up + U_CONN + (hit ? 0 : 2) + (tcp ? 1 : 0), 1);
}

/* ---- series ---- */

void metrics_server_label(const char *addr, unsigned port, char *out,
			  size_t outlen)
{
	if (!addr || !*addr)
		snprintf(out, outlen, "dns://:%u", port);
	else if (strchr(addr, ':'))
		snprintf(out, outlen, "dns://[%s]:%u", addr, port);
	else
		snprintf(out, outlen, "dns://%s:%u", addr, port);
}

void metrics_config_begin(void)
{
	if (!reg)
		return;
	for (size_t i = 0; i < reg->nsites; i++)
		reg->sites[i].active = false;
}

static bool same(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") == 0;
}

static int grow(void **arr, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return 0;
	size_t c = *cap ? *cap * 2 : 8;
	void *p = realloc(*arr, c * size);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = c;
	return 0;
}

/* Reserve n slots (registry locked); 0 when full. */
static uint32_t reserve(struct registry *r, uint32_t n)
{
	if (r->next + n > METRICS_SLOTS)
		return 0;
	uint32_t b = r->next;
	r->next += n;
	return b;
}

static int site_set(struct site *s, const struct metrics_site_conf *c)
{
	char *cz = c->cache_zones ? strdup(c->cache_zones) : NULL;
	char **pl = c->nplugins ? calloc(c->nplugins, sizeof(*pl)) : NULL;

	if ((c->cache_zones && !cz) || (c->nplugins && !pl))
		goto fail;
	for (size_t i = 0; i < c->nplugins; i++)
		if (!(pl[i] = strdup(c->plugins[i])))
			goto fail;
	free(s->cache_zones);
	for (size_t i = 0; i < s->nplugins; i++)
		free(s->plugins[i]);
	free(s->plugins);
	s->cache_zones = cz;
	s->plugins = pl;
	s->nplugins = c->nplugins;
	s->active = true;
	return 0;
fail:
	for (size_t i = 0; pl && i < c->nplugins; i++)
		free(pl[i]);
	free(pl);
	free(cz);
	return -ENOMEM;
}

uint32_t metrics_site(const struct metrics_site_conf *c)
{
	struct registry *r = reg;
	uint32_t base = 0;

	if (!r)
		return 0;
	pthread_mutex_lock(&r->lock);
	for (size_t i = 0; i < r->nsites; i++) {
		struct site *s = &r->sites[i];
		if (same(s->server, c->server) && same(s->zone, c->zone) &&
		    same(s->view, c->view)) {
			base = site_set(s, c) == 0 ? s->base : 0;
			goto out;
		}
	}
	if (grow((void **)&r->sites, &r->capsites, r->nsites,
		 sizeof(*r->sites)) < 0)
		goto out;
	struct site *s = &r->sites[r->nsites];
	memset(s, 0, sizeof(*s));
	s->server = strdup(c->server ? c->server : "");
	s->zone = strdup(c->zone ? c->zone : "");
	s->view = strdup(c->view ? c->view : "");
	if (!s->server || !s->zone || !s->view || site_set(s, c) < 0 ||
	    !(s->base = reserve(r, SITE_SLOTS))) {
		site_clear(s);
		goto out;
	}
	r->nsites++;
	base = s->base;
out:
	pthread_mutex_unlock(&r->lock);
	return base;
}

uint32_t metrics_upstream(const char *proxy_name, const char *to)
{
	struct registry *r = reg;
	uint32_t base = 0;

	if (!r)
		return 0;
	pthread_mutex_lock(&r->lock);
	for (size_t i = 0; i < r->nups; i++)
		if (same(r->ups[i].proxy, proxy_name) &&
		    same(r->ups[i].to, to)) {
			base = r->ups[i].base;
			goto out;
		}
	if (grow((void **)&r->ups, &r->capups, r->nups, sizeof(*r->ups)) < 0)
		goto out;
	struct upstream *u = &r->ups[r->nups];
	u->proxy = strdup(proxy_name ? proxy_name : "");
	u->to = strdup(to ? to : "");
	if (!u->proxy || !u->to || !(u->base = reserve(r, UP_SLOTS))) {
		free(u->proxy);
		free(u->to);
		goto out;
	}
	r->nups++;
	base = u->base;
out:
	pthread_mutex_unlock(&r->lock);
	return base;
}

int metrics_source_add(enum metrics_src_kind kind, const void *obj,
		       const char *server, const char *zones)
{
	struct registry *r = reg;
	int rc = -ENOMEM;

	if (!r)
		return 0;
	pthread_mutex_lock(&r->lock);
	if (grow((void **)&r->srcs, &r->capsrcs, r->nsrcs, sizeof(*r->srcs)) <
	    0)
		goto out;
	struct source *s = &r->srcs[r->nsrcs];
	s->kind = kind;
	s->obj = obj;
	s->server = strdup(server ? server : "");
	s->zones = strdup(zones ? zones : "");
	if (!s->server || !s->zones) {
		free(s->server);
		free(s->zones);
		goto out;
	}
	r->nsrcs++;
	rc = 0;
out:
	pthread_mutex_unlock(&r->lock);
	return rc;
}

void metrics_source_remove(const void *obj)
{
	struct registry *r = reg;

	if (!r)
		return;
	pthread_mutex_lock(&r->lock);
	for (size_t i = 0; i < r->nsrcs;) {
		if (r->srcs[i].obj != obj) {
			i++;
			continue;
		}
		free(r->srcs[i].server);
		free(r->srcs[i].zones);
		r->srcs[i] = r->srcs[--r->nsrcs];
	}
	pthread_mutex_unlock(&r->lock);
}

void metrics_reload_failed(void)
{
	if (reg)
		reg->reload_failed++;
}

void metrics_reload_version(const char *hash, const char *value)
{
	if (!reg)
		return;
	char *h = strdup(hash ? hash : ""), *v = strdup(value ? value : "");
	if (!h || !v) {
		free(h);
		free(v);
		return;
	}
	free(reg->rhash);
	free(reg->rvalue);
	reg->rhash = h;
	reg->rvalue = v;
}

void metrics_health_observe(double seconds)
{
	if (!reg)
		return;
	unsigned b = 0;
	while (b < NSLIM && seconds > slim_bounds[b])
		b++;
	reg->hbucket[b]++;
	reg->hcount++;
	reg->hsum += seconds;
}

void metrics_health_failed(void)
{
	if (reg)
		reg->hfail++;
}

/* ---- process ---- */

struct proc {
	double cpu, start;
	uint64_t vsize, rss;
	long open_fds, max_fds;
	bool ok;
};

static double boot_time(void)
{
	FILE *f = fopen("/proc/stat", "r");
	char line[256];
	double bt = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "btime %lf", &bt) == 1)
			break;
	fclose(f);
	return bt;
}

static void read_proc(struct proc *p)
{
	char buf[1024];
	FILE *f = fopen("/proc/self/stat", "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;

	memset(p, 0, sizeof(*p));
	if (f)
		fclose(f);
	buf[n] = 0;
	/* after the command name in parentheses: field 3 on */
	char *s = strrchr(buf, ')');
	unsigned long utime, stime;
	unsigned long long start, vsize;
	long rss;
	if (s && sscanf(s + 2,
			"%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu "
			"%*d %*d %*d %*d %*d %*d %llu %llu %ld",
			&utime, &stime, &start, &vsize, &rss) == 5) {
		double tck = (double)sysconf(_SC_CLK_TCK);
		p->cpu = (double)(utime + stime) / tck;
		p->start = boot_time() + (double)start / tck;
		p->vsize = vsize;
		p->rss = (uint64_t)rss * (uint64_t)sysconf(_SC_PAGESIZE);
		p->ok = true;
	}
	DIR *d = opendir("/proc/self/fd");
	p->open_fds = 0;
	if (d) {
		struct dirent *e;
		while ((e = readdir(d)))
			if (e->d_name[0] != '.')
				p->open_fds++;
		closedir(d);
		p->open_fds--; /* the directory's own descriptor */
	}
	struct rlimit rl;
	p->max_fds =
	    getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY
		? (long)rl.rlim_cur
		: -1;
}

static double proc_start_time(void)
{
	struct proc p;

	read_proc(&p);
	return p.start;
}

/* ---- exposition ---- */

struct out {
	struct evbuffer *b;
	int rc;
	const uint64_t *tot; /* summed slots */
	const char *name, *help, *type;
	bool begun;
};

int metrics_escape(struct evbuffer *out, const char *s)
{
	for (; s && *s; s++) {
		int rc;
		if (*s == '\\')
			rc = evbuffer_add(out, "\\\\", 2);
		else if (*s == '"')
			rc = evbuffer_add(out, "\\\"", 2);
		else if (*s == '\n')
			rc = evbuffer_add(out, "\\n", 2);
		else
			rc = evbuffer_add(out, s, 1);
		if (rc < 0)
			return -ENOMEM;
	}
	return 0;
}

/* A float the way Go's strconv.FormatFloat(v, 'g', -1, 64) writes the
 * common cases: the shortest form that reads back the same. */
static void fmt_double(char *buf, size_t len, double v)
{
	if (v == (double)(int64_t)v && v < 1e15 && v > -1e15) {
		snprintf(buf, len, "%lld", (long long)v);
		return;
	}
	for (int p = 1; p <= 17; p++) {
		snprintf(buf, len, "%.*g", p, v);
		if (strtod(buf, NULL) == v)
			return;
	}
}

static void put(struct out *o, const char *s)
{
	if (evbuffer_add(o->b, s, strlen(s)) < 0)
		o->rc = -ENOMEM;
}

static void family(struct out *o, const char *name, const char *type,
		   const char *help)
{
	o->name = name;
	o->type = type;
	o->help = help;
	o->begun = false;
}

static void header(struct out *o)
{
	if (o->begun)
		return;
	o->begun = true;
	if (evbuffer_add_printf(o->b, "# HELP %s %s\n# TYPE %s %s\n", o->name,
				o->help, o->name, o->type) < 0)
		o->rc = -ENOMEM;
}

/* name{k1="v1",...} value; labels: NULL-terminated pairs.  suffix and an
 * extra "le" label for histograms. */
static void sample(struct out *o, const char *suffix, const char *const *kv,
		   const char *le, const char *value)
{
	header(o);
	put(o, o->name);
	put(o, suffix);
	bool any = false;
	for (; kv && kv[0]; kv += 2) {
		put(o, any ? "," : "{");
		any = true;
		put(o, kv[0]);
		put(o, "=\"");
		if (metrics_escape(o->b, kv[1]) < 0)
			o->rc = -ENOMEM;
		put(o, "\"");
	}
	if (le) {
		put(o, any ? "," : "{");
		any = true;
		put(o, "le=\"");
		put(o, le);
		put(o, "\"");
	}
	put(o, any ? "} " : " ");
	put(o, value);
	put(o, "\n");
}

static void sample_u(struct out *o, const char *const *kv, uint64_t v)
{
	char b[32];

	snprintf(b, sizeof(b), "%llu", (unsigned long long)v);
	sample(o, "", kv, NULL, b);
}

static void sample_d(struct out *o, const char *const *kv, double v)
{
	char b[40];

	fmt_double(b, sizeof(b), v);
	sample(o, "", kv, NULL, b);
}

/* A histogram from n per-bucket counts (cumulative when cum) plus the
 * overflow (cnt: the total count), sum. */
static void histogram(struct out *o, const char *const *kv,
		      const double *bounds, const uint64_t *buckets, size_t n,
		      bool cum, uint64_t cnt, double sum)
{
	char le[40], v[40];
	uint64_t acc = 0;

	for (size_t i = 0; i < n; i++) {
		acc = cum ? buckets[i] : acc + buckets[i];
		fmt_double(le, sizeof(le), bounds[i]);
		snprintf(v, sizeof(v), "%llu", (unsigned long long)acc);
		sample(o, "_bucket", kv, le, v);
	}
	snprintf(v, sizeof(v), "%llu", (unsigned long long)cnt);
	sample(o, "_bucket", kv, "+Inf", v);
	fmt_double(v, sizeof(v), sum);
	sample(o, "_sum", kv, NULL, v);
	snprintf(v, sizeof(v), "%llu", (unsigned long long)cnt);
	sample(o, "_count", kv, NULL, v);
}

/* A histogram kept in slots at h (n buckets, overflow, sum in units of
 * 1/div); nothing when it has no observation. */
static void slot_histogram(struct out *o, const char *const *kv, uint32_t h,
			   const double *bounds, size_t n, double div)
{
	uint64_t cnt = 0;

	for (size_t i = 0; i <= n; i++)
		cnt += o->tot[h + i];
	if (!cnt)
		return;
	histogram(o, kv, bounds, &o->tot[h], n, false, cnt,
		  (double)o->tot[h + n + 1] / div);
}

static void render_dns(struct out *o, const struct registry *r)
{
	char fam[2][2] = {"1", "2"};

	family(o, "coredns_dns_requests_total", "counter",
	       "Counter of DNS requests made per zone, protocol and family.");
	for (size_t i = 0; i < r->nsites; i++) {
		const struct site *s = &r->sites[i];
		for (unsigned p = 0; p < 2; p++)
			for (unsigned f = 0; f < 2; f++)
				for (unsigned t = 0; t < NTYPES; t++) {
					uint64_t v =
					    o->tot[s->base + S_REQ +
						   (p * 2 + f) * NTYPES + t];
					const char *kv[] = {
					    "server", s->server,
					    "zone",   s->zone,
					    "view",   s->view,
					    "proto",  proto_names[p],
					    "family", fam[f],
					    "type",   type_names[t],
					    NULL};
					if (v)
						sample_u(o, kv, v);
				}
	}
	family(o, "coredns_dns_do_requests_total", "counter",
	       "Counter of DNS requests with DO bit set per zone.");
	for (size_t i = 0; i < r->nsites; i++) {
		const struct site *s = &r->sites[i];
		const char *kv[] = {"server", s->server, "view", s->view,
				    "zone",   s->zone,	 NULL};
		if (o->tot[s->base + S_DO])
			sample_u(o, kv, o->tot[s->base + S_DO]);
	}
	family(o, "coredns_dns_responses_total", "counter",
	       "Counter of response status codes.");
	for (size_t i = 0; i < r->nsites; i++) {
		const struct site *s = &r->sites[i];
		for (unsigned p = 0; p < METRICS_PLUGINS; p++)
			for (unsigned c = 0; c < NRCODES; c++) {
				uint64_t v =
				    o->tot[s->base + S_RESP + p * NRCODES + c];
				const char *kv[] = {"server", s->server,
						    "zone",   s->zone,
						    "view",   s->view,
						    "rcode",  rcode_names[c],
						    "plugin", plugin_names[p],
						    NULL};
				if (v)
					sample_u(o, kv, v);
			}
	}
	family(o, "coredns_dns_request_duration_seconds", "histogram",
	       "Histogram of the time (in seconds) each request took per "
	       "zone.");
	for (size_t i = 0; i < r->nsites; i++) {
		const struct site *s = &r->sites[i];
		for (unsigned t = 0; t < NTYPES; t++) {
			const char *kv[] = {"server", s->server,     "zone",
					    s->zone,  "view",	     s->view,
					    "type",   type_names[t], NULL};
			slot_histogram(o, kv,
				       s->base + S_DUR + t * HIST_SLOTS(NDUR),
				       dur_bounds, NDUR, 1e9);
		}
	}
	static const struct {
		const char *name, *help;
		uint32_t off;
	} sz[2] = {
	    {"coredns_dns_request_size_bytes",
	     "Size of the EDNS0 UDP buffer in bytes (64K for TCP) per zone "
	     "and protocol.",
	     S_REQSZ},
	    {"coredns_dns_response_size_bytes",
	     "Size of the returned response in bytes.", S_RESPSZ},
	};
	for (int k = 0; k < 2; k++) {
		family(o, sz[k].name, "histogram", sz[k].help);
		for (size_t i = 0; i < r->nsites; i++) {
			const struct site *s = &r->sites[i];
			for (unsigned p = 0; p < 2; p++) {
				const char *kv[] = {
				    "server", s->server,      "zone",
				    s->zone,  "view",	      s->view,
				    "proto",  proto_names[p], NULL};
				slot_histogram(o, kv,
					       s->base + sz[k].off +
						   p * HIST_SLOTS(NSIZE),
					       size_bounds, NSIZE, 1);
			}
		}
	}
	family(o, "coredns_plugin_enabled", "gauge",
	       "A metric that indicates whether a plugin is enabled on per "
	       "server and zone basis.");
	for (size_t i = 0; i < r->nsites; i++) {
		const struct site *s = &r->sites[i];
		for (size_t p = 0; s->active && p < s->nplugins; p++) {
			const char *kv[] = {"server", s->server,     "zone",
					    s->zone,  "view",	     s->view,
					    "name",   s->plugins[p], NULL};
			sample_u(o, kv, 1);
		}
	}
}

static void render_cache(struct out *o, const struct registry *r)
{
	static const char *const kinds[2] = {"success", "denial"};
	static const struct {
		const char *name, *help;
		unsigned what;
		bool typed;
	} fams[] = {
	    {"coredns_cache_requests_total", "The count of cache requests.",
	     METRICS_C_REQUESTS, false},
	    {"coredns_cache_hits_total", "The count of cache hits.",
	     METRICS_C_HITS, true},
	    {"coredns_cache_misses_total",
	     "The count of cache misses. Deprecated, derive misses from cache "
	     "hits/requests counters.",
	     METRICS_C_MISSES, false},
	    {"coredns_cache_prefetch_total",
	     "The number of times the cache has prefetched a cached item.",
	     METRICS_C_PREFETCH, false},
	    {"coredns_cache_drops_total",
	     "The number responses that are not cached, because the reply is "
	     "malformed.",
	     METRICS_C_DROPS, false},
	    {"coredns_cache_served_stale_total",
	     "The number of requests served from stale cache entries.",
	     METRICS_C_STALE, false},
	    {"coredns_cache_evictions_total", "The count of cache evictions.",
	     METRICS_C_EVICTIONS, true},
	};

	family(o, "coredns_cache_entries", "gauge",
	       "The number of elements in the cache.");
	for (size_t i = 0; i < r->nsrcs; i++) {
		const struct source *s = &r->srcs[i];
		if (s->kind != METRICS_SRC_CACHE)
			continue;
		for (unsigned k = 0; k < 2; k++) {
			const char *kv[] = {"server", s->server, "type",
					    kinds[k], "zones",	 s->zones,
					    "view",   "",	 NULL};
			sample_u(o, kv, cache_count(s->obj, k + 1));
		}
	}
	for (size_t f = 0; f < sizeof(fams) / sizeof(fams[0]); f++) {
		family(o, fams[f].name, "counter", fams[f].help);
		/* several sites (keys) of one server share the series */
		for (size_t i = 0; i < r->nsites; i++) {
			const struct site *s = &r->sites[i];
			if (!s->cache_zones)
				continue;
			bool seen = false;
			for (size_t j = 0; j < i && !seen; j++)
				seen = r->sites[j].cache_zones &&
				       same(r->sites[j].server, s->server) &&
				       same(r->sites[j].cache_zones,
					    s->cache_zones) &&
				       same(r->sites[j].view, s->view);
			if (seen)
				continue;
			for (unsigned k = 0; k < (fams[f].typed ? 2u : 1u);
			     k++) {
				uint64_t v = 0;
				for (size_t j = i; j < r->nsites; j++) {
					const struct site *t = &r->sites[j];
					if (t->cache_zones &&
					    same(t->server, s->server) &&
					    same(t->cache_zones,
						 s->cache_zones) &&
					    same(t->view, s->view))
						v += o->tot[t->base + S_CACHE +
							    fams[f].what + k];
				}
				const char *kvt[] = {
				    "server", s->server, "type",
				    kinds[k], "zones",	 s->cache_zones,
				    "view",   s->view,	 NULL};
				const char *kvu[] = {"server", s->server,
						     "zones",  s->cache_zones,
						     "view",   s->view,
						     NULL};
				sample_u(o, fams[f].typed ? kvt : kvu, v);
			}
		}
	}
}

/* coredns_autopath_success_total{server}: the sites of one server
 * summed, shown once it counted. */
static void render_autopath(struct out *o, const struct registry *r)
{
	family(o, "coredns_autopath_success_total", "counter",
	       "Counter of requests that did autopath.");
	for (size_t i = 0; i < r->nsites; i++) {
		const struct site *s = &r->sites[i];
		bool seen = false;
		for (size_t j = 0; j < i && !seen; j++)
			seen = same(r->sites[j].server, s->server);
		if (seen)
			continue;
		uint64_t v = 0;
		for (size_t j = i; j < r->nsites; j++)
			if (same(r->sites[j].server, s->server))
				v += o->tot[r->sites[j].base + S_AUTOPATH];
		const char *kv[] = {"server", s->server, NULL};
		if (v)
			sample_u(o, kv, v);
	}
}

static void render_proxy(struct out *o, const struct registry *r)
{
	static const char *const protos[2] = {"udp", "tcp"};

	family(o, "coredns_proxy_request_duration_seconds", "histogram",
	       "Histogram of the time each request took.");
	for (size_t i = 0; i < r->nups; i++) {
		const struct upstream *u = &r->ups[i];
		for (unsigned c = 0; c < UP_RCODES; c++) {
			const char *kv[] = {
			    "proxy_name", u->proxy,	  "to", u->to,
			    "rcode",	  rcode_names[c], NULL};
			slot_histogram(o, kv,
				       u->base + U_DUR + c * HIST_SLOTS(NDUR),
				       dur_bounds, NDUR, 1e9);
		}
	}
	family(o, "coredns_proxy_healthcheck_failures_total", "counter",
	       "Counter of the number of failed healthchecks.");
	for (size_t i = 0; i < r->nups; i++) {
		const struct upstream *u = &r->ups[i];
		const char *kv[] = {"proxy_name", u->proxy, "to", u->to, NULL};
		sample_u(o, kv, o->tot[u->base + U_HC]);
	}
	static const char *const cn[2] = {"coredns_proxy_conn_cache_hits_total",
					  "coredns_proxy_conn_cache_misses_"
					  "total"};
	static const char *const ch[2] = {
	    "Counter of connection cache hits per upstream and protocol.",
	    "Counter of connection cache misses per upstream and protocol."};
	for (unsigned m = 0; m < 2; m++) {
		family(o, cn[m], "counter", ch[m]);
		for (size_t i = 0; i < r->nups; i++) {
			const struct upstream *u = &r->ups[i];
			for (unsigned p = 0; p < 2; p++) {
				uint64_t v =
				    o->tot[u->base + U_CONN + m * 2 + p];
				const char *kv[] = {
				    "proxy_name", u->proxy,  "to", u->to,
				    "proto",	  protos[p], NULL};
				if (v)
					sample_u(o, kv, v);
			}
		}
	}
	family(o, "coredns_forward_healthcheck_broken_total", "counter",
	       "Counter of the number of complete failures of the "
	       "healthchecks.");
	sample_u(o, NULL, o->tot[METRICS_G_FWD_BROKEN]);
	family(o, "coredns_forward_max_concurrent_rejects_total", "counter",
	       "Counter of the number of queries rejected because the "
	       "concurrent queries were at maximum.");
	sample_u(o, NULL, o->tot[METRICS_G_FWD_REJECTS]);
}

/* The primary zone of a kube as text, "cluster.local." */
static void kube_zone_name(const struct kube *k, char *out, size_t len)
{
	size_t zl;
	const uint8_t *z = kube_primary(k, &zl);

	out[0] = 0;
	if (z)
		dname_to_str(z, out, len);
}

static void render_kube(struct out *o, const struct registry *r)
{
	static const char *const kinds[4] = {"Service", "EndpointSlice",
					     "Namespace", "Pod"};
	static const enum decode_kind dk[4] = {DECODE_SERVICE, DECODE_SLICE,
					       DECODE_NAMESPACE, DECODE_POD};
	struct kube_latency lat = {0};
	bool any = false;
	uint64_t objs[4] = {0};

	for (size_t i = 0; i < r->nsrcs; i++) {
		if (r->srcs[i].kind != METRICS_SRC_KUBE)
			continue;
		const struct kube_latency *l = kube_latency(r->srcs[i].obj);
		lat.count += l->count;
		lat.sum += l->sum;
		for (int b = 0; b < KUBE_LATENCY_BUCKETS; b++)
			lat.bucket[b] += l->bucket[b];
		for (int k = 0; k < 4; k++)
			objs[k] += kube_count(r->srcs[i].obj, dk[k]);
		any = true;
	}
	if (!any)
		return;
	family(o, "coredns_kubernetes_dns_programming_duration_seconds",
	       "histogram",
	       "Histogram of the time (in seconds) it took to program a dns "
	       "instance.");
	const char *kv[] = {"service_kind", "headless_with_selector", NULL};
	histogram(o, kv, kube_bounds, lat.bucket, KUBE_LATENCY_BUCKETS, true,
		  lat.count, lat.sum);

	family(o, "clusterdns_objects", "gauge",
	       "Kubernetes objects kept, per kind (Pods: running pods' "
	       "addresses with pods verified).");
	for (int k = 0; k < 4; k++) {
		const char *kk[] = {"kind", kinds[k], NULL};
		sample_u(o, kk, objs[k]);
	}
	family(o, "clusterdns_zone_serial", "gauge",
	       "The SOA serial of the cluster zone (the time of its last "
	       "change).");
	for (size_t i = 0; i < r->nsrcs; i++) {
		if (r->srcs[i].kind != METRICS_SRC_KUBE)
			continue;
		char zn[256];
		kube_zone_name(r->srcs[i].obj, zn, sizeof(zn));
		const char *kz[] = {"zone", zn, NULL};
		sample_u(o, kz, zone_serial(kube_zone(r->srcs[i].obj)));
	}
}

static void render_apisrc(struct out *o, const struct registry *r)
{
	struct apisrc_res_info ri[APISRC_MAX_RES];

	family(o, "clusterdns_watch_event_age_seconds", "gauge",
	       "Seconds since the watch of a kind last delivered something "
	       "(an event or a bookmark).");
	for (size_t i = 0; i < r->nsrcs; i++) {
		if (r->srcs[i].kind != METRICS_SRC_APISRC)
			continue;
		size_t n = apisrc_resources(r->srcs[i].obj, ri, APISRC_MAX_RES);
		for (size_t k = 0; k < n; k++) {
			const char *kv[] = {"kind", ri[k].kind, NULL};
			if (ri[k].seen)
				sample_d(o, kv, ri[k].age_ms / 1000.0);
		}
	}
	family(o, "clusterdns_relists_total", "counter",
	       "Full relists of a kind from the API, by cause.");
	for (size_t i = 0; i < r->nsrcs; i++) {
		if (r->srcs[i].kind != METRICS_SRC_APISRC)
			continue;
		size_t n = apisrc_resources(r->srcs[i].obj, ri, APISRC_MAX_RES);
		for (size_t k = 0; k < n; k++)
			for (int c = 0; c < APISRC_RELIST_CAUSES; c++) {
				const char *kv[] = {"kind", ri[k].kind, "cause",
						    apisrc_relist_cause_name(c),
						    NULL};
				sample_u(o, kv, ri[k].relists[c]);
			}
	}
}

static void render_tcp(struct out *o)
{
	static const char *const refused[METRICS_TCP_REFUSALS] = {
	    [METRICS_TCP_CLIENT_LIMIT] = "client_limit",
	    [METRICS_TCP_TOTAL_LIMIT] = "total_limit",
	};
	static const char *const closed[METRICS_TCP_CLOSES] = {
	    [METRICS_TCP_EVICTED] = "evicted",
	    [METRICS_TCP_IDLE] = "idle",
	    [METRICS_TCP_SLOW] = "slow",
	    [METRICS_TCP_UNREAD] = "unread",
	};

	family(o, "clusterdns_tcp_refused_total", "counter",
	       "TCP connections closed at once when accepted, by the limit "
	       "they were over.");
	for (int i = 0; i < METRICS_TCP_REFUSALS; i++) {
		const char *kv[] = {"reason", refused[i], NULL};
		sample_u(o, kv, o->tot[METRICS_G_TCP_REFUSED + i]);
	}
	family(o, "clusterdns_tcp_closed_total", "counter",
	       "TCP connections the server closed, by reason: evicted for a "
	       "new one, or idle timeout when idle, inside a partial query "
	       "(slow) or with answers the client did not read (unread).");
	for (int i = 0; i < METRICS_TCP_CLOSES; i++) {
		const char *kv[] = {"reason", closed[i], NULL};
		sample_u(o, kv, o->tot[METRICS_G_TCP_CLOSED + i]);
	}
}

static void render_misc(struct out *o, const struct registry *r)
{
	family(o, "coredns_build_info", "gauge",
	       "A metric with a constant '1' value labeled by version, "
	       "revision, and goversion from which CoreDNS was built.");
	const char *kb[] = {"version",	 r->version, "revision", r->revision,
			    "goversion", "none",     NULL};
	sample_u(o, kb, 1);
	family(o, "coredns_panics_total", "counter",
	       "A metrics that counts the number of panics.");
	sample_u(o, NULL, o->tot[METRICS_G_PANICS]);
	family(o, "coredns_reload_failed_total", "counter",
	       "Counter of the number of failed reload attempts.");
	sample_u(o, NULL, r->reload_failed);
	family(o, "coredns_reload_version_info", "gauge",
	       "A metric with a constant '1' value labeled by hash, and value "
	       "which type of hash generated.");
	if (r->rhash) {
		const char *kv[] = {"hash", r->rhash, "value", r->rvalue, NULL};
		sample_u(o, kv, 1);
	}
	family(o, "coredns_health_request_duration_seconds", "histogram",
	       "Histogram of the time (in seconds) each request took.");
	if (r->hcount)
		histogram(o, NULL, slim_bounds, r->hbucket, NSLIM, false,
			  r->hcount, r->hsum);
	family(o, "coredns_health_request_failures_total", "counter",
	       "The number of times the health check failed.");
	sample_u(o, NULL, r->hfail);

	struct proc p;
	read_proc(&p);
	if (!p.ok)
		return;
	family(o, "process_cpu_seconds_total", "counter",
	       "Total user and system CPU time spent in seconds.");
	sample_d(o, NULL, p.cpu);
	family(o, "process_open_fds", "gauge",
	       "Number of open file descriptors.");
	sample_u(o, NULL, (uint64_t)p.open_fds);
	if (p.max_fds >= 0) {
		family(o, "process_max_fds", "gauge",
		       "Maximum number of open file descriptors.");
		sample_u(o, NULL, (uint64_t)p.max_fds);
	}
	family(o, "process_virtual_memory_bytes", "gauge",
	       "Virtual memory size in bytes.");
	sample_u(o, NULL, p.vsize);
	family(o, "process_resident_memory_bytes", "gauge",
	       "Resident memory size in bytes.");
	sample_u(o, NULL, p.rss);
	family(o, "process_start_time_seconds", "gauge",
	       "Start time of the process since unix epoch in seconds.");
	sample_d(o, NULL, r->start_time);
}

int metrics_render(struct evbuffer *b)
{
	struct registry *r = reg;
	struct out o = {.b = b};

	if (!r)
		return -ENOENT;
	pthread_mutex_lock(&r->lock);
	uint64_t *tot = calloc(r->next, sizeof(*tot));
	if (!tot) {
		pthread_mutex_unlock(&r->lock);
		return -ENOMEM;
	}
	memcpy(tot, r->retired, r->next * sizeof(*tot));
	for (struct thread_block *t = r->threads; t; t = t->next)
		for (uint32_t i = 0; i < r->next; i++)
			tot[i] += __atomic_load_n(&t->c[i], __ATOMIC_RELAXED);
	o.tot = tot;
	render_misc(&o, r);
	render_dns(&o, r);
	render_cache(&o, r);
	render_autopath(&o, r);
	render_proxy(&o, r);
	render_tcp(&o);
	render_kube(&o, r);
	render_apisrc(&o, r);
	pthread_mutex_unlock(&r->lock);
	free(tot);
	return o.rc;
}
