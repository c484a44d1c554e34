/*
 * test_corefile.c -- the Corefile syntax: blocks, keys, directives and
 * sub-blocks, comments, quotes, environment substitution, snippets, file
 * imports and import cycles, and every error with its file and line.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "server/corefile.h"

#ifndef TEST_SRCDIR
#define TEST_SRCDIR "tests"
#endif

static char err[1024];

static struct corefile *parse_ok(const char *text)
{
	struct corefile *cf = NULL;
	int rc = corefile_parse_text("Corefile", text, strlen(text), &cf, err,
				     sizeof(err));

	if (rc != 0)
		print_error("unexpected error: %s\n", err);
	assert_int_equal(rc, 0);
	assert_non_null(cf);
	return cf;
}

/* Parsing fails with -EINVAL and exactly the message want. */
static void parse_fails(const char *text, const char *want)
{
	struct corefile *cf = NULL;
	int rc = corefile_parse_text("Corefile", text, strlen(text), &cf, err,
				     sizeof(err));

	assert_int_equal(rc, -EINVAL);
	assert_null(cf);
	assert_string_equal(err, want);
}

static void assert_args(const struct corefile_dir *d, size_t n, ...)
{
	va_list ap;

	assert_int_equal(d->nargs, n);
	va_start(ap, n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(d->args[i], va_arg(ap, const char *));
	va_end(ap);
}

/* ------------------------------------------------------------------ */
/* temporary directories for imports */

static char tmpdir[512];

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int tmp_setup(void **state)
{
	const char *base = getenv("TMPDIR");

	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "%s/corefile-test-XXXXXX",
		 base && *base ? base : "/tmp");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int tmp_teardown(void **state)
{
	(void)state;
	return nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Write name (relative to tmpdir, directories made) with text. */
static void put(const char *name, const char *text)
{
	char path[1024];
	char *slash;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	for (slash = strchr(path + strlen(tmpdir) + 1, '/'); slash;
	     slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		mkdir(path, 0755);
		*slash = '/';
	}
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* Make the directory tmpdir/name. */
static void mkd(const char *name)
{
	char path[1024];

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	assert_int_equal(mkdir(path, 0755), 0);
}

/* Parse tmpdir/name, run from tmpdir so file names in messages are the
 * short relative ones. */
static int parse_tmp(const char *name, struct corefile **cf)
{
	char cwd[1024];
	int rc;

	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(tmpdir), 0);
	rc = corefile_parse_file(name, cf, err, sizeof(err));
	assert_int_equal(chdir(cwd), 0);
	return rc;
}

/* ------------------------------------------------------------------ */
/* blocks, keys, directives */

static void test_example(void **state)
{
	char path[512];
	struct corefile *cf = NULL;
	const struct corefile_block *b;
	const struct corefile_dir *k;

	(void)state;
	snprintf(path, sizeof(path), "%s/fixtures/corefile/example.Corefile",
		 TEST_SRCDIR);
	assert_int_equal(corefile_parse_file(path, &cf, err, sizeof(err)), 0);
	assert_int_equal(cf->nblocks, 1);
	b = &cf->blocks[0];
	assert_int_equal(b->nkeys, 1);
	assert_string_equal(b->keys[0], ".:1053");
	assert_string_equal(b->file, path);
	assert_int_equal(b->line, 1);
	assert_int_equal(b->ndirs, 2);
	assert_string_equal(b->dirs[0].name, "bind");
	assert_args(&b->dirs[0], 1, "127.0.0.1");
	assert_int_equal(b->dirs[0].line, 2);
	assert_null(b->dirs[0].sub);
	k = &b->dirs[1];
	assert_string_equal(k->name, "kubernetes");
	assert_int_equal(k->line, 3);
	assert_args(k, 3, "cluster.local", "in-addr.arpa", "ip6.arpa");
	assert_int_equal(k->nsub, 3);
	assert_string_equal(k->sub[0].name, "objects");
	assert_args(&k->sub[0], 1, "tools/examples/cluster");
	assert_int_equal(k->sub[0].line, 4);
	assert_string_equal(k->sub[1].name, "pods");
	assert_args(&k->sub[1], 1, "verified");
	assert_string_equal(k->sub[2].name, "ttl");
	assert_args(&k->sub[2], 1, "30");
	assert_int_equal(k->sub[2].line, 6);
	assert_string_equal(k->sub[2].file, path);
	corefile_free(cf);
}

static void test_kubeadm(void **state)
{
	char path[512];
	struct corefile *cf = NULL;
	const struct corefile_block *b;

	(void)state;
	snprintf(path, sizeof(path), "%s/fixtures/corefile/kubeadm.Corefile",
		 TEST_SRCDIR);
	assert_int_equal(corefile_parse_file(path, &cf, err, sizeof(err)), 0);
	assert_int_equal(cf->nblocks, 1);
	b = &cf->blocks[0];
	assert_int_equal(b->ndirs, 10);
	assert_string_equal(b->dirs[1].name, "health");
	assert_int_equal(b->dirs[1].nsub, 1);
	assert_string_equal(b->dirs[1].sub[0].name, "lameduck");
	assert_args(&b->dirs[1].sub[0], 1, "5s");
	assert_string_equal(b->dirs[3].name, "kubernetes");
	assert_args(&b->dirs[3].sub[1], 2, "in-addr.arpa", "ip6.arpa");
	assert_string_equal(b->dirs[4].name, "prometheus");
	assert_args(&b->dirs[4], 1, ":9153");
	assert_string_equal(b->dirs[5].name, "forward");
	assert_args(&b->dirs[5], 2, ".", "/etc/resolv.conf");
	assert_int_equal(b->dirs[5].sub[0].line, 14);
	assert_string_equal(b->dirs[9].name, "loadbalance");
	assert_int_equal(b->dirs[9].line, 22);
	corefile_free(cf);
}

static void test_several_blocks(void **state)
{
	struct corefile *cf = parse_ok("example.org {\n"
				       "    whoami\n"
				       "}\n"
				       "\n"
				       "cluster.local:1053 {\n"
				       "    errors\n"
				       "    log\n"
				       "}\n"
				       ". { errors }\n");

	(void)state;
	assert_int_equal(cf->nblocks, 3);
	assert_string_equal(cf->blocks[0].keys[0], "example.org");
	assert_int_equal(cf->blocks[0].ndirs, 1);
	assert_string_equal(cf->blocks[1].keys[0], "cluster.local:1053");
	assert_int_equal(cf->blocks[1].line, 5);
	assert_int_equal(cf->blocks[1].ndirs, 2);
	assert_int_equal(cf->blocks[1].dirs[1].line, 7);
	assert_string_equal(cf->blocks[2].keys[0], ".");
	assert_int_equal(cf->blocks[2].ndirs, 1);
	assert_string_equal(cf->blocks[2].dirs[0].name, "errors");
	assert_int_equal(cf->blocks[2].dirs[0].nargs, 0);
	corefile_free(cf);
}

static void test_keys(void **state)
{
	struct corefile *cf = parse_ok("a.org b.org,c.org, \n"
				       "  d.org,\n"
				       "  e.org\n"
				       "{\n"
				       "  errors\n"
				       "}\n");

	(void)state;
	assert_int_equal(cf->nblocks, 1);
	assert_int_equal(cf->blocks[0].nkeys, 5);
	assert_string_equal(cf->blocks[0].keys[0], "a.org");
	assert_string_equal(cf->blocks[0].keys[1], "b.org");
	assert_string_equal(cf->blocks[0].keys[2], "c.org");
	assert_string_equal(cf->blocks[0].keys[3], "d.org");
	assert_string_equal(cf->blocks[0].keys[4], "e.org");
	assert_int_equal(cf->blocks[0].ndirs, 1);
	corefile_free(cf);
}

static void test_no_braces(void **state)
{
	struct corefile *cf = parse_ok("example.org:1053\n"
				       "errors\n"
				       "log . {combined}\n");

	(void)state;
	assert_int_equal(cf->nblocks, 1);
	assert_string_equal(cf->blocks[0].keys[0], "example.org:1053");
	assert_int_equal(cf->blocks[0].ndirs, 2);
	assert_string_equal(cf->blocks[0].dirs[1].name, "log");
	assert_args(&cf->blocks[0].dirs[1], 2, ".", "{combined}");
	assert_int_equal(cf->blocks[0].dirs[1].line, 3);
	corefile_free(cf);

	/* only keys, nothing else */
	cf = parse_ok("example.org\n");
	assert_int_equal(cf->nblocks, 1);
	assert_int_equal(cf->blocks[0].ndirs, 0);
	corefile_free(cf);
}

static void test_empty(void **state)
{
	struct corefile *cf = parse_ok("");

	(void)state;
	assert_int_equal(cf->nblocks, 0);
	corefile_free(cf);
	cf = parse_ok("# nothing but a comment\n\n   \n");
	assert_int_equal(cf->nblocks, 0);
	corefile_free(cf);
	cf = parse_ok(". {\n}\n");
	assert_int_equal(cf->nblocks, 1);
	assert_int_equal(cf->blocks[0].ndirs, 0);
	corefile_free(cf);
}

static void test_sub_blocks(void **state)
{
	struct corefile *cf = parse_ok(". {\n"
				       "  log {\n"
				       "    class denial error\n"
				       "  }\n"
				       "  log { class success }\n"
				       "  bind {\n"
				       "    lo\n"
				       "    except 127.0.0.1 ::1\n"
				       "  }\n"
				       "  outer arg {\n"
				       "    inner x y {\n"
				       "      deepest 1\n"
				       "    }\n"
				       "    after\n"
				       "  }\n"
				       "  empty {}\n"
				       "}\n");
	const struct corefile_block *b;

	(void)state;
	b = &cf->blocks[0];
	assert_int_equal(b->ndirs, 5);
	assert_int_equal(b->dirs[0].nsub, 1);
	assert_string_equal(b->dirs[0].sub[0].name, "class");
	assert_args(&b->dirs[0].sub[0], 2, "denial", "error");
	assert_int_equal(b->dirs[0].sub[0].line, 3);
	assert_int_equal(b->dirs[1].nsub, 1);
	assert_args(&b->dirs[1].sub[0], 1, "success");
	assert_int_equal(b->dirs[1].sub[0].line, 5);
	assert_int_equal(b->dirs[2].nsub, 2);
	assert_string_equal(b->dirs[2].sub[0].name, "lo");
	assert_int_equal(b->dirs[2].sub[0].nargs, 0);
	assert_args(&b->dirs[2].sub[1], 2, "127.0.0.1", "::1");
	assert_args(&b->dirs[3], 1, "arg");
	assert_int_equal(b->dirs[3].nsub, 2);
	assert_args(&b->dirs[3].sub[0], 2, "x", "y");
	assert_int_equal(b->dirs[3].sub[0].nsub, 1);
	assert_string_equal(b->dirs[3].sub[0].sub[0].name, "deepest");
	assert_args(&b->dirs[3].sub[0].sub[0], 1, "1");
	assert_int_equal(b->dirs[3].sub[0].sub[0].line, 12);
	assert_string_equal(b->dirs[3].sub[1].name, "after");
	assert_int_equal(b->dirs[3].sub[1].line, 14);
	assert_string_equal(b->dirs[4].name, "empty");
	assert_int_equal(b->dirs[4].nsub, 0);
	corefile_free(cf);
}

/* ------------------------------------------------------------------ */
/* lexer */

static void test_comments(void **state)
{
	struct corefile *cf = parse_ok("# leading comment\n"
				       ". { # after the brace\n"
				       "  # a whole line\n"
				       "  log foo#bar baz\n"
				       "  errors# glued\n"
				       "  x \"#not a comment\" y # z\n"
				       "}\n");
	const struct corefile_block *b = &cf->blocks[0];

	(void)state;
	assert_int_equal(b->line, 2);
	assert_int_equal(b->ndirs, 3);
	assert_args(&b->dirs[0], 1, "foo");
	assert_int_equal(b->dirs[0].line, 4);
	assert_string_equal(b->dirs[1].name, "errors");
	assert_int_equal(b->dirs[1].nargs, 0);
	assert_args(&b->dirs[2], 2, "#not a comment", "y");
	corefile_free(cf);
}

static void test_quotes(void **state)
{
	struct corefile *cf = parse_ok(". {\n"
				       "  a \"two words\" \"\" \"q\\\"uote\" "
				       "\"back\\slash\" \"\\\\n\"\n"
				       "  b \"{\" \"}\" \"import\"\n"
				       "  c \"multi\n"
				       "line\" same-line\n"
				       "  d\n"
				       "  \"quoted name\" arg\n"
				       "}\n");
	const struct corefile_block *b = &cf->blocks[0];

	(void)state;
	assert_int_equal(b->ndirs, 5);
	assert_args(&b->dirs[0], 5, "two words", "", "q\"uote", "back\\slash",
		    "\\\\n");
	/* quoted braces and import are plain words */
	assert_args(&b->dirs[1], 3, "{", "}", "import");
	/* a quoted token across lines continues its line */
	assert_args(&b->dirs[2], 2, "multi\nline", "same-line");
	assert_int_equal(b->dirs[2].line, 4);
	assert_string_equal(b->dirs[3].name, "d");
	assert_int_equal(b->dirs[3].line, 6);
	assert_int_equal(b->dirs[3].nargs, 0);
	assert_string_equal(b->dirs[4].name, "quoted name");
	assert_int_equal(b->dirs[4].line, 7);
	corefile_free(cf);
}

static void test_crlf_and_tabs(void **state)
{
	struct corefile *cf =
	    parse_ok(".:53 {\r\n\terrors\r\n\tlog\t.\r\n}\r\n");

	(void)state;
	assert_int_equal(cf->blocks[0].ndirs, 2);
	assert_string_equal(cf->blocks[0].dirs[0].name, "errors");
	assert_int_equal(cf->blocks[0].dirs[0].nargs, 0);
	assert_args(&cf->blocks[0].dirs[1], 1, ".");
	assert_int_equal(cf->blocks[0].dirs[1].line, 3);
	corefile_free(cf);
}

/* ------------------------------------------------------------------ */
/* environment */

static void test_env(void **state)
{
	struct corefile *cf;
	const struct corefile_block *b;

	(void)state;
	setenv("CF_ZONE", "cluster.local", 1);
	setenv("CF_PORT", "1053", 1);
	setenv("CF_TTL", "30", 1);
	setenv("CF_WIN", "win", 1);
	unsetenv("CF_UNSET");
	cf = parse_ok("{$CF_ZONE}:{$CF_PORT} {%CF_WIN%}.org {\n"
		      "  ttl {$CF_TTL}\n"
		      "  x pre{$CF_TTL}post a{%CF_WIN%}b \"q {$CF_ZONE}\"\n"
		      "  y [{$CF_UNSET}] {$} {%CF_WIN} {$CF_TTL\n"
		      "}\n");
	b = &cf->blocks[0];
	assert_int_equal(b->nkeys, 2);
	assert_string_equal(b->keys[0], "cluster.local:1053");
	assert_string_equal(b->keys[1], "win.org");
	assert_args(&b->dirs[0], 1, "30");
	assert_args(&b->dirs[1], 3, "pre30post", "awinb", "q cluster.local");
	/* unset: empty; incomplete references stay as written */
	assert_args(&b->dirs[2], 4, "[]", "{$}", "{%CF_WIN}", "{$CF_TTL");
	corefile_free(cf);

	/* a value may hold another reference, as in CoreDNS */
	setenv("CF_OUTER", "{$CF_TTL}0", 1);
	cf = parse_ok(". {\n  ttl {$CF_OUTER}\n}\n");
	assert_args(&cf->blocks[0].dirs[0], 1, "300");
	corefile_free(cf);

	/* a value that refers to itself never ends: an error */
	setenv("CF_LOOP", "x{$CF_LOOP}", 1);
	parse_fails(". {\n  ttl {$CF_LOOP}\n}\n",
		    "Corefile:2 - Error during parsing: Environment "
		    "substitution in '{$CF_LOOP}' does not terminate");
	unsetenv("CF_LOOP");
	unsetenv("CF_OUTER");
}

/* ------------------------------------------------------------------ */
/* snippets */

static void test_snippets(void **state)
{
	struct corefile *cf = parse_ok("(common) {\n"
				       "  errors\n"
				       "  log . {\n"
				       "    class denial\n"
				       "  }\n"
				       "}\n"
				       "(empty) {\n"
				       "}\n"
				       "a.org {\n"
				       "  import common\n"
				       "  whoami\n"
				       "  import empty\n"
				       "}\n"
				       "b.org {\n"
				       "  whoami\n"
				       "  import common\n"
				       "  sub {\n"
				       "    import empty\n"
				       "    x\n"
				       "  }\n"
				       "}\n");
	const struct corefile_block *a, *b;

	(void)state;
	assert_int_equal(cf->nblocks, 2);
	a = &cf->blocks[0];
	b = &cf->blocks[1];
	assert_int_equal(a->line, 9);
	assert_int_equal(a->ndirs, 3);
	assert_string_equal(a->dirs[0].name, "errors");
	/* directives keep where they were written */
	assert_int_equal(a->dirs[0].line, 2);
	assert_string_equal(a->dirs[1].name, "log");
	assert_int_equal(a->dirs[1].nsub, 1);
	assert_int_equal(a->dirs[1].sub[0].line, 4);
	assert_string_equal(a->dirs[2].name, "whoami");
	assert_int_equal(a->dirs[2].line, 11);
	assert_int_equal(b->ndirs, 4);
	assert_string_equal(b->dirs[0].name, "whoami");
	assert_string_equal(b->dirs[1].name, "errors");
	assert_string_equal(b->dirs[2].name, "log");
	assert_string_equal(b->dirs[3].name, "sub");
	assert_int_equal(b->dirs[3].nsub, 1);
	assert_string_equal(b->dirs[3].sub[0].name, "x");
	corefile_free(cf);
}

static void test_snippet_whole_blocks(void **state)
{
	/* a snippet may hold whole server blocks, imported at the top */
	struct corefile *cf = parse_ok("(servers) {\n"
				       "  a.org {\n"
				       "    errors\n"
				       "  }\n"
				       "}\n"
				       "import servers\n"
				       "b.org {\n"
				       "  log\n"
				       "}\n");

	(void)state;
	assert_int_equal(cf->nblocks, 2);
	assert_string_equal(cf->blocks[0].keys[0], "a.org");
	assert_int_equal(cf->blocks[0].line, 2);
	assert_string_equal(cf->blocks[1].keys[0], "b.org");
	corefile_free(cf);
}

static void test_snippet_errors(void **state)
{
	(void)state;
	parse_fails("(s) {\n  errors\n}\n(s) {\n  log\n}\n",
		    "Corefile:4 - Error during parsing: redeclaration of "
		    "previously declared snippet s");
	parse_fails("(s)\nerrors\n",
		    "Corefile:2 - Error during parsing: Syntax error: "
		    "Unexpected token 'errors', expecting '{'");
	parse_fails("(s) {\n  errors\n",
		    "Corefile:2 - Error during parsing: Unexpected EOF");
	/* a snippet is known only after its definition */
	parse_fails(". {\n  import later\n}\n(later) {\n  errors\n}\n",
		    "Corefile:2 - Error during parsing: File to import not "
		    "found: later");
	parse_fails("(s) {\n  errors\n  import s\n}\n. {\n  import s\n}\n",
		    "Corefile:3 - Error during parsing: Import cycle "
		    "detected: Corefile -> (s) -> (s)");
	parse_fails("(a) {\n  import b\n}\n(b) {\n  log\n  import a\n}\n"
		    ". {\n  import a\n}\n",
		    "Corefile:6 - Error during parsing: Import cycle "
		    "detected: Corefile -> (a) -> (b) -> (a)");
}

/* ------------------------------------------------------------------ */
/* file imports */

static void test_import_files(void **state)
{
	struct corefile *cf = NULL;
	const struct corefile_block *b;

	(void)state;
	put("Corefile", "import servers/*.server\n"
			". {\n"
			"  import conf.d/*.conf\n"
			"  import single.conf\n"
			"  import nothing/*.conf\n"
			"  last\n"
			"}\n");
	put("conf.d/b.conf", "from_b\n");
	put("conf.d/a.conf", "# a\nfrom_a 1\nimport sub/nested.conf\n");
	put("conf.d/sub/nested.conf", "\n\nnested x {\n  y\n}\n");
	put("single.conf", "single\n");
	put("servers/x.server", "x.org {\n  errors\n}\n");
	mkd("nothing");

	assert_int_equal(parse_tmp("Corefile", &cf), 0);
	assert_int_equal(cf->nblocks, 2);
	assert_string_equal(cf->blocks[0].keys[0], "x.org");
	assert_string_equal(cf->blocks[0].file, "servers/x.server");
	assert_int_equal(cf->blocks[0].line, 1);
	b = &cf->blocks[1];
	assert_string_equal(b->file, "Corefile");
	assert_int_equal(b->ndirs, 5);
	/* glob matches in name order, each with its own file and line */
	assert_string_equal(b->dirs[0].name, "from_a");
	assert_string_equal(b->dirs[0].file, "conf.d/a.conf");
	assert_int_equal(b->dirs[0].line, 2);
	/* nested imports are relative to the importing file */
	assert_string_equal(b->dirs[1].name, "nested");
	assert_string_equal(b->dirs[1].file, "conf.d/sub/nested.conf");
	assert_int_equal(b->dirs[1].line, 3);
	assert_int_equal(b->dirs[1].nsub, 1);
	assert_string_equal(b->dirs[2].name, "from_b");
	assert_string_equal(b->dirs[2].file, "conf.d/b.conf");
	assert_string_equal(b->dirs[3].name, "single");
	assert_string_equal(b->dirs[4].name, "last");
	assert_string_equal(b->dirs[4].file, "Corefile");
	assert_int_equal(b->dirs[4].line, 6);
	corefile_free(cf);
}

static void test_import_relative_to_corefile(void **state)
{
	char path[1024];
	struct corefile *cf = NULL;

	(void)state;
	/* imports follow the Corefile's directory, not the working one */
	put("etc/Corefile", ". {\n  import extra.conf\n}\n");
	put("etc/extra.conf", "errors\n");
	snprintf(path, sizeof(path), "%s/etc/Corefile", tmpdir);
	assert_int_equal(corefile_parse_file(path, &cf, err, sizeof(err)), 0);
	assert_int_equal(cf->blocks[0].ndirs, 1);
	assert_string_equal(cf->blocks[0].dirs[0].name, "errors");
	snprintf(path, sizeof(path), "%s/etc/extra.conf", tmpdir);
	assert_string_equal(cf->blocks[0].dirs[0].file, path);
	corefile_free(cf);
}

static void test_import_errors(void **state)
{
	struct corefile *cf = NULL;

	(void)state;
	put("missing", ". {\n  errors\n  import nope.conf\n}\n");
	assert_int_equal(parse_tmp("missing", &cf), -EINVAL);
	assert_string_equal(err, "missing:3 - Error during parsing: File to "
				 "import not found: nope.conf");

	mkd("adir");
	put("dir", ". {\n  import adir\n}\n");
	assert_int_equal(parse_tmp("dir", &cf), -EINVAL);
	assert_string_equal(err, "dir:2 - Error during parsing: Could not "
				 "import adir: is a directory");

	put("noarg", ". {\n  import\n  errors\n}\n");
	assert_int_equal(parse_tmp("noarg", &cf), -EINVAL);
	assert_string_equal(err, "noarg:2 - Error during parsing: Wrong "
				 "argument count or unexpected line ending "
				 "after 'import'");

	put("twoargs", ". {\n  import a b\n}\n");
	assert_int_equal(parse_tmp("twoargs", &cf), -EINVAL);
	assert_string_equal(err, "twoargs:2 - Error during parsing: Import "
				 "takes only one argument (glob pattern or "
				 "file)");

	put("emptyarg", ". {\n  import \"\"\n}\n");
	assert_int_equal(parse_tmp("emptyarg", &cf), -EINVAL);
	assert_string_equal(err, "emptyarg:2 - Error during parsing: Import "
				 "requires a non-empty filepath");

	put("stars", ". {\n  import */*.conf\n}\n");
	assert_int_equal(parse_tmp("stars", &cf), -EINVAL);
	assert_string_equal(err, "stars:2 - Error during parsing: Glob "
				 "pattern may only contain one wildcard (*), "
				 "but has others: */*.conf");

	/* an error inside an imported file names that file */
	put("inner", ". {\n  import bad/inner.conf\n}\n");
	put("bad/inner.conf", "ok\nbroken {\n");
	assert_int_equal(parse_tmp("inner", &cf), -EINVAL);
	assert_string_equal(err, "bad/inner.conf:2 - Error during parsing: "
				 "Unexpected EOF");
	assert_null(cf);

	put("extra", ". {\n  import bad/extra.conf\n}\n");
	put("bad/extra.conf", "ok\n}\n");
	assert_int_equal(parse_tmp("extra", &cf), -EINVAL);
	assert_string_equal(err, "bad/extra.conf:2 - Error during parsing: "
				 "Unexpected '}' because no matching opening "
				 "brace");
}

static void test_import_cycles(void **state)
{
	struct corefile *cf = NULL;

	(void)state;
	put("self", ". {\n  errors\n  import self\n}\n");
	assert_int_equal(parse_tmp("self", &cf), -EINVAL);
	assert_string_equal(err, "self:3 - Error during parsing: Import "
				 "cycle detected: self -> self");

	put("top", ". {\n  import c/a.conf\n}\n");
	put("c/a.conf", "log\nimport b.conf\n");
	put("c/b.conf", "errors\n\nimport a.conf\n");
	assert_int_equal(parse_tmp("top", &cf), -EINVAL);
	assert_string_equal(err, "c/b.conf:3 - Error during parsing: Import "
				 "cycle detected: top -> c/a.conf -> c/b.conf "
				 "-> c/a.conf");

	/* through a snippet defined in another file */
	put("snip", "import snip.def\n. {\n  import s\n}\n");
	put("snip.def", "(s) {\n  import snip.body\n}\n");
	put("snip.body", "errors\nimport s\n");
	assert_int_equal(parse_tmp("snip", &cf), -EINVAL);
	assert_string_equal(err, "snip.body:2 - Error during parsing: Import "
				 "cycle detected: snip -> (s) -> snip.body -> "
				 "(s)");

	/* the same file twice side by side is no cycle */
	put("twice", ". {\n  import one.conf\n  import one.conf\n}\n");
	put("one.conf", "errors\n");
	assert_int_equal(parse_tmp("twice", &cf), 0);
	assert_int_equal(cf->blocks[0].ndirs, 2);
	corefile_free(cf);
}

/* ------------------------------------------------------------------ */
/* errors */

static void test_errors(void **state)
{
	(void)state;
	parse_fails(". {\n"
		    "  errors\n"
		    "  kubernetes cluster.local {\n"
		    "    ttl 30\n"
		    "  }\n"
		    "}\n"
		    "}\n",
		    "Corefile:7 - Error during parsing: Unexpected '}' "
		    "because no matching opening brace");
	parse_fails("}\n", "Corefile:1 - Error during parsing: Unexpected '}' "
			   "because no matching opening brace");
	parse_fails("example.org\nerrors\n}\n",
		    "Corefile:3 - Error during parsing: Unexpected '}' "
		    "because no matching opening brace");
	parse_fails(". {\n  errors\n",
		    "Corefile:2 - Error during parsing: Unexpected EOF");
	parse_fails(". {\n  kubernetes {\n    ttl 30\n",
		    "Corefile:3 - Error during parsing: Unexpected EOF");
	parse_fails(". {\n  kubernetes cluster.local\n  {\n  }\n}\n",
		    "Corefile:3 - Error during parsing: Unexpected '{' - a "
		    "block must open on the line of its directive");
	parse_fails("{\n  errors\n}\n",
		    "Corefile:1 - Error during parsing: Unexpected '{' - "
		    "missing server block key");
	parse_fails("a.org, {\n}\n",
		    "Corefile:1 - Error during parsing: Expected another "
		    "address but had '{' - check for extra comma");
	parse_fails("a.org,\n", "Corefile:1 - Error during parsing: "
				"Unexpected EOF");
	parse_fails(". {\n  log \"unterminated\n}\n",
		    "Corefile:2 - Error during parsing: Unterminated quoted "
		    "string");
	parse_fails(". {\n  a {\n  } trailing\n}\n",
		    "Corefile:3 - Error during parsing: Unexpected "
		    "'trailing' after '}'");
	parse_fails(". {\n  a {\n    b {\n      c {\n      }\n    }\n  }\n}\n",
		    "Corefile:4 - Error during parsing: Unexpected '{' - a "
		    "sub-directive's block cannot hold another block");
}

static void test_nul_byte(void **state)
{
	struct corefile *cf = NULL;
	static const char text[] = ". {\n  errors\n  lo\0g\n}\n";

	(void)state;
	assert_int_equal(corefile_parse_text("Corefile", text, sizeof(text) - 1,
					     &cf, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "Corefile:3 - Error during parsing: Invalid "
				 "NUL character");
}

static void test_missing_file(void **state)
{
	struct corefile *cf = NULL;
	char path[1024];

	(void)state;
	snprintf(path, sizeof(path), "%s/no-such-Corefile", tmpdir);
	assert_int_equal(corefile_parse_file(path, &cf, err, sizeof(err)),
			 -ENOENT);
	assert_null(cf);
	assert_non_null(strstr(err, "no-such-Corefile"));
	assert_int_equal(corefile_parse_file(tmpdir, &cf, err, sizeof(err)),
			 -EISDIR);
}

static void test_small_err_buffer(void **state)
{
	struct corefile *cf = NULL;
	char small[16];

	(void)state;
	assert_int_equal(
	    corefile_parse_text("Corefile", "}", 1, &cf, small, sizeof(small)),
	    -EINVAL);
	assert_string_equal(small, "Corefile:1 - Er");
	assert_int_equal(corefile_parse_text("Corefile", "}", 1, &cf, NULL, 0),
			 -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_example),
	    cmocka_unit_test(test_kubeadm),
	    cmocka_unit_test(test_several_blocks),
	    cmocka_unit_test(test_keys),
	    cmocka_unit_test(test_no_braces),
	    cmocka_unit_test(test_empty),
	    cmocka_unit_test(test_sub_blocks),
	    cmocka_unit_test(test_comments),
	    cmocka_unit_test(test_quotes),
	    cmocka_unit_test(test_crlf_and_tabs),
	    cmocka_unit_test(test_env),
	    cmocka_unit_test(test_snippets),
	    cmocka_unit_test(test_snippet_whole_blocks),
	    cmocka_unit_test(test_snippet_errors),
	    cmocka_unit_test_setup_teardown(test_import_files, tmp_setup,
					    tmp_teardown),
	    cmocka_unit_test_setup_teardown(test_import_relative_to_corefile,
					    tmp_setup, tmp_teardown),
	    cmocka_unit_test_setup_teardown(test_import_errors, tmp_setup,
					    tmp_teardown),
	    cmocka_unit_test_setup_teardown(test_import_cycles, tmp_setup,
					    tmp_teardown),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_nul_byte),
	    cmocka_unit_test_setup_teardown(test_missing_file, tmp_setup,
					    tmp_teardown),
	    cmocka_unit_test(test_small_err_buffer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
