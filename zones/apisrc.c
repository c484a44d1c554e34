/*
 * apisrc.c -- list and watch the Kubernetes API with libcurl's multi
 * interface on a libevent loop.
 */
#include "zones/apisrc.h"

#include <errno.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <event2/event.h>

#include "zones/backoff.h"
#include "zones/decode.h"
#include "zones/jarena.h"
#include "zones/jparse.h"
#include "zones/lines.h"
#include "zones/podscan.h"
#include "zones/skiplog.h"
#include "zones/watchev.h"

#define MAX_LINE (64u << 20)  /* longest watch event accepted */
#define MAX_BODY (512u << 20) /* largest LIST page accepted */
#define MAX_ERROR_BODY (64u << 10)
#define TOKEN_TTL_MS 60000 /* re-read the token this often */
#define TICK_MS 1000
#define POD_READ (128L << 10) /* libcurl's read buffer for a LIST of pods */

enum mode { M_LIST, M_WATCH };

struct buf {
	char *p;
	size_t len, cap;
};

struct res {
	struct apisrc *s;
	const char *name;      /* "services", for logs */
	char path[300];	       /* "/api/v1/services" */
	const char *kind_name; /* "Service": items of typed lists carry none */
	enum decode_kind kind;
	char *selectors; /* "&labelSelector=..." already escaped, or "" */
	enum mode mode;
	bool listed;	/* the first LIST completed */
	bool in_list;	/* kube_relist_begin called for the current list */
	char rv[64];	/* resourceVersion to watch from */
	char *cont;	/* continue token of the next page */
	uint32_t limit; /* objects per LIST page */
	CURL *easy;	/* the handle, kept across requests */
	bool active;	/* a request is in flight */
	struct curl_slist *hdrs;
	long status;
	bool status_known;
	bool abort_relist; /* the watch asked for a relist */
	int abort_cause;   /* why (APISRC_RELIST_*) */
	uint64_t relists[APISRC_RELIST_CAUSES]; /* by cause, for metrics */
	bool abort_retry; /* the watch ended in an error event */
	uint64_t started_ms;
	bool saw_event; /* the watch delivered something */
	bool changed;	/* events applied since the last commit */
	struct buf body;
	struct podscan *scan; /* pods: the LIST page scanned as it arrives */
	/* Pods: the next page, asked for as soon as this one's continue token
	 * is in (its metadata comes first), while this one is read. */
	struct {
		CURL *easy; /* kept, as easy is */
		struct curl_slist *hdrs;
		char *cont;  /* the token it was asked with */
		bool want;   /* the token is in: ask when libcurl returns */
		size_t seen; /* bytes libcurl gives again that were scanned */
		bool asked;  /* this page has had its next one asked */
		bool active; /* in the multi handle */
		bool done;   /* ended, with rc */
		CURLcode rc;
	} next;
	struct lines lines;
	uint32_t retry_after;
	uint64_t last_activity_ms;
	uint64_t next_resync_ms;
	struct backoff bo;
	struct event *timer; /* backoff wait before the next request */
	char errbuf[CURL_ERROR_SIZE];
};

struct sockctx {
	struct apisrc *s;
	struct event *ev;
	curl_socket_t fd;
};

struct apisrc {
	struct event_base *base;
	struct kube *k;
	struct apiconf api; /* shallow copy of the caller's */
	struct apisrc_conf conf;
	CURLM *multi;
	struct event *curl_timer;
	struct event *tick;
	struct res res[APISRC_MAX_RES];
	size_t nres;
	bool synced;
	char *url_base;		       /* server URL requests are made to */
	struct curl_slist *connect_to; /* for tls_server_name */
	char token[8192];
	uint64_t token_read_ms;
	bool token_ok;
	struct apisrc_stats stats;
	struct skiplog *skipped; /* objects left out, said once */
};

static uint64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

static void logf_(struct apisrc *s, enum apisrc_level lvl, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void logf_(struct apisrc *s, enum apisrc_level lvl, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (!s->conf.log)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	s->conf.log(s->conf.arg, lvl, msg);
}

static int buf_add(struct buf *b, const char *d, size_t n, size_t max)
{
	if (b->len + n > max)
		return -E2BIG;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 65536;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p)
			return -ENOMEM;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, d, n);
	b->len += n;
	b->p[b->len] = 0;
	return 0;
}

