/*
 * http.h -- the HTTP listeners of the `health`, `ready` and `prometheus`
 * directives, on the control thread's event loop with libevent's evhttp.
 *
 * A configuration is a set of routes (address, path, handler).  Several
 * directives may put their paths on one address (health /health and
 * prometheus /metrics on :8080); each address is one listening socket.
 * Addresses are written as CoreDNS writes them: ":8080" (every address,
 * IPv6 and IPv4), "127.0.0.1:9153", "[::1]:8181", "localhost:9153"
 * (127.0.0.1).  A reload declares the routes again: an address that stays
 * keeps its socket (no connection refused in between), new ones are bound,
 * those no route names any more are closed.
 *
 * Use:
 *   h = http_new(base);
 *   per configuration: http_begin(h); http_route(...)...; http_commit(h);
 *   http_free(h) at exit.
 */
#ifndef CLUSTERDNS_HTTP_H
#define CLUSTERDNS_HTTP_H

#include <stddef.h>

struct event_base;
struct evbuffer;
struct evhttp_request;
struct http;

/* Answer one request (reply with evhttp_send_reply on req); arg is the
 * route's.  Runs on the control thread. */
typedef void (*http_handler)(struct evhttp_request *req, void *arg);

/* A set of listeners on base (no address yet).  Returns NULL when memory
 * is short. */
struct http *http_new(struct event_base *base);

/* Close every listener and free h. */
void http_free(struct http *h);

/* Start declaring a configuration: until http_commit, the routes served
 * stay the previous ones. */
void http_begin(struct http *h);

/* Serve path (exact match, "/metrics") on addr with fn(req, arg).  Returns
 * 0, -EINVAL with err set for an address that does not parse or a path
 * declared twice on one address, or -ENOMEM. */
int http_route(struct http *h, const char *addr, const char *path,
	       http_handler fn, void *arg, char *err, size_t errlen);

/*
 * Serve the routes declared since http_begin: bind the addresses that are
 * new, keep the sockets of those that stay, close the others.  When an
 * address cannot be bound, nothing changes (the previous routes keep
 * being served) and err says which: "listen tcp :8080: bind: Address
 * already in use".  Returns 0 or a negative errno.
 */
int http_commit(struct http *h, char *err, size_t errlen);

/* Reply to req with status code (reason: its phrase) and body, as
 * "text/plain; charset=utf-8" unless ctype says otherwise (NULL: that).
 * body may be NULL (an empty body). */
void http_reply(struct evhttp_request *req, int code, const char *reason,
		const char *ctype, struct evbuffer *body);

/* The port addr is bound to (for ":0" in tests), or 0 when it is not
 * served. */
unsigned http_port(const struct http *h, const char *addr);

#endif
