/*
 * control.c -- the /_control/ interface.
 */
#include "tools/apiemu/control.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <event2/buffer.h>

#include "tools/apiemu/churn.h"
#include "tools/apiemu/watch.h"

static void reply(struct evhttp_request *req, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void reply(struct evhttp_request *req, int code, const char *fmt, ...)
{
	struct evbuffer *b = evbuffer_new();
	va_list ap;

	if (!b)
		abort();
	va_start(ap, fmt);
	evbuffer_add_vprintf(b, fmt, ap);
	va_end(ap);
	evbuffer_add(b, "\n", 1);
	emu_reply_json(req, code, b);
	evbuffer_free(b);
}

static void reply_error(struct evhttp_request *req, int code, const char *msg)
{
	struct evbuffer *b = evbuffer_new();

	if (!b)
		abort();
	evbuffer_add_printf(b, "{\"error\":");
	emu_json_string(b, msg);
	evbuffer_add_printf(b, "}\n");
	emu_reply_json(req, code, b);
	evbuffer_free(b);
}

/* The request body parsed as JSON; NULL (and answered) when it is not. */
static cJSON *body_json(struct evhttp_request *req, bool optional)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t n = evbuffer_get_length(in);
	char *text;
	cJSON *j;

	if (n == 0 && optional)
		return cJSON_CreateObject();
	text = malloc(n + 1);
	if (!text)
		abort();
	evbuffer_copyout(in, text, n);
	text[n] = '\0';
	j = cJSON_Parse(text);
	free(text);
	if (!j)
		reply_error(req, 400, "body is not valid JSON");
	return j;
}

static void put_objects(struct emu_server *srv, struct evhttp_request *req)
{
	cJSON *j = body_json(req, false), *it;
	const cJSON *items;
	char err[256];
	long n = 0;
	int hint = -1;

	if (!j)
		return;
	items = cJSON_GetObjectItemCaseSensitive(j, "items");
	if (cJSON_IsArray(items)) {
		const cJSON *k = cJSON_GetObjectItemCaseSensitive(j, "kind");

		if (cJSON_IsString(k)) {
			size_t kl = strlen(k->valuestring);
			char base[64];

			if (kl > 4 && kl - 4 < sizeof(base)) {
				memcpy(base, k->valuestring, kl - 4);
				base[kl - 4] = '\0';
				hint = emu_resource_by_kind(base);
			}
		}
		cJSON_ArrayForEach(it, items)
		{
			if (emu_store_put(&srv->store, it, hint, NULL, err,
					  sizeof(err)) < 0) {
				char msg[320];

				snprintf(msg, sizeof(msg),
					 "item %ld: %s (items before it "
					 "were stored)",
					 n, err);
				reply_error(req, 400, msg);
				cJSON_Delete(j);
				return;
			}
			n++;
		}
	} else {
		if (emu_store_put(&srv->store, j, -1, NULL, err, sizeof(err)) <
		    0) {
			reply_error(req, 400, err);
			cJSON_Delete(j);
			return;
		}
		n = 1;
	}
	cJSON_Delete(j);
	reply(req, 200, "{\"resourceVersion\":%llu,\"count\":%ld}",
	      (unsigned long long)srv->store.rv, n);
}

/* rest: "RESOURCE/NS/NAME" or "namespaces/NAME" */
static void delete_object(struct emu_server *srv, struct evhttp_request *req,
			  const char *rest)
{
	char *copy = strdup(rest), *segs[3], *save = NULL;
	int n = 0, res;
	const char *ns = NULL, *name;

	if (!copy)
		abort();
	for (char *p = strtok_r(copy, "/", &save); p;
	     p = strtok_r(NULL, "/", &save)) {
		if (n == 3) {
			n = 4;
			break;
		}
		segs[n++] = p;
	}
	res = n >= 2 ? emu_resource_by_name(segs[0]) : -1;
	if (res < 0 || n != (emu_resources[res].namespaced ? 3 : 2)) {
		reply_error(req, 400,
			    "want DELETE /_control/objects/RESOURCE/NS/NAME "
			    "or /_control/objects/namespaces/NAME");
		free(copy);
		return;
	}
	if (n == 3) {
		ns = segs[1];
		name = segs[2];
	} else {
		name = segs[1];
	}
	if (emu_store_delete(&srv->store, res, ns, name, NULL) < 0)
		reply_error(req, 404, "no such object");
	else
		reply(req, 200, "{\"resourceVersion\":%llu}",
		      (unsigned long long)srv->store.rv);
	free(copy);
}

