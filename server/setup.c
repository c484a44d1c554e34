/*
 * setup.c -- what the parsers of every directive share: the parse
 * context's error messages in CoreDNS's words, string vectors, zones and
 * reverse zones, Go durations and integers.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "server/setup.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

bool setup_in_list(const char *const *list, const char *s)
{
	for (; *list; list++)
		if (strcmp(*list, s) == 0)
			return true;
	return false;
}

/* ------------------------------------------------------------------ */
/* errors */

static int verr(struct setup *c, const char *file, int line, const char *stage,
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

int setup_parse_err(struct setup *c, const char *file, int line,
		    const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = verr(c, file, line, "parsing", NULL, fmt, ap);
	va_end(ap);
	return rc;
}

int setup_err(struct setup *c, const struct corefile_dir *d, const char *plugin,
	      const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = verr(c, d->file, d->line, "setup", plugin, fmt, ap);
	va_end(ap);
	return rc;
}

int setup_arg_err(struct setup *c, const struct corefile_dir *d,
		  const char *plugin)
{
	return setup_err(c, d, plugin,
			 "Wrong argument count or unexpected line ending "
			 "after '%s'",
			 d->name);
}

int setup_warn(struct setup *c, const struct corefile_dir *d,
	       const char *plugin, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	n = snprintf(buf, sizeof(buf), "plugin/%s: %s:%d - ", plugin, d->file,
		     d->line);
	if (n >= 0 && (size_t)n < sizeof(buf)) {
		va_start(ap, fmt);
		vsnprintf(buf + n, sizeof(buf) - n, fmt, ap);
		va_end(ap);
	}
	if (setup_strv_add(&c->warnings, &c->nwarnings, buf) < 0)
		return setup_nomem(c);
	return 0;
}

int setup_nomem(struct setup *c)
{
	if (c->err && c->errlen)
		snprintf(c->err, c->errlen, "out of memory");
	return -ENOMEM;
}

/* A directive that takes no block got one. */
int setup_no_block(struct setup *c, const struct corefile_dir *d,
		   const char *plugin)
{
	if (d->nsub == 0)
		return 0;
	return setup_err(c, d, plugin, "'%s' takes no block", d->name);
}

/* ------------------------------------------------------------------ */
/* string lists */

int setup_strv_add(char ***v, size_t *n, const char *s)
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
int setup_strv_add_uniq(char ***v, size_t *n, const char *s)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp((*v)[i], s) == 0)
			return 0;
	return setup_strv_add(v, n, s);
}

void setup_strv_free(char **v, size_t n)
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
int setup_cidr_zone(const char *text, char **zone, char *msg, size_t msglen)
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
int setup_zone_parse(const char *text, char **zone, char *msg, size_t msglen)
{
	size_t len = strlen(text), lablen = 0;
	char *z;
	int rc;

	rc = setup_cidr_zone(text, zone, msg, msglen);
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

/* Is zone equal to or below parent? */
bool setup_zone_in(const char *zone, const char *parent)
{
	size_t zl = strlen(zone), pl = strlen(parent);

	if (pl == 0)
		return true;
	if (zl < pl || strcmp(zone + zl - pl, parent) != 0)
		return false;
	return zl == pl || zone[zl - pl - 1] == '.';
}

/* Append the zones written in args to *v (no duplicates). */
int setup_zones_add(struct setup *c, const struct corefile_dir *d,
		    const char *plugin, char *const *args, size_t nargs,
		    char ***v, size_t *n)
{
	char msg[512];

	for (size_t i = 0; i < nargs; i++) {
		char *z;
		int rc = setup_zone_parse(args[i], &z, msg, sizeof(msg));

		if (rc == -ENOMEM)
			return setup_nomem(c);
		if (rc < 0)
			return setup_err(c, d, plugin, "%s", msg);
		rc = setup_strv_add_uniq(v, n, z);
		free(z);
		if (rc < 0)
			return setup_nomem(c);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* numbers and durations */

int setup_duration(const char *text, uint64_t *ms, char *msg, size_t msglen)
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

/* Go's strconv.Atoi (64-bit int).  Returns 0, or -EINVAL with msg set as
 * Go words it. */
int setup_atoi(const char *s, long *v, char *msg, size_t msglen)
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
int setup_signed_duration(const char *text, uint64_t *ms, bool *neg, char *msg,
			  size_t msglen)
{
	*neg = text[0] == '-' && text[1] != '-' && text[1] != '+';
	int rc = setup_duration(*neg ? text + 1 : text, ms, msg, msglen);
	if (*neg && *ms == 0)
		*neg = false;
	return rc;
}

int setup_listen_addr(struct setup *c, const struct corefile_dir *d,
		      const char *plugin, const char *def, char **out)
{
	const char *a = d->nargs ? d->args[0] : def;
	const char *colon = strrchr(a, ':'), *why = NULL;
	char *end;

	if (!colon)
		why = "missing port in address";
	else if (a[0] == '[' && !strchr(a, ']'))
		why = "missing ']' in address";
	else if (a[0] == '[' && colon[-1] != ']')
		why = "missing port in address";
	else if (a[0] != '[' && memchr(a, ':', (size_t)(colon - a)))
		why = "too many colons in address";
	else if (a[0] != '[' && memchr(a, ']', (size_t)(colon - a)))
		why = "unexpected ']' in address";
	if (!why) {
		errno = 0;
		unsigned long port = strtoul(colon + 1, &end, 10);
		if (!colon[1] || *end || errno || port > 65535)
			why = "invalid port";
	}
	if (why)
		return setup_err(c, d, plugin, "address %s: %s", a, why);
	if (!(*out = strdup(a)))
		return setup_nomem(c);
	return 0;
}

int setup_dup_err(struct setup *c, const struct corefile_dir *d,
		  const char *plugin)
{
	return setup_err(c, d, plugin,
			 "this plugin can only be used once per Server Block");
}
