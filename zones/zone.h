/*
 * zone.h -- the zone index: every DNS name of a set of cluster zones with
 * its answers precomputed in wire format, read without locks by the
 * workers and updated in place by one writer (the control thread).
 *
 * Readers (worker threads) call zone_apex_of, zone_lookup, zone_node_find
 * and zone_apex_soa inside rcu_read_lock()/rcu_read_unlock() of liburcu's
 * default flavour, from threads registered with rcu_register_thread(); what
 * they return stays valid until rcu_read_unlock().
 *
 * The writer describes the zone as records contributed by owners (one owner
 * per Kubernetes object): zone_owner_set replaces what an owner contributes,
 * zone_commit publishes every name whose answers changed.  The writer must
 * be a registered thread too.  Work is proportional to the names touched.
 *
 * Answers: an entry's data is the answer, authority and additional sections
 * of a response whose question is the node's name, laid out to follow the
 * 12-byte header and the question: owners are compression pointers to the
 * question (offset 12), so a response is header + question + data.
 */
#ifndef CLUSTERDNS_ZONE_H
#define CLUSTERDNS_ZONE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The record type that marks a name as existing without any RR (namespace
 * names, svc.<zone>): NOERROR/NODATA instead of NXDOMAIN. */
#define ZONE_TYPE_EXISTS 0

enum {
	ZONE_ENTRY_SOA = 1,	 /* append the zone's SOA to the authority */
	ZONE_ENTRY_EXTERNAL = 2, /* answer ends in a CNAME out of the zones */
	/* the CNAME chain ends at a name of the zones that has no node: it
	 * may be an endpoint name answered beside the zone (hosts.h); tgt is
	 * where that name is in the response */
	ZONE_ENTRY_DANGLING = 4,
};

/* One precomputed answer of a node.  qtype 0 answers every type that has
 * no entry of its own (used at CNAME nodes). */
struct zone_entry {
	uint16_t qtype;
	uint8_t rcode;
	uint8_t flags;
	uint16_t an, ns, ar;
	uint16_t tgt; /* ZONE_ENTRY_DANGLING: response offset of the name */
	uint32_t len; /* bytes of all three sections */
	uint32_t len_noadd; /* bytes without the additional section */
	uint32_t off;	    /* of the data, from zone_node_data() */
};

struct zone_index;
struct zone_node;
struct zone_apex;

/*
 * A new, empty index for the given zones (wire format, lowercase); mnames[i]
 * is the SOA MNAME of zone i.  The apexes exist from the start with SOA (and
 * whatever records owners contribute).  Returns NULL on allocation failure.
 */
struct zone_index *zone_index_new(const uint8_t *const *zones,
				  const uint8_t *const *mnames, size_t nzones,
				  uint32_t ttl);

/* Make the SOA RNAME of zone i rname (wire; the default is
 * hostmaster.<zone>); the SOA changes at the next zone_commit.  Returns 0,
 * or -EINVAL for no such zone or a malformed name. */
int zone_set_rname(struct zone_index *zi, size_t i, const uint8_t *rname);

/* Give zone i the tag tag (0 until then), an opaque mark of the index's
 * owner that readers get with zone_apex_tag.  Returns 0 or -EINVAL. */
int zone_set_tag(struct zone_index *zi, size_t i, unsigned tag);

/* Free the index and every node; no reader may use it any more. */
void zone_index_free(struct zone_index *zi);

/* ---- readers ---- */

/* The zone (longest apex) that contains lname (lowercase wire name of len
 * bytes), with the apex's wire length in *apex_len; NULL when none does. */
const struct zone_apex *zone_apex_of(const struct zone_index *zi,
				     const uint8_t *lname, size_t len,
				     size_t *apex_len);

/* zone_apex_of for a name whose label i starts at loff[i] (nlabels
 * labels, the root not counted), without a walk over its labels. */
const struct zone_apex *zone_apex_of_labels(const struct zone_index *zi,
					    const uint8_t *lname, size_t len,
					    const uint8_t *loff,
					    unsigned nlabels, size_t *apex_len);

/* The node of an existing name, NULL when the name does not exist. */
const struct zone_node *zone_lookup(const struct zone_index *zi,
				    const uint8_t *lname, size_t len);

/* The answer of node n for qtype (ANY: the first RRset); NULL means the
 * name exists without data of that type (NODATA). */
const struct zone_entry *zone_node_find(const struct zone_node *n,
					uint16_t qtype);

/* The tag of a zone (zone_set_tag). */
unsigned zone_apex_tag(const struct zone_apex *a);

/* Base of the entries' data; the zone a node belongs to. */
const uint8_t *zone_node_data(const struct zone_node *n);
const struct zone_apex *zone_node_apex(const struct zone_node *n);

/* The SOA RR for the authority section of negative answers: *len bytes
 * whose first two are to be overwritten with a compression pointer to the
 * apex name in the response. */
const uint8_t *zone_apex_soa(const struct zone_apex *a, size_t *len);

/* ---- the writer ---- */

/*
 * Records, as the builder writes them, are a sequence of
 *   [u8 owner length][owner, wire, lowercase][u16 type][u16 rdlen][rdata]
 * (big-endian integers).  Domain names inside CNAME, SRV, NS and PTR rdata
 * are uncompressed wire names.  Owners must lie inside one of the zones.
 */

/*
 * Replace the records contributed by owner key with recs (len bytes; 0
 * removes the owner) and stamp the owner with generation gen.  Nothing
 * changes when the records are the same as before.  Returns 0, -EINVAL for
 * malformed records or an owner outside the zones (nothing is changed), or
 * -ENOMEM.
 */
int zone_owner_set(struct zone_index *zi, const char *key, const uint8_t *recs,
		   size_t len, uint64_t gen);

/* Remove every owner whose generation is not gen.  Returns how many. */
size_t zone_owner_drop_stale(struct zone_index *zi, uint64_t gen);

/* Publish every name changed since the last commit, with a new SOA serial
 * when anything changed.  Returns the number of names published, or
 * -ENOMEM (the index then keeps serving what it had for those names). */
int zone_commit(struct zone_index *zi);

/* Make the next zone_commit move the SOA serial even when no record
 * changed (names answered from elsewhere, hosts.h, did). */
void zone_touch(struct zone_index *zi);

uint32_t zone_serial(const struct zone_index *zi);
uint32_t zone_ttl(const struct zone_index *zi);

/* Number of published names and of owners, for logs and tests. */
size_t zone_count_names(const struct zone_index *zi);
size_t zone_count_owners(const struct zone_index *zi);

/*
 * Walk every record the owners contribute now (writer side, committed or
 * not; no duplicates), the apexes' SOAs first, then the others in no
 * particular order: cb(owner,
 * type, ttl, rdata, rdlen, arg).  A non-zero return from cb stops the walk and
 * is returned.
 */
int zone_each_rr(const struct zone_index *zi,
		 int (*cb)(const uint8_t *owner, uint16_t type, uint32_t ttl,
			   const uint8_t *rdata, uint16_t rdlen, void *arg),
		 void *arg);

/* The zones of the index, for the dump tool. */
size_t zone_count_apexes(const struct zone_index *zi);
const uint8_t *zone_apex_name(const struct zone_index *zi, size_t i);

#endif
