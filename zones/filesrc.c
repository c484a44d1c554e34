/*
 * filesrc.c -- Kubernetes objects from manifest files, and an inotify watch
 * that says when they change.
 *
 * Loading walks the tree in name order, skipping entries whose names start
 * with a dot (editor swap files, and the "..data" and timestamped
 * directories of a mounted ConfigMap, whose files also appear as symlinks
 * at the top).  Services with a selector but no EndpointSlice get slices
 * derived from their Pods, named "<service>-derived-ipv4" / "-ipv6" (with
 * "-2", "-3"... when pods resolve named ports differently).
 */
#include "zones/filesrc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "zones/decode.h"

#define FILESRC_MAX_DEPTH 32
/* The largest manifest file read, in bytes (README names it): a file
 * beyond it is an error naming the file, its size and the limit. */
#define FILESRC_MAX_FILE (128L << 20)

static void errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static bool has_suffix(const char *s, const char *suf)
{
	size_t n = strlen(s), m = strlen(suf);

	return n > m && strcmp(s + n - m, suf) == 0;
}

static bool is_manifest(const char *name)
{
	return has_suffix(name, ".json") || has_suffix(name, ".yaml") ||
	       has_suffix(name, ".yml");
}

static char *join(const char *dir, const char *name)
{
	size_t n = strlen(dir);
	char *p = malloc(n + strlen(name) + 2);

	if (!p)
		return NULL;
	if (n && dir[n - 1] == '/')
		sprintf(p, "%s%s", dir, name);
	else
		sprintf(p, "%s/%s", dir, name);
	return p;
}

/* --- reading ------------------------------------------------------------- */

/* Bytes read at most by one read(2): the kernel copies a read's bytes
 * (and faults the buffer's fresh pages in) without giving the CPU away,
 * so a 58 MB file read at once on a reload's thread kept a worker woken
 * meanwhile waiting for up to 4 ms. */
#define READ_CHUNK (64 * 1024)

/* Read path whole into *buf (NUL-terminated, *len bytes); *size is the
 * file's size, also when it is over FILESRC_MAX_FILE (-EFBIG). */
static int read_file(const char *path, char **buf, size_t *len, long long *size)
{
	struct stat sb;
	size_t got = 0;
	char *b;
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &sb) < 0) {
		rc = -errno;
		goto fail;
	}
	*size = (long long)sb.st_size;
	if (sb.st_size > FILESRC_MAX_FILE) {
		rc = -EFBIG;
		goto fail;
	}
	b = malloc((size_t)sb.st_size + 1);
	if (!b) {
		rc = -ENOMEM;
		goto fail;
	}
	while (got < (size_t)sb.st_size) {
		size_t want = (size_t)sb.st_size - got;
		ssize_t n =
		    read(fd, b + got, want < READ_CHUNK ? want : READ_CHUNK);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			free(b);
			goto fail;
		}
		if (n == 0)
			break; /* shrank while reading */
		got += (size_t)n;
	}
	b[got] = '\0';
	close(fd);
	*buf = b;
	*len = got;
	return 0;
fail:
	close(fd);
	return rc;
}

/* JSON by name; for other names, JSON when it starts like JSON. */
static bool looks_json(const char *path, const char *buf, size_t len)
{
	size_t i = 0;

	if (has_suffix(path, ".json"))
		return true;
	if (has_suffix(path, ".yaml") || has_suffix(path, ".yml"))
		return false;
	while (i < len && strchr(" \t\r\n", buf[i]))
		i++;
	return i < len && buf[i] == '{';
}

/* Where a load reports the objects it leaves out. */
struct skipto {
	void (*fn)(void *arg, const char *file, const struct decode_skip *s);
	void *arg;
	const char *file; /* the file being read */
};

static void file_skipped(void *arg, const struct decode_skip *s)
{
	struct skipto *to = arg;

	if (to->fn)
		to->fn(to->arg, to->file, s);
}

