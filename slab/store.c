/*
 * store.c -- the store operations of slab/store.h.
 *
 * LOCK ORDER (the one place it is written down):
 *
 *     crawl_lock (crawler.c: serialises crawls, taken with nothing held)
 *       -> item lock (hash shard mutex, slab/hash.h)
 *         -> LRU lock (per class and segment, slab/lru.h)
 *           -> slab class lock (slab/slabs.h)
 *             -> the page pool lock (slab/slabs.c)
 *
 * The page mover (slab/mover.c) holds a slab class lock only to read a
 * chunk's kind and take a reference on the item in it, and lets go before
 * it takes that item's lock; a page being moved needs no lock of its own
 * beyond its class's: "being moved" is class state under the class lock.
 * The mover's mv_lock is a leaf, taken with nothing else held.
 *
 * A thread holding an LRU lock may take an item lock only with trylock
 * (eviction, the maintainer and the crawler walk the LRU tails and skip
 * busy items).  At most one LRU lock is held at a time: a move between
 * segments (slab/evict.c) unlinks under the source lock, drops it, and
 * links under the target lock, holding the item lock throughout, so a
 * holder of the item lock reads a segment that matches the list.  At most
 * one slab class lock is held at a time; freeing an item under an LRU lock
 * takes the slab locks of its chunks' classes one after another.  The
 * crawler's crawl_lock is outermost (taken with nothing held, before any
 * LRU lock); its bg_ctl (enable/disable) is taken before bg_lock.
 *
 * Thread slab caches (slab/slabs.c): most allocations and frees of small
 * chunks take no lock at all; a refill or give-back takes the one class
 * lock, wherever a slab lock may be taken.  A cache's bind mutex (taken
 * when a thread first uses a store, switches stores or exits, and by
 * slabs_destroy) may be taken under item and LRU locks like a slab lock;
 * under it only the class locks of the store being left are taken, and no
 * thread waits for it while holding one.  The page mover takes cached
 * chunks out of other threads' caches under the class lock with atomic
 * exchanges, no lock of theirs.  The maintainer's batches
 * (slab/evict.c) hold up to EVICT_BATCH_MAX item locks, all trylocked,
 * while they take the target LRU lock: still item -> LRU.
 * tune_lock, bg_lock and maint_lock are otherwise leaves taken with nothing
 * else held.  A dump (slab/dump.c) holds one LRU lock or one item lock
 * (hash_walk) at a time, never both, and copies a batch of items out under
 * it; its cursor is a marker in the LRU, so every LRU walker (eviction,
 * maintainer, crawl, dump) skips class-0 entries.
 *
 * References: a linked item holds one reference for being linked; every
 * lookup adds one, so a linked item cannot be freed while someone looks
 * at it.  Lookups take it under the item lock, except the lock-free hit
 * (store_read_fast), which takes it only on a nonzero count
 * (item_ref_take_live) and then checks that the item is still linked.  The thread that drops the count to zero
 * frees the chunk(s).  New items are built before the item lock is taken
 * when their size is known (set/add/replace/cas), under it when it
 * depends on the old value (append/prepend/incr/decr).  Allocating under an
 * item lock is safe because eviction only trylocks item locks.
 */
#include "slab/lock.h"
#include "slab/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slab/crawler.h"
#include "slab/item.h"
#include "slab/maintainer.h"
#include "slab/store_int.h"

void
store_config_default(struct store_config *cfg)
{
    cfg->mem_limit = (size_t)64 << 20;
    cfg->item_size_max = (size_t)1 << 20;
    cfg->page_size = (size_t)1 << 20;
    cfg->chunk_min = 48;
    cfg->factor = 1.25;
    cfg->evict = true;
    cfg->use_cas = true;
    cfg->hash_power = 16;
    cfg->lru_bg = true;
    cfg->lru_maintainer = true;
    /* memcached 1.6's segmented LRU defaults */
    cfg->lru.segmented = true;
    cfg->lru.hot_pct = 20;
    cfg->lru.warm_pct = 40;
    cfg->lru.hot_max_factor = 0.2;
    cfg->lru.warm_max_factor = 2.0;
    cfg->lru.temp_lru = false;
    cfg->lru.temp_ttl = 61;
    /* and its page mover's */
    cfg->slab_reassign = true;
    cfg->slab_automove = 1;
    cfg->automove_ratio = 0.8;
    cfg->automove_window = 30;
    cfg->track_sizes = false;   /* memcached: -o track_sizes */
    cfg->on_evict = NULL;
    cfg->evict_ctx = NULL;
}

