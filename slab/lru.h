/*
 * lru.h -- one least-recently-used list per slab class.
 *
 * The head holds the most recently stored or bumped item, the tail the
 * coldest.  Each list has its own mutex and the per-class item counters
 * that change with it (so they are exact and cost nothing extra).  The
 * _locked functions expect lru->lock held.  The policy that moves items
 * between lists and frees them, which also needs item locks and the hash,
 * lives in slab/evict.c (tail eviction), slab/maintainer.c (segment moves)
 * and slab/crawler.c (expiry crawl).
 */
#ifndef STASHD_SLAB_LRU_H
#define STASHD_SLAB_LRU_H

#include <pthread.h>
#include <stdint.h>

struct item;

/*
 * The segments of a class's LRU (memcached's segmented LRU): new items
 * enter HOT (or TEMP with a short TTL); the maintainer moves them down to
 * WARM and COLD; eviction takes from the COLD tail.  Each segment is its
 * own list with its own lock.
 */
enum lru_seg {
    LRU_HOT = 0,
    LRU_WARM,
    LRU_COLD,
    LRU_TEMP,
    LRU_SEGS
};

struct lru {
    pthread_mutex_t lock;
    struct item *head;
    struct item *tail;
    /* Counters, under lock.  Names follow "stats items". */
    uint64_t number;            /* linked items */
    uint64_t number_ttl;        /* of which with an expiry */
    uint64_t mem_requested;     /* bytes those items use */
    uint64_t total_items;       /* ever linked */
    uint64_t evicted;
    uint64_t evicted_nonzero;
    uint64_t evicted_time;      /* idle seconds of the last evicted item */
    uint64_t outofmemory;
    uint64_t reclaimed;
    uint64_t expired_unfetched;
    uint64_t evicted_unfetched;
    uint64_t evicted_active;    /* evicted with ITEM_ACTIVE set */
    uint64_t crawler_reclaimed;
    uint64_t crawler_items_checked;
    uint64_t lrutail_reflocked;
    uint64_t moves_to_cold;     /* moved into COLD from this list */
    uint64_t moves_to_warm;     /* moved into WARM from this list */
    uint64_t moves_within_lru;
    uint64_t direct_reclaims;
    uint64_t evicted_direct;    /* evicted inline by an allocation, not
                                 * ahead of it by the maintainer */
} __attribute__((aligned(64)));

void lru_init(struct lru *l);
void lru_destroy(struct lru *l);

/* Put it at the head. */
void lru_link_locked(struct lru *l, struct item *it);

/* Take it out of the list (it must be in it). */
void lru_unlink_locked(struct lru *l, struct item *it);

/* Move it to the head. */
void lru_bump_locked(struct lru *l, struct item *it);

/* Insert marker right above (towards the head of) it. */
void lru_insert_above_locked(struct lru *l, struct item *it,
                             struct item *marker);

/* Add the counters of src (its lock held) into sum (evicted_time: the
 * larger). */
void lru_sum_locked(struct lru *sum, const struct lru *src);

/* Zero the resettable counters ("stats reset"). */
void lru_reset_locked(struct lru *l);

#endif
