/*
 * k8s_external.c -- the k8s_external directive's setup, with CoreDNS's
 * options, defaults and messages.
 */
#include "server/k8s_external.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/config.h"
#include "server/setup.h"

#define PLUGIN "k8s_external"

/* A DNS label: 1 to 63 letters, digits, '-' or '_'. */
static bool is_label(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 63)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_')
			return false;
	return true;
}

static int ext_option(struct setup *c, struct k8s_external_conf *x,
		      const struct corefile_dir *s)
{
	const char *o = s->name;

	if (strcmp(o, "ttl") == 0) {
		char msg[256];
		long t;

		/* CoreDNS reads the first argument and ignores the rest */
		if (s->nargs == 0)
			return setup_arg_err(c, s, PLUGIN);
		if (setup_atoi(s->args[0], &t, msg, sizeof(msg)) < 0)
			return setup_err(c, s, PLUGIN, "%s", msg);
		if (t < 0 || t > 3600)
			return setup_err(c, s, PLUGIN,
					 "ttl must be in range [0, 3600]: %ld",
					 t);
		x->ttl = (uint32_t)t;
		return 0;
	}
	if (strcmp(o, "apex") == 0) {
		if (s->nargs == 0)
			return setup_arg_err(c, s, PLUGIN);
		if (!is_label(s->args[0]))
			return setup_err(c, s, PLUGIN,
					 "apex must be a DNS label: '%s'",
					 s->args[0]);
		char *a = strdup(s->args[0]);
		if (!a)
			return setup_nomem(c);
		for (char *p = a; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		free(x->apex);
		x->apex = a;
		return 0;
	}
	if (strcmp(o, "headless") == 0) {
		x->headless = true;
		return 0;
	}
	if (strcmp(o, "fallthrough") == 0) {
		setup_strv_free(x->fallthrough_zones, x->nfallthrough_zones);
		x->fallthrough_zones = NULL;
		x->nfallthrough_zones = 0;
		x->fallthrough = true;
		return setup_zones_add(c, s, PLUGIN, s->args, s->nargs,
				       &x->fallthrough_zones,
				       &x->nfallthrough_zones);
	}
	return setup_err(c, s, PLUGIN, "unknown property '%s'", o);
}

int k8s_external_setup(struct setup *c, const struct corefile_dir *d)
{
	struct config_block *b = c->block;
	struct k8s_external_conf *x;
	int rc;

	if (b->external)
		return setup_dup_err(c, d, PLUGIN);
	x = calloc(1, sizeof(*x));
	if (!x)
		return setup_nomem(c);
	b->external = x;
	x->ttl = 5;
	x->line = d->line;
	if (!(x->apex = strdup("dns")) || !(x->file = strdup(d->file)))
		return setup_nomem(c);
	rc = setup_zones_add(c, d, PLUGIN, d->args, d->nargs, &x->zones,
			     &x->nzones);
	if (rc < 0)
		return rc;
	for (size_t i = 0; d->nargs == 0 && i < b->nkeys; i++)
		if (setup_strv_add_uniq(&x->zones, &x->nzones,
					b->keys[i].zone) < 0)
			return setup_nomem(c);
	for (size_t i = 0; i < d->nsub; i++)
		if ((rc = ext_option(c, x, &d->sub[i])) < 0)
			return rc;
	return 0;
}

int k8s_external_end(struct setup *c, bool ok)
{
	struct config_block *b = c->block;

	if (!ok || !b->external)
		return 0;
	if (b->kube) {
		b->kube->external = b->external;
		return 0;
	}
	struct corefile_dir d = {.name = PLUGIN,
				 .file = b->external->file,
				 .line = b->external->line};
	return setup_warn(c, &d, PLUGIN,
			  "no kubernetes plugin in this server block: the "
			  "names of its zones are passed on");
}

void k8s_external_conf_free(struct k8s_external_conf *x)
{
	if (!x)
		return;
	setup_strv_free(x->zones, x->nzones);
	setup_strv_free(x->fallthrough_zones, x->nfallthrough_zones);
	free(x->apex);
	free(x->file);
	free(x);
}

bool k8s_external_conf_same(const struct k8s_external_conf *a,
			    const struct k8s_external_conf *b)
{
	if (!a || !b)
		return a == b;
	if (a->nzones != b->nzones || a->ttl != b->ttl ||
	    a->headless != b->headless || strcmp(a->apex, b->apex) != 0)
		return false;
	for (size_t i = 0; i < a->nzones; i++)
		if (strcmp(a->zones[i], b->zones[i]) != 0)
			return false;
	return true;
}
