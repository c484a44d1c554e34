/*
 * server.c -- listener, TLS, authentication, fault gates and routing.
 */
#include "tools/apiemu/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/keyvalq_struct.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <zlib.h>

#include "tools/apiemu/api.h"
#include "tools/apiemu/churn.h"
#include "tools/apiemu/control.h"
#include "tools/apiemu/watch.h"

/* A request held while the server stalls. */
struct emu_parked {
	struct evhttp_request *req;
	TAILQ_ENTRY(emu_parked) link;
};

void emu_json_string(struct evbuffer *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	evbuffer_add(out, "\"", 1);
	for (; *p; p++) {
		if (*p == '"' || *p == '\\') {
			char e[2] = {'\\', (char)*p};

			evbuffer_add(out, e, 2);
		} else if (*p < 0x20) {
			evbuffer_add_printf(out, "\\u%04x", *p);
		} else {
			evbuffer_add(out, p, 1);
		}
	}
	evbuffer_add(out, "\"", 1);
}

/* -gzip (one server per process). */
static size_t gzip_min;

/* The client says it takes gzip. */
static bool accepts_gzip(struct evhttp_request *req)
{
	const char *ae = evhttp_find_header(
	    evhttp_request_get_input_headers(req), "Accept-Encoding");

	return ae && strstr(ae, "gzip");
}

/* buf gzipped in place; false (buf as it was) when zlib fails. */
static bool gzip_buf(struct evbuffer *buf)
{
	size_t n = evbuffer_get_length(buf);
	unsigned char *in = evbuffer_pullup(buf, -1), *out;
	z_stream z;

	memset(&z, 0, sizeof(z));
	if (!in || deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8,
				Z_DEFAULT_STRATEGY) != Z_OK)
		return false;
	uLong cap = deflateBound(&z, (uLong)n);
	if (!(out = malloc(cap))) {
		deflateEnd(&z);
		return false;
	}
	z.next_in = in;
	z.avail_in = (uInt)n;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	int rc = deflate(&z, Z_FINISH);
	size_t len = z.total_out;
	deflateEnd(&z);
	if (rc == Z_STREAM_END) {
		evbuffer_drain(buf, n);
		evbuffer_add(buf, out, len);
	}
	free(out);
	return rc == Z_STREAM_END;
}

void emu_reply_json(struct evhttp_request *req, int code, struct evbuffer *buf)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	const char *reason;

	evhttp_add_header(h, "Content-Type", "application/json");
	evhttp_add_header(h, "Cache-Control", "no-cache, private");
	/* as the API server compresses large replies */
	if (gzip_min && evbuffer_get_length(buf) >= gzip_min &&
	    accepts_gzip(req) && gzip_buf(buf))
		evhttp_add_header(h, "Content-Encoding", "gzip");
	switch (code) {
	case 200:
		reason = "OK";
		break;
	case 201:
		reason = "Created";
		break;
	case 400:
		reason = "Bad Request";
		break;
	case 401:
		reason = "Unauthorized";
		break;
	case 404:
		reason = "Not Found";
		break;
	case 405:
		reason = "Method Not Allowed";
		break;
	case 410:
		reason = "Gone";
		break;
	case 429:
		reason = "Too Many Requests";
		break;
	case 500:
		reason = "Internal Server Error";
		break;
	default:
		reason = "Status";
		break;
	}
	evhttp_send_reply(req, code, reason, buf);
}

