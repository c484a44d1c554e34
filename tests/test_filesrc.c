/*
 * test_filesrc.c -- loading manifest trees, derived EndpointSlices, errors
 * naming the file, and the inotify watch on an event loop.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "zones/filesrc.h"
#include "zones/objects.h"
#include "zones/skiplog.h"
#include "zones/store.h"

#ifndef TEST_SRCDIR
#define TEST_SRCDIR "tests"
#endif
#define FIXTURES TEST_SRCDIR "/fixtures/filesrc"

static void assert_addr(const struct obj_addr *a, const char *want)
{
	char buf[46];

	assert_string_equal(obj_addr_str(a, buf, sizeof(buf)), want);
}

static const struct obj_endpoint *find_ep(const struct obj_slice *s,
					  const char *pod)
{
	for (size_t i = 0; i < s->neps; i++)
		if (s->eps[i].pod_name && strcmp(s->eps[i].pod_name, pod) == 0)
			return &s->eps[i];
	return NULL;
}

static const struct obj_port *find_port(const struct obj_slice *s,
					const char *name)
{
	for (size_t i = 0; i < s->nports; i++)
		if (s->ports[i].name && strcmp(s->ports[i].name, name) == 0)
			return &s->ports[i];
	return NULL;
}

static void test_load_tree(void **state)
{
	struct store *st;
	char err[512];

	(void)state;
	assert_int_equal(filesrc_load(FIXTURES "/tree", &st, err, sizeof(err)),
			 0);
	assert_non_null(st);
	assert_non_null(store_namespace(st, "apps"));
	assert_int_equal(store_count_services(st), 4);
	assert_int_equal(store_count_pods(st), 9);
	/* The dot file (not YAML at all) and README.txt were skipped. */
	assert_string_equal(err, "");
	/* 1 manual + 3 derived for web + 1 for db; none for lonely. */
	assert_int_equal(store_count_slices(st), 5);
	store_free(st);
}

static void test_derived_slices(void **state)
{
	const struct obj_slice *v[8], *s;
	const struct obj_endpoint *ep;
	struct store *st;
	char err[512];

	(void)state;
	assert_int_equal(filesrc_load(FIXTURES "/tree", &st, err, sizeof(err)),
			 0);

	/* web: web-0 and web-1 serve http on 8080, web-2 on 8081, so
	 * two IPv4 slices; web-1 also has an IPv6 address. */
	assert_int_equal(store_slices_of(st, "apps", "web", v, 8), 3);
	s = store_slice(st, "apps", "web-derived-ipv4");
	assert_non_null(s);
	assert_string_equal(s->service, "web");
	assert_int_equal(s->neps, 2);
	/* Endpoints in pod name order. */
	assert_string_equal(s->eps[0].pod_name, "web-0");
	assert_string_equal(s->eps[1].pod_name, "web-1");
	assert_addr(&s->eps[1].addrs[0], "10.244.0.11");
	assert_int_equal(s->eps[1].naddrs, 1);
	assert_true(s->eps[0].ready);
	assert_null(s->eps[0].hostname);
	assert_int_equal(s->nports, 2);
	assert_int_equal(find_port(s, "http")->port, 8080);
	assert_int_equal(find_port(s, "http")->proto, OBJ_PROTO_TCP);
	assert_int_equal(find_port(s, "admin")->port, 9000);

	s = store_slice(st, "apps", "web-derived-ipv4-2");
	assert_non_null(s);
	assert_int_equal(s->neps, 1);
	ep = find_ep(s, "web-2");
	assert_non_null(ep);
	assert_false(ep->ready);
	assert_int_equal(find_port(s, "http")->port, 8081);

	s = store_slice(st, "apps", "web-derived-ipv6");
	assert_non_null(s);
	assert_int_equal(s->neps, 1);
	assert_addr(&s->eps[0].addrs[0], "fd00:10:244::11");
	assert_null(find_ep(s, "web-done"));

	/* db: hostname only where the subdomain names the service. */
	assert_int_equal(store_slices_of(st, "apps", "db", v, 8), 1);
	s = v[0];
	assert_string_equal(s->name, "db-derived-ipv4");
	assert_int_equal(s->neps, 2);
	ep = find_ep(s, "db-0");
	assert_string_equal(ep->hostname, "db-0");
	assert_true(ep->ready);
	ep = find_ep(s, "db-1");
	assert_null(ep->hostname);
	assert_false(ep->ready);
	assert_int_equal(find_port(s, "pg")->port, 15432);

	/* api has its own slice: nothing derived. */
	assert_int_equal(store_slices_of(st, "apps", "api", v, 8), 1);
	assert_string_equal(v[0]->name, "api-manual");
	assert_int_equal(store_slices_of(st, "apps", "lonely", v, 8), 0);
	store_free(st);
}

