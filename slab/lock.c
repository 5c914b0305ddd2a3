/*
 * lock.c -- the per-thread slots behind lock_take (slab/lock.h).
 *
 * Slots are handed out once per thread and never reclaimed, so that the
 * counts of a thread that exits stay in the sums.  A process that starts
 * more than LOCK_SLOTS counting threads (the unit tests) shares one
 * overflow slot among the rest, counted with atomic adds.
 */
#include "slab/lock.h"

#include <sched.h>
#include <stdio.h>

#define LOCK_SLOTS 256

__thread struct lock_slot *lock_slot_self;

/* Mutable globals, by necessity: counts of the process's locks. */
static struct lock_slot lock_slots[LOCK_SLOTS];
static struct lock_slot lock_overflow = {.shared = true};
static unsigned lock_nslots;    /* atomic: slots handed out */
static uint64_t lock_grace_periods;     /* atomic: lock_grace_wait calls */

static const char *const lock_names[] = {
#define LOCK_NAME_(id, name) [id] = name,
    LOCK_FAMILIES(LOCK_NAME_)
#undef LOCK_NAME_
};

struct lock_slot *
lock_slot_register(void)
{
    unsigned i = __atomic_fetch_add(&lock_nslots, 1, __ATOMIC_RELAXED);

    lock_slot_self = i < LOCK_SLOTS ? &lock_slots[i] : &lock_overflow;
    return lock_slot_self;
}

uint64_t
lock_total(enum lock_family f, bool contended)
{
    unsigned n = __atomic_load_n(&lock_nslots, __ATOMIC_RELAXED);
    uint64_t sum;
    unsigned i;

    n = n < LOCK_SLOTS ? n : LOCK_SLOTS;
    sum = __atomic_load_n(contended ? &lock_overflow.contended[f]
                                    : &lock_overflow.acquired[f],
                          __ATOMIC_RELAXED);
    for (i = 0; i < n; i++) {
        sum += __atomic_load_n(contended ? &lock_slots[i].contended[f]
                                         : &lock_slots[i].acquired[f],
                               __ATOMIC_RELAXED);
    }
    return sum;
}

void
lock_grace_wait(void)
{
    unsigned n, i;

    /* A full barrier (seq_cst read-modify-write, see lock_read_enter):
     * whatever was unpublished before it is out of reach of a section
     * entered after it. */
    __atomic_add_fetch(&lock_grace_periods, 1, __ATOMIC_SEQ_CST);
    n = __atomic_load_n(&lock_nslots, __ATOMIC_ACQUIRE);
    n = n < LOCK_SLOTS ? n : LOCK_SLOTS;
    for (i = 0; i < n; i++) {
        const uint64_t *r = &lock_slots[i].reading;
        uint64_t v = __atomic_load_n(r, __ATOMIC_SEQ_CST);

        if (&lock_slots[i] == lock_slot_self) {
            continue;
        }
        /* a section is a lookup and a small copy: spin, then yield */
        while ((v & 1) != 0 && __atomic_load_n(r, __ATOMIC_ACQUIRE) == v) {
            sched_yield();
        }
    }
}

uint64_t
lock_mine(enum lock_family f, bool contended)
{
    struct lock_slot *s = lock_slot_self;

    if (s == NULL || s->shared) {
        return 0;
    }
    return contended ? s->contended[f] : s->acquired[f];
}

void
lock_stats(lock_emit_fn emit, void *ctx)
{
    char name[64], val[24];
    unsigned f;
    int c;

    for (f = 0; f < LOCK_NFAMILIES; f++) {
        for (c = 0; c < 2; c++) {
            snprintf(name, sizeof(name), "%s_%s", lock_names[f],
                     c ? "contended" : "acquired");
            snprintf(val, sizeof(val), "%llu",
                     (unsigned long long)lock_total(f, c != 0));
            emit(ctx, name, val);
        }
    }
}
