/*
 * decode.c -- Kubernetes objects from JSON (cJSON) and YAML (libyaml).
 *
 * YAML documents are turned into cJSON trees first, so both formats share
 * one object decoder.  Positions of semantic errors (a missing name, a field
 * of the wrong type) are found after the fact: for JSON by walking the text
 * in step with the parsed tree up to the offending node, for YAML from the
 * marks recorded while the tree of the current document was built.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* strptime, timegm */
#endif
#include "zones/decode.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <yaml.h>

#include "zones/bgjob.h"
#include "zones/jparse.h"

#define SERVICE_NAME_LABEL "kubernetes.io/service-name"
#define MC_SERVICE_NAME_LABEL "multicluster.kubernetes.io/service-name"
#define MC_SOURCE_CLUSTER_LABEL "multicluster.kubernetes.io/source-cluster"
#define TRIGGER_TIME_ANNOTATION                                                \
	"endpoints.kubernetes.io/last-change-trigger-time"

/* Decoding context: where errors go and which node they are about. */
struct dctx {
	struct decode_err *err;
	const cJSON *bad; /* the node an error is about, for its position */
	long item;	  /* index in a list's items, or -1 */
	/* what is being decoded, for messages ("Service prod/web"); the
	 * strings live as long as the document's tree */
	const char *wkind, *wns, *wname;
	const struct decode_opts *opts; /* NULL: store what decodes */
	const char *ukind;		/* an unused object's kind, or NULL */
	char unused[128];		/* why it is not used; "" when it is */
};

/* path = pre + decimal i + post, for messages ("endpoints[3].hostname"):
 * done for every field of every object, so without printf. */
static void ipath(char *path, size_t len, const char *pre, size_t i,
		  const char *post)
{
	char num[24];
	size_t n = 0, o = 0;

	do
		num[n++] = (char)('0' + i % 10);
	while ((i /= 10) && n < sizeof(num));
	for (; *pre && o + 1 < len; pre++)
		path[o++] = *pre;
	while (n && o + 1 < len)
		path[o++] = num[--n];
	for (; *post && o + 1 < len; post++)
		path[o++] = *post;
	path[o] = 0;
}

/* The object being decoded, as messages name it. */
static const char *what(const struct dctx *c, char *buf, size_t len)
{
	if (c->wname && c->wns)
		snprintf(buf, len, "%s %s/%s", c->wkind, c->wns, c->wname);
	else if (c->wname)
		snprintf(buf, len, "%s %s", c->wkind, c->wname);
	else
		snprintf(buf, len, "%s", c->wkind ? c->wkind : "object");
	return buf;
}

static void what_is(struct dctx *c, const char *kind, const char *ns,
		    const char *name)
{
	c->wkind = kind;
	c->wns = ns;
	c->wname = name;
}

static void seterr(struct decode_err *err, int line, int col, const char *fmt,
		   ...) __attribute__((format(printf, 4, 5)));

static void seterr(struct decode_err *err, int line, int col, const char *fmt,
		   ...)
{
	va_list ap;

	if (!err)
		return;
	err->line = line;
	err->col = col;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
}

