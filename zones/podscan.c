/*
 * podscan.c -- a PodList page scanned, not parsed into a tree: a small
 * recursive-descent reader that checks the syntax of everything it passes
 * and copies out only the fields of podscan.h.
 */
#include "zones/podscan.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 64

struct sc {
	const char *p, *end;
	int depth;
};

/* A value the page has but the item cannot use (too long, not ASCII, of
 * another type): the item is left out, the page goes on. */
#define UNUSABLE (-2)

static void ws(struct sc *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\n' ||
				 *s->p == '\r' || *s->p == '\t'))
		s->p++;
}

static char peek(struct sc *s)
{
	ws(s);
	return s->p < s->end ? *s->p : 0;
}

static bool eat(struct sc *s, char c)
{
	if (peek(s) != c)
		return false;
	s->p++;
	return true;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* A string: its raw bytes between the quotes in [*b, *b + *n), escapes
 * checked but kept.  -1 on a syntax error. */
static int str_raw(struct sc *s, const char **b, size_t *n, bool *esc)
{
	if (peek(s) != '"')
		return -1;
	const char *q = ++s->p;
	*esc = false;
	while (q < s->end) {
		unsigned char c = (unsigned char)*q;
		if (c == '"') {
			*b = s->p;
			*n = (size_t)(q - s->p);
			s->p = q + 1;
			return 0;
		}
		if (c < 0x20)
			return -1;
		if (c != '\\') {
			q++;
			continue;
		}
		*esc = true;
		if (s->end - q < 2)
			return -1;
		char e = q[1];
		if (e == 'u') {
			if (s->end - q < 6)
				return -1;
			for (int i = 2; i < 6; i++)
				if (hexval(q[i]) < 0)
					return -1;
			q += 6;
		} else if (e == '"' || e == '\\' || e == '/' || e == 'b' ||
			   e == 'f' || e == 'n' || e == 'r' || e == 't') {
			q += 2;
		} else {
			return -1;
		}
	}
	return -1;
}

/* A string into out (cap bytes, NUL-terminated): -1 syntax error,
 * UNUSABLE when it does not fit or has an escape beyond ASCII. */
static int str_copy(struct sc *s, char *out, size_t cap)
{
	const char *b;
	size_t n, o = 0;
	bool esc;

	if (str_raw(s, &b, &n, &esc) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		char c = b[i];
		if (esc && c == '\\') {
			char e = b[++i];
			switch (e) {
			case 'b':
				c = '\b';
				break;
			case 'f':
				c = '\f';
				break;
			case 'n':
				c = '\n';
				break;
			case 'r':
				c = '\r';
				break;
			case 't':
				c = '\t';
				break;
			case 'u': {
				int v = hexval(b[i + 1]) << 12 |
					hexval(b[i + 2]) << 8 |
					hexval(b[i + 3]) << 4 |
					hexval(b[i + 4]);
				i += 4;
				if (v == 0 || v > 0x7f)
					return UNUSABLE;
				c = (char)v;
				break;
			}
			default:
				c = e;
			}
		}
		if (o + 1 >= cap)
			return UNUSABLE;
		out[o++] = c;
	}
	out[o] = 0;
	return 0;
}

static int lit(struct sc *s, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0)
		return -1;
	s->p += n;
	return 0;
}

static bool digit(struct sc *s)
{
	return s->p < s->end && *s->p >= '0' && *s->p <= '9';
}

static int digits(struct sc *s)
{
	if (!digit(s))
		return -1;
	while (digit(s))
		s->p++;
	return 0;
}

static int number(struct sc *s)
{
	if (s->p < s->end && *s->p == '-')
		s->p++;
	if (s->p < s->end && *s->p == '0')
		s->p++;
	else if (digits(s) < 0)
		return -1;
	if (s->p < s->end && *s->p == '.') {
		s->p++;
		if (digits(s) < 0)
			return -1;
	}
	if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
		s->p++;
		if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
			s->p++;
		if (digits(s) < 0)
			return -1;
	}
	return 0;
}

/* Members of an object: call first with *first true after obj_open;
 * returns 1 with the key, 0 at the closing brace, -1 on a syntax error. */
static int obj_open(struct sc *s)
{
	if (!eat(s, '{') || ++s->depth > MAX_DEPTH)
		return -1;
	return 0;
}

static int obj_next(struct sc *s, bool *first, const char **k, size_t *kn)
{
	bool esc;

	if (eat(s, '}')) {
		s->depth--;
		return 0;
	}
	if (!*first && !eat(s, ','))
		return -1;
	*first = false;
	if (str_raw(s, k, kn, &esc) < 0 || !eat(s, ':'))
		return -1;
	return 1;
}

