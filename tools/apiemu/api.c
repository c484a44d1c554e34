/*
 * api.c -- discovery, GET, LIST and the start of watches.
 */
#include "tools/apiemu/api.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>

#include "tools/apiemu/select.h"
#include "tools/apiemu/watch.h"

#define MAX_SEGS 8
#define CONTINUE_VERSION "meta.k8s.io/v1"
/* Entries looked at past a full page to tell whether another one exists. */
#define LOOKAHEAD 1000

static const char expired_continue[] =
    "The provided continue parameter is too old to display a consistent "
    "list result. You can start a new list without the continue parameter, "
    "or use the continue token in this response to retrieve the remainder "
    "of the results. Continuing with the provided token results in an "
    "inconsistent list - objects that were created, modified, or deleted "
    "between the time the first chunk was returned and now may show up in "
    "the list.";

/* ---- base64url, as the API server encodes continue tokens */

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void b64_encode(struct evbuffer *out, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)p[i] << 16;
		char q[4];
		size_t k = 2;

		if (i + 1 < n) {
			v |= (unsigned)p[i + 1] << 8;
			k++;
		}
		if (i + 2 < n) {
			v |= p[i + 2];
			k++;
		}
		q[0] = b64[(v >> 18) & 63];
		q[1] = b64[(v >> 12) & 63];
		q[2] = b64[(v >> 6) & 63];
		q[3] = b64[v & 63];
		evbuffer_add(out, q, k);
	}
}

static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-' || c == '+')
		return 62;
	if (c == '_' || c == '/')
		return 63;
	return -1;
}

/* Decode standard or URL base64, padded or not; NULL when invalid. */
static char *b64_decode(const char *s)
{
	size_t n = strlen(s), o = 0;
	char *out = malloc(n + 1);
	unsigned acc = 0;
	int bits = 0;

	if (!out)
		abort();
	for (size_t i = 0; i < n; i++) {
		int v;

		if (s[i] == '=')
			break;
		v = b64_value(s[i]);
		if (v < 0) {
			free(out);
			return NULL;
		}
		acc = acc << 6 | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (char)((acc >> bits) & 0xff);
		}
	}
	out[o] = '\0';
	return out;
}

/* Append the token of a list at snap whose last key (relative to the
 * list's prefix) was rel: {"v":..,"rv":snap,"start":"rel\u0000"}. */
static void continue_token(struct evbuffer *out, uint64_t snap, const char *rel)
{
	struct evbuffer *t = evbuffer_new(), *k = evbuffer_new();
	size_t n;

	if (!t || !k)
		abort();
	evbuffer_add_printf(t,
			    "{\"v\":\"" CONTINUE_VERSION "\",\"rv\":%llu,"
			    "\"start\":",
			    (unsigned long long)snap);
	emu_json_string(k, rel);
	n = evbuffer_get_length(k);
	evbuffer_add(t, evbuffer_pullup(k, -1), n - 1); /* no closing quote */
	evbuffer_add_printf(t, "\\u0000\"}");
	n = evbuffer_get_length(t);
	b64_encode(out, evbuffer_pullup(t, -1), n);
	evbuffer_free(k);
	evbuffer_free(t);
}

/* ---- helpers */

static bool parse_bool(const char *s)
{
	return s && (strcmp(s, "true") == 0 || strcmp(s, "1") == 0 ||
		     strcmp(s, "True") == 0 || strcmp(s, "TRUE") == 0 ||
		     strcmp(s, "t") == 0 || strcmp(s, "T") == 0);
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-' || *s == '+')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end)
		return -EINVAL;
	*out = v;
	return 0;
}

static void reply_text(struct evhttp_request *req, const char *text)
{
	struct evbuffer *b = evbuffer_new();

	if (!b)
		abort();
	evbuffer_add_printf(b, "%s", text);
	evhttp_add_header(evhttp_request_get_output_headers(req),
			  "Content-Type", "text/plain; charset=utf-8");
	evhttp_send_reply(req, 200, "OK", b);
	evbuffer_free(b);
}

