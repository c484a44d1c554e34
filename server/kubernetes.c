/*
 * kubernetes.c -- the kubernetes directive's setup: zones, the data
 * source options and their checks, label selectors as the API server
 * parses them, and the other options of CoreDNS's kubernetes plugin.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "server/kubernetes.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server/config.h"
#include "server/k8s_external.h"
#include "server/setup.h"
#include "zones/builder.h"

/* A label selector token. */
enum {
	SEL_END,
	SEL_IDENT,
	SEL_IN,
	SEL_NOTIN,
	SEL_EQ,	 /* = */
	SEL_EQ2, /* == */
	SEL_NE,	 /* != */
	SEL_NOT, /* ! */
	SEL_GT,
	SEL_LT,
	SEL_OPEN,
	SEL_CLOSE,
	SEL_COMMA,
};

struct sel_lex {
	const char *p;
	const char *tok; /* the last token's text */
	size_t len;
};

static bool sel_special(char ch)
{
	return ch == '!' || ch == '=' || ch == '(' || ch == ')' || ch == ',' ||
	       ch == '<' || ch == '>';
}

/* The next token, as Kubernetes' selector lexer splits them. */
static int sel_next(struct sel_lex *l)
{
	const char *p = l->p;

	while (isspace((unsigned char)*p))
		p++;
	l->tok = p;
	l->len = 1;
	if (!*p) {
		l->len = 0;
		l->p = p;
		return SEL_END;
	}
	l->p = p + 1;
	switch (*p) {
	case '(':
		return SEL_OPEN;
	case ')':
		return SEL_CLOSE;
	case ',':
		return SEL_COMMA;
	case '>':
		return SEL_GT;
	case '<':
		return SEL_LT;
	case '=':
		if (p[1] == '=') {
			l->p++;
			l->len = 2;
			return SEL_EQ2;
		}
		return SEL_EQ;
	case '!':
		if (p[1] == '=') {
			l->p++;
			l->len = 2;
			return SEL_NE;
		}
		return SEL_NOT;
	}
	while (*l->p && !isspace((unsigned char)*l->p) && !sel_special(*l->p))
		l->p++;
	l->len = l->p - p;
	if (l->len == 2 && memcmp(p, "in", 2) == 0)
		return SEL_IN;
	if (l->len == 5 && memcmp(p, "notin", 5) == 0)
		return SEL_NOTIN;
	return SEL_IDENT;
}

/* A label name or value: at most 63 of [A-Za-z0-9_.-], alphanumeric at
 * both ends. */
static bool sel_name_ok(const char *s, size_t len)
{
	if (len == 0 || len > 63 || !isalnum((unsigned char)s[0]) ||
	    !isalnum((unsigned char)s[len - 1]))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' &&
		    s[i] != '_' && s[i] != '.')
			return false;
	return true;
}

/* A label key: [PREFIX/]NAME, the prefix a lowercase DNS subdomain. */
static bool sel_key_ok(const char *s, size_t len)
{
	const char *slash = memchr(s, '/', len);
	size_t plen, lab = 0;

	if (!slash)
		return sel_name_ok(s, len);
	plen = slash - s;
	if (plen == 0 || plen > 253 || !sel_name_ok(slash + 1, len - plen - 1))
		return false;
	for (size_t i = 0; i <= plen; i++) {
		char ch = i < plen ? s[i] : '.';

		if (ch == '.') {
			if (lab == 0 || s[i - 1] == '-')
				return false;
			lab = 0;
		} else if ((ch >= 'a' && ch <= 'z') ||
			   (ch >= '0' && ch <= '9') || (ch == '-' && lab > 0)) {
			if (++lab > 63)
				return false;
		} else {
			return false;
		}
	}
	return true;
}

static bool sel_value_ok(const char *s, size_t len)
{
	return len == 0 || sel_name_ok(s, len);
}

/*
 * Check a label selector as the Kubernetes API server parses it
 * (requirements separated by commas: k=v, k==v, k!=v, k, !k, k in (a,b),
 * k notin (a,b)) and write its normalised form (kubernetes.h) into *out.
 * Returns 0, -EINVAL with msg set, -ENOMEM.
 */
