/*
 * store_int.h -- the inside of struct store, shared by the files that
 * implement slab/store.h: store.c (operations), crawler.c (memory
 * reclaim: tail eviction and the background expiry crawl) and
 * store_stats.c (statistics).  Not for use outside slab/.
 */
#ifndef STASHD_SLAB_STORE_INT_H
#define STASHD_SLAB_STORE_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "slab/clock.h"
#include "slab/hash.h"
#include "slab/item_layout.h"
#include "slab/lru.h"
#include "slab/slabs.h"
#include "slab/store.h"

/* Longest key the item header can hold (memcached's limit). */
#define STORE_KEY_MAX 250

/* Seconds an item must sit idle before a hit moves it to the LRU head. */
#define STORE_BUMP_INTERVAL 60

/* Per-class hit counters, bumped with relaxed atomics in a per-thread
 * shard so that threads do not fight over one cache line. */
#define STORE_CTR_SHARDS 16

enum store_ctr {
    CTR_GET_HITS = 0,
    CTR_CMD_SET,
    CTR_DELETE_HITS,
    CTR_INCR_HITS,
    CTR_DECR_HITS,
    CTR_CAS_HITS,
    CTR_CAS_BADVAL,
    CTR_TOUCH_HITS,
    CTR_GET_EXPIRED,
    CTR_GET_FLUSHED,
    CTR_COUNT
};

struct store_ctr_shard {
    uint64_t c[SLAB_CLASS_MAX][CTR_COUNT];
} __attribute__((aligned(64)));

/* Why a linked item is no longer valid. */
enum store_dead {
    STORE_LIVE = 0,
    STORE_EXPIRED,
    STORE_FLUSHED,
};

struct store {
    struct lru lru[SLAB_CLASS_MAX];

    /* Read by every operation, written almost never: one shared line. */
    struct store_config cfg;    /* mem_limit updated atomically */
    struct clock *clk;
    struct slabs *slabs;
    struct hash *hash;
    struct store_ctr_shard *ctr;
    uint64_t oldest_cas;        /* atomic: items with a lower CAS are
                                 * flushed (immediate flush_all) */
    rel_time_t flush_at;        /* atomic: delayed flush_all: from this
                                 * time on, items with atime <= it are
                                 * flushed; 0 none */

    /* Written by every store: alone in its line so that readers of the
     * fields above do not miss on each set. */
    uint64_t cas_seq __attribute__((aligned(64)));  /* atomic: last CAS */

    /* Background crawler (crawler.c). */
    pthread_mutex_t bg_lock __attribute__((aligned(64)));
    pthread_cond_t bg_cond;
    pthread_t bg_thread;
    bool bg_started;
    bool bg_stop;               /* written under bg_lock, atomically */
    uint64_t crawler_starts;    /* atomic */
    unsigned crawler_running;   /* atomic */
    pthread_mutex_t crawl_lock; /* serialises crawls; taken first */
    uint64_t seen_ocas;         /* under crawl_lock: flushes crawled */
    rel_time_t seen_flush_at;
    struct item *marker[SLAB_CLASS_MAX];
    rel_time_t crawl_next[SLAB_CLASS_MAX];
    unsigned crawl_gap[SLAB_CLASS_MAX];
};

/* Count one event of class id. */
void store_ctr_add(struct store *s, unsigned id, enum store_ctr c);

/* Is a linked item still valid at now? */
static inline enum store_dead
store_item_dead(const struct store *s, const struct item *it,
                rel_time_t now)
{
    rel_time_t exp = item_get_exptime(it);
    uint64_t ocas = __atomic_load_n(&s->oldest_cas, __ATOMIC_RELAXED);
    rel_time_t fat = __atomic_load_n(&s->flush_at, __ATOMIC_RELAXED);

    if (exp != 0 && exp <= now) {
        return STORE_EXPIRED;
    }
    if (it->cas < ocas ||
        (fat != 0 && fat <= now && item_get_atime(it) <= fat)) {
        return STORE_FLUSHED;
    }
    return STORE_LIVE;
}

/* Bytes an item occupies, as counted in "bytes" and mem_requested. */
size_t store_item_size(const struct item *it);

/* Free an item whose last reference is gone (and its chunks). */
void store_item_free(struct store *s, struct item *it);

/*
 * A new unlinked item with room for nbytes of value (chunked if needed),
 * refcount 1 (the caller's), value not yet written.  NULL with *status
 * STORE_TOO_LARGE (over item_size_max) or STORE_NO_MEMORY.
 */
struct item *store_item_alloc(struct store *s, const char *key, size_t nkey,
                              uint32_t flags, size_t nbytes, int *status);

/* Copy len bytes into the value of an unlinked item at offset off. */
void store_value_write(struct item *it, size_t off, const void *src,
                       size_t len);

/* Copy the whole value of src into dst's value at offset off. */
void store_value_copy(struct item *dst, size_t off, const struct item *src);

/* Drop one reference; frees the item when it was the last. */
void store_item_deref(struct store *s, struct item *it);

/*
 * Unlink it from hash and LRU and drop the link's reference.  The item
 * lock is held; lru_held says the caller already holds the item's LRU
 * lock (crawler and eviction), otherwise it is taken here.
 */
void store_unlink_locked(struct store *s, uint64_t hv, struct item *it,
                         bool lru_held);

/*
 * Free at least one chunk of class id by reclaiming an expired item from
 * the tail of its LRU, or else (if evict) evicting the tail.  Takes the LRU
 * lock and item locks only by trylock.  true if something was freed.
 */
bool store_lru_pull_tail(struct store *s, unsigned id, bool evict);

/* Start and stop the background crawler (cfg.lru_bg). */
int store_crawler_start(struct store *s);
void store_crawler_stop(struct store *s);

/* Wake the crawler early (after flush_all). */
void store_crawler_wake(struct store *s);

/*
 * One crawl of every class: reclaim expired and flushed items anywhere in
 * the LRUs.  Returns items reclaimed.  The background thread calls it on a
 * schedule; tests call it directly.
 */
uint64_t store_crawl(struct store *s, bool force);

#endif
