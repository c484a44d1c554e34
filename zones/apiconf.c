/*
 * apiconf.c -- where the Kubernetes API server is and how to authenticate
 * to it: in-cluster service account, kubeconfig (libyaml's document API),
 * or the Corefile's endpoint and tls options.
 *
 * Messages name files, keys and entries, never values: a token, key or PEM
 * block cannot end up in one.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "zones/apiconf.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <yaml.h>

static void seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static void wipe_free(void *p, size_t len)
{
	if (!p)
		return;
	explicit_bzero(p, len);
	free(p);
}

static void wipe_str(char *s)
{
	if (s)
		wipe_free(s, strlen(s));
}

void apiconf_free(struct apiconf *c)
{
	if (!c)
		return;
	free(c->server);
	free(c->ca_file);
	free(c->ca_pem);
	free(c->cert_file);
	free(c->key_file);
	free(c->cert_pem);
	wipe_free(c->key_pem, c->key_pem_len);
	wipe_str(c->token);
	free(c->token_file);
	free(c->tls_server_name);
	free(c->origin);
	memset(c, 0, sizeof(*c));
}

/* 0 when path can be opened for reading, else a negative errno. */
static int readable(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

static char *path_join(const char *dir, const char *name)
{
	char *s;

	if (asprintf(&s, "%s/%s", dir, name) < 0)
		return NULL;
	return s;
}

/* ------------------------------------------------------------------ */
/* URLs */

/* A copy of url without trailing slashes, with https:// when it has no
 * scheme and scheme_default is set.  Returns NULL with *why set (or
 * *why NULL: out of memory). */
static char *url_norm(const char *url, bool scheme_default, const char **why)
{
	const char *sep = strstr(url, "://");
	const char *host;
	size_t len = strlen(url);
	char *s;

	*why = NULL;
	if (!sep && scheme_default) {
		if (asprintf(&s, "https://%s", url) < 0)
			return NULL;
		sep = strstr(s, "://");
		host = sep + 3;
		len = strlen(s);
	} else if (!sep) {
		*why = "must be an http:// or https:// URL";
		return NULL;
	} else {
		s = strdup(url);
		if (!s)
			return NULL;
		host = s + (sep - url) + 3;
	}
	if (!((host - s == 7 && strncasecmp(s, "http", 4) == 0) ||
	      (host - s == 8 && strncasecmp(s, "https", 5) == 0))) {
		free(s);
		*why = "must be an http:// or https:// URL";
		return NULL;
	}
	while (len > (size_t)(host - s) && s[len - 1] == '/')
		s[--len] = '\0';
	if (!*host || *host == '/' || strpbrk(s, " \t\r\n")) {
		free(s);
		*why = "has no valid host";
		return NULL;
	}
	for (char *p = s; p < host; p++)
		*p = tolower((unsigned char)*p);
	return s;
}

/* ------------------------------------------------------------------ */
/* bearer token */

int apiconf_token(const struct apiconf *c, char *buf, size_t len)
{
	char scratch[256];
	size_t n = 0;
	bool over = false;
	int fd, rc = 0;

	if (!buf || len == 0)
		return -ERANGE;
	buf[0] = '\0';
	if (!c->token_file) {
		if (!c->token)
			return 0;
		n = strlen(c->token);
		if (n >= len)
			return -ERANGE;
		memcpy(buf, c->token, n + 1);
		return (int)n;
	}
	fd = open(c->token_file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (;;) {
		bool inbuf = n < len - 1;
		ssize_t r = inbuf ? read(fd, buf + n, len - 1 - n)
				  : read(fd, scratch, sizeof(scratch));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = -errno;
			break;
		}
		if (r == 0)
			break;
		if (inbuf) {
			n += r;
			continue;
		}
		/* past the buffer only trailing whitespace may follow */
		for (ssize_t i = 0; i < r; i++)
			if (!isspace((unsigned char)scratch[i]))
				over = true;
	}
	close(fd);
	explicit_bzero(scratch, sizeof(scratch));
	if (rc == 0 && over)
		rc = -ERANGE;
	if (rc < 0) {
		explicit_bzero(buf, len);
		return rc;
	}
	while (n > 0 && isspace((unsigned char)buf[n - 1]))
		n--;
	buf[n] = '\0';
	if (n > (size_t)INT32_MAX) {
		explicit_bzero(buf, len);
		return -ERANGE;
	}
	return (int)n;
}

/* ------------------------------------------------------------------ */
/* in-cluster */

int apiconf_in_cluster(struct apiconf *c, const char *sa_dir, char *err,
		       size_t errlen)
{
	const char *host = getenv("KUBERNETES_SERVICE_HOST");
	const char *port = getenv("KUBERNETES_SERVICE_PORT");
	bool v6;
	char *end;
	unsigned long p;
	int rc;

	memset(c, 0, sizeof(*c));
	if (!sa_dir)
		sa_dir = APICONF_SA_DIR;
	if (!host || !*host) {
		seterr(err, errlen,
		       "KUBERNETES_SERVICE_HOST is not set: not running in a "
		       "cluster; use kubeconfig or endpoint");
		return -ENOENT;
	}
	if (!port || !*port) {
		seterr(err, errlen,
		       "KUBERNETES_SERVICE_PORT is not set: not running in a "
		       "cluster; use kubeconfig or endpoint");
		return -ENOENT;
	}
	errno = 0;
	p = strtoul(port, &end, 10);
	if (!isdigit((unsigned char)*port) || *end || errno || p == 0 ||
	    p > 65535) {
		seterr(err, errlen,
		       "KUBERNETES_SERVICE_PORT is not a port number: '%s'",
		       port);
		return -EINVAL;
	}
	if (strpbrk(host, "/ \t\r\n@?#")) {
		seterr(err, errlen,
		       "KUBERNETES_SERVICE_HOST is not a host: '%s'", host);
		return -EINVAL;
	}
	v6 = strchr(host, ':') && host[0] != '[';
	if (asprintf(&c->server, "https://%s%s%s:%lu", v6 ? "[" : "", host,
		     v6 ? "]" : "", p) < 0) {
		c->server = NULL;
		goto nomem;
	}
	c->token_file = path_join(sa_dir, "token");
	c->ca_file = path_join(sa_dir, "ca.crt");
	c->origin = strdup("in-cluster service account");
	if (!c->token_file || !c->ca_file || !c->origin)
		goto nomem;
	rc = readable(c->token_file);
	if (rc < 0) {
		seterr(err, errlen, "in-cluster: service account token %s: %s",
		       c->token_file, strerror(-rc));
		goto fail;
	}
	rc = readable(c->ca_file);
	if (rc < 0) {
		seterr(err, errlen, "in-cluster: service account CA %s: %s",
		       c->ca_file, strerror(-rc));
		goto fail;
	}
	return 0;
nomem:
	rc = -ENOMEM;
	seterr(err, errlen, "out of memory");
fail:
	apiconf_free(c);
	return rc;
}

/* ------------------------------------------------------------------ */
/* endpoint and tls */

static int opt_dup(char **dst, const char *s)
{
	if (!s || !*s)
		return 0;
	*dst = strdup(s);
	return *dst ? 0 : -ENOMEM;
}

int apiconf_endpoint(struct apiconf *c, const char *url, const char *cert,
		     const char *key, const char *cacert, char *err,
		     size_t errlen)
{
	const char *why;

	memset(c, 0, sizeof(*c));
	if (!url || !*url) {
		seterr(err, errlen, "endpoint: no URL");
		return -EINVAL;
	}
	if ((cert && *cert) != (key && *key)) {
		seterr(err, errlen,
		       "tls: a client certificate and its key go together");
		return -EINVAL;
	}
	c->server = url_norm(url, false, &why);
	if (!c->server) {
		if (!why)
			goto nomem;
		seterr(err, errlen, "endpoint '%s' %s", url, why);
		return -EINVAL;
	}
	if (asprintf(&c->origin, "endpoint %s", c->server) < 0) {
		c->origin = NULL;
		goto nomem;
	}
	if (opt_dup(&c->cert_file, cert) < 0 ||
	    opt_dup(&c->key_file, key) < 0 || opt_dup(&c->ca_file, cacert) < 0)
		goto nomem;
	return 0;
nomem:
	apiconf_free(c);
	seterr(err, errlen, "out of memory");
	return -ENOMEM;
}

/* ------------------------------------------------------------------ */
/* base64 (RFC 4648 standard alphabet; whitespace ignored, as the data
 * fields of a kubeconfig may be folded; padding optional) */

static int b64_val(unsigned char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+')
		return 62;
	if (ch == '/')
		return 63;
	return -1;
}

/* Decode text into a new buffer (*out, NUL after *outlen bytes).  Returns
 * 0, -EINVAL for text that is not base64, -ENOMEM. */
static int b64_decode(const char *text, uint8_t **out, size_t *outlen)
{
	size_t len = strlen(text), n = 0, nch = 0, npad = 0;
	uint32_t acc = 0;
	uint8_t *buf;

	buf = malloc(len / 4 * 3 + 4);
	if (!buf)
		return -ENOMEM;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = text[i];
		int v;

		if (isspace(ch))
			continue;
		if (ch == '=') {
			npad++;
			continue;
		}
		v = b64_val(ch);
		if (v < 0 || npad)
			goto bad;
		acc = acc << 6 | (uint32_t)v;
		if (++nch % 4 == 0) {
			buf[n++] = acc >> 16;
			buf[n++] = acc >> 8;
			buf[n++] = acc;
			acc = 0;
		}
	}
	switch (nch % 4) {
	case 0:
		if (npad)
			goto bad;
		break;
	case 1:
		goto bad;
	case 2:
		if (npad && npad != 2)
			goto bad;
		buf[n++] = acc >> 4;
		break;
	case 3:
		if (npad && npad != 1)
			goto bad;
		buf[n++] = acc >> 10;
		buf[n++] = acc >> 2;
		break;
	}
	if (n == 0)
		goto bad;
	buf[n] = '\0';
	*out = buf;
	*outlen = n;
	return 0;
bad:
	wipe_free(buf, len / 4 * 3 + 4);
	return -EINVAL;
}