static int selector_parse(const char *text, char **out, char *msg,
			  size_t msglen)
{
	struct sel_lex l = {.p = text};
	char *buf, *w;
	int t;

	buf = malloc(2 * strlen(text) + 16);
	if (!buf)
		return -ENOMEM;
	w = buf;
	for (;;) {
		const char *key;
		size_t klen;
		bool absent = false;

		t = sel_next(&l);
		if (t == SEL_END && w == buf)
			break; /* empty: everything */
		if (t == SEL_NOT) {
			*w++ = '!';
			absent = true;
			t = sel_next(&l);
		}
		if (t != SEL_IDENT) {
			snprintf(msg, msglen,
				 "expected a label key, found "
				 "'%.*s'",
				 (int)l.len, l.tok);
			goto bad;
		}
		key = l.tok;
		klen = l.len;
		if (!sel_key_ok(key, klen)) {
			snprintf(msg, msglen, "invalid label key '%.*s'",
				 (int)klen, key);
			goto bad;
		}
		memcpy(w, key, klen);
		w += klen;
		t = sel_next(&l);
		if (absent) {
			/* !key stands alone */
		} else if (t == SEL_EQ || t == SEL_EQ2 || t == SEL_NE) {
			const char *op = t == SEL_NE ? "!=" : "=";
			struct sel_lex peek = l;
			int v = sel_next(&peek);

			w = stpcpy(w, op);
			if (v == SEL_IDENT || v == SEL_IN || v == SEL_NOTIN) {
				if (!sel_value_ok(peek.tok, peek.len)) {
					snprintf(msg, msglen,
						 "invalid label value '%.*s'",
						 (int)peek.len, peek.tok);
					goto bad;
				}
				memcpy(w, peek.tok, peek.len);
				w += peek.len;
				l = peek;
			} else if (v != SEL_END && v != SEL_COMMA) {
				snprintf(msg, msglen,
					 "expected a value after '%s' of "
					 "'%.*s'",
					 op, (int)klen, key);
				goto bad;
			}
			t = sel_next(&l);
		} else if (t == SEL_IN || t == SEL_NOTIN) {
			bool any = false;

			w = stpcpy(w, t == SEL_IN ? " in (" : " notin (");
			if (sel_next(&l) != SEL_OPEN) {
				snprintf(msg, msglen,
					 "expected '(' after '%s' of '%.*s'",
					 t == SEL_IN ? "in" : "notin",
					 (int)klen, key);
				goto bad;
			}
			for (;;) {
				int v = sel_next(&l);

				if (v == SEL_IDENT || v == SEL_IN ||
				    v == SEL_NOTIN) {
					if (!sel_value_ok(l.tok, l.len)) {
						snprintf(msg, msglen,
							 "invalid label value "
							 "'%.*s'",
							 (int)l.len, l.tok);
						goto bad;
					}
					memcpy(w, l.tok, l.len);
					w += l.len;
					any = true;
					v = sel_next(&l);
				}
				if (v == SEL_CLOSE)
					break;
				if (v != SEL_COMMA) {
					snprintf(msg, msglen,
						 "expected ',' or ')' in the "
						 "values of '%.*s'",
						 (int)klen, key);
					goto bad;
				}
				*w++ = ',';
				any = true; /* an empty value counts */
			}
			if (!any) {
				snprintf(msg, msglen,
					 "'%s' of '%.*s' needs at least one "
					 "value",
					 t == SEL_IN ? "in" : "notin",
					 (int)klen, key);
				goto bad;
			}
			*w++ = ')';
			t = sel_next(&l);
		} else if (t == SEL_GT || t == SEL_LT) {
			snprintf(msg, msglen,
				 "'%c' is not supported in label selectors",
				 t == SEL_GT ? '>' : '<');
			goto bad;
		}
		if (t == SEL_END)
			break;
		if (t != SEL_COMMA) {
			snprintf(msg, msglen,
				 "expected ',' after the requirement on "
				 "'%.*s', found '%.*s'",
				 (int)klen, key, (int)l.len, l.tok);
			goto bad;
		}
		*w++ = ',';
	}
	*w = '\0';
	*out = buf;
	return 0;
bad:
	free(buf);
	return -EINVAL;
}

