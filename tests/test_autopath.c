/*
 * test_autopath.c -- the autopath directive (arguments, messages, the
 * warning without `pods verified`), the server's search domains from a
 * resolv.conf, the candidate names, the composed CNAME answer, and the
 * walk through the query path: a pod's first search-path query answered
 * under the name that exists, a client that is no pod answered plainly,
 * and a reused pod address, a deleted pod and a finished one.
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

#include <arpa/inet.h>
#include <cmocka.h>
#include <ldns/ldns.h>
#include <netinet/in.h>
#include <urcu.h>

#include "server/autopath.h"
#include "server/config.h"
#include "server/packet.h"
#include "server/query.h"
#include "zones/dname.h"
#include "zones/kube.h"
#include "zones/objects.h"
#include "zones/store.h"

#define T_A 1
#define T_CNAME 5
#define T_SOA 6
#define T_TXT 16
#define T_AAAA 28

/* ---- the directive ---- */

static struct config *load(const char *text, char *err, size_t errlen)
{
	struct config *cfg = NULL;

	err[0] = 0;
	if (config_load_text("Corefile", text, 53, &cfg, err, errlen) < 0)
		return NULL;
	return cfg;
}

static void expect_err(const char *text, const char *want)
{
	char err[512];
	struct config *cfg = load(text, err, sizeof(err));

	assert_null(cfg);
	if (!strstr(err, want))
		fail_msg("error \"%s\" does not say \"%s\"", err, want);
}

static void test_setup(void **state)
{
	char err[512];
	struct config *cfg;

	(void)state;
	cfg = load("cluster.local:53 other.local:53 {\n"
		   "  autopath @kubernetes\n"
		   "  kubernetes cluster.local { pods verified }\n"
		   "}\n",
		   err, sizeof(err));
	assert_non_null(cfg);
	const struct autopath_conf *a = cfg->blocks[0].autopath;
	assert_non_null(a);
	/* the block's keys by default */
	assert_int_equal(a->nzones, 2);
	assert_string_equal(a->zones[0], "cluster.local");
	assert_string_equal(a->zones[1], "other.local");
	assert_int_equal(a->line, 2);
	assert_int_equal(cfg->nwarnings, 0);
	config_free(cfg);

	cfg = load(". {\n"
		   "  kubernetes cluster.local { pods verified }\n"
		   "  autopath Cluster.Local. @kubernetes\n"
		   "}\n",
		   err, sizeof(err));
	assert_non_null(cfg);
	a = cfg->blocks[0].autopath;
	assert_int_equal(a->nzones, 1);
	assert_string_equal(a->zones[0], "cluster.local");
	config_free(cfg);
}

static void test_setup_errors(void **state)
{
	(void)state;
	expect_err(". {\n  autopath\n}\n",
		   "Corefile:2 - Error during setup: autopath: no "
		   "resolv-conf specified");
	expect_err(". {\n  autopath my-resolv.conf\n}\n",
		   "autopath: a resolv.conf file is not supported, only "
		   "@kubernetes: my-resolv.conf");
	expect_err(". {\n  autopath @erratic\n}\n",
		   "autopath: erratic does not implement the AutoPather "
		   "interface");
	expect_err(". {\n  autopath @kubernetes\n  autopath @kubernetes\n}\n",
		   "Corefile:3 - Error during setup: autopath: this plugin "
		   "can only be used once per Server Block");
	expect_err(". {\n  autopath @kubernetes {\n    x\n  }\n}\n",
		   "Corefile:2");
	expect_err(". {\n  autopath 10.0.0.0/33 @kubernetes\n}\n",
		   "Corefile:2 - Error during setup: autopath:");
}

static void test_setup_warning(void **state)
{
	static const char *const texts[] = {
	    ". {\n  autopath @kubernetes\n}\n",
	    ". {\n  autopath @kubernetes\n  kubernetes cluster.local\n}\n",
	    ". {\n  autopath @kubernetes\n"
	    "  kubernetes cluster.local { pods insecure }\n}\n",
	};
	char err[512];

	(void)state;
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		struct config *cfg = load(texts[i], err, sizeof(err));
		assert_non_null(cfg);
		assert_int_equal(cfg->nwarnings, 1);
		assert_non_null(
		    strstr(cfg->warnings[0], "plugin/autopath: Corefile:2 - "));
		assert_non_null(strstr(cfg->warnings[0], "pods verified"));
		config_free(cfg);
	}
}

