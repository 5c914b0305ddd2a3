/*
 * sizes.h -- the item size histogram of "stats sizes" (-o track_sizes).
 *
 * Live items counted in 32-byte buckets of memcached's item size (its
 * ITEM_ntotal, store_mc_ntotal), so that the histogram of a workload reads
 * the same on stashd as on memcached.  Sizes above item_size_max are not
 * counted (chunked items in memcached's own accounting never are).
 *
 * Tracking is off unless asked for.  Turning it on starts an empty
 * histogram: items linked before are not in it, and removing one of them
 * never takes a bucket below zero (memcached behaves the same way).
 */
#ifndef STASHD_SLAB_SIZES_H
#define STASHD_SLAB_SIZES_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIZES_BUCKET 32     /* bytes per bucket, as memcached */

/* Defined here only so that the off check inlines (every link and
 * unlink makes it); the rest is sizes.c's. */
struct sizes {
    bool on;            /* atomic; release-stored after hist is ready */
    uint64_t *hist;     /* nbuckets counters; NULL until first enabled */
    size_t nbuckets;
    pthread_mutex_t lock;   /* serialises sizes_set_enabled */
};

/* A histogram for items up to item_size_max; tracking on if on.  NULL on
 * OOM. */
struct sizes *sizes_create(size_t item_size_max, bool on);

/* Free it. */
void sizes_destroy(struct sizes *z);

/* Turn tracking on (emptying the histogram) or off.  Any thread; false if
 * the buckets could not be allocated (tracking stays off). */
bool sizes_set_enabled(struct sizes *z, bool on);

/* Is tracking on? */
static inline bool
sizes_enabled(const struct sizes *z)
{
    return z != NULL && __atomic_load_n(&z->on, __ATOMIC_ACQUIRE);
}

/* An item of memcached size ntotal was linked / unlinked.  Any thread, no
 * lock; one relaxed load while tracking is off. */
void sizes_add(struct sizes *z, size_t ntotal);
void sizes_remove(struct sizes *z, size_t ntotal);

/* Call fn(ctx, bucket_bytes, count) for every non-empty bucket, smallest
 * first.  False (nothing called) while tracking is off. */
bool sizes_each(struct sizes *z,
                void (*fn)(void *ctx, size_t bytes, uint64_t count),
                void *ctx);

#endif
