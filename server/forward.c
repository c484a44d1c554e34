/*
 * forward.c -- forwarding to upstream servers from the workers' event loops
 * (see forward.h), and the health checker on the control thread.
 *
 * A query in flight (struct fwd_query) belongs to one worker: its state, its
 * sockets and its timer live on that worker's event loop, so nothing here
 * locks.  What workers share is read-only configuration, the upstreams'
 * health (atomics, written by the health checker) and the count of queries
 * in flight for max_concurrent (an atomic).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "server/forward.h"

#include <errno.h>
#include <event2/event.h>
#include <event2/event_struct.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "server/config.h"
#include "server/log.h"
#include "server/metrics.h"
#include "server/packet.h"
#include "server/setup.h"
#include "server/upstream.h"
#include "zones/dname.h"

#define ATTEMPT_MS 2000	 /* one upstream's time to answer */
#define DEADLINE_MS 5000 /* the whole query's */
#define HC_TIMEOUT_MS 1000
#define QHASH 1024
#define QMSG_MAX 300 /* header, question, OPT */
#define UDP_ANSWER_MAX 65535
#define EDNS_SIZE 1232
#define T_NS 2
#define CLASS_IN 1

struct fwd_worker;

/* A connected UDP socket to one upstream, shared by a worker's queries. */
struct fwd_sock {
	struct fwd_worker *fw;
	struct fwd_sock *next; /* every socket of the worker */
	unsigned up;
	int fd;
	struct event ev;
	uint64_t born_ms;
	unsigned pending; /* queries waiting on it */
	bool retired;	  /* no new queries; closed when pending is 0 */
	bool busy;	  /* its read callback runs: do not free it */
};

struct fwd_query {
	struct fwd_worker *fw;
	struct fwd_query *prev, *next; /* the worker's queries */
	struct fwd_query *hnext;       /* in the ID table (UDP attempts) */
	forward_done done;
	void *arg;
	atomic_int *note;
	uint8_t msg[QMSG_MAX + 2]; /* 2-byte length (TCP), then the query */
	size_t len;
	uint16_t id;
	uint8_t order[UPSTREAM_MAX];
	unsigned pos, attempts;
	unsigned up; /* the upstream of the current attempt */
	bool client_tcp;
	bool retry_tcp; /* the last UDP answer was truncated */
	uint64_t deadline_ms;
	struct event timer;
	struct fwd_sock *sock; /* UDP attempt */
	int tfd;	       /* TCP attempt */
	struct event tev;
	bool treading;
	size_t toff;   /* bytes sent, then bytes read */
	uint8_t *tbuf; /* the TCP answer */
	size_t tneed;
	uint64_t mt0; /* metrics: the attempt's start (ns), 0: not counted */
};

struct fwd_worker {
	struct forward *f;
	struct event_base *base;
	struct fwd_sock *cur[UPSTREAM_MAX];
	struct fwd_sock *socks;
	struct fwd_query *queries;
	struct fwd_query *byid[QHASH];
	uint8_t rnd[256];
	unsigned rndpos;
	uint8_t buf[UDP_ANSWER_MAX];
};

/* A health check in flight: over UDP, or over TCP with force_tcp (as
 * CoreDNS checks over the transport it forwards with). */
struct hc_probe {
	struct forward *f;
	unsigned up;
	int fd;
	uint16_t id;
	bool busy;
	bool tcp;
	uint64_t deadline_ms;
	uint8_t out[QMSG_MAX + 2]; /* TCP: 2-byte length, then the query */
	size_t olen, osent;
	uint8_t in[14]; /* TCP: the length and the header of the answer */
	size_t got;
	struct event ev;
};

struct forward {
	struct upstream_set set;
	uint8_t (*zones)[256]; /* FROM zones, then except zones */
	size_t *zlen;
	size_t nfrom, nexcept;
	bool force_tcp, prefer_udp;
	uint32_t max_concurrent;
	atomic_uint inflight;
	uint64_t expire_ms, hc_ms;
	uint8_t hc_name[256];
	size_t hc_len;
	bool hc_rd;
	struct event *hc_timer;
	struct hc_probe probes[UPSTREAM_MAX];
	uint32_t mup[UPSTREAM_MAX]; /* metrics: each upstream's series */
};

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static struct timeval ms_tv(uint64_t ms)
{
	struct timeval tv = {(time_t)(ms / 1000),
			     (suseconds_t)(ms % 1000) * 1000};
	return tv;
}

/* n random bytes from a per-worker buffer of getrandom() output. */
static void rnd_bytes(struct fwd_worker *fw, void *out, size_t n)
{
	if (fw->rndpos + n > sizeof(fw->rnd)) {
		size_t got = 0;
		while (got < sizeof(fw->rnd)) {
			ssize_t r =
			    getrandom(fw->rnd + got, sizeof(fw->rnd) - got, 0);
			if (r > 0)
				got += (size_t)r;
			else if (errno != EINTR)
				break; /* cannot happen on Linux >= 3.17 */
		}
		fw->rndpos = 0;
	}
	memcpy(out, fw->rnd + fw->rndpos, n);
	fw->rndpos += (unsigned)n;
}

