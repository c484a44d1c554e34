/*
 * jscan.h -- what the JSON readers (podscan.c, jparse.c) share: the scan
 * for the end of a string's plain bytes, its escapes, and hex digits.
 */
#ifndef CLUSTERDNS_JSCAN_H
#define CLUSTERDNS_JSCAN_H

#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* The value of a hex digit, or -1. */
static inline int jscan_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The length of the escape at q (a backslash; end - q bytes there): 2,
 * or 6 for \uXXXX; 0 when it is no JSON escape, -1 when end cuts it
 * before that is known. */
static inline int jscan_escape(const char *q, const char *end)
{
	if (end - q < 2)
		return -1;
	switch (q[1]) {
	case '"':
	case '\\':
	case '/':
	case 'b':
	case 'f':
	case 'n':
	case 'r':
	case 't':
		return 2;
	case 'u':
		for (int i = 2; i < 6; i++) {
			if (q + i == end)
				return -1;
			if (jscan_hex(q[i]) < 0)
				return 0;
		}
		return 6;
	default:
		return 0;
	}
}

/* The first byte at or after q, before end, that a string cannot pass
 * over without a look: a quote, a backslash or a control character; end
 * when there is none.  Most of a Kubernetes object is strings, so 16 bytes
 * at a time where SSE2 is there. */
static inline __attribute__((always_inline)) const char *
jscan_str_stop(const char *q, const char *end)
{
#ifdef __SSE2__
	const __m128i quote = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\');
	const __m128i ctl = _mm_set1_epi8(0x1f);

	while (end - q >= 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)q);
		__m128i m = _mm_or_si128(_mm_cmpeq_epi8(v, quote),
					 _mm_cmpeq_epi8(v, bs));
		/* v <= 0x1f, unsigned */
		m = _mm_or_si128(m, _mm_cmpeq_epi8(_mm_min_epu8(v, ctl), v));
		unsigned mask = (unsigned)_mm_movemask_epi8(m);
		if (mask)
			return q + __builtin_ctz(mask);
		q += 16;
	}
#endif
	while (q < end) {
		unsigned char c = (unsigned char)*q;
		if (c == '"' || c == '\\' || c < 0x20)
			return q;
		q++;
	}
	return end;
}

#endif
