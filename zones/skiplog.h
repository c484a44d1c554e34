/*
 * skiplog.h -- objects left out of the zone, logged once.
 *
 * A source that leaves an object out (a name that cannot be a DNS name, a
 * kind DNS does not use, a field that does not decode) says so through a
 * skiplog: the message is logged the first time it is noted, and not again
 * while the same message keeps being noted in the following rounds (reloads
 * of the same files, relists of the same resource).  A message that is not
 * noted again during a round is forgotten at the round's end, so an object
 * that is fixed and later broken again is logged again; a changed object
 * whose message changes is logged at once.
 *
 * Rounds are kept per group (a source's file load, or one API resource).
 * Only 64-bit digests of the messages are kept.  One thread at a time
 * (the control thread, or the thread reading an objects PATH, bgjob.h).
 */
#ifndef CLUSTERDNS_SKIPLOG_H
#define CLUSTERDNS_SKIPLOG_H

#include <stdbool.h>
#include <stddef.h>

#include "zones/decode.h"

#define SKIPLOG_GROUPS 8

struct skiplog;

/* A skiplog that hands each message to log(arg, msg).  Returns NULL on
 * allocation failure. */
struct skiplog *skiplog_new(void (*log)(void *arg, const char *msg), void *arg);
void skiplog_free(struct skiplog *sl);

/* Start a round of group (0 .. SKIPLOG_GROUPS-1): a full load or list. */
void skiplog_begin(struct skiplog *sl, unsigned group);

/* End the round of group: forget the messages not noted since its
 * skiplog_begin.  Returns how many were forgotten. */
size_t skiplog_end(struct skiplog *sl, unsigned group);

/* Note msg in group: logged (with control characters replaced) when it is
 * not known yet.  Returns true when it was logged.  Out of memory, it is
 * logged every time. */
bool skiplog_note(struct skiplog *sl, unsigned group, const char *msg);

/* "plugin/kubernetes: WHERE: left out KIND NS/NAME: WHY" into buf, names
 * cut to 64 bytes and marked "..." when longer. */
void skiplog_format(char *buf, size_t len, const char *where,
		    const struct decode_skip *s);

/* Messages known now, for tests. */
size_t skiplog_count(const struct skiplog *sl);

#endif
