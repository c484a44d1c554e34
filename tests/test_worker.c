/*
 * test_worker.c -- the worker pool on loopback: UDP, pipelined TCP, partial
 * messages, half-close, idle timeout, connection limits (per address, in
 * all with the oldest idle connection closed for a new one), back-pressure,
 * wildcard source addresses, bind errors, thread hooks, deferred answers
 * and per-worker state.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/buffer.h>
#include <event2/event.h>

#include "server/metrics.h"
#include "server/worker.h"

#define BIG_ANSWER 60000

static atomic_int hook_start, hook_stop, bad_ctx;
static int ctx_marker;

static void on_start(void)
{
	atomic_fetch_add(&hook_start, 1);
}

static void on_stop(void)
{
	atomic_fetch_add(&hook_stop, 1);
}

/* Deferred answers: per-worker state with the answers still to send. */
struct wstate;
struct later {
	struct wstate *st;
	struct worker_defer *d;
	struct event *ev;
	uint8_t resp[64];
	size_t len;
	struct later *next;
};
struct wstate {
	struct event_base *base;
	struct later *pending;
};
static int defer_key;
static atomic_int states_made, states_freed, later_sent;

static void *state_create(struct event_base *base, void *arg)
{
	struct wstate *st = calloc(1, sizeof(*st));
	st->base = base;
	atomic_fetch_add(&states_made, 1);
	return st;
}

static void later_unlink(struct wstate *st, struct later *l)
{
	for (struct later **pp = &st->pending; *pp; pp = &(*pp)->next)
		if (*pp == l) {
			*pp = l->next;
			break;
		}
}

static void state_destroy(void *state)
{
	struct wstate *st = state;
	while (st->pending) {
		struct later *l = st->pending;
		st->pending = l->next;
		worker_answer(l->d, l->resp, l->len); /* dropped: stopping */
		event_free(l->ev);
		free(l);
	}
	free(st);
	atomic_fetch_add(&states_freed, 1);
}

static void never_cb(evutil_socket_t fd, short what, void *arg)
{
}

/* 'D' in the name: answered 50 ms later; 'K': never (until the pool
 * stops). */
static size_t defer_it(const uint8_t *req, size_t len, uint8_t *resp, bool tcp,
		       struct worker_call *call);

/*
 * Echo the request with QR set and byte 3 saying the transport (1 = TCP).
 * A request whose byte 12 is 'B' gets a BIG_ANSWER-byte answer on TCP.
 */
static size_t echo(void *ctx, const uint8_t *req, size_t len, uint8_t *resp,
		   size_t max, bool tcp, const struct sockaddr *peer,
		   socklen_t peerlen, struct worker_call *call)
{
	if (ctx != &ctx_marker || peer == NULL || peerlen == 0)
		atomic_fetch_add(&bad_ctx, 1);
	if (len < 12 || len > max)
		return 0;
	if (len > 13 && (req[13] == 'D' || req[13] == 'K' || req[13] == 'S'))
		return defer_it(req, len, resp, tcp, call);
	if (tcp && len > 12 && req[12] == 'B') {
		for (size_t i = 0; i < BIG_ANSWER; i++)
			resp[i] = (uint8_t)i;
		memcpy(resp, req, 2);
		return BIG_ANSWER;
	}
	memcpy(resp, req, len);
	resp[2] |= 0x80;
	resp[3] = tcp ? 1 : 0;
	return len;
}

static void fire_cb(evutil_socket_t fd, short what, void *arg)
{
	struct later *l = arg;
	later_unlink(l->st, l);
	worker_answer(l->d, l->resp, l->len);
	atomic_fetch_add(&later_sent, 1);
	event_free(l->ev);
	free(l);
}

/* A stream for 'S': STREAM_MSGS messages of STREAM_MSG bytes, each with
 * the query's ID and its number after it. */
#define STREAM_MSGS 160
#define STREAM_MSG 60000
static atomic_int streams_done;

static void stream_done(void *arg)
{
	assert_true(arg == &streams_done);
	atomic_fetch_add(&streams_done, 1);
}

static void stream_cb(evutil_socket_t fd, short what, void *arg)
{
	struct later *l = arg;
	size_t len = (size_t)STREAM_MSGS * (STREAM_MSG + 2);
	uint8_t *buf = malloc(len);

	(void)fd;
	(void)what;
	assert_non_null(buf);
	for (size_t i = 0; i < STREAM_MSGS; i++) {
		uint8_t *m = buf + i * (STREAM_MSG + 2);
		memset(m, (int)i, STREAM_MSG + 2);
		m[0] = (uint8_t)(STREAM_MSG >> 8);
		m[1] = (uint8_t)STREAM_MSG;
		memcpy(m + 2, l->resp, 2);
		m[4] = (uint8_t)i;
	}
	later_unlink(l->st, l);
	worker_answer_stream(l->d, buf, len, stream_done, &streams_done);
	atomic_fetch_add(&later_sent, 1);
	event_free(l->ev);
	free(l);
}

