/*
 * test_jparse.c -- JSON texts into cJSON trees: the same tree as cJSON's
 * for what is accepted (the fixtures, values of every kind, and mutations
 * of them), the strict cases cJSON lets through refused, where a value
 * ends, nesting, and every tree freed (the sanitizers check that).
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/jsame.h"
#include "zones/jparse.h"

/* buf (len bytes) copied with room after it: cJSON looks past the end
 * for a byte order mark. */
static char *padded(const char *buf, size_t len)
{
	char *p = calloc(1, len + 4);

	assert_non_null(p);
	memcpy(p, buf, len);
	return p;
}

/* jparse and cJSON on the same bytes: when jparse accepts, cJSON gives
 * the same tree ending at the same byte.  Returns whether jparse
 * accepted. */
static bool agree(const char *text, size_t len)
{
	char *buf = padded(text, len);
	const char *end = NULL, *cend = NULL;
	cJSON *a = jparse(buf, len, &end);

	assert_non_null(end);
	assert_true(end >= buf && end <= buf + len);
	if (a) {
		cJSON *b = cJSON_ParseWithLengthOpts(buf, len, &cend, false);
		if (!b || cend != end || !jsame(a, b))
			fail_msg("not cJSON's tree: %.*s", (int)len, text);
		cJSON_Delete(b);
	}
	cJSON_Delete(a);
	free(buf);
	return a != NULL;
}

static bool accepts(const char *text)
{
	return agree(text, strlen(text));
}

static const char *const good[] = {
    "{}",
    "[]",
    " \t\r\n{ } ",
    "0",
    "-0",
    "-0.0",
    "123456789012345",
    "1234567890123456789012",
    "2147483647",
    "2147483648",
    "-2147483649",
    "1e400",
    "-1E-2",
    "3.25e+2",
    "0.1",
    "true",
    "false",
    "null",
    "\"\"",
    "\"plain\"",
    "\"esc \\\" \\\\ \\/ \\b \\f \\n \\r \\t\"",
    "\"\\u00e9 \\u20ac \\ud83d\\ude00 \\u0041\"",
    "\"\xc3\xa9 raw UTF-8\"",
    "{\"a\":[1,2,{\"b\":null}],\"c\":\"d\",\"a\":false}",
    "[[[[]]],{},[{}],\"x\",-1.5]",
    "{\"kind\":\"Service\",\"metadata\":{\"name\":\"web\",\"namespace\":"
    "\"prod\",\"labels\":{\"app\":\"web\"}},\"spec\":{\"type\":"
    "\"ClusterIP\",\"clusterIPs\":[\"10.96.0.10\"],\"ports\":[{\"name\":"
    "\"http\",\"port\":80,\"protocol\":\"TCP\"}]}}",
    NULL,
};

static void test_same_as_cjson(void **state)
{
	(void)state;
	for (size_t i = 0; good[i]; i++)
		if (!accepts(good[i]))
			fail_msg("refused: %s", good[i]);
}

/* What cJSON reads and RFC 8259 does not allow, or a C string cannot
 * hold, and what neither reads. */
static const char *const bad[] = {
    "",
    " ",
    "{",
    "[1,]",
    "{,}",
    "{\"a\"}",
    "{\"a\" 1}",
    "{\"a\":1,}",
    "{1:2}",
    "[1 2]",
    "01",
    "1.",
    ".5",
    "+1",
    "-",
    "1e",
    "1e+",
    "1.5.2",
    "0x10",
    "1234567890123456789012345678901234567890123456789012345678901234",
    "tru",
    "nul",
    "True",
    "\"open",
    "\"ctl \x01\"",
    "\"tab \t\"",
    "\"\\u0000\"",
    "\"\\ud800\"",
    "\"\\ud800x\"",
    "\"\\ud800\\u0041\"",
    "\"\\udc00\"",
    "\"\\u12\"",
    "\"\\q\"",
    "\"\\",
    "\x0b{}",
    "\xef\xbb\xbf{}", /* a byte order mark: the caller's */
    "[\x01]",
    NULL,
};

static void test_strict(void **state)
{
	(void)state;
	for (size_t i = 0; bad[i]; i++) {
		size_t len = strlen(bad[i]);
		cJSON *v = jparse(bad[i], len, NULL);
		if (v)
			fail_msg("accepted: %s", bad[i]);
		agree(bad[i], len);
	}
}

static void test_end(void **state)
{
	const char *text = "{\"a\":[1]} {\"b\":2}", *end = NULL;
	cJSON *v;

	(void)state;
	/* with end: the value, and where it stops */
	v = jparse(text, strlen(text), &end);
	assert_non_null(v);
	assert_ptr_equal(end, text + 9);
	cJSON_Delete(v);
	v = jparse(end, strlen(end), &end);
	assert_non_null(v);
	assert_string_equal(v->child->string, "b");
	assert_ptr_equal(end, text + strlen(text));
	cJSON_Delete(v);
	/* without: only whitespace may follow */
	assert_null(jparse(text, strlen(text), NULL));
	v = jparse("[1] \r\n", 6, NULL);
	assert_non_null(v);
	cJSON_Delete(v);
	/* the bytes given, not the string: a value cut short fails */
	assert_null(jparse("[1]", 2, NULL));
	/* a syntax error: end points at it */
	assert_null(jparse("[1,x]", 5, &end));
	assert_int_equal(*end, 'x');
	/* a number stops where cJSON's would */
	text = "12,";
	v = jparse(text, 3, &end);
	assert_non_null(v);
	assert_int_equal(v->valueint, 12);
	assert_ptr_equal(end, text + 2);
	cJSON_Delete(v);
}

