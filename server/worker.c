/*
 * worker.c -- worker threads: one libevent base per thread, one
 * SO_REUSEPORT UDP and TCP socket per listen address per thread.
 *
 * UDP: recvmmsg/sendmmsg batches into buffers allocated once per thread;
 * on wildcard addresses the reply leaves from the address the query came to
 * (IP_PKTINFO / IPV6_PKTINFO).
 *
 * TCP (RFC 7766): 2-byte framing, pipelined queries answered in order as
 * they are parsed, answers of one read written with one send() from a
 * per-thread buffer; only what the kernel does not take is queued on the
 * connection.  While answers are queued the connection is not read (the
 * client must read what it asked for).  A connection is closed when no
 * complete query arrived and no answer byte left for tcp_idle_ms, so a
 * partial message followed by silence (or a trickle) does not hold it.
 * Each connection's timeout is longer by a random tenth at most, so that
 * connections opened together (a client opening thousands at once and
 * reopening what is closed) do not all close, and come back, together:
 * a burst of closes and accepts holds the worker's UDP sockets back.
 * A zone transfer is a stream of messages built elsewhere: it is sent
 * from its own buffer as the client reads it, never copied, and counts
 * as queued answers (the connection is not read until it is sent).
 *
 * Connection limits (tcplimit): one budget for the whole pool, so the
 * uneven spread of SO_REUSEPORT does not matter, and a limit per client
 * address.  Each worker keeps its connections in order of last progress
 * and publishes the time of its oldest; a connection accepted over the
 * budget closes the oldest idle one of the pool (RFC 7766, 6.2.3): on this
 * worker at once, or on the worker holding it, asked through its eventfd.
 * Until that worker has, the pool may hold CONN_SLACK more.
 *
 * What the limits do is counted by reason on the worker that does it
 * (metrics.h: refused over a limit; closed as evicted, idle, slow or
 * unread) and, but for idle closes, logged as a warning naming the client,
 * at most one line per reason per TCP_LOG_MS for the whole pool.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* recvmmsg, sendmmsg, accept4, in6_pktinfo */
#endif
#include "server/worker.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <event2/event_struct.h>
#include <netinet/in.h>
#include <linux/sockios.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "server/log.h"
#include "server/metrics.h"
#include "server/tcplimit.h"

#define UDP_BATCH 32
#define UDP_RBUF 4096  /* largest UDP query read; longer ones dropped */
#define UDP_WBUF 65535 /* room for one UDP answer */
#define UDP_SOCKBUF (1024 * 1024)
#define TCP_MSG_MAX 65535
#define TCP_RBUF (96 * 1024) /* kept input + one read */
#define TCP_READ (16 * 1024) /* one read, unless a message needs more */
#define TCP_WBUF (2 * (TCP_MSG_MAX + 2)) /* answers of one batch */
#define TCP_BATCH (16 * 1024) /* a batch is sent once it holds this much */
#define TCP_IN_KEEP 4096      /* keep a connection's input buffer up to this */
#define ACCEPT_BATCH 64
#define ACCEPT_PAUSE_MS 100

#define DEFAULT_IDLE_MS 10000
#define DEFAULT_MAX_CONNS 10000
#define MIN_MAX_CONNS 16
#define FD_RESERVE 128	  /* files kept for all but TCP clients */
#define CONN_SLACK 32	  /* over the budget while the oldest idle ones close */
#define PER_ADDR_SHARE 10 /* one address: 1/10 of the budget by default */
#define EVICT_SCAN 64	  /* connections looked at for an idle one */
#define DEFAULT_MAX_INFLIGHT 64
#define TCP_LOG_MS 10000 /* at most one log line per cause in this time */
#define MAX_LOCALS 8

union ctlbuf {
	struct cmsghdr align;
	uint8_t buf[CMSG_SPACE(sizeof(struct in6_pktinfo)) +
		    CMSG_SPACE(sizeof(struct in_pktinfo))];
};

struct worker;

/* One socket of one worker. */
struct endpoint {
	struct worker *w;
	void *ctx;
	int fd;
	int family;
	bool tcp;
	bool wildcard;
	bool added;
	struct event ev;
	struct event pause; /* accept paused after EMFILE and the like */
};

struct stream {
	struct stream *next;
	uint8_t *buf;
	size_t off, len;
	void (*done)(void *arg);
	void *arg;
};

struct conn {
	struct conn *prev, *next; /* the worker's, latest progress first */
	struct worker *w;
	void *ctx;
	int fd;
	struct sockaddr_storage peer;
	socklen_t peerlen;
	struct event rev, wev, timer;
	uint64_t last_ms; /* last progress: a query read or bytes sent */
	unsigned idle_ms; /* its idle timeout: the pool's and a random tenth */
	uint8_t *in;	  /* unprocessed input (partial message) */
	size_t in_len, in_cap;
	uint8_t *out; /* answers the kernel did not take yet */
	size_t out_off, out_len, out_cap;
	/* Streams of answers (worker_answer_stream), in order, each sent
	 * from its own buffer: before out once its first byte left, else
	 * after what out holds. */
	struct stream *xs, **xs_tail;
	struct worker_defer *defers; /* answers the handler left for later */
	unsigned ndefer;
	bool reading, writing, eof, dead;
	struct tcplimit_key key; /* counted under this client address */
};

struct worker_call {
	struct worker *w;
	struct endpoint *ep;	/* UDP: the socket, */
	const struct msghdr *h; /* and the message received */
	struct conn *c;		/* TCP */
};

struct worker_defer {
	struct worker *w;
	struct worker_defer *prev, *next; /* on the connection (TCP) */
	struct conn *c; /* TCP: NULL once the connection closed */
	bool tcp;
	int fd; /* UDP: the socket the query came in on */
	struct sockaddr_storage peer;
	socklen_t peerlen;
	union ctlbuf ctl; /* UDP: the reply's source address */
	socklen_t ctllen;
};

struct local {
	const void *key;
	void *state;
	void (*destroy)(void *state);
};

