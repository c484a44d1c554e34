/*
 * transfer.c -- outgoing zone transfers: the directive's setup, who may
 * have a zone, the messages of a transfer, and the queues that carry a
 * request from a worker to the control thread and its messages back.
 */
#include "server/transfer.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "server/config.h"
#include "server/log.h"
#include "server/packet.h"
#include "server/setup.h"
#include "server/worker.h"
#include "zones/dname.h"
#include "zones/kube.h"

#define T_NS 2
#define T_CNAME 5
#define T_SOA 6
#define T_PTR 12
#define T_SRV 33
#define RETRY_MS 10 /* a reload is being applied: look again after this */

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* ------------------------------------------------------------------ */
/* setup */

/* One ADDRESS of `to` into *to.  Returns 0 or -EINVAL. */
static int parse_to(const char *s, struct transfer_to *to)
{
	char host[INET6_ADDRSTRLEN + 8];
	const char *slash = strchr(s, '/'), *end;

	memset(to, 0, sizeof(*to));
	if (!strcmp(s, "*"))
		return 0;
	if (slash) {
		size_t n = (size_t)(slash - s);
		char *e;
		if (n >= sizeof(host) || !slash[1])
			return -EINVAL;
		memcpy(host, s, n);
		host[n] = '\0';
		unsigned long bits = strtoul(slash + 1, &e, 10);
		if (*e || slash[1] < '0' || slash[1] > '9')
			return -EINVAL;
		if (inet_pton(AF_INET, host, to->addr) == 1 && bits <= 32)
			to->family = AF_INET;
		else if (inet_pton(AF_INET6, host, to->addr) == 1 &&
			 bits <= 128)
			to->family = AF_INET6;
		else
			return -EINVAL;
		to->bits = (unsigned)bits;
		return 0;
	}
	if (inet_pton(AF_INET, s, to->addr) == 1) {
		to->family = AF_INET;
		to->bits = 32;
		return 0;
	}
	if (inet_pton(AF_INET6, s, to->addr) == 1) {
		to->family = AF_INET6;
		to->bits = 128;
		return 0;
	}
	/* HOST:PORT or [IPv6]:PORT; the port is for NOTIFY, not used */
	const char *colon = strrchr(s, ':');
	if (!colon || !colon[1] || strlen(colon + 1) > 5 ||
	    strspn(colon + 1, "0123456789") != strlen(colon + 1) ||
	    strtoul(colon + 1, NULL, 10) > 65535)
		return -EINVAL;
	end = colon;
	if (s[0] == '[') {
		if (colon == s || colon[-1] != ']')
			return -EINVAL;
		s++;
		end = colon - 1;
	}
	if ((size_t)(end - s) >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, (size_t)(end - s));
	host[end - s] = '\0';
	if (inet_pton(AF_INET6, host, to->addr) == 1 && colon[-1] == ']') {
		to->family = AF_INET6;
		to->bits = 128;
		return 0;
	}
	if (inet_pton(AF_INET, host, to->addr) == 1 && colon[-1] != ']') {
		to->family = AF_INET;
		to->bits = 32;
		return 0;
	}
	return -EINVAL;
}

static int add_to(struct setup *c, const struct corefile_dir *s,
		  struct transfer_xfr *x)
{
	if (s->nargs == 0 || s->nsub)
		return setup_arg_err(c, s, "transfer");
	struct transfer_to *v =
	    realloc(x->to, (x->nto + s->nargs) * sizeof(*v));
	if (!v)
		return setup_nomem(c);
	x->to = v;
	for (size_t i = 0; i < s->nargs; i++) {
		if (parse_to(s->args[i], &x->to[x->nto]) < 0)
			return setup_err(c, s, "transfer",
					 "must specify an IP address, a CIDR "
					 "or *: `%s'",
					 s->args[i]);
		x->nto++;
	}
	return 0;
}

