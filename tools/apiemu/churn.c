/*
 * churn.c -- a steady stream of creates, updates and deletes (see churn.h).
 */
#include "tools/apiemu/churn.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <event2/event.h>

#include "tools/apiemu/server.h"

/* The kinds the churn changes. */
enum { CHURN_SVC = 0, CHURN_EPS, CHURN_POD, CHURN_KINDS };

static const int churn_res[CHURN_KINDS] = {
    EMU_RES_SERVICES, EMU_RES_ENDPOINTSLICES, EMU_RES_PODS};

struct emu_churn {
	struct event *tick;
	double rate; /* changes a second */
	double due;  /* changes owed, fractional */
	struct timespec last;
	char ns[64];
	unsigned slots;
	unsigned long long creates, updates, deletes;
};

/* A number in [0, n), n > 0. */
static unsigned below(struct emu_server *srv, unsigned n)
{
	return (unsigned)(emu_store_rand(&srv->store) % n);
}

/* The address base + off, dotted. */
static void addr(uint32_t base, uint32_t off, char *buf, size_t len)
{
	uint32_t a = base + off;

	snprintf(buf, len, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255,
		 (a >> 8) & 255, a & 255);
}

#define CHURN_SVC_A (10u << 24 | 99u << 16)
#define CHURN_SVC_B (10u << 24 | 98u << 16)
#define CHURN_EPS_BASE (10u << 24 | 251u << 16)
#define CHURN_POD_BASE (10u << 24 | 253u << 16)

/* The JSON of a new state of object kind in slot i, into buf. */
static void churn_doc(struct emu_server *srv, int kind, unsigned i, char *buf,
		      size_t len)
{
	const char *ns = srv->churn->ns;
	char ip[16];
	size_t n;

	switch (kind) {
	case CHURN_SVC:
		if (i % 2 == 0) {
			snprintf(ip, sizeof(ip), "None");
		} else {
			addr(below(srv, 2) ? CHURN_SVC_A : CHURN_SVC_B, i, ip,
			     sizeof(ip));
		}
		snprintf(buf, len,
			 "{\"apiVersion\":\"v1\",\"kind\":\"Service\","
			 "\"metadata\":{\"name\":\"churn-%u\",\"namespace\":"
			 "\"%s\"},\"spec\":{\"type\":\"ClusterIP\","
			 "\"clusterIP\":\"%s\",\"clusterIPs\":[\"%s\"],"
			 "\"ports\":[{\"name\":\"http\",\"port\":%u,"
			 "\"protocol\":\"TCP\"}]}}",
			 i, ns, ip, ip, 1000 + below(srv, 1000));
		break;
	case CHURN_EPS: {
		unsigned k, eps = 1 + below(srv, 4);

		n = (size_t)snprintf(
		    buf, len,
		    "{\"apiVersion\":\"discovery.k8s.io/v1\",\"kind\":"
		    "\"EndpointSlice\",\"metadata\":{\"name\":\"churn-%u\","
		    "\"namespace\":\"%s\",\"labels\":{\"kubernetes.io/"
		    "service-name\":\"churn-%u\"}},\"addressType\":\"IPv4\","
		    "\"ports\":[{\"name\":\"http\",\"port\":8080,\"protocol\":"
		    "\"TCP\"}],\"endpoints\":[",
		    i, ns, i);
		for (k = 0; k < eps && n < len; k++) {
			char host[32] = "";

			/* even endpoints are named e0, e2, odd ones dashed */
			if (k % 2 == 0)
				snprintf(host, sizeof(host),
					 "\"hostname\":\"e%u\",", k);
			addr(CHURN_EPS_BASE, 1 + 4 * i + k, ip, sizeof(ip));
			n += (size_t)snprintf(
			    buf + n, len - n,
			    "%s{\"addresses\":[\"%s\"],%s\"conditions\":"
			    "{\"ready\":%s}}",
			    k ? "," : "", ip, host,
			    below(srv, 4) ? "true" : "false");
		}
		if (n < len)
			snprintf(buf + n, len - n, "]}");
		break;
	}
	default:
		addr(CHURN_POD_BASE, 1 + 2 * i + below(srv, 2), ip, sizeof(ip));
		snprintf(buf, len,
			 "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":"
			 "{\"name\":\"churn-%u\",\"namespace\":\"%s\"},"
			 "\"spec\":{\"nodeName\":\"node-0\"},\"status\":"
			 "{\"phase\":\"Running\",\"podIP\":\"%s\","
			 "\"podIPs\":[{\"ip\":\"%s\"}]}}",
			 i, ns, ip, ip);
		break;
	}
}

/* Whether object kind of slot i is in the store now. */
static bool churn_exists(const struct emu_server *srv, int kind, unsigned i)
{
	char key[96];
	const struct emu_entry *e;

	snprintf(key, sizeof(key), "%s/churn-%u", srv->churn->ns, i);
	e = emu_store_find(&srv->store, churn_res[kind], key);
	return e && emu_entry_at(e, srv->store.rv);
}

/* One change: a random kind of a random slot is created when absent, else
 * updated (two times in three) or deleted. */
