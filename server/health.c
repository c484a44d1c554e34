/*
 * health.c -- the health directive: its setup, /health, and the self
 * check CoreDNS's health plugin runs for its metrics.
 */
#include "server/health.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server/config.h"
#include "server/http.h"
#include "server/metrics.h"
#include "server/setup.h"

#define PROBE_EVERY_S 1
#define PROBE_TIMEOUT_S 3

int health_setup(struct setup *c, const struct corefile_dir *d)
{
	struct config_block *b = c->block;
	char msg[256];
	int rc;

	if (b->health)
		return setup_dup_err(c, d, "health");
	if (!(b->health = calloc(1, sizeof(*b->health))))
		return setup_nomem(c);
	if (d->nargs > 1)
		return setup_arg_err(c, d, "health");
	rc = setup_listen_addr(c, d, "health", HEALTH_DEFAULT_ADDR,
			       &b->health->addr);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < d->nsub; i++) {
		const struct corefile_dir *s = &d->sub[i];
		if (strcmp(s->name, "lameduck") != 0 || s->nargs != 1 ||
		    s->nsub)
			return setup_arg_err(c, s, "health");
		if (setup_duration(s->args[0], &b->health->lameduck_ms, msg,
				   sizeof(msg)) < 0)
			return setup_err(c, s, "health",
					 "unable to parse lameduck duration "
					 "value: '%s' : %s",
					 s->args[0], msg);
	}
	return 0;
}

void health_conf_free(struct health_conf *h)
{
	if (!h)
		return;
	free(h->addr);
	free(h);
}

void health_handle(struct evhttp_request *req, void *arg)
{
	struct evbuffer *out = evbuffer_new();

	(void)arg;
	if (!out || evbuffer_add(out, "OK", 2) < 0)
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
	else
		http_reply(req, HTTP_OK, "OK", NULL, out);
	if (out)
		evbuffer_free(out);
}

struct health_probe {
	struct event_base *base;
	struct event *timer;
	struct evhttp_connection *conn;
	char host[64];
	unsigned port;
	struct timespec t0;
	bool asking;
};

static double since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) +
	       (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static void probe_done(struct evhttp_request *req, void *arg)
{
	struct health_probe *p = arg;

	p->asking = false;
	if (req && evhttp_request_get_response_code(req) == HTTP_OK)
		metrics_health_observe(since(&p->t0));
	else
		metrics_health_failed();
}

static void probe_tick(evutil_socket_t fd, short what, void *arg)
{
	struct health_probe *p = arg;
	struct evhttp_request *req;

	(void)fd;
	(void)what;
	if (p->asking)
		return; /* the last one has not timed out yet */
	if (!p->conn) {
		p->conn = evhttp_connection_base_new(p->base, NULL, p->host,
						     (unsigned short)p->port);
		if (!p->conn) {
			metrics_health_failed();
			return;
		}
		evhttp_connection_set_timeout(p->conn, PROBE_TIMEOUT_S);
		evhttp_connection_set_retries(p->conn, 0);
	}
	if (!(req = evhttp_request_new(probe_done, p))) {
		metrics_health_failed();
		return;
	}
	evhttp_add_header(evhttp_request_get_output_headers(req), "Host",
			  p->host);
	clock_gettime(CLOCK_MONOTONIC, &p->t0);
	p->asking = true;
	if (evhttp_make_request(p->conn, req, EVHTTP_REQ_GET, "/health") < 0) {
		/* libevent freed req */
		p->asking = false;
		metrics_health_failed();
	}
}

struct health_probe *health_probe_start(struct event_base *base,
					const char *addr, unsigned port)
{
	struct health_probe *p = calloc(1, sizeof(*p));
	struct timeval tv = {PROBE_EVERY_S, 0};
	const char *colon = strrchr(addr, ':');
	size_t hl = colon ? (size_t)(colon - addr) : 0;

	if (!p)
		return NULL;
	p->base = base;
	p->port = port;
	if (hl >= 2 && addr[0] == '[')
		snprintf(p->host, sizeof(p->host), "%.*s", (int)(hl - 2),
			 addr + 1);
	else if (hl == 0 || (hl == 9 && !strncmp(addr, "localhost", 9)))
		snprintf(p->host, sizeof(p->host), "127.0.0.1");
	else
		snprintf(p->host, sizeof(p->host), "%.*s", (int)hl, addr);
	if (!strcmp(p->host, "0.0.0.0"))
		snprintf(p->host, sizeof(p->host), "127.0.0.1");
	else if (!strcmp(p->host, "::"))
		snprintf(p->host, sizeof(p->host), "::1");
	p->timer = event_new(base, -1, EV_PERSIST, probe_tick, p);
	if (!p->timer || event_add(p->timer, &tv) < 0) {
		health_probe_free(p);
		return NULL;
	}
	return p;
}

void health_probe_free(struct health_probe *p)
{
	if (!p)
		return;
	if (p->timer)
		event_free(p->timer);
	if (p->conn)
		evhttp_connection_free(p->conn); /* cancels what is asked */
	free(p);
}
