/*
 * test_apiconf.c -- finding the API server and its credentials: kubeconfig
 * files written into a temporary directory (every field and every error),
 * in-cluster with a temporary service account directory, endpoint and tls,
 * and token file rotation.  No message may carry a secret.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "zones/apiconf.h"

#define TOKEN "s3cr3t-t0ken-Zq9"
#define CA_PEM                                                                 \
	"-----BEGIN CERTIFICATE-----\nQ0EgY2VydGlmaWNhdGU=\n"                  \
	"-----END CERTIFICATE-----\n"
#define CERT_PEM                                                               \
	"-----BEGIN CERTIFICATE-----\nY2xpZW50IGNlcnQ=\n"                      \
	"-----END CERTIFICATE-----\n"
#define KEY_PEM                                                                \
	"-----BEGIN PRIVATE KEY-----\nUFJJVkFURS1LRVktQllURVM=\n"              \
	"-----END PRIVATE KEY-----\n"

static char dir[256];
static char err[1024];

/* ------------------------------------------------------------------ */
/* helpers */

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

/* dir/name into buf. */
static const char *at(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", dir, name);
	return buf;
}

static void b64(const char *in, char *out)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				  "abcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t len = strlen(in), i;
	const unsigned char *p = (const unsigned char *)in;

	for (i = 0; i + 2 < len; i += 3) {
		*out++ = tab[p[i] >> 2];
		*out++ = tab[(p[i] & 3) << 4 | p[i + 1] >> 4];
		*out++ = tab[(p[i + 1] & 15) << 2 | p[i + 2] >> 6];
		*out++ = tab[p[i + 2] & 63];
	}
	if (len - i == 1) {
		*out++ = tab[p[i] >> 2];
		*out++ = tab[(p[i] & 3) << 4];
		*out++ = '=';
		*out++ = '=';
	} else if (len - i == 2) {
		*out++ = tab[p[i] >> 2];
		*out++ = tab[(p[i] & 3) << 4 | p[i + 1] >> 4];
		*out++ = tab[(p[i + 1] & 15) << 2];
		*out++ = '=';
	}
	*out = '\0';
}

static bool is_empty(const struct apiconf *c)
{
	static const struct apiconf zero;

	return memcmp(c, &zero, sizeof(zero)) == 0;
}

/* Write a kubeconfig into dir/name and load it: must fail with rc and
 * exactly the message want (after "kubeconfig PATH: "). */
static void kc_fails(const char *name, const char *text, const char *context,
		     int rc, const char *want)
{
	struct apiconf c;
	char path[512], full[2048];

	write_file(at(path, sizeof(path), name), text);
	memset(&c, 0x5a, sizeof(c));
	assert_int_equal(
	    apiconf_kubeconfig(&c, path, context, err, sizeof(err)), rc);
	assert_true(is_empty(&c));
	snprintf(full, sizeof(full), "kubeconfig %s: %s", path, want);
	assert_string_equal(err, full);
	assert_null(strstr(err, TOKEN));
}

