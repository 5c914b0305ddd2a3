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
 * a segment that agrees with the list the item is (about to be) in.  The
 * maintainer works in batches (evict_pull_batch): up to EVICT_BATCH_MAX
 * items per hold of the source lock, their item locks all held until one
 * hold of each target lock has linked them; a batch only trylocks item
 * locks, so holding several cannot deadlock with a thread that holds one
 * and waits for an LRU lock.
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

/* An item taken out of its list by a batch, item lock still held, to be
 * linked into segment seg once the source lock is let go. */
struct evict_move {
    struct item *it;
    uint64_t hv;
    unsigned seg;
    size_t size;
};

/* Take it out of l (locked) for a move; its item lock stays held. */
static void
evict_unlink_for_move(struct lru *l, struct item *it, size_t size)
{
    lru_unlink_locked(l, it);
    l->number--;
    l->mem_requested -= size;
    if (item_get_exptime(it) != 0) {
        l->number_ttl--;
    }
}

/*
 * Link the n items of mv (no LRU lock held, their item locks held) into
 * their target segments of class id, one lock hold per target, in the
 * order they left the source (tail first, so they keep their order), and
 * let go of their item locks.
 */
static void
evict_link_moved(struct store *s, unsigned id, struct evict_move *mv,
                 unsigned n)
{
    unsigned seg, i;

    for (seg = 0; seg < LRU_SEGS && n > 0; seg++) {
        struct lru *to = store_lru(s, id, seg);
        bool held = false;

        for (i = 0; i < n; i++) {
            struct item *it = mv[i].it;

            if (mv[i].seg != seg) {
                continue;
            }
            if (!held) {
                lock_take(&to->lock, LOCK_LRU);
                held = true;
            }
            item_set_seg(it, seg);
            lru_link_locked(to, it);
            to->number++;
            to->mem_requested += mv[i].size;
            if (item_get_exptime(it) != 0) {
                to->number_ttl++;
            }
        }
        if (held) {
            pthread_mutex_unlock(&to->lock);
        }
    }
    for (i = 0; i < n; i++) {
        hash_unlock(s->hash, mv[i].hv);
    }
}

/*
 * The work of evict_pull_tail and evict_pull_batch: act on up to max
 * items at the tail of (id, seg) under one hold of its lock, giving up
 * after EVICT_TAIL_SEARCH items that do not qualify (busy, or live under
 * EVICT_RECLAIM).  Items moved to another segment keep their item locks
 * until they are linked there, after the source lock is let go: so no
 * two LRU locks are held at once.  *first gets what was done first.
 */
static unsigned
evict_pull(struct store *s, unsigned id, unsigned seg, enum evict_mode mode,
           uint64_t limit, rel_time_t max_age, bool direct, unsigned max,
           enum evict_rc *first)
{
    struct lru *l = store_lru(s, id, seg);
    rel_time_t now = clock_now(s->clk);
    struct evict_move mv[EVICT_BATCH_MAX];
    unsigned nmv = 0, done = 0, skipped = 0;
    struct item *it, *prev;

    *first = EVICT_NONE;
    if (max > EVICT_BATCH_MAX) {
        max = EVICT_BATCH_MAX;
    }
    lock_take(&l->lock, LOCK_LRU);
    for (it = evict_skip_marker(l->tail);
         it != NULL && done < max && skipped < EVICT_TAIL_SEARCH;
         it = prev) {
        uint64_t hv = hash_key(it->data, item_nkey_raw(it));
        bool dead = store_item_dead(s, it, now) != STORE_LIVE;
        enum evict_rc rc = EVICT_FREED;

        /* read before it leaves the list or is freed */
        prev = evict_skip_marker(it->prev);
        if ((!dead && mode == EVICT_RECLAIM) ||
            !hash_trylock(s->hash, hv)) {
            skipped++;
            continue;
        }
        if (!dead && (mode == EVICT_JUGGLE ||
                      (mode == EVICT_EVICT && seg == LRU_COLD))) {
            int to = evict_juggle_target(s, l, it, seg, limit, max_age, now);

            if (to == (int)seg) {
                lru_bump_locked(l, it);
                hash_unlock(s->hash, hv);
                rc = EVICT_MOVED;
            } else if (to >= 0) {
                mv[nmv].it = it;
                mv[nmv].hv = hv;
                mv[nmv].seg = (unsigned)to;
                mv[nmv].size = store_item_size(it);
                evict_unlink_for_move(l, it, mv[nmv].size);
                nmv++;
                rc = EVICT_MOVED;
            } else if (mode == EVICT_JUGGLE) {
                /* the items above are younger: nothing more to move */
                hash_unlock(s->hash, hv);
                break;
            }
        }
        if (rc == EVICT_FREED) {
            if (item_refs(it) > 1) {
                /* Being read: unlinking it would not free its memory. */
                l->lrutail_reflocked++;
                hash_unlock(s->hash, hv);
                skipped++;
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
        }
        if (done++ == 0) {
            *first = rc;
        }
    }
    pthread_mutex_unlock(&l->lock);
    evict_link_moved(s, id, mv, nmv);
    return done;
}

enum evict_rc
evict_pull_tail(struct store *s, unsigned id, unsigned seg,
                enum evict_mode mode, uint64_t limit, rel_time_t max_age,
                bool direct)
{
    enum evict_rc rc;

    evict_pull(s, id, seg, mode, limit, max_age, direct, 1, &rc);
    return rc;
}

unsigned
evict_pull_batch(struct store *s, unsigned id, unsigned seg,
                 enum evict_mode mode, uint64_t limit, rel_time_t max_age,
                 unsigned max)
{
    enum evict_rc rc;

    return evict_pull(s, id, seg, mode, limit, max_age, false, max, &rc);
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
        /* a batch: the next allocations find COLD filled and evict
         * there at once (2 locks), rather than each going through the
         * empty COLD and the HOT and WARM tails (9) */
        if (evict_pull_batch(s, id, LRU_HOT, EVICT_JUGGLE, 0, 0,
                             EVICT_BATCH_MAX) == 0 &&
            evict_pull_batch(s, id, LRU_WARM, EVICT_JUGGLE, 0, 0,
                             EVICT_BATCH_MAX) == 0) {
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