/* The objects of one manifest, buf (len bytes), read as the file path. */
static int load_buf(const char *path, const char *buf, size_t len,
		    struct skipto *to, struct store *st, char *err,
		    size_t errlen)
{
	struct decode_opts opts = {file_skipped, to};
	struct decode_err derr;
	int rc;

	to->file = path;
	if (looks_json(path, buf, len))
		rc = decode_json_opts(buf, len, st, &derr, &opts);
	else
		rc = decode_yaml_opts(buf, len, st, &derr, &opts);
	if (rc >= 0)
		return 0;
	if (derr.line > 0)
		errf(err, errlen, "%s:%d:%d: %s", path, derr.line, derr.col,
		     derr.msg);
	else
		errf(err, errlen, "%s: %s", path, derr.msg);
	return rc;
}

static int load_file(const char *path, struct skipto *to, struct store *st,
		     char *err, size_t errlen)
{
	size_t len = 0;
	long long size = 0;
	char *buf = NULL;
	int rc = read_file(path, &buf, &len, &size);

	if (rc == -EFBIG) {
		errf(err, errlen,
		     "%s: %lld bytes, more than the limit of %ld bytes "
		     "(%ld MiB) for one file",
		     path, size, FILESRC_MAX_FILE, FILESRC_MAX_FILE >> 20);
		return rc;
	}
	if (rc < 0) {
		errf(err, errlen, "%s: %s", path, strerror(-rc));
		return rc;
	}
	rc = load_buf(path, buf, len, to, st, err, errlen);
	free(buf);
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in dir, without dot entries, sorted; *out is NULL-free. */
static int list_dir(const char *dir, char ***out, size_t *n)
{
	struct dirent *de;
	char **names = NULL;
	size_t cnt = 0, cap = 0;
	DIR *d = opendir(dir);
	int rc = 0;

	*out = NULL;
	*n = 0;
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (cnt == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			char **nn = realloc(names, ncap * sizeof(*nn));

			if (!nn) {
				rc = -ENOMEM;
				goto fail;
			}
			names = nn;
			cap = ncap;
		}
		names[cnt] = strdup(de->d_name);
		if (!names[cnt]) {
			rc = -ENOMEM;
			goto fail;
		}
		cnt++;
	}
	closedir(d);
	if (cnt)
		qsort(names, cnt, sizeof(*names), cmp_str);
	*out = names;
	*n = cnt;
	return 0;
fail:
	while (cnt)
		free(names[--cnt]);
	free(names);
	closedir(d);
	return rc;
}

static int load_dir(const char *dir, int depth, struct skipto *to,
		    struct store *st, char *err, size_t errlen)
{
	char **names;
	size_t n, i;
	int rc;

