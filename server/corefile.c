/*
 * corefile.c -- the Corefile syntax of CoreDNS, without meaning.
 *
 * Text is cut into tokens first (lexer), then a cursor walks the token
 * array.  `import` replaces itself and its argument by the imported tokens
 * in place, as CoreDNS does, so snippets and files may hold anything that
 * could be written at that spot.  Every token knows the import that put it
 * there (its origin); following origins up to the main file finds import
 * cycles.
 *
 * Lexer rules, as CoreDNS's: tokens are separated by white space; `#`
 * outside quotes starts a comment up to the end of the line (even in the
 * middle of a word); a `"` at the start of a token quotes it up to the next
 * unescaped `"`, newlines included; inside quotes only `\"` is an escape,
 * every other backslash is kept as written.  A quoted token that spans
 * lines continues its line: the tokens after it on its last line are still
 * arguments of the same directive.  Quoted braces and quoted `import` are
 * plain words.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "server/corefile.h"

#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Bounds that keep a hostile Corefile from eating the machine. */
#define COREFILE_MAX_TOKENS (1u << 20)
#define COREFILE_MAX_ENV_STEPS 256
#define COREFILE_MAX_TOKEN_LEN (1u << 20)
/* Blocks: the server block's directives are at depth 0, a directive's
 * block at 1, a sub-directive's block at 2 (one level of nesting). */
#define COREFILE_MAX_DEPTH 2

enum origin_kind { ORIGIN_FILE, ORIGIN_SNIPPET };

/* The import that brought a token in (the main file has no parent). */
struct origin {
	enum origin_kind kind;
	char *key;  /* ORIGIN_FILE: real path (or the name); snippet: name */
	char *name; /* for messages */
	struct origin *parent;
	struct origin *next_alloc;
};

struct tok {
	const char *text; /* quotes removed, env not substituted yet */
	const char *file; /* name used in messages, also base for imports */
	int line;	  /* where the token starts */
	int end_line;	  /* where it ends (quoted tokens may span lines) */
	bool quoted;
	struct origin *origin;
};

struct toks {
	struct tok *v;
	size_t n, cap;
};

struct snippet {
	char *name;
	struct toks toks;
};

/* Every string the parser allocates; freed together at the end. */
struct strpool {
	char **v;
	size_t n, cap;
};

struct parser {
	struct toks toks;
	size_t pos;
	struct snippet *snippets;
	size_t nsnippets;
	struct strpool pool;
	struct origin *origins;
	char *err;
	size_t errlen;
	int rc; /* the error code once err is set */
};

/* ------------------------------------------------------------------ */
/* memory helpers */