void
store_lru_tune_get(struct store *s, struct store_lru_tune *t)
{
    lock_take(&s->tune_lock, LOCK_MAINT);
    *t = s->cfg.lru;
    pthread_mutex_unlock(&s->tune_lock);
}

void
store_lru_tune_set(struct store *s, const struct store_lru_tune *t)
{
    lock_take(&s->tune_lock, LOCK_MAINT);
    /* the hot path reads these three without the lock */
    __atomic_store_n(&s->cfg.lru.segmented, t->segmented, __ATOMIC_RELAXED);
    __atomic_store_n(&s->cfg.lru.temp_lru, t->temp_lru, __ATOMIC_RELAXED);
    __atomic_store_n(&s->cfg.lru.temp_ttl, t->temp_ttl, __ATOMIC_RELAXED);
    s->cfg.lru.hot_pct = t->hot_pct;
    s->cfg.lru.warm_pct = t->warm_pct;
    s->cfg.lru.hot_max_factor = t->hot_max_factor;
    s->cfg.lru.warm_max_factor = t->warm_max_factor;
    pthread_mutex_unlock(&s->tune_lock);
}

size_t
store_item_overhead(void)
{
    return sizeof(struct item);
}

static unsigned
store_ctr_shard_id(void)
{
    /* A thread-local index, assigned round-robin on first use: counters of
     * different threads land in different cache lines. */
    static unsigned next;
    static __thread unsigned id = ~0u;

    if (id == ~0u) {
        id = __atomic_fetch_add(&next, 1, __ATOMIC_RELAXED) %
             STORE_CTR_SHARDS;
    }
    return id;
}

void
store_ctr_add(struct store *s, unsigned id, enum store_ctr c)
{
    __atomic_fetch_add(&s->ctr[store_ctr_shard_id()].c[id][c], 1,
                       __ATOMIC_RELAXED);
}

/* ---- linking ------------------------------------------------------ */

void
store_unlink_locked(struct store *s, uint64_t hv, struct item *it,
                    bool lru_held)
{
    struct lru *l = store_lru_of(s, it);

    if (!(item_iflags(it) & ITEM_LINKED)) {
        return;
    }
    item_clear_iflag(it, ITEM_LINKED);
    hash_remove_locked(s->hash, hv, it);
    if (!lru_held) {
        lock_take(&l->lock, LOCK_LRU);
    }
    lru_unlink_locked(l, it);
    l->number--;
    store_ctr_add(s, item_clsid(it), CTR_UNLINKED);
    l->mem_requested -= store_item_size(it);
    if (item_get_exptime(it) != 0) {
        l->number_ttl--;
    }
    if (!lru_held) {
        pthread_mutex_unlock(&l->lock);
    }
    store_sizes_track(s, it, false);
    store_item_deref(s, it);
}

/* ---- lifecycle ---------------------------------------------------- */