struct worker {
	struct worker_pool *pool;
	pthread_t thread;
	uint32_t rng; /* xorshift32 state: the connections' timeout spread */
	bool started;
	struct event_base *base;
	int wakefd;
	struct event wake;
	bool wake_added;
	struct endpoint *eps;
	size_t neps;
	struct conn *conns, *tail; /* by last progress, latest first */
	unsigned nconns;
	/* last_ms of the tail (UINT64_MAX: none), read by other workers */
	_Atomic uint64_t oldest_ms;
	atomic_uint evict; /* others ask for this many idle ones closed */
	uint64_t now_ms;
	bool stopping; /* deferred answers are dropped */
	struct local locals[MAX_LOCALS];
	unsigned nlocals;
	/* Requests from the control thread, under mu: stop the loop, or
	 * destroy the local state of forget (worker_pool_forget). */
	pthread_mutex_t mu;
	pthread_cond_t done;
	bool mu_init;
	bool stop;
	const void *forget;

	/* UDP batch state, set up once. */
	struct mmsghdr rmsg[UDP_BATCH];
	struct mmsghdr smsg[UDP_BATCH];
	struct iovec riov[UDP_BATCH];
	struct iovec siov[UDP_BATCH];
	struct sockaddr_storage names[UDP_BATCH];
	union ctlbuf rctl[UDP_BATCH];
	union ctlbuf sctl[UDP_BATCH];
	uint8_t *udp_in;  /* UDP_BATCH * UDP_RBUF */
	uint8_t *udp_out; /* UDP_BATCH * UDP_WBUF */

	uint8_t *tcp_in;  /* TCP_RBUF */
	uint8_t *tcp_out; /* TCP_WBUF */
};

struct worker_pool {
	worker_handler handler;
	unsigned idle_ms;
	unsigned max_conns; /* in all; more close the oldest idle ones */
	unsigned max_per_addr;
	struct tcplimit *limit;
	unsigned max_inflight;
	/* the log lines of refusals, then of closes, one per reason */
	struct log_limit tcplog[METRICS_TCP_REFUSALS + METRICS_TCP_CLOSES];
	void (*thread_start)(void);
	void (*thread_stop)(void);
	struct worker *workers;
	unsigned nworkers;
};

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static struct timeval ms_tv(uint64_t ms)
{
	struct timeval tv = {(time_t)(ms / 1000),
			     (suseconds_t)(ms % 1000) * 1000};
	return tv;
}

/* ------------------------------------------------------------------ */
/* UDP */

/* Source address for the reply: where the query went. */
static socklen_t udp_reply_ctl(const struct msghdr *in, union ctlbuf *out)
{
	struct cmsghdr *c;

	for (c = CMSG_FIRSTHDR(in); c;
	     c = CMSG_NXTHDR((struct msghdr *)in, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;
			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			/* spec_dst: our address the query reached (for a
			 * broadcast, the interface's); routing picks the
			 * interface. */
			pi.ipi_ifindex = 0;
			memset(out, 0, sizeof(*out));
			struct cmsghdr *o = &out->align;
			o->cmsg_level = IPPROTO_IP;
			o->cmsg_type = IP_PKTINFO;
			o->cmsg_len = CMSG_LEN(sizeof(pi));
			memcpy(CMSG_DATA(o), &pi, sizeof(pi));
			return CMSG_SPACE(sizeof(pi));
		}
		if (c->cmsg_level == IPPROTO_IPV6 &&
		    c->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo pi;
			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			/* The interface matters only for link-local. */
			if (!IN6_IS_ADDR_LINKLOCAL(&pi.ipi6_addr))
				pi.ipi6_ifindex = 0;
			memset(out, 0, sizeof(*out));
			struct cmsghdr *o = &out->align;
			o->cmsg_level = IPPROTO_IPV6;
			o->cmsg_type = IPV6_PKTINFO;
			o->cmsg_len = CMSG_LEN(sizeof(pi));
			memcpy(CMSG_DATA(o), &pi, sizeof(pi));
			return CMSG_SPACE(sizeof(pi));
		}
	}
	return 0;
}

static void udp_send(int fd, struct mmsghdr *msgs, unsigned n)
{
	unsigned i = 0;

	while (i < n) {
		int r = sendmmsg(fd, msgs + i, n - i, MSG_DONTWAIT);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return; /* socket buffer full: drop */
			i++;		/* this one failed: skip it */
			continue;
		}
		i += r > 0 ? (unsigned)r : 1;
	}
}

static void udp_cb(evutil_socket_t fd, short what, void *arg)
{
	struct endpoint *ep = arg;
	struct worker *w = ep->w;
	worker_handler handler = w->pool->handler;

	(void)what;
	for (int round = 0; round < 16; round++) {
		for (unsigned i = 0; i < UDP_BATCH; i++) {
			struct msghdr *h = &w->rmsg[i].msg_hdr;
			h->msg_namelen = sizeof(w->names[i]);
			h->msg_control = ep->wildcard ? w->rctl[i].buf : NULL;
			h->msg_controllen =
			    ep->wildcard ? sizeof(w->rctl[i].buf) : 0;
			h->msg_flags = 0;
		}
		int n = recvmmsg(fd, w->rmsg, UDP_BATCH, MSG_DONTWAIT, NULL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return; /* EAGAIN, or an ICMP error: next event */
		}
		unsigned k = 0;
		struct worker_call call = {.w = w, .ep = ep};
		for (int i = 0; i < n; i++) {
			struct msghdr *h = &w->rmsg[i].msg_hdr;
			if (h->msg_flags & MSG_TRUNC)
				continue;
			uint8_t *resp = w->udp_out + (size_t)k * UDP_WBUF;
			call.h = h;
			size_t r =
			    handler(ep->ctx, w->riov[i].iov_base,
				    w->rmsg[i].msg_len, resp, UDP_WBUF, false,
				    h->msg_name, h->msg_namelen, &call);
			if (r == 0 || r > UDP_WBUF)
				continue;
			struct msghdr *s = &w->smsg[k].msg_hdr;
			w->siov[k].iov_base = resp;
			w->siov[k].iov_len = r;
			s->msg_name = h->msg_name;
			s->msg_namelen = h->msg_namelen;
			s->msg_control = NULL;
			s->msg_controllen = 0;
			if (ep->wildcard) {
				socklen_t cl = udp_reply_ctl(h, &w->sctl[k]);
				if (cl) {
					s->msg_control = w->sctl[k].buf;
					s->msg_controllen = cl;
				}
			}
			k++;
		}
		if (k)
			udp_send(fd, w->smsg, k);
		if (n < UDP_BATCH)
			return;
	}
}

