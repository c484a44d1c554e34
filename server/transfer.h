/*
 * transfer.h -- the transfer directive: outgoing zone transfers (AXFR, and
 * IXFR answered with the whole zone) of a block's cluster zones to the
 * addresses it names.
 *
 * A worker that gets a transfer it may answer defers it (worker.h) and
 * queues it here; the control thread, which owns the zone's writer side,
 * builds every message of the transfer at once from kube_each_zone_rr (so
 * the records and the SOA serial are one snapshot, taken between two
 * changes of the zone), and hands the messages back to the worker, which
 * sends them as the client reads them (worker_answer_stream).  At most
 * TRANSFER_MAX_ACTIVE transfers are queued, built or being sent in the
 * whole process; more get SERVFAIL.
 */
#ifndef CLUSTERDNS_TRANSFER_H
#define CLUSTERDNS_TRANSFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "server/corefile.h"

struct event_base;
struct kube;
struct setup;
struct worker_call;

#define TRANSFER_MAX_ACTIVE 10
/* The largest message of a transfer: 16 KiB keeps every name of a message
 * within reach of a compression pointer. */
#define TRANSFER_MSG_MAX 16384

/* An address of `to`: any (`*`), or a network of bits bits. */
struct transfer_to {
	int family; /* AF_INET, AF_INET6; 0: every address */
	unsigned bits;
	uint8_t addr[16];
};

/* One transfer directive: its zones (lowercase wire names) and whom they
 * go to. */
struct transfer_xfr {
	uint8_t (*zones)[256];
	size_t *zlen;
	size_t nzones;
	struct transfer_to *to;
	size_t nto;
};

/* Every transfer directive of a server block. */
struct transfer_conf {
	struct transfer_xfr *xfrs;
	size_t nxfrs;
};

/*
 * Setup of `transfer [ZONE...] { to ADDRESS... }` (setup.h): ZONE defaults
 * to the server block's zones; ADDRESS is `*`, an IP address, IP:PORT,
 * [IPv6]:PORT (the port is accepted and not used: no NOTIFY is sent) or a
 * CIDR (our extension); `to` may be given several times, and so may
 * transfer itself.  Adds to c->block->transfer.  Returns 0, -EINVAL with
 * c->err set, or -ENOMEM.
 */
int transfer_setup(struct setup *c, const struct corefile_dir *d);

void transfer_conf_free(struct transfer_conf *t);

/* May peer have the zone lname (lowercase wire, len bytes)?  The transfer
 * directive whose zone is the longest one holding lname decides, as in
 * CoreDNS; false when none holds it. */
bool transfer_conf_allows(const struct transfer_conf *t, const uint8_t *lname,
			  size_t len, const struct sockaddr *peer);

/* The serial of the SOA in the authority section of an IXFR request (len
 * bytes, packet_parse'd already) in *serial.  Returns 0, or -EINVAL when
 * there is none. */
int transfer_ixfr_serial(const uint8_t *req, size_t len, uint32_t *serial);

/* Is serial a older than b (RFC 1982)? */
bool transfer_serial_older(uint32_t a, uint32_t b);

/*
 * The messages of a full transfer of zone i of k (writer side: the control
 * thread, or a thread that owns k), answering the request req whose
 * header and question are its first qend bytes: the SOA, every other
 * record of the zone, the SOA again, in messages of at most msg_max bytes
 * (0: TRANSFER_MSG_MAX) with names compressed, each preceded by its 2-byte
 * length.  The first message echoes the question, the others have none;
 * all have the request's ID, QR, AA, its RD and CD, and, when opt_size is
 * not 0 (the request had EDNS), an OPT of that UDP size.  *out gets the buffer
 * (the caller frees it) of *len bytes; *nrr the records, *serial the SOA's.
 * Returns 0, -EINVAL (no such zone, a record that does not fit a message),
 * or -ENOMEM.
 */
int transfer_build(const struct kube *k, size_t i, const uint8_t *req,
		   size_t qend, uint16_t opt_size, size_t msg_max,
		   uint8_t **out, size_t *len, size_t *nrr, uint32_t *serial);

/* ---- serving transfers ---- */

struct transfer;

/* The transfers of conf (kept, not copied) for the zones of k, queued on
 * base (the control thread's loop).  Returns NULL on failure. */
struct transfer *transfer_new(const struct transfer_conf *conf, struct kube *k,
			      struct event_base *base);

/* Free t; worker_pool_forget(pool, t) must have run on the pool that used
 * it (or the pool stopped), so no transfer of t is queued. */
void transfer_free(struct transfer *t);

/* transfer_conf_allows for t's conf (worker threads). */
bool transfer_allows(const struct transfer *t, const uint8_t *lname, size_t len,
		     const struct sockaddr *peer);

/*
 * Inside the worker handler, for a TCP request allowed by transfer_allows:
 * defer it and queue it for the control thread, which builds the transfer
 * of the zone lname (lowercase wire, len bytes: an apex of k) and gives it
 * back to this worker to send.  req's first qend bytes are its header and
 * question, opt_size the UDP size of the OPT of every message (0: none,
 * for a request without EDNS); fail (fail_len bytes) is the answer sent
 * when the transfer
 * cannot be built after all (SERVFAIL).  peer names the client in the log.
 * Returns 0 (the handler returns WORKER_PENDING), -EBUSY with
 * TRANSFER_MAX_ACTIVE transfers in progress, or -ENOMEM.
 */
int transfer_start(struct transfer *t, const uint8_t *lname, size_t len,
		   const uint8_t *req, size_t qend, uint16_t opt_size,
		   const uint8_t *fail, size_t fail_len,
		   const struct sockaddr *peer, struct worker_call *call);

#endif
