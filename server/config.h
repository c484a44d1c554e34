/*
 * config.h -- the meaning of a Corefile: server blocks with their listen
 * addresses and the directives clusterdns supports, checked and converted.
 * Each directive is parsed by the module that implements it (setup.h);
 * its conf struct is declared in that module's header.
 */
#ifndef CLUSTERDNS_CONFIG_H
#define CLUSTERDNS_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "server/autopath.h"
#include "server/cache.h"
#include "server/forward.h"
#include "server/health.h"
#include "server/k8s_external.h"
#include "server/kubernetes.h"
#include "server/log.h"
#include "server/prometheus.h"
#include "server/ready.h"
#include "server/reload.h"
#include "server/transfer.h"

/* A server block key: `[dns://]ZONE[:PORT]`. */
struct config_key {
	char *zone; /* lowercase, no trailing dot, root is "" */
	uint16_t port;
};

struct config_block {
	struct config_key *keys;
	size_t nkeys;
	/* bind addresses: IPs as written, interfaces expanded to their
	 * addresses (IPv6 link-local skipped), `except` ones removed, no
	 * duplicates; none: wildcard (bind.h) */
	char **bind;
	size_t nbind;
	bool errors;	  /* errors (log.h) */
	bool loadbalance; /* loadbalance [round_robin] (loadbalance.h) */
	bool loop;	  /* loop (loop.h) */
	int loop_line;
	struct log_conf *log;		/* NULL: no query log; one per block */
	struct cache_directive *cache;	/* NULL: no cache directive */
	struct autopath_conf *autopath; /* NULL: no autopath directive */
	struct kubernetes_conf *kube;	/* NULL: no kubernetes directive */
	struct forward_conf *fwd;	/* NULL: no forward directive */
	struct health_conf *health;	/* NULL: no health directive */
	struct ready_conf *ready;	/* NULL: no ready directive */
	struct prometheus_conf *prometheus; /* NULL: no prometheus */
	struct reload_conf *reload;	    /* NULL: no reload directive */
	struct k8s_external_conf *external; /* NULL: no k8s_external */
	/* NULL: no transfer directive (transfer.h); all of them else */
	struct transfer_conf *transfer;
	char *file;
	int line;
};

struct config {
	struct config_block *blocks;
	size_t nblocks;
	/* what the Corefile asks that is accepted but ignored, for the log
	 * ("plugin/kubernetes: Corefile:5 - ...") */
	char **warnings;
	size_t nwarnings;
};

/*
 * Read and check the Corefile at path (syntax: corefile.h).  Supported
 * directives are those of config_directives; other CoreDNS plugins are
 * refused as "not supported yet", anything else as an unknown directive.
 * An empty Corefile (no server block) is an error.  As in CoreDNS, a zone
 * and port served twice is an error.  dns_port is the port for keys that
 * name none (the -dns.port flag; 53 by default).  Returns 0 with *out set,
 * or a negative errno with err holding a message that names the file, line
 * and directive ("Corefile:3 - Error during setup: kubernetes: ttl must be
 * in range [0, 3600]: 9000").
 */
int config_load(const char *path, uint16_t dns_port, struct config **out,
		char *err, size_t errlen);

/* The same from text in memory (for tests); name is used in messages. */
int config_load_text(const char *name, const char *text, uint16_t dns_port,
		     struct config **out, char *err, size_t errlen);

/* Log cfg's warnings ([WARNING] lines), at startup. */
void config_log_warnings(const struct config *cfg);

void config_free(struct config *cfg);

/* The directives clusterdns supports, NULL-terminated, in pipeline order. */
extern const char *const config_directives[];

#endif