static int setup(void **state)
{
	char path[512];

	(void)state;
	snprintf(dir, sizeof(dir), "%s/apiconf-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(dir))
		return -1;
	write_file(at(path, sizeof(path), "ca.crt"), CA_PEM);
	write_file(at(path, sizeof(path), "client.crt"), CERT_PEM);
	write_file(at(path, sizeof(path), "client.key"), KEY_PEM);
	write_file(at(path, sizeof(path), "token"), TOKEN "\n");
	mkdir(at(path, sizeof(path), "sub"), 0700);
	write_file(at(path, sizeof(path), "sub/ca.crt"), CA_PEM);
	return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int teardown(void **state)
{
	(void)state;
	return nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* ------------------------------------------------------------------ */
/* kubeconfig */

static void test_kubeconfig_fields(void **state)
{
	struct apiconf c;
	char path[512], want[1024], text[8192];
	char cert64[512], key64[512], ca64[512];
	char buf[256];

	(void)state;
	b64(CERT_PEM, cert64);
	b64(KEY_PEM, key64);
	b64(CA_PEM, ca64);
	snprintf(text, sizeof(text),
		 "apiVersion: v1\n"
		 "kind: Config\n"
		 "current-context: dev\n"
		 "preferences: {}\n"
		 "clusters:\n"
		 "- name: dev-cluster\n"
		 "  cluster:\n"
		 "    server: https://API.example:6443/\n"
		 "    certificate-authority: ca.crt\n"
		 "    tls-server-name: kubernetes.default.svc\n"
		 "- name: other\n"
		 "  cluster:\n"
		 "    server: 10.0.0.1:6443\n"
		 "    certificate-authority-data: %s\n"
		 "    extensions: []\n"
		 "- name: lab\n"
		 "  cluster:\n"
		 "    server: http://127.0.0.1:8080/prefix\n"
		 "    insecure-skip-tls-verify: true\n"
		 "contexts:\n"
		 "- name: dev\n"
		 "  context:\n"
		 "    cluster: dev-cluster\n"
		 "    user: dev-user\n"
		 "    namespace: default\n"
		 "- name: other\n"
		 "  context: {cluster: other, user: cert-user}\n"
		 "- name: lab\n"
		 "  context:\n"
		 "    cluster: lab\n"
		 "users:\n"
		 "- name: dev-user\n"
		 "  user:\n"
		 "    token: " TOKEN "\n"
		 "    tokenFile: token\n"
		 "    client-certificate: client.crt\n"
		 "    client-key: %s/client.key\n"
		 "- name: cert-user\n"
		 "  user:\n"
		 "    client-certificate-data: %s\n"
		 "    client-key-data: |\n"
		 "      %.20s\n"
		 "      %s\n",
		 ca64, dir, cert64, key64, key64 + 20);
	write_file(at(path, sizeof(path), "config"), text);

	/* the current context: paths relative to the kubeconfig's dir */
	assert_int_equal(apiconf_kubeconfig(&c, path, NULL, err, sizeof(err)),
			 0);
	assert_string_equal(c.server, "https://API.example:6443");
	assert_string_equal(c.ca_file, at(want, sizeof(want), "ca.crt"));
	assert_null(c.ca_pem);
	assert_string_equal(c.tls_server_name, "kubernetes.default.svc");
	assert_false(c.insecure);
	assert_string_equal(c.cert_file, at(want, sizeof(want), "client.crt"));
	assert_string_equal(c.key_file, at(want, sizeof(want), "client.key"));
	assert_null(c.cert_pem);
	assert_null(c.key_pem);
	assert_string_equal(c.token, TOKEN);
	assert_string_equal(c.token_file, at(want, sizeof(want), "token"));
	snprintf(want, sizeof(want), "kubeconfig %s context dev", path);
	assert_string_equal(c.origin, want);
	assert_int_equal(apiconf_token(&c, buf, sizeof(buf)), strlen(TOKEN));
	assert_string_equal(buf, TOKEN);
	apiconf_free(&c);
	assert_true(is_empty(&c));

	/* data fields, a folded key, a server without a scheme */
	assert_int_equal(
	    apiconf_kubeconfig(&c, path, "other", err, sizeof(err)), 0);
	assert_string_equal(c.server, "https://10.0.0.1:6443");
	assert_null(c.ca_file);
	assert_int_equal(c.ca_pem_len, strlen(CA_PEM));
	assert_memory_equal(c.ca_pem, CA_PEM, strlen(CA_PEM));
	assert_int_equal(c.ca_pem[c.ca_pem_len], '\0');
	assert_int_equal(c.cert_pem_len, strlen(CERT_PEM));
	assert_string_equal((char *)c.cert_pem, CERT_PEM);
	assert_int_equal(c.key_pem_len, strlen(KEY_PEM));
	assert_string_equal((char *)c.key_pem, KEY_PEM);
	assert_null(c.cert_file);
	assert_null(c.key_file);
	assert_null(c.token);
	assert_null(c.token_file);
	assert_null(c.tls_server_name);
	assert_int_equal(apiconf_token(&c, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	apiconf_free(&c);

	/* insecure, a path prefix, a context without a user */
	assert_int_equal(apiconf_kubeconfig(&c, path, "lab", err, sizeof(err)),
			 0);
	assert_string_equal(c.server, "http://127.0.0.1:8080/prefix");
	assert_true(c.insecure);
	assert_null(c.ca_file);
	assert_null(c.ca_pem);
	assert_null(c.token);
	assert_null(c.cert_file);
	apiconf_free(&c);
	apiconf_free(&c); /* twice is harmless */
}

static void test_kubeconfig_relative_to_cwd(void **state)
{
	struct apiconf c;
	char path[512], old[PATH_MAX];

	(void)state;
	/* a kubeconfig in a subdirectory: its CA is taken from there */
	write_file(at(path, sizeof(path), "sub/config"),
		   "current-context: c\n"
		   "contexts: [{name: c, context: {cluster: k}}]\n"
		   "clusters:\n"
		   "- name: k\n"
		   "  cluster: {server: 'https://h', certificate-authority: "
		   "ca.crt}\n");
	assert_int_equal(apiconf_kubeconfig(&c, path, NULL, err, sizeof(err)),
			 0);
	assert_string_equal(c.server, "https://h");
	assert_string_equal(c.ca_file, at(path, sizeof(path), "sub/ca.crt"));
	apiconf_free(&c);

	/* a kubeconfig named without a directory */
	assert_non_null(getcwd(old, sizeof(old)));
	assert_int_equal(chdir(at(path, sizeof(path), "sub")), 0);
	assert_int_equal(
	    apiconf_kubeconfig(&c, "config", NULL, err, sizeof(err)), 0);
	assert_string_equal(c.ca_file, "ca.crt");
	apiconf_free(&c);
	assert_int_equal(chdir(old), 0);
}

static const char good_head[] = "current-context: c\n"
				"contexts:\n"
				"- name: c\n"
				"  context: {cluster: k, user: u}\n"
				"clusters:\n"
				"- name: k\n"
				"  cluster: {server: 'https://h'}\n";

static void test_kubeconfig_errors(void **state)
{
	struct apiconf c;
	char path[512], want[1024], text[2048];

	(void)state;
	/* missing context, explicit or current */
	kc_fails("e1", good_head, "nope", -ENOENT, "context 'nope' not found");
	kc_fails("e2",
		 "current-context: gone\ncontexts: []\n"
		 "users: [{name: u, user: {token: " TOKEN "}}]\n",
		 NULL, -ENOENT, "context 'gone' not found");
	kc_fails("e3", "clusters: []\nusers: []\n", NULL, -ENOENT,
		 "no context given and no current-context set");
	kc_fails("e4", "current-context: \"\"\ncontexts: []\n", NULL, -ENOENT,
		 "no context given and no current-context set");
	/* missing cluster, server, user */
	kc_fails("e5",
		 "current-context: c\n"
		 "contexts: [{name: c, context: {cluster: k2, user: u}}]\n"
		 "clusters: [{name: k, cluster: {server: 'https://h'}}]\n",
		 NULL, -ENOENT, "cluster 'k2' not found");
	kc_fails("e6",
		 "current-context: c\n"
		 "contexts: [{name: c, context: {user: u}}]\n",
		 NULL, -ENOENT, "context 'c' names no cluster");
	kc_fails("e7",
		 "current-context: c\n"
		 "contexts: [{name: c, context: {cluster: k}}]\n"
		 "clusters: [{name: k, cluster: {certificate-authority: "
		 "ca.crt}}]\n",
		 NULL, -ENOENT, "cluster 'k' has no server");
	snprintf(text, sizeof(text),
		 "%susers:\n- name: other\n  user:\n"
		 "    token: " TOKEN "\n",
		 good_head);
	kc_fails("e8", text, NULL, -ENOENT, "user 'u' not found");
	/* bad base64: the message carries neither the data nor the token */
	snprintf(text, sizeof(text),
		 "%susers:\n- name: u\n  user:\n    token: " TOKEN "\n"
		 "    client-certificate-data: " TOKEN "!!\n"
		 "    client-key-data: QUJD\n",
		 good_head);
	kc_fails("e9", text, NULL, -EINVAL,
		 "user 'u': 'client-certificate-data' is not valid base64");
	kc_fails("e10",
		 "current-context: c\n"
		 "contexts: [{name: c, context: {cluster: k}}]\n"
		 "clusters: [{name: k, cluster: {server: 'https://h', "
		 "certificate-authority-data: QUJD=}}]\n",
		 NULL, -EINVAL,
		 "cluster 'k': 'certificate-authority-data' is not valid "
		 "base64");
	/* a relative CA path that does not exist: named resolved */
	snprintf(want, sizeof(want),
		 "cluster 'k': certificate-authority %s/missing/ca.pem: No "
		 "such file or directory",
		 dir);
	kc_fails("e11",
		 "current-context: c\n"
		 "contexts: [{name: c, context: {cluster: k}}]\n"
		 "clusters: [{name: k, cluster: {server: 'https://h', "
		 "certificate-authority: missing/ca.pem}}]\n",
		 NULL, -ENOENT, want);
	snprintf(text, sizeof(text),
		 "%susers:\n- name: u\n  user:\n    token: " TOKEN "\n"
		 "    tokenFile: no-token\n",
		 good_head);
	snprintf(want, sizeof(want),
		 "user 'u': tokenFile %s/no-token: No such file or directory",
		 dir);
	kc_fails("e12", text, NULL, -ENOENT, want);
	/* unsupported authentication */
	snprintf(text, sizeof(text),
		 "%susers:\n- name: u\n  user:\n    exec:\n"
		 "      apiVersion: client.authentication.k8s.io/v1\n"
		 "      command: aws\n"
		 "      args: [eks, get-token]\n",
		 good_head);
	kc_fails("e13", text, NULL, -EINVAL,
		 "user 'u': 'exec' authentication is not supported (use a "
		 "client certificate, token or tokenFile)");
	snprintf(text, sizeof(text),
		 "%susers:\n- name: u\n  user:\n    auth-provider:\n"
		 "      name: oidc\n",
		 good_head);
	kc_fails("e14", text, NULL, -EINVAL,
		 "user 'u': 'auth-provider' authentication is not supported "
		 "(use a client certificate, token or tokenFile)");
	snprintf(text, sizeof(text),
		 "%susers:\n- name: u\n  user:\n    username: admin\n"
		 "    password: " TOKEN "\n",
		 good_head);
	kc_fails("e15", text, NULL, -EINVAL,
		 "user 'u': 'username' authentication is not supported (use "
		 "a client certificate, token or tokenFile)");
	/* contradictions */
	kc_fails("e16",
		 "current-context: c\n"
		 "contexts: [{name: c, context: {cluster: k}}]\n"
		 "clusters: [{name: k, cluster: {server: 'https://h', "
		 "certificate-authority: ca.crt, insecure-skip-tls-verify: "
		 "true}}]\n",
		 NULL, -EINVAL,
		 "cluster 'k': a certificate authority together with "
		 "insecure-skip-tls-verify is not allowed");
	kc_fails("e17",
		 "current-context: c\n"
		 "contexts: [{name: c, context: {cluster: k}}]\n"
		 "clusters: [{name: k, cluster: {server: 'https://h', "
		 "certificate-authority: ca.crt, certificate-authority-data: "
		 "QUJD}}]\n",
		 NULL, -EINVAL,
		 "cluster 'k': 'certificate-authority' and "
		 "'certificate-authority-data' are both set");
	snprintf(text, sizeof(text),
		 "%susers:\n- name: u\n  user:\n    client-certificate: "
		 "client.crt\n",
		 good_head);
	kc_fails("e18", text, NULL, -EINVAL,
		 "user 'u': client-certificate and client-key go together");
	kc_fails("e19",
		 "current-context: c\n"
		 "contexts: [{name: c, context: {cluster: k}}]\n"
		 "clusters: [{name: k, cluster: {server: 'https://h', "
		 "insecure-skip-tls-verify: 'true'}}]\n",
		 NULL, -EINVAL,
		 "cluster 'k': 'insecure-skip-tls-verify' must be true or "
		 "false");
	kc_fails("e20",
		 "current-context: c\n"
		 "contexts: [{name: c, context: {cluster: k}}]\n"
		 "clusters: [{name: k, cluster: {server: 'ftp://h'}}]\n",
		 NULL, -EINVAL,
		 "cluster 'k': server 'ftp://h' must be an http:// or "
		 "https:// URL");
	kc_fails("e21",
		 "current-context: c\n"
		 "contexts: [{name: c, context: {cluster: k}}]\n"
		 "clusters: [{name: k, cluster: {server: 'https://h', "
		 "proxy-url: 'http://proxy:3128'}}]\n",
		 NULL, -EINVAL, "cluster 'k': 'proxy-url' is not supported");
	snprintf(text, sizeof(text),
		 "%susers:\n- name: u\n  user:\n    token: [" TOKEN "]\n",
		 good_head);
	kc_fails("e22", text, NULL, -EINVAL,
		 "user 'u': 'token' must be a string");
	kc_fails("e23", "current-context: c\ncontexts: {c: 1}\n", NULL, -EINVAL,
		 "'contexts' must be a list");
	/* not YAML, not a mapping, empty */
	kc_fails("e24", "- just\n- a list\n", NULL, -EINVAL,
		 "not a kubeconfig: expected a mapping at the top");
	kc_fails("e25", "", NULL, -EINVAL, "the file is empty");

	write_file(at(path, sizeof(path), "e26"),
		   "users:\n- name: u\n  user:\n    token: " TOKEN "\n"
		   "    tokenFile: [unclosed\n");
	memset(&c, 0, sizeof(c));
	assert_int_equal(apiconf_kubeconfig(&c, path, NULL, err, sizeof(err)),
			 -EINVAL);
	snprintf(want, sizeof(want), "kubeconfig %s:", path);
	assert_memory_equal(err, want, strlen(want));
	assert_null(strstr(err, TOKEN));
	assert_true(is_empty(&c));

	assert_int_equal(apiconf_kubeconfig(&c, at(path, sizeof(path), "none"),
					    NULL, err, sizeof(err)),
			 -ENOENT);
	snprintf(want, sizeof(want), "kubeconfig %s: No such file or directory",
		 path);
	assert_string_equal(err, want);
	assert_true(is_empty(&c));
}

/* ------------------------------------------------------------------ */
/* in-cluster */

static void test_in_cluster(void **state)
{
	struct apiconf c;
	char path[512], buf[64];

	(void)state;
	setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
	setenv("KUBERNETES_SERVICE_PORT", "443", 1);
	assert_int_equal(apiconf_in_cluster(&c, dir, err, sizeof(err)), 0);
	assert_string_equal(c.server, "https://10.96.0.1:443");
	assert_string_equal(c.token_file, at(path, sizeof(path), "token"));
	assert_string_equal(c.ca_file, at(path, sizeof(path), "ca.crt"));
	assert_null(c.token);
	assert_null(c.cert_file);
	assert_null(c.key_file);
	assert_false(c.insecure);
	assert_string_equal(c.origin, "in-cluster service account");
	assert_int_equal(apiconf_token(&c, buf, sizeof(buf)), strlen(TOKEN));
	assert_string_equal(buf, TOKEN);
	apiconf_free(&c);

	setenv("KUBERNETES_SERVICE_HOST", "fd00:10:96::1", 1);
	setenv("KUBERNETES_SERVICE_PORT", "6443", 1);
	assert_int_equal(apiconf_in_cluster(&c, dir, err, sizeof(err)), 0);
	assert_string_equal(c.server, "https://[fd00:10:96::1]:6443");
	apiconf_free(&c);

	setenv("KUBERNETES_SERVICE_HOST", "[fd00::1]", 1);
	assert_int_equal(apiconf_in_cluster(&c, dir, err, sizeof(err)), 0);
	assert_string_equal(c.server, "https://[fd00::1]:6443");
	apiconf_free(&c);

	setenv("KUBERNETES_SERVICE_PORT", "https", 1);
	assert_int_equal(apiconf_in_cluster(&c, dir, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "KUBERNETES_SERVICE_PORT is not a port "
				 "number: 'https'");
	assert_true(is_empty(&c));
	setenv("KUBERNETES_SERVICE_PORT", "65536", 1);
	assert_int_equal(apiconf_in_cluster(&c, dir, err, sizeof(err)),
			 -EINVAL);

	unsetenv("KUBERNETES_SERVICE_PORT");
	assert_int_equal(apiconf_in_cluster(&c, dir, err, sizeof(err)),
			 -ENOENT);
	assert_string_equal(err,
			    "KUBERNETES_SERVICE_PORT is not set: not running "
			    "in a cluster; use kubeconfig or endpoint");

	unsetenv("KUBERNETES_SERVICE_HOST");
	assert_int_equal(apiconf_in_cluster(&c, NULL, err, sizeof(err)),
			 -ENOENT);
	assert_string_equal(err,
			    "KUBERNETES_SERVICE_HOST is not set: not running "
			    "in a cluster; use kubeconfig or endpoint");
	assert_true(is_empty(&c));

	/* a service account directory without its files */
	setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
	setenv("KUBERNETES_SERVICE_PORT", "443", 1);
	assert_int_equal(apiconf_in_cluster(&c, at(path, sizeof(path), "nosa"),
					    err, sizeof(err)),
			 -ENOENT);
	snprintf(buf, sizeof(buf), "in-cluster: service account token ");
	assert_memory_equal(err, buf, strlen(buf));
	assert_non_null(strstr(err, "nosa/token: No such file"));
	assert_true(is_empty(&c));
	/* sub has a CA but no token; a directory with a token but no CA */
	assert_int_equal(apiconf_in_cluster(&c, at(path, sizeof(path), "sub"),
					    err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, "sub/token: No such file"));
	mkdir(at(path, sizeof(path), "sa2"), 0700);
	write_file(at(path, sizeof(path), "sa2/token"), TOKEN);
	assert_int_equal(apiconf_in_cluster(&c, at(path, sizeof(path), "sa2"),
					    err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, "in-cluster: service account CA "));
	assert_non_null(strstr(err, "sa2/ca.crt: No such file"));
	assert_null(strstr(err, TOKEN));
	unsetenv("KUBERNETES_SERVICE_HOST");
	unsetenv("KUBERNETES_SERVICE_PORT");
}

/* ------------------------------------------------------------------ */
/* endpoint */

static void test_endpoint(void **state)
{
	struct apiconf c;
	char buf[16];

	(void)state;
	assert_int_equal(apiconf_endpoint(&c, "HTTPS://10.0.0.1:6443/", NULL,
					  NULL, NULL, err, sizeof(err)),
			 0);
	assert_string_equal(c.server, "https://10.0.0.1:6443");
	assert_string_equal(c.origin, "endpoint https://10.0.0.1:6443");
	assert_null(c.ca_file);
	assert_null(c.cert_file);
	assert_null(c.key_file);
	assert_null(c.token);
	assert_null(c.token_file);
	assert_false(c.insecure);
	assert_int_equal(apiconf_token(&c, buf, sizeof(buf)), 0);
	apiconf_free(&c);

	assert_int_equal(apiconf_endpoint(&c, "https://[fd00::1]:6443",
					  "/etc/k/c.crt", "/etc/k/c.key",
					  "/etc/k/ca.crt", err, sizeof(err)),
			 0);
	assert_string_equal(c.server, "https://[fd00::1]:6443");
	assert_string_equal(c.cert_file, "/etc/k/c.crt");
	assert_string_equal(c.key_file, "/etc/k/c.key");
	assert_string_equal(c.ca_file, "/etc/k/ca.crt");
	apiconf_free(&c);

	/* a CA alone */
	assert_int_equal(apiconf_endpoint(&c, "http://localhost:8080", "", "",
					  "ca.crt", err, sizeof(err)),
			 0);
	assert_string_equal(c.server, "http://localhost:8080");
	assert_null(c.cert_file);
	assert_string_equal(c.ca_file, "ca.crt");
	apiconf_free(&c);

	assert_int_equal(apiconf_endpoint(&c, "10.0.0.1:6443", NULL, NULL, NULL,
					  err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "endpoint '10.0.0.1:6443' must be an http:// "
				 "or https:// URL");
	assert_true(is_empty(&c));
	assert_int_equal(apiconf_endpoint(&c, "https:///x", NULL, NULL, NULL,
					  err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "endpoint 'https:///x' has no valid host");
	assert_int_equal(apiconf_endpoint(&c, "https://", NULL, NULL, NULL, err,
					  sizeof(err)),
			 -EINVAL);
	assert_int_equal(
	    apiconf_endpoint(&c, "", NULL, NULL, NULL, err, sizeof(err)),
	    -EINVAL);
	assert_int_equal(apiconf_endpoint(&c, "https://h", "c.crt", NULL, "ca",
					  err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(
	    err, "tls: a client certificate and its key go together");
	assert_true(is_empty(&c));
}

/* ------------------------------------------------------------------ */
/* tokens */

static void test_token_rotation(void **state)
{
	struct apiconf c = {0};
	char path[512], buf[16];

	(void)state;
	c.token_file = strdup(at(path, sizeof(path), "rotating"));
	c.token = strdup("static");
	assert_non_null(c.token_file);

	write_file(path, "first\n");
	assert_int_equal(apiconf_token(&c, buf, sizeof(buf)), 5);
	assert_string_equal(buf, "first");
	/* bound tokens are replaced in place: the next call sees it */
	write_file(path, "second-one \r\n\t");
	assert_int_equal(apiconf_token(&c, buf, sizeof(buf)), 10);
	assert_string_equal(buf, "second-one");
	/* exactly fits, with trailing whitespace beyond the buffer */
	write_file(path, "fifteen-chars-x\n\n\n\n");
	assert_int_equal(apiconf_token(&c, buf, sizeof(buf)), 15);
	assert_string_equal(buf, "fifteen-chars-x");
	write_file(path, "sixteen-chars-xy");
	assert_int_equal(apiconf_token(&c, buf, sizeof(buf)), -ERANGE);
	assert_string_equal(buf, "");
	write_file(path, "fifteen-chars-x  y");
	assert_int_equal(apiconf_token(&c, buf, sizeof(buf)), -ERANGE);
	write_file(path, "\n");
	assert_int_equal(apiconf_token(&c, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	/* the file wins over the static token, even when gone */
	unlink(path);
	assert_int_equal(apiconf_token(&c, buf, sizeof(buf)), -ENOENT);
	assert_string_equal(buf, "");

	free(c.token_file);
	c.token_file = NULL;
	assert_int_equal(apiconf_token(&c, buf, sizeof(buf)), 6);
	assert_string_equal(buf, "static");
	assert_int_equal(apiconf_token(&c, buf, 6), -ERANGE);
	assert_int_equal(apiconf_token(&c, buf, 0), -ERANGE);
	apiconf_free(&c);
	assert_int_equal(apiconf_token(&c, buf, sizeof(buf)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_kubeconfig_fields),
	    cmocka_unit_test(test_kubeconfig_relative_to_cwd),
	    cmocka_unit_test(test_kubeconfig_errors),
	    cmocka_unit_test(test_in_cluster),
	    cmocka_unit_test(test_endpoint),
	    cmocka_unit_test(test_token_rotation),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