static uint64_t rnd64(struct fwd_worker *fw)
{
	uint64_t v;

	rnd_bytes(fw, &v, sizeof(v));
	return v;
}

/* A query: header (id 0 for now), question, OPT with our size and DO. */
static size_t build_query(uint8_t *out, const uint8_t *qname, size_t qlen,
			  uint16_t qtype, uint16_t qclass, bool rd, bool cd,
			  bool do_bit)
{
	uint16_t flags = (rd ? PACKET_FLAG_RD : 0) | (cd ? PACKET_FLAG_CD : 0);

	memset(out, 0, 12);
	wr16(out + 2, flags);
	wr16(out + 4, 1);
	wr16(out + 10, 1);
	memcpy(out + 12, qname, qlen);
	uint8_t *p = out + 12 + qlen;
	wr16(p, qtype);
	wr16(p + 2, qclass);
	p += 4;
	p[0] = 0;
	wr16(p + 1, 41);
	wr16(p + 3, EDNS_SIZE);
	p[5] = 0;
	p[6] = 0;
	p[7] = do_bit ? 0x80 : 0;
	p[8] = 0;
	wr16(p + 9, 0);
	return 12 + qlen + 4 + 11;
}

/*
 * Is ans (n bytes) the answer to the query q (n bytes, ID included)?
 * Returns 0 when it is and every section is well-formed, -1 when it is
 * not an answer to it (another ID or question: ignore it), 1 when it
 * answers it but is malformed.
 */
