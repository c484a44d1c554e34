/*
 * test_http.c -- real evhttp listeners on loopback ports, asked with a
 * socket from another thread while the event loop runs.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include "server/http.h"

static void answer(struct evhttp_request *req, void *arg)
{
	evbuffer_add_printf(evhttp_request_get_output_buffer(req), "%s",
			    (const char *)arg);
	evhttp_send_reply(req, HTTP_OK, "OK", NULL);
}

struct ask {
	int family;
	unsigned port;
	const char *path;
	char reply[4096];
	int err; /* connect's errno, 0 when answered */
	bool done;
};

static void *asker(void *arg)
{
	struct ask *a = arg;
	struct sockaddr_storage ss;
	socklen_t len;

	memset(&ss, 0, sizeof(ss));
	if (a->family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_addr = in6addr_loopback;
		s6->sin6_port = htons((uint16_t)a->port);
		len = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		s4->sin_port = htons((uint16_t)a->port);
		len = sizeof(*s4);
	}
	int fd = socket(a->family, SOCK_STREAM, 0);
	if (connect(fd, (struct sockaddr *)&ss, len) < 0) {
		a->err = errno;
	} else {
		char req[256];
		int n = snprintf(req, sizeof(req),
				 "GET %s HTTP/1.0\r\nHost: x\r\n\r\n", a->path);
		if (write(fd, req, (size_t)n) == n) {
			size_t got = 0;
			ssize_t r;
			while (got < sizeof(a->reply) - 1 &&
			       (r = read(fd, a->reply + got,
					 sizeof(a->reply) - 1 - got)) > 0)
				got += (size_t)r;
			a->reply[got] = 0;
		}
	}
	close(fd);
	__atomic_store_n(&a->done, true, __ATOMIC_RELEASE);
	return NULL;
}

/* Ask path on the loopback port while base runs; the reply in a. */
static void ask(struct event_base *base, struct ask *a, int family,
		unsigned port, const char *path)
{
	pthread_t t;

	memset(a, 0, sizeof(*a));
	a->family = family;
	a->port = port;
	a->path = path;
	assert_int_equal(pthread_create(&t, NULL, asker, a), 0);
	while (!__atomic_load_n(&a->done, __ATOMIC_ACQUIRE))
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	pthread_join(t, NULL);
}

static bool ipv6_loopback(void)
{
	int fd = socket(AF_INET6, SOCK_STREAM, 0);
	struct sockaddr_in6 s6 = {.sin6_family = AF_INET6,
				  .sin6_addr = IN6ADDR_LOOPBACK_INIT};
	bool ok = fd >= 0 && bind(fd, (struct sockaddr *)&s6, sizeof(s6)) == 0;

	if (fd >= 0)
		close(fd);
	return ok;
}

