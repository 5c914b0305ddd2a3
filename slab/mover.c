/*
 * mover.c -- the slab page mover: memory follows the workload's size mix.
 *
 * One background thread moves one page at a time from a class to another
 * class, to the global page pool, or back to the allocator.  Work comes
 * from "slabs reassign" (store_slabs_reassign), from automove (below) and
 * from a memory limit lowered under what is malloc'ed (cache_memlimit).
 *
 * Moving a page clears its chunks one by one (slab/slabs.h has the kinds):
 *   free             taken off the free list (slabs does it);
 *   item, linked     rescued: copied into a free chunk of the same class
 *                    and relinked in place (same CAS, TTL, flags, LRU
 *                    segment and position), or evicted if the class has no
 *                    free chunk; expired or flushed ones are just dropped;
 *   item, busy       referenced by a reader, or allocated and not yet
 *                    linked by a writer: left alone and looked at again
 *                    on the next pass; a linked item that stays busy for
 *                    MOVER_BUSY_PASSES passes is unlinked, and its memory
 *                    comes back when its last holder lets go;
 *   chunk            a continuation chunk: its owner (chunk->head) is
 *                    evicted, which frees the whole chain.
 * When no chunk is left the page is wiped and handed over.
 *
 * Automove.  Every second (every MOVER_FAST_MS after a move) the mover
 * samples each class: evictions since the last sample, the age of its
 * COLD tail, free chunks.  Mode 1 (memcached's default): the youngest
 * class that evicted in this sample gets a page from the class with the
 * oldest tail when youngest age < oldest age * automove_ratio; a class
 * that has kept more than 2.5 pages of free chunks for automove_window
 * samples gives a page to the global pool.  Mode 2: any class that evicted
 * gets a page from the oldest class, whatever the ages.
 *
 * Locks: see the order in slab/store.c.  The mover takes a class lock only
 * to read one chunk's kind and reference its item, then the item lock,
 * then (to relink) the item's LRU lock and a class lock for the new chunk.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "slab/lock.h"
#include "slab/store_int.h"

/* Passes over a page with busy chunks before busy linked items are
 * unlinked (a pass with no progress sleeps MOVER_BUSY_SLEEP_US). */
#define MOVER_BUSY_PASSES 200
#define MOVER_BUSY_SLEEP_US 1000

/* Automove sampling: every second, sooner right after a move. */
#define MOVER_TICK_MS 1000
#define MOVER_FAST_MS 100

/* Longest window kept (samples). */
#define MOVER_WINDOW_MAX 1024

/* A class's second-page state (mover->topup). */
enum {
    TOPUP_NONE = 0,     /* not asked yet */
    TOPUP_ASKED,        /* asked, the mover has not looked yet */
    TOPUP_DONE,         /* looked at: never again */
};

enum mover_rc {
    MV_DONE = 0,    /* cleared */
    MV_PROGRESS,    /* changed something, look again */
    MV_BUSY,        /* in use, wait */
};

struct mover {
    pthread_mutex_t lock;       /* leaf: the fields down to running */
    pthread_cond_t cond;
    pthread_t thread;
    bool started;
    bool stop;                  /* atomic reads outside the lock */
    bool pending;               /* a reassign request waits */
    int req_src;
    int req_dst;
    unsigned running;           /* atomic: a page is being moved */
    unsigned automove;          /* atomic */

    /* Counters, atomic. */
    uint64_t rescues;
    uint64_t chunk_rescues;
    uint64_t evictions_nomem;
    uint64_t inline_reclaim;
    uint64_t busy_items;
    uint64_t busy_deletes;
    uint64_t moved;

    /* Second pages: TOPUP_* by class, atomic; topup_any says one is
     * asked (under lock). */
    uint8_t topup[SLAB_CLASS_MAX];
    bool topup_any;

    /* Automove samples, mover thread only. */
    uint64_t last_evicted[SLAB_CLASS_MAX];
    unsigned free_streak[SLAB_CLASS_MAX];
    bool sampled;
};