static void buf_free(struct buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

/* ---- libcurl on libevent ---- */

static void check_done(struct apisrc *s);

static void sock_event(evutil_socket_t fd, short what, void *arg)
{
	struct sockctx *sc = arg;
	struct apisrc *s = sc->s; /* sc may be freed by the call below */
	int running, flags = 0;

	if (what & EV_READ)
		flags |= CURL_CSELECT_IN;
	if (what & EV_WRITE)
		flags |= CURL_CSELECT_OUT;
	curl_multi_socket_action(s->multi, fd, flags, &running);
	check_done(s);
}

static int sock_cb(CURL *e, curl_socket_t fd, int what, void *userp,
		   void *socketp)
{
	struct apisrc *s = userp;
	struct sockctx *sc = socketp;

	if (what == CURL_POLL_REMOVE) {
		if (sc) {
			event_free(sc->ev);
			free(sc);
			curl_multi_assign(s->multi, fd, NULL);
		}
		return 0;
	}
	short kind = EV_PERSIST;
	if (what & CURL_POLL_IN)
		kind |= EV_READ;
	if (what & CURL_POLL_OUT)
		kind |= EV_WRITE;
	if (!sc) {
		sc = calloc(1, sizeof(*sc));
		if (!sc)
			return -1;
		sc->s = s;
		sc->fd = fd;
		curl_multi_assign(s->multi, fd, sc);
	} else {
		event_free(sc->ev);
	}
	sc->ev = event_new(s->base, fd, kind, sock_event, sc);
	if (!sc->ev || event_add(sc->ev, NULL) < 0)
		return -1;
	return 0;
}

static void curl_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct apisrc *s = arg;
	int running;

	curl_multi_socket_action(s->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(s);
}

static int timer_cb(CURLM *m, long timeout_ms, void *userp)
{
	struct apisrc *s = userp;

	if (timeout_ms < 0) {
		evtimer_del(s->curl_timer);
	} else {
		struct timeval tv = {timeout_ms / 1000,
				     (timeout_ms % 1000) * 1000};
		evtimer_add(s->curl_timer, &tv);
	}
	return 0;
}

/* ---- requests ---- */

static void res_start(struct res *r);

static void res_timer(evutil_socket_t fd, short what, void *arg)
{
	res_start(arg);
}

static void res_later(struct res *r, uint32_t ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	evtimer_add(r->timer, &tv);
}

/* Retry after a failure, with backoff. */
static void res_retry(struct res *r)
{
	uint32_t d = backoff_next(&r->bo, r->retry_after);

	r->retry_after = 0;
	r->s->stats.errors++;
	res_later(r, d);
}

/* End the request for the next page, if any (its handle is kept). */
static void next_drop(struct res *r)
{
	if (r->next.active)
		curl_multi_remove_handle(r->s->multi, r->next.easy);
	r->next.active = r->next.done = r->next.want = false;
	curl_slist_free_all(r->next.hdrs);
	r->next.hdrs = NULL;
	free(r->next.cont);
	r->next.cont = NULL;
}

/* End the request in flight; its handle is kept for the next one (which
 * keeps the connection to the server). */
static void res_drop(struct res *r)
{
	next_drop(r);
	r->next.asked = false;
	r->next.seen = 0;
	if (r->active)
		curl_multi_remove_handle(r->s->multi, r->easy);
	r->active = false;
	curl_slist_free_all(r->hdrs);
	r->hdrs = NULL;
	r->body.len = 0;
	lines_reset(&r->lines);
}

static const char *token(struct apisrc *s)
{
	uint64_t now = now_ms();

	if (!s->token_ok || now - s->token_read_ms > TOKEN_TTL_MS) {
		char fresh[sizeof(s->token)];
		int n = apiconf_token(&s->api, fresh, sizeof(fresh));
		if (n < 0) {
			/* Keep the last good token: the file may be between
			 * two versions. */
			logf_(s, APISRC_ERROR,
			      "plugin/kubernetes: cannot read the bearer "
			      "token: %s",
			      strerror(-n));
		} else {
			memcpy(s->token, fresh, sizeof(s->token));
			s->token_ok = true;
		}
		memset(fresh, 0, sizeof(fresh));
		s->token_read_ms = now;
	}
	return s->token[0] ? s->token : NULL;
}

static void commit(struct res *r)
{
	if (!r->changed)
		return;
	r->changed = false;
	if (kube_commit(r->s->k) < 0)
		logf_(r->s, APISRC_ERROR,
		      "plugin/kubernetes: out of memory building the zone");
}

static void skipped_log(void *arg, const char *msg)
{
	logf_(arg, APISRC_WARN, "%s", msg);
}

/* An object of r left out: say it once (skiplog.h).  msg names the
 * object and why. */
static void skipped(struct res *r, const char *msg)
{
	char line[768];

	snprintf(line, sizeof(line), "plugin/kubernetes: %s %s: left out %s",
		 r->mode == M_LIST ? "list" : "watch", r->name, msg);
	skiplog_note(r->s->skipped, (unsigned)r->kind, line);
}

/* Put o into the zone unless its name cannot be in DNS (then it is left
 * out, said once, and freed). */
static void put_obj(struct res *r, struct decode_obj *o)
{
	char why[160], msg[512];
	const char *bad = decode_unusable(o, why, sizeof(why));

	if (bad) {
		const char *ns = NULL, *name, *kind = "Namespace";
		if (o->kind == DECODE_NAMESPACE) {
			name = o->u.ns->name;
		} else if (o->kind == DECODE_SERVICE) {
			ns = o->u.svc->ns;
			name = o->u.svc->name;
			kind = "Service";
		} else if (o->kind == DECODE_IMPORT) {
			ns = o->u.imp->ns;
			name = o->u.imp->name;
			kind = "ServiceImport";
		} else {
			name = NULL;
		}
		struct decode_skip sk = {kind, ns, name, bad};
		char where[96];

		snprintf(where, sizeof(where), "%s %s",
			 r->mode == M_LIST ? "list" : "watch", r->name);
		skiplog_format(msg, sizeof(msg), where, &sk);
		skiplog_note(r->s->skipped, (unsigned)r->kind, msg);
		decode_obj_free(o);
		return;
	}
	kube_put(r->s->k, o);
}

/* One watch event line. Returns non-zero to end the watch. */
static int watch_line(const char *line, size_t len, void *arg)
{
	struct res *r = arg;
	struct apisrc *s = r->s;
	struct watchev ev;
	char why[300];
	int rc = watchev_parse(line, len, r->kind_name, &ev, why, sizeof(why));

	r->last_activity_ms = now_ms();
	r->saw_event = true;
	if (rc == -EINVAL) {
		logf_(s, APISRC_ERROR,
		      "plugin/kubernetes: watch %s: %s; relisting", r->name,
		      why);
		r->abort_relist = true;
		return 1;
	}
	if (rc == -EBADMSG) {
		skipped(r, why);
	} else {
		switch (ev.type) {
		case WATCHEV_ADDED:
		case WATCHEV_MODIFIED:
			put_obj(r, &ev.obj);
			r->changed = true;
			s->stats.events++;
			break;
		case WATCHEV_DELETED:
			if (kube_delete(s->k, r->kind, ev.ns[0] ? ev.ns : NULL,
					ev.name) != -ENOENT)
				r->changed = true;
			s->stats.events++;
			break;
		case WATCHEV_BOOKMARK:
			break;
		case WATCHEV_ERROR:
			if (ev.code == 410) {
				logf_(s, APISRC_INFO,
				      "plugin/kubernetes: watch %s: %s; "
				      "relisting",
				      r->name,
				      ev.message[0]
					  ? ev.message
					  : "resource version expired");
				r->abort_relist = true;
				r->abort_cause = APISRC_RELIST_GONE;
			} else {
				logf_(s, APISRC_WARN,
				      "plugin/kubernetes: watch %s: error %d: "
				      "%s",
				      r->name, ev.code, ev.message);
				r->abort_retry = true;
			}
			return 1;
		}
	}
	if (ev.rv[0])
		memcpy(r->rv, ev.rv, sizeof(r->rv));
	return 0;
}

static void list_begin(struct res *r);
static void res_done(struct res *r, CURLcode rc);
static void next_start(struct res *r);

static size_t on_header(char *d, size_t size, size_t n, void *arg)
{
	struct res *r = arg;
	size_t len = size * n;

	if (len > 12 && !strncasecmp(d, "Retry-After:", 12))
		r->retry_after = (uint32_t)strtoul(d + 12, NULL, 10);
	return len;
}

/* Bytes of a page of pods: each item into the store as soon as it is
 * whole.  Returns 0, 1 when the page's continue token has just come (the
 * next page is to be asked for: next.want), -1 when the page is no list. */
static int pods_feed(struct res *r, const char *d, size_t len)
{
	list_begin(r);
	if (podscan_feed(r->scan, d, len) < 0)
		return -1;
	if (r->next.asked || !podscan_continue(r->scan))
		return 0;
	r->next.asked = r->next.want = true;
	return 1;
}

static size_t on_data(char *d, size_t size, size_t n, void *arg)
{
	struct res *r = arg;
	size_t len = size * n;

	if (!r->status_known) {
		curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &r->status);
		r->status_known = true;
	}
	r->last_activity_ms = now_ms();
	if (r->scan && r->mode == M_LIST && r->status == 200) {
		size_t seen = len < r->next.seen ? len : r->next.seen;
		r->next.seen -= seen;
		int rc = pods_feed(r, d + seen, len - seen);
		if (rc < 0)
			return 0;
		if (rc > 0) {
			/* libcurl takes no new request in a callback: pause
			 * until it has returned (check_done), when it gives
			 * these bytes again */
			r->next.seen = len;
			return CURL_WRITEFUNC_PAUSE;
		}
		return len;
	}
	if (r->mode == M_LIST || r->status != 200) {
		size_t max = r->status == 200 ? MAX_BODY : MAX_ERROR_BODY;
		return buf_add(&r->body, d, len, max) < 0 ? 0 : len;
	}
	int rc = lines_feed(&r->lines, d, len, watch_line, r);
	commit(r);
	if (rc == -E2BIG) {
		logf_(r->s, APISRC_ERROR,
		      "plugin/kubernetes: watch %s: an event over %u bytes; "
		      "relisting",
		      r->name, MAX_LINE);
		r->abort_relist = true;
		r->abort_cause = APISRC_RELIST_GARBAGE;
	}
	return rc ? 0 : len;
}

