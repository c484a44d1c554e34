/*
 * filesrc.h -- the `objects PATH` source: Kubernetes objects from a file or a
 * directory tree of *.json, *.yaml and *.yml files, and a watch that says
 * when they change.
 */
#ifndef CLUSTERDNS_FILESRC_H
#define CLUSTERDNS_FILESRC_H

#include <stddef.h>

#include "zones/decode.h"
#include "zones/store.h"

struct event_base;

/*
 * Read every object under path into a new store (*out, owned by the caller).
 * Directories are walked recursively in name order; files with other
 * endings are ignored.  After reading, every Service that has a selector but
 * no EndpointSlice gets one derived from the Pods it selects, as the
 * EndpointSlice controller would make it.
 * Returns 0, or a negative errno with err holding "FILE:LINE:COL: message"
 * (or "PATH: message"); *out is then NULL.
 */
int filesrc_load(const char *path, struct store **out, char *err,
		 size_t errlen);

/* filesrc_load, with each object left out (decode_opts: a kind DNS does
 * not use, a name that cannot be a DNS name) reported to skipped(arg, file,
 * s) when skipped is not NULL.  A file over the size limit (128 MiB) is an
 * error naming the file, its size and the limit (-EFBIG). */
int filesrc_load_skip(const char *path,
		      void (*skipped)(void *arg, const char *file,
				      const struct decode_skip *s),
		      void *arg, struct store **out, char *err, size_t errlen);

/*
 * The same for one manifest in memory: buf (len bytes, no NUL needed; not
 * NULL) is read as a file called name would be (JSON for *.json, YAML for
 * *.yaml and *.yml, else JSON when it starts with '{'), and the slices are
 * derived.  Messages start with name.  Returns as filesrc_load.
 */
int filesrc_load_buf(const char *name, const char *buf, size_t len,
		     struct store **out, char *err, size_t errlen);

struct filesrc_watch;

/*
 * Watch path (recursively, including directories created later) with
 * inotify on base; cb(arg) runs once, about 100 ms after a burst of changes
 * settles.  Returns NULL with errno set on failure.
 */
struct filesrc_watch *filesrc_watch_new(struct event_base *base,
					const char *path, void (*cb)(void *),
					void *arg);
void filesrc_watch_free(struct filesrc_watch *w);

#endif