void emu_reply_status(struct evhttp_request *req, int code, const char *reason,
		      const char *message, unsigned retry_after)
{
	struct evbuffer *b = evbuffer_new();

	if (!b)
		abort();
	evbuffer_add_printf(b, "{\"kind\":\"Status\",\"apiVersion\":\"v1\","
			       "\"metadata\":{},\"status\":\"Failure\","
			       "\"message\":");
	emu_json_string(b, message);
	evbuffer_add_printf(b, ",\"reason\":\"%s\"", reason);
	if (retry_after) {
		char ra[16];

		evbuffer_add_printf(
		    b, ",\"details\":{\"retryAfterSeconds\":%u}", retry_after);
		snprintf(ra, sizeof(ra), "%u", retry_after);
		evhttp_add_header(evhttp_request_get_output_headers(req),
				  "Retry-After", ra);
	} else if (code == 404) {
		evbuffer_add_printf(b, ",\"details\":{}");
	} else if (code == 500) {
		evbuffer_add_printf(b,
				    ",\"details\":{\"causes\":[{\"message\":");
		emu_json_string(b, message);
		evbuffer_add_printf(b, "}]}");
	}
	evbuffer_add_printf(b, ",\"code\":%d}\n", code);
	emu_reply_json(req, code, b);
	evbuffer_free(b);
}

/* ---- authentication */

static bool peer_cert_ok(struct evhttp_request *req)
{
	struct evhttp_connection *c = evhttp_request_get_connection(req);
	struct bufferevent *bev;
	SSL *ssl;
	X509 *cert;
	bool ok;

	if (!c)
		return false;
	bev = evhttp_connection_get_bufferevent(c);
	ssl = bev ? bufferevent_openssl_get_ssl(bev) : NULL;
	if (!ssl)
		return false;
	cert = SSL_get_peer_certificate(ssl);
	ok = cert && SSL_get_verify_result(ssl) == X509_V_OK;
	X509_free(cert);
	return ok;
}

static bool is_public(const char *path)
{
	return strcmp(path, "/healthz") == 0 || strcmp(path, "/livez") == 0 ||
	       strcmp(path, "/readyz") == 0 || strcmp(path, "/version") == 0;
}

/* Authenticated, as the API server's union of x509 and token
 * authenticators: one valid credential is enough. */
static bool authenticated(struct emu_server *srv, struct evhttp_request *req,
			  const char *path)
{
	const char *auth = evhttp_find_header(
	    evhttp_request_get_input_headers(req), "Authorization");
	bool creds = false;

	if (!srv->token && !srv->client_ca)
		return true;
	if (auth && strncasecmp(auth, "Bearer ", 7) == 0) {
		creds = true;
		if (srv->token && strcmp(auth + 7, srv->token) == 0)
			return true;
	}
	if (srv->client_ca && peer_cert_ok(req))
		return true;
	return !creds && is_public(path);
}

/* ---- dispatch */

static void park_closed(struct evhttp_connection *evcon, void *arg)
{
	struct emu_server *srv = arg;
	struct emu_parked *p, *next;

	for (p = TAILQ_FIRST(&srv->parked); p; p = next) {
		next = TAILQ_NEXT(p, link);
		if (evhttp_request_get_connection(p->req) == evcon ||
		    !evhttp_request_get_connection(p->req)) {
			TAILQ_REMOVE(&srv->parked, p, link);
			if (!evhttp_request_get_connection(p->req))
				evhttp_request_free(p->req);
			free(p);
		}
	}
}

static void dispatch(struct emu_server *srv, struct evhttp_request *req)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *raw = uri ? evhttp_uri_get_path(uri) : NULL;
	char *path;

	if (!raw) {
		emu_reply_status(req, 400, "BadRequest", "bad request URI", 0);
		return;
	}
	path = evhttp_uridecode(raw, 0, NULL);
	if (!path) {
		emu_reply_status(req, 400, "BadRequest", "bad request URI", 0);
		return;
	}
	if (strncmp(path, "/_control/", 10) == 0) {
		emu_control_handle(srv, req, path);
		free(path);
		return;
	}
	if (srv->stalled) {
		struct emu_parked *p = calloc(1, sizeof(*p));

		if (!p)
			abort();
		p->req = req;
		TAILQ_INSERT_TAIL(&srv->parked, p, link);
		evhttp_connection_set_closecb(
		    evhttp_request_get_connection(req), park_closed, srv);
		free(path);
		return;
	}
	srv->requests++;
	if (!authenticated(srv, req, path)) {
		emu_reply_status(req, 401, "Unauthorized", "Unauthorized", 0);
	} else if (srv->fault_count > 0) {
		srv->fault_count--;
		switch (srv->fault_code) {
		case 401:
			emu_reply_status(req, 401, "Unauthorized",
					 "Unauthorized", 0);
			break;
		case 429:
			emu_reply_status(
			    req, 429, "TooManyRequests",
			    "Too many requests, please try again later.",
			    srv->retry_after ? srv->retry_after : 1);
			break;
		default:
			emu_reply_status(req, 500, "InternalError",
					 "Internal error occurred: injected "
					 "fault",
					 0);
			break;
		}
	} else {
		emu_api_handle(srv, req, path);
	}
	free(path);
}

