/*
 * packet.c -- parse and check DNS queries, write response headers, the
 * echoed question, OPT records and error responses.
 *
 * Everything works on caller buffers; nothing allocates.  The parser reads
 * each byte of the request at most once and checks every length against the
 * end of the buffer before it reads.
 */
#include "server/packet.h"

#include <string.h>

#define TYPE_OPT 41
#define TYPE_IXFR 251
#define OPT_COOKIE 10
#define OPCODE_MASK 0x7800
#define OPCODE_SHIFT 11

/* Byte -> lowercase byte, for ASCII letters only (DNS case rules). */
#define LC(c) ((c) + ((c) >= 'A' && (c) <= 'Z' ? 32 : 0))
#define L4(c) LC(c), LC((c) + 1), LC((c) + 2), LC((c) + 3)
#define L16(c) L4(c), L4((c) + 4), L4((c) + 8), L4((c) + 12)
#define L64(c) L16(c), L16((c) + 16), L16((c) + 32), L16((c) + 48)
static const uint8_t lower_tab[256] = {L64(0), L64(64), L64(128), L64(192)};

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/*
 * Parse the question name at req[off]: uncompressed labels only.  Fills
 * q->lname and q->nlabels; returns the wire length or 0 when malformed.
 */
/* Copy n bytes from src to dst with the ASCII capitals lowercased, eight
 * at a time: a byte below 0x80 gets bit 5 when it is 'A'..'Z'.  (Label
 * length bytes are below 64 and pass unchanged.) */
static void lower_copy(uint8_t *dst, const uint8_t *src, size_t n)
{
	const uint64_t ones7 = 0x7f7f7f7f7f7f7f7fULL;
	const uint64_t high = 0x8080808080808080ULL;
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		uint64_t x;
		memcpy(&x, src + i, 8);
		uint64_t h = x & ones7;
		/* bit 7 of each byte: >= 'A', then > 'Z' */
		uint64_t ge_a = h + 0x3f3f3f3f3f3f3f3fULL;
		uint64_t gt_z = h + 0x2525252525252525ULL;
		x |= ((ge_a ^ gt_z) & ~x & high) >> 2;
		memcpy(dst + i, &x, 8);
	}
	for (; i < n; i++)
		dst[i] = lower_tab[src[i]];
}

static size_t parse_qname(const uint8_t *req, size_t len, size_t off,
			  struct packet_query *q)
{
	const uint8_t *p = req + off;
	const uint8_t *end = req + len;
	unsigned labels = 0;
	size_t total = 0;

	for (;;) {
		if (p >= end)
			return 0;
		uint8_t l = *p;
		if (l == 0)
			break;
		if (l & 0xc0) /* pointer, or an extended label type */
			return 0;
		if (total + l + 2 > PACKET_MAX_NAME || (size_t)(end - p) <= l)
			return 0;
		q->loff[labels++] = (uint8_t)total;
		total += (size_t)l + 1;
		p += (size_t)l + 1;
	}
	lower_copy(q->lname, req + off, total + 1);
	q->nlabels = labels;
	return total + 1;
}

size_t packet_skip_name(const uint8_t *req, size_t len, size_t off)
{
	size_t total = 0;

	for (;;) {
		if (off >= len)
			return 0;
		uint8_t l = req[off];
		if (l == 0)
			return off + 1;
		if ((l & 0xc0) == 0xc0)
			return off + 2 <= len ? off + 2 : 0;
		if (l & 0xc0)
			return 0;
		total += (size_t)l + 1;
		if (total + 1 > PACKET_MAX_NAME)
			return 0;
		off += (size_t)l + 1;
	}
}

/* A COOKIE option (RFC 7873 section 4) is a client cookie of 8 bytes,
 * alone or followed by a server cookie of 8 to 32 bytes. */
static bool cookie_len_ok(size_t olen)
{
	return olen == 8 || (olen >= 16 && olen <= 40);
}

/* EDNS options: code, length, data, and nothing left over; a COOKIE of a
 * length no cookie has is malformed (RFC 7873 section 5.2.2).  The options
 * themselves are ignored: clusterdns answers no cookie and pads nothing. */
static bool opt_rdata_ok(const uint8_t *p, size_t rdlen)
{
	size_t off = 0;

	while (off < rdlen) {
		if (rdlen - off < 4)
			return false;
		uint16_t code = rd16(p + off);
		size_t olen = rd16(p + off + 2);
		off += 4;
		if (rdlen - off < olen)
			return false;
		if (code == OPT_COOKIE && !cookie_len_ok(olen))
			return false;
		off += olen;
	}
	return true;
}

/*
 * Walk the additional section: every RR must fit, at most one OPT with the
 * root as owner, nothing after the last record.
 */
static enum packet_status parse_additional(const uint8_t *req, size_t len,
					   size_t off, unsigned arcount,
					   struct packet_query *q)
{
	bool badvers = false;