struct store *
store_create(const struct store_config *cfg, struct clock *clk)
{
    struct store *s;
    unsigned i;

    if (cfg == NULL || clk == NULL || cfg->chunk_min == 0 ||
        cfg->factor <= 1.0 || cfg->page_size < 1024 ||
        cfg->page_size / 2 > ITEM_NBYTES_MAX || cfg->item_size_max < 1024) {
        return NULL;
    }
    if (posix_memalign((void **)&s, 64, sizeof(*s)) != 0) {
        return NULL;
    }
    memset(s, 0, sizeof(*s));
    s->cfg = *cfg;
    s->clk = clk;
    s->slabs = slabs_create(cfg->mem_limit, cfg->page_size, cfg->chunk_min,
                            cfg->factor);
    s->hash = hash_create(cfg->hash_power);
    s->sizes = sizes_create(cfg->item_size_max, cfg->track_sizes);
    if (posix_memalign((void **)&s->ctr, 64,
                       STORE_CTR_SHARDS * sizeof(*s->ctr)) != 0) {
        s->ctr = NULL;
    }
    if (s->slabs == NULL || s->hash == NULL || s->ctr == NULL ||
        s->sizes == NULL) {
        sizes_destroy(s->sizes);
        slabs_destroy(s->slabs);
        hash_destroy(s->hash);
        free(s->ctr);
        free(s);
        return NULL;
    }
    memset(s->ctr, 0, STORE_CTR_SHARDS * sizeof(*s->ctr));
    for (i = 0; i < SLAB_CLASS_MAX; i++) {
        for (unsigned g = 0; g < LRU_SEGS; g++) {
            lru_init(&s->lru[i][g]);
        }
    }
    pthread_mutex_init(&s->bg_lock, NULL);
    pthread_mutex_init(&s->bg_ctl, NULL);
    s->crawl_sleep = CRAWLER_SLEEP_DEFAULT;
    pthread_mutex_init(&s->crawl_lock, NULL);
    pthread_cond_init(&s->bg_cond, NULL);
    pthread_mutex_init(&s->tune_lock, NULL);
    pthread_mutex_init(&s->maint_lock, NULL);
    if ((cfg->lru_bg && store_crawler_start(s) != 0) ||
        (cfg->lru_maintainer && maintainer_start(s) != 0) ||
        store_mover_start(s) != 0) {
        store_destroy(s);
        return NULL;
    }
    return s;
}

void
store_destroy(struct store *s)
{
    unsigned i;

    if (s == NULL) {
        return;
    }
    maintainer_stop(s);
    store_crawler_stop(s);
    store_mover_stop(s);
    for (i = 0; i < SLAB_CLASS_MAX; i++) {
        for (unsigned g = 0; g < LRU_SEGS; g++) {
            lru_destroy(&s->lru[i][g]);
            free(s->marker[i][g]);
        }
    }
    pthread_cond_destroy(&s->bg_cond);
    pthread_mutex_destroy(&s->bg_lock);
    pthread_mutex_destroy(&s->bg_ctl);
    pthread_mutex_destroy(&s->crawl_lock);
    pthread_mutex_destroy(&s->tune_lock);
    pthread_mutex_destroy(&s->maint_lock);
    /* Items live in slab pages: freeing the pages frees them all. */
    hash_destroy(s->hash);
    slabs_destroy(s->slabs);
    sizes_destroy(s->sizes);
    free(s->ctr);
    free(s);
}

const struct store_config *
store_config(const struct store *s)
{
    return &s->cfg;
}

/* ---- retrieval ---------------------------------------------------- */

/* Outcomes of a lock-free lookup. */
enum store_fast {
    FAST_MISS,          /* not there, and the chain did not change */
    FAST_HIT,           /* *itp referenced, linked, live, key equal */
    FAST_LOCK,          /* can't tell without the lock */
};

/*
 * Drop a reference taken by store_find_fast.  The last one frees the
 * item, which takes slab locks: not inside a read section, so the caller
 * is told to leave it first (*last).
 */
static void
store_fast_put(struct item *it, struct item **last)
{
    if (item_ref_decr(it) == 0) {
        *last = it;
    }
}

/*
 * Find key without the item lock: walk the chain taking a reference on
 * each item before reading more than its count, so that what is read
 * cannot be freed and rewritten meanwhile.  A free or dying chunk (count
 * 0), an item not linked (being built, unlinked, or moved), a dead one
 * (left for the locked path to unlink and count), a chain changed during
 * a miss, or a last reference dropped: FAST_LOCK.  In a read section.
 */