/* The arguments of s joined by spaces, as CoreDNS reads a selector. */
static char *args_join(const struct corefile_dir *s)
{
	size_t len = 1;
	char *buf, *w;

	for (size_t i = 0; i < s->nargs; i++)
		len += strlen(s->args[i]) + 1;
	buf = malloc(len);
	if (!buf)
		return NULL;
	w = buf;
	*w = '\0';
	for (size_t i = 0; i < s->nargs; i++) {
		if (i)
			*w++ = ' ';
		w = stpcpy(w, s->args[i]);
	}
	return buf;
}

/* labels / namespace_labels: the selector into *dst. */
static int kube_selector(struct setup *c, const struct corefile_dir *s,
			 const char *what, char **dst)
{
	char msg[512], *text, *sel;
	int rc;

	if (s->nargs == 0)
		return setup_arg_err(c, s, "kubernetes");
	text = args_join(s);
	if (!text)
		return setup_nomem(c);
	rc = selector_parse(text, &sel, msg, sizeof(msg));
	if (rc == -ENOMEM) {
		free(text);
		return setup_nomem(c);
	}
	if (rc < 0) {
		rc = setup_err(c, s, "kubernetes",
			       "unable to parse %s selector value: '%s': %s",
			       what, text, msg);
		free(text);
		return rc;
	}
	free(text);
	free(*dst);
	*dst = sel;
	return 0;
}

/* startup_timeout / resyncperiod. */
static int kube_duration(struct setup *c, const struct corefile_dir *s,
			 const char *what, uint64_t *ms)
{
	char msg[512];

	if (s->nargs != 1)
		return setup_arg_err(c, s, "kubernetes");
	if (setup_duration(s->args[0], ms, msg, sizeof(msg)) < 0)
		return setup_err(c, s, "kubernetes",
				 "unable to parse %s value: '%s': %s", what,
				 s->args[0], msg);
	return 0;
}

/* An http:// or https:// URL with a host. */
static bool url_ok(const char *u)
{
	const char *h;

	if (strncasecmp(u, "https://", 8) == 0)
		h = u + 8;
	else if (strncasecmp(u, "http://", 7) == 0)
		h = u + 7;
	else
		return false;
	return *h && *h != '/' && !strpbrk(u, " \t\r\n");
}

static int str_set(struct setup *c, char **dst, const char *s)
{
	char *dup = s ? strdup(s) : NULL;

	if (s && !dup)
		return setup_nomem(c);
	free(*dst);
	*dst = dup;
	return 0;
}

/* Where the source options of one kubernetes directive are. */
struct kube_src {
	const struct corefile_dir *objects, *endpoint, *tls, *kubeconfig;
	const struct corefile_dir *namespaces, *namespace_labels;
};

static int kube_option_zonal(struct setup *c, const struct corefile_dir *s,
			     struct kubernetes_conf *k);
static int kube_option_topology(struct setup *c, const struct corefile_dir *s,
				struct kubernetes_conf *k);
/* multicluster ZONES...: each one of the directive's zones, none of them
 * reverse (CoreDNS: "is not authoritative for the multicluster zone"). */
static int kube_multicluster(struct setup *c, struct kubernetes_conf *k,
			     const struct corefile_dir *s)
{
	size_t from = k->nmulticluster;
	int rc;

	if (s->nargs == 0)
		return setup_arg_err(c, s, "kubernetes");
	rc = setup_zones_add(c, s, "kubernetes", s->args, s->nargs,
			     &k->multicluster, &k->nmulticluster);
	if (rc < 0)
		return rc;
	for (size_t i = from; i < k->nmulticluster; i++) {
		const char *z = k->multicluster[i];
		bool ours = false;

		for (size_t j = 0; j < k->nzones && !ours; j++)
			ours = strcmp(k->zones[j], z) == 0;
		if (!ours)
			return setup_err(c, s, "kubernetes",
					 "is not authoritative for the "
					 "multicluster zone %s: list it among "
					 "the kubernetes zones",
					 z[0] ? z : ".");
		if (builder_is_reverse(z))
			return setup_err(c, s, "kubernetes",
					 "multicluster zone %s is a reverse "
					 "zone",
					 z);
	}
	return 0;
}

static int kube_option(struct setup *c, struct kubernetes_conf *k,
		       struct kube_src *src, const struct corefile_dir *s)
{
	const char *o = s->name;
	int rc;

