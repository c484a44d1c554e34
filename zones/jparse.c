/*
 * jparse.c -- a JSON text into a cJSON tree (jparse.h): one loop over the
 * bytes with a stack of the open containers, strings found 16 bytes at a
 * time (jscan.h) and copied once.
 */
#include "zones/jparse.h"

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "zones/jscan.h"

static inline const char *ws(const char *p, const char *e)
{
	while (p < e && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
		p++;
	return p;
}

static inline bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static cJSON *node(int type)
{
	cJSON *n = cJSON_malloc(sizeof(*n));

	if (n) {
		memset(n, 0, sizeof(*n));
		n->type = type;
	}
	return n;
}

/* Append v to the children of par.  As in cJSON, the first child's prev
 * is the last child. */
static void append(cJSON *par, cJSON *v)
{
	cJSON *first = par->child;

	if (!first) {
		par->child = v;
		v->prev = v;
		return;
	}
	first->prev->next = v;
	v->prev = first->prev;
	first->prev = v;
}

/* The code unit of the escape \uXXXX at q (its hex digits checked). */
static unsigned u16_at(const char *q)
{
	return (unsigned)(jscan_hex(q[2]) << 12 | jscan_hex(q[3]) << 8 |
			  jscan_hex(q[4]) << 4 | jscan_hex(q[5]));
}

static size_t utf8_put(unsigned cp, char *out)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | cp >> 12);
		out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | cp >> 18);
	out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	out[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* The escapes of the raw string [b, q) written to out: its length, or -1
 * for a code point a C string cannot hold (U+0000) or an unpaired
 * surrogate.  An escape's 6 bytes (\uXXXX) make at most 3, a pair's 12
 * at most 4, so out needs no more than q - b bytes. */
static long unescape(const char *b, const char *q, char *out)
{
	size_t o = 0;

	for (const char *r = b; r < q;) {
		const char *bs = memchr(r, '\\', (size_t)(q - r));
		size_t plain = bs ? (size_t)(bs - r) : (size_t)(q - r);
		memcpy(out + o, r, plain);
		o += plain;
		if (!bs)
			break;
		char c = bs[1];
		r = bs + 2;
		if (c != 'u') {
			out[o++] = c == 'b'   ? '\b'
				   : c == 'f' ? '\f'
				   : c == 'n' ? '\n'
				   : c == 'r' ? '\r'
				   : c == 't' ? '\t'
					      : c;
			continue;
		}
		unsigned cp = u16_at(bs);
		r = bs + 6;
		if (cp >= 0xdc00 && cp <= 0xdfff)
			return -1;
		if (cp >= 0xd800 && cp <= 0xdbff) {
			if (q - r < 6 || r[0] != '\\' || r[1] != 'u')
				return -1;
			unsigned lo = u16_at(r);
			if (lo < 0xdc00 || lo > 0xdfff)
				return -1;
			cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			r += 6;
		}
		if (cp == 0)
			return -1;
		o += utf8_put(cp, out + o);
	}
	return (long)o;
}

/* The string whose opening quote is at *pp, as a NUL-terminated copy;
 * *pp goes past its closing quote.  NULL on a syntax error (*pp at it) or
 * when out of memory. */
static char *string(const char **pp, const char *e)
{
	const char *b = *pp + 1, *q = b;
	bool esc = false;

	for (;;) {
		q = jscan_str_stop(q, e);
		if (q == e || (unsigned char)*q < 0x20)
			goto bad;
		if (*q == '"')
			break;
		/* a backslash */
		esc = true;
		int el = jscan_escape(q, e);
		if (el <= 0)
			goto bad;
		q += el;
	}
	size_t n = (size_t)(q - b);
	char *out = cJSON_malloc(n + 1);
	if (!out)
		return NULL;
	if (!esc) {
		memcpy(out, b, n);
	} else {
		long o = unescape(b, q, out);
		if (o < 0) {
			cJSON_free(out);
			q = b - 1;
			goto bad;
		}
		n = (size_t)o;
	}
	out[n] = 0;
	*pp = q + 1;
	return out;
bad:
	*pp = q;
	return NULL;
}

/* The number at *pp into *v; *pp goes past it.  false on a syntax error
 * (*pp at it). */
static bool number(const char **pp, const char *e, double *v)
{
	const char *s = *pp, *p = s;
	bool plain = true;

	if (p < e && *p == '-')
		p++;
	if (p == e || !is_digit(*p))
		goto bad;
	if (*p == '0')
		p++;
	else
		while (p < e && is_digit(*p))
			p++;
	if (p < e && *p == '.') {
		plain = false;
		if (++p == e || !is_digit(*p))
			goto bad;
		while (p < e && is_digit(*p))
			p++;
	}
	if (p < e && (*p == 'e' || *p == 'E')) {
		plain = false;
		if (++p < e && (*p == '+' || *p == '-'))
			p++;
		if (p == e || !is_digit(*p))
			goto bad;
		while (p < e && is_digit(*p))
			p++;
	}
	/* what cJSON would read on with ("0123", "1.5.2"): not a number */
	if (p < e && (is_digit(*p) || *p == '.' || *p == 'e' || *p == 'E' ||
		      *p == '+' || *p == '-'))
		goto bad;
	size_t n = (size_t)(p - s);
	if (n > 63)
		goto bad;
	bool neg = *s == '-';
	if (plain && n - neg <= 15) {
		uint64_t u = 0;
		for (const char *d = s + neg; d < p; d++)
			u = u * 10 + (uint64_t)(*d - '0');
		*v = neg ? -(double)u : (double)u;
	} else {
		char tmp[64];
		memcpy(tmp, s, n);
		tmp[n] = 0;
		*v = strtod(tmp, NULL);
	}
	*pp = p;
	return true;
bad:
	*pp = p;
	return false;
}

static cJSON *number_node(double num)
{
	cJSON *v = node(cJSON_Number);

	if (v) {
		v->valuedouble = num;
		v->valueint = num >= INT_MAX	       ? INT_MAX
			      : num <= (double)INT_MIN ? INT_MIN
						       : (int)num;
	}
	return v;
}

/* A literal at p: its node with *n its length, else NULL (*n 0). */
static cJSON *literal(const char *p, const char *e, size_t *n)
{
	size_t have = (size_t)(e - p);

	*n = 0;
	if (have >= 4 && memcmp(p, "true", 4) == 0) {
		cJSON *v = node(cJSON_True);
		if (v)
			v->valueint = 1;
		*n = 4;
		return v;
	}
	if (have >= 5 && memcmp(p, "false", 5) == 0) {
		*n = 5;
		return node(cJSON_False);
	}
	if (have >= 4 && memcmp(p, "null", 4) == 0) {
		*n = 4;
		return node(cJSON_NULL);
	}
	return NULL;
}

/* An object member's key and its colon at *pp: the key, or NULL. */
static char *member_key(const char **pp, const char *e)
{
	const char *p = ws(*pp, e);
	char *key;

	if (p == e || *p != '"') {
		*pp = p;
		return NULL;
	}
	if (!(key = string(&p, e))) {
		*pp = p;
		return NULL;
	}
	p = ws(p, e);
	if (p == e || *p != ':') {
		cJSON_free(key);
		*pp = p;
		return NULL;
	}
	*pp = p + 1;
	return key;
}

cJSON *jparse(const char *buf, size_t len, const char **end)
{
	const char *p = buf, *e = buf + len;
	cJSON *root = NULL, *stk[JPARSE_MAX_DEPTH];
	char *key = NULL;
	int d = 0;

	for (;;) {
		/* a value */
		p = ws(p, e);
		if (p == e)
			goto fail;
		char c = *p;
		cJSON *v;
		if (c == '{' || c == '[') {
			if (d == JPARSE_MAX_DEPTH)
				goto fail;
			v = node(c == '{' ? cJSON_Object : cJSON_Array);
			p++;
		} else if (c == '"') {
			char *s = string(&p, e);
			if (!s)
				goto fail;
			if (!(v = node(cJSON_String))) {
				cJSON_free(s);
				goto fail;
			}
			v->valuestring = s;
		} else if (c == '-' || is_digit(c)) {
			double num;
			if (!number(&p, e, &num))
				goto fail;
			v = number_node(num);
		} else {
			size_t n;
			v = literal(p, e, &n);
			if (!n)
				goto fail;
			p += n;
		}
		if (!v)
			goto fail;
		v->string = key;
		key = NULL;
		if (d)
			append(stk[d - 1], v);
		else
			root = v;
		if (c == '{' || c == '[') {
			stk[d++] = v;
			p = ws(p, e);
			if (p < e && *p != (c == '{' ? '}' : ']')) {
				if (c == '{' && !(key = member_key(&p, e)))
					goto fail;
				continue; /* its first value */
			}
			/* empty: closed below */
		}
		/* after a value: a comma, or the ends of containers */
		for (;;) {
			if (!d)
				goto done;
			p = ws(p, e);
			if (p == e)
				goto fail;
			bool obj = stk[d - 1]->type == cJSON_Object;
			if (*p == ',') {
				p++;
				if (obj && !(key = member_key(&p, e)))
					goto fail;
				break;
			}
			if (*p != (obj ? '}' : ']'))
				goto fail;
			p++;
			d--;
		}
	}
done:
	if (end) {
		*end = p;
	} else if (ws(p, e) != e) {
		p = ws(p, e);
		goto fail;
	}
	return root;
fail:
	if (end)
		*end = p;
	cJSON_free(key);
	cJSON_Delete(root);
	return NULL;
}
