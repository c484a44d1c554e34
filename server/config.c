/*
 * config.c -- the meaning of a Corefile: keys become zones and ports,
 * directives are checked and converted.  Messages follow CoreDNS:
 * "FILE:LINE - Error during parsing: ..." for what is not understood at
 * all (keys, unknown directives), "FILE:LINE - Error during setup:
 * DIRECTIVE: ..." for bad arguments.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "server/config.h"
#include "server/corefile.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

const char *const config_directives[] = {
    "bind",	  "errors", "log",     "loadbalance", "cache",
    "kubernetes", "loop",   "forward", NULL,
};

/* CoreDNS plugins that clusterdns does not implement (yet). */
static const char *const unsupported_directives[] = {
    "metadata",	   "geoip",	"cancel",   "tls",	    "timeouts",
    "multisocket", "reload",	"nsid",	    "bufsize",	    "debug",
    "trace",	   "ready",	"health",   "pprof",	    "prometheus",
    "dnstap",	   "local",	"dns64",    "acl",	    "any",
    "chaos",	   "tsig",	"rewrite",  "header",	    "dnssec",
    "autopath",	   "minimal",	"template", "transfer",	    "hosts",
    "route53",	   "azure",	"clouddns", "k8s_external", "file",
    "auto",	   "secondary", "etcd",	    "grpc",	    "erratic",
    "whoami",	   "on",	"sign",	    "view",	    "root",
    NULL,
};

/* kubernetes options of CoreDNS that clusterdns does not implement yet. */
static const char *const kube_later[] = {
    "multicluster",
    NULL,
};

struct ctx {
	char *err;
	size_t errlen;
	uint16_t dns_port;
};

static bool in_list(const char *const *list, const char *s)
{
	for (; *list; list++)
		if (strcmp(*list, s) == 0)
			return true;
	return false;
}

/* ------------------------------------------------------------------ */
/* errors */

static int verr(struct ctx *c, const char *file, int line, const char *stage,
		const char *plugin, const char *fmt, va_list ap)
{
	int n;

	if (!c->err || !c->errlen)
		return -EINVAL;
	n = snprintf(c->err, c->errlen, "%s:%d - Error during %s: %s%s", file,
		     line, stage, plugin ? plugin : "", plugin ? ": " : "");
	if (n >= 0 && (size_t)n < c->errlen)
		vsnprintf(c->err + n, c->errlen - n, fmt, ap);
	return -EINVAL;
}

/* A parse error at file:line. */
static int parse_err(struct ctx *c, const char *file, int line, const char *fmt,
		     ...) __attribute__((format(printf, 4, 5)));

static int parse_err(struct ctx *c, const char *file, int line, const char *fmt,
		     ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = verr(c, file, line, "parsing", NULL, fmt, ap);
	va_end(ap);
	return rc;
}

/* A setup error of plugin at the directive d. */
static int setup_err(struct ctx *c, const struct corefile_dir *d,
		     const char *plugin, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int setup_err(struct ctx *c, const struct corefile_dir *d,
		     const char *plugin, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = verr(c, d->file, d->line, "setup", plugin, fmt, ap);
	va_end(ap);
	return rc;
}

static int arg_err(struct ctx *c, const struct corefile_dir *d,
		   const char *plugin)
{
	return setup_err(c, d, plugin,
			 "Wrong argument count or unexpected line ending "
			 "after '%s'",
			 d->name);
}

static int nomem(struct ctx *c)
{
	if (c->err && c->errlen)
		snprintf(c->err, c->errlen, "out of memory");
	return -ENOMEM;
}

/* A directive that takes no block got one. */
static int no_block(struct ctx *c, const struct corefile_dir *d,
		    const char *plugin)
{
	if (d->nsub == 0)
		return 0;
	return setup_err(c, d, plugin, "'%s' takes no block", d->name);
}

/* ------------------------------------------------------------------ */
/* string lists */

static int strv_add(char ***v, size_t *n, const char *s)
{
	char **nv;
	char *dup = strdup(s);

	if (!dup)
		return -ENOMEM;
	nv = realloc(*v, (*n + 1) * sizeof(char *));
	if (!nv) {
		free(dup);
		return -ENOMEM;
	}
	nv[(*n)++] = dup;
	*v = nv;
	return 0;
}

/* Add s unless it is there already. */
static int strv_add_uniq(char ***v, size_t *n, const char *s)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp((*v)[i], s) == 0)
			return 0;
	return strv_add(v, n, s);
}

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* ------------------------------------------------------------------ */
/* zones and keys */

/* The reverse zone of a CIDR (addr/len), on an octet (IPv4) or nibble
 * (IPv6) boundary.  Returns 0 with *zone set, 1 when text is not a CIDR,
 * -EINVAL with msg set, -ENOMEM. */
static int cidr_zone(const char *text, char **zone, char *msg, size_t msglen)
{
	const char *slash = strchr(text, '/');
	char addr[INET6_ADDRSTRLEN + 1];
	unsigned char a[16];
	char *end, *z, *w;
	unsigned long plen;
	bool v6;

	if (!slash || (size_t)(slash - text) >= sizeof(addr))
		return 1;
	memcpy(addr, text, slash - text);
	addr[slash - text] = '\0';
	if (inet_pton(AF_INET, addr, a) == 1)
		v6 = false;
	else if (inet_pton(AF_INET6, addr, a) == 1)
		v6 = true;
	else
		return 1;
	if (!isdigit((unsigned char)slash[1]))
		return 1;
	errno = 0;
	plen = strtoul(slash + 1, &end, 10);
	if (*end || errno || plen > (v6 ? 128u : 32u)) {
		snprintf(msg, msglen, "invalid CIDR %s", text);
		return -EINVAL;
	}
	if (plen % (v6 ? 4 : 8)) {
		snprintf(msg, msglen,
			 "reverse zone %s: the prefix length must be a "
			 "multiple of %d",
			 text, v6 ? 4 : 8);
		return -EINVAL;
	}
	/* at most 32 labels of 2 bytes, or 4 of 4, plus the suffix */
	z = malloc(64 + 16);
	if (!z)
		return -ENOMEM;
	w = z;
	if (v6) {
		for (int i = (int)plen / 4 - 1; i >= 0; i--) {
			unsigned nib = i % 2 ? a[i / 2] & 0xf : a[i / 2] >> 4;

			w += sprintf(w, "%x.", nib);
		}
		strcpy(w, "ip6.arpa");
	} else {
		for (int i = (int)plen / 8 - 1; i >= 0; i--)
			w += sprintf(w, "%u.", a[i]);
		strcpy(w, "in-addr.arpa");
	}
	*zone = z;
	return 0;
}

/*
 * A zone as written in a key or an argument: a domain name (a trailing dot
 * or not, any case) or a CIDR for a reverse zone.  *zone gets the
 * lowercase name without trailing dot ("" for the root).  Returns 0,
 * -EINVAL with msg set, -ENOMEM.
 */
static int zone_parse(const char *text, char **zone, char *msg, size_t msglen)
{
	size_t len = strlen(text), lablen = 0;
	char *z;
	int rc;

	rc = cidr_zone(text, zone, msg, msglen);
	if (rc <= 0)
		return rc;
	if (strcmp(text, ".") == 0) {
		*zone = strdup("");
		return *zone ? 0 : -ENOMEM;
	}
	if (len && text[len - 1] == '.')
		len--;
	if (len == 0) {
		snprintf(msg, msglen, "zone is not a valid domain name: '%s'",
			 text);
		return -EINVAL;
	}
	if (len > 253) {
		snprintf(msg, msglen, "zone is too long: %zu > 253", len);
		return -EINVAL;
	}
	for (size_t i = 0; i <= len; i++) {
		unsigned char ch = i < len ? text[i] : '.';

		if (ch == '.') {
			if (lablen == 0 || lablen > 63) {
				snprintf(msg, msglen,
					 "zone is not a valid domain name: "
					 "'%s'",
					 text);
				return -EINVAL;
			}
			lablen = 0;
		} else if (ch <= ' ' || ch >= 0x7f || ch == '/' || ch == ':' ||
			   ch == '\\' || ch == '@') {
			snprintf(msg, msglen,
				 "zone is not a valid domain name: '%s'", text);
			return -EINVAL;
		} else {
			lablen++;
		}
	}
	z = strndup(text, len);
	if (!z)
		return -ENOMEM;
	for (char *p = z; *p; p++)
		*p = tolower((unsigned char)*p);
	*zone = z;
	return 0;
}

/* `[dns://]ZONE[:PORT]`.  Returns 0, -EINVAL with msg set, -ENOMEM. */
static int key_parse(const char *text, uint16_t dns_port,
		     struct config_key *key, char *msg, size_t msglen)
{
	const char *s = text, *sep, *colon;
	char *host;
	unsigned long port = dns_port;
	int rc;

