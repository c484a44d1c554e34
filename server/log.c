/*
 * log.c -- CoreDNS-style log lines on standard output, the query log
 * formatter of the log directive, and the setup of the log and errors
 * directives.
 */
#include "server/log.h"

#include "server/config.h"
#include "server/packet.h"
#include "server/setup.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define LOG_LINE_MAX 4096

const char log_default_format[] =
    "{remote}:{port} - {>id} \"{type} {class} {name} {proto} {size} "
    "{>do} {>bufsize}\" {rcode} {>rflags} {rsize} {duration}";

static const char common_format[] =
    "{remote}:{port} - {>id} \"{type} {class} {name} {proto} {size} "
    "{>do} {>bufsize}\" {rcode} {>rflags} {rsize} {duration}";
static const char combined_format[] =
    "{remote}:{port} - {>id} \"{type} {class} {name} {proto} {size} "
    "{>do} {>bufsize}\" {rcode} {>rflags} {rsize} {duration} "
    "\"{>opcode}\"";

static int log_fd = STDOUT_FILENO;

void log_set_fd(int fd)
{
	log_fd = fd;
}

/* One write for the whole line; a short write only continues it. */
static void write_line(const char *buf, size_t n)
{
	while (n > 0) {
		ssize_t w = write(log_fd, buf, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		buf += w;
		n -= (size_t)w;
	}
}

static void vlog(const char *prefix, const char *fmt, va_list ap)
{
	char buf[LOG_LINE_MAX];
	size_t p = strlen(prefix);

	memcpy(buf, prefix, p);
	int r = vsnprintf(buf + p, sizeof(buf) - p - 1, fmt, ap);
	size_t n = p;
	if (r > 0)
		n += (size_t)r < sizeof(buf) - p - 1 ? (size_t)r
						     : sizeof(buf) - p - 2;
	buf[n++] = '\n';
	write_line(buf, n);
}

void log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("[INFO] ", fmt, ap);
	va_end(ap);
}

void log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("[WARNING] ", fmt, ap);
	va_end(ap);
}

void log_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("[ERROR] ", fmt, ap);
	va_end(ap);
}

uint64_t log_limit_event(struct log_limit *l, uint64_t now_ms,
			 uint64_t interval_ms)
{
	atomic_fetch_add_explicit(&l->held, 1, memory_order_relaxed);
	uint64_t next = atomic_load_explicit(&l->next_ms, memory_order_relaxed);
	if (now_ms < next)
		return 0;
	/* one thread wins the line; the others' events stay held or are
	 * taken into its count */
	if (!atomic_compare_exchange_strong_explicit(
		&l->next_ms, &next, now_ms + interval_ms, memory_order_relaxed,
		memory_order_relaxed))
		return 0;
	return atomic_exchange_explicit(&l->held, 0, memory_order_relaxed);
}

