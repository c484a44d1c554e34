/*
 * decode.h -- Kubernetes objects from JSON (cJSON) and YAML (libyaml).
 *
 * Input is what `kubectl get -o json` prints (a List, a typed list such as
 * ServiceList whose items carry no kind, or a single object) or YAML
 * manifests with one or more documents.  Kinds used: Namespace, Service,
 * EndpointSlice (discovery.k8s.io/v1), Pod and ServiceImport
 * (multicluster.x-k8s.io; EndpointSlices labelled
 * multicluster.kubernetes.io/service-name are its endpoints, with
 * obj_slice.cluster set); other kinds are skipped, and
 * so are used kinds of another API group (a Knative "Service").
 *
 * Conventions:
 *  - JSON null and YAML null/~/empty count as an absent field.
 *  - A Service of type ClusterIP, NodePort or LoadBalancer without a
 *    clusterIP (absent or "", as in hand-written manifests) decodes as
 *    OBJ_SVC_CLUSTERIP with nips 0: it has no address to answer with yet.
 *  - A quoted numeric targetPort ("8080") counts as the number.
 *  - EndpointSlices with addressType FQDN are skipped; an address of the
 *    other family in a slice is an error.
 *  - YAML follows 1.1 for plain scalars: true/false/yes/no/on/off (any of
 *    the usual casings) are booleans, null/~ is null, decimal, 0x hex and
 *    octal integers are numbers; quoted scalars and !!str stay strings.
 *    Aliases (*name) and complex keys are rejected.
 *  - JSON input may hold several top-level values one after another.
 */
#ifndef CLUSTERDNS_DECODE_H
#define CLUSTERDNS_DECODE_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "zones/store.h"

enum decode_kind {
	DECODE_OTHER = 0, /* a kind DNS does not use: skipped */
	DECODE_SERVICE,
	DECODE_SLICE,
	DECODE_NAMESPACE,
	DECODE_POD,
	DECODE_IMPORT, /* ServiceImport, multicluster.x-k8s.io/v1alpha1 */
};

/* One decoded object; exactly the member matching kind is set, and the
 * caller owns it. */
struct decode_obj {
	enum decode_kind kind;
	union {
		struct obj_service *svc;
		struct obj_slice *slice;
		struct obj_namespace *ns;
		struct obj_pod *pod;
		struct obj_import *imp;
	} u;
};

/* Where and why decoding failed.  line/col are 1-based, 0 when unknown. */
struct decode_err {
	int line;
	int col;
	char msg[256];
};

/* Decode one object tree.  kind overrides the object's own "kind" field
 * (items of typed lists carry none); NULL uses the field.  Returns 0 with
 * out filled (kind DECODE_OTHER for skipped kinds), or -EINVAL with err set
 * when a used kind lacks a required field or has one of the wrong type. */
int decode_object(const cJSON *obj, const char *kind, struct decode_obj *out,
		  struct decode_err *err);

/* Decode a whole JSON document (a single object, a List or a typed list)
 * and put every used object into st.  Returns the number of objects stored,
 * or -EINVAL (-ENOMEM) with err set: err->line/col locate the syntax error
 * or the offending field; on error st may hold part of the document. */
int decode_json(const char *buf, size_t len, struct store *st,
		struct decode_err *err);

/* The same for YAML with any number of documents ("---"). */
int decode_yaml(const char *buf, size_t len, struct store *st,
		struct decode_err *err);

/* An object left out of a document: what it is (kind, ns, name are NULL
 * when the object has none; they live during the callback only) and why. */
struct decode_skip {
	const char *kind;
	const char *ns;
	const char *name;
	const char *why;
};

/* What decode_json_opts and decode_yaml_opts do with objects they cannot
 * use. */
struct decode_opts {
	/* Each object left out goes here: one of a kind DNS does not use (or
	 * with no kind; FQDN EndpointSlices excepted), or of a used kind
	 * whose name cannot be part of a DNS name (decode_unusable).  A
	 * malformed object is still an error of the document. */
	void (*skipped)(void *arg, const struct decode_skip *s);
	void *arg;
};

/* decode_json and decode_yaml, with objects that DNS cannot use left out
 * and reported to opts (NULL: as decode_json and decode_yaml, which store
 * every decoded object and skip unused kinds silently). */
int decode_json_opts(const char *buf, size_t len, struct store *st,
		     struct decode_err *err, const struct decode_opts *opts);
int decode_yaml_opts(const char *buf, size_t len, struct store *st,
		     struct decode_err *err, const struct decode_opts *opts);

/* Why o cannot be in DNS, written into buf: a Service whose name or
 * namespace, or a Namespace whose name, is not a DNS label (empty, longer
 * than 63 bytes, or with a dot).  NULL when it can. */
const char *decode_unusable(const struct decode_obj *o, char *buf, size_t len);

/* Free the object o holds (any kind) and set its kind to DECODE_OTHER. */
void decode_obj_free(struct decode_obj *o);

#endif
