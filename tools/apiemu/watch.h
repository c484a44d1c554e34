/*
 * watch.h -- watch streams: chunked newline-delimited events read from the
 * store's history, with selectors, bookmarks, timeouts and faults.
 */
#ifndef APIEMU_WATCH_H
#define APIEMU_WATCH_H

#include <event2/http.h>

#include "tools/apiemu/select.h"
#include "tools/apiemu/server.h"

/* Start a watch of resource res (ns: namespace or NULL) on req with the
 * request's query parameters (already checked by the caller: sels are
 * handed over and owned by the watch from then on).  rv_text is the
 * resourceVersion parameter or NULL.  Answers req itself, also on error. */
void emu_watch_start(struct emu_server *srv, struct evhttp_request *req,
		     int res, const char *ns, struct emu_sel *labels,
		     struct emu_sel *fields, const char *rv_text,
		     long timeout_seconds, bool bookmarks);

/* Deliver pending history to every watch (called after store changes). */
void emu_watch_pump_all(struct emu_server *srv);

/* Faults: close every watch abruptly in the middle of a chunk. */
void emu_watch_drop_all(struct emu_server *srv);

/* Faults: send every watch an ERROR 410 event and end it. */
void emu_watch_expire_all(struct emu_server *srv);

/* Faults: write a line that is not JSON into every watch. */
void emu_watch_garbage_all(struct emu_server *srv);

/* End every watch cleanly (shutdown). */
void emu_watch_end_all(struct emu_server *srv);

#endif