/* Type names as miekg/dns prints them. */
static const struct {
	uint16_t type;
	const char *name;
} type_names[] = {
    {1, "A"},	       {2, "NS"},	   {3, "MD"},	       {4, "MF"},
    {5, "CNAME"},      {6, "SOA"},	   {7, "MB"},	       {8, "MG"},
    {9, "MR"},	       {10, "NULL"},	   {13, "HINFO"},      {14, "MINFO"},
    {15, "MX"},	       {16, "TXT"},	   {17, "RP"},	       {18, "AFSDB"},
    {19, "X25"},       {20, "ISDN"},	   {21, "RT"},	       {23, "NSAPPTR"},
    {24, "SIG"},       {25, "KEY"},	   {26, "PX"},	       {27, "GPOS"},
    {28, "AAAA"},      {29, "LOC"},	   {30, "NXT"},	       {31, "EID"},
    {32, "NIMLOC"},    {33, "SRV"},	   {34, "ATMA"},       {35, "NAPTR"},
    {36, "KX"},	       {37, "CERT"},	   {39, "DNAME"},      {41, "OPT"},
    {42, "APL"},       {43, "DS"},	   {44, "SSHFP"},      {45, "IPSECKEY"},
    {46, "RRSIG"},     {47, "NSEC"},	   {48, "DNSKEY"},     {49, "DHCID"},
    {50, "NSEC3"},     {51, "NSEC3PARAM"}, {52, "TLSA"},       {53, "SMIMEA"},
    {55, "HIP"},       {56, "NINFO"},	   {57, "RKEY"},       {58, "TALINK"},
    {59, "CDS"},       {60, "CDNSKEY"},	   {61, "OPENPGPKEY"}, {62, "CSYNC"},
    {63, "ZONEMD"},    {64, "SVCB"},	   {65, "HTTPS"},      {99, "SPF"},
    {100, "UINFO"},    {101, "UID"},	   {102, "GID"},       {103, "UNSPEC"},
    {104, "NID"},      {105, "L32"},	   {106, "L64"},       {107, "LP"},
    {108, "EUI48"},    {109, "EUI64"},	   {249, "TKEY"},      {250, "TSIG"},
    {251, "IXFR"},     {252, "AXFR"},	   {253, "MAILB"},     {254, "MAILA"},
    {255, "ANY"},      {256, "URI"},	   {257, "CAA"},       {258, "AVC"},
    {260, "AMTRELAY"}, {32768, "TA"},	   {32769, "DLV"},
};

static const char *const rcode_names[] = {
    [0] = "NOERROR", [1] = "FORMERR",	[2] = "SERVFAIL",   [3] = "NXDOMAIN",
    [4] = "NOTIMP",  [5] = "REFUSED",	[6] = "YXDOMAIN",   [7] = "YXRRSET",
    [8] = "NXRRSET", [9] = "NOTAUTH",	[10] = "NOTZONE",   [16] = "BADSIG",
    [17] = "BADKEY", [18] = "BADTIME",	[19] = "BADMODE",   [20] = "BADNAME",
    [21] = "BADALG", [22] = "BADTRUNC", [23] = "BADCOOKIE",
};

const char *log_type_name(uint16_t type, char *buf)
{
	/* The common ones first, without a search. */
	switch (type) {
	case 1:
		return "A";
	case 28:
		return "AAAA";
	case 33:
		return "SRV";
	case 12:
		return "PTR";
	}
	size_t lo = 0, hi = sizeof(type_names) / sizeof(type_names[0]);
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (type_names[mid].type == type)
			return type_names[mid].name;
		if (type_names[mid].type < type)
			lo = mid + 1;
		else
			hi = mid;
	}
	snprintf(buf, 16, "TYPE%u", (unsigned)type);
	return buf;
}

const char *log_rcode_name(unsigned rcode, char *buf)
{
	if (rcode < sizeof(rcode_names) / sizeof(rcode_names[0]) &&
	    rcode_names[rcode])
		return rcode_names[rcode];
	snprintf(buf, 16, "RCODE%u", rcode);
	return buf;
}

static const char *class_name(uint16_t class, char *buf)
{
	switch (class) {
	case 1:
		return "IN";
	case 2:
		return "CS";
	case 3:
		return "CH";
	case 4:
		return "HS";
	case 254:
		return "NONE";
	case 255:
		return "ANY";
	}
	snprintf(buf, 16, "CLASS%u", (unsigned)class);
	return buf;
}

/* Bounded appender: keeps the output NUL-terminated, drops what does not
 * fit. */
struct out {
	char *buf;
	size_t len;
	size_t n;
};

static void put(struct out *o, const char *s, size_t k)
{
	if (o->len == 0)
		return;
	if (k > o->len - 1 - o->n)
		k = o->len - 1 - o->n;
	memcpy(o->buf + o->n, s, k);
	o->n += k;
	o->buf[o->n] = 0;
}

static void puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void putu(struct out *o, unsigned long v)
{
	char tmp[24];
	int k = snprintf(tmp, sizeof(tmp), "%lu", v);
	put(o, tmp, (size_t)k);
}