int transfer_setup(struct setup *c, const struct corefile_dir *d)
{
	struct config_block *b = c->block;
	struct transfer_conf *t = b->transfer;
	char **zones = NULL;
	size_t nzones = 0;
	int rc;

	if (!t) {
		if (!(t = calloc(1, sizeof(*t))))
			return setup_nomem(c);
		b->transfer = t;
	}
	struct transfer_xfr *v = realloc(t->xfrs, (t->nxfrs + 1) * sizeof(*v));
	if (!v)
		return setup_nomem(c);
	t->xfrs = v;
	struct transfer_xfr *x = &t->xfrs[t->nxfrs++];
	memset(x, 0, sizeof(*x));

	rc = setup_zones_add(c, d, "transfer", d->args, d->nargs, &zones,
			     &nzones);
	for (size_t i = 0; rc == 0 && d->nargs == 0 && i < b->nkeys; i++)
		if (setup_strv_add_uniq(&zones, &nzones, b->keys[i].zone) < 0)
			rc = setup_nomem(c);
	if (rc < 0)
		goto out;
	x->zones = calloc(nzones ? nzones : 1, sizeof(*x->zones));
	x->zlen = calloc(nzones ? nzones : 1, sizeof(*x->zlen));
	if (!x->zones || !x->zlen) {
		rc = setup_nomem(c);
		goto out;
	}
	for (size_t i = 0; i < nzones; i++) {
		if (dname_zone_wire(zones[i], x->zones[i], &x->zlen[i]) < 0) {
			rc = setup_err(c, d, "transfer", "invalid zone '%s'",
				       zones[i]);
			goto out;
		}
		x->nzones++;
	}
	for (size_t i = 0; i < d->nsub; i++) {
		const struct corefile_dir *s = &d->sub[i];
		if (strcmp(s->name, "to") != 0) {
			rc = setup_err(c, s, "transfer",
				       "unknown property \"%s\"", s->name);
			goto out;
		}
		if ((rc = add_to(c, s, x)) < 0)
			goto out;
	}
	if (x->nto == 0)
		rc = setup_err(c, d, "transfer", "'to' is required");
out:
	setup_strv_free(zones, nzones);
	return rc;
}

void transfer_conf_free(struct transfer_conf *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nxfrs; i++) {
		free(t->xfrs[i].zones);
		free(t->xfrs[i].zlen);
		free(t->xfrs[i].to);
	}
	free(t->xfrs);
	free(t);
}

/* ------------------------------------------------------------------ */
/* who may have a zone */

static bool to_matches(const struct transfer_to *to, const struct sockaddr *sa)
{
	const uint8_t *a;

	if (to->family == 0)
		return true;
	if (sa->sa_family != to->family)
		return false;
	if (sa->sa_family == AF_INET)
		a = (const uint8_t *)&((const struct sockaddr_in *)sa)
			->sin_addr;
	else
		a = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
	unsigned full = to->bits / 8, rest = to->bits % 8;
	if (memcmp(a, to->addr, full) != 0)
		return false;
	if (!rest)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (a[full] & mask) == (to->addr[full] & mask);
}

bool transfer_conf_allows(const struct transfer_conf *t, const uint8_t *lname,
			  size_t len, const struct sockaddr *peer)
{
	const struct transfer_xfr *best = NULL;
	size_t best_len = 0;

	if (!t || !peer)
		return false;
	for (size_t i = 0; i < t->nxfrs; i++) {
		const struct transfer_xfr *x = &t->xfrs[i];
		for (size_t j = 0; j < x->nzones; j++) {
			/* the first directive wins among equal zones */
			if (dname_suffix_at(lname, len, x->zones[j],
					    x->zlen[j]) >= 0 &&
			    (!best || x->zlen[j] > best_len)) {
				best = x;
				best_len = x->zlen[j];
			}
		}
	}
	for (size_t i = 0; best && i < best->nto; i++)
		if (to_matches(&best->to[i], peer))
			return true;
	return false;
}

/* ------------------------------------------------------------------ */
/* IXFR */

int transfer_ixfr_serial(const uint8_t *req, size_t len, uint32_t *serial)
{
	size_t p = packet_skip_name(req, len, PACKET_HEADER);

	if (len < PACKET_HEADER || p == 0 || len - p < 4 || rd16(req + 4) != 1)
		return -EINVAL;
	p += 4;
	unsigned an = rd16(req + 6);
	if (rd16(req + 8) == 0)
		return -EINVAL;
	for (unsigned i = 0; i <= an; i++) {
		size_t o = packet_skip_name(req, len, p);
		if (o == 0 || len - o < 10)
			return -EINVAL;
		uint16_t type = rd16(req + o), rdlen = rd16(req + o + 8);
		size_t end = o + 10 + rdlen;
		if (end > len)
			return -EINVAL;
		if (i == an) { /* the first authority record */
			size_t r = packet_skip_name(req, end, o + 10);
			r = r ? packet_skip_name(req, end, r) : 0;
			if (type != T_SOA || r == 0 || end - r != 20)
				return -EINVAL;
			*serial =
			    (uint32_t)rd16(req + r) << 16 | rd16(req + r + 2);
			return 0;
		}
		p = end;
	}
	return -EINVAL;
}

