/*
 * watch.c -- watch streams.
 *
 * A watch is a cursor into the store's history: pumping it looks at the
 * events after the cursor, turns them into what this watcher sees through
 * its namespace and selectors (an object that stops matching is DELETED
 * for it, one that starts matching is ADDED, as the API server's watch cache
 * does), and writes them as newline-delimited JSON.  The bytes go out in
 * HTTP chunks of random sizes, so chunk boundaries fall anywhere in an
 * event.  A watcher stops reading history while a megabyte waits for its
 * client and resumes when that has been written.
 */
#include "tools/apiemu/watch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/keyvalq_struct.h>

/* Bytes queued for one client before the watcher waits for it. */
#define HIGH_WATER (1024 * 1024)
/* Objects written per step while sending the initial state. */
#define INITIAL_BATCH 256

struct emu_watch {
	TAILQ_ENTRY(emu_watch) link;
	struct emu_server *srv;
	struct evhttp_request *req;
	struct evhttp_connection *evcon;
	int res;
	char *ns; /* "ns/" prefix of keys, or NULL */
	size_t ns_len;
	struct emu_sel labels;
	struct emu_sel fields;
	uint64_t cursor; /* every event up to cursor has been looked at */
	bool initial;	 /* still sending the state at snap */
	uint64_t snap;
	char *init_after; /* last key sent of the initial state */
	bool bookmarks;
	bool dropping;
	int drop_ticks;
	struct evbuffer *pending;
	struct evbuffer *chunk;
	struct event *timeout_ev;
	struct event *bookmark_ev;
	struct event *drop_ev;
};

static void watch_free(struct emu_watch *w)
{
	struct emu_server *srv = w->srv;

	TAILQ_REMOVE(&srv->watches, w, link);
	srv->nwatches--;
	emu_sel_free(&w->labels);
	emu_sel_free(&w->fields);
	free(w->ns);
	free(w->init_after);
	evbuffer_free(w->pending);
	evbuffer_free(w->chunk);
	if (w->timeout_ev)
		event_free(w->timeout_ev);
	if (w->bookmark_ev)
		event_free(w->bookmark_ev);
	if (w->drop_ev)
		event_free(w->drop_ev);
	free(w);
}

static size_t queued(const struct emu_watch *w)
{
	struct bufferevent *bev = evhttp_connection_get_bufferevent(w->evcon);

	return evbuffer_get_length(w->pending) +
	       (bev ? evbuffer_get_length(bufferevent_get_output(bev)) : 0);
}

static void on_drained(struct evhttp_connection *evcon, void *arg);

/* Send everything pending, cut into chunks of random sizes: the first cut
 * falls at a random byte, so a chunk never holds exactly the events of a
 * flush. */
static void flush(struct emu_watch *w)
{
	size_t n = evbuffer_get_length(w->pending);
	bool first = true;

	while (n > 0) {
		uint64_t r = emu_store_rand(&w->srv->store);
		size_t k;

		if (first && n > 1)
			k = 1 + (size_t)(r >> 8) % (n - 1);
		else if (r % 4 == 0)
			k = 1 + (size_t)(r >> 8) % 48;
		else if (r % 4 == 3)
			k = n;
		else
			k = 256 + (size_t)(r >> 8) % 16384;
		first = false;
		if (k > n)
			k = n;
		evbuffer_remove_buffer(w->pending, w->chunk, k);
		evhttp_send_reply_chunk_with_cb(w->req, w->chunk, on_drained,
						w);
		evbuffer_drain(w->chunk, evbuffer_get_length(w->chunk));
		n -= k;
	}
}

/* End the stream cleanly (the terminating chunk) and free the watcher. */
static void end_stream(struct emu_watch *w)
{
	flush(w);
	evhttp_connection_set_closecb(w->evcon, NULL, NULL);
	evhttp_send_reply_end(w->req);
	watch_free(w);
}

static void write_event(struct emu_watch *w, const char *type,
			const struct emu_doc *doc, uint64_t rv)
{
	evbuffer_add_printf(w->pending, "{\"type\":\"%s\",\"object\":", type);
	emu_doc_write(w->pending, doc, rv, &emu_resources[w->res]);
	evbuffer_add(w->pending, "}\n", 2);
}

static void write_bookmark(struct emu_watch *w, uint64_t rv)
{
	const struct emu_resource_info *i = &emu_resources[w->res];

	evbuffer_add_printf(
	    w->pending,
	    "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"%s\","
	    "\"apiVersion\":\"%s\",\"metadata\":{"
	    "\"resourceVersion\":\"%llu\"}}}\n",
	    i->kind, i->api_version, (unsigned long long)rv);
}

static void write_error(struct emu_watch *w, const char *message)
{
	evbuffer_add_printf(
	    w->pending,
	    "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\","
	    "\"apiVersion\":\"v1\",\"metadata\":{},\"status\":"
	    "\"Failure\",\"message\":\"%s\",\"reason\":"
	    "\"Expired\",\"code\":410}}\n",
	    message);
}

