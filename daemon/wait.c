/*
 * wait.c -- the parked-request registry behind mg's w flag.
 *
 * See wait.h for the protocol.  Layout:
 *
 *   struct wait
 *     buckets[hash(key) & (WAIT_BUCKETS-1)]
 *       .seq   wake sequence (lost wake-up guard)
 *       .keys -> wait_key "foo" (n waiters) -> wait_key "bar" -> ...
 *                   |
 *                   +-> waiter <-> waiter <-> waiter   (doubly linked)
 *
 *   worker->tasks -> waiter -> waiter   (posted, state WOKEN, singly linked
 *                                        through their worker_task)
 *
 * A waiter is in exactly one place: its key's list (PARKED) or its worker's
 * wake list (WOKEN).  Everything in the table, the counters and a waiter's
 * state are under wt->lock; a worker's wake list is under its qlock.  Only
 * the worker owning a waiter frees it, on its own thread: when the post
 * arrives, when its timer fires, or when its connection is destroyed.
 *
 * Calls: the slot's unpark (conn_unpark) to resume; worker_post() to hand a woken
 * waiter to its worker's thread.
 */
#include "daemon/wait.h"

#include <event2/event.h>
#include <event2/event_struct.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/settings.h"
#include "daemon/worker.h"
#include "proto/request.h"
#include "slab/lock.h"

#define WAIT_MASK (WAIT_BUCKETS - 1)

enum wait_state {
    WAITER_PARKED = 1,  /* in its key's list, timer pending */
    WAITER_WOKEN,       /* posted to its worker's wake list */
};

struct wait_waiter {
    struct worker_task task;    /* WOKEN: posted to its worker (first
                                 * member: the task is the waiter) */
    struct wait_waiter *next;   /* key list; a wake's chain while posting */
    struct wait_waiter *prev;   /* key list only */
    struct wait_key *wk;        /* PARKED: its key */
    struct worker *w;           /* owner */
    struct wait_slot *s;        /* NULL once the connection is gone */
    struct wait *wt;
    struct event timer;
    uint8_t state;              /* enum wait_state, under wt->lock */
    bool at_deadline;           /* the timer is the w deadline, not the
                                 * lease's end */
};

struct wait_key {
    struct wait_key *next;      /* bucket chain */
    struct wait_waiter *head;
    uint32_t n;
    uint32_t nkey;
    char key[];
};

static void wait_on_timer(evutil_socket_t fd, short what, void *arg);
static void wait_task_run(struct worker_task *t);
static void wait_task_drop(struct worker_task *t);

/* FNV-1a: only mg w requests and wakes while someone waits pay for it. */
static uint32_t
wait_hash(const char *key, size_t nkey)
{
    uint32_t h = 2166136261u;

    for (size_t i = 0; i < nkey; i++) {
        h ^= (unsigned char)key[i];
        h *= 16777619u;
    }
    return h;
}

static uint64_t
wait_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct wait *
wait_create(struct server *srv)
{
    const struct settings *st = srv->settings;
    struct wait *wt = calloc(1, sizeof(*wt));

    if (wt == NULL) {
        return NULL;
    }
    pthread_mutex_init(&wt->lock, NULL);
    wt->srv = srv;
    wt->max_per_key = st->wait_max_per_key > 0
                          ? (uint32_t)st->wait_max_per_key
                          : WAIT_MAX_PER_KEY_DEFAULT;
    wt->max_total = st->wait_max > 0 ? (uint32_t)st->wait_max
                                     : WAIT_MAX_DEFAULT;
    return wt;
}

void
wait_destroy(struct wait *wt)
{
    if (wt == NULL) {
        return;
    }
    /* the workers are gone: their connections cancelled every waiter */
    for (size_t i = 0; i < WAIT_BUCKETS; i++) {
        struct wait_key *wk = wt->buckets[i].keys;

        while (wk != NULL) {
            struct wait_key *next = wk->next;

            free(wk);
            wk = next;
        }
    }
    pthread_mutex_destroy(&wt->lock);
    free(wt);
}