bool transfer_serial_older(uint32_t a, uint32_t b)
{
	return a != b && (uint32_t)(b - a) < 0x80000000u;
}

/* ------------------------------------------------------------------ */
/* the messages of a transfer */

#define CT_SLOTS 8192 /* names a message can point at: one per 2 bytes */

struct build {
	uint8_t *p; /* every message, each after its 2-byte length */
	size_t len, cap;
	size_t msg;	/* offset of the current message (after its length) */
	size_t msg_max; /* bytes of a message at most */
	size_t room;	/* for the header, question and records */
	uint16_t opt;	/* the UDP size of an OPT in every message; 0: none */
	uint16_t an;	/* records in the current message */
	uint16_t flags; /* of every message's header */
	uint16_t id;
	const uint8_t *question; /* the request's, for the first message */
	size_t qlen;
	/* the SOA, kept for the end */
	uint8_t *soa;
	size_t soa_len;
	uint32_t soa_ttl;
	const uint8_t *apex;
	size_t nrr;
	int err;
	/* compression: the names of the current message, by hash */
	uint32_t gen; /* entries of other messages are stale */
	uint32_t *cgen;
	uint32_t *chash;
	uint16_t *coff;
};

static bool reserve(struct build *b, size_t n)
{
	if (b->cap - b->len >= n)
		return true;
	size_t cap = b->cap ? b->cap : 65536;
	while (cap - b->len < n)
		cap *= 2;
	uint8_t *p = realloc(b->p, cap);
	if (!p)
		return false;
	b->p = p;
	b->cap = cap;
	return true;
}

/* Start a message: its length (filled in at the end), then the header. */
static void msg_begin(struct build *b)
{
	bool first = b->len == 0;

	b->len += 2;
	b->msg = b->len;
	uint8_t *h = b->p + b->len;
	wr16(h, b->id);
	wr16(h + 2, b->flags);
	wr16(h + 4, first ? 1 : 0);
	memset(h + 6, 0, 6);
	b->len += PACKET_HEADER;
	if (first) {
		memcpy(b->p + b->len, b->question, b->qlen);
		b->len += b->qlen;
	}
	b->an = 0;
	b->gen++;
}

/* End the current message: its OPT, its counts, its length. */
static int msg_end(struct build *b)
{
	if (b->opt) {
		static const uint8_t opt[] = {0, 0, 41, 0, 0, 0, 0, 0, 0, 0, 0};
		if (!reserve(b, sizeof(opt)))
			return -ENOMEM;
		memcpy(b->p + b->len, opt, sizeof(opt));
		wr16(b->p + b->len + 3, b->opt);
		b->len += sizeof(opt);
		wr16(b->p + b->msg + 10, 1);
	}
	wr16(b->p + b->msg - 2, (uint16_t)(b->len - b->msg));
	wr16(b->p + b->msg + 6, b->an);
	return 0;
}

/* The wire length of the uncompressed name at p (at most max bytes), 0
 * when it is malformed. */
static size_t name_len(const uint8_t *p, size_t max)
{
	size_t n = 0;

	while (n < max && n < 256) {
		uint8_t l = p[n];
		if (l == 0)
			return n + 1;
		if (l > 63)
			return 0;
		n += 1 + (size_t)l;
	}
	return 0;
}

static uint32_t label_hash(uint32_t h, const uint8_t *l)
{
	for (size_t i = 0; i <= l[0]; i++)
		h = (h ^ l[i]) * 16777619u;
	return h ^ (h >> 15);
}

/* Is the name at message offset off (pointers followed) exactly the
 * uncompressed name s? */
static bool name_at(const struct build *b, size_t off, const uint8_t *s)
{
	const uint8_t *m = b->p + b->msg;
	size_t mlen = b->len - b->msg;

	for (int hops = 0; hops < 128 && off < mlen;) {
		uint8_t l = m[off];
		if ((l & 0xc0) == 0xc0) {
			if (off + 1 >= mlen)
				return false;
			off = (size_t)(l & 0x3f) << 8 | m[off + 1];
			hops++;
			continue;
		}
		if (l != s[0] || off + 1 + l > mlen ||
		    memcmp(m + off + 1, s + 1, l) != 0)
			return false;
		if (l == 0)
			return true;
		off += 1 + (size_t)l;
		s += 1 + l;
	}
	return false;
}