static enum store_fast
store_find_fast(struct store *s, uint64_t hv, const char *key, size_t nkey,
                rel_time_t now, struct item **itp, struct item **last)
{
    uint32_t seq;
    struct item *it = hash_read_first(s->hash, hv, &seq);

    while (it != NULL) {
        struct item *next;

        if (!item_ref_take_live(it)) {
            return FAST_LOCK;
        }
        if (!item_linked_acquire(it)) {
            store_fast_put(it, last);
            return FAST_LOCK;
        }
        if (item_key_eq(it, key, nkey)) {
            if (store_item_dead(s, it, now) != STORE_LIVE) {
                store_fast_put(it, last);
                return FAST_LOCK;
            }
            *itp = it;
            return FAST_HIT;
        }
        next = hash_read_next(it);
        store_fast_put(it, last);
        if (*last != NULL) {
            return FAST_LOCK;
        }
        it = next;
    }
    return hash_read_unchanged(s->hash, hv, seq) ? FAST_MISS : FAST_LOCK;
}

/*
 * store_hit_locked without the lock, where it needs none: segmented, a hit
 * sets FETCHED, or else ACTIVE and the access time (the maintainer moves
 * the item); flat, it sets FETCHED and the item moves to the LRU head only
 * once per STORE_BUMP_INTERVAL.  False when that move is due: nothing
 * done, the locked path does it all.
 */
static bool
store_hit_fast(struct store *s, struct item *it, rel_time_t now)
{
    uint8_t f = item_iflags(it);

    if (!__atomic_load_n(&s->cfg.lru.segmented, __ATOMIC_RELAXED)) {
        if (item_get_atime(it) + STORE_BUMP_INTERVAL <= now) {
            return false;
        }
        store_ctr_add(s, item_clsid(it),
                      (enum store_ctr)(CTR_HITS_HOT + item_seg(it)));
        if (!(f & ITEM_FETCHED)) {
            item_set_iflag(it, ITEM_FETCHED);
        }
        return true;
    }
    store_ctr_add(s, item_clsid(it),
                  (enum store_ctr)(CTR_HITS_HOT + item_seg(it)));
    if (!(f & ITEM_FETCHED)) {
        item_set_iflag(it, ITEM_FETCHED);
    } else if (!(f & ITEM_ACTIVE)) {
        item_set_iflag(it, ITEM_ACTIVE);
        item_set_atime(it, now);
    }
    return true;
}

/*
 * store_read without the item lock, for plain gets (not touch), whose hit
 * only sets flag bits and the access time (store_hit_fast).  FAST_LOCK:
 * nothing done, take the locked path.
 */
static enum store_fast
store_read_fast(struct store *s, uint64_t hv, const char *key, size_t nkey,
                const struct store_read *r, enum store_read_rc *rc,
                struct item **itp)
{
    rel_time_t now = clock_now(s->clk);
    struct item *it = NULL, *last = NULL;
    enum store_fast f;

    if (!lock_read_enter()) {
        return FAST_LOCK;
    }
    f = store_find_fast(s, hv, key, nkey, now, &it, &last);
    lock_read_exit();
    if (last != NULL) {
        store_item_free(s, last);
    }
    if (f != FAST_HIT) {
        *rc = STORE_READ_MISS;
        return f;
    }
    /* referenced: the item stays as it is outside the read section */
    if (!store_hit_fast(s, it, now)) {
        store_item_deref(s, it);
        return FAST_LOCK;
    }
    store_ctr_add(s, item_clsid(it), CTR_GET_HITS);
    if (r->copy != NULL && item_nbytes(it) <= r->copy_max) {
        r->copy(r->ctx, it);
        store_item_deref(s, it);
        *rc = STORE_READ_COPIED;
    } else {
        *itp = it;
        *rc = STORE_READ_REF;
    }
    return FAST_HIT;
}