static int fail(struct dctx *c, const cJSON *node, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Record an error about node; returns -EINVAL for `return fail(...)`. */
static int fail(struct dctx *c, const cJSON *node, const char *fmt, ...)
{
	char detail[200], w[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	c->bad = node;
	if (c->item >= 0)
		seterr(c->err, 0, 0, "items[%ld]: %s: %s", c->item,
		       what(c, w, sizeof(w)), detail);
	else
		seterr(c->err, 0, 0, "%s: %s", what(c, w, sizeof(w)), detail);
	return -EINVAL;
}

static int nomem(struct dctx *c)
{
	c->bad = NULL;
	seterr(c->err, 0, 0, "out of memory");
	return -ENOMEM;
}

static const char *type_name(const cJSON *v)
{
	if (cJSON_IsString(v))
		return "a string";
	if (cJSON_IsNumber(v))
		return "a number";
	if (cJSON_IsBool(v))
		return "a boolean";
	if (cJSON_IsArray(v))
		return "a list";
	if (cJSON_IsObject(v))
		return "a mapping";
	return "null";
}

/* A member, with JSON null counted as absent (as the API server does). */
static const cJSON *member(const cJSON *obj, const char *key)
{
	const cJSON *v;

	if (!cJSON_IsObject(obj))
		return NULL;
	v = cJSON_GetObjectItemCaseSensitive(obj, key);
	return cJSON_IsNull(v) ? NULL : v;
}

/* Optional string member: *out is a heap copy or NULL when absent. */
static int get_str(struct dctx *c, const cJSON *obj, const char *key,
		   const char *path, char **out)
{
	const cJSON *v = member(obj, key);

	*out = NULL;
	if (!v)
		return 0;
	if (!cJSON_IsString(v))
		return fail(c, v, "%s: expected a string, got %s", path,
			    type_name(v));
	*out = strdup(v->valuestring);
	return *out ? 0 : nomem(c);
}

/* The same, but an empty string counts as absent. */
static int get_str_nonempty(struct dctx *c, const cJSON *obj, const char *key,
			    const char *path, char **out)
{
	int rc = get_str(c, obj, key, path, out);

	if (rc == 0 && *out && !**out) {
		free(*out);
		*out = NULL;
	}
	return rc;
}

/* Optional string member without copying; NULL when absent. */
static int peek_str(struct dctx *c, const cJSON *obj, const char *key,
		    const char *path, const char **out)
{
	const cJSON *v = member(obj, key);

	*out = NULL;
	if (!v)
		return 0;
	if (!cJSON_IsString(v))
		return fail(c, v, "%s: expected a string, got %s", path,
			    type_name(v));
	*out = v->valuestring;
	return 0;
}

static int get_bool(struct dctx *c, const cJSON *obj, const char *key,
		    const char *path, bool dflt, bool *out)
{
	const cJSON *v = member(obj, key);

	*out = dflt;
	if (!v)
		return 0;
	if (!cJSON_IsBool(v))
		return fail(c, v, "%s: expected a boolean, got %s", path,
			    type_name(v));
	*out = cJSON_IsTrue(v);
	return 0;
}

/* An integer node in [lo, hi]. */
static int int_value(struct dctx *c, const cJSON *v, const char *path, long lo,
		     long hi, long *out)
{
	double d;

	if (!cJSON_IsNumber(v))
		return fail(c, v, "%s: expected an integer, got %s", path,
			    type_name(v));
	d = v->valuedouble;
	if (!(d >= (double)lo && d <= (double)hi) || d != (double)(long)d)
		return fail(c, v, "%s: %g is not an integer in %ld..%ld", path,
			    d, lo, hi);
	*out = (long)d;
	return 0;
}

/* An optional member of a given JSON type: *out is it, or NULL when absent;
 * a member of another type is an error naming what was expected. */
static int get_typed(struct dctx *c, const cJSON *obj, const char *key,
		     const char *path, cJSON_bool (*is)(const cJSON *),
		     const char *what, const cJSON **out)
{
	const cJSON *v = member(obj, key);

	*out = NULL;
	if (!v)
		return 0;
	if (!is(v))
		return fail(c, v, "%s: expected %s, got %s", path, what,
			    type_name(v));
	*out = v;
	return 0;
}

static int get_obj(struct dctx *c, const cJSON *obj, const char *key,
		   const char *path, const cJSON **out)
{
	return get_typed(c, obj, key, path, cJSON_IsObject, "a mapping", out);
}

static int get_arr(struct dctx *c, const cJSON *obj, const char *key,
		   const char *path, const cJSON **out)
{
	return get_typed(c, obj, key, path, cJSON_IsArray, "a list", out);
}

static int parse_proto(struct dctx *c, const cJSON *port, const char *path,
		       uint8_t *out)
{
	const char *p;
	int rc = peek_str(c, port, "protocol", path, &p);

	if (rc)
		return rc;
	if (!p || strcmp(p, "TCP") == 0)
		*out = OBJ_PROTO_TCP;
	else if (strcmp(p, "UDP") == 0)
		*out = OBJ_PROTO_UDP;
	else if (strcmp(p, "SCTP") == 0)
		*out = OBJ_PROTO_SCTP;
	else
		return fail(c, member(port, "protocol"),
			    "%s: unknown protocol \"%s\"", path, p);
	return 0;
}

/* A string -> string mapping (labels, selector). */
static int get_labels(struct dctx *c, const cJSON *obj, const char *key,
		      const char *path, struct obj_label **out, size_t *n,
		      bool *present)
{
	const cJSON *m, *it;
	struct obj_label *l;
	size_t k = 0;
	int rc = get_obj(c, obj, key, path, &m);

	*out = NULL;
	*n = 0;
	if (present)
		*present = m != NULL;
	if (rc || !m)
		return rc;
	if (cJSON_GetArraySize(m) == 0)
		return 0;
	l = calloc((size_t)cJSON_GetArraySize(m), sizeof(*l));
	if (!l)
		return nomem(c);
	*out = l;
	cJSON_ArrayForEach(it, m)
	{
		if (!cJSON_IsString(it))
			return fail(c, it, "%s.%s: expected a string, got %s",
				    path, it->string, type_name(it));
		l[k].key = strdup(it->string);
		l[k].value = strdup(it->valuestring);
		*n = ++k;
		if (!l[k - 1].key || !l[k - 1].value)
			return nomem(c);
	}
	return 0;
}

/* metadata.name and metadata.namespace (default "default" when ns). */
static int get_meta(struct dctx *c, const cJSON *o, const char *kind, bool ns,
		    const cJSON **meta, char **name_out, char **ns_out)
{
	const cJSON *m;
	const char *name, *space = NULL;
	int rc;

	what_is(c, kind, NULL, NULL);
	rc = get_obj(c, o, "metadata", "metadata", &m);
	if (rc)
		return rc;
	if (!m)
		return fail(c, o, "metadata is missing");
	rc = peek_str(c, m, "name", "metadata.name", &name);
	if (rc)
		return rc;
	if (!name || !*name)
		return fail(c, m, "metadata.name is missing");
	if (ns) {
		rc = peek_str(c, m, "namespace", "metadata.namespace", &space);
		if (rc)
			return rc;
		if (!space || !*space)
			space = "default";
		what_is(c, kind, space, name);
		*ns_out = strdup(space);
		if (!*ns_out)
			return nomem(c);
	} else {
		what_is(c, kind, NULL, name);
	}
	*name_out = strdup(name);
	if (!*name_out)
		return nomem(c);
	*meta = m;
	return 0;
}

/* --- Service ----------------------------------------------------------- */

static int svc_ips(struct dctx *c, const cJSON *spec, struct obj_service *s)
{
	const cJSON *ips, *one = NULL, *it;
	size_t n = 0;
	int rc = get_arr(c, spec, "clusterIPs", "spec.clusterIPs", &ips);

	if (rc)
		return rc;
	if (!ips || cJSON_GetArraySize(ips) == 0) {
		one = member(spec, "clusterIP");
		if (one && !cJSON_IsString(one))
			return fail(c, one,
				    "spec.clusterIP: expected a string, got %s",
				    type_name(one));
		if (!one || !*one->valuestring)
			return 0; /* no cluster IP allocated (yet) */
	}
	if (one && strcmp(one->valuestring, "None") == 0) {
		s->type = OBJ_SVC_HEADLESS;
		return 0;
	}
	/* clusterIP when clusterIPs is missing or empty: one address */
	s->ips =
	    calloc(one ? 1 : (size_t)cJSON_GetArraySize(ips), sizeof(*s->ips));
	if (!s->ips)
		return nomem(c);
	if (one) {
		if (obj_addr_parse(one->valuestring, &s->ips[0]) < 0)
			return fail(c, one,
				    "spec.clusterIP: \"%s\" is not an IP "
				    "address",
				    one->valuestring);
		s->nips = 1;
		return 0;
	}
	cJSON_ArrayForEach(it, ips)
	{
		if (!cJSON_IsString(it))
			return fail(c, it,
				    "spec.clusterIPs[%zu]: expected a string, "
				    "got %s",
				    n, type_name(it));
		if (n == 0 && strcmp(it->valuestring, "None") == 0) {
			s->type = OBJ_SVC_HEADLESS;
			free(s->ips);
			s->ips = NULL;
			return 0;
		}
		if (obj_addr_parse(it->valuestring, &s->ips[n]) < 0)
			return fail(c, it,
				    "spec.clusterIPs[%zu]: \"%s\" is not an "
				    "IP address",
				    n, it->valuestring);
		s->nips = ++n;
	}
	return 0;
}

/* The array of ports at key, each read by fn into *out (*n of them, also
 * when fn fails half way, so that the caller frees what was read). */
static int
get_ports(struct dctx *c, const cJSON *o, const char *key, const char *path,
	  int (*fn)(struct dctx *, const cJSON *, size_t, struct obj_port *),
	  struct obj_port **out, size_t *n)
{
	const cJSON *ports, *it;
	size_t i = 0;
	int rc;

	if ((rc = get_arr(c, o, key, path, &ports)))
		return rc;
	if (!ports || cJSON_GetArraySize(ports) <= 0)
		return 0;
	*out = calloc((size_t)cJSON_GetArraySize(ports), sizeof(**out));
	if (!*out)
		return nomem(c);
	cJSON_ArrayForEach(it, ports)
	{
		rc = fn(c, it, i, &(*out)[i]);
		*n = ++i;
		if (rc)
			return rc;
	}
	return 0;
}

static int svc_port(struct dctx *c, const cJSON *p, size_t i,
		    struct obj_port *out)
{
	char path[64];
	const cJSON *v, *t;
	long num;
	int rc;

	ipath(path, sizeof(path), "spec.ports[", i, "]");
	if (!cJSON_IsObject(p))
		return fail(c, p, "%s: expected a mapping, got %s", path,
			    type_name(p));
	ipath(path, sizeof(path), "spec.ports[", i, "].name");
	if ((rc = get_str_nonempty(c, p, "name", path, &out->name)))
		return rc;
	ipath(path, sizeof(path), "spec.ports[", i, "].port");
	v = member(p, "port");
	if (!v)
		return fail(c, p, "%s is missing", path);
	if ((rc = int_value(c, v, path, 1, 65535, &num)))
		return rc;
	out->port = (uint16_t)num;
	ipath(path, sizeof(path), "spec.ports[", i, "].protocol");
	if ((rc = parse_proto(c, p, path, &out->proto)))
		return rc;
	ipath(path, sizeof(path), "spec.ports[", i, "].targetPort");
	t = member(p, "targetPort");
	if (!t)
		return 0;
	if (cJSON_IsString(t)) {
		const char *s = t->valuestring;
		char *end;

		if (!*s)
			return 0;
		/* A quoted number is still a number. */
		num = strtol(s, &end, 10);
		if (*end == '\0' && num >= 1 && num <= 65535) {
			out->target = (uint16_t)num;
			return 0;
		}
		out->target_name = strdup(s);
		return out->target_name ? 0 : nomem(c);
	}
	if ((rc = int_value(c, t, path, 0, 65535, &num)))
		return rc;
	out->target = (uint16_t)num;
	return 0;
}

/* --- Service: external addresses (k8s_external) ---------------------- */

/* One address of a list that the API validates as IPs. */
static int ext_addr(struct dctx *c, const cJSON *v, const char *path,
		    struct obj_service *s)
{
	if (!cJSON_IsString(v))
		return fail(c, v, "%s: expected a string, got %s", path,
			    type_name(v));
	if (obj_addr_parse(v->valuestring, &s->ext_ips[s->next_ips]) < 0)
		return fail(c, v, "%s: \"%s\" is not an IP address", path,
			    v->valuestring);
	s->next_ips++;
	return 0;
}

/* spec.externalIPs, then status.loadBalancer.ingress[]: the ip of each,
 * and the first hostname (CoreDNS keeps the hostname of an ingress
 * without ip). */
static int svc_external(struct dctx *c, const cJSON *o, const cJSON *spec,
			struct obj_service *s)
{
	const cJSON *ext, *status, *lb, *ing = NULL, *it;
	char path[64];
	size_t n = 0, i = 0;
	int rc;

	if ((rc = get_arr(c, spec, "externalIPs", "spec.externalIPs", &ext)) ||
	    (rc = get_obj(c, o, "status", "status", &status)) ||
	    (rc = get_obj(c, status, "loadBalancer", "status.loadBalancer",
			  &lb)) ||
	    (rc = get_arr(c, lb, "ingress", "status.loadBalancer.ingress",
			  &ing)))
		return rc;
	n = (ext ? (size_t)cJSON_GetArraySize(ext) : 0) +
	    (ing ? (size_t)cJSON_GetArraySize(ing) : 0);
	if (n == 0)
		return 0;
	s->ext_ips = calloc(n, sizeof(*s->ext_ips));
	if (!s->ext_ips)
		return nomem(c);
	cJSON_ArrayForEach(it, ext)
	{
		ipath(path, sizeof(path), "spec.externalIPs[", i++, "]");
		if ((rc = ext_addr(c, it, path, s)))
			return rc;
	}
	i = 0;
	cJSON_ArrayForEach(it, ing)
	{
		const cJSON *ip;
		const char *host;

		ipath(path, sizeof(path), "status.loadBalancer.ingress[", i,
		      "]");
		if (!cJSON_IsObject(it))
			return fail(c, it, "%s: expected a mapping, got %s",
				    path, type_name(it));
		ipath(path, sizeof(path), "status.loadBalancer.ingress[", i,
		      "].ip");
		ip = member(it, "ip");
		if (ip && !(cJSON_IsString(ip) && !*ip->valuestring) &&
		    (rc = ext_addr(c, ip, path, s)))
			return rc;
		ipath(path, sizeof(path), "status.loadBalancer.ingress[", i++,
		      "].hostname");
		if ((rc = peek_str(c, it, "hostname", path, &host)))
			return rc;
		if (!s->lb_hostname && host && *host &&
		    (!ip || !*ip->valuestring)) {
			size_t len = strlen(host);
			if (host[len - 1] == '.')
				len--;
			if (len && !(s->lb_hostname = strndup(host, len)))
				return nomem(c);
		}
	}
	if (s->next_ips == 0) {
		free(s->ext_ips);
		s->ext_ips = NULL;
	}
	return 0;
}

static int decode_service(struct dctx *c, const cJSON *o,
			  struct obj_service **out)
{
	struct obj_service *s = calloc(1, sizeof(*s));
	const cJSON *meta, *spec;
	const char *type;
	int rc;

	if (!s)
		return nomem(c);
	if ((rc = get_meta(c, o, "Service", true, &meta, &s->name, &s->ns)))
		goto fail;
	if ((rc = get_obj(c, o, "spec", "spec", &spec)))
		goto fail;
	if ((rc = peek_str(c, spec, "type", "spec.type", &type)))
		goto fail;
	if (type && strcmp(type, "ExternalName") == 0) {
		size_t len;

		s->type = OBJ_SVC_EXTERNALNAME;
		rc = get_str(c, spec, "externalName", "spec.externalName",
			     &s->external_name);
		if (rc)
			goto fail;
		len = s->external_name ? strlen(s->external_name) : 0;
		if (len && s->external_name[len - 1] == '.')
			s->external_name[--len] = '\0';
		if (!len) {
			rc = fail(c, spec ? spec : o,
				  "spec.externalName is missing for type "
				  "ExternalName");
			goto fail;
		}
	} else if (type && *type && strcmp(type, "ClusterIP") != 0 &&
		   strcmp(type, "NodePort") != 0 &&
		   strcmp(type, "LoadBalancer") != 0) {
		rc = fail(c, member(spec, "type"),
			  "spec.type: unknown service type \"%s\"", type);
		goto fail;
	} else {
		s->type = OBJ_SVC_CLUSTERIP;
		if ((rc = svc_ips(c, spec, s)))
			goto fail;
	}
	if ((rc = get_ports(c, spec, "ports", "spec.ports", svc_port, &s->ports,
			    &s->nports)))
		goto fail;
	rc = get_labels(c, spec, "selector", "spec.selector", &s->selector,
			&s->nselector, &s->has_selector);
	if (rc)
		goto fail;
	rc = get_bool(c, spec, "publishNotReadyAddresses",
		      "spec.publishNotReadyAddresses", false,
		      &s->publish_not_ready);
	if (rc || (rc = svc_external(c, o, spec, s)))
		goto fail;
	*out = s;
	return 0;
fail:
	obj_service_free(s);
	return rc;
}

/* --- EndpointSlice ----------------------------------------------------- */

/* The endpoint's topology zone (`zone`), interned: a zone name that is
 * not a string is an error, an empty or overlong one is no zone. */
static int slice_endpoint_zone(struct dctx *c, const cJSON *e, size_t i,
			       struct obj_endpoint *ep)
{
	char path[80];
	const char *zone;
	int rc;

	ipath(path, sizeof(path), "endpoints[", i, "].zone");
	if ((rc = peek_str(c, e, "zone", path, &zone)) || !zone)
		return rc;
	int id = obj_zone_intern(zone);
	if (id < 0)
		return nomem(c);
	ep->zone = (uint16_t)id;
	return 0;
}

/* A node name (`nodeName` at path), interned into *node: one that is not
 * a string is an error, an empty or overlong one is no node. */
static int node_name(struct dctx *c, const cJSON *o, const char *path,
		     uint32_t *node)
{
	const char *name;
	int rc;

	if ((rc = peek_str(c, o, "nodeName", path, &name)) || !name)
		return rc;
	long id = obj_node_intern(name);
	if (id < 0)
		return nomem(c);
	*node = (uint32_t)id;
	return 0;
}

static int slice_endpoint(struct dctx *c, const cJSON *e, size_t i, int family,
			  struct obj_endpoint *ep)
{
	char path[80];
	const cJSON *addrs, *cond, *ref, *it;
	const char *kind;
	size_t n = 0;
	int rc;

	ipath(path, sizeof(path), "endpoints[", i, "]");
	if (!cJSON_IsObject(e))
		return fail(c, e, "%s: expected a mapping, got %s", path,
			    type_name(e));
	ipath(path, sizeof(path), "endpoints[", i, "].addresses");
	if ((rc = get_arr(c, e, "addresses", path, &addrs)))
		return rc;
	if (!addrs || cJSON_GetArraySize(addrs) == 0)
		return fail(c, e, "%s is missing", path);
	ep->addrs =
	    calloc((size_t)cJSON_GetArraySize(addrs), sizeof(*ep->addrs));
	if (!ep->addrs)
		return nomem(c);
	cJSON_ArrayForEach(it, addrs)
	{
		if (!cJSON_IsString(it))
			return fail(c, it, "%s[%zu]: expected a string, got %s",
				    path, n, type_name(it));
		if (obj_addr_parse(it->valuestring, &ep->addrs[n]) < 0 ||
		    ep->addrs[n].family != family)
			return fail(c, it,
				    "%s[%zu]: \"%s\" is not an IPv%d "
				    "address",
				    path, n, it->valuestring, family);
		ep->naddrs = ++n;
	}
	ipath(path, sizeof(path), "endpoints[", i, "].conditions");
	if ((rc = get_obj(c, e, "conditions", path, &cond)))
		return rc;
	ipath(path, sizeof(path), "endpoints[", i, "].conditions.ready");
	if ((rc = get_bool(c, cond, "ready", path, true, &ep->ready)))
		return rc;
	ipath(path, sizeof(path), "endpoints[", i, "].hostname");
	if ((rc = get_str_nonempty(c, e, "hostname", path, &ep->hostname)))
		return rc;
	ipath(path, sizeof(path), "endpoints[", i, "].targetRef");
	if ((rc = get_obj(c, e, "targetRef", path, &ref)))
		return rc;
	ipath(path, sizeof(path), "endpoints[", i, "].targetRef.kind");
	if ((rc = peek_str(c, ref, "kind", path, &kind)))
		return rc;
	if (kind && strcmp(kind, "Pod") == 0) {
		ipath(path, sizeof(path), "endpoints[", i, "].targetRef.name");
		rc = get_str_nonempty(c, ref, "name", path, &ep->pod_name);
	}
	if (rc || (rc = slice_endpoint_zone(c, e, i, ep)))
		return rc;
	ipath(path, sizeof(path), "endpoints[", i, "].nodeName");
	return node_name(c, e, path, &ep->node);
}

static int slice_port(struct dctx *c, const cJSON *p, size_t i,
		      struct obj_port *out)
{
	char path[64];
	const cJSON *v;
	long num;
	int rc;

	ipath(path, sizeof(path), "ports[", i, "]");
	if (!cJSON_IsObject(p))
		return fail(c, p, "%s: expected a mapping, got %s", path,
			    type_name(p));
	ipath(path, sizeof(path), "ports[", i, "].name");
	if ((rc = get_str_nonempty(c, p, "name", path, &out->name)))
		return rc;
	ipath(path, sizeof(path), "ports[", i, "].port");
	v = member(p, "port");
	if (v) {
		if ((rc = int_value(c, v, path, 0, 65535, &num)))
			return rc;
		out->port = (uint16_t)num;
	}
	ipath(path, sizeof(path), "ports[", i, "].protocol");
	return parse_proto(c, p, path, &out->proto);
}

/* "2024-05-01T10:00:00Z" or with fractional seconds ("...00.123456Z") or an
 * offset ("+02:00") as milliseconds since the epoch; 0 when malformed. */
static int64_t parse_rfc3339_ms(const char *s)
{
	struct tm tm = {0};
	const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	int64_t ms = 0;

	if (!p)
		return 0;
	if (*p == '.') {
		int64_t scale = 100;
		for (p++; *p >= '0' && *p <= '9'; p++) {
			ms += (*p - '0') * scale;
			scale /= 10;
		}
	}
	int64_t off = 0;
	if (*p == '+' || *p == '-') {
		int h, m;
		if (sscanf(p + 1, "%2d:%2d", &h, &m) != 2)
			return 0;
		off = (h * 3600 + m * 60) * (*p == '-' ? -1 : 1);
	} else if (*p != 'Z' && *p != 'z') {
		return 0;
	}
	time_t t = timegm(&tm);
	if (t == (time_t)-1)
		return 0;
	return ((int64_t)t - off) * 1000 + ms;
}

/* The labels of a multicluster slice: it belongs to the ServiceImport its
 * multicluster.kubernetes.io/service-name names, not to a Service. */
static int slice_multicluster(struct dctx *c, const cJSON *labels,
			      struct obj_slice *s)
{
	const char *svc, *cluster;
	int rc = peek_str(c, labels, MC_SERVICE_NAME_LABEL,
			  "metadata.labels[" MC_SERVICE_NAME_LABEL "]", &svc);

	if (rc || !svc || !*svc)
		return rc;
	rc = peek_str(c, labels, MC_SOURCE_CLUSTER_LABEL,
		      "metadata.labels[" MC_SOURCE_CLUSTER_LABEL "]", &cluster);
	if (rc)
		return rc;
	free(s->service);
	s->service = strdup(svc);
	s->cluster = strdup(cluster ? cluster : "");
	return s->service && s->cluster ? 0 : nomem(c);
}

static int decode_slice(struct dctx *c, const cJSON *o, struct obj_slice **out)
{
	struct obj_slice *s = calloc(1, sizeof(*s));
	const cJSON *meta, *labels, *annotations, *eps, *it;
	const char *at, *svc, *trigger;
	int family, rc;
	size_t i = 0;

	*out = NULL;
	if (!s)
		return nomem(c);
	rc = get_meta(c, o, "EndpointSlice", true, &meta, &s->name, &s->ns);
	if (rc)
		goto fail;
	if ((rc = get_obj(c, meta, "labels", "metadata.labels", &labels)))
		goto fail;
	rc = peek_str(c, labels, SERVICE_NAME_LABEL,
		      "metadata.labels[" SERVICE_NAME_LABEL "]", &svc);
	if (rc)
		goto fail;
	if (svc && *svc && !(s->service = strdup(svc))) {
		rc = nomem(c);
		goto fail;
	}
	if ((rc = slice_multicluster(c, labels, s)))
		goto fail;
	if ((rc = get_obj(c, meta, "annotations", "metadata.annotations",
			  &annotations)))
		goto fail;
	rc = peek_str(c, annotations, TRIGGER_TIME_ANNOTATION,
		      "metadata.annotations[" TRIGGER_TIME_ANNOTATION "]",
		      &trigger);
	if (rc)
		goto fail;
	s->trigger_ms = trigger ? parse_rfc3339_ms(trigger) : 0;
	if ((rc = peek_str(c, o, "addressType", "addressType", &at)))
		goto fail;
	if (!at) {
		rc = fail(c, o, "addressType is missing");
		goto fail;
	}
	if (strcmp(at, "IPv4") == 0) {
		family = 4;
	} else if (strcmp(at, "IPv6") == 0) {
		family = 6;
	} else if (strcmp(at, "FQDN") == 0) {
		obj_slice_free(s); /* DNS has no use for FQDN slices */
		return 0;
	} else {
		rc = fail(c, member(o, "addressType"),
			  "addressType: unknown address type \"%s\"", at);
		goto fail;
	}
	if ((rc = get_arr(c, o, "endpoints", "endpoints", &eps)))
		goto fail;
	if (eps && cJSON_GetArraySize(eps) > 0) {
		s->eps =
		    calloc((size_t)cJSON_GetArraySize(eps), sizeof(*s->eps));
		if (!s->eps) {
			rc = nomem(c);
			goto fail;
		}
		cJSON_ArrayForEach(it, eps)
		{
			rc = slice_endpoint(c, it, i, family, &s->eps[i]);
			s->neps = ++i;
			if (rc)
				goto fail;
		}
	}
	if ((rc = get_ports(c, o, "ports", "ports", slice_port, &s->ports,
			    &s->nports)))
		goto fail;
	*out = s;
	return 0;
fail:
	obj_slice_free(s);
	return rc;
}

/* --- ServiceImport (multicluster.x-k8s.io) ------------------------------ */

static int import_ips(struct dctx *c, const cJSON *spec, struct obj_import *s)
{
	const cJSON *ips, *it;
	size_t n = 0;
	int rc = get_arr(c, spec, "ips", "spec.ips", &ips);

	if (rc || !ips || cJSON_GetArraySize(ips) == 0)
		return rc;
	s->ips = calloc((size_t)cJSON_GetArraySize(ips), sizeof(*s->ips));
	if (!s->ips)
		return nomem(c);
	cJSON_ArrayForEach(it, ips)
	{
		if (!cJSON_IsString(it))
			return fail(c, it,
				    "spec.ips[%zu]: expected a string, got %s",
				    n, type_name(it));
		if (obj_addr_parse(it->valuestring, &s->ips[n]) < 0)
			return fail(c, it,
				    "spec.ips[%zu]: \"%s\" is not an IP "
				    "address",
				    n, it->valuestring);
		s->nips = ++n;
	}
	return 0;
}

/* spec.type ClusterSetIP or Headless; without one, ClusterSetIP when
 * spec.ips has addresses, else Headless. */
static int decode_import(struct dctx *c, const cJSON *o,
			 struct obj_import **out)
{
	struct obj_import *s = calloc(1, sizeof(*s));
	const cJSON *meta, *spec;
	const char *type;
	int rc;

	if (!s)
		return nomem(c);
	if ((rc = get_meta(c, o, "ServiceImport", true, &meta, &s->name,
			   &s->ns)))
		goto fail;
	if ((rc = get_obj(c, o, "spec", "spec", &spec)))
		goto fail;
	if ((rc = peek_str(c, spec, "type", "spec.type", &type)))
		goto fail;
	if ((rc = import_ips(c, spec, s)))
		goto fail;
	if (type && strcmp(type, "Headless") == 0) {
		s->type = OBJ_IMPORT_HEADLESS;
	} else if (type && strcmp(type, "ClusterSetIP") == 0) {
		s->type = OBJ_IMPORT_CLUSTERSETIP;
	} else if (type && *type) {
		rc = fail(c, member(spec, "type"),
			  "spec.type: unknown ServiceImport type \"%s\"", type);
		goto fail;
	} else {
		s->type =
		    s->nips ? OBJ_IMPORT_CLUSTERSETIP : OBJ_IMPORT_HEADLESS;
	}
	if ((rc = get_ports(c, spec, "ports", "spec.ports", svc_port, &s->ports,
			    &s->nports)))
		goto fail;
	*out = s;
	return 0;
fail:
	obj_import_free(s);
	return rc;
}

/* --- Pod ---------------------------------------------------------------- */

static int pod_ports(struct dctx *c, const cJSON *spec, struct obj_pod *p)
{
	const cJSON *ctrs, *ctr, *ports, *it;
	size_t total = 0, ci = 0;
	char path[80];
	int rc;

	if ((rc = get_arr(c, spec, "containers", "spec.containers", &ctrs)))
		return rc;
	cJSON_ArrayForEach(ctr, ctrs)
	{
		ipath(path, sizeof(path), "spec.containers[", ci, "]");
		if (!cJSON_IsObject(ctr))
			return fail(c, ctr, "%s: expected a mapping, got %s",
				    path, type_name(ctr));
		ipath(path, sizeof(path), "spec.containers[", ci, "].ports");
		if ((rc = get_arr(c, ctr, "ports", path, &ports)))
			return rc;
		total += ports ? (size_t)cJSON_GetArraySize(ports) : 0;
		ci++;
	}
	if (!total)
		return 0;
	p->ports = calloc(total, sizeof(*p->ports));
	if (!p->ports)
		return nomem(c);
	ci = 0;
	cJSON_ArrayForEach(ctr, ctrs)
	{
		size_t pi = 0;

		cJSON_ArrayForEach(it, member(ctr, "ports"))
		{
			struct obj_port *o = &p->ports[p->nports];
			const cJSON *v;
			long num;

			snprintf(path, sizeof(path),
				 "spec.containers[%zu].ports[%zu]", ci, pi);
			if (!cJSON_IsObject(it))
				return fail(c, it,
					    "%s: expected a mapping, got %s",
					    path, type_name(it));
			p->nports++;
			snprintf(path, sizeof(path),
				 "spec.containers[%zu].ports[%zu].name", ci,
				 pi);
			if ((rc = get_str_nonempty(c, it, "name", path,
						   &o->name)))
				return rc;
			snprintf(path, sizeof(path),
				 "spec.containers[%zu].ports[%zu]."
				 "containerPort",
				 ci, pi);
			v = member(it, "containerPort");
			if (!v)
				return fail(c, it, "%s is missing", path);
			if ((rc = int_value(c, v, path, 1, 65535, &num)))
				return rc;
			o->port = (uint16_t)num;
			snprintf(path, sizeof(path),
				 "spec.containers[%zu].ports[%zu].protocol", ci,
				 pi);
			if ((rc = parse_proto(c, it, path, &o->proto)))
				return rc;
			pi++;
		}
		ci++;
	}
	return 0;
}

static int pod_ips(struct dctx *c, const cJSON *status, struct obj_pod *p)
{
	const cJSON *ips, *it;
	const char *one;
	char path[48];
	size_t n = 0;
	int rc;

	if ((rc = get_arr(c, status, "podIPs", "status.podIPs", &ips)))
		return rc;
	if (ips && cJSON_GetArraySize(ips) > 0) {
		p->ips =
		    calloc((size_t)cJSON_GetArraySize(ips), sizeof(*p->ips));
		if (!p->ips)
			return nomem(c);
		cJSON_ArrayForEach(it, ips)
		{
			const char *ip;

			ipath(path, sizeof(path), "status.podIPs[", n, "]");
			if (!cJSON_IsObject(it))
				return fail(c, it,
					    "%s: expected a mapping, got %s",
					    path, type_name(it));
			ipath(path, sizeof(path), "status.podIPs[", n, "].ip");
			if ((rc = peek_str(c, it, "ip", path, &ip)))
				return rc;
			if (!ip || obj_addr_parse(ip, &p->ips[n]) < 0)
				return fail(c, it, "%s: not an IP address",
					    path);
			p->nips = ++n;
		}
		return 0;
	}
	if ((rc = peek_str(c, status, "podIP", "status.podIP", &one)))
		return rc;
	if (!one || !*one)
		return 0;
	p->ips = calloc(1, sizeof(*p->ips));
	if (!p->ips)
		return nomem(c);
	if (obj_addr_parse(one, &p->ips[0]) < 0)
		return fail(c, member(status, "podIP"),
			    "status.podIP: \"%s\" is not an IP address", one);
	p->nips = 1;
	return 0;
}

static int pod_status(struct dctx *c, const cJSON *status, struct obj_pod *p)
{
	const cJSON *conds, *it;
	const char *phase;
	int rc;

	if ((rc = peek_str(c, status, "phase", "status.phase", &phase)))
		return rc;
	p->running = phase && strcmp(phase, "Running") == 0;
	p->terminal = phase && (strcmp(phase, "Succeeded") == 0 ||
				strcmp(phase, "Failed") == 0);
	if ((rc = pod_ips(c, status, p)))
		return rc;
	if ((rc =
		 get_arr(c, status, "conditions", "status.conditions", &conds)))
		return rc;
	cJSON_ArrayForEach(it, conds)
	{
		const cJSON *type = member(it, "type");
		const cJSON *st = member(it, "status");

		if (!cJSON_IsString(type) ||
		    strcmp(type->valuestring, "Ready") != 0)
			continue;
		/* "True"; an unquoted YAML True arrives as a boolean. */
		p->ready =
		    cJSON_IsTrue(st) || (cJSON_IsString(st) &&
					 strcmp(st->valuestring, "True") == 0);
	}
	return 0;
}

static int decode_pod(struct dctx *c, const cJSON *o, struct obj_pod **out)
{
	struct obj_pod *p = calloc(1, sizeof(*p));
	const cJSON *meta, *spec, *status;
	int rc;

	if (!p)
		return nomem(c);
	if ((rc = get_meta(c, o, "Pod", true, &meta, &p->name, &p->ns)))
		goto fail;
	rc = get_labels(c, meta, "labels", "metadata.labels", &p->labels,
			&p->nlabels, NULL);
	if (rc)
		goto fail;
	if ((rc = get_obj(c, o, "spec", "spec", &spec)))
		goto fail;
	rc = get_str_nonempty(c, spec, "hostname", "spec.hostname",
			      &p->hostname);
	if (rc)
		goto fail;
	rc = get_str_nonempty(c, spec, "subdomain", "spec.subdomain",
			      &p->subdomain);
	if (rc)
		goto fail;
	if ((rc = node_name(c, spec, "spec.nodeName", &p->node)))
		goto fail;
	if ((rc = pod_ports(c, spec, p)))
		goto fail;
	if ((rc = get_obj(c, o, "status", "status", &status)))
		goto fail;
	if ((rc = pod_status(c, status, p)))
		goto fail;
	*out = p;
	return 0;
fail:
	obj_pod_free(p);
	return rc;
}

static int decode_namespace(struct dctx *c, const cJSON *o,
			    struct obj_namespace **out)
{
	struct obj_namespace *n = calloc(1, sizeof(*n));
	const cJSON *meta;
	int rc;

	if (!n)
		return nomem(c);
	if ((rc = get_meta(c, o, "Namespace", false, &meta, &n->name, NULL))) {
		obj_namespace_free(n);
		return rc;
	}
	*out = n;
	return 0;
}

/* --- object dispatch ----------------------------------------------------- */

static int decode_one(struct dctx *c, const cJSON *o, const char *kind,
		      struct decode_obj *out)
{
	const cJSON *av = member(o, "apiVersion");
	const char *api = cJSON_IsString(av) ? av->valuestring : NULL;
	bool core = !api || strcmp(api, "v1") == 0;

	memset(out, 0, sizeof(*out));
	out->kind = DECODE_OTHER;
	c->ukind = NULL;
	c->unused[0] = '\0';
	what_is(c, "object", NULL, NULL);
	if (!cJSON_IsObject(o))
		return fail(c, o, "expected a mapping, got %s", type_name(o));
	if (!kind) {
		const cJSON *k = member(o, "kind");

		if (k && !cJSON_IsString(k))
			return fail(c, k, "kind: expected a string, got %s",
				    type_name(k));
		kind = k ? k->valuestring : NULL;
	}
	if (!kind) {
		snprintf(c->unused, sizeof(c->unused), "it has no kind");
		return 0;
	}
	if (strcmp(kind, "Service") == 0 && core) {
		out->kind = DECODE_SERVICE;
		return decode_service(c, o, &out->u.svc);
	}
	if (strcmp(kind, "Pod") == 0 && core) {
		out->kind = DECODE_POD;
		return decode_pod(c, o, &out->u.pod);
	}
	if (strcmp(kind, "Namespace") == 0 && core) {
		out->kind = DECODE_NAMESPACE;
		return decode_namespace(c, o, &out->u.ns);
	}
	if (strcmp(kind, "EndpointSlice") == 0 &&
	    (!api || strncmp(api, "discovery.k8s.io/", 17) == 0)) {
		int rc = decode_slice(c, o, &out->u.slice);

		/* FQDN slices decode to nothing and are skipped. */
		out->kind = out->u.slice ? DECODE_SLICE : DECODE_OTHER;
		return rc;
	}
	if (strcmp(kind, "ServiceImport") == 0 &&
	    (!api || strncmp(api, "multicluster.x-k8s.io/", 22) == 0)) {
		out->kind = DECODE_IMPORT;
		return decode_import(c, o, &out->u.imp);
	}
	c->ukind = kind;
	if (strcmp(kind, "Service") == 0 || strcmp(kind, "Pod") == 0 ||
	    strcmp(kind, "Namespace") == 0 ||
	    strcmp(kind, "EndpointSlice") == 0 ||
	    strcmp(kind, "ServiceImport") == 0)
		snprintf(c->unused, sizeof(c->unused),
			 "apiVersion %.64s is not one DNS uses", api);
	else
		snprintf(c->unused, sizeof(c->unused), "not a kind DNS uses");
	return 0;
}

/* A DNS label: 1 to 63 bytes, no dot.  NULL, or what is wrong. */
static const char *label_problem(const char *s, char *buf, size_t len,
				 const char *field)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0)
		snprintf(buf, len, "%s is empty", field);
	else if (n > 63)
		snprintf(buf, len,
			 "%s is %zu bytes long, a DNS label has at most 63",
			 field, n);
	else if (strchr(s, '.'))
		snprintf(buf, len, "%s has a dot, a DNS label cannot", field);
	else
		return NULL;
	return buf;
}

