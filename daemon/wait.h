/*
 * wait.h -- server-side wait: mg requests parked until a lease resolves.
 *
 * stashd's answer to the loser's poll loop.  An mg carrying w<millis> that
 * would answer Z (someone else holds the lease on an empty placeholder, a
 * stale value or an early-refresh value) is parked instead of answered:
 *
 *   - The request is not consumed.  Its bytes stay in the connection's read
 *     buffer and the connection executes nothing more (later pipelined
 *     requests wait behind it, so replies stay in order) until it is
 *     resumed; then the same mg simply runs again from the buffer.
 *   - Parking costs no thread: the connection sits in its worker's event
 *     loop with EV_READ still on (bytes are buffered, not executed; EOF
 *     closes it and removes its waiter), plus one timer.
 *   - Whoever changes a key (any protocol: set/add/cas/append, delete, md I,
 *     arithmetic, a meta fill) calls wait_wake() afterwards; flush_all calls
 *     wait_wake_all().  Waking posts the waiters to their own workers' queues
 *     (and eventfds, as the listener's hand-off does); each worker re-runs
 *     its connections.
 *   - The timer fires at min(w deadline, lease TTL left + 1 s).  At the
 *     lease's end the mg runs again and may park again on a new lease (or
 *     win it); once the w deadline has passed it runs again without waiting
 *     and answers as if w had not been given.
 *
 * The registry is one table (key -> waiters) under one mutex: parks and
 * wakes are rare next to gets and sets.  An atomic count of armed and parked
 * requests lets wait_wake() return after one relaxed load when nobody waits,
 * which keeps plain sets at their old cost.
 *
 * Lost wake-ups: a store can land between the executor seeing Z and the
 * waiter entering the table.  conn.c therefore arms every mg w before it
 * executes (wait_arm: count up, remember the key's bucket sequence); a wake
 * that sees a non-zero count takes the mutex and bumps that sequence; and
 * wait_park(), under the mutex, finds the sequence moved and re-runs the
 * request at once instead of sleeping.  The count increment happens before
 * the executor takes the item lock, the waker's load after it releases it,
 * so one of the two always sees the other.
 *
 * Waiter lifetime: a waiter belongs to its connection's worker, which alone
 * frees it.  Other threads only move it from the table to that worker's
 * wake list (state WOKEN) under the mutex.  A connection destroyed while its
 * waiter is in flight just detaches (waiter->c = NULL); the worker frees the
 * waiter when the post arrives.  A freed or reused connection is therefore
 * never reached through a stale pointer (this is what a generation number
 * would guard against).
 *
 * Lock order: wait mutex -> a worker's qlock.  The wait mutex is never held
 * while calling into the store.
 */
#ifndef STASHD_DAEMON_WAIT_H
#define STASHD_DAEMON_WAIT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/server.h"
#include "daemon/stats.h"

struct event_base;
struct request;
struct wait_key;
struct wait_waiter;
struct worker;

/* wait_park()'s lease_ttl_left when the item never expires. */
#define WAIT_TTL_NEVER UINT32_MAX

/* Default caps on parked requests (-o wait_max_per_key=, wait_max=). */
#define WAIT_MAX_PER_KEY_DEFAULT 10000
#define WAIT_MAX_DEFAULT 100000

#define WAIT_BUCKETS 4096   /* power of two */

struct wait_bucket {
    struct wait_key *keys;  /* keys with waiters, under the mutex */
    uint64_t seq;           /* bumped by every wake of a key hashing here;
                             * written under the mutex, read atomically */
};

/* Counters in "stats", under the mutex. */
#define WAIT_STATS(X)                                                        \
    X(wait_parked)          /* requests parked (re-parks included) */         \
    X(wait_woken)           /* resumed by a store, delete, invalidation */    \
    X(wait_lease_expired)   /* resumed at the lease's TTL */                  \
    X(wait_timeouts)        /* w deadline passed: answered as without w */    \
    X(wait_rejected)        /* not parked: a cap was reached (answered Z) */

struct wait {
    uint64_t active;        /* atomic: armed + parked requests */
    pthread_mutex_t lock;
    struct server *srv;
    uint32_t max_per_key;
    uint32_t max_total;
    uint64_t current;       /* parked now */
#define WAIT_STATS_FIELD(name) uint64_t name;
    WAIT_STATS(WAIT_STATS_FIELD)
#undef WAIT_STATS_FIELD
    struct wait_bucket buckets[WAIT_BUCKETS];
};

/*
 * One connection's part in the server-side wait, embedded in it, so that
 * the registry knows nothing of connections.  The owner fills the first
 * block once; the rest is wait.c's, on the owner's worker thread.
 */
struct wait_slot {
    struct wait *wt;            /* the registry; NULL: nothing parks */
    struct worker *w;           /* the owner's worker: wakes are posted
                                 * there */
    struct event_base *base;    /* that worker's base, for timers */
    void (*unpark)(void *owner);    /* run the parked request again */
    void *owner;
    bool live;                  /* a real socket (detached ones never
                                 * park) */

    struct wait_waiter *waiter; /* set while the request at rpos is
                                 * parked */
    uint64_t seq;               /* the key's wake sequence when armed */
    uint64_t deadline;          /* monotonic ms when the request at rpos
                                 * stops waiting; 0 when it has not run */
    bool armed;                 /* counted in the registry while it runs */
    bool expired;               /* past the deadline: run it without
                                 * waiting */
};

/* Create the registry of srv (caps from its settings).  NULL on OOM. */
struct wait *wait_create(struct server *srv);

/* Free the registry; every worker must be destroyed already. */
void wait_destroy(struct wait *wt);

/*
 * conn.c, before executing req on s's connection: arm if req is an mg
 * with w (and s live).  Sets the request's deadline on its first
 * execution.
 */
void wait_arm(struct wait_slot *s, const struct request *req);

/* conn.c, after the armed request ran (parked or not). */
void wait_disarm(struct wait_slot *s);

/*
 * The executor, where an mg with w would answer Z on key: park the
 * current request of s's connection.  lease_ttl_left is the lease item's TTL left in seconds
 * (WAIT_TTL_NEVER when it never expires).  0: parked -- write no reply,
 * release what the request referenced and return; the connection re-runs
 * it later.  Non-zero: not parked (no w, w deadline passed, a cap reached,
 * no socket) -- answer Z as without w.  The owner's worker thread only.
 */
int wait_park(struct wait_slot *s, struct request *req, const char *key,
              size_t nkey, uint32_t lease_ttl_left);

/* The slow path of wait_wake(). */
void wait_wake_key(struct wait *wt, const char *key, size_t nkey);

/*
 * After a successful change of key (store, delete, invalidation, arith):
 * resume every request parked on it.  Any thread, no lock held; one relaxed
 * load when nobody waits.
 */
static inline void
wait_wake(struct server *srv, const char *key, size_t nkey)
{
    struct wait *wt = srv->wait;

    if (wt != NULL && __atomic_load_n(&wt->active, __ATOMIC_RELAXED) != 0) {
        wait_wake_key(wt, key, nkey);
    }
}

/* After flush_all: resume every parked request.  Any thread. */
void wait_wake_all(struct server *srv);

/* conn_destroy(): remove s's waiter (if parked) from everything. */
void wait_cancel(struct wait_slot *s);

/* "stats": the WAIT_STATS counters and wait_current. */
void wait_stats(struct wait *wt, stats_emit_fn emit, void *ctx);

/* "stats reset": zero the counters (wait_current stays). */
void wait_stats_reset(struct wait *wt);

#endif