enum store_read_rc
store_read(struct store *s, const char *key, size_t nkey,
           const struct store_read *r, struct item **itp)
{
    uint64_t hv = hash_key(key, nkey);
    rel_time_t now;
    enum store_read_rc rc = STORE_READ_MISS;
    struct item *it;

    *itp = NULL;
    if (!r->touch && store_read_fast(s, hv, key, nkey, r, &rc, itp) !=
                         FAST_LOCK) {
        return rc;
    }
    now = clock_now(s->clk);
    hash_lock(s->hash, hv);
    it = store_find_locked(s, hv, key, nkey, now);
    if (it != NULL) {
        /* a small value is copied while the lock keeps it alive: no
         * reference, so no count to overflow and no pin to hold */
        if (r->copy != NULL && item_nbytes(it) <= r->copy_max) {
            rc = STORE_READ_COPIED;
        } else if (store_ref_take(s, it)) {
            rc = STORE_READ_REF;
            *itp = it;
        }
    }
    if (rc != STORE_READ_MISS) {
        if (r->touch) {
            store_set_exptime_locked(s, it, clock_exptime(s->clk, r->exptime));
        }
        store_hit_locked(s, it, now);
        store_ctr_add(s, item_clsid(it), r->touch ? CTR_TOUCH_HITS : CTR_GET_HITS);
        if (rc == STORE_READ_COPIED) {
            r->copy(r->ctx, it);
        }
    }
    hash_unlock(s->hash, hv);
    return rc;
}

bool
store_peek(struct store *s, const char *key, size_t nkey,
           struct store_peek *out)
{
    uint64_t hv = hash_key(key, nkey);
    struct item *it;

    hash_lock(s->hash, hv);
    it = store_find_locked(s, hv, key, nkey, clock_now(s->clk));
    if (it != NULL) {
        out->nbytes = item_nbytes(it);
        out->clsid = item_clsid(it);
        out->exptime = item_exptime(it);
    }
    hash_unlock(s->hash, hv);
    return it != NULL;
}

struct item *
store_get(struct store *s, const char *key, size_t nkey)
{
    struct store_read r = {.touch = false};
    struct item *it;

    store_read(s, key, nkey, &r, &it);
    return it;
}

struct item *
store_get_touch(struct store *s, const char *key, size_t nkey,
                int64_t exptime)
{
    struct store_read r = {.touch = true, .exptime = exptime};
    struct item *it;

    store_read(s, key, nkey, &r, &it);
    return it;
}

void
store_release(struct store *s, struct item *it)
{
    store_item_deref(s, it);
}

int
store_touch(struct store *s, const char *key, size_t nkey, int64_t exptime)
{
    uint64_t hv = hash_key(key, nkey);
    rel_time_t now = clock_now(s->clk);
    rel_time_t exp = clock_exptime(s->clk, exptime);
    struct item *it;

    hash_lock(s->hash, hv);
    it = store_find_locked(s, hv, key, nkey, now);
    if (it != NULL) {
        store_set_exptime_locked(s, it, exp);
        store_hit_locked(s, it, now);
        store_ctr_add(s, item_clsid(it), CTR_TOUCH_HITS);
    }
    hash_unlock(s->hash, hv);
    return it != NULL ? STORE_OK : STORE_NOT_FOUND;
}

/* ---- storage ------------------------------------------------------ */

/* Drop whatever is stored under key (a failed set must not leave the
 * stale value behind, as in memcached). */
static void
store_drop(struct store *s, const char *key, size_t nkey)
{
    uint64_t hv = hash_key(key, nkey);
    struct item *it;

    hash_lock(s->hash, hv);
    it = hash_find_locked(s->hash, hv, key, nkey);
    if (it != NULL) {
        store_unlink_locked(s, hv, it, false);
    }
    hash_unlock(s->hash, hv);
}

/*
 * append/prepend: the new item depends on the old one, so it is built
 * under the item lock.  The bytes to add come from the staged item src
 * (store_item_new), which is consumed.
 */