const char *decode_unusable(const struct decode_obj *o, char *buf, size_t len)
{
	const char *why;

	switch (o->kind) {
	case DECODE_SERVICE:
		why = label_problem(o->u.svc->name, buf, len, "metadata.name");
		if (!why)
			why = label_problem(o->u.svc->ns, buf, len,
					    "metadata.namespace");
		return why;
	case DECODE_NAMESPACE:
		return label_problem(o->u.ns->name, buf, len, "metadata.name");
	case DECODE_IMPORT:
		why = label_problem(o->u.imp->name, buf, len, "metadata.name");
		if (!why)
			why = label_problem(o->u.imp->ns, buf, len,
					    "metadata.namespace");
		return why;
	default:
		return NULL;
	}
}

void decode_obj_free(struct decode_obj *o)
{
	switch (o->kind) {
	case DECODE_SERVICE:
		obj_service_free(o->u.svc);
		break;
	case DECODE_SLICE:
		obj_slice_free(o->u.slice);
		break;
	case DECODE_NAMESPACE:
		obj_namespace_free(o->u.ns);
		break;
	case DECODE_POD:
		obj_pod_free(o->u.pod);
		break;
	case DECODE_IMPORT:
		obj_import_free(o->u.imp);
		break;
	case DECODE_OTHER:
		break;
	}
	o->kind = DECODE_OTHER;
}