/* Make e ready for url, with the headers (*hdrs, the caller's to free)
 * and the options every request has; a LIST of pods gets larger reads. */
static int req_setup(struct res *r, CURL *e, const char *url, bool list,
		     struct curl_slist **hdrs)
{
	struct apisrc *s = r->s;
	const char *tok = token(s);

	curl_easy_reset(e);
	*hdrs = curl_slist_append(NULL, "Accept: application/json");
	if (tok) {
		char h[8300];
		snprintf(h, sizeof(h), "Authorization: Bearer %s", tok);
		*hdrs = curl_slist_append(*hdrs, h);
		memset(h, 0, sizeof(h));
	}
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, *hdrs);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "clusterdns");
	curl_easy_setopt(e, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPIDLE, 30L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPINTVL, 15L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
	if (list)
		curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 120000L);
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	/* A list of pods is most of what a start reads: fewer, larger reads
	 * (each handle keeps its buffer: the other kinds keep libcurl's). */
	curl_easy_setopt(e, CURLOPT_BUFFERSIZE,
			 list && r->scan ? POD_READ
					 : (long)CURL_MAX_WRITE_SIZE);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(e, CURLOPT_PRIVATE, r);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
	if (s->api.insecure) {
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (s->connect_to)
		curl_easy_setopt(e, CURLOPT_CONNECT_TO, s->connect_to);
	if (s->api.ca_file)
		curl_easy_setopt(e, CURLOPT_CAINFO, s->api.ca_file);
	if (s->api.ca_pem) {
		struct curl_blob b = {s->api.ca_pem, s->api.ca_pem_len,
				      CURL_BLOB_NOCOPY};
		curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &b);
	}
	if (s->api.cert_file)
		curl_easy_setopt(e, CURLOPT_SSLCERT, s->api.cert_file);
	if (s->api.key_file)
		curl_easy_setopt(e, CURLOPT_SSLKEY, s->api.key_file);
	if (s->api.cert_pem) {
		struct curl_blob b = {s->api.cert_pem, s->api.cert_pem_len,
				      CURL_BLOB_NOCOPY};
		curl_easy_setopt(e, CURLOPT_SSLCERT_BLOB, &b);
		curl_easy_setopt(e, CURLOPT_SSLCERTTYPE, "PEM");
	}
	if (s->api.key_pem) {
		struct curl_blob b = {s->api.key_pem, s->api.key_pem_len,
				      CURL_BLOB_NOCOPY};
		curl_easy_setopt(e, CURLOPT_SSLKEY_BLOB, &b);
		curl_easy_setopt(e, CURLOPT_SSLKEYTYPE, "PEM");
	}
	return *hdrs ? 0 : -ENOMEM;
}

