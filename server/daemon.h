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

/* Run until SIGTERM or SIGINT (after health's lameduck, if any); SIGUSR1
 * and the reload directive replace the configuration in place.  Returns
 * the process exit status: 0 after a clean stop, 1 when the configuration,
 * a zone source or a listener could not be set up (the reason is printed
 * on standard error) or the loop plugin found a loop. */
int daemon_run(const struct daemon_opts *opts);

/* The clusterdns version line ("clusterdns-0.1.0"). */
const char *daemon_version(void);

#endif
