/*
 * dump.h -- listing the items of a live store, a small batch at a time
 * (lru_crawler metadump/mgdump, stats cachedump).
 *
 * A dump is a cursor: each dump_next() takes one lock (an LRU lock or a
 * hash shard lock) for at most one batch, copies what a listing prints of
 * each live item into the dump's own records, and lets go.  The caller
 * formats the records with no lock held and may stop for as long as it
 * likes between batches (a client that reads slowly): the store keeps
 * serving gets and sets meanwhile, and a full dump is never held in
 * memory.
 *
 * Guarantee: an item that stays linked and unmoved for the whole dump is
 * listed exactly once.  Items stored after the dump started may or may
 * not be listed; an item bumped or moved between LRU segments while the
 * dump passes may be listed twice or (LRU order only) missed, as in
 * memcached.  The hash order is immune to LRU moves and to the table
 * growing: metadump and mgdump use it, with a class filter.  Expired and flushed items are not listed unless asked for.
 */
#ifndef STASHD_SLAB_DUMP_H
#define STASHD_SLAB_DUMP_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

struct store;

/* Where a dump walks and in which order. */
enum dump_order {
    DUMP_OLDEST_FIRST = 0,  /* each LRU tail to head (metadump) */
    DUMP_NEWEST_FIRST,      /* each LRU head to tail (cachedump) */
    DUMP_HASH,              /* the hash table, shard by shard */
};

/* What a listing may print of one item, copied out of the store. */
struct dump_rec {
    uint64_t cas;           /* 0 under -C */
    uint64_t nbytes;        /* value length */
    uint64_t size;          /* bytes it takes, as counted in "bytes" */
    time_t exptime;         /* unix time; 0 never */
    time_t atime;           /* unix time of the last access */
    uint8_t clsid;
    uint8_t nkey;
    bool fetched;
    char key[250];
};

struct dump;

/*
 * A dump of the classes whose bit is set in classes (bit id for class id;
 * for DUMP_HASH, 0 lists every class) in the given order;
 * with_dead also lists expired and flushed items still linked (memcached's
 * stats cachedump does).  NULL on allocation failure.  Nothing is locked
 * until dump_next.
 */
struct dump *dump_create(struct store *s, uint64_t classes,
                         enum dump_order order, bool with_dead);

/*
 * The next batch: *recs points at n records owned by the dump, valid until
 * the next call; n is 0 when the walk is over.  Takes and releases one
 * lock per batch.
 */
unsigned dump_next(struct dump *d, const struct dump_rec **recs);

/* Stop and free a dump (any time, finished or not): its cursor leaves the
 * LRU it was in. */
void dump_destroy(struct dump *d);

#endif