static void test_paths(void **state)
{
	struct event_base *base = event_base_new();
	struct http *h = http_new(base);
	char err[256] = "";
	struct ask a;

	http_begin(h);
	assert_int_equal(http_route(h, "127.0.0.1:0", "/health", answer, "OK",
				    err, sizeof(err)),
			 0);
	assert_int_equal(http_route(h, "127.0.0.1:0", "/metrics", answer,
				    "m 1\n", err, sizeof(err)),
			 0);
	/* a path twice on one address */
	assert_int_equal(http_route(h, "127.0.0.1:0", "/health", answer, "OK",
				    err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(http_commit(h, err, sizeof(err)), 0);
	unsigned port = http_port(h, "127.0.0.1:0");
	assert_true(port > 0);

	ask(base, &a, AF_INET, port, "/health");
	assert_int_equal(a.err, 0);
	assert_non_null(strstr(a.reply, "HTTP/1.0 200"));
	assert_non_null(strstr(a.reply, "\r\n\r\nOK"));
	ask(base, &a, AF_INET, port, "/metrics");
	assert_non_null(strstr(a.reply, "\r\n\r\nm 1\n"));
	ask(base, &a, AF_INET, port, "/nothing");
	assert_non_null(strstr(a.reply, " 404 "));
	http_free(h);
	event_base_free(base);
}

static void test_bind_error(void **state)
{
	struct event_base *base = event_base_new();
	struct http *h = http_new(base), *h2 = http_new(base);
	char err[256] = "", addr[64], want[160];

	http_begin(h);
	assert_int_equal(http_route(h, "127.0.0.1:0", "/health", answer, "OK",
				    err, sizeof(err)),
			 0);
	assert_int_equal(http_commit(h, err, sizeof(err)), 0);
	snprintf(addr, sizeof(addr), "127.0.0.1:%u",
		 http_port(h, "127.0.0.1:0"));
	http_begin(h2);
	assert_int_equal(
	    http_route(h2, addr, "/ready", answer, "OK", err, sizeof(err)), 0);
	assert_int_equal(http_commit(h2, err, sizeof(err)), -EADDRINUSE);
	snprintf(want, sizeof(want),
		 "listen tcp %s: bind: Address already in use", addr);
	assert_string_equal(err, want);
	assert_int_equal(http_port(h2, addr), 0);
	/* an address that does not parse */
	http_begin(h2);
	assert_int_equal(
	    http_route(h2, "::1:80", "/x", answer, "", err, sizeof(err)),
	    -EINVAL);
	assert_string_equal(err, "listen tcp ::1:80: not an address");
	http_free(h2);
	http_free(h);
	event_base_free(base);
}

static void test_reload(void **state)
{
	struct event_base *base = event_base_new();
	struct http *h = http_new(base), *other = http_new(base);
	char err[256] = "", busy[64];
	struct ask a;

	/* a port someone else holds, for a reload that fails */
	http_begin(other);
	assert_int_equal(
	    http_route(other, "127.0.0.1:0", "/", answer, "", err, sizeof(err)),
	    0);
	assert_int_equal(http_commit(other, err, sizeof(err)), 0);
	snprintf(busy, sizeof(busy), "127.0.0.1:%u",
		 http_port(other, "127.0.0.1:0"));

	http_begin(h);
	assert_int_equal(http_route(h, "127.0.0.1:0", "/health", answer, "OK",
				    err, sizeof(err)),
			 0);
	bool v6 = ipv6_loopback();
	if (v6)
		assert_int_equal(http_route(h, "[::1]:0", "/ready", answer,
					    "ready", err, sizeof(err)),
				 0);
	assert_int_equal(http_commit(h, err, sizeof(err)), 0);
	unsigned p4 = http_port(h, "127.0.0.1:0");
	unsigned p6 = v6 ? http_port(h, "[::1]:0") : 0;
	if (v6) {
		ask(base, &a, AF_INET6, p6, "/ready");
		assert_non_null(strstr(a.reply, "\r\n\r\nready"));
	}

	/* a reload that cannot bind: everything stays as it was */
	http_begin(h);
	assert_int_equal(http_route(h, "127.0.0.1:0", "/metrics", answer, "m",
				    err, sizeof(err)),
			 0);
	assert_int_equal(
	    http_route(h, busy, "/health", answer, "OK", err, sizeof(err)), 0);
	assert_true(http_commit(h, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, busy));
	ask(base, &a, AF_INET, p4, "/health");
	assert_non_null(strstr(a.reply, "\r\n\r\nOK"));
	if (v6)
		assert_int_equal(http_port(h, "[::1]:0"), p6);

	/* the IPv4 address stays (same socket, new paths), IPv6 goes */
	http_begin(h);
	assert_int_equal(http_route(h, "127.0.0.1:0", "/metrics", answer, "m",
				    err, sizeof(err)),
			 0);
	assert_int_equal(http_commit(h, err, sizeof(err)), 0);
	assert_int_equal(http_port(h, "127.0.0.1:0"), p4);
	ask(base, &a, AF_INET, p4, "/metrics");
	assert_non_null(strstr(a.reply, "\r\n\r\nm"));
	ask(base, &a, AF_INET, p4, "/health");
	assert_non_null(strstr(a.reply, " 404 "));
	if (v6) {
		assert_int_equal(http_port(h, "[::1]:0"), 0);
		ask(base, &a, AF_INET6, p6, "/ready");
		assert_int_equal(a.err, ECONNREFUSED);
	}
	http_free(other);
	http_free(h);
	event_base_free(base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_paths),
	    cmocka_unit_test(test_bind_error),
	    cmocka_unit_test(test_reload),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
