/*
 * watchev.c -- decoding watch events.
 */
#include "zones/watchev.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "zones/jparse.h"

static const char *str(const cJSON *o, const char *key)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
}

static void copy(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src ? src : "");
}

int watchev_parse(const char *line, size_t len, const char *kind,
		  struct watchev *ev, char *err, size_t errlen)
{
	static const char *const types[] = {"ADDED", "MODIFIED", "DELETED",
					    "BOOKMARK", "ERROR"};
	cJSON *doc = jparse(line, len, NULL);
	int rc = -EINVAL;

	memset(ev, 0, sizeof(*ev));
	if (!doc) {
		snprintf(err, errlen, "a line that is not JSON (%zu bytes)",
			 len);
		return -EINVAL;
	}
	const char *type = str(doc, "type");
	const cJSON *obj = cJSON_GetObjectItemCaseSensitive(doc, "object");
	if (!type || !cJSON_IsObject(obj)) {
		snprintf(err, errlen, "an event without type or object");
		goto out;
	}
	size_t t = 0;
	while (t < sizeof(types) / sizeof(types[0]) && strcmp(types[t], type))
		t++;
	if (t == sizeof(types) / sizeof(types[0])) {
		snprintf(err, errlen, "an event of unknown type '%.32s'", type);
		goto out;
	}
	ev->type = (enum watchev_type)t;
	const cJSON *meta = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
	copy(ev->rv, sizeof(ev->rv), str(meta, "resourceVersion"));
	rc = 0;
	switch (ev->type) {
	case WATCHEV_ADDED:
	case WATCHEV_MODIFIED: {
		struct decode_err derr;
		if (decode_object(obj, kind, &ev->obj, &derr) < 0) {
			snprintf(err, errlen, "%s", derr.msg);
			rc = -EBADMSG;
		}
		break;
	}
	case WATCHEV_DELETED:
		copy(ev->ns, sizeof(ev->ns), str(meta, "namespace"));
		copy(ev->name, sizeof(ev->name), str(meta, "name"));
		if (!ev->name[0]) {
			snprintf(err, errlen, "a deletion without a name");
			rc = -EBADMSG;
		}
		break;
	case WATCHEV_ERROR: {
		const cJSON *code =
		    cJSON_GetObjectItemCaseSensitive(obj, "code");
		ev->code = cJSON_IsNumber(code) ? code->valueint : 0;
		copy(ev->message, sizeof(ev->message), str(obj, "message"));
		break;
	}
	case WATCHEV_BOOKMARK:
		break;
	}
out:
	cJSON_Delete(doc);
	return rc;
}