/* The URL of the LIST page at cont (NULL: the first). */
static void list_url(struct res *r, const char *cont, char *url, size_t len)
{
	char *c = cont ? curl_easy_escape(NULL, cont, 0) : NULL;

	snprintf(url, len, "%s%s?limit=%u%s%s%s", r->s->url_base, r->path,
		 r->limit, c ? "&continue=" : "", c ? c : "", r->selectors);
	curl_free(c);
}

/* The next page's first bytes, before it is the page read: it waits,
 * paused, with them in libcurl's buffer and the rest with the server. */
static size_t on_next_data(char *d, size_t size, size_t n, void *arg)
{
	(void)d;
	(void)size;
	(void)n;
	(void)arg;
	return CURL_WRITEFUNC_PAUSE;
}

static void res_start(struct res *r)
{
	struct apisrc *s = r->s;
	char url[8192];

	res_drop(r);
	r->status = 0;
	r->status_known = false;
	r->abort_relist = false;
	r->abort_retry = false;
	r->saw_event = false;
	r->started_ms = now_ms();
	if (r->mode == M_LIST) {
		list_url(r, r->cont, url, sizeof(url));
	} else {
		uint32_t t = backoff_jitter(&r->bo, 300, 600);
		snprintf(url, sizeof(url),
			 "%s%s?watch=true&allowWatchBookmarks=true&"
			 "resourceVersion=%s&timeoutSeconds=%u%s",
			 s->url_base, r->path, r->rv, t, r->selectors);
		s->stats.watches++;
	}
	lines_init(&r->lines, MAX_LINE);
	if (r->scan)
		podscan_reset(r->scan);
	if (!r->easy)
		r->easy = curl_easy_init();
	CURL *e = r->easy;
	if (!e || req_setup(r, e, url, r->mode == M_LIST, &r->hdrs) < 0)
		goto fail;
	r->errbuf[0] = 0;
	r->last_activity_ms = now_ms();
	if (curl_multi_add_handle(s->multi, e) != CURLM_OK)
		goto fail;
	r->active = true;
	return;
fail:
	logf_(s, APISRC_ERROR, "plugin/kubernetes: %s: cannot start a request",
	      r->name);
	res_drop(r);
	res_retry(r);
}

/* Ask for the page after this one (its token is in): it comes on a second
 * connection while this one is read, and waits in memory until it is its
 * turn.  Nothing is asked when that fails: the page is asked for when its
 * turn comes, as without this. */
static void next_start(struct res *r)
{
	const char *cont = podscan_continue(r->scan);
	char url[8192];

	r->next.want = false;
	if (!cont || r->mode != M_LIST || !r->active)
		return;
	next_drop(r);
	if (!(r->next.cont = strdup(cont)))
		return;
	list_url(r, cont, url, sizeof(url));
	if (!r->next.easy)
		r->next.easy = curl_easy_init();
	if (!r->next.easy ||
	    req_setup(r, r->next.easy, url, true, &r->next.hdrs) < 0) {
		next_drop(r);
		return;
	}
	/* it waits, paused, until it is the page read */
	curl_easy_setopt(r->next.easy, CURLOPT_WRITEFUNCTION, on_next_data);
	curl_easy_setopt(r->next.easy, CURLOPT_ERRORBUFFER, NULL);
	if (curl_multi_add_handle(r->s->multi, r->next.easy) != CURLM_OK) {
		next_drop(r);
		return;
	}
	r->next.active = true;
}