static int answer_check(const uint8_t *query, size_t qn, const uint8_t *ans,
			size_t n)
{
	if (n < 12 || !(ans[2] & 0x80) || rd16(ans) != rd16(query) ||
	    (ans[2] & 0x78) != 0 || rd16(ans + 4) != 1)
		return -1;
	size_t qend = qn - 11; /* the question ends before our OPT */
	if (n < qend)
		return -1;
	size_t i = 12;
	while (i < qend - 4) { /* labels: uncompressed, compared in lowercase */
		/* length bytes are below 64: lowercasing leaves them */
		uint8_t a = ans[i], b = query[i];
		if (a >= 'A' && a <= 'Z')
			a += 32;
		if (b >= 'A' && b <= 'Z')
			b += 32;
		if (a != b)
			return -1;
		i++;
	}
	if (memcmp(ans + qend - 4, query + qend - 4, 4) != 0)
		return -1;
	unsigned rrs = (unsigned)rd16(ans + 6) + rd16(ans + 8) + rd16(ans + 10);
	size_t off = qend;
	for (unsigned k = 0; k < rrs; k++) {
		off = packet_skip_name(ans, n, off);
		if (off == 0 || n - off < 10)
			return 1;
		size_t rdlen = rd16(ans + off + 8);
		off += 10;
		if (n - off < rdlen)
			return 1;
		off += rdlen;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* sockets */

static void sock_free(struct fwd_sock *s)
{
	struct fwd_worker *fw = s->fw;

	for (struct fwd_sock **pp = &fw->socks; *pp; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	}
	if (fw->cur[s->up] == s)
		fw->cur[s->up] = NULL;
	event_del(&s->ev);
	close(s->fd);
	free(s);
}

static void sock_release(struct fwd_sock *s)
{
	s->pending--;
	if (s->retired && s->pending == 0 && !s->busy)
		sock_free(s);
}

static void sock_retire(struct fwd_sock *s)
{
	s->retired = true;
	if (s->fw->cur[s->up] == s)
		s->fw->cur[s->up] = NULL;
	if (s->pending == 0 && !s->busy)
		sock_free(s);
}

static void udp_read_cb(evutil_socket_t fd, short what, void *arg);

/* A non-blocking socket of type (SOCK_STREAM, SOCK_DGRAM) connected, or
 * connecting, to upstream u: its descriptor, or -errno. */
static int upstream_connect(const struct upstream *u, int type)
{
	int fd =
	    socket(u->addr.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)&u->addr, u->addrlen) < 0 &&
	    errno != EINPROGRESS) {
		int e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

/* The worker's socket to upstream up, a new one after expire. */
static struct fwd_sock *sock_get(struct fwd_worker *fw, unsigned up,
				 uint64_t now)
{
	struct forward *f = fw->f;
	struct fwd_sock *s = fw->cur[up];

	if (s && now - s->born_ms < f->expire_ms) {
		metrics_proxy_conn(f->mup[up], false, true); /* metrics */
		return s;
	}
	metrics_proxy_conn(f->mup[up], false, false);
	if (s)
		sock_retire(s);
	int fd = upstream_connect(&f->set.u[up], SOCK_DGRAM);
	if (fd < 0) {
		errno = -fd;
		return NULL;
	}
	if (!(s = calloc(1, sizeof(*s)))) {
		close(fd);
		errno = ENOMEM;
		return NULL;
	}
	s->fw = fw;
	s->up = up;
	s->fd = fd;
	s->born_ms = now;
	event_assign(&s->ev, fw->base, fd, EV_READ | EV_PERSIST, udp_read_cb,
		     s);
	if (event_add(&s->ev, NULL) != 0) {
		close(fd);
		free(s);
		return NULL;
	}
	s->next = fw->socks;
	fw->socks = s;
	fw->cur[up] = s;
	return s;
}

/* ------------------------------------------------------------------ */
/* queries */

static void hash_del(struct fwd_query *q)
{
	struct fwd_query **pp = &q->fw->byid[q->id % QHASH];

	for (; *pp; pp = &(*pp)->hnext) {
		if (*pp == q) {
			*pp = q->hnext;
			break;
		}
	}
	q->hnext = NULL;
}

static struct fwd_query *hash_find(struct fwd_worker *fw,
				   const struct fwd_sock *s, uint16_t id)
{
	for (struct fwd_query *q = fw->byid[id % QHASH]; q; q = q->hnext)
		if (q->sock == s && q->id == id)
			return q;
	return NULL;
}

/* End the current attempt: its socket, connection and timer. */
static void attempt_end(struct fwd_query *q)
{
	evtimer_del(&q->timer);
	if (q->sock) {
		hash_del(q);
		struct fwd_sock *s = q->sock;
		q->sock = NULL;
		sock_release(s);
	}
	if (q->tfd >= 0) {
		event_del(&q->tev);
		close(q->tfd);
		q->tfd = -1;
	}
	free(q->tbuf);
	q->tbuf = NULL;
	q->toff = 0;
	q->tneed = 0;
	q->treading = false;
}

static void query_unlink(struct fwd_query *q)
{
	struct fwd_worker *fw = q->fw;

	if (q->prev)
		q->prev->next = q->next;
	else
		fw->queries = q->next;
	if (q->next)
		q->next->prev = q->prev;
	atomic_fetch_sub(&fw->f->inflight, 1);
}

/* Report the end to the caller and free q.  ans may point into q. */
static void finish(struct fwd_query *q, int status, const uint8_t *ans,
		   size_t len)
{
	uint8_t *tbuf = q->tbuf;

	q->tbuf = NULL;		   /* ans may be in it: freed after done */
	if (status == 0 && q->mt0) /* metrics */
		metrics_proxy_answer(q->fw->f->mup[q->up], ans[3] & 0x0f,
				     metrics_now_ns() - q->mt0);
	attempt_end(q);
	query_unlink(q);
	q->done(q->arg, status, ans, len);
	free(tbuf);
	free(q);
}

static int udp_start(struct fwd_query *q, uint64_t now)
{
	struct fwd_worker *fw = q->fw;
	struct fwd_sock *s = sock_get(fw, q->up, now);

	if (!s)
		return errno ? -errno : -EIO;
	uint16_t id;
	do {
		rnd_bytes(fw, &id, sizeof(id));
	} while (hash_find(fw, s, id));
	q->id = id;
	wr16(q->msg + 2, id);
	ssize_t r;
	do {
		r = send(s->fd, q->msg + 2, q->len, MSG_DONTWAIT);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	q->sock = s;
	s->pending++;
	q->hnext = fw->byid[id % QHASH];
	fw->byid[id % QHASH] = q;
	return 0;
}

static void tcp_cb(evutil_socket_t fd, short what, void *arg);

static int tcp_start(struct fwd_query *q)
{
	struct fwd_worker *fw = q->fw;
	const struct upstream *u = &fw->f->set.u[q->up];
	uint16_t id;

	rnd_bytes(fw, &id, sizeof(id));
	q->id = id;
	wr16(q->msg + 2, id);
	wr16(q->msg, (uint16_t)q->len);
	int fd = upstream_connect(u, SOCK_STREAM);
	if (fd < 0)
		return fd;
	metrics_proxy_conn(fw->f->mup[q->up], true, false); /* metrics */
	q->tfd = fd;
	q->toff = 0;
	q->treading = false;
	event_assign(&q->tev, fw->base, fd, EV_WRITE | EV_PERSIST, tcp_cb, q);
	if (event_add(&q->tev, NULL) != 0)
		return -ENOMEM;
	return 0;
}

/* Try the next upstream (or the same one over TCP after a truncated
 * answer), or give up. */
static void attempt_start(struct fwd_query *q)
{
	struct fwd_worker *fw = q->fw;
	struct forward *f = fw->f;
	uint64_t now = now_ms();

	if (now >= q->deadline_ms || q->attempts >= 2 * f->set.n) {
		finish(q, -ETIMEDOUT, NULL, 0);
		return;
	}
	q->attempts++;
	if (!q->retry_tcp)
		q->up = upstream_next(&f->set, q->order, &q->pos, rnd64(fw));
	if (metrics_on()) { /* metrics: every upstream down, the attempt */
		unsigned i = 0;
		while (i < f->set.n && upstream_down(&f->set, i))
			i++;
		if (i == f->set.n)
			metrics_add(METRICS_G_FWD_BROKEN, 1);
		q->mt0 = metrics_now_ns();
	}
	if (q->note)
		atomic_store(q->note, (int)q->up);
	bool tcp =
	    q->retry_tcp || f->force_tcp || (q->client_tcp && !f->prefer_udp);
	int rc = tcp ? tcp_start(q) : udp_start(q, now);
	uint64_t left = q->deadline_ms - now;
	/* A failed send moves on at once, from the event loop. */
	struct timeval tv = ms_tv(rc < 0	      ? 0
				  : left < ATTEMPT_MS ? left
						      : ATTEMPT_MS);
	evtimer_add(&q->timer, &tv);
}

static void attempt_failed(struct fwd_query *q)
{
	struct forward *f = q->fw->f;

	attempt_end(q);
	q->retry_tcp = false;
	if (f->hc_ms && f->set.max_fails)
		atomic_store(&f->set.u[q->up].check, true);
	attempt_start(q);
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
	attempt_failed(arg);
}

static void udp_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct fwd_sock *s = arg;
	struct fwd_worker *fw = s->fw;
	const struct upstream *u = &fw->f->set.u[s->up];

	s->busy = true;
	for (int i = 0; i < 64; i++) {
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(fd, fw->buf, sizeof(fw->buf), MSG_DONTWAIT,
				     (struct sockaddr *)&from, &fl);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			/* ICMP: the upstream refuses.  Every query waiting
			 * on this socket moves on (from its timer). */
			for (struct fwd_query *q = fw->queries; q; q = q->next)
				if (q->sock == s) {
					struct timeval tv = ms_tv(0);
					evtimer_add(&q->timer, &tv);
				}
			sock_retire(s);
			break;
		}
		/* A connected socket takes only the upstream's datagrams;
		 * check anyway. */
		if (fl != u->addrlen || memcmp(&from, &u->addr, fl) != 0 ||
		    n < 12)
			continue;
		struct fwd_query *q = hash_find(fw, s, rd16(fw->buf));
		if (!q)
			continue; /* late, or not ours */
		int c = answer_check(q->msg + 2, q->len, fw->buf, (size_t)n);
		if (c < 0)
			continue; /* not the answer: keep waiting */
		if (c > 0) {
			attempt_failed(q);
			continue;
		}
		if (fw->buf[2] & (PACKET_FLAG_TC >> 8)) {
			attempt_end(q);
			q->retry_tcp = true;
			attempt_start(q);
			continue;
		}
		finish(q, 0, fw->buf, (size_t)n);
	}
	s->busy = false;
	if (s->retired && s->pending == 0)
		sock_free(s);
}

/* What a non-blocking send or recv over TCP that returned r means: 1
 * bytes moved, 0 try again when the socket is ready, -1 the connection
 * failed or was closed. */
static int io_outcome(ssize_t r)
{
	if (r > 0)
		return 1;
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	return -1;
}

static void tcp_cb(evutil_socket_t fd, short what, void *arg)
{
	struct fwd_query *q = arg;

	if (!q->treading) {
		ssize_t r = send(fd, q->msg + q->toff, q->len + 2 - q->toff,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		int io = io_outcome(r);
		if (io <= 0) {
			if (io < 0)
				attempt_failed(q);
			return;
		}
		q->toff += (size_t)r;
		if (q->toff < q->len + 2)
			return;
		event_del(&q->tev);
		event_assign(&q->tev, q->fw->base, fd, EV_READ | EV_PERSIST,
			     tcp_cb, q);
		q->treading = true;
		q->toff = 0;
		if (event_add(&q->tev, NULL) != 0)
			attempt_failed(q);
		return;
	}
	if (!q->tbuf) { /* the length first, into msg (sent already) */
		ssize_t r = recv(fd, q->msg + q->toff, 2 - q->toff, 0);
		int io = io_outcome(r);
		if (io <= 0) {
			if (io < 0)
				attempt_failed(q);
			return;
		}
		q->toff += (size_t)r;
		if (q->toff < 2)
			return;
		q->tneed = rd16(q->msg);
		q->toff = 0;
		q->tbuf = malloc(q->tneed ? q->tneed : 1);
		if (!q->tbuf || q->tneed < 12) {
			attempt_failed(q);
			return;
		}
	}
	ssize_t r = recv(fd, q->tbuf + q->toff, q->tneed - q->toff, 0);
	int io = io_outcome(r);
	if (io <= 0) {
		if (io < 0)
			attempt_failed(q);
		return;
	}
	q->toff += (size_t)r;
	if (q->toff < q->tneed)
		return;
	if (answer_check(q->msg + 2, q->len, q->tbuf, q->tneed) != 0) {
		attempt_failed(q); /* our own connection: no excuse */
		return;
	}
	finish(q, 0, q->tbuf, q->tneed);
}

/* ------------------------------------------------------------------ */
/* per-worker state */

static void *worker_create(struct event_base *base, void *arg)
{
	struct fwd_worker *fw = calloc(1, sizeof(*fw));

	if (!fw)
		return NULL;
	fw->f = arg;
	fw->base = base;
	fw->rndpos = sizeof(fw->rnd);
	return fw;
}

static void worker_destroy(void *state)
{
	struct fwd_worker *fw = state;

	while (fw->queries)
		finish(fw->queries, -ECANCELED, NULL, 0);
	while (fw->socks)
		sock_free(fw->socks);
	free(fw);
}

int forward_query(struct forward *f, struct worker_call *call,
		  const struct forward_req *r, forward_done done, void *arg)
{
	if (r->qname_len > PACKET_MAX_NAME)
		return -EINVAL;
	struct fwd_worker *fw =
	    worker_local(call, f, worker_create, f, worker_destroy);
	if (!fw)
		return call ? -ENOMEM : -EINVAL;
	unsigned n = atomic_fetch_add(&f->inflight, 1);
	if (f->max_concurrent && n >= f->max_concurrent) {
		atomic_fetch_sub(&f->inflight, 1);
		return -EBUSY;
	}
	struct fwd_query *q = calloc(1, sizeof(*q));
	if (!q) {
		atomic_fetch_sub(&f->inflight, 1);
		return -ENOMEM;
	}
	q->fw = fw;
	q->done = done;
	q->arg = arg;
	q->note = r->note_upstream;
	q->tfd = -1;
	q->client_tcp = r->tcp;
	q->len = build_query(q->msg + 2, r->qname, r->qname_len, r->qtype,
			     r->qclass, r->rd, r->cd, r->do_bit);
	q->deadline_ms = now_ms() + DEADLINE_MS;
	upstream_order(&f->set, rnd64(fw), q->order);
	evtimer_assign(&q->timer, fw->base, timer_cb, q);
	q->next = fw->queries;
	if (fw->queries)
		fw->queries->prev = q;
	fw->queries = q;
	attempt_start(q); /* never ends the query here: attempts are left */
	return 0;
}

/* ------------------------------------------------------------------ */
/* health checks (control thread) */

/* Count a health check of upstream up of f. */
static void probe_result(struct forward *f, unsigned up, bool passed)
{
	struct upstream *u = &f->set.u[up];

	if (passed) {
		upstream_check_passed(u);
	} else {
		metrics_proxy_hc_failed(f->mup[up]); /* metrics */
		upstream_check_failed(u);
		if (upstream_down(&f->set, up))
			log_warn("plugin/forward: upstream %s is down: %u "
				 "health checks failed",
				 u->name, atomic_load(&u->fails));
	}
}

static void probe_end(struct hc_probe *p, bool passed)
{
	event_del(&p->ev);
	close(p->fd);
	p->fd = -1;
	p->busy = false;
	probe_result(p->f, p->up, passed);
}

static void probe_cb(evutil_socket_t fd, short what, void *arg);

/* After a send or recv of the probe that returned n: true when bytes
 * moved; false when it has to wait, or when the probe has failed. */
static bool probe_io(struct hc_probe *p, ssize_t n)
{
	int io = io_outcome(n);

	if (io < 0)
		probe_end(p, false);
	return io > 0;
}

/* TCP: send what is left of the query; once it is all out, wait for the
 * answer for the rest of the time. */
static void probe_write(struct hc_probe *p)
{
	int err = 0;
	socklen_t el = sizeof(err);

	if (getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0 || err) {
		probe_end(p, false);
		return;
	}
	ssize_t n = send(p->fd, p->out + p->osent, p->olen - p->osent,
			 MSG_DONTWAIT | MSG_NOSIGNAL);
	if (!probe_io(p, n))
		return;
	p->osent += (size_t)n;
	if (p->osent < p->olen)
		return;
	uint64_t now = now_ms();
	struct timeval tv =
	    ms_tv(p->deadline_ms > now ? p->deadline_ms - now : 0);
	struct event_base *base = event_get_base(&p->ev);
	event_del(&p->ev);
	event_assign(&p->ev, base, p->fd, EV_READ | EV_PERSIST, probe_cb, p);
	if (event_add(&p->ev, &tv) != 0)
		probe_end(p, false);
}

/* TCP: gather the answer's length and header. */
static void probe_read_tcp(struct hc_probe *p)
{
	ssize_t n =
	    recv(p->fd, p->in + p->got, sizeof(p->in) - p->got, MSG_DONTWAIT);
	if (!probe_io(p, n))
		return;
	p->got += (size_t)n;
	if (p->got < sizeof(p->in))
		return;
	const uint8_t *h = p->in + 2;
	probe_end(p, rd16(p->in) >= 12 && rd16(h) == p->id && (h[2] & 0x80));
}

static void probe_cb(evutil_socket_t fd, short what, void *arg)
{
	struct hc_probe *p = arg;
	uint8_t buf[512];

	if (what & EV_TIMEOUT) {
		probe_end(p, false);
		return;
	}
	if (p->tcp) {
		if (p->osent < p->olen)
			probe_write(p);
		else
			probe_read_tcp(p);
		return;
	}
	ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	/* Any answer with our ID is a sign of life, as in CoreDNS. */
	probe_end(p, n >= 12 && rd16(buf) == p->id && (buf[2] & 0x80));
}

static void probe_send(struct forward *f, struct event_base *base, unsigned up)
{
	struct hc_probe *p = &f->probes[up];
	const struct upstream *u = &f->set.u[up];
	uint8_t *msg = p->out + 2;

	p->f = f;
	p->up = up;
	p->tcp = f->force_tcp;
	p->fd = upstream_connect(u, p->tcp ? SOCK_STREAM : SOCK_DGRAM);
	if (p->fd < 0) {
		probe_result(f, up, false);
		return;
	}
	size_t len = build_query(msg, f->hc_name, f->hc_len, T_NS, CLASS_IN,
				 f->hc_rd, false, false);
	if (getrandom(&p->id, sizeof(p->id), 0) != sizeof(p->id))
		p->id = (uint16_t)now_ms();
	wr16(msg, p->id);
	wr16(p->out, (uint16_t)len);
	p->olen = len + 2;
	p->osent = 0;
	p->got = 0;
	p->busy = true;
	p->deadline_ms = now_ms() + HC_TIMEOUT_MS;
	/* TCP: writable once connected, then the answer (probe_write) */
	event_assign(&p->ev, base, p->fd,
		     (p->tcp ? EV_WRITE : EV_READ) | EV_PERSIST, probe_cb, p);
	struct timeval tv = ms_tv(HC_TIMEOUT_MS);
	if (event_add(&p->ev, &tv) != 0) {
		close(p->fd);
		p->fd = -1;
		p->busy = false;
		return;
	}
	if (!p->tcp && send(p->fd, msg, len, MSG_DONTWAIT) < 0)
		probe_end(p, false);
}

static void hc_tick(evutil_socket_t fd, short what, void *arg)
{
	struct forward *f = arg;

	for (unsigned i = 0; i < f->set.n; i++)
		if (atomic_load(&f->set.u[i].check) && !f->probes[i].busy)
			probe_send(f, event_get_base(f->hc_timer), i);
}

int forward_start(struct forward *f, struct event_base *base)
{
	if (f->hc_ms == 0 || f->set.max_fails == 0)
		return 0;
	f->hc_timer = event_new(base, -1, EV_PERSIST, hc_tick, f);
	struct timeval tv = ms_tv(f->hc_ms);
	if (!f->hc_timer || event_add(f->hc_timer, &tv) != 0)
		return -ENOMEM;
	return 0;
}

/* ------------------------------------------------------------------ */
/* setup */

static struct forward *setup_failed(struct forward *f,
				    const struct forward_conf *cf, char *err,
				    size_t errlen, const char *why)
{
	snprintf(err, errlen, "%s:%d - Error during setup: forward: %s",
		 cf->file, cf->line, why);
	forward_free(f);
	return NULL;
}

struct forward *forward_new(const struct forward_conf *cf, char *err,
			    size_t errlen)
{
	char why[300];

	struct forward *f = calloc(1, sizeof(*f));
	size_t nz = cf->nfrom + cf->nexcept;

	if (!f)
		goto nomem;
	for (unsigned i = 0; i < UPSTREAM_MAX; i++)
		f->probes[i].fd = -1;
	f->zones = calloc(nz ? nz : 1, sizeof(*f->zones));
	f->zlen = calloc(nz ? nz : 1, sizeof(*f->zlen));
	if (!f->zones || !f->zlen)
		goto nomem;
	for (size_t i = 0; i < nz; i++) {
		const char *z =
		    i < cf->nfrom ? cf->from[i] : cf->except[i - cf->nfrom];
		if (dname_zone_wire(z, f->zones[i], &f->zlen[i]) < 0) {
			snprintf(why, sizeof(why), "not a domain name: %s", z);
			return setup_failed(f, cf, err, errlen, why);
		}
	}
	f->nfrom = cf->nfrom;
	f->nexcept = cf->nexcept;
	if (upstream_set_init(&f->set, cf->to, cf->tolen, (unsigned)cf->nto,
			      (enum upstream_policy)cf->policy,
			      cf->max_fails) < 0)
		return setup_failed(f, cf, err, errlen, "1 to 15 upstreams");
	f->force_tcp = cf->force_tcp;
	f->prefer_udp = cf->prefer_udp;
	f->max_concurrent = cf->max_concurrent;
	f->expire_ms = cf->expire_ms;
	f->hc_ms = cf->health_check_ms;
	f->hc_rd = !cf->health_no_rec;
	if (dname_zone_wire(cf->health_domain ? cf->health_domain : "",
			    f->hc_name, &f->hc_len) < 0)
		return setup_failed(f, cf, err, errlen,
				    "bad health check domain");
	atomic_init(&f->inflight, 0);
	return f;
nomem:
	snprintf(err, errlen, "out of memory");
	forward_free(f);
	return NULL;
}

void forward_free(struct forward *f)
{
	if (!f)
		return;
	for (unsigned i = 0; i < UPSTREAM_MAX; i++) {
		if (f->probes[i].fd >= 0) {
			event_del(&f->probes[i].ev);
			close(f->probes[i].fd);
		}
	}
	if (f->hc_timer)
		event_free(f->hc_timer);
	free(f->zones);
	free(f->zlen);
	free(f);
}

static bool under(const struct forward *f, size_t from, size_t to,
		  const uint8_t *lname, size_t len)
{
	for (size_t i = from; i < to; i++)
		if (dname_suffix_at(lname, len, f->zones[i], f->zlen[i]) >= 0)
			return true;
	return false;
}

bool forward_match(const struct forward *f, const uint8_t *lname, size_t len)
{
	return under(f, 0, f->nfrom, lname, len) &&
	       !under(f, f->nfrom, f->nfrom + f->nexcept, lname, len);
}

const char *forward_upstream_name(const struct forward *f, int i)
{
	if (i < 0 || (unsigned)i >= f->set.n)
		return "?";
	return f->set.u[i].name;
}

unsigned forward_inflight(const struct forward *f)
{
	return atomic_load(&((struct forward *)f)->inflight);
}

/* ------------------------------------------------------------------ */
/* setup of the directive */

void forward_conf_free(struct forward_conf *f)
{
	if (!f)
		return;
	setup_strv_free(f->from, f->nfrom);
	setup_strv_free(f->except, f->nexcept);
	free(f->health_domain);
	free(f->file);
	free(f);
}

/* An upstream IP[:PORT] ([IPv6]:PORT, dns:// allowed).  Returns 0, 1 when
 * text is no address, -EINVAL with msg set (a bad port or transport). */
static int upstream_parse(const char *text, struct sockaddr_storage *ss,
			  socklen_t *len, char *msg, size_t msglen)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *s = text, *port = NULL, *sep = strstr(text, "://");
	size_t hl;

	if (sep) {
		if (strncasecmp(text, "dns://", 6) != 0) {
			snprintf(msg, msglen,
				 "%.*s:// is not supported, only dns:// is",
				 (int)(sep - text), text);
			return -EINVAL;
		}
		s = text + 6;
	}
	if (*s == '[') {
		const char *e = strchr(s, ']');
		if (!e)
			return 1;
		hl = (size_t)(e - s - 1);
		s++;
		if (e[1] == ':')
			port = e + 2;
		else if (e[1])
			return 1;
	} else {
		const char *colon = strchr(s, ':');
		if (colon && !strchr(colon + 1, ':')) {
			hl = (size_t)(colon - s);
			port = colon + 1;
		} else {
			hl = strlen(s); /* an IPv6 address without port */
		}
	}
	if (hl >= sizeof(host))
		return 1;
	memcpy(host, s, hl);
	host[hl] = 0;
	unsigned long p = 53;
	if (port) {
		char *end;
		p = strtoul(port, &end, 10);
		if (!*port || *end || p == 0 || p > 65535) {
			snprintf(msg, msglen, "invalid port in '%s'", text);
			return -EINVAL;
		}
	}
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)p);
		*len = sizeof(*a4);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)p);
		*len = sizeof(*a6);
		return 0;
	}
	return 1;
}

