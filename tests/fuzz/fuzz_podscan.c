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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct podscan_list l;

	if (podscan_page((const char *)data, size, check, NULL, &l) == 0) {
		if (!l.rv[0])
			abort();
		free(l.cont);
	} else if (l.cont) {
		abort();
	}
	return 0;
}
