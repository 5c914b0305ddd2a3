/*
 * maintainer.c -- the LRU maintainer thread (slab/maintainer.h).
 *
 * Per class, one pass:
 *   - TEMP: reclaim expired items at the tail;
 *   - HOT and WARM: push tail items down to COLD while the segment holds
 *     more than its share of the class's bytes (hot_lru_pct, warm_lru_pct)
 *     or its tail is older than COLD's tail age times hot_max_factor /
 *     warm_max_factor; ACTIVE items move up to WARM (or to WARM's head)
 *     instead, losing the bit;
 *   - COLD: ACTIVE items at the tail get their second chance in WARM;
 *   - when the class is being written and no new page fits the budget,
 *     evict at the COLD tail until about two passes' worth of its stores
 *     have free chunks, so the next SETs find them ready.
 * Dead items met on the way are reclaimed.  All of it goes through
 * evict_pull_batch (one LRU lock, item trylocks, up to EVICT_BATCH_MAX
 * items per lock hold); the chunks it frees collect in the thread's
 * slab cache and go back to their class once per batch.  A class with
 * nothing to do and no stores is looked at once a second, not per pass.  The pass is the only caller of slab/ above the index; it
 * sleeps between passes, longer while there is nothing to do, and a store
 * that had to evict inline ends the sleep (maintainer_kick).
 */
#include "slab/lock.h"
#include "slab/maintainer.h"

#include <errno.h>
#include <time.h>

#include "slab/evict.h"
#include "slab/store_int.h"

/* Moves per class per pass (memcached: 500). */
#define MAINT_MOVES 500

/* Sleep between passes, microseconds: shortest, longest. */
#define MAINT_SLEEP_MIN 1000
#define MAINT_SLEEP_MAX 1000000

/* Idle seconds of the tail item of (id, seg), 0 when empty. */
static rel_time_t
maint_tail_age(struct store *s, unsigned id, unsigned seg, rel_time_t now)
{
    struct lru *l = store_lru(s, id, seg);
    rel_time_t age = 0;
    struct item *it;

    lock_take(&l->lock, LOCK_LRU);
    for (it = l->tail; it != NULL; it = it->prev) {
        if (!item_is_marker(it)) {
            age = now - item_get_atime(it);
            break;
        }
    }
    pthread_mutex_unlock(&l->lock);
    return age;
}

/* Bytes held by the items of (id, seg). */
static uint64_t
maint_bytes(struct store *s, unsigned id, unsigned seg)
{
    struct lru *l = store_lru(s, id, seg);
    uint64_t b;

    lock_take(&l->lock, LOCK_LRU);
    b = l->mem_requested;
    pthread_mutex_unlock(&l->lock);
    return b;
}

/* Items stored in class id so far (summed over the counter shards). */
static uint64_t
maint_sets(struct store *s, unsigned id)
{
    uint64_t n = 0;
    unsigned i;

    for (i = 0; i < STORE_CTR_SHARDS; i++) {
        n += __atomic_load_n(&s->ctr[i].c[id][CTR_CMD_SET],
                             __ATOMIC_RELAXED);
    }
    return n;
}

/*
 * Evict ahead of demand in class id: when no page can be added and the
 * class is being written, keep two passes' worth of its stores free (at
 * most a quarter page and 1/64 of the class), so that those stores find a
 * chunk without evicting inline.  The bound is the class's own store rate,
 * not a fixed count: a fixed 32 left a class taking 300,000 sets/s
 * evicting 90 % of them inline.  The free chunks this keeps are items the
 * cache does not hold: about one pass of stores, a fraction of a percent
 * of the class.  No cap on evictions per pass beyond want: a cap below the
 * demand is the same inline eviction.
 */