static void test_publish_not_ready(void **state)
{
	char dir[] = "/tmp/filesrc-pnr-XXXXXX", path[128], err[256];
	const struct obj_slice *s;
	struct store *st;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/all.yaml", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("apiVersion: v1\nkind: Service\n"
	      "metadata: {name: db, namespace: x}\n"
	      "spec:\n  clusterIP: None\n  publishNotReadyAddresses: true\n"
	      "  selector: {app: db}\n"
	      "  ports: [{name: pg, port: 5432, targetPort: pgport}]\n"
	      "---\napiVersion: v1\nkind: Pod\n"
	      "metadata: {name: db-0, namespace: x, labels: {app: db}}\n"
	      "spec:\n  containers:\n  - name: c\n    ports:\n"
	      "    - {name: pgport, containerPort: 6543}\n"
	      "status: {phase: Pending, podIP: 'fd00::7'}\n"
	      "---\napiVersion: v1\nkind: Pod\n"
	      "metadata: {name: db-1, namespace: x, labels: {app: db}}\n"
	      "spec: {containers: [{name: c}]}\n"
	      "status: {phase: Running, podIP: 'fd00::8'}\n",
	      f);
	fclose(f);
	/* A single file works as well as a directory. */
	assert_int_equal(filesrc_load(path, &st, err, sizeof(err)), 0);
	s = store_slice(st, "x", "db-derived-ipv6");
	assert_non_null(s);
	assert_null(store_slice(st, "x", "db-derived-ipv4"));
	assert_int_equal(s->neps, 1);
	assert_true(s->eps[0].ready); /* not Ready, but published */
	assert_int_equal(s->ports[0].port, 6543);
	/* db-1 lacks the named port: it gets a slice without it. */
	s = store_slice(st, "x", "db-derived-ipv6-2");
	assert_non_null(s);
	assert_string_equal(s->eps[0].pod_name, "db-1");
	assert_int_equal(s->nports, 0);
	store_free(st);
	unlink(path);
	rmdir(dir);
}

/* What a load left out, as the daemon would log it. */
struct skips {
	struct skiplog *sl;
	char last[768];
	int logged;
};

static void skips_log(void *arg, const char *msg)
{
	struct skips *k = arg;

	snprintf(k->last, sizeof(k->last), "%s", msg);
	k->logged++;
}

static void skips_note(void *arg, const char *file, const struct decode_skip *s)
{
	struct skips *k = arg;
	char msg[768];

	skiplog_format(msg, sizeof(msg), file, s);
	skiplog_note(k->sl, 0, msg);
}

static int load_noting(const char *path, struct skips *k, struct store **st)
{
	char err[512];

	skiplog_begin(k->sl, 0);
	int rc = filesrc_load_skip(path, skips_note, k, st, err, sizeof(err));
	if (rc == 0)
		skiplog_end(k->sl, 0);
	return rc;
}

/* Objects DNS cannot use are left out, said once per reload of the same
 * files, again when they change or come back. */