static void test_plugins_list(void **state)
{
	size_t at = 0, cache = 0, kube = 0;

	(void)state;
	for (size_t i = 0; config_directives[i]; i++) {
		if (strcmp(config_directives[i], "autopath") == 0)
			at = i;
		if (strcmp(config_directives[i], "cache") == 0)
			cache = i;
		if (strcmp(config_directives[i], "kubernetes") == 0)
			kube = i;
	}
	/* pipeline order: after cache, before kubernetes */
	assert_true(cache > 0 && at > cache && kube > at);
}

/* ---- the search path ---- */

static char *tmpfile_with(const char *text)
{
	static char path[64];
	int fd;

	snprintf(path, sizeof(path), "/tmp/test_autopath.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void assert_search(const struct autopath *ap, size_t i, const char *want)
{
	char buf[1100];

	assert_true(i < ap->nsearch);
	packet_name_str(ap->search[i], buf, sizeof(buf));
	assert_string_equal(buf, want);
}

static void test_read_search(void **state)
{
	struct autopath ap;
	char *p;

	(void)state;
	memset(&ap, 0, sizeof(ap));
	p = tmpfile_with(
	    "nameserver 10.0.0.10\n"
	    "search old.example\n"
	    "options ndots:5\n"
	    "domain Corp.Example.\n"
	    "search Corp.Example. b.example # comment c.example\n");
	assert_int_equal(autopath_read_search(&ap, p), 2);
	assert_search(&ap, 0, "corp.example.");
	assert_search(&ap, 1, "b.example.");
	unlink(p);

	p = tmpfile_with("search a1 a2 a3 a4 a5 a6 a7 a8\n");
	assert_int_equal(autopath_read_search(&ap, p), AUTOPATH_MAX_SEARCH);
	assert_search(&ap, 5, "a6.");
	unlink(p);

	p = tmpfile_with("domain only.example\n");
	assert_int_equal(autopath_read_search(&ap, p), 1);
	assert_search(&ap, 0, "only.example.");
	unlink(p);

	assert_int_equal(autopath_read_search(&ap, "/nonexistent/resolv.conf"),
			 -ENOENT);
	assert_int_equal(ap.nsearch, 0);
}

static size_t wire(const char *name, uint8_t *out)
{
	int n = dname_from_str(name, out);

	assert_true(n > 0);
	return (size_t)n;
}

static void test_split(void **state)
{
	uint8_t n[256], z[256];
	size_t alen = wire("cluster.local", z), nsoff = 0;
	size_t len = wire("example.com.prod.svc.cluster.local", n);

	(void)state;
	assert_int_equal(autopath_split(n, len, alen, &nsoff), 12);
	assert_int_equal(nsoff, 12);
	assert_int_equal(n[nsoff], 4);
	assert_memory_equal(n + nsoff + 1, "prod", 4);

	len = wire("web.prod.svc.cluster.local", n);
	assert_int_equal(autopath_split(n, len, alen, &nsoff), 4);

	/* no BASE, another subtree, too few labels, a zone of its own */
	static const char *const no[] = {
	    "prod.svc.cluster.local", "web.prod.pod.cluster.local",
	    "x.svc.cluster.local",    "svc.cluster.local",
	    "cluster.local",	      "a.prod.svcx.cluster.local",
	};
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		len = wire(no[i], n);
		assert_int_equal(autopath_split(n, len, alen, &nsoff), 0);
	}
	len = wire("a.b.svc.cluster.local", n);
	assert_int_equal(autopath_split(n, len, len + 1, &nsoff), 0);
}

static void test_candidates(void **state)
{
	struct autopath ap;
	uint8_t q[256], out[256];
	char buf[1100];
	size_t alen = wire("cluster.local", out);
	size_t len = wire("Example.COM.prod.svc.Cluster.Local", q);
	static const char *const want[] = {
	    NULL,
	    "Example.COM.svc.cluster.local.",
	    "Example.COM.cluster.local.",
	    "Example.COM.corp.example.",
	    "Example.COM.",
	};

	(void)state;
	memset(&ap, 0, sizeof(ap));
	ap.slen[0] = wire("corp.example", ap.search[0]);
	ap.nsearch = 1;
	assert_int_equal(autopath_ncand(&ap), 5);
	for (size_t i = 1; i < 5; i++) {
		size_t n = autopath_candidate(&ap, q, len, 12, alen, i, out);
		assert_true(n > 0);
		assert_int_equal(n, dname_len(out));
		packet_name_str(out, buf, sizeof(buf));
		assert_string_equal(buf, want[i]);
	}
	assert_int_equal(autopath_candidate(&ap, q, len, 12, alen, 5, out), 0);

	/* a candidate longer than a name can be is left out */
	char longname[300] = "";
	for (int i = 0; i < 3; i++)
		strcat(longname,
		       "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		       "aaaaaaaaaaa.");
	strcat(longname, "ns.svc.cluster.local");
	len = wire(longname, q);
	ap.slen[0] = wire("a-very-long-search-domain-for-this-one-test."
			  "corp.example.internal",
			  ap.search[0]);
	assert_true(autopath_candidate(&ap, q, len, 3 * 64, alen, 1, out) > 0);
	assert_int_equal(autopath_candidate(&ap, q, len, 3 * 64, alen, 3, out),
			 0);
}

/* ---- the answer ---- */

/* A parsed query for name: the request in req. */
static void mk_query(struct packet_query *q, uint8_t *req, size_t *len,
		     const char *name, uint16_t type, bool edns)
{
	ldns_pkt *p = NULL;
	uint8_t *w = NULL;

	assert_int_equal(ldns_pkt_query_new_frm_str(&p, name, type,
						    LDNS_RR_CLASS_IN, LDNS_RD),
			 LDNS_STATUS_OK);
	ldns_pkt_set_id(p, 0x1234);
	if (edns)
		ldns_pkt_set_edns_udp_size(p, 1232);
	assert_int_equal(ldns_pkt2wire(&w, p, len), LDNS_STATUS_OK);
	memcpy(req, w, *len);
	free(w);
	ldns_pkt_free(p);
	assert_int_equal(packet_parse(req, *len, q), PACKET_OK);
}

/* A response for name with the records given as zone-file lines. */
static size_t mk_answer(uint8_t *out, const char *name, uint16_t type,
			ldns_pkt_rcode rcode, bool aa, const char *const *an,
			const char *const *ns)
{
	ldns_pkt *p = NULL;
	uint8_t *w = NULL;
	size_t len;

	assert_int_equal(
	    ldns_pkt_query_new_frm_str(&p, name, type, LDNS_RR_CLASS_IN, 0),
	    LDNS_STATUS_OK);
	ldns_pkt_set_qr(p, true);
	ldns_pkt_set_aa(p, aa);
	ldns_pkt_set_rcode(p, rcode);
	for (size_t s = 0; s < 2; s++) {
		const char *const *l = s ? ns : an;
		for (; l && *l; l++) {
			ldns_rr *rr = NULL;
			assert_int_equal(
			    ldns_rr_new_frm_str(&rr, *l, 0, NULL, NULL),
			    LDNS_STATUS_OK);
			ldns_pkt_push_rr(
			    p, s ? LDNS_SECTION_AUTHORITY : LDNS_SECTION_ANSWER,
			    rr);
		}
	}
	assert_int_equal(ldns_pkt2wire(&w, p, &len), LDNS_STATUS_OK);
	memcpy(out, w, len);
	free(w);
	ldns_pkt_free(p);
	return len;
}

static void assert_rr(const ldns_rr_list *l, size_t i, const char *want)
{
	char *s;

	assert_true(i < ldns_rr_list_rr_count(l));
	s = ldns_rr2str(ldns_rr_list_rr(l, i));
	s[strcspn(s, "\n")] = 0;
	for (char *t = s; *t; t++)
		if (*t == '\t')
			*t = ' ';
	if (strcmp(s, want) != 0)
		fail_msg("record \"%s\", want \"%s\"", s, want);
	free(s);
}

static void test_compose(void **state)
{
	static const char *const an[] = {
	    "example.com.svc.cluster.local. 30 IN A 10.0.0.1",
	    "example.com.svc.cluster.local. 30 IN A 10.0.0.2", NULL};
	static const char *const soa[] = {
	    "cluster.local. 5 IN SOA ns.dns.cluster.local. "
	    "hostmaster.cluster.local. 1 7200 1800 86400 5",
	    NULL};
	uint8_t req[512], ans[4096], out[4096], cand[256];
	struct packet_query q;
	ldns_pkt *p = NULL;
	size_t rl, al, n;
	size_t cl = wire("example.com.svc.cluster.local", cand);

	(void)state;
	mk_query(&q, req, &rl, "Example.com.prod.svc.cluster.local.", T_A,
		 true);
	al = mk_answer(ans, "example.com.svc.cluster.local.", T_A,
		       LDNS_RCODE_NOERROR, true, an, NULL);
	n = autopath_compose(&q, 1232, cand, cl, NULL, 0, ans, al, 5, out,
			     sizeof(out));
	assert_true(n > 0);
	assert_int_equal(ldns_wire2pkt(&p, out, n), LDNS_STATUS_OK);
	assert_int_equal(ldns_pkt_id(p), 0x1234);
	assert_true(ldns_pkt_qr(p) && ldns_pkt_aa(p) && ldns_pkt_rd(p));
	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	/* the question in the client's case */
	assert_memory_equal(out + 12, req + 12, q.qname_len + 4);
	assert_int_equal(ldns_pkt_ancount(p), 3);
	assert_rr(ldns_pkt_answer(p), 0,
		  "Example.com.prod.svc.cluster.local. 30 IN CNAME "
		  "example.com.svc.cluster.local.");
	assert_rr(ldns_pkt_answer(p), 1,
		  "example.com.svc.cluster.local. 30 IN A 10.0.0.1");
	assert_rr(ldns_pkt_answer(p), 2,
		  "example.com.svc.cluster.local. 30 IN A 10.0.0.2");
	assert_true(ldns_pkt_edns(p));
	/* the address records' owner points at the CNAME's target */
	size_t at = 12 + q.qname_len + 4 + 12 + cl;
	assert_int_equal(out[at], 0xc0);
	assert_int_equal(out[at + 1], 12 + q.qname_len + 4 + 12);
	ldns_pkt_free(p);

	/* NODATA: the CNAME (the SOA's TTL) and the SOA */
	mk_query(&q, req, &rl, "example.com.prod.svc.cluster.local.", T_AAAA,
		 false);
	al = mk_answer(ans, "example.com.svc.cluster.local.", T_AAAA,
		       LDNS_RCODE_NOERROR, false, NULL, soa);
	n = autopath_compose(&q, 1232, cand, cl, NULL, 0, ans, al, 9, out,
			     sizeof(out));
	assert_int_equal(ldns_wire2pkt(&p, out, n), LDNS_STATUS_OK);
	assert_false(ldns_pkt_aa(p));
	assert_false(ldns_pkt_edns(p));
	assert_int_equal(ldns_pkt_ancount(p), 1);
	assert_int_equal(ldns_pkt_nscount(p), 1);
	assert_rr(ldns_pkt_answer(p), 0,
		  "example.com.prod.svc.cluster.local. 5 IN CNAME "
		  "example.com.svc.cluster.local.");
	ldns_pkt_free(p);

	/* more than the client takes: TC and the question only */
	static const char *many[40];
	static char lines[40][80];
	for (int i = 0; i < 39; i++) {
		snprintf(lines[i], sizeof(lines[i]),
			 "example.com.svc.cluster.local. 30 IN TXT \"%s%02d\"",
			 "0123456789012345678901234567890123456789", i);
		many[i] = lines[i];
	}
	many[39] = NULL;
	mk_query(&q, req, &rl, "example.com.prod.svc.cluster.local.", T_TXT,
		 false);
	al = mk_answer(ans, "example.com.svc.cluster.local.", T_TXT,
		       LDNS_RCODE_NOERROR, true, many, NULL);
	n = autopath_compose(&q, 1232, cand, cl, NULL, 0, ans, al, 5, out, 512);
	assert_true(n > 0 && n <= 512);
	assert_int_equal(ldns_wire2pkt(&p, out, n), LDNS_STATUS_OK);
	assert_true(ldns_pkt_tc(p));
	assert_int_equal(ldns_pkt_ancount(p), 0);
	ldns_pkt_free(p);

	/* an answer that does not parse */
	assert_int_equal(autopath_compose(&q, 1232, cand, cl, NULL, 0, ans, 7,
					  5, out, sizeof(out)),
			 0);
}

static void test_request(void **state)
{
	uint8_t req[512], creq[512], cand[256];
	struct packet_query q, cq;
	size_t rl, cl = wire("Web.svc.cluster.local", cand);

	(void)state;
	mk_query(&q, req, &rl, "Web.prod.svc.cluster.local.", T_AAAA, true);
	size_t n = autopath_request(&q, cand, cl, creq, sizeof(creq));
	assert_true(n > 0);
	assert_int_equal(packet_parse(creq, n, &cq), PACKET_OK);
	assert_int_equal(cq.qtype, T_AAAA);
	assert_int_equal(cq.qclass, 1);
	assert_true(cq.edns);
	assert_int_equal(cq.udp_size, 1232);
	assert_true((cq.flags & PACKET_FLAG_RD) != 0);
	assert_int_equal(cq.qname_len, cl);
	assert_memory_equal(cq.qname, cand, cl);
	assert_int_equal(autopath_request(&q, cand, cl, creq, 20), 0);
}

/* ---- the walk through the query path ---- */

static char *sdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

static struct obj_addr addr(const char *s)
{
	struct obj_addr a;

	assert_int_equal(obj_addr_parse(s, &a), 0);
	return a;
}

static void put_ns(struct store *st, const char *name)
{
	struct obj_namespace *n = calloc(1, sizeof(*n));

	n->name = sdup(name);
	assert_int_equal(store_put_namespace(st, n), 0);
}

static void put_svc(struct store *st, const char *ns, const char *name,
		    const char *ip)
{
	struct obj_service *s = calloc(1, sizeof(*s));

	s->ns = sdup(ns);
	s->name = sdup(name);
	s->type = OBJ_SVC_CLUSTERIP;
	s->ips = calloc(1, sizeof(*s->ips));
	s->ips[0] = addr(ip);
	s->nips = 1;
	assert_int_equal(store_put_service(st, s), 0);
}

struct world {
	struct kube *k;
	struct kubernetes_conf ck;
	struct autopath_conf ac;
	char *zones[1];
	struct config_block cb;
	struct query_block qb;
	struct query_key key;
	struct query_listener l;
};

static struct world w;

static int walk_setup(void **state)
{
	static const char *const zones[] = {"cluster.local"};
	struct kube_conf kc = {.zones = zones,
			       .nzones = 1,
			       .pods = BUILDER_PODS_VERIFIED,
			       .ttl = 30};
	char err[256];
	struct store *st = store_new();

	(void)state;
	rcu_register_thread();
	memset(&w, 0, sizeof(w));
	w.k = kube_new(&kc, err, sizeof(err));
	assert_non_null(w.k);
	put_ns(st, "prod");
	put_ns(st, "shop");
	put_svc(st, "prod", "web", "10.96.1.10");
	put_svc(st, "shop", "api", "10.96.2.10");
	assert_int_equal(kube_apply_store(w.k, st), 0);
	struct obj_addr a = addr("10.0.0.5");
	assert_int_equal(kube_put_pod(w.k, "prod", "client", &a, 1, 0, false),
			 0);
	struct obj_addr a6 = addr("fd00::5");
	assert_int_equal(kube_put_pod(w.k, "shop", "client6", &a6, 1, 0, false),
			 0);
	assert_int_equal(kube_commit(w.k), 0);

	w.ck.pods = KUBERNETES_PODS_VERIFIED;
	w.zones[0] = "cluster.local";
	w.ac.zones = w.zones;
	w.ac.nzones = 1;
	w.ac.file = "Corefile";
	w.ac.line = 2;
	w.cb.kube = &w.ck;
	w.cb.autopath = &w.ac;
	w.cb.file = "Corefile";
	w.cb.line = 1;
	assert_int_equal(query_block_init(&w.qb, &w.cb, w.k, err, sizeof(err)),
			 0);
	assert_non_null(w.qb.autopath);
	/* the server's search domains, whatever this machine's are */
	w.qb.autopath->nsearch = 1;
	w.qb.autopath->slen[0] =
	    wire("shop.svc.cluster.local", w.qb.autopath->search[0]);
	w.key.len = wire("cluster.local", w.key.zone);
	w.key.nlabels = 2;
	w.key.block = &w.qb;
	w.l.keys = &w.key;
	w.l.nkeys = 1;
	w.l.udp_max = 1232;
	return 0;
}

static int walk_teardown(void **state)
{
	(void)state;
	query_block_fini(&w.qb);
	kube_free(w.k);
	rcu_unregister_thread();
	return 0;
}

/* Ask name/type from the IPv4 address from (or an IPv4-mapped IPv6 one). */
static ldns_pkt *ask_from(const char *from, bool mapped, const char *name,
			  uint16_t type)
{
	static uint8_t resp[65536];
	uint8_t req[512];
	struct packet_query q;
	struct sockaddr_storage peer = {0};
	size_t rl, n;
	ldns_pkt *p = NULL;

	mk_query(&q, req, &rl, name, type, false);
	if (strchr(from, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&peer;
		s6->sin6_family = AF_INET6;
		assert_int_equal(inet_pton(AF_INET6, from, &s6->sin6_addr), 1);
	} else if (mapped) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&peer;
		char m[64];
		snprintf(m, sizeof(m), "::ffff:%s", from);
		s6->sin6_family = AF_INET6;
		assert_int_equal(inet_pton(AF_INET6, m, &s6->sin6_addr), 1);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&peer;
		s4->sin_family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, from, &s4->sin_addr), 1);
	}
	rcu_read_lock();
	n = query_handle(&w.l, req, rl, resp, sizeof(resp), false,
			 (struct sockaddr *)&peer, sizeof(peer), NULL);
	rcu_read_unlock();
	assert_true(n >= 12 && n <= 1232);
	assert_int_equal(ldns_wire2pkt(&p, resp, n), LDNS_STATUS_OK);
	assert_int_equal(ldns_pkt_id(p), 0x1234);
	assert_memory_equal(resp + 12, req + 12, q.qname_len + 4);
	return p;
}