/* The kind name of a decoded object, for messages. */
static const char *kind_name(enum decode_kind k)
{
	static const char *const names[] = {"object",	     "Service",
					    "EndpointSlice", "Namespace",
					    "Pod",	     "ServiceImport"};

	return (unsigned)k < sizeof(names) / sizeof(names[0]) ? names[k]
							      : "object";
}

/* Report o (decoded from node) when opts leave it out: 1 when left out
 * (and freed), 0 to store it. */
static int left_out(struct dctx *c, const cJSON *node, struct decode_obj *o)
{
	struct decode_skip sk = {0};
	const cJSON *meta = member(node, "metadata");
	const cJSON *ns = member(meta, "namespace"),
		    *name = member(meta, "name");
	char why[160];

	if (!c->opts || !c->opts->skipped)
		return 0;
	if (o->kind == DECODE_OTHER) {
		if (!c->unused[0])
			return 0; /* an FQDN slice: nothing to say */
		sk.kind = c->ukind;
		sk.why = c->unused;
	} else if ((sk.why = decode_unusable(o, why, sizeof(why)))) {
		sk.kind = kind_name(o->kind);
	} else {
		return 0;
	}
	sk.ns = cJSON_IsString(ns) ? ns->valuestring : NULL;
	sk.name = cJSON_IsString(name) ? name->valuestring : NULL;
	if ((o->kind == DECODE_SERVICE || o->kind == DECODE_IMPORT) && !sk.ns)
		sk.ns = "default";
	c->opts->skipped(c->opts->arg, &sk);
	decode_obj_free(o);
	return 1;
}