	sep = strstr(s, "://");
	if (sep) {
		if ((size_t)(sep - s) == 3 && strncasecmp(s, "dns", 3) == 0) {
			s = sep + 3;
		} else {
			snprintf(msg, msglen,
				 "%.*s:// is not supported, only dns:// is",
				 (int)(sep - s), s);
			return -EINVAL;
		}
	}
	colon = strrchr(s, ':');
	if (colon && colon[1] == '\0') {
		snprintf(msg, msglen, "expecting data after last colon: '%s'",
			 text);
		return -EINVAL;
	}
	if (colon && strspn(colon + 1, "0123456789") == strlen(colon + 1)) {
		if (strlen(colon + 1) > 5 ||
		    (port = strtoul(colon + 1, NULL, 10)) == 0 ||
		    port > 65535) {
			snprintf(msg, msglen, "invalid port in '%s'", text);
			return -EINVAL;
		}
		host = strndup(s, colon - s);
	} else {
		host = strdup(s);
	}
	if (!host)
		return -ENOMEM;
	rc = zone_parse(host, &key->zone, msg, msglen);
	free(host);
	if (rc < 0)
		return rc;
	key->port = port;
	return 0;
}

/* Is zone equal to or below parent? */
static bool zone_in(const char *zone, const char *parent)
{
	size_t zl = strlen(zone), pl = strlen(parent);

	if (pl == 0)
		return true;
	if (zl < pl || strcmp(zone + zl - pl, parent) != 0)
		return false;
	return zl == pl || zone[zl - pl - 1] == '.';
}

/* Append the zones written in args to *v (no duplicates). */
static int zones_add(struct ctx *c, const struct corefile_dir *d,
		     const char *plugin, char *const *args, size_t nargs,
		     char ***v, size_t *n)
{
	char msg[512];

	for (size_t i = 0; i < nargs; i++) {
		char *z;
		int rc = zone_parse(args[i], &z, msg, sizeof(msg));

		if (rc == -ENOMEM)
			return nomem(c);
		if (rc < 0)
			return setup_err(c, d, plugin, "%s", msg);
		rc = strv_add_uniq(v, n, z);
		free(z);
		if (rc < 0)
			return nomem(c);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* bind */

struct addrs {
	char **text;
	unsigned char (*bin)[17]; /* family byte, then the address */
	size_t n;
};

static void addrs_free(struct addrs *a)
{
	strv_free(a->text, a->n);
	free(a->bin);
	memset(a, 0, sizeof(*a));
}

static int addrs_add(struct addrs *a, const char *text,
		     const unsigned char bin[17])
{
	void *nb;

	for (size_t i = 0; i < a->n; i++)
		if (memcmp(a->bin[i], bin, 17) == 0)
			return 0;
	nb = realloc(a->bin, (a->n + 1) * sizeof(*a->bin));
	if (!nb)
		return -ENOMEM;
	a->bin = nb;
	memcpy(a->bin[a->n], bin, 17);
	return strv_add(&a->text, &a->n, text);
}

static bool addr_parse(const char *s, unsigned char bin[17])
{
	memset(bin, 0, 17);
	if (inet_pton(AF_INET, s, bin + 1) == 1) {
		bin[0] = 4;
		return true;
	}
	if (inet_pton(AF_INET6, s, bin + 1) == 1) {
		bin[0] = 6;
		return true;
	}
	return false;
}

/* An IP address (kept as written) or the addresses of an interface (IPv6
 * link-local ones skipped).  Returns 0, -ENOENT when s is neither, or
 * -ENOMEM. */
static int addr_resolve(const char *s, struct addrs *out)
{
	unsigned char bin[17];
	struct ifaddrs *ifa, *i;
	bool found = false;
	int rc = 0;

	if (addr_parse(s, bin))
		return addrs_add(out, s, bin);
	if (getifaddrs(&ifa) < 0)
		return -ENOENT;
	for (i = ifa; i && rc == 0; i = i->ifa_next) {
		char text[INET6_ADDRSTRLEN];

		if (strcmp(i->ifa_name, s) != 0)
			continue;
		found = true;
		if (!i->ifa_addr)
			continue;
		memset(bin, 0, sizeof(bin));
		if (i->ifa_addr->sa_family == AF_INET) {
			struct sockaddr_in *sin = (void *)i->ifa_addr;

			bin[0] = 4;
			memcpy(bin + 1, &sin->sin_addr, 4);
			inet_ntop(AF_INET, &sin->sin_addr, text, sizeof(text));
		} else if (i->ifa_addr->sa_family == AF_INET6) {
			struct sockaddr_in6 *sin6 = (void *)i->ifa_addr;

			if (IN6_IS_ADDR_LINKLOCAL(&sin6->sin6_addr))
				continue;
			bin[0] = 6;
			memcpy(bin + 1, &sin6->sin6_addr, 16);
			inet_ntop(AF_INET6, &sin6->sin6_addr, text,
				  sizeof(text));
		} else {
			continue;
		}
		rc = addrs_add(out, text, bin);
	}
	freeifaddrs(ifa);
	if (rc < 0)
		return rc;
	return found ? 0 : -ENOENT;
}

static int bind_resolve(struct ctx *c, const struct corefile_dir *d,
			const char *s, struct addrs *out)
{
	int rc = addr_resolve(s, out);

	if (rc == -ENOENT)
		return setup_err(c, d, "bind",
				 "not a valid IP address or interface name: "
				 "'%s'",
				 s);
	if (rc < 0)
		return nomem(c);
	return 0;
}

/* One bind directive: its addresses go to all, its exceptions to except
 * (applied once every bind directive of the block is read). */
static int do_bind(struct ctx *c, const struct corefile_dir *d,
		   struct addrs *all, struct addrs *except)
{
	size_t given = d->nargs;
	int rc;

	for (size_t i = 0; i < d->nargs; i++) {
		rc = bind_resolve(c, d, d->args[i], all);
		if (rc < 0)
			return rc;
	}
	/* the block holds `except ADDR...` and more addresses */
	for (size_t i = 0; i < d->nsub; i++) {
		const struct corefile_dir *s = &d->sub[i];

		rc = no_block(c, s, "bind");
		if (rc < 0)
			return rc;
		if (strcmp(s->name, "except") == 0) {
			if (s->nargs == 0)
				return arg_err(c, s, "bind");
			for (size_t j = 0; j < s->nargs; j++) {
				rc = bind_resolve(c, s, s->args[j], except);
				if (rc < 0)
					return rc;
			}
			continue;
		}
		rc = bind_resolve(c, s, s->name, all);
		for (size_t j = 0; j < s->nargs && rc == 0; j++)
			rc = bind_resolve(c, s, s->args[j], all);
		if (rc < 0)
			return rc;
		given += 1 + s->nargs;
	}
	if (given == 0)
		return arg_err(c, d, "bind");
	return 0;
}

/* All bind directives read: apply the exceptions. */
static int bind_finish(struct ctx *c, struct config_block *b,
		       const struct corefile_dir *first, struct addrs *all,
		       struct addrs *except)
{
	for (size_t i = 0; i < all->n; i++) {
		bool drop = false;

		for (size_t j = 0; j < except->n && !drop; j++)
			drop = memcmp(all->bin[i], except->bin[j], 17) == 0;
		if (drop)
			continue;
		if (strv_add(&b->bind, &b->nbind, all->text[i]) < 0)
			return nomem(c);
	}
	if (first && b->nbind == 0)
		return setup_err(c, first, "bind",
				 "no address left to bind to after 'except'");
	return 0;
}

/* ------------------------------------------------------------------ */
/* errors, log */

static int do_errors(struct ctx *c, struct config_block *b,
		     const struct corefile_dir *d)
{
	if (b->errors)
		return setup_err(c, d, "errors",
				 "this plugin can only be used once per "
				 "Server Block");
	if (d->nargs)
		return arg_err(c, d, "errors");
	if (d->nsub)
		return setup_err(c, &d->sub[0], "errors",
				 "option '%s' is not supported yet",
				 d->sub[0].name);
	b->errors = true;
	return 0;
}

static int do_log(struct ctx *c, struct config_block *b,
		  const struct corefile_dir *d)
{
	struct config_log *l;
	size_t nnames = d->nargs;
	const char *format = CONFIG_LOG_FORMAT_COMMON;
	int rc;

	if (b->log)
		return setup_err(c, d, "log",
				 "only one log directive per server block is "
				 "supported");
	l = calloc(1, sizeof(*l));
	if (!l)
		return nomem(c);
	b->log = l;
	if (nnames && strchr(d->args[nnames - 1], '{')) {
		format = d->args[--nnames];
		if (strcmp(format, "{common}") == 0)
			format = CONFIG_LOG_FORMAT_COMMON;
		else if (strcmp(format, "{combined}") == 0)
			format = CONFIG_LOG_FORMAT_COMBINED;
	}
	l->format = strdup(format);
	if (!l->format)
		return nomem(c);
	rc = zones_add(c, d, "log", d->args, nnames, &l->names, &l->nnames);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < d->nsub; i++) {
		const struct corefile_dir *s = &d->sub[i];

		if (strcmp(s->name, "class") != 0)
			return setup_err(c, s, "log", "unknown property '%s'",
					 s->name);
		rc = no_block(c, s, "log");
		if (rc < 0)
			return rc;
		if (s->nargs == 0)
			return arg_err(c, s, "log");
		for (size_t j = 0; j < s->nargs; j++) {
			const char *a = s->args[j];

			if (strcmp(a, "all") == 0)
				l->classes |= CONFIG_LOG_ALL;
			else if (strcmp(a, "success") == 0)
				l->classes |= CONFIG_LOG_SUCCESS;
			else if (strcmp(a, "denial") == 0)
				l->classes |= CONFIG_LOG_DENIAL;
			else if (strcmp(a, "error") == 0)
				l->classes |= CONFIG_LOG_ERROR;
			else
				return setup_err(c, s, "log",
						 "invalid class '%s', must be "
						 "all, success, denial or "
						 "error",
						 a);
		}
	}
	if (!l->classes)
		l->classes = CONFIG_LOG_ALL;
	return 0;
}

/* ------------------------------------------------------------------ */
/* kubernetes */

/*
 * A Go duration (time.ParseDuration): an optional sign, then "0" or one or
 * more decimal numbers with an optional fraction, each with a unit among
 * ns, us (µs, μs), ms, s, m, h ("1h30m", "1.5s", "500ms").  *ms gets it in
 * milliseconds, rounded down.  Returns 0, or -EINVAL with msg set as Go
 * words it ("time: unknown unit \"x\" in duration \"5x\""); a negative
 * duration is refused.
 */
static int duration_parse(const char *text, uint64_t *ms, char *msg,
			  size_t msglen)
{
	static const struct {
		const char *name;
		uint64_t ns;
	} units[] = {
	    {"ns", 1ULL},	    {"us", 1000ULL},
	    {"\xc2\xb5s", 1000ULL}, /* U+00B5 micro sign */
	    {"\xce\xbcs", 1000ULL}, /* U+03BC mu */
	    {"ms", 1000000ULL},	    {"s", 1000000000ULL},
	    {"m", 60000000000ULL},  {"h", 3600000000000ULL},
	};
	const uint64_t max = INT64_MAX;
	const char *p = text;
	uint64_t total = 0;
	bool neg = false;

	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	if (strcmp(p, "0") == 0) {
		*ms = 0;
		return 0;
	}
	if (!*p)
		goto invalid;
	while (*p) {
		uint64_t ip = 0, frac = 0, scale = 1, unit = 0;
		bool digits = false, over = false;
		const char *u;
		size_t ulen;
		long double f;

		for (; isdigit((unsigned char)*p); p++) {
			digits = true;
			if (ip > (max - (*p - '0')) / 10)
				over = true;
			else
				ip = ip * 10 + (*p - '0');
		}
		if (*p == '.') {
			for (p++; isdigit((unsigned char)*p); p++) {
				digits = true;
				if (scale <= UINT64_MAX / 100) {
					frac = frac * 10 + (*p - '0');
					scale *= 10;
				}
			}
		}
		if (!digits || over)
			goto invalid;
		u = p;
		while (*p && *p != '.' && !isdigit((unsigned char)*p))
			p++;
		ulen = p - u;
		if (ulen == 0) {
			snprintf(msg, msglen,
				 "time: missing unit in duration \"%s\"", text);
			return -EINVAL;
		}
		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (strlen(units[i].name) == ulen &&
			    memcmp(units[i].name, u, ulen) == 0)
				unit = units[i].ns;
		if (!unit) {
			snprintf(msg, msglen,
				 "time: unknown unit \"%.*s\" in duration "
				 "\"%s\"",
				 (int)ulen, u, text);
			return -EINVAL;
		}
		if (ip > max / unit)
			goto invalid;
		ip *= unit;
		f = (long double)frac * unit / scale;
		if (ip > max - (uint64_t)f)
			goto invalid;
		ip += (uint64_t)f;
		if (total > max - ip)
			goto invalid;
		total += ip;
	}
	if (neg && total) {
		snprintf(msg, msglen, "a duration must not be negative: \"%s\"",
			 text);
		return -EINVAL;
	}
	*ms = total / 1000000;
	return 0;
invalid:
	snprintf(msg, msglen, "time: invalid duration \"%s\"", text);
	return -EINVAL;
}

/* A label selector token. */
enum {
	SEL_END,
	SEL_IDENT,
	SEL_IN,
	SEL_NOTIN,
	SEL_EQ,	 /* = */
	SEL_EQ2, /* == */
	SEL_NE,	 /* != */
	SEL_NOT, /* ! */
	SEL_GT,
	SEL_LT,
	SEL_OPEN,
	SEL_CLOSE,
	SEL_COMMA,
};

struct sel_lex {
	const char *p;
	const char *tok; /* the last token's text */
	size_t len;
};

static bool sel_special(char ch)
{
	return ch == '!' || ch == '=' || ch == '(' || ch == ')' || ch == ',' ||
	       ch == '<' || ch == '>';
}

/* The next token, as Kubernetes' selector lexer splits them. */
static int sel_next(struct sel_lex *l)
{
	const char *p = l->p;

	while (isspace((unsigned char)*p))
		p++;
	l->tok = p;
	l->len = 1;
	if (!*p) {
		l->len = 0;
		l->p = p;
		return SEL_END;
	}
	l->p = p + 1;
	switch (*p) {
	case '(':
		return SEL_OPEN;
	case ')':
		return SEL_CLOSE;
	case ',':
		return SEL_COMMA;
	case '>':
		return SEL_GT;
	case '<':
		return SEL_LT;
	case '=':
		if (p[1] == '=') {
			l->p++;
			l->len = 2;
			return SEL_EQ2;
		}
		return SEL_EQ;
	case '!':
		if (p[1] == '=') {
			l->p++;
			l->len = 2;
			return SEL_NE;
		}
		return SEL_NOT;
	}
	while (*l->p && !isspace((unsigned char)*l->p) && !sel_special(*l->p))
		l->p++;
	l->len = l->p - p;
	if (l->len == 2 && memcmp(p, "in", 2) == 0)
		return SEL_IN;
	if (l->len == 5 && memcmp(p, "notin", 5) == 0)
		return SEL_NOTIN;
	return SEL_IDENT;
}

/* A label name or value: at most 63 of [A-Za-z0-9_.-], alphanumeric at
 * both ends. */
static bool sel_name_ok(const char *s, size_t len)
{
	if (len == 0 || len > 63 || !isalnum((unsigned char)s[0]) ||
	    !isalnum((unsigned char)s[len - 1]))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' &&
		    s[i] != '_' && s[i] != '.')
			return false;
	return true;
}