static void compact(struct emu_server *srv, struct evhttp_request *req)
{
	cJSON *j = body_json(req, true);
	const cJSON *rv;
	uint64_t upto = srv->store.rv;

	if (!j)
		return;
	rv = cJSON_GetObjectItemCaseSensitive(j, "resourceVersion");
	if (cJSON_IsNumber(rv) && rv->valuedouble >= 1)
		upto = (uint64_t)rv->valuedouble;
	cJSON_Delete(j);
	emu_store_compact(&srv->store, upto);
	reply(req, 200,
	      "{\"resourceVersion\":%llu,\"oldestResourceVersion\":%llu}",
	      (unsigned long long)srv->store.rv,
	      (unsigned long long)srv->store.compact_rv);
}

static double num(const cJSON *j, const char *name, double dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, name);

	return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

static const char *str(const cJSON *j, const char *name, const char *dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, name);

	return cJSON_IsString(v) ? v->valuestring : dflt;
}

/* A Service whose event line is about bytes long: the existing one with a
 * large annotation, or a new ClusterIP service. */
static int big_object(struct emu_server *srv, const cJSON *j, char *err,
		      size_t errlen)
{
	const char *ns = str(j, "namespace", "default");
	const char *name = str(j, "name", "big-object");
	double bytes = num(j, "bytes", 5000000);
	size_t kl = strlen(ns) + strlen(name) + 2, n;
	char *key = malloc(kl), *blob;
	struct emu_entry *e;
	const struct emu_version *v = NULL;
	cJSON *obj, *meta, *ann;
	int rc;

	if (!key)
		abort();
	if (bytes < 1 || bytes > 256e6) {
		free(key);
		snprintf(err, errlen, "bytes out of range");
		return -EINVAL;
	}
	snprintf(key, kl, "%s/%s", ns, name);
	e = emu_store_find(&srv->store, EMU_RES_SERVICES, key);
	free(key);
	if (e)
		v = emu_entry_at(e, srv->store.rv);
	if (v) {
		obj = emu_doc_json(v->doc, v->rv);
	} else {
		obj = cJSON_Parse(
		    "{\"metadata\":{},\"spec\":{\"type\":\"ClusterIP\","
		    "\"clusterIP\":\"10.96.255.254\",\"clusterIPs\":["
		    "\"10.96.255.254\"],\"ports\":[{\"name\":\"http\","
		    "\"protocol\":\"TCP\",\"port\":80,\"targetPort\":80}]}}");
		if (obj) {
			meta =
			    cJSON_GetObjectItemCaseSensitive(obj, "metadata");
			cJSON_AddStringToObject(meta, "name", name);
			cJSON_AddStringToObject(meta, "namespace", ns);
		}
	}
	if (!obj) {
		snprintf(err, errlen, "cannot build the object");
		return -EINVAL;
	}
	meta = cJSON_GetObjectItemCaseSensitive(obj, "metadata");
	ann = cJSON_GetObjectItemCaseSensitive(meta, "annotations");
	if (!cJSON_IsObject(ann)) {
		cJSON_DeleteItemFromObjectCaseSensitive(meta, "annotations");
		ann = cJSON_AddObjectToObject(meta, "annotations");
	}
	n = (size_t)bytes;
	blob = malloc(n + 1);
	if (!blob)
		abort();
	/* vary it so nothing compresses it away */
	for (size_t i = 0; i < n; i++)
		blob[i] = (char)('a' + (i * 7 + srv->store.rv) % 26);
	blob[n] = '\0';
	cJSON_DeleteItemFromObjectCaseSensitive(ann, "apiemu.example/big");
	cJSON_AddStringToObject(ann, "apiemu.example/big", blob);
	free(blob);
	rc = emu_store_put(&srv->store, obj, EMU_RES_SERVICES, NULL, err,
			   errlen);
	cJSON_Delete(obj);
	return rc;
}

static void fault(struct emu_server *srv, struct evhttp_request *req)
{
	cJSON *j = body_json(req, false);
	const char *f;
	char err[256];

	if (!j)
		return;
	f = str(j, "fault", "");
	if (strcmp(f, "drop-watches") == 0) {
		emu_watch_drop_all(srv);
	} else if (strcmp(f, "stall") == 0) {
		double s = num(j, "seconds", 5);

		emu_server_stall(srv, s < 0 ? 0 : (unsigned)s);
	} else if (strcmp(f, "expire-watches") == 0) {
		emu_watch_expire_all(srv);
	} else if (strcmp(f, "status") == 0) {
		int code = (int)num(j, "code", 500);

		if (code != 401 && code != 429 && code != 500) {
			reply_error(req, 400, "code must be 401, 429 or 500");
			cJSON_Delete(j);
			return;
		}
		srv->fault_code = code;
		srv->fault_count = (unsigned)num(j, "count", 1);
		srv->retry_after = (unsigned)num(j, "retry_after", 1);
	} else if (strcmp(f, "garbage-line") == 0) {
		emu_watch_garbage_all(srv);
	} else if (strcmp(f, "big-object") == 0) {
		if (big_object(srv, j, err, sizeof(err)) < 0) {
			reply_error(req, 400, err);
			cJSON_Delete(j);
			return;
		}
	} else if (strcmp(f, "clear") == 0) {
		srv->fault_count = 0;
		emu_server_unstall(srv);
	} else {
		reply_error(req, 400, "unknown fault");
		cJSON_Delete(j);
		return;
	}
	cJSON_Delete(j);
	reply(req, 200, "{\"resourceVersion\":%llu,\"watchers\":%u}",
	      (unsigned long long)srv->store.rv, srv->nwatches);
}