int decode_object(const cJSON *obj, const char *kind, struct decode_obj *out,
		  struct decode_err *err)
{
	struct dctx c = {.err = err, .item = -1};

	if (err)
		memset(err, 0, sizeof(*err));
	return decode_one(&c, obj, kind, out);
}

/* Put a decoded object into the store (which takes it over). */
static int store_obj(struct dctx *c, struct store *st, struct decode_obj *o)
{
	char w[160];
	int rc = 0;

	bgjob_pace(); /* a reload on its thread lets the workers in */
	switch (o->kind) {
	case DECODE_SERVICE:
		rc = store_put_service(st, o->u.svc);
		break;
	case DECODE_SLICE:
		rc = store_put_slice(st, o->u.slice);
		break;
	case DECODE_NAMESPACE:
		rc = store_put_namespace(st, o->u.ns);
		break;
	case DECODE_POD:
		rc = store_put_pod(st, o->u.pod);
		break;
	case DECODE_IMPORT:
		rc = store_put_import(st, o->u.imp);
		break;
	default:
		return 0;
	}
	if (rc < 0) {
		c->bad = NULL;
		seterr(c->err, 0, 0, "%s: cannot store: %s",
		       what(c, w, sizeof(w)), strerror(-rc));
		return rc;
	}
	return 1;
}