static void reply_literal(struct evhttp_request *req, const char *json)
{
	struct evbuffer *b = evbuffer_new();

	if (!b)
		abort();
	evbuffer_add_printf(b, "%s\n", json);
	emu_reply_json(req, 200, b);
	evbuffer_free(b);
}

static void not_found(struct evhttp_request *req)
{
	emu_reply_status(req, 404, "NotFound",
			 "the server could not find the requested resource", 0);
}

/* The resources of group version gv ("v1", "discovery.k8s.io/v1"). */
static void resource_list(struct evhttp_request *req, const char *gv)
{
	struct evbuffer *b = evbuffer_new();
	bool first = true;

	if (!b)
		abort();
	evbuffer_add_printf(b,
			    "{\"kind\":\"APIResourceList\",\"apiVersion\":"
			    "\"v1\",\"groupVersion\":\"%s\",\"resources\":[",
			    gv);
	for (int r = 0; r < EMU_RES_COUNT; r++) {
		const struct emu_resource_info *i = &emu_resources[r];

		if (strcmp(i->api_version, gv) != 0)
			continue;
		evbuffer_add_printf(
		    b,
		    "%s{\"name\":\"%s\",\"singularName\":\"\",\"namespaced\":%"
		    "s,\"kind\":\"%s\",\"verbs\":[\"get\",\"list\",\"watch\"]}",
		    first ? "" : ",", i->name, i->namespaced ? "true" : "false",
		    i->kind);
		first = false;
	}
	evbuffer_add_printf(b, "]}\n");
	emu_reply_json(req, 200, b);
	evbuffer_free(b);
}

/* ---- GET one object */

static void get_one(struct emu_server *srv, struct evhttp_request *req, int res,
		    const char *ns, const char *name)
{
	size_t kl = (ns ? strlen(ns) : 0) + strlen(name) + 2;
	char *key = malloc(kl);
	struct emu_entry *e;
	const struct emu_version *v = NULL;

	if (!key)
		abort();
	if (ns)
		snprintf(key, kl, "%s/%s", ns, name);
	else
		snprintf(key, kl, "%s", name);
	e = emu_store_find(&srv->store, res, key);
	free(key);
	if (e)
		v = emu_entry_at(e, srv->store.rv);
	if (!v) {
		char msg[512];

		snprintf(msg, sizeof(msg), "%s \"%s\" not found",
			 emu_resources[res].name, name);
		emu_reply_status(req, 404, "NotFound", msg, 0);
		return;
	}
	{
		struct evbuffer *b = evbuffer_new();

		if (!b)
			abort();
		emu_doc_write(b, v->doc, v->rv, &emu_resources[res]);
		evbuffer_add(b, "\n", 1);
		emu_reply_json(req, 200, b);
		evbuffer_free(b);
	}
}

/* ---- LIST */

struct list_args {
	int res;
	const char *ns;
	struct emu_sel labels;
	struct emu_sel fields;
	uint64_t limit;
	const char *cont;
	const char *rv;
	const char *rv_match;
};

static bool matches(const struct list_args *a, const struct emu_entry *e,
		    const struct emu_doc *d)
{
	return emu_sel_match_labels(&a->labels, d) &&
	       emu_sel_match_fields(&a->fields, e, d);
}

static void do_list(struct emu_server *srv, struct evhttp_request *req,
		    struct list_args *a)
{
	struct emu_store *s = &srv->store;
	const struct emu_table *t = &s->tables[a->res];
	const struct emu_resource_info *info = &emu_resources[a->res];
	uint64_t snap = s->rv;
	char *prefix = NULL, *start = NULL, *seek;
	size_t plen = 0, i, count = 0;
	struct evbuffer *items, *b;
	const char *last_key = NULL;
	bool more = false;

	if (a->cont) {
		char *raw = b64_decode(a->cont);
		cJSON *j = raw ? cJSON_Parse(raw) : NULL;
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, "v");
		const cJSON *rv = cJSON_GetObjectItemCaseSensitive(j, "rv");
		const cJSON *st = cJSON_GetObjectItemCaseSensitive(j, "start");

