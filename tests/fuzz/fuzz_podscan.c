/*
 * fuzz_podscan.c -- libFuzzer target: any bytes as a PodList page from the
 * API server; the scanner must never crash, read out of bounds or leak, and
 * what it gives must be well formed.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "zones/podscan.h"

static void check(void *arg, const struct podscan_pod *p)
{
	(void)arg;
	if (!p->name[0] || !p->ns[0] || p->nips > PODSCAN_MAX_IPS ||
	    strlen(p->name) >= sizeof(p->name))
		abort();
}

static void count(void *arg, const struct podscan_pod *p)
{
	check(NULL, p);
	++*(size_t *)arg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct podscan_list l, l2;
	size_t whole = 0, fed = 0;
	int rc = podscan_page((const char *)data, size, count, &whole, &l);

	if (rc == 0) {
		if (!l.rv[0])
			abort();
	} else if (l.cont) {
		abort();
	}
	struct podscan *ps = podscan_new(count, &fed);
	if (!ps)
		abort();
	size_t cut = size ? data[0] % size : 0;
	int frc = podscan_feed(ps, (const char *)data, cut);
	if (frc == 0)
		frc = podscan_feed(ps, (const char *)data + cut, size - cut);
	int erc = podscan_end(ps, &l2);
	podscan_free(ps);
	/* in pieces, a page fails where it fails whole */
	if ((rc == 0) != (erc == 0) || (frc != 0 && erc == 0))
		abort();
	if (rc == 0 &&
	    (whole != fed || l.npods != l2.npods || l.nskip != l2.nskip ||
	     strcmp(l.rv, l2.rv) || (!l.cont) != (!l2.cont) ||
	     (l.cont && strcmp(l.cont, l2.cont))))
		abort();
	free(l.cont);
	free(l2.cont);
	return 0;
}
