/*
 * podscan.c -- a PodList page scanned, not parsed into a tree: a small
 * recursive-descent reader that checks the syntax of everything it passes
 * and copies out only the fields of podscan.h.
 */
#include "zones/podscan.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zones/jscan.h"

#define MAX_DEPTH 64

struct sc {
	const char *p, *end;
	int depth;
	bool trunc; /* a read ran into the end of the bytes at hand */
};

/* A value the page has but the item cannot use (too long, not ASCII, of
 * another type): the item is left out, the page goes on. */
#define UNUSABLE (-2)

static inline void ws(struct sc *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\n' ||
				 *s->p == '\r' || *s->p == '\t'))
		s->p++;
}

static inline char peek(struct sc *s)
{
	ws(s);
	if (s->p < s->end)
		return *s->p;
	s->trunc = true;
	return 0;
}

static bool eat(struct sc *s, char c)
{
	if (peek(s) != c)
		return false;
	s->p++;
	return true;
}

/* A string: its raw bytes between the quotes in [*b, *b + *n), escapes
 * checked but kept.  -1 on a syntax error. */
static int str_raw(struct sc *s, const char **b, size_t *n, bool *esc)
{
	if (peek(s) != '"')
		return -1;
	const char *q = ++s->p;
	*esc = false;
	for (;;) {
		q = jscan_str_stop(q, s->end);
		if (q == s->end)
			break;
		unsigned char c = (unsigned char)*q;
		if (c == '"') {
			*b = s->p;
			*n = (size_t)(q - s->p);
			s->p = q + 1;
			return 0;
		}
		if (c < 0x20)
			return -1;
		*esc = true;
		int el = jscan_escape(q, s->end);
		if (el < 0)
			break;
		if (el == 0)
			return -1;
		q += el;
	}
	s->trunc = true;
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
				int v = jscan_hex(b[i + 1]) << 12 |
					jscan_hex(b[i + 2]) << 8 |
					jscan_hex(b[i + 3]) << 4 |
					jscan_hex(b[i + 4]);
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
	size_t n = strlen(word), have = (size_t)(s->end - s->p);

	if (have < n) {
		/* the start of the word may be all there is so far */
		s->trunc = memcmp(s->p, word, have) == 0;
		return -1;
	}
	if (memcmp(s->p, word, n) != 0)
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
	if (!digit(s)) {
		s->trunc = s->p == s->end;
		return -1;
	}
	while (digit(s))
		s->p++;
	return 0;
}