/* Address and port of a socket address. */
static void put_addr(struct out *o, const struct sockaddr *sa, bool port)
{
	char tmp[INET6_ADDRSTRLEN + 2];

	if (sa == NULL) {
		puts_(o, "-");
		return;
	}
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		if (port)
			putu(o, ntohs(in->sin_port));
		else if (inet_ntop(AF_INET, &in->sin_addr, tmp, sizeof(tmp)))
			puts_(o, tmp);
		return;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 =
		    (const struct sockaddr_in6 *)sa;
		if (port) {
			putu(o, ntohs(in6->sin6_port));
		} else if (inet_ntop(AF_INET6, &in6->sin6_addr, tmp + 1,
				     sizeof(tmp) - 2)) {
			/* CoreDNS writes IPv6 addresses in brackets. */
			tmp[0] = '[';
			size_t k = strlen(tmp);
			tmp[k] = ']';
			put(o, tmp, k + 1);
		}
		return;
	}
	puts_(o, "-");
}

/* Seconds as Go's strconv.FormatFloat(secs, 'f', -1, 64) writes a
 * nanosecond duration: no exponent, no trailing zeros. */
static void put_duration(struct out *o, double secs)
{
	char tmp[48];

	if (!(secs >= 0))
		secs = 0;
	if (secs > 1e9)
		secs = 1e9;
	unsigned long long ns = (unsigned long long)(secs * 1e9 + 0.5);
	int k = snprintf(tmp, sizeof(tmp), "%llu.%09llu", ns / 1000000000ULL,
			 ns % 1000000000ULL);
	while (k > 0 && tmp[k - 1] == '0')
		k--;
	if (k > 0 && tmp[k - 1] == '.')
		k--;
	tmp[k++] = 's';
	put(o, tmp, (size_t)k);
}

static void put_rflags(struct out *o, const uint8_t *resp, size_t len)
{
	static const struct {
		uint16_t bit;
		const char *name;
	} flags[] = {
	    {0x8000, "qr"}, {0x0400, "aa"}, {0x0200, "tc"}, {0x0100, "rd"},
	    {0x0080, "ra"}, {0x0040, "z"},  {0x0020, "ad"}, {0x0010, "cd"},
	};
	bool first = true;

	if (resp == NULL || len < 4) {
		puts_(o, "-");
		return;
	}
	uint16_t f = (uint16_t)(resp[2] << 8 | resp[3]);
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		if (!(f & flags[i].bit))
			continue;
		if (!first)
			put(o, ",", 1);
		puts_(o, flags[i].name);
		first = false;
	}
	/* CoreDNS writes nothing (not "-") when no flag is set. */
}

/* The full rcode of a response: header rcode plus the OPT's extended
 * rcode when there is an OPT. */
static int response_rcode(const uint8_t *resp, size_t len)
{
	if (resp == NULL || len < 12)
		return -1;
	unsigned rcode = resp[3] & 0x0f;
	unsigned qd = (unsigned)(resp[4] << 8 | resp[5]);
	unsigned rrs = (unsigned)(resp[6] << 8 | resp[7]) +
		       (unsigned)(resp[8] << 8 | resp[9]);
	unsigned ar = (unsigned)(resp[10] << 8 | resp[11]);
	size_t off = 12;

	if (ar == 0)
		return (int)rcode;
	for (unsigned i = 0; i < qd; i++) {
		off = packet_skip_name(resp, len, off);
		if (off == 0 || len - off < 4)
			return (int)rcode;
		off += 4;
	}
	for (unsigned i = 0; i < rrs + ar; i++) {
		off = packet_skip_name(resp, len, off);
		if (off == 0 || len - off < 10)
			return (int)rcode;
		unsigned type = (unsigned)(resp[off] << 8 | resp[off + 1]);
		size_t rdlen = (size_t)(resp[off + 8] << 8 | resp[off + 9]);
		if (i >= rrs && type == 41)
			return (int)(rcode | (unsigned)resp[off + 4] << 4);
		off += 10;
		if (len - off < rdlen)
			return (int)rcode;
		off += rdlen;
	}
	return (int)rcode;
}

