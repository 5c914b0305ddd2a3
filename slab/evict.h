/*
 * evict.h -- freeing and moving items at the tails of a class's LRU
 * segments (slab/evict.c).
 *
 * Allocation calls evict_for_alloc when its class has no free chunk; the
 * maintainer (slab/maintainer.c) calls evict_pull_tail to move items
 * between segments and to free chunks ahead of demand.  Both take an LRU
 * lock and item locks only by trylock (lock order: slab/store.c).
 */
#ifndef STASHD_SLAB_EVICT_H
#define STASHD_SLAB_EVICT_H

#include <stdbool.h>
#include <stdint.h>

#include "slab/clock.h"

struct store;

/* What evict_pull_tail may do with the tail items of one list. */
enum evict_mode {
    EVICT_RECLAIM,  /* free expired or flushed items only */
    EVICT_EVICT,    /* also evict; an ACTIVE item in COLD gets a second
                     * chance (moved to WARM) when segmented */
    EVICT_JUGGLE,   /* the maintainer's moves: HOT/WARM over their limit
                     * or age go to COLD, ACTIVE items up to WARM */
    EVICT_FORCE,    /* evict even an ACTIVE item (counted in
                     * evicted_active): when every chance has been given */
};

/* What it did. */
enum evict_rc {
    EVICT_NONE = 0, /* nothing: list empty, all busy, or within limits */
    EVICT_FREED,    /* unlinked one item (its memory is free unless a
                     * reader still holds it) */
    EVICT_MOVED,    /* moved one item to another segment or the head */
};

/*
 * Look at up to a few items at the tail of list (id, seg) and act on the
 * first that qualifies under mode.  limit (bytes) and max_age (seconds)
 * are EVICT_JUGGLE's bounds for HOT and WARM.  direct counts a free as a
 * direct reclaim (an allocation waited for it).  Takes the LRU lock.
 */
enum evict_rc evict_pull_tail(struct store *s, unsigned id, unsigned seg,
                              enum evict_mode mode, uint64_t limit,
                              rel_time_t max_age, bool direct);

/* Most items one evict_pull_batch call acts on. */
#define EVICT_BATCH_MAX 16

/*
 * evict_pull_tail for up to max (at most EVICT_BATCH_MAX) items under one
 * hold of the list's lock, the moved ones linked into each target under
 * one hold of its lock: the maintainer's batches.  Returns the items
 * freed or moved.
 */
unsigned evict_pull_batch(struct store *s, unsigned id, unsigned seg,
                          enum evict_mode mode, uint64_t limit,
                          rel_time_t max_age, unsigned max);

/*
 * Free at least one chunk of class id for an allocation: expired items
 * first, then (if evict) the COLD tail, giving ACTIVE items a second
 * chance; when COLD has nothing, HOT and WARM tails are pushed down to it
 * first; when a few dozen second chances in a row did not free anything
 * (everything is being read), the tails are evicted regardless.  TEMP's
 * live items are never evicted.  true if something was freed.
 */
bool evict_for_alloc(struct store *s, unsigned id, bool evict);

#endif