/* Append the name (uncompressed, len bytes, room reserved), compressed
 * against the names of this message when compress is set. */
static void put_name(struct build *b, const uint8_t *name, size_t len,
		     bool compress)
{
	size_t lab[128], n = 0;
	uint32_t h[128];

	if (!compress) {
		memcpy(b->p + b->len, name, len);
		b->len += len;
		return;
	}
	for (size_t o = 0; name[o] && n < 128; o += 1 + (size_t)name[o])
		lab[n++] = o;
	/* hashes of every suffix, from the last label on */
	uint32_t acc = 2166136261u;
	for (size_t i = n; i-- > 0;)
		h[i] = acc = label_hash(acc, name + lab[i]);
	size_t match = n, ptr = 0;
	for (size_t i = 0; i < n && match == n; i++) {
		size_t slot = h[i] & (CT_SLOTS - 1);
		for (size_t probe = 0; probe < 16; probe++) {
			size_t s = (slot + probe) & (CT_SLOTS - 1);
			if (b->cgen[s] != b->gen)
				break;
			if (b->chash[s] == h[i] &&
			    name_at(b, b->coff[s], name + lab[i])) {
				match = i;
				ptr = b->coff[s];
				break;
			}
		}
	}
	for (size_t i = 0; i < match; i++) {
		size_t off = b->len - b->msg;
		if (off < 0x4000) { /* a pointer reaches it */
			size_t slot = h[i] & (CT_SLOTS - 1);
			for (size_t probe = 0; probe < 16; probe++) {
				size_t s = (slot + probe) & (CT_SLOTS - 1);
				if (b->cgen[s] != b->gen) {
					b->cgen[s] = b->gen;
					b->chash[s] = h[i];
					b->coff[s] = (uint16_t)off;
					break;
				}
			}
		}
		size_t l = 1 + (size_t)name[lab[i]];
		memcpy(b->p + b->len, name + lab[i], l);
		b->len += l;
	}
	if (match < n) {
		wr16(b->p + b->len, (uint16_t)(0xc000 | ptr));
		b->len += 2;
	} else {
		b->p[b->len++] = 0;
	}
}

/* Append one record, in a new message when it does not fit. */
static int put_rr(struct build *b, const uint8_t *owner, uint16_t type,
		  uint32_t ttl, const uint8_t *rdata, uint16_t rdlen)
{
	size_t olen = dname_len(owner);
	size_t worst = olen + 10 + rdlen; /* nothing grows when compressed */

	if (PACKET_HEADER + b->qlen + worst > b->room)
		return -EINVAL;
	if (b->len - b->msg + worst > b->room || b->an == UINT16_MAX) {
		if (msg_end(b) < 0 || !reserve(b, 2 + PACKET_HEADER))
			return -ENOMEM;
		msg_begin(b);
	}
	if (!reserve(b, worst))
		return -ENOMEM;
	put_name(b, owner, olen, true);
	uint8_t *f = b->p + b->len;
	wr16(f, type);
	wr16(f + 2, 1); /* IN */
	wr16(f + 4, (uint16_t)(ttl >> 16));
	wr16(f + 6, (uint16_t)ttl);
	size_t rdstart = b->len + 10;
	b->len = rdstart;
	size_t n1, n2;
	switch (type) {
	case T_NS:
	case T_CNAME:
	case T_PTR:
		if (name_len(rdata, rdlen) != rdlen)
			return -EINVAL;
		put_name(b, rdata, rdlen, true);
		break;
	case T_SOA:
		n1 = name_len(rdata, rdlen);
		n2 = n1 ? name_len(rdata + n1, rdlen - n1) : 0;
		if (!n2 || rdlen - n1 - n2 != 20)
			return -EINVAL;
		put_name(b, rdata, n1, true);
		put_name(b, rdata + n1, n2, true);
		memcpy(b->p + b->len, rdata + n1 + n2, 20);
		b->len += 20;
		break;
	case T_SRV: /* the target is not compressed (RFC 2782) */
	default:
		memcpy(b->p + b->len, rdata, rdlen);
		b->len += rdlen;
		break;
	}
	wr16(b->p + rdstart - 2, (uint16_t)(b->len - rdstart));
	b->an++;
	b->nrr++;
	return 0;
}

