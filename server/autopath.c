/*
 * autopath.c -- the setup of `autopath`, the server's search path, the
 * candidate names of a walk and the CNAME answer that ends it.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "server/autopath.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "server/config.h"
#include "server/setup.h"
#include "zones/dname.h"

#define T_CNAME 5
#define T_SOA 6
#define T_OPT 41
#define OPT_LEN 11

/* ------------------------------------------------------------------ */
/* setup of the directive */

void autopath_conf_free(struct autopath_conf *a)
{
	if (!a)
		return;
	setup_strv_free(a->zones, a->nzones);
	free(a->file);
	free(a);
}

int autopath_setup(struct setup *c, const struct corefile_dir *d)
{
	struct config_block *b = c->block;
	struct autopath_conf *a;
	int rc;

	if (b->autopath)
		return setup_dup_err(c, d, "autopath");
	if (d->nsub)
		return setup_no_block(c, d, "autopath");
	if (d->nargs < 1)
		return setup_err(c, d, "autopath", "no resolv-conf specified");
	const char *resolv = d->args[d->nargs - 1];
	if (resolv[0] != '@')
		return setup_err(c, d, "autopath",
				 "a resolv.conf file is not supported, only "
				 "@kubernetes: %s",
				 resolv);
	if (strcmp(resolv, "@kubernetes") != 0)
		return setup_err(c, d, "autopath",
				 "%s does not implement the AutoPather "
				 "interface",
				 resolv + 1);
	a = calloc(1, sizeof(*a));
	if (!a || !(a->file = strdup(d->file))) {
		free(a);
		return setup_nomem(c);
	}
	a->line = d->line;
	b->autopath = a; /* freed with the block from here on */
	if (d->nargs > 1)
		return setup_zones_add(c, d, "autopath", d->args, d->nargs - 1,
				       &a->zones, &a->nzones);
	for (size_t i = 0; i < b->nkeys; i++) {
		rc =
		    setup_strv_add_uniq(&a->zones, &a->nzones, b->keys[i].zone);
		if (rc < 0)
			return setup_nomem(c);
	}
	return 0;
}

int autopath_end(struct setup *c, bool ok)
{
	const struct config_block *b = c->block;
	const struct autopath_conf *a = b ? b->autopath : NULL;

	if (!ok || !a)
		return 0;
	if (b->kube && b->kube->pods == KUBERNETES_PODS_VERIFIED)
		return 0;
	struct corefile_dir d = {
	    .name = "autopath", .file = a->file, .line = a->line};
	return setup_warn(c, &d, "autopath",
			  "@kubernetes needs the kubernetes plugin with "
			  "'pods verified' in this server block; autopath "
			  "does nothing here");
}

/* ------------------------------------------------------------------ */
/* the search path */

int autopath_read_search(struct autopath *ap, const char *path)
{
	char line[1024];
	FILE *f = fopen(path, "re");

	ap->nsearch = 0;
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *save = NULL, *w = strtok_r(line, " \t\r\n", &save);

		if (!w ||
		    (strcmp(w, "search") != 0 && strcmp(w, "domain") != 0))
			continue;
		ap->nsearch = 0; /* the last line wins */
		while ((w = strtok_r(NULL, " \t\r\n", &save)) &&
		       ap->nsearch < AUTOPATH_MAX_SEARCH) {
			uint8_t *s = ap->search[ap->nsearch];
			size_t len;

			if (w[0] == '#' || w[0] == ';')
				break;
			if (dname_zone_wire(w, s, &len) < 0)
				continue;
			dname_lower_copy(s, s, len);
			ap->slen[ap->nsearch++] = len;
		}
	}
	fclose(f);
	return (int)ap->nsearch;
}

int autopath_init(struct autopath *ap, const struct autopath_conf *c,
		  const char *resolv, char *err, size_t errlen)
{
	memset(ap, 0, sizeof(*ap));
	for (size_t i = 0; i < c->nzones; i++) {
		if (ap->nzones == AUTOPATH_MAX_ZONES ||
		    dname_zone_wire(c->zones[i], ap->zones[ap->nzones],
				    &ap->zlen[ap->nzones]) < 0) {
			snprintf(err, errlen,
				 "%s:%d - Error during setup: autopath: too "
				 "many or invalid zones",
				 c->file, c->line);
			return -EINVAL;
		}
		ap->nzones++;
	}
	if (resolv)
		autopath_read_search(ap, resolv);
	return 0;
}

bool autopath_in_zones(const struct autopath *ap, const uint8_t *lname,
		       size_t len)
{
	for (size_t i = 0; i < ap->nzones; i++)
		if (dname_suffix_at(lname, len, ap->zones[i], ap->zlen[i]) >= 0)
			return true;
	return false;
}

