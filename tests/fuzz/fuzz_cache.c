/*
 * fuzz_cache.c -- libFuzzer target: any bytes as the upstream's response
 * to the question they carry, through cache_insert, then answered from the
 * cache at sizes from tiny to TCP and after expiry (serve_stale on).  An
 * answer must fit its buffer and start with the client's ID and question.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <urcu.h>

#include "server/cache.h"
#include "server/packet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The query whose question is the response's: header cleared, question
 * kept, EDNS with DO when the first byte says so.  0 when there is none. */
static size_t to_query(const uint8_t *data, size_t size, uint8_t *q)
{
	if (size < PACKET_HEADER + 5)
		return 0;
	size_t end = packet_skip_name(data, size, PACKET_HEADER);
	if (!end || end + 4 > size)
		return 0;
	size_t n = end + 4;
	memcpy(q, data, n);
	memset(q + 2, 0, 10);
	q[5] = 1; /* QDCOUNT */
	if (data[0] & 1) {
		static const uint8_t opt[] = {0, 0,    41, 4, 0, 0,
					      0, 0x80, 0,  0, 0};
		memcpy(q + n, opt, sizeof(opt));
		q[11] = 1;
		n += sizeof(opt);
	}
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct cache *c;
	static uint8_t query[PACKET_MAX_NAME + 64];
	static uint8_t resp[PACKET_MAX_TCP], out[PACKET_MAX_TCP];
	struct packet_query q;
	unsigned fl;

	if (!c) {
		struct cache_conf cf = {
		    .success_cap = 1024,
		    .denial_cap = 1024,
		    .success_max_ttl = 3600,
		    .success_min_ttl = 5,
		    .denial_max_ttl = 1800,
		    .denial_min_ttl = 5,
		    .servfail_ttl = 5,
		    .prefetch = 1,
		    .prefetch_window_ms = 60000,
		    .prefetch_pct = 10,
		    .stale_ms = 3600000,
		};
		rcu_register_thread();
		c = cache_new(&cf);
	}
	if (size > sizeof(resp))
		return 0;
	size_t qn = to_query(data, size, query);
	if (!qn || packet_parse(query, qn, &q) != PACKET_OK)
		return 0;
	memcpy(resp, data, size);
	int kind = cache_insert(c, &q, resp, size, 1000);
	if (kind < 0 || kind > CACHE_DENIAL)
		__builtin_trap();
	static const size_t limits[] = {12, 64, 300, 512, 1232, PACKET_MAX_TCP};
	for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
		for (uint64_t now = 1000; now < 10000000; now *= 50) {
			size_t n = cache_answer(c, &q, 1232, out, limits[i],
						now, 0, &fl);
			if (n > limits[i] ||
			    (kind && now == 1000 && limits[i] >= 512 && !n))
				__builtin_trap();
			if (n && (n < PACKET_HEADER + q.qname_len + 4 ||
				  memcmp(out + PACKET_HEADER, q.qname,
					 q.qname_len) != 0 ||
				  out[0] != query[0] || out[1] != query[1]))
				__builtin_trap();
		}
	}
	return 0;
}