static int arr_open(struct sc *s)
{
	if (!eat(s, '[') || ++s->depth > MAX_DEPTH)
		return -1;
	return 0;
}

/* 1 when an element follows, 0 at the closing bracket, -1 on error. */
static int arr_next(struct sc *s, bool *first)
{
	if (eat(s, ']')) {
		s->depth--;
		return 0;
	}
	if (!*first && !eat(s, ','))
		return -1;
	*first = false;
	return 1;
}

static int skip(struct sc *s)
{
	const char *k;
	size_t kn;
	bool first = true, esc;
	int rc;

	switch (peek(s)) {
	case '"':
		return str_raw(s, &k, &kn, &esc);
	case '{':
		if (obj_open(s) < 0)
			return -1;
		while ((rc = obj_next(s, &first, &k, &kn)) > 0)
			if (skip(s) < 0)
				return -1;
		return rc;
	case '[':
		if (arr_open(s) < 0)
			return -1;
		while ((rc = arr_next(s, &first)) > 0)
			if (skip(s) < 0)
				return -1;
		return rc;
	case 't':
		return lit(s, "true");
	case 'f':
		return lit(s, "false");
	case 'n':
		return lit(s, "null");
	default:
		return number(s);
	}
}

static bool key_is(const char *k, size_t kn, const char *want)
{
	return strlen(want) == kn && memcmp(k, want, kn) == 0;
}

/* A string member the item needs: into out, or UNUSABLE (another type);
 * null counts as absent. */
static int want_str(struct sc *s, char *out, size_t cap)
{
	char c = peek(s);

	if (c == '"')
		return str_copy(s, out, cap);
	if (skip(s) < 0)
		return -1;
	return c == 'n' ? 0 : UNUSABLE;
}

/* An address string into ips (when there is room). */
static int want_ip(struct sc *s, struct podscan_pod *pod)
{
	char ip[64] = "";
	int rc = want_str(s, ip, sizeof(ip));

	if (rc < 0 || !*ip)
		return rc;
	if (pod->nips == PODSCAN_MAX_IPS)
		return 0;
	if (obj_addr_parse(ip, &pod->ips[pod->nips]) < 0)
		return UNUSABLE;
	pod->nips++;
	return 0;
}

/*
 * The members of the mapping at s, each handed to field(s, key, keylen,
 * arg) to read or skip its value; a value of another kind (null included)
 * is skipped as absent.  Returns 0, UNUSABLE when a field was, -1 on a
 * syntax error, or another negative code a field returned (-ENOMEM).
 */
static int members(struct sc *s,
		   int (*field)(struct sc *, const char *, size_t, void *),
		   void *arg)
{
	const char *k;
	size_t kn;
	bool first = true;
	int rc, bad = 0;

	if (peek(s) != '{')
		return skip(s) < 0 ? -1 : 0;
	if (obj_open(s) < 0)
		return -1;
	while ((rc = obj_next(s, &first, &k, &kn)) > 0) {
		rc = field(s, k, kn, arg);
		if (rc == UNUSABLE)
			bad = rc;
		else if (rc < 0)
			return rc;
	}
	return rc < 0 ? -1 : bad;
}

static int meta_field(struct sc *s, const char *k, size_t kn, void *arg)
{
	struct podscan_pod *pod = arg;

	if (key_is(k, kn, "name"))
		return want_str(s, pod->name, sizeof(pod->name));
	if (key_is(k, kn, "namespace"))
		return want_str(s, pod->ns, sizeof(pod->ns));
	return skip(s);
}

static int ip_field(struct sc *s, const char *k, size_t kn, void *arg)
{
	return key_is(k, kn, "ip") ? want_ip(s, arg) : skip(s);
}

/* status.podIPs: [{"ip": ...}, ...] */
static int item_ips(struct sc *s, struct podscan_pod *pod)
{
	bool first = true;
	int rc, bad = 0;

	if (peek(s) != '[')
		return skip(s) < 0 ? -1 : 0;
	if (arr_open(s) < 0)
		return -1;
	while ((rc = arr_next(s, &first)) > 0) {
		int r = members(s, ip_field, pod);
		if (r == UNUSABLE)
			bad = r;
		else if (r < 0)
			return r;
	}
	return rc < 0 ? -1 : bad;
}

struct status {
	struct podscan_pod *pod;
	char phase[32];
	char ip[64]; /* podIP */
};

static int status_field(struct sc *s, const char *k, size_t kn, void *arg)
{
	struct status *st = arg;

	if (key_is(k, kn, "phase"))
		return want_str(s, st->phase, sizeof(st->phase));
	if (key_is(k, kn, "podIP"))
		return want_str(s, st->ip, sizeof(st->ip));
	if (key_is(k, kn, "podIPs"))
		return item_ips(s, st->pod);
	return skip(s);
}