size_t autopath_split(const uint8_t *lname, size_t len, size_t alen,
		      size_t *nsoff)
{
	static const uint8_t svc[] = {3, 's', 'v', 'c'};
	size_t offs[PACKET_MAX_NAME / 2 + 1], n = 0, above;

	if (alen > len)
		return 0;
	above = len - alen;
	for (size_t o = 0; o < above && lname[o]; o += (size_t)lname[o] + 1)
		offs[n++] = o;
	/* BASE (>= 1 label), <ns>, svc */
	if (n < 3 || above - offs[n - 1] != sizeof(svc) ||
	    memcmp(lname + offs[n - 1], svc, sizeof(svc)) != 0)
		return 0;
	*nsoff = offs[n - 2];
	return offs[n - 2];
}

size_t autopath_ncand(const struct autopath *ap)
{
	return 3 + ap->nsearch + 1;
}

size_t autopath_candidate(const struct autopath *ap, const uint8_t *qname,
			  size_t len, size_t blen, size_t alen, size_t i,
			  uint8_t *out)
{
	static const uint8_t svc[] = {3, 's', 'v', 'c'};
	const uint8_t *zone = qname + len - alen;
	uint8_t suffix[PACKET_MAX_NAME + 1 + sizeof(svc)];
	size_t sl;

	if (i == 1) {
		memcpy(suffix, svc, sizeof(svc));
		dname_lower_copy(suffix + sizeof(svc), zone, alen);
		sl = sizeof(svc) + alen;
	} else if (i == 2) {
		dname_lower_copy(suffix, zone, alen);
		sl = alen;
	} else if (i >= 3 && i - 3 < ap->nsearch) {
		memcpy(suffix, ap->search[i - 3], ap->slen[i - 3]);
		sl = ap->slen[i - 3];
	} else if (i == 3 + ap->nsearch) {
		suffix[0] = 0;
		sl = 1;
	} else {
		return 0;
	}
	if (blen + sl > PACKET_MAX_NAME)
		return 0;
	memcpy(out, qname, blen);
	memcpy(out + blen, suffix, sl);
	return blen + sl;
}

size_t autopath_request(const struct packet_query *q, const uint8_t *cand,
			size_t cand_len, uint8_t *out, size_t max)
{
	size_t n = 12 + cand_len + 4 + (q->edns ? OPT_LEN : 0);

	if (n > max)
		return 0;
	memset(out, 0, 12);
	out[0] = (uint8_t)(q->id >> 8);
	out[1] = (uint8_t)q->id;
	out[2] = (uint8_t)((q->flags >> 8) & 0x79); /* opcode, RD */
	out[3] = (uint8_t)(q->flags & 0x10);	    /* CD */
	out[5] = 1;
	memcpy(out + 12, cand, cand_len);
	uint8_t *p = out + 12 + cand_len;
	p[0] = (uint8_t)(q->qtype >> 8);
	p[1] = (uint8_t)q->qtype;
	p[2] = (uint8_t)(q->qclass >> 8);
	p[3] = (uint8_t)q->qclass;
	if (q->edns) {
		p += 4;
		out[11] = 1;
		memset(p, 0, OPT_LEN);
		p[2] = T_OPT;
		p[3] = (uint8_t)(q->udp_size >> 8);
		p[4] = (uint8_t)q->udp_size;
		p[7] = q->do_bit ? 0x80 : 0;
	}
	return n;
}

/* ------------------------------------------------------------------ */
/* the answer */

static inline void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Append rr (its names uncompressed, except an owner that is the name at
 * response offset tgt: a pointer to it) when it fits in room.  Returns
 * false when it does not fit or cannot be written. */
static bool put_rr(ldns_buffer *lb, const ldns_rr *rr, const uint8_t *tname,
		   size_t tlen, uint16_t tgt, uint8_t *out, size_t *n,
		   size_t room)
{
	uint8_t lo[PACKET_MAX_NAME + 1];

	ldns_buffer_clear(lb);
	if (ldns_rr2buffer_wire(lb, rr, LDNS_SECTION_ANSWER) != LDNS_STATUS_OK)
		return false;
	const uint8_t *w = ldns_buffer_begin(lb);
	size_t l = ldns_buffer_position(lb), olen = dname_len(w);
	if (olen == 0 || olen > sizeof(lo) || olen + 10 > l)
		return false;
	dname_lower_copy(lo, w, olen);
	bool ptr = olen == tlen && memcmp(lo, tname, tlen) == 0;
	size_t need = ptr ? l - olen + 2 : l;
	if (need > room || *n > room - need)
		return false;
	if (ptr) {
		wr16(out + *n, (uint16_t)(0xc000 | tgt));
		memcpy(out + *n + 2, w + olen, l - olen);
	} else {
		memcpy(out + *n, w, l);
	}
	*n += need;
	return true;
}

