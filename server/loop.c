/*
 * loop.c -- forwarding loop detection with a self-addressed HINFO probe.
 */
#include "server/loop.h"

#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "server/config.h"
#include "server/setup.h"
#include "zones/dname.h"

#define T_HINFO 13
#define PROBE_EVERY_MS 1000
#define PROBE_FOR_MS 30000
#define DISABLE_AFTER_MS 2000

struct loop {
	uint8_t name[PACKET_MAX_NAME + 1]; /* wire, lowercase */
	size_t len;
	char query[PACKET_MAX_NAME * 4 + 80];
	char zone[PACKET_MAX_NAME * 4 + 2];
	atomic_bool enabled;
	atomic_uint seen;
	atomic_bool reported;
	atomic_int upstream;
	int fd;
	struct event *ev;    /* answers to the probe */
	struct event *timer; /* next probe, or the end */
	unsigned sent;
	bool answered;
};

struct loop *loop_new(const char *zone)
{
	struct loop *l = calloc(1, sizeof(*l));
	uint64_t r[2];
	char text[PACKET_MAX_NAME * 4 + 64];

	if (!l)
		return NULL;
	if (getrandom(r, sizeof(r), 0) != sizeof(r)) {
		free(l);
		return NULL;
	}
	/* Positive, as Go's rand.Int63 gives them. */
	snprintf(text, sizeof(text), "%llu.%llu%s%s",
		 (unsigned long long)(r[0] >> 1),
		 (unsigned long long)(r[1] >> 1), *zone ? "." : "", zone);
	int n = dname_from_str(text, l->name);
	if (n < 0) {
		free(l);
		return NULL;
	}
	l->len = (size_t)n;
	snprintf(l->query, sizeof(l->query), "HINFO %s.", text);
	snprintf(l->zone, sizeof(l->zone), "%s.", zone);
	l->fd = -1;
	atomic_init(&l->enabled, true);
	atomic_init(&l->seen, 0);
	atomic_init(&l->reported, false);
	atomic_init(&l->upstream, -1);
	return l;
}

static void probe_stop(struct loop *l)
{
	if (l->ev) {
		event_free(l->ev);
		l->ev = NULL;
	}
	if (l->fd >= 0) {
		close(l->fd);
		l->fd = -1;
	}
}

void loop_free(struct loop *l)
{
	if (!l)
		return;
	probe_stop(l);
	if (l->timer)
		event_free(l->timer);
	free(l);
}

static void probe_send(struct loop *l)
{
	uint8_t msg[12 + PACKET_MAX_NAME + 4];
	uint16_t id;

	if (getrandom(&id, sizeof(id), 0) != sizeof(id))
		id = (uint16_t)l->sent;
	memset(msg, 0, 12);
	memcpy(msg, &id, 2);
	msg[2] = 0x01; /* RD */
	msg[5] = 1;
	memcpy(msg + 12, l->name, l->len);
	uint8_t *p = msg + 12 + l->len;
	p[0] = 0;
	p[1] = T_HINFO;
	p[2] = 0;
	p[3] = 1;
	if (send(l->fd, msg, 12 + l->len + 4, MSG_DONTWAIT) < 0) {
		/* the next second tries again */
	}
	l->sent++;
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct loop *l = arg;
	struct timeval tv = {PROBE_EVERY_MS / 1000, 0};

	if (l->answered || l->sent * PROBE_EVERY_MS >= PROBE_FOR_MS) {
		atomic_store(&l->enabled, false);
		probe_stop(l);
		return;
	}
	probe_send(l);
	evtimer_add(l->timer, &tv);
}

static void answer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct loop *l = arg;
	uint8_t buf[512];

	if (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) < 12 || l->answered)
		return;
	/* Any answer: no loop so far.  Detection ends a little later. */
	l->answered = true;
	struct timeval tv = {DISABLE_AFTER_MS / 1000,
			     (DISABLE_AFTER_MS % 1000) * 1000};
	evtimer_del(l->timer);
	evtimer_add(l->timer, &tv);
}

int loop_start(struct loop *l, struct event_base *base,
	       const struct sockaddr_storage *addr, socklen_t len)
{
	l->fd = socket(addr->ss_family,
		       SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (l->fd < 0)
		return -errno;
	if (connect(l->fd, (const struct sockaddr *)addr, len) < 0)
		return -errno;
	l->ev = event_new(base, l->fd, EV_READ | EV_PERSIST, answer_cb, l);
	l->timer = evtimer_new(base, timer_cb, l);
	if (!l->ev || !l->timer || event_add(l->ev, NULL) != 0)
		return -ENOMEM;
	struct timeval now = {0, 0};
	return evtimer_add(l->timer, &now) == 0 ? 0 : -ENOMEM;
}

bool loop_is_probe(struct loop *l, const struct packet_query *q)
{
	return q->qtype == T_HINFO &&
	       atomic_load_explicit(&l->enabled, memory_order_relaxed) &&
	       q->qname_len == l->len && memcmp(q->lname, l->name, l->len) == 0;
}

enum loop_verdict loop_check(struct loop *l, const struct packet_query *q)
{
	if (!loop_is_probe(l, q))
		return LOOP_NONE;
	if (atomic_fetch_add(&l->seen, 1) + 1 <= 2)
		return LOOP_NONE;
	return atomic_exchange(&l->reported, true) ? LOOP_AGAIN : LOOP_FOUND;
}

const char *loop_query(const struct loop *l)
{
	return l->query;
}

atomic_int *loop_upstream(struct loop *l)
{
	return &l->upstream;
}

const char *loop_zone(const struct loop *l)
{
	return l->zone;
}

/* ------------------------------------------------------------------ */
/* setup of the directive */

int loop_setup(struct setup *c, const struct corefile_dir *d)
{
	struct config_block *b = c->block;

	if (b->loop)
		return setup_dup_err(c, d, "loop");
	if (d->nargs || d->nsub)
		return setup_arg_err(c, d, "loop");
	b->loop = true;
	b->loop_line = d->line;
	return 0;
}