static int fwd_add_to(struct setup *c, const struct corefile_dir *d,
		      struct forward_conf *f, const char *text)
{
	if (f->nto == FORWARD_MAX_UPSTREAMS)
		return setup_err(c, d, "forward", "more than %d TOs configured",
				 FORWARD_MAX_UPSTREAMS);
	char msg[512];
	int rc = upstream_parse(text, &f->to[f->nto], &f->tolen[f->nto], msg,
				sizeof(msg));
	if (rc < 0)
		return setup_err(c, d, "forward", "%s", msg);
	if (rc > 0)
		return 1;
	f->nto++;
	return 0;
}

/* The nameservers of a resolv.conf-style file, port 53.  Returns 0, 1 when
 * path is no readable file, or an error. */
static int fwd_add_file(struct setup *c, const struct corefile_dir *d,
			struct forward_conf *f, const char *path)
{
	FILE *fp = fopen(path, "r");
	char line[512];
	size_t before = f->nto;

	if (!fp)
		return 1;
	while (fgets(line, sizeof(line), fp)) {
		char *save, *k = strtok_r(line, " \t\r\n", &save);
		char *v = k ? strtok_r(NULL, " \t\r\n", &save) : NULL;
		if (!k || !v || strcmp(k, "nameserver") != 0)
			continue;
		char *pct = strchr(v, '%'); /* a zone index: not kept */
		if (pct)
			*pct = 0;
		char addr[INET6_ADDRSTRLEN + 3];
		snprintf(addr, sizeof(addr), strchr(v, ':') ? "[%s]" : "%s", v);
		int rc = fwd_add_to(c, d, f, addr);
		if (rc != 0) {
			fclose(fp);
			return rc < 0 ? rc
				      : setup_err(c, d, "forward",
						  "%s: not an IP address: "
						  "\"%s\"",
						  path, v);
		}
	}
	fclose(fp);
	if (f->nto == before)
		return setup_err(c, d, "forward", "no nameservers found in %s",
				 path);
	return 0;
}