static bool sees(const struct emu_watch *w, const struct emu_entry *e,
		 const struct emu_doc *d)
{
	return emu_sel_match_labels(&w->labels, d) &&
	       emu_sel_match_fields(&w->fields, e, d);
}

static bool in_ns(const struct emu_watch *w, const struct emu_entry *e)
{
	return !w->ns || strncmp(e->key, w->ns, w->ns_len) == 0;
}

static void deliver(struct emu_watch *w, const struct emu_event *ev)
{
	bool cur, prev;

	if (ev->res != w->res || !in_ns(w, ev->entry))
		return;
	cur = sees(w, ev->entry, ev->ver->doc);
	switch (ev->type) {
	case EMU_EV_ADDED:
		if (cur)
			write_event(w, "ADDED", ev->ver->doc, ev->rv);
		break;
	case EMU_EV_DELETED:
		if (cur)
			write_event(w, "DELETED", ev->ver->doc, ev->rv);
		break;
	default:
		prev = ev->prev && sees(w, ev->entry, ev->prev->doc);
		if (cur && prev)
			write_event(w, "MODIFIED", ev->ver->doc, ev->rv);
		else if (cur)
			write_event(w, "ADDED", ev->ver->doc, ev->rv);
		else if (prev) /* the last state it matched, at this rv */
			write_event(w, "DELETED", ev->prev->doc, ev->rv);
		break;
	}
}

/* One batch of the initial state; false when it is complete. */
static bool initial_step(struct emu_watch *w)
{
	const struct emu_store *s = &w->srv->store;
	const struct emu_table *t = &s->tables[w->res];
	const struct emu_entry *last = NULL;
	size_t i;
	int n = 0;

	if (w->init_after)
		i = emu_store_seek(s, w->res, w->init_after, false);
	else
		i = w->ns ? emu_store_seek(s, w->res, w->ns, true) : 0;
	for (; i < t->n && n < INITIAL_BATCH; i++, n++) {
		const struct emu_entry *e = t->v[i];
		const struct emu_version *v;

		if (!in_ns(w, e))
			break;
		last = e;
		v = emu_entry_at(e, w->snap);
		if (v && sees(w, e, v->doc))
			write_event(w, "ADDED", v->doc, v->rv);
	}
	if (n < INITIAL_BATCH || !last)
		return false;
	free(w->init_after);
	w->init_after = strdup(last->key);
	if (!w->init_after)
		abort();
	return true;
}

/* Move w forward; may end and free it. */
static void pump(struct emu_watch *w)
{
	const struct emu_store *s = &w->srv->store;

	if (w->srv->stalled || w->dropping)
		return;
	while (queued(w) < HIGH_WATER) {
		if (w->initial) {
			if (w->snap < s->compact_rv) {
				/* the snapshot was compacted under it */
				end_stream(w);
				return;
			}
			if (!initial_step(w)) {
				w->initial = false;
				free(w->init_after);
				w->init_after = NULL;
			}
			continue;
		}
		if (w->cursor >= s->rv)
			break;
		if (w->cursor < s->compact_rv) {
			/* too slow: the API server closes such watchers */
			end_stream(w);
			return;
		}
		w->cursor++;
		deliver(w, emu_store_event(s, w->cursor));
	}
	flush(w);
}

static void on_drained(struct evhttp_connection *evcon, void *arg)
{
	(void)evcon;
	pump(arg);
}

void emu_watch_pump_all(struct emu_server *srv)
{
	struct emu_watch *w, *next;

	for (w = TAILQ_FIRST(&srv->watches); w; w = next) {
		next = TAILQ_NEXT(w, link);
		pump(w);
	}
}

static void on_closed(struct evhttp_connection *evcon, void *arg)
{
	struct emu_watch *w = arg;
	struct evhttp_request *req = w->req;

	(void)evcon;
	watch_free(w);
	/* a request the connection let go of is ours to free */
	if (!evhttp_request_get_connection(req))
		evhttp_request_free(req);
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct emu_watch *w = arg;
	struct timeval again = {1, 0};

	(void)fd;
	(void)what;
	if (w->srv->stalled || w->dropping) {
		evtimer_add(w->timeout_ev, &again);
		return;
	}
	if (w->bookmarks && !w->initial)
		write_bookmark(w, w->cursor);
	end_stream(w);
}

static void on_bookmark(evutil_socket_t fd, short what, void *arg)
{
	struct emu_watch *w = arg;

	(void)fd;
	(void)what;
	if (w->srv->stalled || w->dropping || w->initial)
		return;
	if (w->cursor >= w->srv->store.rv || queued(w) < HIGH_WATER) {
		write_bookmark(w, w->cursor);
		flush(w);
	}
}