static int
store_concat(struct store *s, bool append, struct item *src,
             uint64_t cas_in, uint64_t *cas_out)
{
    const char *key = item_key(src);
    size_t nkey = item_nkey(src);
    uint64_t hv = hash_key(key, nkey);
    rel_time_t now = clock_now(s->clk);
    struct item *old, *it;
    size_t olen, vlen = item_nbytes(src);
    int status = STORE_OK;

    /* memcached counts every storage command in cmd_set, stored or not */
    store_ctr_add(s, item_clsid(src), CTR_CMD_SET);
    hash_lock(s->hash, hv);
    old = store_find_locked(s, hv, key, nkey, now);
    if (old == NULL) {
        status = STORE_NOT_STORED;
    } else if (cas_in != 0 && item_cas(old) != cas_in) {
        status = STORE_EXISTS;
    }
    if (status != STORE_OK) {
        hash_unlock(s->hash, hv);
        store_item_deref(s, src);
        return status;
    }
    olen = item_nbytes(old);
    it = store_item_alloc(s, key, nkey, item_flags(old), olen + vlen,
                          &status);
    if (it == NULL) {
        /* as memcached: a joined value that cannot be allocated (over -I
         * or out of memory) is "not stored", the old value stays */
        hash_unlock(s->hash, hv);
        store_item_deref(s, src);
        return STORE_NOT_STORED;
    }
    store_value_copy(it, append ? 0 : vlen, old);
    store_value_copy(it, append ? olen : 0, src);
    item_set_exptime(it, item_get_exptime(old));
    store_link_locked(s, hv, it, old);
    if (cas_out != NULL) {
        *cas_out = item_cas(it);
    }
    hash_unlock(s->hash, hv);
    store_item_deref(s, it);
    store_item_deref(s, src);
    return STORE_OK;
}

struct item *
store_item_new(struct store *s, enum store_mode mode, const char *key,
               size_t nkey, uint32_t flags, int64_t exptime, size_t vlen,
               int *status)
{
    struct item *it;

    if (nkey == 0 || nkey > STORE_KEY_MAX) {
        *status = STORE_TOO_LARGE;
        return NULL;
    }
    it = store_item_alloc(s, key, nkey, flags, vlen, status);
    if (it == NULL) {
        /* refused before a class was chosen: counted in class 0 (every
         * storage command counts in cmd_set, as in memcached) */
        store_ctr_add(s, 0, CTR_CMD_SET);
        if (mode == STORE_SET) {
            store_drop(s, key, nkey);
        }
        return NULL;
    }
    item_set_exptime(it, clock_exptime(s->clk, exptime));
    return it;
}

void
store_item_abandon(struct store *s, struct item *it)
{
    store_item_deref(s, it);
}

int
store_item_commit(struct store *s, enum store_mode mode, struct item *it,
                  uint64_t cas_in, uint64_t *cas_out)
{
    const char *key = item_key(it);
    size_t nkey = item_nkey(it);
    uint64_t hv;
    rel_time_t now;
    struct item *old;
    bool as_cas;
    int status = STORE_OK;

    if (mode == STORE_APPEND || mode == STORE_PREPEND) {
        return store_concat(s, mode == STORE_APPEND, it, cas_in, cas_out);
    }
    /* A CAS value on set/add/replace (binary protocol) makes it a CAS;
     * without CAS (-C) memcached ignores it there, as if none was sent. */
    as_cas = mode == STORE_CAS || (cas_in != 0 && s->cfg.use_cas);
    store_ctr_add(s, item_clsid(it), CTR_CMD_SET);

    hv = hash_key(key, nkey);
    now = clock_now(s->clk);
    hash_lock(s->hash, hv);
    old = store_find_locked(s, hv, key, nkey, now);
    if (as_cas) {
        if (old == NULL) {
            status = STORE_NOT_FOUND;
        } else if (!s->cfg.use_cas || old->cas != cas_in) {
            /* Without CAS (-C) no CAS can match, as in memcached. */
            store_ctr_add(s, item_clsid(old), CTR_CAS_BADVAL);
            status = STORE_EXISTS;
        } else {
            store_ctr_add(s, item_clsid(old), CTR_CAS_HITS);
        }
    } else if (mode == STORE_ADD && old != NULL) {
        store_bump_locked(s, old, now);
        status = STORE_NOT_STORED;
    } else if (mode == STORE_REPLACE && old == NULL) {
        status = STORE_NOT_STORED;
    }
    if (status == STORE_OK) {
        store_link_locked(s, hv, it, old);
        if (cas_out != NULL) {
            *cas_out = item_cas(it);
        }
    }
    hash_unlock(s->hash, hv);
    store_item_deref(s, it);
    return status;
}