static size_t defer_it(const uint8_t *req, size_t len, uint8_t *resp, bool tcp,
		       struct worker_call *call)
{
	struct wstate *st =
	    worker_local(call, &defer_key, state_create, NULL, state_destroy);
	if (!st || len > sizeof(((struct later *)0)->resp))
		return 0;
	/* the same state for the same worker */
	assert_true(worker_local(call, &defer_key, NULL, NULL, NULL) == st);
	struct later *l = calloc(1, sizeof(*l));
	memcpy(l->resp, req, len);
	l->resp[2] |= 0x80;
	l->resp[3] = tcp ? 1 : 0;
	l->len = len;
	l->d = worker_defer(call);
	assert_non_null(l->d);
	l->st = st;
	l->next = st->pending;
	st->pending = l;
	l->ev = evtimer_new(st->base,
			    req[13] == 'D'   ? fire_cb
			    : req[13] == 'S' ? stream_cb
					     : never_cb,
			    l);
	if (req[13] == 'D' || req[13] == 'S') {
		struct timeval tv = {0, 50000};
		evtimer_add(l->ev, &tv);
	}
	(void)resp;
	return WORKER_PENDING;
}

/* A port free for both UDP and TCP on addr. */
static uint16_t free_port(int family, const char *addr)
{
	for (int tries = 0; tries < 50; tries++) {
		struct sockaddr_storage ss;
		socklen_t sl;
		memset(&ss, 0, sizeof(ss));
		if (family == AF_INET) {
			struct sockaddr_in *in = (struct sockaddr_in *)&ss;
			in->sin_family = AF_INET;
			inet_pton(AF_INET, addr, &in->sin_addr);
			sl = sizeof(*in);
		} else {
			struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
			in6->sin6_family = AF_INET6;
			inet_pton(AF_INET6, addr, &in6->sin6_addr);
			sl = sizeof(*in6);
		}
		int u = socket(family, SOCK_DGRAM, 0);
		assert_true(u >= 0);
		assert_int_equal(bind(u, (struct sockaddr *)&ss, sl), 0);
		assert_int_equal(getsockname(u, (struct sockaddr *)&ss, &sl),
				 0);
		int t = socket(family, SOCK_STREAM, 0);
		int ok = bind(t, (struct sockaddr *)&ss, sl) == 0;
		close(t);
		close(u);
		if (ok)
			return ntohs(
			    family == AF_INET
				? ((struct sockaddr_in *)&ss)->sin_port
				: ((struct sockaddr_in6 *)&ss)->sin6_port);
	}
	fail_msg("no free port");
	return 0;
}

static void set_addr(struct sockaddr_storage *ss, socklen_t *sl, int family,
		     const char *addr, uint16_t port)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;
		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		assert_int_equal(inet_pton(AF_INET, addr, &in->sin_addr), 1);
		*sl = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		assert_int_equal(inet_pton(AF_INET6, addr, &in6->sin6_addr), 1);
		*sl = sizeof(*in6);
	}
}

static struct worker_pool *start(int family, const char *addr, uint16_t port,
				 const struct worker_conf *conf)
{
	struct worker_listen l = {0};
	struct worker_pool *pool = NULL;
	char err[256];

	set_addr(&l.addr, &l.addrlen, family, addr, port);
	l.ctx = &ctx_marker;
	int r = worker_pool_start(&l, 1, conf, echo, &pool, err, sizeof(err));
	if (r != 0)
		fail_msg("worker_pool_start: %s", err);
	return pool;
}

static void query(uint8_t *q, size_t *n, uint16_t id, char tag)
{
	static const uint8_t tmpl[] = {0, 0, 1, 0,   0, 1, 0, 0, 0, 0,
				       0, 0, 1, 'x', 0, 0, 1, 0, 1};
	memcpy(q, tmpl, sizeof(tmpl));
	q[0] = (uint8_t)(id >> 8);
	q[1] = (uint8_t)id;
	q[13] = (uint8_t)tag;
	*n = sizeof(tmpl);
}

/* Wait for fd to be readable; false on timeout. */
static bool wait_readable(int fd, int ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	return poll(&p, 1, ms) == 1;
}

/* A TCP connection to 127.0.0.1:port from the address src. */
static int tcp_connect_from(const char *src, uint16_t port)
{
	struct sockaddr_storage ss, from;
	socklen_t sl, fl;
	set_addr(&ss, &sl, AF_INET, "127.0.0.1", port);
	set_addr(&from, &fl, AF_INET, src, 0);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&from, fl), 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&ss, sl), 0);
	return fd;
}

static int tcp_connect(int family, const char *addr, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	set_addr(&ss, &sl, family, addr, port);
	int fd = socket(family, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&ss, sl), 0);
	return fd;
}

