/*
 * config.c -- the meaning of a Corefile: keys become zones and ports, and
 * each directive goes to the setup function of the module that implements
 * it (setup.h), as CoreDNS hands each plugin its own tokens.  Messages
 * follow CoreDNS: "FILE:LINE - Error during parsing: ..." for what is not
 * understood at all (keys, unknown directives), "FILE:LINE - Error during
 * setup: DIRECTIVE: ..." for bad arguments.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "server/config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server/bind.h"
#include "server/corefile.h"
#include "server/loadbalance.h"
#include "server/log.h"
#include "server/loop.h"
#include "server/setup.h"
#include "server/transfer.h"

/*
 * The directives clusterdns supports, in pipeline order (the order of
 * config_directives and of -plugins), each as X(NAME, SETUP, END): SETUP
 * parses one occurrence into the block being built (setup.h); END, when
 * not NULL, runs once after every directive of a block, ok telling whether
 * they all parsed, to finish and free what SETUP kept in *c->state.
 *
 * Adding a directive takes: its module with X_setup() (checks, messages
 * through setup.h), its conf struct and X_conf_free() in the module's
 * header (cache: cache_directive_free); one line here; one typed field in
 * struct config_block (config.h) and its free in block_free() below; its tests;
 * its README row.  Take it out of unsupported_directives when it was there.
 */
#define CONFIG_DIRECTIVES(X)                                                   \
	X("reload", reload_setup, NULL)                                        \
	X("bind", bind_setup, bind_end)                                        \
	X("ready", ready_setup, NULL)                                          \
	X("health", health_setup, NULL)                                        \
	X("prometheus", prometheus_setup, NULL)                                \
	X("errors", log_errors_setup, NULL)                                    \
	X("log", log_setup, NULL)                                              \
	X("loadbalance", loadbalance_setup, NULL)                              \
	X("cache", cache_setup, NULL)                                          \
	X("autopath", autopath_setup, autopath_end)                            \
	X("transfer", transfer_setup, NULL)                                    \
	X("k8s_external", k8s_external_setup, k8s_external_end)                \
	X("kubernetes", kubernetes_setup, NULL)                                \
	X("loop", loop_setup, NULL)                                            \
	X("forward", forward_setup, NULL)

struct directive {
	const char *name;
	int (*setup)(struct setup *c, const struct corefile_dir *d);
	int (*end)(struct setup *c, bool ok);
};

#define DIRECTIVE_NAME(name, setup, end) name,
#define DIRECTIVE_ENTRY(name, setup, end) {name, setup, end},

const char *const config_directives[] = {
    CONFIG_DIRECTIVES(DIRECTIVE_NAME) NULL,
};

static const struct directive directives[] = {
    CONFIG_DIRECTIVES(DIRECTIVE_ENTRY)};

#define NDIRECTIVES (sizeof(directives) / sizeof(directives[0]))

/* CoreDNS plugins that clusterdns does not implement (yet). */
static const char *const unsupported_directives[] = {
    "metadata", "geoip",   "cancel",   "tls",	  "timeouts", "multisocket",
    "nsid",	"bufsize", "debug",    "trace",	  "pprof",    "dnstap",
    "local",	"dns64",   "acl",      "any",	  "chaos",    "tsig",
    "rewrite",	"header",  "dnssec",   "minimal", "template", "hosts",
    "route53",	"azure",   "clouddns", "file",	  "auto",     "secondary",
    "etcd",	"grpc",	   "erratic",  "whoami",  "on",	      "sign",
    "view",	"root",	   NULL,
};

/* Plugins CoreDNS removed, still found in old Corefiles: named as such,
 * with what replaced them (NULL: nothing). */
static const struct removed_directive {
	const char *name;
	const char *version; /* the CoreDNS release without it */
	const char *instead;
} removed_directives[] = {
    {"proxy", "1.5", "forward"},
    {"federation", "1.7", NULL},
};

/* The setup error for a removed directive; 1 when d is no such one. */
static int removed_err(struct setup *c, const struct corefile_dir *d)
{
	size_t n = sizeof(removed_directives) / sizeof(removed_directives[0]);

	for (size_t i = 0; i < n; i++) {
		const struct removed_directive *r = &removed_directives[i];

		if (strcmp(r->name, d->name) != 0)
			continue;
		if (!r->instead)
			return setup_parse_err(c, d->file, d->line,
					       "Directive '%s' was removed "
					       "from CoreDNS in %s",
					       d->name, r->version);
		return setup_parse_err(c, d->file, d->line,
				       "Directive '%s' was removed from "
				       "CoreDNS in %s; use '%s' instead",
				       d->name, r->version, r->instead);
	}
	return 1;
}

/* ------------------------------------------------------------------ */
/* server block keys */

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
	rc = setup_zone_parse(host, &key->zone, msg, msglen);
	free(host);
	if (rc < 0)
		return rc;
	key->port = port;
	return 0;
}

/* ------------------------------------------------------------------ */
/* blocks */

static void block_free(struct config_block *b)
{
	forward_conf_free(b->fwd);
	for (size_t i = 0; i < b->nkeys; i++)
		free(b->keys[i].zone);
	free(b->keys);
	setup_strv_free(b->bind, b->nbind);
	log_conf_free(b->log);
	kubernetes_conf_free(b->kube);
	k8s_external_conf_free(b->external);
	cache_directive_free(b->cache);
	autopath_conf_free(b->autopath);
	health_conf_free(b->health);
	ready_conf_free(b->ready);
	prometheus_conf_free(b->prometheus);
	reload_conf_free(b->reload);
	transfer_conf_free(b->transfer);
	free(b->file);
}

