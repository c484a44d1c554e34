/*
 * bind.c -- the bind directive's setup: addresses as written, interfaces
 * expanded to their addresses, `except` ones taken out once every bind
 * directive of the block is read.
 */
#include "server/bind.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "server/config.h"
#include "server/setup.h"

struct addrs {
	char **text;
	unsigned char (*bin)[17]; /* family byte, then the address */
	size_t n;
};

static void addrs_free(struct addrs *a)
{
	setup_strv_free(a->text, a->n);
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
	return setup_strv_add(&a->text, &a->n, text);
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

static int bind_resolve(struct setup *c, const struct corefile_dir *d,
			const char *s, struct addrs *out)
{
	int rc = addr_resolve(s, out);

	if (rc == -ENOENT)
		return setup_err(c, d, "bind",
				 "not a valid IP address or interface name: "
				 "'%s'",
				 s);
	if (rc < 0)
		return setup_nomem(c);
	return 0;
}

/* One bind directive: its addresses go to all, its exceptions to except
 * (applied once every bind directive of the block is read). */
static int do_bind(struct setup *c, const struct corefile_dir *d,
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

		rc = setup_no_block(c, s, "bind");
		if (rc < 0)
			return rc;
		if (strcmp(s->name, "except") == 0) {
			if (s->nargs == 0)
				return setup_arg_err(c, s, "bind");
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
		return setup_arg_err(c, d, "bind");
	return 0;
}

/* All bind directives read: apply the exceptions. */
static int bind_finish(struct setup *c, struct config_block *b,
		       const struct corefile_dir *first, struct addrs *all,
		       struct addrs *except)
{
	for (size_t i = 0; i < all->n; i++) {
		bool drop = false;

		for (size_t j = 0; j < except->n && !drop; j++)
			drop = memcmp(all->bin[i], except->bin[j], 17) == 0;
		if (drop)
			continue;
		if (setup_strv_add(&b->bind, &b->nbind, all->text[i]) < 0)
			return setup_nomem(c);
	}
	if (first && b->nbind == 0)
		return setup_err(c, first, "bind",
				 "no address left to bind to after 'except'");
	return 0;
}

/* What the bind directives of one block collected (c->state). */
struct bind_state {
	struct addrs all, except;
	const struct corefile_dir *first; /* the first bind directive */
};

int bind_setup(struct setup *c, const struct corefile_dir *d)
{
	struct bind_state *st = *c->state;

	if (!st) {
		st = calloc(1, sizeof(*st));
		if (!st)
			return setup_nomem(c);
		*c->state = st;
	}
	st->first = st->first ? st->first : d;
	return do_bind(c, d, &st->all, &st->except);
}

int bind_end(struct setup *c, bool ok)
{
	struct bind_state *st = *c->state;
	int rc = 0;

	if (!st)
		return 0;
	if (ok)
		rc = bind_finish(c, c->block, st->first, &st->all, &st->except);
	addrs_free(&st->all);
	addrs_free(&st->except);
	free(st);
	*c->state = NULL;
	return rc;
}