	if (depth > FILESRC_MAX_DEPTH) {
		errf(err, errlen, "%s: directories nested too deeply", dir);
		return -ELOOP;
	}
	rc = list_dir(dir, &names, &n);
	if (rc < 0) {
		errf(err, errlen, "%s: %s", dir, strerror(-rc));
		return rc;
	}
	for (i = 0; i < n && rc == 0; i++) {
		char *p = join(dir, names[i]);
		struct stat sb;

		if (!p) {
			errf(err, errlen, "%s: %s", dir, strerror(ENOMEM));
			rc = -ENOMEM;
			break;
		}
		if (stat(p, &sb) < 0) {
			/* A dangling symlink or a file gone meanwhile. */
			if (errno != ENOENT) {
				rc = -errno;
				errf(err, errlen, "%s: %s", p, strerror(errno));
			}
		} else if (S_ISDIR(sb.st_mode)) {
			rc = load_dir(p, depth + 1, to, st, err, errlen);
		} else if (S_ISREG(sb.st_mode) && is_manifest(names[i])) {
			rc = load_file(p, to, st, err, errlen);
		}
		free(p);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

/* --- derived EndpointSlices ------------------------------------------------
 */

struct svc_list {
	const struct obj_service **v;
	size_t n, cap;
};

static int collect_svc(const struct obj_service *s, void *arg)
{
	struct svc_list *l = arg;

	if (s->type == OBJ_SVC_EXTERNALNAME || s->nselector == 0)
		return 0;
	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 64;
		const struct obj_service **nv =
		    realloc(l->v, ncap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		l->v = nv;
		l->cap = ncap;
	}
	l->v[l->n++] = s;
	return 0;
}

static int cmp_pod(const void *a, const void *b)
{
	const struct obj_pod *x = *(const struct obj_pod *const *)a;
	const struct obj_pod *y = *(const struct obj_pod *const *)b;

	return strcmp(x->name, y->name);
}

/* The port a pod serves service port sp on; 0 when a named targetPort is
 * not among the pod's container ports. */
static uint16_t resolve_port(const struct obj_port *sp, const struct obj_pod *p)
{
	if (sp->target_name) {
		for (size_t i = 0; i < p->nports; i++)
			if (p->ports[i].name &&
			    strcmp(p->ports[i].name, sp->target_name) == 0 &&
			    p->ports[i].proto == sp->proto)
				return p->ports[i].port;
		return 0;
	}
	return sp->target ? sp->target : sp->port;
}

static const struct obj_addr *pod_addr(const struct obj_pod *p, int family)
{
	for (size_t i = 0; i < p->nips; i++)
		if (p->ips[i].family == family)
			return &p->ips[i];
	return NULL;
}

static char *strdup_opt(const char *s)
{
	return s ? strdup(s) : NULL;
}

/*
 * Build one slice of service s for address family fam from the pods in
 * sel (already filtered) whose resolved ports equal ports[] (nports of
 * them, 0 = absent).  Returns the slice or NULL on ENOMEM.
 */
static struct obj_slice *make_slice(const struct obj_service *s,
				    const struct obj_pod **sel, size_t nsel,
				    const uint16_t *want, uint16_t *scratch,
				    int fam, const char *name)
{
	struct obj_slice *sl = calloc(1, sizeof(*sl));
	size_t i, j;

	if (!sl)
		return NULL;
	sl->ns = strdup(s->ns);
	sl->name = strdup(name);
	sl->service = strdup(s->name);
	sl->eps = calloc(nsel, sizeof(*sl->eps));
	sl->ports = calloc(s->nports ? s->nports : 1, sizeof(*sl->ports));
	if (!sl->ns || !sl->name || !sl->service || !sl->eps || !sl->ports)
		goto fail;
	for (i = 0; i < s->nports; i++) {
		if (!want[i])
			continue;
		struct obj_port *o = &sl->ports[sl->nports++];

		o->port = want[i];
		o->proto = s->ports[i].proto;
		if (s->ports[i].name && !(o->name = strdup(s->ports[i].name)))
			goto fail;
	}
	for (i = 0; i < nsel; i++) {
		const struct obj_pod *p = sel[i];
		const struct obj_addr *a = pod_addr(p, fam);
		struct obj_endpoint *ep;

		if (!a)
			continue;
		for (j = 0; j < s->nports; j++)
			scratch[j] = resolve_port(&s->ports[j], p);
		if (s->nports && memcmp(scratch, want, s->nports * 2) != 0)
			continue;
		ep = &sl->eps[sl->neps++];
		ep->addrs = malloc(sizeof(*ep->addrs));
		if (!ep->addrs)
			goto fail;
		ep->addrs[0] = *a;
		ep->naddrs = 1;
		ep->ready = p->ready || s->publish_not_ready;
		if (p->hostname && p->subdomain &&
		    strcmp(p->subdomain, s->name) == 0 &&
		    !(ep->hostname = strdup(p->hostname)))
			goto fail;
		if (!(ep->pod_name = strdup_opt(p->name)))
			goto fail;
	}
	return sl;
fail:
	obj_slice_free(sl);
	return NULL;
}

/* Derive the slices of one service; 0 or -ENOMEM. */
static int derive_service(struct store *st, const struct obj_service *s)
{
	const struct obj_pod **pods = NULL, **sel = NULL;
	uint16_t *want = NULL, *scratch = NULL, *done = NULL;
	size_t n, nsel = 0, i, j;
	int rc = -ENOMEM, fam;

	n = store_pods_in(st, s->ns, NULL, 0);
	if (!n)
		return 0;
	pods = malloc(n * sizeof(*pods));
	sel = malloc(n * sizeof(*sel));
	want = calloc(s->nports + 1, sizeof(*want));
	scratch = calloc(s->nports + 1, sizeof(*scratch));
	done = calloc(n, sizeof(*done));
	if (!pods || !sel || !want || !scratch || !done)
		goto fail;
	store_pods_in(st, s->ns, pods, n);
	for (i = 0; i < n; i++)
		if (pods[i]->nips && !pods[i]->terminal &&
		    obj_selects(s, pods[i]))
			sel[nsel++] = pods[i];
	qsort(sel, nsel, sizeof(*sel), cmp_pod);

	/* One slice per family and distinct set of resolved ports. */
	for (fam = 4; fam <= 6; fam += 2) {
		unsigned int seq = 0;

		memset(done, 0, n * sizeof(*done));
		for (i = 0; i < nsel; i++) {
			struct obj_slice *sl;
			char name[300];

			if (done[i] || !pod_addr(sel[i], fam))
				continue;
			for (j = 0; j < s->nports; j++)
				want[j] = resolve_port(&s->ports[j], sel[i]);
			/* Mark every pod this slice will take. */
			for (j = i; j < nsel; j++) {
				size_t k;

				for (k = 0; k < s->nports; k++)
					if (resolve_port(&s->ports[k],
							 sel[j]) != want[k])
						break;
				if (k == s->nports && pod_addr(sel[j], fam))
					done[j] = 1;
			}
			do {
				seq++;
				if (seq == 1)
					snprintf(name, sizeof(name),
						 "%s-derived-ipv%d", s->name,
						 fam);
				else
					snprintf(name, sizeof(name),
						 "%s-derived-ipv%d-%u", s->name,
						 fam, seq);
			} while (store_slice(st, s->ns, name));
			sl = make_slice(s, sel, nsel, want, scratch, fam, name);
			if (!sl || store_put_slice(st, sl) < 0)
				goto fail;
		}
	}
	rc = 0;
fail:
	free(pods);
	free(sel);
	free(want);
	free(scratch);
	free(done);
	return rc;
}

static int derive_slices(struct store *st)
{
	struct svc_list l = {0};
	int rc;

	rc = store_each_service(st, collect_svc, &l);
	for (size_t i = 0; i < l.n && rc == 0; i++) {
		const struct obj_service *s = l.v[i];

		if (store_slices_of(st, s->ns, s->name, NULL, 0) == 0)
			rc = derive_service(st, s);
	}
	free(l.v);
	return rc;
}

/* Read the manifest buf of len bytes, named path, or without buf the
 * directory (dir) or file path, into a new store, and derive the slices. */
static int load(const char *path, bool dir, const char *buf, size_t len,
		struct skipto *to, struct store **out, char *err, size_t errlen)
{
	struct store *st = store_new();
	int rc;

	if (!st) {
		errf(err, errlen, "%s: %s", path, strerror(ENOMEM));
		return -ENOMEM;
	}
	if (buf)
		rc = load_buf(path, buf, len, to, st, err, errlen);
	else if (dir)
		rc = load_dir(path, 0, to, st, err, errlen);
	else
		rc = load_file(path, to, st, err, errlen);
	if (rc < 0)
		goto fail;
	rc = derive_slices(st);
	if (rc < 0) {
		errf(err, errlen, "%s: %s", path, strerror(-rc));
		goto fail;
	}
	*out = st;
	return 0;
fail:
	store_free(st);
	return rc;
}

int filesrc_load(const char *path, struct store **out, char *err, size_t errlen)
{
	return filesrc_load_skip(path, NULL, NULL, out, err, errlen);
}

int filesrc_load_skip(const char *path,
		      void (*skipped)(void *arg, const char *file,
				      const struct decode_skip *s),
		      void *arg, struct store **out, char *err, size_t errlen)
{
	struct skipto to = {skipped, arg, path};
	struct stat sb;

	*out = NULL;
	if (err && errlen)
		err[0] = '\0';
	if (stat(path, &sb) < 0) {
		int rc = -errno;
		errf(err, errlen, "%s: %s", path, strerror(errno));
		return rc;
	}
	return load(path, S_ISDIR(sb.st_mode), NULL, 0, &to, out, err, errlen);
}

int filesrc_load_buf(const char *name, const char *buf, size_t len,
		     struct store **out, char *err, size_t errlen)
{
	struct skipto to = {NULL, NULL, name};

	*out = NULL;
	if (err && errlen)
		err[0] = '\0';
	return load(name, false, buf, len, &to, out, err, errlen);
}

/* --- watch -----------------------------------------------------------------
 */

#define WATCH_MASK                                                             \
	(IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_MOVED_FROM |              \
	 IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF)
#define WATCH_SETTLE_MS 100
#define WATCH_MAX_DELAY_MS 1000

struct wentry {
	int wd;
	bool seen;
	char *path;
};

struct filesrc_watch {
	struct event_base *base;
	int fd;
	struct event *ev_read;
	struct event *ev_timer;
	char *path;    /* what is watched, trailing slashes removed */
	char *name;    /* its last component, for the parent's events */
	int parent_wd; /* the directory holding path, or -1 */
	struct wentry *w;
	size_t nw, capw;
	bool pending;
	struct timeval first; /* first change of the current burst */
	void (*cb)(void *);
	void *arg;
};

static struct wentry *went_find(struct filesrc_watch *w, int wd)
{
	for (size_t i = 0; i < w->nw; i++)
		if (w->w[i].wd == wd)
			return &w->w[i];
	return NULL;
}

static void went_drop(struct filesrc_watch *w, struct wentry *e)
{
	free(e->path);
	*e = w->w[--w->nw];
}

/* Watch p; remember it (once per wd). */
static int watch_add(struct filesrc_watch *w, const char *p)
{
	struct wentry *e;
	int wd = inotify_add_watch(w->fd, p, WATCH_MASK);

	if (wd < 0)
		return -errno;
	if (wd == w->parent_wd)
		return 0;
	e = went_find(w, wd);
	if (!e) {
		if (w->nw == w->capw) {
			size_t ncap = w->capw ? w->capw * 2 : 16;
			struct wentry *nv = realloc(w->w, ncap * sizeof(*nv));

			if (!nv)
				goto nomem;
			w->w = nv;
			w->capw = ncap;
		}
		e = &w->w[w->nw];
		e->path = NULL;
		e->wd = wd;
		w->nw++;
	}
	if (!e->path || strcmp(e->path, p) != 0) {
		char *np = strdup(p);

		if (!np)
			goto nomem;
		free(e->path);
		e->path = np;
	}
	e->seen = true;
	return 0;
nomem:
	inotify_rm_watch(w->fd, wd);
	return -ENOMEM;
}

/* Watch p and, when it is a directory, every directory below it. */
static void watch_tree(struct filesrc_watch *w, const char *p, int depth)
{
	struct stat sb;
	char **names;
	size_t n;

	if (depth > FILESRC_MAX_DEPTH || stat(p, &sb) < 0)
		return;
	if (watch_add(w, p) < 0 || !S_ISDIR(sb.st_mode))
		return;
	if (list_dir(p, &names, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		char *c = join(p, names[i]);

		if (c && stat(c, &sb) == 0 && S_ISDIR(sb.st_mode))
			watch_tree(w, c, depth + 1);
		free(c);
		free(names[i]);
	}
	free(names);
}

/* Bring the watches in line with what is on disk now. */
static void watch_resync(struct filesrc_watch *w)
{
	for (size_t i = 0; i < w->nw; i++)
		w->w[i].seen = false;
	watch_tree(w, w->path, 0);
	for (size_t i = 0; i < w->nw;) {
		if (!w->w[i].seen) {
			inotify_rm_watch(w->fd, w->w[i].wd);
			went_drop(w, &w->w[i]);
		} else {
			i++;
		}
	}
}

static long ms_between(const struct timeval *a, const struct timeval *b)
{
	return (b->tv_sec - a->tv_sec) * 1000L +
	       (b->tv_usec - a->tv_usec) / 1000L;
}

/* A change: (re)start the settle timer, unless the burst is already
 * older than the maximum delay. */
static void watch_changed(struct filesrc_watch *w)
{
	struct timeval now, tv = {0, WATCH_SETTLE_MS * 1000};

	event_base_gettimeofday_cached(w->base, &now);
	if (!w->pending) {
		w->pending = true;
		w->first = now;
	} else if (ms_between(&w->first, &now) >= WATCH_MAX_DELAY_MS) {
		return;
	}
	evtimer_add(w->ev_timer, &tv);
}

static void watch_on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct filesrc_watch *w = arg;

	(void)fd;
	(void)what;
	w->pending = false;
	watch_resync(w);
	w->cb(w->arg);
}

static void watch_event(struct filesrc_watch *w, const struct inotify_event *ev)
{
	const char *name = ev->len ? ev->name : "";
	struct wentry *e;

	if (ev->mask & IN_Q_OVERFLOW) {
		watch_changed(w);
		return;
	}
	if (ev->wd == w->parent_wd) {
		if (strcmp(name, w->name) != 0)
			return;
		/* path itself was created, replaced or removed. */
		if (ev->mask & (IN_CREATE | IN_MOVED_TO))
			watch_tree(w, w->path, 0);
		watch_changed(w);
		return;
	}
	e = went_find(w, ev->wd);
	if (!e)
		return; /* a watch removed meanwhile */
	if (ev->mask & IN_IGNORED) {
		went_drop(w, e);
		watch_changed(w);
		return;
	}
	if ((ev->mask & IN_ISDIR) && (ev->mask & (IN_CREATE | IN_MOVED_TO)) &&
	    name[0] != '.') {
		char *c = join(e->path, name);

		if (c)
			watch_tree(w, c, 0);
		free(c);
	}
	watch_changed(w);
}

static void watch_on_read(evutil_socket_t fd, short what, void *arg)
{
	struct filesrc_watch *w = arg;
	char buf[8192]
	    __attribute__((aligned(__alignof__(struct inotify_event))));

	(void)what;
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		const char *p;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		for (p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const void *)p;

			watch_event(w, ev);
			p += sizeof(*ev) + ev->len;
		}
	}
}