static void test_left_out(void **state)
{
	char dir[] = "/tmp/filesrc-skip-XXXXXX", path[128], long_name[301];
	struct skips k = {0};
	struct store *st;

	(void)state;
	k.sl = skiplog_new(skips_log, &k);
	assert_non_null(k.sl);
	assert_non_null(mkdtemp(dir));
	memset(long_name, 'a', 300);
	long_name[300] = '\0';
	snprintf(path, sizeof(path), "%s/x.yaml", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f,
		"kind: Service\nmetadata: {name: %s, namespace: prod}\n"
		"spec: {clusterIP: 10.96.0.5}\n"
		"---\nkind: Service\nmetadata: {name: web, namespace: prod}\n"
		"spec: {clusterIP: 10.96.0.6}\n",
		long_name);
	fclose(f);
	assert_int_equal(load_noting(path, &k, &st), 0);
	assert_int_equal(k.logged, 1);
	assert_non_null(strstr(k.last, "x.yaml: left out Service prod/aaaa"));
	assert_non_null(strstr(k.last, "...: metadata.name is 300 bytes long"));
	assert_null(strstr(k.last, long_name)); /* cut */
	assert_non_null(store_service(st, "prod", "web"));
	assert_null(store_service(st, "prod", long_name));
	store_free(st);

	/* Reloaded as it is: not said again. */
	assert_int_equal(load_noting(path, &k, &st), 0);
	assert_int_equal(k.logged, 1);
	store_free(st);

	/* An unknown kind in JSON, the long name gone. */
	snprintf(path, sizeof(path), "%s/x.yaml", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/y.json", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("{\"kind\":\"List\",\"items\":[{\"apiVersion\":\"apps/v1\","
	      "\"kind\":\"Deployment\",\"metadata\":{\"name\":\"d\","
	      "\"namespace\":\"prod\"}}]}\n",
	      f);
	fclose(f);
	assert_int_equal(load_noting(dir, &k, &st), 0);
	assert_int_equal(k.logged, 2);
	assert_non_null(strstr(k.last, "y.json: left out Deployment prod/d: "
				       "not a kind DNS uses"));
	assert_int_equal(skiplog_count(k.sl), 1); /* the long name forgotten */
	store_free(st);
	assert_int_equal(load_noting(dir, &k, &st), 0);
	assert_int_equal(k.logged, 2);
	store_free(st);
	unlink(path);
	rmdir(dir);
	skiplog_free(k.sl);
}

/* A file over the limit: an error with its name, size and the limit. */
static void test_too_big(void **state)
{
	char dir[] = "/tmp/filesrc-big-XXXXXX", path[128], err[512];
	struct store *st = (void *)1;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/huge.json", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(truncate(path, (129L << 20)), 0); /* sparse */
	assert_int_equal(filesrc_load(dir, &st, err, sizeof(err)), -EFBIG);
	assert_null(st);
	assert_non_null(strstr(err, "huge.json: 135266304 bytes, more than "
				    "the limit of 134217728 bytes (128 MiB)"));
	unlink(path);
	rmdir(dir);
}

static void test_errors(void **state)
{
	struct store *st = (void *)1;
	char err[512];

	(void)state;
	assert_int_equal(
	    filesrc_load(FIXTURES "/broken", &st, err, sizeof(err)), -EINVAL);
	assert_null(st);
	assert_string_equal(err, FIXTURES "/broken/sub/bad.yaml:9:13: Service "
					  "default/web: spec.ports[0].port: "
					  "expected an integer, got a list");

	assert_int_equal(
	    filesrc_load(FIXTURES "/no-such-thing", &st, err, sizeof(err)),
	    -ENOENT);
	assert_null(st);
	assert_non_null(strstr(err, "no-such-thing: "));
}

/* --- watch ------------------------------------------------------------- */

struct wstate {
	struct event_base *base;
	int fired;
};

static void on_change(void *arg)
{
	((struct wstate *)arg)->fired++;
}

/* Run the loop for ms milliseconds. */
static void spin(struct event_base *base, int ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_watch_dir(void **state)
{
	char root[] = "/tmp/filesrc-watch-XXXXXX", dir[128], p[192];
	struct wstate ws = {0};
	struct filesrc_watch *w;

	(void)state;
	assert_non_null(mkdtemp(root));
	snprintf(dir, sizeof(dir), "%s/objs", root);
	assert_int_equal(mkdir(dir, 0755), 0);
	ws.base = event_base_new();
	w = filesrc_watch_new(ws.base, dir, on_change, &ws);
	assert_non_null(w);

	spin(ws.base, 200);
	assert_int_equal(ws.fired, 0);

	/* A burst of writes fires once. */
	snprintf(p, sizeof(p), "%s/a.yaml", dir);
	for (int i = 0; i < 5; i++)
		write_file(p, "kind: Namespace\nmetadata: {name: a}\n");
	spin(ws.base, 400);
	assert_int_equal(ws.fired, 1);

	/* A new subdirectory is watched too. */
	snprintf(p, sizeof(p), "%s/sub", dir);
	assert_int_equal(mkdir(p, 0755), 0);
	spin(ws.base, 400);
	assert_int_equal(ws.fired, 2);
	snprintf(p, sizeof(p), "%s/sub/b.yaml", dir);
	write_file(p, "kind: Namespace\nmetadata: {name: b}\n");
	spin(ws.base, 400);
	assert_int_equal(ws.fired, 3);

	/* The whole directory is removed and made again. */
	unlink(p);
	snprintf(p, sizeof(p), "%s/sub", dir);
	rmdir(p);
	snprintf(p, sizeof(p), "%s/a.yaml", dir);
	unlink(p);
	assert_int_equal(rmdir(dir), 0);
	spin(ws.base, 400);
	assert_int_equal(ws.fired, 4);
	assert_int_equal(mkdir(dir, 0755), 0);
	spin(ws.base, 400);
	assert_int_equal(ws.fired, 5);
	write_file(p, "kind: Namespace\nmetadata: {name: c}\n");
	spin(ws.base, 400);
	assert_int_equal(ws.fired, 6);

	/* Nothing happening: nothing fires. */
	spin(ws.base, 300);
	assert_int_equal(ws.fired, 6);

	filesrc_watch_free(w);
	event_base_free(ws.base);
	unlink(p);
	rmdir(dir);
	rmdir(root);
}

static void test_watch_file(void **state)
{
	char root[] = "/tmp/filesrc-watchf-XXXXXX", p[128], tmp[128],
	     other[128];
	struct wstate ws = {0};
	struct filesrc_watch *w;

	(void)state;
	assert_non_null(mkdtemp(root));
	snprintf(p, sizeof(p), "%s/cluster.yaml", root);
	snprintf(tmp, sizeof(tmp), "%s/.cluster.yaml.swp", root);
	snprintf(other, sizeof(other), "%s/other.yaml", root);
	write_file(p, "kind: Namespace\nmetadata: {name: a}\n");
	ws.base = event_base_new();
	w = filesrc_watch_new(ws.base, p, on_change, &ws);
	assert_non_null(w);

	/* Another file in the same directory is not ours. */
	write_file(other, "x: 1\n");
	spin(ws.base, 300);
	assert_int_equal(ws.fired, 0);

	/* Written in place. */
	write_file(p, "kind: Namespace\nmetadata: {name: b}\n");
	spin(ws.base, 400);
	assert_int_equal(ws.fired, 1);

	/* Replaced by rename, as editors save; then again, to see that
	 * the watch follows the new file. */
	for (int round = 0; round < 2; round++) {
		write_file(tmp, "kind: Namespace\nmetadata: {name: c}\n");
		assert_int_equal(rename(tmp, p), 0);
		spin(ws.base, 400);
		assert_int_equal(ws.fired, 2 + round);
	}

	filesrc_watch_free(w);
	event_base_free(ws.base);
	unlink(p);
	unlink(other);
	rmdir(root);
}

static void test_watch_missing(void **state)
{
	struct event_base *base = event_base_new();

	(void)state;
	errno = 0;
	assert_null(
	    filesrc_watch_new(base, "/nonexistent-dir/x/y", on_change, NULL));
	assert_int_equal(errno, ENOENT);
	event_base_free(base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_load_tree),
	    cmocka_unit_test(test_derived_slices),
	    cmocka_unit_test(test_publish_not_ready),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_left_out),
	    cmocka_unit_test(test_too_big),
	    cmocka_unit_test(test_watch_dir),
	    cmocka_unit_test(test_watch_file),
	    cmocka_unit_test(test_watch_missing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