/* A label key: [PREFIX/]NAME, the prefix a lowercase DNS subdomain. */
static bool sel_key_ok(const char *s, size_t len)
{
	const char *slash = memchr(s, '/', len);
	size_t plen, lab = 0;

	if (!slash)
		return sel_name_ok(s, len);
	plen = slash - s;
	if (plen == 0 || plen > 253 || !sel_name_ok(slash + 1, len - plen - 1))
		return false;
	for (size_t i = 0; i <= plen; i++) {
		char ch = i < plen ? s[i] : '.';

		if (ch == '.') {
			if (lab == 0 || s[i - 1] == '-')
				return false;
			lab = 0;
		} else if ((ch >= 'a' && ch <= 'z') ||
			   (ch >= '0' && ch <= '9') || (ch == '-' && lab > 0)) {
			if (++lab > 63)
				return false;
		} else {
			return false;
		}
	}
	return true;
}

static bool sel_value_ok(const char *s, size_t len)
{
	return len == 0 || sel_name_ok(s, len);
}

/*
 * Check a label selector as the Kubernetes API server parses it
 * (requirements separated by commas: k=v, k==v, k!=v, k, !k, k in (a,b),
 * k notin (a,b)) and write its normalised form (config.h) into *out.
 * Returns 0, -EINVAL with msg set, -ENOMEM.
 */