static int item_status(struct sc *s, struct podscan_pod *pod)
{
	struct status st = {.pod = pod};
	int rc = members(s, status_field, &st);

	if (rc == -1)
		return -1;
	/* podIPs when given, else podIP */
	if (!pod->nips && *st.ip) {
		if (obj_addr_parse(st.ip, &pod->ips[0]) < 0)
			return UNUSABLE;
		pod->nips = 1;
	}
	pod->running = !strcmp(st.phase, "Running");
	pod->terminal =
	    !strcmp(st.phase, "Succeeded") || !strcmp(st.phase, "Failed");
	return rc;
}

static int spec_field(struct sc *s, const char *k, size_t kn, void *arg)
{
	struct podscan_pod *pod = arg;

	if (key_is(k, kn, "nodeName"))
		return want_str(s, pod->node, sizeof(pod->node));
	return skip(s);
}

static int item_field(struct sc *s, const char *k, size_t kn, void *arg)
{
	if (key_is(k, kn, "metadata"))
		return members(s, meta_field, arg);
	if (key_is(k, kn, "spec"))
		return members(s, spec_field, arg);
	if (key_is(k, kn, "status"))
		return item_status(s, arg);
	return skip(s);
}

/* One item: 0 usable, UNUSABLE, -1 syntax error. */
static int item(struct sc *s, struct podscan_pod *pod, char *why, size_t wl)
{
	memset(pod, 0, sizeof(*pod));
	if (peek(s) != '{') {
		snprintf(why, wl, "an item that is not a mapping");
		return skip(s) < 0 ? -1 : UNUSABLE;
	}
	int rc = members(s, item_field, pod);
	if (rc == -1)
		return -1;
	if (rc) {
		snprintf(why, wl,
			 "Pod %.50s/%.50s: a field of the wrong type, "
			 "too long, or no IP address",
			 *pod->ns ? pod->ns : "default", pod->name);
		return UNUSABLE;
	}
	if (!*pod->name) {
		snprintf(why, wl, "a Pod without metadata.name");
		return UNUSABLE;
	}
	if (!*pod->ns)
		snprintf(pod->ns, sizeof(pod->ns), "default");
	return 0;
}

static int page_field(struct sc *s, const char *k, size_t kn, void *arg)
{
	struct podscan_list *out = arg;
	int rc;

	if (key_is(k, kn, "resourceVersion")) {
		rc = want_str(s, out->rv, sizeof(out->rv));
	} else if (key_is(k, kn, "continue") && peek(s) == '"') {
		/* as long as it is: measure, then copy */
		struct sc look = *s;
		const char *b;
		size_t n;
		bool esc;
		if (str_raw(&look, &b, &n, &esc) < 0)
			return -1;
		free(out->cont);
		if (!(out->cont = malloc(n + 1)))
			return -ENOMEM;
		rc = str_copy(s, out->cont, n + 1);
		if (rc == 0 && !*out->cont) {
			free(out->cont);
			out->cont = NULL;
		}
	} else {
		rc = skip(s);
	}
	/* a page whose metadata cannot be read is no list */
	return rc < 0 ? -1 : 0;
}

int podscan_page(const char *buf, size_t len,
		 void (*cb)(void *arg, const struct podscan_pod *pod),
		 void *arg, struct podscan_list *out)
{
	struct sc s = {buf, buf + len, 0};
	struct podscan_pod pod;
	const char *k;
	size_t kn;
	bool first = true;
	int rc;

	memset(out, 0, sizeof(*out));
	if (obj_open(&s) < 0)
		goto bad;
	while ((rc = obj_next(&s, &first, &k, &kn)) > 0) {
		if (key_is(k, kn, "metadata")) {
			if ((rc = members(&s, page_field, out)) == -ENOMEM)
				return rc;
		} else if (key_is(k, kn, "items") && peek(&s) == '[') {
			bool f2 = true;
			if (arr_open(&s) < 0)
				goto bad;
			while ((rc = arr_next(&s, &f2)) > 0) {
				int r =
				    item(&s, &pod, out->why, sizeof(out->why));
				if (r == -1)
					goto bad;
				if (r < 0) {
					out->nskip++;
					continue;
				}
				out->npods++;
				cb(arg, &pod);
			}
		} else if (key_is(k, kn, "items") && peek(&s) != 'n') {
			goto bad; /* items of another type than array or null */
		} else {
			rc = skip(&s);
		}
		if (rc < 0)
			goto bad;
	}
	if (rc < 0 || !*out->rv)
		goto bad;
	ws(&s);
	if (s.p != s.end)
		goto bad;
	return 0;
bad:
	free(out->cont);
	out->cont = NULL;
	return -EINVAL;
}