/* Does the format text at p start with the placeholder ph? */
static bool is(const char *p, size_t k, const char *ph)
{
	return strlen(ph) == k && memcmp(p, ph, k) == 0;
}

static bool is_ci(const char *p, size_t k, const char *ph)
{
	return strlen(ph) == k && strncasecmp(p, ph, k) == 0;
}

static void format_into(struct out *o, const char *format,
			const struct log_query *lq, int depth);

static void put_label(struct out *o, const char *p, size_t k,
		      const struct log_query *lq, int depth)
{
	char tmp[16];

	if (is(p, k, "{type}")) {
		puts_(o, log_type_name(lq->qtype, tmp));
	} else if (is(p, k, "{class}")) {
		puts_(o, class_name(lq->qclass, tmp));
	} else if (is(p, k, "{name}")) {
		puts_(o, lq->qname ? lq->qname : "-");
	} else if (is(p, k, "{proto}")) {
		puts_(o, lq->tcp ? "tcp" : "udp");
	} else if (is(p, k, "{size}")) {
		putu(o, lq->req_size);
	} else if (is(p, k, "{remote}")) {
		put_addr(o, lq->peer, false);
	} else if (is(p, k, "{port}")) {
		put_addr(o, lq->peer, true);
	} else if (is(p, k, "{local}")) {
		put_addr(o, lq->local, false);
	} else if (is_ci(p, k, "{>id}")) {
		putu(o, lq->id);
	} else if (is_ci(p, k, "{>opcode}")) {
		putu(o, lq->opcode);
	} else if (is_ci(p, k, "{>do}")) {
		puts_(o, lq->do_bit ? "true" : "false");
	} else if (is_ci(p, k, "{>bufsize}")) {
		/* CoreDNS reports the largest message size on TCP. */
		unsigned size = lq->tcp ? 65535 : lq->bufsize;
		putu(o, size < 512 ? 512 : size);
	} else if (is(p, k, "{rcode}")) {
		int rc = response_rcode(lq->resp, lq->resp_size);
		if (rc < 0)
			puts_(o, "-");
		else if (rc < 24 && rcode_names[rc])
			puts_(o, rcode_names[rc]);
		else
			putu(o, (unsigned)rc); /* CoreDNS: the number */
	} else if (is(p, k, "{rsize}")) {
		if (lq->resp)
			putu(o, lq->resp_size);
		else
			puts_(o, "-");
	} else if (is(p, k, "{duration}")) {
		put_duration(o, lq->duration);
	} else if (is_ci(p, k, "{>rflags}")) {
		put_rflags(o, lq->resp, lq->resp_size);
	} else if (is(p, k, "{common}") && depth == 0) {
		format_into(o, common_format, lq, depth + 1);
	} else if (is(p, k, "{combined}") && depth == 0) {
		format_into(o, combined_format, lq, depth + 1);
	} else {
		puts_(o, "-");
	}
}

/*
 * Placeholders are found as CoreDNS finds them: the next '}' and the last
 * '{' before it, so "{{remote}}" is "{", a label, "}".
 */
static void format_into(struct out *o, const char *s,
			const struct log_query *lq, int depth)
{
	for (;;) {
		const char *close = strchr(s, '}');
		if (close == NULL)
			break;
		const char *open = NULL;
		for (const char *p = close; p > s;) {
			p--;
			if (*p == '{') {
				open = p;
				break;
			}
		}
		if (open == NULL) {
			put(o, s, (size_t)(close + 1 - s));
			s = close + 1;
			continue;
		}
		put(o, s, (size_t)(open - s));
		put_label(o, open, (size_t)(close + 1 - open), lq, depth);
		s = close + 1;
	}
	puts_(o, s);
}