void
wait_arm(struct wait_slot *s, const struct request *req)
{
    struct wait *wt = s->wt;
    uint32_t h;

    if (wt == NULL || !s->live || req->op != REQ_GET || req->wait_ms == 0) {
        return;
    }
    if (s->deadline == 0) {
        s->deadline = wait_now_ms() + req->wait_ms;
    }
    h = wait_hash(req->key, req->nkey);
    /* count up before the executor looks at the store: a wake after its
     * change then sees us (wait.h, lost wake-ups) */
    __atomic_add_fetch(&wt->active, 1, __ATOMIC_SEQ_CST);
    s->seq = __atomic_load_n(&wt->buckets[h & WAIT_MASK].seq,
                                  __ATOMIC_ACQUIRE);
    s->armed = true;
}

void
wait_disarm(struct wait_slot *s)
{
    __atomic_sub_fetch(&s->wt->active, 1, __ATOMIC_RELAXED);
    s->armed = false;
}

static struct wait_key *
wait_key_find_locked(struct wait_bucket *b, const char *key, size_t nkey)
{
    for (struct wait_key *wk = b->keys; wk != NULL; wk = wk->next) {
        if (wk->nkey == nkey && memcmp(wk->key, key, nkey) == 0) {
            return wk;
        }
    }
    return NULL;
}

/* Take wk out of bucket b and free it. */
static void
wait_key_drop_locked(struct wait_bucket *b, struct wait_key *wk)
{
    struct wait_key **pp = &b->keys;

    while (*pp != wk) {
        pp = &(*pp)->next;
    }
    *pp = wk->next;
    free(wk);
}

/* Remove a PARKED waiter from its key (dropping an emptied key). */
static void
wait_unlink_locked(struct wait *wt, struct wait_waiter *ww)
{
    struct wait_key *wk = ww->wk;

    if (ww->prev != NULL) {
        ww->prev->next = ww->next;
    } else {
        wk->head = ww->next;
    }
    if (ww->next != NULL) {
        ww->next->prev = ww->prev;
    }
    ww->next = ww->prev = NULL;
    ww->wk = NULL;
    if (--wk->n == 0) {
        uint32_t h = wait_hash(wk->key, wk->nkey);

        wait_key_drop_locked(&wt->buckets[h & WAIT_MASK], wk);
    }
    wt->current--;
    __atomic_sub_fetch(&wt->active, 1, __ATOMIC_RELAXED);
}

/*
 * Post a chain of waiters (linked by next, already out of the table) to
 * their workers: one qlock round and one eventfd write per worker.
 */
static void
wait_post_locked(struct wait_waiter *list)
{
    while (list != NULL) {
        struct worker *w = list->w;
        struct wait_waiter *rest = NULL;
        struct worker_task *mine = NULL, *last = NULL;

        for (struct wait_waiter *ww = list, *next; ww != NULL; ww = next) {
            next = ww->next;
            ww->state = WAITER_WOKEN;
            if (ww->w == w) {
                ww->task.next = mine;
                if (mine == NULL) {
                    last = &ww->task;
                }
                mine = &ww->task;
            } else {
                ww->next = rest;
                rest = ww;
            }
        }
        worker_post(w, mine, last);
        list = rest;
    }
}