static int build_rr(const uint8_t *owner, uint16_t type, uint32_t ttl,
		    const uint8_t *rdata, uint16_t rdlen, void *arg)
{
	struct build *b = arg;

	if (!b->soa) {
		/* kube_each_zone_rr gives the zone's SOA first */
		if (type != T_SOA || dname_len(owner) != dname_len(b->apex) ||
		    memcmp(owner, b->apex, dname_len(owner)) != 0)
			return -EINVAL;
		if (!(b->soa = malloc(rdlen ? rdlen : 1)))
			return -ENOMEM;
		memcpy(b->soa, rdata, rdlen);
		b->soa_len = rdlen;
		b->soa_ttl = ttl;
	} else if (type == T_SOA) {
		return 0; /* one SOA only */
	}
	return put_rr(b, owner, type, ttl, rdata, rdlen);
}

int transfer_build(const struct kube *k, size_t i, const uint8_t *req,
		   size_t qend, uint16_t opt_size, size_t msg_max,
		   uint8_t **out, size_t *len, size_t *nrr, uint32_t *serial)
{
	struct build b = {0};
	int rc;

	*out = NULL;
	*len = 0;
	if (qend < PACKET_HEADER + 5 || qend > PACKET_HEADER + 256 + 4 ||
	    i >= zone_count_apexes(kube_zone(k)))
		return -EINVAL;
	b.msg_max = msg_max ? msg_max : TRANSFER_MSG_MAX;
	if (b.msg_max > PACKET_MAX_TCP)
		b.msg_max = PACKET_MAX_TCP;
	b.opt = opt_size;
	b.room = b.msg_max - (opt_size ? 11 : 0);
	b.id = rd16(req);
	b.flags = PACKET_FLAG_QR | PACKET_FLAG_AA |
		  (rd16(req + 2) & (PACKET_FLAG_RD | PACKET_FLAG_CD));
	b.question = req + PACKET_HEADER;
	b.qlen = qend - PACKET_HEADER;
	b.apex = zone_apex_name(kube_zone(k), i);
	b.cgen = calloc(CT_SLOTS, sizeof(*b.cgen));
	b.chash = malloc(CT_SLOTS * sizeof(*b.chash));
	b.coff = malloc(CT_SLOTS * sizeof(*b.coff));
	if (!b.cgen || !b.chash || !b.coff ||
	    !reserve(&b, 2 + PACKET_HEADER + b.qlen)) {
		rc = -ENOMEM;
		goto fail;
	}
	msg_begin(&b);
	rc = kube_each_zone_rr(k, i, build_rr, &b);
	if (rc == 0 && !b.soa)
		rc = -EINVAL;
	if (rc == 0)
		rc = put_rr(&b, b.apex, T_SOA, b.soa_ttl, b.soa, b.soa_len);
	if (rc == 0)
		rc = msg_end(&b);
	if (rc < 0)
		goto fail;
	*out = b.p;
	*len = b.len;
	if (nrr)
		*nrr = b.nrr;
	if (serial) {
		const uint8_t *r = b.soa + b.soa_len - 20;
		*serial = (uint32_t)rd16(r) << 16 | rd16(r + 2);
	}
	free(b.soa);
	free(b.cgen);
	free(b.chash);
	free(b.coff);
	return 0;
fail:
	free(b.p);
	free(b.soa);
	free(b.cgen);
	free(b.chash);
	free(b.coff);
	return rc;
}

/* ------------------------------------------------------------------ */
/* serving: worker -> control thread -> worker */

/* Transfers queued, being built or being sent, in the whole process. */
static atomic_uint active;

struct inbox;

/* One transfer asked for. */
struct job {
	struct job *next;
	struct inbox *box;	/* the worker's that asked */
	struct worker_defer *d; /* where the answer goes */
	uint8_t apex[256];
	size_t alen;
	uint8_t req[PACKET_HEADER + 256 + 4];
	size_t qend;
	uint16_t opt_size;
	uint8_t fail[PACKET_HEADER + 256 + 4 + 11];
	size_t fail_len;
	char peer[INET6_ADDRSTRLEN + 16];
	uint8_t *buf; /* the messages, when built */
	size_t len;
};