/* ------------------------------------------------------------------ */
/* TCP */

static void conn_unlink(struct conn *c);
static void conn_push(struct conn *c);

/*
 * Tell the other workers how old this one's oldest idle connection is
 * (UINT64_MAX: none).  Connections waiting for answers at the tail are
 * not idle: they go to the front, as if they had made progress now.
 */
static void conn_publish(struct worker *w)
{
	struct conn *t = w->tail;

	for (int i = 0; i < EVICT_SCAN && t && t->ndefer && t != w->conns;
	     i++) {
		t->last_ms = w->now_ms;
		conn_unlink(t);
		conn_push(t);
		t = w->tail;
	}
	atomic_store_explicit(&w->oldest_ms,
			      t && t->ndefer == 0 ? t->last_ms : UINT64_MAX,
			      memory_order_relaxed);
}

static void conn_unlink(struct conn *c)
{
	struct worker *w = c->w;

	if (c->prev)
		c->prev->next = c->next;
	else
		w->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		w->tail = c->prev;
	c->prev = c->next = NULL;
}

static void conn_push(struct conn *c)
{
	struct worker *w = c->w;

	c->prev = NULL;
	c->next = w->conns;
	if (w->conns)
		w->conns->prev = c;
	else
		w->tail = c;
	w->conns = c;
}

/* Progress on c (a query read, bytes sent): not idle, and the latest. */
static void conn_touch(struct conn *c)
{
	struct worker *w = c->w;

	c->last_ms = w->now_ms;
	if (w->conns == c) {
		if (w->tail == c) /* the only one */
			conn_publish(w);
		return;
	}
	bool oldest = w->tail == c;
	conn_unlink(c);
	conn_push(c);
	if (oldest)
		conn_publish(w);
}

/* Are answers waiting for the kernel to take them? */
static inline bool conn_queued(const struct conn *c)
{
	return c->out_len != c->out_off || c->xs != NULL;
}

/* Free the first stream of c and say so to its owner. */
static void conn_stream_end(struct conn *c)
{
	struct stream *x = c->xs;

	c->xs = x->next;
	if (!c->xs)
		c->xs_tail = &c->xs;
	free(x->buf);
	if (x->done)
		x->done(x->arg);
	free(x);
}

static void conn_close(struct conn *c)
{
	struct worker *w = c->w;

	event_del(&c->rev);
	event_del(&c->wev);
	event_del(&c->timer);
	close(c->fd);
	for (struct worker_defer *d = c->defers; d; d = d->next)
		d->c = NULL; /* its answer will go nowhere */
	bool oldest = w->tail == c;
	conn_unlink(c);
	if (oldest)
		conn_publish(w);
	w->nconns--;
	tcplimit_put(w->pool->limit, &c->key);
	while (c->xs)
		conn_stream_end(c);
	free(c->in);
	free(c->out);
	free(c);
}

static void conn_want(struct conn *c, bool rd, bool wr)
{
	if (rd != c->reading) {
		if (rd ? event_add(&c->rev, NULL) : event_del(&c->rev))
			c->dead = true;
		c->reading = rd;
	}
	if (wr != c->writing) {
		if (wr ? event_add(&c->wev, NULL) : event_del(&c->wev))
			c->dead = true;
		c->writing = wr;
	}
}