/* Append the records of list that are not OPT; *cnt counts them. */
static bool put_list(ldns_buffer *lb, const ldns_rr_list *list,
		     const uint8_t *tname, size_t tlen, uint16_t tgt,
		     uint8_t *out, size_t *n, size_t room, unsigned *cnt)
{
	for (size_t i = 0; i < ldns_rr_list_rr_count(list); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(list, i);
		if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_OPT)
			continue;
		if (!put_rr(lb, rr, tname, tlen, tgt, out, n, room))
			return false;
		(*cnt)++;
	}
	return true;
}

/* The TTL of the CNAME: the first answer record's, else the SOA's. */
static uint32_t cname_ttl(const ldns_pkt *pre, const ldns_pkt *ans,
			  uint32_t ttl)
{
	const ldns_rr_list *l = ldns_pkt_answer(pre ? pre : ans);

	if (ldns_rr_list_rr_count(l))
		return ldns_rr_ttl(ldns_rr_list_rr(l, 0));
	l = ldns_pkt_answer(ans);
	if (ldns_rr_list_rr_count(l))
		return ldns_rr_ttl(ldns_rr_list_rr(l, 0));
	l = ldns_pkt_authority(ans);
	for (size_t i = 0; i < ldns_rr_list_rr_count(l); i++)
		if (ldns_rr_get_type(ldns_rr_list_rr(l, i)) == LDNS_RR_TYPE_SOA)
			return ldns_rr_ttl(ldns_rr_list_rr(l, i));
	return ttl;
}

size_t autopath_compose(const struct packet_query *q, uint16_t udp_max,
			const uint8_t *cand, size_t cand_len,
			const uint8_t *pre, size_t plen, const uint8_t *ans,
			size_t alen, uint32_t ttl, uint8_t *out, size_t limit)
{
	ldns_pkt *pa = NULL, *pp = NULL;
	ldns_buffer *lb = NULL;
	uint8_t lcand[PACKET_MAX_NAME + 1];
	size_t n = 0, r = 0;
	unsigned an = 0, ns = 0, ar = 0;

	if (cand_len > sizeof(lcand) ||
	    ldns_wire2pkt(&pa, ans, alen) != LDNS_STATUS_OK ||
	    (pre && ldns_wire2pkt(&pp, pre, plen) != LDNS_STATUS_OK) ||
	    !(lb = ldns_buffer_new(512)))
		goto out;
	dname_lower_copy(lcand, cand, cand_len);
	uint16_t flags = 0;
	if (ldns_pkt_aa(pa) && !pp)
		flags |= PACKET_FLAG_AA;
	if (ldns_pkt_ra(pa))
		flags |= PACKET_FLAG_RA;
	uint8_t rcode = (uint8_t)(ldns_pkt_get_rcode(pa) & 0x0f);
	size_t room = limit > (q->edns ? OPT_LEN : 0)
			  ? limit - (q->edns ? OPT_LEN : 0)
			  : 0;
	n = packet_begin(q, flags, rcode, out, room);
	if (!n)
		goto out;
	/* the CNAME, its target at n + 12 */
	if (n + 12 + cand_len > room)
		goto truncated;
	uint16_t tgt = (uint16_t)(n + 12);
	uint32_t t = cname_ttl(pp, pa, ttl);
	n = packet_put_rr(out, n, 12, T_CNAME, t, cand, cand_len);
	an = 1;
	if ((pp && !put_list(lb, ldns_pkt_answer(pp), lcand, cand_len, tgt, out,
			     &n, room, &an)) ||
	    !put_list(lb, ldns_pkt_answer(pa), lcand, cand_len, tgt, out, &n,
		      room, &an) ||
	    !put_list(lb, ldns_pkt_authority(pa), lcand, cand_len, tgt, out, &n,
		      room, &ns))
		goto truncated;
	/* additional records are a help only: those that fit */
	{
		const ldns_rr_list *l = ldns_pkt_additional(pa);
		for (size_t i = 0; i < ldns_rr_list_rr_count(l); i++) {
			const ldns_rr *rr = ldns_rr_list_rr(l, i);
			if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_OPT)
				continue;
			if (!put_rr(lb, rr, lcand, cand_len, tgt, out, &n,
				    room))
				break;
			ar++;
		}
	}
	packet_set_counts(out, (uint16_t)an, (uint16_t)ns, (uint16_t)ar);
	r = n;
	if (q->edns) {
		size_t m = packet_put_opt_do(
		    q, udp_max, 0, ldns_pkt_edns_do(pa), out, n, limit);
		if (m)
			r = m;
	}
	goto out;
truncated:
	n = packet_begin(q, flags | PACKET_FLAG_TC, rcode, out, limit);
	r = n;
	if (n && q->edns) {
		size_t m = packet_put_opt(q, udp_max, 0, out, n, limit);
		if (m)
			r = m;
	}
out:
	ldns_pkt_free(pa);
	ldns_pkt_free(pp);
	if (lb)
		ldns_buffer_free(lb);
	return r;
}
