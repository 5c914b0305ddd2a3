/*
 * store_int.h -- the inside of struct store, shared by the files that
 * implement slab/store.h: store.c (operations), evict.c (tail eviction
 * when an allocation finds its class full), maintainer.c (the segment
 * mover thread), crawler.c (the background expiry crawl), store_stats.c (statistics) and lease.c (the meta commands' read-decide-
 * modify steps, which reuse the locked helpers below).  Not for use
 * outside slab/.
 */
#ifndef STASHD_SLAB_STORE_INT_H
#define STASHD_SLAB_STORE_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "slab/clock.h"
#include "slab/crawler.h"
#include "slab/hash.h"
#include "slab/item.h"
#include "slab/item_layout.h"
#include "slab/lock.h"
#include "slab/lru.h"
#include "slab/sizes.h"
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
    CTR_HITS_HOT,               /* hits by the segment the item was in; */
    CTR_HITS_WARM,              /* in enum lru_seg's order */
    CTR_HITS_COLD,
    CTR_HITS_TEMP,
    CTR_REF_LIMIT,      /* lookups refused: ITEM_REF_MAX references held */
    /* Items linked and unlinked, never reset: curr_items is their
     * difference, exact while the maintainer moves items between segment
     * lists (a move takes an item out of one list's count before it is in
     * the next's, so the lists' sum runs short meanwhile). */
    CTR_LINKED,
    CTR_UNLINKED,
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
    struct lru lru[SLAB_CLASS_MAX][LRU_SEGS];  /* by class, segment */

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
    pthread_mutex_t bg_ctl;     /* serialises lru_crawler enable/disable;
                                 * taken before bg_lock */
    bool bg_started;            /* written under bg_ctl, atomically */
    bool bg_stop;               /* written under bg_lock, atomically */
    uint64_t crawl_req;         /* under bg_lock: classes asked for by
                                 * lru_crawler crawl, not yet started */
    bool crawl_manual;          /* under bg_lock: such a crawl is running */
    crawler_job_fn job_fn;      /* under bg_lock: the job running on the
                                 * thread (crawler_job_start), or NULL */
    void *job_arg;
    uint64_t job_seq;           /* under bg_lock: jobs started */
    bool job_kick;              /* under bg_lock: crawler_job_wake since the
                                 * job last said CRAWLER_JOB_WAIT */
    uint32_t crawl_sleep;       /* atomic: lru_crawler sleep, usec */
    uint32_t crawl_tocrawl;     /* atomic: lru_crawler tocrawl, 0 all */
    uint64_t crawler_starts;    /* atomic */
    unsigned crawler_running;   /* atomic */
    pthread_mutex_t crawl_lock; /* serialises crawls; taken first */
    uint64_t seen_ocas;         /* under crawl_lock: flushes crawled */
    rel_time_t seen_flush_at;
    struct item *marker[SLAB_CLASS_MAX][LRU_SEGS];
    rel_time_t crawl_next[SLAB_CLASS_MAX];
    unsigned crawl_gap[SLAB_CLASS_MAX];

    /* LRU maintainer (maintainer.c); tune_lock guards cfg.lru's doubles
     * and pcts (its bools and temp_ttl are also read atomically). */
    pthread_mutex_t tune_lock __attribute__((aligned(64)));
    pthread_mutex_t maint_lock;
    pthread_cond_t maint_cond;
    pthread_t maint_thread;
    bool maint_started;
    bool maint_stop;            /* written under maint_lock, atomically */
    bool maint_napping;         /* atomic: the maintainer sleeps (set and
                                 * cleared under maint_lock) */
    uint64_t maint_seen[SLAB_CLASS_MAX];    /* maintainer only: stores
                                             * seen by the last pass */
    rel_time_t maint_when[SLAB_CLASS_MAX];  /* maintainer only: clock of
                                             * the class's last pass */
    bool maint_quiet[SLAB_CLASS_MAX];       /* maintainer only: that pass
                                             * did nothing */
    /* Page mover (mover.c); NULL until store_mover_start. */
    struct mover *mover;
    struct sizes *sizes;        /* "stats sizes" histogram (slab/sizes.h) */
};