/* The "kind" of a document's root: its string, or NULL (none, or not a
 * string). */
static const char *kind_of(const cJSON *root)
{
	const cJSON *k = member(root, "kind");

	return cJSON_IsString(k) ? k->valuestring : NULL;
}

/* Whether a document whose "kind" is kind (NULL: none, or not a string)
 * is a list: a List, a typed list such as ServiceList, or kind-less with
 * items. */
static bool is_list(const char *kind, bool has_items)
{
	size_t klen = kind ? strlen(kind) : 0;

	if (!kind)
		return has_items;
	return klen >= 4 && strcmp(kind + klen - 4, "List") == 0;
}

/* The kind a typed list's items have when they do not say (Service for a
 * ServiceList), in buf; NULL for a List. */
static const char *item_kind(const char *kind, char *buf, size_t len)
{
	size_t klen = kind ? strlen(kind) : 0;

	if (!kind || klen <= 4 || strcmp(kind, "List") == 0 || klen - 4 >= len)
		return NULL;
	memcpy(buf, kind, klen - 4);
	buf[klen - 4] = '\0';
	return buf;
}

/* Decode and store item number idx of a list (ik: item_kind).  Returns 1
 * when stored, 0 when left out, or a negative errno with the error set. */
static int decode_item(struct dctx *c, const cJSON *it, size_t idx,
		       const char *ik, struct store *st)
{
	struct decode_obj o;
	const cJSON *k = member(it, "kind");
	int rc;

	c->item = (long)idx;
	rc = decode_one(c, it, cJSON_IsString(k) ? NULL : ik, &o);
	if (rc < 0)
		return rc;
	if (left_out(c, it, &o))
		return 0;
	return store_obj(c, st, &o);
}

/*
 * Decode a document's tree: a single object, a List, or a typed list such
 * as ServiceList.  Returns how many objects were stored, or a negative
 * errno with the error set and c->bad naming the node.
 */
static int decode_tree(struct dctx *c, const cJSON *root, struct store *st)
{
	const cJSON *items, *it;
	char ikbuf[64];
	const char *kind, *ik;
	size_t idx = 0;
	int rc, count = 0;

	what_is(c, "document", NULL, NULL);
	if (!root || cJSON_IsNull(root))
		return 0; /* an empty document */
	if (!cJSON_IsObject(root))
		return fail(c, root, "expected a Kubernetes object, got %s",
			    type_name(root));
	kind = kind_of(root);
	items = member(root, "items");
	if (!is_list(kind, items)) {
		struct decode_obj o;

		rc = decode_one(c, root, NULL, &o);
		if (rc < 0)
			return rc;
		if (left_out(c, root, &o))
			return 0;
		return store_obj(c, st, &o);
	}
	/* A List's items carry their kind; a FooList's may not. */
	ik = item_kind(kind, ikbuf, sizeof(ikbuf));
	if (items && !cJSON_IsArray(items))
		return fail(c, items, "items: expected a list, got %s",
			    type_name(items));
	cJSON_ArrayForEach(it, items)
	{
		if ((rc = decode_item(c, it, idx++, ik, st)) < 0)
			return rc;
		count += rc;
	}
	c->item = -1;
	return count;
}

/* --- JSON ---------------------------------------------------------------- */

/* Line and column (1-based, in bytes) of offset off in buf. */
static void text_pos(const char *buf, size_t off, int *line, int *col)
{
	const char *bol = buf;

	*line = 1;
	for (size_t i = 0; i < off; i++) {
		if (buf[i] == '\n') {
			(*line)++;
			bol = buf + i + 1;
		}
	}
	*col = (int)(buf + off - bol) + 1;
}