struct transfer {
	const struct transfer_conf *conf;
	struct kube *k;
	pthread_mutex_t mu; /* jobs */
	struct job *jobs, **tail;
	int efd; /* workers wake the control thread with it */
	struct event *ev, *retry;
};

/* What a worker keeps for one struct transfer (worker_local). */
struct inbox {
	struct transfer *t;
	pthread_mutex_t mu; /* done */
	struct job *done;   /* built, for this worker to send */
	int efd;
	struct event *ev;
};

static void kick(int fd)
{
	uint64_t one = 1;

	while (write(fd, &one, sizeof(one)) < 0 && errno == EINTR) {
	}
}

static void drain(int fd)
{
	uint64_t v;

	if (read(fd, &v, sizeof(v)) < 0) {
		/* EAGAIN: nothing pending; the queues say what to do */
	}
}

static void job_fail(struct job *j)
{
	free(j->buf);
	worker_answer(j->d, j->fail, j->fail_len);
	atomic_fetch_sub(&active, 1);
	free(j);
}

/* job_fail every job of the list j. */
static void jobs_fail(struct job *j)
{
	while (j) {
		struct job *next = j->next;
		job_fail(j);
		j = next;
	}
}

static void stream_done(void *arg)
{
	(void)arg;
	atomic_fetch_sub(&active, 1);
}

/* On the worker: send what the control thread built. */
static void on_done(evutil_socket_t fd, short what, void *arg)
{
	struct inbox *box = arg;

	(void)what;
	drain(fd);
	pthread_mutex_lock(&box->mu);
	struct job *j = box->done;
	box->done = NULL;
	pthread_mutex_unlock(&box->mu);
	while (j) {
		struct job *next = j->next;
		if (j->buf) {
			worker_answer_stream(j->d, j->buf, j->len, stream_done,
					     NULL);
			free(j);
		} else {
			job_fail(j);
		}
		j = next;
	}
}

static void *inbox_new(struct event_base *base, void *arg)
{
	struct inbox *box = calloc(1, sizeof(*box));

	if (!box)
		return NULL;
	box->t = arg;
	pthread_mutex_init(&box->mu, NULL);
	box->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (box->efd < 0)
		goto fail;
	box->ev = event_new(base, box->efd, EV_READ | EV_PERSIST, on_done, box);
	if (!box->ev || event_add(box->ev, NULL) < 0)
		goto fail;
	return box;
fail:
	if (box->ev)
		event_free(box->ev);
	if (box->efd >= 0)
		close(box->efd);
	pthread_mutex_destroy(&box->mu);
	free(box);
	return NULL;
}

/* The worker forgets t (or stops): its transfers still queued or built
 * get their SERVFAIL. */
static void inbox_free(void *state)
{
	struct inbox *box = state;
	struct transfer *t = box->t;
	struct job *mine = NULL, **pp;

	event_free(box->ev);
	close(box->efd);
	pthread_mutex_lock(&t->mu);
	for (pp = &t->jobs; *pp;) {
		struct job *j = *pp;
		if (j->box != box) {
			pp = &j->next;
			continue;
		}
		*pp = j->next;
		j->next = mine;
		mine = j;
	}
	t->tail = &t->jobs;
	while (*t->tail)
		t->tail = &(*t->tail)->next;
	pthread_mutex_unlock(&t->mu);
	jobs_fail(mine);
	pthread_mutex_lock(&box->mu);
	struct job *j = box->done;
	box->done = NULL;
	pthread_mutex_unlock(&box->mu);
	jobs_fail(j);
	pthread_mutex_destroy(&box->mu);
	free(box);
}

/* On the control thread: build one transfer. */
static void job_build(struct transfer *t, struct job *j)
{
	struct zone_index *zi = kube_zone(t->k);
	size_t n = zone_count_apexes(zi), i, nrr = 0;
	uint32_t serial = 0;
	char zone[1024];
	int rc = -EINVAL;

	dname_to_str(j->apex, zone, sizeof(zone));
	for (i = 0; i < n; i++) {
		const uint8_t *a = zone_apex_name(zi, i);
		if (dname_len(a) == j->alen && !memcmp(a, j->apex, j->alen))
			break;
	}
	if (i < n)
		rc = transfer_build(t->k, i, j->req, j->qend, j->opt_size, 0,
				    &j->buf, &j->len, &nrr, &serial);
	if (rc < 0) {
		j->buf = NULL;
		log_error("plugin/transfer: cannot transfer zone \"%s\" to %s: "
			  "%s",
			  zone, j->peer, strerror(-rc));
		return;
	}
	log_info("plugin/transfer: Outgoing transfer of %zu records of zone "
		 "\"%s\" to %s for %u SOA serial",
		 nrr, zone, j->peer, serial);
}