static void expect_plain_nx(const char *from, const char *name)
{
	ldns_pkt *p = ask_from(from, false, name, T_A);

	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
	assert_int_equal(ldns_pkt_ancount(p), 0);
	assert_int_equal(ldns_pkt_nscount(p), 1);
	ldns_pkt_free(p);
}

static void expect_cname(const char *from, bool mapped, const char *name,
			 uint16_t type, const char *cname, const char *rr)
{
	ldns_pkt *p = ask_from(from, mapped, name, type);

	assert_int_equal(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
	assert_rr(ldns_pkt_answer(p), 0, cname);
	if (rr) {
		assert_int_equal(ldns_pkt_ancount(p), 2);
		assert_rr(ldns_pkt_answer(p), 1, rr);
	} else {
		/* NODATA under the name found */
		assert_int_equal(ldns_pkt_ancount(p), 1);
		assert_int_equal(ldns_pkt_nscount(p), 1);
	}
	ldns_pkt_free(p);
}

static void test_walk(void **state)
{
	(void)state;
	/* svc.<zone> */
	expect_cname("10.0.0.5", false, "api.shop.prod.svc.cluster.local.", T_A,
		     "api.shop.prod.svc.cluster.local. 30 IN CNAME "
		     "api.shop.svc.cluster.local.",
		     "api.shop.svc.cluster.local. 30 IN A 10.96.2.10");
	/* the same for an IPv4-mapped client, and AAAA: NODATA there */
	expect_cname("10.0.0.5", true, "API.shop.prod.svc.cluster.local.",
		     T_AAAA,
		     "API.shop.prod.svc.cluster.local. 30 IN CNAME "
		     "API.shop.svc.cluster.local.",
		     NULL);
	/* <zone> */
	expect_cname("10.0.0.5", false, "dns-version.prod.svc.cluster.local.",
		     T_TXT,
		     "dns-version.prod.svc.cluster.local. 30 IN CNAME "
		     "dns-version.cluster.local.",
		     "dns-version.cluster.local. 30 IN TXT \"1.1.0\"");
	/* a search domain of the server's resolv.conf */
	expect_cname("10.0.0.5", false, "api.prod.svc.cluster.local.", T_A,
		     "api.prod.svc.cluster.local. 30 IN CNAME "
		     "api.shop.svc.cluster.local.",
		     "api.shop.svc.cluster.local. 30 IN A 10.96.2.10");

	/* an IPv6 pod of shop */
	expect_cname("fd00::5", false, "web.prod.shop.svc.cluster.local.", T_A,
		     "web.prod.shop.svc.cluster.local. 30 IN CNAME "
		     "web.prod.svc.cluster.local.",
		     "web.prod.svc.cluster.local. 30 IN A 10.96.1.10");
	expect_plain_nx("fd00::6", "web.prod.shop.svc.cluster.local.");

	/* the asked name exists: its own answer, no CNAME */
	ldns_pkt *p =
	    ask_from("10.0.0.5", false, "web.prod.svc.cluster.local.", T_A);
	assert_int_equal(ldns_pkt_ancount(p), 1);
	assert_rr(ldns_pkt_answer(p), 0,
		  "web.prod.svc.cluster.local. 30 IN A 10.96.1.10");
	ldns_pkt_free(p);

	/* nothing exists (no forwarder for the last): NXDOMAIN as asked */
	expect_plain_nx("10.0.0.5", "nothing.prod.svc.cluster.local.");
	/* not a pod, a pod of another namespace, not the first search
	 * name: the plain answer */
	expect_plain_nx("10.0.0.6", "api.shop.prod.svc.cluster.local.");
	expect_plain_nx("10.0.0.5", "api.prod.shop.svc.cluster.local.");
	expect_plain_nx("10.0.0.5", "api.shop.svc.svc.cluster.local.");
}

static void test_walk_pod_changes(void **state)
{
	struct obj_addr a = addr("10.0.0.5");

	(void)state;
	/* the pod is deleted and its address goes to a pod of shop */
	assert_int_equal(kube_delete(w.k, DECODE_POD, "prod", "client"), 0);
	assert_int_equal(kube_put_pod(w.k, "shop", "reuser", &a, 1, 0, false),
			 0);
	assert_int_equal(kube_commit(w.k), 0);
	expect_plain_nx("10.0.0.5", "api.shop.prod.svc.cluster.local.");
	expect_cname("10.0.0.5", false, "web.prod.shop.svc.cluster.local.", T_A,
		     "web.prod.shop.svc.cluster.local. 30 IN CNAME "
		     "web.prod.svc.cluster.local.",
		     "web.prod.svc.cluster.local. 30 IN A 10.96.1.10");

	/* it finishes (phase Succeeded): no pod has the address */
	assert_int_equal(kube_put_pod(w.k, "shop", "reuser", &a, 1, 0, true),
			 0);
	assert_int_equal(kube_commit(w.k), 0);
	expect_plain_nx("10.0.0.5", "web.prod.shop.svc.cluster.local.");

	/* a new pod of prod gets it */
	assert_int_equal(kube_put_pod(w.k, "prod", "again", &a, 1, 0, false),
			 0);
	assert_int_equal(kube_commit(w.k), 0);
	expect_plain_nx("10.0.0.5", "web.prod.shop.svc.cluster.local.");
	expect_cname("10.0.0.5", false, "api.shop.prod.svc.cluster.local.", T_A,
		     "api.shop.prod.svc.cluster.local. 30 IN CNAME "
		     "api.shop.svc.cluster.local.",
		     "api.shop.svc.cluster.local. 30 IN A 10.96.2.10");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_setup),
	    cmocka_unit_test(test_setup_errors),
	    cmocka_unit_test(test_setup_warning),
	    cmocka_unit_test(test_plugins_list),
	    cmocka_unit_test(test_read_search),
	    cmocka_unit_test(test_split),
	    cmocka_unit_test(test_candidates),
	    cmocka_unit_test(test_compose),
	    cmocka_unit_test(test_request),
	};
	const struct CMUnitTest walk[] = {
	    cmocka_unit_test(test_walk),
	    cmocka_unit_test(test_walk_pod_changes),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	return rc ? rc
		  : cmocka_run_group_tests(walk, walk_setup, walk_teardown);
}