static size_t json_ws(const char *s, size_t len, size_t i)
{
	while (i < len &&
	       (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
		i++;
	return i;
}

/* Past the string that starts with the quote at s[i] (len when it does
 * not end). */
static size_t json_skip_string(const char *s, size_t len, size_t i)
{
	for (;;) {
		const char *q = memchr(s + i + 1, '"', len - i - 1);
		size_t bs = 0;

		if (!q)
			return len;
		i = (size_t)(q - s);
		while (s[i - 1 - bs] == '\\') /* the opening quote stops it */
			bs++;
		if (!(bs & 1))
			return i + 1;
	}
}

/*
 * Walk valid JSON text from offset *i in step with node; when target is
 * met, store its offset in *found and return true.  The text parsed into
 * the tree, so its shape matches.
 */
static bool json_find(const char *s, size_t len, size_t *i, const cJSON *node,
		      const cJSON *target, size_t *found)
{
	const cJSON *ch;

	*i = json_ws(s, len, *i);
	if (node == target) {
		*found = *i;
		return true;
	}
	if (*i >= len)
		return false;
	if (cJSON_IsObject(node) || cJSON_IsArray(node)) {
		bool obj = cJSON_IsObject(node);

		(*i)++;
		cJSON_ArrayForEach(ch, node)
		{
			*i = json_ws(s, len, *i);
			if (obj) {
				*i = json_skip_string(s, len, *i);
				*i = json_ws(s, len, *i) + 1; /* the ':' */
			}
			if (json_find(s, len, i, ch, target, found))
				return true;
			*i = json_ws(s, len, *i) + 1; /* ',' or the end */
		}
		if (!node->child)
			*i = json_ws(s, len, *i) + 1;
		return false;
	}
	if (cJSON_IsString(node)) {
		*i = json_skip_string(s, len, *i);
		return false;
	}
	while (*i < len && !strchr(",]} \t\r\n", s[*i]))
		(*i)++;
	return false;
}

/*
 * Where the JSON value at s[i] ends, by bracket matching that skips strings:
 * enough to find the members of a list document; cJSON then parses each
 * (and so checks it).  Returns len when the value does not end.
 */
static size_t json_value_end(const char *s, size_t len, size_t i)
{
	size_t depth = 0;

	if (i >= len)
		return len;
	if (s[i] != '{' && s[i] != '[') {
		if (s[i] == '"')
			return json_skip_string(s, len, i);
		while (i < len && !strchr(",]} \t\r\n", s[i]))
			i++;
		return i;
	}
	for (; i < len; i++) {
		switch (s[i]) {
		case '"':
			i = json_skip_string(s, len, i) - 1;
			break;
		case '{':
		case '[':
			depth++;
			break;
		case '}':
		case ']':
			if (--depth == 0)
				return i + 1;
			break;
		default:
			break;
		}
	}
	return len;
}

/* The syntax error cJSON stopped at (end, or NULL: at off) in err. */
static void json_syntax_error(const char *buf, size_t len, const char *end,
			      size_t off, struct decode_err *err)
{
	size_t epos = end ? (size_t)(end - buf) : off;
	int line, col;

	if (epos > len)
		epos = len;
	text_pos(buf, epos, &line, &col);
	if (epos + 1 >= len)
		seterr(
		    err, line, col,
		    "invalid JSON: incomplete value at the end of the input");
	else if (buf[epos] > ' ' && buf[epos] < 127)
		seterr(err, line, col, "invalid JSON near '%c'", buf[epos]);
	else
		seterr(err, line, col, "invalid JSON near byte 0x%02x",
		       (unsigned char)buf[epos]);
}

/* A semantic error about c->bad, found in the tree parsed from buf at
 * start, located in err. */
static void json_locate(struct dctx *c, const char *buf, size_t len,
			size_t start, const cJSON *root)
{
	size_t at = start, i = start;
	int line, col;

	if (!c->bad || !c->err)
		return;
	json_find(buf, len, &i, root, c->bad, &at);
	text_pos(buf, at, &line, &col);
	c->err->line = line;
	c->err->col = col;
}

/* A list document's parts other than its items, as the scan found them. */
struct json_head {
	cJSON *root;	  /* every member but "items", parsed */
	size_t items;	  /* offset of the items' '[' */
	size_t items_end; /* offset just past their ']' */
	size_t end;	  /* offset just past the document */
};

/*
 * Scan the object at buf[off] for its members.  Returns 1 with *h filled
 * when it is a list whose items are a JSON list, read once each; 0 when
 * it is anything else or does not scan (then the caller parses it whole,
 * which also finds the error); -ENOMEM.
 */
static int json_scan_head(const char *buf, size_t len, size_t off,
			  struct json_head *h)
{
	size_t i = off + 1, keys[64], vals[64], ends[64], n = 0;
	bool has_items = false;

	memset(h, 0, sizeof(*h));
	for (;;) {
		size_t k;

		i = json_ws(buf, len, i);
		if (i >= len || buf[i] != '"')
			return 0; /* "}" of an empty object, or bad */
		k = i;
		i = json_ws(buf, len, json_skip_string(buf, len, i));
		if (i >= len || buf[i] != ':')
			return 0;
		i = json_ws(buf, len, i + 1);
		if (n == sizeof(keys) / sizeof(keys[0]))
			return 0;
		keys[n] = k;
		vals[n] = i;
		i = json_value_end(buf, len, i);
		ends[n] = i;
		if (i >= len)
			return 0;
		if (json_skip_string(buf, len, k) - k == 7 &&
		    memcmp(buf + k, "\"items\"", 7) == 0) {
			if (has_items || buf[vals[n]] != '[')
				return 0;
			has_items = true;
			h->items = vals[n];
			h->items_end = i;
		}
		n++;
		i = json_ws(buf, len, i);
		if (i < len && buf[i] == '}')
			break;
		if (i >= len || buf[i] != ',')
			return 0;
		i++;
	}
	if (!has_items)
		return 0;
	h->end = i + 1;
	if (!(h->root = cJSON_CreateObject()))
		return -ENOMEM;
	for (size_t m = 0; m < n; m++) {
		size_t klen = json_skip_string(buf, len, keys[m]) - keys[m];
		const char *vend = NULL;
		char key[64];
		cJSON *v;

		if (vals[m] == h->items)
			continue;
		if (klen < 2 || klen - 2 >= sizeof(key) ||
		    memchr(buf + keys[m] + 1, '\\', klen - 2))
			goto whole; /* an odd key: let cJSON read it */
		memcpy(key, buf + keys[m] + 1, klen - 2);
		key[klen - 2] = '\0';
		v = jparse(buf + vals[m], ends[m] - vals[m], &vend);
		if (!v || vend != buf + ends[m]) {
			cJSON_Delete(v);
			goto whole;
		}
		if (!cJSON_AddItemToObject(h->root, key, v)) {
			cJSON_Delete(v);
			cJSON_Delete(h->root);
			h->root = NULL;
			return -ENOMEM;
		}
	}
	if (is_list(kind_of(h->root), true))
		return 1;
whole:
	cJSON_Delete(h->root);
	h->root = NULL;
	return 0;
}

/*
 * Decode the items of the list h found in buf one at a time, each parsed,
 * decoded, stored and freed before the next: a list of any size costs one
 * item's tree.  Returns the number stored, or a negative errno with err
 * set (-EAGAIN: the items do not scan; parse the document whole for the
 * error).
 */
static int json_stream_items(struct dctx *c, const char *buf, size_t len,
			     const struct json_head *h, struct store *st)
{
	char ikbuf[64];
	const char *ik = item_kind(kind_of(h->root), ikbuf, sizeof(ikbuf));
	size_t i = json_ws(buf, len, h->items + 1), idx = 0;
	int rc, count = 0;

	what_is(c, "document", NULL, NULL);
	if (i < len && buf[i] == ']')
		return 0;
	for (;;) {
		size_t start = i, end;
		const char *pend = NULL;
		cJSON *it = jparse(buf + start, h->items_end - start, &pend);

		if (!it)
			return -EAGAIN;
		end = (size_t)(pend - buf);
		rc = decode_item(c, it, idx++, ik, st);
		if (rc < 0)
			json_locate(c, buf, len, start, it);
		cJSON_Delete(it);
		if (rc < 0)
			return rc;
		count += rc;
		i = json_ws(buf, h->items_end, end);
		if (i + 1 == h->items_end && buf[i] == ']')
			break;
		if (i >= h->items_end || buf[i] != ',')
			return -EAGAIN;
		i = json_ws(buf, len, i + 1);
	}
	c->item = -1;
	return count;
}

int decode_json(const char *buf, size_t len, struct store *st,
		struct decode_err *err)
{
	return decode_json_opts(buf, len, st, err, NULL);
}

int decode_json_opts(const char *buf, size_t len, struct store *st,
		     struct decode_err *err, const struct decode_opts *opts)
{
	struct dctx c = {.err = err, .item = -1, .opts = opts};
	size_t off = 0;
	int total = 0;

	if (err)
		memset(err, 0, sizeof(*err));
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		off = 3; /* a byte order mark */
	/* Any number of values, as `kubectl get -o json` streams them. */
	for (;;) {
		struct json_head h;
		const char *end = NULL;
		size_t start;
		cJSON *root;
		int rc;

		off = json_ws(buf, len, off);
		if (off >= len)
			break;
		start = off;
		rc = buf[off] == '{' ? json_scan_head(buf, len, off, &h) : 0;
		if (rc < 0) {
			seterr(err, 0, 0, "out of memory");
			return rc;
		}
		if (rc > 0) {
			rc = json_stream_items(&c, buf, len, &h, st);
			cJSON_Delete(h.root);
			if (rc >= 0) {
				total += rc;
				off = h.end;
				continue;
			}
			if (rc != -EAGAIN)
				return rc;
			c.item = -1; /* parse it whole for the error */
		}
		root = jparse(buf + off, len - off, &end);
		if (!root) {
			json_syntax_error(buf, len, end, off, err);
			return -EINVAL;
		}
		rc = decode_tree(&c, root, st);
		if (rc < 0) {
			json_locate(&c, buf, len, start, root);
			cJSON_Delete(root);
			return rc;
		}
		total += rc;
		cJSON_Delete(root);
		off = (size_t)(end - buf);
	}
	return total;
}

/* --- YAML ---------------------------------------------------------------- */

#define YAML_MAX_DEPTH 256

struct ypos {
	const cJSON *node;
	int line, col;
};

/*
 * Building one document's tree from parser events.  The items of a list
 * are decoded and stored one at a time as each is complete, and dropped
 * from the tree, so a list of any size costs one item's tree.
 */
struct ybuild {
	cJSON *root;
	cJSON *stack[YAML_MAX_DEPTH];
	char *key[YAML_MAX_DEPTH]; /* pending key of a mapping */
	int depth;
	struct ypos *pos; /* where each node started */
	size_t npos, cappos;
	/* streaming a list's items */
	struct dctx *c;
	struct store *st;
	const char *buf; /* the whole input, to read a document's kind ahead */
	size_t len;
	size_t doc;	/* offset of the current document */
	cJSON *items;	/* the root's items while they stream, or NULL */
	const char *ik; /* their kind when they do not say (item_kind) */
	char ikbuf[64];
	size_t item_npos; /* pos entries before the current item */
	size_t idx;	  /* its index */
	int stored;	  /* items stored so far */
};

static void ybuild_reset(struct ybuild *b)
{
	cJSON_Delete(b->root);
	b->root = NULL;
	for (int i = 0; i < b->depth; i++)
		free(b->key[i]);
	b->depth = 0;
	b->npos = 0;
	b->items = NULL;
	b->idx = 0;
	b->stored = 0;
}

static bool is_one_of(const char *v, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(v, *list) == 0)
			return true;
	return false;
}

/* Resolve a plain (unquoted, untagged) scalar as YAML 1.1 does. */
static cJSON *yaml_plain(const char *v, size_t len)
{
	static const char *const nulls[] = {"",	    "~",    "null",
					    "Null", "NULL", NULL};
	static const char *const trues[] = {"true", "True", "TRUE", "yes",
					    "Yes",  "YES",  "on",   "On",
					    "ON",   NULL};
	static const char *const falses[] = {"false", "False", "FALSE", "no",
					     "No",    "NO",    "off",	"Off",
					     "OFF",   NULL};
	const char *p = v;
	char *end;

	if (is_one_of(v, nulls))
		return cJSON_CreateNull();
	if (is_one_of(v, trues))
		return cJSON_CreateTrue();
	if (is_one_of(v, falses))
		return cJSON_CreateFalse();
	if (*p == '-' || *p == '+')
		p++;
	if (*p >= '0' && *p <= '9' && strlen(v) == len) {
		long long n;
		double d;

		/* Integers: decimal, 0x hex, 0o / leading-zero octal. */
		if (p[0] == '0' && (p[1] == 'x' || p[1] == 'o') && p[2]) {
			n = strtoll(p + 2, &end, p[1] == 'x' ? 16 : 8);
			if (*end == '\0')
				return cJSON_CreateNumber(
				    (double)(*v == '-' ? -n : n));
		} else if (strspn(p, "0123456789") == strlen(p)) {
			n = strtoll(p, &end, p[0] == '0' && p[1] ? 8 : 10);
			if (*end == '\0')
				return cJSON_CreateNumber(
				    (double)(*v == '-' ? -n : n));
		}
		/* Floats need a dot or an exponent. */
		if (strpbrk(p, ".eE")) {
			d = strtod(v, &end);
			if (*end == '\0')
				return cJSON_CreateNumber(d);
		}
	}
	return cJSON_CreateString(v);
}

static cJSON *yaml_scalar(const yaml_event_t *ev)
{
	const char *v = (const char *)ev->data.scalar.value;
	const char *tag = (const char *)ev->data.scalar.tag;

	if (tag && strcmp(tag, YAML_STR_TAG) == 0)
		return cJSON_CreateString(v);
	if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return cJSON_CreateString(v);
	return yaml_plain(v, ev->data.scalar.length);
}

static int ypos_add(struct ybuild *b, const cJSON *node, const yaml_mark_t *m)
{
	if (b->npos == b->cappos) {
		size_t ncap = b->cappos ? b->cappos * 2 : 64;
		struct ypos *np = realloc(b->pos, ncap * sizeof(*np));

		if (!np)
			return -ENOMEM;
		b->pos = np;
		b->cappos = ncap;
	}
	b->pos[b->npos].node = node;
	b->pos[b->npos].line = (int)m->line + 1;
	b->pos[b->npos].col = (int)m->column + 1;
	b->npos++;
	return 0;
}

/* Attach a new node where the current container expects it. */
static int yaml_attach(struct ybuild *b, cJSON *node)
{
	cJSON *top;

	if (b->depth == 0) {
		b->root = node;
		return 0;
	}
	top = b->stack[b->depth - 1];
	if (cJSON_IsArray(top))
		return cJSON_AddItemToArray(top, node) ? 0 : -ENOMEM;
	if (!cJSON_AddItemToObject(top, b->key[b->depth - 1], node))
		return -ENOMEM;
	free(b->key[b->depth - 1]);
	b->key[b->depth - 1] = NULL;
	return 0;
}

/* Set err's position to where the node an error is about (c->bad)
 * started. */
static void ypos_locate(const struct ybuild *b, const struct dctx *c,
			size_t from)
{
	for (size_t i = from; c->bad && c->err && i < b->npos; i++) {
		if (b->pos[i].node == c->bad) {
			c->err->line = b->pos[i].line;
			c->err->col = b->pos[i].col;
			return;
		}
	}
}

/*
 * Read the document at buf[off] ahead with a parser of its own for its
 * root's first "kind": 1 with *kind set (a heap copy, NULL when it is
 * missing or not a string), 0 when the read fails (an alias, an error, no
 * mapping at the root, no memory).
 */
static int yaml_root_kind(const char *buf, size_t len, size_t off, char **kind)
{
	yaml_parser_t p;
	yaml_event_t ev;
	int depth = 0, rc = -1;
	bool want_key = true, is_kind = false;

	*kind = NULL;
	if (!yaml_parser_initialize(&p))
		return 0;
	yaml_parser_set_input_string(&p, (const unsigned char *)buf + off,
				     len - off);
	while (rc < 0 && yaml_parser_parse(&p, &ev)) {
		switch (ev.type) {
		case YAML_MAPPING_START_EVENT:
		case YAML_SEQUENCE_START_EVENT:
			if (depth == 0 && ev.type != YAML_MAPPING_START_EVENT)
				rc = 0;
			else if (depth == 1 && is_kind)
				rc = 1; /* a kind that is not a string */
			depth++;
			break;
		case YAML_MAPPING_END_EVENT:
		case YAML_SEQUENCE_END_EVENT:
			if (--depth == 1)
				want_key = true;
			break;
		case YAML_SCALAR_EVENT:
			if (depth == 0) {
				rc = 0;
			} else if (depth == 1 && want_key) {
				is_kind =
				    strcmp((const char *)ev.data.scalar.value,
					   "kind") == 0;
				want_key = false;
			} else if (depth == 1 && is_kind) {
				cJSON *v = yaml_scalar(&ev);

				if (cJSON_IsString(v))
					*kind = strdup(v->valuestring);
				rc = v && (!cJSON_IsString(v) || *kind);
				cJSON_Delete(v);
			} else if (depth == 1) {
				want_key = true;
			}
			break;
		case YAML_ALIAS_EVENT:
			rc = 0;
			break;
		case YAML_DOCUMENT_END_EVENT:
		case YAML_STREAM_END_EVENT:
			rc = 1; /* no kind */
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	return rc > 0;
}

/* The root's items (a sequence) begin: stream them when the document is
 * a list, as its kind, read ahead when it comes later, says. */
static void yaml_items_begin(struct ybuild *b, cJSON *items)
{
	const cJSON *kv = cJSON_GetObjectItemCaseSensitive(b->root, "kind");
	char *ahead = NULL;
	const char *kind;

	if (!b->c)
		return;
	if (kv)
		kind = kind_of(b->root);
	else if (yaml_root_kind(b->buf, b->len, b->doc, &ahead))
		kind = ahead;
	else
		return;
	if (is_list(kind, true)) {
		b->items = items;
		b->ik = item_kind(kind, b->ikbuf, sizeof(b->ikbuf));
	}
	free(ahead);
}

/* Whether the node being built is an item of the streaming list. */
static bool in_items(const struct ybuild *b)
{
	return b->items && b->depth == 2 && b->stack[1] == b->items;
}

/* An item of the streaming list is complete: decode, store and drop it. */
static int yaml_item_done(struct ybuild *b)
{
	cJSON *it = b->items->child;
	int rc = decode_item(b->c, it, b->idx++, b->ik, b->st);

	if (rc < 0) {
		ypos_locate(b, b->c, b->item_npos);
		return rc;
	}
	b->stored += rc;
	cJSON_Delete(cJSON_DetachItemViaPointer(b->items, it));
	b->npos = b->item_npos;
	return 0;
}

/* True when the next scalar in the current mapping is a key. */
static bool yaml_wants_key(const struct ybuild *b)
{
	return b->depth > 0 && cJSON_IsObject(b->stack[b->depth - 1]) &&
	       !b->key[b->depth - 1];
}

/* Feed one event; 1 when a document is complete, 0 to go on, or a
 * negative errno with err set. */
static int yaml_event(struct ybuild *b, const yaml_event_t *ev,
		      struct decode_err *err)
{
	const yaml_mark_t *m = &ev->start_mark;
	int line = (int)m->line + 1, col = (int)m->column + 1;
	cJSON *node;

	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		b->doc = m->index;
		return 0;
	case YAML_DOCUMENT_END_EVENT:
		return 1;
	case YAML_ALIAS_EVENT:
		seterr(err, line, col,
		       "YAML aliases (*%s) are not supported; write the value "
		       "out",
		       (const char *)ev->data.alias.anchor);
		return -EINVAL;
	case YAML_SCALAR_EVENT:
		if (yaml_wants_key(b)) {
			b->key[b->depth - 1] =
			    strdup((const char *)ev->data.scalar.value);
			if (!b->key[b->depth - 1])
				goto nomem;
			return 0;
		}
		node = yaml_scalar(ev);
		break;
	case YAML_MAPPING_START_EVENT:
	case YAML_SEQUENCE_START_EVENT:
		if (yaml_wants_key(b)) {
			seterr(err, line, col,
			       "complex mapping keys are not supported");
			return -EINVAL;
		}
		if (b->depth >= YAML_MAX_DEPTH) {
			seterr(err, line, col, "YAML nested too deeply");
			return -EINVAL;
		}
		node = ev->type == YAML_MAPPING_START_EVENT
			   ? cJSON_CreateObject()
			   : cJSON_CreateArray();
		break;
	case YAML_MAPPING_END_EVENT:
	case YAML_SEQUENCE_END_EVENT:
		if (b->depth > 0) {
			b->depth--;
			free(b->key[b->depth]);
			b->key[b->depth] = NULL;
		}
		if (in_items(b))
			return yaml_item_done(b);
		return 0;
	default:
		return 0;
	}
	if (!node)
		goto nomem;
	if (b->depth == 1 && cJSON_IsArray(node) && b->key[0] &&
	    strcmp(b->key[0], "items") == 0 &&
	    !cJSON_GetObjectItemCaseSensitive(b->root, "items"))
		yaml_items_begin(b, node);
	if (in_items(b))
		b->item_npos = b->npos;
	if (yaml_attach(b, node) < 0) {
		cJSON_Delete(node);
		goto nomem;
	}
	if (ypos_add(b, node, m) < 0)
		goto nomem;
	if (cJSON_IsObject(node) || cJSON_IsArray(node)) {
		b->stack[b->depth] = node;
		b->key[b->depth] = NULL;
		b->depth++;
	} else if (in_items(b)) {
		return yaml_item_done(b); /* a scalar item */
	}
	return 0;
nomem:
	seterr(err, line, col, "out of memory");
	return -ENOMEM;
}

int decode_yaml(const char *buf, size_t len, struct store *st,
		struct decode_err *err)
{
	return decode_yaml_opts(buf, len, st, err, NULL);
}

int decode_yaml_opts(const char *buf, size_t len, struct store *st,
		     struct decode_err *err, const struct decode_opts *opts)
{
	struct dctx c = {.err = err, .item = -1, .opts = opts};
	struct ybuild b;
	yaml_parser_t parser;
	yaml_event_t ev;
	int total = 0, rc = 0;

	if (err)
		memset(err, 0, sizeof(*err));
	memset(&b, 0, sizeof(b));
	b.c = &c;
	b.st = st;
	b.buf = buf;
	b.len = len;
	if (!yaml_parser_initialize(&parser)) {
		seterr(err, 0, 0, "out of memory");
		return -ENOMEM;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	for (;;) {
		bool done;

		if (!yaml_parser_parse(&parser, &ev)) {
			const yaml_mark_t *m = &parser.problem_mark;

			seterr(err, (int)m->line + 1, (int)m->column + 1,
			       "invalid YAML: %s%s%s",
			       parser.problem ? parser.problem : "syntax error",
			       parser.context ? " " : "",
			       parser.context ? parser.context : "");
			rc = -EINVAL;
			goto out;
		}
		done = ev.type == YAML_STREAM_END_EVENT;
		rc = yaml_event(&b, &ev, err);
		yaml_event_delete(&ev);
		if (rc < 0)
			goto out;
		if (rc == 1) {
			rc = decode_tree(&c, b.root, st);
			if (rc < 0) {
				ypos_locate(&b, &c, 0);
				goto out;
			}
			total += rc + b.stored;
			ybuild_reset(&b);
		}
		if (done)
			break;
	}
	rc = total;
out:
	ybuild_reset(&b);
	free(b.pos);
	yaml_parser_delete(&parser);
	return rc;
}
