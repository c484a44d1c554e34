/*
 * lines.c -- a line splitter for chunked streams.
 */
#include "zones/lines.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void lines_init(struct lines *l, size_t max)
{
	memset(l, 0, sizeof(*l));
	l->max = max;
}

void lines_reset(struct lines *l)
{
	free(l->buf);
	l->buf = NULL;
	l->len = l->cap = 0;
}

static int keep(struct lines *l, const char *d, size_t n)
{
	if (l->len + n > l->max) {
		lines_reset(l);
		return -E2BIG;
	}
	if (l->len + n + 1 > l->cap) {
		size_t cap = l->cap ? l->cap : 4096;
		while (cap < l->len + n + 1)
			cap *= 2;
		char *b = realloc(l->buf, cap);
		if (!b)
			return -ENOMEM;
		l->buf = b;
		l->cap = cap;
	}
	memcpy(l->buf + l->len, d, n);
	l->len += n;
	return 0;
}

static int emit(const char *line, size_t len,
		int (*cb)(const char *line, size_t len, void *arg), void *arg)
{
	if (len && line[len - 1] == '\r')
		len--;
	return len ? cb(line, len, arg) : 0;
}

int lines_feed(struct lines *l, const char *data, size_t n,
	       int (*cb)(const char *line, size_t len, void *arg), void *arg)
{
	int rc;

	while (n) {
		const char *nl = memchr(data, '\n', n);
		if (!nl)
			return keep(l, data, n);
		size_t part = (size_t)(nl - data);
		if (l->len == 0) {
			/* The common case: the whole line is in this chunk. */
			if (part > l->max)
				return -E2BIG;
			rc = emit(data, part, cb, arg);
		} else {
			if ((rc = keep(l, data, part)) < 0)
				return rc;
			size_t total = l->len;
			l->len = 0;
			rc = emit(l->buf, total, cb, arg);
		}
		if (rc)
			return rc;
		data = nl + 1;
		n -= part + 1;
	}
	return 0;
}