/* ------------------------------------------------------------------ */
/* kubeconfig */

struct kc {
	const char *path; /* the kubeconfig */
	char *dir;	  /* its directory, NULL: the working directory */
	yaml_document_t doc;
	char *err;
	size_t errlen;
};

static int kc_err(struct kc *k, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int kc_err(struct kc *k, int rc, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!k->err || !k->errlen)
		return rc;
	n = snprintf(k->err, k->errlen, "kubeconfig %s: ", k->path);
	if (n >= 0 && (size_t)n < k->errlen) {
		va_start(ap, fmt);
		vsnprintf(k->err + n, k->errlen - n, fmt, ap);
		va_end(ap);
	}
	return rc;
}

static yaml_node_t *kc_node(struct kc *k, int idx)
{
	return yaml_document_get_node(&k->doc, idx);
}

/* The value of key in mapping m, NULL when absent or null. */
static yaml_node_t *kc_get(struct kc *k, yaml_node_t *m, const char *key)
{
	yaml_node_t *found = NULL;

	if (!m || m->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = m->data.mapping.pairs.start;
	     p < m->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = kc_node(k, p->key);

		if (kn && kn->type == YAML_SCALAR_NODE &&
		    strcmp((const char *)kn->data.scalar.value, key) == 0)
			found = kc_node(k, p->value); /* the last one wins */
	}
	if (found && found->type == YAML_SCALAR_NODE &&
	    found->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
		const char *v = (const char *)found->data.scalar.value;

		if (!*v || strcmp(v, "~") == 0 || strcasecmp(v, "null") == 0)
			return NULL;
	}
	return found;
}