	for (unsigned i = 0; i < arcount; i++) {
		size_t name = off;
		off = packet_skip_name(req, len, off);
		if (off == 0 || len - off < 10)
			return PACKET_FORMERR;
		const uint8_t *rr = req + off;
		uint16_t type = rd16(rr);
		size_t rdlen = rd16(rr + 8);
		off += 10;
		if (len - off < rdlen)
			return PACKET_FORMERR;
		if (type == TYPE_OPT) {
			if (q->edns || off - name != 11)
				return PACKET_FORMERR;
			uint16_t size = rd16(rr + 2);
			q->edns = true; /* a FORMERR for its options has OPT */
			q->udp_size =
			    size < PACKET_MIN_UDP ? PACKET_MIN_UDP : size;
			q->edns_version = rr[5];
			q->do_bit = (rr[6] & 0x80) != 0;
			if (!opt_rdata_ok(req + off, rdlen))
				return PACKET_FORMERR;
			if (q->edns_version != 0)
				badvers = true;
		}
		off += rdlen;
	}
	if (off != len)
		return PACKET_FORMERR;
	return badvers ? PACKET_BADVERS : PACKET_OK;
}

/* The question at offset 12: name, type, class.  Sets q->qname last, so
 * q->qname != NULL means the question was parsed. */
static size_t parse_question(const uint8_t *req, size_t len,
			     struct packet_query *q)
{
	size_t nlen = parse_qname(req, len, PACKET_HEADER, q);
	if (nlen == 0)
		return 0;
	size_t off = PACKET_HEADER + nlen;
	if (len - off < 4)
		return 0;
	q->qtype = rd16(req + off);
	q->qclass = rd16(req + off + 2);
	q->qname = req + PACKET_HEADER;
	q->qname_len = nlen;
	return off + 4;
}

enum packet_status packet_parse(const uint8_t *req, size_t len,
				struct packet_query *q)
{
	q->qname = NULL;
	q->qname_len = 0;
	q->lname[0] = 0;
	q->nlabels = 0;
	q->qtype = 0;
	q->qclass = 0;
	q->edns = false;
	q->edns_version = 0;
	q->do_bit = false;
	q->udp_size = PACKET_MIN_UDP;
	if (len < PACKET_HEADER) {
		q->id = 0;
		q->flags = 0;
		q->opcode = 0;
		return PACKET_DROP;
	}
	q->id = rd16(req);
	q->flags = rd16(req + 2);
	q->opcode = (uint8_t)((q->flags & OPCODE_MASK) >> OPCODE_SHIFT);
	if (q->flags & PACKET_FLAG_QR)
		return PACKET_DROP;

	unsigned qdcount = rd16(req + 4);
	if (q->opcode != 0) {
		/* Echo the question when there is one that reads well. */
		if (qdcount == 1)
			parse_question(req, len, q);
		return PACKET_NOTIMP;
	}
	if (qdcount != 1)
		return PACKET_FORMERR;
	size_t off = parse_question(req, len, q);
	if (off == 0)
		return PACKET_FORMERR;
	unsigned nscount = rd16(req + 8);
	if (rd16(req + 6) != 0 || (nscount != 0 && q->qtype != TYPE_IXFR))
		return PACKET_FORMERR;
	/* IXFR: the client's SOA in the authority section (RFC 1995) */
	for (unsigned i = 0; i < nscount; i++) {
		off = packet_skip_name(req, len, off);
		if (off == 0 || len - off < 10 ||
		    len - off - 10 < rd16(req + off + 8))
			return PACKET_FORMERR;
		off += 10 + (size_t)rd16(req + off + 8);
	}
	unsigned arcount = rd16(req + 10);
	if (arcount == 0)
		return off == len ? PACKET_OK : PACKET_FORMERR;
	return parse_additional(req, len, off, arcount, q);
}

size_t packet_begin(const struct packet_query *q, uint16_t flags, uint8_t rcode,
		    uint8_t *out, size_t max)
{
	size_t n = PACKET_HEADER + q->qname_len + 4;

	if (max < n || q->qname == NULL)
		return 0;
	uint16_t f =
	    PACKET_FLAG_QR |
	    (q->flags & (OPCODE_MASK | PACKET_FLAG_RD | PACKET_FLAG_CD));
	f |= flags | (rcode & 0x0f);
	wr16(out, q->id);
	wr16(out + 2, f);
	wr16(out + 4, 1);
	memset(out + 6, 0, 6);
	memcpy(out + PACKET_HEADER, q->qname, q->qname_len);
	uint8_t *t = out + PACKET_HEADER + q->qname_len;
	wr16(t, q->qtype);
	wr16(t + 2, q->qclass);
	return n;
}

void packet_set_counts(uint8_t *out, uint16_t an, uint16_t ns, uint16_t ar)
{
	wr16(out + 6, an);
	wr16(out + 8, ns);
	wr16(out + 10, ar);
}