static uint64_t
maint_free_ahead(struct store *s, unsigned id, uint64_t demand)
{
    struct slabs_class_stats st;
    uint64_t done = 0;
    size_t want;

    if (demand == 0 || !s->cfg.evict ||
        slabs_malloced(s->slabs) + s->cfg.page_size <=
            slabs_limit(s->slabs)) {
        return 0;
    }
    slabs_class_stats(s->slabs, id, &st);
    /* held empty: at most a quarter page, and 1/64 of the class so a
     * class of one or two pages keeps nearly all its chunks in use */
    want = 2 * demand;
    if (want > st.perslab / 4) {
        want = st.perslab / 4;
    }
    if (want > st.total_chunks / 64) {
        want = st.total_chunks / 64;
    }
    /* chunks in a writer's cache are no use to the other writers: only
     * the free list and the uncarved end count */
    while (st.free_chunks - st.cached + st.free_end < want && done < want) {
        uint64_t k = want - (st.free_chunks - st.cached) - st.free_end;
        unsigned n;

        if (k > want - done) {
            k = want - done;
        }
        n = evict_pull_batch(s, id, LRU_COLD, EVICT_EVICT, 0, 0,
                             k < EVICT_BATCH_MAX ? (unsigned)k
                                                 : EVICT_BATCH_MAX);
        if (n == 0) {
            break;
        }
        done += n;
        /* the batch's chunks went to this thread's cache: out to the
         * class free list, where the writers' refills find them */
        slabs_flush_mine(s->slabs);
        slabs_class_stats(s->slabs, id, &st);
    }
    if (done > 0) {
        store_mover_topup(s, id);
    }
    return done;
}

/* One pass over class id with tuning t; returns items moved or freed.
 * skip_quiet: the thread's own passes skip quiet classes (see below). */
static uint64_t
maint_class(struct store *s, unsigned id, const struct store_lru_tune *t,
            bool skip_quiet)
{
    rel_time_t now = clock_now(s->clk);
    rel_time_t cold_age = maint_tail_age(s, id, LRU_COLD, now);
    rel_time_t hot_age = (rel_time_t)(cold_age * t->hot_max_factor);
    rel_time_t warm_age = (rel_time_t)(cold_age * t->warm_max_factor);
    uint64_t sets = maint_sets(s, id);
    /* "stats reset" zeroes the store counters */
    uint64_t demand = sets >= s->maint_seen[id] ? sets - s->maint_seen[id]
                                                : sets;
    uint64_t total = 0;
    uint64_t done = 0;
    uint64_t i;
    unsigned seg;

    s->maint_seen[id] = sets;
    /* A class that had nothing to do and was not written since: ages
     * change with the clock, so it is looked at again once a second, not
     * every pass (the pass's few locks per class added up to 14 locks
     * per request under a set-heavy load). */
    if (skip_quiet && demand == 0 && s->maint_quiet[id] &&
        s->maint_when[id] == now) {
        return 0;
    }
    s->maint_when[id] = now;
    s->maint_quiet[id] = false;
    for (seg = 0; seg < LRU_SEGS; seg++) {
        total += maint_bytes(s, id, seg);
    }
    if (total == 0) {
        s->maint_quiet[id] = true;
        return 0;
    }
    if (t->temp_lru) {
        unsigned n;

        while (done < MAINT_MOVES &&
               (n = evict_pull_batch(s, id, LRU_TEMP, EVICT_RECLAIM, 0, 0,
                                     EVICT_BATCH_MAX)) != 0) {
            done += n;
        }
    }
    /* Every store enters HOT: at least as many moves down as there were
     * stores, or HOT swells past its share under a fast writer (84 % of
     * the class at 300,000 sets/s with a fixed 500) and COLD, where
     * eviction and second chances happen, runs dry. */
    /* In batches: one hold of a list's lock (and of each target's) per
     * EVICT_BATCH_MAX items, not per item. */
    for (i = 0; i < MAINT_MOVES + demand; i += EVICT_BATCH_MAX) {
        uint64_t more = 0;

        /* Flat mode drains HOT and WARM into COLD (limit 0). */
        more += evict_pull_batch(s, id, LRU_HOT, EVICT_JUGGLE,
                                 t->segmented ? total * t->hot_pct / 100
                                              : 0,
                                 hot_age, EVICT_BATCH_MAX);
        more += evict_pull_batch(s, id, LRU_WARM, EVICT_JUGGLE,
                                 t->segmented ? total * t->warm_pct / 100
                                              : 0,
                                 warm_age, EVICT_BATCH_MAX);
        if (t->segmented) {
            more += evict_pull_batch(s, id, LRU_COLD, EVICT_JUGGLE, 0, 0,
                                     EVICT_BATCH_MAX);
        }
        if (more == 0) {
            break;
        }
        done += more;
    }
    done += maint_free_ahead(s, id, demand);
    /* reclaimed items freed into this thread's cache: back to the class */
    slabs_flush_mine(s->slabs);
    s->maint_quiet[id] = done == 0;
    return done;
}