static void on_request(struct evhttp_request *req, void *arg)
{
	/* As the real API server (Go's net/http), answer without Nagle:
	 * otherwise the end of every response waits for a delayed ACK. */
	struct evhttp_connection *c = evhttp_request_get_connection(req);
	struct bufferevent *bev =
	    c ? evhttp_connection_get_bufferevent(c) : NULL;
	int fd = bev ? bufferevent_getfd(bev) : -1;
	int one = 1;

	if (fd >= 0)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	dispatch(arg, req);
}

void emu_server_unstall(struct emu_server *srv)
{
	struct emu_parked *p;

	if (!srv->stalled)
		return;
	srv->stalled = false;
	evtimer_del(srv->stall_ev);
	while ((p = TAILQ_FIRST(&srv->parked)) != NULL) {
		struct evhttp_request *req = p->req;

		TAILQ_REMOVE(&srv->parked, p, link);
		free(p);
		if (!evhttp_request_get_connection(req)) {
			evhttp_request_free(req);
			continue;
		}
		evhttp_connection_set_closecb(
		    evhttp_request_get_connection(req), NULL, NULL);
		dispatch(srv, req);
	}
	emu_watch_pump_all(srv);
}

static void on_stall_end(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	emu_server_unstall(arg);
}

void emu_server_stall(struct emu_server *srv, unsigned seconds)
{
	struct timeval tv = {(time_t)seconds, 0};

	srv->stalled = true;
	evtimer_add(srv->stall_ev, &tv);
}

/* ---- TLS */

static struct bufferevent *on_bev(struct event_base *base, void *arg)
{
	struct emu_server *srv = arg;
	SSL *ssl = SSL_new(srv->ssl);
	struct bufferevent *bev;

	if (!ssl)
		return NULL;
	bev = bufferevent_openssl_socket_new(
	    base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	if (bev)
		bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	return bev;
}

static int tls_init(struct emu_server *srv, const struct emu_options *opt)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (!ctx)
		goto fail;
	srv->ssl = ctx;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
	if (SSL_CTX_use_certificate_chain_file(ctx, opt->tls_cert) != 1) {
		fprintf(stderr, "apiemu: %s: cannot load certificate\n",
			opt->tls_cert);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, opt->tls_key, SSL_FILETYPE_PEM) !=
		1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		fprintf(stderr, "apiemu: %s: cannot load the key\n",
			opt->tls_key);
		goto fail;
	}
	if (opt->client_ca) {
		STACK_OF(X509_NAME) *names =
		    SSL_load_client_CA_file(opt->client_ca);

		if (!names || SSL_CTX_load_verify_locations(ctx, opt->client_ca,
							    NULL) != 1) {
			sk_X509_NAME_pop_free(names, X509_NAME_free);
			fprintf(stderr, "apiemu: %s: cannot load the CA\n",
				opt->client_ca);
			goto fail;
		}
		SSL_CTX_set_client_CA_list(ctx, names);
		/* verified when given; requests without one need a token */
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
		srv->client_ca = true;
	}
	evhttp_set_bevcb(srv->http, on_bev, srv);
	return 0;
fail:
	ERR_print_errors_fp(stderr);
	return -1;
}

static void on_pump(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	emu_watch_pump_all(arg);
}

