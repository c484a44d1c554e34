/*
 * decode.h -- Kubernetes objects from JSON (cJSON) and YAML (libyaml).
 *
 * Input is what `kubectl get -o json` prints (a List, a typed list such as
 * ServiceList whose items carry no kind, or a single object) or YAML
 * manifests with one or more documents.  Kinds used: Namespace, Service,
 * EndpointSlice (discovery.k8s.io/v1) and Pod; other kinds are skipped, and
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

#endif