/* The list of class id, segment seg. */
static inline struct lru *
store_lru(struct store *s, unsigned id, unsigned seg)
{
    return &s->lru[id][seg];
}

/* The list a linked item is in (its item lock held for a stable answer). */
static inline struct lru *
store_lru_of(struct store *s, const struct item *it)
{
    return &s->lru[item_clsid(it)][item_seg(it)];
}

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
    /* atomic: md I rewrites a live item's CAS in place (lease.c), and the
     * crawler reads it without the item lock */
    if (__atomic_load_n(&it->cas, __ATOMIC_RELAXED) < ocas ||
        (fat != 0 && fat <= now && item_get_atime(it) <= fat)) {
        return STORE_FLUSHED;
    }
    return STORE_LIVE;
}

/*
 * The one place a lookup takes a reference on a live item (item lock
 * held): false when the item already holds ITEM_REF_MAX references; the
 * lookup then answers a miss, counted as ref_limit_misses.
 */
static inline bool
store_ref_take(struct store *s, struct item *it)
{
    if (item_ref_take(it)) {
        return true;
    }
    store_ctr_add(s, item_clsid(it), CTR_REF_LIMIT);
    return false;
}

/*
 * memcached's size of an item (its ITEM_ntotal): a 48-byte header, key +
 * NUL, client flags when nonzero, value + CRLF, and the CAS when enabled.
 * -I is checked against this, not against stashd's smaller layout, so
 * that stashd refuses as "too large" exactly what memcached refuses.
 */
static inline size_t
store_mc_ntotal(const struct store *s, size_t nkey, bool cflags,
                size_t nbytes)
{
    return 48 + nkey + 1 + (cflags ? 4 : 0) + nbytes + 2 +
           (s->cfg.use_cas ? 8 : 0);
}

/*
 * Would memcached keep this item chunked: its ITEM_ntotal over its
 * largest slab chunk (half a page, or -I when that is smaller)?  stashd's
 * own ITEM_CHUNKED starts later (smaller header), so replies that depend
 * on memcached's layout (incr/decr: non-numeric before the CAS compare)
 * ask this instead.
 */
static inline bool
store_mc_chunked(const struct store *s, size_t nkey, bool cflags,
                 size_t nbytes)
{
    size_t chunk_max = s->cfg.page_size / 2;

    if (s->cfg.item_size_max < chunk_max) {
        chunk_max = s->cfg.item_size_max;
    }
    return store_mc_ntotal(s, nkey, cflags, nbytes) > chunk_max;
}

/* Count it in (add) or out of the "stats sizes" histogram under
 * memcached's size of it; one call and a load while tracking is off. */
