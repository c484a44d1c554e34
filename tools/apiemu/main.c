/*
 * main.c -- apiemu: an emulator of the Kubernetes API server's list/watch
 * API for the four resources clusterdns reads, with a control interface for
 * tests and benchmarks.  See README.md next to this file.
 */
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <event2/event.h>

#include "tools/apiemu/server.h"

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: apiemu -listen HOST:PORT [-tls-cert FILE -tls-key FILE]\n"
	    "              [-client-ca FILE] [-token TOKEN]\n"
	    "              [-bookmark-interval SECONDS] [-history N]\n"
	    "              [-gzip BYTES] [-load FILE_OR_DIR ...] [-pidfile "
	    "FILE]\n"
	    "  -listen             address to serve on (port 0: any)\n"
	    "  -tls-cert, -tls-key serve HTTPS with this certificate\n"
	    "  -client-ca          verify client certificates with this CA\n"
	    "  -token              accepted bearer token\n"
	    "  -bookmark-interval  seconds between BOOKMARK events (60)\n"
	    "  -history            events kept before compaction (100000)\n"
	    "  -gzip               gzip JSON replies of BYTES or more to "
	    "clients\n"
	    "                      that accept it (the API server: 131072; 0:\n"
	    "                      never, the default)\n"
	    "  -load               JSON objects or lists to start with\n"
	    "  -pidfile            write the process id there\n");
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	event_base_loopbreak(arg);
}

static int number(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || !*s || *s == '-' || v > max)
		return -1;
	*out = v;
	return 0;
}

int main(int argc, char **argv)
{
	struct emu_options opt;
	struct emu_server srv;
	struct event_base *base = NULL;
	struct event *sigterm = NULL, *sigint = NULL;
	const char **loads = calloc((size_t)argc, sizeof(*loads));
	const char *pidfile = NULL;
	size_t nloads = 0;
	unsigned long v;
	int rc = 1;

	memset(&opt, 0, sizeof(opt));
	memset(&srv, 0, sizeof(srv));
	opt.bookmark_interval = 60;
	opt.history = 100000;
	if (!loads)
		return 1;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "-h") == 0 || strcmp(a, "-help") == 0 ||
		    strcmp(a, "--help") == 0) {
			usage(stdout);
			free(loads);
			return 0;
		}
		if (!val || a[0] != '-') {
			usage(stderr);
			goto out;
		}
		i++;
		if (strcmp(a, "-listen") == 0) {
			opt.listen = val;
		} else if (strcmp(a, "-tls-cert") == 0) {
			opt.tls_cert = val;
		} else if (strcmp(a, "-tls-key") == 0) {
			opt.tls_key = val;
		} else if (strcmp(a, "-client-ca") == 0) {
			opt.client_ca = val;
		} else if (strcmp(a, "-token") == 0) {
			opt.token = val;
		} else if (strcmp(a, "-bookmark-interval") == 0) {
			if (number(val, 86400, &v) < 0)
				goto bad;
			opt.bookmark_interval = (unsigned)v;
		} else if (strcmp(a, "-history") == 0) {
			if (number(val, 1UL << 30, &v) < 0 || v == 0)
				goto bad;
			opt.history = v;
		} else if (strcmp(a, "-gzip") == 0) {
			if (number(val, 1UL << 30, &v) < 0)
				goto bad;
			opt.gzip_min = v;
		} else if (strcmp(a, "-load") == 0) {
			loads[nloads++] = val;
			/* -load A B C: following words that are no flag */
			while (i + 1 < argc && argv[i + 1][0] != '-')
				loads[nloads++] = argv[++i];
		} else if (strcmp(a, "-pidfile") == 0) {
			pidfile = val;
		} else {
			fprintf(stderr, "apiemu: unknown flag %s\n", a);
			usage(stderr);
			goto out;
		}
		continue;
	bad:
		fprintf(stderr, "apiemu: bad value for %s: %s\n", a, val);
		goto out;
	}
	if (!opt.listen) {
		usage(stderr);
		goto out;
	}
	if (!opt.tls_cert != !opt.tls_key) {
		fprintf(stderr, "apiemu: -tls-cert and -tls-key go together\n");
		goto out;
	}
	if (opt.client_ca && !opt.tls_cert) {
		fprintf(stderr, "apiemu: -client-ca needs -tls-cert\n");
		goto out;
	}
	signal(SIGPIPE, SIG_IGN);
	base = event_base_new();
	if (!base)
		goto out;
	if (emu_server_init(&srv, base, &opt) < 0)
		goto out;
	if (nloads) {
		long total = 0, skipped = 0;
		struct timespec t0, t1;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		emu_store_bulk_begin(&srv.store);
		for (size_t i = 0; i < nloads; i++) {
			long n =
			    emu_store_load_path(&srv.store, loads[i], &skipped);

			if (n < 0) {
				emu_store_bulk_end(&srv.store);
				goto out;
			}
			total += n;
		}
		emu_store_bulk_end(&srv.store);
		malloc_trim(0); /* the parse trees are gone: give back memory */
		clock_gettime(CLOCK_MONOTONIC, &t1);
		fprintf(stderr,
			"apiemu: loaded %ld objects (%ld of other kinds "
			"skipped) in %.0f ms, resourceVersion %llu\n",
			total, skipped,
			(double)(t1.tv_sec - t0.tv_sec) * 1e3 +
			    (double)(t1.tv_nsec - t0.tv_nsec) / 1e6,
			(unsigned long long)srv.store.rv);
	}
	printf("listening on %s\n", srv.url);
	fflush(stdout);
	if (pidfile) {
		FILE *f = fopen(pidfile, "w");

		if (!f || fprintf(f, "%ld\n", (long)getpid()) < 0 ||
		    fclose(f) != 0) {
			fprintf(stderr, "apiemu: %s: %s\n", pidfile,
				strerror(errno));
			goto out;
		}
	}
	sigterm = evsignal_new(base, SIGTERM, on_signal, base);
	sigint = evsignal_new(base, SIGINT, on_signal, base);
	if (!sigterm || !sigint || evsignal_add(sigterm, NULL) < 0 ||
	    evsignal_add(sigint, NULL) < 0)
		goto out;
	event_base_dispatch(base);
	rc = 0;
	if (pidfile)
		unlink(pidfile);
out:
	if (sigterm)
		event_free(sigterm);
	if (sigint)
		event_free(sigint);
	if (srv.base)
		emu_server_free(&srv);
	if (base)
		event_base_free(base);
	free(loads);
	return rc;
}
