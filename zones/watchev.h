/*
 * watchev.h -- one event of a Kubernetes watch stream, decoded:
 * {"type":"ADDED|MODIFIED|DELETED|BOOKMARK|ERROR","object":{...}}.
 */
#ifndef CLUSTERDNS_WATCHEV_H
#define CLUSTERDNS_WATCHEV_H

#include <stddef.h>

#include "zones/decode.h"

enum watchev_type {
	WATCHEV_ADDED,
	WATCHEV_MODIFIED,
	WATCHEV_DELETED,
	WATCHEV_BOOKMARK,
	WATCHEV_ERROR,
};

struct watchev {
	enum watchev_type type;
	char rv[64]; /* the object's metadata.resourceVersion, "" if none */
	/* ADDED, MODIFIED: the object (the caller owns it; DECODE_OTHER
	 * when its kind is not used) */
	struct decode_obj obj;
	/* DELETED: the object's namespace ("" when cluster-scoped), name */
	char ns[256];
	char name[256];
	/* ERROR: the Status object's code and message */
	int code;
	char message[256];
};

/*
 * Decode one line of a watch stream.  kind is the kind of the watched
 * resource ("Service"), used when the object carries none.  Returns 0 with
 * ev filled; -EINVAL when the line is no event (not JSON, no type, no
 * object, an unknown type): the stream cannot be trusted any more;
 * -EBADMSG when the event is fine but its object does not decode (err says
 * why; ev->rv is still set, so the stream can go on past it).
 */
int watchev_parse(const char *line, size_t len, const char *kind,
		  struct watchev *ev, char *err, size_t errlen);

#endif