static inline void
store_sizes_track(struct store *s, const struct item *it, bool add)
{
    size_t n;

    if (!sizes_enabled(s->sizes)) {
        return;
    }
    n = store_mc_ntotal(s, item_nkey(it), item_flags(it) != 0,
                        item_nbytes(it));
    if (add) {
        sizes_add(s->sizes, n);
    } else {
        sizes_remove(s->sizes, n);
    }
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

/* ---- helpers shared by store.c and lease.c (item lock held) ---- */

/* The segment a new item enters: TEMP for a short TTL (temp_lru), else
 * HOT when segmented, else the one flat list (COLD). */
static inline unsigned
store_new_seg(struct store *s, const struct item *it, rel_time_t now)
{
    rel_time_t exp = item_get_exptime(it);

    if (__atomic_load_n(&s->cfg.lru.temp_lru, __ATOMIC_RELAXED) &&
        exp != 0 &&
        exp - now <= __atomic_load_n(&s->cfg.lru.temp_ttl,
                                     __ATOMIC_RELAXED)) {
        return LRU_TEMP;
    }
    return __atomic_load_n(&s->cfg.lru.segmented, __ATOMIC_RELAXED)
               ? LRU_HOT
               : LRU_COLD;
}

/*
 * Stamp a new item (CAS, access time) and link it in place of old (or
 * anew when old is NULL); item lock held.  The link takes its own
 * reference.  cas 0 takes the next value of the CAS counter; any other
 * value is the client's explicit CAS (meta E).
 */
static inline void
store_link_cas_locked(struct store *s, uint64_t hv, struct item *it,
                      struct item *old, uint64_t cas)
{
    struct lru *l;
    size_t size = store_item_size(it);
    rel_time_t now = clock_now(s->clk);

    /* Without CAS (-C) the counter moves only on flush_all: an item keeps
     * the flush epoch it was stored in (reported as 0), which is all
     * flush needs, and a store writes no shared cache line. */
    if (!s->cfg.use_cas) {
        it->cas = __atomic_load_n(&s->cas_seq, __ATOMIC_RELAXED);
    } else {
        it->cas = cas != 0 ? cas
                           : __atomic_add_fetch(&s->cas_seq, 1,
                                                __ATOMIC_RELAXED);
    }
    item_set_atime(it, now);
    item_ref_incr(it);
    /* in no list yet: no LRU lock needed to set the segment */
    item_set_seg(it, store_new_seg(s, it, now));
    l = store_lru_of(s, it);
    item_set_linked(it);
    if (old != NULL) {
        hash_replace_locked(s->hash, hv, old, it);
    } else {
        hash_insert_locked(s->hash, hv, it);
    }
    lock_take(&l->lock, LOCK_LRU);
    lru_link_locked(l, it);
    l->number++;
    l->total_items++;
    store_ctr_add(s, item_clsid(it), CTR_LINKED);
    l->mem_requested += size;
    if (item_get_exptime(it) != 0) {
        l->number_ttl++;
    }
    if (old != NULL) {
        /* Already out of the hash: only LRU and reference remain.  When
         * old is in the same list (a key rewritten while in HOT), it
         * leaves under the same hold: one LRU lock per replacing set. */
        struct lru *ol = store_lru_of(s, old);

        item_clear_iflag(old, ITEM_LINKED);
        if (ol != l) {
            pthread_mutex_unlock(&l->lock);
            lock_take(&ol->lock, LOCK_LRU);
        }
        lru_unlink_locked(ol, old);
        ol->number--;
        store_ctr_add(s, item_clsid(old), CTR_UNLINKED);
        ol->mem_requested -= store_item_size(old);
        if (item_get_exptime(old) != 0) {
            ol->number_ttl--;
        }
        pthread_mutex_unlock(&ol->lock);
        store_sizes_track(s, old, false);
        store_sizes_track(s, it, true);
        store_item_deref(s, old);
        return;
    }
    pthread_mutex_unlock(&l->lock);
    store_sizes_track(s, it, true);
}

/* store_link_cas_locked with the next CAS. */
static inline void
store_link_locked(struct store *s, uint64_t hv, struct item *it,
                  struct item *old)
{
    store_link_cas_locked(s, hv, it, old, 0);
}

/*
 * The live item under key, or NULL; a dead one (expired, flushed) is
 * unlinked on the way, as memcached does on access.
 */
static inline struct item *
store_find_locked(struct store *s, uint64_t hv, const char *key,
                  size_t nkey, rel_time_t now)
{
    struct item *it = hash_find_locked(s->hash, hv, key, nkey);
    enum store_dead dead;

    if (it == NULL) {
        return NULL;
    }
    dead = store_item_dead(s, it, now);
    if (dead == STORE_LIVE) {
        return it;
    }
    store_ctr_add(s, item_clsid(it),
                  dead == STORE_EXPIRED ? CTR_GET_EXPIRED : CTR_GET_FLUSHED);
    store_unlink_locked(s, hv, it, false);
    return NULL;
}

/*
 * The read-decide-build step of incr/decr on key, item lock held: on
 * STORE_OK *it is a new unlinked item (refcount 1) holding a->value, to be
 * linked in place of *old (NULL when a->created) by the caller, who then
 * drops *it; otherwise nothing was allocated.
 */
int store_arith_locked(struct store *s, uint64_t hv, const char *key,
                       size_t nkey, rel_time_t now, struct store_arith *a,
                       struct item **old, struct item **it);

/*
 * Flat mode: move it to the LRU head if idle long enough (a rate-limited
 * bump).  Segmented: only refresh its access time at that rate; the
 * maintainer moves items between segments.
 */
static inline void
store_bump_locked(struct store *s, struct item *it, rel_time_t now)
{
    if (item_get_atime(it) + STORE_BUMP_INTERVAL > now) {
        return;
    }
    if (__atomic_load_n(&s->cfg.lru.segmented, __ATOMIC_RELAXED)) {
        item_set_atime(it, now);
    } else {
        struct lru *l = store_lru_of(s, it);

        lock_take(&l->lock, LOCK_LRU);
        if (item_iflags(it) & ITEM_LINKED) {
            lru_bump_locked(l, it);
            l->moves_within_lru++;
        }
        item_set_atime(it, now);
        pthread_mutex_unlock(&l->lock);
    }
}

/*
 * A hit.  Segmented: the first marks it fetched, later ones set ACTIVE
 * (and its access time) with relaxed atomics and no LRU lock; the
 * maintainer and eviction read the bit at the tails and give the item a
 * second chance.  Flat: mark fetched and bump.
 */
static inline void
store_hit_locked(struct store *s, struct item *it, rel_time_t now)
{
    uint8_t f = item_iflags(it);

    store_ctr_add(s, item_clsid(it),
                  (enum store_ctr)(CTR_HITS_HOT + item_seg(it)));
    if (!(f & ITEM_FETCHED)) {
        item_set_iflag(it, ITEM_FETCHED);
        if (__atomic_load_n(&s->cfg.lru.segmented, __ATOMIC_RELAXED)) {
            return;
        }
    }
    if (!__atomic_load_n(&s->cfg.lru.segmented, __ATOMIC_RELAXED)) {
        store_bump_locked(s, it, now);
    } else if (!(f & ITEM_ACTIVE)) {
        item_set_iflag(it, ITEM_ACTIVE);
        item_set_atime(it, now);
    }
}

/* Change the expiry of a linked item (lock held), keeping the LRU's
 * count of items with an expiry right. */
static inline void
store_set_exptime_locked(struct store *s, struct item *it, rel_time_t exp)
{
    struct lru *l = store_lru_of(s, it);
    rel_time_t old = item_get_exptime(it);

    if ((old == 0) != (exp == 0)) {
        lock_take(&l->lock, LOCK_LRU);
        item_set_exptime(it, exp);
        if (exp == 0) {
            l->number_ttl--;
        } else {
            l->number_ttl++;
        }
        pthread_mutex_unlock(&l->lock);
    } else {
        item_set_exptime(it, exp);
    }
}

/* Start and stop the background crawler (cfg.lru_bg). */
int store_crawler_start(struct store *s);
void store_crawler_stop(struct store *s);

/* Wake the crawler early (after flush_all). */
void store_crawler_wake(struct store *s);

/* Start and stop the page mover (its state always, its thread only with
 * cfg.slab_reassign). */
int store_mover_start(struct store *s);
void store_mover_stop(struct store *s);

/* Wake the mover early (a lowered memory limit, a reassign request). */
void store_mover_wake(struct store *s);

/* Class id, with the budget spent, is evicting: if it still holds the one
 * page it started with, the mover gives it a second once (automove on;
 * slab/mover.c).  Cheap after the first call per class; any thread, no
 * lock needed. */
void store_mover_topup(struct store *s, unsigned id);

/*
 * Move one page from class src to dst (a class, SLABS_POOL or
 * SLABS_RELEASE) in the calling thread: every item in it is rescued or
 * evicted.  false if src has no spare page.  The mover thread calls it;
 * tests call it directly.
 */
bool store_move_page(struct store *s, unsigned src, int dst);

/* The mover's part of "stats" (slab_reassign_* and slabs_moved). */
void store_mover_stats(struct store *s, store_emit_fn emit, void *ctx);

/* Zero the mover's counters ("stats reset"). */
void store_mover_stats_reset(struct store *s);

/*
 * One crawl of every class: reclaim expired and flushed items anywhere in
 * the LRUs.  Returns items reclaimed.  The background thread calls it on a
 * schedule; tests call it directly.
 */
uint64_t store_crawl(struct store *s, bool force);

#endif
