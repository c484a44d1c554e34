/*
 * apiconf.h -- where the Kubernetes API server is and how to authenticate
 * to it: from the in-cluster service account, from a kubeconfig file, or
 * from the Corefile's `endpoint URL` and `tls CERT KEY CACERT`.
 *
 * The result is plain data for the API client, which hands it to libcurl.
 * Secrets (tokens, keys, PEM data) never appear in the messages of these
 * functions, and callers must not log them either.
 */
#ifndef CLUSTERDNS_APICONF_H
#define CLUSTERDNS_APICONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The default service account directory of a pod. */
#define APICONF_SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

/*
 * Every pointer is owned by the struct (freed by apiconf_free) and NULL
 * when not set.  The PEM buffers carry a NUL after their _len bytes, so
 * they can also be used as strings.
 */
struct apiconf {
	/* base URL, "https://10.96.0.1:443" or with a path prefix
	 * ("https://host/k8s"); never a trailing slash */
	char *server;
	/* CA bundle to verify the server with: a file, or PEM data from
	 * certificate-authority-data; both NULL: the system's trust store */
	char *ca_file;
	uint8_t *ca_pem;
	size_t ca_pem_len;
	/* client certificate and key (TLS client authentication): paths, or
	 * PEM data from client-certificate-data / client-key-data; a
	 * certificate always comes with its key */
	char *cert_file;
	char *key_file;
	uint8_t *cert_pem;
	uint8_t *key_pem;
	size_t cert_pem_len;
	size_t key_pem_len;
	/* static bearer token (kubeconfig `token`) */
	char *token;
	/* bearer token file, re-read by apiconf_token() since bound tokens
	 * rotate; when both are set the file wins, as in client-go */
	char *token_file;
	/* do not verify the server's certificate (insecure-skip-tls-verify:
	 * true); never set together with a CA */
	bool insecure;
	/* name to verify the server's certificate against instead of the
	 * URL's host (kubeconfig tls-server-name) */
	char *tls_server_name;
	/* where this came from, safe to log: "in-cluster service account",
	 * "kubeconfig FILE context CTX", "endpoint URL" */
	char *origin;
};

/*
 * In-cluster configuration: the server from KUBERNETES_SERVICE_HOST and
 * KUBERNETES_SERVICE_PORT (an IPv6 host is put in brackets), token_file and
 * ca_file from the service account directory sa_dir (NULL: APICONF_SA_DIR),
 * which must hold a readable `token` and `ca.crt`.  *c is overwritten (it
 * need not be initialised).  Returns 0, or a negative errno with err set and
 * *c empty: -ENOENT when the variables are not set (not running in a
 * cluster), -EINVAL for a bad port, the errno of a file that cannot be read,
 * -ENOMEM.
 */
int apiconf_in_cluster(struct apiconf *c, const char *sa_dir, char *err,
		       size_t errlen);

/*
 * Configuration from the kubeconfig file at path, for context (NULL: the
 * file's current-context): its cluster's server, certificate-authority(-
 * data), insecure-skip-tls-verify and tls-server-name, its user's
 * client-certificate(-data), client-key(-data), token and tokenFile.
 * Relative paths are taken from the kubeconfig's directory, as kubectl does;
 * a server without a scheme gets https://.  Other kinds of user
 * authentication (exec, auth-provider, username/password, impersonation)
 * and proxy-url are refused.  Files named by the kubeconfig must be
 * readable.  *c is overwritten.  Returns 0, or a negative errno with err set
 * ("kubeconfig FILE: context 'x' not found") and *c empty: -ENOENT for what
 * is missing, -EINVAL for what is wrong or unsupported, the errno of a file
 * that cannot be read, -ENOMEM.
 */
int apiconf_kubeconfig(struct apiconf *c, const char *path, const char *context,
		       char *err, size_t errlen);

/*
 * Configuration from the Corefile's `endpoint URL` and the optional
 * `tls CERT KEY CACERT` (all three NULL when not given; each may be NULL or
 * "" on its own to leave it out).  url must be http:// or https:// with a
 * host.  No bearer token: the server authenticates the client certificate,
 * as in CoreDNS.  Files are not checked here.  *c is overwritten.  Returns
 * 0, -EINVAL with err set, or -ENOMEM.
 */
int apiconf_endpoint(struct apiconf *c, const char *url, const char *cert,
		     const char *key, const char *cacert, char *err,
		     size_t errlen);

/*
 * The current bearer token into buf (len bytes, NUL-terminated): the content
 * of token_file, read again on every call, without trailing whitespace;
 * else token.  Returns its length, 0 when there is none (or the file is
 * empty), -ERANGE when it does not fit in len - 1 bytes, or the negative
 * errno of reading the file.  buf is cleared on failure.
 */
int apiconf_token(const struct apiconf *c, char *buf, size_t len);

/* Free what c holds (secrets are wiped first) and leave it empty. */
void apiconf_free(struct apiconf *c);

#endif