/* The string value of key in m into *out (NULL when absent).  what names
 * the entry in messages ("cluster 'x'"). */
static int kc_str(struct kc *k, yaml_node_t *m, const char *key,
		  const char *what, const char **out)
{
	yaml_node_t *v = kc_get(k, m, key);

	*out = NULL;
	if (!v)
		return 0;
	if (v->type != YAML_SCALAR_NODE)
		return kc_err(k, -EINVAL, "%s: '%s' must be a string", what,
			      key);
	*out = (const char *)v->data.scalar.value;
	return 0;
}

static int kc_bool(struct kc *k, yaml_node_t *m, const char *key,
		   const char *what, bool *out)
{
	static const char *const yes[] = {"true", "yes", "on", "y"};
	static const char *const no[] = {"false", "no", "off", "n"};
	yaml_node_t *v = kc_get(k, m, key);
	const char *s;

	*out = false;
	if (!v)
		return 0;
	if (v->type == YAML_SCALAR_NODE &&
	    v->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
		s = (const char *)v->data.scalar.value;
		for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
			if (strcasecmp(s, yes[i]) == 0) {
				*out = true;
				return 0;
			}
			if (strcasecmp(s, no[i]) == 0)
				return 0;
		}
	}
	return kc_err(k, -EINVAL, "%s: '%s' must be true or false", what, key);
}