static void on_jobs(evutil_socket_t fd, short what, void *arg)
{
	struct transfer *t = arg;

	(void)what;
	if (fd >= 0)
		drain(fd);
	if (kube_applying(t->k)) {
		/* the zone the writer walks now is not the one served */
		struct timeval tv = {0, RETRY_MS * 1000};
		if (evtimer_add(t->retry, &tv) == 0)
			return;
	}
	pthread_mutex_lock(&t->mu);
	struct job *j = t->jobs;
	t->jobs = NULL;
	t->tail = &t->jobs;
	pthread_mutex_unlock(&t->mu);
	while (j) {
		struct job *next = j->next;
		struct inbox *box = j->box;
		job_build(t, j);
		pthread_mutex_lock(&box->mu);
		j->next = box->done;
		box->done = j;
		pthread_mutex_unlock(&box->mu);
		kick(box->efd);
		j = next;
	}
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	on_jobs(-1, what, arg);
}

struct transfer *transfer_new(const struct transfer_conf *conf, struct kube *k,
			      struct event_base *base)
{
	struct transfer *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->conf = conf;
	t->k = k;
	t->tail = &t->jobs;
	pthread_mutex_init(&t->mu, NULL);
	t->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (t->efd < 0)
		goto fail;
	t->ev = event_new(base, t->efd, EV_READ | EV_PERSIST, on_jobs, t);
	t->retry = evtimer_new(base, on_retry, t);
	if (!t->ev || !t->retry || event_add(t->ev, NULL) < 0)
		goto fail;
	return t;
fail:
	transfer_free(t);
	return NULL;
}

void transfer_free(struct transfer *t)
{
	if (!t)
		return;
	/* Jobs left here belong to no worker any more (their inboxes took
	 * theirs back): nothing can be answered. */
	while (t->jobs) {
		struct job *j = t->jobs;
		t->jobs = j->next;
		atomic_fetch_sub(&active, 1);
		free(j);
	}
	if (t->ev)
		event_free(t->ev);
	if (t->retry)
		event_free(t->retry);
	if (t->efd >= 0)
		close(t->efd);
	pthread_mutex_destroy(&t->mu);
	free(t);
}

bool transfer_allows(const struct transfer *t, const uint8_t *lname, size_t len,
		     const struct sockaddr *peer)
{
	return transfer_conf_allows(t->conf, lname, len, peer);
}

int transfer_start(struct transfer *t, const uint8_t *lname, size_t len,
		   const uint8_t *req, size_t qend, uint16_t opt_size,
		   const uint8_t *fail, size_t fail_len,
		   const struct sockaddr *peer, struct worker_call *call)
{
	struct job *j;

	if (len > sizeof(j->apex) || qend > sizeof(j->req) ||
	    fail_len > sizeof(j->fail))
		return -EINVAL;
	struct inbox *box = worker_local(call, t, inbox_new, t, inbox_free);
	if (!box)
		return -ENOMEM;
	if (atomic_fetch_add(&active, 1) >= TRANSFER_MAX_ACTIVE) {
		atomic_fetch_sub(&active, 1);
		return -EBUSY;
	}
	if (!(j = calloc(1, sizeof(*j))) || !(j->d = worker_defer(call))) {
		free(j);
		atomic_fetch_sub(&active, 1);
		return -ENOMEM;
	}
	j->box = box;
	memcpy(j->apex, lname, len);
	j->alen = len;
	memcpy(j->req, req, qend);
	j->qend = qend;
	j->opt_size = opt_size;
	memcpy(j->fail, fail, fail_len);
	j->fail_len = fail_len;
	log_addr_str(peer, j->peer, sizeof(j->peer));
	pthread_mutex_lock(&t->mu);
	*t->tail = j;
	t->tail = &j->next;
	pthread_mutex_unlock(&t->mu);
	kick(t->efd);
	return 0;
}
