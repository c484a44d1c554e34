/*
 * store.h -- the emulator's object store: every object as its JSON text plus
 * the few fields that lists, selectors and watches need, versioned under one
 * global resourceVersion as etcd keeps its revisions.
 *
 * Each key (namespace/name, or name for namespaces) holds a chain of
 * versions, newest first, so that a list can read the state as of any
 * resourceVersion still inside the history window.  Every create, update and
 * delete takes the next resourceVersion and appends one event to the
 * history; compaction forgets events up to a resourceVersion and the
 * versions no snapshot after it can see.  Keys of one resource are kept
 * sorted, as etcd keys are, which is the order of lists and of pages.
 *
 * The store is single-threaded and owns everything it holds.
 */
#ifndef APIEMU_STORE_H
#define APIEMU_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <event2/buffer.h>

enum emu_res {
	EMU_RES_NAMESPACES = 0,
	EMU_RES_SERVICES,
	EMU_RES_ENDPOINTSLICES,
	EMU_RES_PODS,
	EMU_RES_SERVICEIMPORTS, /* multicluster.x-k8s.io/v1alpha1 */
	EMU_RES_COUNT
};

struct emu_resource_info {
	const char *name;	 /* plural, as in the path: "pods" */
	const char *kind;	 /* "Pod" */
	const char *list_kind;	 /* "PodList" */
	const char *api_version; /* "v1", "discovery.k8s.io/v1" or
				  * "multicluster.x-k8s.io/v1alpha1" */
	bool namespaced;
};

extern const struct emu_resource_info emu_resources[EMU_RES_COUNT];

/* The resource of a plural name or of a kind; -1 when unknown. */
int emu_resource_by_name(const char *name);
int emu_resource_by_kind(const char *kind);

struct emu_label {
	char *key;
	char *value;
};

/* One state of one object: the JSON text without kind and apiVersion, with
 * the value of metadata.resourceVersion cut out at rv_off (it is written when
 * the object is sent), and the indexed fields.  Shared by reference count
 * between a live version and the tombstone that follows it. */
struct emu_doc {
	unsigned refs;
	char *text;
	size_t len;
	size_t rv_off;
	char *uid;
	char *created;
	struct emu_label *labels;
	size_t nlabels;
	char *phase; /* pods: status.phase, else NULL */
};

struct emu_version {
	uint64_t rv;
	bool deleted; /* tombstone: doc is the last live state */
	struct emu_doc *doc;
	struct emu_version *older;
};

struct emu_entry {
	char *key;     /* "ns/name", or "name" for cluster-scoped objects */
	size_t ns_len; /* length of ns in key, 0 for cluster-scoped */
	const char *name;
	struct emu_version *head; /* NULL: dead, waiting to be swept */
	bool touched;
};

enum emu_ev_type { EMU_EV_ADDED = 0, EMU_EV_MODIFIED, EMU_EV_DELETED };

extern const char *const emu_ev_names[3];

/* One history event.  ver is the new state (for DELETED the tombstone, whose
 * doc is the last state); prev is the state before a MODIFIED, else NULL. */
struct emu_event {
	uint64_t rv;
	uint8_t type;
	uint8_t res;
	struct emu_entry *entry;
	struct emu_version *ver;
	struct emu_version *prev;
};

struct emu_table {
	struct emu_entry **v;
	size_t n;
	size_t cap;
	size_t live;
	size_t dead;
	bool unsorted; /* bulk loading appends; emu_store_bulk_end sorts */
};

struct emu_store {
	uint64_t rv;	     /* current resourceVersion */
	uint64_t compact_rv; /* history holds every event in (compact_rv, rv] */
	struct emu_table tables[EMU_RES_COUNT];
	struct emu_event *hist; /* ring of rv - compact_rv events */
	size_t hist_head;
	size_t hist_cap;
	size_t history_max;
	bool bulk;
	uint64_t rng;
	/* Called after every appended event. */
	void (*on_event)(void *arg);
	void *on_event_arg;
};

/* Initialise an empty store at resourceVersion 1 keeping history_max events
 * (0: unbounded). */
void emu_store_init(struct emu_store *s, size_t history_max);

/* Free everything the store holds. */
void emu_store_free(struct emu_store *s);

/* Create or update one object.  obj is modified (kind and apiVersion are
 * removed, metadata completed); res is its resource, or -1 to take it from
 * obj's kind.  On success stores the new resourceVersion in *rv (may be NULL)
 * and returns 0; returns -EINVAL with a message in err when the object cannot
 * be stored. */
int emu_store_put(struct emu_store *s, cJSON *obj, int res, uint64_t *rv,
		  char *err, size_t errlen);

/* Delete one object: -ENOENT when it does not exist. */
int emu_store_delete(struct emu_store *s, int res, const char *ns,
		     const char *name, uint64_t *rv);

/* Forget the history up to upto (at most the current resourceVersion). */
void emu_store_compact(struct emu_store *s, uint64_t upto);

/* Bulk loading: objects are appended without history; emu_store_bulk_end
 * sorts the tables, keeps the last of duplicate keys and compacts. */
void emu_store_bulk_begin(struct emu_store *s);
void emu_store_bulk_end(struct emu_store *s);

/* Load a JSON file (a List, a typed list, single objects, several values one
 * after another) or every *.json file under a directory.  Objects of other
 * kinds are counted in *skipped.  Returns the number of objects stored, or
 * -1 after printing why to stderr. */
long emu_store_load_path(struct emu_store *s, const char *path, long *skipped);

/* The event of resourceVersion rv, or NULL when outside the history. */
const struct emu_event *emu_store_event(const struct emu_store *s, uint64_t rv);

/* The live version of e at resourceVersion rv, or NULL when it did not
 * exist then. */
const struct emu_version *emu_entry_at(const struct emu_entry *e, uint64_t rv);

/* The index of the first key of table res that is greater than key (or
 * greater or equal when inclusive). */
size_t emu_store_seek(const struct emu_store *s, int res, const char *key,
		      bool inclusive);

/* The entry of key in table res, or NULL. */
struct emu_entry *emu_store_find(const struct emu_store *s, int res,
				 const char *key);

/* Number of live objects of a resource. */
size_t emu_store_count(const struct emu_store *s, int res);

/* Append doc to out with resourceVersion rv; with info, as a whole object
 * carrying kind and apiVersion first. */
void emu_doc_write(struct evbuffer *out, const struct emu_doc *doc, uint64_t rv,
		   const struct emu_resource_info *info);

/* The doc as a new cJSON tree (without kind and apiVersion), or NULL. */
cJSON *emu_doc_json(const struct emu_doc *doc, uint64_t rv);

/* A pseudo-random number from the store's generator. */
uint64_t emu_store_rand(struct emu_store *s);

#endif