static int selector_parse(const char *text, char **out, char *msg,
			  size_t msglen)
{
	struct sel_lex l = {.p = text};
	char *buf, *w;
	int t;

	buf = malloc(2 * strlen(text) + 16);
	if (!buf)
		return -ENOMEM;
	w = buf;
	for (;;) {
		const char *key;
		size_t klen;
		bool absent = false;

		t = sel_next(&l);
		if (t == SEL_END && w == buf)
			break; /* empty: everything */
		if (t == SEL_NOT) {
			*w++ = '!';
			absent = true;
			t = sel_next(&l);
		}
		if (t != SEL_IDENT) {
			snprintf(msg, msglen,
				 "expected a label key, found "
				 "'%.*s'",
				 (int)l.len, l.tok);
			goto bad;
		}
		key = l.tok;
		klen = l.len;
		if (!sel_key_ok(key, klen)) {
			snprintf(msg, msglen, "invalid label key '%.*s'",
				 (int)klen, key);
			goto bad;
		}
		memcpy(w, key, klen);
		w += klen;
		t = sel_next(&l);
		if (absent) {
			/* !key stands alone */
		} else if (t == SEL_EQ || t == SEL_EQ2 || t == SEL_NE) {
			const char *op = t == SEL_NE ? "!=" : "=";
			struct sel_lex peek = l;
			int v = sel_next(&peek);

			w = stpcpy(w, op);
			if (v == SEL_IDENT || v == SEL_IN || v == SEL_NOTIN) {
				if (!sel_value_ok(peek.tok, peek.len)) {
					snprintf(msg, msglen,
						 "invalid label value '%.*s'",
						 (int)peek.len, peek.tok);
					goto bad;
				}
				memcpy(w, peek.tok, peek.len);
				w += peek.len;
				l = peek;
			} else if (v != SEL_END && v != SEL_COMMA) {
				snprintf(msg, msglen,
					 "expected a value after '%s' of "
					 "'%.*s'",
					 op, (int)klen, key);
				goto bad;
			}
			t = sel_next(&l);
		} else if (t == SEL_IN || t == SEL_NOTIN) {
			bool any = false;

			w = stpcpy(w, t == SEL_IN ? " in (" : " notin (");
			if (sel_next(&l) != SEL_OPEN) {
				snprintf(msg, msglen,
					 "expected '(' after '%s' of '%.*s'",
					 t == SEL_IN ? "in" : "notin",
					 (int)klen, key);
				goto bad;
			}
			for (;;) {
				int v = sel_next(&l);

				if (v == SEL_IDENT || v == SEL_IN ||
				    v == SEL_NOTIN) {
					if (!sel_value_ok(l.tok, l.len)) {
						snprintf(msg, msglen,
							 "invalid label value "
							 "'%.*s'",
							 (int)l.len, l.tok);
						goto bad;
					}
					memcpy(w, l.tok, l.len);
					w += l.len;
					any = true;
					v = sel_next(&l);
				}
				if (v == SEL_CLOSE)
					break;
				if (v != SEL_COMMA) {
					snprintf(msg, msglen,
						 "expected ',' or ')' in the "
						 "values of '%.*s'",
						 (int)klen, key);
					goto bad;
				}
				*w++ = ',';
				any = true; /* an empty value counts */
			}
			if (!any) {
				snprintf(msg, msglen,
					 "'%s' of '%.*s' needs at least one "
					 "value",
					 t == SEL_IN ? "in" : "notin",
					 (int)klen, key);
				goto bad;
			}
			*w++ = ')';
			t = sel_next(&l);
		} else if (t == SEL_GT || t == SEL_LT) {
			snprintf(msg, msglen,
				 "'%c' is not supported in label selectors",
				 t == SEL_GT ? '>' : '<');
			goto bad;
		}
		if (t == SEL_END)
			break;
		if (t != SEL_COMMA) {
			snprintf(msg, msglen,
				 "expected ',' after the requirement on "
				 "'%.*s', found '%.*s'",
				 (int)klen, key, (int)l.len, l.tok);
			goto bad;
		}
		*w++ = ',';
	}
	*w = '\0';
	*out = buf;
	return 0;
bad:
	free(buf);
	return -EINVAL;
}

/* The arguments of s joined by spaces, as CoreDNS reads a selector. */
static char *args_join(const struct corefile_dir *s)
{
	size_t len = 1;
	char *buf, *w;

	for (size_t i = 0; i < s->nargs; i++)
		len += strlen(s->args[i]) + 1;
	buf = malloc(len);
	if (!buf)
		return NULL;
	w = buf;
	*w = '\0';
	for (size_t i = 0; i < s->nargs; i++) {
		if (i)
			*w++ = ' ';
		w = stpcpy(w, s->args[i]);
	}
	return buf;
}

/* labels / namespace_labels: the selector into *dst. */
static int kube_selector(struct ctx *c, const struct corefile_dir *s,
			 const char *what, char **dst)
{
	char msg[512], *text, *sel;
	int rc;

	if (s->nargs == 0)
		return arg_err(c, s, "kubernetes");
	text = args_join(s);
	if (!text)
		return nomem(c);
	rc = selector_parse(text, &sel, msg, sizeof(msg));
	if (rc == -ENOMEM) {
		free(text);
		return nomem(c);
	}
	if (rc < 0) {
		rc = setup_err(c, s, "kubernetes",
			       "unable to parse %s selector value: '%s': %s",
			       what, text, msg);
		free(text);
		return rc;
	}
	free(text);
	free(*dst);
	*dst = sel;
	return 0;
}

/* startup_timeout / resyncperiod. */
static int kube_duration(struct ctx *c, const struct corefile_dir *s,
			 const char *what, uint64_t *ms)
{
	char msg[512];

	if (s->nargs != 1)
		return arg_err(c, s, "kubernetes");
	if (duration_parse(s->args[0], ms, msg, sizeof(msg)) < 0)
		return setup_err(c, s, "kubernetes",
				 "unable to parse %s value: '%s': %s", what,
				 s->args[0], msg);
	return 0;
}

/* An http:// or https:// URL with a host. */
static bool url_ok(const char *u)
{
	const char *h;

	if (strncasecmp(u, "https://", 8) == 0)
		h = u + 8;
	else if (strncasecmp(u, "http://", 7) == 0)
		h = u + 7;
	else
		return false;
	return *h && *h != '/' && !strpbrk(u, " \t\r\n");
}

static int str_set(struct ctx *c, char **dst, const char *s)
{
	char *dup = s ? strdup(s) : NULL;

	if (s && !dup)
		return nomem(c);
	free(*dst);
	*dst = dup;
	return 0;
}

/* Where the source options of one kubernetes directive are. */
struct kube_src {
	const struct corefile_dir *objects, *endpoint, *tls, *kubeconfig;
	const struct corefile_dir *namespaces, *namespace_labels;
};

static int kube_option(struct ctx *c, struct config_kube *k,
		       struct kube_src *src, const struct corefile_dir *s)
{
	const char *o = s->name;
	int rc;

