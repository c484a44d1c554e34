/*
 * packet.h -- DNS queries on the wire: parse and check a request, write the
 * header, the echoed question, the EDNS OPT record and error responses.
 * Nothing here allocates; every function works on caller buffers.
 */
#ifndef CLUSTERDNS_PACKET_H
#define CLUSTERDNS_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PACKET_HEADER 12
#define PACKET_MAX_NAME 255
#define PACKET_MAX_LABELS 127 /* of a name of PACKET_MAX_NAME bytes */
#define PACKET_MAX_TCP 65535
#define PACKET_MIN_UDP 512

/* DNS constants used across the server. */
enum {
	PACKET_RCODE_NOERROR = 0,
	PACKET_RCODE_FORMERR = 1,
	PACKET_RCODE_SERVFAIL = 2,
	PACKET_RCODE_NXDOMAIN = 3,
	PACKET_RCODE_NOTIMP = 4,
	PACKET_RCODE_REFUSED = 5,
	PACKET_RCODE_BADVERS = 16, /* extended: OPT ext-rcode 1, header 0 */
};
enum {
	PACKET_FLAG_QR = 0x8000,
	PACKET_FLAG_AA = 0x0400,
	PACKET_FLAG_TC = 0x0200,
	PACKET_FLAG_RD = 0x0100,
	PACKET_FLAG_RA = 0x0080,
	PACKET_FLAG_AD = 0x0020,
	PACKET_FLAG_CD = 0x0010,
};

/* A parsed query.  qname points into the request (the client's letter
 * case); lname is the same name lowercased. */
struct packet_query {
	uint16_t id;
	uint16_t flags; /* the request's flags word (opcode included) */
	uint8_t opcode;
	const uint8_t *qname;
	size_t qname_len; /* wire length, final root label included */
	uint8_t lname[PACKET_MAX_NAME + 1];
	unsigned nlabels;		 /* labels, root not counted */
	uint8_t loff[PACKET_MAX_LABELS]; /* where label i starts in lname */
	uint16_t qtype;
	uint16_t qclass;
	bool edns;
	uint8_t edns_version;
	bool do_bit;
	uint16_t udp_size; /* the client's EDNS payload size (>= 512) or 512 */
};

enum packet_status {
	PACKET_OK = 0,
	PACKET_DROP,	/* not to be answered: runt, or a response (QR=1) */
	PACKET_FORMERR, /* malformed: answer FORMERR */
	PACKET_NOTIMP,	/* opcode other than QUERY: answer NOTIMP */
	PACKET_BADVERS, /* EDNS version > 0: answer BADVERS */
};

/*
 * Parse and check a request of len bytes: one question, no answer
 * section, no authority section but for IXFR (the client's SOA, RFC 1995;
 * its records are only checked to fit), an additional section of whole
 * records with at most one OPT, nothing after it.  Returns PACKET_OK with q
 * filled, or another status saying how to answer.  q is filled as far as
 * parsing got (id and flags whenever the header was read), for packet_error().
 */
enum packet_status packet_parse(const uint8_t *req, size_t len,
				struct packet_query *q);

/*
 * Write the start of a response into out: header (id, opcode, RD and CD
 * echoed, TC, AD and Z of the request not, QR set, flags|rcode added, QDCOUNT
 * 1, other counts zero) and the question in the client's letter case.  Returns
 * bytes written (12 + qname_len + 4), or 0 when max is too small or q has no
 * question.
 */
size_t packet_begin(const struct packet_query *q, uint16_t flags, uint8_t rcode,
		    uint8_t *out, size_t max);

/* Set the section counts of a response started by packet_begin (before
 * packet_put_opt, which adds one to ARCOUNT). */
void packet_set_counts(uint8_t *out, uint16_t an, uint16_t ns, uint16_t ar);

/* Append at out+n an RR of class IN owned by the name at response offset
 * owner (a compression pointer to it), with rdata d (rdlen bytes).
 * Returns the new length; the caller has checked that 12 + rdlen bytes
 * fit. */
size_t packet_put_rr(uint8_t *out, size_t n, uint16_t owner, uint16_t type,
		     uint32_t ttl, const void *d, size_t rdlen);

/* Append an OPT record (our UDP size, version 0, extended rcode ext_rcode,
 * no option, DO and the Z flags clear: clusterdns signs nothing) at out+len
 * and bump ARCOUNT.  Returns the new length, or 0 when it does not fit in
 * max. */
size_t packet_put_opt(const struct packet_query *q, uint16_t our_udp_size,
		      uint8_t ext_rcode, uint8_t *out, size_t len, size_t max);

/* packet_put_opt() for an answer relayed from upstream (or kept from one
 * in the cache): DO is set when the request had it and so did the
 * upstream's answer (upstream_do), a DNSSEC-aware upstream's. */
size_t packet_put_opt_do(const struct packet_query *q, uint16_t our_udp_size,
			 uint8_t ext_rcode, bool upstream_do, uint8_t *out,
			 size_t len, size_t max);

/*
 * A complete error response for a request that packet_parse refused or that
 * the server cannot answer (status or rcode given as PACKET_RCODE_*): the
 * question is echoed when it was parsed, OPT added when the request had one
 * (DO clear), RD and CD copied.
 * Returns the length, or 0 when nothing is to be sent (PACKET_DROP).
 */
size_t packet_error(const uint8_t *req, size_t len,
		    const struct packet_query *q, enum packet_status status,
		    uint8_t rcode, uint16_t our_udp_size, uint8_t *out,
		    size_t max);

/* Skip a name at off in a message of len bytes (compression allowed: a
 * pointer ends the name; at most 255 bytes).  Returns the offset after it,
 * or 0 when it is malformed or runs off the end. */
size_t packet_skip_name(const uint8_t *msg, size_t len, size_t off);

/* The name at q->qname in presentation form ("web.prod.svc.cluster.local.",
 * "." for the root), escaping as RFC 1035 does and as CoreDNS prints names:
 * . \ " ' ( ) ; @ and space as "\c", other bytes outside 0x21..0x7e as
 * "\DDD".  buf gets at most len - 1 characters and a NUL (a full name needs
 * 4 * 255 + 1); wire must be an uncompressed name.  Returns the length. */
size_t packet_name_str(const uint8_t *wire, char *buf, size_t len);

#endif