/* The page after the one just read was asked for with cont: make it the
 * page read, from its first bytes.  False when there is none (then the
 * caller asks). */
static bool next_take(struct res *r, const char *cont)
{
	if (!r->next.cont || !cont || strcmp(r->next.cont, cont) != 0 ||
	    (!r->next.active && !r->next.done)) {
		next_drop(r);
		return false;
	}
	/* the handles trade places: the one just used waits for the next */
	CURL *e = r->easy;
	bool active = r->next.active, done = r->next.done;
	CURLcode rc = r->next.rc;

	if (r->active)
		curl_multi_remove_handle(r->s->multi, e);
	curl_slist_free_all(r->hdrs);
	r->body.len = 0;
	r->easy = r->next.easy;
	r->hdrs = r->next.hdrs;
	r->next.easy = e;
	r->next.hdrs = NULL;
	r->next.active = r->next.done = false;
	free(r->next.cont);
	r->next.cont = NULL;
	r->next.asked = false;
	r->next.seen = 0;
	r->active = active;
	r->status = 0;
	r->status_known = false;
	r->abort_relist = r->abort_retry = r->saw_event = false;
	r->started_ms = r->last_activity_ms = now_ms();
	r->errbuf[0] = 0;
	podscan_reset(r->scan);
	curl_easy_setopt(r->easy, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(r->easy, CURLOPT_ERRORBUFFER, r->errbuf);
	/* libcurl gives what it holds of the page now */
	if (active)
		curl_easy_pause(r->easy, CURLPAUSE_CONT);
	if (done)
		res_done(r, rc);
	return true;
}

static void check_synced(struct apisrc *s)
{
	if (s->synced)
		return;
	for (size_t i = 0; i < s->nres; i++)
		if (!s->res[i].listed)
			return;
	s->synced = true;
	kube_set_synced(s->k);
	if (s->conf.synced)
		s->conf.synced(s->conf.arg);
}

static void begin_relist(struct res *r, int cause)
{
	next_drop(r);
	r->relists[cause]++;
	r->mode = M_LIST;
	free(r->cont);
	r->cont = NULL;
	r->in_list = false;
	r->s->stats.relists++;
}

static void scanned_pod(void *arg, const struct podscan_pod *p)
{
	struct res *r = arg;
	long node = obj_node_intern(p->node);

	kube_put_pod(r->s->k, p->ns, p->name, p->ips, p->nips,
		     node > 0 ? (uint32_t)node : 0, p->terminal);
}

static void list_done(struct res *r, const char *rv, const char *cont);

/* The first page of a list starts the relist of its kind. */
static void list_begin(struct res *r)
{
	if (!r->in_list) {
		skiplog_begin(r->s->skipped, (unsigned)r->kind);
		kube_relist_begin(r->s->k, r->kind);
		r->in_list = true;
	}
}

/* A page of pods is in: it was scanned as it arrived (podscan.h). */
static void list_pods_page(struct res *r)
{
	struct apisrc *s = r->s;
	struct podscan_list pl;

	list_begin(r);
	int rc = podscan_end(r->scan, &pl);
	if (rc < 0) {
		logf_(s, APISRC_ERROR,
		      "plugin/kubernetes: list %s: the answer is not a list",
		      r->name);
		begin_relist(r, APISRC_RELIST_GARBAGE);
		res_retry(r);
		return;
	}
	if (pl.nskip) {
		char msg[512];

		snprintf(msg, sizeof(msg), "%zu object%s: %s", pl.nskip,
			 pl.nskip == 1 ? "" : "s", pl.why);
		skipped(r, msg);
	}
	list_done(r, pl.rv, pl.cont);
	free(pl.cont);
}

/* A LIST page arrived whole (status 200). */
static void list_page(struct res *r)
{
	struct apisrc *s = r->s;
	if (r->scan) {
		list_pods_page(r);
		return;
	}
	jarena_begin(); /* the page's tree, freed at once at jarena_end */
	cJSON *doc = jparse(r->body.p, r->body.len, NULL);
	cJSON *meta = cJSON_GetObjectItem(doc, "metadata");
	cJSON *items = cJSON_GetObjectItem(doc, "items");
	const char *rv =
	    cJSON_GetStringValue(cJSON_GetObjectItem(meta, "resourceVersion"));
	const char *cont =
	    cJSON_GetStringValue(cJSON_GetObjectItem(meta, "continue"));
	cJSON *it;

	if (!doc || !rv || (items && !cJSON_IsArray(items))) {
		logf_(s, APISRC_ERROR,
		      "plugin/kubernetes: list %s: the answer is not a list",
		      r->name);
		cJSON_Delete(doc);
		jarena_end();
		begin_relist(r, APISRC_RELIST_GARBAGE);
		res_retry(r);
		return;
	}
	list_begin(r);
	cJSON_ArrayForEach(it, items)
	{
		struct decode_obj o;
		struct decode_err derr;
		if (decode_object(it, r->kind_name, &o, &derr) < 0) {
			skipped(r, derr.msg);
			continue;
		}
		put_obj(r, &o);
	}
	/* rv and cont point into the tree, which the arena frees whole */
	char rvbuf[sizeof(r->rv)], *next = NULL;
	snprintf(rvbuf, sizeof(rvbuf), "%s", rv);
	bool oom = cont && *cont && !(next = strdup(cont));
	jarena_end();
	if (oom) {
		res_retry(r);
		return;
	}
	list_done(r, rvbuf, next);
	free(next);
}

/* A page is in: ask for the next one, or finish the list. */
static void list_done(struct res *r, const char *rv, const char *cont)
{
	struct apisrc *s = r->s;

	r->changed = true;
	free(r->cont);
	r->cont = cont && *cont ? strdup(cont) : NULL;
	if (!r->cont)
		snprintf(r->rv, sizeof(r->rv), "%s", rv);
	if (!r->cont) {
		/* The whole list is in: one commit publishes it. */
		kube_relist_end(s->k, r->kind);
		skiplog_end(s->skipped, (unsigned)r->kind);
		r->in_list = false;
		r->mode = M_WATCH;
		r->listed = true;
		s->stats.lists++;
		buf_free(&r->body);
		jarena_release();
		commit(r);
		/* Listing took pages of JSON and their trees; give the heap
		 * they leave free back, so that steady memory is what the
		 * zone needs. */
		malloc_trim(0);
	}
	backoff_reset(&r->bo);
	check_synced(s);
	if (r->mode == M_LIST && r->cont && next_take(r, r->cont))
		return;
	res_start(r);
}

static const char *status_message(struct res *r, char *buf, size_t len)
{
	cJSON *doc = r->body.p ? jparse(r->body.p, r->body.len, NULL) : NULL;
	const char *m =
	    cJSON_GetStringValue(cJSON_GetObjectItem(doc, "message"));

	snprintf(buf, len, "%s", m ? m : "");
	cJSON_Delete(doc);
	return buf;
}

static void res_done(struct res *r, CURLcode rc)
{
	struct apisrc *s = r->s;
	char msg[512];
	long status = 0;

	curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
	if (r->mode == M_WATCH && (r->abort_relist)) {
		res_drop(r);
		begin_relist(r, r->abort_cause);
		res_later(r, backoff_next(&r->bo, 0));
		return;
	}
	if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && status == 200)) {
		/* TLS and certificate trouble does not heal by itself. */
		bool tls = rc == CURLE_PEER_FAILED_VERIFICATION ||
			   rc == CURLE_SSL_CONNECT_ERROR ||
			   rc == CURLE_SSL_CERTPROBLEM ||
			   rc == CURLE_SSL_CACERT_BADFILE ||
			   rc == CURLE_SSL_CIPHER;
		logf_(s, tls ? APISRC_ERROR : APISRC_WARN,
		      "plugin/kubernetes: %s %s: %s",
		      r->mode == M_LIST ? "list" : "watch", r->name,
		      r->errbuf[0] ? r->errbuf : curl_easy_strerror(rc));
		if (r->mode == M_WATCH && r->saw_event)
			backoff_reset(&r->bo);
		res_drop(r);
		res_retry(r);
		return;
	}
	switch (status) {
	case 200:
		if (r->mode == M_LIST) {
			list_page(r);
			return;
		}
		/* The server ended the watch (its timeout): go on from the
		 * last resourceVersion at once -- unless it ended in an error
		 * or at once without a word, which must not spin. */
		if (r->abort_retry ||
		    (!r->saw_event && now_ms() - r->started_ms < 1000))
			break;
		res_drop(r);
		backoff_reset(&r->bo);
		res_start(r);
		return;
	case 410:
		logf_(s, APISRC_INFO,
		      "plugin/kubernetes: %s %s: gone (%s); "
		      "relisting",
		      r->mode == M_LIST ? "list" : "watch", r->name,
		      status_message(r, msg, sizeof(msg)));
		res_drop(r);
		begin_relist(r, APISRC_RELIST_GONE);
		res_start(r);
		return;
	case 401:
		/* Bound tokens rotate: read it again before retrying. */
		s->token_ok = false;
		break;
	default:
		break;
	}
	logf_(s, APISRC_WARN, "plugin/kubernetes: %s %s: HTTP %ld %s",
	      r->mode == M_LIST ? "list" : "watch", r->name, status,
	      status_message(r, msg, sizeof(msg)));
	res_drop(r);
	res_retry(r);
}