static bool conn_queue(struct conn *c, const uint8_t *p, size_t n)
{
	if (c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	if (c->out_cap - c->out_len < n) {
		if (c->out_off) {
			memmove(c->out, c->out + c->out_off,
				c->out_len - c->out_off);
			c->out_len -= c->out_off;
			c->out_off = 0;
		}
		if (c->out_cap - c->out_len < n) {
			size_t cap = c->out_cap ? c->out_cap * 2 : 4096;
			while (cap - c->out_len < n)
				cap *= 2;
			uint8_t *b = realloc(c->out, cap);
			if (b == NULL)
				return false;
			c->out = b;
			c->out_cap = cap;
		}
	}
	memcpy(c->out + c->out_len, p, n);
	c->out_len += n;
	return true;
}

/* Send n bytes of answers: directly when nothing is queued, the rest (or
 * everything, behind a queue) is queued. */
static void conn_send(struct conn *c, const uint8_t *p, size_t n)
{
	if (n == 0 || c->dead)
		return;
	if (!conn_queued(c)) {
		ssize_t s;
		do {
			s = send(c->fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		} while (s < 0 && errno == EINTR);
		if (s < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				c->dead = true;
				return;
			}
			s = 0;
		}
		if (s > 0)
			conn_touch(c);
		p += s;
		n -= (size_t)s;
		if (n == 0)
			return;
	}
	if (!conn_queue(c, p, n))
		c->dead = true;
}

/* Is there a complete message at p? */
static inline bool msg_complete(const uint8_t *p, size_t len)
{
	return len >= 2 && len - 2 >= rd16(p);
}

/*
 * Answer the complete messages in buf, in order, until none is left or
 * answers got queued (the client is not reading).  Returns bytes consumed.
 */
static size_t conn_process(struct conn *c, const uint8_t *buf, size_t len)
{
	struct worker *w = c->w;
	worker_handler handler = w->pool->handler;
	uint8_t *out = w->tcp_out;
	unsigned max = w->pool->max_inflight;
	size_t off = 0, olen = 0;
	unsigned pending = 0;
	struct worker_call call = {.w = w, .c = c};

	while (!c->dead && c->ndefer < max &&
	       msg_complete(buf + off, len - off)) {
		size_t mlen = rd16(buf + off);
		if (TCP_WBUF - olen < TCP_MSG_MAX + 2 || olen >= TCP_BATCH ||
		    pending >= max) {
			conn_send(c, out, olen);
			olen = 0;
			pending = 0;
			if (conn_queued(c))
				break;
		}
		if (mlen) {
			size_t r = handler(c->ctx, buf + off + 2, mlen,
					   out + olen + 2, TCP_MSG_MAX, true,
					   (struct sockaddr *)&c->peer,
					   c->peerlen, &call);
			if (r > 0 && r <= TCP_MSG_MAX) {
				out[olen] = (uint8_t)(r >> 8);
				out[olen + 1] = (uint8_t)r;
				olen += r + 2;
				pending++;
			}
		}
		off += mlen + 2;
		conn_touch(c);
	}
	conn_send(c, out, olen);
	return off;
}

/* Keep n unprocessed bytes as the connection's input. */
static bool conn_keep(struct conn *c, const uint8_t *p, size_t n)
{
	if (n == 0) {
		c->in_len = 0;
		if (c->in_cap > TCP_IN_KEEP) {
			free(c->in);
			c->in = NULL;
			c->in_cap = 0;
		}
		return true;
	}
	if (c->in_cap < n) {
		size_t cap = n < TCP_IN_KEEP ? TCP_IN_KEEP : n;
		uint8_t *b = malloc(cap);
		if (b == NULL)
			return false;
		free(c->in);
		c->in = b;
		c->in_cap = cap;
	}
	memmove(c->in, p, n);
	c->in_len = n;
	return true;
}

/*
 * A connection from peer refused for why: counted, and logged unless a
 * line for why was written less than TCP_LOG_MS ago (the line then says
 * how many it stands for).
 */
static void tcp_refused(struct worker *w, enum metrics_tcp_refused why,
			const struct sockaddr *peer)
{
	struct worker_pool *pool = w->pool;
	char a[INET6_ADDRSTRLEN + 16];

	metrics_add(METRICS_G_TCP_REFUSED + why, 1);
	unsigned long long n =
	    log_limit_event(&pool->tcplog[why], w->now_ms, TCP_LOG_MS);
	if (n == 0)
		return;
	log_addr_str(peer, a, sizeof(a));
	if (why == METRICS_TCP_CLIENT_LIMIT)
		log_warn("tcp: refused %s: its address is at the limit of %u "
			 "connections per client address (%llu since the last "
			 "such line)",
			 a, pool->max_per_addr, n);
	else
		log_warn("tcp: refused %s: %u connections open, the most the "
			 "server holds, and no idle one closed in time for it "
			 "(%llu since the last such line)",
			 a, pool->max_conns + CONN_SLACK, n);
}

/* The server closes c for why: counted, and logged as tcp_refused does
 * (but for idle connections: closing them is routine). */
static void tcp_closed(struct conn *c, enum metrics_tcp_closed why)
{
	struct worker *w = c->w;
	struct worker_pool *pool = w->pool;
	char a[INET6_ADDRSTRLEN + 16];

	metrics_add(METRICS_G_TCP_CLOSED + why, 1);
	if (why == METRICS_TCP_IDLE)
		return;
	unsigned long long n = log_limit_event(
	    &pool->tcplog[METRICS_TCP_REFUSALS + why], w->now_ms, TCP_LOG_MS);
	if (n == 0)
		return;
	log_addr_str((const struct sockaddr *)&c->peer, a, sizeof(a));
	if (why == METRICS_TCP_EVICTED)
		log_warn(
		    "tcp: closed %s, the oldest idle connection, for a new "
		    "one over the limit of %u connections (%llu since the "
		    "last such line)",
		    a, pool->max_conns, n);
	else if (why == METRICS_TCP_SLOW)
		log_warn("tcp: closed %s: a query still partial after %u ms "
			 "without progress (%llu since the last such line)",
			 a, c->idle_ms, n);
	else
		log_warn("tcp: closed %s: answers left unread for %u ms "
			 "(%llu since the last such line)",
			 a, c->idle_ms, n);
}

/*
 * Close c for a new client (evict) or after the idle timeout, counted by
 * what it was doing then.  Answers still unsent (the client does not read
 * them) are dropped with a reset, so the kernel does not keep them for a
 * peer that never takes them.
 */
static void conn_drop(struct conn *c, bool evict)
{
	int unsent = 0;
	bool unread = conn_queued(c) ||
		      (ioctl(c->fd, SIOCOUTQNSD, &unsent) == 0 && unsent > 0);

	if (unread) {
		struct linger lg = {1, 0};
		setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	}
	tcp_closed(c, evict	  ? METRICS_TCP_EVICTED
		      : unread	  ? METRICS_TCP_UNREAD
		      : c->in_len ? METRICS_TCP_SLOW
				  : METRICS_TCP_IDLE);
	conn_close(c);
}

/* Decide what the connection waits for next, answering buffered queries
 * when the queue allows.  May close (and free) c. */
static void conn_run(struct conn *c)
{
	for (;;) {
		if (c->dead) {
			conn_close(c);
			return;
		}
		if (conn_queued(c)) {
			conn_want(c, false, true);
			if (c->dead)
				continue;
			return;
		}
		bool waiting = c->ndefer >= c->w->pool->max_inflight;
		if (!waiting && msg_complete(c->in, c->in_len)) {
			size_t used = conn_process(c, c->in, c->in_len);
			if (!conn_keep(c, c->in + used, c->in_len - used))
				c->dead = true;
			continue;
		}
		if (waiting || (c->eof && c->ndefer)) {
			/* worker_answer runs this again */
			conn_want(c, false, false);
			if (c->dead)
				continue;
			return;
		}
		if (c->eof) {
			conn_close(c);
			return;
		}
		conn_want(c, true, false);
		if (c->dead)
			continue;
		return;
	}
}

static void conn_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	struct worker *w = c->w;
	uint8_t *buf = w->tcp_in;
	size_t n0 = c->in_len;

	(void)what;
	w->now_ms = mono_ms();
	if (n0 >= TCP_RBUF) { /* cannot happen: input is a partial message */
		c->dead = true;
		conn_run(c);
		return;
	}
	if (n0)
		memcpy(buf, c->in, n0);
	/* Small reads bound what a client that does not read its answers
	 * leaves here; a long message is read whole. */
	size_t want = TCP_READ;
	if (n0 >= 2 && 2 + (size_t)rd16(buf) - n0 > want)
		want = 2 + (size_t)rd16(buf) - n0;
	if (want > TCP_RBUF - n0)
		want = TCP_RBUF - n0;
	ssize_t r = recv(fd, buf + n0, want, 0);
	if (r < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return;
		c->dead = true; /* reset */
		conn_run(c);
		return;
	}
	if (r == 0)
		c->eof = true; /* half-close: answer what came, then close */
	size_t len = n0 + (size_t)r;
	size_t used = conn_process(c, buf, len);
	if (!conn_keep(c, buf + used, len - used))
		c->dead = true;
	if (c->eof && !msg_complete(c->in, c->in_len))
		c->in_len = 0; /* a partial message will never complete */
	conn_run(c);
}