int
store_put(struct store *s, enum store_mode mode, const char *key,
          size_t nkey, uint32_t flags, int64_t exptime, const void *val,
          size_t vlen, uint64_t cas_in, uint64_t *cas_out)
{
    int status = STORE_OK;
    struct item *it = store_item_new(s, mode, key, nkey, flags, exptime,
                                     vlen, &status);

    if (it == NULL) {
        return status;
    }
    store_value_write(it, 0, val, vlen);
    return store_item_commit(s, mode, it, cas_in, cas_out);
}

/* ---- arithmetic --------------------------------------------------- */

static bool
store_isspace(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' ||
           c == '\r';
}

/*
 * Parse a value as memcached does (strtoull on the stored bytes): leading
 * white space, an optional sign, decimal digits, then white space or the
 * end; out of range, no digits, or negative are not numbers.
 */
static bool
store_parse_u64(const char *p, size_t n, uint64_t *out)
{
    size_t i = 0;
    bool neg = false;
    uint64_t v = 0;
    size_t digits = 0;

    while (i < n && store_isspace(p[i])) {
        i++;
    }
    if (i < n && (p[i] == '+' || p[i] == '-')) {
        neg = p[i] == '-';
        i++;
    }
    for (; i < n && p[i] >= '0' && p[i] <= '9'; i++, digits++) {
        unsigned d = (unsigned)(p[i] - '0');

        if (v > (UINT64_MAX - d) / 10) {
            return false;
        }
        v = v * 10 + d;
    }
    if (digits == 0 || (i < n && !store_isspace(p[i]) && p[i] != '\0')) {
        return false;
    }
    if (neg) {
        v = (uint64_t)0 - v;
        if ((int64_t)v < 0) {
            return false;
        }
    }
    *out = v;
    return true;
}

/* The numeric value of a small item, or false. */
static bool
store_item_number(const struct item *it, uint64_t *out)
{
    struct item_slice sl;

    if ((item_iflags(it) & ITEM_CHUNKED) || item_nbytes(it) == 0) {
        return false;
    }
    item_value(it, &sl, 1);
    return store_parse_u64(sl.ptr, sl.len, out);
}

/*
 * A new unlinked item for key holding the decimal v, at least minlen
 * bytes long: a shorter result keeps the old length, padded with spaces,
 * which is what memcached's in-place rewrite leaves, byte for byte.
 */
static struct item *
store_number_item(struct store *s, const char *key, size_t nkey,
                  uint32_t flags, uint64_t v, size_t minlen, int *status)
{
    char buf[24];
    size_t len = (size_t)snprintf(buf, sizeof(buf), "%llu",
                                  (unsigned long long)v);
    size_t nbytes = minlen > len ? minlen : len;
    struct item *it = store_item_alloc(s, key, nkey, flags, nbytes, status);

    if (it == NULL) {
        return NULL;
    }
    store_value_write(it, 0, buf, len);
    memset(buf, ' ', sizeof(buf));
    for (; len < nbytes; len += sizeof(buf)) {
        size_t n = nbytes - len < sizeof(buf) ? nbytes - len : sizeof(buf);

        store_value_write(it, len, buf, n);
    }
    return it;
}

int
store_arith_locked(struct store *s, uint64_t hv, const char *key,
                   size_t nkey, rel_time_t now, struct store_arith *a,
                   struct item **old, struct item **it)
{
    int status = STORE_OK;
    uint64_t v;

