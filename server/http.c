/*
 * http.c -- HTTP listeners with evhttp (see http.h).
 */
#include "server/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

struct route {
	char *path;
	http_handler fn;
	void *arg;
};

struct listener {
	char *addr; /* as written */
	struct evhttp *eh;
	int fd;
	unsigned port;
	struct route *routes, *next_routes; /* served; being declared */
	size_t nroutes, nnext;
	bool declared; /* named since http_begin */
	struct http *h;
};

struct http {
	struct event_base *base;
	struct listener **ls;
	size_t nls;
};

struct http *http_new(struct event_base *base)
{
	struct http *h = calloc(1, sizeof(*h));

	if (h)
		h->base = base;
	return h;
}

static void routes_free(struct route *r, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(r[i].path);
	free(r);
}

static void listener_free(struct listener *l)
{
	if (l->eh)
		evhttp_free(l->eh); /* closes fd */
	else if (l->fd >= 0)
		close(l->fd);
	routes_free(l->routes, l->nroutes);
	routes_free(l->next_routes, l->nnext);
	free(l->addr);
	free(l);
}

void http_free(struct http *h)
{
	if (!h)
		return;
	for (size_t i = 0; i < h->nls; i++)
		listener_free(h->ls[i]);
	free(h->ls);
	free(h);
}

void http_begin(struct http *h)
{
	for (size_t i = 0; i < h->nls; i++) {
		struct listener *l = h->ls[i];
		routes_free(l->next_routes, l->nnext);
		l->next_routes = NULL;
		l->nnext = 0;
		l->declared = false;
	}
}

/* addr as CoreDNS writes it into a socket address.  Returns 0 or -EINVAL. */
static int parse_addr(const char *addr, struct sockaddr_storage *ss,
		      socklen_t *len)
{
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
	char host[64];
	const char *colon = strrchr(addr, ':');

	memset(ss, 0, sizeof(*ss));
	if (!colon || !colon[1])
		return -EINVAL;
	char *end;
	unsigned long port = strtoul(colon + 1, &end, 10);
	if (*end || port > 65535)
		return -EINVAL;
	size_t hl = (size_t)(colon - addr);
	if (hl >= sizeof(host))
		return -EINVAL;
	memcpy(host, addr, hl);
	host[hl] = 0;
	if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
		memmove(host, host + 1, hl - 2);
		host[hl - 2] = 0;
	} else if (strchr(host, ':')) {
		return -EINVAL; /* an IPv6 address needs its brackets */
	}
	if (!host[0]) {
		int fd = socket(AF_INET6, SOCK_STREAM, 0);
		if (fd >= 0) {
			close(fd);
			a6->sin6_family = AF_INET6;
			a6->sin6_addr = in6addr_any;
			a6->sin6_port = htons((uint16_t)port);
			*len = sizeof(*a6);
			return 0;
		}
		strcpy(host, "0.0.0.0");
	}
	if (!strcmp(host, "localhost"))
		strcpy(host, "127.0.0.1");
	if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
		*len = sizeof(*a4);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*a6);
		return 0;
	}
	return -EINVAL;
}

static struct listener *find(const struct http *h, const char *addr)
{
	for (size_t i = 0; i < h->nls; i++)
		if (!strcmp(h->ls[i]->addr, addr))
			return h->ls[i];
	return NULL;
}

int http_route(struct http *h, const char *addr, const char *path,
	       http_handler fn, void *arg, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t len;

	if (parse_addr(addr, &ss, &len) < 0) {
		snprintf(err, errlen, "listen tcp %s: not an address", addr);
		return -EINVAL;
	}
	struct listener *l = find(h, addr);
	if (!l) {
		struct listener **ls =
		    realloc(h->ls, (h->nls + 1) * sizeof(*ls));
		if (!ls)
			return -ENOMEM;
		h->ls = ls;
		if (!(l = calloc(1, sizeof(*l))) || !(l->addr = strdup(addr))) {
			free(l);
			return -ENOMEM;
		}
		l->fd = -1;
		l->h = h;
		h->ls[h->nls++] = l;
	}
	for (size_t i = 0; i < l->nnext; i++)
		if (!strcmp(l->next_routes[i].path, path)) {
			snprintf(err, errlen, "%s%s: served twice", addr, path);
			return -EINVAL;
		}
	struct route *r = realloc(l->next_routes, (l->nnext + 1) * sizeof(*r));
	if (!r)
		return -ENOMEM;
	l->next_routes = r;
	if (!(r[l->nnext].path = strdup(path)))
		return -ENOMEM;
	r[l->nnext].fn = fn;
	r[l->nnext].arg = arg;
	l->nnext++;
	l->declared = true;
	return 0;
}