	rc = setup_no_block(c, s, "kubernetes");
	if (rc < 0)
		return rc;
	if (strcmp(o, "objects") == 0) {
		if (s->nargs != 1)
			return setup_arg_err(c, s, "kubernetes");
		src->objects = s;
		return str_set(c, &k->objects, s->args[0]);
	} else if (strcmp(o, "endpoint") == 0) {
		if (s->nargs == 0)
			return setup_arg_err(c, s, "kubernetes");
		if (s->nargs > 1)
			return setup_err(c, s, "kubernetes",
					 "multiple endpoints are not "
					 "supported, give one URL");
		if (!url_ok(s->args[0]))
			return setup_err(c, s, "kubernetes",
					 "invalid endpoint '%s': must be an "
					 "http:// or https:// URL with a host",
					 s->args[0]);
		src->endpoint = s;
		return str_set(c, &k->endpoint, s->args[0]);
	} else if (strcmp(o, "tls") == 0) {
		if (s->nargs != 3)
			return setup_arg_err(c, s, "kubernetes");
		src->tls = s;
		rc = str_set(c, &k->tls_cert, s->args[0]);
		if (rc == 0)
			rc = str_set(c, &k->tls_key, s->args[1]);
		if (rc == 0)
			rc = str_set(c, &k->tls_cacert, s->args[2]);
		return rc;
	} else if (strcmp(o, "kubeconfig") == 0) {
		if (s->nargs != 1 && s->nargs != 2)
			return setup_arg_err(c, s, "kubernetes");
		src->kubeconfig = s;
		rc = str_set(c, &k->kubeconfig, s->args[0]);
		if (rc == 0)
			rc = str_set(c, &k->kubeconfig_context,
				     s->nargs == 2 ? s->args[1] : NULL);
		return rc;
	} else if (strcmp(o, "labels") == 0) {
		return kube_selector(c, s, "label", &k->labels);
	} else if (strcmp(o, "namespace_labels") == 0) {
		src->namespace_labels = s;
		return kube_selector(c, s, "namespace_label",
				     &k->namespace_labels);
	} else if (strcmp(o, "startup_timeout") == 0) {
		return kube_duration(c, s, "startup_timeout",
				     &k->startup_timeout_ms);
	} else if (strcmp(o, "resyncperiod") == 0) {
		return kube_duration(c, s, "resyncperiod",
				     &k->resync_period_ms);
	} else if (strcmp(o, "pods") == 0) {
		if (s->nargs != 1)
			return setup_arg_err(c, s, "kubernetes");
		if (strcmp(s->args[0], "disabled") == 0)
			k->pods = KUBERNETES_PODS_DISABLED;
		else if (strcmp(s->args[0], "insecure") == 0)
			k->pods = KUBERNETES_PODS_INSECURE;
		else if (strcmp(s->args[0], "verified") == 0)
			k->pods = KUBERNETES_PODS_VERIFIED;
		else
			return setup_err(c, s, "kubernetes",
					 "invalid pods mode '%s', must be "
					 "disabled, insecure or verified",
					 s->args[0]);
	} else if (strcmp(o, "ttl") == 0) {
		const char *a;
		char *end;
		long t;

		if (s->nargs != 1)
			return setup_arg_err(c, s, "kubernetes");
		a = s->args[0];
		errno = 0;
		t = strtol(a, &end, 10);
		if (!*a || *end || isspace((unsigned char)*a))
			return setup_err(c, s, "kubernetes",
					 "ttl must be an integer: %s", a);
		if (errno || t < 0 || t > 3600)
			return setup_err(c, s, "kubernetes",
					 "ttl must be in range [0, 3600]: %s",
					 a);
		k->ttl = t;
	} else if (strcmp(o, "endpoint_pod_names") == 0) {
		if (s->nargs)
			return setup_arg_err(c, s, "kubernetes");
		k->endpoint_pod_names = true;
	} else if (strcmp(o, "namespaces") == 0) {
		if (s->nargs == 0)
			return setup_arg_err(c, s, "kubernetes");
		src->namespaces = s;
		for (size_t i = 0; i < s->nargs; i++)
			if (setup_strv_add_uniq(&k->namespaces, &k->nnamespaces,
						s->args[i]) < 0)
				return setup_nomem(c);
	} else if (strcmp(o, "fallthrough") == 0) {
		setup_strv_free(k->fallthrough_zones, k->nfallthrough_zones);
		k->fallthrough_zones = NULL;
		k->nfallthrough_zones = 0;
		k->fallthrough = true;
		return setup_zones_add(c, s, "kubernetes", s->args, s->nargs,
				       &k->fallthrough_zones,
				       &k->nfallthrough_zones);
	} else if (strcmp(o, "ignore") == 0) {
		if (s->nargs == 0)
			return setup_arg_err(c, s, "kubernetes");
		for (size_t i = 0; i < s->nargs; i++) {
			if (strcmp(s->args[i], "empty_service") != 0)
				return setup_err(c, s, "kubernetes",
						 "unable to parse ignore "
						 "value: '%s'",
						 s->args[i]);
		}
		k->ignore_empty_service = true;
	} else if (strcmp(o, "upstream") == 0) {
		/* CoreDNS ignored it from 1.5 and refused it from 1.7; the
		 * kubeadm Corefiles of that time still have it */
		return setup_warn(c, s, "kubernetes",
				  "'upstream' is deprecated and ignored: names "
				  "outside the cluster are resolved through "
				  "'forward'; remove the line");
	} else if (strcmp(o, "noendpoints") == 0) {
		if (s->nargs)
			return setup_arg_err(c, s, "kubernetes");
		k->noendpoints = true;
	} else if (strcmp(o, "zonal") == 0) {
		return kube_option_zonal(c, s, k);
	} else if (strcmp(o, "topology") == 0) {
		return kube_option_topology(c, s, k);
	} else if (strcmp(o, "multicluster") == 0) {
		return kube_multicluster(c, k, s);
	} else {
		return setup_err(c, s, "kubernetes", "unknown property '%s'",
				 o);
	}
	return 0;
}

