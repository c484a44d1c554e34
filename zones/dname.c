/*
 * dname.c -- domain names in wire format.
 */
#include "zones/dname.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

static uint64_t hash_seed = 0x9e3779b97f4a7c15ULL;

int dname_from_str(const char *s, uint8_t *out)
{
	size_t n = strlen(s);
	size_t pos = 0;

	if (n > 0 && s[n - 1] == '.')
		n--;
	if (n == 0) {
		out[0] = 0;
		return 1;
	}
	size_t start = 0;
	while (start <= n) {
		size_t end = start;
		while (end < n && s[end] != '.')
			end++;
		size_t l = end - start;
		if (l == 0 || l > 63 || pos + 1 + l + 1 > DNAME_MAX)
			return -EINVAL;
		out[pos++] = (uint8_t)l;
		memcpy(out + pos, s + start, l);
		pos += l;
		start = end + 1;
	}
	out[pos++] = 0;
	return (int)pos;
}

size_t dname_to_str(const uint8_t *name, char *buf, size_t len)
{
	size_t o = 0;

	if (len == 0)
		return 0;
	if (name[0] == 0) {
		if (len > 1)
			buf[o++] = '.';
		buf[o] = 0;
		return o;
	}
	while (*name) {
		unsigned l = *name++;
		for (unsigned i = 0; i < l; i++) {
			uint8_t c = name[i];
			char tmp[5];
			size_t tl;
			if (c == '.' || c == '\\' || c == '"' || c == '(' ||
			    c == ')' || c == ';' || c == '@' || c == '$') {
				tmp[0] = '\\';
				tmp[1] = (char)c;
				tl = 2;
			} else if (c <= 0x20 || c >= 0x7f) {
				tmp[0] = '\\';
				tmp[1] = (char)('0' + c / 100);
				tmp[2] = (char)('0' + (c / 10) % 10);
				tmp[3] = (char)('0' + c % 10);
				tl = 4;
			} else {
				tmp[0] = (char)c;
				tl = 1;
			}
			if (o + tl + 1 >= len)
				goto out;
			memcpy(buf + o, tmp, tl);
			o += tl;
		}
		name += l;
		if (o + 2 >= len)
			goto out;
		buf[o++] = '.';
	}
out:
	buf[o] = 0;
	return o;
}

size_t dname_len(const uint8_t *name)
{
	const uint8_t *p = name;

	while (*p)
		p += *p + 1;
	return (size_t)(p - name) + 1;
}

unsigned dname_labels(const uint8_t *name)
{
	unsigned n = 0;

	while (*name) {
		name += *name + 1;
		n++;
	}
	return n;
}

static inline uint8_t lower(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

void dname_lower(uint8_t *name, size_t len)
{
	for (size_t i = 0; i < len; i++)
		name[i] = lower(name[i]);
}

void dname_lower_copy(uint8_t *dst, const uint8_t *src, size_t len)
{
	for (size_t i = 0; i < len; i++)
		dst[i] = lower(src[i]);
}

int dname_suffix_at(const uint8_t *name, size_t len, const uint8_t *zone,
		    size_t zlen)
{
	size_t off = 0;

	if (zlen > len)
		return -1;
	/* Walk labels until the remainder is as long as the zone. */
	while (len - off > zlen)
		off += (size_t)name[off] + 1;
	if (len - off != zlen || memcmp(name + off, zone, zlen) != 0)
		return -1;
	return (int)off;
}

void dname_hash_seed(uint64_t seed)
{
	hash_seed = seed | 1;
}

static inline uint64_t mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

uint64_t dname_hash(const uint8_t *name, size_t len)
{
	uint64_t h = hash_seed ^ (len * 0x9e3779b97f4a7c15ULL);
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		uint64_t w;
		memcpy(&w, name + i, 8);
		h = (h ^ w) * 0x100000001b3ULL;
		h ^= h >> 29;
	}
	uint64_t w = 0;
	memcpy(&w, name + i, len - i);
	h = (h ^ w) * 0x100000001b3ULL;
	return mix(h);
}

