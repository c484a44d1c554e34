/*
 * prometheus.c -- the prometheus directive: its setup and /metrics.
 */
#include "server/prometheus.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <stdlib.h>

#include "server/config.h"
#include "server/http.h"
#include "server/metrics.h"
#include "server/setup.h"

int prometheus_setup(struct setup *c, const struct corefile_dir *d)
{
	struct config_block *b = c->block;

	if (b->prometheus)
		return setup_dup_err(c, d, "prometheus");
	if (!(b->prometheus = calloc(1, sizeof(*b->prometheus))))
		return setup_nomem(c);
	if (d->nargs > 1 || d->nsub)
		return setup_arg_err(c, d, "prometheus");
	return setup_listen_addr(c, d, "prometheus", PROMETHEUS_DEFAULT_ADDR,
				 &b->prometheus->addr);
}

void prometheus_conf_free(struct prometheus_conf *p)
{
	if (!p)
		return;
	free(p->addr);
	free(p);
}

void prometheus_handle(struct evhttp_request *req, void *arg)
{
	struct evbuffer *out = evbuffer_new();

	(void)arg;
	if (!out || metrics_render(out) < 0) {
		if (out)
			evbuffer_free(out);
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	http_reply(req, HTTP_OK, "OK",
		   "text/plain; version=0.0.4; charset=utf-8", out);
	evbuffer_free(out);
}
