/*
 * config.h -- the meaning of a Corefile: server blocks with their listen
 * addresses and the directives clusterdns supports, checked and converted.
 */
#ifndef CLUSTERDNS_CONFIG_H
#define CLUSTERDNS_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "server/cache.h"

enum config_pods {
	CONFIG_PODS_DISABLED = 0,
	CONFIG_PODS_INSECURE,
	CONFIG_PODS_VERIFIED,
};

/* The kubernetes directive. Zone names are lowercase, without trailing dot
 * (the root zone is ""). */
struct config_kube {
	char *
	    *zones; /* from the directive's arguments, else the block's keys */
	size_t nzones;
	/* The data source.  objects PATH as written (a relative one is taken
	 * from the working directory, as CoreDNS does): manifests, no API.
	 * Without it the data comes from the Kubernetes API: endpoint (with
	 * tls), else kubeconfig, else the in-cluster service account.
	 * objects excludes endpoint, tls and kubeconfig; endpoint excludes
	 * kubeconfig; tls needs endpoint. */
	char *objects;
	char *endpoint;	  /* endpoint URL as written (http:// or https://) */
	char *tls_cert;	  /* tls CERT KEY CACERT: client certificate, */
	char *tls_key;	  /* its key, */
	char *tls_cacert; /* and the CA to verify the server with */
	char *kubeconfig; /* kubeconfig FILE [CONTEXT] */
	char *kubeconfig_context; /* NULL: the file's current-context */
	/* label selectors for the API server (labelSelector=), checked and
	 * normalised: requirements joined by ',' without spaces except around
	 * in/notin ("a=b,c!=d,e in (x,y),!f"); NULL when not given.  labels
	 * selects the Services and EndpointSlices (and Pods) watched,
	 * namespace_labels the Namespaces whose records are served (it
	 * cannot be used with namespaces). */
	char *labels;
	char *namespace_labels;
	/* startup_timeout DURATION (Go syntax: 5s, 1m30s, 500ms): how long
	 * answers wait for the first sync; default 5000 */
	uint64_t startup_timeout_ms;
	/* resyncperiod DURATION: the period of the full relist; default 30
	 * minutes, 0: none */
	uint64_t resync_period_ms;
	enum config_pods pods;
	uint32_t ttl; /* 0..3600, default 5 */
	bool endpoint_pod_names;
	char **namespaces; /* exposed namespaces; none listed: all */
	size_t nnamespaces;
	bool fallthrough;	  /* fallthrough given */
	char **fallthrough_zones; /* its zones; none listed: every zone */
	size_t nfallthrough_zones;
	bool ignore_empty_service;
	bool noendpoints;
	char *file; /* where the directive is */
	int line;
};

/* How the log directive formats queries (CoreDNS's default format when not
 * given) and which responses it logs. */
enum {
	CONFIG_LOG_SUCCESS = 1, /* NOERROR with answers */
	CONFIG_LOG_DENIAL = 2,	/* NXDOMAIN and NODATA */
	CONFIG_LOG_ERROR = 4,	/* SERVFAIL, REFUSED, FORMERR, NOTIMP... */
	CONFIG_LOG_ALL = 7,
};
struct config_log {
	char **names; /* only names under these zones; none: every name */
	size_t nnames;
	/* placeholders {remote} {port} {type} ...; never NULL: the default,
	 * {common} and {combined} are stored expanded (the strings below) */
	char *format;
	unsigned classes; /* CONFIG_LOG_* bits; no class given: ALL */
};

/* CoreDNS's {common} format, also the default one; {combined} adds the
 * opcode. */
#define CONFIG_LOG_FORMAT_COMMON                                               \
	"{remote}:{port} - {>id} \"{type} {class} {name} {proto} {size} "      \
	"{>do} {>bufsize}\" {rcode} {>rflags} {rsize} {duration}"
#define CONFIG_LOG_FORMAT_COMBINED CONFIG_LOG_FORMAT_COMMON " \"{>opcode}\""

enum config_policy {
	CONFIG_POLICY_RANDOM = 0,
	CONFIG_POLICY_ROUND_ROBIN,
	CONFIG_POLICY_SEQUENTIAL,
};

#define CONFIG_MAX_UPSTREAMS 15

/* The forward directive: `forward FROM TO... { options }`. */
struct config_forward {
	char **from; /* FROM as zones (a CIDR may give several); "" = root */
	size_t nfrom;
	char **except; /* except ZONES... */
	size_t nexcept;
	/* the upstreams: IP[:PORT] (dns:// allowed, port 53 by default) and
	 * the nameservers of resolv.conf-style files, in order, 1..15 */
	struct sockaddr_storage to[CONFIG_MAX_UPSTREAMS];
	socklen_t tolen[CONFIG_MAX_UPSTREAMS];
	size_t nto;
	bool force_tcp;
	bool prefer_udp;
	enum config_policy policy; /* default random */
	uint64_t health_check_ms;  /* default 500; 0: no health checks */
	bool health_no_rec;	   /* health_check ... no_rec */
	char *health_domain;	   /* health_check ... domain NAME; "" = . */
	uint32_t max_fails;	   /* default 2; 0: never down */
	uint64_t expire_ms;	   /* default 10000 */
	uint32_t max_concurrent;   /* 0: no limit */
	char *file;		   /* where the directive is */
	int line;
};

/* The cache directive: CoreDNS's defaults filled in (cache.h).  conf's
 * zones are the directive's, else the block's keys. */
struct config_cache {
	struct cache_conf conf;
	char *file; /* where the directive is */
	int line;
};

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
	 * duplicates; none: wildcard */
	char **bind;
	size_t nbind;
	bool errors;
	bool loadbalance; /* loadbalance [round_robin] */
	bool loop;	  /* loop */
	int loop_line;
	struct config_log *log;	    /* NULL: no query log; one per block */
	struct config_cache *cache; /* NULL: no cache directive */
	struct config_kube *kube;   /* NULL: no kubernetes directive */
	struct config_forward *fwd; /* NULL: no forward directive */
	char *file;
	int line;
};

struct config {
	struct config_block *blocks;
	size_t nblocks;
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

void config_free(struct config *cfg);

/* The directives clusterdns supports, NULL-terminated, in pipeline order. */
extern const char *const config_directives[];

#endif
