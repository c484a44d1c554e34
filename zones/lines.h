/*
 * lines.h -- split a byte stream into lines, whatever its chunking: the
 * watch stream of the Kubernetes API is newline-delimited JSON sent in HTTP
 * chunks whose boundaries are not event boundaries.
 */
#ifndef CLUSTERDNS_LINES_H
#define CLUSTERDNS_LINES_H

#include <stddef.h>

struct lines {
	char *buf; /* the partial line kept between feeds */
	size_t len, cap;
	size_t max; /* longest line accepted */
};

/* An empty splitter that accepts lines up to max bytes. */
void lines_init(struct lines *l, size_t max);

/* Forget any partial line and free the buffer. */
void lines_reset(struct lines *l);

/*
 * Feed n bytes; cb(line, len, arg) runs for each complete line (without its
 * newline and a trailing '\r', not NUL-terminated; empty lines skipped).
 * The line is valid during the callback only.
 * A non-zero return from cb stops and is returned.  Returns 0, -E2BIG when
 * a line grows over max (the splitter is then reset), or -ENOMEM.
 */
int lines_feed(struct lines *l, const char *data, size_t n,
	       int (*cb)(const char *line, size_t len, void *arg), void *arg);

#endif