/*
 * The entry called name in the list under key (clusters, users,
 * contexts): its mapping under inner (cluster, user, context) into *out.
 * Returns 0, -ENOENT when there is no such entry (nothing said), -EINVAL
 * with the message set.
 */
static int kc_find(struct kc *k, const char *key, const char *inner,
		   const char *name, yaml_node_t **out)
{
	yaml_node_t *root = yaml_document_get_root_node(&k->doc);
	yaml_node_t *list = kc_get(k, root, key);

	*out = NULL;
	if (!list)
		return -ENOENT;
	if (list->type != YAML_SEQUENCE_NODE)
		return kc_err(k, -EINVAL, "'%s' must be a list", key);
	for (yaml_node_item_t *it = list->data.sequence.items.start;
	     it < list->data.sequence.items.top; it++) {
		yaml_node_t *e = kc_node(k, *it);
		const char *n;
		yaml_node_t *v;
		int rc;

		if (!e || e->type != YAML_MAPPING_NODE)
			return kc_err(k, -EINVAL,
				      "the entries of '%s' must be mappings",
				      key);
		rc = kc_str(k, e, "name", key, &n);
		if (rc < 0)
			return rc;
		if (!n || strcmp(n, name) != 0)
			continue;
		v = kc_get(k, e, inner);
		if (v && v->type != YAML_MAPPING_NODE)
			return kc_err(k, -EINVAL,
				      "%s '%s': '%s' must be a "
				      "mapping",
				      inner, name, inner);
		*out = v; /* the last one wins, as in client-go */
		if (!v)
			*out = e; /* an entry without settings */
	}
	return *out ? 0 : -ENOENT;
}

/* A path from the kubeconfig: relative ones are taken from its
 * directory. */
static int kc_path(struct kc *k, const char *p, char **out)
{
	if (p[0] == '/' || !k->dir)
		*out = strdup(p);
	else
		*out = path_join(k->dir, p);
	return *out ? 0 : -ENOMEM;
}

/* The file (key) or data (key-data) pair of an entry. */
static int kc_file_or_data(struct kc *k, yaml_node_t *m, const char *key,
			   const char *what, char **file, uint8_t **data,
			   size_t *datalen)
{
	char dkey[64];
	const char *f = NULL, *d = NULL;
	int rc;

	snprintf(dkey, sizeof(dkey), "%s-data", key);
	rc = kc_str(k, m, key, what, &f);
	if (rc == 0)
		rc = kc_str(k, m, dkey, what, &d);
	if (rc < 0)
		return rc;
	if (f && d)
		return kc_err(k, -EINVAL, "%s: '%s' and '%s' are both set",
			      what, key, dkey);
	if (d) {
		rc = b64_decode(d, data, datalen);
		if (rc == -EINVAL)
			return kc_err(k, rc, "%s: '%s' is not valid base64",
				      what, dkey);
		if (rc < 0)
			return kc_err(k, rc, "out of memory");
	}
	if (f) {
		rc = kc_path(k, f, file);
		if (rc < 0)
			return kc_err(k, rc, "out of memory");
		rc = readable(*file);
		if (rc < 0)
			return kc_err(k, rc, "%s: %s %s: %s", what, key, *file,
				      strerror(-rc));
	}
	return 0;
}

