/*
 * server.h -- the emulator's shared state and its HTTP front: listener, TLS,
 * authentication, fault gates and routing to the API, watch and control
 * handlers.
 *
 * Everything runs on one libevent loop; nothing here is thread-safe.
 */
#ifndef APIEMU_SERVER_H
#define APIEMU_SERVER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>

#include <event2/event.h>
#include <event2/http.h>
#include <openssl/ssl.h>

#include "tools/apiemu/store.h"

struct emu_watch;
struct emu_parked;
struct emu_churn;

struct emu_options {
	const char *listen;
	const char *tls_cert;
	const char *tls_key;
	const char *client_ca;
	const char *token;
	unsigned bookmark_interval;
	size_t history;
	size_t gzip_min; /* JSON replies this long or longer are gzipped for
			  * clients that accept it; 0: never */
};

struct emu_server {
	struct event_base *base;
	struct evhttp *http;
	SSL_CTX *ssl;
	struct emu_store store;
	char *token;	/* accepted bearer token, NULL: none configured */
	bool client_ca; /* client certificates are verified */
	unsigned bookmark_interval;
	unsigned long long requests; /* API requests answered */

	/* faults */
	int fault_code; /* 401, 429 or 500 for the next fault_count */
	unsigned fault_count;
	unsigned retry_after;
	bool stalled;
	struct event *stall_ev;
	TAILQ_HEAD(, emu_parked) parked; /* requests held during a stall */

	TAILQ_HEAD(, emu_watch) watches;
	unsigned nwatches;
	struct event *pump_ev;
	struct emu_churn *churn; /* /_control/churn, NULL: never started */
	char url[300];		 /* scheme://host:port served */
};

/* Set up the store, the listener (srv->url), TLS and handlers on base.
 * Returns 0, or -1 after printing why; emu_server_free cleans up either
 * way. */
int emu_server_init(struct emu_server *srv, struct event_base *base,
		    const struct emu_options *opt);

/* End every watch and request and free what the server holds. */
void emu_server_free(struct emu_server *srv);

/* Answer req with a Status object (code, reason, message); with
 * retry_after > 0 also a Retry-After header and details. */
void emu_reply_status(struct evhttp_request *req, int code, const char *reason,
		      const char *message, unsigned retry_after);

/* Answer req with a JSON body taken from buf (emptied). */
void emu_reply_json(struct evhttp_request *req, int code, struct evbuffer *buf);

/* Append s as a JSON string (quoted, escaped). */
void emu_json_string(struct evbuffer *out, const char *s);

/* Ends a stall now: parked requests are answered, watches resume. */
void emu_server_unstall(struct emu_server *srv);

/* Start a stall of the given length. */
void emu_server_stall(struct emu_server *srv, unsigned seconds);

#endif
