/*
 * crawler.c -- the background thread that walks whole LRUs (every
 * segment) to free expired and flushed items before anyone asks.  Tail
 * eviction for allocations lives in slab/evict.c, segment moves in
 * slab/maintainer.c.
 *
 * It walks an LRU under its lock and may take item locks only with
 * trylock (lock order in slab/store.c); a busy item is skipped, never
 * waited for.  The background walk keeps its place in a list with a
 * marker pseudo-item (class 0, item_is_marker) so it can drop the LRU
 * lock every few dozen items: workers are never blocked for a whole walk.
 */
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "slab/crawler.h"
#include "slab/lock.h"
#include "slab/store_int.h"

/* Items examined per LRU lock hold by the background walk. */
#define CRAWLER_BATCH 64

/* Items checked between two lru_crawler sleeps (memcached: 1000). */
#define CRAWLER_PERSLEEP 1000

/* Longest pause between two walks of a class, seconds. */
#define CRAWLER_GAP_MAX 60

/* Rest between batches as lru_crawler sleep says: sleep microseconds
 * after every CRAWLER_PERSLEEP items checked (no lock held). */
static void
crawler_pace(struct store *s, uint64_t *since_sleep)
{
    unsigned us = __atomic_load_n(&s->crawl_sleep, __ATOMIC_RELAXED);

    if (us != 0 && *since_sleep >= CRAWLER_PERSLEEP) {
        struct timespec ts;

        *since_sleep = 0;
        /* a timed wait, not a sleep: lru_crawler disable (bg_stop and a
         * signal) need not wait out up to a second */
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_sec += us / 1000000;
        ts.tv_nsec += (long)(us % 1000000) * 1000;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        lock_take(&s->bg_lock, LOCK_CRAWLER);
        if (!s->bg_stop) {
            pthread_cond_timedwait(&s->bg_cond, &s->bg_lock, &ts);
        }
        pthread_mutex_unlock(&s->bg_lock);
    }
}

/* Walk list (id, seg) from tail to head once, at most lru_crawler tocrawl
 * items (0: all); returns items reclaimed. */
static uint64_t
crawler_walk_class(struct store *s, unsigned id, unsigned seg,
                   uint64_t *checked)
{
    struct lru *l = store_lru(s, id, seg);
    struct item *m = s->marker[id][seg];
    uint32_t tocrawl = __atomic_load_n(&s->crawl_tocrawl, __ATOMIC_RELAXED);
    uint64_t reclaimed = 0;
    uint64_t walked = 0;
    uint64_t since_sleep = 0;
    bool done = false;

    lock_take(&l->lock, LOCK_LRU);
    if (l->tail == NULL) {
        pthread_mutex_unlock(&l->lock);
        return 0;
    }
    m->prev = l->tail;
    m->next = NULL;
    l->tail->next = m;
    l->tail = m;
    pthread_mutex_unlock(&l->lock);

    while (!done) {
        rel_time_t now = clock_now(s->clk);
        bool stop = __atomic_load_n(&s->bg_stop, __ATOMIC_RELAXED);
        int n;

        lock_take(&l->lock, LOCK_LRU);
        if (stop) {
            /* store_destroy is waiting: leave the rest for no one. */
            lru_unlink_locked(l, m);
            pthread_mutex_unlock(&l->lock);
            break;
        }
        for (n = 0; n < CRAWLER_BATCH; n++) {
            struct item *it = m->prev;
            uint64_t hv;

            if (it == NULL || (tocrawl != 0 && walked >= tocrawl)) {
                lru_unlink_locked(l, m);
                done = true;
                break;
            }
            lru_unlink_locked(l, m);
            lru_insert_above_locked(l, it, m);
            if (item_is_marker(it)) {
                /* a dump's or another walker's cursor */
                continue;
            }
            walked++;
            since_sleep++;
            l->crawler_items_checked++;
            (*checked)++;
            if (store_item_dead(s, it, now) == STORE_LIVE) {
                continue;
            }
            hv = hash_key(it->data, item_nkey_raw(it));
            if (!hash_trylock(s->hash, hv)) {
                continue;
            }
            if (!(item_iflags(it) & ITEM_FETCHED) &&
                item_get_exptime(it) != 0 && item_get_exptime(it) <= now) {
                l->expired_unfetched++;
            }
            l->crawler_reclaimed++;
            reclaimed++;
            /* Holders of references keep the memory until they let go. */
            store_unlink_locked(s, hv, it, true);
            hash_unlock(s->hash, hv);
        }
        pthread_mutex_unlock(&l->lock);
        crawler_pace(s, &since_sleep);
    }
    return reclaimed;
}

/* One crawl of every class: the classes in forced (bit per class id) are
 * walked whatever their schedule says. */
