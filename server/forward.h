/*
 * forward.h -- the forward plugin: queries the cluster does not answer go to
 * upstream servers over UDP (TCP when the answer is truncated, the client
 * came over TCP, or force_tcp), from the workers' own event loops.
 *
 * Each worker has its own connected UDP socket per upstream (replaced after
 * `expire`, so the source port changes) and a table of its queries in
 * flight.  Every upstream query gets a fresh random ID; an answer counts
 * only when it comes from the upstream's address (connected socket) with
 * that ID and the same question, so a spoofed answer is ignored and the
 * real one still awaited.  An attempt that gets no answer within 2 s, or
 * fails, moves on to the next upstream (policy order, upstreams that failed
 * their health checks skipped); after 5 s, or two rounds of every
 * upstream, the query fails.  A failed attempt starts health checks of that
 * upstream (`. IN NS` every health_check on the control thread) until one
 * passes; more than max_fails failed checks mark it down.
 */
#ifndef CLUSTERDNS_FORWARD_H
#define CLUSTERDNS_FORWARD_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "server/corefile.h"
#include "server/worker.h"

struct event_base;
struct forward;
struct setup;

enum forward_policy {
	FORWARD_POLICY_RANDOM = 0,
	FORWARD_POLICY_ROUND_ROBIN,
	FORWARD_POLICY_SEQUENTIAL,
};

#define FORWARD_MAX_UPSTREAMS 15

/* The forward directive: `forward FROM TO... { options }`. */
struct forward_conf {
	char **from; /* FROM as zones (a CIDR may give several); "" = root */
	size_t nfrom;
	char **except; /* except ZONES... */
	size_t nexcept;
	/* the upstreams: IP[:PORT] (dns:// allowed, port 53 by default) and
	 * the nameservers of resolv.conf-style files, in order, 1..15 */
	struct sockaddr_storage to[FORWARD_MAX_UPSTREAMS];
	socklen_t tolen[FORWARD_MAX_UPSTREAMS];
	size_t nto;
	bool force_tcp;
	bool prefer_udp;
	enum forward_policy policy; /* default random */
	uint64_t health_check_ms;   /* default 500; 0: no health checks */
	bool health_no_rec;	    /* health_check ... no_rec */
	char *health_domain;	    /* health_check ... domain NAME; "" = . */
	uint32_t max_fails;	    /* default 2; 0: never down */
	uint64_t expire_ms;	    /* default 10000 */
	uint32_t max_concurrent;    /* 0: no limit */
	char *file;		    /* where the directive is */
	int line;
};

/*
 * Setup of `forward FROM TO... [{ options }]` (setup.h): the conf goes to
 * c->block->fwd (freed with the block).  TO is IP[:PORT] or a
 * resolv.conf-style file; options as in CoreDNS (except, force_tcp,
 * prefer_udp, policy, health_check, expire, max_fails, max_concurrent).
 * One per block.  Returns 0 or a negative errno with c->err set.
 */
int forward_setup(struct setup *c, const struct corefile_dir *d);

/* Free f and what it holds (NULL is fine). */
void forward_conf_free(struct forward_conf *f);

/* Make a forwarder from its directive.  Returns NULL with err set on bad
 * input (zones that are no DNS names) or allocation failure. */
struct forward *forward_new(const struct forward_conf *cf, char *err,
			    size_t errlen);

/* Start the health checker on the control thread's event loop (base).
 * Returns 0 or -ENOMEM. */
int forward_start(struct forward *f, struct event_base *base);

/* Free f: after the worker pool stopped (which cancels every query in
 * flight) and on the control thread. */
void forward_free(struct forward *f);

/* Does f forward lname (lowercase wire name of len bytes): under FROM and
 * not under an except zone? */
bool forward_match(const struct forward *f, const uint8_t *lname, size_t len);

/* What to ask upstream. */
struct forward_req {
	const uint8_t *qname; /* wire, uncompressed, sent as is */
	size_t qname_len;
	uint16_t qtype, qclass;
	bool rd, cd, do_bit; /* copied into the upstream query */
	bool tcp;	     /* the client asked over TCP */
	/* when not NULL: set to the index of each upstream the query is sent
	 * to (for the loop plugin's message) */
	atomic_int *note_upstream;
};

/*
 * The end of a forwarded query, on the worker thread, from its event loop:
 * status 0 with ans (len bytes, valid during the call) the upstream's
 * answer, checked: ID, question, well-formed sections; -ETIMEDOUT when
 * every attempt failed; -ECANCELED when the worker stops (ans NULL).
 */
typedef void (*forward_done)(void *arg, int status, const uint8_t *ans,
			     size_t len);

/*
 * Inside the worker handler (call): send r upstream; done(arg, ...) is
 * called exactly once, later.  Returns 0, -EBUSY when max_concurrent
 * queries are in flight already (answer REFUSED), -ENOMEM or -EINVAL (no
 * worker call; answer SERVFAIL); done is not called then.
 */
int forward_query(struct forward *f, struct worker_call *call,
		  const struct forward_req *r, forward_done done, void *arg);

/* "127.0.0.1:53": upstream i of f, for messages. */
const char *forward_upstream_name(const struct forward *f, int i);

/* Make (or find again) the coredns_proxy_* series of f's upstreams
 * (proxy_name "forward"); on the control thread, before the workers see f.
 * Without it (or without a registry) f counts nothing. */
void forward_metrics(struct forward *f);

/* Queries of f in flight over every worker. */
unsigned forward_inflight(const struct forward *f);

#endif