static void check_done(struct apisrc *s)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(s->multi, &left))) {
		if (m->msg != CURLMSG_DONE)
			continue;
		struct res *r = NULL;
		CURL *e = m->easy_handle;
		curl_easy_getinfo(e, CURLINFO_PRIVATE, &r);
		if (r && r->next.active && e == r->next.easy) {
			/* the next page is in before its turn */
			curl_multi_remove_handle(s->multi, e);
			r->next.active = false;
			r->next.done = true;
			r->next.rc = m->data.result;
		} else if (r) {
			res_done(r, m->data.result);
		}
	}
	for (size_t i = 0; i < s->nres; i++) {
		struct res *r = &s->res[i];
		if (r->next.want) {
			next_start(r);
			/* the page read goes on */
			if (r->active)
				curl_easy_pause(r->easy, CURLPAUSE_CONT);
		}
	}
}

/* Once a second: dead watches, periodic relists. */
static void tick(evutil_socket_t fd, short what, void *arg)
{
	struct apisrc *s = arg;
	uint64_t now = now_ms();

	for (size_t i = 0; i < s->nres; i++) {
		struct res *r = &s->res[i];
		if (!r->active || r->mode != M_WATCH)
			continue;
		if (s->conf.resync_ms && now >= r->next_resync_ms) {
			r->next_resync_ms =
			    now + backoff_jitter(&r->bo,
						 s->conf.resync_ms / 10 * 9,
						 s->conf.resync_ms / 10 * 11);
			res_drop(r);
			begin_relist(r, APISRC_RELIST_RESYNC);
			res_start(r);
		} else if (now - r->last_activity_ms >
			   s->conf.idle_timeout_ms) {
			logf_(s, APISRC_WARN,
			      "plugin/kubernetes: watch %s: nothing for %u s; "
			      "treating it as dead",
			      r->name, s->conf.idle_timeout_ms / 1000);
			res_drop(r);
			res_retry(r);
		}
	}
}

