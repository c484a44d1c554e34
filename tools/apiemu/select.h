/*
 * select.h -- label and field selectors, with the grammar the API server
 * accepts.
 *
 * Labels: requirements separated by commas (AND): "k=v", "k==v", "k!=v",
 * "k", "!k", "k in (a,b)", "k notin (a,b)"; "!=" and "notin" also match
 * objects without the key.  Fields: "metadata.name", "metadata.namespace"
 * and, for pods, "status.phase", each with "=", "==" or "!=", commas AND.
 */
#ifndef APIEMU_SELECT_H
#define APIEMU_SELECT_H

#include <stdbool.h>
#include <stddef.h>

#include "tools/apiemu/store.h"

enum emu_sel_op {
	EMU_SEL_EQ = 0,
	EMU_SEL_NE,
	EMU_SEL_IN,
	EMU_SEL_NOTIN,
	EMU_SEL_EXISTS,
	EMU_SEL_NOTEXISTS
};

enum emu_sel_field { EMU_FIELD_NAME = 0, EMU_FIELD_NAMESPACE, EMU_FIELD_PHASE };

struct emu_sel_req {
	enum emu_sel_op op;
	int field; /* field selectors: enum emu_sel_field */
	char *key;
	char **values;
	size_t nvalues;
};

struct emu_sel {
	struct emu_sel_req *reqs;
	size_t n;
};

/* Parse a label selector into sel (empty or NULL text: matches all).
 * Returns 0, or -EINVAL with a message in err; sel is empty on failure. */
int emu_sel_parse_labels(struct emu_sel *sel, const char *text, char *err,
			 size_t errlen);

/* Parse a field selector for resource res; like emu_sel_parse_labels. */
int emu_sel_parse_fields(struct emu_sel *sel, int res, const char *text,
			 char *err, size_t errlen);

/* Whether an object (its key entry and state doc) matches. */
bool emu_sel_match_labels(const struct emu_sel *sel, const struct emu_doc *doc);
bool emu_sel_match_fields(const struct emu_sel *sel, const struct emu_entry *e,
			  const struct emu_doc *doc);

/* Free what sel holds and leave it empty. */
void emu_sel_free(struct emu_sel *sel);

#endif