	if (in_list(kube_later, o))
		return setup_err(c, s, "kubernetes",
				 "option '%s' is not supported yet", o);
	rc = no_block(c, s, "kubernetes");
	if (rc < 0)
		return rc;
	if (strcmp(o, "objects") == 0) {
		if (s->nargs != 1)
			return arg_err(c, s, "kubernetes");
		src->objects = s;
		return str_set(c, &k->objects, s->args[0]);
	} else if (strcmp(o, "endpoint") == 0) {
		if (s->nargs == 0)
			return arg_err(c, s, "kubernetes");
		if (s->nargs > 1)
			return setup_err(c, s, "kubernetes",
					 "multiple endpoints are not "
					 "supported, give one URL");
		if (!url_ok(s->args[0]))
			return setup_err(c, s, "kubernetes",
					 "invalid endpoint '%s': must be an "
					 "http:// or https:// URL with a host",
					 s->args[0]);
		src->endpoint = s;
		return str_set(c, &k->endpoint, s->args[0]);
	} else if (strcmp(o, "tls") == 0) {
		if (s->nargs != 3)
			return arg_err(c, s, "kubernetes");
		src->tls = s;
		rc = str_set(c, &k->tls_cert, s->args[0]);
		if (rc == 0)
			rc = str_set(c, &k->tls_key, s->args[1]);
		if (rc == 0)
			rc = str_set(c, &k->tls_cacert, s->args[2]);
		return rc;
	} else if (strcmp(o, "kubeconfig") == 0) {
		if (s->nargs != 1 && s->nargs != 2)
			return arg_err(c, s, "kubernetes");
		src->kubeconfig = s;
		rc = str_set(c, &k->kubeconfig, s->args[0]);
		if (rc == 0)
			rc = str_set(c, &k->kubeconfig_context,
				     s->nargs == 2 ? s->args[1] : NULL);
		return rc;
	} else if (strcmp(o, "labels") == 0) {
		return kube_selector(c, s, "label", &k->labels);
	} else if (strcmp(o, "namespace_labels") == 0) {
		src->namespace_labels = s;
		return kube_selector(c, s, "namespace_label",
				     &k->namespace_labels);
	} else if (strcmp(o, "startup_timeout") == 0) {
		return kube_duration(c, s, "startup_timeout",
				     &k->startup_timeout_ms);
	} else if (strcmp(o, "resyncperiod") == 0) {
		return kube_duration(c, s, "resyncperiod",
				     &k->resync_period_ms);
	} else if (strcmp(o, "pods") == 0) {
		if (s->nargs != 1)
			return arg_err(c, s, "kubernetes");
		if (strcmp(s->args[0], "disabled") == 0)
			k->pods = CONFIG_PODS_DISABLED;
		else if (strcmp(s->args[0], "insecure") == 0)
			k->pods = CONFIG_PODS_INSECURE;
		else if (strcmp(s->args[0], "verified") == 0)
			k->pods = CONFIG_PODS_VERIFIED;
		else
			return setup_err(c, s, "kubernetes",
					 "invalid pods mode '%s', must be "
					 "disabled, insecure or verified",
					 s->args[0]);
	} else if (strcmp(o, "ttl") == 0) {
		const char *a;
		char *end;
		long t;

		if (s->nargs != 1)
			return arg_err(c, s, "kubernetes");
		a = s->args[0];
		errno = 0;
		t = strtol(a, &end, 10);
		if (!*a || *end || isspace((unsigned char)*a))
			return setup_err(c, s, "kubernetes",
					 "ttl must be an integer: %s", a);
		if (errno || t < 0 || t > 3600)
			return setup_err(c, s, "kubernetes",
					 "ttl must be in range [0, 3600]: %s",
					 a);
		k->ttl = t;
	} else if (strcmp(o, "endpoint_pod_names") == 0) {
		if (s->nargs)
			return arg_err(c, s, "kubernetes");
		k->endpoint_pod_names = true;
	} else if (strcmp(o, "namespaces") == 0) {
		if (s->nargs == 0)
			return arg_err(c, s, "kubernetes");
		src->namespaces = s;
		for (size_t i = 0; i < s->nargs; i++)
			if (strv_add_uniq(&k->namespaces, &k->nnamespaces,
					  s->args[i]) < 0)
				return nomem(c);
	} else if (strcmp(o, "fallthrough") == 0) {
		strv_free(k->fallthrough_zones, k->nfallthrough_zones);
		k->fallthrough_zones = NULL;
		k->nfallthrough_zones = 0;
		k->fallthrough = true;
		return zones_add(c, s, "kubernetes", s->args, s->nargs,
				 &k->fallthrough_zones, &k->nfallthrough_zones);
	} else if (strcmp(o, "ignore") == 0) {
		if (s->nargs == 0)
			return arg_err(c, s, "kubernetes");
		for (size_t i = 0; i < s->nargs; i++) {
			if (strcmp(s->args[i], "empty_service") != 0)
				return setup_err(c, s, "kubernetes",
						 "unable to parse ignore "
						 "value: '%s'",
						 s->args[i]);
		}
		k->ignore_empty_service = true;
	} else if (strcmp(o, "noendpoints") == 0) {
		if (s->nargs)
			return arg_err(c, s, "kubernetes");
		k->noendpoints = true;
	} else {
		return setup_err(c, s, "kubernetes", "unknown property '%s'",
				 o);
	}
	return 0;
}

/* The later of two options (sub-directives of one block, in order). */
static const struct corefile_dir *later(const struct corefile_dir *a,
					const struct corefile_dir *b)
{
	return a > b ? a : b;
}

/* Options that cannot go together; the message is at the later one. */
static int kube_check_source(struct ctx *c, const struct kube_src *src)
{
	static const char what[] = "cannot be used together: objects reads "
				   "manifests, not the Kubernetes API";

	if (src->objects && src->endpoint)
		return setup_err(c, later(src->objects, src->endpoint),
				 "kubernetes", "'objects' and 'endpoint' %s",
				 what);
	if (src->objects && src->tls)
		return setup_err(c, later(src->objects, src->tls), "kubernetes",
				 "'objects' and 'tls' %s", what);
	if (src->objects && src->kubeconfig)
		return setup_err(c, later(src->objects, src->kubeconfig),
				 "kubernetes", "'objects' and 'kubeconfig' %s",
				 what);
	if (src->endpoint && src->kubeconfig)
		return setup_err(c, later(src->endpoint, src->kubeconfig),
				 "kubernetes",
				 "'endpoint' and 'kubeconfig' cannot be used "
				 "together: give one way to reach the API");
	if (src->tls && !src->endpoint)
		return setup_err(c, src->tls, "kubernetes",
				 "'tls' needs 'endpoint': it sets the "
				 "credentials for that URL");
	if (src->namespaces && src->namespace_labels)
		return setup_err(
		    c, later(src->namespaces, src->namespace_labels),
		    "kubernetes",
		    "namespaces and namespace_labels cannot both be set");
	return 0;
}

static int do_kube(struct ctx *c, struct config_block *b,
		   const struct corefile_dir *d)
{
	struct kube_src src = {0};
	struct config_kube *k;
	int rc;

	if (b->kube)
		return setup_err(c, d, "kubernetes",
				 "this plugin can only be used once per "
				 "Server Block");
	k = calloc(1, sizeof(*k));
	if (!k)
		return nomem(c);
	b->kube = k;
	k->ttl = 5;
	k->pods = CONFIG_PODS_DISABLED;
	k->startup_timeout_ms = 5000;
	k->resync_period_ms = 30 * 60 * 1000;
	k->file = strdup(d->file);
	if (!k->file)
		return nomem(c);
	k->line = d->line;
	rc = zones_add(c, d, "kubernetes", d->args, d->nargs, &k->zones,
		       &k->nzones);
	if (rc < 0)
		return rc;
	if (d->nargs == 0) {
		for (size_t i = 0; i < b->nkeys; i++)
			if (strv_add_uniq(&k->zones, &k->nzones,
					  b->keys[i].zone) < 0)
				return nomem(c);
	}
	for (size_t i = 0; i < k->nzones; i++) {
		bool inside = false;

		for (size_t j = 0; j < b->nkeys && !inside; j++)
			inside = zone_in(k->zones[i], b->keys[j].zone);
		if (!inside)
			return setup_err(c, d, "kubernetes",
					 "zone '%s' is not inside any zone of "
					 "its server block",
					 k->zones[i][0] ? k->zones[i] : ".");
	}
	for (size_t i = 0; i < d->nsub; i++) {
		rc = kube_option(c, k, &src, &d->sub[i]);
		if (rc < 0)
			return rc;
	}
	return kube_check_source(c, &src);
}

/* ------------------------------------------------------------------ */
/* forward, loop, loadbalance */

static void fwd_free(struct config_forward *f)
{
	if (!f)
		return;
	strv_free(f->from, f->nfrom);
	strv_free(f->except, f->nexcept);
	free(f->health_domain);
	free(f->file);
	free(f);
}

/* An upstream IP[:PORT] ([IPv6]:PORT, dns:// allowed).  Returns 0, 1 when
 * text is no address, -EINVAL with msg set (a bad port or transport). */
static int upstream_parse(const char *text, struct sockaddr_storage *ss,
			  socklen_t *len, char *msg, size_t msglen)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *s = text, *port = NULL, *sep = strstr(text, "://");
	size_t hl;

	if (sep) {
		if (strncasecmp(text, "dns://", 6) != 0) {
			snprintf(msg, msglen,
				 "%.*s:// is not supported, only dns:// is",
				 (int)(sep - text), text);
			return -EINVAL;
		}
		s = text + 6;
	}
	if (*s == '[') {
		const char *e = strchr(s, ']');
		if (!e)
			return 1;
		hl = (size_t)(e - s - 1);
		s++;
		if (e[1] == ':')
			port = e + 2;
		else if (e[1])
			return 1;
	} else {
		const char *colon = strchr(s, ':');
		if (colon && !strchr(colon + 1, ':')) {
			hl = (size_t)(colon - s);
			port = colon + 1;
		} else {
			hl = strlen(s); /* an IPv6 address without port */
		}
	}
	if (hl >= sizeof(host))
		return 1;
	memcpy(host, s, hl);
	host[hl] = 0;
	unsigned long p = 53;
	if (port) {
		char *end;
		p = strtoul(port, &end, 10);
		if (!*port || *end || p == 0 || p > 65535) {
			snprintf(msg, msglen, "invalid port in '%s'", text);
			return -EINVAL;
		}
	}
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)p);
		*len = sizeof(*a4);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)p);
		*len = sizeof(*a6);
		return 0;
	}
	return 1;
}

static int fwd_add_to(struct ctx *c, const struct corefile_dir *d,
		      struct config_forward *f, const char *text)
{
	if (f->nto == CONFIG_MAX_UPSTREAMS)
		return setup_err(c, d, "forward", "more than %d TOs configured",
				 CONFIG_MAX_UPSTREAMS);
	char msg[512];
	int rc = upstream_parse(text, &f->to[f->nto], &f->tolen[f->nto], msg,
				sizeof(msg));
	if (rc < 0)
		return setup_err(c, d, "forward", "%s", msg);
	if (rc > 0)
		return 1;
	f->nto++;
	return 0;
}

