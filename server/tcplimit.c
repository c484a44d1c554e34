/*
 * tcplimit.c -- connection counts per client address: an open-addressing
 * table (linear probing, backward-shift deletion, so no tombstones) sized
 * for twice the most addresses that can hold connections at once (one
 * each), hashed with a random seed so that no client can choose addresses
 * that collide.  The total is kept under the same mutex and mirrored in an
 * atomic for lock-free reads.
 */
#include "server/tcplimit.h"

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

struct slot {
	uint64_t bits;
	uint32_t count; /* 0: empty */
	uint8_t family;
};

struct tcplimit {
	pthread_mutex_t mu;
	unsigned hard, per_addr;
	unsigned total;		/* under mu */
	atomic_uint total_view; /* a copy for tcplimit_total */
	uint64_t seed;
	size_t mask; /* slots - 1 */
	struct slot *slots;
};

static uint64_t mix(uint64_t x)
{
	/* splitmix64's finalizer */
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static size_t home(const struct tcplimit *t, const struct tcplimit_key *k)
{
	return (size_t)mix(k->bits ^ t->seed ^ ((uint64_t)k->family << 56)) &
	       t->mask;
}

static bool key_of(const struct sockaddr *sa, struct tcplimit_key *k)
{
	memset(k, 0, sizeof(*k));
	if (sa && sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		k->family = AF_INET;
		k->bits = ntohl(in->sin_addr.s_addr);
		return true;
	}
	if (sa && sa->sa_family == AF_INET6) {
		const uint8_t *a =
		    ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
		static const uint8_t mapped[12] = {0, 0, 0, 0, 0,    0,
						   0, 0, 0, 0, 0xff, 0xff};
		if (memcmp(a, mapped, sizeof(mapped)) == 0) {
			/* ::ffff:a.b.c.d is the IPv4 client a.b.c.d */
			k->family = AF_INET;
			k->bits = (uint64_t)a[12] << 24 |
				  (uint64_t)a[13] << 16 | (uint64_t)a[14] << 8 |
				  a[15];
			return true;
		}
		k->family = AF_INET6;
		for (int i = 0; i < 8; i++)
			k->bits = k->bits << 8 | a[i];
		return true;
	}
	return false;
}

/* The slot holding k, or the empty slot where it would go. */
static struct slot *find(struct tcplimit *t, const struct tcplimit_key *k)
{
	size_t i = home(t, k);
	for (;;) {
		struct slot *s = &t->slots[i];
		if (s->count == 0 ||
		    (s->bits == k->bits && s->family == k->family))
			return s;
		i = (i + 1) & t->mask;
	}
}

/* Empty slot i, moving later entries of its probe run back into it. */
static void unfill(struct tcplimit *t, size_t i)
{
	size_t j = i;
	for (;;) {
		t->slots[i].count = 0;
		for (;;) {
			j = (j + 1) & t->mask;
			struct slot *s = &t->slots[j];
			if (s->count == 0)
				return;
			struct tcplimit_key k = {s->bits, s->family};
			size_t h = home(t, &k);
			/* s may stay unless its home lies cyclically in
			 * (i, j]: then it must move to i */
			bool stays =
			    i <= j ? (i < h && h <= j) : (i < h || h <= j);
			if (!stays)
				break;
		}
		t->slots[i] = t->slots[j];
		i = j;
	}
}

int tcplimit_new(unsigned hard, unsigned per_addr, struct tcplimit **out)
{
	struct tcplimit *t;
	size_t n = 16;

	*out = NULL;
	if (hard == 0)
		return -EINVAL;
	while (n < (size_t)hard * 2)
		n *= 2;
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return -ENOMEM;
	t->slots = calloc(n, sizeof(*t->slots));
	if (t->slots == NULL) {
		free(t);
		return -ENOMEM;
	}
	t->mask = n - 1;
	t->hard = hard;
	t->per_addr = per_addr;
	if (getrandom(&t->seed, sizeof(t->seed), GRND_NONBLOCK) !=
	    (ssize_t)sizeof(t->seed)) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		t->seed = mix((uint64_t)ts.tv_nsec ^ (uint64_t)(uintptr_t)t);
	}
	pthread_mutex_init(&t->mu, NULL);
	*out = t;
	return 0;
}

void tcplimit_free(struct tcplimit *t)
{
	if (t == NULL)
		return;
	pthread_mutex_destroy(&t->mu);
	free(t->slots);
	free(t);
}

int tcplimit_take(struct tcplimit *t, const struct sockaddr *peer,
		  struct tcplimit_key *key)
{
	bool ip = key_of(peer, key);
	int r = 0;

	pthread_mutex_lock(&t->mu);
	if (t->total >= t->hard) {
		r = -ENOSPC;
		goto out;
	}
	if (ip) {
		struct slot *s = find(t, key);
		if (t->per_addr && s->count >= t->per_addr) {
			r = -EUSERS;
			goto out;
		}
		if (s->count == 0) {
			s->bits = key->bits;
			s->family = key->family;
		}
		s->count++;
	}
	t->total++;
	atomic_store_explicit(&t->total_view, t->total, memory_order_relaxed);
out:
	pthread_mutex_unlock(&t->mu);
	return r;
}

void tcplimit_put(struct tcplimit *t, const struct tcplimit_key *key)
{
	pthread_mutex_lock(&t->mu);
	if (key->family == AF_INET || key->family == AF_INET6) {
		struct slot *s = find(t, key);
		if (s->count > 1)
			s->count--;
		else if (s->count == 1)
			unfill(t, (size_t)(s - t->slots));
	}
	if (t->total > 0)
		t->total--;
	atomic_store_explicit(&t->total_view, t->total, memory_order_relaxed);
	pthread_mutex_unlock(&t->mu);
}

unsigned tcplimit_total(const struct tcplimit *t)
{
	return atomic_load_explicit(&t->total_view, memory_order_relaxed);
}

unsigned tcplimit_count(struct tcplimit *t, const struct sockaddr *peer)
{
	struct tcplimit_key k;
	unsigned n = 0;

	if (!key_of(peer, &k))
		return 0;
	pthread_mutex_lock(&t->mu);
	n = find(t, &k)->count;
	pthread_mutex_unlock(&t->mu);
	return n;
}

unsigned tcplimit_idle_spread(uint32_t *rng, unsigned idle_ms)
{
	uint32_t x = *rng;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*rng = x;
	return idle_ms + x % (idle_ms / 10 + 1);
}
