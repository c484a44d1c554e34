/*
 * fuzz_packet.c -- libFuzzer target: any bytes through packet_parse, then
 * the error response, the response start and the name in text form; the
 * same bytes as a "response" through the query log formatter.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "server/log.h"
#include "server/packet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[PACKET_MAX_TCP];
	static char text[4 * PACKET_MAX_NAME + 1];
	struct packet_query q;

	enum packet_status st = packet_parse(data, size, &q);
	size_t max = size ? data[0] * 3u : sizeof(out); /* small buffers too */

	size_t n = packet_error(data, size, &q, st, PACKET_RCODE_SERVFAIL, 1232,
				out, max < sizeof(out) ? max : sizeof(out));
	if (st == PACKET_DROP && n != 0)
		__builtin_trap();
	if (q.qname) {
		/* the question is inside the request and well formed */
		if (q.qname < data || q.qname + q.qname_len > data + size ||
		    q.qname_len > PACKET_MAX_NAME)
			__builtin_trap();
		size_t k = packet_name_str(q.qname, text, sizeof(text));
		if (k >= sizeof(text) || strlen(text) != k)
			__builtin_trap();
		k = packet_name_str(q.qname, text, 1 + size % 64);
		if (strlen(text) != k)
			__builtin_trap();
	}
	if (st == PACKET_OK) {
		n = packet_begin(&q, PACKET_FLAG_AA, 0, out, sizeof(out));
		if (n != PACKET_HEADER + q.qname_len + 4)
			__builtin_trap();
		packet_set_counts(out, 0, 0, 0);
		if (packet_put_opt(&q, 1232, 0, out, n, sizeof(out)) != n + 11)
			__builtin_trap();
		if (memcmp(out + PACKET_HEADER, q.qname, q.qname_len) != 0)
			__builtin_trap();
		/* the lowercase copy has the same shape */
		for (size_t i = 0; i < q.qname_len; i++) {
			uint8_t c = q.qname[i];
			if (c >= 'A' && c <= 'Z')
				c += 32;
			if (q.lname[i] != c)
				__builtin_trap();
		}
	}
	/* the log reads rcode and flags from responses it did not write */
	struct log_query lq = {
	    .qname = q.qname ? text : NULL,
	    .qtype = q.qtype,
	    .resp = data,
	    .resp_size = size,
	    .duration = size / 7.0,
	};
	char line[256];
	if (log_query_format(log_default_format, &lq, line, sizeof(line)) >=
	    sizeof(line))
		__builtin_trap();
	return 0;
}