/* The nameservers of a resolv.conf-style file, port 53.  Returns 0, 1 when
 * path is no readable file, or an error. */
static int fwd_add_file(struct ctx *c, const struct corefile_dir *d,
			struct config_forward *f, const char *path)
{
	FILE *fp = fopen(path, "r");
	char line[512];
	size_t before = f->nto;

	if (!fp)
		return 1;
	while (fgets(line, sizeof(line), fp)) {
		char *save, *k = strtok_r(line, " \t\r\n", &save);
		char *v = k ? strtok_r(NULL, " \t\r\n", &save) : NULL;
		if (!k || !v || strcmp(k, "nameserver") != 0)
			continue;
		char *pct = strchr(v, '%'); /* a zone index: not kept */
		if (pct)
			*pct = 0;
		char addr[INET6_ADDRSTRLEN + 3];
		snprintf(addr, sizeof(addr), strchr(v, ':') ? "[%s]" : "%s", v);
		int rc = fwd_add_to(c, d, f, addr);
		if (rc != 0) {
			fclose(fp);
			return rc < 0 ? rc
				      : setup_err(c, d, "forward",
						  "%s: not an IP address: "
						  "\"%s\"",
						  path, v);
		}
	}
	fclose(fp);
	if (f->nto == before)
		return setup_err(c, d, "forward", "no nameservers found in %s",
				 path);
	return 0;
}

static int fwd_duration(struct ctx *c, const struct corefile_dir *s,
			uint64_t *ms)
{
	char msg[512];

	if (s->nargs < 1)
		return arg_err(c, s, "forward");
	if (duration_parse(s->args[0], ms, msg, sizeof(msg)) < 0)
		return setup_err(c, s, "forward", "%s", msg);
	return 0;
}

static int fwd_uint(struct ctx *c, const struct corefile_dir *s, uint32_t *v)
{
	char *end;

	if (s->nargs != 1)
		return arg_err(c, s, "forward");
	long long n = strtoll(s->args[0], &end, 10);
	if (!*s->args[0] || *end)
		return setup_err(c, s, "forward",
				 "strconv.Atoi: parsing \"%s\": invalid syntax",
				 s->args[0]);
	if (n < 0)
		return setup_err(c, s, "forward", "%s can't be negative: %lld",
				 s->name, n);
	*v = n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
	return 0;
}

static int fwd_option(struct ctx *c, struct config_forward *f,
		      const struct corefile_dir *s)
{
	const char *o = s->name;
	int rc = no_block(c, s, "forward");

	if (rc < 0)
		return rc;
	if (strcmp(o, "except") == 0) {
		if (s->nargs == 0)
			return arg_err(c, s, "forward");
		return zones_add(c, s, "forward", s->args, s->nargs, &f->except,
				 &f->nexcept);
	}
	if (strcmp(o, "force_tcp") == 0 || strcmp(o, "prefer_udp") == 0) {
		if (s->nargs)
			return arg_err(c, s, "forward");
		*(o[0] == 'f' ? &f->force_tcp : &f->prefer_udp) = true;
		return 0;
	}
	if (strcmp(o, "policy") == 0) {
		if (s->nargs != 1)
			return arg_err(c, s, "forward");
		if (strcmp(s->args[0], "random") == 0)
			f->policy = CONFIG_POLICY_RANDOM;
		else if (strcmp(s->args[0], "round_robin") == 0)
			f->policy = CONFIG_POLICY_ROUND_ROBIN;
		else if (strcmp(s->args[0], "sequential") == 0)
			f->policy = CONFIG_POLICY_SEQUENTIAL;
		else
			return setup_err(c, s, "forward", "unknown policy '%s'",
					 s->args[0]);
		return 0;
	}
	if (strcmp(o, "health_check") == 0) {
		rc = fwd_duration(c, s, &f->health_check_ms);
		for (size_t i = 1; rc == 0 && i < s->nargs; i++) {
			if (strcmp(s->args[i], "no_rec") == 0) {
				f->health_no_rec = true;
			} else if (strcmp(s->args[i], "domain") == 0 &&
				   i + 1 < s->nargs) {
				char *z = NULL, msg[512];
				rc = zone_parse(s->args[++i], &z, msg,
						sizeof(msg));
				if (rc == -ENOMEM)
					return nomem(c);
				if (rc < 0)
					return setup_err(c, s, "forward", "%s",
							 msg);
				free(f->health_domain);
				f->health_domain = z;
			} else {
				return setup_err(c, s, "forward",
						 "health_check: unknown option "
						 "%s",
						 s->args[i]);
			}
		}
		return rc;
	}
	if (strcmp(o, "expire") == 0) {
		if (s->nargs != 1)
			return arg_err(c, s, "forward");
		return fwd_duration(c, s, &f->expire_ms);
	}
	if (strcmp(o, "max_fails") == 0)
		return fwd_uint(c, s, &f->max_fails);
	if (strcmp(o, "max_concurrent") == 0)
		return fwd_uint(c, s, &f->max_concurrent);
	if (strcmp(o, "tls") == 0 || strcmp(o, "tls_servername") == 0 ||
	    strcmp(o, "next") == 0 ||
	    strcmp(o, "failfast_all_unhealthy_"
		      "upstreams") == 0 ||
	    strcmp(o, "failover") == 0)
		return setup_err(c, s, "forward",
				 "option '%s' is not supported yet", o);
	return setup_err(c, s, "forward", "unknown property '%s'", o);
}

static int do_forward(struct ctx *c, struct config_block *b,
		      const struct corefile_dir *d)
{
	struct config_forward *f;
	int rc;

	if (b->fwd)
		return setup_err(c, d, "forward",
				 "only one forward directive per server block "
				 "is supported");
	if (d->nargs < 2)
		return arg_err(c, d, "forward");
	f = calloc(1, sizeof(*f));
	if (!f)
		return nomem(c);
	b->fwd = f;
	f->health_check_ms = 500;
	f->max_fails = 2;
	f->expire_ms = 10000;
	f->line = d->line;
	f->file = strdup(d->file);
	if (!f->file)
		return nomem(c);
	rc = zones_add(c, d, "forward", d->args, 1, &f->from, &f->nfrom);
	if (rc < 0)
		return rc;
	for (size_t i = 1; i < d->nargs; i++) {
		rc = fwd_add_to(c, d, f, d->args[i]);
		if (rc == 1)
			rc = fwd_add_file(c, d, f, d->args[i]);
		if (rc == 1)
			return setup_err(c, d, "forward",
					 "not an IP address or file: \"%s\"",
					 d->args[i]);
		if (rc < 0)
			return rc;
	}
	for (size_t i = 0; i < d->nsub; i++) {
		rc = fwd_option(c, f, &d->sub[i]);
		if (rc < 0)
			return rc;
	}
	if (f->force_tcp && f->prefer_udp)
		return setup_err(c, d, "forward",
				 "force_tcp and prefer_udp are mutually "
				 "exclusive");
	return 0;
}

static int do_loop(struct ctx *c, struct config_block *b,
		   const struct corefile_dir *d)
{
	if (b->loop)
		return setup_err(c, d, "loop",
				 "this plugin can only be used once per "
				 "Server Block");
	if (d->nargs || d->nsub)
		return arg_err(c, d, "loop");
	b->loop = true;
	b->loop_line = d->line;
	return 0;
}

static int do_loadbalance(struct ctx *c, struct config_block *b,
			  const struct corefile_dir *d)
{
	if (b->loadbalance)
		return setup_err(c, d, "loadbalance",
				 "this plugin can only be used once per "
				 "Server Block");
	if (d->nargs > 1 || d->nsub)
		return arg_err(c, d, "loadbalance");
	if (d->nargs && strcmp(d->args[0], "round_robin") != 0)
		return setup_err(c, d, "loadbalance", "unknown policy: %s",
				 d->args[0]);
	b->loadbalance = true;
	return 0;
}

/* ------------------------------------------------------------------ */
/* cache */

/* Go's strconv.Atoi (64-bit int).  Returns 0, or -EINVAL with msg set as
 * Go words it. */
static int go_atoi(const char *s, long *v, char *msg, size_t msglen)
{
	const char *p = s + (*s == '+' || *s == '-');
	char *end;

	if (!*p || strspn(p, "0123456789") != strlen(p)) {
		snprintf(msg, msglen,
			 "strconv.Atoi: parsing \"%s\": invalid syntax", s);
		return -EINVAL;
	}
	errno = 0;
	*v = strtol(s, &end, 10);
	if (errno) {
		snprintf(msg, msglen,
			 "strconv.Atoi: parsing \"%s\": value out of range", s);
		return -EINVAL;
	}
	return 0;
}

