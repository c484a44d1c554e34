/*
 * worker.h -- the network side: worker threads, each with its own libevent
 * base and its own SO_REUSEPORT UDP and TCP sockets on every listen address,
 * passing each query to a handler and sending what it returns.
 */
#ifndef CLUSTERDNS_WORKER_H
#define CLUSTERDNS_WORKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct event_base;

/* The request a handler is answering (valid during the call only). */
struct worker_call;

/* An answer the handler left for later (worker_defer). */
struct worker_defer;

/* What a handler returns when it took the request over with worker_defer. */
#define WORKER_PENDING ((size_t)-1)

/*
 * Answer one request.  ctx is the listen address's ctx.  resp has room for
 * max bytes (65535 on TCP; on UDP the handler itself limits the answer to
 * what the client accepts).  Returns the response length, 0 to send nothing,
 * or WORKER_PENDING after worker_defer.  call identifies the request for
 * worker_defer and worker_local (NULL when a test calls the handler
 * directly).  Called on a worker thread; must not block.
 */
typedef size_t (*worker_handler)(void *ctx, const uint8_t *req, size_t len,
				 uint8_t *resp, size_t max, bool tcp,
				 const struct sockaddr *peer, socklen_t peerlen,
				 struct worker_call *call);

struct worker_listen {
	struct sockaddr_storage addr; /* address and port (not 0) to bind */
	socklen_t addrlen;
	void *ctx; /* passed to the handler for queries on this address */
	/* The address is bound by another pool of this process, which
	 * stops once this one runs (a reload): bind beside it with
	 * SO_REUSEPORT instead of checking that nobody holds it. */
	bool shared;
};

/* Zero fields take the defaults in parentheses. */
struct worker_conf {
	/* Threads (one per CPU). */
	unsigned nthreads;
	/* Idle TCP connections are closed (10000); only a complete query or
	 * bytes sent count as activity, so a stalled message does not. */
	unsigned tcp_idle_ms;
	/* Connections in all, across the threads (10000, or the open-file
	 * limit less what the pool and the rest of the process need, when
	 * that is lower); over it a new connection closes the oldest idle
	 * one of the pool (one with no answer in progress). */
	unsigned tcp_max_conns;
	/* Connections from one client address, an IPv4 address or an IPv6
	 * /64 (tcp_max_conns / 10, at least 1); over it a new connection
	 * is closed at once. */
	unsigned tcp_max_per_addr;
	/* Pipelined queries read ahead per connection: at most this many
	 * answers are in progress or queued for a client that does not read
	 * before the connection stops being read (64). */
	unsigned tcp_max_inflight;
	void (*thread_start)(void); /* run on each worker thread first */
	void (*thread_stop)(void);  /* and last */
};

struct worker_pool;

/*
 * Bind every listen address (UDP and TCP, one socket of each per thread with
 * SO_REUSEPORT) and start the threads.  Returns 0 with *out set, or a
 * negative errno with err naming the address that failed
 * ("listen tcp 127.0.0.1:53: bind: Address already in use"); an address
 * held by another process is reported even when that process also uses
 * SO_REUSEPORT.  conf may be NULL (all defaults).  Worker threads block
 * every signal; the handler runs on them.
 */
int worker_pool_start(const struct worker_listen *ls, size_t nls,
		      const struct worker_conf *conf, worker_handler handler,
		      struct worker_pool **out, char *err, size_t errlen);

/* Stop the threads, close every socket and free the pool. */
void worker_pool_stop(struct worker_pool *pool);

/*
 * Inside the handler: answer the current request later, with worker_answer
 * on the same worker thread (the handler then returns WORKER_PENDING).  The
 * worker keeps where the answer goes: the UDP peer and the local address
 * the query came to, or the TCP connection (which then is not idle, and
 * stops reading more queries while tcp_max_inflight answers are pending).
 * Allocates; returns NULL when call is NULL or memory is short (answer at
 * once instead).
 */
struct worker_defer *worker_defer(struct worker_call *call);

/*
 * Send the deferred answer (len bytes; 0: none) and free d.  On TCP the
 * length prefix is added; a connection that closed in the meantime gets
 * nothing.  Only on the worker thread that deferred, from its event loop.
 */
void worker_answer(struct worker_defer *d, const uint8_t *resp, size_t len);

/*
 * Send a deferred TCP answer made of several messages (a zone transfer) and
 * free d: buf holds len bytes of messages, each with its 2-byte length
 * prefix.  The worker takes buf and sends it from there as the client reads
 * (the connection is not read meanwhile, and is closed at the idle timeout
 * when the client stops reading); buf is freed with free() and done(arg)
 * called (on this worker thread; done may be NULL) once it is sent, the
 * connection closes, or at once when it cannot be sent (UDP, a closed
 * connection, the pool stopping; done then runs on the thread stopping
 * the pool).  Several streams of a connection go out one after another.
 * Only on the worker thread that deferred, from its event loop.
 */
void worker_answer_stream(struct worker_defer *d, uint8_t *buf, size_t len,
			  void (*done)(void *arg), void *arg);

/*
 * On every worker thread of pool, destroy the state kept under key by
 * worker_local (its destroy runs there; a later worker_local with the same
 * key creates it anew).  Returns when every worker has done it; call from
 * the control thread, while the pool runs.  Used before the module that
 * owns key is freed while the pool goes on (a reload).
 */
void worker_pool_forget(struct worker_pool *pool, const void *key);

/*
 * Per-worker state of another module, keyed by key: the state of the
 * calling worker, made by create(base, arg) on first use (base: the
 * worker's event loop, for the state's own sockets and timers).  When the
 * pool stops, destroy(state) runs after the thread has ended and before its
 * event loop is freed; it may still call worker_answer.  Returns NULL when
 * call is NULL, create fails, or a worker holds 8 states already.
 */
void *worker_local(struct worker_call *call, const void *key,
		   void *(*create)(struct event_base *base, void *arg),
		   void *arg, void (*destroy)(void *state));

#endif