/* ---- setup ---- */

/* The URL requests go to: the server's, or with tls_server_name that name
 * in its place, connected to the server's host (the certificate is then
 * checked against the name, as client-go does). */
static int set_base(struct apisrc *s, char *err, size_t errlen)
{
	CURLU *u = NULL;
	char *host = NULL, *port = NULL, *url = NULL;
	int rc = -EINVAL;

	if (!s->api.tls_server_name)
		return (s->url_base = strdup(s->api.server)) ? 0 : -ENOMEM;
	u = curl_url();
	if (!u || curl_url_set(u, CURLUPART_URL, s->api.server, 0) ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) ||
	    curl_url_set(u, CURLUPART_HOST, s->api.tls_server_name, 0) ||
	    curl_url_get(u, CURLUPART_URL, &url, 0)) {
		snprintf(err, errlen, "cannot use tls-server-name with %s",
			 s->api.server);
		goto out;
	}
	char ct[600];
	snprintf(ct, sizeof(ct), "%s:%s:%s:%s", s->api.tls_server_name, port,
		 host, port);
	s->connect_to = curl_slist_append(NULL, ct);
	size_t n = strlen(url);
	if (n && url[n - 1] == '/')
		url[n - 1] = 0;
	s->url_base = strdup(url);
	rc = s->connect_to && s->url_base ? 0 : -ENOMEM;
out:
	curl_free(host);
	curl_free(port);
	curl_free(url);
	curl_url_cleanup(u);
	return rc;
}

static char *selectors(const char *label, const char *field)
{
	char *l = label && *label ? curl_easy_escape(NULL, label, 0) : NULL;
	char *f = field && *field ? curl_easy_escape(NULL, field, 0) : NULL;
	size_t n = 64 + (l ? strlen(l) : 0) + (f ? strlen(f) : 0);
	char *out = malloc(n);

	if (out)
		snprintf(out, n, "%s%s%s%s", l ? "&labelSelector=" : "",
			 l ? l : "", f ? "&fieldSelector=" : "", f ? f : "");
	curl_free(l);
	curl_free(f);
	return out;
}

static int add_res(struct apisrc *s, const char *name, const char *path,
		   const char *kind_name, enum decode_kind kind,
		   const char *label, const char *field, uint64_t seed)
{
	struct res *r = &s->res[s->nres];

	r->s = s;
	r->name = name;
	snprintf(r->path, sizeof(r->path), "%s", path);
	r->kind_name = kind_name;
	r->kind = kind;
	r->mode = M_LIST;
	r->selectors = selectors(label, field);
	r->timer = evtimer_new(s->base, res_timer, r);
	r->limit = s->conf.page_limit;
	if (kind == DECODE_POD) {
		r->scan = podscan_new(scanned_pod, r);
		r->limit = s->conf.pod_page_limit;
	}
	backoff_init(&r->bo, seed + s->nres);
	lines_init(&r->lines, MAX_LINE);
	if (!r->selectors || !r->timer || (kind == DECODE_POD && !r->scan))
		return -ENOMEM;
	if (s->conf.resync_ms)
		r->next_resync_ms =
		    now_ms() + backoff_jitter(&r->bo,
					      s->conf.resync_ms / 10 * 9,
					      s->conf.resync_ms / 10 * 11);
	s->nres++;
	return 0;
}

