/*
 * jarena.c -- a bump arena for cJSON.
 */
#include "zones/jarena.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include <cjson/cJSON.h>

#define CHUNK (1u << 20)

struct chunk {
	struct chunk *next;
	size_t size, used;
	uint8_t data[];
};

static struct chunk *chunks; /* all of them, in order of use */
static struct chunk *cur;    /* the one being filled */
static bool active;

static bool owned(const void *p)
{
	for (const struct chunk *c = chunks; c; c = c->next)
		if ((const uint8_t *)p >= c->data &&
		    (const uint8_t *)p < c->data + c->size)
			return true;
	return false;
}

static void *arena_malloc(size_t n)
{
	if (!active)
		return malloc(n);
	n = (n + 15) & ~(size_t)15;
	/* Fill the chunks in order; past the last one, add another. */
	while (cur && cur->size - cur->used < n && cur->next)
		cur = cur->next;
	if (!cur || cur->size - cur->used < n) {
		size_t size = n > CHUNK ? n : CHUNK;
		struct chunk *c = malloc(sizeof(*c) + size);
		if (!c)
			return NULL;
		c->size = size;
		c->used = 0;
		c->next = NULL;
		if (cur)
			cur->next = c;
		else
			chunks = c;
		cur = c;
	}
	void *p = cur->data + cur->used;
	cur->used += n;
	return p;
}

static void arena_free(void *p)
{
	if (p && !active && !owned(p))
		free(p);
}

void jarena_install(void)
{
	static bool done;
	cJSON_Hooks h = {arena_malloc, arena_free};

	if (!done)
		cJSON_InitHooks(&h);
	done = true;
}

void jarena_begin(void)
{
	for (struct chunk *c = chunks; c; c = c->next)
		c->used = 0;
	cur = chunks;
	active = true;
}

void jarena_end(void)
{
	active = false;
}

void jarena_release(void)
{
	while (chunks) {
		struct chunk *next = chunks->next;
		free(chunks);
		chunks = next;
	}
	cur = NULL;
}

size_t jarena_size(void)
{
	size_t n = 0;

	for (const struct chunk *c = chunks; c; c = c->next)
		n += c->size;
	return n;
}