int
wait_park(struct wait_slot *s, struct request *req, const char *key,
          size_t nkey, uint32_t lease_ttl_left)
{
    struct wait *wt = s->wt;
    struct wait_bucket *b;
    struct wait_key *wk;
    struct wait_waiter *ww;
    struct timeval tv;
    uint64_t now, left;
    bool at_deadline = true;

    if (wt == NULL || !s->armed || s->expired ||
        req->proto != PROTO_META || req->wait_ms == 0) {
        return -1;
    }
    now = wait_now_ms();
    if (now >= s->deadline) {
        s->expired = true;
        lock_take(&wt->lock, LOCK_WAIT);
        wt->wait_timeouts++;
        pthread_mutex_unlock(&wt->lock);
        return -1;
    }
    left = s->deadline - now;
    if (lease_ttl_left != WAIT_TTL_NEVER &&
        ((uint64_t)lease_ttl_left + 1) * 1000 < left) {
        left = ((uint64_t)lease_ttl_left + 1) * 1000;
        at_deadline = false;
    }
    ww = calloc(1, sizeof(*ww));
    if (ww == NULL) {
        return -1;
    }
    ww->w = s->w;
    ww->s = s;
    ww->wt = wt;
    ww->at_deadline = at_deadline;
    ww->task.run = wait_task_run;
    ww->task.drop = wait_task_drop;
    evtimer_assign(&ww->timer, s->base, wait_on_timer, ww);

    b = &wt->buckets[wait_hash(key, nkey) & WAIT_MASK];
    lock_take(&wt->lock, LOCK_WAIT);
    if (__atomic_load_n(&b->seq, __ATOMIC_RELAXED) != s->seq) {
        /* a wake came between arming and here: the store may have
         * changed after the executor looked, so look again at once */
        wt->wait_parked++;
        wt->wait_woken++;
        ww->next = NULL;
        wait_post_locked(ww);
        pthread_mutex_unlock(&wt->lock);
        s->waiter = ww;
        return 0;
    }
    wk = wait_key_find_locked(b, key, nkey);
    if (wt->current >= wt->max_total ||
        (wk != NULL && wk->n >= wt->max_per_key)) {
        wt->wait_rejected++;
        pthread_mutex_unlock(&wt->lock);
        free(ww);
        return -1;
    }
    if (wk == NULL) {
        wk = malloc(sizeof(*wk) + nkey);
        if (wk == NULL) {
            pthread_mutex_unlock(&wt->lock);
            free(ww);
            return -1;
        }
        memcpy(wk->key, key, nkey);
        wk->nkey = (uint32_t)nkey;
        wk->n = 0;
        wk->head = NULL;
        wk->next = b->keys;
        b->keys = wk;
    }
    ww->wk = wk;
    ww->next = wk->head;
    if (wk->head != NULL) {
        wk->head->prev = ww;
    }
    wk->head = ww;
    wk->n++;
    ww->state = WAITER_PARKED;
    wt->current++;
    wt->wait_parked++;
    __atomic_add_fetch(&wt->active, 1, __ATOMIC_RELAXED);
    pthread_mutex_unlock(&wt->lock);

    /* only this thread can resume ww, and not before we return to its
     * event loop: arming the timer after the unlock is safe */
    s->waiter = ww;
    tv.tv_sec = (time_t)(left / 1000);
    tv.tv_usec = (suseconds_t)(left % 1000) * 1000;
    evtimer_add(&ww->timer, &tv);
    return 0;
}

void
wait_wake_key(struct wait *wt, const char *key, size_t nkey)
{
    struct wait_bucket *b = &wt->buckets[wait_hash(key, nkey) & WAIT_MASK];
    struct wait_key *wk;

    lock_take(&wt->lock, LOCK_WAIT);
    __atomic_store_n(&b->seq, b->seq + 1, __ATOMIC_RELEASE);
    wk = wait_key_find_locked(b, key, nkey);
    if (wk != NULL) {
        struct wait_waiter *list = wk->head;

        for (struct wait_waiter *ww = list; ww != NULL; ww = ww->next) {
            ww->wk = NULL;
        }
        wt->current -= wk->n;
        wt->wait_woken += wk->n;
        __atomic_sub_fetch(&wt->active, wk->n, __ATOMIC_RELAXED);
        wait_key_drop_locked(b, wk);
        wait_post_locked(list);
    }
    pthread_mutex_unlock(&wt->lock);
}

void
wait_wake_all(struct server *srv)
{
    struct wait *wt = srv->wait;

    if (wt == NULL || __atomic_load_n(&wt->active, __ATOMIC_RELAXED) == 0) {
        return;
    }
    lock_take(&wt->lock, LOCK_WAIT);
    for (size_t i = 0; i < WAIT_BUCKETS; i++) {
        struct wait_bucket *b = &wt->buckets[i];

        __atomic_store_n(&b->seq, b->seq + 1, __ATOMIC_RELEASE);
        while (b->keys != NULL) {
            struct wait_key *wk = b->keys;
            struct wait_waiter *list = wk->head;

            for (struct wait_waiter *ww = list; ww != NULL; ww = ww->next) {
                ww->wk = NULL;
            }
            wt->current -= wk->n;
            wt->wait_woken += wk->n;
            __atomic_sub_fetch(&wt->active, wk->n, __ATOMIC_RELAXED);
            b->keys = wk->next;
            free(wk);
            wait_post_locked(list);
        }
    }
    pthread_mutex_unlock(&wt->lock);
}