struct apisrc *apisrc_new(struct event_base *base, struct kube *k,
			  const struct apisrc_conf *conf, char *err,
			  size_t errlen)
{
	static bool curl_ready;
	struct apisrc *s = calloc(1, sizeof(*s));
	uint64_t seed = now_ms() ^ (uint64_t)(uintptr_t)s;

	if (!s)
		goto nomem;
	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			snprintf(err, errlen, "cannot initialise libcurl");
			goto fail;
		}
		curl_ready = true;
	}
	jarena_install();
	s->base = base;
	s->k = k;
	s->api = *conf->api;
	s->conf = *conf;
	if (!s->conf.page_limit)
		s->conf.page_limit = 100;
	if (!s->conf.pod_page_limit)
		s->conf.pod_page_limit = 500;
	if (!s->conf.idle_timeout_ms)
		s->conf.idle_timeout_ms = 180000;
	if (set_base(s, err, errlen) < 0)
		goto fail;
	s->multi = curl_multi_init();
	s->curl_timer = evtimer_new(base, curl_timeout, s);
	s->tick = event_new(base, -1, EV_PERSIST, tick, s);
	s->skipped = skiplog_new(skipped_log, s);
	if (!s->multi || !s->curl_timer || !s->tick || !s->skipped)
		goto nomem;
	curl_multi_setopt(s->multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
	curl_multi_setopt(s->multi, CURLMOPT_SOCKETDATA, s);
	curl_multi_setopt(s->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(s->multi, CURLMOPT_TIMERDATA, s);
	/* One namespace: the server filters, through namespaced paths. */
	const char *ns = conf->namespace;
	char p_svc[300], p_eps[300], p_pod[300], p_imp[300], f_ns[300];
	if (ns) {
		snprintf(p_svc, sizeof(p_svc), "/api/v1/namespaces/%s/services",
			 ns);
		snprintf(
		    p_eps, sizeof(p_eps),
		    "/apis/discovery.k8s.io/v1/namespaces/%s/endpointslices",
		    ns);
		snprintf(p_pod, sizeof(p_pod), "/api/v1/namespaces/%s/pods",
			 ns);
		snprintf(f_ns, sizeof(f_ns), "metadata.name=%s", ns);
		snprintf(p_imp, sizeof(p_imp),
			 "/apis/multicluster.x-k8s.io/v1alpha1/namespaces/%s/"
			 "serviceimports",
			 ns);
	}
	if (add_res(s, "namespaces", "/api/v1/namespaces", "Namespace",
		    DECODE_NAMESPACE, conf->namespace_labels, ns ? f_ns : NULL,
		    seed) < 0 ||
	    add_res(s, "services", ns ? p_svc : "/api/v1/services", "Service",
		    DECODE_SERVICE, conf->labels, NULL, seed) < 0 ||
	    add_res(s, "endpointslices",
		    ns ? p_eps : "/apis/discovery.k8s.io/v1/endpointslices",
		    "EndpointSlice", DECODE_SLICE, conf->labels, NULL,
		    seed) < 0)
		goto nomem;
	if (conf->watch_pods &&
	    add_res(s, "pods", ns ? p_pod : "/api/v1/pods", "Pod", DECODE_POD,
		    NULL, "status.phase!=Succeeded,status.phase!=Failed",
		    seed) < 0)
		goto nomem;
	if (conf->watch_imports &&
	    add_res(s, "serviceimports",
		    ns ? p_imp
		       : "/apis/multicluster.x-k8s.io/v1alpha1/serviceimports",
		    "ServiceImport", DECODE_IMPORT, NULL, NULL, seed) < 0)
		goto nomem;
	struct timeval tv = {TICK_MS / 1000, 0};
	event_add(s->tick, &tv);
	for (size_t i = 0; i < s->nres; i++)
		res_start(&s->res[i]);
	return s;
nomem:
	snprintf(err, errlen, "out of memory");
fail:
	apisrc_free(s);
	return NULL;
}

void apisrc_free(struct apisrc *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nres; i++) {
		struct res *r = &s->res[i];
		res_drop(r);
		if (r->easy)
			curl_easy_cleanup(r->easy);
		if (r->next.easy)
			curl_easy_cleanup(r->next.easy);
		buf_free(&r->body);
		if (r->timer)
			event_free(r->timer);
		free(r->selectors);
		free(r->cont);
		podscan_free(r->scan);
	}
	if (s->multi)
		curl_multi_cleanup(s->multi);
	if (s->curl_timer)
		event_free(s->curl_timer);
	if (s->tick)
		event_free(s->tick);
	curl_slist_free_all(s->connect_to);
	free(s->url_base);
	skiplog_free(s->skipped);
	memset(s->token, 0, sizeof(s->token));
	free(s);
}

bool apisrc_synced(const struct apisrc *s)
{
	return s->synced;
}

void apisrc_stats(const struct apisrc *s, struct apisrc_stats *out)
{
	*out = s->stats;
}

const char *apisrc_relist_cause_name(int cause)
{
	static const char *const names[APISRC_RELIST_CAUSES] = {
	    "gone", "garbage", "resync"};

	return cause >= 0 && cause < APISRC_RELIST_CAUSES ? names[cause] : "";
}

size_t apisrc_resources(const struct apisrc *s, struct apisrc_res_info *out,
			size_t max)
{
	uint64_t now = now_ms();
	size_t n = 0;

	for (; n < s->nres && n < max; n++) {
		const struct res *r = &s->res[n];
		out[n].kind = r->name;
		out[n].seen = r->last_activity_ms != 0;
		out[n].age_ms =
		    now > r->last_activity_ms ? now - r->last_activity_ms : 0;
		memcpy(out[n].relists, r->relists, sizeof(r->relists));
	}
	return n;
}