/* ---- topology: zonal ---- */

/* `zonal`: the zone-scoped names of headless services (CoreDNS 1.14's
 * <zone>.pin|prefer._zone.<svc>.<ns>.svc.<zone>); no arguments. */
static int kube_option_zonal(struct setup *c, const struct corefile_dir *s,
			     struct kubernetes_conf *k)
{
	if (s->nargs)
		return setup_arg_err(c, s, "kubernetes");
	k->zonal = true;
	return 0;
}

/* `topology [strict]` (ours): a client pod asking for a headless service
 * gets its zone's endpoints first, or with strict only them (all when its
 * zone has none ready). */
static int kube_option_topology(struct setup *c, const struct corefile_dir *s,
				struct kubernetes_conf *k)
{
	if (s->nargs > 1)
		return setup_arg_err(c, s, "kubernetes");
	if (s->nargs && strcmp(s->args[0], "strict") != 0)
		return setup_err(c, s, "kubernetes",
				 "unable to parse topology value: '%s'",
				 s->args[0]);
	k->topology =
	    s->nargs ? KUBERNETES_TOPOLOGY_STRICT : KUBERNETES_TOPOLOGY_FIRST;
	return 0;
}

/* The later of two options (sub-directives of one block, in order). */
static const struct corefile_dir *later(const struct corefile_dir *a,
					const struct corefile_dir *b)
{
	return a > b ? a : b;
}

/* Options that cannot go together; the message is at the later one. */
static int kube_check_source(struct setup *c, const struct kube_src *src)
{
	static const char what[] = "cannot be used together: objects reads "
				   "manifests, not the Kubernetes API";

	if (src->objects && src->endpoint)
		return setup_err(c, later(src->objects, src->endpoint),
				 "kubernetes", "'objects' and 'endpoint' %s",
				 what);
	if (src->objects && src->tls)
		return setup_err(c, later(src->objects, src->tls), "kubernetes",
				 "'objects' and 'tls' %s", what);
	if (src->objects && src->kubeconfig)
		return setup_err(c, later(src->objects, src->kubeconfig),
				 "kubernetes", "'objects' and 'kubeconfig' %s",
				 what);
	if (src->endpoint && src->kubeconfig)
		return setup_err(c, later(src->endpoint, src->kubeconfig),
				 "kubernetes",
				 "'endpoint' and 'kubeconfig' cannot be used "
				 "together: give one way to reach the API");
	if (src->tls && !src->endpoint)
		return setup_err(c, src->tls, "kubernetes",
				 "'tls' needs 'endpoint': it sets the "
				 "credentials for that URL");
	if (src->namespaces && src->namespace_labels)
		return setup_err(
		    c, later(src->namespaces, src->namespace_labels),
		    "kubernetes",
		    "namespaces and namespace_labels cannot both be set");
	return 0;
}

