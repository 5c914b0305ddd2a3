/*
 * evict.c -- the tails of a class's LRU segments: reclaim of dead items,
 * eviction, and moves between segments (slab/evict.h).
 *
 * Called by allocation (store_alloc.c) and by the maintainer thread
 * (maintainer.c); calls down only into the index (hash, LRU lists,
 * counters) and, through store_unlink_locked, the slab allocator.
 *
 * A walker holds one LRU lock and takes item locks by trylock: a busy item
 * is skipped, never waited for.  A move takes the item out of its list
 * under the source lock, drops that lock, and links it into the target
 * under the target's lock, all while holding the item lock: so no two LRU
 * locks are ever held at once, and a holder of the item lock always reads
 * a segment that agrees with the list the item is (about to be) in.
 */
#include "slab/evict.h"

#include "slab/lock.h"
#include "slab/store_int.h"

/* Items examined at a tail per call (memcached: 5). */
#define EVICT_TAIL_SEARCH 5

/* Rounds of "pull COLD, push HOT/WARM down" per allocation. */
#define EVICT_ROUNDS 50

/* The tail-most real item at or above it (cursors skipped). */
static struct item *
evict_skip_marker(struct item *it)
{
    while (it != NULL && item_is_marker(it)) {
        it = it->prev;
    }
    return it;
}

/*
 * Move it from l (locked, left unlocked on return) to the head of
 * segment seg of its class; the item lock is held.
 */
static void
evict_move_locked(struct store *s, struct lru *l, struct item *it,
                  unsigned seg)
{
    struct lru *to = store_lru(s, item_clsid(it), seg);
    size_t size = store_item_size(it);
    bool ttl = item_get_exptime(it) != 0;

    lru_unlink_locked(l, it);
    l->number--;
    l->mem_requested -= size;
    if (ttl) {
        l->number_ttl--;
    }
    pthread_mutex_unlock(&l->lock);
    lock_take(&to->lock, LOCK_LRU);
    item_set_seg(it, seg);
    lru_link_locked(to, it);
    to->number++;
    to->mem_requested += size;
    if (ttl) {
        to->number_ttl++;
    }
    pthread_mutex_unlock(&to->lock);
}

/* Account for and unlink a dead item (l and item lock held). */
static void
evict_reclaim_locked(struct store *s, struct lru *l, uint64_t hv,
                     struct item *it, rel_time_t now)
{
    l->reclaimed++;
    if (!(item_iflags(it) & ITEM_FETCHED) && item_get_exptime(it) != 0 &&
        item_get_exptime(it) <= now) {
        l->expired_unfetched++;
    }
    store_unlink_locked(s, hv, it, true);
}

/* Tell the eviction hook about it (l and item lock held). */
static void
evict_report(struct store *s, const struct item *it, uint8_t f,
             rel_time_t now)
{
    struct store_evicted e;
    rel_time_t exp = item_get_exptime(it);

    e.key = item_key(it);
    e.nkey = item_nkey(it);
    e.nbytes = item_nbytes(it);
    e.clsid = item_clsid(it);
    e.fetched = (f & ITEM_FETCHED) != 0;
    e.ttl = exp == 0 ? -1 : (long long)exp - (long long)now;
    e.la = now - item_get_atime(it);
    s->cfg.on_evict(s->cfg.evict_ctx, &e);
}

/* Account for and unlink a live item (l and item lock held). */
static void
evict_evict_locked(struct store *s, struct lru *l, uint64_t hv,
                   struct item *it, rel_time_t now)
{
    uint8_t f = item_iflags(it);

    l->evicted++;
    l->evicted_time = now - item_get_atime(it);
    if (s->cfg.on_evict != NULL) {
        evict_report(s, it, f, now);
    }
    if (item_get_exptime(it) != 0) {
        l->evicted_nonzero++;
    }
    if (!(f & ITEM_FETCHED)) {
        l->evicted_unfetched++;
    }
    if (f & ITEM_ACTIVE) {
        l->evicted_active++;
    }
    store_unlink_locked(s, hv, it, true);
}

/*
 * The segment a live tail item of seg should go to under mode, seg itself
 * to bump it within its list, or -1 to leave it (and stop looking: the
 * items above are younger).  Counts the move in l.
 */
static int
evict_juggle_target(struct store *s, struct lru *l, struct item *it,
                    unsigned seg, uint64_t limit, rel_time_t max_age,
                    rel_time_t now)
{
    bool active = item_iflags(it) & ITEM_ACTIVE;

    if (seg == LRU_TEMP) {
        return -1;
    }
    if (active && __atomic_load_n(&s->cfg.lru.segmented, __ATOMIC_RELAXED)) {
        item_clear_iflag(it, ITEM_ACTIVE);
        if (seg == LRU_WARM) {
            l->moves_within_lru++;
        } else {
            l->moves_to_warm++;
        }
        return LRU_WARM;
    }
    if (seg == LRU_COLD) {
        return -1;
    }
    if (l->mem_requested > limit || now - item_get_atime(it) > max_age ||
        !__atomic_load_n(&s->cfg.lru.segmented, __ATOMIC_RELAXED)) {
        l->moves_to_cold++;
        return LRU_COLD;
    }
    return -1;
}