static uint64_t
crawler_run(struct store *s, uint64_t forced)
{
    unsigned largest = slabs_largest(s->slabs);
    rel_time_t now = clock_now(s->clk);
    uint64_t ocas = __atomic_load_n(&s->oldest_cas, __ATOMIC_RELAXED);
    rel_time_t fat = __atomic_load_n(&s->flush_at, __ATOMIC_RELAXED);
    uint64_t total = 0;
    bool flushed;
    unsigned id;

    lock_take(&s->crawl_lock, LOCK_CRAWLER);
    /* A flush that took effect since the last walk: walk everything. */
    flushed = ocas != s->seen_ocas ||
              (fat != 0 && fat <= now && fat != s->seen_flush_at);
    if (flushed) {
        s->seen_ocas = ocas;
        if (fat != 0 && fat <= now) {
            s->seen_flush_at = fat;
        }
    }
    __atomic_add_fetch(&s->crawler_starts, 1, __ATOMIC_RELAXED);
    __atomic_store_n(&s->crawler_running, 1, __ATOMIC_RELAXED);
    for (id = 1; id <= largest; id++) {
        uint64_t checked = 0;
        uint64_t r = 0;
        unsigned seg;

        for (seg = 0; seg < LRU_SEGS; seg++) {
            struct lru *l = store_lru(s, id, seg);
            bool want;

            lock_take(&l->lock, LOCK_LRU);
            want = l->number > 0 &&
                   ((forced & ((uint64_t)1 << id)) != 0 || flushed ||
                    (l->number_ttl > 0 && now >= s->crawl_next[id]));
            pthread_mutex_unlock(&l->lock);
            if (!want) {
                continue;
            }
            if (s->marker[id][seg] == NULL) {
                /* zeroed: class 0, which marks a cursor */
                s->marker[id][seg] = calloc(1, sizeof(struct item));
                if (s->marker[id][seg] == NULL) {
                    continue;
                }
            }
            r += crawler_walk_class(s, id, seg, &checked);
        }
        if (checked == 0) {
            continue;
        }
        total += r;
        /* Back off while walks find little to do (under 1%). */
        if (r * 100 > checked) {
            s->crawl_gap[id] = 1;
        } else if (s->crawl_gap[id] < CRAWLER_GAP_MAX) {
            s->crawl_gap[id] = s->crawl_gap[id] == 0 ? 1
                                                     : s->crawl_gap[id] * 2;
        }
        s->crawl_next[id] = now + s->crawl_gap[id];
    }
    /* what the crawl freed sits in this thread's slab cache: back to the
     * classes, where writers find it */
    slabs_flush_mine(s->slabs);
    __atomic_store_n(&s->crawler_running, 0, __ATOMIC_RELAXED);
    pthread_mutex_unlock(&s->crawl_lock);
    return total;
}

uint64_t
store_crawl(struct store *s, bool force)
{
    return crawler_run(s, force ? ~(uint64_t)0 : 0);
}

/* One step of the job (bg_lock held, released around the step).  A job
 * that waits sleeps on bg_cond until crawler_job_wake or a stop; the
 * expiry crawl waits behind it, as memcached's crawler waits behind its
 * dump's client. */
static void
crawler_job_step_locked(struct store *s)
{
    uint64_t seq = s->job_seq;
    enum crawler_job_rc rc;

    s->job_kick = false;
    pthread_mutex_unlock(&s->bg_lock);
    rc = s->job_fn(s->job_arg, false);
    lock_take(&s->bg_lock, LOCK_CRAWLER);
    if (rc == CRAWLER_JOB_DONE && s->job_seq == seq) {
        /* (after crawler_job_end another job may have started) */
        s->job_fn = NULL;
        s->job_arg = NULL;
    } else if (rc == CRAWLER_JOB_WAIT) {
        while (!s->job_kick && !s->bg_stop) {
            pthread_cond_wait(&s->bg_cond, &s->bg_lock);
        }
    }
}

static void *
crawler_main(void *arg)
{
    struct store *s = arg;

    lock_take(&s->bg_lock, LOCK_CRAWLER);
    while (!s->bg_stop) {
        struct timespec ts;
        uint64_t req = s->crawl_req;

        if (s->job_fn != NULL) {
            crawler_job_step_locked(s);
            continue;
        }

        /* a requested crawl stays "busy" until its walk is over */
        s->crawl_req = 0;
        s->crawl_manual = req != 0;
        pthread_mutex_unlock(&s->bg_lock);
        crawler_run(s, req);
        lock_take(&s->bg_lock, LOCK_CRAWLER);
        s->crawl_manual = false;
        if (s->bg_stop) {
            break;
        }
        if (s->crawl_req != 0) {
            continue;
        }
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_sec += 1;
        pthread_cond_timedwait(&s->bg_cond, &s->bg_lock, &ts);
    }
    s->crawl_req = 0;
    if (s->job_fn != NULL) {
        /* stopping mid-job: its last call lets go of it */
        crawler_job_fn fn = s->job_fn;

        s->job_fn = NULL;
        pthread_mutex_unlock(&s->bg_lock);
        fn(s->job_arg, true);
        return NULL;
    }
    pthread_mutex_unlock(&s->bg_lock);
    return NULL;
}