static uint64_t
maint_pass(struct store *s, bool skip_quiet)
{
    unsigned largest = slabs_largest(s->slabs);
    struct store_lru_tune t;
    uint64_t done = 0;
    unsigned id;

    store_lru_tune_get(s, &t);
    for (id = 1; id <= largest; id++) {
        done += maint_class(s, id, &t, skip_quiet);
    }
    return done;
}

uint64_t
maintainer_pass(struct store *s)
{
    return maint_pass(s, false);
}

static void *
maint_main(void *arg)
{
    struct store *s = arg;
    long sleep_us = MAINT_SLEEP_MIN;

    lock_take(&s->maint_lock, LOCK_MAINT);
    while (!s->maint_stop) {
        struct timespec ts;
        uint64_t done;

        pthread_mutex_unlock(&s->maint_lock);
        done = maint_pass(s, true);
        /* Back off while passes find nothing to do; hurry when they do:
         * back to the shortest sleep at once, since halving from a long
         * idle sleep left a burst of writes after a pause evicting inline
         * for a tenth of a second (scripts/memfit --only inline). */
        if (done > 0) {
            sleep_us = MAINT_SLEEP_MIN;
        } else if (sleep_us < MAINT_SLEEP_MAX) {
            sleep_us = sleep_us * 2 < MAINT_SLEEP_MAX ? sleep_us * 2
                                                      : MAINT_SLEEP_MAX;
        }
        lock_take(&s->maint_lock, LOCK_MAINT);
        if (s->maint_stop) {
            break;
        }
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_nsec += sleep_us * 1000;
        ts.tv_sec += ts.tv_nsec / 1000000000;
        ts.tv_nsec %= 1000000000;
        __atomic_store_n(&s->maint_napping, true, __ATOMIC_RELAXED);
        pthread_cond_timedwait(&s->maint_cond, &s->maint_lock, &ts);
        __atomic_store_n(&s->maint_napping, false, __ATOMIC_RELAXED);
    }
    pthread_mutex_unlock(&s->maint_lock);
    return NULL;
}

int
maintainer_start(struct store *s)
{
    pthread_condattr_t ca;

    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->maint_cond, &ca);
    pthread_condattr_destroy(&ca);
    s->maint_stop = false;
    if (pthread_create(&s->maint_thread, NULL, maint_main, s) != 0) {
        pthread_cond_destroy(&s->maint_cond);
        return -ENOMEM;
    }
    s->maint_started = true;
    return 0;
}

void
maintainer_kick(struct store *s)
{
    /* The flag keeps a writer that evicts inline over and over to one
     * signal per sleep, and none while a pass runs. */
    if (!s->maint_started ||
        !__atomic_load_n(&s->maint_napping, __ATOMIC_RELAXED)) {
        return;
    }
    lock_take(&s->maint_lock, LOCK_MAINT);
    if (__atomic_load_n(&s->maint_napping, __ATOMIC_RELAXED)) {
        __atomic_store_n(&s->maint_napping, false, __ATOMIC_RELAXED);
        pthread_cond_signal(&s->maint_cond);
    }
    pthread_mutex_unlock(&s->maint_lock);
}

void
maintainer_stop(struct store *s)
{
    if (!s->maint_started) {
        return;
    }
    lock_take(&s->maint_lock, LOCK_MAINT);
    __atomic_store_n(&s->maint_stop, true, __ATOMIC_RELAXED);
    pthread_cond_signal(&s->maint_cond);
    pthread_mutex_unlock(&s->maint_lock);
    pthread_join(s->maint_thread, NULL);
    pthread_cond_destroy(&s->maint_cond);
    s->maint_started = false;
}