static void conn_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	struct worker *w = c->w;

	(void)what;
	w->now_ms = mono_ms();
	/* the first stream once it started or out is empty, else out */
	struct stream *x = c->xs;
	bool stream = x && (x->off || c->out_len == c->out_off);
	size_t n = stream ? x->len - x->off : c->out_len - c->out_off;
	ssize_t s = 0;
	if (n)
		s = send(fd, stream ? x->buf + x->off : c->out + c->out_off, n,
			 MSG_NOSIGNAL | MSG_DONTWAIT);
	if (s < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return;
		c->dead = true;
	} else if (s > 0) {
		conn_touch(c);
		if (stream && (x->off += (size_t)s) == x->len) {
			conn_stream_end(c);
		} else if (!stream && (c->out_off += (size_t)s) == c->out_len) {
			c->out_off = c->out_len = 0;
			if (c->out_cap > TCP_WBUF) {
				free(c->out);
				c->out = NULL;
				c->out_cap = 0;
			}
		}
	}
	conn_run(c);
}

static void conn_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	struct worker *w = c->w;
	unsigned idle = c->idle_ms;

	(void)fd;
	(void)what;
	w->now_ms = mono_ms();
	if (c->ndefer) /* waiting for answers is no idleness */
		conn_touch(c);
	uint64_t since = w->now_ms - c->last_ms;
	if (since >= idle) {
		conn_drop(c, false);
		return;
	}
	struct timeval tv = ms_tv(idle - since);
	if (evtimer_add(&c->timer, &tv) != 0)
		conn_close(c);
}

static void wake(struct worker *w);

static void accept_resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct endpoint *ep = arg;

	(void)fd;
	(void)what;
	if (event_add(&ep->ev, NULL) == 0)
		ep->added = true;
}

/*
 * Close up to n idle connections of w, the oldest first (none with an
 * answer in progress, nor except), looking at EVICT_SCAN at most.
 * Returns how many closed.
 */
static unsigned conn_evict(struct worker *w, unsigned n, struct conn *except)
{
	unsigned closed = 0;
	struct conn *c = w->tail;

	for (int i = 0; c && closed < n && i < EVICT_SCAN; i++) {
		struct conn *prev = c->prev;
		if (c != except && c->ndefer == 0) {
			conn_drop(c, true);
			closed++;
		}
		c = prev;
	}
	return closed;
}

/* The pool is over its budget since c came: close the oldest idle
 * connection, here or on the worker that holds it. */
static void conn_evict_oldest(struct worker *w, struct conn *c)
{
	struct worker_pool *pool = w->pool;
	struct worker *best = NULL;
	uint64_t best_ms = UINT64_MAX;

	for (unsigned i = 0; i < pool->nworkers; i++) {
		struct worker *o = &pool->workers[i];
		uint64_t ms;
		if (o == w && w->tail == c)
			ms = UINT64_MAX; /* c is all this one has */
		else
			ms = atomic_load_explicit(&o->oldest_ms,
						  memory_order_relaxed);
		if (ms < best_ms) {
			best_ms = ms;
			best = o;
		}
	}
	if (best == w) {
		conn_evict(w, 1, c);
	} else if (best) {
		atomic_fetch_add_explicit(&best->evict, 1,
					  memory_order_relaxed);
		wake(best);
	}
}

static void accept_cb(evutil_socket_t lfd, short what, void *arg)
{
	struct endpoint *ep = arg;
	struct worker *w = ep->w;

	(void)what;
	w->now_ms = mono_ms();
	for (int i = 0; i < ACCEPT_BATCH; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		int fd = accept4(lfd, (struct sockaddr *)&ss, &sl,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM) {
				/* Level-triggered: back off, or spin. */
				log_error("tcp accept: %s", strerror(errno));
				struct timeval tv = ms_tv(ACCEPT_PAUSE_MS);
				event_del(&ep->ev);
				ep->added = false;
				evtimer_add(&ep->pause, &tv);
			}
			return;
		}
		struct tcplimit_key key;
		int r =
		    tcplimit_take(w->pool->limit, (struct sockaddr *)&ss, &key);
		if (r < 0) {
			/* this address has its share, or the pool is full
			 * of connections with answers in progress */
			close(fd);
			tcp_refused(w,
				    r == -EUSERS ? METRICS_TCP_CLIENT_LIMIT
						 : METRICS_TCP_TOTAL_LIMIT,
				    (struct sockaddr *)&ss);
			continue;
		}
		struct conn *c = calloc(1, sizeof(*c));
		if (c == NULL) {
			tcplimit_put(w->pool->limit, &key);
			close(fd);
			continue;
		}
		c->key = key;
		c->w = w;
		c->ctx = ep->ctx;
		c->fd = fd;
		memcpy(&c->peer, &ss, sizeof(ss));
		c->peerlen = sl;
		c->last_ms = w->now_ms;
		c->idle_ms = tcplimit_idle_spread(&w->rng, w->pool->idle_ms);
		event_assign(&c->rev, w->base, fd, EV_READ | EV_PERSIST,
			     conn_read_cb, c);
		event_assign(&c->wev, w->base, fd, EV_WRITE | EV_PERSIST,
			     conn_write_cb, c);
		evtimer_assign(&c->timer, w->base, conn_timer_cb, c);
		struct timeval tv = ms_tv(c->idle_ms);
		conn_push(c);
		if (w->tail == c)
			conn_publish(w);
		w->nconns++;
		if (event_add(&c->rev, NULL) != 0 ||
		    evtimer_add(&c->timer, &tv) != 0) {
			conn_close(c);
			continue;
		}
		c->reading = true;
		if (tcplimit_total(w->pool->limit) > w->pool->max_conns)
			conn_evict_oldest(w, c);
	}
}

/* ------------------------------------------------------------------ */
/* Setup and teardown */

/* Destroy the local state kept under key, if any (on the worker). */
static void local_drop(struct worker *w, const void *key)
{
	for (unsigned i = 0; i < w->nlocals; i++) {
		if (w->locals[i].key != key)
			continue;
		struct local l = w->locals[i];
		w->locals[i] = w->locals[--w->nlocals];
		l.destroy(l.state);
		return;
	}
}

