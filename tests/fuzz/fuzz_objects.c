/*
 * fuzz_objects.c -- libFuzzer target: any bytes as a manifest of the
 * `objects` source (filesrc_load_buf: JSON or YAML, then the slices derived
 * from Pods), and a store that loads into a kube (kube_apply_store: the
 * records built and the zone committed), whose records are walked.
 *
 * Input: one byte for the name the manifest has (bits 0-1: in.json,
 * in.yaml, in.yml, in with the format told by its content), then the
 * manifest.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <urcu.h>

#include "zones/dname.h"
#include "zones/filesrc.h"
#include "zones/kube.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One kube for every input: freeing one waits for an RCU grace period,
 * and kube_apply_store replaces what it had in full. */
static struct kube *kube;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char *const zones[] = {"cluster.local", "in-addr.arpa",
					    "ip6.arpa", "clusterset.local"};
	static const char *const mc[] = {"clusterset.local"};
	struct kube_conf c = {
	    .zones = zones,
	    .nzones = 4,
	    .multicluster = mc,
	    .nmulticluster = 1,
	    .pods = BUILDER_PODS_VERIFIED,
	    .ttl = 30,
	};
	char err[256];

	(void)argc;
	(void)argv;
	rcu_register_thread();
	kube = kube_new(&c, err, sizeof(err));
	if (!kube)
		abort();
	return 0;
}

static int check_rr(const uint8_t *owner, uint16_t type, uint32_t ttl,
		    const uint8_t *rdata, uint16_t rdlen, void *arg)
{
	(void)ttl;
	(void)arg;
	if (dname_len(owner) == 0 || dname_len(owner) > DNAME_MAX ||
	    (type == 1 && rdlen != 4) || (type == 28 && rdlen != 16) ||
	    (rdlen && !rdata))
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = {"in.json", "in.yaml", "in.yml",
					    "in"};
	struct store *st;
	char err[512];

	if (size < 1)
		return 0;
	int rc = filesrc_load_buf(names[data[0] & 3], (const char *)data + 1,
				  size - 1, &st, err, sizeof(err));
	if (rc < 0) {
		if (st || !err[0])
			abort(); /* a failure says why and gives nothing */
		return 0;
	}
	if (!st || kube_apply_store(kube, st) < 0)
		abort();
	kube_each_rr(kube, check_rr, NULL);
	return 0;
}
