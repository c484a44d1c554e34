/*
 * control.h -- the /_control/ interface for tests and benchmarks: create,
 * update and delete objects, compact, inject faults, rotate the token, and
 * report the state.  No authentication; JSON bodies.
 */
#ifndef APIEMU_CONTROL_H
#define APIEMU_CONTROL_H

#include <event2/http.h>

#include "tools/apiemu/server.h"

/* Handle one request whose path starts with /_control/. */
void emu_control_handle(struct emu_server *srv, struct evhttp_request *req,
			const char *path);

#endif