int kubernetes_setup(struct setup *c, const struct corefile_dir *d)
{
	struct config_block *b = c->block;
	struct kube_src src = {0};
	struct kubernetes_conf *k;
	int rc;

	if (b->kube)
		return setup_dup_err(c, d, "kubernetes");
	k = calloc(1, sizeof(*k));
	if (!k)
		return setup_nomem(c);
	b->kube = k;
	k->ttl = 5;
	k->pods = KUBERNETES_PODS_DISABLED;
	k->startup_timeout_ms = 5000;
	k->resync_period_ms = 30 * 60 * 1000;
	k->file = strdup(d->file);
	if (!k->file)
		return setup_nomem(c);
	k->line = d->line;
	rc = setup_zones_add(c, d, "kubernetes", d->args, d->nargs, &k->zones,
			     &k->nzones);
	if (rc < 0)
		return rc;
	if (d->nargs == 0) {
		for (size_t i = 0; i < b->nkeys; i++)
			if (setup_strv_add_uniq(&k->zones, &k->nzones,
						b->keys[i].zone) < 0)
				return setup_nomem(c);
	}
	for (size_t i = 0; i < k->nzones; i++) {
		bool inside = false;

		for (size_t j = 0; j < b->nkeys && !inside; j++)
			inside = setup_zone_in(k->zones[i], b->keys[j].zone);
		if (!inside)
			return setup_err(c, d, "kubernetes",
					 "zone '%s' is not inside any zone of "
					 "its server block",
					 k->zones[i][0] ? k->zones[i] : ".");
	}
	for (size_t i = 0; i < d->nsub; i++) {
		rc = kube_option(c, k, &src, &d->sub[i]);
		if (rc < 0)
			return rc;
	}
	return kube_check_source(c, &src);
}

void kubernetes_conf_free(struct kubernetes_conf *k)
{
	if (!k)
		return;
	setup_strv_free(k->zones, k->nzones);
	free(k->objects);
	free(k->endpoint);
	free(k->tls_cert);
	free(k->tls_key);
	free(k->tls_cacert);
	free(k->kubeconfig);
	free(k->kubeconfig_context);
	free(k->labels);
	free(k->namespace_labels);
	setup_strv_free(k->namespaces, k->nnamespaces);
	setup_strv_free(k->fallthrough_zones, k->nfallthrough_zones);
	setup_strv_free(k->multicluster, k->nmulticluster);
	free(k->file);
	free(k);
}

static bool str_same(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

static bool strv_same(char *const *a, size_t na, char *const *b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (strcmp(a[i], b[i]) != 0)
			return false;
	return true;
}

bool kubernetes_conf_same(const struct kubernetes_conf *a,
			  const struct kubernetes_conf *b)
{
	return strv_same(a->zones, a->nzones, b->zones, b->nzones) &&
	       str_same(a->objects, b->objects) &&
	       str_same(a->endpoint, b->endpoint) &&
	       str_same(a->tls_cert, b->tls_cert) &&
	       str_same(a->tls_key, b->tls_key) &&
	       str_same(a->tls_cacert, b->tls_cacert) &&
	       str_same(a->kubeconfig, b->kubeconfig) &&
	       str_same(a->kubeconfig_context, b->kubeconfig_context) &&
	       str_same(a->labels, b->labels) &&
	       str_same(a->namespace_labels, b->namespace_labels) &&
	       a->resync_period_ms == b->resync_period_ms &&
	       a->pods == b->pods && a->ttl == b->ttl &&
	       a->endpoint_pod_names == b->endpoint_pod_names &&
	       strv_same(a->namespaces, a->nnamespaces, b->namespaces,
			 b->nnamespaces) &&
	       a->ignore_empty_service == b->ignore_empty_service &&
	       a->noendpoints == b->noendpoints &&
	       strv_same(a->multicluster, a->nmulticluster, b->multicluster,
			 b->nmulticluster) &&
	       k8s_external_conf_same(a->external, b->external) &&
	       a->zonal == b->zonal && !a->topology == !b->topology;
}
