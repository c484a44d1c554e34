/*
 * select.c -- label and field selectors.
 */
#include "tools/apiemu/select.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void emu_sel_free(struct emu_sel *sel)
{
	for (size_t i = 0; i < sel->n; i++) {
		struct emu_sel_req *r = &sel->reqs[i];

		for (size_t j = 0; j < r->nvalues; j++)
			free(r->values[j]);
		free(r->values);
		free(r->key);
	}
	free(sel->reqs);
	sel->reqs = NULL;
	sel->n = 0;
}

static struct emu_sel_req *sel_add(struct emu_sel *sel)
{
	struct emu_sel_req *r;

	sel->reqs = realloc(sel->reqs, (sel->n + 1) * sizeof(*sel->reqs));
	if (!sel->reqs)
		abort();
	r = &sel->reqs[sel->n++];
	memset(r, 0, sizeof(*r));
	return r;
}

static char *dupn(const char *s, size_t n)
{
	char *p = malloc(n + 1);

	if (!p)
		abort();
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

static void req_value(struct emu_sel_req *r, const char *s, size_t n)
{
	r->values = realloc(r->values, (r->nvalues + 1) * sizeof(*r->values));
	if (!r->values)
		abort();
	r->values[r->nvalues++] = dupn(s, n);
}

static bool key_char(char c)
{
	return isalnum((unsigned char)c) || c == '-' || c == '_' || c == '.' ||
	       c == '/';
}

static bool value_char(char c)
{
	return isalnum((unsigned char)c) || c == '-' || c == '_' || c == '.';
}

static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* An identifier of value characters at p; its length. */
static size_t span_value(const char *p)
{
	size_t n = 0;

	while (value_char(p[n]))
		n++;
	return n;
}

static int fail(struct emu_sel *sel, char *err, size_t errlen, const char *text,
		const char *what)
{
	snprintf(err, errlen,
		 "unable to parse requirement: %s in selector \"%s\"", what,
		 text);
	emu_sel_free(sel);
	return -EINVAL;
}

static bool word_at(const char *p, const char *w)
{
	size_t n = strlen(w);

	return strncmp(p, w, n) == 0 &&
	       (p[n] == ' ' || p[n] == '\t' || p[n] == '(');
}

int emu_sel_parse_labels(struct emu_sel *sel, const char *text, char *err,
			 size_t errlen)
{
	const char *p = text ? text : "";

	sel->reqs = NULL;
	sel->n = 0;
	p = skip_ws(p);
	if (!*p)
		return 0;
	for (;;) {
		struct emu_sel_req *r;
		bool neg = false;
		size_t kl = 0;

		p = skip_ws(p);
		if (*p == '!') {
			neg = true;
			p = skip_ws(p + 1);
		}
		while (key_char(p[kl]))
			kl++;
		if (!kl)
			return fail(sel, err, errlen, text, "expected a key");
		r = sel_add(sel);
		r->key = dupn(p, kl);
		p = skip_ws(p + kl);
		if (neg) {
			r->op = EMU_SEL_NOTEXISTS;
		} else if (!*p || *p == ',') {
			r->op = EMU_SEL_EXISTS;
		} else if (p[0] == '!' && p[1] == '=') {
			r->op = EMU_SEL_NE;
			p += 2;
		} else if (p[0] == '=' && p[1] == '=') {
			r->op = EMU_SEL_EQ;
			p += 2;
		} else if (p[0] == '=') {
			r->op = EMU_SEL_EQ;
			p += 1;
		} else if (word_at(p, "in") || word_at(p, "notin")) {
			r->op = p[0] == 'i' ? EMU_SEL_IN : EMU_SEL_NOTIN;
			p = skip_ws(p + (r->op == EMU_SEL_IN ? 2 : 5));
			if (*p != '(')
				return fail(sel, err, errlen, text,
					    "expected '('");
			p++;
			for (;;) {
				size_t vl;

				p = skip_ws(p);
				vl = span_value(p);
				req_value(r, p, vl);
				p = skip_ws(p + vl);
				if (*p == ',') {
					p++;
					continue;
				}
				if (*p == ')') {
					p++;
					break;
				}
				return fail(sel, err, errlen, text,
					    "expected ',' or ')'");
			}
		} else {
			return fail(sel, err, errlen, text,
				    "expected an operator");
		}
		if (r->op == EMU_SEL_EQ || r->op == EMU_SEL_NE) {
			size_t vl;

			p = skip_ws(p);
			vl = span_value(p);
			req_value(r, p, vl);
			p += vl;
		}
		p = skip_ws(p);
		if (!*p)
			return 0;
		if (*p != ',')
			return fail(sel, err, errlen, text,
				    "unexpected character");
		p++;
	}
}

int emu_sel_parse_fields(struct emu_sel *sel, int res, const char *text,
			 char *err, size_t errlen)
{
	const char *p = text ? text : "";

	sel->reqs = NULL;
	sel->n = 0;
	if (!*p)
		return 0;
	for (;;) {
		const char *end = strchr(p, ',');
		size_t tl = end ? (size_t)(end - p) : strlen(p);
		const char *op = NULL;
		size_t kl, ol;
		struct emu_sel_req *r;

		for (size_t i = 0; i < tl; i++) {
			if (p[i] == '=' || (p[i] == '!' && p[i + 1] == '=')) {
				op = p + i;
				break;
			}
		}
		if (!op) {
			snprintf(err, errlen, "invalid selector: '%.*s'",
				 (int)tl, p);
			emu_sel_free(sel);
			return -EINVAL;
		}
		kl = (size_t)(op - p);
		r = sel_add(sel);
		r->key = dupn(p, kl);
		if (op[0] == '!') {
			r->op = EMU_SEL_NE;
			ol = 2;
		} else if (op[1] == '=') {
			r->op = EMU_SEL_EQ;
			ol = 2;
		} else {
			r->op = EMU_SEL_EQ;
			ol = 1;
		}
		req_value(r, op + ol, tl - kl - ol);
		if (strcmp(r->key, "metadata.name") == 0) {
			r->field = EMU_FIELD_NAME;
		} else if (strcmp(r->key, "metadata.namespace") == 0) {
			r->field = EMU_FIELD_NAMESPACE;
		} else if (res == EMU_RES_PODS &&
			   strcmp(r->key, "status.phase") == 0) {
			r->field = EMU_FIELD_PHASE;
		} else {
			snprintf(err, errlen, "field label not supported: %s",
				 r->key);
			emu_sel_free(sel);
			return -EINVAL;
		}
		if (!end)
			return 0;
		p = end + 1;
	}
}

static const char *label_of(const struct emu_doc *doc, const char *key)
{
	for (size_t i = 0; i < doc->nlabels; i++)
		if (strcmp(doc->labels[i].key, key) == 0)
			return doc->labels[i].value;
	return NULL;
}

static bool in_values(const struct emu_sel_req *r, const char *v)
{
	for (size_t i = 0; i < r->nvalues; i++)
		if (strcmp(r->values[i], v) == 0)
			return true;
	return false;
}

bool emu_sel_match_labels(const struct emu_sel *sel, const struct emu_doc *doc)
{
	for (size_t i = 0; i < sel->n; i++) {
		const struct emu_sel_req *r = &sel->reqs[i];
		const char *v = label_of(doc, r->key);
		bool ok;

		switch (r->op) {
		case EMU_SEL_EQ:
		case EMU_SEL_IN:
			ok = v && in_values(r, v);
			break;
		case EMU_SEL_NE:
		case EMU_SEL_NOTIN:
			ok = !v || !in_values(r, v);
			break;
		case EMU_SEL_EXISTS:
			ok = v != NULL;
			break;
		default:
			ok = v == NULL;
			break;
		}
		if (!ok)
			return false;
	}
	return true;
}

bool emu_sel_match_fields(const struct emu_sel *sel, const struct emu_entry *e,
			  const struct emu_doc *doc)
{
	for (size_t i = 0; i < sel->n; i++) {
		const struct emu_sel_req *r = &sel->reqs[i];
		const char *want = r->values[0];
		bool eq;

		switch (r->field) {
		case EMU_FIELD_NAME:
			eq = strcmp(e->name, want) == 0;
			break;
		case EMU_FIELD_NAMESPACE:
			eq = strlen(want) == e->ns_len &&
			     strncmp(e->key, want, e->ns_len) == 0;
			break;
		default:
			eq = strcmp(doc->phase ? doc->phase : "", want) == 0;
			break;
		}
		if (eq != (r->op == EMU_SEL_EQ))
			return false;
	}
	return true;
}