    a->created = false;
    *old = store_find_locked(s, hv, key, nkey, now);
    if (*old == NULL) {
        if (!a->create) {
            return STORE_NOT_FOUND;
        }
        v = a->initial;
        *it = store_number_item(s, key, nkey, a->create_flags, v, 0, &status);
        if (*it == NULL) {
            return status;
        }
        item_set_exptime(*it, clock_exptime(s->clk, a->create_exptime));
        a->created = true;
    } else {
        /* memcached's order: an empty value, or one memcached would
         * keep chunked, is non-numeric before the CAS is looked at, other
         * values after */
        if (item_nbytes(*old) == 0 ||
            store_mc_chunked(s, item_nkey(*old), item_flags(*old) != 0,
                             item_nbytes(*old))) {
            return STORE_NON_NUMERIC;
        }
        if (a->cas_in != 0 && item_cas(*old) != a->cas_in) {
            return STORE_EXISTS;
        }
        if (!store_item_number(*old, &v)) {
            return STORE_NON_NUMERIC;
        }
        if (a->incr) {
            v += a->delta;          /* wraps at 2^64, as memcached's */
        } else {
            v = v < a->delta ? 0 : v - a->delta;
        }
        *it = store_number_item(s, key, nkey, item_flags(*old), v,
                                item_nbytes(*old), &status);
        if (*it == NULL) {
            return status;
        }
        /* a result no longer than the old value is memcached's in-place
         * rewrite of the same item: it stays "fetched" (me, mg h) */
        if (item_nbytes(*it) == item_nbytes(*old) &&
            (item_iflags(*old) & ITEM_FETCHED) != 0) {
            item_set_iflag(*it, ITEM_FETCHED);
        }
        item_set_exptime(*it, item_get_exptime(*old));
        store_ctr_add(s, item_clsid((*old)),
                      a->incr ? CTR_INCR_HITS : CTR_DECR_HITS);
    }
    a->value = v;
    return STORE_OK;
}

int
store_arith(struct store *s, const char *key, size_t nkey,
            struct store_arith *a)
{
    uint64_t hv = hash_key(key, nkey);
    rel_time_t now = clock_now(s->clk);
    struct item *old, *it;
    int status;

    a->created = false;
    if (nkey == 0 || nkey > STORE_KEY_MAX) {
        return STORE_NOT_FOUND;
    }
    hash_lock(s->hash, hv);
    status = store_arith_locked(s, hv, key, nkey, now, a, &old, &it);
    if (status != STORE_OK) {
        hash_unlock(s->hash, hv);
        return status;
    }
    store_link_locked(s, hv, it, old);
    a->cas = item_cas(it);
    hash_unlock(s->hash, hv);
    store_item_deref(s, it);
    return STORE_OK;
}

/* ---- delete, flush, limits ---------------------------------------- */

int
store_delete(struct store *s, const char *key, size_t nkey, uint64_t cas_in)
{
    uint64_t hv = hash_key(key, nkey);
    rel_time_t now = clock_now(s->clk);
    struct item *it;
    int status = STORE_OK;

    hash_lock(s->hash, hv);
    it = store_find_locked(s, hv, key, nkey, now);
    if (it == NULL) {
        status = STORE_NOT_FOUND;
    } else if (cas_in != 0 && item_cas(it) != cas_in) {
        status = STORE_EXISTS;
    } else {
        store_ctr_add(s, item_clsid(it), CTR_DELETE_HITS);
        store_unlink_locked(s, hv, it, false);
    }
    hash_unlock(s->hash, hv);
    return status;
}

void
store_flush(struct store *s, int64_t delay)
{
    rel_time_t now = clock_now(s->clk);
    rel_time_t when = delay > 0 ? clock_exptime(s->clk, delay) : now;

    /* Like memcached's oldest_live: from second when - 1 on, items last
     * accessed up to then are invalid. */
    if (when <= now + 1) {
        /* Now: everything stored so far has a CAS below the next one.  An
         * immediate flush also cancels a pending delayed one. */
        uint64_t next = __atomic_add_fetch(&s->cas_seq, 1, __ATOMIC_RELAXED);

        __atomic_store_n(&s->oldest_cas, next, __ATOMIC_RELAXED);
        __atomic_store_n(&s->flush_at, 0, __ATOMIC_RELAXED);
    } else {
        __atomic_store_n(&s->flush_at, when - 1, __ATOMIC_RELAXED);
    }
    store_crawler_wake(s);
}

int
store_set_mem_limit(struct store *s, size_t bytes)
{
    bool ok = slabs_set_limit(s->slabs, bytes);

    __atomic_store_n(&s->cfg.mem_limit, bytes, __ATOMIC_RELAXED);
    if (!ok) {
        store_mover_wake(s);
    }
    return ok ? STORE_OK : STORE_NO_MEMORY;
}