static int grow(void **v, size_t *cap, size_t need, size_t size)
{
	size_t ncap;
	void *nv;

	if (need <= *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 8;
	while (ncap < need)
		ncap *= 2;
	nv = realloc(*v, ncap * size);
	if (!nv)
		return -ENOMEM;
	*v = nv;
	*cap = ncap;
	return 0;
}

static char *pool_add(struct parser *p, char *s)
{
	if (!s)
		return NULL;
	if (grow((void **)&p->pool.v, &p->pool.cap, p->pool.n + 1,
		 sizeof(char *)) < 0) {
		free(s);
		return NULL;
	}
	p->pool.v[p->pool.n++] = s;
	return s;
}

static char *pool_strndup(struct parser *p, const char *s, size_t len)
{
	return pool_add(p, strndup(s, len));
}

static int toks_push(struct toks *t, const struct tok *tok)
{
	if (t->n >= COREFILE_MAX_TOKENS)
		return -E2BIG;
	if (grow((void **)&t->v, &t->cap, t->n + 1, sizeof(*t->v)) < 0)
		return -ENOMEM;
	t->v[t->n++] = *tok;
	return 0;
}

/* ------------------------------------------------------------------ */
/* errors */

static int perr(struct parser *p, int rc, const char *file, int line,
		const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int perr(struct parser *p, int rc, const char *file, int line,
		const char *fmt, ...)
{
	va_list ap;
	int n;

	if (p->rc)
		return p->rc;
	p->rc = rc;
	if (!p->err || !p->errlen)
		return rc;
	n = snprintf(p->err, p->errlen, "%s:%d - Error during parsing: ", file,
		     line);
	if (n < 0 || (size_t)n >= p->errlen)
		return rc;
	va_start(ap, fmt);
	vsnprintf(p->err + n, p->errlen - n, fmt, ap);
	va_end(ap);
	return rc;
}

static int perr_tok(struct parser *p, const struct tok *t, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int perr_tok(struct parser *p, const struct tok *t, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return perr(p, -EINVAL, t->file, t->line, "%s", msg);
}

static int perr_nomem(struct parser *p)
{
	if (p->rc)
		return p->rc;
	p->rc = -ENOMEM;
	if (p->err && p->errlen)
		snprintf(p->err, p->errlen, "out of memory");
	return -ENOMEM;
}

/* ------------------------------------------------------------------ */
/* lexer */

/* Cut text into tokens appended to out.  file must live in the pool. */
static int lex(struct parser *p, const char *file, const char *text, size_t len,
	       struct origin *origin, struct toks *out)
{
	size_t i = 0;
	int line = 1;
	char *buf = NULL;
	size_t blen = 0, bcap = 0;
	struct tok t;
	int rc;

	while (i < len) {
		char c = text[i];

		if (c == '\0') {
			rc = perr(p, -EINVAL, file, line,
				  "Invalid NUL character");
			goto fail;
		}
		if (c == '\n') {
			line++;
			i++;
			continue;
		}
		if (c == ' ' || c == '\t' || c == '\r' || c == '\v' ||
		    c == '\f') {
			i++;
			continue;
		}
		if (c == '#') {
			while (i < len && text[i] != '\n')
				i++;
			continue;
		}

		memset(&t, 0, sizeof(t));
		t.file = file;
		t.line = line;
		t.origin = origin;
		blen = 0;
		if (c == '"') {
			bool closed = false;

			t.quoted = true;
			i++;
			while (i < len) {
				c = text[i];
				if (c == '\\' && i + 1 < len &&
				    text[i + 1] == '"') {
					c = '"';
					i++;
				} else if (c == '"') {
					closed = true;
					i++;
					break;
				} else if (c == '\n') {
					line++;
				} else if (c == '\0') {
					rc = perr(p, -EINVAL, file, line,
						  "Invalid NUL character");
					goto fail;
				}
				if (grow((void **)&buf, &bcap, blen + 2, 1) <
				    0) {
					rc = perr_nomem(p);
					goto fail;
				}
				buf[blen++] = c;
				i++;
			}
			if (!closed) {
				rc = perr(p, -EINVAL, file, t.line,
					  "Unterminated quoted string");
				goto fail;
			}
		} else {
			while (i < len) {
				c = text[i];
				if (c == ' ' || c == '\t' || c == '\r' ||
				    c == '\n' || c == '\v' || c == '\f' ||
				    c == '#' || c == '\0')
					break;
				if (grow((void **)&buf, &bcap, blen + 2, 1) <
				    0) {
					rc = perr_nomem(p);
					goto fail;
				}
				buf[blen++] = c;
				i++;
			}
		}
		if (blen > COREFILE_MAX_TOKEN_LEN) {
			rc = perr(p, -EINVAL, file, t.line, "Token too long");
			goto fail;
		}
		t.end_line = line;
		t.text = pool_strndup(p, buf ? buf : "", blen);
		if (!t.text) {
			rc = perr_nomem(p);
			goto fail;
		}
		rc = toks_push(out, &t);
		if (rc == -E2BIG) {
			rc = perr(p, -EINVAL, file, t.line, "Too many tokens");
			goto fail;
		} else if (rc < 0) {
			rc = perr_nomem(p);
			goto fail;
		}
	}
	free(buf);
	return 0;
fail:
	free(buf);
	return rc;
}

/* ------------------------------------------------------------------ */
/* environment substitution */

/*
 * Replace the leftmost complete reference open..NAME..close by the
 * variable's value (empty when unset), then look again from the start, as
 * CoreDNS does (a value may hold a reference).  An empty NAME stops the
 * substitution of this kind.  Returns 0, -ENOMEM or -ELOOP.
 */
static int env_kind(char **s, const char *open, const char *close)
{
	size_t olen = strlen(open), clen = strlen(close);
	int steps = 0;

	for (;;) {
		char *start = strstr(*s, open), *end, *name, *ns;
		const char *val;
		size_t vlen, nlen;

		if (!start)
			return 0;
		end = strstr(start + olen, close);
		if (!end || end == start + olen)
			return 0;
		if (++steps > COREFILE_MAX_ENV_STEPS)
			return -ELOOP;
		nlen = end - (start + olen);
		name = strndup(start + olen, nlen);
		if (!name)
			return -ENOMEM;
		val = getenv(name);
		free(name);
		if (!val)
			val = "";
		vlen = strlen(val);
		if (strlen(*s) - (olen + nlen + clen) + vlen >
		    COREFILE_MAX_TOKEN_LEN)
			return -ELOOP;
		ns = malloc(strlen(*s) - (olen + nlen + clen) + vlen + 1);
		if (!ns)
			return -ENOMEM;
		memcpy(ns, *s, start - *s);
		memcpy(ns + (start - *s), val, vlen);
		strcpy(ns + (start - *s) + vlen, end + clen);
		free(*s);
		*s = ns;
	}
}

/* The token's text with {%ENV%} and {$ENV} substituted, newly allocated
 * (caller frees).  NULL on error (reported in p). */
static char *env_subst(struct parser *p, const struct tok *t)
{
	char *s = strdup(t->text);
	int rc;

	if (!s) {
		perr_nomem(p);
		return NULL;
	}
	if (!strstr(s, "{$") && !strstr(s, "{%"))
		return s;
	rc = env_kind(&s, "{%", "%}");
	if (rc == 0)
		rc = env_kind(&s, "{$", "}");
	if (rc == -ENOMEM) {
		free(s);
		perr_nomem(p);
		return NULL;
	}
	if (rc < 0) {
		free(s);
		perr_tok(p, t,
			 "Environment substitution in '%s' does not terminate",
			 t->text);
		return NULL;
	}
	return s;
}

/* ------------------------------------------------------------------ */
/* token stream helpers */

static bool is_word(const struct tok *t, const char *w)
{
	return !t->quoted && strcmp(t->text, w) == 0;
}

/* Does token i start a new line (relative to token i-1)? */
static bool new_line(const struct parser *p, size_t i)
{
	const struct tok *prev, *cur;

	if (i == 0 || i >= p->toks.n)
		return true;
	prev = &p->toks.v[i - 1];
	cur = &p->toks.v[i];
	if (prev->origin != cur->origin || prev->file != cur->file)
		return true;
	return prev->end_line != cur->line;
}

/* The last token (for end-of-file messages). */
static const struct tok *last_tok(const struct parser *p)
{
	return &p->toks.v[p->toks.n - 1];
}

static int eof_err(struct parser *p)
{
	const struct tok *t = last_tok(p);

	return perr(p, -EINVAL, t->file, t->end_line, "Unexpected EOF");
}

/* Replace the tokens [at, at + count) by ins. */
static int splice(struct parser *p, size_t at, size_t count,
		  const struct toks *ins)
{
	struct toks *t = &p->toks;
	size_t nn = t->n - count + ins->n;

	if (nn > COREFILE_MAX_TOKENS)
		return perr_tok(p, &t->v[at], "Too many tokens after imports");
	if (grow((void **)&t->v, &t->cap, nn, sizeof(*t->v)) < 0)
		return perr_nomem(p);
	memmove(&t->v[at + ins->n], &t->v[at + count],
		(t->n - at - count) * sizeof(*t->v));
	if (ins->n)
		memcpy(&t->v[at], ins->v, ins->n * sizeof(*t->v));
	t->n = nn;
	return 0;
}

/* ------------------------------------------------------------------ */
/* imports */

static struct origin *origin_new(struct parser *p, enum origin_kind kind,
				 const char *key, const char *name,
				 struct origin *parent)
{
	struct origin *o = calloc(1, sizeof(*o));

	if (!o)
		return NULL;
	o->kind = kind;
	o->key = strdup(key);
	o->name = strdup(name);
	o->parent = parent;
	o->next_alloc = p->origins;
	p->origins = o;
	if (!o->key || !o->name)
		return NULL;
	return o;
}

/* Report an import cycle: the chain of imports from the main file down to
 * from, then again target. */
static int cycle_err(struct parser *p, const struct tok *at,
		     const struct origin *from, const char *target)
{
	char chain[1024] = "";
	const struct origin *stack[64];
	size_t n = 0, len = 0;

	for (const struct origin *o = from; o && n < 64; o = o->parent)
		stack[n++] = o;
	while (n-- > 0) {
		int w = snprintf(chain + len, sizeof(chain) - len, "%s -> ",
				 stack[n]->name);
		if (w < 0 || (size_t)w >= sizeof(chain) - len)
			break;
		len += w;
	}
	return perr_tok(p, at, "Import cycle detected: %s%s", chain, target);
}

static struct snippet *snippet_find(struct parser *p, const char *name)
{
	for (size_t i = 0; i < p->nsnippets; i++)
		if (strcmp(p->snippets[i].name, name) == 0)
			return &p->snippets[i];
	return NULL;
}

static int read_whole(const char *path, char **out, size_t *outlen)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0, r;
	int rc;

	if (!f)
		return -errno;
	for (;;) {
		if (grow((void **)&buf, &cap, len + 4096 + 1, 1) < 0) {
			rc = -ENOMEM;
			goto fail;
		}
		r = fread(buf + len, 1, cap - len - 1, f);
		len += r;
		if (r == 0)
			break;
	}
	if (ferror(f)) {
		rc = -EIO;
		goto fail;
	}
	fclose(f);
	buf[len] = '\0';
	*out = buf;
	*outlen = len;
	return 0;
fail:
	fclose(f);
	free(buf);
	return rc;
}

/* An imported file must balance its braces: an error then names the file
 * rather than the end of the file that imports it. */
static int check_braces(struct parser *p, const struct toks *t, size_t start)
{
	int depth = 0;

	for (size_t i = start; i < t->n; i++) {
		if (is_word(&t->v[i], "{")) {
			depth++;
		} else if (is_word(&t->v[i], "}") && --depth < 0) {
			return perr_tok(p, &t->v[i],
					"Unexpected '}' because no matching "
					"opening brace");
		}
	}
	if (depth > 0)
		return perr(p, -EINVAL, t->v[t->n - 1].file,
			    t->v[t->n - 1].end_line, "Unexpected EOF");
	return 0;
}

/* Import one file: its tokens are appended to out. */
static int import_file(struct parser *p, const struct tok *at, const char *path,
		       struct toks *out)
{
	struct stat st;
	char *real = NULL, *text = NULL, *file;
	size_t len, start;
	struct origin *o;
	int rc;

	if (stat(path, &st) < 0)
		return perr_tok(p, at, "Could not import %s: %s", path,
				strerror(errno));
	if (S_ISDIR(st.st_mode))
		return perr_tok(p, at, "Could not import %s: is a directory",
				path);
	real = realpath(path, NULL);
	if (!real)
		return perr_tok(p, at, "Could not import %s: %s", path,
				strerror(errno));
	for (o = at->origin; o; o = o->parent) {
		if (o->kind == ORIGIN_FILE && strcmp(o->key, real) == 0) {
			rc = cycle_err(p, at, at->origin, path);
			goto fail;
		}
	}
	rc = read_whole(path, &text, &len);
	if (rc < 0) {
		rc = perr_tok(p, at, "Could not import %s: %s", path,
			      strerror(-rc));
		goto fail;
	}
	file = pool_add(p, strdup(path));
	o = origin_new(p, ORIGIN_FILE, real, path, at->origin);
	if (!file || !o) {
		rc = perr_nomem(p);
		goto fail;
	}
	start = out->n;
	rc = lex(p, file, text, len, o, out);
	if (rc == 0)
		rc = check_braces(p, out, start);
fail:
	free(real);
	free(text);
	return rc;
}

/* Import files matching pattern (relative to the directory of the file
 * the import is written in). */
static int import_glob(struct parser *p, const struct tok *at,
		       const char *pattern, struct toks *out)
{
	char *full = NULL;
	const char *slash;
	size_t nstar = 0, nq = 0;
	glob_t g;
	int rc, grc;

	slash = strrchr(at->file, '/');
	if (pattern[0] == '/' || !slash) {
		full = strdup(pattern);
	} else if (asprintf(&full, "%.*s/%s", (int)(slash - at->file), at->file,
			    pattern) < 0) {
		full = NULL;
	}
	if (!full)
		return perr_nomem(p);
	for (const char *c = full; *c; c++) {
		nstar += *c == '*';
		nq += *c == '?';
	}
	if (nstar > 1 || nq > 1 || (strchr(full, '[') && strchr(full, ']'))) {
		rc = perr_tok(p, at,
			      "Glob pattern may only contain one wildcard (*), "
			      "but has others: %s",
			      full);
		free(full);
		return rc;
	}
	memset(&g, 0, sizeof(g));
	grc = glob(full, 0, NULL, &g);
	if (grc == GLOB_NOMATCH) {
		if (strpbrk(full, "*?[]"))
			rc = 0; /* an empty glob is not an error */
		else
			rc = perr_tok(p, at, "File to import not found: %s",
				      pattern);
		goto done;
	} else if (grc == GLOB_NOSPACE) {
		rc = perr_nomem(p);
		goto done;
	} else if (grc != 0) {
		rc =
		    perr_tok(p, at, "Failed to use import pattern %s", pattern);
		goto done;
	}
	rc = 0;
	for (size_t i = 0; i < g.gl_pathc && rc == 0; i++)
		rc = import_file(p, at, g.gl_pathv[i], out);
done:
	globfree(&g);
	free(full);
	return rc;
}

/* The token at p->pos is an `import`: replace it and its argument by what
 * it names. */
static int do_import(struct parser *p)
{
	size_t at = p->pos;
	struct tok imp = p->toks.v[at];
	struct toks ins = {0};
	struct snippet *sn;
	char *pattern = NULL;
	int rc;

	if (at + 1 >= p->toks.n || new_line(p, at + 1))
		return perr_tok(p, &imp,
				"Wrong argument count or unexpected line "
				"ending after 'import'");
	if (at + 2 < p->toks.n && !new_line(p, at + 2) &&
	    !is_word(&p->toks.v[at + 2], "}"))
		return perr_tok(p, &p->toks.v[at + 2],
				"Import takes only one argument (glob pattern "
				"or file)");
	pattern = env_subst(p, &p->toks.v[at + 1]);
	if (!pattern)
		return p->rc;
	if (!pattern[0]) {
		rc = perr_tok(p, &imp, "Import requires a non-empty filepath");
		goto fail;
	}

	sn = snippet_find(p, pattern);
	if (sn) {
		struct origin *o;

		for (o = imp.origin; o; o = o->parent) {
			if (o->kind == ORIGIN_SNIPPET &&
			    strcmp(o->key, pattern) == 0) {
				char target[300];

				snprintf(target, sizeof(target), "(%s)",
					 pattern);
				rc = cycle_err(p, &imp, imp.origin, target);
				goto fail;
			}
		}
		{
			char label[300];

			snprintf(label, sizeof(label), "(%s)", pattern);
			o = origin_new(p, ORIGIN_SNIPPET, pattern, label,
				       imp.origin);
		}
		if (!o) {
			rc = perr_nomem(p);
			goto fail;
		}
		for (size_t i = 0; i < sn->toks.n; i++) {
			struct tok t = sn->toks.v[i];

			t.origin = o;
			rc = toks_push(&ins, &t);
			if (rc < 0) {
				rc = rc == -E2BIG
					 ? perr_tok(p, &imp, "Too many tokens")
					 : perr_nomem(p);
				goto fail;
			}
		}
	} else {
		rc = import_glob(p, &imp, pattern, &ins);
		if (rc < 0)
			goto fail;
	}
	rc = splice(p, at, 2, &ins);
fail:
	free(ins.v);
	free(pattern);
	return rc;
}

/* ------------------------------------------------------------------ */
/* parser */

static void dir_free(struct corefile_dir *d)
{
	free(d->name);
	for (size_t i = 0; i < d->nargs; i++)
		free(d->args[i]);
	free(d->args);
	for (size_t i = 0; i < d->nsub; i++)
		dir_free(&d->sub[i]);
	free(d->sub);
	free(d->file);
}

static void block_free(struct corefile_block *b)
{
	for (size_t i = 0; i < b->nkeys; i++)
		free(b->keys[i]);
	free(b->keys);
	for (size_t i = 0; i < b->ndirs; i++)
		dir_free(&b->dirs[i]);
	free(b->dirs);
	free(b->file);
}

struct dirs {
	struct corefile_dir *v;
	size_t n, cap;
};

static int parse_dirs(struct parser *p, struct dirs *out, int depth,
		      bool braced);

/* One directive (or sub-directive) starting at p->pos. */
static int parse_dir(struct parser *p, struct dirs *out, int depth)
{
	const struct tok *name = &p->toks.v[p->pos];
	struct corefile_dir d = {0};
	size_t acap = 0;
	struct dirs sub = {0};
	int rc;

	d.line = name->line;
	d.file = strdup(name->file);
	d.name = env_subst(p, name);
	if (!d.file || !d.name) {
		rc = d.file ? p->rc : perr_nomem(p);
		goto fail;
	}
	p->pos++;
	while (p->pos < p->toks.n && !new_line(p, p->pos)) {
		const struct tok *t = &p->toks.v[p->pos];
		char *arg;

		if (is_word(t, "}"))
			break; /* closes the enclosing block */
		if (is_word(t, "{")) {
			if (depth >= COREFILE_MAX_DEPTH) {
				rc = perr_tok(
				    p, t,
				    "Unexpected '{' - a sub-directive's "
				    "block cannot hold another block");
				goto fail;
			}
			p->pos++;
			rc = parse_dirs(p, &sub, depth + 1, true);
			if (rc < 0)
				goto fail;
			if (p->pos < p->toks.n && !new_line(p, p->pos) &&
			    !is_word(&p->toks.v[p->pos], "}")) {
				rc = perr_tok(p, &p->toks.v[p->pos],
					      "Unexpected '%s' after '}'",
					      p->toks.v[p->pos].text);
				goto fail;
			}
			break;
		}
		arg = env_subst(p, t);
		if (!arg) {
			rc = p->rc;
			goto fail;
		}
		if (grow((void **)&d.args, &acap, d.nargs + 1, sizeof(char *)) <
		    0) {
			free(arg);
			rc = perr_nomem(p);
			goto fail;
		}
		d.args[d.nargs++] = arg;
		p->pos++;
	}
	d.sub = sub.v;
	d.nsub = sub.n;
	sub.v = NULL;
	if (grow((void **)&out->v, &out->cap, out->n + 1, sizeof(*out->v)) <
	    0) {
		rc = perr_nomem(p);
		goto fail;
	}
	out->v[out->n++] = d;
	return 0;
fail:
	for (size_t i = 0; i < sub.n; i++)
		dir_free(&sub.v[i]);
	free(sub.v);
	dir_free(&d);
	return rc;
}

/*
 * Directives up to the closing '}' (consumed) when braced, else up to the
 * end of the tokens.
 */
static int parse_dirs(struct parser *p, struct dirs *out, int depth,
		      bool braced)
{
	int rc;

	for (;;) {
		const struct tok *t;

		if (p->pos >= p->toks.n) {
			if (braced)
				return eof_err(p);
			return 0;
		}
		t = &p->toks.v[p->pos];
		if (is_word(t, "}")) {
			if (!braced)
				return perr_tok(p, t,
						"Unexpected '}' because no "
						"matching opening brace");
			p->pos++;
			return 0;
		}
		if (is_word(t, "{"))
			return perr_tok(p, t,
					"Unexpected '{' - a block must open on "
					"the line of its directive");
		if (is_word(t, "import")) {
			rc = do_import(p);
			if (rc < 0)
				return rc;
			continue;
		}
		rc = parse_dir(p, out, depth);
		if (rc < 0)
			return rc;
	}
}

/* `(name) { tokens }`: remember the tokens. */
static int parse_snippet(struct parser *p, const struct tok *keytok,
			 const char *key)
{
	struct snippet sn = {0};
	const struct tok *t;
	int nest = 1;
	size_t nlen = strlen(key) - 2;
	int rc;

	if (p->pos >= p->toks.n)
		return eof_err(p);
	t = &p->toks.v[p->pos];
	if (!is_word(t, "{"))
		return perr_tok(p, t,
				"Syntax error: Unexpected token '%s', "
				"expecting '{'",
				t->text);
	p->pos++;
	sn.name = strndup(key + 1, nlen);
	if (!sn.name)
		return perr_nomem(p);
	if (snippet_find(p, sn.name)) {
		rc = perr_tok(p, keytok,
			      "redeclaration of previously declared snippet %s",
			      sn.name);
		goto fail;
	}
	for (;;) {
		if (p->pos >= p->toks.n) {
			rc = eof_err(p);
			goto fail;
		}
		t = &p->toks.v[p->pos++];
		if (is_word(t, "{"))
			nest++;
		else if (is_word(t, "}") && --nest == 0)
			break;
		rc = toks_push(&sn.toks, t);
		if (rc < 0) {
			rc = perr_nomem(p);
			goto fail;
		}
	}
	{
		struct snippet *ns =
		    realloc(p->snippets, (p->nsnippets + 1) * sizeof(*ns));

		if (!ns) {
			rc = perr_nomem(p);
			goto fail;
		}
		p->snippets = ns;
	}
	p->snippets[p->nsnippets++] = sn;
	return 0;
fail:
	free(sn.name);
	free(sn.toks.v);
	return rc;
}

/* Split a key token at commas into b's keys; *more tells whether it ended
 * with a comma (another key must follow). */
static int add_keys(struct parser *p, struct corefile_block *b, size_t *cap,
		    const char *text, bool *more)
{
	const char *s = text;

	*more = false;
	while (*s) {
		const char *c = strchr(s, ',');
		size_t len = c ? (size_t)(c - s) : strlen(s);

		if (len) {
			if (grow((void **)&b->keys, cap, b->nkeys + 1,
				 sizeof(char *)) < 0)
				return perr_nomem(p);
			b->keys[b->nkeys] = strndup(s, len);
			if (!b->keys[b->nkeys])
				return perr_nomem(p);
			b->nkeys++;
		}
		if (!c)
			break;
		s = c + 1;
		*more = *s == '\0';
	}
	return 0;
}

/* One server block (or snippet definition) starting at p->pos.  *is_block
 * tells whether b was filled. */
static int parse_block(struct parser *p, struct corefile_block *b,
		       bool *is_block)
{
	const struct tok *first = NULL;
	size_t kcap = 0;
	bool more = false;
	struct dirs dirs = {0};
	int rc;

	*is_block = false;
	memset(b, 0, sizeof(*b));
	for (;;) {
		const struct tok *t;
		char *text;

		if (p->pos >= p->toks.n) {
			if (more) {
				rc = eof_err(p);
				goto fail;
			}
			break;
		}
		t = &p->toks.v[p->pos];
		if (!first && !more && is_word(t, "import")) {
			rc = do_import(p);
			if (rc < 0)
				goto fail;
			continue;
		}
		if (first && !more && new_line(p, p->pos))
			break;
		if (is_word(t, "{")) {
			if (more) {
				rc = perr_tok(p, t,
					      "Expected another address but "
					      "had '{' - check for extra "
					      "comma");
				goto fail;
			}
			break;
		}
		if (is_word(t, "}")) {
			rc = perr_tok(p, t,
				      "Unexpected '}' because no matching "
				      "opening brace");
			goto fail;
		}
		if (!first)
			first = t;
		text = env_subst(p, t);
		if (!text) {
			rc = p->rc;
			goto fail;
		}
		rc = add_keys(p, b, &kcap, text, &more);
		free(text);
		if (rc < 0)
			goto fail;
		p->pos++;
	}
	if (!first) {
		if (p->pos >= p->toks.n)
			return 0; /* only imports that brought nothing */
		rc = perr_tok(p, &p->toks.v[p->pos],
			      "Unexpected '{' - missing server block key");
		goto fail;
	}
	if (b->nkeys == 0) {
		rc = perr_tok(p, first, "Empty server block key");
		goto fail;
	}
	if (b->nkeys == 1 && b->keys[0][0] == '(' && strlen(b->keys[0]) > 2 &&
	    b->keys[0][strlen(b->keys[0]) - 1] == ')') {
		rc = parse_snippet(p, first, b->keys[0]);
		block_free(b);
		memset(b, 0, sizeof(*b));
		return rc;
	}
	b->file = strdup(first->file);
	b->line = first->line;
	if (!b->file) {
		rc = perr_nomem(p);
		goto fail;
	}
	if (p->pos < p->toks.n && is_word(&p->toks.v[p->pos], "{")) {
		p->pos++;
		rc = parse_dirs(p, &dirs, 0, true);
	} else {
		/* a lone block may go without braces: up to the end */
		rc = parse_dirs(p, &dirs, 0, false);
	}
	b->dirs = dirs.v;
	b->ndirs = dirs.n;
	if (rc < 0)
		goto fail;
	*is_block = true;
	return 0;
fail:
	block_free(b);
	memset(b, 0, sizeof(*b));
	return rc;
}

static void parser_free(struct parser *p)
{
	free(p->toks.v);
	for (size_t i = 0; i < p->nsnippets; i++) {
		free(p->snippets[i].name);
		free(p->snippets[i].toks.v);
	}
	free(p->snippets);
	for (size_t i = 0; i < p->pool.n; i++)
		free(p->pool.v[i]);
	free(p->pool.v);
	while (p->origins) {
		struct origin *o = p->origins;

		p->origins = o->next_alloc;
		free(o->key);
		free(o->name);
		free(o);
	}
}

static int parse(struct parser *p, const char *name, const char *key,
		 const char *text, size_t len, struct corefile **out)
{
	struct corefile *cf = NULL;
	struct origin *root;
	const char *file;
	size_t bcap = 0;
	int rc;

	file = pool_add(p, strdup(name));
	root = origin_new(p, ORIGIN_FILE, key, name, NULL);
	cf = calloc(1, sizeof(*cf));
	if (!file || !root || !cf) {
		rc = perr_nomem(p);
		goto fail;
	}
	rc = lex(p, file, text, len, root, &p->toks);
	if (rc < 0)
		goto fail;
	while (p->pos < p->toks.n) {
		struct corefile_block b;
		bool is_block;

		rc = parse_block(p, &b, &is_block);
		if (rc < 0)
			goto fail;
		if (!is_block)
			continue;
		if (grow((void **)&cf->blocks, &bcap, cf->nblocks + 1,
			 sizeof(*cf->blocks)) < 0) {
			block_free(&b);
			rc = perr_nomem(p);
			goto fail;
		}
		cf->blocks[cf->nblocks++] = b;
	}
	*out = cf;
	return 0;
fail:
	corefile_free(cf);
	return rc;
}

int corefile_parse_text(const char *name, const char *text, size_t len,
			struct corefile **out, char *err, size_t errlen)
{
	struct parser p = {.err = err, .errlen = errlen};
	char *real;
	int rc;

	if (err && errlen)
		err[0] = '\0';
	/* the file's real path, when it exists, finds cycles through it */
	real = realpath(name, NULL);
	rc = parse(&p, name, real ? real : name, text, len, out);
	free(real);
	parser_free(&p);
	return rc;
}

int corefile_parse_file(const char *path, struct corefile **out, char *err,
			size_t errlen)
{
	char *text = NULL;
	size_t len;
	struct stat st;
	int rc;

	if (err && errlen)
		err[0] = '\0';
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		if (err && errlen)
			snprintf(err, errlen, "%s: is a directory", path);
		return -EISDIR;
	}
	rc = read_whole(path, &text, &len);
	if (rc < 0) {
		if (err && errlen)
			snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		return rc;
	}
	rc = corefile_parse_text(path, text, len, out, err, errlen);
	free(text);
	return rc;
}

void corefile_free(struct corefile *cf)
{
	if (!cf)
		return;
	for (size_t i = 0; i < cf->nblocks; i++)
		block_free(&cf->blocks[i]);
	free(cf->blocks);
	free(cf);
}
