/*
 * setup.h -- what the parsers of every Corefile directive share, as
 * CoreDNS's plugins share their setup helpers: the parse context of one
 * server block, error messages in CoreDNS's words, Go-syntax durations
 * and integers, zone names (CIDRs become reverse zones) and string
 * vectors.
 *
 * A directive's module exports `int X_setup(struct setup *c, const struct
 * corefile_dir *d)`: it checks d (arguments and block), converts it into
 * its conf struct and hangs that on c->block.  On error it returns a
 * negative errno with c->err set, and leaves what it allocated on the
 * block, where config_free() finds and frees it.
 *
 * Messages: "FILE:LINE - Error during setup: PLUGIN: ..." for a bad
 * argument or option, "FILE:LINE - Error during parsing: ..." for what is
 * not understood at all, "out of memory" when allocation fails.
 */
#ifndef CLUSTERDNS_SETUP_H
#define CLUSTERDNS_SETUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server/corefile.h"

struct config_block;

/* The parse context: one per Corefile, block changes as blocks are read. */
struct setup {
	char *err; /* the caller's message buffer (may be NULL) */
	size_t errlen;
	uint16_t dns_port;	    /* the -dns.port flag: keys without port */
	const char *file;	    /* the Corefile's name, for messages */
	struct config_block *block; /* the server block being built */
	/* The directive's own scratch pointer for the block being read: NULL
	 * when the block starts; the directive's end function (config.c's
	 * table) frees what it holds. */
	void **state;
	/* Warnings for the log at startup ("plugin/kubernetes: FILE:LINE -
	 * ..."), added by setup_warn; config.c hands them to struct config. */
	char **warnings;
	size_t nwarnings;
};

/* Is s one of the strings of the NULL-terminated list? */
bool setup_in_list(const char *const *list, const char *s);

/* Set c->err to "FILE:LINE - Error during setup: PLUGIN: " + fmt, at the
 * directive d.  Returns -EINVAL. */
int setup_err(struct setup *c, const struct corefile_dir *d, const char *plugin,
	      const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Set c->err to "FILE:LINE - Error during parsing: " + fmt.  Returns
 * -EINVAL. */
int setup_parse_err(struct setup *c, const char *file, int line,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* CoreDNS's "Wrong argument count or unexpected line ending after 'NAME'"
 * setup error of plugin at d.  Returns -EINVAL. */
int setup_arg_err(struct setup *c, const struct corefile_dir *d,
		  const char *plugin);

/* 0 when d has no { } block, else the setup error "'NAME' takes no block"
 * (-EINVAL). */
int setup_no_block(struct setup *c, const struct corefile_dir *d,
		   const char *plugin);

/* Add the warning "plugin/PLUGIN: FILE:LINE - " + fmt about d to
 * c->warnings, for the log at startup (parsing goes on).  Returns 0 or
 * -ENOMEM with c->err set. */
int setup_warn(struct setup *c, const struct corefile_dir *d,
	       const char *plugin, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* CoreDNS's setup error for a directive that is in the block already:
 * "this plugin can only be used once per Server Block" of plugin at d.
 * Returns -EINVAL. */
int setup_dup_err(struct setup *c, const struct corefile_dir *d,
		  const char *plugin);

/* Set c->err to "out of memory".  Returns -ENOMEM. */
int setup_nomem(struct setup *c);

/* Append a copy of s to the vector *v of *n strings (the caller frees both
 * with setup_strv_free).  Returns 0 or -ENOMEM. */
int setup_strv_add(char ***v, size_t *n, const char *s);

/* The same unless s is there already. */
int setup_strv_add_uniq(char ***v, size_t *n, const char *s);

/* Free the n strings of v and v. */
void setup_strv_free(char **v, size_t n);

/*
 * The reverse zone of a CIDR (addr/len), on an octet (IPv4) or nibble
 * (IPv6) boundary: "10.0.0.0/8" is "10.in-addr.arpa".  Returns 0 with
 * *zone set (the caller frees it), 1 when text is not a CIDR, -EINVAL
 * with msg set, -ENOMEM.
 */
int setup_cidr_zone(const char *text, char **zone, char *msg, size_t msglen);

/*
 * A zone as written in a key or an argument: a domain name (a trailing dot
 * or not, any case) or a CIDR for a reverse zone.  *zone gets the
 * lowercase name without trailing dot ("" for the root; the caller frees
 * it).  Returns 0, -EINVAL with msg set, -ENOMEM.
 */
int setup_zone_parse(const char *text, char **zone, char *msg, size_t msglen);

/* Is zone equal to or below parent (both as setup_zone_parse gives)? */
bool setup_zone_in(const char *zone, const char *parent);

/* Append the zones written in args to *v (no duplicates).  Returns 0, or
 * a setup error of plugin at d (-EINVAL, -ENOMEM). */
int setup_zones_add(struct setup *c, const struct corefile_dir *d,
		    const char *plugin, char *const *args, size_t nargs,
		    char ***v, size_t *n);

/*
 * A Go duration (time.ParseDuration): an optional sign, then "0" or one or
 * more decimal numbers with an optional fraction, each with a unit among
 * ns, us (µs, μs), ms, s, m, h ("1h30m", "1.5s", "500ms").  *ms gets it in
 * milliseconds, rounded down.  Returns 0, or -EINVAL with msg set as Go
 * words it ("time: unknown unit \"x\" in duration \"5x\""); a negative
 * duration is refused.
 */
int setup_duration(const char *text, uint64_t *ms, char *msg, size_t msglen);

/* A Go duration that may be negative: *neg says it was (not for -0).
 * Returns as setup_duration. */
int setup_signed_duration(const char *text, uint64_t *ms, bool *neg, char *msg,
			  size_t msglen);

/* Go's strconv.Atoi (64-bit int).  Returns 0, or -EINVAL with msg set as
 * Go words it. */
int setup_atoi(const char *s, long *v, char *msg, size_t msglen);

/*
 * The listen address argument of an HTTP directive (health, ready,
 * prometheus): d's first argument, or def without one, checked as Go's
 * net.SplitHostPort checks it ("host:port", ":port", "[v6]:port") with a
 * port of 0..65535.  *out gets a copy.  Returns 0, or a setup error of
 * plugin at d ("address 8080: missing port in address"), -ENOMEM.
 */
int setup_listen_addr(struct setup *c, const struct corefile_dir *d,
		      const char *plugin, const char *def, char **out);

#endif
