/*
 * autopath.h -- the autopath plugin with `@kubernetes`: a pod's first
 * search-path query, NAME.<ns>.svc.<zone>, is completed on the server.
 * When that name does not exist and the client is a running pod of <ns>
 * (`pods verified`), the server asks NAME.svc.<zone>, NAME.<zone>, NAME
 * under the search domains of its own resolv.conf and NAME itself, and
 * answers with a CNAME from the asked name to the first that exists plus
 * its records.  This module holds the directive's setup, the search path
 * and the candidate names, and the composition of that answer; the walk
 * itself (zone, cache, forwarder) is query.c's.
 */
#ifndef CLUSTERDNS_AUTOPATH_H
#define CLUSTERDNS_AUTOPATH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server/corefile.h"
#include "server/packet.h"

struct setup;

/* Search domains taken from resolv.conf (more are ignored: glibc's old
 * limit). */
#define AUTOPATH_MAX_SEARCH 6
#define AUTOPATH_MAX_ZONES 16
/* Candidates: the asked name, svc.<zone>, <zone>, the search domains and
 * the name itself. */
#define AUTOPATH_MAX_CAND (3 + AUTOPATH_MAX_SEARCH + 1)

/* The directive: `autopath [ZONE...] @kubernetes`. */
struct autopath_conf {
	char **zones; /* lowercase, no trailing dot; default: the block's
		       * keys */
	size_t nzones;
	char *file; /* where the directive is */
	int line;
};

/*
 * Setup of `autopath [ZONE...] @kubernetes` (setup.h): the conf goes to
 * c->block->autopath.  A resolv.conf file instead of @kubernetes, and any
 * other @PLUGIN, are refused.  Once per block, no block of options.
 * Returns 0 or -EINVAL/-ENOMEM with c->err set.
 */
int autopath_setup(struct setup *c, const struct corefile_dir *d);

/* End of the block (config.c's table): warns when the block has no
 * kubernetes directive with `pods verified`, as autopath then does
 * nothing.  Returns 0 or -ENOMEM. */
int autopath_end(struct setup *c, bool ok);

/* Free a and what it holds (NULL is fine). */
void autopath_conf_free(struct autopath_conf *a);

/* What the query path uses (immutable while serving). */
struct autopath {
	uint8_t zones[AUTOPATH_MAX_ZONES][PACKET_MAX_NAME + 1]; /* wire */
	size_t zlen[AUTOPATH_MAX_ZONES];
	size_t nzones;
	uint8_t search[AUTOPATH_MAX_SEARCH][PACKET_MAX_NAME + 1]; /* wire */
	size_t slen[AUTOPATH_MAX_SEARCH];
	size_t nsearch;
};

/*
 * Fill ap from its directive and the search domains of the resolv.conf at
 * resolv (NULL or a file that cannot be read: none, as CoreDNS).  Returns
 * 0, or -EINVAL with err set (a zone that is no DNS name).
 */
int autopath_init(struct autopath *ap, const struct autopath_conf *c,
		  const char *resolv, char *err, size_t errlen);

/*
 * The search domains of a resolv.conf-style file: the last `search` or
 * `domain` line wins, as in glibc; at most AUTOPATH_MAX_SEARCH, names
 * that are no DNS names skipped.  ap->search gets them in wire form,
 * lowercase.  Returns how many, or -errno when the file cannot be read
 * (ap then has none).
 */
int autopath_read_search(struct autopath *ap, const char *path);

/* Is lname (lowercase wire, len bytes) under one of ap's zones? */
bool autopath_in_zones(const struct autopath *ap, const uint8_t *lname,
		       size_t len);

/*
 * Is lname (len bytes) of the form BASE.<ns>.svc.<zone> with a BASE of
 * one label or more, where the last alen bytes are the zone?  Returns the
 * length of BASE (its labels' bytes), with *nsoff the offset of the <ns>
 * label; 0 when not.
 */
size_t autopath_split(const uint8_t *lname, size_t len, size_t alen,
		      size_t *nsoff);

/* Number of candidates of ap (the asked name counted). */
size_t autopath_ncand(const struct autopath *ap);

/*
 * Candidate i (1 .. autopath_ncand - 1) of the query name qname (len
 * bytes, BASE of blen bytes first, its zone the last alen): BASE (the
 * client's letter case) followed by svc.<zone>, <zone>, search domain
 * i - 3, or the root.  out has room for PACKET_MAX_NAME + 1 bytes.
 * Returns its wire length, 0 when it would be longer than a name can be.
 */
size_t autopath_candidate(const struct autopath *ap, const uint8_t *qname,
			  size_t len, size_t blen, size_t alen, size_t i,
			  uint8_t *out);

/*
 * A query of the name cand (cand_len bytes) with the type, class, flags
 * and EDNS of q, into out (room for max bytes): the request the walk asks
 * the zone, the cache and upstream with.  Returns its length, 0 when max
 * is too small.
 */
size_t autopath_request(const struct packet_query *q, const uint8_t *cand,
			size_t cand_len, uint8_t *out, size_t max);

/*
 * The answer to q found under another name: the header and question of q
 * (the client's ID, flags and letter case), a CNAME from q's name to cand
 * (its TTL that of the first record found, else of the SOA, else ttl),
 * then the records of pre (an ExternalName chain of the zone: header,
 * question and its CNAMEs, may be NULL) and of ans (a whole response, from
 * the zone, the cache or upstream; its OPT dropped), the rcode of ans,
 * AA when ans has it and pre is NULL, our OPT when q has EDNS.  When that
 * does not fit in limit: the question with TC.  Returns the length, 0 when
 * ans or pre do not parse.  Allocates (ldns) while it works.
 */
size_t autopath_compose(const struct packet_query *q, uint16_t udp_max,
			const uint8_t *cand, size_t cand_len,
			const uint8_t *pre, size_t plen, const uint8_t *ans,
			size_t alen, uint32_t ttl, uint8_t *out, size_t limit);

#endif