static void churn_one(struct emu_server *srv)
{
	struct emu_churn *c = srv->churn;
	unsigned i = below(srv, c->slots);
	int kind = (int)below(srv, CHURN_KINDS);
	bool exists = churn_exists(srv, kind, i);
	char buf[1024], err[256], name[32];
	cJSON *obj;

	if (exists && below(srv, 3) == 0) {
		snprintf(name, sizeof(name), "churn-%u", i);
		if (emu_store_delete(&srv->store, churn_res[kind], c->ns, name,
				     NULL) == 0)
			c->deletes++;
		return;
	}
	churn_doc(srv, kind, i, buf, sizeof(buf));
	obj = cJSON_Parse(buf);
	if (!obj)
		abort(); /* churn_doc writes valid JSON */
	if (emu_store_put(&srv->store, obj, churn_res[kind], NULL, err,
			  sizeof(err)) < 0)
		fprintf(stderr, "apiemu: churn: %s\n", err);
	else if (exists)
		c->updates++;
	else
		c->creates++;
	cJSON_Delete(obj);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct emu_server *srv = arg;
	struct emu_churn *c = srv->churn;
	struct timespec now;
	double dt;

	(void)fd;
	(void)what;
	clock_gettime(CLOCK_MONOTONIC, &now);
	dt = (double)(now.tv_sec - c->last.tv_sec) +
	     (double)(now.tv_nsec - c->last.tv_nsec) / 1e9;
	c->last = now;
	c->due += dt * c->rate;
	/* after a long pause of the loop, catch up at most a second */
	if (c->due > c->rate + 1)
		c->due = c->rate + 1;
	while (c->due >= 1) {
		churn_one(srv);
		c->due -= 1;
	}
}

/* Make sure namespace ns exists. */
static int churn_namespace(struct emu_server *srv, const char *ns, char *err,
			   size_t errlen)
{
	const struct emu_entry *e =
	    emu_store_find(&srv->store, EMU_RES_NAMESPACES, ns);
	char buf[160];
	cJSON *obj;
	int rc;

	if (e && emu_entry_at(e, srv->store.rv))
		return 0;
	snprintf(buf, sizeof(buf),
		 "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":"
		 "{\"name\":\"%s\"}}",
		 ns);
	obj = cJSON_Parse(buf);
	if (!obj)
		abort();
	rc = emu_store_put(&srv->store, obj, EMU_RES_NAMESPACES, NULL, err,
			   errlen);
	cJSON_Delete(obj);
	return rc;
}

int emu_churn_set(struct emu_server *srv, double rate, const char *ns,
		  unsigned slots, char *err, size_t errlen)
{
	struct emu_churn *c = srv->churn;
	struct timeval tv = {0, 10000};
	size_t nl = strlen(ns);

	if (!(rate >= 0 && rate <= 100000)) {
		snprintf(err, errlen, "rate must be 0..100000");
		return -EINVAL;
	}
	if (slots < 1 || slots > EMU_CHURN_MAX_SLOTS) {
		snprintf(err, errlen, "slots must be 1..%u",
			 EMU_CHURN_MAX_SLOTS);
		return -EINVAL;
	}
	if (nl == 0 || nl > 63 ||
	    strspn(ns, "abcdefghijklmnopqrstuvwxyz0123456789-") != nl) {
		snprintf(err, errlen, "namespace must be a DNS label");
		return -EINVAL;
	}
	if (rate == 0) {
		if (c)
			c->rate = 0;
		if (c && c->tick)
			evtimer_del(c->tick);
		return 0;
	}
	if (c && (strcmp(c->ns, ns) != 0 || c->slots != slots))
		emu_churn_free(srv);
	if (!srv->churn) {
		if (churn_namespace(srv, ns, err, errlen) < 0)
			return -EINVAL;
		c = calloc(1, sizeof(*c));
		if (!c)
			abort();
		c->tick = event_new(srv->base, -1, EV_PERSIST, on_tick, srv);
		if (!c->tick)
			abort();
		memcpy(c->ns, ns, nl + 1);
		c->slots = slots;
		srv->churn = c;
	}
	c = srv->churn;
	if (c->rate == 0) {
		clock_gettime(CLOCK_MONOTONIC, &c->last);
		c->due = 0;
		evtimer_add(c->tick, &tv);
	}
	c->rate = rate;
	return 0;
}

void emu_churn_write(const struct emu_server *srv, struct evbuffer *out)
{
	const struct emu_churn *c = srv->churn;
	size_t present[CHURN_KINDS] = {0};

	if (!c) {
		evbuffer_add_printf(out, "{\"rate\":0}");
		return;
	}
	for (unsigned i = 0; i < c->slots; i++)
		for (int k = 0; k < CHURN_KINDS; k++)
			present[k] += churn_exists(srv, k, i);
	evbuffer_add_printf(out, "{\"rate\":%g,\"namespace\":", c->rate);
	emu_json_string(out, c->ns);
	evbuffer_add_printf(
	    out,
	    ",\"slots\":%u,\"changes\":%llu,\"creates\":%llu,\"updates\":%llu,"
	    "\"deletes\":%llu,\"present\":{\"services\":%zu,"
	    "\"endpointslices\":%zu,\"pods\":%zu}}",
	    c->slots, c->creates + c->updates + c->deletes, c->creates,
	    c->updates, c->deletes, present[CHURN_SVC], present[CHURN_EPS],
	    present[CHURN_POD]);
}

void emu_churn_free(struct emu_server *srv)
{
	struct emu_churn *c = srv->churn;

	if (!c)
		return;
	if (c->tick)
		event_free(c->tick);
	free(c);
	srv->churn = NULL;
}