static uint64_t
mover_ld(const uint64_t *p)
{
    return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static void
mover_inc(uint64_t *p)
{
    __atomic_add_fetch(p, 1, __ATOMIC_RELAXED);
}

/* ---- moving one page ---------------------------------------------- */

/* Put nit where it is (item lock held, refs: link + ours): same bytes,
 * same place in hash and LRU. */
static void
mover_relink_locked(struct store *s, uint64_t hv, struct item *it,
                    struct item *nit, size_t csize)
{
    struct lru *l = store_lru_of(s, it);

    /* Under the LRU lock: neighbours rewrite it->next/prev under it. */
    lock_take(&l->lock, LOCK_LRU);
    /* All but the count, which a lock-free reader with a stale pointer to
     * nit may be trying (item_ref_take_live): it stays 0 until the copy
     * is complete, then is released. */
    memcpy(nit, it, offsetof(struct item, refcount));
    memcpy((char *)nit + offsetof(struct item, iflags),
           (char *)it + offsetof(struct item, iflags),
           csize - offsetof(struct item, iflags));
    __atomic_store_n(&nit->refcount, 1, __ATOMIC_RELEASE);
    if (it->prev != NULL) {
        it->prev->next = nit;
    } else {
        l->head = nit;
    }
    if (it->next != NULL) {
        it->next->prev = nit;
    } else {
        l->tail = nit;
    }
    it->next = NULL;
    it->prev = NULL;
    pthread_mutex_unlock(&l->lock);
    hash_replace_locked(s->hash, hv, it, nit);
    item_clear_iflag(it, ITEM_LINKED);
    if (item_iflags(nit) & ITEM_CHUNKED) {
        struct chunk *c;

        for (c = item_desc_get(nit).first; c != NULL; c = c->next) {
            c->head = nit;
        }
    }
}

/*
 * Reference the item (or chunk owner) in chunk p of the page being moved
 * out of id.  Returns NULL with *rc set when there is nothing to take.
 */
static struct item *
mover_take(struct store *s, unsigned id, char *p, bool *is_chunk,
           enum mover_rc *rc)
{
    struct item *it;
    uint8_t k;

    slabs_lock(s->slabs, id);
    k = slabs_move_kind_locked(s->slabs, id, p);
    if (k == SLAB_KIND_CLEARED || k == SLAB_KIND_NEW) {
        slabs_unlock(s->slabs, id);
        *rc = k == SLAB_KIND_CLEARED ? MV_DONE : MV_BUSY;
        return NULL;
    }
    *is_chunk = k == SLAB_KIND_CHUNK;
    /* A chunk in use keeps its owner allocated: owners are freed after
     * their chunks, and freeing this chunk waits for the class lock. */
    it = *is_chunk ? ((struct chunk *)p)->head : (struct item *)p;
    if (!(item_iflags(it) & ITEM_LINKED)) {
        /* Being built by a writer, or unlinked and still read. */
        slabs_unlock(s->slabs, id);
        *rc = MV_BUSY;
        return NULL;
    }
    if (!item_ref_take_live(it)) {
        /* Its last reference is being dropped: the freer is on its way
         * (waiting for this lock). */
        slabs_unlock(s->slabs, id);
        *rc = MV_BUSY;
        return NULL;
    }
    slabs_unlock(s->slabs, id);
    return it;
}

/*
 * Take the last two references of it (the link's and the mover's) at
 * once, leaving the count 0 so that no lock-free reader can take one
 * while it is copied and its chunk freed.  False if a reader holds one.
 */
static bool
mover_claim(struct item *it)
{
    uint16_t two = 2;

    return __atomic_compare_exchange_n(&it->refcount, &two, 0, false,
                                       __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

/* Clear chunk p of the page being moved out of id (nothing held). */
static enum mover_rc
mover_chunk(struct store *s, unsigned id, char *p, bool force)
{
    struct mover *mv = s->mover;
    enum mover_rc rc = MV_PROGRESS;
    bool is_chunk = false;
    struct item *it, *nit;
    uint64_t hv;

    it = mover_take(s, id, p, &is_chunk, &rc);
    if (it == NULL) {
        return rc;
    }
    hv = hash_key(it->data, item_nkey_raw(it));
    hash_lock(s->hash, hv);
    if (!(item_iflags(it) & ITEM_LINKED)) {
        rc = MV_PROGRESS;
    } else if (store_item_dead(s, it, clock_now(s->clk)) != STORE_LIVE) {
        mover_inc(&mv->inline_reclaim);
        store_unlink_locked(s, hv, it, false);
    } else if (__atomic_load_n(&it->refcount, __ATOMIC_ACQUIRE) > 2) {
        /* acquire: pairs with the release of a reader's last reference,
         * so its reads of the value are over before the page is wiped */
        mover_inc(&mv->busy_items);
        rc = MV_BUSY;
        if (force) {
            /* Its holders free it when they let go. */
            mover_inc(&mv->busy_deletes);
            store_unlink_locked(s, hv, it, false);
        }
    } else if (is_chunk ||
               (nit = slabs_alloc_free(s->slabs, id)) == NULL) {
        mover_inc(&mv->evictions_nomem);
        store_unlink_locked(s, hv, it, false);
    } else if (!mover_claim(it)) {
        /* a lock-free reader took a reference since the check above */
        slabs_free(s->slabs, id, nit);
        mover_inc(&mv->busy_items);
        rc = MV_BUSY;
    } else {
        mover_relink_locked(s, hv, it, nit, slabs_size(s->slabs, id));
        mover_inc((item_iflags(nit) & ITEM_CHUNKED) ? &mv->chunk_rescues
                                                     : &mv->rescues);
        hash_unlock(s->hash, hv);
        /* Ours alone (mover_claim); its chunks belong to the copy, so
         * only the header chunk is given back. */
        slabs_free(s->slabs, id, it);
        return MV_DONE;
    }
    hash_unlock(s->hash, hv);
    store_item_deref(s, it);
    return rc;
}

static void
mover_sleep_us(long us)
{
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};

    nanosleep(&ts, NULL);
}

bool
store_move_page(struct store *s, unsigned src, int dst)
{
    struct mover *mv = s->mover;
    size_t perslab = slabs_perslab(s->slabs, src);
    size_t size = slabs_size(s->slabs, src);
    unsigned stuck = 0;
    char *page;

    page = slabs_move_begin(s->slabs, src);
    if (page == NULL) {
        return false;
    }
    __atomic_store_n(&mv->running, 1, __ATOMIC_RELAXED);
    for (;;) {
        size_t left = 0, moved = 0, i;

        for (i = 0; i < perslab; i++) {
            enum mover_rc rc = mover_chunk(s, src, page + i * size,
                                           stuck >= MOVER_BUSY_PASSES);

            if (rc != MV_DONE) {
                left++;
            }
            if (rc == MV_PROGRESS) {
                moved++;
            }
        }
        if (left == 0) {
            break;
        }
        if (__atomic_load_n(&mv->stop, __ATOMIC_RELAXED)) {
            slabs_move_abandon(s->slabs, src);
            __atomic_store_n(&mv->running, 0, __ATOMIC_RELAXED);
            return false;
        }
        if (moved == 0) {
            stuck++;
            mover_sleep_us(MOVER_BUSY_SLEEP_US);
        }
    }
    /* a lock-free reader may still look at a chunk of the page (finding
     * it unlinked or free): wait for it before the page is wiped */
    lock_grace_wait();
    slabs_move_end(s->slabs, src, dst);
    mover_inc(&mv->moved);
    __atomic_store_n(&mv->running, 0, __ATOMIC_RELAXED);
    return true;
}

/* ---- requests ----------------------------------------------------- */

/* A class other than dst with a spare page (the most pages), or -1. */
static int
mover_pick_any(struct store *s, int dst)
{
    unsigned largest = slabs_largest(s->slabs);
    size_t best = 1;
    int src = -1;
    unsigned id;

    for (id = 1; id <= largest; id++) {
        size_t n = slabs_pages(s->slabs, id);

        if ((int)id != dst && n > best) {
            best = n;
            src = (int)id;
        }
    }
    return src;
}

/* The class other than dst with the most pages, at least min (ties: the
 * larger chunks, fewer items to lose), or -1. */
static int
mover_pick_donor(struct store *s, unsigned dst, size_t min)
{
    unsigned largest = slabs_largest(s->slabs);
    size_t best = min;
    int src = -1;
    unsigned id;

    for (id = 1; id <= largest; id++) {
        size_t n = slabs_pages(s->slabs, id);

        if (id != dst && n >= best) {
            best = n;
            src = (int)id;
        }
    }
    return src;
}

int
store_slabs_reassign(struct store *s, int src, int dst)
{
    struct mover *mv = s->mover;
    int largest = (int)slabs_largest(s->slabs);
    int rc = STORE_REASSIGN_OK;

    lock_take(&mv->lock, LOCK_MOVER);
    if (mv->pending || __atomic_load_n(&mv->running, __ATOMIC_RELAXED)) {
        rc = STORE_REASSIGN_RUNNING;
    } else if (src == dst) {
        rc = STORE_REASSIGN_SAME;
    } else {
        if (src == -1) {
            src = mover_pick_any(s, dst);
        }
        if (src < SLABS_POOL || src > largest || dst < SLABS_POOL ||
            dst > largest) {
            rc = STORE_REASSIGN_BADCLASS;
        } else if (slabs_pages(s->slabs, (unsigned)src) < 2) {
            /* memcached asks two pages of the pool too */
            rc = STORE_REASSIGN_NOSPARE;
        } else if (src == SLABS_POOL) {
            /* A pool page needs no emptying. */
            if (!slabs_pool_give(s->slabs, (unsigned)dst)) {
                rc = STORE_REASSIGN_NOSPARE;
            }
        } else {
            mv->pending = true;
            mv->req_src = src;
            mv->req_dst = dst;
            pthread_cond_signal(&mv->cond);
        }
    }
    pthread_mutex_unlock(&mv->lock);
    return rc;
}

void
store_slabs_automove(struct store *s, unsigned mode)
{
    __atomic_store_n(&s->mover->automove, mode, __ATOMIC_RELAXED);
    store_mover_wake(s);
}

/* ---- automove and shrinking --------------------------------------- */

/* One class's numbers for a decision. */
struct mover_sample {
    uint64_t evicted;       /* since the last sample */
    rel_time_t age;         /* of the COLD tail (0 if empty) */
    size_t pages;
    size_t free;            /* free and uncarved chunks */
    size_t perslab;
};

static void
mover_sample(struct store *s, unsigned id, struct mover_sample *m)
{
    struct mover *mv = s->mover;
    rel_time_t now = clock_now(s->clk);
    struct slabs_class_stats st;
    uint64_t ev = 0;
    unsigned seg;

    m->age = 0;
    for (seg = 0; seg < LRU_SEGS; seg++) {
        struct lru *l = store_lru(s, id, seg);

        lock_take(&l->lock, LOCK_LRU);
        ev += l->evicted;
        if (seg == LRU_COLD) {
            struct item *t;

            for (t = l->tail; t != NULL; t = t->prev) {
                if (!item_is_marker(t)) {
                    m->age = now - item_get_atime(t);
                    break;
                }
            }
        }
        pthread_mutex_unlock(&l->lock);
    }
    /* stats reset zeroes the counter: count that sample as none */
    m->evicted = ev >= mv->last_evicted[id] && mv->sampled
                     ? ev - mv->last_evicted[id] : 0;
    mv->last_evicted[id] = ev;
    slabs_class_stats(s->slabs, id, &st);
    m->pages = st.pages;
    m->free = st.free_chunks + st.free_end;
    m->perslab = st.perslab;
}

/*
 * Sample every class and pick a move: *src, *dst.  false if none.
 */
static bool
mover_decide(struct store *s, unsigned mode, unsigned *src, int *dst)
{
    struct mover *mv = s->mover;
    unsigned largest = slabs_largest(s->slabs);
    unsigned window = s->cfg.automove_window;
    struct mover_sample m[SLAB_CLASS_MAX];
    unsigned young = 0, old = 0, freecls = 0;
    bool old_free = false;
    unsigned id;

    for (id = 1; id <= largest; id++) {
        mover_sample(s, id, &m[id]);
    }
    mv->sampled = true;
    for (id = 1; id <= largest; id++) {
        /* More than 2.5 pages free for a whole window: memory idles. */
        if (m[id].pages > 1 && m[id].free * 2 > m[id].perslab * 5) {
            mv->free_streak[id]++;
        } else {
            mv->free_streak[id] = 0;
        }
        if (mv->free_streak[id] >= window && freecls == 0) {
            freecls = id;
        }
        if (m[id].evicted > 0 &&
            (young == 0 || m[id].age < m[young].age)) {
            young = id;
        }
    }
    for (id = 1; id <= largest; id++) {
        bool spare_free = m[id].free > m[id].perslab;

        if (m[id].pages < 2 || id == young) {
            continue;
        }
        /* A class with a page's worth free is older than any. */
        if (old == 0 || (spare_free && !old_free) ||
            (spare_free == old_free && m[id].age > m[old].age)) {
            old = id;
            old_free = spare_free;
        }
    }
    if (young != 0 && old != 0 &&
        (mode == 2 || old_free ||
         (double)m[young].age < (double)m[old].age * s->cfg.automove_ratio)) {
        *src = old;
        *dst = (int)young;
        return true;
    }
    if (mode == 1 && freecls != 0) {
        mv->free_streak[freecls] = 0;
        *src = freecls;
        *dst = SLABS_POOL;
        return true;
    }
    return false;
}

/* Over the memory limit: free a pool page, or empty the fullest class's
 * oldest page back to the allocator.  false if nothing can go. */
static bool
mover_shrink(struct store *s)
{
    int src;

    if (slabs_malloced(s->slabs) <= slabs_limit(s->slabs) ||
        slabs_limit(s->slabs) == 0) {
        return false;
    }
    if (slabs_pool_release(s->slabs)) {
        return true;
    }
    src = mover_pick_any(s, -1);
    return src > 0 && store_move_page(s, (unsigned)src, SLABS_RELEASE);
}

/* A second page for each class that asked, if it still holds one page and
 * the budget has none left; mover thread. */
static void
mover_topups(struct store *s)
{
    struct mover *mv = s->mover;
    unsigned largest = slabs_largest(s->slabs);
    unsigned id;

    for (id = 1; id <= largest; id++) {
        int src;

        if (__atomic_load_n(&mv->topup[id], __ATOMIC_RELAXED) !=
            TOPUP_ASKED) {
            continue;
        }
        __atomic_store_n(&mv->topup[id], TOPUP_DONE, __ATOMIC_RELAXED);
        if (slabs_pages(s->slabs, id) != 1 || slabs_limit(s->slabs) == 0 ||
            slabs_malloced(s->slabs) + s->cfg.page_size <=
                slabs_limit(s->slabs) ||
            slabs_pool_pages(s->slabs) > 0) {
            continue;
        }
        src = mover_pick_donor(s, id, 3);
        if (src > 0) {
            store_move_page(s, (unsigned)src, (int)id);
        }
    }
}

void
store_mover_topup(struct store *s, unsigned id)
{
    struct mover *mv = s->mover;
    uint8_t none = TOPUP_NONE;

    if (mv == NULL || !mv->started ||
        __atomic_load_n(&mv->topup[id], __ATOMIC_RELAXED) != TOPUP_NONE ||
        __atomic_load_n(&mv->automove, __ATOMIC_RELAXED) == 0) {
        return;
    }
    if (!__atomic_compare_exchange_n(&mv->topup[id], &none, TOPUP_ASKED,
                                     false, __ATOMIC_RELAXED,
                                     __ATOMIC_RELAXED)) {
        return;
    }
    lock_take(&mv->lock, LOCK_MOVER);
    mv->topup_any = true;
    pthread_cond_signal(&mv->cond);
    pthread_mutex_unlock(&mv->lock);
}

/* ---- the thread --------------------------------------------------- */

static void
mover_deadline(struct timespec *ts, long ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (ms % 1000) * 1000000;
    if (ts->tv_nsec >= 1000000000) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000;
    }
}

static void *
mover_main(void *arg)
{
    struct store *s = arg;
    struct mover *mv = s->mover;
    long wait_ms = MOVER_TICK_MS;

    lock_take(&mv->lock, LOCK_MOVER);
    while (!mv->stop) {
        struct timespec ts;
        unsigned mode;
        unsigned src;
        int dst;

        if (mv->pending) {
            src = (unsigned)mv->req_src;
            dst = mv->req_dst;
            /* running before pending clears: no window for a second
             * request to slip in */
            __atomic_store_n(&mv->running, 1, __ATOMIC_RELAXED);
            mv->pending = false;
            pthread_mutex_unlock(&mv->lock);
            store_move_page(s, src, dst);
            __atomic_store_n(&mv->running, 0, __ATOMIC_RELAXED);
            lock_take(&mv->lock, LOCK_MOVER);
            continue;
        }
        pthread_mutex_unlock(&mv->lock);
        if (mover_shrink(s)) {
            lock_take(&mv->lock, LOCK_MOVER);
            continue;
        }
        mode = __atomic_load_n(&mv->automove, __ATOMIC_RELAXED);
        wait_ms = MOVER_TICK_MS;
        if (mode != 0 && mover_decide(s, mode, &src, &dst)) {
            if (store_move_page(s, src, dst)) {
                wait_ms = MOVER_FAST_MS;
            }
        } else if (mode == 2) {
            wait_ms = MOVER_FAST_MS;
        }
        lock_take(&mv->lock, LOCK_MOVER);
        mover_deadline(&ts, wait_ms);
        /* A second page is given at once and the sample cadence kept:
         * a window counts samples, not wake-ups. */
        while (!mv->stop && !mv->pending) {
            if (mv->topup_any) {
                mv->topup_any = false;
                pthread_mutex_unlock(&mv->lock);
                mover_topups(s);
                lock_take(&mv->lock, LOCK_MOVER);
                continue;
            }
            if (pthread_cond_timedwait(&mv->cond, &mv->lock, &ts) ==
                    ETIMEDOUT ||
                !mv->topup_any) {
                break;
            }
        }
    }
    pthread_mutex_unlock(&mv->lock);
    return NULL;
}

int
store_mover_start(struct store *s)
{
    pthread_condattr_t ca;
    struct mover *mv = calloc(1, sizeof(*mv));

    if (mv == NULL) {
        return -ENOMEM;
    }
    if (s->cfg.automove_window == 0) {
        s->cfg.automove_window = 1;
    } else if (s->cfg.automove_window > MOVER_WINDOW_MAX) {
        s->cfg.automove_window = MOVER_WINDOW_MAX;
    }
    pthread_mutex_init(&mv->lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&mv->cond, &ca);
    pthread_condattr_destroy(&ca);
    mv->automove = s->cfg.slab_automove;
    s->mover = mv;
    if (!s->cfg.slab_reassign) {
        return 0;
    }
    mv->started = true;     /* before the thread can read it */
    if (pthread_create(&mv->thread, NULL, mover_main, s) != 0) {
        mv->started = false;
        return -ENOMEM;
    }
    return 0;
}

void
store_mover_stop(struct store *s)
{
    struct mover *mv = s->mover;

    if (mv == NULL) {
        return;
    }
    if (mv->started) {
        lock_take(&mv->lock, LOCK_MOVER);
        __atomic_store_n(&mv->stop, true, __ATOMIC_RELAXED);
        pthread_cond_signal(&mv->cond);
        pthread_mutex_unlock(&mv->lock);
        pthread_join(mv->thread, NULL);
    }
    pthread_cond_destroy(&mv->cond);
    pthread_mutex_destroy(&mv->lock);
    free(mv);
    s->mover = NULL;
}

void
store_mover_wake(struct store *s)
{
    struct mover *mv = s->mover;

    if (mv == NULL || !mv->started) {
        return;
    }
    lock_take(&mv->lock, LOCK_MOVER);
    pthread_cond_signal(&mv->cond);
    pthread_mutex_unlock(&mv->lock);
}

static void
mover_stat(store_emit_fn emit, void *ctx, const char *name, uint64_t v)
{
    char buf[24];

    snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
    emit(ctx, name, buf);
}

void
store_mover_stats_reset(struct store *s)
{
    struct mover *mv = s->mover;

    __atomic_store_n(&mv->rescues, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&mv->chunk_rescues, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&mv->evictions_nomem, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&mv->inline_reclaim, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&mv->busy_items, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&mv->busy_deletes, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&mv->moved, 0, __ATOMIC_RELAXED);
}

void
store_mover_stats(struct store *s, store_emit_fn emit, void *ctx)
{
    struct mover *mv = s->mover;

    mover_stat(emit, ctx, "slab_reassign_rescues", mover_ld(&mv->rescues));
    mover_stat(emit, ctx, "slab_reassign_chunk_rescues",
               mover_ld(&mv->chunk_rescues));
    mover_stat(emit, ctx, "slab_reassign_evictions_nomem",
               mover_ld(&mv->evictions_nomem));
    mover_stat(emit, ctx, "slab_reassign_inline_reclaim",
               mover_ld(&mv->inline_reclaim));
    mover_stat(emit, ctx, "slab_reassign_busy_items",
               mover_ld(&mv->busy_items));
    mover_stat(emit, ctx, "slab_reassign_busy_deletes",
               mover_ld(&mv->busy_deletes));
    mover_stat(emit, ctx, "slab_reassign_running",
               __atomic_load_n(&mv->running, __ATOMIC_RELAXED));
    mover_stat(emit, ctx, "slabs_moved", mover_ld(&mv->moved));
}