static void wake_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	uint64_t v;
	bool stop;

	(void)what;
	if (read(fd, &v, sizeof(v)) < 0) {
		/* Nothing to do: the flags below say what was asked. */
	}
	unsigned evict =
	    atomic_exchange_explicit(&w->evict, 0, memory_order_relaxed);
	if (evict) {
		w->now_ms = mono_ms();
		conn_evict(w, evict, NULL);
	}
	pthread_mutex_lock(&w->mu);
	if (w->forget) {
		local_drop(w, w->forget);
		w->forget = NULL;
		pthread_cond_broadcast(&w->done);
	}
	stop = w->stop;
	pthread_mutex_unlock(&w->mu);
	if (stop)
		event_base_loopbreak(w->base);
}

static void wake(struct worker *w)
{
	uint64_t one = 1;

	while (write(w->wakefd, &one, sizeof(one)) < 0 && errno == EINTR) {
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	/* metrics: this thread's counter block (none without a registry) */
	if (metrics_thread_enter() < 0)
		log_warn("metrics: no counters for a worker: out of memory");
	if (w->pool->thread_start)
		w->pool->thread_start();
	event_base_dispatch(w->base);
	if (w->pool->thread_stop)
		w->pool->thread_stop();
	metrics_thread_exit();
	return NULL;
}

static bool addr_wildcard(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ((const struct sockaddr_in *)ss)->sin_addr.s_addr ==
		       htonl(INADDR_ANY);
	if (ss->ss_family == AF_INET6)
		return IN6_IS_ADDR_UNSPECIFIED(
		    &((const struct sockaddr_in6 *)ss)->sin6_addr);
	return false;
}

static int sock_err(const struct worker_listen *l, bool tcp, const char *op,
		    int e, char *err, size_t errlen)
{
	char a[INET6_ADDRSTRLEN + 16];

	log_addr_str((const struct sockaddr *)&l->addr, a, sizeof(a));
	if (err && errlen)
		snprintf(err, errlen, "listen %s %s: %s: %s",
			 tcp ? "tcp" : "udp", a, op, strerror(e));
	return -e;
}

/*
 * Bind without SO_REUSEPORT first: fails when anything else (another
 * process's SO_REUSEPORT group included) holds the address, which
 * SO_REUSEPORT alone would silently share.
 */
static int probe_bind(const struct worker_listen *l, bool tcp, char *err,
		      size_t errlen)
{
	int one = 1;
	int fd = socket(l->addr.ss_family,
			(tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return sock_err(l, tcp, "socket", errno, err, errlen);
	if (l->addr.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (tcp) /* connections in TIME_WAIT do not count */
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	int r = 0;
	if (bind(fd, (const struct sockaddr *)&l->addr, l->addrlen) < 0)
		r = sock_err(l, tcp, "bind", errno, err, errlen);
	close(fd);
	return r;
}

static int open_socket(const struct worker_listen *l, bool tcp, char *err,
		       size_t errlen)
{
	int one = 1;
	int fam = l->addr.ss_family;
	int e;
	const char *op;

	int fd = socket(
	    fam,
	    (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return sock_err(l, tcp, "socket", errno, err, errlen);
	op = "setsockopt SO_REUSEPORT";
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0)
		goto fail;
	if (tcp) {
		op = "setsockopt SO_REUSEADDR";
		if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
			       sizeof(one)) < 0)
			goto fail;
		/* Inherited by accepted connections: each answer is one
		 * send(), so never wait for an ACK to send the next. */
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	if (fam == AF_INET6) {
		op = "setsockopt IPV6_V6ONLY";
		if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
			       sizeof(one)) < 0)
			goto fail;
	}
	if (!tcp) {
		/* Best effort (capped by net.core.rmem_max): bursts are
		 * queued, not dropped, while a batch is answered. */
		int size = UDP_SOCKBUF;
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	}
	if (!tcp && addr_wildcard(&l->addr)) {
		op = "setsockopt PKTINFO";
		if (fam == AF_INET6
			? setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one,
				     sizeof(one))
			: setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one,
				     sizeof(one)))
			goto fail;
	}
	op = "bind";
	if (bind(fd, (const struct sockaddr *)&l->addr, l->addrlen) < 0)
		goto fail;
	op = "listen";
	if (tcp && listen(fd, SOMAXCONN) < 0)
		goto fail;
	return fd;
fail:
	e = errno;
	close(fd);
	return sock_err(l, tcp, op, e, err, errlen);
}

static void worker_free(struct worker *w)
{
	w->stopping = true;
	while (w->conns)
		conn_close(w->conns);
	while (w->nlocals) {
		struct local *l = &w->locals[--w->nlocals];
		l->destroy(l->state);
	}
	for (size_t i = 0; i < w->neps; i++) {
		struct endpoint *ep = &w->eps[i];
		if (ep->fd < 0)
			continue;
		if (w->base) {
			event_del(&ep->ev);
			event_del(&ep->pause);
		}
		close(ep->fd);
	}
	if (w->wake_added)
		event_del(&w->wake);
	if (w->wakefd >= 0)
		close(w->wakefd);
	if (w->mu_init) {
		pthread_mutex_destroy(&w->mu);
		pthread_cond_destroy(&w->done);
		w->mu_init = false;
	}
	if (w->base)
		event_base_free(w->base);
	free(w->eps);
	free(w->udp_in);
	free(w->udp_out);
	free(w->tcp_in);
	free(w->tcp_out);
}

