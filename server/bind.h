/*
 * bind.h -- the bind directive: `bind ADDR|IFACE... [{ except ADDR... }]`,
 * the addresses a server block listens on.
 */
#ifndef CLUSTERDNS_BIND_H
#define CLUSTERDNS_BIND_H

#include <stdbool.h>

#include "server/corefile.h"

struct setup;

/*
 * Setup of one bind directive (setup.h): IP addresses are kept as
 * written, interface names expanded to their addresses (IPv6 link-local
 * ones skipped), duplicates dropped; `except` addresses are collected in
 * *c->state.  Several bind directives in a block add up.  Returns 0 or a
 * negative errno with c->err set.
 */
int bind_setup(struct setup *c, const struct corefile_dir *d);

/*
 * After every directive of the block: when ok, take the exceptions out and
 * set c->block->bind / nbind (an error when none is left); in any case free
 * *c->state.  Returns 0 or a negative errno with c->err set.
 */
int bind_end(struct setup *c, bool ok);

#endif
