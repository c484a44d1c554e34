/*
 * upstream.c -- upstream health and the order of tries.
 */
#include "server/upstream.h"

#include "server/log.h"

#include <errno.h>
#include <string.h>

int upstream_set_init(struct upstream_set *s, const struct sockaddr_storage *a,
		      const socklen_t *alen, unsigned n,
		      enum upstream_policy policy, unsigned max_fails)
{
	memset(s, 0, sizeof(*s));
	if (n == 0 || n > UPSTREAM_MAX)
		return -EINVAL;
	for (unsigned i = 0; i < n; i++) {
		struct upstream *u = &s->u[i];
		if (a[i].ss_family != AF_INET && a[i].ss_family != AF_INET6)
			return -EINVAL;
		u->addr = a[i];
		u->addrlen = alen[i];
		log_addr_str((const struct sockaddr *)&a[i], u->name,
			     sizeof(u->name));
		atomic_init(&u->fails, 0);
		atomic_init(&u->check, false);
	}
	s->n = n;
	s->policy = policy;
	s->max_fails = max_fails;
	atomic_init(&s->rr, 0);
	return 0;
}

bool upstream_down(const struct upstream_set *s, unsigned i)
{
	if (s->max_fails == 0)
		return false;
	return atomic_load_explicit(&s->u[i].fails, memory_order_relaxed) >
	       s->max_fails;
}

/* xorshift64*: enough to spread queries, not a secret. */
static uint64_t mix(uint64_t *x)
{
	*x ^= *x >> 12;
	*x ^= *x << 25;
	*x ^= *x >> 27;
	return *x * 0x2545f4914f6cdd1dULL;
}

void upstream_order(struct upstream_set *s, uint64_t rnd, uint8_t *order)
{
	unsigned n = s->n;

	for (unsigned i = 0; i < n; i++)
		order[i] = (uint8_t)i;
	if (s->policy == UPSTREAM_ROUND_ROBIN) {
		unsigned start =
		    atomic_fetch_add_explicit(&s->rr, 1, memory_order_relaxed) %
		    n;
		for (unsigned i = 0; i < n; i++)
			order[i] = (uint8_t)((start + i) % n);
	} else if (s->policy == UPSTREAM_RANDOM && n > 1) {
		uint64_t x = rnd | 1;
		for (unsigned i = n - 1; i > 0; i--) {
			unsigned j = (unsigned)(mix(&x) % (i + 1));
			uint8_t t = order[i];
			order[i] = order[j];
			order[j] = t;
		}
	}
}

unsigned upstream_next(const struct upstream_set *s, const uint8_t *order,
		       unsigned *pos, uint64_t rnd)
{
	unsigned n = s->n;

	for (unsigned k = 0; k < n; k++) {
		unsigned i = order[(*pos + k) % n];
		if (!upstream_down(s, i)) {
			*pos = (*pos + k + 1) % n;
			return i;
		}
	}
	*pos = (*pos + 1) % n;
	return (unsigned)(rnd % n);
}

void upstream_check_passed(struct upstream *u)
{
	atomic_store(&u->fails, 0);
	atomic_store(&u->check, false);
}

void upstream_check_failed(struct upstream *u)
{
	atomic_fetch_add(&u->fails, 1);
}
