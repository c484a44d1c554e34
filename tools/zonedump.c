/*
 * zonedump -- print the cluster zones of a Corefile's kubernetes directives
 * as RFC 1035 master files, sorted, for diffing and for loading into other
 * DNS servers.  Links the same zone code as the daemon.
 *
 *   zonedump [-conf Corefile] [-dns.port N] [-zone ZONE]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ldns/ldns.h>
#include <urcu.h>

#include "server/config.h"
#include "server/daemon.h"
#include "server/log.h"
#include "server/source.h"
#include "zones/dname.h"
#include "zones/kube.h"

struct collect {
	ldns_rr_list *rrs;
};

static ldns_rdf *wire_dname(const uint8_t *name)
{
	return ldns_rdf_new_frm_data(LDNS_RDF_TYPE_DNAME, dname_len(name),
				     name);
}

static int collect_rr(const uint8_t *owner, uint16_t type, uint32_t ttl,
		      const uint8_t *rdata, uint16_t rdlen, void *arg)
{
	struct collect *c = arg;
	size_t olen = dname_len(owner);

	/* Build the RR from wire: owner, then type/class/ttl/rdlen/rdata. */
	size_t len = olen + 10 + rdlen;
	uint8_t *w = malloc(len);
	if (!w)
		return -ENOMEM;
	memcpy(w, owner, olen);
	uint8_t *p = w + olen;
	p[0] = (uint8_t)(type >> 8);
	p[1] = (uint8_t)type;
	p[2] = 0;
	p[3] = 1;
	p[4] = (uint8_t)(ttl >> 24);
	p[5] = (uint8_t)(ttl >> 16);
	p[6] = (uint8_t)(ttl >> 8);
	p[7] = (uint8_t)ttl;
	p[8] = (uint8_t)(rdlen >> 8);
	p[9] = (uint8_t)rdlen;
	memcpy(p + 10, rdata, rdlen);
	ldns_rr *rr = NULL;
	size_t pos = 0;
	ldns_status s = ldns_wire2rr(&rr, w, len, &pos, LDNS_SECTION_ANSWER);
	free(w);
	if (s != LDNS_STATUS_OK) {
		fprintf(stderr, "zonedump: bad record: %s\n",
			ldns_get_errorstr_by_id(s));
		return -EINVAL;
	}
	ldns_rr_list_push_rr(c->rrs, rr);
	return 0;
}

static int dump_zone(const struct kube *k, size_t i, FILE *out)
{
	struct collect c = {ldns_rr_list_new()};
	const uint8_t *apex = zone_apex_name(kube_zone(k), i);
	int rc = kube_each_zone_rr(k, i, collect_rr, &c);
	if (rc < 0) {
		ldns_rr_list_deep_free(c.rrs);
		return rc;
	}
	ldns_rdf *origin = wire_dname(apex);
	char *o = ldns_rdf2str(origin);
	fprintf(out, "$ORIGIN %s\n", o);
	free(o);
	ldns_rdf_deep_free(origin);
	ldns_rr_list_sort(c.rrs);
	/* The SOA first, as master files have it. */
	for (size_t k = 0; k < ldns_rr_list_rr_count(c.rrs); k++) {
		ldns_rr *rr = ldns_rr_list_rr(c.rrs, k);
		if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_SOA)
			ldns_rr_print(out, rr);
	}
	for (size_t k = 0; k < ldns_rr_list_rr_count(c.rrs); k++) {
		ldns_rr *rr = ldns_rr_list_rr(c.rrs, k);
		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_SOA)
			ldns_rr_print(out, rr);
	}
	ldns_rr_list_deep_free(c.rrs);
	return 0;
}

static void usage(void)
{
	fprintf(
	    stderr,
	    "usage: zonedump [-conf Corefile] [-dns.port N] [-zone ZONE]\n");
}

int main(int argc, char **argv)
{
	const char *conf = "Corefile", *want = NULL;
	unsigned long port = 53;
	struct config *cfg = NULL;
	char err[1024];
	int status = 1, dumped = 0;

	log_set_fd(STDERR_FILENO); /* standard output is the zone */
	for (int i = 1; i < argc; i++) {
		const char *a =
		    argv[i] + (argv[i][0] == '-' && argv[i][1] == '-' ? 2 : 1);
		if (argv[i][0] != '-' || i + 1 >= argc) {
			usage();
			return 2;
		}
		if (!strcmp(a, "conf"))
			conf = argv[++i];
		else if (!strcmp(a, "zone"))
			want = argv[++i];
		else if (!strcmp(a, "dns.port"))
			port = strtoul(argv[++i], NULL, 10);
		else {
			usage();
			return 2;
		}
	}
	uint8_t wantw[DNAME_MAX];
	if (want && dname_from_str(want, wantw) < 0) {
		fprintf(stderr, "zonedump: invalid zone %s\n", want);
		return 2;
	}
	if (want)
		dname_lower(wantw, dname_len(wantw));

	rcu_register_thread();
	if (config_load(conf, (uint16_t)port, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		goto out;
	}
	for (size_t b = 0; b < cfg->nblocks; b++) {
		const struct kubernetes_conf *ck = cfg->blocks[b].kube;
		if (!ck)
			continue;
		struct kube *k = source_kube_load(ck, err, sizeof(err));
		if (!k) {
			fprintf(stderr, "%s\n", err);
			goto out;
		}
		struct zone_index *zi = kube_zone(k);
		for (size_t i = 0; i < zone_count_apexes(zi); i++) {
			const uint8_t *apex = zone_apex_name(zi, i);
			size_t al = dname_len(apex);
			if (want && (dname_len(wantw) != al ||
				     memcmp(wantw, apex, al) != 0))
				continue;
			if (dump_zone(k, i, stdout) < 0) {
				kube_free(k);
				goto out;
			}
			dumped++;
		}
		kube_free(k);
	}
	if (!dumped) {
		fprintf(stderr, "zonedump: no %s%s in %s\n",
			want ? "zone " : "kubernetes zone", want ? want : "",
			conf);
		goto out;
	}
	status = 0;
out:
	config_free(cfg);
	rcu_unregister_thread();
	return status;
}