static void test_values(void **state)
{
	cJSON *v;

	(void)state;
	v = jparse("[2147483648,-3000000000,7.9,true]", 33, NULL);
	assert_non_null(v);
	assert_int_equal(cJSON_GetArraySize(v), 4);
	assert_int_equal(cJSON_GetArrayItem(v, 0)->valueint, 2147483647);
	assert_int_equal(cJSON_GetArrayItem(v, 1)->valueint, -2147483647 - 1);
	assert_int_equal(cJSON_GetArrayItem(v, 2)->valueint, 7);
	assert_true(cJSON_IsTrue(cJSON_GetArrayItem(v, 3)));
	cJSON_Delete(v);
	v = jparse("\"\\ud83d\\ude00\\u00e9\"", 20, NULL);
	assert_non_null(v);
	assert_string_equal(v->valuestring, "\xf0\x9f\x98\x80\xc3\xa9");
	cJSON_Delete(v);
	/* keys repeat as they come; cJSON's lookup finds the first */
	v = jparse("{\"a\":1,\"a\":2}", 13, NULL);
	assert_non_null(v);
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(v, "a")->valueint, 1);
	assert_int_equal(cJSON_GetArraySize(v), 2);
	cJSON_Delete(v);
}

/* n arrays, one inside the other. */
static char *nested(size_t n)
{
	char *s = malloc(2 * n + 1);

	assert_non_null(s);
	memset(s, '[', n);
	memset(s + n, ']', n);
	s[2 * n] = 0;
	return s;
}

static void test_depth(void **state)
{
	char *s;

	(void)state;
	s = nested(JPARSE_MAX_DEPTH);
	assert_true(accepts(s));
	free(s);
	s = nested(JPARSE_MAX_DEPTH + 1);
	assert_false(accepts(s));
	free(s);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1)) &&
	    fread(buf, 1, (size_t)n, f) == (size_t)n) {
		*len = (size_t)n;
	} else {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

/* Every byte of text changed in turn to one of a few that matter to a
 * parser (and cut at every length): jparse and cJSON still agree. */
static size_t mutate(const char *text, size_t len)
{
	static const char subst[] = "\"\\{}[],:0-.e \x01u";
	char *m = malloc(len);
	size_t accepted = 0;

	assert_non_null(m);
	for (size_t i = 0; i < len; i++) {
		for (size_t k = 0; k < sizeof(subst) - 1; k++) {
			memcpy(m, text, len);
			m[i] = subst[k];
			accepted += agree(m, len);
		}
		accepted += agree(text, i);
	}
	free(m);
	return accepted;
}

/* The JSON fixtures of the decoder and the API emulator, whole and (the
 * small ones) mutated. */
static void test_fixtures(void **state)
{
	static const char *const dirs[] = {
	    "api",	"apiemu",  "autopath",	   "cluster", "decode",
	    "external", "filesrc", "multicluster", "topology"};
	size_t files = 0, mutated = 0;

	(void)state;
	for (size_t d = 0; d < sizeof(dirs) / sizeof(dirs[0]); d++) {
		char path[1024];
		snprintf(path, sizeof(path), "%s/fixtures/%s", TEST_SRCDIR,
			 dirs[d]);
		DIR *dir = opendir(path);
		if (!dir)
			continue;
		for (struct dirent *de; (de = readdir(dir));) {
			size_t nl = strlen(de->d_name), len;
			if (nl < 5 || strcmp(de->d_name + nl - 5, ".json"))
				continue;
			snprintf(path, sizeof(path), "%s/fixtures/%s/%s",
				 TEST_SRCDIR, dirs[d], de->d_name);
			char *text = slurp(path, &len);
			assert_non_null(text);
			/* no fixture has what only cJSON reads: jparse
			 * accepts what cJSON accepts */
			char *pad = padded(text, len);
			cJSON *c =
			    cJSON_ParseWithLengthOpts(pad, len, NULL, false);
			if (agree(text, len) != (c != NULL))
				fail_msg("%s: cJSON %s it", path,
					 c ? "accepts" : "refuses");
			cJSON_Delete(c);
			free(pad);
			if (len < 2048 && mutated < 20)
				mutated += mutate(text, len) > 0;
			files++;
			free(text);
		}
		closedir(dir);
	}
	assert_true(files > 0);
}

static void test_mutations(void **state)
{
	(void)state;
	/* the good texts, mutated: some mutants are still JSON */
	size_t accepted = 0;
	for (size_t i = 0; good[i]; i++)
		accepted += mutate(good[i], strlen(good[i]));
	assert_true(accepted > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_same_as_cjson),
	    cmocka_unit_test(test_strict),
	    cmocka_unit_test(test_end),
	    cmocka_unit_test(test_values),
	    cmocka_unit_test(test_depth),
	    cmocka_unit_test(test_fixtures),
	    cmocka_unit_test(test_mutations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