		free(raw);
		if (!cJSON_IsString(v) ||
		    strcmp(v->valuestring, CONTINUE_VERSION) != 0 ||
		    !cJSON_IsNumber(rv) || rv->valuedouble < 1 ||
		    !cJSON_IsString(st) || st->valuestring[0] == '/' ||
		    strstr(st->valuestring, "..")) {
			cJSON_Delete(j);
			emu_reply_status(req, 400, "BadRequest",
					 "continue key is not valid", 0);
			return;
		}
		snap = (uint64_t)rv->valuedouble;
		start = strdup(st->valuestring);
		cJSON_Delete(j);
		if (snap < s->compact_rv) {
			free(start);
			emu_reply_status(req, 410, "Expired", expired_continue,
					 0);
			return;
		}
	} else if (a->rv && a->rv_match && strcmp(a->rv_match, "Exact") == 0) {
		uint64_t want;

		if (parse_u64(a->rv, &want) < 0 || want == 0) {
			emu_reply_status(req, 400, "BadRequest",
					 "resourceVersion: Invalid value", 0);
			return;
		}
		if (want < s->compact_rv) {
			char msg[128];

			snprintf(msg, sizeof(msg),
				 "too old resource version: %llu (%llu)",
				 (unsigned long long)want,
				 (unsigned long long)s->compact_rv);
			emu_reply_status(req, 410, "Expired", msg, 0);
			return;
		}
		if (want < snap)
			snap = want;
	}
	if (a->ns) {
		plen = strlen(a->ns) + 1;
		prefix = malloc(plen + 1);
		if (!prefix)
			abort();
		snprintf(prefix, plen + 1, "%s/", a->ns);
	}
	seek = malloc(plen + (start ? strlen(start) : 0) + 1);
	if (!seek)
		abort();
	snprintf(seek, plen + (start ? strlen(start) : 0) + 1, "%s%s",
		 prefix ? prefix : "", start ? start : "");
	i = emu_store_seek(s, a->res, seek, !start);
	free(seek);
	free(start);

	items = evbuffer_new();
	b = evbuffer_new();
	if (!items || !b)
		abort();
	for (size_t look = 0; i < t->n; i++) {
		const struct emu_entry *e = t->v[i];
		const struct emu_version *v;

		if (prefix && strncmp(e->key, prefix, plen) != 0)
			break;
		if (a->limit && count == a->limit) {
			if (++look > LOOKAHEAD) {
				more = true;
				break;
			}
		}
		v = emu_entry_at(e, snap);
		if (!v || !matches(a, e, v->doc))
			continue;
		if (a->limit && count == a->limit) {
			more = true;
			break;
		}
		if (count)
			evbuffer_add(items, ",", 1);
		emu_doc_write(items, v->doc, v->rv, NULL);
		last_key = e->key;
		count++;
	}
	evbuffer_add_printf(b,
			    "{\"kind\":\"%s\",\"apiVersion\":\"%s\","
			    "\"metadata\":{\"resourceVersion\":\"%llu\"",
			    info->list_kind, info->api_version,
			    (unsigned long long)snap);
	if (more && last_key) {
		evbuffer_add_printf(b, ",\"continue\":\"");
		continue_token(b, snap, last_key + plen);
		evbuffer_add(b, "\"", 1);
	}
	evbuffer_add_printf(b, "},\"items\":[");
	evbuffer_add_buffer(b, items);
	evbuffer_add_printf(b, "]}\n");
	emu_reply_json(req, 200, b);
	evbuffer_free(b);
	evbuffer_free(items);
	free(prefix);
}

/* ---- routing */

static int split(char *path, char **segs)
{
	int n = 0;

	for (char *p = strtok(path, "/"); p; p = strtok(NULL, "/")) {
		if (n == MAX_SEGS)
			return -1;
		segs[n++] = p;
	}
	return n;
}

