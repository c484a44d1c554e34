/*
 * fuzz_jparse.c -- libFuzzer target: any bytes as a JSON text.  What
 * jparse accepts, cJSON must read as the same tree ending at the same
 * byte; read whole, it is accepted exactly when only whitespace follows
 * the value.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tests/jsame.h"
#include "zones/jparse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* cJSON looks a few bytes past the end for a byte order mark */
	char *buf = calloc(1, size + 4);
	const char *end = NULL, *cend = NULL;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	cJSON *a = jparse(buf, size, &end);
	if (!end || end < buf || end > buf + size)
		abort();
	if (a) {
		cJSON *b = cJSON_ParseWithLengthOpts(buf, size, &cend, false);
		if (!b || cend != end || !jsame(a, b))
			abort();
		cJSON_Delete(b);
	}
	bool rest_ws = true;
	for (const char *p = end; a && p < buf + size; p++)
		if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
			rest_ws = false;
	cJSON *w = jparse(buf, size, NULL);
	if ((w != NULL) != (a != NULL && rest_ws))
		abort();
	cJSON_Delete(w);
	cJSON_Delete(a);
	free(buf);
	return 0;
}