static int block_keys(struct setup *c, const struct config *cfg,
		      struct config_block *b, const struct corefile_block *cb)
{
	char msg[512];

	b->keys = calloc(cb->nkeys, sizeof(*b->keys));
	if (!b->keys)
		return setup_nomem(c);
	for (size_t i = 0; i < cb->nkeys; i++) {
		struct config_key *k = &b->keys[i];
		int rc =
		    key_parse(cb->keys[i], c->dns_port, k, msg, sizeof(msg));

		if (rc == -ENOMEM)
			return setup_nomem(c);
		if (rc < 0)
			return setup_parse_err(
			    c, cb->file, cb->line,
			    "invalid server block key '%s': %s", cb->keys[i],
			    msg);
		b->nkeys++;
		/* earlier blocks are complete, this one up to key i */
		for (size_t bi = 0; bi <= cfg->nblocks; bi++) {
			const struct config_block *o = &cfg->blocks[bi];
			size_t nk = bi == cfg->nblocks ? i : o->nkeys;

			for (size_t ki = 0; ki < nk; ki++) {
				if (o->keys[ki].port == k->port &&
				    strcmp(o->keys[ki].zone, k->zone) == 0)
					return setup_parse_err(
					    c, cb->file, cb->line,
					    "cannot serve dns://%s.:%u - "
					    "it is already defined",
					    k->zone, k->port);
			}
		}
	}
	return 0;
}

static const struct directive *directive_find(const char *name)
{
	for (size_t i = 0; i < NDIRECTIVES; i++)
		if (strcmp(directives[i].name, name) == 0)
			return &directives[i];
	return NULL;
}

/* Fill cfg->blocks[cfg->nblocks] (space is there) from cb. */
static int block_load(struct setup *c, struct config *cfg,
		      const struct corefile_block *cb)
{
	struct config_block *b = &cfg->blocks[cfg->nblocks];
	void *state[NDIRECTIVES] = {0};
	int rc;

	memset(b, 0, sizeof(*b));
	c->block = b;
	b->file = strdup(cb->file);
	if (!b->file) {
		rc = setup_nomem(c);
		goto fail;
	}
	b->line = cb->line;
	rc = block_keys(c, cfg, b, cb);
	if (rc < 0)
		goto fail;
	for (size_t i = 0; i < cb->ndirs; i++) {
		const struct corefile_dir *d = &cb->dirs[i];
		const struct directive *dir = directive_find(d->name);

		if (dir) {
			c->state = &state[dir - directives];
			rc = dir->setup(c, d);
		} else if ((rc = removed_err(c, d)) == 1) {
			if (setup_in_list(unsupported_directives, d->name))
				rc = setup_parse_err(c, d->file, d->line,
						     "Directive '%s' is not "
						     "supported yet",
						     d->name);
			else
				rc = setup_parse_err(c, d->file, d->line,
						     "Unknown directive '%s'",
						     d->name);
		}
		if (rc < 0)
			goto fail;
	}
	for (size_t i = 0; i < NDIRECTIVES; i++) {
		if (!directives[i].end)
			continue;
		c->state = &state[i];
		rc = directives[i].end(c, true);
		if (rc < 0)
			goto fail;
	}
	c->state = NULL;
	c->block = NULL;
	cfg->nblocks++;
	return 0;
fail:
	/* the ends not run yet free their state; those run freed theirs */
	for (size_t i = 0; i < NDIRECTIVES; i++) {
		if (!directives[i].end)
			continue;
		c->state = &state[i];
		directives[i].end(c, false);
	}
	c->state = NULL;
	c->block = NULL;
	block_free(b);
	memset(b, 0, sizeof(*b));
	return rc;
}

static int config_build(const char *name, const struct corefile *cf,
			uint16_t dns_port, struct config **out, char *err,
			size_t errlen)
{
	struct setup c = {
	    .err = err, .errlen = errlen, .dns_port = dns_port, .file = name};
	struct config *cfg;
	int rc;

	if (cf->nblocks == 0)
		return setup_parse_err(&c, name, 1, "no server blocks");
	cfg = calloc(1, sizeof(*cfg));
	if (!cfg)
		return setup_nomem(&c);
	cfg->blocks = calloc(cf->nblocks, sizeof(*cfg->blocks));
	if (!cfg->blocks) {
		rc = setup_nomem(&c);
		goto fail;
	}
	for (size_t i = 0; i < cf->nblocks; i++) {
		rc = block_load(&c, cfg, &cf->blocks[i]);
		if (rc < 0)
			goto fail;
	}
	cfg->warnings = c.warnings;
	cfg->nwarnings = c.nwarnings;
	*out = cfg;
	return 0;
fail:
	setup_strv_free(c.warnings, c.nwarnings);
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

void config_log_warnings(const struct config *cfg)
{
	for (size_t i = 0; i < cfg->nwarnings; i++)
		log_warn("%s", cfg->warnings[i]);
}

void config_free(struct config *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < cfg->nblocks; i++)
		block_free(&cfg->blocks[i]);
	free(cfg->blocks);
	setup_strv_free(cfg->warnings, cfg->nwarnings);
	free(cfg);
}