void emu_watch_start(struct emu_server *srv, struct evhttp_request *req,
		     int res, const char *ns, struct emu_sel *labels,
		     struct emu_sel *fields, const char *rv_text,
		     long timeout_seconds, bool bookmarks)
{
	struct emu_store *s = &srv->store;
	struct emu_watch *w = calloc(1, sizeof(*w));
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	uint64_t rv = 0;
	struct timeval tv;

	if (!w)
		abort();
	w->srv = srv;
	w->req = req;
	w->evcon = evhttp_request_get_connection(req);
	w->res = res;
	w->labels = *labels;
	w->fields = *fields;
	memset(labels, 0, sizeof(*labels));
	memset(fields, 0, sizeof(*fields));
	w->bookmarks = bookmarks;
	w->pending = evbuffer_new();
	w->chunk = evbuffer_new();
	if (!w->pending || !w->chunk)
		abort();
	if (ns) {
		w->ns_len = strlen(ns) + 1;
		w->ns = malloc(w->ns_len + 1);
		if (!w->ns)
			abort();
		snprintf(w->ns, w->ns_len + 1, "%s/", ns);
	}
	TAILQ_INSERT_TAIL(&srv->watches, w, link);
	srv->nwatches++;
	evhttp_connection_set_closecb(w->evcon, on_closed, w);

	evhttp_add_header(h, "Content-Type", "application/json");
	evhttp_add_header(h, "Cache-Control", "no-cache, private");
	evhttp_send_reply_start(req, 200, "OK");

	if (rv_text && *rv_text)
		rv = strtoull(rv_text, NULL, 10);
	if (rv == 0) {
		/* unset or "0": the current state as ADDED events first */
		w->initial = true;
		w->snap = s->rv;
		w->cursor = s->rv;
	} else if (rv < s->compact_rv) {
		char msg[128];

		snprintf(
		    msg, sizeof(msg), "too old resource version: %llu (%llu)",
		    (unsigned long long)rv, (unsigned long long)s->compact_rv);
		write_error(w, msg);
		end_stream(w);
		return;
	} else {
		w->cursor = rv;
	}

	if (timeout_seconds <= 0) /* as the API server: 30 to 60 minutes */
		timeout_seconds = 1800 + (long)(emu_store_rand(s) % 1800);
	tv.tv_sec = timeout_seconds;
	tv.tv_usec = 0;
	w->timeout_ev = evtimer_new(srv->base, on_timeout, w);
	if (!w->timeout_ev)
		abort();
	evtimer_add(w->timeout_ev, &tv);
	if (bookmarks && srv->bookmark_interval) {
		w->bookmark_ev =
		    event_new(srv->base, -1, EV_PERSIST, on_bookmark, w);
		if (!w->bookmark_ev)
			abort();
		tv.tv_sec = srv->bookmark_interval;
		evtimer_add(w->bookmark_ev, &tv);
	}
	pump(w);
}

static void on_drop_tick(evutil_socket_t fd, short what, void *arg)
{
	struct emu_watch *w = arg;
	struct bufferevent *bev = evhttp_connection_get_bufferevent(w->evcon);
	struct timeval tv = {0, 10000};

	(void)fd;
	(void)what;
	if (bev && evbuffer_get_length(bufferevent_get_output(bev)) > 0 &&
	    ++w->drop_ticks < 50) {
		evtimer_add(w->drop_ev, &tv);
		return;
	}
	/* frees w through on_closed */
	evhttp_connection_free(w->evcon);
}

void emu_watch_drop_all(struct emu_server *srv)
{
	static const char partial[] = "1000\r\n{\"type\":\"MODIFIED\",\"obj";
	struct emu_watch *w;
	struct timeval tv = {0, 0};

	TAILQ_FOREACH(w, &srv->watches, link)
	{
		struct bufferevent *bev;

		if (w->dropping)
			continue;
		flush(w);
		w->dropping = true;
		bev = evhttp_connection_get_bufferevent(w->evcon);
		if (bev)
			bufferevent_write(bev, partial, sizeof(partial) - 1);
		w->drop_ev = evtimer_new(srv->base, on_drop_tick, w);
		if (!w->drop_ev)
			abort();
		evtimer_add(w->drop_ev, &tv);
	}
}

void emu_watch_expire_all(struct emu_server *srv)
{
	struct emu_watch *w, *next;

	for (w = TAILQ_FIRST(&srv->watches); w; w = next) {
		next = TAILQ_NEXT(w, link);
		if (w->dropping)
			continue;
		write_error(w,
			    "The resourceVersion for the provided watch is too "
			    "old.");
		end_stream(w);
	}
}

void emu_watch_garbage_all(struct emu_server *srv)
{
	struct emu_watch *w;

	TAILQ_FOREACH(w, &srv->watches, link)
	{
		if (w->dropping)
			continue;
		evbuffer_add_printf(w->pending,
				    "this is not JSON {\"type\":\"ADDED\"\n");
		flush(w);
	}
}

void emu_watch_end_all(struct emu_server *srv)
{
	struct emu_watch *w;

	while ((w = TAILQ_FIRST(&srv->watches)) != NULL) {
		if (w->dropping) {
			evhttp_connection_free(w->evcon);
			continue;
		}
		end_stream(w);
	}
}