static int kc_cluster(struct kc *k, struct apiconf *c, const char *name)
{
	yaml_node_t *m;
	const char *server, *sni, *why;
	char what[300];
	int rc;

	rc = kc_find(k, "clusters", "cluster", name, &m);
	if (rc == -ENOENT)
		return kc_err(k, rc, "cluster '%s' not found", name);
	if (rc < 0)
		return rc;
	snprintf(what, sizeof(what), "cluster '%s'", name);
	if (kc_get(k, m, "proxy-url"))
		return kc_err(k, -EINVAL, "%s: 'proxy-url' is not supported",
			      what);
	rc = kc_str(k, m, "server", what, &server);
	if (rc < 0)
		return rc;
	if (!server)
		return kc_err(k, -ENOENT, "%s has no server", what);
	c->server = url_norm(server, true, &why);
	if (!c->server) {
		if (!why)
			return kc_err(k, -ENOMEM, "out of memory");
		return kc_err(k, -EINVAL, "%s: server '%s' %s", what, server,
			      why);
	}
	rc = kc_str(k, m, "tls-server-name", what, &sni);
	if (rc < 0)
		return rc;
	if (sni && !(c->tls_server_name = strdup(sni)))
		return kc_err(k, -ENOMEM, "out of memory");
	rc = kc_bool(k, m, "insecure-skip-tls-verify", what, &c->insecure);
	if (rc < 0)
		return rc;
	rc = kc_file_or_data(k, m, "certificate-authority", what, &c->ca_file,
			     &c->ca_pem, &c->ca_pem_len);
	if (rc < 0)
		return rc;
	if (c->insecure && (c->ca_file || c->ca_pem))
		return kc_err(k, -EINVAL,
			      "%s: a certificate authority together with "
			      "insecure-skip-tls-verify is not allowed",
			      what);
	return 0;
}

static int kc_user(struct kc *k, struct apiconf *c, const char *name)
{
	static const char *const refused[] = {
	    "exec", "auth-provider", "username",  "password",
	    "as",   "as-uid",	     "as-groups", "as-user-extra",
	};
	yaml_node_t *m;
	const char *token = NULL, *tfile = NULL;
	char what[300];
	int rc;

	rc = kc_find(k, "users", "user", name, &m);
	if (rc == -ENOENT)
		return kc_err(k, rc, "user '%s' not found", name);
	if (rc < 0)
		return rc;
	snprintf(what, sizeof(what), "user '%s'", name);
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		if (kc_get(k, m, refused[i]))
			return kc_err(k, -EINVAL,
				      "%s: '%s' authentication is not "
				      "supported (use a client certificate, "
				      "token or tokenFile)",
				      what, refused[i]);
	rc = kc_file_or_data(k, m, "client-certificate", what, &c->cert_file,
			     &c->cert_pem, &c->cert_pem_len);
	if (rc == 0)
		rc = kc_file_or_data(k, m, "client-key", what, &c->key_file,
				     &c->key_pem, &c->key_pem_len);
	if (rc < 0)
		return rc;
	if ((c->cert_file || c->cert_pem) != (c->key_file || c->key_pem))
		return kc_err(k, -EINVAL,
			      "%s: client-certificate and client-key go "
			      "together",
			      what);
	rc = kc_str(k, m, "token", what, &token);
	if (rc == 0)
		rc = kc_str(k, m, "tokenFile", what, &tfile);
	if (rc < 0)
		return rc;
	if (token && !(c->token = strdup(token)))
		return kc_err(k, -ENOMEM, "out of memory");
	if (tfile) {
		rc = kc_path(k, tfile, &c->token_file);
		if (rc < 0)
			return kc_err(k, rc, "out of memory");
		rc = readable(c->token_file);
		if (rc < 0)
			return kc_err(k, rc, "%s: tokenFile %s: %s", what,
				      c->token_file, strerror(-rc));
	}
	return 0;
}