static void collection(struct emu_server *srv, struct evhttp_request *req,
		       int res, const char *ns)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *query = evhttp_uri_get_query(uri);
	struct evkeyvalq q;
	struct list_args a;
	const char *v;
	char err[512];

	TAILQ_INIT(&q);
	if (query && evhttp_parse_query_str(query, &q) < 0) {
		emu_reply_status(req, 400, "BadRequest", "bad query string", 0);
		return;
	}
	memset(&a, 0, sizeof(a));
	a.res = res;
	a.ns = ns;
	if (emu_sel_parse_labels(&a.labels,
				 evhttp_find_header(&q, "labelSelector"), err,
				 sizeof(err)) < 0 ||
	    emu_sel_parse_fields(&a.fields, res,
				 evhttp_find_header(&q, "fieldSelector"), err,
				 sizeof(err)) < 0) {
		emu_sel_free(&a.labels);
		emu_reply_status(req, 400, "BadRequest", err, 0);
		goto out;
	}
	a.rv = evhttp_find_header(&q, "resourceVersion");
	if (parse_bool(evhttp_find_header(&q, "watch"))) {
		uint64_t to = 0, rv;

		v = evhttp_find_header(&q, "timeoutSeconds");
		if (v && *v && parse_u64(v, &to) < 0) {
			emu_reply_status(req, 400, "BadRequest",
					 "timeoutSeconds: Invalid value", 0);
			goto fail;
		}
		if (a.rv && *a.rv && parse_u64(a.rv, &rv) < 0) {
			emu_reply_status(req, 400, "BadRequest",
					 "resourceVersion: Invalid value", 0);
			goto fail;
		}
		emu_watch_start(
		    srv, req, res, ns, &a.labels, &a.fields, a.rv, (long)to,
		    parse_bool(evhttp_find_header(&q, "allowWatchBookmarks")));
		goto out;
	}
	v = evhttp_find_header(&q, "limit");
	if (v && *v) {
		char *end;
		long long l = strtoll(v, &end, 10);

		if (*end) {
			emu_reply_status(req, 400, "BadRequest",
					 "limit: Invalid value", 0);
			goto fail;
		}
		a.limit = l > 0 ? (uint64_t)l : 0;
	}
	a.cont = evhttp_find_header(&q, "continue");
	if (a.cont && !*a.cont)
		a.cont = NULL;
	a.rv_match = evhttp_find_header(&q, "resourceVersionMatch");
	do_list(srv, req, &a);
fail:
	emu_sel_free(&a.labels);
	emu_sel_free(&a.fields);
out:
	evhttp_clear_headers(&q);
}

/* segs after the group version: RES | RES NAME | namespaces NS RES [NAME]
 * (core: namespaces NAME is the namespace itself). */
static void resources(struct emu_server *srv, struct evhttp_request *req,
		      const char *gv, char **segs, int n)
{
	const char *ns = NULL, *name = NULL;
	bool core = strcmp(gv, "v1") == 0;
	int res;

	if (n >= 3 && strcmp(segs[0], "namespaces") == 0) {
		ns = segs[1];
		segs += 2;
		n -= 2;
	} else if (core && n == 2 && strcmp(segs[0], "namespaces") == 0) {
		get_one(srv, req, EMU_RES_NAMESPACES, NULL, segs[1]);
		return;
	}
	if (n < 1 || n > 2) {
		not_found(req);
		return;
	}
	res = emu_resource_by_name(segs[0]);
	if (res < 0 || strcmp(emu_resources[res].api_version, gv) != 0 ||
	    (ns && !emu_resources[res].namespaced)) {
		not_found(req);
		return;
	}
	if (n == 2) {
		name = segs[1];
		if (emu_resources[res].namespaced && !ns) {
			not_found(req);
			return;
		}
		get_one(srv, req, res, ns, name);
		return;
	}
	collection(srv, req, res, ns);
}

