/*
 * dname.h -- domain names in wire format (length-prefixed labels ending in
 * the root label): conversion, case folding, hashing, reverse names.
 * Nothing here allocates.
 */
#ifndef CLUSTERDNS_DNAME_H
#define CLUSTERDNS_DNAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define DNAME_MAX 255

/* Convert "web.prod.svc.cluster.local" (a trailing dot is optional, "" and
 * "." are the root) to wire format in out (room for DNAME_MAX bytes), keeping
 * the letter case.  Escapes are not interpreted.  Returns the wire length,
 * or -EINVAL for an empty label, a label over 63 bytes or a name over 255. */
int dname_from_str(const char *s, uint8_t *out);

/* A zone as the config stores it ("cluster.local", "" for the root) as a
 * lowercase wire name in out (256 bytes) with its length in *len.  Returns
 * 0 or -EINVAL. */
int dname_zone_wire(const char *zone, uint8_t *out, size_t *len);

/* Write name in presentation form with a trailing dot ("." for the root),
 * escaping '.', '\\' and non-printable bytes as RFC 1035 does.  Returns the
 * length, truncated (but NUL-terminated) when len is too small. */
size_t dname_to_str(const uint8_t *name, char *buf, size_t len);

/* Wire length of a well-formed name. */
size_t dname_len(const uint8_t *name);

/* Number of labels, root not counted. */
unsigned dname_labels(const uint8_t *name);

/* Lowercase ASCII letters of a wire name of len bytes, in place. */
void dname_lower(uint8_t *name, size_t len);

/* Copy src (len bytes) to dst lowercased. */
void dname_lower_copy(uint8_t *dst, const uint8_t *src, size_t len);

/* Offset of zone inside name when name is zone or below it (comparing bytes
 * exactly, so both must be lowercased); -1 otherwise. */
int dname_suffix_at(const uint8_t *name, size_t len, const uint8_t *zone,
		    size_t zlen);

/* dname_suffix_at for a name whose label i starts at loff[i] (nlabels
 * labels, the root not counted) and a zone of zlabels labels: one
 * comparison, no walk over the labels. */
static inline int dname_suffix_loff(const uint8_t *name, size_t len,
				    const uint8_t *loff, unsigned nlabels,
				    const uint8_t *zone, size_t zlen,
				    unsigned zlabels)
{
	if (zlabels > nlabels)
		return -1;
	size_t off = zlabels ? loff[nlabels - zlabels] : len - 1;
	if (len - off != zlen || memcmp(name + off, zone, zlen) != 0)
		return -1;
	return (int)off;
}

/* Hash of a wire name (already lowercased) for the zone index; seeded once
 * per process with dname_hash_seed(). */
uint64_t dname_hash(const uint8_t *name, size_t len);
void dname_hash_seed(uint64_t seed);

/* The reverse name of an address in wire form: "4.3.2.1.in-addr.arpa" or
 * the 32-nibble ip6.arpa name.  Returns the length. */
size_t dname_reverse4(const uint8_t a[4], uint8_t *out);
size_t dname_reverse6(const uint8_t a[16], uint8_t *out);

/*
 * The address a full reverse name stands for (lowercase wire name of len
 * bytes): four decimal labels without leading zeros under in-addr.arpa, or
 * 32 hex nibbles under ip6.arpa -- exactly the names dname_reverse4/6
 * write.  Returns 4 or 6 with out filled, 0 for any other name.
 */
int dname_reverse_addr(const uint8_t *name, size_t len, uint8_t out[16]);

/*
 * The address of a pod name label: "10-244-1-5" (exactly three dashes) is
 * IPv4, anything else with dashes for colons ("fd00-244--6") is IPv6.
 * Returns 4 or 6 with out filled (16 bytes for IPv6, 4 for IPv4), 0 when the
 * label is no address.
 */
int dname_dashed_addr(const uint8_t *label, size_t len, uint8_t out[16]);

#endif
