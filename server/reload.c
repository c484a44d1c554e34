/*
 * reload.c -- the reload directive: its setup and the period of the
 * check (the daemon reads and loads the Corefile).
 */
#include "server/reload.h"

#include <stdlib.h>
#include <string.h>

#include "server/config.h"
#include "server/setup.h"

#define DEFAULT_INTERVAL_MS 30000
#define DEFAULT_JITTER_MS 15000
#define MIN_INTERVAL_MS 2000
#define MIN_JITTER_MS 1000

int reload_setup(struct setup *c, const struct corefile_dir *d)
{
	struct config_block *b = c->block;
	uint64_t v[2] = {DEFAULT_INTERVAL_MS, DEFAULT_JITTER_MS};
	char msg[256];

	if (b->reload)
		return setup_dup_err(c, d, "reload");
	if (!(b->reload = calloc(1, sizeof(*b->reload))))
		return setup_nomem(c);
	if (d->nargs > 2 || d->nsub)
		return setup_arg_err(c, d, "reload");
	for (size_t i = 0; i < d->nargs; i++)
		if (setup_duration(d->args[i], &v[i], msg, sizeof(msg)) < 0)
			return setup_err(c, d, "reload", "%s", msg);
	if (v[0] < MIN_INTERVAL_MS)
		return setup_err(c, d, "reload",
				 "interval value must be greater or equal to "
				 "2s");
	if (v[1] < MIN_JITTER_MS)
		return setup_err(c, d, "reload",
				 "jitter value must be greater or equal to 1s");
	if (v[1] > v[0] / 2) {
		int rc = setup_warn(c, d, "reload",
				    "jitter value is too large, set to %llu "
				    "ms (half the interval)",
				    (unsigned long long)(v[0] / 2));
		if (rc < 0)
			return rc;
		v[1] = v[0] / 2;
	}
	b->reload->interval_ms = v[0];
	b->reload->jitter_ms = v[1];
	return 0;
}

void reload_conf_free(struct reload_conf *r)
{
	free(r);
}

uint64_t reload_period_ms(const struct reload_conf *r, uint64_t rnd)
{
	uint64_t j = r->jitter_ms ? rnd % r->jitter_ms : 0;

	return r->interval_ms - r->jitter_ms / 2 + j;
}
