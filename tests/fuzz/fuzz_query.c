/*
 * fuzz_query.c -- libFuzzer target: any bytes as a query through the
 * workers' handler (query_handle), over UDP and over TCP, against the
 * fixture cluster (tests/fixtures/cluster) served by the blocks of a
 * Corefile: cluster.local with `pods verified`, cluster.test with a cache,
 * loadbalance, `pods insecure`, endpoint_pod_names and fallthrough (no
 * forward), topology.test on the topology fixture with `zonal` and
 * `topology strict` (the queries come from 127.0.0.12, a client pod of
 * that fixture in zone us-east-1b), and a root block without kubernetes.  Every
 * answer must parse with ldns, fit its transport, carry the query's ID and echo
 * a question that reads well byte for byte, type and class included.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <event2/event.h>
#include <ldns/ldns.h>
#include <urcu.h>

#include "server/config.h"
#include "server/gen.h"
#include "server/packet.h"
#include "server/query.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CLUSTER TEST_SRCDIR "/fixtures/cluster"
#define TOPOLOGY TEST_SRCDIR "/fixtures/topology"

static const char corefile[] =
    "cluster.local in-addr.arpa ip6.arpa {\n"
    "    bind 127.0.0.1\n"
    "    kubernetes cluster.local in-addr.arpa ip6.arpa {\n"
    "        objects " CLUSTER "\n"
    "        pods verified\n"
    "        ttl 30\n"
    "    }\n"
    "}\n"
    "cluster.test {\n"
    "    bind 127.0.0.1\n"
    "    cache 30\n"
    "    loadbalance\n"
    "    kubernetes cluster.test {\n"
    "        objects " CLUSTER "\n"
    "        pods insecure\n"
    "        endpoint_pod_names\n"
    "        ignore empty_service\n"
    "        fallthrough\n"
    "    }\n"
    "}\n"
    "topology.test {\n"
    "    bind 127.0.0.1\n"
    "    kubernetes topology.test {\n"
    "        objects " TOPOLOGY "\n"
    "        zonal\n"
    "        topology strict\n"
    "    }\n"
    "}\n"
    ".:53 {\n"
    "    bind 127.0.0.1\n"
    "    loadbalance\n"
    "}\n";

static struct event_base *base;
static struct gen *gen;

static void die(const char *what, const char *err)
{
	fprintf(stderr, "fuzz_query: %s: %s\n", what, err);
	abort();
}

static void cleanup(void)
{
	gen_free(gen);
	event_base_free(base);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct gen_env env = {0};
	struct config *cfg;
	char err[512];

	(void)argc;
	(void)argv;
	rcu_register_thread();
	if (config_load_text("Corefile", corefile, 53, &cfg, err, sizeof(err)) <
	    0)
		die("Corefile", err);
	base = event_base_new();
	if (!base)
		die("event_base_new", "failed");
	env.base = base;
	gen = gen_build(&env, cfg, NULL, err, sizeof(err));
	if (!gen || gen->nls != 1)
		die("gen_build", gen ? "not one listener" : err);
	atexit(cleanup);
	return 0;
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* The length of the question of req (one, uncompressed, complete) with
 * type and class, or 0 when it has none that reads well. */
static size_t question_len(const uint8_t *req, size_t len)
{
	size_t off = PACKET_HEADER;

	if (len < PACKET_HEADER || rd16(req + 4) != 1)
		return 0;
	while (off < len && req[off] != 0) {
		if (req[off] & 0xc0)
			return 0;
		off += (size_t)req[off] + 1;
	}
	if (off >= len || off + 1 - PACKET_HEADER > PACKET_MAX_NAME)
		return 0;
	off++;
	return len - off >= 4 ? off + 4 - PACKET_HEADER : 0;
}

static void check(const uint8_t *req, size_t len, const uint8_t *resp, size_t n,
		  bool tcp)
{
	ldns_pkt *p = NULL;
	bool query = len >= PACKET_HEADER && !(req[2] & 0x80);

	if (n == 0) {
		/* only runts and responses go unanswered */
		if (query)
			die("check", "a query without an answer");
		return;
	}
	if (n == WORKER_PENDING)
		die("check", "deferred without a forwarder");
	if (n < PACKET_HEADER || n > PACKET_MAX_TCP || !query)
		die("check", "answer length, or an answer to a non-query");
	/* UDP: 512 without EDNS, else at most our 1232 */
	if (!tcp && n > (rd16(req + 10) ? 1232u : 512u))
		die("check", "UDP answer too big");
	if (ldns_wire2pkt(&p, resp, n) != LDNS_STATUS_OK)
		die("check", "answer does not parse");
	ldns_pkt_free(p);
	if (memcmp(resp, req, 2) != 0 || !(resp[2] & 0x80))
		die("check", "ID or QR");
	size_t ql = question_len(req, len);
	if (ql && (rd16(resp + 4) != 1 ||
		   memcmp(resp + PACKET_HEADER, req + PACKET_HEADER, ql) != 0))
		die("check", "question not echoed");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t resp[PACKET_MAX_TCP];
	struct sockaddr_storage peer = {0};
	struct query_listener *ql = &gen->ls[0].ql;
	size_t n;

	if (size > PACKET_MAX_TCP)
		return 0;
	peer.ss_family = AF_INET;
	((struct sockaddr_in *)&peer)->sin_addr.s_addr = htonl(0x7f00000c);
	for (int tcp = 0; tcp < 2; tcp++) {
		rcu_read_lock();
		n = query_handle(ql, data, size, resp, PACKET_MAX_TCP, tcp,
				 (const struct sockaddr *)&peer, sizeof(peer),
				 NULL);
		rcu_read_unlock();
		check(data, size, resp, n, tcp);
	}
	return 0;
}