static int number(struct sc *s)
{
	/* a number that ends with the bytes at hand may go on: the caller
	 * wants a byte after every value it takes (stream_run) */
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

/*
 * Skip one value, checking its syntax: most of a pod is what DNS does not
 * read, so this is a loop over the bytes with the open containers as bits
 * (object 1, array 0) rather than a call per value.
 */
static int skip(struct sc *s)
{
	enum { VAL, VAL_OR_CLOSE, KEY, KEY_OR_CLOSE, COLON, AFTER };
	const char *p = s->p, *end = s->end;
	uint64_t objs = 0; /* bit i: container i + 1 levels in is an object */
	int rel = 0, want = VAL;

	for (;;) {
		while (p < end && (unsigned char)*p <= ' ' &&
		       (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
			p++;
		if (p == end) {
			if (want == AFTER && rel == 0)
				break; /* a number that may go on */
			goto trunc;
		}
		char c = *p;
		switch (want) {
		case AFTER:
			if (rel == 0)
				goto done;
			if (c == ',') {
				p++;
				want = objs >> (rel - 1) & 1 ? KEY : VAL;
				continue;
			}
			if (c != (objs >> (rel - 1) & 1 ? '}' : ']'))
				goto bad;
			p++;
			objs &= ~(1ull << (rel - 1));
			rel--;
			continue;
		case COLON:
			if (c != ':')
				goto bad;
			p++;
			want = VAL;
			continue;
		case KEY_OR_CLOSE:
		case KEY:
			if (c == '}' && want == KEY_OR_CLOSE) {
				p++;
				objs &= ~(1ull << (rel - 1));
				rel--;
				want = AFTER;
				continue;
			}
			if (c != '"')
				goto bad;
			break; /* the key: a string, then a colon */
		case VAL_OR_CLOSE:
			if (c == ']') {
				p++;
				rel--;
				want = AFTER;
				continue;
			}
			break;
		default:
			break;
		}
		/* a value, or a key */
		int next = want == KEY || want == KEY_OR_CLOSE ? COLON : AFTER;
		if (c == '"') {
			const char *q = p + 1;
			for (;;) {
				q = jscan_str_stop(q, end);
				if (q == end)
					goto trunc;
				if (*q == '"')
					break;
				if ((unsigned char)*q < 0x20)
					goto bad;
				int el = jscan_escape(q, end);
				if (el < 0)
					goto trunc;
				if (el == 0)
					goto bad;
				q += el;
			}
			p = q + 1;
			want = next;
			continue;
		}
		if (c == '{' || c == '[') {
			if (s->depth + rel + 1 > MAX_DEPTH)
				goto bad;
			rel++;
			if (c == '{')
				objs |= 1ull << (rel - 1);
			p++;
			want = c == '{' ? KEY_OR_CLOSE : VAL_OR_CLOSE;
			continue;
		}
		s->p = p;
		int rc = c == 't'   ? lit(s, "true")
			 : c == 'f' ? lit(s, "false")
			 : c == 'n' ? lit(s, "null")
				    : number(s);
		p = s->p;
		if (rc < 0)
			return -1; /* lit and number said whether it was cut */
		want = AFTER;
	}
done:
	s->p = p;
	return 0;
trunc:
	s->trunc = true;
bad:
	s->p = p;
	return -1;
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
		if (str_raw(&look, &b, &n, &esc) < 0) {
			s->trunc = look.trunc;
			return -1;
		}
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

/* Where a page is: before its "{", among its members, in its items, or
 * after its "}". */
enum { ST_OPEN, ST_MEMBER, ST_ITEMS, ST_TAIL };

struct podscan {
	void (*cb)(void *arg, const struct podscan_pod *pod);
	void *arg;
	int st;
	bool first;  /* the next member is the first */
	bool ifirst; /* the next item is the first */
	int err;     /* once a feed failed, every later one fails */
	struct podscan_list out;
	struct podscan_pod pod;
	char *pend; /* the bytes of a step that the last feed cut */
	size_t plen, pcap;
};

/*
 * Take the steps of the page that are whole in [buf, buf + len): the
 * opening brace, one member of the page (items: up to its "["), one item,
 * the closing bracket of items, the end.  A step is taken only with a byte
 * after it unless final (the bytes end the page), since a number may go
 * on.  Returns the bytes the steps used (the rest starts a step that needs
 * more), -EINVAL when the page is no JSON list, -ENOMEM.
 */
static long stream_run(struct podscan *ps, const char *buf, size_t len,
		       bool final)
{
	struct sc s = {buf, buf + len, 0, false};
	const char *k;
	size_t kn;

	while (ps->st != ST_TAIL) {
		const char *at = s.p;
		int st = ps->st, rc = 0, r = 0;
		bool first = ps->first, ifirst = ps->ifirst, got = false;

		s.trunc = false;
		switch (st) {
		case ST_OPEN:
			s.depth = 0;
			rc = obj_open(&s);
			st = ST_MEMBER;
			first = true;
			break;
		case ST_MEMBER:
			s.depth = 1;
			rc = obj_next(&s, &first, &k, &kn);
			if (rc == 0) {
				st = ST_TAIL;
			} else if (rc > 0 && key_is(k, kn, "metadata")) {
				rc = members(&s, page_field, &ps->out);
				if (rc == -ENOMEM)
					return rc;
			} else if (rc > 0 && key_is(k, kn, "items")) {
				char c = peek(&s);
				if (c == '[') {
					rc = arr_open(&s);
					st = ST_ITEMS;
					ifirst = true;
				} else if (c == 'n') {
					rc = skip(&s);
				} else {
					/* items of another type than array or
					 * null */
					rc = -1;
				}
			} else if (rc > 0) {
				rc = skip(&s);
			}
			break;
		case ST_ITEMS:
			s.depth = 2;
			rc = arr_next(&s, &ifirst);
			if (rc == 0) {
				st = ST_MEMBER;
			} else if (rc > 0) {
				r = item(&s, &ps->pod, ps->out.why,
					 sizeof(ps->out.why));
				rc = r == -1 ? -1 : 0;
				got = true;
			}
			break;
		}
		if (rc < 0) {
			if (s.trunc && !final)
				return at - buf;
			return -EINVAL;
		}
		if (!final && s.p == s.end)
			return at - buf;
		ps->st = st;
		ps->first = first;
		ps->ifirst = ifirst;
		if (got && r < 0) {
			ps->out.nskip++;
		} else if (got) {
			ps->out.npods++;
			ps->cb(ps->arg, &ps->pod);
		}
	}
	ws(&s);
	return s.p == s.end ? (long)len : -EINVAL;
}

struct podscan *
podscan_new(void (*cb)(void *arg, const struct podscan_pod *pod), void *arg)
{
	struct podscan *ps = calloc(1, sizeof(*ps));

	if (!ps)
		return NULL;
	ps->cb = cb;
	ps->arg = arg;
	return ps;
}

void podscan_reset(struct podscan *ps)
{
	free(ps->out.cont);
	memset(&ps->out, 0, sizeof(ps->out));
	ps->st = ST_OPEN;
	ps->first = ps->ifirst = false;
	ps->err = 0;
	ps->plen = 0;
}

void podscan_free(struct podscan *ps)
{
	if (!ps)
		return;
	free(ps->out.cont);
	free(ps->pend);
	free(ps);
}

static int pend_add(struct podscan *ps, const char *d, size_t n)
{
	if (ps->plen + n > PODSCAN_MAX_STEP)
		return -E2BIG;
	if (ps->plen + n > ps->pcap) {
		size_t cap = ps->pcap ? ps->pcap : 16384;
		while (cap < ps->plen + n)
			cap *= 2;
		char *p = realloc(ps->pend, cap);
		if (!p)
			return -ENOMEM;
		ps->pend = p;
		ps->pcap = cap;
	}
	memcpy(ps->pend + ps->plen, d, n);
	ps->plen += n;
	return 0;
}

int podscan_feed(struct podscan *ps, const char *d, size_t n)
{
	long k;

	while (!ps->err && n) {
		if (!ps->plen) {
			/* scanned where the bytes are; what a step lacks
			 * waits */
			if ((k = stream_run(ps, d, n, false)) < 0)
				ps->err = (int)k;
			else if ((size_t)k < n)
				ps->err = pend_add(ps, d + k, n - (size_t)k);
			break;
		}
		/* A cut step: add bytes to it until it is whole, then go on
		 * where they are.  As much again as it holds each time, so
		 * a long step is not scanned over and over. */
		size_t old = ps->plen;
		size_t take = old < 4096 ? 4096 : old;
		if (take > n)
			take = n;
		if ((ps->err = pend_add(ps, d, take)) < 0)
			break;
		if ((k = stream_run(ps, ps->pend, ps->plen, false)) < 0) {
			ps->err = (int)k;
			break;
		}
		if ((size_t)k >= old) {
			ps->plen = 0;
			d += (size_t)k - old;
			n -= (size_t)k - old;
		} else {
			/* not whole yet (k is 0: the step starts the bytes
			 * kept) */
			memmove(ps->pend, ps->pend + k, ps->plen - (size_t)k);
			ps->plen -= (size_t)k;
			d += take;
			n -= take;
		}
	}
	return ps->err;
}

int podscan_end(struct podscan *ps, struct podscan_list *out)
{
	long k = ps->err
		     ? ps->err
		     : stream_run(ps, ps->pend ? ps->pend : "", ps->plen, true);

	ps->plen = 0;
	if (k == -ENOMEM || k == -E2BIG) {
		ps->err = (int)k;
	} else if (k < 0 || ps->st != ST_TAIL || !*ps->out.rv) {
		ps->err = -EINVAL;
	}
	*out = ps->out;
	memset(&ps->out, 0, sizeof(ps->out));
	if (ps->err) {
		free(out->cont);
		out->cont = NULL;
		return ps->err == -ENOMEM ? -ENOMEM : -EINVAL;
	}
	return 0;
}

const char *podscan_continue(const struct podscan *ps)
{
	return ps->out.cont;
}

int podscan_page(const char *buf, size_t len,
		 void (*cb)(void *arg, const struct podscan_pod *pod),
		 void *arg, struct podscan_list *out)
{
	struct podscan ps = {.cb = cb, .arg = arg, .st = ST_OPEN};
	long k = stream_run(&ps, buf, len, true);

	*out = ps.out;
	if (k == -ENOMEM)
		return -ENOMEM;
	if (k < 0 || ps.st != ST_TAIL || !*out->rv) {
		free(out->cont);
		out->cont = NULL;
		return -EINVAL;
	}
	return 0;
}
