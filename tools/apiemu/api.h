/*
 * api.h -- the read side of the Kubernetes API: discovery, /version,
 * /healthz, GET of one object, LIST with selectors and limit/continue
 * pagination over a consistent snapshot, and the hand-over to watches.
 */
#ifndef APIEMU_API_H
#define APIEMU_API_H

#include <event2/http.h>

#include "tools/apiemu/server.h"

/* Handle one authenticated API request for path. */
void emu_api_handle(struct emu_server *srv, struct evhttp_request *req,
		    const char *path);

#endif