struct filesrc_watch *filesrc_watch_new(struct event_base *base,
					const char *path, void (*cb)(void *),
					void *arg)
{
	struct filesrc_watch *w;
	char *parent = NULL, *slash;
	size_t len;
	int err;

	if (!base || !path || !*path || !cb) {
		errno = EINVAL;
		return NULL;
	}
	w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->fd = -1;
	w->parent_wd = -1;
	w->base = base;
	w->cb = cb;
	w->arg = arg;
	w->path = strdup(path);
	if (!w->path)
		goto nomem;
	len = strlen(w->path);
	while (len > 1 && w->path[len - 1] == '/')
		w->path[--len] = '\0';
	slash = strrchr(w->path, '/');
	w->name = strdup(slash ? slash + 1 : w->path);
	if (!w->name)
		goto nomem;
	if (slash == w->path)
		parent = strdup("/");
	else if (slash)
		parent = strndup(w->path, (size_t)(slash - w->path));
	else
		parent = strdup(".");
	if (!parent)
		goto nomem;

	w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->fd < 0)
		goto fail;
	/* The parent sees path being created, replaced by a rename, or
	 * removed; "." and ".." have no useful parent. */
	if (strcmp(w->path, "/") != 0 && strcmp(w->name, ".") != 0 &&
	    strcmp(w->name, "..") != 0) {
		w->parent_wd =
		    inotify_add_watch(w->fd, parent, WATCH_MASK | IN_ONLYDIR);
		if (w->parent_wd < 0 && access(w->path, F_OK) < 0)
			goto fail; /* neither path nor its parent exist */
	}
	watch_tree(w, w->path, 0);
	if (w->parent_wd < 0 && w->nw == 0) {
		errno = ENOENT;
		goto fail;
	}

	w->ev_read =
	    event_new(base, w->fd, EV_READ | EV_PERSIST, watch_on_read, w);
	w->ev_timer = evtimer_new(base, watch_on_timer, w);
	if (!w->ev_read || !w->ev_timer || event_add(w->ev_read, NULL) < 0)
		goto nomem;
	free(parent);
	return w;
nomem:
	errno = ENOMEM;
fail:
	err = errno ? errno : EINVAL;
	free(parent);
	filesrc_watch_free(w);
	errno = err;
	return NULL;
}

void filesrc_watch_free(struct filesrc_watch *w)
{
	if (!w)
		return;
	if (w->ev_read)
		event_free(w->ev_read);
	if (w->ev_timer)
		event_free(w->ev_timer);
	if (w->fd >= 0)
		close(w->fd);
	for (size_t i = 0; i < w->nw; i++)
		free(w->w[i].path);
	free(w->w);
	free(w->path);
	free(w->name);
	free(w);
}
