/*
 * ready.c -- the ready directive: its setup and /ready.
 */
#include "server/ready.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <stdlib.h>
#include <string.h>

#include "server/config.h"
#include "server/http.h"
#include "server/setup.h"

int ready_setup(struct setup *c, const struct corefile_dir *d)
{
	struct config_block *b = c->block;

	if (b->ready)
		return setup_dup_err(c, d, "ready");
	if (!(b->ready = calloc(1, sizeof(*b->ready))))
		return setup_nomem(c);
	if (d->nargs > 1 || d->nsub)
		return setup_arg_err(c, d, "ready");
	return setup_listen_addr(c, d, "ready", READY_DEFAULT_ADDR,
				 &b->ready->addr);
}

void ready_conf_free(struct ready_conf *r)
{
	if (!r)
		return;
	free(r->addr);
	free(r);
}

void ready_handle(struct evhttp_request *req, void *arg)
{
	const struct ready *r = arg;
	struct evbuffer *out = evbuffer_new();

	if (!out) {
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	if (r->check(r->arg, out)) {
		evbuffer_drain(out, evbuffer_get_length(out));
		evbuffer_add(out, "OK", 2);
		http_reply(req, HTTP_OK, "OK", NULL, out);
	} else {
		http_reply(req, 503, "Service Unavailable", NULL, out);
	}
	evbuffer_free(out);
}