static size_t put_label(uint8_t *out, const char *s)
{
	size_t l = strlen(s);

	out[0] = (uint8_t)l;
	memcpy(out + 1, s, l);
	return l + 1;
}

size_t dname_reverse4(const uint8_t a[4], uint8_t *out)
{
	size_t o = 0;
	char tmp[4];

	for (int i = 3; i >= 0; i--) {
		unsigned v = a[i], n = 0;
		if (v >= 100)
			tmp[n++] = (char)('0' + v / 100);
		if (v >= 10)
			tmp[n++] = (char)('0' + (v / 10) % 10);
		tmp[n++] = (char)('0' + v % 10);
		tmp[n] = 0;
		o += put_label(out + o, tmp);
	}
	o += put_label(out + o, "in-addr");
	o += put_label(out + o, "arpa");
	out[o++] = 0;
	return o;
}

size_t dname_reverse6(const uint8_t a[16], uint8_t *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	for (int i = 15; i >= 0; i--) {
		out[o++] = 1;
		out[o++] = (uint8_t)hex[a[i] & 15];
		out[o++] = 1;
		out[o++] = (uint8_t)hex[a[i] >> 4];
	}
	o += put_label(out + o, "ip6");
	o += put_label(out + o, "arpa");
	out[o++] = 0;
	return o;
}

int dname_reverse_addr(const uint8_t *name, size_t len, uint8_t out[16])
{
	static const uint8_t v4[] = "\7in-addr\4arpa";
	static const uint8_t v6[] = "\3ip6\4arpa";
	size_t o = 0;

	if (len == 64 + sizeof(v6) && memcmp(name + 64, v6, sizeof(v6)) == 0) {
		for (int i = 15; i >= 0; i--) {
			uint8_t nib[2];
			for (int k = 0; k < 2; k++, o += 2) {
				uint8_t c = name[o + 1];
				if (name[o] != 1)
					return 0;
				if (c >= '0' && c <= '9')
					nib[k] = (uint8_t)(c - '0');
				else if (c >= 'a' && c <= 'f')
					nib[k] = (uint8_t)(c - 'a' + 10);
				else
					return 0;
			}
			out[i] = (uint8_t)(nib[1] << 4 | nib[0]);
		}
		return 6;
	}
	for (int i = 3; i >= 0; i--) {
		size_t n = o < len ? name[o] : 0;
		unsigned v = 0;
		if (n < 1 || n > 3 || o + n + 1 > len ||
		    (n > 1 && name[o + 1] == '0'))
			return 0;
		for (size_t k = 1; k <= n; k++) {
			uint8_t c = name[o + k];
			if (c < '0' || c > '9')
				return 0;
			v = v * 10 + (unsigned)(c - '0');
		}
		if (v > 255)
			return 0;
		out[i] = (uint8_t)v;
		o += n + 1;
	}
	return len == o + sizeof(v4) && memcmp(name + o, v4, sizeof(v4)) == 0
		   ? 4
		   : 0;
}

int dname_dashed_addr(const uint8_t *label, size_t len, uint8_t out[16])
{
	char buf[64];
	unsigned dashes = 0;
	bool dbl = false;

	if (len == 0 || len >= sizeof(buf))
		return 0;
	for (size_t i = 0; i < len; i++) {
		char c = (char)label[i];
		if (c == '-') {
			dashes++;
			if (i > 0 && label[i - 1] == '-')
				dbl = true;
		}
		buf[i] = c;
	}
	buf[len] = 0;
	if (dashes == 3 && !dbl) {
		for (size_t i = 0; i < len; i++)
			if (buf[i] == '-')
				buf[i] = '.';
		return inet_pton(AF_INET, buf, out) == 1 ? 4 : 0;
	}
	for (size_t i = 0; i < len; i++)
		if (buf[i] == '-')
			buf[i] = ':';
	return inet_pton(AF_INET6, buf, out) == 1 ? 6 : 0;
}

int dname_zone_wire(const char *zone, uint8_t *out, size_t *len)
{
	int n = dname_from_str(zone, out);

	if (n < 0)
		return -EINVAL;
	dname_lower(out, (size_t)n);
	*len = (size_t)n;
	return 0;
}
