/*
 * jsame.h -- whether two cJSON trees are the same, node for node: what
 * the tests and the fuzz target of zones/jparse.c compare it with cJSON
 * by.
 */
#ifndef CLUSTERDNS_TESTS_JSAME_H
#define CLUSTERDNS_TESTS_JSAME_H

#include <stdbool.h>
#include <string.h>

#include <cjson/cJSON.h>

static bool jsame_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Types, keys, values (numbers to the bit), order, and the prev links
 * cJSON keeps (the first child's is the last child). */
static bool jsame(const cJSON *a, const cJSON *b)
{
	if (a->type != b->type || !jsame_str(a->string, b->string) ||
	    !jsame_str(a->valuestring, b->valuestring) ||
	    a->valueint != b->valueint ||
	    memcmp(&a->valuedouble, &b->valuedouble, sizeof(double)) != 0)
		return false;
	const cJSON *x = a->child, *y = b->child;
	const cJSON *lx = NULL, *ly = NULL;
	while (x && y) {
		if ((lx && x->prev != lx) || (ly && y->prev != ly) ||
		    !jsame(x, y))
			return false;
		lx = x, ly = y;
		x = x->next, y = y->next;
	}
	if (x || y)
		return false;
	return !a->child || (a->child->prev == lx && b->child->prev == ly);
}

#endif
