/*
 * corefile.h -- the Corefile syntax of CoreDNS, without meaning: server
 * blocks (keys, then directives), directives (name, arguments, an optional
 * { } block of sub-directives), # comments, {$ENV} and {%ENV%} substitution,
 * (snippet) definitions and `import` of snippets and of files (globs).
 *
 * As CoreDNS reads it: a `#` outside quotes starts a comment, even inside
 * a word; inside "..." only \" is an escape (other backslashes stay); a
 * quoted token spanning lines continues its line.  Keys may be split by
 * commas, and a trailing comma continues them on the next line.  A lone
 * server block may omit its braces.  A `{` opens a block only on the line
 * of its directive; a sub-directive may have a block of its own, no
 * deeper.  Quoted braces and a quoted `import` are plain words.  Imports
 * splice tokens: a snippet must be defined before use, files are found
 * relative to the file the import is written in (named in messages by
 * that joined path), an imported file must balance its braces, an empty
 * glob imports nothing, and an import reached again through its own chain
 * is a cycle error.  An empty { } block gives nsub 0, like no block.
 */
#ifndef CLUSTERDNS_COREFILE_H
#define CLUSTERDNS_COREFILE_H

#include <stddef.h>

/* A directive or sub-directive: `name arg...` or `name arg... { ... }`. */
struct corefile_dir {
	char *name;
	char **args;
	size_t nargs;
	struct corefile_dir *sub; /* the { } block's lines; NULL when none */
	size_t nsub;
	char *file; /* where it was written (after imports) */
	int line;
};

/* A server block: `KEY [KEY...] { directives }`. */
struct corefile_block {
	char **keys;
	size_t nkeys;
	struct corefile_dir *dirs;
	size_t ndirs;
	char *file;
	int line;
};

struct corefile {
	struct corefile_block *blocks;
	size_t nblocks;
};

/*
 * Parse the Corefile at path (imports are relative to its directory).
 * Returns 0 with *out set (free with corefile_free), or -EINVAL / -errno
 * with err holding "FILE:LINE - Error during parsing: ..." as CoreDNS words
 * it.
 */
int corefile_parse_file(const char *path, struct corefile **out, char *err,
			size_t errlen);

/* The same for text in memory; name is used in messages and for imports. */
int corefile_parse_text(const char *name, const char *text, size_t len,
			struct corefile **out, char *err, size_t errlen);

void corefile_free(struct corefile *cf);

#endif