static int fwd_duration(struct setup *c, const struct corefile_dir *s,
			uint64_t *ms)
{
	char msg[512];

	if (s->nargs < 1)
		return setup_arg_err(c, s, "forward");
	if (setup_duration(s->args[0], ms, msg, sizeof(msg)) < 0)
		return setup_err(c, s, "forward", "%s", msg);
	return 0;
}

static int fwd_uint(struct setup *c, const struct corefile_dir *s, uint32_t *v)
{
	char *end;

	if (s->nargs != 1)
		return setup_arg_err(c, s, "forward");
	long long n = strtoll(s->args[0], &end, 10);
	if (!*s->args[0] || *end)
		return setup_err(c, s, "forward",
				 "strconv.Atoi: parsing \"%s\": invalid syntax",
				 s->args[0]);
	if (n < 0)
		return setup_err(c, s, "forward", "%s can't be negative: %lld",
				 s->name, n);
	*v = n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
	return 0;
}

static int fwd_option(struct setup *c, struct forward_conf *f,
		      const struct corefile_dir *s)
{
	const char *o = s->name;
	int rc = setup_no_block(c, s, "forward");

	if (rc < 0)
		return rc;
	if (strcmp(o, "except") == 0) {
		if (s->nargs == 0)
			return setup_arg_err(c, s, "forward");
		return setup_zones_add(c, s, "forward", s->args, s->nargs,
				       &f->except, &f->nexcept);
	}
	if (strcmp(o, "force_tcp") == 0 || strcmp(o, "prefer_udp") == 0) {
		if (s->nargs)
			return setup_arg_err(c, s, "forward");
		*(o[0] == 'f' ? &f->force_tcp : &f->prefer_udp) = true;
		return 0;
	}
	if (strcmp(o, "policy") == 0) {
		if (s->nargs != 1)
			return setup_arg_err(c, s, "forward");
		if (strcmp(s->args[0], "random") == 0)
			f->policy = FORWARD_POLICY_RANDOM;
		else if (strcmp(s->args[0], "round_robin") == 0)
			f->policy = FORWARD_POLICY_ROUND_ROBIN;
		else if (strcmp(s->args[0], "sequential") == 0)
			f->policy = FORWARD_POLICY_SEQUENTIAL;
		else
			return setup_err(c, s, "forward", "unknown policy '%s'",
					 s->args[0]);
		return 0;
	}
	if (strcmp(o, "health_check") == 0) {
		rc = fwd_duration(c, s, &f->health_check_ms);
		for (size_t i = 1; rc == 0 && i < s->nargs; i++) {
			if (strcmp(s->args[i], "no_rec") == 0) {
				f->health_no_rec = true;
			} else if (strcmp(s->args[i], "domain") == 0 &&
				   i + 1 < s->nargs) {
				char *z = NULL, msg[512];
				rc = setup_zone_parse(s->args[++i], &z, msg,
						      sizeof(msg));
				if (rc == -ENOMEM)
					return setup_nomem(c);
				if (rc < 0)
					return setup_err(c, s, "forward", "%s",
							 msg);
				free(f->health_domain);
				f->health_domain = z;
			} else {
				return setup_err(c, s, "forward",
						 "health_check: unknown option "
						 "%s",
						 s->args[i]);
			}
		}
		return rc;
	}
	if (strcmp(o, "expire") == 0) {
		if (s->nargs != 1)
			return setup_arg_err(c, s, "forward");
		return fwd_duration(c, s, &f->expire_ms);
	}
	if (strcmp(o, "max_fails") == 0)
		return fwd_uint(c, s, &f->max_fails);
	if (strcmp(o, "max_concurrent") == 0)
		return fwd_uint(c, s, &f->max_concurrent);
	if (strcmp(o, "tls") == 0 || strcmp(o, "tls_servername") == 0 ||
	    strcmp(o, "next") == 0 ||
	    strcmp(o, "failfast_all_unhealthy_"
		      "upstreams") == 0 ||
	    strcmp(o, "failover") == 0)
		return setup_err(c, s, "forward",
				 "option '%s' is not supported yet", o);
	return setup_err(c, s, "forward", "unknown property '%s'", o);
}