static size_t put_opt(uint16_t our_udp_size, uint8_t ext_rcode, bool do_bit,
		      uint8_t *out, size_t len, size_t max)
{
	if (len < PACKET_HEADER || max < len || max - len < 11)
		return 0;
	uint8_t *p = out + len;
	p[0] = 0;		   /* root owner */
	wr16(p + 1, TYPE_OPT);	   /* type */
	wr16(p + 3, our_udp_size); /* class: payload size */
	p[5] = ext_rcode;	   /* TTL: extended rcode, */
	p[6] = 0;		   /* version 0, */
	p[7] = do_bit ? 0x80 : 0;  /* DO and Z */
	p[8] = 0;
	wr16(p + 9, 0); /* rdlen */
	wr16(out + 10, (uint16_t)(rd16(out + 10) + 1));
	return len + 11;
}

size_t packet_put_rr(uint8_t *out, size_t n, uint16_t owner, uint16_t type,
		     uint32_t ttl, const void *d, size_t rdlen)
{
	uint8_t *p = out + n;

	wr16(p, (uint16_t)(0xc000 | owner));
	wr16(p + 2, type);
	wr16(p + 4, 1); /* IN */
	wr16(p + 6, (uint16_t)(ttl >> 16));
	wr16(p + 8, (uint16_t)ttl);
	wr16(p + 10, (uint16_t)rdlen);
	memcpy(p + 12, d, rdlen);
	return n + 12 + rdlen;
}

size_t packet_put_opt(const struct packet_query *q, uint16_t our_udp_size,
		      uint8_t ext_rcode, uint8_t *out, size_t len, size_t max)
{
	return packet_put_opt_do(q, our_udp_size, ext_rcode, false, out, len,
				 max);
}

size_t packet_put_opt_do(const struct packet_query *q, uint16_t our_udp_size,
			 uint8_t ext_rcode, bool upstream_do, uint8_t *out,
			 size_t len, size_t max)
{
	return put_opt(our_udp_size, ext_rcode, q->do_bit && upstream_do, out,
		       len, max);
}

size_t packet_error(const uint8_t *req, size_t len,
		    const struct packet_query *q, enum packet_status status,
		    uint8_t rcode, uint16_t our_udp_size, uint8_t *out,
		    size_t max)
{
	unsigned code;

	switch (status) {
	case PACKET_DROP:
		return 0;
	case PACKET_FORMERR:
		code = PACKET_RCODE_FORMERR;
		break;
	case PACKET_NOTIMP:
		code = PACKET_RCODE_NOTIMP;
		break;
	case PACKET_BADVERS:
		code = PACKET_RCODE_BADVERS;
		break;
	default:
		code = rcode;
		break;
	}
	if (len < PACKET_HEADER || max < PACKET_HEADER)
		return 0;

	/* The question only when it was parsed from this very request. */
	bool question = q->qname == req + PACKET_HEADER && q->qname_len > 0 &&
			q->qname_len + 4 <= len - PACKET_HEADER;
	size_t n = PACKET_HEADER;
	uint16_t f =
	    PACKET_FLAG_QR |
	    (q->flags & (OPCODE_MASK | PACKET_FLAG_RD | PACKET_FLAG_CD)) |
	    (code & 0x0f);
	wr16(out, q->id);
	wr16(out + 2, f);
	memset(out + 4, 0, 8);
	if (question && max - n >= q->qname_len + 4) {
		memcpy(out + n, q->qname, q->qname_len + 4);
		n += q->qname_len + 4;
		wr16(out + 4, 1);
	}
	if (q->edns || code > 0x0f) {
		size_t m = packet_put_opt(q, our_udp_size, (uint8_t)(code >> 4),
					  out, n, max);
		if (m)
			n = m;
	}
	return n;
}

/* Bytes miekg/dns (and so CoreDNS) writes as "\c" in a label. */
static inline bool label_special(uint8_t c)
{
	switch (c) {
	case '.':
	case ' ':
	case '\'':
	case '@':
	case ';':
	case '(':
	case ')':
	case '"':
	case '\\':
		return true;
	default:
		return false;
	}
}

size_t packet_name_str(const uint8_t *wire, char *buf, size_t len)
{
	char tmp[4];
	size_t n = 0;
	size_t total = 0;

	if (len == 0)
		return 0;
	if (wire[0] == 0) {
		if (len > 1)
			buf[n++] = '.';
		buf[n] = 0;
		return n;
	}
	while (wire[0] != 0 && (wire[0] & 0xc0) == 0) {
		uint8_t l = wire[0];
		total += (size_t)l + 1;
		if (total + 1 > PACKET_MAX_NAME)
			break;
		for (unsigned i = 1; i <= l; i++) {
			uint8_t c = wire[i];
			size_t k;
			if (label_special(c)) {
				tmp[0] = '\\';
				tmp[1] = (char)c;
				k = 2;
			} else if (c < 0x21 || c > 0x7e) {
				tmp[0] = '\\';
				tmp[1] = (char)('0' + c / 100);
				tmp[2] = (char)('0' + c / 10 % 10);
				tmp[3] = (char)('0' + c % 10);
				k = 4;
			} else {
				tmp[0] = (char)c;
				k = 1;
			}
			if (len - n <= k)
				goto out;
			memcpy(buf + n, tmp, k);
			n += k;
		}
		if (len - n <= 1)
			goto out;
		buf[n++] = '.';
		wire += (size_t)l + 1;
	}
out:
	buf[n] = 0;
	return n;
}