/* A Go duration that may be negative: *neg says it was. */
static int signed_duration(const char *text, uint64_t *ms, bool *neg, char *msg,
			   size_t msglen)
{
	*neg = text[0] == '-' && text[1] != '-' && text[1] != '+';
	int rc = duration_parse(*neg ? text + 1 : text, ms, msg, msglen);
	if (*neg && *ms == 0)
		*neg = false;
	return rc;
}

/* A TTL in seconds: > 0, or >= 0 for a minimum. */
static int cache_ttl(struct ctx *c, const struct corefile_dir *s,
		     const char *text, bool min, uint32_t *out)
{
	char msg[256];
	long v;

	if (go_atoi(text, &v, msg, sizeof(msg)) < 0)
		return setup_err(c, s, "cache", "%s", msg);
	if (min && v < 0)
		return setup_err(c, s, "cache",
				 "cache min TTL can not be negative: %ld", v);
	if (!min && v <= 0)
		return setup_err(c, s, "cache",
				 "cache TTL can not be zero or negative: %ld",
				 v);
	*out = v > (long)UINT32_MAX ? UINT32_MAX : (uint32_t)v;
	return 0;
}

/* success|denial CAPACITY [TTL] [MINTTL] */
static int cache_kind(struct ctx *c, const struct corefile_dir *s, long *cap,
		      uint32_t *max_ttl, uint32_t *min_ttl)
{
	char msg[256];
	int rc;

	if (s->nargs == 0)
		return arg_err(c, s, "cache");
	if (go_atoi(s->args[0], cap, msg, sizeof(msg)) < 0)
		return setup_err(c, s, "cache", "%s", msg);
	if (s->nargs > 1 &&
	    (rc = cache_ttl(c, s, s->args[1], false, max_ttl)) < 0)
		return rc;
	if (s->nargs > 2 &&
	    (rc = cache_ttl(c, s, s->args[2], true, min_ttl)) < 0)
		return rc;
	return 0;
}

/* prefetch AMOUNT [[DURATION] [PERCENTAGE%]] */
static int cache_prefetch(struct ctx *c, const struct corefile_dir *s,
			  struct cache_conf *cf)
{
	char msg[256];
	long v;
	bool neg;

	if (s->nargs == 0 || s->nargs > 3)
		return arg_err(c, s, "cache");
	if (go_atoi(s->args[0], &v, msg, sizeof(msg)) < 0)
		return setup_err(c, s, "cache", "%s", msg);
	if (v < 0)
		return setup_err(c, s, "cache",
				 "prefetch amount should be positive: %ld", v);
	cf->prefetch = v > (long)UINT32_MAX ? UINT32_MAX : (uint32_t)v;
	/* a negative window counts every hit as the first, as 0 does */
	if (s->nargs > 1 && signed_duration(s->args[1], &cf->prefetch_window_ms,
					    &neg, msg, sizeof(msg)) < 0)
		return setup_err(c, s, "cache", "%s", msg);
	if (s->nargs > 1 && neg)
		cf->prefetch_window_ms = 0;
	if (s->nargs > 2) {
		char num[32];
		const char *pct = s->args[2];
		size_t len = strlen(pct);

		if (!len || pct[len - 1] != '%')
			return setup_err(c, s, "cache",
					 "last character of percentage should "
					 "be `%%`, but is: '%c'",
					 len ? pct[len - 1] : ' ');
		snprintf(num, sizeof(num), "%.*s", (int)(len - 1), pct);
		if (len - 1 >= sizeof(num) ||
		    go_atoi(num, &v, msg, sizeof(msg)) < 0)
			return setup_err(c, s, "cache",
					 "strconv.Atoi: parsing \"%.*s\": "
					 "invalid syntax",
					 (int)(len - 1), pct);
		if (v < 10 || v > 90)
			return setup_err(c, s, "cache",
					 "percentage should fall in range "
					 "[10, 90]: %ld",
					 v);
		cf->prefetch_pct = (unsigned)v;
	}
	return 0;
}

/* serve_stale [DURATION [verify|immediate]] */
static int cache_stale(struct ctx *c, const struct corefile_dir *s,
		       struct cache_conf *cf)
{
	char msg[256];
	bool neg;

	if (s->nargs > 2)
		return arg_err(c, s, "cache");
	cf->stale_ms = 3600 * 1000;
	if (s->nargs > 0) {
		if (signed_duration(s->args[0], &cf->stale_ms, &neg, msg,
				    sizeof(msg)) < 0)
			return setup_err(c, s, "cache", "%s", msg);
		if (neg)
			return setup_err(c, s, "cache",
					 "invalid negative duration for "
					 "serve_stale");
	}
	cf->stale_verify = false;
	if (s->nargs > 1) {
		char mode[32];

		snprintf(mode, sizeof(mode), "%s", s->args[1]);
		for (char *p = mode; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		if (strcmp(mode, "immediate") != 0 &&
		    strcmp(mode, "verify") != 0)
			return setup_err(c, s, "cache",
					 "invalid value for serve_stale "
					 "refresh mode: %s",
					 mode);
		cf->stale_verify = strcmp(mode, "verify") == 0;
	}
	return 0;
}

/* servfail DURATION: at most 5 minutes (RFC 2308) */
static int cache_servfail(struct ctx *c, const struct corefile_dir *s,
			  struct cache_conf *cf)
{
	char msg[256];
	uint64_t ms;
	bool neg;

	if (s->nargs != 1)
		return arg_err(c, s, "cache");
	if (signed_duration(s->args[0], &ms, &neg, msg, sizeof(msg)) < 0)
		return setup_err(c, s, "cache", "%s", msg);
	if (neg)
		return setup_err(c, s, "cache",
				 "invalid negative ttl for servfail");
	if (ms > 5 * 60 * 1000)
		return setup_err(c, s, "cache",
				 "caching SERVFAIL responses over 5 minutes "
				 "is not permitted");
	cf->servfail_ttl = (uint32_t)(ms / 1000);
	return 0;
}

/* disable success|denial [ZONES...] (none: the root) */
static int cache_disable(struct ctx *c, const struct corefile_dir *s,
			 struct cache_conf *cf)
{
	char msg[512];
	char **zones = NULL;
	size_t n = 0;
	int rc = 0;

	if (s->nargs < 1)
		return arg_err(c, s, "cache");
	for (size_t i = 1; i < s->nargs && rc == 0; i++) {
		char *z;

		rc = zone_parse(s->args[i], &z, msg, sizeof(msg));
		if (rc == -ENOMEM)
			break;
		if (rc < 0) {
			rc = setup_err(c, s, "cache",
				       "invalid disabled zone: %s", s->args[i]);
			break;
		}
		rc = strv_add_uniq(&zones, &n, z);
		free(z);
	}
	if (rc == 0 && s->nargs == 1)
		rc = strv_add(&zones, &n, "");
	if (rc == -ENOMEM)
		rc = nomem(c);
	if (rc == 0 && strcmp(s->args[0], "success") == 0) {
		strv_free(cf->no_success, cf->nno_success);
		cf->no_success = zones;
		cf->nno_success = n;
		return 0;
	}
	if (rc == 0 && strcmp(s->args[0], "denial") == 0) {
		strv_free(cf->no_denial, cf->nno_denial);
		cf->no_denial = zones;
		cf->nno_denial = n;
		return 0;
	}
	if (rc == 0)
		rc = setup_err(c, s, "cache",
			       "cache type for disable must be \"success\" or "
			       "\"denial\"");
	strv_free(zones, n);
	return rc;
}

static int cache_option(struct ctx *c, const struct corefile_dir *s,
			struct cache_conf *cf)
{
	int rc = no_block(c, s, "cache");