static void dispatch(struct evhttp_request *req, void *arg)
{
	struct listener *l = arg;
	const char *path =
	    evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));

	for (size_t i = 0; path && i < l->nroutes; i++)
		if (!strcmp(l->routes[i].path, path)) {
			l->routes[i].fn(req, l->routes[i].arg);
			return;
		}
	evbuffer_add_printf(evhttp_request_get_output_buffer(req),
			    "404 page not found\n");
	evhttp_send_reply(req, HTTP_NOTFOUND, "Not Found", NULL);
}

/* Bind l's address.  Returns 0 or a negative errno with err set. */
static int listener_open(struct listener *l, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t len;
	const char *op = "socket";
	int one = 1, zero = 0, e;

	if (parse_addr(l->addr, &ss, &len) < 0) {
		snprintf(err, errlen, "listen tcp %s: not an address", l->addr);
		return -EINVAL;
	}
	int fd =
	    socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	op = "bind";
	if (bind(fd, (struct sockaddr *)&ss, len) < 0)
		goto fail;
	op = "listen";
	if (listen(fd, 128) < 0)
		goto fail;
	struct sockaddr_storage got;
	socklen_t gl = sizeof(got);
	if (getsockname(fd, (struct sockaddr *)&got, &gl) == 0)
		l->port = ntohs(got.ss_family == AF_INET6
				    ? ((struct sockaddr_in6 *)&got)->sin6_port
				    : ((struct sockaddr_in *)&got)->sin_port);
	if (!(l->eh = evhttp_new(l->h->base)) ||
	    !evhttp_accept_socket_with_handle(l->eh, fd)) {
		if (l->eh)
			evhttp_free(l->eh);
		l->eh = NULL;
		close(fd);
		snprintf(err, errlen, "listen tcp %s: out of memory", l->addr);
		return -ENOMEM;
	}
	evhttp_set_allowed_methods(l->eh, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
	evhttp_set_gencb(l->eh, dispatch, l);
	l->fd = fd;
	return 0;
fail:
	e = errno;
	if (fd >= 0)
		close(fd);
	snprintf(err, errlen, "listen tcp %s: %s: %s", l->addr, op,
		 strerror(e));
	return -e;
}

int http_commit(struct http *h, char *err, size_t errlen)
{
	/* bind what is new first: on failure nothing changes */
	for (size_t i = 0; i < h->nls; i++) {
		struct listener *l = h->ls[i];
		if (!l->declared || l->eh)
			continue;
		int rc = listener_open(l, err, errlen);
		if (rc < 0) {
			for (size_t j = 0; j < h->nls; j++) {
				struct listener *m = h->ls[j];
				if (!m->nroutes && m->eh) {
					evhttp_free(m->eh);
					m->eh = NULL;
					m->fd = -1;
				}
			}
			/* drop listeners that were only being added */
			size_t k = 0;
			for (size_t j = 0; j < h->nls; j++) {
				if (!h->ls[j]->nroutes && !h->ls[j]->eh)
					listener_free(h->ls[j]);
				else
					h->ls[k++] = h->ls[j];
			}
			h->nls = k;
			return rc;
		}
	}
	size_t k = 0;
	for (size_t i = 0; i < h->nls; i++) {
		struct listener *l = h->ls[i];
		if (!l->declared) {
			listener_free(l);
			continue;
		}
		routes_free(l->routes, l->nroutes);
		l->routes = l->next_routes;
		l->nroutes = l->nnext;
		l->next_routes = NULL;
		l->nnext = 0;
		h->ls[k++] = l;
	}
	h->nls = k;
	return 0;
}

unsigned http_port(const struct http *h, const char *addr)
{
	const struct listener *l = find(h, addr);

	return l && l->eh ? l->port : 0;
}

void http_reply(struct evhttp_request *req, int code, const char *reason,
		const char *ctype, struct evbuffer *body)
{
	evhttp_add_header(evhttp_request_get_output_headers(req),
			  "Content-Type",
			  ctype ? ctype : "text/plain; charset=utf-8");
	evhttp_send_reply(req, code, reason, body);
}