int forward_setup(struct setup *c, const struct corefile_dir *d)
{
	struct config_block *b = c->block;
	struct forward_conf *f;
	int rc;

	if (b->fwd)
		return setup_err(c, d, "forward",
				 "only one forward directive per server block "
				 "is supported");
	if (d->nargs < 2)
		return setup_arg_err(c, d, "forward");
	f = calloc(1, sizeof(*f));
	if (!f)
		return setup_nomem(c);
	b->fwd = f;
	f->health_check_ms = 500;
	f->max_fails = 2;
	f->expire_ms = 10000;
	f->line = d->line;
	f->file = strdup(d->file);
	if (!f->file)
		return setup_nomem(c);
	rc = setup_zones_add(c, d, "forward", d->args, 1, &f->from, &f->nfrom);
	if (rc < 0)
		return rc;
	for (size_t i = 1; i < d->nargs; i++) {
		rc = fwd_add_to(c, d, f, d->args[i]);
		if (rc == 1)
			rc = fwd_add_file(c, d, f, d->args[i]);
		if (rc == 1)
			return setup_err(c, d, "forward",
					 "not an IP address or file: \"%s\"",
					 d->args[i]);
		if (rc < 0)
			return rc;
	}
	for (size_t i = 0; i < d->nsub; i++) {
		rc = fwd_option(c, f, &d->sub[i]);
		if (rc < 0)
			return rc;
	}
	if (f->force_tcp && f->prefer_udp)
		return setup_err(c, d, "forward",
				 "force_tcp and prefer_udp are mutually "
				 "exclusive");
	return 0;
}

void forward_metrics(struct forward *f)
{
	for (unsigned i = 0; i < f->set.n && i < UPSTREAM_MAX; i++)
		f->mup[i] = metrics_upstream("forward",
					     forward_upstream_name(f, (int)i));
}
