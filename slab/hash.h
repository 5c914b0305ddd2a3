/*
 * hash.h -- the key -> item index and the item locks.
 *
 * The table is split into HASH_SHARDS shards, one per item lock: a key's
 * shard is chosen by the low bits of its hash, its bucket inside the shard
 * by higher bits.  A shard is a power-of-two array of chained buckets
 * guarded by its own mutex (the "item lock" of every key that maps there).
 * A shard doubles, under its own lock, when it holds more than 1.5 items
 * per bucket, so growth is spread over time and over shards and never
 * stops the world: at most 1/HASH_SHARDS of the items move at once.
 *
 * Functions ending in _locked expect the caller to hold hash_lock(hv).
 * Every change to a chain is published with release stores, and the lock
 * makes the shard's sequence count odd while held, so that a hit can be
 * found without the lock (hash_read_*).
 */
#ifndef STASHD_SLAB_HASH_H
#define STASHD_SLAB_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HASH_LOCK_POWER 12
#define HASH_SHARDS (1u << HASH_LOCK_POWER)

struct hash;
struct item;

/* 64-bit hash of a key: XXH3 (libxxhash) under the process's seed. */
uint64_t hash_key(const char *key, size_t nkey);

/* Set the seed of hash_key; only before any table exists or any thread
 * hashes (start-up, tests).  The default seed is 0. */
void hash_set_seed(uint64_t seed);

/* Seed hash_key from getrandom(); false (seed unchanged) if the kernel
 * gave no randomness.  Same rules as hash_set_seed. */
bool hash_seed_random(void);

/* A table of about 2^power buckets in all.  NULL on allocation failure. */
struct hash *hash_create(unsigned power);

/* Free the table (not the items). */
void hash_destroy(struct hash *h);

/* The item lock of hash value hv. */
void hash_lock(struct hash *h, uint64_t hv);
void hash_unlock(struct hash *h, uint64_t hv);

/* Take the item lock only if free; true when taken. */
bool hash_trylock(struct hash *h, uint64_t hv);

/* The item stored under key, or NULL. */
struct item *hash_find_locked(struct hash *h, uint64_t hv, const char *key,
                              size_t nkey);

/*
 * Lock-free reading, inside a read section (slab/lock.h): the first item
 * of hv's chain, with the shard's sequence count in *seq; the next item
 * of a chain (the caller holds a reference on it); and whether the chain
 * is as it was when *seq was taken (no writer since, none then).  Items
 * found this way may be freed and reused at any moment until the caller
 * holds a reference (slab/store.c store_read).
 */
struct item *hash_read_first(struct hash *h, uint64_t hv, uint32_t *seq);
struct item *hash_read_next(const struct item *it);
bool hash_read_unchanged(struct hash *h, uint64_t hv, uint32_t seq);

/* Insert it (its key must be absent); may grow the shard, which waits
 * for a grace period (lock_grace_wait) before freeing the old buckets. */
void hash_insert_locked(struct hash *h, uint64_t hv, struct item *it);

/* Put new in old's place (same key). */
void hash_replace_locked(struct hash *h, uint64_t hv, struct item *old,
                         struct item *new);

/* Unlink it from its chain; false if it was not there. */
bool hash_remove_locked(struct hash *h, uint64_t hv, struct item *it);

/* log2 of the total bucket count (rounded down). */
unsigned hash_power_level(const struct hash *h);

/* Bytes of bucket arrays. */
size_t hash_bytes(const struct hash *h);

/* Shards being doubled right now. */
unsigned hash_is_expanding(const struct hash *h);

/* Shard doublings done so far. */
uint64_t hash_expansions(const struct hash *h);

/* Called by hash_walk for each item of a bucket, with the shard locked. */
typedef void (*hash_visit_fn)(void *ctx, struct item *it);

/*
 * Walk shard number shard (0 .. HASH_SHARDS - 1) from bucket cursor *cursor
 * (0 to start), calling visit for every item, under the shard's lock, until
 * at least min_items items were seen or the shard is done.  Returns true
 * when the shard is done (*cursor is 0 again).  Buckets are taken in
 * reverse-binary order, so a doubling of the shard between two calls
 * neither repeats nor skips an item that stayed in the table.
 */
bool hash_walk(struct hash *h, unsigned shard, uint64_t *cursor,
               unsigned min_items, hash_visit_fn visit, void *ctx);

#endif
