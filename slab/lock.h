/*
 * lock.h -- counted mutex acquisition, for "stats locks".
 *
 * Every mutex of the store (and the daemon's wait and stats locks) is
 * taken through lock_take(), which tries pthread_mutex_trylock first: a
 * failed try means another thread held the lock, so the acquisition is
 * counted as contended before blocking.  That makes contention visible
 * even on two cores, where a blocking lock rarely shows up in a profile.
 *
 * Counters are per thread: each thread that takes a lock gets a private,
 * cache-line aligned slot on first use and bumps it with relaxed atomic
 * load + store (one writer, no read-modify-write on a shared line);
 * lock_stats() sums the slots.  They are process-wide, not per store:
 * hash_lock() has no store to count into, and a daemon runs one store.
 *
 * Re-acquisitions inside pthread_cond_wait are not counted.
 */
#ifndef STASHD_SLAB_LOCK_H
#define STASHD_SLAB_LOCK_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

/* Lock families, in the order "stats locks" prints them. */
#define LOCK_FAMILIES(X)                                                    \
    X(LOCK_ITEM, "item")        /* hash shard (item) locks, slab/hash.c */  \
    X(LOCK_LRU, "lru")          /* per class and segment LRU lists */       \
    X(LOCK_SLABS, "slabs")      /* per class free lists, slab/slabs.c */    \
    X(LOCK_POOL, "pool")        /* the page pool, slab/slabs.c */           \
    X(LOCK_MOVER, "mover")      /* the page mover's state, slab/mover.c */  \
    X(LOCK_CRAWLER, "crawler")  /* crawler thread and crawl locks */        \
    X(LOCK_MAINT, "maint")      /* LRU maintainer and tuning locks */       \
    X(LOCK_WAIT, "wait")        /* lease waiters, daemon/wait.c */          \
    X(LOCK_STATS, "stats")      /* stats detail, stats sizes */             \
    X(LOCK_WORKER, "worker")    /* worker queues and connection lists */

#define LOCK_ENUM_(id, name) id,
enum lock_family { LOCK_FAMILIES(LOCK_ENUM_) LOCK_NFAMILIES };
#undef LOCK_ENUM_

struct lock_slot {
    uint64_t acquired[LOCK_NFAMILIES];
    uint64_t contended[LOCK_NFAMILIES];
    uint64_t reading;           /* atomic: odd inside a read section */
    bool shared;                /* the overflow slot: atomic adds, and
                                 * no read sections */
} __attribute__((aligned(64)));

/* This thread's slot, NULL until its first counted lock. */
extern __thread struct lock_slot *lock_slot_self;

/* Give the calling thread a slot (the shared overflow slot when all are
 * taken) and return it. */
struct lock_slot *lock_slot_register(void);

static inline void
lock_count_(uint64_t *c)
{
    /* only the owning thread writes a private slot */
    __atomic_store_n(c, __atomic_load_n(c, __ATOMIC_RELAXED) + 1,
                     __ATOMIC_RELAXED);
}

static inline void
lock_count(enum lock_family f, bool contended)
{
    struct lock_slot *s = lock_slot_self;

    if (__builtin_expect(s == NULL, 0)) {
        s = lock_slot_register();
    }
    if (__builtin_expect(s->shared, 0)) {
        __atomic_add_fetch(&s->acquired[f], 1, __ATOMIC_RELAXED);
        if (contended) {
            __atomic_add_fetch(&s->contended[f], 1, __ATOMIC_RELAXED);
        }
        return;
    }
    lock_count_(&s->acquired[f]);
    if (contended) {
        lock_count_(&s->contended[f]);
    }
}

/* Lock m, counting one acquisition of family f (contended when the lock
 * was held by another thread). */
static inline void
lock_take(pthread_mutex_t *m, enum lock_family f)
{
    bool contended = pthread_mutex_trylock(m) != 0;

    if (contended) {
        pthread_mutex_lock(m);
    }
    lock_count(f, contended);
}

/* Try to lock m; true (one acquisition of f counted) when taken.  A
 * failed try is not counted: the caller did not wait. */
static inline bool
lock_try(pthread_mutex_t *m, enum lock_family f)
{
    if (pthread_mutex_trylock(m) != 0) {
        return false;
    }
    lock_count(f, false);
    return true;
}

/*
 * Read sections: the lock-free hit (slab/store.c) looks at hash chains and
 * items without their lock.  Memory such a reader may still look at -- a
 * shard's old bucket array, a slab page leaving its class -- is released
 * only after lock_grace_wait(), which returns once every thread that was
 * inside a read section when it was called has left it.  A read section
 * never waits for anything (no lock, no sleep), so lock_grace_wait may be
 * called with locks held.
 */

/* Enter a read section; false (and not entered) for a thread without a
 * private slot, which must then take the locks. */
static inline bool
lock_read_enter(void)
{
    struct lock_slot *s = lock_slot_self;

    if (__builtin_expect(s == NULL, 0)) {
        s = lock_slot_register();
    }
    if (__builtin_expect(s->shared, 0)) {
        return false;
    }
    /* A full barrier: the odd count is visible before any load of the
     * section (pairs with lock_grace_wait).  A seq_cst read-modify-write
     * rather than a fence, which gcc refuses under ThreadSanitizer; the
     * section's loads are acquire loads, which no target moves above it. */
    __atomic_add_fetch(&s->reading, 1, __ATOMIC_SEQ_CST);
    return true;
}

/* Leave the read section entered by lock_read_enter. */
static inline void
lock_read_exit(void)
{
    struct lock_slot *s = lock_slot_self;

    __atomic_store_n(&s->reading, s->reading + 1, __ATOMIC_RELEASE);
}

/* Wait until every read section open at the call has been left. */
void lock_grace_wait(void);

/* Called by lock_stats for each counter (same shape as store_emit_fn). */
typedef void (*lock_emit_fn)(void *ctx, const char *name,
                             const char *value);

/* Emit <family>_acquired and <family>_contended for every family, summed
 * over all threads since start. */
void lock_stats(lock_emit_fn emit, void *ctx);

/* The acquisitions (or contended ones) of family f counted so far, all
 * threads summed. */
uint64_t lock_total(enum lock_family f, bool contended);

/* The same, counted by the calling thread alone (for tests that count
 * the locks one operation takes while background threads run). */
uint64_t lock_mine(enum lock_family f, bool contended);

#endif