/* Everything once the document is loaded. */
static int kc_build(struct kc *k, struct apiconf *c, const char *context)
{
	yaml_node_t *root = yaml_document_get_root_node(&k->doc);
	yaml_node_t *ctx;
	const char *name = context, *cluster, *user;
	char what[300];
	int rc;

	if (!root)
		return kc_err(k, -EINVAL, "the file is empty");
	if (root->type != YAML_MAPPING_NODE)
		return kc_err(k, -EINVAL,
			      "not a kubeconfig: expected a mapping at the "
			      "top");
	if (!name || !*name) {
		rc = kc_str(k, root, "current-context", "the file", &name);
		if (rc < 0)
			return rc;
		if (!name || !*name)
			return kc_err(k, -ENOENT,
				      "no context given and no "
				      "current-context set");
	}
	rc = kc_find(k, "contexts", "context", name, &ctx);
	if (rc == -ENOENT)
		return kc_err(k, rc, "context '%s' not found", name);
	if (rc < 0)
		return rc;
	snprintf(what, sizeof(what), "context '%s'", name);
	rc = kc_str(k, ctx, "cluster", what, &cluster);
	if (rc == 0)
		rc = kc_str(k, ctx, "user", what, &user);
	if (rc < 0)
		return rc;
	if (!cluster)
		return kc_err(k, -ENOENT, "%s names no cluster", what);
	rc = kc_cluster(k, c, cluster);
	if (rc == 0 && user)
		rc = kc_user(k, c, user);
	if (rc < 0)
		return rc;
	if (asprintf(&c->origin, "kubeconfig %s context %s", k->path, name) <
	    0) {
		c->origin = NULL;
		return kc_err(k, -ENOMEM, "out of memory");
	}
	return 0;
}

int apiconf_kubeconfig(struct apiconf *c, const char *path, const char *context,
		       char *err, size_t errlen)
{
	struct kc k = {.path = path, .err = err, .errlen = errlen};
	yaml_parser_t parser;
	bool loaded = false;
	const char *slash;
	FILE *f;
	int rc;

	memset(c, 0, sizeof(*c));
	f = fopen(path, "re");
	if (!f)
		return kc_err(&k, -errno, "%s", strerror(errno));
	slash = strrchr(path, '/');
	if (slash) {
		k.dir =
		    slash == path ? strdup("/") : strndup(path, slash - path);
		if (!k.dir) {
			fclose(f);
			return kc_err(&k, -ENOMEM, "out of memory");
		}
	}
	if (!yaml_parser_initialize(&parser)) {
		rc = kc_err(&k, -ENOMEM, "out of memory");
		goto out;
	}
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &k.doc)) {
		/* libyaml's problems are fixed texts, never the content */
		if (parser.error == YAML_MEMORY_ERROR)
			rc = kc_err(&k, -ENOMEM, "out of memory");
		else
			rc = -EINVAL;
		if (rc == -EINVAL && k.err && k.errlen)
			snprintf(k.err, k.errlen, "kubeconfig %s:%zu:%zu: %s",
				 path, parser.problem_mark.line + 1,
				 parser.problem_mark.column + 1,
				 parser.problem ? parser.problem
						: "YAML syntax error");
		yaml_parser_delete(&parser);
		goto out;
	}
	loaded = true;
	yaml_parser_delete(&parser);
	rc = kc_build(&k, c, context);
out:
	if (loaded)
		yaml_document_delete(&k.doc);
	fclose(f);
	free(k.dir);
	if (rc < 0)
		apiconf_free(c);
	return rc;
}