/* The waiter's timer, on its worker: the lease's end or the w deadline. */
static void
wait_on_timer(evutil_socket_t fd, short what, void *arg)
{
    struct wait_waiter *ww = arg;
    struct wait *wt = ww->wt;
    struct wait_slot *s;

    (void)fd;
    (void)what;
    lock_take(&wt->lock, LOCK_WAIT);
    if (ww->state != WAITER_PARKED) {
        /* woken meanwhile: the post will resume it */
        pthread_mutex_unlock(&wt->lock);
        return;
    }
    wait_unlink_locked(wt, ww);
    if (ww->at_deadline) {
        wt->wait_timeouts++;
    } else {
        wt->wait_lease_expired++;
    }
    pthread_mutex_unlock(&wt->lock);
    s = ww->s;
    s->waiter = NULL;
    if (ww->at_deadline) {
        s->expired = true;
    }
    free(ww);
    s->unpark(s->owner);
}

void
wait_cancel(struct wait_slot *s)
{
    struct wait_waiter *ww = s->waiter;
    struct wait *wt;

    if (ww == NULL) {
        return;
    }
    wt = ww->wt;
    s->waiter = NULL;
    event_del(&ww->timer);
    lock_take(&wt->lock, LOCK_WAIT);
    if (ww->state == WAITER_PARKED) {
        wait_unlink_locked(wt, ww);
        pthread_mutex_unlock(&wt->lock);
        free(ww);
        return;
    }
    /* in flight on our wake list: the worker frees it on arrival */
    ww->s = NULL;
    pthread_mutex_unlock(&wt->lock);
}

/* A woken waiter arrived on its worker's thread: resume its connection
 * (unless that went away meanwhile). */
static void
wait_task_run(struct worker_task *t)
{
    struct wait_waiter *ww = (struct wait_waiter *)t;
    struct wait_slot *s = ww->s;

    event_del(&ww->timer);
    free(ww);
    if (s != NULL) {
        s->waiter = NULL;
        s->unpark(s->owner);
    }
}

/* The worker is being destroyed with the waiter still posted. */
static void
wait_task_drop(struct worker_task *t)
{
    struct wait_waiter *ww = (struct wait_waiter *)t;

    event_del(&ww->timer);
    free(ww);
}

void
wait_stats(struct wait *wt, stats_emit_fn emit, void *ctx)
{
    struct {
        uint64_t current;
#define WAIT_STATS_FIELD(name) uint64_t name;
        WAIT_STATS(WAIT_STATS_FIELD)
#undef WAIT_STATS_FIELD
    } snap;

    if (wt == NULL) {
        return;
    }
    lock_take(&wt->lock, LOCK_WAIT);
    snap.current = wt->current;
#define WAIT_STATS_COPY(name) snap.name = wt->name;
    WAIT_STATS(WAIT_STATS_COPY)
#undef WAIT_STATS_COPY
    pthread_mutex_unlock(&wt->lock);
    stats_emit_u64(emit, ctx, "wait_current", snap.current);
#define WAIT_STATS_EMIT(name) stats_emit_u64(emit, ctx, #name, snap.name);
    WAIT_STATS(WAIT_STATS_EMIT)
#undef WAIT_STATS_EMIT
}

void
wait_stats_reset(struct wait *wt)
{
    if (wt == NULL) {
        return;
    }
    lock_take(&wt->lock, LOCK_WAIT);
#define WAIT_STATS_ZERO(name) wt->name = 0;
    WAIT_STATS(WAIT_STATS_ZERO)
#undef WAIT_STATS_ZERO
    pthread_mutex_unlock(&wt->lock);
}