int
store_crawler_start(struct store *s)
{
    pthread_condattr_t ca;
    int rc;

    /* The wait uses CLOCK_MONOTONIC, like the store's clock. */
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_destroy(&s->bg_cond);
    pthread_cond_init(&s->bg_cond, &ca);
    pthread_condattr_destroy(&ca);
    s->bg_stop = false;
    rc = pthread_create(&s->bg_thread, NULL, crawler_main, s);
    if (rc != 0) {
        return -ENOMEM;
    }
    __atomic_store_n(&s->bg_started, true, __ATOMIC_RELAXED);
    return 0;
}

void
store_crawler_stop(struct store *s)
{
    if (!s->bg_started) {
        return;
    }
    lock_take(&s->bg_lock, LOCK_CRAWLER);
    __atomic_store_n(&s->bg_stop, true, __ATOMIC_RELAXED);
    pthread_cond_signal(&s->bg_cond);
    pthread_mutex_unlock(&s->bg_lock);
    pthread_join(s->bg_thread, NULL);
    __atomic_store_n(&s->bg_started, false, __ATOMIC_RELAXED);
}

void
store_crawler_wake(struct store *s)
{
    if (!s->bg_started) {
        return;
    }
    lock_take(&s->bg_lock, LOCK_CRAWLER);
    pthread_cond_signal(&s->bg_cond);
    pthread_mutex_unlock(&s->bg_lock);
}

/* ---- lru_crawler controls (slab/crawler.h) ------------------------- */

/* Take bg_ctl and bg_lock if the thread runs and is free for a requested
 * crawl or a job: CRAWLER_OK with both held (crawler_claimed lets go),
 * else why not, with neither held. */
static int
crawler_claim(struct store *s)
{
    lock_take(&s->bg_ctl, LOCK_CRAWLER);
    if (!s->bg_started) {
        pthread_mutex_unlock(&s->bg_ctl);
        return CRAWLER_DISABLED;
    }
    lock_take(&s->bg_lock, LOCK_CRAWLER);
    if (s->crawl_req != 0 || s->crawl_manual || s->job_fn != NULL) {
        pthread_mutex_unlock(&s->bg_lock);
        pthread_mutex_unlock(&s->bg_ctl);
        return CRAWLER_BUSY;
    }
    return CRAWLER_OK;
}

/* The claimed thread has its work: wake it and let go of both locks. */
static void
crawler_claimed(struct store *s)
{
    pthread_cond_signal(&s->bg_cond);
    pthread_mutex_unlock(&s->bg_lock);
    pthread_mutex_unlock(&s->bg_ctl);
}

int
crawler_request(struct store *s, uint64_t classes)
{
    int rc = crawler_claim(s);

    if (rc == CRAWLER_OK) {
        s->crawl_req = classes & ~(uint64_t)1;
        crawler_claimed(s);
    }
    return rc;
}

int
crawler_job_start(struct store *s, crawler_job_fn fn, void *arg)
{
    int rc = crawler_claim(s);

    if (rc == CRAWLER_OK) {
        s->job_fn = fn;
        s->job_arg = arg;
        s->job_kick = false;
        s->job_seq++;
        crawler_claimed(s);
    }
    return rc;
}

void
crawler_job_end(struct store *s)
{
    lock_take(&s->bg_lock, LOCK_CRAWLER);
    s->job_fn = NULL;
    s->job_arg = NULL;
    pthread_mutex_unlock(&s->bg_lock);
}

void
crawler_job_wake(struct store *s)
{
    lock_take(&s->bg_lock, LOCK_CRAWLER);
    s->job_kick = true;
    pthread_cond_signal(&s->bg_cond);
    pthread_mutex_unlock(&s->bg_lock);
}

int
crawler_enable(struct store *s)
{
    int rc;

    lock_take(&s->bg_ctl, LOCK_CRAWLER);
    rc = s->bg_started ? CRAWLER_BUSY
                       : (store_crawler_start(s) == 0 ? CRAWLER_OK
                                                      : CRAWLER_DISABLED);
    pthread_mutex_unlock(&s->bg_ctl);
    return rc;
}

void
crawler_disable(struct store *s)
{
    lock_take(&s->bg_ctl, LOCK_CRAWLER);
    store_crawler_stop(s);
    pthread_mutex_unlock(&s->bg_ctl);
}

bool
crawler_enabled(const struct store *s)
{
    return __atomic_load_n(&s->bg_started, __ATOMIC_RELAXED);
}

void
crawler_set_sleep(struct store *s, uint32_t usec)
{
    __atomic_store_n(&s->crawl_sleep, usec, __ATOMIC_RELAXED);
}

uint32_t
crawler_get_sleep(const struct store *s)
{
    return __atomic_load_n(&s->crawl_sleep, __ATOMIC_RELAXED);
}

void
crawler_set_tocrawl(struct store *s, uint32_t items)
{
    __atomic_store_n(&s->crawl_tocrawl, items, __ATOMIC_RELAXED);
}

uint32_t
crawler_get_tocrawl(const struct store *s)
{
    return __atomic_load_n(&s->crawl_tocrawl, __ATOMIC_RELAXED);
}
