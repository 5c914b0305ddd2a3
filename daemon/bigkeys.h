/*
 * bigkeys.h -- "stats bigkeys [N]": the largest live items, kept
 * incrementally as they are stored, never found by scanning the store.
 *
 * One table of BIGKEYS_SLOTS candidates per server.  A store whose value
 * is not larger than the smallest candidate of a full table costs one
 * relaxed load (bigkeys_note); a larger one replaces that candidate under
 * the table's lock.  Deleted, expired, evicted or shrunk items are noticed
 * lazily, when a report looks each candidate up in the store without
 * bumping it (store_peek), and dropped; an item smaller than every
 * candidate that was stored while the table was full is not known until
 * it is stored again, so after mass deletions of big keys the report can
 * list fewer than N keys.
 */
#ifndef STASHD_DAEMON_BIGKEYS_H
#define STASHD_DAEMON_BIGKEYS_H

#include <stddef.h>

#include "daemon/stats.h"

struct bigkeys;
struct clock;
struct store;

#define BIGKEYS_SLOTS 64        /* candidates kept (and most listed) */
#define BIGKEYS_DEFAULT 20      /* keys listed when N is not given */

/* An empty table; NULL on OOM. */
struct bigkeys *bigkeys_create(void);

void bigkeys_destroy(struct bigkeys *b);

/* key now holds a value of nbytes: keep it if it is among the largest.
 * Any thread; b may be NULL (nothing kept). */
void bigkeys_note(struct bigkeys *b, const char *key, size_t nkey,
                  size_t nbytes);

/* Emit the top largest live candidates, largest first: "bigkey:<rank>"
 * with "key=<key> size=<bytes> class=<id> ttl=<secs left, -1 never>"
 * (key escaped as in hotkeys_report).  Any thread; takes item locks. */
void bigkeys_report(struct bigkeys *b, struct store *st,
                    const struct clock *clk, unsigned top,
                    stats_emit_fn emit, void *ctx);

#endif