/* Read exactly n bytes (with a timeout); returns bytes read. */
static size_t read_full(int fd, uint8_t *buf, size_t n)
{
	size_t got = 0;
	while (got < n) {
		if (!wait_readable(fd, 5000))
			break;
		ssize_t r = recv(fd, buf + got, n - got, 0);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	return got;
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Closed by the server: recv returns 0 (or a reset) within ms. */
static bool closed_within(int fd, int ms)
{
	uint8_t b[64];
	for (;;) {
		if (!wait_readable(fd, ms))
			return false;
		ssize_t r = recv(fd, b, sizeof(b), 0);
		if (r == 0 || (r < 0 && errno == ECONNRESET))
			return true;
		if (r < 0)
			return false;
	}
}

static void udp_roundtrip(int family, const char *dst, uint16_t port)
{
	struct sockaddr_storage ss, from;
	socklen_t sl, fl = sizeof(from);
	uint8_t q[64], a[512];
	size_t n;

	set_addr(&ss, &sl, family, dst, port);
	int fd = socket(family, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	query(q, &n, 0x1234, 'u');
	assert_int_equal(sendto(fd, q, n, 0, (struct sockaddr *)&ss, sl),
			 (ssize_t)n);
	assert_true(wait_readable(fd, 5000));
	ssize_t r =
	    recvfrom(fd, a, sizeof(a), 0, (struct sockaddr *)&from, &fl);
	assert_int_equal(r, (ssize_t)n);
	assert_int_equal(rd16(a), 0x1234);
	assert_int_equal(a[2] & 0x80, 0x80);
	assert_int_equal(a[3], 0); /* UDP */
	/* the answer comes from the address the query went to */
	assert_int_equal(fl, sl);
	assert_memory_equal(&from, &ss, sl);
	close(fd);
}

static void test_udp(void **state)
{
	struct worker_conf conf = {
	    .nthreads = 2, .thread_start = on_start, .thread_stop = on_stop};
	(void)state;
	atomic_store(&hook_start, 0);
	atomic_store(&hook_stop, 0);
	uint16_t port = free_port(AF_INET, "127.0.0.1");
	struct worker_pool *pool = start(AF_INET, "127.0.0.1", port, &conf);
	for (int i = 0; i < 10; i++)
		udp_roundtrip(AF_INET, "127.0.0.1", port);

	/* a runt is not answered (the handler returns 0), the socket lives */
	struct sockaddr_storage ss;
	socklen_t sl;
	set_addr(&ss, &sl, AF_INET, "127.0.0.1", port);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	sendto(fd, "abc", 3, 0, (struct sockaddr *)&ss, sl);
	assert_false(wait_readable(fd, 200));
	close(fd);
	udp_roundtrip(AF_INET, "127.0.0.1", port);

	worker_pool_stop(pool);
	assert_int_equal(atomic_load(&hook_start), 2);
	assert_int_equal(atomic_load(&hook_stop), 2);
	assert_int_equal(atomic_load(&bad_ctx), 0);
}

static void test_tcp_pipelined(void **state)
{
	struct worker_conf conf = {.nthreads = 1};
	uint8_t buf[256], a[256];
	size_t n, off = 0;

	(void)state;
	uint16_t port = free_port(AF_INET, "127.0.0.1");
	struct worker_pool *pool = start(AF_INET, "127.0.0.1", port, &conf);
	int fd = tcp_connect(AF_INET, "127.0.0.1", port);

	/* three queries and an empty message in one write */
	for (uint16_t id = 1; id <= 3; id++) {
		query(buf + off + 2, &n, id, 't');
		buf[off] = 0;
		buf[off + 1] = (uint8_t)n;
		off += n + 2;
		if (id == 2) {
			buf[off] = buf[off + 1] = 0;
			off += 2;
		}
	}
	assert_int_equal(send(fd, buf, off, 0), (ssize_t)off);
	for (uint16_t id = 1; id <= 3; id++) {
		assert_int_equal(read_full(fd, a, 2 + n), 2 + n);
		assert_int_equal(rd16(a), n);
		assert_int_equal(rd16(a + 2), id);
		assert_int_equal(a[4] & 0x80, 0x80);
		assert_int_equal(a[5], 1); /* TCP */
	}

	/* a message split in three writes */
	query(buf + 2, &n, 77, 's');
	buf[0] = 0;
	buf[1] = (uint8_t)n;
	assert_int_equal(send(fd, buf, 1, 0), 1);
	usleep(50000);
	assert_int_equal(send(fd, buf + 1, 5, 0), 5);
	usleep(50000);
	assert_int_equal(send(fd, buf + 6, n - 4, 0), (ssize_t)(n - 4));
	assert_int_equal(read_full(fd, a, 2 + n), 2 + n);
	assert_int_equal(rd16(a + 2), 77);

	/* half-close: the answer still comes, then the server closes */
	query(buf + 2, &n, 88, 'h');
	assert_int_equal(send(fd, buf, n + 2, 0), (ssize_t)(n + 2));
	shutdown(fd, SHUT_WR);
	assert_int_equal(read_full(fd, a, 2 + n), 2 + n);
	assert_int_equal(rd16(a + 2), 88);
	assert_true(closed_within(fd, 5000));
	close(fd);

	/* a reset in the middle of a message does no harm */
	fd = tcp_connect(AF_INET, "127.0.0.1", port);
	send(fd, buf, 5, 0);
	struct linger lg = {1, 0};
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
	udp_roundtrip(AF_INET, "127.0.0.1", port);

	worker_pool_stop(pool);
}

static void test_tcp_idle_and_limit(void **state)
{
	struct worker_conf conf = {.nthreads = 1,
				   .tcp_idle_ms = 300,
				   .tcp_max_conns = 1,
				   .tcp_max_per_addr = 1};
	uint8_t buf[64], a[64];
	size_t n;

	(void)state;
	uint16_t port = free_port(AF_INET, "127.0.0.1");
	struct worker_pool *pool = start(AF_INET, "127.0.0.1", port, &conf);

	/* first connection: served */
	int c1 = tcp_connect(AF_INET, "127.0.0.1", port);
	query(buf + 2, &n, 5, 'l');
	buf[0] = 0;
	buf[1] = (uint8_t)n;
	assert_int_equal(send(c1, buf, n + 2, 0), (ssize_t)(n + 2));
	assert_int_equal(read_full(c1, a, n + 2), n + 2);

	/* second one: over the address's share, closed at once */
	int c2 = tcp_connect(AF_INET, "127.0.0.1", port);
	assert_true(closed_within(c2, 2000));
	close(c2);

	/* slowloris: a partial message, then silence: closed when idle */
	assert_int_equal(send(c1, buf, 3, 0), 3);
	assert_true(closed_within(c1, 5000));
	close(c1);

	/* the slot is free again */
	c2 = tcp_connect(AF_INET, "127.0.0.1", port);
	assert_int_equal(send(c2, buf, n + 2, 0), (ssize_t)(n + 2));
	assert_int_equal(read_full(c2, a, n + 2), n + 2);
	/* a trickle of bytes (a 65535-byte message that never completes)
	 * does not keep a connection open */
	bool closed = false;
	uint8_t ff = 0xff;
	for (int i = 0; i < 60 && !closed; i++) {
		if (send(c2, &ff, 1, MSG_NOSIGNAL) != 1)
			closed = true;
		else if (wait_readable(c2, 50))
			closed = closed_within(c2, 10);
	}
	assert_true(closed);
	close(c2);
	worker_pool_stop(pool);
}

/* One query on fd answered: the connection is open and served. */
static bool served(int fd, uint16_t id)
{
	uint8_t buf[64], a[64];
	size_t n;
	query(buf + 2, &n, id, 'l');
	buf[0] = 0;
	buf[1] = (uint8_t)n;
	if (send(fd, buf, n + 2, MSG_NOSIGNAL) != (ssize_t)(n + 2))
		return false;
	return read_full(fd, a, n + 2) == n + 2 && rd16(a + 2) == id;
}

/*
 * The limits are the pool's, whichever thread accepts: one address gets
 * its share; over the total a new client closes the oldest idle
 * connection, not one with an answer in progress, and is served.
 */
static void test_tcp_limits(void **state)
{
	struct worker_conf conf = {
	    .nthreads = 2, .tcp_max_conns = 4, .tcp_max_per_addr = 2};

	(void)state;
	uint16_t port = free_port(AF_INET, "127.0.0.1");
	struct worker_pool *pool = start(AF_INET, "127.0.0.1", port, &conf);

	/* 127.0.0.2: two served, the third closed at once */
	int a1 = tcp_connect_from("127.0.0.2", port);
	assert_true(served(a1, 1));
	usleep(30000); /* progress times apart: a1 is the oldest */
	int a2 = tcp_connect_from("127.0.0.2", port);
	assert_true(served(a2, 2));
	int a3 = tcp_connect_from("127.0.0.2", port);
	assert_true(closed_within(a3, 2000));
	close(a3);
	usleep(30000);

	/* b1 waits for a deferred answer: busy, never closed for another;
	 * b2 served: the pool is full */
	uint8_t buf[64], a[64];
	size_t n;
	int b1 = tcp_connect_from("127.0.0.3", port);
	query(buf + 2, &n, 3, 'K');
	buf[0] = 0;
	buf[1] = (uint8_t)n;
	assert_int_equal(send(b1, buf, n + 2, 0), (ssize_t)(n + 2));
	int b2 = tcp_connect_from("127.0.0.3", port);
	assert_true(served(b2, 4));
	usleep(30000);

	/* a new client: a1, the oldest idle one, is closed for it */
	int c1 = tcp_connect_from("127.0.0.1", port);
	assert_true(served(c1, 5));
	assert_true(closed_within(a1, 5000));
	close(a1);
	assert_true(served(a2, 6));
	usleep(30000);
	assert_true(served(b2, 7));
	usleep(30000);
	assert_true(served(c1, 8));
	/* again: a2 goes (b1 is older, but busy) */
	int c2 = tcp_connect_from("127.0.0.1", port);
	assert_true(served(c2, 9));
	assert_true(closed_within(a2, 5000));
	close(a2);
	assert_false(wait_readable(b1, 100)); /* still waiting, open */
	assert_true(served(b2, 10));
	close(b1);
	close(b2);
	close(c1);
	close(c2);
	worker_pool_stop(pool);
	(void)a;
}

/* The sample line "name value" of the registry's exposition: its value,
 * -1 when there is none. */
static double scraped(const char *name)
{
	struct evbuffer *b = evbuffer_new();
	double v = -1;

	assert_non_null(b);
	assert_int_equal(metrics_render(b), 0);
	size_t n = evbuffer_get_length(b);
	char *s = malloc(n + 1);
	assert_non_null(s);
	evbuffer_remove(b, s, n);
	s[n] = 0;
	evbuffer_free(b);
	size_t nl = strlen(name);
	for (char *l = s; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : l)
		if (!strncmp(l, name, nl) && l[nl] == ' ') {
			v = strtod(l + nl + 1, NULL);
			break;
		}
	free(s);
	return v;
}

/*
 * What the limits do is counted by reason, on the thread that does it:
 * refused over the address's share and over the total (every connection
 * busy), evicted for a new client, closed when idle, inside a partial
 * query, and with answers left unread.
 */
static void test_tcp_counted(void **state)
{
	struct worker_conf conf = {.nthreads = 2,
				   .tcp_idle_ms = 300,
				   .tcp_max_conns = 2,
				   .tcp_max_per_addr = 1};
	uint8_t buf[64 * 40];
	size_t n;

	(void)state;
	assert_int_equal(metrics_init("0", "test"), 0);
	uint16_t port = free_port(AF_INET, "127.0.0.1");
	struct worker_pool *pool = start(AF_INET, "127.0.0.1", port, &conf);

	/* 127.0.0.2 holds its one: a second is refused */
	int c1 = tcp_connect_from("127.0.0.2", port);
	assert_true(served(c1, 1));
	int c2 = tcp_connect_from("127.0.0.2", port);
	assert_true(closed_within(c2, 2000));
	close(c2);
	usleep(30000);

	/* over the total of 2: c1, the oldest idle one, goes for c4 */
	int c3 = tcp_connect_from("127.0.0.3", port);
	assert_true(served(c3, 2));
	usleep(30000);
	int c4 = tcp_connect_from("127.0.0.4", port);
	assert_true(served(c4, 3));
	assert_true(closed_within(c1, 2000));
	close(c1);

	/* c3 stops inside a query (slow), c4 says nothing more (idle) */
	query(buf + 2, &n, 4, 'l');
	buf[0] = 0;
	buf[1] = (uint8_t)n;
	assert_int_equal(send(c3, buf, 3, 0), 3);
	assert_true(closed_within(c3, 5000));
	assert_true(closed_within(c4, 5000));
	close(c3);
	close(c4);

	/* c5 asks for big answers and does not read them (unread) */
	int c5 = socket(AF_INET, SOCK_STREAM, 0);
	int small = 4096;
	setsockopt(c5, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	struct sockaddr_in sin = {.sin_family = AF_INET};
	inet_pton(AF_INET, "127.0.0.5", &sin.sin_addr);
	assert_int_equal(bind(c5, (struct sockaddr *)&sin, sizeof(sin)), 0);
	sin.sin_port = htons(port);
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	assert_int_equal(connect(c5, (struct sockaddr *)&sin, sizeof(sin)), 0);
	size_t qn = 0;
	for (int i = 0; i < 40; i++) {
		query(buf + qn + 2, &n, (uint16_t)(10 + i), 'l');
		buf[qn + 2 + 12] = 'B';
		buf[qn] = 0;
		buf[qn + 1] = (uint8_t)n;
		qn += n + 2;
	}
	assert_int_equal(send(c5, buf, qn, 0), (ssize_t)qn);
	usleep(1000 * 1000); /* idle for 300 ms with answers queued */
	close(c5);

	/* 34 connections (2 + the slack of 32), each waiting for an answer
	 * that never comes: none idle to close, so the 35th is refused */
	enum { BUSY = 34 };
	int busy[BUSY];
	for (int i = 0; i < BUSY; i++) {
		char src[32];
		snprintf(src, sizeof(src), "127.0.1.%d", i + 1);
		busy[i] = tcp_connect_from(src, port);
		query(buf + 2, &n, (uint16_t)(100 + i), 'K');
		buf[0] = 0;
		buf[1] = (uint8_t)n;
		assert_int_equal(send(busy[i], buf, n + 2, 0),
				 (ssize_t)(n + 2));
		usleep(50000); /* read before the next comes */
	}
	int over = tcp_connect_from("127.0.2.1", port);
	assert_true(closed_within(over, 2000));
	close(over);
	for (int i = 0; i < BUSY; i++)
		close(busy[i]);

	/* the threads fold their counts into the registry when they end */
	worker_pool_stop(pool);
	assert_true(scraped("clusterdns_tcp_refused_total"
			    "{reason=\"client_limit\"}") == 1);
	assert_true(scraped("clusterdns_tcp_refused_total"
			    "{reason=\"total_limit\"}") == 1);
	assert_true(scraped("clusterdns_tcp_closed_total"
			    "{reason=\"evicted\"}") == 1);
	assert_true(scraped("clusterdns_tcp_closed_total"
			    "{reason=\"idle\"}") == 1);
	assert_true(scraped("clusterdns_tcp_closed_total"
			    "{reason=\"slow\"}") == 1);
	assert_true(scraped("clusterdns_tcp_closed_total"
			    "{reason=\"unread\"}") == 1);
	metrics_free();
}

/* Many large answers to a client that does not read: queued, then
 * delivered in order once it reads. */
static void test_tcp_backpressure(void **state)
{
	struct worker_conf conf = {.nthreads = 1, .tcp_max_inflight = 4};
	enum { COUNT = 250 }; /* 15 MB: more than socket buffers hold */
	static uint8_t buf[COUNT * 32];
	static uint8_t a[BIG_ANSWER + 2];
	size_t n, off = 0;

	(void)state;
	uint16_t port = free_port(AF_INET, "127.0.0.1");
	struct worker_pool *pool = start(AF_INET, "127.0.0.1", port, &conf);
	int fd = tcp_connect(AF_INET, "127.0.0.1", port);
	for (uint16_t id = 0; id < COUNT; id++) {
		query(buf + off + 2, &n, id, 'b');
		buf[off + 2 + 12] = 'B';
		buf[off] = 0;
		buf[off + 1] = (uint8_t)n;
		off += n + 2;
	}
	assert_int_equal(send(fd, buf, off, 0), (ssize_t)off);
	usleep(200000); /* let the server fill its queue */
	for (uint16_t id = 0; id < COUNT; id++) {
		assert_int_equal(read_full(fd, a, BIG_ANSWER + 2),
				 BIG_ANSWER + 2);
		assert_int_equal(rd16(a), BIG_ANSWER);
		assert_int_equal(rd16(a + 2), id);
		assert_int_equal(a[2 + 1000], (uint8_t)1000);
	}
	close(fd);
	worker_pool_stop(pool);
}

static void test_wildcard_source(void **state)
{
	struct worker_conf conf = {.nthreads = 1};

	(void)state;
	uint16_t port = free_port(AF_INET, "0.0.0.0");
	struct worker_pool *pool = start(AF_INET, "0.0.0.0", port, &conf);
	udp_roundtrip(AF_INET, "127.0.0.1", port);
	/* 127.0.0.2 is loopback too: the answer must come from it */
	udp_roundtrip(AF_INET, "127.0.0.2", port);
	worker_pool_stop(pool);
}

static bool have_ipv6(void)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd = socket(AF_INET6, SOCK_DGRAM, 0);
	if (fd < 0)
		return false;
	set_addr(&ss, &sl, AF_INET6, "::1", 0);
	bool ok = bind(fd, (struct sockaddr *)&ss, sl) == 0;
	close(fd);
	return ok;
}

static void test_ipv6(void **state)
{
	struct worker_conf conf = {.nthreads = 1};
	uint8_t buf[64], a[64];
	size_t n;

	(void)state;
	if (!have_ipv6())
		skip();
	uint16_t port = free_port(AF_INET6, "::1");
	struct worker_pool *pool = start(AF_INET6, "::1", port, &conf);
	udp_roundtrip(AF_INET6, "::1", port);
	int fd = tcp_connect(AF_INET6, "::1", port);
	query(buf + 2, &n, 6, '6');
	buf[0] = 0;
	buf[1] = (uint8_t)n;
	assert_int_equal(send(fd, buf, n + 2, 0), (ssize_t)(n + 2));
	assert_int_equal(read_full(fd, a, n + 2), n + 2);
	assert_int_equal(rd16(a + 2), 6);
	close(fd);
	worker_pool_stop(pool);

	/* wildcard :: with V6ONLY: ::1 answered from ::1 */
	port = free_port(AF_INET6, "::");
	pool = start(AF_INET6, "::", port, &conf);
	udp_roundtrip(AF_INET6, "::1", port);
	worker_pool_stop(pool);
}

static void test_bind_errors(void **state)
{
	struct worker_conf conf = {.nthreads = 2};
	struct worker_listen l = {0};
	struct worker_pool *pool2 = NULL;
	char err[256], want[256];

	(void)state;
	uint16_t port = free_port(AF_INET, "127.0.0.1");
	struct worker_pool *pool = start(AF_INET, "127.0.0.1", port, &conf);

	/* a second server on the same address: refused, not shared */
	set_addr(&l.addr, &l.addrlen, AF_INET, "127.0.0.1", port);
	l.ctx = NULL;
	int r = worker_pool_start(&l, 1, &conf, echo, &pool2, err, sizeof(err));
	assert_int_equal(r, -EADDRINUSE);
	assert_null(pool2);
	snprintf(want, sizeof(want),
		 "listen udp 127.0.0.1:%u: bind: Address already in use",
		 (unsigned)port);
	assert_string_equal(err, want);
	worker_pool_stop(pool);

	/* TCP taken by someone else, UDP free */
	port = free_port(AF_INET, "127.0.0.1");
	struct sockaddr_storage ss;
	socklen_t sl;
	set_addr(&ss, &sl, AF_INET, "127.0.0.1", port);
	int t = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(bind(t, (struct sockaddr *)&ss, sl), 0);
	assert_int_equal(listen(t, 1), 0);
	set_addr(&l.addr, &l.addrlen, AF_INET, "127.0.0.1", port);
	r = worker_pool_start(&l, 1, &conf, echo, &pool2, err, sizeof(err));
	assert_int_equal(r, -EADDRINUSE);
	snprintf(want, sizeof(want),
		 "listen tcp 127.0.0.1:%u: bind: Address already in use",
		 (unsigned)port);
	assert_string_equal(err, want);
	close(t);

	/* an address this host does not have */
	set_addr(&l.addr, &l.addrlen, AF_INET, "192.0.2.1", port);
	r = worker_pool_start(&l, 1, &conf, echo, &pool2, err, sizeof(err));
	assert_int_equal(r, -EADDRNOTAVAIL);
	snprintf(want, sizeof(want),
		 "listen udp 192.0.2.1:%u: bind: Cannot assign requested "
		 "address",
		 (unsigned)port);
	assert_string_equal(err, want);
}

static void test_many_pools(void **state)
{
	(void)state;
	/* start and stop quickly, with the default thread count */
	for (int i = 0; i < 5; i++) {
		uint16_t port = free_port(AF_INET, "127.0.0.1");
		struct worker_pool *pool =
		    start(AF_INET, "127.0.0.1", port, NULL);
		udp_roundtrip(AF_INET, "127.0.0.1", port);
		worker_pool_stop(pool);
	}
	worker_pool_stop(NULL);
}

static void test_deferred(void **state)
{
	struct worker_conf conf = {.nthreads = 1};
	uint8_t q[64], a[512];
	size_t n;

	(void)state;
	atomic_store(&states_made, 0);
	atomic_store(&states_freed, 0);
	atomic_store(&later_sent, 0);
	uint16_t port = free_port(AF_INET, "127.0.0.1");
	struct worker_pool *pool = start(AF_INET, "127.0.0.1", port, &conf);

	/* UDP: the answer comes later, to the client, from our address */
	struct sockaddr_storage ss, from;
	socklen_t sl, fl = sizeof(from);
	set_addr(&ss, &sl, AF_INET, "127.0.0.1", port);
	int u = socket(AF_INET, SOCK_DGRAM, 0);
	query(q, &n, 0x0d01, 'D');
	assert_int_equal(sendto(u, q, n, 0, (struct sockaddr *)&ss, sl),
			 (ssize_t)n);
	assert_true(wait_readable(u, 5000));
	assert_int_equal(
	    recvfrom(u, a, sizeof(a), 0, (struct sockaddr *)&from, &fl),
	    (ssize_t)n);
	assert_int_equal(rd16(a), 0x0d01);
	assert_int_equal(a[3], 0);
	assert_memory_equal(&from, &ss, sl);
	close(u);

	/* TCP: a deferred query, then an immediate one: both answered,
	 * the immediate one first */
	int t = tcp_connect(AF_INET, "127.0.0.1", port);
	uint8_t buf[128];
	query(buf + 2, &n, 0x0d02, 'D');
	buf[0] = 0;
	buf[1] = (uint8_t)n;
	query(buf + 4 + n, &n, 0x0d03, 'n');
	buf[2 + n] = 0;
	buf[3 + n] = (uint8_t)n;
	assert_int_equal(send(t, buf, 2 * (n + 2), 0), (ssize_t)(2 * (n + 2)));
	assert_int_equal(read_full(t, a, 2 * (n + 2)), 2 * (n + 2));
	assert_int_equal(rd16(a + 2), 0x0d03);
	assert_int_equal(rd16(a + 4 + n), 0x0d02);
	assert_int_equal(a[7 + n], 1); /* TCP */

	/* the client leaves before its deferred answer: nothing breaks */
	query(buf + 2, &n, 0x0d04, 'D');
	assert_int_equal(send(t, buf, n + 2, 0), (ssize_t)(n + 2));
	close(t);
	for (int i = 0; i < 100 && atomic_load(&later_sent) < 3; i++)
		usleep(10000);
	assert_int_equal(atomic_load(&later_sent), 3);
	udp_roundtrip(AF_INET, "127.0.0.1", port);

	/* answers still pending when the pool stops are dropped, and the
	 * per-worker state is destroyed */
	t = tcp_connect(AF_INET, "127.0.0.1", port);
	query(buf + 2, &n, 0x0d05, 'K');
	assert_int_equal(send(t, buf, n + 2, 0), (ssize_t)(n + 2));
	u = socket(AF_INET, SOCK_DGRAM, 0);
	query(q, &n, 0x0d06, 'K');
	assert_int_equal(sendto(u, q, n, 0, (struct sockaddr *)&ss, sl),
			 (ssize_t)n);
	usleep(100000);
	assert_int_equal(atomic_load(&states_made), 1); /* one worker */
	worker_pool_stop(pool);
	assert_int_equal(atomic_load(&states_freed), 1);
	assert_false(wait_readable(u, 100));
	close(u);
	close(t);
}

/* A stream of answers (a zone transfer): sent in order behind what was
 * answered before, while the worker goes on answering others; freed once
 * sent, or when its client leaves. */
static void test_stream(void **state)
{
	struct worker_conf conf = {.nthreads = 1};
	uint8_t buf[128], a[STREAM_MSG + 2];
	size_t n;

	(void)state;
	atomic_store(&streams_done, 0);
	uint16_t port = free_port(AF_INET, "127.0.0.1");
	struct worker_pool *pool = start(AF_INET, "127.0.0.1", port, &conf);

	/* a stream, then an immediate answer pipelined behind it, to a
	 * client with a small window */
	struct sockaddr_storage ss;
	socklen_t sl;
	int small = 4096;
	set_addr(&ss, &sl, AF_INET, "127.0.0.1", port);
	int t = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(t >= 0);
	assert_int_equal(
	    setsockopt(t, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)), 0);
	assert_int_equal(connect(t, (struct sockaddr *)&ss, sl), 0);
	query(buf + 2, &n, 0x5101, 'S');
	buf[0] = 0;
	buf[1] = (uint8_t)n;
	query(buf + 4 + n, &n, 0x5102, 'n');
	buf[2 + n] = 0;
	buf[3 + n] = (uint8_t)n;
	assert_int_equal(send(t, buf, 2 * (n + 2), 0), (ssize_t)(2 * (n + 2)));
	assert_int_equal(read_full(t, a, n + 2), n + 2);
	assert_int_equal(rd16(a + 2), 0x5102);
	/* 9.6 MB the client does not read yet: the others are served */
	usleep(200000);
	udp_roundtrip(AF_INET, "127.0.0.1", port);
	int t2 = tcp_connect(AF_INET, "127.0.0.1", port);
	query(buf + 2, &n, 0x5103, 'n');
	assert_int_equal(send(t2, buf, n + 2, 0), (ssize_t)(n + 2));
	assert_int_equal(read_full(t2, a, n + 2), n + 2);
	assert_int_equal(rd16(a + 2), 0x5103);
	assert_int_equal(atomic_load(&streams_done), 0);
	/* then every message, whole and in order */
	for (int i = 0; i < STREAM_MSGS; i++) {
		assert_int_equal(read_full(t, a, STREAM_MSG + 2),
				 STREAM_MSG + 2);
		assert_int_equal(rd16(a), STREAM_MSG);
		assert_int_equal(rd16(a + 2), 0x5101);
		assert_int_equal(a[4], i);
		assert_int_equal(a[STREAM_MSG + 1], (uint8_t)i);
	}
	for (int i = 0; i < 100 && atomic_load(&streams_done) < 1; i++)
		usleep(10000);
	assert_int_equal(atomic_load(&streams_done), 1);
	/* the connection goes on */
	query(buf + 2, &n, 0x5104, 'n');
	assert_int_equal(send(t, buf, n + 2, 0), (ssize_t)(n + 2));
	assert_int_equal(read_full(t, a, n + 2), n + 2);
	assert_int_equal(rd16(a + 2), 0x5104);

	/* two streams on one connection whose client leaves mid-way: both
	 * are freed */
	query(buf + 2, &n, 0x5105, 'S');
	buf[0] = 0;
	buf[1] = (uint8_t)n;
	memcpy(buf + 2 + n, buf, n + 2);
	assert_int_equal(send(t, buf, 2 * (n + 2), 0), (ssize_t)(2 * (n + 2)));
	assert_int_equal(read_full(t, a, STREAM_MSG + 2), STREAM_MSG + 2);
	assert_int_equal(rd16(a + 2), 0x5105);
	close(t);
	for (int i = 0; i < 200 && atomic_load(&streams_done) < 3; i++)
		usleep(10000);
	assert_int_equal(atomic_load(&streams_done), 3);

	/* a client gone before its stream is ready: freed at once */
	t = tcp_connect(AF_INET, "127.0.0.1", port);
	query(buf + 2, &n, 0x5106, 'S');
	assert_int_equal(send(t, buf, n + 2, 0), (ssize_t)(n + 2));
	close(t);
	for (int i = 0; i < 200 && atomic_load(&streams_done) < 4; i++)
		usleep(10000);
	assert_int_equal(atomic_load(&streams_done), 4);
	udp_roundtrip(AF_INET, "127.0.0.1", port);
	close(t2);
	worker_pool_stop(pool);
}

/* worker_pool_forget destroys a module's per-worker state on the worker
 * while the pool runs: what it still held is answered then, and the next
 * use makes a fresh state. */
static void test_forget(void **state)
{
	struct worker_conf conf = {.nthreads = 1};
	uint8_t q[64], a[512];
	size_t n;

	(void)state;
	atomic_store(&states_made, 0);
	atomic_store(&states_freed, 0);
	uint16_t port = free_port(AF_INET, "127.0.0.1");
	struct worker_pool *pool = start(AF_INET, "127.0.0.1", port, &conf);
	struct sockaddr_storage ss;
	socklen_t sl;
	set_addr(&ss, &sl, AF_INET, "127.0.0.1", port);
	int u = socket(AF_INET, SOCK_DGRAM, 0);
	query(q, &n, 0x0f01, 'K'); /* never answered by itself */
	assert_int_equal(sendto(u, q, n, 0, (struct sockaddr *)&ss, sl),
			 (ssize_t)n);
	for (int i = 0; i < 100 && atomic_load(&states_made) < 1; i++)
		usleep(10000);
	assert_int_equal(atomic_load(&states_made), 1);
	assert_false(wait_readable(u, 50));

	worker_pool_forget(pool, &defer_key);
	assert_int_equal(atomic_load(&states_freed), 1);
	/* the state's destroy answered what it held, the pool running */
	assert_true(wait_readable(u, 2000));
	assert_true(recv(u, a, sizeof(a), 0) > 0);
	assert_int_equal(rd16(a), 0x0f01);

	/* forgetting a key no worker holds does nothing */
	worker_pool_forget(pool, &ctx_marker);
	assert_int_equal(atomic_load(&states_freed), 1);

	query(q, &n, 0x0f02, 'D');
	assert_int_equal(sendto(u, q, n, 0, (struct sockaddr *)&ss, sl),
			 (ssize_t)n);
	assert_true(wait_readable(u, 5000));
	assert_true(recv(u, a, sizeof(a), 0) > 0);
	assert_int_equal(rd16(a), 0x0f02);
	assert_int_equal(atomic_load(&states_made), 2);
	worker_pool_stop(pool);
	assert_int_equal(atomic_load(&states_freed), 2);
	close(u);
}

/* A pool marked shared binds beside another pool of the process on the
 * same address, and answers alone once the first one stops. */
static void test_shared_overlap(void **state)
{
	struct worker_conf conf = {.nthreads = 2};
	struct worker_listen l = {0};
	struct worker_pool *second = NULL;
	char err[256];

	(void)state;
	uint16_t port = free_port(AF_INET, "127.0.0.1");
	struct worker_pool *first = start(AF_INET, "127.0.0.1", port, &conf);
	set_addr(&l.addr, &l.addrlen, AF_INET, "127.0.0.1", port);
	l.ctx = &ctx_marker;
	l.shared = true;
	assert_int_equal(
	    worker_pool_start(&l, 1, &conf, echo, &second, err, sizeof(err)),
	    0);
	udp_roundtrip(AF_INET, "127.0.0.1", port);
	worker_pool_stop(first);
	for (int i = 0; i < 20; i++)
		udp_roundtrip(AF_INET, "127.0.0.1", port);
	int t = tcp_connect(AF_INET, "127.0.0.1", port);
	assert_true(t >= 0);
	close(t);
	worker_pool_stop(second);
	assert_int_equal(atomic_load(&bad_ctx), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_udp),
	    cmocka_unit_test(test_tcp_pipelined),
	    cmocka_unit_test(test_tcp_idle_and_limit),
	    cmocka_unit_test(test_tcp_limits),
	    cmocka_unit_test(test_tcp_counted),
	    cmocka_unit_test(test_tcp_backpressure),
	    cmocka_unit_test(test_wildcard_source),
	    cmocka_unit_test(test_ipv6),
	    cmocka_unit_test(test_bind_errors),
	    cmocka_unit_test(test_many_pools),
	    cmocka_unit_test(test_deferred),
	    cmocka_unit_test(test_stream),
	    cmocka_unit_test(test_forget),
	    cmocka_unit_test(test_shared_overlap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
