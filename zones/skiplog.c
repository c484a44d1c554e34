/*
 * skiplog.c -- objects left out of the zone, logged once: an open
 * addressing table of message digests with the round each was last noted
 * in.
 */
#include "zones/skiplog.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SKIPLOG_NAME_MAX 64

struct skent {
	uint64_t digest; /* 0: free slot */
	uint32_t round;
	uint8_t group;
};

struct skiplog {
	void (*log)(void *arg, const char *msg);
	void *arg;
	struct skent *t;
	size_t mask, count;
	uint32_t round[SKIPLOG_GROUPS];
};

static uint64_t digest(unsigned group, const char *msg)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ group;

	for (; *msg; msg++)
		h = (h ^ (uint8_t)*msg) * 0x100000001b3ULL;
	return h ? h : 1;
}

struct skiplog *skiplog_new(void (*log)(void *arg, const char *msg), void *arg)
{
	struct skiplog *sl = calloc(1, sizeof(*sl));

	if (!sl)
		return NULL;
	sl->log = log;
	sl->arg = arg;
	return sl;
}

void skiplog_free(struct skiplog *sl)
{
	if (!sl)
		return;
	free(sl->t);
	free(sl);
}

void skiplog_begin(struct skiplog *sl, unsigned group)
{
	if (sl && group < SKIPLOG_GROUPS)
		sl->round[group]++;
}

/* Put e into t (mask), which has room. */
static void place(struct skent *t, size_t mask, const struct skent *e)
{
	size_t j = e->digest & mask;

	while (t[j].digest)
		j = (j + 1) & mask;
	t[j] = *e;
}

static int rehash(struct skiplog *sl, size_t n)
{
	struct skent *t = calloc(n, sizeof(*t));

	if (!t)
		return -ENOMEM;
	for (size_t i = 0; sl->t && i <= sl->mask; i++)
		if (sl->t[i].digest)
			place(t, n - 1, &sl->t[i]);
	free(sl->t);
	sl->t = t;
	sl->mask = n - 1;
	return 0;
}

size_t skiplog_end(struct skiplog *sl, unsigned group)
{
	size_t gone = 0;

	if (!sl || group >= SKIPLOG_GROUPS || !sl->t)
		return 0;
	for (size_t i = 0; i <= sl->mask; i++) {
		struct skent *e = &sl->t[i];
		if (e->digest && e->group == group &&
		    e->round != sl->round[group]) {
			e->digest = 0;
			gone++;
		}
	}
	sl->count -= gone;
	/* Deleting from open addressing breaks probe chains: place what is
	 * left again (a round's end is rare and the table small). */
	if (gone && rehash(sl, sl->mask + 1) < 0) {
		free(sl->t);
		sl->t = NULL;
		sl->mask = sl->count = 0;
	}
	return gone;
}

/* msg with control characters as '?', for the log. */
static void log_clean(struct skiplog *sl, const char *msg)
{
	char buf[1024];
	size_t i;

	for (i = 0; msg[i] && i + 1 < sizeof(buf); i++) {
		unsigned char c = (unsigned char)msg[i];
		buf[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	buf[i] = '\0';
	if (sl->log)
		sl->log(sl->arg, buf);
}

bool skiplog_note(struct skiplog *sl, unsigned group, const char *msg)
{
	uint64_t d;
	size_t j;

	if (!sl)
		return false;
	if (group >= SKIPLOG_GROUPS)
		group = SKIPLOG_GROUPS - 1;
	d = digest(group, msg);
	for (j = sl->t ? d & sl->mask : 0; sl->t && sl->t[j].digest;
	     j = (j + 1) & sl->mask) {
		if (sl->t[j].digest == d && sl->t[j].group == group) {
			sl->t[j].round = sl->round[group];
			return false;
		}
	}
	if ((!sl->t || (sl->count + 1) * 4 > (sl->mask + 1) * 3) &&
	    rehash(sl, sl->t ? (sl->mask + 1) * 2 : 64) < 0) {
		log_clean(sl, msg);
		return true;
	}
	struct skent e = {d, sl->round[group], (uint8_t)group};
	place(sl->t, sl->mask, &e);
	sl->count++;
	log_clean(sl, msg);
	return true;
}

/* s cut to SKIPLOG_NAME_MAX bytes, "..." marking a cut. */
static const char *cut(const char *s, char *buf)
{
	size_t n = strlen(s);

	if (n <= SKIPLOG_NAME_MAX)
		return s;
	memcpy(buf, s, SKIPLOG_NAME_MAX);
	memcpy(buf + SKIPLOG_NAME_MAX, "...", 4);
	return buf;
}

void skiplog_format(char *buf, size_t len, const char *where,
		    const struct decode_skip *s)
{
	char nb[SKIPLOG_NAME_MAX + 4], sb[SKIPLOG_NAME_MAX + 4],
	    kb[SKIPLOG_NAME_MAX + 4];
	const char *kind = cut(s->kind ? s->kind : "object", kb);

	if (s->ns && s->name)
		snprintf(buf, len,
			 "plugin/kubernetes: %s: left out %s %s/%s: %s", where,
			 kind, cut(s->ns, sb), cut(s->name, nb), s->why);
	else if (s->name)
		snprintf(buf, len, "plugin/kubernetes: %s: left out %s %s: %s",
			 where, kind, cut(s->name, nb), s->why);
	else
		snprintf(buf, len, "plugin/kubernetes: %s: left out %s: %s",
			 where, kind, s->why);
}

size_t skiplog_count(const struct skiplog *sl)
{
	return sl ? sl->count : 0;
}
