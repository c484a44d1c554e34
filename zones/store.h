/*
 * store.h -- the object store: the current set of objects of each kind,
 * keyed by namespace and name (namespaces by name).  Single-threaded: only
 * the control thread touches it.
 */
#ifndef CLUSTERDNS_STORE_H
#define CLUSTERDNS_STORE_H

#include <stdbool.h>
#include <stddef.h>

#include "zones/objects.h"

struct store;

struct store *store_new(void);
void store_free(struct store *st);

/* Insert or replace (same ns/name) an object; the store takes ownership of
 * obj in every case (on error it is freed).  Returns 0, -ENOMEM, or -EINVAL
 * when obj lacks its namespace or name. */
int store_put_service(struct store *st, struct obj_service *obj);
int store_put_slice(struct store *st, struct obj_slice *obj);
int store_put_namespace(struct store *st, struct obj_namespace *obj);
int store_put_pod(struct store *st, struct obj_pod *obj);

/* Remove and free an object; returns 0, or -ENOENT when absent. */
int store_del_service(struct store *st, const char *ns, const char *name);
int store_del_slice(struct store *st, const char *ns, const char *name);
int store_del_namespace(struct store *st, const char *name);
int store_del_pod(struct store *st, const char *ns, const char *name);

/* Look up one object; NULL when absent.  Valid until the next change. */
const struct obj_service *store_service(const struct store *st, const char *ns,
					const char *name);
const struct obj_slice *store_slice(const struct store *st, const char *ns,
				    const char *name);
/* True when the namespace is known: a Namespace object names it or any
 * stored object lives in it (the same set store_each_namespace walks). */
bool store_has_namespace(const struct store *st, const char *name);
/* The Namespace object itself; NULL when only other objects name it. */
const struct obj_namespace *store_namespace(const struct store *st,
					    const char *name);
const struct obj_pod *store_pod(const struct store *st, const char *ns,
				const char *name);

/* Iterate over all objects of a kind, in no particular order.  The callback
 * returns 0 to go on, anything else stops the walk and is returned.  The
 * store must not be changed during a walk. */
int store_each_service(const struct store *st,
		       int (*cb)(const struct obj_service *, void *),
		       void *arg);
int store_each_slice(const struct store *st,
		     int (*cb)(const struct obj_slice *, void *), void *arg);
int store_each_pod(const struct store *st,
		   int (*cb)(const struct obj_pod *, void *), void *arg);

/* Namespaces known to the store: those named by a Namespace object and those
 * that any stored object lives in.  Iterates over each name once. */
int store_each_namespace(const struct store *st,
			 int (*cb)(const char *name, void *), void *arg);

/* The slices of service ns/svc (label kubernetes.io/service-name; not the
 * multicluster ones), in no particular order; returns how many exist and fills
 * at most max of them. */
size_t store_slices_of(const struct store *st, const char *ns, const char *svc,
		       const struct obj_slice **out, size_t max);

/* The pods of namespace ns, for selector matching; same contract. */
size_t store_pods_in(const struct store *st, const char *ns,
		     const struct obj_pod **out, size_t max);

/* ---- ServiceImports (multicluster.x-k8s.io), kept apart from Services:
 * the same contracts as the Service functions above. ---- */
int store_put_import(struct store *st, struct obj_import *obj);
int store_del_import(struct store *st, const char *ns, const char *name);
const struct obj_import *store_import(const struct store *st, const char *ns,
				      const char *name);
int store_each_import(const struct store *st,
		      int (*cb)(const struct obj_import *, void *), void *arg);
/* The multicluster slices (obj_slice.cluster set) of import ns/svc (label
 * multicluster.kubernetes.io/service-name); as store_slices_of. */
size_t store_mc_slices_of(const struct store *st, const char *ns,
			  const char *svc, const struct obj_slice **out,
			  size_t max);
size_t store_count_imports(const struct store *st);

/* Counts, for logs and tests. */
size_t store_count_services(const struct store *st);
size_t store_count_slices(const struct store *st);
size_t store_count_pods(const struct store *st);

#endif