	if (rc < 0)
		return rc;
	if (strcmp(s->name, "success") == 0)
		return cache_kind(c, s, &cf->success_cap, &cf->success_max_ttl,
				  &cf->success_min_ttl);
	if (strcmp(s->name, "denial") == 0)
		return cache_kind(c, s, &cf->denial_cap, &cf->denial_max_ttl,
				  &cf->denial_min_ttl);
	if (strcmp(s->name, "prefetch") == 0)
		return cache_prefetch(c, s, cf);
	if (strcmp(s->name, "serve_stale") == 0)
		return cache_stale(c, s, cf);
	if (strcmp(s->name, "servfail") == 0)
		return cache_servfail(c, s, cf);
	if (strcmp(s->name, "disable") == 0)
		return cache_disable(c, s, cf);
	if (strcmp(s->name, "keepttl") == 0) {
		if (s->nargs)
			return arg_err(c, s, "cache");
		cf->keepttl = true;
		return 0;
	}
	return arg_err(c, s, "cache");
}

static int do_cache(struct ctx *c, struct config_block *b,
		    const struct corefile_dir *d)
{
	struct config_cache *cc;
	struct cache_conf *cf;
	size_t first = 0;
	int rc;

	if (b->cache)
		return setup_err(c, d, "cache",
				 "this plugin can only be used once per "
				 "Server Block");
	cc = calloc(1, sizeof(*cc));
	if (!cc)
		return nomem(c);
	b->cache = cc;
	cc->file = strdup(d->file);
	if (!cc->file)
		return nomem(c);
	cc->line = d->line;
	cf = &cc->conf;
	cf->success_cap = cf->denial_cap = 9984;
	cf->success_max_ttl = 3600;
	cf->denial_max_ttl = 1800;
	cf->success_min_ttl = cf->denial_min_ttl = 5;
	cf->servfail_ttl = 5;
	cf->prefetch_window_ms = 60 * 1000;
	cf->prefetch_pct = 10;
	if (d->nargs) {
		char msg[256];
		long ttl;

		/* a first argument that is a number is the TTL */
		if (go_atoi(d->args[0], &ttl, msg, sizeof(msg)) == 0) {
			if (ttl <= 0)
				return setup_err(c, d, "cache",
						 "cache TTL can not be zero or "
						 "negative: %ld",
						 ttl);
			cf->success_max_ttl = cf->denial_max_ttl =
			    ttl > (long)UINT32_MAX ? UINT32_MAX : (uint32_t)ttl;
			first = 1;
		}
	}
	rc = zones_add(c, d, "cache", d->args + first, d->nargs - first,
		       &cf->zones, &cf->nzones);
	if (rc < 0)
		return rc;
	if (d->nargs == first) {
		for (size_t i = 0; i < b->nkeys; i++)
			if (strv_add_uniq(&cf->zones, &cf->nzones,
					  b->keys[i].zone) < 0)
				return nomem(c);
	}
	for (size_t i = 0; i < d->nsub; i++) {
		rc = cache_option(c, &d->sub[i], cf);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static void cache_conf_free(struct config_cache *cc)
{
	if (!cc)
		return;
	strv_free(cc->conf.zones, cc->conf.nzones);
	strv_free(cc->conf.no_success, cc->conf.nno_success);
	strv_free(cc->conf.no_denial, cc->conf.nno_denial);
	free(cc->file);
	free(cc);
}

/* ------------------------------------------------------------------ */
/* blocks */

static void kube_free(struct config_kube *k)
{
	if (!k)
		return;
	strv_free(k->zones, k->nzones);
	free(k->objects);
	free(k->endpoint);
	free(k->tls_cert);
	free(k->tls_key);
	free(k->tls_cacert);
	free(k->kubeconfig);
	free(k->kubeconfig_context);
	free(k->labels);
	free(k->namespace_labels);
	strv_free(k->namespaces, k->nnamespaces);
	strv_free(k->fallthrough_zones, k->nfallthrough_zones);
	free(k->file);
	free(k);
}

static void log_free(struct config_log *l)
{
	if (!l)
		return;
	strv_free(l->names, l->nnames);
	free(l->format);
	free(l);
}

static void block_free(struct config_block *b)
{
	fwd_free(b->fwd);
	for (size_t i = 0; i < b->nkeys; i++)
		free(b->keys[i].zone);
	free(b->keys);
	strv_free(b->bind, b->nbind);
	log_free(b->log);
	kube_free(b->kube);
	cache_conf_free(b->cache);
	free(b->file);
}

static int block_keys(struct ctx *c, const struct config *cfg,
		      struct config_block *b, const struct corefile_block *cb)
{
	char msg[512];

	b->keys = calloc(cb->nkeys, sizeof(*b->keys));
	if (!b->keys)
		return nomem(c);
	for (size_t i = 0; i < cb->nkeys; i++) {
		struct config_key *k = &b->keys[i];
		int rc =
		    key_parse(cb->keys[i], c->dns_port, k, msg, sizeof(msg));

		if (rc == -ENOMEM)
			return nomem(c);
		if (rc < 0)
			return parse_err(c, cb->file, cb->line,
					 "invalid server block key '%s': %s",
					 cb->keys[i], msg);
		b->nkeys++;
		/* earlier blocks are complete, this one up to key i */
		for (size_t bi = 0; bi <= cfg->nblocks; bi++) {
			const struct config_block *o = &cfg->blocks[bi];
			size_t nk = bi == cfg->nblocks ? i : o->nkeys;

			for (size_t ki = 0; ki < nk; ki++) {
				if (o->keys[ki].port == k->port &&
				    strcmp(o->keys[ki].zone, k->zone) == 0)
					return parse_err(
					    c, cb->file, cb->line,
					    "cannot serve dns://%s.:%u - "
					    "it is already defined",
					    k->zone, k->port);
			}
		}
	}
	return 0;
}

/* Fill cfg->blocks[cfg->nblocks] (space is there) from cb. */
static int block_load(struct ctx *c, struct config *cfg,
		      const struct corefile_block *cb)
{
	struct config_block *b = &cfg->blocks[cfg->nblocks];
	struct addrs all = {0}, except = {0};
	const struct corefile_dir *first_bind = NULL;
	int rc;

	memset(b, 0, sizeof(*b));
	b->file = strdup(cb->file);
	if (!b->file) {
		rc = nomem(c);
		goto fail;
	}
	b->line = cb->line;
	rc = block_keys(c, cfg, b, cb);
	if (rc < 0)
		goto fail;
	for (size_t i = 0; i < cb->ndirs; i++) {
		const struct corefile_dir *d = &cb->dirs[i];

		if (strcmp(d->name, "bind") == 0) {
			first_bind = first_bind ? first_bind : d;
			rc = do_bind(c, d, &all, &except);
		} else if (strcmp(d->name, "errors") == 0) {
			rc = do_errors(c, b, d);
		} else if (strcmp(d->name, "log") == 0) {
			rc = do_log(c, b, d);
		} else if (strcmp(d->name, "kubernetes") == 0) {
			rc = do_kube(c, b, d);
		} else if (strcmp(d->name, "forward") == 0) {
			rc = do_forward(c, b, d);
		} else if (strcmp(d->name, "loop") == 0) {
			rc = do_loop(c, b, d);
		} else if (strcmp(d->name, "loadbalance") == 0) {
			rc = do_loadbalance(c, b, d);
		} else if (strcmp(d->name, "cache") == 0) {
			rc = do_cache(c, b, d);
		} else if (in_list(unsupported_directives, d->name)) {
			rc = parse_err(c, d->file, d->line,
				       "Directive '%s' is not supported yet",
				       d->name);
		} else {
			rc = parse_err(c, d->file, d->line,
				       "Unknown directive '%s'", d->name);
		}
		if (rc < 0)
			goto fail;
	}
	rc = bind_finish(c, b, first_bind, &all, &except);
	if (rc < 0)
		goto fail;
	addrs_free(&all);
	addrs_free(&except);
	cfg->nblocks++;
	return 0;
fail:
	addrs_free(&all);
	addrs_free(&except);
	block_free(b);
	memset(b, 0, sizeof(*b));
	return rc;
}

static int config_build(const char *name, const struct corefile *cf,
			uint16_t dns_port, struct config **out, char *err,
			size_t errlen)
{
	struct ctx c = {.err = err, .errlen = errlen, .dns_port = dns_port};
	struct config *cfg;
	int rc;

	if (cf->nblocks == 0)
		return parse_err(&c, name, 1, "no server blocks");
	cfg = calloc(1, sizeof(*cfg));
	if (!cfg)
		return nomem(&c);
	cfg->blocks = calloc(cf->nblocks, sizeof(*cfg->blocks));
	if (!cfg->blocks) {
		rc = nomem(&c);
		goto fail;
	}
	for (size_t i = 0; i < cf->nblocks; i++) {
		rc = block_load(&c, cfg, &cf->blocks[i]);
		if (rc < 0)
			goto fail;
	}
	*out = cfg;
	return 0;
fail:
	config_free(cfg);
	return rc;
}

int config_load(const char *path, uint16_t dns_port, struct config **out,
		char *err, size_t errlen)
{
	struct corefile *cf;
	int rc;

	rc = corefile_parse_file(path, &cf, err, errlen);
	if (rc < 0)
		return rc;
	rc = config_build(path, cf, dns_port, out, err, errlen);
	corefile_free(cf);
	return rc;
}

int config_load_text(const char *name, const char *text, uint16_t dns_port,
		     struct config **out, char *err, size_t errlen)
{
	struct corefile *cf;
	int rc;

	rc = corefile_parse_text(name, text, strlen(text), &cf, err, errlen);
	if (rc < 0)
		return rc;
	rc = config_build(name, cf, dns_port, out, err, errlen);
	corefile_free(cf);
	return rc;
}

void config_free(struct config *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < cfg->nblocks; i++)
		block_free(&cfg->blocks[i]);
	free(cfg->blocks);
	free(cfg);
}