void emu_api_handle(struct emu_server *srv, struct evhttp_request *req,
		    const char *path)
{
	char *copy = strdup(path);
	char *segs[MAX_SEGS];
	int n;
	enum evhttp_cmd_type m = evhttp_request_get_command(req);

	if (!copy)
		abort();
	n = split(copy, segs);
	if (n < 0) {
		not_found(req);
	} else if (m != EVHTTP_REQ_GET && m != EVHTTP_REQ_HEAD) {
		emu_reply_status(req, 405, "MethodNotAllowed",
				 "the server does not allow this method on "
				 "the requested resource",
				 0);
	} else if (n == 1 && (strcmp(segs[0], "healthz") == 0 ||
			      strcmp(segs[0], "livez") == 0 ||
			      strcmp(segs[0], "readyz") == 0)) {
		reply_text(req, "ok");
	} else if (n == 1 && strcmp(segs[0], "version") == 0) {
		reply_literal(
		    req,
		    "{\"major\":\"1\",\"minor\":\"31\",\"gitVersion\":"
		    "\"v1.31.0-apiemu\",\"gitCommit\":\"\",\"gitTreeState\":"
		    "\"clean\",\"buildDate\":\"\",\"goVersion\":\"\","
		    "\"compiler\":\"gc\",\"platform\":\"linux/amd64\"}");
	} else if (n == 1 && strcmp(segs[0], "api") == 0) {
		reply_literal(req,
			      "{\"kind\":\"APIVersions\",\"versions\":["
			      "\"v1\"],\"serverAddressByClientCIDRs\":[]}");
	} else if (n == 1 && strcmp(segs[0], "apis") == 0) {
		reply_literal(
		    req,
		    "{\"kind\":\"APIGroupList\",\"apiVersion\":\"v1\","
		    "\"groups\":[{\"name\":\"discovery.k8s.io\",\"versions\":[{"
		    "\"groupVersion\":\"discovery.k8s.io/v1\",\"version\":"
		    "\"v1\"}],\"preferredVersion\":{\"groupVersion\":"
		    "\"discovery.k8s.io/v1\",\"version\":\"v1\"}},"
		    "{\"name\":\"multicluster.x-k8s.io\",\"versions\":[{"
		    "\"groupVersion\":\"multicluster.x-k8s.io/v1alpha1\","
		    "\"version\":\"v1alpha1\"}],\"preferredVersion\":{"
		    "\"groupVersion\":\"multicluster.x-k8s.io/v1alpha1\","
		    "\"version\":\"v1alpha1\"}}]}");
	} else if (n == 2 && strcmp(segs[0], "api") == 0 &&
		   strcmp(segs[1], "v1") == 0) {
		resource_list(req, "v1");
	} else if (n == 3 && strcmp(segs[0], "apis") == 0 &&
		   strcmp(segs[1], "discovery.k8s.io") == 0 &&
		   strcmp(segs[2], "v1") == 0) {
		resource_list(req, "discovery.k8s.io/v1");
	} else if (n == 3 && strcmp(segs[0], "apis") == 0 &&
		   strcmp(segs[1], "multicluster.x-k8s.io") == 0 &&
		   strcmp(segs[2], "v1alpha1") == 0) {
		resource_list(req, "multicluster.x-k8s.io/v1alpha1");
	} else if (n >= 3 && strcmp(segs[0], "api") == 0 &&
		   strcmp(segs[1], "v1") == 0) {
		resources(srv, req, "v1", segs + 2, n - 2);
	} else if (n >= 4 && strcmp(segs[0], "apis") == 0 &&
		   strcmp(segs[1], "discovery.k8s.io") == 0 &&
		   strcmp(segs[2], "v1") == 0) {
		resources(srv, req, "discovery.k8s.io/v1", segs + 3, n - 3);
	} else if (n >= 4 && strcmp(segs[0], "apis") == 0 &&
		   strcmp(segs[1], "multicluster.x-k8s.io") == 0 &&
		   strcmp(segs[2], "v1alpha1") == 0) {
		resources(srv, req, "multicluster.x-k8s.io/v1alpha1", segs + 3,
			  n - 3);
	} else {
		not_found(req);
	}
	free(copy);
}