static int worker_init(struct worker *w, struct worker_pool *pool,
		       const struct worker_listen *ls, size_t nls, char *err,
		       size_t errlen)
{
	struct event_config *cfg = NULL;
	int r = -ENOMEM;

	w->pool = pool;
	w->wakefd = -1;
	/* any non-zero seed: the spread only needs to differ by connection */
	w->rng = (uint32_t)(uintptr_t)w ^ (uint32_t)mono_ms() ^ 0x9e3779b9u;
	if (!w->rng)
		w->rng = 1;
	atomic_init(&w->oldest_ms, UINT64_MAX);
	atomic_init(&w->evict, 0);
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->done, NULL);
	w->mu_init = true;
	w->eps = calloc(nls * 2, sizeof(*w->eps));
	w->udp_in = malloc((size_t)UDP_BATCH * UDP_RBUF);
	w->udp_out = malloc((size_t)UDP_BATCH * UDP_WBUF);
	w->tcp_in = malloc(TCP_RBUF);
	w->tcp_out = malloc(TCP_WBUF);
	if (!w->eps || !w->udp_in || !w->udp_out || !w->tcp_in || !w->tcp_out)
		goto fail_msg;
	for (size_t i = 0; i < nls * 2; i++)
		w->eps[i].fd = -1;

	/* Only this worker's thread touches its base: no locks. */
	cfg = event_config_new();
	if (cfg == NULL)
		goto fail_msg;
	event_config_set_flag(cfg, EVENT_BASE_FLAG_NOLOCK);
	/* UDP first: TCP work (a burst of idle timeouts, accepts) runs 16
	 * callbacks at a time between looks at the UDP sockets. */
	event_config_set_max_dispatch_interval(cfg, NULL, 16, 1);
	w->base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	if (w->base == NULL || event_base_priority_init(w->base, 2) != 0)
		goto fail_msg;

	w->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->wakefd < 0) {
		r = -errno;
		snprintf(err, errlen, "eventfd: %s", strerror(errno));
		goto fail;
	}
	event_assign(&w->wake, w->base, w->wakefd, EV_READ | EV_PERSIST,
		     wake_cb, w);
	if (event_add(&w->wake, NULL) != 0)
		goto fail_msg;
	w->wake_added = true;

	for (unsigned i = 0; i < UDP_BATCH; i++) {
		w->riov[i].iov_base = w->udp_in + (size_t)i * UDP_RBUF;
		w->riov[i].iov_len = UDP_RBUF;
		w->rmsg[i].msg_hdr.msg_name = &w->names[i];
		w->rmsg[i].msg_hdr.msg_iov = &w->riov[i];
		w->rmsg[i].msg_hdr.msg_iovlen = 1;
		w->smsg[i].msg_hdr.msg_iov = &w->siov[i];
		w->smsg[i].msg_hdr.msg_iovlen = 1;
	}

	for (size_t i = 0; i < nls; i++) {
		for (int t = 0; t < 2; t++) {
			struct endpoint *ep = &w->eps[w->neps];
			bool tcp = t == 1;
			int fd = open_socket(&ls[i], tcp, err, errlen);
			if (fd < 0) {
				r = fd;
				goto fail;
			}
			w->neps++;
			ep->w = w;
			ep->ctx = ls[i].ctx;
			ep->fd = fd;
			ep->family = ls[i].addr.ss_family;
			ep->tcp = tcp;
			ep->wildcard = addr_wildcard(&ls[i].addr);
			event_assign(&ep->ev, w->base, fd, EV_READ | EV_PERSIST,
				     tcp ? accept_cb : udp_cb, ep);
			evtimer_assign(&ep->pause, w->base, accept_resume_cb,
				       ep);
			if (!tcp)
				event_priority_set(&ep->ev, 0);
			if (event_add(&ep->ev, NULL) != 0)
				goto fail_msg;
			ep->added = true;
		}
	}
	return 0;
fail_msg:
	snprintf(err, errlen, "worker setup: %s", strerror(ENOMEM));
	r = -ENOMEM;
fail:
	return r;
}

static void pool_free(struct worker_pool *pool)
{
	for (unsigned i = 0; i < pool->nworkers; i++)
		worker_free(&pool->workers[i]);
	free(pool->workers);
	tcplimit_free(pool->limit);
	free(pool);
}

static void pool_join(struct worker_pool *pool)
{
	for (unsigned i = 0; i < pool->nworkers; i++) {
		struct worker *w = &pool->workers[i];
		if (!w->started)
			continue;
		pthread_mutex_lock(&w->mu);
		w->stop = true;
		pthread_mutex_unlock(&w->mu);
		wake(w);
	}
	for (unsigned i = 0; i < pool->nworkers; i++) {
		struct worker *w = &pool->workers[i];
		if (w->started)
			pthread_join(w->thread, NULL);
		w->started = false;
	}
}

/* The connection budget: DEFAULT_MAX_CONNS, or what the open-file limit
 * leaves for clients after the pool's own sockets and FD_RESERVE. */
static unsigned default_max_conns(size_t nls, unsigned nthreads)
{
	struct rlimit rl;
	unsigned max = DEFAULT_MAX_CONNS;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
	    rl.rlim_cur != RLIM_INFINITY) {
		uint64_t used = FD_RESERVE + CONN_SLACK +
				(uint64_t)nls * 2 * nthreads + 2 * nthreads;
		uint64_t left = rl.rlim_cur > used ? rl.rlim_cur - used : 0;
		if (left < max)
			max = left < MIN_MAX_CONNS ? MIN_MAX_CONNS
						   : (unsigned)left;
	}
	return max;
}

int worker_pool_start(const struct worker_listen *ls, size_t nls,
		      const struct worker_conf *conf, worker_handler handler,
		      struct worker_pool **out, char *err, size_t errlen)
{
	struct worker_pool *pool;
	char dummy[1];
	int r;

	if (err == NULL || errlen == 0) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	err[0] = 0;
	*out = NULL;
	if (handler == NULL || (nls > 0 && ls == NULL)) {
		snprintf(err, errlen, "worker pool: bad arguments");
		return -EINVAL;
	}
	for (size_t i = 0; i < nls; i++) {
		for (int t = 0; t < 2 && !ls[i].shared; t++) {
			r = probe_bind(&ls[i], t == 1, err, errlen);
			if (r < 0)
				return r;
		}
	}