/* POST: start, change or stop the churn; GET: its state. */
static void churn(struct emu_server *srv, struct evhttp_request *req, bool post)
{
	struct evbuffer *b;
	char err[256];

	if (post) {
		cJSON *j = body_json(req, false);
		const char *ns;
		double slots;

		if (!j)
			return;
		ns = str(j, "namespace", "churn");
		slots = num(j, "slots", 1000);
		if (emu_churn_set(srv, num(j, "rate", 100), ns,
				  slots >= 1 && slots <= EMU_CHURN_MAX_SLOTS
				      ? (unsigned)slots
				      : 0,
				  err, sizeof(err)) < 0) {
			reply_error(req, 400, err);
			cJSON_Delete(j);
			return;
		}
		cJSON_Delete(j);
	}
	b = evbuffer_new();
	if (!b)
		abort();
	emu_churn_write(srv, b);
	evbuffer_add(b, "\n", 1);
	emu_reply_json(req, 200, b);
	evbuffer_free(b);
}

static void token(struct emu_server *srv, struct evhttp_request *req)
{
	cJSON *j = body_json(req, false);
	const char *t;

	if (!j)
		return;
	t = str(j, "token", NULL);
	if (!t || !*t) {
		reply_error(req, 400, "want {\"token\":\"...\"}");
		cJSON_Delete(j);
		return;
	}
	free(srv->token);
	srv->token = strdup(t);
	if (!srv->token)
		abort();
	cJSON_Delete(j);
	reply(req, 200, "{}");
}

static void state(struct emu_server *srv, struct evhttp_request *req)
{
	const struct emu_store *s = &srv->store;

	reply(req, 200,
	      "{\"resourceVersion\":%llu,\"oldestResourceVersion\":%llu,"
	      "\"objects\":{\"namespaces\":%zu,\"services\":%zu,"
	      "\"endpointslices\":%zu,\"pods\":%zu,\"serviceimports\":%zu},"
	      "\"watchers\":%u,"
	      "\"requests\":%llu,\"stalled\":%s,\"pendingStatusFaults\":%u}",
	      (unsigned long long)s->rv, (unsigned long long)s->compact_rv,
	      emu_store_count(s, EMU_RES_NAMESPACES),
	      emu_store_count(s, EMU_RES_SERVICES),
	      emu_store_count(s, EMU_RES_ENDPOINTSLICES),
	      emu_store_count(s, EMU_RES_PODS),
	      emu_store_count(s, EMU_RES_SERVICEIMPORTS), srv->nwatches,
	      srv->requests, srv->stalled ? "true" : "false", srv->fault_count);
}

void emu_control_handle(struct emu_server *srv, struct evhttp_request *req,
			const char *path)
{
	enum evhttp_cmd_type m = evhttp_request_get_command(req);
	const char *p = path + strlen("/_control/");

	if (strcmp(p, "objects") == 0 && m == EVHTTP_REQ_POST)
		put_objects(srv, req);
	else if (strncmp(p, "objects/", 8) == 0 && m == EVHTTP_REQ_DELETE)
		delete_object(srv, req, p + 8);
	else if (strcmp(p, "compact") == 0 && m == EVHTTP_REQ_POST)
		compact(srv, req);
	else if (strcmp(p, "fault") == 0 && m == EVHTTP_REQ_POST)
		fault(srv, req);
	else if (strcmp(p, "churn") == 0 &&
		 (m == EVHTTP_REQ_POST || m == EVHTTP_REQ_GET))
		churn(srv, req, m == EVHTTP_REQ_POST);
	else if (strcmp(p, "token") == 0 && m == EVHTTP_REQ_POST)
		token(srv, req);
	else if (strcmp(p, "state") == 0 && m == EVHTTP_REQ_GET)
		state(srv, req);
	else
		reply_error(req, 404, "no such control endpoint");
}
