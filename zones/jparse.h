/*
 * jparse.h -- a JSON text read into a cJSON tree, the tree the decoders
 * read.
 *
 * It builds what cJSON_ParseWithLengthOpts builds (the same nodes, from
 * cJSON_malloc, so jarena.h and cJSON_Delete work on them), about twice
 * as fast, and by RFC 8259 where cJSON is lax: whitespace is space, tab,
 * CR and LF only; a number is -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
 * of at most 63 characters; a string has no control character and no
 * \u0000 (a C string would end there), and its surrogates pair.  What it
 * accepts cJSON reads as the same tree.  Containers nest 1000 deep at
 * most, as in cJSON.
 */
#ifndef CLUSTERDNS_JPARSE_H
#define CLUSTERDNS_JPARSE_H

#include <stddef.h>

#include <cjson/cJSON.h>

#define JPARSE_MAX_DEPTH 1000

/* The JSON value at the start of buf (len bytes; whitespace before it is
 * passed over, a byte order mark is not: decode.c takes it off a file).  With
 * end, *end is set to the byte after the value, and what follows is the
 * caller's; without, only whitespace may follow.  NULL on a syntax error (*end
 * then points at it) or when out of memory. */
cJSON *jparse(const char *buf, size_t len, const char **end);

#endif