static void on_store_event(void *arg)
{
	struct emu_server *srv = arg;

	event_active(srv->pump_ev, EV_TIMEOUT, 0);
}

int emu_server_init(struct emu_server *srv, struct event_base *base,
		    const struct emu_options *opt)
{
	char host[256];
	const char *colon = strrchr(opt->listen, ':');
	struct evhttp_bound_socket *bs;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	unsigned port;
	char *end;

	srv->base = base;
	TAILQ_INIT(&srv->watches);
	TAILQ_INIT(&srv->parked);
	srv->bookmark_interval = opt->bookmark_interval;
	gzip_min = opt->gzip_min;
	srv->token = opt->token ? strdup(opt->token) : NULL;
	emu_store_init(&srv->store, opt->history);
	srv->store.on_event = on_store_event;
	srv->store.on_event_arg = srv;
	srv->pump_ev = event_new(base, -1, 0, on_pump, srv);
	srv->stall_ev = evtimer_new(base, on_stall_end, srv);
	srv->http = evhttp_new(base);
	if (!srv->pump_ev || !srv->stall_ev || !srv->http)
		return -1;
	/* watches and stalls keep requests open for long */
	evhttp_set_timeout(srv->http, 24 * 3600);
	evhttp_set_allowed_methods(
	    srv->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_DELETE |
			   EVHTTP_REQ_PUT | EVHTTP_REQ_PATCH | EVHTTP_REQ_HEAD);
	evhttp_set_max_body_size(srv->http, 512 * 1024 * 1024);
	evhttp_set_gencb(srv->http, on_request, srv);
	if (opt->tls_cert && tls_init(srv, opt) < 0)
		return -1;
	if (!colon || (size_t)(colon - opt->listen) >= sizeof(host)) {
		fprintf(stderr, "apiemu: -listen wants HOST:PORT\n");
		return -1;
	}
	memcpy(host, opt->listen, (size_t)(colon - opt->listen));
	host[colon - opt->listen] = '\0';
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	errno = 0;
	port = (unsigned)strtoul(colon + 1, &end, 10);
	if (*end || errno || port > 65535) {
		fprintf(stderr, "apiemu: bad port in -listen %s\n",
			opt->listen);
		return -1;
	}
	bs = evhttp_bind_socket_with_handle(srv->http, host, (uint16_t)port);
	if (!bs) {
		fprintf(stderr, "apiemu: cannot listen on %s: %s\n",
			opt->listen, strerror(errno));
		return -1;
	}
	if (getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&ss,
			&sl) == 0) {
		port = ntohs(ss.ss_family == AF_INET6
				 ? ((struct sockaddr_in6 *)&ss)->sin6_port
				 : ((struct sockaddr_in *)&ss)->sin_port);
	}
	snprintf(srv->url, sizeof(srv->url), "%s://%s%s%s:%u",
		 opt->tls_cert ? "https" : "http", strchr(host, ':') ? "[" : "",
		 host, strchr(host, ':') ? "]" : "", port);
	return 0;
}

void emu_server_free(struct emu_server *srv)
{
	struct emu_parked *p;

	emu_churn_free(srv);
	emu_watch_end_all(srv);
	while ((p = TAILQ_FIRST(&srv->parked)) != NULL) {
		TAILQ_REMOVE(&srv->parked, p, link);
		if (evhttp_request_get_connection(p->req))
			evhttp_connection_set_closecb(
			    evhttp_request_get_connection(p->req), NULL, NULL);
		emu_reply_status(p->req, 500, "InternalError",
				 "server shutting down", 0);
		free(p);
	}
	if (srv->http)
		evhttp_free(srv->http);
	if (srv->pump_ev)
		event_free(srv->pump_ev);
	if (srv->stall_ev)
		event_free(srv->stall_ev);
	if (srv->ssl)
		SSL_CTX_free(srv->ssl);
	emu_store_free(&srv->store);
	free(srv->token);
	memset(srv, 0, sizeof(*srv));
}