size_t log_query_format(const char *format, const struct log_query *lq,
			char *buf, size_t len)
{
	struct out o = {buf, len, 0};

	if (len == 0)
		return 0;
	buf[0] = 0;
	format_into(&o, format ? format : log_default_format, lq, 0);
	return o.n;
}

void log_query(const char *format, const struct log_query *lq)
{
	char buf[LOG_LINE_MAX];
	static const char prefix[] = "[INFO] ";
	size_t p = sizeof(prefix) - 1;

	memcpy(buf, prefix, p);
	size_t n =
	    p + log_query_format(format, lq, buf + p, sizeof(buf) - p - 1);
	buf[n++] = '\n';
	write_line(buf, n);
}

const char *log_addr_str(const struct sockaddr *sa, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (sa && sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &in->sin_addr, a, sizeof(a));
		snprintf(buf, len, "%s:%u", a, (unsigned)ntohs(in->sin_port));
	} else if (sa && sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 =
		    (const struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &in6->sin6_addr, a, sizeof(a));
		snprintf(buf, len, "[%s]:%u", a,
			 (unsigned)ntohs(in6->sin6_port));
	} else {
		snprintf(buf, len, "?");
	}
	return buf;
}

/* ------------------------------------------------------------------ */
/* setup of the errors and log directives */

int log_errors_setup(struct setup *c, const struct corefile_dir *d)
{
	struct config_block *b = c->block;

	if (b->errors)
		return setup_dup_err(c, d, "errors");
	if (d->nargs)
		return setup_arg_err(c, d, "errors");
	if (d->nsub)
		return setup_err(c, &d->sub[0], "errors",
				 "option '%s' is not supported yet",
				 d->sub[0].name);
	b->errors = true;
	return 0;
}

int log_setup(struct setup *c, const struct corefile_dir *d)
{
	struct config_block *b = c->block;
	struct log_conf *l;
	size_t nnames = d->nargs;
	const char *format = LOG_FORMAT_COMMON;
	int rc;

	if (b->log)
		return setup_err(c, d, "log",
				 "only one log directive per server block is "
				 "supported");
	l = calloc(1, sizeof(*l));
	if (!l)
		return setup_nomem(c);
	b->log = l;
	if (nnames && strchr(d->args[nnames - 1], '{')) {
		format = d->args[--nnames];
		if (strcmp(format, "{common}") == 0)
			format = LOG_FORMAT_COMMON;
		else if (strcmp(format, "{combined}") == 0)
			format = LOG_FORMAT_COMBINED;
	}
	l->format = strdup(format);
	if (!l->format)
		return setup_nomem(c);
	rc = setup_zones_add(c, d, "log", d->args, nnames, &l->names,
			     &l->nnames);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < d->nsub; i++) {
		const struct corefile_dir *s = &d->sub[i];

		if (strcmp(s->name, "class") != 0)
			return setup_err(c, s, "log", "unknown property '%s'",
					 s->name);
		rc = setup_no_block(c, s, "log");
		if (rc < 0)
			return rc;
		if (s->nargs == 0)
			return setup_arg_err(c, s, "log");
		for (size_t j = 0; j < s->nargs; j++) {
			const char *a = s->args[j];

			if (strcmp(a, "all") == 0)
				l->classes |= LOG_CLASS_ALL;
			else if (strcmp(a, "success") == 0)
				l->classes |= LOG_CLASS_SUCCESS;
			else if (strcmp(a, "denial") == 0)
				l->classes |= LOG_CLASS_DENIAL;
			else if (strcmp(a, "error") == 0)
				l->classes |= LOG_CLASS_ERROR;
			else
				return setup_err(c, s, "log",
						 "invalid class '%s', must be "
						 "all, success, denial or "
						 "error",
						 a);
		}
	}
	if (!l->classes)
		l->classes = LOG_CLASS_ALL;
	return 0;
}

void log_conf_free(struct log_conf *l)
{
	if (!l)
		return;
	setup_strv_free(l->names, l->nnames);
	free(l->format);
	free(l);
}