	pool = calloc(1, sizeof(*pool));
	if (pool == NULL)
		goto fail_nomem;
	pool->handler = handler;
	pool->idle_ms =
	    conf && conf->tcp_idle_ms ? conf->tcp_idle_ms : DEFAULT_IDLE_MS;
	pool->max_inflight = conf && conf->tcp_max_inflight
				 ? conf->tcp_max_inflight
				 : DEFAULT_MAX_INFLIGHT;
	pool->thread_start = conf ? conf->thread_start : NULL;
	pool->thread_stop = conf ? conf->thread_stop : NULL;
	unsigned n = conf ? conf->nthreads : 0;
	if (n == 0) {
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);
		n = cpus > 0 ? (unsigned)cpus : 1;
	}
	pool->max_conns = conf && conf->tcp_max_conns
			      ? conf->tcp_max_conns
			      : default_max_conns(nls, n);
	pool->max_per_addr = conf && conf->tcp_max_per_addr
				 ? conf->tcp_max_per_addr
				 : pool->max_conns / PER_ADDR_SHARE;
	if (pool->max_per_addr == 0)
		pool->max_per_addr = 1;
	pool->workers = calloc(n, sizeof(*pool->workers));
	if (pool->workers == NULL ||
	    tcplimit_new(pool->max_conns + CONN_SLACK, pool->max_per_addr,
			 &pool->limit) < 0) {
		free(pool->workers);
		free(pool);
		goto fail_nomem;
	}
	/* Counted before init so a failed init is freed with the rest. */
	pool->nworkers = n;
	for (unsigned i = 0; i < n; i++) {
		r = worker_init(&pool->workers[i], pool, ls, nls, err, errlen);
		if (r < 0) {
			for (unsigned j = i + 1; j < n; j++)
				pool->workers[j].wakefd = -1;
			goto fail;
		}
	}

	/* Workers take no signals: the control thread handles them. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (unsigned i = 0; i < n; i++) {
		struct worker *w = &pool->workers[i];
		r = pthread_create(&w->thread, NULL, worker_main, w);
		if (r != 0) {
			pthread_sigmask(SIG_SETMASK, &old, NULL);
			snprintf(err, errlen, "worker thread: %s", strerror(r));
			r = -r;
			goto fail;
		}
		w->started = true;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	*out = pool;
	return 0;

fail:
	pool_join(pool);
	pool_free(pool);
	return r;
fail_nomem:
	snprintf(err, errlen, "worker pool: %s", strerror(ENOMEM));
	return -ENOMEM;
}

void worker_pool_stop(struct worker_pool *pool)
{
	if (pool == NULL)
		return;
	pool_join(pool);
	pool_free(pool);
}

/* ------------------------------------------------------------------ */
/* Deferred answers and per-worker state */

struct worker_defer *worker_defer(struct worker_call *call)
{
	if (call == NULL)
		return NULL;
	struct worker_defer *d = calloc(1, sizeof(*d));
	if (d == NULL)
		return NULL;
	d->w = call->w;
	if (call->c) {
		struct conn *c = call->c;
		d->tcp = true;
		d->c = c;
		d->next = c->defers;
		if (c->defers)
			c->defers->prev = d;
		c->defers = d;
		c->ndefer++;
		return d;
	}
	const struct msghdr *h = call->h;
	d->fd = call->ep->fd;
	d->peerlen = h->msg_namelen <= sizeof(d->peer) ? h->msg_namelen
						       : sizeof(d->peer);
	memcpy(&d->peer, h->msg_name, d->peerlen);
	if (call->ep->wildcard)
		d->ctllen = udp_reply_ctl(h, &d->ctl);
	return d;
}

static void defer_tcp(struct worker_defer *d, const uint8_t *resp, size_t len)
{
	struct conn *c = d->c;
	struct worker *w = d->w;

	if (d->prev)
		d->prev->next = d->next;
	else
		c->defers = d->next;
	if (d->next)
		d->next->prev = d->prev;
	c->ndefer--;
	w->now_ms = mono_ms();
	conn_touch(c);
	if (len > 0 && len <= TCP_MSG_MAX) {
		w->tcp_out[0] = (uint8_t)(len >> 8);
		w->tcp_out[1] = (uint8_t)len;
		memcpy(w->tcp_out + 2, resp, len);
		conn_send(c, w->tcp_out, len + 2);
	}
	conn_run(c); /* may read on, or close */
}

void worker_answer_stream(struct worker_defer *d, uint8_t *buf, size_t len,
			  void (*done)(void *arg), void *arg)
{
	struct conn *c = d ? d->c : NULL;
	struct stream *x = NULL;

	if (d == NULL || d->w->stopping || !d->tcp || c == NULL || len == 0 ||
	    c->dead || !(x = calloc(1, sizeof(*x)))) {
		free(buf);
		if (done)
			done(arg);
		worker_answer(d, NULL, 0);
		return;
	}
	x->buf = buf;
	x->len = len;
	x->done = done;
	x->arg = arg;
	if (!c->xs)
		c->xs_tail = &c->xs;
	*c->xs_tail = x;
	c->xs_tail = &x->next;
	defer_tcp(d, NULL, 0); /* unlinks d; conn_run starts the writes */
	free(d);
}

void worker_answer(struct worker_defer *d, const uint8_t *resp, size_t len)
{
	if (d == NULL)
		return;
	if (d->w->stopping) {
		/* connections are gone; nothing is sent any more */
	} else if (d->tcp) {
		if (d->c)
			defer_tcp(d, resp, len);
	} else if (len > 0 && len <= UDP_WBUF) {
		struct iovec iov = {(void *)resp, len};
		struct msghdr m = {
		    .msg_name = &d->peer,
		    .msg_namelen = d->peerlen,
		    .msg_iov = &iov,
		    .msg_iovlen = 1,
		    .msg_control = d->ctllen ? d->ctl.buf : NULL,
		    .msg_controllen = d->ctllen,
		};
		while (sendmsg(d->fd, &m, MSG_DONTWAIT) < 0 && errno == EINTR) {
		}
	}
	free(d);
}

void worker_pool_forget(struct worker_pool *pool, const void *key)
{
	if (pool == NULL)
		return;
	for (unsigned i = 0; i < pool->nworkers; i++) {
		struct worker *w = &pool->workers[i];
		if (!w->started)
			continue;
		pthread_mutex_lock(&w->mu);
		w->forget = key;
		wake(w);
		while (w->forget)
			pthread_cond_wait(&w->done, &w->mu);
		pthread_mutex_unlock(&w->mu);
	}
}

void *worker_local(struct worker_call *call, const void *key,
		   void *(*create)(struct event_base *base, void *arg),
		   void *arg, void (*destroy)(void *state))
{
	if (call == NULL)
		return NULL;
	struct worker *w = call->w;
	for (unsigned i = 0; i < w->nlocals; i++)
		if (w->locals[i].key == key)
			return w->locals[i].state;
	if (w->nlocals == MAX_LOCALS)
		return NULL;
	void *state = create(w->base, arg);
	if (state == NULL)
		return NULL;
	w->locals[w->nlocals++] = (struct local){key, state, destroy};
	return state;
}