enum evict_rc
evict_pull_tail(struct store *s, unsigned id, unsigned seg,
                enum evict_mode mode, uint64_t limit, rel_time_t max_age,
                bool direct)
{
    struct lru *l = store_lru(s, id, seg);
    rel_time_t now = clock_now(s->clk);
    struct item *it;
    int n;

    lock_take(&l->lock, LOCK_LRU);
    it = evict_skip_marker(l->tail);
    for (n = 0; it != NULL && n < EVICT_TAIL_SEARCH;
         n++, it = evict_skip_marker(it->prev)) {
        uint64_t hv = hash_key(it->data, item_nkey_raw(it));
        bool dead = store_item_dead(s, it, now) != STORE_LIVE;
        int to = -1;

        if (!dead && mode == EVICT_RECLAIM) {
            continue;
        }
        if (!hash_trylock(s->hash, hv)) {
            continue;
        }
        if (!dead && (mode == EVICT_JUGGLE ||
                      (mode == EVICT_EVICT && seg == LRU_COLD))) {
            to = evict_juggle_target(s, l, it, seg, limit, max_age, now);
            if (to >= 0) {
                if ((unsigned)to == seg) {
                    lru_bump_locked(l, it);
                    pthread_mutex_unlock(&l->lock);
                } else {
                    evict_move_locked(s, l, it, (unsigned)to);
                }
                hash_unlock(s->hash, hv);
                return EVICT_MOVED;
            }
            if (mode == EVICT_JUGGLE) {
                hash_unlock(s->hash, hv);
                break;
            }
        }
        if (item_refs(it) > 1) {
            /* Being read: unlinking it would not free its memory now. */
            l->lrutail_reflocked++;
            hash_unlock(s->hash, hv);
            continue;
        }
        if (dead) {
            evict_reclaim_locked(s, l, hv, it, now);
        } else {
            evict_evict_locked(s, l, hv, it, now);
            if (direct) {
                l->evicted_direct++;
            }
        }
        if (direct) {
            l->direct_reclaims++;
        }
        hash_unlock(s->hash, hv);
        pthread_mutex_unlock(&l->lock);
        return EVICT_FREED;
    }
    pthread_mutex_unlock(&l->lock);
    return EVICT_NONE;
}

bool
evict_for_alloc(struct store *s, unsigned id, bool evict)
{
    enum evict_mode mode = evict ? EVICT_EVICT : EVICT_RECLAIM;
    int round;

    if (__atomic_load_n(&s->cfg.lru.temp_lru, __ATOMIC_RELAXED) &&
        evict_pull_tail(s, id, LRU_TEMP, EVICT_RECLAIM, 0, 0, true) ==
            EVICT_FREED) {
        return true;
    }
    for (round = 0; round < EVICT_ROUNDS; round++) {
        enum evict_rc rc =
            evict_pull_tail(s, id, LRU_COLD, mode, 0, 0, true);

        if (rc == EVICT_FREED) {
            return true;
        }
        if (rc == EVICT_MOVED) {
            continue;
        }
        /* COLD gave nothing (empty, busy or all dead-but-read): the
         * maintainer is behind or off, so push HOT and WARM down now. */
        if (evict_pull_tail(s, id, LRU_HOT, EVICT_RECLAIM, 0, 0, true) ==
                EVICT_FREED ||
            evict_pull_tail(s, id, LRU_WARM, EVICT_RECLAIM, 0, 0, true) ==
                EVICT_FREED) {
            return true;
        }
        if (!evict) {
            break;
        }
        if (evict_pull_tail(s, id, LRU_HOT, EVICT_JUGGLE, 0, 0, false) ==
                EVICT_NONE &&
            evict_pull_tail(s, id, LRU_WARM, EVICT_JUGGLE, 0, 0, false) ==
                EVICT_NONE) {
            break;
        }
    }
    if (!evict) {
        return false;
    }
    /* Every candidate was ACTIVE (or busy): evict regardless, as
     * memcached's allocation does, rather than fail the store. */
    return evict_pull_tail(s, id, LRU_COLD, EVICT_FORCE, 0, 0, true) ==
               EVICT_FREED ||
           evict_pull_tail(s, id, LRU_HOT, EVICT_FORCE, 0, 0, true) ==
               EVICT_FREED ||
           evict_pull_tail(s, id, LRU_WARM, EVICT_FORCE, 0, 0, true) ==
               EVICT_FREED;
}
