/*
 * daemon.h -- the clusterdns process: configuration, cluster zones,
 * listeners and workers, signals, and the control loop.
 */
#ifndef CLUSTERDNS_DAEMON_H
#define CLUSTERDNS_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct daemon_opts {
	const char *conf;    /* Corefile path */
	uint16_t dns_port;   /* port for keys that name none */
	const char *pidfile; /* NULL: none */
	bool quiet;	     /* no startup banner */
	unsigned threads;    /* workers; 0: one per CPU */
};

/* Run until SIGTERM or SIGINT.  Returns the process exit status: 0 after a
 * clean stop, 1 when the configuration, a zone source or a listener could
 * not be set up (the reason is printed on standard error). */
int daemon_run(const struct daemon_opts *opts);

struct kubernetes_conf;
struct kube;

/* The cluster zone of a kubernetes directive, loaded from its source.
 * Returns NULL with err set ("FILE:LINE - Error during setup: kubernetes:
 * ...") when it cannot be loaded.  Free with kube_free(). */
struct kube *daemon_kube_load(const struct kubernetes_conf *ck, char *err,
			      size_t errlen);

/* The clusterdns version line ("clusterdns-0.1.0"). */
const char *daemon_version(void);

#endif
